"""Users and their staff memberships and invitations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Row, bindparam, literal, select, union_all, update

from bot.domain.org import StaffRole
from bot.domain.people import Invite, Membership, User
from storage.db import Session
from storage.prepared import prepared
from storage.tables import household_contacts, invites, staff, users


def _user(row: Row[tuple[object, ...]]) -> User:
    m = row._mapping
    return User(
        id=m["id"],
        first_name=m["first_name"],
        username=m["username"],
        language=m["language"],
        compound_id=m["compound_id"],
        tg_language=m["tg_language"],
    )


# Read at every update (bench/sqlpaths.py: a statement built once costs half).
_GET = prepared(select(users).where(users.c.id == bindparam("user_id")))
_ROLES = prepared(
    union_all(
        select(staff.c.id, staff.c.unit_id, staff.c.role).where(
            staff.c.user_id == bindparam("user_id")
        ),
        select(literal(0).label("id"), literal(-1).label("unit_id"), literal("").label("role"))
        .select_from(household_contacts)
        .where(
            household_contacts.c.user_id == bindparam("user_id"),
            household_contacts.c.ended_at.is_(None),
        )
        .limit(1)
        .subquery()
        .select(),
    )
)
_MEMBERS_OF = prepared(
    select(staff.c.unit_id, staff.c.user_id)
    .where(staff.c.unit_id.in_(bindparam("b_units", expanding=True)))
    .order_by(staff.c.id)
)


class UserRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        row = (await self.session.execute(_GET, {"user_id": user_id})).first()
        return _user(row) if row else None

    async def seen(
        self,
        user_id: int,
        first_name: str,
        username: str | None,
        now: datetime,
        tg_language: str | None = None,
    ) -> User:
        """The user, created on first contact; names and phone language kept current."""
        existing = await self.get(user_id)
        tg_language = tg_language[:16] if tg_language else None
        if existing is None:
            await self.session.execute(
                users.insert().values(
                    id=user_id,
                    first_name=first_name,
                    username=username,
                    tg_language=tg_language,
                    created_at=now,
                )
            )
            return User(user_id, first_name, username, None, None, tg_language)
        current = (existing.first_name, existing.username, existing.tg_language)
        if current == (first_name, username, tg_language):
            return existing
        await self.session.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(first_name=first_name, username=username, tg_language=tg_language)
        )
        return replace(existing, first_name=first_name, username=username, tg_language=tg_language)

    async def names(self, user_ids: Sequence[int]) -> dict[int, str]:
        """First names as Telegram last gave them."""
        found: dict[int, str] = {}
        ids = sorted(set(user_ids))
        for first in range(0, len(ids), 5000):
            rows = await self.session.execute(
                select(users.c.id, users.c.first_name).where(
                    users.c.id.in_(ids[first : first + 5000])
                )
            )
            found.update({row.id: row.first_name for row in rows})
        return found

    async def set_language(self, user_id: int, language: str) -> None:
        await self.session.execute(
            update(users).where(users.c.id == user_id).values(language=language)
        )

    async def set_compound(self, user_id: int, compound_id: int) -> None:
        await self.session.execute(
            update(users).where(users.c.id == user_id).values(compound_id=compound_id)
        )


class StaffRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def memberships(self, user_id: int) -> list[Membership]:
        rows = await self.session.execute(
            select(staff.c.unit_id, staff.c.role)
            .where(staff.c.user_id == user_id)
            .order_by(staff.c.id)
        )
        return [Membership(row.unit_id, StaffRole(row.role)) for row in rows]

    async def roles(self, user_id: int) -> tuple[list[Membership], bool]:
        """A person's staff memberships, and whether they are a household contact: one read."""
        rows = (await self.session.execute(_ROLES, {"user_id": user_id})).all()
        ordered = sorted(rows, key=lambda r: r.id)
        memberships = [Membership(r.unit_id, StaffRole(r.role)) for r in ordered if r.unit_id != -1]
        return memberships, len(memberships) < len(rows)

    async def members_of(self, unit_ids: Sequence[int]) -> dict[int, list[int]]:
        """The staff of several units in one read, by unit (each in the order they joined)."""
        rows = await self.session.execute(_MEMBERS_OF, {"b_units": list(unit_ids)})
        found: dict[int, list[int]] = {}
        for row in rows:
            found.setdefault(row.unit_id, []).append(row.user_id)
        return found

    async def members(self, unit_id: int) -> list[int]:
        rows = await self.session.execute(
            select(staff.c.user_id).where(staff.c.unit_id == unit_id).order_by(staff.c.id)
        )
        return [row.user_id for row in rows]

    async def add(
        self, user_id: int, unit_id: int, role: StaffRole, invited_by: int | None, now: datetime
    ) -> bool:
        """Make a user staff of a unit; False when they already were (the role is updated)."""
        found = (
            await self.session.execute(
                select(staff.c.id).where(staff.c.user_id == user_id, staff.c.unit_id == unit_id)
            )
        ).first()
        if found:
            await self.session.execute(
                update(staff).where(staff.c.id == found.id).values(role=role.value)
            )
            return False
        await self.session.execute(
            staff.insert().values(
                user_id=user_id,
                unit_id=unit_id,
                role=role.value,
                invited_by=invited_by,
                created_at=now,
            )
        )
        return True

    async def create_invite(
        self,
        code: str,
        unit_id: int,
        role: StaffRole,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        await self.session.execute(
            invites.insert().values(
                code=code,
                unit_id=unit_id,
                role=role.value,
                created_by=created_by,
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def invite(self, code: str) -> Invite | None:
        row = (await self.session.execute(select(invites).where(invites.c.code == code))).first()
        if row is None:
            return None
        m = row._mapping
        return Invite(
            code=m["code"],
            unit_id=m["unit_id"],
            role=StaffRole(m["role"]),
            created_by=m["created_by"],
            expires_at=m["expires_at"],
            used_by=m["used_by"],
        )

    async def use_invite(self, code: str, user_id: int, now: datetime) -> bool:
        """Mark an invitation used, only if it is still unused and unexpired (one winner)."""
        result = await self.session.execute(
            update(invites)
            .where(invites.c.code == code, invites.c.used_by.is_(None), invites.c.expires_at > now)
            .values(used_by=user_id, used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
