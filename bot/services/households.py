"""Households (the fifth level, 党群中心户): a resident claims a flat of their home compound; the
flat's household contact or the branch confirms it; the household's representative is chosen and
changed; the branch appoints household contacts by a one-time link; a contact sees their
households, the claims waiting and their open tickets, and hears when one of those is overdue.

Flat numbers are personal data: they go to the resident, the flat's contacts and the branch's
staff in their private chats, never to a group."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from bot.delivery.outbox import Priority
from bot.domain.complaints import Complaint
from bot.domain.errors import NotAllowed, NotFound, Reason, Refused
from bot.domain.households import (
    MAX_NAME,
    Contact,
    Flat,
    HouseholdRefusal,
    Resident,
    ResidentStatus,
    Tenure,
    contacts_of,
    may_choose_representative,
    may_confirm,
    representative,
)
from bot.domain.org import Unit, UnitKind
from bot.domain.party import may_manage
from bot.domain.people import Actor
from bot.services import party
from bot.services.desk import Desk
from bot.services.dispatch import unit_people
from bot.ui import households as ui
from storage.households import ContactInvite, HouseholdRepo

LINK_PREFIX = "hc_"  # the deep link that appoints a household contact


def repo(desk: Desk) -> HouseholdRepo:
    return HouseholdRepo(desk.session)


# --- reading -----------------------------------------------------------------------------------


async def flat(desk: Desk, flat_id: int) -> Flat:
    found = await repo(desk).flat(flat_id)
    if found is None:
        raise NotFound(Reason.GONE, f"flat {flat_id}")
    return found


async def home_flats(desk: Desk, compound_id: int) -> list[Flat]:
    """The flats of a compound (HouseholdRefusal.NO_FLATS when none are on record)."""
    flats = await repo(desk).flats(compound_id)
    if not flats:
        raise Refused(HouseholdRefusal.NO_FLATS, ends_conversation=True)
    return flats


@dataclass(frozen=True, slots=True)
class Home:
    """A person's household as they see it: their claim, its flat, who else lives there."""

    me: Resident
    flat: Flat
    residents: tuple[Resident, ...]  # waiting or confirmed, oldest first
    representative: Resident | None
    names: dict[int, str]  # user id → first name


async def my_home(desk: Desk, actor: Actor) -> Home | None:
    """The person's newest live claim (confirmed before waiting), or None."""
    claims = await repo(desk).of_user(actor.id)
    if not claims:
        return None
    me = next((r for r in claims if r.confirmed), claims[0])
    return await _home(desk, me)


async def _home(desk: Desk, me: Resident) -> Home:
    found = await flat(desk, me.flat_id)
    residents = tuple(await repo(desk).residents_of([found.id]))
    names = await desk.users.names([r.user_id for r in residents if r.user_id is not None])
    return Home(me, found, residents, representative(found, residents), names)


def name_of(resident: Resident, names: dict[int, str]) -> str:
    """How a resident is named: their Telegram first name, or as the proxy wrote it."""
    if resident.user_id is None:
        return resident.name or "—"
    return names.get(resident.user_id, resident.name or "—")


async def manages(desk: Desk, actor: Actor, compound: Unit) -> bool:
    """The compound's branch, or staff above it that runs it (party.may_manage)."""
    return may_manage(
        is_admin=actor.is_admin,
        staff_units=await party.staff_units(desk, actor),
        compound=compound,
    )


# --- claiming a flat --------------------------------------------------------------------------


async def claim(desk: Desk, actor: Actor, flat_id: int, tenure: Tenure) -> tuple[Resident, Flat]:
    """A claim to live in a flat of the person's home compound, sent to the flat's contacts (or,
    without one, to the branch's staff). A claim still waiting elsewhere is withdrawn; a
    confirmed one elsewhere stays until this one is confirmed."""
    target = await flat(desk, flat_id)
    if target.compound_id != actor.user.compound_id:
        raise NotFound(Reason.GONE, f"flat {flat_id} is not in the home compound")
    households = repo(desk)
    for earlier in await households.of_user(actor.id):
        if earlier.flat_id == target.id:
            raise Refused(
                HouseholdRefusal.ALREADY_THERE if earlier.confirmed else HouseholdRefusal.WAITING,
                ends_conversation=True,
            )
        if not earlier.confirmed:
            await households.decide(earlier.id, ResidentStatus.WITHDRAWN, actor.id, desk.now)
    mine = await households.add_resident(
        target.id, tenure, ResidentStatus.PENDING, desk.now, user_id=actor.id
    )
    await _ask_confirmers(desk, actor, mine, target)
    return mine, target


