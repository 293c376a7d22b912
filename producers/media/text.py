"""The one text engine: every slide, caption, card and video frame draws its words through here.

What it guarantees:
- complex scripts are shaped by raqm (``fonts.require_raqm`` refuses basic layout loudly);
- mixed Vietnamese/English/Hindi lines are split into runs by script, each run in a Noto face that
  has its glyphs, all runs on one shared baseline;
- lines break at spaces, and a word too long for the box breaks between grapheme clusters, so no
  vowel sign, virama or combining accent ever starts a line;
- auto-fit: the largest size from ``style.size`` down to ``style.min_size`` at which the wrapped
  text fits; if even the minimum does not fit, the text is cut with an ellipsis (``truncated``);
- every glyph's ink stays inside the target box (checked with real glyph boxes, not font metrics).

``draw_text``/``fit_text`` take plain text. Slides use ``fit_paragraphs``/``draw_layout``: several
paragraphs of bold/italic spans with bullets and hanging indents, fitted at one common size.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple, Sequence

import regex
from PIL import Image, ImageColor, ImageDraw

from producers.media import fonts
from producers.media.fonts import Script

ELLIPSIS = "…"
ZWJ, ZWNJ = "\u200d", "\u200c"
DOTTED_CIRCLE = "\u25cc"


@dataclass(frozen=True)
class TextStyle:
    size: int
    min_size: int | None = None
    bold: bool = False
    colour: str = "#000000"
    align: Literal["left", "center", "right"] = "left"
    line_spacing: float = 1.25

    @property
    def smallest(self) -> int:
        return max(1, min(self.size, self.min_size or self.size))


class FitResult(NamedTuple):
    size: int
    lines: tuple[str, ...]
    truncated: bool
    bbox: tuple[int, int, int, int] | None     # ink box in image coordinates (draw) or box-relative (fit)


@dataclass(frozen=True)
class Span:
    """A piece of text with one look. ``colour`` None means the style's colour."""

    text: str
    bold: bool = False
    italic: bool = False
    colour: str | None = None


@dataclass(frozen=True)
class Paragraph:
    spans: tuple[Span, ...]
    indent: float = 0.0          # left indent of every line, in ems of the fitted size
    bullet: str | None = None    # drawn in the indent, on the first line's baseline
    space_before: float = 0.0    # extra gap above, in ems (ignored for the first paragraph)


# --- grapheme clusters and script runs -----------------------------------------------------------

def _is_mark(char: str) -> bool:
    return unicodedata.category(char)[0] == "M" or char in (ZWJ, ZWNJ)


# UAX #29 extended grapheme clusters from the regex module's \X, with the Indic conjunct rule
# (GB9c): emoji ZWJ sequences, flags, keycaps and Devanagari conjuncts stay whole. The hand-written
# splitter this replaced cut 👨‍👩‍👧 into three emoji and a flag into two letters.
_CLUSTER = regex.compile(r"\X")


def clusters(text: str) -> list[str]:
    """Split into user-perceived characters (extended grapheme clusters).

    One departure from UAX #29: marks after a space are not part of the space. They are an orphan
    cluster of their own (``_cells`` gives them a dotted circle), so a line never starts with a
    vowel sign that the space carried along.
    """
    result: list[str] = []
    for piece in _CLUSTER.findall(text):
        if len(piece) > 1 and piece[0].isspace() and piece != "\r\n":
            result += [piece[0], piece[1:]]
        else:
            result.append(piece)
    return result


def _one_cluster(text: str) -> bool:
    return len(clusters(text)) == 1


class _Cell(NamedTuple):
    """One grapheme cluster with its look; the unit of layout."""

    text: str
    bold: bool
    italic: bool
    colour: str | None


@functools.lru_cache(maxsize=4096)
def _cells(spans: tuple[Span, ...]) -> tuple[_Cell, ...]:
    cells: list[_Cell] = []
    for span in spans:
        text = unicodedata.normalize("NFC", span.text.replace("\r\n", "\n"))
        # Marks at the start of a span belong to the previous span's last cluster.
        for piece in clusters(text):
            if cells and not _is_space(cells[-1]) and _one_cluster(cells[-1].text + piece):
                last = cells.pop()
                cells.append(last._replace(text=last.text + piece))
            elif _is_mark(piece[0]):
                # An orphan mark (text or word starting with a vowel sign/accent) gets a dotted circle
                # as its base, as typesetters show a broken cluster, rather than starting a line.
                cells.append(_Cell(DOTTED_CIRCLE + piece, span.bold, span.italic, span.colour))
            else:
                cells.append(_Cell(piece, span.bold, span.italic, span.colour))
    return tuple(cells)


