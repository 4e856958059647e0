"""The engines and sessions; SQLite gets WAL, a busy timeout and write transactions that start at once.

A `Session` is one transaction's statements: `execute`, `begin_nested` (a savepoint) and the
dialect — all that storage/ uses. Everything is SQLAlchemy Core; no ORM session is needed.

SQLite's writers run in the event loop's own thread, on a synchronous Core connection (pysqlite).
aiosqlite would hand every call to a worker thread and back, and SQLAlchemy's async layer adds a
greenlet switch per call: together about 0.15 ms a statement where SQLite itself takes a few
microseconds, and a write transaction holds the one write lock across all of them
(bench/sqlpaths.py). The price: while another process (a CLI command) holds the write lock, this
one waits in SQLite's busy handler with its loop stopped (at most the busy timeout). The writer
keeps one connection (`KeptConnection`), lent to one transaction at a time, and the statements
every update runs are prepared (storage/prepared.py). Reads keep aiosqlite's thread: a long one (a
year's statistics) must not stop the loop; only a short look by an index (`Database.glance`: what
the sender has due) runs in the loop's thread, on a reading connection of its own. On PostgreSQL
every session is an asyncpg connection of the pool.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, TypeVarTuple, overload
from zoneinfo import ZoneInfo

import aiosqlite
from sqlalchemy import Engine, Result, Table, event, inspect, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.util.typing import TupleAny

from storage.prepared import execute_driver_sql, plan_of, run

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration, from the files' names ("0013_star_objections.py": revisions are numbered
# one after the other, tests/storage/test_migrations.py holds it to Alembic's head). A database
# at it starts without loading Alembic (6 MB and 60 ms at every start).
HEAD = max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))

# PostgreSQL advisory lock namespaces (the first of the lock's two keys).
CHAT_LOCKS = 1  # storage/inbox.py: one process at a time handles a chat's updates
LEADER_LOCKS = 2  # storage/leader.py: the replica that sweeps and sends
START_LOCKS = 3  # start-up work replicas do one after the other: 1 migrations, 2 the org import


_Ts = TypeVarTuple("_Ts")
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class Session:
    """One transaction's statements (a base: `InlineSession` for SQLite's writer, `PooledSession`
    for its reader and for PostgreSQL)."""

    dialect: str

    @overload
    async def execute(
        self, statement: TypedReturnsRows[*_Ts], params: Params = None
    ) -> Result[*_Ts]: ...

    @overload
    async def execute(self, statement: Executable, params: Params = None) -> Result[*TupleAny]: ...

    async def execute(self, statement: Executable, params: Params = None) -> Result[*TupleAny]:
        return await self._run(statement, params)

    async def _run(self, statement: Executable, params: Params) -> Result[*TupleAny]:
        raise NotImplementedError

    def begin_nested(self) -> AbstractAsyncContextManager[None]:
        """A savepoint: the block's statements are undone when it raises."""
        raise NotImplementedError


class InlineSession(Session):
    """A synchronous Core connection's transaction, run at once in the loop's thread."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._savepoints = itertools.count(1)

    async def _run(self, statement: Executable, params: Params) -> Result[*TupleAny]:
        plan = plan_of(statement)
        if plan is not None:
            result = run(self.connection, plan, {} if params is None else params)
            if result is not None:
                return result
        return self.connection.execute(statement, params)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        # Straight to SQLite, as the prepared statements go (SQLAlchemy's nested transaction
        # costs two full executions for two words of SQL).
        name = f"lm_{next(self._savepoints)}"
        execute_driver_sql(self.connection, f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            execute_driver_sql(self.connection, f"ROLLBACK TO SAVEPOINT {name}")
            execute_driver_sql(self.connection, f"RELEASE SAVEPOINT {name}")
            raise
        execute_driver_sql(self.connection, f"RELEASE SAVEPOINT {name}")


class PooledSession(Session):
    """An async connection's transaction (aiosqlite's worker thread, or asyncpg)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    async def _run(self, statement: Executable, params: Params) -> Result[*TupleAny]:
        return await self.connection.execute(statement, params)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        async with self.connection.begin_nested():
            yield


def on_postgres(session: Session) -> bool:
    return session.dialect == "postgresql"


def upsert(session: Session, table: Table) -> Insert:
    """The session's dialect's INSERT, which has ON CONFLICT (both engines spell it alike)."""
    if on_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)


