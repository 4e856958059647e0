"""A parent router that hands a button press, or a message, only to the children that can take it.

aiogram tries an update on every child in turn, each with its own layer of middleware wrapping
and its handlers' filters: a press of the form's buttons (handlers/wizard.py, near the end) went
through sixteen feature routers first, and the text a form asks for through the commands of
every one of them — a fifth of the bot's CPU for such an update (issue 24). `Index` keeps, for
each child, what its handlers can take, read from their filters once the tree is built:

- a callback handler with a `CallbackData` filter takes only data that starts with its prefix;
- a message handler with a `Command` filter takes only a text or caption whose first character
  (after blanks, as aiogram reads it) is one of the command's prefixes.

A child none of whose handlers can take the update is skipped. A child with a handler that may
take anything of the kind (no such filter), or with filters or outer middlewares of its own on
that kind of update (they run whether a handler takes it or not), is always tried. The children
keep their order, so the same handler answers as without the index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

Marks = frozenset[tuple[str, str]]  # what a child's handlers need: (separator, prefix) of a press,
# ("", prefix character) of a command
Reader = Callable[[HandlerObject], Marks | None]


def _press_marks(handler: HandlerObject) -> Marks | None:
    for check in handler.filters or ():
        if isinstance(check.callback, CallbackQueryFilter):
            data = check.callback.callback_data
            return frozenset({(data.__separator__, data.__prefix__)})
    return None


def _command_marks(handler: HandlerObject) -> Marks | None:
    for check in handler.filters or ():
        if isinstance(check.callback, Command):
            return frozenset(("", prefix) for prefix in check.callback.prefix)
    return None


READERS: dict[str, Reader] = {"callback_query": _press_marks, "message": _command_marks}


def _marks_of(event: TelegramObject, separators: frozenset[str]) -> Marks:
    """What the update offers the children's filters."""
    if isinstance(event, CallbackQuery):
        data = event.data or ""
        return frozenset((s, data.split(s, 1)[0]) for s in separators) if data else frozenset()
    if isinstance(event, Message):
        text = (event.text or event.caption or "").lstrip()
        return frozenset({("", text[0])}) if text else frozenset()
    return frozenset()


class Index(Router):
    def __init__(self, *, name: str) -> None:
        super().__init__(name=name)
        self._takers: dict[str, list[tuple[Router, Marks | None]]] = {}
        self._separators: dict[str, frozenset[str]] = {}

    def index(self) -> None:
        """Read the children's handlers (once the tree is built)."""
        for update_type, reader in READERS.items():
            if self.observers[update_type].handlers:
                continue  # this router's own handlers come first: no index for that kind
            takers = [
                (child, marks_below(child, update_type, reader)) for child in self.sub_routers
            ]
            self._takers[update_type] = takers
            self._separators[update_type] = frozenset(
                separator for _child, marks in takers for separator, _ in marks or ()
            )

    def takers(self, update_type: str, event: TelegramObject) -> list[Router]:
        """The children that may take this update, in order."""
        offered = _marks_of(event, self._separators[update_type])
        return [
            child
            for child, marks in self._takers[update_type]
            if marks is None or not marks.isdisjoint(offered)
        ]

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        if update_type not in self._takers or observer is None:
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        # As aiogram's own: this router's filters first (it has no handlers of this kind).
        passed, data = await observer.check_root_filters(event, **kwargs)
        if not passed:
            return UNHANDLED
        kwargs.update(data)
        for child in self.takers(update_type, event):
            response = await child.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                return response
        return UNHANDLED


def marks_below(router: Router, update_type: str, reader: Reader) -> Marks | None:
    """What every handler of one kind below the router needs (None: one may take anything, so
    the router must always be tried)."""
    found: set[tuple[str, str]] = set()
    for sub in router.chain_tail:
        observer = sub.observers[update_type]
        if observer._handler.filters or observer.outer_middleware._middlewares:
            return None
        for handler in observer.handlers:
            marks = reader(handler)
            if marks is None:
                return None
            found |= marks
    return frozenset(found)
