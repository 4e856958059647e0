"""The conversation engine itself (handlers/wizard.py), through its flows: « Back and Skip, a button
of an earlier question, a form saved by an older build, the buttons' revision, and that every
form's buttons are the engine's one versioned callback data class."""

from __future__ import annotations

from handlers import FLOWS
from handlers.wizard import VERSION, WizardCb
from tests.inproc.harness import Harness, Person, is_menu

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
TOM = Person(3003, "Tom", "en-US")


async def test_back_returns_to_the_question_before_and_keeps_the_answers(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await chat.command("/lost")
    await chat.press("手机/电子")
    await chat.send("黑色华为手机")
    asked_day = await chat.send("3号楼附近")
    assert "是哪天" in asked_day.text

    back = await chat.press("« 返回")

    assert "在哪里丢的" in back.text  # the place again
    again = await chat.send("东门")  # a new answer replaces the old one
    assert "是哪天" in again.text
    await chat.press("今天")
    await chat.press("跳过照片")
    summary = chat.last_message
    assert summary is not None and "东门" in summary.text and "3号楼" not in summary.text
    assert await h.saved() == {}  # nothing is filed before Submit


async def test_the_first_question_has_no_back_and_skip_goes_on(h: Harness) -> None:
    chat = await h.resident(TOM)
    first = await chat.command("/found")
    assert "« Back" not in first.last.labels and "✖ Cancel" in first.last.labels
    await chat.press("Keys or access card")
    await chat.send("a bunch of keys")
    await chat.send("east gate")
    photo = await chat.press("Today")
    assert "Skip the photo" in photo.last.labels

    skipped = await chat.press("Skip the photo")

    assert "Where is it kept now?" in skipped.text


async def test_skip_back_and_cancel_have_a_row_of_their_own_below_the_choices(h: Harness) -> None:
    """On a slow phone a finger misses by a button: a choice never sits beside « Back or Cancel
    (with an odd number of choices, aiogram's builder put them in the last choice's row)."""
    chat = await h.resident(AUNT_LI)
    kinds = await chat.command("/lost")
    choices = [label for label in kinds.last.labels if label != "✖ 取消"]
    assert len(choices) % 2 == 1, choices  # two a row: the last row of choices has one
    assert [b.label for b in kinds.last.buttons[-1]] == ["✖ 取消"]
    await chat.press("手机/电子")
    await chat.send("黑色华为手机")
    await chat.send("3号楼附近")
    await chat.press("« 返回")
    days = await chat.send("东门")
    assert [b.label for b in days.last.buttons[-1]] == ["« 返回", "✖ 取消"]
    photo = await chat.press("今天")
    rows = [[b.label for b in row] for row in photo.last.buttons]
    assert rows[-2:] == [["跳过照片"], ["« 返回", "✖ 取消"]], rows


async def test_a_button_of_an_earlier_question_asks_where_we_are(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    kinds = await chat.command("/lost")
    await chat.press("手机/电子")

    again = await chat.press("钥匙/门禁卡", on=kinds.last)  # the kind was chosen already

    assert "请简单描述" in again.text  # the question it is at, asked again
    assert again.answer.alert is False
    data = await chat.data()
    assert data["draft"]["category"] == "phone"  # unchanged


async def test_a_form_saved_by_an_older_build_is_closed_politely(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await chat.command("/report")
    key = chat._key()
    storage = h.dp.fsm.storage
    old = dict(await storage.get_data(key))
    old["v"] = VERSION - 1
    await storage.set_data(key, old)

    answer = await chat.send("楼道灯坏了")

    assert "表单已关闭" in answer.text
    assert await chat.state() is None and await h.saved() == {}


async def test_every_forms_buttons_are_the_engines_and_fit_telegram(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    shown = await chat.command("/report")
    for data in shown.last.data.values():
        parsed = WizardCb.unpack(data)
        assert parsed.v == VERSION and parsed.flow in FLOWS.flows
        assert len(data.encode()) <= 64
    assert set(FLOWS.flows) == {
        *("report", "lostfound", "party", "activity", "campaign"),
        *("flat", "flatno", "contact", "proxy"),  # households: claim, reason, appoint, 代办
        *("topic", "tdecline", "tvote", "tminutes", "tobject"),  # the 议事厅
        *("stadjust", "stentry"),  # 五星小区: the community adjusts a result, enters a figure
        *("stobject", "stanswer"),  # a resident objects during 公示, the sub-district answers
    }


async def test_a_form_of_the_code_before_the_engine_is_closed_politely(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await h.dp.fsm.storage.set_state(chat._key(), "Party:register")  # as the old 报到 left it

    answer = await chat.send("3号楼2单元501")

    assert "表单已关闭" in answer.text and is_menu(answer.last.keyboard)
    assert await chat.state() is None and await h.saved() == {}


async def test_an_earlier_forms_cancel_does_not_cancel_the_new_one(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    first = await chat.command("/lost")
    await chat.press("✖ 取消")
    await chat.command("/found")

    again = await chat.press("✖ 取消", on=first.last)

    assert "您捡到了什么" in again.text  # the new form's question, asked again
    assert await chat.state() is not None
