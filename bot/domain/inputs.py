"""What people type or tap, read strictly: ids, numbers and coordinates, range-checked before
they go near the database (SQLite and PostgreSQL integers hold 64 bits; Python's do not stop)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

# Above every id the bot gives (tickets, units, items) and below 64 bits; Telegram's own ids
# (users, chats) stay within 52 bits too.
MAX_ID = 2**53 - 1
ASCII_NUMBER = re.compile(r"[0-9]{1,16}")  # str.isdigit() also takes "²" and "١٢"

# A database id in callback data: a forged "9223372036854775808" fails to unpack (a stale button).
Id = Annotated[int, Field(ge=0, le=MAX_ID)]


def parse_id(text: str) -> int | None:
    """A positive id written in ASCII digits, else None."""
    if not ASCII_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def parse_number(text: str, low: int, high: int) -> int | None:
    """A whole number in [low, high] written in ASCII digits (spaces around allowed), else None."""
    text = text.strip()
    if not ASCII_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def valid_location(latitude: float, longitude: float) -> bool:
    """A point on the globe (Telegram clients send nothing else; a forged update might)."""
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0
