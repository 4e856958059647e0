"""A group notice as its subject stands (issue 20): a found item's notice keeps its claim button
only while the item is open, and then says what became of it; an activity's notice shows the
places taken, and loses its sign-up button once full, ended or cancelled. Neither carries the
finder's description nor anybody's name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.lostfound import HELD_GATE, Category, Item, Kind, Status
from bot.domain.party import Activity, ActivityKind, ActivityStatus, Standing, standing
from bot.i18n import build_i18n
from bot.ui import lostfound, party

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 28, 9, 0, tzinfo=ZONE)
BEFORE = START - timedelta(days=1)
ACTIVITY = Activity(
    id=4,
    compound_id=10,
    kind=ActivityKind.CLEANUP,
    title="周六楼道大扫除",
    place="东门广场",
    starts_at=START,
    ends_at=START + timedelta(hours=2),
    capacity=3,
    code="4821",
    created_by=7,
    status=ActivityStatus.OPEN,
    signed=2,
)
FOUND = Item(
    id=12,
    kind=Kind.FOUND,
    reporter_id=5002,
    compound_id=10,
    community_id=3,
    subdistrict_id=2,
    category=Category.PHONE,
    text="黑色华为手机，透明壳，里面有张公交卡",
    place="中心花坛",
    day=date(2026, 11, 20),
    photo=None,
    held_at=HELD_GATE,
    announce=True,
    status=Status.OPEN,
    pending_claim_id=None,
    expires_at=START,
    reminded_at=None,
    created_at=BEFORE,
)


@pytest.fixture(autouse=True)
def i18n() -> Iterator[None]:
    with build_i18n("zh").context():
        yield


def test_where_an_activity_stands() -> None:
    assert standing(ACTIVITY, BEFORE) is Standing.OPEN
    assert standing(replace(ACTIVITY, signed=3), BEFORE) is Standing.FULL
    assert standing(replace(ACTIVITY, signed=3), ACTIVITY.ends_at) is Standing.ENDED
    assert standing(replace(ACTIVITY, settled=True), BEFORE) is Standing.ENDED
    cancelled = replace(ACTIVITY, status=ActivityStatus.CANCELLED, settled=True)
    assert standing(cancelled, ACTIVITY.ends_at) is Standing.CANCELLED


@pytest.mark.parametrize(
    ("changes", "at", "says", "button"),
    [
        ({}, BEFORE, "🙋 Signed up: 2/3", True),
        ({"signed": 3}, BEFORE, "🈵 Full: 3/3 signed up.", False),
        ({}, START + timedelta(hours=3), "🏁 Ended (2/3 signed up).", False),
        ({"status": ActivityStatus.CANCELLED}, BEFORE, "✖ Cancelled by the organiser.", False),
    ],
)
def test_an_activity_notice_in_english(
    changes: dict[str, object], at: datetime, says: str, button: bool
) -> None:
    view = party.notice_view(replace(ACTIVITY, **changes), ZONE, "lastmeter_bot", "en", at)  # type: ignore[arg-type]

    assert says in view.text, view.text
    assert "周六楼道大扫除" in view.text and "11-28 09:00–11:00" in view.text
    assert ("can sign up with the button" in view.text) is button
    assert (view.markup is not None) is button
    if view.markup is not None:
        [[sign_up]] = view.markup.inline_keyboard
        assert sign_up.url == "https://t.me/lastmeter_bot?start=pa_4"
    assert view.text.count("2/3") <= 1  # the count once, not also in the activity's line


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (Status.RETURNED, "✅ Returned to its owner."),
        (Status.EXPIRED, "⌛ Expired: nobody claimed it."),
        (Status.CLOSED, "✔ Withdrawn by the finder."),
    ],
)
def test_a_closed_find_notice_says_what_became_of_it_without_a_button(
    status: Status, says: str
) -> None:
    open_view = lostfound.notice_view(FOUND, "lastmeter_bot", "en")
    assert open_view.markup is not None and "If it is yours" in open_view.text

    view = lostfound.notice_view(replace(FOUND, status=status), "lastmeter_bot", "en")

    assert view.markup is None
    assert view.text.endswith(says), view.text
    assert "F12" in view.text and "Phone or electronics" in view.text and "中心花坛" in view.text
    assert "If it is yours" not in view.text
    for secret in ("华为", "透明", "公交卡", "黑"):
        assert secret not in view.text
