"""Webhook mode: Telegram posts updates; the 200 goes out only after the inbox has committed them.

`secret_token` is always set (configured, or a fresh random one per start) and checked on every
request: a webhook without it accepts updates from anyone who guesses the address.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.config import TelegramConfig
from bot.delivery.inbox import Inbox

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build_webhook_app(inbox: Inbox, bot: Bot, path: str, secret: str) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=401, text="wrong secret token")
        try:
            update = Update.model_validate(await request.json(), context={"bot": bot})
        except (ValueError, ValidationError):
            return web.Response(status=400, text="not an update")
        await inbox.store([update])  # raises → 500 → Telegram retries later; nothing is lost
        return web.Response(text="ok")

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, receive)
    return app


async def serve_webhook(
    inbox: Inbox, bot: Bot, config: TelegramConfig, stop: asyncio.Event, allowed: list[str]
) -> None:
    """Listen, register the webhook with Telegram, and serve until stop is set."""
    secret = config.webhook_secret or secrets.token_urlsafe(32)
    path = urlsplit(config.webhook_url).path or "/"
    host, _, port = config.webhook_listen.rpartition(":")
    runner = web.AppRunner(build_webhook_app(inbox, bot, path, secret), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    try:
        await bot.set_webhook(
            config.webhook_url, secret_token=secret, allowed_updates=allowed, max_connections=40
        )
        log.info(
            "webhook %s registered; listening on %s", config.webhook_url, config.webhook_listen
        )
        await stop.wait()
    finally:
        # The webhook stays registered: Telegram keeps and retries updates while we are down.
        await runner.cleanup()
