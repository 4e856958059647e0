"""Group notices stay true (issue 20): a found item's notice in the compound's residents group is
edited when the item is returned, withdrawn or expires, and loses its claim button; an activity's
notice shows the places taken as members sign up and cancel, says when it is full (without the
sign-up button) and when it has ended. A sweep run twice edits once; no edit carries anybody's
name, flat or detail.

The new texts are compared with what the bot's own catalog makes of them, so these tests read
the same before and after the Chinese translations are added."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.party import MemberType, RegStatus
from bot.domain.people import ChatPurpose
from bot.i18n import build_i18n
from bot.services import lostfound, party
from storage import tables
from storage.chats import ChatRepo
from storage.party import NewMember, PartyRepo
from storage.units import UnitRepo
from tests.inproc.harness import ADMIN_ID, Chat, Harness, Person, Replies, Sent, Shown

GROUP = -8101
ZH = build_i18n("zh")
AUNT_LI = Person(3001, "李阿姨", "zh-hans")
GUARD = Person(3201, "门卫老周", "zh-CN")
SECRETARY = Person(3301, "刘书记", "zh")
AUNT_WANG = Person(3311, "王阿姨", "zh-hans")
MASTER_CHEN = Person(3312, "陈师傅", "zh")
BUILDING = "7号楼3单元402"  # the members' flat: never in the group
DETAIL = ("华为", "透明", "公交卡")  # the finder's description and the owner's detail
PEOPLE = (AUNT_LI, GUARD, SECRETARY, AUNT_WANG, MASTER_CHEN)
PERSONAL = (*(p.first_name for p in PEOPLE), BUILDING, *DETAIL)


async def residents_group(h: Harness, compound: str = "xihu-zuoan") -> None:
    """The compound's residents group, with the bot in it and bound to the compound."""
    now = h.clock.now()
    async with h.db.session() as s:
        unit = await UnitRepo(s).by_code(compound)
        assert unit is not None
        await ChatRepo(s).joined(GROUP, "group", "西湖左岸小区居民群", now)
        await ChatRepo(s).bind(GROUP, ChatPurpose.RESIDENTS, unit.id, ADMIN_ID, now)


def zh(msgid: str) -> str:
    """A text as the bot writes it to the group (zh, the default language): the catalog's own
    answer, the msgid itself until it is translated."""
    return ZH.gettext(msgid, locale="zh")


def notice(h: Harness) -> Shown:
    """The group's one notice, as it stands now."""
    shown = list(h.shown.get(GROUP, {}).values())
    assert len(shown) == 1, [m.text for m in shown]
    return shown[0]


def group_edits(replies: Replies) -> list[Sent]:
    to_group = replies.to(GROUP)
    assert all(s.is_edit for s in to_group), [s.text for s in to_group]
    return list(to_group)


def no_personal_data(h: Harness) -> None:
    """Nothing the bot ever wrote to (or edited in) the group names a person or their flat, nor
    gives the finder's description away."""
    for replies in h.history:
        for sent in replies.to(GROUP):
            text = "\n".join((sent.text, *sent.labels))
            assert not [p for p in PERSONAL if p in text], text
            assert not re.search(r"1\d{10}", text), text


# --- lost and found --------------------------------------------------------------------------


async def found_with_notice(h: Harness) -> tuple[Chat, int, Shown]:
    """The guard files a find kept at the gate house and posts a notice; returns his chat, the
    find's id and the notice."""
    guard = await h.resident(GUARD)
    await guard.command("/found")
    await guard.press("手机/电子")
    await guard.send("黑色华为手机，透明壳，里面有张公交卡")
    await guard.send("中心花坛")
    await guard.press("今天")
    await guard.press("跳过照片")
    await guard.press("门卫室")
    await guard.press("📢 发布")
    filed = await guard.press("✅ 提交")
    ref = re.search(r"F(\d+)", filed.text)
    assert ref, filed.text
    posted = filed.to(GROUP)
    assert len(posted) == 1 and "失物招领" in posted[0].text
    assert posted[0].labels == ["🙋 这是我的"]
    return guard, int(ref.group(1)), notice(h)


