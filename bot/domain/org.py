"""The organisation tree: unit kinds, levels, and who may act where."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class UnitKind(StrEnum):
    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMUNITY = "community"
    COMPOUND = "compound"
    PARTY_BRANCH = "party_branch"
    OWNERS_COMMITTEE = "owners_committee"
    PROPERTY_COMPANY = "property_company"


WINGS: tuple[UnitKind, ...] = (
    UnitKind.PARTY_BRANCH,
    UnitKind.OWNERS_COMMITTEE,
    UnitKind.PROPERTY_COMPANY,
)

# Which kind of unit may sit directly below which: district → sub-district → community → compound
# → its wings ("one core, two wings", 一核两翼).
ALLOWED_PARENT: dict[UnitKind, UnitKind | None] = {
    UnitKind.DISTRICT: None,
    UnitKind.SUBDISTRICT: UnitKind.DISTRICT,
    UnitKind.COMMUNITY: UnitKind.SUBDISTRICT,
    UnitKind.COMPOUND: UnitKind.COMMUNITY,
    UnitKind.PARTY_BRANCH: UnitKind.COMPOUND,
    UnitKind.OWNERS_COMMITTEE: UnitKind.COMPOUND,
    UnitKind.PROPERTY_COMPANY: UnitKind.COMPOUND,
}


class StaffRole(StrEnum):
    SECRETARY = "secretary"
    OFFICER = "officer"


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    kind: UnitKind
    name: str
    name_en: str
    parent_id: int | None
    path: str  # "/1/4/9/": ids from the root down to this unit, for subtree queries
    lat: float | None = None
    lon: float | None = None
    radius_m: int | None = None

    @property
    def ancestor_ids(self) -> tuple[int, ...]:
        """Ids from the root down to the parent (not this unit)."""
        return tuple(int(part) for part in self.path.strip("/").split("/")[:-1] if part)

    def display_name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


def make_path(parent_path: str | None, unit_id: int) -> str:
    """The materialised path of a unit below a parent."""
    return f"{parent_path or '/'}{unit_id}/"


def is_within(unit: Unit, ancestor_id: int) -> bool:
    """True when ancestor_id is the unit itself or one of its ancestors."""
    return f"/{ancestor_id}/" in unit.path


def may_invite(*, is_admin: bool, staff_unit_ids: Iterable[int], target: Unit) -> bool:
    """An admin may invite to any unit; staff only to units strictly below their own."""
    if is_admin:
        return True
    return any(uid in target.ancestor_ids for uid in staff_unit_ids)


def may_act_on(*, is_admin: bool, staff_unit_ids: Iterable[int], target: Unit) -> bool:
    """Staff act on their own unit and everything below it; admins everywhere."""
    return is_admin or any(is_within(target, uid) for uid in staff_unit_ids)


def compound_of(unit: Unit, units_by_id: dict[int, Unit]) -> Unit | None:
    """The compound a unit belongs to (itself if it is one), if any."""
    for uid in (*unit.ancestor_ids, unit.id):
        candidate = units_by_id.get(uid)
        if candidate is not None and candidate.kind is UnitKind.COMPOUND:
            return candidate
    return None


def matches_query(unit: Unit, query: str) -> bool:
    """Typed search: every whitespace-separated part of the query occurs in a name."""
    parts = [part.casefold() for part in query.split() if part]
    haystack = f"{unit.name} {unit.name_en}".casefold()
    return bool(parts) and all(part in haystack for part in parts)


def sort_units(units: Sequence[Unit]) -> list[Unit]:
    """Stable, human order: by name."""
    return sorted(units, key=lambda unit: (unit.name, unit.id))


def may_bind_residents(*, is_admin: bool, staff_units: Iterable[Unit], compound: Unit) -> bool:
    """A compound's residents group is bound by its own staff (any wing) or staff above it."""
    if compound.kind is not UnitKind.COMPOUND:
        return False
    return is_admin or any(
        is_within(compound, unit.id) or is_within(unit, compound.id) for unit in staff_units
    )


def may_bind_alerts(*, is_admin: bool, staff_unit_ids: Iterable[int], unit: Unit) -> bool:
    """A unit's alert group is bound by that unit's own staff (or an admin)."""
    return is_admin or unit.id in set(staff_unit_ids)
