"""Environmental campaigns: creating one (community level or above, for its own subtree), pausing,
resuming, ending; the sweep that finds each slot once, sends it or skips it (grace window), fans
the reminder out to every residents group and subscriber in scope through the outbox, and sends
the summary at the end."""

from __future__ import annotations

import logging
import tomllib
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority
from bot.domain.campaigns import (
    MAX_TEXT,
    MAX_TITLE,
    RUNNING_KINDS,
    Campaign,
    CampaignAction,
    CampaignFileError,
    CampaignStatus,
    Late,
    Plan,
    ScheduleError,
    SlotStatus,
    checked,
    late_slot,
    may_run,
    parse_schedule,
)
from bot.domain.errors import NotAllowed, NotFound, Reason, Refused
from bot.domain.org import Unit
from bot.domain.people import Actor
from bot.services.desk import Desk, open_desk
from bot.services.matcher import Matcher
from bot.ui import campaigns as ui
from storage.campaigns import CampaignRepo, NewCampaign, Target
from storage.db import Database
from storage.units import UnitRepo

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024


# --- who runs what ----------------------------------------------------------------------------


async def running_scopes(desk: Desk, actor: Actor) -> list[Unit]:
    """The units `actor` may run campaigns for (each with its subtree)."""
    if actor.is_admin:
        return await desk.units.children(None)
    mine = await desk.units.many(actor.staff_unit_ids)
    return sorted(
        (u for u in mine.values() if u.kind in RUNNING_KINDS), key=lambda u: (len(u.path), u.name)
    )


async def _scope(desk: Desk, actor: Actor, scope_id: int) -> Unit:
    scope = await desk.units.get(scope_id)
    if scope is None:
        raise NotFound(Reason.GONE_CAMPAIGN, f"unit {scope_id}")
    staff = list((await desk.units.many(actor.staff_unit_ids)).values())
    if not may_run(is_admin=actor.is_admin, staff_units=staff, scope=scope):
        raise NotAllowed(Reason.NOT_CAMPAIGN_STAFF, str(scope_id))
    return scope


async def create(desk: Desk, actor: Actor, plan: Plan) -> tuple[Campaign, list[datetime]]:
    """A new campaign from now until `plan.ends_at`; returns it with its first runs."""
    assert plan.ends_at is not None
    await _scope(desk, actor, plan.scope_id)
    schedule = checked(plan.schedule, desk.config.bot.zone, desk.now, plan.ends_at)
    if isinstance(schedule, ScheduleError):
        raise Refused(schedule)
    runs = schedule.runs(desk.now, plan.ends_at)
    campaign = await desk.campaigns.create(
        NewCampaign(
            title=plan.title,
            text=plan.text,
            photo=plan.photo,
            scope_id=plan.scope_id,
            schedule=plan.schedule,
            starts_at=desk.now,
            ends_at=plan.ends_at,
            created_by=actor.id,
            next_slot=runs[0] if runs else None,
        ),
        desk.now,
    )
    return campaign, runs


async def campaigns_of(desk: Desk, actor: Actor) -> list[Campaign]:
    return await desk.campaigns.in_scopes([u.path for u in await running_scopes(desk, actor)])


async def change(desk: Desk, actor: Actor, campaign_id: int, action: CampaignAction) -> Campaign:
    """Pause, resume or end (NotAllowed outside the actor's scope; Refused when it cannot)."""
    campaign = await desk.campaigns.get(campaign_id)
    if campaign is None:
        raise NotFound(Reason.GONE_CAMPAIGN, f"campaign {campaign_id}")
    await _scope(desk, actor, campaign.scope_id)
    active, paused = CampaignStatus.ACTIVE, CampaignStatus.PAUSED
    if action is CampaignAction.PAUSE:
        done = await desk.campaigns.set_status(campaign.id, paused, (active,))
    elif action is CampaignAction.RESUME:
        done = await desk.campaigns.set_status(campaign.id, active, (paused,))
        if done:  # what fell due while paused is not sent
            schedule = parse_schedule(campaign.schedule, desk.config.bot.zone)
            upcoming = (
                None if isinstance(schedule, ScheduleError) else schedule.next_after(desk.now)
            )
            await desk.campaigns.resume_at(campaign.id, upcoming)
    elif action is CampaignAction.END:
        done = await desk.campaigns.close(campaign.id, desk.now)
        if done:
            await send_summary(desk, campaign, campaign.created_by)
    else:
        await send_summary(desk, campaign, actor.id)
        done = True
    if not done:
        raise Refused(Reason.CAMPAIGN_STATE)
    updated = await desk.campaigns.get(campaign.id)
    assert updated is not None
    return updated


