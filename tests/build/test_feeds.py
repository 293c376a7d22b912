"""Feeds as podcast apps read them: podcastparser (gPodder) and feedparser, on every feed built."""

from __future__ import annotations

import datetime as dt
import io

import feedparser
import lxml.etree
import podcastparser
import pytest

from producers.build import feeds
from producers.kinds import podcast as podcast_kind
from producers.media import artwork as artwork_rules
from producers.errors import ProducerError
from producers.web.i18n import Labels
from producers.content.model import Cell, PodcastChannel, SiteConfig
from producers.build.podcast_ns import PODCAST_NS, podcast_guid

from podcast_support import artwork

SITE = SiteConfig(title="Demo", base_url="https://example.org/cells", language="vi")
CHANNEL = PodcastChannel(title="Voices of the Cell", author="Cell35 team",
                         owner={"name": "Editor", "email": "podcast@example.org"},
                         description="Short stories from cell sessions.", image="media/podcast.png",
                         category="Society & Culture", subcategory="Documentary")
CELLS = {"ha-long": Cell(id="ha-long", name="Ha Long cell", committee="QN", area="Ha Long", language="vi"),
         "varanasi": Cell(id="varanasi", name="वाराणसी इकाई", committee="UP", area="Varanasi", language="hi")}


def episode(session: str, stem: str, cell: str, language: str, date: dt.date, **extra) -> podcast_kind.Episode:
    page = f"{SITE.base_url}sessions/{session}/{stem}/"
    values = dict(
        title=f"Episode {session}/{stem}", page_url=page, enclosure_url=page + "episode.mp3", length=123_456,
        duration=754.4, pub_date=podcast_kind.episode_pub_date(date, stem), guid=podcast_kind.episode_guid(session, stem),
        language=language, cell=cell, cell_name=CELLS[cell].name, description="What we talked about.",
        transcript_url=page + "episode.vtt", transcript_srt_url=page + "episode.srt",
        chapters_url=page + "episode.chapters.json", chapters=((0.0, "Hello"), (61.5, "Trees")),
        persons=(("Hoàng Minh Anh", "host"), ("Guest", "guest")))
    values.update(extra)
    return podcast_kind.Episode(**values)


EPISODES = [
    episode("2024-q4/ha-long-forest", "02-podcast", "ha-long", "vi", dt.date(2024, 11, 10)),
    episode("2025-q1/ha-long-scams", "01-podcast", "ha-long", "en", dt.date(2025, 2, 1), chapters_url=None,
            chapters=(), transcript_url=None, transcript_srt_url=None, episode=2, season=1),
    episode("2025-q1/varanasi-water", "03-podcast", "varanasi", "hi", dt.date(2025, 3, 5)),
]


@pytest.fixture(scope="module")
def built():
    return feeds.build_feeds(EPISODES, CHANNEL, SITE, cells=CELLS)


def test_the_expected_feeds_exist(built):
    assert sorted(built) == ["podcast/en/feed.xml", "podcast/feed.xml", "podcast/ha-long/feed.xml",
                             "podcast/hi/feed.xml", "podcast/varanasi/feed.xml", "podcast/vi/feed.xml"]


def test_podcastparser_reads_every_episode_of_every_feed(built):
    by_guid = {e.guid: e for e in EPISODES}
    for path, xml in built.items():
        url = SITE.base_url + path
        parsed = podcastparser.parse(url, io.BytesIO(xml))
        assert parsed["title"].startswith("Voices of the Cell")
        assert parsed["cover_url"] == "https://example.org/cells/podcast/artwork.jpg"
        assert parsed["type"] == "episodic"
        assert parsed["episodes"], path
        for item in parsed["episodes"]:
            source = by_guid[item["guid"]]
            assert item["title"] == source.title
            (enclosure,) = item["enclosures"]
            assert enclosure["url"] == source.enclosure_url
            assert enclosure["file_size"] == source.length
            assert enclosure["mime_type"] == "audio/mpeg"
            assert item["total_time"] == 754
            assert item["published"] == int(source.pub_date.timestamp())
            assert item["link"] == source.page_url
            if source.chapters:   # gPodder reads chapters from psc:chapters
                assert [(c["start"], c["title"]) for c in item["chapters"]] == [(0, "Hello"), (61, "Trees")]


