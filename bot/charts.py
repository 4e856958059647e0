"""The weekly oversight chart as PNG bytes: pure drawing, no bot, no database, no pyplot.

Every call builds its own `Figure` on an Agg canvas and every text element gets explicit font
properties, so renders share no mutable matplotlib state and can run in worker threads.
Chinese text uses the shipped subset of Noto Sans CJK SC (`bot/assets/fonts`), so a fresh
machine without any CJK system font still draws glyphs, not boxes. matplotlib is imported on the
first drawing, not with the bot: it would add 0.4 s to every start and 40 MB to every process.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

FONT_FILE = Path(__file__).resolve().parent / "assets" / "fonts" / "LastMeterSansSC-Regular.otf"
FONT_FAMILY = "LastMeter Sans SC"
# An installed Noto covers rare hanzi outside the GB2312 subset; DejaVu (bundled with
# matplotlib) covers symbols Noto lacks, such as thin spaces.
FALLBACK_FAMILIES = (FONT_FAMILY, "Noto Sans CJK SC", "DejaVu Sans")
STACK_COLOURS = {"red": "#d62728", "blue": "#1f77b4", "green": "#2ca02c", "done": "#9e9e9e"}
# Kept apart from the stack colours so a rate bar is never read as a red/blue/green count.
RATE_COLOURS = ("#4e79a7", "#f28e2b", "#8e6bbf")
MISSING = "—"
WIDTH_IN = 12.0
DPI = 100
HEIGHT_MIN_IN = 9.0
TITLE_IN = 0.9
COUNTS_MIN_IN = 4.0
UNIT_IN = 0.42  # three bars and their labels per unit stay legible up to ~30 units
RATES_MARGIN_IN = 1.2  # panel title, legend and the percent axis
MIN_UNIT_SLOTS = 3
ROTATE_CATEGORIES_OVER = 8

_font_lock = threading.Lock()
_families: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class WeeklyChart:
    """What the weekly chart shows, already localized; `render_weekly` only draws it.

    A panel shows `empty_text` instead when it has nothing to draw: no category counted anything,
    or no unit has any of the three rates.
    """

    title: str
    categories: tuple[str, ...]
    stacks: tuple[tuple[str, str, tuple[int, ...]], ...]  # (legend label, colour key, counts)
    units: tuple[str, ...]
    rates: tuple[tuple[float | None, float | None, float | None], ...]  # 0..1, None = no data
    rate_labels: tuple[str, str, str]
    panel_titles: tuple[str, str]
    empty_text: str

    def __post_init__(self) -> None:
        for label, key, counts in self.stacks:
            if key not in STACK_COLOURS:
                raise ValueError(f"stack {label!r}: unknown key {key!r}")
            if len(counts) != len(self.categories):
                raise ValueError(
                    f"stack {label!r}: {len(counts)} counts for {len(self.categories)} categories"
                )
            if any(n < 0 for n in counts):
                raise ValueError(f"stack {label!r}: negative count")
        if len(self.rates) != len(self.units):
            raise ValueError(f"{len(self.rates)} rate rows for {len(self.units)} units")
        if any(r is not None and not 0 <= r <= 1 for row in self.rates for r in row):
            raise ValueError("rates must lie in 0..1")


def font_path() -> Path:
    """The shipped CJK font file."""
    return FONT_FILE


def font_families() -> tuple[str, ...]:
    """Register the shipped font once; the fallback families matplotlib can actually find."""
    from matplotlib.font_manager import fontManager

    global _families
    with _font_lock:
        if _families is None:
            known = {entry.name for entry in fontManager.ttflist}
            if FONT_FAMILY not in known:
                fontManager.addfont(FONT_FILE)
                known.add(FONT_FAMILY)
            # Naming an absent family makes matplotlib log "not found" on every text it lays out.
            _families = tuple(f for f in FALLBACK_FAMILIES if f in known)
        return _families


def _font(size: float) -> FontProperties:
    """The shipped font with its fallbacks, at `size` points."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=list(font_families()), size=size)


