"""How oversight reads: the buttons of /queue, /stats, /export and the digest, the queue with its
lights, the figures of /stats and the caption of the ledgers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _

from bot.domain.complaints import OPEN, Category, Complaint, Light, Status, light
from bot.domain.inputs import Id
from bot.domain.org import Unit
from bot.domain.oversight import HouseholdFigures, Queue, Stats, TopicFigures
from bot.domain.periods import Period
from bot.domain.rates import Rate
from bot.ui.complaints import LIGHTS, category_name, local, status_name, unit_name

CHILDREN_SHOWN = 30


class OversightAction(StrEnum):
    QUEUE = "q"  # unit: the scope (0: the first), id: the page
    CARD = "c"  # id: the ticket
    STATS = "s"  # unit, period
    EXPORT = "x"  # unit, period


class OversightCb(CallbackData, prefix="ov"):
    """A button of /queue, /stats, /export or the digest. Every press re-checks the actor's scope."""

    action: OversightAction
    unit: Id = 0
    id: Id = 0
    period: str = ""  # a Period's code, 20261101-20261121


# ---------------------------------------------------------------------------------------------
# The queue


def lamp(complaint: Complaint, now: datetime) -> str:
    if complaint.due_at is None or complaint.status not in OPEN:
        return "⚪"
    return LIGHTS[light(complaint.window_start, complaint.due_at, now)]


def queue_text(q: Queue, now: datetime, zone: ZoneInfo, locale: str) -> str:
    red, blue, green = q.lights[Light.RED], q.lights[Light.BLUE], q.lights[Light.GREEN]
    lines = [
        _("<b>Open tickets · {unit}</b>", locale=locale).format(
            unit=html.quote(q.scope.display_name(locale))
        ),
        _("🔴 overdue {red} · 🔵 nearly due {blue} · 🟢 on time {green}", locale=locale).format(
            red=red, blue=blue, green=green
        ),
    ]
    if not q.tickets:
        lines.append(_("Nothing open. 👍", locale=locale))
        return "\n".join(lines)
    lines.append("")
    for t in q.tickets:
        due = local(t.due_at, zone) if t.due_at else "—"
        lines.append(
            f"{lamp(t, now)} <b>{t.number}</b> · {category_name(t.category, locale)} · "
            f"{unit_name(q.units, t.compound_id, locale)}\n    "
            + _("{unit} · {status} · due {due}", locale=locale).format(
                unit=unit_name(q.units, t.unit_id, locale),
                status=status_name(t.status, locale),
                due=due,
            )
        )
    if q.pages > 1:
        lines.append(
            _("Page {page} of {pages}", locale=locale).format(page=q.page + 1, pages=q.pages)
        )
    lines.append(_("Tap a ticket to open its card.", locale=locale))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# /stats


def percent(rate: Rate) -> str:
    """A rate in whole percent, halves rounded up as people do (5/8 is 63 %, not 62 %)."""
    value = rate.value
    return "—" if value is None else f"{math.floor(value * 100 + 0.5)}%"


def rate_text(rate: Rate) -> str:
    return f"{percent(rate)} ({rate.hits}/{rate.total})" if rate.total else "—"


def duration_text(span: timedelta | None, locale: str) -> str:
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("{d} d {h} h", locale=locale).format(d=days, h=hours)
    if hours:
        return _("{h} h {m} min", locale=locale).format(h=hours, m=minutes)
    return _("{m} min", locale=locale).format(m=minutes)


def period_text(period: Period) -> str:
    if period.days == 1:
        return f"{period.start:%Y-%m-%d}"
    return f"{period.start:%Y-%m-%d} — {period.last:%Y-%m-%d}"


COMPOUNDS_SHOWN = 10  # compounds listed one by one under the households line


def _household_lines(homes: HouseholdFigures, locale: str) -> list[str]:
    def line(f: HouseholdFigures) -> str:
        per = f.per_contact
        return _(
            "Households: {covered} of {flats} flats have a registered resident ({share}); "
            "household contacts (党群中心户): {contacts}, {per} households each",
            locale=locale,
        ).format(
            covered=f.covered,
            flats=f.flats,
            share=f"{f.share:.0%}",
            contacts=f.contacts,
            per="—" if per is None else f"{per:.0f}",
        )

    lines = [line(homes)]
    if len(homes.compounds) > 1:
        for compound, f in homes.compounds[:COMPOUNDS_SHOWN]:
            lines.append(
                _(
                    "• {compound}: {covered}/{flats} registered ({share}), "
                    "{contacts} household contacts",
                    locale=locale,
                ).format(
                    compound=html.quote(compound.display_name(locale)),
                    covered=f.covered,
                    flats=f.flats,
                    share=f"{f.share:.0%}",
                    contacts=f.contacts,
                )
            )
    return lines


