"""Lost and found: filing a report, telling likely owners, claims, the group notice, closing,
extending, and the sweep that reminds and expires. Messages to others go through the outbox in
the recipient's language; phone numbers are never asked for nor shown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority
from bot.domain.errors import NotAllowed, NotFound, Reason
from bot.domain.households import MAX_NAME
from bot.domain.lostfound import (
    EXPIRY,
    REMIND_BEFORE,
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
from bot.services import households, notices
from bot.services.desk import Desk, open_desk
from bot.services.matcher import Matcher
from bot.ui import lostfound as ui
from storage.db import Database
from storage.lostfound import LostFoundRepo, NewItem
from storage.notices import NoticeKind

log = logging.getLogger(__name__)

# --- filing -----------------------------------------------------------------------------------


async def file_report(desk: Desk, actor: Actor, draft: Draft) -> Item:
    """Save a finished draft, tell likely owners (never the finder's words), announce if asked."""
    assert draft.category is not None and draft.day is not None
    units = desk.units
    compound = await units.get(draft.compound_id)
    if compound is None or compound.kind is not UnitKind.COMPOUND:
        raise NotFound(Reason.NO_COMPOUND, f"compound {draft.compound_id}", ends_conversation=True)
    above = await units.many(compound.ancestor_ids)
    proxy_for = draft.proxy_for[:MAX_NAME] if draft.proxy_for else None
    flat_id = (
        (await households.check_proxy(desk, actor, draft.flat_id or 0)).id if proxy_for else None
    )
    await desk.matcher.refresh(desk.lostfound, desk.now)  # before the insert: committed ones only
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
            proxy_for=proxy_for,
            flat_id=flat_id,
        ),
        desk.now,
    )
    matches = await desk.matcher.candidates(desk.lostfound, item)
    if item.kind is Kind.LOST:
        await _offer_found(desk, actor, item, matches)
    else:
        told = await _tell_owners(desk, item, matches)
        await desk.outbox.send(actor.id, ui.found_filed_text(item, told, actor.locale))
        if item.announce:
            await announce(desk, item)
    return item


async def _offer_found(
    desk: Desk, actor: Actor, lost: Item, matches: list[tuple[Item, float]]
) -> None:
    finds = [found for found, _score in matches]
    text = ui.lost_filed_text(lost, finds, actor.locale)
    if not matches:
        await desk.outbox.send(actor.id, text)
        return
    for found, score in matches:
        await desk.lostfound.record_match(lost.id, found.id, score, desk.now)
    await desk.outbox.send(actor.id, text, markup=ui.offer_keyboard(lost, finds, actor.locale))


async def _tell_owners(desk: Desk, found: Item, matches: list[tuple[Item, float]]) -> int:
    for lost, score in matches:  # the find is new: no pair with it was told before
        await desk.lostfound.record_match(lost.id, found.id, score, desk.now)
        locale = await desk.locale_of(lost.reporter_id)
        await desk.outbox.send(
            lost.reporter_id,
            ui.match_text(lost, found, locale),
            markup=ui.claim_keyboard(found, lost, locale),
            priority=Priority.ALERT,
        )
    return len(matches)


async def announce(desk: Desk, found: Item) -> None:
    """The compound's residents groups hear of the find: category, place, holder; no detail.
    Each notice is remembered, to be edited once the find is returned, withdrawn or expires."""
    groups = await desk.chats.bound_to(found.compound_id, ChatPurpose.RESIDENTS)
    locale = desk.config.bot.default_language
    view = ui.notice_view(found, desk.bot_username, locale)
    for group in groups:
        if group.active:
            await notices.post(desk, NoticeKind.FOUND, found.id, group.id, locale, view)


async def refresh_notices(desk: Desk, item_id: int) -> int:
    """Edit the find's group notices to show what became of it (no claim button once it is
    closed); nothing when they show it already. Returns the edits written."""
    item = await desk.lostfound.get(item_id)
    if item is None or item.kind is not Kind.FOUND:
        return 0
    return await notices.refresh(
        desk,
        NoticeKind.FOUND,
        item.id,
        lambda locale: ui.notice_view(item, desk.bot_username, locale),
    )


