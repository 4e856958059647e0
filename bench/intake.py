"""Benchmark: complaint intake end to end through the sandbox, against a bare aiogram echo bot.

Both bots are real processes polling the same kind of sandbox over HTTP. N residents act at once,
each like a person: wait for the bot's answer before the next step. Intake is four updates per
resident (/report, tap a category, the text, tap Submit: a ticket is filed, numbered, routed and its
card written); the echo bot gets four text messages per user and sends each back. Printed: updates/s
and p50/p99 from an update's arrival in the sandbox to the bot's answer, and intake ÷ echo.

Outbox pacing is opened wide for this run (it is measured by bench.outbox_pacing); Telegram's limits
are not enforced, so what is measured is the bot's own work. Not a test.

    python -m bench.intake [--residents 50]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.org import StaffRole
from storage.db import Database
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.harness import ROOT, TOKEN, BotProcess, Person, Sandbox, open_sandbox, write_config

ECHO_BOT = """
import asyncio, sys
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

async def main() -> None:
    bot = Bot(sys.argv[1], session=AiohttpSession(api=TelegramAPIServer.from_base(sys.argv[2])))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    await dp.start_polling(bot, polling_timeout=10, handle_signals=True)

asyncio.run(main())
"""
OFFICER = Person(500_000, "张师傅", "zh")
FIRST = 600_000


class Watcher:
    """Notes when each chat receives a message from the bot."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.state = sandbox.state
        self.seen = 0
        self.arrivals: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.changed = asyncio.Event()

    async def run(self) -> None:
        while True:
            async with self.state.events_changed:
                await self.state.events_changed.wait_for(lambda: len(self.state.events) > self.seen)
            for event in self.state.events[self.seen :]:
                if event["type"] == "send":
                    self.arrivals[event["chat_id"]].append(event["message"])
            self.seen = len(self.state.events)
            self.changed.set()
            self.changed = asyncio.Event()

    async def reply(self, chat_id: int, before: int) -> dict[str, Any]:
        while len(self.arrivals[chat_id]) <= before:
            await self.changed.wait()
        return self.arrivals[chat_id][before]


def problem(rng: random.Random) -> str:
    """A random Chinese sentence, so no two reports look alike to the duplicate check."""
    return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(16))


async def timed(
    watcher: Watcher, chat_id: int, action: Any, latencies: list[float]
) -> dict[str, Any]:
    before = len(watcher.arrivals[chat_id])
    started = time.perf_counter()
    await action
    reply = await watcher.reply(chat_id, before)
    latencies.append(time.perf_counter() - started)
    return reply


async def intake(sb: Sandbox, w: Watcher, person: Person, text: str, lat: list[float]) -> None:
    draft = await timed(w, person.id, sb.say(person, "/report"), lat)
    draft = await timed(w, person.id, sb.tap(person, draft, "物业维修"), lat)
    draft = await timed(w, person.id, sb.say(person, text), lat)
    filed = await timed(w, person.id, sb.tap(person, draft, "✅ 提交"), lat)
    assert "WD-" in filed["text"], filed["text"]


async def echo(sb: Sandbox, w: Watcher, person: Person, text: str, lat: list[float]) -> None:
    for n in range(4):
        await timed(w, person.id, sb.say(person, f"{text} {n}"), lat)


async def seed(db_path: Path, residents: list[Person]) -> None:
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    now = datetime.now(UTC)
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        company = await UnitRepo(s).by_code("xihu-zuoan.property_company")
        assert compound is not None and company is not None
        users = UserRepo(s)
        await users.seen(OFFICER.id, OFFICER.first_name, None, now, "zh")
        await StaffRepo(s).add(OFFICER.id, company.id, StaffRole.OFFICER, None, now)
        for person in residents:
            await users.seen(person.id, person.first_name, None, now, "zh")
            await users.set_language(person.id, "zh")
            await users.set_compound(person.id, compound.id)
    await db.close()


async def run(kind: str, count: int) -> dict[str, float]:
    sandbox, runner = await open_sandbox()
    watcher = Watcher(sandbox)
    watch = asyncio.create_task(watcher.run())
    people = [Person(FIRST + n, f"居民{n}", "zh-hans") for n in range(count)]
    for person in [OFFICER, *people]:
        sandbox.state.chat_for(person.json, None)
    rng = random.Random(7)
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        process: BotProcess | asyncio.subprocess.Process
        if kind == "intake":
            extra = (
                "[outbox]\nglobal_rate = 1000\nprivate_chat_interval = 0\nprivate_burst = 1000\n"
            )
            bot = BotProcess(write_config(tmp, sandbox.port, extra=extra), sandbox)
            await bot.start()
            await seed(tmp / "bot.db", people)
            process, flow = bot, intake
        else:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", ECHO_BOT, TOKEN, sandbox.base, cwd=ROOT
            )
            while sandbox.state.stats.get("call_getUpdates", 0) < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            flow = echo
        started = time.perf_counter()
        await asyncio.gather(*(flow(sandbox, watcher, p, problem(rng), latencies) for p in people))
        elapsed = time.perf_counter() - started
        if isinstance(process, BotProcess):
            await process.stop()
        else:
            process.terminate()
            await process.wait()
    watch.cancel()
    await sandbox.http.close()
    await runner.cleanup()
    latencies.sort()
    return {
        "updates": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    args = parser.parse_args()
    echo_result = asyncio.run(run("echo", args.residents))
    intake_result = asyncio.run(run("intake", args.residents))
    for name, r in (("echo bot (baseline)", echo_result), ("complaint intake", intake_result)):
        print(
            f"{name}: {int(r['updates'])} updates, {r['per_second']:.1f} updates/s, "
            f"p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms"
        )
    ratio = intake_result["per_second"] / echo_result["per_second"]
    print(
        f"intake ÷ echo: {ratio:.2f} of the echo bot's updates/s (goal ≥ 0.5); "
        f"p50 ×{intake_result['p50'] / echo_result['p50']:.1f}, "
        f"p99 ×{intake_result['p99'] / echo_result['p99']:.1f}"
    )


if __name__ == "__main__":
    main()
