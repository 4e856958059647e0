"""Random Telegram-shaped updates through the production Dispatcher: none may raise.

Each update runs as the inbox runs it (one transaction, the outbox, the conversation storage bound
to it), from people with every role, in private chats and groups: commands with odd arguments
(integers beyond 64 bits, digits that are not ASCII, dates out of range), forged and stale button
data, huge and empty text, photos, locations off the globe, contacts, the bot added and removed.
An update that raised would have been retried and parked, and its sender told that it failed.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import build_dispatcher
from bot.clock import SystemClock
from bot.config import BotConfig, Config, DatabaseConfig
from bot.delivery.outbox import Outbox
from bot.domain.org import StaffRole
from bot.domain.party import ActivityKind, MemberType
from bot.i18n import build_i18n
from bot.orgfile import read_org_file
from storage.db import Database
from storage.fsm import Held, bind_session
from storage.party import NewActivity, NewMember, PartyRepo
from storage.tables import outbox
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url
from tests.delivery.test_inbox import RefusingSession
from tests.harness import ROOT

ADMIN = 9001
RESIDENT, NEWCOMER, BRANCH, COMMUNITY, ENGLISH = 101, 102, 103, 104, 105
ANONYMOUS_ADMIN = 1087968824  # GroupAnonymousBot: `from` of a group admin posting anonymously
PEOPLE = [ADMIN, RESIDENT, NEWCOMER, BRANCH, COMMUNITY, ENGLISH]
BOUND_GROUP, LOOSE_GROUP, SUPERGROUP = -1001, -1002, -1001234567890
LANGUAGES = ["zh-hans", "zh", "en", "en-US", "zh-hant", "", "xx-Weird_1", "ru", None]

COMMANDS = [
    "start", "report", "my", "lost", "found", "mine", "party", "activities", "checkin",
    "checkout", "myrecord", "subscribe", "unsubscribe", "profile", "language", "whoami",
    "invite", "queue", "stats", "export", "cancel", "help", "bind", "campaign", "campaigns",
    "newactivity", "roster", "deadletters", "nosuch",
]  # fmt: skip
HUGE = ["9223372036854775807", "9223372036854775808", "18446744073709551616", "1" * 40]
ODD_DIGITS = ["²", "١٢", "３", "0x10", "-1", "0", "00", "1e9", "1.5", "٣٤٥"]
DATES = [
    "9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "20261301", "2026-11-01..9999-12-31",
    "1000000000小时", "99999天", "2026年13月40日", "12/31", "明天", "今天 25:61", "每周八 99:99",
]  # fmt: skip
PREFIXES = [
    "lg",
    "pk",
    "pf",
    "pr",
    "iv",
    "bd",
    "dr",
    "lq",
    "pn",
    "cq",
    "ov",
    "tk",
    "pm",
    "cm",
    "lf",
]
DEEP = ["rp_", "cp_", "lf_", "pa_", "inv_"]


def tokens() -> st.SearchStrategy[str]:
    """A piece of user input where a number, a date or a name is expected."""
    return st.one_of(
        st.sampled_from(HUGE + ODD_DIGITS + DATES),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.integers(min_value=0, max_value=40).map(str),
        st.text(max_size=12),
        st.sampled_from(["", " ", "c", "s", "a", "x", "n", "f", "r", "m", "b", "zh", "en", "?"]),
    )


def texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(
            lambda c, args: f"/{c} {' '.join(args)}".strip(),
            st.sampled_from(COMMANDS),
            st.lists(tokens(), max_size=3),
        ),
        st.builds(lambda p, t: f"/start {p}{t}", st.sampled_from(DEEP), tokens()),
        st.builds(lambda p, a, b: f"/start {p}{a}_{b}", st.sampled_from(DEEP), tokens(), tokens()),
        tokens(),
        st.text(min_size=0, max_size=60),
        st.sampled_from(["西湖", "左岸", "楼道里堆满了杂物，请尽快清理", "x" * 5000, "中" * 4097]),
    )


def callback_data() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(
            lambda p, fields: ":".join([p, *fields]),
            st.sampled_from(PREFIXES),
            st.lists(tokens(), max_size=4),
        ),
        st.text(max_size=64),
    )


@dataclass
class World:
    """The updates' ids, message ids, and what the run saw."""

    next_id: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))
    fed: int = 0
    failures: list[tuple[dict[str, Any], BaseException]] = field(default_factory=list)


