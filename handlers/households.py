"""Households in the private chat: “🏠 My home” (claim a flat by buttons or typed as 3-2-501, see
the household, change its representative), the claim card of the flat's household contact or the
branch (confirm, or not with a reason), “🏘 Households” (a contact's households; the branch's
coverage, claims waiting and a link that appoints a household contact), and that link.

The forms are flows of the conversation engine (handlers/wizard.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import NotAllowed
from bot.domain.households import (
    MANY_FLATS,
    Flat,
    HouseholdRefusal,
    Resident,
    Tenure,
    find_flat,
    parse_address,
)
from bot.domain.people import Actor
from bot.services import exports, households, party
from bot.services.desk import Desk
from bot.ui import households as ui
from bot.ui import menu
from bot.ui.households import HouseholdAction, HouseholdCb
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers import proxy, wizard
from handlers.common import (
    close_card,
    command,
    pressed_on,
    private_state,
    refuse_button,
)
from handlers.onboarding import Intent, home_of
from handlers.wizard import Choice, Done, Next, Outcome, Say, Step, Turn
from storage.files import FileRepo

TENURES = tuple(Tenure)
SEND = 0
WHOLE_BUILDING = 0  # the appointment form's first choice of a stairwell: all of them
MAX_REASON = 300
MAX_WAITING_CARDS = 10  # claim cards sent again with the overview


# --- claiming a flat: a flow of the conversation engine ----------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """The claim being made: the compound, then building, stairwell and floor as chosen (the
    counts say which questions apply), then the flat and the tenure."""

    compound_id: int
    building: str | None = None
    stairwells: int = 0  # of the chosen building: above one, the stairwell is asked
    unit: str | None = None
    many: bool = False  # the stairwell has so many flats that the floor is asked first
    floor: int | None = None
    flat_id: int | None = None
    tenure: Tenure | None = None


ClaimTurn = Turn[Claim]


async def _buildings(form: ClaimTurn) -> list[str]:
    return await households.repo(form.desk).buildings(form.draft.compound_id)


async def _stairwells(form: ClaimTurn) -> list[str]:
    assert form.draft.building is not None
    return await households.repo(form.desk).stairwells(form.draft.compound_id, form.draft.building)


async def _flats_here(form: ClaimTurn) -> list[Flat]:
    draft = form.draft
    assert draft.building is not None
    found = await households.repo(form.desk).flats_in(draft.compound_id, draft.building, draft.unit)
    if draft.many and draft.floor is not None:
        found = [f for f in found if f.floor == draft.floor]
    return found


def _building_label(name: str, locale: str) -> str:
    return f"Bldg {name}" if locale == "en" else f"{name}号楼"


def _unit_label(name: str, locale: str) -> str:
    if not name:
        return _("(no stairwell)")
    return f"Unit {name}" if locale == "en" else f"{name}单元"


async def _ask_building(form: ClaimTurn) -> str:
    compound = await form.desk.units.get(form.draft.compound_id)
    where = html.quote(compound.display_name(form.locale)) if compound else "—"
    return _(
        "<b>Register your flat</b> ({compound})\nWhich building do you live in? Tap it, or type "
        "your address like 3-2-501 (building-stairwell-flat)."
    ).format(compound=where)


async def _building_choices(form: ClaimTurn) -> list[Choice]:
    return [
        Choice(_building_label(b, form.locale), n) for n, b in enumerate(await _buildings(form))
    ]


async def _pick_building(form: ClaimTurn, arg: int) -> Outcome[Claim]:
    building = (await _buildings(form))[arg]
    draft = replace(form.draft, building=building, unit=None, floor=None, flat_id=None, many=False)
    stairwells = await _stairwells(replace(form, draft=draft))
    draft = replace(draft, stairwells=len(stairwells))
    if len(stairwells) == 1:
        draft = await _with_unit(replace(form, draft=draft), stairwells[0])
    return Next(draft)


async def _with_unit(form: ClaimTurn, unit: str) -> Claim:
    draft = replace(form.draft, unit=unit, floor=None, flat_id=None)
    many = len(await _flats_here(replace(form, draft=replace(draft, many=False)))) > MANY_FLATS
    return replace(draft, many=many)


async def _typed_address(form: ClaimTurn, text: str) -> Outcome[Claim]:
    parts = parse_address(text)
    found = None
    if parts is not None:
        flats = await households.repo(form.desk).flats(form.draft.compound_id)
        found = find_flat(flats, parts)
    if found is None:
        return Say(
            _(
                "I cannot find “{address}” in your compound. Please tap your building, or type "
                "it like 3-2-501."
            ).format(address=html.quote(text[:40]))
        )
    a = found.address
    stairwells = await households.repo(form.desk).stairwells(form.draft.compound_id, a.building)
    many = (
        len(await households.repo(form.desk).flats_in(form.draft.compound_id, a.building, a.unit))
        > MANY_FLATS
    )
    draft = replace(
        form.draft,
        building=a.building,
        stairwells=len(stairwells),
        unit=a.unit,
        many=many,
        floor=found.floor,
        flat_id=found.id,
    )
    return Next(draft, to="tenure")


async def _unit_choices(form: ClaimTurn) -> list[Choice]:
    return [Choice(_unit_label(u, form.locale), n) for n, u in enumerate(await _stairwells(form))]


async def _pick_unit(form: ClaimTurn, arg: int) -> Outcome[Claim]:
    return Next(await _with_unit(form, (await _stairwells(form))[arg]))


async def _floor_choices(form: ClaimTurn) -> list[Choice]:
    here = await _flats_here(replace(form, draft=replace(form.draft, floor=None)))
    floors = sorted({f.floor for f in here if f.floor is not None})
    label = "Floor {n}" if form.locale == "en" else "{n}层"
    return [Choice(label.format(n=n), n) for n in floors]


def _pick_floor(form: ClaimTurn, arg: int) -> Outcome[Claim]:
    return Next(replace(form.draft, floor=arg, flat_id=None))


def _where(form: ClaimTurn) -> str:
    draft = form.draft
    parts = [_building_label(draft.building or "", form.locale)]
    if draft.unit:
        parts.append(_unit_label(draft.unit, form.locale))
    return html.quote(" ".join(parts))


async def _flat_choices(form: ClaimTurn) -> list[Choice]:
    return [Choice(f.address.number, f.id) for f in await _flats_here(form)]


def _pick_flat(form: ClaimTurn, arg: int) -> Outcome[Claim]:
    return Next(replace(form.draft, flat_id=arg))


async def _chosen(form: ClaimTurn) -> Flat:
    assert form.draft.flat_id is not None
    return await households.flat(form.desk, form.draft.flat_id)


async def _ask_tenure(form: ClaimTurn) -> str:
    found = await _chosen(form)
    return _("{flat}: do you own it, live with the owner, or rent it?").format(
        flat=ui.address(found, form.locale)
    )


async def _summary(form: ClaimTurn) -> str:
    found = await _chosen(form)
    assert form.draft.tenure is not None
    return "\n".join(
        [
            _("<b>Your household registration</b>"),
            _("Flat: {flat}").format(flat=ui.address(found, form.locale)),
            _("You are: {tenure}").format(tenure=ui.tenure_name(form.draft.tenure, form.locale)),
            "",
            _(
                "Your household contact (党群中心户) or the compound's party branch confirms it. "
                "Only they see your flat number. Send it?"
            ),
        ]
    )


async def _send(form: ClaimTurn, _arg: int) -> Outcome[Claim]:
    draft = form.draft
    assert draft.flat_id is not None and draft.tenure is not None
    mine, found = await households.claim(form.desk, form.actor, draft.flat_id, draft.tenure)
    await form.desk.outbox.send(
        form.actor.id,
        _(
            "Sent: {flat} waits for confirmation by your household contact or the party branch. "
            "I will tell you when they have looked at it. (No. {id})"
        ).format(flat=ui.address(found, form.locale), id=mine.id),
    )
    return Done()


CLAIM = wizard.Flow(
    name="flat",
    draft=Claim,
    closed=lambda: _("This form is no longer open. Tap “🏠 My home” to start again."),
    steps=(
        Step(
            key="building",
            ask=_ask_building,
            choices=_building_choices,
            pick=_pick_building,
            text=_typed_address,
            limit=60,
            columns=3,
        ),
        Step(
            key="unit",
            ask=lambda form: _("{building}: which stairwell (单元)?").format(building=_where(form)),
            choices=_unit_choices,
            pick=_pick_unit,
            text=_typed_address,
            limit=60,
            applies=lambda draft: draft.stairwells > 1,
            columns=3,
        ),
        Step(
            key="floor",
            ask=lambda form: _("{where}: which floor?").format(where=_where(form)),
            choices=_floor_choices,
            pick=_pick_floor,
            text=_typed_address,
            limit=60,
            applies=lambda draft: draft.many,
            columns=4,
        ),
        Step(
            key="flat",
            ask=lambda form: _("{where}: which flat?").format(where=_where(form)),
            choices=_flat_choices,
            pick=_pick_flat,
            text=_typed_address,
            limit=60,
            columns=4,
        ),
        Step(
            key="tenure",
            ask=_ask_tenure,
            choices=lambda form: [
                Choice(ui.tenure_name(t, form.locale), n) for n, t in enumerate(TENURES)
            ],
            pick=lambda form, arg: Next(replace(form.draft, tenure=TENURES[arg])),
            columns=1,
        ),
        Step(
            key="confirm",
            ask=_summary,
            choices=lambda form: [Choice(_("✅ Send for confirmation"), SEND)],
            pick=_send,
        ),
    ),
)


async def _start_claim(actor: Actor, desk: Desk, state: FSMContext, compound_id: int) -> None:
    await households.home_flats(desk, compound_id)  # none on record: say so
    await wizard.start(CLAIM, desk, actor, state, Claim(compound_id=compound_id))


# --- 🏠 My home ---------------------------------------------------------------------------------


def _button(text: str, data: CallbackData) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=text, callback_data=data)
    return builder.as_markup()


def _home_text(home: households.Home, locale: str) -> str:
    me = home.me
    lines = [
        _("<b>🏠 My home</b>"),
        _("Flat: {flat}").format(flat=ui.address(home.flat, locale)),
        _("You are: {tenure} · {status}").format(
            tenure=ui.tenure_name(me.tenure, locale), status=ui.status_name(me.status, locale)
        ),
    ]
    if me.confirmed:
        lines.append(_("Your household:"))
        for resident in home.residents:
            mark = " 🗳" if home.representative and resident.id == home.representative.id else ""
            lines.append(
                f"• {html.quote(households.name_of(resident, home.names))} — "
                f"{ui.tenure_name(resident.tenure, locale)}, "
                f"{ui.status_name(resident.status, locale)}{mark}"
            )
        lines.append(_("🗳 votes for the household in the compound's decisions."))
    return "\n".join(lines)


def _home_keyboard(home: households.Home, actor: Actor) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    confirmed = [r for r in home.residents if r.confirmed]
    current = home.representative
    if (
        home.me.confirmed
        and len(confirmed) > 1
        and (current is None or current.user_id == actor.id)
    ):
        builder.button(
            text=_("🗳 Change the representative"),
            callback_data=HouseholdCb(action=HouseholdAction.CHANGE, id=home.flat.id),
        )
    builder.button(
        text=_("🏠 I live in another flat"), callback_data=HouseholdCb(action=HouseholdAction.CLAIM)
    )
    builder.adjust(1)
    return builder.as_markup()


async def my_home(actor: Actor, desk: Desk, state: FSMContext) -> None:
    """The person's household, or (without one in their compound) the form to claim a flat."""
    compound_id = await home_of(actor, desk, state, Intent.HOME)
    if compound_id is None:
        return
    home = await households.my_home(desk, actor)
    if home is None or home.flat.compound_id != compound_id:
        await _start_claim(actor, desk, state, compound_id)
        return
    await desk.outbox.send(
        actor.id, _home_text(home, actor.locale), markup=_home_keyboard(home, actor)
    )


