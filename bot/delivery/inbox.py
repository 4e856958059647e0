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
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramConflictError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from pydantic import ValidationError

from bot.clock import Clock
from bot.delivery.outbox import Outbox
from bot.monitoring import HANDLER_SECONDS, UPDATES
from storage.db import Database, Session
from storage.fsm import AfterCommit, Held, bind_session
from storage.inbox import InboxItem, InboxRepo

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# After a batch, the next getUpdates waits this long: under load it then fetches what came
# meanwhile in one call and one commit, not an update each (an update that comes in the pause
# waits at most this long; a long poll answers the first one at once).
POLL_GATHER = 0.02
LEFT_AFTER = timedelta(seconds=3)  # an update this old, not being handled here, was left behind
OnFailure = Callable[[Update, Session, Outbox], Awaitable[None]]


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


UPDATE_IDS = range(0, 2**63)  # what the inbox's BIGINT holds (Telegram's ids are far below)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An update nothing here can handle (a type this aiogram does not know, or fields that do not
    read): kept in the inbox, parked at once, and acknowledged, so the bot goes on."""

    update_id: int
    payload: str
    why: str


def unknown_type(update: Update) -> Unreadable | None:
    try:
        update.event_type  # noqa: B018 -- the lookup is the check
    except UpdateTypeLookupError:
        kinds = sorted(update.model_extra or {}) or ["none"]
        return Unreadable(update.update_id, encode(update), f"unreadable: type {', '.join(kinds)}")
    return None


def read_update(raw: object, bot: Bot) -> Update | Unreadable | None:
    """One update as Telegram sent it (JSON), read; None when it has no update_id to keep it by."""
    if not isinstance(raw, dict):
        return None
    update_id = raw.get("update_id")
    if type(update_id) is not int or update_id not in UPDATE_IDS:
        return None
    try:
        update = Update.model_validate(raw, context={"bot": bot})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        payload = json.dumps(raw, ensure_ascii=False)
        return Unreadable(update_id, payload, f"unreadable: {where}: {first['msg']}")
    return unknown_type(update) or update


class Inbox:
    """Takes updates in (polling or webhook), stores them, and handles each once.

    Work is claimed per key (a chat): a key's updates are handled one at a time, oldest first,
    each in a transaction that first takes the key's lock and then picks the key's oldest update
    not yet handled. So several processes on one PostgreSQL database (replicas behind a load
    balancer) share the work without handling anything twice or out of order, and whichever
    process next touches a key also finishes what a killed one left.
    """

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
        self._parsed: dict[str, dict[int, Update]] = {}  # received here, not yet handled
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()  # keys given new work while their task was finishing
        self._unsure: set[str] = set()  # keys the table may hold updates of not parsed here
        self.handled = 0

    # --- taking updates in -------------------------------------------------------------------

    async def store(self, updates: Sequence[Update | Unreadable]) -> int:
        """Commit a batch to the inbox, then start handling what is new (parsed, as it came).
        What cannot be handled is committed parked, with the reason."""
        items: list[tuple[int, str, str]] = []
        unreadable: dict[int, str] = {}
        parsed: dict[int, Update] = {}
        for update in updates:
            if isinstance(update, Update):
                update = unknown_type(update) or update
            if isinstance(update, Unreadable):
                log.error("update %s cannot be read, parked: %s", update.update_id, update.why)
                UPDATES.labels(outcome="parked").inc()
                items.append((update.update_id, "none", update.payload))
                unreadable[update.update_id] = update.why
            else:
                items.append((update.update_id, update_key(update), encode(update)))
                parsed[update.update_id] = update
        async with self.db.session() as session:
            fresh = set(await InboxRepo(session).store(items, self.clock.now(), unreadable))
        for update_id, key, _ in items:
            if update_id in fresh and update_id in parsed:
                self._parsed.setdefault(key, {})[update_id] = parsed[update_id]
                self._kick(key)
        return len(fresh)

    async def _store_batch(self, updates: Sequence[Update | Unreadable]) -> int | None:
        """Store a getUpdates batch; the offset that acknowledges it (None: nothing to keep)."""
        kept = [u for u in updates if u.update_id in UPDATE_IDS]
        if len(kept) < len(updates):
            log.error("getUpdates gave update ids beyond 64 bits; they are not acknowledged")
        if not kept:
            return None
        await self.store(kept)
        return max(u.update_id for u in kept) + 1

    def _read_batch(self, exc: ClientDecodeError) -> list[Update | Unreadable] | None:
        """getUpdates answered, but an update in it does not read: read them one by one."""
        data = exc.data
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list):
            return None
        batch = [read_update(raw, self.bot) for raw in result]
        return [u for u in batch if u is not None] or None

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
            updates: Sequence[Update | Unreadable]
            try:
                updates = getter.result()
            except ClientDecodeError as exc:
                readable = self._read_batch(exc)
                if readable is None:
                    log.warning("getUpdates answered what is not updates (%s); retrying", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                updates = readable
            except TelegramUnauthorizedError:
                log.error("the Bot API refused the token; check [telegram] token")
                raise
            except (TelegramAPIError, TimeoutError, OSError) as exc:
                if isinstance(exc, TelegramConflictError) and await self._remove_webhook():
                    continue
                log.warning("getUpdates failed (%s); retrying in %.0f s", exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 5.0)  # come back quickly once Telegram is back
                continue
            if not updates:
                backoff = 1.0
                continue
            acknowledge = await self._store_batch(updates)
            if acknowledge is None:  # only ids no real Telegram gives: do not spin on them
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 1.0
            offset = acknowledge
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=POLL_GATHER)

    async def _remove_webhook(self) -> bool:
        """Back from webhook mode: getUpdates answers 409 while a webhook is set. Updates Telegram
        holds stay (no drop_pending_updates)."""
        log.info("removing the webhook left from webhook mode")
        try:
            return bool(await self.bot.delete_webhook())
        except TelegramAPIError:
            return False

    # --- handling ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Each second, take up keys with updates nobody here is handling: what an earlier life
        (or a killed replica) left, or what a failing database kept from being handled. Updates
        younger than LEFT_AFTER are another replica's work in progress: taking up its chat would
        only wait for its lock."""
        while not stop.is_set():
            try:
                async with self.db.read() as session:
                    keys = await InboxRepo(session).pending_keys(
                        500,
                        exclude=list(self._tasks),
                        received_before=self.clock.now() - LEFT_AFTER,
                    )
            except Exception:
                log.exception("reading the inbox failed")
                keys = []
            for key in keys:
                self._unsure.add(key)
                self._kick(key)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)

    def _kick(self, key: str) -> None:
        if key in self._tasks:
            self._again.add(key)  # its task may have just looked and found nothing
        else:
            self._tasks[key] = asyncio.create_task(self._drain(key))

    async def drain(self, timeout: float) -> bool:
        """Wait (bounded) for running key tasks; True when all finished."""
        tasks = list(self._tasks.values())
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        return not pending

    async def _drain(self, key: str) -> None:
        """Handle a key's updates, oldest first, until the table has none left for it."""
        try:
            while True:
                self._again.discard(key)
                async with self._slots:
                    handled = await self._handle_next(key)
                if not handled and key not in self._again:
                    break
        except Exception:  # the database failing: the key is taken up again within a second
            log.exception("handling the updates of %s failed", key)
            self._unsure.add(key)
        finally:
            self._tasks.pop(key, None)
            self._again.discard(key)
            self._parsed.pop(key, None)

    async def _handle_next(self, key: str) -> bool:
        """Handle the key's oldest update; False when it has none left."""
        item: InboxItem | None = None
        update: Update | None = None
        held = Held()
        started = time.perf_counter()
        if not self._parsed.get(key) and not await self._pending(key):
            return False  # the usual end of a drain: nothing read, nothing written
        try:
            async with self.db.session() as session:
                repo = InboxRepo(session)
                await repo.lock_key(key)
                item = await repo.next_for_key(key)
                if item is None:
                    return False
                update = self._parsed.get(key, {}).pop(
                    item.update_id, None
                ) or Update.model_validate(json.loads(item.payload), context={"bot": self.bot})
                await repo.mark_done(item.update_id, self.clock.now())
                outbox = Outbox(session, self.clock, cause=item.update_id)
                with bind_session(session, held):
                    await self.dp.feed_update(self.bot, update, session=session, outbox=outbox)
            self.handled += 1
            HANDLER_SECONDS.observe(time.perf_counter() - started)
            UPDATES.labels(outcome="handled").inc()
            await self._apply(held)
        except Exception as exc:
            if item is None:
                raise  # not the handler: the database
            if update is None:  # a stored payload that no longer reads as an update (an upgrade)
                await self._unreadable(item, exc)
            else:
                await self._failed(item, update, exc)
        self.on_handled()
        return True

    async def _pending(self, key: str) -> bool:
        """Whether the key has an update left that this process did not receive itself (an
        earlier life's, or one it could not keep parsed). Every update stored here is kept parsed
        until handled (a failed one is put back), so the table is read — a read, which takes no
        write lock — only for keys the rescan took up or a failing database left unsure."""
        if key not in self._unsure:
            return False
        async with self.db.read() as session:
            if await InboxRepo(session).next_for_key(key) is not None:
                return True
        self._unsure.discard(key)
        return False

    async def _apply(self, held: Held) -> None:
        """Conversation state kept outside the database is written once the update committed."""
        storage = self.dp.fsm.storage
        if not held.writes or not isinstance(storage, AfterCommit):
            return
        try:
            await storage.apply(held)
        except Exception:  # done and answered; only the conversation's next step is lost
            log.exception("the conversation state could not be saved")

    async def _unreadable(self, item: InboxItem, exc: Exception) -> None:
        """Parked at once, so that the chat's later updates are not held up behind it."""
        log.error("update %s cannot be read, parked: %s", item.update_id, exc)
        UPDATES.labels(outcome="parked").inc()
        async with self.db.session() as session:
            await InboxRepo(session).record_failure(
                item.update_id, f"unreadable: {exc}", park=True, now=self.clock.now()
            )

    async def _failed(self, item: InboxItem, update: Update, exc: Exception) -> None:
        """A handler raised: everything it wrote is rolled back. Count the attempt; after the last
        one the update is parked as failed and its sender told."""
        attempts = item.attempts + 1
        park = attempts >= MAX_ATTEMPTS
        UPDATES.labels(outcome="parked" if park else "failed").inc()
        log.exception("update %s failed (attempt %s)", item.update_id, attempts, exc_info=exc)
        async with self.db.session() as session:
            await InboxRepo(session).record_failure(
                item.update_id, f"{type(exc).__name__}: {exc}", park=park, now=self.clock.now()
            )
            if park:
                await self.on_failure(
                    update, session, Outbox(session, self.clock, cause=item.update_id)
                )
        if not park:
            self._parsed.setdefault(item.key, {})[item.update_id] = update
            await asyncio.sleep(0.2 * attempts)
