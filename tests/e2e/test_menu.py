"""Stories of issue 20, the real bot process through the sandbox: a resident who only taps buttons
files a complaint and finds the menu after a restart; a problem written before onboarding is kept;
greetings get a kind word; stale buttons go; the same in English. Nothing personal reaches a group
(the sandbox fixture checks every group message after each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from storage import tables
from storage.db import Database
from tests.dbs import database_url
from tests.harness import BotProcess, Person, Sandbox

pytestmark = pytest.mark.e2e

GRANDMA_ZHAO = Person(2601, "赵奶奶", "zh-CN")  # 70, a slow phone, taps buttons only
TOM = Person(2602, "Tom", "en-GB")
MENU = [
    ["📝 我要反映问题"],
    ["📋 我的诉求", "🔍 失物招领"],
    ["🚩 党员报到/活动", "🏠 我家"],
    ["🏛 议事厅", "❓ 帮助"],
]


@pytest.fixture
async def db(bot: BotProcess) -> AsyncIterator[Database]:
    database = Database(database_url(bot.config.parent))
    yield database
    await database.close()


async def tickets(db: Database) -> int:
    async with db.session() as s:
        return (await s.execute(select(func.count()).select_from(tables.complaints))).scalar_one()


async def choose_xihu_zuoan(sandbox: Sandbox, person: Person, zh: bool = True) -> None:
    ask = await sandbox.expect(
        person.id, "请点击下方您所在的街道" if zh else "Tap your sub-district"
    )
    await sandbox.tap(person, ask, "北大街道" if zh else "Beidajie Sub-district")
    communities = await sandbox.expect(person.id)
    await sandbox.tap(person, communities, "西湖社区" if zh else "Xihu Community")
    compounds = await sandbox.expect(person.id)
    await sandbox.tap(person, compounds, "西湖左岸小区" if zh else "Xihu Zuo'an")


async def test_a_resident_who_only_taps_buttons_files_a_complaint_and_finds_the_menu_after_a_restart(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await sandbox.say(GRANDMA_ZHAO, "/start")  # Telegram's START button
    language = await sandbox.expect(GRANDMA_ZHAO.id, "请选择语言")
    await sandbox.tap(GRANDMA_ZHAO, language, "中文")
    await choose_xihu_zuoan(sandbox, GRANDMA_ZHAO)
    welcome = await sandbox.expect(GRANDMA_ZHAO.id, "不用打字")
    assert sandbox.state.keyboards[GRANDMA_ZHAO.id] == MENU
    assert "/report" not in welcome["text"] and "📝 我要反映问题" in welcome["text"]

    # From here on she only taps: a menu button sends its label.
    await sandbox.say(GRANDMA_ZHAO, "📝 我要反映问题")
    card = await sandbox.expect(GRANDMA_ZHAO.id, "您的诉求（西湖左岸小区）")
    await sandbox.tap(GRANDMA_ZHAO, card, "环境卫生")
    details = await sandbox.expect(GRANDMA_ZHAO.id, "类别：环境卫生")
    await sandbox.say(GRANDMA_ZHAO, "楼下垃圾桶满了两天没人清")
    ready = await sandbox.expect(GRANDMA_ZHAO.id, "楼下垃圾桶满了两天没人清")
    assert details["message_id"] != ready["message_id"]
    await sandbox.tap(GRANDMA_ZHAO, ready, "✅ 提交")
    filed = await sandbox.expect(GRANDMA_ZHAO.id, "已登记为")
    assert "📋 我的诉求" in filed["text"] and "/my" not in filed["text"]
    gone = await sandbox.expect(GRANDMA_ZHAO.id, kind=("edit",))  # the submit button goes
    assert gone["message_id"] == ready["message_id"] and not gone.get("reply_markup")
    assert await tickets(db) == 1

    # The bot restarts (an update, a crash): her phone keeps the menu, and it still works.
    await bot.stop()
    await bot.start()
    assert sandbox.state.keyboards[GRANDMA_ZHAO.id] == MENU
    await sandbox.say(GRANDMA_ZHAO, "📋 我的诉求")
    mine = await sandbox.expect(GRANDMA_ZHAO.id, "您的诉求（最新在前）")
    assert "环境卫生" in mine["text"]

    # A greeting is not a complaint: a kind word and the menu again.
    await sandbox.say(GRANDMA_ZHAO, "谢谢你")
    await sandbox.expect(GRANDMA_ZHAO.id, "不客气")
    await sandbox.say(GRANDMA_ZHAO, "你好，在吗？")
    await sandbox.expect(GRANDMA_ZHAO.id, "我是您小区的服务台")
    assert sandbox.state.keyboards[GRANDMA_ZHAO.id] == MENU
    assert await tickets(db) == 1


async def test_a_problem_written_before_onboarding_is_reported_after_it(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await sandbox.say(GRANDMA_ZHAO, "3号楼电梯又坏了，老人上不了楼")
    await sandbox.expect(GRANDMA_ZHAO.id, "请先告诉我您住在哪里")
    await choose_xihu_zuoan(sandbox, GRANDMA_ZHAO)

    card = await sandbox.expect(GRANDMA_ZHAO.id, "要把这条作为诉求提交吗")
    assert "3号楼电梯又坏了，老人上不了楼" in card["text"]  # kept, not asked again
    assert sandbox.state.keyboards[GRANDMA_ZHAO.id] == MENU
    await sandbox.tap(GRANDMA_ZHAO, card, "物业维修")
    ready = await sandbox.expect(GRANDMA_ZHAO.id, "类别：物业维修")
    await sandbox.tap(GRANDMA_ZHAO, ready, "✅ 提交")
    await sandbox.expect(GRANDMA_ZHAO.id, "已登记为")
    assert await tickets(db) == 1


async def test_lost_before_onboarding_resumes_and_lost_and_found_is_buttons(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await sandbox.say(GRANDMA_ZHAO, "/lost")
    await choose_xihu_zuoan(sandbox, GRANDMA_ZHAO)
    kinds = await sandbox.expect(GRANDMA_ZHAO.id, "您丢了什么")
    await sandbox.tap(GRANDMA_ZHAO, kinds, "✖ 取消")
    await sandbox.expect(GRANDMA_ZHAO.id, "已取消")

    await sandbox.say(GRANDMA_ZHAO, "🔍 失物招领")
    card = await sandbox.expect(GRANDMA_ZHAO.id, "您是丢了东西，还是捡到了东西")
    await sandbox.tap(GRANDMA_ZHAO, card, "🙌 我捡到东西")
    await sandbox.expect(GRANDMA_ZHAO.id, "您捡到了什么")


async def test_in_english_the_menu_greetings_and_help(
    sandbox: Sandbox, bot: BotProcess, db: Database
) -> None:
    await sandbox.say(TOM, "/start")
    language = await sandbox.expect(TOM.id, "Please choose your language")
    await sandbox.tap(TOM, language, "English")
    await choose_xihu_zuoan(sandbox, TOM, zh=False)
    await sandbox.expect(TOM.id, "there is nothing to type")
    assert sandbox.state.keyboards[TOM.id][0] == ["📝 Tell us a problem"]

    await sandbox.say(TOM, "hello")
    await sandbox.expect(TOM.id, "I am the service desk")
    await sandbox.say(TOM, "❓ Help")
    help_card = await sandbox.expect(TOM.id, "📋 My reports — how far")
    await sandbox.tap(TOM, help_card, "🏠 My compound · 语言 Language")
    profile = await sandbox.expect(TOM.id, "Your profile")
    await sandbox.tap(TOM, profile, "Change language")
    language = await sandbox.expect(TOM.id, "请选择语言")
    await sandbox.tap(TOM, language, "中文")
    await sandbox.expect(TOM.id, "不用打字")
    assert sandbox.state.keyboards[TOM.id] == MENU  # the menu follows the language
    assert await tickets(db) == 0
