"""Party members: 报到 registration with the branch's approval, activities with sign-up and
reminders, on-site check-in (location inside the geofence, or the organiser's short code),
check-out, hours, records and the branch's ledgers. Messages to others go through the outbox in
the recipient's language."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority
from bot.domain.errors import NotAllowed, NotFound, Reason, Refused
from bot.domain.org import WINGS, Unit, UnitKind
from bot.domain.party import (
    FURTHEST,
    ORGANISING_KINDS,
    REMIND_DAY,
    Activity,
    ActivityDraft,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceStatus,
    Member,
    Method,
    Refusal,
    Registration,
    RegStatus,
    Reminder,
    code_matches,
    distance_m,
    eligibility,
    may_manage,
    minutes_present,
    new_code,
    reminder_due,
    window_refusal,
)
from bot.domain.people import Actor, ChatPurpose
from bot.services import notices
from bot.services.desk import Desk, open_desk
from bot.services.dispatch import unit_chats, unit_people
from bot.services.matcher import Matcher
from bot.ui import party as ui
from bot.ui.notices import NoticeView
from storage.db import Database
from storage.households import HouseholdRepo
from storage.notices import NoticeKind
from storage.party import LedgerRow, NewActivity, NewMember, PartyRepo

log = logging.getLogger(__name__)

# --- registration (报到) ------------------------------------------------------------------------


async def compound_of(desk: Desk, compound_id: int) -> Unit:
    compound = await desk.units.get(compound_id)
    if compound is None or compound.kind is not UnitKind.COMPOUND:
        raise NotFound(Reason.GONE_PARTY, f"compound {compound_id}")
    return compound


async def compound_units(desk: Desk, compound_id: int) -> tuple[Unit, dict[int, Unit]]:
    """A compound with its wings and the units above it (to find who hears of it)."""
    compound = await compound_of(desk, compound_id)
    return compound, await desk.units.around(compound)


def branch_of(compound: Unit, units: dict[int, Unit]) -> Unit:
    """The compound's party branch; a compound without one is served by its own staff (and, if
    it has none, by those above it)."""
    branches = [
        u for u in units.values() if u.parent_id == compound.id and u.kind is UnitKind.PARTY_BRANCH
    ]
    return min(branches, key=lambda u: u.id) if branches else compound


async def staff_units(desk: Desk, actor: Actor) -> list[Unit]:
    return list((await desk.units.many(actor.staff_unit_ids)).values())


async def check_manager(desk: Desk, actor: Actor, compound: Unit) -> None:
    if not may_manage(
        is_admin=actor.is_admin, staff_units=await staff_units(desk, actor), compound=compound
    ):
        raise NotAllowed(Reason.NOT_BRANCH, str(compound.id))


async def register(desk: Desk, actor: Actor, form: Registration) -> tuple[Member, bool]:
    """File the registration at the person's home compound; returns it and whether it is new
    (a person already registered there updates their details in place, without a new approval).
    """
    assert form.type is not None
    if actor.user.compound_id is None:
        raise NotFound(Reason.NO_HOME, ends_conversation=True)
    compound, units = await compound_units(desk, actor.user.compound_id)
    new = NewMember(
        user_id=actor.id,
        name=form.name,
        compound_id=compound.id,
        building=form.building,
        workplace=form.workplace,
        type=form.type,
        phone=form.phone,
    )
    current = await desk.party.current(actor.id)
    if current is not None and current.current and current.compound_id == compound.id:
        await desk.party.update_details(current.id, new)
        return current, False
    member = await desk.party.register(new, desk.now)
    await _ask_branch(desk, member, compound, units)
    return member, True


async def _ask_branch(desk: Desk, member: Member, compound: Unit, units: dict[int, Unit]) -> None:
    """The approval card goes to the branch's staff and alert groups (or the unit above). The
    details go to people only: a branch heard of by a group alone has them sent to the staff of
    the unit above it (or the administrators); the group's card has the number and the buttons.
    """
    branch = branch_of(compound, units)
    admins = desk.config.bot.admins
    chats = await unit_chats(desk.session, admins, branch, units)
    groups = [chat_id for chat_id in chats if chat_id < 0]
    people = [chat_id for chat_id in chats if chat_id > 0]
    if not people:
        people = await unit_people(desk.session, admins, branch, units)
    for chat_id in (*people, *groups):
        locale = await desk.locale_of(chat_id)
        await desk.outbox.send(
            chat_id,
            ui.card_text(member, compound, locale, chat_id),
            markup=ui.decision_keyboard(member, locale),
            priority=Priority.ALERT,
        )


async def moved_home(desk: Desk, user_id: int, compound_id: int) -> Member | None:
    """A member who moved re-registers with the new compound's branch, with the same details."""
    current = await desk.party.current(user_id)
    if current is None or not current.current or current.compound_id == compound_id:
        return None
    compound, units = await compound_units(desk, compound_id)
    member = await desk.party.register(
        NewMember(
            user_id=user_id,
            name=current.name,
            compound_id=compound.id,
            building="",
            workplace=current.workplace,
            type=current.type,
            phone=current.phone,
        ),
        desk.now,
    )
    await _ask_branch(desk, member, compound, units)
    return member


