"""Scheduled briefings: the morning digest to every unit's staff, and the weekly chart to district,
sub-district and community staff.

Both are keyed by (kind, unit, local day) in the same transaction as their outbox rows: a sweep
that runs twice, or on two processes, or after a restart, writes each one once. One found later
than its grace window is recorded as skipped and logged, not sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.charts import WeeklyChart, render_weekly
from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority, stored
from bot.domain.complaints import Category, Complaint, Light, Status
from bot.domain.org import Unit, UnitKind
from bot.domain.periods import Period, week_of
from bot.domain.rates import EMPTY, Scorecard
from bot.services import cards
from bot.services.desk import Desk, open_desk
from bot.services.matcher import Matcher
from bot.services.oversight import OversightAction, OversightCb, by_child, lamp, percent
from storage.db import Database
from storage.stats import DONE, StatsRepo

log = logging.getLogger(__name__)

DIGEST, CHART = "digest", "chart"
SKIPPED = -1  # a briefing's `sent` when it was found too late
LISTED = 5  # tickets listed per section of the digest
BUTTONS = 8
CHART_KINDS = (UnitKind.DISTRICT, UnitKind.SUBDISTRICT, UnitKind.COMMUNITY)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEW_SINCE = timedelta(hours=24)


def _at(day: date, clock_time: time, config: Config) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=config.bot.zone)


# ---------------------------------------------------------------------------------------------
# The morning digest


@dataclass(frozen=True, slots=True)
class Digest:
    overdue: list[Complaint]
    returned: list[Complaint]  # returned to this unit by one below: its decision is awaited
    due_today: list[Complaint]
    new: list[Complaint]  # handed over since yesterday's digest, not yet signed for

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.returned or self.due_today or self.new)


def sort_digest(tickets: Sequence[Complaint], now: datetime, day_end: datetime) -> Digest:
    """Each open ticket of a unit in the first section it belongs to, most pressing first."""
    digest = Digest([], [], [], [])
    for t in tickets:
        if t.due_at is not None and t.due_at < now:
            digest.overdue.append(t)
        elif t.status is Status.RETURNED:
            digest.returned.append(t)
        elif t.due_at is not None and t.due_at < day_end:
            digest.due_today.append(t)
        elif t.status is Status.DISPATCHED and t.window_start >= now - NEW_SINCE:
            digest.new.append(t)
    return digest


async def _run(
    db: Database,
    clock: Clock,
    config: Config,
    kind: str,
    at: time,
    kinds: Sequence[UnitKind] | None,
    write: Callable[[int, date], Awaitable[int]],
) -> int:
    """Today's briefing of `kind` for every staffed unit (of `kinds`) that has not had it, once
    its time has come; found later than the grace window, each is recorded as skipped instead."""
    now = clock.now()
    today = now.astimezone(config.bot.zone).date()
    due = _at(today, at, config)
    if now < due:
        return 0
    late = now - due > timedelta(hours=config.oversight.digest_grace_hours)
    async with db.read() as session:
        stats = StatsRepo(session)
        waiting = sorted(set(await stats.staffed_units(kinds)) - await stats.briefed(kind, today))
    sent = 0
    for unit_id in waiting:
        try:
            if not late:
                sent += await write(unit_id, today)
                continue
            async with db.session() as session:
                if await StatsRepo(session).claim_briefing(kind, unit_id, today, SKIPPED, now):
                    log.warning(
                        "%s of %s for unit %s skipped: found too late", kind, today, unit_id
                    )
        except Exception:  # one unit's failure must not stop the others; retried next sweep
            log.exception("%s for unit %s failed", kind, unit_id)
    return sent


async def digest_sweep(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """Send today's digest to every staffed unit that has not had it; returns how many went."""

    async def write(unit_id: int, today: date) -> int:
        async with open_desk(db, clock, config, matcher, bot_username) as desk:
            return await digest(desk, unit_id, today)

    return await _run(db, clock, config, DIGEST, config.oversight.digest_time, None, write)


