"""Benchmark: one escalation sweep over 1,000,000 tickets of which 10,000 are open.

The district of `bench.district`: the open tickets wait on property companies with deadlines spread
over the coming week. Timed: a sweep when nothing is due (what almost every run of the minute job
is), and a sweep when 20 tickets reach a step at once (each is chased: its supervisor found, cards
and messages written) — the first such sweep of the process (SQLAlchemy compiles each statement
on its first use) and the next, a minute later, with 20 more. Goal: ≤ 50 ms. Printed also as a ratio of a baseline measured in the same
run: reading one ticket by its primary key. Not a test.

    python -m bench.sweep [--tickets 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timedelta

from bench.district import NOW, ZONE, District, measured
from bench.stats import timed
from bot.config import Config
from bot.i18n import build_i18n
from bot.services.escalation import sweep
from bot.services.matcher import Matcher
from storage.complaints import ComplaintRepo
from storage.db import Database


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def figures(db: Database, district: District) -> dict[str, float]:
    """Milliseconds of an idle sweep, of the first and the next with `district.due` tickets due,
    and of the baseline. The busy sweeps move those tickets on: run them last on a database."""
    config, clock = Config(), Clock(NOW - timedelta(minutes=1))

    async def read_one() -> None:
        async with db.session() as s:
            await ComplaintRepo(s, ZONE).get(district.tickets // 2)

    async def swept() -> None:
        await sweep(db, clock, config, Matcher(), "bot")

    with build_i18n("zh").context():
        baseline = await timed(50, read_one)
        idle = await timed(20, swept)  # nothing due yet
        busy = []
        for at in (NOW + timedelta(seconds=1), NOW + timedelta(minutes=1, seconds=1)):
            clock.at = at
            began = time.perf_counter()
            steps = await sweep(db, clock, config, Matcher(), "bot")
            busy.append((time.perf_counter() - began) * 1000)
    return {"baseline": baseline, "idle": idle, "first": busy[0], "busy": busy[1], "steps": steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    args = parser.parse_args()
    district, r = asyncio.run(measured(args.tickets, figures))
    print(
        f"escalation sweep over {district.tickets:,} tickets ({district.open:,} open; built in "
        f"{district.seconds:.0f} s): nothing due {r['idle']:.1f} ms, {int(r['steps'])} due "
        f"{r['busy']:.1f} ms (the first time {r['first']:.1f} ms; goal ≤ 50 ms); baseline read "
        f"of one ticket {r['baseline']:.2f} ms "
        f"→ ×{r['idle'] / r['baseline']:.1f} and ×{r['busy'] / r['baseline']:.0f}"
    )


if __name__ == "__main__":
    main()
