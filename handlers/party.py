"""Party members in the private chat: /party (报到 registration), the branch's approval card,
/myrecord, and /roster with the XLSX ledgers. Activities and check-in: handlers/activities.py."""

from __future__ import annotations

from dataclasses import replace

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.errors import DomainError
from bot.domain.party import (
    MAX_FIELD,
    MAX_NAME,
    AttendanceStatus,
    MemberType,
    Registration,
    RegStatus,
    registered_at,
)
from bot.domain.people import Actor
from bot.services import exports, party
from bot.services.desk import Desk
from bot.ui import party as ui
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.party import PartyAction, PartyCb
from handlers import wizard
from handlers.common import close_card, command, private_state, refuse_button
from handlers.onboarding import Intent, home_of
from handlers.wizard import Choice, Done, Next, Outcome, Step, Turn
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
    reason = State()  # a branch officer writes why a registration is rejected


class AgainCb(CallbackData, prefix="pr"):
    """From /party: fill the registration form again (a move, a new phone number)."""


def buttons(*rows: tuple[str, CallbackData], columns: int = 2) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in rows:
        builder.button(text=text, callback_data=data)
    builder.adjust(columns)
    return builder.as_markup()


# --- 报到: the registration form, a flow of the conversation engine ---------------------------------

USE_NAME, SEND = 0, 1

Form = Turn[Registration]


def _words(text: str) -> str:
    return " ".join(text.split())


def _own_name(form: Form) -> str:
    return form.actor.user.first_name[:MAX_NAME] or "—"


def _summary(form: Form) -> str:
    draft, locale = form.draft, form.locale
    lines = [
        _("<b>Your registration</b>"),
        _("Name: {name}").format(name=html.quote(draft.name)),
        _("Building: {building}").format(building=html.quote(draft.building)),
        _("Workplace party organisation: {org}").format(org=html.quote(draft.workplace)),
        _("Type: {type}").format(
            type=ui.member_type_name(draft.type, locale) if draft.type else "—"
        ),
        _("Phone: {phone}").format(
            phone=html.quote(draft.phone) if draft.phone else _("not given")
        ),
        "",
        _("Send it to your compound's party branch?"),
    ]
    return "\n".join(lines)


async def _send(form: Form, _arg: int) -> Outcome[Registration]:
    desk, actor = form.desk, form.actor
    member, new = await party.register(desk, actor, form.draft)
    if new:
        text = _(
            "Sent to your compound's party branch. I will tell you when they have looked at "
            "it. (No. {id})"
        ).format(id=member.id)
    else:
        text = _("Your details are updated.")
    await desk.outbox.send(actor.id, text)
    return Done()


REGISTRATION = wizard.Flow(
    name="party",
    draft=Registration,
    closed=lambda: _("This form is no longer open. Send /party to start again."),
    steps=(
        Step(
            key="name",
            ask=lambda form: _("Party member registration (报到). What is your full name?"),
            choices=lambda form: [Choice(_("Use “{name}”").format(name=_own_name(form)), USE_NAME)],
            pick=lambda form, _arg: Next(replace(form.draft, name=_own_name(form))),
            text=lambda form, text: Next(replace(form.draft, name=_words(text))),
            limit=MAX_NAME,
        ),
        Step(
            key="building",
            ask=lambda form: _(
                "Which building and flat do you live in? (for example: 3号楼2单元501)"
            ),
            text=lambda form, text: Next(replace(form.draft, building=_words(text))),
            limit=MAX_FIELD,
        ),
        Step(
            key="workplace",
            ask=lambda form: _(
                "Which party organisation does your membership belong to (your workplace's, or "
                "your retirement office's)? (for example: 市第一人民医院党委)"
            ),
            text=lambda form, text: Next(replace(form.draft, workplace=_words(text))),
            limit=MAX_FIELD,
        ),
        Step(
            key="type",
            ask=lambda form: _("Which describes you?"),
            choices=lambda form: [
                Choice(ui.member_type_name(kind, form.locale), n) for n, kind in enumerate(TYPES)
            ],
            pick=lambda form, arg: Next(replace(form.draft, type=TYPES[arg])),
            columns=1,
        ),
        Step(
            key="phone",
            ask=lambda form: _(
                "The branch may need to reach you. Share your phone number with the button below "
                "(only the branch sees it), or tap “Skip”."
            ),
            keyboard=wizard.Ask.CONTACT,
            contact=lambda form, phone: Next(replace(form.draft, phone=phone), _("Thank you.")),
            skip=lambda form: Next(replace(form.draft, phone=None), _("No phone number, fine.")),
        ),
        Step(
            key="confirm",
            ask=_summary,
            choices=lambda form: [Choice(_("✅ Send"), SEND)],
            pick=_send,
        ),
    ),
)


