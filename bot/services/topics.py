"""The 红色议事厅: a resident proposes a topic, other households support it, the branch accepts it
(a meeting) or declines it by a deadline, the households vote, the decision is made public (公示)
and carried out as a work order whose milestones reach everyone who supported or voted.

Every move is a conditional update on the topic's version (one winner) with its messages written
to the outbox in the same transaction; the clock (answer deadline, vote reminder and close, end of
公示) is the topic's `next_check_at`, taken by the same sweep as the tickets'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority
from bot.domain.complaints import Complaint, Stage, chased_unit, last_stage, stage_time, supervisors
from bot.domain.errors import NotAllowed, NotFound, Reason, Refused
from bot.domain.households import Flat, representative
from bot.domain.org import WINGS, Unit, UnitKind
from bot.domain.oversight import TopicFigures
from bot.domain.party import Activity, ActivityDraft, ActivityKind
from bot.domain.people import Actor, ChatPurpose
from bot.domain.topics import (
    MAX_NOTE,
    MAX_PHOTOS,
    MAX_TEXT,
    MAX_TITLE,
    Rule,
    Topic,
    TopicRefusal,
    TopicStatus,
    Vote,
    count,
    hundredths,
    support_needed,
)
from bot.services import notices, party
from bot.services.complaints import open_work_order
from bot.services.desk import Desk, sweep_due
from bot.services.dispatch import tell_people, tell_unit, unit_chats
from bot.services.matcher import Matcher
from bot.ui import topics as ui
from bot.ui.notices import NoticeView
from storage.db import Database
from storage.households import HouseholdRepo
from storage.notices import NoticeKind
from storage.topics import TopicRepo

BATCH = 100
LISTED = 20  # topics on the public list
MEETING_PLACES = 500  # a meeting's places: walk-ins check in like anyone signed up


def repo(desk: Desk) -> TopicRepo:
    return TopicRepo(desk.session)


def _households(desk: Desk) -> HouseholdRepo:
    return HouseholdRepo(desk.session)


@dataclass(frozen=True, slots=True)
class TopicDraft:
    """A topic being written (kept in the FSM by the proposal flow)."""

    compound_id: int
    title: str = ""
    text: str = ""
    photos: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VoteDraft:
    """The branch opening a vote: the rule, 四议's two records, who carries it out, how long."""

    topic_id: int
    version: int
    rule: Rule | None = None
    consulted: str = ""
    reviewed: str = ""
    unit_id: int | None = None
    days: int | None = None


# --- who is who ---------------------------------------------------------------------------------


async def get(desk: Desk, topic_id: int) -> Topic:
    found = await repo(desk).get(topic_id)
    if found is None:
        raise NotFound(Reason.GONE, f"topic {topic_id}")
    return found


async def current(desk: Desk, topic_id: int, version: int) -> Topic:
    """The topic, if it has not moved since the button was drawn."""
    found = await get(desk, topic_id)
    if found.version != version:
        raise Refused(TopicRefusal.MOVED)
    return found


async def home_flat(desk: Desk, user_id: int, compound_id: int) -> Flat | None:
    """The person's confirmed flat in that compound."""
    for claim in await _households(desk).of_user(user_id):
        if claim.confirmed:
            found = await _households(desk).flat(claim.flat_id)
            if found is not None and found.compound_id == compound_id:
                return found
    return None


async def resident_flat(desk: Desk, actor: Actor, compound_id: int) -> Flat:
    found = await home_flat(desk, actor.id, compound_id)
    if found is None:
        raise Refused(TopicRefusal.NOT_RESIDENT)
    return found


async def home_compounds(desk: Desk, actor: Actor) -> list[Unit]:
    """The compounds where the person's household is confirmed."""
    ids: list[int] = []
    for claim in await _households(desk).of_user(actor.id):
        if claim.confirmed:
            found = await _households(desk).flat(claim.flat_id)
            if found is not None and found.compound_id not in ids:
                ids.append(found.compound_id)
    units = await desk.units.many(ids)
    return [units[i] for i in ids if i in units]


