"""Households, the fifth level of the organisation (党群中心户): the flats of a compound, the
residents who claim one (confirmed by the flat's household contact or the branch), who votes for
a household, and the household contacts who look after a building or a stairwell.

Pure rules only: what a typed address means, who may confirm a claim, who represents a flat.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_PART = 16  # a building, stairwell or flat number, as the flats file may write it
MAX_NAME = 64  # the name of a resident without Telegram, as a proxy writes it
MANY_FLATS = 40  # a stairwell with more flats than this is chosen floor by floor


class Tenure(StrEnum):
    OWNER = "owner"  # 业主
    FAMILY = "family"  # 业主家属: lives with the owner
    TENANT = "tenant"  # 租户


class ResidentStatus(StrEnum):
    PENDING = "pending"  # waiting for the household contact or the branch
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the person claimed another flat before this one was decided
    LEFT = "left"  # moved out (or confirmed in another flat)


LIVE = (ResidentStatus.PENDING, ResidentStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Address:
    """Where a flat is in its compound: building (楼), stairwell (单元; "" for none), number."""

    building: str
    unit: str
    number: str

    @property
    def short(self) -> str:
        """ "3-2-501" (or "3-501" without a stairwell): how people type it."""
        return "-".join(part for part in (self.building, self.unit, self.number) if part)

    def label(self, locale: str) -> str:
        """ "3号楼2单元501" · "Bldg 3, unit 2, flat 501"."""
        if locale == "en":
            parts = [f"Bldg {self.building}"]
            if self.unit:
                parts.append(f"unit {self.unit}")
            parts.append(f"flat {self.number}")
            return ", ".join(parts)
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building}号楼{unit}{self.number}"


@dataclass(frozen=True, slots=True)
class Flat:
    id: int
    compound_id: int
    address: Address
    floor: int | None = None
    area_m2: float | None = None
    representative_id: int | None = None  # the residents row that votes for the household


@dataclass(frozen=True, slots=True)
class Resident:
    id: int
    flat_id: int
    user_id: int | None  # None: a resident without Telegram, recorded by a proxy
    name: str
    tenure: Tenure
    status: ResidentStatus
    created_at: datetime
    reason: str = ""
    recorded_by: int | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return self.status is ResidentStatus.CONFIRMED

    @property
    def live(self) -> bool:
        return self.status in LIVE


@dataclass(frozen=True, slots=True)
class Contact:
    """A household contact's charge: a building, or one stairwell of it."""

    id: int
    compound_id: int
    user_id: int
    building: str
    unit: str  # "" for the whole building

    def covers(self, flat: Flat) -> bool:
        return (
            flat.compound_id == self.compound_id
            and flat.address.building == self.building
            and (not self.unit or flat.address.unit == self.unit)
        )

    def area(self, locale: str) -> str:
        """ "3号楼2单元" · "Bldg 3, unit 2"."""
        if locale == "en":
            return f"Bldg {self.building}" + (f", unit {self.unit}" if self.unit else "")
        return f"{self.building}号楼" + (f"{self.unit}单元" if self.unit else "")


# --- typed addresses -------------------------------------------------------------------------

_WORDS = re.compile(
    r"(号楼|号樓|栋|棟|幢|座|楼|樓|单元|單元|门|室|号|户|"
    r"\b(?:building|bldg|block|blk|unit|stair(?:well)?|entrance|flat|apt|apartment|room|no)\b\.?)",
    re.IGNORECASE,
)
_PARTS = re.compile(r"[0-9A-Za-z]+|[东西南北中]")  # 东单元: a stairwell by its side


def parse_address(text: str) -> tuple[str, ...] | None:
    """The parts of a typed address, building first: "3-2-501", "3号楼2单元501", "3栋2单元501室",
    "Building 3 unit 2 flat 501" give ("3", "2", "501"); "3-501" gives ("3", "501"). None when it
    is not two or three short parts of letters and digits."""
    plain = unicodedata.normalize("NFKC", text).strip()
    if not plain or len(plain) > 60:
        return None
    parts = _PARTS.findall(_WORDS.sub(" ", plain))
    if not 2 <= len(parts) <= 3 or any(len(part) > MAX_PART for part in parts):
        return None
    return tuple(part.upper() for part in parts)


