"""Group notices on a real database: a notice is remembered with the row that sent it, edited only
when its text changes, never in a group the bot has left; twenty members tapping "sign up" at once
leave the notice showing the true count (the last edit says full, without the button); sweeps run
four at a time at an activity's end and at a find's expiry edit each notice exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import import_org
from bot.config import Config
from bot.delivery.outbox import EDIT_MESSAGE_TEXT, SEND_MESSAGE
from bot.domain.errors import Refused
from bot.domain.lostfound import Category, Draft, Kind
from bot.domain.party import ActivityKind, MemberType, RegStatus
from bot.domain.people import Actor, ChatPurpose, User
from bot.i18n import build_i18n
from bot.services import lostfound, party
from bot.services.desk import open_desk
from bot.services.matcher import Matcher
from storage.chats import ChatRepo
from storage.db import Database
from storage.notices import NoticeKind, NoticeRepo
from storage.party import NewActivity, NewMember, PartyRepo
from storage.tables import outbox
from storage.units import UnitRepo
from storage.users import UserRepo
from tests.dbs import database_url
from tests.harness import FixedClock

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
START = T0 + timedelta(days=2)
PEOPLE = range(200, 220)
GROUP, GONE_GROUP = -9101, -9102
ZH = build_i18n("zh")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "notices"))
    await database.migrate()
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        for chat_id in (GROUP, GONE_GROUP):
            await ChatRepo(s).joined(chat_id, "group", f"群 {chat_id}", T0)
            await ChatRepo(s).bind(chat_id, ChatPurpose.RESIDENTS, compound.id, 1, T0)
        for user_id in PEOPLE:
            await UserRepo(s).seen(user_id, f"党员{user_id}", None, T0, "zh")
            await UserRepo(s).set_compound(user_id, compound.id)
            member = await PartyRepo(s).register(
                NewMember(user_id, f"党员{user_id}", compound.id, "1号楼", "区直机关党委",
                          MemberType.WORKING, None),
                T0,
            )  # fmt: skip
            await PartyRepo(s).decide(member.id, RegStatus.APPROVED, 1, "", T0)
    yield database
    await database.close()


def actor(user_id: int, compound_id: int) -> Actor:
    return Actor(User(user_id, f"党员{user_id}", None, "zh", compound_id, "zh"), (), False, "zh")


async def group_rows(db: Database, chat_id: int = GROUP) -> list[tuple[str, dict[str, Any], int]]:
    """What was written to the group: (method, parameters, the row an edit refers to)."""
    async with db.read() as s:
        rows = await s.execute(
            select(outbox.c.method, outbox.c.payload, outbox.c.ref_id, outbox.c.id)
            .where(outbox.c.chat_id == chat_id)
            .order_by(outbox.c.id)
        )
        return [(r.method, json.loads(r.payload), r.ref_id or r.id) for r in rows]


async def test_a_notice_is_edited_only_when_its_text_changes(db: Database) -> None:
    async with db.session() as s:
        repo = NoticeRepo(s)
        first = await repo.add(NoticeKind.FOUND, 7, GROUP, 101, "zh", "招领 F7", T0)
        await repo.add(NoticeKind.FOUND, 7, GONE_GROUP, 102, "zh", "招领 F7", T0)
        await repo.add(NoticeKind.ACTIVITY, 7, GROUP, 103, "zh", "活动 7", T0)
        await ChatRepo(s).set_active(GONE_GROUP, False, T0)  # the bot was removed from it

        notices = await repo.of(NoticeKind.FOUND, 7)
        assert [(n.id, n.chat_id, n.outbox_id, n.locale) for n in notices] == [
            (first, GROUP, 101, "zh")
        ]
        assert not await repo.show(first, "招领 F7", T0)  # the same text: no edit
        assert await repo.show(first, "招领 F7 已归还", T0)
        assert not await repo.show(first, "招领 F7 已归还", T0)
        assert [n.shown for n in await repo.of(NoticeKind.FOUND, 7)] == ["招领 F7 已归还"]
        assert [n.shown for n in await repo.of(NoticeKind.ACTIVITY, 7)] == ["活动 7"]
        assert await repo.of(NoticeKind.FOUND, 8) == []


async def new_activity(db: Database, capacity: int) -> tuple[int, int]:
    """An activity at 西湖左岸 with its notice posted in the group; (its id, the compound's)."""
    with ZH.context():
        async with open_desk(db, FixedClock(T0), Config(), Matcher(), "bot") as desk:
            compound = await desk.units.by_code("xihu-zuoan")
            assert compound is not None
            found = await desk.party.create_activity(
                NewActivity(compound.id, ActivityKind.PATROL, "夜间巡逻", "东门", START,
                            START + timedelta(hours=2), capacity, "1234", 1),
                T0,
            )  # fmt: skip
            await party.announce(desk, found)
            await ChatRepo(desk.session).set_active(GONE_GROUP, False, T0)
            return found.id, compound.id


async def test_twenty_sign_ups_at_once_leave_the_notice_true(db: Database) -> None:
    activity_id, compound_id = await new_activity(db, capacity=5)

    async def tap(user_id: int) -> bool:
        with ZH.context():
            try:
                async with open_desk(db, FixedClock(T0), Config(), Matcher(), "bot") as desk:
                    await party.sign_up(desk, actor(user_id, compound_id), activity_id)
                    return True
            except Refused:
                return False

    taken = await asyncio.gather(*(tap(user_id) for user_id in PEOPLE))

    assert sum(taken) == 5
    rows = await group_rows(db)
    assert [method for method, _p, _r in rows] == [SEND_MESSAGE] + [EDIT_MESSAGE_TEXT] * 5
    notice_id = rows[0][2]
    assert all(ref == notice_id for _m, _p, ref in rows)
    counted = ZH.gettext("🙋 Signed up: {signed}/{capacity}", locale="zh")
    for signed, (_m, params, _r) in enumerate(rows[1:5], start=1):
        assert counted.format(signed=signed, capacity=5) in params["text"]
        assert "reply_markup" in params  # places left: the sign-up button stays
    last = rows[-1][1]
    full = ZH.gettext("🈵 Full: {signed}/{capacity} signed up.", locale="zh")
    assert full.format(signed=5, capacity=5) in last["text"]
    assert "reply_markup" not in last  # the button goes
    gone = await group_rows(db, GONE_GROUP)
    assert [method for method, _p, _r in gone] == [SEND_MESSAGE]  # the bot left: no edits


async def test_four_sweeps_at_once_edit_each_notice_once(db: Database) -> None:
    activity_id, compound_id = await new_activity(db, capacity=10)
    clock = FixedClock(T0)
    with ZH.context():
        async with open_desk(db, clock, Config(), Matcher(), "bot") as desk:
            await party.sign_up(desk, actor(PEOPLE[0], compound_id), activity_id)
            draft = Draft(
                kind=Kind.FOUND,
                compound_id=compound_id,
                category=Category.KEYS,
                text="一串钥匙，蓝色门禁卡",
                place="东门",
                day=date(2026, 11, 20),
                held_at="@gate",
                announce=True,
            )
            found = await lostfound.file_report(desk, actor(PEOPLE[1], compound_id), draft)

    async def sweep_four_times_at(at: datetime) -> None:
        clock.at = at
        with ZH.context():
            await asyncio.gather(
                *(
                    one(db, clock, Config(), Matcher(), "bot")
                    for one in (party.sweep, lostfound.sweep)
                    for _ in range(4)
                )
            )

    await sweep_four_times_at(START + timedelta(hours=3))  # the activity has ended
    await sweep_four_times_at(T0 + timedelta(days=31))  # the find has expired
    await sweep_four_times_at(T0 + timedelta(days=32))

    texts = [(method, params["text"]) for method, params, _ref in await group_rows(db)]
    edits = [text for method, text in texts if method == EDIT_MESSAGE_TEXT]
    ended = ZH.gettext("🏁 Ended ({signed}/{capacity} signed up).", locale="zh")
    expired = ZH.gettext("⌛ Expired: nobody claimed it.", locale="zh")
    assert sum(ended.format(signed=1, capacity=10) in t for t in edits) == 1, edits
    assert sum(expired in t and f"F{found.id}" in t for t in edits) == 1, edits
    assert len(edits) == 3  # the sign-up, the end, the expiry
