"""Webhook mode: the secret token is always set and checked; updates are stored before the 200."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest

from tests.harness import BotProcess, Person, Sandbox, running_bot, write_config

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_checks_the_secret_and_handles_updates(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    config = write_config(tmp_path, sandbox.port, extra="")
    text = config.read_text(encoding="utf-8").replace(
        "poll_timeout = 10",
        f'poll_timeout = 10\nmode = "webhook"\nwebhook_url = "{url}"\n'
        f'webhook_listen = "127.0.0.1:{port}"',
    )
    config.write_text(text, encoding="utf-8")
    bot = BotProcess(config, sandbox)
    await bot.start(ready="call_setWebhook")
    try:
        hook = sandbox.state.webhook
        assert hook["url"] == url and len(hook["secret_token"]) >= 32
        assert {"message", "callback_query", "my_chat_member"} <= set(hook["allowed_updates"])
        assert sandbox.state.stats.get("call_getUpdates", 0) == 0

        person = Person(7001, "网友", "en")
        update = {
            "update_id": 777,
            "message": {
                "message_id": 1,
                "date": 1700000000,
                "text": "/start",
                "chat": {"id": person.id, "type": "private", "first_name": person.first_name},
                "from": person.json,
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        sandbox.state.chat_for(person.json, None)
        async with aiohttp.ClientSession() as http:
            for secret in (None, "guess"):
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 401
            assert await sandbox.quiet(person.id, 1.0) == []
            headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]}
            for _ in range(2):  # Telegram retrying the same update: handled once
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 200
        await sandbox.expect(person.id, "Please choose your language")
        assert await sandbox.quiet(person.id, 1.5) == []
    finally:
        assert await bot.stop() == 0


async def test_updates_come_by_the_sandboxs_webhook_and_health_and_metrics_tell_the_truth(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    port = free_port()
    telegram = (
        f'mode = "webhook"\nwebhook_url = "http://127.0.0.1:{port}/tg/hook"\n'
        f'webhook_listen = "127.0.0.1:{port}"'
    )
    bot = BotProcess(write_config(tmp_path, sandbox.port, telegram=telegram), sandbox)
    await bot.start(ready="call_setWebhook")
    base = f"http://127.0.0.1:{port}"
    try:
        person = Person(7002, "Ann", "en")
        await sandbox.say(person, "/start")  # delivered by the sandbox, as Telegram does
        await sandbox.expect(person.id, "Please choose your language")
        assert sandbox.state.stats["webhook_ok"] >= 1
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/healthz") as response:
                assert response.status == 200
                health = await response.json()
            assert health == {"status": "ok", "database": "ok", "telegram": "ok", "leader": True}
            async with http.get(base + "/metrics") as response:
                assert response.status == 200
                metrics = await response.text()
            for name in (
                'lastmeter_updates_total{outcome="handled"} 1.0',
                "lastmeter_handler_seconds_bucket",
                'lastmeter_sends_total{result="sent"}',
                "lastmeter_telegram_429_total 0.0",
                "lastmeter_outbox_pending",
                'lastmeter_open_tickets{light="red"} 0.0',
                "lastmeter_leader 1.0",
            ):
                assert name in metrics, name
            # The Bot API goes away: once the last good answer is old, the check says so.
            await sandbox._post("/test/outage", {"seconds": 60})
            for _ in range(40):
                async with http.get(base + "/healthz") as response:
                    if response.status == 503:
                        health = await response.json()
                        break
                await asyncio.sleep(0.5)
            assert health["status"] == "unhealthy" and health["database"] == "ok"
            assert health["telegram"].startswith("error")
            await sandbox._post("/test/outage", {"seconds": 0})
    finally:
        assert await bot.stop() == 0


async def test_in_polling_mode_health_and_metrics_have_their_own_address(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    port = free_port()
    extra = f'[monitoring]\nlisten = "127.0.0.1:{port}"\n'
    async with (
        running_bot(sandbox, tmp_path, extra=extra),
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        assert response.status == 200
        assert (await response.json())["database"] == "ok"


async def test_back_in_polling_mode_the_old_webhook_is_removed_and_nothing_waiting_is_lost(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.state.webhook = {"url": "http://127.0.0.1:9/gone", "secret_token": "x"}
    person = Person(7003, "Ann", "en")
    await sandbox.say(person, "/start")  # waits at Telegram while the webhook points nowhere
    async with running_bot(sandbox, tmp_path):
        await sandbox.expect(person.id, "Please choose your language")
        assert sandbox.state.webhook["url"] == ""
