"""Media are opened only as what their bytes are, by the one file given; every tool call has a limit.

A cell's "recording" that is really a playlist, a concat list, a URL or an MP4 whose track lives in
another file must be refused, naming the file, by `cell35 check`, by intake and by the build, and a
published episode's audio must come from its declared recording only.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import webvtt
from typer.testing import CliRunner

from editorial_support import session_text, write_site, zip_bytes
from media_hostile import hostile_texts, with_external_track
from podcast_support import PodcastTree, contexts, episode_result, ffmpeg, render, spoken, tone
from producers.media import audio, images, probe, tools
from producers.media import artwork as artwork_rules
from producers.cli import app
from producers.errors import ProducerError, ToolError
from producers.editorial.intake import intake
from producers.kinds.registry import load_content

KINDS = list(hostile_texts(Path("/x")))
EXPECTED = {"m3u playlist": "M3U playlist", "hls m3u8": "HLS playlist", "ffconcat list": "ffconcat list",
            "concat list": "concat list", "concat url": "ffmpeg protocol reference", "sdp": "SDP session description",
            "pls playlist": "PLS playlist", "smil": "SMIL presentation"}


@pytest.fixture
def secret(tmp_path) -> Path:
    """Another cell's unpublished recording, 3 s long: what a hostile file tries to pull in."""
    folder = tmp_path / "content" / "sessions" / "2024-q3" / "varanasi-secret"
    (folder / "media").mkdir(parents=True)
    (folder / "session.md").write_text(session_text("varanasi", "2024-08-01", status="draft"), encoding="utf-8")
    (folder / "01-article.md").write_text("---\ntype: article\ntitle: Not yet\n---\nDraft.\n", encoding="utf-8")
    return tone(folder / "media" / "secret.wav", seconds=3.0)


def podcast_front(audio_name: str) -> str:
    return f"type: podcast\ntitle: Episode\naudio: media/{audio_name}"


# --- the one place that decides -----------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_each_reference_file_is_refused_by_its_content(tmp_path, secret, kind):
    name, text = hostile_texts(secret)[kind]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(probe.MediaRefused) as caught:
        probe.sniff(path, "audio", f"02-podcast.md audio (media/{name})")
    message = caught.value.message
    assert message.startswith(f"02-podcast.md audio (media/{name}) is not a readable audio file")
    assert EXPECTED[kind] in message
    with pytest.raises(ProducerError, match="not a readable audio file"):
        audio.probe(path)


def test_unguarded_ffmpeg_follows_a_concat_list_and_ours_does_not(tmp_path, secret):
    """The threat is real: ffmpeg's own sniffing reads the other cell's recording through the list."""
    # A list beside the file it names (ffmpeg's "safe" mode still allows that), read by plain ffmpeg.
    hostile = secret.parent / "episode.mp3"
    hostile.write_text("ffconcat version 1.0\nfile secret.wav\n", encoding="utf-8")
    pulled = tmp_path / "pulled.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(hostile), str(pulled)], check=True)
    assert audio.probe(pulled).duration == pytest.approx(3.0, abs=0.05)
    with pytest.raises(probe.MediaRefused, match="ffconcat list"):
        audio.input_args(hostile)


def test_every_tool_call_reads_one_file_as_one_format(tmp_path):
    recording = spoken(tmp_path / "voice.m4a", channels=1)
    args = [str(a) for a in audio.input_args(recording)]
    at = args.index("-i")
    assert args[at + 1] == f"file:{recording.resolve()}"
    before = dict(zip(args[:at:2], args[1:at:2]))
    assert before["-protocol_whitelist"] == "file"
    assert before["-f"] == before["-format_whitelist"] == "mov"
    assert before["-enable_drefs"] == "0"
    # A file named like a protocol URL is still only that file.
    odd = tmp_path / "concat:voice.m4a"
    odd.write_bytes(recording.read_bytes())
    assert audio.probe(odd).duration == pytest.approx(audio.probe(recording).duration, abs=0.01)


