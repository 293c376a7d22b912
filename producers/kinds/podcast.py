"""Podcast episodes: a recording (or a script read by espeak-ng) -> a tagged, chaptered, normalised MP3.

One job per episode renders everything that depends on the final audio: the MP3 with ID3v2 tags
and CHAP/CTOC chapter frames (some apps read chapters only from the file), the Podcasting 2.0
JSON chapters, the transcript as WebVTT and SRT, and ``episode.json`` (duration, size, loudness,
chapters, cues) from which the page and the feed entries are made without touching the audio.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Mapping

from pydantic import Field, field_validator, model_validator
from mutagen.id3 import (APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TLAN, TLEN, TPE1, TPE2, TXXX,
                         CTOCFlags)

from producers.media import audio, speech, tools
from producers.media.captions import Cue, parse_subtitles, read_text_file, write_srt, write_webvtt
from producers.errors import ProducerError
from producers.media.artwork import artwork_bytes, check_artwork
from producers.web.html import markdown_to_html
from producers.web.i18n import Labels
from producers.web.templates import Markup, fragment
from producers.content.markdown import spoken_blocks, spoken_text
from producers.jobs.pipeline import Job, JobResult
from producers.kinds import cards
from producers.kinds.base import Kind, ProductContext, ProductPage
from producers.content.model import Line, MediaPath, ProductBase, Strict, cap_message, text as text_field
from producers.content.scaffold import Scaffold
from producers.errors import Problem

MAX_EPISODE_MINUTES = 180         # a podcast episode; longer is surely a phone left recording
MAX_EPISODE_SECONDS = MAX_EPISODE_MINUTES * 60
MAX_SCRIPT_CHARS = 150_000        # a script episode's text: ~3 hours of espeak-ng at its default rate
ACCEPTED_AUDIO = (".mp3", ".m4a", ".wav", ".ogg", ".opus", ".flac")
MAX_SECONDS = MAX_EPISODE_SECONDS  # the model's cap, checked again on the real duration of a recording
MAX_MUSIC_SECONDS = 120           # intro/outro music is a sting, not a programme
MIN_SECONDS = 1.0
TARGET_STEREO, TARGET_MONO = -16.0, -19.0     # LUFS integrated; mono is 3 LU lower (AES TD1004)
MUSIC_BELOW_SPEECH = 3.0                      # LU: music sits under the voice
TRUE_PEAK = -1.5                              # dBTP; the requirement is <= -1
BITRATE = {1: "64k", 2: "96k"}
ARTWORK_ID3_SIZE = 600            # px: cover art inside the MP3 stays small for slow links
INTRO_TITLE = {"en": "Intro", "vi": "Nhạc mở đầu", "hi": "परिचय संगीत"}
ID3_LANGUAGE = {"en": "eng", "vi": "vie", "hi": "hin"}
OUTPUTS = ("episode.mp3", "episode.json")


MAX_DESCRIPTION_BYTES = 4000
# Fixed forever: changing it would change every episode GUID ever published.
EPISODE_GUID_NAMESPACE = uuid.UUID("5b8e3c1e-2f4a-5d6b-9c7e-0a1b2c3d4e5f")
EPISODE_HOUR_UTC = 12                        # pubDate = session date at noon UTC + product number minutes


def clock_seconds(clock: str) -> float:
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + float(part)
    return total


class Chapter(Strict):
    start: text_field(pattern=r"^(\d+:)?\d{1,2}:\d{2}(\.\d+)?$")
    title: Line

    @field_validator("start", mode="before")
    @classmethod
    def _seconds_to_clock(cls, value):
        # YAML 1.1 reads an unquoted 1:30 as the base-60 number 90: it meant 90 seconds all along.
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            minutes, seconds = divmod(float(value), 60)
            hours, minutes = divmod(int(minutes), 60)
            clock = f"{minutes:02d}:{seconds:06.3f}".rstrip("0").rstrip(".")
            return f"{hours}:{clock}" if hours else clock
        return value

    @field_validator("start")
    @classmethod
    def _within_an_episode(cls, value: str) -> str:
        if clock_seconds(value) >= MAX_EPISODE_SECONDS:
            raise ValueError(f"starts at {value}, after the end of the longest possible episode; the cap is "
                             f"{MAX_EPISODE_MINUTES:,} minutes per episode: split the recording into two "
                             "episodes (a second podcast product, like 02-podcast.md)")
        return value

    @property
    def seconds(self) -> float:
        return clock_seconds(self.start)


class Person(Strict):
    name: Line
    role: Line = "host"


class PodcastProduct(ProductBase):
    type: Literal["podcast"]
    audio: MediaPath | None = None
    transcript: MediaPath | None = None
    chapters: Annotated[list[Chapter], Field(max_length=100)] = []
    persons: Annotated[list[Person], Field(max_length=20)] = []
    episode: Annotated[int, Field(ge=1)] | None = None
    season: Annotated[int, Field(ge=1)] | None = None
    explicit: bool = False
    cover: MediaPath | None = None

    @model_validator(mode="after")
    def _chapters_ordered(self) -> "PodcastProduct":
        starts = [c.seconds for c in self.chapters]
        if starts != sorted(starts):
            raise ValueError("chapters must be listed in order of their start times")
        if self.transcript and not self.audio:
            raise ValueError("an uploaded transcript belongs to a recording; a script episode's "
                             "transcript is made from its text")
        return self

    BODY_IMAGES: ClassVar[str | None] = "not shown"

    def needs_body(self) -> bool:
        return not self.audio            # a script episode is its text

    def body_problems(self, body: str, body_line: int, display: str) -> list[Problem]:
        if self.audio or len(body) <= MAX_SCRIPT_CHARS:
            return []
        return [Problem(display, body_line, "(body)", cap_message(
            "the script has", len(body), MAX_SCRIPT_CHARS, "characters",
            "per episode (about 3 hours read aloud): split it into two episodes (a second podcast product, "
            "like 02-podcast.md, or a session of its own)"))]


@dataclass(frozen=True)
class Episode:
    """One published episode, as every feed that lists it sees it. URLs are absolute."""

    title: str
    page_url: str
    enclosure_url: str
    length: int                              # bytes of the MP3
    duration: float                          # seconds
    pub_date: dt.datetime                    # timezone-aware
    guid: str
    language: str
    cell: str                                # cell id
    description: str                         # plain text (escaped on its way into the feed)
    cell_name: str = ""
    transcript_url: str | None = None        # WebVTT
    transcript_srt_url: str | None = None
    chapters_url: str | None = None          # Podcasting 2.0 JSON chapters
    chapters: tuple[tuple[float, str], ...] = ()
    persons: tuple[tuple[str, str], ...] = ()   # (name, role)
    image_url: str | None = None
    episode: int | None = None
    season: int | None = None
    explicit: bool = False
    author: str = ""
    notes_html: str = ""                     # show notes as HTML (sanitised again on its way into the feed)


def episode_guid(session_id: str, stem: str) -> str:
    """The episode's permanent GUID, from its identity: '2024-q4/ha-long-security' + '02-podcast'."""
    return str(uuid.uuid5(EPISODE_GUID_NAMESPACE, f"{session_id}/{stem}"))


