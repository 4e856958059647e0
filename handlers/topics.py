"""The 红色议事厅 in the private chat: “🏛 Deliberation hall” and /topics (the public list), a
topic's page (support, vote, object, rate; the branch's accept, decline, open the vote, minutes,
merge), the group notice's deep link, and the forms — proposing, declining with a reason, opening
a vote, the minutes, an objection — as flows of the conversation engine (handlers/wizard.py).
Accepting a topic opens the activity form (handlers/activities.py) for its meeting."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import Refused
from bot.domain.inputs import parse_number
from bot.domain.people import Actor
from bot.domain.topics import MAX_NOTE, MAX_PHOTOS, MAX_TEXT, MAX_TITLE, Rule, TopicRefusal
from bot.services import topics
from bot.services.desk import Desk
from bot.services.topics import TopicDraft, VoteDraft
from bot.ui import menu
from bot.ui import topics as ui
from bot.ui.topics import RATINGS, TOPIC_PREFIX, VOTES, TopicAction, TopicCb
from handlers import activities, wizard
from handlers.common import command, private_state
from handlers.wizard import Choice, Done, Next, Outcome, Photo, Say, Stay, Step, Turn

SUBMIT = 1
RULES = tuple(Rule)


# --- the list and a topic's page -----------------------------------------------------------------


async def topics_screen(actor: Actor, desk: Desk, state: FSMContext) -> None:
    compounds, found = await topics.listed(desk, actor)
    await desk.outbox.send(
        actor.id,
        ui.list_text(compounds, found, actor.locale),
        markup=ui.list_keyboard(found, actor.locale),
    )


async def show(desk: Desk, actor: Actor, topic_id: int, lead: str = "") -> None:
    page = await topics.page(desk, actor, topic_id)
    text = ui.page_text(
        page, desk.config.bot.zone, desk.now, desk.config.topics.quorum, actor.locale
    )
    await desk.outbox.send(
        actor.id,
        (lead + "\n\n" if lead else "") + text,
        markup=ui.page_keyboard(page, desk.now, actor.locale),
    )


async def cmd_start_topic(
    message: Message, command: CommandObject, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    """The group notice's link: the topic's page in the private chat."""
    topic_id = parse_number((command.args or "").removeprefix(TOPIC_PREFIX), 1, 2**31 - 1)
    if topic_id is None:
        await topics_screen(actor, desk, state)
        return
    await show(desk, actor, topic_id)


@dataclass(frozen=True, slots=True)
class Note:
    """A text about a topic: a reason to decline it, an objection, the minutes (with photos)."""

    topic_id: int
    version: int = 0
    text: str = ""
    photos: tuple[str, ...] = ()


# --- proposing: a flow of the conversation engine ----------------------------------------------


ProposeTurn = Turn[TopicDraft]


async def _homes(form: ProposeTurn) -> list[Choice]:
    return [
        Choice(c.display_name(form.locale), c.id)
        for c in await topics.home_compounds(form.desk, form.actor)
    ][:20]


Photographed = TypeVar("Photographed", TopicDraft, Note)


def _with_photo(form: Turn[Photographed], photo: Photo) -> Outcome[Photographed]:
    """One more photo (up to three) of a topic or of a meeting's minutes."""
    if len(form.draft.photos) >= MAX_PHOTOS:
        return Say(_("Three photos are the most I can take; this one is left out."))
    draft = replace(form.draft, photos=(*form.draft.photos, photo.file_id))
    lead = _("Photo added ({n}/{most}).").format(n=len(draft.photos), most=MAX_PHOTOS)
    return Stay(draft, lead=lead)


def _proposal_summary(form: ProposeTurn) -> str:
    draft = form.draft
    return "\n".join(
        [
            _("<b>Your topic</b>"),
            _("Title: {title}").format(title=html.quote(draft.title)),
            html.quote(draft.text),
            _("Photos: {n}").format(n=len(draft.photos)),
            _(
                "Once submitted, the compound's residents group sees it (without your name) and "
                "other households can support it. Submit?"
            ),
        ]
    )


