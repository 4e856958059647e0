"""Work orders (派单): who hears of a ticket, the staff cards, and the staff's actions on them.

Every change is a conditional update on the ticket's version (one winner), an event row, and
outbox rows in the same transaction: a card edited in place, a new card for a unit that must act,
a notice to the reporter and followers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.delivery.outbox import Markup, Priority
from bot.domain.complaints import (
    Action,
    Category,
    Complaint,
    ReturnReason,
    Stage,
    Status,
    redispatch_targets,
    stage_time,
    supervisor_of,
    supervisors,
)
from bot.domain.errors import NotAllowed, Reason, Stale
from bot.domain.org import Unit
from bot.domain.people import Actor, ChatPurpose
from bot.services.desk import Desk
from bot.ui import complaints as ui
from storage.chats import ChatRepo
from storage.complaints import Card
from storage.db import Session
from storage.users import StaffRepo

MAX_NOTE = 1000


# ---------------------------------------------------------------------------------------------
# Who hears of it


async def unit_chats(
    session: Session,
    admins: Sequence[int],
    unit: Unit,
    units: Mapping[int, Unit],
    memo: dict[tuple[str, int], Any] | None = None,
) -> list[int]:
    """A unit's staff and its alert groups. A unit nobody staffs yet hands its alerts to the next
    unit up that has someone, and at the very top to the administrators: nothing is dropped.
    (The whole chain in two reads; with a `memo`, only the units of the chain it has not seen.)"""
    chain = [unit, *supervisors(unit, units)]
    memo = {} if memo is None else memo
    await remember_chats(session, [candidate.id for candidate in chain], memo)
    for candidate in chain:
        if found := memo["chats", candidate.id]:
            return list(found)
    return list(admins)


async def remember_chats(
    session: Session, unit_ids: Sequence[int], memo: dict[tuple[str, int], Any]
) -> None:
    """Each unit's staff and alert groups, in `memo` under ("chats", id): two reads for the units
    it does not hold yet."""
    unseen = [unit_id for unit_id in dict.fromkeys(unit_ids) if ("chats", unit_id) not in memo]
    if not unseen:
        return
    people = await StaffRepo(session).members_of(unseen)
    groups = await ChatRepo(session).bound_to_units(unseen, ChatPurpose.ALERTS)
    for unit_id in unseen:
        memo["chats", unit_id] = (*people.get(unit_id, ()), *groups.get(unit_id, ()))


async def unit_people(
    session: Session, admins: Sequence[int], unit: Unit, units: Mapping[int, Unit]
) -> list[int]:
    """The private chats of the people who answer for a unit: its staff, else those of the next
    unit up that has any, else the administrators. Personal data goes there, never to a group."""
    chain = [unit, *supervisors(unit, units)]
    people = await StaffRepo(session).members_of([candidate.id for candidate in chain])
    for candidate in chain:
        if people.get(candidate.id):
            return people[candidate.id]
    return list(admins)


async def chats_of(desk: Desk, unit: Unit, units: Mapping[int, Unit]) -> list[int]:
    """`unit_chats` at a desk: a sweep's desks share what they found, unit by unit (a sweep of
    20 tickets chases units whose chains overlap — a company, then the community above it — and
    staff and groups do not change under it)."""
    return await unit_chats(desk.session, desk.config.bot.admins, unit, units, desk.memo)


async def may_act(
    desk: Desk, chat_id: int, complaint: Complaint, units: Mapping[int, Unit]
) -> bool:
    """Whether the people reading a chat may act on a ticket (to draw its buttons or not)."""
    if chat_id in desk.config.bot.admins:
        return True
    if chat_id > 0:
        unit_ids = [m.unit_id for m in await desk.staff.memberships(chat_id)]
    else:
        chat = await desk.chats.get(chat_id)
        bound = chat is not None and chat.unit_id and chat.purpose is ChatPurpose.ALERTS
        unit_ids = [chat.unit_id] if bound and chat and chat.unit_id else []
    return responsible(complaint, units, unit_ids)


def responsible(complaint: Complaint, units: Mapping[int, Unit], unit_ids: Sequence[int]) -> bool:
    """Staff of the ticket's unit or of a unit supervising it (the branch over the wings, the
    community over the branch, and so on up) may act on it."""
    holder = units.get(complaint.unit_id)
    if holder is None:
        return False
    chain = {holder.id, *(unit.id for unit in supervisors(holder, units))}
    return any(uid in chain for uid in unit_ids)


def acting_unit(actor: Actor, complaint: Complaint, units: Mapping[int, Unit]) -> int:
    """The unit this actor acts for on the ticket: the nearest of the ticket's unit and those
    above it that they belong to (after an escalation, the community that signed for it, not the
    branch that let it run late). An administrator acts for the ticket's unit."""
    holder = units.get(complaint.unit_id)
    if holder is None:
        return complaint.unit_id
    for unit in (holder, *supervisors(holder, units)):
        if unit.id in actor.staff_unit_ids:
            return unit.id
    return complaint.unit_id


