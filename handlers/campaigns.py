"""Environmental campaigns in the private chat: /campaign (a short conversation: scope, title,
text, photo, end date, schedule with a preview of its next runs), /campaigns (pause, resume,
end, summary), and /subscribe · /unsubscribe for residents who want the reminders privately."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.campaigns import (
    MAX_TEXT,
    MAX_TITLE,
    CampaignAction,
    CampaignStatus,
    Plan,
    ScheduleError,
    checked,
    parse_until,
)
from bot.domain.people import Actor
from bot.services import campaigns
from bot.services.desk import Desk
from bot.ui import campaigns as ui
from bot.ui.campaigns import CampaignCb
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers import wizard
from handlers.common import command
from handlers.onboarding import home_of
from handlers.wizard import Choice, Done, Next, Outcome, Say, Step, Turn
from storage.campaigns import SubscriptionRepo

# --- /campaign: a new campaign, a flow of the conversation engine -----------------------------------

LENGTHS = (7, 30, 90)  # days offered as buttons for the end of a campaign
START = 1

Form = Turn[Plan]


async def _scopes(form: Form) -> list[Choice]:
    """The areas the person may start a campaign for, as they are now."""
    scopes = await campaigns.running_scopes(form.desk, form.actor)
    return [Choice(u.display_name(form.locale), u.id) for u in scopes[:30]]


def _end_of(day: datetime) -> datetime:
    return day.replace(hour=23, minute=59, second=0, microsecond=0)


def _pick_days(form: Form, days: int) -> Outcome[Plan]:
    here = form.desk.now.astimezone(form.desk.config.bot.zone)
    return Next(replace(form.draft, ends_at=_end_of(here + timedelta(days=days))))


def _until_text(form: Form, text: str) -> Outcome[Plan]:
    zone = form.desk.config.bot.zone
    future = parse_until(text, form.desk.now.astimezone(zone).date())
    if future is None:
        return Say(_("Please write a day from today on, like 2026-12-31."))
    ends = _end_of(datetime.combine(future, datetime.min.time(), zone))
    return Next(replace(form.draft, ends_at=ends))


def _schedule_text(form: Form, text: str) -> Outcome[Plan]:
    assert form.draft.ends_at is not None
    schedule = checked(text, form.desk.config.bot.zone, form.desk.now, form.draft.ends_at)
    if isinstance(schedule, ScheduleError):
        return Say(ui.schedule_error_text(schedule, form.locale))
    return Next(replace(form.draft, schedule=" ".join(text.split())))


async def _summary(form: Form) -> str:
    plan, desk = form.draft, form.desk
    assert plan.ends_at is not None
    schedule = checked(plan.schedule, desk.config.bot.zone, desk.now, plan.ends_at)
    runs = [] if isinstance(schedule, ScheduleError) else schedule.runs(desk.now, plan.ends_at, 3)
    scope = await desk.units.get(plan.scope_id)
    return "\n".join(
        [
            _("<b>New campaign</b>"),
            _("Area: {scope}").format(
                scope=html.quote(scope.display_name(form.locale)) if scope else "—"
            ),
            _("Title: {title}").format(title=html.quote(plan.title)),
            _("Text: {text}").format(text=html.quote(plan.text)),
            _("Photo: {photo}").format(photo=_("yes") if plan.photo else _("no")),
            _("Until: {day}").format(day=desk.local(plan.ends_at, "%Y-%m-%d")),
            _("Schedule: {schedule}").format(schedule=html.quote(plan.schedule)),
            _("Next runs: {runs}").format(runs=", ".join(desk.local(r) for r in runs) or "—"),
        ]
    )


async def _start_campaign(form: Form, _arg: int) -> Outcome[Plan]:
    desk, actor = form.desk, form.actor
    campaign, runs = await campaigns.create(desk, actor, form.draft)
    await desk.outbox.send(
        actor.id,
        _(
            "✅ Campaign “{title}” started. First reminder: {first}. /campaigns to manage it."
        ).format(title=html.quote(campaign.title), first=desk.local(runs[0]) if runs else "—"),
    )
    return Done()


PLAN = wizard.Flow(
    name="campaign",
    draft=Plan,
    closed=lambda: _("This plan is no longer open. Send /campaign to start again."),
    steps=(
        Step(
            key="scope",
            ask=lambda form: _(
                "For which area is the campaign? It reaches every compound below it."
            ),
            choices=_scopes,
            pick=lambda form, arg: Next(replace(form.draft, scope_id=arg)),
        ),
        Step(
            key="title",
            ask=lambda form: _("The campaign's title (for example: 清脏治乱 · 冬季环境整治)"),
            text=lambda form, text: Next(replace(form.draft, title=" ".join(text.split()))),
            limit=MAX_TITLE,
        ),
        Step(
            key="text",
            ask=lambda form: _("The reminder's text, as residents will read it in their group."),
            text=lambda form, text: Next(replace(form.draft, text=text)),
            limit=MAX_TEXT,
        ),
        Step(
            key="photo",
            ask=lambda form: _("A photo to go with it? Send it now, or tap Skip."),
            photo=lambda form, photo: Next(
                replace(form.draft, photo=photo.file_id), _("Photo added.")
            ),
            skip=lambda form: Next(replace(form.draft, photo=None)),
            skip_label=lambda: _("Skip the photo"),
        ),
        Step(
            key="end",
            ask=lambda form: _(
                "Until when? Tap a length, or write the last day (for example 2026-12-31)."
            ),
            choices=lambda form: [Choice(_("{n} days").format(n=n), n) for n in LENGTHS],
            pick=_pick_days,
            text=_until_text,
        ),
        Step(
            key="schedule",
            ask=lambda form: _(
                "When should the reminder go out? For example: 每周六 09:00, 每天 08:00, every "
                "Saturday 09:00, fixed dates (2026-12-05 09:00; 2026-12-19 09:00) or cron "
                "(0 9 * * 6)."
            ),
            text=_schedule_text,
        ),
        Step(
            key="confirm",
            ask=_summary,
            choices=lambda form: [Choice(_("✅ Start the campaign"), START)],
            pick=_start_campaign,
        ),
    ),
)


async def cmd_campaign(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
    scopes = await campaigns.running_scopes(desk, actor)
    if not scopes:
        await desk.outbox.send(
            message.chat.id,
            _("Campaigns are started by community staff or above, for their own area."),
        )
        return
    plan = Plan(scope_id=scopes[0].id if len(scopes) == 1 else 0)
    await wizard.start(PLAN, desk, actor, state, plan, at="title" if plan.scope_id else None)


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
                status=ui.status_name(campaign.status, actor.locale),
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
    campaign = await campaigns.change(desk, actor, callback_data.id, callback_data.action)
    done = _("{title}: {status}").format(
        title=campaign.title, status=ui.status_name(campaign.status, actor.locale)
    )
    await desk.outbox.answer_callback(actor.id, callback.id, done)


async def subscribe(actor: Actor, desk: Desk, state: FSMContext) -> None:
    if await home_of(actor, desk, state) is None:
        return
    await SubscriptionRepo(desk.session).subscribe(actor.id, desk.now)
    await desk.outbox.send(
        actor.id,
        _(
            "You will get campaign reminders for your compound here too. Help → “Stop campaign "
            "reminders” (or /unsubscribe) stops them."
        ),
    )


async def unsubscribe(actor: Actor, desk: Desk, state: FSMContext) -> None:
    await SubscriptionRepo(desk.session).unsubscribe(actor.id)
    await desk.outbox.send(actor.id, _("No more campaign reminders here."))


def private_router() -> Router:
    router = Router(name="campaigns")
    router.message.register(cmd_campaign, Command("campaign"))
    router.message.register(cmd_campaigns, Command("campaigns"))
    router.message.register(command(subscribe), Command("subscribe"))
    router.message.register(command(unsubscribe), Command("unsubscribe"))
    router.callback_query.register(on_campaign_button, CampaignCb.filter())
    return router
