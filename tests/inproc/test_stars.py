"""五星小区 in process (issue 23, in progress): the monthly sweep evaluates last month once per
compound by the criteria in force; `/stars` shows a community's compounds and a compound's card, in
Chinese and in English; a resident, and a month that cannot be read, are answered politely."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.domain.complaints import Category, Draft, Rating
from bot.domain.people import Actor, ChatPurpose
from bot.services import complaints, dispatch, stars
from bot.services.desk import Desk, open_desk
from storage import tables
from storage.chats import ChatRepo
from storage.units import UnitRepo
from storage.users import StaffRepo, UserRepo
from tests.inproc.harness import ADMIN_ID, Chat, Harness, Person

ROOT = Path(__file__).resolve().parents[2]
WEN = Person(4301, "温书记", "zh")  # 西湖社区
TOM = Person(4302, "Tom", "en")  # 西湖社区 too, in English
AUNT = Person(4303, "王阿姨", "zh")  # a resident


async def criteria_from_february(h: Harness, tmp: Path) -> None:
    """The example criteria, as a version that applies from February 2026 (the harness's clock
    stands in March)."""
    text = (ROOT / "stars.example.toml").read_text(encoding="utf-8")
    path = tmp / "stars.toml"
    path.write_text(text.replace('version = "2026-12"', 'version = "2026-02"'), encoding="utf-8")
    assert (
        await stars.load_criteria(h.db, path, h.clock, h.config) == "version 2026-02 from 2026-02"
    )


async def test_the_month_is_evaluated_once_and_shown_to_the_community(
    h: Harness, tmp_path: Path
) -> None:
    wen = await h.staff(WEN, "xihu")
    before = await wen.command("stars")
    assert "还没有评定过任何月份" in before.text, before.text
    await criteria_from_february(h, tmp_path)
    await h.sweep(stars.sweep)
    await h.sweep(stars.sweep)
    async with h.db.read() as s:
        compounds = await UnitRepo(s).compounds_in("/", limit=1000)
    assert await h.count(tables.star_runs) == len(compounds)  # once each, however many sweeps

    board = await wen.command("stars")
    assert "⭐ 五星小区 · 西湖社区 · 2026-02" in board.text, board.text
    assert "西湖左岸小区" in board.text and "西湖家园" in board.text
    assert "春秋花园" not in board.text  # another community's
    assert "五星小区：2 个中 0 个（0%）" in board.text and "全区 2024 年目标：60%" in board.text
    assert [b.label for b in board.last.buttons[-1]] == ["📈 图表", "📒 台账（XLSX）"]
    card = await wen.press("0★ 西湖家园")
    assert "⭐ 西湖家园 · 2026-02：0 星" in card.text, card.text
    assert "评定标准 2026-02（示例）" in card.text
    assert "✗ 党群服务中心“六有”: 无数据 [≥ 1]" in card.text
    assert "✗ 每百户报到党员: 0.0 (0/24) [≥ 3]" in card.text
    assert "✓ 重复诉求（件）: 0 [≤ 2]" in card.text
    assert "⬜ 便民服务星" in card.text
    back = await wen.press("« 全部小区")
    assert "西湖左岸小区" in back.text

    tom = await h.staff(TOM, "xihu")
    english = await tom.command("stars", "2026-02")
    assert "Five-star compounds: 0 of 2 (0%)" in english.text, english.text
    card = await tom.press("0★ Xihu Jiayuan")
    assert "Party-service centre meets the 六有 standard: no data" in card.text, card.text


async def test_a_resident_and_an_unreadable_month_are_answered(h: Harness) -> None:
    aunt = await h.resident(AUNT)
    refused = await aunt.command("stars")
    assert "工作人员" in refused.text, refused.text
    wen = await h.staff(WEN, "xihu")
    odd = await wen.command("stars", "2026-13")
    assert "请写月份，例如 2026-11" in odd.text


GROUP = -8301
LI = Person(4304, "李书记", "zh")  # 西湖家园's party branch


async def test_the_community_confirms_or_adjusts_and_the_result_is_made_public(
    h: Harness, tmp_path: Path
) -> None:
    """The community confirms 西湖家园's result: the residents group gets the 公示 (the compound and
    its stars, nobody's name), the branch is told in words; the branch itself may not review, and
    a second press of the same button changes nothing. 西湖左岸's result is adjusted: 党建引领星
    stands, with the reason, which the card shows."""
    now = h.clock.now()
    async with h.db.session() as s:
        jiayuan = await UnitRepo(s).by_code("xihu-jiayuan")
        assert jiayuan is not None
        await ChatRepo(s).joined(GROUP, "group", "西湖家园居民群", now)
        await ChatRepo(s).bind(GROUP, ChatPurpose.RESIDENTS, jiayuan.id, ADMIN_ID, now)
    wen = await h.staff(WEN, "xihu")
    branch = await h.staff(LI, "xihu-jiayuan.party_branch")
    await criteria_from_february(h, tmp_path)
    await h.sweep(stars.sweep)

    seen = await branch.command("stars")
    card = await branch.press("0★ 西湖家园", on=seen.last)
    assert "✅ 确认并公示" not in card.last.labels  # the branch does not review its own result
    board = await wen.command("stars")
    card = await wen.press("0★ 西湖家园", on=board.last)
    confirm = card.last.data["✅ 确认并公示"]
    forged = await branch.press_data(confirm, on=seen.last)
    assert "由所在社区（或上级）审核" in (forged.answer.text or "")
    confirmed = await wen.press("✅ 确认并公示", on=card.last)
    assert "已确认并公示" in confirmed.text
    notice = confirmed.to(GROUP)
    assert len(notice) == 1 and "📢 五星小区 2026-02：西湖家园 — 0 星" in notice[0].text
    assert all(p.first_name not in notice[0].text for p in (WEN, LI))
    told = confirmed.to(LI.id)
    assert told and "西湖家园 2026-02 评定为 0 星" in told[0].text
    again = await wen.press_data(confirm, on=card.last)
    assert "已被审核" in (again.answer.text or "")
    assert len(again.to(GROUP)) == 0

    card = await wen.press("0★ 西湖左岸小区", on=board.last)
    asked = await wen.press("✏️ 调整（说明理由）", on=card.last)
    assert "哪些星成立" in asked.text
    await wen.press("⬜ 党建引领星")
    await wen.press("下一步 »")
    adjusted = await wen.send("党员报到数据迁移中，经核实已达标")
    assert "已调整并公示" in adjusted.text
    assert "社区已调整：党员报到数据迁移中" in adjusted.text
    assert "✅ 党建引领星" in adjusted.text


async def test_the_community_enters_an_indicator_with_evidence_and_it_counts(
    h: Harness, tmp_path: Path
) -> None:
    """In March the community enters 西湖家园's 六有 as met, with a photo and a note; the branch
    cannot. When March is evaluated (in April) the figure passes and names the entry as its
    evidence."""
    wen = await h.staff(WEN, "xihu")
    branch = await h.staff(LI, "xihu-jiayuan.party_branch")
    await criteria_from_february(h, tmp_path)
    await h.sweep(stars.sweep)  # February
    board = await wen.command("stars")
    card = await wen.press("0★ 西湖家园", on=board.last)
    entry = card.last.data["✍ 录入本月指标"]
    refused = await branch.press_data(entry, on=(await branch.command("stars")).last)
    assert "由所在社区（或上级）审核" in (refused.answer.text or "")
    asked = await wen.press("✍ 录入本月指标", on=card.last)
    assert "录入本月哪项指标" in asked.text
    await wen.press("党群服务中心“六有”")
    await wen.press("✅ 达标")
    summary = await wen.photo("六有：有场所、有标识、有制度、有队伍、有活动、有经费")
    assert "数值：1" in summary.text and "照片：是" in summary.text, summary.text
    saved = await wen.press("💾 保存")
    assert "已录入 2026-03" in saved.text

    h.clock.advance(timedelta(days=31))  # April: March is evaluated
    await h.sweep(stars.sweep)
    march = await wen.command("stars", "2026-03")
    card = await wen.press("0★ 西湖家园", on=march.last)
    assert "✓ 党群服务中心“六有”: 1 [≥ 1] · 1 条记录" in card.text, card.text
    async with h.db.read() as s:
        evidence = (
            await s.execute(
                select(tables.star_figures.c.evidence).where(
                    tables.star_figures.c.indicator == "six_haves",
                    tables.star_figures.c.value.is_not(None),
                )
            )
        ).scalar_one()
    assert "有场所" in evidence and "[photo]" in evidence


BAO = Person(4305, "鲍大爷", "zh")  # lives in 西湖家园
ZHANG = Person(4306, "张主任", "zh")  # 北大街道, the sub-district
QIN = Person(4307, "Qin", "en")  # 魏都区, the district, in English


async def made_public(h: Harness, tmp_path: Path) -> tuple[Chat, int, str]:
    """February's result of 西湖家园, confirmed by the community and made public in its residents
    group; returns the community's chat, the run's id and the 公示's objection link."""
    now = h.clock.now()
    async with h.db.session() as s:
        jiayuan = await UnitRepo(s).by_code("xihu-jiayuan")
        assert jiayuan is not None
        await ChatRepo(s).joined(GROUP, "group", "西湖家园居民群", now)
        await ChatRepo(s).bind(GROUP, ChatPurpose.RESIDENTS, jiayuan.id, ADMIN_ID, now)
    wen = await h.staff(WEN, "xihu")
    await criteria_from_february(h, tmp_path)
    await h.sweep(stars.sweep)
    board = await wen.command("stars")
    card = await wen.press("0★ 西湖家园", on=board.last)
    confirmed = await wen.press("✅ 确认并公示", on=card.last)
    notice = confirmed.to(GROUP)[0]
    assert "居民如有异议，可在 2026-03-" in notice.text, notice.text
    link = notice.buttons[0][0]
    assert link.label == "⚠️ 提异议" and link.url is not None
    run_id = int(link.url.rsplit("so_", 1)[1])
    return wen, run_id, f"so_{run_id}"


