"""Lost and found as people read it: the buttons' callback data and the deep link, the names of
categories, places and states, the headline anyone may see, and the notices, match offers, claims
and relayed messages, each in the reader's language. Phone numbers are never shown."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.inputs import Id
from bot.domain.lostfound import (
    HELD_CHOICES,
    HELD_GATE,
    HELD_OFFICE,
    HELD_WITH_FINDER,
    Category,
    Claim,
    Item,
    Kind,
    Status,
)
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.notices import NoticeView

CLAIM_PREFIX = "lf_"  # the group notice's deep link: /start lf_<found id>


class LostAction(StrEnum):
    CLAIM = "c"  # id: the found item; arg: the claimant's lost report (0: none)
    APPROVE = "a"  # id: the claim
    DECLINE = "d"  # id: the claim
    CLOSE = "x"  # id: the reporter's own item
    EXTEND = "e"  # id: the reporter's own item
    MESSAGE = "m"  # id: an approved claim; a message to the other side


class LostCb(CallbackData, prefix="lf"):
    action: LostAction
    id: Id
    arg: Id = 0


# --- words ------------------------------------------------------------------------------------


def category_name(category: Category, locale: str | None = None) -> str:
    names = {
        Category.DOCUMENTS: _("Documents", locale=locale),
        Category.KEYS: _("Keys or access card", locale=locale),
        Category.PHONE: _("Phone or electronics", locale=locale),
        Category.WALLET: _("Wallet or cash", locale=locale),
        Category.PET: _("Pet", locale=locale),
        Category.BAG: _("Bag or clothing", locale=locale),
        Category.OTHER: _("Something else", locale=locale),
    }
    return names[category]


def kind_name(kind: Kind, locale: str | None = None) -> str:
    return _("Lost", locale=locale) if kind is Kind.LOST else _("Found", locale=locale)


def status_name(status: Status, locale: str | None = None) -> str:
    names = {
        Status.OPEN: _("open", locale=locale),
        Status.RETURNED: _("returned to its owner", locale=locale),
        Status.CLOSED: _("closed", locale=locale),
        Status.EXPIRED: _("expired", locale=locale),
    }
    return names[status]


def held_name(held_at: str, locale: str | None = None) -> str:
    names = {
        HELD_WITH_FINDER: _("with the finder", locale=locale),
        HELD_GATE: _("the gate house (门卫室)", locale=locale),
        HELD_OFFICE: _("the property service centre (物业服务中心)", locale=locale),
    }
    return names.get(held_at) or html.quote(held_at) or "—"


def public_held_name(held_at: str, locale: str | None = None) -> str:
    """Where a find is kept, as a group may read it: one of the buttons' places, never a place
    the finder wrote (it may be their home); that one the owner learns once the claim is approved.
    """
    if held_at in HELD_CHOICES:
        return held_name(held_at, locale)
    return _("with the finder (the owner is told where, once confirmed)", locale=locale)


def reference(item: Item) -> str:
    return f"{'L' if item.kind is Kind.LOST else 'F'}{item.id}"


def headline(item: Item, locale: str | None = None) -> str:
    """ "F12 · 手机/电子 · 中心花坛 · 2026-09-12": what may be shown to anyone."""
    return " · ".join(
        (
            f"<b>{reference(item)}</b>",
            category_name(item.category, locale),
            html.quote(item.place),
            item.day.isoformat(),
        )
    )


# --- keyboards --------------------------------------------------------------------------------


def claim_keyboard(found: Item, lost: Item | None, locale: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🙋 It is mine: {ref}", locale=locale).format(ref=reference(found)),
        callback_data=LostCb(action=LostAction.CLAIM, id=found.id, arg=lost.id if lost else 0),
    )
    return builder.as_markup()


def offer_keyboard(
    lost: Item, finds: Sequence[Item], locale: str | None = None
) -> InlineKeyboardMarkup:
    """One "it is mine" button for each find offered to the owner of `lost`."""
    builder = InlineKeyboardBuilder()
    for found in finds:
        builder.button(
            text=_("🙋 It is mine: {ref}", locale=locale).format(ref=reference(found)),
            callback_data=LostCb(action=LostAction.CLAIM, id=found.id, arg=lost.id),
        )
    builder.adjust(1)
    return builder.as_markup()


def notice_keyboard(found: Item, bot_username: str, locale: str | None) -> InlineKeyboardMarkup:
    """The group notice's button: a deep link to the private chat, where a claim stays private."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🙋 It is mine", locale=locale),
        url=f"https://t.me/{bot_username}?start={CLAIM_PREFIX}{found.id}",
    )
    return builder.as_markup()


