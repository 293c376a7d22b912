"""The text engine: complex scripts shaped, mixed scripts on one baseline, fit/wrap/truncate, no ink
outside the box. Real Noto fonts and Pillow's raqm layout; nothing mocked except the feature probe."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageFont

from producers.media import fonts
from producers.media.fonts import Script
from producers.media.text import FitResult, Paragraph, Span, TextStyle, draw_layout, draw_text, fit_paragraphs, fit_text

MARGIN = 40


def ink_outside(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The ink box of anything drawn outside ``box`` on a white image, or None."""
    masked = image.copy()
    masked.paste("white", box)
    return ImageChops.invert(masked.convert("L")).getbbox()


def starts_badly(line: str) -> bool:
    first = line[:1]
    return bool(first) and (unicodedata.category(first)[0] == "M" or first in "\u200c\u200d")


# --- strategies: words built from real syllable shapes, plus raw mark soup -------------------------

DEVANAGARI_CONSONANTS = "कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह"
DEVANAGARI_SIGNS = "ािीुूृेैोौंःँ़"
VIRAMA = "्"
VI_BASES = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯYđĐbcdghklmnpqrstvx"
VI_MARKS = ["\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]   # grave, acute, tilde, hook, dot below


@st.composite
def hindi_word(draw) -> str:
    syllables = []
    for _ in range(draw(st.integers(1, 5))):
        syllable = draw(st.sampled_from(DEVANAGARI_CONSONANTS))
        if draw(st.booleans()):
            syllable += VIRAMA + draw(st.sampled_from(DEVANAGARI_CONSONANTS))
        if draw(st.booleans()):
            syllable += draw(st.sampled_from(DEVANAGARI_SIGNS))
        syllables.append(syllable)
    return "".join(syllables)


@st.composite
def vietnamese_word(draw) -> str:
    letters = []
    for _ in range(draw(st.integers(1, 7))):
        letter = draw(st.sampled_from(VI_BASES))
        if draw(st.booleans()):
            letter += draw(st.sampled_from(VI_MARKS))
        letters.append(letter)
    word = "".join(letters)
    # Phones send both composed and decomposed text.
    return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), word)


english_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.!?-'", min_size=1,
                       max_size=12)
mark_soup = st.text(alphabet=DEVANAGARI_CONSONANTS[:6] + DEVANAGARI_SIGNS + VIRAMA + "".join(VI_MARKS) + "ae ",
                    min_size=1, max_size=60)


def sentence(word_strategy):
    return st.lists(word_strategy, min_size=1, max_size=30).map(" ".join)


texts = st.one_of(sentence(hindi_word()), sentence(vietnamese_word()),
                  sentence(st.one_of(hindi_word(), vietnamese_word(), english_word)), mark_soup)
