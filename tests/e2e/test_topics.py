"""The 红色议事厅 end to end (issue 22), through the sandbox: the charging-point topic of 西湖左岸
from proposal to a finished work order, in Chinese and (Tom) in English.

Six households of 西湖左岸 are verified (claiming a flat is tested in test_households); 98 flats
make the threshold 5 households (5 %, rounded up, fewer than 10).

Hand tally of the vote (simple majority, quorum 50 % of the 6 verified households = 3):
    王阿姨 (3-2-501) agree · 李大爷 (3-2-502) agree · 赵阿姨 (3-2-601) disagree ·
    Tom (3-1-101) agree · 陈叔 (5-1-201) disagree, then agree · 孙姐 (5-2-301) does not vote;
    小王 (3-2-501, 王阿姨's household: not its representative) is refused.
    → agree 4, disagree 1, abstain 0; 5 of 6 took part; 4 > 5/2: passed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.domain.households import ResidentStatus, Tenure
from bot.domain.people import ChatPurpose
from storage.chats import ChatRepo
from storage.db import Database
from storage.households import HouseholdRepo
from storage.units import UnitRepo
from tests.dbs import database_url
from tests.harness import (
    BotProcess,
    Person,
    Sandbox,
    advance_clock,
    buttons,
    group,
    running_bot,
    seed_people,
)

pytestmark = pytest.mark.e2e

LIU = Person(6201, "刘书记", "zh")  # 西湖左岸小区党支部
ZHANG = Person(6202, "张师傅", "zh")  # 西湖左岸物业服务中心
WANG = Person(6211, "王阿姨", "zh-hans")
LI = Person(6212, "李大爷", "zh")
ZHAO = Person(6213, "赵阿姨", "zh")
TOM = Person(6214, "Tom", "en-US")
CHEN = Person(6215, "陈叔", "zh")
SUN = Person(6216, "孙姐", "zh")
XIAO_WANG = Person(6217, "小王", "zh")
HOMES = {
    WANG: ("3", "2", "501", Tenure.OWNER),
    LI: ("3", "2", "502", Tenure.OWNER),
    ZHAO: ("3", "2", "601", Tenure.OWNER),
    TOM: ("3", "1", "101", Tenure.TENANT),
    CHEN: ("5", "1", "201", Tenure.OWNER),
    SUN: ("5", "2", "301", Tenure.OWNER),
    XIAO_WANG: ("3", "2", "501", Tenure.FAMILY),
}
STAFF = {LIU: "xihu-zuoan.party_branch", ZHANG: "xihu-zuoan.property_company"}
RESIDENTS_GROUP = group(-6201, "西湖左岸居民群")
TITLE = "在3号楼旁建电动车充电桩"


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(sandbox, tmp_path, "[complaints]\nsweep_seconds = 1\n") as process:
        yield process


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed_people(database, sandbox, staff=STAFF, residents=dict.fromkeys(HOMES, "xihu-zuoan"))
    now = datetime.now(UTC)
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        await ChatRepo(s).joined(RESIDENTS_GROUP["id"], "group", RESIDENTS_GROUP["title"], now)
        await ChatRepo(s).bind(
            RESIDENTS_GROUP["id"], ChatPurpose.RESIDENTS, compound.id, LIU.id, now
        )
        homes = HouseholdRepo(s)
        for person, (building, unit, number, tenure) in HOMES.items():
            flat = next(
                f
                for f in await homes.flats_in(compound.id, building, unit)
                if f.address.number == number
            )
            await homes.add_resident(
                flat.id, tenure, ResidentStatus.CONFIRMED, now, user_id=person.id
            )
    sandbox.state.chat_for(LIU.json, RESIDENTS_GROUP)  # the group exists in the sandbox
    yield database
    await database.close()


async def open_page(sandbox: Sandbox, person: Person, contains: str) -> dict[str, Any]:
    """The topic's page (the group notice's link), which says what it needs to be taken up."""
    await sandbox.say(person, "/start tp_1")
    page = await sandbox.expect(person.id, "立项）" if person is not TOM else "taken up at")
    assert contains in page["text"], page["text"]
    return page


async def test_the_charging_points_from_proposal_to_a_finished_work_order(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    sandbox.personal(*(p.first_name for p in HOMES), "3号楼2单元601", "3-2-601")

    # 王阿姨 proposes, by buttons and two short texts.
    await sandbox.say(WANG, "🏛 议事厅")
    hall = await sandbox.expect(WANG.id, "红色议事厅")
    await sandbox.tap(WANG, hall, "➕ 提议题")
    await sandbox.expect(WANG.id, "简短的标题")
    await sandbox.say(WANG, TITLE)
    await sandbox.expect(WANG.id, "请说明")
    await sandbox.say(WANG, "电动车都在楼道里充电，很危险。建议在3号楼东侧建20个充电桩。")
    asked = await sandbox.expect(WANG.id, "附上照片")
    await sandbox.tap(WANG, asked, "不加照片 / 完成")
    summary = await sandbox.expect(WANG.id, "提交吗")
    await sandbox.tap(WANG, summary, "✅ 提交议题")
    await sandbox.expect(WANG.id, "议题 #1 已提交")
    notice = await sandbox.expect(RESIDENTS_GROUP["id"], TITLE)
    assert "已有 1 户附议，需要 5 户" in notice["text"], notice["text"]
    await sandbox.expect(LIU.id, "王阿姨 提出了新议题")

    # 小王 lives in 王阿姨's flat: the household has supported it already.
    page = await open_page(sandbox, XIAO_WANG, TITLE)
    assert "您家已附议" in page["text"]
    refused = await sandbox.tap_data(XIAO_WANG, page, "tp:u:1:0:0")
    assert "已经附议过" in (await sandbox.answer(refused)).get("text", "")

    for person in (LI, ZHAO, CHEN):
        page = await open_page(sandbox, person, TITLE)
        await sandbox.tap(person, page, "👍 附议")
        await sandbox.expect(person.id, "您家已附议议题 #1")
    page = await open_page(sandbox, TOM, TITLE)
    await sandbox.tap(TOM, page, "👍 Support (附议)")
    await sandbox.expect(TOM.id, "took the topic up")
    card = await sandbox.expect(LIU.id, "已有 5 户附议，议题立项")

    # The property company cannot answer for the branch; the branch accepts with a meeting.
    forged = await sandbox.tap_data(ZHANG, card, buttons(card)["🗓 受理：安排议事会"])
    assert "党支部" in (await sandbox.answer(forged)).get("text", "")
    await sandbox.tap(LIU, card, "🗓 受理：安排议事会")
    await sandbox.expect(LIU.id, "什么时候开始")
    await sandbox.say(LIU, "明天 19:00")
    asked = await sandbox.expect(LIU.id, "持续多久")
    await sandbox.tap(LIU, asked, "2 小时")
    await sandbox.expect(LIU.id, "在哪里集合")
    await sandbox.say(LIU, "居委会二楼会议室")
    summary = await sandbox.expect(LIU.id, "议事会")
    await sandbox.tap(LIU, summary, "✅ 创建")
    await sandbox.expect(LIU.id, "议题 #1 已受理")
    await sandbox.expect(ZHANG.id, "邀请您参加这个议题的议事会")
    await sandbox.expect(TOM.id, "is accepted")

    # The minutes, then the vote.
    page = await open_page(sandbox, LIU, TITLE)
    await sandbox.tap(LIU, page, "📝 记录纪要")
    await sandbox.expect(LIU.id, "议事会纪要")
    await sandbox.say(LIU, "党支部、业委会、物业和12位居民参加；物业负责安装，费用从公共收益列支。")
    asked = await sandbox.expect(LIU.id, "会议照片")
    await sandbox.tap(LIU, asked, "💾 保存纪要")
    page = await sandbox.expect(LIU.id, "纪要已记录")
    await sandbox.tap(LIU, page, "🗳 发起表决")
    asked = await sandbox.expect(LIU.id, "按什么规则表决")
    await sandbox.tap(LIU, asked, "简单多数（须达到法定人数）")
    asked = await sandbox.expect(LIU.id, "由谁负责落实")
    await sandbox.tap(LIU, asked, "西湖左岸物业服务中心")
    asked = await sandbox.expect(LIU.id, "开放几天")
    await sandbox.tap(LIU, asked, "3 天")
    summary = await sandbox.expect(LIU.id, "现在发起表决吗")
    await sandbox.tap(LIU, summary, "🗳 发起表决")
    await sandbox.expect(LIU.id, "表决已发起：6 户可以投票")

    ballots = {p: await sandbox.expect(p.id, "请代表您家投票") for p in (WANG, LI, ZHAO, CHEN, SUN)}
    ballots[TOM] = await sandbox.expect(TOM.id, "Vote for your household")
    for person, label in ((WANG, "👍 同意"), (LI, "👍 同意"), (ZHAO, "👎 反对"), (CHEN, "👎 反对")):
        await sandbox.tap(person, ballots[person], label)
        await sandbox.expect(person.id, "已记录您家的投票")
    await sandbox.tap(TOM, ballots[TOM], "👍 Agree")
    await sandbox.expect(TOM.id, "vote is recorded")
    await sandbox.tap(CHEN, ballots[CHEN], "👍 同意")
    changed = await sandbox.expect(CHEN.id, "已改为：👍 同意")
    assert "同意 4" not in changed["text"]  # no count while it is open
    forged = await sandbox.tap_data(XIAO_WANG, ballots[WANG], buttons(ballots[WANG])["👎 反对"])
    assert "代表" in (await sandbox.answer(forged)).get("text", "")

    # Three days on, the sweep closes it: the tally, to the people and to the group (公示).
    advance_clock(bot.config, 3 * 86400 + 60)
    told = await sandbox.expect(WANG.id, "表决已截止")
    assert "同意 4 户 · 反对 1 户 · 弃权 0 户；6 户中 5 户参与表决（83 %）" in told["text"]
    assert "✅ 通过。" in told["text"]
    publicised = await sandbox.expect(RESIDENTS_GROUP["id"], "决议公示至")
    assert "同意 4 户，反对 1 户，弃权 0 户" in publicised["text"], publicised["text"]
    await sandbox.expect(TOM.id, "Agree 4 · disagree 1 · abstain 0 households")
    late = await sandbox.tap(SUN, ballots[SUN], "👍 同意")
    assert "未开放" in (await sandbox.answer(late)).get("text", "")

    # 赵阿姨 objects; the branch reads it with her name and flat, the group never does.
    page = await open_page(sandbox, ZHAO, "公示至")
    await sandbox.tap(ZHAO, page, "⚠️ 提异议")
    await sandbox.expect(ZHAO.id, "您有什么异议")
    await sandbox.say(ZHAO, "充电桩离我家窗户太近，建议挪到5号楼。")
    await sandbox.expect(ZHAO.id, "已转给党支部")
    objection = await sandbox.expect(LIU.id, "提出异议")
    assert "赵阿姨" in objection["text"] and "3号楼2单元601" in objection["text"]

    # 公示 ends: the work order goes to the property company; supporters and voters follow it.
    advance_clock(bot.config, 7 * 86400 + 60)
    order = await sandbox.expect(ZHANG.id, "议事决定 #1")
    for person in (WANG, LI, ZHAO, CHEN):  # 孙姐 neither supported nor voted
        await sandbox.expect(person.id, "已派单给西湖左岸物业服务中心")
    await sandbox.expect(TOM.id, "is now work order")
    await sandbox.tap(ZHANG, order, "✅ 签收")
    signed = await sandbox.expect(ZHANG.id, "办理中")
    await sandbox.expect(LI.id, "已签收")
    await sandbox.tap(ZHANG, signed, "📝 进展")
    await sandbox.expect(ZHANG.id, "进展")
    await sandbox.say(ZHANG, "充电桩已订货，下周一施工")
    await sandbox.expect(CHEN.id, "充电桩已订货")
    await sandbox.expect(TOM.id, "充电桩已订货")
    signed = await sandbox.find(ZHANG.id, "议事决定 #1", "办理中")
    await sandbox.tap(ZHANG, signed, "✔️ 办结")
    await sandbox.expect(ZHANG.id, "办结答复")
    await sandbox.say(ZHANG, "20个充电桩已安装并通电")
    rating = await sandbox.expect(LI.id, "您对结果满意吗")
    await sandbox.tap(LI, rating, "😊 满意")
    await sandbox.expect(LI.id, "谢谢您的评价")
    asked = await sandbox.expect(WANG.id, "20个充电桩已安装并通电")
    await sandbox.tap(WANG, asked, "满意")
    done = await sandbox.expect(RESIDENTS_GROUP["id"], "实施结果公开")
    assert TITLE in done["text"]

    # Oversight: the branch's /stats and the /export sheet.
    await sandbox.say(LIU, "/stats")
    stats = await sandbox.expect(LIU.id, "红色议事厅")
    assert "提议 1 · 立项 1 · 表决 1 · 办结 1" in stats["text"], stats["text"]
    await sandbox.say(LIU, "/export")
    message = await sandbox.expect(LIU.id, "台账", timeout=30)
    while "document" not in message:
        message = await sandbox.expect(LIU.id, "台账", timeout=30)
    data, _name = sandbox.state.files[message["document"]["file_id"]]
    rows = list(load_workbook(BytesIO(data))["议事厅"].iter_rows(values_only=True))
    assert rows[1][:5] == ("西湖左岸小区", 1, 1, 1, 1), rows
    days = rows[1][5]
    assert isinstance(days, int | float) and days >= 10  # 3 days of voting, 7 of 公示 at least

    assert sandbox.group_leaks() == []
