"""The main menu (issue 20): a resident who only taps buttons gets everything done; greetings are
answered kindly, not filed; what someone asked for before saying where they live is resumed."""

from __future__ import annotations

from bot.domain.inputs import Greeting, greeting
from tests.inproc.harness import Chat, Harness, Person, is_menu

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
NEWCOMER = Person(3050, "赵奶奶", "zh-CN")
TOM = Person(3003, "Tom", "en-US")
LIU = Person(3102, "刘书记", "zh-CN")  # party branch of 西湖左岸

MENU = (
    "📝 我要反映问题",
    "📋 我的诉求",
    "🔍 失物招领",
    "🚩 党员报到/活动",
    "🏠 我家",
    "🏛 议事厅",
    "❓ 帮助",
)
STAFF_MENU = ("📥 待办", "📊 统计", "🏘 住户")


def labels(chat: Chat) -> set[str]:
    return {label for row in chat.keyboard or () for label in row}


async def choose_xihu_zuoan(chat: Chat) -> None:
    """The compound choice by buttons: 北大街道 → 西湖社区 → 西湖左岸小区."""
    await chat.press("北大街道")
    await chat.press("西湖社区")
    await chat.press("西湖左岸小区")


async def test_onboarding_ends_with_the_menu_of_big_buttons(h: Harness) -> None:
    chat = await h.newcomer(NEWCOMER)
    await chat.command("/start")
    await chat.press("中文")
    await choose_xihu_zuoan(chat)

    assert set(MENU) == labels(chat)
    assert not set(STAFF_MENU) & labels(chat)
    help_message = chat.last_message
    assert help_message is not None and "不用打字" in help_message.text
    assert "/report" not in help_message.text  # the help lists buttons, not commands


