"""Videos from a storyboard: real espeak-ng, ffmpeg, Noto fonts and Chromium; tiny media."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import subprocess

import pytest
import webvtt
from PIL import Image, ImageChops, ImageStat

from producers.media import audio, speech, video
from producers.media.captions import Cue, checked, srt, webvtt as vtt_text
from producers.errors import ProducerError
from producers.kinds.registry import site_labels
from producers.kinds.slides import SlidesProducer
from producers.kinds.video import (END_SECONDS, NARRATION_LEAD, NARRATION_TAIL, SRT_NAME, TITLE_SECONDS, VTT_NAME,
                                   VideoProducer, poster_name, render_soundtrack, slides_video_jobs, slides_video_page,
                                   video_name)
from producers.kinds.registry import load_content

from video_support import FOLDER, context, frame_at, probe, render, write_tree

SMALL = {"16:9": [320, 180], "9:16": [180, 320]}


def small(jobs, **changes):
    """The video jobs at a tiny frame size (and any other param changes to the shapes)."""
    out = []
    for job in jobs:
        if job.kind != "video":
            continue
        if "shape" in job.params:
            job = dataclasses.replace(job, params=dict(job.params, size=SMALL[job.params["shape"]], **changes))
        out.append(job)
    return out


def deck_pictures(root, stem: str = "01-slides"):
    """The slides job that draws a deck's PNGs (slide scenes need it)."""
    deck_ctx = context(root, stem)
    return [job for job in SlidesProducer().plan(deck_ctx) if job.name == deck_ctx.job_name("slides")]


def video_md(scenes: str, extra: str = "", shapes: str = '["16:9"]') -> str:
    return f"---\ntype: video\ntitle: Keeping the canal clean\nshapes: {shapes}\n{extra}scenes:\n{scenes}---\n"


def ok(results):
    failed = {name: (r.error, r.detail) for name, r in results.items() if r.status == "failed"}
    assert not failed, failed
    return results


# --- captions ------------------------------------------------------------------------------------

def test_webvtt_and_srt_round_trip_through_a_parser(tmp_path):
    cues = [Cue(0.5, 2.0, "Tom & Jerry <b>"), Cue(2.0, 3.25, "नमस्ते\n\nदुनिया"), Cue(4, 5, "Chào   bạn")]
    path = tmp_path / "c.vtt"
    path.write_text(vtt_text(checked(cues, 6.0)), encoding="utf-8")
    parsed = webvtt.read(str(path))
    # escaped, so a browser shows "Tom & Jerry <b>" rather than reading a tag
    assert [c.text for c in parsed] == ["Tom &amp; Jerry &lt;b&gt;", "नमस्ते\nदुनिया", "Chào   bạn"]
    assert [c.start for c in parsed] == ["00:00:00.500", "00:00:02.000", "00:00:04.000"]
    assert "00:00:02,000 --> 00:00:03,250" in srt(checked(cues))
    with pytest.raises(ProducerError, match="caption 2 starts"):
        checked([Cue(0, 2, "a"), Cue(1, 3, "b")])
    with pytest.raises(ProducerError, match="after the end"):
        checked([Cue(0, 9, "a")], duration=5)


def test_ken_burns_moves_smoothly_with_sub_pixel_steps():
    start, end = video.ken_burns_boxes((1382, 778), 0)
    clip = video.KenBurnsClip(Image.new("RGB", (1382, 778)), (1280, 720), 5.0, start, end, None)
    lefts = [clip.box_at(i / 24)[0] for i in range(120)]
    steps = [b - a for a, b in zip(lefts, lefts[1:])]
    assert all(step >= 0 for step in steps)              # one direction, never back and forth
    assert max(steps) < 1.0                              # slower than a pixel per frame: gentle
    assert any(0 < step % 1 for step in steps)           # sub-pixel positions, not integer snapping


