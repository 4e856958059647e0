"""五星小区 in process (issue 23, in progress): the monthly sweep evaluates last month once per
compound by the criteria in force; `/stars` shows a community's compounds and a compound's card, in
Chinese and in English; a resident, and a month that cannot be read, are answered politely."""

from __future__ import annotations

from pathlib import Path

from bot.services import stars
from storage import tables
from storage.units import UnitRepo
from tests.inproc.harness import Harness, Person

ROOT = Path(__file__).resolve().parents[2]
WEN = Person(4301, "温书记", "zh")  # 西湖社区
TOM = Person(4302, "Tom", "en")  # 西湖社区 too, in English
AUNT = Person(4303, "王阿姨", "zh")  # a resident


async def criteria_from_february(h: Harness, tmp: Path) -> None:
    """The example criteria, as a version that applies from February 2026 (the harness's clock
    stands in March)."""
    text = (ROOT / "stars.example.toml").read_text(encoding="utf-8")
    path = tmp / "stars.toml"
    path.write_text(text.replace('version = "2026-12"', 'version = "2026-02"'), encoding="utf-8")
    assert (
        await stars.load_criteria(h.db, path, h.clock, h.config) == "version 2026-02 from 2026-02"
    )


async def test_the_month_is_evaluated_once_and_shown_to_the_community(
    h: Harness, tmp_path: Path
) -> None:
    wen = await h.staff(WEN, "xihu")
    before = await wen.command("stars")
    assert "还没有评定过任何月份" in before.text, before.text
    await criteria_from_february(h, tmp_path)
    await h.sweep(stars.sweep)
    await h.sweep(stars.sweep)
    async with h.db.read() as s:
        compounds = await UnitRepo(s).compounds_in("/", limit=1000)
    assert await h.count(tables.star_runs) == len(compounds)  # once each, however many sweeps

    board = await wen.command("stars")
    assert "⭐ 五星小区 · 西湖社区 · 2026-02" in board.text, board.text
    assert "西湖左岸小区" in board.text and "西湖家园" in board.text
    assert "春秋花园" not in board.text  # another community's
    assert "五星小区：2 个中 0 个（0%）" in board.text and "全区 2024 年目标：60%" in board.text
    card = await wen.press("0★ 西湖家园")
    assert "⭐ 西湖家园 · 2026-02：0 星" in card.text, card.text
    assert "评定标准 2026-02（示例）" in card.text
    assert "✗ 党群服务中心“六有”: 无数据 [≥ 1]" in card.text
    assert "✗ 每百户报到党员: 0.0 (0/24) [≥ 3]" in card.text
    assert "✓ 重复诉求（件）: 0 [≤ 2]" in card.text
    assert "⬜ 便民服务星" in card.text
    back = await wen.press("« 全部小区")
    assert "西湖左岸小区" in back.text

    tom = await h.staff(TOM, "xihu")
    english = await tom.command("stars", "2026-02")
    assert "Five-star compounds: 0 of 2 (0%)" in english.text, english.text
    card = await tom.press("0★ Xihu Jiayuan")
    assert "Party-service centre meets the 六有 standard: no data" in card.text, card.text


async def test_a_resident_and_an_unreadable_month_are_answered(h: Harness) -> None:
    aunt = await h.resident(AUNT)
    refused = await aunt.command("stars")
    assert "工作人员" in refused.text, refused.text
    wen = await h.staff(WEN, "xihu")
    odd = await wen.command("stars", "2026-13")
    assert "请写月份，例如 2026-11" in odd.text
