"""Every button's callback data names its class by a prefix of its own: two classes sharing one
would each try to read the other's buttons."""

from __future__ import annotations

from collections import Counter

from aiogram.filters.callback_data import CallbackData

import handlers
from handlers import build_root_router


def every_class(base: type[CallbackData]) -> list[type[CallbackData]]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *every_class(sub)]
    return found


def test_each_callback_prefix_belongs_to_one_class() -> None:
    build_root_router()  # imports every feature's module, and the services they use
    assert handlers is not None
    prefixes = Counter(cls.__prefix__ for cls in every_class(CallbackData))
    assert prefixes and all(count == 1 for count in prefixes.values()), prefixes
