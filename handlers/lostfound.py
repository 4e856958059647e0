"""Lost and found in the private chat: /lost and /found (a short conversation with buttons),
claims with a detail, the finder's decision, messages relayed between them, and /mine."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date
from enum import StrEnum
from typing import Any

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.domain.errors import DomainError, NotFound
from bot.domain.inputs import Id, parse_id
from bot.domain.lostfound import (
    HELD_CHOICES,
    MAX_DETAIL,
    MAX_PLACE,
    MAX_TEXT,
    REMIND_BEFORE,
    Category,
    ClaimRefusal,
    DayError,
    Draft,
    Kind,
    parse_day,
)
from bot.domain.people import Actor
from bot.services import lostfound
from bot.services.desk import Desk
from bot.services.lostfound import CLAIM_PREFIX, LostAction, LostCb
from handlers.common import close_card, private_state, refuse_button
from handlers.onboarding import ask_compound

CATEGORIES = tuple(Category)
START_LOST, START_FOUND = CLAIM_PREFIX + "lost", CLAIM_PREFIX + "found"


class LostFound(StatesGroup):
    draft = State()
    claim = State()  # waiting for the claimant's detail
    relay = State()  # waiting for a message to the other side of a claim


class Step(StrEnum):
    CATEGORY = "category"
    TEXT = "text"
    PLACE = "place"
    DAY = "day"
    PHOTO = "photo"
    HELD = "held"
    ANNOUNCE = "announce"
    CONFIRM = "confirm"


class DraftAction(StrEnum):
    CATEGORY = "c"  # arg: the category's index
    DAY = "d"  # arg: days ago (0 or 1)
    SKIP_PHOTO = "p"
    HELD = "h"  # arg: index into HELD_CHOICES
    ANNOUNCE = "a"  # arg: 1 yes, 0 no
    SUBMIT = "s"
    CANCEL = "x"


class LostDraftCb(CallbackData, prefix="lq"):
    action: DraftAction
    arg: Id = 0


def step_of(draft: Draft) -> Step:
    if draft.category is None:
        return Step.CATEGORY
    if not draft.text:
        return Step.TEXT
    if not draft.place:
        return Step.PLACE
    if draft.day is None:
        return Step.DAY
    if draft.photo is None and not draft.photo_asked:
        return Step.PHOTO
    if draft.kind is Kind.FOUND and not draft.held_at:
        return Step.HELD
    if draft.kind is Kind.FOUND and draft.announce is None:
        return Step.ANNOUNCE
    return Step.CONFIRM


def _load(data: dict[str, Any]) -> Draft | None:
    raw = data.get("lostfound")
    if not isinstance(raw, dict):
        return None
    return Draft(
        kind=Kind(raw["kind"]),
        compound_id=int(raw["compound_id"]),
        category=Category(raw["category"]) if raw.get("category") else None,
        text=str(raw.get("text", "")),
        place=str(raw.get("place", "")),
        day=date.fromisoformat(raw["day"]) if raw.get("day") else None,
        photo=raw.get("photo"),
        photo_asked=bool(raw.get("photo_asked")),
        held_at=str(raw.get("held_at", "")),
        announce=raw.get("announce"),
    )


async def _save(state: FSMContext, draft: Draft) -> None:
    raw = asdict(draft)
    raw["day"] = draft.day.isoformat() if draft.day else None
    await state.set_state(LostFound.draft)
    await state.set_data({"lostfound": raw})


def _prompt(draft: Draft, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    """The question for the draft's next step, with its buttons."""
    step = step_of(draft)
    builder = InlineKeyboardBuilder()
    if step is Step.CATEGORY:
        text = (
            _("What did you lose? Tap a kind of thing.")
            if draft.kind is Kind.LOST
            else _("What did you find? Tap a kind of thing.")
        )
        for index, category in enumerate(CATEGORIES):
            builder.button(
                text=lostfound.category_name(category, locale),
                callback_data=LostDraftCb(action=DraftAction.CATEGORY, arg=index),
            )
    elif step is Step.TEXT:
        text = _(
            "Describe it in a few words: colour, brand, what is inside or attached "
            "(for example: 黑色华为手机，透明壳). A photo with a caption also works."
        )
    elif step is Step.PLACE:
        text = (
            _("Where did you lose it? (for example: 3号楼附近, 东门)")
            if draft.kind is Kind.LOST
            else _("Where did you find it? (for example: 中心花坛)")
        )
    elif step is Step.DAY:
        text = _("When? Tap a button, or write the date (for example 9月12日 or 2026-09-12).")
        builder.button(text=_("Today"), callback_data=LostDraftCb(action=DraftAction.DAY, arg=0))
        builder.button(
            text=_("Yesterday"), callback_data=LostDraftCb(action=DraftAction.DAY, arg=1)
        )
    elif step is Step.PHOTO:
        text = _("Do you have a photo? Send it now, or tap Skip.")
        builder.button(
            text=_("Skip the photo"), callback_data=LostDraftCb(action=DraftAction.SKIP_PHOTO)
        )
    elif step is Step.HELD:
        text = _("Where is it kept now? Tap one, or write the place.")
        for index, held in enumerate(HELD_CHOICES):
            builder.button(
                text=lostfound.held_name(held, locale),
                callback_data=LostDraftCb(action=DraftAction.HELD, arg=index),
            )
    elif step is Step.ANNOUNCE:
        text = _(
            "Shall I post a notice in your compound's residents group? It shows only the kind "
            "of thing, the place and where it is kept, never your description."
        )
        builder.button(
            text=_("📢 Yes, post it"),
            callback_data=LostDraftCb(action=DraftAction.ANNOUNCE, arg=1),
        )
        builder.button(
            text=_("No notice"), callback_data=LostDraftCb(action=DraftAction.ANNOUNCE, arg=0)
        )
    else:
        text = _summary(draft, locale) + "\n\n" + _("Is this right?")
        builder.button(text=_("✅ Submit"), callback_data=LostDraftCb(action=DraftAction.SUBMIT))
    builder.button(text=_("✖ Cancel"), callback_data=LostDraftCb(action=DraftAction.CANCEL))
    builder.adjust(2)
    return text, builder.as_markup()


