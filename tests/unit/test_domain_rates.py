"""The per-day scorecards add up to the reference rates computed from the trail itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.complaints import Action
from bot.domain.rates import (
    EMPTY,
    Event,
    Scorecard,
    misroutes,
    ranking,
    replay,
    resolution_rate,
    response_rate,
    satisfaction_rate,
)
from tests.unit.test_domain_complaints import HAND_COMPUTED_MONTH

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
UNITS = (5, 6, 7)
SUPERVISOR = 5


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def summed(
    sums: dict[tuple[date, int], Scorecard], unit: int, first: date, last: date
) -> Scorecard:
    total = EMPTY
    for (day, uid), card in sums.items():
        if uid == unit and first <= day < last:
            total += card
    return total


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE)


def test_the_hand_computed_month_adds_up_the_same_way() -> None:
    """The four tickets of test_rates_on_a_hand_computed_month, through the scorecards."""
    events = HAND_COMPUTED_MONTH
    sums = replay(events, ZONE)
    month = (date(2026, 11, 1), date(2026, 12, 1))
    p, b, o = (summed(sums, unit, *month) for unit in (7, 5, 6))
    assert (p.response.hits, p.response.total) == (1, 3)
    assert (b.response.hits, b.response.total) == (1, 1)
    assert (o.response.hits, o.response.total) == (0, 1)
    assert p.resolution.value == 1.0 and b.resolution.value == 1.0
    assert (p.satisfaction.hits, p.satisfaction.total) == (2, 3)
    assert b.satisfaction.value is None
    assert p.returned == 1
    # Signing: 1 h and 3 h → 2 h on average; completing: 5 h, 9 h, and 10 h from the reopening.
    assert p.time_to_sign == timedelta(hours=2)
    assert p.time_to_complete == timedelta(hours=8)
    assert b.time_to_complete == timedelta(hours=30)
    # The ranking: the branch (all rates 100 %) above the property company, the owners last.
    assert ranking({7: p, 5: b, 6: o}) == [5, 7, 6]


# A ticket's life, drawn step by step from what a real ticket can do next.
steps = st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=14)
gaps = st.lists(st.integers(min_value=1, max_value=40 * 60), min_size=14, max_size=14)


def trail(ticket: int, start: datetime, choices: list[int], minutes: list[int]) -> list[Event]:
    at, holder, state = start, UNITS[choices[0] % 3], "dispatched"
    events = [Event(ticket, at, Action.DISPATCHED, None, holder, at + timedelta(hours=2))]
    for choice, gap in zip(choices[1:], minutes, strict=False):
        at += timedelta(minutes=gap)
        if state == "dispatched":
            if choice < 60:
                events.append(Event(ticket, at, Action.SIGNED, holder))
                state = "signed"
            elif holder != SUPERVISOR:
                events.append(Event(ticket, at, Action.RETURNED, holder, SUPERVISOR, at))
                nxt = UNITS[choice % 3]
                kind = Action.REDISPATCHED if choice % 2 else Action.SENT_BACK
                due = at + timedelta(hours=1 + choice % 5)
                events.append(Event(ticket, at, kind, SUPERVISOR, nxt, due))
                holder = nxt
        elif state == "signed":
            events.append(Event(ticket, at, Action.COMPLETED, holder))
            state = "completed"
        elif state == "completed":
            verdict = ("satisfied", "basic", "unsatisfied", "unrated")[choice % 4]
            if verdict == "unsatisfied" and choice < 50:
                events.append(Event(ticket, at, Action.RATED, holder, note=verdict))
                events.append(Event(ticket, at, Action.REOPENED, None, holder))
                state = "signed"
                continue
            if verdict != "unrated":
                events.append(Event(ticket, at, Action.RATED, holder, note=verdict))
            events.append(Event(ticket, at, Action.CLOSED, holder, note=verdict))
            break
    return events


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=20 * 24 * 60), steps, gaps),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=1, max_value=20),
)
def test_scorecards_equal_the_reference_rates_for_any_history(
    tickets: list[tuple[int, list[int], list[int]]], split: int
) -> None:
    events = [
        e
        for number, (offset, choices, minutes) in enumerate(tickets, start=1)
        for e in trail(number, T0 + timedelta(minutes=offset), choices, minutes)
    ]
    sums = replay(events, ZONE)
    first = T0.astimezone(ZONE).date() - timedelta(days=1)
    cut = first + timedelta(days=split)
    last = first + timedelta(days=60)
    for a, b in ((first, cut), (cut, last), (first, last)):
        start, end = midnight(a), midnight(b)
        for unit in UNITS:
            card = summed(sums, unit, a, b)
            for mine, reference in (
                (card.response, response_rate(events, unit, start, end)),
                (card.resolution, resolution_rate(events, unit, start, end)),
                (card.satisfaction, satisfaction_rate(events, unit, start, end)),
            ):
                assert (mine.hits, mine.total) == (reference.hits, reference.total)
            assert card.returned == misroutes(events, unit, start, end)
