"""Staff invitations as people read them: the deep link's prefix, the names of staff roles, and
the word to the inviter once an invitation is used, in the reader's language."""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _

from bot.domain.org import StaffRole, Unit

INVITE_PREFIX = "inv_"  # an invitation's deep link: /start inv_<code>


def role_name(role: StaffRole, locale: str | None = None) -> str:
    if role is StaffRole.SECRETARY:
        return _("secretary", locale=locale)
    return _("officer", locale=locale)


def joined_text(name: str, role: StaffRole, unit: Unit, locale: str) -> str:
    """To the inviter: `name` (a first name) accepted and is now `role` of `unit`."""
    text = _("{name} accepted your invitation and is now {role} of {unit}.", locale=locale)
    return text.format(
        name=html.quote(name),
        role=role_name(role, locale),
        unit=html.quote(unit.display_name(locale)),
    )
