"""Households on a real database: a claim is decided once however many contacts press at once;
contacts cover their stairwell or building and nothing else; migration 0010 keeps a populated
database's rows and the schema the migrations build is the one storage/tables.py declares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select, text

from bot.app import import_org
from bot.domain.households import ResidentStatus, Tenure
from bot.flatfile import FlatSpec
from storage.db import Database, alembic_config
from storage.households import HouseholdRepo
from storage.tables import complaints, metadata, unit_days
from storage.units import UnitRepo
from storage.users import UserRepo
from tests.dbs import database_url

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def stairwell(building: str, unit: str, floors: int = 6) -> list[FlatSpec]:
    return [
        FlatSpec(building, unit, f"{floor}0{n}", floor, 89.5)
        for floor in range(1, floors + 1)
        for n in (1, 2)
    ]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "households"))
    await database.migrate()
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        specs = [*stairwell("3", "1"), *stairwell("3", "2"), *stairwell("1", "", 5)]
        assert await HouseholdRepo(s).import_flats(compound.id, specs, T0) == (len(specs), 0)
        for user_id in range(100, 110):
            await UserRepo(s).seen(user_id, f"住户{user_id}", None, T0, "zh")
    yield database
    await database.close()


async def compound_id(db: Database) -> int:
    async with db.read() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
    assert compound is not None
    return compound.id


async def test_contacts_cover_their_stairwell_or_their_building(db: Database) -> None:
    cid = await compound_id(db)
    async with db.session() as s:
        repo = HouseholdRepo(s)
        stair, _new = await repo.appoint(cid, 100, "3", "2", 1, T0)
        whole, _new = await repo.appoint(cid, 101, "3", "", 1, T0)
        again, new = await repo.appoint(cid, 100, "3", "2", 1, T0)
        assert (again, new) == (stair, False)
        assert len(await repo.flats_of([stair])) == 12
        assert len(await repo.flats_of([whole])) == 24
        assert len(await repo.flats_of([stair, whole])) == 24  # each flat once
        flat = next(f for f in await repo.flats_in(cid, "3", "2") if f.address.number == "501")
        assert {c.user_id for c in await repo.contacts_for(flat)} == {100, 101}
        other = next(f for f in await repo.flats_in(cid, "1", "") if f.address.number == "501")
        assert await repo.contacts_for(other) == []
        assert await repo.end_contact(stair.id, T0)
        assert not await repo.end_contact(stair.id, T0)
        assert [c.id for c in await repo.charges_of(100)] == []


async def test_a_claim_is_decided_once_however_many_press_at_once(db: Database) -> None:
    cid = await compound_id(db)
    async with db.session() as s:
        repo = HouseholdRepo(s)
        flat = (await repo.flats_in(cid, "3", "2"))[0]
        claim = await repo.add_resident(
            flat.id, Tenure.OWNER, ResidentStatus.PENDING, T0, user_id=100
        )

    async def press(by: int, status: ResidentStatus) -> bool:
        async with db.session() as s:
            return await HouseholdRepo(s).decide(claim.id, status, by, T0)

    won = await asyncio.gather(
        *(
            press(by, ResidentStatus.CONFIRMED if by % 2 else ResidentStatus.REJECTED)
            for by in range(1, 9)
        )
    )
    assert won.count(True) == 1
    async with db.read() as s:
        decided = await HouseholdRepo(s).resident(claim.id)
        assert decided is not None and decided.status is not ResidentStatus.PENDING
        covered = await HouseholdRepo(s).count_covered([cid])
    assert covered == ({cid: 1} if decided.confirmed else {})


async def test_a_reimport_updates_in_place_and_keeps_flats_left_out(db: Database) -> None:
    cid = await compound_id(db)
    async with db.session() as s:
        repo = HouseholdRepo(s)
        bigger = [FlatSpec("3", "2", "501", 5, 120.0), FlatSpec("3", "2", "701", 7, 89.5)]
        assert await repo.import_flats(cid, bigger, T0) == (1, 1)
        assert await repo.import_flats(cid, bigger, T0) == (0, 0)
        assert (await repo.count_flats([cid]))[cid] == 12 + 12 + 10 + 1


def upgrade_to(revision: str) -> Callable[[Connection], None]:
    return lambda connection: command.upgrade(alembic_config(connection), revision)


async def test_migration_0010_keeps_a_populated_database(tmp_path: Path) -> None:
    db = Database(database_url(tmp_path, "m10"))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(upgrade_to("0009"))
        await import_org(db, ROOT / "org.example.toml")
        async with db.session() as s:
            compound = await UnitRepo(s).by_code("xihu-zuoan")
            assert compound is not None
            await UserRepo(s).seen(100, "住户", None, T0, "zh")
            await s.execute(
                text(
                    "INSERT INTO complaints (number, reporter_id, anonymous, compound_id, "
                    "category, text, photos, status, unit_id, version, window_start, stage, "
                    "unsatisfied, created_at, updated_at) VALUES ('WD-1', 100, false, :c, "
                    "'sanitation', '垃圾', '[]', 'dispatched', :c, 1, :t, 0, 0, :t, :t)"
                ),
                {"c": compound.id, "t": T0.replace(tzinfo=None)},
            )
            await s.execute(
                text("INSERT INTO unit_days (day, unit_id, handed, signed, signed_in_time, "
                     "sign_seconds, completed, complete_seconds, returned, closed, resolved, "
                     "rated, pleased) VALUES ('2026-12-01', :c, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1)"),
                {"c": compound.id},
            )  # fmt: skip
        async with db.engine.begin() as connection:
            await connection.run_sync(upgrade_to("0010"))
        async with db.read() as s:
            ticket = (await s.execute(select(complaints))).one()
            assert (ticket.number, ticket.flat_id, ticket.proxy_for) == ("WD-1", None, None)
            day = (await s.execute(select(unit_days))).one()
            assert (day.rated, day.pleased, day.proxy_rated, day.proxy_pleased) == (2, 1, 0, 0)
            assert (await s.execute(select(func.count()).select_from(complaints))).scalar() == 1
    finally:
        await db.close()


async def test_the_migrations_build_the_declared_schema(tmp_path: Path) -> None:
    db = Database(database_url(tmp_path, "schema"))
    try:
        await db.migrate()
        async with db.engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        assert diff == []
    finally:
        await db.close()
