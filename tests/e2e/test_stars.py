"""五星小区 end to end (issue 23), through the sandbox: last month is evaluated when the bot
starts; the community (in Chinese) confirms 西湖左岸's result, which is made public in its
residents group with an objection button; 王阿姨 objects from the private chat; the sub-district
(in English) answers, and she reads the answer; Tom, of another compound, may not object; the
chart and the XLSX ledger come from /stars. Nobody's name reaches the group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.domain.people import ChatPurpose
from storage import tables
from storage.chats import ChatRepo
from storage.db import Database
from storage.units import UnitRepo
from tests.dbs import database_url
from tests.harness import (
    ROOT,
    BotProcess,
    Person,
    Sandbox,
    buttons,
    group,
    running_bot,
    seed_people,
)

pytestmark = pytest.mark.e2e

WEN = Person(6301, "温书记", "zh")  # 西湖社区
BEI = Person(6302, "Ms Bei", "en")  # 北大街道, the sub-district
LIU = Person(6303, "刘书记", "zh")  # 西湖左岸小区党支部
WANG = Person(6311, "王阿姨", "zh-hans")  # lives in 西湖左岸
TOM = Person(6312, "Tom", "en-US")  # lives in 西湖家园
RESIDENTS_GROUP = group(-6301, "西湖左岸居民群")
ZONE = ZoneInfo("Asia/Shanghai")


def last_month() -> str:
    today = datetime.now(ZONE).date()
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year}-{month:02d}"


MONTH = last_month()


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The bot with the example criteria as a version of last month (the first on record, so it
    applies to last month, which the sweep evaluates at once)."""
    criteria = tmp_path / "stars.toml"
    text = (ROOT / "stars.example.toml").read_text(encoding="utf-8")
    criteria.write_text(text.replace('version = "2026-12"', f'version = "{MONTH}"'), "utf-8")
    extra = f'[stars]\nfile = "{criteria}"\nsweep_seconds = 1\n'
    async with running_bot(sandbox, tmp_path, extra) as process:
        yield process


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed_people(
        database,
        sandbox,
        staff={WEN: "xihu", BEI: "beidajie", LIU: "xihu-zuoan.party_branch"},
        residents={WANG: "xihu-zuoan", TOM: "xihu-jiayuan"},
    )
    now = datetime.now(UTC)
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        await ChatRepo(s).joined(RESIDENTS_GROUP["id"], "group", RESIDENTS_GROUP["title"], now)
        await ChatRepo(s).bind(
            RESIDENTS_GROUP["id"], ChatPurpose.RESIDENTS, compound.id, LIU.id, now
        )
    sandbox.state.chat_for(LIU.json, RESIDENTS_GROUP)
    yield database
    await database.close()


async def evaluated(db: Database) -> int:
    async with db.read() as s:
        found = await s.execute(select(func.count()).select_from(tables.star_runs))
        return int(found.scalar_one())


async def test_a_result_is_reviewed_made_public_objected_to_and_answered(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    sandbox.personal("王阿姨", "Tom")
    for _ in range(200):  # the sweep runs at start and every second
        if await evaluated(db) >= 2:
            break
        await sandbox.quiet(WEN.id, 0.1)
    await sandbox.say(WEN, "/stars")
    board = await sandbox.expect(WEN.id, f"五星小区 · 西湖社区 · {MONTH}")
    assert "全区 2024 年目标：60%" in board["text"], board["text"]
    await sandbox.tap(WEN, board, "0★ 西湖左岸小区")
    card = await sandbox.expect(WEN.id, f"西湖左岸小区 · {MONTH}：0 星")
    assert "状态：待社区审核" in card["text"], card["text"]
    await sandbox.tap(WEN, card, "✅ 确认并公示")
    await sandbox.expect(WEN.id, "已确认并公示")
    notice = await sandbox.expect(RESIDENTS_GROUP["id"], f"五星小区 {MONTH}：西湖左岸小区 — 0 星")
    link = notice["reply_markup"]["inline_keyboard"][0][0]
    assert link["text"] == "⚠️ 提异议" and "?start=so_" in link["url"], link
    await sandbox.expect(LIU.id, f"西湖左岸小区 {MONTH} 评定为 0 星")
    start = "/start " + link["url"].rsplit("start=", 1)[1]

    await sandbox.say(TOM, start)
    refused = await sandbox.expect(TOM.id, "Only residents of this compound")
    assert "My compound" in refused["text"]

    await sandbox.say(WANG, start)
    await sandbox.expect(WANG.id, "这个评定结果哪里不对")
    await sandbox.say(WANG, "上个月我们开展了三次志愿服务，党建引领星应该重新核实")
    await sandbox.expect(WANG.id, "您的异议 #1 已转给街道")
    objection = await sandbox.expect(BEI.id, "Objection #1 to the five-star result of Xihu Zuo'an")
    assert "王阿姨" in objection["text"] and "志愿服务" in objection["text"], objection["text"]
    forged = await sandbox.tap_data(
        WEN, objection, buttons(objection)["✅ Answer: the result stands"]
    )
    assert "由街道（或区）答复" in (await sandbox.answer(forged)).get("text", "")
    await sandbox.tap(BEI, objection, "✅ Answer: the result stands")
    await sandbox.expect(BEI.id, "answer to the resident")
    await sandbox.say(BEI, "志愿服务属文明风尚星；党建引领星缺“六有”录入，本月请社区补录。")
    await sandbox.expect(BEI.id, "Answered: the result stands.")
    answer = await sandbox.expect(WANG.id, "街道已答复您")
    assert "评定结果维持不变" in answer["text"] and "六有" in answer["text"], answer["text"]
    await sandbox.say(WANG, start)
    await sandbox.expect(WANG.id, "您已经对这个评定结果提过异议")

    await sandbox.say(WEN, "/stars")
    board = await sandbox.expect(WEN.id, f"五星小区 · 西湖社区 · {MONTH}")
    await sandbox.tap(WEN, board, "📈 图表")
    chart = await sandbox.expect(WEN.id, f"西湖社区 {MONTH} 五星小区图表", timeout=30)
    png, _name = sandbox.state.files[chart["photo"][-1]["file_id"]]
    assert png.startswith(b"\x89PNG")
    await sandbox.tap(WEN, board, "📒 台账（XLSX）")
    message = await sandbox.expect(WEN.id, "五星小区台账", timeout=30)
    data, _name = sandbox.state.files[message["document"]["file_id"]]
    rows = list(load_workbook(BytesIO(data))["五星台账"].iter_rows(values_only=True))
    ours = [r for r in rows if r[2] == "西湖左岸小区"]
    assert len(ours) == 1 and ours[0][0] == MONTH and ours[0][8] == 0, rows
    assert ours[0][12:14] == ("公示中", 1), ours  # one objection, 公示 not over

    assert sandbox.group_leaks() == []
