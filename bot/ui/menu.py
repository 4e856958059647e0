"""The main menu: big buttons under the input field, so that nothing a resident needs asks for a
Latin slash command. A menu button sends its label as text; `pressed` reads it back in either
language (a keyboard shown before a language switch still works)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot.domain.people import Actor
from bot.ui.keyboard import InlineKeyboardBuilder


class Item(StrEnum):
    """Everything a button of the menu (or of its small follow-up cards) opens."""

    REPORT = "report"
    MY = "my"
    LOSTFOUND = "lostfound"
    PARTY = "party"
    HELP = "help"
    QUEUE = "queue"
    STATS = "stats"
    HOME = "home"
    HOUSEHOLDS = "households"
    TOPICS = "topics"
    # behind the cards the main buttons show
    LOST = "lost"
    FOUND = "found"
    MINE = "mine"
    ACTIVITIES = "activities"
    CHECKIN = "checkin"
    CHECKOUT = "checkout"
    RECORD = "record"
    REGISTRATION = "registration"
    PROFILE = "profile"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


class MenuCb(CallbackData, prefix="mn"):
    go: Item


def N_(msgid: str) -> str:
    """Marks a text for translation that is translated later (Babel extracts N_ by default)."""
    return msgid


# The main buttons' labels (msgids: English; the Chinese is in bot/locales).
LABELS = {
    Item.REPORT: N_("📝 Tell us a problem"),
    Item.MY: N_("📋 My reports"),
    Item.LOSTFOUND: N_("🔍 Lost and found"),
    Item.PARTY: N_("🚩 Party members"),
    Item.HELP: N_("❓ Help"),
    Item.QUEUE: N_("📥 To do"),
    Item.STATS: N_("📊 Statistics"),
    Item.HOME: N_("🏠 My home"),
    Item.HOUSEHOLDS: N_("🏘 Households"),
    Item.TOPICS: N_("🏛 Deliberation hall"),
}
RESIDENT_ROWS = (
    (Item.REPORT,),
    (Item.MY, Item.LOSTFOUND),
    (Item.PARTY, Item.HOME),
    (Item.TOPICS, Item.HELP),
)
STAFF_ROW = (Item.QUEUE, Item.STATS, Item.HOUSEHOLDS)
CONTACT_ROW = (Item.HOUSEHOLDS,)


def keyboard(actor: Actor, *, staff: bool = False, contact: bool = False) -> ReplyKeyboardMarkup:
    """The main menu for this person: staff and administrators get their row too, household
    contacts theirs (`staff`, `contact`: one who has just joined, before their roles are read
    again)."""
    rows = list(RESIDENT_ROWS)
    if staff or actor.is_staff or actor.is_admin:
        rows.insert(1, STAFF_ROW)
    elif contact or actor.is_contact:
        rows.insert(1, CONTACT_ROW)
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_(LABELS[item])) for item in row] for row in rows],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=_("Tap a button, or write your problem"),
    )


@lru_cache(maxsize=4)
def _labels(i18n: I18n) -> dict[str, Item]:
    """Each main button's label, in every language, back to its item."""
    return {
        i18n.gettext(label, locale=locale): item
        for locale in i18n.available_locales
        for item, label in LABELS.items()
    }


def pressed(text: str | None) -> Item | None:
    """The menu button whose label this text is, in any language (None: it is not one)."""
    return _labels(get_i18n()).get(text.strip()) if text else None


def card(*items: tuple[str, Item], columns: int = 2) -> InlineKeyboardMarkup:
    """A small card of follow-up buttons under a message (lost and found, party members)."""
    builder = InlineKeyboardBuilder()
    for label, item in items:
        builder.button(text=label, callback_data=MenuCb(go=item))
    builder.adjust(columns)
    return builder.as_markup()


def lostfound_card() -> tuple[str, InlineKeyboardMarkup]:
    text = _("<b>Lost and found</b>\nDid you lose something, or find something?")
    markup = card(
        (_("😟 I lost something"), Item.LOST),
        (_("🙌 I found something"), Item.FOUND),
        (_("🗂 My lost and found reports"), Item.MINE),
        columns=2,
    )
    return text, markup


def party_card() -> tuple[str, InlineKeyboardMarkup]:
    text = _("<b>Party members</b>\nWhat would you like to do?")
    markup = card(
        (_("📅 Activities"), Item.ACTIVITIES),
        (_("📍 Check in on site"), Item.CHECKIN),
        (_("👋 Check out"), Item.CHECKOUT),
        (_("🏅 My service record"), Item.RECORD),
        (_("🪪 My registration (报到)"), Item.REGISTRATION),
    )
    return text, markup


def help_text(actor: Actor | None) -> str:
    """What the menu's buttons do; the few commands left are for staff."""
    lines = [
        _("<b>Last Meter (最后一米)</b> — your compound's service desk."),
        _("Tap the buttons below the input field; there is nothing to type:"),
        "",
        _(
            "📝 Tell us a problem — a broken light, rubbish not collected… (or simply write it to me)"
        ),
        _("📋 My reports — how far your reports have got"),
        _("🔍 Lost and found — you lost something, or found something"),
        _("🚩 Party members — registration (报到) where you live, activities, checking in"),
        _("🏠 My home — register your flat; your household and who votes for it"),
        _(
            "🏛 Deliberation hall — propose a matter of the compound, support others, vote for "
            "your household (/topics)"
        ),
        _("❓ Help — this page again"),
    ]
    if actor is not None and (actor.is_staff or actor.is_admin):
        lines += [
            "",
            _("<b>For staff</b>"),
            _("📥 To do — your unit's open tickets, overdue first"),
            _("📊 Statistics — rates and ranking (/stats [period] for another period)"),
            _("🏘 Households — flats registered, household contacts, claims to confirm"),
            _("Tickets for your unit arrive here as cards with buttons."),
            _(
                "Commands: /invite staff · /export ledgers · /bind a group (in the group) · "
                "/newactivity · /roster · /campaign · /campaigns · /stars"
            ),
        ]
    elif actor is not None and actor.is_contact:
        lines += [
            "",
            _("<b>For household contacts (党群中心户)</b>"),
            _("🏘 Households — your households, their open reports, claims to confirm"),
        ]
    if actor is not None and actor.is_admin:
        lines.append(_("/deadletters — what could not be delivered"))
    lines += ["", _("Below: your home compound, the language and campaign reminders.")]
    return "\n".join(lines)


def help_card(subscribed: bool) -> InlineKeyboardMarkup:
    reminders = (
        (_("🔕 Stop campaign reminders"), Item.UNSUBSCRIBE)
        if subscribed
        else (_("🔔 Campaign reminders here"), Item.SUBSCRIBE)
    )
    return card((_("🏠 My compound · 语言 Language"), Item.PROFILE), reminders, columns=1)
