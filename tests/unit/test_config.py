"""Configuration: defaults, the example file, and errors that name the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, config_path, load_config
from bot.domain.complaints import DEFAULT_RULES, Category
from tests.harness import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_loads() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.bot.timezone == "Asia/Shanghai"
    assert config.bot.default_language == "zh"
    assert config.telegram.mode == "polling"
    rules = config.complaints.rules
    assert str(rules[Category.SAFETY_HAZARD].sign_for) == "0:30:00"
    assert rules[Category.NOISE] == DEFAULT_RULES[Category.NOISE]  # unset: the design's default


def test_relative_paths_are_taken_from_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[database]\nurl = "sqlite+aiosqlite:///data/x.db"\n'))
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'data/x.db'}"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[telegram]\nmode = "pollng"\n', "telegram.mode = 'pollng'"),
        ('[bot]\ntimezone = "Mars/Base"\n', "bot.timezone = 'Mars/Base'"),
        (
            '[complaints.categories.noise]\nsign_for = "2 hours"\n',
            "complaints.categories.noise.sign_for = '2 hours': expected a duration",
        ),
        (
            '[complaints.categories.nois]\nsign_for = "2h"\n',
            "complaints.categories.nois",
        ),
        ('[bot]\ndefault_language = "fr"\n', "bot.default_language = 'fr'"),
        ('[bot]\nadmins = ["x"]\n', "bot.admins.0 = 'x'"),
        ('[bot]\ntimezon = "Asia/Shanghai"\n', "bot.timezon: unknown key"),
        ('[telegram]\ntoken = "nocolon"\n', "telegram.token = 'nocolon'"),
        ('[telegram]\napi_base = "ftp://x"\n', "telegram.api_base = 'ftp://x'"),
        ("[bot\n", "not valid TOML"),
        ('[database]\nurl = "mysql://x/y"\n', "database.url = 'mysql://x/y': expected sqlite"),
        ("[database]\npool_size = 0\n", "database.pool_size = 0"),
        ('[telegram]\nwebhook_secret = "a b"\n', "telegram.webhook_secret = 'a b': expected 1-256"),
        ('[fsm]\nstorage = "memory"\n', "fsm.storage = 'memory'"),
        ('[fsm]\nredis_url = "127.0.0.1:6379"\n', "fsm.redis_url = '127.0.0.1:6379'"),
        ('[monitoring]\nlisten = "9108"\n', "monitoring.listen = '9108': expected host:port"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert named in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_the_path_comes_from_the_flag_then_the_environment() -> None:
    assert config_path("a.toml", {"LASTMETER_CONFIG": "b.toml"}) == Path("a.toml")
    assert config_path(None, {"LASTMETER_CONFIG": "b.toml"}) == Path("b.toml")
    assert config_path(None, {}) is None
