"""The one sender that drains the outbox at Telegram's pace.

Limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about 30
messages a second overall, one a second in a private chat, 20 a minute in a group. A 429 carries
`retry_after`, obeyed for that chat; 5xx and network errors back off with jitter; a chat that blocked
or removed the bot is marked inactive and its message parked with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, Message, MessageId

from bot.clock import Clock
from bot.config import OutboxConfig
from bot.delivery.outbox import ANSWER_CALLBACK, STORED_FILE, Priority
from bot.delivery.session import PinnedSession
from bot.monitoring import RATE_LIMITED, SENDS
from storage.chats import ChatRepo
from storage.db import Database
from storage.files import FileRepo
from storage.outbox import OutboxItem, OutboxRepo

log = logging.getLogger(__name__)


class SendMessageForId(SendMessage):
    """sendMessage, of whose answer the sender keeps only the message's id: Telegram echoes the
    whole message (its chat, sender, text entities, keyboard), and reading all of it through
    pydantic's models was a quarter of a send's CPU. The rest of the answer is kept unread."""

    __returning__ = MessageId  # type: ignore[assignment]  # what is read of the answer


class EditMessageTextForId(EditMessageText):
    """editMessageText, reading only the message's id of the answer (see SendMessageForId)."""

    __returning__ = MessageId | bool


class EditMessageReplyMarkupForId(EditMessageReplyMarkup):
    """editMessageReplyMarkup, reading only the message's id of the answer."""

    __returning__ = MessageId | bool


METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessageForId,
    "editMessageText": EditMessageTextForId,
    "editMessageReplyMarkup": EditMessageReplyMarkupForId,
    "answerCallbackQuery": AnswerCallbackQuery,
    "sendPhoto": SendPhoto,
    "sendDocument": SendDocument,
}
HARMLESS = ("message is not modified", "query is too old", "query id is invalid")
MAX_BACKOFF = 30.0
CONCURRENCY = 8
TELEGRAM_PER_SECOND = 30.0
GLOBAL_BURST = 5.0

OnChatGone = Callable[[int], Awaitable[None]]


def global_burst(rate: float) -> float:
    """How many messages the overall token bucket lets go at once.

    Below Telegram's 30 a second, the burst never takes a second's total above 30 (so a lone
    reply need not wait 1/rate behind the last message). A rate above it (paid broadcasts, a local
    Bot API server, a benchmark) bursts a twentieth of a second's worth: with a burst of one, each
    message would wait for a turn of the event loop, and the loop's turns, not the rate, would
    set the pace.
    """
    if rate < TELEGRAM_PER_SECOND:
        return max(1.0, min(GLOBAL_BURST, TELEGRAM_PER_SECOND - rate))
    return max(GLOBAL_BURST, rate / 20)


