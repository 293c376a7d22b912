"""Untrusted content becomes HTML here and only here.

Markdown from content is converted, then cleaned with nh3 against an explicit allow-list: no
script, event handler, ``javascript:`` URL, iframe or style survives.

Images in Markdown bodies: an image is shown only if it is a file of the session published through
the image pipeline (metadata stripped, resized): the caller passes ``media``, a map from the address
as written (``media/photo.jpg``) to the published file. An image from another site is never
embedded, because loading it tells that site who reads the page: it becomes a link to the image.
Any other image becomes its description (alt text). The sanitiser enforces the same rule on raw HTML:
an ``<img>`` keeps its ``src`` only if that is a published file. ``body_references`` lists what a
body points at, with lines, for ``cell35 check`` and for planning the image jobs; both walk the one
Markdown parser's element tree, so what is checked is exactly what is published.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Mapping
from urllib.parse import unquote

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor

from producers.files import atomic_write_text

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "sub", "sup",
    "blockquote", "code", "pre", "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td", "abbr", "mark", "small", "span", "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"alt", "title", "width", "height", "loading"},      # src: only published files (see clean)
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["sane_lists", "tables", "smarty"]

_EXTERNAL_RE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]+:", re.IGNORECASE)      # two letters at least: 'C:' is a drive
# A body without any of these points at nothing that needs checking (only web and e-mail links):
# such bodies, most of them, are not parsed twice.
_MAY_REFER_RE = re.compile(r"!\[|<img|<a\s|\]\(\s*<?(?!https?://|mailto:|#)|\]:\s*<?(?!https?://|mailto:|#)",
                           re.IGNORECASE)


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def clean(fragment: str, images: frozenset[str] = frozenset()) -> str:
    """Sanitise ``fragment``; an ``<img>`` keeps its ``src`` only if it is one of ``images``."""
    return nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     tag_attribute_values={"img": {"src": set(images)}},
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def url_kind(url: str) -> str:
    """'external' (http, https, //), 'anchor' (#...), 'mail', 'empty', 'scheme' (any other) or 'local'."""
    url = url.strip()
    if not url:
        return "empty"
    if url.startswith("#"):
        return "anchor"
    if _EXTERNAL_RE.match(url):
        return "external"
    if url.lower().startswith("mailto:"):
        return "mail"
    if _SCHEME_RE.match(url):
        return "scheme"
    return "local"


def local_path(url: str) -> str:
    """The file a local address names: no query or fragment, %-escapes decoded, './' dropped."""
    path = unquote(url.strip().split("#", 1)[0].split("?", 1)[0])
    while path.startswith("./"):
        path = path[2:]
    return path


@dataclass(frozen=True)
class BodyReference:
    kind: str           # "image" | "link" (Markdown) or "html-image" | "html-link" (raw HTML)
    url: str            # as the parser read it: the key of ``media`` in markdown_to_html
    text: str           # alt text or link text
    line: int           # 1-based line in the body


class _BodyMedia(Treeprocessor):
    """Collects (``found``) and rewrites (``media``) the images and links of one conversion."""

    def __init__(self, md: markdown.Markdown, rewrite: bool):
        super().__init__(md)
        self.rewrite = rewrite
        self.media: Mapping[str, Mapping] = {}
        self.found: list[tuple[str, str, str]] = []

    def run(self, root: etree.Element) -> None:
        pairs = [(parent, child) for parent in root.iter() for child in parent if child.tag in ("img", "a")]
        for parent, child in pairs:
            if child.tag == "a":
                href = child.get("href", "")
                self.found.append(("link", href, "".join(child.itertext())))
                if self.rewrite and href in self.media:
                    child.set("href", self.media[href]["src"])
                continue
            src, alt = child.get("src", ""), child.get("alt", "")
            self.found.append(("image", src, alt))
            if not self.rewrite:
                continue
            if src in self.media:
                published = self.media[src]
                child.set("src", published["src"])
                for name in ("width", "height"):
                    if name in published:
                        child.set(name, str(published[name]))
                child.set("loading", "lazy")
                continue
            # Not a published file: a link to another site's image, or the description alone.
            replacement = etree.Element("a" if url_kind(src) == "external" else "span")
            if replacement.tag == "a":
                replacement.set("href", src)
                replacement.text = alt or src
            else:
                replacement.text = alt
            replacement.tail = child.tail
            index = list(parent).index(child)
            parent.remove(child)
            parent.insert(index, replacement)


class _RawReferences(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "img":
            self.found.append(("html-image", values.get("src") or "", values.get("alt") or ""))
        elif tag == "a" and values.get("href") is not None:
            self.found.append(("html-link", values["href"] or "", ""))


def _converter(rewrite: bool) -> tuple[markdown.Markdown, _BodyMedia]:
    converter = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    step = _BodyMedia(converter, rewrite)
    converter.treeprocessors.register(step, "cell35-media", 15)     # after inline (20): images exist
    return converter, step


class MarkdownMemo:
    """Converted Markdown by the hash of its text, kept between builds in the cache folder.

    Converting every body on every build was most of a no-op rebuild's time at thousands of
    sessions. Only entries used by a build are saved, so the memo never outgrows the content.
    """

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.used: set[str] = set()
        self.lock = threading.Lock()
        self.converter, self.media_step = _converter(rewrite=True)
        self.finder, self.finder_step = _converter(rewrite=False)
        # a body's references are asked for by the loader, the plan and the page: parsed once per process
        self.found_references: dict[str, tuple[BodyReference, ...]] = {}

    def load(self, path: Path) -> None:
        try:
            self.entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}
        self.used = set()

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps({k: self.entries[k] for k in self.used if k in self.entries},
                                           ensure_ascii=False))

    def convert(self, text: str, demote_headings: bool, media: Mapping[str, Mapping] | None = None) -> str:
        media = media or {}
        published = json.dumps(media, sort_keys=True, ensure_ascii=False) if media else ""
        key = hashlib.sha256(f"{MARKDOWN_VERSION}:{int(demote_headings)}:{published}:{text}".encode()).hexdigest()
        with self.lock:
            self.used.add(key)
            cached = self.entries.get(key)
            if cached is not None:
                return cached
            self.media_step.media = media
            try:
                rendered = self.converter.reset().convert(text)
            finally:
                self.media_step.media = {}
        if demote_headings:
            for level in range(5, 0, -1):
                rendered = rendered.replace(f"<h{level}", f"<h{level + 1}").replace(f"</h{level}>", f"</h{level + 1}>")
        cleaned = clean(rendered, frozenset(entry["src"] for entry in media.values()))
        with self.lock:
            self.entries[key] = cleaned
        return cleaned

    def references(self, text: str) -> list[BodyReference]:
        if not _MAY_REFER_RE.search(text):
            return []
        key = hashlib.sha256(text.encode()).hexdigest()
        known = self.found_references.get(key)
        if known is not None:
            return list(known)
        with self.lock:
            self.finder_step.found = []
            try:
                self.finder.reset().convert(text)
                found = list(self.finder_step.found)
                raw = [block for block in self.finder.htmlStash.rawHtmlBlocks if isinstance(block, str)]
            finally:
                self.finder_step.found = []
        for block in raw:
            parser = _RawReferences()
            parser.feed(block)
            parser.close()
            found += parser.found
        lines = text.split("\n")
        references, cursor = [], 0
        for kind, url, label in found:
            line = _line_of(lines, url, cursor)
            if kind in ("image", "link"):       # Markdown references come in document order
                cursor = line - 1
            references.append(BodyReference(kind, url, label, line))
        self.found_references[key] = tuple(references)
        return references


def _line_of(lines: list[str], needle: str, start: int) -> int:
    """The 1-based line where ``needle`` is written, searching from ``start`` first."""
    for index in [*range(start, len(lines)), *range(0, start)]:
        if needle and needle in lines[index]:
            return index + 1
    return start + 1


MARKDOWN_VERSION = f"{markdown.__version__}-{nh3.__version__ if hasattr(nh3, '__version__') else ''}-2"
MARKDOWN = MarkdownMemo()


def markdown_to_html(text: str, demote_headings: bool = True, media: Mapping[str, Mapping] | None = None) -> str:
    """Untrusted Markdown -> safe HTML. Headings are demoted one level: the page owns its <h1>.

    ``media`` maps an image or link address as written in the body to the published file:
    ``{"src": name, "width": w, "height": h}``; other images are not embedded (see the module)."""
    return MARKDOWN.convert(text, demote_headings, media)


def body_references(text: str) -> list[BodyReference]:
    """Every image and link of a Markdown body, in the order written, with its line in the body."""
    return MARKDOWN.references(text)
