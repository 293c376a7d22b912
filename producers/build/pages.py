"""Generated Markdown pages: plain Markdown plus sanitised HTML blocks, nothing theme-specific.

Untrusted text reaches Markdown only through ``md_text`` (escaped) and HTML only through
``html.escape`` / ``html.markdown_to_html`` (sanitised). Internal links are Markdown links to
``.md`` files so that ``mkdocs build --strict`` verifies every one of them.
"""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import json

from producers.web.html import escape, markdown_to_html
from producers.web.i18n import LANGUAGE_NAMES, Labels
from producers.content.loader import SessionRecord
from producers.content.model import Cell, SiteConfig
from producers.build.render import Page
from producers.build.search import INDEX_DIR

PAGE_SIZE = 30
HOME_LATEST = 10
# Exactly the characters Python-Markdown honours a backslash escape for (plus '|' for tables):
# escaping anything else would print the backslash.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def md_text(text: str) -> str:
    """Untrusted text as inert inline Markdown: HTML-escaped, Markdown syntax backslash-escaped."""
    one_line = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", escape(one_line))


def link(from_doc: str, to_doc: str, text: str) -> str:
    """A Markdown link between two generated docs (paths like 'cells/x/index.md'), written as the
    target's directory URL so that a page renders the same whether or not mkdocs sees its target
    (render.py renders changed pages alone); render.check_links verifies every one."""
    rel = posixpath.relpath(posixpath.dirname(to_doc) or ".", posixpath.dirname(from_doc) or ".")
    return f"[{md_text(text)}]({'./' if rel == '.' else rel + '/'})"


def doc_path(url: str) -> str:
    """'sessions/2024-q4/x/' -> 'sessions/2024-q4/x/index.md'; '' -> 'index.md'."""
    return f"{url}index.md"


def front_matter(title: str, description: str = "", image: str | None = None, extra: dict | None = None) -> str:
    """Page metadata. The theme prints title and description without escaping, so they are
    HTML-escaped here, once; the templates must not escape them again."""
    meta = {"title": escape(" ".join(title.split())), "description": escape(" ".join(description.split())[:300])}
    if image:
        meta["image"] = image
    meta.update(extra or {})
    # JSON scalars are valid YAML, and json.dumps is ~100x faster than yaml.safe_dump here.
    return "---\n" + "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n"
                              for key, value in sorted(meta.items())) + "---\n\n"


def html_block(fragment: str, css_class: str) -> str:
    """Raw HTML between blank lines: Markdown leaves it alone."""
    return f'\n<div class="{css_class}">\n{fragment}\n</div>\n\n'


@dataclass
class SiteView:
    """What the pages are made from: the published sessions and the site's words."""

    site: SiteConfig
    cells: dict[str, Cell]
    sessions: list[SessionRecord]          # newest first
    labels: Labels
    preview: bool
    product_pages: dict[str, str] = field(default_factory=dict)   # product url -> its title (published ones)
    session_cards: frozenset[str] = frozenset()                     # session urls that have a card.png

    def badge(self, record: SessionRecord) -> str:
        if not self.preview:
            return ""
        status = record.session.status
        return f'<span class="c35-badge c35-status-{status}">{escape(self.labels("status." + status))}</span>'

    def session_line(self, from_doc: str, record: SessionRecord) -> str:
        session = record.session
        cell = self.cells[session.cell]
        kinds = sorted({self.labels("kind." + p.kind) for p in record.products
                        if f"{record.url}{p.stem}/" in self.product_pages})
        badge = f" {self.badge(record)}" if self.preview else ""
        return (f"- {link(from_doc, doc_path(record.url), session.title)}{badge}  \n"
                f"  {session.date.isoformat()} · {md_text(cell.name)} · {md_text(', '.join(kinds))}")


