"""The durable inbox: poll, store, then handle each update once, in order per chat.

aiogram's own polling acknowledges updates before handlers finish and never deduplicates
`update_id`, so a crash would lose or repeat work. Here `getUpdates` is called with the next offset
only after the batch is committed to the inbox table; each update is then handled in one transaction
that also marks it done, so a kill at any moment leaves it either wholly done or not done at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.delivery.outbox import Outbox
from storage.db import Database
from storage.fsm import bind_session
from storage.inbox import InboxItem, InboxRepo

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
OnFailure = Callable[[Update, AsyncSession, Outbox], Awaitable[None]]


def update_key(update: Update) -> str:
    """Updates with the same key are handled one at a time, in order: the chat, else the user."""
    event: Any = update.event
    chat = getattr(event, "chat", None)
    if chat is None:
        message = getattr(event, "message", None)
        chat = getattr(message, "chat", None)
    if chat is not None:
        return f"c{chat.id}"
    user = getattr(event, "from_user", None)
    return f"u{user.id}" if user is not None else "none"


def encode(update: Update) -> str:
    return update.model_dump_json(exclude_none=True, exclude_unset=True)


class Inbox:
    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher,
        bot: Bot,
        clock: Clock,
        *,
        workers: int,
        on_handled: Callable[[], None],
        on_failure: OnFailure,
    ) -> None:
        self.db = db
        self.dp = dispatcher
        self.bot = bot
        self.clock = clock
        self.on_handled = on_handled
        self.on_failure = on_failure
        self._slots = asyncio.Semaphore(workers)
        self._queues: dict[str, deque[tuple[InboxItem, Update | None]]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._scheduled: set[int] = set()
        self.handled = 0

    # --- taking updates in -------------------------------------------------------------------

    async def store(self, updates: list[Update]) -> int:
        """Commit a batch to the inbox, then hand what is new straight to handling (parsed, as
        they came): the table is read back only for what an earlier life left behind."""
        items = [(u.update_id, update_key(u), encode(u)) for u in updates]
        async with self.db.session() as session:
            fresh = set(await InboxRepo(session).store(items, self.clock.now()))
        parsed = {u.update_id: u for u in updates}
        for update_id, key, payload in items:
            if update_id in fresh and update_id not in self._scheduled:  # once, if sent twice
                self._schedule(InboxItem(update_id, key, payload, 0), parsed[update_id])
        return len(fresh)

    async def poll(self, stop: asyncio.Event, *, timeout: int, allowed_updates: list[str]) -> None:
        """Long-poll getUpdates; acknowledge (next offset) only what the inbox has committed."""
        offset: int | None = None
        backoff = 1.0
        while not stop.is_set():
            request = GetUpdates(offset=offset, timeout=timeout, allowed_updates=allowed_updates)
            getter = asyncio.ensure_future(self.bot(request, request_timeout=timeout + 10))
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if getter not in done:
                getter.cancel()  # not acknowledged: Telegram will deliver them again
                with contextlib.suppress(asyncio.CancelledError, TelegramAPIError):
                    await getter
                break
            try:
                updates = getter.result()
            except TelegramUnauthorizedError:
                log.error("the Bot API refused the token; check [telegram] token")
                raise
            except (TelegramAPIError, ClientDecodeError, TimeoutError, OSError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 5.0)  # come back quickly once Telegram is back
                continue
            backoff = 1.0
            if updates:
                await self.store(updates)
                offset = max(u.update_id for u in updates) + 1

    # --- handling ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Hand pending updates to one task per key until stopped, then let running ones finish."""
        while not stop.is_set():
            try:
                async with self.db.read() as session:
                    items = await InboxRepo(session).pending(500, exclude=list(self._scheduled))
            except Exception:
                log.exception("reading the inbox failed")
                items = []
            for item in items:
                if item.update_id not in self._scheduled:  # poll may have handed it over since
                    self._schedule(item, None)
            with contextlib.suppress(TimeoutError):  # new updates are handed over by `store`
                await asyncio.wait_for(stop.wait(), timeout=1.0)

    def _schedule(self, item: InboxItem, update: Update | None) -> None:
        self._scheduled.add(item.update_id)
        self._queues.setdefault(item.key, deque()).append((item, update))
        if item.key not in self._tasks:
            self._tasks[item.key] = asyncio.create_task(self._drain(item.key))

    async def drain(self, timeout: float) -> bool:
        """Wait (bounded) for running key tasks; True when all finished."""
        tasks = list(self._tasks.values())
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        return not pending

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                item, update = queue[0]
                async with self._slots:
                    await self._handle(item, update)
                queue.popleft()
                self._scheduled.discard(item.update_id)
        finally:
            self._tasks.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
            else:  # stopped midway (cancelled): forget, they stay "new" in the table
                for rest, _ in queue:
                    self._scheduled.discard(rest.update_id)
                self._queues.pop(key, None)

    async def _handle(self, item: InboxItem, update: Update | None) -> None:
        if update is None:
            update = Update.model_validate(json.loads(item.payload), context={"bot": self.bot})
        attempts = item.attempts
        while True:
            try:
                await self._handle_once(item, update)
                break
            except Exception as exc:  # a handler bug must not stop the inbox
                attempts += 1
                park = attempts >= MAX_ATTEMPTS
                log.exception("update %s failed (attempt %s)", item.update_id, attempts)
                async with self.db.session() as session:
                    await InboxRepo(session).record_failure(
                        item.update_id,
                        f"{type(exc).__name__}: {exc}",
                        park=park,
                        now=self.clock.now(),
                    )
                    if park:
                        await self.on_failure(
                            update, session, Outbox(session, self.clock, cause=item.update_id)
                        )
                if park:
                    break
                await asyncio.sleep(0.2 * attempts)
        self.on_handled()

    async def _handle_once(self, item: InboxItem, update: Update) -> None:
        async with self.db.session() as session:
            if not await InboxRepo(session).mark_done(item.update_id, self.clock.now()):
                return  # another worker (or an earlier life of this process) already handled it
            outbox = Outbox(session, self.clock, cause=item.update_id)
            with bind_session(session):
                await self.dp.feed_update(self.bot, update, session=session, outbox=outbox)
        self.handled += 1
