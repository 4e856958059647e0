"""What only administrators see: messages that could never be sent and updates that kept failing."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.domain.people import Actor
from storage.db import Session
from storage.inbox import InboxRepo
from storage.outbox import OutboxRepo

SHOWN = 15


async def cmd_deadletters(
    message: Message, actor: Actor, session: Session, outbox: Outbox, config: Config
) -> None:
    if not actor.is_admin:
        await outbox.send(message.chat.id, _("Only administrators can see this."))
        return
    zone = config.bot.zone
    dead = await OutboxRepo(session).dead_letters(SHOWN)
    failed = await InboxRepo(session).failed(SHOWN)
    lines = [_("<b>Messages that could not be delivered</b> (newest first):")]
    lines += [
        f"• #{d.id} {d.created_at.astimezone(zone):%m-%d %H:%M} chat <code>{d.chat_id}</code> "
        f"{d.method}: {html.quote(d.error[:120])}"
        for d in dead
    ] or [_("none")]
    lines += ["", _("<b>Updates that failed every attempt</b> (newest first):")]
    lines += [
        f"• update {f.update_id} {f.received_at.astimezone(zone):%m-%d %H:%M} ({f.key}, "
        f"{f.attempts}×): {html.quote(f.error[:120])}"
        for f in failed
    ] or [_("none")]
    await outbox.send(message.chat.id, "\n".join(lines))


def private_router() -> Router:
    router = Router(name="admin")
    router.message.register(cmd_deadletters, Command("deadletters"))
    return router
