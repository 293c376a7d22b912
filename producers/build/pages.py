"""Generated Markdown pages from the ``*.md`` templates of ``producers/web/templates``.

Plain Markdown plus HTML blocks, nothing theme-specific. Untrusted text reaches a page only as a
template value: Markdown templates escape it for Markdown and HTML at once (``markdown_text``), HTML
templates autoescape it, and Markdown from content becomes HTML only through
``html.markdown_to_html`` (sanitised). Internal links are Markdown links between generated docs so
that ``render.check_links`` and ``mkdocs build --strict`` verify every one.

A session's or product's page speaks its content's language (its labels). The home page and the
listings exist for all languages (at the site's root, in the site's language) and, lean, for each
content language with published content: ``<lang>/`` holds that language's home, quarter and kind
listings, written in it (``language_views``). Listings name their versions in other languages in
their front matter (``alternates``, read by the theme's ``hreflang`` links; ``switch``, by its
language selector: main.html, partials/alternate.html).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import posixpath
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Mapping, Sequence

from producers.web.html import escape, markdown_to_html
from producers.web.i18n import LANGUAGE_NAMES, Labels, clock_time, long_date
from producers.web.templates import Markup, markdown, markdown_text, render
from producers.content.loader import SessionRecord
from producers.content.model import Cell, SiteConfig
from producers.build.render import Page
from producers.build.search import INDEX_DIR
from producers.build.thumbs import SIZES, WIDTHS, thumb_height, thumb_name

PAGE_SIZE = 30
HOME_LATEST = 10
HOME_PRODUCTS = 6
EAGER_CARDS = 3        # the first cards of a page are above the fold on most screens: their pictures load at once


def link(from_doc: str, to_doc: str, text: str) -> Markup:
    """A Markdown link between two generated docs (paths like 'cells/x/index.md'), written as the
    target's directory URL so that a page renders the same whether or not mkdocs sees its target
    (render.py renders changed pages alone); render.check_links verifies every one."""
    return Markup(f"[{markdown_text(text)}]({target(from_doc, to_doc)})")


def target(from_doc: str, to_doc: str) -> Markup:
    """The directory URL of ``to_doc`` relative to ``from_doc`` (see ``link``)."""
    rel = posixpath.relpath(posixpath.dirname(to_doc) or ".", posixpath.dirname(from_doc) or ".")
    return Markup("./" if rel == "." else rel + "/")


def doc_path(url: str) -> str:
    """'sessions/2024-q4/x/' -> 'sessions/2024-q4/x/index.md'; '' -> 'index.md'."""
    return f"{url}index.md"


def front_matter(title: str, description: str = "", image: str | None = None, extra: dict | None = None) -> str:
    """Page metadata (YAML), ending with a blank line. The theme prints title and description
    without escaping, so they are HTML-escaped here, once; the templates must not escape them again."""
    meta = {"title": escape(" ".join(title.split())), "description": escape(" ".join(description.split())[:300])}
    if image:
        meta["image"] = image
    meta.update(extra or {})
    # JSON scalars are valid YAML, and json.dumps is ~100x faster than yaml.safe_dump here.
    return "---\n" + "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n"
                              for key, value in sorted(meta.items())) + "---\n\n"


def _meta(*args, **kwargs) -> Markup:
    """front_matter for a page template: YAML the template must print as it is."""
    return Markup(front_matter(*args, **kwargs))


def date_html(date: dt.date, language: str) -> Markup:
    """A date as readers of ``language`` write it, with the machine-readable date beside it."""
    return render("date.html", date=date, text=long_date(date, language))


def html_block(fragment: str, css_class: str) -> Markup:
    """Raw HTML between blank lines: Markdown leaves it alone. ``fragment`` is HTML: a rendered
    template, the sanitiser's output, or a product kind's page fragment (made from templates)."""
    return Markup("\n" + render("block.html", css_class=css_class, content=Markup(fragment)) + "\n\n")


@dataclass
class SiteView:
    """What the pages are made from: the published sessions and the site's words."""

    site: SiteConfig
    cells: dict[str, Cell]
    sessions: list[SessionRecord]          # newest first
    labels: Labels
    preview: bool
    product_pages: dict[str, str] = field(default_factory=dict)   # product url -> its title (published ones)
    kinds: Sequence[str] = ()                                       # the registered kinds, in listing order
    session_cards: frozenset[str] = frozenset()                     # session urls that have a card.png
    # the words of each content language, the kinds' own included (listings keep ``labels``, the site's)
    labels_by_language: Mapping[str, Labels] = field(default_factory=dict)
    pictures: frozenset[str] = frozenset()           # page urls that have listing pictures (build/thumbs.py)
    durations: Mapping[str, float] = field(default_factory=dict)   # product url -> seconds of playing time
    language: str = ""             # the one content language its listings hold ("": all languages)
    # listing url (without the language prefix) -> {language or "": that listing's url}, every version
    versions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        """Where this view's listings live: '' for all languages, 'hi/' for Hindi."""
        return f"{self.language}/" if self.language else ""

    def listed(self, record: SessionRecord) -> bool:
        return not self.language or record.session.language == self.language

    def listed_sessions(self) -> list[SessionRecord]:
        return [r for r in self.sessions if self.listed(r)]

    def listed_products(self, record: SessionRecord) -> list:
        return [p for p in self.shown_products(record) if not self.language or p.language == self.language]

    def labels_for(self, language: str) -> Labels:
        """A page's own words follow its content's language; listings keep the site's."""
        return self.labels if language == self.labels.language else self.labels_by_language[language]

    def badge(self, record: SessionRecord, labels: Labels | None = None) -> Markup:
        """The status badge of a preview build (labels: those of the page it goes on)."""
        if not self.preview:
            return Markup()
        status = record.session.status
        return render("badge.html", status=status, label=(labels or self.labels)("status." + status))

    def shown_products(self, record: SessionRecord) -> list:
        return [p for p in record.products if f"{record.url}{p.stem}/" in self.product_pages]

    def picture(self, from_doc: str, url: str, position: int) -> Markup:
        """The card's picture: decorative (the title beside it names the link), lazy below the fold."""
        if url not in self.pictures:
            return Markup()
        base = posixpath.relpath(url, posixpath.dirname(from_doc) or ".") + "/"
        return render("thumb.html", src=base + thumb_name(WIDTHS[0]), sizes=SIZES,
                      srcset=", ".join(f"{base}{thumb_name(w)} {w}w" for w in WIDTHS),
                      width=WIDTHS[-1], height=thumb_height(WIDTHS[-1]),
                      loading="eager" if position < EAGER_CARDS else "lazy")

    def _card(self, from_doc: str, url: str, title: str, language: str, kind: str, record: SessionRecord,
              picture_url: str, position: int, duration: float | None = None, badge: Markup = Markup()) -> dict:
        date = record.session.date
        return {"href": target(from_doc, doc_path(url)), "picture": self.picture(from_doc, picture_url, position),
                "title": title, "kind": kind, "iso": Markup(date.isoformat()),
                "date": long_date(date, self.labels.language),
                # a title in another language than the page's is read with its own voice and font
                "lang": language if language != self.labels.language else "",
                "duration": clock_time(duration) if duration is not None else "",
                "cell": self.cells[record.session.cell].name, "badge": badge}

    def session_card(self, from_doc: str, record: SessionRecord, position: int) -> dict:
        """A session as a card: its first product's picture (else its share card), its products' kinds."""
        shown = [f"{record.url}{p.stem}/" for p in self.shown_products(record)]
        picture = next((url for url in shown if url in self.pictures), record.url)
        kinds = sorted({self.labels("kind." + p.kind) for p in self.shown_products(record)})
        return self._card(from_doc, record.url, record.session.title, record.session.language,
                          ", ".join([self.labels("session")] + kinds), record, picture, position,
                          badge=self.badge(record))

    def product_card(self, from_doc: str, item: tuple, position: int) -> dict:
        record, product = item
        url = f"{record.url}{product.stem}/"
        return self._card(from_doc, url, product.product.title, product.language,
                          self.labels("kind." + product.kind), record, url, position, self.durations.get(url))

    def latest_products(self, count: int) -> list[tuple]:
        """The newest published products (sessions are newest first; a session's products in order)."""
        return [(r, p) for r in self.sessions for p in self.listed_products(r)][:count]

    def listing_meta(self, key: str, first: bool = True) -> dict:
        """Front matter of the listing ``key`` (url without language prefix): its language, if it
        has one; its versions (``alternates``, for hreflang: the first page of a listing only, the
        one they name); and where the language switcher leads (``switch``): each version, or in a
        language that lacks it, the nearest listing above it that it has (kinds/video/ -> kinds/)."""
        versions = self.versions.get(key, {})
        switch = {}
        for language in self.versions.get("", {}):
            above = key
            while above and language not in self.versions.get(above, {}):
                above = posixpath.dirname(above.rstrip("/"))
                above = above + "/" if above else ""
            switch[language] = self.versions.get(above, {}).get(language, f"{language}/" if language else "")
        extra: dict = {"switch": switch}
        if first and len(versions) > 1:       # a listing in one version only has no other to name
            extra["alternates"] = dict(versions)
        if self.language:
            extra["language"] = self.language
        return extra


