"""Group notices that stay true: a notice is posted through the outbox and remembered
(storage/notices.py); when its subject changes, every notice of it is edited in place — only
when its text changes, so a repeated sweep or a change the notice does not show edits nothing."""

from __future__ import annotations

from collections.abc import Callable

from bot.delivery.outbox import Priority
from bot.services.desk import Desk
from bot.ui.notices import NoticeView
from storage.notices import NoticeKind

Render = Callable[[str], NoticeView]  # the notice in a language, as its subject stands now


async def post(
    desk: Desk, kind: NoticeKind, subject_id: int, chat_id: int, locale: str, view: NoticeView
) -> int:
    """Send a notice to a group and remember it; returns its outbox row."""
    outbox_id = await desk.outbox.send(
        chat_id, view.text, markup=view.markup, priority=Priority.BROADCAST
    )
    await desk.notices.add(kind, subject_id, chat_id, outbox_id, locale, view.text, desk.now)
    return outbox_id


async def refresh(desk: Desk, kind: NoticeKind, subject_id: int, render: Render) -> int:
    """Edit every notice of the subject whose text is not the one `render` gives now; returns
    how many edits were written. A view without buttons takes the notice's button away."""
    edited = 0
    for notice in await desk.notices.of(kind, subject_id):
        view = render(notice.locale)
        if not await desk.notices.show(notice.id, view.text, desk.now):
            continue
        await desk.outbox.edit_sent(notice.chat_id, notice.outbox_id, view.text, markup=view.markup)
        edited += 1
    return edited
