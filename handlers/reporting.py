"""Reporting a problem: /report (or just writing), category, text, photos, location, anonymity,
the duplicate check, and the ticket number. /report in a compound group links to the private chat.

The form is a flow of the conversation engine (handlers/wizard.py): a category, then the report's
card, which takes text, up to three photos and a location until it is submitted; when similar open
tickets exist, the resident may follow one of those instead."""

from __future__ import annotations

from dataclasses import replace

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.domain.complaints import MAX_TEXT, Category, Draft
from bot.domain.inputs import parse_id
from bot.domain.people import Actor, ChatPurpose
from bot.services import complaints, households, onboarding
from bot.services.desk import Desk
from bot.ui import complaints as ui
from bot.ui.campaigns import REPORT_PREFIX as CAMPAIGN_PREFIX
from handlers import wizard
from handlers.common import command
from handlers.onboarding import Intent, home_of
from handlers.wizard import Choice, Done, Next, Outcome, Photo, Stay, Step, Turn

REPORT_PREFIX = "rp_"
CATEGORIES = tuple(Category)
ANONYMOUS, SUBMIT = 100, 101  # the card's buttons besides the categories (0…)
SUBMIT_MINE = 0  # besides the similar tickets (their ids)

Form = Turn[Draft]


# --- the card -------------------------------------------------------------------------------------


async def _card(form: Form, draft: Draft | None = None) -> str:
    compound = await form.desk.units.get(form.draft.compound_id)
    where = compound.display_name(form.locale) if compound else "—"
    return ui.draft_text(draft or form.draft, where, form.locale, await _for_whom(form))


async def _for_whom(form: Form) -> str:
    """代办: "张奶奶 (3号楼2单元501)"; empty for a resident's own report."""
    draft = form.draft
    if draft.proxy_for is None or draft.flat_id is None:
        return ""
    flat = await households.flat(form.desk, draft.flat_id)
    return f"{draft.proxy_for} ({flat.address.label(form.locale)})"


def _anonymous(draft: Draft) -> Choice:
    label = _("🙈 Anonymous: yes") if draft.anonymous else _("🙈 Anonymous: no")
    return Choice(label, ANONYMOUS)


def _anonymity(draft: Draft) -> list[Choice]:
    """A proxy's report (代办) names its proxy to the unit: it is never anonymous."""
    return [] if draft.proxy_for is not None else [_anonymous(draft)]


def _toggle(form: Form) -> Outcome[Draft]:
    return Stay(replace(form.draft, anonymous=not form.draft.anonymous))


def _text(form: Form, text: str) -> Outcome[Draft]:
    return Stay(replace(form.draft, text=text))


def _photo(form: Form, photo: Photo) -> Outcome[Draft]:
    draft = complaints.add_photo(form.draft, photo.file_id)
    if photo.caption and not draft.text:
        draft = replace(draft, text=photo.caption[:MAX_TEXT])
    return Stay(draft, _("Photo {count}/3 added.").format(count=len(draft.photos)))


def _location(form: Form, lat: float, lon: float) -> Outcome[Draft]:
    return Stay(replace(form.draft, lat=lat, lon=lon), _("Location added."))


# --- the steps ------------------------------------------------------------------------------------


def _categories(form: Form) -> list[Choice]:
    named = [Choice(ui.category_name(c, form.locale), n) for n, c in enumerate(CATEGORIES)]
    return [*named, *_anonymity(form.draft)]


def _pick_category(form: Form, arg: int) -> Outcome[Draft]:
    if arg == ANONYMOUS:
        return _toggle(form)
    return Next(replace(form.draft, category=CATEGORIES[arg]))


def _details(form: Form) -> list[Choice]:
    submit = [Choice(_("✅ Submit"), SUBMIT)] if form.draft.ready else []
    return [*submit, *_anonymity(form.draft)]


