"""social-post: platform counting rules, cutting with warnings, share images, the copy page."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from photo_support import FOLDER, PHOTOS, render
from producers.kinds.social import (ELLIPSIS, SocialPostProducer, compose, measure, plain_text, utf16_length,
                                    x_length)
from producers.media.text import clusters

ASSETS = Path(__file__).resolve().parents[2] / "producers" / "build" / "assets"
STEM = "02-social-post"
LINK = "https://example.org/sessions/2024-q4/ha-long-sanitation/"


CONFORMANCE = Path(__file__).resolve().parents[1] / "twitter_text" / "validate.yml"
# The sections twitter-text's own suites run with the default (v3) configuration, which X uses.
V3_SECTIONS = ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")


def _conformance_cases():
    import yaml
    tests = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))["tests"]
    return [pytest.param(case["text"], case["expected"]["weightedLength"], id=f"{section}: {case['description']}")
            for section in V3_SECTIONS for case in tests[section]]


@pytest.mark.parametrize("text, weighted", _conformance_cases())
def test_x_length_passes_x_conformance_cases(text, weighted):
    assert x_length(text) == weighted


def test_conformance_file_has_the_cases():
    assert len(_conformance_cases()) == 24


def test_x_counts_every_link_as_23():
    assert x_length("see https://example.org/a/very/long/path/that/goes/on?and=on&on=1 now") == 4 + 23 + 4
    assert x_length("www.example.org/x") == 23
    assert x_length("example.com") == 23                     # a bare domain is a link too
    assert x_length("Xem thêm: chibo.vn/bai-viet") == len("Xem thêm: ") + 23


def test_x_weighs_characters_like_twitter_text():
    assert x_length("abc") == 3
    assert x_length("नमस्ते") == 6            # Devanagari lies in U+0900-097F: weight 1
    assert x_length("Hạ") == 1 + 2             # Vietnamese ạ (U+1EA1) lies above U+10FF: weight 2
    assert x_length("Ha\u0323") == 3           # decomposed input is NFC-normalised first
    assert x_length("“ok”") == 4               # curly quotes are in a light range
    assert x_length("👍") == 2 and x_length("👍🏽") == 2 and x_length("👨‍👩‍👧") == 2
    assert x_length("🇻🇳") == 2 and x_length("🇻🇳🇮🇳") == 4       # a flag is one emoji
    assert x_length("1️⃣") == 2 and x_length("#️⃣") == 2            # so is a keycap


def test_post_with_bare_domains_stays_within_280_for_x():
    body = "Đọc thêm ở chibo.vn, hanoi.gov.vn và baochinhphu.vn. " * 12
    item = compose("x", body, ["HaLong"], LINK, has_image=False)
    assert item.cut and item.length == x_length(item.text) <= 280
    from twitter_text import parse_tweet
    assert parse_tweet(item.text).valid


def test_telegram_counts_utf16_units():
    assert utf16_length("a👍") == 3
    assert measure("telegram", "a👍") == 3


def test_short_post_is_whole_everywhere():
    for platform in ("facebook", "zalo", "x", "telegram"):
        item = compose(platform, "Short post.", ["HaLong", "#VeSinh"], LINK, has_image=False)
        assert not item.cut
        assert item.text == f"Short post.\n\n#HaLong #VeSinh\n\n{LINK}"


def test_long_post_is_cut_for_x_keeping_tags_and_link():
    body = "Sáng Chủ nhật, cả phường ra quân làm sạch bờ kênh. " * 20
    item = compose("x", body, ["HaLong"], LINK, has_image=False)
    assert item.cut and item.length <= 280 and x_length(item.text) == item.length
    assert item.text.endswith(f"{ELLIPSIS}\n\n#HaLong\n\n{LINK}")
    cut_body = item.text.split("\n\n")[0]
    assert cut_body.rstrip(ELLIPSIS).split()[-1] in body.split()      # cut at a word boundary
    assert item.length > 250                                          # without wasting the room
    assert not compose("facebook", body, ["HaLong"], LINK, has_image=False).cut


def test_cut_never_splits_a_devanagari_cluster():
    body = "स्वच्छता अभियान में सभी सदस्यों ने भाग लिया " * 40
    item = compose("telegram", body, [], LINK, has_image=True)      # a photo caption: 1024
    assert item.cut and item.limit == 1024 and item.length <= 1024
    cut = item.text.split("\n\n")[0].rstrip(ELLIPSIS)
    assert "".join(clusters(cut)) == cut
    assert cut.split()[-1] in body.split()


def test_tags_give_way_before_the_link():
    tags = [f"longhashtag{n:02d}" for n in range(30)]
    item = compose("x", "Body text stays whole.", tags, LINK, has_image=False)
    assert item.cut and item.length <= 280 and item.text.endswith(LINK)
    assert item.text.startswith("Body text stays whole.\n\n#longhashtag00 ")
    assert "#longhashtag29" not in item.text


def test_plain_text_from_markdown():
    text = plain_text("# Title\n\nA **bold** word & more.\n\n- one\n- two\n\n<script>x()</script>")
    assert "**" not in text and "<" not in text and "&amp;" not in text
    assert "A bold word & more." in text and "• one" in text and "x()" not in text


def post_md(body: str, image: bool = True, platforms: str = "") -> str:
    lines = ["---", "type: social-post", "title: Cả phường ra quân làm sạch kênh Hồng Gai",
             "hashtags: [HaLong, '#VeSinh']"]
    if image:
        lines.append("image: {file: media/canal.jpg, alt: 'Bờ kênh sau buổi dọn dẹp', credit: 'Trần Thị Bình'}")
    if platforms:
        lines.append(f"platforms: {platforms}")
    return "\n".join(lines + ["---", body, ""])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from conftest import Tree

    work = tmp_path_factory.mktemp("social")
    tree = Tree(work / "content")
    tree.write(f"sessions/{FOLDER}/media/canal.jpg", (PHOTOS / "DSCN0010.jpg").read_bytes())
    body = "Sáng Chủ nhật, chi bộ Hạ Long cùng bà con dọn sạch hai cây số bờ kênh phường Hồng Gai. " * 5
    tree.session(products={f"{STEM}.md": post_md(body)})
    return render(SocialPostProducer(), tree.root, STEM, work / "cache")


def texts(page_html: str) -> dict[str, str]:
    return {m.group(1): html.unescape(m.group(2))
            for m in re.finditer(r'<textarea id="c35-post-(\w+)"[^>]*>(.*?)</textarea>', page_html, re.S)}


def test_page_has_one_copyable_text_per_platform_each_with_the_session_link(rendered):
    assert not rendered.failed and rendered.page is not None, rendered.page_error
    found = texts(rendered.page.html)
    assert set(found) == {"facebook", "zalo", "x", "telegram"}
    for platform, text in found.items():
        assert text.endswith(LINK), platform
        assert f'data-c35-copy="c35-post-{platform}"' in rendered.page.html
    assert x_length(found["x"]) <= 280 and found["x"] != found["facebook"]
    assert [w for w in rendered.page.warnings if w.startswith("X:")]
    assert not [w for w in rendered.page.warnings if w.startswith(("Facebook", "Zalo", "Telegram"))]


def test_share_images_have_the_platform_sizes_and_no_metadata(rendered):
    media = rendered.page.media
    assert Image.open(media["square.jpg"]).size == (1080, 1080)
    assert Image.open(media["card.png"]).size == (1200, 630)
    assert rendered.page.card == "card.png"
    for name in ("square.jpg", "card.png", "image.jpg", "image.webp"):
        data = media[name].read_bytes()
        assert b"GPS" not in data and b"NIKON" not in data, name
        assert not Image.open(media[name]).getexif().get_ifd(0x8825), name
    assert Image.open(media["image.jpg"]).getexif()[0x013B] == "Tran Thi Binh"


def test_post_without_image_gets_theme_coloured_cards(tree, tmp_path):
    tree.session(products={f"{STEM}.md": post_md("Ngắn gọn.", image=False, platforms="[x, zalo]")})
    result = render(SocialPostProducer(), tree.root, STEM, tmp_path / "cache")
    assert not result.failed and result.page is not None
    assert set(texts(result.page.html)) == {"x", "zalo"}
    card = Image.open(result.page.media["card.png"]).convert("RGB")
    assert card.getpixel((600, 100)) == (0xb7, 0x1c, 0x1c)          # the theme's primary colour
    assert "image.jpg" not in result.page.media and not result.page.warnings


@pytest.mark.browser
def test_copy_button_copies_the_text_in_chromium(rendered, tmp_path, browser):
    site = tmp_path / "site"
    site.mkdir()
    for name, path in rendered.page.media.items():
        shutil.copyfile(path, site / name)
    shutil.copyfile(ASSETS / "social.js", site / "social.js")
    (site / "index.html").write_text(
        f'<!doctype html><html><head><meta charset="utf-8"></head><body>{rendered.page.html}'
        '<script src="social.js"></script></body></html>', encoding="utf-8")
    context = browser.new_context()
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto((site / "index.html").as_uri())
        button = page.locator('button[data-c35-copy="c35-post-x"]')
        button.click()
        page.wait_for_function("document.querySelector('button[data-c35-copy=\"c35-post-x\"]')"
                               ".dataset.state === 'copied'")
        assert button.inner_text() == "Copied"
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == texts(rendered.page.html)["x"]
    finally:
        context.close()


def test_plain_text_walks_the_one_markdown_tree():
    """Blocks, list items, hard breaks, tables and raw HTML, as the page's parser reads them."""
    text = plain_text('Line one  \nline two\nwrapped "quoted" -- dash...\n\n1. a\n2. b\n\n'
                      '| who | what |\n|---|---|\n| Lan | photos |\n\n<div>raw <b>html</b></div>\n\n```\nx = 1\n```\n')
    assert text == ("Line one\nline two wrapped \u201cquoted\u201d \u2013 dash\u2026\n\n\u2022 a\n\u2022 b\n\n"
                    "who what\nLan photos\n\nraw html\n\nx = 1")
