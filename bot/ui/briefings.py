"""How the scheduled briefings read: the morning digest with its buttons, and the weekly chart's
labels and caption."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.charts import WeeklyChart
from bot.domain.complaints import Category
from bot.domain.org import Unit
from bot.domain.oversight import BOARD_KEYS, DONE, Digest, WeekData
from bot.ui.complaints import category_name, local, unit_name
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.oversight import OversightAction, OversightCb, lamp, percent

LISTED = 5  # tickets listed per section of the digest
BUTTONS = 8


# ---------------------------------------------------------------------------------------------
# The morning digest


def digest_text(
    unit: Unit,
    found: Digest,
    below: int,
    units: dict[int, Unit],
    now: datetime,
    zone: ZoneInfo,
    locale: str,
) -> str:
    lines = [
        _("☀️ <b>Good morning · {unit}</b>", locale=locale).format(
            unit=html.quote(unit.display_name(locale))
        )
    ]
    sections = (
        (_("🔴 Overdue", locale=locale), found.overdue),
        (_("↩️ Returned to you: please re-assign", locale=locale), found.returned),
        (_("⏰ Due today", locale=locale), found.due_today),
        (_("🆕 New since yesterday", locale=locale), found.new),
    )
    for heading, tickets in sections:
        if not tickets:
            continue
        lines += ["", f"<b>{heading}</b> ({len(tickets)})"]
        for t in tickets[:LISTED]:
            due = local(t.due_at, zone) if t.due_at else "—"
            lines.append(
                f"{lamp(t, now)} {t.number} · {category_name(t.category, locale)} · "
                f"{unit_name(units, t.compound_id, locale)} · "
                + _("due {due}", locale=locale).format(due=due)
            )
        if len(tickets) > LISTED:
            lines.append(_("… and {count} more", locale=locale).format(count=len(tickets) - LISTED))
    if below > 0:
        lines += [
            "",
            _("🔴 Overdue in the units below you: {count}", locale=locale).format(count=below),
        ]
    lines += ["", _("All open tickets: /queue · figures: /stats", locale=locale)]
    return "\n".join(lines)


def digest_keyboard(found: Digest, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    listed = [
        *found.overdue[:LISTED],
        *found.returned[:LISTED],
        *found.due_today[:LISTED],
        *found.new[:LISTED],
    ]
    for t in listed[:BUTTONS]:
        builder.button(
            text=t.number, callback_data=OversightCb(action=OversightAction.CARD, id=t.id)
        )
    builder.button(
        text=_("📋 All open tickets", locale=locale),
        callback_data=OversightCb(action=OversightAction.QUEUE),
    )
    builder.adjust(2)
    return builder.as_markup()


# ---------------------------------------------------------------------------------------------
# The weekly chart


def chart_of(data: WeekData, locale: str) -> WeeklyChart:
    categories = [c for c in Category if any(data.board.get((c, k), 0) for k in BOARD_KEYS)]
    labels = {
        "red": _("Overdue", locale=locale),
        "blue": _("Nearly due", locale=locale),
        "green": _("On time", locale=locale),
        DONE: _("Done", locale=locale),
    }
    return WeeklyChart(
        title=_("{unit} · week of {start} to {end}", locale=locale).format(
            unit=data.unit.display_name(locale),
            start=f"{data.week.start:%m-%d}",
            end=f"{data.week.last:%m-%d}",
        ),
        categories=tuple(category_name(c, locale) for c in categories),
        stacks=tuple(
            (labels[k], k, tuple(data.board.get((c, k), 0) for c in categories)) for k in BOARD_KEYS
        ),
        units=tuple(child.display_name(locale) for child, _card in data.children),
        rates=tuple(
            (card.response.value, card.resolution.value, card.satisfaction.value)
            for _child, card in data.children
        ),
        rate_labels=(
            _("Response rate", locale=locale),
            _("Resolution rate", locale=locale),
            _("Satisfaction rate", locale=locale),
        ),
        panel_titles=(
            _("Tickets reported, by category and light", locale=locale),
            _("The three rates of each unit", locale=locale),
        ),
        empty_text=_("No data this week", locale=locale),
    )


def chart_caption(data: WeekData, locale: str) -> str:
    reported = sum(data.board.values())
    return _(
        "📈 <b>{unit}</b>, last week ({start} to {end}): {count} tickets reported; response "
        "{response} · resolution {resolution} · satisfaction {satisfaction}. Details: /stats",
        locale=locale,
    ).format(
        unit=html.quote(data.unit.display_name(locale)),
        start=f"{data.week.start:%m-%d}",
        end=f"{data.week.last:%m-%d}",
        count=reported,
        response=percent(data.total.response),
        resolution=percent(data.total.resolution),
        satisfaction=percent(data.total.satisfaction),
    )