async def run_status(h: Harness, run_id: int) -> str:
    async with h.db.read() as s:
        found = await s.execute(
            select(tables.star_runs.c.status).where(tables.star_runs.c.id == run_id)
        )
        return str(found.scalar_one())


async def test_an_objection_goes_to_the_sub_district_and_is_chased_when_late(
    h: Harness, tmp_path: Path
) -> None:
    """鲍大爷 of 西湖家园 objects during 公示: the sub-district (北大街道) gets it privately with his
    name, the group nothing; 王阿姨 of another compound and his second objection are refused, and
    so is the community answering it. Unanswered, the sub-district is warned at 75 % of its five
    days and the district chased at the deadline; the district (in English) sends the result back,
    鲍大爷 reads the answer, and the community reviews it again."""
    wen, _run, link = await made_public(h, tmp_path)
    await h.staff(ZHANG, "beidajie")
    qin = await h.staff(QIN, "weidu")
    aunt = await h.resident(AUNT)  # 西湖左岸
    refused = await aunt.command("start", link)
    assert "只有本小区的居民可以对评定结果提异议" in refused.text, refused.text
    bao = await h.resident(BAO, "xihu-jiayuan")
    asked = await bao.command("start", link)
    assert "📢 五星小区 2026-02：西湖家园 — 0 星" in asked.text
    assert "这个评定结果哪里不对" in asked.text, asked.text
    sent = await bao.send("小区垃圾分类一直有人督导，文明风尚星应该有")
    assert "您的异议 #1 已转给街道" in sent.text, sent.text
    to_zhang = sent.to(ZHANG.id)
    assert len(to_zhang) == 1
    assert "⚠️ 异议 #1：鲍大爷（房号未核实） 对 西湖家园 2026-02" in to_zhang[0].text, to_zhang[
        0
    ].text
    assert "垃圾分类一直有人督导" in to_zhang[0].text
    assert to_zhang[0].labels == ["✅ 答复：维持结果", "↩️ 答复：退回社区复核"]
    assert sent.to(GROUP) == () and sent.to(WEN.id) == ()  # the name goes nowhere else
    again = await bao.command("start", link)
    assert "您已经对这个评定结果提过异议" in again.text, again.text
    assert await h.count(tables.star_objections) == 1

    keep = to_zhang[0].data["✅ 答复：维持结果"]
    forged = await wen.press_data(keep, on=to_zhang[0])
    assert "由街道（或区）答复" in (forged.answer.text or "")

    h.clock.advance(timedelta(days=3, hours=20))  # 75 % of five days
    warned = await h.sweep(stars.chase)
    assert any("⏳ 异议 #1（西湖家园）须在" in m.text for m in warned.to(ZHANG.id)), warned.sent
    assert warned.to(QIN.id) == ()
    assert (await h.sweep(stars.chase)).sent == ()  # once
    h.clock.advance(timedelta(days=1, hours=6))  # past the deadline
    chased = await h.sweep(stars.chase)
    overdue = chased.to(QIN.id)
    assert (
        len(overdue) == 1 and "Overdue: Beidajie Sub-district has not answered" in overdue[0].text
    )
    assert "鲍大爷" in overdue[0].text  # privately, to the district's staff
    assert any("已报 魏都区 督办" in m.text for m in chased.to(ZHANG.id)), chased.sent

    asked = await qin.press("↩️ Answer: back to the community", on=overdue[0])
    assert "answer to the resident" in asked.text
    answered = await qin.send("已核实垃圾分类督导记录，请社区重新审核文明风尚星")
    assert "back to the community" in answered.text
    to_bao = answered.to(BAO.id)
    assert len(to_bao) == 1 and "街道已答复您" in to_bao[0].text
    assert "评定结果已退回社区重新审核" in to_bao[0].text
    edited = [m for m in answered.to(GROUP) if m.is_edit]
    assert len(edited) == 1 and "已退回社区重新审核" in edited[0].text and not edited[0].buttons
    to_wen = answered.to(WEN.id)
    assert to_wen and "因居民异议，街道将 西湖家园 2026-02" in to_wen[0].text, answered.sent
    assert "鲍大爷" not in to_wen[0].text
    card = await wen.press("⭐ 打开评定结果", on=to_wen[0])
    assert "状态：待社区审核" in card.text and "退回复核：已核实垃圾分类督导记录" in card.text
    again = await wen.press("✅ 确认并公示", on=card.last)  # reviewed again, made public again
    posted = again.to(GROUP)
    assert [m.is_edit for m in posted] == [True, False], posted  # the first one open again, and new
    assert all(m.labels == ["⚠️ 提异议"] for m in posted)
    late = await qin.press_data(overdue[0].data["✅ Answer: the result stands"], on=overdue[0])
    assert "answered already" in (late.answer.text or ""), late.answer


