"""Staff acting on a ticket's card: sign for, return (with a reason), progress, complete, ask the
resident, and — for a returned ticket — re-dispatch, send back or refer upwards."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.complaints import Complaint, ReturnReason, Status
from bot.domain.errors import DomainError, NotFound, Reason
from bot.domain.people import Actor
from bot.services import dispatch, topics
from bot.services.desk import Desk
from bot.ui import complaints as ui
from bot.ui import menu
from bot.ui.complaints import TicketAction, TicketCb
from handlers.common import private_state

STAFF_ACTIONS = {
    TicketAction.SIGN,
    TicketAction.RETURN,
    TicketAction.REASON,
    TicketAction.PROGRESS,
    TicketAction.COMPLETE,
    TicketAction.ASK,
    TicketAction.REDISPATCH,
    TicketAction.SEND_BACK,
    TicketAction.REFER,
    TicketAction.CARD,
}
OPEN_HANDLING = (Status.DISPATCHED, Status.SIGNED)


class WorkOrder(StatesGroup):
    text = State()  # a progress note, a completion reply, a question or a return reason


def _prompt(action: str, complaint: Complaint) -> str:
    prompts = {
        "progress": _("Write the progress note for {number}; the resident will see it."),
        "complete": _("Write the reply for {number}: what was done. The resident will see it."),
        "ask": _("Write your question about {number}; I will pass it to the resident."),
        "return": _("Why are you returning {number}? Write the reason."),
    }
    return prompts[action].format(number=complaint.number)


async def on_ticket_action(
    callback: CallbackQuery,
    callback_data: TicketCb,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    action, cid, version = callback_data.action, callback_data.id, callback_data.v
    done = ""
    if action is TicketAction.SIGN:
        moved = await dispatch.sign_for(desk, actor, cid, version)
        done = _("Signed for {number}.").format(number=moved.number)
    elif action is TicketAction.RETURN:
        complaint, _units = await dispatch.actionable(desk, actor, cid, version, *OPEN_HANDLING)
        await outbox.send(
            actor.id,
            _("Why return {number}?").format(number=complaint.number),
            markup=ui.reasons_keyboard(complaint, actor.locale),
        )
    elif action is TicketAction.REASON:
        if not 0 <= callback_data.arg < len(ui.REASONS):
            raise NotFound(Reason.GONE, str(callback_data.arg))
        reason = ui.REASONS[callback_data.arg]
        if reason is ReturnReason.OTHER:
            complaint, _units = await dispatch.actionable(desk, actor, cid, version, *OPEN_HANDLING)
            await _ask_text(actor, outbox, state, "return", complaint)
        else:
            moved = await dispatch.return_ticket(desk, actor, cid, version, reason, "")
            done = _("{number} returned.").format(number=moved.number)
    elif action in (TicketAction.PROGRESS, TicketAction.COMPLETE):
        complaint, _units = await dispatch.actionable(desk, actor, cid, version, Status.SIGNED)
        what = "progress" if action is TicketAction.PROGRESS else "complete"
        await _ask_text(actor, outbox, state, what, complaint)
    elif action is TicketAction.ASK:
        complaint, _units = await dispatch.actionable(
            desk, actor, cid, version, Status.DISPATCHED, Status.SIGNED, Status.RETURNED
        )
        await _ask_text(actor, outbox, state, "ask", complaint)
    elif action is TicketAction.REDISPATCH:
        moved = await dispatch.redispatch(desk, actor, cid, version, callback_data.arg)
        done = _("{number} re-assigned.").format(number=moved.number)
    elif action is TicketAction.SEND_BACK:
        moved = await dispatch.send_back(desk, actor, cid, version)
        done = _("{number} sent back.").format(number=moved.number)
    elif action is TicketAction.REFER:
        moved = await dispatch.refer_up(desk, actor, cid, version)
        done = _("{number} referred upwards.").format(number=moved.number)
    await outbox.answer_callback(actor.id, callback.id, done or None)


async def _ask_text(
    actor: Actor, outbox: Outbox, state: FSMContext, what: str, complaint: Complaint
) -> None:
    mine = private_state(state, actor.id)
    await mine.set_state(WorkOrder.text)
    await mine.set_data({"do": what, "id": complaint.id, "v": complaint.version})
    await outbox.send(actor.id, _prompt(what, complaint) + "\n" + _("(/cancel to stop)"))


async def on_work_text(
    message: Message,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    await state.clear()
    text = (message.text or "").strip()
    cid, version, what = int(data.get("id", 0)), int(data.get("v", 0)), data.get("do")
    try:
        if what == "progress":
            moved = await dispatch.add_progress(desk, actor, cid, version, text)
            done = _("Progress note added to {number}; the resident is told.")
        elif what == "complete":
            moved = await dispatch.complete(desk, actor, cid, version, text)
            await topics.completed(desk, moved)  # a decision of the 议事厅 carried out
            done = _("{number} completed. The resident is asked to rate it.")
        elif what == "ask":
            moved = await dispatch.ask_resident(desk, actor, cid, version, text)
            done = _("Your question about {number} was passed on. The answer will come here.")
        elif what == "return":
            moved = await dispatch.return_ticket(
                desk, actor, cid, version, ReturnReason.OTHER, text
            )
            done = _("{number} returned.")
        else:
            return
    except DomainError as error:
        error.ends_conversation = True  # a text for a ticket that moved on: the conversation ends
        raise
    await outbox.send(message.chat.id, done.format(number=moved.number))


async def on_work_not_text(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _("Please write it as a text message, or /cancel."))


async def cmd_cancel(message: Message, actor: Actor, outbox: Outbox, state: FSMContext) -> None:
    await state.clear()
    # The keyboard may still offer to share a location or a phone number: the menu comes back.
    await outbox.send(
        message.chat.id, _("Cancelled. Nothing was changed."), markup=menu.keyboard(actor)
    )


def private_router() -> Router:
    router = Router(name="work_orders")
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_ticket_action, TicketCb.filter(F.action.in_(STAFF_ACTIONS)))
    router.message.register(on_work_text, WorkOrder.text, F.text, ~F.text.startswith("/"))
    router.message.register(on_work_not_text, WorkOrder.text, ~F.text)
    return router
