"""The fonts every drawn word uses, and the check that complex-script layout is really available.

Pillow has no font fallback and Noto Sans Devanagari has no Latin letters, so text is split into
runs by script (see ``text.py``) and each run gets a face from here. Faces are Noto: Sans for Latin
and Vietnamese (with italics), Sans Devanagari for Devanagari (which has no italic: its upright
face is used).
"""

from __future__ import annotations

import functools
import unicodedata
from enum import Enum
from pathlib import Path

from PIL import ImageFont, features

NOTO_DIR = Path("/usr/share/fonts/truetype/noto")

LATIN_FAMILY = "Noto Sans"
DEVANAGARI_FAMILY = "Noto Sans Devanagari"


class Script(Enum):
    LATIN = "latin"            # Latin, Vietnamese, and everything Noto Sans covers
    DEVANAGARI = "devanagari"


_FILES = {
    (Script.LATIN, False, False): "NotoSans-Regular.ttf",
    (Script.LATIN, True, False): "NotoSans-Bold.ttf",
    (Script.LATIN, False, True): "NotoSans-Italic.ttf",
    (Script.LATIN, True, True): "NotoSans-BoldItalic.ttf",
    (Script.DEVANAGARI, False, False): "NotoSansDevanagari-Regular.ttf",
    (Script.DEVANAGARI, True, False): "NotoSansDevanagari-Bold.ttf",
    (Script.DEVANAGARI, False, True): "NotoSansDevanagari-Regular.ttf",
    (Script.DEVANAGARI, True, True): "NotoSansDevanagari-Bold.ttf",
}

# The faces' bytes are part of the key of every job whose code imports this module (identity.py).
KEY_FILES = tuple(sorted({NOTO_DIR / name for name in _FILES.values()}))

DEVANAGARI_RANGES = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF))


class LayoutUnavailable(RuntimeError):
    """Pillow cannot shape complex scripts here; drawing would silently break Devanagari."""


@functools.cache
def require_raqm() -> None:
    """Refuse to draw at all without raqm + fribidi: basic layout mangles Devanagari conjuncts."""
    missing = [name for name, ok in (("raqm", features.check_feature("raqm")),
                                     ("fribidi", features.check_feature("fribidi")),
                                     ("harfbuzz", features.check_feature("harfbuzz"))) if not ok]
    if missing:
        raise LayoutUnavailable(
            f"Pillow's complex text layout is unavailable (missing: {', '.join(missing)}); "
            "install libfribidi0 (Debian: apt-get install libfribidi0) and a Pillow wheel with raqm. "
            "Refusing to fall back to basic layout, which breaks Devanagari.")


def font_path(script: Script, bold: bool = False, italic: bool = False) -> Path:
    path = NOTO_DIR / _FILES[(script, bold, italic)]
    if not path.is_file():
        raise FileNotFoundError(f"font {path} is missing; install fonts-noto-core (scripts/setup does)")
    return path


@functools.lru_cache(maxsize=512)
def face(script: Script, bold: bool, italic: bool, size: int) -> ImageFont.FreeTypeFont:
    require_raqm()
    return ImageFont.truetype(str(font_path(script, bold, italic)), size, layout_engine=ImageFont.Layout.RAQM)


@functools.cache
def _covered(script: Script) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # a matplotlib dependency; only read once per process

    with TTFont(str(font_path(script)), lazy=True) as font:
        return frozenset(font.getBestCmap())


def covers(script: Script, char: str) -> bool:
    return ord(char) in _covered(script)


def strong_script(char: str) -> Script | None:
    """The script a character demands, or None for neutrals (spaces, punctuation, digits, marks)."""
    code = ord(char)
    if any(low <= code <= high for low, high in DEVANAGARI_RANGES):
        return Script.DEVANAGARI
    if char == "\u25cc":   # the dotted circle carrying an orphan mark: both faces have it
        return None
    category = unicodedata.category(char)
    if category[0] in "LN" and category != "Nd" or category == "So":
        return Script.LATIN
    return None


def language_of(script: Script) -> str | None:
    """An OpenType language hint for raqm (selects Hindi forms in the Devanagari face)."""
    return "hi" if script is Script.DEVANAGARI else None
