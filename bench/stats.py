"""Benchmark: /stats over 1,000,000 tickets of a district's year.

The district of `bench.district` (455 compounds with their wings, a year of tickets and the
scorecards and ticket counts the bot keeps). Timed: the whole `/stats` use case (scope check,
scorecards, ticket counts, ranking, text) for the district over the last 365 days, this year and
this month, for a community over this year, and for a compound over this year. Goal: ≤ 1 s.
Printed also as a ratio of a baseline measured in the same run: `SELECT count(*)` over the
tickets table. Not a test.

    python -m bench.stats [--tickets 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bench.district import ADMIN, NOW, ZONE, District, measured
from bot.config import Config
from bot.domain.org import UnitKind
from bot.domain.people import Actor, User
from bot.domain.periods import Period, named
from bot.i18n import build_i18n
from bot.services import oversight
from bot.services.desk import open_desk
from bot.services.matcher import Matcher
from bot.ui.oversight import stats_text
from storage.db import Database
from storage.tables import complaints


class Clock:
    def now(self) -> datetime:
        return NOW


async def timed(runs: int, action: Callable[[], Awaitable[object]]) -> float:
    """The median of `runs` runs, in ms."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


async def figures(db: Database, district: District) -> dict[str, float]:
    """Milliseconds of each /stats asked, and of the baseline."""
    config = Config.model_validate({"bot": {"admins": [ADMIN]}})
    admin = Actor(User(ADMIN, "区里", None, "zh", None), (), True, "zh")
    today = NOW.astimezone(ZONE).date()
    year, month = named("year", today), named("month", today)
    assert year is not None and month is not None
    whole_year = Period(today - timedelta(days=364), today + timedelta(days=1))

    async def count() -> None:
        async with db.read() as session:
            await session.execute(select(func.count()).select_from(complaints))

    def stats_of(unit_id: int, period: Period) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            async with open_desk(db, Clock(), config, Matcher(), "bot", read_only=True) as desk:
                found = await oversight.stats(desk, admin, unit_id, period)
                return stats_text(found, "zh")

        return run

    district_id = district.first(UnitKind.DISTRICT)
    with build_i18n("zh").context():
        return {
            "baseline": await timed(5, count),
            "district, last 365 days": await timed(5, stats_of(district_id, whole_year)),
            "district, this year": await timed(5, stats_of(district_id, year)),
            "district, this month": await timed(5, stats_of(district_id, month)),
            "community, this year": await timed(
                5, stats_of(district.first(UnitKind.COMMUNITY), year)
            ),
            "compound, this year": await timed(
                5, stats_of(district.first(UnitKind.COMPOUND), year)
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    args = parser.parse_args()
    district, r = asyncio.run(measured(args.tickets, figures))
    baseline = r.pop("baseline")
    print(
        f"/stats over {args.tickets:,} tickets (built in {district.seconds:.0f} s); "
        f"baseline count(*) {baseline:.1f} ms; goal ≤ 1000 ms"
    )
    for name, ms in r.items():
        print(f"  {name:<24} {ms:8.1f} ms  ×{ms / baseline:.1f} of the baseline")


if __name__ == "__main__":
    main()
