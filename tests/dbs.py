"""Which engine the tests' databases live on: SQLite files (the default) or PostgreSQL.

`LASTMETER_TEST_DB=postgresql` runs the same tests on PostgreSQL: each `database_url(tmp, name)`
is then a fresh database on the server named by `LASTMETER_TEST_POSTGRES` (an SQLAlchemy URL of
any database there, e.g. postgresql+asyncpg://postgres@127.0.0.1:55432/postgres), dropped when
the test session ends. `scripts/services.sh` starts such a server on loopback.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ENGINE_ENV = "LASTMETER_TEST_DB"
SERVER_ENV = "LASTMETER_TEST_POSTGRES"
REDIS_ENV = "LASTMETER_TEST_REDIS"

_made: dict[tuple[Path, str], str] = {}
_databases: set[str] = set()


def engine() -> str:
    chosen = os.environ.get(ENGINE_ENV, "sqlite")
    if chosen not in ("sqlite", "postgresql"):
        raise RuntimeError(f"{ENGINE_ENV}={chosen!r}: expected sqlite or postgresql")
    return chosen


def on_postgres() -> bool:
    return engine() == "postgresql"


def server_url() -> str:
    url = os.environ.get(SERVER_ENV, "")
    if not url.startswith("postgresql+asyncpg://"):
        raise RuntimeError(
            f"{SERVER_ENV} must name a PostgreSQL server (postgresql+asyncpg://user@host:port/db); "
            "scripts/services.sh start prints one"
        )
    return url


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _on_server(statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(_dsn(server_url()))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as pool:  # callable from sync code and from inside a running loop
        pool.submit(asyncio.run, run()).result()


def new_postgres_url() -> str:
    """A fresh, empty database on the test server (dropped at the end of the session)."""
    name = f"lmtest_{secrets.token_hex(6)}"
    _on_server(f'CREATE DATABASE "{name}"')
    _databases.add(name)
    base = server_url().rsplit("/", 1)[0]
    return f"{base}/{name}"


def database_url(tmp: Path, name: str = "bot") -> str:
    """The URL of the test's database `name`: the same URL for the same (tmp, name)."""
    if not on_postgres():
        return f"sqlite+aiosqlite:///{tmp / (name + '.db')}"
    known = _made.get((tmp, name))
    if known is None:
        known = new_postgres_url()
        _made[(tmp, name)] = known
    return known


def drop_all() -> None:
    """Drop every database this process made (end of the session)."""
    _made.clear()
    while _databases:
        name = _databases.pop()
        _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    url = os.environ.get(REDIS_ENV, "")
    if not url:
        pytest.skip(f"no Redis: set {REDIS_ENV} (scripts/services.sh start prints one)")
    return url


sqlite_only = pytest.mark.skipif(
    os.environ.get(ENGINE_ENV) == "postgresql", reason="about SQLite itself"
)
