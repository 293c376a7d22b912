"""No single character stops publishing (property tests, Hypothesis, derandomised).

Over every text field of every kind and of site.yml / cells.yml, text drawn from the whole of
Unicode (controls, non-characters, surrogates, bidi controls, ZWJ, combining marks, Devanagari,
Vietnamese, markup) either is refused by `check` with a message naming its file and field, or
builds: the build succeeds, the feeds parse in feedparser and podcastparser, and the pages keep
their title and share tags. Nothing ends in a traceback.
"""

from __future__ import annotations

import io
import json
import shutil
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import podcastparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.kinds.registry import load_content
from producers.content.model import describe_character, forbidden_characters
from producers.build.site import BuildOptions, build_site
from tests.podcast_support import artwork, tone

def forbidden(text: str) -> bool:
    return next(forbidden_characters(text), None) is not None


# Characters that broke, or could break, something downstream: picked often on purpose.
SPECIAL = ["\x00", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b", "\ufdd0", "\ufffe", "\U0001ffff",
           "\ud800", "\udfff", "\u202e", "\u2066", "\u200f", "\u200d", "\u200b", "\ufeff", "\u2028", "\u0301", "\t",
           "\n", "\r", "\r\n", "👩\u200d👩\u200d👧", "न्दी", "ि", "Việt", "đ", "<script>", "&amp;", "\"", "'", "\\",
           ": ", "- ", "#", "*", "_", "[", "]", "`", "{", "}", "|", ">", "%", "---"]
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())            # surrogates included
CLEAN_CHARACTER = st.characters(exclude_categories=("Cc", "Cs", "Cn"))
TEXT = st.lists(st.one_of(st.sampled_from(SPECIAL), ANY_CHARACTER, CLEAN_CHARACTER), max_size=12).map("".join)
CLEAN_TEXT = st.lists(st.one_of(st.sampled_from([s for s in SPECIAL if not forbidden(s)]),
                                CLEAN_CHARACTER), min_size=1, max_size=12).map("".join)


def yaml_quoted(value: str) -> str:
    """Any string as a YAML double-quoted scalar: what is not printable in a YAML file is escaped,
    so the character reaches the model (a surrogate escape is refused by YAML itself)."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif forbidden(char) or char in "\t\n\r\u2028\u2029":
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out) + '"'


SITE = """title: {title}
base_url: https://example.org/cells/
language: en
description: {text}
podcast:
  title: {text}
  author: {text}
  owner: {{name: {text}, email: podcast@example.org}}
  description: {text}
  image: media/cover.png
