"""The router tree runs every check in the event loop: aiogram would await a synchronous filter
(a magic filter such as `F.text`) in a worker thread, a thread's hand-off for each check of each
handler an update is tried against. A button press goes only to the routers that can take it
(handlers/index.py), and a message only to those whose commands it could be."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from handlers import build_root_router, run_in_loop
from handlers.index import Index


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


def noting_tries(*children: Router) -> list[str]:
    """The names of the children an update is propagated to, in order, from now on."""
    tried: list[str] = []
    for child in children:
        original = child.propagate_event

        async def counted(
            *args: Any, _child: Router = child, _original: Any = original, **kw: Any
        ) -> Any:
            tried.append(_child.name)
            return await _original(*args, **kw)

        child.propagate_event = counted  # type: ignore[method-assign]
    return tried


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
    parent = Index(name="parent")
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
    tried = noting_tries(asks, anything, votes)
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


async def test_a_message_skips_the_routers_of_commands_it_is_not() -> None:
    """A text that is no command skips the routers that only take commands; a command, or a
    caption that is one, goes through them in order; the parent's own filter still applies."""
    answered: list[str] = []
    parent = Index(name="parent")
    parent.message.filter(F.chat.type == "private")
    commands, texts = Router(name="commands"), Router(name="texts")

    @commands.message(Command("help"))
    async def help_(_message: Message) -> None:
        answered.append("help")

    @texts.message(F.text)
    async def text(message: Message) -> None:
        answered.append(f"text {message.text}")

    parent.include_routers(commands, texts)
    parent.index()
    tried = noting_tries(commands, texts)
    for check in every_check(parent):
        run_in_loop(check)
    dp = Dispatcher()
    dp.include_router(parent)
    bot = Bot("42:TEST")
    for n, said in enumerate(["楼道灯坏了", "  /help", "/other", None]):
        await dp.feed_update(bot, message(n, said))
    group = message(9, "/help")
    assert group.message is not None
    await dp.feed_update(
        bot,
        group.model_copy(
            update={"message": group.message.model_copy(update={"chat": Chat(id=-7, type="group")})}
        ),
    )
    await bot.session.close()

    assert answered == ["text 楼道灯坏了", "help", "text /other"]
    assert tried == [
        "texts",  # a text: `commands` skipped
        "commands",  # "  /help": aiogram reads past the blanks
        *("commands", "texts"),  # "/other": a command, but not one of theirs
        "texts",  # no text at all
    ]  # the group's message: refused by the parent's own filter, no child tried


def test_the_private_and_group_parents_index_every_child() -> None:
    root = build_root_router()
    parents = [r for r in root.sub_routers if isinstance(r, Index)]
    assert [p.name for p in parents] == ["private", "groups"]
    private = parents[0]
    press = CallbackQuery(
        id="1",
        from_user=User(id=5, is_bot=False, first_name="Ann"),
        chat_instance="c",
        data="wz:0:1",
    )
    assert [c.name for c in private.takers("callback_query", press)] == ["wizard"]
    forged = press.model_copy(update={"data": "garbage"})
    assert private.takers("callback_query", forged) == []  # the root's fallback answers it
    text = message(1, "楼道灯坏了").message
    assert text is not None
    skipped = {
        "invites",
        "households",
        "topics",
        "stars",
        "campaigns",
        "oversight",
        "profile",
        "admin",
    }
    taking = {c.name for c in private.takers("message", text)}
    assert taking.isdisjoint(skipped) and {"menu", "wizard", "fallback"} <= taking