async def _pick_detail(form: Form, arg: int) -> Outcome[Draft]:
    if arg == ANONYMOUS:
        return _toggle(form)
    if await complaints.similar_open(form.desk, form.draft):
        return Next(form.draft, to="similar")
    return await _submit(form)


async def _similar_text(form: Form) -> str:
    lines = [_("Someone may have reported this already:")]
    for complaint in await complaints.similar_open(form.desk, form.draft):
        lines.append(f"• <b>{complaint.number}</b>: {html.quote(complaint.text[:80])}")
    lines.append(_("If it is the same problem, follow that ticket. Otherwise, submit yours."))
    return "\n".join(lines)


async def _similar(form: Form) -> list[Choice]:
    offered = [
        Choice(_("Same problem: follow {number}").format(number=complaint.number), complaint.id)
        for complaint in await complaints.similar_open(form.desk, form.draft)
    ]
    return [*offered, Choice(_("No, submit mine"), SUBMIT_MINE)]


async def _pick_similar(form: Form, arg: int) -> Outcome[Draft]:
    if arg == SUBMIT_MINE:
        return await _submit(form)
    followed = await complaints.follow(form.desk, form.actor, arg, form.draft.compound_id)
    await form.desk.outbox.send(
        form.actor.id,
        _("You now follow {number}; you will hear of every step. Nothing new was filed.").format(
            number=followed.number
        ),
    )
    return Done()


async def _submit(form: Form) -> Outcome[Draft]:
    desk, actor = form.desk, form.actor
    complaint = await complaints.open_complaint(desk, actor, form.draft)
    unit = await desk.units.get(complaint.unit_id)
    if complaint.proxy_for is not None:
        await desk.outbox.send(
            actor.id,
            _(
                "Filed by proxy (代办) for {name} as <b>{number}</b> and sent to {unit}. You will "
                "hear of every step: please pass the news on to them, and when it is done, ask "
                "them how satisfied they are and give their rating here."
            ).format(
                name=html.quote(complaint.proxy_for),
                number=complaint.number,
                unit=html.quote(unit.display_name(actor.locale)) if unit else "—",
            ),
        )
        return Done()
    await desk.outbox.send(
        actor.id,
        _(
            "Thank you. Your report is filed as <b>{number}</b> and sent to {unit}. You will hear "
            "of every step; “📋 My reports” shows your reports."
        ).format(
            number=complaint.number,
            unit=html.quote(unit.display_name(actor.locale)) if unit else "—",
        ),
    )
    return Done()


def _similar_applies(_draft: Draft) -> bool:
    return False  # reached only from Submit, when similar tickets are open


REPORT = wizard.Flow(
    name="report",
    draft=Draft,
    closed=lambda: _("This report is no longer open. Send /report to start a new one."),
    cancelled=lambda: _("Cancelled. Nothing was sent."),
    steps=(
        Step(
            key="category",
            ask=lambda form: _card(form, replace(form.draft, category=None)),
            choices=_categories,
            pick=_pick_category,
            text=_text,
            limit=MAX_TEXT,
            photo=_photo,
            location=_location,
        ),
        Step(
            key="details",
            ask=_card,
            choices=_details,
            pick=_pick_detail,
            text=_text,
            limit=MAX_TEXT,
            photo=_photo,
            location=_location,
            back_label=lambda: _("Change category"),
        ),
        Step(
            key="similar",
            ask=_similar_text,
            choices=_similar,
            pick=_pick_similar,
            applies=_similar_applies,
            columns=1,
        ),
    ),
)


# --- how a report starts ------------------------------------------------------------------------------


async def _start(desk: Desk, actor: Actor, state: FSMContext, draft: Draft, lead: str = "") -> None:
    await wizard.start(REPORT, desk, actor, state, draft, lead=lead)


