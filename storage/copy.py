"""Copy a whole database into an empty one (SQLite to PostgreSQL, or back), then prove the copy.

The copy is one transaction on the target: it either holds every row or nothing. Rows are streamed
from one read transaction on the source (a consistent snapshot) in batches, table by table in
dependency order, and read and written through the Core tables, so both sides hold the same Python
values (aware UTC datetimes, dates, bytes) whatever the engine stores underneath.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Select, Table, func, inspect, literal, select
from sqlalchemy.engine import URL, Row, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InvalidRequestError,
    NoSuchModuleError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database, alembic_config
from storage.tables import metadata

VERSION_TABLE = "alembic_version"  # Alembic's own; the target gets its own by migrating

Report = Callable[[str], None]


class CopyRefused(Exception):
    """Nothing was copied and the target is as it was: a URL is wrong, a database cannot be
    opened, is of an unknown revision, or the target already holds rows."""


class CopyFailed(Exception):
    """The copy stopped part-way; its transaction was rolled back, so the target holds no row."""


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One table after a copy: how many rows each side holds, and whether they are the same."""

    name: str
    source_rows: int
    target_rows: int
    same_rows: bool

    @property
    def ok(self) -> bool:
        return self.same_rows and self.source_rows == self.target_rows


@asynccontextmanager
async def opened(source_url: str, target_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """The source and target databases, closed afterwards; refused when a URL names no database
    this program can open, the source file does not exist, or both URLs name one database."""
    source_at, target_at = _parsed(source_url, "source"), _parsed(target_url, "target")
    if _same_database(source_at, target_at):
        raise CopyRefused("the source and the target are the same database")
    file = _sqlite_file(source_at)
    if file is not None and not file.is_file():
        raise CopyRefused(f"the source database file {file} does not exist")
    source = _database(source_url, "source")
    try:
        target = _database(target_url, "target")
        try:
            yield source, target
        finally:
            await target.close()
    finally:
        await source.close()


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch: int = 1000,
    report: Report = print,
    zone: ZoneInfo | None = None,
) -> dict[str, int]:
    """Copy every row of every table from `source` into `target`, which must be empty; returns
    the rows copied per table. The source is first migrated to the latest revision (`zone`: the
    one its migrations count days in) and the target created or migrated to it."""
    await _bring_source_to_head(source, report, zone)
    await _prepare_target(target, report)
    copied: dict[str, int] = {}
    async with _snapshot(source) as read, target.engine.begin() as write:
        # Checked again inside the transaction that writes: nothing may have arrived meanwhile.
        await _refuse_unless_empty(write)
        for table in metadata.sorted_tables:
            expected = await _count(read, table)
            try:
                done = await _copy_table(read, write, table, batch)
            except SQLAlchemyError as exc:
                raise CopyFailed(
                    f"{table.name}: {_first_line(exc)}; the target was left empty"
                ) from exc
            if done != expected:
                raise CopyFailed(
                    f"{table.name}: copied {done} of {expected} rows (a {table.name} row whose "
                    "parent is missing or circular); the target was left empty"
                )
            copied[table.name] = done
        if write.dialect.name == "postgresql":
            await _reset_sequences(write)
    return copied


async def verify_copy(source: Database, target: Database) -> list[TableCheck]:
    """Each table's row count on both sides, and whether the rows are the same: every row's
    values, read through the same tables, fingerprinted whatever order the engines return them."""
    checks = []
    async with _snapshot(source) as left, _snapshot(target) as right:
        for table in metadata.sorted_tables:
            source_rows, source_print = await _fingerprint(left, table)
            target_rows, target_print = await _fingerprint(right, table)
            checks.append(
                TableCheck(table.name, source_rows, target_rows, source_print == target_print)
            )
    return checks


# --- opening the two databases --------------------------------------------------------------------


