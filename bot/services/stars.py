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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.charts import render_stars
from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Priority, stored
from bot.domain.complaints import Stage, chased_unit, last_stage, stage_time, supervisors
from bot.domain.errors import NotAllowed, NotFound, Reason, Stale
from bot.domain.households import Flat
from bot.domain.org import Unit, UnitKind, is_within
from bot.domain.people import Actor, ChatPurpose
from bot.domain.stars import (
    Board,
    Card,
    Criteria,
    Figure,
    Indicator,
    Metric,
    Objection,
    Run,
    RunStatus,
    Star,
    StarVerdict,
    award,
    evaluate,
    five_star_share,
    stars_of,
)
from bot.services import exports, notices, oversight, party, topics
from bot.services.desk import Desk, open_desk, sweep_due
from bot.services.dispatch import tell_people, tell_unit, unit_people
from bot.services.matcher import Matcher
from bot.starsfile import criteria_from, read_stars_file
from bot.ui import stars as ui
from storage.db import Database
from storage.notices import NoticeKind
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
        objections=tuple(await repo.objections(run.id)),
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
    if run is None or run.version != version or run.status is not RunStatus.COMPUTED:
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
    await refresh_notices(desk, compound, run, previous)  # an earlier 公示, sent back since
    view = _view(desk, compound, run, previous)(locale)
    for group in await desk.chats.bound_to(compound.id, ChatPurpose.RESIDENTS):
        if group.active:
            await notices.post(desk, NoticeKind.STARS, run.id, group.id, locale, view)
    units = await desk.units.around(compound)
    branch = party.branch_of(compound, units)
    for chat_id in await unit_people(desk.session, desk.config.bot.admins, branch, units):
        reader = await desk.locale_of(chat_id)
        await desk.outbox.send(
            chat_id,
            ui.result_in_words(compound, run, previous, criteria, figures, per_star, reader),
            priority=Priority.ALERT,
        )


def _view(desk: Desk, compound: Unit, run: Run, previous: Run | None) -> ui.Render:
    rules, bot = desk.config.stars, desk.bot_username
    return lambda locale: ui.notice_view(
        compound, run, previous, rules.per_star_yuan, rules.public_days, bot, locale
    )


async def refresh_notices(
    desk: Desk, compound: Unit, run: Run, previous: Run | None = None
) -> None:
    """Every 公示 of the result, edited to show where it stands now (`previous`: the month
    before, when the caller has it already)."""
    if previous is None:
        previous = await RunRepo(desk.session).run(compound.id, previous_month(run.month))
    await notices.refresh(desk, NoticeKind.STARS, run.id, _view(desk, compound, run, previous))


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


# --- objections while a result is made public, answered by the sub-district -------------------

BATCH = 200
MAX_OBJECTION = 500
ANSWERING = (UnitKind.SUBDISTRICT, UnitKind.DISTRICT)


def answering_unit(compound: Unit, units: Mapping[int, Unit]) -> Unit:
    """Who answers an objection to a compound's result: the sub-district above it (else the
    nearest unit above the community, else the top of the tree)."""
    above = [units[i] for i in reversed(compound.ancestor_ids) if i in units]
    for kinds in ((UnitKind.SUBDISTRICT,), (UnitKind.DISTRICT,)):
        found = [u for u in above if u.kind in kinds]
        if found:
            return found[0]
    return above[-1] if above else compound


async def check_answerer(desk: Desk, actor: Actor, compound: Unit) -> None:
    """An objection is answered by the sub-district or the district above the compound."""
    if actor.is_admin:
        return
    units = await desk.units.many(actor.staff_unit_ids)
    if not any(u.kind in ANSWERING and is_within(compound, u.id) for u in units.values()):
        raise NotAllowed(Reason.NOT_ANSWERER, str(compound.id))


