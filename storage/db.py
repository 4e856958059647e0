"""The engine and sessions; SQLite gets WAL, a busy timeout and write transactions that start at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    rest = url[len(prefix) :] if url.startswith(prefix) else ""
    return Path(rest) if rest and rest != ":memory:" else None


def create_engine(url: str, *, busy_timeout_ms: int = 15000, writer: bool = True) -> AsyncEngine:
    """An async engine; for SQLite, WAL mode and (for writers) BEGIN IMMEDIATE so writers queue,
    never deadlock. A reader's transactions begin deferred: in WAL they never wait for a writer."""
    if url.startswith("sqlite"):
        file = _sqlite_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions (SQLAlchemy's aiosqlite recipe).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
            # another writer committed in between; taking the write lock up front makes it wait.
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

        return engine
    return create_async_engine(url, pool_pre_ping=True)


class Database:
    """Owns the engine; hands out sessions, one transaction each."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 15000) -> None:
        self.url = url
        self.engine = create_engine(url, busy_timeout_ms=busy_timeout_ms)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.reader = (
            create_engine(url, busy_timeout_ms=busy_timeout_ms, writer=False)
            if url.startswith("sqlite")
            else self.engine
        )
        self.reads = async_sessionmaker(self.reader, expire_on_commit=False)
        # SQLite has one writer at a time, and every transaction here takes the write lock. Waiting
        # for it in SQLite's busy handler means sleeping in steps of up to 100 ms; waiting on an
        # asyncio lock wakes the next transaction the moment the last one commits. (The busy
        # handler still arbitrates between processes.)
        self._turn: asyncio.Lock | None = asyncio.Lock() if url.startswith("sqlite") else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        if self._turn is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._turn, self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only look (polling the inbox and outbox, finding due tickets): it takes no turn
        among the writers. Never write in it."""
        async with self.reads() as session, session.begin():
            yield session

    async def migrate(self, zone: ZoneInfo | None = None) -> None:
        """Apply every Alembic migration not yet applied (`zone`: the one figures are counted in
        by day, for migrations that rebuild them)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade, zone)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()


def alembic_config(
    connection: Connection | None = None, zone: ZoneInfo | None = None
) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    cfg.attributes["zone"] = zone
    return cfg


def _upgrade(connection: Connection, zone: ZoneInfo | None) -> None:
    command.upgrade(alembic_config(connection, zone), "head")
