"""A resident picks a language and the compound where they live."""

from __future__ import annotations

from bot.config import LANGUAGES
from bot.domain.errors import NotFound, Reason
from bot.domain.org import Unit, UnitKind, matches_query, sort_units
from bot.domain.people import User
from bot.i18n import resolve_locale
from storage.db import Session
from storage.units import UnitRepo
from storage.users import UserRepo

BROWSABLE = (UnitKind.DISTRICT, UnitKind.SUBDISTRICT, UnitKind.COMMUNITY)
MAX_MATCHES = 8


async def set_language(session: Session, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise NotFound(Reason.GONE, language)
    await UserRepo(session).set_language(user_id, language)


async def top_choices(session: Session) -> list[Unit]:
    """The first list a resident sees: the sub-districts of the district(s)."""
    repo = UnitRepo(session)
    choices: list[Unit] = []
    for root in await repo.children(None):
        choices.extend(await repo.children(root.id))
    return sort_units(choices)


async def browse(session: Session, unit_id: int) -> tuple[Unit, list[Unit]]:
    """A sub-district or community and what lies below it (compounds, not their wings)."""
    repo = UnitRepo(session)
    unit = await repo.get(unit_id)
    if unit is None or unit.kind not in BROWSABLE:
        raise NotFound(Reason.GONE, str(unit_id))
    return unit, await repo.children(unit.id)


async def choose_compound(session: Session, user_id: int, unit_id: int) -> list[Unit]:
    """Make a compound the user's home; returns it with its ancestors, nearest first."""
    repo = UnitRepo(session)
    compound = await repo.get(unit_id)
    if compound is None or compound.kind is not UnitKind.COMPOUND:
        raise NotFound(Reason.GONE, str(unit_id))
    await UserRepo(session).set_compound(user_id, compound.id)
    return await lineage(session, compound)


async def lineage(session: Session, unit: Unit) -> list[Unit]:
    """The unit and its ancestors below the district, nearest first (for "西湖左岸小区 · 西湖社区 · …")."""
    ancestors = await UnitRepo(session).many(unit.ancestor_ids)
    chain = [unit] + [ancestors[uid] for uid in reversed(unit.ancestor_ids) if uid in ancestors]
    return [u for u in chain if u.kind is not UnitKind.DISTRICT]


async def search_compounds(session: Session, query: str) -> list[Unit]:
    compounds = await UnitRepo(session).of_kind(UnitKind.COMPOUND)
    return [unit for unit in compounds if matches_query(unit, query)][:MAX_MATCHES]


async def home_compound(session: Session, compound_id: int | None) -> Unit | None:
    """The compound with that id; None for no id, no unit, or a unit that is not a compound."""
    unit = await UnitRepo(session).get(compound_id) if compound_id is not None else None
    return unit if unit is not None and unit.kind is UnitKind.COMPOUND else None


async def locale_of(session: Session, chat_id: int, default: str) -> str:
    """A person's language; a group speaks the district's default language."""
    user = await UserRepo(session).get(chat_id) if chat_id > 0 else None
    return user_locale(user, default)


def user_locale(user: User | None, default: str) -> str:
    if user is None:
        return default
    return resolve_locale(user.language, user.tg_language, default)
