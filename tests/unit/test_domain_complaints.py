"""Complaint rules: routing with its fall-backs, supervision, lights, escalation, similarity, rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.complaints import (
    DEFAULT_RULES,
    Action,
    Category,
    Light,
    Stage,
    chased_unit,
    last_stage,
    light,
    redispatch_targets,
    route,
    similarity,
    stage_time,
    supervisors,
    ticket_number,
)
from bot.domain.org import Unit, UnitKind, make_path
from bot.domain.rates import (
    Event,
    misroutes,
    resolution_rate,
    response_rate,
    satisfaction_rate,
)


def unit(uid: int, kind: UnitKind, parent: Unit | None) -> Unit:
    path = make_path(parent.path if parent else None, uid)
    return Unit(uid, f"u{uid}", kind, f"unit {uid}", "", parent.id if parent else None, path)


DISTRICT = unit(1, UnitKind.DISTRICT, None)
SUB = unit(2, UnitKind.SUBDISTRICT, DISTRICT)
COMMUNITY = unit(3, UnitKind.COMMUNITY, SUB)
FULL = unit(4, UnitKind.COMPOUND, COMMUNITY)  # all three wings
BRANCH = unit(5, UnitKind.PARTY_BRANCH, FULL)
OWNERS = unit(6, UnitKind.OWNERS_COMMITTEE, FULL)
PROPERTY = unit(7, UnitKind.PROPERTY_COMPANY, FULL)
OLD = unit(8, UnitKind.COMPOUND, COMMUNITY)  # an old compound: a branch only
OLD_BRANCH = unit(9, UnitKind.PARTY_BRANCH, OLD)
BARE = unit(10, UnitKind.COMPOUND, COMMUNITY)  # no wings at all
ORPHAN = unit(11, UnitKind.COMPOUND, None)  # imported without its community (bad data)
UNITS = {
    u.id: u
    for u in (
        DISTRICT,
        SUB,
        COMMUNITY,
        FULL,
        BRANCH,
        OWNERS,
        PROPERTY,
        OLD,
        OLD_BRANCH,
        BARE,
        ORPHAN,
    )
}


def test_the_first_unit_follows_the_category_table() -> None:
    assert route(FULL, Category.PROPERTY_REPAIR, UNITS, DEFAULT_RULES) is PROPERTY
    assert route(FULL, Category.PARKING_CHARGING, UNITS, DEFAULT_RULES) is OWNERS
    assert route(FULL, Category.CLUTTER, UNITS, DEFAULT_RULES) is BRANCH
    assert route(FULL, Category.SAFETY_HAZARD, UNITS, DEFAULT_RULES) is COMMUNITY


def test_a_missing_wing_falls_to_the_branch_and_a_missing_branch_to_the_community() -> None:
    assert route(OLD, Category.PROPERTY_REPAIR, UNITS, DEFAULT_RULES) is OLD_BRANCH
    assert route(OLD, Category.PARKING_CHARGING, UNITS, DEFAULT_RULES) is OLD_BRANCH
    assert route(BARE, Category.PROPERTY_REPAIR, UNITS, DEFAULT_RULES) is COMMUNITY
    assert route(ORPHAN, Category.OTHER, UNITS, DEFAULT_RULES) is ORPHAN  # never dropped


def test_an_override_wins_and_an_unknown_override_is_ignored() -> None:
    overrides = {("u4", Category.NOISE): "u6", ("u8", Category.NOISE): "nowhere"}
    assert route(FULL, Category.NOISE, UNITS, DEFAULT_RULES, overrides) is OWNERS
    assert route(OLD, Category.NOISE, UNITS, DEFAULT_RULES, overrides) is OLD_BRANCH


@given(st.sampled_from(list(Category)), st.sampled_from([FULL, OLD, BARE]))
def test_routing_never_leaves_the_compounds_chain(category: Category, compound: Unit) -> None:
    target = route(compound, category, UNITS, DEFAULT_RULES)
    assert target.id in (*compound.ancestor_ids, compound.id) or target.parent_id == compound.id


def test_wings_answer_to_their_branch_then_up_the_tree() -> None:
    assert supervisors(PROPERTY, UNITS) == [BRANCH, COMMUNITY, SUB, DISTRICT]
    assert supervisors(BRANCH, UNITS) == [COMMUNITY, SUB, DISTRICT]
    assert supervisors(DISTRICT, UNITS) == []


def test_a_returned_ticket_may_go_to_the_units_the_supervisor_supervises() -> None:
    assert redispatch_targets(BRANCH, FULL, UNITS, exclude=PROPERTY.id) == [BRANCH, OWNERS]
    targets = redispatch_targets(COMMUNITY, FULL, UNITS, exclude=None)
    assert targets == [COMMUNITY, BRANCH, OWNERS, PROPERTY]
    assert DISTRICT in redispatch_targets(DISTRICT, FULL, UNITS, exclude=None)


T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_lights_turn_blue_at_75_percent_and_red_when_overdue() -> None:
    due = T0 + timedelta(hours=2)
    assert light(T0, due, T0 + timedelta(minutes=89)) is Light.GREEN
    assert light(T0, due, T0 + timedelta(minutes=90)) is Light.BLUE
    assert light(T0, due, due) is Light.BLUE
    assert light(T0, due, due + timedelta(seconds=1)) is Light.RED


def test_escalation_climbs_one_level_per_window_and_stops_at_the_district() -> None:
    due = T0 + timedelta(hours=2)
    assert stage_time(T0, due, Stage.WARNED) == T0 + timedelta(minutes=90)
    assert stage_time(T0, due, Stage.CHASED) == due
    assert stage_time(T0, due, Stage.CHASED + 1) == due + timedelta(hours=2)
    chain = supervisors(PROPERTY, UNITS)
    assert chased_unit(chain, Stage.CHASED) is BRANCH
    assert chased_unit(chain, Stage.CHASED + 1) is COMMUNITY
    assert chased_unit(chain, last_stage(chain)) is DISTRICT
    assert chased_unit(chain, last_stage(chain) + 1) is None


def test_similar_chinese_text_scores_high_and_different_text_low() -> None:
    assert similarity("3号楼电梯停运两天了", "3号楼电梯停运了") > 0.6
    assert similarity("3号楼电梯停运两天了", "小区门口垃圾没人清理") < 0.1
    assert similarity("", "任何内容") == 0.0


@given(st.text(max_size=40), st.text(max_size=40))
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= similarity(a, b) <= 1.0


def test_ticket_numbers_read_like_12345_numbers() -> None:
    assert ticket_number("WD", T0, 7) == "WD-20261121-0007"


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# Four tickets of a month, by hand (see test_rates_on_a_hand_computed_month); also used by
# tests/unit/test_domain_rates.py.
HAND_COMPUTED_MONTH = [
    Event(1, h(0), Action.DISPATCHED, None, 7, h(2)),
    Event(1, h(1), Action.SIGNED, 7),
    Event(1, h(5), Action.COMPLETED, 7),
    Event(1, h(6), Action.RATED, 7, note="satisfied"),
    Event(1, h(6), Action.CLOSED, 7, note="satisfied"),
    Event(2, h(0), Action.DISPATCHED, None, 7, h(2)),
    Event(2, h(3), Action.SIGNED, 7),
    Event(2, h(9), Action.COMPLETED, 7),
    Event(2, h(10), Action.RATED, 7, note="unsatisfied"),
    Event(2, h(10), Action.REOPENED, None, 7),
    Event(2, h(20), Action.COMPLETED, 7),
    Event(2, h(21), Action.RATED, 7, note="basic"),
    Event(2, h(21), Action.CLOSED, 7, note="basic"),
    Event(3, h(0), Action.DISPATCHED, None, 7, h(2)),
    Event(3, h(1), Action.RETURNED, 7, 5, h(3)),
    Event(3, h(2), Action.REDISPATCHED, 5, 6, h(4)),
    Event(4, h(0), Action.DISPATCHED, None, 5, h(4)),
    Event(4, h(2), Action.SIGNED, 5),
    Event(4, h(30), Action.COMPLETED, 5),
    Event(4, h(102), Action.CLOSED, 5, note="unrated"),
]


def test_rates_on_a_hand_computed_month() -> None:
    """Property company P (7) and branch B (5), four tickets:
    1: dispatched to P, signed in 1 h (due 2 h), completed, 满意 → closed.
    2: dispatched to P, signed after 3 h (late), completed, 不满意, reopened, completed, 基本满意.
    3: dispatched to P, returned to B (misroute), B dispatches to owners, never signed.
    4: dispatched to B, signed in time, completed, no rating in 72 h → closed unrated.
    """
    events = HAND_COMPUTED_MONTH
    start, end = h(-1), h(200)
    assert response_rate(events, 7, start, end).value == 1 / 3  # ticket 1 only
    assert response_rate(events, 5, start, end).value == 1.0
    assert response_rate(events, 6, start, end).value == 0.0
    assert resolution_rate(events, 7, start, end).value == 1.0  # 2 closed, none rejected at the end
    assert resolution_rate(events, 5, start, end).value == 1.0  # unrated is not rejected
    assert satisfaction_rate(events, 7, start, end).value == 2 / 3
    assert satisfaction_rate(events, 5, start, end).value is None  # nothing rated: "—"
    assert misroutes(events, 7, start, end) == 1
    # The period cuts by when things happened: only ticket 2's late rating falls after h(20).
    assert satisfaction_rate(events, 7, h(20), end).value == 1.0
    closed_unsatisfied = [Event(5, h(1), Action.CLOSED, 7, note="unsatisfied")]
    assert resolution_rate(closed_unsatisfied, 7, start, end).value == 0.0
