"""Benchmark: /stats over 1,000,000 tickets of a district's year.

A district of 13 sub-districts, 91 communities and 455 compounds (each with its three wings) is
written straight into a SQLite file, with a year of tickets spread over its property companies,
branches and owners' committees, and the per-day and per-month scorecards and ticket counts they add up to. Timed: the whole
`/stats` use case (scope check, scorecards, ticket counts, ranking) for the district over this
year and over this month, for a community over this year, and for a compound over this year.
Goal: ≤ 1 s. Printed also as a ratio of a baseline measured in the same run: `SELECT count(*)`
over the tickets table. Not a test.

    python -m bench.stats [--tickets 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.domain.complaints import Category, Rating, Status
from bot.domain.org import UnitKind
from bot.domain.people import Actor, User
from bot.domain.periods import Period, named
from bot.domain.rates import COUNTERS, EMPTY, Scorecard
from bot.i18n import build_i18n
from bot.services import oversight
from storage.db import Database
from storage.tables import (
    complaints,
    ticket_days,
    ticket_months,
    unit_days,
    unit_months,
    units,
    users,
)

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # a Saturday, 10:00 in Shanghai
SUBDISTRICTS, COMMUNITIES, COMPOUNDS = 13, 7, 5  # per parent
WINGS = (UnitKind.PARTY_BRANCH, UnitKind.OWNERS_COMMITTEE, UnitKind.PROPERTY_COMPANY)
CHUNK = 20_000
ADMIN = 1


class Clock:
    def now(self) -> datetime:
        return NOW


async def build_org(db: Database) -> dict[str, list[tuple[int, str]]]:
    """The tree, by kind: (id, path)."""
    rows: list[dict[str, object]] = []
    made: dict[str, list[tuple[int, str]]] = {k.value: [] for k in UnitKind}

    def add(kind: UnitKind, name: str, parent: tuple[int, str] | None) -> tuple[int, str]:
        uid = len(rows) + 1
        path = f"{parent[1] if parent else '/'}{uid}/"
        rows.append(
            {
                "id": uid,
                "code": f"u{uid}",
                "kind": kind.value,
                "name": name,
                "name_en": "",
                "parent_id": parent[0] if parent else None,
                "path": path,
            }
        )
        made[kind.value].append((uid, path))
        return uid, path

    district = add(UnitKind.DISTRICT, "魏都区", None)
    for s in range(SUBDISTRICTS):
        sub = add(UnitKind.SUBDISTRICT, f"第{s + 1}街道", district)
        for c in range(COMMUNITIES):
            community = add(UnitKind.COMMUNITY, f"第{s + 1}-{c + 1}社区", sub)
            for k in range(COMPOUNDS):
                compound = add(UnitKind.COMPOUND, f"第{s + 1}-{c + 1}-{k + 1}小区", community)
                for wing in WINGS:
                    add(wing, f"{compound[0]}{wing.value}", compound)
    async with db.session() as session:
        await session.execute(insert(units), rows)
        await session.execute(insert(users).values(id=ADMIN, first_name="区里", created_at=NOW))
    return made


async def fill(db: Database, total: int) -> dict[str, list[tuple[int, str]]]:
    await db.migrate(ZONE)
    org = await build_org(db)
    rng = random.Random(8)
    compounds = org[UnitKind.COMPOUND.value]
    first = NOW - timedelta(days=365)
    cards: dict[tuple[date, int], Scorecard] = {}
    reported: Counter[tuple[date, int, str, str]] = Counter()
    statuses = [Status.CLOSED] * 97 + [Status.COMPLETED, Status.SIGNED, Status.DISPATCHED]
    for start in range(0, total, CHUNK):
        rows = []
        for n in range(start, min(total, start + CHUNK)):
            created = first + timedelta(seconds=rng.randrange(365 * 86400))
            compound_id, _path = rng.choice(compounds)
            wing = compound_id + rng.randint(1, 3)  # the compound's wings follow it
            status = rng.choice(statuses)
            signed_in = rng.randrange(600, 4 * 3600)
            rating = rng.choice(
                [Rating.SATISFIED, Rating.SATISFIED, Rating.BASIC, None, Rating.UNSATISFIED]
            )
            category = rng.choice(list(Category)).value
            rows.append(
                {
                    "number": f"WD-{n:09d}",
                    "reporter_id": ADMIN,
                    "anonymous": False,
                    "compound_id": compound_id,
                    "category": category,
                    "text": "水管漏水",
                    "photos": "[]",
                    "status": status.value,
                    "unit_id": wing,
                    "version": 1,
                    "window_start": created,
                    "due_at": created + timedelta(hours=2),
                    "blue_at": created + timedelta(minutes=90),
                    "stage": 0,
                    "unsatisfied": 0,
                    "rating": rating.value if rating and status is Status.CLOSED else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            day = created.astimezone(ZONE).date()
            reported[(day, compound_id, category, status.value)] += 1
            closed = status is Status.CLOSED
            card = Scorecard(
                handed=1,
                signed=int(status is not Status.DISPATCHED),
                signed_in_time=int(status is not Status.DISPATCHED and signed_in <= 7200),
                sign_seconds=signed_in if status is not Status.DISPATCHED else 0,
                completed=int(closed or status is Status.COMPLETED),
                complete_seconds=2 * 86400 if closed else 0,
                closed=int(closed),
                resolved=int(closed and rating is not Rating.UNSATISFIED),
                rated=int(closed and rating is not None),
                pleased=int(closed and rating in (Rating.SATISFIED, Rating.BASIC)),
            )
            cards[(day, wing)] = cards.get((day, wing), EMPTY) + card
        async with db.session() as session:
            await session.execute(insert(complaints), rows)
    months: dict[tuple[date, int], Scorecard] = {}
    for (day, unit), card in cards.items():
        months[(day.replace(day=1), unit)] = months.get((day.replace(day=1), unit), EMPTY) + card
    reported_months: Counter[tuple[date, int, str, str]] = Counter()
    for (day, compound_id, category_name, state), count in reported.items():
        reported_months[(day.replace(day=1), compound_id, category_name, state)] += count
    for table, key, counts in (
        (ticket_days, "day", reported),
        (ticket_months, "month", reported_months),
    ):
        entries = list(counts.items())
        for start in range(0, len(entries), CHUNK):
            async with db.session() as session:
                await session.execute(
                    insert(table),
                    [
                        {
                            key: k[0],
                            "compound_id": k[1],
                            "category": k[2],
                            "status": k[3],
                            "count": c,
                        }
                        for k, c in entries[start : start + CHUNK]
                    ],
                )
    for table, key, sums in ((unit_days, "day", cards), (unit_months, "month", months)):
        items = list(sums.items())
        for start in range(0, len(items), CHUNK):
            async with db.session() as session:
                await session.execute(
                    insert(table),
                    [
                        {key: d, "unit_id": u, **{n: getattr(c, n) for n in COUNTERS}}
                        for (d, u), c in items[start : start + CHUNK]
                    ],
                )
    return org


async def measure(total: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'stats.db'}")
        began = time.perf_counter()
        org = await fill(db, total)
        filled = time.perf_counter() - began
        async with db.read() as session:
            days = (await session.execute(select(func.count()).select_from(unit_days))).scalar()
        config = Config.model_validate({"bot": {"admins": [ADMIN]}})
        admin = Actor(User(ADMIN, "区里", None, "zh", None), (), True, "zh")
        today = NOW.astimezone(ZONE).date()
        year, month = named("year", today), named("month", today)
        assert year is not None and month is not None
        whole_year = Period(today - timedelta(days=364), today + timedelta(days=1))

        async def timed(runs: int, action: Callable[[], Awaitable[object]]) -> float:
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                await action()
                samples.append(time.perf_counter() - start)
            return statistics.median(samples) * 1000

        async def count() -> None:
            async with db.read() as session:
                await session.execute(select(func.count()).select_from(complaints))

        def stats_of(unit_id: int, period: Period) -> Callable[[], Awaitable[object]]:
            async def run() -> object:
                async with db.read() as session:
                    desk = oversight.Desk(session, Outbox(session, Clock()), NOW, config)
                    found = await oversight.stats(desk, admin, unit_id, period)
                    return oversight.stats_text(found, "zh")

            return run

        district = org[UnitKind.DISTRICT.value][0][0]
        community = org[UnitKind.COMMUNITY.value][0][0]
        compound = org[UnitKind.COMPOUND.value][0][0]
        with build_i18n("zh").context():
            figures = {
                "baseline": await timed(5, count),
                "district, last 365 days": await timed(5, stats_of(district, whole_year)),
                "district, this year": await timed(5, stats_of(district, year)),
                "district, this month": await timed(5, stats_of(district, month)),
                "community, this year": await timed(5, stats_of(community, year)),
                "compound, this year": await timed(5, stats_of(compound, year)),
            }
        await db.close()
    return {"fill": filled, "days": float(days or 0), **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    args = parser.parse_args()
    r = asyncio.run(measure(args.tickets))
    baseline = r.pop("baseline")
    print(
        f"/stats over {args.tickets:,} tickets ({int(r.pop('days')):,} unit-day scorecards; "
        f"filled in {r.pop('fill'):.0f} s); baseline count(*) {baseline:.1f} ms; goal ≤ 1000 ms"
    )
    for name, ms in r.items():
        print(f"  {name:<24} {ms:8.1f} ms  ×{ms / baseline:.1f} of the baseline")


if __name__ == "__main__":
    main()
