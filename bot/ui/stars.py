"""五星小区 as staff read it: the board of a scope's compounds in a month and a compound's card
(each star, each indicator's figure against its threshold, the rows behind it, what was gained or
lost since the month before), in the reader's language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.charts import StarsChart
from bot.domain.households import Flat
from bot.domain.inputs import Id
from bot.domain.org import Unit
from bot.domain.stars import (
    PER_100,
    SHARES,
    Board,
    Card,
    Criteria,
    Figure,
    Indicator,
    Objection,
    Run,
    RunStatus,
    Star,
    award,
    changes,
)
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.notices import NoticeView

ROWS_SHOWN = 30
Render = Callable[[str], NoticeView]  # a notice in a language
OBJECTION_PREFIX = "so_"  # the 公示's deep link: /start so_<run id>


class StarsAction(StrEnum):
    BOARD = "b"  # id: the scope unit
    CARD = "c"  # id: a compound
    CONFIRM = "k"  # id: a compound, v: its run's version
    ADJUST = "a"  # id: a compound, v: its run's version
    ENTER = "e"  # id: a compound: this month's entered indicators
    KEEP = "r"  # id: an objection: answer it, the result stands
    UPHOLD = "u"  # id: an objection: answer it, the result goes back for review
    CHART = "g"  # id: the scope unit: the month's chart
    LEDGER = "x"  # id: the scope unit: the year's ledger up to the month


class StarsCb(CallbackData, prefix="st"):
    action: StarsAction
    id: Id
    month: int  # 202612: the month shown
    v: Id = 0  # the run's version, for the review's buttons


def month_code(month: date) -> int:
    return month.year * 100 + month.month


def star_name(star: Star, locale: str | None = None) -> str:
    names = {
        Star.PARTY: _("Party leadership (党建引领星)", locale=locale),
        Star.SERVICE: _("Convenient service (便民服务星)", locale=locale),
        Star.CIVILITY: _("Civility (文明风尚星)", locale=locale),
        Star.HARMONY: _("Harmony and stability (和谐稳定星)", locale=locale),
        Star.LIVABLE: _("Beautiful and livable (美丽宜居星)", locale=locale),
    }
    return names[star]


def _month(month: date, locale: str) -> str:
    return f"{month:%Y-%m}"


def _change(before: frozenset[Star] | None, now: frozenset[Star], locale: str) -> str:
    if before is None:
        return ""
    gained, lost = changes(before, now)
    parts = [f"+{star_name(s, locale)}" for s in gained] + [
        f"−{star_name(s, locale)}" for s in lost
    ]
    return f" ({', '.join(parts)})" if parts else ""


def board_text(board: Board, locale: str) -> str:
    scope = html.quote(board.scope.display_name(locale))
    if board.month is None:
        return "\n".join(
            [
                _("⭐ <b>Five-star compounds</b> · {scope}", locale=locale).format(scope=scope),
                _("No month has been evaluated yet.", locale=locale),
            ]
        )
    lines = [
        _("⭐ <b>Five-star compounds</b> · {scope} · {month}", locale=locale).format(
            scope=scope, month=_month(board.month, locale)
        )
    ]
    for compound, run in board.rows[:ROWS_SHOWN]:
        before = board.previous.get(compound.id)
        lines.append(
            f"{'★' * len(run.stars) or '—'} {html.quote(compound.display_name(locale))}"
            + _change(before.stars if before else None, run.stars, locale)
        )
    five = sum(1 for _c, run in board.rows if len(run.stars) == len(Star))
    share = "—" if board.share is None else f"{board.share:.0%}"
    lines.append(
        _("Five-star compounds: {n} of {total} ({share}).", locale=locale).format(
            n=five, total=len(board.rows), share=share
        )
    )
    if board.target is not None:
        year, target = board.target
        lines.append(
            _("The district's target for {year}: {target}.", locale=locale).format(
                year=year, target=f"{target:.0%}"
            )
        )
    lines.append(_("Awards: {yuan} yuan.", locale=locale).format(yuan=f"{board.award:,}"))
    return "\n".join(lines)


def board_keyboard(board: Board, locale: str) -> InlineKeyboardMarkup | None:
    """A button per compound, to its card (none before a month is evaluated)."""
    if board.month is None or not board.rows:
        return None
    builder = InlineKeyboardBuilder()
    code = month_code(board.month)
    for compound, run in board.rows[:ROWS_SHOWN]:
        builder.button(
            text=f"{len(run.stars)}★ {compound.display_name(locale)}",
            callback_data=StarsCb(action=StarsAction.CARD, id=compound.id, month=code),
        )
    shown = min(len(board.rows), ROWS_SHOWN)
    builder.button(
        text=_("📈 Chart", locale=locale),
        callback_data=StarsCb(action=StarsAction.CHART, id=board.scope.id, month=code),
    )
    builder.button(
        text=_("📒 Ledger (XLSX)", locale=locale),
        callback_data=StarsCb(action=StarsAction.LEDGER, id=board.scope.id, month=code),
    )
    builder.adjust(*([2] * (shown // 2)), *([1] * (shown % 2)), 2)  # compounds, then the two
    return builder.as_markup()


def ledger_caption(scope: Unit, month: date, runs: int, yuan: int, locale: str) -> str:
    return _(
        "📒 Five-star ledger of {scope}, {year}-01 to {month}: {runs} results, awards {yuan} yuan.",
        locale=locale,
    ).format(
        scope=html.quote(scope.display_name(locale)),
        year=month.year,
        month=_month(month, locale),
        runs=runs,
        yuan=f"{yuan:,}",
    )


def chart_caption(scope: Unit, month: date, locale: str) -> str:
    return _("📈 Five-star compounds of {scope}, {month}.", locale=locale).format(
        scope=html.quote(scope.display_name(locale)), month=_month(month, locale)
    )


def stars_chart(
    scope: Unit,
    month: date,
    rows: Sequence[tuple[Unit, Run]],
    months: Sequence[date],
    shares: Sequence[float | None],
    target: float | None,
    locale: str,
) -> StarsChart:
    """What the monthly chart shows, in the reader's language (the stars' short names)."""
    return StarsChart(
        title=_("Five-star compounds · {scope} · {month}", locale=locale).format(
            scope=scope.display_name(locale), month=_month(month, locale)
        ),
        star_labels=tuple(short_star_name(s, locale) for s in Star),
        compounds=tuple(c.display_name(locale) for c, _run in rows),
        stars=tuple(tuple(s in run.stars for s in Star) for _c, run in rows),
        months=tuple(_month(m, locale) for m in months),
        shares=tuple(shares),
        target=target,
        target_label=_("District target {target}", locale=locale).format(
            target=f"{target:.0%}" if target is not None else "—"
        ),
        share_label=_("Share of five-star compounds", locale=locale),
        panel_titles=(
            _("Stars of each compound this month", locale=locale),
            _("Five-star share by month", locale=locale),
        ),
        empty_text=_("No result yet", locale=locale),
    )


def short_star_name(star: Star, locale: str | None = None) -> str:
    names = {
        Star.PARTY: _("Party leadership", locale=locale),
        Star.SERVICE: _("Service", locale=locale),
        Star.CIVILITY: _("Civility", locale=locale),
        Star.HARMONY: _("Harmony", locale=locale),
        Star.LIVABLE: _("Livable", locale=locale),
    }
    return names[star]


def _threshold(indicator: Indicator, locale: str) -> str:
    """ "≥ 75%" for a share (as its figure reads), "≤ 5" otherwise."""

    def shown(bound: float) -> str:
        return f"{bound:.0%}" if indicator.metric in SHARES else f"{bound:g}"

    parts = []
    if indicator.at_least is not None:
        parts.append(f"≥ {shown(indicator.at_least)}")
    if indicator.at_most is not None:
        parts.append(f"≤ {shown(indicator.at_most)}")
    return " ".join(parts)


def _value(indicator: Indicator, figure: Figure, locale: str) -> str:
    """ "83% (5/6)" for a share, "8.3 (2/24)" per 100 flats, "2" for a count."""
    if figure.value is None:
        return _("no data", locale=locale)
    whole = "" if figure.whole is None else f" ({figure.part:g}/{figure.whole:g})"
    if indicator.metric in SHARES:
        return f"{figure.value:.0%}{whole}"
    if indicator.metric in PER_100:
        return f"{figure.value:.1f}{whole}"
    return f"{figure.value:g}"


def card_text(card: Card, locale: str) -> str:
    run, criteria = card.run, card.criteria
    lines = [
        _("⭐ <b>{compound}</b> · {month}: {n} stars", locale=locale).format(
            compound=html.quote(card.compound.display_name(locale)),
            month=_month(run.month, locale),
            n=len(run.stars),
        ),
        _("Criteria {version}{example}; award {yuan} yuan.", locale=locale).format(
            version=criteria.version,
            example=_(" (an example)", locale=locale) if criteria.example else "",
            yuan=f"{card.award:,}",
        ),
    ]
    if card.previous is not None:
        gained, lost = changes(card.previous.stars, run.stars)
        if gained or lost:
            lines.append(
                _("Since the month before: gained {gained}; lost {lost}.", locale=locale).format(
                    gained=", ".join(star_name(s, locale) for s in gained) or "—",
                    lost=", ".join(star_name(s, locale) for s in lost) or "—",
                )
            )
    figures = {key: (figure, passed) for key, _star, figure, passed in card.figures}
    for rule in criteria.stars:
        mark = "✅" if rule.star in run.stars else "⬜"
        lines += ["", f"{mark} <b>{star_name(rule.star, locale)}</b>"]
        for indicator in criteria.of(rule.star):
            figure, passed = figures.get(indicator.key, (Figure(None, 0, None), False))
            name = indicator.name_en if locale == "en" and indicator.name_en else indicator.name
            lines.append(
                f"{'✓' if passed else '✗'} {html.quote(name)}: {_value(indicator, figure, locale)} "
                f"[{_threshold(indicator, locale)}]"
                + (
                    _(" · {n} rows", locale=locale).format(n=len(figure.evidence))
                    if figure.evidence
                    else ""
                )
            )
    if run.stars != run.computed:
        lines += [
            "",
            _("Overridden by the community: {reason}", locale=locale).format(
                reason=html.quote(run.override_reason)
            ),
        ]
    lines += ["", status_line(run, locale), *objections_lines(card.objections, locale)]
    return "\n".join(lines)


def status_line(run: Run, locale: str) -> str:
    if run.status is RunStatus.COMPUTED:
        return _("Status: waiting for the community's review.", locale=locale)
    if run.status is RunStatus.PUBLIC:
        return _("Status: made public (公示) until {day}.", locale=locale).format(
            day=f"{run.public_until:%Y-%m-%d}" if run.public_until else "—"
        )
    return _("Status: final.", locale=locale)


def _stars_list(stars: frozenset[Star], locale: str) -> str:
    return "、".join(star_name(s, locale) for s in Star if s in stars) or "—"


def public_notice(
    compound: Unit, run: Run, previous: Run | None, per_star: int, public_days: float, locale: str
) -> str:
    """The residents group's 公示 of the month's result: the compound, its stars, the award
    (no person, no flat)."""
    lines = [
        _("📢 五星小区 {month}: {compound} — {n} stars", locale=locale).format(
            month=_month(run.month, locale),
            compound=html.quote(compound.display_name(locale)),
            n=len(run.stars),
        ),
        _stars_list(run.stars, locale),
    ]
    if previous is not None:
        gained, lost = changes(previous.stars, run.stars)
        if gained or lost:
            lines.append(
                _("Since the month before: gained {gained}; lost {lost}.", locale=locale).format(
                    gained=", ".join(star_name(s, locale) for s in gained) or "—",
                    lost=", ".join(star_name(s, locale) for s in lost) or "—",
                )
            )
    lines.append(
        _("Award: {yuan} yuan. Made public for {days} days.", locale=locale).format(
            yuan=f"{award(len(run.stars), per_star):,}", days=f"{public_days:g}"
        )
    )
    lines.append(
        _("Residents who see something wrong may object until {day}.", locale=locale).format(
            day=f"{run.public_until:%Y-%m-%d}" if run.public_until else "—"
        )
    )
    return "\n".join(lines)


def notice_view(
    compound: Unit,
    run: Run,
    previous: Run | None,
    per_star: int,
    public_days: float,
    bot_username: str,
    locale: str,
) -> NoticeView:
    """The 公示 as it stands: open to objections (with the button to the private chat), sent
    back to the community, or final (no button)."""
    text = public_notice(compound, run, previous, per_star, public_days, locale)
    if run.status is RunStatus.FINAL:
        return NoticeView(text + "\n" + _("✅ 公示 is over: the result is final.", locale=locale))
    if run.status is RunStatus.COMPUTED:
        return NoticeView(
            text
            + "\n"
            + _(
                "↩️ After an objection, the result is back with the community for a new review.",
                locale=locale,
            )
        )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⚠️ Object (提异议)", locale=locale),
        url=f"https://t.me/{bot_username}?start={OBJECTION_PREFIX}{run.id}",
    )
    return NoticeView(text, builder.as_markup())


def result_in_words(
    compound: Unit,
    run: Run,
    previous: Run | None,
    criteria: Criteria,
    figures: Sequence[tuple[str, Star, Figure, bool]],
    per_star: int,
    locale: str,
) -> str:
    """The branch's result in sentences: the stars, what was gained or lost and why (the
    indicators that failed, with their figures)."""
    lines = [
        _(
            "⭐ {compound} is rated {n} stars for {month}: {stars}. Award: {yuan} yuan.",
            locale=locale,
        ).format(
            compound=html.quote(compound.display_name(locale)),
            n=len(run.stars),
            month=_month(run.month, locale),
            stars=_stars_list(run.stars, locale),
            yuan=f"{award(len(run.stars), per_star):,}",
        )
    ]
    if previous is not None:
        gained, lost = changes(previous.stars, run.stars)
        for star in gained:
            lines.append(_("Gained: {star}.", locale=locale).format(star=star_name(star, locale)))
        by_key = {i.key: i for i in criteria.indicators}
        for star in lost:
            failed = [
                f"{by_key[key].name_en if locale == 'en' and by_key[key].name_en else by_key[key].name}"
                f" {_value(by_key[key], figure, locale)} [{_threshold(by_key[key], locale)}]"
                for key, of, figure, passed in figures
                if of is star and not passed and key in by_key
            ]
            lines.append(
                _("Lost: {star}, because {why}.", locale=locale).format(
                    star=star_name(star, locale), why=html.quote("; ".join(failed)) or "—"
                )
            )
    if run.stars != run.computed:
        lines.append(
            _("The community adjusted the result: {reason}", locale=locale).format(
                reason=html.quote(run.override_reason)
            )
        )
    lines.append(_("Every figure is on /stars.", locale=locale))
    return "\n".join(lines)


def card_keyboard(
    card: Card, scope_id: int, locale: str, *, review: bool = False, enter: bool = False
) -> InlineKeyboardMarkup:
    """Back to the board; for the community, the review of a result not yet reviewed (`review`)
    and entering this month's indicators (`enter`)."""
    builder = InlineKeyboardBuilder()
    code, cid, v = month_code(card.run.month), card.compound.id, card.run.version
    if review:
        builder.button(
            text=_("✅ Confirm and make public", locale=locale),
            callback_data=StarsCb(action=StarsAction.CONFIRM, id=cid, month=code, v=v),
        )
        builder.button(
            text=_("✏️ Adjust, with a reason", locale=locale),
            callback_data=StarsCb(action=StarsAction.ADJUST, id=cid, month=code, v=v),
        )
    if enter:
        builder.button(
            text=_("✍ Enter this month's indicators", locale=locale),
            callback_data=StarsCb(action=StarsAction.ENTER, id=cid, month=code),
        )
    builder.button(
        text=_("« All compounds", locale=locale),
        callback_data=StarsCb(action=StarsAction.BOARD, id=scope_id, month=code),
    )
    builder.adjust(1)
    return builder.as_markup()


