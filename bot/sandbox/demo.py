"""`python -m bot demo`: the sandbox, the bot and demo people, on one page at 127.0.0.1.

A newcomer with no token chats with the bot as several people (a resident, a party member, staff of
each wing, an admin) in private and in a compound group, and can move time forward.

Everything is kept in the data folder from one start to the next: the bot's database, the clock's
offset, and what Telegram would keep (`sandbox.json`: the chats and their messages, the numbering of
updates). It prints "Last Meter demo is running" once the page is served and the bot is
polling.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import build_application, install_signal_handlers
from bot.clock import ShiftedClock
from bot.config import (
    BotConfig,
    ComplaintsConfig,
    Config,
    DatabaseConfig,
    OrgConfig,
    TelegramConfig,
    TestingConfig,
)
from bot.domain.org import StaffRole
from bot.domain.people import ChatPurpose
from bot.sandbox.server import JSON, SandboxState, start_sandbox
from storage.chats import ChatRepo
from storage.db import Database
from storage.inbox import InboxRepo
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo

log = logging.getLogger(__name__)

TOKEN = "100200300:DEMO-local-sandbox"
ORG_FILE = Path(__file__).resolve().parents[2] / "org.example.toml"
FLATS_FILE = ORG_FILE.with_name("flats.example.toml")
ADMIN_ID = 1006
RESIDENTS_GROUP: dict[str, Any] = {
    "id": -1005001,
    "type": "supergroup",
    "title": "西湖左岸小区居民群",
}
STAFF_GROUP: dict[str, Any] = {"id": -5002, "type": "group", "title": "西湖社区工作群"}

# (id, name, language code, role label, compound code or None, staff unit code and role or None)
PERSONAS: list[dict[str, Any]] = [
    {"id": 1001, "first_name": "李阿姨", "language_code": "zh-hans", "role": "居民 resident",
     "compound": None, "staff": None},
    {"id": 1002, "first_name": "王建国", "language_code": "zh-hans", "role": "党员 party member",
     "compound": "xihu-zuoan", "staff": None},
    {"id": 1003, "first_name": "张师傅", "language_code": "zh-hans", "role": "物业 property officer",
     "compound": "xihu-zuoan", "staff": ("xihu-zuoan.property_company", StaffRole.OFFICER)},
    {"id": 1004, "first_name": "刘书记", "language_code": "zh-hans", "role": "支部书记 branch secretary",
     "compound": "xihu-zuoan", "staff": ("xihu-zuoan.party_branch", StaffRole.SECRETARY)},
    {"id": 1005, "first_name": "陈书记", "language_code": "zh-hans",
     "role": "社区书记 community secretary", "compound": None, "staff": ("xihu", StaffRole.SECRETARY)},
    {"id": ADMIN_ID, "first_name": "Alex", "language_code": "en", "role": "区管理员 admin (English)",
     "compound": None, "staff": None},
]  # fmt: skip


class DemoState(SandboxState):
    """The sandbox's state, with each event stamped with how far the bot's clock was ahead then
    (`clock_offset`, seconds): a message's `date` is the machine's time, as Telegram's is, and the
    page adds this to show it in the bot's clock."""

    async def record(self, kind: str, chat_id: int, message: JSON | None, **extra: Any) -> JSON:
        if self.clock_offset is not None:
            extra.setdefault("clock_offset", self.clock_offset())
        return await super().record(kind, chat_id, message, **extra)


def demo_config(data_dir: Path, port: int) -> Config:
    return Config(
        telegram=TelegramConfig(token=TOKEN, api_base=f"http://127.0.0.1:{port}", poll_timeout=20),
        database=DatabaseConfig(url=f"sqlite+aiosqlite:///{(data_dir / 'demo.db').resolve()}"),
        bot=BotConfig(admins=[ADMIN_ID]),
        org=OrgConfig(file=str(ORG_FILE), flats=str(FLATS_FILE)),
        # A quick sweep, so an escalation shows within seconds of moving the clock forward.
        complaints=ComplaintsConfig(sweep_seconds=5),
        testing=TestingConfig(enabled=True, clock_file=str((data_dir / "clock").resolve())),
    )


