"""One conversation engine for every form in the private chat.

A flow is a declared list of steps over a typed draft (a dataclass, kept in the FSM storage through
one pydantic codec). Each step has its question, the buttons it offers, and a parser for each kind
of answer it takes (text, photo, location, contact); "skip", "back" and "cancel" are the engine's.
A step's handlers return what happens next:

- `Next(draft)`: the answer is taken; go on to the next step that applies (or `to=` a named one);
- `Stay(draft)`: the answer is taken; ask the same step again (showing the draft as it is now);
- `Say(text)`: the answer is not taken (a date that cannot be read): say why, keep everything;
- `Done()`: the flow is over (its last step has said what happened); the conversation ends;
- `Then(flow, draft)`: the conversation goes on as another flow (代办: whom it is for, then the
  report itself).

The engine handles once, for every flow: cancel, text that is too long or empty, media where the
step wants something else, "please use the buttons", a button of an earlier step, a forged or
stale button (checked against the step's buttons as they are now), a draft saved by an older build,
and restarts (the step and the draft live in the durable FSM storage, never in memory).
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Generic, TypeAlias, TypeVar, cast

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from pydantic import TypeAdapter, ValidationError

from bot.domain.inputs import Id, valid_location
from bot.domain.people import Actor
from bot.services.desk import Desk
from bot.ui import menu
from bot.ui.keyboard import InlineKeyboardBuilder
from handlers.common import drop_buttons, not_a_place, pressed_on, private_state, refuse_button

VERSION = 1  # of the saved state and of the buttons: raise it when either changes shape
# The forms' states before this engine: a person in the middle of one at the upgrade is told the
# form was closed (and the keyboard removed), instead of every message falling through.
LEGACY_STATES = (
    "Report:draft",
    "LostFound:draft",
    "Party:register",
    "Activities:plan",
    "Campaigns:plan",
)
REVISIONS = 1_000_000  # a form's questions are counted modulo this (it keeps the buttons short)
STATE_PREFIX = "wizard:"

D = TypeVar("D")
T = TypeVar("T")
Maybe: TypeAlias = T | Awaitable[T]


# --- what a step decides ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Next(Generic[D]):
    draft: D
    lead: str = ""  # said before the next question ("Photo added.")
    to: str | None = None  # a step's key: go there instead of to the next one


@dataclass(frozen=True, slots=True)
class Stay(Generic[D]):
    draft: D
    lead: str = ""


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class Done:
    pass


@dataclass(frozen=True)
class Then:
    flow: Flow[Any]
    draft: Any
    lead: str = ""


Outcome: TypeAlias = Next[D] | Stay[D] | Say | Done | Then


@dataclass(frozen=True, slots=True)
class Turn(Generic[D]):
    """What a step's handlers are given: the unit of work, who is answering, the draft so far."""

    desk: Desk
    actor: Actor
    draft: D

    @property
    def locale(self) -> str:
        return self.actor.locale


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    arg: int


@dataclass(frozen=True, slots=True)
class Photo:
    file_id: str
    size: int | None
    caption: str


class Ask(StrEnum):
    """A reply keyboard the step shows instead of inline buttons (Telegram only asks for a phone
    number or a location that way)."""

    CONTACT = "contact"
    LOCATION = "location"


@dataclass(frozen=True)
class Step(Generic[D]):
    key: str  # stable and short: it is in the buttons and in the saved state
    ask: Callable[[Turn[D]], Maybe[str]]
    choices: Callable[[Turn[D]], Maybe[Sequence[Choice]]] | None = None
    pick: Callable[[Turn[D], int], Maybe[Outcome[D]]] | None = None
    text: Callable[[Turn[D], str], Maybe[Outcome[D]]] | None = None
    limit: int = 0  # longer text is cut to this, with a word about it (0: no limit)
    photo: Callable[[Turn[D], Photo], Maybe[Outcome[D]]] | None = None
    photo_mb: Callable[[Turn[D]], float] | None = None  # a larger photo (or file) is refused
    location: Callable[[Turn[D], float, float], Maybe[Outcome[D]]] | None = None
    contact: Callable[[Turn[D], str], Maybe[Outcome[D]]] | None = None  # their own number
    skip: Callable[[Turn[D]], Maybe[Outcome[D]]] | None = None  # offers a Skip button
    skip_label: Callable[[], str] = field(default=lambda: _("Skip"))
    back_label: Callable[[], str] | None = None  # instead of « Back
    keyboard: Ask | None = None
    applies: Callable[[D], bool] = field(default=lambda _draft: True)
    columns: int = 2


