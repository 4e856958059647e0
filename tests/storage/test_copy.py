"""copy-db: a district's lived-in SQLite file moves to PostgreSQL with every row, the new database
goes on numbering where the old one stopped, and a database that already holds rows is never
written to; the copy comes back to SQLite the same, for a backup."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiogram.fsm.storage.base import StorageKey
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.engine import Connection

from bot.app import import_org
from bot.domain.campaigns import SlotStatus
from bot.domain.complaints import Category
from bot.domain.lostfound import Category as ItemCategory
from bot.domain.lostfound import Kind
from bot.domain.org import StaffRole
from bot.domain.party import ActivityKind, MemberType, Method, RegStatus
from bot.domain.people import ChatPurpose
from storage.campaigns import CampaignRepo, NewCampaign, SubscriptionRepo, Target
from storage.chats import ChatRepo
from storage.complaints import ComplaintRepo
from storage.copy import CopyFailed, CopyRefused, copy_database, opened, verify_copy
from storage.db import Database, alembic_config
from storage.files import FileRepo
from storage.fsm import SQLStorage
from storage.inbox import InboxRepo
from storage.lostfound import LostFoundRepo, NewItem
from storage.outbox import OutboxRepo
from storage.party import NewActivity, NewMember, PartyRepo
from storage.stats import StatsRepo
from storage.tables import complaints, metadata, outbox, units
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import SERVER_ENV, new_postgres_url, server_url
from tests.harness import ROOT, run_cli
from tests.oversight_history import (
    AUNT_LI,
    COMMUNITY,
    RESIDENTS,
    STAFF,
    UNCLE_ZHANG,
    ZONE,
    History,
    local,
    seed_week,
)

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
GROUP = -1001234567
CHART = bytes(range(256)) * 3  # every byte value, NUL included
KEY = StorageKey(bot_id=42, chat_id=AUNT_LI.id, user_id=AUNT_LI.id)

# The example district, re-imported with 西湖左岸小区 moved under a community created after it:
# a unit whose parent has the higher id.
MOVED = """code,parent,kind,name,name_en,lat,lon,radius_m
weidu,,district,魏都区,Weidu,,,
beidajie,weidu,subdistrict,北大街道,Beidajie,,,
xinqu,beidajie,community,新区社区,Xinqu,,,
xihu-zuoan,xinqu,compound,西湖左岸小区,Xihu Zuoan,34.03,113.81,300
"""
NEW_COMPOUND = """code,parent,kind,name,name_en,lat,lon,radius_m
weidu,,district,魏都区,Weidu,,,
beidajie,weidu,subdistrict,北大街道,Beidajie,,,
xihu,beidajie,community,西湖社区,Xihu,,,
xihu-xinyuan,xihu,compound,西湖新苑,Xihu Xinyuan,34.04,113.82,250
"""


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def lived_in(path: Path) -> str:
    """An SQLite file with a week of tickets and some of everything else the bot keeps."""
    db = Database(sqlite_url(path))
    try:
        await db.migrate(ZONE)
        await import_org(db, ROOT / "org.example.toml")
        t0 = datetime(2026, 11, 1, tzinfo=UTC)
        async with db.session() as s:
            for person, code in {**STAFF, **RESIDENTS}.items():
                await UserRepo(s).seen(person.id, person.first_name, None, t0, "zh")
                unit = await UnitRepo(s).by_code(code)
                assert unit is not None
                if person in STAFF:
                    await StaffRepo(s).add(person.id, unit.id, StaffRole.SECRETARY, None, t0)
                else:
                    await UserRepo(s).set_compound(person.id, unit.id)
        week = await seed_week(db)
        await everything_else(db, week)
        await import_org(db, org_file(path.parent, MOVED))
    finally:
        await db.close()
    return sqlite_url(path)


def org_file(folder: Path, text: str) -> Path:
    path = folder / f"org-{len(list(folder.glob('org-*.csv')))}.csv"
    path.write_text(text, encoding="utf-8")
    return path


async def everything_else(db: Database, week: History) -> None:
    later = NOW + timedelta(days=30)
    async with db.session() as s:
        zuoan = await UnitRepo(s).by_code("xihu-zuoan")
        xihu = await UnitRepo(s).by_code("xihu")
        beidajie = await UnitRepo(s).by_code("beidajie")
        assert zuoan is not None and xihu is not None and beidajie is not None
        await StaffRepo(s).create_invite("join-xihu", xihu.id, StaffRole.OFFICER, COMMUNITY.id,
                                         NOW, NOW + timedelta(hours=72))  # fmt: skip
        await ChatRepo(s).joined(GROUP, "supergroup", "西湖左岸业主群", NOW)
        await ChatRepo(s).bind(GROUP, ChatPurpose.RESIDENTS, zuoan.id, COMMUNITY.id, NOW)
        await InboxRepo(s).store(
            [(7001, f"c{AUNT_LI.id}", '{"update_id": 7001}'), (7002, "c1", '{"text": "你好"}')],
            NOW,
        )
        await InboxRepo(s).mark_done(7001, NOW)
        await FileRepo(s).add("周报.png", CHART, NOW)
        await SubscriptionRepo(s).subscribe(AUNT_LI.id, NOW)
        await StatsRepo(s).claim_briefing("digest", xihu.id, date(2026, 12, 8), 2, NOW)
        tickets = ComplaintRepo(s, ZONE)
        await tickets.follow(week.tickets["T6"].id, AUNT_LI.id, NOW)
        card = await OutboxRepo(s).add(GROUP, "sendMessage", '{"text": "T6"}', 1, NOW)
        await tickets.set_card(week.tickets["T6"].id, GROUP, card, "附近的投诉")

        items = LostFoundRepo(s)

        def item(kind: Kind, reporter: int, held_at: str) -> NewItem:
            return NewItem(kind, reporter, zuoan.id, xihu.id, beidajie.id, ItemCategory.PHONE,
                           "黑色手机", "中心花坛", date(2026, 12, 7), None, held_at, False, later)  # fmt: skip

        lost = await items.create(item(Kind.LOST, AUNT_LI.id, ""), NOW)
        found = await items.create(item(Kind.FOUND, UNCLE_ZHANG.id, "门卫室"), NOW)
        await items.record_match(lost.id, found.id, 0.875, NOW)
        await items.add_claim(found.id, lost.id, AUNT_LI.id, "壳上有贴纸", NOW)

        party = PartyRepo(s)
        member = await party.register(
            NewMember(AUNT_LI.id, "李阿姨", zuoan.id, "3号楼", "区直机关党委",
                      MemberType.RETIRED, "+8613800000000"),
            NOW,
        )  # fmt: skip
        await party.decide(member.id, RegStatus.APPROVED, COMMUNITY.id, "", NOW)
        starts = NOW + timedelta(days=1)
        activity = await party.create_activity(
            NewActivity(zuoan.id, ActivityKind.CLEANUP, "楼道清理", "3号楼", starts,
                        starts + timedelta(hours=2), 10, "4821", COMMUNITY.id),
            NOW,
        )  # fmt: skip
        await party.sign_up(activity.id, AUNT_LI.id, NOW)
        await party.check_in(activity.id, AUNT_LI.id, Method.CODE, None, starts)

        slot = NOW + timedelta(hours=1)
        campaign = await CampaignRepo(s).create(
            NewCampaign("垃圾分类", "周六上午集中宣传", None, xihu.id, "每周六 09:00", NOW,
                        later, COMMUNITY.id, slot),
            NOW,
        )  # fmt: skip
        await CampaignRepo(s).take_slot(campaign.id, slot, None, SlotStatus.DONE, slot)
        sent = await OutboxRepo(s).add(GROUP, "sendMessage", '{"text": "垃圾分类"}', 2, slot)
        await CampaignRepo(s).record_send(campaign.id, slot, Target(GROUP, zuoan.id), sent)
    fsm = SQLStorage(db)
    await fsm.set_state(KEY, "Report:text")
    await fsm.set_data(KEY, {"category": "noise", "草稿": "楼上装修"})


async def every_row(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows as Python values, by primary key: read here, not by copy-db."""
    found = {}
    async with db.read() as s:
        for table in metadata.sorted_tables:
            rows = [tuple(row) for row in await s.execute(select(table))]
            keys = [list(table.columns).index(c) for c in table.primary_key.columns]
            found[table.name] = sorted(rows, key=lambda row: tuple(row[k] for k in keys))
    return found


