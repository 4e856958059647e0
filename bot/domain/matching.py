"""Matching lost and found reports: Chinese text that copes with synonyms and word order.

A report becomes a *profile*: the concepts the lexicon recognises (手机 and 电话 are one concept,
"黑色华为" and "华为…黑的" give the same two), plus character bigrams and single characters of
whatever the lexicon does not know (names, places, unusual brands). Two profiles are compared by a
weighted cosine, and the category (chosen or implied by the words) adds a little.

Then the *facets* are compared — what one report says that the other may contradict. Decisive
(nobody is told: `lexicon.VETO`): a brand (a Toyota key is not a Honda key), a surname on a card
(姓王 against 李某), which document it is (身份证 against 驾驶证, unless a wallet holds them), a phone's
model number, what a key opens (a car against a home), the form of a thing (a long umbrella
against a folding one, reading glasses against sun glasses), a pet's species, breed or sex, an
animal against a thing, a bank, and something said to be absent against something said to be
there ("没有壳" against "带粉色手机壳", "空的" against a wallet with cards). Weighing heavily against
(the score is multiplied by `CONFLICT` for each): a colour, a sum of money, the number of keys, the
figure on a pendant or a print, whom a thing is for (a child or a grown-up), an inscription, two
wallets or bags holding different things, and a vehicle's key against a key that names no
vehicle. Everything here is pure: no clock, no database.

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
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np

from bot.domain.lexicon import (
    BLOCKERS,
    CONTAINERS,
    DOCUMENTS,
    ENTRIES,
    EXCLUSIVE,
    FILLER,
    NOT_CONTENTS,
    PET_GEAR,
    SURNAMES,
    VEHICLES,
    VETO,
    Facet,
)

WEIGHTS: Final = {
    Facet.ITEM: 3.0,
    Facet.SPECIES: 3.0,
    Facet.BRAND: 2.5,
    Facet.BREED: 2.5,
    Facet.BANK: 2.5,
    Facet.SURNAME: 2.5,
    Facet.OPENS: 2.0,
    Facet.MODEL: 2.0,
    Facet.FORM: 1.5,
    Facet.COUNT: 1.0,
    Facet.FIGURE: 1.5,
    Facet.AGE: 1.0,
    Facet.SEX: 1.5,
    Facet.COLOUR: 1.5,
    Facet.DETAIL: 1.0,
    Facet.NONE: 1.0,  # both say it has no case: a little evidence
}
BIGRAM: Final = 1.0
UNIGRAM: Final = 0.35
WORD: Final = 2.0  # a latin word or a number: a model, a year
HELD: Final = 1.5  # what a wallet or a bag holds counts less than the wallet or the bag
CONFLICT: Final = 0.35  # the score is multiplied by this for each softly contradicted facet
SAME_CATEGORY: Final = 0.06
THRESHOLD: Final = 0.45  # below this nobody is told
RELATIVE: Final = 0.6  # nor anyone far behind the best candidate
MAX_TOLD: Final = 3
AMOUNT_RATIO: Final = 1.6  # 300 and 350 yuan may be one sum misremembered; 100 and 500 are not
ABSENT: Final = "absent"  # a contradiction: one says it is not there, the other that it is
CONTENTS: Final = "contents"  # a contradiction: two containers holding different things
THING: Final = "thing"  # the species of what is not an animal
UNNAMED: Final = "unnamed"  # a contradiction: a vehicle's key against a key that starts nothing
_REMOTE_KEYS = frozenset({"car", "ebike", "motorbike", "vehicle"})  # a bicycle's key looks like any

_SURFACES: dict[str, list[tuple[Facet, str, str]]] = defaultdict(list)
for _facet, _concept, _category, _words in ENTRIES:
    for _word in _words:
        _SURFACES[_word].append((_facet, _concept, _category))
for _word in BLOCKERS:
    _SURFACES.setdefault(_word, [])
_LEXICON = re.compile("|".join(re.escape(w) for w in sorted(_SURFACES, key=lambda w: (-len(w), w))))
_FILLER = re.compile("|".join(re.escape(w) for w in sorted(FILLER, key=lambda w: (-len(w), w))))
# "没有挂件", "无壳", "不带套", "没戴项圈", "没有任何挂件": the next thing is said to be absent
_NEGATION = re.compile(
    r"(?:没有?|无|未)(?:任何|什么)?(?:戴|穿|挂|装|套|贴|带|拴|系|含)?(?:着|了)?$|不(?:带|戴|含)$"
)
# "啥挂件都没有", "什么壳也没有": absent, said after the thing
_ANY = re.compile(r"(?:啥|什么|任何)$")
_NONE_AFTER = re.compile(r"(?:都|也)(?:没|无)")
_SEX_BEFORE = {"公": "male", "母": "female"}  # 公泰迪, 母的 is in the lexicon
_WORD = re.compile(r"[a-z]+|\d+")
_CJK = re.compile(r"[\u3400-\u9fff]+")

# Surnames: 姓王, 王姓, 王某, 持卡人王…, 名字叫王一诺, or a name standing alone (王建华).
_S = "[" + SURNAMES + "]"
_SURNAME = re.compile(
    rf"姓(?:名)?(?:是|为|叫)?[:\s]*({_S})"
    rf"|({_S})(?:姓(?!{_S})|某)"  # 刘姓, 王某; but 男方姓汤 is 汤
    rf"|(?:名字|名叫|署名|持证人|持卡人|户主|写着|写有|写的是|签名)(?:是|叫|为)?[:\s]*({_S})(?!\3)"
    rf"|叫({_S})(?=[\u3400-\u9fff]{{2}}(?![\u3400-\u9fff]))(?!\4)"
)
_NAME_ALONE = re.compile(rf"^{_S}[\u3400-\u9fff]{{2}}$")
# A phone's model number: iPhone 14, 苹果15, Mate 60, P40, 小米13
_MODEL = re.compile(
    r"(?:iphone|苹果|mate|nova|小米|红米|redmi|荣耀|galaxy|note|reno|iqoo)\s?(\d{1,2})(?!\d)"
    r"|(?<![a-z])[pkx](\d{2})(?!\d)"
)
# Money: 三百多现金, 五百块, 800元, 两百块钱 (but "一块手表" is a watch)
_AMOUNT = re.compile(
    r"(\d+|[一二两三四五六七八九十百千万]+)多?\s?(元|块钱|块|现金|的现金)"
    r"|现金(?:大概|大约|约|有|共|一共)?(\d+|[一二两三四五六七八九十百千万]+)"
)
# How many keys: 一把钥匙 (one key, where a bunch is 一串), 两把钥匙, 钥匙3把
_NUMERAL = r"(?<![\d一二两三四五六七八九十])(\d{1,2}|[一二两三四五六七八九十])"
_COUNT = re.compile(rf"{_NUMERAL}把(?:小|大)?(?:钥匙|锁匙)|(?:钥匙|锁匙){_NUMERAL}把")
# What is engraved, written or printed on it: 刻着平安, 内圈刻有"爱"字, 绣着实验中学
_INSCRIPTION = re.compile(r"(?:刻|绣|印|写)(?:着|有|了|的是)['\"“”‘’「」]*([\u3400-\u9fff]{1,4})")
_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def _number(text: str) -> int:
    """A number written in digits or in Chinese: 800, 三百, 两千五, 十五."""
    if text.isdigit():
        return int(text)
    total = section = digit = 0
    unit = 1
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            unit = _UNITS[char]
            section += (digit or 1) * unit
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
            unit = 10_000
    return total + section + digit * max(unit // 10, 1)


@dataclass(frozen=True, slots=True)
class Traits:
    """What a contradiction or a category is judged on (kept per item by the index)."""

    facets: dict[Facet, frozenset[str]]  # exclusive facets only
    categories: frozenset[str]  # chosen and implied
    present: frozenset[str] = frozenset()  # things and details said to be there
    absent: frozenset[str] = frozenset()  # things said not to be there ("没有挂件", "裸机")
    contents: frozenset[str] = frozenset()  # what a wallet or a bag holds
    amounts: tuple[int, ...] = ()  # sums of money, in yuan


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


def surnames(text: str) -> tuple[set[str], str]:
    """The surnames a report gives for the owner (normalised text) — 姓王, 王某, 持卡人王, 名字叫王一诺
    — and the text with them blanked out (姓黄 is nobody's yellow, 金某 no gold)."""
    found: set[str] = set()
    chars = list(text)
    for match in _SURNAME.finditer(text):
        group = next(i for i in range(1, 5) if match.group(i))
        found.add(match.group(group))
        chars[match.start(group)] = " "
    return found, "".join(chars)


def names_alone(text: str) -> set[str]:
    """Surnames of names written by themselves, 王建华 (for a report about a document)."""
    return {
        segment[0]
        for segment in _CJK.findall(text)
        if _NAME_ALONE.match(segment)
        and segment[1] != segment[0]
        and not _LEXICON.search(segment)
        and not _FILLER.search(segment[1:])
    }


def profile(text: str, category: str = "") -> Profile:
    names, text = surnames(normalise(text))
    weights: dict[str, float] = defaultdict(float)
    facets: dict[Facet, set[str]] = defaultdict(set)
    categories = {category} if category else set()
    items: set[str] = set()
    present: set[str] = set()
    absent: set[str] = set()
    rest: list[str] = []
    last = 0
    for match in _LEXICON.finditer(text):
        before = text[last : match.start()]
        rest.append(before)
        last = match.end()
        negated = bool(_NEGATION.search(before)) or (
            bool(_ANY.search(before)) and bool(_NONE_AFTER.match(text, match.end()))
        )
        for facet, concept, implied in _SURFACES[match.group()]:
            if facet is Facet.NONE or (negated and facet in (Facet.ITEM, Facet.DETAIL)):
                absent.add(concept)
                weights[f"none:{concept}"] = WEIGHTS[Facet.NONE]
                continue
            if negated:
                continue
            weights[f"{facet}:{concept}"] = WEIGHTS[facet]
            if facet in EXCLUSIVE:
                facets[facet].add(concept)
            if facet is Facet.ITEM:
                items.add(concept)
            if facet in (Facet.ITEM, Facet.DETAIL):
                present.add(concept)
            if facet in (Facet.SPECIES, Facet.BREED) and before[-1:] in _SEX_BEFORE:
                facets[Facet.SEX].add(_SEX_BEFORE[before[-1]])
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
    if Facet.BANK in facets:  # 工行卡, 建设银行的: a bank card
        items.add("bank_card")
    if "document" in absent:  # 没有证件: none of them
        absent |= DOCUMENTS
    if Facet.SEX in facets:
        weights.update({f"{Facet.SEX}:{sex}": WEIGHTS[Facet.SEX] for sex in facets[Facet.SEX]})
    contents: set[str] = set()
    if items & CONTAINERS:
        contents = items - CONTAINERS - NOT_CONTENTS
        if contents:
            present.add(CONTENTS)
        for held in contents:  # a wallet holding an ID card is a wallet first
            weights[f"{Facet.ITEM}:{held}"] = HELD
    elif items & DOCUMENTS:
        facets[Facet.DOCUMENT] = items & DOCUMENTS
    if Facet.SPECIES not in facets and items - PET_GEAR:
        facets[Facet.SPECIES].add(THING)  # a thing, not an animal
    for match in _COUNT.finditer(text):
        count = str(_number(match.group(1) or match.group(2)))
        facets[Facet.COUNT].add(count)
        weights[f"{Facet.COUNT}:{count}"] = WEIGHTS[Facet.COUNT]
    for match in _INSCRIPTION.finditer(text):
        words = match.group(1).removesuffix("字").removesuffix("的")
        if words:
            facets[Facet.INSCRIPTION].update(words)
    if items & DOCUMENTS:
        names |= names_alone(text)
    for name in names:
        facets[Facet.SURNAME].add(name)
        weights[f"{Facet.SURNAME}:{name}"] = WEIGHTS[Facet.SURNAME]
    for match in _MODEL.finditer(text):
        model = match.group(1) or match.group(2)
        facets[Facet.MODEL].add(model)
        weights[f"{Facet.MODEL}:{model}"] = WEIGHTS[Facet.MODEL]
    amounts = tuple(
        amount
        for match in _AMOUNT.finditer(text)
        if (amount := _number(match.group(1) or match.group(3))) >= 10 or match.group(2) != "块"
    )
    traits = Traits(
        facets={f: frozenset(v) for f, v in facets.items()},
        categories=frozenset(categories),
        present=frozenset(present),
        absent=frozenset(absent),
        contents=frozenset(contents),
        amounts=amounts,
    )
    return Profile(weights=dict(weights), traits=traits)


def contradicted(a: Traits, b: Traits) -> list[str]:
    """What the two reports disagree on: exclusive facets both name with nothing in common (black
    against white, Huawei against Samsung, 王 against 李), a sum of money far from the other, a
    thing one says is absent and the other there, and two containers holding different things."""
    found: list[str] = [
        facet
        for facet, values in a.facets.items()
        if facet in b.facets and not values & b.facets[facet]
    ]
    opens_a, opens_b = a.facets.get(Facet.OPENS), b.facets.get(Facet.OPENS)
    if Facet.OPENS in found and opens_a is not None and opens_b is not None:
        if _some_vehicle(opens_a) & _some_vehicle(opens_b):
            found.remove(Facet.OPENS)  # 车钥匙 against 丰田车钥匙: some vehicle, and which one
    elif (
        (opens_a is None) != (opens_b is None)
        and "key" in a.present & b.present
        and (opens_a or opens_b or frozenset()) & _REMOTE_KEYS
    ):
        found.append(UNNAMED)  # who loses a car key says so; who finds one sees it
    if (
        a.amounts
        and b.amounts
        and not any(max(x, y) <= AMOUNT_RATIO * min(x, y) for x in a.amounts for y in b.amounts)
    ):
        found.append(Facet.AMOUNT)
    if a.absent & b.present or b.absent & a.present:
        found.append(ABSENT)
    if a.contents and b.contents and not (a.contents <= b.contents or b.contents <= a.contents):
        found.append(CONTENTS)
    return found


def _some_vehicle(opens: frozenset[str]) -> frozenset[str]:
    """What a key may start: "车钥匙" (some vehicle) may be any of them."""
    return opens | VEHICLES if "vehicle" in opens else opens


def contradictions(a: Traits, b: Traits) -> int:
    """How many facets the two reports contradict each other on."""
    return len(contradicted(a, b))


def adjust(cosine: float, a: Traits, b: Traits) -> float:
    """The cosine, after the contradictions (a decisive one: 0) and the category."""
    against = contradicted(a, b)
    if any(c in VETO or c == ABSENT for c in against):
        return 0.0
    score = cosine * CONFLICT ** len(against)
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
    marked dead (and its slot reused never), so adds and removes are O(features). A query gathers
    its postings into two scratch arrays kept between queries (one event loop uses an index).
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
        # Scratch for `query`, made by the first query: numpy (20 MB) is loaded only by a bot
        # whose lost-and-found is searched, not at every start.
        self._slots_buffer: np.ndarray | None = None
        self._weights_buffer: np.ndarray | None = None

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
        import numpy as np

        found_in: list[tuple[np.ndarray, np.ndarray, float]] = []
        total = 0
        for feature, weight in item.weights.items():
            posting = self._postings.get(feature)
            if posting is not None:
                found_in.append(
                    (np.frombuffer(posting[0], np.int64), np.frombuffer(posting[1]), weight)
                )
                total += len(posting[0])
        if not found_in:
            return []
        if (
            self._slots_buffer is None
            or self._weights_buffer is None
            or len(self._slots_buffer) < total
        ):  # grown once in a while, then reused: no page faults
            self._slots_buffer = np.empty(total + total // 4, np.int64)
            self._weights_buffer = np.empty(total + total // 4)
        slots, weights = self._slots_buffer[:total], self._weights_buffer[:total]
        at = 0
        for posted, posted_weights, weight in found_in:
            end = at + len(posted)
            slots[at:end] = posted
            np.multiply(posted_weights, weight, out=weights[at:end])
            at = end
        size = len(self._ids)
        cosines = np.bincount(slots, weights, minlength=size).astype(np.float64, copy=False)
        ok = (
            (np.frombuffer(self._alive, dtype=np.int8) == 1)
            & (np.frombuffer(self._scope, dtype=np.int64) == scope)
            & (np.frombuffer(self._day, dtype=np.int64) >= first_day)
            & (np.frombuffer(self._day, dtype=np.int64) <= last_day)
            & (cosines > 0)
        )
        cosines /= np.frombuffer(self._norm)
        cosines /= item.norm
        cosines[~ok] = -1.0
        # Penalties and the category only move a score by a bounded amount: rescore a few extra.
        pool = min(size, max(limit * 4, 40))
        top = (
            np.argpartition(cosines, size - pool)[size - pool :] if pool < size else np.arange(size)
        )
        found: list[Candidate] = []
        for slot in top.tolist():
            cosine = float(cosines[slot])
            other = self._traits[slot]
            if cosine <= 0 or other is None:
                continue
            score = adjust(cosine, item.traits, other)
            if score > 0:  # a decisive contradiction: no candidate at all
                found.append(Candidate(int(self._ids[slot]), score))
        found.sort(key=lambda c: (-c.score, c.item_id))
        return found[:limit]
