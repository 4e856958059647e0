"""Staff invitations: a one-time deep link for a unit and a role, made by an admin or a parent unit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.outbox import Outbox, Priority
from bot.domain.errors import NotAllowed, NotFound, Reason
from bot.domain.org import StaffRole, Unit, is_within, may_invite, sort_units
from bot.domain.people import Actor, Invite, InviteOutcome, invite_outcome
from bot.i18n import resolve_locale
from bot.ui import invites as ui
from storage.db import Session
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo


@dataclass(frozen=True, slots=True)
class Joined:
    outcome: InviteOutcome
    unit: Unit | None = None
    role: StaffRole | None = None


async def starting_points(session: Session, actor: Actor) -> list[Unit]:
    """Where an inviter starts browsing: the tree's roots for admins, their own units for staff."""
    repo = UnitRepo(session)
    if actor.is_admin:
        return await repo.children(None)
    return sort_units(list((await repo.many(actor.staff_unit_ids)).values()))


async def browse(session: Session, actor: Actor, unit_id: int) -> tuple[Unit, list[Unit], bool]:
    """A unit the actor may look into, its children, and whether the actor may invite to it."""
    unit = await UnitRepo(session).get(unit_id)
    if unit is None:
        raise NotFound(Reason.NOT_INVITER, str(unit_id))
    if not actor.is_admin and not any(is_within(unit, uid) for uid in actor.staff_unit_ids):
        raise NotAllowed(Reason.NOT_INVITER, str(unit_id))
    children = await UnitRepo(session).children(unit.id)
    allowed = may_invite(is_admin=actor.is_admin, staff_unit_ids=actor.staff_unit_ids, target=unit)
    return unit, children, allowed


async def make_invite(
    session: Session,
    actor: Actor,
    unit_id: int,
    role: StaffRole,
    now: datetime,
    ttl: timedelta,
) -> tuple[Invite, Unit]:
    unit = await UnitRepo(session).get(unit_id)
    if unit is None:
        raise NotFound(Reason.NOT_INVITER, str(unit_id))
    if not may_invite(is_admin=actor.is_admin, staff_unit_ids=actor.staff_unit_ids, target=unit):
        raise NotAllowed(Reason.NOT_INVITER, str(unit_id))
    code = secrets.token_urlsafe(12)
    await StaffRepo(session).create_invite(code, unit.id, role, actor.id, now, now + ttl)
    invite = Invite(code, unit.id, role, actor.id, now + ttl, None)
    return invite, unit


async def join(
    session: Session,
    outbox: Outbox,
    actor: Actor,
    code: str,
    now: datetime,
    default_locale: str,
) -> Joined:
    """Use an invitation: the actor becomes staff of its unit; the inviter is told."""
    staff = StaffRepo(session)
    invite = await staff.invite(code)
    outcome = invite_outcome(invite, now=now)
    if invite is None or outcome is not InviteOutcome.JOINED:
        return Joined(outcome)
    if not await staff.use_invite(code, actor.id, now):
        return Joined(InviteOutcome.USED)
    unit = await UnitRepo(session).get(invite.unit_id)
    if unit is None:
        return Joined(InviteOutcome.UNKNOWN)
    await staff.add(actor.id, unit.id, invite.role, invite.created_by, now)
    inviter = await UserRepo(session).get(invite.created_by)
    if inviter is not None and inviter.id != actor.id:
        locale = resolve_locale(inviter.language, inviter.tg_language, default_locale)
        await outbox.send(
            inviter.id,
            ui.joined_text(actor.user.first_name, invite.role, unit, locale),
            priority=Priority.ALERT,
        )
    return Joined(InviteOutcome.JOINED, unit, invite.role)