async def _branch(desk: Desk, topic: Topic) -> tuple[Unit, Unit, dict[int, Unit]]:
    compound, units = await party.compound_units(desk, topic.compound_id)
    return compound, party.branch_of(compound, units), units


async def check_manager(desk: Desk, actor: Actor, topic: Topic) -> Unit:
    compound = await party.compound_of(desk, topic.compound_id)
    try:
        await party.check_manager(desk, actor, compound)
    except NotAllowed as error:
        raise Refused(TopicRefusal.NOT_MANAGER, str(topic.id)) from error
    return compound


async def may_manage(desk: Desk, actor: Actor, topic: Topic) -> bool:
    try:
        await check_manager(desk, actor, topic)
    except Refused:
        return False
    return True


def carriers(compound: Unit, units: dict[int, Unit]) -> list[Unit]:
    """Who may carry a decision out: the compound's branch, owners' committee and property
    company, and its community."""
    wings = sorted(
        (u for u in units.values() if u.parent_id == compound.id and u.kind in WINGS),
        key=lambda u: (WINGS.index(u.kind), u.id),
    )
    community = [
        units[uid]
        for uid in reversed(compound.ancestor_ids)
        if uid in units and units[uid].kind is UnitKind.COMMUNITY
    ][:1]
    return [*wings, *community]


async def participants(desk: Desk, topic: Topic) -> list[int]:
    """Everyone who supported or voted (and the proposer), each once."""
    people = [topic.proposer_id]
    people += [user for _flat, user in await repo(desk).supporters_of(topic.id)]
    people += await repo(desk).voters(topic.id)
    return list(dict.fromkeys(people))


async def _tell(desk: Desk, people: Sequence[int], message: ui.Render) -> None:
    for user_id in dict.fromkeys(people):
        locale = await desk.locale_of(user_id)
        await desk.outbox.send(user_id, message(locale), priority=Priority.ALERT)


async def _tell_branch(
    desk: Desk, topic: Topic, message: ui.Render, *, markup: ui.Keys | None = None
) -> None:
    """The branch's people (privately: these texts may name the proposer)."""
    _compound, branch, units = await _branch(desk, topic)
    await tell_people(desk, branch, units, message, markup=markup)


# --- the public notice in the compound's residents groups --------------------------------------


async def _post(desk: Desk, topic: Topic) -> None:
    """A notice of the topic in each residents group of its compound, kept true as it moves."""
    locale = desk.config.bot.default_language
    await _refresh(desk, topic)
    for group in await desk.chats.bound_to(topic.compound_id, ChatPurpose.RESIDENTS):
        if group.active:
            view = await _notice(desk, topic, locale)
            await notices.post(desk, NoticeKind.TOPIC, topic.id, group.id, locale, view)


async def _notice(desk: Desk, topic: Topic, locale: str) -> NoticeView:
    meeting = await desk.party.activity(topic.activity_id) if topic.activity_id else None
    return ui.notice_view(topic, meeting, desk.config.bot.zone, desk.bot_username, locale)


async def _refresh(desk: Desk, topic: Topic) -> None:
    meeting = await desk.party.activity(topic.activity_id) if topic.activity_id else None
    zone, bot = desk.config.bot.zone, desk.bot_username
    await notices.refresh(
        desk,
        NoticeKind.TOPIC,
        topic.id,
        lambda locale: ui.notice_view(topic, meeting, zone, bot, locale),
    )


# --- proposing and supporting ---------------------------------------------------------------


async def propose(desk: Desk, actor: Actor, draft: TopicDraft) -> Topic:
    """A verified resident's topic for their compound; their household is its first support."""
    flat = await resident_flat(desk, actor, draft.compound_id)
    compound = await party.compound_of(desk, draft.compound_id)
    flats = (await _households(desk).count_flats([compound.id])).get(compound.id, 0)
    households, share = desk.config.topics.support_rule(compound.code)
    topic = await repo(desk).create(
        compound_id=compound.id,
        proposer_id=actor.id,
        flat_id=flat.id,
        title=" ".join(draft.title.split())[:MAX_TITLE],
        text=draft.text.strip()[:MAX_TEXT],
        photos=draft.photos[:MAX_PHOTOS],
        threshold=support_needed(flats, households, share),
        now=desk.now,
    )
    await repo(desk).support(topic.id, flat.id, actor.id, desk.now)
    topic = await get(desk, topic.id)
    await _tell_branch(desk, topic, lambda locale: ui.proposed_for_branch(topic, actor, locale))
    if topic.supporters >= topic.threshold:
        topic = await _take_up(desk, topic)
    await _post(desk, topic)
    return topic


