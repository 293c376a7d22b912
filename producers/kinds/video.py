"""Videos: a storyboard (or a slide deck with ``video: true``) -> MP4 16:9 and 9:16, captions, poster.

A soundtrack job renders what every shape shares: the narration (espeak-ng in the product language,
or a span of a recorded file), the timeline it sets (a scene lasts as long as its narration unless a
duration is given), the ducked and normalised soundtrack (AAC) and the WebVTT/SRT captions. One job
per shape then draws the stills with the caption burned in by the text engine (a slide scene is the
slides job's own PNG), moves photos (Ken Burns), crossfades, adds the title and end cards, encodes
the MP4 and muxes the soundtrack in, and saves a JPEG poster. See producers/media/video.py for why it is fast.

A slides product with ``video: true`` becomes the same kind of jobs through ``slides_video_jobs``:
one scene per slide, its speaker notes read aloud; ``slides_video_page`` gives the page section.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Literal, Mapping, Sequence

from PIL import Image
from pydantic import Field, ValidationInfo, field_validator, model_validator

from producers.media import audio, speech, video
from producers.kinds import cards
from producers.media.captions import Cue, parse_subtitles, read_text_file, write_srt, write_webvtt
from producers.errors import ProducerError
from producers.web.i18n import Labels
from producers.web.templates import fragment
from producers.media.images import open_photo
from producers.content.markdown import spoken_text
from producers.jobs.pipeline import Job, JobResult
from producers.kinds.base import Kind, ProductContext, ProductPage
from producers.content.loader import ProductRecord, check_media_path
from producers.media.probe import refusal
from producers.content.model import Line, MediaPath, ProductBase, Strict, cap_message, text
from producers.content.scaffold import Scaffold
from producers.errors import Problem
from producers.content.slidesmd import PICTURES_STEP, parse_deck, slide_name

TITLE_SECONDS = 3.0
END_SECONDS = 3.0
NARRATION_LEAD = 0.4           # silence before a scene's narration starts (the crossfade settles)
NARRATION_TAIL = 0.6           # and after it ends, before the next scene
MIN_SCENE_SECONDS = 0.5       # shorter is a flash nobody can read (and every scene needs whole frames)
SLIDE_SECONDS = 4.0            # a slide without speaker notes, in a slides video
MAX_SLIDE_VIDEO_SECONDS = 45 * 60
MAX_SCENES = 60                # scenes per video
MAX_VIDEO_SECONDS = 15 * 60    # a cell's short video; longer is a mistake (or a lecture: use a podcast)
MAX_SCENE_SECONDS = 120.0      # one scene's declared duration
MAX_CLIP_SECONDS = MAX_VIDEO_SECONDS   # a finished clip: the same cap as a storyboard
MIN_CLIP_SECONDS = 1.0         # shorter is an accident (a tap on record), not a film
MAX_CLIP_BYTES = 500_000_000   # a phone's 15 minutes at 720p-1080p fit; more is a raw camera file
CLIP_CONTAINERS = ("mov", "matroska")   # sniffed by content: MP4/MOV (phones), WebM/MKV (browsers, desktop)
CLIP_CONTAINER_NAMES = "MP4/MOV, WebM/MKV"


class NarrationSpan(Strict):
    file: MediaPath
    start: Annotated[float, Field(ge=0)]
    end: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _ordered(self) -> "NarrationSpan":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class Scene(Strict):
    image: MediaPath | None = None
    slide: text(pattern=r"^[a-z0-9-]+#[0-9]+$") | None = None
    """``<slides product file stem>#<slide number>``, e.g. ``01-slides#3``."""
    title: Line | None = None
    caption: text(max_length=300) = ""
    narration: text(max_length=2000) = ""
    narration_audio: NarrationSpan | None = None
    duration: Annotated[float, Field(gt=0, le=MAX_SCENE_SECONDS)] | None = None

    @model_validator(mode="after")
    def _one_visual(self) -> "Scene":
        visuals = [name for name in ("image", "slide", "title") if getattr(self, name)]
        if len(visuals) != 1:
            found = ", ".join(visuals) if visuals else "none"
            raise ValueError(f"a scene needs exactly one visual of (image, slide, title); found: {found}")
        if self.narration and self.narration_audio:
            raise ValueError("a scene has either narration text or narration_audio, not both")
        if not (self.duration or self.narration or self.narration_audio):
            raise ValueError("a scene without narration needs a duration (seconds)")
        return self

    @property
    def declared_seconds(self) -> float:
        """What the front matter itself says the scene lasts (narration text is timed when spoken)."""
        if self.duration:
            return self.duration
        if self.narration_audio:
            return self.narration_audio.end - self.narration_audio.start
        return 0.0


