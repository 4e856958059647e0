"""Environmental campaigns as people read them: the buttons' callback data and the report deep
link, the names of a campaign's states, why a schedule cannot be used, the reminder with its
report button, and the summary, each in the reader's language. Times are shown in the configured
zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.campaigns import Campaign, CampaignAction, CampaignStatus, ScheduleError
from bot.domain.inputs import Id
from bot.domain.org import Unit
from bot.ui.keyboard import InlineKeyboardBuilder

REPORT_PREFIX = "cp_"  # a reminder's report button: /start cp_<campaign>_<compound>


class CampaignCb(CallbackData, prefix="cm"):
    action: CampaignAction
    id: Id


class Figures(Protocol):
    """One compound's lines in a campaign summary (as the storage counts them)."""

    @property
    def reminders(self) -> int: ...
    @property
    def reports(self) -> int: ...
    @property
    def resolved(self) -> int: ...
    @property
    def activities(self) -> int: ...
    @property
    def minutes(self) -> int: ...


def _local(at: datetime, zone: ZoneInfo, fmt: str) -> str:
    return at.astimezone(zone).strftime(fmt)


def status_name(status: CampaignStatus, locale: str | None = None) -> str:
    names = {
        CampaignStatus.ACTIVE: _("running", locale=locale),
        CampaignStatus.PAUSED: _("paused", locale=locale),
        CampaignStatus.ENDED: _("ended", locale=locale),
    }
    return names[status]


def schedule_error_text(error: ScheduleError, locale: str | None = None) -> str:
    if error is ScheduleError.NO_RUNS:
        return _(
            "That schedule never runs before the campaign ends. For example: 每周六 09:00.",
            locale=locale,
        )
    return _(
        "I could not read that schedule. Write it like 每周六 09:00, 每天 08:00, every Saturday "
        "09:00, fixed dates (2026-12-05 09:00; 2026-12-19 09:00) or cron (0 9 * * 6).",
        locale=locale,
    )


# --- the reminder -------------------------------------------------------------------------------


def reminder_text(campaign: Campaign) -> str:
    """What every chat in scope reads: the campaign's own title and text, as staff wrote them."""
    return f"📢 <b>{html.quote(campaign.title)}</b>\n{html.quote(campaign.text)}"


def report_keyboard(
    campaign: Campaign, compound_id: int | None, bot_username: str, locale: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📝 Report a problem", locale=locale),
        url=f"https://t.me/{bot_username}?start={REPORT_PREFIX}{campaign.id}_{compound_id or 0}",
    )
    return builder.as_markup()


# --- the summary ------------------------------------------------------------------------------


def summary_text(
    campaign: Campaign,
    scope: Unit | None,
    figures: Mapping[int, Figures],
    names: Mapping[int, Unit],
    zone: ZoneInfo,
    locale: str,
) -> str:
    """The campaign's figures for each compound in scope (`names`: those compounds) and in all."""
    lines = [
        _("📊 <b>{title}</b> ({start} – {end})", locale=locale).format(
            title=html.quote(campaign.title),
            start=_local(campaign.starts_at, zone, "%Y-%m-%d"),
            end=_local(campaign.ends_at, zone, "%Y-%m-%d"),
        ),
        _("Scope: {unit}", locale=locale).format(
            unit=html.quote(scope.display_name(locale)) if scope else "—"
        ),
    ]
    reminders = reports = resolved = activities = minutes = 0
    for compound_id in sorted(figures, key=lambda cid: names[cid].name if cid in names else ""):
        f = figures[compound_id]
        name = names[compound_id].display_name(locale) if compound_id in names else "—"
        lines.append(
            _(
                "• {compound}: {reminders} reminders delivered; {reports} reports, {resolved} "
                "resolved; {activities} party activities, {hours} h",
                locale=locale,
            ).format(
                compound=html.quote(name),
                reminders=f.reminders,
                reports=f.reports,
                resolved=f.resolved,
                activities=f.activities,
                hours=f"{f.minutes / 60:.1f}",
            )
        )
        reminders += f.reminders
        reports += f.reports
        resolved += f.resolved
        activities += f.activities
        minutes += f.minutes
    lines.append(
        _(
            "In all: {reminders} reminders delivered; {reports} reports, {resolved} resolved; "
            "{activities} party activities, {hours} h",
            locale=locale,
        ).format(
            reminders=reminders,
            reports=reports,
            resolved=resolved,
            activities=activities,
            hours=f"{minutes / 60:.1f}",
        )
    )
    return "\n".join(lines)