"""
CELLS = "cells:\n- {{id: ha-long, name: {text}, committee: {text}, area: {text}, language: vi}}\n"
SESSION = ("---\ntitle: {text}\ncell: ha-long\ndate: 2024-10-12\ngroup: build\nlanguage: vi\n"
           "attendance: {{present: 9, members: 10}}\nstatus: published\nsummary: {text}\ntags: [{text}]\n---\n{body}\n")
ARTICLE = "---\ntype: article\ntitle: {text}\nsummary: {text}\nauthors: [{text}]\n---\nThe article. {body}\n"
PODCAST = ("---\ntype: podcast\ntitle: {text}\nsummary: {text}\naudio: media/episode.mp3\n"
           "chapters:\n- {{start: '00:00', title: {text}}}\npersons:\n- {{name: {text}}}\n---\nShow notes. {body}\n")
OTHER_KINDS = {
    "02-slides.md": "---\ntype: slides\ntitle: {text}\nsummary: {text}\n---\n# {body}\n\n- {body}\n\nNote: {body}\n",
    "03-social-post.md": "---\ntype: social-post\ntitle: {text}\nimage: {{file: media/p.jpg, alt: {text}, credit: {text}}}"
                         "\n---\n{body}\n",
}
VIDEO = ("---\ntype: video\ntitle: {text}\nscenes:\n- {{title: {text}, caption: {text}, narration: {text}}}\n"
         "- {{image: media/p.jpg, caption: {text}, duration: 2}}\n---\n")
PHOTOS = ("---\ntype: photo-series\ntitle: {text}\nphotos:\n- {{file: media/p.jpg, caption: {text}, alt: {text}, "
          "credit: {text}, copyright: {text}}}\n---\n")

# (file, field as check names it, template, where the text goes)
FIELDS = [
    ("site.yml", "title", SITE, "title"), ("site.yml", "description", SITE, "text"),
    ("cells.yml", "cells[1].name", CELLS, "text"),
    ("session.md", "title", SESSION, "text"), ("session.md", "(body)", SESSION, "body"),
    ("01-article.md", "title", ARTICLE, "text"), ("01-article.md", "(body)", ARTICLE, "body"),
    ("01-podcast.md", "title", PODCAST, "text"), ("01-podcast.md", "(body)", PODCAST, "body"),
    ("02-slides.md", "title", OTHER_KINDS["02-slides.md"], "text"),
    ("02-slides.md", "(body)", OTHER_KINDS["02-slides.md"], "body"),
    ("03-social-post.md", "image.alt", OTHER_KINDS["03-social-post.md"], "text"),
    ("03-social-post.md", "(body)", OTHER_KINDS["03-social-post.md"], "body"),
    ("01-video.md", "title", VIDEO, "text"), ("01-photo-series.md", "title", PHOTOS, "text"),
]
FOLDER = "sessions/2024-q4/ha-long-canal"
DEFAULTS = {"site.yml": SITE, "cells.yml": CELLS, "session.md": SESSION}


def write_tree(root: Path, files: dict[str, str], media: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / FOLDER).mkdir(parents=True)
    shutil.copytree(media / "site", root / "media")
    shutil.copytree(media / "session", root / FOLDER / "media")
    for name, content in files.items():
        path = root / name if name in ("site.yml", "cells.yml") else root / FOLDER / name
        # a body is written as it is; a surrogate cannot be UTF-8 and is refused as such
        path.write_bytes(content.encode("utf-8", "surrogatepass"))


def fill(template: str, text: str | None = None, body: str | None = None, title: str | None = None) -> str:
    return template.format(text=text if text is not None else '"Canal"', title=title or '"Our site"',
                           body=body if body is not None else "Text.")


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """The media every generated tree shares, made once: a 1 s recording, podcast art, a photo."""
    folder = tmp_path_factory.mktemp("media")
    artwork(folder / "site" / "cover.png")
    (folder / "session").mkdir()
    tone(folder / "session" / "episode.mp3", seconds=1.0)
    artwork(folder / "session" / "p.jpg", size=64, fmt="JPEG")
    return folder


# --- check: every field of every kind ---------------------------------------------------------------

def test_check_refuses_with_the_field_named_or_accepts(media, tmp_path_factory):
    work = tmp_path_factory.mktemp("check")
    seen = {"refused": 0, "accepted": 0}

    @settings(max_examples=400, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(field=st.sampled_from(FIELDS), value=TEXT)
    def check(field, value):
        name, field_name, template, where = field
        root = work / "content"
        files = {key: fill(default) for key, default in DEFAULTS.items()} | {"01-article.md": fill(ARTICLE)}
        if where == "body":
            files[name] = fill(template, body=value)
        else:
            files[name] = fill(template, **{where: yaml_quoted(value)})
        write_tree(root, files, media)
        loaded = load_content(root)                       # never raises
        shown = f"content/{name}" if name in ("site.yml", "cells.yml") else f"content/{FOLDER}/{name}"
        mine = [p for p in loaded.problems if p.path == shown and p.severity == "error"]
        for problem in loaded.problems:
            assert problem.path.startswith("content/") and problem.message and "\n" not in problem.message
        # every template has a line break after the body: a CR ending the value becomes a CRLF line end
        as_read = (value + "\n").replace("\r\n", "\n") if where == "body" else value
        found = next(forbidden_characters(unicodedata.normalize("NFC", as_read)), None)
        if found is None:
            seen["accepted"] += 1
            return
        seen["refused"] += 1
        char = found[1]
        surrogate = any("\ud800" <= c <= "\udfff" for c in value)
        if where == "body" and surrogate:
            assert [p.message for p in mine][0].startswith("file is not UTF-8 text"), [str(p) for p in mine]
        elif surrogate:
            assert any(p.message.startswith("invalid YAML: found invalid Unicode character escape code")
                       for p in mine), [str(p) for p in mine]
        else:
            assert any(p.field == field_name and p.message.startswith(describe_character(char)) and p.line
                       for p in mine), [str(p) for p in loaded.problems]

    check()
    assert seen["refused"] >= 100 and seen["accepted"] >= 50, seen


# --- build: what check accepts is published -------------------------------------------------------------

class _Meta(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "meta" and (values.get("property") or values.get("name")):
            self.meta[values.get("property") or values.get("name")] = values.get("content") or ""
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def one_line(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_what_check_accepts_builds_with_parsable_feeds_and_titled_pages(media, tmp_path_factory):
    work = tmp_path_factory.mktemp("build")
    seen = {"refused": 0, "built": 0}

    @settings(max_examples=10, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(value=st.one_of(CLEAN_TEXT, CLEAN_TEXT, TEXT))
    def build(value):
        root = work / "content"
        quoted = yaml_quoted(value)
        files = {"site.yml": fill(SITE, quoted, title=quoted), "cells.yml": fill(CELLS, quoted),
                 "session.md": fill(SESSION, quoted, body=value), "01-article.md": fill(ARTICLE, quoted, body=value),
                 "02-podcast.md": fill(PODCAST, quoted, body=value)}
        write_tree(root, files, media)
        loaded = load_content(root)
        if loaded.errors:
            seen["refused"] += 1
            assert all(p.path.startswith("content/") and p.message for p in loaded.errors)
            return
        seen["built"] += 1
        result = build_site(BuildOptions(content=root, out=work / "site", cache_dir=work / "cache", jobs=1))
        report = json.loads((result.report_path).read_text(encoding="utf-8"))
        assert result.ok, (value, report["problems"], [p for s in report["sessions"] for p in s["products"]])
        title = one_line(loaded.sessions[0].products[0].product.title)
        # pages keep their title and share tags
        for url, expected in (("sessions/2024-q4/ha-long-canal/01-article/", title),
                              ("sessions/2024-q4/ha-long-canal/", one_line(loaded.sessions[0].session.title))):
            page = _Meta()
            page.feed((result.out / url / "index.html").read_text(encoding="utf-8"))
            assert page.meta["og:title"] == expected and page.meta["twitter:title"] == expected, (value, page.meta)
            assert page.title.startswith(expected), (value, page.title)
            assert page.meta["og:image"].endswith(url + "card.png") and (result.out / url / "card.png").is_file()
        # feeds parse in both readers, with the episode and its title
        episode_title = one_line(loaded.sessions[0].products[1].product.title)
        xml = (result.out / "podcast/feed.xml").read_bytes()
        parsed = feedparser.parse(xml)
        assert not parsed.bozo, (value, parsed.bozo_exception)
        assert [one_line(e.title) for e in parsed.entries] == [episode_title]
        gpodder = podcastparser.parse("https://example.org/cells/podcast/feed.xml", io.BytesIO(xml))
        assert [one_line(e["title"]) for e in gpodder["episodes"]] == [episode_title]

    build()
    assert seen["built"] >= 5 and seen["refused"] >= 2, seen
