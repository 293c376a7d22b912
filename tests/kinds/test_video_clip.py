"""A video product made of a finished clip: a phone's file (turned by its display matrix, carrying a
place and a date) comes out upright in both shapes, with its sound normalised, captions from its
transcript, and nothing of where or when it was filmed; files that are no clip get clear errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from producers.kinds.registry import load_content, site_labels
from producers.kinds.video import KIND, inspect_clip
from producers.media.audio import measure_loudness
from producers.errors import ProducerError
from video_support import FOLDER, context, frame_at, make_clip, probe, render, write_tree

SECONDS = 2.5
TRANSCRIPT = "WEBVTT\n\n00:00.200 --> 00:01.800\nThe canal after the clean-up.\n"


def clip_md(*extra: str) -> str:
    return "\n".join(["---", "type: video", "title: The canal, filmed", "summary: A short film.", *extra,
                      "---", ""])


def rotation_of(path: Path) -> int:
    stream = next(s for s in probe(path)["streams"] if s["codec_type"] == "video")
    return round(next((float(side["rotation"]) for side in stream.get("side_data_list", []) if "rotation" in side),
                      float(stream.get("tags", {}).get("rotate", 0))))


def picture_box(frame: Image.Image) -> tuple[int, int, int, int]:
    """Where the picture is in a frame: the box around everything brighter than the black padding."""
    return frame.convert("L").point(lambda v: 255 if v > 30 else 0).getbbox()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("clip") / "content"
    write_tree(root, clip_md("clip: media/phone.mp4", "transcript: media/phone.vtt"), photos=0,
               extra={"media/phone.vtt": TRANSCRIPT})
    source = make_clip(root / FOLDER / "media" / "phone.mp4", rotate=True)
    assert rotation_of(source) in (90, -90)
    ctx = context(root)
    results = render(KIND.producer.plan(ctx), root.parent / "cache")
    failed = {name: r.error for name, r in results.items() if r.status == "failed"}
    assert not failed, failed
    page = KIND.producer.page(ctx, results, site_labels("en"))
    return page, root.parent


def test_both_shapes_last_as_long_as_the_clip_with_the_sizes_of_the_storyboards(rendered):
    page, _ = rendered
    for name, size in (("video-16x9.mp4", (1280, 720)), ("video-9x16.mp4", (1080, 1920))):
        data = probe(page.media[name])
        picture = next(s for s in data["streams"] if s["codec_type"] == "video")
        assert (picture["width"], picture["height"]) == size
        assert picture["codec_name"] == "h264" and picture["pix_fmt"] == "yuv420p"
        assert abs(float(data["format"]["duration"]) - SECONDS) < 0.15, data["format"]["duration"]
        assert [s["codec_type"] for s in data["streams"]].count("audio") == 1


def test_the_sound_is_normalised_to_minus_16_lufs_with_headroom(rendered):
    page, _ = rendered
    loudness = measure_loudness(page.media["video-16x9.mp4"])
    assert abs(loudness.integrated - (-16.0)) <= 1.0, loudness
    assert loudness.true_peak <= -1.0, loudness


def test_a_sideways_phone_clip_comes_out_upright(rendered, tmp_path):
    page, _ = rendered
    # Stored 320×180, shown 180×320: upright, it fills the portrait frame from top to bottom and
    # stands in a black-sided column in the landscape one. Left sideways it would do the opposite.
    portrait = picture_box(frame_at(page.media["video-9x16.mp4"], 1.0, tmp_path / "portrait.png"))
    assert portrait[3] - portrait[1] > 1700, portrait            # sideways: 607 px high
    landscape = picture_box(frame_at(page.media["video-16x9.mp4"], 1.0, tmp_path / "landscape.png"))
    assert 380 < landscape[2] - landscape[0] < 430, landscape     # 720 × 180/320 = 405; sideways: 1280
    for name in ("video-16x9.mp4", "video-9x16.mp4"):
        assert rotation_of(page.media[name]) == 0      # a player must not turn it again


def test_no_place_date_or_device_travels_into_the_published_files(rendered):
    page, _ = rendered
    for name in ("video-16x9.mp4", "video-9x16.mp4", "soundtrack.m4a"):
        path = page.media.get(name)
        if path is None:
            continue
        data = probe(path)
        tags = dict(data["format"].get("tags", {}))
        for stream in data["streams"]:
            tags.update(stream.get("tags", {}))
        assert not {key for key in tags if "location" in key or key in ("creation_time", "make", "date")}, tags
        raw = path.read_bytes()
        assert b"+20.9518" not in raw and b"\xa9xyz" not in raw
    poster = Image.open(page.media["poster-16x9.jpg"])
    assert poster.size == (1280, 720) and not poster.getexif()


def test_mp4s_start_playing_before_they_are_downloaded_whole(rendered):
    page, _ = rendered
    raw = page.media["video-16x9.mp4"].read_bytes()
    assert 0 < raw.find(b"moov") < raw.find(b"mdat")


def test_the_page_plays_the_clip_with_the_transcript_as_captions(rendered):
    page, _ = rendered
    assert 'src="video-16x9.mp4"' in page.html and 'poster="poster-16x9.jpg"' in page.html
    assert 'src="captions.vtt" default>' in page.html     # the picture has no captions of its own
    assert "The canal after the clean-up." in page.media["captions.vtt"].read_text(encoding="utf-8")
    assert "00:00:00,200 --> 00:00:01,800" in page.media["captions.srt"].read_text(encoding="utf-8")


# --- the checker -----------------------------------------------------------------------------

def checked(tmp_path: Path, product: str, files: dict[str, bytes | str] | None = None,
            clips: dict[str, dict] | None = None) -> list[str]:
    root = write_tree(tmp_path / "content", product, photos=1, extra=files)
    for name, options in (clips or {}).items():
        make_clip(root / FOLDER / name, **options)
    return [str(p) for p in load_content(root).errors]


def test_scenes_and_a_clip_together_are_refused_naming_the_field(tmp_path):
    errors = checked(tmp_path, clip_md("clip: media/c.mp4", "scenes:", "- {image: media/p1.jpg, duration: 3}"),
                     clips={"media/c.mp4": {}})
    assert len(errors) == 1 and "02-video.md:5: clip: " in errors[0], errors
    assert "either scenes" in errors[0] and "found: scenes and clip" in errors[0]


def test_a_video_with_neither_scenes_nor_a_clip_is_refused(tmp_path):
    errors = checked(tmp_path, clip_md())
    assert len(errors) == 1 and "02-video.md" in errors[0] and "clip" in errors[0], errors
    assert "found: neither" in errors[0]


def test_a_storyboard_still_checks_as_before(tmp_path):
    assert checked(tmp_path, clip_md("scenes:", "- {image: media/p1.jpg, duration: 3}")) == []


def test_a_clip_checks_clean(tmp_path):
    assert checked(tmp_path, clip_md("clip: media/c.mp4"), clips={"media/c.mp4": {}}) == []


@pytest.mark.parametrize("name, data, options, expected", [
    ("text.mp4", "This is not a film\n", None, "is not a readable audio or video file: the file contains a text"),
    ("mute.mp4", None, {"sound": False}, "has no sound track (found: picture only)"),
    ("sound.mp4", None, "audio", "holds no moving picture (found: audio)"),
    ("zero.mp4", None, "zero", "duration 0"),
])
def test_files_that_are_no_clip_are_refused_beside_the_field(tmp_path, name, data, options, expected):
    files, clips = {}, {}
    if data is not None:
        files[f"media/{name}"] = data
    elif options == "audio":
        path = tmp_path / "content" / FOLDER / "media" / name
        path.parent.mkdir(parents=True)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac",
                        "-f", "mp4", str(path)], check=True)
    elif options == "zero":
        path = tmp_path / "content" / FOLDER / "media" / name
        path.parent.mkdir(parents=True)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48", "-t", "0",
                        "-c:v", "libx264", str(path)], check=True)
    else:
        clips[f"media/{name}"] = options
    errors = checked(tmp_path, clip_md(f"clip: media/{name}"), files, clips)
    assert len(errors) == 1, errors
    assert "02-video.md:5: clip: " in errors[0] and expected in errors[0], errors


def test_the_caps_name_what_was_found_and_what_is_allowed(tmp_path):
    path = make_clip(tmp_path / "c.mp4")
    with pytest.raises(ProducerError, match=r"lasts 2 seconds; the cap is 1 seconds"):
        inspect_clip(path, "clip 'c.mp4'", max_seconds=1.4)
    with pytest.raises(ProducerError, match=r"clip 'c.mp4' is 0 MB; a clip may be at most 0 MB"):
        inspect_clip(path, "clip 'c.mp4'", max_bytes=1000)
    assert inspect_clip(path, "clip").rotation == 0


def rendered_from(tmp_path: Path, name: str, ffmpeg_args: list[str]):
    root = write_tree(tmp_path / "content", clip_md(f"clip: media/{name}"), photos=0)
    source = root / FOLDER / "media" / name
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *ffmpeg_args, str(source)], check=True)
    ctx = context(root)
    return ctx, render(KIND.producer.plan(ctx), tmp_path / "cache")


def test_a_browsers_webm_clip_is_published_as_mp4(tmp_path):
    ctx, results = rendered_from(tmp_path, "recorded.webm", [
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=24:duration=1.5", "-f", "lavfi",
        "-i", "sine=frequency=300:duration=1.5", "-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"])
    assert not [r.error for r in results.values() if r.status == "failed"]
    page = KIND.producer.page(ctx, results, site_labels("en"))
    data = probe(page.media["video-9x16.mp4"])
    assert data["format"]["format_name"].startswith("mov") and abs(float(data["format"]["duration"]) - 1.5) < 0.15
    assert {s["codec_name"] for s in data["streams"]} == {"h264", "aac"}


def test_a_clip_whose_sound_is_silence_fails_naming_the_clip(tmp_path):
    _, results = rendered_from(tmp_path, "quiet.mp4", [
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=24:duration=1.5", "-f", "lavfi",
        "-i", "anullsrc=r=48000:cl=mono", "-t", "1.5", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"])
    failed = [r.error for r in results.values() if r.status == "failed" and r.name.endswith(":soundtrack")]
    assert len(failed) == 1 and "02-video.md: the sound of clip 'media/quiet.mp4' is silent" in failed[0], failed


def test_a_broken_transcript_is_told_at_check_naming_its_line(tmp_path):
    errors = checked(tmp_path, clip_md("clip: media/c.mp4", "transcript: media/c.vtt"),
                     {"media/c.vtt": "WEBVTT\n\n00:00.000 -> 00:02.000\nA line\n"}, clips={"media/c.mp4": {}})
    assert len(errors) == 1 and "02-video.md:6: transcript: transcript 'media/c.vtt'" in errors[0], errors