def test_an_mp4_whose_track_is_another_file_is_refused(tmp_path, secret):
    own = tmp_path / "own.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=500:duration=1", "-c:a", "aac", own)
    hostile = with_external_track(own, tmp_path / "episode.m4a", secret)
    # ffmpeg keeps external tracks off by default (enable_drefs=0) and says so: the reference is real.
    plain = subprocess.run(["ffprobe", "-v", "warning", str(hostile)], capture_output=True, text=True)
    assert "Skipped opening external track" in plain.stderr and str(secret) in plain.stderr
    with pytest.raises(probe.MediaRefused) as caught:
        probe.sniff(hostile, "audio", "media/episode.m4a")
    assert "refers to other files" in caught.value.message and str(secret) in caught.value.message
    assert probe.mov_references(own) == []


def test_pillow_opens_only_the_sniffed_format(tmp_path):
    # Pillow would hand an EPS to Ghostscript whatever its name; only real JPEG/PNG/WebP/HEIF/GIF are opened.
    eps = tmp_path / "photo.jpg"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ProducerError, match="PostScript/EPS"):
        images.open_photo(eps, "03-photos.md: photo 1 (media/photo.jpg)")
    with pytest.raises(ProducerError, match="PostScript/EPS"):
        artwork_rules.check_artwork(eps, "02-podcast.md cover")


# --- check, intake, build -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_check_names_each_hostile_file(tmp_path, secret, kind):
    site = PodcastTree(tmp_path / "content")
    folder = site.session()
    name, text = hostile_texts(secret)[kind]
    (folder / "media" / name).write_text(text, encoding="utf-8")
    site.product(folder, "02-podcast.md", podcast_front(name), "Show notes.")
    loaded = load_content(site.root)
    (problem,) = [p for p in loaded.errors if p.field == "audio"]
    assert problem.path == "content/sessions/2024-q4/ha-long-forest/02-podcast.md"
    assert problem.line == 4
    assert problem.message.startswith(f"'media/{name}' is not a readable audio file")
    assert EXPECTED[kind] in problem.message


def test_check_refuses_a_photo_that_is_not_an_image(tree):
    from editorial_support import product_text

    tree.write("sessions/2024-q4/ha-long-sanitation/media/bad.jpg", "#EXTM3U\nhttp://example.org/x.jpg\n")
    tree.session(products={"01-article.md": product_text(extra="cover: {file: media/bad.jpg, alt: x}\n")})
    (problem,) = load_content(tree.root).errors
    assert problem.field == "cover.file"
    assert problem.message == ("'media/bad.jpg' is not an image we can publish: the file contains an M3U playlist, "
                               "a list of other files; accepted formats: JPEG, PNG, WEBP, HEIF, GIF")


def test_cell35_check_reports_the_file_and_fails(tmp_path, secret):
    site = PodcastTree(tmp_path / "content")
    folder = site.session()
    name, text = hostile_texts(secret)["hls m3u8"]
    (folder / "media" / name).write_text(text, encoding="utf-8")
    site.product(folder, "02-podcast.md", podcast_front(name), "Show notes.")
    result = CliRunner().invoke(app, ["check", str(site.root)])
    assert result.exit_code == 1
    assert (f"content/sessions/2024-q4/ha-long-forest/02-podcast.md:4: audio: 'media/{name}' is not a readable "
            "audio file: the file contains an HLS playlist") in result.output


@pytest.mark.parametrize("kind", ["m3u playlist", "ffconcat list", "concat url", "sdp"])
def test_intake_quarantines_a_hostile_recording(tmp_path, secret, kind):
    content = write_site(tmp_path / "intake-content")
    name, text = hostile_texts(secret)[kind]
    files = {"ha-long-radio/session.md": session_text("ha-long", "2024-11-02"),
             "ha-long-radio/01-podcast.md": f"---\n{podcast_front(name)}\n---\nShow notes.\n",
             f"ha-long-radio/media/{name}": text}
    archive = tmp_path / "radio.zip"
    archive.write_bytes(zip_bytes(files))
    result = intake(archive, content, by="Editor")
    assert result.outcome == "quarantined"
    messages = [f"{p.path}: {p.field}: {p.message}" for p in result.problems]
    assert any(m.startswith(f"ha-long-radio/01-podcast.md: audio: 'media/{name}' is not a readable audio file")
               and EXPECTED[kind] in m for m in messages), messages
    assert not (content / "sessions").exists() or not list((content / "sessions").rglob(name))
    report = (result.path / "REPORT.md").read_text(encoding="utf-8")
    assert "không phải là bản ghi âm hay hình ảnh thật" in report and f"media/{name}" in report


