"""Environmental campaigns in the private chat: /campaign (a short conversation: scope, title,
text, photo, end date, schedule with a preview of its next runs), /campaigns (pause, resume,
end, summary), and /subscribe · /unsubscribe for residents who want the reminders privately."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.campaigns import (
    MAX_TEXT,
    MAX_TITLE,
    CampaignStatus,
    ScheduleError,
    checked,
    parse_until,
)
from bot.domain.errors import DomainError, NotAllowed, Refused
from bot.domain.inputs import Id
from bot.domain.people import Actor
from bot.services import campaigns
from bot.services.campaigns import CampaignAction, CampaignCb, Plan
from bot.services.desk import Desk
from handlers.common import private_state, refuse_button
from storage.campaigns import SubscriptionRepo

LENGTHS = (7, 30, 90)  # days offered as buttons for the end of a campaign


class Campaigns(StatesGroup):
    plan = State()


class PlanAction(StrEnum):
    SCOPE = "u"  # arg: unit id
    SKIP_PHOTO = "p"
    DAYS = "d"  # arg: days from now
    CREATE = "y"
    CANCEL = "x"


class PlanCb(CallbackData, prefix="cq"):
    action: PlanAction
    arg: Id = 0


class Step(StrEnum):
    SCOPE = "scope"
    TITLE = "title"
    TEXT = "text"
    PHOTO = "photo"
    END = "end"
    SCHEDULE = "schedule"
    CONFIRM = "confirm"


def _step(plan: Plan) -> Step:
    if not plan.scope_id:
        return Step.SCOPE
    if not plan.title:
        return Step.TITLE
    if not plan.text:
        return Step.TEXT
    if plan.photo is None and not plan.photo_asked:
        return Step.PHOTO
    if plan.ends_at is None:
        return Step.END
    if not plan.schedule:
        return Step.SCHEDULE
    return Step.CONFIRM


def _load(data: dict[str, Any]) -> Plan | None:
    raw = data.get("campaign")
    if not isinstance(raw, dict):
        return None
    ends = raw.get("ends_at")
    return Plan(**{**raw, "ends_at": datetime.fromisoformat(ends) if ends else None})


async def _save(state: FSMContext, plan: Plan, names: dict[str, str]) -> None:
    raw = asdict(plan)
    raw["ends_at"] = plan.ends_at.isoformat() if plan.ends_at else None
    await state.set_state(Campaigns.plan)
    await state.set_data({"campaign": raw, "names": names})


def _markup(rows: list[tuple[str, CallbackData]], columns: int = 2) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in [*rows, (_("✖ Cancel"), PlanCb(action=PlanAction.CANCEL))]:
        builder.button(text=text, callback_data=data)
    builder.adjust(columns)
    return builder.as_markup()


async def _ask(desk: Desk, actor: Actor, plan: Plan, names: dict[str, str], lead: str = "") -> None:
    step = _step(plan)
    rows: list[tuple[str, CallbackData]] = []
    if step is Step.SCOPE:
        text = _("For which area is the campaign? It reaches every compound below it.")
        rows = [
            (name, PlanCb(action=PlanAction.SCOPE, arg=int(uid))) for uid, name in names.items()
        ]
    elif step is Step.TITLE:
        text = _("The campaign's title (for example: 清脏治乱 · 冬季环境整治)")
    elif step is Step.TEXT:
        text = _("The reminder's text, as residents will read it in their group.")
    elif step is Step.PHOTO:
        text = _("A photo to go with it? Send it now, or tap Skip.")
        rows = [(_("Skip the photo"), PlanCb(action=PlanAction.SKIP_PHOTO))]
    elif step is Step.END:
        text = _("Until when? Tap a length, or write the last day (for example 2026-12-31).")
        rows = [(_("{n} days").format(n=n), PlanCb(action=PlanAction.DAYS, arg=n)) for n in LENGTHS]
    elif step is Step.SCHEDULE:
        text = _(
            "When should the reminder go out? For example: 每周六 09:00, 每天 08:00, every "
            "Saturday 09:00, fixed dates (2026-12-05 09:00; 2026-12-19 09:00) or cron (0 9 * * 6)."
        )
    else:
        assert plan.ends_at is not None
        schedule = checked(plan.schedule, desk.config.bot.zone, desk.now, plan.ends_at)
        assert not isinstance(schedule, ScheduleError)
        runs = schedule.runs(desk.now, plan.ends_at, 3)
        text = "\n".join(
            [
                _("<b>New campaign</b>"),
                _("Area: {scope}").format(scope=html.quote(names.get(str(plan.scope_id), "—"))),
                _("Title: {title}").format(title=html.quote(plan.title)),
                _("Text: {text}").format(text=html.quote(plan.text)),
                _("Photo: {photo}").format(photo=_("yes") if plan.photo else _("no")),
                _("Until: {day}").format(day=desk.local(plan.ends_at, "%Y-%m-%d")),
                _("Schedule: {schedule}").format(schedule=html.quote(plan.schedule)),
                _("Next runs: {runs}").format(runs=", ".join(desk.local(r) for r in runs)),
            ]
        )
        rows = [(_("✅ Start the campaign"), PlanCb(action=PlanAction.CREATE))]
    await desk.outbox.send(actor.id, (lead + "\n\n" if lead else "") + text, markup=_markup(rows))


async def cmd_campaign(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
    scopes = await campaigns.running_scopes(desk, actor)
    if not scopes:
        await desk.outbox.send(
            message.chat.id,
            _("Campaigns are started by community staff or above, for their own area."),
        )
        return
    names = {str(u.id): u.display_name(actor.locale) for u in scopes[:30]}
    plan = Plan(scope_id=scopes[0].id if len(scopes) == 1 else 0)
    await _save(state, plan, names)
    await _ask(desk, actor, plan, names)


def _end_of(day: datetime) -> datetime:
    return day.replace(hour=23, minute=59, second=0, microsecond=0)


async def on_plan_text(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
    data = await state.get_data()
    plan, names = _load(data), dict(data.get("names") or {})
    if plan is None:
        await state.clear()
        return
    text = (message.text or "").strip()
    step = _step(plan)
    if not text:
        await desk.outbox.send(message.chat.id, _("Please write it in a few words."))
        return
    if step is Step.TITLE:
        plan = replace(plan, title=" ".join(text.split())[:MAX_TITLE])
    elif step is Step.TEXT:
        plan = replace(plan, text=text[:MAX_TEXT])
    elif step is Step.END:
        zone = desk.config.bot.zone
        today = desk.now.astimezone(zone).date()
        future = parse_until(text, today)
        if future is None:
            await desk.outbox.send(
                message.chat.id, _("Please write a day from today on, like 2026-12-31.")
            )
            return
        plan = replace(plan, ends_at=_end_of(datetime.combine(future, datetime.min.time(), zone)))
    elif step is Step.SCHEDULE and plan.ends_at is not None:
        schedule = checked(text, desk.config.bot.zone, desk.now, plan.ends_at)
        if isinstance(schedule, ScheduleError):
            await desk.outbox.send(
                message.chat.id, campaigns.schedule_error_text(schedule, actor.locale)
            )
            return
        plan = replace(plan, schedule=" ".join(text.split()))
    else:
        await _ask(desk, actor, plan, names, _("Please use the buttons below."))
        return
    await _save(state, plan, names)
    await _ask(desk, actor, plan, names)


async def on_plan_photo(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
    data = await state.get_data()
    plan, names = _load(data), dict(data.get("names") or {})
    if plan is None or not message.photo or _step(plan) is not Step.PHOTO:
        await desk.outbox.send(
            message.chat.id, _("Please answer with text or the buttons, or /cancel.")
        )
        return
    plan = replace(plan, photo=message.photo[-1].file_id, photo_asked=True)
    await _save(state, plan, names)
    await _ask(desk, actor, plan, names, _("Photo added."))


async def on_plan_button(
    callback: CallbackQuery,
    callback_data: PlanCb,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    state = private_state(state, actor.id)
    data = await state.get_data() if await state.get_state() == Campaigns.plan.state else {}
    plan, names = _load(data), dict(data.get("names") or {})
    if plan is None:
        await refuse_button(
            desk.outbox, callback, _("This plan is no longer open. Send /campaign to start again.")
        )
        return
    await desk.outbox.answer_callback(actor.id, callback.id)
    action, arg = callback_data.action, callback_data.arg
    step = _step(plan)
    if action is PlanAction.CANCEL:
        await state.clear()
        await desk.outbox.send(actor.id, _("Cancelled. Nothing was saved."))
        return
    if action is PlanAction.SCOPE and step is Step.SCOPE and str(arg) in names:
        plan = replace(plan, scope_id=arg)
    elif action is PlanAction.SKIP_PHOTO and step is Step.PHOTO:
        plan = replace(plan, photo_asked=True)
    elif action is PlanAction.DAYS and step is Step.END and arg in LENGTHS:
        plan = replace(
            plan, ends_at=_end_of(desk.now.astimezone(desk.config.bot.zone) + timedelta(days=arg))
        )
    elif action is PlanAction.CREATE and step is Step.CONFIRM:
        await state.clear()
        try:
            campaign, runs = await campaigns.create(desk, actor, plan)
        except DomainError as error:
            await desk.outbox.send(actor.id, _why(error, actor.locale))
            return
        await desk.outbox.send(
            actor.id,
            _(
                "✅ Campaign “{title}” started. First reminder: {first}. /campaigns to manage it."
            ).format(title=html.quote(campaign.title), first=desk.local(runs[0]) if runs else "—"),
        )
        return
    else:
        await _ask(desk, actor, plan, names)
        return
    await _save(state, plan, names)
    await _ask(desk, actor, plan, names)


def _why(error: DomainError, locale: str) -> str:
    if isinstance(error, Refused) and error.reason in set(ScheduleError):
        return campaigns.schedule_error_text(ScheduleError(error.reason), locale)
    if isinstance(error, Refused):
        return _("That campaign cannot do that now (it may have ended already).")
    if isinstance(error, NotAllowed):
        return _("Campaigns are started by community staff or above, for their own area.")
    return _("I cannot find that campaign any more.")


# --- managing -----------------------------------------------------------------------------------


async def cmd_campaigns(message: Message, actor: Actor, desk: Desk) -> None:
    found = await campaigns.campaigns_of(desk, actor)
    if not found and not await campaigns.running_scopes(desk, actor):
        await desk.outbox.send(
            message.chat.id,
            _("Campaigns are started by community staff or above, for their own area."),
        )
        return
    lines = [_("<b>Campaigns</b>")]
    builder = InlineKeyboardBuilder()
    for campaign in found:
        lines.append(
            _("• {title} — {status}, until {day}; {schedule}").format(
                title=html.quote(campaign.title),
                status=campaigns.status_name(campaign.status, actor.locale),
                day=desk.local(campaign.ends_at, "%Y-%m-%d"),
                schedule=html.quote(campaign.schedule),
            )
        )
        short = campaign.title[:12]
        if campaign.status is CampaignStatus.ACTIVE:
            builder.button(
                text=_("⏸ Pause") + f" · {short}",
                callback_data=CampaignCb(action=CampaignAction.PAUSE, id=campaign.id),
            )
        if campaign.status is CampaignStatus.PAUSED:
            builder.button(
                text=_("▶ Resume") + f" · {short}",
                callback_data=CampaignCb(action=CampaignAction.RESUME, id=campaign.id),
            )
        if campaign.status is not CampaignStatus.ENDED:
            builder.button(
                text=_("⏹ End") + f" · {short}",
                callback_data=CampaignCb(action=CampaignAction.END, id=campaign.id),
            )
        builder.button(
            text=_("📊 Summary") + f" · {short}",
            callback_data=CampaignCb(action=CampaignAction.SUMMARY, id=campaign.id),
        )
    if not found:
        lines.append(_("None yet. /campaign starts one."))
    builder.adjust(2)
    await desk.outbox.send(message.chat.id, "\n".join(lines), markup=builder.as_markup())


async def on_campaign_button(
    callback: CallbackQuery, callback_data: CampaignCb, actor: Actor, desk: Desk
) -> None:
    try:
        campaign = await campaigns.change(desk, actor, callback_data.id, callback_data.action)
    except DomainError as error:
        await refuse_button(desk.outbox, callback, _why(error, actor.locale))
        return
    done = _("{title}: {status}").format(
        title=campaign.title, status=campaigns.status_name(campaign.status, actor.locale)
    )
    await desk.outbox.answer_callback(actor.id, callback.id, done)


async def cmd_subscribe(message: Message, actor: Actor, desk: Desk) -> None:
    if actor.user.compound_id is None:
        await desk.outbox.send(message.chat.id, _("First, please tell me where you live. /profile"))
        return
    await SubscriptionRepo(desk.session).subscribe(actor.id, desk.now)
    await desk.outbox.send(
        message.chat.id,
        _("You will get campaign reminders for your compound here too. /unsubscribe stops them."),
    )


async def cmd_unsubscribe(message: Message, actor: Actor, desk: Desk) -> None:
    await SubscriptionRepo(desk.session).unsubscribe(actor.id)
    await desk.outbox.send(message.chat.id, _("No more campaign reminders here."))


def build_router() -> Router:
    router = Router(name="campaigns")
    private = F.chat.type == "private"
    router.message.register(cmd_campaign, private, Command("campaign"))
    router.message.register(cmd_campaigns, private, Command("campaigns"))
    router.message.register(cmd_subscribe, private, Command("subscribe"))
    router.message.register(cmd_unsubscribe, private, Command("unsubscribe"))
    router.callback_query.register(on_plan_button, PlanCb.filter())
    router.callback_query.register(on_campaign_button, CampaignCb.filter())
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_plan_text, private, Campaigns.plan, text)
    router.message.register(on_plan_photo, private, Campaigns.plan, ~F.text)
    return router
