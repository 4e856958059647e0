"""Benchmark: the database work of one update, down six paths to SQLite, against the floor.

The statements are those the bot runs for one step of a conversation (tests/inproc shows them with
SQL logged): the update stored (a look for it, the insert), its chat's next update read and marked
done, the conversation's row and the person read, the row's state and data written, the reply
queued and then marked sent (found by the outbox's index, as the sender finds it by id) — ten
statements in one write transaction, on the project's own tables in a migrated database. Six ways
to run them, in the same run:

- `Session, built per call` — storage/'s own session (storage/db.py: on SQLite the writer's
  synchronous connection in the loop's thread), each statement built as it runs, as the rarer
  paths of storage/ still build theirs;
- `Session, built once` — the same session, the statements built once with bind parameters and run
  by SQLAlchemy (what storage/ did for every update's statements before `prepared`);
- `sync Connection, built per call` and `built once` — a bare synchronous SQLAlchemy Core
  connection (pysqlite), without the session's turn among writers;
- `Session, prepared (now)` — the session with the statements marked `prepared()`
  (storage/prepared.py): compiled once and run by the sqlite3 module with SQLAlchemy's processors;
- `raw sqlite3` (the floor) — the same statements compiled once to SQL, run by the sqlite3 module.

Printed: CPU per transaction and per statement, and each path ÷ the floor. Not a test.

    python -m bench.sqlpaths [--transactions 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, event, select, update
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Executable

from storage.db import Database, Session
from storage.prepared import prepared
from storage.tables import fsm, inbox, outbox, users

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PERSON = 900_001
STATEMENTS = 10


def built(n: int) -> list[tuple[Executable, dict[str, Any] | None]]:
    """The step's statements for update `n`, built now (as storage/ builds them)."""
    key = f"1:{PERSON}:{PERSON}:default"
    state = sqlite.insert(fsm).values(key=key, state="Report:text", data="{}")
    data = sqlite.insert(fsm).values(key=key, state=None, data='{"category": "repair"}')
    return [
        (select(inbox.c.update_id).where(inbox.c.update_id.in_([n])), None),
        (
            inbox.insert().values(
                update_id=n,
                key=f"c{PERSON}",
                payload="{}",
                status="new",
                attempts=0,
                received_at=NOW,
            ),
            None,
        ),
        (
            select(inbox.c.update_id, inbox.c.key, inbox.c.payload, inbox.c.attempts)
            .where(inbox.c.key == f"c{PERSON}", inbox.c.status == "new")
            .order_by(inbox.c.update_id)
            .limit(1),
            None,
        ),
        (
            update(inbox)
            .where(inbox.c.update_id == n, inbox.c.status == "new")
            .values(status="done", handled_at=NOW),
            None,
        ),
        (select(fsm.c.state, fsm.c.data).where(fsm.c.key == key), None),
        (select(users).where(users.c.id == PERSON), None),
        (
            state.on_conflict_do_update(
                index_elements=[fsm.c.key], set_={"state": state.excluded.state}
            ),
            None,
        ),
        (
            data.on_conflict_do_update(
                index_elements=[fsm.c.key], set_={"data": data.excluded.data}
            ),
            None,
        ),
        (
            outbox.insert().values(
                chat_id=PERSON,
                method="sendMessage",
                payload='{"text": "好"}',
                priority=0,
                status="pending",
                attempts=0,
                not_before=NOW,
                created_at=NOW,
                cause=n,
            ),
            None,
        ),
        (
            update(outbox)
            .where(outbox.c.status == "pending", outbox.c.priority == 0, outbox.c.cause == n)
            .values(status="sent", attempts=outbox.c.attempts + 1, sent_at=NOW, message_id=n),
            None,
        ),
    ]


PREBUILT_KEY = f"1:{PERSON}:{PERSON}:default"


def prebuilt() -> list[Executable]:
    """The statements built once with bindparam(); `params(n)` gives update n's values."""
    state = sqlite.insert(fsm).values(key=bindparam("key"), state=bindparam("state"), data="{}")
    data = sqlite.insert(fsm).values(key=bindparam("key"), state=None, data=bindparam("data"))
    return [
        select(inbox.c.update_id).where(inbox.c.update_id.in_(bindparam("ids", expanding=True))),
        inbox.insert().values(
            update_id=bindparam("n"),
            key=bindparam("chat"),
            payload="{}",
            status="new",
            attempts=0,
            received_at=bindparam("now"),
        ),
        select(inbox.c.update_id, inbox.c.key, inbox.c.payload, inbox.c.attempts)
        .where(inbox.c.key == bindparam("chat"), inbox.c.status == "new")
        .order_by(inbox.c.update_id)
        .limit(1),
        update(inbox)
        .where(inbox.c.update_id == bindparam("n"), inbox.c.status == "new")
        .values(status="done", handled_at=bindparam("now")),
        select(fsm.c.state, fsm.c.data).where(fsm.c.key == bindparam("key")),
        select(users).where(users.c.id == bindparam("person")),
        state.on_conflict_do_update(
            index_elements=[fsm.c.key], set_={"state": state.excluded.state}
        ),
        data.on_conflict_do_update(index_elements=[fsm.c.key], set_={"data": data.excluded.data}),
        outbox.insert().values(
            chat_id=bindparam("person"),
            method="sendMessage",
            payload='{"text": "好"}',
            priority=0,
            status="pending",
            attempts=0,
            not_before=bindparam("now"),
            created_at=bindparam("now"),
            cause=bindparam("n"),
        ),
        update(outbox)
        .where(
            outbox.c.status == "pending", outbox.c.priority == 0, outbox.c.cause == bindparam("n")
        )
        .values(
            status="sent",
            attempts=outbox.c.attempts + 1,
            sent_at=bindparam("now"),
            message_id=bindparam("n"),
        ),
    ]


