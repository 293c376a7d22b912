"""Slides: Markdown in, PNGs + PDF + editable PPTX + a web slideshow + a share card out.

How a cell writes a deck (the product file's body, after its front matter)::

    # What is disinformation?          the first heading of a slide is its title
    - False content spread **on purpose**
      - second-level bullet            (indent two spaces)
    - *Misinformation*: shared by mistake
    ![A chat group screenshot](media/chat.png)          one image per slide, shown whole
    Note: Ask who has seen such a message this week.   speaker notes: everything after "Note:"
    ---                                a line of three dashes starts the next slide
    # Two columns
    Text on the left
    |||                                a line of three bars: what follows goes in the right column
    ![Photo of the meeting](media/meeting.jpg){cover}   {cover} crops the image to fill its area

Numbering: slide 1 is the title slide made from the product title, the cell's name and the
session date; the first slide written in the body is slide 2. PNG names (``slide-02.png``), PDF
pages, the slideshow counter, error messages and video scene references (``01-slides#2``) all use
these numbers.

Outputs: ``slide-NN.png`` (1920×1080), ``deck.pdf`` (one page per slide), ``deck.pptx`` (real text
boxes, notes in the notes pane, Devanagari runs carry the complex-script font and ``lang``),
``card.png`` (1200×630), and the page: a slideshow (arrow keys, swipe, full screen, counter, notes)
whose slides also exist as plain HTML text for screen readers and for browsers without script.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from PIL import Image, ImageDraw, PdfParser

from producers.kinds import cards
from producers.media import fonts
from producers.kinds import video
from producers.errors import ProducerError
from producers.files import reproducible_zip
from producers.content.markdown import local_path, url_kind
from producers.web.i18n import Labels
from producers.web.templates import fragment
from producers.media.images import cover_box, fit_box, open_photo, save_webp
from producers.jobs.pipeline import Job, JobResult
from producers.kinds.base import Kind, ProductContext, ProductPage
from producers.content.loader import ALLOWED_LINKS, IMAGE_SUFFIXES, ProductRecord, check_media_path
from producers.content.model import ProductBase, cap_message
from producers.content.scaffold import Scaffold
from producers.errors import Problem
from producers.content.slidesmd import (PICTURES_STEP, Deck, Item, Slide, item_paragraphs, parse_deck, slide_name)
from producers.media.text import Layout, Paragraph, Span, TextStyle, draw_layout, draw_text, fit_paragraphs

WIDTH, HEIGHT = 1920, 1080
EMU_PER_PX = 12192000 // WIDTH          # a 13.333 in wide PPTX slide: 6350 EMU per design pixel
PT_PER_PX = 0.5                          # 960 pt across: text sizes in pt are half the pixel sizes
MARGIN = 110
BAND = 190                               # title band height
STRIPE = 12                              # accent rule under the band
BODY = (MARGIN, BAND + STRIPE + 60, WIDTH - MARGIN, HEIGHT - 90)
GUTTER = 50
TEXT_COLOUR = "#1f1f1f"
PAPER = "#ffffff"
TITLE_STYLE = dict(size=76, min_size=40, bold=True, line_spacing=1.15)
BODY_STYLE = TextStyle(size=64, min_size=28, colour=TEXT_COLOUR, line_spacing=1.25)
NUMBER_STYLE = TextStyle(size=28, min_size=20, colour="#6b6b6b", align="right")
LANG_TAGS = {"en": "en-US", "vi": "vi-VN", "hi": "hi-IN"}
MAX_SLIDES = 60                          # slides per deck, the generated title slide included
# The slideshow's pictures: WebP at these widths (a phone takes the first: 14-20 kB against the PNG's
# 70-110 kB); the full-size PNG stays for video scenes and for browsers without script.
WEB_WIDTHS = (960, WIDTH)
# The theme's content column: at most ~843 px wide from 60em on (measured up to a 2560 px window),
# the window less its padding below that.
WEB_SIZES = "(min-width: 60em) 54em, calc(100vw - 2em)"


class SlidesProduct(ProductBase):
    type: Literal["slides"]
    video: bool = False
    """Also render a narrated video, its speaker notes read aloud."""

    def needs_body(self) -> bool:
        return True

    @classmethod
    def session_problems(cls, records: Sequence[ProductRecord], folder: Path) -> list[Problem]:
        """Slides that would not render: the checker reports them before any build."""
        problems: list[Problem] = []
        for record in records:
            if record.kind != "slides":
                continue
            deck = parse_deck(record.body, record.body_line)
            total = len(deck.slides) + 1          # slide 1 is the generated title slide
            problems += [Problem(record.display, issue.line, f"slide {issue.slide}" if issue.slide else "(body)",
                                 issue.message) for issue in deck.problems]
            if total > MAX_SLIDES:
                problems.append(Problem(record.display, record.body_line, "(body)", cap_message(
                    "the deck has", total, MAX_SLIDES, "slides",
                    "per deck (the title slide included): split it into two decks (a second slides product, "
                    "like 02-slides.md, or a session of its own)")))
            problems += _slide_media_problems(record, deck, folder)
        return problems


def _slide_media_problems(record: ProductRecord, deck: Deck, folder: Path) -> list[Problem]:
    """Slide images are drawn from the session folder only; local link targets must exist in it."""
    problems = []
    for slide in deck.slides:
        where = f"slide {slide.number}"
        if slide.image is not None:
            path, kind = slide.image.path, url_kind(slide.image.path)
            if kind == "external":
                problems.append(Problem(record.display, slide.image.line, where,
                                        f"image {path!r} is on another site; a slide shows images of the session "
                                        "folder only: save the picture into media/ and write "
                                        "![what it shows](media/photo.jpg)"))
            else:
                found, message = check_media_path(folder, local_path(path))
                if message:
                    problems.append(Problem(record.display, slide.image.line, where, f"image {path!r}: {message}"))
                elif found.suffix.lower() not in IMAGE_SUFFIXES:
                    problems.append(Problem(record.display, slide.image.line, where,
                                            f"image {path!r} is not an image; allowed: ({', '.join(IMAGE_SUFFIXES)})"))
        for url, line in slide.links:
            kind = url_kind(url)
            if kind in ("local", "empty"):
                _, message = check_media_path(folder, local_path(url))
                if message:
                    problems.append(Problem(record.display, line, where, f"link {url!r}: {message}"))
            elif kind == "scheme":
                problems.append(Problem(record.display, line, where, f"link {url!r} is not allowed; allowed: "
                                        f"{ALLOWED_LINKS}"))
    return problems


# --- planning ------------------------------------------------------------------------------------

def deck_params(ctx: ProductContext) -> tuple[dict, tuple[Path, ...]]:
    """Everything a render needs, JSON-able, plus the files it reads (logo first, then images)."""
    deck = parse_deck(ctx.record.body, ctx.record.body_line)
    files: list[Path] = []
    logo = ctx.content_root / ctx.site.logo if ctx.site.logo else None
    has_logo = bool(logo and logo.is_file())
    if has_logo:
        files.append(logo)
    images: dict[str, int] = {}
    missing: dict[str, str] = {}
    for slide in deck.slides:
        if slide.image is None or slide.image.path in images or slide.image.path in missing:
            continue
        try:
            images[slide.image.path] = len(files)
            files.append(ctx.media(slide.image.path))
        except ValueError as exc:
            del images[slide.image.path]
            missing[slide.image.path] = str(exc)
    params = {
        "label": ctx.record.display, "body": ctx.record.body, "body_line": ctx.record.body_line,
        "title": ctx.record.product.title, "cell": ctx.cell.name, "date_text": ctx.date_text,
        "site_title": ctx.site.title, "primary": ctx.site.theme.primary, "accent": ctx.site.theme.accent,
        "language": ctx.record.language, "logo": has_logo, "images": images, "missing": missing,
        "slides": len(deck.slides) + 1,
    }
    return params, tuple(files)


class SlidesProducer:
    def plan(self, ctx: ProductContext) -> list[Job]:
        params, files = deck_params(ctx)
        pictures = tuple(slide_name(n) for n in range(1, params["slides"] + 1))
        web = tuple(web_slide_name(n, width) for n in range(1, params["slides"] + 1) for width in WEB_WIDTHS)
        jobs = [
            Job(ctx.job_name(PICTURES_STEP), "slides", render_pictures, params, files,
                pictures + web + ("deck.pdf",)),
            Job(ctx.job_name("pptx"), "slides", render_pptx, params, files, ("deck.pptx",)),
            cards.card_job(ctx),
        ]
        if ctx.record.product.video:
            jobs += video.slides_video_jobs(ctx)
        return jobs

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        deck = parse_deck(ctx.record.body, ctx.record.body_line)
        media: dict[str, Path] = {}
        for step in (PICTURES_STEP, "pptx", "card"):
            result = results.get(ctx.job_name(step))
            if result is not None:
                media.update(result.outputs)
        subtitle = f"{ctx.cell.name} · {ctx.date_text}"
        slideshow = slideshow_html(ctx.record.product.title, subtitle, deck, labels, ctx.record.language,
                                   has_card=cards.CARD_NAME in media)
        warnings: list[str] = []
        section = None
        if ctx.record.product.video:
            section, video_media, warnings = video.slides_video_page(ctx, results, labels)
            media.update(video_media)
        html = fragment(PAGE, summary=ctx.record.product.summary, slideshow=slideshow, video=section)
        return ProductPage(html=html, media=media, warnings=tuple(warnings),
                           card=cards.CARD_NAME if cards.CARD_NAME in media else None)


# --- shared checks ---------------------------------------------------------------------------------

def web_slide_name(number: int, width: int) -> str:
    """The slideshow's picture of slide ``number`` at ``width`` px (WebP)."""
    return f"slide-{number:02d}-{width}.webp"


