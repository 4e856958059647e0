"""The sandbox Bot API server (aiohttp) and its test API.

Bot API side: the methods the bot uses, answering in Telegram's formats and with Telegram's errors
(https://core.telegram.org/bots/api#making-requests). Updates wait for getUpdates or, while a
webhook is set, are posted to it as Telegram posts them (`WebhookDelivery`). Test side (`/test/...`,
JSON): inject what people do (messages, button taps, locations, photos, joining groups, supergroup
migrations), read and wait for what the bot did, and inject faults (429 with retry_after, 5xx, an
outage).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import (
    BodyPartReader,
    ClientConnectorError,
    ClientError,
    ClientSession,
    ClientTimeout,
    web,
)

from bot.sandbox.html_check import EntityError, plain_text

log = logging.getLogger(__name__)

JSON = dict[str, Any]
DEMO_PAGE = Path(__file__).parent / "demo.html"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# What an inline button does: exactly one of these (Bot API, InlineKeyboardButton).
INLINE_BUTTON_KINDS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Sent only when allowed_updates names them (https://core.telegram.org/bots/api#getupdates).
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


# Answers that mean the request itself was malformed (Telegram would never deliver it), as opposed
# to ones about the moment (a message already deleted, not modified, a chat gone).
MALFORMED = (
    "Bad Request: can't parse",
    "Bad Request: BUTTON_DATA_INVALID",
    "Bad Request: text buttons are unallowed",
    "Bad Request: message is too long",
    "Bad Request: message caption is too long",
    "Bad Request: message text is empty",
)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Fault:
    """An injected failure: the next `count` matching calls fail this way."""

    method: str  # a method name, or "*"
    error_code: int
    count: int
    retry_after: int | None = None
    chat_id: int | None = None

    def matches(self, method: str, params: JSON) -> bool:
        if self.count <= 0 or self.method not in ("*", method):
            return False
        return self.chat_id is None or _as_int(params.get("chat_id")) == self.chat_id


@dataclass
class Limits:
    """Telegram's limits, enforced when on: 429 with retry_after when the bot sends too fast."""

    enforce: bool = False
    global_per_second: float = 30.0
    private_interval: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    slack: float = 0.05  # network jitter the real service tolerates as well
    # Each message a person sends in a private chat may be answered: it adds this many messages
    # to the chat's allowance (a conversation goes at the person's pace; the one-a-second limit
    # is about what a bot sends on its own).
    replies_per_update: int = 3


@dataclass
class WebhookTiming:
    """How long webhook delivery waits for an answer and between tries. Telegram retries for hours
    with pauses of up to a minute; the sandbox's pauses are shorter so that tests stay quick."""

    timeout: float = 10.0  # no answer by then is a failure
    first_pause: float = 0.2
    factor: float = 2.0
    max_pause: float = 5.0

    def pause_after(self, previous: float | None) -> float:
        """The pause before the next try, given the pause before this one (None: first failure)."""
        if previous is None:
            return self.first_pause
        return min(previous * self.factor, self.max_pause)


