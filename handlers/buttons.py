"""A parent router that hands a button press only to the children that can take it.

aiogram tries a callback query on every child in turn, each with its own layer of middleware
wrapping and its handlers' filters: a press of the form's buttons (handlers/wizard.py, near the
end) went through sixteen feature routers first, a fifth of the bot's CPU for that update (issue
24). A callback handler with a `CallbackData` filter only takes data that starts with its prefix,
so `ButtonIndex` keeps, for each child, the prefixes of all the callback handlers below it, and
skips the children none of whose prefixes the data has. A child with a callback handler that takes
any data (no `CallbackData` filter), or with filters or outer middlewares on its callback queries
(which run whether a handler takes the press or not), is always tried. The order of the children
is kept, so the same handler answers as without the index.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import TelegramObject

Prefixes = frozenset[tuple[str, str]]  # (separator, prefix) of each CallbackData taken


class ButtonIndex(Router):
    def __init__(self, *, name: str) -> None:
        super().__init__(name=name)
        self._takers: list[tuple[Router, Prefixes | None]] | None = None
        self._separators: frozenset[str] = frozenset()

    def index(self) -> None:
        """Read the children's callback handlers (once the tree is built)."""
        if _acts_on_every_press(self.callback_query) or self.callback_query.handlers:
            self._takers = None  # this router's own handlers and filters come first: no index
            return
        self._takers = [(child, prefixes_below(child)) for child in self.sub_routers]
        self._separators = frozenset(
            separator for _child, prefixes in self._takers for separator, _prefix in prefixes or ()
        )

    def takers(self, data: str | None) -> list[Router]:
        """The children that may take a press with this callback data, in order."""
        assert self._takers is not None
        found = {(separator, (data or "").split(separator, 1)[0]) for separator in self._separators}
        return [
            child
            for child, prefixes in self._takers
            if prefixes is None or (bool(data) and not prefixes.isdisjoint(found))
        ]

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        if update_type != "callback_query" or self._takers is None:
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        for child in self.takers(getattr(event, "data", None)):
            response = await child.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                return response
        return UNHANDLED


def prefixes_below(router: Router) -> Prefixes | None:
    """The prefixes of every callback handler of the router and the routers below it (None:
    one of them may take any data, so the router must always be tried)."""
    found: set[tuple[str, str]] = set()
    for sub in router.chain_tail:
        observer = sub.callback_query
        if _acts_on_every_press(observer):
            return None
        for handler in observer.handlers:
            taken = [
                f.callback
                for f in handler.filters or ()
                if isinstance(f.callback, CallbackQueryFilter)
            ]
            if not taken:
                return None
            data = taken[0].callback_data
            found.add((data.__separator__, data.__prefix__))
    return frozenset(found)


def _acts_on_every_press(observer: TelegramEventObserver) -> bool:
    return bool(observer._handler.filters) or bool(observer.outer_middleware._middlewares)
