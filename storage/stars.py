"""The 五星小区 figures of one compound and one month, read from the bot's own records.

Each figure comes with what it was computed from — a count over a count, and the rows behind it
(`complaints:12`, `activities:3`, `unit_days:2026-12-05/7`) — so that a star gained or lost can be
traced to the records. A figure with nothing to divide by is None ("no data"), which does not pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update

from bot.domain.complaints import Category, Status
from bot.domain.lostfound import Status as ItemStatus
from bot.domain.org import Unit
from bot.domain.party import ActivityStatus, RegStatus
from bot.domain.rates import EMPTY
from bot.domain.stars import Figure, Metric, Objection, Run, RunStatus, Star
from storage.db import Session
from storage.stats import StatsRepo
from storage.tables import (
    activities,
    attendance,
    campaign_sends,
    complaints,
    flats,
    lostfound,
    outbox,
    party_members,
    star_criteria,
    star_entries,
    star_figures,
    star_objections,
    star_runs,
)

ON_TIME = timedelta(days=3)  # a 报到 decided within this is on time
REPEAT_WITHIN = timedelta(days=30)  # the same household and category again within this: a repeat
RESOLVED = (Status.COMPLETED.value, Status.CLOSED.value)
EVIDENCE_MOST = 50  # rows named per figure (the count stays exact)


def _share(part: int, whole: int, evidence: list[str]) -> Figure:
    return Figure(part / whole if whole else None, part, whole, tuple(evidence[:EVIDENCE_MOST]))


def _per_100(part: float, households: int, evidence: list[str]) -> Figure:
    value = 100 * part / households if households else None
    return Figure(value, part, households, tuple(evidence[:EVIDENCE_MOST]))


class StarsRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def figures(
        self, compound: Unit, start: datetime, end: datetime, first: date, after: date
    ) -> dict[Metric, Figure]:
        """Every computed figure of a compound for the month [start, end) (its local days
        first ≤ day < after)."""
        households = int(
            (
                await self.session.execute(
                    select(func.count()).where(flats.c.compound_id == compound.id)
                )
            ).scalar_one()
        )
        found: dict[Metric, Figure] = {}
        found.update(await self._party(compound.id, start, end, households))
        found.update(await self._rates(compound, first, after))
        found.update(await self._tickets(compound.id, start, end, households))
        found[Metric.LOST_RETURNED] = await self._lost(compound.id, start, end)
        found[Metric.REMINDERS_DELIVERED] = await self._reminders(compound.id, start, end)
        return found

    async def _party(
        self, compound_id: int, start: datetime, end: datetime, households: int
    ) -> dict[Metric, Figure]:
        m = party_members
        members = [
            row.id
            for row in await self.session.execute(
                select(m.c.id)
                .where(
                    m.c.compound_id == compound_id,
                    m.c.status == RegStatus.APPROVED.value,
                    m.c.decided_at < end,
                )
                .order_by(m.c.id)
            )
        ]
        registered = (
            await self.session.execute(
                select(m.c.id, m.c.created_at, m.c.decided_at)
                .where(
                    m.c.compound_id == compound_id, m.c.created_at >= start, m.c.created_at < end
                )
                .order_by(m.c.id)
            )
        ).all()
        on_time = [
            r.id
            for r in registered
            if r.decided_at is not None and r.decided_at - r.created_at <= ON_TIME
        ]
        held = [
            row.id
            for row in await self.session.execute(
                select(activities.c.id)
                .where(
                    activities.c.compound_id == compound_id,
                    activities.c.status != ActivityStatus.CANCELLED.value,
                    activities.c.ends_at >= start,
                    activities.c.ends_at < end,
                )
                .order_by(activities.c.id)
            )
        ]
        minutes = 0
        if held:
            minutes = int(
                (
                    await self.session.execute(
                        select(func.coalesce(func.sum(attendance.c.minutes), 0)).where(
                            attendance.c.activity_id.in_(held)
                        )
                    )
                ).scalar_one()
            )
        return {
            Metric.MEMBERS_PER_100: _per_100(
                len(members), households, [f"party_members:{i}" for i in members]
            ),
            Metric.REGISTRATIONS_ON_TIME: _share(
                len(on_time), len(registered), [f"party_members:{r.id}" for r in registered]
            ),
            Metric.ACTIVITIES_HELD: Figure(
                len(held), len(held), None, tuple(f"activities:{i}" for i in held)
            ),
            Metric.VOLUNTEER_HOURS_PER_100: _per_100(
                minutes / 60, households, [f"activities:{i}" for i in held]
            ),
        }

    async def _rates(self, compound: Unit, first: date, after: date) -> dict[Metric, Figure]:
        """The three rates over the scorecards of the compound and its wings."""
        cards = await StatsRepo(self.session).scorecards(compound.path, first, after)
        total = EMPTY
        for card in cards.values():
            total += card
        evidence = tuple(f"unit_days:{first:%Y-%m}/{unit_id}" for unit_id in sorted(cards))
        if not cards:
            return {
                metric: Figure(None, 0, 0, evidence)
                for metric in (
                    Metric.RESPONSE_RATE,
                    Metric.RESOLUTION_RATE,
                    Metric.SATISFACTION_RATE,
                )
            }
        return {
            Metric.RESPONSE_RATE: Figure(
                total.response.value, total.response.hits, total.response.total, evidence
            ),
            Metric.RESOLUTION_RATE: Figure(
                total.resolution.value, total.resolution.hits, total.resolution.total, evidence
            ),
            Metric.SATISFACTION_RATE: Figure(
                total.satisfaction.value,
                total.satisfaction.hits,
                total.satisfaction.total,
                evidence,
            ),
        }

    async def _tickets(
        self, compound_id: int, start: datetime, end: datetime, households: int
    ) -> dict[Metric, Figure]:
        c = complaints
        month = (
            await self.session.execute(
                select(
                    c.c.id, c.c.category, c.c.status, c.c.campaign_id, c.c.flat_id,
                    c.c.reporter_id, c.c.created_at,
                ).where(c.c.compound_id == compound_id, c.c.created_at >= start, c.c.created_at < end)
                .order_by(c.c.id)
            )
        ).all()  # fmt: skip
        campaign = [t for t in month if t.campaign_id is not None]
        disputes = [t for t in month if t.category == Category.NEIGHBOUR_DISPUTE.value]
        dirty = [
            t for t in month if t.category in (Category.SANITATION.value, Category.CLUTTER.value)
        ]
        earlier = (
            await self.session.execute(
                select(c.c.id, c.c.category, c.c.flat_id, c.c.reporter_id, c.c.created_at).where(
                    c.c.compound_id == compound_id,
                    c.c.created_at >= start - REPEAT_WITHIN,
                    c.c.created_at < end,
                )
            )
        ).all()
        repeats = [
            t
            for t in month
            if any(
                e.id != t.id
                and e.category == t.category
                and e.created_at < t.created_at
                and t.created_at - e.created_at <= REPEAT_WITHIN
                and (
                    e.flat_id == t.flat_id
                    if t.flat_id is not None
                    else e.reporter_id == t.reporter_id
                )
                for e in earlier
            )
        ]
        return {
            Metric.CAMPAIGN_REPORTS_RESOLVED: _share(
                sum(t.status in RESOLVED for t in campaign),
                len(campaign),
                [f"complaints:{t.id}" for t in campaign],
            ),
            Metric.DISPUTES_RESOLVED: _share(
                sum(t.status in RESOLVED for t in disputes),
                len(disputes),
                [f"complaints:{t.id}" for t in disputes],
            ),
            Metric.REPEAT_COMPLAINTS: Figure(
                len(repeats), len(repeats), None, tuple(f"complaints:{t.id}" for t in repeats)
            ),
            Metric.SANITATION_PER_100: _per_100(
                len(dirty), households, [f"complaints:{t.id}" for t in dirty]
            ),
        }

    async def _lost(self, compound_id: int, start: datetime, end: datetime) -> Figure:
        rows = (
            await self.session.execute(
                select(lostfound.c.id, lostfound.c.status)
                .where(
                    lostfound.c.compound_id == compound_id,
                    lostfound.c.created_at >= start,
                    lostfound.c.created_at < end,
                )
                .order_by(lostfound.c.id)
            )
        ).all()
        returned = sum(r.status == ItemStatus.RETURNED.value for r in rows)
        return _share(returned, len(rows), [f"lostfound:{r.id}" for r in rows])

    async def _reminders(self, compound_id: int, start: datetime, end: datetime) -> Figure:
        """Campaign reminders written for the compound's groups in the month, and how many of
        them the outbox delivered."""
        rows = (
            await self.session.execute(
                select(campaign_sends.c.outbox_id, outbox.c.status)
                .join(outbox, outbox.c.id == campaign_sends.c.outbox_id, isouter=True)
                .where(
                    and_(
                        campaign_sends.c.compound_id == compound_id,
                        campaign_sends.c.slot >= start,
                        campaign_sends.c.slot < end,
                    )
                )
                .order_by(campaign_sends.c.outbox_id)
            )
        ).all()
        sent = sum(r.status == "sent" for r in rows)
        return _share(sent, len(rows), [f"outbox:{r.outbox_id}" for r in rows])


def _stars(text: str) -> frozenset[Star]:
    return frozenset(Star(part) for part in text.split(",") if part)


def stars_text(stars: frozenset[Star] | set[Star]) -> str:
    return ",".join(s.value for s in Star if s in stars)


def _run(row: Row[Any]) -> Run:
    m = row._mapping
    return Run(
        id=m["id"],
        compound_id=m["compound_id"],
        month=m["month"],
        criteria_id=m["criteria_id"],
        status=RunStatus(m["status"]),
        computed=_stars(m["computed"]),
        stars=_stars(m["stars"]),
        override_reason=m["override_reason"],
        version=m["version"],
        public_until=m["public_until"],
    )


def _figure(r: Row[Any]) -> tuple[str, Star, Figure, bool]:
    figure = Figure(r.value, r.part, r.whole, tuple(json.loads(r.evidence)))
    return r.indicator, Star(r.star), figure, bool(r.passed)


def _entry(row: Row[Any]) -> str:
    """An entered figure's evidence: the entry, with its note and whether it has a photo."""
    where = f"star_entries:{row.compound_id}/{row.month:%Y-%m}/{row.indicator}"
    return where + (f" ({row.note})" if row.note else "") + (" [photo]" if row.photo else "")


