"""Editor-owned config is untrusted too: hostile site.yml values, injected past the model, reach no
page, feed, sitemap or config as markup; every published config image is stripped of metadata."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import lxml.etree
import pytest
from PIL import Image

import producers.build.site as site_module
from producers.errors import ConfigError
from producers.content.model import PodcastChannel, PodcastOwner, SiteConfig, Theme
from producers.build.site import BuildOptions, build_site
from tests.conftest import REPO, Tree
from tests.podcast_support import spoken

GPS_PHOTO = REPO / "tests/photos/DSCN0010.jpg"          # a camera JPEG with GPS coordinates in its EXIF
MARK = "data-pwned"
# Each value tries to end its attribute or element and add a script, a handler and an attribute.
HOSTILE = {
    "title": f'Cell <script>alert("title")</script> " {MARK}="title',
    "description": f"Desc \"><img src=x onerror=alert('desc') {MARK}=\"desc\">",
    "base_url": f"https://example.org/x\"><script>alert('url')</script><link {MARK}=\"url/",
    "podcast_title": f"Pod </title><script>alert('pod')</script>",
    "podcast_description": f"<img src=x onerror=alert('podcast-description')> <b {MARK}=1>bold</b>",
    "author": f"A\"><script>alert('author')</script>",
}
SHOW_NOTES = ("Notes <script>alert('notes')</script> <img src=x onerror=alert('img')>\n\n"
              "[a link](javascript:alert('link')) <a href=\"https://example.org/\" onclick=\"alert('click')\">ok</a>\n")


PAYLOAD = re.compile(r"alert\(['\"]")     # a payload as written; percent-encoded in a URL it is inert


class Active(HTMLParser):
    """What a browser would run or what an injection added: scripts running a payload, handlers,
    javascript: URLs, and the attribute the payloads try to add."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.script = True
            if PAYLOAD.search(dict(attrs).get("src") or ""):
                self.found.append(f"<script src={dict(attrs)['src']}>")
        for name, value in attrs:
            if name.startswith("on") or name == MARK:
                self.found.append(f"<{tag} {name}={value}>")
            if name in ("href", "src", "content") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self.script = False

    def handle_data(self, data):
        if self.script and PAYLOAD.search(data):
            self.found.append(f"script: {data.strip()[:80]}")


def active(markup: str) -> list[str]:
    parser = Active()
    parser.feed(markup)
    parser.close()
    return parser.found


def gps_square(path: Path, size: int) -> Path:
    """A square JPEG carrying the camera photo's EXIF, GPS included (podcast artwork must be square)."""
    with Image.open(GPS_PHOTO) as photo:
        exif = photo.info["exif"]
        photo.convert("RGB").resize((size, size)).save(path, "JPEG", exif=exif)
    with Image.open(path) as check:
        assert check.getexif().get_ifd(0x8825), "the test image must carry GPS"
    return path


