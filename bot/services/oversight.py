"""Oversight (DESIGN §4.5): a unit's queue with lights, /stats for a period with the three rates
and a ranking, and the ledgers export. Staff see their own unit's subtree and nothing else.

Whose figures a person sees: a party branch answers for its whole compound (the wings answer to
it, "one core, two wings"); an owners' committee or a property company for itself; a community,
sub-district or district for everything below it; an administrator for the whole tree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain.errors import NotAllowed, NotFound, Reason, Refused
from bot.domain.org import WINGS, Unit, UnitKind, is_within
from bot.domain.oversight import HouseholdFigures, Place, Queue, Stats, TopicFigures
from bot.domain.party import RegStatus
from bot.domain.people import Actor
from bot.domain.periods import Period
from bot.domain.rates import EMPTY, Scorecard, ranking
from bot.services import exports
from bot.services.desk import Desk
from bot.services.party import Roster
from bot.ui.oversight import export_caption
from storage.households import HouseholdRepo
from storage.topics import TopicRepo

PAGE = 8  # tickets per page of /queue: each is a button, and a phone shows about this many
MAX_COMPOUNDS = 10_000  # the compounds a district's figures add up
EXPORT_MOST = 50_000  # tickets in one workbook; more: a shorter period, please


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
        raise NotAllowed(Reason.NOT_STAFF)
    if unit_id is None:
        return mine[0]
    unit = await desk.units.get(unit_id)
    if unit is None:
        raise NotFound(Reason.GONE, f"unit {unit_id}")
    if not any(is_within(unit, s.id) for s in mine):
        raise NotAllowed(Reason.OUTSIDE_SCOPE, f"unit {unit_id}")
    return unit


# ---------------------------------------------------------------------------------------------
# The queue


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


# ---------------------------------------------------------------------------------------------
# /stats


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
    figures = await household_figures(desk, unit)
    topics = await topic_figures(desk, unit, period)
    return Stats(unit, period, total, counts, ranked, place, parent_visible, figures, topics)


async def _compounds_of(desk: Desk, scope: Unit) -> list[Unit]:
    """The compounds a scope answers for (a compound's branch or wing: its compound)."""
    if scope.kind in WINGS and scope.parent_id is not None:
        parent = await desk.units.get(scope.parent_id)
        return [parent] if parent is not None else []
    return await desk.units.compounds_in(scope.path, limit=MAX_COMPOUNDS)


async def topic_figures(
    desk: Desk, scope: Unit, period: Period
) -> tuple[tuple[Unit, TopicFigures], ...]:
    """The 议事厅's topics proposed in the period, per compound of the scope (those with any)."""
    compounds = await _compounds_of(desk, scope)
    start, end = period.bounds(desk.config.bot.zone)
    found = await TopicRepo(desk.session).figures([c.id for c in compounds], start, end)
    return tuple((c, found[c.id]) for c in compounds if c.id in found)


async def household_figures(desk: Desk, scope: Unit) -> HouseholdFigures | None:
    """Flats, registered households and household contacts of the compounds in a scope (None:
    no flats on record there), in total and per compound."""
    compounds = await _compounds_of(desk, scope)
    ids = [c.id for c in compounds]
    homes = HouseholdRepo(desk.session)
    flats = await homes.count_flats(ids)
    if not flats:
        return None
    covered = await homes.count_covered(ids)
    contacts: dict[int, int] = {}
    for contact in await homes.contacts_in(ids):
        contacts[contact.compound_id] = contacts.get(contact.compound_id, 0) + 1
    looked_after = await homes.count_looked_after(ids)
    each = tuple(
        (
            c,
            HouseholdFigures(
                flats[c.id], covered.get(c.id, 0), contacts.get(c.id, 0), looked_after.get(c.id, 0)
            ),
        )
        for c in compounds
        if flats.get(c.id)
    )
    return HouseholdFigures(
        sum(f.flats for _c, f in each),
        sum(f.covered for _c, f in each),
        sum(f.contacts for _c, f in each),
        sum(f.looked_after for _c, f in each),
        each,
    )


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
        raise Refused(Reason.TOO_MANY_ROWS, most=EXPORT_MOST)
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
        households=await household_figures(desk, unit),
        topics=await topic_figures(desk, unit, period),
    )
    data = await asyncio.to_thread(exports.ledgers_xlsx, ledgers, zone)
    name = f"台账-{unit.name}-{period.code}.xlsx"
    file_id = await desk.files.add(name, data, desk.now)
    caption = export_caption(
        unit,
        period,
        len(tickets),
        len(items),
        len(members),
        len(activities),
        actor.locale,
    )
    await desk.outbox.send_document(actor.id, file_id, caption)
    return unit
