"""Audio helpers over ffmpeg/ffprobe: inspect, measure loudness (EBU R128), normalise, encode.

Every file is opened through ``probe``: its real container is sniffed from its bytes, and ffmpeg
reads it with the ``file`` protocol only, that demuxer forced, and audio/video decoders only, so a
"recording" that is really a playlist or a concat list never makes ffmpeg open another file.

ffmpeg's ``loudnorm`` cannot lift speech with a high peak-to-loudness ratio (espeak-ng's output
especially) to the target without breaking the true-peak ceiling, and then silently falls short
(measured: -17.6 LUFS one-pass, -17.1 two-pass, for a -16 target); it also works at 192 kHz, which
made it the slowest step by far. So normalise does, at the output's own rate, two passes (the
floor for a measured gain):

1. analysis: the input is decoded, evened out by a compressor, and measured (ebur128). An input of
   a minute or more is analysed in two parts at once, one per core (see _analyse_split);
2. render: the input is decoded and compressed again, lifted by the missing gain into a peak
   limiter set ``LIMITER_MARGIN`` below the true-peak limit, measured on its way to the encoder,
   and encoded. If limiting ate more than 0.3 LU of the gain, only this pass runs again, with the
   gain corrected (rare: the compressor has already tamed the peaks).

The render is two ffmpeg processes joined by a pipe (decode, filter, limit, measure | encode), so
the two cores share it and its wall time is the encoder's alone: the first stage needs about a
third of the encoder's time, so decoding and compressing again there costs no wall time, where
keeping the analysed signal in a temporary WAV made the analysis write it and, split in two, join
it sample-exactly (which in turn made the second part decode the whole first part again rather
than seek). The published file is not decoded and measured a third time: that pass (ebur128 true
peak on the decoded MP3) cost about as much CPU as the analysis and render together without the
encoder, and what the render measures is what the file reads (test_audio checks it), the limiter's
margin keeping the true peak below the limit.

Cost, on a 10-minute stereo MP3 (bench/podcast_bench.py, against a plain MP3 transcode in the same
run, an idle machine): the MP3 encoder is the baseline's time almost whole (7.5 s of 7.6 s: ffmpeg
5.1 decodes an MP3 at ~700x real time), so what the episode adds is the analysis (two halves at
once, ~1.7 s wall) and the probes.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from producers.media import probe as media
from producers.media import tools
from producers.errors import ProducerError

SILENCE_LUFS = -60.0          # quieter than this integrated, a file is silence, not speech
# A gentle speech compressor: lifts quiet syllables and tames plosives before the gain goes up.
COMPRESSOR = "acompressor=threshold=-24dB:ratio=3:attack=5:release=120:knee=4"
LOUDNESS_TOLERANCE = 0.3      # LU: good enough to stop correcting; the requirement is +-1 LU
# dB between the limiter's sample-peak ceiling and the true-peak limit: inter-sample peaks and the
# MP3/AAC encoders add up to ~1 dB (measured here with a -1.5 dBTP limit: espeak-ng speech at 64 kbit/s
# mono reads -3.1 dBTP, the benchmark's stereo recording at 96 kbit/s -2.6 dBTP).
LIMITER_MARGIN = 1.0
MAX_RENDERS = 3
# Measured here: libmp3lame CBR output reads 0.4 LU quieter than its input at 64-128 kbps, AAC 0.1.
# The render measures the signal it hands to the encoder; this shift is what the file then reads.
ENCODER_LEVEL_SHIFT = {".mp3": 0.4, ".m4a": 0.1, ".aac": 0.1}
ANALYSIS_TIMEOUT = 1800       # s: 3 hours of audio decode at ~30x real time, with room for a loaded box
RENDER_TIMEOUT = 3600
# What the render's first stage hands the encoder: limited below 0 dBFS, so 16 bits lose nothing audible.
PIPE_FORMAT = ["-c:a", "pcm_s16le", "-f", "nut", "pipe:1"]
# Inputs at least this long are analysed in two halves at once (see _analyse_split); for shorter ones
# a second ffmpeg would cost about what it saves.
SPLIT_MIN_SECONDS = 60.0
# Where the first half ends, as a share of the input: the second seeks to its start.
SPLIT_SHARE = 0.5
PREROLL = 2.0                 # s the second half starts early: the compressor (release 120 ms) settles in less
# Blocks (100 ms) the second half may log more or fewer than the probed duration says before its seek is
# taken to have failed: a duration estimated from the bit rate (MP3 without a header) is this far off.
SEEK_SLACK_BLOCKS = 20
BLOCK_STEP = 0.1              # s between ebur128's 400 ms gating blocks
ABSOLUTE_GATE = -70.0         # LUFS, ITU-R BS.1770-4
RELATIVE_GATE = -10.0         # LU below the absolutely gated loudness


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    codec: str
    sample_rate: int
    channels: int
    has_video: bool
    format_name: str
    bit_rate: int | None = None
    demuxer: str = ""          # the sniffed container, the only one ffmpeg may read the file as


@dataclass(frozen=True)
class Loudness:
    integrated: float     # LUFS
    true_peak: float      # dBTP
    lra: float = 0.0      # LU


@dataclass(frozen=True)
class Levelled:
    """What normalise measured of the signal it encoded."""
    integrated: float     # LUFS the written file reads (measured before a lossy encoder, shift applied)
    peak_ceiling: float   # dBFS the limiter held every sample peak to
    lra: float = 0.0      # LU


def probe(path: Path, what: str = "") -> AudioInfo:
    """What an audio file holds, or a ProducerError saying why it is not usable audio."""
    path = Path(path)
    name = what or path.name
    if not path.is_file():
        raise ProducerError(f"{name}: file not found")
    sniffed, data = media.ffprobe(path, name, "audio")
    streams = data.get("streams", [])
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    # Cover art in mp3/m4a is a video stream marked attached_pic: that is still an audio file.
    video = [s for s in streams if s.get("codec_type") == "video"
             and not s.get("disposition", {}).get("attached_pic")]
    if not audio:
        found = ", ".join(sorted({s.get("codec_type", "?") for s in streams})) or "no streams"
        raise ProducerError(f"{name} has no audio stream (found: {found}); it is not an audio file")
    stream = audio[0]
    duration = _float(stream.get("duration")) or _float(data.get("format", {}).get("duration"))
    if not duration or duration <= 0:
        raise ProducerError(f"{name} has no playable length (duration 0); the file is empty or corrupt")
    return AudioInfo(duration=duration, codec=stream.get("codec_name", "?"),
                     sample_rate=int(stream.get("sample_rate") or 0), channels=int(stream.get("channels") or 0),
                     has_video=bool(video), format_name=data.get("format", {}).get("format_name", "?"),
                     bit_rate=int(data["format"]["bit_rate"]) if data.get("format", {}).get("bit_rate") else None,
                     demuxer=sniffed.format)


def input_args(path: Path, what: str = "") -> list[str | Path]:
    """ffmpeg arguments that read ``path`` as the audio/video container its bytes are, and nothing else."""
    return media.input_args(path, media.sniff(path, "audio/video", what or Path(path).name).format)


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_SUMMARY_I = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS", re.S)
_SUMMARY_LRA = re.compile(r"Loudness range:\s*LRA:\s*(-?[\d.]+) LU", re.S)
_SUMMARY_TP = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.S)
FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats"]
# ffmpeg gives some filters (highpass among them) a thread per channel by default, woken for every frame
# of ~1000 samples: that cost more CPU than the filtering itself (highpass on 10 minutes of stereo: 0.2 s
# of work, 1.2 s with the threads), and the cores are better spent on whole processes.
ONE_FILTER_THREAD = ["-filter_threads", "1", "-filter_complex_threads", "1"]


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness and true peak as ffmpeg's ebur128 filter measures them (EBU R128)."""
    result = tools.run([*FFMPEG, *input_args(path), "-map", "0:a:0",
                        "-filter:a", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
                       timeout=ANALYSIS_TIMEOUT, what="ffmpeg ebur128")
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


def _summary(text: str, label: str) -> tuple[float, float]:
    """(integrated LUFS, LRA) from ebur128's summary in ``text``."""
    summary = text[text.rfind("Summary:"):]
    found = _SUMMARY_I.search(summary)
    if not found:
        raise ProducerError(f"could not measure the loudness of {label}", tools.tail(text))
    lra = _SUMMARY_LRA.search(summary)
    return _db(found.group(1)), float(lra.group(1)) if lra else 0.0


def _analysis_args(in_path: Path, label: str, seek: float = 0.0) -> list[str | Path]:
    # ``-ss`` before the input: the demuxer seeks and the decoder drops what comes before ``seek``; the
    # filters' timestamps then start at 0.
    before = ["-ss", f"{seek:.3f}"] if seek else []
    return [*FFMPEG, *ONE_FILTER_THREAD, *before, *input_args(in_path, label), "-map", "0:a:0"]


def _analyse(in_path: Path, chain: str, label: str) -> float:
    """Pass 1 in one process: integrated loudness of ``chain`` applied to the input."""
    # ebur128 without true-peak oversampling: the analysis needs only the integrated loudness.
    result = tools.run([*_analysis_args(in_path, label), "-filter:a", f"{chain},ebur128=framelog=verbose",
                        "-f", "null", "-"], timeout=ANALYSIS_TIMEOUT, what=f"ffmpeg analysis ({label})")
    return _summary(result.stderr.decode("utf-8", "replace"), label)[0]


def _analyse_split(in_path: Path, chain: str, seam: float, duration: float, label: str, *, seek: bool = True
                   ) -> float:
    """Pass 1 as two processes at once, one per core: the input before ``seam`` (s) and from it.

    Each logs ebur128's 400 ms blocks, from which the integrated loudness of the whole is gated. The second
    part starts ``PREROLL`` s early, so that the highpass and the compressor reach the seam in the state a
    single pass would have (test_audio compares the two), and its blocks before the seam are dropped.
    It seeks there rather than decoding the first part again: a demuxer's seek is not sample-exact in every
    format (an MP3's is estimated from its bit rate), but a few milliseconds measured twice or not at all
    move the loudness of a minute or more by far less than ebur128's 0.1 LU; the signal itself is
    rendered in one pass (see normalise). A seek that went somewhere else altogether (a demuxer that cannot
    seek starts from the beginning) shows in the number of blocks; that part is then decoded from the start.
    """
    start = max(0.0, seam - PREROLL)
    # The second part's measurement starts 300 ms early, like the first part's last blocks: its first
    # three blocks (window not yet full) are dropped, and the rest are those a single pass logs.
    early = max(start, seam - 3 * BLOCK_STEP)
    skip = round((seam - early) / BLOCK_STEP)
    expected = (duration - seam) / BLOCK_STEP
    first = [*_analysis_args(in_path, label), "-filter:a", f"atrim=end={seam:.1f},{chain},ebur128=framelog=info"]

    def second(seeking: bool) -> list[str | Path]:
        origin = start if seeking else 0.0
        # decoded from the start, the part before the pre-roll is cut by timestamp; sought, it never comes
        cut = "" if seeking else f"atrim=start={start:.3f},"
        return [*_analysis_args(in_path, label, origin), "-filter:a",
                f"{cut}{chain},atrim=start={early - origin:.3f},ebur128=framelog=info"]

    def run(index: int, args: list[str | Path]) -> list[float]:
        result = tools.run([*args, "-f", "null", "-"], timeout=ANALYSIS_TIMEOUT,
                           what=f"ffmpeg analysis ({label}, part {index + 1})")
        return _blocks(result.stderr.decode("utf-8", "replace"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(run, 0, first), pool.submit(run, 1, second(seek))]
        blocks = [future.result() for future in futures]   # the first failure is raised, after both ended
    if seek and abs(len(blocks[1]) - skip - expected) > SEEK_SLACK_BLOCKS + 0.01 * expected:
        blocks[1] = run(1, second(False))
    if not blocks[0]:
        raise ProducerError(f"could not measure the loudness of {label}", "ebur128 logged no blocks")
    # To 0.1 LU, as ebur128's summary gives the single pass's: both find the same gain.
    return round(gated_loudness(blocks[0] + blocks[1][skip:]), 1)


_BLOCK = re.compile(r"TARGET:\S+ LUFS\s+M:\s*(\S+)")


def _blocks(text: str) -> list[float]:
    """Momentary loudness (LUFS) of every 400 ms block ebur128 logged, one per 100 ms."""
    return [float(found) for found in _BLOCK.findall(text)]


def gated_loudness(blocks: list[float]) -> float:
    """Integrated loudness (LUFS) of momentary 400 ms blocks on a 100 ms step, gated as ITU-R BS.1770-4
    gates them (absolute -70 LUFS, then relative -10 LU): what ebur128 reports for the whole signal.
    ebur128 logs them to 0.1 dB, which moves the result by at most 0.05 LU."""
    powers = [10 ** (m / 10) for m in blocks if m >= ABSOLUTE_GATE]
    if not powers:
        return -math.inf
    relative = 10 ** ((10 * math.log10(sum(powers) / len(powers)) + RELATIVE_GATE) / 10)
    kept = [p for p in powers if p >= relative]
    return 10 * math.log10(sum(kept) / len(kept))


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
              compress: bool = True, what: str = "", info: AudioInfo | None = None) -> Levelled:
    """Write ``in_path`` to ``out_path`` at ``target_lufs`` integrated, true peak at most ``true_peak``.

    The output format follows ``out_path``'s extension (.mp3 at ``bitrate``, .wav, .m4a, .flac);
    ``channels`` None keeps the input's (capped at 2). Returns what the render measured (see
    Levelled). Raises ProducerError for silent input. ``what`` names the file in messages (e.g. the
    product and field), defaulting to its file name; ``info`` is the input's probe, if the caller has it.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    label = what or in_path.name
    if channels is not None:
        layout = f",aformat=channel_layouts={'mono' if channels == 1 else 'stereo'}"
    else:
        layout = ",aformat=channel_layouts=mono|stereo"
    base = f"{layout.lstrip(',')},highpass=f=60"
    pre = f"{base},{COMPRESSOR}" if compress else base

    out_path.parent.mkdir(parents=True, exist_ok=True)
    info = info or probe(in_path, label)
    if info.duration >= SPLIT_MIN_SECONDS:
        seam = round(info.duration * SPLIT_SHARE / BLOCK_STEP) * BLOCK_STEP
        measured = _analyse_split(in_path, pre, seam, info.duration, label)
    else:
        measured = _analyse(in_path, pre, label)
    if not math.isfinite(measured) or measured < SILENCE_LUFS:
        shown = "-inf" if not math.isfinite(measured) else f"{measured:.1f}"
        raise ProducerError(f"{label} is silent (integrated loudness {shown} LUFS; speech is around -25 to "
                            "-16); check that the recording has sound")
    encoder = _encoder_args(out_path, bitrate)
    shift = ENCODER_LEVEL_SHIFT.get(out_path.suffix.lower(), 0.0)
    gain = target_lufs - measured + shift
    ceiling_db = true_peak - LIMITER_MARGIN
    # alimiter holds sample peaks; true (inter-sample) peaks and the encoder add up to ~1 dB more.
    ceiling = 10 ** (ceiling_db / 20)
    result = None
    for _ in range(MAX_RENDERS):
        chain = (f"{pre},volume={gain:.2f}dB,aresample={sample_rate},"
                 f"alimiter=limit={ceiling:.4f}:attack=3:release=60:level=false{layout}")
        integrated, lra = _render(in_path, out_path, chain, encoder, label)
        result = Levelled(integrated=round(integrated - shift, 2), peak_ceiling=round(ceiling_db, 2), lra=lra)
        if abs(target_lufs - result.integrated) <= LOUDNESS_TOLERANCE:
            break
        gain += target_lufs - result.integrated
    return result


def _render(in_path: Path, out_path: Path, chain: str, encoder: list[str], label: str) -> tuple[float, float]:
    """Pass 2: filter, gain, limit and measure | encode. Returns (integrated, LRA) of what the encoder received."""
    graph = f"[0:a:0]{chain},asplit=2[out][measure];[measure]ebur128=framelog=verbose,anullsink"
    first = [*FFMPEG, *ONE_FILTER_THREAD, *input_args(in_path, label), "-filter_complex", graph, "-map", "[out]",
             *PIPE_FORMAT]
    second = [*FFMPEG, "-loglevel", "error", "-y", *media.PIPE_INPUT, "-map", "0:a:0", "-map_metadata", "-1",
              *encoder, out_path]
    results = tools.run_pipeline([first, second], outputs=[out_path], timeout=RENDER_TIMEOUT,
                                 what=f"ffmpeg loudness render ({label})")
    return _summary(results[0].stderr.decode("utf-8", "replace"), label)


def transcode_mp3(in_path: Path, out_path: Path, *, bitrate: str = "64k", channels: int | None = None) -> None:
    """A plain MP3 encode with no processing: the baseline the benchmark compares against."""
    args: list[str | Path] = [*FFMPEG, "-y", *input_args(in_path), "-map", "0:a:0", "-c:a", "libmp3lame",
                              "-b:a", bitrate]
    if channels:
        args += ["-ac", str(channels)]
    tools.run(args + [out_path], outputs=[Path(out_path)], timeout=RENDER_TIMEOUT, what="ffmpeg mp3")
