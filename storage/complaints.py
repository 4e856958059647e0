"""Complaints, their event trail, followers and staff cards."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, and_, bindparam, func, insert, or_, select, update

from bot.domain.complaints import (
    OPEN,
    Action,
    Category,
    Complaint,
    Light,
    Rating,
    Similar,
    Status,
)
from bot.domain.org import UnitKind
from bot.domain.rates import Event, opening_of, tally
from storage.db import Session, Upserts
from storage.prepared import prepared
from storage.stats import StatsRepo, light_case, subtree, tickets_of
from storage.tables import (
    complaint_cards,
    complaint_events,
    complaint_followers,
    complaints,
    counters,
)

CHUNK = 5000
SIMILAR_POOL = 50  # the newest open tickets the duplicate check compares a report with

# The statements of filing a ticket and of each step of it, built once (issue 24).
_NEXT = Upserts(
    lambda insert: prepared(
        insert(counters)
        .values(key=bindparam("b_key"), value=1)
        .on_conflict_do_update(
            index_elements=[counters.c.key], set_={"value": counters.c.value + 1}
        )
        .returning(counters.c.value)
    )
)
_CREATE = prepared(insert(complaints).returning(complaints.c.id))
_GET = prepared(select(complaints).where(complaints.c.id == bindparam("b_id")))
_SIMILAR = prepared(
    select(complaints.c.id, complaints.c.number, complaints.c.text)
    .where(
        complaints.c.compound_id == bindparam("b_compound"),
        complaints.c.category == bindparam("b_category"),
        complaints.c.status.in_([str(s) for s in OPEN]),
        complaints.c.created_at >= bindparam("b_since"),
    )
    .order_by(complaints.c.id.desc())
    .limit(SIMILAR_POOL)
)
_OPENED = prepared(
    select(complaint_events)
    .where(
        complaint_events.c.complaint_id == bindparam("b_complaint"),
        complaint_events.c.action.in_(bindparam("b_actions", expanding=True)),
        complaint_events.c.to_unit == bindparam("b_unit"),
    )
    .order_by(complaint_events.c.id.desc())
    .limit(1)
)
_ADD_EVENT = prepared(insert(complaint_events))
_ADVANCE = prepared(
    update(complaints).where(
        complaints.c.id == bindparam("b_id"),
        complaints.c.version == bindparam("b_version"),
        complaints.c.stage == bindparam("b_stage"),
    )
)
_CARDS = prepared(
    select(complaint_cards.c.chat_id, complaint_cards.c.outbox_id, complaint_cards.c.headline)
    .where(complaint_cards.c.complaint_id == bindparam("b_complaint"))
    .order_by(complaint_cards.c.id)
)
_CARD_WHERE = and_(
    complaint_cards.c.complaint_id == bindparam("b_complaint"),
    complaint_cards.c.chat_id == bindparam("b_chat"),
)
_MOVE_CARD = prepared(update(complaint_cards).where(_CARD_WHERE))
_ADD_CARD = prepared(insert(complaint_cards))


@dataclass(frozen=True, slots=True)
class Card:
    chat_id: int
    outbox_id: int
    headline: str = ""


def _complaint(row: Row[Any]) -> Complaint:
    m = row._mapping
    return Complaint(
        id=m["id"],
        number=m["number"],
        reporter_id=m["reporter_id"],
        anonymous=bool(m["anonymous"]),
        compound_id=m["compound_id"],
        category=Category(m["category"]),
        text=m["text"],
        photos=tuple(json.loads(m["photos"] or "[]")),
        lat=m["lat"],
        lon=m["lon"],
        status=Status(m["status"]),
        unit_id=m["unit_id"],
        returned_by=m["returned_by"],
        version=m["version"],
        window_start=m["window_start"],
        due_at=m["due_at"],
        stage=m["stage"],
        next_check_at=m["next_check_at"],
        unsatisfied=m["unsatisfied"],
        rating=Rating(m["rating"]) if m["rating"] else None,
        reply=m["reply"],
        created_at=m["created_at"],
        campaign_id=m["campaign_id"],
        flat_id=m["flat_id"],
        proxy_for=m["proxy_for"],
    )


def _event(row: Row[Any]) -> Event:
    m = row._mapping
    return Event(
        complaint_id=m["complaint_id"],
        at=m["at"],
        action=Action(m["action"]),
        from_unit=m["from_unit"],
        to_unit=m["to_unit"],
        due=m["due_at"],
        note=m["note"],
        actor_id=m["actor_id"],
    )


class ComplaintRepo:
    def __init__(self, session: Session, zone: ZoneInfo | None = None) -> None:
        self.session = session
        self.zone = zone  # the days scorecards are counted in; needed to write events

    async def next_in_sequence(self, key: str) -> int:
        """The next number of a named counter (e.g. one per day for ticket numbers): one atomic
        upsert, so two replicas filing the day's first tickets at once get 1 and 2."""
        result = await self.session.execute(_NEXT(self.session), {"b_key": key})
        return int(result.scalar_one())

    async def create(self, **values: Any) -> int:
        values["photos"] = json.dumps(list(values.get("photos", ())))
        values["category"] = str(values["category"])
        values["status"] = str(values["status"])
        result = await self.session.execute(_CREATE, values)
        await StatsRepo(self.session).count_ticket(
            self._day(values["created_at"]),
            values["compound_id"],
            Category(values["category"]),
            Status(values["status"]),
            +1,
        )
        return int(result.scalar_one())

    def _zone(self) -> ZoneInfo:
        if self.zone is None:
            raise ValueError("ComplaintRepo needs the zone its days are counted in to write")
        return self.zone

    def _day(self, at: datetime) -> date:
        return at.astimezone(self._zone()).date()

    async def get(self, complaint_id: int) -> Complaint | None:
        row = (await self.session.execute(_GET, {"b_id": complaint_id})).first()
        return _complaint(row) if row else None

    async def by_number(self, number: str) -> Complaint | None:
        row = (
            await self.session.execute(select(complaints).where(complaints.c.number == number))
        ).first()
        return _complaint(row) if row else None

    async def open_similar_candidates(
        self, compound_id: int, category: Category, since: datetime
    ) -> list[Similar]:
        """The newest open tickets of a compound and category since a time: the duplicate
        check's pool (what it compares, and what it shows)."""
        rows = await self.session.execute(
            _SIMILAR, {"b_compound": compound_id, "b_category": str(category), "b_since": since}
        )
        return [Similar(*row) for row in rows]

    async def move(self, complaint: Complaint, **values: Any) -> bool:
        """Change a ticket only if nobody moved it since it was read (its version): one winner."""
        for key in ("status", "rating", "category"):
            if key in values and values[key] is not None:
                values[key] = str(values[key])
        result = await self.session.execute(
            update(complaints)
            .where(complaints.c.id == complaint.id, complaints.c.version == complaint.version)
            .values(version=complaints.c.version + 1, **values)
        )
        moved = bool(result.rowcount)  # type: ignore[attr-defined]
        status = Status(values.get("status") or complaint.status)
        category = Category(values.get("category") or complaint.category)
        if moved and (status, category) != (complaint.status, complaint.category):
            counts, day = StatsRepo(self.session), self._day(complaint.created_at)
            await counts.count_ticket(
                day, complaint.compound_id, complaint.category, complaint.status, -1
            )
            await counts.count_ticket(day, complaint.compound_id, category, status, +1)
        return moved

    async def advance_stage(
        self, complaint: Complaint, stage: int, next_check_at: datetime | None
    ) -> bool:
        """The sweep's step: only from the stage it read, so two sweeps never chase twice."""
        result = await self.session.execute(
            _ADVANCE,
            {
                "b_id": complaint.id,
                "b_version": complaint.version,
                "b_stage": complaint.stage,
                "stage": stage,
                "next_check_at": next_check_at,
            },
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, now: datetime, limit: int) -> list[Complaint]:
        rows = await self.session.execute(
            select(complaints)
            .where(complaints.c.next_check_at <= now)
            .order_by(complaints.c.next_check_at)
            .limit(limit)
        )
        return [_complaint(row) for row in rows]

    async def add_event(
        self,
        complaint_id: int,
        at: datetime,
        action: Action,
        *,
        actor_id: int | None = None,
        from_unit: int | None = None,
        to_unit: int | None = None,
        due_at: datetime | None = None,
        note: str = "",
    ) -> None:
        """Append to the audit trail, and add the step to its unit's scorecard of the day in the
        same transaction (so the figures never drift from the trail)."""
        event = Event(complaint_id, at, action, from_unit, to_unit, due_at, note, actor_id)
        opened = None
        kinds = opening_of(action)
        if kinds and from_unit is not None:
            found = await self.session.execute(
                _OPENED,
                {
                    "b_complaint": complaint_id,
                    "b_actions": [str(k) for k in kinds],
                    "b_unit": from_unit,
                },
            )
            row = found.first()
            opened = _event(row) if row else None
        await self.session.execute(
            _ADD_EVENT,
            {
                "complaint_id": complaint_id,
                "at": at,
                "action": str(action),
                "actor_id": actor_id,
                "from_unit": from_unit,
                "to_unit": to_unit,
                "due_at": due_at,
                "note": note,
            },
        )
        counted = tally(event, opened, self._zone())
        if counted is not None:
            await StatsRepo(self.session).add(counted)

    async def events(self, complaint_id: int) -> list[Event]:
        rows = await self.session.execute(
            select(complaint_events)
            .where(complaint_events.c.complaint_id == complaint_id)
            .order_by(complaint_events.c.id)
        )
        return [_event(row) for row in rows]

    async def reported_in(
        self,
        path: str,
        kind: UnitKind,
        unit_id: int,
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[Complaint]:
        """The tickets of a scope reported in a period, oldest first (the ledger)."""
        rows = await self.session.execute(
            select(complaints)
            .where(
                complaints.c.created_at >= start,
                complaints.c.created_at < end,
                tickets_of(path, kind, unit_id),
            )
            .order_by(complaints.c.created_at, complaints.c.id)
            .limit(limit)
        )
        return [_complaint(row) for row in rows]

    async def trails(self, complaint_ids: Sequence[int]) -> dict[int, list[Event]]:
        """Every event of these tickets, in order (in chunks: databases cap bound parameters)."""
        found: dict[int, list[Event]] = {}
        ids = list(complaint_ids)
        for first in range(0, len(ids), CHUNK):
            rows = await self.session.execute(
                select(complaint_events)
                .where(complaint_events.c.complaint_id.in_(ids[first : first + CHUNK]))
                .order_by(complaint_events.c.complaint_id, complaint_events.c.id)
            )
            for row in rows:
                event = _event(row)
                found.setdefault(event.complaint_id, []).append(event)
        return found

    async def follow(self, complaint_id: int, user_id: int, now: datetime) -> bool:
        """Subscribe a resident to a ticket; False when they already follow it."""
        exists = (
            await self.session.execute(
                select(complaint_followers.c.user_id).where(
                    complaint_followers.c.complaint_id == complaint_id,
                    complaint_followers.c.user_id == user_id,
                )
            )
        ).first()
        if exists:
            return False
        await self.session.execute(
            insert(complaint_followers).values(
                complaint_id=complaint_id, user_id=user_id, created_at=now
            )
        )
        return True

    async def followers(self, complaint_id: int) -> list[int]:
        rows = await self.session.execute(
            select(complaint_followers.c.user_id)
            .where(complaint_followers.c.complaint_id == complaint_id)
            .order_by(complaint_followers.c.created_at)
        )
        return [row.user_id for row in rows]

    async def of_resident(self, user_id: int, limit: int = 10) -> list[Complaint]:
        """A resident's own tickets and those they follow, newest first."""
        followed = select(complaint_followers.c.complaint_id).where(
            complaint_followers.c.user_id == user_id
        )
        rows = await self.session.execute(
            select(complaints)
            .where(or_(complaints.c.reporter_id == user_id, complaints.c.id.in_(followed)))
            .order_by(complaints.c.id.desc())
            .limit(limit)
        )
        return [_complaint(row) for row in rows]

    async def open_of_flats(self, flat_ids: Sequence[int], limit: int = 30) -> list[Complaint]:
        """Open tickets from these households, oldest deadline first (for their contact)."""
        if not flat_ids:
            return []
        rows = await self.session.execute(
            select(complaints)
            .where(
                complaints.c.flat_id.in_(sorted(set(flat_ids))[:5000]),
                complaints.c.status.in_([s.value for s in OPEN]),
            )
            .order_by(complaints.c.due_at, complaints.c.id)
            .limit(limit)
        )
        return [_complaint(row) for row in rows]

    async def queue(
        self, path: str, now: datetime, limit: int = 10, offset: int = 0
    ) -> list[Complaint]:
        """Open tickets held in a subtree, red first, then blue, then the rest; by deadline."""
        rows = await self.session.execute(
            select(complaints)
            .where(*self._held_in(path))
            .order_by(light_case(now), complaints.c.due_at, complaints.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [_complaint(row) for row in rows]

    async def lights(self, path: str | None, now: datetime) -> dict[Light, int]:
        """How many open tickets of a subtree (None: everywhere) show each light."""
        lamp = light_case(now).label("lamp")
        held = (
            self._held_in(path)
            if path is not None
            else (complaints.c.status.in_([str(s) for s in OPEN]),)
        )
        rows = await self.session.execute(select(lamp, func.count()).where(*held).group_by(lamp))
        order = (Light.RED, Light.BLUE, Light.GREEN)
        found = {order[int(k)]: int(n) for k, n in rows}
        return {light: found.get(light, 0) for light in order}

    @staticmethod
    def _held_in(path: str) -> tuple[ColumnElement[bool], ...]:
        return (
            complaints.c.status.in_([str(s) for s in OPEN]),
            complaints.c.unit_id.in_(subtree(path)),
        )

    async def held_by(self, unit_id: int) -> list[Complaint]:
        """One unit's open tickets, by deadline (the morning digest's material)."""
        rows = await self.session.execute(
            select(complaints)
            .where(
                complaints.c.status.in_([str(s) for s in OPEN]),
                complaints.c.unit_id == unit_id,
            )
            .order_by(complaints.c.due_at, complaints.c.id)
        )
        return [_complaint(row) for row in rows]

    async def cards(self, complaint_id: int) -> list[Card]:
        rows = await self.session.execute(_CARDS, {"b_complaint": complaint_id})
        return [Card(row.chat_id, row.outbox_id, row.headline) for row in rows]

    async def set_card(
        self, complaint_id: int, chat_id: int, outbox_id: int, headline: str = ""
    ) -> None:
        """Remember the message that shows a ticket in a chat (one card per ticket and chat)."""
        result = await self.session.execute(
            _MOVE_CARD,
            {
                "b_complaint": complaint_id,
                "b_chat": chat_id,
                "outbox_id": outbox_id,
                "headline": headline,
            },
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            await self.session.execute(
                _ADD_CARD,
                {
                    "complaint_id": complaint_id,
                    "chat_id": chat_id,
                    "outbox_id": outbox_id,
                    "headline": headline,
                },
            )
