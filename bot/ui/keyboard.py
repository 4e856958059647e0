"""aiogram's inline keyboard builder, with rows that start where the code says, and without its
deep copies.

- `row()` with no buttons starts a new row: the next button goes below, not beside, the last one.
  aiogram's does nothing then, so "« Back" and "✖ Cancel" sat in the row of the last choice, a
  finger's width from it (on a slow phone, the wrong one is pressed).
- `KeyboardBuilder.export` deep-copies every button, and `add` (so `button`) exports the whole
  keyboard each time: a keyboard of n buttons cost n² pydantic deep copies, about a seventh of a
  conversation step's CPU (issue 24). Buttons are never changed once made here, so the rows are
  copied and the buttons shared.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils import keyboard


class InlineKeyboardBuilder(keyboard.InlineKeyboardBuilder):
    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup if row]

    def add(self, *buttons: InlineKeyboardButton) -> InlineKeyboardBuilder:
        self._validate_buttons(*buttons)
        # New lists, never the ones given (a markup passed in, another builder's rows).
        rows = self._markup = list(self._markup)
        if rows and len(rows[-1]) < self.max_width:  # the last row first, as far as it takes
            room = self.max_width - len(rows[-1])
            rows[-1] = [*rows[-1], *buttons[:room]]
            buttons = buttons[room:]
        while buttons:
            rows.append(list(buttons[: self.max_width]))
            buttons = buttons[self.max_width :]
        return self

    def row(
        self, *buttons: InlineKeyboardButton, width: int | None = None
    ) -> InlineKeyboardBuilder:
        if not buttons:
            if not self._markup or self._markup[-1]:
                self._markup = [*self._markup, []]  # the next button starts it
            return self
        super().row(*buttons, width=width)
        return self
