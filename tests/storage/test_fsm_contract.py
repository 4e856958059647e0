"""The FSM storages against the contract aiogram's own storages are tested for (its
tests/test_fsm/storage/test_storages.py), and the corners found beyond it.

Each storage the bot can run on is checked the two ways the bot calls it: at once (tools, tests) and
inside an update (SQL: the update's one transaction; Redis: writes held until after the commit).
The SQL storage runs on SQLite, or on PostgreSQL with LASTMETER_TEST_DB=postgresql; Redis needs
LASTMETER_TEST_REDIS (scripts/services.sh start prints both).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from storage.db import Database, alembic_config
from storage.fsm import AfterCommit, Held, SQLStorage, bind_session, storage_key
from storage.tables import fsm
from tests import dbs

KEY = StorageKey(bot_id=42, chat_id=-100, user_id=7)


@dataclass
class Subject:
    storage: BaseStorage
    update: Callable[[], AbstractAsyncContextManager[None]]  # where the calls run
    stored: Callable[[], Awaitable[int]]  # how many rows (keys) the storage holds, committed


@asynccontextmanager
async def at_once() -> AsyncIterator[None]:
    yield


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(dbs.database_url(tmp_path, "fsm"))
    await database.migrate()
    yield database
    await database.close()


async def rows(db: Database) -> int:
    async with db.read() as s:
        return int((await s.execute(select(func.count()).select_from(fsm))).scalar_one())


@pytest.fixture(params=["sql", "sql-in-update", "redis", "redis-in-update"])
async def subject(request: pytest.FixtureRequest, db: Database) -> AsyncIterator[Subject]:
    if request.param.startswith("sql"):
        sql = SQLStorage(db)

        @asynccontextmanager
        async def in_transaction() -> AsyncIterator[None]:
            async with db.session() as session:
                with bind_session(session):
                    yield

        update = in_transaction if request.param == "sql-in-update" else at_once
        yield Subject(sql, update, lambda: rows(db))
        return

    from aiogram.fsm.storage.redis import RedisStorage

    prefix = f"lmtest-fsm-{secrets.token_hex(4)}"  # apart from anything else on the server
    redis = RedisStorage.from_url(
        dbs.redis_url(), key_builder=DefaultKeyBuilder(prefix=prefix, with_destiny=True)
    )
    storage = AfterCommit(redis)

    @asynccontextmanager
    async def held_until_commit() -> AsyncIterator[None]:
        held = Held()
        async with db.session() as session:
            with bind_session(session, held):
                yield
        await storage.apply(held)

    async def keys() -> int:
        return len(await redis.redis.keys(f"{prefix}:*"))

    update = held_until_commit if request.param == "redis-in-update" else at_once
    try:
        yield Subject(storage, update, keys)
    finally:
        for name in await redis.redis.keys(f"{prefix}:*"):
            await redis.redis.delete(name)
        await storage.close()


class Flow(StatesGroup):
    class Step(StatesGroup):
        name = State()


async def test_set_and_get_state(subject: Subject) -> None:
    storage = subject.storage
    async with subject.update():
        assert await storage.get_state(KEY) is None
        await storage.set_state(KEY, "state")
        assert await storage.get_state(KEY) == "state"
        await storage.set_state(KEY, Flow.Step.name)
        assert await storage.get_state(KEY) == "Flow.Step:name"
    assert await storage.get_state(KEY) == "Flow.Step:name"
    async with subject.update():
        await storage.set_state(KEY, None)
        assert await storage.get_state(KEY) is None
    assert await storage.get_state(KEY) is None
    assert await subject.stored() == 0


async def test_clearing_a_key_never_seen_stores_nothing(subject: Subject) -> None:
    storage = subject.storage
    async with subject.update():
        await storage.set_state(KEY, None)
        assert (await storage.get_state(KEY), await storage.get_data(KEY)) == (None, {})
    assert await subject.stored() == 0
    async with subject.update():
        await storage.set_data(KEY, {})
        assert (await storage.get_state(KEY), await storage.get_data(KEY)) == (None, {})
    assert await subject.stored() == 0


async def test_set_and_get_data(subject: Subject) -> None:
    storage = subject.storage

    class Typed(TypedDict, total=False):
        foo: str
        bar: str

    async with subject.update():
        assert await storage.get_data(KEY) == {}
        assert await storage.get_value(KEY, "foo") is None
        assert await storage.get_value(KEY, "foo", "baz") == "baz"
        await storage.set_data(KEY, {"foo": "bar", "中文": "小区"})
        assert await storage.get_data(KEY) == {"foo": "bar", "中文": "小区"}
        assert await storage.get_value(KEY, "foo", "baz") == "bar"
    assert await storage.get_data(KEY) == {"foo": "bar", "中文": "小区"}
    async with subject.update():
        await storage.set_data(KEY, {})
        assert await storage.get_data(KEY) == {}
        assert await storage.get_value(KEY, "foo", "baz") == "baz"
        await storage.set_data(KEY, Typed(foo="bar", bar="baz"))
        assert await storage.get_data(KEY) == {"foo": "bar", "bar": "baz"}
        with pytest.raises(DataNotDictLikeError):
            await storage.set_data(KEY, ())  # type: ignore[arg-type]
    assert await storage.get_data(KEY) == {"foo": "bar", "bar": "baz"}


async def test_update_data(subject: Subject) -> None:
    storage = subject.storage
    async with subject.update():
        assert await storage.update_data(KEY, {"foo": "bar"}) == {"foo": "bar"}
        assert await storage.update_data(KEY, {}) == {"foo": "bar"}
        assert await storage.update_data(KEY, {"baz": "spam"}) == {"foo": "bar", "baz": "spam"}
        assert await storage.update_data(KEY, {"baz": "test"}) == {"foo": "bar", "baz": "test"}
        assert await storage.get_data(KEY) == {"foo": "bar", "baz": "test"}
    assert await storage.get_data(KEY) == {"foo": "bar", "baz": "test"}


async def test_a_key_is_gone_once_both_its_state_and_data_are_cleared(subject: Subject) -> None:
    storage = subject.storage
    async with subject.update():
        await storage.set_state(KEY, "a")
        await storage.set_data(KEY, {"x": 1})
    assert await subject.stored() > 0
    async with subject.update():
        await storage.set_state(KEY, None)
    assert await subject.stored() > 0  # the data is still there
    assert await storage.get_data(KEY) == {"x": 1}
    async with subject.update():
        await storage.set_data(KEY, {})
    assert await subject.stored() == 0
    async with subject.update():
        await storage.set_data(KEY, {"y": 2})  # the other way round: data, then state
        await storage.set_state(KEY, "b")
        await storage.set_data(KEY, {})
    assert await subject.stored() > 0
    assert (await storage.get_state(KEY), await storage.get_data(KEY)) == ("b", {})
    async with subject.update():
        await storage.set_state(KEY, None)
    assert await subject.stored() == 0


OTHERS = [
    StorageKey(bot_id=43, chat_id=-100, user_id=7),
    StorageKey(bot_id=42, chat_id=-101, user_id=7),
    StorageKey(bot_id=42, chat_id=-100, user_id=8),
    StorageKey(bot_id=42, chat_id=-100, user_id=7, thread_id=5),
    StorageKey(bot_id=42, chat_id=-100, user_id=7, business_connection_id="bc"),
    StorageKey(bot_id=42, chat_id=-100, user_id=7, destiny="other"),
]


async def test_each_key_keeps_its_own_state_and_data(subject: Subject) -> None:
    storage = subject.storage
    everyone = [KEY, *OTHERS]
    if isinstance(storage, AfterCommit):
        # The Redis keys (DefaultKeyBuilder(with_destiny=True), as bot/app.py builds them) leave
        # out the bot id and the business connection id: one bot per Redis database.
        everyone = [k for k in everyone if k.bot_id == KEY.bot_id and not k.business_connection_id]
    async with subject.update():
        for n, key in enumerate(everyone):
            await storage.set_state(key, f"S:{n}")
            await storage.set_data(key, {"n": n})
    async with subject.update():
        await storage.set_state(everyone[1], None)
        await storage.set_data(everyone[1], {})
    for n, key in enumerate(everyone):
        state, data = (None, {}) if n == 1 else (f"S:{n}", {"n": n})
        assert (await storage.get_state(key), await storage.get_data(key)) == (state, data), key


async def test_a_long_key_and_a_long_state_name(subject: Subject) -> None:
    """Neither is bounded: a business connection id and a destiny are strings, a state's name is
    its groups' and its own (PostgreSQL refused more than 128 characters before 0008)."""
    storage = subject.storage
    key = StorageKey(
        bot_id=2**62, chat_id=-(2**62), user_id=2**62, thread_id=2**31,
        business_connection_id="b" * 300, destiny="d" * 300,
    )  # fmt: skip
    state = "Outer." + ".".join(["Nested"] * 100) + ":" + "s" * 500
    assert len(storage_key(key)) > 600 and len(state) > 1000
    async with subject.update():
        await storage.set_state(key, state)
        await storage.set_data(key, {"long": "x" * 10_000})
    assert await storage.get_state(key) == state
    assert await storage.get_data(key) == {"long": "x" * 10_000}
    assert await storage.get_state(KEY) is None