# --- the buttons -----------------------------------------------------------------------------------


async def on_button(
    callback: CallbackQuery,
    callback_data: HouseholdCb,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    action, target = callback_data.action, callback_data.id
    state = private_state(state, actor.id)
    note: str | None = None
    if action is HouseholdAction.CONFIRM:
        await households.decide(desk, actor, target, approve=True)
        await close_card(callback, desk.outbox, _confirmed_by(actor))
        note = _("Confirmed.")
    elif action is HouseholdAction.REJECT:
        mine, found = await households.decidable(desk, actor, target)
        draft = Why(resident_id=mine.id, card_chat=actor.id, card_message=pressed_on(callback))
        lead = _("Why is {flat} not confirmed for this person? Write the reason; they will see it.")
        await wizard.start(
            REASON,
            desk,
            actor,
            state,
            draft,
            lead=lead.format(flat=ui.address(found, actor.locale)),
        )
    elif action is HouseholdAction.CHANGE:
        await _offer_representatives(desk, actor, target)
    elif action is HouseholdAction.REPRESENT:
        home, _chosen = await households.choose_representative(
            desk, actor, target, callback_data.arg
        )
        note = _("Done.")
        await desk.outbox.send(
            actor.id, _home_text(home, actor.locale), markup=_home_keyboard(home, actor)
        )
    elif action is HouseholdAction.CLAIM:
        compound_id = await home_of(actor, desk, state, Intent.HOME)
        if compound_id is not None:
            await _start_claim(actor, desk, state, compound_id)
    elif action is HouseholdAction.OVERVIEW:
        await _show_overview(desk, actor, target)
    elif action is HouseholdAction.APPOINT:
        await _start_appointment(desk, actor, state, target)
    elif action is HouseholdAction.XLSX:
        await _send_ledger(desk, actor, target)
    elif action is HouseholdAction.PROXY:
        await proxy.on_behalf(actor, desk, state, target)
    elif action is HouseholdAction.UNSIGN:
        given, name = await party.cancel_by_proxy(desk, actor, target, callback_data.arg)
        note = _("Gave back {name}'s place at {title}.").format(name=name, title=given.title)
        await desk.outbox.send(actor.id, html.quote(note))
    else:
        await refuse_button(desk.outbox, callback)
        return
    await desk.outbox.answer_callback(actor.id, callback.id, note)


def _confirmed_by(actor: Actor) -> str:
    return _("✅ Confirmed by {name}.").format(name=html.quote(actor.user.first_name))


async def _offer_representatives(desk: Desk, actor: Actor, flat_id: int) -> None:
    home = await households.my_home(desk, actor)
    if home is None or home.flat.id != flat_id or not home.me.confirmed:
        raise NotAllowed(HouseholdRefusal.NOT_RESIDENT, str(flat_id))
    builder = InlineKeyboardBuilder()
    for resident in home.residents:
        if resident.confirmed and resident != home.representative:
            builder.button(
                text=html.quote(households.name_of(resident, home.names)),
                callback_data=HouseholdCb(
                    action=HouseholdAction.REPRESENT, id=flat_id, arg=resident.id
                ),
            )
    builder.adjust(2)
    await desk.outbox.send(
        actor.id,
        _("Who is to vote for your household from now on?"),
        markup=builder.as_markup(),
    )


# --- why not: a one-step flow ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Why:
    resident_id: int
    card_chat: int
    card_message: int


async def _reason(form: Turn[Why], text: str) -> Outcome[Why]:
    reason = " ".join(text.split())
    desk, actor, draft = form.desk, form.actor, form.draft
    await households.decide(desk, actor, draft.resident_id, approve=False, reason=reason)
    if draft.card_message:
        result = _("✖ Not confirmed by {name}: {reason}").format(
            name=html.quote(actor.user.first_name), reason=html.quote(reason)
        )
        await desk.outbox.edit_markup(draft.card_chat, draft.card_message)
        await desk.outbox.send(actor.id, result)
    await desk.outbox.send(
        actor.id, _("Done: they were told the reason."), markup=menu.keyboard(actor)
    )
    return Done()


REASON = wizard.Flow(
    name="flatno",
    draft=Why,
    closed=lambda: _("This form is no longer open."),
    steps=(
        Step(
            key="reason",
            ask=lambda form: _("(Write the reason, or tap Cancel.)"),
            text=_reason,
            limit=MAX_REASON,
        ),
    ),
)


# --- 🏘 Households: the contact's and the branch's screen ----------------------------------------


async def households_screen(actor: Actor, desk: Desk, state: FSMContext) -> None:
    """A household contact sees their households; the branch (and above) its compounds'."""
    charges = await households.repo(desk).charges_of(actor.id)
    managed = await households.managed_compounds(desk, actor)
    if not charges and not managed:
        raise NotAllowed(HouseholdRefusal.NOT_CONTACT)
    if charges:
        await _show_charge(desk, actor)
    if len(managed) == 1:
        await _show_overview(desk, actor, managed[0].id)
    elif managed:
        builder = InlineKeyboardBuilder()
        for compound in managed[:30]:
            builder.button(
                text=compound.display_name(actor.locale),
                callback_data=HouseholdCb(action=HouseholdAction.OVERVIEW, id=compound.id),
            )
        builder.adjust(2)
        await desk.outbox.send(
            actor.id, _("Households of which compound?"), markup=builder.as_markup()
        )


async def _show_charge(desk: Desk, actor: Actor) -> None:
    charge = await households.charge(desk, actor)
    locale = actor.locale
    areas = "、".join(html.quote(c.area(locale)) for c in charge.charges)
    registered = sum(
        1 for f in charge.flats if any(r.confirmed for r in charge.residents.get(f.id, ()))
    )
    lines = [
        _("<b>🏘 The households you look after</b> ({areas})").format(areas=areas),
        _("{count} households; with a registered resident: {registered}").format(
            count=len(charge.flats), registered=registered
        ),
        "",
    ]
    for found in charge.flats:
        living = charge.residents.get(found.id, ())
        names = [
            households.name_of(r, charge.names) + ("" if r.confirmed else "（?）") for r in living
        ]
        lines.append(
            f"• {ui.address(found, locale)}: " + (html.quote("、".join(names)) if names else "—")
        )
    flat_of = {f.id: f for f in charge.flats}
    if charge.tickets:
        lines += ["", _("<b>Open reports of these households</b>")]
        for ticket in charge.tickets:
            where = flat_of.get(ticket.flat_id or 0)
            lines.append(
                f"• <b>{ticket.number}</b> {ui.address(where, locale) if where else ''}: "
                f"{html.quote(ticket.text[:60])}"
            )
    waiting = charge.waiting
    if waiting:
        lines += [
            "",
            _("Waiting for your confirmation: {count} (cards below)").format(count=len(waiting)),
        ]
    await desk.outbox.send(actor.id, "\n".join(lines)[:4000], markup=_proxy_button(0))
    await _resend_cards(desk, actor, waiting)


def _proxy_button(compound_id: int) -> InlineKeyboardMarkup:
    return _button(
        _("📝 代办 for a resident without Telegram"),
        HouseholdCb(action=HouseholdAction.PROXY, id=compound_id),
    )


async def _resend_cards(desk: Desk, actor: Actor, waiting: list[Resident]) -> None:
    names = await desk.users.names([r.user_id for r in waiting if r.user_id is not None])
    for claim in waiting[:MAX_WAITING_CARDS]:
        found = await households.flat(desk, claim.flat_id)
        others = [
            r for r in await households.repo(desk).residents_of([found.id]) if r.id != claim.id
        ]
        other_names = await desk.users.names([r.user_id for r in others if r.user_id is not None])
        living = [(households.name_of(r, other_names), r) for r in others]
        await desk.outbox.send(
            actor.id,
            ui.claim_card(claim, households.name_of(claim, names), found, living, actor.locale),
            markup=ui.claim_keyboard(claim, actor.locale),
        )


async def _show_overview(desk: Desk, actor: Actor, compound_id: int) -> None:
    view = await households.overview(desk, actor, compound_id)
    locale = actor.locale
    share = f"{view.covered / view.flats:.0%}" if view.flats else "—"
    lines = [
        _("<b>🏘 Households of {compound}</b>").format(
            compound=html.quote(view.compound.display_name(locale))
        ),
        _("Flats on record: {flats}; with a confirmed resident: {covered} ({share})").format(
            flats=view.flats, covered=view.covered, share=share
        ),
        _("Household contacts (党群中心户): {count}").format(count=len(view.contacts)),
    ]
    for contact, size in view.contacts:
        lines.append(
            _("• {name}: {area}, {count} households").format(
                name=html.quote(view.names.get(contact.user_id, "—")),
                area=html.quote(contact.area(locale)),
                count=size,
            )
        )
    lines.append(_("Claims waiting for confirmation: {count}").format(count=len(view.waiting)))
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🏘 Appoint a household contact"),
        callback_data=HouseholdCb(action=HouseholdAction.APPOINT, id=compound_id),
    )
    builder.button(
        text=_("📝 代办 for a resident without Telegram"),
        callback_data=HouseholdCb(action=HouseholdAction.PROXY, id=compound_id),
    )
    builder.button(
        text=_("⬇ Household ledger (XLSX)"),
        callback_data=HouseholdCb(action=HouseholdAction.XLSX, id=compound_id),
    )
    builder.adjust(1)
    await desk.outbox.send(actor.id, "\n".join(lines)[:4000], markup=builder.as_markup())
    await _resend_cards(desk, actor, list(view.waiting))


