"""Slides end to end: Markdown -> PNGs, PDF, editable PPTX (read back), share card, slideshow page,
bad input named by file, line and slide; LibreOffice opens the PPTX with the text intact; the
slideshow pages with the keyboard in Chromium."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.oxml.ns import qn
from pypdf import PdfReader

from producers.media import tools
from producers.kinds import slides as slides_kind
from producers.kinds.slides import MAX_SLIDES
from producers.content.slidesmd import parse_deck
from slides_support import DECK, FOLDER, context, render, slides_md, write_tree

ASSETS = Path(__file__).resolve().parents[2] / "producers" / "build" / "assets"


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    root = write_tree(tmp_path_factory.mktemp("slides") / "content")
    rendered = render(root)
    assert not rendered.failed, [(r.name, r.error, r.detail) for r in rendered.failed]
    return rendered


def named(slide, name):
    return next(shape for shape in slide.shapes if shape.name == name)


# --- the Markdown ----------------------------------------------------------------------------------

def test_parser_reads_titles_bullets_notes_columns_and_images():
    parsed = parse_deck(DECK, body_line=5)
    assert not parsed.problems
    first, second, third = parsed.slides
    assert (first.number, first.title, first.line) == (2, "Tin giả là gì?", 6)
    assert [(item.level, item.text) for item in first.items] == [
        (0, "Thông tin sai sự thật được lan truyền có chủ đích"), (1, "Trên Facebook, Zalo"),
        (0, "नमस्ते: झूठी और हानिकारक जानकारी का खंडन")]
    spans = first.items[0].spans
    assert [(s.text, s.bold, s.italic) for s in spans] == [
        ("Thông tin ", False, False), ("sai sự thật", True, False), (" được lan truyền ", False, False),
        ("có chủ đích", False, True)]
    assert first.notes == "Hỏi các đồng chí đã gặp tin giả nào tuần này.\nThen count the hands."
    assert second.two_columns and second.image.mode == "cover" and second.image.column == 1
    assert [item.text for item in second.columns[0]] == ["Bên trái là chữ"]
    assert third.image.mode == "fit" and third.image.alt == "Ảnh cuộc họp" and third.title == "Chỉ có ảnh"


def test_parser_details():
    parsed = parse_deck("# A\n1. one\n2. two\n\nsome_snake_case and __strong__ _em_\n"
                        "continued line\n- bullet\n  wrapped on\n\nafter blank\n", 1)
    items = parsed.slides[0].items
    assert [(i.marker, i.text) for i in items] == [
        ("1.", "one"), ("2.", "two"), (None, "some_snake_case and strong em continued line"),
        ("•", "bullet wrapped on"), (None, "after blank")]
    assert [(s.text, s.bold, s.italic) for s in items[2].spans][1:4] == [("strong", True, False), (" ", False, False),
                                                                         ("em", False, True)]


# --- the outputs -----------------------------------------------------------------------------------

def test_pngs_pdf_and_card(deck):
    for number in range(1, 5):
        with Image.open(deck.output(f"slide-{number:02d}.png")) as image:
            assert image.size == (1920, 1080)
    assert len(PdfReader(deck.output("deck.pdf")).pages) == 4
    with Image.open(deck.output("card.png")) as card:
        assert card.size == (1200, 630)
    # the slideshow's pictures: WebP at a phone's width and at full size
    for number in range(1, 5):
        for width in (960, 1920):
            with Image.open(deck.output(f"slide-{number:02d}-{width}.webp")) as image:
                assert image.format == "WEBP" and image.size == (width, width * 9 // 16)
    # The title slide is in the site's primary colour (#0d47a1), drawn from site.yml's theme.
    with Image.open(deck.output("slide-01.png")) as title:
        assert title.convert("RGB").getpixel((20, 20)) == (0x0d, 0x47, 0xa1)


def test_pdf_pages_are_the_slide_pictures_with_metadata_and_the_same_bytes_each_time(deck, tmp_path):
    reader = PdfReader(deck.output("deck.pdf"), strict=True)
    assert reader.metadata.title == "Nhận diện tin giả — झूठी ख़बर" and reader.metadata.author == "Chi bộ Hạ Long"
    for number, page in enumerate(reader.pages, start=1):
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (960, 540)   # 1920×1080 at 144 dpi
        [picture] = page.images
        with Image.open(deck.output(f"slide-{number:02d}.png")) as png:
            shown = picture.image.convert("RGB")
            assert shown.size == png.size == (1920, 1080)
            # JPEG at quality 90: close to the PNG, pixel for pixel, on average
            from PIL import ImageChops, ImageStat
            assert max(ImageStat.Stat(ImageChops.difference(shown, png.convert("RGB"))).mean) < 3
    again = render(write_tree(tmp_path / "content"), tmp_path / "cache")
    assert again.output("deck.pdf").read_bytes() == deck.output("deck.pdf").read_bytes()


# A child process per measurement: ru_maxrss is a process's high-water mark.
MEMORY_PROBE = """
import resource, sys
from pathlib import Path
from slides_support import context, write_tree
from producers.kinds import slides
count, action, work = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
body = "\\n---\\n".join(f"# Slide {n}\\n- one short line" for n in range(2, count + 1))
params, files = slides.deck_params(context(write_tree(work / "content", body=body)))
(work / "out").mkdir()
getattr(slides, action)(params, files, work / "out")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
# One 1920×1080 RGB slide is 6.2 MB: before rendering streamed, 45 more slides added ~360 MB.
MAX_GROWTH_KB = 32 * 1024