def decision_keyboard(claim: Claim, locale: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Yes, give it back", locale=locale),
        callback_data=LostCb(action=LostAction.APPROVE, id=claim.id),
    )
    builder.button(
        text=_("✖ No, it does not fit", locale=locale),
        callback_data=LostCb(action=LostAction.DECLINE, id=claim.id),
    )
    builder.adjust(1)
    return builder.as_markup()


def relay_keyboard(claim: Claim, locale: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("💬 Send a message", locale=locale),
        callback_data=LostCb(action=LostAction.MESSAGE, id=claim.id),
    )
    return builder.as_markup()


def keep_keyboard(item: Item, locale: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⏳ Keep it open 30 more days", locale=locale),
        callback_data=LostCb(action=LostAction.EXTEND, id=item.id),
    )
    builder.button(
        text=_("✔ Close it", locale=locale),
        callback_data=LostCb(action=LostAction.CLOSE, id=item.id),
    )
    builder.adjust(1)
    return builder.as_markup()


# --- filing -----------------------------------------------------------------------------------


def found_filed_text(found: Item, told: int, locale: str | None = None) -> str:
    """To the finder, once the find is filed and `told` possible owners heard of it."""
    return _(
        "Thank you! Filed as <b>{ref}</b>. I told {count} possible owner(s); when someone "
        "claims it, I will ask you to check their description.",
        locale=locale,
    ).format(ref=reference(found), count=told)


def lost_filed_text(lost: Item, finds: Sequence[Item], locale: str | None = None) -> str:
    """To the owner, once the loss is filed: with the finds that may be theirs, best first."""
    lines = [
        _(
            "Filed as <b>{ref}</b>. I will tell you when something like it is found.",
            locale=locale,
        ).format(ref=reference(lost))
    ]
    if not finds:
        return "\n".join(lines)
    lines += ["", _("These found items may be yours (best first):", locale=locale)]
    lines += ["• " + headline(found, locale) for found in finds]
    lines.append(
        _(
            "If one is yours, tap it and tell me a detail only the owner would know.",
            locale=locale,
        )
    )
    return "\n".join(lines)


def match_text(lost: Item, found: Item, locale: str | None) -> str:
    """To the owner of `lost`, when a find like it is filed."""
    return _(
        "🔔 Something like what you lost ({lost}) was found:\n{found}\nIf it is yours, "
        "tap below and tell me a detail only the owner would know.",
        locale=locale,
    ).format(lost=reference(lost), found=headline(found, locale))


def notice_text(found: Item, locale: str | None) -> str:
    """The residents group's notice of a find: category, place, holder; no detail."""
    return _(
        "📢 Found ({ref}): {category}\nWhere: {place}\nHeld: {held}\nIf it is yours, tap the "
        "button and tell me a detail only the owner would know.",
        locale=locale,
    ).format(
        ref=reference(found),
        category=category_name(found.category, locale),
        place=html.quote(found.place),
        held=public_held_name(found.held_at, locale),
    )