@dataclass
class SandboxState:
    token: str
    bot_id: int
    bot_username: str = "lastmeter_bot"
    clock_advance: Callable[[float], Awaitable[float]] | None = None
    clock_offset: Callable[[], float] | None = None  # seconds the shared clock is ahead
    demo: JSON | None = None
    update_seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    event_seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    updates: list[JSON] = field(default_factory=list)
    updates_changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    polled: asyncio.Event = field(default_factory=asyncio.Event)  # getUpdates was called
    events: list[JSON] = field(default_factory=list)
    events_changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    chats: dict[int, JSON] = field(default_factory=dict)
    messages: dict[int, dict[int, JSON]] = field(default_factory=dict)
    next_message_id: dict[int, int] = field(default_factory=dict)
    migrated: dict[int, int] = field(default_factory=dict)
    callbacks: dict[str, JSON | None] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    commands: dict[str, list[JSON]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    # The keyboard under each chat's input field (rows of labels), as the person's app keeps it
    # across the bot's restarts: set by a reply keyboard, taken away by remove_keyboard.
    keyboards: dict[int, list[list[str]]] = field(default_factory=dict)
    bot_status: dict[int, str] = field(default_factory=dict)
    webhook: JSON = field(default_factory=lambda: {"url": ""})
    webhook_timing: WebhookTiming = field(default_factory=WebhookTiming)
    webhook_log: list[tuple[int, int | str]] = field(default_factory=list)  # (update_id, outcome)
    faults: list[Fault] = field(default_factory=list)
    outage_until: float = 0.0
    limits: Limits = field(default_factory=Limits)
    chat_sends: dict[int, list[float]] = field(default_factory=dict)
    buckets: dict[int, tuple[float, float]] = field(default_factory=dict)
    retry_until: dict[int, float] = field(default_factory=dict)
    global_sends: list[float] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    violations: list[JSON] = field(default_factory=list)
    refused: list[JSON] = field(default_factory=list)  # malformed requests (see MALFORMED)
    # As a Bot API server that does not filter by allowed_updates would: the bot gets update
    # types it did not ask for (and perhaps does not know).
    ignore_allowed_updates: bool = False

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "最后一米",
            "username": self.bot_username,
        }

    def count(self, name: str) -> None:
        self.stats[name] = self.stats.get(name, 0) + 1

    # --- across restarts (the demo) ------------------------------------------------------------

    def number_updates_after(self, update_id: int) -> None:
        """Number the next updates above update_id, as Telegram's ids keep growing: a bot that
        stored an update never takes a new one for it."""
        self.update_seq = itertools.count(max(_peek(self), update_id + 1))

    def snapshot(self) -> JSON:
        """What Telegram keeps while the bot is away, as JSON: chats, their messages and files, the
        updates not yet confirmed, the numbering, the bot's commands, and the events (the page's
        history)."""
        return {
            "next_update_id": _peek(self),
            "next_event_seq": _peek(self, "event_seq"),
            "updates": self.updates,
            "events": self.events,
            "chats": list(self.chats.values()),
            "messages": [m for chat in self.messages.values() for m in chat.values()],
            "next_message_id": [[k, v] for k, v in self.next_message_id.items()],
            "migrated": [[k, v] for k, v in self.migrated.items()],
            "files": {k: [base64.b64encode(d).decode(), n] for k, (d, n) in self.files.items()},
            "commands": self.commands,
            "blocked": sorted(self.blocked),
            "bot_status": [[k, v] for k, v in self.bot_status.items()],
        }

    def restore(self, saved: JSON) -> None:
        """Take back a snapshot() (over a fresh state)."""
        self.update_seq = itertools.count(int(saved["next_update_id"]))
        self.event_seq = itertools.count(int(saved["next_event_seq"]))
        self.updates = list(saved["updates"])
        self.events = list(saved["events"])
        self.chats = {int(chat["id"]): chat for chat in saved["chats"]}
        for message in saved["messages"]:
            chat = self.chats.setdefault(int(message["chat"]["id"]), message["chat"])
            message["chat"] = chat
            self.messages.setdefault(int(chat["id"]), {})[int(message["message_id"])] = message
        self.next_message_id = {int(k): int(v) for k, v in saved["next_message_id"]}
        self.migrated = {int(k): int(v) for k, v in saved["migrated"]}
        self.files = {k: (base64.b64decode(d), str(n)) for k, (d, n) in saved["files"].items()}
        self.commands = dict(saved["commands"])
        self.blocked = {int(k) for k in saved["blocked"]}
        self.bot_status = {int(k): str(v) for k, v in saved["bot_status"]}

    # --- people's side ---------------------------------------------------------------------

    async def push_update(self, update: JSON) -> int:
        update_id = int(next(self.update_seq))
        update["update_id"] = update_id
        chat_id = update_chat(update)
        if chat_id is not None and chat_id > 0:
            self.answerable(chat_id)
        async with self.updates_changed:
            self.updates.append(update)
            self.updates_changed.notify_all()
        return update_id

    async def record(self, kind: str, chat_id: int, message: JSON | None, **extra: Any) -> JSON:
        event = {"seq": next(self.event_seq), "type": kind, "chat_id": chat_id, **extra}
        if message is not None:
            event["message"] = message
        async with self.events_changed:
            self.events.append(event)
            self.events_changed.notify_all()
        return event

    def chat_for(self, user: JSON, chat: JSON | None) -> JSON:
        if chat is None:
            chat = {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}
            if user.get("username"):
                chat["username"] = user["username"]
        known = self.chats.setdefault(int(chat["id"]), dict(chat))
        known.update(chat)
        return known

    def new_message(self, chat: JSON, sender: JSON, **content: Any) -> JSON:
        chat_id = int(chat["id"])
        message_id = self.next_message_id.get(chat_id, 0) + 1
        self.next_message_id[chat_id] = message_id
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            **content,
        }
        self.messages.setdefault(chat_id, {})[message_id] = message
        return message

    # --- limits and faults ---------------------------------------------------------------------

    def check_faults(self, method: str, params: JSON) -> None:
        for fault in self.faults:
            if fault.matches(method, params):
                fault.count -= 1
                self.count(f"fault_{fault.error_code}")
                if fault.error_code == 429:
                    retry = fault.retry_after or 1
                    self.hold(_as_int(params.get("chat_id")), retry)
                    raise ApiError(
                        429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                    )
                if fault.error_code >= 500:
                    raise ApiError(fault.error_code, "Bad Gateway")
                raise ApiError(fault.error_code, "Injected error")
        self.faults = [f for f in self.faults if f.count > 0]

    def hold(self, chat_id: int | None, seconds: float) -> None:
        """Remember a 429's retry_after: sending to that chat before it ends is a violation."""
        if chat_id is not None:
            self.retry_until[chat_id] = time.monotonic() + seconds

    def _private_tokens(self, chat_id: int, now: float) -> float:
        """A private chat's bucket now: `private_burst` messages at once, refilled at one per
        `private_interval`; an allowance for answers may stand above the burst."""
        limits = self.limits
        tokens, then = self.buckets.get(chat_id, (float(limits.private_burst), now))
        refilled = tokens + (now - then) / limits.private_interval
        return max(tokens, min(float(limits.private_burst), refilled))

    def answerable(self, chat_id: int) -> None:
        """The person wrote in their private chat: the bot may answer (limits.replies_per_update)."""
        limits, now = self.limits, time.monotonic()
        tokens = max(self._private_tokens(chat_id, now), 0.0) + limits.replies_per_update
        most = float(limits.private_burst + limits.replies_per_update)
        self.buckets[chat_id] = (min(most, tokens), now)

    def check_limits(self, chat_id: int) -> None:
        """Count a message to chat_id; answer 429 when it breaks Telegram's limits."""
        now = time.monotonic()
        limits = self.limits
        retry: float | None = None
        if chat_id > 0:
            tokens = self._private_tokens(chat_id, now)
            if tokens < 1.0 - limits.slack:
                retry = (1.0 - tokens) * limits.private_interval
            else:
                self.buckets[chat_id] = (tokens - 1.0, now)
        else:
            sends = [t for t in self.chat_sends.get(chat_id, []) if now - t < 60.0]
            if len(sends) >= limits.group_per_minute:
                retry = 60.0 - (now - sends[0])
            else:
                self.chat_sends[chat_id] = [*sends, now]
        window = [t for t in self.global_sends if now - t < 1.0]
        if len(window) >= limits.global_per_second * (1 + limits.slack):
            retry = max(retry or 0.0, 1.0 - (now - window[0]))
        early = self.retry_until.get(chat_id, 0.0) - now
        if early > limits.slack:  # sent before the retry_after of an earlier 429 ran out
            self.violations.append({"chat_id": chat_id, "at": now, "early_by": early})
        if retry is not None:
            self.violations.append({"chat_id": chat_id, "at": now, "limit": True})
            if limits.enforce:
                self.count("limit_429")
                seconds = max(1, int(retry + 0.999))
                self.hold(chat_id, seconds)
                raise ApiError(
                    429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
                )
        self.global_sends = [*window, now]


