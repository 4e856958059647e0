"""代办: a household contact (or the branch) acts for a resident without Telegram — a report, a
lost or found item, a place at an activity. A flow of the conversation engine asks for whom (the
household by buttons or typed as 3-2-501, then the person: one recorded before, or a name), then
what, and hands over to that feature's own form with the proxy's fields set."""

from __future__ import annotations

from dataclasses import dataclass, replace

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.utils.i18n import gettext as _

from bot.domain.complaints import Draft as ReportDraft
from bot.domain.errors import NotAllowed
from bot.domain.households import (
    MANY_FLATS,
    MAX_NAME,
    HouseholdRefusal,
    Tenure,
    find_flat,
    parse_address,
)
from bot.domain.lostfound import Draft as ItemDraft
from bot.domain.lostfound import Kind
from bot.domain.people import Actor
from bot.services import households, party
from bot.services.desk import Desk
from bot.ui import households as ui
from bot.ui.households import HouseholdAction, HouseholdCb
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers import lostfound, reporting, wizard
from handlers.wizard import Choice, Done, Next, Outcome, Say, Step, Then, Turn

SOMEONE_ELSE = 0
TENURES = tuple(Tenure)


class What:
    REPORT, LOST, FOUND, ACTIVITY = range(4)


@dataclass(frozen=True, slots=True)
class ForWhom:
    compound_id: int = 0  # 0: not chosen yet (staff of several compounds)
    flat_id: int | None = None
    resident_id: int | None = None  # one recorded before
    name: str = ""  # or a new one's name
    tenure: Tenure | None = None


Form = Turn[ForWhom]


async def _compounds(form: Form) -> list[Choice]:
    found = await households.proxy_compounds(form.desk, form.actor)
    return [Choice(u.display_name(form.locale), u.id) for u in found[:30]]


async def _charge_flats(form: Form) -> list[Choice]:
    """A contact's own households as buttons (short addresses), when they are few enough."""
    charges = [
        c
        for c in await households.repo(form.desk).charges_of(form.actor.id)
        if c.compound_id == form.draft.compound_id
    ]
    flats = await households.repo(form.desk).flats_of(charges)
    if not flats or len(flats) > MANY_FLATS:
        return []
    return [Choice(f.address.short, f.id) for f in flats]


async def _ask_flat(form: Form) -> str:
    lead = _("<b>代办 — on behalf of a resident without Telegram</b>")
    if await _charge_flats(form):
        return lead + "\n" + _("Which household? Tap it, or type the address like 3-2-501.")
    return lead + "\n" + _("Which household? Type the address like 3-2-501.")


async def _pick_flat(form: Form, arg: int) -> Outcome[ForWhom]:
    await households.check_proxy(form.desk, form.actor, arg)
    return Next(replace(form.draft, flat_id=arg, resident_id=None, name=""))


async def _typed_flat(form: Form, text: str) -> Outcome[ForWhom]:
    parts = parse_address(text)
    flats = await households.repo(form.desk).flats(form.draft.compound_id)
    found = find_flat(flats, parts) if parts else None
    if found is None:
        return Say(
            _("I cannot find “{address}” in this compound. Type it like 3-2-501.").format(
                address=html.quote(text[:40])
            )
        )
    if not await households.may_proxy(form.desk, form.actor, found):
        return Say(_("That household is not one you look after. Type one of yours, like 3-2-501."))
    return Next(replace(form.draft, flat_id=found.id, resident_id=None, name=""))


async def _flat_label(form: Form) -> str:
    assert form.draft.flat_id is not None
    return ui.address(await households.flat(form.desk, form.draft.flat_id), form.locale)


async def _ask_who(form: Form) -> str:
    known = await _known(form)
    where = await _flat_label(form)
    if known:
        return _("{flat}: who is it for? Tap them, or write another name.").format(flat=where)
    return _(
        "{flat}: who is it for? Write the name they go by (for example 张奶奶). It is kept with "
        "the household, not shown in groups."
    ).format(flat=where)


async def _known(form: Form) -> list[Choice]:
    assert form.draft.flat_id is not None
    return [
        Choice(r.name, r.id)
        for r in await households.without_telegram(form.desk, form.draft.flat_id)
    ]


def _pick_known(form: Form, arg: int) -> Outcome[ForWhom]:
    return Next(replace(form.draft, resident_id=arg, name=""), to="what")


def _named(form: Form, text: str) -> Outcome[ForWhom]:
    return Next(replace(form.draft, resident_id=None, name=" ".join(text.split())))


def _whats(form: Form) -> list[Choice]:
    return [
        Choice(_("📝 Report a problem"), What.REPORT),
        Choice(_("😟 They lost something"), What.LOST),
        Choice(_("🙌 They found something"), What.FOUND),
        Choice(_("📅 A place at an activity"), What.ACTIVITY),
    ]


async def _whom(form: Form) -> tuple[int, str]:
    """The resident it is for, recorded in the household now if they are new."""
    draft = form.draft
    assert draft.flat_id is not None
    await households.check_proxy(form.desk, form.actor, draft.flat_id)  # still theirs
    if draft.resident_id is not None:
        known = await households.repo(form.desk).resident(draft.resident_id)
        if known is None or known.flat_id != draft.flat_id or known.user_id is not None:
            raise NotAllowed(HouseholdRefusal.NOT_RESIDENT, str(draft.resident_id))
        return known.id, known.name
    assert draft.tenure is not None
    made = await households.record_for(
        form.desk, form.actor, draft.flat_id, draft.name, draft.tenure
    )
    return made.id, made.name