@dataclass(frozen=True)
class Flow(Generic[D]):
    name: str  # stable and short: it is in the buttons and in the saved state
    draft: type[D]
    steps: tuple[Step[D], ...]
    closed: Callable[[], str]  # a button of a form that is no longer open
    cancelled: Callable[[], str] = field(default=lambda: _("Cancelled. Nothing was saved."))
    codec: TypeAdapter[D] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codec", TypeAdapter(self.draft))
        keys = [step.key for step in self.steps]
        assert len(set(keys)) == len(keys), f"{self.name}: two steps share a key"

    @property
    def state(self) -> str:
        return STATE_PREFIX + self.name

    def index(self, key: str) -> int | None:
        return next((n for n, step in enumerate(self.steps) if step.key == key), None)


class Op(StrEnum):
    PICK = "p"
    SKIP = "s"
    BACK = "b"
    CANCEL = "x"


class WizardCb(CallbackData, prefix="wz"):
    v: int  # VERSION
    flow: str
    step: str
    rev: Id  # which question of the form: only the latest one's buttons act
    op: Op
    arg: Id = 0


# --- running a flow ------------------------------------------------------------------------------


async def _got(value: Maybe[T]) -> T:
    if inspect.isawaitable(value):
        return cast(T, await value)
    return value


@dataclass(frozen=True, slots=True)
class _Open(Generic[D]):
    flow: Flow[D]
    index: int
    draft: D
    rev: int = 0  # counts the questions asked; saved with the form, carried by its buttons

    @property
    def step(self) -> Step[D]:
        return self.flow.steps[self.index]


class Wizard:
    """The flows, and the router that carries their answers and buttons."""

    def __init__(self, *flows: Flow[Any]) -> None:
        self.flows = {flow.name: flow for flow in flows}
        assert len(self.flows) == len(flows), "two flows share a name"

    # --- loading and saving

    async def _load(self, state: FSMContext) -> _Open[Any] | None:
        current = await state.get_state()
        if current is None or not current.startswith(STATE_PREFIX):
            return None
        flow = self.flows.get(current.removeprefix(STATE_PREFIX))
        data = await state.get_data()
        if flow is None or data.get("v") != VERSION:
            return None
        index = flow.index(str(data.get("step")))
        try:
            draft = flow.codec.validate_python(data.get("draft"))
        except ValidationError:
            return None  # saved by a build whose draft had another shape
        rev = data.get("rev")
        if index is None or not isinstance(rev, int):
            return None
        return _Open(flow, index, draft, rev)

    # --- answers

    async def on_message(
        self, message: Message, actor: Actor, desk: Desk, state: FSMContext
    ) -> None:
        form = await self._load(state)
        if form is None:
            await state.clear()
            await desk.outbox.send(
                actor.id,
                _("That form was closed (the bot was updated). Please start again from the menu."),
                markup=menu.keyboard(actor),
            )
            return
        step, turn = form.step, Turn(desk, actor, form.draft)
        outcome: Outcome[Any]
        lead = ""
        if message.text is not None:
            text = message.text.strip()
            if step.keyboard and step.skip and text == step.skip_label():
                outcome = await _got(step.skip(turn))
            elif text == _("✖ Cancel"):  # a reply keyboard's Cancel, whichever step is asked
                await _cancel(form, desk, actor, state)
                return
            elif step.text is None:
                if step.keyboard is Ask.CONTACT:
                    outcome = Say(_("Please use the button to share your number, or tap “Skip”."))
                elif step.keyboard is Ask.LOCATION:
                    outcome = Say(_("Please use the button to share your location."))
                elif step.photo is not None:
                    outcome = Say(_what_it_takes(step))
                else:
                    await _ask_again(form, desk, actor, state, _("Please use the buttons below."))
                    return
            elif not text:
                outcome = Say(_("Please write it in a few words."))
            else:
                if step.limit and len(text) > step.limit:
                    lead = _("That was long; I kept the first {limit} characters.").format(
                        limit=step.limit
                    )
                    text = text[: step.limit]
                outcome = await _got(step.text(turn, text))
        elif message.photo and step.photo is not None:
            biggest = message.photo[-1]
            photo = Photo(biggest.file_id, biggest.file_size, (message.caption or "").strip())
            too_large = _too_large(step, turn, photo.size)
            outcome = Say(too_large) if too_large else await _got(step.photo(turn, photo))
        elif message.location is not None and step.location is not None:
            lat, lon = message.location.latitude, message.location.longitude
            if not valid_location(lat, lon):
                outcome = Say(not_a_place())
            else:
                outcome = await _got(step.location(turn, lat, lon))
        elif message.contact is not None and step.contact is not None:
            if message.contact.user_id != actor.id:
                outcome = Say(
                    _("Please share your own number with the button below, or tap “Skip”.")
                )
            else:
                outcome = await _got(step.contact(turn, message.contact.phone_number[:32]))
        elif message.document is not None and step.photo is not None:
            too_large = _too_large(step, turn, message.document.file_size)
            outcome = Say(too_large or _("Please send the picture as a photo, not as a file."))
        else:
            outcome = Say(_what_it_takes(step))
        await _apply(form, outcome, desk, actor, state, lead)

    async def on_button(
        self,
        callback: CallbackQuery,
        callback_data: WizardCb,
        actor: Actor,
        desk: Desk,
        state: FSMContext,
    ) -> None:
        state = private_state(state, actor.id)  # forms live in the private chat
        flow = self.flows.get(callback_data.flow) if callback_data.v == VERSION else None
        if flow is None:  # from an older build, or forged
            await refuse_button(desk.outbox, callback)
            return
        form = await self._load(state)
        if form is None or form.flow is not flow:
            await refuse_button(desk.outbox, callback, flow.closed())
            return
        await desk.outbox.answer_callback(actor.id, callback.id)
        step, turn = form.step, Turn(desk, actor, form.draft)
        if callback_data.step != step.key or callback_data.rev != form.rev:
            # A button of an earlier question (or of an earlier form, even its Cancel): ask
            # where we are.
            await _ask_again(form, desk, actor, state)
            return
        if callback_data.op is Op.CANCEL:
            await _cancel(form, desk, actor, state)
            await drop_buttons(desk.outbox, actor.id, pressed_on(callback))
            return
        if callback_data.op is Op.BACK:
            back = _backward(form.flow, form.draft, form.index)
            if back is not None:
                await _go(_Open(flow, back, form.draft, form.rev), desk, actor, state, "", step)
                return
        elif callback_data.op is Op.SKIP and step.skip is not None:
            await _apply(form, await _got(step.skip(turn)), desk, actor, state)
            return
        elif callback_data.op is Op.PICK and step.pick is not None:
            offered = await _got(step.choices(turn)) if step.choices else ()
            if any(choice.arg == callback_data.arg for choice in offered):
                picked: Outcome[Any] = await _got(step.pick(turn, callback_data.arg))
                await _apply(form, picked, desk, actor, state)
                if isinstance(picked, Done | Then):  # the form is over: its last buttons go
                    await drop_buttons(desk.outbox, actor.id, pressed_on(callback))
                return
        await _ask_again(form, desk, actor, state)  # a button this step does not offer now

    def router(self) -> Router:
        router = Router(name="wizard")
        states = [flow.state for flow in self.flows.values()] + list(LEGACY_STATES)
        router.message.register(
            self.on_message,
            F.chat.type == "private",
            StateFilter(*states),
            ~F.text.startswith("/"),
        )
        router.callback_query.register(self.on_button, WizardCb.filter())
        return router


