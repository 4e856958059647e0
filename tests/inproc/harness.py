"""The production Dispatcher in the test's own process: people act, the bot's outbox is read back.

A `Harness` is the bot as `bot.app.build_application` makes it — the real `Dispatcher`
(`build_dispatcher`), the real `Application` and its `Inbox`, a fresh database with the example
organisation — except that the Bot API is a `FakeSession` (handlers never call it: they write
outbox rows) and the clock is a `ManualClock`.

Every update goes the inbox's own way: `Inbox.store` commits it to the inbox table and starts the
chat's worker, which handles it in one transaction with an `Outbox(session, clock, cause=update_id)`
under `bind_session` (`Inbox._handle_next`). Nothing is copied from the inbox: a handler that
raises is rolled back, retried and parked exactly as in production — and the harness then raises
`HandlerFailed` with the handler's exception.

Afterwards the outbox rows the update wrote are read back, checked as Telegram would check them
(HTML it cannot parse, a text too long, bad callback data, a button press answered twice:
`TelegramWouldRefuse`), "delivered" (each message gets the next message id of its chat, edits change
the message they name) and marked sent, and returned as `Replies`: plain objects with the text as
the person reads it, the buttons' labels and data, the reply keyboard, and the callback answers.

    chat = await h.resident(AUNT_LI)            # a resident of 西湖左岸小区, in Chinese
    replies = await chat.command("/report")
    replies = await chat.press("✖ 取消")         # by label, on the last message with buttons
    assert "已取消" in replies.text
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import shutil
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import GetMe, TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Contact,
    Document,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageEntity,
    PhotoSize,
    Sticker,
    Update,
    Voice,
)
from aiogram.types import Chat as TgChat
from aiogram.types import User as TgUser
from pydantic import ValidationError
from sqlalchemy import Table, func, select

from bot.app import Application, build_dispatcher, import_flats, import_org
from bot.clock import SystemClock
from bot.config import BotConfig, Config, DatabaseConfig, OrgConfig
from bot.delivery.inbox import read_update
from bot.delivery.outbox import (
    ANSWER_CALLBACK,
    EDIT_MESSAGE_MARKUP,
    EDIT_MESSAGE_TEXT,
    SEND_DOCUMENT,
    SEND_MESSAGE,
    SEND_PHOTO,
)
from bot.delivery.sender import METHODS
from bot.domain.org import StaffRole
from bot.i18n import build_i18n
from bot.jobs import Sweep
from bot.sandbox.html_check import EntityError, plain_text
from bot.sandbox.server import MAX_CALLBACK_DATA, MAX_CAPTION, MAX_TEXT
from storage import tables
from storage.db import Database, Session
from storage.outbox import OutboxRepo
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url, on_postgres

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
ORG_FILE = ROOT / "org.example.toml"
FLATS_FILE = ROOT / "flats.example.toml"
TOKEN = "123456:TEST-token"
BOT_USERNAME = "lastmeter_test_bot"
ADMIN_ID = 9001
# A Tuesday, 10:00 in Beijing: "yesterday", "tomorrow 9:00" and "in the future" are fixed.
START = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
MAX_ANSWER = 200  # answerCallbackQuery: "0-200 characters"
DRAIN_SECONDS = 10.0
# What a conversation leaves behind when it saves something; users, chats and staff are not in it
# (every update records its sender).
DOMAIN_TABLES: tuple[Table, ...] = (
    tables.complaints,
    tables.complaint_events,
    tables.complaint_followers,
    tables.complaint_cards,
    tables.counters,
    tables.lostfound,
    tables.lostfound_claims,
    tables.lostfound_matches,
    tables.party_members,
    tables.activities,
    tables.attendance,
    tables.files,
    tables.campaigns,
    tables.campaign_slots,
    tables.campaign_sends,
    tables.subscriptions,
    tables.invites,
    tables.group_notices,
    tables.residents,
    tables.household_contacts,
    tables.contact_invites,
    tables.proxy_signups,
    tables.topics,
    tables.topic_supports,
    tables.topic_ballots,
    tables.topic_objections,
    tables.topic_ratings,
    tables.star_criteria,
    tables.star_runs,
    tables.star_figures,
    tables.star_entries,
    tables.star_objections,
)


class HandlerFailed(AssertionError):
    """A handler raised: the inbox rolled the update back, retried it and parked it."""


class TelegramWouldRefuse(AssertionError):
    """An outbox row the Bot API would answer with 400 Bad Request."""


# --- the Bot API and the clock -------------------------------------------------------------------


class FakeSession(BaseSession):
    """A Bot API session that records every request and answers from canned results (after
    aiogram's tests/mocked_bot.py). Handlers write the outbox and never call the Bot API, so
    after start-up (`getMe`) `requests` stays empty unless a handler breaks that rule."""

    def __init__(self, me: TgUser) -> None:
        super().__init__()
        self.me = me
        self.requests: list[TelegramMethod[Any]] = []
        self.results: dict[type[TelegramMethod[Any]], deque[object]] = {}

    def add_result_for(self, method: type[TelegramMethod[Any]], result: object) -> None:
        """The next call of `method` returns `result` (or raises it, when it is an exception)."""
        self.results.setdefault(method, deque()).append(result)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[T], timeout: int | None = None
    ) -> T:
        self.requests.append(method)
        canned = self.results.get(type(method))
        if canned:
            result = canned.popleft()
            if isinstance(result, BaseException):
                raise result
            return cast(T, result)
        if isinstance(method, GetMe):
            return cast(T, self.me)
        if method.__returning__ is bool:
            return cast(T, True)
        raise AssertionError(f"the bot called {type(method).__name__}; nothing was canned for it")

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise AssertionError(f"the bot downloaded {url}")
        yield b""  # pragma: no cover -- makes this an async generator

    async def close(self) -> None:
        return None


class InlineExecutor(ThreadPoolExecutor):
    """Runs what is handed to a thread at once, in the caller's thread. aiogram runs every
    synchronous filter (each `F.…` magic filter a router checks) through `asyncio.to_thread`:
    about a hundred thread hand-offs an update, two thirds of its time on a busy machine. The
    filters are pure, so running them inline changes only where, not what."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting caller, as a worker thread does
            future.set_exception(exc)
        return future


class ManualClock:
    """The time a test says; it moves only when told."""

    def __init__(self, now: datetime = START) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


# --- people and what they see ---------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    language_code: str | None = "zh-hans"
    username: str | None = None

    @property
    def user(self) -> TgUser:
        return TgUser(
            id=self.id,
            is_bot=False,
            first_name=self.first_name,
            username=self.username,
            language_code=self.language_code,
        )

    @property
    def language(self) -> str:
        """The bot's language for them: en for en-*, else zh (the default)."""
        return "en" if (self.language_code or "").lower().startswith("en") else "zh"


@dataclass(frozen=True)
class Button:
    label: str
    data: str | None = None  # callback_data
    url: str | None = None


MENU_HELP = ("❓ 帮助", "❓ Help")  # a label of every main menu, in each language


def is_menu(keyboard: tuple[tuple[str, ...], ...] | None) -> bool:
    return keyboard is not None and any(label in row for row in keyboard for label in MENU_HELP)


@dataclass(frozen=True)
class Sent:
    """One outbox row that carries a message (sendMessage, sendPhoto, sendDocument, an edit),
    decoded: `text` is what the person reads (HTML taken out), `html` what the bot wrote."""

    row: int
    method: str
    chat_id: int
    message_id: int  # the message it made, or the one it edited
    text: str
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    keyboard: tuple[tuple[str, ...], ...] | None = None  # a reply keyboard it shows
    removes_keyboard: bool = False
    photo: str | None = None
    document: str | None = None

    @property
    def is_edit(self) -> bool:
        return self.method in (EDIT_MESSAGE_TEXT, EDIT_MESSAGE_MARKUP)

    @property
    def labels(self) -> list[str]:
        return [button.label for row in self.buttons for button in row]

    @property
    def data(self) -> dict[str, str]:
        """Inline button label → callback data."""
        return {b.label: b.data for row in self.buttons for b in row if b.data is not None}


@dataclass(frozen=True)
class Answer:
    """An answerCallbackQuery row: the little notice (or, with `alert`, the dialog) on a press."""

    row: int
    user_id: int
    query_id: str
    text: str | None
    alert: bool


@dataclass(frozen=True)
class Replies:
    """Everything one update made the bot say, in the order it was written."""

    update_id: int
    chat_id: int  # the chat the update came from
    sent: tuple[Sent, ...]
    answers: tuple[Answer, ...]

    @property
    def mine(self) -> tuple[Sent, ...]:
        """The messages to the chat the update came from."""
        return tuple(s for s in self.sent if s.chat_id == self.chat_id)

    def to(self, chat_id: int) -> tuple[Sent, ...]:
        return tuple(s for s in self.sent if s.chat_id == chat_id)

    @property
    def text(self) -> str:
        """The texts of the messages to this chat, one after the other."""
        return "\n\n".join(s.text for s in self.mine)

    @property
    def last(self) -> Sent:
        if not self.mine:
            raise AssertionError(f"the bot said nothing to chat {self.chat_id}")
        return self.mine[-1]

    @property
    def answer(self) -> Answer:
        """The one answer to the button press."""
        if len(self.answers) != 1:
            raise AssertionError(f"expected one callback answer, got {list(self.answers)}")
        return self.answers[0]

    @property
    def silent(self) -> bool:
        """Nothing but (at most) a plain, wordless answer to a press."""
        return not self.sent and all(a.text is None for a in self.answers)

    def says(self, *phrases: str) -> bool:
        """Every phrase is in one of the messages to this chat or in an answer's text."""
        told = [self.text, *(a.text or "" for a in self.answers)]
        return all(any(phrase in t for t in told) for phrase in phrases)


@dataclass
class Shown:
    """A bot message as it stands in a chat now (edits applied)."""

    chat_id: int
    message_id: int
    date: datetime
    text: str
    html: str
    markup: dict[str, Any] | None  # the inline keyboard, as sent
    buttons: tuple[tuple[Button, ...], ...]
    photo: str | None = None

    @property
    def labels(self) -> list[str]:
        return [button.label for row in self.buttons for button in row]

    @property
    def data(self) -> dict[str, str]:
        """Inline button label → callback data."""
        return {b.label: b.data for row in self.buttons for b in row if b.data is not None}


# --- decoding and checking outbox rows -------------------------------------------------------------


def _buttons(markup: Mapping[str, Any] | None) -> tuple[tuple[Button, ...], ...]:
    rows = (markup or {}).get("inline_keyboard") or []
    return tuple(
        tuple(Button(str(b.get("text", "")), b.get("callback_data"), b.get("url")) for b in row)
        for row in rows
    )


def _keyboard(markup: Mapping[str, Any] | None) -> tuple[tuple[str, ...], ...] | None:
    rows = (markup or {}).get("keyboard")
    if rows is None:
        return None
    return tuple(tuple(str(b.get("text", "")) for b in row) for row in rows)


def refusals(method: str, params: Mapping[str, Any]) -> list[str]:
    """What the Bot API would refuse in one outbox row (empty: it takes it)."""
    problems: list[str] = []
    model = METHODS.get(method)
    if model is None:
        return [f"{method}: the sender does not know this method"]
    try:
        model.model_validate(dict(params))
    except ValidationError as exc:
        problems.append(f"{method}: not a valid request: {exc.errors()[0]['msg']}")
    if method == ANSWER_CALLBACK:
        text = str(params.get("text") or "")
        if len(text) > MAX_ANSWER:
            problems.append(f"answer text over {MAX_ANSWER} characters: {text[:60]!r}…")
        return problems
    if method == EDIT_MESSAGE_MARKUP:
        return problems
    key, limit = (
        ("text", MAX_TEXT)
        if method in (SEND_MESSAGE, EDIT_MESSAGE_TEXT)
        else ("caption", MAX_CAPTION)
    )
    raw = str(params.get(key) or "")
    try:
        plain = plain_text(raw, params.get("parse_mode"))
    except EntityError as exc:
        problems.append(f"can't parse entities: {exc} in {raw[:80]!r}")
        plain = raw
    if key == "text" and not plain.strip():
        problems.append(f"{method}: message text is empty")
    if len(plain) > limit:
        problems.append(f"{method}: {key} is {len(plain)} characters, over {limit}")
    markup = params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if not button.get("text"):
                problems.append(f"an inline button without text: {button}")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                problems.append(f"BUTTON_DATA_INVALID: {data!r} ({len(str(data).encode())} bytes)")
            if data is None and button.get("url") is None and len(button) == 1:
                problems.append(f"a text button in an inline keyboard: {button}")
    return problems


def tamper(data: str, last: str = "99") -> str:
    """A real button's callback data with its last field replaced: a forged choice that keeps
    whatever format the data has ("lq:c:2" → "lq:c:99")."""
    head, sep, _ = data.rpartition(":")
    return f"{head}{sep}{last}" if sep else last


def _plain(raw: str, parse_mode: str | None) -> str:
    try:
        return plain_text(raw, parse_mode)
    except EntityError:
        return raw


# --- a person's chat with the bot -------------------------------------------------------------------


class Chat:
    """One person in one chat (their private chat with the bot, or a group)."""

    def __init__(self, harness: Harness, person: Person, chat: TgChat) -> None:
        self.h = harness
        self.person = person
        self.chat = chat

    @property
    def id(self) -> int:
        return self.chat.id

    # --- what they do

    async def send(self, text: str) -> Replies:
        entities = None
        if text.startswith("/"):
            length = len(text.split()[0].encode("utf-16-le")) // 2
            entities = [MessageEntity(type="bot_command", offset=0, length=length)]
        return await self._message(text=text, entities=entities)

    async def command(self, command: str, args: str = "") -> Replies:
        """`/report`, or `report` with arguments: `command("start", "rp_3")`."""
        text = command if command.startswith("/") else "/" + command
        return await self.send(f"{text} {args}" if args else text)

    async def photo(
        self, caption: str = "", *, size: int = 48_000, media_group_id: str | None = None
    ) -> Replies:
        file_id = f"PH{self.h.next_file()}"
        photo = [
            PhotoSize(
                file_id=file_id + "s",
                file_unique_id=file_id + "s",
                width=90,
                height=67,
                file_size=1200,
            ),
            PhotoSize(
                file_id=file_id, file_unique_id=file_id, width=1280, height=960, file_size=size
            ),
        ]
        return await self._message(
            photo=photo, caption=caption or None, media_group_id=media_group_id
        )

    async def document(
        self,
        file_name: str = "IMG_2041.jpg",
        *,
        mime_type: str = "image/jpeg",
        size: int = 2_400_000,
    ) -> Replies:
        file_id = f"DOC{self.h.next_file()}"
        document = Document(
            file_id=file_id,
            file_unique_id=file_id,
            file_name=file_name,
            mime_type=mime_type,
            file_size=size,
        )
        return await self._message(document=document)

    async def location(self, latitude: float, longitude: float) -> Replies:
        return await self._message(location=Location(latitude=latitude, longitude=longitude))

    async def contact(
        self,
        phone_number: str = "+8613912345678",
        *,
        own: bool = True,
        user_id: int | None = None,
        first_name: str | None = None,
    ) -> Replies:
        """A shared contact: by default their own (what the phone-number button sends); with
        `own=False`, someone else's card (`user_id` None: a person not on Telegram)."""
        contact = Contact(
            phone_number=phone_number,
            first_name=first_name or self.person.first_name,
            user_id=self.person.id if own else user_id,
        )
        return await self._message(contact=contact)

    async def sticker(self) -> Replies:
        sticker = Sticker(
            file_id="STK",
            file_unique_id="STK",
            type="regular",
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
            emoji="👍",
        )
        return await self._message(sticker=sticker)

    async def voice(self, duration: int = 4) -> Replies:
        file_id = f"VC{self.h.next_file()}"
        voice = Voice(
            file_id=file_id,
            file_unique_id=file_id,
            duration=duration,
            mime_type="audio/ogg",
            file_size=9000,
        )
        return await self._message(voice=voice)

    async def press(self, label: str, *, on: Shown | Sent | None = None) -> Replies:
        """Press the inline button labelled `label` on `on` (default: the last message in this
        chat that has inline buttons). A `Sent` is the message as it was sent: its buttons even
        when an edit has taken them away since (a phone that has not redrawn it yet). When that
        message has no such button but the reply keyboard shown now has, the label is sent as
        text (what tapping such a button does)."""
        message = self._target(on)
        if message is not None:
            shown = on.buttons if isinstance(on, Sent) and not on.is_edit else message.buttons
            for row in shown:
                for button in row:
                    if button.label == label and button.data is not None:
                        return await self._callback(button.data, message)
        keyboard = self.h.keyboards.get(self.id)
        if keyboard is not None and any(label in row for row in keyboard):
            return await self.send(label)
        offered = message.labels if message is not None else []
        raise AssertionError(
            f"no button {label!r}: the last buttons are {offered}, the keyboard {keyboard}"
        )

    async def press_data(self, data: str, *, on: Shown | Sent | None = None) -> Replies:
        """A press with callback data of the test's choosing (a forged or outdated button), on
        `on` (default: the last message with buttons, else the last message of the chat)."""
        message = self._target(on) or self.last_message
        if message is None:
            raise AssertionError(f"chat {self.id} has no bot message to press on")
        return await self._callback(data, message)

    # --- what they see

    @property
    def messages(self) -> list[Shown]:
        """The bot's messages in this chat, oldest first, as they stand now."""
        return sorted(self.h.shown.get(self.id, {}).values(), key=lambda m: m.message_id)

    def message(self, message_id: int) -> Shown:
        """A bot message of this chat as it stands now (after its edits)."""
        found = self.h.shown.get(self.id, {}).get(message_id)
        if found is None:
            raise AssertionError(f"message {message_id} is not in chat {self.id}")
        return found

    @property
    def last_message(self) -> Shown | None:
        found = self.messages
        return found[-1] if found else None

    @property
    def last_buttons(self) -> Shown | None:
        """The last bot message in this chat that has inline buttons."""
        return next((m for m in reversed(self.messages) if m.buttons), None)

    @property
    def keyboard(self) -> tuple[tuple[str, ...], ...] | None:
        """The reply keyboard shown now, if any."""
        return self.h.keyboards.get(self.id)

    @property
    def has_menu(self) -> bool:
        """The main menu is the reply keyboard shown now (in either language)."""
        return is_menu(self.keyboard)

    async def state(self) -> str | None:
        """The conversation state of this person in this chat."""
        return await self.h.dp.fsm.storage.get_state(self._key())

    async def data(self) -> dict[str, Any]:
        return await self.h.dp.fsm.storage.get_data(self._key())

    # --- making updates

    def _key(self) -> StorageKey:
        return StorageKey(bot_id=self.h.bot.id, chat_id=self.id, user_id=self.person.id)

    def _target(self, on: Shown | Sent | None) -> Shown | None:
        if on is None:
            return self.last_buttons
        chat_id = on.chat_id
        found = self.h.shown.get(chat_id, {}).get(on.message_id)
        if found is None:
            raise AssertionError(f"message {on.message_id} is not in chat {chat_id}")
        return found

    async def _message(self, **content: Any) -> Replies:
        message = Message(
            message_id=self.h.next_message_id(self.id),
            date=self.h.clock.now(),
            chat=self.chat,
            from_user=self.person.user,
            **{k: v for k, v in content.items() if v is not None},
        )
        update = Update(update_id=self.h.next_update_id(), message=message)
        return await self.h.feed(update, chat_id=self.id)

    async def _callback(self, data: str, message: Shown) -> Replies:
        query_id = self.h.next_query_id()
        query = CallbackQuery(
            id=query_id,
            from_user=self.person.user,
            chat_instance=f"ci{message.chat_id}",
            message=self.h.as_message(message),
            data=data,
        )
        update = Update(update_id=self.h.next_update_id(), callback_query=query)
        replies = await self.h.feed(update, chat_id=self.id)
        answered = [a for a in replies.answers if a.query_id == query_id]
        if len(answered) != 1:
            raise AssertionError(
                f"the press of {data!r} was answered {len(answered)} times (Telegram wants one "
                "answer: without it the button keeps spinning)"
            )
        return replies


# --- the harness -----------------------------------------------------------------------------------


class _Failures(logging.Handler):
    """The exceptions the inbox logs while it handles an update (it catches them to retry)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.caught: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.caught.append(record.exc_info[1])


class Harness:
    def __init__(self, app: Application, clock: ManualClock, session: FakeSession) -> None:
        self.app = app
        self.db = app.db
        self.dp = app.dp
        self.bot = app.bot
        self.config = app.config
        self.clock = clock
        self.session = session
        self.shown: dict[int, dict[int, Shown]] = {}
        self.keyboards: dict[int, tuple[tuple[str, ...], ...] | None] = {}
        self.history: list[Replies] = []
        self._chats: dict[int, TgChat] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._files = itertools.count(1)
        self._message_ids: dict[int, Iterator[int]] = {}
        self._rows: dict[int, tuple[int, int]] = {}  # outbox row → (chat, message id) it made
        self._answered: set[str] = set()

    # --- ids

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_query_id(self) -> str:
        return f"q{next(self._query_ids)}"

    def next_file(self) -> int:
        return next(self._files)

    def next_message_id(self, chat_id: int) -> int:
        """Telegram numbers a chat's messages, the person's and the bot's, in one sequence."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    # --- people

    def chat(self, person: Person, group: TgChat | None = None) -> Chat:
        """`person` in their private chat with the bot, or in `group`."""
        chat = group or TgChat(
            id=person.id, type="private", first_name=person.first_name, username=person.username
        )
        self._chats[chat.id] = chat
        return Chat(self, person, chat)

    async def newcomer(self, person: Person) -> Chat:
        """Someone the bot has never seen (no compound, no language chosen)."""
        return self.chat(person)

    async def resident(self, person: Person, compound: str = "xihu-zuoan") -> Chat:
        """A resident who has chosen their home compound (by its code) and language."""
        async with self.db.session() as s:
            unit = await UnitRepo(s).by_code(compound)
            assert unit is not None, f"no compound {compound!r} in {ORG_FILE.name}"
            await self._seen(s, person)
            await UserRepo(s).set_compound(person.id, unit.id)
        return self.chat(person)

    async def staff(
        self,
        person: Person,
        unit: str,
        role: StaffRole = StaffRole.SECRETARY,
        *,
        home: str | None = None,
    ) -> Chat:
        """Staff of the unit with code `unit` (e.g. "xihu-zuoan.party_branch" or "xihu"), as if
        invited; `home`: also a resident of that compound."""
        async with self.db.session() as s:
            found = await UnitRepo(s).by_code(unit)
            assert found is not None, f"no unit {unit!r} in {ORG_FILE.name}"
            await self._seen(s, person)
            await StaffRepo(s).add(person.id, found.id, role, None, self.clock.now())
            if home is not None:
                compound = await UnitRepo(s).by_code(home)
                assert compound is not None, home
                await UserRepo(s).set_compound(person.id, compound.id)
        return self.chat(person)

    async def _seen(self, session: Session, person: Person) -> None:
        users = UserRepo(session)
        await users.seen(
            person.id, person.first_name, person.username, self.clock.now(), person.language_code
        )
        await users.set_language(person.id, person.language)

    # --- feeding

    async def feed(self, update: Update, *, chat_id: int) -> Replies:
        """Hand one update to the inbox, as polling or the webhook does, and wait until it is
        handled; then read back, check and deliver what it wrote."""
        raw = update.model_dump(mode="json", by_alias=True, exclude_none=True)
        parsed = read_update(raw, self.bot)  # read as the JSON Telegram sends
        if not isinstance(parsed, Update):
            raise AssertionError(f"the test made an update that does not read: {parsed}")
        failures = _Failures()
        with _watching("bot.delivery.inbox", failures):
            stored = await self.app.inbox.store([parsed])
            finished = await self.app.inbox.drain(DRAIN_SECONDS)
        assert stored == 1, f"update {parsed.update_id} was not new to the inbox"
        if not finished:
            raise AssertionError(
                f"update {parsed.update_id} was still running after {DRAIN_SECONDS} s"
            )
        async with self.db.session() as s:
            status = (
                await s.execute(
                    select(tables.inbox.c.status, tables.inbox.c.error).where(
                        tables.inbox.c.update_id == parsed.update_id
                    )
                )
            ).one()
            replies, problems = await self._deliver(s, parsed.update_id, chat_id)
        if status.status != "done":
            cause = failures.caught[0] if failures.caught else None
            raise HandlerFailed(
                f"update {parsed.update_id} {status.status}: {status.error}"
            ) from cause
        if problems:
            raise TelegramWouldRefuse("\n".join(problems))
        self.history.append(replies)
        return replies

    async def sweep(self, *sweeps: Sweep) -> Replies:
        """Run scheduled sweeps now, as `bot.jobs.run_sweeps` does (texts in the default language
        unless a sweep picks the reader's), then read back, check and deliver what they wrote
        (rows no update caused). `Replies.to(chat_id)` picks a chat's messages."""
        workflow = self.dp.workflow_data
        with self.app.i18n.context():
            for one in sweeps:
                await one(
                    self.db, self.clock, self.config, workflow["matcher"], workflow["bot_username"]
                )
        async with self.db.session() as s:
            replies, problems = await self._deliver(s, None, 0)
        if problems:
            raise TelegramWouldRefuse("\n".join(problems))
        self.history.append(replies)
        return replies

    async def _deliver(
        self, s: Session, update_id: int | None, chat_id: int
    ) -> tuple[Replies, list[str]]:
        """What the sender would do with the update's rows (`None`: the rows no update caused,
        a sweep's), without the Bot API: check each (what Telegram would refuse comes back as
        problems), give messages their ids, apply edits, and mark the rows sent."""
        cause = (
            tables.outbox.c.cause.is_(None)
            if update_id is None
            else tables.outbox.c.cause == update_id
        )
        rows = (
            await s.execute(
                select(
                    tables.outbox.c.id,
                    tables.outbox.c.chat_id,
                    tables.outbox.c.method,
                    tables.outbox.c.payload,
                    tables.outbox.c.ref_id,
                )
                .where(cause, tables.outbox.c.status == "pending")
                .order_by(tables.outbox.c.id)
            )
        ).all()
        sent: list[Sent] = []
        answers: list[Answer] = []
        problems: list[str] = []
        made: list[tuple[int, int | None]] = []
        for row in rows:
            params: dict[str, Any] = json.loads(row.payload)
            problems += [f"row {row.id}: {p}" for p in refusals(row.method, params)]
            if row.method == ANSWER_CALLBACK:
                query_id = str(params["callback_query_id"])
                if query_id in self._answered:
                    problems.append(f"row {row.id}: callback query {query_id} answered twice")
                self._answered.add(query_id)
                answers.append(
                    Answer(
                        row.id,
                        int(row.chat_id),
                        query_id,
                        params.get("text"),
                        bool(params.get("show_alert")),
                    )
                )
                made.append((row.id, None))
                continue
            message = self._show(row.id, int(row.chat_id), row.method, params, row.ref_id)
            if isinstance(message, str):
                problems.append(f"row {row.id}: {message}")
                continue
            sent.append(message)
            made.append((row.id, message.message_id))
        outbox = OutboxRepo(s)
        for row_id, message_id in made:
            await outbox.mark_sent(row_id, message_id, self.clock.now())
        return Replies(update_id or 0, chat_id, tuple(sent), tuple(answers)), problems

    def _show(
        self, row_id: int, chat_id: int, method: str, params: dict[str, Any], ref_id: int | None
    ) -> Sent | str:
        """Put one message row into its chat; a string says why Telegram would refuse it."""
        markup: dict[str, Any] | None = params.get("reply_markup")
        inline = markup if markup and "inline_keyboard" in markup else None
        key = "text" if method in (SEND_MESSAGE, EDIT_MESSAGE_TEXT) else "caption"
        html = str(params.get(key) or "")
        text = _plain(html, params.get("parse_mode"))
        chat = self.shown.setdefault(chat_id, {})
        if method == EDIT_MESSAGE_MARKUP:
            found = chat.get(int(params["message_id"]))
            if found is None:
                return f"message to edit not found: {params['message_id']} in chat {chat_id}"
            if found.markup == inline:
                return "Bad Request: message is not modified"
            found.markup, found.buttons = inline, _buttons(inline)
            return Sent(
                row_id, method, chat_id, found.message_id, found.text, found.html, found.buttons
            )
        if method == EDIT_MESSAGE_TEXT:
            if ref_id is not None:
                ref = self._rows.get(ref_id)
                message_id = ref[1] if ref is not None and ref[0] == chat_id else None
            else:
                message_id = int(params["message_id"])
            found = chat.get(message_id) if message_id is not None else None
            if message_id is not None and found is None:
                return f"message to edit not found: {message_id} in chat {chat_id}"
            if found is None:  # the referred row never became a message: the sender sends anew
                method = SEND_MESSAGE
            else:
                found.text, found.html = text, html
                found.markup, found.buttons = inline, _buttons(inline)
                return Sent(row_id, method, chat_id, found.message_id, text, html, found.buttons)
        if method not in (SEND_MESSAGE, SEND_PHOTO, SEND_DOCUMENT):
            return f"the harness cannot deliver {method}"
        message_id = self.next_message_id(chat_id)
        photo = params.get("photo") if method == SEND_PHOTO else None
        chat[message_id] = Shown(
            chat_id, message_id, self.clock.now(), text, html, inline, _buttons(inline), photo
        )
        self._rows[row_id] = (chat_id, message_id)
        keyboard = _keyboard(markup)
        removes = bool(markup and markup.get("remove_keyboard"))
        if keyboard is not None:
            self.keyboards[chat_id] = keyboard
        elif removes:
            self.keyboards[chat_id] = None
        return Sent(
            row_id,
            method,
            chat_id,
            message_id,
            text,
            html,
            _buttons(inline),
            keyboard,
            removes,
            photo,
            params.get("document") if method == SEND_DOCUMENT else None,
        )

    def as_message(self, shown: Shown) -> Message:
        """The bot's message as a callback query carries it."""
        chat = self._chats.get(shown.chat_id) or TgChat(id=shown.chat_id, type="private")
        markup = InlineKeyboardMarkup.model_validate(shown.markup) if shown.markup else None
        common: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": shown.date,
            "chat": chat,
            "from_user": self.session.me,
            "reply_markup": markup,
        }
        if shown.photo is not None:
            photo = [
                PhotoSize(file_id=shown.photo, file_unique_id=shown.photo, width=800, height=600)
            ]
            return Message(**common, photo=photo, caption=shown.text or None)
        return Message(**common, text=shown.text)

    # --- the database

    async def count(self, table: Table) -> int:
        async with self.db.session() as s:
            return int((await s.execute(select(func.count()).select_from(table))).scalar_one())

    async def saved(self) -> dict[str, int]:
        """The domain tables that have rows, with their counts ({} when nothing was saved)."""
        counts = select(
            *(
                select(func.count()).select_from(t).scalar_subquery().label(t.name)
                for t in DOMAIN_TABLES
            )
        )
        async with self.db.session() as s:
            row = (await s.execute(counts)).one()
        return {name: int(n) for name, n in row._mapping.items() if n}