async def _send_ledger(desk: Desk, actor: Actor, compound_id: int) -> None:
    found = await households.ledger(desk, actor, compound_id)
    data = exports.households_xlsx(found, desk.config.bot.zone)
    name = f"住户台账-{found.compound.name}-{desk.local(desk.now, '%Y%m%d')}.xlsx"
    file_id = await FileRepo(desk.session).add(name, data, desk.now)
    caption = _("Household ledger of {compound}: {count} flats").format(
        compound=html.quote(found.compound.display_name(actor.locale)), count=len(found.flats)
    )
    await desk.outbox.send_document(actor.id, file_id, caption)


# --- appointing a household contact: a flow -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Appointment:
    compound_id: int
    building: str | None = None


async def _appoint_buildings(form: Turn[Appointment]) -> list[str]:
    return await households.repo(form.desk).buildings(form.draft.compound_id)


async def _appoint_building_choices(form: Turn[Appointment]) -> list[Choice]:
    names = await _appoint_buildings(form)
    return [Choice(_building_label(b, form.locale), n) for n, b in enumerate(names)]


async def _appoint_stairwells(form: Turn[Appointment]) -> list[str]:
    assert form.draft.building is not None
    found = await households.repo(form.desk).stairwells(form.draft.compound_id, form.draft.building)
    return [u for u in found if u]