async def test_a_result_is_final_when_public_is_over_and_every_objection_answered(
    h: Harness, tmp_path: Path
) -> None:
    """An objection answered "the result stands" after 公示 is over settles the result; before
    that, the end of 公示 does not; an objection after 公示 is refused."""
    wen, run_id, link = await made_public(h, tmp_path)
    zhang = await h.staff(ZHANG, "beidajie")
    bao = await h.resident(BAO, "xihu-jiayuan")
    await bao.command("start", link)
    sent = await bao.send("数据不对")
    h.clock.advance(timedelta(days=8))  # 公示 is over, the objection is not answered
    await h.sweep(stars.settle)
    assert await run_status(h, run_id) == "public"
    late = await (await h.resident(Person(4308, "晚来的", "zh"), "xihu-jiayuan")).command(
        "start", link
    )
    assert "异议只在公示期内受理" in late.text, late.text
    warned = await h.sweep(stars.chase)  # one step a sweep: "due soon", then the district told
    chased = await h.sweep(stars.chase)
    assert len(warned.to(ZHANG.id)) == len(chased.to(ZHANG.id)) == 1, (warned.sent, chased.sent)
    await zhang.press("✅ 答复：维持结果", on=sent.to(ZHANG.id)[0])  # its first card still works
    answered = await zhang.send("经核实，评定数据无误")
    assert "评定结果维持不变" in answered.to(BAO.id)[0].text
    edited = [m for m in answered.to(GROUP) if m.is_edit]
    assert len(edited) == 1 and "公示期满，评定结果已定" in edited[0].text and not edited[0].buttons
    assert await run_status(h, run_id) == "final"
    board = await wen.command("stars")
    card = await wen.press("0★ 西湖家园", on=board.last)
    assert "状态：已定" in card.text and "维持结果：经核实，评定数据无误" in card.text