Insert = postgresql.Insert | sqlite.Insert
_S = TypeVar("_S")


class Upserts(Generic[_S]):
    """Statements with ON CONFLICT, built once for each dialect (both spell it alike, but each
    has its own INSERT): `build` is given the dialect's `insert`."""

    def __init__(self, build: Callable[[Callable[[Table], Insert]], _S]) -> None:
        self._built = {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}

    def __call__(self, session: Session) -> _S:
        return self._built[session.dialect]


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    rest = url[len(prefix) :] if url.startswith(prefix) else ""
    return Path(rest) if rest and rest != ":memory:" else None


class _RunAtOnce:
    """Stands in for the queue to aiosqlite's worker thread: runs each call as it is queued, in
    the caller's thread, and settles its future before the caller awaits it."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run at once in the event loop's thread (no worker)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no worker thread to start


def create_engine(
    url: str, *, busy_timeout_ms: int = 15000, writer: bool = True, pool_size: int = 10
) -> AsyncEngine:
    """An async engine; for SQLite, WAL mode and (for writers) BEGIN IMMEDIATE so writers queue,
    never deadlock, and run in the loop's thread. A reader's transactions begin deferred (in WAL
    they never wait for a writer) and run in aiosqlite's worker thread."""
    if url.startswith("sqlite"):
        file = _sqlite_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {}
        if writer:
            database = str(file) if file is not None else ":memory:"
            timeout = busy_timeout_ms / 1000

            async def connect() -> InlineConnection:
                connection = InlineConnection(
                    lambda: sqlite3.connect(database, timeout=timeout, check_same_thread=False)
                )
                await connection
                return connection

            options["async_creator"] = connect
        engine = create_async_engine(
            url, connect_args={"timeout": busy_timeout_ms / 1000}, **options
        )
        _sqlite_settings(engine.sync_engine, busy_timeout_ms, writer)
        return engine
    # PostgreSQL: a pool per process; a connection found dead (the server restarted) is replaced.
    return create_async_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


def create_inline_engine(url: str, *, busy_timeout_ms: int = 15000, writer: bool = True) -> Engine:
    """SQLite's writer for sessions (or, with `writer` off, its quick reader for glances): a
    synchronous engine (pysqlite) on the same file, with the same settings, whose statements run
    in the caller's thread."""
    file = _sqlite_file(url)
    engine = create_sync_engine(
        f"sqlite:///{file}" if file is not None else "sqlite://",
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    )
    _sqlite_settings(engine, busy_timeout_ms, writer=writer)
    return engine


