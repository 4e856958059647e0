"""Locale resolution: the user's saved choice, else their Telegram language's prefix, else the default.

aiogram's SimpleI18nMiddleware maps `zh-hans` to the default and fails on odd codes, hence our own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.config import LANGUAGES
from bot.domain.people import Actor

LOCALES_DIR = Path(__file__).parent / "locales"


def resolve_locale(saved: str | None, language_code: str | None, default: str) -> str:
    """`zh-hans`, `zh-CN`, `zh_TW` → zh; `en-GB` → en; empty, odd or unknown codes → the default."""
    if saved in LANGUAGES:
        return saved
    prefix = (language_code or "").strip().replace("_", "-").split("-", 1)[0].lower()
    return prefix if prefix in LANGUAGES else default


def build_i18n(default: str) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default, domain="messages")


class ActorLocaleMiddleware(I18nMiddleware):
    """Uses the locale the actor middleware resolved; group chats without an actor get the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        actor = data.get("actor")
        if isinstance(actor, Actor):
            return actor.locale
        return self.i18n.default_locale
