"""五星小区 (issue 23, first part): the criteria as data — the example file, the errors a district
office can act on — and the pure rules: a star gained when its indicators pass (all, or enough
points), a missing figure that does not pass, the version in force for a month, gains and losses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.domain.stars import (
    Criteria,
    Star,
    award,
    changes,
    evaluate,
    five_star_share,
    in_force,
    stars_of,
)
from bot.starsfile import StarsFileError, criteria_from, read_stars_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example() -> Criteria:
    return read_stars_file(ROOT / "stars.example.toml")[1]


def test_the_example_file_has_the_five_stars_and_says_it_is_an_example(example: Criteria) -> None:
    assert example.example and example.version == "2026-12"
    assert [s.star for s in example.stars] == list(Star)
    assert [s.name for s in example.stars] == ["党建引领星", "便民服务星", "文明风尚星", "和谐稳定星", "美丽宜居星"]  # fmt: skip
    assert [i.key for i in example.of(Star.SERVICE)] == [
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
    ]
    six_haves = next(i for i in example.indicators if i.key == "six_haves")
    assert six_haves.metric == "entered" and six_haves.star is Star.PARTY


def test_a_star_is_gained_when_its_indicators_pass(example: Criteria) -> None:
    good = {
        "members_per_100": 4.0,
        "registrations_on_time": 1.0,
        "activities_held": 2,
        "six_haves": 1,
        "response_rate": 0.95,
        "resolution_rate": 0.9,
        "satisfaction_rate": 0.84,  # one short of 85 %: 便民服务星 is not gained
        "volunteer_hours_per_100": 12.5,
        "campaign_reports_resolved": None,  # no campaign report this month
        "lost_returned": 0.5,
        "disputes_resolved": 1.0,
        "repeat_complaints": 3,  # at most 2
        "sanitation_per_100": 5,  # at most 5: passes
        "reminders_delivered": 1.0,
    }
    verdicts = {v.star: v for v in evaluate(example, good)}
    assert stars_of(verdicts.values()) == {Star.PARTY, Star.CIVILITY, Star.LIVABLE}
    assert verdicts[Star.SERVICE].failed == ("satisfaction_rate",)
    civility = verdicts[Star.CIVILITY]
    assert civility.points == 2 and civility.missing == ("campaign_reports_resolved",)
    assert verdicts[Star.HARMONY].failed == ("repeat_complaints",)
    no_figures = {v.star: v for v in evaluate(example, {})}
    assert not stars_of(no_figures.values())
    assert no_figures[Star.PARTY].missing == (
        "members_per_100",
        "registrations_on_time",
        "activities_held",
        "six_haves",
    )


def test_a_changed_version_applies_from_its_first_month(example: Criteria) -> None:
    january = criteria_from(
        (ROOT / "stars.example.toml")
        .read_text(encoding="utf-8")
        .replace('version = "2026-12"', 'version = "2027-01"')
        .replace("at_least = 0.85\n", "at_least = 0.9\n"),
    )
    versions = [january, example]
    assert in_force(versions, date(2026, 11, 1)) is None
    assert in_force(versions, date(2026, 12, 1)) is example
    assert in_force(versions, date(2027, 1, 1)) is january
    assert in_force(versions, date(2027, 6, 1)) is january


def test_gains_losses_awards_and_the_five_star_share() -> None:
    gained, lost = changes({Star.PARTY, Star.SERVICE}, {Star.PARTY, Star.LIVABLE})
    assert (gained, lost) == ([Star.LIVABLE], [Star.SERVICE])
    assert award(3, 2000) == 6000
    assert five_star_share([5, 3, 5, 0, 1]) == 0.4 and five_star_share([]) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("example = true", "example = true\nwho = 1"), "who: unknown key"),
        (("at_most = 5\n", "\n"), "star[4].indicator[0]: give at_least or at_most"),
        (('metric = "lost_returned"', 'metric = "lost"'), "star[2].indicator[2].metric: Input should be"),
        (('version = "2026-12"', 'version = "2026-13"'), "version: String should match"),
        (('key = "harmony"', 'key = "party"'), "a star is listed twice"),
        (('key = "lost_returned"', 'key = "six_haves"'), "indicator keys listed twice: six_haves"),
        (("points = 2", "points = 0"), "star[2].points: Input should be greater than or equal to 1"),
    ],
)  # fmt: skip
def test_a_mistake_in_the_file_names_the_key(change: tuple[str, str], says: str) -> None:
    text = (ROOT / "stars.example.toml").read_text(encoding="utf-8")
    assert change[0] in text
    with pytest.raises(StarsFileError) as raised:
        criteria_from(text.replace(change[0], change[1], 1), "stars.toml")
    assert str(raised.value).startswith("stars.toml: ") and says in str(raised.value), raised.value
