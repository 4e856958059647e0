"""The harness itself: updates go through the inbox as in production, replies come back from the
outbox, and what Telegram would refuse or a handler that raises fails the test loudly."""

from __future__ import annotations

import json

import pytest
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy import select

from bot.delivery import inbox as inbox_module
from bot.delivery.outbox import Outbox
from storage import tables
from tests.inproc.harness import (
    HandlerFailed,
    Harness,
    Person,
    TelegramWouldRefuse,
    refusals,
    tamper,
)

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
TOM = Person(3003, "Tom", "en-US")


async def test_an_update_is_handled_by_the_inbox_and_its_replies_marked_sent(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)

    replies = await chat.command("/help")

    assert "最后一米" in replies.text
    async with h.db.session() as s:
        status = (
            await s.execute(
                select(tables.inbox.c.status).where(tables.inbox.c.update_id == replies.update_id)
            )
        ).scalar_one()
        rows = (
            await s.execute(
                select(tables.outbox.c.status, tables.outbox.c.message_id).where(
                    tables.outbox.c.cause == replies.update_id
                )
            )
        ).all()
    assert status == "done"
    assert [(r.status, r.message_id) for r in rows] == [("sent", replies.last.message_id)]


async def test_ids_increase_and_a_chat_numbers_both_sides_in_one_sequence(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)

    first = await chat.command("/help")
    second = await chat.command("/whoami")

    assert second.update_id == first.update_id + 1
    assert first.last.message_id == 2  # the person's /help was message 1
    assert second.last.message_id == 4


async def test_a_newcomer_is_asked_in_their_language(h: Harness) -> None:
    tom = await h.newcomer(TOM)

    replies = await tom.command("/report")

    assert "where you live" in replies.text


async def test_a_handler_that_raises_fails_the_test_with_its_exception(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(message: Message) -> None:
        raise RuntimeError("a bug in a handler")

    h.dp.message.register(explode, Command("explode"))  # the dispatcher's own run first
    monkeypatch.setattr(inbox_module, "MAX_ATTEMPTS", 1)  # parked at once, not after retries
    chat = await h.resident(AUNT_LI)

    with pytest.raises(HandlerFailed, match="failed: RuntimeError") as failed:
        await chat.command("/explode")

    assert isinstance(failed.value.__cause__, RuntimeError)


async def test_what_telegram_would_refuse_fails_the_test(h: Harness) -> None:
    async def broken(message: Message, outbox: Outbox) -> None:
        await outbox.send(message.chat.id, "<b>unclosed")

    h.dp.message.register(broken, Command("broken"))
    chat = await h.resident(AUNT_LI)

    with pytest.raises(TelegramWouldRefuse, match="can't parse entities"):
        await chat.command("/broken")


def test_the_checks_of_an_outbox_row() -> None:
    assert refusals("sendMessage", {"chat_id": 1, "text": "好", "parse_mode": "HTML"}) == []
    too_long = {"chat_id": 1, "text": "长" * 4097}
    bad_button = {
        "chat_id": 1,
        "text": "x",
        "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "d" * 65}]]},
    }
    answer = {"callback_query_id": "q1", "text": "说" * 201, "show_alert": True}
    assert "over 4096" in refusals("sendMessage", too_long)[0]
    assert "BUTTON_DATA_INVALID" in refusals("sendMessage", bad_button)[0]
    assert "over 200" in refusals("answerCallbackQuery", answer)[0]
    assert json.dumps(refusals("sendMessage", {"chat_id": 1, "text": " "}))


def test_tamper_keeps_the_format() -> None:
    assert tamper("lq:c:2") == "lq:c:99"
    assert tamper("wz:1:lost:day:p:0", "-1") == "wz:1:lost:day:p:-1"
    assert tamper("plain") == "99"
