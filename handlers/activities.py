"""Party members' activities in the private chat: /activities (sign up, cancel; organisers see
the code and who comes), /newactivity (a short conversation), /checkin by location or code,
/checkout, and the group notice's sign-up link."""

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
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.delivery.outbox import Outbox
from bot.domain.errors import DomainError, NotFound, Refused
from bot.domain.inputs import Id, parse_id, parse_number, valid_location
from bot.domain.party import (
    MAX_CAPACITY,
    MAX_CODE_TRIES,
    MAX_PLACE,
    MAX_TITLE,
    ActivityDraft,
    ActivityKind,
    AttendanceStatus,
    Method,
    Refusal,
    WhenError,
    looks_like_code,
    parse_end,
    parse_start,
)
from bot.domain.people import Actor
from bot.services import party
from bot.services.desk import Desk
from bot.services.party import ACTIVITY_PREFIX, PartyAction, PartyCb
from handlers.common import not_a_place, private_state, refuse_button
from handlers.party import buttons, cancel_button, on_not_text, refused, why

KINDS = tuple(ActivityKind)
LENGTHS = (1, 2, 3, 4)  # hours offered as buttons
CAPACITIES = (10, 20, 30, 50)
MEMBER_ACTIONS = (
    PartyAction.SIGN_UP,
    PartyAction.CANCEL,
    PartyAction.CHECK_OUT,
    PartyAction.SHOW,
)


class Activities(StatesGroup):
    plan = State()  # an organiser's new activity
    checkin = State()  # waiting for a location or a code


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
    arg: Id = 0


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
    desk: Desk,
) -> None:
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
        coming = await desk.party.upcoming([c.id for c in managed[:50]], desk.now)
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
    await desk.outbox.send(message.chat.id, "\n".join(lines), markup=builder.as_markup())