def _peek(state: SandboxState, counter: str = "update_seq") -> int:
    """The number a state's counter gives next, leaving it to give it still."""
    upcoming = int(next(getattr(state, counter)))
    setattr(state, counter, itertools.count(upcoming))
    return upcoming


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def update_type(update: JSON) -> str:
    """An update's kind ("message", "callback_query", …): its one field besides update_id."""
    return next((key for key in update if key != "update_id"), "")


def update_chat(update: JSON) -> int | None:
    """The chat an update belongs to: its own chat (a message, the bot joining a group), the chat
    of the message under a tapped button, else the person who caused it."""
    body = update.get(update_type(update))
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    chat = body.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
    if isinstance(chat, dict) and "id" in chat:
        return int(chat["id"])
    sender = body.get("from")
    if isinstance(sender, dict) and "id" in sender:
        return int(sender["id"])
    return None


def _wanted(update: JSON, allowed: list[str] | None) -> bool:
    """Whether a webhook registered with `allowed` gets this update (Telegram drops the rest)."""
    kind = update_type(update)
    return kind in allowed if allowed else kind not in OPT_IN_UPDATES


def _no_answer(exc: ClientError) -> str:
    """last_error_message for a request that got no HTTP answer (in Telegram's words if known)."""
    if isinstance(exc, ClientConnectorError) and isinstance(exc.os_error, ConnectionRefusedError):
        return "Connection refused"
    return f"Connection failed: {exc}"


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("the sandbox stopped delivering webhook updates", exc_info=exc)


