"""五星小区: the criteria versions on record, and each compound's monthly evaluation.

The criteria file is read at start (`[stars] file`). The first version on record applies from
its own month; a later one (a new `version` in the file) never before the month after it is read,
so a month already under way is judged by the criteria it began with. A version is never changed
once on record: the file must name a new one.

The monthly sweep evaluates last month, once per compound (the run's key): every indicator's
figure from the records (bot/domain/stars.py, storage/stars.py) or as the community entered it,
the stars it gives, and the rows behind each figure.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority
from bot.domain.errors import NotAllowed, NotFound, Reason, Stale
from bot.domain.org import Unit, UnitKind, is_within
from bot.domain.people import Actor, ChatPurpose
from bot.domain.stars import (
    Board,
    Card,
    Criteria,
    Figure,
    Indicator,
    Metric,
    Run,
    Star,
    StarVerdict,
    award,
    evaluate,
    five_star_share,
    stars_of,
)
from bot.services import oversight, party
from bot.services.desk import Desk, open_desk
from bot.services.dispatch import unit_people
from bot.services.matcher import Matcher
from bot.starsfile import criteria_from, read_stars_file
from bot.ui import stars as ui
from storage.db import Database
from storage.stars import RunRepo, StarsRepo
from storage.units import UnitRepo

log = logging.getLogger(__name__)

MOST_COMPOUNDS = 100_000
MAX_REASON = 300


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def bounds(month: date, config: Config) -> tuple[datetime, datetime]:
    """A local month as UTC instants [start, end)."""
    zone = config.bot.zone
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    after = next_month(month)
    return start, datetime(after.year, after.month, 1, tzinfo=zone)


async def load_criteria(db: Database, path: Path, clock: Clock, config: Config) -> str:
    """Put the file's criteria on record (when its version is new); returns what happened."""
    text, criteria = await asyncio.to_thread(read_stars_file, path)
    today = clock.now().astimezone(config.bot.zone).date()
    async with db.session() as session:
        repo = RunRepo(session)
        known = await repo.version(criteria.version)
        if known is not None:
            if known[1] != text:
                log.error(
                    "%s: version %s is on record with other criteria; they stand until the file "
                    "names a new version",
                    path,
                    criteria.version,
                )
                return "kept"
            return "unchanged"
        first = criteria.first_month
        if await repo.criteria():  # not the first: from next month at the earliest
            first = max(first, next_month(month_start(today)))
        await repo.add_criteria(criteria.version, first, text, criteria.example, clock.now())
    return f"version {criteria.version} from {first:%Y-%m}"


async def in_force(desk: Desk, month: date) -> tuple[int, Criteria] | None:
    """The criteria a month is judged by: the version on record whose first month is the latest
    one not after it."""
    found = [(cid, first, text) for cid, first, text in await RunRepo(desk.session).criteria()]
    usable = [entry for entry in found if entry[1] <= month]
    if not usable:
        return None
    cid, _first, text = max(usable, key=lambda entry: entry[1])
    return cid, criteria_from(text)


@dataclass(frozen=True, slots=True)
class Evaluation:
    run: Run
    criteria: Criteria
    verdicts: list[StarVerdict]
    figures: dict[str, Figure]


async def evaluate_month(desk: Desk, compound: Unit, month: date) -> Evaluation | None:
    """The compound's evaluation of a month, computed and stored once; None when no criteria are
    in force for it, or when it was evaluated already."""
    found = await in_force(desk, month)
    if found is None:
        return None
    criteria_id, criteria = found
    start, end = bounds(month, desk.config)
    computed = await StarsRepo(desk.session).figures(compound, start, end, month, next_month(month))
    entered = await RunRepo(desk.session).entered(compound.id, month)
    none = Figure(None, 0, None)
    figures = {
        i.key: entered.get(i.key, none) if i.metric is Metric.ENTERED else computed[i.metric]
        for i in criteria.indicators
    }
    verdicts = evaluate(criteria, {key: figure.value for key, figure in figures.items()})
    rows = [
        (i.key, i.star, figures[i.key], i.passes(figures[i.key].value)) for i in criteria.indicators
    ]
    run = await RunRepo(desk.session).add_run(
        compound.id, month, criteria_id, stars_of(verdicts), rows, desk.now
    )
    if run is None:
        return None
    return Evaluation(run, criteria, verdicts, figures)