async def highest(db: Database, column: ColumnElement[int]) -> int:
    async with db.read() as s:
        return int((await s.execute(select(func.max(column)))).scalar_one())


@pytest.fixture
async def postgres() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database (the issue's target), dropped afterwards."""
    if not os.environ.get(SERVER_ENV):
        pytest.skip(f"copy-db's target is PostgreSQL: set {SERVER_ENV} to a server's URL")
    url = new_postgres_url()
    yield url
    connection = await asyncpg.connect(server_url().replace("+asyncpg", "", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
async def source(tmp_path: Path) -> str:
    return await lived_in(tmp_path / "lastmeter.db")


async def test_a_lived_in_sqlite_file_moves_to_postgresql_with_every_row(
    postgres: str, source: str, tmp_path: Path
) -> None:
    said: list[str] = []
    async with opened(source, postgres) as (old, new):
        copied = await copy_database(old, new, batch=7, report=said.append)
        before = await every_row(old)
        filled = [name for name, rows in before.items() if rows]
        assert len(filled) >= 29, set(metadata.tables) - set(filled)  # every table there is
        assert max(len(rows) for rows in before.values()) > 7  # more than one batch
        async with old.read() as s:  # a unit whose parent came later: ids do not order units
            parent = units.alias()
            later = select(func.count()).where(
                units.c.parent_id == parent.c.id, parent.c.id > units.c.id
            )
            assert (await s.execute(later)).scalar_one() == 1

        assert copied == {name: len(rows) for name, rows in before.items()}
        assert await every_row(new) == before
        assert all(check.ok for check in await verify_copy(old, new))
        assert said == [f"migrating the target database to {head()}"]

        # A second copy into what is now a live database is refused and writes nothing.
        with pytest.raises(CopyRefused, match="not empty"):
            await copy_database(old, new)
        assert await every_row(new) == before

        # The new database numbers tickets, messages and units after the copied ones.
        week = History(new)
        await week.load()
        await week.report("new", local(8, 9), AUNT_LI, Category.NOISE, "楼上半夜装修")
        assert week.tickets["new"].id == await highest(old, complaints.c.id) + 1
        assert await highest(new, outbox.c.id) > await highest(old, outbox.c.id)
        await import_org(new, org_file(tmp_path, NEW_COMPOUND))
        async with new.read() as s:
            added = await UnitRepo(s).by_code("xihu-xinyuan")
        assert added is not None and added.id == await highest(old, units.c.id) + 1


async def test_the_copy_comes_back_to_sqlite_the_same(
    postgres: str, source: str, tmp_path: Path
) -> None:
    backup = sqlite_url(tmp_path / "backup" / "lastmeter.db")
    async with opened(source, postgres) as (old, new):
        await copy_database(old, new, report=lambda _: None)
    async with opened(postgres, backup) as (new, back):
        await copy_database(new, back, report=lambda _: None)
        assert all(check.ok for check in await verify_copy(new, back))
    async with opened(source, backup) as (old, back):
        assert await every_row(back) == await every_row(old)
        async with back.session() as s:  # one message altered in the copy: verify notices
            await s.execute(update(outbox).where(outbox.c.id == 3).values(payload="{}"))
        checks = await verify_copy(old, back)
    assert [(c.name, c.source_rows == c.target_rows) for c in checks if not c.ok] == [
        ("outbox", True)
    ]


async def test_a_copy_that_fails_part_way_leaves_the_target_empty(
    postgres: str, source: str
) -> None:
    async with opened(source, postgres) as (old, new):
        async with old.session() as s:  # SQLite keeps what PostgreSQL's varchar(128) refuses
            await UserRepo(s).seen(AUNT_LI.id, "李" * 200, None, NOW)
        with pytest.raises(CopyFailed, match=r"users: .*the target was left empty"):
            await copy_database(old, new, report=lambda _: None)
        assert not any((await every_row(new)).values())  # units, copied before users, are gone


async def test_the_command_copies_prints_each_table_and_exits_0(postgres: str, source: str) -> None:
    old = Database(source)
    expected = {name: len(rows) for name, rows in (await every_row(old)).items()}
    await old.close()

    code, out, err = await run_cli("copy-db", "--from", source, "--to", postgres)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"migrating the target database to {head()}"
    assert lines[1:-1] == [f"{name}: {rows} rows" for name, rows in expected.items()]
    assert (
        lines[-1] == f"copied and verified {sum(expected.values())} rows in {len(expected)} tables"
    )

    code, out, err = await run_cli("copy-db", "--from", source, "--to", postgres)
    assert code == 2 and out == ""
    assert err.startswith(
        "copy-db refused, the target is unchanged: the target database is not empty"
    )


async def test_a_source_behind_is_migrated_first_and_one_of_an_unknown_revision_refused(
    source: str, tmp_path: Path
) -> None:
    """Needs no PostgreSQL: the rules about revisions hold between any two databases."""
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head()).down_revision
    assert isinstance(previous, str)

    def step_back(connection: Connection) -> None:
        command.downgrade(alembic_config(connection, ZONE), previous)

    old = Database(source)
    async with old.engine.begin() as connection:
        await connection.run_sync(step_back)
    await old.close()
    said: list[str] = []
    async with opened(source, sqlite_url(tmp_path / "copy.db")) as (old, new):
        await copy_database(old, new, report=said.append, zone=ZONE)
        assert (
            said[0]
            == f"the source database is at revision {previous}: migrating it to {head()} first"
        )
        assert all(check.ok for check in await verify_copy(old, new))

        async with old.session() as s:
            await s.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    async with opened(source, sqlite_url(tmp_path / "other.db")) as (old, new):
        with pytest.raises(CopyRefused, match="revision 9999, which this version"):
            await copy_database(old, new)


def head() -> str:
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert found is not None
    return found
