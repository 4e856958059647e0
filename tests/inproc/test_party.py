"""报到 (/party)'s wrong paths: at the phone step, a contact that is not the member's own and text
instead of the contact or "Skip"; cancelling; stale and forged buttons. Nothing is registered
until the member sends the form."""

from __future__ import annotations

from tests.inproc.harness import Chat, Harness, Person, Replies, tamper

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
UNCLE_WANG = Person(3002, "王大爷", "zh")
TOM = Person(3003, "Tom", "en-US")
STALE = "重新开始"


async def to_the_phone(chat: Chat) -> Replies:
    """/party up to the phone number (in Chinese)."""
    await chat.command("/party")
    await chat.press(f"使用“{chat.person.first_name}”")
    await chat.send("3号楼2单元501")
    await chat.send("市第一人民医院党委")
    asked = await chat.press("离退休")
    assert "请用下方按钮分享手机号" in asked.text
    assert asked.last.keyboard is not None  # the phone-number keyboard
    return asked


async def test_someone_elses_contact_is_refused_and_the_keyboard_stays(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_phone(chat)

    other = await chat.contact("+8613700001111", own=False, user_id=UNCLE_WANG.id)
    not_on_telegram = await chat.contact("+8613700002222", own=False, user_id=None)

    for reply in (other, not_on_telegram):
        assert "本人的号码" in reply.text
        assert "13700001111" not in reply.text
    assert chat.keyboard is not None and any("分享我的手机号" in b for b in chat.keyboard[0])
    assert await h.saved() == {}
    own = await chat.contact("+8613912345678")  # the button's own contact is taken
    assert "谢谢" in own.text and "提交" in own.last.labels[0]


async def test_text_instead_of_the_contact_or_skip(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_phone(chat)

    typed = await chat.send("13912345678")
    other = await chat.send("不想留")

    for reply in (typed, other):
        assert "请用按钮分享您的号码" in reply.text
        assert "跳过" in reply.text
    assert chat.keyboard is not None  # still offered
    assert await h.saved() == {}


async def test_skip_then_cancel_registers_nothing(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_phone(chat)

    skipped = await chat.press("跳过")  # the reply keyboard's button
    cancelled = await chat.press("✖ 取消")

    assert "不留电话" in skipped.text or skipped.says("提交")
    assert chat.has_menu  # the phone keyboard is taken away: the main menu is back
    assert "已取消" in cancelled.text
    assert await chat.state() is None
    assert await h.saved() == {}


async def test_a_sticker_at_the_phone_step(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_phone(chat)

    sticker = await chat.sticker()

    assert sticker.says("按钮") or sticker.says("跳过")
    assert await h.saved() == {}


async def test_the_send_button_of_a_cancelled_form_registers_nothing(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await to_the_phone(chat)
    summary = await chat.press("跳过")
    confirm = summary.last
    assert "✅ 提交" in confirm.labels
    await chat.press("✖ 取消", on=confirm)

    after_cancel = await chat.press("✅ 提交", on=confirm)
    await chat.command("/party")  # a new, empty form
    on_a_new_form = await chat.press("✅ 提交", on=confirm)

    assert after_cancel.answer.alert and STALE in (after_cancel.answer.text or "")
    assert not on_a_new_form.says("已提交") and not on_a_new_form.says("党支部审核")
    assert await h.saved() == {}


async def test_forged_buttons_change_nothing(h: Harness) -> None:
    chat = await h.resident(AUNT_LI)
    await chat.command("/party")
    await chat.press("使用“李阿姨”")
    await chat.send("3号楼2单元501")
    kinds = await chat.send("市第一人民医院党委")
    retired = kinds.last.data["离退休"]

    beyond = await chat.press_data(tamper(retired, "7"))  # a fourth kind of member
    cut = await chat.press_data(retired.rpartition(":")[0])
    garbage = await chat.press_data("pr:zz:zz")

    assert not beyond.says("请用下方按钮分享手机号")  # the step did not move
    for reply in (cut, garbage):
        assert reply.sent == () and reply.answer.alert
    assert await h.saved() == {}


async def test_without_a_form_open_a_forged_form_button_is_refused(h: Harness) -> None:
    li = await h.resident(AUNT_LI)
    wang = await h.resident(UNCLE_WANG)
    form = await li.command("/party")
    use_name = form.last.data["使用“李阿姨”"]
    await wang.command("/help")

    forged = await wang.press_data(use_name)  # on his own last message

    assert forged.sent == ()
    assert forged.answer.alert and STALE in (forged.answer.text or "")
    assert await wang.state() is None
    assert await h.saved() == {}


async def test_in_english_another_contact_and_text_at_the_phone_step(h: Harness) -> None:
    chat = await h.resident(TOM, "donglizhuang-xiaoqu")
    await chat.command("/party")
    await chat.press("Use “Tom”")
    await chat.send("Building 3, flat 501")
    await chat.send("City Hospital No. 1 Party Committee")
    await chat.press("in work (在职)")

    other = await chat.contact("+8613700001111", own=False, user_id=UNCLE_WANG.id)
    typed = await chat.send("no thanks")

    assert "your own number" in other.text
    assert "Skip" in typed.text
    assert await h.saved() == {}
