"""The flats file (bot/flatfile.py): the example's rule-made buildings, corrections and skips,
the CSV form, and every mistake named by its file and place."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.households import parse_address
from bot.flatfile import FlatFileError, FlatSpec, read_flats_file

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "flats.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_makes_the_buildings_by_their_rules() -> None:
    entries = {e.code: e for e in read_flats_file(ROOT / "flats.example.toml")}
    zuoan = entries["xihu-zuoan"].flats
    assert len(zuoan) == 10 + 24 + 64
    stairwell = [f for f in zuoan if (f.building, f.unit) == ("3", "2")]
    assert len(stairwell) == 12
    assert FlatSpec("3", "2", "501", 5, 89.5) in stairwell
    assert FlatSpec("3", "2", "601", 6, 126.0) in stairwell  # the correction
    assert FlatSpec("1", "", "502", 5, None) in zuoan  # no stairwells
    assert not [f for f in zuoan if f.building == "5" and f.unit == "1" and f.floor == 1]
    assert {f.unit for f in entries["xihu-jiayuan"].flats} == {"东", "西"}
    assert len(entries["chunqiu-huayuan"].flats) == 54


def test_a_typed_address_reaches_a_stairwell_named_by_its_side() -> None:
    assert parse_address("A栋东单元601") == ("A", "东", "601")
    assert parse_address("3号楼2单元501") == ("3", "2", "501")


def test_the_csv_form(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "compound,building,unit,number,area_m2\nxihu-zuoan,3,2,501,89.5\nxihu-zuoan,1,,1201,\n",
        "flats.csv",
    )
    [entry] = read_flats_file(path)
    assert entry.code == "xihu-zuoan"
    assert entry.flats == (FlatSpec("3", "2", "501", 5, 89.5), FlatSpec("1", "", "1201", 12, None))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[[compound]]\ncode = 'a'\n", "compound[0]: no flats"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\nfloors = 0\n"
         "per_floor = 2\n", "building[0].floors: expected a whole number 1–200, got 0"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\nfloors = 2\n"
         "per_floor = 51\n", "per_floor: expected a whole number 1–50"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1-2'\nfloors = 2\n"
         "per_floor = 1\n", "building[0].name: '1-2' must be at most 16 letters or digits"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\nfloors = 2\n"
         "per_floor = 1\narea_m2 = -3\n", "area_m2: -3 m² is not between 0 and 10000"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\nfloors = 2\n"
         "per_floor = 1\nskip = ['901']\n", "skip: the rule makes no flat 901"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\nfloors = 2\n"
         "per_floor = 1\ncolour = 'red'\n", "building[0].colour: unknown key"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\n"
         "[[compound.building.flat]]\nnumber = '101'\n[[compound.building]]\nname = '1'\n"
         "[[compound.building.flat]]\nnumber = '101'\n",
         "building[1].flat[0]: flat 1-101 is already listed at compound[0].building[0].flat[0]"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\nunits = 2\n"
         "[[compound.building.flat]]\nunit = '3'\nnumber = '101'\n",
         "building 1 has no stairwell '3'"),
        ("[[compound]]\ncode = 'a'\n[[compound.building]]\nname = '1'\nfloors = 1\n"
         "per_floor = 1\n[[compound]]\ncode = 'a'\n", "compound[1].code: 'a' is already listed"),
        ("compound = 3\n", "compound: expected an array of tables"),
        ("[[compound\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_a_mistake_is_named_where_it_is(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(FlatFileError) as caught:
        read_flats_file(write(tmp_path, text))
    assert str(caught.value).startswith(f"{tmp_path / 'flats.toml'}: ")
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        ("xihu-zuoan,3,2,501,\nxihu-zuoan,3,2,501,\n", "line 3: flat 3-2-501 is already listed at line 2"),
        (",3,2,501,\n", "line 2: compound is required"),
        ("xihu-zuoan,3,2,,\n", "line 2: number: missing"),
        ("xihu-zuoan,3,2,501,big\n", "line 2: area_m2: expected a number, got 'big'"),
        ("xihu-zuoan,3,2,501,1e9\n", "line 2: area_m2: 1000000000.0 m² is not between"),
        ("xihu-zuoan,3,2,501,nan\n", "line 2: area_m2: nan m² is not between"),
        ("xihu-zuoan,3,2,501,,extra\n", "line 2: more columns than the header"),
        ("", "no flats"),
    ],
)  # fmt: skip
def test_a_csv_mistake_names_its_line(tmp_path: Path, rows: str, says: str) -> None:
    path = write(tmp_path, "compound,building,unit,number,area_m2\n" + rows, "flats.csv")
    with pytest.raises(FlatFileError) as caught:
        read_flats_file(path)
    assert says in str(caught.value)


def test_a_wrong_header_or_kind_of_file(tmp_path: Path) -> None:
    with pytest.raises(FlatFileError, match="line 1: expected the header"):
        read_flats_file(write(tmp_path, "code,flat\n", "flats.csv"))
    with pytest.raises(FlatFileError, match=r"expected a \.toml or \.csv file"):
        read_flats_file(write(tmp_path, "", "flats.xlsx"))
    with pytest.raises(FlatFileError, match="no such file"):
        read_flats_file(tmp_path / "missing.toml")