async def test_only_saved_data_is_stored_not_changes_to_what_was_read(subject: Subject) -> None:
    """get_data and update_data hand out copies all the way down: a nested list or dict changed
    and not saved stays as it was. (Redis mode, inside an update, used to hand out the held write's
    own nested objects, so the unsaved change reached Redis after the commit.)"""
    storage = subject.storage
    async with subject.update():
        await storage.set_data(KEY, {"items": [1], "more": {"a": 1}})
        read = await storage.get_data(KEY)
        read["items"].append(2)
        read["more"]["b"] = 2
        read["top"] = 3
        assert await storage.get_data(KEY) == {"items": [1], "more": {"a": 1}}
        updated = await storage.update_data(KEY, {"c": 3})
        updated["items"].append(4)
        assert await storage.get_value(KEY, "items") == [1]
        value: Any = await storage.get_value(KEY, "more")
        value["z"] = 0
        assert await storage.get_data(KEY) == {"items": [1], "more": {"a": 1}, "c": 3}
    assert await storage.get_data(KEY) == {"items": [1], "more": {"a": 1}, "c": 3}


async def test_fifty_first_writes_of_a_key_at_once_all_succeed(tmp_path: Path) -> None:
    """Fifty transactions write a key no row holds yet. On PostgreSQL they run at once (one
    connection each) and used to race: each found no row, each inserted, all but the first (40 of
    50 in the issue) failed on the primary key. SQLite's writers take turns (no race to lose)."""
    db = Database(dbs.database_url(tmp_path, "race"), pool_size=25)  # 25 + 25 overflow: 50
    await db.migrate()
    storage = SQLStorage(db)
    everyone = asyncio.Barrier(50)

    async def write(n: int) -> None:
        await everyone.wait()
        async with db.session() as session:
            with bind_session(session):
                if n % 2:
                    await storage.set_state(KEY, f"S:{n}")
                else:
                    await storage.set_data(KEY, {"n": n})

    try:
        outcomes = await asyncio.gather(*(write(n) for n in range(50)), return_exceptions=True)
        assert [repr(o) for o in outcomes if o is not None] == []
        assert await rows(db) == 1
        state = await storage.get_state(KEY)
        data = await storage.get_data(KEY)
        assert state in {f"S:{n}" for n in range(1, 50, 2)}
        assert data in [{"n": n} for n in range(0, 50, 2)]
    finally:
        await db.close()