async def _propose(form: ProposeTurn, _arg: int) -> Outcome[TopicDraft]:
    topic = await topics.propose(form.desk, form.actor, form.draft)
    lead = _("✅ Topic #{id} submitted. Your household is its first supporter.").format(id=topic.id)
    await show(form.desk, form.actor, topic.id, lead)
    return Done()


PROPOSE = wizard.Flow(
    name="topic",
    draft=TopicDraft,
    closed=lambda: _(
        "This topic form is no longer open. Tap “🏛 Deliberation hall” to start again."
    ),
    steps=(
        Step(
            key="compound",
            ask=lambda form: _("Which compound is the topic for?"),
            choices=_homes,
            pick=lambda form, arg: Next(replace(form.draft, compound_id=arg)),
            applies=lambda draft: not draft.compound_id,
        ),
        Step(
            key="title",
            ask=lambda form: _(
                "What should the residents decide? A short title (for example: 在3号楼旁建充电桩)"
            ),
            text=lambda form, text: Next(replace(form.draft, title=" ".join(text.split()))),
            limit=MAX_TITLE,
        ),
        Step(
            key="text",
            ask=lambda form: _("Please explain it: what is the problem, what do you propose?"),
            text=lambda form, text: Next(replace(form.draft, text=text)),
            limit=MAX_TEXT,
        ),
        Step(
            key="photo",
            ask=lambda form: _("A photo helps (up to three). Send one, or tap “No photo”."),
            photo=_with_photo,
            photo_mb=lambda form: form.desk.config.lostfound.max_photo_mb,
            skip=lambda form: Next(form.draft),
            skip_label=lambda: _("No photo / done"),
        ),
        Step(
            key="confirm",
            ask=_proposal_summary,
            choices=lambda form: [Choice(_("✅ Submit the topic"), SUBMIT)],
            pick=_propose,
        ),
    ),
)


async def propose(actor: Actor, desk: Desk, state: FSMContext) -> None:
    homes = await topics.home_compounds(desk, actor)
    if not homes:
        raise Refused(TopicRefusal.NOT_RESIDENT)
    draft = TopicDraft(compound_id=homes[0].id if len(homes) == 1 else 0)
    await wizard.start(PROPOSE, desk, actor, state, draft)


# --- the branch's forms ------------------------------------------------------------------------


NoteTurn = Turn[Note]


async def _decline(form: NoteTurn, text: str) -> Outcome[Note]:
    moved = await topics.decline(
        form.desk, form.actor, form.draft.topic_id, form.draft.version, text
    )
    await form.desk.outbox.send(
        form.actor.id,
        _("Declined topic #{id}; everyone concerned reads your reason.").format(id=moved.id),
        markup=menu.keyboard(form.actor),
    )
    return Done()


DECLINE = wizard.Flow(
    name="tdecline",
    draft=Note,
    closed=lambda: _("This form is no longer open. Please open the topic again."),
    steps=(
        Step(
            key="reason",
            ask=lambda form: _(
                "Why is the topic declined? The proposer and the supporters read this, and it is "
                "made public."
            ),
            text=_decline,
            limit=MAX_NOTE,
        ),
    ),
)


async def _object(form: NoteTurn, text: str) -> Outcome[Note]:
    topic = await topics.object_to(form.desk, form.actor, form.draft.topic_id, text)
    await form.desk.outbox.send(
        form.actor.id,
        _("Your objection to topic #{id} went to the party branch, who will answer you.").format(
            id=topic.id
        ),
        markup=menu.keyboard(form.actor),
    )
    return Done()


OBJECT = wizard.Flow(
    name="tobject",
    draft=Note,
    closed=lambda: _("This form is no longer open. Please open the topic again."),
    steps=(
        Step(
            key="text",
            ask=lambda form: _("What is your objection? The party branch reads it with your name."),
            text=_object,
            limit=MAX_NOTE,
        ),
    ),
)


async def _save_minutes(form: NoteTurn) -> Outcome[Note]:
    topic = await topics.record_minutes(
        form.desk, form.actor, form.draft.topic_id, form.draft.text, form.draft.photos
    )
    await show(form.desk, form.actor, topic.id, _("📝 The minutes are recorded."))
    return Done()