class VideoProduct(ProductBase):
    """A storyboard (``scenes``) rendered here, or a finished ``clip`` transcoded to the same shapes."""

    type: Literal["video"]
    scenes: Annotated[list[Scene], Field(min_length=1)] | None = None
    # validate_default: the check that exactly one of scenes and clip is given runs when clip is absent too
    clip: Annotated[MediaPath | None, Field(validate_default=True)] = None
    transcript: MediaPath | None = None
    """A finished clip's captions: a WebVTT (.vtt) or SubRip (.srt) file."""
    music: MediaPath | None = None
    shapes: Annotated[list[Literal["16:9", "9:16"]], Field(min_length=1)] = ["16:9", "9:16"]
    resolution: Literal["720p", "1080p"] = "720p"

    MEDIA_FIELDS: ClassVar[frozenset[str]] = ProductBase.MEDIA_FIELDS | {"clip"}

    @field_validator("clip")
    @classmethod
    def _scenes_or_clip(cls, clip: str | None, info: ValidationInfo) -> str | None:
        if "scenes" not in info.data:
            return clip           # the scenes themselves are wrong: that error is the one to read
        scenes = info.data["scenes"]
        if scenes and clip:
            raise ValueError("give either scenes (a storyboard of photos and captions) or clip (a finished video "
                             "file), not both; found: scenes and clip")
        if not scenes and not clip:
            raise ValueError("a video needs either scenes (a storyboard of photos and captions) or clip (a finished "
                             "video file in the session folder, like clip: media/film.mp4); found: neither")
        return clip

    @model_validator(mode="after")
    def _clip_fields(self) -> "VideoProduct":
        if self.transcript and not self.clip:
            raise ValueError("transcript belongs to a finished clip; a storyboard's captions are its scenes' "
                             "captions")
        if self.clip and self.music:
            raise ValueError("music belongs to a storyboard; a finished clip keeps its own sound")
        return self

    @field_validator("scenes")
    @classmethod
    def _scene_cap(cls, scenes: list[Scene] | None) -> list[Scene] | None:
        if scenes is None:
            return scenes
        if len(scenes) > MAX_SCENES:
            raise ValueError(cap_message("the video has", len(scenes), MAX_SCENES, "scenes",
                                         "per video: split it into two videos (a second video product, "
                                         "like 02-video.md, or a session of its own)"))
        seconds = sum(scene.declared_seconds for scene in scenes)
        if seconds > MAX_VIDEO_SECONDS:
            raise ValueError(cap_message("the scenes' durations and narration recordings add up to",
                                         round(seconds), MAX_VIDEO_SECONDS, "seconds",
                                         f"({MAX_VIDEO_SECONDS // 60} minutes) per video: split it into two "
                                         "videos (a second video product, like 02-video.md), or make a podcast "
                                         "of a longer talk"))
        return scenes

    @classmethod
    def session_problems(cls, records: Sequence[ProductRecord], folder: Path) -> list[Problem]:
        """Scenes pointing at a slide that does not exist in the session's decks; clips that are no
        usable video (by their content, duration and size)."""
        decks = {r.stem: len(parse_deck(r.body, r.body_line).slides) + 1     # 1 is the generated title slide
                 for r in records if r.kind == "slides"}
        problems: list[Problem] = []
        for record in records:
            if record.kind != "video":
                continue
            if record.product.clip:
                problems += clip_problems(record, folder)
                continue
            for index, scene in enumerate(record.product.scenes):
                if not scene.slide:
                    continue
                stem, _, number = scene.slide.partition("#")
                line = record.line_of("scenes", index, "slide")
                field_name = f"scenes[{index + 1}].slide"
                if stem not in decks:
                    problems.append(Problem(record.display, line, field_name,
                                            f"no slides product {stem!r} in this session; slides products here: "
                                            f"({', '.join(sorted(decks)) or 'none'})"))
                elif not 1 <= int(number) <= decks[stem]:
                    problems.append(Problem(record.display, line, field_name,
                                            f"{stem} has slides 1 to {decks[stem]} (1 is the title slide), "
                                            f"received: {int(number)}"))
        return problems
VTT_NAME, SRT_NAME = "captions.vtt", "captions.srt"
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt", "hi": "हिन्दी"}


def video_name(shape_name: str) -> str:
    return f"video-{shape_name.replace(':', 'x')}.mp4"


def poster_name(shape_name: str) -> str:
    return f"poster-{shape_name.replace(':', 'x')}.jpg"


# --- planning ----------------------------------------------------------------------------------

SOUNDTRACK_STEP = "soundtrack"
SOUNDTRACK_NAME, TIMELINE_NAME = "soundtrack.m4a", "timeline.json"
SOUND_ONLY = ("language", "max_seconds", "subtitles", "music", "music_path")   # params the pictures never read
SOUND_SCENE = ("item", "caption", "narration", "duration", "audio")
PICTURE_SCENE = ("item", "visual", "caption", "file", "path", "slide", "title")


class _Files:
    """A job's input files, each listed once; params refer to them by index."""

    def __init__(self):
        self.paths: list[Path] = []

    def add(self, path: Path) -> int:
        if path in self.paths:
            return self.paths.index(path)
        self.paths.append(path)
        return len(self.paths) - 1


def _media(ctx: ProductContext, relative: str, where: str, files: _Files) -> int:
    try:
        return files.add(ctx.media(relative))
    except ValueError as exc:
        raise ProducerError(f"{ctx.record.display}: {where}: {exc}") from None


