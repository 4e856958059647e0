"""Lost and found (失物招领): reports, claims, the matching window, dates and expiry. Pure rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.domain.errors import NotAllowed

MAX_TEXT = 500
MAX_PLACE = 100
MAX_DETAIL = 300
EXPIRY = timedelta(days=30)
REMIND_BEFORE = timedelta(days=3)
MATCH_DAYS = 30  # how far apart a loss and a find may be
MATCH_SLACK = 2  # a find may be dated a little before the loss (people misremember)
HELD_WITH_FINDER = "@finder"  # held_at when the finder keeps it
HELD_GATE = "@gate"  # the compound's gate house (门卫室)
HELD_OFFICE = "@office"  # the property service centre (物业服务中心)
HELD_CHOICES = (HELD_GATE, HELD_OFFICE, HELD_WITH_FINDER)


class Kind(StrEnum):
    LOST = "lost"
    FOUND = "found"

    @property
    def other(self) -> Kind:
        return Kind.FOUND if self is Kind.LOST else Kind.LOST


class Category(StrEnum):
    DOCUMENTS = "documents"  # 证件
    KEYS = "keys"  # 钥匙/门禁卡
    PHONE = "phone"  # 手机/电子
    WALLET = "wallet"  # 钱包/现金
    PET = "pet"  # 宠物
    BAG = "bag"  # 包/衣物
    OTHER = "other"  # 其他


ALIASES = {
    "electronics": Category.PHONE,
    "electronic": Category.PHONE,
    "clothing": Category.BAG,
    "clothes": Category.BAG,
    "cash": Category.WALLET,
    "money": Category.WALLET,
    "id": Category.DOCUMENTS,
    "document": Category.DOCUMENTS,
    "key": Category.KEYS,
    "pets": Category.PET,
    "bags": Category.BAG,
}


def category_of(raw: str) -> Category:
    """A category from a stored or imported name; anything unknown is "other"."""
    raw = raw.strip().lower()
    try:
        return Category(raw)
    except ValueError:
        return ALIASES.get(raw, Category.OTHER)


class Status(StrEnum):
    OPEN = "open"
    RETURNED = "returned"  # a claim was approved
    CLOSED = "closed"  # the reporter closed it
    EXPIRED = "expired"


class ClaimStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # the item was closed or expired meanwhile


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    kind: Kind
    reporter_id: int
    compound_id: int
    community_id: int
    subdistrict_id: int
    category: Category
    text: str
    place: str
    day: date
    photo: str | None
    held_at: str  # found items: where it is kept ("门卫室", or HELD_WITH_FINDER)
    announce: bool
    status: Status
    pending_claim_id: int | None
    expires_at: datetime
    reminded_at: datetime | None
    created_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status is Status.OPEN

    def scope(self, subdistrict: bool) -> int:
        return self.subdistrict_id if subdistrict else self.community_id


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    found_id: int
    lost_id: int | None
    claimant_id: int
    detail: str
    status: ClaimStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Draft:
    """A report being written (kept in the FSM between messages)."""

    kind: Kind
    compound_id: int
    category: Category | None = None
    text: str = ""
    place: str = ""
    day: date | None = None
    photo: str | None = None
    held_at: str = ""
    announce: bool | None = None
    proxy_for: str | None = None  # 代办: the resident without Telegram it is written for
    flat_id: int | None = None  # and their household


def match_days(kind: Kind, day: date) -> tuple[int, int]:
    """The days (as ordinals) a report of the other kind may carry to match one of `kind`."""
    if kind is Kind.FOUND:  # the loss came before the find
        return day.toordinal() - MATCH_DAYS, day.toordinal() + MATCH_SLACK
    return day.toordinal() - MATCH_SLACK, day.toordinal() + MATCH_DAYS


class ClaimRefusal(StrEnum):
    CLOSED = "closed"
    OWN = "own"
    PENDING = "pending"
    DECLINED_BEFORE = "declined_before"
    NOT_FOUND_ITEM = "not_found_item"


def check_claim(item: Item, claimant_id: int, earlier: list[Claim]) -> None:
    """Raise NotAllowed(reason) unless `claimant_id` may claim the found `item` now."""
    if item.kind is not Kind.FOUND:
        raise NotAllowed(ClaimRefusal.NOT_FOUND_ITEM)
    if not item.is_open:
        raise NotAllowed(ClaimRefusal.CLOSED)
    if item.reporter_id == claimant_id:
        raise NotAllowed(ClaimRefusal.OWN)
    if any(c.claimant_id == claimant_id and c.status is ClaimStatus.DECLINED for c in earlier):
        raise NotAllowed(ClaimRefusal.DECLINED_BEFORE)
    if item.pending_claim_id is not None:
        raise NotAllowed(ClaimRefusal.PENDING)


def reminder_due(item: Item, now: datetime) -> bool:
    return item.is_open and item.reminded_at is None and now >= item.expires_at - REMIND_BEFORE


def expired(item: Item, now: datetime) -> bool:
    return item.is_open and now >= item.expires_at


def extended(item: Item, now: datetime) -> datetime:
    """The new expiry when the reporter extends: 30 days from now (never earlier than before)."""
    return max(item.expires_at, now + EXPIRY)


class DayError(StrEnum):
    UNREADABLE = "unreadable"
    FUTURE = "future"
    TOO_OLD = "too_old"


_ISO = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_DAY = re.compile(r"^(\d{1,2})\s*[日号]$")
_RELATIVE = {
    "今天": 0, "今日": 0, "today": 0,
    "昨天": 1, "昨日": 1, "yesterday": 1,
    "前天": 2,
}  # fmt: skip
OLDEST = timedelta(days=365)


def parse_day(text: str, today: date) -> date | DayError:
    """A day as residents write it: 今天/昨天/前天, 2026-09-12, 9月12日, 9/12, 12号."""
    raw = text.strip().lower().replace("．", ".")
    if raw in _RELATIVE:
        return today - timedelta(days=_RELATIVE[raw])
    try:
        if m := _ISO.match(raw):
            day = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := _MONTH_DAY.match(raw):
            day = date(today.year, int(m[1]), int(m[2]))
            if day - today > timedelta(days=183):  # "12月30日" written on 2 January: last year
                day = day.replace(year=today.year - 1)
        elif m := _DAY.match(raw):
            day = today.replace(day=int(m[1]))
            if day > today:
                month = today.month - 1 or 12
                day = day.replace(year=today.year - (month == 12), month=month)
        else:
            return DayError.UNREADABLE
    except ValueError:
        return DayError.UNREADABLE
    if day > today:
        return DayError.FUTURE
    if today - day > OLDEST:
        return DayError.TOO_OLD
    return day
