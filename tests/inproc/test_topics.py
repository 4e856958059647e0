"""The 红色议事厅 (issue 22) in process: a topic proposed by a verified household, supported once
per household and taken up at the threshold; the branch's answer (only the branch), its meeting
with the residents' check-in, the vote (representatives only, changeable, counted only after it
closes), 公示 and an objection, the work order and its rating; a late answer chased up to the
community. Refused, and nothing counted: a resident without a verified flat, a second account of
the same household, a vote after closing, a forged ballot. No flat reaches a group chat.

西湖家园 has 24 flats, so 2 households (5 %, rounded up) take a topic up.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.domain.households import ResidentStatus, Tenure
from bot.services import escalation, topics
from storage import tables
from storage.households import HouseholdRepo
from storage.units import UnitRepo
from tests.inproc.harness import Chat, Harness, Person, Replies, tamper

ANNA = Person(4001, "Anna", "en")  # A-东-101, owner: proposes
BORIS = Person(4002, "Boris", "en")  # A-东-102
CLARA = Person(4003, "Clara", "en")  # A-西-101
DAVID = Person(4004, "David", "en")  # A-西-102: never votes
ANNAS_SON = Person(4005, "Anna's son", "en")  # A-东-101 too, family: not its representative
EVE = Person(4006, "Eve", "en")  # lives in 西湖家园 by her own word: no verified flat
ZOE = Person(4007, "Zoe", "en")  # a verified household of 春秋花园
LI = Person(4101, "Secretary Li", "en")  # party branch of 西湖家园
PETER = Person(4102, "Peter", "en")  # property company of 西湖家园
WEN = Person(4103, "Wen", "en")  # 西湖社区 (the community)

COMPOUND = "xihu-jiayuan"


async def household(
    h: Harness,
    person: Person,
    address: str,
    *,
    compound: str = COMPOUND,
    tenure: Tenure = Tenure.OWNER,
) -> Chat:
    """A resident whose flat is confirmed (claiming is tested in test_households)."""
    chat = await h.resident(person, compound)
    building, unit, number = address.split("-")
    async with h.db.session() as s:
        found = await UnitRepo(s).by_code(compound)
        assert found is not None
        flat = next(
            f
            for f in await HouseholdRepo(s).flats_in(found.id, building, unit)
            if f.address.number == number
        )
        await HouseholdRepo(s).add_resident(
            flat.id, tenure, ResidentStatus.CONFIRMED, h.clock.now(), user_id=person.id
        )
    return chat


async def propose(chat: Chat, title: str = "Charging points by building A") -> Replies:
    listed = await chat.send("🏛 Deliberation hall")
    assert "Deliberation hall" in listed.text, listed.text
    asked = await chat.press("➕ Propose a topic")
    assert "short title" in asked.text, asked.text
    await chat.send(title)
    asked = await chat.send("E-bikes are charged in the stairwells; we propose 20 charging points.")
    assert "photo" in asked.text, asked.text
    summary = await chat.press("No photo / done")
    assert "Submit?" in summary.text, summary.text
    return await chat.press("✅ Submit the topic")


async def ballots(h: Harness) -> list[tuple[int, str, int]]:
    async with h.db.read() as s:
        rows = await s.execute(
            select(
                tables.topic_ballots.c.user_id,
                tables.topic_ballots.c.vote,
                tables.topic_ballots.c.changes,
            ).order_by(tables.topic_ballots.c.user_id)
        )
    return [(r.user_id, r.vote, r.changes) for r in rows]


async def supports(h: Harness) -> int:
    return await h.count(tables.topic_supports)


async def test_from_proposal_to_a_rated_work_order(h: Harness) -> None:
    """Anna proposes; Eve (no verified flat) and Anna's son (her household) cannot support it;
    Boris's support takes it up. The property company cannot answer it; the branch accepts it
    with a meeting. Votes: Anna agrees, Boris agrees, Clara disagrees then abstains, David does
    not vote; Anna's son's forged ballot and Eve's are refused. Hand tally: agree 2, disagree 0,
    abstain 1 of 4 households (quorum 2): passed. Clara objects during 公示; then the property
    company gets the work order, completes it, and Boris and Clara rate the result."""
    branch = await h.staff(LI, f"{COMPOUND}.party_branch")
    company = await h.staff(PETER, f"{COMPOUND}.property_company")
    anna = await household(h, ANNA, "A-东-101")
    boris = await household(h, BORIS, "A-东-102")
    clara = await household(h, CLARA, "A-西-101")
    await household(h, DAVID, "A-西-102")
    son = await household(h, ANNAS_SON, "A-东-101", tenure=Tenure.FAMILY)
    eve = await h.resident(EVE, COMPOUND)

    submitted = await propose(anna)
    assert "Topic #1 submitted" in submitted.text, submitted.text
    assert "Supported by 1 households (taken up at 2)" in submitted.text
    told = submitted.to(LI.id)
    assert told and "proposed by Anna" in told[0].text

    refused = await eve.command("start", "tp_1")
    assert "Support" not in " ".join(refused.last.labels)
    pressed = await eve.press_data("tp:u:1:0:0", on=refused.last)
    assert "verified households" in (pressed.answer.text or "")
    page = await son.command("start", "tp_1")
    assert "Your household supports it" in page.text
    forged = await son.press_data("tp:u:1:0:0", on=page.last)
    assert "supports this topic already" in (forged.answer.text or "")
    assert await supports(h) == 1

    page = await boris.command("start", "tp_1")
    taken = await boris.press("👍 Support (附议)", on=page.last)
    assert "took the topic up" in taken.text, taken.text
    card = taken.to(LI.id)
    assert card and "it is taken up" in card[-1].text
    assert await supports(h) == 2

    # The property company is not the branch.
    stolen = await company.press_data(card[-1].data["🗓 Accept: schedule a meeting"], on=card[-1])
    assert "party branch" in (stolen.answer.text or "")
    asked = await branch.press("🗓 Accept: schedule a meeting", on=card[-1])
    assert "When does it start" in asked.text, asked.text
    await branch.send("明天 19:00")
    await branch.press("2 h")
    summary = await branch.send("Community centre, 2nd floor")
    assert "Deliberation meeting" in summary.text, summary.text
    accepted = await branch.press("✅ Create")
    assert "Topic #1 is accepted" in accepted.text
    assert any("invited to the meeting" in m.text for m in accepted.to(PETER.id))
    assert any("is accepted" in m.text for m in accepted.to(BORIS.id))

    # A resident checks in at the meeting with its code, like a party member at an activity.
    async with h.db.read() as s:
        meeting = (await s.execute(select(tables.activities))).one()
    h.clock.advance(meeting.starts_at - h.clock.now() + timedelta(minutes=5))
    await clara.send("/checkin")
    checked = await clara.send(meeting.code)
    assert "Checked in" in checked.text, checked.text

    page = await branch.command("start", "tp_1")
    asked = await branch.press("🗳 Open the vote", on=page.last)
    await branch.press("Simple majority with a quorum")
    await branch.press("Xihu Jiayuan property company")
    await branch.press("3 days")
    opened = await branch.press("🗳 Open the vote")
    assert "4 households may vote" in opened.text, opened.text
    ballot = {m.chat_id: m for m in opened.sent if "Vote for your household" in m.text}
    assert set(ballot) == {ANNA.id, BORIS.id, CLARA.id, DAVID.id}

    await anna.press("👍 Agree", on=ballot[ANNA.id])
    await boris.press("👍 Agree", on=ballot[BORIS.id])
    first = await clara.press("👎 Disagree", on=ballot[CLARA.id])
    assert "recorded" in first.text
    changed = await clara.press("Abstain", on=ballot[CLARA.id])
    assert "changed to: Abstain" in changed.text
    assert "Agree 2" not in changed.text  # no count while it is open
    forged = await son.press_data(tamper(ballot[ANNA.id].data["👍 Agree"], "0"))
    assert "through its representative" in (forged.answer.text or "")
    outsider = await eve.press_data(ballot[ANNA.id].data["👎 Disagree"])
    assert "verified households" in (outsider.answer.text or "")
    assert await ballots(h) == [(ANNA.id, "yes", 0), (BORIS.id, "yes", 0), (CLARA.id, "abstain", 1)]

    h.clock.advance(timedelta(days=3))
    closed = await h.sweep(topics.sweep)
    to_anna = " ".join(m.text for m in closed.to(ANNA.id))
    assert "Agree 2 · disagree 0 · abstain 1 households; 3 of 4 took part" in to_anna, to_anna
    assert "✅ Passed." in to_anna
    late = await anna.press("👎 Disagree", on=ballot[ANNA.id])
    assert "not open" in (late.answer.text or "")
    assert await ballots(h) == [(ANNA.id, "yes", 0), (BORIS.id, "yes", 0), (CLARA.id, "abstain", 1)]

    page = await clara.command("start", "tp_1")
    await clara.press("⚠️ Object (异议)", on=page.last)
    objected = await clara.send("The points should be by building B, not A.")
    assert "went to the party branch" in objected.text
    objection = objected.to(LI.id)
    assert objection and "Clara" in objection[0].text and "A" in objection[0].text

    h.clock.advance(timedelta(days=7))
    carried = await h.sweep(topics.sweep)
    order = next(m for m in carried.to(PETER.id) if "议事决定 #1" in m.text)
    for person in (ANNA, BORIS, CLARA):
        assert any("is now work order" in m.text for m in carried.to(person.id)), person
    signed = await company.press("✅ Sign for", on=order)
    assert any("signed" in m.text.lower() for m in signed.to(BORIS.id))
    done = await company.press("✔️ Complete", on=company.message(order.message_id))
    finished = await company.send("20 charging points installed by building A.")
    prompt = {
        m.chat_id: m
        for m in finished.sent
        if "has been carried out" in m.text and m.data.get("😊 Satisfied", "").startswith("tp:r")
    }
    assert set(prompt) == {BORIS.id, CLARA.id}  # Anna rates the ticket itself
    rated = await boris.press("😊 Satisfied", on=prompt[BORIS.id])
    assert "Thank you for your rating" in rated.text
    again = await boris.press("🙁 Not satisfied", on=prompt[BORIS.id])
    assert "already recorded" in again.text
    stranger = await eve.press_data(prompt[BORIS.id].data["😊 Satisfied"])
    assert "supported or voted" in (stranger.answer.text or "")
    assert done is not None

    stats = await branch.send("📊 Statistics")
    assert "proposed 1 · taken up 1 · decided 1 · done 1" in stats.text, stats.text


async def test_a_late_answer_is_chased_up_to_the_community(h: Harness) -> None:
    """Taken up and not answered: the branch is warned at 75 % of its 7 days, the community is
    chased at the deadline (and may answer it itself)."""
    await h.staff(LI, f"{COMPOUND}.party_branch")
    community = await h.staff(WEN, "xihu")
    anna = await household(h, ANNA, "A-东-101")
    boris = await household(h, BORIS, "A-东-102")
    await propose(anna)
    page = await boris.command("start", "tp_1")
    await boris.press("👍 Support (附议)", on=page.last)

    h.clock.advance(timedelta(days=5, hours=6))
    warned = await h.sweep(escalation.sweep, topics.sweep)
    assert any("waits for your answer" in m.text for m in warned.to(LI.id))
    assert not warned.to(WEN.id)
    again = await h.sweep(topics.sweep)
    assert not again.sent  # a second sweep chases nobody twice

    h.clock.advance(timedelta(days=2))
    chased = await h.sweep(topics.sweep)
    overdue = next(m for m in chased.to(WEN.id) if "Overdue (督办)" in m.text)
    assert "✖ Decline, with a reason" in overdue.labels  # the chased unit may answer it there
    assert any("has been told" in m.text for m in chased.to(LI.id))
    page = await community.command("start", "tp_1")
    assert "✖ Decline, with a reason" in page.last.labels  # the community may answer it
    await community.press("✖ Decline, with a reason", on=page.last)
    declined = await community.send("The fire lane cannot take charging points.")
    assert "Declined topic #1" in declined.text
    assert any("fire lane" in m.text for m in declined.to(ANNA.id))


async def test_wrong_paths_change_nothing(h: Harness) -> None:
    """No verified flat: no proposal. Another compound's resident: not this topic's page. The
    owners' double majority needs every flat's area (西湖家园 has none on record)."""
    branch = await h.staff(LI, f"{COMPOUND}.party_branch")
    eve = await h.resident(EVE, COMPOUND)
    refused = await eve.send("/propose")
    assert "Register your flat first" in refused.text
    anna = await household(h, ANNA, "A-东-101")
    boris = await household(h, BORIS, "A-东-102")
    zoe = await household(h, ZOE, "2-1-301", compound="chunqiu-huayuan")
    await propose(anna)
    other = await zoe.command("start", "tp_1")
    assert "verified households of this compound" in other.text
    page = await boris.command("start", "tp_1")
    taken = await boris.press("👍 Support (附议)", on=page.last)
    await branch.press("🗓 Accept: schedule a meeting", on=taken.to(LI.id)[-1])
    await branch.send("明天 19:00")
    await branch.press("2 h")
    await branch.send("Community centre")
    await branch.press("✅ Create")
    page = await branch.command("start", "tp_1")
    await branch.press("🗳 Open the vote", on=page.last)
    await branch.press("Owners' double majority (双过半, 民法典 第278条)")
    await branch.press("Xihu Jiayuan property company")
    await branch.press("3 days")
    refused = await branch.press("🗳 Open the vote")
    assert refused.says("24 flats have none on record"), (refused.text, refused.answers)
    assert await ballots(h) == []
    async with h.db.read() as s:
        status = (await s.execute(select(tables.topics.c.status))).scalar_one()
    assert status == "accepted"


async def taken_up(h: Harness, first: Chat, second: Chat, title: str = "Charging points") -> None:
    await propose(first, title)
    page = await second.command("start", "tp_1")
    await second.press("👍 Support (附议)", on=page.last)


async def accepted(h: Harness, branch: Chat, first: Chat, second: Chat) -> None:
    await taken_up(h, first, second)
    page = await branch.command("start", "tp_1")
    await branch.press("🗓 Accept: schedule a meeting", on=page.last)
    await branch.send("明天 19:00")
    await branch.press("2 h")
    await branch.send("Community centre")
    await branch.press("✅ Create")


async def test_the_households_that_have_not_voted_are_reminded_once(h: Harness) -> None:
    """A day before a 3-day vote closes, the representatives who have not voted get the ballot
    again; those who voted do not; a second sweep reminds nobody."""
    branch = await h.staff(LI, f"{COMPOUND}.party_branch")
    anna = await household(h, ANNA, "A-东-101")
    boris = await household(h, BORIS, "A-东-102")
    await household(h, CLARA, "A-西-101")
    await accepted(h, branch, anna, boris)
    page = await branch.command("start", "tp_1")
    await branch.press("🗳 Open the vote", on=page.last)
    await branch.press("Simple majority with a quorum")
    await branch.press("Xihu Jiayuan party branch")
    await branch.press("3 days")
    opened = await branch.press("🗳 Open the vote")
    ballot = next(m for m in opened.to(ANNA.id) if "Vote for your household" in m.text)
    await anna.press("👍 Agree", on=ballot)

    h.clock.advance(timedelta(days=2, hours=1))
    reminded = await h.sweep(topics.sweep)
    assert {m.chat_id for m in reminded.sent if "has not voted" in m.text} == {BORIS.id, CLARA.id}
    assert "👍 Agree" in next(m for m in reminded.to(BORIS.id)).labels
    assert not (await h.sweep(topics.sweep)).sent
    late = await boris.press("👎 Disagree", on=next(m for m in reminded.to(BORIS.id)))
    assert "recorded" in late.text  # the reminder's ballot works
    assert await ballots(h) == [(ANNA.id, "yes", 0), (BORIS.id, "no", 0)]


async def test_the_branch_merges_a_duplicate_and_its_supports_go_over(h: Harness) -> None:
    """Two topics on the same matter: the branch merges #2 into #1. A household supporting both
    counts once; #2's proposer is told where their support went; a resident cannot merge."""
    branch = await h.staff(LI, f"{COMPOUND}.party_branch")
    anna = await household(h, ANNA, "A-东-101")
    boris = await household(h, BORIS, "A-东-102")
    await propose(anna, "Charging points")
    await propose(boris, "E-bike chargers")
    page = await boris.command("start", "tp_2")
    assert "Merge" not in " ".join(page.last.labels)
    forged = await boris.press_data("tp:g:2:0:1")
    assert "party branch" in (forged.answer.text or "")
    page = await branch.command("start", "tp_2")
    merged = await branch.press("⤵ Merge into #1", on=page.last)
    assert "its supports now count for #1" in merged.text
    assert any("merged into #1" in m.text for m in merged.to(BORIS.id))
    # 2 households (Anna's and Boris's) now support #1: it is taken up.
    assert any("it is taken up" in m.text for m in merged.to(LI.id))
    assert await supports(h) == 2 + 1  # #1: Anna, Boris; #2 keeps its own record
    stale = await boris.press_data("tp:u:2:0:0")
    assert "no longer collects support" in (stale.answer.text or "")


