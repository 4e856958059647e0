"""/newactivity and /campaign are for the party branch and community staff: anyone else is told so
politely, no form opens, and their buttons — pressed by someone else, or after the role is gone —
save nothing."""

from __future__ import annotations

from sqlalchemy import delete

from storage import tables
from tests.inproc.harness import Chat, Harness, Person, Replies

AUNT_LI = Person(3001, "李阿姨", "zh-hans")  # a resident of 西湖左岸
TOM = Person(3003, "Tom", "en-US")  # a resident of 东李庄小区
ZHANG = Person(3101, "张师傅", "zh-CN")  # property company of 西湖左岸: staff, but not the branch
LIU = Person(3102, "刘书记", "zh-CN")  # party branch of 西湖左岸
CHEN = Person(3104, "陈书记", "zh-CN")  # Xihu community
STALE = "重新开始"


async def plan_an_activity(chat: Chat) -> Replies:
    """The branch secretary's /newactivity up to its summary, with the ✅ Create button."""
    await chat.command("/newactivity")
    await chat.press("环境整治")
    await chat.send("周六楼道大扫除")
    await chat.send("明天 9:00")
    await chat.press("2 小时")
    await chat.send("东门广场")
    await chat.press("10")
    summary = await chat.press("不发布")
    assert "✅ 创建" in summary.last.labels, summary.text
    return summary


async def plan_a_campaign(chat: Chat) -> Replies:
    """The community secretary's /campaign up to its summary, with the ✅ Start button."""
    scopes = await chat.command("/campaign")
    if "整治活动覆盖哪个范围" in scopes.text:
        await chat.press(scopes.last.labels[0])
    await chat.send("清脏治乱 · 春季环境整治")
    await chat.send("请各家清理楼道杂物，周六上午统一清运。")
    await chat.press("跳过照片")
    await chat.press("30 天")
    summary = await chat.send("每周六 09:00")
    assert "✅ 开始整治活动" in summary.last.labels, summary.text
    return summary


# --- refused politely ------------------------------------------------------------------------------


async def test_newactivity_as_a_resident_is_refused_politely(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)

    refused = await chat.command("/newactivity")

    assert "只有本小区党支部" in refused.text
    assert refused.last.buttons == ()
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_newactivity_as_staff_of_another_kind_is_refused(h: Harness) -> None:
    chat = await h.staff(ZHANG, "xihu-zuoan.property_company", home="xihu-zuoan")

    refused = await chat.command("/newactivity")

    assert "只有本小区党支部" in refused.text
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_campaign_as_a_resident_is_refused_politely(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)

    refused = await chat.command("/campaign")

    assert "整治活动由社区及以上工作人员" in refused.text
    assert refused.last.buttons == ()
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_campaign_as_the_compound_branch_is_refused(h: Harness) -> None:
    chat = await h.staff(LIU, "xihu-zuoan.party_branch")

    refused = await chat.command("/campaign")

    assert "整治活动由社区及以上工作人员" in refused.text
    assert await h.saved() == {}


async def test_in_english_both_are_refused(h: Harness) -> None:
    chat = await h.resident(TOM, "donglizhuang-xiaoqu")

    activity = await chat.command("/newactivity")
    campaign = await chat.command("/campaign")

    assert "Only the compound's party branch" in activity.text
    assert "Campaigns are started by community staff" in campaign.text
    assert await h.saved() == {}


# --- forged buttons ---------------------------------------------------------------------------------


async def test_a_residents_forged_create_activity_button_saves_nothing(h: Harness) -> None:
    secretary = await h.staff(LIU, "xihu-zuoan.party_branch")
    summary = await plan_an_activity(secretary)
    resident = await h.resident(AUNT_LI)
    await resident.command("/newactivity")  # refused: the resident has a message, no plan

    forged = [await resident.press_data(data) for data in summary.last.data.values()]

    for reply in forged:
        assert reply.sent == ()
        assert reply.answer.alert and STALE in (reply.answer.text or "")
    assert await h.saved() == {}
    assert await secretary.state() is not None  # the secretary's own plan is untouched


async def test_a_residents_forged_start_campaign_button_saves_nothing(h: Harness) -> None:
    secretary = await h.staff(CHEN, "xihu")
    summary = await plan_a_campaign(secretary)
    resident = await h.resident(AUNT_LI)
    await resident.command("/campaign")

    forged = [await resident.press_data(data) for data in summary.last.data.values()]

    for reply in forged:
        assert reply.sent == ()
        assert reply.answer.alert and STALE in (reply.answer.text or "")
    assert await h.saved() == {}


async def test_in_english_a_forged_create_button(h: Harness) -> None:
    secretary = await h.staff(LIU, "xihu-zuoan.party_branch")
    summary = await plan_an_activity(secretary)
    tom = await h.resident(TOM, "donglizhuang-xiaoqu")
    await tom.command("/help")

    forged = await tom.press_data(summary.last.data["✅ 创建"])

    assert forged.answer.alert and "start again" in (forged.answer.text or "")
    assert await h.saved() == {}


# --- the role taken away mid-form ------------------------------------------------------------------


async def test_an_activity_planned_before_the_role_was_removed_is_not_created(h: Harness) -> None:
    secretary = await h.staff(LIU, "xihu-zuoan.party_branch")
    await plan_an_activity(secretary)
    async with h.db.session() as s:
        await s.execute(delete(tables.staff).where(tables.staff.c.user_id == LIU.id))

    pressed = await secretary.press("✅ 创建")

    assert not pressed.says("已创建")
    assert pressed.says("党支部")  # told who may do it
    assert await h.saved() == {}


async def test_a_campaign_planned_before_the_role_was_removed_is_not_started(h: Harness) -> None:
    secretary = await h.staff(CHEN, "xihu")
    await plan_a_campaign(secretary)
    async with h.db.session() as s:
        await s.execute(delete(tables.staff).where(tables.staff.c.user_id == CHEN.id))

    pressed = await secretary.press("✅ 开始整治活动")

    assert not pressed.says("已开始")
    assert pressed.says("社区及以上")
    assert await h.saved() == {}
