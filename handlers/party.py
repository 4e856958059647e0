"""Party members in the private chat: /party (报到 registration), the branch's approval card,
/activities (sign up, cancel; organisers see the code and who comes), /newactivity, /checkin
(location or code), /checkout, /myrecord, and /roster with the XLSX ledgers."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
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
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.domain.errors import DomainError, NotAllowed, NotFound, Refused
from bot.domain.party import (
    MAX_CAPACITY,
    MAX_CODE_TRIES,
    MAX_FIELD,
    MAX_NAME,
    MAX_PLACE,
    MAX_TITLE,
    ActivityDraft,
    ActivityKind,
    AttendanceStatus,
    MemberType,
    Method,
    Refusal,
    Registration,
    RegStatus,
    WhenError,
    looks_like_code,
    parse_end,
    parse_start,
)
from bot.domain.people import Actor
from bot.services import exports, party
from bot.services.party import ACTIVITY_PREFIX, Desk, PartyAction, PartyCb
from handlers.common import close_card, private_state, refuse_button
from handlers.onboarding import ask_compound
from storage.files import FileRepo

TYPES = tuple(MemberType)
KINDS = tuple(ActivityKind)
LENGTHS = (1, 2, 3, 4)  # hours offered as buttons
CAPACITIES = (10, 20, 30, 50)
MAX_REASON = 300


class Party(StatesGroup):
    register = State()
    reason = State()  # a branch officer writes why a registration is rejected
    activity = State()
    checkin = State()


class FormAction(StrEnum):
    UPDATE = "u"  # from /party: fill the form again
    USE_NAME = "n"
    TYPE = "t"  # arg: index into TYPES
    SUBMIT = "s"
    CANCEL = "x"


class FormCb(CallbackData, prefix="pf"):
    action: FormAction
    arg: int = 0


class PlanAction(StrEnum):
    COMPOUND = "u"  # arg: compound id
    KIND = "k"  # arg: index into KINDS
    LENGTH = "l"  # arg: hours
    CAPACITY = "c"  # arg: places
    ANNOUNCE = "a"  # arg: 1 yes, 0 no
    CREATE = "y"
    CANCEL = "x"


class PlanCb(CallbackData, prefix="pn"):
    action: PlanAction
    arg: int = 0


def _desk(session: AsyncSession, outbox: Outbox, clock: Clock, config: Config) -> Desk:
    return Desk(session, outbox, clock.now(), config)


def _buttons(*rows: tuple[str, CallbackData], columns: int = 2) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in rows:
        builder.button(text=text, callback_data=data)
    builder.adjust(columns)
    return builder.as_markup()


def _cancel_button(data: CallbackData | None = None) -> tuple[str, CallbackData]:
    return _("✖ Cancel"), data or FormCb(action=FormAction.CANCEL)


async def _refused(
    outbox: Outbox, desk: Desk, chat_id: int, error: DomainError, locale: str
) -> None:
    await outbox.send(chat_id, _why(desk, error, locale))


def _why(desk: Desk, error: DomainError, locale: str) -> str:
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
        markup = _buttons(
            (
                _("Use “{name}”").format(name=actor.user.first_name[:MAX_NAME]),
                FormCb(action=FormAction.USE_NAME),
            ),
            _cancel_button(),
        )
    elif step is Step.BUILDING:
        text = _("Which building and flat do you live in? (for example: 3号楼2单元501)")
        markup = _buttons(_cancel_button())
    elif step is Step.WORKPLACE:
        text = _(
            "Which party organisation does your membership belong to (your workplace's, or "
            "your retirement office's)? (for example: 市第一人民医院党委)"
        )
        markup = _buttons(_cancel_button())
    elif step is Step.TYPE:
        text = _("Which describes you?")
        markup = _buttons(
            *(
                (party.member_type_name(kind, actor.locale), FormCb(action=FormAction.TYPE, arg=n))
                for n, kind in enumerate(TYPES)
            ),
            _cancel_button(),
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
        markup = _buttons((_("✅ Send"), FormCb(action=FormAction.SUBMIT)), _cancel_button())
    await outbox.send(chat_id, (lead + "\n\n" if lead else "") + text, markup=markup)


async def cmd_party(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    """Show the registration, or start one."""
    if actor.user.compound_id is None:
        await outbox.send(message.chat.id, _("First, please tell me where you live."))
        await ask_compound(message.chat.id, actor, session, outbox, state)
        return
    desk = _desk(session, outbox, clock, config)
    member = await desk.repo.current(actor.id)
    if member is None or not member.current or member.compound_id != actor.user.compound_id:
        lead = ""
        if member is not None and member.current:
            lead = _("You moved: this registers you with your new compound's branch.")
        form = Registration()
        await _save_form(state, form)
        await _ask_form(message.chat.id, form, actor, outbox, lead)
        return
    compound, _units = await party.compound_units(desk, member.compound_id)
    lines = [
        _("<b>Your party member registration (报到)</b>"),
        *party._details(member, compound, actor.locale),
        _("Status: {status}").format(
            status=party.registration_status_name(member.status, actor.locale)
        ),
    ]
    await outbox.send(
        message.chat.id,
        "\n".join(lines),
        markup=_buttons((_("✏ Update my details"), FormCb(action=FormAction.UPDATE))),
    )


async def on_form_text(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    form = _load_form(await state.get_data())
    if form is None:
        await state.clear()
        return
    text = " ".join((message.text or "").split())
    step = _step(form)
    if not text:
        await outbox.send(message.chat.id, _("Please write it in a few words."))
        return
    if step is Step.NAME:
        form = replace(form, name=text[:MAX_NAME])
    elif step is Step.BUILDING:
        form = replace(form, building=text[:MAX_FIELD])
    elif step is Step.WORKPLACE:
        form = replace(form, workplace=text[:MAX_FIELD])
    elif step is Step.PHONE:  # "Skip" from the keyboard, or anything typed
        if text != _("Skip"):
            await outbox.send(
                message.chat.id,
                _("Please use the button to share your number, or tap “Skip”."),
            )
            return
        form = replace(form, phone_asked=True)
        await outbox.send(
            message.chat.id, _("No phone number, fine."), markup=ReplyKeyboardRemove()
        )
    else:
        await _ask_form(message.chat.id, form, actor, outbox, _("Please use the buttons below."))
        return
    await _save_form(state, form)
    await _ask_form(message.chat.id, form, actor, outbox)


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
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    state = private_state(state, actor.id)
    action, arg = callback_data.action, callback_data.arg
    current = await state.get_state()
    if action is FormAction.UPDATE:
        desk = _desk(session, outbox, clock, config)
        member = await desk.repo.current(actor.id)
        if member is None or not member.current:
            await refuse_button(outbox, callback)
            return
        await outbox.answer_callback(actor.id, callback.id)
        again = Registration()
        await _save_form(state, again)
        await _ask_form(actor.id, again, actor, outbox)
        return
    loaded = _load_form(await state.get_data()) if current == Party.register.state else None
    if loaded is None:
        await refuse_button(
            outbox, callback, _("This form is no longer open. Send /party to start again.")
        )
        return
    form = loaded
    await outbox.answer_callback(actor.id, callback.id)
    step = _step(form)
    if action is FormAction.CANCEL:
        await state.clear()
        await outbox.send(
            actor.id, _("Cancelled. Nothing was saved."), markup=ReplyKeyboardRemove()
        )
        return
    if action is FormAction.USE_NAME and step is Step.NAME:
        form = replace(form, name=actor.user.first_name[:MAX_NAME] or "—")
    elif action is FormAction.TYPE and step is Step.TYPE and 0 <= arg < len(TYPES):
        form = replace(form, type=TYPES[arg])
    elif action is FormAction.SUBMIT and step is Step.CONFIRM:
        await state.clear()
        desk = _desk(session, outbox, clock, config)
        try:
            member, new = await party.register(desk, actor, form)
        except NotFound:
            await outbox.send(actor.id, _("First, please tell me where you live. /profile"))
            return
        if new:
            text = _(
                "Sent to your compound's party branch. I will tell you when they have looked at "
                "it. (No. {id})"
            ).format(id=member.id)
        else:
            text = _("Your details are updated.")
        await outbox.send(actor.id, text)
        return
    else:
        await _ask_form(actor.id, form, actor, outbox)
        return
    await _save_form(state, form)
    await _ask_form(actor.id, form, actor, outbox)


# --- the branch decides ---------------------------------------------------------------------------


async def on_party_button(
    callback: CallbackQuery,
    callback_data: PartyCb,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    desk = _desk(session, outbox, clock, config)
    action, target = callback_data.action, callback_data.id
    try:
        if action is PartyAction.APPROVE:
            await party.decide(desk, actor, target, approve=True)
            done = _("✅ Approved by {name}.").format(name=html.quote(actor.user.first_name))
            await close_card(callback, outbox, done)
        elif action is PartyAction.REJECT:
            await _ask_reason(desk, actor, target, callback, state)
            done = ""
        elif action is PartyAction.SIGN_UP:
            found, new = await party.sign_up(desk, actor, target)
            done = (
                _("✅ Signed up: {title}. I will remind you a day and an hour before.")
                if new
                else _("You are already signed up for {title}.")
            ).format(title=html.quote(found.title))
            await outbox.send(actor.id, done)
        elif action is PartyAction.CANCEL:
            found = await party.cancel(desk, actor, target)
            done = _("Cancelled your place at {title}.").format(title=html.quote(found.title))
            await outbox.send(actor.id, done)
        elif action is PartyAction.CHECK_OUT:
            found, minutes = await party.check_out(desk, actor, target, Method.BUTTON)
            done = _checked_out(found.title, minutes)
            await outbox.send(actor.id, done, markup=ReplyKeyboardRemove())
        elif action is PartyAction.SHOW:
            await _show_activity(desk, actor, target)
            done = ""
        elif action is PartyAction.ROSTER:
            await _show_roster(desk, actor, target)
            done = ""
        else:
            await _send_xlsx(desk, actor, target, action is PartyAction.ROSTER_XLSX)
            done = _("Preparing the file…")
    except DomainError as error:
        await refuse_button(outbox, callback, _why(desk, error, actor.locale))
        return
    await outbox.answer_callback(actor.id, callback.id, done or None)


async def _ask_reason(
    desk: Desk, actor: Actor, member_id: int, callback: CallbackQuery, state: FSMContext
) -> None:
    """Before asking why, check that the officer may decide and that it is still waiting."""
    member = await desk.repo.member(member_id)
    if member is None:
        raise NotFound(f"registration {member_id}")
    compound, _units = await party.compound_units(desk, member.compound_id)
    await party.check_manager(desk, actor, compound)
    if member.status is not RegStatus.PENDING:
        raise Refused(Refusal.DECIDED)
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
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    reason = " ".join((message.text or "").split())[:MAX_REASON]
    if not reason:
        await outbox.send(message.chat.id, _("Please write the reason in a few words."))
        return
    data = await state.get_data()
    await state.clear()
    desk = _desk(session, outbox, clock, config)
    try:
        member, compound = await party.decide(
            desk, actor, int(data.get("member", 0)), approve=False, reason=reason
        )
    except DomainError as error:
        await _refused(outbox, desk, message.chat.id, error, actor.locale)
        return
    chat_id, message_id = (data.get("card") or [0, 0])[:2]
    if chat_id and message_id:
        await outbox.edit(
            int(chat_id),
            int(message_id),
            party.registration_text(member, compound, actor.locale)
            + "\n\n"
            + _("✖ Not approved by {name}: {reason}").format(
                name=html.quote(actor.user.first_name), reason=html.quote(reason)
            ),
        )
    await outbox.send(message.chat.id, _("Done: they were told the reason."))


async def on_not_text(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _("Please write it as a text message, or /cancel."))


# --- activities: what members see -----------------------------------------------------------------


def _activity_keyboard(
    found_id: int, signed: bool, started: bool, manage: bool
) -> list[tuple[str, CallbackData]]:
    rows: list[tuple[str, CallbackData]] = []
    if not signed:
        rows.append((_("🙋 Sign up"), PartyCb(action=PartyAction.SIGN_UP, id=found_id)))
    elif not started:
        rows.append((_("Cancel my place"), PartyCb(action=PartyAction.CANCEL, id=found_id)))
    if manage:
        rows.append((_("📋 Code and list"), PartyCb(action=PartyAction.SHOW, id=found_id)))
    return rows


async def cmd_activities(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    clock: Clock,
    config: Config,
) -> None:
    desk = _desk(session, outbox, clock, config)
    member, mine = await party.member_activities(desk, actor)
    managed = await party.managed_compounds(desk, actor)
    lines: list[str] = []
    builder = InlineKeyboardBuilder()
    if mine:
        lines.append(_("<b>Coming activities at your compound</b>"))
        for found, attendance in mine:
            signed = attendance is not None and attendance.status is AttendanceStatus.SIGNED
            mark = "✅ " if signed else ""
            lines.append(f"• {mark}{party.activity_line(desk, found, actor.locale)}")
            for text, data in _activity_keyboard(
                found.id,
                signed,
                desk.now >= found.starts_at,
                any(c.id == found.compound_id for c in managed),
            ):
                builder.button(text=f"{text} · {found.title[:16]}", callback_data=data)
    elif member is not None and member.current:
        lines.append(_("No activities are planned at your compound yet."))
    elif not managed:
        lines.append(
            _("Activities are for registered party members. Send /party to register (报到).")
        )
    if managed:
        coming = await desk.repo.upcoming([c.id for c in managed[:50]], desk.now)
        shown = {found.id for found, _a in mine}
        others = [a for a in coming if a.id not in shown]
        if others:
            lines += ["", _("<b>Activities you organise</b>")]
            for found in others:
                lines.append("• " + party.activity_line(desk, found, actor.locale))
                builder.button(
                    text=_("📋 Code and list") + f" · {found.title[:16]}",
                    callback_data=PartyCb(action=PartyAction.SHOW, id=found.id),
                )
        lines += ["", _("/newactivity — plan a new activity")]
    builder.adjust(1)
    await outbox.send(message.chat.id, "\n".join(lines), markup=builder.as_markup())


async def cmd_start_activity(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    clock: Clock,
    config: Config,
) -> None:
    """A group notice's link: the activity, with its sign-up button."""
    raw = (command.args or "").removeprefix(ACTIVITY_PREFIX)
    desk = _desk(session, outbox, clock, config)
    try:
        found = await party.activity(desk, int(raw) if raw.isdigit() else 0)
    except NotFound:
        await outbox.send(message.chat.id, _("This link is not valid. Send /activities."))
        return
    attendance = await desk.repo.attendance(found.id, actor.id)
    signed = attendance is not None and attendance.status is AttendanceStatus.SIGNED
    await outbox.send(
        message.chat.id,
        party.activity_line(desk, found, actor.locale),
        markup=_buttons(*_activity_keyboard(found.id, signed, desk.now >= found.starts_at, False)),
    )