def _deck(ctx: ProductContext, stem: str, where: str) -> tuple[str, int]:
    """A slides product of the same session: the name of the job that draws its slides, and how many
    slides it has (the title slide included)."""
    records = {r.stem: r for r in ctx.session.products if r.kind == "slides"}
    record = records.get(stem)
    if record is None:
        found = ", ".join(sorted(records)) or "none"
        raise ProducerError(f"{ctx.record.display}: {where}: slide reference {stem!r} names no slides product "
                            f"in this session; slides products here: {found}")
    deck_ctx = ProductContext(ctx.site, ctx.cell, ctx.session, record, ctx.content_root)
    return deck_ctx.job_name(PICTURES_STEP), len(parse_deck(record.body, record.body_line).slides) + 1


def _common(ctx: ProductContext) -> dict[str, Any]:
    return {
        "label": ctx.record.display, "title": ctx.record.product.title, "language": ctx.record.language,
        "cell": ctx.cell.name, "date_text": ctx.date_text,
        "site": ctx.site.base_url.split("://", 1)[-1].rstrip("/"),
        "primary": ctx.site.theme.primary, "accent": ctx.site.theme.accent,
        "fps": video.FPS, "fade": video.FADE_SECONDS, "motion": True, "size": None,
        "cards": {"title": TITLE_SECONDS, "end": END_SECONDS}, "max_seconds": MAX_VIDEO_SECONDS,
        # what the WebVTT/SRT carry: the scenes' captions, or (slides) the narration sentence by sentence
        "subtitles": "captions",
    }


@dataclass(frozen=True)
class Storyboard:
    params: dict[str, Any]            # JSON-able: the soundtrack's and the pictures' params together
    pictures: tuple[Path, ...]        # what the shape jobs read: scene["file"] indexes it
    sounds: tuple[Path, ...]          # what the soundtrack reads: scene["audio"]["file"] and "music" index it
    decks: Mapping[str, str]          # deck stem -> the job that draws its slides


def storyboard_params(ctx: ProductContext) -> Storyboard:
    """A video product's storyboard as JSON-able params plus the files and slide decks it reads."""
    product: VideoProduct = ctx.record.product
    pictures, sounds = _Files(), _Files()
    decks: dict[str, str] = {}
    scenes = []
    for number, scene in enumerate(product.scenes, start=1):
        where = f"scene {number}"
        entry: dict[str, Any] = {"item": where, "caption": scene.caption, "narration": scene.narration,
                                 "duration": scene.duration, "audio": None, "file": None, "path": None,
                                 "slide": None, "title": scene.title}
        if scene.image:
            entry["visual"] = "image"
            entry["file"] = _media(ctx, scene.image, f"{where}: image", pictures)
            entry["path"] = scene.image
        elif scene.slide:
            entry["visual"] = "slide"
            stem, slide_number = scene.slide.split("#")
            decks[stem], total = _deck(ctx, stem, where)
            if not 1 <= int(slide_number) <= total:
                raise ProducerError(f"{ctx.record.display}: {where}: slide {scene.slide!r} does not exist; "
                                    f"{stem} has slides 1 to {total}")
            entry["slide"] = {"deck": stem, "number": int(slide_number)}
        else:
            entry["visual"] = "title"
        if scene.narration_audio:
            span = scene.narration_audio
            entry["audio"] = {"file": _media(ctx, span.file, f"{where}: narration_audio", sounds),
                              "path": span.file, "start": span.start, "end": span.end}
        scenes.append(entry)
    params = _common(ctx)
    params.update({"scenes": scenes, "resolution": product.resolution,
                   "music": _media(ctx, product.music, "music", sounds) if product.music else None,
                   "music_path": product.music})
    return Storyboard(params, tuple(pictures.paths), tuple(sounds.paths), decks)


def render_jobs(ctx: ProductContext, board: Storyboard, shapes: Sequence[str]) -> list[Job]:
    """The soundtrack job, and one job per shape that needs it (and the slides jobs of its decks)."""
    scenes = board.params["scenes"]
    sound = {key: value for key, value in board.params.items() if key in SOUND_ONLY or key in ("label", "cards")}
    sound["scenes"] = [{key: scene[key] for key in SOUND_SCENE} for scene in scenes]
    soundtrack = Job(ctx.job_name(SOUNDTRACK_STEP), "video", render_soundtrack, sound, board.sounds,
                     (SOUNDTRACK_NAME, TIMELINE_NAME, VTT_NAME, SRT_NAME), tools=("ffmpeg", "ffprobe", "espeak-ng"),
                     timeout=1800)
    pictures = {key: value for key, value in board.params.items() if key not in SOUND_ONLY}
    pictures["scenes"] = [{key: scene[key] for key in PICTURE_SCENE} for scene in scenes]
    needs = {SOUNDTRACK_STEP: soundtrack.name, **{_deck_alias(stem): name for stem, name in board.decks.items()}}
    jobs = [soundtrack]
    for shape_name in shapes:
        outputs = (video_name(shape_name), poster_name(shape_name))
        jobs.append(Job(ctx.job_name(f"video-{shape_name.replace(':', 'x')}"), "video", render_video,
                        dict(pictures, shape=shape_name), board.pictures, outputs, tools=("ffmpeg", "ffprobe"),
                        timeout=3600, needs=needs))
    return jobs


def _deck_alias(stem: str) -> str:
    return f"deck:{stem}"


