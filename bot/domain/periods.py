"""Reporting periods for /stats and /export: named ones (本月, last week, …), a month, or two days.

A period is whole local days, start ≤ day < end; its code fits a callback button."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

LONGEST = timedelta(days=3 * 366)  # a ledger or a ranking over more than three years is a mistake


class PeriodError(StrEnum):
    UNREADABLE = "unreadable"
    BACKWARDS = "backwards"  # ends before it starts
    FUTURE = "future"  # starts after today
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # the day after the last one

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def code(self) -> str:
        """Compact form for callback data: 20261101-20261121 (the last day, inclusive)."""
        return f"{self.start:%Y%m%d}-{self.last:%Y%m%d}"

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's first and after-last instants in a zone."""
        return _midnight(self.start, zone), _midnight(self.end, zone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _month(year: int, month: int) -> Period:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return Period(start, end)


def week_of(day: date) -> Period:
    """Monday to Sunday."""
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=7))


def named(name: str, today: date) -> Period | None:
    """The periods with a name, as buttons and words: today, week, last week, month, last month,
    year, and the last 7 or 30 days."""
    tomorrow = today + timedelta(days=1)
    match name:
        case "today":
            return Period(today, tomorrow)
        case "week":
            return Period(week_of(today).start, tomorrow)
        case "last_week":
            return week_of(today - timedelta(days=7))
        case "month":
            return Period(today.replace(day=1), tomorrow)
        case "last_month":
            first = today.replace(day=1) - timedelta(days=1)
            return _month(first.year, first.month)
        case "year":
            return Period(date(today.year, 1, 1), tomorrow)
    m = re.fullmatch(r"days(\d{1,3})", name)
    if m and 0 < int(m[1]) <= 366:
        return Period(tomorrow - timedelta(days=int(m[1])), tomorrow)
    return None


EARLIEST = date(2000, 1, 1)  # no ledger of this bot starts before; older dates are typos

_WORDS = {
    "今天": "today", "今日": "today", "today": "today",
    "本周": "week", "这周": "week", "this week": "week", "week": "week",
    "上周": "last_week", "last week": "last_week",
    "本月": "month", "这个月": "month", "this month": "month", "month": "month",
    "上月": "last_month", "上个月": "last_month", "last month": "last_month",
    "今年": "year", "本年": "year", "this year": "year", "year": "year",
}  # fmt: skip
_LAST_DAYS = re.compile(r"(?:近|最近|last\s*)?(\d{1,3})\s*(?:天|日|d|days?)", re.IGNORECASE)
_DAY = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_RANGE = re.compile(_DAY + r"\s*(?:\.\.|至|到|~|～|—|–|to)\s*" + _DAY, re.IGNORECASE)
_ONE_DAY = re.compile(_DAY)
_MONTH = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*月?")
_CODE = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{4})(\d{2})(\d{2})")


def parse_period(text: str, today: date) -> Period | PeriodError:
    """A period as written: 本月, 上月, 本周, 今年, 近30天, last week, 2026-11, 11月, 2026年11月,
    2026-11-01 至 2026-11-20, 2026-11-05; or a button's code."""
    raw = " ".join(text.strip().casefold().split())
    try:
        period = _read(raw, today)
    except (ValueError, OverflowError):  # 2026-02-30; 9999-12-31 (its next day has no date)
        return PeriodError.UNREADABLE
    if period is None or not period.start >= EARLIEST:
        return PeriodError.UNREADABLE
    if period.end <= period.start:
        return PeriodError.BACKWARDS
    if period.start > today:
        return PeriodError.FUTURE
    if period.end - period.start > LONGEST:
        return PeriodError.TOO_LONG
    return period


def _read(raw: str, today: date) -> Period | None:
    if raw in _WORDS:
        return named(_WORDS[raw], today)
    if m := _LAST_DAYS.fullmatch(raw):
        return named(f"days{int(m[1])}", today) if int(m[1]) else None
    if m := _CODE.fullmatch(raw):
        first = date(int(m[1]), int(m[2]), int(m[3]))
        last = date(int(m[4]), int(m[5]), int(m[6]))
        return Period(first, last + timedelta(days=1))
    if m := _RANGE.fullmatch(raw):
        first = date(int(m[1]), int(m[2]), int(m[3]))
        last = date(int(m[4]), int(m[5]), int(m[6]))
        return Period(first, last + timedelta(days=1))
    if m := _ONE_DAY.fullmatch(raw):
        day = date(int(m[1]), int(m[2]), int(m[3]))
        return Period(day, day + timedelta(days=1))
    if m := _MONTH.fullmatch(raw):
        month = int(m[2])
        if not 1 <= month <= 12:
            return None
        year = int(m[1]) if m[1] else today.year
        if not m[1] and month > today.month:  # "12月" written in January: the last one
            year -= 1
        return _month(year, month)
    return None