async def support(desk: Desk, actor: Actor, topic_id: int) -> tuple[Topic, bool]:
    """附议: one support per household, while the topic collects them. Returns the topic and
    whether this support took it up."""
    topic = await get(desk, topic_id)
    if topic.status is not TopicStatus.COLLECTING:
        raise Refused(TopicRefusal.NOT_COLLECTING)
    flat = await resident_flat(desk, actor, topic.compound_id)
    if not await repo(desk).support(topic.id, flat.id, actor.id, desk.now):
        raise Refused(TopicRefusal.SUPPORTED)
    topic = await get(desk, topic.id)
    if topic.supporters < topic.threshold:
        await _refresh(desk, topic)
        return topic, False
    return await _take_up(desk, topic), True


async def _take_up(desk: Desk, topic: Topic) -> Topic:
    """Enough households: the branch must accept (a meeting) or decline it by the deadline."""
    due = desk.now + desk.config.topics.answer_window
    if not await repo(desk).move(
        topic,
        desk.now,
        status=TopicStatus.TAKEN_UP,
        taken_up_at=desk.now,
        answer_due_at=due,
        stage=Stage.NONE,
        next_check_at=stage_time(desk.now, due, Stage.WARNED),
    ):
        raise Refused(TopicRefusal.MOVED)
    moved = await get(desk, topic.id)
    zone = desk.config.bot.zone
    await _tell_branch(
        desk,
        moved,
        lambda locale: ui.taken_up_for_branch(moved, zone, locale),
        markup=lambda locale: ui.answer_keyboard(moved, locale),
    )
    await _tell(desk, await participants(desk, moved), lambda locale: ui.taken_up(moved, locale))
    await _refresh(desk, moved)
    return moved


async def merge(desk: Desk, actor: Actor, topic_id: int, into_id: int) -> Topic:
    """The branch merges a duplicate into another open topic of the compound: its supports go
    over (a household that supports both counts once) and its people are told."""
    topic, target = await get(desk, topic_id), await get(desk, into_id)
    await check_manager(desk, actor, topic)
    if (
        topic.id == target.id
        or target.compound_id != topic.compound_id
        or not topic.is_open
        or not target.is_open
        or topic.status not in (TopicStatus.COLLECTING, TopicStatus.TAKEN_UP)
    ):
        raise Refused(TopicRefusal.MOVED)
    people = await participants(desk, topic)
    if not await repo(desk).move(
        topic, desk.now, status=TopicStatus.MERGED, merged_into=target.id, next_check_at=None
    ):
        raise Refused(TopicRefusal.MOVED)
    for flat_id, user_id in await repo(desk).supporters_of(topic.id):
        await repo(desk).support(target.id, flat_id, user_id, desk.now)
    merged, target = await get(desk, topic.id), await get(desk, target.id)
    await _tell(desk, people, lambda locale: ui.merged(merged, target, locale))
    await _refresh(desk, merged)
    if target.status is TopicStatus.COLLECTING and target.supporters >= target.threshold:
        return await _take_up(desk, target)
    await _refresh(desk, target)
    return target


# --- the branch's answer ------------------------------------------------------------------------


async def answerable(desk: Desk, actor: Actor, topic_id: int, version: int) -> Topic:
    """A topic the actor may accept or decline now."""
    topic = await current(desk, topic_id, version)
    await check_manager(desk, actor, topic)
    if topic.status is not TopicStatus.TAKEN_UP:
        raise Refused(TopicRefusal.MOVED)
    return topic