async def registration(actor: Actor, desk: Desk, state: FSMContext) -> None:
    """Show the registration, or start one."""
    if await home_of(actor, desk, state, Intent.PARTY) is None:
        return
    member = await desk.party.current(actor.id)
    if member is None or not registered_at(member, actor.user.compound_id):
        lead = ""
        if member is not None and member.current:
            lead = _("You moved: this registers you with your new compound's branch.")
        await wizard.start(REGISTRATION, desk, actor, state, Registration(), lead=lead)
        return
    compound = await party.compound_of(desk, member.compound_id)
    lines = [
        _("<b>Your party member registration (报到)</b>"),
        *ui.details(member, compound, actor.locale),
        _("Status: {status}").format(
            status=ui.registration_status_name(member.status, actor.locale)
        ),
    ]
    await desk.outbox.send(
        actor.id,
        "\n".join(lines),
        markup=buttons((_("✏ Update my details"), AgainCb())),
    )


async def on_again(callback: CallbackQuery, actor: Actor, desk: Desk, state: FSMContext) -> None:
    member = await desk.party.current(actor.id)
    if member is None or not member.current:
        await refuse_button(desk.outbox, callback)
        return
    await desk.outbox.answer_callback(actor.id, callback.id)
    state = private_state(state, actor.id)
    await wizard.start(REGISTRATION, desk, actor, state, Registration())


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
        error.ends_conversation = (
            True  # the reason was for a registration decided meanwhile: it ends
        )
        raise
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
        text = ui.card_text(member, compound, locale, chat_id)
        await desk.outbox.edit(chat_id, message_id, text + "\n\n" + result)
    await desk.outbox.send(message.chat.id, _("Done: they were told the reason."))


async def on_not_text(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _("Please write it as a text message, or /cancel."))


# --- records ------------------------------------------------------------------------------------------


async def my_record(actor: Actor, desk: Desk, state: FSMContext) -> None:
    rows = await party.my_record(desk, actor)
    year = desk.year_start().year
    taken = [r for r in rows if r.attendance.checked_in_at is not None]
    total = sum(r.attendance.minutes for r in taken)
    lines = [
        _("<b>Your service record, {year}</b>").format(year=year),
        _("Activities taken part in: {count}; hours: {hours}").format(
            count=len(taken), hours=ui.hours_text(total)
        ),
    ]
    for row in rows:
        a = row.attendance
        if a.checked_out_at is not None:
            part = _("{hours} h").format(hours=ui.hours_text(a.minutes))
        elif a.checked_in_at is not None:
            part = _("checked in")
        elif a.status is AttendanceStatus.CANCELLED:
            part = _("cancelled")
        else:
            part = _("signed up")
        when = desk.local(row.activity.starts_at, "%m-%d")
        lines.append(f"• {when} {html.quote(row.activity.title)} — {part}")
    if not rows:
        lines.append(_("Nothing yet this year. “📅 Activities” shows what is coming."))
    await desk.outbox.send(actor.id, "\n".join(lines))


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
                hours=ui.hours_text(minutes),
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


def private_router() -> Router:
    router = Router(name="party")
    router.message.register(command(registration), Command("party"))
    router.message.register(command(my_record), Command("myrecord"))
    router.message.register(cmd_roster, Command("roster"))
    router.callback_query.register(on_again, AgainCb.filter())
    router.callback_query.register(on_party_button, PartyCb.filter(F.action.in_(BRANCH_ACTIONS)))
    router.message.register(on_reason_text, Party.reason, F.text & ~F.text.startswith("/"))
    router.message.register(on_not_text, Party.reason, ~F.text)
    return router
