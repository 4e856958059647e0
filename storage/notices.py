"""Notices posted in residents groups (a found item, an activity), remembered so they stay true:
which outbox row sent each, in which language, and the text it shows now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update

from storage.db import Session
from storage.tables import chats, group_notices


class NoticeKind(StrEnum):
    FOUND = "found"  # subject: a lostfound row
    ACTIVITY = "activity"  # subject: an activities row
    TOPIC = "topic"  # subject: a topics row (the 红色议事厅)
    STARS = "stars"  # subject: a star_runs row (a 五星小区 result's 公示)


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    chat_id: int
    outbox_id: int  # the row that sent it; edits refer to it
    locale: str
    shown: str  # the text it shows now (as last written)


class NoticeRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def add(
        self,
        kind: NoticeKind,
        subject_id: int,
        chat_id: int,
        outbox_id: int,
        locale: str,
        shown: str,
        now: datetime,
    ) -> int:
        result = await self.session.execute(
            group_notices.insert()
            .values(
                kind=kind.value,
                subject_id=subject_id,
                chat_id=chat_id,
                outbox_id=outbox_id,
                locale=locale,
                shown=shown,
                created_at=now,
            )
            .returning(group_notices.c.id)
        )
        return int(result.scalar_one())

    async def of(self, kind: NoticeKind, subject_id: int) -> list[Notice]:
        """The subject's notices in groups the bot is still in (one it left, or that moved to a
        supergroup, cannot be edited), oldest first."""
        rows = await self.session.execute(
            select(
                group_notices.c.id,
                group_notices.c.chat_id,
                group_notices.c.outbox_id,
                group_notices.c.locale,
                group_notices.c.shown,
            )
            .join(chats, chats.c.id == group_notices.c.chat_id)
            .where(
                group_notices.c.kind == kind.value,
                group_notices.c.subject_id == subject_id,
                chats.c.active.is_(True),
            )
            .order_by(group_notices.c.id)
        )
        return [Notice(r.id, r.chat_id, r.outbox_id, r.locale, r.shown) for r in rows]

    async def show(self, notice_id: int, text: str, now: datetime) -> bool:
        """Record that the notice now shows `text`; False when it shows it already (then no edit
        is needed: Telegram would answer "message is not modified")."""
        result = await self.session.execute(
            update(group_notices)
            .where(group_notices.c.id == notice_id, group_notices.c.shown != text)
            .values(shown=text, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