# --- a campaign file ---------------------------------------------------------------------------


async def import_file(
    db: Database, clock: Clock, config: Config, content: str, name: str
) -> list[Campaign]:
    """Campaigns from a TOML file ([[campaign]] title, text, scope = unit code, schedule,
    until = last day), checked like those made in the chat; all or nothing."""
    try:
        entries = tomllib.loads(content).get("campaign", [])
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError(f"{name}: {exc}") from exc
    made: list[Campaign] = []
    # No bot runs beside the command line; nothing here is matched or linked to it.
    async with open_desk(db, clock, config, Matcher(), bot_username="") as desk:
        for n, entry in enumerate(entries, start=1):
            where = f"{name}, campaign {n}"
            missing = [
                k for k in ("title", "text", "scope", "schedule", "until") if not entry.get(k)
            ]
            if missing:
                raise CampaignFileError(f"{where}: missing {', '.join(missing)}")
            scope = await desk.units.by_code(str(entry["scope"]))
            if scope is None:
                raise CampaignFileError(f"{where}: scope: no unit with code {entry['scope']!r}")
            try:
                last = date.fromisoformat(str(entry["until"]))
            except ValueError as exc:
                raise CampaignFileError(
                    f"{where}: until: {entry['until']!r} is not a date"
                ) from exc
            ends_at = datetime.combine(last, time(23, 59), config.bot.zone)
            schedule = checked(str(entry["schedule"]), config.bot.zone, desk.now, ends_at)
            if isinstance(schedule, ScheduleError):
                raise CampaignFileError(
                    f"{where}: schedule: {entry['schedule']!r}: "
                    + ui.schedule_error_text(schedule, "en")
                )
            runs = schedule.runs(desk.now, ends_at, 1)
            made.append(
                await desk.campaigns.create(
                    NewCampaign(
                        title=str(entry["title"])[:MAX_TITLE],
                        text=str(entry["text"])[:MAX_TEXT],
                        photo=None,
                        scope_id=scope.id,
                        schedule=str(entry["schedule"]),
                        starts_at=desk.now,
                        ends_at=ends_at,
                        created_by=int(entry.get("created_by", 0)),
                        next_slot=runs[0] if runs else None,
                    ),
                    desk.now,
                )
            )
    return made


# --- the summary ------------------------------------------------------------------------------


async def summary_text(desk: Desk, campaign: Campaign, locale: str) -> str:
    scope = await desk.units.get(campaign.scope_id)
    figures = await desk.campaigns.figures(campaign, scope.path if scope else "/")
    names = await desk.units.many(sorted(figures))
    return ui.summary_text(campaign, scope, figures, names, desk.config.bot.zone, locale)


async def send_summary(desk: Desk, campaign: Campaign, chat_id: int) -> None:
    locale = await desk.locale_of(chat_id)
    await desk.outbox.send(
        chat_id, await summary_text(desk, campaign, locale), priority=Priority.ALERT
    )


# --- the sweep ----------------------------------------------------------------------------------


