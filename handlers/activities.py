"""Party members' activities in the private chat: /activities (sign up, cancel; organisers see
the code and who comes), /newactivity (a short conversation), /checkin by location or code,
/checkout, and the group notice's sign-up link."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

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
)
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.errors import NotFound, Refused
from bot.domain.inputs import parse_id, parse_number, valid_location
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
from bot.services import party, topics
from bot.services.desk import Desk
from bot.ui import menu
from bot.ui import party as ui
from bot.ui.households import HouseholdAction, HouseholdCb
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.party import ACTIVITY_PREFIX, PartyAction, PartyCb
from handlers import wizard
from handlers.common import command, not_a_place
from handlers.party import buttons
from handlers.refusals import refusal_text
from handlers.wizard import Choice, Done, Next, Outcome, Say, Step, Turn

MEMBER_ACTIONS = (
    PartyAction.SIGN_UP,
    PartyAction.CANCEL,
    PartyAction.CHECK_OUT,
    PartyAction.SHOW,
)


class Activities(StatesGroup):
    checkin = State()  # waiting for a location or a code


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


async def activities(actor: Actor, desk: Desk, state: FSMContext) -> None:
    member, mine = await party.member_activities(desk, actor)
    managed = await party.managed_compounds(desk, actor)
    lines: list[str] = []
    builder = InlineKeyboardBuilder()
    if mine:
        lines.append(_("<b>Coming activities at your compound</b>"))
        for found, attendance in mine:
            signed = attendance is not None and attendance.status is AttendanceStatus.SIGNED
            mark = "✅ " if signed else ""
            lines.append(f"• {mark}{ui.activity_line(found, desk.config.bot.zone, actor.locale)}")
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
            _(
                "Activities are for registered party members. Tap “🚩 Party members” to register (报到)."
            )
        )
    if managed:
        coming = await desk.party.upcoming([c.id for c in managed[:50]], desk.now)
        shown = {found.id for found, _a in mine}
        others = [a for a in coming if a.id not in shown]
        if others:
            lines += ["", _("<b>Activities you organise</b>")]
            for found in others:
                lines.append("• " + ui.activity_line(found, desk.config.bot.zone, actor.locale))
                builder.button(
                    text=_("📋 Code and list") + f" · {found.title[:16]}",
                    callback_data=PartyCb(action=PartyAction.SHOW, id=found.id),
                )
        lines += ["", _("/newactivity — plan a new activity")]
    builder.adjust(1)
    await desk.outbox.send(actor.id, "\n".join(lines), markup=builder.as_markup())


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
    except NotFound:  # a link, not a button: says where to look instead
        await desk.outbox.send(message.chat.id, _("This link is not valid. Send /activities."))
        return
    attendance = await desk.party.attendance(found.id, actor.id)
    signed = attendance is not None and attendance.status is AttendanceStatus.SIGNED
    await desk.outbox.send(
        message.chat.id,
        ui.activity_line(found, desk.config.bot.zone, actor.locale),
        markup=buttons(*_activity_keyboard(found.id, signed, desk.now >= found.starts_at, False)),
    )


async def _show_activity(desk: Desk, actor: Actor, activity_id: int) -> None:
    roster = await party.managed_activity(desk, actor, activity_id)
    found, signed, names = roster.activity, roster.signed, roster.names
    lines = [
        ui.activity_line(found, desk.config.bot.zone, actor.locale),
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
                hours=ui.hours_text(attendance.minutes),
            )
        elif attendance.checked_in_at is not None:
            status = _("here since {time}").format(
                time=desk.local(attendance.checked_in_at, "%H:%M")
            )
        else:
            status = _("not checked in")
        lines.append(f"{n}. {name} — {status}")
    builder = InlineKeyboardBuilder()
    if roster.by_proxy:
        lines += ["", _("Places taken by 代办 ({count}):").format(count=len(roster.by_proxy))]
        for n, (resident_id, name, by) in enumerate(roster.by_proxy, start=1):
            lines.append(
                _("{n}. {name} — signed up by {proxy}").format(
                    n=n, name=html.quote(name), proxy=html.quote(roster.proxies.get(by, "—"))
                )
            )
            if desk.now < found.starts_at:
                builder.button(
                    text=_("✖ Give back {name}'s place").format(name=name[:20]),
                    callback_data=HouseholdCb(
                        action=HouseholdAction.UNSIGN, id=found.id, arg=resident_id
                    ),
                )
    builder.adjust(1)
    await desk.outbox.send(actor.id, "\n".join(lines), markup=builder.as_markup())


# --- a new activity, a flow of the conversation engine ------------------------------------------------

KINDS = tuple(k for k in ActivityKind if k is not ActivityKind.MEETING)  # a topic's own
LENGTHS = (1, 2, 3, 4)  # hours offered as buttons
CAPACITIES = (10, 20, 30, 50)
NO, YES = 0, 1
CREATE = 1

Form = Turn[ActivityDraft]


async def _compounds(form: Form) -> list[Choice]:
    """The compounds the organiser may plan for, as they are now (a role can be taken away)."""
    managed = await party.managed_compounds(form.desk, form.actor)
    return [Choice(c.display_name(form.locale), c.id) for c in managed[:30]]


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


def _start_text(form: Form, text: str) -> Outcome[ActivityDraft]:
    start = parse_start(text, form.desk.now, form.desk.config.bot.zone)
    if isinstance(start, WhenError):
        return Say(_when_error(start))
    return Next(replace(form.draft, starts_at=start, ends_at=None))


def _end_text(form: Form, text: str) -> Outcome[ActivityDraft]:
    assert form.draft.starts_at is not None
    end = parse_end(text, form.draft.starts_at, form.desk.config.bot.zone)
    if isinstance(end, WhenError):
        return Say(_when_error(end))
    return Next(replace(form.draft, ends_at=end))


def _pick_length(form: Form, hours: int) -> Outcome[ActivityDraft]:
    assert form.draft.starts_at is not None
    return Next(replace(form.draft, ends_at=form.draft.starts_at + timedelta(hours=hours)))


def _capacity_text(form: Form, text: str) -> Outcome[ActivityDraft]:
    capacity = parse_number(text, 1, MAX_CAPACITY)
    if capacity is None:
        return Say(_("Please write a number of places from 1 to {most}.").format(most=MAX_CAPACITY))
    return Next(replace(form.draft, capacity=capacity))


async def _summary(form: Form) -> str:
    draft, desk = form.draft, form.desk
    assert draft.kind and draft.starts_at and draft.ends_at
    compound = await desk.units.get(draft.compound_id)
    return "\n".join(
        [
            _("<b>New activity</b>"),
            _("Compound: {compound}").format(
                compound=html.quote(compound.display_name(form.locale)) if compound else "—"
            ),
            _("Kind: {kind}").format(kind=ui.activity_kind_name(draft.kind, form.locale)),
            _("Title: {title}").format(title=html.quote(draft.title)),
            _("Time: {start} – {end}").format(
                start=desk.local(draft.starts_at), end=desk.local(draft.ends_at, "%H:%M")
            ),
            _("Place: {place}").format(place=html.quote(draft.place)),
            *(() if draft.topic_id is not None else _places_and_notice(draft)),
        ]
    )


def _places_and_notice(draft: ActivityDraft) -> tuple[str, str]:
    """A meeting (议事会) has neither: it is open to all, and the topic's notice tells of it."""
    return (
        _("Places: {n}").format(n=draft.capacity),
        _("Notice in the residents group: {answer}").format(
            answer=_("yes") if draft.announce else _("no")
        ),
    )


