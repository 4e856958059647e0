"""Party members as people read it: the buttons' callback data and the deep link, the names of
member types, activity kinds and registration states, an activity's line, the registration card
(personal data in private chats only), refusals, reminders and the group notice, each in the
reader's language. Times are shown in the configured zone."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.inputs import Id
from bot.domain.org import Unit
from bot.domain.party import (
    Activity,
    ActivityKind,
    Member,
    MemberType,
    RegStatus,
    Reminder,
    Standing,
    standing,
)
from bot.ui.keyboard import InlineKeyboardBuilder
from bot.ui.notices import NoticeView

ACTIVITY_PREFIX = "pa_"  # a group notice's deep link: /start pa_<activity id>


class PartyAction(StrEnum):
    APPROVE = "a"  # id: a registration
    REJECT = "r"  # id: a registration
    SIGN_UP = "s"  # id: an activity
    CANCEL = "c"  # id: an activity
    CHECK_OUT = "o"  # id: an activity
    SHOW = "v"  # id: an activity (its organisers: the code and who signed up)
    ROSTER = "l"  # id: the unit whose roster to show
    ROSTER_XLSX = "xr"  # id: the unit
    LEDGER_XLSX = "xl"  # id: the unit


class PartyCb(CallbackData, prefix="pm"):
    action: PartyAction
    id: Id


def _local(at: datetime, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(zone).strftime(fmt)


# --- words ------------------------------------------------------------------------------------


def member_type_name(kind: MemberType, locale: str | None = None) -> str:
    names = {
        MemberType.WORKING: _("in work (在职)", locale=locale),
        MemberType.RETIRED: _("retired (离退休)", locale=locale),
        MemberType.MOBILE: _("mobile (流动)", locale=locale),
    }
    return names[kind]


def activity_kind_name(kind: ActivityKind, locale: str | None = None) -> str:
    names = {
        ActivityKind.CLEANUP: _("Environment clean-up", locale=locale),
        ActivityKind.PATROL: _("Safety patrol", locale=locale),
        ActivityKind.CLINIC: _("Free clinic", locale=locale),
        ActivityKind.VOLUNTEER: _("Volunteer service", locale=locale),
        ActivityKind.OTHER: _("Other", locale=locale),
        ActivityKind.MEETING: _("Deliberation meeting (议事会)", locale=locale),
    }
    return names[kind]


def registration_status_name(status: RegStatus, locale: str | None = None) -> str:
    names = {
        RegStatus.PENDING: _("waiting for the branch", locale=locale),
        RegStatus.APPROVED: _("approved", locale=locale),
        RegStatus.REJECTED: _("not approved", locale=locale),
        RegStatus.MOVED: _("moved to another compound", locale=locale),
    }
    return names[status]


def hours_text(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def activity_line(activity: Activity, zone: ZoneInfo, locale: str, *, count: bool = True) -> str:
    """ "<b>周六大扫除</b> · 环境整治 · 11-28 09:00–11:00 · 东门广场 · 3/10" (`count`: with the
    places taken)"""
    when = f"{_local(activity.starts_at, zone, '%m-%d %H:%M')}–{_local(activity.ends_at, zone, '%H:%M')}"
    parts = [
        f"<b>{html.quote(activity.title)}</b>",
        activity_kind_name(activity.kind, locale),
        when,
        html.quote(activity.place),
    ]
    if count:
        parts.append(f"{activity.signed}/{activity.capacity}")
    return " · ".join(parts)


def details(member: Member, compound: Unit, locale: str) -> list[str]:
    phone = html.quote(member.phone) if member.phone else _("not given", locale=locale)
    return [
        _("Name: {name}", locale=locale).format(name=html.quote(member.name)),
        _("Compound: {compound}", locale=locale).format(
            compound=html.quote(compound.display_name(locale))
        ),
        _("Building: {building}", locale=locale).format(building=html.quote(member.building)),
        _("Workplace party organisation: {org}", locale=locale).format(
            org=html.quote(member.workplace)
        ),
        _("Type: {type}", locale=locale).format(type=member_type_name(member.type, locale)),
        _("Phone: {phone}", locale=locale).format(phone=phone),
    ]


def decision_keyboard(member: Member, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Approve", locale=locale),
        callback_data=PartyCb(action=PartyAction.APPROVE, id=member.id),
    )
    builder.button(
        text=_("✖ Reject…", locale=locale),
        callback_data=PartyCb(action=PartyAction.REJECT, id=member.id),
    )
    return builder.as_markup()


def registration_text(member: Member, compound: Unit, locale: str) -> str:
    """The card for the private chat of a person who decides: every detail."""
    lines = [
        _("🎖 Party member registration (报到) #{id}", locale=locale).format(id=member.id),
        *details(member, compound, locale),
    ]
    return "\n".join(lines)


def group_registration_text(member: Member, compound: Unit, locale: str) -> str:
    """The card for an alert group, whose members are not all the people who decide: the number,
    the compound and the type, never the name, building, workplace or phone."""
    return "\n".join(
        (
            _("🎖 Party member registration (报到) #{id}", locale=locale).format(id=member.id),
            _("Waiting for the decision of the party branch of {compound}.", locale=locale).format(
                compound=html.quote(compound.display_name(locale))
            ),
            _("Type: {type}", locale=locale).format(type=member_type_name(member.type, locale)),
            _(
                "The member's details were sent privately to the staff who decide on it.",
                locale=locale,
            ),
        )
    )


def card_text(member: Member, compound: Unit, locale: str, chat_id: int) -> str:
    """A registration's card as the chat may read it: personal data in private chats only."""
    if chat_id > 0:
        return registration_text(member, compound, locale)
    return group_registration_text(member, compound, locale)