async def confirmers(desk: Desk, target: Flat) -> list[int]:
    """Who confirms a flat's claims: its household contacts, else the branch's staff (people,
    never groups: the card names the flat)."""
    contacts = contacts_of(target, await repo(desk).contacts_for(target))
    if contacts:
        return list(dict.fromkeys(c.user_id for c in contacts))
    compound, units = await party.compound_units(desk, target.compound_id)
    branch = party.branch_of(compound, units)
    return await unit_people(desk.session, desk.config.bot.admins, branch, units)


async def _ask_confirmers(desk: Desk, actor: Actor, mine: Resident, target: Flat) -> None:
    others = [r for r in await repo(desk).residents_of([target.id]) if r.id != mine.id]
    names = await desk.users.names([r.user_id for r in others if r.user_id is not None])
    living = [(name_of(r, names), r) for r in others]
    for chat_id in await confirmers(desk, target):
        locale = await desk.locale_of(chat_id)
        await desk.outbox.send(
            chat_id,
            ui.claim_card(mine, actor.user.first_name, target, living, locale),
            markup=ui.claim_keyboard(mine, locale),
            priority=Priority.ALERT,
        )


async def decidable(desk: Desk, actor: Actor, resident_id: int) -> tuple[Resident, Flat]:
    """A claim the actor may decide now (NotFound, NotAllowed, Refused when decided)."""
    households = repo(desk)
    mine = await households.resident(resident_id)
    if mine is None:
        raise NotFound(Reason.GONE, f"resident {resident_id}")
    target = await flat(desk, mine.flat_id)
    compound = await party.compound_of(desk, target.compound_id)
    contacts = await households.contacts_for(target)
    if not may_confirm(
        actor.id, target, contacts, manages_compound=await manages(desk, actor, compound)
    ):
        raise NotAllowed(HouseholdRefusal.NOT_CONFIRMER, str(resident_id))
    if mine.status is not ResidentStatus.PENDING:
        raise Refused(HouseholdRefusal.DECIDED)
    return mine, target


async def decide(
    desk: Desk, actor: Actor, resident_id: int, *, approve: bool, reason: str = ""
) -> tuple[Resident, Flat]:
    """Confirm or reject a claim. A confirmed resident leaves the flat they were confirmed in
    before (a move); the claimant is told either way (with the reason)."""
    mine, target = await decidable(desk, actor, resident_id)
    households = repo(desk)
    status = ResidentStatus.CONFIRMED if approve else ResidentStatus.REJECTED
    if not await households.decide(mine.id, status, actor.id, desk.now, reason):
        raise Refused(HouseholdRefusal.DECIDED)
    if approve and mine.user_id is not None:
        for earlier in await households.of_user(mine.user_id):
            if earlier.id != mine.id and earlier.confirmed:
                await households.decide(
                    earlier.id,
                    ResidentStatus.LEFT,
                    actor.id,
                    desk.now,
                    was=ResidentStatus.CONFIRMED,
                )
    if mine.user_id is not None:
        locale = await desk.locale_of(mine.user_id)
        await desk.outbox.send(
            mine.user_id,
            ui.decided_text(target, mine.tenure, approve, reason, locale),
            priority=Priority.ALERT,
        )
    decided = await households.resident(mine.id)
    assert decided is not None
    return decided, target


# --- the household's representative ----------------------------------------------------------


async def choose_representative(
    desk: Desk, actor: Actor, flat_id: int, resident_id: int
) -> tuple[Home, Resident]:
    """The household's vote passes to another of its confirmed residents: chosen by the present
    representative, or by the flat's contact or the branch."""
    target = await flat(desk, flat_id)
    residents = await repo(desk).residents_of([target.id])
    chosen = next((r for r in residents if r.id == resident_id and r.confirmed), None)
    if chosen is None:
        raise Refused(HouseholdRefusal.NOT_RESIDENT)
    current = representative(target, residents)
    if not may_choose_representative(actor.id, residents, current):
        compound = await party.compound_of(desk, target.compound_id)
        contacts = await repo(desk).contacts_for(target)
        if not may_confirm(
            actor.id, target, contacts, manages_compound=await manages(desk, actor, compound)
        ):
            raise NotAllowed(HouseholdRefusal.NOT_REPRESENTATIVE, str(flat_id))
    await repo(desk).set_representative(target.id, chosen.id)
    if chosen.user_id is not None and chosen.user_id != actor.id:
        locale = await desk.locale_of(chosen.user_id)
        await desk.outbox.send(
            chosen.user_id,
            ui.now_representative(target, locale),
            priority=Priority.ALERT,
        )
    me = next((r for r in residents if r.user_id == actor.id), chosen)
    return await _home(desk, me), chosen


# --- household contacts -------------------------------------------------------------------------