def strict_deck(params: Mapping[str, Any]) -> Deck:
    deck = parse_deck(params["body"], params["body_line"])
    label = params["label"]
    if deck.problems:
        lines = [f"{label}:{p.line}: slide {p.slide}: {p.message}" if p.slide else f"{label}:{p.line}: {p.message}"
                 for p in deck.problems]
        raise ProducerError(lines[0], detail="\n".join(lines[1:]))
    return deck


def _where(params: Mapping[str, Any], slide: Slide, line: int | None = None) -> str:
    return f"{params['label']}:{line or slide.line}: slide {slide.number}"


def slide_image(params: Mapping[str, Any], files: tuple[Path, ...], slide: Slide) -> Image.Image | None:
    if slide.image is None:
        return None
    where = _where(params, slide, slide.image.line)
    path = slide.image.path
    if path in params["missing"]:
        raise ProducerError(f"{where}: image {path!r}: {params['missing'][path]}")
    photo = open_photo(files[params["images"][path]], f"{where}: image {path!r}", max_edge=2 * WIDTH)
    return photo.image


def deck_logo(params: Mapping[str, Any], files: tuple[Path, ...]) -> tuple[Image.Image | None, list[str]]:
    if not params["logo"]:
        return None, []
    return cards.open_logo(files[0], "site.yml: logo")