class Pacer:
    """Telegram's limits, tracked in real (monotonic) time, per chat and overall.

    A private chat is a token bucket: one message a second on average, with the short bursts
    Telegram tolerates ("short bursts that go over this limit are allowed"); a group allows at most
    `group_per_minute` in any sliding minute; overall, at most `global_rate` a second.
    """

    def __init__(
        self, config: OutboxConfig, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.monotonic = monotonic
        self.buckets: dict[int, tuple[float, float]] = {}  # chat → (tokens, when counted)
        self.held: dict[int, float] = {}  # chat → not before (a 429's retry_after)
        self.group_sends: dict[int, deque[float]] = {}
        self.burst = global_burst(config.global_rate)
        self.global_tokens = (self.burst, monotonic())
        self.all_held_until = 0.0

    def _tokens(self, chat_id: int, now: float) -> float:
        tokens, then = self.buckets.get(chat_id, (float(self.config.private_burst), now))
        rate = 1.0 / self.config.private_chat_interval if self.config.private_chat_interval else 1e9
        return min(float(self.config.private_burst), tokens + (now - then) * rate)

    def wait_for(self, chat_id: int, *, reply: bool = False) -> float:
        """Seconds before this chat may receive another message (0 when it may now).

        A reply in a private chat answers the person's own message, so its pace is theirs: it is
        held only by a 429, not by the bucket (it still counts in it, so alerts and broadcasts to
        that chat wait their turn). Telegram's one-a-second guidance is about sending in bulk.
        """
        now = self.monotonic()
        wait = max(0.0, self.held.get(chat_id, 0.0) - now)
        if reply and chat_id > 0:
            return wait
        if chat_id > 0:
            missing = 1.0 - self._tokens(chat_id, now)
            if missing > 0:
                wait = max(wait, missing * self.config.private_chat_interval)
        else:
            sends = self.group_sends.get(chat_id)
            if sends and len(sends) >= self.config.group_per_minute:
                wait = max(wait, sends[0] + 60.0 - now)
        return wait

    def _global_tokens(self, now: float) -> float:
        tokens, then = self.global_tokens
        return min(self.burst, tokens + (now - then) * self.config.global_rate)

    def global_wait(self) -> float:
        """Seconds before any chat may receive another message."""
        now = self.monotonic()
        wait = max(0.0, self.all_held_until - now)
        missing = 1.0 - self._global_tokens(now)
        return max(wait, missing / self.config.global_rate) if missing > 0 else wait

    def record(self, chat_id: int) -> None:
        now = self.monotonic()
        self.global_tokens = (self._global_tokens(now) - 1.0, now)
        if chat_id > 0:
            self.buckets[chat_id] = (self._tokens(chat_id, now) - 1.0, now)
        else:
            sends = self.group_sends.setdefault(chat_id, deque())
            sends.append(now)
            while sends and sends[0] <= now - 60.0:
                sends.popleft()

    def hold(self, chat_id: int, seconds: float) -> None:
        self.held[chat_id] = max(self.held.get(chat_id, 0.0), self.monotonic() + seconds)

    def hold_all(self, seconds: float) -> None:
        self.all_held_until = max(self.all_held_until, self.monotonic() + seconds)


class Marks:
    """Messages Telegram took, recorded together: every answer that arrives while a loop's turn
    runs, or while the last batch is written, goes into one write transaction (one commit, not
    one a message). Each sender still waits for its own record, so a pass ends with its messages
    recorded; a kill before the record re-sends at most the messages then in flight (CONCURRENCY),
    as before."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._waiting: list[tuple[int, int | None, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, item_id: int, message_id: int | None) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((item_id, message_id, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:  # the record is still written, with the batch
            done.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise

    async def _write(self) -> None:
        try:
            # One turn of the loop first: the answers that arrived with this one are read in it.
            await asyncio.sleep(0)
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    async with self.db.session() as session:
                        await OutboxRepo(session).mark_all_sent(
                            [(item_id, message_id) for item_id, message_id, _ in batch],
                            self.clock.now(),
                        )
                except Exception as exc:  # each sender raises it (the pass logs it)
                    for *_, done in batch:
                        done.set_exception(exc)
                else:
                    for *_, done in batch:
                        done.set_result(None)
        finally:
            self._writer = None


class OutboxSender:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock,
        config: OutboxConfig,
    ) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.pacer = Pacer(config)
        self._wake = asyncio.Event()
        self._busy: set[int] = set()
        self._marks = Marks(db, clock)
        self.sent = 0

    def wake(self) -> None:
        """New rows were committed: look at once."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, leading: asyncio.Event | None = None) -> None:
        """Send while this process leads (storage/leader.py: one sender per bot, so one pacer
        sees every message); otherwise wait to lead. No `leading`: always."""
        if leading is None:
            leading = asyncio.Event()
            leading.set()
        led = False
        while not stop.is_set():
            if not leading.is_set():
                led = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(leading.wait(), timeout=1.0)
                continue
            # Cleared before the pass, never after: a row committed while the pass runs sets it
            # again, and the wait below returns at once instead of sleeping out the timer.
            self._wake.clear()
            try:
                if not led:
                    await self._take_over()
                    led = True
                idle = await self.pass_once()
            except Exception:  # the database or the network failing must not end the sender
                log.exception("outbox pass failed")
                idle = 1.0
            if idle > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(idle, 1.0))

    async def _take_over(self) -> None:
        """Broadcasts the last sender was sending when it died are recorded, not sent again."""
        async with self.db.session() as session:
            lost = await OutboxRepo(session).interrupted(self.clock.now())
        if lost:
            log.warning(
                "%s broadcasts were being sent when the last sender died; not repeated", lost
            )

    async def flush(self, timeout: float) -> int:
        """Send what can be sent within a bounded time (shutdown); returns how many remain."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            idle = await self.pass_once()
            if idle > 0:
                async with self.db.glance() as session:
                    if not await OutboxRepo(session).due(self.clock.now(), 1):
                        break
                await asyncio.sleep(min(idle, max(0.0, deadline - time.monotonic()), 0.2))
        async with self.db.read() as session:
            return await OutboxRepo(session).pending_count()

    async def pass_once(self) -> float:
        """Send every due message whose chat is ready; returns seconds to idle (0: more work now)."""
        async with self.db.glance() as session:
            items = await OutboxRepo(session).due(self.clock.now(), 500)
        if not items:
            return 1.0
        blocked: set[int] = set()
        tasks: list[asyncio.Task[None]] = []
        semaphore = asyncio.Semaphore(CONCURRENCY)
        soonest = 1.0
        # A pass sends about a second's worth, then the next one reads what is due afresh: a
        # chat sends one message a pass (its order kept), so a long pass behind a backlog would
        # hold a burst of alerts to one secretary to one every few seconds.
        budget = max(1, math.ceil(self.pacer.config.global_rate))
        for item in items:
            if len(tasks) >= budget:
                break
            paced = item.method != ANSWER_CALLBACK
            if item.chat_id in blocked or (paced and item.chat_id in self._busy):
                continue
            reply = item.priority == Priority.REPLY
            wait = self.pacer.wait_for(item.chat_id, reply=reply) if paced else 0.0
            if wait > 0:
                blocked.add(item.chat_id)  # keep a chat's messages in order
                soonest = min(soonest, wait)
                continue
            if paced:
                blocked.add(item.chat_id)
                global_wait = self.pacer.global_wait()
                if global_wait > 0:
                    await asyncio.sleep(global_wait)
                self.pacer.record(item.chat_id)
                self._busy.add(item.chat_id)
            await semaphore.acquire()
            tasks.append(asyncio.create_task(self._deliver(item, semaphore)))
        if tasks:
            await asyncio.gather(*tasks)
            return 0.0
        return soonest

    async def _deliver(self, item: OutboxItem, semaphore: asyncio.Semaphore) -> None:
        try:
            await self._send(item)
        finally:
            self._busy.discard(item.chat_id)
            semaphore.release()

    async def _send(self, item: OutboxItem) -> None:
        if item.priority == Priority.BROADCAST:
            # Reminders and notices go at most once: claimed before the request, so a kill
            # between Telegram's answer and the record below cannot send them again.
            async with self.db.session() as session:
                if not await OutboxRepo(session).claim(item.id):
                    return
        method_type = METHODS.get(item.method)
        if method_type is None:
            await self._park(item, f"unknown method {item.method}")
            return
        params = json.loads(item.payload)
        if "chat_id" in params:
            params["chat_id"] = item.chat_id  # the row's chat follows a supergroup migration
        if item.ref_id is not None:
            method_type = await self._resolve_ref(item, params)
            if method_type is None:
                return
        for key in ("document", "photo"):  # a file the bot made (an export, a chart)
            ref = params.get(key)
            if isinstance(ref, str) and ref.startswith(STORED_FILE):
                async with self.db.read() as session:
                    stored = await FileRepo(session).get(int(ref.removeprefix(STORED_FILE)))
                if stored is None:
                    await self._park(item, f"file {ref} is gone")
                    return
                params[key] = BufferedInputFile(stored[1], filename=stored[0])
        try:
            try:
                result = await self._call(method_type, params)
            except TelegramBadRequest as exc:
                if item.ref_id is None or any(h in exc.message.lower() for h in HARMLESS):
                    raise
                # The card to edit is gone (deleted, or the group migrated): send it anew.
                params.pop("message_id", None)
                result = await self._call(SendMessageForId, params)
        except TelegramRetryAfter as exc:
            RATE_LIMITED.inc()
            # A 429 about a chat holds that chat; one about no chat (answerCallbackQuery) holds all.
            if "chat_id" in params:
                self.pacer.hold(item.chat_id, exc.retry_after)
            else:
                self.pacer.hold_all(exc.retry_after)
            await self._later(item, exc.retry_after, f"429 retry_after={exc.retry_after}")
        except TelegramMigrateToChat as exc:
            await self._migrate(item, exc.migrate_to_chat_id)
        except TelegramForbiddenError as exc:
            await self._chat_gone(item, exc.message)
        except TelegramBadRequest as exc:
            if any(h in exc.message.lower() for h in HARMLESS):
                await self._done(item, None)
            else:
                await self._park(item, exc.message)
        except TelegramUnauthorizedError as exc:
            await self._later(item, MAX_BACKOFF, exc.message)
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError, TimeoutError) as exc:
            # ClientDecodeError: a proxy in front of the Bot API answered with an HTML error page.
            backoff = min(MAX_BACKOFF, 2.0 ** min(item.attempts, 6)) * random.uniform(0.5, 1.0)
            await self._later(item, backoff, f"{type(exc).__name__}: {exc}")
        except TelegramAPIError as exc:
            await self._park(item, exc.message)
        else:
            message_id = result.message_id if isinstance(result, MessageId | Message) else None
            await self._done(item, message_id)

    async def _call(self, method: type[TelegramMethod[Any]], params: dict[str, Any]) -> Any:
        """Telegram's answer to the row's call: its JSON posted as it is (bot/delivery/session.py),
        or, with a file to upload, through aiogram's method and form."""
        session = getattr(self.bot, "session", None)
        files = any(isinstance(value, BufferedInputFile) for value in params.values())
        if isinstance(session, PinnedSession) and not files:
            return await session.post_json(self.bot, method, params)
        return await self.bot(method(**params))

    async def _resolve_ref(
        self, item: OutboxItem, params: dict[str, Any]
    ) -> type[TelegramMethod[Any]] | None:
        """An edit of a card: fill in the card's message id, wait for it, or send anew."""
        async with self.db.glance() as session:
            ref = await OutboxRepo(session).sent_ref(item.ref_id or 0)
        if ref is not None and ref.status == "pending":
            await self._later(item, 1.0, f"waiting for outbox {item.ref_id}")
            return None
        if ref is None or ref.message_id is None:
            return SendMessageForId
        params["message_id"] = ref.message_id
        return EditMessageTextForId

    async def _done(self, item: OutboxItem, message_id: int | None) -> None:
        await self._marks.record(item.id, message_id)
        self.sent += 1
        SENDS.labels(result="sent").inc()

    async def _later(self, item: OutboxItem, seconds: float, error: str) -> None:
        when = self.clock.now() + timedelta(seconds=seconds)
        SENDS.labels(result="retry").inc()
        async with self.db.session() as session:
            await OutboxRepo(session).retry_later(item.id, when, error)

    async def _park(self, item: OutboxItem, error: str) -> None:
        log.warning("outbox %s to %s parked: %s", item.id, item.chat_id, error)
        SENDS.labels(result="parked").inc()
        async with self.db.session() as session:
            await OutboxRepo(session).park(item.id, error, self.clock.now())

    async def _chat_gone(self, item: OutboxItem, error: str) -> None:
        SENDS.labels(result="parked").inc()
        async with self.db.session() as session:
            await OutboxRepo(session).park(item.id, error, self.clock.now())
            await ChatRepo(session).set_active(item.chat_id, False, self.clock.now())

    async def _migrate(self, item: OutboxItem, new_chat_id: int) -> None:
        """The group became a supergroup: it, and everything waiting for it (this message too,
        even a claimed broadcast: Telegram refused it, so it was not delivered), move along."""
        async with self.db.session() as session:
            outbox = OutboxRepo(session)
            await ChatRepo(session).migrate(item.chat_id, new_chat_id, self.clock.now())
            await outbox.retry_later(item.id, self.clock.now(), "group migrated")
            await outbox.move_chat(item.chat_id, new_chat_id)
