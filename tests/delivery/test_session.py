"""The Bot API session keeps each answer model it built, so a garbage collection does not make
aiogram build it again (about 4 ms a request); the sender's methods read only the message id of
Telegram's answer; an outbox row is posted as the JSON it is."""

from __future__ import annotations

import gc
import weakref

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import GetMe, Response
from aiogram.types import Chat, Message, MessageId, User

from bot.delivery.sender import METHODS
from bot.delivery.session import PinnedSession
from bot.sandbox.server import Fault
from tests.harness import TOKEN, open_sandbox

ANSWER = '{"ok": true, "result": {"id": 1, "is_bot": true, "first_name": "最后一米"}}'


async def test_an_answer_model_outlives_a_garbage_collection() -> None:
    session = PinnedSession()
    bot = Bot("42:TEST", session=session)
    response = session.check_response(bot, GetMe(), 200, ANSWER)
    assert response.result is not None and response.result.first_name == "最后一米"
    del response
    model = weakref.ref(Response[User])
    gc.collect()
    assert model() is not None  # with aiogram's own AiohttpSession this is None
    await session.close()


SENT = (
    '{"ok": true, "result": {"message_id": 77, "date": 1764000000,'
    ' "chat": {"id": 5, "type": "private", "first_name": "李阿姨"},'
    ' "from": {"id": 1, "is_bot": true, "first_name": "最后一米"}, "text": "好",'
    ' "reply_markup": {"inline_keyboard": [[{"text": "✅ 提交", "callback_data": "rp:ok"}]]}}}'
)


async def test_the_senders_methods_read_only_the_message_id_of_the_answer() -> None:
    """The outbox's sends and edits read Telegram's echo of the message as its id alone: no
    Message, Chat or keyboard model is built from it."""
    session = PinnedSession()
    bot = Bot("42:TEST", session=session)
    sent = session.check_response(bot, METHODS["sendMessage"](chat_id=5, text="好"), 200, SENT)
    edited = session.check_response(
        bot, METHODS["editMessageText"](chat_id=5, message_id=77, text="好"), 200, SENT
    )
    inline = session.check_response(
        bot,
        METHODS["editMessageReplyMarkup"](chat_id=5, message_id=77),
        200,
        '{"ok": true, "result": true}',
    )
    assert isinstance(sent.result, MessageId) and sent.result.message_id == 77
    assert not isinstance(sent.result, Message) and not isinstance(sent.result.chat, Chat)  # type: ignore[attr-defined]
    assert isinstance(edited.result, MessageId) and edited.result.message_id == 77
    assert inline.result is True
    await session.close()


async def test_an_outbox_row_is_posted_as_its_json_and_read_as_aiogram_reads_it() -> None:
    """The sandbox takes the JSON as Telegram would (the keyboard and all); a 429 and a 400 come
    back as aiogram's own errors, with the retry_after and the call they answer."""
    sandbox, runner = await open_sandbox()
    person = {"id": 5, "is_bot": False, "first_name": "李阿姨"}
    sandbox.state.chat_for(person, None)
    session = PinnedSession(api=TelegramAPIServer.from_base(sandbox.base))
    bot = Bot(TOKEN, session=session)
    keyboard = {"inline_keyboard": [[{"text": "✅ 提交", "callback_data": "wz:1:2"}]]}
    params = {"chat_id": 5, "text": "<b>好</b>", "parse_mode": "HTML", "reply_markup": keyboard}
    try:
        sent = await session.post_json(bot, METHODS["sendMessage"], params)
        assert isinstance(sent, MessageId)
        shown = sandbox.state.messages[5][sent.message_id]
        assert shown["text"] == "好" and shown["reply_markup"] == keyboard

        sandbox.state.faults.append(Fault("sendMessage", 429, count=1, retry_after=7))
        with pytest.raises(TelegramRetryAfter) as limited:
            await session.post_json(bot, METHODS["sendMessage"], params)
        assert limited.value.retry_after == 7
        assert limited.value.method.chat_id == 5  # type: ignore[attr-defined]
        with pytest.raises(TelegramBadRequest) as refused:
            await session.post_json(bot, METHODS["sendMessage"], {"chat_id": 5})  # no text
        assert refused.value.method.chat_id == 5  # type: ignore[attr-defined]
        again = await session.post_json(bot, METHODS["sendMessage"], params)  # after the errors
        assert again.message_id > sent.message_id
    finally:
        await session.close()
        await sandbox.http.close()
        await runner.cleanup()