async def decline(desk: Desk, actor: Actor, topic_id: int, version: int, reason: str) -> Topic:
    """不予受理, with a reason everyone concerned reads; made public like a decision."""
    topic = await answerable(desk, actor, topic_id, version)
    if not await repo(desk).move(
        topic,
        desk.now,
        status=TopicStatus.DECLINED,
        answered_at=desk.now,
        answered_by=actor.id,
        reason=reason.strip()[:MAX_NOTE],
        next_check_at=None,
        public_until=desk.now + desk.config.topics.public_window,
    ):
        raise Refused(TopicRefusal.MOVED)
    moved = await get(desk, topic.id)
    await _tell(desk, await participants(desk, moved), lambda locale: ui.declined(moved, locale))
    await _refresh(desk, moved)
    return moved


def meeting_draft(topic: Topic) -> ActivityDraft:
    """The activity form, filled in for a topic's meeting: the branch gives time and place."""
    return ActivityDraft(
        compound_id=topic.compound_id,
        kind=ActivityKind.MEETING,
        title=topic.title,
        capacity=MEETING_PLACES,
        announce=False,  # the topic's own notice tells the compound
        topic_id=topic.id,
    )


async def accept(desk: Desk, actor: Actor, draft: ActivityDraft) -> tuple[Topic, Activity]:
    """受理: the meeting (议事会) is created as an activity; the residents hear of it, and the
    branch, the owners' committee and the property company are invited."""
    assert draft.topic_id is not None
    topic = await get(desk, draft.topic_id)
    await check_manager(desk, actor, topic)
    if topic.status is not TopicStatus.TAKEN_UP:
        raise Refused(TopicRefusal.MOVED)
    meeting = await party.create_activity(desk, actor, draft)
    if not await repo(desk).move(
        topic,
        desk.now,
        status=TopicStatus.ACCEPTED,
        answered_at=desk.now,
        answered_by=actor.id,
        activity_id=meeting.id,
        next_check_at=None,
    ):
        raise Refused(TopicRefusal.MOVED)
    moved = await get(desk, topic.id)
    zone = desk.config.bot.zone
    compound, _branch_unit, units = await _branch(desk, moved)
    invited: dict[int, None] = {}  # a wing nobody staffs hands over to the branch: one invitation
    for unit in carriers(compound, units):
        if unit.kind is not UnitKind.COMMUNITY:
            admins = desk.config.bot.admins
            invited |= dict.fromkeys(await unit_chats(desk.session, admins, unit, units))
    for chat_id in invited:
        if chat_id != actor.id:
            locale = await desk.locale_of(chat_id)
            await desk.outbox.send(
                chat_id, ui.invited(moved, meeting, zone, locale), priority=Priority.ALERT
            )
    await _tell(
        desk,
        await participants(desk, moved),
        lambda locale: ui.meeting_set(moved, meeting, zone, locale),
    )
    await _refresh(desk, moved)
    return moved, meeting


async def record_minutes(
    desk: Desk, actor: Actor, topic_id: int, text: str, photos: Sequence[str]
) -> Topic:
    """The meeting's minutes (纪要), once it has been held; they stand on the topic's page."""
    topic = await get(desk, topic_id)
    await check_manager(desk, actor, topic)
    if topic.activity_id is None or topic.status in (TopicStatus.MERGED, TopicStatus.DECLINED):
        raise Refused(TopicRefusal.MOVED)
    if not await repo(desk).move(
        topic, desk.now, minutes=text.strip()[:MAX_TEXT], minutes_photos=tuple(photos)[:MAX_PHOTOS]
    ):
        raise Refused(TopicRefusal.MOVED)
    return await get(desk, topic.id)


# --- the vote -------------------------------------------------------------------------------


async def voting_units(desk: Desk, actor: Actor, topic: Topic) -> list[Unit]:
    await check_manager(desk, actor, topic)
    compound, units = await party.compound_units(desk, topic.compound_id)
    return carriers(compound, units)


