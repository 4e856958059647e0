"""aiogram's inline keyboard builder without its deep copies.

`KeyboardBuilder.export` deep-copies every button, and `add` (so `button`) exports the whole
keyboard each time: a keyboard of n buttons costs n² pydantic deep copies, about a seventh of a
conversation step's CPU (issue 24). Buttons are never changed once made here, so the rows are
copied and the buttons shared.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils import keyboard


class InlineKeyboardBuilder(keyboard.InlineKeyboardBuilder):
    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]
