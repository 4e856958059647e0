"""Benchmark: updates end to end through the sandbox, against a bare aiogram echo bot.

The bots are real processes polling the same kind of sandbox over HTTP. N residents act at once,
each like a person: wait for the bot's answer before the next step. Three flows, each on a fresh
bot and database:

- complaint intake, 4 updates: /report, tap a category, the text, tap Submit (a ticket is filed,
  numbered, routed, its cards written);
- lost-item report, 7 updates: /lost, tap a category, the description, the place, tap Yesterday,
  tap Skip photo, tap Submit (the item is stored, indexed and matched against the open found ones);
- check-in, 2 updates: /checkin, then the location (party members signed up for an activity that
  is starting: the distance is checked and the attendance written).

The echo bot gets 4 text messages per user and sends each back. Printed per flow: updates/s and
p50/p99 from an update's arrival in the sandbox to the bot's answer, and flow ÷ echo (goal ≥ 0.5).

Outbox pacing is opened wide for this run (it is measured by bench.outbox_pacing); Telegram's limits
are not enforced, so what is measured is the bot's own work. Not a test.

    python -m bench.intake [--residents 60] [--flow complaint lost checkin]

On PostgreSQL (a server from scripts/services.sh, its LASTMETER_TEST_POSTGRES exported):

    LASTMETER_TEST_DB=postgresql python -m bench.intake --flow complaint
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.lostfound import synthetic
from bot.domain.org import StaffRole
from bot.domain.party import ActivityKind, MemberType, RegStatus
from storage.db import Database
from storage.party import NewActivity, NewMember, PartyRepo
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url, drop_all
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
CENTRE = (34.0385, 113.8120)  # 西湖左岸 in org.example.toml
NEAR = {"latitude": CENTRE[0] + 100 / 111_195, "longitude": CENTRE[1]}  # 100 m north


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


async def complaint(sb: Sandbox, w: Watcher, person: Person, text: str, lat: list[float]) -> None:
    draft = await timed(w, person.id, sb.say(person, "/report"), lat)
    draft = await timed(w, person.id, sb.tap(person, draft, "物业维修"), lat)
    draft = await timed(w, person.id, sb.say(person, text), lat)
    filed = await timed(w, person.id, sb.tap(person, draft, "✅ 提交"), lat)
    assert "WD-" in filed["text"], filed["text"]


async def lost(sb: Sandbox, w: Watcher, person: Person, text: str, lat: list[float]) -> None:
    step = await timed(w, person.id, sb.say(person, "/lost"), lat)
    step = await timed(w, person.id, sb.tap(person, step, "手机/电子"), lat)
    step = await timed(w, person.id, sb.say(person, text), lat)
    step = await timed(w, person.id, sb.say(person, "3号楼附近"), lat)
    step = await timed(w, person.id, sb.tap(person, step, "昨天"), lat)
    step = await timed(w, person.id, sb.tap(person, step, "跳过照片"), lat)
    filed = await timed(w, person.id, sb.tap(person, step, "✅ 提交"), lat)
    assert "已登记" in filed["text"], filed["text"]


async def checkin(sb: Sandbox, w: Watcher, person: Person, _text: str, lat: list[float]) -> None:
    await timed(w, person.id, sb.say(person, "/checkin"), lat)
    done = await timed(w, person.id, sb.send(person, location=NEAR), lat)
    assert "签到" in done["text"], done["text"]


async def echo(sb: Sandbox, w: Watcher, person: Person, text: str, lat: list[float]) -> None:
    for n in range(4):
        await timed(w, person.id, sb.say(person, f"{text} {n}"), lat)


Flow = Callable[[Sandbox, Watcher, Person, str, list[float]], Awaitable[None]]
FLOWS: dict[str, Flow] = {"complaint": complaint, "lost": lost, "checkin": checkin}


async def seed(url: str, residents: list[Person], flow: str) -> None:
    db = Database(url)
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
        if flow == "checkin":  # members of the compound's branch, signed up for what is starting
            party = PartyRepo(s)
            starts = now + timedelta(minutes=10)
            activity = await party.create_activity(
                NewActivity(
                    compound.id,
                    ActivityKind.CLEANUP,
                    "楼道大扫除",
                    "3号楼",
                    starts,
                    starts + timedelta(hours=2),
                    len(residents),
                    "246810",
                    OFFICER.id,
                ),
                now,
            )
            for person in residents:
                member = await party.register(
                    NewMember(
                        person.id,
                        person.first_name,
                        compound.id,
                        "3号楼",
                        "区直机关",
                        MemberType.RETIRED,
                        None,
                    ),
                    now,
                )
                await party.decide(member.id, RegStatus.APPROVED, OFFICER.id, "", now)
                assert await party.sign_up(activity.id, person.id, now)
    await db.close()


async def run(kind: str, count: int) -> dict[str, float]:
    """One flow (or the echo bot) for `count` people at once, on a fresh sandbox and database."""
    sandbox, runner = await open_sandbox()
    watcher = Watcher(sandbox)
    watch = asyncio.create_task(watcher.run())
    people = [Person(FIRST + n, f"居民{n}", "zh-hans") for n in range(count)]
    for person in [OFFICER, *people]:
        sandbox.state.chat_for(person.json, None)
    rng = random.Random(7)
    texts = synthetic(count, seed=5) if kind == "lost" else [problem(rng) for _ in people]
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        process: BotProcess | asyncio.subprocess.Process
        flow: Flow
        if kind in FLOWS:
            counted = tmp / "statements.json"
            extra = (
                f'statements_file = "{counted}"\n'  # of [testing]
                "[outbox]\nglobal_rate = 1000\nprivate_chat_interval = 0\nprivate_burst = 1000\n"
            )
            config = write_config(tmp, sandbox.port, extra=extra, clock=False)
            bot = BotProcess(config, sandbox)
            await bot.start()
            await seed(database_url(tmp), people, kind)
            process, flow = bot, FLOWS[kind]
        else:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", ECHO_BOT, TOKEN, sandbox.base, cwd=ROOT
            )
            while sandbox.state.stats.get("call_getUpdates", 0) < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            flow = echo
        if isinstance(process, BotProcess):
            assert process.proc is not None
            pid = process.proc.pid
        else:
            pid = process.pid
        started, cpu_before = time.perf_counter(), cpu_seconds(pid)
        harness_before = time.process_time()
        await asyncio.gather(
            *(flow(sandbox, watcher, p, t, latencies) for p, t in zip(people, texts, strict=True))
        )
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
        harness = time.process_time() - harness_before
        counts: dict[str, int] = {}
        if isinstance(process, BotProcess):
            await process.stop()
            counts = json.loads(counted.read_text(encoding="utf-8"))
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
        "cpu_ms": 1000 * cpu / len(latencies),
        "harness_ms": 1000 * harness / len(latencies),
        **{name: n / len(latencies) for name, n in counts.items()},
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (Linux: /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=60)
    parser.add_argument("--flow", nargs="*", choices=list(FLOWS), default=list(FLOWS))
    args = parser.parse_args()
    baseline = asyncio.run(run("echo", args.residents))
    try:
        results = {name: asyncio.run(run(name, args.residents)) for name in args.flow}
    finally:
        drop_all()  # LASTMETER_TEST_DB=postgresql: the databases made on the server
    print(
        f"{args.residents} people at once, each waiting for the answer; goal ≥ 0.5 of the echo bot"
    )
    for name, r in (("echo bot (baseline)", baseline), *results.items()):
        ratio = r["per_second"] / baseline["per_second"]
        print(
            f"  {name:<20} {int(r['updates']):5d} updates {r['per_second']:7.1f} updates/s "
            f"p50 {r['p50']:6.0f} ms  p99 {r['p99']:6.0f} ms  CPU {r['cpu_ms']:5.2f} ms/update"
            f"  → {ratio:.2f} of the echo bot"
        )
        print(f"  {'':<20} the sandbox and residents: CPU {r['harness_ms']:5.2f} ms/update")
        if "statements" in r:
            print(
                f"  {'':<20} per update: {r['statements']:.1f} statements, "
                f"{r['write_transactions']:.2f} write transactions ({r['empty_writes']:.2f} empty), "
                f"{r['read_statements']:.1f} reads"
            )


if __name__ == "__main__":
    main()
