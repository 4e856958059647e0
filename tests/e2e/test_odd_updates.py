"""Updates the bot cannot read — a type its aiogram does not know, fields that do not parse, ids
beyond 64 bits — are kept, parked and acknowledged; the bot goes on, and starts again, answering."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from storage.db import Database
from storage.tables import inbox
from tests.dbs import database_url
from tests.e2e.test_webhook import free_port
from tests.harness import BotProcess, Person, Sandbox, write_config

pytestmark = pytest.mark.e2e


async def push_raw(sandbox: Sandbox, update: dict[str, Any]) -> None:
    """Straight into the queue, as Telegram would send it (push_update numbers it itself)."""
    state = sandbox.state
    async with state.updates_changed:
        state.updates.append(update)
        state.updates_changed.notify_all()


async def parked(tmp_path: Path) -> dict[int, str]:
    db = Database(database_url(tmp_path))
    try:
        async with db.read() as s:
            rows = await s.execute(
                select(inbox.c.update_id, inbox.c.error).where(inbox.c.status == "failed")
            )
            return {r.update_id: r.error for r in rows}
    finally:
        await db.close()


async def test_in_polling_an_unknown_or_broken_update_is_parked_and_the_bot_goes_on(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.state.ignore_allowed_updates = True
    bot = BotProcess(write_config(tmp_path, sandbox.port), sandbox)
    await bot.start()
    person = Person(7301, "老周", "zh-hans")
    sandbox.state.chat_for(person.json, None)
    # A type newer than this aiogram, then a message whose date does not read.
    strange = await sandbox.state.push_update({"future_update_kind": {"chat": {"id": person.id}}})
    broken = await sandbox.state.push_update(
        {"message": {"message_id": 1, "date": "soon", "chat": {"id": person.id}}}
    )
    await sandbox.say(person, "/start")
    await sandbox.expect(person.id, "请选择语言")
    assert bot.proc is not None and bot.proc.returncode is None
    assert await bot.stop() == 0
    await bot.start()  # and it starts again without tripping over them
    await sandbox.say(person, "/help")
    await sandbox.expect(person.id)
    assert await bot.stop() == 0
    errors = await parked(tmp_path)
    assert sorted(errors) == [strange, broken], errors
    assert "future_update_kind" in errors[strange] and "date" in errors[broken]
    assert sandbox.state.updates == []  # all acknowledged


async def test_an_update_id_beyond_64_bits_does_not_stop_polling(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    bot = BotProcess(write_config(tmp_path, sandbox.port), sandbox)
    await bot.start()
    person = Person(7302, "小吴", "en")
    sandbox.state.chat_for(person.json, None)
    await sandbox.say(person, "/start")
    await sandbox.expect(person.id, "Please choose your language")
    message = {
        "message_id": 9,
        "date": 1700000000,
        "text": "hi",
        "chat": {"id": person.id, "type": "private"},
    }
    await push_raw(sandbox, {"update_id": 2**64, "message": message})
    await asyncio.sleep(1.0)
    assert bot.proc is not None and bot.proc.returncode is None
    assert await bot.stop() == 0
    assert "beyond 64 bits" in bot.log.read_text()


async def post_raw(port: int, path: str, secret: bytes, body: bytes) -> int:
    """An HTTP POST with header bytes no client library would send (not UTF-8)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    await writer.drain()
    status = (await reader.readline()).split()[1]
    writer.close()
    return int(status)


async def test_the_webhook_answers_odd_bodies_with_200_or_400_and_odd_secrets_with_401(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    secret = "s" * 40
    config = write_config(
        tmp_path,
        sandbox.port,
        telegram=f'mode = "webhook"\nwebhook_url = "{url}"\nwebhook_listen = "127.0.0.1:{port}"\n'
        f'webhook_secret = "{secret}"',
    )
    bot = BotProcess(config, sandbox)
    await bot.start(ready="call_setWebhook")
    person = Person(7303, "Ann", "en")
    sandbox.state.chat_for(person.json, None)
    start = {
        "update_id": 905,
        "message": {
            "message_id": 5,
            "date": 1700000000,
            "text": "/start",
            "chat": {"id": person.id, "type": "private", "first_name": "Ann"},
            "from": person.json,
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    bodies: list[tuple[bytes, int]] = [
        (json.dumps({"update_id": 901, "future_update_kind": {"x": 1}}).encode(), 200),
        (json.dumps({"update_id": 902, "message": {"date": "soon"}}).encode(), 200),
        (json.dumps({"update_id": 2**64, "message": {}}).encode(), 400),
        (json.dumps({"update_id": -1, "message": {}}).encode(), 400),
        (json.dumps({"update_id": "903"}).encode(), 400),
        (json.dumps([1, 2]).encode(), 400),
        (b"\xff\xfe not json", 400),
        (b"[" * 100_000, 400),
        (json.dumps(start).encode(), 200),
    ]
    try:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
        async with aiohttp.ClientSession() as http:
            for body, status in bodies:
                async with http.post(url, data=body, headers=headers) as response:
                    assert response.status == status, (body[:60], await response.text())
        assert await post_raw(port, "/tg/hook", b"\xff\xfe\xc3", bodies[-1][0]) == 401
        await sandbox.expect(person.id, "Please choose your language")
    finally:
        assert await bot.stop() == 0
    assert sorted(await parked(tmp_path)) == [901, 902]
