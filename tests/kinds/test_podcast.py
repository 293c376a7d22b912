"""Podcast episodes end to end: real espeak-ng, ffmpeg, mutagen; what a listener and an app get."""

from __future__ import annotations

import json

import pytest
import webvtt
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from producers.media import audio, captions
from producers.kinds.registry import site_labels
from producers.kinds import podcast
from producers.kinds.registry import load_content

from podcast_support import (PodcastTree, artwork, contexts, episode_result, render, silence, spoken, tone,
                             video_with_sound)

SCRIPT = """# Lời chào

Xin chào các bạn. Đây là tập thử nghiệm của chi bộ.

## Trồng cây

Chúng tôi đã trồng ba trăm cây non trên đồi. Cảm ơn mọi người!
"""


def only(root):
    (ctx,) = contexts(root)
    return ctx


@pytest.fixture
def site(tmp_path):
    return PodcastTree(tmp_path / "content")


def test_a_script_is_read_aloud_into_a_tagged_chaptered_episode(site, tmp_path):
    folder = site.session()
    site.product(folder, "02-podcast.md", "type: podcast\ntitle: Trồng lại rừng\nsummary: Một tập ngắn.", SCRIPT)
    ctx = only(site.root)
    producer, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "rendered", result.error + result.detail
    mp3 = result.outputs["episode.mp3"]

    info = audio.probe(mp3)
    assert (info.codec, info.channels, info.sample_rate) == ("mp3", 1, 44_100)
    assert 5 < info.duration < 20
    loudness = audio.measure_loudness(mp3)
    assert loudness.integrated == pytest.approx(-19.0, abs=1.0)       # mono target
    assert loudness.true_peak <= -1.5
    assert MP3(mp3).info.bitrate == pytest.approx(64_000, rel=0.01)

    tags = ID3(mp3)
    assert str(tags["TIT2"]) == "Trồng lại rừng"
    assert str(tags["TALB"]) == "Voices of the Cell"
    assert str(tags["TPE2"]) == "Ha Long cell"
    assert str(tags["TLAN"]) == "vie"
    assert str(tags["TDRC"]) == "2024-10-12"
    assert tags.getall("APIC")[0].data[:2] == b"\xff\xd8"              # the channel artwork as JPEG
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == ["Lời chào", "Trồng cây"]
    assert chapters[0].start_time == 0 and chapters[1].start_time > 2000
    assert chapters[-1].end_time == pytest.approx(info.duration * 1000, abs=60)
    assert tags.getall("CTOC")[0].child_element_ids == [c.element_id for c in chapters]

    doc = json.loads(result.outputs["chapters.json"].read_text(encoding="utf-8"))
    assert doc["version"] == "1.2.0"
    assert [c["title"] for c in doc["chapters"]] == ["Lời chào", "Trồng cây"]
    assert doc["chapters"][1]["startTime"] == pytest.approx(chapters[1].start_time / 1000, abs=0.002)

    captions = webvtt.read(str(result.outputs["transcript.vtt"]))
    assert captions[0].text == "Lời chào"
    assert "ba trăm cây non" in " ".join(c.text for c in captions)
    assert captions[-1].end_in_seconds <= info.duration + 0.05
    assert webvtt.from_srt(str(result.outputs["transcript.srt"]))[2].text == captions[2].text

    page = producer.page(ctx, results, site_labels("vi"))
    assert '<audio controls' in page.html and 'data-c35-podcast' in page.html
    assert page.html.count('<li><button type="button" data-start=') == 2
    assert "Xin chào các bạn." in page.html                               # the transcript as text
    names = sorted(page.media)
    assert names == ["card.png", "ha-long-forest-podcast.chapters.json", "ha-long-forest-podcast.mp3",
                     "ha-long-forest-podcast.srt", "ha-long-forest-podcast.vtt"]
    assert page.card == "card.png"                                        # the page's og:image
    assert 'href="ha-long-forest-podcast.mp3" download' in page.html