# --- objections ----------------------------------------------------------------------------


def _who(name: str, flat: Flat | None, locale: str) -> str:
    where = flat.address.label(locale) if flat else _("flat not confirmed", locale=locale)
    if locale == "en":
        return f"{html.quote(name)} ({html.quote(where)})"
    return f"{html.quote(name)}（{html.quote(where)}）"


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.replace(tzinfo=at.tzinfo or UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def objection_text(
    objection: Objection,
    compound: Unit,
    run: Run,
    name: str,
    flat: Flat | None,
    zone: ZoneInfo,
    locale: str,
) -> str:
    """To the sub-district, privately: who objects, to what, and by when to answer."""
    return "\n".join(
        [
            _(
                "⚠️ Objection #{id} to the five-star result of {compound} for {month} ({n} stars), "
                "from {who}:",
                locale=locale,
            ).format(
                id=objection.id,
                compound=html.quote(compound.display_name(locale)),
                month=_month(run.month, locale),
                n=len(run.stars),
                who=_who(name, flat, locale),
            ),
            html.quote(objection.text),
            _(
                "Please answer by {due}: keep the result, or send it back to the community for a "
                "new review.",
                locale=locale,
            ).format(due=_local(objection.due_at, zone)),
        ]
    )


def answer_keyboard(objection: Objection, run: Run, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    code, oid = month_code(run.month), objection.id
    builder.button(
        text=_("✅ Answer: the result stands", locale=locale),
        callback_data=StarsCb(action=StarsAction.KEEP, id=oid, month=code),
    )
    builder.button(
        text=_("↩️ Answer: back to the community", locale=locale),
        callback_data=StarsCb(action=StarsAction.UPHOLD, id=oid, month=code),
    )
    builder.adjust(1)
    return builder.as_markup()


def answer_to_objector(objection: Objection, compound: Unit, run: Run, locale: str) -> str:
    outcome = (
        _("The result goes back to the community for a new review.", locale=locale)
        if objection.upheld
        else _("The result stands.", locale=locale)
    )
    return "\n".join(
        [
            _(
                "📮 The sub-district answered your objection to the five-star result of "
                "{compound} for {month}:",
                locale=locale,
            ).format(
                compound=html.quote(compound.display_name(locale)), month=_month(run.month, locale)
            ),
            html.quote(objection.answer or ""),
            outcome,
        ]
    )


def sent_back(compound: Unit, run: Run, note: str, locale: str) -> str:
    """To the community: an objection was upheld; the result waits for a new review."""
    return "\n".join(
        [
            _(
                "↩️ The sub-district sent the five-star result of {compound} for {month} back for "
                "a new review, after a resident's objection:",
                locale=locale,
            ).format(
                compound=html.quote(compound.display_name(locale)), month=_month(run.month, locale)
            ),
            html.quote(note),
        ]
    )


def open_card_keyboard(compound: Unit, run: Run, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⭐ Open the result", locale=locale),
        callback_data=StarsCb(action=StarsAction.CARD, id=compound.id, month=month_code(run.month)),
    )
    return builder.as_markup()


def objection_nearly_due(objection: Objection, compound: Unit, zone: ZoneInfo, locale: str) -> str:
    return _(
        "⏳ Objection #{id} ({compound}) is due by {due} and has no answer yet.", locale=locale
    ).format(
        id=objection.id,
        compound=html.quote(compound.display_name(locale)),
        due=_local(objection.due_at, zone),
    )


def objection_overdue(
    objection: Objection,
    compound: Unit,
    run: Run,
    unit: Unit,
    name: str,
    flat: Flat | None,
    zone: ZoneInfo,
    locale: str,
) -> str:
    """To the level above (督办): the late objection, which it may answer itself."""
    return "\n".join(
        [
            _(
                "🔴 Overdue: {unit} has not answered objection #{id} to the five-star result of "
                "{compound} for {month} (due {due}), from {who}:",
                locale=locale,
            ).format(
                unit=html.quote(unit.display_name(locale)),
                id=objection.id,
                compound=html.quote(compound.display_name(locale)),
                month=_month(run.month, locale),
                due=_local(objection.due_at, zone),
                who=_who(name, flat, locale),
            ),
            html.quote(objection.text),
        ]
    )


def objection_chased(objection: Objection, compound: Unit, target: Unit, locale: str) -> str:
    return _(
        "🔴 Objection #{id} ({compound}) is overdue; {unit} has been told (督办).", locale=locale
    ).format(
        id=objection.id,
        compound=html.quote(compound.display_name(locale)),
        unit=html.quote(target.display_name(locale)),
    )


def objections_lines(objections: Sequence[Objection], locale: str) -> list[str]:
    """The card's objections (staff only): each one's text and answer, no names."""
    lines = []
    for o in objections:
        if o.open:
            state = _("no answer yet", locale=locale)
        elif o.upheld:
            state = _("sent back: {answer}", locale=locale).format(
                answer=html.quote(o.answer or "")
            )
        else:
            state = _("result stands: {answer}", locale=locale).format(
                answer=html.quote(o.answer or "")
            )
        lines.append(
            _("⚠️ Objection #{id}: {text} — {state}", locale=locale).format(
                id=o.id, text=html.quote(o.text[:120]), state=state
            )
        )
    return lines
