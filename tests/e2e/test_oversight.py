"""Oversight end to end (DESIGN.md §4.5): a week of tickets in 西湖社区 is seeded through the real
services at known times; then, with the bot's clock on Monday 2026-12-07 07:00, staff use /stats,
/queue and /export in the private chat and receive the morning digest and the weekly chart.

The week (Mon 11-30 to Sun 12-06), by hand. 西湖左岸小区: property company P, owners' committee O,
branch B; 西湖家园: property company JP, branch JB.

  T1 repair → P, signed in 1 h (due 2 h), completed, 满意.          P: in time, closed, rated
  T2 repair → P, signed after 3 h (late), completed, 基本满意.        P: late, closed, rated
  T3 parking → O, returned (属地不符) to B, B → P, signed in 30 min,
     completed 12-06 (not yet rated).                              O: not signed, 1 misroute; P: in time
  T4 clutter → B, signed in time, completed, 不满意, reopened,
     completed, 满意.                                              B: in time, closed, 2 ratings (1 pleased)
  T5 sanitation → JP, signed in time, completed, 满意.              JP: in time, closed, rated
  T6 noise → JP on 12-06 21:00, never signed (overdue).            JP: not signed
  T8 sanitation → P on 12-05 09:00, signed 10:00 (in time), due 12-07 10:00 (2 days).

  P: response 3/4, resolution 2/2, satisfaction 2/2, sign-for 1 h + 3 h + 30 min + 1 h = 1 h 22 min
  O: response 0/1, misroutes 1.   B: response 1/1, resolution 1/1, satisfaction 1/2.
  JP: response 1/2, resolution 1/1, satisfaction 1/1.
  西湖左岸小区: response 4/6, resolution 3/3, satisfaction 3/4 → score (0.667 + 1 + 0.75) / 3 = 0.806
  西湖家园:     response 1/2, resolution 1/1, satisfaction 1/1 → score 0.833: ranked first.
  西湖社区:     response 5/8, resolution 4/4, satisfaction 4/5; 7 tickets reported.

On Monday morning (outside the week): T7 utilities → P at 06:30 (sign-for due 07:30), T9 suggestion
→ B at 06:00 (due tomorrow), T10 parking → O at 05:00, returned to B at 06:00 (decision due 10:00).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from bot.domain.lostfound import Category as ItemCategory
from bot.domain.lostfound import Kind
from bot.ui.oversight import OversightAction, OversightCb
from storage.db import Database
from storage.lostfound import LostFoundRepo, NewItem
from storage.units import UnitRepo
from tests.dbs import database_url
from tests.harness import (
    ROOT,
    BotProcess,
    Sandbox,
    buttons,
    drained,
    running_bot,
    seed_people,
)
from tests.oversight_history import (
    AUNT_LI,
    BRANCH,
    COMMUNITY,
    JY_BRANCH,
    OWNERS,
    PROPERTY,
    RESIDENTS,
    STAFF,
    UNCLE_ZHANG,
    History,
    local,
    seed_week,
)

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=ZONE)
WEEK = "20261130-20261206"
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The bot with its clock on Monday 07:00 (before the digest and the chart), sweeping every
    second."""
    (tmp_path / "clock").write_text(
        str((MONDAY - datetime.now(UTC)).total_seconds()), encoding="utf-8"
    )
    async with running_bot(
        sandbox,
        tmp_path,
        "[oversight]\nsweep_seconds = 1\n[complaints]\nsweep_seconds = 1\n",
    ) as process:
        yield process


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed_people(database, sandbox, staff=STAFF, residents=RESIDENTS)
    yield database
    await database.close()


def move_to(bot: BotProcess, at: datetime) -> None:
    (bot.config.parent / "clock").write_text(
        str((at - datetime.now(UTC)).total_seconds()), encoding="utf-8"
    )


async def seeded(db: Database, sandbox: Sandbox) -> History:
    history = await seed_week(db)
    await drained(db)
    for person in (*STAFF, *RESIDENTS):
        sandbox.skip_to_now(person.id)
    return history


