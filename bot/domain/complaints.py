"""Complaint rules (诉求, after 12345 接诉即办): categories, routing, clocks, escalation, similarity.

Pure functions over plain values; no aiogram, no SQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from bot.domain.org import WINGS, Unit, UnitKind


class Category(StrEnum):
    PROPERTY_REPAIR = "property_repair"
    UTILITIES = "utilities"
    SANITATION = "sanitation"
    CLUTTER = "clutter"
    SAFETY_HAZARD = "safety_hazard"
    NEIGHBOUR_DISPUTE = "neighbour_dispute"
    PARKING_CHARGING = "parking_charging"
    NOISE = "noise"
    SUGGESTION = "suggestion"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """Who answers first and how long they have (DESIGN.md §4.1 table; config may change it)."""

    first_unit: UnitKind
    sign_for: timedelta
    complete: timedelta


H = timedelta(hours=1)
D = timedelta(days=1)

DEFAULT_RULES: dict[Category, CategoryRule] = {
    Category.PROPERTY_REPAIR: CategoryRule(UnitKind.PROPERTY_COMPANY, 2 * H, 3 * D),
    Category.UTILITIES: CategoryRule(UnitKind.PROPERTY_COMPANY, 1 * H, 24 * H),
    Category.SANITATION: CategoryRule(UnitKind.PROPERTY_COMPANY, 2 * H, 2 * D),
    Category.CLUTTER: CategoryRule(UnitKind.PARTY_BRANCH, 4 * H, 7 * D),
    Category.SAFETY_HAZARD: CategoryRule(UnitKind.COMMUNITY, timedelta(minutes=30), 24 * H),
    Category.NEIGHBOUR_DISPUTE: CategoryRule(UnitKind.PARTY_BRANCH, 4 * H, 7 * D),
    Category.PARKING_CHARGING: CategoryRule(UnitKind.OWNERS_COMMITTEE, 4 * H, 7 * D),
    Category.NOISE: CategoryRule(UnitKind.PROPERTY_COMPANY, 2 * H, 3 * D),
    Category.SUGGESTION: CategoryRule(UnitKind.PARTY_BRANCH, 24 * H, 15 * D),
    Category.OTHER: CategoryRule(UnitKind.PARTY_BRANCH, 4 * H, 7 * D),
}


class Status(StrEnum):
    DISPATCHED = "dispatched"  # with a unit, waiting to be signed for (签收)
    SIGNED = "signed"  # being handled
    RETURNED = "returned"  # returned (退单) to the supervising unit, waiting to be re-dispatched
    COMPLETED = "completed"  # done (办结), waiting for the reporter's rating (回访)
    CLOSED = "closed"  # rated, or no rating in time


OPEN = (Status.DISPATCHED, Status.SIGNED, Status.RETURNED)


class Rating(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class ReturnReason(StrEnum):
    NOT_OUR_AREA = "area"  # 属地不符
    UNCLEAR_OWNER = "owner"  # 权属不清
    OVERLAP = "overlap"  # 职能交叉
    OTHER = "other"


class Action(StrEnum):
    """Event actions: the audit trail of a ticket."""

    CREATED = "created"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    RETURNED = "returned"
    REDISPATCHED = "redispatched"
    SENT_BACK = "sent_back"
    PROGRESS = "progress"
    COMPLETED = "completed"
    RATED = "rated"
    PROXY_RATED = "proxy_rated"  # a proxy (代办) relayed the rating of a resident without Telegram
    REOPENED = "reopened"
    CLOSED = "closed"
    WARNED = "warned"  # blue light: 75 % of a window gone
    CHASED = "chased"  # red light: a supervising unit was chased (督办)
    REFERRED = "referred"  # a supervisor passed a returned ticket one level up for a decision
    FOLLOWED = "followed"
    ASKED = "asked"
    ANSWERED = "answered"


def rating_action(complaint: Complaint) -> Action:
    """How a ticket's rating is written: one relayed by a proxy (代办) is kept apart."""
    return Action.PROXY_RATED if complaint.proxy_for is not None else Action.RATED