class VideoProducer:
    def plan(self, ctx: ProductContext) -> list[Job]:
        if ctx.record.product.clip:
            return clip_jobs(ctx) + [cards.card_job(ctx)]
        return render_jobs(ctx, storyboard_params(ctx), ctx.record.product.shapes) + [cards.card_job(ctx)]

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        product: VideoProduct = ctx.record.product
        # a clip's captions are only in the track (none are drawn into its picture): on by default
        section, media, warnings = video_section(ctx, results, labels, product.shapes, product.resolution,
                                                 captions_burned=not product.clip)
        html = fragment(PAGE, summary=product.summary, section=section)
        card = results.get(ctx.job_name("card"))
        if card is not None and card.status != "failed":
            media.update(card.outputs)
        return ProductPage(html=html, media=media, warnings=tuple(warnings),
                           card=cards.CARD_NAME if cards.CARD_NAME in media else None)


# --- a finished clip ---------------------------------------------------------------------------

def clip_problems(record: ProductRecord, folder: Path) -> list[Problem]:
    """The checker's word on a video product's clip: a real video by its bytes, with sound, within the
    caps. Nothing when the file itself could not be found (the loader has said so already)."""
    product: VideoProduct = record.product
    found, message = check_media_path(folder, product.clip)
    if message or found is None or refusal(found, "clip"):
        return []
    problems = []
    try:
        inspect_clip(found, f"clip {product.clip!r}")
    except ProducerError as exc:
        problems.append(Problem(record.display, record.line_of("clip"), "clip", exc.message))
    transcript, message = check_media_path(folder, product.transcript) if product.transcript else (None, None)
    if transcript is not None and message is None:
        what = f"transcript {product.transcript!r}"
        try:
            parse_subtitles(read_text_file(transcript, what), what)
        except ProducerError as exc:
            problems.append(Problem(record.display, record.line_of("transcript"), "transcript", exc.message))
    return problems


def inspect_clip(path: Path, what: str, max_seconds: float = MAX_CLIP_SECONDS,
                 max_bytes: int = MAX_CLIP_BYTES) -> video.ClipInfo:
    """The clip as ``video.probe_clip`` reads it, refused past the caps or without sound."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ProducerError(f"{what} is {size / 1_000_000:,.0f} MB; a clip may be at most {max_bytes / 1_000_000:,.0f} "
                            "MB: export it at 720p or 1080p (a phone's \"share\" or \"export\" does), or split it")
    info = video.probe_clip(path, what)
    if info.format not in CLIP_CONTAINERS:
        raise ProducerError(f"{what} is {info.name}; accepted: {CLIP_CONTAINER_NAMES}")
    if info.duration > max_seconds:
        raise ProducerError(cap_message(f"{what} lasts", round(info.duration), round(max_seconds), "seconds",
                                        f"({max_seconds / 60:.0f} minutes) per video: cut it, or split it into two "
                                        "videos (a second video product, like 02-video.md)"))
    if info.duration < MIN_CLIP_SECONDS:
        raise ProducerError(f"{what} lasts {info.duration:.2f} s; a clip lasts at least {MIN_CLIP_SECONDS:g} s")
    if not info.has_audio:
        raise ProducerError(f"{what} has no sound track (found: picture only); a clip needs its sound: record "
                            "it with sound, or make a storyboard of photos with narration instead")
    return info


CLIP_STEP_OUTPUTS = (SOUNDTRACK_NAME, TIMELINE_NAME, VTT_NAME, SRT_NAME)


def clip_jobs(ctx: ProductContext) -> list[Job]:
    """A finished clip: a soundtrack job (its sound normalised, its length, captions from the transcript)
    and one transcode per shape, with the same job names and outputs as a storyboard's, so the page
    is the same."""
    product: VideoProduct = ctx.record.product
    files = _Files()
    clip = _media(ctx, product.clip, "clip", files)
    transcript = _media(ctx, product.transcript, "transcript", files) if product.transcript else None
    common = {"label": ctx.record.display, "path": product.clip, "clip": clip, "max_seconds": MAX_CLIP_SECONDS,
              "max_bytes": MAX_CLIP_BYTES, "fps": video.FPS}
    sound = dict(common, transcript=transcript, transcript_path=product.transcript, language=ctx.record.language)
    soundtrack = Job(ctx.job_name(SOUNDTRACK_STEP), "video", render_clip_soundtrack, sound, tuple(files.paths),
                     CLIP_STEP_OUTPUTS, tools=("ffmpeg", "ffprobe"), timeout=1800)
    jobs = [soundtrack]
    for shape_name in product.shapes:
        jobs.append(Job(ctx.job_name(f"video-{shape_name.replace(':', 'x')}"), "video", render_clip_video,
                        dict(common, shape=shape_name, resolution=product.resolution), (files.paths[clip],),
                        (video_name(shape_name), poster_name(shape_name)), tools=("ffmpeg", "ffprobe"),
                        timeout=3600, needs={SOUNDTRACK_STEP: soundtrack.name}))
    return jobs


def _clip_info(params: Mapping[str, Any], files: tuple[Path, ...]) -> video.ClipInfo:
    what = f"{params['label']}: clip {params['path']!r}"
    return inspect_clip(files[params["clip"]], what, params["max_seconds"], params["max_bytes"])


def render_clip_soundtrack(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action: a clip's sound normalised (soundtrack.m4a), its length (timeline.json) and the
    transcript's captions (captions.vtt/.srt; empty without a transcript)."""
    info = _clip_info(params, files)
    label = params["label"]
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".work.") as temp:
        track = video.clip_soundtrack(files[params["clip"]], Path(temp), f"{label}: the sound of clip "
                                                                          f"{params['path']!r}")
        os.replace(track, out_dir / SOUNDTRACK_NAME)
    cues: list[Cue] = []
    if params["transcript"] is not None:
        path = files[params["transcript"]]
        what = f"{label}: transcript {params['transcript_path']!r}"
        cues = parse_subtitles(read_text_file(path, what), what)
        late = [cue for cue in cues if cue.start >= info.duration]
        if late:
            warnings.append(f"{what}: {len(late)} caption(s) start after the clip ends "
                            f"({info.duration:.1f} s); they were dropped")
        cues = [Cue(cue.start, min(cue.end, info.duration), cue.text) for cue in cues if cue.start < info.duration]
    else:
        warnings.append(f"{label}: the clip has no transcript; add a .vtt or .srt as 'transcript' so that deaf "
                        "viewers can follow it")
    try:
        write_webvtt(out_dir / VTT_NAME, cues, info.duration, overlap=True)
        write_srt(out_dir / SRT_NAME, cues, info.duration, overlap=True)
    except ProducerError as exc:
        raise ProducerError(f"{label}: transcript {params['transcript_path']!r}: {exc.message}") from None
    (out_dir / TIMELINE_NAME).write_text(json.dumps({"durations": [info.duration], "starts": [0.0],
                                                     "total": info.duration}))
    return warnings


