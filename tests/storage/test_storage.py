"""Storage on real SQLite files: the organisation import, invitations, the FSM storage, the inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StorageKey

from bot.domain.org import StaffRole, UnitKind
from bot.orgfile import OrgFileError, read_org_file
from storage.db import Database
from storage.fsm import SQLStorage
from storage.inbox import InboxRepo
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url
from tests.harness import ROOT

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "test"))
    await database.migrate()
    yield database
    await database.close()


async def test_a_unit_moved_by_a_later_file_takes_its_whole_subtree_along(db: Database) -> None:
    """A second file that lists only 西湖社区, now under 东大街道: its compounds and their wings,
    not in that file, move with it (staff above see them by path)."""
    from bot.domain.org import UnitKind
    from bot.orgfile import UnitSpec

    async with db.session() as s:
        await UnitRepo(s).import_specs(read_org_file(ROOT / "org.example.toml"))
    async with db.session() as s:
        moved = UnitSpec("xihu", "dongdajie", UnitKind.COMMUNITY, "西湖社区", "Xihu Community")
        assert await UnitRepo(s).import_specs([moved]) == (0, 1)
    async with db.session() as s:
        east, community = await UnitRepo(s).by_code("dongdajie"), await UnitRepo(s).by_code("xihu")
        wing = await UnitRepo(s).by_code("xihu-zuoan.property_company")
        assert east is not None and community is not None and wing is not None
        assert community.path == f"{east.path}{community.id}/"
        assert wing.path.startswith(community.path) and wing.path.count("/") == 6, wing.path


async def test_importing_twice_updates_in_place(db: Database, tmp_path: Path) -> None:
    specs = read_org_file(ROOT / "org.example.toml")
    async with db.session() as s:
        assert await UnitRepo(s).import_specs(specs) == (len(specs), 0)
    async with db.session() as s:
        assert await UnitRepo(s).import_specs(specs) == (0, len(specs))
        assert await UnitRepo(s).count() == len(specs)
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None and compound.kind is UnitKind.COMPOUND
        assert compound.radius_m == 300
        wings = await UnitRepo(s).children(compound.id)
        assert {w.kind for w in wings} == {
            UnitKind.PARTY_BRANCH,
            UnitKind.OWNERS_COMMITTEE,
            UnitKind.PROPERTY_COMPANY,
        }
        community = await UnitRepo(s).by_code("xihu")
        assert community is not None and community.id in compound.ancestor_ids


async def test_a_renamed_unit_is_updated_not_duplicated(db: Database, tmp_path: Path) -> None:
    original = tmp_path / "org.csv"
    original.write_text(
        "code,parent,kind,name,name_en,lat,lon,radius_m\n"
        "d,,district,魏都区,Weidu,,,\n"
        "s,d,subdistrict,北大街道,,,,\n"
        "c,s,community,西湖社区,,,,\n"
        "p,c,compound,西湖左岸小区,,34.03,113.81,300\n",
        encoding="utf-8",
    )
    async with db.session() as s:
        await UnitRepo(s).import_specs(read_org_file(original))
    original.write_text(
        original.read_text(encoding="utf-8").replace("西湖左岸小区", "西湖左岸"), encoding="utf-8"
    )
    async with db.session() as s:
        assert await UnitRepo(s).import_specs(read_org_file(original)) == (0, 4)
        unit = await UnitRepo(s).by_code("p")
        assert unit is not None and unit.name == "西湖左岸"
        assert await UnitRepo(s).count() == 4


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "bad.csv",
            "code,parent,kind,name,name_en,lat,lon,radius_m\nd,,city,X,,,,\n",
            "line 2: kind 'city'",
        ),
        (
            "bad.csv",
            "code,parent,kind,name,name_en,lat,lon,radius_m\nd,,district,X,,north,,\n",
            "line 2: lat, lon and radius_m must be numbers",
        ),
        ("bad.csv", "code,name\n", "line 1: expected the header"),
        (
            "bad.csv",
            "code,parent,kind,name,name_en,lat,lon,radius_m\ns,d,subdistrict,X,,,,\n",
            "parent 'd' is not defined",
        ),
        ("bad.toml", '[district]\ncode = "d"\n', "district.name: missing"),
        (
            "bad.toml",
            '[district]\ncode = "d"\nname = "D"\ncolour = 1\n',
            "district.colour: unknown key",
        ),
        (
            "bad.toml",
            '[district]\ncode = "d"\nname = "D"\n[[district.subdistricts]]\nname = "S"\n',
            "district.subdistricts[0].code: missing",
        ),
        ("bad.toml", "[district\n", "not valid TOML"),
        ("bad.txt", "x", "expected a .toml or .csv file"),
    ],
)
def test_org_file_errors_name_the_place(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OrgFileError) as error:
        read_org_file(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


async def test_an_invitation_is_used_once(db: Database) -> None:
    async with db.session() as s:
        await UnitRepo(s).import_specs(read_org_file(ROOT / "org.example.toml"))
        unit = await UnitRepo(s).by_code("xihu")
        assert unit is not None
        for uid in (1, 2, 3):
            await UserRepo(s).seen(uid, f"u{uid}", None, NOW)
        await StaffRepo(s).create_invite(
            "abc", unit.id, StaffRole.SECRETARY, 1, NOW, NOW + timedelta(hours=72)
        )
    async with db.session() as s:
        assert await StaffRepo(s).use_invite("abc", 2, NOW + timedelta(hours=1))
        assert not await StaffRepo(s).use_invite("abc", 3, NOW + timedelta(hours=1))
        invite = await StaffRepo(s).invite("abc")
        assert invite is not None and invite.used_by == 2


async def test_an_expired_invitation_cannot_be_used(db: Database) -> None:
    async with db.session() as s:
        await UnitRepo(s).import_specs(read_org_file(ROOT / "org.example.toml"))
        unit = await UnitRepo(s).by_code("xihu")
        assert unit is not None
        await UserRepo(s).seen(1, "u1", None, NOW)
        await StaffRepo(s).create_invite(
            "old", unit.id, StaffRole.OFFICER, 1, NOW, NOW + timedelta(hours=72)
        )
    async with db.session() as s:
        assert not await StaffRepo(s).use_invite("old", 2, NOW + timedelta(hours=72))


async def test_the_inbox_stores_each_update_once(db: Database) -> None:
    async with db.session() as s:
        assert await InboxRepo(s).store(
            [(5, "c1", "{}"), (3, "c1", "{}"), (5, "c1", "{}")], NOW
        ) == [5, 3]
    async with db.session() as s:
        # An update resent after a crash, with an id lower than the last, is still recognised.
        assert await InboxRepo(s).store([(3, "c1", "{}"), (4, "c1", "{}")], NOW) == [4]
        await InboxRepo(s).store([(9, "c2", "{}")], NOW)
        assert await InboxRepo(s).pending_keys(10) == ["c1", "c2"]  # the longest waiting first
        assert await InboxRepo(s).pending_keys(10, exclude=["c1"]) == ["c2"]
        assert await InboxRepo(s).pending_keys(10, received_before=NOW) == []  # just arrived
        later = NOW + timedelta(seconds=1)
        assert await InboxRepo(s).pending_keys(10, received_before=later) == ["c1", "c2"]
        taken = []
        while (item := await InboxRepo(s).next_for_key("c1")) is not None:
            taken.append(item.update_id)  # a chat's updates in Telegram's order, not arrival's
            assert await InboxRepo(s).mark_done(item.update_id, NOW)
        assert taken == [3, 4, 5]
        assert not await InboxRepo(s).mark_done(3, NOW)
        assert await InboxRepo(s).pending_keys(10) == ["c2"]


# --- the FSM storage, checked for what aiogram's own storages are tested for ------------------

KEY = StorageKey(chat_id=-42, user_id=-42, bot_id=42)


@pytest.fixture
async def fsm_storage(db: Database) -> SQLStorage:
    return SQLStorage(db)


async def test_fsm_set_and_get_state(fsm_storage: SQLStorage) -> None:
    assert await fsm_storage.get_state(key=KEY) is None
    await fsm_storage.set_state(key=KEY, state="state")
    assert await fsm_storage.get_state(key=KEY) == "state"
    await fsm_storage.set_state(key=KEY, state=State("named", group_name="G"))
    assert await fsm_storage.get_state(key=KEY) == "G:named"
    await fsm_storage.set_state(key=KEY, state=None)
    assert await fsm_storage.get_state(key=KEY) is None


async def test_fsm_set_and_get_data(fsm_storage: SQLStorage) -> None:
    assert await fsm_storage.get_data(key=KEY) == {}
    await fsm_storage.set_data(key=KEY, data={"foo": "bar", "中文": "小区"})
    assert await fsm_storage.get_data(key=KEY) == {"foo": "bar", "中文": "小区"}
    await fsm_storage.set_data(key=KEY, data={})
    assert await fsm_storage.get_data(key=KEY) == {}


async def test_fsm_refuses_data_that_is_not_a_dict(fsm_storage: SQLStorage) -> None:
    with pytest.raises(DataNotDictLikeError):
        await fsm_storage.set_data(key=KEY, data=())  # type: ignore[arg-type]


async def test_fsm_update_data_and_get_value(fsm_storage: SQLStorage) -> None:
    assert await fsm_storage.update_data(key=KEY, data={"foo": "bar"}) == {"foo": "bar"}
    assert await fsm_storage.update_data(key=KEY, data={"baz": "spam"}) == {
        "foo": "bar",
        "baz": "spam",
    }
    assert await fsm_storage.get_value(storage_key=KEY, dict_key="foo") == "bar"
    assert await fsm_storage.get_value(storage_key=KEY, dict_key="nope") is None
    assert await fsm_storage.get_value(storage_key=KEY, dict_key="nope", default=1) == 1


async def test_fsm_state_survives_a_new_storage_on_the_same_file(tmp_path: Path) -> None:
    url = database_url(tmp_path, "fsm")
    first = Database(url)
    await first.migrate()
    await SQLStorage(first).set_state(KEY, "Onboarding:compound")
    await SQLStorage(first).set_data(KEY, {"step": 2})
    await first.close()
    second = Database(url)
    assert await SQLStorage(second).get_state(KEY) == "Onboarding:compound"
    assert await SQLStorage(second).get_data(KEY) == {"step": 2}
    await second.close()


async def test_fsm_keys_keep_threads_and_destinies_apart(fsm_storage: SQLStorage) -> None:
    other = StorageKey(chat_id=-42, user_id=-42, bot_id=42, thread_id=7, destiny="x")
    await fsm_storage.set_state(KEY, "a")
    await fsm_storage.set_state(other, "b")
    assert await fsm_storage.get_state(KEY) == "a"
    assert await fsm_storage.get_state(other) == "b"


async def test_conversations_kept_outside_the_database_are_written_after_the_commit(
    db: Database,
) -> None:
    """[fsm] storage = "redis": during an update the handler reads its own writes, nothing reaches
    the store before `apply` (after the commit), and an update that fails writes nothing."""
    from aiogram.fsm.storage.memory import MemoryStorage

    from storage.fsm import AfterCommit, Held, bind_session

    inner = MemoryStorage()
    storage = AfterCommit(inner)
    await storage.set_state(KEY, "Report:category")  # outside an update: at once
    await storage.set_data(KEY, {"step": 1})
    held = Held()
    async with db.session() as session:
        with bind_session(session, held):
            await storage.set_state(KEY, "Report:text")
            assert await storage.update_data(KEY, {"category": "repair"}) == {
                "step": 1,
                "category": "repair",
            }
            assert await storage.get_state(KEY) == "Report:text"
            assert await inner.get_state(KEY) == "Report:category"  # not yet
    await storage.apply(held)
    assert await inner.get_state(KEY) == "Report:text"
    assert await inner.get_data(KEY) == {"step": 1, "category": "repair"}

    failed = Held()
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            with bind_session(session, failed):
                await storage.set_state(KEY, None)
                raise RuntimeError("the handler failed: its transaction rolls back")
    assert await inner.get_state(KEY) == "Report:text"  # the inbox never applies `failed`
    await storage.close()


async def test_the_first_two_tickets_of_a_day_filed_at_once_get_1_and_2(db: Database) -> None:
    """Two transactions at once (on PostgreSQL, two connections; SQLite takes turns)."""
    import asyncio

    from storage.complaints import ComplaintRepo

    async def take() -> int:
        async with db.session() as s:
            number = await ComplaintRepo(s).next_in_sequence("WD-20261121")
            await asyncio.sleep(0.05)  # still open while the other one asks
            return number

    assert sorted(await asyncio.gather(take(), take())) == [1, 2]
    async with db.session() as s:
        assert await ComplaintRepo(s).next_in_sequence("WD-20261121") == 3
