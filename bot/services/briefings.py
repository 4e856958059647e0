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
from datetime import date, datetime, time, timedelta

from bot.charts import render_weekly
from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority, stored
from bot.domain.complaints import Complaint, Light, Status
from bot.domain.org import Unit, UnitKind
from bot.domain.oversight import Digest, WeekData
from bot.domain.periods import Period, week_of
from bot.domain.rates import EMPTY
from bot.services.desk import Desk, open_desk
from bot.services.matcher import Matcher
from bot.services.oversight import by_child
from bot.ui.briefings import chart_caption, chart_of, digest_keyboard, digest_text
from storage.db import Database
from storage.stats import StatsRepo

log = logging.getLogger(__name__)

DIGEST, CHART = "digest", "chart"
SKIPPED = -1  # a briefing's `sent` when it was found too late
CHART_KINDS = (UnitKind.DISTRICT, UnitKind.SUBDISTRICT, UnitKind.COMMUNITY)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEW_SINCE = timedelta(hours=24)


def _at(day: date, clock_time: time, config: Config) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=config.bot.zone)


# ---------------------------------------------------------------------------------------------
# The morning digest


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
            digest_text(unit, found, below, units, desk.now, desk.config.bot.zone, locale),
            markup=digest_keyboard(found, locale),
            priority=Priority.ALERT,
        )
    return len(members)


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


async def week_data(desk: Desk, unit: Unit, week: Period) -> WeekData:
    start, end = week.bounds(desk.config.bot.zone)
    board = await desk.stats.board(unit.path, unit.kind, unit.id, start, end, desk.now)
    per_unit = await desk.stats.scorecards(unit.path, week.start, week.end)
    sums = by_child(unit, per_unit, await desk.units.many(sorted(per_unit)))
    children = [(c, sums.get(c.id, EMPTY)) for c in await desk.units.children(unit.id)]
    return WeekData(unit, week, board, children, sum(per_unit.values(), EMPTY))