async def test_the_found_notice_says_returned_and_loses_its_button(h: Harness) -> None:
    await residents_group(h)
    guard, found_id, posted = await found_with_notice(h)
    li = await h.resident(AUNT_LI)
    await li.command("/start", f"lf_{found_id}")
    asked = await li.send("壳里夹着一张公交卡")
    assert "已发给拾得人" in asked.text
    assert asked.to(GROUP) == ()  # a claim waiting for the finder does not change the notice

    approved = await guard.press(zh("✅ Yes, give it back"))

    [edit] = group_edits(approved)
    assert edit.message_id == posted.message_id
    now = notice(h)
    assert zh("✅ Returned to its owner.") in now.text
    assert f"F{found_id}" in now.text and "手机/电子" in now.text and "中心花坛" in now.text
    assert now.buttons == ()  # nothing to claim any more
    no_personal_data(h)


async def test_the_found_notice_says_expired_once_however_often_the_sweep_runs(
    h: Harness,
) -> None:
    await residents_group(h)
    _guard, found_id, posted = await found_with_notice(h)

    h.clock.advance(timedelta(days=31))
    first = await h.sweep(lostfound.sweep)
    second = await h.sweep(lostfound.sweep)

    [edit] = group_edits(first)
    assert edit.message_id == posted.message_id
    assert second.to(GROUP) == ()
    now = notice(h)
    assert zh("⌛ Expired: nobody claimed it.") in now.text and f"F{found_id}" in now.text
    assert now.buttons == ()
    no_personal_data(h)


async def test_the_found_notice_says_withdrawn_when_the_finder_closes_it(h: Harness) -> None:
    await residents_group(h)
    guard, found_id, _posted = await found_with_notice(h)
    await guard.command("/mine")

    closed = await guard.press(f"✔ 关闭 F{found_id}")

    [_edit] = group_edits(closed)
    assert zh("✔ Withdrawn by the finder.") in notice(h).text
    assert notice(h).buttons == ()
    # Expiry later finds it closed already: the notice is not edited again.
    h.clock.advance(timedelta(days=31))
    assert (await h.sweep(lostfound.sweep)).to(GROUP) == ()
    no_personal_data(h)


async def test_a_find_without_a_notice_edits_nothing_in_the_group(h: Harness) -> None:
    await residents_group(h)
    guard = await h.resident(GUARD)
    await guard.command("/found")
    await guard.press("钥匙/门禁卡")
    await guard.send("一串钥匙，蓝色门禁卡")
    await guard.send("东门")
    await guard.press("今天")
    await guard.press("跳过照片")
    await guard.press("门卫室")
    await guard.press("不发布")
    filed = await guard.press("✅ 提交")
    assert filed.to(GROUP) == ()

    h.clock.advance(timedelta(days=31))
    assert (await h.sweep(lostfound.sweep)).to(GROUP) == ()
    assert await h.count(tables.group_notices) == 0


# --- activities ------------------------------------------------------------------------------


async def member(h: Harness, person: Person) -> Chat:
    """An approved party member of 西湖左岸小区."""
    chat = await h.resident(person)
    now = h.clock.now()
    async with h.db.session() as s:
        unit = await UnitRepo(s).by_code("xihu-zuoan")
        assert unit is not None
        new = NewMember(
            person.id,
            person.first_name,
            unit.id,
            BUILDING,
            "区卫健委党委",
            MemberType.WORKING,
            None,
        )
        registered = await PartyRepo(s).register(new, now)
        await PartyRepo(s).decide(registered.id, RegStatus.APPROVED, SECRETARY.id, "", now)
    return chat