async def test_four_deliberations_come_before_the_households_vote(h: Harness) -> None:
    """四议两公开: the branch records 商议 and 审议 in the form; the page shows both."""
    branch = await h.staff(LI, f"{COMPOUND}.party_branch")
    anna = await household(h, ANNA, "A-东-101")
    boris = await household(h, BORIS, "A-东-102")
    await accepted(h, branch, anna, boris)
    page = await branch.command("start", "tp_1")
    await branch.press("🗳 Open the vote", on=page.last)
    asked = await branch.press("四议两公开 (party-led matter)")
    assert "商议" in asked.text
    asked = await branch.send("The committee and the company agree to share the cost.")
    assert "审议" in asked.text
    await branch.send("The party members' meeting approved it, 23 of 25.")
    await branch.press("Xihu Jiayuan party branch")
    await branch.press("7 days")
    opened = await branch.press("🗳 Open the vote")
    assert "share the cost" in opened.text and "23 of 25" in opened.text
    assert "2 households may vote" in opened.text


async def test_photos_of_a_topic_and_of_the_minutes_are_kept(h: Harness) -> None:
    """Up to three photos with a topic (a fourth is refused) and with the meeting's minutes."""
    branch = await h.staff(LI, f"{COMPOUND}.party_branch")
    anna = await household(h, ANNA, "A-东-101")
    boris = await household(h, BORIS, "A-东-102")
    await anna.send("/propose")
    await anna.send("Charging points")
    await anna.send("E-bikes are charged in the stairwells.")
    for n in range(1, 4):
        added = await anna.photo()
        assert f"Photo added ({n}/3)" in added.text, added.text
    refused = await anna.photo()
    assert "Three photos are the most" in refused.text
    await anna.press("No photo / done")
    await anna.press("✅ Submit the topic")
    page = await boris.command("start", "tp_1")
    taken = await boris.press("👍 Support (附议)", on=page.last)
    await branch.press("🗓 Accept: schedule a meeting", on=taken.to(LI.id)[-1])
    await branch.send("明天 19:00")
    await branch.press("2 h")
    await branch.send("Community centre")
    await branch.press("✅ Create")
    page = await branch.command("start", "tp_1")
    await branch.press("📝 Record the minutes", on=page.last)
    await branch.send("Branch, committee, company and 9 residents; the company installs them.")
    await branch.photo()
    saved = await branch.press("💾 Save the minutes")
    assert "the company installs them" in saved.text
    async with h.db.read() as s:
        row = (await s.execute(select(tables.topics))).one()
    assert len(row.photos.split(",")) == 3 and row.minutes_photos.count("PH") == 1
    page = await boris.command("start", "tp_1")
    shown = await boris.press("🖼 Photos (4)", on=page.last)
    assert [m.text for m in shown.mine] == [
        "Topic #1 · photo 1/3",
        "Topic #1 · photo 2/3",
        "Topic #1 · photo 3/3",
        "Minutes of topic #1 · photo 1/1",
    ]
    zoe = await household(h, ZOE, "2-1-301", compound="chunqiu-huayuan")
    listed = await zoe.send(
        "/topics"
    )  # her compound's list: another compound's photos are not hers
    refused = await zoe.press_data(page.last.data["🖼 Photos (4)"], on=listed.last)
    assert "verified households of this compound" in (refused.answer.text or "")


