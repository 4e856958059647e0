"""The one renderer of refusals: every reason of every refusal enum has words, in each language."""

from __future__ import annotations

from enum import StrEnum

import pytest

from bot.config import LANGUAGES
from bot.domain.errors import NotAllowed, Reason, Refused
from bot.domain.party import Refusal
from bot.i18n import build_i18n
from handlers.refusals import TEXTS, refusal_text

FALLBACK = "That cannot be done now."
REASONS: list[StrEnum] = [reason for enum in TEXTS for reason in enum]


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("reason", REASONS, ids=lambda r: f"{type(r).__name__}.{r.name}")
def test_every_reason_has_words(language: str, reason: StrEnum) -> None:
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale(language):
        text = refusal_text(Refused(reason))
        fallback = refusal_text(Refused(_Unknown.WHAT))
    assert text.strip()
    assert text != fallback
    assert "{" not in text  # a missing fact reads as a dash, never as a placeholder


def test_each_enum_has_a_text_for_each_member() -> None:
    i18n = build_i18n("en")
    with i18n.context():
        for enum, texts in TEXTS.items():
            assert set(texts()) == set(enum), enum.__name__


def test_the_facts_fill_the_text_in_chinese() -> None:
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("zh"):
        text = refusal_text(Refused(Refusal.OUTSIDE, distance=900, radius=300))
        moved = refusal_text(NotAllowed(Reason.TICKET_MOVED, "XH-0001"))
    assert "900" in text and "300" in text
    assert moved == "这条诉求在按钮显示后已有变化，没有做任何更改。"


def test_an_unknown_reason_has_the_general_words() -> None:
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        assert refusal_text(Refused(_Unknown.WHAT)) == FALLBACK


class _Unknown(StrEnum):
    WHAT = "what"