async def _show_activity(desk: Desk, actor: Actor, activity_id: int) -> None:
    found, signed, names = await party.managed_activity(desk, actor, activity_id)
    lines = [
        party.activity_line(desk, found, actor.locale),
        _(
            "Check-in code: <b>{code}</b> (show it on site; it works from 30 minutes before the "
            "start until the end)"
        ).format(code=found.code),
        "",
        _("Signed up ({count}):").format(count=len(signed)),
    ]
    for n, attendance in enumerate(signed, start=1):
        name = html.quote(names.get(attendance.user_id, str(attendance.user_id)))
        if attendance.checked_out_at is not None:
            status = _("left {time}, {hours} h").format(
                time=desk.local(attendance.checked_out_at, "%H:%M"),
                hours=party.hours_text(attendance.minutes),
            )
        elif attendance.checked_in_at is not None:
            status = _("here since {time}").format(
                time=desk.local(attendance.checked_in_at, "%H:%M")
            )
        else:
            status = _("not checked in")
        lines.append(f"{n}. {name} — {status}")
    await desk.outbox.send(actor.id, "\n".join(lines))


# --- a new activity --------------------------------------------------------------------------------


class Plan(StrEnum):
    COMPOUND = "compound"
    KIND = "kind"
    TITLE = "title"
    START = "start"
    END = "end"
    PLACE = "place"
    CAPACITY = "capacity"
    ANNOUNCE = "announce"
    CONFIRM = "confirm"