def test_a_stereo_recording_with_chapters_and_an_uploaded_srt(site, tmp_path):
    folder = site.session()
    spoken(folder / "media" / "talk.m4a", "Welcome to the show. Today we plant trees. Thanks for listening.",
           rate=48_000, channels=2, volume_db=-12)
    (folder / "media" / "talk.srt").write_text(
        "1\n00:00:00,000 --> 00:00:01,500\nWelcome to the show.\n\n"
        "2\n00:00:01,800 --> 00:00:03,400\n<i>Today</i> we plant trees.\n\n", encoding="utf-8")
    site.product(folder, "01-podcast.md", """
type: podcast
title: Planting day
language: en
audio: media/talk.m4a
transcript: media/talk.srt
persons: [{name: Anh, role: host}]
chapters:
  - {start: "0:00", title: Welcome}
  - {start: "0:02", title: Trees}
""", "Show notes with a [link](https://example.org/trees).")
    ctx = only(site.root)
    producer, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "rendered", result.error + result.detail
    mp3 = result.outputs["episode.mp3"]
    assert audio.probe(mp3).channels == 2
    assert MP3(mp3).info.bitrate == pytest.approx(96_000, rel=0.01)
    loudness = audio.measure_loudness(mp3)
    assert loudness.integrated == pytest.approx(-16.0, abs=1.0)
    assert loudness.true_peak <= -1.5
    chapters = sorted(ID3(mp3).getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.start_time, str(c.sub_frames["TIT2"])) for c in chapters] == [(0, "Welcome"), (2000, "Trees")]
    captions = webvtt.read(str(result.outputs["transcript.vtt"]))
    assert [c.text for c in captions] == ["Welcome to the show.", "Today we plant trees."]
    assert captions[1].start == "00:00:01.800"
    page = producer.page(ctx, results, site_labels("en"))
    assert "Show notes with a" in page.html and "Today we plant trees." in page.html
    episode = producer.episode(ctx, results)
    assert episode.length == mp3.stat().st_size
    assert episode.enclosure_url == "https://example.org/sessions/2024-q4/ha-long-forest/01-podcast/ha-long-forest-podcast.mp3"
    assert episode.persons == (("Anh", "host"),)
    assert episode.transcript_url.endswith(".vtt") and episode.chapters_url.endswith(".chapters.json")


def test_intro_and_outro_music_wrap_the_voice_and_shift_the_timings(tmp_path):
    site = PodcastTree(tmp_path / "content", site_extra="  intro_music: media/intro.ogg\n  outro_music: media/outro.wav\n")
    tone(site.root / "media" / "intro.ogg", seconds=2.0, amplitude=0.3)
    tone(site.root / "media" / "outro.wav", seconds=1.5, amplitude=0.3)
    folder = site.session()
    site.product(folder, "01-podcast.md", "type: podcast\ntitle: With music\nlanguage: en",
                 "# Start\n\nOne sentence to read.\n")
    ctx = only(site.root)
    _, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "rendered", result.error + result.detail
    meta = json.loads(result.outputs["episode.json"].read_text())
    speech_only = meta["cues"][-1][1] - meta["cues"][0][0]
    assert meta["duration"] == pytest.approx(2.0 + speech_only + 1.5, abs=0.4)
    assert meta["cues"][0][0] == pytest.approx(2.0, abs=0.05)            # the voice starts after the intro
    assert [c["title"] for c in meta["chapters"]] == ["Intro", "Start"]
    assert meta["chapters"][1]["start"] == pytest.approx(2.0, abs=0.05)
    loudness = audio.measure_loudness(result.outputs["episode.mp3"])
    assert loudness.integrated == pytest.approx(-19.0, abs=1.0) and loudness.true_peak <= -1.5


