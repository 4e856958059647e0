"""The last router: whatever nobody else took gets a clear, polite answer and changes nothing."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.people import Actor
from bot.ui import menu
from handlers.common import refuse_button


async def on_unknown_command(message: Message, actor: Actor | None, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id, _("I don't know that command.") + "\n\n" + menu.help_text(actor)
    )


async def on_text(message: Message, actor: Actor | None, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id,
        _("I'm not sure what you mean. Here is what I can do:") + "\n\n" + menu.help_text(actor),
    )


async def on_other_content(message: Message, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id,
        _(
            "I can't use this kind of message here. Please use the commands or the "
            "buttons; /help lists them."
        ),
    )


async def on_unknown_group_command(message: Message, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id,
        _("I don't know that command. In groups I understand /report, /bind and /help."),
    )


async def on_stale_button(callback: CallbackQuery, outbox: Outbox) -> None:
    await refuse_button(outbox, callback)


def private_router() -> Router:
    router = Router(name="fallback")
    router.message.register(on_unknown_command, F.text.startswith("/"))
    router.message.register(on_text, F.text)
    router.message.register(on_other_content)
    return router


def group_router() -> Router:
    router = Router(name="fallback-groups")
    router.message.register(on_unknown_group_command, F.text.startswith("/"))
    return router


def buttons_router() -> Router:
    """Last of all: a button nobody took (from an older build, or forged)."""
    router = Router(name="fallback-buttons")
    router.callback_query.register(on_stale_button)
    return router
