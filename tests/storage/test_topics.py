"""Topics in storage (SQLite, and PostgreSQL in CI): a household supports once, votes once and
changes its vote in place; a topic moves once from the version that was read, however many press
at once; the oversight figures; migration 0011 goes down and up again on a populated database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, func, select

from bot.app import import_org
from bot.domain.oversight import TopicFigures
from bot.domain.topics import TopicStatus, Vote
from bot.flatfile import FlatSpec
from storage.db import Database, alembic_config
from storage.households import HouseholdRepo
from storage.tables import topics
from storage.topics import TopicRepo
from storage.units import UnitRepo
from storage.users import UserRepo
from tests.dbs import database_url

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "topics"))
    await database.migrate()
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        specs = [FlatSpec("3", "2", f"{n}01", n, 89.5) for n in range(1, 7)]
        await HouseholdRepo(s).import_flats(compound.id, specs, T0)
        for user_id in range(100, 110):
            await UserRepo(s).seen(user_id, f"住户{user_id}", None, T0, "zh")
    yield database
    await database.close()


async def setup(db: Database) -> tuple[int, list[int], int]:
    """The compound, its flats, and a topic proposed from the first flat."""
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        flats = [f.id for f in await HouseholdRepo(s).flats(compound.id)]
        topic = await TopicRepo(s).create(
            compound_id=compound.id,
            proposer_id=100,
            flat_id=flats[0],
            title="充电桩",
            text="建充电桩",
            photos=("p1",),
            threshold=3,
            now=T0,
        )
    return compound.id, flats, topic.id


async def test_a_household_supports_once_and_votes_once(db: Database) -> None:
    _cid, flats, topic_id = await setup(db)
    async with db.session() as s:
        repo = TopicRepo(s)
        assert await repo.support(topic_id, flats[0], 100, T0)
        assert not await repo.support(topic_id, flats[0], 101, T0)  # the same household
        assert await repo.support(topic_id, flats[1], 102, T0)
        assert await repo.cast(topic_id, flats[0], 100, Vote.NO, 8950, T0)
        assert not await repo.cast(topic_id, flats[0], 100, Vote.YES, 8950, T0 + timedelta(1))
        found = await repo.get(topic_id)
        assert found is not None and found.supporters == 2 and found.photos == ("p1",)
        assert await repo.supporters_of(topic_id) == [(flats[0], 100), (flats[1], 102)]
        assert [(b.flat_id, b.vote, b.area) for b in await repo.ballots(topic_id)] == [
            (flats[0], Vote.YES, 8950)
        ]
        assert await repo.voters(topic_id) == [100]


async def test_a_topic_moves_once_however_many_press_at_once(db: Database) -> None:
    _cid, _flats, topic_id = await setup(db)
    async with db.read() as s:
        read = await TopicRepo(s).get(topic_id)
    assert read is not None

    async def press(n: int) -> bool:
        async with db.session() as s:
            return await TopicRepo(s).move(read, T0, status=TopicStatus.DECLINED, reason=f"理由{n}")

    won = await asyncio.gather(*(press(n) for n in range(8)))
    assert won.count(True) == 1
    async with db.read() as s:
        found = await TopicRepo(s).get(topic_id)
    assert found is not None and found.status is TopicStatus.DECLINED
    assert found.version == read.version + 1


async def test_figures_count_how_far_the_topics_of_a_period_got(db: Database) -> None:
    cid, _flats, topic_id = await setup(db)
    async with db.session() as s:
        repo = TopicRepo(s)
        found = await repo.get(topic_id)
        assert found is not None
        done = T0 + timedelta(days=12)
        assert await repo.move(
            found, done, taken_up_at=T0, decided_at=done, done_at=done, status=TopicStatus.DONE
        )
        figures = await repo.figures([cid], T0 - timedelta(days=1), T0 + timedelta(days=1))
        assert figures == {cid: TopicFigures(1, 1, 1, 1, 12.0)}
        assert await repo.figures([cid], T0 + timedelta(days=1), T0 + timedelta(days=2)) == {}


async def test_migration_0011_goes_down_and_up_on_a_populated_database(db: Database) -> None:
    await setup(db)
    async with db.engine.begin() as connection:

        def down(sync: Connection) -> None:
            command.downgrade(alembic_config(sync), "0010")

        await connection.run_sync(down)
    async with db.engine.begin() as connection:

        def up(sync: Connection) -> None:
            command.upgrade(alembic_config(sync), "head")

        await connection.run_sync(up)
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(topics))).scalar_one() == 0