def _bad_episode(site, tmp_path, make, front_extra=""):
    """Render a session with one broken episode and one good one: return both results."""
    folder = site.session()
    source = make(folder / "media")
    site.product(folder, "01-podcast.md", f"type: podcast\ntitle: Broken\naudio: media/{source.name}\n{front_extra}")
    site.product(folder, "02-fine.md", "type: podcast\ntitle: Fine\nlanguage: en", "A fine short script.\n")
    outcome = {}
    for ctx in contexts(site.root):
        _, results = render(ctx, tmp_path / "cache")
        outcome[ctx.record.stem] = episode_result(results)
    assert outcome["02-fine"].status == "rendered", "one broken episode never stops another"
    assert outcome["01-podcast"].status == "failed"
    return outcome["01-podcast"].error


@pytest.mark.parametrize("name, data, expected", [
    ("empty.mp3", b"", "'media/empty.mp3' is empty (0 bytes)"),
    ("junk.mp3", bytes(range(256)) * 64, "'media/junk.mp3' is not a readable audio file: the file contains "
                                         "unrecognised data"),
])
def test_recordings_that_are_no_audio_are_refused_by_check(site, name, data, expected):
    folder = site.session()
    (folder / "media" / name).write_bytes(data)
    site.product(folder, "01-podcast.md", f"type: podcast\ntitle: Broken\naudio: media/{name}")
    (problem,) = load_content(site.root).errors
    assert (problem.path, problem.line, problem.field) == ("content/sessions/2024-q4/ha-long-forest/01-podcast.md",
                                                           4, "audio")
    assert problem.message.startswith(expected)


@pytest.mark.parametrize("make, expected", [
    (lambda d: video_with_sound(d / "clip.m4a"), "is a video file"),
    (lambda d: silence(d / "quiet.wav"), "is silent"),
])
def test_bad_recordings_fail_with_a_message_naming_the_product(site, tmp_path, make, expected):
    error = _bad_episode(site, tmp_path, make)
    assert expected in error
    assert "01-podcast.md" in error


def test_absurd_lengths_are_capped_with_a_clear_message(site, tmp_path, monkeypatch):
    # A real three-hour file costs minutes to make; the cap is a constant, so lower it for the test.
    monkeypatch.setattr(podcast, "MAX_SECONDS", 2.0)
    error = _bad_episode(site, tmp_path, lambda d: spoken(d / "long.mp3"))
    assert "01-podcast.md audio (long.mp3) lasts 00:0" in error and "at most 00:02" in error


@pytest.mark.parametrize("size, mode, expected", [
    (1000, "RGB", "outside 1400-3000 px"),
    (1400, "RGBA", "transparency"),
])
def test_bad_cover_art_is_refused_by_name(site, tmp_path, size, mode, expected):
    def make(media):
        artwork(media / "cover.png", size=size, mode=mode)
        return spoken(media / "talk.wav")
    error = _bad_episode(site, tmp_path, make, front_extra="cover: media/cover.png\n")
    assert expected in error and "01-podcast.md cover" in error


def test_a_chapter_after_the_end_is_refused(site, tmp_path):
    error = _bad_episode(site, tmp_path, lambda d: spoken(d / "talk.wav"),
                         front_extra='chapters: [{start: "0:00", title: Hi}, {start: "9:00", title: Late}]\n')
    assert "chapter 2 ('Late') starts at 09:00" in error


def test_a_malformed_transcript_names_its_line(site, tmp_path):
    def make(media):
        (media / "t.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:x\nHello\n", encoding="utf-8")
        return spoken(media / "talk.wav")
    error = _bad_episode(site, tmp_path, make, front_extra="transcript: media/t.vtt\n")
    assert "transcript (t.vtt) line 3" in error


def test_episode_identity_survives_edits_and_rebuilds(site, tmp_path):
    folder = site.session()
    product = site.product(folder, "02-podcast.md", "type: podcast\ntitle: First title\nlanguage: en",
                           "Version one of the script.\n")
    ctx = only(site.root)
    producer, results = render(ctx, tmp_path / "cache")
    first = producer.episode(ctx, results)
    product.write_text("---\ntype: podcast\ntitle: A better title\nlanguage: en\n---\nVersion two, longer.\n",
                       encoding="utf-8")
    ctx = only(site.root)
    producer, results = render(ctx, tmp_path / "cache2")
    second = producer.episode(ctx, results)
    assert second.title == "A better title" and second.length != first.length
    assert (second.guid, second.pub_date) == (first.guid, first.pub_date)
    assert first.pub_date.isoformat() == "2024-10-12T12:02:00+00:00"