async def _appoint_building(form: Turn[Appointment], arg: int) -> Outcome[Appointment]:
    return Next(replace(form.draft, building=(await _appoint_buildings(form))[arg]))


async def _unit_options(form: Turn[Appointment]) -> list[Choice]:
    whole = Choice(_("The whole building"), WHOLE_BUILDING)
    stairwells = await _appoint_stairwells(form)
    return [whole, *(Choice(_unit_label(u, form.locale), n + 1) for n, u in enumerate(stairwells))]


async def _appoint_unit(form: Turn[Appointment], arg: int) -> Outcome[Appointment]:
    draft = form.draft
    assert draft.building is not None
    unit = "" if arg == WHOLE_BUILDING else (await _appoint_stairwells(form))[arg - 1]
    link, compound = await households.make_link(
        form.desk, form.actor, draft.compound_id, draft.building, unit
    )
    area = _building_label(draft.building, form.locale) + (
        " " + _unit_label(unit, form.locale) if unit else ""
    )
    hours = form.desk.config.bot.invite_ttl_hours
    await form.desk.outbox.send(
        form.actor.id,
        _(
            "Send this link to the new household contact (党群中心户) of {area}, {compound}. It "
            "works once, for {hours} hours:\n{link}"
        ).format(
            area=html.quote(area),
            compound=html.quote(compound.display_name(form.locale)),
            hours=hours,
            link=html.quote(link),
        ),
        markup=menu.keyboard(form.actor),
    )
    return Done()


