"""The outbox sender with a fake Bot API: a broadcast is claimed before it is sent and never sent
again after a kill; a group that became a supergroup gets its (claimed) broadcast after all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramMigrateToChat
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import select

from bot.config import OutboxConfig
from bot.delivery.outbox import Outbox, Priority
from bot.delivery.sender import OutboxSender, Pacer
from storage.chats import ChatRepo
from storage.db import Database
from storage.outbox import OutboxRepo
from storage.tables import outbox
from tests.dbs import database_url
from tests.harness import FixedClock

T0 = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)


class FakeBot:
    """Answers like the Bot API: the first message to a migrated group is refused."""

    def __init__(self, migrated: dict[int, int]) -> None:
        self.migrated = migrated
        self.sent: list[int] = []

    async def __call__(self, method: TelegramMethod[Any]) -> Any:
        assert isinstance(method, SendMessage)
        chat_id = int(method.chat_id)
        if chat_id in self.migrated:
            raise TelegramMigrateToChat(
                method=method, message="group upgraded", migrate_to_chat_id=self.migrated[chat_id]
            )
        self.sent.append(chat_id)
        return True


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "out"))
    await database.migrate()
    yield database
    await database.close()


async def broadcast(db: Database, chat_id: int) -> int:
    async with db.session() as s:
        await ChatRepo(s).joined(chat_id, "group", "居民群", T0)
        return await Outbox(s, FixedClock(T0)).send(
            chat_id, "📢 清脏治乱", priority=Priority.BROADCAST
        )


async def status_of(db: Database, row_id: int) -> tuple[str, int]:
    async with db.read() as s:
        row = (
            await s.execute(select(outbox.c.status, outbox.c.chat_id).where(outbox.c.id == row_id))
        ).one()
        return row.status, row.chat_id


async def test_a_migrated_groups_broadcast_follows_it(db: Database) -> None:
    row = await broadcast(db, -5)
    bot = FakeBot({-5: -1005})
    sender = OutboxSender(db, bot, FixedClock(T0), OutboxConfig())  # type: ignore[arg-type]
    await sender.pass_once()
    assert await status_of(db, row) == ("pending", -1005)
    await sender.pass_once()
    assert await status_of(db, row) == ("sent", -1005)
    assert bot.sent == [-1005]


async def test_a_broadcast_claimed_by_a_killed_process_is_not_sent_again(db: Database) -> None:
    row = await broadcast(db, -6)
    async with db.session() as s:
        assert await OutboxRepo(s).claim(row)  # the dead process had claimed it, then died
        assert not await OutboxRepo(s).claim(row)
    bot = FakeBot({})
    sender = OutboxSender(db, bot, FixedClock(T0), OutboxConfig())  # type: ignore[arg-type]
    await sender.pass_once()
    assert bot.sent == []  # not picked up: it may already be in the group
    async with db.session() as s:
        assert await OutboxRepo(s).interrupted(T0) == 1
        letters = await OutboxRepo(s).dead_letters()
    assert [d.id for d in letters] == [row] and "interrupted" in letters[0].error
    other = await broadcast(db, -7)
    await sender.pass_once()
    assert bot.sent == [-7] and (await status_of(db, other))[0] == "sent"


async def test_a_pass_sends_a_seconds_worth_and_a_burst_to_one_chat_keeps_moving(
    db: Database,
) -> None:
    """Twelve alerts to one secretary behind forty replies to others, at 20 a second overall: a
    pass sends at most 20 and the next reads what is due afresh, so the secretary's alerts leave
    one a pass, in order, and the replies do not hold them back for long passes."""
    clock = FixedClock(T0)
    async with db.session() as s:
        box = Outbox(s, clock)
        alerts = [await box.send(4201, f"卡片 {n}", priority=Priority.ALERT) for n in range(12)]
        for n in range(40):
            await box.send(5000 + n, f"回复 {n}", priority=Priority.REPLY)
    bot = FakeBot({})
    config = OutboxConfig(global_rate=20, private_chat_interval=0)
    sender = OutboxSender(db, bot, clock, config)  # type: ignore[arg-type]
    assert await sender.pass_once() == 0.0  # more to send at once
    assert len(bot.sent) == 20 and 4201 not in bot.sent  # the replies come first
    passes = 1
    while await sender.pass_once() == 0.0:
        passes += 1
    assert passes <= 15 and bot.sent.count(4201) == 12
    async with db.read() as s:
        sent = (await s.execute(select(outbox.c.id).where(outbox.c.status == "sent"))).all()
    assert {r.id for r in sent} >= set(alerts)


@pytest.mark.parametrize(
    ("rate", "burst"),
    [(25, 5), (29, 1), (30, 5), (1000, 50)],  # a local Bot API server or a benchmark: 1000
)
def test_the_overall_bucket_bursts_within_telegrams_30_or_a_twentieth_of_a_faster_rate(
    rate: float, burst: int
) -> None:
    """Below 30 a second, one second never carries more than 30; above it, a twentieth of a
    second's worth goes at once, so the messages do not leave one per turn of the event loop."""
    now = [100.0]
    pacer = Pacer(OutboxConfig(global_rate=rate), monotonic=lambda: now[0])
    sent = 0
    while pacer.global_wait() == 0:
        pacer.record(-1)
        sent += 1
    assert sent == burst
    now[0] += 1.0  # a second later: the bucket is full again, never fuller
    while pacer.global_wait() == 0:
        pacer.record(-1)
        sent += 1
    assert sent == 2 * burst
    if rate < 30:
        assert burst + rate <= 30  # what one second can carry: the burst, then the rate