def test_feedparser_sees_itunes_and_podcasting_2_tags(built):
    parsed = feedparser.parse(built["podcast/feed.xml"])
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.namespaces["podcast"] == PODCAST_NS
    channel = parsed.feed
    assert channel.podcast_guid == podcast_guid("https://example.org/cells/podcast/feed.xml")
    assert channel.podcast_locked == {"owner": "podcast@example.org"}      # feedparser keeps the attributes
    root = lxml.etree.fromstring(built["podcast/feed.xml"])
    assert root.find(f"channel/{{{PODCAST_NS}}}locked").text == "yes"
    assert root.find("channel/{http://www.itunes.com/dtds/podcast-1.0.dtd}explicit").text == "no"
    assert not channel.itunes_explicit          # feedparser maps "no" to None, "yes" to True
    assert channel.image.href == "https://example.org/cells/podcast/artwork.jpg"
    assert channel.tags[0].term == "Society & Culture"
    assert channel.publisher_detail.email == "podcast@example.org"
    self_links = [l.href for l in channel.links if l.rel == "self"]
    alternates = {l.href for l in channel.links if l.rel == "alternate" and l.get("type") == "application/rss+xml"}
    assert self_links == ["https://example.org/cells/podcast/feed.xml"]
    assert "https://example.org/cells/podcast/ha-long/feed.xml" in alternates
    assert "https://example.org/cells/podcast/hi/feed.xml" in alternates
    assert [e.id for e in parsed.entries] == [e.guid for e in reversed(EPISODES)]   # newest first
    newest = parsed.entries[0]
    assert newest.itunes_duration == "00:12:34"
    assert newest.enclosures[0].type == "audio/mpeg" and newest.enclosures[0].length == "123456"
    assert newest.podcast_chapters["url"].endswith("episode.chapters.json")
    assert newest.podcast_chapters["type"] == "application/json+chapters"
    assert newest.podcast_transcript["url"].endswith(".srt") or newest.podcast_transcript["url"].endswith(".vtt")
    assert newest.podcast_person["role"] == "guest"     # feedparser keeps the last person's attributes
    item = lxml.etree.fromstring(built["podcast/feed.xml"]).find("channel/item")
    persons = [(p.text, p.get("role")) for p in item.findall(f"{{{PODCAST_NS}}}person")]
    assert persons == [("Hoàng Minh Anh", "host"), ("Guest", "guest")]
    transcripts = {t.get("type"): t.get("url") for t in item.findall(f"{{{PODCAST_NS}}}transcript")}
    assert transcripts == {"text/vtt": EPISODES[2].transcript_url, "application/x-subrip": EPISODES[2].transcript_srt_url}
    assert newest.guidislink is False


def test_feed_titles_languages_and_podcast_guids_follow_their_scope(built):
    cell = feedparser.parse(built["podcast/varanasi/feed.xml"])
    assert cell.feed.title == "Voices of the Cell — वाराणसी इकाई"
    assert cell.feed.language == "hi"
    assert cell.feed.podcast_guid == podcast_guid("https://example.org/cells/podcast/varanasi/feed.xml")
    language = feedparser.parse(built["podcast/en/feed.xml"])
    assert language.feed.title == "Voices of the Cell (English)"
    assert [e.title for e in language.entries] == [EPISODES[1].title]
    assert language.entries[0].itunes_episode == "2" and language.entries[0].itunes_season == "1"
    guids = {feedparser.parse(xml).feed.podcast_guid for xml in built.values()}
    assert len(guids) == len(built)


