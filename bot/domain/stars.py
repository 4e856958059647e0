"""五星小区: the five stars a compound competes for each month, the indicators behind each star,
and how a month's figures gain or lose a star.

Pure rules only. The criteria come from a file (bot/starsfile.py); the figures from the bot's own
records or, for what the records cannot know (the 六有 of a party-service centre), from the
community, with evidence. A star is gained when its indicators pass (all of them, or enough of
their points); an indicator without a figure does not pass, and says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain.org import Unit


class Star(StrEnum):
    PARTY = "party"  # 党建引领星
    SERVICE = "service"  # 便民服务星
    CIVILITY = "civility"  # 文明风尚星
    HARMONY = "harmony"  # 和谐稳定星
    LIVABLE = "livable"  # 美丽宜居星


class Metric(StrEnum):
    """A figure of one compound and one month, computed from the bot's records."""

    MEMBERS_PER_100 = "members_per_100"  # party members registered (报到) per 100 flats
    REGISTRATIONS_ON_TIME = "registrations_on_time"  # share of 报到 decided within 3 days
    ACTIVITIES_HELD = "activities_held"  # activities that ended this month, not cancelled
    RESPONSE_RATE = "response_rate"  # the three complaint rates of the compound's units
    RESOLUTION_RATE = "resolution_rate"
    SATISFACTION_RATE = "satisfaction_rate"
    LOST_RETURNED = "lost_returned"  # share of lost-and-found items closed as returned
    VOLUNTEER_HOURS_PER_100 = "volunteer_hours_per_100"  # hours at activities per 100 flats
    CAMPAIGN_REPORTS_RESOLVED = "campaign_reports_resolved"  # share of campaign reports closed
    DISPUTES_RESOLVED = "disputes_resolved"  # share of neighbour-dispute tickets closed
    REPEAT_COMPLAINTS = "repeat_complaints"  # tickets of a household and category seen in 30 days
    SANITATION_PER_100 = "sanitation_per_100"  # sanitation and clutter tickets per 100 flats
    REMINDERS_DELIVERED = "reminders_delivered"  # share of campaign reminders delivered
    ENTERED = "entered"  # entered by the community, with a photo or a note as evidence