def test_intake_refuses_an_unreferenced_disguised_file(tmp_path, secret):
    content = write_site(tmp_path / "intake-content")
    files = {"ha-long-radio/session.md": session_text("ha-long", "2024-11-02"),
             "ha-long-radio/01-article.md": "---\ntype: article\ntitle: Fine\n---\nText.\n",
             "ha-long-radio/media/later.mp3": hostile_texts(secret)["m3u playlist"][1]}
    archive = tmp_path / "radio.zip"
    archive.write_bytes(zip_bytes(files))
    result = intake(archive, content, by="Editor")
    assert result.outcome == "quarantined"
    (problem,) = result.problems
    assert (problem.path, problem.field) == ("ha-long-radio/media/later.mp3", "content")
    assert "M3U playlist" in problem.message


def test_build_leaves_the_hostile_session_out_and_publishes_the_rest(tmp_path, secret):
    from producers.build.site import BuildOptions, build_site, report_path

    site = PodcastTree(tmp_path / "content")
    good = site.session("ha-long-forest")
    site.product(good, "01-article.md", "type: article\ntitle: Planting trees", "We planted trees.")
    bad = site.session("ha-long-radio")
    name, text = hostile_texts(secret)["ffconcat list"]
    (bad / "media" / name).write_text(text, encoding="utf-8")
    site.product(bad, "01-podcast.md", podcast_front(name), "Show notes.")
    out = tmp_path / "site"
    result = build_site(BuildOptions(content=site.root, out=out, cache_dir=tmp_path / "cache", jobs=2))
    assert not result.ok
    report = json.loads((report_path(out)).read_text(encoding="utf-8"))
    invalid = {s["path"]: s["errors"] for s in report["sessions"] if s["status"] == "invalid"}
    (errors,) = invalid.values()
    assert any("01-podcast.md:4: audio: 'media/episode.wav' is not a readable audio file" in e
               and "ffconcat list" in e for e in errors), errors
    assert (out / "sessions" / "2024-q4" / "ha-long-forest" / "index.html").is_file()
    assert not (out / "sessions" / "2024-q4" / "ha-long-radio").exists()
    assert not list(out.rglob("*.mp3"))


@pytest.mark.parametrize("kind", ["m3u playlist", "ffconcat list", "concat url"])
def test_render_refuses_a_recording_swapped_after_check(tmp_path, secret, kind):
    """The build's own guard: a file that passed check but is a list when the job runs is refused."""
    site = PodcastTree(tmp_path / "content")
    folder = site.session()
    recording = spoken(folder / "media" / "episode.mp3", channels=1)
    site.product(folder, "02-podcast.md", podcast_front("episode.mp3"), "Show notes.")
    (ctx,) = contexts(site.root)
    recording.write_text(hostile_texts(secret)[kind][1], encoding="utf-8")
    _, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "failed"
    assert "02-podcast.md audio (episode.mp3) is not a readable audio file" in result.error
    assert EXPECTED[kind] in result.error


def test_episode_audio_comes_only_from_its_recording(tmp_path, secret):
    site = PodcastTree(tmp_path / "content")
    folder = site.session()
    recording = spoken(folder / "media" / "episode.m4a", channels=1)
    # A list beside the real recording, naming the other cell's file: present, never used.
    (folder / "media" / "extra.wav").write_text(hostile_texts(secret)["ffconcat list"][1], encoding="utf-8")
    site.product(folder, "02-podcast.md", podcast_front("episode.m4a"), "Show notes.")
    (ctx,) = contexts(site.root)
    _, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "rendered", result.error + result.detail
    declared = audio.probe(recording).duration
    published = audio.probe(result.outputs["episode.mp3"]).duration
    assert published == pytest.approx(declared, abs=0.06)
    assert abs(published - 3.0) > 0.5          # not the other cell's 3-second recording


# --- time limits --------------------------------------------------------------------------------

