"""The foundation, as people use it: the real bot process polling the sandbox over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.people import ChatPurpose
from storage.chats import ChatRepo
from storage.db import Database
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url
from tests.harness import ADMIN_ID, BotProcess, Person, Sandbox, group

pytestmark = pytest.mark.e2e

AUNT_LI = Person(2001, "李阿姨", "zh-hans")
TOM = Person(2002, "Tom", "en-GB")
ADMIN = Person(ADMIN_ID, "Office", "en")
SECRETARY = Person(2003, "陈书记", "zh-CN")
STRANGER = Person(2004, "路人", "zh")


@pytest.fixture
async def db(bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    yield database
    await database.close()


async def onboard_by_buttons(sandbox: Sandbox, person: Person) -> None:
    await sandbox.say(person, "/start")
    prompt = await sandbox.expect(person.id, "请选择语言")
    await sandbox.tap(person, prompt, "中文")
    ask = await sandbox.expect(person.id, "您住在哪里")
    await sandbox.tap(person, ask, "北大街道")
    communities = await sandbox.expect(person.id, "请选择您所在的社区")
    await sandbox.tap(person, communities, "西湖社区")
    compounds = await sandbox.expect(person.id, "请选择您所在的小区")
    await sandbox.tap(person, compounds, "西湖左岸小区")
    await sandbox.expect(person.id, "已设置您的小区：西湖左岸小区 · 西湖社区 · 北大街道")


async def test_a_resident_onboards_in_chinese(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await onboard_by_buttons(sandbox, AUNT_LI)
    await sandbox.expect(AUNT_LI.id, "不用打字")  # the menu follows
    await sandbox.say(AUNT_LI, "/whoami")
    whoami = await sandbox.expect(AUNT_LI.id, "所在小区：西湖左岸小区")
    assert "居民" in whoami["text"]
    async with db.session() as s:
        user = await UserRepo(s).get(AUNT_LI.id)
        compound = await UnitRepo(s).by_code("xihu-zuoan")
    assert user is not None and compound is not None
    assert (user.language, user.compound_id) == ("zh", compound.id)


async def test_a_resident_onboards_in_english_by_typing_a_name(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await sandbox.say(TOM, "/start")
    prompt = await sandbox.expect(TOM.id, "Please choose your language")
    await sandbox.tap(TOM, prompt, "English")
    await sandbox.expect(TOM.id, "Switched to English.")
    await sandbox.expect(TOM.id, "Where do you live?")
    await sandbox.say(TOM, "Nowhere-ville")
    await sandbox.expect(TOM.id, "No compound matches “Nowhere-ville”")
    await sandbox.say(TOM, "光明")
    found = await sandbox.expect(TOM.id, "Is it one of these?")
    await sandbox.tap(TOM, found, "Guangming Xincun")
    await sandbox.expect(TOM.id, "Your home compound is now Guangming Xincun · Guangming Community")
    await sandbox.say(TOM, "/profile")
    await sandbox.expect(TOM.id, "Home compound: Guangming Xincun")
    async with db.session() as s:
        user = await UserRepo(s).get(TOM.id)
    assert user is not None and user.language == "en"


async def invite_link(sandbox: Sandbox, unit_path: list[str], role_button: str) -> str:
    await sandbox.say(ADMIN, "/invite")
    menu = await sandbox.expect(ADMIN.id, "Whom do you want to invite?")
    for name in unit_path:
        await sandbox.tap(ADMIN, menu, "› " + name)
        menu = await sandbox.expect(ADMIN.id, "invite staff here")
    await sandbox.tap(ADMIN, menu, role_button)
    made = await sandbox.expect(ADMIN.id, "Invitation for a")
    match = re.search(r"https://t\.me/lastmeter_bot\?start=(inv_[\w-]+)", made["text"])
    assert match, made["text"]
    return match.group(1)


async def community_secretary_joins(sandbox: Sandbox) -> str:
    """The admin invites 陈书记 as secretary of 西湖社区 and she opens the link; returns the link."""
    payload = await invite_link(
        sandbox,
        ["Weidu District", "Beidajie Sub-district", "Xihu Community"],
        "Invite a secretary here",
    )
    await sandbox.say(SECRETARY, f"/start {payload}")
    await sandbox.expect(SECRETARY.id, "欢迎！您现在是西湖社区的书记")
    staff_row = ["📥 待办", "📊 统计", "🏘 住户"]
    assert staff_row in sandbox.state.keyboards[SECRETARY.id]  # her menu's staff row
    return payload


async def test_an_admin_invites_a_secretary_who_joins_by_the_link(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    payload = await community_secretary_joins(sandbox)
    await sandbox.expect(ADMIN.id, "陈书记 accepted your invitation and is now secretary of Xihu")
    async with db.session() as s:
        memberships = await StaffRepo(s).memberships(SECRETARY.id)
        community = await UnitRepo(s).by_code("xihu")
    assert community is not None and [m.unit_id for m in memberships] == [community.id]

    # The same link again, by someone else: refused, nothing changes.
    await sandbox.say(STRANGER, f"/start {payload}")
    await sandbox.expect(STRANGER.id, "这个邀请链接已经被使用过了")
    await sandbox.say(STRANGER, "/start inv_made-up-code")
    await sandbox.expect(STRANGER.id, "邀请链接无效")
    async with db.session() as s:
        assert await StaffRepo(s).memberships(STRANGER.id) == []


async def test_an_expired_invitation_is_refused(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    payload = await invite_link(sandbox, ["Weidu District"], "Invite a officer here")
    (bot.config.parent / "clock").write_text(str(73 * 3600))  # 73 hours later
    await sandbox.say(STRANGER, f"/start {payload}")
    await sandbox.expect(STRANGER.id, "这个邀请链接已过期")
    async with db.session() as s:
        assert await StaffRepo(s).memberships(STRANGER.id) == []


async def test_a_secretary_binds_a_group_which_then_becomes_a_supergroup(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await community_secretary_joins(sandbox)
    chat = group(-4001, "西湖左岸业主群")
    await sandbox.added_to_group(SECRETARY, chat)
    await sandbox.expect(chat["id"], "大家好！我是最后一米")

    # A resident without a role cannot bind it.
    await sandbox.say(STRANGER, "/bind", chat=chat)
    await sandbox.expect(chat["id"], "只有单位工作人员可以绑定本群")

    await sandbox.say(SECRETARY, "/bind@lastmeter_bot", chat=chat)
    options = await sandbox.expect(chat["id"], "这个群用来做什么？")
    labels = [b["text"] for row in options["reply_markup"]["inline_keyboard"] for b in row]
    assert "西湖左岸小区居民群" in labels and "西湖社区的工作提醒群" in labels
    assert "光明新村居民群" not in labels  # another community's compound

    # A stranger pressing the secretary's button changes nothing.
    query = await sandbox.tap(STRANGER, options, "西湖左岸小区居民群")
    assert "只有该单位的工作人员" in (await sandbox.answer(query))["text"]
    async with db.session() as s:
        row = await ChatRepo(s).get(chat["id"])
    assert row is not None and row.purpose is None

    await sandbox.tap(SECRETARY, options, "西湖左岸小区居民群")
    await sandbox.expect(chat["id"], "本群已绑定为西湖左岸小区居民群")
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        row = await ChatRepo(s).get(chat["id"])
    assert compound is not None and row is not None
    assert (row.purpose, row.unit_id) == (ChatPurpose.RESIDENTS, compound.id)

    # The group becomes a supergroup: its id changes, its binding follows.
    await sandbox._post(
        "/test/migrate", {"user": SECRETARY.json, "chat_id": chat["id"], "new_chat_id": -1004001}
    )
    for _ in range(100):
        async with db.session() as s:
            moved = await ChatRepo(s).get(-1004001)
            old = await ChatRepo(s).get(chat["id"])
        if moved is not None:
            break
        await sandbox.quiet(0, 0.1)
    assert moved is not None and old is None
    assert (moved.purpose, moved.unit_id, moved.active) == (
        ChatPurpose.RESIDENTS,
        compound.id,
        True,
    )

    # Removed from the group: marked inactive, binding kept for when it comes back.
    await sandbox.added_to_group(
        SECRETARY,
        {"id": -1004001, "type": "supergroup", "title": "西湖左岸业主群"},
        status="kicked",
    )
    for _ in range(100):
        async with db.session() as s:
            moved = await ChatRepo(s).get(-1004001)
        if moved is not None and not moved.active:
            break
        await sandbox.quiet(0, 0.1)
    assert moved is not None and not moved.active and moved.unit_id == compound.id


async def test_wrong_input_gets_a_clear_answer_and_changes_nothing(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await sandbox.say(AUNT_LI, "/start")
    prompt = await sandbox.expect(AUNT_LI.id, "请选择语言")
    await sandbox.tap(AUNT_LI, prompt, "中文")
    ask = await sandbox.expect(AUNT_LI.id, "您住在哪里")

    # A photo and a sticker where the compound's name is expected.
    await sandbox.send(AUNT_LI, photo=True)
    await sandbox.expect(AUNT_LI.id, "请用文字输入小区名称")
    await sandbox.send(AUNT_LI, sticker=True)
    await sandbox.expect(AUNT_LI.id, "请用文字输入小区名称")

    # Forged and stale callback data.
    for forged in ("pk:999999", "pk:abc", "garbage", "lg:fr", "iv:m:1:secretary", "bd:alerts:1"):
        query = await sandbox.tap_data(AUNT_LI, ask, forged)
        answer = await sandbox.answer(query)
        assert answer["show_alert"] and answer["text"], forged
    # A wing is not a place to live, even with a hand-made button.
    async with db.session() as s:
        wing = await UnitRepo(s).by_code("xihu-zuoan.property_company")
    assert wing is not None
    query = await sandbox.tap_data(AUNT_LI, ask, f"pk:{wing.id}")
    assert "按钮已失效" in (await sandbox.answer(query))["text"]

    # An unknown command, and a command meant for staff.
    await sandbox.say(AUNT_LI, "/frobnicate")
    await sandbox.expect(AUNT_LI.id, "没有这个命令")
    await sandbox.say(AUNT_LI, "/invite")
    await sandbox.expect(AUNT_LI.id, "只有管理员和单位工作人员可以邀请工作人员")

    # Huge text is answered, not crashed on.
    await sandbox.say(AUNT_LI, "西" * 5000)
    await sandbox.expect(AUNT_LI.id, "没有找到")

    async with db.session() as s:
        user = await UserRepo(s).get(AUNT_LI.id)
        assert await StaffRepo(s).memberships(AUNT_LI.id) == []
    assert user is not None and user.compound_id is None and user.language == "zh"


async def test_the_command_menus_are_set_in_both_languages(
    sandbox: Sandbox, bot: BotProcess
) -> None:
    commands = sandbox.state.commands
    private_zh = {c["command"]: c["description"] for c in commands["all_private_chats:"]}
    private_en = {c["command"]: c["description"] for c in commands["all_private_chats:en"]}
    assert private_zh["profile"] == "我的小区和语言"
    assert private_en["profile"] == "Your home compound and language"
    assert {c["command"] for c in commands["all_group_chats:"]} == {"report", "bind", "help"}
    assert private_zh["report"] == "反映问题" and private_en["my"] == "Your reports"


async def test_a_restart_in_the_middle_of_onboarding_resumes_it(
    sandbox: Sandbox, bot: BotProcess, tmp_path: Path
) -> None:
    await sandbox.say(AUNT_LI, "/start")
    prompt = await sandbox.expect(AUNT_LI.id, "请选择语言")
    await sandbox.tap(AUNT_LI, prompt, "中文")
    await sandbox.expect(AUNT_LI.id, "您住在哪里")
    assert await bot.stop() == 0
    await bot.start()
    await sandbox.say(AUNT_LI, "左岸")  # still choosing a compound, by name
    found = await sandbox.expect(AUNT_LI.id, "是下面这些小区吗")
    await sandbox.tap(AUNT_LI, found, "西湖左岸小区")
    await sandbox.expect(AUNT_LI.id, "已设置您的小区")