async def managed_compounds(desk: Desk, actor: Actor) -> list[Unit]:
    """The compounds whose households the actor runs (as the branch, or from above)."""
    return await party.managed_compounds(desk, actor)


async def make_link(
    desk: Desk, actor: Actor, compound_id: int, building: str, unit: str
) -> tuple[str, Unit]:
    """A one-time link that appoints whoever opens it as contact of a building or stairwell."""
    compound = await party.compound_of(desk, compound_id)
    if not await manages(desk, actor, compound):
        raise NotAllowed(Reason.NOT_BRANCH, str(compound_id))
    if not await repo(desk).flats_in(compound.id, building, unit or None):
        raise NotFound(Reason.GONE, f"no flats at {building}-{unit}")
    code = secrets.token_urlsafe(12)
    ttl = desk.config.bot.invite_ttl
    await repo(desk).create_invite(
        code, compound.id, building, unit, actor.id, desk.now, desk.now + ttl
    )
    return f"https://t.me/{desk.bot_username}?start={LINK_PREFIX}{code}", compound


async def join_as_contact(desk: Desk, actor: Actor, code: str) -> tuple[Contact, Unit]:
    """Open an appointment link: the actor becomes the contact it names; the branch is told."""
    households = repo(desk)
    invite = await households.invite(code[:32])
    _check_link(invite, desk)
    assert invite is not None
    if not await households.use_invite(invite.code, actor.id, desk.now):
        raise Refused(HouseholdRefusal.LINK_USED)
    compound = await party.compound_of(desk, invite.compound_id)
    contact, _new = await households.appoint(
        compound.id, actor.id, invite.building, invite.unit, invite.created_by, desk.now
    )
    if invite.created_by != actor.id:
        locale = await desk.locale_of(invite.created_by)
        await desk.outbox.send(
            invite.created_by,
            ui.appointed_text(actor.user.first_name, contact, compound, locale),
            priority=Priority.ALERT,
        )
    return contact, compound


def _check_link(invite: ContactInvite | None, desk: Desk) -> None:
    if invite is None:
        raise Refused(HouseholdRefusal.LINK_UNKNOWN)
    if invite.used_by is not None:
        raise Refused(HouseholdRefusal.LINK_USED)
    if invite.expires_at <= desk.now:
        raise Refused(HouseholdRefusal.LINK_EXPIRED)


@dataclass(frozen=True, slots=True)
class Charge:
    """What a household contact looks after: their buildings or stairwells, the flats there with
    their residents, the claims waiting and the open tickets of those households."""

    charges: tuple[Contact, ...]
    flats: tuple[Flat, ...]
    residents: dict[int, tuple[Resident, ...]]  # flat id → waiting or confirmed
    names: dict[int, str]
    tickets: tuple[Complaint, ...]

    @property
    def waiting(self) -> list[Resident]:
        return [r for rs in self.residents.values() for r in rs if not r.confirmed]


async def charge(desk: Desk, actor: Actor) -> Charge:
    """The contact's households (HouseholdRefusal.NOT_CONTACT for anyone who is none)."""
    households = repo(desk)
    charges = await households.charges_of(actor.id)
    if not charges:
        raise NotAllowed(HouseholdRefusal.NOT_CONTACT)
    flats = await households.flats_of(charges)
    living = await households.residents_of([f.id for f in flats])
    by_flat: dict[int, list[Resident]] = {}
    for resident in living:
        by_flat.setdefault(resident.flat_id, []).append(resident)
    names = await desk.users.names([r.user_id for r in living if r.user_id is not None])
    tickets = await desk.complaints.open_of_flats([f.id for f in flats])
    return Charge(
        tuple(charges),
        tuple(flats),
        {flat_id: tuple(rs) for flat_id, rs in by_flat.items()},
        names,
        tuple(tickets),
    )


async def contacts_to_tell(desk: Desk, complaint: Complaint) -> list[int]:
    """The household contacts of a ticket's household (none when it has no flat)."""
    if complaint.flat_id is None:
        return []
    found = await repo(desk).flat(complaint.flat_id)
    if found is None:
        return []
    return list(dict.fromkeys(c.user_id for c in await repo(desk).contacts_for(found)))


async def flat_of_reporter(desk: Desk, user_id: int, compound_id: int) -> int | None:
    """The flat a new ticket comes from: the reporter's confirmed flat in that compound."""
    for claim_ in await repo(desk).of_user(user_id):
        if claim_.confirmed:
            found = await repo(desk).flat(claim_.flat_id)
            if found is not None and found.compound_id == compound_id:
                return found.id
    return None


