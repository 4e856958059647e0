"""Reading the flats of compounds from a TOML or CSV file into plain flat specs.

Errors name the file and the line (CSV) or key (TOML), so a community office can fix the file
itself. (To be written: see the helper's task.)"""

from __future__ import annotations

from dataclasses import dataclass


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
