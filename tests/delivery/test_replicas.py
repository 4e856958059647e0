"""Several processes on one PostgreSQL database, in one test process: each `Database` here has a
pool of its own, as a replica would.

Two inboxes take the updates of interleaved chats as a load balancer would spread them: each
update is handled once and each chat's updates in order. One replica leads at a time; a standby
takes the lead when the leader's connection ends, and a message written anywhere wakes the leader.
Scheduled jobs run only in the leader.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bot.clock import SystemClock
from bot.delivery.inbox import Inbox
from bot.jobs import led
from storage.db import Database
from storage.inbox import InboxRepo
from storage.leader import Leadership
from storage.outbox import OutboxRepo
from tests.dbs import database_url, on_postgres
from tests.delivery.test_inbox import RefusingSession

postgres_only = pytest.mark.skipif(
    not on_postgres(), reason="several processes share PostgreSQL, never one SQLite file"
)


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    url = database_url(tmp_path, "replicas")
    first, second = Database(url), Database(url)
    await first.migrate()
    yield first, second
    await first.close()
    await second.close()


def message(update_id: int, chat_id: int, number: int) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": number,
                "date": 1700000000,
                "text": f"message {number}",
                "chat": {"id": chat_id, "type": "private", "first_name": "A"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
            },
        }
    )


def replica_inbox(db: Database, seen: list[tuple[str, int, int]], name: str) -> Inbox:
    dp = Dispatcher()

    async def record(message: Message) -> None:
        await asyncio.sleep(random.uniform(0, 0.004))  # handlers take time; others interleave
        seen.append((name, message.chat.id, message.message_id))

    dp.message.register(record)

    async def never(*_: Any) -> None:
        raise AssertionError("no update should fail")

    bot = Bot("42:TEST", session=RefusingSession())
    return Inbox(db, dp, bot, SystemClock(), workers=8, on_handled=lambda: None, on_failure=never)


@postgres_only
async def test_two_replicas_handle_each_update_once_and_each_chat_in_order(
    two: tuple[Database, Database],
) -> None:
    seen: list[tuple[str, int, int]] = []
    inboxes = [replica_inbox(two[0], seen, "a"), replica_inbox(two[1], seen, "b")]
    chats, per_chat = 12, 25
    rng = random.Random(7)
    update_ids = iter(range(1, chats * per_chat + 1))
    plan = [(c, n, next(update_ids)) for n in range(per_chat) for c in range(1, chats + 1)]

    async def chat_arrives(chat_id: int) -> None:
        # Telegram delivers one chat's updates one after another, to whichever replica
        # the load balancer picks.
        for c, number, update_id in plan:
            if c == chat_id:
                await rng.choice(inboxes).store([message(update_id, chat_id, number)])
                await asyncio.sleep(rng.uniform(0, 0.003))

    stop = asyncio.Event()
    runners = [asyncio.create_task(inbox.run(stop)) for inbox in inboxes]
    await asyncio.gather(*(chat_arrives(c) for c in range(1, chats + 1)))
    for _ in range(400):
        async with two[0].read() as s:
            if not await InboxRepo(s).pending_keys(1):
                break
        await asyncio.sleep(0.05)
    for inbox in inboxes:
        assert await inbox.drain(10)
    stop.set()
    await asyncio.gather(*runners)

    assert len(seen) == chats * per_chat, "an update was handled twice or not at all"
    order: dict[int, list[int]] = defaultdict(list)
    for _, chat_id, number in seen:
        order[chat_id].append(number)
    assert all(numbers == list(range(per_chat)) for numbers in order.values()), order
    by = {name: sum(1 for n, _, _ in seen if n == name) for name in ("a", "b")}
    assert by["a"] > 0 and by["b"] > 0, by  # both replicas did work
    async with two[0].read() as s:
        assert await InboxRepo(s).counts() == {"done": chats * per_chat}


@postgres_only
async def test_one_leader_at_a_time_a_standby_takes_over_and_notices_wake_it(
    two: tuple[Database, Database],
) -> None:
    first, second = Leadership(two[0], retry=0.1), Leadership(two[1], retry=0.1)
    woken: list[str] = []
    first.on_notice = lambda: woken.append("first")
    second.on_notice = lambda: woken.append("second")
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(first.run(stops[0]))]
    await asyncio.wait_for(first.leading.wait(), 5)
    tasks.append(asyncio.create_task(second.run(stops[1])))
    await asyncio.sleep(0.5)  # several tries
    assert first.is_leader and not second.is_leader

    async with two[1].session() as s:  # a standby replica writes a reply
        await OutboxRepo(s).add(1, "sendMessage", "{}", 0, datetime.now(UTC))
    for _ in range(50):
        if woken:
            break
        await asyncio.sleep(0.05)
    assert woken == ["first"]  # the leader's sender is woken, only the leader's

    stops[0].set()  # the leader goes away (its connection closes, as a killed one's does)
    await tasks[0]
    assert not first.is_leader
    await asyncio.wait_for(second.leading.wait(), 5)
    jobs: list[str] = []

    async def job(name: str) -> None:
        jobs.append(name)

    await led(job, lambda: first.is_leader)("first")
    await led(job, lambda: second.is_leader)("second")
    assert jobs == ["second"]  # a sweep runs in the leader only
    stops[1].set()
    await tasks[1]


async def test_with_sqlite_the_one_process_always_leads(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    leadership = Leadership(db)
    assert leadership.is_leader
    stop = asyncio.Event()
    stop.set()
    await leadership.run(stop)
    await db.close()
