"""What operators watch: `/healthz` for the load balancer and `/metrics` for Prometheus.

Counters and the latency histogram are counted where the work happens (the inbox, the sender);
the depths and the open tickets by light are read from the database at each scrape, so every
replica reports the same figures for them.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from bot.clock import Clock
from storage.complaints import ComplaintRepo
from storage.db import Database
from storage.inbox import InboxRepo
from storage.leader import Leadership
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

UPDATES = Counter("lastmeter_updates", "Updates handled, by outcome", ["outcome"])
HANDLER_SECONDS = Histogram(
    "lastmeter_handler_seconds",
    "Time to handle one update, its transaction included",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SENDS = Counter("lastmeter_sends", "Outbox messages by result (sent, retry, parked)", ["result"])
RATE_LIMITED = Counter("lastmeter_telegram_429", "Answers 429 Too Many Requests from the Bot API")
OUTBOX_DEPTH = Gauge("lastmeter_outbox_pending", "Outgoing messages waiting in the outbox")
INBOX_DEPTH = Gauge("lastmeter_inbox_pending", "Updates stored and not yet handled")
OPEN_TICKETS = Gauge("lastmeter_open_tickets", "Open complaints by light", ["light"])
LEADER = Gauge("lastmeter_leader", "1 while this replica runs the sweeps and the sender")

TELEGRAM_FRESH = 15.0  # seconds a successful getMe counts as "the Bot API is reachable"


class Monitor:
    def __init__(self, db: Database, bot: Bot, clock: Clock, leadership: Leadership) -> None:
        self.db = db
        self.bot = bot
        self.clock = clock
        self.leadership = leadership
        self._telegram_ok_at = 0.0

    async def _database(self) -> str:
        try:
            await asyncio.wait_for(self.db.ping(), timeout=5)
        except Exception as exc:
            return f"error: {type(exc).__name__}: {exc}"[:300]
        return "ok"

    async def _telegram(self) -> str:
        if time.monotonic() - self._telegram_ok_at < TELEGRAM_FRESH:
            return "ok"
        try:
            await self.bot.get_me(request_timeout=5)
        except Exception as exc:
            return f"error: {type(exc).__name__}: {exc}"[:300]
        self._telegram_ok_at = time.monotonic()
        return "ok"

    async def health(self, request: web.Request) -> web.Response:
        database, telegram = await asyncio.gather(self._database(), self._telegram())
        healthy = database == "ok" and telegram == "ok"
        body = {
            "status": "ok" if healthy else "unhealthy",
            "database": database,
            "telegram": telegram,
            "leader": self.leadership.is_leader,
        }
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        LEADER.set(1 if self.leadership.is_leader else 0)
        try:
            async with self.db.read() as session:
                OUTBOX_DEPTH.set(await OutboxRepo(session).pending_count())
                INBOX_DEPTH.set((await InboxRepo(session).counts()).get("new", 0))
                lights = await ComplaintRepo(session).lights(None, self.clock.now())
            for light, count in lights.items():
                OPEN_TICKETS.labels(light=str(light)).set(count)
        except Exception:  # the counters are still worth having
            log.exception("reading the figures for /metrics failed")
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.health)
        app.router.add_get("/metrics", self.metrics)