@pytest.mark.parametrize("name", ["16:9", "9:16"])
def test_captions_stay_inside_the_shapes_safe_area(name):
    frame = video.shape(name)
    text = "ओटीपी और पिन किसी को न बताएँ। ठगी होते ही एक नौ तीन शून्य पर फ़ोन करें। " * 6
    overlay = video.caption_overlay(text, frame)
    left, top, right, bottom = frame.caption_box()
    assert overlay.truncated                                   # three lines at most, then an ellipsis
    assert left <= overlay.x and overlay.x + overlay.image.width <= right
    assert top <= overlay.y and overlay.y + overlay.image.height <= bottom
    # title-safe (5 % in from every edge), and for 9:16 clear of the apps' side buttons and description
    assert left >= 0.05 * frame.width and right <= (0.95 if name == "16:9" else 0.85) * frame.width
    assert bottom <= (0.95 if name == "16:9" else 0.80) * frame.height


def test_a_still_is_sent_once_and_moving_or_fading_frames_every_time():
    still = video.StillClip(Image.new("RGB", (16, 16)), 1.0)
    moving = video.LazyClip(0.5, True, None, None)
    sent, total = video.frames_to_send([still, moving, still], fps=10, fade=0.2)
    assert total == 25
    indices = [index for index, _ in sent]
    # first still: frame 0, then its fade-out frame 9; the moving clip: every frame 10-14 (14-15 fade);
    # the last still: its fade-in frame 15, one frame for the rest, and the very last frame
    assert indices == [0, 9, 10, 11, 12, 13, 14, 15, 16, 24]
    expression = video.timestamps_expression(indices)
    assert expression == "N+8*gte(N\\,1)+7*gte(N\\,9)"


def test_the_drawer_keeps_only_a_few_pictures_alive_however_long_the_video(tmp_path):
    events: list[tuple[str, int]] = []

    def maker(index: int):
        def make():
            events.append(("draw", index))
            return video.StillClip(Image.new("RGB", (32, 32), (index * 10, 0, 0)), 0.25), []
        return make

    with video.Drawer([(0.25, False, maker(i)) for i in range(20)], ahead=4) as drawer:
        for index, clip in enumerate(drawer.clips):
            original = clip.done
            clip.done = lambda original=original, index=index: (events.append(("done", index)), original())
        assert video.encode_video(drawer.clips, (32, 32), tmp_path / "v.mp4", fps=8, fade=0.25) == 40
    alive = peak = 0
    for kind, _ in events:
        alive += 1 if kind == "draw" else -1
        peak = max(peak, alive)
    assert [i for kind, i in events if kind == "draw"] == list(range(20)) and peak <= 4


# --- the real thing --------------------------------------------------------------------------------

def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


NARRATION = "We clean the canal every Saturday morning."


def test_storyboard_renders_a_720p_mp4_with_captions_poster_and_loud_enough_audio(tmp_path):
    scenes = (f"- image: media/p1.jpg\n  caption: Chúng tôi dọn kênh mỗi sáng thứ bảy.\n  narration: {NARRATION}\n"
              "- title: What we learned\n  caption: यह एक परीक्षण है\n  duration: 1.5\n"
              "- image: media/p2.jpg\n  duration: 1\n")
    root = write_tree(tmp_path / "content", video_md(scenes))
    ctx = context(root)
    producer = VideoProducer()
    jobs = producer.plan(ctx)
    results = ok(render(jobs, tmp_path / "cache"))
    result = results[ctx.job_name("video-16x9")]
    mp4 = result.outputs[video_name("16:9")]

    spoken = speech.synthesize(NARRATION, "en", tmp_path / "n.wav")
    scene_one = NARRATION_LEAD + spoken + NARRATION_TAIL
    expected = TITLE_SECONDS + scene_one + 1.5 + 1 + END_SECONDS
    info = probe(mp4)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["pix_fmt"] == "yuv420p"
    assert (streams["video"]["width"], streams["video"]["height"]) == (1280, 720)
    assert streams["audio"]["codec_name"] == "aac"
    assert abs(float(info["format"]["duration"]) - expected) <= 0.2
    assert mp4.stat().st_size < 2_000_000 * expected / 30
    with open(mp4, "rb") as handle:                      # +faststart: the index comes before the media
        head = handle.read(4096)
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))

    loudness = audio.measure_loudness(mp4)
    assert abs(loudness.integrated - (-16.0)) <= 1.0 and loudness.true_peak <= -1.0

    soundtrack = results[ctx.job_name("soundtrack")]
    cues = list(webvtt.read(str(soundtrack.outputs[VTT_NAME])))
    assert [c.text for c in cues] == ["Chúng tôi dọn kênh mỗi sáng thứ bảy.", "यह एक परीक्षण है"]
    starts = [_seconds(c.start) for c in cues]
    assert starts == sorted(starts) and all(_seconds(c.end) <= expected + 0.05 for c in cues)
    assert abs(starts[0] - TITLE_SECONDS) < 0.01
    assert abs(starts[1] - (TITLE_SECONDS + scene_one)) < 0.01
    assert "यह एक परीक्षण है" in soundtrack.outputs[SRT_NAME].read_text(encoding="utf-8")

    poster = Image.open(result.outputs[poster_name("16:9")])
    assert poster.format == "JPEG" and poster.size == (1280, 720)

    page = producer.page(ctx, results, site_labels("en"))
    assert page.card == "card.png" and set(page.media) >= {video_name("16:9"), VTT_NAME, SRT_NAME,
                                                           poster_name("16:9")}
    # the picture has its captions burned in: the player's track is there but off, or a viewer would
    # see the words twice
    [track] = re.findall(r"<track [^>]*>", page.html)
    assert f'src="{VTT_NAME}"' in track and "default" not in track


