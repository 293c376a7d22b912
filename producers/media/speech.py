"""Text to speech with espeak-ng, shared by podcasts (scripts read aloud) and videos (narration).

espeak-ng writes 22,050 Hz mono 16-bit WAV. Sentences are synthesised one at a time and joined here
with a short pause, so every sentence's start and end are known exactly: captions and transcripts
are timed from the audio itself, not estimated from word counts.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import unicodedata
import wave
from pathlib import Path

from producers.media import tools
from producers.errors import ProducerError

# Product language -> espeak-ng voice. Northern Vietnamese is espeak-ng's default `vi`.
VOICES: dict[str, str] = {"en": "en-us", "vi": "vi", "hi": "hi"}

SENTENCE_PAUSE = 0.35        # seconds of silence between sentences: a listener's breath
MAX_SENTENCE_CHARS = 600     # espeak-ng copes, but captions of this length are unreadable anyway

# A sentence ends at . ! ? … or the Devanagari danda/double danda (with any closing quote or
# bracket), followed by white space.
_SENTENCE_END = re.compile(r"[.!?…।॥]+[\"'”’)\]]*(?=\s)")


@functools.cache
def installed_voices() -> frozenset[str]:
    """Every voice name and language code espeak-ng reports (``espeak-ng --voices``)."""
    result = tools.run(["espeak-ng", "--voices"], timeout=30, what="espeak-ng --voices")
    names: set[str] = set()
    for line in result.stdout.decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5:
            names.add(fields[1])                       # language code, e.g. en-us
            names.add(fields[4].rsplit("/", 1)[-1])    # voice file name, e.g. en-US
    return frozenset(names)


def voice_for(language: str) -> str:
    """The espeak-ng voice for a product language, or a ProducerError saying what exists."""
    voice = VOICES.get(language)
    available = installed_voices()
    if voice is None or voice not in available:
        known = ", ".join(f"{lang} ({name})" for lang, name in sorted(VOICES.items()) if name in available)
        reason = "has no voice configured" if voice is None else f"needs voice {voice!r}, which is not installed"
        raise ProducerError(f"speech in language {language!r} {reason}; voices available: {known or 'none'}",
                            field="language")
    return voice


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / handle.getframerate()


def synthesize(text: str, language: str, out_wav: Path, *, rate: int | None = None) -> float:
    """Read ``text`` aloud into ``out_wav`` (22,050 Hz mono WAV); returns its length in seconds."""
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise ProducerError("there is no text to read aloud", field="text")
    voice = voice_for(language)
    out_wav = Path(out_wav)
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    args: list[str | Path] = ["espeak-ng", "-v", voice, "-b", "1", "-w", out_wav]
    if rate is not None:
        args += ["-s", str(int(rate))]
    # The text goes through stdin so that a line starting with '-' is never taken for an option.
    tools.run(args + ["--stdin"], outputs=[out_wav], timeout=300, what=f"espeak-ng ({voice})",
              input_bytes=text.encode("utf-8"))
    return wav_seconds(out_wav)


def speech_timings(sentences: list[str], language: str, out_wav: Path, *,
                   rate: int | None = None, pause: float = SENTENCE_PAUSE) -> list[tuple[float, float, str]]:
    """Synthesise sentence by sentence into one WAV; returns ``(start, end, sentence)`` per sentence.

    ``end`` is where the sentence's own audio ends; the pause after it belongs to no sentence.
    """
    spoken = [s.strip() for s in sentences if s and s.strip()]
    if not spoken:
        raise ProducerError("there is no text to read aloud", field="text")
    out_wav = Path(out_wav)
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    timings: list[tuple[float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="speech.", dir=out_wav.parent) as work:
        parts = []
        for index, sentence in enumerate(spoken):
            part = Path(work) / f"{index:05d}.wav"
            synthesize(sentence, language, part, rate=rate)
            parts.append(part)
        temp = out_wav.with_name(f".{out_wav.name}.part")
        try:
            with wave.open(str(temp), "wb") as joined:
                clock = 0
                params = None
                for index, (part, sentence) in enumerate(zip(parts, spoken)):
                    with wave.open(str(part), "rb") as piece:
                        if params is None:
                            params = piece.getparams()
                            joined.setparams(params)
                        frames = piece.readframes(piece.getnframes())
                    rate_hz = params.framerate
                    count = len(frames) // (params.sampwidth * params.nchannels)
                    start = clock / rate_hz
                    joined.writeframes(frames)
                    clock += count
                    timings.append((round(start, 3), round(clock / rate_hz, 3), sentence))
                    if index < len(parts) - 1:
                        gap = int(pause * rate_hz)
                        joined.writeframes(b"\x00" * gap * params.sampwidth * params.nchannels)
                        clock += gap
            os.replace(temp, out_wav)
        finally:
            temp.unlink(missing_ok=True)
    return timings


def split_sentences(text: str) -> list[str]:
    """Sentences of plain text, in order. A paragraph or heading without a full stop is one sentence."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        if not flat:
            continue
        pieces, start = [], 0
        for match in _SENTENCE_END.finditer(flat):
            pieces.append(flat[start:match.end()])
            start = match.end()
        pieces.append(flat[start:])
        for sentence in pieces:
            sentence = sentence.strip()
            while len(sentence) > MAX_SENTENCE_CHARS:      # split overlong run-ons at a comma or space
                cut = max(sentence.rfind(",", 0, MAX_SENTENCE_CHARS), sentence.rfind(" ", 0, MAX_SENTENCE_CHARS))
                cut = cut if cut > 0 else MAX_SENTENCE_CHARS
                sentences.append(sentence[:cut + 1].strip())
                sentence = sentence[cut + 1:].strip()
            if sentence:
                sentences.append(sentence)
    return sentences