def find_flat(flats: Iterable[Flat], parts: Sequence[str]) -> Flat | None:
    """The one flat the parts of a typed address name (letters in any case): with two parts, the
    building and the number, if only one stairwell of that building has that number."""
    wanted = [part.upper() for part in parts]
    found: list[Flat] = []
    for flat in flats:
        a = flat.address
        if len(wanted) == 3:
            if [a.building.upper(), a.unit.upper(), a.number.upper()] == wanted:
                return flat
        elif [a.building.upper(), a.number.upper()] == wanted:
            found.append(flat)
    return found[0] if len(found) == 1 else None


def floor_of(number: str) -> int | None:
    """The floor a flat number is on, by the usual numbering (501: 5, 1203: 12)."""
    digits = number.lstrip("0")
    if not number.isdigit() or len(digits) < 3:
        return None
    return int(digits[:-2])


def natural(text: str) -> tuple[tuple[int, str], ...]:
    """A sort key that puts 2 before 10 and 2A before 2B."""
    return tuple(
        (int(chunk), "") if chunk.isdigit() else (1 << 30, chunk)
        for chunk in re.findall(r"\d+|\D+", text)
    )


# --- who represents a household ---------------------------------------------------------------


def representative(flat: Flat, residents: Sequence[Resident]) -> Resident | None:
    """Who votes for the flat: the one the household chose while they are confirmed there; else
    the first confirmed owner, else the first confirmed resident (none: nobody yet)."""
    confirmed = sorted((r for r in residents if r.confirmed), key=lambda r: (r.created_at, r.id))
    chosen = next((r for r in confirmed if r.id == flat.representative_id), None)
    if chosen is not None:
        return chosen
    owners = [r for r in confirmed if r.tenure is Tenure.OWNER]
    found = owners or confirmed
    return found[0] if found else None


def may_choose_representative(
    actor_id: int, residents: Sequence[Resident], current: Resident | None
) -> bool:
    """The household changes its representative through the present one (or, while there is
    none, any confirmed member); staff and contacts do it through their own screens."""
    if current is not None:
        return current.user_id == actor_id
    return any(r.confirmed and r.user_id == actor_id for r in residents)


def contacts_of(flat: Flat, contacts: Iterable[Contact]) -> list[Contact]:
    """The household contacts who look after a flat (a stairwell's before its building's)."""
    return sorted((c for c in contacts if c.covers(flat)), key=lambda c: (not c.unit, c.id))


def coverage(flats: int, covered: int) -> float | None:
    """The share of a compound's flats with a confirmed resident (None: no flats known)."""
    return covered / flats if flats else None


class HouseholdRefusal(StrEnum):
    NO_FLATS = "no_flats"  # the compound's flats are not on record
    ALREADY_THERE = "already_there"  # confirmed in that flat already
    WAITING = "waiting"  # a claim for that flat waits already
    DECIDED = "decided"  # a claim decided meanwhile
    NOT_CONFIRMER = "not_confirmer"  # neither the flat's contact nor the branch
    NOT_REPRESENTATIVE = "not_representative"
    NOT_RESIDENT = "not_resident"  # not confirmed in that flat
    NOT_CONTACT = "not_contact"  # households' screens: for contacts and the branch
    LINK_UNKNOWN = "link_unknown"
    LINK_USED = "link_used"
    LINK_EXPIRED = "link_expired"


def may_confirm(
    actor_id: int, flat: Flat, contacts: Iterable[Contact], *, manages_compound: bool
) -> bool:
    """A claim is confirmed by a household contact of its flat, or by the compound's branch (or
    the units above it that manage it)."""
    return manages_compound or any(c.user_id == actor_id and c.covers(flat) for c in contacts)
