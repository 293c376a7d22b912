"""The demo site in a real Chromium: it loads, navigation reaches a session, search finds by script."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(demo_site, served):
    return served(demo_site)


def test_home_page_loads_with_latest_sessions(page, base_url):
    page.goto(base_url, wait_until="load")
    assert page.locator("h1").first.inner_text().strip() != ""
    assert page.locator("article a[href*='sessions/']").count() >= 5


def test_a_session_page_is_reached_by_navigation(page, base_url):
    page.goto(base_url, wait_until="load")
    page.locator(".md-tabs__link").nth(2).click()          # Cells
    page.wait_for_load_state("load")
    page.locator("article a[href^='varanasi-ghats']").first.click()
    page.wait_for_load_state("load")
    page.locator("article a[href*='varanasi-ghats-online-fraud']").first.click()
    page.wait_for_load_state("load")
    assert "/sessions/2024-q4/varanasi-ghats-online-fraud/" in page.url
    assert "ठगी" in page.locator("h1").first.inner_text()


@pytest.mark.parametrize("word, expected", [
    ("ठगी", "/sessions/2024-q4/varanasi-ghats-online-fraud/"),
    ("phúng", "/sessions/2024-q3/hue-heritage-civilised-weddings-funerals/"),
])
def test_search_finds_the_right_session(page, base_url, word, expected):
    page.goto(base_url + "search/", wait_until="load")
    search = page.locator("#c35-search input")
    search.wait_for()
    search.fill(word)
    results = page.locator(".pagefind-ui__result-link")
    results.first.wait_for(timeout=15_000)
    links = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(link.rstrip("/").endswith(expected.rstrip("/")) or expected in link for link in links), links


def test_report_page_on_the_site_shows_its_charts(page, base_url):
    page.goto(base_url + "report/", wait_until="load")
    images = page.evaluate("[...document.querySelectorAll('article img')].map(i => [i.getAttribute('src'), "
                           "i.naturalWidth, i.alt])")
    assert [src for src, _, _ in images] == ["coverage.svg", "kinds.svg", "attendance.svg"]
    assert all(width > 200 and alt for _, width, alt in images), images


def test_session_pages_carry_a_share_card(page, base_url):
    page.goto(base_url + "sessions/2024-q4/varanasi-ghats-online-fraud/", wait_until="load")
    image = page.locator("meta[property='og:image']").get_attribute("content")
    assert image == "https://cell35.example.org/sessions/2024-q4/varanasi-ghats-online-fraud/card.png"
    size = page.evaluate("""async () => { const img = new Image(); img.src = 'card.png'; await img.decode();
                            return [img.naturalWidth, img.naturalHeight]; }""")
    assert size == [1200, 630]
