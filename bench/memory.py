"""Benchmark: the bot's start-up time and resident memory at idle on a 1,000,000-ticket database.

The bot (`python -m bot run`) starts on the district of `bench.district` against the sandbox; timed
from the process's start to its first `getUpdates`, then left idle (polling, its minute jobs
running) and its resident set read from /proc. Baseline in the same run: a bare aiogram echo bot,
started the same way. Goals: start-up ≤ 2 s, resident set ≤ 150 MB. Not a test.

    python -m bench.memory [--tickets 1000000] [--idle 5]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.district import District, build
from bench.intake import ECHO_BOT
from storage.db import Database
from tests.harness import ROOT, TOKEN, open_sandbox


def resident_mb(pid: int) -> tuple[float, float]:
    """(resident set now, its peak) in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


async def start_and_idle(command: Callable[[str], list[str]], idle: float) -> dict[str, float]:
    """Start a bot (`command` of the Bot API's address) against a fresh sandbox; seconds to its
    first getUpdates, and MB after `idle` seconds."""
    sandbox, runner = await open_sandbox()
    argv = command(sandbox.base)
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        while sandbox.state.stats.get("call_getUpdates", 0) < 1:
            if process.returncode is not None:
                raise RuntimeError((await process.stderr.read()).decode() if process.stderr else "")
            await asyncio.sleep(0.01)
        started = time.perf_counter() - began
        await asyncio.sleep(idle)
        rss, peak = resident_mb(process.pid)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        await sandbox.http.close()
        await runner.cleanup()
    return {"start-up (s)": started, "resident (MB)": rss, "peak (MB)": peak}


def bot_command(folder: Path, database: Path) -> Callable[[str], list[str]]:
    def command(api_base: str) -> list[str]:
        config = folder / "config.toml"
        config.write_text(
            f'[telegram]\ntoken = "{TOKEN}"\napi_base = "{api_base}"\npoll_timeout = 10\n\n'
            f'[database]\nurl = "sqlite+aiosqlite:///{database}"\n'
        )
        return [sys.executable, "-m", "bot", "run", "--config", str(config)]

    return command


def echo_command(api_base: str) -> list[str]:
    return [sys.executable, "-c", ECHO_BOT, TOKEN, api_base]


async def figures(database: Path, idle: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        bot = await start_and_idle(bot_command(Path(folder), database), idle)
    echo = await start_and_idle(echo_command, idle)
    return {**bot, **{f"echo {k}": v for k, v in echo.items()}}


async def measure(tickets: int, idle: float) -> tuple[District, dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "district.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            district = await build(db, tickets)
        finally:
            await db.close()
        return district, await figures(path, idle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    district, r = asyncio.run(measure(args.tickets, args.idle))
    print(
        f"the bot on {district.tickets:,} tickets: start-up {r['start-up (s)']:.2f} s (goal ≤ 2 s; "
        f"echo bot {r['echo start-up (s)']:.2f} s), resident after {args.idle:.0f} s idle "
        f"{r['resident (MB)']:.0f} MB (goal ≤ 150 MB; peak {r['peak (MB)']:.0f} MB; echo bot "
        f"{r['echo resident (MB)']:.0f} MB)"
    )


if __name__ == "__main__":
    main()
