"""Builds the Bot, Dispatcher, delivery and scheduler; owns start-up and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from aiogram.utils.i18n import I18n

from bot.clock import Clock, ShiftedClock, SystemClock
from bot.config import Config
from bot.delivery.inbox import Inbox
from bot.delivery.outbox import Outbox
from bot.delivery.sender import OutboxSender
from bot.delivery.session import PinnedSession
from bot.delivery.webhook import serve_monitoring, serve_webhook
from bot.domain.org import UnitKind
from bot.flatfile import FlatFileError, read_flats_file
from bot.i18n import ActorLocaleMiddleware, build_i18n, resolve_locale
from bot.jobs import build_scheduler
from bot.middlewares import ActorMiddleware, DeskMiddleware, RefusalMiddleware
from bot.monitoring import Monitor
from bot.orgfile import read_org_file
from bot.services import stars
from bot.services.matcher import Matcher
from handlers import build_root_router
from storage.db import Database, Session, count_statements
from storage.fsm import AfterCommit, SQLStorage
from storage.households import HouseholdRepo
from storage.leader import Leadership
from storage.units import UnitRepo
from storage.users import UserRepo

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0
FLUSH_SECONDS = 5.0


def build_clock(config: Config) -> Clock:
    if config.testing.enabled and config.testing.clock_file:
        return ShiftedClock(config.resolve(config.testing.clock_file))
    return SystemClock()


def build_bot(config: Config) -> Bot:
    server = TelegramAPIServer.from_base(config.telegram.api_base)
    return Bot(
        config.telegram.token,
        session=PinnedSession(api=server),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_fsm(config: Config, db: Database) -> tuple[BaseStorage, BaseEventIsolation]:
    """Where conversations live, and the lock that keeps one user's updates from racing through
    them (without it, quick messages from one user race through the FSM)."""
    if config.fsm.storage == "redis":
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        redis = RedisStorage.from_url(
            config.fsm.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True)
        )
        return AfterCommit(redis), redis.create_isolation()
    return SQLStorage(db), SimpleEventIsolation()


def build_dispatcher(config: Config, db: Database, clock: Clock, i18n: I18n) -> Dispatcher:
    storage, isolation = build_fsm(config, db)
    dp = Dispatcher(storage=storage, events_isolation=isolation)
    dp.update.outer_middleware(
        ActorMiddleware(
            admins=frozenset(config.bot.admins),
            default_language=config.bot.default_language,
            clock=clock,
        )
    )
    dp.update.outer_middleware(DeskMiddleware())  # every handler may take `desk`
    # Inside the update's transaction: a refusal is rolled back to here and answered once.
    dp.update.outer_middleware(RefusalMiddleware())
    ActorLocaleMiddleware(i18n).setup(dp)
    dp.include_router(build_root_router())
    matcher = Matcher(subdistrict=config.lostfound.scope == "subdistrict")
    dp.workflow_data.update(config=config, clock=clock, i18n=i18n, db=db, matcher=matcher)
    dp.workflow_data["bot_username"] = "lastmeter_bot"  # until `Application.run` asks Telegram
    return dp


def commands(locale: str, i18n: I18n) -> tuple[list[BotCommand], list[BotCommand]]:
    """The command menus (private chats, groups) in one language."""

    def t(text: str) -> str:
        return i18n.gettext(text, locale=locale)

    private = [
        BotCommand(command="start", description=t("Start, or see the menu")),
        BotCommand(command="report", description=t("Report a problem")),
        BotCommand(command="my", description=t("Your reports")),
        BotCommand(command="lost", description=t("I lost something")),
        BotCommand(command="found", description=t("I found something")),
        BotCommand(command="mine", description=t("My lost and found reports")),
        BotCommand(command="party", description=t("Party member registration (报到)")),
        BotCommand(command="activities", description=t("Party members' activities")),
        BotCommand(command="checkin", description=t("Check in at an activity")),
        BotCommand(command="myrecord", description=t("My service record")),
        BotCommand(command="subscribe", description=t("Campaign reminders in this chat")),
        BotCommand(command="home", description=t("My home: the flat you live in")),
        BotCommand(command="households", description=t("Households (household contacts, branch)")),
        BotCommand(command="proxy", description=t("代办 for a resident without Telegram")),
        BotCommand(command="topics", description=t("Deliberation hall: your compound's topics")),
        BotCommand(command="profile", description=t("Your home compound and language")),
        BotCommand(command="language", description=t("Change the language")),
        BotCommand(command="whoami", description=t("Who you are to the bot")),
        BotCommand(command="invite", description=t("Invite staff (staff only)")),
        BotCommand(command="queue", description=t("Open tickets of your unit (staff)")),
        BotCommand(command="stats", description=t("Rates and rankings (staff)")),
        BotCommand(command="export", description=t("Ledgers as XLSX (staff)")),
        BotCommand(command="stars", description=t("Five-star compounds (staff)")),
        BotCommand(command="cancel", description=t("Stop what you are doing")),
        BotCommand(command="help", description=t("What the bot can do")),
    ]
    group = [
        BotCommand(command="report", description=t("Report a problem (privately)")),
        BotCommand(command="bind", description=t("Bind this group (staff only)")),
        BotCommand(command="help", description=t("What the bot can do")),
    ]
    return private, group


async def set_commands(bot: Bot, i18n: I18n, default_language: str) -> None:
    for locale in ("zh", "en"):
        private, group = commands(locale, i18n)
        code = None if locale == default_language else locale
        await bot.set_my_commands(private, BotCommandScopeAllPrivateChats(), language_code=code)
        await bot.set_my_commands(group, BotCommandScopeAllGroupChats(), language_code=code)


async def import_org(db: Database, path: Path) -> tuple[int, int]:
    specs = read_org_file(path)
    async with db.session() as session:
        return await UnitRepo(session).import_specs(specs)


async def import_flats(db: Database, path: Path, clock: Clock) -> tuple[int, int]:
    """Every compound's flats, in one transaction: a compound the organisation does not have
    stops the import with nothing written. Returns (created, updated)."""
    entries = read_flats_file(path)
    created = updated = 0
    async with db.session() as session:
        compounds = UnitRepo(session)
        flats = HouseholdRepo(session)
        for entry in entries:
            compound = await compounds.by_code(entry.code)
            if compound is None or compound.kind is not UnitKind.COMPOUND:
                raise FlatFileError(
                    f"{path}: {entry.where}: {entry.code!r} is not a compound of the organisation"
                )
            made, changed = await flats.import_flats(compound.id, entry.flats, clock.now())
            created, updated = created + made, updated + changed
    return created, updated


@dataclass
class Application:
    config: Config
    clock: Clock
    db: Database
    bot: Bot
    dp: Dispatcher
    i18n: I18n
    inbox: Inbox = field(init=False)
    sender: OutboxSender = field(init=False)
    counts: dict[str, int] | None = None  # [testing] statements_file: the run's database work

    def __post_init__(self) -> None:
        self.sender = OutboxSender(self.db, self.bot, self.clock, self.config.outbox)
        self.inbox = Inbox(
            self.db,
            self.dp,
            self.bot,
            self.clock,
            workers=self.config.bot.workers,
            on_handled=self.sender.wake,
            on_failure=self.tell_failure,
        )

    async def tell_failure(self, update: Update, session: Session, outbox: Outbox) -> None:
        """An update that failed every attempt: tell its sender, in their language, what to do."""
        event = update.event
        user = getattr(event, "from_user", None)
        chat = getattr(event, "chat", None) or getattr(
            getattr(event, "message", None), "chat", None
        )
        if user is None or chat is None:
            return
        saved = await UserRepo(session).get(user.id)
        locale = resolve_locale(
            saved.language if saved else None, user.language_code, self.config.bot.default_language
        )
        text = self.i18n.gettext(
            "Sorry, that did not work and nothing was changed. Please try again in a minute; "
            "if it keeps failing, tell your community office.",
            locale=locale,
        )
        await outbox.send(chat.id, text)

    async def run(self, stop: asyncio.Event) -> bool:
        """Poll and handle until stop is set; then drain, flush and close. False when it stopped
        because a part of it failed (so the service manager starts it again)."""
        me = await self.bot.me()
        self.dp.workflow_data["bot_username"] = me.username or "lastmeter_bot"
        try:
            await set_commands(self.bot, self.i18n, self.config.bot.default_language)
        except TelegramAPIError as exc:
            log.warning("could not set the command menus: %s", exc)
        leadership = Leadership(self.db)
        leadership.on_notice = self.sender.wake
        scheduler = build_scheduler(
            self.db,
            self.clock,
            self.config,
            self.i18n,
            self.sender.wake,
            self.dp.workflow_data["matcher"],
            self.dp.workflow_data["bot_username"],
            leads=lambda: leadership.is_leader,
        )
        scheduler.start()
        taking = asyncio.Event()
        allowed = self.dp.resolve_used_update_types()
        log.info(
            "bot @%s started (%s, %s)",
            me.username,
            self.config.telegram.mode,
            self.config.telegram.api_base,
        )
        telegram = self.config.telegram
        monitor = Monitor(self.db, self.bot, self.clock, leadership)
        intake = (
            serve_webhook(self.inbox, self.bot, monitor, telegram, taking, allowed)
            if telegram.mode == "webhook"
            else self.inbox.poll(taking, timeout=telegram.poll_timeout, allowed_updates=allowed)
        )
        resigning = asyncio.Event()  # the lead is kept until the outbox is flushed
        leader = asyncio.create_task(leadership.run(resigning), name="leadership")
        tasks = [
            asyncio.create_task(intake, name="intake"),
            asyncio.create_task(self.inbox.run(taking), name="inbox"),
            asyncio.create_task(self.sender.run(taking, leadership.leading), name="sender"),
        ]
        if telegram.mode == "polling" and self.config.monitoring.listen:
            watch = serve_monitoring(monitor, self.config.monitoring.listen, taking)
            tasks.append(asyncio.create_task(watch, name="monitoring"))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        taking.set()
        failed = [task for task in done if task is not stopper and task.exception() is not None]
        for task in failed:
            log.error(
                "%s stopped: %s", task.get_name(), task.exception(), exc_info=task.exception()
            )
        log.info("stopping: draining running handlers")
        await asyncio.gather(*tasks, return_exceptions=True)
        if not await self.inbox.drain(DRAIN_SECONDS):
            log.warning(
                "handlers still running after %.0f s; they will run again on restart", DRAIN_SECONDS
            )
        if leadership.is_leader:
            left = await self.sender.flush(FLUSH_SECONDS)
            if left:
                log.info("%s outgoing messages left for the next start", left)
        scheduler.shutdown(wait=False)
        resigning.set()
        await leader
        stopper.cancel()
        return not failed

    async def close(self) -> None:
        await self.bot.session.close()
        await self.dp.fsm.storage.close()
        await self.dp.fsm.events_isolation.close()
        await self.db.close()
        if self.counts is not None:
            path = self.config.resolve(self.config.testing.statements_file)
            path.write_text(json.dumps(self.counts), encoding="utf-8")


async def build_application(config: Config, *, clock: Clock | None = None) -> Application:
    clock = clock or build_clock(config)
    db = Database(
        config.database_url,
        busy_timeout_ms=config.database.busy_timeout_ms,
        pool_size=config.database.pool_size,
    )
    await db.migrate(config.bot.zone)
    if config.org.file:
        created, updated = await import_org(db, config.resolve(config.org.file))
        log.info("organisation from %s: %s new, %s updated", config.org.file, created, updated)
    if config.org.flats:
        created, updated = await import_flats(db, config.resolve(config.org.flats), clock)
        log.info("flats from %s: %s new, %s updated", config.org.flats, created, updated)
    if config.stars.file:
        done = await stars.load_criteria(db, config.resolve(config.stars.file), clock, config)
        log.info("五星小区 criteria from %s: %s", config.stars.file, done)
    i18n = build_i18n(config.bot.default_language)
    bot = build_bot(config)
    dp = build_dispatcher(config, db, clock, i18n)
    app = Application(config, clock, db, bot, dp, i18n)
    if config.testing.enabled and config.testing.statements_file:
        app.counts = count_statements(db)  # from here on: the run, not the start-up
    return app


def install_signal_handlers(stop: asyncio.Event) -> None:
    """First SIGTERM/SIGINT: stop gracefully. A second: exit at once (the inbox and outbox keep all)."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            os._exit(1)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal)


async def serve(config: Config) -> bool:
    """Run until a signal; False when a part of the bot failed."""
    app = await build_application(config)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    # What start-up built (modules, models, the dispatcher) lives as long as the process: kept out
    # of the collector's scans, so that a full collection does not stall a reply by 200 ms.
    gc.freeze()
    try:
        return await app.run(stop)
    finally:
        await app.close()