def check_actor(actor: Actor, complaint: Complaint, units: Mapping[int, Unit]) -> None:
    """Only staff of the ticket's current unit or a unit above it (or an admin) act on it."""
    if not actor.is_admin and not responsible(complaint, units, actor.staff_unit_ids):
        raise NotAllowed(Reason.NOT_HANDLING_UNIT, complaint.number)


def check_state(complaint: Complaint, version: int, *allowed: Status) -> None:
    """A button drawn before the ticket last moved, or for another state, changes nothing."""
    if complaint.version != version or complaint.status not in allowed:
        raise Stale(Reason.TICKET_MOVED, complaint.number)


async def actionable(
    desk: Desk, actor: Actor, complaint_id: int, version: int, *allowed: Status
) -> tuple[Complaint, dict[int, Unit]]:
    """The ticket and its units, if this actor may act on it in one of these states now."""
    complaint, units = await desk.load(complaint_id)
    check_state(complaint, version, *allowed)
    check_actor(actor, complaint, units)
    return complaint, units


async def reporter_name(desk: Desk, complaint: Complaint) -> str:
    """The reporter's first name for private cards ("" when anonymous); a sweep reads it once for
    the cards it delivers and those it refreshes."""
    if complaint.anonymous:
        return ""
    key = ("reporter", complaint.reporter_id)
    if desk.memo is not None and key in desk.memo:
        return str(desk.memo[key])
    user = await desk.users.get(complaint.reporter_id)
    name = user.first_name if user else ""
    if desk.memo is not None:
        desk.memo[key] = name
    return name


async def render_card(
    desk: Desk,
    chat_id: int,
    locale: str,
    complaint: Complaint,
    units: Mapping[int, Unit],
    reporter: str,
) -> ui.CardView:
    # A group card never names the reporter: its members are not all staff of the unit.
    who = reporter if chat_id > 0 else None
    buttons = await may_act(desk, chat_id, complaint, units)
    return ui.card(complaint, units, who, locale, desk.config.bot.zone, desk.now, buttons=buttons)


async def refresh_cards(desk: Desk, complaint: Complaint, units: Mapping[int, Unit]) -> None:
    """Edit every card of the ticket in place to show where it is now."""
    reporter = await reporter_name(desk, complaint)
    for card in await desk.complaints.cards(complaint.id):
        locale = await desk.locale_of(card.chat_id)
        view = await render_card(desk, card.chat_id, locale, complaint, units, reporter)
        text = _with_headline(card, complaint, view.text)
        await desk.outbox.edit_sent(card.chat_id, card.outbox_id, text, markup=view.markup)


def _with_headline(card: Card, complaint: Complaint, text: str) -> str:
    """Why the chat got the card ("🆕 New complaint", "⤴️ Sent back", an overdue alert) stays on
    top of it while the ticket waits to be signed for; once it has moved on, it would mislead."""
    if card.headline and complaint.status is Status.DISPATCHED:
        return card.headline + "\n\n" + text
    return text


async def deliver_cards(
    desk: Desk,
    complaint: Complaint,
    units: Mapping[int, Unit],
    unit: Unit,
    headline: Callable[[str], str],
) -> None:
    """A new card (a new message, so it rings) to every chat of a unit that must now act.

    A chat's older card of the same ticket is edited to the current state first; from then on the
    new card is the one kept up to date. Photos go with the first card a chat receives.
    """
    existing = {card.chat_id: card for card in await desk.complaints.cards(complaint.id)}
    reporter = await reporter_name(desk, complaint)
    for chat_id in await chats_of(desk, unit, units):
        locale = await desk.locale_of(chat_id)
        lead = headline(locale)
        await _card_to(desk, complaint, units, chat_id, locale, lead, existing, reporter)


