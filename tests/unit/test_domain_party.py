"""Party members' pure rules: times as organisers write them, the geofence, hours present, which
reminder is due, who may take part and who may manage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.org import Unit, UnitKind
from bot.domain.party import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Member,
    MemberType,
    Refusal,
    RegStatus,
    Reminder,
    WhenError,
    code_matches,
    distance_m,
    eligibility,
    looks_like_code,
    may_manage,
    minutes_present,
    parse_end,
    parse_start,
    reminder_due,
    window_refusal,
)

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=ZONE)  # a Saturday morning
START = datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)


def activity(**changes: object) -> Activity:
    values: dict[str, object] = {
        "id": 1,
        "compound_id": 10,
        "kind": ActivityKind.CLEANUP,
        "title": "周六楼道大扫除",
        "place": "东门广场",
        "starts_at": START,
        "ends_at": START + timedelta(hours=2),
        "capacity": 3,
        "code": "4821",
        "created_by": 7,
        "status": ActivityStatus.OPEN,
    }
    values.update(changes)
    return Activity(**values)  # type: ignore[arg-type]


def member(status: RegStatus = RegStatus.APPROVED, compound_id: int = 10) -> Member:
    return Member(
        id=1, user_id=5, name="王阿姨", compound_id=compound_id, building="3号楼",
        workplace="市一院党委", type=MemberType.RETIRED, phone=None, status=status, reason="",
        created_at=NOW,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28 09:00", datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)),
        ("2026年11月28日 9点", datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)),
        ("11月28日 上午9点", datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)),
        ("11/28 14:30", datetime(2026, 11, 28, 14, 30, tzinfo=ZONE)),
        ("明天 下午2点半", datetime(2026, 11, 22, 14, 30, tzinfo=ZONE)),
        ("后天9：00", datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)),
        ("今天 晚上7点", datetime(2026, 11, 21, 19, 0, tzinfo=ZONE)),
        ("tomorrow 3pm", datetime(2026, 11, 22, 15, 0, tzinfo=ZONE)),
        (
            "1月5日 9:00",
            datetime(2027, 1, 5, 9, 0, tzinfo=ZONE),
        ),  # written in November: next January
    ],
)
def test_start_times_as_organisers_write_them(text: str, expected: datetime) -> None:
    assert parse_start(text, NOW, ZONE) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("今天 8点", WhenError.PAST),
        ("昨天 9:00", WhenError.UNREADABLE),
        ("明天", WhenError.UNREADABLE),
        ("11月28日 25点", WhenError.UNREADABLE),
        ("2月30日 9:00", WhenError.UNREADABLE),
        ("2028-01-01 09:00", WhenError.TOO_FAR),
        ("", WhenError.UNREADABLE),
        ("周六大扫除" * 50, WhenError.UNREADABLE),
    ],
)
def test_start_times_that_cannot_be(text: str, error: WhenError) -> None:
    assert parse_start(text, NOW, ZONE) is error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11:30", START.replace(hour=11, minute=30)),
        ("下午5点", START.replace(hour=17)),
        ("2小时", START + timedelta(hours=2)),
        ("1.5h", START + timedelta(minutes=90)),
        ("3 hours", START + timedelta(hours=3)),
        ("8:00", WhenError.NOT_AFTER),
        ("9:00", WhenError.NOT_AFTER),
        ("20小时", WhenError.TOO_LONG),
        ("很久", WhenError.UNREADABLE),
    ],
)
def test_end_times(text: str, expected: datetime | WhenError) -> None:
    assert parse_end(text, START, ZONE) == expected


def test_distance_matches_a_degree_of_latitude_and_is_symmetric() -> None:
    assert distance_m(34.0, 113.8, 35.0, 113.8) == pytest.approx(111_195, rel=1e-3)
    assert distance_m(34.0385, 113.8120, 34.0385, 113.8120) == 0
    a, b = (34.0385, 113.8120), (34.0362, 113.8151)
    assert distance_m(*a, *b) == pytest.approx(distance_m(*b, *a))
    assert 350 < distance_m(*a, *b) < 400  # 西湖左岸 to 西湖家园


@given(st.floats(-60, 60), st.floats(-179, 179), st.floats(-0.01, 0.01), st.floats(-0.01, 0.01))
def test_distance_is_never_negative_and_short_hops_add_up(
    lat: float, lon: float, dlat: float, dlon: float
) -> None:
    a, c = (lat, lon), (lat + dlat, lon + dlon)
    b = (lat + dlat / 2, lon + dlon / 2)
    there = distance_m(*a, *c)
    assert there >= 0
    assert there == pytest.approx(distance_m(*c, *a), abs=1e-6)
    assert there <= distance_m(*a, *b) + distance_m(*b, *c) + 1e-6  # the triangle inequality


def test_hours_are_the_time_present_within_the_activity() -> None:
    a = activity()
    assert minutes_present(a, START - timedelta(minutes=20), START + timedelta(hours=1)) == 60
    assert minutes_present(a, START + timedelta(minutes=30), START + timedelta(hours=5)) == 90
    assert minutes_present(a, START - timedelta(hours=1), START + timedelta(hours=9)) == 120
    assert minutes_present(a, START - timedelta(hours=1), START - timedelta(minutes=5)) == 0


@given(st.integers(-180, 300), st.integers(0, 400))
def test_hours_never_exceed_the_scheduled_length(arrive: int, stay: int) -> None:
    a = activity()
    came = START + timedelta(minutes=arrive)
    minutes = minutes_present(a, came, came + timedelta(minutes=stay))
    assert 0 <= minutes <= 120
    assert minutes <= stay


def test_check_in_window_opens_half_an_hour_before_and_closes_at_the_end() -> None:
    a = activity()
    assert window_refusal(a, START - timedelta(minutes=31)) is Refusal.TOO_EARLY
    assert window_refusal(a, START - timedelta(minutes=30)) is None
    assert window_refusal(a, START + timedelta(minutes=119)) is None
    assert window_refusal(a, START + timedelta(hours=2)) is Refusal.ENDED


def test_reminders_a_day_then_an_hour_before_each_once() -> None:
    a = activity()
    assert reminder_due(a, START - timedelta(days=2)) is None
    assert reminder_due(a, START - timedelta(hours=23)) is Reminder.DAY
    assert reminder_due(activity(day_reminded=True), START - timedelta(hours=23)) is None
    assert reminder_due(activity(day_reminded=True), START - timedelta(minutes=50)) is (
        Reminder.HOUR
    )
    done = activity(day_reminded=True, hour_reminded=True)
    assert reminder_due(done, START - timedelta(minutes=50)) is None
    # The bot was down through the day-before point: only the hour-before one goes out.
    assert reminder_due(a, START - timedelta(minutes=30)) is Reminder.HOUR
    assert reminder_due(activity(hour_reminded=True), START - timedelta(minutes=30)) is None
    assert reminder_due(a, START) is None  # started: too late for either
    cancelled = activity(status=ActivityStatus.CANCELLED)
    assert reminder_due(cancelled, START - timedelta(hours=5)) is None


def test_who_may_take_part() -> None:
    a = activity()
    assert eligibility(member(), a) is None
    assert eligibility(None, a) is Refusal.NOT_MEMBER
    assert eligibility(member(RegStatus.REJECTED), a) is Refusal.NOT_MEMBER
    assert eligibility(member(RegStatus.MOVED), a) is Refusal.NOT_MEMBER
    assert eligibility(member(RegStatus.PENDING), a) is Refusal.PENDING
    assert eligibility(member(compound_id=11), a) is Refusal.OTHER_COMPOUND
    assert eligibility(member(), activity(status=ActivityStatus.CANCELLED)) is Refusal.CANCELLED


def unit(uid: int, kind: UnitKind, path: str, parent: int | None) -> Unit:
    return Unit(uid, f"u{uid}", kind, f"单位{uid}", f"Unit {uid}", parent, path)


def test_who_may_manage_a_compound() -> None:
    community = unit(3, UnitKind.COMMUNITY, "/1/2/3/", 2)
    other_community = unit(30, UnitKind.COMMUNITY, "/1/2/30/", 2)
    compound = unit(10, UnitKind.COMPOUND, "/1/2/3/10/", 3)
    neighbour = unit(11, UnitKind.COMPOUND, "/1/2/3/11/", 3)
    branch = unit(12, UnitKind.PARTY_BRANCH, "/1/2/3/10/12/", 10)
    neighbour_branch = unit(13, UnitKind.PARTY_BRANCH, "/1/2/3/11/13/", 11)
    property_company = unit(14, UnitKind.PROPERTY_COMPANY, "/1/2/3/10/14/", 10)
    committee = unit(15, UnitKind.OWNERS_COMMITTEE, "/1/2/3/10/15/", 10)

    def may(*units: Unit, admin: bool = False) -> bool:
        return may_manage(is_admin=admin, staff_units=units, compound=compound)

    assert may(branch) and may(community) and may(compound) and may(admin=True)
    assert not may(neighbour_branch)
    assert not may(property_company) and not may(committee)
    assert not may(other_community) and not may(neighbour)
    assert not may()


def test_codes() -> None:
    a = activity()
    assert (
        looks_like_code(" 4821 ") and not looks_like_code("48213") and not looks_like_code("ab12")
    )
    assert code_matches(a, "4821") and code_matches(a, " 48 21 ")
    assert not code_matches(a, "4822") and not code_matches(a, "")


def test_times_are_aware() -> None:
    start = parse_start("明天 9:00", NOW.astimezone(UTC), ZONE)
    assert isinstance(start, datetime) and start.utcoffset() == timedelta(hours=8)