def episode_pub_date(date: dt.date, stem: str) -> dt.datetime:
    """The session date at noon UTC, plus a minute per product number so a session's episodes keep order."""
    number = int(stem[:2]) if stem[:2].isdigit() else 0
    return dt.datetime(date.year, date.month, date.day, EPISODE_HOUR_UTC, number, tzinfo=dt.timezone.utc)


def clip_utf8(text: str, limit: int = MAX_DESCRIPTION_BYTES) -> str:
    """``text`` within ``limit`` UTF-8 bytes, cut at a character (and if possible word) boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    room = limit - len("…".encode("utf-8"))
    cut = encoded[:room].decode("utf-8", "ignore")
    space = cut.rfind(" ")
    if space > len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"



class PodcastProducer:
    def plan(self, ctx: ProductContext) -> list[Job]:
        product: PodcastProduct = ctx.record.product
        files: list[Path] = []
        roles: list[str] = []

        def add(path: Path, role: str) -> None:
            files.append(path)
            roles.append(role)

        if product.audio:
            add(ctx.media(product.audio), "audio")
        if product.transcript:
            add(ctx.media(product.transcript), "transcript")
        podcast = ctx.site.podcast
        if podcast and podcast.intro_music:
            add(ctx.content_root / podcast.intro_music, "intro")
        if podcast and podcast.outro_music:
            add(ctx.content_root / podcast.outro_music, "outro")
        if product.cover:
            add(ctx.media(product.cover), "cover")
        elif podcast:
            add(ctx.content_root / podcast.image, "site_cover")
        script_chapters = [] if product.audio else script_blocks(ctx.record.body)
        has_transcript = bool(product.transcript) or not product.audio
        has_chapters = bool(product.chapters) or any(heading for _, heading in script_chapters)
        outputs = list(OUTPUTS)
        if has_transcript:
            outputs += ["transcript.vtt", "transcript.srt"]
        if has_chapters:
            outputs.append("chapters.json")
        if product.cover:
            outputs.append("cover.jpg")
        params = {
            "product": ctx.record.display,
            "title": product.title,
            "summary": product.summary,
            "cell": ctx.cell.id,
            "cell_name": ctx.cell.name,
            "show": podcast.title if podcast else ctx.site.title,
            "date": ctx.session.session.date.isoformat(),
            "language": ctx.record.language,
            "script": "" if product.audio else ctx.record.body,
            "chapters": [[c.seconds, c.title, c.start] for c in product.chapters],
            "authors": list(product.authors),
            "roles": roles,
            "outputs": outputs,
            "guid": episode_guid(ctx.session.id, ctx.record.stem),
            "max_seconds": MAX_SECONDS,       # the cap travels with the job: it runs in another process
        }
        tool_names = ("ffmpeg", "ffprobe") + (() if product.audio else ("espeak-ng",))
        return [Job(name=ctx.job_name("episode"), kind="podcast", action=render_episode, params=params,
                    files=tuple(files), outputs=tuple(outputs), tools=tool_names, timeout=3600),
                cards.card_job(ctx)]     # the episode page's share image (og:image), as videos have

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        result = results.get(ctx.job_name("episode"))
        if result is None or result.status == "failed":
            raise ProducerError(f"{ctx.record.display}: the episode did not render"
                                + (f": {result.error}" if result else ""))
        meta = json.loads(result.outputs["episode.json"].read_text(encoding="utf-8"))
        names = published_names(ctx)
        media = {names[key]: path for key, path in result.outputs.items() if key in names}
        card = results.get(ctx.job_name("card"))
        if card is not None and card.status != "failed":
            media.update(card.outputs)
        return ProductPage(html=episode_html(ctx, meta, names, labels), media=media,
                           warnings=tuple(result.warnings), card=cards.CARD_NAME if cards.CARD_NAME in media else None)

    def episode(self, ctx: ProductContext, results: Mapping[str, JobResult]) -> Episode:
        """The feed record of a rendered episode (the site build collects these for build_feeds)."""
        result = results[ctx.job_name("episode")]
        meta = json.loads(result.outputs["episode.json"].read_text(encoding="utf-8"))
        product: PodcastProduct = ctx.record.product
        names = published_names(ctx)
        base = ctx.absolute_url

        def url(key: str) -> str | None:
            return base + names[key] if key in result.outputs else None

        description = product.summary or spoken_text(ctx.record.body).strip() or product.title
        return Episode(
            title=product.title, page_url=base, enclosure_url=base + names["episode.mp3"],
            length=result.outputs["episode.mp3"].stat().st_size, duration=meta["duration"],
            pub_date=episode_pub_date(ctx.session.session.date, ctx.record.stem),
            guid=episode_guid(ctx.session.id, ctx.record.stem), language=ctx.record.language,
            cell=ctx.cell.id, cell_name=ctx.cell.name, description=clip_utf8(description),
            transcript_url=url("transcript.vtt"), transcript_srt_url=url("transcript.srt"),
            chapters_url=url("chapters.json"),
            chapters=tuple((c["start"], c["title"]) for c in meta["chapters"]),
            persons=tuple((p.name, p.role) for p in product.persons), image_url=url("cover.jpg"),
            episode=product.episode, season=product.season, explicit=product.explicit,
            author=", ".join(product.authors) or ctx.cell.name,
            # a recording's body is its show notes (as on the page); a script's is the transcript
            notes_html=markdown_to_html(ctx.record.body) if product.audio and ctx.record.body.strip() else "")


def published_names(ctx: ProductContext) -> dict[str, str]:
    """Cache output name -> published file name: a download saved by a listener says what it is."""
    base = f"{ctx.session.slug}-{ctx.record.stem[3:] or ctx.record.stem}"
    return {"episode.mp3": f"{base}.mp3", "transcript.vtt": f"{base}.vtt", "transcript.srt": f"{base}.srt",
            "chapters.json": f"{base}.chapters.json", "cover.jpg": f"{base}.jpg"}


# --- the script ------------------------------------------------------------------------------

def script_blocks(body: str) -> list[tuple[str, bool]]:
    """The script as (plain text, is_heading) blocks in reading order; headings become chapters."""
    return spoken_blocks(body)


# --- the render job --------------------------------------------------------------------------

def render_episode(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action: the whole episode. Every error names the product file and the item at fault."""
    product = params["product"]
    inputs = dict(zip(params["roles"], files))
    warnings: list[str] = []
    work = out_dir / "work"
    work.mkdir()
    language = params["language"]
    # Artwork is checked first: a wrong-sized cover should not cost minutes of audio work to find.
    cover = inputs.get("cover") or inputs.get("site_cover")
    cover_what = f"{product} cover" if "cover" in inputs else "site.yml podcast.image"
    if cover is not None:
        check_artwork(cover, cover_what)

    # 1. The spoken part: a recording, or the script read aloud.
    chapters: list[tuple[float, str]] = [(float(s), title) for s, title, _ in params["chapters"]]
    cues: list[Cue] = []
    source_info: audio.AudioInfo | None = None        # the recording's probe, passed on rather than run again
    if "audio" in inputs:
        source = inputs["audio"]
        name = f"{product} audio ({source.name})"
        if source.suffix.lower() not in ACCEPTED_AUDIO:
            raise ProducerError(f"{name}: {source.suffix} is not an accepted audio type; use one of "
                                f"{', '.join(ACCEPTED_AUDIO)}", field="audio")
        info = source_info = _probe(source, name)
        if info.has_video:
            raise ProducerError(f"{name} is a video file ({info.format_name}); a podcast needs the sound only: "
                                f"upload an audio file ({', '.join(ACCEPTED_AUDIO)})", field="audio")
        _check_length(info.duration, name, params["max_seconds"])
        channels = 1 if info.channels == 1 else 2
        if "transcript" in inputs:
            transcript = inputs["transcript"]
            cues = parse_subtitles(read_text_file(transcript, f"{product} transcript ({transcript.name})"),
                                   f"{product} transcript ({transcript.name})")
            late = [c for c in cues if c.start >= info.duration]
            if late:
                warnings.append(f"{product} transcript: {len(late)} cue(s) start after the recording ends "
                                f"({_mmss(info.duration)}); they were dropped")
                cues = [c for c in cues if c.start < info.duration]
        else:
            warnings.append(f"{product}: no transcript uploaded; add a .vtt or .srt as 'transcript' so that deaf "
                            "listeners and search can follow the episode")
        speech_duration = info.duration
    else:
        script = params["script"]
        if len(script) > MAX_SCRIPT_CHARS:
            raise ProducerError(f"{product}: the script is {len(script):,} characters; an episode script may be at "
                                f"most {MAX_SCRIPT_CHARS:,} (about 3 hours read aloud)", field="(body)")
        sentences: list[str] = []
        heading_at: list[tuple[int, str]] = []
        for text, is_heading in script_blocks(script):
            if is_heading:
                heading_at.append((len(sentences), text))
            sentences += speech.split_sentences(text)
        if not sentences:
            raise ProducerError(f"{product}: the script is empty; write the text to be read below the front "
                                "matter, or give an 'audio' recording", field="(body)")
        source = work / "speech.wav"
        timings = speech.speech_timings(sentences, language, source)
        cues = [Cue(start, end, text) for start, end, text in timings]
        if not chapters:
            chapters = [(timings[i][0] if i < len(timings) else timings[-1][1], title) for i, title in heading_at]
        speech_duration = speech.wav_seconds(source)
        _check_length(speech_duration, f"{product} script read aloud", params["max_seconds"])
        channels = 1
        name = f"{product} script"

    for number, (start, title) in enumerate(chapters, 1):
        if start >= speech_duration:
            raise ProducerError(f"{product} chapter {number} ({title!r}) starts at {_mmss(start)}, but the "
                                f"episode ends at {_mmss(speech_duration)}", field="chapters")

    # 2. Loudness, then intro/outro music around the voice.
    target = TARGET_MONO if channels == 1 else TARGET_STEREO
    mp3 = out_dir / "episode.mp3"
    if "intro" in inputs or "outro" in inputs:
        voice = work / "voice.wav"
        audio.normalise(source, voice, target_lufs=target, true_peak=TRUE_PEAK, channels=channels, what=name,
                        info=source_info)
        parts, offset = [], 0.0
        for role in ("intro", "outro"):
            if role in inputs:
                music = work / f"{role}.wav"
                _prepare_music(inputs[role], music, role, target - MUSIC_BELOW_SPEECH, channels)
                parts.append((role, music))
        intro = next((p for r, p in parts if r == "intro"), None)
        outro = next((p for r, p in parts if r == "outro"), None)
        if intro:
            offset = audio.probe(intro).duration
        joined = work / "joined.wav"
        _concat([p for p in (intro, voice, outro) if p], joined)
        loudness = audio.normalise(joined, mp3, target_lufs=target, true_peak=TRUE_PEAK, channels=channels,
                                   bitrate=BITRATE[channels], compress=False, what=name)
        chapters = [(start + offset, title) for start, title in chapters]
        cues = [Cue(c.start + offset, c.end + offset, c.text) for c in cues]
        if intro and chapters and chapters[0][0] > 0:
            chapters.insert(0, (0.0, INTRO_TITLE.get(language, INTRO_TITLE["en"])))
    else:
        loudness = audio.normalise(source, mp3, target_lufs=target, true_peak=TRUE_PEAK, channels=channels,
                                   bitrate=BITRATE[channels], what=name, info=source_info)
    duration = audio.probe(mp3).duration

    # 3. Side files: transcript, chapters, cover.
    outputs = params["outputs"]
    if "transcript.vtt" in outputs:
        # An uploaded transcript may have two speakers at once (overlapping cues), in any order.
        cues = sorted(cues, key=lambda c: (c.start, c.end))
        try:
            cues = write_webvtt(out_dir / "transcript.vtt", cues, overlap=True, language=language)
            write_srt(out_dir / "transcript.srt", cues, overlap=True)
        except ProducerError as exc:
            raise ProducerError(f"{product} transcript: {exc.message}", field="transcript") from None
    if "chapters.json" in outputs:
        if not chapters:   # planned from headings that turned out empty once read
            chapters = [(0.0, params["title"])]
        chapter_doc = {"version": "1.2.0", "title": params["title"],
                       "chapters": [{"startTime": round(start, 3), "title": title} for start, title in chapters]}
        (out_dir / "chapters.json").write_text(json.dumps(chapter_doc, ensure_ascii=False, indent=1),
                                               encoding="utf-8")
    if "cover.jpg" in outputs:
        (out_dir / "cover.jpg").write_bytes(artwork_bytes(cover, cover_what))

    # 4. Tags and chapter frames, written into the MP3 last (the encoder wrote none: -map_metadata -1).
    write_tags(mp3, params, duration, chapters, cover, cover_what)

    meta = {"duration": round(duration, 3), "bytes": mp3.stat().st_size, "channels": channels,
            "bitrate": BITRATE[channels], "target_lufs": target,
            "loudness": {"integrated": loudness.integrated, "peak_ceiling": loudness.peak_ceiling,
                         "lra": loudness.lra},
            "chapters": [{"start": round(s, 3), "title": t} for s, t in chapters],
            "cues": [[round(c.start, 3), round(c.end, 3), c.text] for c in cues],
            "source": "recording" if "audio" in inputs else "script", "files": sorted(outputs)}
    (out_dir / "episode.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    for leftover in work.iterdir():
        leftover.unlink()
    work.rmdir()
    return warnings


def _probe(path: Path, name: str) -> audio.AudioInfo:
    try:
        return audio.probe(path, name)
    except ProducerError as exc:
        raise ProducerError(exc.message, exc.detail, field="audio") from None


def _check_length(seconds: float, name: str, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise ProducerError(f"{name} lasts {_mmss(seconds)}; an episode may be at most {_mmss(max_seconds)}. "
                            "Split it into several episodes, or trim the silence at the end", field="audio")
    if seconds < MIN_SECONDS:
        raise ProducerError(f"{name} lasts only {seconds:.2f} s; is the right file attached?", field="audio")


def _prepare_music(path: Path, out: Path, role: str, target: float, channels: int) -> None:
    what = f"site.yml podcast.{role}_music ({path.name})"
    info = _probe(path, what)
    if info.has_video:
        raise ProducerError(f"{what} is a video file; use an audio file", field=f"{role}_music")
    if info.duration > MAX_MUSIC_SECONDS:
        raise ProducerError(f"{what} lasts {_mmss(info.duration)}; intro/outro music may be at most "
                            f"{MAX_MUSIC_SECONDS} s", field=f"{role}_music")
    faded = out.with_name(f"{role}.faded.wav")
    fade = min(1.5, info.duration / 3)
    curve = f"afade=t=out:st={info.duration - fade:.3f}:d={fade:.3f}" if role == "intro" else f"afade=t=in:d={fade:.3f}"
    tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-y", *audio.input_args(path, what), "-map", "0:a:0",
               "-af", curve, "-c:a", "pcm_s16le", faded], outputs=[faded], timeout=300, what=f"ffmpeg fade ({what})")
    audio.normalise(faded, out, target_lufs=target, true_peak=TRUE_PEAK, channels=channels, compress=False,
                    what=what)