MINUTES = wizard.Flow(
    name="tminutes",
    draft=Note,
    closed=lambda: _("This form is no longer open. Please open the topic again."),
    steps=(
        Step(
            key="text",
            ask=lambda form: _(
                "The meeting's minutes (纪要): who took part (branch, owners' committee, property "
                "company, residents), what was said, what was agreed."
            ),
            text=lambda form, text: Next(replace(form.draft, text=text)),
            limit=MAX_TEXT,
        ),
        Step(
            key="photos",
            ask=lambda form: _("Photos of the meeting (up to three), or tap “Save”."),
            photo=_with_photo,
            photo_mb=lambda form: form.desk.config.lostfound.max_photo_mb,
            skip=_save_minutes,
            skip_label=lambda: _("💾 Save the minutes"),
        ),
    ),
)


VoteTurn = Turn[VoteDraft]


async def _carriers(form: VoteTurn) -> list[Choice]:
    topic = await topics.get(form.desk, form.draft.topic_id)
    units = await topics.voting_units(form.desk, form.actor, topic)
    return [Choice(u.display_name(form.locale), u.id) for u in units]


async def _vote_summary(form: VoteTurn) -> str:
    draft, desk = form.draft, form.desk
    topic = await topics.get(desk, draft.topic_id)
    unit = await desk.units.get(draft.unit_id or 0)
    assert draft.rule is not None
    lines = [
        _("<b>Open the vote</b>"),
        ui.headline(topic, form.locale),
        _("Rule: {rule}").format(rule=ui.rule_name(draft.rule, form.locale)),
        _("Carried out by: {unit}").format(
            unit=html.quote(unit.display_name(form.locale)) if unit else "—"
        ),
        _("Open for {days} days.").format(days=draft.days),
        _("Each verified household's representative gets the ballot now. Open the vote?"),
    ]
    return "\n".join(lines)


async def _open_vote(form: VoteTurn, _arg: int) -> Outcome[VoteDraft]:
    topic = await topics.open_vote(form.desk, form.actor, form.draft)
    await show(
        form.desk,
        form.actor,
        topic.id,
        _("🗳 The vote is open: {n} households may vote.").format(n=topic.electorate),
    )
    return Done()


VOTE = wizard.Flow(
    name="tvote",
    draft=VoteDraft,
    closed=lambda: _("This form is no longer open. Please open the topic again."),
    steps=(
        Step(
            key="rule",
            ask=lambda form: _(
                "Which rule decides? Simple majority: more than half of the votes cast, with a "
                "quorum. Owners' double majority: two thirds of flats and area take part, more "
                "than half of both agree. 四议两公开: for party-led matters."
            ),
            choices=lambda form: [
                Choice(ui.rule_name(rule, form.locale), n) for n, rule in enumerate(RULES)
            ],
            pick=lambda form, arg: Next(replace(form.draft, rule=RULES[arg])),
            columns=1,
        ),
        Step(
            key="consulted",
            ask=lambda form: _(
                "四议: what did the branch, the owners' committee and the property company agree "
                "when they consulted (商议)?"
            ),
            text=lambda form, text: Next(replace(form.draft, consulted=text)),
            limit=MAX_NOTE,
            applies=lambda draft: draft.rule is Rule.FOURFOLD,
        ),
        Step(
            key="reviewed",
            ask=lambda form: _(
                "四议: what did the party members' meeting decide in review (审议)?"
            ),
            text=lambda form, text: Next(replace(form.draft, reviewed=text)),
            limit=MAX_NOTE,
            applies=lambda draft: draft.rule is Rule.FOURFOLD,
        ),
        Step(
            key="unit",
            ask=lambda form: _("Who carries the decision out if it passes?"),
            choices=_carriers,
            pick=lambda form, arg: Next(replace(form.draft, unit_id=arg)),
            columns=1,
        ),
        Step(
            key="days",
            ask=lambda form: _("How many days is the vote open?"),
            choices=lambda form: [
                Choice(_("{n} days").format(n=n), n) for n in form.desk.config.topics.vote_days
            ],
            pick=lambda form, arg: Next(replace(form.draft, days=arg)),
            columns=3,
        ),
        Step(
            key="confirm",
            ask=_vote_summary,
            choices=lambda form: [Choice(_("🗳 Open the vote"), SUBMIT)],
            pick=_open_vote,
        ),
    ),
)


