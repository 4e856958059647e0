"""The 五星小区 figures of a compound and a month, read from the records (issue 23, first part).

西湖家园 (24 flats) in December 2026, as the rows below write it:
- party members: 2 approved before the month's end (one registered in December and decided in 1 day,
  one registered in December and decided in 5 days), one still pending: 2 per 24 flats = 8.33 per
  100; on time 1 of the 2 registered in December (the pending one, registered too, is not on time):
  1 of 3;
- activities: one ended in December (90 + 30 minutes attended), one cancelled, one in November:
  held 1; 2 hours per 24 flats = 8.33 per 100;
- tickets in December: sanitation ×2 (one closed), clutter ×1, neighbour dispute ×2 (one
  completed), a campaign report (closed); the same flat's second sanitation ticket within 30 days
  is a repeat, and so is the second dispute of the same reporter (no flat on record): sanitation
  per 100 = 3 / 24 × 100 = 12.5, disputes resolved 1 of 2, campaign reports resolved 1 of 1,
  repeats 2;
- lost and found in December: 1 returned of 2;
- campaign reminders: 3 written for its groups, 2 sent, 1 still pending: 2 of 3.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.app import import_org
from bot.config import Config
from bot.domain.stars import Metric
from bot.flatfile import FlatSpec
from bot.services import stars
from bot.services.desk import open_desk
from bot.services.matcher import Matcher
from bot.starsfile import StarsFileError
from storage.db import Database
from storage.households import HouseholdRepo
from storage.stars import RunRepo, StarsRepo
from storage.tables import (
    activities,
    attendance,
    campaign_sends,
    complaints,
    lostfound,
    outbox,
    party_members,
)
from storage.units import UnitRepo
from storage.users import UserRepo
from tests.dbs import database_url
from tests.harness import FixedClock

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Beijing
END = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MATCHER, BOT = Matcher(), "lastmeter_bot"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "stars"))
    await database.migrate()
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        compound = await UnitRepo(s).by_code("xihu-jiayuan")
        assert compound is not None
        specs = [FlatSpec("A", u, f"{f}0{n}", f, None) for u in ("东", "西") for f in range(1, 7) for n in (1, 2)]  # fmt: skip
        await HouseholdRepo(s).import_flats(compound.id, specs, START)
        for user_id in range(100, 110):
            await UserRepo(s).seen(user_id, f"住户{user_id}", None, START, "zh")
    yield database
    await database.close()


async def test_a_months_figures_equal_the_hand_count(db: Database) -> None:
    async with db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-jiayuan")
        assert compound is not None
        flat = (await HouseholdRepo(s).flats(compound.id))[0].id
        cid = compound.id
        member = {"name": "党员", "compound_id": cid, "type": "working", "reason": ""}
        await s.execute(
            insert(party_members),
            [
                {**member, "user_id": 100, "status": "approved", "created_at": START + DAY,
                 "decided_at": START + 2 * DAY},
                {**member, "user_id": 101, "status": "approved", "created_at": START + DAY,
                 "decided_at": START + 6 * DAY},
                {**member, "user_id": 102, "status": "pending", "created_at": START + DAY,
                 "decided_at": None},
            ],
        )  # fmt: skip
        activity = {"compound_id": cid, "kind": "volunteer", "title": "服务日", "place": "广场",
                    "capacity": 10, "signed": 2, "code": "1234", "created_by": 100,
                    "created_at": START}  # fmt: skip
        await s.execute(
            insert(activities),
            [
                {**activity, "id": 1, "status": "open", "starts_at": START + 3 * DAY,
                 "ends_at": START + 3 * DAY + timedelta(hours=2)},
                {**activity, "id": 2, "status": "cancelled", "starts_at": START + 4 * DAY,
                 "ends_at": START + 4 * DAY + timedelta(hours=2)},
                {**activity, "id": 3, "status": "open", "starts_at": START - 3 * DAY,
                 "ends_at": START - 3 * DAY + timedelta(hours=2)},
            ],
        )  # fmt: skip
        await s.execute(
            insert(attendance),
            [
                {"activity_id": 1, "user_id": 100, "status": "signed", "signed_at": START,
                 "minutes": 90},
                {"activity_id": 1, "user_id": 101, "status": "signed", "signed_at": START,
                 "minutes": 30},
                {"activity_id": 3, "user_id": 100, "status": "signed", "signed_at": START,
                 "minutes": 600},
            ],
        )  # fmt: skip
        ticket = {"reporter_id": 103, "anonymous": False, "compound_id": cid, "text": "…",
                  "photos": "[]", "unit_id": cid, "version": 1, "window_start": START,
                  "stage": 0, "unsatisfied": 0, "updated_at": START}  # fmt: skip
        rows = [
            ("sanitation", "closed", None, flat, 2),
            ("sanitation", "signed", None, flat, 9),  # the same flat again: a repeat
            ("clutter", "dispatched", None, None, 3),
            ("neighbour_dispute", "completed", None, None, 4),
            ("neighbour_dispute", "signed", None, None, 5),
            ("property_repair", "closed", 7, None, 6),  # a campaign report
        ]
        await s.execute(
            insert(complaints),
            [
                {**ticket, "number": f"WD-{n}", "category": category, "status": status,
                 "campaign_id": campaign, "flat_id": flat_id, "created_at": START + day * DAY}
                for n, (category, status, campaign, flat_id, day) in enumerate(rows)
            ],
        )  # fmt: skip
        item = {"kind": "lost", "reporter_id": 103, "compound_id": cid, "community_id": 0,
                "subdistrict_id": 0, "category": "keys", "text": "钥匙", "place": "门口",
                "day": date(2026, 12, 2), "held_at": "", "announce": False,
                "expires_at": END + 30 * DAY, "created_at": START + DAY}  # fmt: skip
        await s.execute(
            insert(lostfound), [{**item, "status": "returned"}, {**item, "status": "open"}]
        )
        message = {"chat_id": -1, "method": "sendMessage", "payload": "{}", "priority": 2,
                   "attempts": 0, "not_before": START, "created_at": START}  # fmt: skip
        await s.execute(
            insert(outbox),
            [{**message, "id": n, "status": st} for n, st in ((1, "sent"), (2, "sent"), (3, "pending"))],
        )  # fmt: skip
        await s.execute(
            insert(campaign_sends),
            [
                {"campaign_id": 7, "slot": START + n * DAY, "chat_id": -1, "compound_id": cid,
                 "outbox_id": n}
                for n in (1, 2, 3)
            ],
        )  # fmt: skip

    async with db.read() as s:
        found = await StarsRepo(s).figures(
            compound, START, END, date(2026, 12, 1), date(2027, 1, 1)
        )
    values = {metric: figure.value for metric, figure in found.items()}
    assert values[Metric.MEMBERS_PER_100] == pytest.approx(100 * 2 / 24)
    assert values[Metric.REGISTRATIONS_ON_TIME] == pytest.approx(1 / 3)
    assert values[Metric.ACTIVITIES_HELD] == 1
    assert values[Metric.VOLUNTEER_HOURS_PER_100] == pytest.approx(100 * 2 / 24)
    assert values[Metric.SANITATION_PER_100] == pytest.approx(12.5)
    assert values[Metric.DISPUTES_RESOLVED] == 0.5
    assert values[Metric.CAMPAIGN_REPORTS_RESOLVED] == 1.0
    assert values[Metric.REPEAT_COMPLAINTS] == 2
    assert values[Metric.LOST_RETURNED] == 0.5
    assert values[Metric.REMINDERS_DELIVERED] == pytest.approx(2 / 3)
    assert values[Metric.RESPONSE_RATE] is None  # no hand-over counted in the scorecards
    assert found[Metric.ACTIVITIES_HELD].evidence == ("activities:1",)
    assert found[Metric.REPEAT_COMPLAINTS].evidence == ("complaints:2", "complaints:5")
    assert set(found[Metric.SANITATION_PER_100].evidence) == {
        "complaints:1",
        "complaints:2",
        "complaints:3",
    }


async def test_versions_apply_from_the_next_month_and_a_month_is_run_once(
    db: Database, tmp_path: Path
) -> None:
    """The first version on record applies from its own month (December); a new version read on
    15 December applies from January only, and a version changed without a new name is kept. The
    sweep on 1 January evaluates December once per compound, by December's criteria; a second sweep
    evaluates nothing."""
    config = Config()
    december = FixedClock(datetime(2026, 12, 15, 2, 0, tzinfo=UTC))
    example = ROOT / "stars.example.toml"
    assert (
        await stars.load_criteria(db, example, december, config) == "version 2026-12 from 2026-12"
    )
    assert await stars.load_criteria(db, example, december, config) == "unchanged"
    stricter = tmp_path / "stars.toml"
    text = example.read_text(encoding="utf-8")
    stricter.write_text(text.replace("at_least = 0.85\n", "at_least = 0.9\n"), encoding="utf-8")
    assert await stars.load_criteria(db, stricter, december, config) == "kept"
    stricter.write_text(
        text.replace('version = "2026-12"', 'version = "2026-12b"'), encoding="utf-8"
    )
    with pytest.raises(StarsFileError):
        await stars.load_criteria(db, stricter, december, config)
    stricter.write_text(
        text.replace('version = "2026-12"', 'version = "2027-01"').replace(
            "at_least = 0.85\n", "at_least = 0.9\n"
        ),
        encoding="utf-8",
    )
    assert (
        await stars.load_criteria(db, stricter, december, config) == "version 2027-01 from 2027-01"
    )
    async with open_desk(db, december, config, MATCHER, BOT) as desk:
        dec = await stars.in_force(desk, date(2026, 12, 1))
        jan = await stars.in_force(desk, date(2027, 1, 1))
        assert await stars.in_force(desk, date(2026, 11, 1)) is None
    assert dec is not None and jan is not None
    assert dec[1].version == "2026-12" and jan[1].version == "2027-01"

    new_year = FixedClock(datetime(2027, 1, 1, 1, 0, tzinfo=UTC))  # 09:00 in Beijing
    made = await stars.sweep(db, new_year, config, MATCHER, BOT)
    async with db.read() as s:
        compounds = await UnitRepo(s).compounds_in("/", limit=1000)
        runs = [await RunRepo(s).run(c.id, date(2026, 12, 1)) for c in compounds]
    assert made == len(compounds) and all(r is not None for r in runs)
    assert {r.criteria_id for r in runs if r} == {dec[0]}
    assert await stars.sweep(db, new_year, config, MATCHER, BOT) == 0
    async with db.read() as s:
        jiayuan = await UnitRepo(s).by_code("xihu-jiayuan")
        assert jiayuan is not None
        run = await RunRepo(s).run(jiayuan.id, date(2026, 12, 1))
        assert run is not None
        figures = {
            key: (figure, passed)
            for key, _star, figure, passed in await RunRepo(s).figures_of(run.id)
        }
    assert set(figures) == {i.key for i in dec[1].indicators}
    assert figures["six_haves"][0].value is None and not figures["six_haves"][1]  # not entered
    assert run.stars == frozenset()  # no records at all: no star
