"""五星小区 in the private chat: `/stars [YYYY-MM]` — the board of the staff member's scope for a
month (the latest evaluated by default), and a compound's card behind each button; the
community confirms a result, or adjusts it with a reason (a flow of the conversation engine), and
the result is made public."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.errors import NotFound, Reason
from bot.domain.inputs import parse_number
from bot.domain.people import Actor
from bot.domain.stars import RunStatus, Star, parse_month
from bot.services import stars
from bot.services.desk import Desk
from bot.ui import menu
from bot.ui import stars as ui
from bot.ui.stars import StarsAction, StarsCb
from handlers import wizard
from handlers.common import private_state
from handlers.wizard import Choice, Done, Next, Outcome, Stay, Step, Turn

STARS = tuple(Star)
ON = 100  # the stars step's "next" choice (the others are the stars' indexes)


async def show_card(
    desk: Desk, actor: Actor, compound_id: int, month: date, lead: str = ""
) -> None:
    card = await stars.card(desk, actor, compound_id, month)
    scope = (await stars.board(desk, actor, None, month)).scope
    reviewer = await stars.may_review(desk, actor, card.compound)
    markup = ui.card_keyboard(
        card,
        scope.id,
        actor.locale,
        review=reviewer and card.run.status is RunStatus.COMPUTED,
        enter=reviewer,
    )
    text = ui.card_text(card, actor.locale)
    await desk.outbox.send(actor.id, (lead + "\n\n" if lead else "") + text, markup=markup)


# --- adjusting a result: a flow of the conversation engine ------------------------------------


@dataclass(frozen=True, slots=True)
class Adjustment:
    compound_id: int
    month: int  # 202612
    version: int
    stars: tuple[Star, ...] = ()


def _of(code: int) -> date:
    found = parse_month(f"{code // 100}-{code % 100:02d}")
    assert found is not None
    return found


def _toggle(form: Turn[Adjustment], arg: int) -> Outcome[Adjustment]:
    if arg == ON:
        return Next(form.draft)
    star = STARS[arg]
    chosen = set(form.draft.stars) ^ {star}
    return Stay(replace(form.draft, stars=tuple(s for s in STARS if s in chosen)))


async def _adjust(form: Turn[Adjustment], text: str) -> Outcome[Adjustment]:
    draft = form.draft
    run = await stars.review(
        form.desk,
        form.actor,
        draft.compound_id,
        _of(draft.month),
        draft.version,
        frozenset(draft.stars),
        text,
    )
    await show_card(
        form.desk,
        form.actor,
        run.compound_id,
        run.month,
        _("✏️ Adjusted and made public; the branch has been told."),
    )
    return Done()


# --- entering an indicator: a flow of the conversation engine -----------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """A figure the community enters for this month, with its evidence."""

    compound_id: int
    key: str = ""
    value: float | None = None
    note: str = ""
    photo: str | None = None


async def _indicators(form: Turn[Entry]) -> list[Choice]:
    found = await stars.entered_indicators(form.desk, form.actor, form.draft.compound_id)
    return [
        Choice(i.name_en if form.locale == "en" and i.name_en else i.name, n)
        for n, i in enumerate(found)
    ]


async def _pick_indicator(form: Turn[Entry], arg: int) -> Outcome[Entry]:
    found = await stars.entered_indicators(form.desk, form.actor, form.draft.compound_id)
    return Next(replace(form.draft, key=found[arg].key))


async def _save_entry(form: Turn[Entry], _arg: int) -> Outcome[Entry]:
    draft = form.draft
    assert draft.value is not None
    month = await stars.enter(
        form.desk, form.actor, draft.compound_id, draft.key, draft.value, draft.note, draft.photo
    )
    await form.desk.outbox.send(
        form.actor.id,
        _("💾 Entered for {month}; it counts when the month is evaluated.").format(
            month=f"{month:%Y-%m}"
        ),
        markup=menu.keyboard(form.actor),
    )
    return Done()


def _entry_summary(form: Turn[Entry]) -> str:
    draft = form.draft
    return "\n".join(
        [
            _("<b>Indicator entered for this month</b>"),
            _("Figure: {value}").format(
                value=f"{draft.value:g}" if draft.value is not None else "—"
            ),
            _("Note: {note}").format(note=html.quote(draft.note) or "—"),
            _("Photo: {answer}").format(answer=_("yes") if draft.photo else _("no")),
        ]
    )


MET, NOT_MET = 1, 0

ENTER = wizard.Flow(
    name="stentry",
    draft=Entry,
    closed=lambda: _("This form is no longer open. Please open the result again with /stars."),
    steps=(
        Step(
            key="indicator",
            ask=lambda form: _("Which indicator do you enter for this month?"),
            choices=_indicators,
            pick=_pick_indicator,
            columns=1,
        ),
        Step(
            key="value",
            ask=lambda form: _("Is it met this month?"),
            choices=lambda form: [Choice(_("✅ Met"), MET), Choice(_("✗ Not met"), NOT_MET)],
            pick=lambda form, arg: Next(replace(form.draft, value=float(arg))),
        ),
        Step(
            key="evidence",
            ask=lambda form: _(
                "The evidence: send a photo (with a caption if you like) or write a note."
            ),
            text=lambda form, text: Next(replace(form.draft, note=text)),
            limit=stars.MAX_REASON,
            photo=lambda form, photo: Next(
                replace(form.draft, photo=photo.file_id, note=photo.caption or form.draft.note)
            ),
            photo_mb=lambda form: form.desk.config.lostfound.max_photo_mb,
        ),
        Step(
            key="confirm",
            ask=_entry_summary,
            choices=lambda form: [Choice(_("💾 Save"), 1)],
            pick=_save_entry,
        ),
    ),
)


ADJUST = wizard.Flow(
    name="stadjust",
    draft=Adjustment,
    closed=lambda: _("This form is no longer open. Please open the result again with /stars."),
    steps=(
        Step(
            key="stars",
            ask=lambda form: _("Which stars stand? Tap a star to change it, then “Next”."),
            choices=lambda form: [
                *(
                    Choice(
                        ("✅ " if star in form.draft.stars else "⬜ ")
                        + ui.star_name(star, form.locale),
                        n,
                    )
                    for n, star in enumerate(STARS)
                ),
                Choice(_("Next »"), ON),
            ],
            pick=_toggle,
            columns=1,
        ),
        Step(
            key="reason",
            ask=lambda form: _("Why does the result differ from the figures? It is kept with it."),
            text=_adjust,
            limit=stars.MAX_REASON,
        ),
    ),
)


# --- objecting to a result made public, and the sub-district's answer ---------------------------


@dataclass(frozen=True, slots=True)
class ObjectionNote:
    run_id: int


async def _object(form: Turn[ObjectionNote], text: str) -> Outcome[ObjectionNote]:
    made = await stars.object_to(form.desk, form.actor, form.draft.run_id, text)
    await form.desk.outbox.send(
        form.actor.id,
        _(
            "📮 Your objection #{id} went to the sub-district, which answers you by {due}. "
            "Thank you."
        ).format(id=made.id, due=form.desk.local(made.due_at)),
        markup=menu.keyboard(form.actor),
    )
    return Done()


OBJECT = wizard.Flow(
    name="stobject",
    draft=ObjectionNote,
    closed=lambda: _("This form is no longer open. Please tap the button under the notice again."),
    steps=(
        Step(
            key="text",
            ask=lambda form: _(
                "What is wrong with this result? The sub-district reads it with your name and "
                "flat (never the group), and answers you here."
            ),
            text=_object,
            limit=stars.MAX_OBJECTION,
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class AnswerNote:
    objection_id: int
    upheld: bool


async def _answer(form: Turn[AnswerNote], text: str) -> Outcome[AnswerNote]:
    draft = form.draft
    answered = await stars.answer(form.desk, form.actor, draft.objection_id, draft.upheld, text)
    await form.desk.outbox.send(
        form.actor.id,
        (
            _("↩️ Answered: the result goes back to the community for a new review.")
            if answered.upheld
            else _("✅ Answered: the result stands.")
        ),
        markup=menu.keyboard(form.actor),
    )
    return Done()


ANSWER = wizard.Flow(
    name="stanswer",
    draft=AnswerNote,
    closed=lambda: _("This form is no longer open. The objection may have been answered."),
    steps=(
        Step(
            key="text",
            ask=lambda form: _("Your answer to the resident (they read it in their chat):"),
            text=_answer,
            limit=stars.MAX_OBJECTION,
        ),
    ),
)


async def cmd_start_objection(
    message: Message, command: CommandObject, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    """The 公示's button: the objection form, for a resident of the compound while it is open."""
    run_id = parse_number((command.args or "").removeprefix(ui.OBJECTION_PREFIX), 1, 2**31 - 1)
    if run_id is None:
        raise NotFound(Reason.GONE, command.args or "")
    run, compound = await stars.objectable(desk, actor, run_id)
    await wizard.start(
        OBJECT,
        desk,
        actor,
        private_state(state, actor.id),
        ObjectionNote(run.id),
        lead=ui.public_notice(
            compound,
            run,
            None,
            desk.config.stars.per_star_yuan,
            desk.config.stars.public_days,
            actor.locale,
        ),
    )