def _summary(draft: Draft, locale: str) -> str:
    title = _("🔍 I lost") if draft.kind is Kind.LOST else _("🙌 I found")
    category = lostfound.category_name(draft.category, locale) if draft.category else "—"
    lines = [
        f"<b>{title}</b>",
        _("Kind: {category}").format(category=category),
        _("Description: {text}").format(text=html.quote(draft.text)),
        _("Place: {place}").format(place=html.quote(draft.place)),
        _("Date: {day}").format(day=draft.day.isoformat() if draft.day else "—"),
        _("Photo: {photo}").format(photo=_("yes") if draft.photo else _("no")),
    ]
    if draft.kind is Kind.FOUND:
        lines.append(_("Kept at: {held}").format(held=lostfound.held_name(draft.held_at, locale)))
        lines.append(
            _("Notice in the residents group: {answer}").format(
                answer=_("yes") if draft.announce else _("no")
            )
        )
    return "\n".join(lines)


async def _ask(chat_id: int, draft: Draft, actor: Actor, outbox: Outbox, lead: str = "") -> None:
    text, markup = _prompt(draft, actor.locale)
    await outbox.send(chat_id, (lead + "\n\n" if lead else "") + text, markup=markup)


async def _begin(
    kind: Kind,
    chat_id: int,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    if actor.user.compound_id is None:
        await outbox.send(chat_id, _("First, please tell me where you live."))
        await ask_compound(chat_id, actor, session, outbox, state)
        return
    draft = Draft(kind=kind, compound_id=actor.user.compound_id)
    await _save(state, draft)
    await _ask(chat_id, draft, actor, outbox)


async def cmd_lost(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    await _begin(Kind.LOST, message.chat.id, actor, session, outbox, state)


async def cmd_found(
    message: Message, actor: Actor, session: AsyncSession, outbox: Outbox, state: FSMContext
) -> None:
    await _begin(Kind.FOUND, message.chat.id, actor, session, outbox, state)


async def cmd_group(message: Message, outbox: Outbox, bot_username: str) -> None:
    """In a group: point to the private chat, where a report stays private."""
    lost = (message.text or "").split()[0].split("@")[0] == "/lost"
    link = f"https://t.me/{bot_username}?start={START_LOST if lost else START_FOUND}"
    await outbox.send(
        message.chat.id,
        _("Please tell me privately, so your details stay private: {link}").format(
            link=html.quote(link)
        ),
    )


async def on_draft_text(
    message: Message,
    actor: Actor,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    draft = _load(await state.get_data())
    if draft is None:
        await state.clear()
        return
    text = (message.text or "").strip()
    step = step_of(draft)
    lead = ""
    if step in (Step.CATEGORY, Step.TEXT):
        if not text:
            await outbox.send(message.chat.id, _("Please describe the thing in a few words."))
            return
        if len(text) > MAX_TEXT:
            lead = _("That was long; I kept the first {limit} characters.").format(limit=MAX_TEXT)
        if step is Step.CATEGORY and draft.text:
            lead = _("Please tap a kind of thing first.")
        else:  # the description may come before the category
            draft = replace(draft, text=text[:MAX_TEXT])
    elif step is Step.PLACE:
        if not text:
            await outbox.send(message.chat.id, _("Please write the place in a few words."))
            return
        draft = replace(draft, place=text[:MAX_PLACE])
    elif step is Step.DAY:
        day = parse_day(text, clock.now().astimezone(config.bot.zone).date())
        if isinstance(day, DayError):
            await outbox.send(message.chat.id, _day_error(day))
            return
        draft = replace(draft, day=day)
    elif step is Step.HELD and text:
        draft = replace(draft, held_at=text[:MAX_PLACE])
    else:
        lead = _("Please use the buttons below.")
    await _save(state, draft)
    await _ask(message.chat.id, draft, actor, outbox, lead)


def _day_error(error: DayError) -> str:
    if error is DayError.FUTURE:
        return _("That date is in the future. When did it happen? (for example 9月12日)")
    if error is DayError.TOO_OLD:
        return _("That is more than a year ago. Please give a date within the last year.")
    return _("I could not read that date. Write it like 9月12日 or 2026-09-12, or tap a button.")


def _too_large(size: int | None, config: Config) -> bool:
    return size is not None and size > config.lostfound.max_photo_mb * 1024 * 1024


async def on_draft_photo(
    message: Message, actor: Actor, outbox: Outbox, state: FSMContext, config: Config
) -> None:
    draft = _load(await state.get_data())
    if draft is None or not message.photo:
        return
    biggest = message.photo[-1]
    if _too_large(biggest.file_size, config):
        await outbox.send(
            message.chat.id,
            _("That photo is too large (over {limit} MB). Please send a smaller one.").format(
                limit=f"{config.lostfound.max_photo_mb:g}"
            ),
        )
        return
    caption = (message.caption or "").strip()[:MAX_TEXT]
    draft = replace(draft, photo=biggest.file_id, photo_asked=True, text=draft.text or caption)
    await _save(state, draft)
    await _ask(message.chat.id, draft, actor, outbox, _("Photo added."))


async def on_draft_document(message: Message, outbox: Outbox, config: Config) -> None:
    """A picture sent as a file: too large, or simply to be sent as a photo."""
    size = message.document.file_size if message.document else None
    if _too_large(size, config):
        text = _("That file is too large (over {limit} MB). Please send a smaller photo.")
    else:
        text = _("Please send the picture as a photo, not as a file.")
    await outbox.send(message.chat.id, text.format(limit=f"{config.lostfound.max_photo_mb:g}"))


async def on_draft_other(message: Message, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id, _("I can take text and photos for this report. Or tap Cancel.")
    )


async def on_draft_button(
    callback: CallbackQuery,
    callback_data: LostDraftCb,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
    clock: Clock,
    config: Config,
) -> None:
    state = private_state(state, actor.id)
    current = await state.get_state()
    draft = _load(await state.get_data()) if current == LostFound.draft.state else None
    if draft is None:
        await refuse_button(
            outbox, callback, _("This report is no longer open. Send /lost or /found to start.")
        )
        return
    await outbox.answer_callback(actor.id, callback.id)
    action, arg = callback_data.action, callback_data.arg
    step = step_of(draft)
    if action is DraftAction.CANCEL:
        await state.clear()
        await outbox.send(actor.id, _("Cancelled. Nothing was saved."))
        return
    if action is DraftAction.CATEGORY and 0 <= arg < len(CATEGORIES):
        draft = replace(draft, category=CATEGORIES[arg])
    elif action is DraftAction.DAY and step is Step.DAY and arg in (0, 1):
        today = clock.now().astimezone(config.bot.zone).date()
        draft = replace(draft, day=date.fromordinal(today.toordinal() - arg))
    elif action is DraftAction.SKIP_PHOTO and step is Step.PHOTO:
        draft = replace(draft, photo_asked=True)
    elif action is DraftAction.HELD and step is Step.HELD and 0 <= arg < len(HELD_CHOICES):
        draft = replace(draft, held_at=HELD_CHOICES[arg])
    elif action is DraftAction.ANNOUNCE and step is Step.ANNOUNCE:
        draft = replace(draft, announce=bool(arg))
    elif action is DraftAction.SUBMIT and step is Step.CONFIRM:
        try:
            await lostfound.file_report(desk, actor, draft)
        except NotFound:
            await outbox.send(actor.id, _("That compound no longer exists. Please start again."))
        await state.clear()
        return
    else:  # a button of an earlier step, pressed again: ask where we are
        await _ask(actor.id, draft, actor, outbox)
        return
    await _save(state, draft)
    await _ask(actor.id, draft, actor, outbox)


# --- claims -----------------------------------------------------------------------------------


def claim_refusal(error: DomainError) -> str:
    reason = str(error)
    if isinstance(error, NotFound):
        return _("I cannot find that item any more.")
    if reason == ClaimRefusal.CLOSED:
        return _("That item is no longer open: it was returned, closed or has expired.")
    if reason == ClaimRefusal.OWN:
        return _("That is your own report.")
    if reason == ClaimRefusal.PENDING:
        return _(
            "Someone has already claimed this item and the finder is checking. If it is not "
            "theirs, the item stays open and you can claim it then."
        )
    if reason == ClaimRefusal.DECLINED_BEFORE:
        return _("The finder already said your earlier claim on this item did not fit.")
    if reason == ClaimRefusal.NOT_FOUND_ITEM:
        return _("Only found items can be claimed.")
    return _("Only the people concerned can do this.")


async def _ask_detail(
    desk: Desk, actor: Actor, state: FSMContext, found_id: int, lost_id: int
) -> None:
    """Start a claim (NotAllowed / NotFound if it cannot be made): ask for the detail."""
    found = await lostfound.claimable(desk, actor, found_id)
    await state.set_state(LostFound.claim)
    await state.set_data({"found": found.id, "lost": lost_id})
    await desk.outbox.send(
        actor.id,
        _(
            "Claiming {item}.\nTell me one detail only the owner would know: what is inside, "
            "a mark, a name, a sticker. The finder sees it and decides. (/cancel to stop)"
        ).format(item=lostfound.headline(found, actor.locale)),
    )


async def cmd_start_link(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    outbox: Outbox,
    state: FSMContext,
    desk: Desk,
) -> None:
    """Deep links from groups: lf_lost, lf_found, and a notice's lf_<found id>."""
    args = command.args or ""
    if args in (START_LOST, START_FOUND):
        kind = Kind.LOST if args == START_LOST else Kind.FOUND
        await _begin(kind, message.chat.id, actor, session, outbox, state)
        return
    found_id = parse_id(args.removeprefix(CLAIM_PREFIX))
    if found_id is None:
        await outbox.send(message.chat.id, _("This link is not valid. Send /lost or /found."))
        return
    try:
        await _ask_detail(desk, actor, state, found_id, 0)
    except DomainError as error:
        await outbox.send(message.chat.id, claim_refusal(error))


async def on_item_button(
    callback: CallbackQuery,
    callback_data: LostCb,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
    config: Config,
) -> None:
    state = private_state(state, actor.id)
    action, target = callback_data.action, callback_data.id
    done = ""
    try:
        if action is LostAction.CLAIM:
            await _ask_detail(desk, actor, state, target, callback_data.arg)
        elif action in (LostAction.APPROVE, LostAction.DECLINE):
            decision = await lostfound.decide(desk, actor, target, action is LostAction.APPROVE)
            done = (
                _("✅ Confirmed: the owner gets the pickup details.")
                if decision.approved
                else _("✖ Declined: I told them politely. The item stays open.")
            )
            await close_card(callback, outbox, done)
        elif action is LostAction.CLOSE:
            item = await lostfound.close(desk, actor, target)
            done = _("{ref} is closed.").format(ref=lostfound.reference(item))
            await outbox.send(actor.id, done)
        elif action is LostAction.EXTEND:
            until = await lostfound.extend(desk, actor, target)
            day = until.astimezone(config.bot.zone).date().isoformat()
            done = _("Kept open until {day}.").format(day=day)
            await outbox.send(actor.id, done)
        else:  # LostAction.MESSAGE
            await lostfound.relay_target(desk, actor, target)
            await state.set_state(LostFound.relay)
            await state.set_data({"claim": target})
            await outbox.send(
                actor.id, _("Write your message; I will pass it on. (/cancel to stop)")
            )
    except DomainError as error:
        await refuse_button(outbox, callback, claim_refusal(error))
        return
    await outbox.answer_callback(actor.id, callback.id, done or None)


async def on_claim_text(
    message: Message,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    detail = (message.text or "").strip()
    if not detail:
        await outbox.send(message.chat.id, _("Please write the detail in a few words."))
        return
    data = await state.get_data()
    await state.clear()
    found_id, lost_id = int(data.get("found", 0)), int(data.get("lost", 0))
    try:
        await lostfound.submit_claim(desk, actor, found_id, lost_id or None, detail[:MAX_DETAIL])
    except DomainError as error:
        await outbox.send(message.chat.id, claim_refusal(error))
        return
    await outbox.send(
        message.chat.id, _("Sent to the finder. I will tell you as soon as they answer.")
    )


async def on_not_text(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _("Please write it as a text message, or /cancel."))


async def on_relay_text(
    message: Message,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    text = (message.text or "").strip()[:MAX_DETAIL]
    if not text:
        return
    data = await state.get_data()
    await state.clear()
    try:
        await lostfound.relay(desk, actor, int(data.get("claim", 0)), text)
    except DomainError:
        await outbox.send(message.chat.id, _("I cannot pass messages about that item any more."))
        return
    await outbox.send(message.chat.id, _("Passed on."))


# --- /mine ------------------------------------------------------------------------------------


async def cmd_mine(
    message: Message,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    config: Config,
) -> None:
    items = await desk.lostfound.of_reporter(actor.id)
    if not items:
        await outbox.send(
            message.chat.id,
            _(
                "You have no lost or found reports. /lost if you lost something, /found if you "
                "found something."
            ),
        )
        return
    lines = [_("<b>Your lost and found reports</b>")]
    builder = InlineKeyboardBuilder()
    for item in items:
        until = item.expires_at.astimezone(config.bot.zone).date().isoformat()
        status = (
            _("open until {day}").format(day=until)
            if item.is_open
            else lostfound.status_name(item.status, actor.locale)
        )
        kind = lostfound.kind_name(item.kind, actor.locale)
        headline = lostfound.headline(item, actor.locale)
        lines.append(f"• {kind} {headline} — {html.quote(item.text[:40])} ({status})")
        if item.is_open:
            ref = lostfound.reference(item)
            builder.button(
                text=_("✔ Close {ref}").format(ref=ref),
                callback_data=LostCb(action=LostAction.CLOSE, id=item.id),
            )
            if item.expires_at - REMIND_BEFORE <= desk.now:
                builder.button(
                    text=_("⏳ Keep {ref} open").format(ref=ref),
                    callback_data=LostCb(action=LostAction.EXTEND, id=item.id),
                )
    builder.adjust(2)
    await outbox.send(message.chat.id, "\n".join(lines), markup=builder.as_markup())


def build_router() -> Router:
    router = Router(name="lostfound")
    private = F.chat.type == "private"
    router.message.register(
        cmd_start_link,
        private,
        CommandStart(deep_link=True, magic=F.args.startswith(CLAIM_PREFIX)),
    )
    router.message.register(cmd_lost, private, Command("lost"))
    router.message.register(cmd_found, private, Command("found"))
    router.message.register(cmd_mine, private, Command("mine"))
    router.message.register(cmd_group, ~private, Command("lost", "found"))
    router.callback_query.register(on_draft_button, LostDraftCb.filter())
    router.callback_query.register(on_item_button, LostCb.filter())
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_draft_text, private, LostFound.draft, text)
    router.message.register(on_draft_photo, private, LostFound.draft, F.photo)
    router.message.register(on_draft_document, private, LostFound.draft, F.document)
    router.message.register(on_draft_other, private, LostFound.draft, ~F.text)
    router.message.register(on_claim_text, private, LostFound.claim, text)
    router.message.register(on_not_text, private, LostFound.claim, ~F.text)
    router.message.register(on_relay_text, private, LostFound.relay, text)
    router.message.register(on_not_text, private, LostFound.relay, ~F.text)
    return router
