"""Lost and found in the private chat: /lost and /found (a short conversation with buttons),
claims with a detail, the finder's decision, messages relayed between them, and /mine."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.domain.errors import DomainError, Reason, Refused
from bot.domain.inputs import parse_id
from bot.domain.lostfound import (
    HELD_CHOICES,
    MAX_DETAIL,
    MAX_PLACE,
    MAX_TEXT,
    REMIND_BEFORE,
    Category,
    DayError,
    Draft,
    Kind,
    parse_day,
)
from bot.domain.people import Actor
from bot.services import lostfound
from bot.services.desk import Desk
from bot.ui import lostfound as ui
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.lostfound import CLAIM_PREFIX, LostAction, LostCb
from handlers import wizard
from handlers.common import close_card, command, private_state
from handlers.onboarding import Intent, home_of
from handlers.wizard import Choice, Done, Next, Outcome, Photo, Say, Stay, Step, Turn


class LostFound(StatesGroup):
    claim = State()  # waiting for the claimant's detail
    relay = State()  # waiting for a message to the other side of a claim


# --- /lost and /found: the report, a flow of the conversation engine ------------------------------

CATEGORIES = tuple(Category)
START_LOST, START_FOUND = CLAIM_PREFIX + "lost", CLAIM_PREFIX + "found"
TODAY, YESTERDAY = 0, 1
NO, YES = 0, 1
SUBMIT = 1

Form = Turn[Draft]


def _found(draft: Draft) -> bool:
    return draft.kind is Kind.FOUND


def _ask_category(form: Form) -> str:
    if form.draft.kind is Kind.LOST:
        return _("What did you lose? Tap a kind of thing.")
    return _("What did you find? Tap a kind of thing.")


def _categories(form: Form) -> list[Choice]:
    return [Choice(ui.category_name(c, form.locale), n) for n, c in enumerate(CATEGORIES)]


def _pick_category(form: Form, arg: int) -> Outcome[Draft]:
    draft = replace(form.draft, category=CATEGORIES[arg])
    return Next(draft, to="place" if draft.text else None)  # the description came first


def _text_first(form: Form, text: str) -> Outcome[Draft]:
    """The description may come before the kind of thing: keep it, and ask for the kind."""
    if form.draft.text:
        return Stay(form.draft, _("Please tap a kind of thing first."))
    return Stay(replace(form.draft, text=text))


def _with_photo(form: Form, photo: Photo) -> Draft:
    """The draft with the photo, and its caption as the description when there is none yet."""
    text = form.draft.text or photo.caption[:MAX_TEXT]
    return replace(form.draft, photo=photo.file_id, text=text)


def _photo_early(form: Form, photo: Photo) -> Outcome[Draft]:
    taken = _with_photo(form, photo)
    if form.draft.category is not None and taken.text:  # the description step is answered too
        return Next(taken, _("Photo added."))
    return Stay(taken, _("Photo added."))


def _photo_mb(form: Form) -> float:
    return form.desk.config.lostfound.max_photo_mb


def _ask_place(form: Form) -> str:
    if form.draft.kind is Kind.LOST:
        return _("Where did you lose it? (for example: 3号楼附近, 东门)")
    return _("Where did you find it? (for example: 中心花坛)")


def _today(form: Form) -> date:
    return form.desk.now.astimezone(form.desk.config.bot.zone).date()


def _days(form: Form) -> list[Choice]:
    return [Choice(_("Today"), TODAY), Choice(_("Yesterday"), YESTERDAY)]


def _pick_day(form: Form, arg: int) -> Outcome[Draft]:
    return Next(replace(form.draft, day=date.fromordinal(_today(form).toordinal() - arg)))


def _day_text(form: Form, text: str) -> Outcome[Draft]:
    day = parse_day(text, _today(form))
    if day is DayError.FUTURE:
        return Say(_("That date is in the future. When did it happen? (for example 9月12日)"))
    if day is DayError.TOO_OLD:
        return Say(_("That is more than a year ago. Please give a date within the last year."))
    if isinstance(day, DayError):
        return Say(
            _("I could not read that date. Write it like 9月12日 or 2026-09-12, or tap a button.")
        )
    return Next(replace(form.draft, day=day))


def _held(form: Form) -> list[Choice]:
    return [Choice(ui.held_name(h, form.locale), n) for n, h in enumerate(HELD_CHOICES)]


def _summary(form: Form) -> str:
    draft, locale = form.draft, form.locale
    title = _("🔍 I lost") if draft.kind is Kind.LOST else _("🙌 I found")
    category = ui.category_name(draft.category, locale) if draft.category else "—"
    lines = [
        f"<b>{title}</b>",
        *(
            [_("📝 By proxy (代办) for {whom}").format(whom=html.quote(draft.proxy_for))]
            if draft.proxy_for
            else []
        ),
        _("Kind: {category}").format(category=category),
        _("Description: {text}").format(text=html.quote(draft.text)),
        _("Place: {place}").format(place=html.quote(draft.place)),
        _("Date: {day}").format(day=draft.day.isoformat() if draft.day else "—"),
        _("Photo: {photo}").format(photo=_("yes") if draft.photo else _("no")),
    ]
    if draft.kind is Kind.FOUND:
        lines.append(_("Kept at: {held}").format(held=ui.held_name(draft.held_at, locale)))
        lines.append(
            _("Notice in the residents group: {answer}").format(
                answer=_("yes") if draft.announce else _("no")
            )
        )
    return "\n".join([*lines, "", _("Is this right?")])


async def _submit(form: Form, _arg: int) -> Outcome[Draft]:
    await lostfound.file_report(form.desk, form.actor, form.draft)
    return Done()


REPORT = wizard.Flow(
    name="lostfound",
    draft=Draft,
    closed=lambda: _("This report is no longer open. Send /lost or /found to start."),
    steps=(
        Step(
            key="category",
            ask=_ask_category,
            choices=_categories,
            pick=_pick_category,
            text=_text_first,
            limit=MAX_TEXT,
            photo=_photo_early,
            photo_mb=_photo_mb,
        ),
        Step(
            key="text",
            ask=lambda form: _(
                "Describe it in a few words: colour, brand, what is inside or attached "
                "(for example: 黑色华为手机，透明壳). A photo with a caption also works."
            ),
            text=lambda form, text: Next(replace(form.draft, text=text)),
            limit=MAX_TEXT,
            photo=_photo_early,
            photo_mb=_photo_mb,
        ),
        Step(
            key="place",
            ask=_ask_place,
            text=lambda form, text: Next(replace(form.draft, place=text)),
            limit=MAX_PLACE,
        ),
        Step(
            key="day",
            ask=lambda form: _(
                "When? Tap a button, or write the date (for example 9月12日 or 2026-09-12)."
            ),
            choices=_days,
            pick=_pick_day,
            text=_day_text,
        ),
        Step(
            key="photo",
            ask=lambda form: _("Do you have a photo? Send it now, or tap Skip."),
            photo=lambda form, photo: Next(_with_photo(form, photo), _("Photo added.")),
            photo_mb=_photo_mb,
            skip=lambda form: Next(form.draft),
            skip_label=lambda: _("Skip the photo"),
            applies=lambda draft: draft.photo is None,
        ),
        Step(
            key="held",
            ask=lambda form: _("Where is it kept now? Tap one, or write the place."),
            choices=_held,
            pick=lambda form, arg: Next(replace(form.draft, held_at=HELD_CHOICES[arg])),
            text=lambda form, text: Next(replace(form.draft, held_at=text)),
            limit=MAX_PLACE,
            applies=_found,
        ),
        Step(
            key="announce",
            ask=lambda form: _(
                "Shall I post a notice in your compound's residents group? It shows only the "
                "kind of thing, the place and where it is kept, never your description."
            ),
            choices=lambda form: [Choice(_("📢 Yes, post it"), YES), Choice(_("No notice"), NO)],
            pick=lambda form, arg: Next(replace(form.draft, announce=arg == YES)),
            applies=_found,
        ),
        Step(
            key="confirm",
            ask=_summary,
            choices=lambda form: [Choice(_("✅ Submit"), SUBMIT)],
            pick=_submit,
        ),
    ),
)


async def _begin(kind: Kind, actor: Actor, desk: Desk, state: FSMContext) -> None:
    intent = Intent.LOST if kind is Kind.LOST else Intent.FOUND
    home = await home_of(actor, desk, state, intent)
    if home is not None:
        await wizard.start(REPORT, desk, actor, state, Draft(kind=kind, compound_id=home))


async def report_lost(actor: Actor, desk: Desk, state: FSMContext) -> None:
    await _begin(Kind.LOST, actor, desk, state)


async def report_found(actor: Actor, desk: Desk, state: FSMContext) -> None:
    await _begin(Kind.FOUND, actor, desk, state)


async def cmd_group(message: Message, command: CommandObject, desk: Desk) -> None:
    """In a group: point to the private chat, where a report stays private."""
    start = START_LOST if command.command == "lost" else START_FOUND
    link = f"https://t.me/{desk.bot_username}?start={start}"
    await desk.outbox.send(
        message.chat.id,
        _("Please tell me privately, so your details stay private: {link}").format(
            link=html.quote(link)
        ),
    )


# --- claims -----------------------------------------------------------------------------------


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
        ).format(item=ui.headline(found, actor.locale)),
    )


async def cmd_start_link(
    message: Message,
    command: CommandObject,
    actor: Actor,
    state: FSMContext,
    desk: Desk,
) -> None:
    """Deep links from groups: lf_lost, lf_found, and a notice's lf_<found id>."""
    args = command.args or ""
    if args in (START_LOST, START_FOUND):
        kind = Kind.LOST if args == START_LOST else Kind.FOUND
        await _begin(kind, actor, desk, state)
        return
    found_id = parse_id(args.removeprefix(CLAIM_PREFIX))
    if found_id is None:
        await desk.outbox.send(message.chat.id, _("This link is not valid. Send /lost or /found."))
        return
    await _ask_detail(desk, actor, state, found_id, 0)


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
        done = _("{ref} is closed.").format(ref=ui.reference(item))
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
        await outbox.send(actor.id, _("Write your message; I will pass it on. (/cancel to stop)"))
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
        error.ends_conversation = True  # the claim cannot be made: the conversation ends
        raise
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
    except DomainError as error:  # whatever the reason, it says so; the conversation ends
        raise Refused(Reason.NO_RELAY, str(error), ends_conversation=True) from error
    await outbox.send(message.chat.id, _("Passed on."))


