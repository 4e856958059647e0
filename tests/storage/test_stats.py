"""The per-day and per-month scorecards on a real SQLite file: written with every event, they equal
a replay of the trail; migration 0006 rebuilds them from an existing trail; /stats sums months and
edge days to the same figures as days alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.app import import_org
from bot.config import Config
from bot.domain.complaints import Category, Status
from bot.domain.org import StaffRole
from bot.domain.periods import Period
from bot.domain.rates import COUNTERS, EMPTY, Scorecard, replay
from bot.i18n import build_i18n
from bot.services.briefings import SKIPPED, digest_sweep
from bot.services.matcher import Matcher
from storage.complaints import ComplaintRepo
from storage.db import Database, alembic_config
from storage.stats import StatsRepo
from storage.tables import briefings, complaint_events, complaints, outbox, unit_days, unit_months
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url
from tests.harness import ROOT, FixedClock
from tests.oversight_history import OWNERS, RESIDENTS, STAFF, ZONE, seed_week

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "stats"))
    await database.migrate(ZONE)
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        for person, code in {**STAFF, **RESIDENTS}.items():
            await UserRepo(s).seen(person.id, person.first_name, None, T0, "zh")
            if person in STAFF:
                unit = await UnitRepo(s).by_code(code)
                assert unit is not None
                await StaffRepo(s).add(person.id, unit.id, StaffRole.SECRETARY, None, T0)
    await seed_week(database)
    yield database
    await database.close()


async def replayed(db: Database) -> dict[tuple[date, int], Scorecard]:
    async with db.read() as s:
        ids = (await s.execute(select(complaints.c.id))).scalars().all()
        trails = await ComplaintRepo(s).trails(ids)
    return replay((e for trail in trails.values() for e in trail), ZONE)


async def stored(
    db: Database,
) -> tuple[dict[tuple[date, int], Scorecard], dict[tuple[date, int], Scorecard]]:
    found = []
    async with db.read() as s:
        for table, key in ((unit_days, "day"), (unit_months, "month")):
            rows = (await s.execute(select(table))).mappings()
            found.append(
                {(r[key], r["unit_id"]): Scorecard(*(r[n] for n in COUNTERS)) for r in rows}
            )
    return found[0], found[1]


def by_month(days: dict[tuple[date, int], Scorecard]) -> dict[tuple[date, int], Scorecard]:
    months: dict[tuple[date, int], Scorecard] = {}
    for (day, unit), card in days.items():
        key = (day.replace(day=1), unit)
        months[key] = months.get(key, EMPTY) + card
    return months


async def test_scorecards_written_with_each_event_equal_a_replay_of_the_trail(db: Database) -> None:
    expected = await replayed(db)
    assert sum(c.handed for c in expected.values()) == 11  # 8 hand-overs in the week, 3 on Monday
    days, months = await stored(db)
    assert days == expected
    assert months == by_month(expected)
    # A period across a month's edge: 11-15 to 12-10, then one of whole months and edge days.
    async with db.read() as s:
        district = await UnitRepo(s).by_code("weidu")
        assert district is not None
        for start, end in (
            (date(2026, 11, 15), date(2026, 12, 10)),
            (date(2026, 10, 3), date(2027, 1, 9)),
        ):
            cards = await StatsRepo(s).scorecards(district.path, start, end)
            want: dict[int, Scorecard] = {}
            for (day, unit), card in expected.items():
                if start <= day < end:
                    want[unit] = want.get(unit, EMPTY) + card
            assert cards == want


async def counted_both_ways(db: Database) -> None:
    """The kept counts of tickets by category and status equal a count of the tickets themselves,
    for each scope of compounds and periods across a month's edge."""
    async with db.read() as s:
        stats = StatsRepo(s)
        for code in ("weidu", "xihu", "xihu-zuoan", "xihu-jiayuan", "dongdajie"):
            unit = await UnitRepo(s).by_code(code)
            assert unit is not None
            for start, end in (
                (date(2026, 11, 30), date(2026, 12, 7)),
                (date(2026, 11, 1), date(2027, 1, 1)),
                (date(2026, 12, 6), date(2026, 12, 8)),
            ):
                kept = await stats.ticket_counts(unit.path, unit.kind, unit.id, start, end, ZONE)
                bounds = Period(start, end).bounds(ZONE)
                counted = await stats.ticket_counts_direct(unit.path, unit.kind, unit.id, *bounds)
                assert kept == counted, (code, start, end)


async def test_ticket_counts_kept_as_tickets_move_equal_a_count_of_the_tickets(
    db: Database,
) -> None:
    async with db.read() as s:
        xihu = await UnitRepo(s).by_code("xihu")
        assert xihu is not None
        week = await StatsRepo(s).ticket_counts(
            xihu.path, xihu.kind, xihu.id, date(2026, 11, 30), date(2026, 12, 7), ZONE
        )
    assert sum(week.values()) == 7
    assert week[(Category.PROPERTY_REPAIR, Status.CLOSED)] == 2
    await counted_both_ways(db)


async def test_migration_0006_rebuilds_the_scorecards_from_an_existing_trail(db: Database) -> None:
    expected = await replayed(db)
    async with db.read() as s:
        blue = dict((await s.execute(select(complaints.c.id, complaints.c.blue_at))).all())

    def down_and_up(connection: Connection) -> None:
        command.downgrade(alembic_config(connection, ZONE), "0005")
        command.upgrade(alembic_config(connection, ZONE), "head")

    async with db.engine.begin() as connection:
        await connection.run_sync(down_and_up)
    days, months = await stored(db)
    assert days == expected
    assert months == by_month(expected)
    async with db.read() as s:
        rebuilt = dict((await s.execute(select(complaints.c.id, complaints.c.blue_at))).all())
        events = (await s.execute(select(complaint_events.c.id))).scalars().all()
    assert rebuilt == blue and len(events) > 40
    await counted_both_ways(db)


async def digests(db: Database) -> list[tuple[int, str]]:
    async with db.read() as s:
        rows = (await s.execute(select(outbox.c.chat_id, outbox.c.payload))).all()
    return [
        (chat, payload)
        for chat, payload in rows
        if "早上好" in payload or "Good morning" in payload
    ]


async def test_two_digest_sweeps_at_once_write_each_digest_once(db: Database) -> None:
    config = Config()
    clock = FixedClock(datetime(2026, 12, 7, 8, 0, 30, tzinfo=ZONE).astimezone(UTC))
    with build_i18n("zh").context():
        sent = await asyncio.gather(
            *(digest_sweep(db, clock, config, Matcher(), "bot") for _ in range(2))
        )
        again = await digest_sweep(db, clock, config, Matcher(), "bot")
    written = await digests(db)
    assert sum(sent) == len(written) and again == 0
    chats = [chat for chat, _payload in written]
    assert sorted(chats) == sorted(set(chats))  # nobody twice
    assert {p.id for p in STAFF} - {OWNERS.id} == set(chats)  # the committee had nothing to say


async def test_a_digest_found_too_late_is_skipped_and_recorded(db: Database) -> None:
    config = Config()  # digest at 08:00, four hours' grace
    clock = FixedClock(datetime(2026, 12, 7, 12, 30, tzinfo=ZONE).astimezone(UTC))
    with build_i18n("zh").context():
        assert await digest_sweep(db, clock, config, Matcher(), "bot") == 0
    assert await digests(db) == []
    async with db.read() as s:
        skipped = (await s.execute(select(briefings.c.sent))).scalars().all()
    assert skipped and set(skipped) == {SKIPPED}
