"""A resident's first steps: /start, the language, and the home compound (by buttons or by name)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from enum import StrEnum
from typing import TypeAlias

from aiogram import F, Router, html
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.errors import NotFound
from bot.domain.org import UnitKind
from bot.domain.people import Actor
from bot.services import onboarding, party
from bot.services.desk import Desk
from bot.ui import menu
from handlers.callbacks import LanguageCb, PickCb
from handlers.common import (
    LANGUAGE_PROMPT,
    chain_text,
    language_keyboard,
    refuse_button,
    unit_keyboard,
)
from storage.db import Session

MAX_QUERY = 40


class Onboarding(StatesGroup):
    compound = State()


class Intent(StrEnum):
    """What a person asked for before they had said where they live: it is resumed afterwards."""

    REPORT = "report"
    LOST = "lost"
    FOUND = "found"
    PARTY = "party"
    HOME = "home"


# How each intent is resumed (with the text the person wrote first, for a report). The features
# stand above onboarding, so handlers/__init__.py fills this in.
Resume: TypeAlias = Callable[[Actor, Desk, FSMContext, str], Awaitable[None]]
RESUME: dict[Intent, Resume] = {}


async def cmd_start(
    message: Message, actor: Actor, session: Session, outbox: Outbox, state: FSMContext
) -> None:
    if actor.user.language is None:
        await outbox.send(message.chat.id, LANGUAGE_PROMPT, markup=language_keyboard())
        return
    await continue_onboarding(message.chat.id, actor, session, outbox, state)


async def continue_onboarding(
    chat_id: int, actor: Actor, session: Session, outbox: Outbox, state: FSMContext
) -> None:
    """Ask for the compound if there is none yet; otherwise greet with the menu."""
    compound = await onboarding.home_compound(session, actor.user.compound_id)
    if compound is None:
        await ask_compound(chat_id, actor, session, outbox, state)
        return
    chain = await onboarding.lineage(session, compound)
    greeting = _("Welcome back! Your home compound: {chain}.").format(
        chain=chain_text(chain, actor.locale)
    )
    await outbox.send(
        chat_id, greeting + "\n\n" + menu.help_text(actor), markup=menu.keyboard(actor)
    )


async def ask_compound(
    chat_id: int,
    actor: Actor,
    session: Session,
    outbox: Outbox,
    state: FSMContext,
    then: Intent | None = None,
    text: str = "",
) -> None:
    await state.set_state(Onboarding.compound)
    await state.set_data({"then": then.value, "text": text} if then else {})
    prompt, markup = await _where_prompt(session, actor)
    await outbox.send(chat_id, prompt, markup=markup)


async def home_of(
    actor: Actor, desk: Desk, state: FSMContext, then: Intent | None = None, text: str = ""
) -> int | None:
    """The person's home compound; without one, say so and ask where they live: what they
    wanted (`then`, with the `text` they wrote) is resumed once they have chosen."""
    if actor.user.compound_id is not None:
        return actor.user.compound_id
    await desk.outbox.send(actor.id, _("First, please tell me where you live."))
    await ask_compound(actor.id, actor, desk.session, desk.outbox, state, then, text)
    return None


async def _where_prompt(session: Session, actor: Actor) -> tuple[str, InlineKeyboardMarkup]:
    """The first question of the compound choice, with the sub-districts as buttons."""
    choices = await onboarding.top_choices(session)
    text = _(
        "Where do you live? Tap your sub-district below, or type part of your compound's name "
        "(for example 西湖)."
    )
    return text, unit_keyboard(choices, actor.locale, lambda u: PickCb(unit_id=u.id))


async def on_language(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    actor: Actor,
    session: Session,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    await onboarding.set_language(session, actor.id, callback_data.code)
    first_time = actor.user.language is None
    actor = replace(actor, locale=callback_data.code)
    await outbox.answer_callback(actor.id, callback.id)
    with get_i18n().use_locale(actor.locale):  # from here on, speak the chosen language
        if callback.message is not None:
            await outbox.edit(
                callback.message.chat.id, callback.message.message_id, _("Switched to English.")
            )
        if first_time or actor.user.compound_id is None:
            await continue_onboarding(actor.id, actor, session, outbox, state)
        else:  # the menu's labels in the new language
            await outbox.send(actor.id, menu.help_text(actor), markup=menu.keyboard(actor))


async def on_pick(
    callback: CallbackQuery,
    callback_data: PickCb,
    actor: Actor,
    session: Session,
    outbox: Outbox,
    state: FSMContext,
    desk: Desk,
) -> None:
    message = callback.message
    if message is None:
        await refuse_button(outbox, callback)
        return
    chat_id, message_id = message.chat.id, message.message_id
    if callback_data.unit_id == 0:
        text, markup = await _where_prompt(session, actor)
        await outbox.edit(chat_id, message_id, text, markup=markup)
    else:
        await _pick_unit(callback_data.unit_id, chat_id, message_id, actor, desk, state)
    await outbox.answer_callback(actor.id, callback.id)


async def _pick_unit(
    unit_id: int,
    chat_id: int,
    message_id: int,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    session, outbox = desk.session, desk.outbox
    try:
        unit, children = await onboarding.browse(session, unit_id)
    except NotFound:
        chain = await onboarding.choose_compound(session, actor.id, unit_id)
        wanted = await state.get_data()
        await state.clear()
        await outbox.edit(
            chat_id,
            message_id,
            _("✅ Your home compound is now {chain}.").format(
                chain=chain_text(chain, actor.locale)
            ),
        )
        if await party.moved_home(desk, actor.id, unit_id):
            await outbox.send(
                chat_id,
                _(
                    "Your party member registration moves with you: I sent it to the new "
                    "compound's branch for approval. Please add your building: “🚩 Party members”."
                ),
            )
        actor = replace(actor, user=replace(actor.user, compound_id=unit_id))
        then = wanted.get("then")
        if then in set(Intent) and Intent(then) in RESUME:
            await outbox.send(chat_id, _("Thank you. Let's carry on."), markup=menu.keyboard(actor))
            await RESUME[Intent(then)](actor, desk, state, str(wanted.get("text") or ""))
        else:
            await outbox.send(chat_id, menu.help_text(actor), markup=menu.keyboard(actor))
        return
    prompt = (
        _("{unit}: choose your community.")
        if unit.kind is UnitKind.SUBDISTRICT
        else _("{unit}: choose your compound.")
    )
    back = PickCb(unit_id=0 if unit.kind is UnitKind.SUBDISTRICT else unit.parent_id or 0)
    await outbox.edit(
        chat_id,
        message_id,
        prompt.format(unit=html.quote(unit.display_name(actor.locale))),
        markup=unit_keyboard(children, actor.locale, lambda u: PickCb(unit_id=u.id), back=back),
    )


async def on_compound_typed(
    message: Message, actor: Actor, session: Session, outbox: Outbox
) -> None:
    query = (message.text or "").strip()
    matches = await onboarding.search_compounds(session, query[:MAX_QUERY]) if query else []
    if not matches:
        choices = await onboarding.top_choices(session)
        await outbox.send(
            message.chat.id,
            _(
                "No compound matches “{query}”. Try fewer characters, or tap your sub-district."
            ).format(query=html.quote(query[:MAX_QUERY])),
            markup=unit_keyboard(choices, actor.locale, lambda u: PickCb(unit_id=u.id)),
        )
        return
    await outbox.send(
        message.chat.id,
        _("Is it one of these? Tap your compound."),
        markup=unit_keyboard(matches, actor.locale, lambda u: PickCb(unit_id=u.id), columns=1),
    )


async def on_compound_not_text(message: Message, outbox: Outbox) -> None:
    await outbox.send(
        message.chat.id, _("I need your compound's name as text, or tap a button above.")
    )


def private_router() -> Router:
    router = Router(name="onboarding")
    router.message.register(cmd_start, CommandStart())
    router.callback_query.register(on_language, LanguageCb.filter())
    router.callback_query.register(on_pick, PickCb.filter())
    router.message.register(on_compound_typed, Onboarding.compound, F.text, ~F.text.startswith("/"))
    router.message.register(on_compound_not_text, Onboarding.compound, ~F.text)
    return router