async def test_each_invited_person_is_invited_once(h: Harness) -> None:
    """西湖左岸's owners' committee has no staff, so its invitation goes to the branch: the
    branch's other secretary is invited once, not once for each unit; the one who scheduled the
    meeting is not invited to it. (98 flats: 5 households take the topic up.)"""
    branch = await h.staff(LI, "xihu-zuoan.party_branch")
    deputy = Person(4104, "Deputy", "en")
    await h.staff(deputy, "xihu-zuoan.party_branch")
    await h.staff(PETER, "xihu-zuoan.property_company")
    people = [
        await household(
            h, Person(4200 + n, f"Resident {n}", "en"), f"3-2-{n}01", compound="xihu-zuoan"
        )
        for n in range(1, 6)
    ]
    await propose(people[0])
    for chat in people[1:]:
        page = await chat.command("start", "tp_1")
        taken = await chat.press("👍 Support (附议)", on=page.last)
    await branch.press("🗓 Accept: schedule a meeting", on=taken.to(LI.id)[-1])
    await branch.send("明天 19:00")
    await branch.press("2 h")
    await branch.send("Community centre")
    created = await branch.press("✅ Create")
    invitations = [m.chat_id for m in created.sent if "invited to the meeting" in m.text]
    assert sorted(invitations) == sorted([deputy.id, PETER.id]), invitations
