"""Environmental campaigns end to end (DESIGN.md §4.4): a district campaign over three compounds
fires on its schedule with time moved forward, each bound group gets exactly one reminder per
slot, a resident reports from the reminder's button and the ticket is tagged and routed, the
summary counts it; a branch secretary cannot start one and a bad schedule is explained; a slot
missed while the bot was down is sent once inside the grace window and skipped outside it; a
fan-out to 500 groups survives a kill in the middle with every group reminded exactly once."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.clock import ShiftedClock
from bot.domain.campaigns import SlotStatus
from bot.domain.org import UnitKind
from bot.domain.people import ChatPurpose
from storage.campaigns import CampaignRepo, NewCampaign
from storage.chats import ChatRepo
from storage.complaints import ComplaintRepo
from storage.db import Database
from storage.tables import campaign_sends, complaints, outbox
from storage.units import UnitRepo
from tests.dbs import database_url
from tests.harness import BotProcess, Person, Sandbox, buttons, group, running_bot, seed_people

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Shanghai")
OFFICER = Person(5201, "周科长", "zh")  # district office
BRANCH = Person(5202, "刘书记", "zh")  # 西湖左岸小区党支部
AUNT_LI = Person(5211, "李阿姨", "zh-hans")  # lives in 西湖左岸
UNCLE_WANG = Person(5212, "王大爷", "zh")  # lives in 春秋花园, subscribes
GROUPS = {-7301: "xihu-zuoan", -7302: "chunqiu-huayuan", -7303: "guangming-xincun"}
TITLE = "清脏治乱"


def bot_fixture(name: str, extra: str = "") -> object:
    """A bot process with campaigns swept every second (and `extra` config): a fixture for pytest
    to collect under `name`, never called by the tests themselves."""

    @pytest.fixture(name=name)
    async def running(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
        async with running_bot(
            sandbox, tmp_path, "[campaigns]\nsweep_seconds = 1\n" + extra
        ) as bot:
            yield bot

    return running


bot = bot_fixture("bot")


async def seed(db: Database, sandbox: Sandbox, groups: dict[int, str]) -> None:
    staff = {OFFICER: "weidu", BRANCH: "xihu-zuoan.party_branch"}
    residents = {AUNT_LI: "xihu-zuoan", UNCLE_WANG: "chunqiu-huayuan"}
    await seed_people(db, sandbox, staff=staff, residents=residents)
    now = datetime.now(UTC)
    async with db.session() as s:
        for chat_id, code in groups.items():
            compound = await UnitRepo(s).by_code(code)
            assert compound is not None
            await ChatRepo(s).joined(chat_id, "group", f"{compound.name}居民群", now)
            await ChatRepo(s).bind(chat_id, ChatPurpose.RESIDENTS, compound.id, OFFICER.id, now)
            sandbox.state.chat_for(OFFICER.json, group(chat_id, f"{compound.name}居民群"))


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed(database, sandbox, GROUPS)
    yield database
    await database.close()


def move_to(bot: BotProcess, at: datetime) -> None:
    clock = ShiftedClock(bot.config.parent / "clock")
    clock.advance(at - clock.now())


def reminders(sandbox: Sandbox, chat_id: int) -> int:
    return sum(
        1
        for e in sandbox.state.events
        if e["chat_id"] == chat_id
        and e["type"] == "send"
        and TITLE in (e["message"].get("text") or "")
    )


async def test_a_district_campaign_reminds_each_group_once_per_slot_and_counts_reports(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    # A branch secretary is not community level.
    await sandbox.say(BRANCH, "/campaign")
    await sandbox.expect(BRANCH.id, "整治活动由社区及以上工作人员在本辖区发起")

    await sandbox.say(OFFICER, "/campaign")
    await sandbox.expect(OFFICER.id, "整治活动名称")
    await sandbox.say(OFFICER, TITLE)
    await sandbox.expect(OFFICER.id, "提醒内容")
    await sandbox.say(OFFICER, "周六上午请大家清理楼道杂物，发现乱堆乱放请随手拍。")
    ask = await sandbox.expect(OFFICER.id, "要配一张图片吗")
    await sandbox.tap(OFFICER, ask, "跳过照片")
    ask = await sandbox.expect(OFFICER.id, "持续到什么时候")
    await sandbox.tap(OFFICER, ask, "30 天")
    await sandbox.expect(OFFICER.id, "提醒什么时候发出")
    await sandbox.say(OFFICER, "每周八 9点")
    await sandbox.expect(OFFICER.id, "没看懂这个时间安排。请这样写：每周六 09:00")
    await sandbox.say(OFFICER, "每周六 09:00")
    preview = await sandbox.expect(OFFICER.id, "新的整治活动")
    runs = re.findall(r"\d{4}-\d{2}-\d{2} 09:00", preview["text"])
    assert len(runs) == 3, preview["text"]
    days = [datetime.strptime(r, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE) for r in runs]
    assert all(d.weekday() == 5 for d in days) and days[1] - days[0] == timedelta(days=7)
    await sandbox.tap(OFFICER, preview, "✅ 开始整治活动")
    await sandbox.expect(OFFICER.id, f"第一次提醒：{runs[0]}")
    await sandbox.say(UNCLE_WANG, "/subscribe")
    await sandbox.expect(UNCLE_WANG.id, "整治提醒也会发到这里")

    # One group became a supergroup since the bot last wrote there: its reminder follows it.
    await sandbox._post(
        "/test/migrate", {"user": OFFICER.json, "chat_id": -7303, "new_chat_id": -1007303}
    )
    # The first Saturday: one reminder in each group and to the subscriber, and no more.
    move_to(bot, days[0] + timedelta(minutes=1))
    for chat_id in (-7301, -7302, -1007303):
        reminder = await sandbox.expect(chat_id, TITLE, timeout=20)
        link = reminder["reply_markup"]["inline_keyboard"][0][0]["url"]
        assert re.search(r"start=cp_\d+_\d+$", link), link
    await sandbox.expect(UNCLE_WANG.id, TITLE, timeout=20)
    await asyncio.sleep(3)  # three more sweeps
    chats = (-7301, -7302, -7303, -1007303, UNCLE_WANG.id)
    assert [reminders(sandbox, c) for c in chats] == [1, 1, 0, 1, 1]

    # 李阿姨 reports from the button in her group: the ticket is tagged and routed as usual.
    zuoan = await sandbox.find(-7301, TITLE)
    start = zuoan["reply_markup"]["inline_keyboard"][0][0]["url"].split("start=")[1]
    await sandbox.say(AUNT_LI, f"/start {start}")
    draft = await sandbox.expect(AUNT_LI.id, f"为整治活动“{TITLE}”报告问题")
    assert "请点选最符合的类别" in draft["text"]  # the report's card, in the same message
    await sandbox.tap(AUNT_LI, draft, "乱堆乱放 / 私搭乱建")
    await sandbox.expect(AUNT_LI.id, "请发一条消息描述问题")
    await sandbox.say(AUNT_LI, "3号楼楼道里堆满了纸箱和旧家具")
    draft = await sandbox.expect(AUNT_LI.id, "信息齐全后")
    await sandbox.tap(AUNT_LI, draft, "✅ 提交")
    filed = await sandbox.expect(AUNT_LI.id, "您的诉求已登记为")
    number = re.search(r"WD-\d{8}-\d{4}", filed["text"])
    assert number
    await sandbox.expect(BRANCH.id, number.group(0))  # clutter goes to the branch
    async with db.read() as s:
        ticket = await ComplaintRepo(s).by_number(number.group(0))
        campaign_id = int(start.split("_")[1])
        assert ticket is not None
        zuoan_unit = await UnitRepo(s).by_code("xihu-zuoan")
        assert zuoan_unit is not None and ticket.compound_id == zuoan_unit.id
        tagged = (
            await s.execute(select(complaints.c.campaign_id).where(complaints.c.id == ticket.id))
        ).scalar_one()
        assert tagged == campaign_id

    # The summary on demand counts the reminders and the report.
    await sandbox.say(OFFICER, "/campaigns")
    listing = await sandbox.expect(OFFICER.id, TITLE, kind=("send",))
    await sandbox.tap(OFFICER, listing, next(b for b in buttons(listing) if "总结" in b))
    summary = await sandbox.expect(OFFICER.id, "📊")
    assert "西湖左岸小区：送达提醒 1 条；问题报告 1 件，已解决 0 件" in summary["text"], summary[
        "text"
    ]
    assert "春秋花园：送达提醒 2 条" in summary["text"], summary["text"]  # group + subscriber
    assert "合计：送达提醒 4 条；问题报告 1 件" in summary["text"], summary["text"]

    # The next Saturday: one more each. Paused, the third Saturday brings nothing.
    move_to(bot, days[1] + timedelta(minutes=1))
    for chat_id in (-7301, -7302, -1007303):
        await sandbox.expect(chat_id, TITLE, timeout=20)
    await sandbox.say(OFFICER, "/campaigns")
    listing = await sandbox.expect(OFFICER.id, TITLE)
    pause = next(d for b, d in buttons(listing).items() if "暂停" in b)
    for forged in (pause, pause.replace(":p:", ":e:"), "cm:s:999"):  # not his, and no such one
        answer = await sandbox.answer(await sandbox.tap_data(BRANCH, listing, forged))
        assert "整治活动由社区及以上" in answer["text"] or "找不到该整治活动" in answer["text"]
    await sandbox.tap(OFFICER, listing, next(b for b in buttons(listing) if "暂停" in b))
    await sandbox.quiet(OFFICER.id, 1.0)
    move_to(bot, days[2] + timedelta(minutes=1))
    await asyncio.sleep(3)
    assert [reminders(sandbox, c) for c in (-7301, -7302, -1007303)] == [2, 2, 2]


async def new_campaign(db: Database, schedule: str, first: datetime, days: int = 30) -> int:
    async with db.session() as s:
        district = await UnitRepo(s).by_code("weidu")
        assert district is not None and district.kind is UnitKind.DISTRICT
        campaign = await CampaignRepo(s).create(
            NewCampaign(TITLE, "请清理楼道杂物。", None, district.id, schedule,
                        first - timedelta(hours=1), first + timedelta(days=days), OFFICER.id, first),
            datetime.now(UTC),
        )  # fmt: skip
        return campaign.id


async def test_a_slot_missed_while_down_is_sent_once_inside_the_grace_window_else_skipped(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    now = ShiftedClock(bot.config.parent / "clock").now().astimezone(ZONE)
    first = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    await bot.stop()
    campaign_id = await new_campaign(db, "每天 08:00", first)
    move_to(bot, first + timedelta(hours=2))  # down through 08:00; back at 10:00 (grace 6 h)
    await bot.start()
    for chat_id in GROUPS:
        await sandbox.expect(chat_id, TITLE, timeout=20)
    await asyncio.sleep(3)
    assert [reminders(sandbox, c) for c in GROUPS] == [1, 1, 1]
    await bot.stop()
    move_to(bot, first + timedelta(days=1, hours=8))  # the next 08:00 is found at 16:00
    await bot.start()
    await asyncio.sleep(4)
    assert [reminders(sandbox, c) for c in GROUPS] == [1, 1, 1]
    async with db.read() as s:
        slots = await CampaignRepo(s).slots(campaign_id)
    assert sorted(slots.values()) == sorted([SlotStatus.DONE, SlotStatus.SKIPPED]), slots
    assert "skipped" in bot.log.read_text()


many = bot_fixture("many", "batch = 10\n")


@pytest.fixture
async def crowd(sandbox: Sandbox, many: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(many.config.parent))
    async with database.session() as s:
        compounds = [u for u in await UnitRepo(s).of_kind(UnitKind.COMPOUND)]
    codes = {-8000 - n: compounds[n % len(compounds)].code for n in range(500)}
    await seed(database, sandbox, codes)
    yield database
    await database.close()


async def test_a_fan_out_to_500_groups_killed_in_the_middle_reminds_every_group_once(
    sandbox: Sandbox, many: BotProcess, crowd: Database
) -> None:
    rng = random.Random()
    now = ShiftedClock(many.config.parent / "clock").now()
    await many.stop()
    campaign_id = await new_campaign(crowd, "每天 08:00", now - timedelta(minutes=1))
    await many.start()
    kills = 0
    for stop_at in (rng.randrange(20, 200), rng.randrange(250, 450)):
        while True:  # kill while the fan-out is part-way written
            async with crowd.read() as s:
                written = (
                    await s.execute(select(func.count()).select_from(campaign_sends))
                ).scalar_one()
            if written >= stop_at or written == 500:
                break
            await asyncio.sleep(0.005)
        await many.kill()
        kills += 1
        await many.start()
    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        async with crowd.read() as s:
            pending = (
                await s.execute(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.status.in_(("pending", "sending")))
                )
            ).scalar_one()
            written = (
                await s.execute(select(func.count()).select_from(campaign_sends))
            ).scalar_one()
        if written == 500 and not pending:
            break
        await asyncio.sleep(0.5)
    async with crowd.read() as s:
        rows = (await s.execute(select(outbox.c.chat_id, outbox.c.status, outbox.c.error))).all()
        sends = (await s.execute(select(campaign_sends.c.chat_id))).scalars().all()
    assert sorted(sends) == sorted(range(-8499, -7999)), "a group was left out or written twice"
    received = Counter(
        e["chat_id"] for e in sandbox.state.events if e["type"] == "send" and e["chat_id"] < -7999
    )
    interrupted = {
        r.chat_id for r in rows if r.status == "dead" and "interrupted" in (r.error or "")
    }
    print(f"kills={kills} interrupted={len(interrupted)}")
    assert max(received.values()) == 1, "a group got two reminders"
    assert set(received) | interrupted == set(range(-8499, -7999))
    assert len(interrupted) <= 8 * kills  # only what was in flight at a kill
    assert campaign_id
