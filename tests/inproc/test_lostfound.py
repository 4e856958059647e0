"""Lost and found's wrong paths (/lost, /found): dates that cannot be right, a picture sent as a
file, cancelling, stale and forged buttons. Nothing is filed until the person submits."""

from __future__ import annotations

from tests.inproc.harness import Chat, Harness, Person, Replies, tamper

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
GUARD = Person(3201, "门卫老周", "zh-CN")
TOM = Person(3003, "Tom", "en-US")
STALE = "重新开始"


async def to_the_date(chat: Chat, command: str = "/lost") -> Replies:
    """/lost or /found up to the question "when?" (in Chinese)."""
    await chat.command(command)
    await chat.press("手机/电子")
    await chat.send("黑色华为手机，透明壳")
    asked = await chat.send("3号楼附近")
    assert "是哪天" in asked.text
    return asked


async def test_a_date_in_the_future_is_refused_and_the_question_stays(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_date(chat)

    future = await chat.send("2099-01-01")

    assert "这个日期还没到" in future.text
    assert await h.saved() == {}
    after = await chat.press("昨天")  # the date buttons still answer
    assert "有照片吗" in after.text


async def test_a_date_that_cannot_be_read_or_is_too_old(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_date(chat)

    unreadable = await chat.send("下雨那天")
    impossible = await chat.send("2月30日")
    old = await chat.send("2020-05-01")

    assert "没看懂这个日期" in unreadable.text
    assert "没看懂这个日期" in impossible.text
    assert "一年" in old.text
    assert await h.saved() == {}


async def test_a_photo_sent_as_a_file_is_asked_for_again_as_a_photo(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_date(chat)
    asked = await chat.press("今天")
    assert "有照片吗" in asked.text

    as_file = await chat.document("IMG_2041.jpg", size=2_400_000)

    assert "请以“照片”方式发送" in as_file.text
    assert await h.saved() == {}
    taken = await chat.photo()  # then sent properly
    assert "已添加照片" in taken.text


async def test_a_picture_file_over_the_limit_is_called_too_large(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_date(chat)
    await chat.press("今天")

    too_large = await chat.document("IMG_2042.jpg", size=40 * 1024 * 1024)  # the limit: 10 MB

    assert "太大" in too_large.text
    assert await h.saved() == {}


async def test_cancel_saves_nothing_and_its_buttons_are_refused_after(h: Harness) -> None:
    chat = await h.resident(GUARD)
    await chat.command("/found")
    kinds = await chat.press("钥匙/门禁卡")

    cancelled = await chat.press("✖ 取消", on=kinds.last)
    stale = await chat.press("✖ 取消", on=kinds.last)

    assert "已取消，没有保存任何内容" in cancelled.text
    assert stale.sent == ()
    assert stale.answer.alert and STALE in (stale.answer.text or "")
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_cancel_by_command_in_the_middle(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_date(chat)

    cancelled = await chat.command("/cancel")
    after = await chat.send("昨天")  # no form open: an ordinary text again

    assert "已取消" in cancelled.text
    assert "是哪天" not in after.text
    assert await h.saved() == {}


async def test_the_submit_of_an_earlier_draft_does_not_file_a_new_one(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_date(chat)
    await chat.press("昨天")
    summary = await chat.press("跳过照片")
    assert "以上信息对吗" in summary.text
    await chat.press("✖ 取消", on=summary.last)
    await chat.command("/lost")  # a new, empty draft

    old = await chat.press("✅ 提交", on=summary.last)

    assert not old.says("已登记")
    assert await h.saved() == {}


async def test_forged_choices_change_nothing(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    kinds = await chat.command("/lost")
    category = kinds.last.data["手机/电子"]
    await to_the_date(chat)
    dates = chat.last_buttons
    assert dates is not None
    day = dates.data["昨天"]

    replies = [
        await chat.press_data(tamper(category, "99")),  # a kind that does not exist
        await chat.press_data(tamper(day, "30")),  # 30 days ago: not offered
        await chat.press_data(tamper(day, "-1")),  # tomorrow
        await chat.press_data(day.partition(":")[0]),  # the prefix alone
        await chat.press_data("\u202e" * 20),
    ]

    for reply in replies:
        assert not reply.says("有照片吗")  # no date was taken
    assert "有照片吗" in (await chat.press("昨天", on=dates)).text  # the real one still is
    assert await h.saved() == {}


async def test_in_english_a_bad_date_a_file_and_cancel(h: Harness) -> None:
    chat = await h.resident(TOM, "donglizhuang-xiaoqu")
    await chat.command("/found")
    await chat.press("Pet")
    await chat.send("A small white cat with a red collar")
    await chat.send("by the east gate")

    bad = await chat.send("31/02")
    future = await chat.send("2099-01-01")
    await chat.press("Today")
    as_file = await chat.document("cat.png", mime_type="image/png", size=300_000)
    cancelled = await chat.press("✖ Cancel")

    assert "could not read that date" in bad.text
    assert "future" in future.text
    assert "as a photo, not as a file" in as_file.text
    assert "Cancelled" in cancelled.text
    assert await h.saved() == {}


async def test_submit_on_an_older_summary_does_not_file_the_new_draft(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_date(chat)
    await chat.press("今天")
    first = await chat.press("跳过照片")  # the summary: 手机/电子 · 黑色华为手机
    await chat.command("/lost")  # starts over with something else
    await chat.press("宠物")
    await chat.send("白色小猫，红项圈")
    await chat.send("东门")
    await chat.press("今天")
    await chat.press("跳过照片")

    await chat.press("✅ 提交", on=first.last)

    assert await h.saved() == {}
