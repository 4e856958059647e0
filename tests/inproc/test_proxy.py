"""代办 in process (issue 21): a household contact reports a problem, a lost item and takes a place
at an activity for a resident without Telegram, by buttons; the ticket remembers the household
and the person, the staff group's card names neither; a contact cannot act for a household that
is not theirs, a resident cannot act at all; the organiser sees the place and gives it back."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.domain.org import StaffRole
from bot.domain.people import ChatPurpose
from storage import tables
from storage.chats import ChatRepo
from storage.households import HouseholdRepo
from storage.units import UnitRepo
from tests.inproc.harness import Chat, Harness, Person, Replies
from tests.inproc.test_households import LIU, SISTER_ZHOU, ZHANG, contact, flat_id

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
TOM = Person(3003, "Tom", "en-US")
ALERTS = -8101  # the property company's staff group
GRANNY = "张奶奶"  # the resident without Telegram: her name and flat never reach a group


async def alerts_group(h: Harness) -> None:
    now = h.clock.now()
    async with h.db.session() as s:
        company = await UnitRepo(s).by_code("xihu-zuoan.property_company")
        assert company is not None
        await ChatRepo(s).joined(ALERTS, "group", "物业工作群", now)
        await ChatRepo(s).bind(ALERTS, ChatPurpose.ALERTS, company.id, ZHANG.id, now)


async def for_granny(zhou: Chat) -> Replies:
    """🏘 住户 → 📝 代办 → 3-2-501 (a button of her charge) → a new name → 业主: what to do."""
    screen = await zhou.send("🏘 住户")
    asked = await zhou.press("📝 代办（为不用 Telegram 的居民）", on=screen.mine[0])
    assert "为哪一户办理" in asked.text and "3-2-501" in asked.last.labels
    assert "3-1-501" not in asked.last.labels  # another stairwell's: not hers
    who = await zhou.press("3-2-501")
    assert "3号楼2单元501：为谁办理" in who.text
    await zhou.send(GRANNY)
    return await zhou.press("业主")


def no_personal_data(h: Harness) -> None:
    for replies in h.history:
        for sent in replies.sent:
            if sent.chat_id < 0:
                text = "\n".join((sent.text, *sent.labels))
                assert GRANNY not in text and "501" not in text, text
                assert SISTER_ZHOU.first_name not in text, text


async def test_a_contact_reports_for_a_resident_without_telegram(h: Harness) -> None:
    await alerts_group(h)
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    await h.staff(ZHANG, "xihu-zuoan.property_company")

    what = await for_granny(zhou)
    assert "要为他办什么" in what.text
    form = await zhou.press("📝 随手拍 · 报告问题")
    assert "请点选最符合的类别" in form.text
    await zhou.press("物业维修")
    summary = await zhou.send("卫生间水管漏水，楼下已经渗水")
    assert "代办：为张奶奶" in summary.text
    assert "匿名" not in "".join(summary.last.labels)  # a proxy report is never anonymous
    filed = await zhou.press("✅ 提交")

    number = re.search(r"WD-\d{8}-\d{4}", filed.text)
    assert number and "已为张奶奶代办提交" in filed.text, filed.text
    async with h.db.read() as s:
        row = (await s.execute(select(tables.complaints))).one()
    assert row.proxy_for == GRANNY and row.reporter_id == SISTER_ZHOU.id
    assert row.flat_id == await flat_id(h, "3-2-501")
    card = filed.to(ALERTS)
    assert card and "卫生间水管漏水" in card[0].text
    no_personal_data(h)
    async with h.db.read() as s:  # she is on record in the household now, confirmed
        granny = (await s.execute(select(tables.residents))).one()
    assert (granny.name, granny.user_id, granny.status) == (GRANNY, None, "confirmed")

    again = await for_granny_known(zhou)
    assert GRANNY in again.last.labels  # next time she is a button


async def for_granny_known(zhou: Chat) -> Replies:
    screen = await zhou.send("🏘 住户")
    await zhou.press("📝 代办（为不用 Telegram 的居民）", on=screen.mine[0])
    return await zhou.press("3-2-501")


async def test_a_contact_files_a_lost_item_for_her(h: Harness) -> None:
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    await for_granny(zhou)
    form = await zhou.press("😟 他丢了东西")
    assert "代办：为张奶奶" in form.text and "请点选物品类别" in form.text
    await zhou.press("证件")
    await zhou.send("老年卡，红色卡套")
    await zhou.send("菜市场门口")
    await zhou.press("今天")
    summary = await zhou.press("跳过照片")
    assert "代办：为张奶奶" in summary.text
    filed = await zhou.press("✅ 提交")
    assert filed.mine, filed
    async with h.db.read() as s:
        item = (await s.execute(select(tables.lostfound))).one()
    assert (item.reporter_id, item.proxy_for) == (SISTER_ZHOU.id, GRANNY)
    assert item.flat_id == await flat_id(h, "3-2-501")
    no_personal_data(h)


async def test_a_household_that_is_not_hers_is_refused(h: Harness) -> None:
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    screen = await zhou.send("🏘 住户")
    await zhou.press("📝 代办（为不用 Telegram 的居民）", on=screen.mine[0])

    typed = await zhou.send("3-1-501")  # the other stairwell's
    assert "这一户不归您联系" in typed.text
    unknown = await zhou.send("9-9-909")
    assert "没有找到" in unknown.text
    assert await h.count(tables.residents) == 0


async def test_a_resident_and_the_property_company_cannot_act_by_proxy(h: Harness) -> None:
    aunt = await h.resident(AUNT_LI)
    zhang = await h.staff(ZHANG, "xihu-zuoan.property_company")
    tom = await h.resident(TOM)
    for chat, said in (
        (aunt, "供党群中心户和小区党支部使用"),
        (zhang, "供党群中心户和小区党支部使用"),
    ):
        refused = await chat.command("/proxy")
        assert said in refused.text
    english = await tom.command("/proxy")
    assert "household contacts" in english.text
    forged = await aunt.press_data("hh:p:1:0")
    assert forged.answer.alert and forged.answer.text
    assert await h.saved() == {}


async def test_a_place_at_an_activity_by_proxy_and_given_back_by_the_organiser(
    h: Harness,
) -> None:
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    branch = await h.staff(LIU, "xihu-zuoan.party_branch", StaffRole.SECRETARY)
    async with h.db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        starts = h.clock.now() + timedelta(days=2)
        made = await s.execute(
            tables.activities.insert()
            .values(
                compound_id=compound.id,
                title="义诊进小区",
                kind="clinic",
                place="小区广场",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=2,
                signed=0,
                code="123456",
                status="open",
                created_by=LIU.id,
                created_at=h.clock.now(),
            )
            .returning(tables.activities.c.id)
        )
        activity_id = made.scalar_one()
        assert await HouseholdRepo(s).flats(compound.id)

    await for_granny(zhou)
    which = await zhou.press("📅 报名活动")
    assert "报名哪个活动" in which.text
    label = next(label for label in which.last.labels if "义诊进小区" in label)
    taken = await zhou.press(label)
    assert "已为张奶奶报名“义诊进小区”" in taken.text and "小区广场" in taken.text
    again = await for_granny_known(zhou)
    await zhou.press(GRANNY, on=again.last)
    which = await zhou.press("📅 报名活动")
    twice = await zhou.press(next(lb for lb in which.last.labels if "义诊进小区" in lb))
    assert twice.says("这位居民已经报名了这个活动"), twice
    async with h.db.read() as s:
        signed = (
            await s.execute(
                select(tables.activities.c.signed).where(tables.activities.c.id == activity_id)
            )
        ).scalar_one()
    assert signed == 1

    listed = await branch.command("/activities")
    roster = await branch.press(next(lb for lb in listed.last.labels if "义诊进小区" in lb))
    assert "代办报名（1人）" in roster.text and "张奶奶 — 由周大姐代报名" in roster.text
    aunt = await h.resident(AUNT_LI)
    await aunt.command("/help")
    stolen = await aunt.press_data(roster.last.data["✖ 取消张奶奶的名额"])
    assert stolen.answer.alert  # not hers to give back
    given = await branch.press("✖ 取消张奶奶的名额", on=roster.last)
    assert "已取消张奶奶在“义诊进小区”的名额" in given.text
    async with h.db.read() as s:
        signed = (
            await s.execute(
                select(tables.activities.c.signed).where(tables.activities.c.id == activity_id)
            )
        ).scalar_one()
    assert signed == 0
    no_personal_data(h)


async def test_a_contact_whose_charge_ends_mid_form_files_nothing(h: Harness) -> None:
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    await for_granny(zhou)
    await zhou.press("📅 报名活动")  # 张奶奶 is recorded in 3-2-501 now (no activity is coming)
    await zhou.command("/cancel")
    known = await for_granny_known(zhou)
    what = await zhou.press(GRANNY, on=known.last)
    async with h.db.session() as s:
        [charge] = await HouseholdRepo(s).charges_of(SISTER_ZHOU.id)
        assert await HouseholdRepo(s).end_contact(charge.id, h.clock.now())

    refused = await zhou.press("📅 报名活动", on=what.last)

    assert refused.says("供党群中心户和小区党支部使用"), refused
    assert "报名哪个活动" not in refused.text
    assert await h.count(tables.complaints) == 0