@contextmanager
def _watching(logger: str, handler: logging.Handler) -> Iterator[None]:
    target = logging.getLogger(logger)
    target.addHandler(handler)
    try:
        yield
    finally:
        target.removeHandler(handler)


# --- building it -------------------------------------------------------------------------------------


def make_config(url: str, **sections: Any) -> Config:
    """The test config: this database, the example organisation, `sections` (e.g.
    `lostfound=LostFoundConfig(max_photo_mb=1)`) over the defaults."""
    return Config(
        database=DatabaseConfig(url=url),
        bot=sections.pop("bot", BotConfig(admins=[ADMIN_ID])),
        org=OrgConfig(file=str(ORG_FILE), flats=str(FLATS_FILE)),
        **sections,
    )


async def _prepare(db: Database, config: Config) -> None:
    await db.migrate(config.bot.zone)
    await import_org(db, ORG_FILE)
    await import_flats(db, FLATS_FILE, SystemClock())


def build_template(path: Path) -> None:
    """A migrated SQLite database with the example organisation, copied for each test (migrating
    takes 100 ms; a copy, a few)."""

    async def build() -> None:
        url = f"sqlite+aiosqlite:///{path}"
        db = Database(url)
        try:
            await _prepare(db, make_config(url))
        finally:
            await db.close()

    with ThreadPoolExecutor(1) as pool:  # its own loop, whatever the caller's
        pool.submit(asyncio.run, build()).result()


