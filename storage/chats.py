"""Group chats the bot is in, and what they are bound to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, select, update

from bot.domain.people import ChatPurpose, GroupChat
from storage.db import Session
from storage.prepared import prepared
from storage.tables import chats

_BOUND = (
    prepared(  # the active groups of several units for a purpose: read by every ticket's dispatch
        select(chats.c.unit_id, chats.c.id)
        .where(
            chats.c.unit_id.in_(bindparam("b_units", expanding=True)),
            chats.c.purpose == bindparam("b_purpose"),
            chats.c.active.is_(True),
        )
        .order_by(chats.c.id)
    )
)


def _chat(row: Row[tuple[object, ...]]) -> GroupChat:
    m = row._mapping
    return GroupChat(
        id=m["id"],
        type=m["type"],
        title=m["title"],
        purpose=ChatPurpose(m["purpose"]) if m["purpose"] else None,
        unit_id=m["unit_id"],
        active=m["active"],
    )


class ChatRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def get(self, chat_id: int) -> GroupChat | None:
        row = (await self.session.execute(select(chats).where(chats.c.id == chat_id))).first()
        return _chat(row) if row else None

    async def joined(self, chat_id: int, type_: str, title: str, now: datetime) -> GroupChat:
        """Record that the bot is in a group (again); a binding made before is kept."""
        existing = await self.get(chat_id)
        if existing is None:
            await self.session.execute(
                chats.insert().values(
                    id=chat_id, type=type_, title=title, active=True, updated_at=now
                )
            )
        else:
            await self.session.execute(
                update(chats)
                .where(chats.c.id == chat_id)
                .values(type=type_, title=title, active=True, updated_at=now)
            )
        chat = await self.get(chat_id)
        assert chat is not None
        return chat

    async def set_active(self, chat_id: int, active: bool, now: datetime) -> None:
        await self.session.execute(
            update(chats).where(chats.c.id == chat_id).values(active=active, updated_at=now)
        )

    async def bind(
        self, chat_id: int, purpose: ChatPurpose, unit_id: int, by: int, now: datetime
    ) -> None:
        await self.session.execute(
            update(chats)
            .where(chats.c.id == chat_id)
            .values(purpose=purpose.value, unit_id=unit_id, bound_by=by, updated_at=now)
        )

    async def migrate(self, old_id: int, new_id: int, now: datetime) -> bool:
        """A group became a supergroup: its new id inherits the binding. False if nothing moved."""
        old = await self.get(old_id)
        if old is None:
            return False
        if await self.get(new_id) is None:
            await self.session.execute(
                update(chats)
                .where(chats.c.id == old_id)
                .values(id=new_id, type="supergroup", updated_at=now)
            )
        else:
            await self.session.execute(
                update(chats)
                .where(chats.c.id == new_id)
                .values(purpose=old.purpose, unit_id=old.unit_id, active=True, updated_at=now)
            )
            await self.session.execute(chats.delete().where(chats.c.id == old_id))
        return True

    async def bound_to_units(
        self, unit_ids: Sequence[int], purpose: ChatPurpose
    ) -> dict[int, list[int]]:
        """The active groups bound to several units for a purpose, in one read, by unit."""
        rows = await self.session.execute(
            _BOUND, {"b_units": list(unit_ids), "b_purpose": purpose.value}
        )
        found: dict[int, list[int]] = {}
        for row in rows:
            found.setdefault(row.unit_id, []).append(row.id)
        return found

    async def bound_to(self, unit_id: int, purpose: ChatPurpose) -> list[GroupChat]:
        rows = await self.session.execute(
            select(chats).where(
                chats.c.unit_id == unit_id,
                chats.c.purpose == purpose.value,
                chats.c.active.is_(True),
            )
        )
        return [_chat(row) for row in rows]
