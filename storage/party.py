"""Party members' registrations, activities and attendance. Every change of state is a
conditional update: of two workers (or a double tap), one wins and the other changes nothing;
the number signed up is kept on the activity by one conditional update, so it never passes the
capacity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update

from bot.domain.party import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceStatus,
    Member,
    MemberType,
    Method,
    RegStatus,
)
from storage.db import Session
from storage.tables import (
    activities,
    attendance,
    party_members,
    proxy_signups,
    residents,
    units,
)

CURRENT = (RegStatus.PENDING.value, RegStatus.APPROVED.value)


def _member(row: Row[Any]) -> Member:
    m = row._mapping
    return Member(
        id=m["id"],
        user_id=m["user_id"],
        name=m["name"],
        compound_id=m["compound_id"],
        building=m["building"],
        workplace=m["workplace"],
        type=MemberType(m["type"]),
        phone=m["phone"],
        status=RegStatus(m["status"]),
        reason=m["reason"],
        created_at=m["created_at"],
        decided_at=m["decided_at"],
        decided_by=m["decided_by"],
    )


def _activity(row: Row[Any]) -> Activity:
    m = row._mapping
    return Activity(
        id=m["id"],
        compound_id=m["compound_id"],
        kind=ActivityKind(m["kind"]),
        title=m["title"],
        place=m["place"],
        starts_at=m["starts_at"],
        ends_at=m["ends_at"],
        capacity=m["capacity"],
        code=m["code"],
        created_by=m["created_by"],
        status=ActivityStatus(m["status"]),
        signed=m["signed"],
        day_reminded=m["day_reminded_at"] is not None,
        hour_reminded=m["hour_reminded_at"] is not None,
        settled=m["settled_at"] is not None,
    )


def _attendance(row: Row[Any], prefix: str = "") -> Attendance:
    m = {key[len(prefix) :]: value for key, value in row._mapping.items() if key.startswith(prefix)}
    return Attendance(
        activity_id=m["activity_id"],
        user_id=m["user_id"],
        status=AttendanceStatus(m["status"]),
        signed_at=m["signed_at"],
        checked_in_at=m["checked_in_at"],
        checked_out_at=m["checked_out_at"],
        check_in_method=Method(m["check_in_method"]) if m["check_in_method"] else None,
        check_out_method=Method(m["check_out_method"]) if m["check_out_method"] else None,
        minutes=m["minutes"],
    )


# Attendance columns beside an activity's in one row (both have a `status`).
ATTENDANCE_AS = "attendance_"
_ATTENDANCE_COLUMNS = [column.label(ATTENDANCE_AS + column.name) for column in attendance.c]


@dataclass(frozen=True, slots=True)
class NewMember:
    user_id: int
    name: str
    compound_id: int
    building: str
    workplace: str
    type: MemberType
    phone: str | None


@dataclass(frozen=True, slots=True)
class NewActivity:
    compound_id: int
    kind: ActivityKind
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    code: str
    created_by: int


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One member's part in one activity, for records and the ledger."""

    activity: Activity
    attendance: Attendance
    name: str


def _in_subtree(path: str) -> Any:
    """Rows whose compound lies in the subtree of the unit with this materialised path."""
    return units.c.path.like(f"{path}%")


class PartyRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- registrations ----------------------------------------------------------------------

    async def register(self, new: NewMember, now: datetime) -> Member:
        """A new registration, waiting; the person's earlier current one is superseded."""
        await self.session.execute(
            update(party_members)
            .where(party_members.c.user_id == new.user_id, party_members.c.status.in_(CURRENT))
            .values(status=RegStatus.MOVED.value)
        )
        result = await self.session.execute(
            insert(party_members)
            .values(
                user_id=new.user_id,
                name=new.name,
                compound_id=new.compound_id,
                building=new.building,
                workplace=new.workplace,
                type=new.type.value,
                phone=new.phone,
                status=RegStatus.PENDING.value,
                reason="",
                created_at=now,
            )
            .returning(party_members)
        )
        return _member(result.one())

    async def member(self, member_id: int) -> Member | None:
        row = (
            await self.session.execute(select(party_members).where(party_members.c.id == member_id))
        ).first()
        return _member(row) if row else None

    async def current(self, user_id: int) -> Member | None:
        """A person's registration: the waiting or approved one, else the latest."""
        rows = (
            await self.session.execute(
                select(party_members)
                .where(party_members.c.user_id == user_id)
                .order_by(party_members.c.id.desc())
                .limit(5)
            )
        ).all()
        members = [_member(row) for row in rows]
        return next((m for m in members if m.current), members[0] if members else None)

    async def decide(
        self, member_id: int, status: RegStatus, by: int, reason: str, now: datetime
    ) -> bool:
        result = await self.session.execute(
            update(party_members)
            .where(
                party_members.c.id == member_id,
                party_members.c.status == RegStatus.PENDING.value,
            )
            .values(status=status.value, decided_by=by, decided_at=now, reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update_details(self, member_id: int, new: NewMember) -> bool:
        """New details for a current registration at the same compound (no new approval)."""
        result = await self.session.execute(
            update(party_members)
            .where(
                party_members.c.id == member_id,
                party_members.c.compound_id == new.compound_id,
                party_members.c.status.in_(CURRENT),
            )
            .values(
                name=new.name,
                building=new.building,
                workplace=new.workplace,
                type=new.type.value,
                phone=new.phone,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def members_in(self, path: str, statuses: Sequence[RegStatus]) -> list[Member]:
        """Registrations at compounds in a subtree, by compound and name."""
        rows = (
            await self.session.execute(
                select(party_members)
                .join(units, units.c.id == party_members.c.compound_id)
                .where(_in_subtree(path), party_members.c.status.in_([s.value for s in statuses]))
                .order_by(party_members.c.compound_id, party_members.c.name, party_members.c.id)
            )
        ).all()
        return [_member(row) for row in rows]

    # --- activities -------------------------------------------------------------------------

    async def create_activity(self, new: NewActivity, now: datetime) -> Activity:
        result = await self.session.execute(
            insert(activities)
            .values(
                compound_id=new.compound_id,
                kind=new.kind.value,
                title=new.title,
                place=new.place,
                starts_at=new.starts_at,
                ends_at=new.ends_at,
                capacity=new.capacity,
                signed=0,
                code=new.code,
                created_by=new.created_by,
                status=ActivityStatus.OPEN.value,
                created_at=now,
            )
            .returning(activities)
        )
        return _activity(result.one())

    async def activity(self, activity_id: int) -> Activity | None:
        row = (
            await self.session.execute(select(activities).where(activities.c.id == activity_id))
        ).first()
        return _activity(row) if row else None

    async def upcoming(self, compound_ids: Sequence[int], now: datetime) -> list[Activity]:
        """Open activities of these compounds that have not ended, soonest first."""
        rows = (
            await self.session.execute(
                select(activities)
                .where(
                    activities.c.compound_id.in_(compound_ids),
                    activities.c.status == ActivityStatus.OPEN.value,
                    activities.c.ends_at > now,
                )
                .order_by(activities.c.starts_at, activities.c.id)
                .limit(20)
            )
        ).all()
        return [_activity(row) for row in rows]

    async def in_subtree(self, path: str, since: datetime, until: datetime) -> list[Activity]:
        rows = (
            await self.session.execute(
                select(activities)
                .join(units, units.c.id == activities.c.compound_id)
                .where(_in_subtree(path), activities.c.starts_at >= since)
                .where(activities.c.starts_at < until)
                .order_by(activities.c.starts_at, activities.c.id)
            )
        ).all()
        return [_activity(row) for row in rows]

    async def remind_due(self, now: datetime, day_before: datetime) -> list[Activity]:
        """Open activities starting within a day whose last reminder has not gone out."""
        rows = (
            await self.session.execute(
                select(activities).where(
                    activities.c.status == ActivityStatus.OPEN.value,
                    activities.c.starts_at > now,
                    activities.c.starts_at <= day_before,
                    activities.c.hour_reminded_at.is_(None),
                )
            )
        ).all()
        return [_activity(row) for row in rows]

    async def mark_reminded(self, activity_id: int, hour: bool, now: datetime) -> bool:
        column = activities.c.hour_reminded_at if hour else activities.c.day_reminded_at
        result = await self.session.execute(
            update(activities)
            .where(activities.c.id == activity_id, column.is_(None))
            .values({column.name: now})
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def to_settle(self, now: datetime, limit: int = 200) -> list[Activity]:
        rows = (
            await self.session.execute(
                select(activities)
                .where(activities.c.settled_at.is_(None), activities.c.ends_at <= now)
                .order_by(activities.c.ends_at)
                .limit(limit)
            )
        ).all()
        return [_activity(row) for row in rows]

    async def mark_settled(self, activity_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(activities)
            .where(activities.c.id == activity_id, activities.c.settled_at.is_(None))
            .values(settled_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # --- attendance -------------------------------------------------------------------------

    async def attendance(self, activity_id: int, user_id: int) -> Attendance | None:
        row = (
            await self.session.execute(
                select(attendance).where(
                    attendance.c.activity_id == activity_id, attendance.c.user_id == user_id
                )
            )
        ).first()
        return _attendance(row) if row else None

    async def _take_place(self, activity_id: int) -> bool:
        """One place fewer, by one conditional update, if the activity is open and not full."""
        taken = await self.session.execute(
            update(activities)
            .where(
                activities.c.id == activity_id,
                activities.c.status == ActivityStatus.OPEN.value,
                activities.c.signed < activities.c.capacity,
            )
            .values(signed=activities.c.signed + 1)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    async def _give_place(self, activity_id: int) -> None:
        await self.session.execute(
            update(activities)
            .where(activities.c.id == activity_id)
            .values(signed=activities.c.signed - 1)
        )

    async def sign_up(self, activity_id: int, user_id: int, now: datetime) -> bool:
        """Take a place if one is free; False when the activity is full (or no longer open)."""
        if not await self._take_place(activity_id):
            return False
        again = await self.session.execute(
            update(attendance)
            .where(
                attendance.c.activity_id == activity_id,
                attendance.c.user_id == user_id,
                attendance.c.status == AttendanceStatus.CANCELLED.value,
            )
            .values(status=AttendanceStatus.SIGNED.value, signed_at=now)
        )
        if again.rowcount != 1:  # type: ignore[attr-defined]
            await self.session.execute(
                insert(attendance).values(
                    activity_id=activity_id,
                    user_id=user_id,
                    status=AttendanceStatus.SIGNED.value,
                    signed_at=now,
                    minutes=0,
                )
            )
        return True

    async def proxy_sign_up(
        self, activity_id: int, resident_id: int, signed_by: int, now: datetime
    ) -> bool:
        """代办: take a place for a resident without Telegram, if one is free and they have none
        yet; False otherwise (nothing changed)."""
        held = await self.session.execute(
            select(proxy_signups.c.id).where(
                proxy_signups.c.activity_id == activity_id,
                proxy_signups.c.resident_id == resident_id,
                proxy_signups.c.status == AttendanceStatus.SIGNED.value,
            )
        )
        if held.first() is not None:
            return False
        if not await self._take_place(activity_id):
            return False
        again = await self.session.execute(
            update(proxy_signups)
            .where(
                proxy_signups.c.activity_id == activity_id,
                proxy_signups.c.resident_id == resident_id,
            )
            .values(status=AttendanceStatus.SIGNED.value, signed_by=signed_by, created_at=now)
        )
        if again.rowcount != 1:  # type: ignore[attr-defined]
            await self.session.execute(
                insert(proxy_signups).values(
                    activity_id=activity_id,
                    resident_id=resident_id,
                    signed_by=signed_by,
                    status=AttendanceStatus.SIGNED.value,
                    created_at=now,
                )
            )
        return True

    async def proxy_cancel(self, activity_id: int, resident_id: int) -> bool:
        result = await self.session.execute(
            update(proxy_signups)
            .where(
                proxy_signups.c.activity_id == activity_id,
                proxy_signups.c.resident_id == resident_id,
                proxy_signups.c.status == AttendanceStatus.SIGNED.value,
            )
            .values(status=AttendanceStatus.CANCELLED.value)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self._give_place(activity_id)
        return True

    async def proxy_signed(self, activity_id: int) -> list[tuple[int, str, int]]:
        """The places taken by proxy: (resident id, their name, the proxy's user id)."""
        rows = await self.session.execute(
            select(proxy_signups.c.resident_id, residents.c.name, proxy_signups.c.signed_by)
            .join(residents, residents.c.id == proxy_signups.c.resident_id)
            .where(
                proxy_signups.c.activity_id == activity_id,
                proxy_signups.c.status == AttendanceStatus.SIGNED.value,
            )
            .order_by(proxy_signups.c.id)
        )
        return [(row.resident_id, row.name, row.signed_by) for row in rows]

    async def cancel(self, activity_id: int, user_id: int) -> bool:
        """Give the place back (only before checking in)."""
        result = await self.session.execute(
            update(attendance)
            .where(
                attendance.c.activity_id == activity_id,
                attendance.c.user_id == user_id,
                attendance.c.status == AttendanceStatus.SIGNED.value,
                attendance.c.checked_in_at.is_(None),
            )
            .values(status=AttendanceStatus.CANCELLED.value)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self._give_place(activity_id)
        return True

    async def check_in(
        self, activity_id: int, user_id: int, method: Method, distance: int | None, now: datetime
    ) -> bool:
        result = await self.session.execute(
            update(attendance)
            .where(
                attendance.c.activity_id == activity_id,
                attendance.c.user_id == user_id,
                attendance.c.status == AttendanceStatus.SIGNED.value,
                attendance.c.checked_in_at.is_(None),
            )
            .values(checked_in_at=now, check_in_method=method.value, distance_m=distance)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def check_out(
        self, activity_id: int, user_id: int, method: Method, at: datetime, minutes: int
    ) -> bool:
        result = await self.session.execute(
            update(attendance)
            .where(
                attendance.c.activity_id == activity_id,
                attendance.c.user_id == user_id,
                attendance.c.checked_in_at.is_not(None),
                attendance.c.checked_out_at.is_(None),
            )
            .values(checked_out_at=at, check_out_method=method.value, minutes=minutes)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def signed_up(self, activity_id: int) -> list[Attendance]:
        rows = (
            await self.session.execute(
                select(attendance)
                .where(
                    attendance.c.activity_id == activity_id,
                    attendance.c.status == AttendanceStatus.SIGNED.value,
                )
                .order_by(attendance.c.signed_at, attendance.c.user_id)
            )
        ).all()
        return [_attendance(row) for row in rows]

    async def of_user(self, user_id: int, compound_ids: Sequence[int]) -> dict[int, Attendance]:
        """A person's attendance rows for activities, by activity id."""
        rows = (
            await self.session.execute(
                select(attendance).where(
                    attendance.c.user_id == user_id,
                    attendance.c.activity_id.in_(
                        select(activities.c.id).where(activities.c.compound_id.in_(compound_ids))
                    ),
                )
            )
        ).all()
        return {row.activity_id: _attendance(row) for row in rows}

    async def present_in_window(self, user_id: int, now: datetime) -> list[Activity]:
        """Activities a person is checked in at and has not checked out of (window open)."""
        rows = (
            await self.session.execute(
                select(activities)
                .join(attendance, attendance.c.activity_id == activities.c.id)
                .where(
                    attendance.c.user_id == user_id,
                    attendance.c.checked_in_at.is_not(None),
                    attendance.c.checked_out_at.is_(None),
                    activities.c.ends_at > now,
                )
                .order_by(activities.c.starts_at)
            )
        ).all()
        return [_activity(row) for row in rows]

    async def record(
        self, user_ids: Sequence[int], since: datetime, until: datetime
    ) -> list[LedgerRow]:
        """Who signed up for or took part in activities starting in a period, by activity."""
        rows = (
            await self.session.execute(
                select(activities, *_ATTENDANCE_COLUMNS, party_members.c.name)
                .join(attendance, attendance.c.activity_id == activities.c.id)
                .outerjoin(
                    party_members,
                    and_(
                        party_members.c.user_id == attendance.c.user_id,
                        party_members.c.compound_id == activities.c.compound_id,
                        party_members.c.status == RegStatus.APPROVED.value,
                    ),
                )
                .where(
                    attendance.c.user_id.in_(user_ids),
                    activities.c.starts_at >= since,
                    activities.c.starts_at < until,
                )
                .order_by(activities.c.starts_at, activities.c.id)
            )
        ).all()
        return [
            LedgerRow(_activity(row), _attendance(row, ATTENDANCE_AS), row.name or "")
            for row in rows
        ]

    async def ledger(self, activity_ids: Sequence[int]) -> list[LedgerRow]:
        """Every sign-up of these activities with the member's registered name."""
        names = (
            select(party_members.c.user_id, func.max(party_members.c.name).label("name"))
            .group_by(party_members.c.user_id)
            .subquery()
        )
        rows = (
            await self.session.execute(
                select(activities, *_ATTENDANCE_COLUMNS, names.c.name)
                .join(attendance, attendance.c.activity_id == activities.c.id)
                .outerjoin(names, names.c.user_id == attendance.c.user_id)
                .where(activities.c.id.in_(activity_ids))
                .order_by(activities.c.starts_at, activities.c.id, attendance.c.signed_at)
            )
        ).all()
        return [
            LedgerRow(_activity(row), _attendance(row, ATTENDANCE_AS), row.name or "")
            for row in rows
        ]

    async def names(self, user_ids: Sequence[int]) -> dict[int, str]:
        """The name each person last registered with."""
        rows = (
            await self.session.execute(
                select(party_members.c.user_id, party_members.c.name)
                .where(party_members.c.user_id.in_(user_ids))
                .order_by(party_members.c.id)
            )
        ).all()
        return {row.user_id: row.name for row in rows}

    async def hours(self, user_ids: Sequence[int], since: datetime) -> dict[int, tuple[int, int]]:
        """Per person: activities taken part in and minutes present since a time."""
        rows = (
            await self.session.execute(
                select(
                    attendance.c.user_id,
                    func.count(),
                    func.coalesce(func.sum(attendance.c.minutes), 0),
                )
                .join(activities, activities.c.id == attendance.c.activity_id)
                .where(
                    attendance.c.user_id.in_(user_ids),
                    attendance.c.checked_in_at.is_not(None),
                    activities.c.starts_at >= since,
                )
                .group_by(attendance.c.user_id)
            )
        ).all()
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}