async def decidable(desk: Desk, actor: Actor, member_id: int) -> tuple[Member, Unit]:
    """A registration `actor` may decide now, with its compound (NotFound, NotAllowed, or
    Refused when it was decided already)."""
    member = await desk.party.member(member_id)
    if member is None:
        raise NotFound(Reason.GONE_PARTY, f"registration {member_id}")
    compound = await compound_of(desk, member.compound_id)
    await check_manager(desk, actor, compound)
    if member.status is not RegStatus.PENDING:
        raise Refused(Refusal.DECIDED)
    return member, compound


async def decide(
    desk: Desk, actor: Actor, member_id: int, approve: bool, reason: str = ""
) -> tuple[Member, Unit]:
    """The branch approves or rejects a registration (NotAllowed for anyone else)."""
    member, compound = await decidable(desk, actor, member_id)
    status = RegStatus.APPROVED if approve else RegStatus.REJECTED
    if not await desk.party.decide(member.id, status, actor.id, reason, desk.now):
        raise Refused(Refusal.DECIDED)
    locale = await desk.locale_of(member.user_id)
    text = ui.decided_text(compound, approve, reason, locale)
    await desk.outbox.send(member.user_id, text, priority=Priority.ALERT)
    return member, compound


# --- activities -------------------------------------------------------------------------------


async def managed_compounds(desk: Desk, actor: Actor) -> list[Unit]:
    """The compounds whose activities and registrations `actor` handles: those of their scopes."""
    found = {
        compound.id: compound
        for unit in await managed_scopes(desk, actor)
        for compound in await desk.units.compounds_in(unit.path)
    }
    return sorted(found.values(), key=lambda u: (u.name, u.id))


async def create_activity(desk: Desk, actor: Actor, draft: ActivityDraft) -> Activity:
    assert draft.kind and draft.starts_at and draft.ends_at and draft.capacity
    compound = await desk.units.get(draft.compound_id)
    if compound is None or compound.kind is not UnitKind.COMPOUND:
        raise NotFound(Reason.GONE_PARTY, f"compound {draft.compound_id}")
    await check_manager(desk, actor, compound)
    activity = await desk.party.create_activity(
        NewActivity(
            compound_id=compound.id,
            kind=draft.kind,
            title=draft.title,
            place=draft.place,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            capacity=draft.capacity,
            code=new_code(),
            created_by=actor.id,
        ),
        desk.now,
    )
    if draft.announce:
        await announce(desk, activity)
    return activity


