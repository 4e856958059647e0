"""Conversation state (aiogram FSM) kept in the database, so it survives restarts.

While an update is being handled, reads and writes go through that update's own session (bound by
`bind_session`), so the new state commits together with everything else the update changed — or not
at all. Outside an update (tests, tools) each call uses a short transaction of its own.

With `[fsm] storage = "redis"` (several replicas sharing conversations through Redis) the state
cannot commit with the database. `AfterCommit` then holds an update's writes and applies them
once its transaction has committed: a process killed before the commit leaves the conversation
where it was, and the update is handled again from there. Killed in the instant between the
commit and the Redis write, the conversation is one step behind what was done (the answer was
already sent); the SQL storage has no such instant.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Database, Session, on_postgres
from storage.prepared import prepared
from storage.tables import fsm

_current_session: ContextVar[Session | None] = ContextVar("fsm_session", default=None)
_held: ContextVar[Held | None] = ContextVar("fsm_held", default=None)
# The rows an update has read or written, by key: aiogram asks for the state and the data of the
# same key several times an update (filters, middleware, the handler); one read serves them all.
_rows: ContextVar[dict[str, tuple[str | None, str] | None] | None] = ContextVar(
    "fsm_rows", default=None
)

_KEEP = object()  # a part (state or data) an update did not change
_NO_DATA = "{}"  # the data column of a key without data

# The statements of every step of a conversation, built once (bench/sqlpaths.py); each run binds
# its values by name.
_ROW = prepared(select(fsm.c.state, fsm.c.data).where(fsm.c.key == bindparam("b_key")))
_CLEAR = {
    part: prepared(
        update(fsm).where(fsm.c.key == bindparam("b_key")).values({part: bindparam("value")})
    )
    for part in ("state", "data")
}
_DROP_EMPTY = prepared(
    fsm.delete().where(
        fsm.c.key == bindparam("b_key"), fsm.c.state.is_(None), fsm.c.data == _NO_DATA
    )
)


def _upsert(dialect: str, part: str) -> Any:
    """Insert the row with one part set, or set that part of the row already there."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(fsm).values(
        key=bindparam("b_key"),
        state=bindparam("value") if part == "state" else None,
        data=bindparam("value") if part == "data" else _NO_DATA,
    )
    return prepared(
        insert.on_conflict_do_update(index_elements=[fsm.c.key], set_={part: insert.excluded[part]})
    )


_SET = {(d, part): _upsert(d, part) for d in ("sqlite", "postgresql") for part in ("state", "data")}


@dataclass
class Held:
    """The FSM writes of one update, waiting for its transaction to commit."""

    writes: dict[StorageKey, list[Any]] = field(default_factory=dict)  # key → [state, data]


@contextmanager
def bind_session(session: Session, held: Held | None = None) -> Iterator[None]:
    """Route FSM reads and writes of the current task through the given session (SQLStorage) or
    hold them in `held` until it has committed (AfterCommit)."""
    token = _current_session.set(session)
    held_token = _held.set(held)
    rows_token = _rows.set({})
    try:
        yield
    finally:
        _rows.reset(rows_token)
        _held.reset(held_token)
        _current_session.reset(token)


@contextmanager
def held_undone_on_error() -> Iterator[None]:
    """Conversation writes held for after the commit (AfterCommit) that the block made are
    dropped when it raises, as a savepoint's rollback drops the SQL storage's."""
    held = _held.get()
    before = copy.deepcopy(held.writes) if held is not None else None
    rows = _rows.get()
    rows_before = dict(rows) if rows is not None else None
    try:
        yield
    except BaseException:
        if held is not None and before is not None:
            held.writes = before
        if rows is not None and rows_before is not None:  # the rows as the savepoint left them
            rows.clear()
            rows.update(rows_before)
        raise


def storage_key(key: StorageKey) -> str:
    parts = [str(key.bot_id), str(key.chat_id), str(key.user_id)]
    if key.thread_id is not None:
        parts.append(f"t{key.thread_id}")
    if key.business_connection_id is not None:
        parts.append(f"b{key.business_connection_id}")
    parts.append(key.destiny)
    return ":".join(parts)