async def activity_with_notice(h: Harness, places: int) -> tuple[int, Shown]:
    """The branch secretary plans a clean-up tomorrow 09:00–11:00 with `places` and posts it;
    returns its id and the notice."""
    secretary = await h.staff(SECRETARY, "xihu-zuoan.party_branch")
    await secretary.command("/newactivity")
    await secretary.press("环境整治")
    await secretary.send("周六楼道大扫除")
    start = (h.clock.now() + timedelta(days=1)).astimezone(h.config.bot.zone)
    await secretary.send(start.strftime("%Y-%m-%d 09:00"))
    await secretary.press("2 小时")
    await secretary.send("东门广场")
    await secretary.send(str(places))
    await secretary.press("📢 发布")
    created = await secretary.press("✅ 创建")
    assert "已创建" in created.text, created.text
    [posted] = created.to(GROUP)
    link = posted.buttons[0][0].url or ""
    found = re.search(r"start=pa_(\d+)$", link)
    assert found, link
    assert "📣 党员活动" in posted.text
    assert zh("🙋 Signed up: {signed}/{capacity}").format(signed=0, capacity=places) in posted.text
    return int(found.group(1)), notice(h)


async def test_the_activity_notice_counts_sign_ups_says_full_and_takes_cancellations(
    h: Harness,
) -> None:
    await residents_group(h)
    activity_id, posted = await activity_with_notice(h, places=2)
    wang = await member(h, AUNT_WANG)
    chen = await member(h, MASTER_CHEN)
    counted = zh("🙋 Signed up: {signed}/{capacity}")

    await wang.command("/start", f"pa_{activity_id}")
    one = await wang.press("🙋 报名")
    [edit] = group_edits(one)
    assert edit.message_id == posted.message_id
    assert counted.format(signed=1, capacity=2) in notice(h).text
    assert notice(h).labels == ["🙋 报名"]  # still places left

    again = await wang.press_data(f"pm:s:{activity_id}")  # already signed up: nothing changes
    assert again.to(GROUP) == ()

    await chen.command("/start", f"pa_{activity_id}")
    full = await chen.press("🙋 报名")
    [_edit] = group_edits(full)
    assert zh("🈵 Full: {signed}/{capacity} signed up.").format(signed=2, capacity=2) in (
        notice(h).text
    )
    assert notice(h).buttons == ()  # no sign-up button on a full activity

    cancelled = await chen.press_data(f"pm:c:{activity_id}")
    [_edit] = group_edits(cancelled)
    assert counted.format(signed=1, capacity=2) in notice(h).text
    assert notice(h).labels == ["🙋 报名"]  # a place again
    no_personal_data(h)


async def test_the_activity_notice_says_ended_once_after_the_end(h: Harness) -> None:
    await residents_group(h)
    activity_id, posted = await activity_with_notice(h, places=5)
    wang = await member(h, AUNT_WANG)
    await wang.command("/start", f"pa_{activity_id}")
    await wang.press("🙋 报名")

    h.clock.advance(timedelta(hours=12))  # the day before: the reminder, the notice unchanged
    reminded = await h.sweep(party.sweep)
    assert reminded.to(GROUP) == () and reminded.to(AUNT_WANG.id)
    h.clock.advance(timedelta(days=2))  # long after the end
    first = await h.sweep(party.sweep)
    second = await h.sweep(party.sweep)

    [edit] = group_edits(first)
    assert edit.message_id == posted.message_id
    assert second.sent == ()
    ended = zh("🏁 Ended ({signed}/{capacity} signed up).").format(signed=1, capacity=5)
    assert ended in notice(h).text and "周六楼道大扫除" in notice(h).text
    assert notice(h).buttons == ()
    no_personal_data(h)


async def test_an_activity_without_a_notice_edits_nothing_in_the_group(h: Harness) -> None:
    await residents_group(h)
    secretary = await h.staff(SECRETARY, "xihu-zuoan.party_branch")
    await secretary.command("/newactivity")
    await secretary.press("环境整治")
    await secretary.send("周日义务巡逻")
    start = (h.clock.now() + timedelta(days=1)).astimezone(h.config.bot.zone)
    await secretary.send(start.strftime("%Y-%m-%d 09:00"))
    await secretary.press("2 小时")
    await secretary.send("东门广场")
    await secretary.send("3")
    await secretary.press("不发布")
    created = await secretary.press("✅ 创建")
    assert created.to(GROUP) == ()
    wang = await member(h, AUNT_WANG)
    listing = await wang.command("/activities")
    signed = await wang.press(
        next(label for label in listing.last.labels if "🙋" in label), on=listing.last
    )
    assert signed.to(GROUP) == ()
    assert await h.count(tables.group_notices) == 0
