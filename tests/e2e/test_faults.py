"""Telegram misbehaving: 429 storms, 502s and a 30-second outage lose nothing and break no limit."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.tables import outbox
from tests.dbs import database_url
from tests.e2e.test_nothing_lost import HOMES, resident
from tests.harness import BotProcess, Person, Sandbox, drained

pytestmark = [pytest.mark.e2e, pytest.mark.serial]


async def test_429_storms_502s_and_an_outage_lose_nothing(
    sandbox: Sandbox, bot: BotProcess, tmp_path: Path
) -> None:
    await sandbox._post("/test/limits", {"enforce": True})
    await sandbox._post(
        "/test/faults", {"method": "sendMessage", "error_code": 429, "count": 25, "retry_after": 3}
    )
    await sandbox._post(
        "/test/faults", {"method": "editMessageText", "error_code": 502, "count": 15}
    )
    await sandbox._post(
        "/test/faults",
        {"method": "answerCallbackQuery", "error_code": 429, "count": 3, "retry_after": 1},
    )
    people = [Person(5000 + n, f"居民{n}", "zh-hans") for n in range(24)]

    async def outage() -> None:
        await asyncio.sleep(3)
        await sandbox._post("/test/outage", {"seconds": 30})

    await asyncio.gather(
        outage(), *(resident(sandbox, p, HOMES[n % len(HOMES)]) for n, p in enumerate(people))
    )
    db = Database(database_url(tmp_path))
    try:
        await drained(db)
        async with db.session() as s:
            rows = (
                await s.execute(
                    select(outbox.c.chat_id, outbox.c.method, outbox.c.payload, outbox.c.status)
                )
            ).all()
    finally:
        await db.close()
    stats = sandbox.state.stats
    assert stats.get("fault_429", 0) >= 25 and stats.get("fault_502", 0) >= 15
    assert stats.get("outage_refused", 0) > 0
    assert all(r.status == "sent" for r in rows), Counter(r.status for r in rows)
    received = Counter(
        (e["chat_id"], e["message"].get("html"))
        for e in sandbox.state.events
        if e["type"] == "send"
    )
    for r in rows:
        if r.method == "sendMessage":
            assert received[(r.chat_id, json.loads(r.payload)["text"])] >= 1
    # Measured by the sandbox: no chat got a message before its retry_after ended, and no
    # Telegram limit (1/s per private chat with short bursts, 20/min per group, 30/s) was broken.
    assert sandbox.state.violations == []
    assert stats.get("limit_429", 0) == 0


async def test_two_quick_messages_are_handled_in_order(sandbox: Sandbox, bot: BotProcess) -> None:
    person = Person(5100, "急性子", "zh-hans")
    await sandbox.say(person, "/start")
    prompt = await sandbox.expect(person.id, "请选择语言")
    # The tap that moves the conversation on and the answer typed right after it arrive together.
    await asyncio.gather(sandbox.tap(person, prompt, "中文"), asyncio.sleep(0))
    await sandbox.say(person, "左岸")
    await sandbox.expect(person.id, "您住在哪里")
    await sandbox.expect(person.id, "是下面这些小区吗")


async def test_a_second_signal_exits_at_once_and_loses_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    import signal

    from tests.harness import write_config

    bot = BotProcess(write_config(tmp_path, sandbox.port), sandbox)
    await bot.start()
    person = Person(5200, "张大爷", "zh-hans")
    await sandbox.say(person, "/start")
    assert bot.proc is not None
    bot.proc.send_signal(signal.SIGTERM)
    bot.proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(bot.proc.wait(), 5)
    await bot.start()
    await sandbox.expect(person.id, "请选择语言")  # handled now, or before the exit: never lost
    assert await sandbox.quiet(person.id, 1.5) == []  # and not twice
    assert await bot.stop() == 0