def test_a_captioned_frame_differs_from_the_same_frame_without_its_caption(tmp_path):
    scenes = "- image: media/p1.jpg\n  caption: यह एक परीक्षण है\n  duration: 1.5\n"
    frames = []
    for name, text in (("with", scenes), ("bare", scenes.replace("  caption: यह एक परीक्षण है\n", ""))):
        ctx = context(write_tree(tmp_path / name, video_md(text)))
        results = ok(render(small(VideoProducer().plan(ctx)), tmp_path / "cache"))
        mp4 = results[ctx.job_name("video-16x9")].outputs[video_name("16:9")]
        frames.append(frame_at(mp4, TITLE_SECONDS + 0.75, tmp_path / f"{name}.png"))
    difference = ImageChops.difference(*frames)
    left, top, right, bottom = video.shape("16:9", size=SMALL["16:9"]).caption_box()
    inside = sum(ImageStat.Stat(difference.crop((left, top, right, bottom))).mean) / 3
    outside = sum(ImageStat.Stat(difference.crop((0, 0, SMALL["16:9"][0], top - 4))).mean) / 3
    assert inside > 4 and outside < 1.5, (inside, outside)


def test_both_shapes_and_the_page_plays_in_chromium_with_its_captions(tmp_path, page):
    scenes = "- image: media/p1.jpg\n  caption: First\n  duration: 1\n- title: Second\n  caption: Second\n  duration: 1\n"
    root = write_tree(tmp_path / "content", video_md(scenes, shapes='["16:9", "9:16"]'))
    ctx = context(root)
    producer = VideoProducer()
    jobs = producer.plan(ctx)
    results = ok(render(small(jobs) + [j for j in jobs if j.kind != "video"], tmp_path / "cache"))
    portrait = probe(results[ctx.job_name("video-9x16")].outputs[video_name("9:16")])
    video_stream = next(s for s in portrait["streams"] if s["codec_type"] == "video")
    assert (video_stream["width"], video_stream["height"]) == (180, 320)
    expected = TITLE_SECONDS + 2 + END_SECONDS
    assert abs(float(portrait["format"]["duration"]) - expected) <= 0.2
    assert any(s["codec_type"] == "audio" for s in portrait["streams"])     # silence, but a track
    # one soundtrack job, needed by both shapes: both carry its very bytes
    [soundtrack] = [job for job in jobs if job.name == ctx.job_name("soundtrack")]
    assert all(job.needs == {"soundtrack": soundtrack.name} for job in jobs if "shape" in job.params)
    sound = results[soundtrack.name].outputs["soundtrack.m4a"]
    assert _audio_packets(results[ctx.job_name("video-9x16")].outputs[video_name("9:16")]) == \
        _audio_packets(results[ctx.job_name("video-16x9")].outputs[video_name("16:9")]) == _audio_packets(sound)

    rendered = producer.page(ctx, results, site_labels("vi"))
    assert 'kind="captions"' in rendered.html and 'srclang="en"' in rendered.html
    assert f'href="{video_name("9:16")}"' in rendered.html and "Tải về" in rendered.html
    site = tmp_path / "site"
    site.mkdir()
    for name, source in rendered.media.items():
        shutil.copy(source, site / name)
    (site / "index.html").write_text(f"<!doctype html><html><body>{rendered.html}</body></html>", encoding="utf-8")
    page.goto((site / "index.html").as_uri(), wait_until="load")
    # preload="none": nothing of the film loads until the viewer asks; ask for its metadata as play would
    page.evaluate("(v => { v.preload = 'metadata'; v.load(); })(document.querySelector('video'))")
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=15000)
    duration = page.evaluate("document.querySelector('video').duration")
    assert math.isfinite(duration) and abs(duration - expected) < 0.3
    tracks = page.evaluate("Array.from(document.querySelector('video').textTracks)"
                           ".map(t => [t.kind, t.language, t.mode])")
    # captions are burned into the picture: the track is offered (the CC menu) but not shown over them
    assert tracks == [["captions", "en", "disabled"]]