class _Run(NamedTuple):
    text: str
    script: Script
    bold: bool
    italic: bool
    colour: str | None


def _runs(cells: Sequence[_Cell]) -> list[_Run]:
    """Group cells into runs of one face; neutrals join the surrounding script if its font has them."""
    scripts: list[Script | None] = [fonts.strong_script(c.text[0]) for c in cells]
    resolved: list[Script] = []
    for index, cell in enumerate(cells):
        script = scripts[index]
        if script is None:
            before = resolved[-1] if resolved else None
            after = next((s for s in scripts[index + 1:] if s is not None), None)
            candidate = before or after or Script.LATIN
            if candidate is Script.DEVANAGARI and not all(fonts.covers(Script.DEVANAGARI, ch) for ch in cell.text):
                candidate = Script.LATIN
            script = candidate
        resolved.append(script)
    runs: list[_Run] = []
    for cell, script in zip(cells, resolved):
        if runs and (runs[-1].script, runs[-1].bold, runs[-1].italic, runs[-1].colour) == \
                (script, cell.bold, cell.italic, cell.colour):
            runs[-1] = runs[-1]._replace(text=runs[-1].text + cell.text)
        else:
            runs.append(_Run(cell.text, script, cell.bold, cell.italic, cell.colour))
    return runs


# --- measuring ------------------------------------------------------------------------------------

INK_SLACK = 1   # px added at each end of a run's ink: kerning against a neighbour cluster


@functools.lru_cache(maxsize=65536)
def _cluster_ink(cluster: str, script: Script, bold: bool, italic: bool, size: int) -> tuple[int, int, int, int]:
    font = fonts.face(script, bold, italic, size)
    return font.getbbox(cluster, anchor="ls", language=fonts.language_of(script))


@functools.lru_cache(maxsize=65536)
def _measure(text: str, script: Script, bold: bool, italic: bool, size: int) -> tuple[float, tuple[int, int, int, int]]:
    """(advance, ink box relative to the left-baseline origin) of one run.

    The advance is the shaped run's. The ink box is assembled from each grapheme cluster's own
    box (cached: a deck has a few dozen distinct clusters per size), because Pillow's getbbox
    renders every glyph and costs ~100x a shaping; a cluster shapes the same alone as in a word.
    """
    font = fonts.face(script, bold, italic, size)
    language = fonts.language_of(script)
    advance = font.getlength(text, language=language)
    pieces = clusters(text)
    inked = [(index, _cluster_ink(piece, script, bold, italic, size)) for index, piece in enumerate(pieces)
             if not piece.isspace()]
    inked = [(index, box) for index, box in inked if box[2] > box[0]]
    if not inked:
        return advance, (0, 0, 0, 0)
    first, first_box = inked[0]
    last, last_box = inked[-1]
    first_x = font.getlength("".join(pieces[:first]), language=language) if first else 0.0
    last_x = font.getlength("".join(pieces[:last]), language=language) if last else 0.0
    left = math.floor(first_x + first_box[0]) - INK_SLACK
    right = math.ceil(max(last_x + last_box[2], max(first_x + first_box[2], 0))) + INK_SLACK
    top = min(box[1] for _, box in inked)
    bottom = max(box[3] for _, box in inked)
    return advance, (left, top, right, bottom)


@functools.lru_cache(maxsize=256)
def _vertical_metrics(size: int) -> tuple[int, int]:
    """(ascent, descent) shared by every line at this size: the larger of both faces', so mixed
    and single-script lines sit on the same grid."""
    metrics = [fonts.face(script, bold, False, size).getmetrics()
               for script in Script for bold in (False, True)]
    return max(a for a, _ in metrics), max(d for _, d in metrics)


@dataclass
class _Line:
    cells: list[_Cell]
    runs: list[_Run] = field(default_factory=list)
    offsets: list[float] = field(default_factory=list)   # x of each run's origin from the line start
    left: float = 0.0        # ink extent relative to the line start (may be < 0)
    right: float = 0.0
    top: float = 0.0         # ink extent relative to the baseline (negative is up)
    bottom: float = 0.0
    indent: float = 0.0      # pixels
    bullet: str | None = None
    gap_before: float = 0.0  # pixels of paragraph spacing above this line

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.cells)

    @property
    def width(self) -> float:
        return self.right - min(0.0, self.left)


