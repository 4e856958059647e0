"""Prepared statements (storage/prepared.py) on a real SQLite file: SQLite's writer runs them on
the sqlite3 connection itself, and they answer, write and fail as SQLAlchemy would."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.engine import Connection, Result
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.util.typing import TupleAny

from storage import prepared as prepared_module
from storage.db import Database, count_statements
from storage.inbox import _MARK_DONE, _SEEN, _STORE, InboxRepo
from storage.outbox import _ADD, _MARK_SENT, OutboxRepo
from storage.prepared import Rows, plan_of, prepared
from storage.tables import chats, inbox, outbox, users
from storage.users import _GET, UserRepo
from tests.dbs import database_url, on_postgres, sqlite_only

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")

_CHAT = prepared(
    select(chats.c.active, chats.c.updated_at, chats.c.title).where(chats.c.id == bindparam("b_id"))
)
_ADD_CHAT = prepared(insert(chats).returning(chats.c.active, chats.c.updated_at))
_RECEIVED_AT = prepared(  # an IN list of a column with a bind processor, then another value
    select(inbox.c.update_id)
    .where(
        inbox.c.received_at.in_(bindparam("b_at", expanding=True)),
        inbox.c.key == bindparam("b_key"),
    )
    .order_by(inbox.c.update_id)
)
_TRY_AGAIN = prepared(  # every update of a chat
    update(inbox).where(inbox.c.key == bindparam("b_key")).values(attempts=inbox.c.attempts + 1)
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "prepared"))
    await database.migrate()
    yield database
    await database.close()


def update_row(update_id: int, key: str = "chat:1") -> dict[str, Any]:
    """An inbox row as the webhook stores it, without the columns that have defaults."""
    return {"update_id": update_id, "key": key, "payload": "{}", "received_at": NOW}


async def stored(db: Database) -> dict[int, tuple[str, int]]:
    """The inbox's (status, attempts) by update, read through SQLAlchemy."""
    async with db.read() as s:
        rows = await s.execute(select(inbox.c.update_id, inbox.c.status, inbox.c.attempts))
        return {row.update_id: (row.status, row.attempts) for row in rows}


def rowcount(result: Result[*TupleAny]) -> int:
    """The rows a prepared write changed (the answer must come from the fast path)."""
    assert isinstance(result, Rows), type(result)
    return result.rowcount


def refuse(*_args: object, **_kwargs: object) -> NoReturn:
    raise AssertionError("went through SQLAlchemy's Connection.execute")