def decided_text(compound: Unit, approved: bool, reason: str, locale: str) -> str:
    """To the member: the branch's decision on their registration (`reason`: why not)."""
    place = html.quote(compound.display_name(locale))
    if approved:
        return _(
            "✅ Your registration (报到) with the party branch of {compound} is approved. "
            "“🚩 Party members” → “📅 Activities” shows what you can join.",
            locale=locale,
        ).format(compound=place)
    return _(
        "Your registration (报到) with {compound} was not approved.\nReason: {reason}\n"
        "You can correct it and register again: “🚩 Party members”.",
        locale=locale,
    ).format(compound=place, reason=html.quote(reason) or "—")


# --- activities -------------------------------------------------------------------------------


def notice_text(activity: Activity, zone: ZoneInfo, locale: str, now: datetime) -> str:
    """The residents group's notice of an activity, as it stands `now`: with the places taken
    while it is open, or that it is full, has ended or was cancelled. Nobody's name."""
    line = activity_line(activity, zone, locale, count=False)
    state = standing(activity, now)
    counts = {"signed": activity.signed, "capacity": activity.capacity}
    if state is Standing.OPEN:
        return "\n".join(
            (
                _(
                    "📣 Party members' activity: {activity}\nRegistered party members can sign "
                    "up with the button.",
                    locale=locale,
                ).format(activity=line),
                _("🙋 Signed up: {signed}/{capacity}", locale=locale).format(**counts),
            )
        )
    outcome = {
        Standing.FULL: _("🈵 Full: {signed}/{capacity} signed up.", locale=locale),
        Standing.ENDED: _("🏁 Ended ({signed}/{capacity} signed up).", locale=locale),
        Standing.CANCELLED: _("✖ Cancelled by the organiser.", locale=locale),
    }
    head = _("📣 Party members' activity: {activity}", locale=locale).format(activity=line)
    return f"{head}\n{outcome[state].format(**counts)}"


def notice_view(
    activity: Activity, zone: ZoneInfo, bot_username: str, locale: str, now: datetime
) -> NoticeView:
    """The notice with its sign-up button while places are left; without it once full, ended
    or cancelled."""
    text = notice_text(activity, zone, locale, now)
    if standing(activity, now) is Standing.OPEN:
        return NoticeView(text, notice_keyboard(activity, bot_username, locale))
    return NoticeView(text)


def notice_keyboard(activity: Activity, bot_username: str, locale: str) -> InlineKeyboardMarkup:
    """The group notice's button: a deep link to the private chat."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🙋 Sign up", locale=locale),
        url=f"https://t.me/{bot_username}?start={ACTIVITY_PREFIX}{activity.id}",
    )
    return builder.as_markup()


def check_out_keyboard(found: Activity, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("👋 Check out", locale=locale),
        callback_data=PartyCb(action=PartyAction.CHECK_OUT, id=found.id),
    )
    return builder.as_markup()


# --- the sweep ----------------------------------------------------------------------------------


def reminder_text(activity: Activity, which: Reminder, zone: ZoneInfo, locale: str) -> str:
    """To whoever signed up: a day before, or an hour before with how to check in."""
    text = (
        _("⏰ Tomorrow: {activity}", locale=locale)
        if which is Reminder.DAY
        else _(
            "⏰ In an hour: {activity}\nCheck in on site with /checkin (share your location, "
            "or type the organiser's code).",
            locale=locale,
        )
    )
    return text.format(activity=activity_line(activity, zone, locale))


def settled_text(activity: Activity, minutes: int, locale: str) -> str:
    """To whoever was still checked in at the end: checked out, with the hours recorded."""
    return _(
        "{title} has ended; I checked you out. Recorded: {hours} h. Thank you!",
        locale=locale,
    ).format(title=html.quote(activity.title), hours=hours_text(minutes))
