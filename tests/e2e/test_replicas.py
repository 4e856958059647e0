"""Two replicas in webhook mode behind nginx, on PostgreSQL and Redis (docs/deployment.md).

The sandbox delivers the whole story of test_nothing_lost (onboarding, invitations, bound groups,
complaints signed for, returned, completed and rated, party registration and check-in) by webhook
through nginx, which spreads it over both replicas; the leading one is SIGKILLed in the middle.
The other takes the lead (the sweeps and the sender) and everything is still handled exactly once,
every alert and answer delivered; a campaign started afterwards reminds each bound group once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.db import Database
from storage.inbox import InboxRepo
from tests.cluster import Nginx, fresh_redis, leader_of, need_engines, replica
from tests.e2e.test_campaigns import TITLE, new_campaign
from tests.e2e.test_nothing_lost import Crowd, nothing_lost
from tests.harness import Sandbox

pytestmark = [pytest.mark.e2e, pytest.mark.serial]

GROUPS = (-1006000, -6001, -6002)  # bound by the story (the first became a supergroup)


def handled(metrics: str) -> int:
    """Updates a replica has handled, from its /metrics."""
    for line in metrics.splitlines():
        if line.startswith('lastmeter_updates_total{outcome="handled"}'):
            return int(float(line.split()[-1]))
    return 0


async def conversations(url: str) -> int:
    """How many conversations are under way in Redis (aiogram's keys start with fsm:)."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        return len([key async for key in client.scan_iter("fsm:*")])
    finally:
        await client.aclose()


@pytest.mark.timeout(900)
async def test_two_replicas_behind_nginx_one_killed_lose_and_repeat_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    url, redis, nginx_binary = need_engines()
    redis = await fresh_redis(redis)
    nginx = Nginx(tmp_path / "nginx", nginx_binary, upstreams=[])
    replicas = [
        replica(sandbox, tmp_path / name, url=url, redis=redis, nginx_port=nginx.port)
        for name in ("one", "two")
    ]
    nginx.upstreams = [r.listen for r in replicas]
    await nginx.start()
    db = Database(url)
    try:
        for r in replicas:  # both register the same webhook: the address of nginx
            await r.bot.start(ready="call_setWebhook", timeout=60)
        assert sandbox.state.webhook["url"] == f"http://127.0.0.1:{nginx.port}/tg/hook"
        first = await leader_of(replicas)
        other = next(r for r in replicas if r is not first)
        assert not (await other.health())["leader"]

        crowd = Crowd(residents=48)  # the kill test has 80; fewer keep CI short
        marks: list[int] = []
        before_kill: dict[str, int] = {}

        async def kill_the_leader_midway() -> None:
            while len(sandbox.state.events) < 250:  # noqa: ASYNC110 - the sandbox counts
                await asyncio.sleep(0.05)
            before_kill["handled"] = handled(await first.metrics())
            before_kill["conversations"] = await conversations(redis)
            await first.bot.kill()
            await asyncio.sleep(0.2)  # what the dead process had under way is recorded first
            marks.append(len(sandbox.state.events))

        killing = asyncio.create_task(kill_the_leader_midway())
        await crowd.live(sandbox)
        await killing
        assert await leader_of([other]) is other  # it took the lead from the killed one
        health = await other.health()
        assert health["http_status"] == 200 and health["database"] == health["telegram"] == "ok"

        # A campaign after the kill: the new leader's sweep reminds each bound group once.
        await new_campaign(db, "每天 08:00", datetime.now(UTC) - timedelta(minutes=1))
        for chat_id in GROUPS:
            await sandbox.expect(chat_id, TITLE, timeout=60)
        await nothing_lost(db, sandbox, crowd, marks)
        reminders = Counter(
            e["chat_id"]
            for e in sandbox.state.events
            if e["type"] == "send" and TITLE in (e["message"].get("text") or "")
        )
        assert reminders == dict.fromkeys(GROUPS, 1), reminders

        # Both replicas took part (nginx spread the load); conversations lived in Redis.
        metrics = await other.metrics()
        async with db.read() as s:
            updates = (await InboxRepo(s).counts())["done"]
        survivor = handled(metrics)
        print(
            f"updates={updates} handled by the killed replica before the kill="
            f"{before_kill['handled']} by the survivor={survivor}; conversations in Redis at the "
            f"kill={before_kill['conversations']}; webhook deliveries "
            f"{sandbox.state.stats.get('webhook_ok', 0)} ok, "
            f"{sandbox.state.stats.get('webhook_failed', 0)} failed and retried"
        )
        assert before_kill["handled"] > 0 and survivor > 0
        assert before_kill["handled"] + survivor <= updates
        assert before_kill["conversations"] > 0
        assert "lastmeter_outbox_pending 0.0" in metrics
        assert await other.bot.stop() == 0
    finally:
        for r in replicas:
            await r.bot.kill()
        await nginx.stop()
        await db.close()