# ---------------------------------------------------------------------------------------------
# Routing


def supervisor_of(unit: Unit, units: Mapping[int, Unit]) -> Unit | None:
    """The unit that supervises `unit`: its parent, where a compound's wings answer to its branch.

    A compound is a place, not an organisation: the owners' committee and the property company are
    led by the party branch ("one core, two wings"), and the branch by the community.
    """
    if unit.kind in (UnitKind.OWNERS_COMMITTEE, UnitKind.PROPERTY_COMPANY):
        compound = units.get(unit.parent_id or 0)
        if compound is not None:
            branch = _wing(compound, UnitKind.PARTY_BRANCH, units)
            if branch is not None:
                return branch
            return supervisor_of(compound, units)
    parent = units.get(unit.parent_id or 0)
    if parent is not None and parent.kind is UnitKind.COMPOUND:
        return supervisor_of(parent, units)
    return parent


def supervisors(unit: Unit, units: Mapping[int, Unit]) -> list[Unit]:
    """Every unit above `unit` in the order a late ticket climbs: branch, community, …, district."""
    chain: list[Unit] = []
    current = supervisor_of(unit, units)
    while current is not None and current not in chain:
        chain.append(current)
        current = supervisor_of(current, units)
    return chain


def supervises(supervisor: Unit, unit: Unit, units: Mapping[int, Unit]) -> bool:
    """True when `supervisor` is the unit itself or above it in the supervision chain."""
    return supervisor.id == unit.id or supervisor in supervisors(unit, units)


def _wing(compound: Unit, kind: UnitKind, units: Mapping[int, Unit]) -> Unit | None:
    found = [u for u in units.values() if u.parent_id == compound.id and u.kind is kind]
    return min(found, key=lambda u: u.id) if found else None


def _ancestor(unit: Unit, kind: UnitKind, units: Mapping[int, Unit]) -> Unit | None:
    for uid in reversed(unit.ancestor_ids):
        candidate = units.get(uid)
        if candidate is not None and candidate.kind is kind:
            return candidate
    return None


def route(
    compound: Unit,
    category: Category,
    units: Mapping[int, Unit],
    rules: Mapping[Category, CategoryRule],
    overrides: Mapping[tuple[str, Category], str] | None = None,
) -> Unit:
    """The unit responsible for a complaint, never none.

    An override (compound code, category) → unit code wins. Otherwise the category's first unit:
    a missing wing falls to the party branch, a missing branch to the community, and the district
    (the root) takes whatever is left (兜底).
    """
    by_code = {u.code: u for u in units.values()}
    override = (overrides or {}).get((compound.code, category))
    if override is not None and override in by_code:
        return by_code[override]
    kind = rules[category].first_unit
    if kind in WINGS:
        for candidate in (kind, UnitKind.PARTY_BRANCH):
            wing = _wing(compound, candidate, units)
            if wing is not None:
                return wing
        kind = UnitKind.COMMUNITY
    for level in (kind, UnitKind.COMMUNITY, UnitKind.SUBDISTRICT, UnitKind.DISTRICT):
        found = _ancestor(compound, level, units)
        if found is not None:
            return found
    root = units.get(compound.ancestor_ids[0]) if compound.ancestor_ids else None
    return root or compound


def redispatch_targets(
    supervisor: Unit, compound: Unit, units: Mapping[int, Unit], exclude: int | None
) -> list[Unit]:
    """Where a supervising unit may send a returned ticket: itself, the compound's wings and the
    levels between, as far as it supervises them."""
    wings = [u for u in units.values() if u.parent_id == compound.id and u.kind in WINGS]
    levels = [units[uid] for uid in compound.ancestor_ids if uid in units]
    candidates = [supervisor, *sorted(wings, key=lambda u: WINGS.index(u.kind)), *reversed(levels)]
    seen: set[int] = set()
    targets: list[Unit] = []
    for unit in candidates:
        if unit.id in seen or unit.id == exclude or not supervises(supervisor, unit, units):
            continue
        seen.add(unit.id)
        targets.append(unit)
    return targets