class WebhookDelivery:
    """Posts pending updates to the webhook, as Telegram does
    (https://core.telegram.org/bots/api#setwebhook).

    An update is delivered, and leaves `state.updates`, only when the webhook answers 2xx; any other
    answer, a refused connection or no answer in time is retried after a growing pause, never
    dropped. A chat's next update waits until its previous one was acknowledged; different chats
    go in parallel, at most `max_connections` requests at once.
    """

    def __init__(self, state: SandboxState) -> None:
        self.s = state
        self._task: asyncio.Task[None] | None = None
        self._http: ClientSession | None = None
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._retry: dict[int, tuple[float, float]] = {}  # update_id → (last pause, due at)

    def start(self) -> None:
        """Start delivering, in the running loop; later calls do nothing."""
        if self._task is None:
            self._http = ClientSession()
            self._task = asyncio.create_task(self._deliver(), name="sandbox-webhook-delivery")
            self._task.add_done_callback(_report_crash)

    async def switched(self) -> None:
        """The webhook was set, changed or deleted: what waits is due at once, at its address."""
        self._retry.clear()
        async with self.s.updates_changed:
            self.s.updates_changed.notify_all()

    async def close(self) -> None:
        """Stop the loop and the requests under way (their updates stay pending)."""
        tasks = [*self._in_flight.values(), *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    async def _deliver(self) -> None:
        changed = self.s.updates_changed
        async with changed:
            while True:
                wait = self._send_due()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):  # None: until an update or an answer comes
                        await changed.wait()

    def _send_due(self) -> float | None:
        """Start a request for each chat's oldest update if it is due; returns the seconds until
        the next retry is due, or None when only news can make more work."""
        hook = self.s.webhook
        if not hook.get("url"):
            return None
        allowed = hook.get("allowed_updates")
        self.s.updates = [
            u for u in self.s.updates if u["update_id"] in self._in_flight or _wanted(u, allowed)
        ]
        now = time.monotonic()
        next_due: float | None = None
        chats_waiting: set[int | None] = set()  # their oldest update is in flight or pausing
        for update in self.s.updates:
            if len(self._in_flight) >= hook.get("max_connections", 40):
                break  # an answer wakes the loop again
            chat = update_chat(update)
            if chat in chats_waiting:
                continue
            chats_waiting.add(chat)
            update_id = int(update["update_id"])
            if update_id in self._in_flight:
                continue
            due = self._retry.get(update_id, (0.0, now))[1]
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            self._in_flight[update_id] = asyncio.create_task(self._post(hook, update))
        return None if next_due is None else next_due - now

    async def _post(self, hook: JSON, update: JSON) -> None:
        """One try at one update; the outcome goes to the log, the stats and the retry plan."""
        assert self._http is not None
        update_id = int(update["update_id"])
        secret = hook.get("secret_token")
        headers = {SECRET_HEADER: str(secret)} if secret else {}
        timeout = ClientTimeout(total=self.s.webhook_timing.timeout)
        outcome: int | str
        error: str | None = None
        self.s.count("webhook_sent")
        try:
            async with self._http.post(
                hook["url"], json=update, headers=headers, timeout=timeout
            ) as response:
                outcome = response.status
                if not 200 <= response.status < 300:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            outcome = error = "Read timeout expired"
        except ClientError as exc:
            outcome = error = _no_answer(exc)
        self.s.webhook_log.append((update_id, outcome))
        async with self.s.updates_changed:
            del self._in_flight[update_id]
            if error is None:
                self.s.count("webhook_ok")
                self._retry.pop(update_id, None)
                self.s.updates = [u for u in self.s.updates if u["update_id"] != update_id]
            else:
                self.s.count("webhook_failed")
                pause = self.s.webhook_timing.pause_after(self._retry.get(update_id, (None,))[0])
                self._retry[update_id] = (pause, time.monotonic() + pause)
                if self.s.webhook is hook:  # not an old address's failure after a switch
                    hook.update(last_error_date=int(time.time()), last_error_message=error)
            self.s.updates_changed.notify_all()


INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "from_chat_id", "cache_time"}


async def _params(request: web.Request) -> tuple[JSON, dict[str, tuple[bytes, str]]]:
    """Bot API parameters from a query string, JSON body, urlencoded or multipart form."""
    params: JSON = dict(request.query)
    uploads: dict[str, tuple[bytes, str]] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename:
                uploads[part.name] = (await part.read(), part.filename)
            else:
                params[part.name] = await part.text()
    elif request.can_read_body:
        params.update(await request.post())
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
        if key in INT_PARAMS and isinstance(value, str) and _as_int(value) is not None:
            params[key] = int(value)
    return params, uploads


def _markup(params: JSON) -> JSON | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            _check_inline_button(button)
    return markup


def _check_inline_button(button: JSON) -> None:
    """https://core.telegram.org/bots/api#inlinekeyboardbutton: a text and exactly one of the
    optional fields (a button with none is a "text button", which only a reply keyboard has);
    callback_data of 1-64 bytes."""
    if not button.get("text"):
        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
    if not any(button.get(kind) is not None for kind in INLINE_BUTTON_KINDS):
        raise ApiError(
            400,
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        )
    data = button.get("callback_data")
    if data is None:
        return
    if not isinstance(data, str):
        raise ApiError(
            400,
            'Bad Request: can\'t parse inline keyboard button: Field "callback_data" must be of '
            "type String",
        )
    if not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


