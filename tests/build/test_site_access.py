"""The demo site for visitors of every language, ability and phone: each page says its language,
a keyboard reaches everything (and nothing hidden), axe-core finds no violation at desktop and
phone widths, and the site travels compressed."""

from __future__ import annotations

import brotli
import gzip
import urllib.request
from pathlib import Path

import pytest

from producers.build.compress import MIN_SIZE, compressible

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "axe" / "axe.min.js"      # axe-core 4.14.1 (MPL-2.0), see tests/axe/README.md
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

HINDI_SESSION = "sessions/2024-q4/varanasi-ghats-online-fraud/"
PAGES = {     # page type -> (path, language of its content, og:type)
    "home": ("", "vi", "website"),
    "home (Hindi)": ("hi/", "hi", "website"),
    "kind listing (English)": ("en/kinds/article/", "en", "website"),
    "listing": ("cells/", "vi", "website"),
    "cell listing": ("cells/ha-long/", "vi", "website"),
    "kind listing": ("kinds/video/", "vi", "website"),
    "search": ("search/", "vi", "website"),
    "podcast feeds": ("podcast/", "vi", "website"),
    "session (Hindi)": (HINDI_SESSION, "hi", "article"),
    "session (Vietnamese)": ("sessions/2024-q4/ha-long-replanting-storm-forest/", "vi", "article"),
    "slides (Hindi)": (HINDI_SESSION + "01-slides/", "hi", "article"),
    "video (Hindi)": (HINDI_SESSION + "02-video/", "hi", "article"),
    "photo series": ("sessions/2024-q4/ha-long-replanting-storm-forest/01-photo-series/", "vi", "article"),
    "podcast": ("sessions/2024-q4/ha-long-replanting-storm-forest/02-podcast/", "vi", "article"),
    "article": ("sessions/2024-q3/hue-heritage-civilised-weddings-funerals/01-article/", "vi", "article"),
    "social post": ("sessions/2025-q1/hue-heritage-world-heritage-pride/01-social-post/", "vi", "article"),
}


@pytest.fixture(scope="module")
def base_url(demo_site, served):
    return served(demo_site)


def _open(browser, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.mark.parametrize("kind", PAGES)
def test_each_page_says_the_language_of_its_content(page, base_url, kind):
    path, language, og_type = PAGES[kind]
    page.goto(base_url + path, wait_until="load")
    assert page.evaluate("document.documentElement.lang") == language
    assert page.locator("meta[property='og:type']").get_attribute("content") == og_type
    assert page.locator("meta[property='og:locale']").get_attribute("content") == \
        {"vi": "vi_VN", "hi": "hi_IN", "en": "en_US"}[language]
    # the theme's own words, the navigation and the footer speak the page's language; the site's name
    # is Vietnamese wherever it stands, and says so on pages of another language
    for chrome in (".md-header", ".md-tabs", ".md-nav--primary", ".md-footer"):
        assert page.evaluate(f"document.querySelector('{chrome}').closest('[lang]').lang") == language, chrome
    for name in (".md-header__topic .md-ellipsis", ".md-header .md-logo"):
        assert page.evaluate(f"document.querySelector('{name}').closest('[lang]').lang") == "vi", name
    # the drawer's title: the logo and the name, each what holds it says
    assert page.evaluate("""[...document.querySelector('.md-nav--primary .md-nav__title').childNodes]
        .filter(node => node.textContent.trim() || node.nodeType === 1)
        .map(node => (node.nodeType === 1 ? node : node.parentElement).closest('[lang]').lang)""") == ["vi", "vi"]


@pytest.mark.parametrize("path, iso, written", [
    (HINDI_SESSION, "2024-12-06", "6 दिसंबर 2024"),
    (HINDI_SESSION + "01-slides/", "2024-12-06", "6 दिसंबर 2024"),
    ("sessions/2024-q4/ha-long-replanting-storm-forest/", "2024-11-10", "10 tháng 11, 2024"),
    ("sessions/2024-q4/ha-long-replanting-storm-forest/02-podcast/", "2024-11-10", "10 tháng 11, 2024"),
])
def test_session_and_product_pages_write_dates_as_their_readers_do(page, base_url, path, iso, written):
    """The date in a page's facts is written in the page's language; the ISO date stays for machines only."""
    page.goto(base_url + path, wait_until="load")
    date = page.locator(".md-content time[datetime]").first
    assert date.inner_text() == written and date.get_attribute("datetime") == iso
    assert iso not in page.locator(".md-content").inner_text()


def test_pages_ask_nothing_of_other_hosts(page, base_url):
    """The feed link once made the theme fetch podcast/sitemap.xml from the public host on every page."""
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for path in ("", HINDI_SESSION, "podcast/", "hi/"):     # hi/: a listing with hreflang versions
        page.goto(base_url + path, wait_until="networkidle")
    assert requested and all(url.startswith(base_url) or url.startswith("data:") for url in requested), \
        [url for url in requested if not url.startswith(base_url)]
    assert not [url for url in requested if url.endswith("sitemap.xml")]
    feed = page.locator("link[type='application/rss+xml']")
    assert "alternate" in feed.get_attribute("rel").split()         # feed readers still find it


def _focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, cls: String(e.className), text: (e.textContent || '').trim().slice(0, 40),
                inDrawer: !!e.closest('.md-sidebar--primary'), menu: e.classList.contains('c35-menu')}; }""")


def test_on_a_phone_the_keyboard_opens_the_menu_and_skips_the_closed_drawer(browser, base_url):
    context, page = _open(browser, PHONE)
    try:
        page.goto(base_url + HINDI_SESSION, wait_until="load")
        seen = []
        for _ in range(80):
            page.keyboard.press("Tab")
            seen.append(_focused(page))
            if seen[-1]["tag"] == "BODY":
                break
        assert not [f for f in seen if f["inDrawer"]], "the closed drawer's links are in the Tab order"
        assert any(f["menu"] for f in seen[:4]), seen[:4]
        menu = page.locator("button.c35-menu")
        assert menu.get_attribute("aria-label") and menu.get_attribute("aria-expanded") == "false"

        menu.focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.getElementById('__drawer').checked")
        assert _focused(page)["inDrawer"] and menu.get_attribute("aria-expanded") == "true"
        assert page.locator(".md-sidebar--primary a[href]").first.is_visible()
        links = page.locator(".md-sidebar--primary a[href]").count()
        for _ in range(links + 2):                  # round the open drawer, never behind it
            page.keyboard.press("Tab")
            assert _focused(page)["inDrawer"]
        page.keyboard.press("Shift+Tab")
        assert _focused(page)["inDrawer"]
        page.keyboard.press("Escape")
        assert not page.evaluate("document.getElementById('__drawer').checked")
        assert _focused(page)["menu"]
        page.wait_for_function("getComputedStyle(document.querySelector('.md-sidebar--primary')).visibility"
                               " === 'hidden'")
    finally:
        context.close()


def _luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rgb(css: str) -> tuple[int, int, int]:
    numbers = css[css.index("(") + 1: css.index(")")].replace(",", " ").split()
    return tuple(round(float(n)) for n in numbers[:3])


@pytest.mark.parametrize("selector", [".md-typeset a[href]", "#c35-search input"])
def test_keyboard_focus_shows_with_enough_contrast(page, base_url, selector):
    page.goto(base_url + ("search/" if "search" in selector else ""), wait_until="load")
    target = page.locator(selector).first
    target.wait_for()
    for _ in range(60):                          # reached by Tab, so :focus-visible applies
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail(f"{selector} not reached by Tab")
    ring = target.evaluate("""e => { const s = getComputedStyle(e);
        return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }""")
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    background = page.evaluate("getComputedStyle(document.querySelector('.md-main')).backgroundColor")
    behind = (255, 255, 255) if "rgba(0, 0, 0, 0)" in background else _rgb(background)
    assert _contrast(_rgb(ring["color"]), behind) >= 3, ring


def _axe_violations(page) -> list:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => (await axe.run(document)).violations.map(v =>
        [v.id, v.nodes.map(n => n.target.join(' ')).slice(0, 5)])""")