def test_podcast_guid_matches_the_spec_example():
    # The Podcasting 2.0 namespace document's example feed, with and without scheme and trailing slash.
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml/") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def test_two_builds_are_byte_identical_and_guids_never_depend_on_content(built):
    again = feeds.build_feeds(list(reversed(EPISODES)), CHANNEL, SITE, cells=CELLS)
    assert again == built
    edited = [EPISODES[0].__class__(**{**EPISODES[0].__dict__, "title": "New title", "length": 999,
                                       "description": "Rewritten"})] + EPISODES[1:]
    rebuilt = feedparser.parse(feeds.build_feeds(edited, CHANNEL, SITE, cells=CELLS)["podcast/feed.xml"])
    original = feedparser.parse(built["podcast/feed.xml"])
    assert [e.id for e in rebuilt.entries] == [e.id for e in original.entries]
    assert [e.published for e in rebuilt.entries] == [e.published for e in original.entries]
    assert podcast_kind.episode_guid("2024-q4/ha-long-forest", "02-podcast") == EPISODES[0].guid


def test_descriptions_are_clipped_to_4000_bytes_at_a_character_boundary():
    long = episode("2025-q1/ha-long-scams", "01-podcast", "ha-long", "vi", dt.date(2025, 2, 1),
                   description="Tiếng Việt có dấu. " * 400)
    xml = feeds.build_feeds([long], CHANNEL, SITE, cells=CELLS)["podcast/feed.xml"]
    parsed = feedparser.parse(xml)
    description = parsed.entries[0].summary
    assert len(description.encode("utf-8")) <= 4000 and description.endswith("…")
    assert "\ufffd" not in description


def test_channel_artwork_is_checked_and_published_without_metadata(tmp_path):
    artwork(tmp_path / "media" / "podcast.png", size=1400)
    files = feeds.build_feeds(EPISODES, CHANNEL, SITE, cells=CELLS, content_root=tmp_path)
    assert files["podcast/artwork.jpg"][:2] == b"\xff\xd8"
    from PIL import Image
    with Image.open(io.BytesIO(files["podcast/artwork.jpg"])) as image:
        assert image.size == (1400, 1400) and image.mode == "RGB" and not image.getexif()


@pytest.mark.parametrize("size, mode, fmt, expected", [
    (1200, "RGB", "PNG", "outside 1400-3000 px"),
    (3200, "RGB", "JPEG", "outside 1400-3000 px"),
    (1400, "RGBA", "PNG", "transparency"),
    (1400, "CMYK", "JPEG", "colour mode is CMYK"),
])
def test_bad_channel_artwork_names_site_yml(tmp_path, size, mode, fmt, expected):
    artwork(tmp_path / "media" / "podcast.png", size=size, mode=mode, fmt=fmt)
    with pytest.raises(ProducerError) as caught:
        feeds.build_feeds(EPISODES, CHANNEL, SITE, cells=CELLS, content_root=tmp_path)
    assert expected in str(caught.value) and "site.yml podcast.image" in str(caught.value)


def test_non_square_artwork_is_refused(tmp_path):
    from PIL import Image
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (2000, 1500), (10, 20, 30)).save(path)
    with pytest.raises(ProducerError, match="2000x1500 px; it must be square"):
        artwork_rules.check_artwork(path, "02-podcast.md cover")


def test_a_cell_named_like_a_language_is_refused_before_feeds_collide():
    clash = podcast_kind.Episode(**{**EPISODES[0].__dict__, "cell": "vi"})
    with pytest.raises(ProducerError, match="also a language code"):
        feeds.build_feeds([clash], CHANNEL, SITE)


def test_an_empty_site_still_has_a_valid_site_wide_feed():
    files = feeds.build_feeds([], CHANNEL, SITE)
    assert list(files) == ["podcast/feed.xml"]
    assert podcastparser.parse(SITE.base_url + "podcast/feed.xml", io.BytesIO(files["podcast/feed.xml"]))["episodes"] == []