def _audio_packets(path) -> bytes:
    """The AAC stream of a file as it is stored (no decoding)."""
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy",
                           "-f", "adts", "-"], capture_output=True, check=True).stdout


def test_recorded_narration_span_and_ducked_music(tmp_path):
    from podcast_support import spoken, tone
    media = tmp_path / "media-src"
    spoken(media / "voice.m4a", "One. Two. Three. This is the recorded narration of our cell.")
    tone(media / "music.mp3", seconds=2.0, amplitude=0.3)
    scenes = ("- image: media/p1.jpg\n  caption: Recorded\n  narration_audio: {file: media/voice.m4a, start: 0.5, end: 2.0}\n"
              "- title: Music only\n  duration: 1\n")
    root = write_tree(tmp_path / "content", video_md(scenes, extra="music: media/music.mp3\n"),
                      extra={"media/voice.m4a": (media / "voice.m4a").read_bytes(),
                             "media/music.mp3": (media / "music.mp3").read_bytes()})
    ctx = context(root)
    results = ok(render(small(VideoProducer().plan(ctx)), tmp_path / "cache"))
    mp4 = results[ctx.job_name("video-16x9")].outputs[video_name("16:9")]
    expected = TITLE_SECONDS + NARRATION_LEAD + 1.5 + NARRATION_TAIL + 1 + END_SECONDS
    info = probe(mp4)
    assert abs(float(info["format"]["duration"]) - expected) <= 0.2
    assert next(s for s in info["streams"] if s["codec_type"] == "audio")["channels"] == 2
    loudness = audio.measure_loudness(mp4)
    assert abs(loudness.integrated - (-16.0)) <= 1.0 and loudness.true_peak <= -1.0


def _tone_level(samples, rate: int, start: float, end: float, frequency: float) -> float:
    import numpy as np
    segment = samples[int(start * rate):int(end * rate)]
    n = np.arange(len(segment))
    return 20 * math.log10(abs(np.dot(segment, np.exp(-2j * np.pi * frequency * n / rate))) / len(segment) * 2 + 1e-9)


def test_music_is_ducked_under_the_narration(tmp_path):
    import wave

    import numpy as np
    from podcast_support import ffmpeg
    ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.3*sin(2*PI*300*t):s=22050:d=2", tmp_path / "voice.wav")
    ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*997*t):s=44100:d=3", tmp_path / "music.wav")
    video.mix_audio([video.NarrationPiece(tmp_path / "voice.wav", 2.0)], 7.0, tmp_path / "mix.wav",
                    tmp_path / "music.wav")
    with wave.open(str(tmp_path / "mix.wav")) as handle:
        rate = handle.getframerate()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)
        samples = samples.reshape(-1, handle.getnchannels())[:, 0] / 32768
    assert len(samples) == 7 * rate                                   # exactly the video's length
    before, under, after = (_tone_level(samples, rate, a, b, 997) for a, b in ((1.2, 1.9), (2.6, 3.8), (4.6, 4.9)))
    assert under < before - 10 and under < after - 10                 # the music steps back for the voice
    assert abs(before - after) < 1                                    # and comes back once it ends (looped)


