"""Reporting a problem: /report (or just writing), category, text, photos, location, anonymity,
the duplicate check, and the ticket number. /report in a compound group links to the private chat."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import Outbox
from bot.domain.complaints import MAX_TEXT, Category, Complaint, Draft
from bot.domain.errors import NotAllowed, NotFound, Stale
from bot.domain.inputs import parse_id, valid_location
from bot.domain.people import Actor, ChatPurpose
from bot.services import cards, complaints, onboarding
from bot.services.campaigns import REPORT_PREFIX as CAMPAIGN_PREFIX
from bot.services.desk import Desk
from handlers.callbacks import DraftAction, DraftCb
from handlers.common import not_a_place, refuse_button
from handlers.onboarding import ask_compound
from storage.campaigns import CampaignRepo
from storage.chats import ChatRepo
from storage.units import UnitRepo

REPORT_PREFIX = "rp_"
CATEGORIES = tuple(Category)


class Report(StatesGroup):
    draft = State()


def _load(data: dict[str, Any]) -> Draft | None:
    raw = data.get("draft")
    if not isinstance(raw, dict):
        return None
    category = raw.get("category")
    return Draft(
        compound_id=int(raw["compound_id"]),
        category=Category(category) if category else None,
        text=str(raw.get("text", "")),
        photos=tuple(raw.get("photos", ())),
        lat=raw.get("lat"),
        lon=raw.get("lon"),
        anonymous=bool(raw.get("anonymous", False)),
        campaign_id=raw.get("campaign_id"),
    )


async def _save(state: FSMContext, draft: Draft) -> None:
    await state.set_state(Report.draft)
    await state.set_data({"draft": asdict(draft)})


def _draft_keyboard(draft: Draft, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if draft.category is None:
        for index, category in enumerate(CATEGORIES):
            builder.button(
                text=cards.category_name(category, locale),
                callback_data=DraftCb(action=DraftAction.CATEGORY, arg=index),
            )
    else:
        if draft.ready:
            builder.button(text=_("✅ Submit"), callback_data=DraftCb(action=DraftAction.SUBMIT))
        builder.button(
            text=_("Change category"), callback_data=DraftCb(action=DraftAction.RECATEGORISE)
        )
    builder.button(
        text=_("🙈 Anonymous: yes") if draft.anonymous else _("🙈 Anonymous: no"),
        callback_data=DraftCb(action=DraftAction.ANONYMOUS),
    )
    builder.button(text=_("✖ Cancel"), callback_data=DraftCb(action=DraftAction.CANCEL))
    builder.adjust(2)
    return builder.as_markup()


async def _show(
    chat_id: int, draft: Draft, actor: Actor, session: AsyncSession, outbox: Outbox, lead: str = ""
) -> None:
    compound = await UnitRepo(session).get(draft.compound_id)
    where = compound.display_name(actor.locale) if compound else "—"
    text = cards.draft_text(draft, where, actor.locale)
    await outbox.send(
        chat_id, (lead + "\n\n" if lead else "") + text, markup=_draft_keyboard(draft, actor.locale)
    )


async def _start(
    chat_id: int,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    draft: Draft | None = None,
) -> None:
    if draft is None:
        if actor.user.compound_id is None:
            await outbox.send(chat_id, _("First, please tell me where you live."))
            await ask_compound(chat_id, actor, session, outbox, state)
            return
        draft = Draft(compound_id=actor.user.compound_id)
    await _save(state, draft)
    await _show(chat_id, draft, actor, session, outbox)


async def cmd_report(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    await _start(message.chat.id, actor, session, outbox, state)


async def cmd_start_report(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    """The deep link from a compound group's /report: the report is pre-set to that compound."""
    raw = (command.args or "").removeprefix(REPORT_PREFIX)
    compound = await onboarding.home_compound(session, parse_id(raw))
    if compound is None:
        await outbox.send(message.chat.id, _("This link is not valid. Send /report to start."))
        return
    if actor.user.compound_id is None:
        await onboarding.choose_compound(session, actor.id, compound.id)
    await _start(message.chat.id, actor, session, outbox, state, Draft(compound_id=compound.id))


