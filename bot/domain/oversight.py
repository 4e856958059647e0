"""What oversight shows (DESIGN §4.5): a unit's queue, its figures for a period, the morning
digest and the weekly chart's data. bot.services fills them; bot.ui renders them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.complaints import Category, Complaint, Light, Status
from bot.domain.org import Unit
from bot.domain.periods import Period
from bot.domain.rates import Scorecard

DONE = "done"
BOARD_KEYS = ("red", "blue", "green", DONE)  # the weekly board: open tickets by light, and done


@dataclass(frozen=True, slots=True)
class Queue:
    scope: Unit
    scopes: Sequence[Unit]  # all of the actor's, to switch between
    lights: dict[Light, int]
    tickets: list[Complaint]
    units: dict[int, Unit]
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class Place:
    rank: int
    of: int
    among: Unit  # the parent whose units were ranked


@dataclass(frozen=True, slots=True)
class HouseholdFigures:
    """The fifth level in a scope: flats on record, those with a confirmed resident, and the
    household contacts (党群中心户) with the flats they look after between them."""

    flats: int
    covered: int
    contacts: int
    looked_after: int  # flats within some contact's building or stairwell
    compounds: tuple[tuple[Unit, HouseholdFigures], ...] = ()  # each compound's, by name

    @property
    def per_contact(self) -> float | None:
        return self.looked_after / self.contacts if self.contacts else None

    @property
    def share(self) -> float:
        return self.covered / self.flats if self.flats else 0.0


@dataclass(frozen=True, slots=True)
class TopicFigures:
    """A compound's topics of the 议事厅 proposed in a period, and how far they got."""

    proposed: int = 0
    taken_up: int = 0
    decided: int = 0  # voted on (passed or not)
    done: int = 0  # carried out
    days_to_done: float | None = None  # the mean, from proposal to the work order's completion

    @staticmethod
    def total(each: Sequence[TopicFigures]) -> TopicFigures:
        done = sum(f.done for f in each)
        days = sum((f.days_to_done or 0) * f.done for f in each)
        return TopicFigures(
            sum(f.proposed for f in each),
            sum(f.taken_up for f in each),
            sum(f.decided for f in each),
            done,
            days / done if done else None,
        )


@dataclass(frozen=True, slots=True)
class Stats:
    scope: Unit
    period: Period
    card: Scorecard
    counts: dict[tuple[Category, Status], int]
    children: list[tuple[Unit, Scorecard]]  # best first
    place: Place | None  # where the scope stands among its siblings (their figures stay hidden)
    parent_visible: bool  # whether the actor may look one level up
    households: HouseholdFigures | None = None  # None: no flats on record in the scope
    topics: tuple[tuple[Unit, TopicFigures], ...] = ()  # compounds with topics proposed, by name


@dataclass(frozen=True, slots=True)
class Digest:
    overdue: list[Complaint]
    returned: list[Complaint]  # returned to this unit by one below: its decision is awaited
    due_today: list[Complaint]
    new: list[Complaint]  # handed over since yesterday's digest, not yet signed for

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.returned or self.due_today or self.new)


@dataclass(frozen=True, slots=True)
class WeekData:
    unit: Unit
    week: Period
    board: dict[tuple[Category, str], int]
    children: list[tuple[Unit, Scorecard]]
    total: Scorecard
