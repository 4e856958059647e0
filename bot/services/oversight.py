"""Oversight (DESIGN §4.5): a unit's queue with lights, /stats for a period with the three rates
and a ranking, and the ledgers export. Staff see their own unit's subtree and nothing else.

Whose figures a person sees: a party branch answers for its whole compound (the wings answer to
it, "one core, two wings"); an owners' committee or a property company for itself; a community,
sub-district or district for everything below it; an administrator for the whole tree.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _

from bot.domain.complaints import OPEN, Category, Complaint, Light, Status, light
from bot.domain.errors import NotAllowed, NotFound, Refused
from bot.domain.inputs import Id
from bot.domain.org import Unit, UnitKind, is_within
from bot.domain.party import RegStatus
from bot.domain.people import Actor
from bot.domain.periods import Period
from bot.domain.rates import EMPTY, Rate, Scorecard, ranking
from bot.services import cards, exports
from bot.services.desk import Desk
from bot.services.party import Roster

PAGE = 8  # tickets per page of /queue: each is a button, and a phone shows about this many
CHILDREN_SHOWN = 30
EXPORT_MOST = 50_000  # tickets in one workbook; more: a shorter period, please


class OversightAction(StrEnum):
    QUEUE = "q"  # unit: the scope (0: the first), id: the page
    CARD = "c"  # id: the ticket
    STATS = "s"  # unit, period
    EXPORT = "x"  # unit, period


class OversightCb(CallbackData, prefix="ov"):
    """A button of /queue, /stats, /export or the digest. Every press re-checks the actor's scope."""

    action: OversightAction
    unit: Id = 0
    id: Id = 0
    period: str = ""  # a Period's code, 20261101-20261121


# ---------------------------------------------------------------------------------------------
# Scope


async def scopes(desk: Desk, actor: Actor) -> list[Unit]:
    """The units whose figures `actor` sees, highest first (none for residents)."""
    if actor.is_admin:
        return await desk.units.children(None)
    found: dict[int, Unit] = {}
    for unit in (await desk.units.many(actor.staff_unit_ids)).values():
        if unit.kind is UnitKind.PARTY_BRANCH and unit.parent_id is not None:
            compound = await desk.units.get(unit.parent_id)
            unit = compound or unit
        found[unit.id] = unit
    top = [
        u
        for u in found.values()
        if not any(o.id != u.id and is_within(u, o.id) for o in found.values())
    ]
    return sorted(top, key=lambda u: (len(u.path), u.name, u.id))


async def scope(desk: Desk, actor: Actor, unit_id: int | None) -> Unit:
    """A unit inside the actor's scopes (their first scope when none is named)."""
    return await _pick(desk, await scopes(desk, actor), unit_id)


async def _pick(desk: Desk, mine: Sequence[Unit], unit_id: int | None) -> Unit:
    if not mine:
        raise NotAllowed("oversight is for unit staff")
    if unit_id is None:
        return mine[0]
    unit = await desk.units.get(unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id}")
    if not any(is_within(unit, s.id) for s in mine):
        raise NotAllowed(f"unit {unit_id} is outside the actor's scope")
    return unit


# ---------------------------------------------------------------------------------------------
# The queue


@dataclass(frozen=True, slots=True)
class Queue:
    scope: Unit
    scopes: Sequence[Unit]  # all of the actor's, to switch between
    lights: dict[Light, int]
    tickets: list[Complaint]
    units: dict[int, Unit]
    page: int
    pages: int


