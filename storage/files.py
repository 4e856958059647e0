"""Files the bot made (exports, charts): kept in the database with the change that made them,
so the outbox can send them after a restart, and pruned once old."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from storage.db import Session
from storage.tables import files


class FileRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def add(self, name: str, data: bytes, now: datetime) -> int:
        result = await self.session.execute(
            insert(files).values(name=name, data=data, created_at=now).returning(files.c.id)
        )
        return int(result.scalar_one())

    async def get(self, file_id: int) -> tuple[str, bytes] | None:
        row = (
            await self.session.execute(
                select(files.c.name, files.c.data).where(files.c.id == file_id)
            )
        ).first()
        return (row.name, bytes(row.data)) if row else None

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(files.delete().where(files.c.created_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