async def announce(desk: Desk, activity: Activity) -> None:
    """The compound's residents groups hear of the activity; each notice is remembered, to show
    the places taken as members sign up and cancel, and that it is full or has ended."""
    groups = await desk.chats.bound_to(activity.compound_id, ChatPurpose.RESIDENTS)
    locale = desk.config.bot.default_language
    view = _notice(desk, activity, locale)
    for group in groups:
        if group.active:
            await notices.post(desk, NoticeKind.ACTIVITY, activity.id, group.id, locale, view)


def _notice(desk: Desk, activity: Activity, locale: str) -> NoticeView:
    return ui.notice_view(activity, desk.config.bot.zone, desk.bot_username, locale, desk.now)


async def refresh_notices(desk: Desk, found: Activity) -> int:
    """Edit the activity's group notices to how it stands (`found`, as read after the change:
    the places taken; full, ended, cancelled: without the sign-up button); nothing when they
    show it already. Returns the edits written."""
    return await notices.refresh(
        desk, NoticeKind.ACTIVITY, found.id, lambda locale: _notice(desk, found, locale)
    )


async def activity(desk: Desk, activity_id: int) -> Activity:
    found = await desk.party.activity(activity_id)
    if found is None:
        raise NotFound(Reason.GONE_PARTY, f"activity {activity_id}")
    return found


@dataclass(frozen=True, slots=True)
class ActivityRoster:
    """An activity as its organisers see it: members signed up, and places taken by proxy
    (代办) for residents without Telegram: (resident id, their name, the proxy's user id)."""

    activity: Activity
    signed: list[Attendance]
    names: dict[int, str]
    by_proxy: list[tuple[int, str, int]]
    proxies: dict[int, str]  # the proxies' names


async def managed_activity(desk: Desk, actor: Actor, activity_id: int) -> ActivityRoster:
    """An activity with who signed up, for those who run it."""
    found = await activity(desk, activity_id)
    compound = await desk.units.get(found.compound_id)
    if compound is None:
        raise NotFound(Reason.GONE_PARTY, f"compound {found.compound_id}")
    await check_manager(desk, actor, compound)
    signed = await desk.party.signed_up(found.id)
    by_proxy = await desk.party.proxy_signed(found.id)
    names = await desk.party.names([a.user_id for a in signed])
    proxies = await desk.users.names([by for _r, _n, by in by_proxy])
    return ActivityRoster(found, signed, names, by_proxy, proxies)


async def member_activities(
    desk: Desk, actor: Actor
) -> tuple[Member | None, list[tuple[Activity, Attendance | None]]]:
    """What a member can see: their compound's coming activities and their part in each."""
    member = await desk.party.current(actor.id)
    if member is None or not member.current:
        return member, []
    coming = await desk.party.upcoming([member.compound_id], desk.now)
    mine = await desk.party.of_user(actor.id, [member.compound_id])
    return member, [(a, mine.get(a.id)) for a in coming]


async def _eligible(desk: Desk, actor: Actor, activity_id: int) -> tuple[Member, Activity]:
    found = await activity(desk, activity_id)
    member = await desk.party.current(actor.id)
    refusal = eligibility(member, found)
    if refusal is not None or member is None:
        raise Refused(refusal or Refusal.NOT_MEMBER)
    return member, found


async def sign_up(desk: Desk, actor: Actor, activity_id: int) -> tuple[Activity, bool]:
    """Take a place; returns the activity and False when already signed up (harmless)."""
    _member, found = await _eligible(desk, actor, activity_id)
    if desk.now >= found.ends_at:
        raise Refused(Refusal.ENDED)
    current = await desk.party.attendance(found.id, actor.id)
    if current is not None and current.status is AttendanceStatus.SIGNED:
        return found, False
    if not await desk.party.sign_up(found.id, actor.id, desk.now):
        raise Refused(Refusal.FULL)
    found = await activity(desk, found.id)  # with the place taken
    await refresh_notices(desk, found)
    return found, True


