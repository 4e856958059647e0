"""A notice in a residents group as it reads now: its text, and its button while one still leads
somewhere (a found item still open, an activity with places left)."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup


@dataclass(frozen=True, slots=True)
class NoticeView:
    text: str
    markup: InlineKeyboardMarkup | None = None