def _concat(parts: list[Path], out: Path) -> None:
    args: list[str | Path] = ["ffmpeg", "-nostdin", "-hide_banner", "-y"]
    for part in parts:
        args += audio.input_args(part)
    streams = "".join(f"[{i}:a]" for i in range(len(parts)))
    args += ["-filter_complex", f"{streams}concat=n={len(parts)}:v=0:a=1[a]", "-map", "[a]", "-c:a", "pcm_s16le", out]
    tools.run(args, outputs=[out], timeout=1800, what="ffmpeg concat (intro/outro)")


def write_tags(mp3: Path, params: Mapping[str, Any], duration: float, chapters: list[tuple[float, str]],
               cover: Path | None, cover_what: str) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=3, text=params["title"]))
    tags.add(TPE1(encoding=3, text=", ".join(params["authors"]) or params["cell_name"]))
    tags.add(TPE2(encoding=3, text=params["cell_name"]))
    tags.add(TALB(encoding=3, text=params["show"]))
    tags.add(TDRC(encoding=3, text=params["date"]))
    tags.add(TLAN(encoding=3, text=ID3_LANGUAGE.get(params["language"], params["language"])))
    tags.add(TCON(encoding=3, text="Podcast"))
    tags.add(TLEN(encoding=3, text=str(int(duration * 1000))))
    tags.add(TXXX(encoding=3, desc="cell", text=params["cell"]))
    tags.add(TXXX(encoding=3, desc="guid", text=params["guid"]))
    if params["summary"]:
        tags.add(COMM(encoding=3, lang=ID3_LANGUAGE.get(params["language"], "eng"), desc="", text=params["summary"]))
    if cover is not None:
        tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover",
                      data=artwork_bytes(cover, cover_what, size=ARTWORK_ID3_SIZE)))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                      sub_frames=[TIT2(encoding=3, text=params["title"])]))
        total_ms = int(duration * 1000)
        for i, (start, title) in enumerate(chapters):
            end = chapters[i + 1][0] if i + 1 < len(chapters) else duration
            tags.add(CHAP(element_id=ids[i], start_time=int(start * 1000), end_time=min(int(end * 1000), total_ms),
                          start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF,
                          sub_frames=[TIT2(encoding=3, text=title)]))
    tags.save(mp3, v2_version=4)