def test_a_slide_scene_is_drawn_by_the_slides_code_and_a_slides_deck_becomes_a_narrated_video(tmp_path):
    slides_md = ("---\ntype: slides\ntitle: Our deck\nvideo: true\n---\n# Clean water\n- Boil it\n"
                 "Note: Boil water before drinking.\n---\n# Thanks\n")
    scenes = "- slide: 01-slides#2\n  caption: From the deck\n  duration: 1\n"
    root = write_tree(tmp_path / "content", video_md(scenes), extra={"01-slides.md": slides_md})
    ctx = context(root)
    jobs = small(VideoProducer().plan(ctx))
    [shape_job] = [job for job in jobs if "shape" in job.params]
    assert shape_job.needs["deck:01-slides"] == context(root, "01-slides").job_name("slides")
    results = ok(render(deck_pictures(root) + jobs, tmp_path / "cache"))
    mp4 = results[ctx.job_name("video-16x9")].outputs[video_name("16:9")]
    frame = frame_at(mp4, TITLE_SECONDS + 0.5, tmp_path / "slide.png")
    # the slide's white paper and the theme-coloured title band are both in the frame
    paper, band = frame.getpixel((160, 100)), frame.getpixel((160, 8))
    assert min(paper) > 200 and band[0] > 120 and band[1] < 80
    # the scene is the slides job's own PNG: the same picture, scaled to the frame
    drawn = Image.open(results[context(root, "01-slides").job_name("slides")].outputs["slide-02.png"])
    expected_frame = drawn.convert("RGB").resize(SMALL["16:9"], Image.Resampling.LANCZOS)
    top = sum(ImageStat.Stat(ImageChops.difference(frame, expected_frame).crop((0, 0, 320, 100))).mean) / 3
    assert top < 6, top

    deck_ctx = context(root, "01-slides")
    jobs = small(slides_video_jobs(deck_ctx, shapes=("16:9",)))
    deck_results = ok(render(deck_pictures(root) + jobs, tmp_path / "cache"))
    deck_mp4 = deck_results[deck_ctx.job_name("video-16x9")].outputs[video_name("16:9")]
    notes = speech.synthesize("Boil water before drinking.", "en", tmp_path / "notes.wav")
    expected = 4.0 + (NARRATION_LEAD + notes + NARRATION_TAIL) + 4.0 + END_SECONDS   # title slide, 2, 3, end
    assert abs(float(probe(deck_mp4)["format"]["duration"]) - expected) <= 0.2
    # no captions written: the sidecar carries the speaker notes as they are spoken
    cues = list(webvtt.read(str(deck_results[deck_ctx.job_name("soundtrack")].outputs[VTT_NAME])))
    assert [c.text for c in cues] == ["Boil water before drinking."]
    assert abs(_seconds(cues[0].start) - (4.0 + NARRATION_LEAD)) < 0.01
    # slide scenes carry no caption of their own: on the page, the notes' track is on by default
    section, _, _ = slides_video_page(deck_ctx, deck_results, site_labels("en"), shapes=("16:9",))
    [track] = re.findall(r"<track [^>]*>", section)
    assert track.endswith(" default>")


def test_a_slide_scene_follows_its_deck_through_the_slides_job_and_fails_with_it(tmp_path):
    slides_md = "---\ntype: slides\ntitle: Our deck\n---\n# Clean water\n- Boil it\n"
    root = write_tree(tmp_path / "content", video_md("- slide: 01-slides#2\n  duration: 1\n"),
                      extra={"01-slides.md": slides_md, "media/bad.jpg": "not a picture\n"})
    ctx = context(root)
    name, deck_job = ctx.job_name("video-16x9"), context(root, "01-slides").job_name("slides")
    before = small(VideoProducer().plan(ctx))
    first = ok(render(deck_pictures(root) + before, tmp_path / "cache"))
    (root / FOLDER / "01-slides.md").write_text(slides_md.replace("Boil it", "Filter it"), encoding="utf-8")
    after = small(VideoProducer().plan(context(root)))
    assert [job.params for job in after] == [job.params for job in before]    # the deck is not in its params
    second = ok(render(deck_pictures(root) + after, tmp_path / "cache"))
    assert second[name].status == "rendered" and second[name].key != first[name].key   # but in its key
    assert second[ctx.job_name("soundtrack")].status == "cached"                       # the sound did not change

    (root / FOLDER / "01-slides.md").write_text(slides_md + "![A picture](media/bad.jpg)\n", encoding="utf-8")
    broken = render(deck_pictures(root) + small(VideoProducer().plan(context(root))), tmp_path / "cache")
    assert broken[deck_job].status == "failed" and "bad.jpg" in broken[deck_job].error
    assert broken[name].status == "failed"
    assert broken[name].error == f"needs {deck_job}, which failed: {broken[deck_job].error}"


