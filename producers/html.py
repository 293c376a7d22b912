"""Untrusted content becomes HTML here and only here.

Markdown from content is converted, then cleaned with nh3 against an explicit allow-list: no
script, event handler, ``javascript:`` URL, iframe or style survives.
"""

from __future__ import annotations

import html
import posixpath

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


def markdown_to_html(text: str, demote_headings: bool = True) -> str:
    """Untrusted Markdown -> safe HTML. Headings are demoted one level: the page owns its <h1>."""
    rendered = markdown.markdown(text, extensions=["sane_lists", "tables", "smarty"], output_format="html")
    if demote_headings:
        for level in range(5, 0, -1):
            rendered = rendered.replace(f"<h{level}", f"<h{level + 1}").replace(f"</h{level}>", f"</h{level + 1}>")
    return clean(rendered)


def relative_url(from_page: str, to_page: str) -> str:
    """Link between two site-relative directory URLs ('sessions/2024-q4/x/' -> 'cells/y/')."""
    start = posixpath.join("/", from_page)
    target = posixpath.join("/", to_page)
    rel = posixpath.relpath(target, start if start.endswith("/") else posixpath.dirname(start))
    if to_page.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return "./" if rel in (".", "./") else rel
