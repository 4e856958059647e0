"""Lost and found: filing a report, telling likely owners, claims, the group notice, closing,
extending, and the sweep that reminds and expires. Messages to others go through the outbox in
the recipient's language; phone numbers are never asked for nor shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority
from bot.domain.errors import NotAllowed, NotFound
from bot.domain.inputs import Id
from bot.domain.lostfound import (
    EXPIRY,
    HELD_CHOICES,
    HELD_GATE,
    HELD_OFFICE,
    HELD_WITH_FINDER,
    REMIND_BEFORE,
    Category,
    Claim,
    ClaimRefusal,
    ClaimStatus,
    Draft,
    Item,
    Kind,
    Status,
    check_claim,
    expired,
    extended,
    reminder_due,
)
from bot.domain.org import UnitKind
from bot.domain.people import Actor, ChatPurpose
from bot.services.desk import Desk, open_desk
from bot.services.matcher import Matcher
from storage.db import Database
from storage.lostfound import LostFoundRepo, NewItem

log = logging.getLogger(__name__)

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


def claim_keyboard(found: Item, lost: Item | None, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🙋 It is mine: {ref}", locale=locale).format(ref=reference(found)),
        callback_data=LostCb(action=LostAction.CLAIM, id=found.id, arg=lost.id if lost else 0),
    )
    return builder.as_markup()


def decision_keyboard(claim: Claim, locale: str) -> InlineKeyboardMarkup:
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


def relay_keyboard(claim: Claim, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("💬 Send a message", locale=locale),
        callback_data=LostCb(action=LostAction.MESSAGE, id=claim.id),
    )
    return builder.as_markup()


def keep_keyboard(item: Item, locale: str) -> InlineKeyboardMarkup:
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


async def file_report(desk: Desk, actor: Actor, draft: Draft) -> Item:
    """Save a finished draft, tell likely owners (never the finder's words), announce if asked."""
    assert draft.category is not None and draft.day is not None
    units = desk.units
    compound = await units.get(draft.compound_id)
    if compound is None or compound.kind is not UnitKind.COMPOUND:
        raise NotFound(f"compound {draft.compound_id}")
    above = await units.many(compound.ancestor_ids)
    await desk.matcher.refresh(
        desk.lostfound, desk.now
    )  # before the insert: committed reports only
    community = next((u for u in above.values() if u.kind is UnitKind.COMMUNITY), compound)
    subdistrict = next((u for u in above.values() if u.kind is UnitKind.SUBDISTRICT), community)
    item = await desk.lostfound.create(
        NewItem(
            kind=draft.kind,
            reporter_id=actor.id,
            compound_id=compound.id,
            community_id=community.id,
            subdistrict_id=subdistrict.id,
            category=draft.category,
            text=draft.text,
            place=draft.place,
            day=draft.day,
            photo=draft.photo,
            held_at=draft.held_at if draft.kind is Kind.FOUND else "",
            announce=bool(draft.announce) and draft.kind is Kind.FOUND,
            expires_at=desk.now + EXPIRY,
        ),
        desk.now,
    )
    matches = await desk.matcher.candidates(desk.lostfound, item)
    if item.kind is Kind.LOST:
        await _offer_found(desk, actor, item, matches)
    else:
        told = await _tell_owners(desk, item, matches)
        await desk.outbox.send(
            actor.id,
            _(
                "Thank you! Filed as <b>{ref}</b>. I told {count} possible owner(s); when someone "
                "claims it, I will ask you to check their description."
            ).format(ref=reference(item), count=told),
        )
        if item.announce:
            await announce(desk, item)
    return item


async def _offer_found(
    desk: Desk, actor: Actor, lost: Item, matches: list[tuple[Item, float]]
) -> None:
    lines = [
        _("Filed as <b>{ref}</b>. I will tell you when something like it is found.").format(
            ref=reference(lost)
        )
    ]
    if not matches:
        await desk.outbox.send(actor.id, "\n".join(lines))
        return
    lines += ["", _("These found items may be yours (best first):")]
    builder = InlineKeyboardBuilder()
    for found, score in matches:
        lines.append("• " + headline(found, actor.locale))
        builder.button(
            text=_("🙋 It is mine: {ref}").format(ref=reference(found)),
            callback_data=LostCb(action=LostAction.CLAIM, id=found.id, arg=lost.id),
        )
        await desk.lostfound.record_match(lost.id, found.id, score, desk.now)
    lines.append(_("If one is yours, tap it and tell me a detail only the owner would know."))
    builder.adjust(1)
    await desk.outbox.send(actor.id, "\n".join(lines), markup=builder.as_markup())


def _claim_cb(found_id: int, lost_id: int) -> str:
    return LostCb(action=LostAction.CLAIM, id=found_id, arg=lost_id).pack()


async def _tell_owners(desk: Desk, found: Item, matches: list[tuple[Item, float]]) -> int:
    for lost, score in matches:  # the find is new: no pair with it was told before
        await desk.lostfound.record_match(lost.id, found.id, score, desk.now)
        locale = await desk.locale_of(lost.reporter_id)
        text = _(
            "🔔 Something like what you lost ({lost}) was found:\n{found}\nIf it is yours, "
            "tap below and tell me a detail only the owner would know.",
            locale=locale,
        ).format(lost=reference(lost), found=headline(found, locale))
        await desk.outbox.send(
            lost.reporter_id,
            text,
            markup=claim_keyboard(found, lost, locale),
            priority=Priority.ALERT,
        )
    return len(matches)


async def announce(desk: Desk, found: Item) -> None:
    """The compound's residents groups hear of the find: category, place, holder; no detail."""
    groups = await desk.chats.bound_to(found.compound_id, ChatPurpose.RESIDENTS)
    link = f"https://t.me/{desk.bot_username}?start={CLAIM_PREFIX}{found.id}"
    locale = desk.config.bot.default_language
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🙋 It is mine", locale=locale), url=link)
    text = _(
        "📢 Found ({ref}): {category}\nWhere: {place}\nHeld: {held}\nIf it is yours, tap the "
        "button and tell me a detail only the owner would know.",
        locale=locale,
    ).format(
        ref=reference(found),
        category=category_name(found.category, locale),
        place=html.quote(found.place),
        held=public_held_name(found.held_at, locale),
    )
    for group in groups:
        if group.active:
            await desk.outbox.send(
                group.id, text, markup=builder.as_markup(), priority=Priority.BROADCAST
            )


# --- claims -----------------------------------------------------------------------------------


async def claimable(desk: Desk, actor: Actor, found_id: int) -> Item:
    """The found item `actor` may claim now, or NotAllowed(ClaimRefusal) / NotFound."""
    item = await desk.lostfound.get(found_id)
    if item is None:
        raise NotFound(f"item {found_id}")
    check_claim(item, actor.id, await desk.lostfound.claims_on(item.id))
    return item


async def submit_claim(
    desk: Desk, actor: Actor, found_id: int, lost_id: int | None, detail: str
) -> Claim:
    found = await claimable(desk, actor, found_id)
    lost = await desk.lostfound.get(lost_id) if lost_id else None
    if lost is None or lost.reporter_id != actor.id or not lost.is_open:
        lost = await desk.lostfound.matched_lost(found.id, actor.id)
    claim = await desk.lostfound.add_claim(
        found.id, lost.id if lost else None, actor.id, detail, desk.now
    )
    if not await desk.lostfound.hold_for_claim(found.id, claim.id):
        await desk.lostfound.decide(claim.id, ClaimStatus.CANCELLED, desk.now)
        raise NotAllowed(ClaimRefusal.PENDING)
    locale = await desk.locale_of(found.reporter_id)
    await desk.outbox.send(
        found.reporter_id,
        _(
            "🙋 Someone says the item you found is theirs:\n{found}\nYour description: {text}\n"
            "Their detail: “{detail}”\nDoes it fit? Only if you say yes will I give them where "
            "to pick it up.",
            locale=locale,
        ).format(
            found=headline(found, locale),
            text=html.quote(found.text),
            detail=html.quote(detail),
        ),
        markup=decision_keyboard(claim, locale),
        priority=Priority.ALERT,
    )
    return claim


@dataclass(frozen=True, slots=True)
class Decision:
    claim: Claim
    found: Item
    approved: bool


async def decide(desk: Desk, actor: Actor, claim_id: int, approve: bool) -> Decision:
    """The finder approves or declines a claim; on approval both reports close and both
    people get the pickup details, relayed by the bot."""
    claim = await desk.lostfound.claim(claim_id)
    found = await desk.lostfound.get(claim.found_id) if claim else None
    if claim is None or found is None:
        raise NotFound(f"claim {claim_id}")
    if found.reporter_id != actor.id:
        raise NotAllowed("not the finder")
    status = ClaimStatus.APPROVED if approve else ClaimStatus.DECLINED
    if claim.status is not ClaimStatus.PENDING or not await desk.lostfound.decide(
        claim.id, status, desk.now
    ):
        raise NotAllowed(ClaimRefusal.CLOSED)
    owner, claimant_locale = await desk.person(claim.claimant_id)
    if not approve:
        await desk.lostfound.release_claim(found.id, claim.id)
        await desk.outbox.send(
            claim.claimant_id,
            _(
                "Sorry: the finder of {ref} says your detail does not fit that item. If you "
                "think this is a mistake, please ask at your community service centre.",
                locale=claimant_locale,
            ).format(ref=reference(found)),
            priority=Priority.ALERT,
        )
        return Decision(claim, found, approved=False)
    await desk.lostfound.close(found.id, Status.RETURNED, desk.now)
    if claim.lost_id is not None:
        await desk.lostfound.close(claim.lost_id, Status.RETURNED, desk.now)
    finder, finder_locale = await desk.person(found.reporter_id)
    await desk.outbox.send(
        claim.claimant_id,
        _(
            "✅ The finder confirmed that {ref} is yours.\nPick it up at: {place}\nThe finder: "
            "{finder}\nUse the button to send them a message through me (no phone numbers "
            "needed). Your report is closed. Glad it turned up!",
            locale=claimant_locale,
        ).format(
            ref=reference(found), place=held_name(found.held_at, claimant_locale), finder=finder
        ),
        markup=relay_keyboard(claim, claimant_locale),
        priority=Priority.ALERT,
    )
    if found.photo:
        await desk.outbox.send_photo(
            claim.claimant_id, found.photo, reference(found), priority=Priority.ALERT
        )
    await desk.outbox.send(
        found.reporter_id,
        _(
            "✅ Thank you! {owner} will come for {ref} at: {place}. Both reports are closed. "
            "Use the button to send them a message through me.",
            locale=finder_locale,
        ).format(owner=owner, ref=reference(found), place=held_name(found.held_at, finder_locale)),
        markup=relay_keyboard(claim, finder_locale),
        priority=Priority.ALERT,
    )
    return Decision(claim, found, approved=True)


async def relay_target(desk: Desk, actor: Actor, claim_id: int) -> tuple[Claim, Item, int]:
    """Who `actor` may write to about an approved claim: the finder or the owner, nobody else."""
    claim = await desk.lostfound.claim(claim_id)
    found = await desk.lostfound.get(claim.found_id) if claim else None
    if claim is None or found is None or claim.status is not ClaimStatus.APPROVED:
        raise NotFound(f"claim {claim_id}")
    if actor.id == claim.claimant_id:
        return claim, found, found.reporter_id
    if actor.id == found.reporter_id:
        return claim, found, claim.claimant_id
    raise NotAllowed("not a party to the claim")


async def relay(desk: Desk, actor: Actor, claim_id: int, text: str) -> None:
    claim, found, to = await relay_target(desk, actor, claim_id)
    locale = await desk.locale_of(to)
    await desk.outbox.send(
        to,
        _("💬 {name} about {ref}: {text}", locale=locale).format(
            name=html.quote(actor.user.first_name), ref=reference(found), text=html.quote(text)
        ),
        markup=relay_keyboard(claim, locale),
        priority=Priority.ALERT,
    )


# --- the reporter's own reports -----------------------------------------------------------------


async def own_item(desk: Desk, actor: Actor, item_id: int) -> Item:
    item = await desk.lostfound.get(item_id)
    if item is None or item.reporter_id != actor.id:
        raise NotFound(f"item {item_id}")
    return item


async def close(desk: Desk, actor: Actor, item_id: int) -> Item:
    item = await own_item(desk, actor, item_id)
    if not await desk.lostfound.close(item.id, Status.CLOSED, desk.now):
        raise NotAllowed(ClaimRefusal.CLOSED)
    await _cancel_pending(desk, item)
    return item


async def extend(desk: Desk, actor: Actor, item_id: int) -> datetime:
    item = await own_item(desk, actor, item_id)
    until = extended(item, desk.now)
    if not await desk.lostfound.extend(item.id, until):
        raise NotAllowed(ClaimRefusal.CLOSED)
    return until


async def _cancel_pending(desk: Desk, item: Item) -> None:
    """A claim still waiting on an item that closed or expired: the claimant hears of it."""
    if item.pending_claim_id is None:
        return
    claim = await desk.lostfound.claim(item.pending_claim_id)
    if claim is None or not await desk.lostfound.decide(claim.id, ClaimStatus.CANCELLED, desk.now):
        return
    locale = await desk.locale_of(claim.claimant_id)
    await desk.outbox.send(
        claim.claimant_id,
        _(
            "The report {ref} you claimed was closed before the finder answered. If you still "
            "miss the item, please ask at your community service centre.",
            locale=locale,
        ).format(ref=reference(item)),
        priority=Priority.ALERT,
    )


# --- the sweep ----------------------------------------------------------------------------------


async def sweep(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """Remind reporters 3 days before expiry and expire what is due; one transaction per report,
    each step conditional, so a second sweep (or a second process) changes nothing."""
    now = clock.now()
    async with db.read() as session:
        due = await LostFoundRepo(session).due(now, now + REMIND_BEFORE)
    steps = 0
    for item in due:
        async with open_desk(db, clock, config, matcher, bot_username) as desk:
            current = await desk.lostfound.get(item.id)
            if current is None:
                continue
            if expired(current, desk.now):
                if await desk.lostfound.close(current.id, Status.EXPIRED, desk.now):
                    await _cancel_pending(desk, current)
                    await _tell_expired(desk, current)
                    steps += 1
            elif reminder_due(current, desk.now) and await desk.lostfound.mark_reminded(
                current.id, desk.now
            ):
                await _remind(desk, current)
                steps += 1
    return steps


async def _remind(desk: Desk, item: Item) -> None:
    locale = await desk.locale_of(item.reporter_id)
    await desk.outbox.send(
        item.reporter_id,
        _(
            "⏰ Your report {item} closes on {day}. Still open? Keep it for 30 more days, or "
            "close it if it is settled.",
            locale=locale,
        ).format(
            item=headline(item, locale),
            day=item.expires_at.astimezone(desk.config.bot.zone).date().isoformat(),
        ),
        markup=keep_keyboard(item, locale),
        priority=Priority.ALERT,
    )


async def _tell_expired(desk: Desk, item: Item) -> None:
    locale = await desk.locale_of(item.reporter_id)
    again = "/lost" if item.kind is Kind.LOST else "/found"
    await desk.outbox.send(
        item.reporter_id,
        _(
            "Your report {item} was open for 30 days and is now closed. You can file it again "
            "with {command}.",
            locale=locale,
        ).format(item=headline(item, locale), command=again),
        priority=Priority.ALERT,
    )
