"""Benchmark: how the figures grow from 10,000 to 100,000 to 1,000,000 rows.

For each size one district database is built (`bench.district`) and measured in turn: /stats
(`bench.stats`), the bot's start-up and idle memory on it (`bench.memory`), the escalation sweep
(`bench.sweep`, last: it moves the due tickets on). Lost-and-found matching (`bench.lostfound`)
is measured over as many open items, up to 100,000 (a district's lost and found holds thousands). Printed as a Markdown table; the databases are deleted.

    python -m bench.scale [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench import lostfound, memory, stats, sweep
from bench.district import build
from storage.db import Database

ROWS = (
    ("/stats, district, last 365 days (ms)", "stats", "district, last 365 days", "≤ 1000"),
    ("/stats, district, this month (ms)", "stats", "district, this month", "≤ 1000"),
    ("/stats, a compound's year (ms)", "stats", "compound, this year", "≤ 1000"),
    ("`SELECT count(*)` of the tickets (ms, baseline)", "stats", "baseline", ""),
    ("sweep, nothing due (ms)", "sweep", "idle", "≤ 50"),
    ("sweep, 20 due at once (ms)", "sweep", "busy", "≤ 50"),
    ("… the first such sweep of the process (ms)", "sweep", "first", "≤ 50"),
    ("read one ticket by key (ms, baseline)", "sweep", "baseline", ""),
    ("bot start-up to first getUpdates (s)", "memory", "start-up (s)", "≤ 2"),
    ("echo bot start-up (s, baseline)", "memory", "echo start-up (s)", ""),
    ("bot resident set at idle (MB)", "memory", "resident (MB)", "≤ 150"),
    ("echo bot resident set (MB, baseline)", "memory", "echo resident (MB)", ""),
    (
        "lost and found, one match, p95 (ms; as many open items)",
        "lostfound",
        "query p95 (ms)",
        "≤ 10",
    ),
    ("… scoring them one by one (ms, baseline)", "lostfound", "baseline: one by one (ms)", ""),
    ("building the database (s)", "build", "seconds", ""),
)


async def at_size(tickets: int, idle: float) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "district.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            district = await build(db, tickets)
            found = {"build": {"seconds": district.seconds}}
            found["stats"] = await stats.figures(db, district)
            await db.close()  # the bot opens it on its own
            found["memory"] = await memory.figures(path, idle)
            db = Database(f"sqlite+aiosqlite:///{path}")
            found["sweep"] = await sweep.figures(db, district)
        finally:
            await db.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--match-items", type=int, default=100_000, help="largest matching size")
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        results[size] = asyncio.run(at_size(size, args.idle))
        if size <= args.match_items:
            results[size]["lostfound"] = lostfound.speed(size, 300)
        print(f"… {size:,} done", flush=True)
    print("| figure | " + " | ".join(f"{s:,}" for s in args.sizes) + " | goal |")
    print("|---|" + "---:|" * len(args.sizes) + "---|")
    for title, group, key, goal in ROWS:
        cells = []
        for size in args.sizes:
            value = results[size].get(group, {}).get(key)
            if value is None:
                cells.append("—")
            else:
                cells.append(f"{value:,.2f}" if value < 10 else f"{value:,.0f}")
        print(f"| {title} | " + " | ".join(cells) + f" | {goal} |")
    if any(s > args.match_items for s in args.sizes):
        print(f"(—: matching is measured up to {args.match_items:,} open items)")


if __name__ == "__main__":
    main()
