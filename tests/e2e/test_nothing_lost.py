"""Nothing is lost: the bot process is SIGKILLed at random moments while people use it: they
onboard, staff are invited and bind groups, residents report problems that the property company
signs for, completes or returns, the branch re-dispatches, and the residents rate; party members
register (报到), the community approves them, plans an activity, and they sign up and check in;
the reporters claim their flats (住户登记) and the branch confirms each; then one proposes a topic
(议题), four support it, the branch accepts it with a meeting and opens the vote, and every
reporter's household votes, some changing their vote once.

At the end every update has been handled exactly once (its effects exist once), every outbox message
reached the sandbox at least once, and a message arrived twice only when the process that sent it
was killed before it could record the sending (at most as many as the sender has in flight).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.delivery.sender import CONCURRENCY
from bot.domain.people import ChatPurpose
from storage.chats import ChatRepo
from storage.complaints import ComplaintRepo
from storage.db import Database
from storage.inbox import InboxRepo
from storage.tables import (
    activities,
    attendance,
    complaints,
    flats,
    inbox,
    invites,
    outbox,
    party_members,
    residents,
    staff,
    topic_ballots,
    topic_supports,
    topics,
    users,
)
from storage.units import UnitRepo
from tests.dbs import database_url
from tests.harness import ADMIN_ID, BotProcess, Person, Sandbox, buttons, drained, group

pytestmark = [pytest.mark.e2e, pytest.mark.serial]

HOMES = [
    ("北大街道", "西湖社区", "西湖左岸小区", "xihu-zuoan"),
    ("北大街道", "西湖社区", "西湖家园", "xihu-jiayuan"),
    ("东大街道", "春秋社区", "春秋花园", "chunqiu-huayuan"),
    ("高桥营街道", "东李庄社区", "东李庄小区", "donglizhuang-xiaoqu"),
    ("五一路街道", "光明社区", "光明新村", "guangming-xincun"),
    ("文峰街道", "文峰社区", "文峰小区", "wenfeng-xiaoqu"),
]
RESIDENTS = 80
OFFICERS = 5
GROUPS = 3
WAIT = 90.0  # long enough to span a kill and a restart
PROPERTY = Person(4200, "张师傅", "zh")
BRANCH = Person(4201, "刘书记", "zh")
# Fourteen different problems: no report looks like another (the duplicate check stays quiet).
PROBLEMS = [
    "厨房水管漏水", "楼道灯不亮", "电梯按钮失灵", "单元门禁坏了", "窗户玻璃碎裂", "暖气片不热",
    "下水道堵塞", "屋顶渗雨", "外墙瓷砖脱落", "车棚顶棚破损", "消防栓锈蚀", "垃圾桶缺盖",
    "健身器材松动", "路面井盖缺失",
]  # fmt: skip
XIHU_ZUOAN = ["Weidu District", "Beidajie Sub-district", "Xihu Community", "Xihu Zuo'an"]
COMMUNITY_SECRETARY = Person(4100, "陈书记", "zh")
MEMBERS = 6  # residents of 西湖家园 who register as party members
NEAR_JIAYUAN = {"latitude": 34.0362 + 100 / 111_195, "longitude": 113.8151}  # 100 m north


@dataclass
class TopicStory:
    """The reporters' topic: it starts once every reporter's flat is confirmed."""

    reporters: int
    claimed: int = 0
    all_claimed: asyncio.Event = field(default_factory=asyncio.Event)
    vote_open: asyncio.Event = field(default_factory=asyncio.Event)

    def claim_done(self) -> None:
        self.claimed += 1
        if self.claimed == self.reporters:
            self.all_claimed.set()


def ballot_of(person: Person) -> tuple[str, bool]:
    """How a reporter's household votes in the end, and whether it changed its vote once."""
    n = (person.id - 3000) // len(HOMES)
    return ("yes" if n % 2 == 0 else "no"), n % 3 == 0


VOTE_LABELS = {"yes": "👍 同意", "no": "👎 反对"}