def _peak_kb(tmp_path: Path, count: int, action: str) -> int:
    import os
    import subprocess
    import sys
    work = tmp_path / f"{action}-{count}"
    work.mkdir()
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)])}
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(count), action, str(work)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    outputs = sorted(p.name for p in (work / "out").iterdir())
    if action == "render_pictures":
        assert outputs == sorted(["deck.pdf", *(f"slide-{n:02d}.png" for n in range(1, count + 1)),
                                  *(f"slide-{n:02d}-{w}.webp" for n in range(1, count + 1) for w in (960, 1920))])
        assert len(PdfReader(work / "out" / "deck.pdf").pages) == count
    else:
        assert len(Presentation(work / "out" / "deck.pptx").slides) == count
    return int(done.stdout.split()[-1])


@pytest.mark.parametrize("action", ["render_pictures", "render_pptx"])
def test_deck_memory_does_not_grow_with_its_slides(tmp_path, action):
    # from 15 slides to the most a deck may have (the model's cap)
    small, large = _peak_kb(tmp_path, 15, action), _peak_kb(tmp_path, MAX_SLIDES, action)
    assert large - small < MAX_GROWTH_KB, \
        f"{action}: peak {small // 1024} MB at 15 slides, {large // 1024} MB at {MAX_SLIDES}"


def test_a_hindi_decks_title_slide_writes_the_date_as_its_readers_do(tmp_path):
    root = write_tree(tmp_path / "content")
    (root / FOLDER / "01-slides.md").write_text(slides_md(extra="language: hi\n"), encoding="utf-8")
    params, files = slides_kind.deck_params(context(root))
    (tmp_path / "out").mkdir()
    slides_kind.render_pptx(params, files, tmp_path / "out")
    date = named(Presentation(tmp_path / "out" / "deck.pptx").slides[0], "Date").text_frame
    assert date.text == "28 नवंबर 2024"
    # Hindi runs with the Devanagari face, so PowerPoint and LibreOffice shape the month name
    for run in date.paragraphs[0].runs:
        rPr = run._r.find(qn("a:rPr"))
        assert (rPr.get("lang"), rPr.find(qn("a:cs")).get("typeface")) == ("hi-IN", "Noto Sans Devanagari")


