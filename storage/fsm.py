"""Conversation state (aiogram FSM) kept in the database, so it survives restarts.

While an update is being handled, reads and writes go through that update's own session (bound by
`bind_session`), so the new state commits together with everything else the update changed — or not
at all. Outside an update (tests, tools) each call uses a short transaction of its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.tables import fsm

_current_session: ContextVar[AsyncSession | None] = ContextVar("fsm_session", default=None)


@contextmanager
def bind_session(session: AsyncSession) -> Iterator[None]:
    """Route FSM reads and writes of the current task through the given session."""
    token = _current_session.set(session)
    try:
        yield
    finally:
        _current_session.reset(token)


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
    async def _session(self) -> AsyncIterator[AsyncSession]:
        bound = _current_session.get()
        if bound is not None:
            yield bound
            return
        async with self.db.session() as session:
            yield session

    async def _row(self, session: AsyncSession, key: str) -> tuple[str | None, str] | None:
        row = (
            await session.execute(select(fsm.c.state, fsm.c.data).where(fsm.c.key == key))
        ).first()
        return (row.state, row.data) if row else None

    async def _write(self, key: StorageKey, **values: Any) -> None:
        name = storage_key(key)
        async with self._session() as session:
            current = await self._row(session, name)
            if current is None:
                row = {"key": name, "state": None, "data": "{}", **values}
                await session.execute(fsm.insert().values(**row))
            else:
                await session.execute(update(fsm).where(fsm.c.key == name).values(**values))
                state = values.get("state", current[0])
                data = values.get("data", current[1])
                if state is None and data == "{}":
                    await session.execute(fsm.delete().where(fsm.c.key == name))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            row = await self._row(session, storage_key(key))
        return row[0] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data)}")
        await self._write(key, data=json.dumps(data, ensure_ascii=False))

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