SHARES = frozenset(
    {
        Metric.REGISTRATIONS_ON_TIME,
        Metric.RESPONSE_RATE,
        Metric.RESOLUTION_RATE,
        Metric.SATISFACTION_RATE,
        Metric.LOST_RETURNED,
        Metric.CAMPAIGN_REPORTS_RESOLVED,
        Metric.DISPUTES_RESOLVED,
        Metric.REMINDERS_DELIVERED,
    }
)  # a part of a whole, from 0 to 1
PER_100 = frozenset(
    {Metric.MEMBERS_PER_100, Metric.VOLUNTEER_HOURS_PER_100, Metric.SANITATION_PER_100}
)  # per 100 flats


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str  # stable: it names the figure in the records
    star: Star
    metric: Metric
    name: str
    name_en: str = ""
    at_least: float | None = None
    at_most: float | None = None
    points: int = 1

    def passes(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.at_least is not None and value < self.at_least:
            return False
        return self.at_most is None or value <= self.at_most


@dataclass(frozen=True, slots=True)
class StarRule:
    star: Star
    name: str
    name_en: str = ""
    points: int | None = None  # None: every indicator must pass; else at least these points


@dataclass(frozen=True, slots=True)
class Criteria:
    version: str  # "2026-12": the first month it applies to
    example: bool
    stars: tuple[StarRule, ...]
    indicators: tuple[Indicator, ...]

    def of(self, star: Star) -> list[Indicator]:
        return [i for i in self.indicators if i.star is star]

    @property
    def first_month(self) -> date:
        year, month = self.version.split("-")
        return date(int(year), int(month), 1)


@dataclass(frozen=True, slots=True)
class StarVerdict:
    star: Star
    gained: bool
    points: int  # of the indicators that passed
    passed: tuple[str, ...]
    failed: tuple[str, ...]
    missing: tuple[str, ...]  # indicators without a figure this month (they do not pass)


@dataclass(frozen=True, slots=True)
class Figure:
    value: float | None
    part: float  # the numerator (or the count)
    whole: float | None  # the denominator (None: a plain count)
    evidence: tuple[str, ...] = ()


class RunStatus(StrEnum):
    COMPUTED = "computed"  # waiting for the community's review
    PUBLIC = "public"  # reviewed, made public (公示); residents may object
    FINAL = "final"  # 公示 is over and every objection is answered


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    compound_id: int
    month: date
    criteria_id: int
    status: RunStatus
    computed: frozenset[Star]
    stars: frozenset[Star]
    override_reason: str
    version: int
    public_until: datetime | None = None  # 公示 ends (set at the review)


@dataclass(frozen=True, slots=True)
class Objection:
    """A resident's objection (异议) to a result made public, answered by the sub-district."""

    id: int
    run_id: int
    user_id: int
    text: str
    unit_id: int  # the unit that answers (the sub-district above the compound)
    created_at: datetime
    due_at: datetime
    stage: int
    answer: str | None
    upheld: bool | None  # True: sent back to the community for a new review
    answered_at: datetime | None
    version: int

    @property
    def open(self) -> bool:
        return self.answered_at is None


@dataclass(frozen=True, slots=True)
class Board:
    """The compounds of a scope in a month, most stars first, with the five-star share against
    the district's target."""

    scope: Unit
    month: date | None  # None: no month evaluated yet
    rows: list[tuple[Unit, Run]]
    previous: dict[int, Run]  # the month before, by compound
    share: float | None
    target: tuple[int, float] | None
    award: int  # 元, for the stars that stand


@dataclass(frozen=True, slots=True)
class Card:
    compound: Unit
    run: Run
    criteria: Criteria
    figures: list[tuple[str, Star, Figure, bool]]
    previous: Run | None
    award: int
    objections: tuple[Objection, ...] = ()


def evaluate(criteria: Criteria, values: Mapping[str, float | None]) -> list[StarVerdict]:
    """Each star of the criteria, gained or not, with the indicators that passed and failed."""
    verdicts = []
    for rule in criteria.stars:
        indicators = criteria.of(rule.star)
        passed = [i for i in indicators if i.passes(values.get(i.key))]
        missing = [i.key for i in indicators if values.get(i.key) is None]
        failed = [i.key for i in indicators if i not in passed and i.key not in missing]
        points = sum(i.points for i in passed)
        if rule.points is None:
            gained = bool(indicators) and len(passed) == len(indicators)
        else:
            gained = points >= rule.points
        verdicts.append(
            StarVerdict(
                rule.star,
                gained,
                points,
                tuple(i.key for i in passed),
                tuple(failed),
                tuple(missing),
            )
        )
    return verdicts


def stars_of(verdicts: Iterable[StarVerdict]) -> frozenset[Star]:
    return frozenset(v.star for v in verdicts if v.gained)


def changes(before: Iterable[Star], now: Iterable[Star]) -> tuple[list[Star], list[Star]]:
    """(gained, lost) since the month before, in the stars' order."""
    old, new = set(before), set(now)
    return [s for s in Star if s in new - old], [s for s in Star if s in old - new]


def in_force(versions: Sequence[Criteria], month: date) -> Criteria | None:
    """The criteria a month is judged by: the latest version whose first month is not after it
    (a version written in December applies from January)."""
    found = [c for c in versions if c.first_month <= month]
    return max(found, key=lambda c: c.first_month) if found else None


_MONTH = re.compile(r"^(20\d\d)-(0?[1-9]|1[0-2])$")


def parse_month(text: str) -> date | None:
    """ "2026-11" → 2026-11-01 (years 2000–2099); None when it is not a month."""
    found = _MONTH.match(text.strip())
    return date(int(found.group(1)), int(found.group(2)), 1) if found else None


def award(stars: int, per_star: int) -> int:
    """The month's award in 元 (2,000 元 per star in the seeds)."""
    return stars * per_star


def five_star_share(stars: Iterable[int]) -> float | None:
    """The share of compounds with all five stars (None: no compound evaluated)."""
    counts = list(stars)
    return sum(1 for n in counts if n == len(Star)) / len(counts) if counts else None