def test_pptx_has_real_text_notes_pictures_and_complex_script_fonts(deck):
    presentation = Presentation(deck.output("deck.pptx"))
    slides = list(presentation.slides)
    assert len(slides) == 4
    assert presentation.slide_width * 9 == presentation.slide_height * 16
    assert named(slides[0], "Title").text_frame.text == "Nhận diện tin giả — झूठी ख़बर"
    assert named(slides[0], "Cell").text_frame.text == "Chi bộ Hạ Long"
    assert named(slides[0], "Date").text_frame.text == "28 tháng 11, 2024"      # as the deck's Vietnamese readers write it
    assert named(slides[1], "Title").text_frame.text == "Tin giả là gì?"
    body = named(slides[1], "Text 1").text_frame
    assert [p.text for p in body.paragraphs] == ["Thông tin sai sự thật được lan truyền có chủ đích",
                                                 "Trên Facebook, Zalo", "नमस्ते: झूठी और हानिकारक जानकारी का खंडन"]
    assert [p.level for p in body.paragraphs] == [0, 0, 0]
    bold_runs = [r.text for p in body.paragraphs for r in p.runs if r.font.bold]
    italic_runs = [r.text for p in body.paragraphs for r in p.runs if r.font.italic]
    assert bold_runs == ["sai sự thật"] and italic_runs == ["có chủ đích"]
    assert slides[1].notes_slide.notes_text_frame.text == ("Hỏi các đồng chí đã gặp tin giả nào tuần này.\n"
                                                            "Then count the hands.")
    assert not slides[2].has_notes_slide
    notes_runs = [r for p in slides[1].notes_slide.notes_text_frame.paragraphs for r in p.runs]
    assert {r._r.find(qn("a:rPr")).get("lang") for r in notes_runs} == {"vi-VN"}
    # Complex-script font and language on every run: Devanagari runs are Hindi, the rest the product's.
    for paragraph in body.paragraphs:
        for run in paragraph.runs:
            rPr = run._r.find(qn("a:rPr"))
            assert rPr.find(qn("a:cs")).get("typeface") == "Noto Sans Devanagari"
            assert rPr.find(qn("a:latin")).get("typeface") == "Noto Sans"
            expected = "hi-IN" if any("\u0900" <= c <= "\u097f" for c in run.text) else "vi-VN"
            assert rPr.get("lang") == expected, run.text
    # Pictures are placed (not the whole slide as a picture), with their alt text.
    pictures = [s for s in slides[2].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE and s.name == "Picture"]
    assert len(pictures) == 1 and pictures[0]._element.nvPicPr.cNvPr.get("descr") == "Một bức ảnh"
    assert named(slides[2], "Text 1").text_frame.text == "Bên trái là chữ"
    # Cover: the picture fills the right half from under the title band to the bottom edge.
    assert pictures[0].left == presentation.slide_width // 2 and \
        pictures[0].top + pictures[0].height == presentation.slide_height


def test_page_html_and_media(deck):
    page = deck.page
    assert page.card == "card.png"
    assert set(page.media) == {"slide-01.png", "slide-02.png", "slide-03.png", "slide-04.png", "deck.pdf",
                               "deck.pptx", "card.png",
                               *(f"slide-{n:02d}-{w}.webp" for n in range(1, 5) for w in (960, 1920))}
    html = page.html
    assert 'href="deck.pdf"' in html and 'href="deck.pptx"' in html
    # Only the first picture loads with the page; slideshow.js gives the others theirs as they come up,
    # and without script the <noscript> copies show them all.
    # A phone takes the 960 px WebP, a wide or dense screen the full size (srcset, width/height kept).
    srcset = 'srcset="slide-01-960.webp 960w, slide-01-1920.webp 1920w"'
    assert f'src="slide-01-960.webp" {srcset}' in html and 'width="1920" height="1080"' in html
    for number in range(2, 5):
        srcset = f"slide-{number:02d}-960.webp 960w, slide-{number:02d}-1920.webp 1920w"
        assert f'data-src="slide-{number:02d}-960.webp" data-srcset="{srcset}"' in html
        assert f'<noscript><img class="c35-slide__image" src="slide-{number:02d}-960.webp" srcset="{srcset}"' in html
    # The slide's words are real text on the page, not only pixels.
    assert "<strong>sai sự thật</strong>" in html and "<li>Trên Facebook, Zalo</li>" in html
    assert "Then count the hands." in html


def test_markup_in_slides_is_escaped(tmp_path):
    root = write_tree(tmp_path / "content", body='# <script>alert(1)</script>\n- a "quote" & <b>tag</b>\n')
    rendered = render(root)
    assert not rendered.failed
    assert "<script>" not in rendered.page.html and "&lt;script&gt;" in rendered.page.html
    assert "&lt;b&gt;tag&lt;/b&gt;" in rendered.page.html


def test_unchanged_deck_is_not_rendered_again(tmp_path):
    root = write_tree(tmp_path / "content")
    first = render(root, tmp_path / "cache")
    second = render(root, tmp_path / "cache")
    assert {r.status for r in first.results.values()} == {"rendered"}
    assert {r.status for r in second.results.values()} == {"cached"}


# --- bad input -------------------------------------------------------------------------------------

