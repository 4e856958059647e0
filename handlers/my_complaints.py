"""A resident's own tickets: /my, a ticket's history, the rating after completion (回访), and
answers to staff questions."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.delivery.outbox import Outbox
from bot.domain.complaints import Rating, Status
from bot.domain.errors import DomainError, NotAllowed, Reason
from bot.domain.people import Actor
from bot.services import complaints, topics
from bot.services.desk import Desk
from bot.services.dispatch import check_state
from bot.ui import complaints as ui
from bot.ui.complaints import TicketAction, TicketCb
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers.common import command, drop_buttons, pressed_on

RESIDENT_ACTIONS = {TicketAction.VIEW, TicketAction.RATE, TicketAction.ANSWER}


class Resident(StatesGroup):
    reason = State()  # why 不满意
    answer = State()  # the answer to a staff question


async def my_reports(actor: Actor, desk: Desk, state: FSMContext) -> None:
    mine = await desk.complaints.of_resident(actor.id)
    if not mine:
        await desk.outbox.send(
            actor.id,
            _("You have no reports yet. Tap “📝 Tell us a problem”, or simply write what it is."),
        )
        return
    lines = [_("Your reports (newest first). Tap one to see its history:")]
    builder = InlineKeyboardBuilder()
    for complaint in mine:
        status = ui.status_name(complaint.status, actor.locale)
        mark = "" if complaint.reporter_id == actor.id else " " + _("(following)")
        lines.append(
            f"• <b>{complaint.number}</b> · {ui.category_name(complaint.category, actor.locale)}"
            f" — {status}{mark}"
        )
        builder.button(
            text=complaint.number,
            callback_data=TicketCb(action=TicketAction.VIEW, id=complaint.id, v=complaint.version),
        )
    builder.adjust(2)
    await desk.outbox.send(actor.id, "\n".join(lines), markup=builder.as_markup())


async def on_resident_action(
    callback: CallbackQuery,
    callback_data: TicketCb,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    action, cid = callback_data.action, callback_data.id
    done = None
    if action is TicketAction.VIEW:
        await outbox.send(actor.id, await complaints.view(desk, actor, cid))
    elif action is TicketAction.RATE:
        if not 0 <= callback_data.arg < len(ui.RATINGS):
            raise NotAllowed(Reason.NOT_YOURS_TO_RATE, str(callback_data.arg))
        rating = ui.RATINGS[callback_data.arg]
        complaint = await desk.complaints.get(cid)
        if complaint is None or complaint.reporter_id != actor.id:
            raise NotAllowed(Reason.NOT_YOURS_TO_RATE, str(cid))
        check_state(complaint, callback_data.v, Status.COMPLETED)
        if rating is Rating.UNSATISFIED:
            await state.set_state(Resident.reason)
            await state.set_data({"id": cid, "v": callback_data.v, "card": pressed_on(callback)})
            await outbox.send(
                actor.id,
                _("Sorry to hear that. What is still wrong? Write it in one message."),
            )
        else:
            rated = await complaints.rate(desk, actor, cid, callback_data.v, rating)
            await topics.ticket_rated(desk, rated, actor.id)
            done = _("Thank you for your rating!")
            await outbox.send(actor.id, done)
            await drop_buttons(outbox, actor.id, pressed_on(callback))  # rated: its buttons go
    elif action is TicketAction.ANSWER:
        complaint = await desk.complaints.get(cid)
        if complaint is None or complaint.reporter_id != actor.id:
            raise NotAllowed(Reason.NOT_YOURS_TO_ANSWER, str(cid))
        await state.set_state(Resident.answer)
        await state.set_data({"id": cid, "asker": callback_data.arg, "card": pressed_on(callback)})
        await outbox.send(actor.id, _("Write your answer in one message."))
    await outbox.answer_callback(actor.id, callback.id, done)


async def on_reason(
    message: Message,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    await state.clear()
    try:
        moved = await complaints.rate(
            desk,
            actor,
            int(data.get("id", 0)),
            int(data.get("v", 0)),
            Rating.UNSATISFIED,
            message.text or "",
        )
    except DomainError as error:
        error.ends_conversation = True  # the rating's text was for a ticket that moved on: it ends
        raise
    await topics.ticket_rated(desk, moved, actor.id)  # a third 不满意 closes it with that verdict
    await outbox.send(
        message.chat.id,
        _("Thank you. {number} goes back to be handled again.").format(number=moved.number),
    )
    await drop_buttons(outbox, actor.id, data.get("card"))  # the rating buttons go


async def on_answer(
    message: Message,
    actor: Actor,
    desk: Desk,
    outbox: Outbox,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    await state.clear()
    try:
        await complaints.answer(
            desk, actor, int(data.get("id", 0)), int(data.get("asker", 0)), message.text or ""
        )
    except DomainError as error:
        error.ends_conversation = True  # an answer that cannot be passed on: the conversation ends
        raise
    await outbox.send(message.chat.id, _("Your answer was passed on."))
    await drop_buttons(outbox, actor.id, data.get("card"))  # and the question's button


async def on_not_text(message: Message, outbox: Outbox) -> None:
    await outbox.send(message.chat.id, _("Please write it as a text message, or /cancel."))


def private_router() -> Router:
    router = Router(name="my_complaints")
    router.message.register(command(my_reports), Command("my"))
    router.callback_query.register(
        on_resident_action, TicketCb.filter(F.action.in_(RESIDENT_ACTIONS))
    )
    text = F.text & ~F.text.startswith("/")
    router.message.register(on_reason, Resident.reason, text)
    router.message.register(on_answer, Resident.answer, text)
    router.message.register(on_not_text, Resident.reason, ~F.text)
    router.message.register(on_not_text, Resident.answer, ~F.text)
    return router
