"""Benchmark: from an update's arrival to the bot's reply, with the bot's real (default) pacing.

The bot is the real process polling the sandbox over HTTP, with the configuration a district
would run (Telegram's per-chat limits kept by the sender). Three runs, each on a fresh bot:

- idle (the baseline): one resident reports a problem and a lost item (11 steps), pausing 1.5 s
  before each step, so the bot is idle when each update arrives; five such conversations;
- answering at once: the same resident and steps, each sent the moment the reply arrives (a
  reply committed while the sender was busy used to wait out its one-second timer); 2 s between
  conversations;
- 20 updates/s open loop: 40 residents send /help, /my, /whoami or a sentence on a fixed
  timetable of 20 updates a second for 15 s, whatever the replies.

Printed per run: p50 and p99 in ms, and each ÷ the idle p50 of the same run. Goal (issue 18): one
resident answering at once p50 ≤ 50 ms, p99 ≤ 150 ms. Not a test.

    python -m bench.latency [--rounds 5] [--rate 20] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.intake import OFFICER, Watcher, problem, seed
from bench.lostfound import synthetic
from tests.harness import BotProcess, Person, open_sandbox, write_config

FIRST = 700_000
SAYINGS = ["/help", "/my", "/whoami", "请问垃圾什么时候清运？"]


def summary(latencies: list[float]) -> dict[str, float]:
    latencies = sorted(latencies)
    return {
        "n": len(latencies),
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def steps(problem_text: str, lost_text: str) -> list[tuple[str, str]]:
    """A complaint (4 steps) and a lost item (7), as a person types and taps them."""
    return [
        ("say", "/report"), ("tap", "物业维修"), ("say", problem_text), ("tap", "✅ 提交"),
        ("say", "/lost"), ("tap", "手机/电子"), ("say", lost_text), ("say", "3号楼附近"),
        ("tap", "昨天"), ("tap", "跳过照片"), ("tap", "✅ 提交"),
    ]  # fmt: skip


async def conversation(rounds: int, pause: float) -> dict[str, float]:
    """One resident through both flows, `rounds` times, pausing `pause` s before each step
    (the pause is not timed)."""
    sandbox, runner = await open_sandbox()
    watcher = Watcher(sandbox)
    watch = asyncio.create_task(watcher.run())
    person = Person(FIRST, "李阿姨", "zh-hans")
    for someone in (OFFICER, person):
        sandbox.state.chat_for(someone.json, None)
    rng = random.Random(11)
    lost_texts = synthetic(rounds, seed=3)
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        bot = BotProcess(write_config(tmp, sandbox.port), sandbox)
        await bot.start()
        await seed(f"sqlite+aiosqlite:///{tmp / 'bot.db'}", [person], "complaint")
        last: dict[str, Any] = {}
        for n in range(rounds):
            # Between conversations, a rest: one resident sending faster than 25 updates a
            # second (a robot) meets the bot's global limit, 25 messages a second (Telegram: 30).
            await asyncio.sleep(2.0)
            for kind, value in steps(problem(rng), lost_texts[n]):
                await asyncio.sleep(pause)
                before = len(watcher.arrivals[person.id])
                started = time.perf_counter()
                if kind == "say":
                    await sandbox.say(person, value)
                else:
                    await sandbox.tap(person, last, value)
                last = await watcher.reply(person.id, before)
                latencies.append(time.perf_counter() - started)
            assert "已登记" in last["text"], last["text"]
        await bot.stop()
    watch.cancel()
    await sandbox.http.close()
    await runner.cleanup()
    return summary(latencies)


async def open_loop(rate: float, seconds: float, residents: int = 40) -> dict[str, float]:
    """Updates on a fixed timetable, whatever the replies; each timed to its own reply."""
    sandbox, runner = await open_sandbox()
    watcher = Watcher(sandbox)
    watch = asyncio.create_task(watcher.run())
    people = [Person(FIRST + 1 + n, f"居民{n}", "zh-hans") for n in range(residents)]
    for someone in (OFFICER, *people):
        sandbox.state.chat_for(someone.json, None)
    latencies: list[float] = []
    rng = random.Random(5)

    async def one(person: Person, text: str) -> None:
        before = len(watcher.arrivals[person.id])
        started = time.perf_counter()
        await sandbox.say(person, text)
        await watcher.reply(person.id, before)
        latencies.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        bot = BotProcess(write_config(tmp, sandbox.port), sandbox)
        await bot.start()
        await seed(f"sqlite+aiosqlite:///{tmp / 'bot.db'}", people, "complaint")
        # A person's next message waits for the answer to their last (else two replies race
        # for one arrival count); with 40 people at 20/s each writes every 2 s.
        busy: dict[int, asyncio.Task[None]] = {}
        began = time.perf_counter()
        total = int(rate * seconds)
        for n in range(total):
            await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
            person = people[n % residents]
            if (last := busy.get(person.id)) is not None:
                await last
            busy[person.id] = asyncio.create_task(one(person, rng.choice(SAYINGS)))
        await asyncio.gather(*busy.values())
        await bot.stop()
    watch.cancel()
    await sandbox.http.close()
    await runner.cleanup()
    return summary(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    idle = asyncio.run(conversation(args.rounds, pause=1.5))
    at_once = asyncio.run(conversation(args.rounds, pause=0.0))
    loaded = asyncio.run(open_loop(args.rate, args.seconds))
    print(
        "update → reply, the bot's default pacing; goal for one resident at once: p50 ≤ 50 ms, p99 ≤ 150 ms"
    )
    for name, r in (
        ("idle before each step (baseline)", idle),
        ("one resident answering at once", at_once),
        (f"{args.rate:.0f} updates/s open loop", loaded),
    ):
        print(
            f"  {name:<34} {int(r['n']):4d} replies  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
            f"  → p50 {r['p50'] / idle['p50']:.2f} of idle"
        )


if __name__ == "__main__":
    main()