async def open_vote(desk: Desk, actor: Actor, draft: VoteDraft) -> Topic:
    """表决: every verified household's representative gets the ballot; the tally is counted when
    the window closes. The electorate, the flats and their area are taken now."""
    topic = await current(desk, draft.topic_id, draft.version)
    compound = await check_manager(desk, actor, topic)
    if topic.status is not TopicStatus.ACCEPTED or draft.rule is None or not draft.days:
        raise Refused(TopicRefusal.MOVED)
    if draft.days not in desk.config.topics.vote_days:
        raise Refused(TopicRefusal.MOVED)
    units = {u.id: u for u in await voting_units(desk, actor, topic)}
    if draft.unit_id not in units:
        raise Refused(TopicRefusal.MOVED)
    flats = await _households(desk).flats(compound.id)
    if not flats:
        raise Refused(TopicRefusal.NO_FLATS)
    if draft.rule is Rule.DOUBLE and any(f.area_m2 is None for f in flats):
        missing = sum(f.area_m2 is None for f in flats)
        raise Refused(TopicRefusal.NO_AREA, missing=missing)
    if draft.rule is Rule.FOURFOLD and not (draft.consulted.strip() and draft.reviewed.strip()):
        raise Refused(TopicRefusal.STEPS_MISSING)
    electors = await electorate(desk, flats)
    closes = desk.now + timedelta(days=draft.days)
    remind = closes - timedelta(hours=desk.config.topics.remind_hours)
    if not await repo(desk).move(
        topic,
        desk.now,
        status=TopicStatus.VOTING,
        rule=draft.rule,
        consulted=draft.consulted.strip()[:MAX_NOTE],
        reviewed=draft.reviewed.strip()[:MAX_NOTE],
        unit_id=draft.unit_id,
        vote_opens_at=desk.now,
        vote_closes_at=closes,
        next_check_at=remind if remind > desk.now else closes,
        electorate=len(electors),
        total_flats=len(flats),
        total_area=sum(hundredths(f.area_m2) for f in flats),
    ):
        raise Refused(TopicRefusal.MOVED)
    moved = await get(desk, topic.id)
    zone = desk.config.bot.zone
    await _ballots(
        desk, moved, electors.values(), lambda locale: ui.ballot(moved, None, zone, locale)
    )
    await _refresh(desk, moved)
    return moved


async def _ballots(desk: Desk, topic: Topic, people: Iterable[int], text: ui.Render) -> None:
    """The ballot (a text and the three buttons) to each household's representative."""
    for user_id in people:
        locale = await desk.locale_of(user_id)
        await desk.outbox.send(
            user_id,
            text(locale),
            markup=ui.ballot_keyboard(topic, None, locale),
            priority=Priority.ALERT,
        )


async def electorate(desk: Desk, flats: Sequence[Flat]) -> dict[int, int]:
    """Flat → the user who votes for it: the representative of each verified household that
    has Telegram (a household recorded by proxy only votes through a representative later)."""
    residents = await _households(desk).residents_of([f.id for f in flats])
    found: dict[int, int] = {}
    for flat in flats:
        rep = representative(flat, [r for r in residents if r.flat_id == flat.id])
        if rep is not None and rep.user_id is not None:
            found[flat.id] = rep.user_id
    return found


async def cast(desk: Desk, actor: Actor, topic_id: int, vote: Vote) -> tuple[Topic, bool]:
    """A household's vote by its representative, until the window closes; a later vote of the
    same household replaces the earlier one. Returns the topic and whether it was the first."""
    topic = await get(desk, topic_id)
    if (
        topic.status is not TopicStatus.VOTING
        or topic.vote_closes_at is None
        or desk.now >= topic.vote_closes_at
    ):
        raise Refused(TopicRefusal.NOT_VOTING)
    flat = await resident_flat(desk, actor, topic.compound_id)
    residents = await _households(desk).residents_of([flat.id])
    rep = representative(flat, residents)
    if rep is None or rep.user_id != actor.id:
        raise Refused(TopicRefusal.NOT_REPRESENTATIVE)
    first = await repo(desk).cast(
        topic.id, flat.id, actor.id, vote, hundredths(flat.area_m2), desk.now
    )
    return topic, first