# --- three compounds over three months, built through the services ---------------------------

CRITERIA = """
version = "2026-03"
example = false

[[star]]
key = "party"
name = "党建引领星"

[[star.indicator]]
key = "six_haves"
metric = "entered"
name = "党群服务中心“六有”"
at_least = 1

[[star]]
key = "service"
name = "便民服务星"

[[star.indicator]]
key = "satisfaction"
metric = "satisfaction_rate"
name = "满意率"
at_least = 0.75

[[star]]
key = "harmony"
name = "和谐稳定星"

[[star.indicator]]
key = "repeats"
metric = "repeat_complaints"
name = "重复诉求（件）"
at_most = 0

[[star]]
key = "livable"
name = "美丽宜居星"

[[star.indicator]]
key = "sanitation"
metric = "sanitation_per_100"
name = "每百户环境卫生类诉求"
at_most = 5
"""


@asynccontextmanager
async def service_desk(h: Harness) -> AsyncIterator[Desk]:
    """One transaction of the services, as a handler or a sweep has it."""
    workflow = h.dp.workflow_data
    with h.app.i18n.context():
        async with open_desk(
            h.db, h.clock, h.config, workflow["matcher"], workflow["bot_username"]
        ) as desk:
            yield desk


def move_to(h: Harness, at: datetime) -> None:
    h.clock.advance(at - h.clock.now())


