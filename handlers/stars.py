"""五星小区 in the private chat: `/stars [YYYY-MM]` — the board of the staff member's scope for a
month (the latest evaluated by default), and a compound's card behind each button."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.people import Actor
from bot.domain.stars import parse_month
from bot.services import stars
from bot.services.desk import Desk
from bot.ui import stars as ui
from bot.ui.stars import StarsAction, StarsCb


async def cmd_stars(message: Message, command: CommandObject, actor: Actor, desk: Desk) -> None:
    args = (command.args or "").strip()
    month = parse_month(args) if args else None
    if args and month is None:
        await desk.outbox.send(
            actor.id, _("Please give the month like 2026-11, or nothing for the latest.")
        )
        return
    board = await stars.board(desk, actor, None, month)
    await desk.outbox.send(
        actor.id,
        ui.board_text(board, actor.locale),
        markup=ui.board_keyboard(board, actor.locale),
    )


async def on_button(
    callback: CallbackQuery, callback_data: StarsCb, actor: Actor, desk: Desk
) -> None:
    month = parse_month(f"{callback_data.month // 100}-{callback_data.month % 100:02d}")
    await desk.outbox.answer_callback(actor.id, callback.id)
    if month is None:
        board = await stars.board(desk, actor, None, None)
        await desk.outbox.send(actor.id, ui.board_text(board, actor.locale))
        return
    if callback_data.action is StarsAction.CARD:
        card = await stars.card(desk, actor, callback_data.id, month)
        scope = await stars.board(desk, actor, None, month)
        await desk.outbox.send(
            actor.id,
            ui.card_text(card, actor.locale),
            markup=ui.card_keyboard(card, scope.scope.id, actor.locale),
        )
        return
    board = await stars.board(desk, actor, callback_data.id, month)
    await desk.outbox.send(
        actor.id,
        ui.board_text(board, actor.locale),
        markup=ui.board_keyboard(board, actor.locale),
    )


def private_router() -> Router:
    router = Router(name="stars")
    router.message.register(cmd_stars, Command("stars"))
    router.callback_query.register(on_button, StarsCb.filter())
    return router