def render_clip_video(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path,
                      inputs: Mapping[str, Any]) -> list[str]:
    """Job action: the clip upright, fitted to the shape, with the normalised sound; and its poster."""
    info = _clip_info(params, files)
    frame = video.shape(params["shape"], params["resolution"])
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".work.") as temp:
        encoded = Path(temp) / "video.mp4"
        video.transcode_clip(files[params["clip"]], info.format, frame.size, info.duration, encoded,
                             fps=params["fps"])
        out = out_dir / video_name(frame.name)
        video.mux(encoded, inputs[SOUNDTRACK_STEP][SOUNDTRACK_NAME], out)
    video.poster_frame(out, min(1.0, info.duration / 3), out_dir / poster_name(frame.name))
    return []


# --- slides with video: true -------------------------------------------------------------------

SLIDES_VIDEO_SHAPES = ("16:9", "9:16")


def slides_video_jobs(ctx: ProductContext, shapes: Sequence[str] = SLIDES_VIDEO_SHAPES) -> list[Job]:
    """For a slides product with ``video: true``: one scene per slide, its speaker notes read aloud.

    The slide deck's own title slide opens the video, so there is no separate title card.
    """
    pictures_job, total = _deck(ctx, ctx.record.stem, "video")
    parsed = parse_deck(ctx.record.body, ctx.record.body_line)
    notes = {slide.number: spoken_text(slide.notes).strip() for slide in parsed.slides}
    scenes = []
    for number in range(1, total + 1):
        narration = notes.get(number, "")
        scenes.append({"item": f"slide {number}", "visual": "slide", "caption": "", "narration": narration,
                       "duration": None if narration else SLIDE_SECONDS, "audio": None, "file": None,
                       "path": None, "title": None, "slide": {"deck": ctx.record.stem, "number": number}})
    params = _common(ctx)
    params.update({"scenes": scenes, "resolution": "720p", "music": None, "music_path": None,
                   "cards": {"title": 0.0, "end": END_SECONDS}, "motion": False,
                   "max_seconds": MAX_SLIDE_VIDEO_SECONDS, "subtitles": "narration"})
    return render_jobs(ctx, Storyboard(params, (), (), {ctx.record.stem: pictures_job}), shapes)


def slides_video_page(ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels,
                      shapes: Sequence[str] = SLIDES_VIDEO_SHAPES) -> tuple[str, dict[str, Path], list[str]]:
    """The video section of a slides page: (html, media to publish, warnings)."""
    return video_section(ctx, results, labels, shapes, captions_burned=False)   # slide scenes carry no caption


# --- the page ----------------------------------------------------------------------------------

def _megabytes(path: Path) -> str:
    return f"{path.stat().st_size / 1_000_000:.1f} MB"


def video_section(ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels,
                  shapes: Sequence[str], resolution: str = "720p",
                  captions_burned: bool = True) -> tuple[str, dict[str, Path], list[str]]:
    rendered = []
    for step in [SOUNDTRACK_STEP] + [f"video-{shape_name.replace(':', 'x')}" for shape_name in shapes]:
        result = results.get(ctx.job_name(step))
        if result is None or result.status == "failed":
            what = "soundtrack" if step == SOUNDTRACK_STEP else f"{step.removeprefix('video-').replace('x', ':')} video"
            raise ProducerError(f"{ctx.record.display}: the {what} did not render"
                                + (f": {result.error}" if result else ""))
        rendered.append(result)
    sound, shaped = rendered[0], list(zip(shapes, rendered[1:]))
    media: dict[str, Path] = {VTT_NAME: sound.outputs[VTT_NAME], SRT_NAME: sound.outputs[SRT_NAME]}
    warnings: list[str] = []
    for result in rendered:
        warnings += [w for w in result.warnings if w not in warnings]
    for shape_name, result in shaped:
        media[video_name(shape_name)] = result.outputs[video_name(shape_name)]
        media[poster_name(shape_name)] = result.outputs[poster_name(shape_name)]
    return page_html(ctx.record.language, shapes[0], [(name, media[video_name(name)]) for name in shapes],
                     labels, resolution, captions_burned), media, warnings


