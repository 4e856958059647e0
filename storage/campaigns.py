"""Campaigns, their slots and the reminders fanned out. A slot is recorded once (its key), each
(campaign, slot, chat) reminder once (its key), and every state change is conditional, so a sweep
that runs twice, or on two processes, or after a kill, writes nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, insert, or_, select, update

from bot.domain.campaigns import Campaign, CampaignStatus, SlotStatus
from bot.domain.people import ChatPurpose
from storage.db import Session
from storage.tables import (
    activities,
    attendance,
    campaign_sends,
    campaign_slots,
    campaigns,
    chats,
    complaints,
    outbox,
    subscriptions,
    units,
    users,
)


def _campaign(row: Row[Any]) -> Campaign:
    m = row._mapping
    return Campaign(
        id=m["id"],
        title=m["title"],
        text=m["text"],
        photo=m["photo"],
        scope_id=m["scope_id"],
        schedule=m["schedule"],
        starts_at=m["starts_at"],
        ends_at=m["ends_at"],
        status=CampaignStatus(m["status"]),
        created_by=m["created_by"],
        next_slot=m["next_slot"],
        summary_at=m["summary_at"],
    )


@dataclass(frozen=True, slots=True)
class NewCampaign:
    title: str
    text: str
    photo: str | None
    scope_id: int
    schedule: str
    starts_at: datetime
    ends_at: datetime
    created_by: int
    next_slot: datetime | None


@dataclass(frozen=True, slots=True)
class Target:
    chat_id: int
    compound_id: int | None


@dataclass(frozen=True, slots=True)
class CompoundFigures:
    """One compound's lines in a campaign summary."""

    compound_id: int
    reminders: int = 0
    reports: int = 0
    resolved: int = 0
    activities: int = 0
    minutes: int = 0


RESOLVED = ("completed", "closed")  # complaint states that count as resolved in a summary


def _subtree(path: str) -> Any:
    return units.c.path.like(f"{path}%")


class CampaignRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def create(self, new: NewCampaign, now: datetime) -> Campaign:
        result = await self.session.execute(
            insert(campaigns)
            .values(
                title=new.title,
                text=new.text,
                photo=new.photo,
                scope_id=new.scope_id,
                schedule=new.schedule,
                starts_at=new.starts_at,
                ends_at=new.ends_at,
                status=CampaignStatus.ACTIVE.value,
                created_by=new.created_by,
                next_slot=new.next_slot,
                created_at=now,
            )
            .returning(campaigns)
        )
        return _campaign(result.one())

    async def get(self, campaign_id: int) -> Campaign | None:
        row = (
            await self.session.execute(select(campaigns).where(campaigns.c.id == campaign_id))
        ).first()
        return _campaign(row) if row else None

    async def in_scopes(self, paths: Sequence[str]) -> list[Campaign]:
        """Campaigns whose scope lies in one of these subtrees, newest first."""
        if not paths:
            return []
        rows = (
            await self.session.execute(
                select(campaigns)
                .join(units, units.c.id == campaigns.c.scope_id)
                .where(or_(*[_subtree(path) for path in paths]))
                .order_by(campaigns.c.id.desc())
                .limit(20)
            )
        ).all()
        return [_campaign(row) for row in rows]

    async def set_status(
        self, campaign_id: int, status: CampaignStatus, allowed: Sequence[CampaignStatus]
    ) -> bool:
        result = await self.session.execute(
            update(campaigns)
            .where(
                campaigns.c.id == campaign_id, campaigns.c.status.in_([s.value for s in allowed])
            )
            .values(status=status.value)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def resume_at(self, campaign_id: int, next_slot: datetime | None) -> None:
        await self.session.execute(
            update(campaigns).where(campaigns.c.id == campaign_id).values(next_slot=next_slot)
        )

    # --- slots ------------------------------------------------------------------------------

    async def due(self, now: datetime) -> list[Campaign]:
        rows = (
            await self.session.execute(
                select(campaigns).where(
                    campaigns.c.status == CampaignStatus.ACTIVE.value,
                    campaigns.c.next_slot.is_not(None),
                    campaigns.c.next_slot <= now,
                )
            )
        ).all()
        return [_campaign(row) for row in rows]

    async def take_slot(
        self, campaign_id: int, slot: datetime, next_slot: datetime | None, status: SlotStatus,
        now: datetime,
    ) -> bool:  # fmt: skip
        """Move the campaign past `slot` and record the slot, once (False: someone else did)."""
        moved = await self.session.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id, campaigns.c.next_slot == slot)
            .values(next_slot=next_slot)
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            return False
        await self.session.execute(
            insert(campaign_slots).values(
                campaign_id=campaign_id, slot=slot, status=status.value, created_at=now
            )
        )
        return True

    async def sending(self) -> list[tuple[Campaign, datetime]]:
        rows = (
            await self.session.execute(
                select(campaigns, campaign_slots.c.slot)
                .join(campaign_slots, campaign_slots.c.campaign_id == campaigns.c.id)
                .where(campaign_slots.c.status == SlotStatus.SENDING.value)
                .order_by(campaign_slots.c.slot)
            )
        ).all()
        return [(_campaign(row), row.slot) for row in rows]

    async def slot_done(self, campaign_id: int, slot: datetime, now: datetime) -> bool:
        result = await self.session.execute(
            update(campaign_slots)
            .where(
                campaign_slots.c.campaign_id == campaign_id,
                campaign_slots.c.slot == slot,
                campaign_slots.c.status == SlotStatus.SENDING.value,
            )
            .values(status=SlotStatus.DONE.value, done_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def slots(self, campaign_id: int) -> dict[datetime, SlotStatus]:
        rows = (
            await self.session.execute(
                select(campaign_slots.c.slot, campaign_slots.c.status).where(
                    campaign_slots.c.campaign_id == campaign_id
                )
            )
        ).all()
        return {row.slot: SlotStatus(row.status) for row in rows}

    # --- fan-out ----------------------------------------------------------------------------

    async def targets(self, scope_path: str) -> list[Target]:
        """Every active residents group of a compound in scope, and every subscriber living there."""
        groups = (
            await self.session.execute(
                select(chats.c.id, chats.c.unit_id)
                .join(units, units.c.id == chats.c.unit_id)
                .where(
                    chats.c.purpose == ChatPurpose.RESIDENTS.value,
                    chats.c.active.is_(True),
                    _subtree(scope_path),
                )
                .order_by(chats.c.id)
            )
        ).all()
        people = (
            await self.session.execute(
                select(users.c.id, users.c.compound_id)
                .join(subscriptions, subscriptions.c.user_id == users.c.id)
                .join(units, units.c.id == users.c.compound_id)
                .where(_subtree(scope_path))
                .order_by(users.c.id)
            )
        ).all()
        return [Target(row[0], row[1]) for row in (*groups, *people)]

    async def sent_to(self, campaign_id: int, slot: datetime) -> set[int]:
        rows = await self.session.execute(
            select(campaign_sends.c.chat_id).where(
                campaign_sends.c.campaign_id == campaign_id, campaign_sends.c.slot == slot
            )
        )
        return set(rows.scalars())

    async def record_send(
        self, campaign_id: int, slot: datetime, target: Target, outbox_id: int
    ) -> None:
        await self.session.execute(
            insert(campaign_sends).values(
                campaign_id=campaign_id,
                slot=slot,
                chat_id=target.chat_id,
                compound_id=target.compound_id,
                outbox_id=outbox_id,
            )
        )

    # --- the end and the summary ------------------------------------------------------------

    async def ended(self, now: datetime) -> list[Campaign]:
        """Campaigns past their end whose summary has not gone out."""
        rows = (
            await self.session.execute(
                select(campaigns).where(
                    campaigns.c.ends_at <= now, campaigns.c.summary_at.is_(None)
                )
            )
        ).all()
        return [_campaign(row) for row in rows]

    async def close(self, campaign_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id, campaigns.c.summary_at.is_(None))
            .values(summary_at=now, status=CampaignStatus.ENDED.value, next_slot=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def figures(self, campaign: Campaign, scope_path: str) -> dict[int, CompoundFigures]:
        """Per compound: reminders delivered, reports received and resolved, party activities
        and minutes in the campaign's period."""
        figures: dict[int, dict[str, int]] = {}

        def add(compound_id: int | None, key: str, value: int) -> None:
            if compound_id is not None:
                figures.setdefault(compound_id, {})[key] = value

        delivered = await self.session.execute(
            select(campaign_sends.c.compound_id, func.count())
            .join(outbox, outbox.c.id == campaign_sends.c.outbox_id)
            .where(campaign_sends.c.campaign_id == campaign.id, outbox.c.status == "sent")
            .group_by(campaign_sends.c.compound_id)
        )
        for compound_id, count in delivered.all():
            add(compound_id, "reminders", count)
        reports = await self.session.execute(
            select(
                complaints.c.compound_id,
                func.count(),
                func.sum(case((complaints.c.status.in_(RESOLVED), 1), else_=0)),
            )
            .where(complaints.c.campaign_id == campaign.id)
            .group_by(complaints.c.compound_id)
        )
        for compound_id, count, resolved in reports.all():
            add(compound_id, "reports", count)
            add(compound_id, "resolved", int(resolved or 0))
        held = await self.session.execute(
            select(
                activities.c.compound_id,
                func.count(func.distinct(activities.c.id)),
                func.coalesce(func.sum(attendance.c.minutes), 0),
            )
            .join(units, units.c.id == activities.c.compound_id)
            .outerjoin(attendance, attendance.c.activity_id == activities.c.id)
            .where(
                _subtree(scope_path),
                activities.c.starts_at >= campaign.starts_at,
                activities.c.starts_at < campaign.ends_at,
            )
            .group_by(activities.c.compound_id)
        )
        for compound_id, count, minutes in held.all():
            add(compound_id, "activities", count)
            add(compound_id, "minutes", int(minutes))
        return {cid: CompoundFigures(cid, **values) for cid, values in figures.items()}


class SubscriptionRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def subscribe(self, user_id: int, now: datetime) -> bool:
        if await self.subscribed(user_id):
            return False
        await self.session.execute(insert(subscriptions).values(user_id=user_id, created_at=now))
        return True

    async def unsubscribe(self, user_id: int) -> bool:
        result = await self.session.execute(
            subscriptions.delete().where(subscriptions.c.user_id == user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def subscribed(self, user_id: int) -> bool:
        row = (
            await self.session.execute(
                select(subscriptions.c.user_id).where(subscriptions.c.user_id == user_id)
            )
        ).first()
        return row is not None
