"""Lost and found on a real SQLite file: the sweep reminds and expires once however often it runs,
and one process's matcher sees what another process filed (the database is the truth)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import import_org
from bot.config import Config
from bot.domain.lostfound import Category, ClaimStatus, Draft, Kind, Status
from bot.domain.people import Actor, User
from bot.i18n import build_i18n
from bot.services import lostfound
from bot.services.desk import open_desk
from bot.services.matcher import Matcher
from storage.db import Database
from storage.lostfound import LostFoundRepo
from storage.tables import outbox
from storage.units import UnitRepo
from storage.users import UserRepo
from tests.dbs import database_url
from tests.harness import FixedClock

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
OWNER, FINDER, OTHER = 21, 22, 23


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "lf"))
    await database.migrate()
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        for user_id in (OWNER, FINDER, OTHER):
            await UserRepo(s).seen(user_id, f"user {user_id}", None, T0, "zh")
            await UserRepo(s).set_compound(user_id, compound.id)
    yield database
    await database.close()


def actor(user_id: int, compound_id: int) -> Actor:
    return Actor(User(user_id, f"user {user_id}", None, "zh", compound_id, "zh"), (), False, "zh")


async def file(
    db: Database, clock: FixedClock, matcher: Matcher, user_id: int, kind: Kind, text: str
) -> int:
    with build_i18n("zh").context():
        async with open_desk(db, clock, Config(), matcher, "bot") as desk:
            compound = await desk.units.by_code("xihu-zuoan")
            assert compound is not None
            draft = Draft(
                kind=kind,
                compound_id=compound.id,
                category=Category.PHONE,
                text=text,
                place="中心花坛",
                day=date(2026, 11, 20),
                held_at="@gate" if kind is Kind.FOUND else "",
                announce=False,
            )
            item = await lostfound.file_report(desk, actor(user_id, compound.id), draft)
            return item.id


async def sent_to(db: Database, chat_id: int) -> list[str]:
    async with db.session() as s:
        rows = await s.execute(
            select(outbox.c.payload).where(outbox.c.chat_id == chat_id).order_by(outbox.c.id)
        )
        return [str(r.payload) for r in rows]


async def test_a_find_filed_by_another_process_is_matched(db: Database) -> None:
    clock = FixedClock(T0)
    first, second = Matcher(), Matcher()  # two processes, each with its own index
    await file(db, clock, first, OWNER, Kind.LOST, "丢了一部黑色华为手机，透明壳")
    await file(db, clock, first, OTHER, Kind.LOST, "白色小米手机，屏幕碎了")
    clock.at += timedelta(minutes=1)
    found = await file(db, clock, second, FINDER, Kind.FOUND, "花坛边捡到华为手机，黑色，透明壳")
    told = [p for p in await sent_to(db, OWNER) if "有人捡到了" in p]
    assert len(told) == 1 and f"F{found}" in told[0]
    assert not [p for p in await sent_to(db, OTHER) if "有人捡到了" in p]

    # The first process's index learns of the find, and of its closing, from the database.
    async with db.session() as s:
        assert await LostFoundRepo(s).close(found, Status.CLOSED, clock.now())
    clock.at += timedelta(minutes=1)
    await file(db, clock, first, OWNER, Kind.LOST, "黑色华为手机 透明手机壳")
    offers = [p for p in await sent_to(db, OWNER) if "可能是您的" in p]
    assert offers == []  # the closed find is not offered
    assert found not in first.indexes[Kind.FOUND]  # and was dropped from the index


async def test_the_sweep_reminds_then_expires_once_however_often_it_runs(db: Database) -> None:
    clock = FixedClock(T0)
    matcher = Matcher()
    lost = await file(db, clock, matcher, OWNER, Kind.LOST, "橘猫，红铃铛")
    found = await file(db, clock, matcher, FINDER, Kind.FOUND, "捡到一只橘猫，戴红铃铛")
    async with db.session() as s:
        claim = await LostFoundRepo(s).add_claim(found, lost, OWNER, "红铃铛", clock.now())
        assert await LostFoundRepo(s).hold_for_claim(found, claim.id)
    config, i18n = Config(), build_i18n("zh")

    async def sweeps() -> int:
        with i18n.context():
            return sum(
                await asyncio.gather(
                    *(lostfound.sweep(db, clock, config, matcher, "bot") for _ in range(4))
                )
            )

    clock.at = T0 + timedelta(days=26, hours=23)
    assert await sweeps() == 0
    clock.at = T0 + timedelta(days=27, hours=1)
    assert await sweeps() == 2  # one reminder for each report, although four sweeps ran
    assert await sweeps() == 0
    async with db.read() as s:  # reminded reports are not read again until they expire
        assert await LostFoundRepo(s).due(clock.now(), clock.now() + timedelta(days=3)) == []
    clock.at = T0 + timedelta(days=30, minutes=1)
    assert await sweeps() == 2
    assert await sweeps() == 0
    async with db.session() as s:
        repo = LostFoundRepo(s)
        lost_item, found_item = await repo.get(lost), await repo.get(found)
        assert lost_item is not None and lost_item.status is Status.EXPIRED
        assert found_item is not None and found_item.status is Status.EXPIRED
        cancelled = await repo.claim(claim.id)
        assert cancelled is not None and cancelled.status is ClaimStatus.CANCELLED
        reminders = (
            await s.execute(
                select(func.count()).select_from(outbox).where(outbox.c.payload.contains("⏰"))
            )
        ).scalar()
    assert reminders == 2
    assert [p for p in await sent_to(db, OWNER) if "在拾得人答复前已关闭" in p]


async def test_a_report_rolled_back_never_haunts_the_index(db: Database) -> None:
    """SQLite reuses the id of a rolled-back row: the index must only hold committed reports."""
    clock, matcher = FixedClock(T0), Matcher()
    with pytest.raises(RuntimeError), build_i18n("zh").context():
        async with open_desk(db, clock, Config(), matcher, "bot") as desk:
            compound = await desk.units.by_code("xihu-zuoan")
            assert compound is not None
            draft = Draft(
                Kind.LOST, compound.id, Category.PHONE, "黑色华为手机", "东门", date(2026, 11, 20)
            )
            await lostfound.file_report(desk, actor(OWNER, compound.id), draft)
            raise RuntimeError("the handler failed after filing")
    xiaomi = await file(db, clock, matcher, OTHER, Kind.LOST, "白色小米手机，屏幕碎了")
    clock.at += timedelta(minutes=1)
    await file(db, clock, matcher, FINDER, Kind.FOUND, "捡到黑色华为手机")
    assert not [p for p in await sent_to(db, OTHER) if "有人捡到了" in p], xiaomi