@sqlite_only
async def test_marked_statements_run_without_sqlalchemys_execute(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An INSERT ... RETURNING, an UPDATE and a SELECT, with Connection.execute out of reach."""
    async with db.session() as s:  # the writer's first connection, before execute is taken away
        await UserRepo(s).get(1)
    with monkeypatch.context() as patch:
        patch.setattr(Connection, "execute", refuse)
        patch.setattr(prepared_module, "CHECK", False)  # the check runs SELECTs through execute
        async with db.session() as s:
            added = await s.execute(
                _ADD,
                {
                    "b_chat_id": 5,
                    "b_method": "sendMessage",
                    "b_payload": "{}",
                    "b_priority": 0,
                    "now": NOW,
                    "b_cause": None,
                    "b_ref_id": None,
                },
            )
            assert isinstance(added, Rows)
            item_id = added.scalar_one()
            marked = await s.execute(
                _MARK_SENT, {"item_id": item_id, "now": NOW, "b_message_id": 77}
            )
            assert isinstance(marked, Rows) and marked.rowcount == 1
            assert await UserRepo(s).get(1) is None
    async with db.read() as s:
        row = (await s.execute(select(outbox).where(outbox.c.id == item_id))).one()
    assert (row.status, row.message_id, row.attempts, row.sent_at) == ("sent", 77, 1, NOW)


@sqlite_only
async def test_an_aware_datetime_comes_back_as_the_same_instant_in_utc_and_a_boolean_as_bool(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways: the values go in through the columns' bind processors and come out through
    their result processors (RETURNING and SELECT)."""
    monkeypatch.setattr(prepared_module, "CHECK", False)  # the fast path's answer alone
    evening = datetime(2026, 11, 21, 17, 0, tzinfo=SHANGHAI)  # 09:00 UTC
    async with db.session() as s:
        added = await s.execute(_ADD_CHAT, {"id": -100, "type": "group", "updated_at": evening})
        assert isinstance(added, Rows)
        active, updated_at = added.one()
        assert active is True  # the column's default, as a bool
        assert updated_at == NOW and updated_at.tzinfo is UTC
        await s.execute(
            _ADD_CHAT, {"id": -200, "type": "group", "updated_at": NOW, "active": False}
        )
    async with db.session() as s:
        found = await s.execute(_CHAT, {"b_id": -100})
        assert isinstance(found, Rows)
        active, updated_at, title = found.one()
        assert (active, updated_at, title) == (True, NOW, "")
        assert active is True and updated_at.tzinfo is UTC
        inactive = (await s.execute(_CHAT, {"b_id": -200})).one()
        assert inactive.active is False
        raw = await s.execute(text("SELECT updated_at FROM chats WHERE id = -100"))
        assert raw.scalar_one() == "2026-11-21 09:00:00.000000"  # stored as naive UTC


@sqlite_only
async def test_an_insert_without_the_columns_that_have_defaults_stores_the_defaults(
    db: Database,
) -> None:
    async with db.session() as s:
        result = await s.execute(_STORE, update_row(1))
        assert isinstance(result, Rows) and result.rowcount == 1
        await s.execute(_STORE, {**update_row(2), "status": "failed", "attempts": 3})
    assert await stored(db) == {1: ("new", 0), 2: ("failed", 3)}


@sqlite_only
async def test_an_in_list_of_several_values_answers_the_rows_in_it(db: Database) -> None:
    async with db.session() as s:
        await s.execute(_STORE, [update_row(1), update_row(2), update_row(3)])
    async with db.session() as s:
        seen = await s.execute(_SEEN, {"b_ids": [3, 1, 99]})
        assert isinstance(seen, Rows)
        assert sorted(seen.scalars()) == [1, 3]
        assert (await s.execute(_SEEN, {"b_ids": [2]})).scalars().all() == [2]


@sqlite_only
async def test_each_value_of_an_in_list_goes_through_the_columns_bind_processor(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list's values are aware datetimes stored as naive UTC; the value after the list keeps
    its place."""
    monkeypatch.setattr(prepared_module, "CHECK", False)
    later = NOW + timedelta(hours=1)
    async with db.session() as s:
        await s.execute(
            _STORE,
            [
                update_row(1),
                {**update_row(2), "received_at": later},
                {**update_row(3), "key": "chat:2"},
                {**update_row(4), "received_at": later + timedelta(hours=1)},
            ],
        )
    async with db.session() as s:
        found = await s.execute(
            _RECEIVED_AT, {"b_at": [NOW, later.astimezone(SHANGHAI)], "b_key": "chat:1"}
        )
        assert isinstance(found, Rows)
        assert found.scalars().all() == [1, 2]


@sqlite_only
async def test_an_empty_in_list_goes_through_sqlalchemy_and_answers_nothing(
    db: Database,
) -> None:
    async with db.session() as s:
        await s.execute(_STORE, update_row(1))
        empty = await s.execute(_SEEN, {"b_ids": []})
        assert not isinstance(empty, Rows)
        assert empty.scalars().all() == []
        assert await InboxRepo(s).store([], NOW) == []


@sqlite_only
async def test_an_updates_rowcount_is_the_number_of_rows_it_changed(db: Database) -> None:
    async with db.session() as s:
        await s.execute(_STORE, [update_row(1), update_row(2), update_row(3, "chat:2")])
    async with db.session() as s:
        assert rowcount(await s.execute(_MARK_DONE, {"b_update_id": 1, "now": NOW})) == 1
        again = await s.execute(_MARK_DONE, {"b_update_id": 1, "now": NOW})
        assert rowcount(again) == 0  # handled already: status is no longer new
        assert rowcount(await s.execute(_MARK_DONE, {"b_update_id": 99, "now": NOW})) == 0
        assert rowcount(await s.execute(_TRY_AGAIN, {"b_key": "chat:1"})) == 2
        assert rowcount(await s.execute(_TRY_AGAIN, {"b_key": "chat:9"})) == 0
        assert await InboxRepo(s).mark_done(2, NOW) is True
        assert await InboxRepo(s).mark_done(2, NOW) is False
    assert await stored(db) == {1: ("done", 1), 2: ("done", 1), 3: ("new", 0)}


@sqlite_only
async def test_a_list_of_values_writes_every_row(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One executemany on the sqlite3 connection: its rowcount counts every row."""
    async with db.session() as s:
        outbox_repo = OutboxRepo(s)
        first, second, third = [
            await outbox_repo.add(5, "sendMessage", "{}", 0, NOW) for _ in range(3)
        ]
    with monkeypatch.context() as patch:
        patch.setattr(Connection, "execute", refuse)
        async with db.session() as s:
            result = await s.execute(
                _MARK_SENT,
                [
                    {"item_id": first, "now": NOW, "b_message_id": 10},
                    {"item_id": second, "now": NOW, "b_message_id": 20},
                ],
            )
            assert isinstance(result, Rows) and result.rowcount == 2
    async with db.session() as s:
        await OutboxRepo(s).mark_all_sent([(third, None)], NOW)
    async with db.read() as s:
        rows = await s.execute(
            select(outbox.c.id, outbox.c.status, outbox.c.message_id, outbox.c.sent_at)
        )
        found = {row.id: (row.status, row.message_id, row.sent_at) for row in rows}
    assert found == {
        first: ("sent", 10, NOW),
        second: ("sent", 20, NOW),
        third: ("sent", None, NOW),
    }


@sqlite_only
async def test_a_constraint_violation_raises_integrity_error_and_rolls_the_session_back(
    db: Database,
) -> None:
    async with db.session() as s:
        await s.execute(_STORE, update_row(1))
    with pytest.raises(IntegrityError) as caught:
        async with db.session() as s:
            await s.execute(_STORE, update_row(2))
            await s.execute(_STORE, update_row(1))  # the same update_id
    assert isinstance(caught.value.orig, sqlite3.IntegrityError)
    assert caught.value.statement is not None and "INSERT INTO inbox" in caught.value.statement
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            await s.execute(_STORE, [update_row(3), update_row(1)])  # executemany
    with pytest.raises(IntegrityError, match="NOT NULL"):
        async with db.session() as s:
            await s.execute(_STORE, {**update_row(4), "payload": None})
    assert await stored(db) == {1: ("new", 0)}
    async with db.session() as s:  # the writer goes on as before
        await s.execute(_STORE, update_row(5))
    assert set(await stored(db)) == {1, 5}


@sqlite_only
async def test_a_constraint_violation_in_a_savepoint_undoes_only_the_savepoint(
    db: Database,
) -> None:
    async with db.session() as s:
        await s.execute(_STORE, update_row(1))
    async with db.session() as s:
        await s.execute(_STORE, update_row(2))
        with pytest.raises(IntegrityError):
            async with s.begin_nested():
                await s.execute(_STORE, update_row(3))
                await s.execute(_STORE, update_row(1))
        await s.execute(_MARK_DONE, {"b_update_id": 2, "now": NOW})
    assert await stored(db) == {1: ("new", 0), 2: ("done", 0)}


@sqlite_only
async def test_a_missing_value_raises_statement_error_and_the_statement_does_not_run(
    db: Database,
) -> None:
    async with db.session() as s:
        await s.execute(_STORE, update_row(1))
        item_ids = [await OutboxRepo(s).add(5, "sendMessage", "{}", 0, NOW) for _ in range(2)]
    async with db.session() as s:
        with pytest.raises(StatementError, match="'now'") as caught:
            await s.execute(_MARK_DONE, {"b_update_id": 1})
        assert not isinstance(caught.value, DBAPIError)  # raised before SQLite saw it
        with pytest.raises(StatementError, match="'b_ids'"):
            await s.execute(_SEEN, {})
        with pytest.raises(StatementError, match="'now'"):
            await s.execute(
                _MARK_SENT, [{"item_id": i, "b_message_id": 1} for i in item_ids]
            )  # executemany: no row is written
    assert await stored(db) == {1: ("new", 0)}
    async with db.read() as s:
        statuses = (await s.execute(select(outbox.c.status))).scalars().all()
    assert statuses == ["pending", "pending"]


@sqlite_only
async def test_a_value_a_bind_processor_refuses_raises_statement_error(db: Database) -> None:
    """A naive datetime (UTCDateTime refuses it), as SQLAlchemy wraps the processor's error."""
    async with db.session() as s:
        with pytest.raises(StatementError, match="naive datetime"):
            await s.execute(_STORE, {**update_row(1), "received_at": NOW.replace(tzinfo=None)})


@sqlite_only
async def test_a_statement_derived_from_a_marked_one_runs_as_itself(db: Database) -> None:
    """Not as the statement it was derived from: through SQLAlchemy, with its own clauses."""
    async with db.session() as s:
        await UserRepo(s).seen(1, "Ann", None, NOW)
        await UserRepo(s).seen(2, "Bob", None, NOW)
    named_ann = _GET.where(users.c.first_name == "Ann")
    limited = _GET.limit(1)
    assert plan_of(_GET) is not None
    assert plan_of(named_ann) is None and plan_of(limited) is None
    async with db.session() as s:
        bob = await s.execute(named_ann, {"user_id": 2})
        assert not isinstance(bob, Rows)
        assert bob.all() == []
        ann = (await s.execute(named_ann, {"user_id": 1})).one()
        assert ann.first_name == "Ann" and ann.created_at == NOW
        assert [row.first_name for row in await s.execute(limited, {"user_id": 2})] == ["Bob"]


@sqlite_only
@pytest.mark.parametrize("check", [False, True], ids=["fast", "checked"])
async def test_the_writers_listeners_see_each_prepared_statement_once(
    db: Database, monkeypatch: pytest.MonkeyPatch, check: bool
) -> None:
    """With its SQL and values, as it runs (a checked SELECT: SQLAlchemy's run of it)."""
    monkeypatch.setattr(prepared_module, "CHECK", check)
    seen: list[tuple[str, Any, bool]] = []

    @event.listens_for(db.writer, "before_cursor_execute")
    def _record(
        _connection: Any, _cursor: Any, sql: str, values: Any, _context: Any, many: bool
    ) -> None:
        seen.append((sql, values, many))

    counts = count_statements(db)
    async with db.session() as s:
        item_id = await OutboxRepo(s).add(5, "sendMessage", "{}", 0, NOW)
    async with db.session() as s:
        seen.clear()
        before = counts["statements"]
        await s.execute(_STORE, [update_row(1), update_row(2)])
        await s.execute(_SEEN, {"b_ids": [1, 2]})
        await s.execute(_MARK_DONE, {"b_update_id": 1, "now": NOW})
        await s.execute(_MARK_SENT, {"item_id": item_id, "now": NOW, "b_message_id": 3})
        assert counts["statements"] - before == 4
    assert [sql.split()[0] for sql, _, _ in seen] == ["INSERT", "SELECT", "UPDATE", "UPDATE"]
    assert [many for _, _, many in seen] == [True, False, False, False]
    select_sql, select_values, _ = seen[1]
    assert "IN (?, ?)" in select_sql and list(select_values) == [1, 2]
    assert counts["write_transactions"] == 2 and counts["empty_writes"] == 0


@pytest.mark.skipif(not on_postgres(), reason="about PostgreSQL's sessions")
async def test_on_postgresql_the_mark_changes_nothing(db: Database) -> None:
    """Every statement goes through SQLAlchemy; the marked one is never compiled for a plan."""
    statement = prepared(select(inbox.c.update_id).where(inbox.c.key == bindparam("b_key")))
    plan = plan_of(statement)
    assert plan is not None
    async with db.session() as s:
        await s.execute(_STORE, [update_row(1), update_row(2, "chat:2")])
        found = await s.execute(statement, {"b_key": "chat:2"})
        assert not isinstance(found, Rows)
        assert found.scalars().all() == [2]
        assert sorted((await s.execute(_SEEN, {"b_ids": [1, 2, 3]})).scalars()) == [1, 2]
        done = await s.execute(_MARK_DONE, {"b_update_id": 1, "now": NOW})
        assert not isinstance(done, Rows)
        assert done.rowcount == 1  # type: ignore[attr-defined]
    assert plan.forms == {}
    assert await stored(db) == {1: ("done", 0), 2: ("new", 0)}


@sqlite_only
async def test_a_value_computed_at_each_run_is_computed_at_each_run(db: Database) -> None:
    """A bind whose value is a callable goes through SQLAlchemy, which calls it every time (a
    compiled form would keep its first value)."""
    calls = iter(range(1, 100))
    counted: Any = prepared(select(bindparam("b_n", callable_=lambda: next(calls))))
    async with db.session() as s:
        answers = [(await s.execute(counted)).scalar_one() for _ in range(3)]
    assert answers == [1, 2, 3]


@sqlite_only
async def test_a_glance_sees_what_was_committed_not_a_writer_in_progress(db: Database) -> None:
    """The sender's quick look (Database.glance) runs in the loop's thread on a connection of its
    own: a reply queued by a transaction still open is not due until it commits."""
    async with db.session() as s:
        await s.execute(_STORE, update_row(1))
        async with db.glance() as glance:
            assert (await glance.execute(_SEEN, {"b_ids": [1]})).all() == []
    async with db.glance() as glance:
        assert (await glance.execute(_SEEN, {"b_ids": [1]})).all() == [(1,)]