def _plan_step(draft: ActivityDraft) -> Plan:
    if not draft.compound_id:
        return Plan.COMPOUND
    if draft.kind is None:
        return Plan.KIND
    if not draft.title:
        return Plan.TITLE
    if draft.starts_at is None:
        return Plan.START
    if draft.ends_at is None:
        return Plan.END
    if not draft.place:
        return Plan.PLACE
    if draft.capacity is None:
        return Plan.CAPACITY
    if draft.announce is None:
        return Plan.ANNOUNCE
    return Plan.CONFIRM


def _load_plan(data: dict[str, Any]) -> ActivityDraft | None:
    raw = data.get("plan")
    if not isinstance(raw, dict):
        return None
    return ActivityDraft(
        compound_id=int(raw.get("compound_id") or 0),
        kind=ActivityKind(raw["kind"]) if raw.get("kind") else None,
        title=str(raw.get("title", "")),
        starts_at=datetime.fromisoformat(raw["starts_at"]) if raw.get("starts_at") else None,
        ends_at=datetime.fromisoformat(raw["ends_at"]) if raw.get("ends_at") else None,
        place=str(raw.get("place", "")),
        capacity=raw.get("capacity"),
        announce=raw.get("announce"),
    )


async def _save_plan(state: FSMContext, draft: ActivityDraft, names: dict[str, str]) -> None:
    raw = asdict(draft)
    for key in ("starts_at", "ends_at"):
        raw[key] = raw[key].isoformat() if raw[key] else None
    await state.set_state(Party.activity)
    await state.set_data({"plan": raw, "names": names})


