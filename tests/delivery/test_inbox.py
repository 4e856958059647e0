"""The production Dispatcher fed through the inbox, with a bot whose session refuses every call.

A handler that raises rolls back everything it wrote, is retried, and after the last attempt is
parked as failed while the user is told, in their language, that it did not work.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.filters import Command
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Message, Update
from sqlalchemy import select

from bot.app import Application, build_dispatcher
from bot.clock import SystemClock
from bot.config import Config, DatabaseConfig
from bot.delivery.inbox import MAX_ATTEMPTS, POLL_GATHER
from bot.i18n import build_i18n
from storage.db import Database, Session
from storage.inbox import InboxRepo
from storage.tables import outbox, users
from tests.dbs import database_url, on_postgres


class RefusingSession(BaseSession):
    """Fails loudly on any Bot API call: handlers must only write outbox rows."""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        raise AssertionError(f"unexpected Bot API call {type(method).__name__}")

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise AssertionError("unexpected download")
        yield b""  # an async generator, as the method it overrides

    async def close(self) -> None:
        return None


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Application]:
    config = Config(database=DatabaseConfig(url=database_url(tmp_path, "x")))
    db = Database(config.database_url)
    await db.migrate()
    clock = SystemClock()
    i18n = build_i18n("zh")
    dp = build_dispatcher(config, db, clock, i18n)
    attempts: list[int] = []

    async def explode(message: Message, session: Session) -> None:
        await session.execute(users.update().values(first_name="changed"))
        attempts.append(message.message_id)
        raise RuntimeError("a bug in a handler")

    dp.message.register(explode, Command("explode"))  # the root's own handlers run first
    bot = Bot("42:TEST", session=RefusingSession())
    application = Application(config, clock, db, bot, dp, i18n)
    application.dp.workflow_data["attempts"] = attempts
    yield application
    await db.close()


def message_update(update_id: int, text: str, language: str) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1700000000,
                "text": text,
                "chat": {"id": 77, "type": "private", "first_name": "Ann"},
                "from": {"id": 77, "is_bot": False, "first_name": "Ann", "language_code": language},
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
            },
        }
    )


async def run_inbox(application: Application, *updates: Update) -> None:
    await application.inbox.store(list(updates))
    stop = asyncio.Event()
    runner = asyncio.create_task(application.inbox.run(stop))
    for _ in range(200):
        async with application.db.session() as s:
            if not await InboxRepo(s).pending_keys(1):
                break
        await asyncio.sleep(0.05)
    await application.inbox.drain(5)
    stop.set()
    await runner


async def test_a_failing_handler_rolls_back_and_is_parked(app: Application) -> None:
    await run_inbox(app, message_update(1, "/start", "en"))  # Ann exists, named "Ann"
    await run_inbox(app, message_update(2, "/explode", "en"), message_update(3, "/help", "en"))
    async with app.db.session() as s:
        name = (await s.execute(select(users.c.first_name).where(users.c.id == 77))).scalar_one()
        failed = await InboxRepo(s).failed()
        counts = await InboxRepo(s).counts()
        texts = [
            json.loads(p)["text"]
            for p in (
                await s.execute(select(outbox.c.payload).where(outbox.c.cause == 2))
            ).scalars()
        ]
        helped = (await s.execute(select(outbox.c.id).where(outbox.c.cause == 3))).first()
    assert name == "Ann"  # every attempt's write was rolled back
    assert app.dp.workflow_data["attempts"] == [2] * MAX_ATTEMPTS
    assert [f.update_id for f in failed] == [2] and "a bug in a handler" in failed[0].error
    assert counts == {"done": 2, "failed": 1}
    assert texts == [
        "Sorry, that did not work and nothing was changed. Please try again in a "
        "minute; if it keeps failing, tell your community office."
    ]
    assert helped is not None  # the next update of the same chat was not blocked


async def test_the_user_is_told_in_their_own_language(app: Application) -> None:
    await run_inbox(app, message_update(5, "/explode", "zh-hans"))
    async with app.db.session() as s:
        texts = [
            json.loads(p)["text"]
            for p in (
                await s.execute(select(outbox.c.payload).where(outbox.c.cause == 5))
            ).scalars()
        ]
    assert texts == [
        "抱歉，刚才的操作没有成功，也没有做任何更改。请稍后再试；如果一直不行，请联系社区。"
    ]


async def test_an_update_stored_twice_is_handled_once(app: Application) -> None:
    update = message_update(9, "/help", "en")
    await run_inbox(app, update)
    await run_inbox(app, update)  # Telegram resending after a crash before the offset moved
    async with app.db.session() as s:
        rows = (await s.execute(select(outbox.c.id).where(outbox.c.cause == 9))).all()
    assert len(rows) == 1


async def test_a_stored_update_that_no_longer_reads_is_parked_and_the_chat_goes_on(
    app: Application,
) -> None:
    from bot.clock import SystemClock

    async with app.db.session() as s:  # as if written by an older release
        await InboxRepo(s).store(
            [(8, "c77", '{"update_id": 8, "message": "not a message"}')], SystemClock().now()
        )
    await run_inbox(app, message_update(9, "/start", "en"))
    async with app.db.session() as s:
        failed = await InboxRepo(s).failed()
        answered = (await s.execute(select(outbox.c.id).where(outbox.c.cause == 9))).first()
    assert [f.update_id for f in failed] == [8] and "unreadable" in failed[0].error
    assert answered is not None  # the chat's next update was handled after it


async def test_an_update_of_a_type_aiogram_does_not_know_is_kept_parked_and_the_chat_goes_on(
    app: Application,
) -> None:
    strange = Update.model_validate({"update_id": 20, "future_update_kind": {"chat": {"id": 77}}})
    await run_inbox(app, strange, message_update(21, "/start", "en"))
    async with app.db.session() as s:
        failed = await InboxRepo(s).failed()
        counts = await InboxRepo(s).counts()
        answered = (await s.execute(select(outbox.c.id).where(outbox.c.cause == 21))).first()
    assert [(f.update_id, f.attempts) for f in failed] == [(20, 0)]
    assert "future_update_kind" in failed[0].error
    assert counts == {"failed": 1, "done": 1} and answered is not None


async def test_a_chat_drained_of_its_updates_ends_without_an_empty_write(app: Application) -> None:
    """Each update is one write transaction; a chat whose updates all came to this process ends
    without a write transaction of its own (which would hold SQLite's one write lock for
    nothing), nor a read: what is stored here is kept parsed until handled."""
    from storage.db import count_statements

    counts = count_statements(app.db)
    await app.inbox.store([message_update(21, "/help", "en"), message_update(22, "/help", "en")])
    await app.inbox.drain(5)
    assert counts["write_transactions"] >= 2  # the two updates
    if not on_postgres():  # SQLite: an empty write transaction holds the one write lock
        assert counts["empty_writes"] == 0, counts
        assert counts["read_statements"] == 0, counts
    async with app.db.read() as s:
        assert not await InboxRepo(s).pending_keys(1)


async def test_what_an_earlier_life_left_is_taken_up_with_nothing_new_from_its_chat(
    app: Application,
) -> None:
    """Updates stored, not handled, then the process killed: nothing here holds them parsed, and
    their chat says nothing more. The rescan takes the chat up and handles them all, in order."""
    from datetime import timedelta

    from bot.clock import SystemClock

    left = [message_update(n, "/help", "en") for n in (31, 32)]
    async with app.db.session() as s:
        await InboxRepo(s).store(
            [(u.update_id, "c77", u.model_dump_json(exclude_none=True)) for u in left],
            SystemClock().now() - timedelta(seconds=10),
        )
    await run_inbox(app)
    async with app.db.session() as s:
        causes = (await s.execute(select(outbox.c.cause).order_by(outbox.c.id))).scalars().all()
        counts = await InboxRepo(s).counts()
    assert causes == [31, 32] and counts == {"done": 2}


class UpdatesSession(RefusingSession):
    """Answers getUpdates with one update at each call, noting when each call came."""

    def __init__(self, stop: asyncio.Event, calls: int) -> None:
        super().__init__()
        self.stop, self.calls = stop, calls
        self.at: list[float] = []

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        assert isinstance(method, GetUpdates)
        self.at.append(asyncio.get_running_loop().time())
        if len(self.at) >= self.calls:
            self.stop.set()
        update_id = method.offset or 100
        return [message_update(update_id, "/help", "en")]


async def test_polling_waits_a_moment_after_a_batch_so_that_a_busy_bot_fetches_in_batches(
    app: Application,
) -> None:
    """After each batch, the next getUpdates waits POLL_GATHER (what comes meanwhile is fetched
    in one call, one commit); each batch is still stored and acknowledged before the next call,
    and a stop during the pause ends the polling at once."""
    stop = asyncio.Event()
    session = UpdatesSession(stop, calls=3)
    app.inbox.bot = Bot("42:TEST", session=session)
    await asyncio.wait_for(app.inbox.poll(stop, timeout=1, allowed_updates=["message"]), 5)
    await app.inbox.drain(5)
    gaps = [b - a for a, b in itertools.pairwise(session.at)]
    assert len(session.at) == 3 and min(gaps) >= POLL_GATHER * 0.9, gaps
    async with app.db.read() as s:
        counts = await InboxRepo(s).counts()
    assert counts == {"done": 3}  # 100, 101, 102: each offset acknowledged the one before
