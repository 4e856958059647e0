"""The sandbox Bot API server (aiohttp) and its test API.

Bot API side: the methods the bot uses, answering in Telegram's formats and with Telegram's errors
(https://core.telegram.org/bots/api#making-requests). Test side (`/test/...`, JSON): inject what
people do (messages, button taps, locations, photos, joining groups, supergroup migrations), read
and wait for what the bot did, and inject faults (429 with retry_after, 5xx, an outage).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.html_check import EntityError, plain_text

JSON = dict[str, Any]
DEMO_PAGE = Path(__file__).parent / "demo.html"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


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


@dataclass
class SandboxState:
    token: str
    bot_id: int
    bot_username: str = "lastmeter_bot"
    clock_advance: Callable[[float], Awaitable[float]] | None = None
    demo: JSON | None = None
    update_seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    event_seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    updates: list[JSON] = field(default_factory=list)
    updates_changed: asyncio.Condition = field(default_factory=asyncio.Condition)
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
    bot_status: dict[int, str] = field(default_factory=dict)
    webhook: JSON = field(default_factory=lambda: {"url": ""})
    faults: list[Fault] = field(default_factory=list)
    outage_until: float = 0.0
    limits: Limits = field(default_factory=Limits)
    chat_sends: dict[int, list[float]] = field(default_factory=dict)
    buckets: dict[int, tuple[float, float]] = field(default_factory=dict)
    retry_until: dict[int, float] = field(default_factory=dict)
    global_sends: list[float] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    violations: list[JSON] = field(default_factory=list)

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

    # --- people's side ---------------------------------------------------------------------

    async def push_update(self, update: JSON) -> int:
        update_id = int(next(self.update_seq))
        update["update_id"] = update_id
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

    def check_limits(self, chat_id: int) -> None:
        """Count a message to chat_id; answer 429 when it breaks Telegram's limits."""
        now = time.monotonic()
        limits = self.limits
        retry: float | None = None
        if chat_id > 0:
            # A token bucket: `private_burst` messages at once, then one per `private_interval`.
            tokens, then = self.buckets.get(chat_id, (float(limits.private_burst), now))
            tokens = min(
                float(limits.private_burst), tokens + (now - then) / limits.private_interval
            )
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


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


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
            data = button.get("callback_data")
            if data is not None and len(str(data).encode()) > MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
    return markup


class BotApi:
    """The Bot API methods."""

    def __init__(self, state: SandboxState) -> None:
        self.s = state

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
        offset = _as_int(params.get("offset")) or 0
        limit = min(max(_as_int(params.get("limit")) or 100, 1), 100)
        timeout = min(max(_as_int(params.get("timeout")) or 0, 0), 50)
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        async with self.s.updates_changed:
            if offset:
                self.s.updates = [u for u in self.s.updates if u["update_id"] >= offset]
            while not self.s.updates and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.s.updates_changed.wait(), timeout=deadline - time.monotonic()
                    )
            batch = self.s.updates[:limit]
        if allowed:
            batch = [u for u in batch if any(k in u for k in allowed)]
        return batch

    async def m_setwebhook(self, params: JSON, uploads: Any) -> bool:
        self.s.webhook = {
            "url": params.get("url", ""),
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return True

    async def m_deletewebhook(self, params: JSON, uploads: Any) -> bool:
        self.s.webhook = {"url": ""}
        if _bool(params.get("drop_pending_updates")):
            self.s.updates.clear()
        return True

    async def m_getwebhookinfo(self, params: JSON, uploads: Any) -> JSON:
        return {
            "url": self.s.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.s.updates),
        }

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

    api = BotApi(state)
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
        try:
            params, uploads = await _params(request)
            state.count(f"call_{method}")
            state.check_faults(method, params)
            return _reply(await api.call(method, params, uploads))
        except ApiError as exc:
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
