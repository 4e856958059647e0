"""Households end to end (issue 21), through the sandbox: the branch appoints the household
contact (党群中心户) of 3号楼2单元 by a link; 王阿姨 claims 3-2-501 by buttons and the contact
confirms it; Tom, in English, claims the same flat and is held for confirmation; the contact sees
exactly the stairwell's 12 households; she files a report by proxy (代办) for 张奶奶, who has no
Telegram: it is routed to the property company, handled, rated by proxy, and /stats counts that
rating apart from 满意率; the branch's 住户台账 comes back as XLSX. No name or flat reaches a group.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.people import ChatPurpose
from storage.chats import ChatRepo
from storage.db import Database
from storage.units import UnitRepo
from tests.dbs import database_url
from tests.harness import BotProcess, Person, Sandbox, buttons, group, running_bot, seed_people

pytestmark = pytest.mark.e2e

LIU = Person(6101, "刘书记", "zh")  # 西湖左岸小区党支部
ZHANG = Person(6102, "张师傅", "zh")  # 西湖左岸物业服务中心
SISTER_ZHOU = Person(6111, "周大姐", "zh")  # becomes the contact of 3号楼2单元
AUNT_WANG = Person(6112, "王阿姨", "zh-hans")
TOM = Person(6113, "Tom", "en-US")
STAFF = {LIU: "xihu-zuoan.party_branch", ZHANG: "xihu-zuoan.property_company"}
RESIDENTS = {SISTER_ZHOU: "xihu-zuoan", AUNT_WANG: "xihu-zuoan", TOM: "xihu-zuoan"}
GRANNY = "张奶奶"
RESIDENTS_GROUP = group(-6001, "西湖左岸居民群")
ALERTS_GROUP = group(-6002, "物业工作群")


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(sandbox, tmp_path, "[complaints]\nsweep_seconds = 1\n") as process:
        yield process


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed_people(database, sandbox, staff=STAFF, residents=RESIDENTS)
    now = datetime.now(UTC)
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        company = await UnitRepo(s).by_code("xihu-zuoan.property_company")
        assert compound is not None and company is not None
        chats = ChatRepo(s)
        for chat, purpose, unit in (
            (RESIDENTS_GROUP, ChatPurpose.RESIDENTS, compound.id),
            (ALERTS_GROUP, ChatPurpose.ALERTS, company.id),
        ):
            await chats.joined(chat["id"], "group", chat["title"], now)
            await chats.bind(chat["id"], purpose, unit, LIU.id, now)
    yield database
    await database.close()


async def appoint_zhou(sandbox: Sandbox) -> None:
    await sandbox.say(LIU, "🏘 住户")
    overview = await sandbox.expect(LIU.id, "在册房屋：98")
    assert "在册房屋：98" in overview["text"], overview["text"]
    await sandbox.tap(LIU, overview, "🏘 任命党群中心户")
    asked = await sandbox.expect(LIU.id, "哪栋楼")
    await sandbox.tap(LIU, asked, "3号楼")
    asked = await sandbox.expect(LIU.id, "单元")
    await sandbox.tap(LIU, asked, "2单元")
    made = await sandbox.expect(LIU.id, "start=hc_")
    code = re.search(r"start=(hc_[\w-]+)", made["text"])
    assert code, made["text"]
    await sandbox.say(SISTER_ZHOU, f"/start {code.group(1)}")
    await sandbox.expect(SISTER_ZHOU.id, "您现在是西湖左岸小区3号楼2单元的党群中心户")


async def test_a_stairwell_its_contact_two_claims_and_a_report_by_proxy(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    sandbox.personal(GRANNY, "3号楼2单元501", "3号楼2单元601", "3-2-501", "3-2-601")
    sandbox.personal(AUNT_WANG.first_name, SISTER_ZHOU.first_name, TOM.first_name)
    await appoint_zhou(sandbox)

    # 王阿姨 claims her flat by buttons; the stairwell's contact confirms it.
    await sandbox.say(AUNT_WANG, "🏠 我家")
    asked = await sandbox.expect(AUNT_WANG.id, "您住哪栋楼")
    await sandbox.tap(AUNT_WANG, asked, "3号楼")
    asked = await sandbox.expect(AUNT_WANG.id, "哪个单元")
    await sandbox.tap(AUNT_WANG, asked, "2单元")
    asked = await sandbox.expect(AUNT_WANG.id, "哪一户")
    await sandbox.tap(AUNT_WANG, asked, "501")
    asked = await sandbox.expect(AUNT_WANG.id, "您是业主、业主家属，还是租户")
    await sandbox.tap(AUNT_WANG, asked, "业主")
    summary = await sandbox.expect(AUNT_WANG.id, "提交吗")
    await sandbox.tap(AUNT_WANG, summary, "✅ 提交确认")
    card = await sandbox.expect(SISTER_ZHOU.id, "王阿姨 申请登记为3号楼2单元501的业主")
    await sandbox.tap(SISTER_ZHOU, card, "✅ 确认")
    await sandbox.expect(AUNT_WANG.id, "您已登记为3号楼2单元501的住户")

    # Tom claims the same flat, typed, in English: held for the contact, not taken.
    await sandbox.say(TOM, "🏠 My home")
    await sandbox.expect(TOM.id, "Which building")
    await sandbox.say(TOM, "3-2-501")
    asked = await sandbox.expect(TOM.id, "owner")
    await sandbox.tap(TOM, asked, "tenant (租户)")
    summary = await sandbox.expect(TOM.id, "Bldg 3, unit 2, flat 501")
    await sandbox.tap(TOM, summary, next(b for b in buttons(summary) if b.startswith("✅")))
    await sandbox.expect(TOM.id, "waits for confirmation by your household contact")
    second = await sandbox.expect(SISTER_ZHOU.id, "Tom 申请登记为3号楼2单元501的租户")
    assert "该户已登记" in second["text"] and "王阿姨" in second["text"]

    # The contact sees exactly her stairwell's twelve households.
    await sandbox.say(SISTER_ZHOU, "🏘 住户")
    screen = await sandbox.expect(SISTER_ZHOU.id, "您联系的住户")
    assert "共 12 户" in screen["text"] and "3号楼1单元" not in screen["text"]
    assert len(re.findall(r"3号楼2单元\d0\d", screen["text"])) == 12

    # 代办: a report for 张奶奶 of 3-2-601, who has no Telegram.
    await sandbox.tap(SISTER_ZHOU, screen, "📝 代办（为不用 Telegram 的居民）")
    asked = await sandbox.expect(SISTER_ZHOU.id, "为哪一户办理")
    await sandbox.tap(SISTER_ZHOU, asked, "3-2-601")
    await sandbox.expect(SISTER_ZHOU.id, "为谁办理")
    await sandbox.say(SISTER_ZHOU, GRANNY)
    asked = await sandbox.expect(SISTER_ZHOU.id, "张奶奶是业主")
    await sandbox.tap(SISTER_ZHOU, asked, "业主")
    asked = await sandbox.expect(SISTER_ZHOU.id, "要为他办什么")
    await sandbox.tap(SISTER_ZHOU, asked, "📝 随手拍 · 报告问题")
    asked = await sandbox.expect(SISTER_ZHOU.id, "请点选最符合的类别")
    await sandbox.tap(SISTER_ZHOU, asked, "物业维修")
    await sandbox.expect(SISTER_ZHOU.id, "请发一条消息描述问题")
    await sandbox.say(SISTER_ZHOU, "卫生间水管漏水，楼下已经渗水")
    draft = await sandbox.expect(SISTER_ZHOU.id, "代办：为张奶奶")
    await sandbox.tap(SISTER_ZHOU, draft, "✅ 提交")
    filed = await sandbox.expect(SISTER_ZHOU.id, "已为张奶奶代办提交")
    number = re.search(r"WD-\d{8}-\d{4}", filed["text"])
    assert number

    card = await sandbox.expect(ZHANG.id, "卫生间水管漏水")
    assert GRANNY in card["text"]  # staff see who it is for, privately
    await sandbox.tap(ZHANG, card, "✅ 签收")
    signed = await sandbox.expect(ZHANG.id, "办理中")
    await sandbox.tap(ZHANG, signed, "✔️ 办结")
    await sandbox.expect(ZHANG.id, "办结答复")
    await sandbox.say(ZHANG, "已更换水管接头")
    asked = await sandbox.expect(SISTER_ZHOU.id, "请转告张奶奶")
    await sandbox.tap(SISTER_ZHOU, asked, "满意")
    await sandbox.expect(ZHANG.id, "评价：满意")

    # /stats keeps the proxy's rating out of 满意率 and says so.
    await sandbox.say(LIU, "/stats")
    stats = await sandbox.expect(LIU.id, "满意率")
    assert "不计 1 条代办评价" in stats["text"], stats["text"]
    assert "住户：98 户中 2 户已登记住户" in stats["text"], stats["text"]

    # The branch's household ledger.
    await sandbox.say(LIU, "🏘 住户")
    overview = await sandbox.expect(LIU.id, "在册房屋：98")
    await sandbox.tap(LIU, overview, "⬇ 住户台账（XLSX）")
    message = await sandbox.expect(LIU.id, "住户台账")
    while "document" not in message:
        message = await sandbox.expect(LIU.id, "住户台账")
    data, name = sandbox.state.files[message["document"]["file_id"]]
    assert name.startswith("住户台账-西湖左岸小区-") and name.endswith(".xlsx")
    book = load_workbook(BytesIO(data))
    rows = list(book["住户台账"].iter_rows(values_only=True))
    assert rows[0][:3] == ("楼栋", "单元", "房号")
    mine = {(r[0], r[1], r[2], r[5], r[7], r[9]) for r in rows[1:] if r[5]}
    assert ("3", "2", "501", "王阿姨", "已确认", "本人") in mine
    assert ("3", "2", "601", GRANNY, "已确认", "代办") in mine
    assert ("3", "2", "501", "Tom", "待确认", "本人") in mine
    assert len(rows) - 1 == 98 + 1  # a row per flat, and 501's second claim
    assert list(book["党群中心户"].iter_rows(values_only=True))[1] == ("周大姐", "3号楼2单元", 12)

    # /export's workbook gains the households' coverage, per compound.
    await sandbox.say(LIU, "/export")
    message = await sandbox.expect(LIU.id, "台账", timeout=30)
    while "document" not in message:
        message = await sandbox.expect(LIU.id, "台账", timeout=30)
    data, _name = sandbox.state.files[message["document"]["file_id"]]
    coverage = list(load_workbook(BytesIO(data))["住户覆盖"].iter_rows(values_only=True))
    assert coverage[1] == ("西湖左岸小区", 98, 2, "2%", 1, 12, 12), coverage

    assert sandbox.group_leaks() == []
