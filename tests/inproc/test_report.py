"""The complaint report's wrong paths (/report): cancelling, answers the step does not want, stale
and forged buttons. Whatever happens, nothing is filed until the resident submits."""

from __future__ import annotations

from tests.inproc.harness import Chat, Harness, Person, is_menu, tamper

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
TOM = Person(3003, "Tom", "en-US")
STALE = "重新开始"  # "…start again": every refusal of a button that no longer applies says it


async def li(h: Harness) -> Chat:
    return await h.resident(AUNT_LI, "xihu-zuoan")


async def test_cancel_by_button_files_nothing(h: Harness) -> None:
    chat = await li(h)
    draft = await chat.command("/report")
    assert "请点选最符合的类别" in draft.text
    assert "✖ 取消" in draft.last.labels

    cancelled = await chat.press("✖ 取消")

    assert "已取消" in cancelled.text
    assert cancelled.answer.alert is False
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_cancel_by_command_files_nothing_and_brings_the_menu_back(h: Harness) -> None:
    chat = await li(h)
    await chat.command("/report")
    await chat.press("物业维修")
    await chat.send("3号楼楼道灯坏了一个星期了")

    cancelled = await chat.command("/cancel")

    assert "已取消" in cancelled.text
    assert is_menu(cancelled.last.keyboard)
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_text_while_choosing_a_category_offers_the_categories_again(
    h: Harness,
) -> None:
    chat = await li(h)
    await chat.command("/report")

    again = await chat.send("楼道灯坏了")

    assert "物业维修" in again.last.labels  # the categories, offered again
    assert "✅ 提交" not in again.last.labels  # no category yet: nothing to submit
    assert await h.saved() == {}


async def test_a_category_button_after_cancel_is_refused(h: Harness) -> None:
    chat = await li(h)
    draft = await chat.command("/report")
    await chat.press("✖ 取消")

    stale = await chat.press("物业维修", on=draft.last)

    assert stale.sent == ()  # only the alert: no new draft
    assert stale.answer.alert and STALE in (stale.answer.text or "")
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_the_submit_button_of_a_ready_draft_does_not_submit_once_the_category_is_cleared(
    h: Harness,
) -> None:
    chat = await li(h)
    await chat.command("/report")
    await chat.press("物业维修")
    ready = await chat.send("3号楼楼道灯坏了")
    assert "✅ 提交" in ready.last.labels
    await chat.press("更换类别", on=ready.last)

    again = await chat.press("✅ 提交", on=ready.last)  # the old message's button

    assert "请点选最符合的类别" in again.text
    assert await h.saved() == {}


async def test_forged_callback_data_changes_nothing(h: Harness) -> None:
    chat = await li(h)
    draft = await chat.command("/report")
    category = draft.last.data["物业维修"]

    forged = [
        await chat.press_data(tamper(category, "99")),  # no 100th category
        await chat.press_data(tamper(category, "-1")),
        await chat.press_data(tamper(category, "9" * 40)),
        await chat.press_data(category.rpartition(":")[0]),  # a field short
        await chat.press_data("zz:1"),
        await chat.press_data(":::"),
    ]

    for reply in forged:
        assert not reply.says("请发一条消息描述问题")  # no category was taken
        assert reply.answer.text is None or STALE in reply.answer.text
    assert await chat.state() is not None  # the draft is still open
    assert await h.saved() == {}
    taken = await chat.press("物业维修", on=draft.last)  # the real button still works
    assert "请发一条消息描述问题" in taken.text


async def test_a_huge_text_is_cut_with_a_word_and_fits_a_message(h: Harness) -> None:
    chat = await li(h)
    await chat.command("/report")
    await chat.press("物业维修")

    cut = await chat.send("漏水" * 3000)  # 6000 characters; Telegram takes at most 4096

    assert "内容较长，已保留前" in cut.text  # and the reply fits Telegram's limits (checked)
    assert await h.saved() == {}


async def test_a_sticker_or_a_voice_message_where_text_was_expected(h: Harness) -> None:
    chat = await li(h)
    await chat.command("/report")
    await chat.press("物业维修")

    sticker = await chat.sticker()
    voice = await chat.voice()

    for reply in (sticker, voice):
        assert "文字" in reply.text  # says what it can take
    assert await chat.state() is not None  # the draft is kept
    assert await h.saved() == {}


async def test_in_english_cancel_and_a_stale_button(h: Harness) -> None:
    chat = await h.resident(TOM, "donglizhuang-xiaoqu")
    draft = await chat.command("/report")
    assert "Tap the category" in draft.text

    cancelled = await chat.press("✖ Cancel")
    stale = await chat.press("Property repair", on=draft.last)

    assert "Cancelled" in cancelled.text
    assert stale.answer.alert and "start" in (stale.answer.text or "")
    assert await h.saved() == {}


async def test_in_english_a_sticker_and_a_huge_text(h: Harness) -> None:
    chat = await h.resident(TOM, "donglizhuang-xiaoqu")
    await chat.command("/report")
    await chat.press("Noise")

    sticker = await chat.sticker()
    cut = await chat.send("loud music every night " * 300)

    assert "text" in sticker.text
    assert "That was long" in cut.text
    assert await h.saved() == {}


async def test_a_location_off_the_globe_is_refused(h: Harness) -> None:
    chat = await li(h)
    await chat.command("/report")
    await chat.press("物业维修")

    nowhere = await chat.location(999.0, -999.0)  # only a forged update sends one

    assert "这个位置不对" in nowhere.text
    assert "位置：是" not in nowhere.text  # not added to the draft
    assert await h.saved() == {}


async def test_submit_on_an_older_drafts_card_does_not_file_the_new_draft(h: Harness) -> None:
    chat = await li(h)
    await chat.command("/report")
    await chat.press("物业维修")
    first = await chat.send("楼道灯坏了")
    await chat.command("/report")  # starts over with another problem
    await chat.press("安全隐患")
    await chat.send("电梯坏了，困人")

    await chat.press("✅ 提交", on=first.last)  # the card says 物业维修 · 楼道灯坏了

    assert await h.saved() == {}