def _parsed(url: str, role: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise CopyRefused(f"the {role} URL {url!r} is not a database URL") from exc


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _same_database(a: URL, b: URL) -> bool:
    file_a, file_b = _sqlite_file(a), _sqlite_file(b)
    if file_a is not None and file_b is not None:
        return file_a.resolve() == file_b.resolve()
    where = (a.get_backend_name(), a.host, a.port or None, a.database)
    return where == (b.get_backend_name(), b.host, b.port or None, b.database)


def _database(url: str, role: str) -> Database:
    try:
        return Database(url)
    except (ArgumentError, NoSuchModuleError, InvalidRequestError, ImportError) as exc:
        # An unknown dialect, a driver not installed, or one that is not async (sqlite://)
        raise CopyRefused(
            f"the {role} URL {_shown(make_url(url))} cannot be used ({exc}); write "
            "sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/database"
        ) from exc


async def _revision(db: Database, role: str) -> str | None:
    """The database's Alembic revision (None: it has no version table)."""
    try:
        async with db.reader.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
            if VERSION_TABLE not in names:
                return None
            rows = (
                await connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")
            ).all()
    except (OSError, DBAPIError) as exc:
        raise CopyRefused(
            f"cannot open the {role} database {_shown(db.engine.url)}: {_first_line(exc)}"
        ) from exc
    if len(rows) != 1:
        raise CopyRefused(f"the {role} database has {len(rows)} Alembic revisions, expected one")
    return str(rows[0][0])


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _unknown(role: str, revision: str) -> CopyRefused:
    return CopyRefused(
        f"the {role} database is at revision {revision}, which this version of Last Meter does not "
        "know (was it written by a newer one?)"
    )


async def _bring_source_to_head(db: Database, report: Report, zone: ZoneInfo | None) -> None:
    revision = await _revision(db, "source")
    if revision is None:
        raise CopyRefused(
            f"the source {_shown(db.engine.url)} is not a Last Meter database (no {VERSION_TABLE})"
        )
    head = _scripts().get_current_head()
    if revision == head:
        return
    if not _known(revision):
        raise _unknown("source", revision)
    report(f"the source database is at revision {revision}: migrating it to {head} first")
    try:
        await db.migrate(zone)
    except SQLAlchemyError as exc:
        raise CopyFailed(f"migrating the source failed: {_first_line(exc)}") from exc


async def _prepare_target(db: Database, report: Report) -> None:
    revision = await _revision(db, "target")
    if revision is not None and not _known(revision):
        raise _unknown("target", revision)
    async with db.reader.connect() as connection:
        names = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        present = [t for t in metadata.sorted_tables if t.name in names]
        await _refuse_unless_empty(connection, present)
    if revision != _scripts().get_current_head():
        report(f"migrating the target database to {_scripts().get_current_head()}")
        try:
            await db.migrate()
        except SQLAlchemyError as exc:
            raise CopyFailed(f"migrating the target failed: {_first_line(exc)}") from exc


async def _refuse_unless_empty(
    connection: AsyncConnection, tables: list[Table] | None = None
) -> None:
    held = []
    for table in metadata.sorted_tables if tables is None else tables:
        rows = await _count(connection, table)
        if rows:
            held.append(f"{table.name}: {rows} rows")
    if held:
        raise CopyRefused(
            f"the target database is not empty ({', '.join(held)}); copy-db only fills an empty one"
        )


@asynccontextmanager
async def _snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    """One read transaction: every table as of one moment."""
    async with db.reader.connect() as connection:
        if connection.dialect.name == "postgresql":
            # READ COMMITTED, the default, would see each table as of its own statement.
            await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            yield connection


# --- copying ---------------------------------------------------------------------------------------


async def _count(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def _copy_table(
    read: AsyncConnection, write: AsyncConnection, table: Table, batch: int
) -> int:
    copied = 0
    result = await read.stream(_in_insert_order(table))
    async for rows in result.partitions(batch):
        await write.execute(table.insert(), [row._asdict() for row in rows])
        copied += len(rows)
    return copied


def _in_insert_order(table: Table) -> Select[Any]:
    """The table's rows by primary key; a table that refers to itself (units.parent_id), parents
    before children.

    Neither a unit's id nor its path gives that order: importing an organisation file again can
    move a unit under one created later (a higher id), and a database written before a moved
    unit's subtree moved along with it keeps stale paths. So the rows are ranked by their depth
    in the tree, walked from the roots; a row whose parent is missing or circular is never
    reached, and the copy then counts one row short.
    """
    own = [fk for fk in table.foreign_keys if fk.column.table is table]
    if not own:
        return select(table).order_by(*table.primary_key.columns)
    if len(own) > 1:
        raise CopyFailed(f"{table.name} refers to itself more than once; copy-db cannot order it")
    child, parent = own[0].parent.name, own[0].column.name
    roots = select(table.c[parent].label("key"), literal(0).label("depth")).where(
        table.c[child].is_(None)
    )
    tree = roots.cte("tree", recursive=True)
    below = table.alias("below")
    tree = tree.union_all(
        select(below.c[parent], tree.c.depth + 1).where(below.c[child] == tree.c.key)
    )
    return (
        select(table)
        .join(tree, table.c[parent] == tree.c.key)
        .order_by(tree.c.depth, *table.primary_key.columns)
    )


async def _reset_sequences(write: AsyncConnection) -> None:
    """Move each serial primary key's sequence past the copied ids, or the next insert collides
    with a copied row (PostgreSQL does not advance a sequence for explicit ids)."""
    for table in metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        top = func.max(column)
        sequence = func.pg_get_serial_sequence(table.name, column.name)
        await write.execute(select(func.setval(sequence, func.coalesce(top, 1), top.is_not(None))))


# --- verifying -------------------------------------------------------------------------------------


async def _fingerprint(connection: AsyncConnection, table: Table) -> tuple[int, int]:
    """How many rows, and a digest of them all that does not depend on their order (the engines
    sort text keys differently): the sum of each row's SHA-256, modulo 2**256."""
    rows = total = 0
    result = await connection.stream(select(table))
    async for part in result.partitions(1000):
        for row in part:
            rows += 1
            total += int.from_bytes(hashlib.sha256(_row_text(row).encode()).digest(), "big")
    return rows, total % 2**256


def _row_text(row: Row[Any]) -> str:
    return repr(tuple(bytes(v) if isinstance(v, memoryview | bytearray) else v for v in row))


def _first_line(exc: BaseException) -> str:
    text = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