async def _run_by_id(desk: Desk, run_id: int) -> tuple[Run, Unit]:
    run = await RunRepo(desk.session).run_by_id(run_id)
    compound = await desk.units.get(run.compound_id) if run else None
    if run is None or compound is None:
        raise NotFound(Reason.GONE, f"run {run_id}")
    return run, compound


async def lives_in(desk: Desk, actor: Actor, compound: Unit) -> Flat | None:
    """The person's confirmed flat there; raises unless they live in the compound (confirmed, or
    by their own word)."""
    flat = await topics.home_flat(desk, actor.id, compound.id)
    if flat is None and actor.user.compound_id != compound.id:
        raise NotAllowed(Reason.STARS_NOT_RESIDENT, str(compound.id))
    return flat


async def objectable(desk: Desk, actor: Actor, run_id: int) -> tuple[Run, Unit]:
    """A result a resident may object to now: made public, 公示 not over, their compound's."""
    run, compound = await _run_by_id(desk, run_id)
    if (
        run.status is not RunStatus.PUBLIC
        or run.public_until is None
        or desk.now >= run.public_until
    ):
        raise NotAllowed(Reason.STARS_NOT_PUBLIC, str(run_id))
    await lives_in(desk, actor, compound)
    if await RunRepo(desk.session).objected(run.id, actor.id):
        raise NotAllowed(Reason.STARS_OBJECTED, str(run_id))
    return run, compound


async def object_to(desk: Desk, actor: Actor, run_id: int, text: str) -> Objection:
    """A resident's objection: it goes, with their name and flat, privately to the sub-district,
    which answers by `[stars] objection_days`; late, it is chased up like a ticket."""
    run, compound = await objectable(desk, actor, run_id)
    flat = await lives_in(desk, actor, compound)
    units = await desk.units.around(compound)
    unit = answering_unit(compound, units)
    due = desk.now + timedelta(days=desk.config.stars.objection_days)
    note = text.strip()[:MAX_OBJECTION]
    if not note:
        raise NotAllowed(Reason.INCOMPLETE)
    made = await RunRepo(desk.session).add_objection(
        run, actor.id, note, unit.id, desk.now, due, stage_time(desk.now, due, Stage.WARNED)
    )
    if made is None:
        raise NotAllowed(Reason.STARS_OBJECTED, str(run_id))
    name, _locale = await desk.person(actor.id)
    zone = desk.config.bot.zone
    await tell_people(
        desk,
        unit,
        units,
        lambda locale: ui.objection_text(made, compound, run, name, flat, zone, locale),
        markup=lambda locale: ui.answer_keyboard(made, run, locale),
    )
    return made


async def answerable(desk: Desk, actor: Actor, objection_id: int) -> Objection:
    """An objection not yet answered, for someone who may answer it (every card of it stays
    good while it is open: the chase moves its clock, not its question)."""
    objection = await RunRepo(desk.session).objection(objection_id)
    if objection is None:
        raise NotFound(Reason.GONE, f"objection {objection_id}")
    _run, compound = await _run_by_id(desk, objection.run_id)
    await check_answerer(desk, actor, compound)
    if not objection.open:
        raise Stale(Reason.OBJECTION_ANSWERED, str(objection_id))
    return objection


async def answer(desk: Desk, actor: Actor, objection_id: int, upheld: bool, text: str) -> Objection:
    """The sub-district's answer, to the objector. Upheld, the result goes back to the community
    for a new review (and a new 公示); kept, the result stands, and is final once 公示 is over
    and no objection is open."""
    objection = await answerable(desk, actor, objection_id)
    note = text.strip()[:MAX_OBJECTION]
    if not note:
        raise NotAllowed(Reason.INCOMPLETE)
    repo = RunRepo(desk.session)
    if not await repo.answer(objection, note, upheld, actor.id, desk.now):
        raise Stale(Reason.OBJECTION_ANSWERED, str(objection_id))
    run, compound = await _run_by_id(desk, objection.run_id)
    answered = await repo.objection(objection.id)
    assert answered is not None
    reader = await desk.locale_of(objection.user_id)
    await desk.outbox.send(
        objection.user_id, ui.answer_to_objector(answered, compound, run, reader)
    )
    if upheld and run.status is RunStatus.PUBLIC and await repo.move(run, RunStatus.COMPUTED):
        await _refreshed(desk, compound, run.id)
        units = await desk.units.around(compound)
        community = next(
            (units[i] for i in reversed(compound.ancestor_ids) if i in units), compound
        )
        await tell_unit(
            desk,
            community,
            units,
            lambda locale: ui.sent_back(compound, run, note, locale),
            markup=lambda locale: ui.open_card_keyboard(compound, run, locale),
        )
    elif not upheld:
        await _settle(desk, run)
    return answered