async def digest(desk: Desk, unit_id: int, today: date) -> int:
    """Write one unit's digest to its staff (nothing when there is nothing to say)."""
    unit = await desk.units.get(unit_id)
    members = await desk.staff.members(unit_id)
    if unit is None:
        await desk.stats.claim_briefing(DIGEST, unit_id, today, 0, desk.now)
        return 0
    tickets = await desk.complaints.held_by(unit.id)
    day_end = _at(today + timedelta(days=1), time(0), desk.config)
    found = sort_digest(tickets, desk.now, day_end)
    area = unit
    if unit.kind is UnitKind.PARTY_BRANCH and unit.parent_id is not None:
        area = await desk.units.get(unit.parent_id) or unit  # the branch answers for its compound
    below = (await desk.complaints.lights(area.path, desk.now))[Light.RED] - len(found.overdue)
    quiet = found.empty and below <= 0
    if not await desk.stats.claim_briefing(
        DIGEST, unit.id, today, 0 if quiet else len(members), desk.now
    ):
        return 0  # another sweep wrote it
    if quiet:
        return 0
    units = await desk.units.many(sorted({t.compound_id for t in tickets}))
    for member in members:
        locale = await desk.locale_of(member)
        await desk.outbox.send(
            member,
            digest_text(desk, unit, found, below, units, locale),
            markup=digest_keyboard(found, locale),
            priority=Priority.ALERT,
        )
    return len(members)


def digest_text(
    desk: Desk, unit: Unit, found: Digest, below: int, units: dict[int, Unit], locale: str
) -> str:
    lines = [
        _("☀️ <b>Good morning · {unit}</b>", locale=locale).format(
            unit=html.quote(unit.display_name(locale))
        )
    ]
    sections = (
        (_("🔴 Overdue", locale=locale), found.overdue),
        (_("↩️ Returned to you: please re-assign", locale=locale), found.returned),
        (_("⏰ Due today", locale=locale), found.due_today),
        (_("🆕 New since yesterday", locale=locale), found.new),
    )
    for heading, tickets in sections:
        if not tickets:
            continue
        lines += ["", f"<b>{heading}</b> ({len(tickets)})"]
        for t in tickets[:LISTED]:
            due = desk.local(t.due_at, "%m-%d %H:%M") if t.due_at else "—"
            lines.append(
                f"{lamp(t, desk)} {t.number} · {cards.category_name(t.category, locale)} · "
                f"{cards.unit_name(units, t.compound_id, locale)} · "
                + _("due {due}", locale=locale).format(due=due)
            )
        if len(tickets) > LISTED:
            lines.append(_("… and {count} more", locale=locale).format(count=len(tickets) - LISTED))
    if below > 0:
        lines += [
            "",
            _("🔴 Overdue in the units below you: {count}", locale=locale).format(count=below),
        ]
    lines += ["", _("All open tickets: /queue · figures: /stats", locale=locale)]
    return "\n".join(lines)