async def cmd_start_activity(
    message: Message,
    command: CommandObject,
    actor: Actor,
    desk: Desk,
) -> None:
    """A group notice's link: the activity, with its sign-up button."""
    raw = (command.args or "").removeprefix(ACTIVITY_PREFIX)
    try:
        found = await party.activity(desk, parse_id(raw) or 0)
    except NotFound:
        await desk.outbox.send(message.chat.id, _("This link is not valid. Send /activities."))
        return
    attendance = await desk.party.attendance(found.id, actor.id)
    signed = attendance is not None and attendance.status is AttendanceStatus.SIGNED
    await desk.outbox.send(
        message.chat.id,
        party.activity_line(desk, found, actor.locale),
        markup=buttons(*_activity_keyboard(found.id, signed, desk.now >= found.starts_at, False)),
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
    await state.set_state(Activities.plan)
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
    rows.append(cancel_button(PlanCb(action=PlanAction.CANCEL)))
    await desk.outbox.send(
        actor.id, (lead + "\n\n" if lead else "") + text, markup=buttons(*rows, columns=columns)
    )


async def cmd_new_activity(
    message: Message,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    compounds = await party.managed_compounds(desk, actor)
    if not compounds:
        await desk.outbox.send(
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
    desk: Desk,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    draft, names = _load_plan(data), dict(data.get("names") or {})
    if draft is None:
        await state.clear()
        return
    text = " ".join((message.text or "").split())
    step = _plan_step(draft)
    if not text:
        await desk.outbox.send(message.chat.id, _("Please write it in a few words."))
        return
    if step is Plan.TITLE:
        draft = replace(draft, title=text[:MAX_TITLE])
    elif step is Plan.START:
        start = parse_start(text, desk.now, desk.config.bot.zone)
        if isinstance(start, WhenError):
            await desk.outbox.send(message.chat.id, _when_error(start))
            return
        draft = replace(draft, starts_at=start)
    elif step is Plan.END and draft.starts_at is not None:
        end = parse_end(text, draft.starts_at, desk.config.bot.zone)
        if isinstance(end, WhenError):
            await desk.outbox.send(message.chat.id, _when_error(end))
            return
        draft = replace(draft, ends_at=end)
    elif step is Plan.PLACE:
        draft = replace(draft, place=text[:MAX_PLACE])
    elif step is Plan.CAPACITY:
        capacity = parse_number(text, 1, MAX_CAPACITY)
        if capacity is None:
            await desk.outbox.send(
                message.chat.id,
                _("Please write a number of places from 1 to {most}.").format(most=MAX_CAPACITY),
            )
            return
        draft = replace(draft, capacity=capacity)
    else:
        await _ask_plan(desk, draft, names, actor, _("Please use the buttons below."))
        return
    await _save_plan(state, draft, names)
    await _ask_plan(desk, draft, names, actor)


async def on_plan_button(
    callback: CallbackQuery,
    callback_data: PlanCb,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    state = private_state(state, actor.id)
    data = await state.get_data() if await state.get_state() == Activities.plan.state else {}
    draft, names = _load_plan(data), dict(data.get("names") or {})
    if draft is None:
        await refuse_button(
            desk.outbox,
            callback,
            _("This plan is no longer open. Send /newactivity to start again."),
        )
        return
    await desk.outbox.answer_callback(actor.id, callback.id)
    action, arg = callback_data.action, callback_data.arg
    step = _plan_step(draft)
    if action is PlanAction.CANCEL:
        await state.clear()
        await desk.outbox.send(actor.id, _("Cancelled. Nothing was saved."))
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
            found = await party.create_activity(desk, actor, draft)
        except DomainError as error:
            await refused(desk, actor.id, error, actor.locale)
            return
        await desk.outbox.send(
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
    await state.set_state(Activities.checkin)
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
    desk: Desk,
    state: FSMContext,
) -> None:
    location = message.location
    if location is None:
        return
    if not valid_location(location.latitude, location.longitude):
        await desk.outbox.send(message.chat.id, not_a_place())
        return
    try:
        result = await party.check_in_by_location(
            desk, actor, location.latitude, location.longitude
        )
    except DomainError as error:
        await refused(desk, message.chat.id, error, actor.locale)
        return
    await state.clear()
    await _checked_in(desk, actor, result)


async def on_code(
    message: Message,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    text = message.text or ""
    if not looks_like_code(text):
        await on_checkin_other(message, desk.outbox)
        return
    tries = int((await state.get_data()).get("tries", 0))
    if tries >= MAX_CODE_TRIES:
        await refused(desk, message.chat.id, Refused(Refusal.TOO_MANY_TRIES), actor.locale)
        return
    try:
        result = await party.check_in_by_code(desk, actor, text)
    except Refused as error:
        if error.reason == Refusal.WRONG_CODE:
            await state.update_data(tries=tries + 1)
        await refused(desk, message.chat.id, error, actor.locale)
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
    desk: Desk,
) -> None:
    try:
        found, minutes = await party.check_out(desk, actor, None, Method.BUTTON)
    except DomainError as error:
        await refused(desk, message.chat.id, error, actor.locale)
        return
    await desk.outbox.send(message.chat.id, _checked_out(found.title, minutes))


async def on_activity_button(
    callback: CallbackQuery, callback_data: PartyCb, actor: Actor, desk: Desk
) -> None:
    action, target = callback_data.action, callback_data.id
    done = ""
    try:
        if action is PartyAction.SIGN_UP:
            found, new = await party.sign_up(desk, actor, target)
            done = (
                _("✅ Signed up: {title}. I will remind you a day and an hour before.")
                if new
                else _("You are already signed up for {title}.")
            ).format(title=html.quote(found.title))
            await desk.outbox.send(actor.id, done)
        elif action is PartyAction.CANCEL:
            found = await party.cancel(desk, actor, target)
            done = _("Cancelled your place at {title}.").format(title=html.quote(found.title))
            await desk.outbox.send(actor.id, done)
        elif action is PartyAction.CHECK_OUT:
            found, minutes = await party.check_out(desk, actor, target, Method.BUTTON)
            done = _checked_out(found.title, minutes)
            await desk.outbox.send(actor.id, done, markup=ReplyKeyboardRemove())
        else:
            await _show_activity(desk, actor, target)
    except DomainError as error:
        await refuse_button(desk.outbox, callback, why(desk, error, actor.locale))
        return
    await desk.outbox.answer_callback(actor.id, callback.id, done or None)


def build_router() -> Router:
    router = Router(name="activities")
    private = F.chat.type == "private"
    router.message.register(
        cmd_start_activity,
        private,
        CommandStart(deep_link=True, magic=F.args.startswith(ACTIVITY_PREFIX)),
    )
    router.message.register(cmd_activities, private, Command("activities"))
    router.message.register(cmd_new_activity, private, Command("newactivity"))
    router.message.register(cmd_checkin, private, Command("checkin"))
    router.message.register(cmd_checkout, private, Command("checkout"))
    router.callback_query.register(on_plan_button, PlanCb.filter())
    router.callback_query.register(on_activity_button, PartyCb.filter(F.action.in_(MEMBER_ACTIONS)))
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_plan_text, private, Activities.plan, text)
    router.message.register(on_not_text, private, Activities.plan, ~F.text)
    router.message.register(on_location, private, Activities.checkin, F.location)
    router.message.register(on_code, private, Activities.checkin, text)
    router.message.register(on_checkin_other, private, Activities.checkin, ~F.text)
    router.message.register(on_location, private, StateFilter(None), F.location)
    return router