def user_json(user_id: int, language: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": user_id == ANONYMOUS_ADMIN, "first_name": "某"}
    if user_id == ANONYMOUS_ADMIN:
        user.update(first_name="Group", username="GroupAnonymousBot")
    if language is not None:
        user["language_code"] = language
    return user


def chat_json(chat_id: int, user_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": user_id, "type": "private", "first_name": "某"}
    kind = "supergroup" if chat_id == SUPERGROUP else "group"
    return {"id": chat_id, "type": kind, "title": "西湖左岸居民群"}


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    """One update as Telegram would send it (the update_id is filled in when fed)."""
    user_id = draw(st.sampled_from([*PEOPLE, ANONYMOUS_ADMIN]))
    language = draw(st.sampled_from(LANGUAGES))
    chat_id = draw(st.sampled_from([1, 1, 1, BOUND_GROUP, LOOSE_GROUP, SUPERGROUP]))
    if user_id == ANONYMOUS_ADMIN and chat_id > 0:
        chat_id = BOUND_GROUP
    user, chat = user_json(user_id, language), chat_json(chat_id, user_id)
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 10**6)),
        "date": 1764000000,
        "chat": chat,
        "from": user,
    }
    if user_id == ANONYMOUS_ADMIN:
        message["sender_chat"] = {k: v for k, v in chat.items() if k != "first_name"}
    kind = draw(
        st.sampled_from(["text"] * 6 + ["callback"] * 4 + ["photo", "location", "contact", "join"])
    )
    if kind == "callback":
        bot_message = {
            "message_id": draw(st.integers(1, 10**6)),
            "date": draw(st.sampled_from([0, 1764000000])),  # 0: an inaccessible message
            "chat": chat,
            "from": {"id": 42, "is_bot": True, "first_name": "最后一米"},
            "text": "…",
        }
        return {
            "callback_query": {
                "id": str(draw(st.integers(1, 10**12))),
                "from": user,
                "chat_instance": "ci",
                "data": draw(callback_data()),
                "message": bot_message,
            }
        }
    if kind == "join":
        status = draw(st.sampled_from(["member", "left", "kicked"]))
        bot_user = user_json(42, None) | {"is_bot": True}
        member: dict[str, Any] = {"status": status, "user": bot_user}
        if status == "kicked":
            member["until_date"] = 0
        return {
            "my_chat_member": {
                "chat": chat_json(draw(st.sampled_from([BOUND_GROUP, LOOSE_GROUP])), user_id),
                "from": user,
                "date": 1764000000,
                "old_chat_member": {"status": "left", "user": bot_user},
                "new_chat_member": member,
            }
        }
    if kind == "text":
        text = draw(texts())
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split(" ")[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    elif kind == "photo":
        size = {"file_id": "AgAD" + draw(st.text("abc123", min_size=1, max_size=8))}
        message["photo"] = [size | {"file_unique_id": "u", "width": 90, "height": 90}]
        if draw(st.booleans()):
            message["caption"] = draw(texts())
    elif kind == "location":
        coordinate = st.one_of(
            st.floats(allow_nan=False, allow_infinity=False, width=32),
            st.sampled_from([999.0, -91.0, 181.0, 34.0386, 113.812, 0.0]),
        )
        message["location"] = {"latitude": draw(coordinate), "longitude": draw(coordinate)}
    else:
        owner = draw(st.sampled_from([user_id, RESIDENT, None]))
        contact: dict[str, Any] = {"phone_number": draw(tokens()), "first_name": "某"}
        if owner is not None:
            contact["user_id"] = owner
        message["contact"] = contact
    return {"message": message}


async def seed(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.session() as s:
        units = UnitRepo(s)
        await units.import_specs(read_org_file(ROOT / "org.example.toml"))
        compound = await units.by_code("xihu-zuoan")
        branch = await units.by_code("xihu-zuoan.party_branch")
        community = await units.by_code("xihu")
        assert compound and branch and community
        users = UserRepo(s)
        for person in PEOPLE:
            await users.seen(person, "某", None, now, "zh")
            if person != NEWCOMER:
                await users.set_language(person, "en" if person == ENGLISH else "zh")
                await users.set_compound(person, compound.id)
        await StaffRepo(s).add(BRANCH, branch.id, StaffRole.SECRETARY, None, now)
        await StaffRepo(s).add(COMMUNITY, community.id, StaffRole.SECRETARY, None, now)
        party = PartyRepo(s)
        await party.register(
            NewMember(
                RESIDENT, "王建国", compound.id, "3号楼", "区直机关", MemberType.RETIRED, None
            ),
            now,
        )
        await party.create_activity(
            NewActivity(
                compound.id,
                ActivityKind.CLEANUP,
                "楼道大扫除",
                "3号楼",
                now + timedelta(minutes=10),
                now + timedelta(hours=2),
                5,
                "246810",
                BRANCH,
            ),
            now,
        )


class Feeder:
    """The production Dispatcher, fed the way bot.delivery.inbox feeds it."""

    def __init__(self, db: Database, dp: Dispatcher, bot: Bot) -> None:
        self.db, self.dp, self.bot = db, dp, bot
        self.clock = SystemClock()

    async def replies(self, update_id: int) -> list[str]:
        """What the bot said in answer to one update (texts and button notices)."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(outbox.c.payload).where(outbox.c.cause == update_id)
            )
            payloads = [json.loads(row.payload) for row in rows]
        return [str(p.get("text", "")) for p in payloads]

    async def feed(self, raw: dict[str, Any], update_id: int) -> None:
        update = Update.model_validate({"update_id": update_id, **raw}, context={"bot": self.bot})
        async with self.db.session() as session:
            outbox = Outbox(session, self.clock, cause=update_id)
            with bind_session(session, Held()):
                await self.dp.feed_update(self.bot, update, session=session, outbox=outbox)


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner


@pytest.fixture(scope="module")
def feeder(runner: asyncio.Runner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feeder]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")

    async def build() -> Feeder:
        config = Config(
            database=DatabaseConfig(url=database_url(tmp, "fuzz")), bot=BotConfig(admins=[ADMIN])
        )
        db = Database(config.database_url)
        await db.migrate()
        await seed(db)
        dp = build_dispatcher(config, db, SystemClock(), build_i18n("zh"))
        dp.workflow_data["bot_username"] = "lastmeter_bot"
        return Feeder(db, dp, Bot("42:TEST", session=RefusingSession()))

    built = runner.run(build())
    yield built
    runner.run(built.db.close())
    print(f"\nfuzz: {WORLD.fed} updates fed, {len(WORLD.failures)} raised")  # pytest -s shows it


WORLD = World()


def message(user_id: int, chat_id: int, text: str, language: str = "zh-hans") -> dict[str, Any]:
    sent: dict[str, Any] = {
        "message_id": 1,
        "date": 1764000000,
        "chat": chat_json(chat_id, user_id),
        "from": user_json(user_id, language),
        "text": text,
    }
    if text.startswith("/"):
        sent["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if user_id == ANONYMOUS_ADMIN:
        sent["sender_chat"] = {"id": chat_id, "type": "group", "title": "西湖左岸居民群"}
    return {"message": sent}


def tap(user_id: int, data: str, language: str = "zh-hans") -> dict[str, Any]:
    return {
        "callback_query": {
            "id": "7",
            "from": user_json(user_id, language),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 5,
                "date": 1764000000,
                "chat": chat_json(1, user_id),
                "text": "…",
            },
        }
    }


# What the probes sent (issue 18), and the answer each gets now, in the sender's language.
PROBES = [
    (message(RESIDENT, 1, "/start rp_18446744073709551616"), "链接无效"),
    # Beyond a 32-bit INTEGER (the row ids on PostgreSQL), within 64 bits: refused before SQL.
    (message(RESIDENT, 1, "/start rp_2147483648"), "链接无效"),
    (message(RESIDENT, 1, "/start lf_2147483648"), "链接无效"),
    (message(RESIDENT, 1, "/start pa_2147483648"), "链接无效"),
    (message(RESIDENT, 1, "/start cp_2147483648_2147483648"), "链接无效"),
    (tap(RESIDENT, "tk:v:2147483648:1:0"), "按钮已失效"),
    (tap(NEWCOMER, "pk:2147483648"), "按钮已失效"),
    (message(RESIDENT, 1, "/start rp_²"), "链接无效"),
    (message(RESIDENT, 1, "/start rp_3"), "链接无效"),  # 魏都区: a unit, not a compound
    (message(ENGLISH, 1, "/start rp_3", "en"), "not valid"),
    (message(RESIDENT, 1, "/start cp_99999999999999999999_1"), "链接无效"),
    (message(RESIDENT, 1, "/start lf_99999999999999999999"), "链接无效"),
    (message(RESIDENT, 1, "/start pa_99999999999999999999"), "链接无效"),
    (tap(NEWCOMER, "pk:9223372036854775808"), "按钮已失效"),
    (tap(ENGLISH, "tk:s:9223372036854775808:1", "en"), "no longer valid"),
    (tap(RESIDENT, "lf:c:²:1"), "按钮已失效"),
    (message(ADMIN, 1, "/stats 9999-12-31"), "没看懂"),
    (message(ADMIN, 1, "/export 0001-01-01"), "没看懂"),
    (message(ADMIN, 1, "/stats 2026-01-01..9999-12-31"), "没看懂"),
    (message(ANONYMOUS_ADMIN, BOUND_GROUP, "/bind"), "匿名"),
]


@pytest.mark.parametrize(("raw", "answer"), PROBES)
def test_what_the_probes_sent_gets_a_polite_answer(
    runner: asyncio.Runner, feeder: Feeder, raw: dict[str, Any], answer: str
) -> None:
    update_id = next(WORLD.next_id)
    runner.run(feeder.feed(raw, update_id))
    replies = runner.run(feeder.replies(update_id))
    assert any(answer in text for text in replies), replies


@settings(
    max_examples=int(os.environ.get("LASTMETER_FUZZ_EXAMPLES", "700")),  # more: hunt longer
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(updates(), min_size=1, max_size=8))
def test_no_update_raises(
    runner: asyncio.Runner, feeder: Feeder, batch: list[dict[str, Any]]
) -> None:
    for raw in batch:
        WORLD.fed += 1
        try:
            runner.run(feeder.feed(raw, next(WORLD.next_id)))
        except Exception as exc:
            WORLD.failures.append((raw, exc))
            raise