def _shape_line(cells: list[_Cell], size: int) -> _Line:
    line = _Line(cells=cells)
    x = 0.0
    left, right, top, bottom = 0.0, 0.0, 0.0, 0.0
    for run in _runs(cells):
        advance, (l, t, r, b) = _measure(run.text, run.script, run.bold, run.italic, size)
        # Whole-pixel origins: the ink boxes Pillow reports are then exactly where ink lands.
        origin = round(x)
        line.runs.append(run)
        line.offsets.append(origin)
        if r > l:   # whitespace has no ink
            left, right = min(left, origin + l), max(right, origin + r)
            top, bottom = min(top, t), max(bottom, b)
        x += advance
        right = max(right, math.ceil(x))
    line.left, line.right, line.top, line.bottom = left, right, top, bottom
    return line


def _is_space(cell: _Cell) -> bool:
    return cell.text.isspace()


def _words(cells: list[_Cell]) -> list[list[_Cell]]:
    words: list[list[_Cell]] = []
    current: list[_Cell] = []
    for cell in cells:
        if _is_space(cell):
            if current:
                words.append(current)
                current = []
        else:
            current.append(cell)
    if current:
        words.append(current)
    return words


def _space_like(word: list[_Cell]) -> _Cell:
    return _Cell(" ", word[0].bold, word[0].italic, word[0].colour)


@functools.lru_cache(maxsize=65536)
def _advance(cells: tuple[_Cell, ...], size: int) -> float:
    """Advance of a word shaped on its own: the cheap estimate the greedy wrap adds up (no ink
    boxes: those cost a glyph load each and only finished lines need them)."""
    total = 0.0
    for run in _runs(list(cells)):
        font = fonts.face(run.script, run.bold, run.italic, size)
        total += font.getlength(run.text, language=fonts.language_of(run.script))
    return total


def _wrap_paragraph(cells: list[_Cell], width: float, size: int) -> list[_Line]:
    """Greedy word wrap; an over-long word breaks between clusters.

    Words are measured alone and summed (one shaping per distinct word and size, cached); each
    finished line is then shaped whole, and if kerning or a script run across a word boundary made
    it wider than the box after all, its last words move down.
    """
    lines: list[_Line] = []
    for hard_line in _split_newlines(cells):
        words = [tuple(word) for word in _words(hard_line)]
        if not words:
            lines.append(_shape_line([], size))
            continue
        pending = list(reversed(words))       # a stack: the next word is at the end
        current: list[tuple[_Cell, ...]] = []
        estimate = 0.0
        while pending or current:
            if not pending:
                # The last line; its check may hand words back, which then wrap like any other.
                lines.append(_finish_line(current, pending, width, size))
                current, estimate = [], 0.0
                continue
            word = pending.pop()
            space = _advance((_space_like(list(word)),), size) if current else 0.0
            word_width = _advance(word, size)
            if current and estimate + space + word_width <= width:
                current.append(word)
                estimate += space + word_width
                continue
            if current:
                pending.append(word)
                lines.append(_finish_line(current, pending, width, size))
                current, estimate = [], 0.0
                continue
            if word_width <= width:
                current, estimate = [word], word_width
                continue
            # The word alone is too wide: break it at cluster boundaries.
            piece: list[_Cell] = []
            for cell in word:
                if piece and _shape_line(piece + [cell], size).width > width:
                    lines.append(_shape_line(piece, size))
                    piece = []
                piece.append(cell)
            current, estimate = [tuple(piece)], _advance(tuple(piece), size)
    return lines


def _join(words: list[tuple[_Cell, ...]]) -> list[_Cell]:
    cells: list[_Cell] = []
    for word in words:
        if cells:
            cells.append(_space_like(list(word)))
        cells.extend(word)
    return cells


def _finish_line(words: list[tuple[_Cell, ...]], pending: list[tuple[_Cell, ...]], width: float,
                 size: int) -> _Line:
    """Shape the line whole; give words back to ``pending`` while it is wider than the box."""
    line = _shape_line(_join(words), size)
    while line.width > width and len(words) > 1:
        pending.append(words.pop())
        line = _shape_line(_join(words), size)
    return line


def _split_newlines(cells: list[_Cell]) -> list[list[_Cell]]:
    parts: list[list[_Cell]] = [[]]
    for cell in cells:
        if "\n" in cell.text:
            parts.append([])
        else:
            parts[-1].append(cell)
    return parts


# --- fitting --------------------------------------------------------------------------------------

