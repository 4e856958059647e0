"""The 红色议事厅 (red deliberation hall): residents propose a compound matter (议题), other
households support it, the branch must answer by a deadline, a meeting (议事会) deliberates, the
households vote (表决), the decision is made public (公示) and carried out as a work order.

Pure rules only: how many supports take a topic up, and the exact tally of a vote under each rule.
Areas are counted in hundredths of a square metre (integers), so a tally never rounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

MAX_TITLE = 60
MAX_TEXT = 1000
MAX_PHOTOS = 3
MAX_NOTE = 500  # a reason, an objection, the minutes' text


class TopicStatus(StrEnum):
    COLLECTING = "collecting"  # 征集附议: households may support it
    TAKEN_UP = "taken_up"  # 已立项: the branch must accept or decline it by `answer_due_at`
    ACCEPTED = "accepted"  # 已受理: a meeting (议事会) is scheduled
    DECLINED = "declined"  # 不予受理, with the branch's reason
    VOTING = "voting"  # 表决中
    PASSED = "passed"  # 表决通过: 公示, then carried out
    REJECTED = "rejected"  # 表决未通过: 公示, and that is the end of it
    CARRYING = "carrying"  # 实施中: its work order is open
    DONE = "done"  # the work order was completed
    MERGED = "merged"  # into another topic, which took its supports


OPEN = (TopicStatus.COLLECTING, TopicStatus.TAKEN_UP, TopicStatus.ACCEPTED, TopicStatus.VOTING)
PUBLIC = (
    TopicStatus.DECLINED,
    TopicStatus.PASSED,
    TopicStatus.REJECTED,
    TopicStatus.CARRYING,
    TopicStatus.DONE,
)


class Rule(StrEnum):
    SIMPLE = "simple"  # more than half of the votes cast agree, with a quorum taking part
    DOUBLE = "double"  # 民法典 第278条: ≥ 2/3 of flats and of area vote; > 1/2 of both agree
    FOURFOLD = "fourfold"  # 四议两公开: 提议, 商议, 审议, then the households' 决议 (as SIMPLE)


class Vote(StrEnum):
    YES = "yes"  # 同意
    NO = "no"  # 反对
    ABSTAIN = "abstain"  # 弃权: counted as taking part, not as agreeing


class Verdict(StrEnum):
    PASSED = "passed"
    NO_QUORUM = "no_quorum"  # too few households took part (SIMPLE, FOURFOLD)
    TOO_FEW_FLATS = "too_few_flats"  # DOUBLE: under 2/3 of the flats took part
    TOO_LITTLE_AREA = "too_little_area"  # DOUBLE: under 2/3 of the area took part
    NOT_ENOUGH_YES = "not_enough_yes"


class TopicRefusal(StrEnum):
    NOT_RESIDENT = "not_resident"  # no confirmed flat in the topic's compound
    NOT_REPRESENTATIVE = "not_representative"  # the household votes through its representative
    SUPPORTED = "supported"  # this household supports it already
    NOT_COLLECTING = "not_collecting"  # support after it was taken up, merged or answered
    NOT_VOTING = "not_voting"  # a ballot outside the voting window
    NOT_PUBLIC = "not_public"  # an objection outside the 公示 period
    OBJECTED = "objected"  # one objection per person
    MOVED = "moved"  # the topic moved on since the button was drawn
    NO_AREA = "no_area"  # DOUBLE needs every flat's area on record
    NO_FLATS = "no_flats"  # the compound's flats are not on record
    STEPS_MISSING = "steps_missing"  # 四议两公开: 商议 and 审议 before the vote
    NOT_PARTICIPANT = "not_participant"  # only supporters and voters rate the result
    NOT_MANAGER = "not_manager"  # the branch (or above) answers, schedules and opens votes


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    compound_id: int
    proposer_id: int
    flat_id: int
    title: str
    text: str
    photos: tuple[str, ...]
    status: TopicStatus
    version: int
    threshold: int  # households whose support takes it up
    supporters: int
    created_at: datetime
    taken_up_at: datetime | None = None
    answer_due_at: datetime | None = None
    stage: int = 0  # how far the late answer has been escalated
    next_check_at: datetime | None = None
    answered_at: datetime | None = None
    reason: str = ""  # why it was declined
    activity_id: int | None = None  # the meeting
    minutes: str = ""
    minutes_photos: tuple[str, ...] = ()
    rule: Rule | None = None
    consulted: str = ""  # 四议: 商议 (the branch with the owners' committee and property company)
    reviewed: str = ""  # 四议: 审议 (the party members' meeting)
    unit_id: int | None = None  # who carries the decision out
    vote_opens_at: datetime | None = None
    vote_closes_at: datetime | None = None
    reminded: bool = False
    electorate: int = 0  # verified households when the vote opened
    total_flats: int = 0
    total_area: int = 0  # hundredths of a square metre
    tally: Tally | None = None
    decided_at: datetime | None = None
    public_until: datetime | None = None
    complaint_id: int | None = None  # the work order
    done_at: datetime | None = None
    merged_into: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True, slots=True)
class Ballot:
    flat_id: int
    vote: Vote
    area: int  # hundredths of a square metre (0: not on record)


@dataclass(frozen=True, slots=True)
class Tally:
    yes: int
    no: int
    abstain: int
    yes_area: int
    no_area: int
    abstain_area: int
    verdict: Verdict

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain

    @property
    def cast_area(self) -> int:
        return self.yes_area + self.no_area + self.abstain_area

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


def hundredths(area_m2: float | None) -> int:
    return round(area_m2 * 100) if area_m2 is not None else 0


def part_of(share: float, whole: int) -> int:
    """`share` of `whole`, rounded up, without float noise (0.1 × 30 is 3, not 4)."""
    return math.ceil(Fraction(share).limit_denominator(10_000) * whole)


def support_needed(flats: int, households: int, share: float) -> int:
    """Supports that take a topic up: `households`, or `share` of the compound's flats when that
    is fewer (e.g. 10 households or 5 %), and never fewer than one."""
    by_share = part_of(share, flats) if flats and share > 0 else households
    return max(1, min(households, by_share))


def quorum_of(electorate: int, quorum: float) -> int:
    """Households that must take part in a SIMPLE (or 四议) vote."""
    return max(1, part_of(quorum, electorate))


def count(
    ballots: Iterable[Ballot],
    rule: Rule,
    *,
    electorate: int,
    quorum: float,
    total_flats: int,
    total_area: int,
) -> Tally:
    """The exact tally of one vote per household (the last one it cast).

    SIMPLE and FOURFOLD: at least `quorum` of the households that could vote take part, and more
    than half of those taking part agree. DOUBLE (民法典 第278条): flats holding at least two thirds
    of the compound's flats and of its area take part, and more than half of those taking part,
    by number and by area, agree."""
    by_flat = {b.flat_id: b for b in ballots}
    sums = {vote: [0, 0] for vote in Vote}
    for ballot in by_flat.values():
        sums[ballot.vote][0] += 1
        sums[ballot.vote][1] += ballot.area
    yes, yes_area = sums[Vote.YES]
    cast = len(by_flat)
    cast_area = sum(area for _n, area in sums.values())
    if rule is Rule.DOUBLE:
        if 3 * cast < 2 * total_flats or cast == 0:
            verdict = Verdict.TOO_FEW_FLATS
        elif 3 * cast_area < 2 * total_area:
            verdict = Verdict.TOO_LITTLE_AREA
        elif 2 * yes > cast and 2 * yes_area > cast_area:
            verdict = Verdict.PASSED
        else:
            verdict = Verdict.NOT_ENOUGH_YES
    elif cast < quorum_of(electorate, quorum):
        verdict = Verdict.NO_QUORUM
    else:
        verdict = Verdict.PASSED if 2 * yes > cast else Verdict.NOT_ENOUGH_YES
    return Tally(
        yes=yes,
        no=sums[Vote.NO][0],
        abstain=sums[Vote.ABSTAIN][0],
        yes_area=yes_area,
        no_area=sums[Vote.NO][1],
        abstain_area=sums[Vote.ABSTAIN][1],
        verdict=verdict,
    )


def share(part: int, whole: int) -> str:
    """ "67 %" (no decimals: a ballot paper's precision), "—" without a whole."""
    return f"{100 * part / whole:.0f} %" if whole else "—"


def m2(hundredths_: int) -> str:
    """ "1234.50" m² from hundredths."""
    return f"{hundredths_ // 100}.{hundredths_ % 100:02d}"
