"""Scheduler jobs (APScheduler 3.x). Each looks only at the database and is safe to run twice."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.config import Config
from bot.services import briefings, campaigns, lostfound, party
from bot.services.escalation import sweep
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


async def sweep_complaints(
    db: Database,
    clock: Clock,
    config: Config,
    i18n: I18n,
    wake: Callable[[], None],
    matcher: Matcher,
    bot_username: str,
) -> None:
    with i18n.context():
        steps = await sweep(db, clock, config, matcher, bot_username)
    if steps:
        log.info("complaint sweep: %s steps", steps)
        wake()


async def sweep_lostfound(
    db: Database,
    clock: Clock,
    config: Config,
    i18n: I18n,
    wake: Callable[[], None],
    matcher: Matcher,
    bot_username: str,
) -> None:
    with i18n.context():
        steps = await lostfound.sweep(db, clock, config, matcher, bot_username)
    if steps:
        log.info("lost and found sweep: %s reminders and expiries", steps)
        wake()


async def sweep_party(
    db: Database,
    clock: Clock,
    config: Config,
    i18n: I18n,
    wake: Callable[[], None],
    matcher: Matcher,
    bot_username: str,
) -> None:
    with i18n.context():
        steps = await party.sweep(db, clock, config, matcher, bot_username)
    if steps:
        log.info("party sweep: %s reminders and check-outs", steps)
        wake()


async def sweep_campaigns(
    db: Database,
    clock: Clock,
    config: Config,
    i18n: I18n,
    wake: Callable[[], None],
    matcher: Matcher,
    bot_username: str,
) -> None:
    with i18n.context():
        steps = await campaigns.sweep(db, clock, config, matcher, bot_username)
    if steps:
        log.info("campaign sweep: %s slots, reminders and summaries", steps)
        wake()


async def sweep_briefings(
    db: Database,
    clock: Clock,
    config: Config,
    i18n: I18n,
    wake: Callable[[], None],
    matcher: Matcher,
    bot_username: str,
) -> None:
    with i18n.context():
        digests = await briefings.digest_sweep(db, clock, config, matcher, bot_username)
        charts = await briefings.chart_sweep(db, clock, config, matcher, bot_username)
    if digests or charts:
        log.info("briefings: %s digests and %s weekly charts written", digests, charts)
        wake()


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
    sweeping = [db, clock, config, i18n, wake, matcher, bot_username]  # every sweep's arguments
    scheduler.add_job(
        led(prune_inbox, leads), "interval", hours=1, args=[db, clock], id="prune_inbox"
    )
    scheduler.add_job(
        led(sweep_complaints, leads),
        "interval",
        seconds=config.complaints.sweep_seconds,
        args=sweeping,
        id="sweep_complaints",
    )
    scheduler.add_job(
        led(sweep_lostfound, leads),
        "interval",
        seconds=config.lostfound.sweep_seconds,
        args=sweeping,
        id="sweep_lostfound",
    )
    scheduler.add_job(
        led(sweep_party, leads),
        "interval",
        seconds=config.party.sweep_seconds,
        args=sweeping,
        id="sweep_party",
    )
    scheduler.add_job(
        led(sweep_campaigns, leads),
        "interval",
        seconds=config.campaigns.sweep_seconds,
        args=sweeping,
        id="sweep_campaigns",
    )
    scheduler.add_job(
        led(sweep_briefings, leads),
        "interval",
        seconds=config.oversight.sweep_seconds,
        args=sweeping,
        id="sweep_briefings",
    )
    return scheduler
