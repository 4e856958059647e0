"""Webhook mode: the secret token is always set and checked; updates are stored before the 200."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from tests.harness import BotProcess, Person, Sandbox, write_config

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