# --- geometry shared by the PNG and PPTX renderers --------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """Where a slide's parts go, in design pixels (left, top, right, bottom)."""

    columns: tuple[tuple[int, int, int, int], ...]   # text areas, one per non-empty text column
    column_items: tuple[tuple[Item, ...], ...]
    image: tuple[int, int, int, int] | None


def place(slide: Slide) -> Placement:
    left, top, right, bottom = BODY
    middle = WIDTH // 2
    halves = ((left, top, middle - GUTTER // 2, bottom), (middle + GUTTER // 2, top, right, bottom))
    bleed = ((0, BAND + STRIPE, middle, HEIGHT), (middle, BAND + STRIPE, WIDTH, HEIGHT))
    texts = [tuple(column) for column in slide.columns]
    image = slide.image
    if not slide.two_columns:
        if image is None:
            return Placement((BODY,), (texts[0],), None)
        if not texts[0]:
            area = (0, BAND + STRIPE, WIDTH, HEIGHT) if image.mode == "cover" else BODY
            return Placement((), (), area)
        return Placement((halves[0],), (texts[0],), bleed[1] if image.mode == "cover" else halves[1])
    side = image.column if image is not None else None
    image_area = None
    if image is not None:
        image_area = bleed[side] if image.mode == "cover" else halves[side]
    # Text written in the image's column would sit under the picture: that column shows the picture.
    areas = [halves[index] for index, column in enumerate(texts) if column and index != side]
    items = [column for index, column in enumerate(texts) if column and index != side]
    return Placement(tuple(areas), tuple(items), image_area)


def fit_columns(placement: Placement) -> list[Layout]:
    """Every text column at one common size: mixed sizes side by side look like a mistake."""
    layouts = [fit_paragraphs(item_paragraphs(list(items)), area[2] - area[0], area[3] - area[1], BODY_STYLE)
               for area, items in zip(placement.columns, placement.column_items)]
    if len(layouts) > 1:
        common = min(layout.size for layout in layouts)
        style = TextStyle(**{**BODY_STYLE.__dict__, "size": common})
        layouts = [fit_paragraphs(item_paragraphs(list(items)), area[2] - area[0], area[3] - area[1], style)
                   for area, items in zip(placement.columns, placement.column_items)]
    return layouts


def _title_box(has_logo_room: int) -> tuple[int, int, int, int]:
    return (MARGIN, 18, WIDTH - MARGIN - has_logo_room, BAND - 18)


# --- PNG + PDF -------------------------------------------------------------------------------------

def draw_title_slide(params: Mapping[str, Any], logo: Image.Image | None) -> Image.Image:
    primary, accent = params["primary"], params["accent"]
    ink = cards.readable_on(primary)
    image = Image.new("RGB", (WIDTH, HEIGHT), primary)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT - 150, WIDTH, HEIGHT), fill=cards.mix(primary, "#000000", 0.35))
    draw.rectangle((0, HEIGHT - 150 - STRIPE, WIDTH, HEIGHT - 150), fill=accent)
    if logo is not None:
        mark = fit_box(logo, 220, 220)
        image.paste(mark, ((WIDTH - mark.width) // 2, 90), mark)
    draw_text(image, (160, 340, WIDTH - 160, 720), params["title"],
              TextStyle(size=110, min_size=50, bold=True, colour=ink, align="center", line_spacing=1.15),
              valign="middle", max_lines=3)
    draw_text(image, (160, 745, WIDTH - 160, 830), params["cell"],
              TextStyle(size=56, min_size=30, colour=ink, align="center"), valign="middle", max_lines=1)
    draw_text(image, (160, 830, WIDTH - 160, 900), params["date_text"],
              TextStyle(size=44, min_size=28, colour=ink, align="center"), valign="middle", max_lines=1)
    band_ink = cards.readable_on(cards.hex_colour(cards.mix(primary, "#000000", 0.35)))
    draw_text(image, (160, HEIGHT - 130, WIDTH - 160, HEIGHT - 20), params["site_title"],
              TextStyle(size=40, min_size=24, colour=band_ink, align="center"), valign="middle", max_lines=1)
    return image


def draw_slide(params: Mapping[str, Any], slide: Slide, total: int, logo: Image.Image | None,
               picture: Image.Image | None) -> tuple[Image.Image, list[str]]:
    warnings: list[str] = []
    primary = params["primary"]
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, BAND), fill=primary)
    draw.rectangle((0, BAND, WIDTH, BAND + STRIPE), fill=params["accent"])
    logo_room = 0
    if logo is not None:
        mark = fit_box(logo, 140, 140)
        image.paste(mark, (WIDTH - MARGIN - mark.width, (BAND - mark.height) // 2), mark)
        logo_room = mark.width + 40
    if slide.title:
        result = draw_text(image, _title_box(logo_room), slide.title,
                           TextStyle(colour=cards.readable_on(primary), **TITLE_STYLE), valign="middle", max_lines=2)
        if result.truncated:
            warnings.append(f"{_where(params, slide)}: the title is too long and was cut on the slide image: "
                            f"{slide.title[:60]!r}")
    placement = place(slide)
    if picture is not None and placement.image is not None:
        left, top, right, bottom = placement.image
        if slide.image.mode == "cover":
            image.paste(cover_box(picture, right - left, bottom - top), (left, top))
        else:
            fitted = fit_box(picture, right - left, bottom - top)
            image.paste(fitted, (left + (right - left - fitted.width) // 2, top + (bottom - top - fitted.height) // 2))
    for area, layout in zip(placement.columns, fit_columns(placement)):
        draw_layout(image, area, layout)
        if layout.truncated:
            warnings.append(f"{_where(params, slide)}: the text does not fit even at the smallest size "
                            f"({BODY_STYLE.smallest} px) and was cut on the slide image and PDF; "
                            "split it over two slides (the PPTX keeps all of it)")
    number_box = (WIDTH - MARGIN - 200, HEIGHT - 70, WIDTH - MARGIN + 60, HEIGHT - 25)
    if placement.image and placement.image[3] == HEIGHT and placement.image[2] == WIDTH:
        draw.rectangle((number_box[0] + 120, number_box[1] - 8, number_box[2] + 10, number_box[3] + 8), fill=PAPER)
    draw_text(image, number_box, f"{slide.number} / {total}", NUMBER_STYLE, valign="bottom", max_lines=1)
    return image, warnings


class _PdfPages:
    """deck.pdf written one page at a time: a deck's memory does not grow with its slides.

    Pillow's PDF writer (``save(save_all=True, append_images=...)``) needs every page in memory at
    once: measured 8 MB per 1920×1080 slide, 1.2 GB for 150 slides, linear. This writes each page as
    that plugin does (a JPEG at quality 90 under DCTDecode, one image per page at 144 dpi) through
    the same library's PdfParser, the PDF object writer behind the plugin, then the page tree at the
    end. Object numbers are assigned here, three per page, because ``PdfParser.next_object_id`` scans
    every number it holds (quadratic over a long deck). No creation date: same deck, same bytes.
    """

    RESOLUTION = 144.0
    CATALOG = PdfParser.IndirectReference(1, 0)
    PAGES = PdfParser.IndirectReference(2, 0)

    def __init__(self, path: Path, title: str, author: str):
        self._handle = open(path, "wb")
        self._pdf = PdfParser.PdfParser(f=self._handle)
        self._pdf.start_writing()
        self._pdf.write_header()
        self._pdf.info["Title"] = title
        self._pdf.info["Author"] = author
        self._kids: list[PdfParser.IndirectReference] = []

    def add(self, image: Image.Image) -> None:
        encoded = io.BytesIO()
        image.convert("RGB").save(encoded, "JPEG", quality=90)
        first = 3 + 3 * len(self._kids)
        picture, page, contents = (PdfParser.IndirectReference(first + n, 0) for n in range(3))
        width, height = (side * 72.0 / self.RESOLUTION for side in image.size)
        self._pdf.write_obj(picture, stream=encoded.getvalue(), Type=PdfParser.PdfName("XObject"),
                            Subtype=PdfParser.PdfName("Image"), Width=image.width, Height=image.height,
                            Filter=PdfParser.PdfName("DCTDecode"), BitsPerComponent=8,
                            ColorSpace=PdfParser.PdfName("DeviceRGB"))
        self._pdf.write_obj(page, Type=PdfParser.PdfName("Page"), Parent=self.PAGES,
                            Resources=PdfParser.PdfDict(ProcSet=[PdfParser.PdfName("PDF"),
                                                                 PdfParser.PdfName("ImageC")],
                                                        XObject=PdfParser.PdfDict(image=picture)),
                            MediaBox=[0, 0, width, height], Contents=contents)
        self._pdf.write_obj(contents, stream=b"q %f 0 0 %f 0 0 cm /image Do Q\n" % (width, height))
        self._kids.append(page)

    def close(self) -> None:
        self._pdf.write_obj(self.PAGES, Type=PdfParser.PdfName("Pages"), Count=len(self._kids), Kids=self._kids)
        self._pdf.write_obj(self.CATALOG, Type=PdfParser.PdfName("Catalog"), Pages=self.PAGES)
        self._pdf.write_xref_and_trailer(self.CATALOG)
        self._pdf.close()
        self._handle.close()

    def __enter__(self) -> "_PdfPages":
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self.close()
        else:
            self._handle.close()     # the job's scratch folder, partial file and all, is discarded


def render_pictures(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action: slide-NN.png for every slide and deck.pdf, one page per slide.

    Each slide is drawn, saved and added to the PDF before the next is drawn, so memory stays that of
    one slide whatever the deck's length.
    """
    deck = strict_deck(params)
    logo, warnings = deck_logo(params, files)
    total = len(deck.slides) + 1
    with _PdfPages(out_dir / "deck.pdf", params["title"], params["cell"]) as pdf:
        def emit(number: int, image: Image.Image) -> None:
            # Drawn from scratch: no metadata to strip. Level 6 without optimize: 4x faster, ~10 % larger.
            image.save(out_dir / slide_name(number), "PNG", compress_level=6)
            for width in WEB_WIDTHS:
                sized = image if width == WIDTH else image.resize((width, width * HEIGHT // WIDTH),
                                                                  Image.Resampling.LANCZOS)
                save_webp(sized, out_dir / web_slide_name(number, width))
            pdf.add(image)

        emit(1, draw_title_slide(params, logo))
        for slide in deck.slides:
            image, found = draw_slide(params, slide, total, logo, slide_image(params, files, slide))
            warnings += found
            emit(slide.number, image)
    return warnings


# --- PPTX ------------------------------------------------------------------------------------------

def render_pptx(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action: deck.pptx with real, editable text boxes and the speaker notes in the notes pane."""
    from pptx import Presentation
    from pptx.util import Emu

    deck = strict_deck(params)
    logo, warnings = deck_logo(params, files)
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = Emu(WIDTH * EMU_PER_PX), Emu(HEIGHT * EMU_PER_PX)
    presentation.core_properties.title = params["title"]
    presentation.core_properties.author = params["cell"]
    presentation.core_properties.language = LANG_TAGS[params["language"]]
    blank = presentation.slide_layouts[6]
    writer = _PptxWriter(params, logo)
    writer.title_slide(presentation.slides.add_slide(blank))
    total = len(deck.slides) + 1
    for slide in deck.slides:
        writer.content_slide(presentation.slides.add_slide(blank), slide, total, slide_image(params, files, slide))
    packed = io.BytesIO()
    presentation.save(packed)
    (out_dir / "deck.pptx").write_bytes(reproducible_zip(packed.getvalue()))
    return warnings


def _emu(px: float):
    from pptx.util import Emu
    return Emu(round(px * EMU_PER_PX))


class _PptxWriter:
    def __init__(self, params: Mapping[str, Any], logo: Image.Image | None):
        self.params = params
        self.logo = logo
        self.language = LANG_TAGS[params["language"]]

    # shapes
    def rectangle(self, pptx_slide, box, colour: str) -> None:
        from pptx.dml.color import RGBColor
        from pptx.enum.shapes import MSO_SHAPE
        shape = pptx_slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, _emu(box[0]), _emu(box[1]), _emu(box[2] - box[0]),
                                            _emu(box[3] - box[1]))
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#").upper())
        shape.line.fill.background()
        shape.shadow.inherit = False

    def picture(self, pptx_slide, image: Image.Image, left: int, top: int, fmt: str = "JPEG") -> None:
        buffer = io.BytesIO()
        if fmt == "JPEG":
            image.convert("RGB").save(buffer, "JPEG", quality=85)
        else:
            image.save(buffer, "PNG")
        buffer.seek(0)
        pptx_slide.shapes.add_picture(buffer, _emu(left), _emu(top), _emu(image.width), _emu(image.height))

    def text_box(self, pptx_slide, box, paragraphs: list[Paragraph], size: int, colour: str,
                 align: str = "left", anchor: str = "top", line_spacing: float = 1.25, name: str = ""):
        from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
        from pptx.util import Pt
        shape = pptx_slide.shapes.add_textbox(_emu(box[0]), _emu(box[1]), _emu(box[2] - box[0]), _emu(box[3] - box[1]))
        if name:
            shape.name = name
        frame = shape.text_frame
        frame.word_wrap = True
        frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = 0
        frame.vertical_anchor = {"top": MSO_ANCHOR.TOP, "middle": MSO_ANCHOR.MIDDLE, "bottom": MSO_ANCHOR.BOTTOM}[anchor]
        # Office and Impress shrink the text if an editor later adds more than fits.
        frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
        for index, paragraph in enumerate(paragraphs):
            p = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
            p.alignment = {"left": PP_ALIGN.LEFT, "center": PP_ALIGN.CENTER, "right": PP_ALIGN.RIGHT}[align]
            p.line_spacing = line_spacing * 0.85   # PowerPoint's 1.0 is already ~1.2 em for Noto Sans
            if index and paragraph.space_before:
                p.space_before = Pt(paragraph.space_before * size * PT_PER_PX)
            if paragraph.bullet:
                self._bullet(p, paragraph, size)
            for span in paragraph.spans:
                for text, script in _script_runs(span.text):
                    run = p.add_run()
                    run.text = text
                    self._font(run, span, script, size, colour)
        return shape

    def _bullet(self, p, paragraph: Paragraph, size: int) -> None:
        from pptx.oxml.ns import qn
        from lxml import etree
        pPr = p._p.get_or_add_pPr()
        pPr.set("marL", str(round(paragraph.indent * size * EMU_PER_PX)))
        pPr.set("indent", str(-round(0.9 * size * EMU_PER_PX)))
        marker = paragraph.bullet or "•"
        if marker[0].isdigit():
            number = etree.SubElement(pPr, qn("a:buAutoNum"))
            number.set("type", "arabicPeriod" if marker.endswith(".") else "arabicParenR")
            number.set("startAt", str(int(marker.rstrip(".)"))))
        else:
            font = etree.SubElement(pPr, qn("a:buFont"))
            font.set("typeface", fonts.LATIN_FAMILY)
            char = etree.SubElement(pPr, qn("a:buChar"))
            char.set("char", marker)

    def _font(self, run, span: Span, script, size: int, colour: str) -> None:
        from lxml import etree
        from pptx.dml.color import RGBColor
        from pptx.oxml.ns import qn
        from pptx.util import Pt
        font = run.font
        font.size = Pt(size * PT_PER_PX)
        font.bold = span.bold
        font.italic = span.italic
        font.color.rgb = RGBColor.from_string((span.colour or colour).lstrip("#").upper())
        font.name = fonts.LATIN_FAMILY
        rPr = run._r.get_or_add_rPr()
        # python-pptx's font.name is only <a:latin>: Impress and PowerPoint pick the font for
        # Devanagari from <a:cs>, and the language from lang.
        latin = rPr.find(qn("a:latin"))
        complex_script = etree.Element(qn("a:cs"))
        complex_script.set("typeface", fonts.DEVANAGARI_FAMILY)
        latin.addnext(complex_script)
        rPr.set("lang", "hi-IN" if script is fonts.Script.DEVANAGARI else self.language)

    # slides
    def title_slide(self, pptx_slide) -> None:
        params = self.params
        primary = params["primary"]
        ink = cards.readable_on(primary)
        self._background(pptx_slide, primary)
        band = cards.hex_colour(cards.mix(primary, "#000000", 0.35))
        self.rectangle(pptx_slide, (0, HEIGHT - 150, WIDTH, HEIGHT), band)
        self.rectangle(pptx_slide, (0, HEIGHT - 150 - STRIPE, WIDTH, HEIGHT - 150), params["accent"])
        if self.logo is not None:
            mark = fit_box(self.logo, 220, 220)
            self.picture(pptx_slide, mark, (WIDTH - mark.width) // 2, 90, fmt="PNG")
        title = fit_paragraphs([Paragraph((Span(params["title"], bold=True),))], WIDTH - 320, 380,
                               TextStyle(size=110, min_size=50, bold=True, line_spacing=1.15))
        self.text_box(pptx_slide, (160, 340, WIDTH - 160, 720), [Paragraph((Span(params["title"], bold=True),))],
                      title.size, ink, align="center", anchor="middle", line_spacing=1.15, name="Title")
        self.text_box(pptx_slide, (160, 745, WIDTH - 160, 830), [Paragraph((Span(params["cell"]),))], 56, ink,
                      align="center", anchor="middle", name="Cell")
        self.text_box(pptx_slide, (160, 830, WIDTH - 160, 900), [Paragraph((Span(params["date_text"]),))], 44, ink,
                      align="center", anchor="middle", name="Date")
        self.text_box(pptx_slide, (160, HEIGHT - 130, WIDTH - 160, HEIGHT - 20),
                      [Paragraph((Span(params["site_title"]),))], 40, cards.readable_on(band), align="center",
                      anchor="middle", name="Site")

    def content_slide(self, pptx_slide, slide: Slide, total: int, picture: Image.Image | None) -> None:
        params = self.params
        primary = params["primary"]
        self._background(pptx_slide, PAPER)
        self.rectangle(pptx_slide, (0, 0, WIDTH, BAND), primary)
        self.rectangle(pptx_slide, (0, BAND, WIDTH, BAND + STRIPE), params["accent"])
        logo_room = 0
        if self.logo is not None:
            mark = fit_box(self.logo, 140, 140)
            self.picture(pptx_slide, mark, WIDTH - MARGIN - mark.width, (BAND - mark.height) // 2, fmt="PNG")
            logo_room = mark.width + 40
        placement = place(slide)
        if picture is not None and placement.image is not None:
            left, top, right, bottom = placement.image
            if slide.image.mode == "cover":
                self.picture(pptx_slide, cover_box(picture, right - left, bottom - top), left, top)
            else:
                fitted = fit_box(picture, right - left, bottom - top)
                self.picture(pptx_slide, fitted, left + (right - left - fitted.width) // 2,
                             top + (bottom - top - fitted.height) // 2)
            pptx_slide.shapes[-1].name = "Picture"
            _set_description(pptx_slide.shapes[-1], slide.image.alt)
        if slide.title:
            box = _title_box(logo_room)
            style = TextStyle(**TITLE_STYLE)
            size = fit_paragraphs([Paragraph((Span(slide.title, bold=True),))], box[2] - box[0], box[3] - box[1],
                                  style, max_lines=2).size
            self.text_box(pptx_slide, box, [Paragraph((Span(slide.title, bold=True),))], size,
                          cards.readable_on(primary), anchor="middle", line_spacing=1.15, name="Title")
        for index, (area, layout) in enumerate(zip(placement.columns, fit_columns(placement))):
            self.text_box(pptx_slide, area, item_paragraphs(list(placement.column_items[index])), layout.size,
                          TEXT_COLOUR, name=f"Text {index + 1}")
        self.text_box(pptx_slide, (WIDTH - MARGIN - 200, HEIGHT - 70, WIDTH - MARGIN + 60, HEIGHT - 25),
                      [Paragraph((Span(f"{slide.number} / {total}"),))], NUMBER_STYLE.size, NUMBER_STYLE.colour,
                      align="right", anchor="bottom", name="Number")
        if slide.notes:
            self.notes(pptx_slide, slide.notes)

    def notes(self, pptx_slide, notes: str) -> None:
        """Speaker notes, one paragraph per line, with the same complex-script font and lang as the slide."""
        from lxml import etree
        from pptx.oxml.ns import qn
        frame = pptx_slide.notes_slide.notes_text_frame
        for index, line in enumerate(notes.split("\n")):
            paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
            for text, script in _script_runs(line):
                run = paragraph.add_run()
                run.text = text
                rPr = run._r.get_or_add_rPr()
                rPr.set("lang", "hi-IN" if script is fonts.Script.DEVANAGARI else self.language)
                for tag, family in (("a:latin", fonts.LATIN_FAMILY), ("a:cs", fonts.DEVANAGARI_FAMILY)):
                    etree.SubElement(rPr, qn(tag)).set("typeface", family)

    def _background(self, pptx_slide, colour: str) -> None:
        from pptx.dml.color import RGBColor
        fill = pptx_slide.background.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#").upper())


def _set_description(shape, alt: str) -> None:
    """Alt text of a picture: the cNvPr descr attribute, what Office shows as 'Alt Text'."""
    shape._element.nvPicPr.cNvPr.set("descr", alt)


def _script_runs(text: str) -> list[tuple[str, fonts.Script]]:
    """Split a span where the script changes, so each run gets the right ``lang``."""
    runs: list[tuple[str, fonts.Script]] = []
    for char in text:
        script = fonts.strong_script(char) or (runs[-1][1] if runs else fonts.Script.LATIN)
        if runs and runs[-1][1] is script:
            runs[-1] = (runs[-1][0] + char, script)
        else:
            runs.append((char, script))
    return runs


# --- the page --------------------------------------------------------------------------------------

def _item_steps(items: list[Item]) -> list[tuple[str, tuple[Span, ...]]]:
    """Paragraphs and two-level lists as the steps of plain HTML (the slide's text for screen
    readers): "open" a list, "close" one, a "p"aragraph, the "next" item, or the item's "text"."""
    steps: list[tuple[str, tuple[Span, ...]]] = []
    open_levels = 0
    for item in items:
        level = -1 if item.level is None else item.level
        while open_levels > level + 1:
            steps.append(("close", ()))
            open_levels -= 1
        if level < 0:
            steps.append(("p", item.spans))
            continue
        if open_levels == level + 1:
            steps.append(("next", item.spans))
        else:
            while open_levels < level + 1:
                steps.append(("open", ()))
                open_levels += 1
            steps.append(("text", item.spans))
    steps += [("close", ())] * open_levels
    return steps


def slideshow_html(title: str, subtitle: str, deck: Deck, labels: Labels, language: str,
                   has_card: bool = True) -> str:
    """The slideshow fragment. Works without script (every slide shown in order); slideshow.js
    turns it into one-slide-at-a-time with keys, swipe, full screen and a notes toggle."""
    total = len(deck.slides) + 1
    entries = [{"number": 1, "title": title, "subtitle": subtitle, "steps": [], "image_alt": "", "notes": None}]
    for slide in deck.slides:
        entries.append({"number": slide.number, "title": slide.title, "subtitle": None,
                        "steps": _item_steps(slide.items), "image_alt": slide.image.alt if slide.image else "",
                        "notes": [line for line in slide.notes.split("\n") if line.strip()] if slide.notes else None})
    for entry in entries:
        entry["label"] = (f"{labels('slides.slide')} {entry['number']} / {total}"
                          + (f": {entry['title']}" if entry["title"] else ""))
        entry["image"] = web_slide_name(entry["number"], WEB_WIDTHS[0])
        entry["srcset"] = ", ".join(f"{web_slide_name(entry['number'], width)} {width}w" for width in WEB_WIDTHS)
    return fragment(SLIDESHOW, labels=labels, title=title, language=language, total=total, entries=entries,
                    width=WIDTH, height=HEIGHT, sizes=WEB_SIZES)


# The summary, the slideshow, and the narrated video when the deck asks for one.
PAGE = """\
{% if summary %}
<p class="c35-lead">{{ summary }}</p>
{% endif %}
{{ slideshow }}{% if video %}{{ "\\n" }}{{ video }}{% endif %}"""

# Every slide as a picture with a short alt (only the first with a src: slideshow.js gives the current
# and the next slide theirs, so a phone fetches one picture, not the deck; <noscript> keeps them all;
# srcset lets a phone take the small width), its full text following as real text (hidden visually),
# and its speaker notes; then the controls slideshow.js shows, and the downloads.
SLIDESHOW = """\
{% macro spans(list) %}{% for span in list %}{% if span.bold %}<strong>{% endif %}{% if span.italic %}<em>{% endif %}{#- -#}
{{ span.text }}{% if span.italic %}</em>{% endif %}{% if span.bold %}</strong>{% endif %}{% endfor %}{% endmacro %}
<div class="c35-slideshow" data-c35-slideshow data-total="{{ total }}" lang="{{ language }}" {#- -#}
{{ " " }}role="region" aria-roledescription="{{ labels("slides.slideshow") }}" aria-label="{{ title }}" tabindex="0">
<div class="c35-slideshow__stage">
{% for slide in entries %}
<section class="c35-slide" data-slide="{{ slide.number }}" aria-label="{{ slide.label }}"{#- -#}
{% if slide.number == 1 %} aria-current="true"{% endif %}>
{% if slide.number == 1 %}<img class="c35-slide__image" src="{{ slide.image }}" srcset="{{ slide.srcset }}" {#- -#}
{{ " " }}sizes="{{ sizes }}" width="{{ width }}" height="{{ height }}" alt="{{ slide.label }}" decoding="async">
{% else %}<img class="c35-slide__image" data-src="{{ slide.image }}" data-srcset="{{ slide.srcset }}" {#- -#}
{{ " " }}sizes="{{ sizes }}" width="{{ width }}" height="{{ height }}" alt="{{ slide.label }}" decoding="async">{#- -#}
<noscript><img class="c35-slide__image" src="{{ slide.image }}" srcset="{{ slide.srcset }}" sizes="{{ sizes }}" {#- -#}
{{ " " }}width="{{ width }}" height="{{ height }}" alt="{{ slide.label }}" loading="lazy" decoding="async"></noscript>
{% endif %}<div class="c35-slide__text c35-visually-hidden">{% if slide.title %}<h2>{{ slide.title }}</h2>{% endif %}{#- -#}
{% if slide.subtitle is not none %}<p>{{ slide.subtitle }}</p>{% endif %}{#- -#}
{% for step, content in slide.steps %}{#- -#}
{% if step == "open" %}<ul><li>{% elif step == "close" %}</li></ul>{% elif step == "p" %}<p>{{ spans(content) }}</p>{#- -#}
{% elif step == "next" %}</li><li>{{ spans(content) }}{% else %}{{ spans(content) }}{% endif %}{#- -#}
{% endfor %}{#- -#}
{% if slide.image_alt %}<p>{{ labels("slides.image") }}: {{ slide.image_alt }}</p>{% endif %}</div>
{% if slide.notes is not none %}
<aside class="c35-slide__notes" aria-label="{{ labels("slides.notes") }}"><h3>{{ labels("slides.notes") }}</h3>{#- -#}
{% for line in slide.notes %}<p>{{ line }}</p>{% endfor %}</aside>
{% endif %}
</section>
{% endfor %}
</div>
<div class="c35-slideshow__controls" hidden>{#- -#}
<button type="button" class="c35-slideshow__prev" data-c35-prev aria-label="{{ labels("previous") }}">{#- -#}
<span aria-hidden="true">&#8249;</span></button>{#- -#}
<span class="c35-slideshow__counter" data-c35-counter aria-live="polite">1 / {{ total }}</span>{#- -#}
<button type="button" class="c35-slideshow__next" data-c35-next aria-label="{{ labels("next") }}">{#- -#}
<span aria-hidden="true">&#8250;</span></button>{#- -#}
<button type="button" class="c35-slideshow__notes-toggle" data-c35-notes aria-pressed="false">{#- -#}
{{ labels("slides.notes") }}</button>{#- -#}
<button type="button" class="c35-slideshow__fullscreen" data-c35-fullscreen>{{ labels("slides.fullscreen") }}</button>{#- -#}
</div>
<p class="c35-slideshow__downloads"><a href="deck.pdf" download>{{ labels("slides.download_pdf") }}</a> · {#- -#}
{{ " " }}<a href="deck.pptx" download>{{ labels("slides.download_pptx") }}</a></p>
</div>"""

LABELS = {
    "en": {"kind.slides": "Slides", "slides.slide": "Slide", "slides.slideshow": "slideshow",
           "slides.notes": "Speaker notes", "slides.fullscreen": "Full screen",
           "slides.download_pdf": "Download PDF", "slides.download_pptx": "Download PowerPoint (editable)",
           "slides.image": "Image"},
    "vi": {"kind.slides": "Bài trình chiếu", "slides.slide": "Trang", "slides.slideshow": "trình chiếu",
           "slides.notes": "Ghi chú của người trình bày", "slides.fullscreen": "Toàn màn hình",
           "slides.download_pdf": "Tải về PDF", "slides.download_pptx": "Tải về PowerPoint (sửa được)",
           "slides.image": "Hình ảnh"},
    "hi": {"kind.slides": "स्लाइड", "slides.slide": "स्लाइड", "slides.slideshow": "स्लाइड शो",
           "slides.notes": "वक्ता के नोट्स", "slides.fullscreen": "पूर्ण स्क्रीन",
           "slides.download_pdf": "PDF डाउनलोड करें",
           "slides.download_pptx": "PowerPoint डाउनलोड करें (संपादन योग्य)", "slides.image": "चित्र"},
}

SCAFFOLD = Scaffold({"title": "Slides"},
                    "# First slide\n\n- A point\n  - A detail\n\nNote: what the speaker says here.\n\n---\n\n"
                    "# Second slide\n\n- **Bold** and *italic* words\n")


def first_slide(ctx: ProductContext, jobs) -> tuple[str, str]:
    """The deck's picture in listings: its first slide."""
    return ctx.job_name(PICTURES_STEP), slide_name(1)


KIND = Kind("slides", model=SlidesProduct, producer=SlidesProducer(), labels=LABELS, scaffold=SCAFFOLD,
            report_colour="#1565c0", thumbnail=first_slide)
