"""Domain errors: raised by services with a reason (a StrEnum member) and the facts its text
needs (a distance, a time); turned into one polite answer, in the user's language, by
`bot.middlewares.RefusalMiddleware` with the texts of `handlers.refusals`.

The reasons are `Reason` below, or a domain's own enum (`bot.domain.party.Refusal`,
`bot.domain.lostfound.ClaimRefusal`, `bot.domain.campaigns.ScheduleError`)."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why not, for the refusals that have no domain enum of their own."""

    GONE = "gone"  # a stale or forged button, a thing that no longer exists
    GONE_ITEM = "gone_item"  # a lost-and-found item or claim
    GONE_CAMPAIGN = "gone_campaign"
    GONE_PARTY = "gone_party"  # a party registration, activity or compound
    NO_HOME = "no_home"  # the person has not said where they live
    NO_COMPOUND = "no_compound"  # a form's compound that no longer exists
    TICKET_MOVED = "ticket_moved"  # the ticket's button was drawn before it last moved
    TICKET_CLOSED = "ticket_closed"  # following a similar ticket that has closed meanwhile
    NOT_HANDLING_UNIT = "not_handling_unit"  # not staff of the ticket's unit or one above it
    DISTRICT_FINAL = "district_final"  # no unit above to return or refer a ticket to
    NOT_YOUR_REPORT = "not_your_report"  # a resident's button on someone else's ticket
    NOT_YOURS_TO_RATE = "not_yours_to_rate"  # only the reporter rates (回访)
    NOT_YOURS_TO_ANSWER = "not_yours_to_answer"  # only the reporter answers staff's questions
    TOO_MANY_PHOTOS = "too_many_photos"
    INCOMPLETE = "incomplete"  # a report without a category or a text
    NOT_BRANCH = "not_branch"  # not the compound's party branch (or the community above)
    NOT_CLAIM_PARTY = "not_claim_party"  # neither the finder nor the claimant
    NO_RELAY = "no_relay"  # a message for a claim that can no longer pass one on
    NOT_CAMPAIGN_STAFF = "not_campaign_staff"
    CAMPAIGN_STATE = "campaign_state"  # a campaign that cannot do that now (it has ended)
    NOT_STAFF = "not_staff"  # /queue, /stats, /export by someone who is no unit's staff
    OUTSIDE_SCOPE = "outside_scope"  # a unit outside the staff member's own subtree
    TOO_MANY_ROWS = "too_many_rows"  # facts: most
    NOT_UNIT_STAFF = "not_unit_staff"  # binding a group for a unit that is not one's own
    NOT_INVITER = "not_inviter"  # inviting staff to a unit one is not above
    NOT_REVIEWER = "not_reviewer"  # a 五星小区 result is reviewed by the community or above
    STARS_MOVED = "stars_moved"  # a 五星小区 result reviewed since the button was drawn
    STARS_NOT_PUBLIC = "stars_not_public"  # an objection after 公示, or before it
    STARS_NOT_RESIDENT = "stars_not_resident"  # an objection from someone who lives elsewhere
    STARS_OBJECTED = "stars_objected"  # a second objection of the same person to one result
    NOT_ANSWERER = "not_answerer"  # an objection is answered by the sub-district or above
    OBJECTION_ANSWERED = "objection_answered"  # answered already (or moved since the button)


class DomainError(Exception):
    """Something the user asked for cannot be done: `reason` says why, `facts` fill its text,
    `detail` is for the log only."""

    def __init__(
        self, reason: StrEnum, detail: str = "", *, ends_conversation: bool = False, **facts: object
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail
        self.facts = facts
        # Set where a refused text must also end the conversation it was written in (a text
        # for a ticket that has moved on would be refused again and again).
        self.ends_conversation = ends_conversation


class NotAllowed(DomainError):
    """The actor lacks the role for this."""


class NotFound(DomainError):
    """The thing named (a unit, a ticket) does not exist (a forged or stale button)."""


class Stale(DomainError):
    """The button belongs to a state that has moved on."""


class Refused(DomainError):
    """A rule says no, with the facts the answer should give (a distance, a time)."""