async def cmd_stars(message: Message, command: CommandObject, actor: Actor, desk: Desk) -> None:
    args = (command.args or "").strip()
    month = parse_month(args) if args else None
    if args and month is None:
        await desk.outbox.send(
            actor.id, _("Please give the month like 2026-11, or nothing for the latest.")
        )
        return
    board = await stars.board(desk, actor, None, month)
    await desk.outbox.send(
        actor.id,
        ui.board_text(board, actor.locale),
        markup=ui.board_keyboard(board, actor.locale),
    )


async def on_button(
    callback: CallbackQuery, callback_data: StarsCb, actor: Actor, desk: Desk, state: FSMContext
) -> None:
    month = parse_month(f"{callback_data.month // 100}-{callback_data.month % 100:02d}")
    await desk.outbox.answer_callback(actor.id, callback.id)
    if month is None:
        board = await stars.board(desk, actor, None, None)
        await desk.outbox.send(actor.id, ui.board_text(board, actor.locale))
        return
    if callback_data.action in (StarsAction.KEEP, StarsAction.UPHOLD):
        found = await stars.answerable(desk, actor, callback_data.id)
        note = AnswerNote(found.id, callback_data.action is StarsAction.UPHOLD)
        await wizard.start(ANSWER, desk, actor, private_state(state, actor.id), note)
        return
    if callback_data.action is StarsAction.CHART:
        await stars.chart(desk, actor, callback_data.id, month)
        return
    if callback_data.action is StarsAction.LEDGER:
        await stars.ledger(desk, actor, callback_data.id, month)
        return
    if callback_data.action is StarsAction.CARD:
        await show_card(desk, actor, callback_data.id, month)
        return
    if callback_data.action is StarsAction.CONFIRM:
        run = await stars.review(desk, actor, callback_data.id, month, callback_data.v)
        await show_card(
            desk,
            actor,
            run.compound_id,
            run.month,
            _("✅ Confirmed and made public; the branch has been told."),
        )
        return
    if callback_data.action is StarsAction.ENTER:
        if not await stars.entered_indicators(desk, actor, callback_data.id):
            await desk.outbox.send(
                actor.id, _("This month's criteria have no indicator that the community enters.")
            )
            return
        await wizard.start(
            ENTER, desk, actor, private_state(state, actor.id), Entry(callback_data.id)
        )
        return
    if callback_data.action is StarsAction.ADJUST:
        card = await stars.card(desk, actor, callback_data.id, month)
        await stars.check_reviewer(desk, actor, card.compound)
        draft = Adjustment(
            card.compound.id,
            callback_data.month,
            callback_data.v,
            tuple(s for s in STARS if s in card.run.stars),
        )
        await wizard.start(ADJUST, desk, actor, private_state(state, actor.id), draft)
        return
    board = await stars.board(desk, actor, callback_data.id, month)
    await desk.outbox.send(
        actor.id,
        ui.board_text(board, actor.locale),
        markup=ui.board_keyboard(board, actor.locale),
    )


def private_router() -> Router:
    router = Router(name="stars")
    router.message.register(
        cmd_start_objection,
        CommandStart(deep_link=True, magic=F.args.startswith(ui.OBJECTION_PREFIX)),
    )
    router.message.register(cmd_stars, Command("stars"))
    router.callback_query.register(on_button, StarsCb.filter())
    return router
