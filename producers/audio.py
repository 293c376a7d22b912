"""Audio helpers over ffmpeg/ffprobe: inspect, measure loudness (EBU R128), normalise, encode.

ffmpeg's ``loudnorm`` cannot lift speech with a high peak-to-loudness ratio (espeak-ng's output
especially) to the target without breaking the true-peak ceiling, and then silently falls short
(measured: -17.6 LUFS one-pass, -17.1 two-pass, for a -16 target); it also works at 192 kHz, which
made it the slowest step by far. So normalise does, at the output's own rate:

1. a compressor evens out the speech, and its integrated loudness is measured (ebur128);
2. the compressed speech is lifted by the missing gain into a peak limiter set below the ceiling
   and encoded straight to the output format;
3. the written file is measured (ebur128 with true peak); if it is off by more than 0.3 LU, or
   over the peak limit, the gain or ceiling is corrected and step 2 runs again (at most 3 times).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from . import tools
from .errors import ProducerError

SILENCE_LUFS = -60.0          # quieter than this integrated, a file is silence, not speech
# A gentle speech compressor: lifts quiet syllables and tames plosives before the gain goes up.
COMPRESSOR = "acompressor=threshold=-24dB:ratio=3:attack=5:release=120:knee=4"


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    codec: str
    sample_rate: int
    channels: int
    has_video: bool
    format_name: str
    bit_rate: int | None = None


@dataclass(frozen=True)
class Loudness:
    integrated: float     # LUFS
    true_peak: float      # dBTP
    lra: float = 0.0      # LU


def probe(path: Path) -> AudioInfo:
    """What an audio file holds, or a ProducerError saying why it is not usable audio."""
    path = Path(path)
    if not path.is_file():
        raise ProducerError(f"{path.name}: file not found")
    if path.stat().st_size == 0:
        raise ProducerError(f"{path.name} is empty (0 bytes); upload the recording again")
    try:
        result = tools.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path],
                           timeout=60, what="ffprobe")
        data = json.loads(result.stdout or b"{}")
    except (ProducerError, ValueError) as exc:
        detail = getattr(exc, "detail", "")
        raise ProducerError(f"{path.name} is not a readable audio file (corrupt, truncated or not audio)",
                            detail) from None
    streams = data.get("streams", [])
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    # Cover art in mp3/m4a is a video stream marked attached_pic: that is still an audio file.
    video = [s for s in streams if s.get("codec_type") == "video"
             and not s.get("disposition", {}).get("attached_pic")]
    if not audio:
        found = ", ".join(sorted({s.get("codec_type", "?") for s in streams})) or "no streams"
        raise ProducerError(f"{path.name} has no audio stream (found: {found}); it is not an audio file")
    stream = audio[0]
    duration = _float(stream.get("duration")) or _float(data.get("format", {}).get("duration"))
    if not duration or duration <= 0:
        raise ProducerError(f"{path.name} has no playable length (duration 0); the file is empty or corrupt")
    return AudioInfo(duration=duration, codec=stream.get("codec_name", "?"),
                     sample_rate=int(stream.get("sample_rate") or 0), channels=int(stream.get("channels") or 0),
                     has_video=bool(video), format_name=data.get("format", {}).get("format_name", "?"),
                     bit_rate=int(data["format"]["bit_rate"]) if data.get("format", {}).get("bit_rate") else None)


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_SUMMARY_I = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS", re.S)
_SUMMARY_LRA = re.compile(r"Loudness range:\s*LRA:\s*(-?[\d.]+) LU", re.S)
_SUMMARY_TP = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.S)


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness and true peak as ffmpeg's ebur128 filter measures them (EBU R128)."""
    result = tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", path, "-map", "0:a:0",
                        "-filter:a", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                       timeout=1800, what="ffmpeg ebur128")
    text = result.stderr.decode("utf-8", "replace")
    summary = text[text.rfind("Summary:"):]
    found_i, found_tp = _SUMMARY_I.search(summary), _SUMMARY_TP.search(summary)
    if not (found_i and found_tp):
        raise ProducerError(f"could not measure the loudness of {Path(path).name}", tools.tail(text))
    lra = _SUMMARY_LRA.search(summary)
    return Loudness(integrated=_db(found_i.group(1)), true_peak=_db(found_tp.group(1)),
                    lra=float(lra.group(1)) if lra else 0.0)


def _db(text: str) -> float:
    return -math.inf if text == "-inf" else float(text)


def _integrated(in_path: Path, chain: str) -> float:
    """Integrated loudness only: ebur128 without true-peak oversampling is several times faster."""
    result = tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", in_path, "-map", "0:a:0",
                        "-filter:a", f"{chain},ebur128=framelog=verbose", "-f", "null", "-"],
                       timeout=1800, what="ffmpeg ebur128")
    text = result.stderr.decode("utf-8", "replace")
    found = _SUMMARY_I.search(text[text.rfind("Summary:"):])
    if not found:
        raise ProducerError(f"could not measure the loudness of {Path(in_path).name}", tools.tail(text))
    return _db(found.group(1))


