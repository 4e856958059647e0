"""The three rates of DESIGN.md §4.1, computed from a ticket's event rows (the audit trail).

- 响应率 response: dispatches to the unit signed for within the sign-for deadline ÷ dispatches to it.
- 解决率 resolution: tickets the unit closed whose last verdict was not 不满意 ÷ tickets it closed
  (a ticket closed unrated counts as not rejected).
- 满意率 satisfaction: (满意 + 基本满意) ÷ ratings of the unit's completions.

A dispatch counts in the period it was made; a closing and a rating in the period they happened.

The functions over events below are the reference definitions. `/stats` over a million tickets
cannot replay every trail, so each event also adds to a per-day, per-unit `Scorecard` as it is
written (`tally`); a period's figures are the sum of its days. `replay` rebuilds those sums from
the trail, and the tests hold both ways to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.complaints import Action, Rating

# Events that hand a ticket to a unit which must sign for it; they carry the sign-for deadline.
HANDOVERS = (Action.DISPATCHED, Action.REDISPATCHED, Action.SENT_BACK)
# Events that start a unit's work on a ticket: the hand-overs, and a reopening after 不满意.
OPENINGS = (*HANDOVERS, Action.REOPENED)
PLEASED = (Rating.SATISFIED, Rating.BASIC)
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


# ---------------------------------------------------------------------------------------------
# Per-day scorecards: what `/stats`, the digest and the weekly chart add up


@dataclass(frozen=True, slots=True)
class Scorecard:
    """Counts of one unit (or the sum of several) over some days."""

    handed: int = 0  # hand-overs to the unit (派单), by the day they were made
    signed: int = 0  # of those, signed for by the unit (签收), at any time
    signed_in_time: int = 0  # of those, within the sign-for deadline
    sign_seconds: int = 0  # total time from hand-over to signing
    completed: int = 0  # completions (办结), by their day
    complete_seconds: int = 0  # total time from hand-over (or reopening) to completion
    returned: int = 0  # returns (退单) by the unit: tickets routed to it by mistake
    closed: int = 0  # tickets the unit closed (rated or not), by their day
    resolved: int = 0  # of those, not rejected (不满意) by the resident at the end
    rated: int = 0  # ratings of the unit's completions
    pleased: int = 0  # of those, 满意 or 基本满意
    # Ratings a proxy (代办) gave for a resident without Telegram: kept apart from the residents'
    # own, and out of 满意率 (which says how many it leaves out).
    proxy_rated: int = 0
    proxy_pleased: int = 0

    def __add__(self, other: Scorecard) -> Scorecard:
        return Scorecard(*(getattr(self, f) + getattr(other, f) for f in COUNTERS))

    @property
    def response(self) -> Rate:
        """响应率: hand-overs signed for within the deadline ÷ hand-overs."""
        return Rate(self.signed_in_time, self.handed)

    @property
    def resolution(self) -> Rate:
        """解决率: closed and not rejected ÷ closed."""
        return Rate(self.resolved, self.closed)

    @property
    def satisfaction(self) -> Rate:
        """满意率: (满意 + 基本满意) ÷ rated."""
        return Rate(self.pleased, self.rated)

    @property
    def time_to_sign(self) -> timedelta | None:
        return timedelta(seconds=self.sign_seconds / self.signed) if self.signed else None

    @property
    def time_to_complete(self) -> timedelta | None:
        return timedelta(seconds=self.complete_seconds / self.completed) if self.completed else None

    @property
    def score(self) -> float | None:
        """The ranking's measure: the mean of the rates that have data (None: no data at all)."""
        values = [
            v
            for v in (self.response.value, self.resolution.value, self.satisfaction.value)
            if v is not None
        ]
        return sum(values) / len(values) if values else None

    @property
    def empty(self) -> bool:
        return self == EMPTY


COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(Scorecard))
EMPTY = Scorecard()


@dataclass(frozen=True, slots=True)
class Tally:
    """What one event adds to one unit's scorecard of one local day."""

    day: date
    unit_id: int
    card: Scorecard


def opening_of(action: Action) -> tuple[Action, ...]:
    """Which earlier event an event is measured from: signing from its hand-over, completing from
    the hand-over or reopening; other events need none."""
    if action is Action.SIGNED:
        return HANDOVERS
    if action is Action.COMPLETED:
        return OPENINGS
    return ()


def tally(event: Event, opened: Event | None, zone: ZoneInfo) -> Tally | None:
    """What `event` adds to the scorecards; `opened` is the unit's last event of `opening_of`."""

    def on(at: datetime, unit: int | None, **counts: int) -> Tally | None:
        if unit is None:
            return None
        return Tally(at.astimezone(zone).date(), unit, Scorecard(**counts))

    match event.action:
        case Action.DISPATCHED | Action.REDISPATCHED | Action.SENT_BACK:
            return on(event.at, event.to_unit, handed=1)
        case Action.SIGNED if opened is not None:
            in_time = opened.due is None or event.at <= opened.due
            seconds = max(0, int((event.at - opened.at).total_seconds()))
            return on(
                opened.at,
                event.from_unit,
                signed=1,
                signed_in_time=int(in_time),
                sign_seconds=seconds,
            )
        case Action.COMPLETED:
            seconds = max(0, int((event.at - opened.at).total_seconds())) if opened else 0
            return on(event.at, event.from_unit, completed=1, complete_seconds=seconds)
        case Action.RETURNED:
            return on(event.at, event.from_unit, returned=1)
        case Action.CLOSED:
            resolved = int(event.note != Rating.UNSATISFIED)
            return on(event.at, event.from_unit, closed=1, resolved=resolved)
        case Action.RATED:
            return on(event.at, event.from_unit, rated=1, pleased=int(event.note in PLEASED))
        case Action.PROXY_RATED:
            pleased = int(event.note in PLEASED)
            return on(event.at, event.from_unit, proxy_rated=1, proxy_pleased=pleased)
    return None


def replay(events: Iterable[Event], zone: ZoneInfo) -> dict[tuple[date, int], Scorecard]:
    """The scorecards a trail adds up to, per (day, unit): what `tally` wrote as it happened."""
    sums: dict[tuple[date, int], Scorecard] = {}
    trails: dict[int, list[Event]] = {}
    for event in events:
        trails.setdefault(event.complaint_id, []).append(event)
    for trail in trails.values():
        seen: list[Event] = []
        for event in trail:  # in the order they were written
            kinds = opening_of(event.action)
            opened = next(
                (e for e in reversed(seen) if e.action in kinds and e.to_unit == event.from_unit),
                None,
            )
            seen.append(event)
            found = tally(event, opened, zone)
            if found is not None:
                key = (found.day, found.unit_id)
                sums[key] = sums.get(key, EMPTY) + found.card
    return sums


def ranking(cards: Mapping[int, Scorecard]) -> list[int]:
    """Units best first: by score, then by how much they handled; units without data last."""
    return sorted(
        cards,
        key=lambda uid: (
            cards[uid].score is None,
            -(cards[uid].score or 0.0),
            -cards[uid].handed,
            uid,
        ),
    )