def page_html(language: str, main_shape: str, files: Sequence[tuple[str, Path]], labels: Labels,
              resolution: str = "720p", captions_burned: bool = True) -> str:
    """``<video>`` with poster and captions track, then download links for every shape. The track is
    on by default only when the picture has no captions of its own: a viewer sees exactly one layer
    of the words (burned in for the share files, which play where no track travels with them)."""
    width, height = video.SIZES[(main_shape, resolution)]
    downloads = [{"name": video_name(shape_name), "shape": shape_name, "size": video.SIZES[(shape_name, resolution)],
                  "megabytes": _megabytes(path)} for shape_name, path in files]
    return fragment(SECTION, labels=labels, language=language, track_label=LANGUAGE_NAMES.get(language, language),
                    poster=poster_name(main_shape), main=video_name(main_shape), width=width, height=height,
                    downloads=downloads, vtt=VTT_NAME, srt=SRT_NAME, captions_burned=captions_burned)


PAGE = """\
{% if summary %}
<p class="c35-lead">{{ summary }}</p>
{% endif %}
{{ section }}"""

SECTION = """\
<figure class="c35-video">
<video controls preload="none" playsinline poster="{{ poster }}" width="{{ width }}" height="{{ height }}" {#- -#}
{{ " " }}style="max-width:100%;height:auto">
<source src="{{ main }}" type="video/mp4">
<track kind="captions" srclang="{{ language }}" label="{{ track_label }}" src="{{ vtt }}"{% if not captions_burned %} default{% endif %}>
</video>
</figure>
<p class="c35-downloads">{{ labels("download") }}: {#- -#}
{% for file in downloads %}{{ " " if loop.first else " · " }}<a href="{{ file.name }}" download>{#- -#}
MP4 {{ file.shape }} ({{ file.size[0] }}×{{ file.size[1] }}, {{ file.megabytes }})</a>{% endfor %}{#- -#}
{{ " · " if downloads else " " }}<a href="{{ srt }}" download>SRT</a> · <a href="{{ vtt }}" download>WebVTT</a></p>"""


# --- rendering ---------------------------------------------------------------------------------

def _fail(params: Mapping[str, Any], where: str, message: str, detail: str = "") -> ProducerError:
    return ProducerError(f"{params['label']}: {where}: {message}", detail)


def _narrate(params: Mapping[str, Any], files: tuple[Path, ...], work: Path) -> list:
    """Per scene: (audio file, start in file or None, end in file or None, seconds, sentence timings
    or None), or None for a silent scene."""
    scenes = params["scenes"]
    language = params["language"]
    spoken = [i for i, s in enumerate(scenes) if s["narration"].strip()]
    if spoken:
        try:
            speech.voice_for(language)
        except ProducerError as exc:
            raise _fail(params, scenes[spoken[0]]["item"], f"narration: {exc.message}") from None

    def synthesise(index: int):
        out = work / f"narration-{index + 1:03d}.wav"
        text = scenes[index]["narration"]
        try:
            if params["subtitles"] == "narration":    # timed sentence by sentence, for the captions
                timings = speech.speech_timings(speech.split_sentences(text), language, out)
                return out, None, None, speech.wav_seconds(out), timings
            return out, None, None, speech.synthesize(text, language, out), None
        except ProducerError as exc:
            raise _fail(params, scenes[index]["item"], f"narration: {exc.message}", exc.detail) from None

    results: list = [None] * len(scenes)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for index, outcome in zip(spoken, pool.map(synthesise, spoken)):
            results[index] = outcome
    for index, scene in enumerate(scenes):
        span = scene["audio"]
        if span is None:
            continue
        path = files[span["file"]]
        where = f"{scene['item']}: narration_audio {span['path']!r}"
        try:
            info = audio.probe(path)
        except ProducerError as exc:
            raise _fail(params, where, exc.message, exc.detail) from None
        if span["start"] >= info.duration:
            raise _fail(params, where, f"starts at {span['start']:g} s but the recording lasts only "
                                       f"{info.duration:.2f} s")
        end = min(span["end"], info.duration)
        results[index] = (path, span["start"], end, end - span["start"], None)
    return results