# --- the page --------------------------------------------------------------------------------

def _mmss(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.0f} kB"


def episode_html(ctx: ProductContext, meta: Mapping[str, Any], names: Mapping[str, str], labels: Labels) -> str:
    """Player, download link, chapter buttons that seek (podcast.js), and the transcript as text."""
    product: PodcastProduct = ctx.record.product
    show_notes = None
    if product.audio and ctx.record.body.strip():
        # A recording's body is its show notes; a script's body is already the transcript below.
        show_notes = Markup(markdown_to_html(ctx.record.body))
    return fragment(PAGE, labels=labels, product=product, names=names, mmss=_mmss,
                    cover="cover.jpg" in meta.get("files", ()),
                    download=labels("podcast_download", size=_size(meta["bytes"]), duration=_mmss(meta["duration"])),
                    transcript_files="transcript.vtt" in names and meta["cues"], show_notes=show_notes,
                    chapters=meta["chapters"], cues=meta["cues"], language=ctx.record.language)


PAGE = """\
<div class="c35-podcast" data-c35-podcast>
{% if product.summary %}
<p class="c35-lead">{{ product.summary }}</p>
{% endif %}
{% if cover %}
<img class="c35-podcast-cover" src="{{ names["cover.jpg"] }}" alt="{{ product.title }}" width="300" height="300" {#- -#}
{{ " " }}loading="lazy">
{% endif %}
<audio controls preload="none" src="{{ names["episode.mp3"] }}" data-c35-player>{#- -#}
<a href="{{ names["episode.mp3"] }}">{{ product.title }}</a></audio>
<p class="c35-podcast-links"><a href="{{ names["episode.mp3"] }}" download>{{ download }}</a>{#- -#}
{% if transcript_files %}<br>{{ labels("podcast_transcript") }}: {#- -#}
{{ " " }}<a href="{{ names["transcript.vtt"] }}" download>WebVTT</a> · {#- -#}
{{ " " }}<a href="{{ names["transcript.srt"] }}" download>SRT</a>{% endif %}</p>
{% if show_notes %}
<div class="c35-show-notes">{{ show_notes }}</div>
{% endif %}
{% if chapters %}
<h2>{{ labels("podcast_chapters") }}</h2>
<ol class="c35-chapters">
{% for chapter in chapters %}
<li><button type="button" data-start="{{ "%.3f" | format(chapter.start) }}">{#- -#}
<span class="c35-time">{{ mmss(chapter.start) }}</span> {{ chapter.title }}</button></li>
{% endfor %}
</ol>
{% endif %}
{% if cues %}
<h2>{{ labels("podcast_transcript") }}</h2>
<div class="c35-transcript" lang="{{ language }}">
{% for start, _end, text in cues %}
<p><button type="button" class="c35-time" data-start="{{ "%.3f" | format(start) }}">{{ mmss(start) }}</button> {{ text }}</p>
{% endfor %}
</div>
{% endif %}
</div>"""