# --- asking and saving ----------------------------------------------------------------------


async def start(
    flow: Flow[D],
    desk: Desk,
    actor: Actor,
    state: FSMContext,
    draft: D,
    *,
    at: str | None = None,
    lead: str = "",
) -> None:
    """Open `flow` with `draft` (replacing whatever conversation was open) and ask."""
    index = flow.index(at) if at else _forward(flow, draft, -1)
    assert index is not None, f"{flow.name}: no step {at}"
    # A new form's questions count on from a random place, so that a button of an earlier form
    # never passes for one of this form's.
    rev = secrets.randbelow(REVISIONS)
    await _go(_Open(flow, index, draft, rev), desk, actor, state, lead, None)


async def _save(state: FSMContext, form: _Open[Any]) -> None:
    await state.set_state(form.flow.state)
    await state.set_data(
        {
            "v": VERSION,
            "step": form.step.key,
            "rev": form.rev,
            "draft": form.flow.codec.dump_python(form.draft, mode="json"),
        }
    )


async def _go(
    form: _Open[Any],
    desk: Desk,
    actor: Actor,
    state: FSMContext,
    lead: str,
    came_from: Step[Any] | None,
    *,
    moved: bool = True,
) -> None:
    """Save the form and ask its step. `moved`: the step or the draft changed, so the buttons of
    the questions before are no longer this form's."""
    if moved:
        form = replace(form, rev=(form.rev + 1) % REVISIONS)
    await _save(state, form)
    step = form.step
    if came_from is not None and came_from.keyboard and not step.keyboard:
        # The phone or location keyboard stays up until a message takes it away.
        await desk.outbox.send(actor.id, lead or _("Thank you."), markup=menu.keyboard(actor))
        lead = ""
    turn = Turn(desk, actor, form.draft)
    text = await _got(step.ask(turn))
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup
    if step.keyboard:
        markup = _reply_keyboard(step)
    else:
        markup = await _buttons(form, turn)
    await desk.outbox.send(actor.id, (lead + "\n\n" if lead else "") + text, markup=markup)


