"""Oversight for staff in the private chat: /queue (open tickets by light, each a tap from its
card), /stats [period] (the three rates, a ranking, drill-down) and /export [period] (XLSX)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import NotAllowed, NotFound, Reason
from bot.domain.oversight import Queue, Stats
from bot.domain.people import Actor
from bot.domain.periods import Period, PeriodError, named, parse_period
from bot.services import dispatch, oversight
from bot.services.desk import Desk
from bot.ui import oversight as ui
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.oversight import OversightAction, OversightCb
from handlers.common import command as opens

PRESETS = ("week", "last_week", "month", "last_month", "year")


def preset_label(name: str) -> str:
    labels = {
        "week": _("This week"),
        "last_week": _("Last week"),
        "month": _("This month"),
        "last_month": _("Last month"),
        "year": _("This year"),
    }
    return labels[name]


def period_problem(error: PeriodError) -> str:
    problems = {
        PeriodError.UNREADABLE: _("I could not read that period."),
        PeriodError.BACKWARDS: _("That period ends before it starts."),
        PeriodError.FUTURE: _("That period has not started yet."),
        PeriodError.TOO_LONG: _("That period is longer than three years."),
    }
    examples = _(
        "this month · last month · this week · this year · 30 days · 2026-11 · "
        "2026-11-01 to 2026-11-20"
    )
    return problems[error] + "\n" + _("For example: {examples}").format(examples=examples)


def _period(desk: Desk, text: str | None) -> Period | PeriodError:
    today = desk.now.astimezone(desk.config.bot.zone).date()
    if not text or not text.strip():
        found = named("month", today)
        assert found is not None
        return found
    return parse_period(text, today)


# ---------------------------------------------------------------------------------------------
# /queue


def queue_keyboard(q: Queue, desk: Desk, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for t in q.tickets:
        builder.button(
            text=f"{ui.lamp(t, desk.now)} {t.number}",
            callback_data=OversightCb(action=OversightAction.CARD, id=t.id),
        )
    builder.adjust(2)
    nav = InlineKeyboardBuilder()
    if q.page > 0:
        nav.button(
            text=_("◀ Previous", locale=locale),
            callback_data=OversightCb(action=OversightAction.QUEUE, unit=q.scope.id, id=q.page - 1),
        )
    if q.page + 1 < q.pages:
        nav.button(
            text=_("Next ▶", locale=locale),
            callback_data=OversightCb(action=OversightAction.QUEUE, unit=q.scope.id, id=q.page + 1),
        )
    for other in q.scopes[:10] if len(q.scopes) > 1 else ():
        if other.id != q.scope.id:
            nav.button(
                text=other.display_name(locale),
                callback_data=OversightCb(action=OversightAction.QUEUE, unit=other.id),
            )
    builder.attach(nav)
    return builder.as_markup()


async def to_do(actor: Actor, desk: Desk, state: FSMContext) -> None:
    q = await oversight.queue(desk, actor, None, 0)
    await desk.outbox.send(
        actor.id,
        ui.queue_text(q, desk.now, desk.config.bot.zone, actor.locale),
        markup=queue_keyboard(q, desk, actor.locale),
    )


# ---------------------------------------------------------------------------------------------
# /stats


async def cmd_stats(message: Message, command: CommandObject, actor: Actor, desk: Desk) -> None:
    period = _period(desk, command.args)
    if isinstance(period, PeriodError):
        await desk.outbox.send(message.chat.id, period_problem(period))
        return
    await _send_stats(message.chat.id, actor, desk, None, period, None)


async def statistics(actor: Actor, desk: Desk, state: FSMContext) -> None:
    """The menu's button: this month, for the person's own unit."""
    period = _period(desk, None)
    assert not isinstance(period, PeriodError)
    await _send_stats(actor.id, actor, desk, None, period, None)


async def _send_stats(
    chat_id: int,
    actor: Actor,
    desk: Desk,
    unit_id: int | None,
    period: Period,
    edit: int | None,
) -> None:
    s = await oversight.stats(desk, actor, unit_id, period)
    text = ui.stats_text(s, actor.locale)
    markup = stats_buttons(s, desk, actor.locale)
    if edit is not None:
        await desk.outbox.edit(chat_id, edit, text, markup=markup)
    else:
        await desk.outbox.send(chat_id, text, markup=markup)


def stats_buttons(s: Stats, desk: Desk, locale: str) -> InlineKeyboardMarkup:
    today = desk.now.astimezone(desk.config.bot.zone).date()
    builder = InlineKeyboardBuilder()
    for name in PRESETS:
        found = named(name, today)
        if found is None:
            continue
        mark = "• " if found == s.period else ""
        builder.button(
            text=mark + preset_label(name),
            callback_data=OversightCb(
                action=OversightAction.STATS, unit=s.scope.id, period=found.code
            ),
        )
    builder.adjust(3)
    below = InlineKeyboardBuilder()
    for child, _card in s.children[:12]:
        below.button(
            text="🔎 " + child.display_name(locale),
            callback_data=OversightCb(
                action=OversightAction.STATS, unit=child.id, period=s.period.code
            ),
        )
    if s.parent_visible and s.scope.parent_id is not None:
        below.button(
            text=_("⬆️ One level up", locale=locale),
            callback_data=OversightCb(
                action=OversightAction.STATS, unit=s.scope.parent_id, period=s.period.code
            ),
        )
    below.button(
        text=_("📥 Export XLSX", locale=locale),
        callback_data=OversightCb(
            action=OversightAction.EXPORT, unit=s.scope.id, period=s.period.code
        ),
    )
    below.adjust(2)
    builder.attach(below)
    return builder.as_markup()


# ---------------------------------------------------------------------------------------------
# /export


async def cmd_export(message: Message, command: CommandObject, actor: Actor, desk: Desk) -> None:
    period = _period(desk, command.args)
    if isinstance(period, PeriodError):
        await desk.outbox.send(message.chat.id, period_problem(period))
        return
    scopes = await oversight.scopes(desk, actor)
    if not scopes:
        raise NotAllowed(Reason.NOT_STAFF)
    if len(scopes) > 1:
        builder = InlineKeyboardBuilder()
        for unit in scopes[:20]:
            builder.button(
                text=unit.display_name(actor.locale),
                callback_data=OversightCb(
                    action=OversightAction.EXPORT, unit=unit.id, period=period.code
                ),
            )
        builder.adjust(1)
        await desk.outbox.send(message.chat.id, _("Whose ledgers?"), markup=builder.as_markup())
        return
    await _export(message.chat.id, actor, desk, scopes[0].id, period)


async def _export(chat_id: int, actor: Actor, desk: Desk, unit_id: int, period: Period) -> None:
    await oversight.export(desk, actor, unit_id, period)


# ---------------------------------------------------------------------------------------------
# Buttons


async def on_button(
    callback: CallbackQuery, callback_data: OversightCb, actor: Actor, desk: Desk
) -> None:
    message = callback.message
    chat_id = actor.id
    edit = message.message_id if isinstance(message, Message) else None
    match callback_data.action:
        case OversightAction.QUEUE:
            q = await oversight.queue(desk, actor, callback_data.unit or None, callback_data.id)
            text = ui.queue_text(q, desk.now, desk.config.bot.zone, actor.locale)
            markup = queue_keyboard(q, desk, actor.locale)
            if edit is not None:
                await desk.outbox.edit(chat_id, edit, text, markup=markup)
            else:
                await desk.outbox.send(chat_id, text, markup=markup)
        case OversightAction.CARD:
            await dispatch.show_card(desk, actor, callback_data.id)
        case OversightAction.STATS | OversightAction.EXPORT:
            period = parse_period(
                callback_data.period, desk.now.astimezone(desk.config.bot.zone).date()
            )
            if isinstance(period, PeriodError):
                raise NotFound(Reason.GONE, callback_data.period)
            if callback_data.action is OversightAction.STATS:
                await _send_stats(chat_id, actor, desk, callback_data.unit, period, edit)
            else:
                await oversight.export(desk, actor, callback_data.unit, period)
    await desk.outbox.answer_callback(actor.id, callback.id)


def private_router() -> Router:
    router = Router(name="oversight")
    router.message.register(opens(to_do), Command("queue"))
    router.message.register(cmd_stats, Command("stats"))
    router.message.register(cmd_export, Command("export"))
    router.callback_query.register(on_button, OversightCb.filter())
    return router
