"""Reading the organisation tree from a TOML or CSV file into plain unit specs.

Errors name the file and the line (CSV) or key (TOML), so a district office can fix the file itself.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain.org import ALLOWED_PARENT, WINGS, UnitKind

WING_EN = {
    UnitKind.PARTY_BRANCH: "party branch",
    UnitKind.OWNERS_COMMITTEE: "owners' committee",
    UnitKind.PROPERTY_COMPANY: "property company",
}
CSV_COLUMNS = ("code", "parent", "kind", "name", "name_en", "lat", "lon", "radius_m")


class OrgFileError(Exception):
    """A problem in an organisation file, naming where it is."""


@dataclass(frozen=True, slots=True)
class UnitSpec:
    code: str
    parent_code: str | None
    kind: UnitKind
    name: str
    name_en: str = ""
    lat: float | None = None
    lon: float | None = None
    radius_m: int | None = None


def read_org_file(path: Path) -> list[UnitSpec]:
    """Parse a .toml or .csv organisation file, parents before children."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise OrgFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise OrgFileError(f"{path}: cannot be read: {exc}") from exc
    if suffix == ".toml":
        specs = _from_toml(path, text)
    elif suffix == ".csv":
        specs = _from_csv(path, text)
    else:
        raise OrgFileError(f"{path}: expected a .toml or .csv file")
    _check_tree(path, specs)
    return specs


def _text(path: Path, where: str, table: dict[str, Any], key: str, *, required: bool) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise OrgFileError(f"{path}: {where}.{key}: expected text, got {value!r}")
    value = value.strip()
    if required and not value:
        raise OrgFileError(f"{path}: {where}.{key}: missing")
    return value


def _number(path: Path, where: str, table: dict[str, Any], key: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OrgFileError(f"{path}: {where}.{key}: expected a number, got {value!r}")
    return float(value)


def _from_toml(path: Path, text: str) -> list[UnitSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OrgFileError(f"{path}: not valid TOML: {exc}") from exc
    district = data.get("district")
    if not isinstance(district, dict):
        raise OrgFileError(f"{path}: district: missing table [district]")
    specs: list[UnitSpec] = []

    def add(where: str, table: dict[str, Any], kind: UnitKind, parent: str | None) -> str:
        known = {"code", "name", "name_en", "subdistricts", "communities", "compounds"}
        known |= {"lat", "lon", "radius_m"} | {w.value for w in WINGS} | {f"{w}_en" for w in WINGS}
        for key in table:
            if key not in known:
                raise OrgFileError(f"{path}: {where}.{key}: unknown key")
        code = _text(path, where, table, "code", required=True)
        radius = _number(path, where, table, "radius_m")
        specs.append(
            UnitSpec(
                code=code,
                parent_code=parent,
                kind=kind,
                name=_text(path, where, table, "name", required=True),
                name_en=_text(path, where, table, "name_en", required=False),
                lat=_number(path, where, table, "lat"),
                lon=_number(path, where, table, "lon"),
                radius_m=int(radius) if radius is not None else None,
            )
        )
        return code

    def children(where: str, table: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        items = table.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise OrgFileError(f"{path}: {where}.{key}: expected an array of tables [[...]]")
        return [(f"{where}.{key}[{n}]", item) for n, item in enumerate(items)]

    root = add("district", district, UnitKind.DISTRICT, None)
    for where_s, sub in children("district", district, "subdistricts"):
        sub_code = add(where_s, sub, UnitKind.SUBDISTRICT, root)
        for where_c, com in children(where_s, sub, "communities"):
            com_code = add(where_c, com, UnitKind.COMMUNITY, sub_code)
            for where_p, cpd in children(where_c, com, "compounds"):
                cpd_code = add(where_p, cpd, UnitKind.COMPOUND, com_code)
                cpd_en = _text(path, where_p, cpd, "name_en", required=False)
                for wing in WINGS:
                    name = _text(path, where_p, cpd, wing.value, required=False)
                    if name:
                        default_en = f"{cpd_en} {WING_EN[wing]}" if cpd_en else ""
                        name_en = _text(path, where_p, cpd, f"{wing}_en", required=False)
                        specs.append(
                            UnitSpec(
                                code=f"{cpd_code}.{wing.value}",
                                parent_code=cpd_code,
                                kind=wing,
                                name=name,
                                name_en=name_en or default_en,
                            )
                        )
    return specs


def _from_csv(path: Path, text: str) -> list[UnitSpec]:
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != list(CSV_COLUMNS):
        raise OrgFileError(f"{path}: line 1: expected the header {','.join(CSV_COLUMNS)}")
    specs: list[UnitSpec] = []
    for row in reader:
        line = reader.line_num
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            kind = UnitKind(values["kind"])
        except ValueError:
            allowed = ", ".join(k.value for k in UnitKind)
            raise OrgFileError(
                f"{path}: line {line}: kind {values['kind']!r} is not one of {allowed}"
            ) from None
        if not values["code"] or not values["name"]:
            raise OrgFileError(f"{path}: line {line}: code and name are required")
        try:
            lat = float(values["lat"]) if values["lat"] else None
            lon = float(values["lon"]) if values["lon"] else None
            radius = int(values["radius_m"]) if values["radius_m"] else None
        except ValueError:
            raise OrgFileError(
                f"{path}: line {line}: lat, lon and radius_m must be numbers"
            ) from None
        specs.append(
            UnitSpec(
                code=values["code"],
                parent_code=values["parent"] or None,
                kind=kind,
                name=values["name"],
                name_en=values["name_en"],
                lat=lat,
                lon=lon,
                radius_m=radius,
            )
        )
    return specs


def _check_tree(path: Path, specs: list[UnitSpec]) -> None:
    """Codes are unique, parents come first and have the right kind."""
    kinds: dict[str, UnitKind] = {}
    for number, spec in enumerate(specs, start=1):
        where = f"unit {spec.code!r} (entry {number})"
        if spec.code in kinds:
            raise OrgFileError(f"{path}: {where}: code used twice")
        expected = ALLOWED_PARENT[spec.kind]
        if spec.parent_code is None:
            if expected is not None:
                raise OrgFileError(f"{path}: {where}: a {spec.kind} needs a parent {expected}")
        else:
            parent_kind = kinds.get(spec.parent_code)
            if parent_kind is None:
                raise OrgFileError(
                    f"{path}: {where}: parent {spec.parent_code!r} is not defined above it"
                )
            if parent_kind is not expected:
                raise OrgFileError(
                    f"{path}: {where}: a {spec.kind} cannot sit below a {parent_kind}"
                )
        if spec.lat is not None and not -90 <= spec.lat <= 90:
            raise OrgFileError(f"{path}: {where}: lat {spec.lat} is out of range")
        if spec.lon is not None and not -180 <= spec.lon <= 180:
            raise OrgFileError(f"{path}: {where}: lon {spec.lon} is out of range")
        kinds[spec.code] = spec.kind
    if not specs:
        raise OrgFileError(f"{path}: no units")