# the 404 page (in every content language) has no page meta, so no og: tags to check above
AXE_PAGES = {**{kind: path for kind, (path, _, _) in PAGES.items()}, "404": "404.html"}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("kind", AXE_PAGES)
def test_axe_finds_no_violation(browser, base_url, kind, viewport):
    context, page = _open(browser, viewport)
    try:
        page.goto(base_url + AXE_PAGES[kind], wait_until="load")
        assert _axe_violations(page) == []
    finally:
        context.close()


def _get(url: str, encoding: str | None = None, extra: dict | None = None):
    request = urllib.request.Request(url, headers={**({"Accept-Encoding": encoding} if encoding else {}),
                                                   **(extra or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.parametrize("encoding, header, decode", [("gzip", "gzip", gzip.decompress),
                                                      ("gzip, deflate, br", "br", brotli.decompress)])
def test_serve_sends_text_compressed(demo_site, base_url, encoding, header, decode):
    for path, file in (("", "index.html"), ("assets/cell35.css", "assets/cell35.css"),
                       (HINDI_SESSION, HINDI_SESSION + "index.html")):
        status, headers, body = _get(base_url + path, encoding)
        original = (demo_site / file).read_bytes()
        assert status == 200 and headers["Content-Encoding"] == header and "Accept-Encoding" in headers["Vary"]
        assert decode(body) == original and len(body) < len(original) / 2
    status, headers, body = _get(base_url, None)
    assert "Content-Encoding" not in headers and body == (demo_site / "index.html").read_bytes()
    status, headers, body = _get(base_url, "gzip;q=0, identity")
    assert "Content-Encoding" not in headers
    status, headers, body = _get(base_url + "index.html", "gzip", {"Range": "bytes=0-99"})
    assert status == 206 and "Content-Encoding" not in headers and body == (demo_site / "index.html").read_bytes()[:100]


def test_precompressed_copies_hold_the_same_bytes(demo_site):
    texts = [p for p in demo_site.rglob("*") if p.is_file() and compressible(p.name)]
    assert len(texts) > 50
    for path in texts:
        data = path.read_bytes()
        gz, br = path.with_name(path.name + ".gz"), path.with_name(path.name + ".br")
        if len(data) < MIN_SIZE:
            assert not br.exists(), path
            continue
        assert gzip.decompress(gz.read_bytes()) == data, gz
        assert brotli.decompress(br.read_bytes()) == data, br
        assert br.stat().st_size < len(data), br


def test_robots_txt_names_the_sitemap(demo_site, base_url):
    status, _headers, body = _get(base_url + "robots.txt")
    assert status == 200
    lines = body.decode().splitlines()
    assert "User-agent: *" in lines and "Disallow: /" not in lines
    assert "Sitemap: https://cell35.example.org/sitemap.xml" in lines
    assert (demo_site / "sitemap.xml").is_file()


def test_a_preview_asks_crawlers_to_stay_out(tree, tmp_path):
    """A preview lists drafts and the evaluation report: if it is ever put online, crawlers keep out."""
    from producers.build.site import BuildOptions, build_site

    tree.session()
    site = build_site(BuildOptions(content=tree.root, out=tmp_path / "site", cache_dir=tmp_path / "cache",
                                   preview=True)).out
    assert (site / "robots.txt").read_text().splitlines() == ["User-agent: *", "Disallow: /"]
