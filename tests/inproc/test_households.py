"""Households (issue 21) in process: claiming a flat by buttons, typed, or floor by floor; who may
confirm a claim (the flat's household contact or the branch; not a resident, not another
stairwell's contact, not twice); the reason of a rejection; the representative; the appointment
link (once, not expired); the households screen for the wrong role. Flat numbers never reach a
group chat."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.domain.households import ResidentStatus, Tenure
from storage import tables
from storage.households import HouseholdRepo
from storage.units import UnitRepo
from tests.inproc.harness import Chat, Harness, Person, Replies, tamper

AUNT_LI = Person(3001, "李阿姨", "zh-hans")  # resident of 西湖左岸
UNCLE_WANG = Person(3002, "王大爷", "zh")  # resident of 西湖左岸
TOM = Person(3003, "Tom", "en-US")  # resident of 西湖左岸
GRANNY_ZHAO = Person(3004, "赵奶奶", "zh")  # resident of 春秋花园
LIU = Person(3102, "刘书记", "zh-CN")  # party branch of 西湖左岸
ZHANG = Person(3101, "张师傅", "zh-CN")  # property company of 西湖左岸: staff, not the branch
SISTER_ZHOU = Person(3201, "周大姐", "zh")  # household contact of 3号楼2单元
MASTER_QIAN = Person(3202, "钱师傅", "zh")  # household contact of 3号楼1单元
STALE = "重新开始"


async def flat_id(h: Harness, address: str, compound: str = "xihu-zuoan") -> int:
    building, unit, number = address.split("-")
    async with h.db.read() as s:
        found = await UnitRepo(s).by_code(compound)
        assert found is not None
        flats = await HouseholdRepo(s).flats_in(found.id, building, unit)
    return next(f.id for f in flats if f.address.number == number)


async def residents(h: Harness) -> list[tuple[int | None, str, str]]:
    async with h.db.read() as s:
        rows = await s.execute(
            select(
                tables.residents.c.user_id, tables.residents.c.status, tables.residents.c.tenure
            ).order_by(tables.residents.c.id)
        )
    return [(r.user_id, r.status, r.tenure) for r in rows]


async def contact(h: Harness, person: Person, building: str, unit: str) -> Chat:
    """A household contact of a stairwell of 西湖左岸 (as if appointed by the branch)."""
    chat = await h.resident(person)
    async with h.db.session() as s:
        compound = await UnitRepo(s).by_code("xihu-zuoan")
        assert compound is not None
        await HouseholdRepo(s).appoint(
            compound.id, person.id, building, unit, LIU.id, h.clock.now()
        )
    return chat


async def claim_by_buttons(chat: Chat, building: str, unit: str, number: str) -> Replies:
    """🏠 我家 up to the summary, by buttons."""
    asked = await chat.send("🏠 我家")
    assert "您住哪栋楼" in asked.text, asked.text
    asked = await chat.press(f"{building}号楼")
    assert "哪个单元" in asked.text, asked.text
    asked = await chat.press(f"{unit}单元")
    assert "哪一户" in asked.text, asked.text
    asked = await chat.press(number)
    assert "您是业主、业主家属，还是租户" in asked.text
    summary = await chat.press("业主")
    assert "提交吗" in summary.text and "✅ 提交确认" in summary.last.labels
    return summary


async def test_a_claim_by_buttons_goes_to_the_stairwells_contact_who_confirms(h: Harness) -> None:
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    qian = await contact(h, MASTER_QIAN, "3", "1")
    branch = await h.staff(LIU, "xihu-zuoan.party_branch")
    chat = await h.resident(AUNT_LI)

    await claim_by_buttons(chat, "3", "2", "501")
    sent = await chat.press("✅ 提交确认")

    assert "已提交：3号楼2单元501" in sent.text
    cards = sent.to(SISTER_ZHOU.id)
    assert len(cards) == 1 and "李阿姨 申请登记为3号楼2单元501的业主" in cards[0].text
    assert not sent.to(MASTER_QIAN.id) and not sent.to(LIU.id)  # the contact confirms, not all
    assert await residents(h) == [(AUNT_LI.id, "pending", "owner")]

    # Another stairwell's contact, the property company and a resident cannot confirm.
    confirm = cards[0].data["✅ 确认"]
    zhang = await h.staff(ZHANG, "xihu-zuoan.property_company")
    wang = await h.resident(UNCLE_WANG)
    for outsider in (qian, zhang, wang):
        refused = await outsider.press_data(confirm, on=cards[0])
        assert "只有该户的党群中心户或本小区党支部" in (refused.answer.text or "")
    assert await residents(h) == [(AUNT_LI.id, "pending", "owner")]

    done = await zhou.press("✅ 确认", on=cards[0])
    assert done.to(AUNT_LI.id) and "您已登记为3号楼2单元501的住户" in done.to(AUNT_LI.id)[0].text
    assert "已由周大姐确认" in zhou.message(cards[0].message_id).text
    assert await residents(h) == [(AUNT_LI.id, "confirmed", "owner")]
    again = await branch.press_data(confirm, on=cards[0])  # the branch, too late
    assert "这条住户登记已经处理过了" in (again.answer.text or "")

    home = await chat.send("🏠 我家")
    assert "3号楼2单元501" in home.text and "李阿姨 — 业主, 已确认 🗳" in home.text


async def test_typed_addresses_and_an_address_that_is_not_there(h: Harness) -> None:
    chat = await h.resident(TOM)
    asked = await chat.send("🏠 My home")
    assert "Which building do you live in?" in asked.text

    for wrong in ("9-9-901", "hello", "3-2-5010", "3-2"):
        said = await chat.send(wrong)
        assert "cannot find" in said.text and "3-2-501" in said.text, said.text
    assert await chat.state() == "wizard:flat"

    asked = await chat.send("Building 3, unit 2, flat 502")
    assert "Bldg 3, unit 2, flat 502: do you own it" in asked.text
    summary = await chat.press("tenant (租户)")
    assert "Flat: Bldg 3, unit 2, flat 502" in summary.text
    await chat.press("✅ Send for confirmation")
    assert await residents(h) == [(TOM.id, "pending", "tenant")]


async def test_a_tall_stairwell_is_chosen_floor_by_floor(h: Harness) -> None:
    chat = await h.resident(GRANNY_ZHAO, "chunqiu-huayuan")
    await chat.send("🏠 我家")
    asked = await chat.press("2号楼")  # one stairwell: not asked
    assert "几层" in asked.text
    asked = await chat.press("12层")
    assert asked.last.labels[:3] == ["1201", "1202", "1203"]
    asked = await chat.press("1202")
    assert "2号楼1单元1202" in asked.text or "2号楼1202" in asked.text
    back = await chat.press("« 返回")
    assert "几层" not in back.text and "哪一户" in back.text


async def test_a_second_account_for_a_confirmed_flat_is_held_for_confirmation(h: Harness) -> None:
    branch = await h.staff(LIU, "xihu-zuoan.party_branch")  # no contact there: the branch confirms
    aunt = await h.resident(AUNT_LI)
    await claim_by_buttons(aunt, "3", "1", "301")
    card = (await aunt.press("✅ 提交确认")).to(LIU.id)[0]
    await branch.press("✅ 确认", on=card)

    wang = await h.resident(UNCLE_WANG)
    await wang.send("🏠 我家")
    await wang.send("3-1-301")
    await wang.press("业主家属")
    sent = await wang.press("✅ 提交确认")

    second = sent.to(LIU.id)[0]
    assert "王大爷 申请登记为3号楼1单元301的业主家属" in second.text
    assert "该户已登记" in second.text and "李阿姨 — 业主, 已确认" in second.text
    assert await residents(h) == [
        (AUNT_LI.id, "confirmed", "owner"),
        (UNCLE_WANG.id, "pending", "family"),
    ]
    home = await wang.send("🏠 我家")
    assert "待确认" in home.text and "李阿姨" not in home.text  # not theirs to see until confirmed

    # Rejected with a reason: they are told why.
    asked = await branch.press("✖ 不确认…", on=second)
    assert "为什么不确认此人住在3号楼1单元301" in asked.text
    why = await branch.send("该户业主说不认识此人")
    assert why.to(UNCLE_WANG.id) and "原因：该户业主说不认识此人" in why.to(UNCLE_WANG.id)[0].text
    assert await residents(h) == [
        (AUNT_LI.id, "confirmed", "owner"),
        (UNCLE_WANG.id, "rejected", "family"),
    ]
    assert "✅ 确认" not in branch.message(second.message_id).labels


async def test_the_representative_is_changed_by_the_present_one_only(h: Harness) -> None:
    branch = await h.staff(LIU, "xihu-zuoan.party_branch")
    aunt, wang = await h.resident(AUNT_LI), await h.resident(UNCLE_WANG)
    for chat, tenure in ((aunt, "业主"), (wang, "业主家属")):
        await chat.send("🏠 我家")
        await chat.send("3-1-302")
        await chat.press(tenure)
        card = (await chat.press("✅ 提交确认")).to(LIU.id)[0]
        await branch.press("✅ 确认", on=card)

    wang_home = await wang.send("🏠 我家")
    assert "🗳 更换投票代表" not in wang_home.last.labels  # the owner represents the flat
    aunt_home = await aunt.send("🏠 我家")
    offered = await aunt.press("🗳 更换投票代表", on=aunt_home.last)
    change = offered.last.data["王大爷"]
    forged = await wang.press_data(change, on=offered.last)  # 王大爷 presses 李阿姨's button
    assert "只有本户的投票代表" in (forged.answer.text or "")
    done = await aunt.press("王大爷", on=offered.last)
    assert done.to(UNCLE_WANG.id) and "您现在是本户" in done.to(UNCLE_WANG.id)[0].text
    assert "王大爷 — 业主家属, 已确认 🗳" in done.text


async def test_forged_and_stale_household_buttons_change_nothing(h: Harness) -> None:
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    aunt = await h.resident(AUNT_LI)
    await claim_by_buttons(aunt, "3", "2", "601")
    card = (await aunt.press("✅ 提交确认")).to(SISTER_ZHOU.id)[0]
    confirm = card.data["✅ 确认"]

    prefix, action, _claim, arg = confirm.split(":")
    forged_ids = [f"{prefix}:{action}:{claim}:{arg}" for claim in ("99", "2147483648", "-1")]
    for data in (*forged_ids, tamper(confirm, "x"), "hh:zz:1:0"):
        forged = await zhou.press_data(data, on=card)
        assert forged.answer.alert and forged.answer.text, data
    assert await residents(h) == [(AUNT_LI.id, "pending", "owner")]


async def test_the_households_screen_is_for_contacts_and_the_branch(h: Harness) -> None:
    aunt = await h.resident(AUNT_LI)
    zhang = await h.staff(ZHANG, "xihu-zuoan.property_company")
    for chat in (aunt, zhang):
        refused = await chat.command("/households")
        assert "供党群中心户和小区党支部使用" in refused.text
        assert "🏠 我家" in refused.text


async def test_an_appointment_link_works_once_and_not_after_it_expires(h: Harness) -> None:
    branch = await h.staff(LIU, "xihu-zuoan.party_branch")
    overview = await branch.send("🏘 住户")
    assert "在册房屋" in overview.text
    await branch.press("🏘 任命党群中心户", on=overview.last)
    await branch.press("3号楼")
    made = await branch.press("2单元")
    link = next(word for word in made.text.split() if "start=hc_" in word)
    code = link.split("start=")[1]

    zhou = await h.resident(SISTER_ZHOU)
    joined = await zhou.command("/start", code)
    assert "您现在是西湖左岸小区3号楼2单元的党群中心户" in joined.text
    assert any("🏘 住户" in row for row in (zhou.keyboard or ()))
    assert joined.to(LIU.id) and "周大姐 现在是" in joined.to(LIU.id)[0].text
    wang = await h.resident(UNCLE_WANG)
    used = await wang.command("/start", code)
    assert "已经用过了" in used.text

    await branch.press("🏘 任命党群中心户", on=overview.last)
    await branch.press("3号楼")
    made = await branch.press("整栋楼")
    code = next(w for w in made.text.split() if "start=hc_" in w).split("start=")[1]
    h.clock.advance(timedelta(hours=h.config.bot.invite_ttl_hours, seconds=1))
    late = await wang.command("/start", code)
    assert "已过期" in late.text
    unknown = await wang.command("/start", "hc_nosuchcode")
    assert "无效" in unknown.text
    async with h.db.read() as s:
        assert await HouseholdRepo(s).charges_of(UNCLE_WANG.id) == []


async def test_a_contact_sees_their_twelve_households_and_no_flat_reaches_a_group(
    h: Harness,
) -> None:
    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    await h.staff(LIU, "xihu-zuoan.party_branch")
    aunt = await h.resident(AUNT_LI)
    await claim_by_buttons(aunt, "3", "2", "501")
    await aunt.press("✅ 提交确认")

    screen = await zhou.send("🏘 住户")
    assert "共 12 户" in screen.text
    for floor in range(1, 7):
        for n in (1, 2):
            assert f"3号楼2单元{floor}0{n}" in screen.text
    assert "3号楼1单元" not in screen.text
    assert "等待您确认：1 条" in screen.text and "✅ 确认" in screen.last.labels

    async with h.db.read() as s:
        rows = await s.execute(select(tables.outbox.c.payload).where(tables.outbox.c.chat_id < 0))
        for row in rows:
            assert "501" not in row.payload and "李阿姨" not in row.payload


async def test_tenures_are_the_three_the_votes_need() -> None:
    assert [t.value for t in Tenure] == ["owner", "family", "tenant"]
    assert ResidentStatus.PENDING.value == "pending"


async def test_an_overdue_ticket_of_a_household_is_copied_to_its_contact(h: Harness) -> None:
    from bot.services import escalation

    zhou = await contact(h, SISTER_ZHOU, "3", "2")
    qian = await contact(h, MASTER_QIAN, "3", "1")
    aunt = await h.resident(AUNT_LI)
    await claim_by_buttons(aunt, "3", "2", "501")
    card = (await aunt.press("✅ 提交确认")).to(SISTER_ZHOU.id)[0]
    await zhou.press("✅ 确认", on=card)
    await aunt.command("/report")
    await aunt.press("物业维修")
    await aunt.send("楼道灯坏了一个星期了")
    await aunt.press("✅ 提交")
    async with h.db.read() as s:
        ticket = (await s.execute(select(tables.complaints))).one()
    assert ticket.flat_id == await flat_id(h, "3-2-501")  # the ticket knows its household

    assert ticket.due_at is not None
    h.clock.advance(ticket.due_at - h.clock.now() + timedelta(minutes=1))
    sweeps = [await h.sweep(escalation.sweep) for _ in range(3)]  # at the same minute: once

    copies = [m for r in sweeps for m in r.to(SISTER_ZHOU.id) if ticket.number in m.text]
    assert len(copies) == 1 and "⏰" in copies[0].text, [m.text for m in copies]
    assert "3号楼2单元501" in copies[0].text and "督办" in copies[0].text
    assert not [m for r in sweeps for m in r.to(qian.id)]  # another stairwell's contact: nothing