def has_metadata(path: Path) -> list[str]:
    data = path.read_bytes()
    found = [marker for marker in ("GPSLatitude", "NIKON", "Exif\x00\x00") if marker.encode("latin-1") in data]
    with Image.open(path) as image:
        if image.getexif():
            found.append(f"EXIF tags {sorted(image.getexif())}")
        found += [key for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile") if key in image.info]
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    tree = Tree(root / "content")
    folder = tree.session()
    spoken(folder / "media/talk.mp3", text="A short talk.")
    tree.write("sessions/2024-q4/ha-long-sanitation/02-podcast.md",
               f"---\ntype: podcast\ntitle: An episode\naudio: media/talk.mp3\n---\n{SHOW_NOTES}")
    logo_name = "media/logo\" onerror=\"alert('logo').jpg"          # the file name itself is hostile
    (tree.root / "media").mkdir(exist_ok=True)
    (tree.root / logo_name).write_bytes(GPS_PHOTO.read_bytes())
    gps_square(tree.root / "media/cover.jpg", 1400)
    load = site_module.load_content

    def load_hostile(content, kinds):
        loaded = load(content, kinds)
        channel = PodcastChannel.model_construct(
            title=HOSTILE["podcast_title"], author=HOSTILE["author"], description=HOSTILE["podcast_description"],
            owner=PodcastOwner.model_construct(name=HOSTILE["author"], email="x@example.org"),
            image="media/cover.jpg", category="Society & Culture", subcategory=None, explicit=False,
            type="episodic", locked=True, intro_music=None, outro_music=None)
        bad = SiteConfig.model_construct(title=HOSTILE["title"], base_url=HOSTILE["base_url"], language="en",
                                         description=HOSTILE["description"], logo=logo_name,
                                         theme=Theme(), podcast=channel)
        return dataclasses.replace(loaded, site=bad)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(site_module, "load_content", load_hostile)
        result = build_site(BuildOptions(content=tree.root, out=root / "site", cache_dir=root / "cache",
                                         keep_docs=root / "docs"))
    return result, root


def test_hostile_config_values_add_no_script_handler_or_attribute_to_any_page(hostile):
    result, _ = hostile
    pages = sorted(result.out.rglob("*.html"))
    assert len(pages) > 5
    for path in pages:
        assert active(path.read_text(encoding="utf-8")) == [], path
    home = (result.out / "index.html").read_text(encoding="utf-8")
    # the values are shown, as text
    assert "Cell &lt;script&gt;alert(" in home
    assert '<link rel="canonical" href="https://example.org/x%22%3E%3Cscript%3Ealert(%27url%27)%3C/script%3E' in home


def test_the_generated_mkdocs_config_and_the_sitemap_carry_escaped_values(hostile):
    import yaml
    result, root = hostile
    config = yaml.safe_load((root / "docs/mkdocs.yml").read_text(encoding="utf-8"))
    for key in ("site_name", "site_description", "site_url"):
        assert not set(config[key]) & set("<>\"'"), (key, config[key])
    assert config["theme"]["logo"] == "assets/logo.png"
    sitemap = lxml.etree.fromstring((result.out / "sitemap.xml").read_bytes())
    locations = [loc.text for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locations and all(loc.startswith("https://example.org/x%22%3E") for loc in locations)


def test_feeds_carry_only_sanitised_html_for_hostile_channel_and_show_notes(hostile):
    result, _ = hostile
    raw = (result.out / "podcast/feed.xml").read_bytes()
    lxml.etree.fromstring(raw)                                    # well-formed
    feed = feedparser.parse(raw, sanitize_html=False)             # what a careless app would render
    assert feed.entries, "the episode must be in the feed"
    # the channel description is rendered as HTML by apps: escaped text; the title is plain text
    description = feed.feed.subtitle
    assert active(description) == [] and "<img" not in description and "onerror" in description
    assert feedparser.parse(raw).feed.title == HOSTILE["podcast_title"]
    entry = feed.entries[0]
    notes = entry.content[0].value
    assert "Notes" in notes and 'href="https://example.org/"' in notes
    for markup in (entry.summary, notes):
        assert active(markup) == [] and "<script" not in markup, markup
    # the subscribe page lists the hostile channel title as text
    subscribe = (result.out / "podcast/index.html").read_text(encoding="utf-8")
    assert active(subscribe) == [] and "Pod &lt;/title&gt;&lt;script&gt;" in subscribe


def test_published_logo_and_artwork_carry_no_camera_or_location_data(hostile):
    result, _ = hostile
    logo = result.out / "assets/logo.png"
    artwork = result.out / "podcast/artwork.jpg"
    assert has_metadata(GPS_PHOTO)                                # the source does carry it
    for path in (logo, artwork):
        assert path.is_file(), path
        assert has_metadata(path) == [], path
    with Image.open(logo) as image:
        assert image.format == "PNG" and max(image.size) <= site_module.LOGO_EDGE
    report = json.loads(result.report_path.read_text())
    assert report["sections"]["logo"]["status"] == "published"


def test_logo_keeps_its_transparency(tmp_path):
    """A round logo must not get a white box on the coloured header."""
    source = REPO / "content/media/logo.png"
    out = tmp_path / "out"
    out.mkdir()
    site_module.logo_action({"label": "site.yml: logo"}, (source,), out)
    with Image.open(out / "logo.png") as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0
        assert image.getpixel((image.width // 2, image.height // 2))[3] == 255


@pytest.mark.parametrize("field, value, message", [
    ("language", 'en"><script>', "site.yml: language: expected one of (en, vi, hi)"),
    ("base_url", "javascript:alert(1)//", "site.yml: base_url: must be an http:// or https:// address"),
    ("primary", "red;}</style><script>alert(1)</script>", "site.yml: theme.primary: expected a colour written #rrggbb"),
])
def test_values_that_cannot_be_escaped_are_refused_with_the_field_named(field, value, message):
    site = SiteConfig(title="T", base_url="https://example.org/", language="en")
    if field == "primary":
        bad = site.model_copy(update={"theme": Theme.model_construct(primary=value, accent="#000000")})
    else:
        bad = site.model_copy(update={field: value})
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        site_module._checked_site(bad)


def test_unicode_host_and_path_are_kept_meaningful():
    assert site_module.safe_url("https://bộ.example/chi bộ/", "base_url") == \
        "https://xn--b-8xm.example/chi%20b%E1%BB%99/"
    assert site_module.safe_url("https://example.org/a?b=1", "base_url") == "https://example.org/a?b=1"
