"""Several replicas on one PostgreSQL database: who leads, and waking the leader's sender.

The sweeps and the outbox sender run in one process at a time, the leader: Telegram's limits are
per bot, so one pacer must see every send, and a sweep then never races its twin. Leading means
holding a session-level advisory lock on a connection of its own. PostgreSQL lets go of it when
the connection ends (a SIGKILLed process's socket closes at once), and a standby takes it at its
next try, within `retry` seconds. The same connection LISTENs on the `outbox` channel: a replica
that commits outgoing messages NOTIFYs it (storage/outbox.py), so replies written anywhere leave
at once.

SQLite has one process per database: it always leads and nobody needs waking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

from storage.db import LEADER_LOCKS, Database
from storage.outbox import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

LEADER_KEY = 1


class Leadership:
    def __init__(self, db: Database, *, retry: float = 1.0) -> None:
        self.db = db
        self.retry = retry
        self.shared = db.url.startswith("postgresql")
        self.leading = asyncio.Event()
        self.on_notice: Callable[[], None] = lambda: None
        if not self.shared:
            self.leading.set()
        self._connection: Any = None

    @property
    def is_leader(self) -> bool:
        return self.leading.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        """Try for the lead every `retry` seconds; while leading, check the connection as often."""
        if not self.shared:
            await stop.wait()
            return
        try:
            while not stop.is_set():
                try:
                    await self._step()
                except Exception as exc:  # the server went away: whoever reconnects first leads
                    if self.is_leader:
                        log.warning("lost the lead: %s", exc)
                    await self._drop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.retry)
        finally:
            await self._drop()

    async def _step(self) -> None:
        import asyncpg

        if self._connection is None:
            dsn = make_url(self.db.url).set(drivername="postgresql")
            self._connection = await asyncpg.connect(
                dsn.render_as_string(hide_password=False), timeout=10
            )
            await self._connection.add_listener(OUTBOX_CHANNEL, self._notified)
        if self.is_leader:
            await self._connection.fetchval("SELECT 1", timeout=10)
        elif await self._connection.fetchval(
            "SELECT pg_try_advisory_lock($1, $2)", LEADER_LOCKS, LEADER_KEY, timeout=10
        ):
            log.info("leading: this replica runs the sweeps and sends the outbox")
            self.leading.set()

    def _notified(self, *_: Any) -> None:
        if self.is_leader:
            self.on_notice()

    async def _drop(self) -> None:
        self.leading.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)