async def _card_to(
    desk: Desk,
    complaint: Complaint,
    units: Mapping[int, Unit],
    chat_id: int,
    locale: str,
    lead: str,
    existing: Mapping[int, Card],
    reporter: str,
) -> None:
    view = await render_card(desk, chat_id, locale, complaint, units, reporter)
    text = view.text
    old = existing.get(chat_id)
    if old is not None:  # the older card stays as a record, without buttons
        await desk.outbox.edit_sent(chat_id, old.outbox_id, _with_headline(old, complaint, text))
    else:
        for index, photo in enumerate(complaint.photos, start=1):
            caption = f"{complaint.number} · {index}/{len(complaint.photos)}"
            await desk.outbox.send_photo(chat_id, photo, caption, priority=Priority.ALERT)
    body = lead + "\n\n" + text if lead else text
    outbox_id = await desk.outbox.send(chat_id, body, markup=view.markup, priority=Priority.ALERT)
    await desk.complaints.set_card(complaint.id, chat_id, outbox_id, lead)


async def show_card(desk: Desk, actor: Actor, complaint_id: int) -> Complaint:
    """A ticket's card, anew, in the actor's chat (from /queue or the digest), with the buttons
    they may use; from then on it is the card of theirs kept up to date."""
    complaint, units = await desk.load(complaint_id)
    if not actor.is_admin and not responsible(complaint, units, actor.staff_unit_ids):
        raise NotAllowed(Reason.OUTSIDE_SCOPE, complaint.number)  # seeing it, not acting on it
    existing = {card.chat_id: card for card in await desk.complaints.cards(complaint.id)}
    reporter = await reporter_name(desk, complaint)
    await _card_to(desk, complaint, units, actor.id, actor.locale, "", existing, reporter)
    return complaint


async def tell_unit(
    desk: Desk,
    unit: Unit,
    units: Mapping[int, Unit],
    message: Callable[[str], str],
    *,
    markup: Callable[[str], Markup] | None = None,
) -> None:
    await _alert(desk, await chats_of(desk, unit, units), message, markup)


async def _alert(
    desk: Desk,
    chat_ids: Sequence[int],
    message: Callable[[str], str],
    markup: Callable[[str], Markup] | None,
) -> None:
    """The same alert to each chat, in the chat's language."""
    for chat_id in chat_ids:
        locale = await desk.locale_of(chat_id)
        await desk.outbox.send(
            chat_id,
            message(locale),
            markup=markup(locale) if markup else None,
            priority=Priority.ALERT,
        )


async def tell_people(
    desk: Desk,
    unit: Unit,
    units: Mapping[int, Unit],
    message: Callable[[str], str],
    *,
    markup: Callable[[str], Markup] | None = None,
) -> None:
    """Like `tell_unit`, to its people's private chats only: for texts that may name a person
    or their flat, which never go to a group."""
    people = await unit_people(desk.session, desk.config.bot.admins, unit, units)
    await _alert(desk, people, message, markup)


async def tell_residents(
    desk: Desk,
    complaint: Complaint,
    message: Callable[[str], str],
    *,
    reporter_markup: Callable[[str], Markup] | None = None,
) -> None:
    """The reporter and everyone following the ticket hear of a step, each in their language."""
    people = [complaint.reporter_id, *await desk.complaints.followers(complaint.id)]
    for user_id in dict.fromkeys(people):
        locale = await desk.locale_of(user_id)
        markup = (
            reporter_markup(locale)
            if reporter_markup and user_id == complaint.reporter_id
            else None
        )
        await desk.outbox.send(user_id, message(locale), markup=markup, priority=Priority.ALERT)


# ---------------------------------------------------------------------------------------------
# Hand-overs


@dataclass(frozen=True, slots=True)
class Window:
    """The clock of a fresh window: sign-for for a hand-over, completion once signed."""

    status: Status
    window_start: datetime
    due_at: datetime
    blue_at: datetime
    stage: Stage
    next_check_at: datetime
    updated_at: datetime

    def columns(self) -> dict[str, object]:
        """The ticket's columns that the window sets, to store."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def window(category: Category, desk: Desk, status: Status) -> Window:
    """A fresh window's clock: sign-for for a hand-over, completion once signed."""
    rule = desk.config.complaints.rules[category]
    length = rule.complete if status is Status.SIGNED else rule.sign_for
    due = desk.now + length
    blue = stage_time(desk.now, due, Stage.WARNED)
    return Window(
        status=status,
        window_start=desk.now,
        due_at=due,
        blue_at=blue,
        stage=Stage.NONE,
        next_check_at=blue,
        updated_at=desk.now,
    )


