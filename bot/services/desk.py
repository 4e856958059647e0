"""The one unit of work every use case is handed: the transaction, its outbox, the time, the config,
the process's lost-and-found index and the bot's username, with the repositories over that
transaction.

In an update, `bot.middlewares.DeskMiddleware` builds it from the update's session and outbox;
anywhere else (sweeps, jobs, the command line), `open_desk` opens a transaction and builds it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.domain.complaints import Complaint
from bot.domain.errors import NotFound, Reason
from bot.domain.org import Unit
from bot.services import onboarding
from bot.services.matcher import Matcher
from storage.campaigns import CampaignRepo
from storage.chats import ChatRepo
from storage.complaints import ComplaintRepo
from storage.db import Database, Session
from storage.files import FileRepo
from storage.lostfound import LostFoundRepo
from storage.notices import NoticeRepo
from storage.party import PartyRepo
from storage.stats import StatsRepo
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo

log = logging.getLogger(__name__)


class _Row(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=_Row)


@dataclass
class Desk:
    session: Session
    outbox: Outbox
    now: datetime
    config: Config
    matcher: Matcher
    bot_username: str  # for deep links: https://t.me/<bot_username>?start=...
    # What a sweep's desks share (who a unit's chats are, a person's language): set by
    # `sweep_due` for the length of one sweep, None elsewhere (an update reads afresh).
    memo: dict[tuple[str, int], Any] | None = None

    # --- the repositories, over this desk's transaction -------------------------------------

    @property
    def complaints(self) -> ComplaintRepo:
        return ComplaintRepo(self.session, self.config.bot.zone)

    @property
    def units(self) -> UnitRepo:
        return UnitRepo(self.session)

    @property
    def party(self) -> PartyRepo:
        return PartyRepo(self.session)

    @property
    def campaigns(self) -> CampaignRepo:
        return CampaignRepo(self.session)

    @property
    def lostfound(self) -> LostFoundRepo:
        return LostFoundRepo(self.session)

    @property
    def stats(self) -> StatsRepo:
        return StatsRepo(self.session)

    @property
    def users(self) -> UserRepo:
        return UserRepo(self.session)

    @property
    def staff(self) -> StaffRepo:
        return StaffRepo(self.session)

    @property
    def chats(self) -> ChatRepo:
        return ChatRepo(self.session)

    @property
    def files(self) -> FileRepo:
        return FileRepo(self.session)

    @property
    def notices(self) -> NoticeRepo:
        return NoticeRepo(self.session)

    # --- tickets --------------------------------------------------------------------------------

    async def units_of(self, complaint: Complaint) -> dict[int, Unit]:
        """A ticket's compound with the units around it (above it and its wings); a sweep reads
        them once per compound."""
        key = ("units", complaint.compound_id)
        if self.memo is not None and key in self.memo:
            return dict(self.memo[key])
        compound = await self.units.get(complaint.compound_id)
        if compound is None:
            raise NotFound(Reason.GONE, f"compound {complaint.compound_id}")
        found = await self.units.around(compound)
        if self.memo is not None:
            self.memo[key] = found
        return dict(found)

    async def reload(self, complaint_id: int) -> Complaint:
        """The ticket as it is now (after a change; its units stay the same)."""
        complaint = await self.complaints.get(complaint_id)
        if complaint is None:
            raise NotFound(Reason.GONE, f"complaint {complaint_id}")
        return complaint

    async def load(self, complaint_id: int) -> tuple[Complaint, dict[int, Unit]]:
        complaint = await self.reload(complaint_id)
        return complaint, await self.units_of(complaint)

    # --- people and time ------------------------------------------------------------------------

    async def locale_of(self, chat_id: int) -> str:
        """The language to write to a person (their choice, else the default; groups: default)."""
        key = ("locale", chat_id)
        if self.memo is not None and key in self.memo:
            return str(self.memo[key])
        found = await onboarding.locale_of(self.session, chat_id, self.config.bot.default_language)
        if self.memo is not None:
            self.memo[key] = found
        return found

    async def person(self, user_id: int) -> tuple[str, str]:
        """A person's first name (as they wrote it: quote it for HTML) and language, in one read."""
        user = await self.users.get(user_id)
        name = user.first_name if user else "—"
        return name, onboarding.user_locale(user, self.config.bot.default_language)

    def local(self, at: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """A time as people here read it, in the configured zone."""
        return at.astimezone(self.config.bot.zone).strftime(fmt)

    def year_start(self) -> datetime:
        """The start of this year, in the configured zone."""
        here = self.now.astimezone(self.config.bot.zone)
        return here.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


@asynccontextmanager
async def open_desk(
    db: Database,
    clock: Clock,
    config: Config,
    matcher: Matcher,
    bot_username: str,
    *,
    now: datetime | None = None,
    read_only: bool = False,
    memo: dict[tuple[str, int], Any] | None = None,
) -> AsyncIterator[Desk]:
    """A desk outside an update (a sweep, a job, the command line): a transaction of its own that
    commits when the block ends and rolls back on an error, and an outbox over it (its rows have no
    causing update). `now`: the time the desk works at (default: the clock's, as it opens);
    `read_only`: a look that takes no turn among the writers (db.read) and must write nothing."""
    opened = db.read() if read_only else db.session()
    async with opened as session:
        yield Desk(
            session,
            Outbox(session, clock),
            clock.now() if now is None else now,
            config,
            matcher,
            bot_username,
            memo,
        )


async def sweep_due(
    db: Database,
    clock: Clock,
    config: Config,
    matcher: Matcher,
    bot_username: str,
    *,
    due: Callable[[Session, datetime, int], Awaitable[Sequence[R]]],
    step: Callable[[Desk, R], Awaitable[bool]],
    prepare: Callable[[Session, Sequence[R], dict[tuple[str, int], Any]], Awaitable[None]]
    | None = None,
    batch: int,
    limit: int,
) -> int:
    """A clock sweep: every row whose `next_check_at` has come (`due` reads a batch of them) takes
    its next step, each in its own transaction; a step that fails is logged and left for the next
    sweep. Returns how many steps were taken."""
    steps = looked = 0
    memo: dict[tuple[str, int], Any] = {}  # shared by this sweep's desks only
    while looked < limit:
        now = clock.now()
        async with db.read() as session:
            found = await due(session, now, batch)
            if prepare is not None and found:  # what the steps share, read once for them all
                await prepare(session, found, memo)
        for row in found:
            looked += 1
            try:
                async with open_desk(
                    db, clock, config, matcher, bot_username, now=now, memo=memo
                ) as desk:
                    steps += await step(desk, row)
            except Exception:  # one bad row must not stop the clock for the others
                log.exception("sweep step failed for %s %s", type(row).__name__, row.id)
        if len(found) < batch:
            break
    return steps