def render_weekly(chart: WeeklyChart) -> bytes:
    """Draw the chart: counts per category on top, the three rates per unit below; PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = list(font_families())
    # The rates panel grows with the units (the image gets taller); the counts panel takes
    # whatever a short rates panel leaves of the minimum height.
    rates_in = UNIT_IN * max(len(chart.units), MIN_UNIT_SLOTS) + RATES_MARGIN_IN
    counts_in = max(COUNTS_MIN_IN, HEIGHT_MIN_IN - TITLE_IN - rates_in)
    fig = Figure(figsize=(WIDTH_IN, TITLE_IN + counts_in + rates_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself to fig; no pyplot, no global backend switch
    counts_ax, rates_ax = fig.subplots(2, 1, height_ratios=[counts_in, rates_in])
    fig.suptitle(chart.title, fontproperties=_font(16))
    for ax, panel_title in zip((counts_ax, rates_ax), chart.panel_titles, strict=True):
        ax.set_title(panel_title, loc="left", fontproperties=_font(13))
        ax.tick_params(labelfontfamily=families, labelsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    _draw_counts(counts_ax, chart)
    _draw_rates(rates_ax, chart)
    out = BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _draw_counts(ax: Axes, chart: WeeklyChart) -> None:
    from matplotlib.ticker import MaxNLocator

    """Stacked bars per category with the total above each bar."""
    totals = [sum(col) for col in zip(*(counts for _, _, counts in chart.stacks), strict=True)]
    if not chart.categories or not any(totals):
        _draw_empty(ax, chart.empty_text)
        return
    xs = range(len(chart.categories))
    bottoms = [0] * len(chart.categories)
    for label, key, counts in chart.stacks:
        ax.bar(xs, counts, 0.6, bottom=bottoms, label=label, color=STACK_COLOURS[key], zorder=2)
        bottoms = [b + n for b, n in zip(bottoms, counts, strict=True)]
    for x, total in zip(xs, totals, strict=True):
        ax.annotate(
            str(total),
            (x, total),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontproperties=_font(10),
        )
    ax.set_ylim(0, max(totals) * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 complaints
    ax.grid(axis="y", color="#e0e0e0", zorder=0)
    rotate = len(chart.categories) > ROTATE_CATEGORIES_OVER
    ax.set_xticks(
        list(xs),
        chart.categories,
        rotation=30 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
        fontproperties=_font(10),
    )
    _legend(ax, len(chart.stacks))


def _draw_rates(ax: Axes, chart: WeeklyChart) -> None:
    from matplotlib.ticker import PercentFormatter

    """Three horizontal bars per unit, in percent; a missing rate is a dash where its bar would be."""
    if not chart.units or all(r is None for row in chart.rates for r in row):
        _draw_empty(ax, chart.empty_text)
        return
    height = 0.27
    for j, (label, colour) in enumerate(zip(chart.rate_labels, RATE_COLOURS, strict=True)):
        ys = [i + (j - 1) * height for i in range(len(chart.units))]
        values = [row[j] for row in chart.rates]
        widths = [0.0 if v is None else v * 100 for v in values]
        ax.barh(ys, widths, height * 0.92, label=label, color=colour, zorder=2)
        for y, v in zip(ys, values, strict=True):
            text = MISSING if v is None else _percent(v)
            x = 0 if v is None else v * 100
            ink = "#757575" if v is None else "black"
            ax.text(x + 1, y, text, va="center", color=ink, fontproperties=_font(8))
    ax.set_yticks(range(len(chart.units)), chart.units, fontproperties=_font(10))
    # First unit on top, as in a list; with only a unit or two the bars keep their thickness
    # and leave space below instead of swelling to fill the panel.
    ax.set_ylim(max(len(chart.units), MIN_UNIT_SLOTS) - 0.5, -0.5)
    ax.set_xlim(0, 112)  # room for "100%" past the longest bar
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.xaxis.set_major_formatter(PercentFormatter(100))
    ax.grid(axis="x", color="#e0e0e0", zorder=0)
    _legend(ax, 3)


def _percent(rate: float) -> str:
    """0.925 -> "93%": half up, as people round by hand (`round` would give 92%)."""
    return f"{math.floor(rate * 100 + 0.5)}%"


def _draw_empty(ax: Axes, text: str) -> None:
    """A blank panel that says there is nothing this week."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#757575",
        fontproperties=_font(14),
    )


def _legend(ax: Axes, entries: int) -> None:
    """A one-row legend right of the panel title, outside the plot so it never hides a bar."""
    ax.legend(
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=max(entries, 1),
        frameon=False,
        prop=_font(10),
        borderaxespad=0.2,
    )


# --- 五星小区 ---------------------------------------------------------------------------------

