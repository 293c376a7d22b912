"""Web fonts: the Noto TTFs as WOFF2, split by ``unicode-range`` the way Google Fonts serves them.

A browser downloads a face only when the page uses a character in its ``unicode-range``, so a
Vietnamese page fetches ``latin`` + ``vietnamese`` (tens of KB) instead of two 0.5 MB TTFs.
Subsetting takes seconds, so each file is a pipeline job: made in the pool beside the other jobs,
once per input (font bytes, ranges, tool versions), and cached like any job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import brotli
import fontTools
from fontTools import subset
from fontTools.ttLib import TTFont

from producers.errors import ConfigError, ProducerError
from producers.jobs.pipeline import Job, JobResult

NOTO_DIR = Path("/usr/share/fonts/truetype/noto")

# Google Fonts' ranges for Noto Sans. Those overlap (latin-ext also holds the Vietnamese letters
# ă đ ơ ư, and the browser picks the last matching rule), so here each subset takes only what no
# earlier one took: the files are disjoint and a Vietnamese page needs latin + vietnamese alone.
# "rest" (None) takes every other character the font has, so no character is lost.
LATIN = ("U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, U+0308, U+0329, "
         "U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD")
LATIN_EXT = ("U+0100-02BA, U+02BD-02C5, U+02C7-02CC, U+02CE-02D7, U+02DD-02FF, U+0304, U+0308, U+0329, "
             "U+1D00-1DBF, U+1E00-1E9F, U+1EF2-1EFF, U+2020, U+20A0-20AB, U+20AD-20C0, U+2113, U+2C60-2C7F, "
             "U+A720-A7FF")
VIETNAMESE = ("U+0102-0103, U+0110-0111, U+0128-0129, U+0168-0169, U+01A0-01A1, U+01AF-01B0, U+0300-0301, "
              "U+0303-0304, U+0308-0309, U+0323, U+0329, U+1EA0-1EF9, U+20AB")
DEVANAGARI = "U+0900-097F, U+1CD0-1CFF, U+A8E0-A8FF, U+200C-200D, U+25CC"
SANS_SUBSETS = {"latin": LATIN, "vietnamese": VIETNAMESE, "latin-ext": LATIN_EXT, "rest": None}

FONTS = {  # source file -> (family, weight, subsets)
    "NotoSans-Regular.ttf": ("Noto Sans", 400, SANS_SUBSETS),
    "NotoSans-Bold.ttf": ("Noto Sans", 700, SANS_SUBSETS),
    # One file: Devanagari shaping (conjuncts, reph, matras) needs the whole GSUB/GPOS together.
    "NotoSansDevanagari-Regular.ttf": ("Noto Sans Devanagari", 400, {"devanagari": DEVANAGARI}),
    "NotoSansDevanagari-Bold.ttf": ("Noto Sans Devanagari", 700, {"devanagari": DEVANAGARI}),
}
# Faces a phone that reads the script already has (Android's Devanagari system font is Noto Sans
# Devanagari): tried by name before the download, which is 43 KB a weight (issue 15's 150 KB budget).
LOCAL_FIRST = {"NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"}
# Hinting dropped (phones ignore it; it is a third of the bytes or more); every layout feature kept.
SUBSET_OPTIONS = {"layout_features": ["*"], "hinting": False, "flavor": "woff2"}


def parse_range(text: str) -> set[int]:
    codepoints: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().removeprefix("U+").partition("-")
        codepoints.update(range(int(first, 16), int(last or first, 16) + 1))
    return codepoints


def format_range(codepoints: set[int]) -> str:
    spans: list[list[int]] = []
    for cp in sorted(codepoints):
        if spans and cp == spans[-1][1] + 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    return ", ".join(f"U+{a:04X}" if a == b else f"U+{a:04X}-{b:04X}" for a, b in spans)


def font_jobs() -> list[Job]:
    """One job per WOFF2 file, so the pool subsets them side by side and the cache keeps them."""
    versions = {"fonttools": fontTools.version, "brotli": brotli.__version__, "options": SUBSET_OPTIONS}
    jobs = []
    for name, (family, weight, subsets) in FONTS.items():
        source = NOTO_DIR / name
        if not source.is_file():
            raise ConfigError(f"font {source} is missing; run scripts/setup (fonts-noto-core)")
        earlier: list[str] = []
        for label, text in subsets.items():
            file = f"{Path(name).stem}.{label}.woff2"
            jobs.append(Job(name=f"font:{file}", kind="fonts", action=subset_action,
                            params={"file": file, "family": family, "weight": weight, "range": text,
                        "local": [Path(name).stem, f"{family} {'Bold' if weight == 700 else 'Regular'}"]
                        if name in LOCAL_FIRST else [],
                                    "earlier": list(earlier), **versions},
                            files=(source,), outputs=("font.woff2", "face.json")))
            if text:
                earlier.append(text)
    return jobs


def subset_action(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """The characters of the range that no earlier subset of this font took (all the rest if no
    range), as WOFF2, and the ``unicode-range`` they make (``face.json``)."""
    font = TTFont(files[0], recalcTimestamp=False)   # no "now" in head: same input, same bytes
    cmap = set(font.getBestCmap())
    taken = set().union(*(parse_range(text) & cmap for text in params["earlier"]))
    codepoints = (parse_range(params["range"]) & cmap if params["range"] else cmap) - taken
    if not codepoints:
        raise ProducerError(f"{params['file']}: {files[0].name} has no character in {params['range']}")
    options = subset.Options(**SUBSET_OPTIONS)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    subset.save_font(font, str(out_dir / "font.woff2"), options)
    (out_dir / "face.json").write_text(json.dumps({"range": format_range(codepoints)}), encoding="utf-8")
    return []


def font_faces(jobs: list[Job], results: Mapping[str, JobResult]) -> tuple[list[tuple[str, Path]], str]:
    """(site-relative name, built file) for every WOFF2 file, and the CSS ``@font-face`` rules."""
    failed = [results[job.name] for job in jobs if results[job.name].status == "failed"]
    if failed:
        raise ConfigError("web fonts: " + "; ".join(f"{r.name}: {r.error}" for r in failed))
    files, rules = [], []
    for job in jobs:
        outputs, face = results[job.name].outputs, job.params
        unicode_range = json.loads(outputs["face.json"].read_text(encoding="utf-8"))["range"]
        files.append((f"assets/fonts/{face['file']}", outputs["font.woff2"]))
        local = "".join(f"local('{name}'), " for name in face.get("local", []))
        rules.append(f"@font-face {{ font-family: '{face['family']}'; font-weight: {face['weight']}; "
                     f"font-display: swap; src: {local}url('fonts/{face['file']}') format('woff2'); "
                     f"unicode-range: {unicode_range}; }}")
    return files, "\n".join(rules)