def _sqlite_settings(engine: Engine, busy_timeout_ms: int, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions (SQLAlchemy's aiosqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    inline = not engine.dialect.is_async  # the writer's sqlite3 connection: no need of a context

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
        # another writer committed in between; taking the write lock up front makes it wait.
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        if inline:
            execute_driver_sql(connection, begin)
        else:
            connection.exec_driver_sql(begin)


class KeptConnection:
    """A synchronous connection kept open (no pool checkout per transaction) and lent to one
    transaction at a time, the others waiting their turn on an asyncio lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.turn = asyncio.Lock()
        self._connection: Connection | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        async with self.turn:
            if self._connection is None:
                self._connection = self.engine.connect()
            connection = self._connection
            try:
                with connection.begin():
                    yield InlineSession(connection)
            finally:
                if connection.invalidated or connection.closed:
                    connection.close()
                    self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


class Database:
    """Owns the engine; hands out sessions, one transaction each."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 15000, pool_size: int = 10) -> None:
        self.url = url
        # `engine` for migrations, tools and tests; sessions write through `writer` (SQLite: a
        # synchronous engine in the loop's thread; PostgreSQL: the same engine's pool).
        self.engine = create_engine(url, busy_timeout_ms=busy_timeout_ms, pool_size=pool_size)
        sqlite_file = url.startswith("sqlite")
        self.inline: Engine | None = (
            create_inline_engine(url, busy_timeout_ms=busy_timeout_ms) if sqlite_file else None
        )
        self.writer: Engine = self.inline if self.inline is not None else self.engine.sync_engine
        self.reader = (
            create_engine(url, busy_timeout_ms=busy_timeout_ms, writer=False)
            if sqlite_file
            else self.engine
        )
        self.glancer: Engine | None = (
            create_inline_engine(url, busy_timeout_ms=busy_timeout_ms, writer=False)
            if sqlite_file
            else None
        )
        # SQLite has one writer at a time, and every transaction here takes the write lock. Waiting
        # for it in SQLite's busy handler means sleeping in steps of up to 100 ms; waiting on an
        # asyncio lock wakes the next transaction the moment the last one commits. (The busy
        # handler still arbitrates between processes.)
        self._writing = KeptConnection(self.inline) if self.inline is not None else None
        self._glancing = KeptConnection(self.glancer) if self.glancer is not None else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        if self._writing is None:
            async with self.engine.connect() as connection, connection.begin():
                yield PooledSession(connection)
            return
        async with self._writing.transaction() as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        """A read-only look (polling the inbox and outbox, finding due tickets): it takes no turn
        among the writers. Never write in it."""
        async with self.reader.connect() as connection, connection.begin():
            yield PooledSession(connection)

    @asynccontextmanager
    async def glance(self) -> AsyncIterator[Session]:
        """A short read by an index (the sender's look for what is due, a card's message id),
        run at once in the loop's thread on a reading connection of its own: no hand-off to
        aiosqlite's thread and back for each statement. It sees what was committed when it began,
        never a writer's transaction in progress. Never write in it; long reads go to `read`."""
        if self._glancing is None:
            async with self.read() as session:
                yield session
            return
        async with self._glancing.transaction() as session:
            yield session

    async def ping(self) -> None:
        """Raises when the database cannot be reached (the health check)."""
        async with self.reader.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def migrate(self, zone: ZoneInfo | None = None) -> None:
        """Apply every Alembic migration not yet applied (`zone`: the one figures are counted in
        by day, for migrations that rebuild them)."""
        async with self.engine.begin() as connection:
            if await connection.run_sync(revision) == HEAD:
                return
            await connection.run_sync(_upgrade, zone)

    async def close(self) -> None:
        for kept in (self._writing, self._glancing):
            if kept is not None:
                kept.close()
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()


def revision(connection: Connection) -> str | None:
    """The migration a database is at (None: none applied yet)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    found = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return str(found[0]) if found else None


def alembic_config(
    connection: Connection | None = None, zone: ZoneInfo | None = None
) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    cfg.attributes["zone"] = zone
    return cfg


def _upgrade(connection: Connection, zone: ZoneInfo | None) -> None:
    if connection.dialect.name == "postgresql":
        # Replicas starting together migrate one after the other (PostgreSQL's DDL is
        # transactional: the second finds the schema at head).
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({START_LOCKS}, 1)")
    from alembic import command

    command.upgrade(alembic_config(connection, zone), "head")


def count_statements(db: Database) -> dict[str, int]:
    """Counters of the database work, kept up to date as it happens (for bench/): statements of
    the writer (with each BEGIN) and of the reader, write transactions committed, and those of
    them that wrote nothing (SQLite: each held the one write lock; on PostgreSQL a transaction
    that only read counts as a read)."""
    counts = {"statements": 0, "write_transactions": 0, "empty_writes": 0, "read_statements": 0}
    wrote = {"now": False}

    @event.listens_for(db.writer, "begin")
    def _begin(_connection: Connection) -> None:
        wrote["now"] = False

    @event.listens_for(db.writer, "before_cursor_execute")
    def _statement(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counts["statements"] += 1
        if not statement.lstrip().upper().startswith(("SELECT", "BEGIN", "PRAGMA")):
            wrote["now"] = True

    shared = db.reader is db.engine  # PostgreSQL: reads are transactions of the same engine

    @event.listens_for(db.writer, "commit")
    def _commit(_connection: Connection) -> None:
        if shared and not wrote["now"]:
            return  # a read there (no write lock to hold for nothing)
        counts["write_transactions"] += 1
        counts["empty_writes"] += not wrote["now"]

    if db.reader is not db.engine:

        @event.listens_for(db.reader.sync_engine, "before_cursor_execute")
        def _read(*_args: Any) -> None:
            counts["read_statements"] += 1

    if db.glancer is not None:

        @event.listens_for(db.glancer, "before_cursor_execute")
        def _glance(*_args: Any) -> None:
            counts["read_statements"] += 1

    return counts
