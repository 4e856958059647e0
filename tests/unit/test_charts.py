"""The weekly chart renders Chinese with the shipped font, on any machine, in any thread."""

from __future__ import annotations

import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from fontTools.ttLib import TTFont

from bot import charts
from bot.charts import WeeklyChart, font_path, render_weekly
from tests.harness import ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

CHINESE = WeeklyChart(
    title="西湖社区 · 11月16日—11月22日",
    categories=("物业维修", "环境卫生", "乱堆乱放"),
    stacks=(
        ("红色督办", "red", (2, 0, 1)),
        ("蓝色提醒", "blue", (3, 1, 0)),
        ("绿色正常", "green", (5, 4, 2)),
        ("已办结", "done", (7, 3, 2)),
    ),
    units=("西湖左岸小区", "春秋花园"),
    rates=((0.85, 0.6, None), (1.0, None, 0.925)),
    rate_labels=("响应率", "解决率", "满意率"),
    panel_titles=("本周诉求分类（件）", "各单位三率（％）"),
    empty_text="本周无数据",
)

ENGLISH = WeeklyChart(
    title="West Lake community · 16–22 Nov",
    categories=("Repairs", "Sanitation", "Clutter"),
    stacks=(("Red", "red", (1, 2, 3)), ("Done", "done", (4, 0, 1))),
    units=("West Lake Left Bank", "Spring Autumn Garden"),
    rates=((0.5, None, 1.0), (None, None, 0.0)),
    rate_labels=("Response", "Resolution", "Satisfaction"),
    panel_titles=("Complaints by category", "Unit rates"),
    empty_text="No data this week",
)

EMPTY = WeeklyChart(
    title="西湖社区 · 11月16日—11月22日",
    categories=(),
    stacks=(),
    units=(),
    rates=(),
    rate_labels=("响应率", "解决率", "满意率"),
    panel_titles=("本周诉求分类（件）", "各单位三率（％）"),
    empty_text="本周无数据",
)


def render_quietly(chart: WeeklyChart) -> tuple[bytes, list[str]]:
    """Render, returning the PNG and every warning raised while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_weekly(chart)
    return png, [str(w.message) for w in caught]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    assert png[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("chart", [CHINESE, ENGLISH], ids=["chinese", "english"])
def test_renders_a_png_without_missing_glyphs(chart: WeeklyChart) -> None:
    png, messages = render_quietly(chart)
    assert png.startswith(PNG_SIGNATURE)
    assert 20_000 < len(png) < 300_000
    assert png_size(png)[0] == 1200
    assert not [m for m in messages if "missing from font" in m], messages
    if chart is CHINESE:
        (ROOT / "artifacts").mkdir(exist_ok=True)
        (ROOT / "artifacts" / "weekly-chart-unit.png").write_bytes(png)


def test_the_shipped_font_alone_covers_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a fresh machine: no system Noto to fall back on.
    charts.font_families()  # registers the shipped font before the list is narrowed
    monkeypatch.setattr(charts, "_families", (charts.FONT_FAMILY, "DejaVu Sans"))
    _, messages = render_quietly(CHINESE)
    assert not [m for m in messages if "missing from font" in m], messages


def test_the_glyph_check_would_catch_a_font_without_hanzi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_families", ("DejaVu Sans",))
    _, messages = render_quietly(CHINESE)
    assert [m for m in messages if "missing from font" in m]


def test_empty_week_renders_the_empty_text_in_both_panels() -> None:
    png, messages = render_quietly(EMPTY)
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (1200, 900)
    assert not [m for m in messages if "missing from font" in m], messages


def test_thirty_units_make_a_taller_image() -> None:
    units = tuple(f"第{i}网格翠苑小区" for i in range(1, 31))
    chart = replace(CHINESE, units=units, rates=tuple((i / 30, None, 0.5) for i in range(30)))
    png, _ = render_quietly(chart)
    width, height = png_size(png)
    assert width == 1200 and height > 1500
    assert len(png) < 300_000


def test_renders_in_worker_threads_alike() -> None:
    expected = render_weekly(CHINESE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render_weekly, [CHINESE] * 4))
    assert all(png == expected for png in results)


def test_inconsistent_data_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown key"):
        replace(EMPTY, categories=("a",), stacks=(("x", "pink", (1,)),))
    with pytest.raises(ValueError, match="counts"):
        replace(EMPTY, categories=("a",), stacks=(("x", "red", (1, 2)),))
    with pytest.raises(ValueError, match="must lie in"):
        replace(EMPTY, units=("u",), rates=((1.5, None, None),))


def test_shipped_font_covers_the_product_text() -> None:
    path = font_path()
    assert path.is_file()
    font = TTFont(path, lazy=True)
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in "西湖率％「」·—…→%A"), "subset lost a needed character"
    assert font["name"].getDebugName(1) == "LastMeter Sans SC"
    assert (path.parent / "OFL.txt").is_file()


STARS = charts.StarsChart(
    title="五星小区 · 西湖社区 · 2026-02",
    star_labels=("党建引领星", "便民服务星", "文明风尚星", "和谐稳定星", "美丽宜居星"),
    compounds=("西湖左岸小区", "西湖家园", "春秋花园"),
    stars=((True,) * 5, (True, False, True, False, False), (False,) * 5),
    months=("2026-01", "2026-02"),
    shares=(None, 1 / 3),
    target=0.6,
    target_label="全区目标 60%",
    share_label="五星小区占比",
    panel_titles=("本月各小区星级", "五星小区占比（％）"),
    empty_text="尚无评定",
)


def test_the_stars_chart_renders_chinese_and_grows_with_the_compounds() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.render_stars(STARS)
    assert not [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert png.startswith(PNG_SIGNATURE) and png_size(png)[0] == 1200
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "stars-chart-unit.png").write_bytes(png)
    many = replace(
        STARS,
        compounds=tuple(f"第{i}小区" for i in range(30)),
        stars=tuple((i % 2 == 0,) * 5 for i in range(30)),
    )
    assert png_size(charts.render_stars(many))[1] > png_size(png)[1]
    empty = replace(STARS, compounds=(), stars=(), months=(), shares=())
    assert charts.render_stars(empty).startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="every compound"):
        replace(STARS, stars=())
