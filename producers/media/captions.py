"""Timed captions as WebVTT and SRT sidecar files: the one writer for video captions and podcast
transcripts alike, and the one reader of the transcripts cells upload (WebVTT or SRT, for a podcast
or a finished video clip).

Cue text is plain text: it is escaped for WebVTT (``&``, ``<``, ``>``), ``-->`` cannot end a cue
timing line early, and a blank line inside a cue (which would end the cue early in both formats) is
folded into a single line break. webvtt-py (a test dependency) reads what this writes back.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from producers.errors import ProducerError
from producers.files import atomic_write_text


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def timestamp(seconds: float, separator: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or ``HH:MM:SS,mmm`` (SRT), rounded to the millisecond."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _clean(text: str) -> str:
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def checked(cues: Iterable[Cue], duration: float | None = None, overlap: bool = False) -> list[Cue]:
    """Cues with text, in order, none overlapping the next (unless ``overlap``: two speakers at once in
    an uploaded transcript), all inside ``duration``; else an error."""
    result = [Cue(c.start, c.end, _clean(c.text)) for c in cues]
    result = [c for c in result if c.text]
    previous_end = 0.0
    for number, cue in enumerate(result, start=1):
        if cue.end <= cue.start:
            raise ProducerError(f"caption {number} ends ({cue.end:.3f} s) before it starts ({cue.start:.3f} s)")
        if not overlap and cue.start < previous_end - 1e-6:
            raise ProducerError(f"caption {number} starts at {cue.start:.3f} s, before caption {number - 1} "
                                f"ends ({previous_end:.3f} s)")
        if duration is not None and cue.end > duration + 1e-3:
            raise ProducerError(f"caption {number} ends at {cue.end:.3f} s, after the end of the media "
                                f"({duration:.3f} s)")
        previous_end = cue.end
    return result


def _vtt_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"-->", "--&gt;", text)


def webvtt(cues: Sequence[Cue], language: str | None = None) -> str:
    blocks = ["WEBVTT" + (f"\nLanguage: {language}" if language else "")]
    for number, cue in enumerate(cues, start=1):
        blocks.append(f"{number}\n{timestamp(cue.start)} --> {timestamp(cue.end)}\n{_vtt_text(cue.text)}")
    return "\n\n".join(blocks) + "\n"


def srt(cues: Sequence[Cue]) -> str:
    blocks = []
    for number, cue in enumerate(cues, start=1):
        # SubRip has no escapes: a "-->" in the text would read as a timing line.
        text = cue.text.replace("-->", "→")
        blocks.append(f"{number}\n{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}\n{text}")
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def write_webvtt(path: Path, cues: Iterable[Cue], duration: float | None = None, *, overlap: bool = False,
                 language: str | None = None) -> list[Cue]:
    final = checked(cues, duration, overlap)
    atomic_write_text(Path(path), webvtt(final, language))
    return final


def write_srt(path: Path, cues: Iterable[Cue], duration: float | None = None, *, overlap: bool = False) -> list[Cue]:
    final = checked(cues, duration, overlap)
    atomic_write_text(Path(path), srt(final))
    return final


# --- reading an uploaded transcript ---------------------------------------------------------

_TIMING = re.compile(r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_TAGS = re.compile(r"<(v(?:\.[^ >]*)?)\s+([^>]+)>|<[^>]*>")


def _clock(text: str) -> float:
    parts = text.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def parse_subtitles(text: str, what: str) -> list[Cue]:
    """Cues of an uploaded WebVTT or SRT file; errors name the file and line."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    # WebVTT escapes & < > as entities; the cue text kept here is plain (captions.py escapes it again).
    plain = html.unescape if text.startswith("WEBVTT") else (lambda line: line)
    lines = text.split("\n")
    cues: list[Cue] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "-->" in line:
            match = _TIMING.match(line)
            if not match:
                raise ProducerError(f"{what} line {index + 1}: cannot read the cue timing {line.strip()!r}; "
                                    "write it like 00:01:02.500 --> 00:01:05.000", field="transcript")
            start, end = _clock(match.group(1)), _clock(match.group(2))
            if end <= start:
                raise ProducerError(f"{what} line {index + 1}: the cue ends ({match.group(2)}) before it starts "
                                    f"({match.group(1)})", field="transcript")
            body: list[str] = []
            index += 1
            while index < len(lines) and lines[index].strip():
                # A VTT voice tag <v Name> keeps the speaker's name; other tags (<b>, <c.x>) go.
                body.append(plain(_TAGS.sub(lambda m: f"{m.group(2)}: " if m.group(1) else "", lines[index])).strip())
                index += 1
            cue_text = " ".join(part for part in body if part)
            if cue_text:
                cues.append(Cue(start, end, cue_text))
        index += 1
    if not cues:
        raise ProducerError(f"{what}: no cues found; a transcript is a WebVTT (.vtt) or SubRip (.srt) file with "
                            "timed lines like 00:00:01.000 --> 00:00:04.000", field="transcript")
    return cues


def read_text_file(path: Path, what: str) -> str:
    """UTF-8 (or UTF-16 with its byte-order mark) text; anything else is refused, never mis-decoded."""
    data = path.read_bytes()
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProducerError(f"{what} is not UTF-8 text (byte {exc.start}); save it again as UTF-8 "
                            "(in most editors: Save as, Encoding: UTF-8)", field="transcript") from None
