"""SQLAlchemy Core tables. Portable SQL only: the same schema runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.domain.rates import COUNTERS


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False, default=""),
    Column("parent_id", Integer, ForeignKey("units.id"), nullable=True, index=True),
    Column("path", String(255), nullable=False, index=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("radius_m", Integer, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # Telegram user id
    Column("first_name", String(128), nullable=False, default=""),
    Column("username", String(64), nullable=True),
    Column("language", String(8), nullable=True),  # the user's saved choice; null until chosen
    Column("tg_language", String(16), nullable=True),  # the phone's language, as Telegram last said
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("invited_by", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "unit_id"),
)

invites = Table(
    "invites",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_by", BigInteger, nullable=True),
    Column("used_at", UTCDateTime, nullable=True),
)

chats = Table(
    "chats",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # Telegram chat id
    Column("type", String(16), nullable=False),
    Column("title", String(255), nullable=False, default=""),
    Column("purpose", String(16), nullable=True),  # residents | alerts | null (not bound)
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=True, index=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("bound_by", BigInteger, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("key", String(64), nullable=False),  # who it belongs to: updates of one key run in order
    Column("payload", Text, nullable=False),
    Column("status", String(8), nullable=False, default="new"),  # new | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("handled_at", UTCDateTime, nullable=True),
    Index("ix_inbox_status_received", "status", "received_at"),
    Index("ix_inbox_key_status", "key", "status", "update_id"),  # a chat's next update
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("method", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("priority", Integer, nullable=False),  # 0 replies, 1 alerts, 2 broadcasts
    Column("status", String(8), nullable=False, default="pending"),  # pending | sent | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("message_id", BigInteger, nullable=True),  # what Telegram returned, for later edits
    Column("cause", BigInteger, nullable=True),  # the update whose handling wrote it (audit)
    Column("error", Text, nullable=True),
    # An edit of a message this outbox row's `ref_id` sent: its message id is only known once sent.
    Column("ref_id", Integer, nullable=True),
    Index("ix_outbox_status_priority", "status", "priority", "id"),
)

fsm = Table(
    "fsm",
    metadata,
    # Text: a key carries a business connection id and a destiny, and a state is named by the
    # bot's code (nested groups), none of them bounded (migration 0008).
    Column("key", Text, primary_key=True),
    Column("state", Text, nullable=True),
    Column("data", Text, nullable=False, default="{}"),
)

complaints = Table(
    "complaints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(32), nullable=False, unique=True),  # WD-20261121-0007
    Column("reporter_id", BigInteger, ForeignKey("users.id"), nullable=False, index=True),
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("photos", Text, nullable=False, default="[]"),  # JSON list of Telegram file ids
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("status", String(16), nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False, index=True),
    Column("returned_by", Integer, nullable=True),  # the unit that returned it, while returned
    Column("version", Integer, nullable=False, default=1),  # bumped on every move: stale buttons
    Column("window_start", UTCDateTime, nullable=False),  # the current clock window
    Column("due_at", UTCDateTime, nullable=True),
    Column("blue_at", UTCDateTime, nullable=True),  # when the light turns blue (75 % of the window)
    Column("stage", Integer, nullable=False, default=0),  # escalation reached in this window
    Column("next_check_at", UTCDateTime, nullable=True),  # when the sweep looks next; null: never
    Column("unsatisfied", Integer, nullable=False, default=0),
    Column("rating", String(16), nullable=True),
    Column("reply", Text, nullable=True),
    Column("campaign_id", Integer, nullable=True, index=True),  # reported from a campaign reminder
    # The household it came from (the reporter's confirmed flat, or the one a proxy filed for),
    # for the household contact (党群中心户) who looks after it (migration 0010).
    Column("flat_id", Integer, nullable=True, index=True),
    # Filed by proxy (代办) for a resident without Telegram: who it is for, as the proxy wrote it
    # (the reporter is the proxy, who relays the replies and the rating).
    Column("proxy_for", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_complaints_next_check_at", "next_check_at"),
    Index("ix_complaints_dup", "compound_id", "category", "status", "created_at"),
    Index("ix_complaints_queue", "status", "unit_id", "due_at"),  # /queue and the digest
    Index("ix_complaints_created", "created_at", "compound_id", "category", "status"),  # /stats
)

complaint_events = Table(
    "complaint_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("complaint_id", Integer, ForeignKey("complaints.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor_id", BigInteger, nullable=True),  # null: the bot itself (the sweep)
    Column("action", String(16), nullable=False),
    Column("from_unit", Integer, nullable=True),
    Column("to_unit", Integer, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),  # a hand-over's sign-for deadline
    Column("note", Text, nullable=False, default=""),
)

# One unit's scorecard of one local day (bot.domain.rates.Scorecard), and of one month, added to
# as events are written: /stats sums months and the days at a period's edges instead of replaying
# every ticket's trail.
LONG_COUNTERS = ("sign_seconds", "complete_seconds")


def _scorecard_table(name: str, key: str) -> Table:
    return Table(
        name,
        metadata,
        Column(key, Date, primary_key=True),
        Column("unit_id", Integer, primary_key=True),
        *(
            Column(c, BigInteger if c in LONG_COUNTERS else Integer, nullable=False, default=0)
            for c in COUNTERS
        ),
    )


unit_days = _scorecard_table("unit_days", "day")
unit_months = _scorecard_table("unit_months", "month")  # month: its first day


def _ticket_count_table(name: str, key: str) -> Table:
    return Table(
        name,
        metadata,
        Column(key, Date, primary_key=True),
        Column("compound_id", Integer, primary_key=True),
        Column("category", String(32), primary_key=True),
        Column("status", String(16), primary_key=True),
        Column("count", Integer, nullable=False, default=0),
    )


# Tickets by the local day (and month) they were reported, compound, category and where they stand
# now: kept as they are reported and move, for /stats over a large scope.
ticket_days = _ticket_count_table("ticket_days", "day")
ticket_months = _ticket_count_table("ticket_months", "month")

# A scheduled briefing (the morning digest, the weekly chart) of a unit and local day: the key
# that makes a second run of the job write nothing.
briefings = Table(
    "briefings",
    metadata,
    Column("kind", String(16), primary_key=True),  # digest | chart
    Column("unit_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("sent", Integer, nullable=False, default=0),  # messages written to the outbox
    Column("created_at", UTCDateTime, nullable=False),
)

complaint_followers = Table(
    "complaint_followers",
    metadata,
    Column("complaint_id", Integer, ForeignKey("complaints.id"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

complaint_cards = Table(
    "complaint_cards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("complaint_id", Integer, ForeignKey("complaints.id"), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("outbox_id", Integer, nullable=False),  # the row that sent the card; edits refer to it
    Column("headline", Text, nullable=False, default=""),  # why this chat got it, kept on edits
    UniqueConstraint("complaint_id", "chat_id"),
)

counters = Table(
    "counters",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

lostfound = Table(
    "lostfound",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),  # lost | found
    Column("reporter_id", BigInteger, ForeignKey("users.id"), nullable=False, index=True),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("community_id", Integer, nullable=False),  # the matching scope, read without joins
    Column("subdistrict_id", Integer, nullable=False),
    Column("category", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("place", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("photo", Text, nullable=True),
    Column("held_at", Text, nullable=False, default=""),
    Column("announce", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column("pending_claim_id", Integer, nullable=True),  # at most one claim waits at a time
    Column("expires_at", UTCDateTime, nullable=False),
    Column("reminded_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    # Reported by proxy (代办) for a resident without Telegram, of this household (migration 0010).
    Column("proxy_for", String(64), nullable=True),
    Column("flat_id", Integer, nullable=True),
    Index("ix_lostfound_status_created_at", "status", "created_at"),
    Index("ix_lostfound_status_expires_at", "status", "expires_at"),
)

lostfound_claims = Table(
    "lostfound_claims",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("found_id", Integer, ForeignKey("lostfound.id"), nullable=False, index=True),
    Column("lost_id", Integer, ForeignKey("lostfound.id"), nullable=True),
    Column("claimant_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("detail", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
)

lostfound_matches = Table(
    "lostfound_matches",
    metadata,
    Column("lost_id", Integer, ForeignKey("lostfound.id"), primary_key=True),
    Column("found_id", Integer, ForeignKey("lostfound.id"), primary_key=True, index=True),
    Column("score", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

party_members = Table(
    "party_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("building", String(128), nullable=False, default=""),
    Column("workplace", String(128), nullable=False, default=""),  # their workplace's party org
    Column("type", String(16), nullable=False),  # working | retired | mobile
    Column("phone", String(32), nullable=True),  # only as shared by Telegram's contact button
    Column("status", String(16), nullable=False),  # pending | approved | rejected | moved
    Column("reason", Text, nullable=False, default=""),  # why rejected
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", BigInteger, nullable=True),
    Index("ix_party_members_compound_status", "compound_id", "status"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("title", String(128), nullable=False),
    Column("place", String(128), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False, index=True),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("signed", Integer, nullable=False, default=0),  # kept with a conditional update
    Column("code", String(8), nullable=False),  # the short check-in code the organiser shows
    Column("created_by", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("day_reminded_at", UTCDateTime, nullable=True),
    Column("hour_reminded_at", UTCDateTime, nullable=True),
    Column("settled_at", UTCDateTime, nullable=True),  # ended; those still present checked out
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_activities_settled_ends", "settled_at", "ends_at"),
)

attendance = Table(
    "attendance",
    metadata,
    Column("activity_id", Integer, ForeignKey("activities.id"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True, index=True),
    Column("status", String(16), nullable=False),  # signed | cancelled
    Column("signed_at", UTCDateTime, nullable=False),
    Column("checked_in_at", UTCDateTime, nullable=True),
    Column("checked_out_at", UTCDateTime, nullable=True),
    Column("check_in_method", String(16), nullable=True),  # location | code
    Column("check_out_method", String(16), nullable=True),  # location | code | auto
    Column("distance_m", Integer, nullable=True),  # how far from the compound at check-in
    Column("minutes", Integer, nullable=False, default=0),
)

files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("data", LargeBinary, nullable=False),  # an export, sent by the outbox as a document
    Column("created_at", UTCDateTime, nullable=False),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("photo", Text, nullable=True),
    Column("scope_id", Integer, ForeignKey("units.id"), nullable=False),  # a unit and its subtree
    Column("schedule", String(255), nullable=False),  # as written: 每周六 09:00, cron, dates
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # active | paused | ended
    Column("created_by", BigInteger, nullable=False),
    Column("next_slot", UTCDateTime, nullable=True),  # the next run the sweep looks for
    Column("summary_at", UTCDateTime, nullable=True),  # the end-of-campaign summary went out
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_campaigns_status_next_slot", "status", "next_slot"),
)

campaign_slots = Table(
    "campaign_slots",
    metadata,
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), primary_key=True),
    Column("slot", UTCDateTime, primary_key=True),
    Column("status", String(16), nullable=False),  # sending | done | skipped
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
)

campaign_sends = Table(
    "campaign_sends",
    metadata,
    # One reminder per (campaign, slot, chat): the key makes a second fan-out write nothing.
    Column("campaign_id", Integer, primary_key=True),
    Column("slot", UTCDateTime, primary_key=True),
    Column("chat_id", BigInteger, primary_key=True),
    Column("compound_id", Integer, nullable=True),  # for the summary
    Column("outbox_id", Integer, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True),  # /subscribe
    Column("created_at", UTCDateTime, nullable=False),
)

group_notices = Table(
    "group_notices",
    metadata,
    # A notice posted in a residents group (a found item, an activity), edited as its subject
    # changes: the row that sent it (`outbox_id`, edits refer to it), the language it was written
    # in, and the text it shows now (an edit is written only when the text changes).
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # found | activity
    Column("subject_id", Integer, nullable=False),  # the lostfound or activities row
    Column("chat_id", BigInteger, nullable=False),
    Column("outbox_id", Integer, nullable=False),
    Column("locale", String(8), nullable=False),
    Column("shown", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),  # the last edit written
    Index("ix_group_notices_kind_subject_id", "kind", "subject_id"),
)

# --- households (migration 0010) --------------------------------------------------------------

flats = Table(
    "flats",
    metadata,
    # A flat of a compound, as imported from a flats file (bot/flatfile.py): `building`, `unit`
    # (the stairwell, 单元; "" when the building has none) and `number` are its address, the key
    # a re-import updates in place.
    Column("id", Integer, primary_key=True),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("building", String(16), nullable=False),
    Column("unit", String(16), nullable=False, default=""),
    Column("number", String(16), nullable=False),
    Column("floor", Integer, nullable=True),
    Column("area_m2", Float, nullable=True),  # 专有部分面积, for the owners' votes
    Column("representative_id", Integer, nullable=True),  # the residents row that votes for it
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("compound_id", "building", "unit", "number"),
)

residents = Table(
    "residents",
    metadata,
    # A person's claim to live in a flat, confirmed (or not) by its household contact or the
    # branch. `user_id` is null for a resident without Telegram, recorded by a proxy (`name`).
    Column("id", Integer, primary_key=True),
    Column("flat_id", Integer, ForeignKey("flats.id"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=True),
    Column("name", String(64), nullable=False, default=""),
    Column("tenure", String(8), nullable=False),  # owner | family | tenant
    Column(
        "status", String(12), nullable=False
    ),  # pending | confirmed | rejected | withdrawn | left
    Column("reason", Text, nullable=False, default=""),  # why rejected
    Column("recorded_by", BigInteger, nullable=True),  # the proxy who recorded one without Telegram
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", BigInteger, nullable=True),
    Index("ix_residents_flat_id_status", "flat_id", "status"),
    Index("ix_residents_user_id_status", "user_id", "status"),
)

household_contacts = Table(
    "household_contacts",
    metadata,
    # A household contact (党群中心户): a person appointed by the branch to look after the flats of
    # one building, or of one stairwell of it (`unit`; "" for the whole building).
    Column("id", Integer, primary_key=True),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False, index=True),
    Column("building", String(16), nullable=False),
    Column("unit", String(16), nullable=False, default=""),
    Column("appointed_by", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_household_contacts_compound_id_building", "compound_id", "building", "unit"),
)

contact_invites = Table(
    "contact_invites",
    metadata,
    # A one-time link by which the branch appoints a household contact for a building or stairwell.
    Column("code", String(32), primary_key=True),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("building", String(16), nullable=False),
    Column("unit", String(16), nullable=False, default=""),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_by", BigInteger, nullable=True),
    Column("used_at", UTCDateTime, nullable=True),
)

proxy_signups = Table(
    "proxy_signups",
    metadata,
    # A place at an activity taken by proxy (代办) for a resident without Telegram: it counts
    # towards the activity's places (activities.signed) like a member's own sign-up.
    Column("id", Integer, primary_key=True),
    Column("activity_id", Integer, ForeignKey("activities.id"), nullable=False, index=True),
    Column("resident_id", Integer, ForeignKey("residents.id"), nullable=False),
    Column("signed_by", BigInteger, nullable=False),  # the proxy
    Column("status", String(16), nullable=False),  # signed | cancelled
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("activity_id", "resident_id"),
)

# --- the 红色议事厅 (migration 0011) --------------------------------------------------------------

topics = Table(
    "topics",
    metadata,
    # A compound matter a resident proposed (议题), from support to the work order that carries the
    # decision out (bot/domain/topics.py). `next_check_at` is when the sweep looks next: the
    # branch's answer deadline, the vote's reminder and close, the end of 公示.
    Column("id", Integer, primary_key=True),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("proposer_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("flat_id", Integer, ForeignKey("flats.id"), nullable=False),
    Column("title", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("photos", Text, nullable=False, default="[]"),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False, default=1),  # bumped on every move: stale buttons
    Column("threshold", Integer, nullable=False),  # households whose support takes it up
    Column("supporters", Integer, nullable=False, default=0),
    Column("taken_up_at", UTCDateTime, nullable=True),
    Column("answer_due_at", UTCDateTime, nullable=True),
    Column("stage", Integer, nullable=False, default=0),  # the late answer's escalation
    Column("next_check_at", UTCDateTime, nullable=True),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("answered_by", BigInteger, nullable=True),
    Column("reason", Text, nullable=False, default=""),  # why it was declined
    Column("activity_id", Integer, ForeignKey("activities.id"), nullable=True),  # the 议事会
    Column("minutes", Text, nullable=False, default=""),
    Column("minutes_photos", Text, nullable=False, default="[]"),
    Column("rule", String(8), nullable=True),  # simple | double | fourfold
    Column("consulted", Text, nullable=False, default=""),  # 四议: 商议
    Column("reviewed", Text, nullable=False, default=""),  # 四议: 审议
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=True),  # who carries it out
    Column("vote_opens_at", UTCDateTime, nullable=True),
    Column("vote_closes_at", UTCDateTime, nullable=True),
    Column("reminded_at", UTCDateTime, nullable=True),
    Column("electorate", Integer, nullable=False, default=0),  # verified households at opening
    Column("total_flats", Integer, nullable=False, default=0),
    Column("total_area", BigInteger, nullable=False, default=0),  # hundredths of a m²
    Column("yes", Integer, nullable=True),  # the tally, written once when the vote closes
    Column("no", Integer, nullable=True),
    Column("abstain", Integer, nullable=True),
    Column("yes_area", BigInteger, nullable=True),
    Column("no_area", BigInteger, nullable=True),
    Column("abstain_area", BigInteger, nullable=True),
    Column("verdict", String(16), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("public_until", UTCDateTime, nullable=True),
    Column("complaint_id", Integer, ForeignKey("complaints.id"), nullable=True, unique=True),
    Column("done_at", UTCDateTime, nullable=True),
    Column("merged_into", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_topics_next_check_at", "next_check_at"),
    Index("ix_topics_compound_id_status", "compound_id", "status"),
)

topic_supports = Table(
    "topic_supports",
    metadata,
    # One household's support (附议) of a topic, given by one of its confirmed residents.
    Column("topic_id", Integer, ForeignKey("topics.id"), primary_key=True),
    Column("flat_id", Integer, ForeignKey("flats.id"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

topic_ballots = Table(
    "topic_ballots",
    metadata,
    # One household's vote, cast by its representative; changed in place until the vote closes.
    Column("topic_id", Integer, ForeignKey("topics.id"), primary_key=True),
    Column("flat_id", Integer, ForeignKey("flats.id"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False, index=True),
    Column("vote", String(8), nullable=False),  # yes | no | abstain
    Column("area", BigInteger, nullable=False, default=0),  # the flat's area then, in 1/100 m²
    Column("changes", Integer, nullable=False, default=0),
    Column("cast_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

topic_objections = Table(
    "topic_objections",
    metadata,
    # An objection (异议) to a decision while it is made public (公示), for the branch to answer.
    Column("id", Integer, primary_key=True),
    Column("topic_id", Integer, ForeignKey("topics.id"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("topic_id", "user_id"),
)

topic_ratings = Table(
    "topic_ratings",
    metadata,
    # A supporter's or voter's verdict on how the decision was carried out.
    Column("topic_id", Integer, ForeignKey("topics.id"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True),
    Column("rating", String(16), nullable=False),  # satisfied | basic | unsatisfied
    Column("created_at", UTCDateTime, nullable=False),
)

# --- 五星小区 (migration 0012) ---------------------------------------------------------------

star_criteria = Table(
    "star_criteria",
    metadata,
    # A version of the criteria file (bot/starsfile.py), as it was read: a month is judged by the
    # version in force then (`first_month`: never before the month after it was read).
    Column("id", Integer, primary_key=True),
    Column("version", String(7), nullable=False, unique=True),  # "2026-12"
    Column("first_month", Date, nullable=False),
    Column("text", Text, nullable=False),
    Column("example", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

star_runs = Table(
    "star_runs",
    metadata,
    # A compound's evaluation of one month: computed once (the key), then reviewed by the community
    # (confirmed, or overridden with a reason), then made public (公示).
    Column("id", Integer, primary_key=True),
    Column("compound_id", Integer, ForeignKey("units.id"), nullable=False),
    Column("month", Date, nullable=False),  # its first day
    Column("criteria_id", Integer, ForeignKey("star_criteria.id"), nullable=False),
    Column("status", String(12), nullable=False),  # computed | confirmed | public | final
    Column("computed", String(64), nullable=False),  # the stars the figures gave: "party,service"
    Column("stars", String(64), nullable=False),  # the stars that stand (after an override)
    Column("override_reason", Text, nullable=False, default=""),
    Column("reviewed_by", BigInteger, nullable=True),
    Column("reviewed_at", UTCDateTime, nullable=True),
    Column("public_until", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("compound_id", "month"),
    Index("ix_star_runs_month_status", "month", "status"),
)

star_figures = Table(
    "star_figures",
    metadata,
    # One indicator's figure in a run, with the rows it was computed from.
    Column("run_id", Integer, ForeignKey("star_runs.id"), primary_key=True),
    Column("indicator", String(32), primary_key=True),
    Column("star", String(12), nullable=False),
    Column("value", Float, nullable=True),  # None: no data (it does not pass)
    Column("part", Float, nullable=False, default=0),
    Column("whole", Float, nullable=True),
    Column("passed", Boolean, nullable=False),
    Column("evidence", Text, nullable=False, default="[]"),  # JSON: ["complaints:12", …]
)

star_entries = Table(
    "star_entries",
    metadata,
    # An indicator the community enters for a compound and month (the 六有 of the party-service
    # centre), with its evidence: a note and a photo.
    Column("compound_id", Integer, ForeignKey("units.id"), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("indicator", String(32), primary_key=True),
    Column("value", Float, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("photo", Text, nullable=True),
    Column("entered_by", BigInteger, nullable=False),
    Column("entered_at", UTCDateTime, nullable=False),
)

star_objections = Table(
    "star_objections",
    metadata,
    # A resident's objection (异议) to a result while it is made public, for the sub-district to
    # answer by `due_at`; late, it is chased up the chain like a ticket (`stage`, `next_check_at`).
    # `upheld`: the answer sent the result back to the community for a new review.
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("star_runs.id"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("unit_id", Integer, ForeignKey("units.id"), nullable=False),  # who answers
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("stage", Integer, nullable=False, default=0),
    Column("next_check_at", UTCDateTime, nullable=True),
    Column("answer", Text, nullable=True),
    Column("upheld", Boolean, nullable=True),
    Column("answered_by", BigInteger, nullable=True),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("run_id", "user_id"),
    Index("ix_star_objections_next_check_at", "next_check_at"),
)