async def actor_of(h: Harness, person: Person) -> Actor:
    async with h.db.read() as s:
        user = await UserRepo(s).get(person.id)
        memberships, is_contact = await StaffRepo(s).roles(person.id)
    assert user is not None
    return Actor(user, tuple(memberships), False, "zh", is_contact)


async def ticket(
    h: Harness, reporter: Person, compound: str, category: Category, rating: Rating
) -> None:
    """A resident's report, signed for and completed by the district's staff, then rated."""
    staff = await actor_of(h, QIN)
    resident = await actor_of(h, reporter)
    async with h.db.read() as s:
        unit = await UnitRepo(s).by_code(compound)
    assert unit is not None
    async with service_desk(h) as desk:
        made = await complaints.open_complaint(
            desk, resident, Draft(unit.id, category, f"{category.value} at {compound}")
        )
    async with service_desk(h) as desk:
        signed = await dispatch.sign_for(desk, staff, made.id, made.version)
    async with service_desk(h) as desk:
        done = await dispatch.complete(desk, staff, signed.id, signed.version, "已处理")
    async with service_desk(h) as desk:
        await complaints.rate(desk, resident, done.id, done.version, rating)
    h.clock.advance(timedelta(hours=1))


async def six_haves(h: Harness, compound: str) -> None:
    wen = await actor_of(h, WEN)
    async with h.db.read() as s:
        unit = await UnitRepo(s).by_code(compound)
    assert unit is not None
    async with service_desk(h) as desk:
        await stars.enter(desk, wen, unit.id, "six_haves", 1, "六有台账已核", None)