async def sweep(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """Evaluate last month for every compound not yet evaluated (one transaction each)."""
    today = clock.now().astimezone(config.bot.zone).date()
    month = previous_month(month_start(today))
    async with db.read() as session:
        if not await RunRepo(session).criteria():
            return 0  # no criteria on record: nothing to evaluate by
        compounds = await UnitRepo(session).compounds_in("/", limit=MOST_COMPOUNDS)
        done = await RunRepo(session).evaluated(month)
    made = 0
    for compound in compounds:
        if compound.id in done:
            continue
        async with open_desk(db, clock, config, matcher, bot_username) as desk:
            made += await evaluate_month(desk, compound, month) is not None
    return made


# --- what staff see -------------------------------------------------------------------------


async def _month_or_latest(desk: Desk, ids: list[int], month: date | None) -> date | None:
    return month or await RunRepo(desk.session).latest_month(ids)


async def board(desk: Desk, actor: Actor, unit_id: int | None, month: date | None) -> Board:
    scope_unit = await oversight.scope(desk, actor, unit_id)
    compounds = await desk.units.compounds_in(scope_unit.path, limit=MOST_COMPOUNDS)
    ids = [c.id for c in compounds]
    month = await _month_or_latest(desk, ids, month)
    by_id = {c.id: c for c in compounds}
    runs = await RunRepo(desk.session).runs(month, ids) if month else []
    before = await RunRepo(desk.session).runs(previous_month(month), ids) if month else []
    rows = sorted(
        ((by_id[r.compound_id], r) for r in runs),
        key=lambda pair: (-len(pair[1].stars), pair[0].name, pair[0].id),
    )
    per_star = desk.config.stars.per_star_yuan
    return Board(
        scope=scope_unit,
        month=month,
        rows=rows,
        previous={r.compound_id: r for r in before},
        share=five_star_share(len(r.stars) for r in runs),
        target=desk.config.stars.target(month.year) if month else None,
        award=sum(award(len(r.stars), per_star) for r in runs),
    )


async def card(desk: Desk, actor: Actor, compound_id: int, month: date) -> Card:
    compound = await desk.units.get(compound_id)
    if compound is None:
        raise NotFound(Reason.GONE, f"compound {compound_id}")
    await oversight.scope(desk, actor, compound.id)  # inside the actor's subtree
    repo = RunRepo(desk.session)
    run = await repo.run(compound.id, month)
    text = await repo.criteria_text(run.criteria_id) if run else None
    if run is None or text is None:
        raise NotFound(Reason.GONE, f"run {compound_id} {month}")
    return Card(
        compound=compound,
        run=run,
        criteria=criteria_from(text),
        figures=await repo.figures_of(run.id),
        previous=await repo.run(compound.id, previous_month(month)),
        award=award(len(run.stars), desk.config.stars.per_star_yuan),
    )


# --- the community's review, and 公示 -------------------------------------------------------


REVIEWING = (UnitKind.COMMUNITY, UnitKind.SUBDISTRICT, UnitKind.DISTRICT)


async def check_reviewer(desk: Desk, actor: Actor, compound: Unit) -> None:
    """A compound's result is reviewed by its community (or a level above), never by the
    compound's own branch or wings."""
    if actor.is_admin:
        return
    units = await desk.units.many(actor.staff_unit_ids)
    if not any(u.kind in REVIEWING and is_within(compound, u.id) for u in units.values()):
        raise NotAllowed(Reason.NOT_REVIEWER, str(compound.id))


async def may_review(desk: Desk, actor: Actor, compound: Unit) -> bool:
    try:
        await check_reviewer(desk, actor, compound)
    except NotAllowed:
        return False
    return True


async def review(
    desk: Desk,
    actor: Actor,
    compound_id: int,
    month: date,
    version: int,
    stars: frozenset[Star] | None = None,
    reason: str = "",
) -> Run:
    """The community confirms the computed result (`stars` None) or overrides it with a reason;
    the result is then made public (公示) in the compound's residents groups, and the branch is told
    in words."""
    compound = await desk.units.get(compound_id)
    if compound is None:
        raise NotFound(Reason.GONE, f"compound {compound_id}")
    await check_reviewer(desk, actor, compound)
    repo = RunRepo(desk.session)
    run = await repo.run(compound.id, month)
    if run is None or run.version != version or run.status != "computed":
        raise Stale(Reason.STARS_MOVED, f"{compound_id} {month}")
    standing = run.computed if stars is None else stars
    if stars is not None and not reason.strip():
        raise NotAllowed(Reason.INCOMPLETE)
    public_until = desk.now + timedelta(days=desk.config.stars.public_days)
    if not await repo.review(
        run, standing, reason.strip()[:MAX_REASON], actor.id, desk.now, public_until
    ):
        raise Stale(Reason.STARS_MOVED, f"{compound_id} {month}")
    moved = await repo.run(compound.id, month)
    assert moved is not None
    await _publish(desk, compound, moved)
    return moved


async def _publish(desk: Desk, compound: Unit, run: Run) -> None:
    previous = await RunRepo(desk.session).run(compound.id, previous_month(run.month))
    figures = await RunRepo(desk.session).figures_of(run.id)
    text = await RunRepo(desk.session).criteria_text(run.criteria_id)
    criteria = criteria_from(text or "")
    per_star = desk.config.stars.per_star_yuan
    locale = desk.config.bot.default_language
    for group in await desk.chats.bound_to(compound.id, ChatPurpose.RESIDENTS):
        if group.active:
            await desk.outbox.send(
                group.id,
                ui.public_notice(compound, run, previous, per_star, locale),
                priority=Priority.BROADCAST,
            )
    units = await desk.units.around(compound)
    branch = party.branch_of(compound, units)
    for chat_id in await unit_people(desk.session, desk.config.bot.admins, branch, units):
        reader = await desk.locale_of(chat_id)
        await desk.outbox.send(
            chat_id,
            ui.result_in_words(compound, run, previous, criteria, figures, per_star, reader),
            priority=Priority.ALERT,
        )


# --- indicators the community enters ------------------------------------------------------


def this_month(desk: Desk) -> date:
    return month_start(desk.now.astimezone(desk.config.bot.zone).date())


async def entered_indicators(desk: Desk, actor: Actor, compound_id: int) -> list[Indicator]:
    """The indicators of this month's criteria that the community enters, for a compound it
    reviews."""
    compound = await desk.units.get(compound_id)
    if compound is None:
        raise NotFound(Reason.GONE, f"compound {compound_id}")
    await check_reviewer(desk, actor, compound)
    found = await in_force(desk, this_month(desk))
    if found is None:
        return []
    return [i for i in found[1].indicators if i.metric is Metric.ENTERED]


async def enter(
    desk: Desk,
    actor: Actor,
    compound_id: int,
    key: str,
    value: float,
    note: str,
    photo: str | None,
) -> date:
    """The community's figure of an indicator for this month, with its evidence (a note, a
    photo, or both); a later entry of the same month replaces it. Returns the month."""
    indicators = {i.key: i for i in await entered_indicators(desk, actor, compound_id)}
    if key not in indicators or not (note.strip() or photo):
        raise NotAllowed(Reason.INCOMPLETE)
    month = this_month(desk)
    await RunRepo(desk.session).enter(
        compound_id, month, key, value, note.strip()[:MAX_REASON], photo, actor.id, desk.now
    )
    return month
