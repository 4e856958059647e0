"""The Bot API session keeps each answer model it built, so a garbage collection does not make
aiogram build it again (about 4 ms a request)."""

from __future__ import annotations

import gc
import weakref

from aiogram import Bot
from aiogram.methods import GetMe, Response
from aiogram.types import User

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
