"""Party members in the private chat: /party (报到 registration), the branch's approval card,
/myrecord, and /roster with the XLSX ledgers. Activities and check-in: handlers/activities.py."""

from __future__ import annotations

from dataclasses import asdict, replace
from enum import StrEnum
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.delivery.outbox import Outbox
from bot.domain.errors import DomainError, NotAllowed, NotFound, Refused
from bot.domain.inputs import Id
from bot.domain.party import (
    MAX_FIELD,
    MAX_NAME,
    AttendanceStatus,
    MemberType,
    Registration,
    RegStatus,
)
from bot.domain.people import Actor
from bot.services import exports, party
from bot.services.desk import Desk
from bot.services.party import PartyAction, PartyCb
from handlers.common import close_card, private_state, refuse_button
from handlers.onboarding import ask_compound
from storage.files import FileRepo

TYPES = tuple(MemberType)
MAX_REASON = 300
BRANCH_ACTIONS = (
    PartyAction.APPROVE,
    PartyAction.REJECT,
    PartyAction.ROSTER,
    PartyAction.ROSTER_XLSX,
    PartyAction.LEDGER_XLSX,
)


class Party(StatesGroup):
    register = State()
    reason = State()  # a branch officer writes why a registration is rejected


class FormAction(StrEnum):
    UPDATE = "u"  # from /party: fill the form again
    USE_NAME = "n"
    TYPE = "t"  # arg: index into TYPES
    SUBMIT = "s"
    CANCEL = "x"


class FormCb(CallbackData, prefix="pr"):
    action: FormAction
    arg: Id = 0


def buttons(*rows: tuple[str, CallbackData], columns: int = 2) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in rows:
        builder.button(text=text, callback_data=data)
    builder.adjust(columns)
    return builder.as_markup()


def cancel_button(data: CallbackData | None = None) -> tuple[str, CallbackData]:
    return _("✖ Cancel"), data or FormCb(action=FormAction.CANCEL)


async def refused(desk: Desk, chat_id: int, error: DomainError, locale: str) -> None:
    await desk.outbox.send(chat_id, why(desk, error, locale))


def why(desk: Desk, error: DomainError, locale: str) -> str:
    if isinstance(error, Refused):
        return party.refusal_text(desk, error, locale)
    if isinstance(error, NotAllowed):
        return _("Only the compound's party branch (or the community above it) can do this.")
    return _("I cannot find that any more.")


# --- 报到: the registration form ------------------------------------------------------------------


class Step(StrEnum):
    NAME = "name"
    BUILDING = "building"
    WORKPLACE = "workplace"
    TYPE = "type"
    PHONE = "phone"
    CONFIRM = "confirm"


def _step(form: Registration) -> Step:
    if not form.name:
        return Step.NAME
    if not form.building:
        return Step.BUILDING
    if not form.workplace:
        return Step.WORKPLACE
    if form.type is None:
        return Step.TYPE
    if form.phone is None and not form.phone_asked:
        return Step.PHONE
    return Step.CONFIRM


def _load_form(data: dict[str, Any]) -> Registration | None:
    raw = data.get("form")
    if not isinstance(raw, dict):
        return None
    return Registration(
        name=str(raw.get("name", "")),
        building=str(raw.get("building", "")),
        workplace=str(raw.get("workplace", "")),
        type=MemberType(raw["type"]) if raw.get("type") else None,
        phone=raw.get("phone"),
        phone_asked=bool(raw.get("phone_asked")),
    )


async def _save_form(state: FSMContext, form: Registration) -> None:
    await state.set_state(Party.register)
    await state.set_data({"form": asdict(form)})