def test_subscribe_page_lists_every_feed_with_instructions():
    links = feeds.plan_feeds(EPISODES, CHANNEL, SITE, CELLS)
    html = feeds.subscribe_page_html(links, Labels("vi"))
    for link in links:
        assert f'href="{link.url}"' in html and f"<code>{link.url}</code>" in html
    assert "Theo chi bộ" in html and "Theo ngôn ngữ" in html and "3 tập" in html
    assert html.count("<li>") >= 3     # the steps


def test_thousands_of_episodes_build_in_seconds():
    import time
    many = [episode(f"2024-q{1 + i % 4}/ha-long-s{i}", "01-podcast", "ha-long" if i % 2 else "varanasi",
                    ("vi", "en", "hi")[i % 3], dt.date(2020, 1, 1) + dt.timedelta(days=i % 2000)) for i in range(2000)]
    started = time.perf_counter()
    files = feeds.build_feeds(many, CHANNEL, SITE, cells=CELLS)
    assert time.perf_counter() - started < 30
    assert len(podcastparser.parse("x", io.BytesIO(files["podcast/feed.xml"]))["episodes"]) == 2000


def test_site_podcast_gives_feeds_artwork_and_the_subscribe_page(tmp_path):
    artwork(tmp_path / "media" / "podcast.png")
    site = SiteConfig(title="Demo", base_url="https://example.org/", language="en", podcast=CHANNEL)
    files, html = feeds.site_podcast(EPISODES, site, CELLS, tmp_path, Labels("en"))
    assert "podcast/feed.xml" in files and "podcast/artwork.jpg" in files
    assert 'href="https://example.org/podcast/ha-long/feed.xml"' in html
    assert feeds.site_podcast(EPISODES, SITE, CELLS, tmp_path, Labels("en")) == ({}, "")


HOSTILE_NOTES = ("Notes <script>alert('notes')</script> <img src=x onerror=alert('img')>\n\n"
                 "[a link](javascript:alert('link')) <a href=\"https://example.org/\" onclick=\"alert('click')\">ok</a>\n")


def active_markup(fragment: str) -> list[str]:
    """Scripts, event handlers and javascript: URLs in an HTML fragment, as a browser would parse it."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "object", "embed", "style"):
                found.append(f"<{tag}>")
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append(f"<{tag} {name}={value}>")

    Parser().feed(fragment)
    return found


def test_hostile_show_notes_reach_the_feed_only_as_sanitised_html():
    """Podcast apps render <description> and <content:encoded> as HTML: read back without
    feedparser's own sanitiser (as a careless app would), nothing active is left."""
    from producers.content.markdown import spoken_text
    from producers.web.html import markdown_to_html

    notes_html = markdown_to_html(HOSTILE_NOTES)
    raw_html = "<p>raw <script>alert(1)</script><b onmouseover=alert(2)>bold</b></p>"   # feeds.py cleans again
    items = [episode("2025-q1/ha-long-scams", "01-podcast", "ha-long", "en", dt.date(2025, 2, 1),
                     description=spoken_text(HOSTILE_NOTES), notes_html=notes_html),
             episode("2025-q1/ha-long-scams", "02-podcast", "ha-long", "en", dt.date(2025, 2, 1),
                     description="<img src=x onerror=alert(3)>", notes_html=raw_html)]
    xml = feeds.build_feeds(items, CHANNEL, SITE, cells=CELLS)["podcast/feed.xml"]
    parsed = feedparser.parse(xml, sanitize_html=False)
    assert len(parsed.entries) == 2
    for entry in parsed.entries:
        for markup in (entry.summary, entry.content[0].value):
            assert active_markup(markup) == [], markup
            assert "<script" not in markup, markup
    notes = {e.id: e.content[0].value for e in parsed.entries}
    first = notes[items[0].guid]
    assert "Notes" in first and '<a href="https://example.org/"' in first     # the harmless part stays
    assert "<b>bold</b>" in notes[items[1].guid]
    # plain-text descriptions are escaped, so their text is shown, not run
    summaries = {e.id: e.summary for e in parsed.entries}
    assert summaries[items[1].guid] == "&lt;img src=x onerror=alert(3)&gt;"
    assert summaries[items[0].guid].startswith("Notes")
