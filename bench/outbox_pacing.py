"""Benchmark: the outbox delivering to 2,000 chats through the sandbox with Telegram's limits enforced.

Prints the achieved rate as a ratio of the configured rate and of Telegram's 30 messages/s, and the
number of 429s (goal: ≥ 0.9 of the allowed rate, no 429). Not a test: run it by hand or from
`python -m bench`.

    python -m bench.outbox_pacing [--chats 2000] [--rate 28]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.clock import SystemClock
from bot.config import OutboxConfig
from bot.delivery.outbox import Priority
from bot.delivery.sender import OutboxSender
from bot.sandbox.server import SandboxState, start_sandbox
from storage.db import Database
from storage.outbox import OutboxRepo

TELEGRAM_RATE = 30.0
TOKEN = "4242:BENCH"


async def measure(chats: int, rate: float) -> dict[str, float]:
    state = SandboxState(token=TOKEN, bot_id=4242)
    state.limits.enforce = True
    for chat_id in range(1, chats + 1):
        state.chat_for({"id": chat_id, "first_name": f"u{chat_id}"}, None)
    runner, port = await start_sandbox(state)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await db.migrate()
        clock = SystemClock()
        async with db.session() as session:
            repo = OutboxRepo(session)
            for chat_id in range(1, chats + 1):
                payload = json.dumps({"chat_id": chat_id, "text": f"提醒 reminder {chat_id}"})
                await repo.add(chat_id, "sendMessage", payload, Priority.BROADCAST, clock.now())
        bot = Bot(
            TOKEN,
            session=AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}")),
        )
        sender = OutboxSender(db, bot, clock, OutboxConfig(global_rate=rate))
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(sender.run(stop))
        while state.stats.get("sent", 0) < chats:  # noqa: ASYNC110 - the sandbox counts, not signals
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        stop.set()
        await task
        await bot.session.close()
        await db.close()
    await runner.cleanup()
    achieved = chats / elapsed
    return {
        "chats": chats,
        "seconds": elapsed,
        "rate": achieved,
        "of_configured": achieved / rate,
        "of_telegram": achieved / TELEGRAM_RATE,
        "429s": state.stats.get("limit_429", 0),
        "violations": len(state.violations),
    }


def report(result: dict[str, float], rate: float) -> str:
    return (
        f"outbox pacing: {int(result['chats'])} chats in {result['seconds']:.1f} s = "
        f"{result['rate']:.1f} msg/s; {result['of_configured']:.2f} of the configured {rate:g}/s, "
        f"{result['of_telegram']:.2f} of Telegram's 30/s; 429s: {int(result['429s'])}, "
        f"limit violations: {int(result['violations'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=28.0, help="configured global rate")
    args = parser.parse_args()
    print(report(asyncio.run(measure(args.chats, args.rate)), args.rate))


if __name__ == "__main__":
    main()