class BotApi:
    """The Bot API methods."""

    def __init__(self, state: SandboxState, delivery: WebhookDelivery) -> None:
        self.s = state
        self.delivery = delivery

    def _chat(self, params: JSON, *, sending: bool) -> JSON:
        chat_id = _as_int(params.get("chat_id"))
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self.s.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.s.migrated[chat_id]},
            )
        chat = self.s.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if sending and chat_id in self.s.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if sending and chat_id < 0 and self.s.bot_status.get(chat_id) in ("kicked", "left"):
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        return chat

    def _text(self, params: JSON, key: str = "text", limit: int = MAX_TEXT) -> tuple[str, str]:
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        try:
            plain = plain_text(raw, params.get("parse_mode"))
        except EntityError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if key == "text" and not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long"
                if key == "text"
                else "Bad Request: message caption is too long",
            )
        return plain, raw

    async def call(self, method: str, params: JSON, uploads: dict[str, tuple[bytes, str]]) -> Any:
        handler = getattr(self, f"m_{method.lower()}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(params, uploads)

    async def m_getme(self, params: JSON, uploads: Any) -> JSON:
        return {
            **self.s.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def m_getupdates(self, params: JSON, uploads: Any) -> list[JSON]:
        if self.s.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self.s.polled.set()
        offset = _as_int(params.get("offset")) or 0
        limit = min(max(_as_int(params.get("limit")) or 100, 1), 100)
        timeout = min(max(_as_int(params.get("timeout")) or 0, 0), 50)
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        async with self.s.updates_changed:
            if offset > 0:  # confirms every update before it
                self.s.updates = [u for u in self.s.updates if u["update_id"] >= offset]
            elif offset < 0:  # the last -offset updates; the ones before them are forgotten
                self.s.updates = self.s.updates[offset:]
            while not self.s.updates and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.s.updates_changed.wait(), timeout=deadline - time.monotonic()
                    )
            batch = self.s.updates[:limit]
        if allowed and not self.s.ignore_allowed_updates:
            batch = [u for u in batch if any(k in u for k in allowed)]
        return batch

    async def m_setwebhook(self, params: JSON, uploads: Any) -> bool:
        url = str(params.get("url") or "")  # an empty url removes the webhook
        if url and not url.startswith(("https://", "http://")):
            # Telegram wants https; the sandbox also takes http, for tests on loopback.
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        self.s.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": min(max(_as_int(params.get("max_connections")) or 40, 1), 100),
        }
        if _bool(params.get("drop_pending_updates")):
            self.s.updates.clear()
        if url:
            self.delivery.start()
        await self.delivery.switched()
        return True

    async def m_deletewebhook(self, params: JSON, uploads: Any) -> bool:
        self.s.webhook = {"url": ""}
        if _bool(params.get("drop_pending_updates")):
            self.s.updates.clear()
        await self.delivery.switched()
        return True

    async def m_getwebhookinfo(self, params: JSON, uploads: Any) -> JSON:
        hook = self.s.webhook
        info: JSON = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.s.updates),
        }
        if hook.get("url"):
            info["max_connections"] = hook.get("max_connections", 40)
            if hook.get("allowed_updates"):
                info["allowed_updates"] = hook["allowed_updates"]
        for key in ("last_error_date", "last_error_message"):
            if key in hook:
                info[key] = hook[key]
        return info

    async def m_setmycommands(self, params: JSON, uploads: Any) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        scope = params.get("scope") or {"type": "default"}
        key = f"{scope.get('type')}:{params.get('language_code') or ''}"
        self.s.commands[key] = commands
        await self.s.record("commands", 0, None, key=key, commands=commands)
        return True

    async def m_getmycommands(self, params: JSON, uploads: Any) -> list[JSON]:
        scope = params.get("scope") or {"type": "default"}
        return self.s.commands.get(f"{scope.get('type')}:{params.get('language_code') or ''}", [])

    async def m_deletemycommands(self, params: JSON, uploads: Any) -> bool:
        scope = params.get("scope") or {"type": "default"}
        self.s.commands.pop(f"{scope.get('type')}:{params.get('language_code') or ''}", None)
        return True

    async def m_getchat(self, params: JSON, uploads: Any) -> JSON:
        return self._chat(params, sending=False)

    async def _send(self, params: JSON, **content: Any) -> JSON:
        chat = self._chat(params, sending=True)
        self.s.check_limits(int(chat["id"]))
        markup = _markup(params)
        inline = markup is not None and "inline_keyboard" in markup
        if inline:
            content["reply_markup"] = markup
        message = self.s.new_message(chat, self.s.bot_user, **content)
        seen = dict(message)  # a copy: edits come later
        if markup is not None and not inline:
            # A keyboard under the input field (share location, share contact) or its removal:
            # shown to the person, but Telegram's Message never carries it.
            seen["reply_markup"] = markup
            if markup.get("remove_keyboard"):
                self.s.keyboards.pop(int(chat["id"]), None)
            elif isinstance(markup.get("keyboard"), list):
                rows = markup["keyboard"]
                self.s.keyboards[int(chat["id"])] = [
                    [str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in row]
                    for row in rows
                    if isinstance(row, list)
                ]
        await self.s.record("send", int(chat["id"]), seen)
        self.s.count("sent")
        return message

    async def m_sendmessage(self, params: JSON, uploads: Any) -> JSON:
        self._chat(params, sending=True)
        plain, raw = self._text(params)
        return await self._send(params, text=plain, html=raw)

    def _store_file(self, data: bytes, name: str) -> str:
        file_id = "F" + secrets.token_urlsafe(12)
        self.s.files[file_id] = (data, name)
        return file_id

    def _file_ref(self, params: JSON, uploads: dict[str, tuple[bytes, str]], key: str) -> str:
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = None
            upload = uploads.get(params[key][len("attach://") :])
        else:
            upload = uploads.get(key)
        if upload is not None:
            return self._store_file(*upload)
        if isinstance(value, str) and value in self.s.files:
            return value
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    async def m_sendphoto(self, params: JSON, uploads: dict[str, tuple[bytes, str]]) -> JSON:
        self._chat(params, sending=True)
        file_id = self._file_ref(params, uploads, "photo")
        caption, raw = self._text(params, "caption", MAX_CAPTION)
        size = len(self.s.files[file_id][0])
        photo = [{"file_id": file_id, "file_unique_id": file_id[1:9], "width": 800,
                  "height": 600, "file_size": size}]  # fmt: skip
        return await self._send(params, photo=photo, caption=caption, html=raw)

    async def m_senddocument(self, params: JSON, uploads: dict[str, tuple[bytes, str]]) -> JSON:
        self._chat(params, sending=True)
        file_id = self._file_ref(params, uploads, "document")
        caption, raw = self._text(params, "caption", MAX_CAPTION)
        data, name = self.s.files[file_id]
        document = {"file_id": file_id, "file_unique_id": file_id[1:9], "file_name": name,
                    "file_size": len(data)}  # fmt: skip
        return await self._send(params, document=document, caption=caption, html=raw)

    async def m_sendlocation(self, params: JSON, uploads: Any) -> JSON:
        try:
            location = {
                "latitude": float(params["latitude"]),
                "longitude": float(params["longitude"]),
            }
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: wrong latitude or longitude") from None
        return await self._send(params, location=location)

    def _own_message(self, params: JSON) -> JSON:
        chat = self._chat(params, sending=False)
        message = self.s.messages.get(int(chat["id"]), {}).get(
            _as_int(params.get("message_id")) or 0
        )
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"].get("id") != self.s.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    async def _edited(self, message: JSON, changes: JSON) -> JSON:
        same = all(message.get(k) == v for k, v in changes.items())
        if same:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        self.s.check_limits(int(message["chat"]["id"]))
        message.update(changes)
        if "reply_markup" in changes and changes["reply_markup"] is None:
            message.pop("reply_markup")
        message["edit_date"] = int(time.time())
        await self.s.record("edit", int(message["chat"]["id"]), dict(message))
        self.s.count("edited")
        return message

    async def m_editmessagetext(self, params: JSON, uploads: Any) -> JSON:
        message = self._own_message(params)
        plain, raw = self._text(params)
        return await self._edited(
            message, {"text": plain, "html": raw, "reply_markup": _markup(params)}
        )

    async def m_editmessagereplymarkup(self, params: JSON, uploads: Any) -> JSON:
        message = self._own_message(params)
        return await self._edited(message, {"reply_markup": _markup(params)})

    async def m_deletemessage(self, params: JSON, uploads: Any) -> bool:
        chat = self._chat(params, sending=False)
        found = self.s.messages.get(int(chat["id"]), {}).pop(
            _as_int(params.get("message_id")) or 0, None
        )
        if found is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        await self.s.record("delete", int(chat["id"]), None, message_id=found["message_id"])
        return True

    async def m_answercallbackquery(self, params: JSON, uploads: Any) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self.s.callbacks or self.s.callbacks[query_id] is not None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        answer = {"text": params.get("text"), "show_alert": _bool(params.get("show_alert"))}
        self.s.callbacks[query_id] = answer
        await self.s.record("answer", 0, None, callback_query_id=query_id, answer=answer)
        return True

    async def m_getfile(self, params: JSON, uploads: Any) -> JSON:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.s.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        data, name = self.s.files[file_id]
        return {"file_id": file_id, "file_unique_id": file_id[1:9], "file_size": len(data),
                "file_path": f"files/{file_id}/{name}"}  # fmt: skip

    async def m_close(self, params: JSON, uploads: Any) -> bool:
        return True

    async def m_logout(self, params: JSON, uploads: Any) -> bool:
        return True


