"""The slide Markdown a cell writes, parsed into slides. Syntax (documented for writers in slides.py):

    # Slide title                 first heading of a slide (any level) is its title
    Plain paragraph with **bold** and *italic*
    - bullet                      -, * or +; "1." numbered bullets keep their number
      - sub-bullet                indented two or more spaces: second level (deeper is flattened)
    ![alt text](media/photo.jpg)          one image per slide, fitted whole into its area
    ![alt text](media/photo.jpg){cover}   ... or cropped to fill its area
    |||                           a line of three bars splits the slide into two columns
    Note: what to say             everything after a "Note:" line is speaker notes
    ---                           a line of three (or more) dashes starts the next slide

The body is read by the one Markdown parser (``content.markdown``, CommonMark) with three block
rules added for '---', '|||' and 'Note:'; an address with spaces is written in <...>:
``![alt](<media/my photo.jpg>)``. The parser never raises: it returns slides with the problems it found, each naming the slide and
the line, so ``plan`` can read image references leniently and the render job can refuse strictly.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

from markdown_it.rules_block.state_block import StateBlock
from markdown_it.token import Token

from producers.content.markdown import MEMO_SIZE, UNREAD_IMAGE_RE, Run, inline_lines, inline_runs, inline_text, new_parser
from producers.media.text import Paragraph, Span

SEPARATOR_RE = re.compile(r"^\s{0,3}-{3,}\s*$")
COLUMNS_RE = re.compile(r"^\|\|\|\s*$")
NOTE_RE = re.compile(r"^notes?:\s?(.*)$", re.IGNORECASE)
MODE_RE = re.compile(r"^\s*\{(?P<mode>[a-z]+)\}\s*$")
IMAGE_MODES = ("fit", "cover")
SUB_INDENT = 2   # spaces before a bullet that make it second level
PICTURES_STEP = "slides"   # the job step of a slides product that draws slide-NN.png (video scenes read them)

Mode = Literal["fit", "cover"]


# --- the slide rules of the one Markdown parser ------------------------------------------------------------
# '---', '|||' and 'Note:' are block rules of markdown-it, so a '---' inside a fenced code block is code,
# not a new slide. Setext headings are off: 'text' over '---' is a slide break, as writers mean it.

def _content(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _slide_break(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start) or not SEPARATOR_RE.match(_content(state, start)):
        return False
    if silent:
        return True             # ends a paragraph or list at any depth
    if state.level:
        return False            # indented under a bullet: a rule inside the list (reported by the deck)
    token = state.push("slide_break", "hr", 0)
    token.map, token.markup = [start, start + 1], "---"
    state.line = start + 1
    return True


def _slide_columns(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.is_code_block(start) or not COLUMNS_RE.match(_content(state, start)):
        return False
    if not silent:
        token = state.push("slide_columns", "", 0)
        token.map, token.markup = [start, start + 1], "|||"
        state.line = start + 1
    return True


def _slide_note(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    note = NOTE_RE.match(_content(state, start))
    if state.is_code_block(start) or not note:
        return False
    if silent:
        return True
    if state.level:
        return False
    # Notes are what to say, kept as written, up to the next slide.
    lines, line = [note.group(1)], start + 1
    while line < end and not SEPARATOR_RE.match(state.src[state.bMarks[line]:state.eMarks[line]]):
        lines.append(state.src[state.bMarks[line]:state.eMarks[line]].rstrip())
        line += 1
    token = state.push("slide_note", "", 0)
    token.map, token.content = [start, line], "\n".join(lines).strip()
    state.line = line
    return True


def _slide_parser():
    parser = new_parser().disable("lheading")
    alt = {"alt": ["paragraph", "reference", "blockquote", "list"]}
    parser.block.ruler.before("hr", "slide_break", _slide_break, alt)
    parser.block.ruler.before("hr", "slide_columns", _slide_columns, alt)
    parser.block.ruler.before("hr", "slide_note", _slide_note, alt)
    return parser


SLIDE_PARSER = _slide_parser()


@functools.lru_cache(maxsize=MEMO_SIZE)
def slide_tokens(body: str) -> tuple[Token, ...]:
    """The slide body's tokens, memoised (the loader, the plan and the render job all read it)."""
    return tuple(SLIDE_PARSER.parse(body))


@dataclass(frozen=True)
class SlideImage:
    path: str
    alt: str
    mode: Mode
    column: int          # 0 = left (or only), 1 = right
    line: int


@dataclass(frozen=True)
class Item:
    """A paragraph (level None) or a bullet of level 0/1 (``marker`` is '•' or '3.')."""

    spans: tuple[Span, ...]
    level: int | None = None
    marker: str | None = None

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
class Problem:
    slide: int
    line: int
    message: str