# --- /mine ------------------------------------------------------------------------------------


async def my_items(actor: Actor, desk: Desk, state: FSMContext) -> None:
    items = await desk.lostfound.of_reporter(actor.id)
    if not items:
        await desk.outbox.send(
            actor.id,
            _(
                "You have no lost or found reports. Tap “🔍 Lost and found” if you lost or "
                "found something."
            ),
        )
        return
    lines = [_("<b>Your lost and found reports</b>")]
    builder = InlineKeyboardBuilder()
    for item in items:
        until = item.expires_at.astimezone(desk.config.bot.zone).date().isoformat()
        status = (
            _("open until {day}").format(day=until)
            if item.is_open
            else ui.status_name(item.status, actor.locale)
        )
        kind = ui.kind_name(item.kind, actor.locale)
        headline = ui.headline(item, actor.locale)
        lines.append(f"• {kind} {headline} — {html.quote(item.text[:40])} ({status})")
        if item.is_open:
            ref = ui.reference(item)
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
    await desk.outbox.send(actor.id, "\n".join(lines), markup=builder.as_markup())


def private_router() -> Router:
    router = Router(name="lostfound")
    router.message.register(
        cmd_start_link, CommandStart(deep_link=True, magic=F.args.startswith(CLAIM_PREFIX))
    )
    router.message.register(command(report_lost), Command("lost"))
    router.message.register(command(report_found), Command("found"))
    router.message.register(command(my_items), Command("mine"))
    router.callback_query.register(on_item_button, LostCb.filter())
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_claim_text, LostFound.claim, text)
    router.message.register(on_not_text, LostFound.claim, ~F.text)
    router.message.register(on_relay_text, LostFound.relay, text)
    router.message.register(on_not_text, LostFound.relay, ~F.text)
    return router


def group_router() -> Router:
    router = Router(name="lostfound-groups")
    router.message.register(cmd_group, Command("lost", "found"))
    return router