async def _ask_plan(
    desk: Desk, draft: ActivityDraft, names: dict[str, str], actor: Actor, lead: str = ""
) -> None:
    step = _plan_step(draft)
    rows: list[tuple[str, CallbackData]] = []
    columns = 2
    if step is Plan.COMPOUND:
        text = _("Which compound is the activity for?")
        rows = [
            (name, PlanCb(action=PlanAction.COMPOUND, arg=int(uid))) for uid, name in names.items()
        ]
    elif step is Plan.KIND:
        text = _("What kind of activity?")
        rows = [
            (party.activity_kind_name(kind, actor.locale), PlanCb(action=PlanAction.KIND, arg=n))
            for n, kind in enumerate(KINDS)
        ]
    elif step is Plan.TITLE:
        text = _("Its title, in a few words (for example: 周六楼道大扫除)")
    elif step is Plan.START:
        text = _("When does it start? (for example: 明天 9:00, 11月28日 上午9点, 2026-11-28 09:00)")
    elif step is Plan.END:
        text = _("How long does it last? Tap a button, or write the end time (for example 11:30).")
        rows = [(_("{n} h").format(n=n), PlanCb(action=PlanAction.LENGTH, arg=n)) for n in LENGTHS]
        columns = 4
    elif step is Plan.PLACE:
        text = _("Where do people meet? (for example: 东门广场)")
    elif step is Plan.CAPACITY:
        text = _("How many places? Tap a button or write a number.")
        rows = [(str(n), PlanCb(action=PlanAction.CAPACITY, arg=n)) for n in CAPACITIES]
        columns = 4
    elif step is Plan.ANNOUNCE:
        text = _("Shall I post it in the compound's residents group, with a sign-up link?")
        rows = [
            (_("📢 Yes, post it"), PlanCb(action=PlanAction.ANNOUNCE, arg=1)),
            (_("No notice"), PlanCb(action=PlanAction.ANNOUNCE, arg=0)),
        ]
    else:
        assert draft.kind and draft.starts_at and draft.ends_at
        text = "\n".join(
            [
                _("<b>New activity</b>"),
                _("Compound: {compound}").format(
                    compound=html.quote(names.get(str(draft.compound_id), "—"))
                ),
                _("Kind: {kind}").format(kind=party.activity_kind_name(draft.kind, actor.locale)),
                _("Title: {title}").format(title=html.quote(draft.title)),
                _("Time: {start} – {end}").format(
                    start=desk.local(draft.starts_at), end=desk.local(draft.ends_at, "%H:%M")
                ),
                _("Place: {place}").format(place=html.quote(draft.place)),
                _("Places: {n}").format(n=draft.capacity),
                _("Notice in the residents group: {answer}").format(
                    answer=_("yes") if draft.announce else _("no")
                ),
            ]
        )
        rows = [(_("✅ Create"), PlanCb(action=PlanAction.CREATE))]
    rows.append(_cancel_button(PlanCb(action=PlanAction.CANCEL)))
    await desk.outbox.send(
        actor.id, (lead + "\n\n" if lead else "") + text, markup=_buttons(*rows, columns=columns)
    )


