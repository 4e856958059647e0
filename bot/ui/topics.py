"""The 红色议事厅 as people read it: the buttons' callback data and the deep link, the names of
statuses, rules and votes, a topic's page and the public list, the group notice (nobody's name or
flat), the ballot, the tally, and what the branch, the units and the residents are told, each in
the reader's language. Texts that name a person or a flat go to private chats only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.complaints import Rating
from bot.domain.households import Flat
from bot.domain.inputs import Id
from bot.domain.org import Unit
from bot.domain.party import Activity
from bot.domain.people import Actor
from bot.domain.topics import (
    Rule,
    Tally,
    Topic,
    TopicStatus,
    Verdict,
    Vote,
    m2,
    quorum_of,
    share,
)
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.notices import NoticeView

TOPIC_PREFIX = "tp_"  # the group notice's deep link: /start tp_<topic id>
VOTES = tuple(Vote)
RATINGS = tuple(Rating)

Render = Callable[[str], str]
Keys = Callable[[str], InlineKeyboardMarkup]


class TopicAction(StrEnum):
    SHOW = "s"  # id: a topic
    LIST = "l"  # the public list
    PROPOSE = "p"  # a new topic
    SUPPORT = "u"  # id: a topic
    VOTE = "v"  # id: a topic, arg: the index of the vote
    ACCEPT = "a"  # id, v: schedule the meeting
    DECLINE = "d"  # id, v: with a reason
    OPEN_VOTE = "o"  # id, v
    MINUTES = "m"  # id
    MERGE = "g"  # id, arg: the topic it goes into
    OBJECT = "j"  # id
    RATE = "r"  # id, arg: the index of the rating
    PHOTOS = "f"  # id: the topic's photos and the minutes'


class TopicCb(CallbackData, prefix="tp"):
    action: TopicAction
    id: Id = 0
    v: Id = 0  # the topic's version, for the branch's buttons
    arg: Id = 0


def _local(at: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(zone).strftime(fmt) if at else "—"


def _button(builder: InlineKeyboardBuilder, text: str, action: TopicAction, **data: int) -> None:
    builder.button(text=text, callback_data=TopicCb(action=action, **data))


# --- words ------------------------------------------------------------------------------------


def status_name(status: TopicStatus, locale: str | None = None) -> str:
    names = {
        TopicStatus.COLLECTING: _("collecting support (征集附议)", locale=locale),
        TopicStatus.TAKEN_UP: _("taken up, waiting for the branch's answer", locale=locale),
        TopicStatus.ACCEPTED: _("accepted: a meeting is scheduled", locale=locale),
        TopicStatus.DECLINED: _("declined", locale=locale),
        TopicStatus.VOTING: _("households are voting (表决中)", locale=locale),
        TopicStatus.PASSED: _("passed, made public (公示)", locale=locale),
        TopicStatus.REJECTED: _("not passed", locale=locale),
        TopicStatus.CARRYING: _("being carried out", locale=locale),
        TopicStatus.DONE: _("done", locale=locale),
        TopicStatus.MERGED: _("merged into another topic", locale=locale),
    }
    return names[status]


def rule_name(rule: Rule, locale: str | None = None) -> str:
    names = {
        Rule.SIMPLE: _("Simple majority with a quorum", locale=locale),
        Rule.DOUBLE: _("Owners' double majority (双过半, 民法典 第278条)", locale=locale),
        Rule.FOURFOLD: _("四议两公开 (party-led matter)", locale=locale),
    }
    return names[rule]


def vote_name(vote: Vote, locale: str | None = None) -> str:
    names = {
        Vote.YES: _("👍 Agree", locale=locale),
        Vote.NO: _("👎 Disagree", locale=locale),
        Vote.ABSTAIN: _("Abstain", locale=locale),
    }
    return names[vote]


def rating_name(rating: Rating, locale: str | None = None) -> str:
    names = {
        Rating.SATISFIED: _("😊 Satisfied", locale=locale),
        Rating.BASIC: _("🙂 Mostly satisfied", locale=locale),
        Rating.UNSATISFIED: _("🙁 Not satisfied", locale=locale),
    }
    return names[rating]


def headline(topic: Topic, locale: str | None = None) -> str:
    return _("🏛 Topic #{id}: {title}", locale=locale).format(
        id=topic.id, title=html.quote(topic.title)
    )


def tally_text(topic: Topic, quorum: float, locale: str | None = None) -> str:
    """The counted vote: households, the area for the owners' rule, and why it passed or not."""
    tally = topic.tally
    assert tally is not None and topic.rule is not None
    lines = [
        _("Rule: {rule}", locale=locale).format(rule=rule_name(topic.rule, locale)),
        _(
            "Agree {yes} · disagree {no} · abstain {abstain} households; {cast} of {of} took "
            "part ({share}).",
            locale=locale,
        ).format(
            yes=tally.yes,
            no=tally.no,
            abstain=tally.abstain,
            cast=tally.cast,
            of=topic.total_flats if topic.rule is Rule.DOUBLE else topic.electorate,
            share=share(
                tally.cast, topic.total_flats if topic.rule is Rule.DOUBLE else topic.electorate
            ),
        ),
    ]
    if topic.rule is Rule.DOUBLE:
        lines.append(
            _(
                "Area: agree {yes} m², disagree {no} m², abstain {abstain} m²; {cast} of {of} m² "
                "took part ({share}).",
                locale=locale,
            ).format(
                yes=m2(tally.yes_area),
                no=m2(tally.no_area),
                abstain=m2(tally.abstain_area),
                cast=m2(tally.cast_area),
                of=m2(topic.total_area),
                share=share(tally.cast_area, topic.total_area),
            )
        )
    lines.append(verdict_text(topic, tally, quorum, locale))
    return "\n".join(lines)


