"""The web server: Telegram's webhook, `/healthz` and `/metrics`.

Webhook mode: Telegram posts updates; the 200 goes out only after the inbox has committed them.
`secret_token` is always set (configured, or a fresh random one per start) and checked on every
request: a webhook without it accepts updates from anyone who guesses the address. Replicas behind
a load balancer must share one configured secret (each start registers the webhook again).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from aiogram import Bot
from aiohttp import web

from bot.config import TelegramConfig
from bot.delivery.inbox import Inbox, read_update
from bot.monitoring import Monitor

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def add_webhook(app: web.Application, inbox: Inbox, bot: Bot, path: str, secret: str) -> None:
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        # aiohttp reads a header's bytes as UTF-8 with surrogate escapes: undo that exactly.
        try:
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            given = b""
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="wrong secret token")
        try:
            update = read_update(await request.json(), bot)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reading
            update = None
        if update is None:
            return web.Response(status=400, text="not an update")
        # An update that does not read is stored parked (200, so Telegram does not resend it);
        # a failing database raises → 500 → Telegram retries later; nothing is lost.
        await inbox.store([update])
        return web.Response(text="ok")

    app.router.add_post(path, receive)


@asynccontextmanager
async def listening(listen: str, app: web.Application) -> AsyncIterator[None]:
    """An aiohttp app served on host:port for the duration of the block."""
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
        yield
    finally:
        await runner.cleanup()


async def serve_monitoring(monitor: Monitor, listen: str, stop: asyncio.Event) -> None:
    """Polling mode: /healthz and /metrics on their own address, until stop is set."""
    app = web.Application()
    monitor.add_routes(app)
    async with listening(listen, app):
        await stop.wait()


async def serve_webhook(
    inbox: Inbox,
    bot: Bot,
    monitor: Monitor,
    config: TelegramConfig,
    stop: asyncio.Event,
    allowed: list[str],
) -> None:
    """Listen, register the webhook with Telegram, and serve until stop is set."""
    secret = config.webhook_secret or secrets.token_urlsafe(32)
    app = web.Application(client_max_size=1024 * 1024)
    add_webhook(app, inbox, bot, urlsplit(config.webhook_url).path or "/", secret)
    monitor.add_routes(app)
    async with listening(config.webhook_listen, app):
        await bot.set_webhook(
            config.webhook_url, secret_token=secret, allowed_updates=allowed, max_connections=40
        )
        log.info(
            "webhook %s registered; listening on %s", config.webhook_url, config.webhook_listen
        )
        # The webhook stays registered on stop: Telegram keeps and retries updates meanwhile.
        await stop.wait()
