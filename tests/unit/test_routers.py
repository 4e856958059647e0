"""The router tree runs every check in the event loop: aiogram would await a synchronous filter
(a magic filter such as `F.text`) in a worker thread, a thread's hand-off for each check of each
handler an update is tried against."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Chat, Message, Update, User

from handlers import build_root_router, run_in_loop


def every_check(router: Router) -> list[Any]:
    return [
        check
        for sub in router.chain_tail
        for observer in sub.observers.values()
        for handler in (observer._handler, *observer.handlers)
        for check in (handler, *(handler.filters or ()))
    ]


def test_every_filter_and_handler_of_the_tree_is_awaited_in_the_loop() -> None:
    checks = every_check(build_root_router())
    assert len(checks) > 500  # the whole tree: its handlers and their filters
    assert all(check.awaitable for check in checks)


def message(update_id: int, text: str | None) -> Update:
    person = User(id=5, is_bot=False, first_name="Ann")
    return Update(
        update_id=update_id,
        message=Message(
            message_id=update_id,
            date=datetime(2026, 12, 1, tzinfo=UTC),
            chat=Chat(id=5, type="private"),
            from_user=person,
            text=text,
        ),
    )


async def test_a_magic_filter_run_in_the_loop_still_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same answers as aiogram's own way, and no worker thread asked for."""
    seen: list[str] = []
    router = Router()
    router.message.filter(F.chat.type == "private")

    @router.message(F.text.startswith("/"))
    async def command(event: Message) -> None:
        seen.append(f"command {event.text}")

    @router.message(lambda event: event.text is None)
    async def other(event: Message) -> None:
        seen.append("no text")

    for check in every_check(router):
        run_in_loop(check)
    dp = Dispatcher()
    dp.include_router(router)

    async def no_thread(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a check went to a worker thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    bot = Bot("42:TEST")
    for n, text in enumerate(["/help", "hello", None]):
        await dp.feed_update(bot, message(n, text))
    await bot.session.close()
    assert seen == ["command /help", "no text"]