async def latest_workbook(h: Harness) -> Workbook:
    async with h.db.read() as s:
        data = (
            await s.execute(select(tables.files.c.data).order_by(tables.files.c.id.desc()).limit(1))
        ).scalar_one()
    return load_workbook(BytesIO(data))


async def month_stars(h: Harness, month: date) -> dict[str, tuple[set[str], str]]:
    """Each compound's stars and criteria version in a month."""
    async with h.db.read() as s:
        rows = await s.execute(
            select(tables.units.c.code, tables.star_runs.c.stars, tables.star_criteria.c.version)
            .join(tables.units, tables.units.c.id == tables.star_runs.c.compound_id)
            .join(tables.star_criteria, tables.star_criteria.c.id == tables.star_runs.c.criteria_id)
            .where(tables.star_runs.c.month == month)
        )
        return {r.code: ({p for p in r.stars.split(",") if p}, r.version) for r in rows}


async def test_three_compounds_over_three_months_equal_the_hand_count(
    h: Harness, tmp_path: Path
) -> None:
    """The criteria (version 2026-03, read in March, the first on record: it applies from March):
    党建引领 = the community's 六有 entry ≥ 1; 便民服务 = 满意率 ≥ 75 %; 和谐稳定 = repeat
    complaints ≤ 0; 美丽宜居 = sanitation and clutter tickets ≤ 5 per 100 flats.

    March, by hand:
    - 西湖左岸 (98 flats): 六有 entered; four sanitation reports by four residents, all 满意 →
      满意率 4/4; 4 per 98 flats = 4.1 per 100 ≤ 5; no repeat → party, service, harmony, livable.
    - 西湖家园 (24 flats): two sanitation reports by two residents, 满意 and 基本满意 → 满意率 2/2;
      2 per 24 flats = 8.3 per 100 > 5; no 六有 → service, harmony.
    - 春秋花园 (54 flats): two repair reports by the same resident a day apart, both 基本满意 →
      满意率 2/2; one repeat > 0; no sanitation → service, livable.

    On 2 April a looser version (2026-04: 满意率 ≥ 40 %) is read: it applies from May only.

    April, by hand (still version 2026-03):
    - 西湖左岸: 六有 entered again; four repair reports by four new residents, two 满意 and two
      不满意 → 满意率 2/4 = 50 % < 75 %: 便民服务星 is lost (under 2026-04 it would stand);
      no sanitation, no repeat → party, harmony, livable.
    - 西湖家园 and 春秋花园: no report → no 满意率 (no data, no star), no repeat, no sanitation →
      harmony, livable.

    May is judged by version 2026-04; nobody reports → harmony, livable in all three."""
    await h.staff(WEN, "xihu")
    await h.staff(QIN, "weidu")
    await h.staff(LI, "xihu-zuoan.party_branch")
    path = tmp_path / "stars.toml"
    path.write_text(CRITERIA, encoding="utf-8")
    assert (
        await stars.load_criteria(h.db, path, h.clock, h.config) == "version 2026-03 from 2026-03"
    )
    people = [Person(4400 + n, f"居民{n}", "zh") for n in range(12)]
    for p in people[:4]:
        await h.resident(p, "xihu-zuoan")
    for p in people[4:6]:
        await h.resident(p, "xihu-jiayuan")
    await h.resident(people[6], "chunqiu-huayuan")
    for p in people[8:12]:
        await h.resident(p, "xihu-zuoan")

    await six_haves(h, "xihu-zuoan")
    for p in people[:4]:
        await ticket(h, p, "xihu-zuoan", Category.SANITATION, Rating.SATISFIED)
    await ticket(h, people[4], "xihu-jiayuan", Category.SANITATION, Rating.SATISFIED)
    await ticket(h, people[5], "xihu-jiayuan", Category.CLUTTER, Rating.BASIC)
    await ticket(h, people[6], "chunqiu-huayuan", Category.PROPERTY_REPAIR, Rating.BASIC)
    h.clock.advance(timedelta(days=1))
    await ticket(h, people[6], "chunqiu-huayuan", Category.PROPERTY_REPAIR, Rating.BASIC)

    move_to(h, datetime(2026, 4, 2, 1, 0, tzinfo=UTC))
    await h.sweep(stars.sweep)
    march = await month_stars(h, date(2026, 3, 1))
    assert march["xihu-zuoan"] == ({"party", "service", "harmony", "livable"}, "2026-03")
    assert march["xihu-jiayuan"] == ({"service", "harmony"}, "2026-03")
    assert march["chunqiu-huayuan"] == ({"service", "livable"}, "2026-03")

    path.write_text(
        CRITERIA.replace('"2026-03"', '"2026-04"').replace("at_least = 0.75", "at_least = 0.4"),
        encoding="utf-8",
    )
    assert (
        await stars.load_criteria(h.db, path, h.clock, h.config) == "version 2026-04 from 2026-05"
    )
    await six_haves(h, "xihu-zuoan")
    for n, p in enumerate(people[8:12]):
        rating = Rating.SATISFIED if n < 2 else Rating.UNSATISFIED
        await ticket(h, p, "xihu-zuoan", Category.PROPERTY_REPAIR, rating)

    move_to(h, datetime(2026, 5, 2, 1, 0, tzinfo=UTC))
    await h.sweep(stars.sweep)
    april = await month_stars(h, date(2026, 4, 1))
    assert april["xihu-zuoan"] == ({"party", "harmony", "livable"}, "2026-03")
    assert april["xihu-jiayuan"] == ({"harmony", "livable"}, "2026-03")
    assert april["chunqiu-huayuan"] == ({"harmony", "livable"}, "2026-03")

    wen = await h.staff(WEN, "xihu")
    board = await wen.command("stars", "2026-04")
    assert "★★★ 西湖左岸小区 (−便民服务星)" in board.text, board.text
    card = await wen.press("3★ 西湖左岸小区", on=board.last)
    assert "✗ 满意率: 50% (2/4) [≥ 75%]" in card.text, card.text
    confirmed = await wen.press("✅ 确认并公示", on=card.last)
    told = confirmed.to(LI.id)
    assert told and "失去：便民服务星，原因：满意率 50% (2/4) [≥ 75%]" in told[0].text, told

    drawn = await wen.press("📈 图表", on=board.last)
    assert drawn.last.photo is not None and "西湖社区 2026-04" in drawn.last.text, drawn.last
    ledger = await wen.press("📒 台账（XLSX）", on=board.last)
    assert ledger.last.document is not None and "22,000 元" in ledger.last.text, ledger.last.text
    book = await latest_workbook(h)
    rows = [tuple(r) for r in book["五星台账"].iter_rows(min_row=2, values_only=True)]
    assert [r[:10] for r in rows] == [
        ("2026-03", "西湖社区", "西湖左岸小区", "★", "★", None, "★", "★", 4, 8000),
        ("2026-03", "西湖社区", "西湖家园", None, "★", None, "★", None, 2, 4000),
        ("2026-04", "西湖社区", "西湖左岸小区", "★", None, None, "★", "★", 3, 6000),
        ("2026-04", "西湖社区", "西湖家园", None, None, None, "★", "★", 2, 4000),
    ], rows
    awards = [tuple(r) for r in book["奖补汇总"].iter_rows(min_row=2, values_only=True)]
    assert awards[-1] == ("合计", None, 4, 0, 11, 22000), awards
    figures = [tuple(r) for r in book["指标明细"].iter_rows(min_row=2, values_only=True)]
    assert ("2026-04", "西湖左岸小区", "便民服务星", "满意率", 0.5, 2, 4, "否") in [
        f[:8] for f in figures
    ], figures

    move_to(h, datetime(2026, 6, 2, 1, 0, tzinfo=UTC))
    await h.sweep(stars.sweep)
    may = await month_stars(h, date(2026, 5, 1))
    for code in ("xihu-zuoan", "xihu-jiayuan", "chunqiu-huayuan"):
        assert may[code] == ({"harmony", "livable"}, "2026-04"), may