async def test_migration_0008_keeps_the_rows_and_takes_long_keys(tmp_path: Path) -> None:
    """On SQLite the table is copied (batch mode); on PostgreSQL its columns change type."""
    db = Database(dbs.database_url(tmp_path, "m8"))

    def to(revision: str) -> Callable[[Connection], None]:
        return lambda connection: command.upgrade(alembic_config(connection), revision)

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(to("0007"))
        async with db.session() as s:
            await s.execute(
                text("INSERT INTO fsm (key, state, data) VALUES ('42:1:1:default', 'A:b', '{}')")
            )
        async with db.engine.begin() as connection:
            await connection.run_sync(to("0008"))
        storage = SQLStorage(db)
        old = StorageKey(bot_id=42, chat_id=1, user_id=1)
        assert await storage.get_state(old) == "A:b"
        await storage.set_data(old, {"kept": True})  # an upsert: key is still the primary key
        assert await storage.get_state(old) == "A:b"
        assert await storage.get_data(old) == {"kept": True}
        long = StorageKey(bot_id=42, chat_id=1, user_id=1, destiny="d" * 500)
        await storage.set_state(long, "s" * 500)
        assert await storage.get_state(long) == "s" * 500
        assert await rows(db) == 2
    finally:
        await db.close()


async def test_an_update_reads_a_key_once_and_a_refused_step_leaves_it_as_it_was(
    tmp_path: Path,
) -> None:
    """aiogram asks for a key's state and data several times an update: one SELECT serves them,
    and writes keep that copy true. A step undone by its savepoint (a refusal) leaves the copy as
    the database has it."""
    from sqlalchemy import event

    from storage.fsm import held_undone_on_error

    db = Database(dbs.database_url(tmp_path))
    await db.migrate()
    storage = SQLStorage(db)
    reads: list[str] = []

    @event.listens_for(db.writer, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "fsm" in statement:
            reads.append(statement)

    try:
        async with db.session() as session:
            with bind_session(session):
                assert await storage.get_state(KEY) is None
                assert await storage.get_data(KEY) == {}
                await storage.set_state(KEY, "Form:text")
                await storage.set_data(KEY, {"text": "楼道灯坏了"})
                assert await storage.get_state(KEY) == "Form:text"
                assert await storage.get_data(KEY) == {"text": "楼道灯坏了"}
                with pytest.raises(RuntimeError), held_undone_on_error():
                    async with session.begin_nested():
                        await storage.set_state(KEY, "Form:other")
                        await storage.set_data(KEY, {})
                        raise RuntimeError("refused")
                assert await storage.get_state(KEY) == "Form:text"
                assert await storage.get_data(KEY) == {"text": "楼道灯坏了"}
        assert len(reads) == 1, reads
        async with db.session() as session:  # and the database agrees
            row = (await session.execute(select(fsm.c.state, fsm.c.data))).one()
        assert row.state == "Form:text" and "楼道灯坏了" in row.data
    finally:
        await db.close()