async def cmd_new_activity(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    desk = _desk(session, outbox, clock, config)
    compounds = await party.managed_compounds(desk, actor)
    if not compounds:
        await outbox.send(
            message.chat.id,
            _("Only the compound's party branch (or the community above it) can plan activities."),
        )
        return
    names = {str(c.id): c.display_name(actor.locale) for c in compounds[:30]}
    draft = ActivityDraft(compound_id=compounds[0].id if len(compounds) == 1 else 0)
    await _save_plan(state, draft, names)
    await _ask_plan(desk, draft, names, actor)


def _when_error(error: WhenError) -> str:
    texts = {
        WhenError.PAST: _("That time has passed. When does it start?"),
        WhenError.TOO_FAR: _("That is more than a year away. Please give a nearer date."),
        WhenError.TOO_LONG: _("An activity can last at most 12 hours."),
        WhenError.NOT_AFTER: _("The end must be after the start."),
    }
    return texts.get(
        error, _("I could not read that time. Write it like 明天 9:00 or 2026-11-28 09:00.")
    )


async def on_plan_text(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    data = await state.get_data()
    draft, names = _load_plan(data), dict(data.get("names") or {})
    if draft is None:
        await state.clear()
        return
    desk = _desk(session, outbox, clock, config)
    text = " ".join((message.text or "").split())
    step = _plan_step(draft)
    if not text:
        await outbox.send(message.chat.id, _("Please write it in a few words."))
        return
    if step is Plan.TITLE:
        draft = replace(draft, title=text[:MAX_TITLE])
    elif step is Plan.START:
        start = parse_start(text, desk.now, config.bot.zone)
        if isinstance(start, WhenError):
            await outbox.send(message.chat.id, _when_error(start))
            return
        draft = replace(draft, starts_at=start)
    elif step is Plan.END and draft.starts_at is not None:
        end = parse_end(text, draft.starts_at, config.bot.zone)
        if isinstance(end, WhenError):
            await outbox.send(message.chat.id, _when_error(end))
            return
        draft = replace(draft, ends_at=end)
    elif step is Plan.PLACE:
        draft = replace(draft, place=text[:MAX_PLACE])
    elif step is Plan.CAPACITY:
        if not text.isdigit() or not 1 <= int(text) <= MAX_CAPACITY:
            await outbox.send(
                message.chat.id,
                _("Please write a number of places from 1 to {most}.").format(most=MAX_CAPACITY),
            )
            return
        draft = replace(draft, capacity=int(text))
    else:
        await _ask_plan(desk, draft, names, actor, _("Please use the buttons below."))
        return
    await _save_plan(state, draft, names)
    await _ask_plan(desk, draft, names, actor)


async def on_plan_button(
    callback: CallbackQuery,
    callback_data: PlanCb,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
    bot_username: str,
) -> None:
    state = private_state(state, actor.id)
    data = await state.get_data() if await state.get_state() == Party.activity.state else {}
    draft, names = _load_plan(data), dict(data.get("names") or {})
    if draft is None:
        await refuse_button(
            outbox, callback, _("This plan is no longer open. Send /newactivity to start again.")
        )
        return
    await outbox.answer_callback(actor.id, callback.id)
    desk = _desk(session, outbox, clock, config)
    action, arg = callback_data.action, callback_data.arg
    step = _plan_step(draft)
    if action is PlanAction.CANCEL:
        await state.clear()
        await outbox.send(actor.id, _("Cancelled. Nothing was saved."))
        return
    if action is PlanAction.COMPOUND and step is Plan.COMPOUND and str(arg) in names:
        draft = replace(draft, compound_id=arg)
    elif action is PlanAction.KIND and step is Plan.KIND and 0 <= arg < len(KINDS):
        draft = replace(draft, kind=KINDS[arg])
    elif action is PlanAction.LENGTH and step is Plan.END and arg in LENGTHS and draft.starts_at:
        draft = replace(draft, ends_at=draft.starts_at + timedelta(hours=arg))
    elif action is PlanAction.CAPACITY and step is Plan.CAPACITY and arg in CAPACITIES:
        draft = replace(draft, capacity=arg)
    elif action is PlanAction.ANNOUNCE and step is Plan.ANNOUNCE:
        draft = replace(draft, announce=bool(arg))
    elif action is PlanAction.CREATE and step is Plan.CONFIRM:
        await state.clear()
        try:
            found = await party.create_activity(desk, actor, draft, bot_username)
        except DomainError as error:
            await _refused(outbox, desk, actor.id, error, actor.locale)
            return
        await outbox.send(
            actor.id,
            _(
                "✅ Created: {activity}\nCheck-in code: <b>{code}</b> — show it on site. Members "
                "sign up with /activities."
            ).format(activity=party.activity_line(desk, found, actor.locale), code=found.code),
        )
        return
    else:
        await _ask_plan(desk, draft, names, actor)
        return
    await _save_plan(state, draft, names)
    await _ask_plan(desk, draft, names, actor)


# --- check-in, check-out ------------------------------------------------------------------------------


def _location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _checked_out(title: str, minutes: int) -> str:
    return _("👋 Checked out of {title}. Recorded: {hours} h. Thank you!").format(
        title=html.quote(title), hours=party.hours_text(minutes)
    )


async def cmd_checkin(message: Message, outbox: Outbox, state: FSMContext) -> None:
    await state.set_state(Party.checkin)
    await state.set_data({"tries": 0})
    await outbox.send(
        message.chat.id,
        _(
            "On site? Share your location with the button below, or type the 4-digit code the "
            "organiser shows. (/cancel to stop)"
        ),
        markup=_location_keyboard(),
    )


async def _checked_in(desk: Desk, actor: Actor, result: party.CheckIn) -> None:
    title = html.quote(result.activity.title)
    if result.again:
        text = _("You are already checked in at {title} (since {time}).").format(
            title=title, time=desk.local(result.at, "%H:%M")
        )
    elif result.distance is not None:
        text = _("✅ Checked in at {title} ({distance} m from the compound centre).").format(
            title=title, distance=result.distance
        )
    else:
        text = _("✅ Checked in at {title} with the code.").format(title=title)
    text += "\n" + _("When you leave, tap “Check out”; if you forget, I check you out at the end.")
    await desk.outbox.send(actor.id, text, markup=ReplyKeyboardRemove())
    await desk.outbox.send(
        actor.id,
        party.activity_line(desk, result.activity, actor.locale),
        markup=party.check_out_keyboard(result.activity, actor.locale),
    )


async def on_location(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    location = message.location
    if location is None:
        return
    desk = _desk(session, outbox, clock, config)
    try:
        result = await party.check_in_by_location(
            desk, actor, location.latitude, location.longitude
        )
    except DomainError as error:
        await _refused(outbox, desk, message.chat.id, error, actor.locale)
        return
    await state.clear()
    await _checked_in(desk, actor, result)


async def on_code(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    text = message.text or ""
    if not looks_like_code(text):
        await on_checkin_other(message, outbox)
        return
    tries = int((await state.get_data()).get("tries", 0))
    desk = _desk(session, outbox, clock, config)
    if tries >= MAX_CODE_TRIES:
        await _refused(outbox, desk, message.chat.id, Refused(Refusal.TOO_MANY_TRIES), actor.locale)
        return
    try:
        result = await party.check_in_by_code(desk, actor, text)
    except Refused as error:
        if error.reason == Refusal.WRONG_CODE:
            await state.update_data(tries=tries + 1)
        await _refused(outbox, desk, message.chat.id, error, actor.locale)
        return
    await state.clear()
    await _checked_in(desk, actor, result)


async def on_checkin_other(message: Message, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id,
        _(
            "Please share your location with the button, or type the 4-digit code. (/cancel to stop)"
        ),
    )


async def cmd_checkout(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    clock: Clock,
    config: Config,
) -> None:
    desk = _desk(session, outbox, clock, config)
    try:
        found, minutes = await party.check_out(desk, actor, None, Method.BUTTON)
    except DomainError as error:
        await _refused(outbox, desk, message.chat.id, error, actor.locale)
        return
    await outbox.send(message.chat.id, _checked_out(found.title, minutes))


# --- records ------------------------------------------------------------------------------------------


async def cmd_myrecord(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    clock: Clock,
    config: Config,
) -> None:
    desk = _desk(session, outbox, clock, config)
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
    await outbox.send(message.chat.id, "\n".join(lines))


async def cmd_roster(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    clock: Clock,
    config: Config,
) -> None:
    desk = _desk(session, outbox, clock, config)
    scopes = await party.managed_scopes(desk, actor)
    if not scopes:
        await outbox.send(
            message.chat.id,
            _("The roster is for the compound's party branch and the units above it."),
        )
        return
    if len(scopes) == 1:
        await _show_roster(desk, actor, scopes[0].id)
        return
    await outbox.send(
        message.chat.id,
        _("Whose roster?"),
        markup=_buttons(
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
        markup=_buttons(
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
    router.message.register(
        cmd_start_activity,
        private,
        CommandStart(deep_link=True, magic=F.args.startswith(ACTIVITY_PREFIX)),
    )
    router.message.register(cmd_party, private, Command("party"))
    router.message.register(cmd_activities, private, Command("activities"))
    router.message.register(cmd_new_activity, private, Command("newactivity"))
    router.message.register(cmd_checkin, private, Command("checkin"))
    router.message.register(cmd_checkout, private, Command("checkout"))
    router.message.register(cmd_myrecord, private, Command("myrecord"))
    router.message.register(cmd_roster, private, Command("roster"))
    router.callback_query.register(on_form_button, FormCb.filter())
    router.callback_query.register(on_plan_button, PlanCb.filter())
    router.callback_query.register(on_party_button, PartyCb.filter())
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_form_text, private, Party.register, text)
    router.message.register(on_form_contact, private, Party.register, F.contact)
    router.message.register(on_form_other, private, Party.register, ~F.text)
    router.message.register(on_reason_text, private, Party.reason, text)
    router.message.register(on_not_text, private, Party.reason, ~F.text)
    router.message.register(on_plan_text, private, Party.activity, text)
    router.message.register(on_not_text, private, Party.activity, ~F.text)
    router.message.register(on_location, private, Party.checkin, F.location)
    router.message.register(on_code, private, Party.checkin, text)
    router.message.register(on_checkin_other, private, Party.checkin, ~F.text)
    router.message.register(on_location, private, StateFilter(None), F.location)
    return router
