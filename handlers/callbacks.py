"""Typed callback data. Short prefixes: Telegram allows 64 bytes. Every handler re-checks the actor
and the current state in the database, so a stale or forged button changes nothing."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.domain.inputs import Id
from bot.domain.org import StaffRole
from bot.domain.people import ChatPurpose


class LanguageCb(CallbackData, prefix="lg"):
    code: str


class PickCb(CallbackData, prefix="pk"):
    """Browse the tree while choosing a home compound; unit_id 0 is the top list."""

    unit_id: Id


class ProfileAction(StrEnum):
    COMPOUND = "c"
    LANGUAGE = "l"


class ProfileCb(CallbackData, prefix="pf"):
    action: ProfileAction


class InviteAction(StrEnum):
    BROWSE = "b"
    MAKE = "m"


class InviteCb(CallbackData, prefix="iv"):
    action: InviteAction
    unit_id: Id
    role: StaffRole | None = None


class BindCb(CallbackData, prefix="bd"):
    purpose: ChatPurpose
    unit_id: Id
