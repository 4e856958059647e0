"""What every use case is handed: the update's transaction, its outbox, the time and the config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.services import onboarding
from storage.units import UnitRepo


@dataclass
class BaseDesk:
    session: AsyncSession
    outbox: Outbox
    now: datetime
    config: Config

    @property
    def units(self) -> UnitRepo:
        return UnitRepo(self.session)

    async def locale_of(self, chat_id: int) -> str:
        """The language to write to a person (their choice, else the default; groups: default)."""
        return await onboarding.locale_of(self.session, chat_id, self.config.bot.default_language)

    def local(self, at: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """A time as people here read it, in the configured zone."""
        return at.astimezone(self.config.bot.zone).strftime(fmt)
