"""A week of tickets in 西湖社区, written through the real services at known times (the story and
the hand-computed figures are in tests/e2e/test_oversight.py, which uses it, as does the storage
test of the scorecards)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.domain.complaints import Category, Complaint, Draft, Rating, ReturnReason
from bot.domain.org import StaffRole
from bot.domain.people import Actor, Membership, User
from bot.i18n import build_i18n
from bot.services import complaints, dispatch
from bot.services.desk import Desk, open_desk
from bot.services.matcher import Matcher
from storage.db import Database
from storage.units import UnitRepo
from tests.harness import FixedClock, Person

ZONE = ZoneInfo("Asia/Shanghai")
COMMUNITY = Person(6101, "赵书记", "zh")  # 西湖社区
BRANCH = Person(6102, "刘书记", "zh")  # 西湖左岸小区党支部
PROPERTY = Person(6103, "孙经理", "zh")  # 西湖左岸物业服务中心
OWNERS = Person(6104, "钱主任", "zh")  # 西湖左岸小区业委会
JY_BRANCH = Person(6105, "Secretary Lin", "en")  # 西湖家园小区党支部, reads English
JY_PROPERTY = Person(6106, "吴经理", "zh")  # 西湖家园物业
AUNT_LI = Person(6111, "李阿姨", "zh-hans")  # lives in 西湖左岸小区
UNCLE_ZHANG = Person(6112, "张大爷", "zh")  # lives in 西湖家园
STAFF = {
    COMMUNITY: "xihu",
    BRANCH: "xihu-zuoan.party_branch",
    PROPERTY: "xihu-zuoan.property_company",
    OWNERS: "xihu-zuoan.owners_committee",
    JY_BRANCH: "xihu-jiayuan.party_branch",
    JY_PROPERTY: "xihu-jiayuan.property_company",
}
RESIDENTS = {AUNT_LI: "xihu-zuoan", UNCLE_ZHANG: "xihu-jiayuan"}


def local(day: int, hour: float) -> datetime:
    """A time in Shanghai: day of the month (11-30 is day 0 … 12-07 is day 7), hour."""
    return datetime(2026, 11, 30, tzinfo=ZONE) + timedelta(days=day, hours=hour)


class History:
    """Drives the real services at chosen times, as the people above."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.config = Config()
        self.i18n = build_i18n("zh")
        self.units: dict[str, int] = {}
        self.tickets: dict[str, Complaint] = {}

    async def load(self) -> None:
        async with self.db.read() as s:
            for code in {**STAFF, **RESIDENTS}.values():
                unit = await UnitRepo(s).by_code(code)
                assert unit is not None
                self.units[code] = unit.id

    def actor(self, person: Person) -> Actor:
        code = STAFF.get(person)
        memberships = (Membership(self.units[code], StaffRole.SECRETARY),) if code else ()
        user = User(person.id, person.first_name, None, "zh", None, "zh")
        return Actor(user, memberships, False, "zh")

    async def at(self, when: datetime, step: Callable[[Desk], Awaitable[Complaint]]) -> Complaint:
        with self.i18n.context():
            clock = FixedClock(when.astimezone(UTC))
            async with open_desk(self.db, clock, self.config, Matcher(), "bot") as desk:
                return await step(desk)

    async def report(
        self, name: str, when: datetime, person: Person, category: Category, text: str
    ) -> None:
        compound = self.units[RESIDENTS[person]]
        draft = Draft(compound, category, text)
        self.tickets[name] = await self.at(
            when, lambda d: complaints.open_complaint(d, self.actor(person), draft)
        )

    async def do(self, name: str, when: datetime, person: Person, what: str, *args: Any) -> None:
        t = self.tickets[name]
        actor = self.actor(person)
        steps: dict[str, Callable[[Desk], Awaitable[Complaint]]] = {
            "sign": lambda d: dispatch.sign_for(d, actor, t.id, t.version),
            "complete": lambda d: dispatch.complete(d, actor, t.id, t.version, "已处理"),
            "return": lambda d: dispatch.return_ticket(
                d, actor, t.id, t.version, ReturnReason.NOT_OUR_AREA, ""
            ),
            "redispatch": lambda d: dispatch.redispatch(
                d, actor, t.id, t.version, self.units[args[0]] if args else 0
            ),
            "rate": lambda d: complaints.rate(d, actor, t.id, t.version, *args),
        }
        self.tickets[name] = await self.at(when, steps[what])


async def seed_week(db: Database) -> History:
    h = History(db)
    await h.load()
    p = "xihu-zuoan.property_company"
    await h.report("T1", local(0, 9), AUNT_LI, Category.PROPERTY_REPAIR, "3号楼电梯异响")
    await h.do("T1", local(0, 10), PROPERTY, "sign")
    await h.do("T1", local(0, 15), PROPERTY, "complete")
    await h.do("T1", local(0, 16), AUNT_LI, "rate", Rating.SATISFIED)
    await h.report("T2", local(1, 9), AUNT_LI, Category.PROPERTY_REPAIR, "5号楼楼道灯不亮")
    await h.do("T2", local(1, 12), PROPERTY, "sign")
    await h.do("T2", local(1, 18), PROPERTY, "complete")
    await h.do("T2", local(1, 19), AUNT_LI, "rate", Rating.BASIC)
    await h.report("T3", local(2, 9), AUNT_LI, Category.PARKING_CHARGING, "充电桩被占用")
    await h.do("T3", local(2, 10), OWNERS, "return")
    await h.do("T3", local(2, 11), BRANCH, "redispatch", p)
    await h.do("T3", local(2, 11.5), PROPERTY, "sign")
    await h.do("T3", local(6, 10), PROPERTY, "complete")
    await h.report("T4", local(3, 9), AUNT_LI, Category.CLUTTER, "楼道堆放杂物")
    await h.do("T4", local(3, 10), BRANCH, "sign")
    await h.do("T4", local(3, 15), BRANCH, "complete")
    await h.do("T4", local(3, 16), AUNT_LI, "rate", Rating.UNSATISFIED, "还没清完")
    await h.do("T4", local(4, 10), BRANCH, "complete")
    await h.do("T4", local(4, 11), AUNT_LI, "rate", Rating.SATISFIED)
    await h.report("T5", local(1, 9), UNCLE_ZHANG, Category.SANITATION, "垃圾桶满了")
    await h.do("T5", local(1, 10), JY_PROPERTY, "sign")
    await h.do("T5", local(1, 17), JY_PROPERTY, "complete")
    await h.do("T5", local(1, 18), UNCLE_ZHANG, "rate", Rating.SATISFIED)
    await h.report("T6", local(6, 21), UNCLE_ZHANG, Category.NOISE, "夜里装修噪音")
    await h.report("T8", local(5, 9), AUNT_LI, Category.SANITATION, "绿化带有垃圾")
    await h.do("T8", local(5, 10), PROPERTY, "sign")
    # Monday morning
    await h.report("T10", local(7, 5), AUNT_LI, Category.PARKING_CHARGING, "车位被外来车占")
    await h.do("T10", local(7, 6), OWNERS, "return")
    await h.report("T9", local(7, 6), AUNT_LI, Category.SUGGESTION, "建议增设健身器材")
    await h.report("T7", local(7, 6.5), AUNT_LI, Category.UTILITIES, "停水了")
    return h
