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

The parser never raises: it returns slides with the problems it found, each naming the slide and
the line, so ``plan`` can read image references leniently and the render job can refuse strictly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from producers.media.text import Paragraph, Span

SEPARATOR_RE = re.compile(r"^\s{0,3}-{3,}\s*$")
HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET_RE = re.compile(r"^(\s*)([-*+]|\d{1,3}[.)])\s+(.*)$")
IMAGE_RE = re.compile(r"^\s*!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<path>[^)\"<>]+?)>?(?:\s+\"[^\"]*\")?\s*\)\s*"
                      r"(?:\{(?P<mode>[a-z]+)\})?\s*$")
INLINE_IMAGE_RE = re.compile(r"!\[[^\]]*\]\(")
# A link's address, for the checker: a slide shows only the link's text, but a local address that
# points at nothing (or out of the session) is still a mistake worth naming.
LINK_RE = re.compile(r"(?<![!\\])\[[^\]]*\]\(\s*<?(?P<url>[^)\s<>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
COLUMNS_RE = re.compile(r"^\s*\|\|\|\s*$")
NOTE_RE = re.compile(r"^\s*notes?:\s?(.*)$", re.IGNORECASE)
IMAGE_MODES = ("fit", "cover")
SUB_INDENT = 2   # spaces before a bullet that make it second level
PICTURES_STEP = "slides"   # the job step of a slides product that draws slide-NN.png (video scenes read them)

Mode = Literal["fit", "cover"]


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

_INLINE_RE = re.compile(r"\\(?P<escaped>.)|`(?P<code>[^`]*)`|!?\[(?P<link>[^\]]*)\]\([^)]*\)"
                        r"|(?P<strong>\*\*|__)|(?P<em>\*|_)")


def inline_spans(text: str) -> tuple[Span, ...]:
    """Bold/italic spans from inline Markdown; links keep their text, code its content."""
    spans: list[Span] = []
    bold = italic = False

    def add(piece: str) -> None:
        if not piece:
            return
        if spans and (spans[-1].bold, spans[-1].italic) == (bold, italic):
            spans[-1] = Span(spans[-1].text + piece, bold, italic)
        else:
            spans.append(Span(piece, bold, italic))

    position = 0
    for match in _INLINE_RE.finditer(text):
        add(text[position:match.start()])
        position = match.end()
        if match.group("escaped") is not None:
            add(match.group("escaped"))
        elif match.group("code") is not None:
            add(match.group("code"))
        elif match.group("link") is not None:
            add(match.group("link"))
        elif match.group("strong"):
            bold = not bold
        else:
            marker = match.group("em")
            before = text[match.start() - 1] if match.start() else " "
            after = text[match.end()] if match.end() < len(text) else " "
            if marker == "_" and before.isalnum() and after.isalnum():
                add(marker)          # snake_case, not emphasis
            else:
                italic = not italic
    add(text[position:])
    return tuple(spans)


def plain(text: str) -> str:
    return "".join(span.text for span in inline_spans(text))


# --- slides ---------------------------------------------------------------------------------------

def split_sections(body: str) -> list[tuple[int, list[str]]]:
    """(offset of first line in body, lines) per ``---``-separated section, blank ends dropped."""
    sections: list[tuple[int, list[str]]] = [(0, [])]
    for index, line in enumerate(body.splitlines()):
        if SEPARATOR_RE.match(line):
            sections.append((index + 1, []))
        else:
            sections[-1][1].append(line)
    # A slide's line is its first written line, not the blank after the '---'.
    trimmed = []
    for offset, lines in sections:
        blank = 0
        while blank < len(lines) and not lines[blank].strip():
            blank += 1
        trimmed.append((offset + blank, lines[blank:]) if blank < len(lines) else (offset, lines))
    sections = trimmed
    while sections and not "".join(sections[0][1]).strip():
        sections.pop(0)
    while sections and not "".join(sections[-1][1]).strip():
        sections.pop()
    return sections


def slide_name(number: int) -> str:
    """The picture of slide ``number`` (1 is the title slide) that the slides job draws."""
    return f"slide-{number:02d}.png"


def parse_deck(body: str, body_line: int = 1) -> Deck:
    """Slides from the product body. ``body_line`` is the file line the body starts on."""
    slides: list[Slide] = []
    problems: list[Problem] = []
    for offset, lines in split_sections(body):
        number = len(slides) + 2            # the title slide is 1
        slide = Slide(number=number, line=body_line + offset)
        _parse_slide(slide, lines, problems)
        slides.append(slide)
    if not slides:
        problems.append(Problem(0, body_line, "the body has no slides: write at least one, e.g. '# Title' "
                                              "and a few '- bullets', and separate slides with '---' lines"))
    return Deck(slides, problems)


def _parse_slide(slide: Slide, lines: list[str], problems: list[Problem]) -> None:
    paragraph: list[str] = []
    after_blank = True

    def close_paragraph() -> None:
        if paragraph:
            text = " ".join(part.strip() for part in paragraph)
            slide.columns[-1].append(Item(inline_spans(text)))
            paragraph.clear()

    for index, raw in enumerate(lines):
        line_number = slide.line + index
        line = raw.rstrip()
        note = NOTE_RE.match(line)
        if note:
            close_paragraph()
            rest = [note.group(1)] + [text.rstrip() for text in lines[index + 1:]]
            slide.notes = "\n".join(rest).strip()
            break
        if not line.strip():
            close_paragraph()
            after_blank = True
            continue
        slide.links += [(link.group("url"), line_number) for link in LINK_RE.finditer(line)]
        previous_blank, after_blank = after_blank, False
        if COLUMNS_RE.match(line):
            close_paragraph()
            if slide.two_columns:
                problems.append(Problem(slide.number, line_number, "a slide has at most two columns: "
                                                                   "only one '|||' line is allowed"))
            else:
                slide.columns.append([])
            continue
        image = IMAGE_RE.match(line)
        if image:
            close_paragraph()
            mode = image.group("mode") or "fit"
            if mode not in IMAGE_MODES:
                problems.append(Problem(slide.number, line_number,
                                        f"unknown image option {{{mode}}}; allowed: {{fit}} or {{cover}}"))
                mode = "fit"
            if slide.image is not None:
                problems.append(Problem(slide.number, line_number,
                                        f"one image per slide: {image.group('path')!r} is a second image "
                                        f"(the first is {slide.image.path!r}); move it to its own slide"))
                continue
            slide.image = SlideImage(image.group("path"), plain(image.group("alt")).strip(), mode,
                                     len(slide.columns) - 1, line_number)
            continue
        if INLINE_IMAGE_RE.search(line):
            problems.append(Problem(slide.number, line_number, "an image must stand alone on its own line, "
                                    "like: ![what the picture shows](media/photo.jpg)"))
            continue
        heading = HEADING_RE.match(line)
        if heading:
            close_paragraph()
            if not slide.title and not slide.items:
                slide.title = plain(heading.group(2)).strip()
            else:
                slide.columns[-1].append(Item(tuple(Span(s.text, True, s.italic) for s in inline_spans(heading.group(2)))))
            continue
        bullet = BULLET_RE.match(line)
        if bullet:
            close_paragraph()
            level = 1 if len(bullet.group(1).expandtabs(4)) >= SUB_INDENT else 0
            marker = bullet.group(2)
            marker = marker if marker[0].isdigit() else ("•" if level == 0 else "–")
            slide.columns[-1].append(Item(inline_spans(bullet.group(3).strip()), level, marker))
            continue
        if paragraph or previous_blank or not slide.columns[-1] or slide.columns[-1][-1].level is None:
            paragraph.append(line.lstrip("> ").strip())
        else:
            # An indented continuation of a bullet joins it.
            last = slide.columns[-1].pop()
            slide.columns[-1].append(Item(last.spans + inline_spans(" " + line.strip()), last.level, last.marker))
    close_paragraph()
    if slide.two_columns and slide.image is not None and slide.columns[slide.image.column]:
        side = "left" if slide.image.column == 0 else "right"
        problems.append(Problem(slide.number, slide.image.line,
                                f"in a two-column slide the image fills its whole column, but the {side} column "
                                "also has text: move the text to the other column"))
    if slide.is_empty:
        what = "only speaker notes" if slide.notes else "nothing"
        problems.append(Problem(slide.number, slide.line,
                                f"the slide is empty ({what}): give it a '# title', text or an image, "
                                "or remove the extra '---' line"))


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