async def test_a_resident_files_a_complaint_by_buttons_alone(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await chat.command("/start")  # the menu is shown once; from here on only buttons
    assert chat.has_menu

    card = await chat.press("📝 我要反映问题")  # a reply-keyboard button: sent as its label
    assert "您的诉求（西湖左岸小区）" in card.text and "物业维修" in card.last.labels
    await chat.press("物业维修")
    await chat.send("3号楼楼道灯坏了")
    filed = await chat.press("✅ 提交")

    assert "已登记为" in filed.text, filed.text
    assert (await h.saved()).get("complaints") == 1
    mine = await chat.press("📋 我的诉求")
    number = filed.text.split("已登记为 ")[1].split("，")[0]
    assert mine.last.labels == [number], mine.text  # each ticket is a button


async def test_the_submit_button_goes_once_the_report_is_filed(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await chat.command("/report")
    await chat.press("物业维修")
    card = await chat.send("电梯异响")

    await chat.press("✅ 提交", on=card.last)

    assert chat.message(card.last.message_id).buttons == ()  # nothing left to press there


async def test_lost_and_found_and_party_open_small_cards_of_buttons(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    card = await chat.send("🔍 失物招领")
    assert {"😟 我丢了东西", "🙌 我捡到东西", "🗂 我的失物登记"} <= set(card.last.labels)

    lost = await chat.press("😟 我丢了东西")
    assert "您丢了什么" in lost.text

    party = await chat.send("🚩 党员报到/活动")  # not a member yet: the registration starts
    assert "报到" in party.text


async def test_help_lists_buttons_and_offers_settings_as_buttons(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    shown = await chat.send("❓ 帮助")

    assert "📝 我要反映问题" in shown.text and "/report" not in shown.text
    assert "🔔 接收整治提醒" in shown.last.labels
    subscribed = await chat.press("🔔 接收整治提醒")
    assert "整治提醒" in subscribed.text
    again = await chat.send("❓ 帮助")
    assert "🔕 不再接收整治提醒" in again.last.labels
    profile = await chat.press("🏠 我的小区 · 语言 Language")
    assert "西湖左岸小区" in profile.text


async def test_staff_get_to_do_and_statistics(h: Harness) -> None:
    chat = await h.staff(LIU, "xihu-zuoan.party_branch", home="xihu-zuoan")
    await chat.command("/start")

    assert set(STAFF_MENU) <= labels(chat)
    queue = await chat.send("📥 待办")
    assert "待办诉求 · 西湖左岸小区" in queue.text
    stats = await chat.send("📊 统计")
    assert "📊 西湖左岸小区" in stats.text


async def test_a_resident_pressing_a_staff_button_is_told_politely(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    refused = await chat.send("📥 待办")  # typed, or from a keyboard of before a role was taken

    assert "只供单位工作人员使用" in refused.text and "📝 我要反映问题" in refused.text
    assert (await h.saved()) == {}


async def test_greetings_are_answered_kindly_with_the_menu_not_filed(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    for text in ("你好", "在吗？", "谢谢", "好的，谢谢！"):
        answer = await chat.send(text)
        assert is_menu(answer.last.keyboard), text
        assert "反映问题" in answer.text or "不客气" in answer.text, answer.text
        assert await chat.state() is None, text  # no report was offered
    assert await h.saved() == {}

    offered = await chat.send("你好，3号楼楼道灯坏了")  # a problem after the greeting: offered
    assert "你好，3号楼楼道灯坏了" in offered.text and "物业维修" in offered.last.labels


async def test_greeting_words_are_read_strictly() -> None:
    assert greeting("你好") is Greeting.HELLO
    assert greeting("您好！在吗") is Greeting.HELLO
    assert greeting("好的谢谢") is Greeting.THANKS
    assert greeting("Thank you!") is Greeting.THANKS
    for problem in ("楼道灯坏了", "你好，楼道灯坏了", "好冷", "啊", "", "hide", "在吗" * 20):
        assert greeting(problem) is None, problem


async def test_a_problem_written_before_onboarding_is_kept_and_resumed(h: Harness) -> None:
    chat = await h.newcomer(NEWCOMER)
    asked = await chat.send("2号楼门口的垃圾三天没人清运了")
    assert "您住在哪里" in asked.text

    await choose_xihu_zuoan(chat)

    card = chat.last_buttons
    assert card is not None and "2号楼门口的垃圾三天没人清运了" in card.text
    assert chat.has_menu
    await chat.press("环境卫生")
    filed = await chat.press("✅ 提交")
    assert "已登记为" in filed.text
    assert (await h.saved()).get("complaints") == 1


async def test_report_lost_found_and_party_before_onboarding_resume_after(h: Harness) -> None:
    for n, (command, expected) in enumerate(
        (
            ("/report", "类别"),
            ("/lost", "您丢了什么"),
            ("/found", "您捡到了什么"),
            ("/party", "报到"),
        )
    ):
        chat = await h.newcomer(Person(3060 + n, "新居民", "zh-CN"))
        asked = await chat.command(command)
        assert "您住在哪里" in asked.text, command
        await choose_xihu_zuoan(chat)
        assert await chat.state() is not None and (await chat.state() or "").startswith("wizard:")
        assert any(expected in m.text for m in chat.messages[-3:]), (
            command,
            chat.messages[-1].text,
        )


async def test_an_english_resident_gets_the_english_menu(h: Harness) -> None:
    chat = await h.resident(TOM, "donglizhuang-xiaoqu")
    await chat.command("/start")

    assert "📝 Tell us a problem" in labels(chat)
    hello = await chat.send("hello")
    assert "Tap a button" in hello.text
    card = await chat.send("🔍 Lost and found")
    assert "😟 I lost something" in card.last.labels


async def test_a_menu_button_in_the_middle_of_a_form_works_like_a_command(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await chat.command("/lost")
    await chat.press("钥匙/门禁卡")

    mine = await chat.send("📋 我的诉求")  # not taken as the item's description

    assert "还没有" in mine.text, mine.text
    assert (await chat.data())["draft"]["text"] == ""  # the form is still open, as it was
    assert (await h.saved()) == {}
