"""The clock sweep (督办): blue warnings, chasing overdue tickets up the chain, closing unrated ones.

Driven by the database, not by one-shot jobs: each ticket carries `next_check_at`, and each step is
a conditional update from the stage that was read, so a sweep that runs twice, or on two processes
at once, never chases twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority
from bot.domain.complaints import (
    Action,
    Complaint,
    Stage,
    Status,
    chased_unit,
    last_stage,
    stage_time,
    supervisors,
)
from bot.domain.errors import Stale
from bot.domain.org import Unit, UnitKind
from bot.services import households
from bot.services.complaints import close
from bot.services.desk import Desk, sweep_due
from bot.services.dispatch import deliver_cards, refresh_cards, remember_chats, tell_unit
from bot.services.matcher import Matcher
from bot.ui import complaints as ui
from bot.ui import households as households_ui
from storage.complaints import ComplaintRepo
from storage.db import Database, Session
from storage.units import UnitRepo

BATCH = 200


async def sweep(
    db: Database,
    clock: Clock,
    config: Config,
    matcher: Matcher,
    bot_username: str,
    limit: int = 10_000,
) -> int:
    """Take every ticket whose clock has reached its next step; returns how many steps were taken.

    Each ticket is its own transaction: one that fails is logged and left for the next sweep.
    """
    return await sweep_due(
        db,
        clock,
        config,
        matcher,
        bot_username,
        due=lambda session, now, n: ComplaintRepo(session).due(now, n),
        prepare=remember_units,
        step=step,
        batch=BATCH,
        limit=limit,
    )


async def remember_units(
    session: Session, due: Sequence[Complaint], memo: dict[tuple[str, int], Any]
) -> None:
    """What the steps of a sweep will ask of their units, read for all its tickets at once: each
    compound with the units around it, and each of those units' staff and alert groups (four reads
    a sweep, not up to six a ticket). A compound not found is left to its step to report."""
    unseen = sorted({c.compound_id for c in due if ("units", c.compound_id) not in memo})
    repo = UnitRepo(session)
    compounds = [u for u in (await repo.many(unseen)).values() if u.kind is UnitKind.COMPOUND]
    around = await repo.around_each(compounds)
    for compound_id, found in around.items():
        memo["units", compound_id] = found
    await remember_chats(session, [i for found in around.values() for i in found], memo)


async def step(desk: Desk, complaint: Complaint) -> bool:
    """One ticket's next clock step; False when another sweep took it first."""
    units = await desk.units_of(complaint)
    if complaint.status is Status.COMPLETED:
        try:
            await close(desk, complaint, units, None, rated_by=None)
        except Stale:
            return False
        return True
    if not complaint.is_open or complaint.due_at is None:
        return await desk.complaints.advance_stage(complaint, complaint.stage, None)
    holder = units[complaint.unit_id]
    chain = supervisors(holder, units)
    stage = complaint.stage + 1
    later = stage_time(complaint.window_start, complaint.due_at, stage + 1)
    if stage > last_stage(chain):
        return await desk.complaints.advance_stage(complaint, complaint.stage, None)
    if not await desk.complaints.advance_stage(
        complaint, stage, later if stage < last_stage(chain) else None
    ):
        return False
    moved = await desk.complaints.get(complaint.id)
    assert moved is not None
    if stage == Stage.WARNED:
        await _warn(desk, moved, units, holder)
    else:
        target = chased_unit(chain, stage)
        assert target is not None
        await _chase(desk, moved, units, holder, target)
    await refresh_cards(desk, moved, units)
    return True


async def _warn(desk: Desk, complaint: Complaint, units: Mapping[int, Unit], holder: Unit) -> None:
    assert complaint.due_at is not None
    zone = desk.config.bot.zone
    await desk.complaints.add_event(complaint.id, desk.now, Action.WARNED, from_unit=holder.id)
    await tell_unit(desk, holder, units, lambda locale: ui.nearly_due(complaint, zone, locale))


async def _chase(
    desk: Desk, complaint: Complaint, units: Mapping[int, Unit], holder: Unit, target: Unit
) -> None:
    """督办: the supervising unit gets the card (it may act on it), and the late unit is told."""
    assert complaint.due_at is not None
    zone = desk.config.bot.zone
    await desk.complaints.add_event(
        complaint.id, desk.now, Action.CHASED, from_unit=holder.id, to_unit=target.id
    )
    await deliver_cards(
        desk,
        complaint,
        units,
        target,
        lambda locale: ui.overdue_headline(complaint, units, holder.id, zone, locale),
    )
    await tell_unit(
        desk,
        holder,
        units,
        lambda locale: ui.overdue_notice(complaint, units, target.id, zone, locale),
    )
    await _tell_contacts(desk, complaint, units, holder)


async def _tell_contacts(
    desk: Desk, complaint: Complaint, units: Mapping[int, Unit], holder: Unit
) -> None:
    """The household contacts of the ticket's household get the escalation's copy: they know the
    resident, and may be the one who filed it for them."""
    contacts = await households.contacts_to_tell(desk, complaint)
    if not contacts:
        return
    flat = await households.repo(desk).flat(complaint.flat_id or 0)
    for user_id in contacts:
        locale = await desk.locale_of(user_id)
        await desk.outbox.send(
            user_id,
            households_ui.overdue_copy(complaint, flat, holder, desk.config.bot.zone, locale),
            priority=Priority.ALERT,
        )