async def hand_over(
    desk: Desk,
    complaint: Complaint,
    units: Mapping[int, Unit],
    to: Unit,
    action: Action,
    *,
    actor_id: int | None,
    note: str = "",
    returned_by: int | None = None,
) -> Complaint:
    """Give a ticket to a unit that must sign for it, with a new card for that unit's people."""
    fields = window(complaint.category, desk, Status.DISPATCHED)
    if not await desk.complaints.move(
        complaint, unit_id=to.id, returned_by=returned_by, **fields.columns()
    ):
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        action,
        actor_id=actor_id,
        from_unit=complaint.unit_id if action is not Action.DISPATCHED else None,
        to_unit=to.id,
        due_at=fields.due_at,
        note=note,
    )
    moved = await desk.reload(complaint.id)
    await refresh_cards(desk, moved, units)
    await deliver_cards(
        desk, moved, units, to, lambda locale: ui.handed_over(action, units, to.id, locale)
    )
    return moved


async def return_ticket(
    desk: Desk, actor: Actor, complaint_id: int, version: int, reason: ReturnReason, note: str
) -> Complaint:
    """退单: the unit says it is not theirs; the supervising unit must re-dispatch it."""
    complaint, units = await actionable(
        desk, actor, complaint_id, version, Status.DISPATCHED, Status.SIGNED
    )
    holder = units[complaint.unit_id]
    parent = supervisor_of(holder, units)
    if parent is None:
        raise NotAllowed(Reason.DISTRICT_FINAL, complaint.number)
    fields = window(complaint.category, desk, Status.RETURNED)
    if not await desk.complaints.move(
        complaint, unit_id=parent.id, returned_by=holder.id, **fields.columns()
    ):
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    why = ui.reason_name(reason, desk.config.bot.default_language)
    full_note = f"{why}: {note}" if note else why
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        Action.RETURNED,
        actor_id=actor.id,
        from_unit=holder.id,
        to_unit=parent.id,
        due_at=fields.due_at,
        note=full_note[:MAX_NOTE],
    )
    moved = await desk.reload(complaint.id)
    await refresh_cards(desk, moved, units)
    await deliver_cards(
        desk,
        moved,
        units,
        parent,
        lambda locale: ui.returned_headline(units, holder.id, full_note, locale),
    )
    await tell_residents(
        desk,
        moved,
        lambda locale: ui.returned_notice(moved, units, holder.id, parent.id, locale),
    )
    return moved


async def redispatch(
    desk: Desk, actor: Actor, complaint_id: int, version: int, target_id: int
) -> Complaint:
    """The supervising unit assigns a returned ticket to another unit (or takes it itself)."""
    complaint, units = await actionable(desk, actor, complaint_id, version, Status.RETURNED)
    holder = units[complaint.unit_id]
    compound = units[complaint.compound_id]
    targets = {u.id: u for u in redispatch_targets(holder, compound, units, complaint.returned_by)}
    if target_id not in targets:
        raise NotAllowed(Reason.NOT_HANDLING_UNIT, str(target_id))
    moved = await hand_over(
        desk, complaint, units, targets[target_id], Action.REDISPATCHED, actor_id=actor.id
    )
    await _tell_assigned(desk, moved, units)
    return moved


async def send_back(desk: Desk, actor: Actor, complaint_id: int, version: int) -> Complaint:
    """The supervising unit decides the returning unit was right to have it after all."""
    complaint, units = await actionable(desk, actor, complaint_id, version, Status.RETURNED)
    back = units.get(complaint.returned_by or 0)
    if back is None:
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    moved = await hand_over(desk, complaint, units, back, Action.SENT_BACK, actor_id=actor.id)
    await _tell_assigned(desk, moved, units)
    return moved


