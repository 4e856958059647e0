"""Facets of lost and found reports (issue 20): a contradiction of the same facet keeps an owner
from being told; the same pair without it is told. And the quality goals on every labelled set."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import bot.domain.matching as matching
from bench.lostfound import FRESH2, HARD, SETS, load, quality
from bot.domain.lexicon import Facet
from bot.domain.lostfound import Kind, match_days
from bot.domain.matching import (
    ABSENT,
    CONTENTS,
    THRESHOLD,
    UNNAMED,
    MatchIndex,
    contradicted,
    profile,
    similarity,
    surnames,
    worth_telling,
)

DAY = date(2026, 11, 21)


def told(lost: str, found: str, lost_category: str = "", found_category: str = "") -> bool:
    """Whether the owner of `lost` is told of `found`, as the bot decides it (index, threshold)."""
    index = MatchIndex()
    index.add(1, 0, DAY.toordinal(), profile(lost, lost_category))
    first, last = match_days(Kind.FOUND, DAY)
    ranked = index.query(profile(found, found_category), scope=0, first_day=first, last_day=last)
    return [c.item_id for c in worth_telling(ranked)] == [1]


def against(a: str, b: str) -> list[str]:
    return contradicted(profile(a).traits, profile(b).traits)


# (what contradicts, lost, found that contradicts it, found that does not)
VETOES = [
    # brand of a car key, of an e-bike key, of a phone, of a watch
    (
        Facet.BRAND,
        "丰田车钥匙，挂着小熊钥匙扣",
        "捡到本田车钥匙，挂着小熊",
        "捡到丰田车钥匙，挂着小熊",
    ),
    (Facet.BRAND, "雅迪电动车钥匙", "捡到爱玛电动车钥匙", "捡到雅迪的电瓶车钥匙"),
    (Facet.BRAND, "黑色华为手机", "捡到黑色小米手机", "捡到黑色华为手机"),
    (Facet.BRAND, "卡西欧手表 黑色 男款", "捡到黑色天梭手表，男士的", "捡到黑色卡西欧手表，男士的"),
    # surname on a card: 姓王 / 王某 / 持卡人王 / 名字叫王一诺
    (Facet.SURNAME, "身份证丢了，姓王", "捡到身份证，李某", "捡到身份证，王某"),
    (Facet.SURNAME, "社保卡遗失，姓吴", "捡到社保卡，持卡人周某", "捡到医保卡 吴某"),
    (
        Facet.SURNAME,
        "书包里作业本写着刘子豪",
        "捡到书包，作业本署名陈思琪",
        "捡到书包，作业本写着刘子豪",
    ),
    # which document it is
    (Facet.DOCUMENT, "驾驶证丢了 姓陈", "捡到身份证，陈某", "捡到驾照一本，陈某"),
    (Facet.DOCUMENT, "驾照丢了 姓林", "捡到行驶证 林某", "捡到机动车驾驶证 林某"),
    (Facet.DOCUMENT, "户口本丢了 姓郭", "捡到护照 郭某", "拾到户口簿一本 户主郭某"),
    # something said to be absent against something said to be there
    (
        ABSENT,
        "iPhone 14 蓝色 没有手机壳",
        "捡到蓝色苹果14，带黑色手机壳",
        "捡到蓝色苹果14，裸机没壳",
    ),
    (ABSENT, "钥匙3把，没挂任何东西", "捡到3把钥匙，挂着一个毛绒熊", "捡到3把钥匙，啥挂件都没有"),
    (ABSENT, "白色母猫，没有项圈", "捡到白色母猫，戴着铃铛项圈", "捡到白色母猫，没戴项圈"),
    (
        ABSENT,
        "黑色钱包 只有门禁卡 没有钱",
        "捡到黑色钱包，有门禁卡和现金",
        "捡到黑色钱包，有张门禁卡",
    ),
    (
        ABSENT,
        "黑色钱包，有身份证和现金",
        "捡到黑色钱包，空的，什么都没有",
        "捡到黑色钱包，有身份证",
    ),
    # species, breed, sex of a pet; a pet against a thing
    (Facet.SPECIES, "走失一只橘猫", "捡到一只橘色的小狗", "发现一只橘猫"),
    (Facet.BREED, "金毛走丢了，戴红色项圈", "捡到一只拉布拉多，戴红项圈", "有只金毛犬，红色项圈"),
    (Facet.SEX, "棕色泰迪 公的", "捡到棕色泰迪，母的", "捡到棕色泰迪，公狗"),
    (Facet.SPECIES, "泰迪 穿粉色衣服", "捡到粉色的校服", "捡到泰迪，穿粉衣服"),
    # a phone's model, what a key opens, the form of a thing, a bank
    (Facet.MODEL, "iPhone 13 白色", "捡到白色苹果15", "捡到白色苹果13"),
    (Facet.OPENS, "家里钥匙3把", "捡到奔驰车钥匙", "捡到3把家门钥匙"),
    (Facet.FORM, "黑色长柄伞", "捡到黑色折叠伞", "门卫室有一把黑色长柄雨伞"),
    (Facet.FORM, "老花镜，棕色眼镜盒", "捡到近视眼镜，棕色眼镜盒", "捡到老花眼镜，棕色眼镜盒"),
    (Facet.BANK, "工行卡一张 姓周", "捡到农业银行卡 周某", "捡到工商银行卡，周某"),
]


@pytest.mark.parametrize(("facet", "lost", "contradicting", "agreeing"), VETOES)
def test_a_contradicted_facet_vetoes_and_the_same_pair_without_it_is_told(
    facet: str, lost: str, contradicting: str, agreeing: str
) -> None:
    assert facet in against(lost, contradicting)
    assert similarity(profile(lost), profile(contradicting)) == 0.0
    assert not told(lost, contradicting)
    assert facet not in against(lost, agreeing)
    assert told(lost, agreeing)


# Wallet and bag contents: two containers holding different things weigh heavily against.
CONTENTS_PAIRS = [
    (
        "黑色钱包，里面有银行卡和现金",
        "捡到黑色钱包，里面只有门禁卡",
        "捡到黑色钱包，有银行卡、现金",
    ),
    (
        "米色帆布袋，装着两本书和保温杯",
        "捡到米色帆布包，只有一把伞",
        "捡到米色帆布包，装着书和保温杯",
    ),
    (
        "棕色皮夹，有身份证和驾驶证",
        "捡到棕色钱包，有银行卡和公交卡",
        "捡到棕色钱包，有身份证、驾照",
    ),
]


@pytest.mark.parametrize(("lost", "contradicting", "agreeing"), CONTENTS_PAIRS)
def test_a_wallet_with_other_contents_is_not_told(
    lost: str, contradicting: str, agreeing: str
) -> None:
    assert CONTENTS in against(lost, contradicting)
    assert not told(lost, contradicting, "wallet", "wallet")
    assert CONTENTS not in against(lost, agreeing)
    assert told(lost, agreeing, "wallet", "wallet")


# Softer facets divide the score instead: a colour, a sum, a number of keys, a figure, an age,
# an inscription, a vehicle's key against a key that names none.
SOFT = [
    (Facet.COLOUR, "蓝色长柄雨伞", "捡到绿色长柄雨伞", "捡到蓝色长柄雨伞"),
    (Facet.AMOUNT, "现金五百块，用红包装着", "捡到红包，有现金一百元", "捡到红包，有现金500元"),
    (
        Facet.COUNT,
        "家门钥匙两把，红色钥匙套",
        "捡到三把钥匙，红色钥匙套",
        "捡到两把钥匙，红色钥匙套",
    ),
    (Facet.FIGURE, "钥匙一串，挂着小兔子", "捡到钥匙一串，挂着小熊", "捡到钥匙一串，有小兔子挂件"),
    (Facet.AGE, "孩子的红色羽绒服", "捡到红色羽绒服，男款", "捡到儿童红色羽绒服"),
    (Facet.INSCRIPTION, "银手镯 内侧刻着平安", "捡到银镯子，刻着福字", "捡到银镯子，刻着平安"),
    (UNNAMED, "钥匙一把 没有挂件 铜的", "捡到本田车钥匙一把，没有挂件", "捡到钥匙一把，没有挂件"),
]


@pytest.mark.parametrize(("facet", "lost", "contradicting", "agreeing"), SOFT)
def test_a_softer_contradiction_weighs_against(
    facet: str, lost: str, contradicting: str, agreeing: str
) -> None:
    assert against(lost, contradicting) == [facet]
    assert 0 < similarity(profile(lost), profile(contradicting)) < THRESHOLD
    assert not told(lost, contradicting)
    assert facet not in against(lost, agreeing)
    assert told(lost, agreeing)


def test_facets_are_read_the_way_residents_write() -> None:
    assert surnames("男方姓汤")[0] == {"汤"} and surnames("刘姓，65年")[0] == {"刘"}
    assert surnames("持卡人赵某，名字叫王一诺")[0] == {"赵", "王"}
    assert surnames("泰迪，叫豆豆")[0] == set()  # a pet's name is no surname
    assert Facet.COLOUR not in profile("捡到老年卡，姓黄").traits.facets  # 黄 is the surname
    assert profile("身份正掉了").traits.facets[Facet.DOCUMENT] == {"id_card"}  # a typo
    assert profile("锁匙一串").weights.keys() >= {"item:key"}
    assert profile("工行卡一张").traits.facets[Facet.BANK] == {"icbc"}
    assert profile("现金两千多").traits.amounts == (2000,)
    assert "bag" not in profile("口袋里有一包纸巾").traits.present  # a pack, no bag
    assert profile("门卡贴着kitty猫贴纸").traits.facets[Facet.SPECIES] == {"thing"}  # no cat


def test_a_vetoed_candidate_is_no_candidate_in_the_index() -> None:
    index = MatchIndex()
    index.add(1, 0, DAY.toordinal(), profile("身份证丢了，姓王"))
    index.add(2, 0, DAY.toordinal(), profile("身份证丢了，姓李"))
    first, last = match_days(Kind.FOUND, DAY)
    ranked = index.query(profile("捡到身份证，李某"), scope=0, first_day=first, last_day=last)
    assert [c.item_id for c in ranked] == [2]


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
def test_every_labelled_set_meets_the_goals(path: Path) -> None:
    """recall@3 ≥ 0.9 and notification precision ≥ 0.8 on every set, the tuning sets and the
    held-out ones (which set is which: bench/lostfound.py)."""
    figures = quality(path)
    assert figures["found with a match"] >= 20
    assert figures["recall@3"] >= 0.9
    assert figures["notification precision"] >= 0.8


def test_the_sets_are_as_large_as_issue_20_asks() -> None:
    assert len(load(HARD)) >= 150
    assert all(len(load(path)) >= 40 for path in SETS)


def test_the_goal_check_fails_without_the_facets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quality test has teeth: with contradictions ignored (the matcher before issue 20 did
    not know most of these facets) the hard set falls far below the precision goal."""
    monkeypatch.setattr(matching, "contradicted", lambda a, b: [])
    for path in (HARD, FRESH2):
        assert quality(path)["notification precision"] < 0.8