async def _ask_form(
    chat_id: int, form: Registration, actor: Actor, outbox: Outbox, lead: str = ""
) -> None:
    step = _step(form)
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup
    if step is Step.NAME:
        text = _("Party member registration (报到). What is your full name?")
        markup = buttons(
            (
                _("Use “{name}”").format(name=actor.user.first_name[:MAX_NAME]),
                FormCb(action=FormAction.USE_NAME),
            ),
            cancel_button(),
        )
    elif step is Step.BUILDING:
        text = _("Which building and flat do you live in? (for example: 3号楼2单元501)")
        markup = buttons(cancel_button())
    elif step is Step.WORKPLACE:
        text = _(
            "Which party organisation does your membership belong to (your workplace's, or "
            "your retirement office's)? (for example: 市第一人民医院党委)"
        )
        markup = buttons(cancel_button())
    elif step is Step.TYPE:
        text = _("Which describes you?")
        markup = buttons(
            *(
                (party.member_type_name(kind, actor.locale), FormCb(action=FormAction.TYPE, arg=n))
                for n, kind in enumerate(TYPES)
            ),
            cancel_button(),
            columns=1,
        )
    elif step is Step.PHONE:
        text = _(
            "The branch may need to reach you. Share your phone number with the button below "
            "(only the branch sees it), or tap “Skip”."
        )
        markup = ReplyKeyboardMarkup(
            keyboard=[
                [KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)],
                [KeyboardButton(text=_("Skip"))],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    else:
        lines = [
            _("<b>Your registration</b>"),
            _("Name: {name}").format(name=html.quote(form.name)),
            _("Building: {building}").format(building=html.quote(form.building)),
            _("Workplace party organisation: {org}").format(org=html.quote(form.workplace)),
            _("Type: {type}").format(
                type=party.member_type_name(form.type, actor.locale) if form.type else "—"
            ),
            _("Phone: {phone}").format(
                phone=html.quote(form.phone) if form.phone else _("not given")
            ),
            "",
            _("Send it to your compound's party branch?"),
        ]
        text = "\n".join(lines)
        markup = buttons((_("✅ Send"), FormCb(action=FormAction.SUBMIT)), cancel_button())
    await outbox.send(chat_id, (lead + "\n\n" if lead else "") + text, markup=markup)


async def cmd_party(
    message: Message,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    """Show the registration, or start one."""
    if actor.user.compound_id is None:
        await desk.outbox.send(message.chat.id, _("First, please tell me where you live."))
        await ask_compound(message.chat.id, actor, desk.session, desk.outbox, state)
        return
    member = await desk.party.current(actor.id)
    if member is None or not member.current or member.compound_id != actor.user.compound_id:
        lead = ""
        if member is not None and member.current:
            lead = _("You moved: this registers you with your new compound's branch.")
        form = Registration()
        await _save_form(state, form)
        await _ask_form(message.chat.id, form, actor, desk.outbox, lead)
        return
    compound = await party.compound_of(desk, member.compound_id)
    lines = [
        _("<b>Your party member registration (报到)</b>"),
        *party.details(member, compound, actor.locale),
        _("Status: {status}").format(
            status=party.registration_status_name(member.status, actor.locale)
        ),
    ]
    await desk.outbox.send(
        message.chat.id,
        "\n".join(lines),
        markup=buttons((_("✏ Update my details"), FormCb(action=FormAction.UPDATE))),
    )


async def on_form_text(
    message: Message,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    form = _load_form(await state.get_data())
    if form is None:
        await state.clear()
        return
    text = " ".join((message.text or "").split())
    step = _step(form)
    if not text:
        await desk.outbox.send(message.chat.id, _("Please write it in a few words."))
        return
    if step is Step.NAME:
        form = replace(form, name=text[:MAX_NAME])
    elif step is Step.BUILDING:
        form = replace(form, building=text[:MAX_FIELD])
    elif step is Step.WORKPLACE:
        form = replace(form, workplace=text[:MAX_FIELD])
    elif step is Step.PHONE:  # "Skip" from the keyboard, or anything typed
        if text != _("Skip"):
            await desk.outbox.send(
                message.chat.id,
                _("Please use the button to share your number, or tap “Skip”."),
            )
            return
        form = replace(form, phone_asked=True)
        await desk.outbox.send(
            message.chat.id, _("No phone number, fine."), markup=ReplyKeyboardRemove()
        )
    else:
        await _ask_form(
            message.chat.id, form, actor, desk.outbox, _("Please use the buttons below.")
        )
        return
    await _save_form(state, form)
    await _ask_form(message.chat.id, form, actor, desk.outbox)


async def on_form_contact(
    message: Message, actor: Actor, outbox: Outbox, state: FSMContext
) -> None:
    form = _load_form(await state.get_data())
    contact = message.contact
    if form is None or contact is None:
        return
    if contact.user_id != actor.id:
        await outbox.send(
            message.chat.id, _("Please share your own number with the button below, or tap “Skip”.")
        )
        return
    form = replace(form, phone=contact.phone_number[:32], phone_asked=True)
    await _save_form(state, form)
    await outbox.send(message.chat.id, _("Thank you."), markup=ReplyKeyboardRemove())
    await _ask_form(message.chat.id, form, actor, outbox)


async def on_form_other(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _("Please answer with text or the buttons, or /cancel."))


async def on_form_button(
    callback: CallbackQuery,
    callback_data: FormCb,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    state = private_state(state, actor.id)
    action, arg = callback_data.action, callback_data.arg
    current = await state.get_state()
    if action is FormAction.UPDATE:
        member = await desk.party.current(actor.id)
        if member is None or not member.current:
            await refuse_button(desk.outbox, callback)
            return
        await desk.outbox.answer_callback(actor.id, callback.id)
        again = Registration()
        await _save_form(state, again)
        await _ask_form(actor.id, again, actor, desk.outbox)
        return
    loaded = _load_form(await state.get_data()) if current == Party.register.state else None
    if loaded is None:
        await refuse_button(
            desk.outbox, callback, _("This form is no longer open. Send /party to start again.")
        )
        return
    form = loaded
    await desk.outbox.answer_callback(actor.id, callback.id)
    step = _step(form)
    if action is FormAction.CANCEL:
        await state.clear()
        await desk.outbox.send(
            actor.id, _("Cancelled. Nothing was saved."), markup=ReplyKeyboardRemove()
        )
        return
    if action is FormAction.USE_NAME and step is Step.NAME:
        form = replace(form, name=actor.user.first_name[:MAX_NAME] or "—")
    elif action is FormAction.TYPE and step is Step.TYPE and 0 <= arg < len(TYPES):
        form = replace(form, type=TYPES[arg])
    elif action is FormAction.SUBMIT and step is Step.CONFIRM:
        await state.clear()
        try:
            member, new = await party.register(desk, actor, form)
        except NotFound:
            await desk.outbox.send(actor.id, _("First, please tell me where you live. /profile"))
            return
        if new:
            text = _(
                "Sent to your compound's party branch. I will tell you when they have looked at "
                "it. (No. {id})"
            ).format(id=member.id)
        else:
            text = _("Your details are updated.")
        await desk.outbox.send(actor.id, text)
        return
    else:
        await _ask_form(actor.id, form, actor, desk.outbox)
        return
    await _save_form(state, form)
    await _ask_form(actor.id, form, actor, desk.outbox)


# --- the branch decides ---------------------------------------------------------------------------


async def on_party_button(
    callback: CallbackQuery,
    callback_data: PartyCb,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    action, target = callback_data.action, callback_data.id
    done = ""
    try:
        if action is PartyAction.APPROVE:
            await party.decide(desk, actor, target, approve=True)
            card_locale = await _card_locale(desk, callback, actor)
            await close_card(callback, desk.outbox, _approved_by(actor, card_locale))
            done = _approved_by(actor)
        elif action is PartyAction.REJECT:
            await _ask_reason(desk, actor, target, callback, state)
        elif action is PartyAction.ROSTER:
            await _show_roster(desk, actor, target)
        else:
            await _send_xlsx(desk, actor, target, action is PartyAction.ROSTER_XLSX)
            done = _("Preparing the file…")
    except DomainError as error:
        await refuse_button(desk.outbox, callback, why(desk, error, actor.locale))
        return
    await desk.outbox.answer_callback(actor.id, callback.id, done or None)


def _approved_by(actor: Actor, locale: str | None = None) -> str:
    return _("✅ Approved by {name}.", locale=locale).format(name=html.quote(actor.user.first_name))


async def _card_locale(desk: Desk, callback: CallbackQuery, actor: Actor) -> str:
    """The language of the chat the card is in: a group's, or the person's own."""
    message = callback.message
    if isinstance(message, Message) and message.chat.id != actor.id:
        return await desk.locale_of(message.chat.id)
    return actor.locale


async def _ask_reason(
    desk: Desk, actor: Actor, member_id: int, callback: CallbackQuery, state: FSMContext
) -> None:
    """Before asking why, check that the officer may decide and that it is still waiting."""
    member, _compound = await party.decidable(desk, actor, member_id)
    message = callback.message
    card = (message.chat.id, message.message_id) if isinstance(message, Message) else (0, 0)
    state = private_state(state, actor.id)
    await state.set_state(Party.reason)
    await state.set_data({"member": member_id, "card": list(card)})
    await desk.outbox.send(
        actor.id,
        _(
            "Why is registration #{id} ({name}) not approved? Write the reason; they will see it. "
            "(/cancel to stop)"
        ).format(id=member.id, name=html.quote(member.name)),
    )


async def on_reason_text(
    message: Message,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    reason = " ".join((message.text or "").split())[:MAX_REASON]
    if not reason:
        await desk.outbox.send(message.chat.id, _("Please write the reason in a few words."))
        return
    data = await state.get_data()
    await state.clear()
    try:
        member, compound = await party.decide(
            desk, actor, int(data.get("member", 0)), approve=False, reason=reason
        )
    except DomainError as error:
        await refused(desk, message.chat.id, error, actor.locale)
        return
    chat_id, message_id = (int(n) for n in (data.get("card") or [0, 0])[:2])
    if chat_id and message_id:
        name = html.quote(actor.user.first_name)
        if chat_id > 0:  # the officer's own card: everything, and the reason
            locale = actor.locale
            result = _("✖ Not approved by {name}: {reason}").format(
                name=name, reason=html.quote(reason)
            )
        else:  # a group's card: neither the details nor the reason (it may name them)
            locale = await desk.locale_of(chat_id)
            result = _(
                "✖ Not approved by {name}; the applicant was told why.", locale=locale
            ).format(name=name)
        text = party.card_text(member, compound, locale, chat_id)
        await desk.outbox.edit(chat_id, message_id, text + "\n\n" + result)
    await desk.outbox.send(message.chat.id, _("Done: they were told the reason."))


async def on_not_text(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _("Please write it as a text message, or /cancel."))


# --- records ------------------------------------------------------------------------------------------


async def cmd_myrecord(
    message: Message,
    actor: Actor,
    desk: Desk,
) -> None:
    rows = await party.my_record(desk, actor)
    year = desk.year_start().year
    taken = [r for r in rows if r.attendance.checked_in_at is not None]
    total = sum(r.attendance.minutes for r in taken)
    lines = [
        _("<b>Your service record, {year}</b>").format(year=year),
        _("Activities taken part in: {count}; hours: {hours}").format(
            count=len(taken), hours=party.hours_text(total)
        ),
    ]
    for row in rows:
        a = row.attendance
        if a.checked_out_at is not None:
            part = _("{hours} h").format(hours=party.hours_text(a.minutes))
        elif a.checked_in_at is not None:
            part = _("checked in")
        elif a.status is AttendanceStatus.CANCELLED:
            part = _("cancelled")
        else:
            part = _("signed up")
        when = desk.local(row.activity.starts_at, "%m-%d")
        lines.append(f"• {when} {html.quote(row.activity.title)} — {part}")
    if not rows:
        lines.append(_("Nothing yet this year. /activities shows what is coming."))
    await desk.outbox.send(message.chat.id, "\n".join(lines))


async def cmd_roster(
    message: Message,
    actor: Actor,
    desk: Desk,
) -> None:
    scopes = await party.managed_scopes(desk, actor)
    if not scopes:
        await desk.outbox.send(
            message.chat.id,
            _("The roster is for the compound's party branch and the units above it."),
        )
        return
    if len(scopes) == 1:
        await _show_roster(desk, actor, scopes[0].id)
        return
    await desk.outbox.send(
        message.chat.id,
        _("Whose roster?"),
        markup=buttons(
            *(
                (u.display_name(actor.locale), PartyCb(action=PartyAction.ROSTER, id=u.id))
                for u in scopes[:30]
            )
        ),
    )


async def _show_roster(desk: Desk, actor: Actor, unit_id: int) -> None:
    roster = await party.roster(desk, actor, unit_id)
    approved = [m for m in roster.members if m.status is RegStatus.APPROVED]
    pending = [m for m in roster.members if m.status is RegStatus.PENDING]
    lines = [
        _("<b>Party members of {unit}</b>").format(
            unit=html.quote(roster.scope.display_name(actor.locale))
        ),
        _("Registered: {approved}; waiting for approval: {pending}").format(
            approved=len(approved), pending=len(pending)
        ),
        "",
    ]
    for member in (*approved, *pending)[:60]:
        count, minutes = roster.hours.get(member.user_id, (0, 0))
        waiting = "" if member.approved else " · " + _("waiting")
        lines.append(
            _("• {name} ({building}){waiting}: {count} activities, {hours} h").format(
                name=html.quote(member.name),
                building=html.quote(member.building),
                waiting=waiting,
                count=count,
                hours=party.hours_text(minutes),
            )
        )
    if len(approved) + len(pending) > 60:
        lines.append(_("… and more in the XLSX roster."))
    await desk.outbox.send(
        actor.id,
        "\n".join(lines),
        markup=buttons(
            (_("⬇ Roster (XLSX)"), PartyCb(action=PartyAction.ROSTER_XLSX, id=unit_id)),
            (_("⬇ Activity ledger (XLSX)"), PartyCb(action=PartyAction.LEDGER_XLSX, id=unit_id)),
        ),
    )


async def _send_xlsx(desk: Desk, actor: Actor, unit_id: int, roster: bool) -> None:
    zone = desk.config.bot.zone
    stamp = desk.local(desk.now, "%Y%m%d")
    if roster:
        found = await party.roster(desk, actor, unit_id)
        data = exports.roster_xlsx(found, zone)
        name = f"党员名册-{found.scope.name}-{stamp}.xlsx"
        caption = _("Roster of {unit}: {count} registrations").format(
            unit=html.quote(found.scope.display_name(actor.locale)), count=len(found.members)
        )
    else:
        unit, activities, rows = await party.ledger(desk, actor, unit_id)
        compounds = await desk.units.many(sorted({a.compound_id for a in activities}))
        data = exports.ledger_xlsx(activities, rows, compounds, zone)
        name = f"活动台账-{unit.name}-{stamp}.xlsx"
        caption = _("Activity ledger of {unit}, this year: {count} activities").format(
            unit=html.quote(unit.display_name(actor.locale)), count=len(activities)
        )
    file_id = await FileRepo(desk.session).add(name, data, desk.now)
    await desk.outbox.send_document(actor.id, file_id, caption)


def build_router() -> Router:
    router = Router(name="party")
    private = F.chat.type == "private"
    router.message.register(cmd_party, private, Command("party"))
    router.message.register(cmd_myrecord, private, Command("myrecord"))
    router.message.register(cmd_roster, private, Command("roster"))
    router.callback_query.register(on_form_button, FormCb.filter())
    router.callback_query.register(on_party_button, PartyCb.filter(F.action.in_(BRANCH_ACTIONS)))
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_form_text, private, Party.register, text)
    router.message.register(on_form_contact, private, Party.register, F.contact)
    router.message.register(on_form_other, private, Party.register, ~F.text)
    router.message.register(on_reason_text, private, Party.reason, text)
    router.message.register(on_not_text, private, Party.reason, ~F.text)
    return router
