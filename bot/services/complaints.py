"""Residents' side of complaints: intake, the duplicate check, following, rating, answers, views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.domain.complaints import (
    MAX_PHOTOS,
    Action,
    Category,
    Complaint,
    Draft,
    Rating,
    Similar,
    Stage,
    Status,
    rating_action,
    route,
    similarity,
    supervisor_of,
    ticket_number,
)
from bot.domain.errors import NotAllowed, NotFound, Reason, Stale
from bot.domain.households import MAX_NAME
from bot.domain.org import Unit, UnitKind
from bot.domain.people import Actor
from bot.services import households
from bot.services.desk import Desk
from bot.services.dispatch import (
    MAX_NOTE,
    check_actor,
    check_state,
    deliver_cards,
    hand_over,
    refresh_cards,
    tell_residents,
    tell_unit,
    window,
)
from bot.ui import complaints as ui


async def compound_of_draft(desk: Desk, draft: Draft) -> Unit:
    compound = await desk.units.get(draft.compound_id)
    if compound is None or compound.kind is not UnitKind.COMPOUND:
        raise NotFound(Reason.NO_COMPOUND, f"compound {draft.compound_id}", ends_conversation=True)
    return compound


def add_photo(draft: Draft, file_id: str) -> Draft:
    if len(draft.photos) >= MAX_PHOTOS:
        raise NotAllowed(Reason.TOO_MANY_PHOTOS)
    return replace(draft, photos=(*draft.photos, file_id))


async def similar_open(desk: Desk, draft: Draft, limit: int = 3) -> list[Similar]:
    """Open tickets of the same compound and category in the last days with similar text."""
    if draft.category is None:
        return []
    rules = desk.config.complaints
    since = desk.now - rules.duplicate_window
    pool = await desk.complaints.open_similar_candidates(draft.compound_id, draft.category, since)
    scored = [(similarity(draft.text, c.text), c) for c in pool]
    scored = [pair for pair in scored if pair[0] >= rules.duplicate_similarity]
    scored.sort(key=lambda pair: -pair[0])
    return [c for _score, c in scored[:limit]]


async def open_complaint(desk: Desk, actor: Actor, draft: Draft) -> Complaint:
    """A new ticket: numbered, routed by the table and dispatched to the responsible unit."""
    if draft.category is None or not draft.text.strip():
        raise NotAllowed(Reason.INCOMPLETE)
    compound = await compound_of_draft(desk, draft)
    proxy_for = draft.proxy_for[:MAX_NAME] if draft.proxy_for else None
    if proxy_for is not None:  # 代办: only for a household the proxy looks after
        flat_id: int | None = (await households.check_proxy(desk, actor, draft.flat_id or 0)).id
    else:
        flat_id = await households.flat_of_reporter(desk, actor.id, compound.id)
    units = await desk.units.around(compound)
    rules = desk.config.complaints
    to = route(compound, draft.category, units, rules.rules, rules.overrides)
    return await open_work_order(
        desk,
        reporter_id=actor.id,
        compound=compound,
        units=units,
        to=to,
        category=draft.category,
        text=draft.text,
        photos=draft.photos,
        flat_id=flat_id,
        anonymous=draft.anonymous,
        lat=draft.lat,
        lon=draft.lon,
        campaign_id=draft.campaign_id,
        proxy_for=proxy_for,
    )


async def open_work_order(
    desk: Desk,
    *,
    reporter_id: int,
    compound: Unit,
    units: dict[int, Unit],
    to: Unit,
    category: Category,
    text: str,
    photos: Sequence[str] = (),
    flat_id: int | None = None,
    anonymous: bool = False,
    lat: float | None = None,
    lon: float | None = None,
    campaign_id: int | None = None,
    proxy_for: str | None = None,
    followers: Sequence[int] = (),
) -> Complaint:
    """A ticket numbered and dispatched to `to`: a resident's report, or a decision of the
    议事厅 carried out (its supporters and voters follow it, to hear of each milestone)."""
    local_now = desk.now.astimezone(desk.config.bot.zone)
    seq = await desk.complaints.next_in_sequence(f"ticket:{local_now:%Y%m%d}")
    fields = window(category, desk, Status.DISPATCHED)
    complaint_id = await desk.complaints.create(
        number=ticket_number(desk.config.complaints.number_prefix, local_now, seq),
        reporter_id=reporter_id,
        anonymous=anonymous,
        compound_id=compound.id,
        category=category,
        text=text.strip()[:MAX_NOTE],
        photos=tuple(photos),
        lat=lat,
        lon=lon,
        campaign_id=campaign_id,
        flat_id=flat_id,
        proxy_for=proxy_for,
        unit_id=to.id,
        version=1,
        unsatisfied=0,
        created_at=desk.now,
        **fields.columns(),
    )
    await desk.complaints.add_event(complaint_id, desk.now, Action.CREATED, actor_id=reporter_id)
    await desk.complaints.add_event(
        complaint_id, desk.now, Action.DISPATCHED, to_unit=to.id, due_at=fields.due_at
    )
    for user_id in dict.fromkeys(followers):
        if user_id != reporter_id:
            await desk.complaints.follow(complaint_id, user_id, desk.now)
    complaint = await desk.reload(complaint_id)
    await deliver_cards(
        desk,
        complaint,
        units,
        to,
        lambda locale: ui.handed_over(Action.DISPATCHED, units, to.id, locale),
    )
    return complaint


async def follow(desk: Desk, actor: Actor, complaint_id: int, compound_id: int) -> Complaint:
    """ "Same problem": the resident follows an open ticket of their compound instead of a new one."""
    complaint = await desk.complaints.get(complaint_id)
    if complaint is None or complaint.compound_id != compound_id:
        raise NotFound(Reason.TICKET_CLOSED, str(complaint_id))
    if not complaint.is_open:
        raise Stale(Reason.TICKET_CLOSED, complaint.number)
    if complaint.reporter_id != actor.id and await desk.complaints.follow(
        complaint.id, actor.id, desk.now
    ):
        await desk.complaints.add_event(complaint.id, desk.now, Action.FOLLOWED, actor_id=actor.id)
    return complaint


async def may_view(desk: Desk, actor: Actor, complaint: Complaint) -> bool:
    if complaint.reporter_id == actor.id or actor.id in await desk.complaints.followers(
        complaint.id
    ):
        return True
    try:
        check_actor(actor, complaint, await desk.units_of(complaint))
    except NotAllowed:
        return False
    return True


async def view(desk: Desk, actor: Actor, complaint_id: int) -> str:
    """A ticket and its history, for its reporter, its followers and staff who may act on it."""
    complaint = await desk.complaints.get(complaint_id)
    if complaint is None or not await may_view(desk, actor, complaint):
        raise NotAllowed(Reason.NOT_YOUR_REPORT, str(complaint_id))
    units = await desk.units_of(complaint)
    events = await desk.complaints.events(complaint.id)
    return ui.ticket_view(complaint, units, events, actor.locale, desk.config.bot.zone)


async def rate(
    desk: Desk, actor: Actor, complaint_id: int, version: int, rating: Rating, reason: str = ""
) -> Complaint:
    """回访: 满意 or 基本满意 closes; the first 不满意 reopens at the same unit (its supervisor is
    told), the second goes to the supervisor; after that the verdict stands and it closes."""
    complaint, units = await desk.load(complaint_id)
    check_state(complaint, version, Status.COMPLETED)
    if complaint.reporter_id != actor.id:
        raise NotAllowed(Reason.NOT_YOURS_TO_RATE, complaint.number)
    holder = units[complaint.unit_id]
    parent = supervisor_of(holder, units)
    if rating is not Rating.UNSATISFIED or complaint.unsatisfied >= 2:
        return await close(desk, complaint, units, rating, rated_by=actor.id)
    reason = reason.strip()[:MAX_NOTE]

    async def rated() -> None:
        await desk.complaints.add_event(
            complaint.id,
            desk.now,
            rating_action(complaint),
            actor_id=actor.id,
            from_unit=holder.id,
            note=rating,
        )

    if complaint.unsatisfied == 0 or parent is None:
        fields = window(complaint.category, desk, Status.SIGNED)
        ok = await desk.complaints.move(
            complaint,
            unsatisfied=complaint.unsatisfied + 1,
            rating=None,
            reply=None,
            **fields.columns(),
        )
        if not ok:
            raise Stale(Reason.TICKET_MOVED, complaint.number)
        await rated()
        await desk.complaints.add_event(
            complaint.id,
            desk.now,
            Action.REOPENED,
            actor_id=actor.id,
            to_unit=holder.id,
            due_at=fields.due_at,
            note=reason,
        )
        moved = await desk.reload(complaint.id)
        await refresh_cards(desk, moved, units)
        await deliver_cards(
            desk, moved, units, holder, lambda locale: ui.reopened_headline(reason, locale)
        )
        if parent is not None:
            await tell_unit(
                desk,
                parent,
                units,
                lambda locale: ui.reopened_for_supervisor(moved, units, holder.id, reason, locale),
            )
        await tell_residents(
            desk, moved, lambda locale: ui.reopened_notice(moved, units, holder.id, locale)
        )
        return moved
    # The second 不满意: the supervising unit takes it over.
    if not await desk.complaints.move(complaint, unsatisfied=complaint.unsatisfied + 1, reply=None):
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    await rated()
    complaint = await desk.reload(complaint.id)
    moved = await hand_over(
        desk, complaint, units, parent, Action.REDISPATCHED, actor_id=actor.id, note=reason
    )
    await tell_residents(
        desk, moved, lambda locale: ui.taken_over_notice(moved, units, parent.id, locale)
    )
    return moved


async def close(
    desk: Desk,
    complaint: Complaint,
    units: dict[int, Unit],
    rating: Rating | None,
    *,
    rated_by: int | None,
) -> Complaint:
    """Close a completed ticket with its verdict (None: the resident did not answer in time)."""
    ok = await desk.complaints.move(
        complaint,
        status=Status.CLOSED,
        rating=rating,
        stage=Stage.NONE,
        due_at=None,
        blue_at=None,
        next_check_at=None,
        updated_at=desk.now,
    )
    if not ok:
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    if rating is not None:
        await desk.complaints.add_event(
            complaint.id,
            desk.now,
            rating_action(complaint),
            actor_id=rated_by,
            from_unit=complaint.unit_id,
            note=rating,
        )
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        Action.CLOSED,
        actor_id=rated_by,
        from_unit=complaint.unit_id,
        note=rating or "unrated",
    )
    moved = await desk.reload(complaint.id)
    await refresh_cards(desk, moved, units)
    if rating is None:
        await tell_residents(desk, moved, lambda locale: ui.closed_unrated_notice(moved, locale))
    return moved


async def answer(
    desk: Desk, actor: Actor, complaint_id: int, asker_id: int, text: str
) -> Complaint:
    """The reporter's answer to a staff question, relayed without saying who they are."""
    complaint = await desk.complaints.get(complaint_id)
    if complaint is None or complaint.reporter_id != actor.id:
        raise NotAllowed(Reason.NOT_YOURS_TO_ANSWER, str(complaint_id))
    asked = [
        e
        for e in await desk.complaints.events(complaint.id)
        if e.action is Action.ASKED and e.actor_id == asker_id
    ]
    if not asked:
        raise NotAllowed(Reason.NOT_YOURS_TO_ANSWER, str(asker_id))
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        Action.ANSWERED,
        actor_id=actor.id,
        to_unit=asked[-1].from_unit,
        note=text[:MAX_NOTE],
    )
    locale = await desk.locale_of(asker_id)
    await desk.outbox.send(asker_id, ui.answer(complaint, text[:MAX_NOTE], locale))
    return complaint