def params(n: int) -> dict[str, Any]:
    return {
        "ids": [n],
        "n": n,
        "chat": f"c{PERSON}",
        "now": NOW,
        "key": PREBUILT_KEY,
        "state": "Report:text",
        "data": '{"category": "repair"}',
        "person": PERSON,
    }


def consume(result: Any) -> None:
    if getattr(result, "returns_rows", True):
        result.all()


async def measure(
    transactions: int, paths: Mapping[str, Callable[[int], Awaitable[None]]]
) -> dict[str, float]:
    """CPU milliseconds per transaction of each path, the paths taking turns in rounds of 100
    (the tables grow alike under each), after 50 each to warm the caches up."""
    spent = dict.fromkeys(paths, 0.0)
    numbers = iter(range(1, 10**9))
    for run in paths.values():
        for _ in range(50):
            await run(next(numbers))
    for _ in range(max(1, transactions // 100)):
        for name, run in paths.items():
            began = time.process_time()
            for _ in range(100):
                await run(next(numbers))
            spent[name] += time.process_time() - began
    rounds = max(1, transactions // 100) * 100
    return {name: seconds * 1000 / rounds for name, seconds in spent.items()}


async def main(transactions: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        db = Database(url)
        await db.migrate()
        async with db.session() as s:
            await s.execute(users.insert().values(id=PERSON, first_name="居民", created_at=NOW))
        statements = prebuilt()
        marked = [prepared(statement) for statement in statements]

        async def session_per_call(n: int) -> None:
            async with db.session() as s:
                await _run_async(s, built(n))

        async def session_once(n: int) -> None:
            async with db.session() as s:
                values = params(n)
                for statement in statements:
                    consume(await s.execute(statement, values))

        async def session_prepared(n: int) -> None:
            async with db.session() as s:
                values = params(n)
                for statement in marked:
                    consume(await s.execute(statement, values))

        engine = create_sync_engine(f"sqlite:///{path}")

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        connection = engine.connect()

        async def sync_per_call(n: int) -> None:
            with connection.begin():
                for statement, _ in built(n):
                    consume(connection.execute(statement))

        async def sync_once(n: int) -> None:
            with connection.begin():
                values = params(n)
                for statement in statements:
                    consume(connection.execute(statement, values))

        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("PRAGMA synchronous=NORMAL")
        sql = [_raw_sql(statement) for statement in statements]

        async def floor(n: int) -> None:
            raw.execute("BEGIN IMMEDIATE")
            values = params(n) | {"ids": n, "now": NOW.isoformat(sep=" ")}
            for text, names, written in sql:
                both = written | values
                raw.execute(text, [both[name] for name in names]).fetchall()
            raw.execute("COMMIT")

        paths = {
            "Session, built per call": session_per_call,
            "Session, built once": session_once,
            "sync Connection, built per call": sync_per_call,
            "sync Connection, built once": sync_once,
            "Session, prepared (now)": session_prepared,
            "raw sqlite3 (the floor)": floor,
        }
        figures = await measure(transactions, paths)
        connection.close()
        engine.dispose()
        raw.close()
        await db.close()
    base = figures["raw sqlite3 (the floor)"]
    print(f"one update's {STATEMENTS} statements in one write transaction, {transactions} times")
    for name, ms in figures.items():
        print(
            f"  {name:<38} {ms:6.3f} ms/transaction  {ms / STATEMENTS * 1000:6.0f} µs/statement"
            f"  {ms / base:5.1f} × the floor"
        )


async def _run_async(session: Session, statements: list[tuple[Executable, Any]]) -> None:
    for statement, _ in statements:
        consume(await session.execute(statement))


def _raw_sql(statement: Any) -> tuple[str, list[str], dict[str, Any]]:
    """SQLite's text of a prebuilt statement (qmark), the names of its parameters in order (a
    one-element IN list, as the bot sends, is one placeholder) and the values written in it."""
    compiled = statement.compile(dialect=sqlite.dialect())
    text = str(compiled).replace("(__[POSTCOMPILE_ids])", "(?)")
    written = {name: value for name, value in compiled.params.items() if value is not None}
    return text, list(compiled.positiontup or []), written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000)
    asyncio.run(main(parser.parse_args().transactions))
