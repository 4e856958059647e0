"""The command line: a bad config file, no token, import-org, import-flats and migrate; the demo
restarted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.demo_process import Demo, free_port
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


async def test_import_flats_updates_in_place_and_a_wrong_file_writes_nothing(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/flats.db"\n', encoding="utf-8"
    )
    code, _, _ = await run_cli(
        "import-org", str(ROOT / "org.example.toml"), "--config", str(config)
    )
    assert code == 0
    flats = str(ROOT / "flats.example.toml")
    code, out, _ = await run_cli("import-flats", flats, "--config", str(config))
    assert code == 0 and "176 new, 0 updated" in out, out
    code, out, _ = await run_cli("import-flats", flats, "--config", str(config))
    assert code == 0 and "0 new, 0 updated" in out, out

    changed = tmp_path / "flats.csv"
    changed.write_text(
        "compound,building,unit,number,area_m2\n"
        "xihu-zuoan,3,2,501,92.5\n"  # a new area for a flat on record
        "xihu-zuoan,9,,101,\n",  # a new building
        encoding="utf-8",
    )
    code, out, _ = await run_cli("import-flats", str(changed), "--config", str(config))
    assert code == 0 and "1 new, 1 updated" in out, out

    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        '[[compound]]\ncode = "xihu-zuoan"\n[[compound.building]]\nname = "7"\nfloors = 2\n'
        'per_floor = 1\n[[compound]]\ncode = "nowhere"\n[[compound.building]]\nname = "1"\n'
        "floors = 1\nper_floor = 1\n",
        encoding="utf-8",
    )
    code, _, err = await run_cli("import-flats", str(wrong), "--config", str(config))
    assert code == 2 and "wrong.toml: compound[1]: 'nowhere' is not a compound" in err, err
    right = tmp_path / "right.toml"
    right.write_text(wrong.read_text("utf-8").split('[[compound]]\ncode = "nowhere"')[0], "utf-8")
    code, out, _ = await run_cli("import-flats", str(right), "--config", str(config))
    assert code == 0 and "2 new, 0 updated" in out, out  # building 7 was not written before
    bad = tmp_path / "bad.csv"
    bad.write_text("compound,building,unit,number,area_m2\nxihu-zuoan,3,2,5-01,\n", "utf-8")
    code, _, err = await run_cli("import-flats", str(bad), "--config", str(config))
    assert code == 2 and "bad.csv: line 2: number" in err, err


async def test_import_campaigns_from_a_file_checks_every_entry(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/c.db"\n', encoding="utf-8"
    )
    code, _, _ = await run_cli(
        "import-org", str(ROOT / "org.example.toml"), "--config", str(config)
    )
    assert code == 0
    entry = 'title = "清脏治乱"\ntext = "请清理楼道杂物。"\nscope = "xihu"\nuntil = "2099-12-31"\n'
    good = tmp_path / "good.toml"
    good.write_text(f'[[campaign]]\n{entry}schedule = "每周六 09:00"\n', encoding="utf-8")
    code, out, _ = await run_cli("import-campaigns", str(good), "--config", str(config))
    assert code == 0 and "imported 1 campaign" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'[[campaign]]\n{entry}schedule = "每周六 09:00"\n\n[[campaign]]\n{entry}'
        'schedule = "每周八 9点"\n',
        encoding="utf-8",
    )
    code, _, err = await run_cli("import-campaigns", str(bad), "--config", str(config))
    assert code == 2 and "bad.toml, campaign 2: schedule" in err and "每周六 09:00" in err, err
    nowhere = tmp_path / "nowhere.toml"
    nowhere.write_text(
        f'[[campaign]]\n{entry.replace("xihu", "atlantis")}schedule = "每天 08:00"\n',
        encoding="utf-8",
    )
    code, _, err = await run_cli("import-campaigns", str(nowhere), "--config", str(config))
    assert code == 2 and "no unit with code 'atlantis'" in err, err
    # All or nothing: the bad file's first (good) entry was not kept.
    from storage.campaigns import CampaignRepo
    from storage.db import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/c.db")
    try:
        async with db.read() as s:
            assert len(await CampaignRepo(s).in_scopes(["/"])) == 1
    finally:
        await db.close()


async def test_the_demo_starts_again_on_its_data_and_answers(tmp_path: Path) -> None:
    """Stopped and started again (no --reset): the bot answers, the chats and the moved clock are
    as they were, and the new updates are numbered after the ones the bot has."""
    demo = Demo(tmp_path / "demo", free_port(), tmp_path / "demo.log")
    async with aiohttp.ClientSession(base_url=demo.url) as http:
        await demo.start()
        try:
            said, answer = await start_in_the_demo(http)
            async with http.post("/test/clock", json={"seconds": 3600}) as response:
                assert (await response.json())["offset_seconds"] == 3600
        finally:
            assert await demo.stop() == 0, demo.output()[-3000:]

        await demo.start()
        try:
            async with http.get("/test/clock") as response:
                assert (await response.json())["offset_seconds"] == 3600
            async with http.get("/test/messages", params={"chat_id": 1001}) as response:
                kept = [m["message_id"] for m in await response.json()]
            assert said["message"]["message_id"] in kept and answer["message_id"] in kept
            said_again, answer_again = await start_in_the_demo(http)
            assert said_again["update_id"] > said["update_id"]
            assert said_again["message"]["message_id"] > answer["message_id"]  # the chat goes on
            assert answer_again["text"] == answer["text"]
            await demo.kill()  # a crash: the sandbox's state is not saved this time

            await demo.start()
            said_after_crash, _ = await start_in_the_demo(http)  # numbered after the inbox's
            assert said_after_crash["update_id"] > said_again["update_id"]
        finally:
            assert await demo.stop() in (0, -9), demo.output()[-3000:]
    assert "Traceback" not in demo.output(), demo.output()[-3000:]


async def test_a_demo_that_cannot_start_fails_its_test_with_its_log(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo = Demo(tmp_path / "demo", int(taken.getsockname()[1]), tmp_path / "demo.log")
        with pytest.raises(AssertionError, match="the demo exited with 1") as failed:
            await demo.start()
    assert "address already in use" in str(failed.value).lower(), failed.value


async def start_in_the_demo(http: aiohttp.ClientSession) -> tuple[dict[str, Any], dict[str, Any]]:
    """李阿姨 (the demo's resident) sends /start: what the sandbox took, and the bot's answer."""
    resident = {"id": 1001, "first_name": "李阿姨", "language_code": "zh-hans"}
    async with http.get("/test/events") as response:
        after = (await response.json())["last"]
    async with http.post("/test/message", json={"user": resident, "text": "/start"}) as response:
        said: dict[str, Any] = await response.json()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        query = {"after": after, "timeout": 10, "chat_id": 1001}
        async with http.get("/test/events", params=query) as response:
            events = (await response.json())["events"]
        for event in events:
            if event["type"] == "send":
                return said, event["message"]
            after = event["seq"]
    raise AssertionError("the demo's bot did not answer /start")