async def _create(form: Form, _arg: int) -> Outcome[ActivityDraft]:
    desk, actor = form.desk, form.actor
    if form.draft.topic_id is not None:  # a topic's meeting (议事会): the topic is accepted
        topic, found = await topics.accept(desk, actor, form.draft)
        await desk.outbox.send(
            actor.id,
            _(
                "✅ Topic #{id} is accepted and its meeting is set: {activity}\nCheck-in code: "
                "<b>{code}</b>. The residents, the owners' committee and the property company "
                "have been told."
            ).format(
                id=topic.id,
                activity=ui.activity_line(found, desk.config.bot.zone, actor.locale),
                code=found.code,
            ),
            markup=menu.keyboard(actor),
        )
        return Done()
    found = await party.create_activity(desk, actor, form.draft)
    await desk.outbox.send(
        actor.id,
        _(
            "✅ Created: {activity}\nCheck-in code: <b>{code}</b> — show it on site. Members "
            "sign up with /activities."
        ).format(
            activity=ui.activity_line(found, desk.config.bot.zone, actor.locale), code=found.code
        ),
    )
    return Done()


def _not_a_meeting(draft: ActivityDraft) -> bool:
    """A topic's meeting has its compound, kind, title and places already."""
    return draft.topic_id is None


PLAN = wizard.Flow(
    name="activity",
    draft=ActivityDraft,
    closed=lambda: _("This plan is no longer open. Send /newactivity to start again."),
    steps=(
        Step(
            key="compound",
            ask=lambda form: _("Which compound is the activity for?"),
            choices=_compounds,
            pick=lambda form, arg: Next(replace(form.draft, compound_id=arg)),
            applies=_not_a_meeting,
        ),
        Step(
            key="kind",
            ask=lambda form: _("What kind of activity?"),
            choices=lambda form: [
                Choice(ui.activity_kind_name(kind, form.locale), n) for n, kind in enumerate(KINDS)
            ],
            pick=lambda form, arg: Next(replace(form.draft, kind=KINDS[arg])),
            applies=_not_a_meeting,
        ),
        Step(
            key="title",
            ask=lambda form: _("Its title, in a few words (for example: 周六楼道大扫除)"),
            text=lambda form, text: Next(replace(form.draft, title=" ".join(text.split()))),
            limit=MAX_TITLE,
            applies=_not_a_meeting,
        ),
        Step(
            key="start",
            ask=lambda form: _(
                "When does it start? (for example: 明天 9:00, 11月28日 上午9点, 2026-11-28 09:00)"
            ),
            text=_start_text,
        ),
        Step(
            key="end",
            ask=lambda form: _(
                "How long does it last? Tap a button, or write the end time (for example 11:30)."
            ),
            choices=lambda form: [Choice(_("{n} h").format(n=n), n) for n in LENGTHS],
            pick=_pick_length,
            text=_end_text,
            columns=4,
        ),
        Step(
            key="place",
            ask=lambda form: _("Where do people meet? (for example: 东门广场)"),
            text=lambda form, text: Next(replace(form.draft, place=" ".join(text.split()))),
            limit=MAX_PLACE,
        ),
        Step(
            key="capacity",
            ask=lambda form: _("How many places? Tap a button or write a number."),
            choices=lambda form: [Choice(str(n), n) for n in CAPACITIES],
            pick=lambda form, arg: Next(replace(form.draft, capacity=arg)),
            text=_capacity_text,
            columns=4,
            applies=_not_a_meeting,
        ),
        Step(
            key="announce",
            ask=lambda form: _(
                "Shall I post it in the compound's residents group, with a sign-up link?"
            ),
            choices=lambda form: [Choice(_("📢 Yes, post it"), YES), Choice(_("No notice"), NO)],
            pick=lambda form, arg: Next(replace(form.draft, announce=arg == YES)),
            applies=_not_a_meeting,
        ),
        Step(
            key="confirm",
            ask=_summary,
            choices=lambda form: [Choice(_("✅ Create"), CREATE)],
            pick=_create,
        ),
    ),
)