async def _settle(desk: Desk, run: Run) -> bool:
    """A result made public becomes final once 公示 is over and no objection is open."""
    if run.status is not RunStatus.PUBLIC or run.public_until is None:
        return False
    if desk.now < run.public_until:
        return False
    if await RunRepo(desk.session).open_objections(run.id):
        return False  # the last answer settles it
    if not await RunRepo(desk.session).move(run, RunStatus.FINAL):
        return False
    compound = await desk.units.get(run.compound_id)
    if compound is not None:
        await _refreshed(desk, compound, run.id)
    return True


async def _refreshed(desk: Desk, compound: Unit, run_id: int) -> None:
    moved = await RunRepo(desk.session).run_by_id(run_id)
    if moved is not None:
        await refresh_notices(desk, compound, moved)


async def settle(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """Every result whose 公示 is over and whose objections are all answered becomes final."""
    async with db.read() as session:
        over = await RunRepo(session).public_over(clock.now(), MOST_COMPOUNDS)
    done = 0
    for run in over:
        async with open_desk(db, clock, config, matcher, bot_username) as desk:
            done += await _settle(desk, run)
    return done


async def chase(
    db: Database, clock: Clock, config: Config, matcher: Matcher, bot_username: str
) -> int:
    """Every late objection: the sub-district warned at 75 % of its time, then the level above
    chased at the deadline (and one level further per window), like a late ticket."""
    return await sweep_due(
        db,
        clock,
        config,
        matcher,
        bot_username,
        due=lambda session, now, n: RunRepo(session).due_objections(now, n),
        step=_chase_step,
        batch=BATCH,
        limit=10_000,
    )


async def _chase_step(desk: Desk, objection: Objection) -> bool:
    repo = RunRepo(desk.session)
    if not objection.open:
        return await repo.chase(objection, objection.stage, None)
    run, compound = await _run_by_id(desk, objection.run_id)
    units = await desk.units.around(compound)
    unit = units.get(objection.unit_id) or answering_unit(compound, units)
    chain = supervisors(unit, units)
    stage = objection.stage + 1
    if stage > last_stage(chain):
        return await repo.chase(objection, objection.stage, None)
    later = stage_time(objection.created_at, objection.due_at, stage + 1)
    if not await repo.chase(objection, stage, later if stage < last_stage(chain) else None):
        return False
    moved = await repo.objection(objection.id)
    assert moved is not None
    zone = desk.config.bot.zone
    name, _locale = await desk.person(objection.user_id)
    flat = await topics.home_flat(desk, objection.user_id, compound.id)
    if stage == Stage.WARNED:
        await tell_people(
            desk,
            unit,
            units,
            lambda locale: ui.objection_nearly_due(moved, compound, zone, locale),
            markup=lambda locale: ui.answer_keyboard(moved, run, locale),
        )
        return True
    target = chased_unit(chain, stage)
    assert target is not None
    await tell_people(
        desk,
        target,
        units,
        lambda locale: ui.objection_overdue(moved, compound, run, unit, name, flat, zone, locale),
        markup=lambda locale: ui.answer_keyboard(moved, run, locale),  # the chased may answer
    )
    await tell_people(
        desk, unit, units, lambda locale: ui.objection_chased(moved, compound, target, locale)
    )
    return True


# --- the ledger (XLSX) and the monthly chart (PNG) ---------------------------------------------

TREND_MONTHS = 12


def months_back(month: date, n: int) -> list[date]:
    """The n months ending with `month`, oldest first."""
    found = [month]
    while len(found) < n:
        found.insert(0, previous_month(found[0]))
    return found


async def _scope_month(
    desk: Desk, actor: Actor, unit_id: int | None, month: date | None
) -> tuple[Unit, date, dict[int, Unit]]:
    """The scope, its compounds and the month shown (the latest evaluated by default)."""
    scope_unit = await oversight.scope(desk, actor, unit_id)
    compounds = {
        c.id: c for c in await desk.units.compounds_in(scope_unit.path, limit=MOST_COMPOUNDS)
    }
    month = await _month_or_latest(desk, list(compounds), month)
    if month is None:
        raise NotFound(Reason.GONE, "no month evaluated")
    return scope_unit, month, compounds


async def ledger(desk: Desk, actor: Actor, unit_id: int | None, month: date | None) -> Unit:
    """The scope's 五星台账 of the year up to the month (the latest evaluated by default), sent
    to the actor as an XLSX file."""
    scope_unit, month, compounds = await _scope_month(desk, actor, unit_id, month)
    repo = RunRepo(desk.session)
    runs = await repo.runs_between(list(compounds), date(month.year, 1, 1), month)
    parents = await desk.units.many(
        sorted({c.parent_id for c in compounds.values() if c.parent_id})
    )
    criteria = {
        cid: criteria_from(text)
        for cid, _first, text in await repo.criteria()
        if cid in {r.criteria_id for r in runs}
    }
    book = exports.StarsLedger(
        runs=runs,
        compounds=compounds,
        communities={
            c.id: parents[c.parent_id] for c in compounds.values() if c.parent_id in parents
        },
        figures=await repo.figures_of_runs([r.id for r in runs]),
        criteria=criteria,
        objections=await repo.objection_counts([r.id for r in runs]),
        per_star=desk.config.stars.per_star_yuan,
    )
    data = await asyncio.to_thread(exports.stars_xlsx, book)
    file_id = await desk.files.add(f"五星台账-{scope_unit.name}-{month:%Y-%m}.xlsx", data, desk.now)
    stars_total = sum(len(r.stars) for r in runs)
    caption = ui.ledger_caption(
        scope_unit,
        month,
        len(runs),
        award(stars_total, desk.config.stars.per_star_yuan),
        actor.locale,
    )
    await desk.outbox.send_document(actor.id, file_id, caption)
    return scope_unit


async def chart(desk: Desk, actor: Actor, unit_id: int | None, month: date | None) -> Unit:
    """The scope's month as a chart (each compound's stars; the five-star share over the last
    twelve months against the target), sent to the actor as a photo."""
    scope_unit, month, compounds = await _scope_month(desk, actor, unit_id, month)
    months = months_back(month, TREND_MONTHS)
    history = await RunRepo(desk.session).runs_between(list(compounds), months[0], month)
    runs = [r for r in history if r.month == month]
    shares = tuple(five_star_share(len(r.stars) for r in history if r.month == m) for m in months)
    target = desk.config.stars.target(month.year)
    drawn = ui.stars_chart(
        scope_unit,
        month,
        sorted(
            ((compounds[r.compound_id], r) for r in runs),
            key=lambda p: (-len(p[1].stars), p[0].name),
        ),
        months,
        shares,
        target[1] if target else None,
        actor.locale,
    )
    png = await asyncio.to_thread(render_stars, drawn)
    file_id = await desk.files.add(f"stars-{scope_unit.code}-{month:%Y%m}.png", png, desk.now)
    await desk.outbox.send_photo(
        actor.id, stored(file_id), ui.chart_caption(scope_unit, month, actor.locale)
    )
    return scope_unit
