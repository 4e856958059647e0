"""Scheduler jobs (APScheduler 3.x). Each looks only at the database and is safe to run twice."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.config import Config
from bot.services import briefings, campaigns, escalation, lostfound, party, stars, topics
from bot.services.matcher import Matcher
from storage.db import Database
from storage.files import FileRepo
from storage.inbox import InboxRepo

log = logging.getLogger(__name__)

INBOX_KEEP = timedelta(hours=48)  # Telegram may resend an update within 24 h; keep twice that
FILES_KEEP = timedelta(days=7)  # exports wait this long for the outbox to send them


async def prune_inbox(db: Database, clock: Clock) -> None:
    async with db.session() as session:
        removed = await InboxRepo(session).prune(clock.now() - INBOX_KEEP)
        files = await FileRepo(session).prune(clock.now() - FILES_KEEP)
    if removed or files:
        log.info("pruned %s handled updates and %s files", removed, files)


Sweep = Callable[[Database, Clock, Config, Matcher, str], Awaitable[int]]


@dataclass(frozen=True)
class Sweeping:
    """What every sweep runs with, and whom it wakes when it wrote something to send."""

    db: Database
    clock: Clock
    config: Config
    i18n: I18n
    wake: Callable[[], None]
    matcher: Matcher
    bot_username: str


async def run_sweeps(name: str, sweeps: Sequence[Sweep], with_: Sweeping) -> None:
    """One job: its sweeps in turn (each opens its own transactions), texts in the default
    language unless a sweep picks the reader's."""
    with with_.i18n.context():
        steps = [
            await one(with_.db, with_.clock, with_.config, with_.matcher, with_.bot_username)
            for one in sweeps
        ]
    if any(steps):
        log.info("%s: %s", name, " + ".join(map(str, steps)))
        with_.wake()


def led(job: Callable[..., Awaitable[None]], leads: Callable[[], bool]) -> Callable[..., Any]:
    """The job, run only in the leading replica (storage/leader.py); elsewhere it does nothing."""

    @functools.wraps(job)
    async def run(*args: Any) -> None:
        if leads():
            await job(*args)

    return run


def build_scheduler(
    db: Database,
    clock: Clock,
    config: Config,
    i18n: I18n,
    wake: Callable[[], None],
    matcher: Matcher,
    bot_username: str = "lastmeter_bot",
    leads: Callable[[], bool] = lambda: True,
) -> AsyncIOScheduler:
    # APScheduler's default misfire_grace_time is 1 s: a job late by more is silently skipped.
    # Every job here is a sweep over the database, so running late (or twice) is always right.
    scheduler = AsyncIOScheduler(
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    )
    scheduler.add_job(
        led(prune_inbox, leads), "interval", hours=1, args=[db, clock], id="prune_inbox"
    )
    sweeping = Sweeping(db, clock, config, i18n, wake, matcher, bot_username)
    jobs: list[tuple[str, float, list[Sweep]]] = [
        ("complaints", config.complaints.sweep_seconds, [escalation.sweep, topics.sweep]),
        ("lostfound", config.lostfound.sweep_seconds, [lostfound.sweep]),
        ("party", config.party.sweep_seconds, [party.sweep]),
        ("campaigns", config.campaigns.sweep_seconds, [campaigns.sweep]),
        (
            "briefings",
            config.oversight.sweep_seconds,
            [briefings.digest_sweep, briefings.chart_sweep],
        ),
        ("stars", config.stars.sweep_seconds, [stars.sweep, stars.settle, stars.chase]),
    ]
    for name, seconds, sweeps in jobs:
        scheduler.add_job(
            led(run_sweeps, leads),
            "interval",
            seconds=seconds,
            args=[name, sweeps, sweeping],
            id=f"sweep_{name}",
        )
    return scheduler