async def test_stats_give_each_unit_its_hand_computed_rates_and_nothing_of_its_siblings(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    h = await seeded(db, sandbox)

    # Residents have no figures to see.
    await sandbox.say(AUNT_LI, "/stats")
    await sandbox.expect(AUNT_LI.id, "只供单位工作人员使用")

    await sandbox.say(COMMUNITY, "/stats 下周")
    await sandbox.expect(COMMUNITY.id, "没看懂这个时间段")

    await sandbox.say(COMMUNITY, "/stats 上周")
    community = await sandbox.expect(COMMUNITY.id, "西湖社区")
    text = community["text"]
    assert "2026-11-30 — 2026-12-06" in text
    assert "反映诉求：7 件" in text
    assert "响应率（按时签收）：63% (5/8)" in text
    assert "解决率（办结未被否定）：100% (4/4)" in text
    assert "满意率：80% (4/5)" in text
    assert "退单（派错）：1" in text
    # Ranking: 西湖家园 (0.833) above 西湖左岸小区 (0.806).
    assert text.index("1. 西湖家园") < text.index("2. 西湖左岸小区")
    assert "1. 西湖家园：响应率 50% · 解决率 100% · 满意率 100%（派单 2 件）" in text
    assert "2. 西湖左岸小区：响应率 67% · 解决率 100% · 满意率 75%（派单 6 件）" in text

    # Drill down to the compound, then to its property company.
    await sandbox.tap(COMMUNITY, community, "🔎 西湖左岸小区")
    compound = await sandbox.expect(COMMUNITY.id, "响应率（按时签收）：67% (4/6)")
    assert "满意率：75% (3/4)" in compound["text"]
    lines = compound["text"]
    assert lines.index("1. 西湖左岸物业服务中心") < lines.index("2. 西湖左岸小区党支部")
    assert "3. 西湖左岸小区业委会：响应率 0%" in lines
    await sandbox.tap(COMMUNITY, compound, "🔎 西湖左岸物业服务中心")
    company = await sandbox.expect(COMMUNITY.id, "响应率（按时签收）：75% (3/4)")
    assert "平均签收用时：1小时22分钟" in company["text"]
    assert "解决率（办结未被否定）：100% (2/2)" in company["text"]

    # The compound's branch secretary: the compound's own figures and its place, not the sibling's.
    await sandbox.say(BRANCH, "/stats 上周")
    mine = await sandbox.expect(BRANCH.id, "西湖左岸小区")
    assert "响应率（按时签收）：67% (4/6)" in mine["text"]
    assert "在西湖社区下属 2 个单位中排第 2 名" in mine["text"]
    assert "西湖家园" not in mine["text"]
    assert not any("西湖家园" in label or "上一级" in label for label in buttons(mine))
    # A forged button for the sibling compound (or the community) changes nothing and says why.
    for unit in ("xihu-jiayuan", "xihu"):
        forged = OversightCb(action=OversightAction.STATS, unit=h.units[unit], period=WEEK)
        query = await sandbox.tap_data(BRANCH, mine, forged.pack())
        answer = await sandbox.answer(query)
        assert "只能查看本单位及下级单位" in answer["text"]
    assert await sandbox.quiet(BRANCH.id, 1.0) == []

    # The sibling compound's secretary reads English.
    await sandbox.say(JY_BRANCH, "/stats last week")
    theirs = await sandbox.expect(JY_BRANCH.id, "Xihu Jiayuan")
    assert "Response rate (signed in time): 50% (1/2)" in theirs["text"]
    assert "Ranked 1 of 2 units under Xihu Community." in theirs["text"]
    assert "Zuo'an" not in theirs["text"]


def photos_to(sandbox: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    return [
        e["message"]
        for e in sandbox.state.events
        if e["chat_id"] == chat_id and e["type"] == "send" and "photo" in e["message"]
    ]


def digests_to(sandbox: Sandbox, chat_id: int) -> list[str]:
    return [
        e["message"].get("text", "")
        for e in sandbox.state.events
        if e["chat_id"] == chat_id
        and e["type"] == "send"
        and any(w in e["message"].get("text", "") for w in ("早上好", "Good morning"))
    ]


async def test_the_queue_puts_red_first_and_the_digest_and_chart_come_once_each(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    h = await seeded(db, sandbox)
    number = {name: t.number for name, t in h.tickets.items()}

    # 07:00: T6 is overdue, T8 nearly due (75 % of its two days gone), the rest on time.
    await sandbox.say(COMMUNITY, "/queue")
    queue = await sandbox.expect(COMMUNITY.id, "待办诉求")
    assert "🔴 超时 1 · 🔵 即将到期 1 · 🟢 正常 3" in queue["text"]
    labels = list(buttons(queue))
    assert labels[:5] == [
        f"🔴 {number['T6']}",
        f"🔵 {number['T8']}",
        f"🟢 {number['T7']}",
        f"🟢 {number['T10']}",
        f"🟢 {number['T9']}",
    ]
    # A tap away from its card, with the buttons the community may use.
    await sandbox.tap(COMMUNITY, queue, f"🔴 {number['T6']}")
    card = await sandbox.expect(COMMUNITY.id, number["T6"], kind=("send",))
    while "夜里装修噪音" not in card["text"] or not buttons(card):  # (the chase's card, if any)
        card = await sandbox.expect(COMMUNITY.id, number["T6"], kind=("send",))
    assert "✅ 签收" in buttons(card)

    # The compound's branch sees its compound (all wings), not the sibling's T6.
    await sandbox.say(BRANCH, "/queue")
    mine = await sandbox.expect(BRANCH.id, "待办诉求")
    assert "🔴 超时 0 · 🔵 即将到期 1 · 🟢 正常 3" in mine["text"]
    assert number["T6"] not in mine["text"]
    # The property company sees its own two, and cannot open the sibling's ticket by a forged tap.
    await sandbox.say(PROPERTY, "/queue")
    theirs = await sandbox.expect(PROPERTY.id, "待办诉求")
    assert [label.split()[-1] for label in buttons(theirs)] == [number["T8"], number["T7"]]
    forged = OversightCb(action=OversightAction.CARD, id=h.tickets["T6"].id).pack()
    answer = await sandbox.answer(await sandbox.tap_data(PROPERTY, theirs, forged))
    assert "只能查看本单位及下级单位" in answer["text"]
    assert await sandbox.quiet(PROPERTY.id, 1.0) == []
    await sandbox.say(AUNT_LI, "/queue")
    await sandbox.expect(AUNT_LI.id, "只供单位工作人员使用")

    # 08:00: the morning digest, once to each unit with something to say.
    move_to(bot, MONDAY + timedelta(hours=1, seconds=5))
    digest = await sandbox.expect(PROPERTY.id, "早上好")
    text = digest["text"]
    assert text.index("🔴 已超时") < text.index(number["T7"]) < text.index("⏰ 今天到期")
    assert text.index("⏰ 今天到期") < text.index(number["T8"])
    branch = await sandbox.expect(BRANCH.id, "早上好")
    text = branch["text"]
    assert text.index("↩️ 退回给您") < text.index(number["T10"]) < text.index("🆕 昨天以来新派")
    assert text.index("🆕 昨天以来新派") < text.index(number["T9"])
    assert "下级单位超时未办：1 件" in text  # T7, with the property company
    assert number["T6"] not in text
    assert number["T10"] in buttons(branch)
    community = await sandbox.expect(COMMUNITY.id, "早上好")
    assert "下级单位超时未办：2 件" in community["text"]  # T6 and T7
    english = await sandbox.expect(JY_BRANCH.id, "Good morning")
    assert "Overdue in the units below you: 1" in english["text"]

    # 08:30 on Monday: the weekly chart to the community, not to the compounds.
    move_to(bot, MONDAY + timedelta(hours=1, minutes=31))
    chart = await sandbox.expect(COMMUNITY.id, "📈")
    assert "西湖社区" in chart["caption"] and "7 件" in chart["caption"]
    assert "响应率 63% · 解决率 100% · 满意率 80%" in chart["caption"]
    png, _name = sandbox.state.files[chart["photo"][-1]["file_id"]]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "weekly-chart-e2e.png").write_bytes(png)

    await asyncio.sleep(4)  # several more sweeps: nothing is sent twice
    for person in STAFF:
        expected = 0 if person is OWNERS else 1
        assert len(digests_to(sandbox, person.id)) == expected, person
        assert len(photos_to(sandbox, person.id)) == (1 if person is COMMUNITY else 0), person
    for person in RESIDENTS:
        assert digests_to(sandbox, person.id) == []


async def test_export_writes_the_subtrees_ledgers_with_chinese_headers(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    h = await seeded(db, sandbox)
    async with db.session() as s:
        beidajie = await UnitRepo(s).by_code("beidajie")
        assert beidajie is not None
        await LostFoundRepo(s).create(
            NewItem(
                kind=Kind.FOUND,
                reporter_id=AUNT_LI.id,
                compound_id=h.units["xihu-zuoan"],
                community_id=h.units["xihu"],
                subdistrict_id=beidajie.id,
                category=ItemCategory.KEYS,
                text="一串钥匙，挂着红绳",
                place="3号楼门口",
                day=date(2026, 12, 3),
                photo=None,
                held_at="门卫室",
                announce=False,
                expires_at=local(33, 0),
            ),
            local(3, 8).astimezone(UTC),
        )
    number = {name: t.number for name, t in h.tickets.items()}

    await sandbox.say(UNCLE_ZHANG, "/export")
    await sandbox.expect(UNCLE_ZHANG.id, "只供单位工作人员使用")

    await sandbox.say(COMMUNITY, "/export 上周")
    book = await document(sandbox, COMMUNITY.id)
    assert book.sheetnames == [
        "诉求台账",
        "流转记录",
        "失物招领",
        "党员名册",
        "活动台账",
        "参加明细",
        "住户覆盖",  # the example's flats: the community's compounds have them
    ]
    coverage = list(book["住户覆盖"].iter_rows(values_only=True))
    assert coverage[0][:4] == ("小区", "在册房屋（户）", "已登记住户（户）", "覆盖率")
    assert ("西湖左岸小区", 98, 0, "0%", 0, 0, None) in coverage and coverage[-1][0] == "合计"
    tickets = list(book["诉求台账"].iter_rows(values_only=True))
    assert tickets[0][:5] == ("编号", "反映时间", "小区", "类别", "问题描述")
    week = {"T1", "T2", "T3", "T4", "T5", "T6", "T8"}
    assert {row[0] for row in tickets[1:]} == {number[n] for n in week}
    by_number = {row[0]: row for row in tickets[1:]}
    assert by_number[number["T1"]][2] == "西湖左岸小区"
    assert by_number[number["T1"]][10] == "满意"
    assert by_number[number["T6"]][6] == "待签收"
    trail = list(book["流转记录"].iter_rows(values_only=True))
    assert (number["T3"], "退单", "西湖左岸小区业委会") in {(r[0], r[2], r[3]) for r in trail}
    assert all(row[7] != AUNT_LI.first_name for row in trail[1:])  # residents stay unnamed
    items = list(book["失物招领"].iter_rows(values_only=True))
    assert [row[3] for row in items[1:]] == ["一串钥匙，挂着红绳"]

    # The branch gets its compound only.
    await sandbox.say(BRANCH, "/export 上周")
    book = await document(sandbox, BRANCH.id)
    rows = list(book["诉求台账"].iter_rows(values_only=True))[1:]
    assert {row[0] for row in rows} == {number[n] for n in ("T1", "T2", "T3", "T4", "T8")}


async def document(sandbox: Sandbox, chat_id: int) -> Workbook:
    message = await sandbox.expect(chat_id, "台账", timeout=30)
    while "document" not in message:
        message = await sandbox.expect(chat_id, "台账", timeout=30)
    data, _name = sandbox.state.files[message["document"]["file_id"]]
    return load_workbook(BytesIO(data))
