"""Per-update middlewares, for every update: who is acting, with their roles and language, the
desk (bot.services.desk) — the update's transaction and outbox, the time, the config, the
lost-and-found index and the bot's username — that every handler may take as `desk`, and the one
place where a refusal (a DomainError) is undone and answered."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.people import Actor
from bot.i18n import resolve_locale
from bot.services.desk import Desk
from handlers.refusals import answer_refusal
from storage.db import Session
from storage.fsm import held_undone_on_error
from storage.users import StaffRepo, UserRepo

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

log = logging.getLogger(__name__)


class ActorMiddleware(BaseMiddleware):
    def __init__(self, *, admins: frozenset[int], default_language: str, clock: Clock) -> None:
        self.admins = admins
        self.default_language = default_language
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        session: Session = data["session"]
        data["actor"] = None
        if tg_user is not None and not tg_user.is_bot:
            user = await UserRepo(session).seen(
                tg_user.id,
                tg_user.first_name[:128],
                tg_user.username,
                self.clock.now(),
                tg_user.language_code,
            )
            memberships, is_contact = await StaffRepo(session).roles(tg_user.id)
            data["actor"] = Actor(
                user=user,
                memberships=tuple(memberships),
                is_admin=tg_user.id in self.admins,
                locale=resolve_locale(user.language, tg_user.language_code, self.default_language),
                is_contact=is_contact,
            )
        elif not _may_come_from_no_person(event):
            return None  # a bot's button press or private message: nobody to answer or check
        return await handler(event, data)


def _may_come_from_no_person(event: TelegramObject) -> bool:
    """Group messages may come from the group itself (an anonymous admin) or a channel, and a
    group's service messages from nobody; those go on (handlers that need a person refuse)."""
    if not isinstance(event, Update):
        return False
    if event.my_chat_member is not None:
        return True
    return event.message is not None and event.message.chat.type in ("group", "supergroup")


class DeskMiddleware(BaseMiddleware):
    """Hands every handler one `desk`, built from the update's session and outbox (those the inbox
    opened for it: the outbox's rows name the update as their cause) and the dispatcher's
    config, clock, matcher and bot username."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        clock: Clock = data["clock"]
        data["desk"] = Desk(
            session=data["session"],
            outbox=data["outbox"],
            now=clock.now(),
            config=data["config"],
            matcher=data["matcher"],
            bot_username=data["bot_username"],
        )
        return await handler(event, data)


class RefusalMiddleware(BaseMiddleware):
    """Runs the handler inside a SAVEPOINT of the update's transaction. When it refuses (raises a
    DomainError), everything it wrote — database rows, outbox rows, conversation state — is
    undone, and the refusal is answered once, in the user's language (handlers.refusals): a
    button with an alert, a message with a text in its chat. The outer transaction goes on, so
    the inbox still marks the update done. (Two statements more per update: SAVEPOINT, RELEASE.)
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        session: Session = data["session"]
        try:
            with held_undone_on_error():
                async with session.begin_nested():
                    return await handler(event, data)
        except DomainError as error:
            log.info("refused: %r", error)
            if error.ends_conversation:
                state = data.get("state")
                if isinstance(state, FSMContext):
                    await state.clear()
            i18n: I18n = data["i18n"]
            actor = data.get("actor")
            locale = actor.locale if isinstance(actor, Actor) else i18n.default_locale
            with i18n.context(), i18n.use_locale(locale):
                await answer_refusal(event, error, data["desk"])
            return None