LABELS = {
    "en": {"kind.podcast": "Podcast", "podcast_download": "Download the episode (MP3, {size}, {duration})",
           "podcast_transcript": "Transcript", "podcast_chapters": "Chapters"},
    "vi": {"kind.podcast": "Podcast", "podcast_download": "Tải tập này (MP3, {size}, {duration})",
           "podcast_transcript": "Bản ghi lời", "podcast_chapters": "Các phần"},
    "hi": {"kind.podcast": "पॉडकास्ट", "podcast_download": "एपिसोड डाउनलोड करें (MP3, {size}, {duration})",
           "podcast_transcript": "प्रतिलेख", "podcast_chapters": "अध्याय"},
}

SCAFFOLD = Scaffold({"title": "Podcast episode"}, "The script to be read aloud, or add `audio: media/episode.mp3`.\n")


def listing_picture(ctx: ProductContext, jobs) -> tuple[str, str] | Path | None:
    """The episode's own artwork, else the podcast's (episodes have no share card)."""
    if ctx.record.product.cover:
        return ctx.job_name("episode"), "cover.jpg"
    return ctx.content_root / ctx.site.podcast.image if ctx.site.podcast else None


def playing_time(ctx: ProductContext, results: Mapping[str, JobResult]) -> float:
    meta = json.loads(results[ctx.job_name("episode")].outputs["episode.json"].read_text(encoding="utf-8"))
    return float(meta["duration"])


PRODUCER = PodcastProducer()
KIND = Kind("podcast", model=PodcastProduct, producer=PRODUCER, labels=LABELS, scaffold=SCAFFOLD,
            report_colour="#2e7d32", feed_entry=PRODUCER.episode, thumbnail=listing_picture,
            duration=playing_time)
