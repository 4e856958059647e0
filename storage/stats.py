"""Oversight figures: per-day unit scorecards, ticket counts, and the briefings' keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, case, func, insert, select

from bot.domain.complaints import OPEN, Category, Status
from bot.domain.org import UnitKind
from bot.domain.oversight import BOARD_KEYS
from bot.domain.periods import Period
from bot.domain.rates import COUNTERS, EMPTY, HANDOVERS, Scorecard, Tally
from storage.db import Insert, Session, Upserts
from storage.prepared import prepared
from storage.tables import (
    briefings,
    complaint_events,
    complaints,
    staff,
    ticket_days,
    ticket_months,
    unit_days,
    unit_months,
    units,
)

WING_KINDS = (UnitKind.OWNERS_COMMITTEE, UnitKind.PROPERTY_COMPANY, UnitKind.PARTY_BRANCH)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _spans(
    days: Table, months: Table, start: date, end: date
) -> list[tuple[Table, ColumnElement[date], date, date]]:
    """Where to sum start ≤ day < end from: whole months from the monthly table, the days at
    either edge from the daily one."""
    first = start if start.day == 1 else _next_month(start)
    last = end.replace(day=1)
    if first >= last:
        spans = [(days, days.c.day, start, end)]
    else:
        spans = [
            (days, days.c.day, start, first),
            (months, months.c.month, first, last),
            (days, days.c.day, last, end),
        ]
    return [span for span in spans if span[2] < span[3]]


def light_case(now: datetime) -> ColumnElement[Any]:
    """An open ticket's light in SQL, as bot.domain.complaints.light draws it: 0 red, 1 blue,
    2 green (so that ordering by it puts the most urgent first)."""
    return case(
        (complaints.c.due_at < now, 0),
        (complaints.c.blue_at <= now, 1),
        else_=2,
    )


def subtree(path: str) -> Any:
    """The ids of a unit and everything below it (by materialised path)."""
    return select(units.c.id).where(units.c.path.like(f"{path}%"))


def tickets_of(path: str, kind: UnitKind, unit_id: int) -> ColumnElement[bool]:
    """The tickets a scope answers for: those from its compounds, or, for a compound's wing, those
    it was handed."""
    if kind in WING_KINDS:
        handed = select(complaint_events.c.complaint_id).where(
            complaint_events.c.to_unit == unit_id,
            complaint_events.c.action.in_([str(a) for a in HANDOVERS]),
        )
        return complaints.c.id.in_(handed)
    return complaints.c.compound_id.in_(compounds_in(path))


def compounds_in(path: str) -> Any:
    return select(units.c.id).where(
        units.c.path.like(f"{path}%"), units.c.kind == UnitKind.COMPOUND.value
    )


def _add_to(insert: Callable[[Table], Insert], table: Table, key: str) -> Insert:
    """Add a scorecard to a unit's row of a day or a month (every counter: adding 0 is a no-op)."""
    statement = insert(table)
    return prepared(
        statement.on_conflict_do_update(
            index_elements=[table.c[key], table.c.unit_id],
            set_={name: table.c[name] + statement.excluded[name] for name in COUNTERS},
        )
    )


def _count_in(insert: Callable[[Table], Insert], table: Table, key: str) -> Insert:
    """Add to the count of tickets of a day or a month in a (compound, category, status)."""
    statement = insert(table)
    return prepared(
        statement.on_conflict_do_update(
            index_elements=[table.c[key], table.c.compound_id, table.c.category, table.c.status],
            set_={"count": table.c.count + statement.excluded.count},
        )
    )


_ADD = Upserts(
    lambda insert: (_add_to(insert, unit_days, "day"), _add_to(insert, unit_months, "month"))
)
_COUNT = Upserts(
    lambda insert: (
        _count_in(insert, ticket_days, "day"),
        _count_in(insert, ticket_months, "month"),
    )
)


class StatsRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def add(self, counted: Tally) -> None:
        """Add to a unit's scorecard of a day and of its month: upserts, safe beside other
        writers."""
        values = {name: getattr(counted.card, name) for name in COUNTERS}
        days, months = _ADD(self.session)
        day = counted.day
        await self.session.execute(days, {"day": day, "unit_id": counted.unit_id, **values})
        month = day.replace(day=1)
        await self.session.execute(months, {"month": month, "unit_id": counted.unit_id, **values})

    async def scorecards(self, path: str, start: date, end: date) -> dict[int, Scorecard]:
        """Each unit's scorecard in a subtree, summed over the days start ≤ day < end: whole
        months from the monthly table, the days at either edge from the daily one."""
        sums: dict[int, Scorecard] = {}
        for table, key, begin, stop in _spans(unit_days, unit_months, start, end):
            rows = await self.session.execute(
                select(table.c.unit_id, *(func.sum(table.c[name]) for name in COUNTERS))
                .where(key >= begin, key < stop, table.c.unit_id.in_(subtree(path)))
                .group_by(table.c.unit_id)
            )
            for row in rows:
                card = Scorecard(*(int(v or 0) for v in row[1:]))
                sums[row[0]] = sums.get(row[0], EMPTY) + card
        return sums

    async def count_ticket(
        self, day: date, compound_id: int, category: Category, status: Status, delta: int
    ) -> None:
        """A ticket reported on `day` entered (+1) or left (−1) a (category, status)."""
        days, months = _COUNT(self.session)
        values = {
            "compound_id": compound_id,
            "category": str(category),
            "status": str(status),
            "count": delta,
        }
        await self.session.execute(days, {"day": day, **values})
        await self.session.execute(months, {"month": day.replace(day=1), **values})

    async def ticket_counts(
        self, path: str, kind: UnitKind, unit_id: int, start: date, end: date, zone: ZoneInfo
    ) -> dict[tuple[Category, Status], int]:
        """Tickets reported in a period in a scope, by category and where they stand now: from
        the daily and monthly counts for a scope of compounds; a wing's, from its tickets."""
        if kind in WING_KINDS:
            return await self.ticket_counts_direct(
                path, kind, unit_id, *Period(start, end).bounds(zone)
            )
        found: dict[tuple[Category, Status], int] = {}
        for table, key, begin, stop in _spans(ticket_days, ticket_months, start, end):
            rows = await self.session.execute(
                select(table.c.category, table.c.status, func.sum(table.c.count))
                .where(key >= begin, key < stop, table.c.compound_id.in_(compounds_in(path)))
                .group_by(table.c.category, table.c.status)
            )
            for category, status, n in rows:
                if n:
                    k = (Category(category), Status(status))
                    found[k] = found.get(k, 0) + int(n)
        return found

    async def ticket_counts_direct(
        self, path: str, kind: UnitKind, unit_id: int, start: datetime, end: datetime
    ) -> dict[tuple[Category, Status], int]:
        """Tickets reported in a period in a scope, by category and where they stand now."""
        rows = await self.session.execute(
            select(complaints.c.category, complaints.c.status, func.count())
            .where(
                complaints.c.created_at >= start,
                complaints.c.created_at < end,
                tickets_of(path, kind, unit_id),
            )
            .group_by(complaints.c.category, complaints.c.status)
        )
        return {(Category(c), Status(s)): int(n) for c, s, n in rows}

    async def board(
        self, path: str, kind: UnitKind, unit_id: int, start: datetime, end: datetime, now: datetime
    ) -> dict[tuple[Category, str], int]:
        """Tickets reported in a period by category and light (red, blue, green; done once
        completed or closed): the weekly chart's first panel."""
        lamp = case(
            (complaints.c.status.in_([str(s) for s in OPEN]), light_case(now)), else_=3
        ).label("lamp")
        rows = await self.session.execute(
            select(complaints.c.category, lamp, func.count())
            .where(
                complaints.c.created_at >= start,
                complaints.c.created_at < end,
                tickets_of(path, kind, unit_id),
            )
            .group_by(complaints.c.category, lamp)
        )
        return {(Category(c), BOARD_KEYS[int(k)]): int(n) for c, k, n in rows}

    async def staffed_units(self, kinds: Sequence[UnitKind] | None = None) -> list[int]:
        """Units that have at least one staff member (optionally of some kinds)."""
        query = select(staff.c.unit_id).distinct()
        if kinds:
            query = query.join(units, units.c.id == staff.c.unit_id).where(
                units.c.kind.in_([k.value for k in kinds])
            )
        return sorted(row[0] for row in await self.session.execute(query))

    async def briefed(self, kind: str, day: date) -> set[int]:
        rows = await self.session.execute(
            select(briefings.c.unit_id).where(briefings.c.kind == kind, briefings.c.day == day)
        )
        return {row[0] for row in rows}

    async def claim_briefing(
        self, kind: str, unit_id: int, day: date, sent: int, now: datetime
    ) -> bool:
        """Take a unit's briefing of a day; False when it was already taken (a second run, or
        another process): then nothing else of that transaction should be written."""
        taken = await self.session.execute(
            select(briefings.c.unit_id).where(
                and_(
                    briefings.c.kind == kind, briefings.c.unit_id == unit_id, briefings.c.day == day
                )
            )
        )
        if taken.first() is not None:
            return False
        await self.session.execute(
            insert(briefings).values(kind=kind, unit_id=unit_id, day=day, sent=sent, created_at=now)
        )
        return True