STAR_COLOURS = ("#c0392b", "#2e86c1", "#e67e22", "#27ae60", "#8e44ad")  # in the stars' order
STARS_UNIT_IN = 0.38
STARS_TREND_IN = 3.2


@dataclass(frozen=True, slots=True)
class StarsChart:
    """The month's stars of a scope's compounds and the five-star share over recent months,
    already localized; `render_stars` only draws it."""

    title: str
    star_labels: tuple[str, ...]  # the five stars, in order
    compounds: tuple[str, ...]
    stars: tuple[tuple[bool, ...], ...]  # per compound: has each star
    months: tuple[str, ...]  # "2026-02", oldest first
    shares: tuple[float | None, ...]  # the five-star share of each month (None: no run)
    target: float | None
    target_label: str
    share_label: str
    panel_titles: tuple[str, str]
    empty_text: str

    def __post_init__(self) -> None:
        if len(self.stars) != len(self.compounds) or len(self.shares) != len(self.months):
            raise ValueError("every compound needs its stars and every month its share")


def render_stars(chart: StarsChart) -> bytes:
    """Draw the chart: a row of star segments per compound on top, the five-star share by month
    against the target below; PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = list(font_families())
    bars_in = STARS_UNIT_IN * max(len(chart.compounds), MIN_UNIT_SLOTS) + RATES_MARGIN_IN
    fig = Figure(
        figsize=(WIDTH_IN, TITLE_IN + bars_in + STARS_TREND_IN), dpi=DPI, layout="constrained"
    )
    FigureCanvasAgg(fig)
    bars_ax, trend_ax = fig.subplots(2, 1, height_ratios=[bars_in, STARS_TREND_IN])
    fig.suptitle(chart.title, fontproperties=_font(16))
    for ax, panel_title in zip((bars_ax, trend_ax), chart.panel_titles, strict=True):
        ax.set_title(panel_title, loc="left", fontproperties=_font(13))
        ax.tick_params(labelfontfamily=families, labelsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    _draw_stars(bars_ax, chart)
    _draw_trend(trend_ax, chart)
    out = BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _draw_stars(ax: Axes, chart: StarsChart) -> None:
    """One segment per star a compound holds, in the star's colour, with the count at the end."""
    if not chart.compounds:
        _draw_empty(ax, chart.empty_text)
        return
    ys = range(len(chart.compounds))
    for j, (label, colour) in enumerate(zip(chart.star_labels, STAR_COLOURS, strict=True)):
        lefts = [sum(row[:j]) for row in chart.stars]
        widths = [1 if row[j] else 0 for row in chart.stars]
        ax.barh(list(ys), widths, 0.6, left=lefts, label=label, color=colour, zorder=2)
    for y, row in zip(ys, chart.stars, strict=True):
        ax.text(sum(row) + 0.08, y, f"{sum(row)}★", va="center", fontproperties=_font(10))
    ax.set_yticks(list(ys), chart.compounds, fontproperties=_font(10))
    ax.set_ylim(max(len(chart.compounds), MIN_UNIT_SLOTS) - 0.5, -0.5)
    ax.set_xlim(0, len(chart.star_labels) + 0.6)
    ax.set_xticks(range(len(chart.star_labels) + 1))
    ax.grid(axis="x", color="#e0e0e0", zorder=0)
    _legend(ax, len(chart.star_labels))


def _draw_trend(ax: Axes, chart: StarsChart) -> None:
    from matplotlib.ticker import PercentFormatter

    if not chart.months or all(s is None for s in chart.shares):
        _draw_empty(ax, chart.empty_text)
        return
    xs = list(range(len(chart.months)))
    values = [math.nan if s is None else s * 100 for s in chart.shares]
    ax.plot(xs, values, marker="o", color=RATE_COLOURS[0], label=chart.share_label, zorder=3)
    for x, share in zip(xs, chart.shares, strict=True):
        if share is not None:
            ax.annotate(
                _percent(share),
                (x, share * 100),
                xytext=(0, 5),
                textcoords="offset points",
                ha="center",
                fontproperties=_font(9),
            )
    if chart.target is not None:
        ax.axhline(
            chart.target * 100, color=RATE_COLOURS[1], linestyle="--", label=chart.target_label
        )
    ax.set_xticks(xs, chart.months, fontproperties=_font(10))
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(0, 110)
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.grid(axis="y", color="#e0e0e0", zorder=0)
    _legend(ax, 2 if chart.target is not None else 1)