async def sign_up_by_proxy(
    desk: Desk, actor: Actor, activity_id: int, resident_id: int, flat_compound_id: int
) -> Activity:
    """代办: a place for a resident without Telegram (recorded by the proxy), at an activity of
    their compound that has not started."""
    found = await activity(desk, activity_id)
    if found.compound_id != flat_compound_id:
        raise Refused(Refusal.OTHER_COMPOUND)
    if found.status is ActivityStatus.CANCELLED:
        raise Refused(Refusal.CANCELLED)
    if desk.now >= found.starts_at:
        raise Refused(Refusal.STARTED)
    if not await desk.party.proxy_sign_up(found.id, resident_id, actor.id, desk.now):
        taken = [r for r, _name, _by in await desk.party.proxy_signed(found.id)]
        raise Refused(Refusal.SIGNED_ALREADY if resident_id in taken else Refusal.FULL)
    found = await activity(desk, found.id)  # with the place taken
    await refresh_notices(desk, found)
    return found


async def cancel_by_proxy(
    desk: Desk, actor: Actor, activity_id: int, resident_id: int
) -> tuple[Activity, str]:
    """Give back a place taken by proxy: the proxy who took it or the activity's organisers,
    before it starts. Returns the activity and the resident's name."""
    found = await activity(desk, activity_id)
    held = {r: (name, by) for r, name, by in await desk.party.proxy_signed(found.id)}
    if resident_id not in held:
        raise Refused(Refusal.NOT_PRESENT)
    name, by = held[resident_id]
    if by != actor.id:
        compound = await desk.units.get(found.compound_id)
        if compound is None:
            raise NotFound(Reason.GONE_PARTY, f"compound {found.compound_id}")
        await check_manager(desk, actor, compound)
    if desk.now >= found.starts_at:
        raise Refused(Refusal.STARTED)
    if not await desk.party.proxy_cancel(found.id, resident_id):
        raise Refused(Refusal.NOT_PRESENT)
    found = await activity(desk, found.id)  # with the place given back
    await refresh_notices(desk, found)
    return found, name


async def cancel(desk: Desk, actor: Actor, activity_id: int) -> Activity:
    found = await activity(desk, activity_id)
    if desk.now >= found.starts_at:
        raise Refused(Refusal.STARTED)
    if not await desk.party.cancel(found.id, actor.id):
        raise Refused(Refusal.NOT_PRESENT)
    found = await activity(desk, found.id)  # with the place given back
    await refresh_notices(desk, found)
    return found


# --- check-in and check-out --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckIn:
    activity: Activity
    at: datetime
    again: bool  # already checked in: nothing changed
    distance: int | None = None


async def _open_now(desk: Desk, actor: Actor) -> list[Activity]:
    """The activities open for check-in now, signed-up ones first: a member's compound's, and
    the meetings (议事会) of the compounds where one lives or serves; Refused (with the reason)
    when there is none."""
    member = await desk.party.current(actor.id)
    meetings = await meeting_compounds(desk, actor)
    is_member = member is not None and member.approved and member.current
    if not is_member and not meetings:
        if member is not None and member.status is RegStatus.PENDING:
            raise Refused(Refusal.PENDING)
        raise Refused(Refusal.NOT_MEMBER)
    mine_at = {member.compound_id} if is_member and member is not None else set()
    coming = [
        a
        for a in await desk.party.upcoming(sorted(mine_at | meetings), desk.now)
        if a.compound_id in mine_at or a.kind is ActivityKind.MEETING
    ]
    open_now = [a for a in coming if window_refusal(a, desk.now) is None]
    if not open_now:
        if coming:
            raise Refused(Refusal.TOO_EARLY, time=coming[0].opens_at())
        raise Refused(Refusal.NO_ACTIVITY)
    mine = await desk.party.of_user(actor.id, sorted({a.compound_id for a in open_now}))
    open_now.sort(key=lambda a: (a.id not in mine, a.starts_at))
    return open_now


