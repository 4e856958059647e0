"""Who may act where in the organisation tree: pure rules, with properties where they have them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.org import (
    Unit,
    UnitKind,
    make_path,
    matches_query,
    may_act_on,
    may_bind_alerts,
    may_bind_residents,
    may_invite,
)


def unit(uid: int, kind: UnitKind, parent: Unit | None, name: str = "") -> Unit:
    return Unit(
        uid,
        f"u{uid}",
        kind,
        name or f"unit {uid}",
        "",
        parent.id if parent else None,
        make_path(parent.path if parent else None, uid),
    )


DISTRICT = unit(1, UnitKind.DISTRICT, None, "魏都区")
SUB = unit(2, UnitKind.SUBDISTRICT, DISTRICT, "北大街道")
COMMUNITY = unit(3, UnitKind.COMMUNITY, SUB, "西湖社区")
COMPOUND = unit(4, UnitKind.COMPOUND, COMMUNITY, "西湖左岸小区")
BRANCH = unit(5, UnitKind.PARTY_BRANCH, COMPOUND)
PROPERTY = unit(6, UnitKind.PROPERTY_COMPANY, COMPOUND)
OTHER_COMPOUND = unit(7, UnitKind.COMPOUND, COMMUNITY, "西湖家园")
OTHER_PROPERTY = unit(8, UnitKind.PROPERTY_COMPANY, OTHER_COMPOUND)
ALL = [DISTRICT, SUB, COMMUNITY, COMPOUND, BRANCH, PROPERTY, OTHER_COMPOUND, OTHER_PROPERTY]


def test_staff_invite_only_below_their_own_unit() -> None:
    assert may_invite(is_admin=False, staff_unit_ids=[COMMUNITY.id], target=PROPERTY)
    assert not may_invite(is_admin=False, staff_unit_ids=[COMMUNITY.id], target=COMMUNITY)
    assert not may_invite(is_admin=False, staff_unit_ids=[PROPERTY.id], target=OTHER_PROPERTY)
    assert may_invite(is_admin=True, staff_unit_ids=[], target=DISTRICT)


def test_residents_groups_are_bound_by_the_compound_or_above() -> None:
    assert may_bind_residents(is_admin=False, staff_units=[PROPERTY], compound=COMPOUND)
    assert may_bind_residents(is_admin=False, staff_units=[COMMUNITY], compound=COMPOUND)
    assert not may_bind_residents(is_admin=False, staff_units=[OTHER_PROPERTY], compound=COMPOUND)
    assert not may_bind_residents(is_admin=False, staff_units=[COMMUNITY], compound=COMMUNITY)


def test_alert_groups_are_bound_by_the_unit_itself() -> None:
    assert may_bind_alerts(is_admin=False, staff_unit_ids=[PROPERTY.id], unit=PROPERTY)
    assert not may_bind_alerts(is_admin=False, staff_unit_ids=[COMMUNITY.id], unit=PROPERTY)


@given(st.sampled_from(ALL), st.sampled_from(ALL))
def test_acting_follows_the_tree(staff_unit: Unit, target: Unit) -> None:
    allowed = may_act_on(is_admin=False, staff_unit_ids=[staff_unit.id], target=target)
    assert allowed == (staff_unit.id in (*target.ancestor_ids, target.id))
    # Whoever may invite to a unit may act on it, never the other way round only.
    if may_invite(is_admin=False, staff_unit_ids=[staff_unit.id], target=target):
        assert allowed and staff_unit.id != target.id


@given(st.text(max_size=12))
def test_search_never_matches_on_nothing(query: str) -> None:
    if not query.split():
        assert not matches_query(COMPOUND, query)


def test_search_by_part_of_a_name() -> None:
    assert matches_query(COMPOUND, "左岸")
    assert matches_query(COMPOUND, "西湖 小区")
    assert not matches_query(COMPOUND, "光明")
