"""Flats, the residents who claim them, household contacts (党群中心户) and their appointment links.
Every decision is a conditional update from the state that was read: of two contacts (or a double
tap), one wins and the other changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, or_, select, update

from bot.domain.households import (
    LIVE,
    Address,
    Contact,
    Flat,
    Resident,
    ResidentStatus,
    Tenure,
    natural,
)
from bot.flatfile import FlatSpec
from storage.db import Session
from storage.prepared import prepared
from storage.tables import contact_invites, flats, household_contacts, residents

LIVE_VALUES = [status.value for status in LIVE]
CHUNK = 5000  # ids per IN (…): SQLite takes 32766 parameters, PostgreSQL 65535
_OF_USER = prepared(  # a person's live claims, newest first: read by every ticket filed
    select(residents)
    .where(residents.c.user_id == bindparam("b_user"), residents.c.status.in_(LIVE_VALUES))
    .order_by(residents.c.id.desc())
)


def _flat(row: Row[Any]) -> Flat:
    m = row._mapping
    return Flat(
        id=m["id"],
        compound_id=m["compound_id"],
        address=Address(m["building"], m["unit"], m["number"]),
        floor=m["floor"],
        area_m2=m["area_m2"],
        representative_id=m["representative_id"],
    )


def _resident(row: Row[Any]) -> Resident:
    m = row._mapping
    return Resident(
        id=m["id"],
        flat_id=m["flat_id"],
        user_id=m["user_id"],
        name=m["name"],
        tenure=Tenure(m["tenure"]),
        status=ResidentStatus(m["status"]),
        created_at=m["created_at"],
        reason=m["reason"],
        recorded_by=m["recorded_by"],
        decided_by=m["decided_by"],
        decided_at=m["decided_at"],
    )


def _contact(row: Row[Any]) -> Contact:
    m = row._mapping
    return Contact(
        id=m["id"],
        compound_id=m["compound_id"],
        user_id=m["user_id"],
        building=m["building"],
        unit=m["unit"],
    )


def by_address(found: Sequence[Flat]) -> list[Flat]:
    """Flats in the order people count them: building, stairwell, number (2 before 10)."""
    return sorted(
        found,
        key=lambda f: (
            natural(f.address.building),
            natural(f.address.unit),
            natural(f.address.number),
        ),
    )


@dataclass(frozen=True, slots=True)
class ContactInvite:
    code: str
    compound_id: int
    building: str
    unit: str
    created_by: int
    expires_at: datetime
    used_by: int | None


class HouseholdRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- flats

    async def import_flats(
        self, compound_id: int, specs: Sequence[FlatSpec], now: datetime
    ) -> tuple[int, int]:
        """Insert the compound's new flats and update those it has by address (floor, area);
        flats missing from the file are kept (people live in them). Returns (created, updated)."""
        existing = {
            (f.address.building, f.address.unit, f.address.number): f
            for f in await self.flats(compound_id)
        }
        created = updated = 0
        for spec in specs:
            key = (spec.building, spec.unit, spec.number)
            found = existing.get(key)
            if found is None:
                await self.session.execute(
                    flats.insert().values(
                        compound_id=compound_id,
                        building=spec.building,
                        unit=spec.unit,
                        number=spec.number,
                        floor=spec.floor,
                        area_m2=spec.area_m2,
                        created_at=now,
                        updated_at=now,
                    )
                )
                created += 1
            elif (found.floor, found.area_m2) != (spec.floor, spec.area_m2):
                await self.session.execute(
                    update(flats)
                    .where(flats.c.id == found.id)
                    .values(floor=spec.floor, area_m2=spec.area_m2, updated_at=now)
                )
                updated += 1
        return created, updated

    async def flat(self, flat_id: int) -> Flat | None:
        row = (await self.session.execute(select(flats).where(flats.c.id == flat_id))).first()
        return _flat(row) if row else None

    async def flats(self, compound_id: int) -> list[Flat]:
        rows = await self.session.execute(select(flats).where(flats.c.compound_id == compound_id))
        return by_address([_flat(row) for row in rows])

    async def many_flats(self, flat_ids: Sequence[int]) -> dict[int, Flat]:
        ids, found = sorted(set(flat_ids)), {}
        for first in range(0, len(ids), CHUNK):
            rows = await self.session.execute(
                select(flats).where(flats.c.id.in_(ids[first : first + CHUNK]))
            )
            found.update({flat.id: flat for flat in map(_flat, rows)})
        return found

    async def flats_in(
        self, compound_id: int, building: str, unit: str | None = None
    ) -> list[Flat]:
        """A building's flats, or one stairwell's (`unit`)."""
        where = [flats.c.compound_id == compound_id, flats.c.building == building]
        if unit is not None:
            where.append(flats.c.unit == unit)
        rows = await self.session.execute(select(flats).where(*where))
        return by_address([_flat(row) for row in rows])

    async def buildings(self, compound_id: int) -> list[str]:
        rows = await self.session.execute(
            select(flats.c.building).where(flats.c.compound_id == compound_id).distinct()
        )
        return sorted((row.building for row in rows), key=natural)

    async def stairwells(self, compound_id: int, building: str) -> list[str]:
        rows = await self.session.execute(
            select(flats.c.unit)
            .where(flats.c.compound_id == compound_id, flats.c.building == building)
            .distinct()
        )
        return sorted((row.unit for row in rows), key=natural)

    async def count_flats(self, compound_ids: Sequence[int]) -> dict[int, int]:
        rows = await self.session.execute(
            select(flats.c.compound_id, func.count())
            .where(flats.c.compound_id.in_(list(compound_ids)))
            .group_by(flats.c.compound_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def count_covered(self, compound_ids: Sequence[int]) -> dict[int, int]:
        """Flats with at least one confirmed resident, per compound."""
        rows = await self.session.execute(
            select(flats.c.compound_id, func.count(func.distinct(flats.c.id)))
            .join(residents, residents.c.flat_id == flats.c.id)
            .where(
                flats.c.compound_id.in_(list(compound_ids)),
                residents.c.status == ResidentStatus.CONFIRMED.value,
            )
            .group_by(flats.c.compound_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def count_looked_after(self, compound_ids: Sequence[int]) -> dict[int, int]:
        """Flats within the building or stairwell of a serving household contact, per compound."""
        c = household_contacts
        served = (
            select(c.c.id)
            .where(
                c.c.compound_id == flats.c.compound_id,
                c.c.building == flats.c.building,
                or_(c.c.unit == "", c.c.unit == flats.c.unit),
                c.c.ended_at.is_(None),
            )
            .exists()
        )
        rows = await self.session.execute(
            select(flats.c.compound_id, func.count())
            .where(flats.c.compound_id.in_(list(compound_ids)), served)
            .group_by(flats.c.compound_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def set_representative(self, flat_id: int, resident_id: int | None) -> None:
        await self.session.execute(
            update(flats).where(flats.c.id == flat_id).values(representative_id=resident_id)
        )

    # --- residents

    async def resident(self, resident_id: int) -> Resident | None:
        row = (
            await self.session.execute(select(residents).where(residents.c.id == resident_id))
        ).first()
        return _resident(row) if row else None

    async def residents_of(self, flat_ids: Sequence[int], *, live: bool = True) -> list[Resident]:
        """The residents of these flats (`live`: those waiting or confirmed), oldest first."""
        ids, found = sorted(set(flat_ids)), []
        for first in range(0, len(ids), CHUNK):
            query = select(residents).where(residents.c.flat_id.in_(ids[first : first + CHUNK]))
            if live:
                query = query.where(residents.c.status.in_(LIVE_VALUES))
            found += [_resident(row) for row in await self.session.execute(query)]
        return sorted(found, key=lambda r: (r.created_at, r.id))

    async def of_user(self, user_id: int) -> list[Resident]:
        """A person's live claims (waiting or confirmed), newest first."""
        rows = await self.session.execute(_OF_USER, {"b_user": user_id})
        return [_resident(row) for row in rows]

    async def add_resident(
        self,
        flat_id: int,
        tenure: Tenure,
        status: ResidentStatus,
        now: datetime,
        *,
        user_id: int | None = None,
        name: str = "",
        recorded_by: int | None = None,
    ) -> Resident:
        decided = status is not ResidentStatus.PENDING
        result = await self.session.execute(
            residents.insert()
            .values(
                flat_id=flat_id,
                user_id=user_id,
                name=name,
                tenure=tenure.value,
                status=status.value,
                reason="",
                recorded_by=recorded_by,
                created_at=now,
                decided_at=now if decided else None,
                decided_by=recorded_by if decided else None,
            )
            .returning(residents.c.id)
        )
        found = await self.resident(int(result.scalar_one()))
        assert found is not None
        return found

    async def decide(
        self,
        resident_id: int,
        status: ResidentStatus,
        by: int | None,
        now: datetime,
        reason: str = "",
        *,
        was: ResidentStatus = ResidentStatus.PENDING,
    ) -> bool:
        """Move a resident on from `was`; False when it is no longer there (one winner)."""
        result = await self.session.execute(
            update(residents)
            .where(residents.c.id == resident_id, residents.c.status == was.value)
            .values(status=status.value, decided_by=by, decided_at=now, reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def pending_in(self, compound_id: int, limit: int = 50) -> list[Resident]:
        """Claims of a compound's flats waiting for a decision, oldest first."""
        rows = await self.session.execute(
            select(residents)
            .join(flats, flats.c.id == residents.c.flat_id)
            .where(
                flats.c.compound_id == compound_id,
                residents.c.status == ResidentStatus.PENDING.value,
            )
            .order_by(residents.c.created_at, residents.c.id)
            .limit(limit)
        )
        return [_resident(row) for row in rows]

    # --- household contacts

    async def appoint(
        self, compound_id: int, user_id: int, building: str, unit: str, by: int, now: datetime
    ) -> tuple[Contact, bool]:
        """Make `user_id` the contact of a building or stairwell; (contact, False) when they
        already were."""
        found = (
            await self.session.execute(
                select(household_contacts).where(
                    household_contacts.c.compound_id == compound_id,
                    household_contacts.c.user_id == user_id,
                    household_contacts.c.building == building,
                    household_contacts.c.unit == unit,
                    household_contacts.c.ended_at.is_(None),
                )
            )
        ).first()
        if found is not None:
            return _contact(found), False
        result = await self.session.execute(
            household_contacts.insert()
            .values(
                compound_id=compound_id,
                user_id=user_id,
                building=building,
                unit=unit,
                appointed_by=by,
                created_at=now,
            )
            .returning(household_contacts.c.id)
        )
        return Contact(int(result.scalar_one()), compound_id, user_id, building, unit), True

    async def end_contact(self, contact_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(household_contacts)
            .where(household_contacts.c.id == contact_id, household_contacts.c.ended_at.is_(None))
            .values(ended_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def contact(self, contact_id: int) -> Contact | None:
        row = (
            await self.session.execute(
                select(household_contacts).where(
                    household_contacts.c.id == contact_id, household_contacts.c.ended_at.is_(None)
                )
            )
        ).first()
        return _contact(row) if row else None

    async def charges_of(self, user_id: int) -> list[Contact]:
        """The buildings and stairwells a person looks after as household contact."""
        rows = await self.session.execute(
            select(household_contacts)
            .where(household_contacts.c.user_id == user_id, household_contacts.c.ended_at.is_(None))
            .order_by(household_contacts.c.id)
        )
        return [_contact(row) for row in rows]

    async def contacts_in(self, compound_ids: Sequence[int]) -> list[Contact]:
        rows = await self.session.execute(
            select(household_contacts)
            .where(
                household_contacts.c.compound_id.in_(list(compound_ids)),
                household_contacts.c.ended_at.is_(None),
            )
            .order_by(household_contacts.c.id)
        )
        return [_contact(row) for row in rows]

    async def contacts_for(self, flat: Flat) -> list[Contact]:
        """The contacts whose building or stairwell holds the flat."""
        rows = await self.session.execute(
            select(household_contacts).where(
                household_contacts.c.compound_id == flat.compound_id,
                household_contacts.c.building == flat.address.building,
                or_(
                    household_contacts.c.unit == "", household_contacts.c.unit == flat.address.unit
                ),
                household_contacts.c.ended_at.is_(None),
            )
        )
        return [_contact(row) for row in rows]

    async def flats_of(self, charges: Sequence[Contact]) -> list[Flat]:
        """The flats of these charges (each flat once)."""
        if not charges:
            return []
        rows = await self.session.execute(
            select(flats).where(
                or_(
                    *(
                        and_(
                            flats.c.compound_id == c.compound_id,
                            flats.c.building == c.building,
                            *([flats.c.unit == c.unit] if c.unit else []),
                        )
                        for c in charges
                    )
                )
            )
        )
        return by_address([_flat(row) for row in rows])

    # --- appointment links

    async def create_invite(
        self,
        code: str,
        compound_id: int,
        building: str,
        unit: str,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        await self.session.execute(
            contact_invites.insert().values(
                code=code,
                compound_id=compound_id,
                building=building,
                unit=unit,
                created_by=created_by,
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def invite(self, code: str) -> ContactInvite | None:
        row = (
            await self.session.execute(
                select(contact_invites).where(contact_invites.c.code == code)
            )
        ).first()
        if row is None:
            return None
        m = row._mapping
        return ContactInvite(
            code=m["code"],
            compound_id=m["compound_id"],
            building=m["building"],
            unit=m["unit"],
            created_by=m["created_by"],
            expires_at=m["expires_at"],
            used_by=m["used_by"],
        )

    async def use_invite(self, code: str, user_id: int, now: datetime) -> bool:
        """Mark a link used, only while it is unused and unexpired (one winner)."""
        result = await self.session.execute(
            update(contact_invites)
            .where(
                contact_invites.c.code == code,
                contact_invites.c.used_by.is_(None),
                contact_invites.c.expires_at > now,
            )
            .values(used_by=user_id, used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
