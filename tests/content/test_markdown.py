"""One Markdown parser for every reader of a body: the checker's references, the page's HTML, the
search text, the speech script, the DOCX export and the slide deck all come from the same tokens,
so a body cannot mean one thing on the page and another to the checker or the listener."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from docx import Document

from producers.content.markdown import body_references, plain_text, spoken_blocks, spoken_text, tokens
from producers.content.slidesmd import parse_deck
from producers.editorial.exports import markdown_to_docx
from producers.web.html import markdown_to_html

BODY = """Intro with a [plan](media/plan.jpg).

- first item
- an item with a picture: ![The canal](media/canal.jpg)

| Who | Where |
|-----|-------|
| Anh | [the map](https://example.org/map) |

<img src="media/raw.jpg" alt="raw picture">

```
![not an image](media/code.jpg)
---
```

It's "quoted" -- and done...
"""


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def tags(html_text: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html_text)
    return parser.found


def docx_text(body: str) -> str:
    document = Document()
    markdown_to_docx(document, body, "en")
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return " ".join([p.text for p in document.paragraphs] + cells)


def test_references_with_their_lines_wherever_they_stand():
    assert [(r.kind, r.url, r.text, r.line) for r in body_references(BODY)] == [
        ("link", "media/plan.jpg", "plan", 1),
        ("image", "media/canal.jpg", "The canal", 4),
        ("link", "https://example.org/map", "the map", 8),
        ("html-image", "media/raw.jpg", "raw picture", 10)]


def test_the_page_shows_what_the_checker_checked():
    published = {"media/canal.jpg": {"src": "canal-1.jpg", "width": 320, "height": 240},
                 "media/plan.jpg": {"src": "plan-1.jpg"}}
    found = tags(markdown_to_html(BODY, media=published))
    images = [attrs for tag, attrs in found if tag == "img"]
    assert images == [{"alt": "The canal", "src": "canal-1.jpg", "width": "320", "height": "240", "loading": "lazy"},
                      {"alt": "raw picture"}]           # a raw <img> that is not published loses its src
    links = [attrs["href"] for tag, attrs in found if tag == "a"]
    assert links == ["plan-1.jpg", "https://example.org/map"]
    assert ("table", {}) in found
    assert "media/code.jpg" not in markdown_to_html(BODY, media=published).replace("![not an image](media/code.jpg)", "")


def test_every_reader_gets_the_same_words():
    words = ["Intro with a plan", "an item with a picture", "The canal", "Anh", "the map"]
    page = plain_text(markdown_to_html(BODY))
    search = plain_text(BODY)
    spoken = " ".join(spoken_text(BODY).split())
    docx = docx_text(BODY)
    for text in (page, search, spoken, docx):
        for phrase in words:
            assert phrase in text, (phrase, text)
    # code is shown on the page and in search, never read aloud
    assert "not an image" in search and "not an image" not in spoken


def test_typography_is_the_page_s_alone():
    page = markdown_to_html(BODY)
    assert "It\u2019s \u201cquoted\u201d \u2013 and done\u2026" in page
    assert "It's \"quoted\" -- and done..." in plain_text(BODY)
    assert "It's \"quoted\" -- and done..." in spoken_text(BODY)
    assert "`" not in page and "<code>" in page


def test_body_headings_follow_the_page_outline_without_skipping_a_level():
    """axe's heading-order: under the page's <h1>, a writer's '## then ####' must not read as h3 then h5."""
    body = "## Why\n\n#### Detail\n\n### Also\n\n# Top again\n\n###### Deep\n"
    headings = re.findall(r"<(h[1-6])>", markdown_to_html(body))
    assert headings == ["h2", "h3", "h3", "h2", "h3"]
    # the minutes of a session sit under its "## Minutes": their first heading is an h3
    assert re.findall(r"<(h[1-6])>", markdown_to_html("# A\n\n## B\n", top_heading=3)) == ["h3", "h4"]


def test_addresses_are_kept_as_written_and_scripts_are_seen_then_dropped():
    body = "![Kênh](media/ảnh kênh.jpg) ![Kênh](<media/ảnh kênh.jpg>) [x](javascript:alert(1))\n"
    # the first is text to CommonMark (a space in the address): named, so the checker can say so
    assert [(r.kind, r.url) for r in body_references(body)] == [
        ("unread-image", "media/ảnh kênh.jpg"), ("image", "media/ảnh kênh.jpg"), ("link", "javascript:alert(1)")]
    assert "javascript" not in markdown_to_html(body)


def test_a_body_is_parsed_once():
    text = "Parsed *once* for the loader, the plan and the page.\n"
    assert tokens(text) is tokens(text)


def test_headings_are_chapters_and_lists_one_block_to_listen_to():
    assert spoken_blocks("# Welcome\n\nFirst line\nsecond line.\n\n- one\n- two\n\n## Trees\n\nPlant them.\n") == [
        ("Welcome", True), ("First line\nsecond line.", False), ("one\ntwo", False), ("Trees", True),
        ("Plant them.", False)]


# --- slides ----------------------------------------------------------------------------------------------

def test_a_dash_line_in_a_code_block_does_not_split_the_slide():
    deck = parse_deck("# Code\n\n```\nbefore\n---\nafter\n```\n---\n# Next\n", 1)
    assert [s.title for s in deck.slides] == ["Code", "Next"] and not deck.problems
    assert [item.text for item in deck.slides[0].items] == ["before --- after"]


def test_text_over_a_dash_line_is_a_slide_break_not_a_heading():
    deck = parse_deck("# One\nclosing words\n---\n# Two\n", 1)
    assert [(s.title, [i.text for i in s.items], s.line) for s in deck.slides] == [
        ("One", ["closing words"], 1), ("Two", [], 4)]


def test_a_dash_line_indented_under_a_bullet_is_named():
    deck = parse_deck("# One\n- a\n\n  ---\n- b\n", 10)
    assert [(p.slide, p.line) for p in deck.problems] == [(2, 13)]
    assert "does not start a new slide" in deck.problems[0].message


def test_slide_image_in_a_list_item_must_stand_alone_and_notes_end_at_the_next_slide():
    deck = parse_deck("# One\n- ![x](media/x.jpg)\nNote: say *this*\nand that\n---\n# Two\n", 1)
    assert deck.slides[0].image is None and deck.slides[0].notes == "say *this*\nand that"
    assert [(p.slide, p.line) for p in deck.problems] == [(2, 2)]
    assert spoken_text(deck.slides[0].notes) == "say this\nand that"


def test_an_image_line_right_under_a_bullet_is_the_slide_image():
    # as slides.py shows writers: CommonMark continues the bullet's paragraph, the deck reads a line
    deck = parse_deck("# What?\n- *Misinformation*: shared\n![A chat](media/chat.png){cover}\nNote: ask\n", 1)
    slide = deck.slides[0]
    assert not deck.problems
    assert [(i.marker, i.text) for i in slide.items] == [("•", "Misinformation: shared")]
    assert (slide.image.path, slide.image.alt, slide.image.mode, slide.image.line) == ("media/chat.png", "A chat",
                                                                                     "cover", 3)
    assert slide.notes == "ask"


def test_slide_links_and_table_rows():
    deck = parse_deck("# One\n\n| a | [b](media/b.jpg) |\n|---|---|\n| c | d |\n", 1)
    assert deck.slides[0].links == [("media/b.jpg", 3)]
    assert [item.text for item in deck.slides[0].items] == ["a | b", "c | d"]
