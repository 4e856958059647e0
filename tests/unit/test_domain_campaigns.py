"""Campaign schedules as staff write them, standard cron weekdays, late slots, who may run one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.campaigns import (
    DEFAULT_GRACE,
    Late,
    ScheduleError,
    checked,
    late_slot,
    may_run,
    parse_schedule,
    parse_until,
)
from bot.domain.org import Unit, UnitKind

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=ZONE)  # a Saturday, after 09:00
SAT = datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)


@pytest.mark.parametrize(
    "text",
    ["每周六 09:00", "每周六9点", "每星期六 上午9点", "every Saturday 09:00", "every sat at 9:00",
     "0 9 * * 6", "0 9 * * sat"],
)  # fmt: skip
def test_weekly_forms_all_mean_saturday_at_nine(text: str) -> None:
    schedule = parse_schedule(text, ZONE)
    assert not isinstance(schedule, ScheduleError), text
    assert schedule.runs(NOW, NOW + timedelta(days=15)) == [SAT, SAT + timedelta(days=7)]


def test_standard_cron_counts_sunday_as_zero_and_seven() -> None:
    for text in ("0 9 * * 0", "0 9 * * 7"):
        schedule = parse_schedule(text, ZONE)
        assert not isinstance(schedule, ScheduleError)
        assert schedule.next_after(NOW) == SAT + timedelta(days=1) - timedelta(days=7)
    weekdays = parse_schedule("30 7 * * 1-5", ZONE)
    assert not isinstance(weekdays, ScheduleError)
    assert [d.weekday() for d in weekdays.runs(NOW, NOW + timedelta(days=7), 10)] == [0, 1, 2, 3, 4]


def test_daily_and_fixed_dates() -> None:
    daily = parse_schedule("每天 下午5点", ZONE)
    assert not isinstance(daily, ScheduleError)
    assert daily.next_after(NOW) == NOW.replace(hour=17)
    fixed = parse_schedule("2026-12-19 09:00; 2026-12-05 09:00", ZONE)
    assert not isinstance(fixed, ScheduleError)
    assert fixed.runs(NOW, NOW + timedelta(days=60)) == [
        datetime(2026, 12, 5, 9, 0, tzinfo=ZONE),
        datetime(2026, 12, 19, 9, 0, tzinfo=ZONE),
    ]
    assert fixed.next_after(datetime(2026, 12, 19, 9, 0, tzinfo=ZONE)) is None


@pytest.mark.parametrize(
    "text",
    ["每周八 9:00", "every funday 9:00", "0 99 * * *", "0 9 * *", "每周六 25:00", "", "下周"],
)
def test_unreadable_schedules(text: str) -> None:
    assert parse_schedule(text, ZONE) is ScheduleError.UNREADABLE


def test_a_schedule_must_fire_inside_the_period() -> None:
    assert checked("2026-01-01 09:00", ZONE, NOW, NOW + timedelta(days=30)) is ScheduleError.NO_RUNS
    assert not isinstance(checked("每天 08:00", ZONE, NOW, NOW + timedelta(days=1)), ScheduleError)


def test_the_last_day_as_written() -> None:
    today = NOW.date()
    assert parse_until("2026-12-31", today) == date(2026, 12, 31)
    assert parse_until("12月31日", today) == date(2026, 12, 31)
    assert parse_until("1/15", today) == date(2027, 1, 15)  # January: the coming one
    assert parse_until("11月21日", today) == today
    for text in ("2026-11-20", "2028-01-01", "2月30日", "下个月", ""):
        assert parse_until(text, today) is None, text


def test_late_slots_inside_the_grace_window_are_sent_else_skipped() -> None:
    assert late_slot(SAT, SAT + timedelta(hours=2), DEFAULT_GRACE) is Late.SEND
    assert late_slot(SAT, SAT + DEFAULT_GRACE, DEFAULT_GRACE) is Late.SEND
    assert late_slot(SAT, SAT + DEFAULT_GRACE + timedelta(seconds=1), DEFAULT_GRACE) is Late.SKIP


def unit(uid: int, kind: UnitKind, path: str) -> Unit:
    return Unit(uid, f"u{uid}", kind, f"单位{uid}", f"Unit {uid}", None, path)


def test_community_level_staff_run_campaigns_for_their_own_subtree() -> None:
    district = unit(1, UnitKind.DISTRICT, "/1/")
    sub = unit(2, UnitKind.SUBDISTRICT, "/1/2/")
    community = unit(3, UnitKind.COMMUNITY, "/1/2/3/")
    other = unit(30, UnitKind.COMMUNITY, "/1/2/30/")
    branch = unit(12, UnitKind.PARTY_BRANCH, "/1/2/3/10/12/")

    def may(staff: Unit, scope: Unit) -> bool:
        return may_run(is_admin=False, staff_units=[staff], scope=scope)

    assert may(district, district) and may(sub, community) and may(community, community)
    assert not may(community, sub) and not may(community, other)
    assert not may(branch, district) and not may(branch, community)
    assert may_run(is_admin=True, staff_units=[], scope=district)
