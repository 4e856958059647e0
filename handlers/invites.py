"""Staff invitations: /invite browses the tree and makes a one-time link; /start inv_… joins."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.domain.org import StaffRole, Unit
from bot.domain.people import Actor, InviteOutcome
from bot.services import invites
from bot.ui import invites as ui
from bot.ui import menu
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers.callbacks import InviteAction, InviteCb
from handlers.common import refuse_button
from storage.db import Session


def _browse_keyboard(
    unit: Unit | None, children: list[Unit], allowed: bool, locale: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if unit is not None and allowed:
        for role in StaffRole:
            builder.button(
                text=_("Invite a {role} here").format(role=ui.role_name(role)),
                callback_data=InviteCb(action=InviteAction.MAKE, unit_id=unit.id, role=role),
            )
    for child in children:
        builder.button(
            text="› " + child.display_name(locale),
            callback_data=InviteCb(action=InviteAction.BROWSE, unit_id=child.id),
        )
    builder.adjust(1)
    return builder.as_markup()


async def cmd_invite(message: Message, actor: Actor, session: Session, outbox: Outbox) -> None:
    if not (actor.is_admin or actor.is_staff):
        await outbox.send(
            message.chat.id, _("Only administrators and unit staff can invite staff.")
        )
        return
    roots = await invites.starting_points(session, actor)
    await outbox.send(
        message.chat.id,
        _("Whom do you want to invite? Open a unit below, then choose the role."),
        markup=_browse_keyboard(None, roots, False, actor.locale),
    )


async def on_invite(
    callback: CallbackQuery,
    callback_data: InviteCb,
    actor: Actor,
    session: Session,
    outbox: Outbox,
    clock: Clock,
    config: Config,
    bot_username: str,
) -> None:
    message = callback.message
    if message is None:
        await refuse_button(outbox, callback)
        return
    if callback_data.action is InviteAction.BROWSE or callback_data.role is None:
        unit, children, allowed = await invites.browse(session, actor, callback_data.unit_id)
        await outbox.edit(
            message.chat.id,
            message.message_id,
            _("<b>{unit}</b>: invite staff here, or open a unit below.").format(
                unit=html.quote(unit.display_name(actor.locale))
            ),
            markup=_browse_keyboard(unit, children, allowed, actor.locale),
        )
    else:
        now = clock.now()
        invite, unit = await invites.make_invite(
            session,
            actor,
            callback_data.unit_id,
            callback_data.role,
            now,
            config.bot.invite_ttl,
        )
        link = f"https://t.me/{bot_username}?start={ui.INVITE_PREFIX}{invite.code}"
        expires = invite.expires_at.astimezone(config.bot.zone).strftime("%Y-%m-%d %H:%M")
        await outbox.edit(
            message.chat.id,
            message.message_id,
            _(
                "Invitation for a {role} of <b>{unit}</b>. Send this link to that person; it "
                "works once, until {expires}:\n{link}"
            ).format(
                role=ui.role_name(invite.role),
                unit=html.quote(unit.display_name(actor.locale)),
                expires=expires,
                link=html.quote(link),
            ),
        )
    await outbox.answer_callback(actor.id, callback.id)


async def cmd_start_invite(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: Session,
    outbox: Outbox,
    clock: Clock,
    config: Config,
) -> None:
    code = (command.args or "").removeprefix(ui.INVITE_PREFIX)
    result = await invites.join(
        session, outbox, actor, code, clock.now(), config.bot.default_language
    )
    markup = None
    if result.outcome is InviteOutcome.JOINED and result.unit and result.role:
        markup = menu.keyboard(actor, staff=True)  # now with 📥 To do · 📊 Statistics
        text = _(
            "Welcome! You are now {role} of <b>{unit}</b>. Alerts for your unit will come here."
        ).format(
            role=ui.role_name(result.role),
            unit=html.quote(result.unit.display_name(actor.locale)),
        )
    elif result.outcome is InviteOutcome.USED:
        text = _("This invitation has already been used. Ask whoever invited you for a new link.")
    elif result.outcome is InviteOutcome.EXPIRED:
        text = _("This invitation has expired. Ask whoever invited you for a new link.")
    else:
        text = _("This invitation link is not valid. Please check that you opened the whole link.")
    await outbox.send(message.chat.id, text, markup=markup)


def private_router() -> Router:
    router = Router(name="invites")
    router.message.register(
        cmd_start_invite, CommandStart(deep_link=True, magic=F.args.startswith("inv_"))
    )
    router.message.register(cmd_invite, Command("invite"))
    router.callback_query.register(on_invite, InviteCb.filter())
    return router