async def seed(db: Database, clock: ShiftedClock) -> None:
    """The demo people and groups; safe to run on every start."""
    now = clock.now()
    async with db.session() as session:
        units, users, staff, chats = (
            UnitRepo(session),
            UserRepo(session),
            StaffRepo(session),
            ChatRepo(session),
        )
        for persona in PERSONAS:
            await users.seen(persona["id"], persona["first_name"], None, now)
            if persona["compound"]:
                compound = await units.by_code(persona["compound"])
                if compound is not None:
                    await users.set_language(persona["id"], "zh")
                    await users.set_compound(persona["id"], compound.id)
            if persona["staff"]:
                code, role = persona["staff"]
                unit = await units.by_code(code)
                if unit is not None:
                    await staff.add(persona["id"], unit.id, role, None, now)
        compound = await units.by_code("xihu-zuoan")
        for chat in (RESIDENTS_GROUP, STAFF_GROUP):
            await chats.joined(chat["id"], chat["type"], chat["title"], now)
        if compound is not None:
            await chats.bind(RESIDENTS_GROUP["id"], ChatPurpose.RESIDENTS, compound.id, 1004, now)


def load_sandbox(state: SandboxState, file: Path) -> None:
    """What the sandbox kept when the demo last stopped, if it did."""
    if not file.exists():
        return
    try:
        state.restore(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("%s cannot be read (%s): the chats start empty", file, exc)


def save_sandbox(state: SandboxState, file: Path) -> None:
    tmp = file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.snapshot(), ensure_ascii=False), encoding="utf-8")
    tmp.replace(file)


async def announce_when_polling(state: SandboxState, port: int) -> None:
    """The readiness line, once the bot has asked for updates (the page is served already)."""
    await state.polled.wait()
    print(
        f"\n  Last Meter demo is running: open http://127.0.0.1:{port}/  (Ctrl+C stops it)\n",
        flush=True,
    )


def prepare_data_dir(data_dir: Path, *, reset: bool) -> None:
    """The demo's folder, emptied first on --reset."""
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)


async def run_demo(*, port: int, data_dir: Path) -> None:
    clock = ShiftedClock((data_dir / "clock").resolve())

    async def advance(seconds: float) -> float:
        return clock.advance(timedelta(seconds=seconds)).total_seconds()

    page: JSON = {
        "personas": [{k: p[k] for k in ("id", "first_name", "language_code", "role")}
                     for p in PERSONAS],
        "groups": [RESIDENTS_GROUP, STAFF_GROUP],
        # The page shows times as the bot does: in its zone, by its (shifted) clock.
        "timezone": demo_config(data_dir, port).bot.timezone,
    }  # fmt: skip
    state = DemoState(
        token=TOKEN,
        bot_id=int(TOKEN.split(":")[0]),
        clock_advance=advance,
        clock_offset=lambda: clock.offset().total_seconds(),
        demo=page,
    )
    page["bot_username"] = state.bot_username  # t.me links to it open its chat in the page
    saved = data_dir / "sandbox.json"
    load_sandbox(state, saved)
    for persona in PERSONAS:  # the bot knows these chats, as Telegram would
        state.chat_for({"id": persona["id"], "first_name": persona["first_name"]}, None)
    for chat in (RESIDENTS_GROUP, STAFF_GROUP):
        state.chat_for({"id": 0}, dict(chat))
        state.bot_status[int(chat["id"])] = "member"
    runner, bound = await start_sandbox(state, port=port)
    app = await build_application(demo_config(data_dir, bound), clock=clock)
    await seed(app.db, clock)
    async with app.db.read() as session:
        # Above every update the bot has stored, even if the sandbox's state was not saved (a
        # crash): the inbox would take a repeated id for an update it already has, and drop it.
        state.number_updates_after(await InboxRepo(session).highest_id() or 0)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    ready = asyncio.create_task(announce_when_polling(state, bound))
    try:
        await app.run(stop)
    finally:
        ready.cancel()
        await app.close()
        await runner.cleanup()
        save_sandbox(state, saved)