@dataclass
class Slide:
    number: int                       # as shown in the deck: the generated title slide is 1
    line: int                         # line of the slide's first line in the product file
    title: str = ""
    columns: list[list[Item]] = field(default_factory=lambda: [[]])
    image: SlideImage | None = None
    notes: str = ""
    links: list[tuple[str, int]] = field(default_factory=list)    # (address, line) of each [text](address)

    @property
    def two_columns(self) -> bool:
        return len(self.columns) == 2

    @property
    def items(self) -> list[Item]:
        return [item for column in self.columns for item in column]

    @property
    def is_empty(self) -> bool:
        return not (self.title or self.items or self.image)


@dataclass
class Deck:
    slides: list[Slide]
    problems: list[Problem]


# --- inline Markdown ------------------------------------------------------------------------------

def spans_of(runs: list[Run], bold: bool = False) -> tuple[Span, ...]:
    """Bold/italic spans; links keep their text, code its content."""
    spans: list[Span] = []
    for run in runs:
        if run.image:
            continue
        style = (run.bold or bold, run.italic)
        if spans and (spans[-1].bold, spans[-1].italic) == style:
            spans[-1] = Span(spans[-1].text + run.text, *style)
        elif run.text:
            spans.append(Span(run.text, *style))
    return tuple(spans)


# --- slides ---------------------------------------------------------------------------------------

def slide_name(number: int) -> str:
    """The picture of slide ``number`` (1 is the title slide) that the slides job draws."""
    return f"slide-{number:02d}.png"


def _sections(stream: tuple[Token, ...]) -> list[tuple[int, list[Token]]]:
    """(0-based body line, tokens) per slide; empty sections before the first and after the last dropped."""
    sections: list[tuple[int, list[Token]]] = [(0, [])]
    for token in stream:
        if token.type == "slide_break":
            sections.append((token.map[1], []))
        else:
            sections[-1][1].append(token)
    sections = [(next((t.map[0] for t in tokens if t.map), line), tokens) for line, tokens in sections]
    while sections and not sections[0][1]:
        sections.pop(0)
    while sections and not sections[-1][1]:
        sections.pop()
    return sections


def parse_deck(body: str, body_line: int = 1) -> Deck:
    """Slides from the product body. ``body_line`` is the file line the body starts on."""
    slides: list[Slide] = []
    problems: list[Problem] = []
    lines = body.split("\n")
    for line, tokens in _sections(slide_tokens(body)):
        number = len(slides) + 2            # the title slide is 1
        slide = Slide(number=number, line=body_line + line)
        _SlideReader(slide, problems, body_line, lines).read(tokens)
        slides.append(slide)
    if not slides:
        problems.append(Problem(0, body_line, "the body has no slides: write at least one, e.g. '# Title' "
                                              "and a few '- bullets', and separate slides with '---' lines"))
    return Deck(slides, problems)


