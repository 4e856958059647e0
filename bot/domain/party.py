"""Party members (党员): 报到 registration at the home compound, activities, check-in and hours.

Pure rules only: who may check in where and when, the geofence, hours present, which reminder is
due, and times as organisers write them.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.org import Unit, UnitKind, is_within

WINDOW_BEFORE = timedelta(minutes=30)  # check-in opens this long before the start
DEFAULT_RADIUS_M = 300
REMIND_DAY = timedelta(days=1)
REMIND_HOUR = timedelta(hours=1)
MAX_LENGTH = timedelta(hours=12)
FURTHEST = timedelta(days=366)
MAX_NAME, MAX_FIELD, MAX_TITLE, MAX_PLACE = 40, 100, 60, 100
MAX_CAPACITY = 500
CODE_DIGITS = 4
MAX_CODE_TRIES = 5  # wrong codes a member may type for one check-in


class MemberType(StrEnum):
    WORKING = "working"  # 在职
    RETIRED = "retired"  # 离退休
    MOBILE = "mobile"  # 流动


class RegStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    MOVED = "moved"  # superseded by a registration at the member's new compound


@dataclass(frozen=True, slots=True)
class Member:
    """One registration (报到) of a person at a compound's branch."""

    id: int
    user_id: int
    name: str
    compound_id: int
    building: str
    workplace: str
    type: MemberType
    phone: str | None
    status: RegStatus
    reason: str
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None

    @property
    def approved(self) -> bool:
        return self.status is RegStatus.APPROVED

    @property
    def current(self) -> bool:
        """Still the person's registration (waiting or approved), not a past one."""
        return self.status in (RegStatus.PENDING, RegStatus.APPROVED)


def registered_at(member: Member | None, compound_id: int | None) -> bool:
    """A current registration (waiting or approved) with this compound's branch."""
    return member is not None and member.current and member.compound_id == compound_id


@dataclass(frozen=True, slots=True)
class Registration:
    """What a person fills in (a draft); the compound is their home."""

    name: str = ""
    building: str = ""
    workplace: str = ""
    type: MemberType | None = None
    phone: str | None = None


class ActivityKind(StrEnum):
    CLEANUP = "cleanup"  # 环境整治
    PATROL = "patrol"  # 治安巡逻
    CLINIC = "clinic"  # 义诊
    VOLUNTEER = "volunteer"  # 志愿服务
    OTHER = "other"  # 其他
    MEETING = "meeting"  # 议事会 of a topic (bot/domain/topics.py): residents and staff attend too


class ActivityStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    compound_id: int
    kind: ActivityKind
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    code: str
    created_by: int
    status: ActivityStatus
    signed: int = 0  # members signed up (not cancelled)
    day_reminded: bool = False
    hour_reminded: bool = False
    settled: bool = False  # ended, and whoever was still present was checked out

    @property
    def length(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def full(self) -> bool:
        return self.signed >= self.capacity

    def opens_at(self) -> datetime:
        return self.starts_at - WINDOW_BEFORE


@dataclass(frozen=True, slots=True)
class ActivityDraft:
    compound_id: int
    kind: ActivityKind | None = None
    title: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str = ""
    capacity: int | None = None
    announce: bool | None = None
    topic_id: int | None = None  # a meeting (议事会) the branch schedules to answer a topic


class AttendanceStatus(StrEnum):
    SIGNED = "signed"
    CANCELLED = "cancelled"


class Method(StrEnum):
    LOCATION = "location"
    CODE = "code"
    BUTTON = "button"  # checked out with the button or /checkout
    AUTO = "auto"  # checked out by the sweep at the end


@dataclass(frozen=True, slots=True)
class Attendance:
    activity_id: int
    user_id: int
    status: AttendanceStatus
    signed_at: datetime
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    check_in_method: Method | None = None
    check_out_method: Method | None = None
    minutes: int = 0

    @property
    def present(self) -> bool:
        return self.checked_in_at is not None and self.checked_out_at is None


class Refusal(StrEnum):
    """Why a member may not sign up or check in; each is told to the member in words."""

    NOT_MEMBER = "not_member"  # no approved registration
    PENDING = "pending"  # registration not yet approved
    OTHER_COMPOUND = "other_compound"
    CANCELLED = "cancelled"  # the activity was cancelled
    FULL = "full"
    STARTED = "started"  # too late to sign up or cancel
    TOO_EARLY = "too_early"
    ENDED = "ended"
    OUTSIDE = "outside"  # outside the geofence
    NO_FENCE = "no_fence"  # the compound has no coordinates: use the code
    WRONG_CODE = "wrong_code"
    TOO_MANY_TRIES = "too_many_tries"
    NOT_PRESENT = "not_present"  # checking out without having checked in
    NO_ACTIVITY = "no_activity"  # nothing at the member's compound is open for check-in
    DECIDED = "decided"  # a registration already approved or rejected
    SIGNED_ALREADY = "signed_already"  # 代办: that resident has a place already


ORGANISING_KINDS = (UnitKind.COMPOUND, UnitKind.COMMUNITY, UnitKind.SUBDISTRICT, UnitKind.DISTRICT)


def may_manage(*, is_admin: bool, staff_units: Iterable[Unit], compound: Unit) -> bool:
    """A compound's registrations and activities are handled by its party branch, or by staff
    of the compound or a unit above it (a community runs its compounds'); never by the
    property company or the owners' committee."""
    if is_admin:
        return True
    for unit in staff_units:
        if unit.kind is UnitKind.PARTY_BRANCH and unit.parent_id == compound.id:
            return True
        if unit.kind in ORGANISING_KINDS and is_within(compound, unit.id):
            return True
    return False


def eligibility(member: Member | None, activity: Activity) -> Refusal | None:
    """Whether a person may take part in an activity at all."""
    if member is None or member.status in (RegStatus.REJECTED, RegStatus.MOVED):
        return Refusal.NOT_MEMBER
    if member.compound_id != activity.compound_id:
        return Refusal.OTHER_COMPOUND
    if member.status is RegStatus.PENDING:
        return Refusal.PENDING
    if activity.status is ActivityStatus.CANCELLED:
        return Refusal.CANCELLED
    return None


class Standing(StrEnum):
    """Where an activity stands, as its notice in the residents group shows it."""

    OPEN = "open"  # places left: the notice has the sign-up button
    FULL = "full"
    ENDED = "ended"
    CANCELLED = "cancelled"


def standing(activity: Activity, now: datetime) -> Standing:
    if activity.status is ActivityStatus.CANCELLED:
        return Standing.CANCELLED
    if activity.settled or now >= activity.ends_at:
        return Standing.ENDED
    if activity.full:
        return Standing.FULL
    return Standing.OPEN


def window_refusal(activity: Activity, now: datetime) -> Refusal | None:
    """Check-in is open from 30 minutes before the start until the end."""
    if now < activity.opens_at():
        return Refusal.TOO_EARLY
    if now >= activity.ends_at:
        return Refusal.ENDED
    return None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine; ample for a compound's few hundred metres)."""
    radius = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(min(1.0, math.sqrt(a)))


def minutes_present(activity: Activity, checked_in: datetime, checked_out: datetime) -> int:
    """Whole minutes present, counted within the activity's own time and so capped at its length."""
    start = max(checked_in, activity.starts_at)
    end = min(checked_out, activity.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


class Reminder(StrEnum):
    DAY = "day"
    HOUR = "hour"


def reminder_due(activity: Activity, now: datetime) -> Reminder | None:
    """Which reminder to send now. A day-before reminder that was missed (the bot was down) is
    not sent once the hour-before one is due: one reminder is enough, never both at once."""
    if activity.status is not ActivityStatus.OPEN or now >= activity.starts_at:
        return None
    if activity.hour_reminded:
        return None
    if now >= activity.starts_at - REMIND_HOUR:
        return Reminder.HOUR
    if not activity.day_reminded and now >= activity.starts_at - REMIND_DAY:
        return Reminder.DAY
    return None


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def code_matches(activity: Activity, typed: str) -> bool:
    digits = "".join(ch for ch in typed if not ch.isspace())
    return secrets.compare_digest(digits.encode(), activity.code.encode())


_CODE = re.compile(rf"\s*\d{{{CODE_DIGITS}}}\s*")


def looks_like_code(text: str) -> bool:
    return bool(_CODE.fullmatch(text))


# --- times as organisers write them --------------------------------------------------------------


class WhenError(StrEnum):
    UNREADABLE = "unreadable"
    PAST = "past"
    TOO_FAR = "too_far"
    TOO_LONG = "too_long"
    NOT_AFTER = "not_after"  # the end is not after the start


_DATE_ISO = r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
_DATE_MD = r"(?P<m2>\d{1,2})\s*[-/.月]\s*(?P<d2>\d{1,2})\s*[日号]?"
_RELATIVE_DAY = r"(?P<rel>今天|明天|后天|today|tomorrow)"
_CLOCK = (
    r"(?P<half>上午|早上|中午|下午|晚上|am|pm)?\s*(?P<h>\d{1,2})\s*(?:[:：点时]\s*(?P<min>\d{1,2})?"
    r"\s*分?|(?P<halfhour>点半))?\s*(?P<half2>am|pm)?"
)
_START = re.compile(
    rf"^(?:{_DATE_ISO}|{_DATE_MD}|{_RELATIVE_DAY})\s*[,，]?\s*{_CLOCK}$", re.IGNORECASE
)
_TIME_ONLY = re.compile(rf"^{_CLOCK}$", re.IGNORECASE)
_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?:个)?\s*(?:小时|h|hours?|hrs?)$", re.IGNORECASE)
_RELATIVE_DAYS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}


