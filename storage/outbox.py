"""The persistent outbox: messages written with the change that caused them, sent later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from storage.db import Session, on_postgres
from storage.prepared import prepared
from storage.tables import outbox

OUTBOX_CHANNEL = "outbox"  # LISTENed to by the leading replica (storage/leader.py)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    chat_id: int
    method: str
    payload: str
    priority: int
    attempts: int
    ref_id: int | None = None


@dataclass(frozen=True, slots=True)
class SentRef:
    status: str
    message_id: int | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    chat_id: int
    method: str
    error: str
    created_at: datetime


# The statements of every reply, built once (bench/sqlpaths.py); each run binds its values.
_ADD = prepared(
    outbox.insert()
    .values(
        chat_id=bindparam("b_chat_id"),
        method=bindparam("b_method"),
        payload=bindparam("b_payload"),
        priority=bindparam("b_priority"),
        status="pending",
        attempts=0,
        not_before=bindparam("now"),
        created_at=bindparam("now"),
        cause=bindparam("b_cause"),
        ref_id=bindparam("b_ref_id"),
    )
    .returning(outbox.c.id)
)
_MARK_SENT = prepared(
    update(outbox)
    .where(outbox.c.id == bindparam("item_id"))
    .values(
        status="sent",
        sent_at=bindparam("now"),
        message_id=bindparam("b_message_id"),
        attempts=outbox.c.attempts + 1,
    )
)

_DUE = prepared(  # what the sender looks for at every pass
    select(
        outbox.c.id,
        outbox.c.chat_id,
        outbox.c.method,
        outbox.c.payload,
        outbox.c.priority,
        outbox.c.attempts,
        outbox.c.ref_id,
    )
    .where(outbox.c.status == "pending", outbox.c.not_before <= bindparam("now"))
    .order_by(outbox.c.priority, outbox.c.id)
    .limit(bindparam("b_limit"))
)


class OutboxRepo:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._notified = False

    async def add(
        self,
        chat_id: int,
        method: str,
        payload: str,
        priority: int,
        now: datetime,
        cause: int | None = None,
        ref_id: int | None = None,
    ) -> int:
        result = await self.session.execute(
            _ADD,
            {
                "b_chat_id": chat_id,
                "b_method": method,
                "b_payload": payload,
                "b_priority": priority,
                "now": now,
                "b_cause": cause,
                "b_ref_id": ref_id,
            },
        )
        row_id = int(result.scalar_one())
        if not self._notified and on_postgres(self.session):
            # Delivered at commit, once per transaction, to the leader's sender (storage/leader.py).
            await self.session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
            self._notified = True
        return row_id

    async def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        rows = await self.session.execute(_DUE, {"now": now, "b_limit": limit})
        return [OutboxItem(*row) for row in rows]

    async def sent_ref(self, item_id: int) -> SentRef | None:
        """What became of the message an edit refers to."""
        row = (
            await self.session.execute(
                select(outbox.c.status, outbox.c.message_id).where(outbox.c.id == item_id)
            )
        ).first()
        return SentRef(row.status, row.message_id) if row else None

    async def mark_sent(self, item_id: int, message_id: int | None, now: datetime) -> None:
        await self.mark_all_sent([(item_id, message_id)], now)

    async def mark_all_sent(self, sent: Sequence[tuple[int, int | None]], now: datetime) -> None:
        """Messages Telegram took: (outbox id, the message id it gave, if any) each."""
        await self.session.execute(
            _MARK_SENT,
            [
                {"item_id": item_id, "now": now, "b_message_id": message}
                for item_id, message in sent
            ],
        )

    async def retry_later(self, item_id: int, not_before: datetime, error: str) -> None:
        await self.session.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(
                status="pending",  # a claimed broadcast Telegram refused goes back in line
                not_before=not_before,
                error=error[:1000],
                attempts=outbox.c.attempts + 1,
            )
        )

    async def claim(self, item_id: int) -> bool:
        """Mark a broadcast as being sent, before it is sent (False: not pending any more)."""
        result = await self.session.execute(
            update(outbox)
            .where(outbox.c.id == item_id, outbox.c.status == "pending")
            .values(status="sending")
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def interrupted(self, now: datetime) -> int:
        """Broadcasts a killed process was sending when it died: Telegram may or may not have
        them, so they are not sent again (a reminder is never sent twice); kept for admins."""
        result = await self.session.execute(
            update(outbox)
            .where(outbox.c.status == "sending")
            .values(
                status="dead",
                sent_at=now,
                error="interrupted while sending; not repeated (a broadcast is never sent twice)",
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def park(self, item_id: int, error: str, now: datetime) -> None:
        """A message that can never be sent: kept with its reason for admins (/deadletters)."""
        await self.session.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(status="dead", error=error[:1000], sent_at=now, attempts=outbox.c.attempts + 1)
        )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Pending messages follow a group that became a supergroup."""
        await self.session.execute(
            update(outbox)
            .where(outbox.c.chat_id == old_chat_id, outbox.c.status == "pending")
            .values(chat_id=new_chat_id)
        )

    async def dead_letters(self, limit: int = 20) -> list[DeadLetter]:
        rows = await self.session.execute(
            select(
                outbox.c.id, outbox.c.chat_id, outbox.c.method, outbox.c.error, outbox.c.created_at
            )
            .where(outbox.c.status == "dead")
            .order_by(outbox.c.id.desc())
            .limit(limit)
        )
        return [DeadLetter(r.id, r.chat_id, r.method, r.error or "", r.created_at) for r in rows]

    async def pending_count(self) -> int:
        value = (
            await self.session.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
            )
        ).scalar_one()
        return int(value)