async def report(actor: Actor, desk: Desk, state: FSMContext, text: str = "") -> None:
    """A new report (with the text a resident wrote first, if any), once the home is known."""
    text = text[:MAX_TEXT]
    home = await home_of(actor, desk, state, Intent.REPORT, text)
    if home is None:
        return
    lead = _("Shall I report this as a problem? Tap a category, or Cancel.") if text else ""
    await _start(desk, actor, state, Draft(compound_id=home, text=text), lead)


async def cmd_start_report(
    message: Message, command: CommandObject, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    """The deep link from a compound group's /report: the report is pre-set to that compound."""
    raw = (command.args or "").removeprefix(REPORT_PREFIX)
    compound = await onboarding.home_compound(desk.session, parse_id(raw))
    if compound is None:
        await desk.outbox.send(message.chat.id, _("This link is not valid. Send /report to start."))
        return
    if actor.user.compound_id is None:
        await onboarding.choose_compound(desk.session, actor.id, compound.id)
    await _start(desk, actor, state, Draft(compound_id=compound.id))


async def cmd_start_campaign_report(
    message: Message, command: CommandObject, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    """A campaign reminder's button: a report tagged with the campaign, at the group's compound
    (or the reporter's own, when the reminder came privately)."""
    campaign_raw, _sep, compound_raw = (
        (command.args or "").removeprefix(CAMPAIGN_PREFIX).partition("_")
    )
    campaign_id = parse_id(campaign_raw)
    campaign = await desk.campaigns.get(campaign_id) if campaign_id else None
    compound_id = parse_id(compound_raw)
    compound = await onboarding.home_compound(desk.session, compound_id or actor.user.compound_id)
    if campaign is None or compound is None:
        await desk.outbox.send(message.chat.id, _("This link is not valid. Send /report to start."))
        return
    if actor.user.compound_id is None:
        await onboarding.choose_compound(desk.session, actor.id, compound.id)
    lead = _("📢 A report for the campaign “{title}”.").format(title=html.quote(campaign.title))
    draft = Draft(compound_id=compound.id, campaign_id=campaign.id)
    await _start(desk, actor, state, draft, lead)


async def cmd_group_report(message: Message, desk: Desk) -> None:
    """Never ask for personal details in a group: point to the private chat instead."""
    chat = await desk.chats.get(message.chat.id)
    start = ""
    if chat is not None and chat.purpose is ChatPurpose.RESIDENTS and chat.unit_id:
        start = f"?start={REPORT_PREFIX}{chat.unit_id}"
    link = f"https://t.me/{desk.bot_username}{start}"
    await desk.outbox.send(
        message.chat.id,
        _("To report a problem, write to me privately (your details stay private): {link}").format(
            link=html.quote(link)
        ),
    )


async def on_free_text(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
    """Text may come first: a resident who simply writes a problem starts a report with it
    (one without a home yet is asked where they live first, and the text waits)."""
    await report(actor, desk, state, (message.text or "").strip())


async def on_free_photo(message: Message, actor: Actor, desk: Desk, state: FSMContext) -> None:
    assert actor.user.compound_id is not None and message.photo
    draft = Draft(
        compound_id=actor.user.compound_id,
        text=(message.caption or "")[:MAX_TEXT],
        photos=(message.photo[-1].file_id,),
    )
    await _start(desk, actor, state, draft)


def _has_home(message: Message, actor: Actor | None) -> bool:
    return actor is not None and actor.user.compound_id is not None


def private_router() -> Router:
    router = Router(name="reporting")
    router.message.register(
        cmd_start_report, CommandStart(deep_link=True, magic=F.args.startswith(REPORT_PREFIX))
    )
    router.message.register(
        cmd_start_campaign_report,
        CommandStart(deep_link=True, magic=F.args.startswith(CAMPAIGN_PREFIX)),
    )
    router.message.register(command(report), Command("report"))
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_free_text, StateFilter(None), text)
    router.message.register(on_free_photo, StateFilter(None), F.photo, _has_home)
    return router


def group_router() -> Router:
    router = Router(name="reporting-groups")
    router.message.register(cmd_group_report, Command("report"))
    return router