async def refer_up(desk: Desk, actor: Actor, complaint_id: int, version: int) -> Complaint:
    """A supervisor who cannot decide passes the returned ticket one level up."""
    complaint, units = await actionable(desk, actor, complaint_id, version, Status.RETURNED)
    holder = units[complaint.unit_id]
    parent = supervisor_of(holder, units)
    if parent is None:
        raise NotAllowed(Reason.DISTRICT_FINAL, complaint.number)
    fields = window(complaint.category, desk, Status.RETURNED)
    if not await desk.complaints.move(complaint, unit_id=parent.id, **fields.columns()):
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        Action.REFERRED,
        actor_id=actor.id,
        from_unit=holder.id,
        to_unit=parent.id,
    )
    moved = await desk.reload(complaint.id)
    await refresh_cards(desk, moved, units)
    await deliver_cards(
        desk,
        moved,
        units,
        parent,
        lambda locale: ui.referred_headline(units, holder.id, locale),
    )
    return moved


async def _tell_assigned(desk: Desk, complaint: Complaint, units: Mapping[int, Unit]) -> None:
    await tell_residents(
        desk, complaint, lambda locale: ui.assigned_notice(complaint, units, locale)
    )


# ---------------------------------------------------------------------------------------------
# Handling


async def sign_for(desk: Desk, actor: Actor, complaint_id: int, version: int) -> Complaint:
    """签收: the unit takes the ticket on; the completion clock starts."""
    complaint, units = await actionable(desk, actor, complaint_id, version, Status.DISPATCHED)
    fields = window(complaint.category, desk, Status.SIGNED)
    if not await desk.complaints.move(complaint, **fields.columns()):
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    await desk.complaints.add_event(
        complaint.id, desk.now, Action.SIGNED, actor_id=actor.id, from_unit=complaint.unit_id
    )
    moved = await desk.reload(complaint.id)
    await refresh_cards(desk, moved, units)
    zone = desk.config.bot.zone
    await tell_residents(
        desk,
        moved,
        lambda locale: ui.signed_notice(
            moved, units, acting_unit(actor, complaint, units), fields.due_at, zone, locale
        ),
    )
    return moved


async def add_progress(
    desk: Desk, actor: Actor, complaint_id: int, version: int, note: str
) -> Complaint:
    """A progress note: the reporter hears it; the ticket stays where it is."""
    complaint, units = await actionable(desk, actor, complaint_id, version, Status.SIGNED)
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        Action.PROGRESS,
        actor_id=actor.id,
        from_unit=complaint.unit_id,
        note=note[:MAX_NOTE],
    )
    await tell_residents(
        desk,
        complaint,
        lambda locale: ui.progress_notice(complaint, units, note[:MAX_NOTE], locale),
    )
    return complaint


async def complete(
    desk: Desk, actor: Actor, complaint_id: int, version: int, reply: str
) -> Complaint:
    """办结 with a reply to the resident, who is then asked to rate it (回访)."""
    complaint, units = await actionable(desk, actor, complaint_id, version, Status.SIGNED)
    rating_due = desk.now + desk.config.complaints.rating_window
    ok = await desk.complaints.move(
        complaint,
        status=Status.COMPLETED,
        reply=reply[:MAX_NOTE],
        due_at=None,
        blue_at=None,
        stage=Stage.NONE,
        next_check_at=rating_due,
        updated_at=desk.now,
    )
    if not ok:
        raise Stale(Reason.TICKET_MOVED, complaint.number)
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        Action.COMPLETED,
        actor_id=actor.id,
        from_unit=complaint.unit_id,
        note=reply[:MAX_NOTE],
    )
    moved = await desk.reload(complaint.id)
    await refresh_cards(desk, moved, units)
    await tell_residents(
        desk,
        moved,
        lambda locale: ui.completed_notice(moved, units, reply[:MAX_NOTE], locale),
        reporter_markup=lambda locale: ui.rating_keyboard(moved, locale),
    )
    return moved


async def ask_resident(
    desk: Desk, actor: Actor, complaint_id: int, version: int, question: str
) -> Complaint:
    """A question relayed to the reporter, who may be anonymous: staff never learn who it is."""
    complaint, units = await actionable(
        desk, actor, complaint_id, version, Status.DISPATCHED, Status.SIGNED, Status.RETURNED
    )
    await desk.complaints.add_event(
        complaint.id,
        desk.now,
        Action.ASKED,
        actor_id=actor.id,
        from_unit=complaint.unit_id,
        note=question[:MAX_NOTE],
    )
    locale = await desk.locale_of(complaint.reporter_id)
    await desk.outbox.send(
        complaint.reporter_id,
        ui.question(complaint, units, question[:MAX_NOTE], locale),
        markup=ui.answer_keyboard(complaint, actor.id, locale),
        priority=Priority.ALERT,
    )
    return complaint
