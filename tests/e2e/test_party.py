"""Party members end to end (DESIGN.md §4.3): residents register (报到) with their compound's
branch and the branch approves (or rejects with a reason); the secretary plans an activity;
members sign up (a full one says so), are reminded a day and an hour before, check in on site by
location inside the geofence or by the organiser's code (900 m away is refused with the
distance), check out or are checked out at the end; /myrecord shows the hours; the roster and the
ledger come back as XLSX files with Chinese headers. Wrong people and wrong input change nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from bot.clock import ShiftedClock
from bot.domain.org import StaffRole
from bot.domain.party import Member, MemberType, RegStatus, distance_m
from bot.domain.people import ChatPurpose
from bot.i18n import build_i18n
from storage.chats import ChatRepo
from storage.db import Database
from storage.party import NewMember, PartyRepo
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url
from tests.harness import BotProcess, Person, Sandbox, buttons, group, running_bot, seed_people

pytestmark = pytest.mark.e2e

SECRETARY = Person(5101, "刘书记", "zh")  # 西湖左岸小区党支部
OTHER_SECRETARY = Person(5102, "赵书记", "zh")  # 西湖家园小区党支部
PROPERTY = Person(5103, "张经理", "zh")  # 西湖左岸物业服务中心
AUNT_WANG = Person(5111, "王阿姨", "zh-hans")
MASTER_CHEN = Person(5112, "陈师傅", "zh")
TOM = Person(5113, "Tom", "en-US")
SISTER_ZHOU = Person(5114, "周大姐", "zh")  # approved at setup
UNCLE_LI = Person(5115, "李叔", "zh")  # registers, never approved
MR_SUN = Person(5116, "孙先生", "zh")  # a member at 西湖家园
STAFF = {
    SECRETARY: "xihu-zuoan.party_branch",
    OTHER_SECRETARY: "xihu-jiayuan.party_branch",
    PROPERTY: "xihu-zuoan.property_company",
}
RESIDENTS = {AUNT_WANG: "xihu-zuoan", MASTER_CHEN: "xihu-zuoan", TOM: "xihu-zuoan"}
RESIDENTS |= {SISTER_ZHOU: "xihu-zuoan", UNCLE_LI: "xihu-zuoan", MR_SUN: "xihu-jiayuan"}
CENTRE = (34.0385, 113.8120)  # 西湖左岸 in org.example.toml, radius 300 m
NORTH_DEGREE_M = 111_195.0  # metres per degree of latitude


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(sandbox, tmp_path, "[party]\nsweep_seconds = 1\n") as process:
        yield process


@pytest.fixture
async def db(sandbox: Sandbox, bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    await seed_people(database, sandbox, staff=STAFF, residents=RESIDENTS)
    now = datetime.now(UTC)
    async with database.session() as s:
        units = UnitRepo(s)
        for person in (SISTER_ZHOU, MR_SUN):  # registered and approved before the story
            unit = await units.by_code(RESIDENTS[person])
            assert unit is not None
            member = await PartyRepo(s).register(
                NewMember(person.id, person.first_name, unit.id, "1号楼", "区卫健委党委",
                          MemberType.WORKING, None),
                now,
            )  # fmt: skip
            await PartyRepo(s).decide(member.id, RegStatus.APPROVED, SECRETARY.id, "", now)
    yield database
    await database.close()


def clock_of(bot: BotProcess) -> ShiftedClock:
    return ShiftedClock(bot.config.parent / "clock")


def move_to(bot: BotProcess, at: datetime) -> None:
    """Move the bot's clock to `at` (forward only)."""
    clock = clock_of(bot)
    clock.advance(at - clock.now())


def north_of_centre(metres: float) -> dict[str, float]:
    return {"latitude": CENTRE[0] + metres / NORTH_DEGREE_M, "longitude": CENTRE[1]}


