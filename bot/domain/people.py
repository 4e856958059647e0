"""Users, staff memberships, invitations and group chats as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.org import StaffRole


@dataclass(frozen=True, slots=True)
class User:
    id: int
    first_name: str
    username: str | None
    language: str | None
    compound_id: int | None
    tg_language: str | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    unit_id: int
    role: StaffRole


class InviteOutcome(StrEnum):
    JOINED = "joined"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    unit_id: int
    role: StaffRole
    created_by: int
    expires_at: datetime
    used_by: int | None


class ChatPurpose(StrEnum):
    RESIDENTS = "residents"  # a compound's residents group
    ALERTS = "alerts"  # a unit's staff alert group


@dataclass(frozen=True, slots=True)
class GroupChat:
    id: int
    type: str
    title: str
    purpose: ChatPurpose | None
    unit_id: int | None
    active: bool


def invite_outcome(invite: Invite | None, *, now: datetime) -> InviteOutcome:
    """Why an invitation can or cannot be used now."""
    if invite is None:
        return InviteOutcome.UNKNOWN
    if invite.used_by is not None:
        return InviteOutcome.USED
    if invite.expires_at <= now:
        return InviteOutcome.EXPIRED
    return InviteOutcome.JOINED


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever sent the update being handled, with what they may do."""

    user: User
    memberships: tuple[Membership, ...]
    is_admin: bool
    locale: str
    is_contact: bool = False  # a household contact (党群中心户) of some building or stairwell

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def staff_unit_ids(self) -> tuple[int, ...]:
        return tuple(m.unit_id for m in self.memberships)

    @property
    def is_staff(self) -> bool:
        return bool(self.memberships)