def _durations(params: Mapping[str, Any], narration: list) -> tuple[list[float], list[str]]:
    warnings = []
    durations = []
    for scene, spoken in zip(params["scenes"], narration):
        needed = NARRATION_LEAD + spoken[3] + NARRATION_TAIL if spoken else None
        if needed is not None and needed > MAX_SCENE_SECONDS:
            raise _fail(params, scene["item"], f"the narration lasts {spoken[3]:.1f} s; a scene may last at most "
                                               f"{MAX_SCENE_SECONDS:.0f} s: split it over several scenes")
        given = scene["duration"]
        if given is not None and not MIN_SCENE_SECONDS <= given <= MAX_SCENE_SECONDS:
            raise _fail(params, scene["item"], f"duration {given:g} s is outside {MIN_SCENE_SECONDS:g} to "
                                               f"{MAX_SCENE_SECONDS:.0f} s")
        if given is None:
            durations.append(round(needed, 3))
        elif needed is not None and needed > given + 0.05:
            warnings.append(f"{params['label']}: {scene['item']}: the narration needs {needed:.1f} s but the duration "
                            f"is {given:g} s; the scene was lengthened to {needed:.1f} s so no word is cut")
            durations.append(round(needed, 3))
        else:
            durations.append(float(given))
    return durations, warnings


def _slide_picture(params: Mapping[str, Any], inputs: Mapping[str, Any], slide: Mapping[str, Any],
                   where: str) -> Image.Image:
    """The slide as the slides job drew it (1920×1080 PNG)."""
    pictures = inputs.get(_deck_alias(slide["deck"])) or {}
    path = pictures.get(slide_name(slide["number"]))
    if path is None:
        raise _fail(params, where, f"slide {slide['deck']}#{slide['number']}: the deck has no such slide")
    with Image.open(path) as image:
        return image.convert("RGB")


def _card_colours(primary: str) -> dict[str, str]:
    band = cards.hex_colour(cards.mix(primary, "#000000", 0.35))
    return {"ink": cards.readable_on(primary), "band": band, "band_ink": cards.readable_on(band)}


def clip_makers(params: Mapping[str, Any], files: tuple[Path, ...], frame: video.Shape,
                durations: Sequence[float], inputs: Mapping[str, Any] | None = None
                ) -> list[tuple[float, bool, Callable[[], tuple[Any, list[str]]]]]:
    """(duration, moving, make) per clip: title card, one per scene (caption burned in), end card.

    ``make()`` returns the clip ready to stream (its YUV already converted) and its warnings.
    ``inputs`` holds the slides jobs' outputs (by ``_deck_alias``), for slide scenes.
    """
    colours = _card_colours(params["primary"])
    fade = params["fade"]
    label = params["label"]

    def card(title: str, lines: list[str], seconds: float, cut_warning: str):
        def make():
            image, cut = video.card_image(frame, title, lines, params["primary"], params["accent"], **colours)
            return _ready(video.StillClip(image, seconds)), [cut_warning] if cut else []
        return make

    def scene_clip(index: int, scene: Mapping[str, Any], seconds: float):
        def make():
            warnings: list[str] = []
            where = scene["item"]
            overlay = video.caption_overlay(scene["caption"], frame)
            if overlay is not None and overlay.truncated:
                warnings.append(f"{label}: {where}: the caption is too long for the {frame.name} frame and "
                                f"was cut: {scene['caption'][:60]!r}")
            if scene["visual"] == "image":
                # Decode no larger than the frame needs (JPEG draft mode makes a 12 MP photo cheap).
                path = files[scene["file"]]
                needed = round(max(frame.size) * (video.KEN_BURNS_ZOOM if params["motion"] else 1.0))
                photo = open_photo(path, f"{label}: {where}: image {scene['path']!r}",
                                   max_edge=video.decode_edge(path, needed))
                warnings += list(photo.warnings)
                if params["motion"]:
                    canvas = video.picture_canvas(photo.image, frame, video.KEN_BURNS_ZOOM)
                    start, end = video.ken_burns_boxes(canvas.size, index)
                    return video.KenBurnsClip(canvas, frame.size, seconds, start, end, overlay,
                                              lead=fade / 2, tail=fade / 2), warnings
                picture = video.picture_canvas(photo.image, frame)
            elif scene["visual"] == "slide":
                slide = _slide_picture(params, inputs or {}, scene["slide"], where)
                picture = video.picture_canvas(slide, frame, backdrop="#111111")
            else:
                picture, cut = video.card_image(frame, scene["title"], [], params["primary"], params["accent"],
                                                **colours)
                if cut:
                    warnings.append(f"{label}: {where}: the title is too long for the card and was cut")
            return _ready(video.StillClip(overlay.over(picture) if overlay else picture, seconds)), warnings
        return make

    makers = []
    if params["cards"]["title"] > 0:
        makers.append((params["cards"]["title"], False,
                       card(params["title"], [params["cell"], params["date_text"]], params["cards"]["title"],
                            f"{label}: the title is too long for the title card and was cut")))
    for index, (scene, seconds) in enumerate(zip(params["scenes"], durations)):
        makers.append((seconds, params["motion"] and scene["visual"] == "image", scene_clip(index, scene, seconds)))
    if params["cards"]["end"] > 0:
        makers.append((params["cards"]["end"], False,
                       card(params["cell"], [params["date_text"], params["site"]], params["cards"]["end"],
                            f"{label}: the cell name is too long for the end card and was cut")))
    return makers


def _ready(clip: video.StillClip) -> video.StillClip:
    clip.frame(0.0)          # convert to YUV now, on the drawing thread
    return clip


