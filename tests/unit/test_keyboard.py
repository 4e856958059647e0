"""bot/ui/keyboard.py: `row()` starts a row of its own, and the builder never changes lists it was
given."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton

from bot.ui.keyboard import InlineKeyboardBuilder


def labels(builder: InlineKeyboardBuilder) -> list[list[str]]:
    return [[b.text for b in row] for row in builder.as_markup().inline_keyboard]


def test_row_without_buttons_puts_the_next_button_below() -> None:
    builder = InlineKeyboardBuilder()
    for n in range(3):
        builder.button(text=str(n), callback_data=f"c{n}")
    builder.adjust(2)
    builder.row()
    builder.row()  # twice: still one new row, and no empty one
    builder.button(text="« Back", callback_data="back")
    builder.button(text="✖ Cancel", callback_data="cancel")
    assert labels(builder) == [["0", "1"], ["2"], ["« Back", "✖ Cancel"]]


def test_a_row_fills_up_to_eight_and_a_trailing_row_call_adds_nothing() -> None:
    builder = InlineKeyboardBuilder()
    for n in range(10):
        builder.button(text=str(n), callback_data=f"c{n}")
    builder.row()
    assert [len(row) for row in labels(builder)] == [8, 2]


def test_the_markup_given_is_not_changed() -> None:
    given = [[InlineKeyboardButton(text="a", callback_data="a")]]
    builder = InlineKeyboardBuilder(markup=given)
    builder.button(text="b", callback_data="b")
    builder.row()
    builder.button(text="c", callback_data="c")
    assert labels(builder) == [["a", "b"], ["c"]]
    assert [[b.text for b in row] for row in given] == [["a"]]
