"""Web fonts: the Noto TTFs as WOFF2, split by ``unicode-range`` the way Google Fonts serves them.

A browser downloads a face only when the page uses a character in its ``unicode-range``, so a
Vietnamese page fetches ``latin`` + ``vietnamese`` (tens of KB) instead of two 0.5 MB TTFs.
Subsetting takes seconds, so the files are built once per input (fonts, ranges, tool versions)
into the cache and reused by every later build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import brotli
import fontTools
from fontTools import subset
from fontTools.ttLib import TTFont

from .errors import ConfigError
from .pipeline import TRASH, Cache, discard

VERSION = 1                      # bump when the output changes for the same inputs
NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
MANIFEST = "manifest.json"       # written last: its presence marks a complete folder

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


def web_fonts(cache_root: Path) -> tuple[list[tuple[str, Path]], str]:
    """(site-relative name, built file) for every WOFF2 subset, and the CSS ``@font-face`` rules."""
    sources = {}
    for name in FONTS:
        source = NOTO_DIR / name
        if not source.is_file():
            raise ConfigError(f"font {source} is missing; run scripts/setup (fonts-noto-core)")
        sources[name] = source
    key = hashlib.sha256(json.dumps({
        "version": VERSION,
        "sources": {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in sources.items()},
        "fonts": FONTS, "options": SUBSET_OPTIONS,
        "fonttools": fontTools.version, "brotli": brotli.__version__,
    }, sort_keys=True).encode()).hexdigest()
    folder = Path(cache_root) / "fonts" / key
    if not (folder / MANIFEST).is_file():
        _build(sources, folder, Cache(cache_root), _built_in_this_process.get(key))
    _built_in_this_process[key] = folder
    faces = json.loads((folder / MANIFEST).read_text())
    files = [(f"assets/fonts/{face['file']}", folder / face["file"]) for face in faces]
    css = "\n".join(
        f"@font-face {{ font-family: '{face['family']}'; font-weight: {face['weight']}; font-display: swap; "
        f"src: url('fonts/{face['file']}') format('woff2'); unicode-range: {face['range']}; }}"
        for face in faces)
    return files, css


# Subsetting takes ~12 s; a process that builds several sites with separate caches (the server
# after a cache wipe, the test suite) copies the folder it already built instead.
_built_in_this_process: dict[str, Path] = {}


def _build(sources: dict[str, Path], folder: Path, cache: Cache, built_before: Path | None) -> None:
    # Built in a scratch folder under the same cache root, then renamed in whole: a killed build
    # leaves no half folder here, and the next build's Cache.sweep() removes its scratch.
    work = cache.scratch("fonts")
    try:
        if built_before is not None and (built_before / MANIFEST).is_file():
            shutil.copytree(built_before, work, dirs_exist_ok=True)
        else:
            _subset_all(sources, work)
        os.chmod(work, 0o755)                # mkdtemp's 0700 would differ from the rest of the cache
        folder.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists() and not (folder / MANIFEST).is_file():
            shutil.rmtree(folder)            # no marker: not a folder this code renamed into place
        try:
            os.rename(work, folder)
        except OSError:
            if not (folder / MANIFEST).is_file():   # a concurrent build that won the rename is fine
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for older in folder.parent.iterdir():            # fonts of earlier versions: never used again
        if older != folder and older.name != TRASH and (older / MANIFEST).is_file():
            discard(older)


def _subset_all(sources: dict[str, Path], work: Path) -> None:
    faces = []
    for name, (family, weight, subsets) in FONTS.items():
        cmap = set(TTFont(sources[name]).getBestCmap())
        taken: set[int] = set()
        for label, text in subsets.items():
            codepoints = (parse_range(text) & cmap if text else cmap) - taken
            taken |= codepoints
            if not codepoints:
                continue
            file = f"{Path(name).stem}.{label}.woff2"
            _subset(sources[name], codepoints, work / file)
            faces.append({"file": file, "family": family, "weight": weight, "range": format_range(codepoints)})
    (work / MANIFEST).write_text(json.dumps(faces, indent=1))


def _subset(source: Path, codepoints: set[int], target: Path) -> None:
    options = subset.Options(**SUBSET_OPTIONS)
    font = TTFont(source, recalcTimestamp=False)   # no "now" in head: same input, same bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    subset.save_font(font, str(target), options)