# --- the branch's view ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overview:
    compound: Unit
    flats: int
    covered: int  # flats with a confirmed resident
    contacts: tuple[tuple[Contact, int], ...]  # each contact's charge, with its flats
    waiting: tuple[Resident, ...]
    names: dict[int, str]


async def overview(desk: Desk, actor: Actor, compound_id: int) -> Overview:
    compound = await party.compound_of(desk, compound_id)
    if compound.kind is not UnitKind.COMPOUND or not await manages(desk, actor, compound):
        raise NotAllowed(Reason.NOT_BRANCH, str(compound_id))
    households = repo(desk)
    flats = (await households.count_flats([compound.id])).get(compound.id, 0)
    covered = (await households.count_covered([compound.id])).get(compound.id, 0)
    contacts = await households.contacts_in([compound.id])
    sizes = []
    for contact in contacts:
        sizes.append((contact, len(await households.flats_of([contact]))))
    waiting = await households.pending_in(compound.id)
    ids: Sequence[int] = [c.user_id for c in contacts] + [
        r.user_id for r in waiting if r.user_id is not None
    ]
    names = await desk.users.names(ids)
    return Overview(compound, flats, covered, tuple(sizes), tuple(waiting), names)


@dataclass(frozen=True, slots=True)
class Ledger:
    """住户台账 of a compound: every flat, its residents (all, not only the live ones), who
    represents it, and the household contacts with the flats each looks after."""

    compound: Unit
    flats: list[Flat]
    residents: dict[int, list[Resident]]  # by flat
    representatives: dict[int, int]  # flat id → the representing resident's id
    contacts: list[tuple[Contact, int]]
    names: dict[int, str]


async def ledger(desk: Desk, actor: Actor, compound_id: int) -> Ledger:
    """The branch's (and above) ledger of a compound's households (Reason.NOT_BRANCH if not)."""
    view = await overview(desk, actor, compound_id)
    homes = repo(desk)
    flats = await homes.flats(view.compound.id)
    everyone = await homes.residents_of([f.id for f in flats], live=False)
    by_flat: dict[int, list[Resident]] = {}
    for resident in everyone:
        by_flat.setdefault(resident.flat_id, []).append(resident)
    chosen = {}
    for found in flats:
        voter = representative(found, by_flat.get(found.id, []))
        if voter is not None:
            chosen[found.id] = voter.id
    names = await desk.users.names(
        [r.user_id for r in everyone if r.user_id is not None]
        + [c.user_id for c, _n in view.contacts]
    )
    return Ledger(view.compound, flats, by_flat, chosen, list(view.contacts), names)


# --- 代办: on behalf of a resident without Telegram --------------------------------------------


async def may_proxy(desk: Desk, actor: Actor, target: Flat) -> bool:
    """A household contact files for the households they look after; the branch (and staff
    above it that runs the compound) for any household of its compounds."""
    if any(c.covers(target) for c in await repo(desk).charges_of(actor.id)):
        return True
    compound = await party.compound_of(desk, target.compound_id)
    return await manages(desk, actor, compound)


async def check_proxy(desk: Desk, actor: Actor, flat_id: int) -> Flat:
    """The household a proxy files for, if they may (HouseholdRefusal.NOT_CONTACT if not)."""
    target = await flat(desk, flat_id)
    if not await may_proxy(desk, actor, target):
        raise NotAllowed(HouseholdRefusal.NOT_CONTACT, f"proxy for flat {flat_id}")
    return target


async def proxy_compounds(desk: Desk, actor: Actor) -> list[Unit]:
    """The compounds whose households the actor may file for."""
    found = {c.compound_id for c in await repo(desk).charges_of(actor.id)}
    units = await desk.units.many(sorted(found))
    managed = {u.id: u for u in await managed_compounds(desk, actor)}
    return sorted({**units, **managed}.values(), key=lambda u: (u.name, u.id))


async def without_telegram(desk: Desk, flat_id: int) -> list[Resident]:
    """The flat's residents recorded by a proxy (no Telegram account), confirmed."""
    return [
        r for r in await repo(desk).residents_of([flat_id]) if r.user_id is None and r.confirmed
    ]


async def record_for(desk: Desk, actor: Actor, flat_id: int, name: str, tenure: Tenure) -> Resident:
    """代办: the proxy records a resident without Telegram in a household they look after (by the
    name they go by); recorded by its contact or the branch, the record stands confirmed."""
    target = await check_proxy(desk, actor, flat_id)
    name = " ".join(name.split())[:MAX_NAME]
    for known in await without_telegram(desk, target.id):
        if known.name == name:
            return known
    return await repo(desk).add_resident(
        target.id,
        tenure,
        ResidentStatus.CONFIRMED,
        desk.now,
        name=name,
        recorded_by=actor.id,
    )
