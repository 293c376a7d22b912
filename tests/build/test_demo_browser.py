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
    ("phung", "/sessions/2024-q3/hue-heritage-civilised-weddings-funerals/"),   # typed without tone marks
    ("ठ", "/sessions/2024-q4/varanasi-ghats-online-fraud/"),                   # still typing
])
def test_search_finds_the_right_session(page, base_url, word, expected):
    page.goto(base_url + "search/", wait_until="load")
    search = page.locator("#c35-search input")
    search.wait_for()
    search.fill(word)
    results = page.locator(".c35-search-result a")
    results.first.wait_for(timeout=15_000)
    links = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(link.startswith(base_url) and link.endswith(expected) for link in links), links
    marked = page.locator(".c35-search-result mark").all_inner_texts()
    assert marked and all(word in mark.lower() or word in _fold(mark.lower()) for mark in marked), marked


def _fold(text):
    from producers.build.search import fold
    return fold(text)


def test_search_query_in_the_address_and_no_results_message(page, base_url):
    page.goto(base_url + "search/?q=" + "ठगी", wait_until="load")
    page.locator(".c35-search-result a").first.wait_for()
    assert page.locator("#c35-search input").input_value() == "ठगी"
    assert not page.locator(".c35-search-more").is_visible()      # every page with the word is shown
    page.locator("#c35-search input").fill("zzqxw")
    page.wait_for_function("document.querySelector('.c35-search-status').textContent.includes('Không tìm thấy')")
    assert page.locator(".c35-search-result").count() == 0
    assert "q=zzqxw" in page.url


def test_search_tokeniser_agrees_with_the_index(page, base_url):
    """search.js must cut and fold words exactly as search.py does, or typed words miss the index."""
    from producers.build.search import fold, words
    samples = ["ऑनलाइन ठगी से बचाव", "Phúng viếng, ĐÁM CƯỚI", "Phu\u0301ng (NFD) 2024-q4", "क्\u200dष त्‍र",
               "don't  stop—now", "Cưới gọn, tang nghiêm: giữ nét đẹp Huế"]
    page.goto(base_url + "search/", wait_until="load")
    got = page.evaluate("s => s.map(t => { const w = window.cell35Search.words(t); "
                        "return [w, w.map(window.cell35Search.fold)]; })", samples)
    assert got == [[words(s), [fold(w) for w in words(s)]] for s in samples]


def test_the_public_site_has_no_evaluation_report(page, base_url):
    """It lists drafts and attendance: editors see it in preview builds (tests/build/test_site.py)."""
    assert page.goto(base_url + "report/", wait_until="load").status == 404
    page.goto(base_url, wait_until="load")
    assert not [href for href in page.eval_on_selector_all(".md-tabs__link", "ls => ls.map(l => l.href)")
                if "report" in href]


def test_session_pages_carry_a_share_card(page, base_url):
    page.goto(base_url + "sessions/2024-q4/varanasi-ghats-online-fraud/", wait_until="load")
    image = page.locator("meta[property='og:image']").get_attribute("content")
    assert image == "https://cell35.example.org/sessions/2024-q4/varanasi-ghats-online-fraud/card.png"
    size = page.evaluate("""async () => { const img = new Image(); img.src = 'card.png'; await img.decode();
                            return [img.naturalWidth, img.naturalHeight]; }""")
    assert size == [1200, 630]


def test_slideshow_on_the_site_pages_with_the_keyboard(page, base_url):
    page.goto(base_url + "sessions/2024-q4/varanasi-ghats-online-fraud/01-slides/", wait_until="load")
    counter = page.locator("[data-c35-counter]")
    total = int(counter.text_content().split("/")[1])
    assert counter.text_content().startswith("1 /") and total >= 4
    page.keyboard.press("ArrowRight")
    assert counter.text_content() == f"2 / {total}"
    visible = page.locator(".c35-slide:visible")
    assert visible.count() == 1 and visible.get_attribute("data-slide") == "2"
    assert visible.locator(".c35-slide__text").text_content().strip()          # text for screen readers
    for link in ("deck.pdf", "deck.pptx"):
        href = page.locator(f"a[href$='{link}']").first.get_attribute("href")
        assert page.request.get(page.url + href).status == 200


def test_video_page_plays_with_its_caption_track(page, base_url):
    page.goto(base_url + "sessions/2024-q4/varanasi-ghats-online-fraud/02-video/", wait_until="load")
    # preload="none": nothing of the film loads until the viewer asks; ask for its metadata as play would
    page.evaluate("(v => { v.preload = 'metadata'; v.load(); })(document.querySelector('video'))")
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=20_000)
    duration = page.evaluate("document.querySelector('video').duration")
    assert 5 < duration < 300
    cues = page.evaluate("""() => new Promise(resolve => {
        const track = document.querySelector('video').textTracks[0];
        track.mode = 'hidden';
        const wait = () => track.cues && track.cues.length ? resolve([track.kind, track.cues.length,
                                                                    track.cues[0].text]) : setTimeout(wait, 100);
        wait(); })""")
    assert cues[0] == "captions" and cues[1] >= 2 and cues[2].strip()


def test_gallery_lightbox_on_the_site(page, base_url):
    page.goto(base_url + "sessions/2024-q4/ha-long-replanting-storm-forest/01-photo-series/", wait_until="load")
    alts = page.evaluate("[...document.querySelectorAll('.c35-gallery img')].map(i => i.alt)")
    assert len(alts) == 4 and all(alts)
    page.locator(".c35-gallery__link").first.click()
    dialog = page.locator("dialog.c35-lightbox")
    dialog.wait_for()
    page.wait_for_function("document.querySelector('img.c35-lightbox__image').naturalWidth > 0")
    assert page.locator("img.c35-lightbox__image").get_attribute("alt") == alts[0]
    page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_podcast_chapter_buttons_seek_the_player(page, base_url):
    page.goto(base_url + "sessions/2024-q4/ha-long-replanting-storm-forest/02-podcast/", wait_until="load")
    chapters = page.locator(".c35-chapters button[data-start]")
    assert chapters.count() == 3
    chapters.nth(2).click()
    page.wait_for_function("Math.abs(document.querySelector('audio').currentTime - 14) < 1.5")
    # the uploaded transcript is on the page as text, each line seeking too
    assert "Xin chào" in page.locator("[data-c35-podcast]").inner_text()