def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def _stuck_tool(folder: Path, name: str, monkeypatch) -> None:
    """``name`` on PATH: never finishes, reads nothing, leaves a sleeping child; pids go to ``folder``."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > '{folder}/child'\necho $$ > '{folder}/parent'\n"
                      "sleep 300\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    tools.executable.cache_clear()


@pytest.fixture
def never_ends(tmp_path, monkeypatch):
    """A tool on PATH that never finishes and leaves a sleeping child: returns (name, folder of pid files)."""
    _stuck_tool(tmp_path, "never-ends", monkeypatch)
    yield "never-ends", tmp_path
    tools.executable.cache_clear()


def _assert_all_gone(folder: Path) -> None:
    pids = [int((folder / name).read_text()) for name in ("parent", "child")]
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in pids), pids


def test_a_tool_past_its_limit_is_stopped_with_its_children(never_ends):
    name, folder = never_ends
    out = folder / "partial.out"
    out.write_bytes(b"half")
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"never-ends ran past its time limit of 1\.5 s"):
        tools.run([name, folder], timeout=1.5, outputs=[out], what="never-ends")
    assert time.monotonic() - started < 10
    _assert_all_gone(folder)
    assert not out.exists()


def test_a_pipeline_past_its_limit_is_stopped_whole(never_ends):
    name, folder = never_ends
    with pytest.raises(ToolError, match=r"ran past its time limit of 1 s"):
        tools.run_pipeline([[name, folder], ["cat"]], timeout=1, what="never-ends | cat")
    _assert_all_gone(folder)


def test_the_streaming_h264_encoder_is_stopped_at_its_limit(tmp_path, monkeypatch):
    from PIL import Image

    from producers.media import video

    _stuck_tool(tmp_path, "ffmpeg", monkeypatch)
    try:
        clips = [video.StillClip(Image.new("RGB", (32, 32), (200, 30, 30)), 2.0)]
        with pytest.raises(ToolError, match=r"H\.264 encode\) ran past its time limit of 1\.5 s"):
            video.encode_video(clips, (32, 32), tmp_path / "v.mp4", fps=8, timeout=1.5)
        _assert_all_gone(tmp_path)
        assert not (tmp_path / "v.mp4").exists()
    finally:
        tools.executable.cache_clear()


def test_a_time_limit_is_required():
    with pytest.raises(TypeError):
        tools.run(["true"])
    with pytest.raises(ValueError, match="positive timeout"):
        tools.run(["true"], timeout=0)


# --- captions -----------------------------------------------------------------------------------

def test_transcript_markup_is_escaped_and_reads_back(tmp_path):
    site = PodcastTree(tmp_path / "content")
    folder = site.session()
    spoken(folder / "media" / "episode.mp3", channels=1)
    (folder / "media" / "episode.vtt").write_text(
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nTom &lt;b&gt;&amp; Jerry --&gt; home\n\n"
        "00:00:01.500 --> 00:00:03.000\n<v Anh>A & B</v>\n", encoding="utf-8")
    site.product(folder, "02-podcast.md", podcast_front("episode.mp3") + "\ntranscript: media/episode.vtt",
                 "Show notes.")
    (ctx,) = contexts(site.root)
    _, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "rendered", result.error + result.detail
    vtt = result.outputs["transcript.vtt"]
    text = vtt.read_text(encoding="utf-8")
    assert "Tom &lt;b&gt;&amp; Jerry --&gt; home" in text and "Anh: A &amp; B" in text
    assert "<b>" not in text
    cues = webvtt.read(str(vtt))
    assert [html.unescape(c.text) for c in cues] == ["Tom <b>& Jerry --> home", "Anh: A & B"]
    assert cues[1].start_in_seconds < cues[0].end_in_seconds      # two speakers at once are kept
    srt = webvtt.from_srt(str(result.outputs["transcript.srt"]))
    # SubRip has no escapes: an arrow that would end the cue early is drawn as one.
    assert [c.raw_text for c in srt] == ["Tom <b>& Jerry → home", "Anh: A & B"]
    meta = json.loads(result.outputs["episode.json"].read_text(encoding="utf-8"))
    assert [c[2] for c in meta["cues"]] == ["Tom <b>& Jerry --> home", "Anh: A & B"]


def test_a_script_with_an_ampersand_is_escaped_in_the_transcript(tmp_path):
    site = PodcastTree(tmp_path / "content")
    folder = site.session()
    site.product(folder, "02-podcast.md", "type: podcast\ntitle: Script", "Tom & Jerry met at the <b>canal.")
    (ctx,) = contexts(site.root)
    _, results = render(ctx, tmp_path / "cache")
    result = episode_result(results)
    assert result.status == "rendered", result.error + result.detail
    text = result.outputs["transcript.vtt"].read_text(encoding="utf-8")
    assert "Tom &amp; Jerry" in text
    assert "&" not in text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert "Tom &amp; Jerry" in webvtt.read(str(result.outputs["transcript.vtt"]))[0].text
