"""What a group chat may read (DESIGN.md §3): a registration's card in an alert group carries its
number, compound and type, never the member's name, building, workplace or phone; a typed place
where a find is kept is not posted. The people who decide read everything in private."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.domain.lostfound import HELD_GATE, HELD_WITH_FINDER
from bot.domain.org import Unit, UnitKind
from bot.domain.party import Member, MemberType, RegStatus
from bot.i18n import build_i18n
from bot.ui import lostfound, party

COMPOUND = Unit(7, "xihu-zuoan", UnitKind.COMPOUND, "西湖左岸小区", "Xihu Zuoan", 3, "/1/3/7/")
MEMBER = Member(
    id=12,
    user_id=5111,
    name="王建国",
    compound_id=COMPOUND.id,
    building="3号楼2单元501",
    workplace="市第一人民医院党委",
    type=MemberType.RETIRED,
    phone="+8613800000000",
    status=RegStatus.PENDING,
    reason="",
    created_at=datetime(2026, 11, 21, tzinfo=UTC),
)
PERSONAL = ("王建国", "3号楼", "501", "市第一人民医院", "13800000000")


@pytest.fixture(autouse=True)
def i18n() -> Iterator[None]:
    with build_i18n("zh").context():
        yield


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("zh", ("🎖 党员报到申请 #12", "等待西湖左岸小区党支部审核", "类型：离退休", "已私信发给")),
        ("en", ("#12", "party branch of Xihu Zuoan", "Type: retired (离退休)", "sent privately")),
    ],
)
def test_a_group_card_has_the_number_and_type_but_no_personal_data(
    locale: str, said: tuple[str, ...]
) -> None:
    text = party.card_text(MEMBER, COMPOUND, locale, chat_id=-7202)
    for part in said:
        assert part in text, (part, text)
    for secret in PERSONAL:
        assert secret not in text, (secret, text)
    private = party.card_text(MEMBER, COMPOUND, locale, chat_id=5101)
    for secret in ("王建国", "3号楼2单元501", "市第一人民医院党委", "+8613800000000"):
        assert secret in private, (secret, private)


def test_a_typed_place_where_a_find_is_kept_is_not_posted() -> None:
    assert lostfound.public_held_name(HELD_GATE, "zh") == "门卫室"
    assert lostfound.public_held_name(HELD_WITH_FINDER, "en") == "with the finder"
    typed = lostfound.public_held_name("我家5号楼1单元302", "zh")
    assert "5号楼" not in typed and "拾得人" in typed
    assert "with the finder" in lostfound.public_held_name("my flat, 302", "en")
