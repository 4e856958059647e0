"""A district's database for the benchmarks that need many rows (stats, sweep, memory).

13 sub-districts, 91 communities and 455 compounds (each with its three wings), written straight
into a SQLite file: a year of tickets spread over the compounds' wings, with the per-day and
per-month scorecards and ticket counts they add up to (as the bot keeps them). Of the tickets, the
newest `open` are waiting on a property company with deadlines spread over the coming week, and
`due` of those reach their deadline at NOW and `due` more a minute later. Everything is migrated: the bot starts on it as is.

    python -m bench.district --tickets 1000000 --out district.db   (to look at one)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bot.domain.complaints import Category, Rating, Stage, Status, stage_time
from bot.domain.org import UnitKind
from bot.domain.rates import COUNTERS, EMPTY, Scorecard
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
WINDOW = timedelta(hours=2)  # the property repair window the open tickets run on


@dataclass(frozen=True)
class District:
    """What was written: the units by kind as (id, path), and how many tickets."""

    org: dict[str, list[tuple[int, str]]]
    tickets: int
    open: int
    due: int
    seconds: float

    def first(self, kind: UnitKind) -> int:
        return self.org[kind.value][0][0]


def open_for(tickets: int) -> int:
    """Open tickets grow with the district: 1 % of all (10,000 of 1,000,000)."""
    return max(100, tickets // 100)


async def build_org(db: Database) -> dict[str, list[tuple[int, str]]]:
    rows: list[dict[str, object]] = []
    made: dict[str, list[tuple[int, str]]] = {k.value: [] for k in UnitKind}

    def add(kind: UnitKind, name: str, parent: tuple[int, str] | None) -> tuple[int, str]:
        uid = len(rows) + 1
        path = f"{parent[1] if parent else '/'}{uid}/"
        parent_id = parent[0] if parent else None
        rows.append(
            {"id": uid, "code": f"u{uid}", "kind": kind.value, "name": name, "name_en": ""}
            | {"parent_id": parent_id, "path": path}
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


def _ticket(
    n: int, total: int, open_: int, due: int, rng: random.Random, compounds: list[int]
) -> tuple[dict[str, Any], Scorecard]:
    """Ticket `n`'s row (its own columns) and the scorecard of its unit's day."""
    compound_id = rng.choice(compounds)
    if n >= total - open_:  # open, on the property company, deadline within the week
        if n >= total - due:
            deadline = NOW
        elif n >= total - 2 * due:
            deadline = NOW + timedelta(minutes=1)
        else:
            deadline = NOW + timedelta(minutes=2 + n % 10_080)
        begun = deadline - WINDOW
        row = {
            "compound_id": compound_id,
            "category": Category.PROPERTY_REPAIR.value,
            "status": Status.DISPATCHED.value,
            "unit_id": compound_id + 3,
            "window_start": begun,
            "due_at": deadline,
            "blue_at": begun + WINDOW * 3 / 4,
            "stage": Stage.WARNED,
            "next_check_at": stage_time(begun, deadline, Stage.CHASED),
            "rating": None,
            "created_at": min(begun, NOW),
        }
        return row, Scorecard(handed=1)
    created = NOW - timedelta(days=365) + timedelta(seconds=rng.randrange(365 * 86400))
    status = rng.choice(STATUSES)
    signed_in = rng.randrange(600, 4 * 3600)
    rating = rng.choice(
        [Rating.SATISFIED, Rating.SATISFIED, Rating.BASIC, None, Rating.UNSATISFIED]
    )
    closed = status is Status.CLOSED
    signed = status is not Status.DISPATCHED
    row = {
        "compound_id": compound_id,
        "category": rng.choice(CATEGORIES),
        "status": status.value,
        "unit_id": compound_id + rng.randint(1, 3),  # the compound's wings follow it
        "window_start": created,
        "due_at": created + WINDOW,
        "blue_at": created + WINDOW * 3 / 4,
        "stage": 0,
        "next_check_at": None,
        "rating": rating.value if rating and closed else None,
        "created_at": created,
    }
    card = Scorecard(
        handed=1,
        signed=int(signed),
        signed_in_time=int(signed and signed_in <= 7200),
        sign_seconds=signed_in if signed else 0,
        completed=int(closed or status is Status.COMPLETED),
        complete_seconds=2 * 86400 if closed else 0,
        closed=int(closed),
        resolved=int(closed and rating is not Rating.UNSATISFIED),
        rated=int(closed and rating is not None),
        pleased=int(closed and rating in (Rating.SATISFIED, Rating.BASIC)),
    )
    return row, card


STATUSES = [Status.CLOSED] * 97 + [Status.COMPLETED, Status.SIGNED, Status.DISPATCHED]
CATEGORIES = [c.value for c in Category]


async def build(db: Database, total: int, *, due: int = 20) -> District:
    """Write the district with `total` tickets into an empty database."""
    started = time.perf_counter()
    await db.migrate(ZONE)
    org = await build_org(db)
    rng = random.Random(8)
    compounds = [uid for uid, _ in org[UnitKind.COMPOUND.value]]
    open_ = min(open_for(total), total)
    cards: dict[tuple[date, int], Scorecard] = {}
    reported: Counter[tuple[date, int, str, str]] = Counter()
    for start in range(0, total, CHUNK):
        rows = []
        for n in range(start, min(total, start + CHUNK)):
            row, card = _ticket(n, total, open_, due, rng, compounds)
            row |= {
                "number": f"WD-{n:09d}",
                "reporter_id": ADMIN,
                "anonymous": False,
                "text": "水管漏水",
                "photos": "[]",
                "version": 1,
                "unsatisfied": 0,
                "updated_at": row["created_at"],
            }
            rows.append(row)
            day = row["created_at"].astimezone(ZONE).date()
            reported[(day, row["compound_id"], row["category"], row["status"])] += 1
            cards[(day, row["unit_id"])] = cards.get((day, row["unit_id"]), EMPTY) + card
        async with db.session() as session:
            await session.execute(insert(complaints), rows)
    months: dict[tuple[date, int], Scorecard] = {}
    for (day, unit), card in cards.items():
        months[(day.replace(day=1), unit)] = months.get((day.replace(day=1), unit), EMPTY) + card
    reported_months: Counter[tuple[date, int, str, str]] = Counter()
    for (day, compound_id, category, state), count in reported.items():
        reported_months[(day.replace(day=1), compound_id, category, state)] += count
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
                        {key: k[0], "compound_id": k[1], "category": k[2], "status": k[3]}
                        | {"count": c}
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
    return District(org, total, open_, due, time.perf_counter() - started)


async def measured(
    tickets: int, figures: Callable[[Database, District], Awaitable[dict[str, float]]]
) -> tuple[District, dict[str, float]]:
    """Build a district of `tickets` in a temporary folder, take `figures` on it, delete it."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'district.db'}")
        try:
            district = await build(db, tickets)
            return district, await figures(db, district)
        finally:
            await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    async def run() -> District:
        db = Database(f"sqlite+aiosqlite:///{args.out}")
        try:
            return await build(db, args.tickets)
        finally:
            await db.close()

    made = asyncio.run(run())
    print(f"{args.out}: {made.tickets:,} tickets, {made.open:,} open, in {made.seconds:.0f} s")


if __name__ == "__main__":
    main()
