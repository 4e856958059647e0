"""The sandbox posts updates to a webhook the way Telegram does: with the secret token, again and
again until the bot answers 2xx, each chat's updates in order, only the kinds the bot asked for,
and no more once the webhook is deleted."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.sandbox.server import WebhookTiming
from tests.harness import TOKEN, Person, Sandbox, group

AUNT_LI = Person(3001, "李阿姨")
TOM = Person(3002, "Tom", "en")
SECRET = "s3cret_token-for-the-hook"
HANG = 0.6  # how long a hanging webhook takes to answer


@dataclass
class Received:
    update: dict[str, Any]
    secret: str | None

    @property
    def text(self) -> str:
        return str(self.update.get("message", {}).get("text", ""))


def chat_of(update: dict[str, Any]) -> int:
    body = update.get("message") or update.get("my_chat_member") or {}
    return int(body["chat"]["id"])


@dataclass
class Receiver:
    """A bot's webhook endpoint that records every request and answers as a test tells it."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    acknowledged: list[Received] = field(default_factory=list)  # answered 200
    fail_next: int = 0  # answer 500 to this many requests
    hang_next: int = 0  # answer this many requests only after HANG seconds
    slow: dict[int, float] = field(default_factory=dict)  # chat id → seconds before answering
    open_by_chat: dict[int, int] = field(default_factory=dict)
    overlaps: list[int] = field(default_factory=list)  # chats that got a request while one was open
    most_at_once: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def texts(self, person: Person) -> list[str]:
        return [r.text for r in self.acknowledged if chat_of(r.update) == person.id]

    async def handle(self, request: web.Request) -> web.Response:
        got = Received(await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        chat = chat_of(got.update)
        self.requests.append(got)
        if self.open_by_chat.get(chat):
            self.overlaps.append(chat)
        self.open_by_chat[chat] = self.open_by_chat.get(chat, 0) + 1
        self.most_at_once = max(self.most_at_once, sum(self.open_by_chat.values()))
        try:
            delay = self.slow.get(chat, 0.0)
            if self.hang_next > 0:
                self.hang_next -= 1
                delay = HANG
            await asyncio.sleep(delay)
            if self.fail_next > 0:
                self.fail_next -= 1
                return web.Response(status=500, text="the bot is down")
            self.acknowledged.append(got)
            return web.Response(text="ok")
        finally:
            self.open_by_chat[chat] -= 1


@asynccontextmanager
async def listening(port: int = 0) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=HANG)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    receiver.port = int(runner.addresses[0][1])
    try:
        yield receiver
    finally:
        await runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with listening() as r:
        yield r


@pytest.fixture(autouse=True)
def quick_retries(sandbox: Sandbox) -> None:
    sandbox.state.webhook_timing = WebhookTiming(timeout=2.0, first_pause=0.05, max_pause=0.2)


async def call(sandbox: Sandbox, method: str, **params: Any) -> dict[str, Any]:
    """A Bot API call over HTTP, as the bot makes it; Telegram's whole answer."""
    async with sandbox.http.post(f"{sandbox.base}/bot{TOKEN}/{method}", json=params) as response:
        answer: dict[str, Any] = await response.json()
        return answer


async def set_webhook(sandbox: Sandbox, url: str, **params: Any) -> None:
    assert (await call(sandbox, "setWebhook", url=url, **params))["ok"]


async def webhook_info(sandbox: Sandbox) -> dict[str, Any]:
    info: dict[str, Any] = (await call(sandbox, "getWebhookInfo"))["result"]
    return info