# --- the buttons --------------------------------------------------------------------------------


async def on_button(
    callback: CallbackQuery,
    callback_data: TopicCb,
    actor: Actor,
    desk: Desk,
    state: FSMContext,
) -> None:
    action, topic_id, version = callback_data.action, callback_data.id, callback_data.v
    state = private_state(state, actor.id)
    said: str | None = None
    if action is TopicAction.LIST:
        await topics_screen(actor, desk, state)
    elif action is TopicAction.PROPOSE:
        await propose(actor, desk, state)
    elif action is TopicAction.SHOW:
        await show(desk, actor, topic_id)
    elif action is TopicAction.SUPPORT:
        topic, taken_up = await topics.support(desk, actor, topic_id)
        said = (
            _("👍 Thank you: your household's support took the topic up.")
            if taken_up
            else _("👍 Thank you: your household supports topic #{id}.").format(id=topic.id)
        )
        await show(desk, actor, topic.id, said)
    elif action is TopicAction.VOTE:
        if callback_data.arg >= len(VOTES):
            raise Refused(TopicRefusal.MOVED)
        vote = VOTES[callback_data.arg]
        topic, first = await topics.cast(desk, actor, topic_id, vote)
        said = (
            _("🗳 Your household's vote is recorded: {vote}.")
            if first
            else _("🗳 Your household's vote is changed to: {vote}.")
        ).format(vote=ui.vote_name(vote, actor.locale))
        await show(desk, actor, topic.id, said)
    elif action is TopicAction.ACCEPT:
        topic = await topics.answerable(desk, actor, topic_id, version)
        await wizard.start(
            activities.PLAN,
            desk,
            actor,
            state,
            topics.meeting_draft(topic),
            lead=_("🗓 The meeting (议事会) for topic #{id}.").format(id=topic.id),
        )
    elif action is TopicAction.DECLINE:
        topic = await topics.answerable(desk, actor, topic_id, version)
        await wizard.start(DECLINE, desk, actor, state, Note(topic.id, topic.version))
    elif action is TopicAction.OPEN_VOTE:
        topic = await topics.current(desk, topic_id, version)
        await topics.voting_units(desk, actor, topic)  # the branch only
        await wizard.start(VOTE, desk, actor, state, VoteDraft(topic.id, topic.version))
    elif action is TopicAction.MINUTES:
        topic = await topics.get(desk, topic_id)
        await topics.check_manager(desk, actor, topic)
        await wizard.start(MINUTES, desk, actor, state, Note(topic.id))
    elif action is TopicAction.MERGE:
        target = await topics.merge(desk, actor, topic_id, callback_data.arg)
        said = _("Merged: its supports now count for #{id}.").format(id=target.id)
        await show(desk, actor, target.id, said)
    elif action is TopicAction.OBJECT:
        page = await topics.page(desk, actor, topic_id)
        if not page.resident:
            raise Refused(TopicRefusal.NOT_RESIDENT)
        await wizard.start(OBJECT, desk, actor, state, Note(topic_id))
    elif action is TopicAction.PHOTOS:
        page = await topics.page(desk, actor, topic_id)  # whoever may see the topic
        for photo, caption in ui.photo_captions(page.topic, actor.locale):
            await desk.outbox.send_photo(actor.id, photo, caption)
    elif action is TopicAction.RATE:
        if callback_data.arg >= len(RATINGS):
            raise Refused(TopicRefusal.MOVED)
        rating = RATINGS[callback_data.arg]
        first = await topics.rate(desk, actor, topic_id, rating.value)
        said = _("Thank you for your rating.") if first else _("Your rating was already recorded.")
        await desk.outbox.send(actor.id, said)
    await desk.outbox.answer_callback(actor.id, callback.id, said)


def private_router() -> Router:
    router = Router(name="topics")
    router.message.register(
        cmd_start_topic, CommandStart(deep_link=True, magic=F.args.startswith(TOPIC_PREFIX))
    )
    router.message.register(command(topics_screen), Command("topics"))
    router.message.register(command(propose), Command("propose"))
    router.callback_query.register(on_button, TopicCb.filter())
    return router
