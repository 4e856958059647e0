"""Matching lost and found reports: Chinese text that copes with synonyms and word order.

A report becomes a *profile*: the concepts the lexicon recognises (手机 and 电话 are one concept,
"黑色华为" and "华为…黑的" give the same two), plus character bigrams and single characters of
whatever the lexicon does not know (names, places, unusual brands). Two profiles are compared by a
weighted cosine; a contradiction on an exclusive facet (a green umbrella against a blue one, Huawei
against Samsung, a cat against a dog) divides the score, and the category (chosen or implied by
the words) adds a little. Everything here is pure: no clock, no database.

`MatchIndex` keeps open reports of one kind in memory (numpy arrays over inverted lists) so that a
query against 100,000 open items costs a few milliseconds.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from bot.domain.lexicon import BLOCKERS, ENTRIES, EXCLUSIVE, FILLER, Facet

WEIGHTS: Final = {
    Facet.ITEM: 3.0,
    Facet.SPECIES: 3.0,
    Facet.BRAND: 2.5,
    Facet.BREED: 2.5,
    Facet.BANK: 2.5,
    Facet.COLOUR: 1.5,
    Facet.DETAIL: 1.0,
}
BIGRAM: Final = 1.0
UNIGRAM: Final = 0.35
WORD: Final = 2.0  # a latin word or a number: a model, a year
CONFLICT: Final = 0.35  # the score is multiplied by this for each contradicted facet
SAME_CATEGORY: Final = 0.06
THRESHOLD: Final = 0.40  # below this nobody is told
RELATIVE: Final = 0.6  # nor anyone far behind the best candidate
MAX_TOLD: Final = 3

_SURFACES: dict[str, list[tuple[Facet, str, str]]] = defaultdict(list)
for _facet, _concept, _category, _words in ENTRIES:
    for _word in _words:
        _SURFACES[_word].append((_facet, _concept, _category))
for _word in BLOCKERS:
    _SURFACES.setdefault(_word, [])
_LEXICON = re.compile("|".join(re.escape(w) for w in sorted(_SURFACES, key=lambda w: (-len(w), w))))
_FILLER = re.compile("|".join(re.escape(w) for w in sorted(FILLER, key=lambda w: (-len(w), w))))
_NEGATION = re.compile(r"(?:没有|没|无|不带|未带|不含)$")  # "没有挂件": no pendant
_WORD = re.compile(r"[a-z]+|\d+")
_CJK = re.compile(r"[\u3400-\u9fff]+")


@dataclass(frozen=True, slots=True)
class Traits:
    """What a contradiction or a category is judged on (kept per item by the index)."""

    facets: dict[Facet, frozenset[str]]  # exclusive facets only
    categories: frozenset[str]  # chosen and implied


@dataclass(frozen=True, slots=True)
class Profile:
    """What a report says about its item, as weighted features."""

    weights: dict[str, float]
    traits: Traits
    norm: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "norm", math.sqrt(sum(w * w for w in self.weights.values())))


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def profile(text: str, category: str = "") -> Profile:
    text = normalise(text)
    weights: dict[str, float] = defaultdict(float)
    facets: dict[Facet, set[str]] = defaultdict(set)
    categories = {category} if category else set()
    rest: list[str] = []
    last = 0
    for match in _LEXICON.finditer(text):
        before = text[last : match.start()]
        rest.append(before)
        last = match.end()
        if _NEGATION.search(before):
            continue
        for facet, concept, implied in _SURFACES[match.group()]:
            weights[f"{facet}:{concept}"] = WEIGHTS[facet]
            if facet in EXCLUSIVE:
                facets[facet].add(concept)
            if implied:
                categories.add(implied)
    rest.append(text[last:])
    for piece in rest:
        for word in _WORD.findall(piece):
            weights[f"w:{word}"] = WORD
            if len(word) == 4 and word[:2] in ("19", "20"):  # 1965 and 65 are one year
                weights[f"w:{word[2:]}"] = WORD
        for segment in _CJK.findall(piece):
            for run in _FILLER.split(segment):
                for i, char in enumerate(run):
                    weights[f"u:{char}"] = UNIGRAM
                    if i + 1 < len(run):
                        weights[f"b:{run[i : i + 2]}"] = BIGRAM
    traits = Traits({f: frozenset(v) for f, v in facets.items()}, frozenset(categories))
    return Profile(weights=dict(weights), traits=traits)


def contradictions(a: Traits, b: Traits) -> int:
    """How many exclusive facets both name and disagree on (black vs white, Huawei vs Samsung)."""
    return sum(
        1
        for facet, values in a.facets.items()
        if facet in b.facets and not values & b.facets[facet]
    )


def adjust(cosine: float, a: Traits, b: Traits) -> float:
    score = cosine * CONFLICT ** contradictions(a, b)
    if a.categories & b.categories:
        score += SAME_CATEGORY
    return score


def similarity(a: Profile, b: Profile) -> float:
    if not a.norm or not b.norm:
        return 0.0
    dot = sum(w * b.weights.get(f, 0.0) for f, w in a.weights.items())
    return adjust(dot / (a.norm * b.norm), a.traits, b.traits)


@dataclass(frozen=True, slots=True)
class Candidate:
    item_id: int
    score: float


def worth_telling(ranked: list[Candidate]) -> list[Candidate]:
    """Who to tell of a match, best first: likely enough, close to the best, and only a few."""
    if not ranked:
        return []
    floor = max(THRESHOLD, ranked[0].score * RELATIVE)
    return [c for c in ranked if c.score >= floor][:MAX_TOLD]


class MatchIndex:
    """Open reports of one kind, searchable by profile, with a scope and a day for each.

    Inverted lists live in `array`s that numpy reads without copying; a removed item is only
    marked dead (and its slot reused never), so adds and removes are O(features).
    """

    def __init__(self) -> None:
        self._postings: dict[str, tuple[array[int], array[float]]] = {}
        self._ids: array[int] = array("q")
        self._scope: array[int] = array("q")
        self._day: array[int] = array("q")
        self._norm: array[float] = array("d")
        self._alive: array[int] = array("b")
        self._traits: list[Traits | None] = []
        self._slot: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, item_id: int) -> bool:
        return item_id in self._slot

    def add(self, item_id: int, scope: int, day: int, item: Profile) -> None:
        if item_id in self._slot or not item.norm:
            return
        slot = len(self._ids)
        self._slot[item_id] = slot
        self._ids.append(item_id)
        self._scope.append(scope)
        self._day.append(day)
        self._norm.append(item.norm)
        self._alive.append(1)
        self._traits.append(item.traits)
        for feature, weight in item.weights.items():
            posting = self._postings.get(feature)
            if posting is None:
                posting = self._postings[feature] = (array("q"), array("d"))
            posting[0].append(slot)
            posting[1].append(weight)

    def discard(self, item_id: int) -> None:
        slot = self._slot.pop(item_id, None)
        if slot is not None:
            self._alive[slot] = 0
            self._traits[slot] = None

    def query(
        self, item: Profile, *, scope: int, first_day: int, last_day: int, limit: int = 10
    ) -> list[Candidate]:
        """The best `limit` open items in `scope` dated between the two days, best first."""
        if not item.norm or not self._slot:
            return []
        slots: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for feature, weight in item.weights.items():
            posting = self._postings.get(feature)
            if posting is not None:
                slots.append(np.frombuffer(posting[0], dtype=np.int64))
                weights.append(np.frombuffer(posting[1], dtype=np.float64) * weight)
        if not slots:
            return []
        size = len(self._ids)
        dots = np.bincount(np.concatenate(slots), np.concatenate(weights), minlength=size)
        ok = (
            (np.frombuffer(self._alive, dtype=np.int8) == 1)
            & (np.frombuffer(self._scope, dtype=np.int64) == scope)
            & (np.frombuffer(self._day, dtype=np.int64) >= first_day)
            & (np.frombuffer(self._day, dtype=np.int64) <= last_day)
            & (dots > 0)
        )
        cosines = np.where(ok, dots / (np.frombuffer(self._norm) * item.norm), -1.0)
        # Penalties and the category only move a score by a bounded amount: rescore a few extra.
        pool = min(size, max(limit * 4, 40))
        top = np.argpartition(-cosines, pool - 1)[:pool] if pool < size else np.arange(size)
        found: list[Candidate] = []
        for slot in top.tolist():
            cosine = float(cosines[slot])
            other = self._traits[slot]
            if cosine <= 0 or other is None:
                continue
            found.append(Candidate(int(self._ids[slot]), adjust(cosine, item.traits, other)))
        found.sort(key=lambda c: (-c.score, c.item_id))
        return found[:limit]
