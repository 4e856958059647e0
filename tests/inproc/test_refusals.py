"""A refusal undoes what the handler wrote before it (the update's savepoint) and is answered once,
in the person's language: an alert for a button, a text for a message."""

from __future__ import annotations

import pytest

from bot.domain.complaints import Category, Draft
from bot.domain.errors import Reason, Refused, Stale
from bot.domain.party import Refusal
from bot.domain.people import Actor
from bot.services import complaints, party
from bot.services.desk import Desk
from tests.inproc.harness import Harness, Person

AUNT_LI = Person(3001, "李阿姨", "zh-hans")
TOM = Person(3003, "Tom", "en-US")
MOVED_ZH = "这条诉求在按钮显示后已有变化，没有做任何更改。"


async def test_a_button_refused_after_writing_leaves_nothing_and_alerts_in_chinese(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_it = complaints.open_complaint

    async def files_then_refuses(desk: Desk, actor: Actor, draft: Draft) -> None:
        await file_it(desk, actor, draft)  # the ticket, its number, its card to the unit
        raise Stale(Reason.TICKET_MOVED)

    chat = await h.resident(AUNT_LI)
    await chat.command("/report")
    await chat.press("物业维修")
    await chat.send("3号楼楼道灯坏了一个星期了")
    monkeypatch.setattr(complaints, "open_complaint", files_then_refuses)

    refused = await chat.press("✅ 提交")

    assert refused.answer.alert and refused.answer.text == MOVED_ZH
    assert refused.sent == ()  # neither the thanks nor the staff card
    assert await h.saved() == {}  # no ticket, no number, no event
    assert await chat.state() is not None  # the form stays open at its last step
    monkeypatch.undo()
    filed = await chat.press("✅ 提交")
    assert "感谢" in filed.text or "谢谢" in filed.text
    assert (await h.saved()).get("complaints") == 1


async def test_a_message_refused_after_writing_leaves_nothing_and_says_why_in_english(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def files_then_refuses(desk: Desk, actor: Actor, *_args: object) -> None:
        assert actor.user.compound_id is not None
        draft = Draft(actor.user.compound_id, Category.PROPERTY_REPAIR, "The lift is broken")
        await complaints.open_complaint(desk, actor, draft)
        await desk.outbox.send(actor.id, "written before the refusal")
        raise Refused(Refusal.NOT_PRESENT)

    chat = await h.resident(TOM)
    monkeypatch.setattr(party, "check_out", files_then_refuses)

    refused = await chat.command("/checkout")

    assert refused.text == "You are not checked in at an activity now."
    assert len(refused.sent) == 1 and refused.sent[0].chat_id == TOM.id
    assert await h.saved() == {}