def failure(tmp_path, body, files=None) -> str:
    """The one error a cell sees: from `cell35 check` when the deck itself is wrong (the checker
    parses decks), else from the render (a missing or broken image)."""
    from producers.kinds.registry import load_content
    root = write_tree(tmp_path / "content", body=body, files=files)
    checked = load_content(root).errors
    if checked:
        assert len(checked) == 1, [str(p) for p in checked]
        return str(checked[0])
    rendered = render(root)
    assert rendered.failed, "expected the render to fail"
    errors = {r.error for r in rendered.failed if r.name.endswith((":slides", ":pptx"))}
    assert len(errors) == 1, errors
    return errors.pop()


def test_empty_slide_is_an_error_naming_file_line_and_slide(tmp_path):
    error = failure(tmp_path, "# One\n- a\n---\n\n---\n# Three\n")
    # Front matter is 4 lines, so the body starts on line 5; the empty slide starts on line 8.
    assert error.startswith(f"content/{FOLDER}/01-slides.md:8: slide 3: the slide is empty"), error


def test_notes_only_slide_is_an_error(tmp_path):
    error = failure(tmp_path, "# One\n---\nNote: only notes here\n")
    assert "slide 3" in error and "only speaker notes" in error


def test_missing_image_names_the_slide_and_the_file(tmp_path):
    error = failure(tmp_path, "# One\n---\n# Two\n![x](media/nope.png)\n")
    assert "01-slides.md:8: slide 3: image 'media/nope.png'" in error and "not found" in error


def test_file_that_is_not_an_image(tmp_path):
    error = failure(tmp_path, "# One\n![x](media/fake.png)\n", files={"media/fake.png": b"this is not a picture\n" * 10})
    assert "01-slides.md:6: slide 2: image 'media/fake.png'" in error and "not an image" in error


def test_two_images_and_unknown_option_are_errors(tmp_path):
    error = failure(tmp_path, "# One\n![a](media/photo.png)\n![b](media/photo.png)\n")
    assert "slide 2" in error and "one image per slide" in error
    error = failure(tmp_path / "b", "# One\n![a](media/photo.png){stretch}\n")
    assert "slide 2" in error and "{fit} or {cover}" in error


def test_empty_body_is_an_error(tmp_path):
    assert "no slides" in failure(tmp_path, "---\n\n---\n")


def test_text_that_cannot_fit_is_cut_with_a_warning(tmp_path):
    words = " ".join(["Đấu tranh phản bác các quan điểm sai trái thù địch"] * 12)
    body = "# Quá nhiều chữ\n" + "\n".join(f"- {words}" for _ in range(6))
    root = write_tree(tmp_path / "content", body=body)
    rendered = render(root)
    assert not rendered.failed
    warnings = [w for w in rendered.warnings if "does not fit" in w]
    assert warnings and warnings[0].startswith(f"content/{FOLDER}/01-slides.md:5: slide 2:")
    # The editable deck keeps every word.
    slide = list(Presentation(rendered.output("deck.pptx")).slides)[1]
    assert named(slide, "Text 1").text_frame.text.count("Đấu tranh") == 72


def test_broken_logo_is_a_warning_not_a_failure(tmp_path):
    root = write_tree(tmp_path / "content")
    # A PNG that is cut short (check refuses a logo that is no PNG at all, by its bytes).
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage")
    rendered = render(root)
    assert not rendered.failed
    assert any("logo" in w for w in rendered.warnings)


# --- LibreOffice -----------------------------------------------------------------------------------

def test_libreoffice_opens_the_pptx_with_the_text_intact(deck, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is missing: run scripts/setup")
    source = tmp_path / "deck.pptx"
    shutil.copyfile(deck.output("deck.pptx"), source)
    target = tmp_path / "deck.pdf"
    tools.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to", "pdf",
               "--outdir", str(tmp_path), str(source)], outputs=[target], timeout=120, what="LibreOffice")
    reader = PdfReader(target)
    assert len(reader.pages) == 4
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in ("Tin giả là gì?", "Thông tin sai sự thật được lan truyền có chủ đích", "Chi bộ Hạ Long",
                     "नमस्ते", "झूठी", "खंडन", "Bên trái là chữ"):
        assert expected in text, (expected, text)
    fonts_used = {font.get_object()["/BaseFont"].split("+")[-1]
                  for page in reader.pages for font in (page["/Resources"].get("/Font") or {}).values()}
    assert "NotoSansDevanagari-Regular" in fonts_used and "NotoSans-Regular" in fonts_used