def verdict_text(topic: Topic, tally: Tally, quorum: float, locale: str | None = None) -> str:
    texts = {
        Verdict.PASSED: _("✅ Passed.", locale=locale),
        Verdict.NO_QUORUM: _(
            "❌ Not passed: fewer than {needed} households took part.", locale=locale
        ).format(needed=quorum_of(topic.electorate, quorum)),
        Verdict.TOO_FEW_FLATS: _(
            "❌ Not passed: fewer than two thirds of the households took part.", locale=locale
        ),
        Verdict.TOO_LITTLE_AREA: _(
            "❌ Not passed: flats with less than two thirds of the area took part.", locale=locale
        ),
        Verdict.NOT_ENOUGH_YES: _(
            "❌ Not passed: not more than half of those taking part agreed.", locale=locale
        ),
    }
    return texts[tally.verdict]


# --- the group notice ---------------------------------------------------------------------


def notice_view(
    topic: Topic, meeting: Activity | None, zone: ZoneInfo, bot_username: str, locale: str
) -> NoticeView:
    """The residents group's notice of a topic, as it stands: nobody's name, no flat."""
    lines = [headline(topic, locale), html.quote(topic.text[:300])]
    lines.append(
        _("Status: {status}", locale=locale).format(status=status_name(topic.status, locale))
    )
    if topic.status is TopicStatus.COLLECTING:
        lines.append(
            _("👍 Supported by {n} of the {needed} households needed.", locale=locale).format(
                n=topic.supporters, needed=topic.threshold
            )
        )
    if meeting is not None and topic.status is TopicStatus.ACCEPTED:
        lines.append(meeting_line(meeting, zone, locale))
    if topic.status is TopicStatus.VOTING:
        lines.append(
            _("🗳 Each household's representative votes until {time}.", locale=locale).format(
                time=_local(topic.vote_closes_at, zone)
            )
        )
    if topic.status is TopicStatus.DECLINED:
        lines.append(_("Reason: {reason}", locale=locale).format(reason=html.quote(topic.reason)))
    if topic.tally is not None and topic.status in (
        TopicStatus.PASSED,
        TopicStatus.REJECTED,
        TopicStatus.CARRYING,
        TopicStatus.DONE,
    ):
        lines.append(
            _("📢 Decision made public (公示) until {time}:", locale=locale).format(
                time=_local(topic.public_until, zone, "%Y-%m-%d")
            )
        )
        lines.append(tally_counts(topic, locale))
    if topic.status is TopicStatus.DONE:
        lines.append(
            _("🏁 Carried out (实施结果公开) on {day}.", locale=locale).format(
                day=_local(topic.done_at, zone, "%Y-%m-%d")
            )
        )
    text = "\n".join(lines)
    if topic.status is TopicStatus.MERGED:
        return NoticeView(text)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🏛 Open · support · vote · object", locale=locale),
        url=f"https://t.me/{bot_username}?start={TOPIC_PREFIX}{topic.id}",
    )
    return NoticeView(text, builder.as_markup())