async def _remind(desk: Desk, campaign: Campaign, target: Target) -> int:
    """One reminder to one chat; returns its outbox row."""
    locale = await desk.locale_of(target.chat_id)
    text = ui.reminder_text(campaign)
    markup = ui.report_keyboard(campaign, target.compound_id, desk.bot_username, locale)
    if campaign.photo:
        return await desk.outbox.send_photo(
            target.chat_id,
            campaign.photo,
            text[:CAPTION_LIMIT],
            markup=markup,
            priority=Priority.BROADCAST,
        )
    return await desk.outbox.send(target.chat_id, text, markup=markup, priority=Priority.BROADCAST)


async def sweep(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """Take every slot that fell due (send it, or skip it when found too late), fan out what is
    being sent, and close campaigns that ended. Each step is its own transaction and a no-op the
    second time, so a kill at any point, a restart or a second sweep sends no chat twice."""
    grace = timedelta(hours=config.campaigns.grace_hours)
    steps = 0
    async with db.read() as session:
        due = await CampaignRepo(session).due(clock.now())
    for campaign in due:
        steps += await _take_slots(db, clock, config, campaign, grace)
    async with db.read() as session:
        sending = await CampaignRepo(session).sending()
    for campaign, slot in sending:
        steps += await _fan_out(db, clock, config, matcher, bot_username, campaign, slot)
    async with db.read() as session:
        ended = await CampaignRepo(session).ended(clock.now())
    for campaign in ended:
        async with open_desk(db, clock, config, matcher, bot_username) as desk:
            if await desk.campaigns.close(campaign.id, desk.now):
                await send_summary(desk, campaign, campaign.created_by)
                steps += 1
    return steps


async def _take_slots(
    db: Database, clock: Clock, config: Config, campaign: Campaign, grace: timedelta
) -> int:
    schedule = parse_schedule(campaign.schedule, config.bot.zone)
    if isinstance(schedule, ScheduleError):
        log.error("campaign %s has an unreadable schedule %r", campaign.id, campaign.schedule)
        return 0
    taken, slot = 0, campaign.next_slot
    while slot is not None and slot <= clock.now() and slot <= campaign.ends_at:
        following = schedule.next_after(slot)
        decision = late_slot(slot, clock.now(), grace)
        status = SlotStatus.SENDING if decision is Late.SEND else SlotStatus.SKIPPED
        async with db.session() as session:
            if not await CampaignRepo(session).take_slot(
                campaign.id, slot, following, status, clock.now()
            ):
                return taken  # another sweep took it
        if decision is Late.SKIP:
            log.warning(
                "campaign %s: the %s reminder was found %s late (grace %s); skipped",
                campaign.id, slot.isoformat(), clock.now() - slot, grace,
            )  # fmt: skip
        taken += 1
        slot = following
    return taken


async def _fan_out(
    db: Database,
    clock: Clock,
    config: Config,
    matcher: Matcher,
    bot_username: str,
    campaign: Campaign,
    slot: datetime,
) -> int:
    """Reminders for one slot, in batches; each batch one transaction with its outbox rows."""
    async with db.read() as session:
        repo = CampaignRepo(session)
        scope = await UnitRepo(session).get(campaign.scope_id)
        targets = await repo.targets(scope.path) if scope else []
        sent = await repo.sent_to(campaign.id, slot)
    waiting = [t for t in targets if t.chat_id not in sent]
    written = 0
    batch = config.campaigns.batch
    for start in range(0, len(waiting), batch):
        try:
            async with open_desk(db, clock, config, matcher, bot_username) as desk:
                for target in waiting[start : start + batch]:
                    outbox_id = await _remind(desk, campaign, target)
                    await desk.campaigns.record_send(campaign.id, slot, target, outbox_id)
        except (
            IntegrityError
        ):  # another sweep wrote some of these: its rows stand, ours rolled back
            log.info("campaign %s slot %s: a concurrent fan-out; retrying later", campaign.id, slot)
            return written
        written += len(waiting[start : start + batch])
    async with db.session() as session:
        await CampaignRepo(session).slot_done(campaign.id, slot, clock.now())
    return written
