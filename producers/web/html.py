"""Untrusted content becomes HTML here and only here.

Markdown from content is rendered from the one parser's tokens (``content.markdown``), then cleaned with nh3 against an explicit allow-list: no
script, event handler, ``javascript:`` URL, iframe or style survives.

Images in Markdown bodies: an image is shown only if it is a file of the session published through
the image pipeline (metadata stripped, resized): the caller passes ``media``, a map from the address
as written (``media/photo.jpg``) to the published file. An image from another site is never
embedded, because loading it tells that site who reads the page: it becomes a link to the image.
Any other image becomes its description (alt text). The sanitiser enforces the same rule on raw HTML:
an ``<img>`` keeps its ``src`` only if that is a published file. ``content.markdown.body_references``
lists what a body points at, with lines, for ``cell35 check`` and for planning the image jobs, from
the same tokens this module renders, so what is checked is exactly what is published.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from pathlib import Path
from typing import Mapping, Sequence

import markdown_it
import nh3
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from producers.content.markdown import PARSER, typographic_tokens, url_kind
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


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def clean(fragment: str, images: frozenset[str] = frozenset()) -> str:
    """Sanitise ``fragment``; an ``<img>`` keeps its ``src`` only if it is one of ``images``."""
    return nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     tag_attribute_values={"img": {"src": set(images)}},
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def outline(tokens: Sequence[Token], top: int) -> dict[int, str]:
    """The tag of each heading token (open and close, by index): the body's first and highest
    heading becomes ``h{top}`` and no heading is more than one level below the one before it, so
    the page's outline never skips a level (``## A`` then ``#### B`` is h2 then h3), whatever levels
    the writer picked. Levels past h6 stay h6."""
    tags: dict[int, str] = {}
    open_at: list[tuple[int, int]] = []          # (written level, shown level) of the enclosing headings
    opened = 0
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            written = int(token.tag[1:])
            while open_at and open_at[-1][0] >= written:
                open_at.pop()
            shown = min(open_at[-1][1] + 1 if open_at else top, 6)
            open_at.append((written, shown))
            tags[index] = opened = f"h{shown}"
        elif token.type == "heading_close":
            tags[index] = opened
    return tags


class _BodyRenderer(RendererHTML):
    """markdown-it's HTML, with the body's images published (``env["media"]``) and headings placed
    in the page's outline (``env["headings"]``, from ``outline``): the page owns its <h1>."""

    def image(self, tokens: Sequence[Token], idx: int, options, env) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        alt = self.renderInlineAsText(token.children, options, env) if token.children else ""
        title = token.attrGet("title")
        media = env.get("media") or {}
        if src in media:
            published = media[src]
            attributes = [("alt", alt), ("src", published["src"])]
            if title is not None:
                attributes.append(("title", title))
            attributes += [(name, published[name]) for name in ("width", "height") if name in published]
            attributes.append(("loading", "lazy"))
            return "<img" + "".join(f' {name}="{escape(str(value))}"' for name, value in attributes) + ">"
        # Not a published file: a link to another site's image, or the description alone.
        if url_kind(src) == "external":
            return f'<a href="{escape(src)}">{escape(alt or src)}</a>'
        return f"<span>{escape(alt)}</span>"

    def link_open(self, tokens: Sequence[Token], idx: int, options, env) -> str:
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        media = env.get("media") or {}
        if href in media:
            href = media[href]["src"]
        title = token.attrGet("title")
        return f'<a href="{escape(href)}"' + (f' title="{escape(str(title))}"' if title is not None else "") + ">"

    def heading_open(self, tokens: Sequence[Token], idx: int, options, env) -> str:
        return f"<{env['headings'][idx]}>"

    def heading_close(self, tokens: Sequence[Token], idx: int, options, env) -> str:
        return f"</{env['headings'][idx]}>\n"


_RENDERER = _BodyRenderer()


def render(text: str, top_heading: int, media: Mapping[str, Mapping]) -> str:
    """The body as HTML, not yet sanitised."""
    tokens = list(typographic_tokens(text))
    return _RENDERER.render(tokens, PARSER.options, {"media": media, "headings": outline(tokens, top_heading)})


class MarkdownMemo:
    """Converted Markdown by the hash of its text, kept between builds in the cache folder.

    Converting every body on every build was most of a no-op rebuild's time at thousands of
    sessions. Only entries used by a build are saved, so the memo never outgrows the content.
    """

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.used: set[str] = set()
        self.lock = threading.Lock()

    def load(self, path: Path) -> None:
        try:
            self.entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}
        self.used = set()

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps({k: self.entries[k] for k in self.used if k in self.entries},
                                           ensure_ascii=False))

    def convert(self, text: str, top_heading: int, media: Mapping[str, Mapping] | None = None) -> str:
        media = media or {}
        published = json.dumps(media, sort_keys=True, ensure_ascii=False) if media else ""
        key = hashlib.sha256(f"{MARKDOWN_VERSION}:{top_heading}:{published}:{text}".encode()).hexdigest()
        with self.lock:
            self.used.add(key)
            cached = self.entries.get(key)
            if cached is not None:
                return cached
        cleaned = clean(render(text, top_heading, media).rstrip("\n"), frozenset(entry["src"] for entry in media.values()))
        with self.lock:
            self.entries[key] = cleaned
        return cleaned


MARKDOWN_VERSION = f"markdown-it-{markdown_it.__version__}-{getattr(nh3, '__version__', '')}-4"
MARKDOWN = MarkdownMemo()


def markdown_to_html(text: str, top_heading: int = 2, media: Mapping[str, Mapping] | None = None) -> str:
    """Untrusted Markdown -> safe HTML. The body's highest heading becomes ``h{top_heading}`` (2: the
    page owns its <h1>; 3 under a section heading of the page) and none skips a level (``outline``).

    ``media`` maps an image or link address as written in the body to the published file:
    ``{"src": name, "width": w, "height": h}``; other images are not embedded (see the module)."""
    return MARKDOWN.convert(text, top_heading, media)