async def vote(sandbox: Sandbox, person: Person, story: TopicStory) -> None:
    await story.vote_open.wait()
    ballot = await sandbox.find(person.id, "请代表您家投票", timeout=WAIT)
    final, changes = ballot_of(person)
    if changes:
        other = "no" if final == "yes" else "yes"
        await sandbox.tap(person, ballot, VOTE_LABELS[other])
        await sandbox.find(person.id, f"已记录您家的投票：{VOTE_LABELS[other]}", timeout=WAIT)
        await sandbox.tap(person, ballot, VOTE_LABELS[final])
        await sandbox.find(person.id, f"您家的投票已改为：{VOTE_LABELS[final]}", timeout=WAIT)
    else:
        await sandbox.tap(person, ballot, VOTE_LABELS[final])
        await sandbox.find(person.id, f"已记录您家的投票：{VOTE_LABELS[final]}", timeout=WAIT)


async def deliberation(sandbox: Sandbox, crowd: Crowd, story: TopicStory) -> None:
    """The first reporter proposes a topic, the next four support it (98 flats: 5 households
    take it up), the branch accepts it with a meeting and opens a three-day vote."""
    await story.all_claimed.wait()
    reporters = sorted((p for p in crowd.people if p.id in crowd.numbers), key=lambda p: p.id)
    proposer = reporters[0]
    await sandbox.say(proposer, "/propose")
    await sandbox.find(proposer.id, "简短的标题", timeout=WAIT)
    await sandbox.say(proposer, "在5号楼旁建电动车充电桩")
    await sandbox.find(proposer.id, "请说明", timeout=WAIT)
    await sandbox.say(proposer, "电动车在楼道里充电太危险，建议建充电桩。")
    asked = await sandbox.find(proposer.id, "附上照片", timeout=WAIT)
    await sandbox.tap(proposer, asked, "不加照片 / 完成")
    summary = await sandbox.find(proposer.id, "提交吗", "在5号楼旁建电动车充电桩", timeout=WAIT)
    await sandbox.tap(proposer, summary, "✅ 提交议题")
    await sandbox.find(proposer.id, "议题 #1 已提交", timeout=WAIT)
    for supporter in reporters[1:5]:
        await sandbox.say(supporter, "/start tp_1")
        page = await sandbox.find(supporter.id, "户立项）", timeout=WAIT)
        await sandbox.tap(supporter, page, "👍 附议")
        await sandbox.find(supporter.id, "谢谢：您家", timeout=WAIT)
    card = await sandbox.find(BRANCH.id, "已有 5 户附议，议题立项", timeout=WAIT)
    await sandbox.tap(BRANCH, card, "🗓 受理：安排议事会")
    await sandbox.find(BRANCH.id, "什么时候开始", timeout=WAIT)
    await sandbox.say(BRANCH, "明天 19:00")
    asked = await sandbox.find(BRANCH.id, "持续多久", timeout=WAIT)
    await sandbox.tap(BRANCH, asked, "2 小时")
    await sandbox.find(BRANCH.id, "在哪里集合", timeout=WAIT)
    await sandbox.say(BRANCH, "居委会会议室")
    summary = await sandbox.find(BRANCH.id, "居委会会议室", "议事会", timeout=WAIT)
    await sandbox.tap(BRANCH, summary, "✅ 创建")
    await sandbox.find(BRANCH.id, "议题 #1 已受理", timeout=WAIT)
    await sandbox.say(BRANCH, "/start tp_1")
    page = await sandbox.find(BRANCH.id, "已受理：已安排议事会", "户立项）", timeout=WAIT)
    await sandbox.tap(BRANCH, page, "🗳 发起表决")
    asked = await sandbox.find(BRANCH.id, "按什么规则表决", timeout=WAIT)
    await sandbox.tap(BRANCH, asked, "简单多数（须达到法定人数）")
    asked = await sandbox.find(BRANCH.id, "由谁负责落实", timeout=WAIT)
    await sandbox.tap(BRANCH, asked, "西湖左岸物业服务中心")
    asked = await sandbox.find(BRANCH.id, "开放几天", timeout=WAIT)
    await sandbox.tap(BRANCH, asked, "3 天")
    summary = await sandbox.find(BRANCH.id, "现在发起表决吗", timeout=WAIT)
    await sandbox.tap(BRANCH, summary, "🗳 发起表决")
    await sandbox.find(BRANCH.id, f"表决已发起：{len(reporters)} 户可以投票", timeout=WAIT)
    story.vote_open.set()


@dataclass
class PartyStory:
    """What the party members wait for: the community secretary, and the activity's code."""

    members: list[Person]
    secretary_ready: asyncio.Event = field(default_factory=asyncio.Event)
    code: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


