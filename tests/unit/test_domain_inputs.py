"""Every parser of what people type answers for any text: a value in range, or a refusal —
never an exception (an update that raised would be parked and its sender told it failed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.campaigns import ScheduleError, parse_schedule, parse_until
from bot.domain.inputs import MAX_ROW_ID, parse_id, parse_number, valid_location
from bot.domain.lostfound import DayError, parse_day
from bot.domain.party import MAX_LENGTH, WhenError, parse_end, parse_start
from bot.domain.periods import EARLIEST, LONGEST, Period, PeriodError, parse_period

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 21)
ODD = [
    "9999-12-31", "0001-01-01", "2026-02-30", "9999-12-31..9999-12-31", "20261101-99991231",
    "1000000000小时", "9" * 400 + "小时", "99999-1-1 9:00", "²", "١٢", "３", "18446744073709551616",
    "0 9 * * 99999999999", "* * * * *", "2026-12-05 25:00", "9999-12-31 23:59", "0000-01-01 09:00",
    "12月32日", "0号", "99号", "明天 99点", "-1", "1e9", "", " ", "\x00", "中" * 5000,
]  # fmt: skip
texts = st.one_of(
    st.sampled_from(ODD), st.text(max_size=40), st.from_regex(r"[0-9 :.\-/年月日号点]{1,24}")
)


@given(texts)
def test_ids_and_numbers_are_ascii_and_in_range(text: str) -> None:
    value = parse_id(text)
    assert value is None or (0 < value <= MAX_ROW_ID and text.isascii())
    number = parse_number(text, 1, 500)
    assert number is None or 1 <= number <= 500


@pytest.mark.parametrize("text", ["²", "١٢", "３", "18446744073709551616", "0", "-1", " 7", "1.0"])
def test_what_is_not_an_id(text: str) -> None:
    assert parse_id(text) is None


@given(st.floats(allow_nan=True), st.floats(allow_nan=True))
def test_a_location_is_on_the_globe(lat: float, lon: float) -> None:
    assert valid_location(lat, lon) == (-90 <= lat <= 90 and -180 <= lon <= 180)


@given(texts)
def test_periods(text: str) -> None:
    period = parse_period(text, TODAY)
    if isinstance(period, Period):
        assert EARLIEST <= period.start < period.end and period.end - period.start <= LONGEST
        assert period.start <= TODAY
    else:
        assert isinstance(period, PeriodError)


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "2026-01-01..9999-12-31"])
def test_periods_the_probes_sent(text: str) -> None:
    assert isinstance(parse_period(text, TODAY), PeriodError)


@given(texts)
def test_activity_times(text: str) -> None:
    start = parse_start(text, NOW, ZONE)
    assert isinstance(start, WhenError) or NOW < start <= NOW + timedelta(days=366)
    end = parse_end(text, NOW + timedelta(days=1), ZONE)
    if not isinstance(end, WhenError):
        assert timedelta(0) < end - (NOW + timedelta(days=1)) <= MAX_LENGTH


def test_a_billion_hours_is_too_long() -> None:
    assert parse_end("1000000000小时", NOW, ZONE) is WhenError.TOO_LONG


@given(texts)
def test_lost_days(text: str) -> None:
    day = parse_day(text, TODAY)
    assert isinstance(day, DayError) or TODAY - timedelta(days=365) <= day <= TODAY


@given(texts)
def test_campaign_schedules_and_ends(text: str) -> None:
    schedule = parse_schedule(text, ZONE)
    if not isinstance(schedule, ScheduleError):
        schedule.runs(NOW, NOW + timedelta(days=30))  # and it can be asked when it runs
    until = parse_until(text, TODAY)
    assert until is None or TODAY <= until <= TODAY + timedelta(days=366)
