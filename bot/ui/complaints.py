"""How a complaint reads: category names, status lines, staff cards, residents' views, the
notices of each step and the clock's warnings, and the buttons on a ticket."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.domain.complaints import (
    Action,
    Category,
    Complaint,
    Draft,
    Light,
    Rating,
    ReturnReason,
    Status,
    light,
    redispatch_targets,
    supervisor_of,
)
from bot.domain.inputs import Id, TelegramId
from bot.domain.org import Unit
from bot.domain.rates import Event
from bot.ui.keyboard import InlineKeyboardBuilder


class TicketAction(StrEnum):
    SIGN = "s"
    RETURN = "r"  # show the reasons
    REASON = "rr"  # arg: the reason's index
    PROGRESS = "p"
    COMPLETE = "c"
    ASK = "q"
    REDISPATCH = "d"  # arg: the unit
    SEND_BACK = "b"
    REFER = "u"
    CARD = "k"  # back to the card's buttons
    VIEW = "v"
    RATE = "t"  # arg: the rating's index
    ANSWER = "a"  # arg: the staff member who asked


class TicketCb(CallbackData, prefix="tk"):
    """A button on a ticket. `v` is the ticket's version when the button was drawn: a button from
    before the ticket last moved is stale and refused."""

    action: TicketAction
    id: Id
    v: Id
    arg: TelegramId = 0  # a rating's or a reason's index, a unit, or the staff member who asked


RATINGS = (Rating.SATISFIED, Rating.BASIC, Rating.UNSATISFIED)
REASONS = tuple(ReturnReason)
LIGHTS = {Light.GREEN: "🟢", Light.BLUE: "🔵", Light.RED: "🔴"}


def category_name(category: Category, locale: str | None = None) -> str:
    return _category_names(locale or get_i18n().current_locale)[category]


@functools.lru_cache(maxsize=16)
def _category_names(locale: str) -> dict[Category, str]:
    """All the names in a language, translated once (a keyboard of the categories asked for each
    name: ten translations each)."""
    return {
        Category.PROPERTY_REPAIR: _("Property repair", locale=locale),
        Category.UTILITIES: _("Water, power, gas, heating", locale=locale),
        Category.SANITATION: _("Sanitation", locale=locale),
        Category.CLUTTER: _("Clutter or illegal building", locale=locale),
        Category.SAFETY_HAZARD: _("Safety hazard", locale=locale),
        Category.NEIGHBOUR_DISPUTE: _("Neighbour dispute", locale=locale),
        Category.PARKING_CHARGING: _("Parking or charging", locale=locale),
        Category.NOISE: _("Noise", locale=locale),
        Category.SUGGESTION: _("Suggestion", locale=locale),
        Category.OTHER: _("Other", locale=locale),
    }


def status_name(status: Status, locale: str | None = None) -> str:
    names = {
        Status.DISPATCHED: _("waiting to be signed for", locale=locale),
        Status.SIGNED: _("being handled", locale=locale),
        Status.RETURNED: _("returned, being re-assigned", locale=locale),
        Status.COMPLETED: _("done, waiting for your rating", locale=locale),
        Status.CLOSED: _("closed", locale=locale),
    }
    return names[status]


def rating_name(rating: Rating | str, locale: str | None = None) -> str:
    names = {
        Rating.SATISFIED: _("Satisfied", locale=locale),
        Rating.BASIC: _("Basically satisfied", locale=locale),
        Rating.UNSATISFIED: _("Unsatisfied", locale=locale),
    }
    return names.get(Rating(rating), "") if rating in set(Rating) else _("not rated", locale=locale)


def reason_name(reason: ReturnReason, locale: str | None = None) -> str:
    names = {
        ReturnReason.NOT_OUR_AREA: _("Not our area", locale=locale),
        ReturnReason.UNCLEAR_OWNER: _("Unclear who is responsible", locale=locale),
        ReturnReason.OVERLAP: _("Overlapping duties", locale=locale),
        ReturnReason.OTHER: _("Other reason", locale=locale),
    }
    return names[reason]


def local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%m-%d %H:%M")


def unit_name(units: Mapping[int, Unit], unit_id: int | None, locale: str) -> str:
    unit = units.get(unit_id or 0)
    return html.quote(unit.display_name(locale)) if unit else "—"


def card_text(
    complaint: Complaint,
    units: Mapping[int, Unit],
    reporter_name: str | None,
    locale: str,
    zone: ZoneInfo,
    now: datetime,
) -> str:
    """A staff card: everything a unit needs to act, and never who reported an anonymous ticket.
    `reporter_name` is None for a card in a group chat, which never names the reporter (the
    staff's private cards do)."""
    lamp = ""
    if complaint.is_open and complaint.due_at is not None:
        lamp = LIGHTS[light(complaint.window_start, complaint.due_at, now)] + " "
    lines = [
        f"{lamp}<b>{complaint.number}</b> · {category_name(complaint.category, locale)}",
        _("Compound: {compound}", locale=locale).format(
            compound=unit_name(units, complaint.compound_id, locale)
        ),
        _("Problem: {text}", locale=locale).format(text=html.quote(complaint.text)),
    ]
    extras = []
    if complaint.photos:
        extras.append(_("📷 {count} photo(s)", locale=locale).format(count=len(complaint.photos)))
    if complaint.lat is not None and complaint.lon is not None:
        extras.append(f"📍 {complaint.lat:.5f}, {complaint.lon:.5f}")
    if extras:
        lines.append(" · ".join(extras))
    if complaint.proxy_for is not None and reporter_name is None:
        who = _("a household contact, for a resident without Telegram (代办)", locale=locale)
    elif complaint.proxy_for is not None:
        who = _("{proxy}, for {resident} (代办)", locale=locale).format(
            proxy=html.quote(reporter_name or "—"), resident=html.quote(complaint.proxy_for)
        )
    elif complaint.anonymous:
        who = _("anonymous resident", locale=locale)
    elif reporter_name is None:
        who = _("a resident (the name is shown in private chats only)", locale=locale)
    else:
        who = html.quote(reporter_name)
    lines.append(_("Reported by: {who}", locale=locale).format(who=who))
    lines.append(
        _("Now with: {unit} — {status}", locale=locale).format(
            unit=unit_name(units, complaint.unit_id, locale),
            status=status_name(complaint.status, locale),
        )
    )
    if complaint.is_open and complaint.due_at is not None:
        key = (
            _("Sign for by {due}", locale=locale)
            if complaint.status is not Status.SIGNED
            else _("Complete by {due}", locale=locale)
        )
        lines.append(key.format(due=local(complaint.due_at, zone)))
    if complaint.reply:
        lines.append(_("Reply: {reply}", locale=locale).format(reply=html.quote(complaint.reply)))
    if complaint.status is Status.CLOSED:
        rating = complaint.rating or "unrated"
        lines.append(
            _("Rating: {rating}", locale=locale).format(rating=rating_name(rating, locale))
        )
    return "\n".join(lines)


def draft_text(draft: Draft, compound: str, locale: str | None = None, for_whom: str = "") -> str:
    """The complaint being written, with what is still missing (`for_whom`: 代办, the resident
    and household it is written for)."""
    category = category_name(draft.category, locale) if draft.category else "—"
    lines = [
        _("<b>Your report</b> ({compound})", locale=locale).format(compound=html.quote(compound)),
        *(
            [_("📝 By proxy (代办) for {whom}", locale=locale).format(whom=html.quote(for_whom))]
            if for_whom
            else []
        ),
        _("Category: {category}", locale=locale).format(category=category),
        _("Problem: {text}", locale=locale).format(text=html.quote(draft.text) or "—"),
        _(
            "Photos: {count}/3 · Location: {location} · Anonymous: {anonymous}", locale=locale
        ).format(
            count=len(draft.photos),
            location=_("yes", locale=locale) if draft.lat is not None else _("no", locale=locale),
            anonymous=_("yes", locale=locale) if draft.anonymous else _("no", locale=locale),
        ),
        "",
    ]
    if draft.category is None:
        lines.append(_("Tap the category that fits best.", locale=locale))
    elif not draft.text.strip():
        lines.append(
            _("Now describe the problem in a message: what, where, since when.", locale=locale)
        )
    else:
        lines.append(
            _(
                "You may add up to 3 photos or share a location (📎 → Location). "
                "When it is all there, tap Submit.",
                locale=locale,
            )
        )
    return "\n".join(lines)


def history_lines(
    events: Sequence[Event], units: Mapping[int, Unit], locale: str, zone: ZoneInfo
) -> list[str]:
    """The ticket's trail as a resident may see it: units, never staff names."""
    lines = []
    for event in events:
        text = _event_text(event, units, locale)
        if text:
            lines.append(f"{local(event.at, zone)} {text}")
    return lines


def _event_text(event: Event, units: Mapping[int, Unit], locale: str) -> str | None:
    frm = unit_name(units, event.from_unit, locale)
    to = unit_name(units, event.to_unit, locale)
    note = html.quote(event.note)
    match event.action:
        case Action.CREATED:
            return _("reported", locale=locale)
        case Action.DISPATCHED | Action.REDISPATCHED | Action.SENT_BACK:
            return _("assigned to {unit}", locale=locale).format(unit=to)
        case Action.SIGNED:
            return _("signed for by {unit}", locale=locale).format(unit=frm)
        case Action.RETURNED:
            return _("returned by {unit} to {parent}: {note}", locale=locale).format(
                unit=frm, parent=to, note=note
            )
        case Action.PROGRESS:
            return _("progress from {unit}: {note}", locale=locale).format(unit=frm, note=note)
        case Action.COMPLETED:
            return _("completed by {unit}: {note}", locale=locale).format(unit=frm, note=note)
        case Action.RATED:
            return _("rated: {rating}", locale=locale).format(
                rating=rating_name(event.note, locale)
            )
        case Action.PROXY_RATED:
            return _("rated by proxy (代办): {rating}", locale=locale).format(
                rating=rating_name(event.note, locale)
            )
        case Action.REOPENED:
            return _("reopened at {unit}: {note}", locale=locale).format(unit=to, note=note)
        case Action.REFERRED:
            return _("referred by {unit} to {parent}", locale=locale).format(unit=frm, parent=to)
        case Action.CLOSED:
            return _("closed", locale=locale)
        case Action.CHASED:
            return _("overdue: {unit} was chased", locale=locale).format(unit=to)
        case _:
            return None


def title(complaint: Complaint, locale: str) -> str:
    return f"<b>{complaint.number}</b> · {category_name(complaint.category, locale)}"


@dataclass(frozen=True, slots=True)
class CardView:
    """A staff card as one chat reads it: the text, and the buttons if that chat may act."""

    text: str
    markup: InlineKeyboardMarkup | None


def card(
    complaint: Complaint,
    units: Mapping[int, Unit],
    reporter_name: str | None,
    locale: str,
    zone: ZoneInfo,
    now: datetime,
    *,
    buttons: bool,
) -> CardView:
    text = card_text(complaint, units, reporter_name, locale, zone, now)
    return CardView(text, staff_keyboard(complaint, units, locale) if buttons else None)


def ticket_view(
    complaint: Complaint,
    units: Mapping[int, Unit],
    events: Sequence[Event],
    locale: str,
    zone: ZoneInfo,
) -> str:
    """A ticket and its history, for its reporter, its followers and staff who may act on it."""
    lines = [
        title(complaint, locale),
        _("Compound: {compound}", locale=locale).format(
            compound=unit_name(units, complaint.compound_id, locale)
        ),
        _("Problem: {text}", locale=locale).format(text=html.quote(complaint.text)),
        _("Status: {status} ({unit})", locale=locale).format(
            status=status_name(complaint.status, locale),
            unit=unit_name(units, complaint.unit_id, locale),
        ),
    ]
    if complaint.reply:
        lines.append(_("Reply: {reply}", locale=locale).format(reply=html.quote(complaint.reply)))
    lines += ["", _("History:", locale=locale)]
    lines += history_lines(events, units, locale, zone)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# What staff are told with a new card, and what residents hear of each step


def handed_over(action: Action, units: Mapping[int, Unit], to_id: int, locale: str) -> str:
    """The headline of a card for the unit a ticket was just given to."""
    unit = unit_name(units, to_id, locale)
    if action is Action.DISPATCHED:
        return _("🆕 New complaint for {unit}", locale=locale).format(unit=unit)
    if action is Action.SENT_BACK:
        return _("⤴️ Sent back to {unit}: please handle it", locale=locale).format(unit=unit)
    return _("➡️ Assigned to {unit}", locale=locale).format(unit=unit)


def returned_headline(units: Mapping[int, Unit], holder_id: int, note: str, locale: str) -> str:
    return _(
        "↩️ Returned by {unit} ({reason}). Please assign it to the right unit.", locale=locale
    ).format(unit=unit_name(units, holder_id, locale), reason=html.quote(note))


def returned_notice(
    complaint: Complaint, units: Mapping[int, Unit], holder_id: int, parent_id: int, locale: str
) -> str:
    return _(
        "{title}: {unit} says it is not theirs; {parent} is assigning it to the right unit.",
        locale=locale,
    ).format(
        title=title(complaint, locale),
        unit=unit_name(units, holder_id, locale),
        parent=unit_name(units, parent_id, locale),
    )


def referred_headline(units: Mapping[int, Unit], holder_id: int, locale: str) -> str:
    return _("⬆️ Referred by {unit} for your decision.", locale=locale).format(
        unit=unit_name(units, holder_id, locale)
    )


def assigned_notice(complaint: Complaint, units: Mapping[int, Unit], locale: str) -> str:
    return _("{title} is now with {unit}.", locale=locale).format(
        title=title(complaint, locale), unit=unit_name(units, complaint.unit_id, locale)
    )


def signed_notice(
    complaint: Complaint,
    units: Mapping[int, Unit],
    signer: int,
    due: datetime,
    zone: ZoneInfo,
    locale: str,
) -> str:
    """`signer`: the unit that signed for it (the one above, after an escalation)."""
    return _(
        "{title}: {unit} has signed for it and will handle it by {due}.", locale=locale
    ).format(
        title=title(complaint, locale),
        unit=unit_name(units, signer, locale),
        due=local(due, zone),
    )


def progress_notice(complaint: Complaint, units: Mapping[int, Unit], note: str, locale: str) -> str:
    return _("{title}: news from {unit}: {note}", locale=locale).format(
        title=title(complaint, locale),
        unit=unit_name(units, complaint.unit_id, locale),
        note=html.quote(note),
    )


def completed_notice(
    complaint: Complaint, units: Mapping[int, Unit], reply: str, locale: str
) -> str:
    if complaint.proxy_for is not None:  # 代办: the proxy relays it, and the rating
        return _(
            "{title}: {unit} has completed it.\nTheir reply: {reply}\n\nPlease tell {name}, ask "
            "how satisfied they are, and tap their answer (it is counted as a rating by proxy).",
            locale=locale,
        ).format(
            title=title(complaint, locale),
            unit=unit_name(units, complaint.unit_id, locale),
            reply=html.quote(reply),
            name=html.quote(complaint.proxy_for),
        )
    return _(
        "{title}: {unit} has completed it.\nTheir reply: {reply}\n\nHow satisfied are you?",
        locale=locale,
    ).format(
        title=title(complaint, locale),
        unit=unit_name(units, complaint.unit_id, locale),
        reply=html.quote(reply),
    )


def question(complaint: Complaint, units: Mapping[int, Unit], text: str, locale: str) -> str:
    """A staff member's question, as the reporter reads it (the unit, never the person)."""
    return _("{title}: {unit} asks: {question}", locale=locale).format(
        title=title(complaint, locale),
        unit=unit_name(units, complaint.unit_id, locale),
        question=html.quote(text),
    )


def answer(complaint: Complaint, text: str, locale: str) -> str:
    """The reporter's answer, as the staff member who asked reads it (never who they are)."""
    return _("{title}: the resident answers: {text}", locale=locale).format(
        title=title(complaint, locale), text=html.quote(text)
    )


def reopened_headline(reason: str, locale: str) -> str:
    return _("🔁 Reopened: the resident is not satisfied. Reason: {reason}", locale=locale).format(
        reason=html.quote(reason) or "—"
    )


def reopened_for_supervisor(
    complaint: Complaint, units: Mapping[int, Unit], holder_id: int, reason: str, locale: str
) -> str:
    return _(
        "For your information: {title} at {unit} was reopened; the resident is not "
        "satisfied. Reason: {reason}",
        locale=locale,
    ).format(
        title=title(complaint, locale),
        unit=unit_name(units, holder_id, locale),
        reason=html.quote(reason) or "—",
    )


def reopened_notice(
    complaint: Complaint, units: Mapping[int, Unit], holder_id: int, locale: str
) -> str:
    return _("{title} is reopened at {unit}.", locale=locale).format(
        title=title(complaint, locale), unit=unit_name(units, holder_id, locale)
    )


def taken_over_notice(
    complaint: Complaint, units: Mapping[int, Unit], parent_id: int, locale: str
) -> str:
    return _(
        "{title}: not satisfied a second time, so {parent} takes it over.", locale=locale
    ).format(title=title(complaint, locale), parent=unit_name(units, parent_id, locale))


def closed_unrated_notice(complaint: Complaint, locale: str) -> str:
    return _("{title} is closed without a rating.", locale=locale).format(
        title=title(complaint, locale)
    )


# ---------------------------------------------------------------------------------------------
# The clock (督办)


def _verb(complaint: Complaint, locale: str) -> str:
    if complaint.status is Status.SIGNED:
        return _("complete", locale=locale)
    if complaint.status is Status.RETURNED:
        return _("re-assign", locale=locale)
    return _("sign for", locale=locale)


def nearly_due(complaint: Complaint, zone: ZoneInfo, locale: str) -> str:
    """The blue warning to the unit holding a ticket."""
    assert complaint.due_at is not None
    return _("🔵 {title}: time is nearly up. Please {verb} it by {due}.", locale=locale).format(
        title=title(complaint, locale),
        verb=_verb(complaint, locale),
        due=local(complaint.due_at, zone),
    )


def overdue_headline(
    complaint: Complaint, units: Mapping[int, Unit], holder_id: int, zone: ZoneInfo, locale: str
) -> str:
    """The headline of the card a supervising unit gets for a ticket overdue below it."""
    assert complaint.due_at is not None
    return _(
        "🔴 Overdue, for your supervision: {unit} did not {verb} it by {due}.", locale=locale
    ).format(
        unit=unit_name(units, holder_id, locale),
        verb=_verb(complaint, locale),
        due=local(complaint.due_at, zone),
    )


def overdue_notice(
    complaint: Complaint, units: Mapping[int, Unit], supervisor_id: int, zone: ZoneInfo, locale: str
) -> str:
    """What the late unit is told when its supervisor is."""
    assert complaint.due_at is not None
    return _(
        "🔴 {title} is overdue (due {due}); {supervisor} has been told.", locale=locale
    ).format(
        title=title(complaint, locale),
        due=local(complaint.due_at, zone),
        supervisor=unit_name(units, supervisor_id, locale),
    )


# ---------------------------------------------------------------------------------------------
# Buttons


def staff_keyboard(
    complaint: Complaint, units: Mapping[int, Unit], locale: str
) -> InlineKeyboardMarkup | None:
    """The buttons for those who may act on a ticket in its current state (none once it is done)."""
    builder = InlineKeyboardBuilder()

    def add(text: str, action: TicketAction, arg: int = 0) -> None:
        builder.button(
            text=text,
            callback_data=TicketCb(action=action, id=complaint.id, v=complaint.version, arg=arg),
        )

    holder = units.get(complaint.unit_id)
    if complaint.status is Status.DISPATCHED:
        add(_("✅ Sign for", locale=locale), TicketAction.SIGN)
        if holder is not None and supervisor_of(holder, units) is not None:
            add(_("↩️ Return", locale=locale), TicketAction.RETURN)
    elif complaint.status is Status.SIGNED:
        add(_("📝 Progress", locale=locale), TicketAction.PROGRESS)
        add(_("✔️ Complete", locale=locale), TicketAction.COMPLETE)
        add(_("❓ Ask the resident", locale=locale), TicketAction.ASK)
        if holder is not None and supervisor_of(holder, units) is not None:
            add(_("↩️ Return", locale=locale), TicketAction.RETURN)
    elif complaint.status is Status.RETURNED and holder is not None:
        compound = units.get(complaint.compound_id)
        targets = (
            redispatch_targets(holder, compound, units, complaint.returned_by) if compound else []
        )
        for target in targets:
            label = (
                _("🙋 We handle it", locale=locale)
                if target.id == holder.id
                else _("➡️ To {unit}", locale=locale).format(unit=target.display_name(locale))
            )
            add(label, TicketAction.REDISPATCH, target.id)
        if complaint.returned_by is not None and complaint.returned_by in units:
            add(
                _("⤴️ Send back to {unit}", locale=locale).format(
                    unit=units[complaint.returned_by].display_name(locale)
                ),
                TicketAction.SEND_BACK,
            )
        if supervisor_of(holder, units) is not None:
            add(_("⬆️ Refer upwards", locale=locale), TicketAction.REFER)
    else:
        return None
    builder.adjust(2 if complaint.status is not Status.RETURNED else 1)
    return builder.as_markup()


def reasons_keyboard(complaint: Complaint, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, reason in enumerate(REASONS):
        builder.button(
            text=reason_name(reason, locale),
            callback_data=TicketCb(
                action=TicketAction.REASON, id=complaint.id, v=complaint.version, arg=index
            ),
        )
    builder.button(
        text=_("« Back", locale=locale),
        callback_data=TicketCb(action=TicketAction.CARD, id=complaint.id, v=complaint.version),
    )
    builder.adjust(2)
    return builder.as_markup()


def rating_keyboard(complaint: Complaint, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, rating in enumerate(RATINGS):
        builder.button(
            text=rating_name(rating, locale),
            callback_data=TicketCb(
                action=TicketAction.RATE, id=complaint.id, v=complaint.version, arg=index
            ),
        )
    builder.adjust(3)
    return builder.as_markup()


def answer_keyboard(complaint: Complaint, asker_id: int, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("💬 Reply", locale=locale),
        callback_data=TicketCb(
            action=TicketAction.ANSWER, id=complaint.id, v=complaint.version, arg=asker_id
        ),
    )
    return builder.as_markup()
