"""The clock sweep on a real SQLite file: it chases once per stage, however often and on however
many processes it runs, and it closes unrated tickets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import import_org
from bot.config import Config
from bot.domain.complaints import Action, Category, Draft, Status
from bot.domain.org import StaffRole
from bot.domain.people import Actor
from bot.i18n import build_i18n
from bot.services.complaints import open_complaint
from bot.services.desk import open_desk
from bot.services.dispatch import complete, sign_for
from bot.services.escalation import sweep
from bot.services.matcher import Matcher
from storage.complaints import ComplaintRepo
from storage.db import Database
from storage.tables import outbox
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.dbs import database_url
from tests.harness import FixedClock

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
RESIDENT, PROPERTY, BRANCH, COMMUNITY = 11, 12, 13, 14
MATCHER, BOT = Matcher(), "lastmeter_bot"  # what the desks of a running bot also hold


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(database_url(tmp_path, "sweep"))
    await database.migrate()
    await import_org(database, ROOT / "org.example.toml")
    async with database.session() as s:
        for user_id, code in (
            (RESIDENT, None),
            (PROPERTY, "xihu-zuoan.property_company"),
            (BRANCH, "xihu-zuoan.party_branch"),
            (COMMUNITY, "xihu"),
        ):
            await UserRepo(s).seen(user_id, f"user {user_id}", None, T0, "zh")
            if code:
                unit = await UnitRepo(s).by_code(code)
                assert unit is not None
                await StaffRepo(s).add(user_id, unit.id, StaffRole.SECRETARY, None, T0)
    yield database
    await database.close()


def actor(user_id: int, *, staff_of: int | None = None) -> Actor:
    from bot.domain.people import Membership, User

    memberships = (Membership(staff_of, StaffRole.SECRETARY),) if staff_of else ()
    return Actor(User(user_id, "x", None, "zh", None, "zh"), memberships, False, "zh")


async def file_leak(db: Database, clock: FixedClock) -> int:
    config = Config()
    with build_i18n("zh").context():
        async with open_desk(db, clock, config, MATCHER, BOT) as desk:
            compound = await desk.units.by_code("xihu-zuoan")
            assert compound is not None
            draft = Draft(compound.id, Category.PROPERTY_REPAIR, "水管漏水")
            return (await open_complaint(desk, actor(RESIDENT), draft)).id


async def chases(db: Database, complaint_id: int) -> list[tuple[str, str]]:
    """The ticket's warnings and chases, with the code of the unit chased."""
    async with db.session() as s:
        events = await ComplaintRepo(s).events(complaint_id)
        units = UnitRepo(s)
        found = []
        for e in events:
            if e.action in (Action.WARNED, Action.CHASED):
                chased = await units.get(e.to_unit) if e.to_unit else None
                found.append((e.action.value, chased.code if chased else ""))
    return found


async def new_messages_to(db: Database, chat_id: int) -> int:
    async with db.session() as s:
        query = (
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.chat_id == chat_id, outbox.c.method == "sendMessage")
        )
        return int((await s.execute(query)).scalar_one())


async def test_two_sweeps_at_once_on_two_connections_chase_once(
    db: Database, tmp_path: Path
) -> None:
    clock = FixedClock(T0)
    complaint_id = await file_leak(db, clock)
    other = Database(database_url(tmp_path, "sweep"))  # a second process, in effect
    config, i18n = Config(), build_i18n("zh")
    try:
        warned = ("warned", "")
        for hours, expected in (
            (1.6, [warned]),
            (2.1, [warned, ("chased", "xihu-zuoan.party_branch")]),
            (4.1, [warned, ("chased", "xihu-zuoan.party_branch"), ("chased", "xihu")]),
        ):
            clock.at = T0 + timedelta(hours=hours)
            with i18n.context():
                await asyncio.gather(
                    *(
                        sweep(database, clock, config, MATCHER, BOT)
                        for database in (db, other, db, other)
                    )
                )
            assert await chases(db, complaint_id) == expected, hours
        assert await new_messages_to(db, BRANCH) == 1  # one chase card (later only edited)
        assert await new_messages_to(db, COMMUNITY) == 1
    finally:
        await other.close()


async def test_a_ticket_signed_in_time_is_not_chased_and_an_unrated_one_closes(
    db: Database,
) -> None:
    clock = FixedClock(T0)
    complaint_id = await file_leak(db, clock)
    config, i18n = Config(), build_i18n("zh")
    async with db.session() as s:
        unit = await UnitRepo(s).by_code("xihu-zuoan.property_company")
        assert unit is not None
    staff = actor(PROPERTY, staff_of=unit.id)
    with i18n.context():
        clock.at = T0 + timedelta(hours=1)
        async with open_desk(db, clock, config, MATCHER, BOT) as desk:
            signed = await sign_for(desk, staff, complaint_id, 1)
        clock.at = T0 + timedelta(hours=3)  # past the old sign-for deadline: nothing to chase
        assert await sweep(db, clock, config, MATCHER, BOT) == 0
        async with open_desk(db, clock, config, MATCHER, BOT) as desk:
            await complete(desk, staff, complaint_id, signed.version, "已修好")
        clock.at = T0 + timedelta(hours=3 + 71)
        assert await sweep(db, clock, config, MATCHER, BOT) == 0
        clock.at = T0 + timedelta(hours=3 + 73)
        assert await sweep(db, clock, config, MATCHER, BOT) == 1
        assert await sweep(db, clock, config, MATCHER, BOT) == 0
    async with db.session() as s:
        closed = await ComplaintRepo(s).get(complaint_id)
        events = await ComplaintRepo(s).events(complaint_id)
    assert closed is not None and closed.status is Status.CLOSED and closed.rating is None
    assert events[-1].action is Action.CLOSED and events[-1].note == "unrated"
    assert [e.action for e in events].count(Action.CHASED) == 0


async def test_a_sweep_reads_units_and_their_chats_once_for_all_its_tickets(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five tickets reach a step at once: their compound's units, and those units' staff and alert
    groups, are read once for the sweep (not per ticket), and each warning still reaches its unit."""
    clock = FixedClock(T0)
    tickets = [await file_leak(db, clock) for _ in range(5)]
    reads: list[str] = []
    for name, repo in (("around", UnitRepo), ("around_each", UnitRepo), ("members_of", StaffRepo)):
        real = getattr(repo, name)

        async def counted(self: object, *args: object, _real: object = real, _name: str = name):  # type: ignore[no-untyped-def]
            reads.append(_name)
            return await _real(self, *args)  # type: ignore[operator]

        monkeypatch.setattr(repo, name, counted)
    before = await new_messages_to(db, PROPERTY)
    clock.at = T0 + timedelta(hours=1.6)
    with build_i18n("zh").context():
        steps = await sweep(db, clock, Config(), MATCHER, BOT)
    assert steps == 5
    assert sorted(reads) == ["around_each", "members_of"]
    for complaint_id in tickets:
        assert await chases(db, complaint_id) == [("warned", "")]
    assert await new_messages_to(db, PROPERTY) == before + 5  # each warning, to the company