# --- bad input ---------------------------------------------------------------------------------------

def _error(results) -> str:
    failed = [r for r in results.values() if r.status == "failed"]
    assert failed, "expected the render to fail"
    return failed[0].error


def test_missing_and_corrupt_images_name_the_product_and_scene(tmp_path):
    scenes = "- title: Hello\n  duration: 1\n- image: media/p1.jpg\n  duration: 1\n"
    root = write_tree(tmp_path / "content", video_md(scenes))
    ctx = context(root)
    (root / FOLDER / "media" / "p1.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    error = _error(render(small(VideoProducer().plan(ctx)), tmp_path / "cache"))
    assert "02-video.md" in error and "scene 2" in error and "p1.jpg" in error
    (root / FOLDER / "media" / "p1.jpg").unlink()
    with pytest.raises(ProducerError, match=r"02-video\.md: scene 2: image: file not found"):
        VideoProducer().plan(ctx)


def test_narration_audio_that_is_not_audio_names_the_scene(tmp_path):
    scenes = "- image: media/p1.jpg\n  narration_audio: {file: media/voice.mp3, start: 0, end: 1}\n"
    root = write_tree(tmp_path / "content", video_md(scenes), extra={"media/voice.mp3": "just some text\n" * 20})
    # check refuses it by its bytes ...
    problems = [str(p) for p in load_content(root).errors]
    assert any("02-video.md:" in p and "'media/voice.mp3' is not a readable audio file" in p for p in problems)
    # ... and so does the render, for a file that was real audio at check time and text by the build.
    from podcast_support import spoken
    voice = spoken(root / FOLDER / "media" / "voice.mp3")
    ctx = context(root)
    voice.write_text("just some text\n" * 20, encoding="utf-8")
    error = _error(render(small(VideoProducer().plan(ctx)), tmp_path / "cache"))
    assert "02-video.md: scene 1: narration_audio 'media/voice.mp3'" in error and "not" in error


def test_empty_storyboards_and_overlong_durations_are_refused(tmp_path):
    root = write_tree(tmp_path / "content", "---\ntype: video\ntitle: Nothing to see\nscenes: []\n---\n")
    problems = [str(p) for p in load_content(root).errors]
    assert any("02-video.md" in p and "scenes" in p for p in problems), problems

    root = write_tree(tmp_path / "long", video_md("- title: Too long\n  duration: 500\n"))
    problems = [str(p) for p in load_content(root).errors]
    assert any("02-video.md" in p and "duration" in p for p in problems), problems

    root = write_tree(tmp_path / "flash", video_md("- title: Blink\n  duration: 0.1\n"))
    error = _error(render(small(VideoProducer().plan(context(root))), tmp_path / "cache"))
    assert "02-video.md: scene 1: duration 0.1 s is outside 0.5 to 120 s" in error

    # declared durations over the cap are refused by check already (the render checks spoken narration)
    many = "".join(f"- title: Part {n}\n  duration: 20\n" for n in range(1, 51))
    root = write_tree(tmp_path / "many", video_md(many))
    problems = [str(p) for p in load_content(root).errors]
    assert any("02-video.md" in p and "1,000 seconds; the cap is 900 seconds (15 minutes) per video" in p
               for p in problems), problems

    root = write_tree(tmp_path / "few", video_md("- title: Part 1\n  duration: 20\n"))
    job = small(VideoProducer().plan(context(root)))[0]
    with pytest.raises(ProducerError, match=r"02-video\.md: the storyboard has no scenes"):
        render_soundtrack(dict(job.params, scenes=[]), job.files, tmp_path)


def test_overlong_recorded_narration_is_refused_with_the_scene_number(tmp_path):
    from podcast_support import silence
    silence(tmp_path / "long.wav", seconds=130)
    scenes = ("- title: Fine\n  duration: 1\n"
              "- title: Long\n  narration_audio: {file: media/long.wav, start: 0, end: 125}\n")
    root = write_tree(tmp_path / "content", video_md(scenes), extra={"media/long.wav": (tmp_path / "long.wav").read_bytes()})
    error = _error(render(small(VideoProducer().plan(context(root))), tmp_path / "cache"))
    assert "02-video.md: scene 2" in error and "at most 120" in error


def test_narration_in_a_language_without_a_voice_names_the_scene(tmp_path):
    scenes = "- title: Hello\n  duration: 1\n- title: Bonjour\n  narration: Bonjour à tous.\n"
    root = write_tree(tmp_path / "content", video_md(scenes))
    job = small(VideoProducer().plan(context(root)))[0]
    with pytest.raises(ProducerError, match=r"02-video\.md: scene 2: narration: speech in language 'fr'"):
        render_soundtrack(dict(job.params, language="fr"), job.files, tmp_path)


def test_vietnamese_and_hindi_narration_are_spoken(tmp_path):
    scenes = "- title: Xin chào\n  caption: Xin chào các đồng chí\n  narration: Xin chào các đồng chí.\n"
    root = write_tree(tmp_path / "vi", video_md(scenes), language="vi")
    results = ok(render(small(VideoProducer().plan(context(root))), tmp_path / "cache"))
    mp4 = results[context(root).job_name("video-16x9")].outputs[video_name("16:9")]
    assert audio.measure_loudness(mp4).integrated > -20
    scenes = "- title: नमस्ते\n  narration: नमस्ते साथियों।\n"
    root = write_tree(tmp_path / "hi", video_md(scenes), language="hi")
    ok(render(small(VideoProducer().plan(context(root))), tmp_path / "cache"))


def test_the_title_and_end_cards_write_the_date_in_the_videos_language(tmp_path):
    for language, date in (("en", "12 October 2024"), ("vi", "12 tháng 10, 2024"), ("hi", "12 अक्टूबर 2024")):
        root = write_tree(tmp_path / language, video_md("- title: Hello\n  duration: 1\n"), language=language)
        shapes = [job for job in VideoProducer().plan(context(root)) if "shape" in job.params]
        assert shapes and {job.params["date_text"] for job in shapes} == {date}


def test_jobs_are_cached_by_content(tmp_path):
    root = write_tree(tmp_path / "content", video_md("- title: Hello\n  duration: 1\n"))
    jobs = small(VideoProducer().plan(context(root)))
    first = ok(render(jobs, tmp_path / "cache"))
    again = render(jobs, tmp_path / "cache")
    assert [r.status for r in first.values()] == ["rendered"] * 2 and [r.status for r in again.values()] == ["cached"] * 2


def test_a_slide_reference_to_nothing_names_the_scene_and_what_exists(tmp_path):
    slides_md = "---\ntype: slides\ntitle: Our deck\n---\n# Only slide\n"
    root = write_tree(tmp_path / "content", video_md("- title: Intro\n  duration: 1\n- slide: 01-slides#7\n"
                                                     "  duration: 1\n"), extra={"01-slides.md": slides_md})
    from producers.kinds.registry import load_content
    # `cell35 check` says it before any render: the scene, the deck and what exists
    [problem] = load_content(root).errors
    assert str(problem).endswith("02-video.md:8: scenes[2].slide: 01-slides has slides 1 to 2 (1 is the title "
                                 "slide), received: 7"), str(problem)
    root = write_tree(tmp_path / "other", video_md("- slide: 03-deck#2\n  duration: 1\n"))
    [problem] = load_content(root).errors
    assert "scenes[1].slide: no slides product '03-deck' in this session; slides products here: (none)" \
        in str(problem)