async def my_vote(desk: Desk, actor: Actor, topic: Topic) -> Vote | None:
    flat = await home_flat(desk, actor.id, topic.compound_id)
    return await repo(desk).vote_of(topic.id, flat.id) if flat else None


async def _remind(desk: Desk, topic: Topic) -> bool:
    """A day before the vote closes, the representatives who have not voted are reminded."""
    assert topic.vote_closes_at is not None
    if not await repo(desk).move(
        topic, desk.now, reminded_at=desk.now, next_check_at=topic.vote_closes_at
    ):
        return False
    moved = await get(desk, topic.id)
    voted = {b.flat_id for b in await repo(desk).ballots(topic.id)}
    flats = await _households(desk).flats(topic.compound_id)
    zone = desk.config.bot.zone
    waiting = [u for f, u in (await electorate(desk, flats)).items() if f not in voted]
    await _ballots(desk, moved, waiting, lambda locale: ui.vote_reminder(moved, zone, locale))
    return True


async def _close_vote(desk: Desk, topic: Topic) -> bool:
    """The window has closed: the exact tally, written once; the decision is made public."""
    assert topic.rule is not None
    tally = count(
        await repo(desk).ballots(topic.id),
        topic.rule,
        electorate=topic.electorate,
        quorum=desk.config.topics.quorum,
        total_flats=topic.total_flats,
        total_area=topic.total_area,
    )
    public_until = desk.now + desk.config.topics.public_window
    if not await repo(desk).move(
        topic,
        desk.now,
        status=TopicStatus.PASSED if tally.passed else TopicStatus.REJECTED,
        yes=tally.yes,
        no=tally.no,
        abstain=tally.abstain,
        yes_area=tally.yes_area,
        no_area=tally.no_area,
        abstain_area=tally.abstain_area,
        verdict=tally.verdict,
        decided_at=desk.now,
        public_until=public_until,
        next_check_at=public_until if tally.passed else None,
    ):
        return False
    moved = await get(desk, topic.id)
    quorum = desk.config.topics.quorum
    await _tell(
        desk, await participants(desk, moved), lambda locale: ui.decided(moved, quorum, locale)
    )
    await _tell_branch(desk, moved, lambda locale: ui.decided(moved, quorum, locale))
    await _post(desk, moved)  # 决议公开: a new notice, so that the group hears of it
    return True


# --- 公示, objections, the work order ------------------------------------------------------------


async def object_to(desk: Desk, actor: Actor, topic_id: int, text: str) -> Topic:
    """异议 while a decision is made public, by a verified resident of the compound; the branch
    reads it (with who wrote it) and answers."""
    topic = await get(desk, topic_id)
    if (
        topic.status not in (TopicStatus.PASSED, TopicStatus.REJECTED, TopicStatus.DECLINED)
        or topic.public_until is None
        or desk.now >= topic.public_until
    ):
        raise Refused(TopicRefusal.NOT_PUBLIC)
    flat = await resident_flat(desk, actor, topic.compound_id)
    note = text.strip()[:MAX_NOTE]
    if not await repo(desk).object(topic.id, actor.id, note, desk.now):
        raise Refused(TopicRefusal.OBJECTED)
    name, _locale = await desk.person(actor.id)
    await _tell_branch(desk, topic, lambda locale: ui.objection(topic, name, flat, note, locale))
    return topic


async def _carry_out(desk: Desk, topic: Topic) -> bool:
    """公示 is over: the decision becomes a work order to the unit that carries it out, followed
    by everyone who supported or voted (they hear of each milestone and rate it at the end)."""
    assert topic.unit_id is not None
    compound, units = await party.compound_units(desk, topic.compound_id)
    unit = units.get(topic.unit_id)
    if unit is None:  # the unit was removed meanwhile: the branch carries it out
        unit = party.branch_of(compound, units)
    people = await participants(desk, topic)
    if not await repo(desk).move(topic, desk.now, status=TopicStatus.CARRYING, next_check_at=None):
        return False
    locale = desk.config.bot.default_language
    ticket = await open_work_order(
        desk,
        reporter_id=topic.proposer_id,
        compound=compound,
        units=units,
        to=unit,
        category=desk.config.topics.category,
        text=ui.work_order_text(topic, locale),
        photos=topic.photos,
        flat_id=topic.flat_id,
        followers=[p for p in people if p != topic.proposer_id],
    )
    moved = await get(desk, topic.id)
    if not await repo(desk).move(moved, desk.now, complaint_id=ticket.id):
        return False
    moved = await get(desk, topic.id)
    await _tell(desk, people, lambda locale: ui.carrying(moved, ticket.number, unit, locale))
    await _refresh(desk, moved)
    return True


