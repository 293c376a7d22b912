"""Listings show the products: each session and product is one link around its picture, kind, date in
the page's language, playing time (audio, video) and cell; the home page leads with the newest
products. Checked in Chromium on the demo site, pictures and media against the files it publishes."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from urllib.parse import urljoin, urlsplit

import pytest

from producers.web.i18n import clock_time, long_date

pytestmark = pytest.mark.browser

CARDS = ".c35-cards > ul > li"


@pytest.fixture(scope="module")
def base_url(demo_site, served):
    return served(demo_site)


def _published(demo_site, page_url, src):
    """The file a (relative) URL of a page names in the built site."""
    return demo_site / urlsplit(urljoin(page_url, src)).path.lstrip("/")


def test_the_home_page_leads_with_the_newest_products_each_with_its_picture(page, base_url, demo_site):
    page.goto(base_url, wait_until="load")
    first_heading = page.locator(".md-typeset h2").first
    assert first_heading.inner_text() == "Sản phẩm mới nhất"
    cards = page.locator(".c35-cards").first.locator(":scope > ul > li")
    assert 1 <= cards.count() <= 6
    for index in range(cards.count()):
        card = cards.nth(index)
        href = card.locator("a").get_attribute("href")
        assert re.fullmatch(r"sessions/[^/]+/[^/]+/\d\d-[a-z-]+/", href), href     # a product, not a session
        image = card.locator("img")
        assert image.count() == 1, href
        assert image.get_attribute("width") == "640" and image.get_attribute("height") == "360"
        assert image.get_attribute("alt") == ""          # the title beside it names the link
        # the first cards are in view at once: only those below them wait until scrolled to
        assert image.get_attribute("loading") == ("eager" if index < 3 else "lazy")
        widths = []
        for candidate in image.get_attribute("srcset").split(", "):
            src, width = candidate.split(" ")
            assert _published(demo_site, page.url, src).stat().st_size > 500, src
            widths.append(int(width.rstrip("w")))
        assert widths == [320, 640]
        assert image.evaluate("i => i.complete && i.naturalWidth") in (320, 640)   # the browser shows one
    # sessions follow, as cards too
    assert page.locator(".md-typeset h2").nth(1).inner_text() == "Sinh hoạt mới nhất"


def test_a_hindi_title_on_a_vietnamese_listing_is_marked_hindi(page, base_url):
    page.goto(base_url + "kinds/video/", wait_until="load")
    assert page.evaluate("document.documentElement.lang") == "vi"
    hindi = page.locator(f"{CARDS} a[href*='varanasi-ghats-online-fraud'] .c35-card-title")
    assert hindi.get_attribute("lang") == "hi"
    vietnamese = page.locator(f"{CARDS} a[href*='hue-heritage'] .c35-card-title")
    assert vietnamese.get_attribute("lang") is None            # the page's own language


def test_dates_are_written_for_readers_of_the_page(page, base_url):
    page.goto(base_url + "cells/hue-heritage/", wait_until="load")
    time = page.locator(f"{CARDS} time").first
    iso = time.get_attribute("datetime")
    assert time.inner_text() == long_date(dt.date.fromisoformat(iso), "vi")
    assert re.fullmatch(r"\d{1,2} tháng \d{1,2}, \d{4}", time.inner_text())
    day = dt.date(2024, 10, 12)
    assert long_date(day, "vi") == "12 tháng 10, 2024"
    assert long_date(day, "en") == "12 October 2024"
    assert long_date(day, "hi") == "12 अक्टूबर 2024"          # CLDR's Devanagari month name


def _seconds(path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


@pytest.mark.parametrize("kind, media", [("video", "video-16x9.mp4"), ("podcast", "*.mp3")])
def test_video_and_podcast_cards_tell_their_playing_time(page, base_url, demo_site, kind, media):
    page.goto(base_url + f"kinds/{kind}/", wait_until="load")
    cards = page.locator(CARDS)
    assert cards.count() >= 1
    for index in range(cards.count()):
        link = cards.nth(index).locator("a")
        shown = link.locator(".c35-card-duration").inner_text()
        folder = _published(demo_site, page.url, link.get_attribute("href"))
        played = _seconds(next(folder.glob(media)))
        assert re.fullmatch(r"\d+:\d\d", shown)
        assert abs(sum(int(n) * 60 ** i for i, n in enumerate(reversed(shown.split(":")))) - played) <= 1.5, \
            (shown, played)
    page.goto(base_url + "kinds/article/", wait_until="load")
    assert page.locator(f"{CARDS} .c35-card-duration").count() == 0
    assert clock_time(65.4) == "1:05" and clock_time(3725) == "1:02:05"


def test_a_card_is_one_link_reached_by_the_keyboard(page, base_url):
    page.goto(base_url + "quarters/2024-q4/", wait_until="load")
    cards = page.locator(CARDS)
    assert cards.count() >= 2
    for index in range(cards.count()):
        assert cards.nth(index).locator("a").count() == 1           # no link inside a link
    card = cards.first.locator("a")
    for _ in range(60):
        page.keyboard.press("Tab")
        if card.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the first card is not reached by Tab")
    ring = card.evaluate("e => getComputedStyle(e).outlineStyle")
    assert ring != "none"
    # its name is the title and facts a screen reader reads out, the picture adds nothing
    name = card.inner_text()
    assert cards.first.locator(".c35-card-title").inner_text() in name
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/sessions/" in page.url
