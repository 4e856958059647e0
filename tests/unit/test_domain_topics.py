"""The 议事厅's pure rules: how many supports take a topic up, and the exact tally under each rule
(checked by hand, and against a reference written with fractions for any ballots)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.topics import (
    Ballot,
    Rule,
    Verdict,
    Vote,
    count,
    hundredths,
    m2,
    quorum_of,
    share,
    support_needed,
)


def test_support_needed_is_the_fewer_of_the_households_and_the_share() -> None:
    assert support_needed(98, 10, 0.05) == 5  # 西湖左岸: 4.9 rounded up
    assert support_needed(24, 10, 0.05) == 2  # 西湖家园
    assert support_needed(1000, 10, 0.05) == 10
    assert support_needed(0, 10, 0.05) == 10  # no flats on record: the number of households
    assert support_needed(98, 10, 0) == 10
    assert support_needed(3, 10, 0.05) == 1  # never fewer than one
    assert support_needed(30, 10, 0.1) == 3  # 0.1 × 30 is 3.0000000000000004 in floats
    assert quorum_of(9, 2 / 3) == 6


def ballots(*votes: Vote, area: int = 8950) -> list[Ballot]:
    return [Ballot(n, vote, area) for n, vote in enumerate(votes, start=1)]


def test_simple_majority_counts_abstentions_as_taking_part() -> None:
    yes, no, abstain = Vote.YES, Vote.NO, Vote.ABSTAIN
    tally = count(
        ballots(yes, yes, abstain), Rule.SIMPLE, electorate=4, quorum=0.5, total_flats=24,
        total_area=0,
    )  # fmt: skip
    assert (tally.yes, tally.no, tally.abstain, tally.cast) == (2, 0, 1, 3)
    assert tally.verdict is Verdict.PASSED  # 2 > 3/2
    tie = count(
        ballots(yes, no, abstain, abstain), Rule.SIMPLE, electorate=4, quorum=0.5,
        total_flats=24, total_area=0,
    )  # fmt: skip
    assert tie.verdict is Verdict.NOT_ENOUGH_YES
    few = count(ballots(yes), Rule.FOURFOLD, electorate=6, quorum=0.5, total_flats=98, total_area=0)
    assert few.verdict is Verdict.NO_QUORUM and quorum_of(6, 0.5) == 3


def test_a_household_counts_once_with_its_last_vote() -> None:
    changed = [Ballot(1, Vote.NO, 100), Ballot(2, Vote.YES, 100), Ballot(1, Vote.YES, 100)]
    tally = count(changed, Rule.SIMPLE, electorate=2, quorum=1, total_flats=2, total_area=200)
    assert (tally.yes, tally.no, tally.cast) == (2, 0, 2)


def test_the_owners_double_majority_needs_two_thirds_of_flats_and_area() -> None:
    yes, no = Vote.YES, Vote.NO
    # 9 flats of 100 m²: 6 voting is exactly two thirds.
    six = [Ballot(n, yes if n <= 4 else no, 10000) for n in range(1, 7)]
    assert count(six, Rule.DOUBLE, electorate=9, quorum=0.5, total_flats=9,
                 total_area=90000).verdict is Verdict.PASSED  # fmt: skip
    assert count(six[:5], Rule.DOUBLE, electorate=9, quorum=0.5, total_flats=9,
                 total_area=90000).verdict is Verdict.TOO_FEW_FLATS  # fmt: skip
    # Enough flats, but the large ones stayed away.
    small = [Ballot(n, yes, 5000) for n in range(1, 7)]
    assert count(small, Rule.DOUBLE, electorate=9, quorum=0.5, total_flats=9,
                 total_area=90000).verdict is Verdict.TOO_LITTLE_AREA  # fmt: skip
    # More than half by number, not by area: not passed.
    mixed = [Ballot(n, yes, 5000) for n in range(1, 5)] + [
        Ballot(5, no, 30000),
        Ballot(6, no, 30000),
    ]
    tally = count(mixed, Rule.DOUBLE, electorate=9, quorum=0.5, total_flats=9, total_area=90000)
    assert tally.verdict is Verdict.NOT_ENOUGH_YES and tally.yes_area == 20000


def test_areas_are_exact_hundredths() -> None:
    assert hundredths(89.5) == 8950 and hundredths(None) == 0 and hundredths(0.1 + 0.2) == 30
    assert m2(123450) == "1234.50" and share(5, 6) == "83 %" and share(1, 0) == "—"


def reference(
    cast: dict[int, tuple[Vote, int]],
    rule: Rule,
    electorate: int,
    quorum: float,
    flats: int,
    area: int,
) -> Verdict:
    """The rules as the property law and the issue write them, with fractions."""
    voted = len(cast)
    voted_area = sum(a for _v, a in cast.values())
    yes = sum(1 for v, _a in cast.values() if v is Vote.YES)
    yes_area = sum(a for v, a in cast.values() if v is Vote.YES)
    if rule is Rule.DOUBLE:
        if voted == 0 or Fraction(voted, flats) < Fraction(2, 3):
            return Verdict.TOO_FEW_FLATS
        if area and Fraction(voted_area, area) < Fraction(2, 3):
            return Verdict.TOO_LITTLE_AREA
        ok = Fraction(yes) > Fraction(voted, 2) and Fraction(yes_area) > Fraction(voted_area, 2)
        return Verdict.PASSED if ok else Verdict.NOT_ENOUGH_YES
    needed = Fraction(quorum).limit_denominator(10_000) * electorate  # e.g. 2/3 of 9 is 6
    if voted == 0 or voted < needed:
        return Verdict.NO_QUORUM
    return Verdict.PASSED if Fraction(yes) > Fraction(voted, 2) else Verdict.NOT_ENOUGH_YES


@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.sampled_from(list(Vote)), st.integers(0, 20000)),
        max_size=60,
    ),
    st.sampled_from(list(Rule)),
    st.integers(1, 40),
    st.sampled_from([0.2, 0.5, 2 / 3, 1.0]),
)
def test_the_tally_matches_the_reference_for_any_ballots(
    raw: list[tuple[int, Vote, int]], rule: Rule, electorate: int, quorum: float
) -> None:
    cast: dict[int, tuple[Vote, int]] = {}
    for flat, vote, area in raw:
        cast[flat] = (vote, area)  # a later vote of the same household replaces the earlier
    flats = max(30, electorate)
    area = sum(a for _v, a in cast.values()) + 10000
    tally = count(
        [Ballot(flat, vote, area_) for flat, vote, area_ in raw],
        rule,
        electorate=electorate,
        quorum=quorum,
        total_flats=flats,
        total_area=area,
    )
    assert tally.cast == len(cast) == tally.yes + tally.no + tally.abstain
    assert tally.cast_area == sum(a for _v, a in cast.values())
    assert tally.verdict is reference(cast, rule, electorate, quorum, flats, area)