def _clock(m: re.Match[str]) -> time | None:
    hour = int(m["h"])
    minute = 30 if m["halfhour"] else int(m["min"] or 0)
    half = (m["half"] or m["half2"] or "").lower()
    afternoon = half in ("下午", "晚上", "pm") or (half == "中午" and hour < 6)
    if afternoon and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_start(text: str, now: datetime, zone: ZoneInfo) -> datetime | WhenError:
    """When an activity starts, as written: 2026-11-23 09:00, 11月23日 9点, 11/23 14:30,
    明天 上午9点, 后天 下午2点半. In the future and within a year."""
    raw = text.strip().replace("：", ":")
    m = _START.match(raw)
    if m is None:
        return WhenError.UNREADABLE
    today = now.astimezone(zone).date()
    clock = _clock(m)
    try:
        if m["y"]:
            day = date(int(m["y"]), int(m["m"]), int(m["d"]))
        elif m["m2"]:
            day = date(today.year, int(m["m2"]), int(m["d2"]))
            if day < today - timedelta(days=183):  # "1月5日" written in December: next year
                day = day.replace(year=today.year + 1)
        else:
            day = today + timedelta(days=_RELATIVE_DAYS[m["rel"].lower()])
    except ValueError:
        return WhenError.UNREADABLE
    if clock is None:
        return WhenError.UNREADABLE
    at = datetime.combine(day, clock, tzinfo=zone)
    if at <= now:
        return WhenError.PAST
    if at - now > FURTHEST:
        return WhenError.TOO_FAR
    return at


def parse_end(text: str, start: datetime, zone: ZoneInfo) -> datetime | WhenError:
    """When an activity ends: a clock time on the start's day (11:30, 下午5点) or a length
    (2小时, 1.5h)."""
    raw = text.strip().replace("：", ":")
    if m := _DURATION.match(raw):
        hours = float(m["n"])
        if hours > MAX_LENGTH / timedelta(hours=1):  # 1000000000小时 would not fit a timedelta
            return WhenError.TOO_LONG
        end = start + timedelta(hours=hours)
    elif m := _TIME_ONLY.match(raw):
        clock = _clock(m)
        if clock is None:
            return WhenError.UNREADABLE
        end = datetime.combine(start.astimezone(zone).date(), clock, tzinfo=zone)
    else:
        return WhenError.UNREADABLE
    if end <= start:
        return WhenError.NOT_AFTER
    if end - start > MAX_LENGTH:
        return WhenError.TOO_LONG
    return end