APPOINT = wizard.Flow(
    name="contact",
    draft=Appointment,
    closed=lambda: _("This form is no longer open. Tap “🏘 Households” to start again."),
    steps=(
        Step(
            key="building",
            ask=lambda form: _(
                "A household contact looks after a building or a stairwell. Which building?"
            ),
            choices=_appoint_building_choices,
            pick=_appoint_building,
            columns=3,
        ),
        Step(
            key="unit",
            ask=lambda form: _("{building}: the whole building, or one stairwell?").format(
                building=html.quote(_building_label(form.draft.building or "", form.locale))
            ),
            choices=_unit_options,
            pick=_appoint_unit,
            columns=2,
        ),
    ),
)


async def _start_appointment(desk: Desk, actor: Actor, state: FSMContext, compound_id: int) -> None:
    await households.overview(desk, actor, compound_id)  # the branch only
    await wizard.start(APPOINT, desk, actor, state, Appointment(compound_id=compound_id))


async def cmd_start_contact(
    message: Message, command: CommandObject, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    """An appointment link: whoever opens it becomes the household contact it names."""
    code = (command.args or "").removeprefix(households.LINK_PREFIX)
    contact, compound = await households.join_as_contact(desk, actor, code)
    await desk.outbox.send(
        actor.id,
        _(
            "🏘 You are now the household contact (党群中心户) of {area}, {compound}. Tap "
            "“🏘 Households” to see your households and the registrations to confirm."
        ).format(
            area=html.quote(contact.area(actor.locale)),
            compound=html.quote(compound.display_name(actor.locale)),
        ),
        markup=menu.keyboard(actor, contact=True),
    )


def private_router() -> Router:
    router = Router(name="households")
    router.message.register(
        cmd_start_contact,
        CommandStart(deep_link=True, magic=F.args.startswith(households.LINK_PREFIX)),
    )
    router.message.register(command(my_home), Command("home"))
    router.message.register(command(households_screen), Command("households"))
    router.message.register(command(proxy.on_behalf), Command("proxy"))
    router.callback_query.register(on_button, HouseholdCb.filter())
    return router