async def until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_updates_waiting_and_new_reach_the_webhook_with_its_secret(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    before = await sandbox.say(AUNT_LI, "/start")
    await set_webhook(sandbox, receiver.url, secret_token=SECRET)
    after = await sandbox.say(AUNT_LI, "你好")

    await until(lambda: len(receiver.acknowledged) == 2)
    assert [r.update["update_id"] for r in receiver.acknowledged] == [
        before["update_id"],
        after["update_id"],
    ]
    assert [r.secret for r in receiver.requests] == [SECRET, SECRET]
    info = await webhook_info(sandbox)
    assert (info["url"], info["pending_update_count"], info["max_connections"]) == (
        receiver.url,
        0,
        40,
    )
    assert "last_error_date" not in info
    assert sandbox.state.updates == []


async def test_a_failing_bot_gets_each_update_until_it_answers_200_and_never_again(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.fail_next = 3
    await set_webhook(sandbox, receiver.url, secret_token=SECRET)
    ids = [(await sandbox.say(AUNT_LI, text))["update_id"] for text in ("一", "二", "三")]

    await until(lambda: len(receiver.acknowledged) == 3)
    assert receiver.texts(AUNT_LI) == ["一", "二", "三"]
    # The first update waits out three failures; the others wait behind it, then go in order.
    assert sandbox.state.webhook_log == [(ids[0], 500)] * 3 + [(i, 200) for i in ids]
    stats = sandbox.state.stats
    assert (stats["webhook_sent"], stats["webhook_failed"], stats["webhook_ok"]) == (6, 3, 3)
    info = await webhook_info(sandbox)
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )
    assert abs(info["last_error_date"] - time.time()) < 5
    assert info["pending_update_count"] == 0

    await asyncio.sleep(0.3)
    assert len(receiver.requests) == 6  # nothing is sent again after its 200


async def test_a_bot_that_is_not_listening_yet_gets_its_updates_once_it_is(
    sandbox: Sandbox,
) -> None:
    port = free_port()
    await set_webhook(sandbox, f"http://127.0.0.1:{port}/hook")
    ids = {(await sandbox.say(person, "在吗"))["update_id"] for person in (AUNT_LI, TOM)}

    await until(lambda: sandbox.state.stats.get("webhook_failed", 0) >= 4)
    assert {outcome for _, outcome in sandbox.state.webhook_log} == {"Connection refused"}
    info = await webhook_info(sandbox)
    assert (info["last_error_message"], info["pending_update_count"]) == ("Connection refused", 2)

    async with listening(port) as receiver:
        await until(lambda: len(receiver.acknowledged) == 2)
        await asyncio.sleep(0.3)
        assert {r.update["update_id"] for r in receiver.requests} == ids
        assert len(receiver.requests) == 2
    assert sandbox.state.updates == []


async def test_a_bot_that_answers_too_late_gets_the_update_again(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    sandbox.state.webhook_timing.timeout = 0.2
    receiver.hang_next = 1
    await set_webhook(sandbox, receiver.url)
    update_id = (await sandbox.say(AUNT_LI, "慢"))["update_id"]

    await until(lambda: (update_id, 200) in sandbox.state.webhook_log)
    assert sandbox.state.webhook_log == [(update_id, "Read timeout expired"), (update_id, 200)]
    assert (await webhook_info(sandbox))["last_error_message"] == "Read timeout expired"


async def test_each_chat_keeps_its_order_and_a_slow_chat_holds_up_no_other(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.slow = {AUNT_LI.id: 0.3}
    await set_webhook(sandbox, receiver.url)
    for n in range(3):
        await sandbox.say(AUNT_LI, f"aunt {n}")
        await sandbox.say(TOM, f"tom {n}")

    await until(lambda: len(receiver.acknowledged) == 6)
    assert receiver.texts(AUNT_LI) == ["aunt 0", "aunt 1", "aunt 2"]
    assert receiver.texts(TOM) == ["tom 0", "tom 1", "tom 2"]
    assert receiver.overlaps == []  # a chat's next update only after the last one's 200
    # Tom's chat was done while the aunt's first update was still being answered.
    assert [r.text for r in receiver.acknowledged][:4] == ["tom 0", "tom 1", "tom 2", "aunt 0"]


async def test_no_more_requests_at_once_than_max_connections(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    people = [Person(3100 + n, f"邻居{n}") for n in range(5)]
    receiver.slow = {person.id: 0.15 for person in people}
    await set_webhook(sandbox, receiver.url, max_connections=2)
    for person in people:
        await sandbox.say(person, "早")

    await until(lambda: len(receiver.acknowledged) == 5)
    assert receiver.most_at_once == 2
    assert (await webhook_info(sandbox))["max_connections"] == 2


async def test_only_the_allowed_kinds_of_update_are_delivered(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    await set_webhook(sandbox, receiver.url, allowed_updates=["my_chat_member"])
    await sandbox.say(AUNT_LI, "this message is not wanted")
    await sandbox.added_to_group(AUNT_LI, group(-4001, "楼栋群"))

    await until(lambda: len(receiver.acknowledged) == 1)
    await asyncio.sleep(0.2)
    assert [list(r.update) for r in receiver.requests] == [["my_chat_member", "update_id"]]
    assert receiver.requests[0].secret is None  # no secret_token set, no header
    info = await webhook_info(sandbox)
    assert (info["allowed_updates"], info["pending_update_count"]) == (["my_chat_member"], 0)


async def test_deleting_the_webhook_stops_delivery_and_getupdates_works_again(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    await set_webhook(sandbox, receiver.url)
    refused = await call(sandbox, "getUpdates")
    assert (refused["ok"], refused["error_code"]) == (False, 409)
    await sandbox.say(AUNT_LI, "delivered")
    await until(lambda: len(receiver.acknowledged) == 1)

    assert (await call(sandbox, "deleteWebhook"))["ok"]
    kept = await sandbox.say(AUNT_LI, "kept for getUpdates")
    await asyncio.sleep(0.3)
    assert len(receiver.requests) == 1
    polled = await call(sandbox, "getUpdates")
    assert [u["update_id"] for u in polled["result"]] == [kept["update_id"]]
    assert (await webhook_info(sandbox))["url"] == ""

    assert (await call(sandbox, "deleteWebhook", drop_pending_updates=True))["ok"]
    assert (await call(sandbox, "getUpdates"))["result"] == []


async def test_a_new_url_takes_over_what_the_old_one_did_not_acknowledge(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    await set_webhook(sandbox, receiver.url)
    await sandbox.say(AUNT_LI, "first")
    await until(lambda: len(receiver.acknowledged) == 1)
    receiver.fail_next = 1000  # the old address breaks
    await sandbox.say(AUNT_LI, "second")
    await until(lambda: sandbox.state.stats.get("webhook_failed", 0) >= 1)

    async with listening() as new:
        await set_webhook(sandbox, new.url)
        await sandbox.say(AUNT_LI, "third")
        await until(lambda: len(new.acknowledged) == 2)
        assert new.texts(AUNT_LI) == ["second", "third"]
        assert receiver.texts(AUNT_LI) == ["first"]
        assert (await webhook_info(sandbox)).get("last_error_message") is None