async def cmd_start_campaign_report(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    """A campaign reminder's button: a report tagged with the campaign, at the group's compound
    (or the reporter's own, when the reminder came privately)."""
    campaign_raw, _sep, compound_raw = (
        (command.args or "").removeprefix(CAMPAIGN_PREFIX).partition("_")
    )
    campaign_id = parse_id(campaign_raw)
    campaign = await CampaignRepo(session).get(campaign_id) if campaign_id else None
    compound_id = parse_id(compound_raw)
    compound = await onboarding.home_compound(session, compound_id or actor.user.compound_id)
    if campaign is None or compound is None:
        await outbox.send(message.chat.id, _("This link is not valid. Send /report to start."))
        return
    if actor.user.compound_id is None:
        await onboarding.choose_compound(session, actor.id, compound.id)
    await outbox.send(
        message.chat.id,
        _("📢 A report for the campaign “{title}”.").format(title=html.quote(campaign.title)),
    )
    draft = Draft(compound_id=compound.id, campaign_id=campaign.id)
    await _start(message.chat.id, actor, session, outbox, state, draft)


async def cmd_group_report(
    message: Message, actor: Actor | None, session: AsyncSession, outbox: Outbox, bot_username: str
) -> None:
    """Never ask for personal details in a group: point to the private chat instead."""
    chat = await ChatRepo(session).get(message.chat.id)
    start = ""
    if chat is not None and chat.purpose is ChatPurpose.RESIDENTS and chat.unit_id:
        start = f"?start={REPORT_PREFIX}{chat.unit_id}"
    link = f"https://t.me/{bot_username}{start}"
    await outbox.send(
        message.chat.id,
        _("To report a problem, write to me privately (your details stay private): {link}").format(
            link=html.quote(link)
        ),
    )


async def on_free_text(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    """Text may come first: a resident who simply writes a problem starts a report with it."""
    assert actor.user.compound_id is not None
    draft = Draft(compound_id=actor.user.compound_id, text=(message.text or "")[:MAX_TEXT])
    await _save(state, draft)
    await _show(
        message.chat.id,
        draft,
        actor,
        session,
        outbox,
        _("Shall I report this as a problem? Tap a category, or Cancel."),
    )


async def on_free_photo(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    assert actor.user.compound_id is not None and message.photo
    draft = Draft(
        compound_id=actor.user.compound_id,
        text=(message.caption or "")[:MAX_TEXT],
        photos=(message.photo[-1].file_id,),
    )
    await _save(state, draft)
    await _show(message.chat.id, draft, actor, session, outbox)


async def on_draft_text(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    draft = _load(await state.get_data())
    if draft is None:
        await state.clear()
        return
    text = (message.text or "").strip()
    lead = ""
    if len(text) > MAX_TEXT:
        lead = _("That was long; I kept the first {limit} characters.").format(limit=MAX_TEXT)
    draft = replace(draft, text=text[:MAX_TEXT])
    await _save(state, draft)
    await _show(message.chat.id, draft, actor, session, outbox, lead)


async def on_draft_photo(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    draft = _load(await state.get_data())
    if draft is None or not message.photo:
        return
    try:
        draft = complaints.add_photo(draft, message.photo[-1].file_id)
    except NotAllowed:
        await outbox.send(
            message.chat.id, _("Three photos are the most I can take; this one is left out.")
        )
        return
    if message.caption and not draft.text:
        draft = replace(draft, text=message.caption[:MAX_TEXT])
    await _save(state, draft)
    await _show(
        message.chat.id,
        draft,
        actor,
        session,
        outbox,
        _("Photo {count}/3 added.").format(count=len(draft.photos)),
    )


async def on_draft_location(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    draft = _load(await state.get_data())
    if draft is None or message.location is None:
        return
    if not valid_location(message.location.latitude, message.location.longitude):
        await outbox.send(message.chat.id, not_a_place())
        return
    draft = replace(draft, lat=message.location.latitude, lon=message.location.longitude)
    await _save(state, draft)
    await _show(message.chat.id, draft, actor, session, outbox, _("Location added."))


async def on_draft_other(message: Message, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id,
        _("I can take text, photos and a location for your report. Or tap Cancel."),
    )


async def on_draft_button(
    callback: CallbackQuery,
    callback_data: DraftCb,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    desk: Desk,
) -> None:
    draft = _load(await state.get_data()) if await state.get_state() == Report.draft.state else None
    chat_id = callback.from_user.id
    action = callback_data.action
    if draft is None:
        await refuse_button(
            outbox, callback, _("This report is no longer open. Send /report to start a new one.")
        )
        return
    await outbox.answer_callback(actor.id, callback.id)
    if action is DraftAction.CANCEL:
        await state.clear()
        await outbox.send(chat_id, _("Cancelled. Nothing was sent."))
        return
    if action is DraftAction.CATEGORY and 0 <= callback_data.arg < len(CATEGORIES):
        draft = replace(draft, category=CATEGORIES[callback_data.arg])
    elif action is DraftAction.RECATEGORISE:
        draft = replace(draft, category=None)
    elif action is DraftAction.ANONYMOUS:
        draft = replace(draft, anonymous=not draft.anonymous)
    elif action in (DraftAction.SUBMIT, DraftAction.NEW) and draft.ready:
        if action is DraftAction.SUBMIT:
            similar = await complaints.similar_open(desk, draft)
            if similar:
                await outbox.send(
                    chat_id, _offer_text(similar, actor.locale), markup=_offer_keyboard(similar)
                )
                return
        await _submit(chat_id, desk, actor, draft, state)
        return
    elif action is DraftAction.FOLLOW:
        try:
            followed = await complaints.follow(desk, actor, callback_data.arg, draft.compound_id)
        except (NotFound, Stale):
            await outbox.send(chat_id, _("That ticket is no longer open. You can submit yours."))
            return
        await state.clear()
        await outbox.send(
            chat_id,
            _(
                "You now follow {number}; you will hear of every step. Nothing new was filed."
            ).format(number=followed.number),
        )
        return
    await _save(state, draft)
    await _show(chat_id, draft, actor, session, outbox)


def _offer_text(similar: list[Complaint], locale: str) -> str:
    lines = [_("Someone may have reported this already:")]
    for complaint in similar:
        lines.append(f"• <b>{complaint.number}</b>: {html.quote(complaint.text[:80])}")
    lines.append(_("If it is the same problem, follow that ticket. Otherwise, submit yours."))
    return "\n".join(lines)


def _offer_keyboard(similar: list[Complaint]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for complaint in similar:
        builder.button(
            text=_("Same problem: follow {number}").format(number=complaint.number),
            callback_data=DraftCb(action=DraftAction.FOLLOW, arg=complaint.id),
        )
    builder.button(text=_("No, submit mine"), callback_data=DraftCb(action=DraftAction.NEW))
    builder.adjust(1)
    return builder.as_markup()


async def _submit(chat_id: int, desk: Desk, actor: Actor, draft: Draft, state: FSMContext) -> None:
    try:
        complaint = await complaints.open_complaint(desk, actor, draft)
    except NotFound:
        await state.clear()
        await desk.outbox.send(chat_id, _("That compound no longer exists. Please /report again."))
        return
    await state.clear()
    unit = await UnitRepo(desk.session).get(complaint.unit_id)
    await desk.outbox.send(
        chat_id,
        _(
            "Thank you. Your report is filed as <b>{number}</b> and sent to {unit}. You will hear "
            "of every step; /my shows your reports."
        ).format(
            number=complaint.number,
            unit=html.quote(unit.display_name(actor.locale)) if unit else "—",
        ),
    )


def build_router() -> Router:
    router = Router(name="reporting")
    private = F.chat.type == "private"
    router.message.register(
        cmd_start_report,
        private,
        CommandStart(deep_link=True, magic=F.args.startswith(REPORT_PREFIX)),
    )
    router.message.register(
        cmd_start_campaign_report,
        private,
        CommandStart(deep_link=True, magic=F.args.startswith(CAMPAIGN_PREFIX)),
    )
    router.message.register(cmd_report, private, Command("report"))
    router.message.register(cmd_group_report, ~private, Command("report"))
    router.callback_query.register(on_draft_button, DraftCb.filter())
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_draft_text, private, Report.draft, text)
    router.message.register(on_draft_photo, private, Report.draft, F.photo)
    router.message.register(on_draft_location, private, Report.draft, F.location)
    router.message.register(on_draft_other, private, Report.draft, ~F.text)
    router.message.register(on_free_text, private, StateFilter(None), text, _has_home)
    router.message.register(on_free_photo, private, StateFilter(None), F.photo, _has_home)
    return router


def _has_home(message: Message, actor: Actor | None) -> bool:
    return actor is not None and actor.user.compound_id is not None