class SQLStorage(BaseStorage):
    """aiogram FSM storage on the project's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Session]:
        bound = _current_session.get()
        if bound is not None:
            yield bound
            return
        async with self.db.session() as session:
            yield session

    async def _row(self, session: Session, key: str) -> tuple[str | None, str] | None:
        rows = _rows.get() if session is _current_session.get() else None
        if rows is not None and key in rows:
            return rows[key]
        found = (await session.execute(_ROW, {"b_key": key})).first()
        row = (found.state, found.data) if found else None
        if rows is not None:
            rows[key] = row
        return row

    @staticmethod
    def _wrote(name: str, part: str, value: str | None) -> None:
        """Keep the update's copy of a row true after a write (or forget it, if never read)."""
        rows = _rows.get()
        if rows is None or _current_session.get() is None:
            return
        if name not in rows:
            return
        state, data = rows[name] or (None, _NO_DATA)
        if part == "state":
            state = value
        else:
            data = value if value is not None else _NO_DATA
        rows[name] = None if state is None and data == _NO_DATA else (state, data)

    async def _write(self, key: StorageKey, part: str, value: str | None) -> None:
        """Set one part of a key's row: its "state" or its "data". Only a key with a state or
        data has a row: an empty part (no state, data "{}") never makes one, and the row goes
        once both parts are empty. Anything else is one upsert, so that the first writes of a
        key in two transactions at once do not both try to insert it."""
        name = storage_key(key)
        empty = value is None if part == "state" else value == _NO_DATA
        self._wrote(name, part, value)
        async with self._session() as session:
            if empty:
                await session.execute(_CLEAR[part], {"b_key": name, "value": value})
                await session.execute(_DROP_EMPTY, {"b_key": name})
                return
            dialect = "postgresql" if on_postgres(session) else "sqlite"
            await session.execute(_SET[dialect, part], {"b_key": name, "value": value})

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, "state", value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            row = await self._row(session, storage_key(key))
        return row[0] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data)}")
        await self._write(key, "data", json.dumps(data, ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            row = await self._row(session, storage_key(key))
        if row is None:
            return {}
        data = json.loads(row[1])
        assert isinstance(data, dict)
        return data

    async def close(self) -> None:
        """The database is owned and closed by the application."""


class AfterCommit(BaseStorage):
    """Another storage (aiogram's RedisStorage) whose writes during an update wait for `apply`,
    called after the update's transaction commits; reads see the update's own writes."""

    def __init__(self, inner: BaseStorage) -> None:
        self.inner = inner

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        held = _held.get()
        if held is None:
            await self.inner.set_state(key, state)
            return
        value = state.state if isinstance(state, State) else state
        held.writes.setdefault(key, [_KEEP, _KEEP])[0] = value

    async def get_state(self, key: StorageKey) -> str | None:
        held = _held.get()
        if held is not None and key in held.writes and held.writes[key][0] is not _KEEP:
            value = held.writes[key][0]
            return value if value is None else str(value)
        return await self.inner.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data)}")
        held = _held.get()
        if held is None:
            await self.inner.set_data(key, data)
            return
        held.writes.setdefault(key, [_KEEP, _KEEP])[1] = json.loads(json.dumps(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        held = _held.get()
        if held is not None and key in held.writes and held.writes[key][1] is not _KEEP:
            # A copy all the way down: a nested change the handler does not save stays out of
            # the held write (and so out of Redis), as it would with the storage itself.
            return copy.deepcopy(held.writes[key][1])
        return await self.inner.get_data(key)

    async def apply(self, held: Held) -> None:
        """Write what an update changed (its transaction has committed)."""
        for key, (state, data) in held.writes.items():
            if state is not _KEEP:
                await self.inner.set_state(key, state)
            if data is not _KEEP:
                await self.inner.set_data(key, data)

    async def close(self) -> None:
        await self.inner.close()
