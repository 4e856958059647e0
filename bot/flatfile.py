"""Reading the flats of compounds from a TOML or CSV file into plain flat specs.

A community office writes the file once per compound, usually by the rule of its buildings
(units × floors × flats per floor) with the odd flat listed apart; the CSV form lists every flat.
Errors name the file and the line (CSV) or key (TOML), so the office can fix the file itself.

    [[compound]]
    code = "xihu-zuoan"
    [[compound.building]]
    name = "3"
    units = 2            # stairwells 1 and 2 (or a list: ["东", "西"]; 0 or absent: none)
    floors = 6
    per_floor = 2        # 101, 102, 201, ... 602
    area_m2 = 89.5
    skip = ["1-401"]     # numbers the rule makes that do not exist ("unit-number" or "number")
    [[compound.building.flat]]
    unit = "2"
    number = "601"
    area_m2 = 126        # overrides the rule's flat, or adds one it does not make
"""

from __future__ import annotations

import csv
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.domain.households import MAX_PART, floor_of

CSV_COLUMNS = ("compound", "building", "unit", "number", "area_m2")
MAX_AREA = 10_000.0
MAX_FLOORS = 200
MAX_PER_FLOOR = 50
MAX_UNITS = 50


class FlatFileError(Exception):
    """A problem in a flats file, naming where it is."""


@dataclass(frozen=True, slots=True)
class FlatSpec:
    """A flat as a flats file lists it."""

    building: str
    unit: str  # the stairwell (单元); "" when the building has none
    number: str
    floor: int | None = None
    area_m2: float | None = None


@dataclass(frozen=True, slots=True)
class CompoundFlats:
    """The flats one compound's entry lists, and where that entry is (for errors)."""

    code: str
    flats: tuple[FlatSpec, ...]
    where: str


def read_flats_file(path: Path) -> list[CompoundFlats]:
    """Parse a .toml or .csv flats file; every address once, every part short and plain."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise FlatFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FlatFileError(f"{path}: cannot be read: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _from_toml(path, text)
    if suffix == ".csv":
        return _from_csv(path, text)
    raise FlatFileError(f"{path}: expected a .toml or .csv file")


def _part(path: Path, where: str, value: object, *, empty: bool = False) -> str:
    """A building, stairwell or flat number: letters and digits, at most MAX_PART of them."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FlatFileError(f"{path}: {where}: expected text, got {value!r}")
    plain = unicodedata.normalize("NFKC", value).strip().upper()
    if not plain:
        if empty:
            return ""
        raise FlatFileError(f"{path}: {where}: missing")
    if len(plain) > MAX_PART or not plain.isalnum():
        raise FlatFileError(
            f"{path}: {where}: {value!r} must be at most {MAX_PART} letters or digits"
        )
    return plain


