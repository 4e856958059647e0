"""Drives the real bot process through the sandbox, like people do: say things, tap buttons, read."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bot.sandbox.server import SandboxState, start_sandbox
from storage.db import Database
from storage.tables import inbox, outbox
from tests.dbs import database_url

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:TEST-token"
ADMIN_ID = 9001
# A phone number in a text: +86 (or any "+" and 7 digits or more), or an 11-digit mainland mobile.
PHONE = re.compile(r"\+\s?86|\+\d{7,}|(?<!\d)1[3-9]\d{9}(?!\d)")


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    language_code: str | None = "zh-hans"

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


def group(chat_id: int, title: str, type_: str = "group") -> dict[str, Any]:
    return {"id": chat_id, "type": type_, "title": title}


class Injected(TypedDict):
    """The test API's answer to a message a person sent: the update queued for the bot, and the
    message in it (Telegram's Message JSON)."""

    update_id: int
    message: dict[str, Any]


@dataclass
class Sandbox:
    """The sandbox server running in the test's event loop, and a client for its test API."""

    state: SandboxState
    port: int
    http: aiohttp.ClientSession
    cursors: dict[int, int] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)  # personal data a test typed: see personal()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        """The test API's JSON answer; its shape depends on the path."""
        async with self.http.post(self.base + path, json=body) as response:
            if response.status != 200:
                raise AssertionError(f"{path}: {response.status} {await response.text()}")
            return await response.json()

    async def say(
        self, person: Person, text: str, chat: dict[str, Any] | None = None, **extra: Any
    ) -> Injected:
        body: dict[str, Any] = {"user": person.json, "text": text, **extra}
        if chat is not None:
            body["chat"] = chat
        injected: Injected = await self._post("/test/message", body)
        return injected

    async def send(
        self, person: Person, chat: dict[str, Any] | None = None, **content: Any
    ) -> Injected:
        body: dict[str, Any] = {"user": person.json, **content}
        if chat is not None:
            body["chat"] = chat
        number = str((content.get("contact") or {}).get("phone_number") or "")
        if number:  # a phone shared with the contact button is personal data, in any spelling
            digits = re.sub(r"\D", "", number)
            self.personal(*(v for v in (number, digits, digits[-11:]) if len(v) >= 7))
        injected: Injected = await self._post("/test/message", body)
        return injected

    async def tap(self, person: Person, message: dict[str, Any], text: str) -> str:
        """Press the button labelled `text` on a message; returns the callback query id."""
        return await self._press(person, message, text=text)

    async def tap_data(self, person: Person, message: dict[str, Any], data: str) -> str:
        """Send raw callback data from a message's button (a forged or stale button)."""
        return await self._press(person, message, data=data)

    async def _press(self, person: Person, message: dict[str, Any], **button: str) -> str:
        result = await self._post(
            "/test/callback",
            {
                "user": person.json,
                "chat_id": message["chat"]["id"],
                "message_id": message["message_id"],
                **button,
            },
        )
        return str(result["callback_query_id"])

    async def added_to_group(
        self, person: Person, chat: dict[str, Any], status: str = "member"
    ) -> None:
        await self._post(
            "/test/my_chat_member", {"user": person.json, "chat": chat, "status": status}
        )

    async def answer(self, query_id: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.state.callbacks.get(query_id)
            if answer is not None:
                return answer
            await asyncio.sleep(0.05)
        raise AssertionError(f"callback {query_id} was not answered")

    async def expect(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        timeout: float = 15.0,
        kind: tuple[str, ...] = ("send", "edit"),
    ) -> dict[str, Any]:
        """The next message the bot sent (or edited) in a chat, optionally containing a text."""
        deadline = time.monotonic() + timeout
        while True:
            after = self.cursors.get(chat_id, 0)
            for event in self.state.events:
                if event["seq"] <= after or event["chat_id"] != chat_id:
                    continue
                if event["type"] not in kind:
                    continue
                self.cursors[chat_id] = event["seq"]
                text = event["message"].get("text") or event["message"].get("caption") or ""
                if contains is None or contains in text:
                    return dict(event["message"])
            if time.monotonic() > deadline:
                seen = [
                    e["message"].get("text")
                    for e in self.state.events
                    if e["chat_id"] == chat_id and "message" in e
                ][-5:]
                raise AssertionError(
                    f"no bot message with {contains!r} in chat {chat_id}; last ones: {seen}"
                )
            await asyncio.sleep(0.05)

    async def find(
        self,
        chat_id: int,
        *contains: str,
        message_id: int | None = None,
        timeout: float = 15.0,
        kind: tuple[str, ...] = ("send", "edit"),
    ) -> dict[str, Any]:
        """Any bot message in a chat containing all the texts, without moving the chat's cursor:
        for tests where several conversations share one chat at once."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.state.events:
                if event["chat_id"] != chat_id or event["type"] not in kind:
                    continue
                message = event["message"]
                if message_id is not None and message["message_id"] != message_id:
                    continue
                text = message.get("text") or message.get("caption") or ""
                if all(part in text for part in contains):
                    return dict(message)
            if time.monotonic() > deadline:
                raise AssertionError(f"no bot message with {contains!r} in chat {chat_id}")
            await asyncio.sleep(0.1)

    async def quiet(self, chat_id: int, seconds: float = 1.0) -> list[dict[str, Any]]:
        """Everything the bot sends to a chat in the next few seconds (to show it said nothing)."""
        await asyncio.sleep(seconds)
        after = self.cursors.get(chat_id, 0)
        found = [
            e
            for e in self.state.events
            if e["seq"] > after and e["chat_id"] == chat_id and e["type"] in ("send", "edit")
        ]
        if found:
            self.cursors[chat_id] = found[-1]["seq"]
        return [e["message"] for e in found]

    def skip_to_now(self, chat_id: int) -> None:
        self.cursors[chat_id] = self.state.events[-1]["seq"] if self.state.events else 0

    def personal(self, *values: str) -> None:
        """Personal data a test types (a full name, a building and flat, a phone number): the bot
        may show it in private chats only, never in a group (checked after every test)."""
        self.secrets.update(v for v in values if v)

    def group_leaks(self) -> list[str]:
        """What the bot sent to (or edited in) a group chat that carries personal data: a phone
        number (any, or one shared with the contact button in this test) or a value given to
        `personal()`. One line per leak; none is the rule."""
        secrets = self.secrets
        leaks = []
        for event in self.state.events:
            if event["chat_id"] >= 0 or event["type"] not in ("send", "edit"):
                continue
            message = event.get("message") or {}
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            parts = [
                message.get("text") or "",
                message.get("caption") or "",
                (message.get("document") or {}).get("file_name") or "",
                *(str(button.get("text", "")) for row in rows for button in row),
            ]
            text = "\n".join(parts)
            found = [m.group(0) for m in PHONE.finditer(text)]
            found += sorted(s for s in secrets if s in text)
            if found:
                leaks.append(f"chat {event['chat_id']} ({event['type']}): {found} in {text!r}")
        return leaks


async def open_sandbox() -> tuple[Sandbox, web.AppRunner]:
    state = SandboxState(token=TOKEN, bot_id=int(TOKEN.split(":")[0]))
    runner, port = await start_sandbox(state)
    return Sandbox(state, port, aiohttp.ClientSession()), runner


def write_config(
    tmp: Path,
    port: int,
    *,
    admins: tuple[int, ...] = (ADMIN_ID,),
    extra: str = "",
    telegram: str = "",
    url: str | None = None,
    clock: bool = True,
) -> Path:
    """A bot's config in `tmp`: the sandbox on `port`, the test's database (or `url`), more keys
    of [telegram] in `telegram` and more tables in `extra`; `clock`: the shiftable clock of the
    tests (bench/ measures the machine's, as in production)."""
    config = tmp / "config.toml"
    config.write_text(
        f"""
[telegram]
token = "{TOKEN}"
api_base = "http://127.0.0.1:{port}"
poll_timeout = 10
{telegram}

[database]
url = "{url or database_url(tmp)}"

[bot]
admins = {list(admins)}

[org]
file = "{ROOT / "org.example.toml"}"
flats = "{ROOT / "flats.example.toml"}"

[testing]
enabled = true
clock_file = "{tmp / "clock" if clock else ""}"
{extra}
""",
        encoding="utf-8",
    )
    return config


class BotProcess:
    """`python -m bot run --config …` as a child process."""

    def __init__(self, config: Path, sandbox: Sandbox) -> None:
        self.config = config
        self.sandbox = sandbox
        self.proc: asyncio.subprocess.Process | None = None
        self.log = config.parent / "bot.log"

    async def start(self, timeout: float = 30.0, ready: str = "call_getUpdates") -> None:
        """Start the bot and wait until it calls the sandbox's `ready` counter once more."""
        calls = self.sandbox.state.stats.get(ready, 0)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--config",
                str(self.config),
                cwd=ROOT,
                stdout=log,
                stderr=log,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while self.sandbox.state.stats.get(ready, 0) <= calls:
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"the bot did not start:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 30.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.returncode is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def seed_people(
    db: Database,
    sandbox: Sandbox,
    *,
    staff: Mapping[Person, str] | None = None,
    residents: Mapping[Person, str] | None = None,
) -> None:
    """Staff (secretaries of the unit with that code) as if they had joined by invitation (tested
    in test_foundation), residents as if they had chosen their compound; then each sends /start,
    as Telegram lets a bot write only to people who started it."""
    from bot.domain.org import StaffRole
    from storage.units import UnitRepo
    from storage.users import StaffRepo, UserRepo

    staff, residents = staff or {}, residents or {}
    now = datetime.now(UTC)
    async with db.session() as s:
        for person, code in {**staff, **residents}.items():
            unit = await UnitRepo(s).by_code(code)
            assert unit is not None, code
            await UserRepo(s).seen(person.id, person.first_name, None, now, person.language_code)
            await UserRepo(s).set_language(person.id, (person.language_code or "zh")[:2])
            if person in staff:
                await StaffRepo(s).add(person.id, unit.id, StaffRole.SECRETARY, None, now)
            else:
                await UserRepo(s).set_compound(person.id, unit.id)
    for person in {**staff, **residents}:
        await sandbox.say(person, "/start")
        await sandbox.expect(person.id)


@asynccontextmanager
async def running_bot(sandbox: Sandbox, tmp: Path, extra: str = "") -> AsyncIterator[BotProcess]:
    """The real bot process on a fresh config (plus `extra` TOML); it must exit cleanly."""
    process = BotProcess(write_config(tmp, sandbox.port, extra=extra), sandbox)
    await process.start()
    try:
        yield process
    finally:
        code = await process.stop()
        assert code == 0, f"the bot exited with {code}:\n{process.log.read_text()[-3000:]}"


async def run_cli(*args: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def drained(db: Database, timeout: float = 120.0) -> None:
    """Wait until every update is handled and every outgoing message sent (or parked)."""
    pending = new = -1
    for _ in range(int(timeout * 10)):
        async with db.session() as s:
            pending = (
                await s.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
                )
            ).scalar_one()
            new = (
                await s.execute(
                    select(func.count()).select_from(inbox).where(inbox.c.status == "new")
                )
            ).scalar_one()
        if pending == 0 and new == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not drained: {pending} messages, {new} updates left")


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """A message's inline buttons: label → callback data."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data", "") for row in rows for b in row}


def advance_clock(config: Path, seconds: float) -> None:
    """Move the bot's (shifted) clock forward, as the demo's time switch does."""
    from datetime import timedelta

    from bot.clock import ShiftedClock

    ShiftedClock(config.parent / "clock").advance(timedelta(seconds=seconds))


class FixedClock:
    """A clock that says what a test sets (storage and sweep tests, without a bot process)."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at