boxes = st.tuples(st.integers(60, 700), st.integers(30, 400))
styles = st.builds(TextStyle, size=st.integers(16, 90), min_size=st.integers(8, 16), bold=st.booleans(),
                   align=st.sampled_from(["left", "center", "right"]),
                   line_spacing=st.sampled_from([1.0, 1.25, 1.5]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, box=boxes, style=styles, valign=st.sampled_from(["top", "middle", "bottom"]),
       max_lines=st.one_of(st.none(), st.integers(1, 4)))
def test_no_line_starts_with_a_mark_and_no_ink_leaves_the_box(text, box, style, valign, max_lines):
    width, height = box
    image = Image.new("RGB", (width + 2 * MARGIN, height + 2 * MARGIN), "white")
    target = (MARGIN, MARGIN, MARGIN + width, MARGIN + height)
    result = draw_text(image, target, text, style, valign=valign, max_lines=max_lines)

    assert not any(starts_badly(line) or line[:1].isspace() for line in result.lines), result.lines
    assert ink_outside(image, target) is None, (result, text)
    if result.bbox is not None:
        assert target[0] <= result.bbox[0] and result.bbox[2] <= target[2]
        assert target[1] <= result.bbox[1] and result.bbox[3] <= target[3]
    if max_lines is not None:
        assert len(result.lines) <= max_lines
    if not result.truncated:
        # Nothing is lost when nothing is cut: the lines hold every non-space character, in order.
        expected = "".join(unicodedata.normalize("NFC", text).split())
        assert "".join("".join(result.lines).split()).replace("\u25cc", "") == expected
        assert style.smallest <= result.size <= style.size


@settings(max_examples=40, deadline=None)
@given(text=sentence(st.one_of(hindi_word(), vietnamese_word(), english_word)), style=styles)
def test_fit_text_agrees_with_draw_text(text, style):
    fitted = fit_text(text, 300, 120, style)
    image = Image.new("RGB", (300, 120), "white")
    drawn = draw_text(image, (0, 0, 300, 120), text, style)
    assert (fitted.size, fitted.lines, fitted.truncated) == (drawn.size, drawn.lines, drawn.truncated)
    assert fitted.bbox == drawn.bbox


def test_devanagari_is_shaped_differently_from_basic_layout():
    text = "क्षत्रिय हिन्दी स्त्री कि"
    path = str(fonts.font_path(Script.DEVANAGARI))
    basic = Image.new("L", (900, 160), 255)
    from PIL import ImageDraw
    ImageDraw.Draw(basic).text((10, 120), text, font=ImageFont.truetype(path, 80, layout_engine=ImageFont.Layout.BASIC),
                                fill=0, anchor="ls")
    engine = Image.new("L", (900, 160), 255)
    result = draw_text(engine, (10, 0, 890, 160), text, TextStyle(size=80, min_size=80), max_lines=1)
    assert result.size == 80 and not result.truncated
    difference = ImageChops.difference(basic, engine)
    changed = sum(1 for value in difference.getdata() if value > 128)
    assert changed > 2000, "raqm output should differ visibly from basic layout (conjuncts, reordered ि)"
    # Basic layout draws the virama as a visible separate glyph, so the word comes out wider.
    basic_font = ImageFont.truetype(path, 80, layout_engine=ImageFont.Layout.BASIC)
    raqm_font = fonts.face(Script.DEVANAGARI, False, False, 80)
    assert raqm_font.getlength("क्ष") < basic_font.getlength("क्ष")


def test_latin_in_a_hindi_line_uses_noto_sans_not_tofu():
    style = TextStyle(size=60)
    mixed = Image.new("L", (900, 120), 255)
    draw_text(mixed, (0, 0, 900, 120), "Slide 1 नमस्ते", style)
    tofu = Image.new("L", (900, 120), 255)
    from PIL import ImageDraw
    ImageDraw.Draw(tofu).text((0, 90), "Slide 1", font=fonts.face(Script.DEVANAGARI, False, False, 60), fill=0,
                              anchor="ls")
    proper = Image.new("L", (900, 120), 255)
    ImageDraw.Draw(proper).text((0, 90), "Slide 1", font=fonts.face(Script.LATIN, False, False, 60), fill=0,
                                anchor="ls")
    latin_part = (0, 0, int(fonts.face(Script.LATIN, False, False, 60).getlength("Slide 1")), 120)
    mixed_latin = mixed.crop(latin_part)
    # Same glyphs as Noto Sans draws (vertical position may differ), not the Devanagari face's boxes.
    assert mixed_latin.getbbox() is not None
    assert ImageChops.invert(mixed_latin).getbbox()[2] - ImageChops.invert(mixed_latin).getbbox()[0] == \
        ImageChops.invert(proper.crop(latin_part)).getbbox()[2] - ImageChops.invert(proper.crop(latin_part)).getbbox()[0]
    assert ImageChops.invert(tofu.crop(latin_part)).getbbox() != ImageChops.invert(proper.crop(latin_part)).getbbox()


def test_scripts_share_one_baseline():
    style = TextStyle(size=64)
    latin_only = Image.new("L", (800, 140), 255)
    draw_text(latin_only, (0, 0, 800, 140), "HH", style)
    mixed = Image.new("L", (800, 140), 255)
    draw_text(mixed, (0, 0, 800, 140), "HH कि HH", style)
    width = int(fonts.face(Script.LATIN, False, False, 64).getlength("HH"))
    # The Latin letters sit exactly where they sit without Devanagari beside them.
    assert ImageChops.difference(latin_only.crop((0, 0, width, 140)), mixed.crop((0, 0, width, 140))).getbbox() is None
    right_hh = ImageChops.invert(mixed).getbbox()
    left_hh = ImageChops.invert(latin_only).getbbox()
    assert right_hh[3] >= left_hh[3]       # Devanagari may reach lower (ि), never the H's baseline moves
    h_rows = ImageChops.invert(mixed.crop((right_hh[2] - width, 0, right_hh[2], 140))).getbbox()
    assert (h_rows[1], h_rows[3]) == (left_hh[1], left_hh[3])


def test_decomposed_vietnamese_draws_like_composed():
    composed = "Bảo vệ nền tảng tư tưởng của Đảng"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    images = []
    for text in (composed, decomposed):
        image = Image.new("L", (900, 100), 255)
        draw_text(image, (0, 0, 900, 100), text, TextStyle(size=40))
        images.append(image)
    assert ImageChops.difference(*images).getbbox() is None


def test_shrinks_before_wrapping_and_wraps_before_truncating():
    style = TextStyle(size=100, min_size=20)
    short = fit_text("Tin giả", 1000, 200, style)
    assert short.size == 100 and short.lines == ("Tin giả",)
    longer = fit_text("Đấu tranh phản bác các quan điểm sai trái, thù địch", 1000, 200, style)
    assert 20 <= longer.size < 100 and not longer.truncated
    wrapped = fit_text("Đấu tranh phản bác các quan điểm sai trái, thù địch " * 3, 1000, 200, style)
    assert len(wrapped.lines) > 1 and not wrapped.truncated
    cut = fit_text("झूठी और हानिकारक जानकारी का खंडन " * 40, 600, 100, style)
    assert cut.truncated and cut.size == 20 and cut.lines[-1].endswith("…")


def test_max_lines_truncates_with_an_ellipsis():
    result = fit_text("one two three four five six seven eight nine ten", 200, 500,
                      TextStyle(size=40, min_size=40), max_lines=2)
    assert result.truncated and len(result.lines) == 2 and result.lines[-1].endswith("…")


def test_long_word_breaks_between_clusters_only():
    word = "क्षत्रियस्त्रीहिन्दीक्षत्रियस्त्रीहिन्दी"
    result = fit_text(word, 150, 400, TextStyle(size=40, min_size=40))
    assert len(result.lines) > 1
    assert not any(starts_badly(line) for line in result.lines)
    assert "".join(result.lines) == word


def test_alignment_and_vertical_placement():
    image = Image.new("RGB", (600, 300), "white")
    box = (0, 0, 600, 300)
    centred = draw_text(image, box, "Chi bộ", TextStyle(size=50, align="center"), valign="middle")
    left, top, right, bottom = centred.bbox
    assert abs((left + right) / 2 - 300) <= 3
    assert abs((top + bottom) / 2 - 150) <= 20
    right_aligned = draw_text(Image.new("RGB", (600, 300)), box, "Chi bộ", TextStyle(size=50, align="right"),
                              valign="bottom")
    assert 590 <= right_aligned.bbox[2] <= 600 and right_aligned.bbox[3] >= 270


def test_rich_paragraphs_with_bullets_fit_at_one_size():
    paragraphs = [Paragraph((Span("Bold ", bold=True), Span("and "), Span("italic", italic=True)), indent=1.2, bullet="•"),
                  Paragraph((Span("nested नमस्ते"),), indent=2.4, bullet="–", space_before=0.3)]
    layout = fit_paragraphs(paragraphs, 800, 300, TextStyle(size=60, min_size=20))
    image = Image.new("RGB", (900, 400), "white")
    result = draw_layout(image, (50, 50, 850, 350), layout)
    assert result.lines == ("Bold and italic", "nested नमस्ते")
    assert ink_outside(image, (50, 50, 850, 350)) is None
    assert isinstance(result, FitResult)


def test_empty_text_draws_nothing():
    image = Image.new("RGB", (100, 100), "white")
    result = draw_text(image, (0, 0, 100, 100), "   ", TextStyle(size=20))
    assert result.lines == () and result.bbox is None and not result.truncated


def test_refuses_basic_layout_loudly(monkeypatch):
    from PIL import features
    monkeypatch.setattr(features, "check_feature", lambda name: name != "fribidi")
    fonts.require_raqm.cache_clear()
    try:
        with pytest.raises(fonts.LayoutUnavailable, match="fribidi"):
            fonts.require_raqm()
    finally:
        monkeypatch.undo()
        fonts.require_raqm.cache_clear()
    fonts.require_raqm()


# --- grapheme clusters (the regex module's \X) ------------------------------------------------------

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"          # 👨‍👩‍👧: three emoji joined by ZWJ
FLAGS = "\U0001F1FB\U0001F1F3\U0001F1EE\U0001F1F3"               # 🇻🇳🇮🇳: two flags, four regional indicators


@pytest.mark.parametrize("text, expected", [
    (FAMILY + "!", [FAMILY, "!"]),
    (FLAGS, ["\U0001F1FB\U0001F1F3", "\U0001F1EE\U0001F1F3"]),
    ("1\ufe0f\u20e3x", ["1\ufe0f\u20e3", "x"]),                                   # keycap 1️⃣
    ("\U0001F44D\U0001F3FDok", ["\U0001F44D\U0001F3FD", "o", "k"]),               # 👍🏽: skin tone stays on
    ("क्षत्रिय", ["क्ष", "त्रि", "य"]),                                               # conjuncts with vowel signs
    ("स्त्री", ["स्त्री"]),                                                          # a three-consonant conjunct
    ("क्\u200dष", ["क्\u200dष"]),                                                  # half form requested by ZWJ
    (unicodedata.normalize("NFD", "Việt"), ["V", "i", unicodedata.normalize("NFD", "ệ"), "t"]),
    ("a \u093fb", ["a", " ", "\u093f", "b"]),          # a vowel sign after a space is an orphan, not the space's
])
def test_clusters_keep_user_perceived_characters_whole(text, expected):
    from producers.media.text import clusters
    assert clusters(text) == expected
    assert "".join(clusters(text)) == text


def test_wrapping_never_splits_an_emoji_sequence_or_a_flag():
    text = (FAMILY + FLAGS) * 6
    result = fit_text(text, 120, 2000, TextStyle(size=40, min_size=40))
    assert len(result.lines) > 1 and "".join(result.lines) == text
    for line in result.lines:
        assert not line.startswith("\u200d") and not line.endswith("\u200d"), line
        # a line holds whole flags: an even number of regional indicators
        assert sum(0x1F1E6 <= ord(c) <= 0x1F1FF for c in line) % 2 == 0, line