async def _ask_again(
    form: _Open[Any], desk: Desk, actor: Actor, state: FSMContext, lead: str = ""
) -> None:
    await _go(form, desk, actor, state, lead, None, moved=False)


async def _apply(
    form: _Open[Any],
    outcome: Outcome[Any],
    desk: Desk,
    actor: Actor,
    state: FSMContext,
    lead: str = "",
) -> None:
    def joined(more: str) -> str:
        return "\n".join(part for part in (lead, more) if part)

    if isinstance(outcome, Done):
        await state.clear()
    elif isinstance(outcome, Then):
        await start(outcome.flow, desk, actor, state, outcome.draft, lead=joined(outcome.lead))
    elif isinstance(outcome, Say):
        await desk.outbox.send(actor.id, joined(outcome.text))
    elif isinstance(outcome, Stay):
        again = _Open(form.flow, form.index, outcome.draft, form.rev)
        await _go(again, desk, actor, state, joined(outcome.lead), None)
    else:
        index = (
            form.flow.index(outcome.to)
            if outcome.to
            else _forward(form.flow, outcome.draft, form.index)
        )
        assert not outcome.to or index is not None, f"{form.flow.name}: no step {outcome.to}"
        if index is None:  # a last step said Next: stay there
            index = form.index
        after = _Open(form.flow, index, outcome.draft, form.rev)
        await _go(after, desk, actor, state, joined(outcome.lead), form.step)


async def _cancel(form: _Open[Any], desk: Desk, actor: Actor, state: FSMContext) -> None:
    await state.clear()
    await desk.outbox.send(actor.id, form.flow.cancelled(), markup=menu.keyboard(actor))


# --- moving between steps, and the keyboards ----------------------------------------------------------


def _forward(flow: Flow[D], draft: D, index: int) -> int | None:
    return next(
        (n for n in range(index + 1, len(flow.steps)) if flow.steps[n].applies(draft)), None
    )


def _backward(flow: Flow[D], draft: D, index: int) -> int | None:
    return next((n for n in range(index - 1, -1, -1) if flow.steps[n].applies(draft)), None)


def _data(form: _Open[Any], op: Op, arg: int = 0) -> WizardCb:
    return WizardCb(
        v=VERSION, flow=form.flow.name, step=form.step.key, rev=form.rev, op=op, arg=arg
    )


async def _buttons(form: _Open[Any], turn: Turn[Any]) -> InlineKeyboardMarkup:
    step = form.step
    builder = InlineKeyboardBuilder()
    choices = await _got(step.choices(turn)) if step.choices else ()
    for choice in choices:
        builder.button(text=choice.label, callback_data=_data(form, Op.PICK, choice.arg))
    builder.adjust(step.columns)
    if step.skip is not None:
        builder.row()
        builder.button(text=step.skip_label(), callback_data=_data(form, Op.SKIP))
    builder.row()
    if _backward(form.flow, form.draft, form.index) is not None:
        label = step.back_label() if step.back_label else _("« Back")
        builder.button(text=label, callback_data=_data(form, Op.BACK))
    builder.button(text=_("✖ Cancel"), callback_data=_data(form, Op.CANCEL))
    return builder.as_markup()


def _reply_keyboard(step: Step[Any]) -> ReplyKeyboardMarkup:
    if step.keyboard is Ask.CONTACT:
        first = KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)
    else:
        first = KeyboardButton(text=_("📍 Share my location"), request_location=True)
    rows = [[first]]
    if step.skip is not None:
        rows.append([KeyboardButton(text=step.skip_label())])
    rows.append([KeyboardButton(text=_("✖ Cancel"))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True)


def _too_large(step: Step[Any], turn: Turn[Any], size: int | None) -> str:
    """Why a photo or a file is refused for its size (empty: it is not)."""
    limit = step.photo_mb(turn) if step.photo_mb else None
    if limit is None or size is None or size <= limit * 1024 * 1024:
        return ""
    return _("That photo is too large (over {limit} MB). Please send a smaller one.").format(
        limit=f"{limit:g}"
    )


def _what_it_takes(step: Step[Any]) -> str:
    if step.photo and step.location:
        return _("I can take text, photos and a location here. Or tap Cancel.")
    if step.photo and step.text:
        return _("I can take text and photos here. Or tap Cancel.")
    if step.photo:
        return _("Please send a photo, or tap Skip.") if step.skip else _("Please send a photo.")
    if step.text:
        return _("Please answer with text or the buttons, or /cancel.")
    return _("Please use the buttons below.")