async def resident(
    sandbox: Sandbox,
    person: Person,
    home: tuple[str, str, str, str],
    staffed: asyncio.Event | None = None,
    numbers: dict[int, str] | None = None,
    story: PartyStory | None = None,
    topic: TopicStory | None = None,
) -> None:
    sub, community, compound, _ = home
    await sandbox.say(person, "/start")
    prompt = await sandbox.expect(person.id, "请选择语言", timeout=WAIT)
    await sandbox.tap(person, prompt, "中文")
    ask = await sandbox.expect(person.id, "您住在哪里", timeout=WAIT)
    await sandbox.tap(person, ask, sub)
    step = await sandbox.expect(person.id, "请选择您所在的社区", timeout=WAIT)
    await sandbox.tap(person, step, community)
    step = await sandbox.expect(person.id, "请选择您所在的小区", timeout=WAIT)
    await sandbox.tap(person, step, compound)
    await sandbox.expect(person.id, f"已设置您的小区：{compound}", timeout=WAIT)
    await sandbox.say(person, "/whoami")
    await sandbox.expect(person.id, f"所在小区：{compound}", timeout=WAIT)
    if staffed is not None and numbers is not None and home[3] == "xihu-zuoan":
        await staffed.wait()
        numbers[person.id] = await report(sandbox, person)
        await claim_flat(sandbox, person)
        if topic is not None:
            topic.claim_done()
            await vote(sandbox, person, topic)
    if story is not None and person in story.members:
        await party_member(sandbox, person, story)


async def party_member(sandbox: Sandbox, person: Person, story: PartyStory) -> None:
    """报到, wait for the approval, sign up for the activity and check in (by location or code)."""
    await story.secretary_ready.wait()
    await sandbox.say(person, "/party")
    ask = await sandbox.expect(person.id, "请问您的姓名", timeout=WAIT)
    await sandbox.tap(person, ask, f"使用“{person.first_name}”")
    await sandbox.expect(person.id, "您住在哪栋楼", timeout=WAIT)
    await sandbox.say(person, f"{person.id % 100}号楼")
    await sandbox.expect(person.id, "您的组织关系在哪个党组织", timeout=WAIT)
    await sandbox.say(person, "区直机关党委")
    ask = await sandbox.expect(person.id, "您属于哪一类", timeout=WAIT)
    await sandbox.tap(person, ask, "在职")
    await sandbox.expect(person.id, "分享手机号", timeout=WAIT)
    await sandbox.say(person, "跳过")
    summary = await sandbox.expect(person.id, "提交给小区党支部吗", timeout=WAIT)
    await sandbox.tap(person, summary, "✅ 提交")
    await sandbox.expect(person.id, "已提交给小区党支部", timeout=WAIT)
    await sandbox.expect(person.id, "报到已通过", timeout=WAIT)
    code = await story.code
    await sandbox.say(person, "/activities")
    listing = await sandbox.expect(person.id, "党员服务日", timeout=WAIT)
    await sandbox.tap(person, listing, next(b for b in buttons(listing) if "🙋" in b))
    await sandbox.expect(person.id, "已报名", timeout=WAIT)
    await sandbox.say(person, "/checkin")
    await sandbox.expect(person.id, "请点下方按钮发送位置", timeout=WAIT)
    if person.id % 2:
        await sandbox.send(person, location=NEAR_JIAYUAN)
    else:
        await sandbox.say(person, code)
    await sandbox.expect(person.id, "“党员服务日”签到", timeout=WAIT)