def paginate(base_url: str, items: Sequence, title: str, intro: str,
             render: callable, view: SiteView) -> list[Page]:
    """Listing pages of PAGE_SIZE items: no page grows with the number of sessions."""
    total = max(1, math.ceil(len(items) / PAGE_SIZE))
    pages = []
    for number in range(1, total + 1):
        url = base_url if number == 1 else f"{base_url}page/{number}/"
        path = doc_path(url)
        chunk = items[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
        body = [front_matter(title if number == 1 else f"{title} ({number})", intro), f"# {md_text(title)}\n"]
        if intro:
            body.append(md_text(intro) + "\n")
        body.append("\n".join(render(path, item) for item in chunk) if chunk else view.labels("no_sessions"))
        if total > 1:
            nav = [view.labels("page_n", n=number, total=total)]
            if number > 1:
                prev_url = base_url if number == 2 else f"{base_url}page/{number - 1}/"
                nav.append(link(path, doc_path(prev_url), view.labels("previous")))
            if number < total:
                nav.append(link(path, doc_path(f"{base_url}page/{number + 1}/"), view.labels("next")))
            body.append("\n\n" + " · ".join(nav))
        pages.append(Page(path, "\n".join(body) + "\n"))
    return pages


def home_page(view: SiteView) -> Page:
    labels = view.labels
    path = "index.md"
    parts = [front_matter(view.site.title, view.site.description), f"# {md_text(view.site.title)}\n"]
    if view.preview:
        parts.append(html_block(f'<p class="c35-preview">{escape(labels("preview_notice"))}</p>', "c35-notice"))
    if view.site.description:
        parts.append(md_text(view.site.description) + "\n")
    parts.append(f"## {md_text(labels('latest_sessions'))}\n")
    latest = view.sessions[:HOME_LATEST]
    parts.append("\n".join(view.session_line(path, r) for r in latest) if latest else labels("no_sessions"))
    parts.append("\n\n## " + md_text(labels("more")) + "\n")
    for key, url in (("quarters", "quarters/"), ("cells", "cells/"), ("groups", "groups/"), ("kinds", "kinds/")):
        parts.append(f"- {link(path, doc_path(url), labels(key))}")
    return Page(path, "\n".join(parts) + "\n")


def session_page(view: SiteView, record: SessionRecord) -> Page:
    labels = view.labels
    session = record.session
    cell = view.cells[session.cell]
    path = doc_path(record.url)
    rate = round(100 * session.attendance.present / session.attendance.members)
    parts = [front_matter(session.title, session.summary,
                          image="card.png" if record.url in view.session_cards else None,
                          extra={"session_status": session.status, "search": True, "language": session.language}),
             f"# {md_text(session.title)}\n"]
    if view.preview:
        parts.append(html_block(view.badge(record), "c35-badges"))
    facts = [
        f"**{md_text(labels('cell'))}:** {link(path, doc_path(f'cells/{cell.id}/'), cell.name)}",
        f"**{md_text(labels('date'))}:** {session.date.isoformat()}",
        f"**{md_text(labels('quarter'))}:** {link(path, doc_path(f'quarters/{record.quarter}/'), record.quarter)}",
        f"**{md_text(labels('group'))}:** {link(path, doc_path(f'groups/{session.group}/'), labels('group.' + session.group))}",
        f"**{md_text(labels('attendance'))}:** "
        + md_text(labels("present_of", present=session.attendance.present, members=session.attendance.members, rate=rate)),
        f"**{md_text(labels('language'))}:** {md_text(LANGUAGE_NAMES[session.language])}",
    ]
    if session.tags:
        facts.append(f"**{md_text(labels('tags'))}:** " + ", ".join(md_text(t) for t in session.tags))
    parts.append("  \n".join(facts) + "\n")
    parts.append(f"> {md_text(session.summary)}\n")
    parts.append(f"## {md_text(labels('products'))}\n")
    shown = [p for p in record.products if f"{record.url}{p.stem}/" in view.product_pages]
    for product in shown:
        url = f"{record.url}{product.stem}/"
        parts.append(f"- {link(path, doc_path(url), product.product.title)} — {md_text(labels('kind.' + product.kind))}")
    if not shown:
        parts.append("—")
    if record.body.strip():
        parts.append(f"\n## {md_text(labels('minutes'))}\n")
        parts.append(html_block(markdown_to_html(record.body), "c35-body"))
    return Page(path, "\n".join(parts) + "\n")


def product_page(view: SiteView, record: SessionRecord, product, fragment: str, card: str | None) -> Page:
    labels = view.labels
    url = f"{record.url}{product.stem}/"
    path = doc_path(url)
    item = product.product
    parts = [front_matter(item.title, item.summary or record.session.summary, image=card, extra={"search": True, "language": product.language}),
             f"# {md_text(item.title)}\n"]
    if view.preview:
        parts.append(html_block(view.badge(record), "c35-badges"))
    facts = [f"**{md_text(labels('session'))}:** {link(path, doc_path(record.url), record.session.title)}",
             f"**{md_text(labels('kind'))}:** {link(path, doc_path(f'kinds/{product.kind}/'), labels('kind.' + product.kind))}",
             f"**{md_text(labels('language'))}:** {md_text(LANGUAGE_NAMES[product.language])}"]
    if item.authors:
        facts.append(f"**{md_text(labels('authors'))}:** " + md_text(", ".join(item.authors)))
    parts.append("  \n".join(facts) + "\n")
    parts.append(html_block(fragment, f"c35-product c35-kind-{product.kind}"))
    return Page(path, "\n".join(parts) + "\n")


def listing_pages(view: SiteView) -> list[Page]:
    labels = view.labels
    pages: list[Page] = []
    sessions = view.sessions
    by_cell: dict[str, list[SessionRecord]] = {}
    by_quarter: dict[str, list[SessionRecord]] = {}
    by_group: dict[str, list[SessionRecord]] = {}
    for record in sessions:            # newest first, as every listing shows them
        by_cell.setdefault(record.session.cell, []).append(record)
        by_quarter.setdefault(record.quarter, []).append(record)
        by_group.setdefault(record.session.group, []).append(record)

    render = view.session_line
    # cells
    index = [front_matter(labels("cells")), f"# {md_text(labels('cells'))}\n"]
    for cell in sorted(view.cells.values(), key=lambda c: c.name):
        mine = by_cell.get(cell.id, [])
        count = len(mine)
        index.append(f"- {link('cells/index.md', doc_path(f'cells/{cell.id}/'), cell.name)} — "
                     f"{md_text(cell.committee)}, {md_text(cell.area)} · {md_text(labels('sessions_count', n=count))}")
        intro = f"{cell.committee} · {cell.area}"
        pages += paginate(f"cells/{cell.id}/", mine, cell.name, intro, render, view)
    pages.append(Page("cells/index.md", "\n".join(index) + "\n"))
    # quarters
    quarters = sorted({r.quarter for r in sessions}, reverse=True)
    index = [front_matter(labels("quarters")), f"# {md_text(labels('quarters'))}\n"]
    for quarter in quarters:
        matching = by_quarter[quarter]
        index.append(f"- {link('quarters/index.md', doc_path(f'quarters/{quarter}/'), quarter)} · "
                     f"{md_text(labels('sessions_count', n=len(matching)))}")
        pages += paginate(f"quarters/{quarter}/", matching, f"{labels('quarter')} {quarter}", "", render, view)
    if not quarters:
        index.append(labels("no_sessions"))
    pages.append(Page("quarters/index.md", "\n".join(index) + "\n"))
    # groups
    index = [front_matter(labels("groups")), f"# {md_text(labels('groups'))}\n"]
    for group in ("build", "fight"):
        matching = by_group.get(group, [])
        index.append(f"- {link('groups/index.md', doc_path(f'groups/{group}/'), labels('group.' + group))} · "
                     f"{md_text(labels('sessions_count', n=len(matching)))}")
        pages += paginate(f"groups/{group}/", matching, labels("group." + group), "", render, view)
    pages.append(Page("groups/index.md", "\n".join(index) + "\n"))
    # product kinds: lists of products, not sessions
    index = [front_matter(labels("kinds")), f"# {md_text(labels('kinds'))}\n"]
    for kind in ("slides", "article", "social-post", "video", "podcast", "photo-series"):
        items = [(r, p) for r in sessions for p in r.products
                 if p.kind == kind and f"{r.url}{p.stem}/" in view.product_pages]
        index.append(f"- {link('kinds/index.md', doc_path(f'kinds/{kind}/'), labels('kind.' + kind))} · {len(items)}")

        def render_product(from_doc, item):
            record, product = item
            return (f"- {link(from_doc, doc_path(f'{record.url}{product.stem}/'), product.product.title)}  \n"
                    f"  {record.session.date.isoformat()} · {md_text(view.cells[record.session.cell].name)}")
        pages += paginate(f"kinds/{kind}/", items, labels("kind." + kind), "", render_product, view)
    pages.append(Page("kinds/index.md", "\n".join(index) + "\n"))
    return pages


def section_page(url: str, title: str, fragment: str) -> Page:
    """A page around an HTML fragment the system made itself (escaped at its source)."""
    return Page(doc_path(url), front_matter(title) + f"# {md_text(title)}\n" + html_block(fragment, "c35-section"))


def search_page(view: SiteView) -> Page:
    """The search box; assets/search.js queries the index that search.py writes."""
    title = view.labels("search")
    words = {key: escape(view.labels(f"search_{key}")) for key in ("placeholder", "none", "more", "count")}
    block = (f'<form id="c35-search" role="search" data-index="../{INDEX_DIR}/" data-root="../" '
             f'data-none="{words["none"]}" data-more="{words["more"]}" data-count="{words["count"]}">\n'
             f'<input type="search" name="q" aria-label="{words["placeholder"]}" '
             f'placeholder="{words["placeholder"]}" autocomplete="off">\n'
             '<p class="c35-search-status" aria-live="polite"></p>\n'
             '<ol class="c35-search-results"></ol>\n'
             '<button type="button" class="md-button c35-search-more" hidden></button>\n'
             '</form>')
    return Page("search/index.md", front_matter(title) + f"# {md_text(title)}\n" + html_block(block, "c35-search"))


def nav(view: SiteView) -> list:
    """Top-level navigation only: it must stay the same size however many sessions there are."""
    labels = view.labels
    return [{labels("home"): "index.md"}, {labels("quarters"): "quarters/index.md"},
            {labels("cells"): "cells/index.md"}, {labels("groups"): "groups/index.md"},
            {labels("kinds"): "kinds/index.md"}, {labels("report"): "report/index.md"},
            {labels("search"): "search/index.md"}] + (
        [{labels("kind.podcast"): "podcast/index.md"}] if view.site.podcast else [])


def all_pages(view: SiteView, product_fragments: Iterable[Page]) -> list[Page]:
    pages = [home_page(view), search_page(view)] + [session_page(view, r) for r in view.sessions]
    pages += listing_pages(view)
    return pages + list(product_fragments)