def closed_notice_text(found: Item, locale: str | None) -> str:
    """The notice once the find is no longer open: what it was, and what became of it; no
    button (a claim would lead nowhere), nobody's name."""
    outcome = {
        Status.RETURNED: _("✅ Returned to its owner.", locale=locale),
        Status.EXPIRED: _("⌛ Expired: nobody claimed it.", locale=locale),
        Status.CLOSED: _("✔ Withdrawn by the finder.", locale=locale),
    }
    head = _("📢 Found ({ref}): {category}\nWhere: {place}", locale=locale).format(
        ref=reference(found),
        category=category_name(found.category, locale),
        place=html.quote(found.place),
    )
    return f"{head}\n{outcome.get(found.status, '')}".rstrip()


def notice_view(found: Item, bot_username: str, locale: str) -> NoticeView:
    """The group notice as the find stands now: open, with the claim button; else closed."""
    if found.is_open:
        return NoticeView(notice_text(found, locale), notice_keyboard(found, bot_username, locale))
    return NoticeView(closed_notice_text(found, locale))


# --- claims -----------------------------------------------------------------------------------


def claim_text(found: Item, detail: str, locale: str | None) -> str:
    """To the finder: someone says the find is theirs, with the detail they gave."""
    return _(
        "🙋 Someone says the item you found is theirs:\n{found}\nYour description: {text}\n"
        "Their detail: “{detail}”\nDoes it fit? Only if you say yes will I give them where "
        "to pick it up.",
        locale=locale,
    ).format(
        found=headline(found, locale),
        text=html.quote(found.text),
        detail=html.quote(detail),
    )


def declined_text(found: Item, locale: str | None) -> str:
    return _(
        "Sorry: the finder of {ref} says your detail does not fit that item. If you "
        "think this is a mistake, please ask at your community service centre.",
        locale=locale,
    ).format(ref=reference(found))


def approved_owner_text(found: Item, finder: str, locale: str | None) -> str:
    """To the owner, once the finder confirmed: where to pick it up; `finder`: a first name."""
    return _(
        "✅ The finder confirmed that {ref} is yours.\nPick it up at: {place}\nThe finder: "
        "{finder}\nUse the button to send them a message through me (no phone numbers "
        "needed). Your report is closed. Glad it turned up!",
        locale=locale,
    ).format(
        ref=reference(found), place=held_name(found.held_at, locale), finder=html.quote(finder)
    )


def approved_finder_text(found: Item, owner: str, locale: str | None) -> str:
    """To the finder, once they confirmed; `owner`: a first name."""
    return _(
        "✅ Thank you! {owner} will come for {ref} at: {place}. Both reports are closed. "
        "Use the button to send them a message through me.",
        locale=locale,
    ).format(owner=html.quote(owner), ref=reference(found), place=held_name(found.held_at, locale))


def relayed_text(sender: str, found: Item, text: str, locale: str | None) -> str:
    """A message passed between the finder and the owner; `sender`: a first name."""
    return _("💬 {name} about {ref}: {text}", locale=locale).format(
        name=html.quote(sender), ref=reference(found), text=html.quote(text)
    )


def claim_cancelled_text(item: Item, locale: str | None) -> str:
    return _(
        "The report {ref} you claimed was closed before the finder answered. If you still "
        "miss the item, please ask at your community service centre.",
        locale=locale,
    ).format(ref=reference(item))


# --- the sweep ----------------------------------------------------------------------------------


def reminder_text(item: Item, zone: ZoneInfo, locale: str | None) -> str:
    return _(
        "⏰ Your report {item} closes on {day}. Still open? Keep it for 30 more days, or "
        "close it if it is settled.",
        locale=locale,
    ).format(
        item=headline(item, locale),
        day=item.expires_at.astimezone(zone).date().isoformat(),
    )


def expired_text(item: Item, locale: str | None) -> str:
    again = "/lost" if item.kind is Kind.LOST else "/found"
    return _(
        "Your report {item} was open for 30 days and is now closed. You can file it again "
        "with {command}.",
        locale=locale,
    ).format(item=headline(item, locale), command=again)