async def queue(desk: Desk, actor: Actor, unit_id: int | None, page: int) -> Queue:
    """One page of the open tickets held in the actor's scope, red first, then blue."""
    mine = await scopes(desk, actor)
    unit = await _pick(desk, mine, unit_id)
    lights = await desk.complaints.lights(unit.path, desk.now)
    pages = max(1, -(-sum(lights.values()) // PAGE))
    page = min(max(page, 0), pages - 1)
    tickets = await desk.complaints.queue(unit.path, desk.now, PAGE, page * PAGE)
    units = await desk.units.many(
        sorted({t.compound_id for t in tickets} | {t.unit_id for t in tickets})
    )
    return Queue(unit, mine, lights, tickets, units, page, pages)


def lamp(complaint: Complaint, desk: Desk) -> str:
    if complaint.due_at is None or complaint.status not in OPEN:
        return "⚪"
    return cards.LIGHTS[light(complaint.window_start, complaint.due_at, desk.now)]


def queue_text(q: Queue, desk: Desk, locale: str) -> str:
    red, blue, green = q.lights[Light.RED], q.lights[Light.BLUE], q.lights[Light.GREEN]
    lines = [
        _("<b>Open tickets · {unit}</b>", locale=locale).format(
            unit=html.quote(q.scope.display_name(locale))
        ),
        _("🔴 overdue {red} · 🔵 nearly due {blue} · 🟢 on time {green}", locale=locale).format(
            red=red, blue=blue, green=green
        ),
    ]
    if not q.tickets:
        lines.append(_("Nothing open. 👍", locale=locale))
        return "\n".join(lines)
    lines.append("")
    for t in q.tickets:
        due = desk.local(t.due_at, "%m-%d %H:%M") if t.due_at else "—"
        lines.append(
            f"{lamp(t, desk)} <b>{t.number}</b> · {cards.category_name(t.category, locale)} · "
            f"{cards.unit_name(q.units, t.compound_id, locale)}\n    "
            + _("{unit} · {status} · due {due}", locale=locale).format(
                unit=cards.unit_name(q.units, t.unit_id, locale),
                status=cards.status_name(t.status, locale),
                due=due,
            )
        )
    if q.pages > 1:
        lines.append(
            _("Page {page} of {pages}", locale=locale).format(page=q.page + 1, pages=q.pages)
        )
    lines.append(_("Tap a ticket to open its card.", locale=locale))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# /stats


@dataclass(frozen=True, slots=True)
class Place:
    rank: int
    of: int
    among: Unit  # the parent whose units were ranked


@dataclass(frozen=True, slots=True)
class Stats:
    scope: Unit
    period: Period
    card: Scorecard
    counts: dict[tuple[Category, Status], int]
    children: list[tuple[Unit, Scorecard]]  # best first
    place: Place | None  # where the scope stands among its siblings (their figures stay hidden)
    parent_visible: bool  # whether the actor may look one level up


def by_child(
    scope: Unit, cards_: Mapping[int, Scorecard], units: Mapping[int, Unit]
) -> dict[int, Scorecard]:
    """Sum a subtree's per-unit scorecards into one per child of `scope` (and the scope's own)."""
    prefix = len(scope.path)
    sums: dict[int, Scorecard] = {}
    for uid, card in cards_.items():
        unit = units.get(uid)
        if unit is None or not unit.path.startswith(scope.path):
            continue
        rest = unit.path[prefix:].strip("/")
        child = int(rest.split("/")[0]) if rest else scope.id
        sums[child] = sums.get(child, EMPTY) + card
    return sums


async def stats(desk: Desk, actor: Actor, unit_id: int | None, period: Period) -> Stats:
    mine = await scopes(desk, actor)
    unit = await _pick(desk, mine, unit_id)
    per_unit = await desk.stats.scorecards(unit.path, period.start, period.end)
    total = sum(per_unit.values(), EMPTY)
    children = await desk.units.children(unit.id)
    known = await desk.units.many(sorted(per_unit))
    sums = by_child(unit, per_unit, known)
    child_cards = {c.id: sums.get(c.id, EMPTY) for c in children}
    by_id = {c.id: c for c in children}
    ranked = [(by_id[uid], child_cards[uid]) for uid in ranking(child_cards)]
    counts = await desk.stats.ticket_counts(
        unit.path, unit.kind, unit.id, period.start, period.end, desk.config.bot.zone
    )
    place = None
    parent = await desk.units.get(unit.parent_id) if unit.parent_id else None
    if parent is not None:
        siblings = await desk.units.children(parent.id)
        if len(siblings) > 1:
            around = await desk.stats.scorecards(parent.path, period.start, period.end)
            sibling_sums = by_child(parent, around, await desk.units.many(sorted(around)))
            order = ranking({s.id: sibling_sums.get(s.id, EMPTY) for s in siblings})
            place = Place(order.index(unit.id) + 1, len(order), parent)
    parent_visible = parent is not None and any(is_within(parent, s.id) for s in mine)
    return Stats(unit, period, total, counts, ranked, place, parent_visible)


def percent(rate: Rate) -> str:
    """A rate in whole percent, halves rounded up as people do (5/8 is 63 %, not 62 %)."""
    value = rate.value
    return "—" if value is None else f"{math.floor(value * 100 + 0.5)}%"


def rate_text(rate: Rate) -> str:
    return f"{percent(rate)} ({rate.hits}/{rate.total})" if rate.total else "—"


def duration_text(span: timedelta | None, locale: str) -> str:
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("{d} d {h} h", locale=locale).format(d=days, h=hours)
    if hours:
        return _("{h} h {m} min", locale=locale).format(h=hours, m=minutes)
    return _("{m} min", locale=locale).format(m=minutes)


def period_text(period: Period) -> str:
    if period.days == 1:
        return f"{period.start:%Y-%m-%d}"
    return f"{period.start:%Y-%m-%d} — {period.last:%Y-%m-%d}"


def stats_text(s: Stats, locale: str) -> str:
    total = sum(s.counts.values())
    lines = [
        _("📊 <b>{unit}</b> · {period}", locale=locale).format(
            unit=html.quote(s.scope.display_name(locale)), period=period_text(s.period)
        ),
        _("Tickets reported: {count}", locale=locale).format(count=total),
    ]
    if total:
        by_status: dict[Status, int] = {}
        by_category: dict[Category, int] = {}
        for (category, status), n in s.counts.items():
            by_status[status] = by_status.get(status, 0) + n
            by_category[category] = by_category.get(category, 0) + n
        lines.append(
            _("Now: {states}", locale=locale).format(
                states=" · ".join(
                    f"{cards.status_name(st, locale)} {by_status[st]}"
                    for st in Status
                    if by_status.get(st)
                )
            )
        )
        lines.append(
            _("By category: {categories}", locale=locale).format(
                categories=" · ".join(
                    f"{cards.category_name(c, locale)} {n}"
                    for c, n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))
                )
            )
        )
    card = s.card
    lines += [
        "",
        _("Response rate (signed in time): {rate}", locale=locale).format(
            rate=rate_text(card.response)
        ),
        _("Resolution rate (not rejected): {rate}", locale=locale).format(
            rate=rate_text(card.resolution)
        ),
        _("Satisfaction rate: {rate}", locale=locale).format(rate=rate_text(card.satisfaction)),
        _("Average time to sign for: {sign}; to complete: {complete}", locale=locale).format(
            sign=duration_text(card.time_to_sign, locale),
            complete=duration_text(card.time_to_complete, locale),
        ),
        _("Returned as not theirs (misroutes): {count}", locale=locale).format(count=card.returned),
    ]
    if s.children:
        lines += ["", _("<b>Units below, best first</b>", locale=locale)]
        for index, (child, c) in enumerate(s.children[:CHILDREN_SHOWN], start=1):
            lines.append(
                _(
                    "{n}. {unit}: response {response} · resolution {resolution} · "
                    "satisfaction {satisfaction} ({handed} handed over)",
                    locale=locale,
                ).format(
                    n=index,
                    unit=html.quote(child.display_name(locale)),
                    response=percent(c.response),
                    resolution=percent(c.resolution),
                    satisfaction=percent(c.satisfaction),
                    handed=c.handed,
                )
            )
        if len(s.children) > CHILDREN_SHOWN:
            lines.append(
                _("… and {count} more", locale=locale).format(
                    count=len(s.children) - CHILDREN_SHOWN
                )
            )
    if s.place is not None:
        lines += [
            "",
            _("Ranked {rank} of {of} units under {parent}.", locale=locale).format(
                rank=s.place.rank,
                of=s.place.of,
                parent=html.quote(s.place.among.display_name(locale)),
            ),
        ]
    lines += [
        "",
        _(
            "Response = hand-overs signed for in time ÷ hand-overs; resolution = closed and not "
            "rejected ÷ closed; satisfaction = (satisfied + basically satisfied) ÷ rated. "
            "Ranking: the mean of the three.",
            locale=locale,
        ),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# /export


async def export(desk: Desk, actor: Actor, unit_id: int | None, period: Period) -> Unit:
    """The ledgers of a scope and period as one XLSX, written to the outbox as a document."""
    unit = await scope(desk, actor, unit_id)
    zone = desk.config.bot.zone
    start, end = period.bounds(zone)
    tickets = await desk.complaints.reported_in(
        unit.path, unit.kind, unit.id, start, end, EXPORT_MOST + 1
    )
    if len(tickets) > EXPORT_MOST:
        raise Refused("too_many", most=EXPORT_MOST)
    trails = await desk.complaints.trails([t.id for t in tickets])
    items = await desk.lostfound.reported_in(unit.path, start, end)
    party = desk.party
    members = await party.members_in(
        unit.path, (RegStatus.PENDING, RegStatus.APPROVED, RegStatus.REJECTED)
    )
    year = datetime(desk.now.astimezone(zone).year, 1, 1, tzinfo=zone)
    hours = await party.hours([m.user_id for m in members], year)
    activities = await party.in_subtree(unit.path, start, end)
    attendance = await party.ledger([a.id for a in activities])
    unit_ids = {unit.id}
    for t in tickets:
        unit_ids |= {t.compound_id, t.unit_id}
    for trail in trails.values():
        unit_ids |= {u for e in trail for u in (e.from_unit, e.to_unit) if u is not None}
    unit_ids |= {i.compound_id for i in items} | {m.compound_id for m in members}
    unit_ids |= {a.compound_id for a in activities}
    units = await desk.units.many(sorted(unit_ids))
    people = {t.reporter_id for t in tickets if not t.anonymous}
    people |= {e.actor_id for trail in trails.values() for e in trail if e.actor_id is not None}
    ledgers = exports.Ledgers(
        tickets=tickets,
        trails=trails,
        units=units,
        names=await desk.users.names(sorted(people)),
        items=items,
        roster=Roster(
            unit,
            members,
            {m.compound_id: units[m.compound_id] for m in members if m.compound_id in units},
            hours,
        ),
        activities=activities,
        attendance=attendance,
    )
    data = await asyncio.to_thread(exports.ledgers_xlsx, ledgers, zone)
    name = f"台账-{unit.name}-{period.code}.xlsx"
    file_id = await desk.files.add(name, data, desk.now)
    caption = _(
        "Ledgers of {unit}, {period}: {tickets} tickets, {items} lost-and-found reports, "
        "{members} party members, {activities} activities.",
        locale=actor.locale,
    ).format(
        unit=html.quote(unit.display_name(actor.locale)),
        period=period_text(period),
        tickets=len(tickets),
        items=len(items),
        members=len(members),
        activities=len(activities),
    )
    await desk.outbox.send_document(actor.id, file_id, caption)
    return unit
