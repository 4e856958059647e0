"""Every user-visible string has a Chinese translation; locales resolve the way users' phones send them."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, resolve_locale
from tests.harness import ROOT

KEYWORDS = {"_": None, "__": None, "t": None, "gettext": None}
PLACEHOLDER = re.compile(r"{\w*}")


def source_messages() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def catalog(lang: str) -> dict[str, str]:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {
            m.id: m.string
            for m in read_po(f)
            if m.id and isinstance(m.id, str) and isinstance(m.string, str)
        }


def test_every_string_in_the_code_has_a_chinese_translation() -> None:
    zh = catalog("zh")
    missing = sorted(m for m in source_messages() if not zh.get(m))
    assert not missing, f"untranslated (run `make locales` and translate): {missing}"


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in catalog("zh").items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_compiled_catalogs_match_their_sources(lang: str) -> None:
    folder = LOCALES_DIR / lang / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as f:
        po = read_po(f)
    compiled = BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    expected = {m.id: m.string for m in read_mo(compiled) if m.id}
    with (folder / "messages.mo").open("rb") as f:
        actual = {m.id: m.string for m in read_mo(f) if m.id}
    assert actual == expected, "messages.mo is stale: run `make locales`"


@pytest.mark.parametrize(
    ("saved", "code", "expected"),
    [
        (None, "zh-hans", "zh"),
        (None, "zh-CN", "zh"),
        (None, "zh_TW", "zh"),
        (None, "en-GB", "en"),
        (None, "en", "en"),
        (None, "", "zh"),
        (None, None, "zh"),
        (None, "fr", "zh"),
        (None, "-", "zh"),
        ("en", "zh-hans", "en"),
        ("zh", "en-US", "zh"),
        ("xx", "en", "en"),
    ],
)
def test_locale_resolution(saved: str | None, code: str | None, expected: str) -> None:
    assert resolve_locale(saved, code, "zh") == expected


def test_catalog_files_exist() -> None:
    for lang in ("zh", "en"):
        assert Path(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.mo").is_file()
