"""The router tree runs every check in the event loop: aiogram would await a synchronous filter
(a magic filter such as `F.text`) in a worker thread, a thread's hand-off for each check of each
handler an update is tried against. A button press goes only to the routers that can take it
(handlers/buttons.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from handlers import build_root_router, run_in_loop
from handlers.buttons import ButtonIndex


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


class Ask(CallbackData, prefix="ask"):
    n: int


class Vote(CallbackData, prefix="vote"):
    n: int


def press(update_id: int, data: str | None) -> Update:
    person = User(id=5, is_bot=False, first_name="Ann")
    return Update(
        update_id=update_id,
        callback_query=CallbackQuery(
            id=str(update_id), from_user=person, chat_instance="c", data=data
        ),
    )


async def test_a_press_goes_only_to_the_routers_that_can_take_it_and_in_their_order() -> None:
    """Children without a handler for the data's prefix are not tried; one that takes any data is
    tried where it stands; the first that takes the press answers, as without the index."""
    answered: list[str] = []
    tried: list[str] = []
    parent = ButtonIndex(name="parent")
    asks, anything, votes = Router(name="asks"), Router(name="anything"), Router(name="votes")

    @asks.callback_query(Ask.filter())
    async def ask(_query: CallbackQuery) -> None:
        answered.append("ask")

    @anything.callback_query(lambda query: query.data == "free")
    async def free(_query: CallbackQuery) -> None:
        answered.append("free")

    @votes.callback_query(Vote.filter())
    async def vote(_query: CallbackQuery) -> None:
        answered.append("vote")

    @votes.callback_query(Ask.filter(F.n == 9))  # also an ask, but after `asks`
    async def ask_nine(_query: CallbackQuery) -> None:
        answered.append("ask in votes")

    parent.include_routers(asks, anything, votes)
    parent.index()
    for child in (asks, anything, votes):
        original = child.propagate_event

        async def counted(
            *args: Any, _child: Router = child, _original: Any = original, **kw: Any
        ) -> Any:
            tried.append(_child.name)
            return await _original(*args, **kw)

        child.propagate_event = counted  # type: ignore[method-assign]
    dp = Dispatcher()
    dp.include_router(parent)
    bot = Bot("42:TEST")
    for n, data in enumerate(["vote:1", "ask:9", "free", "nope:1", None]):
        await dp.feed_update(bot, press(n, data))
    await bot.session.close()

    assert answered == ["vote", "ask", "free"]
    assert tried == [
        *("anything", "votes"),  # vote:1 — `asks` skipped
        "asks",  # ask:9 — `asks` takes it first
        *("anything",),  # free
        *("anything",),  # nope:1 — nobody's prefix: only the one that takes any data
        *("anything",),  # no data at all
    ]


def test_the_private_and_group_parents_index_every_child() -> None:
    root = build_root_router()
    parents = [r for r in root.sub_routers if isinstance(r, ButtonIndex)]
    assert [p.name for p in parents] == ["private", "groups"]
    private = parents[0]
    assert [c.name for c in private.takers("wz:0:1")] == ["wizard"]
    assert private.takers("garbage") == []  # the root's fallback answers a stale or forged press