def digest_keyboard(found: Digest, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    listed = [
        *found.overdue[:LISTED],
        *found.returned[:LISTED],
        *found.due_today[:LISTED],
        *found.new[:LISTED],
    ]
    for t in listed[:BUTTONS]:
        builder.button(
            text=t.number, callback_data=OversightCb(action=OversightAction.CARD, id=t.id)
        )
    builder.button(
        text=_("📋 All open tickets", locale=locale),
        callback_data=OversightCb(action=OversightAction.QUEUE),
    )
    builder.adjust(2)
    return builder.as_markup()


# ---------------------------------------------------------------------------------------------
# The weekly chart


async def chart_sweep(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """On the configured weekday and time: last week's chart to community staff and above."""
    today = clock.now().astimezone(config.bot.zone).date()
    if WEEKDAYS[today.weekday()] != config.oversight.chart_weekday:
        return 0
    week = week_of(today - timedelta(days=7))

    async def write(unit_id: int, day: date) -> int:
        return await _chart_for(db, clock, config, matcher, bot_username, unit_id, day, week)

    return await _run(db, clock, config, CHART, config.oversight.chart_time, CHART_KINDS, write)


async def _chart_for(
    db: Database,
    clock: Clock,
    config: Config,
    matcher: Matcher,
    bot_username: str,
    unit_id: int,
    today: date,
    week: Period,
) -> int:
    # Read and draw outside the write transaction: drawing takes a while.
    async with open_desk(db, clock, config, matcher, bot_username, read_only=True) as desk:
        unit = await desk.units.get(unit_id)
        if unit is None:
            return 0
        members = await desk.staff.members(unit_id)
        locales = {member: await desk.locale_of(member) for member in members}
        data = await week_data(desk, unit, week)
    images = {
        locale: await asyncio.to_thread(render_weekly, chart_of(data, locale))
        for locale in sorted(set(locales.values()))
    }
    async with open_desk(db, clock, config, matcher, bot_username) as desk:
        if not await desk.stats.claim_briefing(CHART, unit_id, today, len(members), desk.now):
            return 0
        files = {
            locale: await desk.files.add(
                f"weekly-{unit.code}-{week.start:%Y%m%d}.png", png, desk.now
            )
            for locale, png in images.items()
        }
        for member, locale in locales.items():
            await desk.outbox.send_photo(
                member, stored(files[locale]), chart_caption(data, locale), priority=Priority.ALERT
            )
    return len(members)


@dataclass(frozen=True, slots=True)
class WeekData:
    unit: Unit
    week: Period
    board: dict[tuple[Category, str], int]
    children: list[tuple[Unit, Scorecard]]
    total: Scorecard


async def week_data(desk: Desk, unit: Unit, week: Period) -> WeekData:
    start, end = week.bounds(desk.config.bot.zone)
    board = await desk.stats.board(unit.path, unit.kind, unit.id, start, end, desk.now)
    per_unit = await desk.stats.scorecards(unit.path, week.start, week.end)
    sums = by_child(unit, per_unit, await desk.units.many(sorted(per_unit)))
    children = [(c, sums.get(c.id, EMPTY)) for c in await desk.units.children(unit.id)]
    return WeekData(unit, week, board, children, sum(per_unit.values(), EMPTY))


def chart_of(data: WeekData, locale: str) -> WeeklyChart:
    categories = [c for c in Category if any(data.board.get((c, k), 0) for k in KEYS)]
    labels = {
        "red": _("Overdue", locale=locale),
        "blue": _("Nearly due", locale=locale),
        "green": _("On time", locale=locale),
        DONE: _("Done", locale=locale),
    }
    return WeeklyChart(
        title=_("{unit} · week of {start} to {end}", locale=locale).format(
            unit=data.unit.display_name(locale),
            start=f"{data.week.start:%m-%d}",
            end=f"{data.week.last:%m-%d}",
        ),
        categories=tuple(cards.category_name(c, locale) for c in categories),
        stacks=tuple(
            (labels[k], k, tuple(data.board.get((c, k), 0) for c in categories)) for k in KEYS
        ),
        units=tuple(child.display_name(locale) for child, _card in data.children),
        rates=tuple(
            (card.response.value, card.resolution.value, card.satisfaction.value)
            for _child, card in data.children
        ),
        rate_labels=(
            _("Response rate", locale=locale),
            _("Resolution rate", locale=locale),
            _("Satisfaction rate", locale=locale),
        ),
        panel_titles=(
            _("Tickets reported, by category and light", locale=locale),
            _("The three rates of each unit", locale=locale),
        ),
        empty_text=_("No data this week", locale=locale),
    )


KEYS = ("red", "blue", "green", DONE)


def chart_caption(data: WeekData, locale: str) -> str:
    reported = sum(data.board.values())
    return _(
        "📈 <b>{unit}</b>, last week ({start} to {end}): {count} tickets reported; response "
        "{response} · resolution {resolution} · satisfaction {satisfaction}. Details: /stats",
        locale=locale,
    ).format(
        unit=html.quote(data.unit.display_name(locale)),
        start=f"{data.week.start:%m-%d}",
        end=f"{data.week.last:%m-%d}",
        count=reported,
        response=percent(data.total.response),
        resolution=percent(data.total.resolution),
        satisfaction=percent(data.total.satisfaction),
    )