def _reply(result: Any = None, error: ApiError | None = None) -> web.Response:
    if error is not None:
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return web.json_response(body, status=error.code)
    return web.json_response({"ok": True, "result": result})


def build_app(state: SandboxState) -> web.Application:
    from bot.sandbox.testapi import add_test_routes  # the test API builds on this module

    delivery = WebhookDelivery(state)
    api = BotApi(state, delivery)
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def bot_method(request: web.Request) -> web.StreamResponse:
        if time.monotonic() < state.outage_until:
            state.count("outage_refused")
            if request.transport is not None:
                request.transport.close()  # as if the network were down
            raise web.HTTPServiceUnavailable()
        if request.match_info["token"] != state.token:
            return _reply(error=ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        params: JSON = {}
        try:
            params, uploads = await _params(request)
            state.count(f"call_{method}")
            state.check_faults(method, params)
            return _reply(await api.call(method, params, uploads))
        except ApiError as exc:
            if exc.code == 400 and exc.description.startswith(MALFORMED):
                log.warning("refused %s to chat %s: %s", method, params.get("chat_id"), exc)
                state.refused.append(
                    {"method": method, "chat_id": params.get("chat_id"),
                     "description": exc.description, "text": params.get("text")}
                )  # fmt: skip
            return _reply(error=exc)

    async def download(request: web.Request) -> web.Response:
        if request.match_info["token"] != state.token:
            raise web.HTTPUnauthorized()
        found = state.files.get(request.match_info["file_id"])
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found[0])

    app.router.add_route("*", "/bot{token}/{method}", bot_method)
    app.router.add_get("/file/bot{token}/files/{file_id}/{name}", download)
    add_test_routes(app, state)

    async def stop_delivery(app: web.Application) -> None:
        await delivery.close()

    app.on_cleanup.append(stop_delivery)
    return app


async def start_sandbox(
    state: SandboxState, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, int]:
    """Serve the sandbox on loopback; returns the runner (to clean up) and the bound port."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the sandbox binds to loopback only")
    runner = web.AppRunner(build_app(state), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return runner, int(bound)


def encode_file(data: bytes) -> str:
    return base64.b64encode(data).decode()