# --- claims -----------------------------------------------------------------------------------


async def claimable(desk: Desk, actor: Actor, found_id: int) -> Item:
    """The found item `actor` may claim now, or NotAllowed(ClaimRefusal) / NotFound."""
    item = await desk.lostfound.get(found_id)
    if item is None:
        raise NotFound(Reason.GONE_ITEM, f"item {found_id}")
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
        ui.claim_text(found, detail, locale),
        markup=ui.decision_keyboard(claim, locale),
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
        raise NotFound(Reason.GONE_ITEM, f"claim {claim_id}")
    if found.reporter_id != actor.id:
        raise NotAllowed(Reason.NOT_CLAIM_PARTY, "not the finder")
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
            ui.declined_text(found, claimant_locale),
            priority=Priority.ALERT,
        )
        return Decision(claim, found, approved=False)
    await desk.lostfound.close(found.id, Status.RETURNED, desk.now)
    if claim.lost_id is not None:
        await desk.lostfound.close(claim.lost_id, Status.RETURNED, desk.now)
    await refresh_notices(desk, found.id)
    finder, finder_locale = await desk.person(found.reporter_id)
    await desk.outbox.send(
        claim.claimant_id,
        ui.approved_owner_text(found, finder, claimant_locale),
        markup=ui.relay_keyboard(claim, claimant_locale),
        priority=Priority.ALERT,
    )
    if found.photo:
        await desk.outbox.send_photo(
            claim.claimant_id, found.photo, ui.reference(found), priority=Priority.ALERT
        )
    await desk.outbox.send(
        found.reporter_id,
        ui.approved_finder_text(found, owner, finder_locale),
        markup=ui.relay_keyboard(claim, finder_locale),
        priority=Priority.ALERT,
    )
    return Decision(claim, found, approved=True)


async def relay_target(desk: Desk, actor: Actor, claim_id: int) -> tuple[Claim, Item, int]:
    """Who `actor` may write to about an approved claim: the finder or the owner, nobody else."""
    claim = await desk.lostfound.claim(claim_id)
    found = await desk.lostfound.get(claim.found_id) if claim else None
    if claim is None or found is None or claim.status is not ClaimStatus.APPROVED:
        raise NotFound(Reason.GONE_ITEM, f"claim {claim_id}")
    if actor.id == claim.claimant_id:
        return claim, found, found.reporter_id
    if actor.id == found.reporter_id:
        return claim, found, claim.claimant_id
    raise NotAllowed(Reason.NOT_CLAIM_PARTY)


async def relay(desk: Desk, actor: Actor, claim_id: int, text: str) -> None:
    claim, found, to = await relay_target(desk, actor, claim_id)
    locale = await desk.locale_of(to)
    await desk.outbox.send(
        to,
        ui.relayed_text(actor.user.first_name, found, text, locale),
        markup=ui.relay_keyboard(claim, locale),
        priority=Priority.ALERT,
    )


# --- the reporter's own reports -----------------------------------------------------------------


async def own_item(desk: Desk, actor: Actor, item_id: int) -> Item:
    item = await desk.lostfound.get(item_id)
    if item is None or item.reporter_id != actor.id:
        raise NotFound(Reason.GONE_ITEM, f"item {item_id}")
    return item


async def close(desk: Desk, actor: Actor, item_id: int) -> Item:
    item = await own_item(desk, actor, item_id)
    if not await desk.lostfound.close(item.id, Status.CLOSED, desk.now):
        raise NotAllowed(ClaimRefusal.CLOSED)
    await _cancel_pending(desk, item)
    await refresh_notices(desk, item.id)
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
        ui.claim_cancelled_text(item, locale),
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
                    await refresh_notices(desk, current.id)
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
        ui.reminder_text(item, desk.config.bot.zone, locale),
        markup=ui.keep_keyboard(item, locale),
        priority=Priority.ALERT,
    )


async def _tell_expired(desk: Desk, item: Item) -> None:
    locale = await desk.locale_of(item.reporter_id)
    await desk.outbox.send(
        item.reporter_id,
        ui.expired_text(item, locale),
        priority=Priority.ALERT,
    )