@dataclass
class Layout:
    """Lines fitted into a box at one size. Coordinates are relative to the box's top-left."""

    size: int
    style: TextStyle
    box_width: int
    box_height: int
    lines: list[_Line]
    truncated: bool
    baselines: list[float] = field(default_factory=list)
    height: float = 0.0      # from the block's top (ink or ascent) to its bottom (ink or descent)
    top: float = 0.0         # how far the block reaches above the first baseline

    @property
    def fits(self) -> bool:
        return self.height <= self.box_height and all(
            self._x_extent(line)[0] >= 0 and self._x_extent(line)[1] <= self.box_width for line in self.lines)

    def _x_extent(self, line: _Line) -> tuple[float, float]:
        available = self.box_width - line.indent
        if self.style.align == "center":
            start = line.indent + max(0, math.floor((available - line.width) / 2))
        elif self.style.align == "right":
            start = self.box_width - math.ceil(line.width)
        else:
            start = math.ceil(line.indent)
        origin = start - min(0.0, line.left)
        return origin + line.left, origin + line.right

    def origin_x(self, line: _Line) -> float:
        left, _ = self._x_extent(line)
        return left - line.left


def _stack(layout: Layout) -> Layout:
    """Place baselines: one pitch per line, ascent/descent or ink, whichever reaches further."""
    ascent, descent = _vertical_metrics(layout.size)
    pitch = layout.size * layout.style.line_spacing
    baselines: list[float] = []
    y = 0.0
    top = 0.0
    bottom = 0.0
    for index, line in enumerate(layout.lines):
        if index == 0:
            top = max(ascent, -line.top)
            y = top
        else:
            y += round(pitch + line.gap_before)
        baselines.append(y)
        bottom = max(bottom, y + max(descent, line.bottom))
    layout.baselines = baselines
    layout.top = top
    layout.height = bottom if layout.lines else 0.0
    return layout


def _lay_out(paragraphs: Sequence[Paragraph], box_width: int, box_height: int, style: TextStyle,
             size: int, max_lines: int | None) -> Layout:
    lines: list[_Line] = []
    for number, paragraph in enumerate(paragraphs):
        indent = paragraph.indent * size
        paragraph_lines = _wrap_paragraph(list(_cells(tuple(paragraph.spans))), max(1.0, box_width - indent), size)
        for index, line in enumerate(paragraph_lines):
            line.indent = indent
            if index == 0:
                line.bullet = paragraph.bullet
                line.gap_before = paragraph.space_before * size if number and lines else 0.0
        lines.extend(paragraph_lines)
    layout = _stack(Layout(size, style, box_width, box_height, lines, truncated=False))
    if max_lines is not None and len(lines) > max_lines:
        layout.height = float("inf")   # too many lines counts as not fitting
    return layout


def _truncate(layout: Layout, max_lines: int | None) -> Layout:
    """Keep the lines that fit and end the last with an ellipsis."""
    size = layout.size
    all_lines = layout.lines
    keep = len(all_lines) if max_lines is None else min(len(all_lines), max_lines)
    # A single cluster wider than the box (a long stack of marks) is where the text gets cut.
    too_wide = next((i for i, line in enumerate(all_lines) if line.width > layout.box_width - line.indent), None)
    if too_wide is not None:
        keep = min(keep, too_wide + 1)
    while keep > 0:
        candidate = _stack(replace(layout, lines=all_lines[:keep]))
        if candidate.height <= layout.box_height:
            break
        keep -= 1
    if keep == 0:
        return _stack(replace(layout, lines=[], truncated=True))
    kept = all_lines[:keep]
    last = kept[-1]
    cells = list(last.cells)
    look = cells[-1] if cells else _Cell("", False, False, None)
    width = layout.box_width - last.indent
    while True:
        trimmed = cells
        while trimmed and _is_space(trimmed[-1]):
            trimmed = trimmed[:-1]
        candidate_line = _shape_line(trimmed + [_Cell(ELLIPSIS, look.bold, look.italic, look.colour)], size)
        if candidate_line.width <= width or not trimmed:
            break
        cells = trimmed[:-1]
    candidate_line.indent, candidate_line.bullet, candidate_line.gap_before = last.indent, last.bullet, last.gap_before
    result = _stack(replace(layout, lines=kept[:-1] + [candidate_line], truncated=True))
    if not result.fits:   # not even an ellipsis fits on the line: drop it
        result = _stack(replace(layout, lines=kept[:-1], truncated=True))
    return result


