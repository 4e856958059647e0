"""The one renderer of refusals: a DomainError's reason (and facts) as words in the user's
language, and the one answer `bot.middlewares.RefusalMiddleware` gives with them — an alert for
a button, a text in the chat of a message. Handlers do not catch refusals to answer them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from aiogram.types import TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.domain.campaigns import ScheduleError
from bot.domain.errors import DomainError, Reason
from bot.domain.households import HouseholdRefusal
from bot.domain.lostfound import ClaimRefusal
from bot.domain.party import Refusal
from bot.domain.topics import TopicRefusal
from bot.services.desk import Desk
from handlers.common import refuse_button

log = logging.getLogger(__name__)

Texts = Callable[[], dict[StrEnum, str]]


def _reasons() -> dict[StrEnum, str]:
    gone = _("This button is no longer valid. Please start again from the menu.")
    return {
        Reason.GONE: gone,
        Reason.GONE_ITEM: _("I cannot find that item any more."),
        Reason.GONE_CAMPAIGN: _("I cannot find that campaign any more."),
        Reason.GONE_PARTY: _("I cannot find that any more."),
        Reason.NO_HOME: _("First, please tell me where you live: Help → “🏠 My compound”."),
        Reason.NO_COMPOUND: _("That compound no longer exists. Please start again."),
        Reason.TICKET_MOVED: _(
            "This ticket has moved on since this button was shown; nothing was changed."
        ),
        Reason.TICKET_CLOSED: _("That ticket is no longer open. You can submit yours."),
        Reason.NOT_HANDLING_UNIT: _(
            "Only staff of the unit handling this ticket, or of a unit above it, can do this. "
            "Nothing was changed."
        ),
        Reason.DISTRICT_FINAL: _(
            "There is no unit above this one to pass the ticket to. Nothing was changed."
        ),
        Reason.NOT_YOUR_REPORT: _("You can only open your own reports and those you follow."),
        Reason.NOT_YOURS_TO_RATE: _("You can only rate the reports you made yourself."),
        Reason.NOT_YOURS_TO_ANSWER: _(
            "Only the person who made this report can answer this question."
        ),
        Reason.TOO_MANY_PHOTOS: _("Three photos are the most I can take; this one is left out."),
        Reason.INCOMPLETE: gone,  # the form offers no submit before it is complete
        Reason.NOT_BRANCH: _(
            "Only the compound's party branch (or the community above it) can do this."
        ),
        Reason.NOT_CLAIM_PARTY: _("Only the people concerned can do this."),
        Reason.NO_RELAY: _("I cannot pass messages about that item any more."),
        Reason.NOT_CAMPAIGN_STAFF: _(
            "Campaigns are started by community staff or above, for their own area."
        ),
        Reason.CAMPAIGN_STATE: _("That campaign cannot do that now (it may have ended already)."),
        Reason.NOT_REVIEWER: _(
            "A compound's five-star result is reviewed by its community (or a level above)."
        ),
        Reason.STARS_MOVED: _(
            "This result was reviewed since this button was shown; nothing was changed."
        ),
        Reason.STARS_NOT_PUBLIC: _(
            "This result is not open to objections now: objections are taken while it is made "
            "public (公示)."
        ),
        Reason.STARS_NOT_RESIDENT: _(
            "Only residents of this compound can object to its result. If you live there, say so "
            "under “❓ Help” → “🏠 My compound”."
        ),
        Reason.STARS_OBJECTED: _(
            "You have objected to this result already; the sub-district will answer you."
        ),
        Reason.NOT_ANSWERER: _(
            "An objection to a five-star result is answered by the sub-district (or the "
            "district). Nothing was changed."
        ),
        Reason.OBJECTION_ANSWERED: _(
            "This objection has been answered already; nothing was changed."
        ),
        Reason.NOT_STAFF: _(
            "“To do”, “Statistics” and /export are for the staff of a unit. To report a "
            "problem, tap “📝 Tell us a problem”."
        ),
        Reason.OUTSIDE_SCOPE: _(
            "That is outside your unit: you can only see your own unit and those below it."
        ),
        Reason.TOO_MANY_ROWS: _(
            "That period has more than {most} tickets: too many for one file. Please choose a "
            "shorter period."
        ),
        Reason.NOT_UNIT_STAFF: _("Only staff of that unit can bind this group."),
        Reason.NOT_INVITER: _(
            "You cannot invite staff to that unit. Only an administrator or staff of a unit "
            "above it can."
        ),
    }


def _claims() -> dict[StrEnum, str]:
    return {
        ClaimRefusal.CLOSED: _(
            "That item is no longer open: it was returned, closed or has expired."
        ),
        ClaimRefusal.OWN: _("That is your own report."),
        ClaimRefusal.PENDING: _(
            "Someone has already claimed this item and the finder is checking. If it is not "
            "theirs, the item stays open and you can claim it then."
        ),
        ClaimRefusal.DECLINED_BEFORE: _(
            "The finder already said your earlier claim on this item did not fit."
        ),
        ClaimRefusal.NOT_FOUND_ITEM: _("Only found items can be claimed."),
    }


def _party() -> dict[StrEnum, str]:
    return {
        Refusal.NOT_MEMBER: _(
            "Only registered party members can do this. Tap “🚩 Party members” to register (报到) with "
            "your compound's branch."
        ),
        Refusal.PENDING: _("Your registration is still waiting for the branch's approval."),
        Refusal.OTHER_COMPOUND: _(
            "This activity belongs to another compound; you are registered at your own."
        ),
        Refusal.CANCELLED: _("This activity was cancelled."),
        Refusal.FULL: _("Sorry, this activity is full."),
        Refusal.STARTED: _("This activity has already started."),
        Refusal.TOO_EARLY: _("Check-in opens at {time} (30 minutes before the start)."),
        Refusal.ENDED: _("This activity has already ended."),
        Refusal.OUTSIDE: _(
            "You seem to be {distance} m from the compound; check-in works within {radius} m. "
            "Please check in on site, or type the code the organiser shows."
        ),
        Refusal.NO_FENCE: _(
            "This compound has no location set, so please type the code the organiser shows."
        ),
        Refusal.WRONG_CODE: _("That code does not match an activity open for check-in now."),
        Refusal.TOO_MANY_TRIES: _(
            "Too many wrong codes. Please ask the organiser, or check in by location."
        ),
        Refusal.NOT_PRESENT: _("You are not checked in at an activity now."),
        Refusal.NO_ACTIVITY: _(
            "There is no activity open for check-in at your compound now. /activities lists "
            "what is coming."
        ),
        Refusal.DECIDED: _("This registration was already decided."),
        Refusal.SIGNED_ALREADY: _("They already have a place at this activity."),
    }


def _schedules() -> dict[StrEnum, str]:
    return {
        ScheduleError.NO_RUNS: _(
            "That schedule never runs before the campaign ends. For example: 每周六 09:00."
        ),
        ScheduleError.UNREADABLE: _(
            "I could not read that schedule. Write it like 每周六 09:00, 每天 08:00, every "
            "Saturday 09:00, fixed dates (2026-12-05 09:00; 2026-12-19 09:00) or cron "
            "(0 9 * * 6)."
        ),
    }


def _households() -> dict[StrEnum, str]:
    return {
        HouseholdRefusal.NO_FLATS: _(
            "The flats of your compound are not on record yet, so a flat cannot be registered "
            "here. Please ask your compound's party branch."
        ),
        HouseholdRefusal.ALREADY_THERE: _("You are already registered in that flat."),
        HouseholdRefusal.WAITING: _(
            "Your registration for that flat is already waiting for confirmation."
        ),
        HouseholdRefusal.DECIDED: _("This household registration was already decided."),
        HouseholdRefusal.NOT_CONFIRMER: _(
            "Only the flat's household contact (党群中心户) or the compound's party branch can "
            "confirm this."
        ),
        HouseholdRefusal.NOT_REPRESENTATIVE: _(
            "Only the household's representative (or its household contact) can choose another."
        ),
        HouseholdRefusal.NOT_RESIDENT: _("That person is not a confirmed resident of the flat."),
        HouseholdRefusal.NOT_CONTACT: _(
            "“🏘 Households” is for household contacts (党群中心户) and the compound's party "
            "branch. To register your own flat, tap “🏠 My home”."
        ),
        HouseholdRefusal.LINK_UNKNOWN: _(
            "This appointment link is not valid. Please ask the party branch for a new one."
        ),
        HouseholdRefusal.LINK_USED: _(
            "This appointment link has been used already. Please ask the party branch for a "
            "new one."
        ),
        HouseholdRefusal.LINK_EXPIRED: _(
            "This appointment link has expired. Please ask the party branch for a new one."
        ),
    }


def _topics() -> dict[StrEnum, str]:
    return {
        TopicRefusal.NOT_RESIDENT: _(
            "Only verified households of this compound can do this. Register your flat first: "
            "“🏠 My home”."
        ),
        TopicRefusal.NOT_REPRESENTATIVE: _(
            "Each household votes once, through its representative. You can see or change who "
            "that is under “🏠 My home”."
        ),
        TopicRefusal.SUPPORTED: _("Your household supports this topic already."),
        TopicRefusal.NOT_COLLECTING: _("This topic no longer collects support."),
        TopicRefusal.NOT_VOTING: _("This vote is not open (it has closed, or not started)."),
        TopicRefusal.NOT_PUBLIC: _("This decision is no longer open to objections."),
        TopicRefusal.OBJECTED: _("You have objected to this decision already."),
        TopicRefusal.MOVED: _(
            "This topic has moved on since this button was shown; nothing was changed."
        ),
        TopicRefusal.NO_AREA: _(
            "The owners' double majority needs every flat's area, and {missing} flats have none "
            "on record. Please complete the flats file, or choose another rule."
        ),
        TopicRefusal.NO_FLATS: _("The flats of this compound are not on record yet."),
        TopicRefusal.STEPS_MISSING: _(
            "四议两公开 needs the records of 商议 and 审议 before the households vote."
        ),
        TopicRefusal.NOT_PARTICIPANT: _("Only the households that supported or voted rate it."),
        TopicRefusal.NOT_MANAGER: _(
            "Only the compound's party branch (or the community above it) can do this."
        ),
    }


# Each enum its own table: StrEnum members of two enums with the same value are equal.
TEXTS: dict[type[StrEnum], Texts] = {
    Reason: _reasons,
    ClaimRefusal: _claims,
    Refusal: _party,
    ScheduleError: _schedules,
    HouseholdRefusal: _households,
    TopicRefusal: _topics,
}


def refusal_text(error: DomainError, desk: Desk | None = None) -> str:
    """Why not, in the current locale's words, with the facts (a distance, a time) filled in."""
    texts = TEXTS.get(type(error.reason))
    text = texts().get(error.reason) if texts is not None else None
    if text is None:
        return _("That cannot be done now.")
    facts = {
        name: desk.local(value) if isinstance(value, datetime) and desk else value
        for name, value in error.facts.items()
    }
    try:
        return text.format(**facts)
    except (KeyError, IndexError):  # a fact the raise left out: the text without it
        log.warning("refusal %r lacks a fact for its text", error)
        return text.format_map(_Blank(facts))


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "—"


async def answer_refusal(event: TelegramObject, error: DomainError, desk: Desk) -> None:
    """A button gets an alert; a message, a text in its chat (a form's, the private chat)."""
    text = refusal_text(error, desk)
    if isinstance(event, Update):
        if event.callback_query is not None:
            await refuse_button(desk.outbox, event.callback_query, text)
            return
        message = event.message or event.edited_message
        if message is not None:
            await desk.outbox.send(message.chat.id, text)
            return
    log.warning("a refusal with nowhere to say it: %r", error)
