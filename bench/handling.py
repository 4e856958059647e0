"""Benchmark: the CPU of handling one update, in process, and the routing work it takes.

The bot as the in-process tests run it (tests/inproc/harness.py: the real Dispatcher, middlewares,
handlers, inbox and database; a fake Bot API that is never called, for handlers only write the
outbox) takes N complaint flows one after another — /report, tap a category, the text, tap Submit.
Timed with `time.process_time()` around the inbox's handling of each update
(`Inbox._handle_next`: its transaction, the dispatch, the FSM, the outbox rows), so neither HTTP
nor the sender is in the figure; counted: the routers an update is propagated through and the
handlers whose filters it is checked against. Baseline in the same run: the same updates through
an aiogram Dispatcher with one router and one handler that answers nothing (the floor of aiogram
itself). Not a test.

    python -m bench.handling [--flows 120]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.dispatcher import router as routers
from aiogram.dispatcher.event import handler as handlers
from aiogram.types import TelegramObject, Update

from bench.intake import problem
from bot.delivery import inbox
from tests.inproc.harness import Harness, Person, build_template, open_harness

WARM_UP = 10


def counting() -> Counter[str]:
    """Counts of Router._propagate_event and HandlerObject.check calls, from now on."""
    counts: Counter[str] = Counter()
    propagate, check = routers.Router._propagate_event, handlers.HandlerObject.check

    async def propagated(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts["routers"] += 1
        return await propagate(self, *args, **kwargs)

    async def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts["checks"] += 1
        return await check(self, *args, **kwargs)

    routers.Router._propagate_event = propagated  # type: ignore[method-assign]
    handlers.HandlerObject.check = checked  # type: ignore[method-assign]
    return counts


def timing() -> dict[str, float]:
    """CPU seconds spent in Inbox._handle_next and the updates it handled, from now on."""
    spent = {"seconds": 0.0, "updates": 0}
    original: Callable[..., Awaitable[bool]] = inbox.Inbox._handle_next

    async def timed(self: Any, *args: Any, **kwargs: Any) -> bool:
        began = time.process_time()
        try:
            return await original(self, *args, **kwargs)
        finally:
            spent["seconds"] += time.process_time() - began

    inbox.Inbox._handle_next = timed  # type: ignore[method-assign]
    return spent


async def flow(h: Harness, n: int, rng: random.Random) -> None:
    chat = await h.resident(Person(50_000 + n, f"居民{n}", "zh-hans"), "xihu-zuoan")
    await chat.command("/report")
    await chat.press("物业维修")
    await chat.send(problem(rng))  # unlike every other: filed, not held as a duplicate
    submitted = await chat.press("✅ 提交")
    assert "已登记为" in submitted.text, submitted.text  # filed and numbered


async def bot_run(flows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        build_template(tmp / "template.db")
        async with open_harness(tmp, template=tmp / "template.db") as h:
            rng = random.Random(7)
            for n in range(WARM_UP):
                await flow(h, 1_000 + n, rng)
            gc.collect()
            spent, counts = timing(), counting()
            for n in range(flows):
                await flow(h, n, rng)
    updates = 4 * flows
    return {
        "ms": 1000 * spent["seconds"] / updates,
        "routers": counts["routers"] / updates,
        "checks": counts["checks"] / updates,
    }


async def floor_run(updates: list[Update]) -> float:
    """CPU ms per update through a bare Dispatcher with one handler."""
    dp = Dispatcher()
    router = Router()

    @router.message()
    @router.callback_query()
    async def nothing(_event: TelegramObject) -> None:
        return None

    dp.include_router(router)
    bot = Bot("42:TEST")
    for update in updates[:50]:
        await dp.feed_update(bot, update)
    began = time.process_time()
    for update in updates:
        await dp.feed_update(bot, update)
    spent = time.process_time() - began
    await bot.session.close()
    return 1000 * spent / len(updates)


def sample_updates(count: int) -> list[Update]:
    """Updates shaped like the flow's: a command, a press, a text, a press."""
    person = {"id": 5, "is_bot": False, "first_name": "居民", "language_code": "zh-hans"}
    chat = {"id": 5, "type": "private", "first_name": "居民"}
    found = []
    for n in range(count):
        message = {"message_id": n, "date": 1764000000, "chat": chat, "from": person}
        if n % 2 == 0:
            body = {"message": {**message, "text": "/report" if n % 4 == 0 else "楼道灯坏了"}}
        else:
            body = {
                "callback_query": {
                    "id": str(n),
                    "from": person,
                    "chat_instance": "c",
                    "data": "wz:1:2",
                    "message": message,
                }
            }
        found.append(Update.model_validate({"update_id": n, **body}))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=120)
    args = parser.parse_args()
    floor = asyncio.run(floor_run(sample_updates(4 * args.flows)))
    result = asyncio.run(bot_run(args.flows))
    print(f"{args.flows} complaint flows ({4 * args.flows} updates), in process")
    print(
        f"  handling an update: {result['ms']:.2f} ms of CPU, through {result['routers']:.1f} "
        f"routers and {result['checks']:.1f} handler checks"
    )
    print(
        f"  a bare Dispatcher with one handler: {floor:.3f} ms per update "
        f"(÷ {result['ms'] / floor:.0f})"
    )


if __name__ == "__main__":
    main()
