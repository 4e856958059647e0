"""Environmental campaigns (人居环境整治): schedules as staff write them, the slots they give, what
to do with a slot found late, and who may run a campaign where.

Schedules are read into APScheduler cron triggers (APScheduler computes the fire times; nothing
here re-implements calendars). Standard cron numbers the days of the week from Sunday = 0, while
APScheduler's `from_crontab` numbers them from Monday = 0, so a typed cron expression has its
day-of-week numbers turned into names first: "0 9 * * 6" is Saturday, as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.domain.org import Unit, UnitKind, is_within

MAX_TITLE, MAX_TEXT = 60, 1000
DEFAULT_GRACE = timedelta(hours=6)
RUNNING_KINDS = (UnitKind.COMMUNITY, UnitKind.SUBDISTRICT, UnitKind.DISTRICT)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CRON_DAYS = (
    "sun",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
)  # standard cron: 0 and 7 = Sunday
_ZH_DAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EN_DAYS = {
    name: n
    for n, names in enumerate(
        (("monday", "mon"), ("tuesday", "tue"), ("wednesday", "wed"), ("thursday", "thu"),
         ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun"))
    )
    for name in names
}  # fmt: skip


class CampaignFileError(ValueError):
    """A campaign file entry that cannot be used; the message names the entry and the key."""


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class SlotStatus(StrEnum):
    SENDING = "sending"  # being fanned out to the chats in scope
    DONE = "done"
    SKIPPED = "skipped"  # found too late (outside the grace window)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    title: str
    text: str
    photo: str | None
    scope_id: int
    schedule: str
    starts_at: datetime
    ends_at: datetime
    status: CampaignStatus
    created_by: int
    next_slot: datetime | None
    summary_at: datetime | None = None


class CampaignAction(StrEnum):
    """What staff do with a running campaign (its buttons carry these)."""

    PAUSE = "p"
    RESUME = "r"
    END = "e"
    SUMMARY = "s"


@dataclass(frozen=True, slots=True)
class Plan:
    """A campaign being written (kept in the FSM)."""

    scope_id: int = 0
    title: str = ""
    text: str = ""
    photo: str | None = None
    ends_at: datetime | None = None
    schedule: str = ""


class ScheduleError(StrEnum):
    UNREADABLE = "unreadable"
    NO_RUNS = "no_runs"  # readable, but never fires inside the period


@dataclass(frozen=True, slots=True)
class Schedule:
    """A recurring cron trigger, or fixed dates."""

    trigger: CronTrigger | None
    dates: tuple[datetime, ...] = ()

    def next_after(self, after: datetime) -> datetime | None:
        """The first run strictly after `after`."""
        if self.trigger is None:
            return next((d for d in self.dates if d > after), None)
        probe = after + timedelta(seconds=1)
        fire: datetime | None = self.trigger.get_next_fire_time(None, probe)
        return fire

    def runs(self, after: datetime, until: datetime, limit: int = 3) -> list[datetime]:
        found: list[datetime] = []
        current = self.next_after(after)
        while current is not None and current <= until and len(found) < limit:
            found.append(current)
            current = self.next_after(current)
        return found


_CLOCK = r"(?P<half>上午|早上|下午|晚上)?\s*(?P<h>\d{1,2})\s*(?:[:：点]\s*(?P<m>\d{1,2})?\s*分?)?"
_WEEKLY_ZH = re.compile(rf"^(?:每周|每星期|每个?礼拜)(?P<day>[一二三四五六日天])\s*{_CLOCK}$")
_WEEKLY_EN = re.compile(rf"^every\s+(?P<day>[a-z]+)\s+(?:at\s+)?{_CLOCK}$", re.IGNORECASE)
_DAILY = re.compile(rf"^(?:每天|每日|daily|every\s*day)\s*(?:at\s+)?{_CLOCK}$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})$")


def _hour_minute(m: re.Match[str]) -> tuple[int, int] | None:
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if m["half"] in ("下午", "晚上") and hour < 12:
        hour += 12
    return (hour, minute) if hour < 24 and minute < 60 else None


def _cron_days(field: str) -> str:
    """Standard cron day-of-week numbers (0 or 7 = Sunday) as names APScheduler reads."""
    return re.sub(r"\d+", lambda d: CRON_DAYS[int(d.group())] if int(d.group()) < 8 else "x", field)


def _dates(raw: str, zone: ZoneInfo) -> tuple[datetime, ...]:
    """Fixed dates ("2026-12-05 09:00; 2026-12-19 09:00"), or () when that is not what it is."""
    found = []
    for part in filter(None, (p.strip() for p in re.split(r"[;,，；]", raw))):
        m = _DATE.match(part)
        if m is None:
            return ()
        year, month, day, hour, minute = map(int, m.groups())
        found.append(datetime(year, month, day, hour, minute, tzinfo=zone))
    return tuple(sorted(found))


def parse_schedule(text: str, zone: ZoneInfo) -> Schedule | ScheduleError:
    """每周六 09:00 · every Saturday 09:00 · 每天 08:00 · daily 8:00 · fixed dates
    (2026-12-05 09:00; 2026-12-19 09:00) · cron (0 9 * * 6)."""
    raw = " ".join(text.strip().replace("：", ":").split())
    try:
        if m := _WEEKLY_ZH.match(raw):
            at = _hour_minute(m)
            day = WEEKDAYS[_ZH_DAYS[m["day"]]]
        elif (m := _WEEKLY_EN.match(raw)) and m["day"].lower() in _EN_DAYS:
            at = _hour_minute(m)
            day = WEEKDAYS[_EN_DAYS[m["day"].lower()]]
        elif m := _DAILY.match(raw):
            at, day = _hour_minute(m), "*"
        elif dates := _dates(raw, zone):
            return Schedule(None, dates)
        elif len(fields := raw.split(" ")) == 5:
            minute, hour, dom, month, dow = fields
            trigger = CronTrigger(
                minute=minute, hour=hour, day=dom, month=month, day_of_week=_cron_days(dow),
                timezone=zone,
            )  # fmt: skip
            return Schedule(trigger)
        else:
            return ScheduleError.UNREADABLE
        if at is None:
            return ScheduleError.UNREADABLE
        return Schedule(CronTrigger(day_of_week=day, hour=at[0], minute=at[1], timezone=zone))
    except ValueError:
        return ScheduleError.UNREADABLE


def checked(
    text: str, zone: ZoneInfo, starts_at: datetime, ends_at: datetime
) -> Schedule | ScheduleError:
    """A schedule that fires at least once in the period."""
    schedule = parse_schedule(text, zone)
    if isinstance(schedule, ScheduleError):
        return schedule
    if not schedule.runs(starts_at - timedelta(seconds=1), ends_at, 1):
        return ScheduleError.NO_RUNS
    return schedule


_UNTIL = re.compile(r"^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")


def parse_until(text: str, today: date) -> date | None:
    """The last day of a campaign: 2026-12-31, 12月31日, 12/31 (without a year: the next such day);
    None when unreadable, past, or more than a year away."""
    m = _UNTIL.match(text.strip())
    if m is None:
        return None
    try:
        day = date(int(m[1] or today.year), int(m[2]), int(m[3]))
        if m[1] is None and day < today:
            day = day.replace(year=today.year + 1)
    except ValueError:
        return None
    return day if today <= day <= today + timedelta(days=366) else None


class Late(StrEnum):
    SEND = "send"
    SKIP = "skip"


def late_slot(slot: datetime, now: datetime, grace: timedelta) -> Late:
    """A slot found at `now` (the bot may have been down): sent if still inside the grace window,
    otherwise skipped; either way only once (the caller records the slot)."""
    return Late.SEND if now - slot <= grace else Late.SKIP


def may_run(*, is_admin: bool, staff_units: Iterable[Unit], scope: Unit) -> bool:
    """Campaigns are run by community-level staff or above, for their own subtree."""
    if is_admin:
        return True
    return any(unit.kind in RUNNING_KINDS and is_within(scope, unit.id) for unit in staff_units)
