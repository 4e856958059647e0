"""Cut bot/assets/fonts/LastMeterSansSC-Regular.otf out of Debian's Noto Sans CJK collection.

Run from the repository root after `apt-get install fonts-noto-cjk` and `pip install fonttools`:

    python scripts/make_font.py [--source NotoSansCJK-Regular.ttc] [--out path.otf]

The subset keeps ASCII, Latin-1, general punctuation, CJK punctuation, full-width forms, every
GB2312 hanzi and a few symbols the bot prints; it is renamed so it never shadows an installed Noto.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
OUT = ROOT / "bot" / "assets" / "fonts" / "LastMeterSansSC-Regular.otf"
SOURCE_FAMILY = "Noto Sans CJK SC"
FAMILY = "LastMeter Sans SC"
STYLE = "Regular"
PS_NAME = "LastMeterSansSC-Regular"
VERSION = "1.000"
EXTRA = "「」·•—…→↑↓%％"
# Copyright, designer, vendor and licence records travel with the glyphs (OFL §2); the Noto
# trademark line (7) and the source's names and IDs do not, since this is a modified version.
KEEP_NAME_IDS = {0, 8, 9, 10, 11, 12, 13, 14}
# Charts are horizontal text only; vertical metrics and baselines are dead weight.
DROP_TABLES = ["BASE", "VORG", "vhea", "vmtx"]
# Without `locl`/`vert` and friends the subset drops ~5,800 JP/KR/TC and vertical alternates
# (3.3 MB -> 1.8 MB), and shaping can never swap a Simplified glyph for another region's form.
LAYOUT_FEATURES = ["ccmp", "calt", "liga", "kern", "mark", "mkmk"]


def gb2312_hanzi() -> str:
    """Every hanzi in GB2312 (rows 0xB0–0xF7), in code order."""
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # row 0xD7 stops at 0xF9
    return "".join(chars)


def codepoints() -> set[int]:
    """The code points the subset must cover."""
    ranges = [
        (0x0020, 0x007E),  # ASCII
        (0x00A0, 0x00FF),  # Latin-1
        (0x2000, 0x206F),  # general punctuation
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF00, 0xFFEF),  # half- and full-width forms
    ]
    wanted = {cp for lo, hi in ranges for cp in range(lo, hi + 1)}
    wanted |= {ord(c) for c in gb2312_hanzi() + EXTRA}
    return wanted


def load_face(source: Path, family: str) -> TTFont:
    """The face of the collection whose family name is `family`."""
    for index, face in enumerate(TTCollection(source, lazy=True).fonts):
        if face["name"].getDebugName(1) == family:
            # Keep the source's timestamp so a rerun gives the same bytes, not a spurious diff.
            return TTFont(source, fontNumber=index, recalcTimestamp=False)
    raise SystemExit(f"{source}: no face named {family!r}")


def rename(font: TTFont) -> None:
    """Give the subset its own family in the name table and in the CFF top dict."""
    name = font["name"]
    name.names = [r for r in name.names if r.nameID in KEEP_NAME_IDS]
    for name_id, value in {
        1: FAMILY,
        2: STYLE,
        3: f"{VERSION};LastMeter;{PS_NAME}",
        4: f"{FAMILY}",
        5: f"Version {VERSION}; subset of Noto Sans CJK SC 2.004",
        6: PS_NAME,
        16: FAMILY,
        17: STYLE,
    }.items():
        name.setName(value, name_id, 3, 1, 0x409)
    # The collection shares one CFF table among all faces, so it still says "Noto Sans CJK JP".
    cff = font["CFF "].cff
    cff.fontNames = [PS_NAME]
    top = cff.topDictIndex[0]
    top.FullName = FAMILY
    top.FamilyName = FAMILY
    top.Weight = STYLE


def make(source: Path, out: Path) -> None:
    """Subset, rename and save the font; print what came out."""
    font = load_face(source, SOURCE_FAMILY)
    wanted = codepoints()
    options = subset.Options()
    options.drop_tables += DROP_TABLES
    options.layout_features = LAYOUT_FEATURES
    options.name_IDs = ["*"]  # rename() decides which records survive
    options.name_languages = [0x409]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    rename(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(out)
    covered = set(font.getBestCmap())
    missing = sorted(wanted - covered)
    print(
        f"{out}: {out.stat().st_size:,} bytes, {len(covered)} code points, {len(font.getGlyphOrder())} glyphs"
    )
    print(f"copyright: {font['name'].getDebugName(0)}")
    if missing:
        print(f"not in the source ({len(missing)}): {''.join(map(chr, missing))!r}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    make(args.source, args.out)


if __name__ == "__main__":
    main()
