"""The command line: a bad config file, no token, import-org and migrate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import ROOT, run_cli

pytestmark = pytest.mark.e2e


async def test_a_bad_config_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[telegram]\ntoken = "1:x"\nmode = "pigeon"\n', encoding="utf-8")
    code, _, err = await run_cli("run", "--config", str(config))
    assert code == 2
    assert "telegram.mode = 'pigeon'" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()  # nothing started


async def test_the_config_path_can_come_from_the_environment(tmp_path: Path) -> None:
    import os

    config = tmp_path / "config.toml"
    config.write_text("[bot]\nworkers = 0\n", encoding="utf-8")
    env_before = os.environ.get("LASTMETER_CONFIG")
    os.environ["LASTMETER_CONFIG"] = str(config)
    try:
        code, _, err = await run_cli("migrate")
    finally:
        if env_before is None:
            del os.environ["LASTMETER_CONFIG"]
        else:
            os.environ["LASTMETER_CONFIG"] = env_before
    assert code == 2 and "bot.workers = 0" in err


async def test_run_without_a_token_points_to_the_demo(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "sqlite+aiosqlite:///bot.db"\n', encoding="utf-8")
    code, _, err = await run_cli("run", "--config", str(config))
    assert code == 2
    assert "No Telegram token" in err and "python -m bot demo" in err


async def test_import_org_twice_never_duplicates(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/org.db"\n', encoding="utf-8"
    )
    org = str(ROOT / "org.example.toml")
    code, out, _ = await run_cli("import-org", org, "--config", str(config))
    assert code == 0 and "31 new, 0 updated" in out
    code, out, _ = await run_cli("import-org", org, "--config", str(config))
    assert code == 0 and "0 new, 31 updated" in out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,parent,kind,name,name_en,lat,lon,radius_m\nx,,town,X,,,,\n", encoding="utf-8"
    )
    code, _, err = await run_cli("import-org", str(bad), "--config", str(config))
    assert code == 2 and "line 2" in err and "bad.csv" in err