def test_subtitle_parsing_keeps_speakers_and_accepts_short_vtt_times():
    cues = captions.parse_subtitles("WEBVTT\n\nNOTE hi\n\n00:01.000 --> 00:02.500\n<v Anh>Xin chào</v>\n\n"
                                   "1:00:00.000 --> 1:00:01.000\nlate\n", "t.vtt")
    assert [(c.start, c.end, c.text) for c in cues] == [(1.0, 2.5, "Anh: Xin chào"), (3600.0, 3601.0, "late")]


@pytest.mark.browser
def test_chapter_buttons_seek_the_player_in_chromium(site, tmp_path, served, page):
    import shutil
    from pathlib import Path

    folder = site.session()
    site.product(folder, "02-podcast.md", "type: podcast\ntitle: Trồng lại rừng", SCRIPT)
    ctx = only(site.root)
    producer, results = render(ctx, tmp_path / "cache")
    product_page = producer.page(ctx, results, site_labels("vi"))
    web = tmp_path / "web"
    web.mkdir()
    for name, source in product_page.media.items():
        shutil.copy(source, web / name)
    shutil.copy(Path(podcast.__file__).parent.parent / "build" / "assets" / "podcast.js", web / "podcast.js")
    (web / "index.html").write_text(f'<!doctype html><meta charset="utf-8"><body>{product_page.html}'
                                    f'<script src="podcast.js"></script></body>', encoding="utf-8")
    page.goto(served(web) + "index.html", wait_until="load")
    chapter = page.locator(".c35-chapters button").nth(1)
    start = float(chapter.get_attribute("data-start"))
    assert start > 1.0
    chapter.click()
    page.wait_for_function(f"Math.abs(document.querySelector('audio').currentTime - {start}) < 0.5")
    page.wait_for_function("document.querySelector('.c35-chapters button[aria-current]') !== null")
    assert page.locator(".c35-chapters button[aria-current=true]").first.inner_text().endswith("Trồng cây")
    # A transcript line seeks too.
    line = page.locator(".c35-transcript button").nth(0)
    line.click()
    page.wait_for_function("document.querySelector('audio').currentTime < 1.0")


def test_an_episode_cover_is_published_on_the_page_and_in_the_feed_record(site, tmp_path):
    folder = site.session()
    artwork(folder / "media" / "cover.jpg", size=1500, fmt="JPEG")
    site.product(folder, "01-podcast.md", "type: podcast\ntitle: Covered\nlanguage: en\ncover: media/cover.jpg",
                 "A short script.\n")
    ctx = only(site.root)
    producer, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "rendered", result.error
    page = producer.page(ctx, results, site_labels("en"))
    assert '<img class="c35-podcast-cover" src="ha-long-forest-podcast.jpg"' in page.html
    assert "ha-long-forest-podcast.jpg" in page.media
    assert producer.episode(ctx, results).image_url.endswith("/01-podcast/ha-long-forest-podcast.jpg")
    from PIL import Image
    with Image.open(result.outputs["cover.jpg"]) as image:
        assert image.size == (1500, 1500) and image.format == "JPEG"


def test_a_transcript_that_is_not_utf8_is_refused_by_name(site, tmp_path):
    def make(media):
        (media / "t.srt").write_bytes("1\n00:00:00,000 --> 00:00:01,000\nXin chào\n".encode("cp1258"))
        return spoken(media / "talk.wav")
    error = _bad_episode(site, tmp_path, make, front_extra="transcript: media/t.srt\n")
    assert "transcript (t.srt) is not UTF-8 text" in error
