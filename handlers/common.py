"""Small rendering helpers shared by the feature routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TypeAlias

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.org import Unit
from bot.domain.people import Actor
from bot.services.desk import Desk
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers.callbacks import LanguageCb

LANGUAGE_PROMPT = "请选择语言 · Please choose your language"  # shown before a language is known


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="中文", callback_data=LanguageCb(code="zh"))
    builder.button(text="English", callback_data=LanguageCb(code="en"))
    return builder.as_markup()


def unit_keyboard(
    units: Sequence[Unit],
    locale: str,
    make: Callable[[Unit], CallbackData],
    *,
    back: CallbackData | None = None,
    columns: int = 2,
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for unit in units:
        builder.button(text=unit.display_name(locale), callback_data=make(unit))
    builder.adjust(columns)
    if back is not None:
        builder.row()
        builder.button(text=_("« Back"), callback_data=back)
    return builder.as_markup()


def chain_text(chain: Sequence[Unit], locale: str) -> str:
    """ "西湖左岸小区 · 西湖社区 · 北大街道": a unit and its ancestors, escaped."""
    return " · ".join(html.quote(unit.display_name(locale)) for unit in chain)


Opener: TypeAlias = Callable[[Actor, Desk, FSMContext], Awaitable[None]]


def command(opener: Opener) -> Callable[[Message, Actor, Desk, FSMContext], Awaitable[None]]:
    """A private chat's command that opens what a menu button opens (handlers/menu.py)."""

    async def on_command(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
        await opener(actor, desk, state)

    return on_command


def private_state(state: FSMContext, user_id: int) -> FSMContext:
    """The conversation in a person's private chat, even when they pressed a button in a group:
    text for a ticket (a reply, a reason) is always asked for privately."""
    return FSMContext(state.storage, replace(state.key, chat_id=user_id, thread_id=None))


async def close_card(callback: CallbackQuery, outbox: Outbox, result: str) -> None:
    """A decision card loses its buttons and says what was decided (and by whom)."""
    message = callback.message
    if isinstance(message, Message):
        await outbox.edit(
            message.chat.id, message.message_id, (message.html_text or "") + "\n\n" + result
        )


def pressed_on(callback: CallbackQuery) -> int:
    """The message a button was pressed on (0: one Telegram no longer shows the bot)."""
    return callback.message.message_id if isinstance(callback.message, Message) else 0


async def drop_buttons(outbox: Outbox, chat_id: int, message_id: object) -> None:
    """A message's buttons go once what they offered is done (a form submitted, a rating
    given): they would only be refused now. `message_id` may come from saved state."""
    if isinstance(message_id, int) and message_id > 0:
        await outbox.edit_markup(chat_id, message_id)


async def refuse_button(outbox: Outbox, callback: CallbackQuery, text: str | None = None) -> None:
    """A stale, forged or not-yours button: say so, change nothing."""
    await outbox.answer_callback(
        callback.from_user.id,
        callback.id,
        text or _("This button is no longer valid. Please start again from the menu."),
        alert=True,
    )


def not_a_place() -> str:
    """A location off the globe (only a forged update sends one)."""
    return _(
        "That location cannot be right. Please share your location again with the paperclip "
        "(📎) button → Location."
    )