def tally_counts(topic: Topic, locale: str | None = None) -> str:
    tally = topic.tally
    assert tally is not None
    verdict = _("passed", locale=locale) if tally.passed else _("not passed", locale=locale)
    return _(
        "🗳 {verdict}: agree {yes}, disagree {no}, abstain {abstain} (households).", locale=locale
    ).format(verdict=verdict, yes=tally.yes, no=tally.no, abstain=tally.abstain)


def meeting_line(meeting: Activity, zone: ZoneInfo, locale: str | None = None) -> str:
    return _("🗓 Meeting (议事会): {start} – {end}, {place}", locale=locale).format(
        start=_local(meeting.starts_at, zone),
        end=_local(meeting.ends_at, zone, "%H:%M"),
        place=html.quote(meeting.place),
    )


# --- to the branch and the units ---------------------------------------------------------------


def proposed_for_branch(topic: Topic, actor: Actor, locale: str) -> str:
    return "\n".join(
        [
            _("🏛 New topic proposed by {name}:", locale=locale).format(
                name=html.quote(actor.user.first_name)
            ),
            headline(topic, locale),
            html.quote(topic.text),
            _("It is taken up at {needed} supporting households.", locale=locale).format(
                needed=topic.threshold
            ),
        ]
    )


def taken_up_for_branch(topic: Topic, zone: ZoneInfo, locale: str) -> str:
    return "\n".join(
        [
            _("🏛 {n} households support this topic: it is taken up.", locale=locale).format(
                n=topic.supporters
            ),
            headline(topic, locale),
            html.quote(topic.text),
            _(
                "Please accept it (schedule a meeting) or decline it with a reason by {due}; "
                "after that the community is told.",
                locale=locale,
            ).format(due=_local(topic.answer_due_at, zone)),
        ]
    )