async def community_work(sandbox: Sandbox, story: PartyStory) -> None:
    """The community secretary plans an activity at 西湖家园 (which has no branch staff, so the
    approval cards come to the community) and approves every registration."""
    secretary = COMMUNITY_SECRETARY
    await story.secretary_ready.wait()
    start = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=20)
    await sandbox.say(secretary, "/newactivity")
    ask = await sandbox.expect(secretary.id, "活动在哪个小区举办", timeout=WAIT)
    await sandbox.tap(secretary, ask, "西湖家园")
    ask = await sandbox.expect(secretary.id, "活动类型是", timeout=WAIT)
    await sandbox.tap(secretary, ask, "志愿服务")
    await sandbox.expect(secretary.id, "活动名称", timeout=WAIT)
    await sandbox.say(secretary, "党员服务日")
    await sandbox.expect(secretary.id, "活动什么时候开始", timeout=WAIT)
    await sandbox.say(secretary, start.strftime("%Y-%m-%d %H:%M"))
    ask = await sandbox.expect(secretary.id, "活动持续多久", timeout=WAIT)
    await sandbox.tap(secretary, ask, "2 小时")
    await sandbox.expect(secretary.id, "在哪里集合", timeout=WAIT)
    await sandbox.say(secretary, "小区广场")
    ask = await sandbox.expect(secretary.id, "名额多少", timeout=WAIT)
    await sandbox.tap(secretary, ask, "10")
    ask = await sandbox.expect(secretary.id, "要在小区居民群发布通知", timeout=WAIT)
    await sandbox.tap(secretary, ask, "不发布")
    summary = await sandbox.expect(secretary.id, "新活动", timeout=WAIT)
    await sandbox.tap(secretary, summary, "✅ 创建")
    created = await sandbox.expect(secretary.id, "已创建", timeout=WAIT)
    found = re.search(r"签到码：(\d{4})", created["text"])
    assert found, created["text"]
    story.code.set_result(found.group(1))
    for member in story.members:
        card = await sandbox.find(
            secretary.id, "党员报到申请", f"姓名：{member.first_name}\n", timeout=WAIT
        )
        await sandbox.tap(secretary, card, "✅ 通过")
        await sandbox.find(
            secretary.id, "已由陈书记审核通过", message_id=card["message_id"], timeout=WAIT
        )


