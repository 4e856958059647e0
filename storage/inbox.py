"""The durable inbox: every update stored before Telegram is told it arrived; handled once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from storage.db import CHAT_LOCKS, Session, on_postgres
from storage.prepared import prepared
from storage.tables import inbox


@dataclass(frozen=True, slots=True)
class InboxItem:
    update_id: int
    key: str
    payload: str
    attempts: int


@dataclass(frozen=True, slots=True)
class FailedUpdate:
    update_id: int
    key: str
    attempts: int
    error: str
    received_at: datetime


# The statements of every update, built once (building one costs more than SQLite running it:
# bench/sqlpaths.py); each run binds its values by name.
_NEXT_FOR_KEY = prepared(
    select(inbox.c.update_id, inbox.c.key, inbox.c.payload, inbox.c.attempts)
    .where(inbox.c.key == bindparam("key"), inbox.c.status == "new")
    .order_by(inbox.c.update_id)
    .limit(1)
)
_MARK_DONE = prepared(
    update(inbox)
    .where(inbox.c.update_id == bindparam("b_update_id"), inbox.c.status == "new")
    .values(status="done", handled_at=bindparam("now"))
)
_SEEN = prepared(
    select(inbox.c.update_id).where(inbox.c.update_id.in_(bindparam("b_ids", expanding=True)))
)
_STORE = prepared(inbox.insert())


class InboxRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def store(
        self,
        items: Sequence[tuple[int, str, str]],
        now: datetime,
        unreadable: Mapping[int, str] | None = None,
    ) -> list[int]:
        """Insert (update_id, key, payload) rows not seen before; returns the new ones' ids.

        Deduplicated by update_id alone: Telegram may resend an update after a crash, and ids are not
        assumed to grow. An update in `unreadable` (id → why) is kept, parked as failed at once:
        nothing can handle it, and it must not hold up its chat.
        """
        unreadable = unreadable or {}
        if not items:
            return []
        ids = [update_id for update_id, _, _ in items]
        seen = set((await self.session.execute(_SEEN, {"b_ids": ids})).scalars().all())
        fresh: dict[int, tuple[str, str]] = {}
        for update_id, key, payload in items:
            if update_id not in seen:
                fresh.setdefault(update_id, (key, payload))
        if fresh:
            await self.session.execute(
                _STORE,
                [
                    {
                        "update_id": update_id,
                        "key": key,
                        "payload": payload,
                        "status": "failed" if update_id in unreadable else "new",
                        "attempts": 0,
                        "received_at": now,
                        "handled_at": now if update_id in unreadable else None,
                        "error": unreadable[update_id][:2000] if update_id in unreadable else None,
                    }
                    for update_id, (key, payload) in fresh.items()
                ],
            )
        return list(fresh)

    async def highest_id(self) -> int | None:
        """The highest update_id stored, None when none is."""
        found = (await self.session.execute(select(func.max(inbox.c.update_id)))).scalar_one()
        return None if found is None else int(found)

    async def lock_key(self, key: str) -> None:
        """Hold a key until this transaction ends, so that one process at a time handles a chat's
        updates. PostgreSQL: a transaction-level advisory lock (namespace 1, the key's hash; a
        collision only makes two chats wait for each other). SQLite: the transaction already
        holds the one write lock."""
        if on_postgres(self.session):
            await self.session.execute(
                select(func.pg_advisory_xact_lock(CHAT_LOCKS, func.hashtext(key)))
            )

    async def next_for_key(self, key: str) -> InboxItem | None:
        """The oldest update of a key not yet handled (Telegram numbers updates in order)."""
        row = (await self.session.execute(_NEXT_FOR_KEY, {"key": key})).first()
        return InboxItem(row.update_id, row.key, row.payload, row.attempts) if row else None

    async def pending_keys(
        self, limit: int, exclude: Sequence[str] = (), received_before: datetime | None = None
    ) -> list[str]:
        """Keys with updates not yet handled (received before a time), the longest waiting first."""
        query = (
            select(inbox.c.key)
            .where(inbox.c.status == "new")
            .group_by(inbox.c.key)
            .order_by(func.min(inbox.c.update_id))
            .limit(limit)
        )
        if exclude:
            query = query.where(inbox.c.key.not_in(list(exclude)))
        if received_before is not None:
            query = query.where(inbox.c.received_at < received_before)
        return list((await self.session.execute(query)).scalars())

    async def mark_done(self, update_id: int, now: datetime) -> bool:
        """Mark handled, only if not handled before (False means another worker already did)."""
        result = await self.session.execute(_MARK_DONE, {"b_update_id": update_id, "now": now})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def record_failure(
        self, update_id: int, error: str, *, park: bool, now: datetime
    ) -> None:
        await self.session.execute(
            update(inbox)
            .where(inbox.c.update_id == update_id, inbox.c.status == "new")
            .values(
                attempts=inbox.c.attempts + 1,
                error=error[:2000],
                status="failed" if park else "new",
                handled_at=now if park else None,
            )
        )

    async def failed(self, limit: int = 20) -> list[FailedUpdate]:
        rows = await self.session.execute(
            select(inbox)
            .where(inbox.c.status == "failed")
            .order_by(inbox.c.received_at.desc())
            .limit(limit)
        )
        return [
            FailedUpdate(r.update_id, r.key, r.attempts, r.error or "", r.received_at) for r in rows
        ]

    async def prune(self, before: datetime) -> int:
        """Forget handled updates received before a time (kept at least 48 h for deduplication)."""
        result = await self.session.execute(
            inbox.delete().where(inbox.c.status == "done", inbox.c.received_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(inbox.c.status, func.count()).group_by(inbox.c.status)
        )
        return {status: int(n) for status, n in rows}