def households_repo(desk: Desk) -> HouseholdRepo:
    return HouseholdRepo(desk.session)


async def meeting_compounds(desk: Desk, actor: Actor) -> set[int]:
    """The compounds whose meetings (议事会) a person attends: where their household is
    confirmed, and where they serve (the branch, the owners' committee, the property company)."""
    found = {
        flat.compound_id
        for claim in await households_repo(desk).of_user(actor.id)
        if claim.confirmed
        for flat in [await households_repo(desk).flat(claim.flat_id)]
        if flat is not None
    }
    for unit in await staff_units(desk, actor):
        if unit.kind is UnitKind.COMPOUND:
            found.add(unit.id)
        elif unit.kind in WINGS and unit.parent_id is not None:
            found.add(unit.parent_id)
    return found


async def _check_in(
    desk: Desk, actor: Actor, found: Activity, method: Method, distance: int | None
) -> CheckIn:
    current = await desk.party.attendance(found.id, actor.id)
    if current is not None and current.checked_in_at is not None:
        return CheckIn(found, current.checked_in_at, again=True, distance=distance)
    walk_in = current is None or current.status is not AttendanceStatus.SIGNED
    if walk_in:
        if not await desk.party.sign_up(found.id, actor.id, desk.now):
            raise Refused(Refusal.FULL)  # a walk-in takes a place like anyone signing up
        await refresh_notices(desk, await activity(desk, found.id))
    await desk.party.check_in(found.id, actor.id, method, distance, desk.now)
    return CheckIn(found, desk.now, again=False, distance=distance)


async def check_in_by_location(desk: Desk, actor: Actor, lat: float, lon: float) -> CheckIn:
    open_now = await _open_now(desk, actor)
    found = open_now[0]
    compound = await desk.units.get(found.compound_id)
    if compound is None or compound.lat is None or compound.lon is None:
        raise Refused(Refusal.NO_FENCE)
    radius = compound.radius_m or desk.config.party.radius_m
    distance = round(distance_m(lat, lon, compound.lat, compound.lon))
    if distance > radius:
        raise Refused(Refusal.OUTSIDE, distance=distance, radius=radius)
    return await _check_in(desk, actor, found, Method.LOCATION, distance)


async def check_in_by_code(desk: Desk, actor: Actor, code: str) -> CheckIn:
    open_now = await _open_now(desk, actor)
    for found in open_now:
        if code_matches(found, code):
            return await _check_in(desk, actor, found, Method.CODE, None)
    raise Refused(Refusal.WRONG_CODE)


async def check_out(
    desk: Desk, actor: Actor, activity_id: int | None, method: Method
) -> tuple[Activity, int]:
    """Leave now: hours are the time present within the activity. Returns the minutes."""
    present = await desk.party.present_in_window(actor.id, desk.now)
    chosen = [a for a in present if activity_id is None or a.id == activity_id]
    if not chosen:
        raise Refused(Refusal.NOT_PRESENT)
    found = chosen[0]
    current = await desk.party.attendance(found.id, actor.id)
    assert current is not None and current.checked_in_at is not None
    minutes = minutes_present(found, current.checked_in_at, desk.now)
    if not await desk.party.check_out(found.id, actor.id, method, desk.now, minutes):
        raise Refused(Refusal.NOT_PRESENT)
    return found, minutes


# --- records ----------------------------------------------------------------------------------


async def my_record(desk: Desk, actor: Actor) -> list[LedgerRow]:
    """A member's activities this year, with the minutes each."""
    return await desk.party.record([actor.id], desk.year_start(), desk.now + FURTHEST)