def fit_paragraphs(paragraphs: Sequence[Paragraph], box_width: int, box_height: int, style: TextStyle,
                   max_lines: int | None = None) -> Layout:
    """The largest size in [min_size, size] at which everything fits; else truncated at min_size."""
    low, high = style.smallest, style.size
    if not any(span.text.strip() for p in paragraphs for span in p.spans):
        return _stack(Layout(high, style, box_width, box_height, [], truncated=False))
    first_try = _lay_out(paragraphs, box_width, box_height, style, high, max_lines)
    if first_try.fits:          # most titles and captions: no search needed
        return first_try
    best: Layout | None = None
    # Binary search: wrapping makes "fits" only nearly monotonic in size, so the result may be a
    # size or two below the true largest, but whatever it returns was checked to fit.
    lo, hi = low, high - 1
    while lo <= hi:
        middle = (lo + hi) // 2
        layout = _lay_out(paragraphs, box_width, box_height, style, middle, max_lines)
        if layout.fits:
            best = layout
            lo = middle + 1
        else:
            hi = middle - 1
    if best is not None:
        return best
    return _truncate(_lay_out(paragraphs, box_width, box_height, style, low, None), max_lines)


# --- drawing --------------------------------------------------------------------------------------

def _box_y(layout: Layout, box: tuple[int, int, int, int], valign: str) -> float:
    top = box[1]
    spare = max(0, math.floor((box[3] - box[1]) - layout.height))
    if valign == "middle":
        return top + spare // 2
    if valign == "bottom":
        return top + spare
    return top


def _fill(colour: str, image: Image.Image):
    rgb = ImageColor.getrgb(colour)
    if image.mode == "RGBA" and len(rgb) == 3:
        return rgb + (255,)
    if image.mode in ("L", "1"):
        return ImageColor.getcolor(colour, image.mode)
    return rgb


def draw_layout(image: Image.Image, box: tuple[int, int, int, int], layout: Layout,
                valign: Literal["top", "middle", "bottom"] = "top") -> FitResult:
    draw = ImageDraw.Draw(image)
    y0 = _box_y(layout, box, valign)
    boxes: list[tuple[float, float, float, float]] = []
    for line, baseline in zip(layout.lines, layout.baselines):
        x = box[0] + layout.origin_x(line)
        y = y0 + baseline
        if line.bullet:
            bullet_run = _runs(list(_cells((Span(line.bullet),))))
            bullet_x = box[0] + round(line.indent - 0.9 * layout.size)
            for run in bullet_run:
                font = fonts.face(run.script, False, False, layout.size)
                draw.text((bullet_x, y), run.text, font=font, anchor="ls",
                          fill=_fill(layout.style.colour, image), language=fonts.language_of(run.script))
                _, (l, t, r, b) = _measure(run.text, run.script, False, False, layout.size)
                boxes.append((bullet_x + l, y + t, bullet_x + r, y + b))
        for run, offset in zip(line.runs, line.offsets):
            if run.text.isspace():
                continue
            font = fonts.face(run.script, run.bold, run.italic, layout.size)
            draw.text((x + offset, y), run.text, font=font, anchor="ls",
                      fill=_fill(run.colour or layout.style.colour, image), language=fonts.language_of(run.script))
        if line.right > line.left:
            boxes.append((x + line.left, y + line.top, x + line.right, y + line.bottom))
    return FitResult(layout.size, tuple(line.text for line in layout.lines), layout.truncated, _union(boxes))


def _union(boxes: list[tuple[float, float, float, float]]) -> tuple[int, int, int, int] | None:
    if not boxes:
        return None
    return (math.floor(min(b[0] for b in boxes)), math.floor(min(b[1] for b in boxes)),
            math.ceil(max(b[2] for b in boxes)), math.ceil(max(b[3] for b in boxes)))


def _plain(text: str, style: TextStyle) -> list[Paragraph]:
    return [Paragraph((Span(text, bold=style.bold),))]


def fit_text(text: str, box_width: int, box_height: int, style: TextStyle,
             max_lines: int | None = None) -> FitResult:
    """Where ``text`` would go in a box of this size (bbox relative to the box's top-left)."""
    layout = fit_paragraphs(_plain(text, style), box_width, box_height, style, max_lines)
    boxes = []
    for line, baseline in zip(layout.lines, layout.baselines):
        x = layout.origin_x(line)
        if line.right > line.left:
            boxes.append((x + line.left, baseline + line.top, x + line.right, baseline + line.bottom))
    return FitResult(layout.size, tuple(line.text for line in layout.lines), layout.truncated, _union(boxes))


def draw_text(image: Image.Image, box: tuple[int, int, int, int], text: str, style: TextStyle,
              valign: Literal["top", "middle", "bottom"] = "top", max_lines: int | None = None) -> FitResult:
    """Fit ``text`` into ``box`` (left, top, right, bottom) and draw it; see the module docstring."""
    layout = fit_paragraphs(_plain(text, style), box[2] - box[0], box[3] - box[1], style, max_lines)
    return draw_layout(image, box, layout, valign)