async def register_zh(
    sandbox: Sandbox, person: Person, building: str, workplace: str, kind: str, *, phone: bool
) -> None:
    sandbox.personal(person.first_name, building)  # the full name and the flat: never in a group
    await sandbox.say(person, "/party")
    ask = await sandbox.expect(person.id, "请问您的姓名")
    await sandbox.tap(person, ask, f"使用“{person.first_name}”")
    await sandbox.expect(person.id, "您住在哪栋楼")
    await sandbox.say(person, building)
    await sandbox.expect(person.id, "您的组织关系在哪个党组织")
    await sandbox.say(person, workplace)
    ask = await sandbox.expect(person.id, "您属于哪一类")
    await sandbox.tap(person, ask, kind)
    ask = await sandbox.expect(person.id, "分享手机号")
    keyboard = ask["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    if phone:
        contact = {"phone_number": "+8613800000000", "first_name": person.first_name,
                   "user_id": person.id}  # fmt: skip
        await sandbox.send(person, contact=contact)
        await sandbox.expect(person.id, "谢谢")
    else:
        await sandbox.say(person, "跳过")
        await sandbox.expect(person.id, "不留电话")
    summary = await sandbox.expect(person.id, "提交给小区党支部吗")
    await sandbox.tap(person, summary, "✅ 提交")
    await sandbox.expect(person.id, "已提交给小区党支部")


async def registration_of(db: Database, person: Person) -> Member:
    async with db.read() as s:
        member = await PartyRepo(s).current(person.id)
    assert member is not None, f"{person.first_name} has no registration"
    return member


async def test_register_approve_sign_up_check_in_and_the_ledger(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    # 王阿姨 registers and shares her phone with Telegram's contact button.
    await register_zh(
        sandbox, AUNT_WANG, "3号楼2单元501", "市第一人民医院党委", "离退休", phone=True
    )
    card = await sandbox.expect(SECRETARY.id, "党员报到申请")
    for part in ("王阿姨", "3号楼2单元501", "市第一人民医院党委", "离退休", "+8613800000000"):
        assert part in card["text"], part
    approve = buttons(card)["✅ 通过"]

    # Staff of another branch and the property company cannot decide; nothing changes.
    for outsider in (OTHER_SECRETARY, PROPERTY, MASTER_CHEN):
        answer = await sandbox.answer(await sandbox.tap_data(outsider, card, approve))
        assert "只有本小区党支部" in answer["text"], answer
    assert (await registration_of(db, AUNT_WANG)).status is RegStatus.PENDING

    await sandbox.tap(SECRETARY, card, "✅ 通过")
    await sandbox.expect(SECRETARY.id, "已由刘书记审核通过")
    await sandbox.expect(AUNT_WANG.id, "报到已通过")
    # A second press (a stale card) is refused: the decision stands.
    answer = await sandbox.answer(await sandbox.tap_data(SECRETARY, card, approve))
    assert "已经审核过了" in answer["text"]

    # 陈师傅 is rejected with a reason, corrects his building and is approved.
    await register_zh(sandbox, MASTER_CHEN, "5号楼", "区教育局党委", "在职", phone=False)
    card = await sandbox.expect(SECRETARY.id, "陈师傅")
    await sandbox.tap(SECRETARY, card, "✖ 不通过…")
    await sandbox.expect(SECRETARY.id, "不通过的原因是")
    await sandbox.say(SECRETARY, "请写明单元和门牌号")
    await sandbox.expect(SECRETARY.id, "刘书记审核未通过：请写明单元和门牌号")  # the card
    await sandbox.expect(SECRETARY.id, "已将原因告知对方")
    await sandbox.expect(MASTER_CHEN.id, "原因：请写明单元和门牌号")
    assert (await registration_of(db, MASTER_CHEN)).status is RegStatus.REJECTED
    await register_zh(sandbox, MASTER_CHEN, "5号楼1单元302", "区教育局党委", "在职", phone=False)
    card = await sandbox.expect(SECRETARY.id, "5号楼1单元302")
    await sandbox.tap(SECRETARY, card, "✅ 通过")
    await sandbox.expect(MASTER_CHEN.id, "报到已通过")

    # Tom registers in English.
    sandbox.personal("Tom Baker", "Building 7")
    await sandbox.say(TOM, "/party")
    ask = await sandbox.expect(TOM.id, "What is your full name?")
    await sandbox.say(TOM, "Tom Baker")
    await sandbox.expect(TOM.id, "Which building")
    await sandbox.say(TOM, "Building 7")
    await sandbox.expect(TOM.id, "Which party organisation")
    await sandbox.say(TOM, "University Party Committee")
    ask = await sandbox.expect(TOM.id, "Which describes you?")
    await sandbox.tap(TOM, ask, "mobile (流动)")
    await sandbox.expect(TOM.id, "Share your phone number")
    await sandbox.say(TOM, "Skip")
    summary = await sandbox.expect(TOM.id, "Send it to your compound's party branch?")
    await sandbox.tap(TOM, summary, "✅ Send")
    await sandbox.expect(TOM.id, "Sent to your compound's party branch")
    card = await sandbox.expect(SECRETARY.id, "Tom Baker")
    await sandbox.tap(SECRETARY, card, "✅ 通过")
    await sandbox.expect(TOM.id, "is approved")

    # 李叔 registers but is not approved (yet).
    await register_zh(sandbox, UNCLE_LI, "2号楼", "街道党工委", "在职", phone=False)

    # The secretary plans a clean-up three days ahead with three places.
    start = (
        (clock_of(bot).now() + timedelta(days=3))
        .astimezone(bot_zone())
        .replace(hour=9, minute=0, second=0, microsecond=0)
    )
    await sandbox.say(SECRETARY, "/newactivity")
    ask = await sandbox.expect(SECRETARY.id, "活动类型是")
    await sandbox.tap(SECRETARY, ask, "环境整治")
    await sandbox.expect(SECRETARY.id, "活动名称")
    await sandbox.say(SECRETARY, "周六楼道大扫除")
    await sandbox.expect(SECRETARY.id, "活动什么时候开始")
    await sandbox.say(SECRETARY, "昨天 9:00")
    await sandbox.expect(SECRETARY.id, "没看懂这个时间")
    await sandbox.say(SECRETARY, start.strftime("%Y-%m-%d %H:%M"))
    ask = await sandbox.expect(SECRETARY.id, "活动持续多久")
    await sandbox.tap(SECRETARY, ask, "2 小时")
    await sandbox.expect(SECRETARY.id, "在哪里集合")
    await sandbox.say(SECRETARY, "东门广场")
    await sandbox.expect(SECRETARY.id, "名额多少")
    await sandbox.say(SECRETARY, "0")
    await sandbox.expect(SECRETARY.id, "请输入 1 到 500")
    await sandbox.say(SECRETARY, "3")
    ask = await sandbox.expect(SECRETARY.id, "要在小区居民群发布通知")
    await sandbox.tap(SECRETARY, ask, "不发布")
    summary = await sandbox.expect(SECRETARY.id, "新活动")
    assert "09:00 – 11:00" in summary["text"], summary["text"]
    await sandbox.tap(SECRETARY, summary, "✅ 创建")
    created = await sandbox.expect(SECRETARY.id, "已创建")
    match = re.search(r"签到码：(\d{4})", created["text"])
    assert match, created["text"]
    code = match.group(1)

    # Three members sign up; the fourth finds it full; a pending one and another compound's
    # member are refused; nothing changes for them.
    for person in (AUNT_WANG, MASTER_CHEN, TOM):
        await sandbox.say(person, "/activities")
        listing = await sandbox.expect(person.id, "周六楼道大扫除")
        label = next(b for b in buttons(listing) if "周六楼道大扫除" in b and "🙋" in b)
        await sandbox.tap(person, listing, label)
        await sandbox.expect(person.id, "已报名" if person is not TOM else "Signed up")
    await sandbox.say(SISTER_ZHOU, "/activities")
    listing = await sandbox.expect(SISTER_ZHOU.id, "周六楼道大扫除")
    sign_up = next(d for b, d in buttons(listing).items() if "🙋" in b)
    answer = await sandbox.answer(await sandbox.tap_data(SISTER_ZHOU, listing, sign_up))
    assert "名额已满" in answer["text"], answer
    answer = await sandbox.answer(await sandbox.tap_data(UNCLE_LI, listing, sign_up))
    assert "等待党支部审核" in answer["text"], answer
    answer = await sandbox.answer(await sandbox.tap_data(MR_SUN, listing, sign_up))
    assert "属于其他小区" in answer["text"], answer
    async with db.read() as s:
        activity_id = int(sign_up.split(":")[-1])
        activity = await PartyRepo(s).activity(activity_id)
        assert activity is not None and activity.signed == 3
        assert await PartyRepo(s).attendance(activity_id, SISTER_ZHOU.id) is None

    # Too early to check in.
    await sandbox.say(AUNT_WANG, "/checkin")
    ask = await sandbox.expect(AUNT_WANG.id, "请点下方按钮发送位置")
    assert ask["reply_markup"]["keyboard"][0][0]["request_location"] is True
    await sandbox.send(AUNT_WANG, location=north_of_centre(50))
    await sandbox.expect(AUNT_WANG.id, "签到将于")

    # Reminders: a day before, then an hour before, each once.
    move_to(bot, start - timedelta(hours=23))
    for person in (AUNT_WANG, MASTER_CHEN):
        await sandbox.expect(person.id, "⏰ 明天开始：", timeout=20)
    await sandbox.expect(TOM.id, "⏰ Tomorrow:", timeout=20)
    move_to(bot, start - timedelta(minutes=50))
    for person in (AUNT_WANG, MASTER_CHEN):
        await sandbox.expect(person.id, "⏰ 一小时后开始", timeout=20)
    await sandbox.expect(TOM.id, "⏰ In an hour", timeout=20)

    # On site, ten minutes before the start.
    move_to(bot, start - timedelta(minutes=10))
    await sandbox.say(AUNT_WANG, "/checkin")
    await sandbox.expect(AUNT_WANG.id, "请点下方按钮发送位置")
    await sandbox.send(AUNT_WANG, location=north_of_centre(120))
    done = await sandbox.expect(AUNT_WANG.id, "已在“周六楼道大扫除”签到（距小区中心 120 米）")
    assert done["reply_markup"]["keyboard"][0] == [{"text": "📝 我要反映问题"}]  # the menu is back
    checkout_card = await sandbox.expect(AUNT_WANG.id, "周六楼道大扫除")
    await sandbox.send(AUNT_WANG, location=north_of_centre(80))  # again: harmless
    await sandbox.expect(AUNT_WANG.id, "您已在“周六楼道大扫除”签到")

    await sandbox.say(MASTER_CHEN, "/checkin")
    await sandbox.expect(MASTER_CHEN.id, "请点下方按钮发送位置")
    wrong = "1234" if code != "1234" else "4321"
    await sandbox.say(MASTER_CHEN, wrong)
    await sandbox.expect(MASTER_CHEN.id, "签到码与当前可签到的活动不符")
    await sandbox.say(MASTER_CHEN, code)
    await sandbox.expect(MASTER_CHEN.id, "已用签到码在“周六楼道大扫除”签到")

    away = north_of_centre(900)
    metres = round(distance_m(away["latitude"], away["longitude"], *CENTRE))
    await sandbox.say(TOM, "/checkin")
    await sandbox.expect(TOM.id, "Share your location")
    await sandbox.send(TOM, location=away)
    await sandbox.expect(TOM.id, f"You seem to be {metres} m from the compound")

    await sandbox.say(UNCLE_LI, "/checkin")
    await sandbox.expect(UNCLE_LI.id, "请点下方按钮发送位置")
    await sandbox.send(UNCLE_LI, location=north_of_centre(20))
    await sandbox.expect(UNCLE_LI.id, "还在等待党支部审核")

    # The organiser sees who is here.
    await sandbox.say(SECRETARY, "/activities")
    listing = await sandbox.expect(SECRETARY.id, "您组织的活动")
    await sandbox.tap(SECRETARY, listing, next(b for b in buttons(listing) if "签到码与名单" in b))
    sheet = await sandbox.expect(SECRETARY.id, f"签到码：{code}")
    assert "王阿姨" in sheet["text"] and "未签到" in sheet["text"], sheet["text"]

    # 王阿姨 leaves after an hour of work; 陈师傅 stays and is checked out at the end.
    move_to(bot, start + timedelta(hours=1))
    await sandbox.tap(AUNT_WANG, checkout_card, "👋 签退")
    await sandbox.expect(AUNT_WANG.id, "记录时长：1.0 小时")
    move_to(bot, start + timedelta(hours=2, minutes=1))
    await sandbox.expect(MASTER_CHEN.id, "已为您自动签退。记录时长：2.0 小时", timeout=20)

    await sandbox.say(AUNT_WANG, "/myrecord")
    record = await sandbox.expect(AUNT_WANG.id, "服务记录")
    assert "参加活动：1 次；服务时长：1.0 小时" in record["text"], record["text"]
    await sandbox.say(TOM, "/myrecord")
    record = await sandbox.expect(TOM.id, "service record")
    assert "Activities taken part in: 0; hours: 0.0" in record["text"], record["text"]

    # The roster and the ledger, as XLSX with Chinese headers.
    await sandbox.say(SECRETARY, "/roster")
    roster = await sandbox.expect(SECRETARY.id, "党员名册")
    assert "已报到：4 人；待审核：1 人" in roster["text"], roster["text"]
    await sandbox.tap(SECRETARY, roster, "⬇ 活动台账（XLSX）")
    ledger = await document(sandbox, SECRETARY.id, "活动台账")
    summary_rows = list(ledger["活动台账"].iter_rows(values_only=True))
    assert summary_rows[0][:3] == ("活动编号", "活动名称", "类型")
    assert summary_rows[1][1:3] == ("周六楼道大扫除", "环境整治")
    assert summary_rows[1][8:11] == (3, 2, 3.0)  # signed up, checked in, hours in all
    detail = {row[2]: row for row in ledger["参加明细"].iter_rows(min_row=2, values_only=True)}
    assert detail["王阿姨"][6] == "位置" and detail["王阿姨"][9] == 1.0
    assert detail["陈师傅"][6] == "签到码" and detail["陈师傅"][8] == "活动结束自动签退"
    assert detail["陈师傅"][9] == 2.0
    assert detail["Tom Baker"][5] is None or detail["Tom Baker"][5] == ""
    await sandbox.tap(SECRETARY, roster, "⬇ 党员名册（XLSX）")
    book = await document(sandbox, SECRETARY.id, "党员名册")
    rows = list(book["党员名册"].iter_rows(values_only=True))
    assert rows[0][0] == "姓名" and rows[0][-1] == "本年服务时长（小时）"
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["王阿姨"][4:7] == ("离退休", "+8613800000000", "已通过")
    assert by_name["王阿姨"][-2:] == (1, 1.0)
    assert by_name["李叔"][6] == "等待党支部审核"
    assert "孙先生" not in by_name  # another compound's member


async def document(sandbox: Sandbox, chat_id: int, name_part: str) -> Workbook:
    message = await sandbox.expect(chat_id, kind=("send",), contains=None)
    while "document" not in message or name_part not in message["document"]["file_name"]:
        message = await sandbox.expect(chat_id, kind=("send",))
    data, _name = sandbox.state.files[message["document"]["file_id"]]
    return load_workbook(BytesIO(data))


def bot_zone() -> ZoneInfo:
    return ZoneInfo("Asia/Shanghai")


COMMUNITY = Person(5104, "吴主任", "zh")  # 西湖社区
GROUP = -7201


async def test_wrong_people_wrong_input_a_community_plan_and_a_move(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    now = datetime.now(UTC)
    async with db.session() as s:
        community = await UnitRepo(s).by_code("xihu")
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        other = await UnitRepo(s).by_code("xihu-jiayuan")
        assert community is not None and compound is not None and other is not None
        await UserRepo(s).seen(COMMUNITY.id, COMMUNITY.first_name, None, now, "zh")
        await UserRepo(s).set_language(COMMUNITY.id, "zh")
        await StaffRepo(s).add(COMMUNITY.id, community.id, StaffRole.SECRETARY, None, now)
        await ChatRepo(s).joined(GROUP, "group", "西湖左岸小区居民群", now)
        await ChatRepo(s).bind(GROUP, ChatPurpose.RESIDENTS, compound.id, COMMUNITY.id, now)
    sandbox.state.chat_for(COMMUNITY.json, group(GROUP, "西湖左岸小区居民群"))
    await sandbox.say(COMMUNITY, "/start")
    await sandbox.expect(COMMUNITY.id)

    # Neither a resident, nor the property company, may plan an activity or see the roster.
    await sandbox.say(TOM, "/newactivity")
    await sandbox.expect(TOM.id, "Only the compound's party branch (or the community above it)")
    await sandbox.say(PROPERTY, "/newactivity")
    await sandbox.expect(PROPERTY.id, "只有本小区党支部（或上级社区）可以发布活动")
    await sandbox.say(AUNT_WANG, "/roster")
    await sandbox.expect(AUNT_WANG.id, "党员名册仅供小区党支部及上级单位查看")

    # The community plans a clinic for one of its compounds and announces it in the group.
    start = (
        (clock_of(bot).now() + timedelta(days=2))
        .astimezone(bot_zone())
        .replace(hour=15, minute=0, second=0, microsecond=0)
    )
    await sandbox.say(COMMUNITY, "/newactivity")
    ask = await sandbox.expect(COMMUNITY.id, "活动在哪个小区举办")
    assert set(buttons(ask)) == {"西湖左岸小区", "西湖家园", "✖ 取消"}, buttons(ask)
    await sandbox.tap(COMMUNITY, ask, "西湖左岸小区")
    ask = await sandbox.expect(COMMUNITY.id, "活动类型是")
    await sandbox.tap(COMMUNITY, ask, "义诊")
    await sandbox.expect(COMMUNITY.id, "活动名称")
    await sandbox.say(COMMUNITY, "社区医院上门义诊")
    await sandbox.expect(COMMUNITY.id, "活动什么时候开始")
    await sandbox.say(COMMUNITY, f"{start.month}月{start.day}日 下午3点")
    await sandbox.expect(COMMUNITY.id, "活动持续多久")
    await sandbox.say(COMMUNITY, "14:00")
    await sandbox.expect(COMMUNITY.id, "结束时间必须晚于开始时间")
    await sandbox.say(COMMUNITY, "17:30")
    await sandbox.expect(COMMUNITY.id, "在哪里集合")
    await sandbox.say(COMMUNITY, "社区卫生服务站")
    ask = await sandbox.expect(COMMUNITY.id, "名额多少")
    await sandbox.tap(COMMUNITY, ask, "10")
    ask = await sandbox.expect(COMMUNITY.id, "要在小区居民群发布通知")
    await sandbox.tap(COMMUNITY, ask, "📢 发布")
    summary = await sandbox.expect(COMMUNITY.id, "新活动")
    assert "15:00 – 17:30" in summary["text"], summary["text"]
    await sandbox.tap(COMMUNITY, summary, "✅ 创建")
    await sandbox.expect(COMMUNITY.id, "已创建")
    notice = await sandbox.expect(GROUP, "📣 党员活动")
    link = notice["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert re.search(r"start=pa_\d+$", link), link
    activity_id = int(link.rsplit("_", 1)[1])

    # 周大姐 follows the link and signs up.
    await sandbox.say(SISTER_ZHOU, f"/start pa_{activity_id}")
    card = await sandbox.expect(SISTER_ZHOU.id, "社区医院上门义诊")
    await sandbox.tap(SISTER_ZHOU, card, "🙋 报名")
    await sandbox.expect(SISTER_ZHOU.id, "已报名")
    # The group's notice counts her, in place (issue 20).
    counted = build_i18n("zh").gettext("🙋 Signed up: {signed}/{capacity}", locale="zh")
    assert counted.format(signed=0, capacity=10) in notice["text"], notice["text"]
    edited = await sandbox.expect(GROUP, counted.format(signed=1, capacity=10), kind=("edit",))
    assert edited["message_id"] == notice["message_id"] and buttons(edited)

    # Forged and stale buttons change nothing.
    forged = {
        "pm:s:" + str(activity_id): (AUNT_WANG, "只有已报到的党员才能这样做"),
        "pm:a:9999": (SECRETARY, "找不到该记录了"),
        f"pm:xl:{other.id}": (SECRETARY, "只有本小区党支部"),
        "pm:zz:1": (SECRETARY, "这个按钮已失效"),
        "wz:1:party:confirm:1:p:1": (SECRETARY, "该表单已关闭"),
        "wz:1:activity:confirm:1:p:1": (SECRETARY, "该活动草稿已关闭"),
        "wz:0:activity:confirm:1:p:1": (SECRETARY, "这个按钮已失效"),  # an older build's
        "wz:1:nosuchflow:confirm:1:p:1": (SECRETARY, "这个按钮已失效"),
    }
    for data, (person, said) in forged.items():
        answer = await sandbox.answer(await sandbox.tap_data(person, card, data))
        assert said in answer["text"], (data, answer)
    async with db.read() as s:
        activity = await PartyRepo(s).activity(activity_id)
        assert activity is not None and activity.signed == 1
        assert await PartyRepo(s).current(AUNT_WANG.id) is None
    await sandbox.quiet(SECRETARY.id, 1.0)
    assert not any(
        "document" in e["message"] for e in sandbox.state.events if e["chat_id"] == SECRETARY.id
    )

    # The registration form: a photo, a very long name, somebody else's contact, a cancel.
    sandbox.personal("王" * 40, "3号楼")
    await sandbox.say(AUNT_WANG, "/party")
    await sandbox.expect(AUNT_WANG.id, "请问您的姓名")
    await sandbox.send(AUNT_WANG, photo=True)
    await sandbox.expect(AUNT_WANG.id, "请用文字或按钮回答")
    await sandbox.say(AUNT_WANG, "王" * 300)
    await sandbox.expect(AUNT_WANG.id, "您住在哪栋楼")
    await sandbox.say(AUNT_WANG, "3号楼")
    await sandbox.expect(AUNT_WANG.id, "您的组织关系在哪个党组织")
    await sandbox.say(AUNT_WANG, "区妇联党支部")
    ask = await sandbox.expect(AUNT_WANG.id, "您属于哪一类")
    await sandbox.tap(AUNT_WANG, ask, "在职")
    await sandbox.expect(AUNT_WANG.id, "分享手机号")
    someone = {"phone_number": "+8613911111111", "first_name": "别人", "user_id": 999}
    await sandbox.send(AUNT_WANG, contact=someone)
    await sandbox.expect(AUNT_WANG.id, "请用下方按钮分享您本人的号码")
    await sandbox.say(AUNT_WANG, "随便")
    await sandbox.expect(AUNT_WANG.id, "请用按钮分享您的号码")
    await sandbox.say(AUNT_WANG, "跳过")
    summary = await sandbox.expect(AUNT_WANG.id, "提交给小区党支部吗")
    assert "王" * 40 in summary["text"] and "王" * 41 not in summary["text"]
    await sandbox.tap(AUNT_WANG, summary, "✖ 取消")
    await sandbox.expect(AUNT_WANG.id, "已取消，没有保存任何内容")
    # The summary's buttons go; a phone that had not redrawn it yet presses Submit anyway.
    answer = await sandbox.answer(
        await sandbox.tap_data(AUNT_WANG, summary, buttons(summary)["✅ 提交"])
    )
    assert "该表单已关闭" in answer["text"], answer
    async with db.read() as s:
        assert await PartyRepo(s).current(AUNT_WANG.id) is None

    # At the clinic: guessing the code stops after five tries; nobody is checked in.
    move_to(bot, start - timedelta(minutes=5))
    async with db.read() as s:
        activity = await PartyRepo(s).activity(activity_id)
        assert activity is not None
    wrong = "0000" if activity.code != "0000" else "1111"
    await sandbox.say(SISTER_ZHOU, "/checkin")
    await sandbox.expect(SISTER_ZHOU.id, "请点下方按钮发送位置")
    for _ in range(5):
        await sandbox.say(SISTER_ZHOU, wrong)
        await sandbox.expect(SISTER_ZHOU.id, "签到码与当前可签到的活动不符")
    await sandbox.say(SISTER_ZHOU, activity.code)
    await sandbox.expect(SISTER_ZHOU.id, "签到码错误次数过多")
    await sandbox.say(SISTER_ZHOU, "/cancel")
    await sandbox.expect(SISTER_ZHOU.id, "已取消")
    await sandbox.say(SISTER_ZHOU, "/checkout")
    await sandbox.expect(SISTER_ZHOU.id, "您现在没有在任何活动中签到")
    async with db.read() as s:
        mine = await PartyRepo(s).attendance(activity_id, SISTER_ZHOU.id)
        assert mine is not None and mine.checked_in_at is None

    # 周大姐 moves to 西湖家园: her registration follows her to that branch, whose secretary
    # (not 西湖左岸's) approves it.
    await sandbox.say(SISTER_ZHOU, "/profile")
    profile = await sandbox.expect(SISTER_ZHOU.id, "西湖左岸小区")
    await sandbox.tap(SISTER_ZHOU, profile, "更换小区")
    step = await sandbox.expect(SISTER_ZHOU.id, "您住在哪里")
    await sandbox.tap(SISTER_ZHOU, step, "北大街道")
    step = await sandbox.expect(SISTER_ZHOU.id, "请选择您所在的社区")
    await sandbox.tap(SISTER_ZHOU, step, "西湖社区")
    step = await sandbox.expect(SISTER_ZHOU.id, "请选择您所在的小区")
    await sandbox.tap(SISTER_ZHOU, step, "西湖家园")
    await sandbox.expect(SISTER_ZHOU.id, "您的党员报到随您迁移")
    card = await sandbox.expect(OTHER_SECRETARY.id, "周大姐")
    answer = await sandbox.answer(await sandbox.tap_data(SECRETARY, card, buttons(card)["✅ 通过"]))
    assert "只有本小区党支部" in answer["text"], answer
    await sandbox.tap(OTHER_SECRETARY, card, "✅ 通过")
    await sandbox.expect(SISTER_ZHOU.id, "西湖家园党支部的报到已通过")
    async with db.read() as s:
        current = await PartyRepo(s).current(SISTER_ZHOU.id)
        assert current is not None and current.approved and current.compound_id == other.id
        old = await PartyRepo(s).members_in(compound.path, [RegStatus.MOVED])
        assert [m.user_id for m in old] == [SISTER_ZHOU.id]


BRANCH_GROUP = -7202  # the alert group of 西湖左岸小区党支部
ANN = Person(5105, "Ann", "en")  # a secretary of the same branch who reads English
ZH_SECRETS = ("王阿姨", "3号楼", "2单元", "501", "13800000000", "市第一人民医院")


async def branch_group(sandbox: Sandbox, db: Database, *extra_staff: Person) -> None:
    """西湖左岸's branch binds its alert group (as `/bind` does, tested in test_foundation)."""
    now = datetime.now(UTC)
    async with db.session() as s:
        branch = await UnitRepo(s).by_code(STAFF[SECRETARY])
        assert branch is not None
        for person in extra_staff:
            await UserRepo(s).seen(person.id, person.first_name, None, now, person.language_code)
            await UserRepo(s).set_language(person.id, (person.language_code or "zh")[:2])
            await StaffRepo(s).add(person.id, branch.id, StaffRole.SECRETARY, None, now)
        await ChatRepo(s).joined(BRANCH_GROUP, "group", "西湖左岸党支部工作群", now)
        await ChatRepo(s).bind(BRANCH_GROUP, ChatPurpose.ALERTS, branch.id, SECRETARY.id, now)
    sandbox.state.chat_for(SECRETARY.json, group(BRANCH_GROUP, "西湖左岸党支部工作群"))
    for person in extra_staff:
        await sandbox.say(person, "/start")
        await sandbox.expect(person.id)


def assert_no_details(message: dict[str, Any], secrets: tuple[str, ...]) -> None:
    text = message.get("text") or ""
    for secret in secrets:
        assert secret not in text, (secret, text)
    assert not re.search(r"电话|Phone|\+86|1\d{10}", text), text


async def test_the_branch_group_hears_of_a_registration_without_the_members_details(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await branch_group(sandbox, db)
    await register_zh(
        sandbox, AUNT_WANG, "3号楼2单元501", "市第一人民医院党委", "离退休", phone=True
    )
    member = await registration_of(db, AUNT_WANG)

    # The secretary's private chat has everything, in Chinese.
    card = await sandbox.expect(SECRETARY.id, "党员报到申请")
    for part in ("王阿姨", "3号楼2单元501", "市第一人民医院党委", "离退休", "+8613800000000"):
        assert part in card["text"], part
    # The group: the number, the type and where the details went; no name, flat or phone.
    posted = await sandbox.expect(BRANCH_GROUP, f"党员报到申请 #{member.id}")
    assert "西湖左岸小区" in posted["text"] and "离退休" in posted["text"], posted["text"]
    assert "详细信息已私信发给" in posted["text"], posted["text"]
    assert_no_details(posted, ZH_SECRETS)
    assert set(buttons(posted)) == {"✅ 通过", "✖ 不通过…"}

    # The buttons in the group check who presses them: others are refused, the secretary approves.
    for outsider in (PROPERTY, OTHER_SECRETARY, MASTER_CHEN):
        answer = await sandbox.answer(
            await sandbox.tap_data(outsider, posted, buttons(posted)["✅ 通过"])
        )
        assert "只有本小区党支部" in answer["text"], answer
    assert (await registration_of(db, AUNT_WANG)).status is RegStatus.PENDING
    await sandbox.tap(SECRETARY, posted, "✅ 通过")
    closed = await sandbox.expect(BRANCH_GROUP, "已由刘书记审核通过")
    assert not buttons(closed)
    assert_no_details(closed, ZH_SECRETS)
    await sandbox.expect(AUNT_WANG.id, "报到已通过")
    assert (await registration_of(db, AUNT_WANG)).status is RegStatus.APPROVED

    # 陈师傅 is rejected from the group card: the reason goes to him, not into the group.
    await register_zh(sandbox, MASTER_CHEN, "5号楼1单元302", "区教育局党委", "在职", phone=False)
    private = await sandbox.expect(SECRETARY.id, "5号楼1单元302")
    assert "陈师傅" in private["text"] and "电话：未提供" in private["text"]
    posted = await sandbox.expect(BRANCH_GROUP, "党员报到申请")
    assert_no_details(posted, ("陈师傅", "5号楼", "302", "区教育局"))
    await sandbox.tap(SECRETARY, posted, "✖ 不通过…")
    await sandbox.expect(SECRETARY.id, "（陈师傅）不通过的原因是")  # asked in private
    await sandbox.say(SECRETARY, "请写明5号楼的单元和门牌号")
    edited = await sandbox.expect(BRANCH_GROUP, "刘书记审核未通过")
    assert "已告知申请人" in edited["text"] and not buttons(edited), edited["text"]
    assert_no_details(edited, ("陈师傅", "5号楼", "302", "区教育局", "门牌号"))
    await sandbox.expect(SECRETARY.id, "已将原因告知对方")
    await sandbox.expect(MASTER_CHEN.id, "原因：请写明5号楼的单元和门牌号")
    assert (await registration_of(db, MASTER_CHEN)).status is RegStatus.REJECTED


async def test_in_english_the_details_go_to_the_secretary_privately_not_to_the_group(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await branch_group(sandbox, db, ANN)
    secrets = ("Tom Baker", "Building 7", "Flat 301", "13911112222", "University")
    sandbox.personal("Tom Baker", "Building 7, Unit 2, Flat 301")
    await sandbox.say(TOM, "/party")
    await sandbox.expect(TOM.id, "What is your full name?")
    await sandbox.say(TOM, "Tom Baker")
    await sandbox.expect(TOM.id, "Which building")
    await sandbox.say(TOM, "Building 7, Unit 2, Flat 301")
    await sandbox.expect(TOM.id, "Which party organisation")
    await sandbox.say(TOM, "University Party Committee")
    ask = await sandbox.expect(TOM.id, "Which describes you?")
    await sandbox.tap(TOM, ask, "in work (在职)")
    await sandbox.expect(TOM.id, "only the branch sees it")
    contact = {"phone_number": "8613911112222", "first_name": "Tom", "user_id": TOM.id}
    await sandbox.send(TOM, contact=contact)  # Telegram sends it without the "+"
    await sandbox.expect(TOM.id, "Thank you.")
    summary = await sandbox.expect(TOM.id, "Send it to your compound's party branch?")
    await sandbox.tap(TOM, summary, "✅ Send")
    await sandbox.expect(TOM.id, "Sent to your compound's party branch")
    member = await registration_of(db, TOM)

    # Ann reads the whole card in English, 刘书记 in Chinese; both in private.
    card = await sandbox.expect(ANN.id, f"Party member registration (报到) #{member.id}")
    for part in ("Name: Tom Baker", "Building: Building 7, Unit 2, Flat 301",
                 "Workplace party organisation: University Party Committee",
                 "Type: in work (在职)", "Phone: 8613911112222"):  # fmt: skip
        assert part in card["text"], (part, card["text"])
    zh_card = await sandbox.expect(SECRETARY.id, f"党员报到申请 #{member.id}")
    assert "姓名：Tom Baker" in zh_card["text"] and "8613911112222" in zh_card["text"]
    # The group, in the district's language: nothing of Tom's.
    posted = await sandbox.expect(BRANCH_GROUP, f"党员报到申请 #{member.id}")
    assert "在职" in posted["text"] and "详细信息已私信发给" in posted["text"], posted["text"]
    assert_no_details(posted, secrets)

    # Ann approves from the group card; the card says so and still carries nothing of Tom's.
    await sandbox.tap(ANN, posted, "✅ 通过")
    closed = await sandbox.expect(BRANCH_GROUP, "已由Ann审核通过")
    assert_no_details(closed, secrets)
    await sandbox.expect(TOM.id, "is approved")
    # The private card pressed afterwards: already decided.
    answer = await sandbox.answer(await sandbox.tap_data(ANN, card, buttons(card)["✅ Approve"]))
    assert "already decided" in answer["text"], answer
