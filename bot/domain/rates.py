"""The three rates of DESIGN.md §4.1, computed from a ticket's event rows (the audit trail).

- 响应率 response: dispatches to the unit signed for within the sign-for deadline ÷ dispatches to it.
- 解决率 resolution: tickets the unit closed whose last verdict was not 不满意 ÷ tickets it closed
  (a ticket closed unrated counts as not rejected).
- 满意率 satisfaction: (满意 + 基本满意) ÷ ratings of the unit's completions.

A dispatch counts in the period it was made; a closing and a rating in the period they happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.complaints import Action, Rating

# Events that hand a ticket to a unit which must sign for it; they carry the sign-for deadline.
HANDOVERS = (Action.DISPATCHED, Action.REDISPATCHED, Action.SENT_BACK)
UNRATED = "unrated"


@dataclass(frozen=True, slots=True)
class Event:
    complaint_id: int
    at: datetime
    action: Action
    from_unit: int | None = None
    to_unit: int | None = None
    due: datetime | None = None
    note: str = ""
    actor_id: int | None = None


@dataclass(frozen=True, slots=True)
class Rate:
    hits: int
    total: int

    @property
    def value(self) -> float | None:
        """The share, or None when there is nothing to divide by (shown as "—")."""
        return self.hits / self.total if self.total else None


def _in(at: datetime, start: datetime, end: datetime) -> bool:
    return start <= at < end


def response_rate(events: Iterable[Event], unit_id: int, start: datetime, end: datetime) -> Rate:
    by_ticket: dict[int, list[Event]] = {}
    for event in events:
        by_ticket.setdefault(event.complaint_id, []).append(event)
    hits = total = 0
    for trail in by_ticket.values():
        trail.sort(key=lambda e: e.at)
        for index, event in enumerate(trail):
            if event.action not in HANDOVERS or event.to_unit != unit_id:
                continue
            if not _in(event.at, start, end):
                continue
            total += 1
            for later in trail[index + 1 :]:
                if later.action in HANDOVERS:
                    break  # handed on before signing: not responded
                if later.action is Action.SIGNED and later.from_unit == unit_id:
                    if event.due is None or later.at <= event.due:
                        hits += 1
                    break
    return Rate(hits, total)


def resolution_rate(events: Iterable[Event], unit_id: int, start: datetime, end: datetime) -> Rate:
    closed = [
        e
        for e in events
        if e.action is Action.CLOSED and e.from_unit == unit_id and _in(e.at, start, end)
    ]
    hits = sum(1 for e in closed if e.note != Rating.UNSATISFIED)
    return Rate(hits, len(closed))


def satisfaction_rate(
    events: Iterable[Event], unit_id: int, start: datetime, end: datetime
) -> Rate:
    rated = [
        e
        for e in events
        if e.action is Action.RATED and e.from_unit == unit_id and _in(e.at, start, end)
    ]
    hits = sum(1 for e in rated if e.note in (Rating.SATISFIED, Rating.BASIC))
    return Rate(hits, len(rated))


def misroutes(events: Iterable[Event], unit_id: int, start: datetime, end: datetime) -> int:
    """Tickets the unit returned (退单) as not theirs, in the period: the routing table's errors."""
    return sum(
        1
        for e in events
        if e.action is Action.RETURNED and e.from_unit == unit_id and _in(e.at, start, end)
    )