def _encoder_args(out_path: Path, bitrate: str | None) -> list[str]:
    suffix = out_path.suffix.lower()
    if suffix == ".mp3":
        return ["-c:a", "libmp3lame", "-b:a", bitrate or "64k", "-id3v2_version", "4", "-write_xing", "1"]
    if suffix == ".wav":
        return ["-c:a", "pcm_s16le"]
    if suffix in (".m4a", ".aac"):
        return ["-c:a", "aac", "-b:a", bitrate or "96k"]
    if suffix == ".flac":
        return ["-c:a", "flac"]
    raise ProducerError(f"normalise cannot write {suffix or 'files without an extension'}; "
                        f"allowed: .mp3, .wav, .m4a, .flac")


def normalise(in_path: Path, out_path: Path, *, target_lufs: float = -16.0, true_peak: float = -1.5,
              channels: int | None = None, sample_rate: int = 44_100, bitrate: str | None = None,
              compress: bool = True, what: str = "") -> Loudness:
    """Write ``in_path`` to ``out_path`` at ``target_lufs`` integrated, true peak at most ``true_peak``.

    The output format follows ``out_path``'s extension (.mp3 at ``bitrate``, .wav, .m4a, .flac);
    ``channels`` None keeps the input's (capped at 2). Returns the loudness of the written file as
    ebur128 measures it. Raises ProducerError for silent input. ``what`` names the
    file in messages (e.g. the product and field), defaulting to its file name.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    label = what or in_path.name
    layout = ""
    if channels is not None:
        layout = f",aformat=channel_layouts={'mono' if channels == 1 else 'stereo'}"
    else:
        layout = ",aformat=channel_layouts=mono|stereo"
    base = f"{layout.lstrip(',')},highpass=f=60"
    pre = f"{base},{COMPRESSOR}" if compress else base

    measured = _integrated(in_path, pre)
    if not math.isfinite(measured) or measured < SILENCE_LUFS:
        shown = "-inf" if not math.isfinite(measured) else f"{measured:.1f}"
        raise ProducerError(f"{label} is silent (integrated loudness {shown} LUFS; speech is around -25 to -16); "
                            "check that the recording has sound")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    encoder = _encoder_args(out_path, bitrate)
    gain = target_lufs - measured + ENCODER_LEVEL_SHIFT.get(out_path.suffix.lower(), 0.0)
    ceiling_db = true_peak - LIMITER_MARGIN
    result = None
    for _ in range(MAX_RENDERS):
        # alimiter holds sample peaks; true (inter-sample) peaks and the encoder add up to ~1 dB more.
        ceiling = 10 ** (ceiling_db / 20)
        chain = (f"{pre},volume={gain:.2f}dB,aresample={sample_rate},"
                 f"alimiter=limit={ceiling:.4f}:attack=3:release=60:level=false{layout}")
        _render(in_path, out_path, chain, encoder, label)
        result = measure_loudness(out_path)
        # The published file itself is measured: lossy encoders shift the level a little
        # (libmp3lame CBR: about -0.4 dB), and heavy limiting eats some of the gain.
        loudness_ok = abs(target_lufs - result.integrated) <= LOUDNESS_TOLERANCE
        if loudness_ok and result.true_peak <= true_peak:
            break
        gain += target_lufs - result.integrated
        if result.true_peak > true_peak:
            ceiling_db -= result.true_peak - true_peak + 0.3
    return result


LOUDNESS_TOLERANCE = 0.3      # LU: good enough to stop correcting; the requirement is +-1 LU
LIMITER_MARGIN = 1.0          # dB between the limiter's sample-peak ceiling and the true-peak limit
MAX_RENDERS = 3
# Measured here: libmp3lame CBR output reads 0.4 LU quieter than its input at 64-128 kbps. Starting
# with it saves a correction render in the usual case; the measurement loop still has the last word.
ENCODER_LEVEL_SHIFT = {".mp3": 0.4}


def _render(in_path: Path, out_path: Path, chain: str, encoder: list[str], label: str) -> None:
    tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-y", "-i", in_path, "-map", "0:a:0",
               "-map_metadata", "-1", "-filter:a", chain, *encoder, out_path],
              outputs=[out_path], timeout=3600, what=f"ffmpeg loudnorm ({label})")


def transcode_mp3(in_path: Path, out_path: Path, *, bitrate: str = "64k", channels: int | None = None) -> None:
    """A plain MP3 encode with no processing: the baseline the benchmark compares against."""
    args: list[str | Path] = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-y", "-i", in_path,
                              "-map", "0:a:0", "-c:a", "libmp3lame", "-b:a", bitrate]
    if channels:
        args += ["-ac", str(channels)]
    tools.run(args + [out_path], outputs=[Path(out_path)], timeout=3600, what="ffmpeg mp3")
