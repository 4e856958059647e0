"""Group chats: the bot introduces itself, staff /bind the group, migrations and removals are followed."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import JOIN_TRANSITION, LEAVE_TRANSITION, ChatMemberUpdatedFilter, Command
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.delivery.outbox import Outbox
from bot.domain.people import Actor, ChatPurpose
from bot.services import groups
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers.callbacks import BindCb
from handlers.common import refuse_button
from storage.chats import ChatRepo
from storage.db import Session

GROUP_TYPES = {"group", "supergroup"}


def _intro() -> str:
    return _(
        "Hello! I am <b>Last Meter (最后一米)</b>, the service desk of your compound. Residents: "
        "write to me privately to report a problem. Staff: send /bind here to link this group "
        "to a compound or to your unit."
    )


async def on_bot_added(
    event: ChatMemberUpdated, session: Session, outbox: Outbox, clock: Clock
) -> None:
    await groups.bot_joined(
        session, event.chat.id, event.chat.type, event.chat.title or "", clock.now()
    )
    await outbox.send(event.chat.id, _intro())


async def on_bot_removed(event: ChatMemberUpdated, session: Session, clock: Clock) -> None:
    await groups.bot_left(session, event.chat.id, clock.now())


async def cmd_bind(message: Message, actor: Actor | None, session: Session, outbox: Outbox) -> None:
    # None: sent as the group (an anonymous admin) or a channel, not a person who can be staff
    if actor is None or not (actor.is_staff or actor.is_admin):
        await outbox.send(
            message.chat.id,
            _(
                "Only staff of a unit can bind this group. Ask your "
                "community secretary for an invitation."
            ),
        )
        return
    options = await groups.bind_options(session, actor)
    builder = InlineKeyboardBuilder()
    for purpose, unit in options:
        name = unit.display_name(actor.locale)
        label = (
            _("Residents group of {unit}")
            if purpose is ChatPurpose.RESIDENTS
            else _("Alert group of {unit}")
        ).format(unit=name)
        builder.button(text=label, callback_data=BindCb(purpose=purpose, unit_id=unit.id))
    builder.adjust(1)
    await outbox.send(message.chat.id, _("What is this group for?"), markup=builder.as_markup())


async def on_bind(
    callback: CallbackQuery,
    callback_data: BindCb,
    actor: Actor,
    session: Session,
    outbox: Outbox,
    clock: Clock,
) -> None:
    message = callback.message
    if message is None or message.chat.type not in GROUP_TYPES:
        await refuse_button(outbox, callback)
        return
    chat = await ChatRepo(session).get(message.chat.id)
    unit = await groups.bind(
        session,
        actor,
        chat,
        message.chat.id,
        callback_data.purpose,
        callback_data.unit_id,
        clock.now(),
    )
    name = html.quote(unit.display_name(actor.locale))
    text = (
        _(
            "✅ This group is now the residents group of <b>{unit}</b>. Campaign news and notices "
            "for the compound will appear here."
        )
        if callback_data.purpose is ChatPurpose.RESIDENTS
        else _("✅ This group now receives the alerts of <b>{unit}</b>.")
    )
    await outbox.answer_callback(actor.id, callback.id)
    await outbox.edit(message.chat.id, message.message_id, text.format(unit=name))


async def on_migrate_to(message: Message, session: Session, clock: Clock) -> None:
    assert message.migrate_to_chat_id is not None
    await groups.migrated(session, message.chat.id, message.migrate_to_chat_id, clock.now())


async def on_migrate_from(message: Message, session: Session, clock: Clock) -> None:
    assert message.migrate_from_chat_id is not None
    await groups.migrated(session, message.migrate_from_chat_id, message.chat.id, clock.now())


async def on_anonymous_command(message: Message, outbox: Outbox) -> None:
    """A command sent as the group (an anonymous admin) or by a channel: nobody to check."""
    await outbox.send(
        message.chat.id,
        _(
            "You are posting as the group, so I cannot tell who you are. Turn off “Remain "
            "anonymous” in your admin rights, or send the command from your own account."
        ),
    )


async def cmd_group_help(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _intro())


def group_router() -> Router:
    """Under the groups parent, which filters messages and membership changes to groups."""
    router = Router(name="groups")
    router.my_chat_member.register(on_bot_added, ChatMemberUpdatedFilter(JOIN_TRANSITION))
    router.my_chat_member.register(on_bot_removed, ChatMemberUpdatedFilter(LEAVE_TRANSITION))
    router.message.register(on_migrate_to, F.migrate_to_chat_id)
    router.message.register(on_migrate_from, F.migrate_from_chat_id)
    router.message.register(cmd_group_help, Command("start", "help"))
    router.message.register(on_anonymous_command, F.sender_chat, F.text.startswith("/"))
    router.message.register(cmd_bind, Command("bind"))
    router.callback_query.register(on_bind, BindCb.filter())
    return router
