"""The main menu (bot/ui/menu.py): its buttons under the input field, the small cards behind some
of them, and a kind answer to a greeting. A menu button works like its command, in any state (a
form that is open stays open, as it does for a command, unless the button starts another)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.inputs import Greeting, greeting
from bot.domain.party import registered_at
from bot.domain.people import Actor
from bot.services.desk import Desk
from bot.ui import menu
from bot.ui.menu import Item, MenuCb
from handlers import (
    activities,
    campaigns,
    households,
    lostfound,
    my_complaints,
    oversight,
    party,
    profile,
    reporting,
    topics,
)
from handlers.common import Opener, private_state
from handlers.onboarding import ask_compound


async def _lost_and_found(actor: Actor, desk: Desk, state: FSMContext) -> None:
    text, markup = menu.lostfound_card()
    await desk.outbox.send(actor.id, text, markup=markup)


async def _party(actor: Actor, desk: Desk, state: FSMContext) -> None:
    """A registered member gets the members' card; anyone else starts the registration."""
    if not registered_at(await desk.party.current(actor.id), actor.user.compound_id):
        await party.registration(actor, desk, state)
        return
    text, markup = menu.party_card()
    await desk.outbox.send(actor.id, text, markup=markup)


OPENS: dict[Item, Opener] = {
    Item.REPORT: reporting.report,
    Item.MY: my_complaints.my_reports,
    Item.LOSTFOUND: _lost_and_found,
    Item.PARTY: _party,
    Item.HELP: profile.show_help,
    Item.QUEUE: oversight.to_do,
    Item.STATS: oversight.statistics,
    Item.HOME: households.my_home,
    Item.HOUSEHOLDS: households.households_screen,
    Item.TOPICS: topics.topics_screen,
    Item.LOST: lostfound.report_lost,
    Item.FOUND: lostfound.report_found,
    Item.MINE: lostfound.my_items,
    Item.ACTIVITIES: activities.activities,
    Item.CHECKIN: activities.check_in,
    Item.CHECKOUT: activities.check_out,
    Item.RECORD: party.my_record,
    Item.REGISTRATION: party.registration,
    Item.PROFILE: profile.profile,
    Item.SUBSCRIBE: campaigns.subscribe,
    Item.UNSUBSCRIBE: campaigns.unsubscribe,
}
assert set(OPENS) == set(Item), "a menu item opens nothing"


def _pressed(message: Message) -> dict[str, Item] | bool:
    item = menu.pressed(message.text)
    return {"item": item} if item is not None else False


async def on_menu_text(
    message: Message, item: Item, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    await OPENS[item](actor, desk, state)


async def on_menu_button(
    callback: CallbackQuery, callback_data: MenuCb, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    await desk.outbox.answer_callback(actor.id, callback.id)
    await OPENS[callback_data.go](actor, desk, private_state(state, actor.id))


def _greeted(message: Message) -> dict[str, Greeting] | bool:
    found = greeting(message.text or "")
    return {"greeting": found} if found is not None else False


async def on_greeting(
    message: Message, greeting: Greeting, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    """ "你好", "在吗", "谢谢": not a problem to report. A kind word back, and the menu."""
    if greeting is Greeting.THANKS:
        text = _("You're welcome! Whenever you need something, tap a button below.")
    else:
        text = _(
            "Hello! I am the service desk of your compound. Tap a button below: report a "
            "problem, lost and found, party members… Or simply write your problem to me."
        )
    if actor.user.compound_id is None:
        await desk.outbox.send(actor.id, text)
        await ask_compound(actor.id, actor, desk.session, desk.outbox, state)
        return
    await desk.outbox.send(actor.id, text, markup=menu.keyboard(actor))


def private_router() -> Router:
    router = Router(name="menu")
    router.message.register(on_menu_text, F.text, _pressed)
    router.message.register(on_greeting, StateFilter(None), F.text, _greeted)
    router.callback_query.register(on_menu_button, MenuCb.filter())
    return router