class RunRepo:
    """The criteria versions and the monthly runs with their figures."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def criteria(self) -> list[tuple[int, date, str]]:
        """Every version on record: (id, the first month it applies to, its text)."""
        rows = await self.session.execute(
            select(star_criteria.c.id, star_criteria.c.first_month, star_criteria.c.text).order_by(
                star_criteria.c.first_month
            )
        )
        return [(r.id, r.first_month, r.text) for r in rows]

    async def criteria_text(self, criteria_id: int) -> str | None:
        row = (
            await self.session.execute(
                select(star_criteria.c.text).where(star_criteria.c.id == criteria_id)
            )
        ).first()
        return row.text if row else None

    async def runs(self, month: date, compound_ids: Sequence[int]) -> list[Run]:
        rows = await self.session.execute(
            select(star_runs).where(
                star_runs.c.month == month, star_runs.c.compound_id.in_(list(compound_ids))
            )
        )
        return [_run(row) for row in rows]

    async def runs_between(self, compound_ids: Sequence[int], first: date, last: date) -> list[Run]:
        """The runs of these compounds from month `first` to month `last`, oldest first."""
        rows = await self.session.execute(
            select(star_runs)
            .where(
                star_runs.c.compound_id.in_(list(compound_ids)),
                star_runs.c.month >= first,
                star_runs.c.month <= last,
            )
            .order_by(star_runs.c.month, star_runs.c.compound_id)
        )
        return [_run(row) for row in rows]

    async def objection_counts(self, run_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Per run: (objections, of them upheld)."""
        rows = await self.session.execute(
            select(
                star_objections.c.run_id,
                func.count(),
                func.count().filter(star_objections.c.upheld.is_(True)),
            )
            .where(star_objections.c.run_id.in_(list(run_ids)))
            .group_by(star_objections.c.run_id)
        )
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    async def latest_month(self, compound_ids: Sequence[int]) -> date | None:
        found = await self.session.execute(
            select(func.max(star_runs.c.month)).where(
                star_runs.c.compound_id.in_(list(compound_ids))
            )
        )
        value = found.scalar_one()
        return value if isinstance(value, date) else None

    async def version(self, version: str) -> tuple[int, str] | None:
        row = (
            await self.session.execute(
                select(star_criteria.c.id, star_criteria.c.text).where(
                    star_criteria.c.version == version
                )
            )
        ).first()
        return (row.id, row.text) if row else None

    async def add_criteria(
        self, version: str, first_month: date, text: str, example: bool, now: datetime
    ) -> int:
        result = await self.session.execute(
            insert(star_criteria)
            .values(
                version=version, first_month=first_month, text=text, example=example, created_at=now
            )
            .returning(star_criteria.c.id)
        )
        return int(result.scalar_one())

    async def evaluated(self, month: date) -> set[int]:
        """The compounds with a run of that month."""
        rows = await self.session.execute(
            select(star_runs.c.compound_id).where(star_runs.c.month == month)
        )
        return {row.compound_id for row in rows}

    async def run(self, compound_id: int, month: date) -> Run | None:
        row = (
            await self.session.execute(
                select(star_runs).where(
                    star_runs.c.compound_id == compound_id, star_runs.c.month == month
                )
            )
        ).first()
        return _run(row) if row else None

    async def add_run(
        self,
        compound_id: int,
        month: date,
        criteria_id: int,
        stars: frozenset[Star],
        figures: Sequence[tuple[str, Star, Figure, bool]],
        now: datetime,
    ) -> Run | None:
        """The month's run of a compound with its figures; None when there is one already."""
        if await self.run(compound_id, month) is not None:
            return None
        result = await self.session.execute(
            insert(star_runs)
            .values(
                compound_id=compound_id,
                month=month,
                criteria_id=criteria_id,
                status=RunStatus.COMPUTED,
                computed=stars_text(stars),
                stars=stars_text(stars),
                override_reason="",
                version=1,
                created_at=now,
            )
            .returning(star_runs.c.id)
        )
        run_id = int(result.scalar_one())
        if figures:
            await self.session.execute(
                insert(star_figures),
                [
                    {
                        "run_id": run_id,
                        "indicator": key,
                        "star": star.value,
                        "value": figure.value,
                        "part": figure.part,
                        "whole": figure.whole,
                        "passed": passed,
                        "evidence": json.dumps(list(figure.evidence), ensure_ascii=False),
                    }
                    for key, star, figure, passed in figures
                ],
            )
        return await self.run(compound_id, month)

    async def review(
        self,
        run: Run,
        stars: frozenset[Star],
        reason: str,
        by: int,
        now: datetime,
        public_until: datetime,
    ) -> bool:
        """The community's review, from the run as it was read (one winner): the stars that
        stand, why they differ from the computed ones, and 公示 until `public_until`."""
        result = await self.session.execute(
            update(star_runs)
            .where(star_runs.c.id == run.id, star_runs.c.version == run.version)
            .values(
                status=RunStatus.PUBLIC,
                stars=stars_text(stars),
                override_reason=reason,
                reviewed_by=by,
                reviewed_at=now,
                public_until=public_until,
                version=star_runs.c.version + 1,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def figures_of(self, run_id: int) -> list[tuple[str, Star, Figure, bool]]:
        rows = await self.session.execute(
            select(star_figures).where(star_figures.c.run_id == run_id)
        )
        return [_figure(r) for r in rows]

    async def figures_of_runs(
        self, run_ids: Sequence[int]
    ) -> dict[int, list[tuple[str, Star, Figure, bool]]]:
        """The figures of many runs at once, by run."""
        found: dict[int, list[tuple[str, Star, Figure, bool]]] = {i: [] for i in run_ids}
        rows = await self.session.execute(
            select(star_figures)
            .where(star_figures.c.run_id.in_(list(run_ids)))
            .order_by(star_figures.c.run_id)
        )
        for r in rows:
            found[r.run_id].append(_figure(r))
        return found

    async def entered(self, compound_id: int, month: date) -> dict[str, Figure]:
        """The indicators the community entered for a compound and month, as figures whose
        evidence is the entry itself (its note and photo)."""
        rows = await self.session.execute(
            select(star_entries).where(
                star_entries.c.compound_id == compound_id, star_entries.c.month == month
            )
        )
        return {r.indicator: Figure(r.value, r.value, None, (_entry(r),)) for r in rows}

    async def enter(
        self,
        compound_id: int,
        month: date,
        indicator: str,
        value: float,
        note: str,
        photo: str | None,
        by: int,
        now: datetime,
    ) -> None:
        key = (
            star_entries.c.compound_id == compound_id,
            star_entries.c.month == month,
            star_entries.c.indicator == indicator,
        )
        values = {"value": value, "note": note, "photo": photo, "entered_by": by, "entered_at": now}
        changed = await self.session.execute(update(star_entries).where(*key).values(**values))
        if not changed.rowcount:  # type: ignore[attr-defined]
            await self.session.execute(
                insert(star_entries).values(
                    compound_id=compound_id, month=month, indicator=indicator, **values
                )
            )

    # --- the end of 公示, and a result sent back for a new review

    async def public_over(self, now: datetime, limit: int) -> list[Run]:
        """Results whose 公示 is over and that are not final yet."""
        rows = await self.session.execute(
            select(star_runs)
            .where(star_runs.c.status == RunStatus.PUBLIC, star_runs.c.public_until <= now)
            .order_by(star_runs.c.public_until)
            .limit(limit)
        )
        return [_run(row) for row in rows]

    async def move(self, run: Run, status: RunStatus) -> bool:
        """A run's next status, from the run as it was read (one winner). Back to `computed`, the
        review and its 公示 are undone (the override's reason is kept for the record)."""
        values: dict[str, Any] = {"status": status, "version": star_runs.c.version + 1}
        if status is RunStatus.COMPUTED:
            values.update(reviewed_by=None, reviewed_at=None, public_until=None)
        result = await self.session.execute(
            update(star_runs)
            .where(star_runs.c.id == run.id, star_runs.c.version == run.version)
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def run_by_id(self, run_id: int) -> Run | None:
        row = (
            await self.session.execute(select(star_runs).where(star_runs.c.id == run_id))
        ).first()
        return _run(row) if row else None

    # --- objections

    async def add_objection(
        self,
        run: Run,
        user_id: int,
        text: str,
        unit_id: int,
        now: datetime,
        due: datetime,
        next_check_at: datetime,
    ) -> Objection | None:
        """A resident's objection; None when that person objected to this result already."""
        if await self.objected(run.id, user_id):
            return None
        result = await self.session.execute(
            insert(star_objections)
            .values(
                run_id=run.id,
                user_id=user_id,
                text=text,
                unit_id=unit_id,
                created_at=now,
                due_at=due,
                stage=0,
                next_check_at=next_check_at,
                version=1,
            )
            .returning(star_objections.c.id)
        )
        return await self.objection(int(result.scalar_one()))

    async def objected(self, run_id: int, user_id: int) -> bool:
        found = await self.session.execute(
            select(star_objections.c.id).where(
                star_objections.c.run_id == run_id, star_objections.c.user_id == user_id
            )
        )
        return found.first() is not None

    async def objection(self, objection_id: int) -> Objection | None:
        row = (
            await self.session.execute(
                select(star_objections).where(star_objections.c.id == objection_id)
            )
        ).first()
        return _objection(row) if row else None

    async def objections(self, run_id: int) -> list[Objection]:
        rows = await self.session.execute(
            select(star_objections)
            .where(star_objections.c.run_id == run_id)
            .order_by(star_objections.c.id)
        )
        return [_objection(row) for row in rows]

    async def open_objections(self, run_id: int) -> int:
        found = await self.session.execute(
            select(func.count()).where(
                star_objections.c.run_id == run_id, star_objections.c.answered_at.is_(None)
            )
        )
        return int(found.scalar_one())

    async def due_objections(self, now: datetime, limit: int) -> list[Objection]:
        rows = await self.session.execute(
            select(star_objections)
            .where(star_objections.c.next_check_at <= now)
            .order_by(star_objections.c.next_check_at)
            .limit(limit)
        )
        return [_objection(row) for row in rows]

    async def chase(self, objection: Objection, stage: int, next_check_at: datetime | None) -> bool:
        result = await self.session.execute(
            update(star_objections)
            .where(
                star_objections.c.id == objection.id,
                star_objections.c.version == objection.version,
            )
            .values(stage=stage, next_check_at=next_check_at, version=objection.version + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def answer(
        self, objection: Objection, text: str, upheld: bool, by: int, now: datetime
    ) -> bool:
        """The answer, once (from the objection as it was read, and only while it is open)."""
        result = await self.session.execute(
            update(star_objections)
            .where(
                star_objections.c.id == objection.id,
                star_objections.c.version == objection.version,
                star_objections.c.answered_at.is_(None),
            )
            .values(
                answer=text,
                upheld=upheld,
                answered_by=by,
                answered_at=now,
                next_check_at=None,
                version=objection.version + 1,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _objection(row: Row[Any]) -> Objection:
    m = row._mapping
    return Objection(
        id=m["id"],
        run_id=m["run_id"],
        user_id=m["user_id"],
        text=m["text"],
        unit_id=m["unit_id"],
        created_at=m["created_at"],
        due_at=m["due_at"],
        stage=m["stage"],
        answer=m["answer"],
        upheld=m["upheld"],
        answered_at=m["answered_at"],
        version=m["version"],
    )