async def work_done(desk: Desk, topic: Topic) -> Topic | None:
    """The work order was completed (办结): the topic is done, and the result is made public
    (实施结果公开)."""
    if topic.status is not TopicStatus.CARRYING:
        return None
    if not await repo(desk).move(topic, desk.now, status=TopicStatus.DONE, done_at=desk.now):
        return None
    moved = await get(desk, topic.id)
    await _post(desk, moved)
    return moved


async def completed(desk: Desk, complaint: Complaint) -> None:
    """A work order was completed: if it carries a topic's decision out, the topic is done and
    everyone who supported or voted is asked to rate the result (the proposer, its reporter,
    rates the ticket itself)."""
    topic = await repo(desk).by_complaint(complaint.id)
    done = await work_done(desk, topic) if topic is not None else None
    if done is None:
        return
    for user_id in await participants(desk, done):
        if user_id == complaint.reporter_id:
            continue
        locale = await desk.locale_of(user_id)
        await desk.outbox.send(
            user_id,
            ui.rate_prompt(done, locale),
            markup=ui.rating_keyboard(done, locale),
            priority=Priority.ALERT,
        )


async def ticket_rated(desk: Desk, complaint: Complaint, user_id: int) -> None:
    """The proposer's rating of the work order counts as their rating of the result."""
    if complaint.rating is None:
        return
    topic = await repo(desk).by_complaint(complaint.id)
    if topic is not None:
        await repo(desk).rate(topic.id, user_id, complaint.rating.value, desk.now)


async def rate(desk: Desk, actor: Actor, topic_id: int, rating: str) -> bool:
    """A supporter's or voter's verdict on the result; the first one stands."""
    topic = await get(desk, topic_id)
    if topic.status is not TopicStatus.DONE:
        raise Refused(TopicRefusal.MOVED)
    if actor.id not in await participants(desk, topic):
        raise Refused(TopicRefusal.NOT_PARTICIPANT)
    return await repo(desk).rate(topic.id, actor.id, rating, desk.now)


# --- what people see ------------------------------------------------------------------------


async def my_compounds(desk: Desk, actor: Actor) -> list[Unit]:
    """The compounds whose topics a person sees: where they live (confirmed, or as they said),
    where they serve, and those they manage."""
    ids = await party.meeting_compounds(desk, actor)
    if actor.user.compound_id:
        ids.add(actor.user.compound_id)
    ids |= {unit.id for unit in await party.managed_compounds(desk, actor)}
    units = await desk.units.many(sorted(ids))
    return sorted(units.values(), key=lambda u: (u.name, u.id))


async def listed(desk: Desk, actor: Actor) -> tuple[list[Unit], list[Topic]]:
    """The public list of the person's compounds."""
    compounds = await my_compounds(desk, actor)
    return compounds, await repo(desk).listed([u.id for u in compounds], desk.now, LISTED)