def _area(path: Path, where: str, value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise FlatFileError(f"{path}: {where}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FlatFileError(f"{path}: {where}: expected a number, got {value!r}")
    if not 0 < value <= MAX_AREA:  # also refuses nan
        raise FlatFileError(f"{path}: {where}: {value} m² is not between 0 and {MAX_AREA:g}")
    return float(value)


def _count(path: Path, where: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FlatFileError(f"{path}: {where}: expected a whole number {low}–{high}, got {value!r}")
    return value


def _keys(path: Path, where: str, table: dict[str, Any], known: set[str]) -> None:
    for key in table:
        if key not in known:
            raise FlatFileError(f"{path}: {where}.{key}: unknown key")


def _tables(path: Path, where: str, table: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = table.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FlatFileError(f"{path}: {where}.{key}: expected an array of tables [[...]]")
    return items


class _Flats:
    """The flats of one compound as they are read, each address once, naming where it was."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.specs: dict[tuple[str, str, str], FlatSpec] = {}
        self.places: dict[tuple[str, str, str], str] = {}

    def add(self, spec: FlatSpec, where: str, *, override: bool = False) -> None:
        key = (spec.building, spec.unit, spec.number)
        if key in self.places and not override:
            raise FlatFileError(
                f"{self.path}: {where}: flat {'-'.join(p for p in key if p)} is already listed "
                f"at {self.places[key]}"
            )
        self.specs[key] = spec
        self.places[key] = where


def _from_toml(path: Path, text: str) -> list[CompoundFlats]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FlatFileError(f"{path}: not valid TOML: {exc}") from exc
    _keys(path, "", data, {"compound"})
    compounds = _tables(path, "", data, "compound")
    if not compounds:
        raise FlatFileError(f"{path}: no [[compound]] entries")
    result: list[CompoundFlats] = []
    seen: dict[str, str] = {}
    for n, table in enumerate(compounds):
        where = f"compound[{n}]"
        _keys(path, where, table, {"code", "building"})
        code = table.get("code")
        if not isinstance(code, str) or not code.strip():
            raise FlatFileError(f"{path}: {where}.code: missing")
        code = code.strip()
        if code in seen:
            raise FlatFileError(f"{path}: {where}.code: {code!r} is already listed at {seen[code]}")
        seen[code] = where
        flats = _Flats(path)
        for b, building in enumerate(_tables(path, where, table, "building")):
            _building(path, f"{where}.building[{b}]", building, flats)
        if not flats.specs:
            raise FlatFileError(f"{path}: {where}: no flats")
        result.append(CompoundFlats(code, tuple(flats.specs.values()), where))
    return result


def _building(path: Path, where: str, table: dict[str, Any], flats: _Flats) -> None:
    rule = {"units", "floors", "per_floor", "area_m2", "skip"}
    _keys(path, where, table, {"name", "flat"} | rule)
    name = _part(path, f"{where}.name", table.get("name", ""))
    units: list[str] = [""]
    raw_units = table.get("units", 0)
    if isinstance(raw_units, list):
        units = [_part(path, f"{where}.units[{i}]", u) for i, u in enumerate(raw_units)]
        if not units or len(units) > MAX_UNITS or len(set(units)) != len(units):
            raise FlatFileError(
                f"{path}: {where}.units: expected 1–{MAX_UNITS} different stairwells"
            )
    elif _count(path, f"{where}.units", raw_units, 0, MAX_UNITS):
        units = [str(u) for u in range(1, raw_units + 1)]
    area = _area(path, f"{where}.area_m2", table.get("area_m2"))
    made = 0
    if "floors" in table or "per_floor" in table:
        floors = _count(path, f"{where}.floors", table.get("floors"), 1, MAX_FLOORS)
        per_floor = _count(path, f"{where}.per_floor", table.get("per_floor"), 1, MAX_PER_FLOOR)
        skip = _skip(path, f"{where}.skip", table.get("skip", []))
        skipped: set[tuple[str, str]] = set()
        for unit in units:
            for floor in range(1, floors + 1):
                for door in range(1, per_floor + 1):
                    number = f"{floor}{door:02d}"
                    hit = {(unit, number), ("", number)} & skip
                    if hit:
                        skipped |= hit
                        continue
                    flats.add(FlatSpec(name, unit, number, floor, area), where)
                    made += 1
        for unit, number in sorted(skip - skipped):
            raise FlatFileError(
                f"{path}: {where}.skip: the rule makes no flat {'-'.join(p for p in (unit, number) if p)}"
            )
    elif "skip" in table:
        raise FlatFileError(f"{path}: {where}.skip: only with floors and per_floor")
    for f, item in enumerate(_tables(path, where, table, "flat")):
        at = f"{where}.flat[{f}]"
        _keys(path, at, item, {"unit", "number", "area_m2", "floor"})
        unit = _part(path, f"{at}.unit", item.get("unit", ""), empty=True)
        if unit not in units:
            raise FlatFileError(f"{path}: {at}.unit: building {name} has no stairwell {unit!r}")
        number = _part(path, f"{at}.number", item.get("number", ""))
        given = item.get("floor")
        on = None if given is None else _count(path, f"{at}.floor", given, -5, MAX_FLOORS)
        spec = FlatSpec(
            name,
            unit,
            number,
            on if on is not None else floor_of(number),
            _area(path, f"{at}.area_m2", item.get("area_m2")),
        )
        old = flats.specs.get((name, unit, number))
        if old is not None and flats.places[(name, unit, number)] == where:
            # the rule made it: the entry corrects it, keeping what it does not say
            spec = replace(
                old,
                area_m2=spec.area_m2 if spec.area_m2 is not None else old.area_m2,
                floor=on if on is not None else old.floor,
            )
            flats.add(spec, at, override=True)
        else:
            flats.add(spec, at)
        made += 1
    if not made:
        raise FlatFileError(f"{path}: {where}: no flats (give floors and per_floor, or [[flat]])")


def _skip(path: Path, where: str, value: object) -> set[tuple[str, str]]:
    if not isinstance(value, list):
        raise FlatFileError(f'{path}: {where}: expected a list such as ["1-401", "1301"]')
    skip: set[tuple[str, str]] = set()
    for i, item in enumerate(value):
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if not isinstance(text, str):
            raise FlatFileError(f"{path}: {where}[{i}]: expected text, got {item!r}")
        unit, _, number = text.rpartition("-")
        skip.add(
            (
                _part(path, f"{where}[{i}]", unit, empty=True),
                _part(path, f"{where}[{i}]", number),
            )
        )
    return skip


def _from_csv(path: Path, text: str) -> list[CompoundFlats]:
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != list(CSV_COLUMNS):
        raise FlatFileError(f"{path}: line 1: expected the header {','.join(CSV_COLUMNS)}")
    by_code: dict[str, _Flats] = {}
    first: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        where = f"line {line}"
        if None in row:
            raise FlatFileError(f"{path}: {where}: more columns than the header")
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        code = values["compound"]
        if not code:
            raise FlatFileError(f"{path}: {where}: compound is required")
        building = _part(path, f"{where}: building", values["building"])
        unit = _part(path, f"{where}: unit", values["unit"], empty=True)
        number = _part(path, f"{where}: number", values["number"])
        area = _area(path, f"{where}: area_m2", values["area_m2"])
        flats = by_code.setdefault(code, _Flats(path))
        first.setdefault(code, line)
        flats.add(FlatSpec(building, unit, number, floor_of(number), area), where)
    if not by_code:
        raise FlatFileError(f"{path}: no flats")
    return [
        CompoundFlats(code, tuple(flats.specs.values()), f"line {first[code]}")
        for code, flats in by_code.items()
    ]
