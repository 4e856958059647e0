"""What a user can see and change about themselves: /profile, /language, /whoami, /help."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.people import Actor
from bot.services import onboarding
from bot.services.desk import Desk
from bot.ui import menu
from bot.ui.invites import role_name
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers.callbacks import ProfileAction, ProfileCb
from handlers.common import LANGUAGE_PROMPT, chain_text, command, language_keyboard
from handlers.onboarding import ask_compound
from storage.campaigns import SubscriptionRepo
from storage.db import Session
from storage.units import UnitRepo


async def _home(session: Session, actor: Actor) -> str:
    compound = await onboarding.home_compound(session, actor.user.compound_id)
    if compound is None:
        return _("not chosen yet")
    return chain_text(await onboarding.lineage(session, compound), actor.locale)


async def profile(actor: Actor, desk: Desk, state: FSMContext) -> None:
    session = desk.session
    text = "\n".join(
        [
            _("<b>Your profile</b>"),
            _("Home compound: {home}").format(home=await _home(session, actor)),
            _("Language: {language}").format(
                language="中文" if actor.locale == "zh" else "English"
            ),
        ]
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Change compound"), callback_data=ProfileCb(action=ProfileAction.COMPOUND)
    )
    builder.button(
        text=_("Change language"), callback_data=ProfileCb(action=ProfileAction.LANGUAGE)
    )
    await desk.outbox.send(actor.id, text, markup=builder.as_markup())


async def on_profile_action(
    callback: CallbackQuery,
    callback_data: ProfileCb,
    actor: Actor,
    session: Session,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    await outbox.answer_callback(actor.id, callback.id)
    if callback_data.action is ProfileAction.LANGUAGE:
        await outbox.send(actor.id, LANGUAGE_PROMPT, markup=language_keyboard())
    else:
        await ask_compound(actor.id, actor, session, outbox, state)


async def cmd_language(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, LANGUAGE_PROMPT, markup=language_keyboard())


async def cmd_whoami(message: Message, actor: Actor, session: Session, outbox: Outbox) -> None:
    lines = [
        _("<b>{name}</b> (Telegram id <code>{id}</code>)").format(
            name=html.quote(actor.user.first_name), id=actor.id
        ),
        _("Home compound: {home}").format(home=await _home(session, actor)),
        _("Roles:"),
        _("• resident"),
    ]
    units = await UnitRepo(session).many(actor.staff_unit_ids)
    for membership in actor.memberships:
        unit = units.get(membership.unit_id)
        if unit is not None:
            lines.append(
                _("• {role} of {unit}").format(
                    role=role_name(membership.role),
                    unit=html.quote(unit.display_name(actor.locale)),
                )
            )
    if actor.is_admin:
        lines.append(_("• administrator"))
    await outbox.send(message.chat.id, "\n".join(lines))


async def show_help(actor: Actor, desk: Desk, state: FSMContext) -> None:
    """The menu's buttons explained, with the settings as buttons under it."""
    subscribed = await SubscriptionRepo(desk.session).subscribed(actor.id)
    await desk.outbox.send(actor.id, menu.help_text(actor), markup=menu.help_card(subscribed))


def private_router() -> Router:
    router = Router(name="profile")
    router.message.register(command(profile), Command("profile"))
    router.message.register(cmd_language, Command("language"))
    router.message.register(cmd_whoami, Command("whoami"))
    router.message.register(command(show_help), Command("help"))
    router.callback_query.register(on_profile_action, ProfileCb.filter())
    return router