async def report(sandbox: Sandbox, person: Person) -> str:
    await sandbox.say(person, "/report")
    draft = await sandbox.expect(person.id, "请点选最符合的类别", timeout=WAIT)
    await sandbox.tap(person, draft, "物业维修")
    await sandbox.expect(person.id, "请发一条消息描述问题", timeout=WAIT)
    await sandbox.say(person, PROBLEMS[(person.id - 3000) // len(HOMES)])
    draft = await sandbox.expect(person.id, "信息齐全后", timeout=WAIT)
    await sandbox.tap(person, draft, "✅ 提交")
    filed = await sandbox.expect(person.id, "您的诉求已登记为", timeout=WAIT)
    found = re.search(r"WD-\d{8}-\d{4}", filed["text"])
    assert found
    return found.group(0)


def flat_of(person: Person) -> tuple[str, str]:
    """A reporter's flat in building 5 of 西湖左岸 (3 stairwells × 11 floors), typed and shown."""
    n = (person.id - 3000) // len(HOMES)
    unit, floor = n % 3 + 1, n // 3 + 2
    return f"5-{unit}-{floor}01", f"5号楼{unit}单元{floor}01"


async def claim_flat(sandbox: Sandbox, person: Person) -> None:
    """🏠 我家, the flat typed, 业主, sent; the branch (no household contact there) confirms."""
    typed, shown = flat_of(person)
    await sandbox.say(person, "🏠 我家")
    await sandbox.expect(person.id, "您住哪栋楼", timeout=WAIT)
    await sandbox.say(person, typed)
    asked = await sandbox.expect(person.id, "您是业主、业主家属，还是租户", timeout=WAIT)
    await sandbox.tap(person, asked, "业主")
    summary = await sandbox.expect(person.id, "提交吗", timeout=WAIT)
    await sandbox.tap(person, summary, "✅ 提交确认")
    card = await sandbox.find(BRANCH.id, f"{person.first_name} 申请登记为{shown}", timeout=WAIT)
    await sandbox.tap(BRANCH, card, "✅ 确认")
    await sandbox.find(person.id, f"您已登记为{shown}的住户", timeout=WAIT)


async def work_orders(sandbox: Sandbox, numbers: dict[int, str], reporters: int) -> None:
    """The property company takes the tickets one by one (its chat is one conversation): every
    third is returned and re-dispatched by the branch; the rest are signed for, completed and
    rated by their reporter."""
    done: set[str] = set()
    while len(done) < reporters:
        pending = [(uid, n) for uid, n in numbers.items() if n not in done]
        if not pending:
            await asyncio.sleep(0.2)
            continue
        uid, number = pending[0]
        card = await sandbox.find(PROPERTY.id, number, "新派工单", timeout=WAIT)
        if int(number[-4:]) % 3 == 0:
            await sandbox.tap(PROPERTY, card, "↩️ 退单")
            reasons = await sandbox.find(PROPERTY.id, f"退回 {number} 的原因", timeout=WAIT)
            await sandbox.tap(PROPERTY, reasons, "权属不清")
            returned = await sandbox.find(BRANCH.id, number, "退单（权属不清）", timeout=WAIT)
            await sandbox.tap(BRANCH, returned, "➡️ 派给西湖左岸小区业委会")
            # The owners' committee has no staff yet: its card goes up to the branch.
            card = await sandbox.find(BRANCH.id, number, "➡️ 派给西湖左岸小区业委会", timeout=WAIT)
            await sandbox.tap(BRANCH, card, "✅ 签收")
            await sandbox.find(
                BRANCH.id, number, "办理中", message_id=card["message_id"], timeout=WAIT
            )
        else:
            await sandbox.tap(PROPERTY, card, "✅ 签收")
            await sandbox.find(
                PROPERTY.id, number, "办理中", message_id=card["message_id"], timeout=WAIT
            )
            await sandbox.tap(PROPERTY, card, "✔️ 办结")
            await sandbox.find(PROPERTY.id, f"请填写 {number} 的办结答复", timeout=WAIT)
            await sandbox.say(PROPERTY, f"{number} 已修好")
            await sandbox.find(PROPERTY.id, f"{number} 已办结", timeout=WAIT)
            reporter = Person(uid, "", "zh-hans")
            asked = await sandbox.find(uid, number, "您对办理结果满意吗", timeout=WAIT)
            await sandbox.tap(reporter, asked, "满意")
            await sandbox.find(uid, "感谢您的评价", timeout=WAIT)
        done.add(number)


async def invite(sandbox: Sandbox, admin: Person, path: list[str], role: str) -> str:
    await sandbox.say(admin, "/invite")
    menu = await sandbox.expect(admin.id, "Whom do you want to invite?", timeout=WAIT)
    for name in path:
        await sandbox.tap(admin, menu, "› " + name)
        menu = await sandbox.expect(admin.id, "invite staff here", timeout=WAIT)
    await sandbox.tap(admin, menu, role)
    made = await sandbox.expect(admin.id, "Invitation for a", timeout=WAIT)
    found = re.search(r"start=(inv_[\w-]+)", made["text"])
    assert found
    return found.group(1)


async def staff_and_groups(
    sandbox: Sandbox, staffed: asyncio.Event, secretary_ready: asyncio.Event
) -> None:
    admin = Person(ADMIN_ID, "Office", "en")
    for person, wing in (
        (PROPERTY, "Xihu Zuo'an property company"),
        (BRANCH, "Xihu Zuo'an party branch"),
    ):
        payload = await invite(sandbox, admin, [*XIHU_ZUOAN, wing], "Invite a secretary here")
        await sandbox.say(person, f"/start {payload}")
        await sandbox.expect(person.id, "欢迎！您现在是", timeout=WAIT)
    staffed.set()
    for n in range(OFFICERS):
        payload = await invite(sandbox, admin, ["Weidu District"], "Invite a officer here")
        officer = Person(4000 + n, f"干部{n}", "zh")
        await sandbox.say(officer, f"/start {payload}")
        await sandbox.expect(officer.id, "欢迎！您现在是魏都区的工作人员", timeout=WAIT)
    payload = await invite(
        sandbox,
        admin,
        ["Weidu District", "Beidajie Sub-district", "Xihu Community"],
        "Invite a secretary here",
    )
    secretary = COMMUNITY_SECRETARY
    await sandbox.say(secretary, f"/start {payload}")
    await sandbox.expect(secretary.id, "欢迎！您现在是西湖社区的书记", timeout=WAIT)
    secretary_ready.set()
    for n in range(GROUPS):
        chat = group(-6000 - n, f"测试群{n}")
        await sandbox.added_to_group(secretary, chat)
        await sandbox.expect(chat["id"], "大家好", timeout=WAIT)
        await sandbox.say(secretary, "/bind", chat=chat)
        options = await sandbox.expect(chat["id"], "这个群用来做什么", timeout=WAIT)
        await sandbox.tap(secretary, options, "西湖左岸小区居民群")
        await sandbox.expect(chat["id"], "本群已绑定为西湖左岸小区居民群", timeout=WAIT)
    await sandbox._post(
        "/test/migrate", {"user": secretary.json, "chat_id": -6000, "new_chat_id": -1006000}
    )


async def killer(
    bot: BotProcess, sandbox: Sandbox, done: asyncio.Event, rng: random.Random
) -> list[int]:
    """Kill and restart until the people are done; returns how many events each killed process saw
    the sandbox record (the place in the event list where each kill happened)."""
    marks: list[int] = []
    while not done.is_set() or len(marks) < 5:
        await asyncio.sleep(rng.uniform(0.5, 2.5))
        await bot.kill()
        await asyncio.sleep(0.2)  # a request the dead process left half-way is recorded first
        marks.append(len(sandbox.state.events))
        await bot.start(timeout=60)
    return marks


@dataclass
class Crowd:
    """The people of the story and what they learn on the way (their ticket numbers)."""

    residents: int = RESIDENTS
    people: list[Person] = field(init=False)
    numbers: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.people = [Person(3000 + n, f"居民{n}", "zh-hans") for n in range(self.residents)]

    @property
    def members(self) -> list[Person]:
        return [p for n, p in enumerate(self.people) if n % len(HOMES) == 1][:MEMBERS]

    async def live(self, sandbox: Sandbox) -> None:
        """Everyone does their part, at once, until all is done."""
        staffed = asyncio.Event()
        reporters = sum(1 for n in range(self.residents) if n % len(HOMES) == 0)
        story = PartyStory(members=self.members)
        topic = TopicStory(reporters)
        await asyncio.gather(
            *(
                resident(sandbox, p, HOMES[n % len(HOMES)], staffed, self.numbers, story, topic)
                for n, p in enumerate(self.people)
            ),
            staff_and_groups(sandbox, staffed, story.secretary_ready),
            work_orders(sandbox, self.numbers, reporters),
            community_work(sandbox, story),
            deliberation(sandbox, self, topic),
        )


@pytest.mark.timeout(900)  # about 5 minutes of work, stretched by every kill and restart
async def test_random_kills_lose_nothing_and_repeat_nothing(
    sandbox: Sandbox, bot: BotProcess, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    print(f"kill test seed {seed}")
    crowd = Crowd()
    done = asyncio.Event()
    kill_task = asyncio.create_task(killer(bot, sandbox, done, random.Random(seed)))
    await crowd.live(sandbox)
    done.set()
    marks = await kill_task
    assert len(marks) >= 5
    db = Database(database_url(tmp_path))
    try:
        await nothing_lost(db, sandbox, crowd, marks)
    finally:
        await db.close()


async def nothing_lost(db: Database, sandbox: Sandbox, crowd: Crowd, marks: list[int]) -> None:
    """Every update handled once, its effects there once, every message delivered, and a message
    delivered twice only by a process killed (at one of `marks`, places in the sandbox's event
    list) before it recorded the sending."""
    people, numbers, members = crowd.people, crowd.numbers, crowd.members
    kills = len(marks)
    await drained(db)  # then compare the database with what the sandbox saw

    async with db.session() as s:
        handled = set((await s.execute(select(inbox.c.update_id))).scalars())
        last = next(sandbox.state.update_seq) - 1
        assert handled == set(range(1, last + 1)), "an update was lost"
        assert await InboxRepo(s).counts() == {"done": last}, "an update failed"
        assert last >= 300

        # Effects exist exactly once.
        rows = (
            await s.execute(
                select(
                    outbox.c.cause,
                    outbox.c.chat_id,
                    outbox.c.method,
                    outbox.c.payload,
                    outbox.c.status,
                )
            )
        ).all()
        twice = Counter((r.cause, r.chat_id, r.method, r.payload) for r in rows)
        assert max(twice.values()) == 1, "an update's messages were written twice"
        assert all(r.status == "sent" for r in rows), Counter(r.status for r in rows)
        for n, person in enumerate(people):
            compound = await UnitRepo(s).by_code(HOMES[n % len(HOMES)][3])
            user_row = (await s.execute(select(users).where(users.c.id == person.id))).one()
            assert compound is not None and user_row.compound_id == compound.id
        assert (await s.execute(select(func.count()).select_from(invites))).scalar_one() == (
            OFFICERS + 3
        )
        assert (await s.execute(select(func.count()).select_from(staff))).scalar_one() == (
            OFFICERS + 3
        )
        # One ticket per reporter, each step once, each in its final state.
        tickets = (await s.execute(select(complaints))).all()
        assert sorted(t.number for t in tickets) == sorted(numbers.values())
        for t in tickets:
            trail = [e.action.value for e in await ComplaintRepo(s).events(t.id)]
            if int(t.number[-4:]) % 3 == 0:
                assert t.status == "signed", t.number
                assert trail == ["created", "dispatched", "returned", "redispatched", "signed"]
            else:
                assert (t.status, t.rating) == ("closed", "satisfied"), t.number
                assert trail == [
                    "created",
                    "dispatched",
                    "signed",
                    "completed",
                    "rated",
                    "closed",
                ], t.number
        # One claim per reporter, confirmed once, for the flat they typed.
        claims = (
            await s.execute(
                select(residents.c.user_id, residents.c.status, flats.c.building, flats.c.unit,
                       flats.c.number).join(flats, flats.c.id == residents.c.flat_id)
            )
        ).all()  # fmt: skip
        reporters = [p for p in people if p.id in numbers]
        assert sorted(c.user_id for c in claims) == sorted(p.id for p in reporters)
        for c in claims:
            typed, _shown = flat_of(Person(c.user_id, "", "zh"))
            assert (c.status, f"{c.building}-{c.unit}-{c.number}") == ("confirmed", typed)
        # One registration per member, approved once; one activity; each member signed up
        # and checked in once.
        registered = (await s.execute(select(party_members))).all()
        assert sorted(r.user_id for r in registered) == sorted(p.id for p in members)
        assert {r.status for r in registered} == {"approved"}
        planned = (await s.execute(select(activities))).all()
        kinds = sorted(a.kind for a in planned)
        assert kinds == ["meeting", "volunteer"], planned  # and the topic's 议事会, once
        (service,) = (a for a in planned if a.kind == "volunteer")
        assert service.signed == MEMBERS, planned
        present = (
            await s.execute(select(attendance).where(attendance.c.activity_id == service.id))
        ).all()
        assert sorted(a.user_id for a in present) == sorted(p.id for p in members)
        assert all(a.status == "signed" and a.checked_in_at is not None for a in present)
        # One topic, supported by five households, and one ballot per reporter's household with
        # its last vote; a changed vote changed once.
        (topic,) = (await s.execute(select(topics))).all()
        assert (topic.status, topic.supporters, topic.electorate) == ("voting", 5, len(reporters))
        assert (await s.execute(select(func.count()).select_from(topic_supports))).scalar_one() == 5
        cast = {
            b.user_id: (b.vote, b.changes == 1)
            for b in (await s.execute(select(topic_ballots))).all()
        }
        assert cast == {p.id: ballot_of(p) for p in reporters}, cast
        bound = [await ChatRepo(s).get(cid) for cid in (-1006000, -6001, -6002)]
        assert all(c is not None and c.purpose is ChatPurpose.RESIDENTS for c in bound)
        assert await ChatRepo(s).get(-6000) is None

    # Every message reached the sandbox at least once.
    sends: dict[tuple[int, str | None], list[int]] = {}
    for index, e in enumerate(sandbox.state.events):
        if e["type"] == "send":
            sends.setdefault((e["chat_id"], e["message"].get("html")), []).append(index)
    wanted = Counter(
        (r.chat_id, json.loads(r.payload)["text"]) for r in rows if r.method == "sendMessage"
    )
    missing = {k: n for k, n in wanted.items() if len(sends.get(k, [])) < n}
    assert not missing, f"never delivered: {list(missing)[:5]}"
    # A message arrives twice only when the process that sent it was killed before recording
    # it: the extra copies of a message are charged to the lives of the processes that sent
    # its first copies, each of which must have ended in a kill, and no kill may account for
    # more than the sender has in flight.
    charged: Counter[int] = Counter()
    for key, n in wanted.items():
        extra = len(sends[key]) - n
        for index in sends[key][:extra]:
            life = bisect.bisect_right(marks, index)
            assert life < kills, f"sent twice without a kill: {key}"
            charged[life] += 1
    duplicates = sum(charged.values())
    print(f"kills={kills} updates={last} messages={sum(wanted.values())} duplicates={duplicates}")
    assert max(charged.values(), default=0) <= CONCURRENCY, charged
