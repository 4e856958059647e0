"""Households as people read them: the buttons' callback data, tenure and status names, a flat's
address, the claim card for its confirmer, and what the claimant, a new representative and the
branch are told, each in the reader's language. These texts name flats: they go to private
chats only (bot/services/households.py)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.domain.complaints import Complaint
from bot.domain.households import Contact, Flat, Resident, ResidentStatus, Tenure
from bot.domain.inputs import Id
from bot.domain.org import Unit
from bot.ui.keyboard import InlineKeyboardBuilder


class HouseholdAction(StrEnum):
    CONFIRM = "c"  # id: a claim (residents row)
    REJECT = "r"  # id: a claim
    REPRESENT = "v"  # id: a flat, arg: the resident who is to vote for it
    CHANGE = "h"  # id: a flat: offer its residents as the representative
    CLAIM = "n"  # claim a (new) flat
    OVERVIEW = "o"  # id: a compound (the branch's view)
    APPOINT = "a"  # id: a compound (a link for a new household contact)
    XLSX = "x"  # id: a compound (住户台账)
    PROXY = "p"  # id: a compound (0: ask): 代办 for a resident without Telegram
    UNSIGN = "u"  # id: an activity, arg: a resident whose place (taken by proxy) to give back


class HouseholdCb(CallbackData, prefix="hh"):
    action: HouseholdAction
    id: Id = 0
    arg: Id = 0


def tenure_name(tenure: Tenure, locale: str | None = None) -> str:
    names = {
        Tenure.OWNER: _("owner (业主)", locale=locale),
        Tenure.FAMILY: _("owner's family (业主家属)", locale=locale),
        Tenure.TENANT: _("tenant (租户)", locale=locale),
    }
    return names[tenure]


def status_name(status: ResidentStatus, locale: str | None = None) -> str:
    names = {
        ResidentStatus.PENDING: _("waiting for confirmation", locale=locale),
        ResidentStatus.CONFIRMED: _("confirmed", locale=locale),
        ResidentStatus.REJECTED: _("not confirmed", locale=locale),
        ResidentStatus.WITHDRAWN: _("withdrawn", locale=locale),
        ResidentStatus.LEFT: _("moved out", locale=locale),
    }
    return names[status]


def address(flat: Flat, locale: str) -> str:
    return html.quote(flat.address.label(locale))


def claim_card(
    claim: Resident,
    claimant: str,
    flat: Flat,
    living: Sequence[tuple[str, Resident]],
    locale: str,
) -> str:
    """For the flat's contact or the branch: who claims which flat, and who lives there now."""
    lines = [
        _("🏠 <b>Household registration #{id}</b>", locale=locale).format(id=claim.id),
        _("{name} says they live in {flat}, as {tenure}.", locale=locale).format(
            name=html.quote(claimant),
            flat=address(flat, locale),
            tenure=tenure_name(claim.tenure, locale),
        ),
    ]
    if living:
        lines.append(_("Already registered there:", locale=locale))
        lines += [
            f"• {html.quote(name)} — {tenure_name(r.tenure, locale)}, {status_name(r.status, locale)}"
            for name, r in living
        ]
    else:
        lines.append(_("Nobody is registered in this flat yet.", locale=locale))
    lines.append(_("Do they live there?", locale=locale))
    return "\n".join(lines)


def claim_keyboard(claim: Resident, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Confirm", locale=locale),
        callback_data=HouseholdCb(action=HouseholdAction.CONFIRM, id=claim.id),
    )
    builder.button(
        text=_("✖ Not confirmed…", locale=locale),
        callback_data=HouseholdCb(action=HouseholdAction.REJECT, id=claim.id),
    )
    return builder.as_markup()


def decided_text(flat: Flat, tenure: Tenure, approve: bool, reason: str, locale: str) -> str:
    if approve:
        return _(
            "✅ You are registered as a resident of {flat} ({tenure}). “🏠 My home” shows your "
            "household.",
            locale=locale,
        ).format(flat=address(flat, locale), tenure=tenure_name(tenure, locale))
    return _(
        "Your household registration for {flat} was not confirmed. Reason: {reason}\n"
        "You can register again under “🏠 My home”.",
        locale=locale,
    ).format(flat=address(flat, locale), reason=html.quote(reason))


def now_representative(flat: Flat, locale: str) -> str:
    return _(
        "🗳 You now represent your household ({flat}) in the compound's votes.", locale=locale
    ).format(flat=address(flat, locale))


def appointed_text(name: str, contact: Contact, compound: Unit, locale: str) -> str:
    return _(
        "🏘 {name} is now the household contact (党群中心户) of {area}, {compound}.", locale=locale
    ).format(
        name=html.quote(name),
        area=html.quote(contact.area(locale)),
        compound=html.quote(compound.display_name(locale)),
    )


def overdue_copy(
    complaint: Complaint, flat: Flat | None, holder: Unit, zone: ZoneInfo, locale: str
) -> str:
    """For the household contacts of a ticket's household when it is chased (督办)."""
    due = complaint.due_at.astimezone(zone).strftime("%m-%d %H:%M") if complaint.due_at else "—"
    return _(
        "⏰ A report of a household you look after is overdue: <b>{number}</b> ({flat}), with "
        "{unit} since the deadline {due}. It has been passed up for supervision (督办).\n"
        "{text}",
        locale=locale,
    ).format(
        number=complaint.number,
        flat=address(flat, locale) if flat else "—",
        unit=html.quote(holder.display_name(locale)),
        due=due,
        text=html.quote(complaint.text[:200]),
    )