class _SlideReader:
    """Walks one slide's tokens into its title, column items, image, notes and links."""

    def __init__(self, slide: Slide, problems: list[Problem], body_line: int, lines: list[str]):
        self.slide, self.problems, self.body_line, self.lines = slide, problems, body_line, lines
        self.depth = 0                      # of nested lists
        self.item: tuple[int, str] | None = None    # (level, marker) of a list item whose first text is due
        self.in_heading = False
        self.row: list[tuple[Span, ...]] | None = None      # cells of a table row being read

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.slide.number, self.body_line + line, message))

    def read(self, tokens: list[Token]) -> None:
        slide = self.slide
        for token in tokens:
            kind = token.type
            if kind == "slide_note":
                slide.notes = token.content
            elif kind == "slide_columns":
                if slide.two_columns:
                    self.problem(token.map[0], "a slide has at most two columns: only one '|||' line is allowed")
                else:
                    slide.columns.append([])
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self.depth += 1
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.depth -= 1
            elif kind == "list_item_open":
                raw = token.map and self.raw_line(token.map[0])
                indent = len(raw.expandtabs(4)) - len(raw.expandtabs(4).lstrip()) if raw else 0
                level = 1 if self.depth > 1 or indent >= SUB_INDENT else 0
                marker = f"{token.info}{token.markup}" if token.info else ("•" if level == 0 else "–")
                self.item = (level, marker)
            elif kind == "list_item_close":
                self.item = None
            elif kind == "tr_open":
                self.row = []
            elif kind == "tr_close" and self.row is not None:
                cells = [cell for cell in self.row if cell]
                spans = tuple(span for index, cell in enumerate(cells)
                              for span in ((Span(" | "),) if index else ()) + cell)
                if spans:
                    slide.columns[-1].append(Item(spans))
                self.row = None
            elif kind == "heading_open":
                self.in_heading = True
            elif kind == "heading_close":
                self.in_heading = False
            elif kind == "hr" and self.depth:
                self.problem(token.map[0], f"a '{token.markup}' line indented under a bullet does not start a new "
                                           "slide: write '---' at the start of the line")
            elif kind in ("fence", "code_block", "html_block"):       # shown as written
                text = " ".join(token.content.split())
                if text:
                    slide.columns[-1].append(Item((Span(text),)))
            elif kind == "inline":
                self.inline(token)
        if slide.two_columns and slide.image is not None and slide.columns[slide.image.column]:
            side = "left" if slide.image.column == 0 else "right"
            self.problems.append(Problem(slide.number, slide.image.line,
                                         f"in a two-column slide the image fills its whole column, but the {side} "
                                         "column also has text: move the text to the other column"))
        if slide.is_empty:
            what = "only speaker notes" if slide.notes else "nothing"
            self.problems.append(Problem(slide.number, slide.line,
                                         f"the slide is empty ({what}): give it a '# title', text or an image, "
                                         "or remove the extra '---' line"))

    def raw_line(self, line: int) -> str:
        return self.lines[line] if line < len(self.lines) else ""

    def inline(self, inline: Token) -> None:
        slide = self.slide
        lines: list[tuple[int, list[Token]]] = []
        for child, line in inline_lines(inline):
            if child.type in ("softbreak", "hardbreak"):
                lines.append((line + 1, []))
                continue
            if not lines:
                lines.append((line, []))
            lines[-1][1].append(child)
            if child.type == "link_open":
                slide.links.append((str(child.attrGet("href") or ""), self.body_line + line))
        text: list[Token] = []
        for index, (line, children) in enumerate(lines):
            images = [child for child in children if child.type == "image"]
            rest = [child for child in children if child.type != "image"]
            mode = MODE_RE.match(inline_text(rest)) if rest else None
            # An image line right under a bullet continues the bullet's paragraph in CommonMark: it is
            # still a line of its own, as writers mean it. The bullet's or heading's first line is not.
            stand_alone = not self.in_heading and (self.item is None or index > 0)
            if images and stand_alone and len(images) == 1 and (not rest or mode):
                self.image(images[0], mode.group("mode") if mode else "fit", line)
            elif images:
                self.problem(line, "an image must stand alone on its own line, "
                                   "like: ![what the picture shows](media/photo.jpg)")
            else:
                if UNREAD_IMAGE_RE.search(inline_text(children)):
                    self.problem(line, "this image is not read: an address with spaces must be written in <...>, "
                                       "like: ![what the picture shows](<media/my photo.jpg>)")
                if text:
                    text.append(Token("softbreak", "br", 0))
                text += children
        spans = spans_of(inline_runs(text, raw_html=True), bold=self.in_heading)
        if self.row is not None:
            self.row.append(spans)
            return
        if not spans:
            return
        if self.in_heading and not slide.title and not slide.items:
            slide.title = "".join(span.text for span in spans).strip()
        elif self.item is not None:
            slide.columns[-1].append(Item(spans, *self.item))
            self.item = None        # a second paragraph of the item is a paragraph
        else:
            slide.columns[-1].append(Item(spans))

    def image(self, token: Token, mode: str, line: int) -> None:
        slide, path = self.slide, str(token.attrGet("src") or "")
        if mode not in IMAGE_MODES:
            self.problem(line, f"unknown image option {{{mode}}}; allowed: {{fit}} or {{cover}}")
            mode = "fit"
        if slide.image is not None:
            self.problem(line, f"one image per slide: {path!r} is a second image (the first is {slide.image.path!r}); "
                               "move it to its own slide")
            return
        slide.image = SlideImage(path, inline_text(token.children or ()).strip(), mode,  # type: ignore[arg-type]
                                 len(slide.columns) - 1, self.body_line + line)


def item_paragraphs(items: list[Item], indent_em: float = 1.2) -> list[Paragraph]:
    """Text-engine paragraphs for a column: bullets hang in the indent, sub-bullets indent twice."""
    paragraphs = []
    for item in items:
        if item.level is None:
            paragraphs.append(Paragraph(item.spans, indent=0.0, space_before=0.45))
        else:
            paragraphs.append(Paragraph(item.spans, indent=indent_em * (item.level + 1), bullet=item.marker,
                                        space_before=0.3 if item.level == 0 else 0.1))
    return paragraphs