# --- the slideshow in a browser -------------------------------------------------------------------

@pytest.mark.browser
def test_slideshow_pages_with_the_keyboard(deck, tmp_path, page):
    for name, path in deck.page.media.items():
        shutil.copyfile(path, tmp_path / name)
    (tmp_path / "index.html").write_text(
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>Slides</title>"
        f"<link rel='stylesheet' href='{(ASSETS / 'slideshow.css').as_uri()}'>"
        f"<script src='{(ASSETS / 'slideshow.js').as_uri()}' defer></script></head>"
        f"<body><input id='search'><main>{deck.page.html}</main></body></html>", encoding="utf-8")
    page.goto((tmp_path / "index.html").as_uri())
    counter = page.locator("[data-c35-counter]")
    assert counter.text_content() == "1 / 4"
    assert page.locator(".c35-slide:visible").count() == 1
    page.keyboard.press("ArrowRight")
    assert counter.text_content() == "2 / 4"
    visible = page.locator(".c35-slide:visible")
    assert visible.count() == 1 and visible.get_attribute("data-slide") == "2"
    # The slide's text is in the page for screen readers, though visually hidden.
    assert "Trên Facebook, Zalo" in visible.locator(".c35-slide__text").text_content()
    assert not page.locator(".c35-slide__notes:visible").count()
    page.click("[data-c35-notes]")
    assert page.locator(".c35-slide__notes:visible").text_content().count("Then count the hands.") == 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")       # past the end stays on the last slide
    assert counter.text_content() == "4 / 4"
    page.keyboard.press("ArrowLeft")
    assert counter.text_content() == "3 / 4"
    assert page.evaluate("location.hash") == "#slide-3"
    # Typing in a text field does not page the slides.
    page.focus("#search")
    page.keyboard.press("ArrowLeft")
    assert counter.text_content() == "3 / 4"
    # Buttons work too; the slide shown and the one after it have their pictures.
    page.click("[data-c35-prev]")
    assert counter.text_content() == "2 / 4"
    assert page.locator(".c35-slide[data-slide='2'] img.c35-slide__image").get_attribute("src") == "slide-02-960.webp"
    assert page.locator("[data-c35-fullscreen]").is_visible()
    # Reloading on a slide's address opens that slide.
    page.reload()
    assert counter.text_content() == "2 / 4"


@pytest.mark.browser
def test_slideshow_script_leaves_other_pages_alone(tmp_path, page):
    (tmp_path / "other.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<script src='{(ASSETS / 'slideshow.js').as_uri()}'></script></head>"
        "<body><p id='p'>Nothing here</p></body></html>", encoding="utf-8")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((tmp_path / "other.html").as_uri())
    page.keyboard.press("ArrowRight")
    assert errors == [] and page.text_content("#p") == "Nothing here"


def test_image_syntax_variants_and_inline_images():
    parsed = parse_deck("# A\n![my *alt*](<media/my photo.jpg> \"title\"){cover}\n---\n# B\ntext ![x](media/y.png) more\n", 1)
    image = parsed.slides[0].image
    assert (image.path, image.alt, image.mode) == ("media/my photo.jpg", "my alt", "cover")
    assert [(p.slide, p.line) for p in parsed.problems] == [(3, 5)]
    assert "own line" in parsed.problems[0].message


def test_the_same_slides_give_the_same_pptx_and_pdf_bytes(tmp_path):
    """A render is a function of its inputs: two renders a second apart publish identical files
    (python-pptx stamps zip entries with the time of writing; the job re-stamps them)."""
    first_root, second_root = tmp_path / "first" / FOLDER, tmp_path / "second" / FOLDER
    write_tree(first_root)
    write_tree(second_root)
    first = render(first_root)
    time.sleep(2.1)                       # zip times have a resolution of two seconds
    second = render(second_root)
    for name in ("deck.pptx", "deck.pdf"):
        assert first.output(name).read_bytes() == second.output(name).read_bytes(), name


def test_an_image_address_with_spaces_outside_angle_brackets_is_named():
    # CommonMark reads it as text: the writer is told, instead of a slide silently without its picture.
    parsed = parse_deck("# A\n\n![my alt](media/my photo.jpg)\n", 1)
    assert parsed.slides[0].image is None
    assert [(p.slide, p.line) for p in parsed.problems] == [(2, 3)]
    assert "<media/my photo.jpg>" in parsed.problems[0].message
