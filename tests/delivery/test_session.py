"""The Bot API session keeps each answer model it built, so a garbage collection does not make
aiogram build it again (about 4 ms a request); the sender's methods read only the message id of
Telegram's answer."""

from __future__ import annotations

import gc
import weakref

from aiogram import Bot
from aiogram.methods import GetMe, Response
from aiogram.types import Chat, Message, MessageId, User

from bot.delivery.sender import METHODS
from bot.delivery.session import PinnedSession

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