@asynccontextmanager
async def open_harness(
    tmp: Path,
    *,
    template: Path | None = None,
    now: datetime = START,
    inline_threads: bool = True,
    **sections: Any,
) -> AsyncIterator[Harness]:
    """The bot as build_application makes it, on a fresh database in `tmp` (a copy of
    `template` when given, on SQLite), with a fake Bot API and a manual clock. With
    `inline_threads`, the loop's default executor runs its work inline (see InlineExecutor)."""
    if inline_threads:
        asyncio.get_running_loop().set_default_executor(InlineExecutor())
    url = database_url(tmp, "inproc")
    copied = template is not None and not on_postgres()
    if copied:
        assert template is not None
        shutil.copyfile(template, tmp / "inproc.db")
    config = make_config(url, **sections)
    db = Database(config.database_url, busy_timeout_ms=config.database.busy_timeout_ms)
    if not copied:
        await _prepare(db, config)
    clock = ManualClock(now)
    i18n = build_i18n(config.bot.default_language)
    me = TgUser(
        id=int(TOKEN.split(":")[0]), is_bot=True, first_name="最后一米", username=BOT_USERNAME
    )
    session = FakeSession(me)
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    dp = build_dispatcher(config, db, clock, i18n)
    app = Application(config, clock, db, bot, dp, i18n)
    # As Application.run does before it takes updates.
    dp.workflow_data["bot_username"] = (await bot.me()).username
    try:
        yield Harness(app, clock, session)
    finally:
        await app.close()
