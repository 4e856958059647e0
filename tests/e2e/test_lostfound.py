"""Lost and found end to end (DESIGN.md §4.2): a resident loses a phone, the guard finds it, the
owner is told, claims with a detail, the guard approves, both get pickup details; the group notice
hides the detail; wrong inputs and wrong people; reminders and expiry with time moved forward."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.lostfound import ClaimStatus, Status
from bot.domain.people import ChatPurpose
from bot.i18n import build_i18n
from storage.chats import ChatRepo
from storage.db import Database
from storage.lostfound import LostFoundRepo
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

AUNT_LI = Person(5001, "李阿姨", "zh-hans")
GUARD = Person(5002, "张师傅", "zh-CN")  # the gate guard of 西湖左岸
UNCLE_WANG = Person(5003, "王大爷", "zh")
TOM = Person(5004, "Tom", "en-US")
AMY = Person(5005, "Amy", "en")
PEOPLE = {AUNT_LI: "xihu-zuoan", GUARD: "xihu-zuoan", UNCLE_WANG: "xihu-zuoan"}
PEOPLE |= {TOM: "donglizhuang-xiaoqu", AMY: "donglizhuang-xiaoqu"}
GROUP = -7101
DAY = 86400


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(sandbox, tmp_path, "[lostfound]\nsweep_seconds = 1\n") as process:
        yield process


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed_people(database, sandbox, residents=PEOPLE)
    yield database
    await database.close()


async def residents_group(sandbox: Sandbox, db: Database) -> None:
    chat = group(GROUP, "西湖左岸小区居民群")
    await sandbox.added_to_group(GUARD, chat)
    await sandbox.expect(GROUP, "最后一米")
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        await ChatRepo(s).bind(
            GROUP, ChatPurpose.RESIDENTS, compound.id, GUARD.id, datetime.now(UTC)
        )


async def items(db: Database, user_id: int) -> list[tuple[str, Status]]:
    async with db.session() as s:
        return [(i.kind.value, i.status) for i in await LostFoundRepo(s).of_reporter(user_id)]


async def file_lost(sandbox: Sandbox, person: Person, category: str, text: str, place: str) -> str:
    """A lost report by buttons, in Chinese; returns its reference (L1, …)."""
    await sandbox.say(person, "/lost")
    prompt = await sandbox.expect(person.id, "您丢了什么？")
    await sandbox.tap(person, prompt, category)
    await sandbox.expect(person.id, "请简单描述")
    await sandbox.say(person, text)
    await sandbox.expect(person.id, "在哪里丢的")
    await sandbox.say(person, place)
    when = await sandbox.expect(person.id, "是哪天")
    await sandbox.tap(person, when, "昨天")
    photo = await sandbox.expect(person.id, "有照片吗")
    await sandbox.tap(person, photo, "跳过照片")
    summary = await sandbox.expect(person.id, "以上信息对吗？")
    await sandbox.tap(person, summary, "✅ 提交")
    filed = await sandbox.expect(person.id, "已登记，编号")
    match = re.search(r"L\d+", filed["text"])
    assert match, filed["text"]
    return match.group(0)


async def test_the_guard_finds_a_black_huawei_and_its_owner_gets_it_back(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await residents_group(sandbox, db)
    sandbox.personal(AUNT_LI.first_name, GUARD.first_name)  # who lost and who found: never posted
    # 李阿姨 loses her phone; nothing found yet. A date in the future is refused first.
    await sandbox.say(AUNT_LI, "/lost")
    prompt = await sandbox.expect(AUNT_LI.id, "您丢了什么？")
    await sandbox.tap(AUNT_LI, prompt, "手机/电子")
    await sandbox.expect(AUNT_LI.id, "请简单描述")
    await sandbox.say(AUNT_LI, "丢了一部黑色华为手机，Mate系列，带透明手机壳，壳里夹着一张公交卡")
    await sandbox.expect(AUNT_LI.id, "在哪里丢的")
    await sandbox.say(AUNT_LI, "3号楼附近")
    when = await sandbox.expect(AUNT_LI.id, "是哪天")
    await sandbox.say(AUNT_LI, "2099-01-01")
    await sandbox.expect(AUNT_LI.id, "这个日期还没到")
    await sandbox.say(AUNT_LI, "昨天")
    photo = await sandbox.expect(AUNT_LI.id, "有照片吗")
    await sandbox.tap(AUNT_LI, photo, "跳过照片")
    summary = await sandbox.expect(AUNT_LI.id, "以上信息对吗？")
    assert "地点：3号楼附近" in summary["text"] and "照片：否" in summary["text"]
    await sandbox.tap(AUNT_LI, summary, "✅ 提交")
    filed = await sandbox.expect(AUNT_LI.id, "已登记，编号 L")
    assert "以下招领物品可能是您的" not in filed["text"]
    assert when["message_id"] != summary["message_id"]

    # The guard finds one in the flower bed: a photo with a caption, kept at the gate, announced.
    await sandbox.say(GUARD, "/found")
    prompt = await sandbox.expect(GUARD.id, "您捡到了什么？")
    await sandbox.tap(GUARD, prompt, "手机/电子")
    await sandbox.expect(GUARD.id, "请简单描述")
    await sandbox.say(GUARD, "   ")  # blank: asked again
    await sandbox.expect(GUARD.id, "请用几个字写一下")
    await sandbox.send(
        GUARD, photo=True, caption="在小区花坛边捡到华为手机一部，黑色，透明壳，里面有张公交卡"
    )
    await sandbox.expect(GUARD.id, "已添加照片")
    await sandbox.say(GUARD, "中心花坛")
    when = await sandbox.expect(GUARD.id, "是哪天")
    await sandbox.tap(GUARD, when, "今天")
    held = await sandbox.expect(GUARD.id, "物品现在存放在哪里")
    await sandbox.tap(GUARD, held, "门卫室")
    notice = await sandbox.expect(GUARD.id, "要在本小区居民群发布招领启事吗")
    await sandbox.tap(GUARD, notice, "📢 发布")
    summary = await sandbox.expect(GUARD.id, "以上信息对吗？")
    assert "存放：门卫室" in summary["text"] and "照片：是" in summary["text"]
    await sandbox.tap(GUARD, summary, "✅ 提交")
    thanks = await sandbox.expect(GUARD.id, "谢谢您！已登记，编号")
    assert "已通知 1 位可能的失主" in thanks["text"]
    found_ref = re.search(r"F\d+", thanks["text"])
    assert found_ref
    ref = found_ref.group(0)

    # The owner is told: no finder's words, no pickup place yet.
    told = await sandbox.expect(AUNT_LI.id, "有人捡到了和您丢失的物品")
    assert ref in told["text"] and "中心花坛" in told["text"]
    for secret in ("公交卡", "透明", "门卫室"):
        assert secret not in told["text"]
    # The group notice: kind, place, where it is kept; never the description.
    posted = await sandbox.expect(GROUP, "📢 失物招领")
    assert "手机/电子" in posted["text"] and "中心花坛" in posted["text"]
    assert "门卫室" in posted["text"]
    for secret in ("华为", "公交卡", "透明", "黑"):
        assert secret not in posted["text"]
    link = posted["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link.endswith(f"?start=lf_{ref[1:]}")

    # She claims with a detail (a photo first, which is not a detail).
    await sandbox.tap(AUNT_LI, told, f"🙋 这是我的：{ref}")
    await sandbox.expect(AUNT_LI.id, "请说一个只有失主才知道的细节")
    await sandbox.send(AUNT_LI, photo=True)
    await sandbox.expect(AUNT_LI.id, "请用文字消息发送")
    await sandbox.say(AUNT_LI, "壳里夹着一张公交卡")
    await sandbox.expect(AUNT_LI.id, "已发给拾得人")

    # A second claim while hers is pending, through the group notice's link, is refused.
    await sandbox.say(UNCLE_WANG, f"/start lf_{ref[1:]}")
    await sandbox.expect(UNCLE_WANG.id, "已有人认领这件物品")

    # The guard sees her detail and approves; both get the pickup details; both reports close.
    card = await sandbox.expect(GUARD.id, "有人说您捡到的物品是他的")
    assert "对方说的细节：“壳里夹着一张公交卡”" in card["text"]
    assert set(buttons(card)) == {"✅ 对，同意归还", "✖ 不对，细节不符"}
    await sandbox.tap(GUARD, card, "✅ 对，同意归还")
    guard_news = await sandbox.expect(GUARD.id, "李阿姨会到门卫室领取")
    assert "两条登记都已关闭" in guard_news["text"]
    closed_card = await sandbox.find(GUARD.id, "✅ 已确认", message_id=card["message_id"])
    assert not buttons(closed_card)
    owner_news = await sandbox.expect(AUNT_LI.id, f"拾得人确认 {ref} 是您的")
    assert "取件地点：门卫室" in owner_news["text"] and "拾得人：张师傅" in owner_news["text"]
    assert (await sandbox.expect(AUNT_LI.id, ref)).get("photo")  # the finder's photo
    assert await items(db, AUNT_LI.id) == [("lost", Status.RETURNED)]
    assert await items(db, GUARD.id) == [("found", Status.RETURNED)]
    for text in (owner_news["text"], guard_news["text"], card["text"]):
        assert not re.search(r"1\d{10}", text)  # no phone number anywhere

    # Messages pass through the bot.
    await sandbox.tap(AUNT_LI, owner_news, "💬 留言")
    await sandbox.expect(AUNT_LI.id, "请写下留言")
    await sandbox.say(AUNT_LI, "我下午五点去门卫室拿，谢谢师傅")
    await sandbox.expect(AUNT_LI.id, "已转达")
    await sandbox.expect(GUARD.id, "💬 李阿姨（关于 F")

    # Afterwards: the claim button is stale, /mine shows the outcome.
    query = await sandbox.tap(AUNT_LI, told, f"🙋 这是我的：{ref}")
    assert "已不在招领中" in (await sandbox.answer(query))["text"]
    await sandbox.say(AUNT_LI, "/mine")
    mine = await sandbox.expect(AUNT_LI.id, "您的失物招领登记")
    assert "已物归原主" in mine["text"] and not buttons(mine)


async def test_in_english_a_wrong_claim_is_declined_and_wrong_inputs_answered(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    # Tom finds keys and keeps them himself; photos too large or sent as files are refused.
    await sandbox.say(TOM, "/found")
    prompt = await sandbox.expect(TOM.id, "What did you find?")
    await sandbox.say(TOM, "a bunch of keys with a red 门禁卡 and a small bear pendant")
    again = await sandbox.expect(TOM.id, "What did you find?")  # the text is kept; tap a kind
    await sandbox.tap(TOM, again, "Keys or access card")
    await sandbox.expect(TOM.id, "Where did you find it?")
    await sandbox.say(TOM, "east gate")
    await sandbox.expect(TOM.id, "When?")
    await sandbox.say(TOM, "the other day")
    await sandbox.expect(TOM.id, "I could not read that date")
    await sandbox.say(TOM, "2026-11-20")
    await sandbox.expect(TOM.id, "Do you have a photo?")
    await sandbox.send(TOM, photo=True, photo_size=25 * 1024 * 1024)
    await sandbox.expect(TOM.id, "That photo is too large (over 10 MB)")
    await sandbox.send(
        TOM, document={"file_name": "keys.jpg", "mime_type": "image/jpeg", "file_size": 4000}
    )
    await sandbox.expect(TOM.id, "Please send the picture as a photo, not as a file.")
    await sandbox.send(TOM, sticker=True)
    await sandbox.expect(TOM.id, "Please send a photo, or tap Skip.")
    photo = await sandbox.send(TOM, photo=True)
    assert photo["message"]["photo"]
    held = await sandbox.expect(TOM.id, "Where is it kept now?")
    await sandbox.tap(TOM, held, "with the finder")
    notice = await sandbox.expect(TOM.id, "Shall I post a notice")
    await sandbox.tap(TOM, notice, "No notice")
    summary = await sandbox.expect(TOM.id, "Is this right?")
    assert "Kept at: with the finder" in summary["text"]
    await sandbox.tap(TOM, summary, "✅ Submit")
    thanks = await sandbox.expect(TOM.id, "Thank you! Filed as")
    assert "I told 0 possible owner(s)" in thanks["text"]
    ref = re.search(r"F(\d+)", thanks["text"])
    assert ref and prompt
    found_id = int(ref.group(1))

    # Amy claims through a link with a detail that does not fit; Tom declines.
    await sandbox.say(AMY, f"/start lf_{found_id}")
    await sandbox.expect(AMY.id, "Tell me one detail only the owner would know")
    await sandbox.say(AMY, "it has a blue tag")
    await sandbox.expect(AMY.id, "Sent to the finder")
    card = await sandbox.expect(TOM.id, "Someone says the item you found is theirs")

    # Nobody else can decide: not Amy, not a forged button, not a made-up claim.
    async with db.session() as s:
        claims = await LostFoundRepo(s).claims_on(found_id)
    claim_id = claims[0].id
    any_message = await sandbox.find(AMY.id, "Sent to the finder")
    query = await sandbox.tap_data(AMY, any_message, f"lf:a:{claim_id}:0")
    assert "Only the people concerned" in (await sandbox.answer(query))["text"]
    query = await sandbox.tap_data(TOM, card, "lf:a:99999:0")
    assert "cannot find that item" in (await sandbox.answer(query))["text"]
    query = await sandbox.tap_data(TOM, card, "lf:zz:1")
    assert (await sandbox.answer(query)).get("show_alert")
    async with db.session() as s:
        pending = await LostFoundRepo(s).claim(claim_id)
        assert pending is not None and pending.status is ClaimStatus.PENDING

    await sandbox.tap(TOM, card, "✖ No, it does not fit")
    await sandbox.expect(TOM.id, "Declined")
    await sandbox.expect(AMY.id, "says your detail does not fit")
    # A second try by Amy is refused; Tom's own claim on his item too.
    await sandbox.say(AMY, f"/start lf_{found_id}")
    await sandbox.expect(AMY.id, "already said your earlier claim on this item did not fit")
    await sandbox.say(TOM, f"/start lf_{found_id}")
    await sandbox.expect(TOM.id, "That is your own report.")
    # The decision pressed again (an old copy of the card) changes nothing.
    query = await sandbox.tap_data(TOM, card, f"lf:a:{claim_id}:0")
    assert "no longer open" in (await sandbox.answer(query))["text"]
    assert await items(db, TOM.id) == [("found", Status.OPEN)]

    # In a group, /lost points to the private chat; the report never starts there.
    chat = group(-7102, "East group")
    await sandbox.added_to_group(TOM, chat)
    await sandbox.say(TOM, "/lost", chat=chat)
    answer = await sandbox.find(-7102, "start=lf_lost")
    assert "Please tell me privately" in answer["text"]
    # Tom closes his report from /mine.
    await sandbox.say(TOM, "/mine")
    mine = await sandbox.expect(TOM.id, "Your lost and found reports")
    await sandbox.tap(TOM, mine, f"✔ Close F{found_id}")
    await sandbox.expect(TOM.id, f"F{found_id} is closed.")
    assert await items(db, TOM.id) == [("found", Status.CLOSED)]


async def test_a_report_is_reminded_before_it_expires_and_can_be_kept_open(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    ref = await file_lost(sandbox, UNCLE_WANG, "宠物", "橘色的猫走丢了，脖子上有红色铃铛", "5号楼")
    advance_clock(bot.config, 27.5 * DAY)  # 2.5 days before the end
    reminder = await sandbox.expect(UNCLE_WANG.id, "⏰ 您的登记")
    assert ref in reminder["text"]
    assert await sandbox.quiet(UNCLE_WANG.id, 2.5) == []  # the sweep runs on: one reminder only
    await sandbox.tap(UNCLE_WANG, reminder, "⏳ 再延长 30 天")
    await sandbox.expect(UNCLE_WANG.id, "已延长至")
    assert await items(db, UNCLE_WANG.id) == [("lost", Status.OPEN)]

    advance_clock(bot.config, 27.5 * DAY)  # near the new end: reminded again, left alone
    await sandbox.expect(UNCLE_WANG.id, "⏰ 您的登记")
    advance_clock(bot.config, 3 * DAY)
    gone = await sandbox.expect(UNCLE_WANG.id, "已满 30 天，现已关闭")
    assert "/lost" in gone["text"]
    assert await sandbox.quiet(UNCLE_WANG.id, 2.5) == []
    assert await items(db, UNCLE_WANG.id) == [("lost", Status.EXPIRED)]
    query = await sandbox.tap(UNCLE_WANG, reminder, "⏳ 再延长 30 天")  # too late
    assert "已不在招领中" in (await sandbox.answer(query))["text"]


async def test_a_finder_who_keeps_it_at_home_is_not_given_away_by_the_group_notice(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await residents_group(sandbox, db)
    home = "我家5号楼1单元302"
    sandbox.personal(home, UNCLE_WANG.first_name, AUNT_LI.first_name)
    await sandbox.say(UNCLE_WANG, "/found")
    prompt = await sandbox.expect(UNCLE_WANG.id, "您捡到了什么？")
    await sandbox.tap(UNCLE_WANG, prompt, "钥匙/门禁卡")
    await sandbox.expect(UNCLE_WANG.id, "请简单描述")
    await sandbox.say(UNCLE_WANG, "一串钥匙，挂着蓝色门禁卡和小熊挂件")
    await sandbox.expect(UNCLE_WANG.id, "在哪里捡到的")
    await sandbox.say(UNCLE_WANG, "东门信箱旁")
    when = await sandbox.expect(UNCLE_WANG.id, "是哪天")
    await sandbox.tap(UNCLE_WANG, when, "今天")
    photo = await sandbox.expect(UNCLE_WANG.id, "有照片吗")
    await sandbox.tap(UNCLE_WANG, photo, "跳过照片")
    await sandbox.expect(UNCLE_WANG.id, "物品现在存放在哪里")
    await sandbox.say(UNCLE_WANG, home)  # typed, not a button
    notice = await sandbox.expect(UNCLE_WANG.id, "要在本小区居民群发布招领启事吗")
    await sandbox.tap(UNCLE_WANG, notice, "📢 发布")
    summary = await sandbox.expect(UNCLE_WANG.id, "以上信息对吗？")
    assert f"存放：{home}" in summary["text"], summary["text"]  # his own summary has it
    await sandbox.tap(UNCLE_WANG, summary, "✅ 提交")
    thanks = await sandbox.expect(UNCLE_WANG.id, "谢谢您！已登记，编号")
    ref = re.search(r"F(\d+)", thanks["text"])
    assert ref

    # The group reads where it was found, and that the finder has it; not his flat.
    posted = await sandbox.expect(GROUP, "📢 失物招领")
    assert "东门信箱旁" in posted["text"], posted["text"]
    assert "在拾得人处（确认失主后告知取件地点）" in posted["text"], posted["text"]
    for secret in ("5号楼", "302", "王大爷", "蓝色", "小熊"):
        assert secret not in posted["text"], secret

    # The owner claims through the notice; on approval she, and only she, learns the place.
    await sandbox.say(AUNT_LI, f"/start lf_{ref.group(1)}")
    await sandbox.expect(AUNT_LI.id, "请说一个只有失主才知道的细节")
    await sandbox.say(AUNT_LI, "挂着一个小熊")
    await sandbox.expect(AUNT_LI.id, "已发给拾得人")
    card = await sandbox.expect(UNCLE_WANG.id, "有人说您捡到的物品是他的")
    await sandbox.tap(UNCLE_WANG, card, "✅ 对，同意归还")
    news = await sandbox.expect(AUNT_LI.id, f"拾得人确认 F{ref.group(1)} 是您的")
    assert f"取件地点：{home}" in news["text"], news["text"]


async def test_the_group_notice_is_edited_when_the_find_is_returned(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await residents_group(sandbox, db)
    sandbox.personal(GUARD.first_name, AUNT_LI.first_name, "红色挂绳")
    await sandbox.say(GUARD, "/found")
    prompt = await sandbox.expect(GUARD.id, "您捡到了什么？")
    await sandbox.tap(GUARD, prompt, "钥匙/门禁卡")
    await sandbox.expect(GUARD.id, "请简单描述")
    await sandbox.say(GUARD, "一串钥匙，红色挂绳，三把铜钥匙")
    await sandbox.expect(GUARD.id, "在哪里捡到的")
    await sandbox.say(GUARD, "2号楼电梯口")
    when = await sandbox.expect(GUARD.id, "是哪天")
    await sandbox.tap(GUARD, when, "今天")
    photo = await sandbox.expect(GUARD.id, "有照片吗")
    await sandbox.tap(GUARD, photo, "跳过照片")
    held = await sandbox.expect(GUARD.id, "物品现在存放在哪里")
    await sandbox.tap(GUARD, held, "门卫室")
    notice = await sandbox.expect(GUARD.id, "要在本小区居民群发布招领启事吗")
    await sandbox.tap(GUARD, notice, "📢 发布")
    summary = await sandbox.expect(GUARD.id, "以上信息对吗？")
    await sandbox.tap(GUARD, summary, "✅ 提交")
    thanks = await sandbox.expect(GUARD.id, "谢谢您！已登记，编号")
    ref = re.search(r"F(\d+)", thanks["text"])
    assert ref
    posted = await sandbox.expect(GROUP, "📢 失物招领", kind=("send",))
    assert list(buttons(posted)) == ["🙋 这是我的"]

    # The owner claims through the notice's link; the finder approves.
    await sandbox.say(AUNT_LI, f"/start lf_{ref.group(1)}")
    await sandbox.expect(AUNT_LI.id, "请说一个只有失主才知道的细节")
    await sandbox.say(AUNT_LI, "红色挂绳")
    await sandbox.expect(AUNT_LI.id, "已发给拾得人")
    card = await sandbox.expect(GUARD.id, "有人说您捡到的物品是他的")
    approve = build_i18n("zh").gettext("✅ Yes, give it back", locale="zh")
    await sandbox.tap(GUARD, card, approve)
    await sandbox.expect(AUNT_LI.id, f"拾得人确认 {ref.group(0)} 是您的")

    # The notice in the group now says so, in place, and has no claim button any more.
    returned = build_i18n("zh").gettext("✅ Returned to its owner.", locale="zh")
    edited = await sandbox.expect(GROUP, returned, kind=("edit",))
    assert edited["message_id"] == posted["message_id"]
    assert ref.group(0) in edited["text"] and "2号楼电梯口" in edited["text"]
    assert not buttons(edited)
    assert await sandbox.quiet(GROUP, 1.5) == []  # one edit, nothing new posted
