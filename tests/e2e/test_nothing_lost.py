"""Nothing is lost: the bot process is SIGKILLed at random moments while people use it.

At the end every update has been handled exactly once (its effects exist once), every outbox message
reached the sandbox at least once, and fewer than 1 % arrived twice.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.domain.people import ChatPurpose
from storage.chats import ChatRepo
from storage.db import Database
from storage.inbox import InboxRepo
from storage.tables import inbox, invites, outbox, staff, users
from storage.units import UnitRepo
from tests.harness import ADMIN_ID, BotProcess, Person, Sandbox, drained, group

pytestmark = pytest.mark.e2e

HOMES = [
    ("北大街道", "西湖社区", "西湖左岸小区", "xihu-zuoan"),
    ("北大街道", "西湖社区", "西湖家园", "xihu-jiayuan"),
    ("东大街道", "春秋社区", "春秋花园", "chunqiu-huayuan"),
    ("高桥营街道", "东李庄社区", "东李庄小区", "donglizhuang-xiaoqu"),
    ("五一路街道", "光明社区", "光明新村", "guangming-xincun"),
    ("文峰街道", "文峰社区", "文峰小区", "wenfeng-xiaoqu"),
]
RESIDENTS = 80
OFFICERS = 5
GROUPS = 3
WAIT = 90.0  # long enough to span a kill and a restart


async def resident(sandbox: Sandbox, person: Person, home: tuple[str, str, str, str]) -> None:
    sub, community, compound, _ = home
    await sandbox.say(person, "/start")
    prompt = await sandbox.expect(person.id, "请选择语言", timeout=WAIT)
    await sandbox.tap(person, prompt, "中文")
    ask = await sandbox.expect(person.id, "您住在哪里", timeout=WAIT)
    await sandbox.tap(person, ask, sub)
    step = await sandbox.expect(person.id, "请选择您所在的社区", timeout=WAIT)
    await sandbox.tap(person, step, community)
    step = await sandbox.expect(person.id, "请选择您所在的小区", timeout=WAIT)
    await sandbox.tap(person, step, compound)
    await sandbox.expect(person.id, f"已设置您的小区：{compound}", timeout=WAIT)
    await sandbox.say(person, "/whoami")
    await sandbox.expect(person.id, f"所在小区：{compound}", timeout=WAIT)


async def invite(sandbox: Sandbox, admin: Person, path: list[str], role: str) -> str:
    await sandbox.say(admin, "/invite")
    menu = await sandbox.expect(admin.id, "Whom do you want to invite?", timeout=WAIT)
    for name in path:
        await sandbox.tap(admin, menu, "› " + name)
        menu = await sandbox.expect(admin.id, "invite staff here", timeout=WAIT)
    await sandbox.tap(admin, menu, role)
    made = await sandbox.expect(admin.id, "Invitation for a", timeout=WAIT)
    found = re.search(r"start=(inv_[\w-]+)", made["text"])
    assert found
    return found.group(1)


async def staff_and_groups(sandbox: Sandbox) -> None:
    admin = Person(ADMIN_ID, "Office", "en")
    for n in range(OFFICERS):
        payload = await invite(sandbox, admin, ["Weidu District"], "Invite a officer here")
        officer = Person(4000 + n, f"干部{n}", "zh")
        await sandbox.say(officer, f"/start {payload}")
        await sandbox.expect(officer.id, "欢迎！您现在是魏都区的工作人员", timeout=WAIT)
    payload = await invite(
        sandbox,
        admin,
        ["Weidu District", "Beidajie Sub-district", "Xihu Community"],
        "Invite a secretary here",
    )
    secretary = Person(4100, "陈书记", "zh")
    await sandbox.say(secretary, f"/start {payload}")
    await sandbox.expect(secretary.id, "欢迎！您现在是西湖社区的书记", timeout=WAIT)
    for n in range(GROUPS):
        chat = group(-6000 - n, f"测试群{n}")
        await sandbox.added_to_group(secretary, chat)
        await sandbox.expect(chat["id"], "大家好", timeout=WAIT)
        await sandbox.say(secretary, "/bind", chat=chat)
        options = await sandbox.expect(chat["id"], "这个群用来做什么", timeout=WAIT)
        await sandbox.tap(secretary, options, "西湖左岸小区居民群")
        await sandbox.expect(chat["id"], "本群已绑定为西湖左岸小区居民群", timeout=WAIT)
    await sandbox._post(
        "/test/migrate", {"user": secretary.json, "chat_id": -6000, "new_chat_id": -1006000}
    )


async def killer(bot: BotProcess, done: asyncio.Event, rng: random.Random) -> int:
    kills = 0
    while not done.is_set() or kills < 5:
        await asyncio.sleep(rng.uniform(0.5, 2.5))
        await bot.kill()
        kills += 1
        await bot.start(timeout=60)
    return kills


async def test_random_kills_lose_nothing_and_repeat_nothing(
    sandbox: Sandbox, bot: BotProcess, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    print(f"kill test seed {seed}")
    rng = random.Random(seed)
    people = [Person(3000 + n, f"居民{n}", "zh-hans") for n in range(RESIDENTS)]
    done = asyncio.Event()
    kill_task = asyncio.create_task(killer(bot, done, rng))
    await asyncio.gather(
        *(resident(sandbox, p, HOMES[n % len(HOMES)]) for n, p in enumerate(people)),
        staff_and_groups(sandbox),
    )
    done.set()
    kills = await kill_task
    assert kills >= 5

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        await drained(db)  # then compare the database with what the sandbox saw

        async with db.session() as s:
            handled = set((await s.execute(select(inbox.c.update_id))).scalars())
            last = next(sandbox.state.update_seq) - 1
            assert handled == set(range(1, last + 1)), "an update was lost"
            assert await InboxRepo(s).counts() == {"done": last}, "an update failed"
            assert last >= 300

            # Effects exist exactly once.
            rows = (
                await s.execute(
                    select(
                        outbox.c.cause,
                        outbox.c.chat_id,
                        outbox.c.method,
                        outbox.c.payload,
                        outbox.c.status,
                    )
                )
            ).all()
            twice = Counter((r.cause, r.chat_id, r.method, r.payload) for r in rows)
            assert max(twice.values()) == 1, "an update's messages were written twice"
            assert all(r.status == "sent" for r in rows), Counter(r.status for r in rows)
            for n, person in enumerate(people):
                compound = await UnitRepo(s).by_code(HOMES[n % len(HOMES)][3])
                user_row = (await s.execute(select(users).where(users.c.id == person.id))).one()
                assert compound is not None and user_row.compound_id == compound.id
            assert (await s.execute(select(func.count()).select_from(invites))).scalar_one() == (
                OFFICERS + 1
            )
            assert (await s.execute(select(func.count()).select_from(staff))).scalar_one() == (
                OFFICERS + 1
            )
            bound = [await ChatRepo(s).get(cid) for cid in (-1006000, -6001, -6002)]
            assert all(c is not None and c.purpose is ChatPurpose.RESIDENTS for c in bound)
            assert await ChatRepo(s).get(-6000) is None

        # Every message reached the sandbox at least once; fewer than 1 % twice.
        sent_texts = Counter(
            (e["chat_id"], e["message"].get("html"))
            for e in sandbox.state.events
            if e["type"] == "send"
        )
        wanted = Counter(
            (r.chat_id, json.loads(r.payload)["text"]) for r in rows if r.method == "sendMessage"
        )
        missing = {k: n for k, n in wanted.items() if sent_texts[k] < n}
        assert not missing, f"never delivered: {list(missing)[:5]}"
        extra = sum(max(0, sent_texts[k] - n) for k, n in wanted.items())
        print(f"kills={kills} updates={last} messages={sum(wanted.values())} duplicates={extra}")
        assert extra / sum(wanted.values()) < 0.01
    finally:
        await db.close()