def answer_keyboard(topic: Topic, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    _button(
        builder,
        _("🗓 Accept: schedule a meeting", locale=locale),
        TopicAction.ACCEPT,
        id=topic.id,
        v=topic.version,
    )
    _button(
        builder,
        _("✖ Decline, with a reason", locale=locale),
        TopicAction.DECLINE,
        id=topic.id,
        v=topic.version,
    )
    builder.adjust(1)
    return builder.as_markup()


def answer_nearly_due(topic: Topic, zone: ZoneInfo, locale: str) -> str:
    return _("⏳ Topic #{id} “{title}” waits for your answer until {due}.", locale=locale).format(
        id=topic.id, title=html.quote(topic.title), due=_local(topic.answer_due_at, zone)
    )


def answer_overdue(topic: Topic, branch: Unit, zone: ZoneInfo, locale: str) -> str:
    return _(
        "🔴 Overdue (督办): {branch} has not answered topic #{id} “{title}” (due {due}). You "
        "may answer it yourself: /topics.",
        locale=locale,
    ).format(
        branch=html.quote(branch.display_name(locale)),
        id=topic.id,
        title=html.quote(topic.title),
        due=_local(topic.answer_due_at, zone),
    )


def answer_chased(topic: Topic, target: Unit, zone: ZoneInfo, locale: str) -> str:
    return _(
        "🔴 Topic #{id} “{title}” was not answered by {due}; {unit} has been told.", locale=locale
    ).format(
        id=topic.id,
        title=html.quote(topic.title),
        due=_local(topic.answer_due_at, zone),
        unit=html.quote(target.display_name(locale)),
    )


def invited(topic: Topic, meeting: Activity, zone: ZoneInfo, locale: str) -> str:
    return "\n".join(
        [
            _("📨 You are invited to the meeting (议事会) on this topic:", locale=locale),
            headline(topic, locale),
            meeting_line(meeting, zone, locale),
            _("Check in on site with the code {code} or your location.", locale=locale).format(
                code=meeting.code
            ),
        ]
    )


def objection(topic: Topic, name: str, flat: Flat, note: str, locale: str) -> str:
    return "\n".join(
        [
            _("⚠️ Objection to topic #{id} “{title}” from {name} ({flat}):", locale=locale).format(
                id=topic.id,
                title=html.quote(topic.title),
                name=html.quote(name),
                flat=html.quote(flat.address.label(locale)),
            ),
            html.quote(note),
            _("Please answer them in person.", locale=locale),
        ]
    )


def work_order_text(topic: Topic, locale: str) -> str:
    """The work order's text: the decision to carry out (no names)."""
    tally = topic.tally
    assert tally is not None
    return _(
        "【议事决定 #{id}】{title}\n{text}\nDecided by the households: agree {yes}, disagree {no}, "
        "abstain {abstain}.",
        locale=locale,
    ).format(
        id=topic.id,
        title=topic.title,
        text=topic.text,
        yes=tally.yes,
        no=tally.no,
        abstain=tally.abstain,
    )


# --- to the residents --------------------------------------------------------------------------


def taken_up(topic: Topic, locale: str) -> str:
    return _(
        "🏛 Topic #{id} “{title}” has the support of {n} households and is taken up. The party "
        "branch answers it within the set time.",
        locale=locale,
    ).format(id=topic.id, title=html.quote(topic.title), n=topic.supporters)


def merged(topic: Topic, target: Topic, locale: str) -> str:
    return _(
        "🏛 Topic #{id} was merged into #{target} “{title}”; your support counts there.",
        locale=locale,
    ).format(id=topic.id, target=target.id, title=html.quote(target.title))


def declined(topic: Topic, locale: str) -> str:
    return _(
        "🏛 The party branch declined topic #{id} “{title}”. Reason: {reason}", locale=locale
    ).format(id=topic.id, title=html.quote(topic.title), reason=html.quote(topic.reason))


def meeting_set(topic: Topic, meeting: Activity, zone: ZoneInfo, locale: str) -> str:
    return "\n".join(
        [
            _("🏛 Topic #{id} “{title}” is accepted. Everyone is welcome:", locale=locale).format(
                id=topic.id, title=html.quote(topic.title)
            ),
            meeting_line(meeting, zone, locale),
        ]
    )


def ballot(topic: Topic, vote: Vote | None, zone: ZoneInfo, locale: str) -> str:
    assert topic.rule is not None
    lines = [
        _("🗳 Vote for your household:", locale=locale),
        headline(topic, locale),
        html.quote(topic.text),
        _("Rule: {rule}", locale=locale).format(rule=rule_name(topic.rule, locale)),
        _(
            "Open until {time}. You may change your vote until then; the count is shown only "
            "after it closes.",
            locale=locale,
        ).format(time=_local(topic.vote_closes_at, zone)),
    ]
    if vote is not None:
        lines.append(
            _("Your household's vote: {vote}", locale=locale).format(vote=vote_name(vote, locale))
        )
    return "\n".join(lines)


def ballot_keyboard(topic: Topic, vote: Vote | None, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for n, choice in enumerate(VOTES):
        label = vote_name(choice, locale)
        _button(
            builder, f"✔ {label}" if choice is vote else label, TopicAction.VOTE, id=topic.id, arg=n
        )
    builder.adjust(3)
    return builder.as_markup()


def vote_reminder(topic: Topic, zone: ZoneInfo, locale: str) -> str:
    return _(
        "⏰ Your household has not voted on topic #{id} “{title}” yet. The vote closes at {time}.",
        locale=locale,
    ).format(id=topic.id, title=html.quote(topic.title), time=_local(topic.vote_closes_at, zone))


def decided(topic: Topic, quorum: float, locale: str) -> str:
    return "\n".join(
        [
            _("🗳 The vote on topic #{id} “{title}” has closed.", locale=locale).format(
                id=topic.id, title=html.quote(topic.title)
            ),
            tally_text(topic, quorum, locale),
        ]
    )


def carrying(topic: Topic, number: str, unit: Unit, locale: str) -> str:
    return _(
        "🛠 The decision on topic #{id} “{title}” is now work order {number} of {unit}. You will "
        "hear of each step, and rate the result at the end.",
        locale=locale,
    ).format(
        id=topic.id,
        title=html.quote(topic.title),
        number=number,
        unit=html.quote(unit.display_name(locale)),
    )


def rate_prompt(topic: Topic, locale: str) -> str:
    return _(
        "🏁 The decision on topic #{id} “{title}” has been carried out. How satisfied are you "
        "with the result?",
        locale=locale,
    ).format(id=topic.id, title=html.quote(topic.title))


def rating_keyboard(topic: Topic, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for n, rating in enumerate(RATINGS):
        _button(builder, rating_name(rating, locale), TopicAction.RATE, id=topic.id, arg=n)
    builder.adjust(3)
    return builder.as_markup()


# --- the list and a topic's page ---------------------------------------------------------------


def list_text(compounds: Sequence[Unit], topics: Sequence[Topic], locale: str) -> str:
    names = "、".join(html.quote(c.display_name(locale)) for c in compounds) or "—"
    lines = [
        _("<b>🏛 Deliberation hall (红色议事厅)</b> · {names}", locale=locale).format(names=names)
    ]
    if not topics:
        lines.append(_("No topics at the moment.", locale=locale))
    for topic in topics:
        lines.append(f"#{topic.id} {html.quote(topic.title)} — {status_name(topic.status, locale)}")
    lines.append(
        _(
            "Any verified household may propose a matter of the compound; others support it, "
            "and at enough support the party branch must answer it.",
            locale=locale,
        )
    )
    return "\n".join(lines)


def list_keyboard(topics: Sequence[Topic], locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for topic in topics:
        _button(builder, f"#{topic.id} {topic.title[:24]}", TopicAction.SHOW, id=topic.id)
    _button(builder, _("➕ Propose a topic", locale=locale), TopicAction.PROPOSE)
    builder.adjust(1)
    return builder.as_markup()


@dataclass(frozen=True, slots=True)
class Page:
    """A topic as one person sees it, with what they may do with it."""

    topic: Topic
    compound: Unit
    meeting: Activity | None
    may_support: bool
    supported: bool
    may_vote: bool
    vote: Vote | None
    resident: bool  # a verified resident of the compound (may object while it is public)
    manages: bool
    objections: int
    ratings: dict[str, int]
    targets: list[Topic]  # open topics it may be merged into (for the branch)


def page_text(page: Page, zone: ZoneInfo, now: datetime, quorum: float, locale: str) -> str:
    topic = page.topic
    lines = [
        headline(topic, locale),
        html.quote(page.compound.display_name(locale)),
        html.quote(topic.text),
        _("Status: {status}", locale=locale).format(status=status_name(topic.status, locale)),
        _("👍 Supported by {n} households (taken up at {needed}).", locale=locale).format(
            n=topic.supporters, needed=topic.threshold
        ),
    ]
    if page.supported:
        lines.append(_("Your household supports it.", locale=locale))
    if topic.status is TopicStatus.TAKEN_UP and topic.answer_due_at:
        lines.append(
            _("The party branch answers by {due}.", locale=locale).format(
                due=_local(topic.answer_due_at, zone)
            )
        )
    if topic.reason:
        lines.append(_("Reason: {reason}", locale=locale).format(reason=html.quote(topic.reason)))
    if page.meeting is not None:
        lines.append(meeting_line(page.meeting, zone, locale))
    if topic.minutes:
        lines.append(
            _("📝 Minutes: {minutes}", locale=locale).format(minutes=html.quote(topic.minutes))
        )
    if topic.consulted:
        lines.append(
            _(
                "商议 (the branch with the committee and the property company): {note}",
                locale=locale,
            ).format(note=html.quote(topic.consulted))
        )
    if topic.reviewed:
        lines.append(
            _("审议 (party members' meeting): {note}", locale=locale).format(
                note=html.quote(topic.reviewed)
            )
        )
    if topic.status is TopicStatus.VOTING:
        assert topic.rule is not None
        lines.append(_("Rule: {rule}", locale=locale).format(rule=rule_name(topic.rule, locale)))
        lines.append(
            _("🗳 Voting until {time}; the count is shown after it closes.", locale=locale).format(
                time=_local(topic.vote_closes_at, zone)
            )
        )
        if page.vote is not None:
            lines.append(
                _("Your household's vote: {vote}", locale=locale).format(
                    vote=vote_name(page.vote, locale)
                )
            )
    if topic.tally is not None:
        lines.append(tally_text(topic, quorum, locale))
    if topic.public_until and now < topic.public_until:
        lines.append(
            _("📢 Made public (公示) until {time}; objections: {n}.", locale=locale).format(
                time=_local(topic.public_until, zone), n=page.objections
            )
        )
    if page.ratings:
        lines.append(
            _("Ratings of the result: {ratings}", locale=locale).format(
                ratings=", ".join(
                    f"{rating_name(Rating(r), locale)} {n}" for r, n in sorted(page.ratings.items())
                )
            )
        )
    return "\n".join(lines)


def page_keyboard(page: Page, now: datetime, locale: str) -> InlineKeyboardMarkup:
    topic = page.topic
    builder = InlineKeyboardBuilder()
    ids = {"id": topic.id, "v": topic.version}
    if page.may_support:
        _button(builder, _("👍 Support (附议)", locale=locale), TopicAction.SUPPORT, id=topic.id)
    if page.may_vote:
        for n, choice in enumerate(VOTES):
            label = vote_name(choice, locale)
            _button(
                builder,
                f"✔ {label}" if choice is page.vote else label,
                TopicAction.VOTE,
                id=topic.id,
                arg=n,
            )
    public = topic.public_until is not None and now < topic.public_until
    if (
        page.resident
        and public
        and topic.status
        in (
            TopicStatus.PASSED,
            TopicStatus.REJECTED,
            TopicStatus.DECLINED,
        )
    ):
        _button(builder, _("⚠️ Object (异议)", locale=locale), TopicAction.OBJECT, id=topic.id)
    if page.manages:
        if topic.status is TopicStatus.TAKEN_UP:
            _button(
                builder, _("🗓 Accept: schedule a meeting", locale=locale), TopicAction.ACCEPT, **ids
            )
            _button(
                builder, _("✖ Decline, with a reason", locale=locale), TopicAction.DECLINE, **ids
            )
        if topic.status is TopicStatus.ACCEPTED:
            _button(builder, _("🗳 Open the vote", locale=locale), TopicAction.OPEN_VOTE, **ids)
        if topic.activity_id is not None and topic.status not in (
            TopicStatus.DECLINED,
            TopicStatus.MERGED,
        ):
            _button(
                builder, _("📝 Record the minutes", locale=locale), TopicAction.MINUTES, id=topic.id
            )
        for target in page.targets[:5]:
            _button(
                builder,
                _("⤵ Merge into #{id}", locale=locale).format(id=target.id),
                TopicAction.MERGE,
                id=topic.id,
                arg=target.id,
            )
    photos = len(topic.photos) + len(topic.minutes_photos)
    if photos:
        _button(
            builder,
            _("🖼 Photos ({n})", locale=locale).format(n=photos),
            TopicAction.PHOTOS,
            id=topic.id,
        )
    _button(builder, _("« All topics", locale=locale), TopicAction.LIST)
    builder.adjust(1)
    return builder.as_markup()


def photo_captions(topic: Topic, locale: str) -> list[tuple[str, str]]:
    """(file id, caption) of the topic's photos, then of its minutes'."""
    return [
        *(
            (
                photo,
                _("Topic #{id} · photo {n}/{of}", locale=locale).format(
                    id=topic.id, n=n, of=len(topic.photos)
                ),
            )
            for n, photo in enumerate(topic.photos, start=1)
        ),
        *(
            (
                photo,
                _("Minutes of topic #{id} · photo {n}/{of}", locale=locale).format(
                    id=topic.id, n=n, of=len(topic.minutes_photos)
                ),
            )
            for n, photo in enumerate(topic.minutes_photos, start=1)
        ),
    ]