def build_clips(params: Mapping[str, Any], files: tuple[Path, ...], frame: video.Shape,
                durations: Sequence[float], inputs: Mapping[str, Any] | None = None) -> tuple[list, list[str]]:
    """Every clip drawn now, in order (the benchmark's pre-drawn stills; tests)."""
    clips, warnings = [], []
    for _, _, make in clip_makers(params, files, frame, durations, inputs):
        clip, found = make()
        clips.append(clip)
        warnings += found
    return clips, warnings


def timeline(params: Mapping[str, Any], durations: Sequence[float]) -> tuple[list[float], float]:
    """Scene start times and the total length, cards included."""
    clock = params["cards"]["title"]
    starts = []
    for seconds in durations:
        starts.append(clock)
        clock += seconds
    return starts, clock + params["cards"]["end"]


def render_soundtrack(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action: what every shape shares. soundtrack.m4a (narration and music, ducked and normalised),
    timeline.json (each scene's length, the total) and captions.vtt/.srt."""
    label = params["label"]
    if not params["scenes"]:
        raise ProducerError(f"{label}: the storyboard has no scenes; a video needs at least one")
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".work.") as temp:
        work = Path(temp)
        narration = _narrate(params, files, work)
        durations, warnings = _durations(params, narration)
        starts, total = timeline(params, durations)
        if total > params["max_seconds"]:
            raise ProducerError(f"{label}: the video would last {total / 60:.1f} minutes; at most "
                                f"{params['max_seconds'] / 60:.0f} minutes are allowed")
        music = None
        if params["music"] is not None:
            music = files[params["music"]]
            try:
                audio.probe(music)
            except ProducerError as exc:
                raise ProducerError(f"{label}: music {params['music_path']!r}: {exc.message}", exc.detail) from None
        pieces = [video.NarrationPiece(spoken[0], start + NARRATION_LEAD, spoken[1], spoken[2])
                  for spoken, start in zip(narration, starts) if spoken]
        track = video.finish_audio(pieces, total, work, music, label)
        if track is None:
            video.silent_track(total, out_dir / SOUNDTRACK_NAME)
        else:
            os.replace(track, out_dir / SOUNDTRACK_NAME)
    cues = []
    for scene, start, seconds, spoken in zip(params["scenes"], starts, durations, narration):
        if scene["caption"].strip():
            cues.append(Cue(start, start + seconds, scene["caption"]))
        elif spoken and spoken[4]:
            at = start + NARRATION_LEAD
            cues += [Cue(at + begin, at + end, sentence) for begin, end, sentence in spoken[4]]
    write_webvtt(out_dir / VTT_NAME, cues, total)
    write_srt(out_dir / SRT_NAME, cues, total)
    (out_dir / TIMELINE_NAME).write_text(json.dumps({"durations": durations, "starts": starts, "total": total}))
    return warnings


def render_video(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path,
                 inputs: Mapping[str, Any]) -> list[str]:
    """Job action: video-<shape>.mp4 and poster-<shape>.jpg, on the soundtrack job's timeline and audio."""
    label = params["label"]
    if not params["scenes"]:
        raise ProducerError(f"{label}: the storyboard has no scenes; a video needs at least one")
    sound = inputs[SOUNDTRACK_STEP]
    timing = json.loads(sound[TIMELINE_NAME].read_text(encoding="utf-8"))
    durations = timing["durations"]
    frame = video.shape(params["shape"], params["resolution"], params["size"])
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".work.") as temp:
        encoded = Path(temp) / "video.mp4"
        with video.Drawer(clip_makers(params, files, frame, durations, inputs)) as drawer:
            try:
                video.encode_video(drawer.clips, frame.size, encoded, fps=params["fps"], fade=params["fade"])
            finally:
                drawer.close()
            warnings = list(drawer.warnings)
            first = drawer.clips[0].clip
        video.mux(encoded, sound[SOUNDTRACK_NAME], out_dir / video_name(frame.name))
        poster = first.image if isinstance(first, video.StillClip) else first.still(0.0)
        video.save_jpeg(poster, out_dir / poster_name(frame.name))
    return warnings


LABELS = {
    "en": {"kind.video": "Video"},
    "vi": {"kind.video": "Video"},
    "hi": {"kind.video": "वीडियो"},
}

SCAFFOLD = Scaffold({"title": "Video", "scenes": [{"title": "Title card", "caption": "A caption", "duration": 4}]})


def playing_time(ctx: ProductContext, results: Mapping[str, JobResult]) -> float:
    """The film's length: the soundtrack's timeline total (every shape plays the same timeline)."""
    timeline = results[ctx.job_name(SOUNDTRACK_STEP)].outputs[TIMELINE_NAME]
    return float(json.loads(timeline.read_text(encoding="utf-8"))["total"])


def poster(ctx: ProductContext, jobs) -> tuple[str, str] | None:
    """The film's picture in listings: the poster of its first shape (a frame of the film)."""
    return next(((job.name, name) for job in jobs for name in job.outputs if name.startswith("poster-")), None)


KIND = Kind("video", model=VideoProduct, producer=VideoProducer(), labels=LABELS, scaffold=SCAFFOLD,
            report_colour="#ef6c00", duration=playing_time, thumbnail=poster)
