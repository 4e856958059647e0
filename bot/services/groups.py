"""Group chats: the bot joins or leaves, staff bind a group, supergroup migrations keep the binding."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import NotAllowed, NotFound, Reason
from bot.domain.org import Unit, UnitKind, may_bind_alerts, may_bind_residents, sort_units
from bot.domain.people import Actor, ChatPurpose, GroupChat
from storage.chats import ChatRepo
from storage.db import Session
from storage.outbox import OutboxRepo
from storage.units import UnitRepo

MAX_OPTIONS = 24


async def bot_joined(
    session: Session, chat_id: int, type_: str, title: str, now: datetime
) -> GroupChat:
    return await ChatRepo(session).joined(chat_id, type_, title, now)


async def bot_left(session: Session, chat_id: int, now: datetime) -> None:
    await ChatRepo(session).set_active(chat_id, False, now)


async def migrated(session: Session, old_id: int, new_id: int, now: datetime) -> bool:
    """Follow a group that became a supergroup (its id changes); pending messages follow too."""
    moved = await ChatRepo(session).migrate(old_id, new_id, now)
    await OutboxRepo(session).move_chat(old_id, new_id)
    return moved


async def bind_options(session: Session, actor: Actor) -> list[tuple[ChatPurpose, Unit]]:
    """What this actor may bind a group to: compounds' residents groups and their units' alerts."""
    repo = UnitRepo(session)
    own = list((await repo.many(actor.staff_unit_ids)).values())
    compounds = await repo.of_kind(UnitKind.COMPOUND)
    options: list[tuple[ChatPurpose, Unit]] = [
        (ChatPurpose.RESIDENTS, compound)
        for compound in compounds
        if may_bind_residents(is_admin=actor.is_admin, staff_units=own, compound=compound)
    ][:MAX_OPTIONS]
    if actor.is_admin and not own:
        own = await repo.children(None)
    options.extend((ChatPurpose.ALERTS, unit) for unit in sort_units(own))
    return options


async def bind(
    session: Session,
    actor: Actor,
    chat: GroupChat | None,
    chat_id: int,
    purpose: ChatPurpose,
    unit_id: int,
    now: datetime,
) -> Unit:
    repo = UnitRepo(session)
    unit = await repo.get(unit_id)
    if unit is None:
        raise NotFound(Reason.GONE, str(unit_id))
    own = list((await repo.many(actor.staff_unit_ids)).values())
    if purpose is ChatPurpose.RESIDENTS:
        allowed = may_bind_residents(is_admin=actor.is_admin, staff_units=own, compound=unit)
    else:
        allowed = may_bind_alerts(
            is_admin=actor.is_admin, staff_unit_ids=actor.staff_unit_ids, unit=unit
        )
    if not allowed:
        raise NotAllowed(Reason.NOT_UNIT_STAFF, str(unit_id))
    chats = ChatRepo(session)
    if chat is None:
        await chats.joined(chat_id, "group", "", now)
    await chats.bind(chat_id, purpose, unit.id, actor.id, now)
    return unit
