"""The WOFF2 subsets: no character lost, small for a Vietnamese page, built once, shaped like the originals."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
import regex
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables import ttProgram
from PIL import Image, ImageChops, ImageDraw, ImageFont

from producers.build import webfonts
from producers.errors import ConfigError
from producers.jobs.pipeline import Cache, run_jobs
from producers.build.webfonts import NOTO_DIR, font_faces, font_jobs, parse_range


def web_fonts(cache_root: Path):
    """The fonts as the site gets them: job outputs linked under their published names."""
    jobs = font_jobs()
    results = run_jobs(jobs, Cache(cache_root))
    files, css = font_faces(jobs, results)
    published = []
    for name, path in files:
        target = cache_root / "site" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        os.link(path, target)
        published.append((name, target))
    return (published, css), results

FACE = re.compile(r"@font-face \{ font-family: '([^']+)'; font-weight: (\d+); font-display: swap; "
                  r"src: (?:local\('[^']+'\), )*url\('fonts/([^']+)'\) format\('woff2'\); unicode-range: ([^;]+); \}")
STACK = ("Noto Sans", "Noto Sans Devanagari")       # --md-text-font
ORIGINAL = {("Noto Sans", 400): "NotoSans-Regular.ttf", ("Noto Sans", 700): "NotoSans-Bold.ttf",
            ("Noto Sans Devanagari", 400): "NotoSansDevanagari-Regular.ttf",
            ("Noto Sans Devanagari", 700): "NotoSansDevanagari-Bold.ttf"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    (files, css), _ = web_fonts(cache)
    return cache, files, css


def faces(css: str) -> list[tuple[str, int, str, set[int]]]:
    return [(family, int(weight), file, parse_range(ranges)) for family, weight, file, ranges in FACE.findall(css)]


def cmap(path: Path) -> set[int]:
    return set(TTFont(path).getBestCmap())


@pytest.mark.parametrize("stem", ["NotoSans-Regular", "NotoSans-Bold"])
def test_subsets_together_hold_every_character_of_the_font(built, stem):
    _, files, _ = built
    parts = [path for name, path in files if name.startswith(f"assets/fonts/{stem}.")]
    assert {p.name.split(".")[1] for p in parts} >= {"latin", "vietnamese", "latin-ext", "rest"}
    assert set().union(*(cmap(p) for p in parts)) == cmap(NOTO_DIR / f"{stem}.ttf")


def test_every_file_is_woff2_and_has_one_rule_with_its_unicode_range(built):
    _, files, css = built
    rules = faces(css)
    assert css.count("@font-face") == len(rules) == len(files)
    assert sorted(f"assets/fonts/{file}" for _, _, file, _ in rules) == sorted(name for name, _ in files)
    by_file = {file: ranges for _, _, file, ranges in rules}
    for name, path in files:
        assert path.read_bytes()[:4] == b"wOF2", name
        assert cmap(path) == by_file[path.name], name     # the rule announces exactly what the file holds


def test_devanagari_keeps_every_devanagari_character_in_one_file(built):
    _, files, _ = built
    wanted = parse_range(webfonts.DEVANAGARI)
    for weight in ("Regular", "Bold"):
        [path] = [p for name, p in files if name.startswith(f"assets/fonts/NotoSansDevanagari-{weight}.")]
        assert cmap(path) == cmap(NOTO_DIR / f"NotoSansDevanagari-{weight}.ttf") & wanted


def test_a_vietnamese_page_downloads_under_40_percent_of_the_ttfs(built):
    _, files, _ = built
    needed = sum(path.stat().st_size for name, path in files
                 if re.fullmatch(r"assets/fonts/NotoSans-(Regular|Bold)\.(latin|vietnamese)\.woff2", name))
    before = sum((NOTO_DIR / f"NotoSans-{w}.ttf").stat().st_size for w in ("Regular", "Bold"))
    assert needed < 0.4 * before, (needed, before)


def test_a_second_call_reuses_the_built_files(built):
    cache, files, css = built
    stamps = [(p.stat().st_ino, p.stat().st_mtime_ns) for _, p in files]
    (again, css_again), results = web_fonts(cache)
    assert again == files and css_again == css
    assert {r.status for r in results.values()} == {"cached"}
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for _, p in again] == stamps


def test_a_missing_source_font_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(webfonts, "NOTO_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"NotoSans-Regular\.ttf.*scripts/setup \(fonts-noto-core\)"):
        font_jobs()


@pytest.fixture(scope="module")
def drawable(tmp_path_factory):
    """A font file (original or subset) loaded in Pillow as ``unhinted`` makes it; once each."""
    folder = tmp_path_factory.mktemp("unhinted")

    @functools.cache
    def load(path: Path) -> ImageFont.FreeTypeFont:
        made = unhinted(path, folder / f"{path.name}.ttf")
        return ImageFont.truetype(str(made), 40, layout_engine=ImageFont.Layout.RAQM)
    return load


def unhinted(source: Path, target: Path) -> Path:
    """The font as a TTF whose pixels depend only on outlines, metrics and layout tables.

    The subsets carry no hinting, so the original loses its instructions too. And with no
    instructions at all FreeType auto-hints, fitting each face to the glyphs it holds (a Vietnamese
    subset has no 'x' or 'o' to measure), so both get the same one-instruction no-op ``prep``.
    """
    font = TTFont(source)
    font.flavor = None
    for tag in ("fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX"):
        if tag in font:
            del font[tag]
    for name in font.getGlyphOrder():
        font["glyf"][name].removeHinting()
    maxp = font["maxp"]
    maxp.maxZones, maxp.maxTwilightPoints, maxp.maxStorage = 1, 0, 0
    maxp.maxFunctionDefs = maxp.maxInstructionDefs = maxp.maxStackElements = maxp.maxSizeOfInstructions = 0
    font["prep"] = newTable("prep")
    font["prep"].program = ttProgram.Program()
    font["prep"].program.fromBytecode(b"\x00")        # SVTCA[y]: does nothing visible
    font.save(target)
    return target


def draw(text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    image = Image.new("L", (50 * len(text) + 40, 120))
    ImageDraw.Draw(image).text((20, 20), text, font=font, fill=255)
    return image


def runs(text: str, weight: int, rules) -> list[tuple[str, tuple]]:
    """Split text as a browser does: each grapheme cluster goes to the first family of the stack
    with a face covering all of it; where a family's faces overlap, the last rule wins. A browser
    cannot kern across two faces either, so each run is compared on its own."""
    out: list[tuple[str, tuple]] = []
    for cluster in regex.findall(r"\X", text):
        face = next(rule for family in STACK for rule in reversed(rules)
                    if rule[:2] == (family, weight) and set(map(ord, cluster)) <= rule[3])
        if out and out[-1][1] == face:
            out[-1] = (out[-1][0] + cluster, face)
        else:
            out.append((cluster, face))
    return out


@pytest.mark.parametrize("weight", [400, 700])
@pytest.mark.parametrize("text", ["Cưới gọn, tang nghiêm: giữ nét đẹp Huế",
                                  "ऑनलाइन ठगी से बचाव",
                                  "क्षत्रिय श्री द्वार प्रश्न हृदय र्क"])   # conjuncts, reph, vattu
def test_subsets_draw_the_same_pixels_as_the_original_fonts(built, drawable, text, weight):
    _, files, css = built
    paths = {path.name: path for _, path in files}
    pieces = runs(text, weight, faces(css))
    assert "".join(piece for piece, _ in pieces) == text
    for piece, (family, _, file, _) in pieces:
        expected = draw(piece, drawable(NOTO_DIR / ORIGINAL[family, weight]))
        actual = draw(piece, drawable(paths[file]))
        assert expected.getbbox() or not piece.strip(), piece
        assert ImageChops.difference(expected, actual).getbbox() is None, (piece, file)


def test_devanagari_is_tried_on_the_phone_before_it_is_downloaded(built):
    """Android's Devanagari system font is Noto Sans Devanagari: a Hindi page needs no 86 KB of fonts."""
    _, _, css = built
    for rule in css.splitlines():
        if "Devanagari" in rule:
            assert "src: local('NotoSansDevanagari-" in rule, rule
        else:
            assert "local(" not in rule, rule