async def _pick_what(form: Form, arg: int) -> Outcome[ForWhom]:
    draft = form.draft
    assert draft.flat_id is not None
    resident_id, name = await _whom(form)
    form = replace(form, draft=replace(draft, resident_id=resident_id, name=""))
    lead = _("📝 By proxy (代办) for {whom}").format(whom=html.quote(name))
    if arg == What.REPORT:
        report = ReportDraft(compound_id=draft.compound_id, proxy_for=name, flat_id=draft.flat_id)
        return Then(reporting.REPORT, report, lead)
    if arg in (What.LOST, What.FOUND):
        kind = Kind.LOST if arg == What.LOST else Kind.FOUND
        item = ItemDraft(
            kind=kind, compound_id=draft.compound_id, proxy_for=name, flat_id=draft.flat_id
        )
        return Then(lostfound.REPORT, item, lead)
    return Next(form.draft, to="activity")


async def _activities(form: Form) -> list[Choice]:
    coming = await form.desk.party.upcoming([form.draft.compound_id], form.desk.now)
    return [
        Choice(
            f"{form.desk.local(a.starts_at, '%m-%d %H:%M')} {a.title} ({a.signed}/{a.capacity})",
            a.id,
        )
        for a in coming
        if form.desk.now < a.starts_at
    ][:20]


async def _ask_activity(form: Form) -> str:
    if not await _activities(form):
        return _("There is no activity coming at this compound. Tap Cancel.")
    return _("Which activity? (places taken / places)")


async def _pick_activity(form: Form, arg: int) -> Outcome[ForWhom]:
    draft = form.draft
    assert draft.resident_id is not None and draft.flat_id is not None
    await households.check_proxy(form.desk, form.actor, draft.flat_id)  # still theirs
    resident = await households.repo(form.desk).resident(draft.resident_id)
    if resident is None or resident.flat_id != draft.flat_id:
        raise NotAllowed(HouseholdRefusal.NOT_RESIDENT, str(draft.resident_id))
    found = await party.sign_up_by_proxy(form.desk, form.actor, arg, resident.id, draft.compound_id)
    await form.desk.outbox.send(
        form.actor.id,
        _(
            "✅ A place is taken for {name} at “{title}”, {when} ({signed}/{capacity}). Please "
            "tell them the time and the place: {place}."
        ).format(
            name=html.quote(resident.name),
            title=html.quote(found.title),
            when=form.desk.local(found.starts_at),
            signed=found.signed,
            capacity=found.capacity,
            place=html.quote(found.place),
        ),
        markup=InlineKeyboardBuilder()
        .button(
            text=_("✖ Give back {name}'s place").format(name=resident.name[:20]),
            callback_data=HouseholdCb(action=HouseholdAction.UNSIGN, id=found.id, arg=resident.id),
        )
        .as_markup(),
    )
    return Done()


PROXY = wizard.Flow(
    name="proxy",
    draft=ForWhom,
    closed=lambda: _("This form is no longer open. Tap “🏘 Households” to start again."),
    steps=(
        Step(
            key="compound",
            ask=lambda form: _("代办: for a household of which compound?"),
            choices=_compounds,
            pick=lambda form, arg: Next(replace(form.draft, compound_id=arg)),
            applies=lambda draft: draft.compound_id == 0,
        ),
        Step(
            key="flat",
            ask=_ask_flat,
            choices=_charge_flats,
            pick=_pick_flat,
            text=_typed_flat,
            limit=60,
            columns=3,
        ),
        Step(
            key="who",
            ask=_ask_who,
            choices=_known,
            pick=_pick_known,
            text=_named,
            limit=MAX_NAME,
        ),
        Step(
            key="tenure",
            ask=lambda form: _("Is {name} the owner, the owner's family, or a tenant?").format(
                name=html.quote(form.draft.name)
            ),
            choices=lambda form: [
                Choice(ui.tenure_name(t, form.locale), n) for n, t in enumerate(TENURES)
            ],
            pick=lambda form, arg: Next(replace(form.draft, tenure=TENURES[arg])),
            applies=lambda draft: draft.resident_id is None,
            columns=1,
        ),
        Step(
            key="what",
            ask=lambda form: _("What can I do for them?"),
            choices=_whats,
            pick=_pick_what,
        ),
        Step(
            key="activity",
            ask=_ask_activity,
            choices=_activities,
            pick=_pick_activity,
            applies=lambda draft: False,  # reached from “A place at an activity” only
            columns=1,
        ),
    ),
)


async def on_behalf(actor: Actor, desk: Desk, state: FSMContext, compound_id: int = 0) -> None:
    """Start 代办, for a household of `compound_id` (0: whichever the actor looks after; asked
    when several). HouseholdRefusal.NOT_CONTACT for anyone who may not."""
    compounds = [
        u for u in await households.proxy_compounds(desk, actor) if compound_id in (0, u.id)
    ]
    if not compounds:
        raise NotAllowed(HouseholdRefusal.NOT_CONTACT, f"proxy in {compound_id}")
    first = ForWhom(compound_id=compounds[0].id if len(compounds) == 1 else 0)
    await wizard.start(PROXY, desk, actor, state, first)
