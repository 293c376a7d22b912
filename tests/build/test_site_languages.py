"""Every page speaks its own language, and leads to the others: listings per content language
(home, quarters, kinds under /<lang>/) beside those of all languages, the theme's language selector
on every page, hreflang alternates between a listing's versions, a footer in the page's language
and a 404 page in every content language. Checked on the demo site's files, and with the keyboard
in Chromium."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from producers.web.i18n import LANGUAGE_NAMES

LANGUAGES = ("vi", "hi", "en")            # the demo's content languages, each with published sessions
SITE_URL = "https://cell35.example.org/"
HINDI_SESSION = "sessions/2024-q4/varanasi-ghats-online-fraud/"
CARD_LINKS = "//div[contains(@class, 'c35-cards')]/ul/li//a"     # lxml has no CSS selectors without cssselect


def _doc(site: Path, url: str):
    return lxml.html.fromstring((site / url / "index.html").read_bytes())


def _target(site: Path, page_url: str, href: str) -> str:
    """The site url (no leading slash) a link of ``page_url`` leads to; fails if nothing is there."""
    path = urlsplit(urljoin("http://x/" + page_url, href)).path.lstrip("/")
    assert (site / path / "index.html").is_file(), f"{page_url}: {href} leads to no page"
    return path


def _lang(doc) -> str:
    return doc.get("lang")


def _listing_pages(site: Path) -> list[str]:
    """Every page whose front matter named versions: the ones with hreflang links."""
    found = []
    for file in site.rglob("index.html"):
        if b'hreflang="x-default"' in file.read_bytes():
            folder = file.parent.relative_to(site).as_posix()
            found.append("" if folder == "." else folder + "/")
    return sorted(found)


@pytest.mark.parametrize("url, language, tabs", [
    (HINDI_SESSION, "hi", {"मुखपृष्ठ": "hi/", "तिमाहियाँ": "hi/quarters/", "इकाइयाँ": "hi/cells/", "समूह": "hi/groups/"}),
    ("en/kinds/", "en", {"Home": "en/", "Quarters": "en/quarters/", "Products by kind": "en/kinds/"}),
    ("vi/", "vi", {"Trang chủ": "vi/", "Các quý": "vi/quarters/"}),
    ("", "vi", {"Trang chủ": "", "Các quý": "quarters/", "Chi bộ": "cells/"}),          # all languages
])
def test_the_navigation_speaks_the_pages_language_and_leads_to_its_listings(demo_site, url, language, tabs):
    doc = _doc(demo_site, url)
    for where in ("md-tabs__link", "md-nav__link"):           # the tabs, and the drawer of a phone
        links = {" ".join(a.text_content().split()): a.get("href")
                 for a in doc.xpath(f"//a[contains(@class, '{where}')]")}
        for title, target in tabs.items():
            assert title in links, (where, sorted(links))
            assert _target(demo_site, url, links[title]) == target, (where, title)
    # the theme's own words: the header's and the language menu's names for a screen reader
    assert doc.xpath("//header//nav/@aria-label") == [{"hi": "शीर्षक", "en": "Header", "vi": "Đầu trang"}[language]]
    assert doc.xpath("//div[@class='md-select']/button/@aria-label") == [
        {"hi": "भाषा चुनें", "en": "Select language", "vi": "Chọn ngôn ngữ"}[language]]
    if url:                                                   # a language's own listing is its tab's
        active = doc.xpath("//li[contains(@class, 'md-tabs__item--active')]//a")
        assert url == HINDI_SESSION or [" ".join(a.text_content().split()) for a in active] == \
            [next(t for t, target in tabs.items() if target == url)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_language_home_lists_only_that_languages_sessions_and_products_in_its_words(demo_site, language):
    doc = _doc(demo_site, f"{language}/")
    assert _lang(doc) == language
    assert doc.xpath("//meta[@property='og:locale']")[0].get("content").startswith(language + "_")
    cards = doc.xpath(CARD_LINKS)
    assert cards, f"{language}/ lists nothing"
    for card in cards:
        shown = _doc(demo_site, _target(demo_site, f"{language}/", card.get("href")))
        assert _lang(shown) == language, card.get("href")
        assert not card.xpath(".//*[@lang]"), "a title in the page's own language carries no lang of its own"
    heading = doc.xpath("//article//h1")[0].text_content()
    assert LANGUAGE_NAMES[language] in heading
    # the home of all languages keeps every language's items, its titles marked with theirs
    everything = _doc(demo_site, "")
    assert _lang(everything) == "vi"
    marked = {e.get("lang") for e in everything.xpath("//*[contains(@class, 'c35-card-title')][@lang]")}
    assert {"hi", "en"} <= marked


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_languages_cells_and_groups_list_its_sessions_only(demo_site, language):
    for index_url in (f"{language}/cells/", f"{language}/groups/"):
        index = _doc(demo_site, index_url)
        assert _lang(index) == language
        entries = index.xpath("//article//li/a")
        assert entries, f"{index_url} lists nothing"
        for entry in entries:
            listing_url = _target(demo_site, index_url, entry.get("href"))
            cards = _doc(demo_site, listing_url).xpath(CARD_LINKS)
            assert cards, f"{listing_url} is empty"
            for card in cards:
                assert _lang(_doc(demo_site, _target(demo_site, listing_url, card.get("href")))) == language


def test_language_listings_hold_their_languages_products(demo_site):
    for language in LANGUAGES:
        index = _doc(demo_site, f"{language}/kinds/")
        assert _lang(index) == language
        for entry in index.xpath("//article//li/a"):
            listing_url = _target(demo_site, f"{language}/kinds/", entry.get("href"))
            assert listing_url.startswith(f"{language}/kinds/")
            for card in _doc(demo_site, listing_url).xpath(CARD_LINKS):
                assert _lang(_doc(demo_site, _target(demo_site, listing_url, card.get("href")))) == language


HOMES = ["vi/", "en/", "hi/", ""]


@pytest.mark.parametrize("url, expected", [
    ("", HOMES), ("hi/", HOMES), ("quarters/", ["vi/quarters/", "en/quarters/", "hi/quarters/", "quarters/"]),
    ("en/kinds/", ["vi/kinds/", "en/kinds/", "hi/kinds/", "kinds/"]),
    # English has no video: its choice leads to the English listing above, all kinds
    ("kinds/video/", ["vi/kinds/video/", "en/kinds/", "hi/kinds/video/", "kinds/video/"]),
    ("hi/kinds/video/", ["vi/kinds/video/", "en/kinds/", "hi/kinds/video/", "kinds/video/"]),
    ("cells/", ["vi/cells/", "en/cells/", "hi/cells/", "cells/"]),
    # no Vietnamese session fights this year: the Vietnamese choice leads to its groups
    ("groups/fight/", ["vi/groups/", "en/groups/fight/", "hi/groups/fight/", "groups/fight/"]),
    ("hi/cells/varanasi-ghats/", ["vi/cells/", "en/cells/", "hi/cells/varanasi-ghats/", "cells/varanasi-ghats/"]),
    # pages that are no listing: each language's home, and the home of all
    ("search/", HOMES), (HINDI_SESSION, HOMES), (HINDI_SESSION + "02-video/", HOMES)])
def test_the_language_switcher_leads_to_pages_that_exist(demo_site, url, expected):
    doc = _doc(demo_site, url)
    [button] = doc.xpath("//header//*[contains(@class, 'md-select')]//button")
    assert button.get("aria-label")
    choices = doc.xpath("//header//a[contains(@class, 'md-select__link')]")
    assert [c.get("lang") for c in choices] == ["vi", "en", "hi", "vi"]       # the site's first; "all" last
    assert [c.get("hreflang") for c in choices[:3]] == ["vi", "en", "hi"]
    assert [c.text_content().strip() for c in choices[:3]] == [LANGUAGE_NAMES[code] for code in ("vi", "en", "hi")]
    targets = [_target(demo_site, url, c.get("href")) for c in choices]
    assert targets == expected
    for code, target in zip(("vi", "en", "hi"), targets):
        assert _lang(_doc(demo_site, target)) == code


def test_hreflang_alternates_are_present_and_reciprocal(demo_site):
    pages = _listing_pages(demo_site)
    assert {"", "hi/", "quarters/", "en/quarters/", "kinds/video/"} <= set(pages), pages
    for url in pages:
        doc = _doc(demo_site, url)
        links = {e.get("hreflang"): e.get("href") for e in doc.xpath("//head/link[@hreflang]")}
        assert all(e.get("rel").split() == ["alternate"] for e in doc.xpath("//head/link[@hreflang]"))
        key = url[3:] if url[:3] in ("vi/", "hi/", "en/") else url
        assert links["x-default"] == SITE_URL + key
        assert SITE_URL + url in links.values(), f"{url} does not name itself"
        for code, href in links.items():
            assert href.startswith(SITE_URL)
            other = href[len(SITE_URL):]
            back = {e.get("hreflang"): e.get("href") for e in _doc(demo_site, other).xpath("//head/link[@hreflang]")}
            assert back == links, f"{url} and {other} disagree on their versions"
            if code != "x-default":
                assert _lang(_doc(demo_site, other)) == code
    # pages that are no listing have no versions to name
    assert not _doc(demo_site, HINDI_SESSION).xpath("//head/link[@hreflang]")


def test_the_404_page_speaks_every_content_language(demo_site):
    doc = lxml.html.fromstring((demo_site / "404.html").read_bytes())
    sections = {s.get("lang"): s for s in doc.xpath("//article//section[contains(@class, 'c35-not-found')]")}
    assert set(sections) == set(LANGUAGES)
    for code, section in sections.items():
        [home] = section.xpath(".//a")
        assert home.get("href") == f"/{code}/" and home.get("hreflang") == code
        assert (demo_site / code / "index.html").is_file()
    assert {"Page not found", "Không tìm thấy trang", "पृष्ठ नहीं मिला"} == \
        {s.xpath(".//h2")[0].text_content() for s in sections.values()}
    assert doc.xpath("//article//a[@href='/']")


@pytest.mark.parametrize("url, language, words", [("", "vi", "Được tạo bằng"), ("hi/", "hi", "से बनाया गया"),
                                                   (HINDI_SESSION, "hi", "से बनाया गया"),
                                                   ("en/quarters/", "en", "Made with")])
def test_the_footer_speaks_the_pages_language(demo_site, url, language, words):
    doc = _doc(demo_site, url)
    [footer] = doc.xpath("//footer[contains(@class, 'md-footer')]")
    assert next(e.get("lang") for e in footer.iterancestors() if e.get("lang")) == language
    assert words in footer.text_content()


@pytest.mark.browser
def test_the_keyboard_reaches_every_language_choice(demo_site, served, page):
    base = served(demo_site)
    page.goto(base + "hi/", wait_until="load")
    button = page.locator(".md-header .md-select button")
    for _ in range(30):
        page.keyboard.press("Tab")
        if button.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the language selector is not reached by Tab")
    reached = []
    for _ in range(4):
        page.keyboard.press("Tab")
        link = page.locator(":focus")
        assert link.evaluate("e => e.classList.contains('md-select__link')")
        assert link.is_visible()
        reached.append(link.get_attribute("lang"))
    assert reached == ["vi", "en", "hi", "vi"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")          # English, the second choice: the same listing in English
    page.wait_for_url(base + "en/")
    assert page.evaluate("document.documentElement.lang") == "en"
