"""Periods as secretaries write them, and as buttons carry them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.periods import Period, PeriodError, parse_period, week_of

TODAY = date(2026, 11, 21)  # a Saturday


@pytest.mark.parametrize(
    ("text", "start", "last"),
    [
        ("本月", date(2026, 11, 1), TODAY),
        ("this month", date(2026, 11, 1), TODAY),
        ("上月", date(2026, 10, 1), date(2026, 10, 31)),
        ("上周", date(2026, 11, 9), date(2026, 11, 15)),
        ("last week", date(2026, 11, 9), date(2026, 11, 15)),
        ("本周", date(2026, 11, 16), TODAY),
        ("今年", date(2026, 1, 1), TODAY),
        ("近30天", date(2026, 10, 23), TODAY),
        ("30 days", date(2026, 10, 23), TODAY),
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026年2月", date(2026, 2, 1), date(2026, 2, 28)),
        ("12月", date(2025, 12, 1), date(2025, 12, 31)),  # written in November: the last one
        ("2026-11-01 至 2026-11-20", date(2026, 11, 1), date(2026, 11, 20)),
        ("2026/11/01 to 2026/11/20", date(2026, 11, 1), date(2026, 11, 20)),
        ("2026年11月5日", date(2026, 11, 5), date(2026, 11, 5)),
    ],
)
def test_periods_as_written(text: str, start: date, last: date) -> None:
    period = parse_period(text, TODAY)
    assert isinstance(period, Period)
    assert (period.start, period.last) == (start, last)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("下周", PeriodError.UNREADABLE),
        ("", PeriodError.UNREADABLE),
        ("13月", PeriodError.UNREADABLE),
        ("2026-02-30", PeriodError.UNREADABLE),
        ("0天", PeriodError.UNREADABLE),
        ("x" * 5000, PeriodError.UNREADABLE),
        ("2026-11-20 至 2026-11-01", PeriodError.BACKWARDS),
        ("2027-01", PeriodError.FUTURE),
        ("2020-01-01 至 2026-01-01", PeriodError.TOO_LONG),
    ],
)
def test_what_cannot_be_a_period_says_why(text: str, error: PeriodError) -> None:
    assert parse_period(text, TODAY) is error


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=TODAY),
    st.integers(min_value=1, max_value=3 * 365),
)
def test_a_buttons_code_reads_back_as_the_same_period(start: date, days: int) -> None:
    period = Period(start, start + timedelta(days=days))
    assert parse_period(period.code, TODAY) == period
    assert len(f"ov:s:999999:0:{period.code}".encode()) <= 64  # callback_data's limit


def test_weeks_run_monday_to_sunday() -> None:
    week = week_of(TODAY)
    assert (week.start, week.last) == (date(2026, 11, 16), date(2026, 11, 22))
