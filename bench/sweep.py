"""Benchmark: one escalation sweep over 1,000,000 tickets of which 10,000 are open.

The tickets are written straight into a SQLite file (closed ones have no next check; open ones have
deadlines spread over the coming week). Timed: a sweep when nothing is due (what almost every run
of the minute job is), and a sweep when 20 tickets reach a step at once (each is warned or chased,
with its cards and messages written). Goal: ≤ 50 ms. Printed also as a ratio of a baseline measured
in the same run: reading one ticket by its primary key. Not a test.

    python -m bench.sweep [--tickets 1000000] [--open 10000] [--due 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.app import import_org
from bot.config import Config
from bot.domain.complaints import Category, Stage, Status, stage_time
from bot.i18n import build_i18n
from bot.services.escalation import sweep
from storage.complaints import ComplaintRepo
from storage.db import Database
from storage.tables import complaints, users
from storage.units import UnitRepo
from tests.harness import ROOT

T0 = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
CHUNK = 20_000


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def fill(db: Database, total: int, open_: int, due: int) -> None:
    await db.migrate()
    await import_org(db, ROOT / "org.example.toml")
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        company = await UnitRepo(s).by_code("xihu-zuoan.property_company")
        assert compound is not None and company is not None
        await s.execute(insert(users).values(id=1, first_name="居民", created_at=T0))
    window = timedelta(hours=2)
    for start in range(0, total, CHUNK):
        rows = []
        for n in range(start, min(total, start + CHUNK)):
            is_open = n >= total - open_
            if is_open and n >= total - due:
                begun = T0 - window  # these reach their deadline now
            else:
                begun = T0 + timedelta(minutes=n % (7 * 24 * 60))
            deadline = begun + window
            rows.append(
                {
                    "number": f"WD-20261121-{n:07d}",
                    "reporter_id": 1,
                    "anonymous": False,
                    "compound_id": compound.id,
                    "category": Category.PROPERTY_REPAIR.value,
                    "text": "水管漏水",
                    "photos": "[]",
                    "status": (Status.DISPATCHED if is_open else Status.CLOSED).value,
                    "unit_id": company.id,
                    "version": 1,
                    "window_start": begun,
                    "due_at": deadline if is_open else None,
                    "stage": Stage.WARNED if is_open else 0,
                    "next_check_at": stage_time(begun, deadline, Stage.CHASED) if is_open else None,
                    "unsatisfied": 0,
                    "created_at": begun,
                    "updated_at": begun,
                }
            )
        async with db.session() as s:
            await s.execute(insert(complaints), rows)


async def measure(total: int, open_: int, due: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'sweep.db'}")
        started = time.perf_counter()
        await fill(db, total, open_, due)
        filled = time.perf_counter() - started
        config, clock, i18n = Config(), Clock(T0), build_i18n("zh")

        async def timed(runs: int, action: object) -> float:
            samples = []
            for _ in range(runs):
                began = time.perf_counter()
                await action()  # type: ignore[operator]
                samples.append(time.perf_counter() - began)
            return statistics.median(samples) * 1000

        async def read_one() -> None:
            async with db.session() as s:
                await ComplaintRepo(s).get(total // 2)

        with i18n.context():
            baseline = await timed(50, read_one)
            clock.at = T0 - timedelta(minutes=1)  # nothing due yet
            idle = await timed(20, lambda: sweep(db, clock, config))
            clock.at = T0 + timedelta(seconds=1)
            began = time.perf_counter()
            steps = await sweep(db, clock, config)
            busy = (time.perf_counter() - began) * 1000
        await db.close()
    return {
        "fill": filled,
        "baseline": baseline,
        "idle": idle,
        "busy": busy,
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=20)
    args = parser.parse_args()
    r = asyncio.run(measure(args.tickets, args.open, args.due))
    print(
        f"escalation sweep over {args.tickets:,} tickets ({args.open:,} open; filled in "
        f"{r['fill']:.0f} s): nothing due {r['idle']:.1f} ms, {int(r['steps'])} due "
        f"{r['busy']:.1f} ms (goal ≤ 50 ms); baseline read of one ticket {r['baseline']:.2f} ms "
        f"→ ×{r['idle'] / r['baseline']:.1f} and ×{r['busy'] / r['baseline']:.0f}"
    )


if __name__ == "__main__":
    main()
