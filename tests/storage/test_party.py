"""Party members on a real SQLite file: places are never given past the capacity however many
tap at once, a registration is decided once, and the sweep reminds and checks out once however
often (and however many processes) it runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import import_org
from bot.config import Config
from bot.domain.party import ActivityKind, MemberType, Method, RegStatus
from bot.i18n import build_i18n
from bot.services import party
from bot.services.matcher import Matcher
from storage.db import Database
from storage.party import NewActivity, NewMember, PartyRepo
from storage.tables import outbox
from storage.units import UnitRepo
from storage.users import UserRepo
from tests.dbs import database_url
from tests.harness import FixedClock

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
START = T0 + timedelta(days=2)
PEOPLE = range(100, 120)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "party"))
    await database.migrate()
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
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


async def new_activity(db: Database, capacity: int) -> int:
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        found = await PartyRepo(s).create_activity(
            NewActivity(compound.id, ActivityKind.PATROL, "夜间巡逻", "东门", START,
                        START + timedelta(hours=2), capacity, "1234", 1),
            T0,
        )  # fmt: skip
        return found.id


async def test_twenty_members_tapping_at_once_take_exactly_the_places_there_are(
    db: Database,
) -> None:
    activity_id = await new_activity(db, capacity=5)

    async def tap(user_id: int) -> bool:
        async with db.session() as s:
            return await PartyRepo(s).sign_up(activity_id, user_id, T0)

    taken = await asyncio.gather(*(tap(user_id) for user_id in PEOPLE))
    assert sum(taken) == 5
    async with db.session() as s:
        repo = PartyRepo(s)
        found = await repo.activity(activity_id)
        assert found is not None and found.signed == 5 == len(await repo.signed_up(activity_id))
        lucky = [uid for uid, ok in zip(PEOPLE, taken, strict=True) if ok]
        assert await repo.cancel(activity_id, lucky[0])
        assert not await repo.cancel(activity_id, lucky[0])  # a double tap changes nothing
        found = await repo.activity(activity_id)
        assert found is not None and found.signed == 4
        assert await repo.sign_up(activity_id, lucky[0], T0)  # the place can be taken again
        assert not await repo.sign_up(activity_id, PEOPLE[-1] + 1, T0)  # full again
        assert await repo.check_in(activity_id, lucky[1], Method.CODE, None, T0)
        assert not await repo.check_in(activity_id, lucky[1], Method.CODE, None, T0)
        assert not await repo.cancel(activity_id, lucky[1])  # checked in: the place is used
        assert not await repo.check_out(activity_id, lucky[2], Method.BUTTON, T0, 10)


async def test_a_registration_is_decided_once(db: Database) -> None:
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-jiayuan")
        assert compound is not None
        repo = PartyRepo(s)
        again = await repo.register(
            NewMember(PEOPLE[0], "党员", compound.id, "2号楼", "x", MemberType.MOBILE, None), T0
        )
        mine = await repo.current(PEOPLE[0])
        assert mine is not None and mine.id == again.id and mine.status is RegStatus.PENDING
        results = [
            await repo.decide(again.id, RegStatus.APPROVED, 1, "", T0),
            await repo.decide(again.id, RegStatus.REJECTED, 2, "不对", T0),
        ]
        assert results == [True, False]
        decided = await repo.member(again.id)
        assert decided is not None and decided.status is RegStatus.APPROVED
        everyone = await repo.members_in("/", [RegStatus.MOVED])
        assert [m.user_id for m in everyone] == [PEOPLE[0]]  # the old one was superseded


async def test_reminders_and_the_end_happen_once_however_often_the_sweep_runs(
    db: Database,
) -> None:
    activity_id = await new_activity(db, capacity=10)
    async with db.session() as s:
        repo = PartyRepo(s)
        for user_id in PEOPLE[:4]:
            assert await repo.sign_up(activity_id, user_id, T0)
    clock = FixedClock(T0)
    config = Config()

    async def sweep_four_times_at(at: datetime) -> None:
        clock.at = at
        with build_i18n("zh").context():
            await asyncio.gather(
                *(party.sweep(db, clock, config, Matcher(), "bot") for _ in range(4))
            )

    await sweep_four_times_at(START - timedelta(hours=20))
    await sweep_four_times_at(START - timedelta(minutes=40))
    async with db.session() as s:
        repo = PartyRepo(s)
        for user_id in PEOPLE[:2]:
            assert await repo.check_in(activity_id, user_id, Method.LOCATION, 50, START)
    await sweep_four_times_at(START + timedelta(hours=2, minutes=5))
    await sweep_four_times_at(START + timedelta(hours=3))

    async with db.read() as s:
        rows = (await s.execute(select(outbox.c.chat_id, outbox.c.payload))).all()
        texts = [(r.chat_id, json.loads(r.payload)["text"]) for r in rows]
        for user_id in PEOPLE[:4]:
            mine = [t for chat, t in texts if chat == user_id]
            assert sum("明天开始" in t for t in mine) == 1, mine
            assert sum("一小时后开始" in t for t in mine) == 1, mine
            assert sum("自动签退" in t for t in mine) == (1 if user_id in PEOPLE[:2] else 0)
        for user_id in PEOPLE[:2]:
            present = await PartyRepo(s).attendance(activity_id, user_id)
            assert present is not None and present.check_out_method is Method.AUTO
            assert present.minutes == 120