def _topic_lines(each: Sequence[tuple[Unit, TopicFigures]], locale: str) -> list[str]:
    def line(f: TopicFigures) -> str:
        return _(
            "proposed {proposed} · taken up {taken_up} · decided {decided} · done {done} · "
            "{days} days from proposal to done",
            locale=locale,
        ).format(
            proposed=f.proposed,
            taken_up=f.taken_up,
            decided=f.decided,
            done=f.done,
            days="—" if f.days_to_done is None else f"{f.days_to_done:.1f}",
        )

    lines = [
        _("Deliberation hall (议事厅): {figures}", locale=locale).format(
            figures=line(TopicFigures.total([f for _c, f in each]))
        )
    ]
    if len(each) > 1:
        lines += [
            f"• {html.quote(c.display_name(locale))}: {line(f)}" for c, f in each[:COMPOUNDS_SHOWN]
        ]
    return lines


def stats_text(s: Stats, locale: str) -> str:
    total = sum(s.counts.values())
    lines = [
        _("📊 <b>{unit}</b> · {period}", locale=locale).format(
            unit=html.quote(s.scope.display_name(locale)), period=period_text(s.period)
        ),
        _("Tickets reported: {count}", locale=locale).format(count=total),
    ]
    if total:
        by_status: dict[Status, int] = {}
        by_category: dict[Category, int] = {}
        for (category, status), n in s.counts.items():
            by_status[status] = by_status.get(status, 0) + n
            by_category[category] = by_category.get(category, 0) + n
        lines.append(
            _("Now: {states}", locale=locale).format(
                states=" · ".join(
                    f"{status_name(st, locale)} {by_status[st]}"
                    for st in Status
                    if by_status.get(st)
                )
            )
        )
        lines.append(
            _("By category: {categories}", locale=locale).format(
                categories=" · ".join(
                    f"{category_name(c, locale)} {n}"
                    for c, n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))
                )
            )
        )
    card = s.card
    lines += [
        "",
        _("Response rate (signed in time): {rate}", locale=locale).format(
            rate=rate_text(card.response)
        ),
        _("Resolution rate (not rejected): {rate}", locale=locale).format(
            rate=rate_text(card.resolution)
        ),
        _("Satisfaction rate: {rate}", locale=locale).format(rate=rate_text(card.satisfaction))
        + (
            _(
                " (without {count} ratings by proxy, 代办: {pleased} satisfied)", locale=locale
            ).format(count=card.proxy_rated, pleased=card.proxy_pleased)
            if card.proxy_rated
            else ""
        ),
        _("Average time to sign for: {sign}; to complete: {complete}", locale=locale).format(
            sign=duration_text(card.time_to_sign, locale),
            complete=duration_text(card.time_to_complete, locale),
        ),
        _("Returned as not theirs (misroutes): {count}", locale=locale).format(count=card.returned),
    ]
    if s.households is not None:
        lines += ["", *_household_lines(s.households, locale)]
    if s.topics:
        lines += ["", *_topic_lines(s.topics, locale)]
    if s.children:
        lines += ["", _("<b>Units below, best first</b>", locale=locale)]
        for index, (child, c) in enumerate(s.children[:CHILDREN_SHOWN], start=1):
            lines.append(
                _(
                    "{n}. {unit}: response {response} · resolution {resolution} · "
                    "satisfaction {satisfaction} ({handed} handed over)",
                    locale=locale,
                ).format(
                    n=index,
                    unit=html.quote(child.display_name(locale)),
                    response=percent(c.response),
                    resolution=percent(c.resolution),
                    satisfaction=percent(c.satisfaction),
                    handed=c.handed,
                )
            )
        if len(s.children) > CHILDREN_SHOWN:
            lines.append(
                _("… and {count} more", locale=locale).format(
                    count=len(s.children) - CHILDREN_SHOWN
                )
            )
    if s.place is not None:
        lines += [
            "",
            _("Ranked {rank} of {of} units under {parent}.", locale=locale).format(
                rank=s.place.rank,
                of=s.place.of,
                parent=html.quote(s.place.among.display_name(locale)),
            ),
        ]
    lines += [
        "",
        _(
            "Response = hand-overs signed for in time ÷ hand-overs; resolution = closed and not "
            "rejected ÷ closed; satisfaction = (satisfied + basically satisfied) ÷ rated. "
            "Ranking: the mean of the three.",
            locale=locale,
        ),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# /export


def export_caption(
    unit: Unit,
    period: Period,
    tickets: int,
    items: int,
    members: int,
    activities: int,
    locale: str,
) -> str:
    return _(
        "Ledgers of {unit}, {period}: {tickets} tickets, {items} lost-and-found reports, "
        "{members} party members, {activities} activities.",
        locale=locale,
    ).format(
        unit=html.quote(unit.display_name(locale)),
        period=period_text(period),
        tickets=tickets,
        items=items,
        members=members,
        activities=activities,
    )