# ---------------------------------------------------------------------------------------------
# Clocks, lights and escalation


class Light(StrEnum):
    GREEN = "green"
    BLUE = "blue"  # 75 % of the window gone
    RED = "red"  # overdue


BLUE_AT = 0.75


def light(started: datetime, due: datetime, now: datetime) -> Light:
    if now > due:
        return Light.RED
    if now >= started + (due - started) * BLUE_AT:
        return Light.BLUE
    return Light.GREEN


class Stage(IntEnum):
    """How far a window's escalation has gone; higher stages chase one level further up."""

    NONE = 0
    WARNED = 1  # the unit was told its time is nearly up
    CHASED = 2  # the first supervisor was chased (and each stage above, one level further)


def stage_time(started: datetime, due: datetime, stage: int) -> datetime:
    """When a window reaches a stage: blue at 75 %, red at the deadline, then one window per level."""
    window = due - started
    if stage <= Stage.WARNED:
        return started + window * BLUE_AT
    return due + window * (stage - Stage.CHASED)


def chased_unit(chain: Sequence[Unit], stage: int) -> Unit | None:
    """The supervisor chased at a stage (≥ CHASED): the first one, then one level up per window."""
    index = stage - Stage.CHASED
    return chain[index] if 0 <= index < len(chain) else None


def last_stage(chain: Sequence[Unit]) -> int:
    """The highest stage that still chases someone (the district is the last word)."""
    return Stage.CHASED + len(chain) - 1 if chain else Stage.WARNED


# ---------------------------------------------------------------------------------------------
# Text similarity, for the duplicate check

_DROP = re.compile(r"[\W_]+", re.UNICODE)


def _grams(text: str) -> set[str]:
    """Character bigrams: Chinese has no spaces, so words are not a useful unit."""
    clean = _DROP.sub("", unicodedata.normalize("NFKC", text).casefold())
    if len(clean) < 2:
        return {clean} if clean else set()
    return {clean[i : i + 2] for i in range(len(clean) - 1)}


def similarity(a: str, b: str) -> float:
    """Overlap of character bigrams (Dice): 1.0 for the same text, 0.0 for nothing shared."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def ticket_number(prefix: str, local_day: datetime, seq: int) -> str:
    """`WD-20261121-0007`: prefix, the local date, and the day's sequence."""
    return f"{prefix}-{local_day:%Y%m%d}-{seq:04d}"


@dataclass(frozen=True, slots=True)
class Similar:
    """An open ticket as the duplicate check compares and shows it."""

    id: int
    number: str
    text: str


@dataclass(frozen=True, slots=True)
class Complaint:
    id: int
    number: str
    reporter_id: int
    anonymous: bool
    compound_id: int
    category: Category
    text: str
    photos: tuple[str, ...]
    lat: float | None
    lon: float | None
    status: Status
    unit_id: int
    returned_by: int | None
    version: int
    window_start: datetime
    due_at: datetime | None
    stage: int
    next_check_at: datetime | None
    unsatisfied: int
    rating: Rating | None
    reply: str | None
    created_at: datetime
    campaign_id: int | None = None  # reported from a campaign reminder
    flat_id: int | None = None  # the household it came from (for its household contact)
    proxy_for: str | None = None  # filed by proxy (代办) for this resident without Telegram

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True, slots=True)
class Draft:
    """A complaint being written: what the resident has given so far (kept in the FSM)."""

    compound_id: int
    category: Category | None = None
    text: str = ""
    photos: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    anonymous: bool = False
    campaign_id: int | None = None  # reported from a campaign reminder's button
    proxy_for: str | None = None  # 代办: the resident without Telegram it is written for
    flat_id: int | None = None  # and their household

    @property
    def ready(self) -> bool:
        return self.category is not None and bool(self.text.strip())


MAX_PHOTOS = 3
MAX_TEXT = 1000