def paginate(key: str, items: Sequence, title: str, intro: str,
             item: Callable[[str, object, int], dict], view: SiteView) -> list[Page]:
    """Listing pages of PAGE_SIZE items: no page grows with the number of sessions. ``key``: the
    listing's url in all languages (the view's language prefix goes before it)."""
    labels = view.labels
    base_url = view.prefix + key
    total = max(1, math.ceil(len(items) / PAGE_SIZE))
    pages = []
    for number in range(1, total + 1):
        url = base_url if number == 1 else f"{base_url}page/{number}/"
        path = doc_path(url)
        chunk = items[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
        pager = []
        if total > 1:
            pager.append(markdown_text(labels("page_n", n=number, total=total)))
            if number > 1:
                prev_url = base_url if number == 2 else f"{base_url}page/{number - 1}/"
                pager.append(link(path, doc_path(prev_url), labels("previous")))
            if number < total:
                pager.append(link(path, doc_path(f"{base_url}page/{number + 1}/"), labels("next")))
        text = markdown("listing.md", front_matter=_meta(title if number == 1 else f"{title} ({number})", intro,
                                                         extra=view.listing_meta(key, first=number == 1)),
                        heading=title, intro=intro, labels=labels,
                        cards=[item(path, entry, position) for position, entry in enumerate(chunk)],
                        pager=Markup(" · ").join(pager))
        pages.append(Page(path, text))
    return pages


def home_page(view: SiteView) -> Page:
    labels = view.labels
    path = doc_path(view.prefix)
    notice = html_block(render("preview_notice.html", notice=labels("preview_notice")), "c35-notice") \
        if view.preview else ""
    # a language's home leads to its own listings
    sections = [link(path, doc_path(view.prefix + url), labels(key))
                for key, url in (("quarters", "quarters/"), ("cells", "cells/"), ("groups", "groups/"),
                                 ("kinds", "kinds/"))]
    if view.language:
        # the site's title and description are written in the site's language: a language's home
        # has its own heading, and the description only where the two languages agree
        title = labels("language_home", language=LANGUAGE_NAMES[view.language])
        description = view.site.description if view.language == view.site.language else ""
    else:
        title, description = view.site.title, view.site.description
    return Page(path, markdown("home.md", front_matter=_meta(title, description, extra=view.listing_meta("")),
                               heading=title, notice=notice, description=description,
                               labels=labels, sections=sections,
                               products=[view.product_card(path, item, position) for position, item
                                         in enumerate(view.latest_products(HOME_PRODUCTS))],
                               latest=[view.session_card(path, r, EAGER_CARDS)
                                       for r in view.listed_sessions()[:HOME_LATEST]]))


def session_page(view: SiteView, record: SessionRecord) -> Page:
    session = record.session
    labels = view.labels_for(session.language)
    cell = view.cells[session.cell]
    path = doc_path(record.url)
    rate = round(100 * session.attendance.present / session.attendance.members)
    facts = [
        (labels("cell"), link(path, doc_path(f"cells/{cell.id}/"), cell.name)),
        (labels("date"), date_html(session.date, session.language)),
        (labels("quarter"), link(path, doc_path(f"quarters/{record.quarter}/"), record.quarter)),
        (labels("group"), link(path, doc_path(f"groups/{session.group}/"), labels("group." + session.group))),
        (labels("attendance"), labels("present_of", present=session.attendance.present,
                                      members=session.attendance.members, rate=rate)),
        (labels("language"), LANGUAGE_NAMES[session.language]),
    ]
    if session.tags:
        facts.append((labels("tags"), ", ".join(session.tags)))
    products = [{"link": link(path, doc_path(f"{record.url}{product.stem}/"), product.product.title),
                 "kind": labels("kind." + product.kind)} for product in view.shown_products(record)]
    # the minutes sit under the page's "## Minutes": their own headings start one level below
    minutes = html_block(markdown_to_html(record.body, top_heading=3), "c35-body") if record.body.strip() else ""
    meta = _meta(session.title, session.summary, image="card.png" if record.url in view.session_cards else None,
                        extra={"session_status": session.status, "search": True, "language": session.language})
    return Page(path, markdown("session.md", front_matter=meta, heading=session.title, labels=labels,
                               badge=html_block(view.badge(record, labels), "c35-badges") if view.preview else "",
                               facts=facts, summary=session.summary, products=products, minutes=minutes))


def product_page(view: SiteView, record: SessionRecord, product, fragment: str, card: str | None) -> Page:
    labels = view.labels_for(product.language)
    url = f"{record.url}{product.stem}/"
    path = doc_path(url)
    item = product.product
    facts = [(labels("session"), link(path, doc_path(record.url), record.session.title)),
             (labels("date"), date_html(record.session.date, product.language)),
             (labels("kind"), link(path, doc_path(f"kinds/{product.kind}/"), labels("kind." + product.kind))),
             (labels("language"), LANGUAGE_NAMES[product.language])]
    if item.authors:
        facts.append((labels("authors"), ", ".join(item.authors)))
    meta = _meta(item.title, item.summary or record.session.summary, image=card,
                 extra={"search": True, "language": product.language})
    return Page(path, markdown("product.md", front_matter=meta, heading=item.title, facts=facts,
                               badge=html_block(view.badge(record, labels), "c35-badges") if view.preview else "",
                               fragment=html_block(fragment, f"c35-product c35-kind-{product.kind}")))


def index_page(key: str, title: str, entries: list[dict], view: SiteView) -> Page:
    """The index of a listing (``key``: 'quarters/'): one entry per cell, quarter, group or kind."""
    return Page(doc_path(view.prefix + key), markdown("index.md", front_matter=_meta(title, extra=view.listing_meta(key)),
                                                      heading=title, entries=entries, labels=view.labels))


def _kind_items(view: SiteView, kind: str) -> list[tuple]:
    return [(r, p) for r in view.sessions for p in view.listed_products(r) if p.kind == kind]


def _kinds(view: SiteView) -> list[str]:
    """Kinds with listings: every kind for all languages; for one language, those it has."""
    return [kind for kind in view.kinds if not view.language or _kind_items(view, kind)]


def listing_keys(view: SiteView) -> set[str]:
    """The urls (without language prefix) of the listings ``view`` makes: its versions' targets."""
    sessions = view.listed_sessions()
    cells = {r.session.cell for r in sessions} if view.language else set(view.cells)
    groups = {r.session.group for r in sessions} if view.language else set(GROUPS)
    return ({"", "cells/", "quarters/", "groups/", "kinds/"} | {f"quarters/{r.quarter}/" for r in sessions}
            | {f"cells/{cell}/" for cell in cells} | {f"groups/{group}/" for group in groups}
            | {f"kinds/{kind}/" for kind in _kinds(view)})


def content_languages(view: SiteView) -> list[str]:
    """The languages with published sessions or products, the site's first."""
    found = {r.session.language for r in view.sessions} | \
            {p.language for r in view.sessions for p in view.shown_products(r)}
    return sorted(found, key=lambda language: (language != view.site.language, list(LANGUAGE_NAMES).index(language)))


def language_views(view: SiteView) -> list[SiteView]:
    """The all-languages view and one per content language, each knowing every listing's versions."""
    views = [view] + [replace(view, language=language, labels=view.labels_by_language[language])
                      for language in content_languages(view)]
    versions: dict[str, dict[str, str]] = {}
    for each in views:
        for key in listing_keys(each):
            versions.setdefault(key, {})[each.language] = each.prefix + key
    return [replace(each, versions=versions) for each in views]


GROUPS = ("build", "fight")


def listing_pages(view: SiteView) -> list[Page]:
    """The view's listings: cells, quarters, groups and kinds. A language's own show only the cells and
    groups that have its sessions (a cell meets in its language: the rest would be empty pages)."""
    labels = view.labels
    pages: list[Page] = []
    sessions = view.listed_sessions()
    by_cell: dict[str, list[SessionRecord]] = {}
    by_quarter: dict[str, list[SessionRecord]] = {}
    by_group: dict[str, list[SessionRecord]] = {}
    for record in sessions:            # newest first, as every listing shows them
        by_cell.setdefault(record.session.cell, []).append(record)
        by_quarter.setdefault(record.quarter, []).append(record)
        by_group.setdefault(record.session.group, []).append(record)

    def listing(key: str, items: Sequence, title: str, intro: str = "") -> list[Page]:
        return paginate(key, items, title, intro, view.session_card, view)

    def index_link(key: str, to: str, text: str) -> Markup:
        return link(doc_path(view.prefix + key), doc_path(view.prefix + to), text)

    # cells
    entries = []
    for cell in sorted(view.cells.values(), key=lambda c: c.name):
        mine = by_cell.get(cell.id, [])
        if mine or not view.language:
            entries.append({"link": index_link("cells/", f"cells/{cell.id}/", cell.name),
                            "where": f"{cell.committee}, {cell.area}",
                            "count": labels("sessions_count", n=len(mine))})
            pages += listing(f"cells/{cell.id}/", mine, cell.name, f"{cell.committee} · {cell.area}")
    pages.append(index_page("cells/", labels("cells"), entries, view))
    # quarters
    entries = []
    for quarter in sorted(by_quarter, reverse=True):
        matching = by_quarter[quarter]
        entries.append({"link": index_link("quarters/", f"quarters/{quarter}/", quarter), "where": "",
                        "count": labels("sessions_count", n=len(matching))})
        pages += listing(f"quarters/{quarter}/", matching, f"{labels('quarter')} {quarter}")
    pages.append(index_page("quarters/", labels("quarters"), entries, view))
    # groups
    entries = []
    for group in GROUPS:
        matching = by_group.get(group, [])
        if matching or not view.language:
            entries.append({"link": index_link("groups/", f"groups/{group}/", labels("group." + group)),
                            "where": "", "count": labels("sessions_count", n=len(matching))})
            pages += listing(f"groups/{group}/", matching, labels("group." + group))
    pages.append(index_page("groups/", labels("groups"), entries, view))
    # product kinds: lists of products, not sessions
    entries = []
    for kind in _kinds(view):
        items = _kind_items(view, kind)
        entries.append({"link": index_link("kinds/", f"kinds/{kind}/", labels("kind." + kind)),
                        "where": "", "count": len(items)})
        pages += paginate(f"kinds/{kind}/", items, labels("kind." + kind), "", view.product_card, view)
    pages.append(index_page("kinds/", labels("kinds"), entries, view))
    return pages


def section_page(url: str, title: str, fragment: str) -> Page:
    """A page around an HTML fragment the system made itself (escaped at its source)."""
    return Page(doc_path(url), markdown("section.md", front_matter=_meta(title), heading=title,
                                        block=html_block(fragment, "c35-section")))


def search_page(view: SiteView) -> Page:
    """The search box; assets/search.js queries the index that search.py writes."""
    words = {key: view.labels(f"search_{key}") for key in ("placeholder", "none", "more", "count")}
    form = render("search_form.html", index_dir=INDEX_DIR, placeholder=words["placeholder"],
                  nothing_found=words["none"], more=words["more"], count=words["count"])
    title = view.labels("search")
    return Page("search/index.md", markdown("section.md", front_matter=_meta(title), heading=title,
                                            block=html_block(form, "c35-search")))


# The top-level navigation: (label key, page). Fixed: it must stay the same size however many
# sessions there are.
NAV_ITEMS = (("home", "index.md"), ("quarters", "quarters/index.md"), ("cells", "cells/index.md"),
             ("groups", "groups/index.md"), ("kinds", "kinds/index.md"), ("report", "report/index.md"),
             ("search", "search/index.md"), ("podcast", "podcast/index.md"))


def nav(view: SiteView) -> list:
    """Top-level navigation only, in the site's language (the podcast page only with a podcast)."""
    return [{view.labels(key): path} for key, path in NAV_ITEMS if key != "podcast" or view.site.podcast]


def nav_in_languages(view: SiteView, page_paths: set[str]) -> dict[str, dict[str, dict[str, str]]]:
    """What the navigation says and where it leads on the pages of each content language: the item's
    URL -> its title in that language and the language's own version of the listing where there is
    one (home, quarters, kinds), else the listing of all languages. Pages of no one language (the
    listings of all languages, search, report, podcast) keep the site's navigation."""
    def url(path: str) -> str:            # as mkdocs names a page's URL (the home page's is "")
        return path.removesuffix("index.md")

    found = {}
    for language in content_languages(view):
        labels = view.labels_for(language)
        found[language] = {url(path): {"title": labels(key),
                                       "url": url(f"{language}/{path}" if f"{language}/{path}" in page_paths
                                                  else path)}
                           for key, path in NAV_ITEMS if path in page_paths}
    return found


def all_pages(view: SiteView, product_fragments: Iterable[Page]) -> list[Page]:
    pages = []
    for each in language_views(view):
        pages += [home_page(each)] + listing_pages(each)
    pages += [search_page(view)] + [session_page(view, r) for r in view.sessions]
    return pages + list(product_fragments)