async def managed_scopes(desk: Desk, actor: Actor) -> list[Unit]:
    """The units whose roster `actor` may see: a branch's compound, or a community (etc.)."""
    if actor.is_admin:
        return await desk.units.children(None)
    scopes: dict[int, Unit] = {}
    for unit in await staff_units(desk, actor):
        if unit.kind is UnitKind.PARTY_BRANCH and unit.parent_id is not None:
            compound = await desk.units.get(unit.parent_id)
            if compound is not None:
                scopes[compound.id] = compound
        elif unit.kind in ORGANISING_KINDS:
            scopes[unit.id] = unit
    return sorted(scopes.values(), key=lambda u: (len(u.path), u.name))


async def scope(desk: Desk, actor: Actor, unit_id: int) -> Unit:
    for unit in await managed_scopes(desk, actor):
        if unit.id == unit_id:
            return unit
    raise NotAllowed(Reason.NOT_BRANCH, str(unit_id))


@dataclass(frozen=True, slots=True)
class Roster:
    scope: Unit
    members: list[Member]
    compounds: dict[int, Unit]
    hours: dict[int, tuple[int, int]]  # user id → (activities this year, minutes)


async def roster(desk: Desk, actor: Actor, unit_id: int) -> Roster:
    unit = await scope(desk, actor, unit_id)
    members = await desk.party.members_in(
        unit.path, (RegStatus.PENDING, RegStatus.APPROVED, RegStatus.REJECTED)
    )
    compounds = await desk.units.many(sorted({m.compound_id for m in members}))
    hours = await desk.party.hours([m.user_id for m in members], desk.year_start())
    return Roster(unit, members, compounds, hours)


async def ledger(
    desk: Desk, actor: Actor, unit_id: int
) -> tuple[Unit, list[Activity], list[LedgerRow]]:
    unit = await scope(desk, actor, unit_id)
    found = await desk.party.in_subtree(unit.path, desk.year_start(), desk.now + FURTHEST)
    return unit, found, await desk.party.ledger([a.id for a in found])


# --- the sweep ----------------------------------------------------------------------------------


async def sweep(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """Reminders a day and an hour before, and the end of activities (whoever is still checked
    in is checked out at the end). One transaction per activity, every step conditional."""
    now = clock.now()
    async with db.read() as session:
        repo = PartyRepo(session)
        remind = await repo.remind_due(now, now + REMIND_DAY)
        settle = await repo.to_settle(now)
    steps = 0
    for found in remind:
        async with open_desk(db, clock, config, matcher, bot_username) as desk:
            current = await desk.party.activity(found.id)
            which = reminder_due(current, desk.now) if current else None
            if (
                current is not None
                and which is not None
                and await desk.party.mark_reminded(current.id, which is Reminder.HOUR, desk.now)
            ):
                await _remind(desk, current, which)
                steps += 1
    for found in settle:
        async with open_desk(db, clock, config, matcher, bot_username) as desk:
            if await desk.party.mark_settled(found.id, desk.now):
                steps += await _settle(desk, found)
                steps += await refresh_notices(desk, await activity(desk, found.id))
    return steps


async def _remind(desk: Desk, found: Activity, which: Reminder) -> None:
    for attendance in await desk.party.signed_up(found.id):
        locale = await desk.locale_of(attendance.user_id)
        await desk.outbox.send(
            attendance.user_id,
            ui.reminder_text(found, which, desk.config.bot.zone, locale),
            priority=Priority.ALERT,
        )


async def _settle(desk: Desk, found: Activity) -> int:
    """At the end: everyone still checked in is checked out at the end time and told."""
    told = 0
    for attendance in await desk.party.signed_up(found.id):
        if not attendance.present or attendance.checked_in_at is None:
            continue
        minutes = minutes_present(found, attendance.checked_in_at, found.ends_at)
        if await desk.party.check_out(
            found.id, attendance.user_id, Method.AUTO, found.ends_at, minutes
        ):
            locale = await desk.locale_of(attendance.user_id)
            await desk.outbox.send(
                attendance.user_id,
                ui.settled_text(found, minutes, locale),
                priority=Priority.ALERT,
            )
            told += 1
    return told
