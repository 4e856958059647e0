"""Complaints end to end (DESIGN.md §4.1): a resident reports, the unit signs for it and completes
it, the resident rates it; returns, escalation, reopening, duplicates, anonymity and refusals."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.complaints import Action, Status
from bot.domain.rates import misroutes
from storage.complaints import ComplaintRepo
from storage.db import Database
from storage.units import UnitRepo
from tests.dbs import database_url
from tests.harness import (
    BotProcess,
    Person,
    Sandbox,
    advance_clock,
    buttons,
    running_bot,
    seed_people,
)

pytestmark = pytest.mark.e2e

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
UNCLE_WANG = Person(3002, "王大爷", "zh")
TOM = Person(3003, "Tom", "en-US")
ZHANG = Person(3101, "张师傅", "zh-CN")  # property company of 西湖左岸
LIU = Person(3102, "刘书记", "zh-CN")  # party branch of 西湖左岸
ZHAO = Person(3103, "赵主任", "zh-CN")  # owners' committee of 西湖左岸
CHEN = Person(3104, "陈书记", "zh-CN")  # Xihu community
SUN = Person(3105, "孙经理", "zh-CN")  # property company of another compound (西湖家园)
DONG = Person(3106, "董书记", "en")  # party branch of 东李庄小区, which has no property company

STAFF = {
    ZHANG: "xihu-zuoan.property_company",
    LIU: "xihu-zuoan.party_branch",
    ZHAO: "xihu-zuoan.owners_committee",
    CHEN: "xihu",
    SUN: "xihu-jiayuan.property_company",
    DONG: "donglizhuang-xiaoqu.party_branch",
}
RESIDENTS = {AUNT_LI: "xihu-zuoan", UNCLE_WANG: "xihu-zuoan", TOM: "donglizhuang-xiaoqu"}


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(sandbox, tmp_path, "[complaints]\nsweep_seconds = 1\n") as process:
        yield process


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed_people(database, sandbox, staff=STAFF, residents=RESIDENTS)
    yield database
    await database.close()


async def report(
    sandbox: Sandbox,
    person: Person,
    category: str,
    text: str,
    *,
    photo: bool = False,
    anonymous: bool = False,
) -> str:
    """A resident files a report by buttons, in Chinese; returns the ticket number."""
    sandbox.personal(person.first_name)  # who reported it: staff see it in private chats only
    await sandbox.say(person, "/report")
    draft = await sandbox.expect(person.id, "请点选最符合的类别")
    await sandbox.tap(person, draft, category)
    draft = await sandbox.expect(person.id, "请发一条消息描述问题")
    await sandbox.say(person, text)
    draft = await sandbox.expect(person.id, "信息齐全后请点“提交”")
    if photo:
        await sandbox.send(person, photo=True)
        draft = await sandbox.expect(person.id, "已添加照片 1/3")
    if anonymous:
        await sandbox.tap(person, draft, "🙈 匿名：否")
        draft = await sandbox.expect(person.id, "匿名：是")
    await sandbox.tap(person, draft, "✅ 提交")
    filed = await sandbox.expect(person.id, "您的诉求已登记为")
    match = re.search(r"WD-\d{8}-\d{4}", filed["text"])
    assert match, filed["text"]
    spent = await sandbox.expect(person.id, kind=("edit",))  # the card's buttons go
    assert spent["message_id"] == draft["message_id"] and "reply_markup" not in spent
    return match.group(0)


async def ticket(db: Database, number: str) -> tuple[int, Status, str]:
    async with db.session() as s:
        found = await ComplaintRepo(s).by_number(number)
        assert found is not None
        unit = await UnitRepo(s).get(found.unit_id)
    assert unit is not None
    return found.id, found.status, unit.code


async def actions(db: Database, number: str) -> list[str]:
    async with db.session() as s:
        found = await ComplaintRepo(s).by_number(number)
        assert found is not None
        return [e.action.value for e in await ComplaintRepo(s).events(found.id)]


async def test_a_leak_is_reported_signed_for_completed_and_rated(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    number = await report(sandbox, AUNT_LI, "物业维修", "厨房水管漏水，楼下也在渗水", photo=True)
    assert re.fullmatch(r"WD-\d{8}-0001", number)

    photo = await sandbox.expect(ZHANG.id, number)  # the photo comes first, captioned
    assert photo.get("photo"), photo
    card = await sandbox.expect(ZHANG.id, "🆕 西湖左岸物业服务中心新派工单")
    assert "问题：厨房水管漏水，楼下也在渗水" in card["text"]
    assert "反映人：李阿姨" in card["text"] and "📷 1 张照片" in card["text"]
    assert "签收时限" in card["text"]
    assert set(buttons(card)) == {"✅ 签收", "↩️ 退单"}

    query = await sandbox.tap(ZHANG, card, "✅ 签收")
    assert "已签收" in (await sandbox.answer(query)).get("text", "")
    signed = await sandbox.expect(ZHANG.id, "办理中")
    assert signed["message_id"] == card["message_id"]  # the card is edited in place
    assert set(buttons(signed)) == {"📝 进展", "✔️ 办结", "❓ 询问居民", "↩️ 退单"}
    await sandbox.expect(AUNT_LI.id, "西湖左岸物业服务中心已签收")

    await sandbox.tap(ZHANG, signed, "📝 进展")
    await sandbox.expect(ZHANG.id, "请填写")
    await sandbox.say(ZHANG, "师傅下午两点上门")
    await sandbox.expect(ZHANG.id, "添加进展，并已告知居民")
    await sandbox.expect(AUNT_LI.id, "师傅下午两点上门")

    await sandbox.tap(ZHANG, signed, "✔️ 办结")
    await sandbox.expect(ZHANG.id, "办结答复")
    await sandbox.say(ZHANG, "已更换水管接头，楼下不再渗水")
    await sandbox.expect(ZHANG.id, "已办结，已请居民评价")
    done = await sandbox.expect(ZHANG.id, "答复：已更换水管接头")
    assert done["message_id"] == card["message_id"] and not buttons(done)

    asked = await sandbox.expect(AUNT_LI.id, "您对办理结果满意吗")
    assert "已更换水管接头" in asked["text"]
    await sandbox.tap(AUNT_LI, asked, "满意")
    await sandbox.expect(AUNT_LI.id, "感谢您的评价")
    rated = await sandbox.expect(ZHANG.id, "评价：满意")
    assert rated["message_id"] == card["message_id"]

    _id, status, unit = await ticket(db, number)
    assert (status, unit) == (Status.CLOSED, "xihu-zuoan.property_company")
    assert await actions(db, number) == [
        "created",
        "dispatched",
        "signed",
        "progress",
        "completed",
        "rated",
        "closed",
    ]
    await sandbox.say(AUNT_LI, "/my")
    mine = await sandbox.expect(AUNT_LI.id, "您的诉求（最新在前）")
    await sandbox.tap(AUNT_LI, mine, number)
    history = await sandbox.expect(AUNT_LI.id, "办理记录")
    for step in ("派给西湖左岸物业服务中心", "已签收", "师傅下午两点上门", "评价：满意"):
        assert step in history["text"]
    assert "张师傅" not in history["text"]  # residents see units, not staff


async def test_nobody_signs_so_the_branch_then_the_community_is_chased(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    number = await report(sandbox, AUNT_LI, "物业维修", "单元门禁坏了，打不开")
    await sandbox.expect(ZHANG.id, "新派工单")
    advance_clock(bot.config, 1.6 * 3600)  # 80 % of the 2 h sign-for window
    await sandbox.expect(ZHANG.id, "🔵")
    assert await sandbox.quiet(LIU.id, 1.5) == []
    advance_clock(bot.config, 0.5 * 3600)  # 2.1 h: overdue
    chased = await sandbox.expect(LIU.id, "🔴 超时督办：西湖左岸物业服务中心未在")
    assert "✅ 签收" in buttons(chased)  # the branch may act on it
    await sandbox.expect(ZHANG.id, "已通报西湖左岸小区党支部")
    assert await sandbox.quiet(CHEN.id, 2.5) == []  # the sweep runs every second: never twice
    advance_clock(bot.config, 2 * 3600)  # one window later: the next level up
    await sandbox.expect(CHEN.id, "🔴 超时督办")
    await sandbox.quiet(LIU.id, 2.5)
    steps = await actions(db, number)
    assert steps.count("warned") == 1 and steps.count("chased") == 2


async def test_a_return_is_redispatched_to_the_owners_committee(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    number = await report(sandbox, AUNT_LI, "物业维修", "小区东门地面塌陷")
    card = await sandbox.expect(ZHANG.id, "新派工单")
    stale_sign = buttons(card)["✅ 签收"]
    await sandbox.tap(ZHANG, card, "↩️ 退单")
    reasons = await sandbox.expect(ZHANG.id, "退回")
    await sandbox.tap(ZHANG, reasons, "权属不清")
    returned = await sandbox.expect(LIU.id, "↩️ 西湖左岸物业服务中心退单（权属不清）")
    assert "⤴️ 退回西湖左岸物业服务中心" in buttons(returned)
    moved = await sandbox.expect(ZHANG.id, "已退单，正在改派")
    assert moved["message_id"] == card["message_id"] and not buttons(moved)
    await sandbox.expect(AUNT_LI.id, "正在改派给负责单位")

    # The old card's sign-for button, pressed again (e.g. from a slow phone): refused, no change.
    query = await sandbox.tap_data(ZHANG, card, stale_sign)
    assert "已有变化" in (await sandbox.answer(query))["text"]
    assert (await ticket(db, number))[1] is Status.RETURNED

    await sandbox.tap(LIU, returned, "➡️ 派给西湖左岸小区业委会")
    owners = await sandbox.expect(ZHAO.id, "➡️ 派给西湖左岸小区业委会")
    await sandbox.expect(AUNT_LI.id, "现由西湖左岸小区业委会办理")
    await sandbox.tap(ZHAO, owners, "✅ 签收")
    await sandbox.expect(ZHAO.id, "办理中")
    _id, status, unit = await ticket(db, number)
    assert (status, unit) == (Status.SIGNED, "xihu-zuoan.owners_committee")

    async with db.session() as s:
        property_company = await UnitRepo(s).by_code("xihu-zuoan.property_company")
        complaint = await ComplaintRepo(s).by_number(number)
        assert property_company is not None and complaint is not None
        trail = await ComplaintRepo(s).events(complaint.id)
    start, end = trail[0].at, trail[-1].at.replace(year=trail[-1].at.year + 1)
    assert misroutes(trail, property_company.id, start, end) == 1
    assert [e.action for e in trail][-3:] == [Action.RETURNED, Action.REDISPATCHED, Action.SIGNED]


async def complete_and_reject(sandbox: Sandbox, card: dict[str, Any], reply: str, why: str) -> None:
    """张师傅 completes the ticket from its card; 李阿姨 answers 不满意 with a reason."""
    await sandbox.tap(ZHANG, card, "✔️ 办结")
    await sandbox.expect(ZHANG.id, "办结答复")
    await sandbox.say(ZHANG, reply)
    asked = await sandbox.expect(AUNT_LI.id, "您对办理结果满意吗")
    await sandbox.tap(AUNT_LI, asked, "不满意")
    await sandbox.expect(AUNT_LI.id, "还有哪里不满意")
    await sandbox.say(AUNT_LI, why)
    await sandbox.expect(AUNT_LI.id, "已重新打开")
    rated = await sandbox.expect(AUNT_LI.id, kind=("edit",))  # the rating buttons go
    assert rated["message_id"] == asked["message_id"] and "reply_markup" not in rated


async def test_unsatisfied_reopens_and_a_second_time_goes_to_the_branch(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    number = await report(sandbox, AUNT_LI, "噪音扰民", "楼上每天夜里装修")
    card = await sandbox.expect(ZHANG.id, number)
    await sandbox.tap(ZHANG, card, "✅ 签收")
    signed = await sandbox.expect(ZHANG.id, "办理中")
    await complete_and_reject(sandbox, signed, "已提醒楼上住户", "夜里还是很吵")

    reopened = await sandbox.expect(ZHANG.id, "🔁 重新办理：居民不满意。原因：夜里还是很吵")
    assert "✔️ 办结" in buttons(reopened)  # back to the same unit, still signed for
    await sandbox.expect(LIU.id, "通报")  # the supervisor is told
    assert (await ticket(db, number))[1:] == (Status.SIGNED, "xihu-zuoan.property_company")
    await complete_and_reject(sandbox, reopened, "已协调装修时间", "还是吵")

    branch = await sandbox.expect(LIU.id, "➡️ 派给西湖左岸小区党支部")
    assert "✅ 签收" in buttons(branch)
    await sandbox.expect(AUNT_LI.id, "第二次不满意，现由西湖左岸小区党支部接手办理")
    assert (await ticket(db, number))[1:] == (Status.DISPATCHED, "xihu-zuoan.party_branch")


async def test_a_compound_without_property_company_routes_repairs_to_its_branch_in_english(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await sandbox.say(TOM, "The stairwell light on floor 3 is broken")  # the text comes first
    draft = await sandbox.expect(TOM.id, "Shall I report this as a problem?")
    await sandbox.tap(TOM, draft, "Property repair")
    draft = await sandbox.expect(TOM.id, "tap Submit")
    await sandbox.send(TOM, location={"latitude": 34.03, "longitude": 113.81})
    draft = await sandbox.expect(TOM.id, "Location added.")
    await sandbox.tap(TOM, draft, "✅ Submit")
    filed = await sandbox.expect(TOM.id, "Your report is filed as")
    assert "Donglizhuang Compound" in filed["text"] or "东李庄小区党支部" in filed["text"]
    card = await sandbox.expect(DONG.id, "New complaint for")
    assert "The stairwell light" in card["text"] and "📍 34.03000, 113.81000" in card["text"]
    assert "✅ Sign for" in buttons(card)
    number = re.search(r"WD-\d{8}-\d{4}", card["text"])
    assert number
    assert (await ticket(db, number.group(0)))[2] == "donglizhuang-xiaoqu.party_branch"
    await sandbox.tap(DONG, card, "✅ Sign for")
    await sandbox.expect(TOM.id, "has signed for it")


async def test_a_duplicate_is_followed_and_an_anonymous_reporter_stays_hidden(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    number = await report(sandbox, AUNT_LI, "物业维修", "3号楼电梯停运两天了", anonymous=True)
    card = await sandbox.expect(ZHANG.id, "新派工单")
    assert "反映人：匿名居民" in card["text"]
    assert "李阿姨" not in card["text"] and str(AUNT_LI.id) not in card["text"]

    await sandbox.say(UNCLE_WANG, "/report")
    draft = await sandbox.expect(UNCLE_WANG.id, "请点选最符合的类别")
    await sandbox.tap(UNCLE_WANG, draft, "物业维修")
    await sandbox.expect(UNCLE_WANG.id, "请发一条消息描述问题")
    await sandbox.say(UNCLE_WANG, "3号楼电梯停运了")
    draft = await sandbox.expect(UNCLE_WANG.id, "信息齐全后")
    await sandbox.tap(UNCLE_WANG, draft, "✅ 提交")
    offer = await sandbox.expect(UNCLE_WANG.id, "可能已经有人反映过这个问题")
    assert number in offer["text"]
    await sandbox.tap(UNCLE_WANG, offer, f"同一问题：关注 {number}")
    await sandbox.expect(UNCLE_WANG.id, f"您已关注 {number}")

    await sandbox.tap(ZHANG, card, "✅ 签收")
    signed = await sandbox.expect(ZHANG.id, "办理中")
    await sandbox.expect(AUNT_LI.id, "已签收")
    await sandbox.expect(UNCLE_WANG.id, "已签收")  # the follower hears of every step too

    await sandbox.tap(ZHANG, signed, "❓ 询问居民")
    await sandbox.expect(ZHANG.id, "请写下关于")
    await sandbox.say(ZHANG, "请问是哪个单元的电梯？")
    question = await sandbox.expect(AUNT_LI.id, "询问：请问是哪个单元的电梯？")
    await sandbox.tap(AUNT_LI, question, "💬 回复")
    await sandbox.expect(AUNT_LI.id, "请用一条消息写下您的回答")
    await sandbox.say(AUNT_LI, "2单元")
    await sandbox.expect(AUNT_LI.id, "已转达")
    spent = await sandbox.expect(AUNT_LI.id, kind=("edit",))  # the question's button goes
    assert spent["message_id"] == question["message_id"] and "reply_markup" not in spent
    relayed = await sandbox.expect(ZHANG.id, "居民回答：2单元")
    assert "李阿姨" not in relayed["text"]
    async with db.session() as s:
        complaint = await ComplaintRepo(s).by_number(number)
        assert complaint is not None
        assert await ComplaintRepo(s).followers(complaint.id) == [UNCLE_WANG.id]
        count = len(await ComplaintRepo(s).of_resident(UNCLE_WANG.id))
    assert count == 1  # following filed nothing new
    for event in sandbox.state.events:
        if event["chat_id"] in (ZHANG.id, LIU.id) and "message" in event:
            assert "李阿姨" not in (event["message"].get("text") or "")


async def test_wrong_people_stale_and_forged_buttons_change_nothing(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    number = await report(sandbox, AUNT_LI, "物业维修", "楼道窗户玻璃碎了")
    card = await sandbox.expect(ZHANG.id, "新派工单")
    cid, _status, _unit = await ticket(db, number)

    # Staff of another compound's property company press sign-for on this card.
    query = await sandbox.tap(SUN, card, "✅ 签收")
    assert "只有承办单位" in (await sandbox.answer(query))["text"]
    # Another resident opens her ticket with a forged "view" button.
    query = await sandbox.tap_data(UNCLE_WANG, card, f"tk:v:{cid}:1:0")
    assert "您只能查看自己反映或关注的诉求" in (await sandbox.answer(query))["text"]
    # A resident rating a ticket that is not theirs (and not completed).
    query = await sandbox.tap_data(UNCLE_WANG, card, f"tk:t:{cid}:1:0")
    refused = await sandbox.answer(query)
    assert refused.get("show_alert") and "您只能评价自己反映的诉求" in refused["text"]
    # Forged data: an unknown action, an unknown ticket, garbage.
    for data in ("tk:zz:1:1:0", f"tk:s:{cid + 999}:1:0", "tk:s:abc", "dr:q"):
        query = await sandbox.tap_data(ZHANG, card, data)
        assert (await sandbox.answer(query)).get("show_alert"), data
    assert await sandbox.quiet(AUNT_LI.id, 1.0) == []
    assert (await ticket(db, number))[1] is Status.DISPATCHED
    assert await actions(db, number) == ["created", "dispatched"]


async def test_report_in_a_group_links_to_the_private_chat(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    from bot.domain.people import ChatPurpose
    from storage.chats import ChatRepo
    from tests.harness import group

    chat = group(-7001, "西湖左岸小区居民群")
    await sandbox.added_to_group(LIU, chat)
    await sandbox.expect(-7001, "最后一米")
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        from datetime import UTC, datetime

        await ChatRepo(s).bind(-7001, ChatPurpose.RESIDENTS, compound.id, LIU.id, datetime.now(UTC))
    await sandbox.say(UNCLE_WANG, "/report", chat=chat)
    answer = await sandbox.expect(-7001, "反映问题请私聊我")
    link = re.search(r"start=(rp_\d+)", answer["text"])
    assert link and link.group(1) == f"rp_{compound.id}"
    await sandbox.say(UNCLE_WANG, f"/start {link.group(1)}")
    draft = await sandbox.expect(UNCLE_WANG.id, "请点选最符合的类别")
    assert "西湖左岸小区" in draft["text"]


async def test_a_card_in_the_units_alert_group_does_not_name_the_reporter(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    from datetime import UTC, datetime

    from bot.domain.people import ChatPurpose
    from storage.chats import ChatRepo
    from tests.harness import group

    alerts = -7002  # the property company's work group
    now = datetime.now(UTC)
    async with db.session() as s:
        company = await UnitRepo(s).by_code(STAFF[ZHANG])
        assert company is not None
        await ChatRepo(s).joined(alerts, "group", "西湖左岸物业工作群", now)
        await ChatRepo(s).bind(alerts, ChatPurpose.ALERTS, company.id, ZHANG.id, now)
    sandbox.state.chat_for(ZHANG.json, group(alerts, "西湖左岸物业工作群"))

    number = await report(sandbox, AUNT_LI, "物业维修", "2号楼楼道灯不亮", photo=True)
    private = await sandbox.expect(ZHANG.id, "新派工单")
    assert "反映人：李阿姨" in private["text"], private["text"]
    photo = await sandbox.expect(alerts, number)
    assert photo.get("photo") and photo["caption"] == f"{number} · 1/1", photo
    card = await sandbox.expect(alerts, "新派工单")
    assert "问题：2号楼楼道灯不亮" in card["text"]  # the complaint itself stays
    assert "反映人：居民（姓名仅在私聊中显示）" in card["text"], card["text"]
    assert "李阿姨" not in card["text"] and str(AUNT_LI.id) not in card["text"]

    # The group's buttons check who presses them; 张师傅 signs for it from the group.
    query = await sandbox.tap(SUN, card, "✅ 签收")
    assert "只有承办单位" in (await sandbox.answer(query))["text"]
    await sandbox.tap(ZHANG, card, "✅ 签收")
    signed = await sandbox.expect(alerts, "办理中")
    assert signed["message_id"] == card["message_id"] and "李阿姨" not in signed["text"]
    assert "✔️ 办结" in buttons(signed)
    mine = await sandbox.expect(ZHANG.id, "办理中")  # the private card is kept up to date too
    assert "反映人：李阿姨" in mine["text"]
    await sandbox.expect(AUNT_LI.id, "已签收")
