"""Properties of the demo site, built once for this module from content/ (Pelican-style)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import feedparser
import podcastparser
from PIL import Image

from producers.build.site import report_path

BASE = "https://cell35.example.org/"


def local(site: Path, url: str) -> Path:
    return site / urlparse(url).path.lstrip("/")


def test_demo_builds_cleanly_with_every_kind_published(demo_site):
    report = json.loads(report_path(demo_site).read_text())
    assert report["summary"]["products_left_out"] == 0
    assert report["summary"]["jobs"]["failed"] == 0
    kinds = {p["kind"] for s in report["sessions"] for p in s["products"] if p["status"] == "published"}
    assert kinds == {"slides", "article", "social-post", "video", "podcast", "photo-series"}


def test_cell35_check_is_clean_on_the_demo_content():
    from producers.kinds.registry import load_content
    tree = load_content(Path(__file__).resolve().parents[2] / "content")
    assert tree.problems == [] and len(tree.sessions) >= 8


def test_site_feed_is_read_by_both_podcast_parsers(demo_site):
    feed_path = demo_site / "podcast/feed.xml"
    parsed = podcastparser.parse(BASE + "podcast/feed.xml", open(feed_path, "rb"))
    assert len(parsed["episodes"]) == 2
    for episode in parsed["episodes"]:
        [enclosure] = episode["enclosures"]
        assert enclosure["mime_type"] == "audio/mpeg"
        assert enclosure["file_size"] == local(demo_site, enclosure["url"]).stat().st_size
        assert episode["total_time"] > 5
    fp = feedparser.parse(feed_path.read_bytes())
    assert fp.feed["podcast_guid"] and "podcast_locked" in fp.feed
    titles = {e.title for e in fp.entries}
    assert len(titles) == 2


def test_published_episodes_are_loudness_normalised(demo_site):
    episodes = sorted(demo_site.glob("sessions/*/*/*-podcast/*.mp3"))
    feed = podcastparser.parse(BASE + "podcast/feed.xml", open(demo_site / "podcast/feed.xml", "rb"))
    enclosures = sorted(local(demo_site, e["enclosures"][0]["url"]) for e in feed["episodes"])
    assert len(episodes) == 2 and episodes == enclosures        # every episode a subscriber downloads
    for mp3 in episodes:
        result = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(mp3), "-af", "ebur128=peak=true",
                                 "-f", "null", "-"], capture_output=True, text=True)
        summary = result.stderr[result.stderr.rindex("Summary:"):]
        integrated = float(summary.split("I:")[1].split("LUFS")[0])
        peak = float(summary.split("Peak:")[1].split("dBFS")[0])
        assert -20 <= integrated <= -15, (mp3, integrated)
        assert peak <= -1.0, (mp3, peak)


def test_no_published_image_carries_gps(demo_site):
    images = [p for p in demo_site.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".webp", ".png")
              and "assets" not in p.parts]
    assert images
    for path in images:
        with Image.open(path) as image:
            exif = image.getexif()
            assert 0x8825 not in exif, path                       # GPSInfo IFD pointer
            assert not exif.get_ifd(0x8825), path
        assert b"GPSLatitude" not in path.read_bytes(), path


def test_slides_outputs_are_published(demo_site):
    deck = demo_site / "sessions/2024-q4/varanasi-ghats-online-fraud/01-slides"
    assert (deck / "deck.pdf").is_file() and (deck / "deck.pptx").is_file()
    with Image.open(deck / "slide-01.png") as slide:
        assert slide.size == (1920, 1080)


def test_every_published_file_can_be_served_by_a_web_server_of_another_user(demo_site):
    """nginx or Caddy runs as its own user: a file only its owner may read is a 403 in production
    (the caption tracks were written 0600, the mode of a fresh temporary file)."""
    closed = [path.relative_to(demo_site).as_posix() for path in demo_site.rglob("*")
              if not path.stat().st_mode & (0o005 if path.is_dir() else 0o004)]
    assert closed == []
