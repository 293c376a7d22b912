"""Untrusted content becomes HTML here and only here.

Markdown from content is converted, then cleaned with nh3 against an explicit allow-list: no
script, event handler, ``javascript:`` URL, iframe or style survives.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from pathlib import Path

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "sub", "sup",
    "blockquote", "code", "pre", "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td", "abbr", "mark", "small", "span", "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def clean(fragment: str) -> str:
    return nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


class MarkdownMemo:
    """Converted Markdown by the hash of its text, kept between builds in the cache folder.

    Converting every body on every build was most of a no-op rebuild's time at thousands of
    sessions. Only entries used by a build are saved, so the memo never outgrows the content.
    """

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.used: set[str] = set()
        self.lock = threading.Lock()
        self.converter = markdown.Markdown(extensions=["sane_lists", "tables", "smarty"], output_format="html")

    def load(self, path: Path) -> None:
        try:
            self.entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}
        self.used = set()

    def save(self, path: Path) -> None:
        from .pipeline import atomic_write_text
        atomic_write_text(path, json.dumps({k: self.entries[k] for k in self.used if k in self.entries},
                                           ensure_ascii=False))

    def convert(self, text: str, demote_headings: bool) -> str:
        key = hashlib.sha256(f"{MARKDOWN_VERSION}:{int(demote_headings)}:{text}".encode()).hexdigest()
        with self.lock:
            self.used.add(key)
            cached = self.entries.get(key)
            if cached is not None:
                return cached
            rendered = self.converter.reset().convert(text)
        if demote_headings:
            for level in range(5, 0, -1):
                rendered = rendered.replace(f"<h{level}", f"<h{level + 1}").replace(f"</h{level}>", f"</h{level + 1}>")
        cleaned = clean(rendered)
        with self.lock:
            self.entries[key] = cleaned
        return cleaned


MARKDOWN_VERSION = f"{markdown.__version__}-{nh3.__version__ if hasattr(nh3, '__version__') else ''}-1"
MARKDOWN = MarkdownMemo()


def markdown_to_html(text: str, demote_headings: bool = True) -> str:
    """Untrusted Markdown -> safe HTML. Headings are demoted one level: the page owns its <h1>."""
    return MARKDOWN.convert(text, demote_headings)