async def cmd_new_activity(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
    compounds = await party.managed_compounds(desk, actor)
    if not compounds:
        await desk.outbox.send(
            message.chat.id,
            _("Only the compound's party branch (or the community above it) can plan activities."),
        )
        return
    draft = ActivityDraft(compound_id=compounds[0].id if len(compounds) == 1 else 0)
    await wizard.start(PLAN, desk, actor, state, draft, at="kind" if draft.compound_id else None)


# --- check-in, check-out ------------------------------------------------------------------------------


def _location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _checked_out(title: str, minutes: int) -> str:
    return _("👋 Checked out of {title}. Recorded: {hours} h. Thank you!").format(
        title=html.quote(title), hours=ui.hours_text(minutes)
    )


async def check_in(actor: Actor, desk: Desk, state: FSMContext) -> None:
    await state.set_state(Activities.checkin)
    await state.set_data({"tries": 0})
    await desk.outbox.send(
        actor.id,
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
    await desk.outbox.send(actor.id, text, markup=menu.keyboard(actor))
    await desk.outbox.send(
        actor.id,
        ui.activity_line(result.activity, desk.config.bot.zone, actor.locale),
        markup=ui.check_out_keyboard(result.activity, actor.locale),
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
    result = await party.check_in_by_location(desk, actor, location.latitude, location.longitude)
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
        raise Refused(Refusal.TOO_MANY_TRIES)
    try:
        result = await party.check_in_by_code(desk, actor, text)
    except Refused as error:
        # A wrong code is counted, so the count must outlive the refusal (not be rolled back):
        # answered here, with the one renderer's words.
        if error.reason is not Refusal.WRONG_CODE:
            raise
        await state.update_data(tries=tries + 1)
        await desk.outbox.send(message.chat.id, refusal_text(error, desk))
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


async def check_out(actor: Actor, desk: Desk, state: FSMContext) -> None:
    found, minutes = await party.check_out(desk, actor, None, Method.BUTTON)
    await desk.outbox.send(actor.id, _checked_out(found.title, minutes))


async def on_activity_button(
    callback: CallbackQuery, callback_data: PartyCb, actor: Actor, desk: Desk
) -> None:
    action, target = callback_data.action, callback_data.id
    done = ""
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
        await desk.outbox.send(actor.id, done, markup=menu.keyboard(actor))
    else:
        await _show_activity(desk, actor, target)
    await desk.outbox.answer_callback(actor.id, callback.id, done or None)


def private_router() -> Router:
    router = Router(name="activities")
    router.message.register(
        cmd_start_activity, CommandStart(deep_link=True, magic=F.args.startswith(ACTIVITY_PREFIX))
    )
    router.message.register(command(activities), Command("activities"))
    router.message.register(cmd_new_activity, Command("newactivity"))
    router.message.register(command(check_in), Command("checkin"))
    router.message.register(command(check_out), Command("checkout"))
    router.callback_query.register(on_activity_button, PartyCb.filter(F.action.in_(MEMBER_ACTIONS)))
    router.message.register(on_location, Activities.checkin, F.location)
    router.message.register(on_code, Activities.checkin, F.text & ~F.text.startswith("/"))
    router.message.register(on_checkin_other, Activities.checkin, ~F.text)
    router.message.register(on_location, StateFilter(None), F.location)
    return router