async def page(desk: Desk, actor: Actor, topic_id: int) -> ui.Page:
    topic = await get(desk, topic_id)
    compound = await party.compound_of(desk, topic.compound_id)
    flat = await home_flat(desk, actor.id, topic.compound_id)
    manages = await may_manage(desk, actor, topic)
    if (
        not manages
        and flat is None
        and topic.compound_id not in {u.id for u in await my_compounds(desk, actor)}
    ):
        raise Refused(TopicRefusal.NOT_RESIDENT)
    supported = flat is not None and await repo(desk).supported(topic.id, flat.id)
    may_vote = False
    if flat is not None and topic.status is TopicStatus.VOTING:
        rep = representative(flat, await _households(desk).residents_of([flat.id]))
        may_vote = rep is not None and rep.user_id == actor.id
    targets: list[Topic] = []
    if manages and topic.status in (TopicStatus.COLLECTING, TopicStatus.TAKEN_UP):
        targets = [
            t
            for t in await repo(desk).in_status(
                [topic.compound_id], (TopicStatus.COLLECTING, TopicStatus.TAKEN_UP), 20
            )
            if t.id != topic.id
        ]
    meeting = await desk.party.activity(topic.activity_id) if topic.activity_id else None
    return ui.Page(
        topic=topic,
        compound=compound,
        meeting=meeting,
        may_support=flat is not None and topic.status is TopicStatus.COLLECTING and not supported,
        supported=supported,
        may_vote=may_vote,
        vote=await repo(desk).vote_of(topic.id, flat.id) if flat and may_vote else None,
        resident=flat is not None,
        manages=manages,
        objections=await repo(desk).objections(topic.id),
        ratings=await repo(desk).ratings(topic.id),
        targets=targets,
    )


async def figures(
    desk: Desk, compound_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, TopicFigures]:
    return await repo(desk).figures(compound_ids, since, until)


# --- the sweep ------------------------------------------------------------------------------


async def sweep(
    db: Database,
    clock: Clock,
    config: Config,
    matcher: Matcher,
    bot_username: str,
    limit: int = 10_000,
) -> int:
    """Every topic whose clock has come: a late answer chased up the chain, a vote's reminder
    and its close, the end of 公示. One transaction per topic; every step conditional."""
    return await sweep_due(
        db,
        clock,
        config,
        matcher,
        bot_username,
        due=lambda session, now, n: TopicRepo(session).due(now, n),
        step=step,
        batch=BATCH,
        limit=limit,
    )


async def step(desk: Desk, topic: Topic) -> bool:
    if topic.status is TopicStatus.TAKEN_UP and topic.answer_due_at and topic.taken_up_at:
        return await _escalate(desk, topic)
    if topic.status is TopicStatus.VOTING and topic.vote_closes_at is not None:
        if desk.now >= topic.vote_closes_at:
            return await _close_vote(desk, topic)
        if not topic.reminded:
            return await _remind(desk, topic)
        return await repo(desk).move(topic, desk.now, next_check_at=topic.vote_closes_at)
    if topic.status is TopicStatus.PASSED and topic.public_until is not None:
        if desk.now >= topic.public_until:
            return await _carry_out(desk, topic)
        return await repo(desk).move(topic, desk.now, next_check_at=topic.public_until)
    return await repo(desk).move(topic, desk.now, next_check_at=None)


async def _escalate(desk: Desk, topic: Topic) -> bool:
    """Like a late ticket: the branch is warned at 75 % of its time, then the community is
    chased (督办), and one level further up for each window after that."""
    assert topic.answer_due_at is not None and topic.taken_up_at is not None
    _compound, branch, units = await _branch(desk, topic)
    chain = supervisors(branch, units)
    stage = topic.stage + 1
    if stage > last_stage(chain):
        return await repo(desk).move(topic, desk.now, next_check_at=None)
    later = stage_time(topic.taken_up_at, topic.answer_due_at, stage + 1)
    if not await repo(desk).move(
        topic,
        desk.now,
        stage=stage,
        next_check_at=later if stage < last_stage(chain) else None,
    ):
        return False
    moved = await get(desk, topic.id)
    zone = desk.config.bot.zone
    if stage == Stage.WARNED:
        await tell_unit(
            desk, branch, units, lambda locale: ui.answer_nearly_due(moved, zone, locale)
        )
        return True
    target = chased_unit(chain, stage)
    assert target is not None
    await tell_unit(
        desk,
        target,
        units,
        lambda locale: ui.answer_overdue(moved, branch, zone, locale),
        markup=lambda locale: ui.answer_keyboard(moved, locale),  # the chased unit may answer
    )
    await tell_unit(
        desk, branch, units, lambda locale: ui.answer_chased(moved, target, zone, locale)
    )
    return True
