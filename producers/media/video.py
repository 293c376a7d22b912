"""Video composition: frames drawn with Pillow, streamed as raw YUV into one libx264 encode.

Why this shape (measured on the 2-core build machine, 60 s at 1280×720, 24 fps):
- x264 costs ~7 ms per frame whatever the frame shows, so the encode dominates everything;
- a filter graph of ``-loop``/``xfade`` inputs cost 2.5× the plain concat of stills, and
  converting RGB to YUV per frame (what moviepy's frame loop, or ``fps`` before ``format``, does)
  cost ~4.5 ms per frame on top;
- so every still is drawn once (caption burned in with the text engine), converted once to
  limited-range BT.709 yuv420p and sent to ffmpeg once: a ``setpts`` expression puts each sent
  frame at its place on the timeline and the ``fps`` filter repeats it by reference, exactly
  what the concat demuxer of pre-drawn stills does;
- a crossfade frame is a byte-level blend of two YUV frames (one ``Image.blend`` of the whole
  planar buffer, ~3 ms); Ken Burns motion resamples the Y/U/V planes with sub-pixel crop boxes
  (Pillow's ``resize(box=...)``), so it never jitters and needs no upscaling, then pastes the
  pre-converted caption planes on top (~10 ms per frame on worker threads, beside x264).

Audio is mixed by one ffmpeg filter graph (narration pieces placed with ``adelay``, music looped,
faded and ducked under the narration with ``sidechaincompress``) and normalised by
``audio.normalise`` to -16 LUFS / -1.5 dBTP, then encoded to AAC, all while the video encodes; a
final stream copy muxes both with ``+faststart``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from collections import deque
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from PIL import Image, ImageDraw, ImageFilter

from producers.media import audio, tools
from producers.media import probe as media_probe
from producers.errors import ProducerError, ToolError
from producers.media.probe import sniff_image
from producers.media.text import FitResult, TextStyle, draw_text

FPS = 24
FADE_SECONDS = 0.5
KEN_BURNS_ZOOM = 1.08          # gentle: the frame ends 8 % closer (or starts there and pulls back)
FRAME_THREADS = 2
FRAME_LOOKAHEAD = 8
SAMPLE_RATE = 48_000
TARGET_LUFS = -16.0
TRUE_PEAK = -1.5               # dBTP; the requirement is <= -1, AAC can overshoot by a few tenths
MUSIC_LEVEL_DB = -14.0         # music under speech before ducking
# x264 starts 1.5 threads per core (as here, below the cap) and maps ~100 MB of address space per thread
# at 1080×1920 (measured: under 1.5 GB with 8 threads, 2.5 GB with 24): uncapped, a many-core machine's
# encode would pass the job memory limit (pipeline.JOB_MEMORY_LIMIT). Other cores run other jobs.
X264_THREADS = min(8, (os.cpu_count() or 1) * 3 // 2)
X264 = ["-c:v", "libx264", "-threads", str(X264_THREADS), "-preset", "veryfast", "-tune", "stillimage", "-crf", "23",
        "-pix_fmt", "yuv420p",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]

# RGB -> limited-range BT.709 Y'CbCr (what players assume for HD yuv420p), as Pillow's 12-tuple
# conversion matrix with offsets.
BT709 = (0.1826, 0.6142, 0.0620, 16.0,
         -0.1006, -0.3386, 0.4392, 128.0,
         0.4392, -0.3989, -0.0403, 128.0)


# --- shapes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    name: str                                   # "16:9" | "9:16"
    width: int
    height: int
    # Caption area as fractions (left, top, right, bottom) of the frame: inside the title-safe
    # area for 16:9; for 9:16 also clear of the short-video apps' buttons (right) and their
    # description overlay (bottom ~20 %).
    caption_area: tuple[float, float, float, float]

    @property
    def slug(self) -> str:
        return self.name.replace(":", "x")

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def scale(self) -> float:
        return min(self.width, self.height) / 720

    def caption_box(self) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.caption_area
        return (_even(self.width * left), _even(self.height * top), _even(self.width * right),
                _even(self.height * bottom))


LANDSCAPE_CAPTIONS = (0.07, 0.66, 0.93, 0.92)
PORTRAIT_CAPTIONS = (0.08, 0.56, 0.84, 0.78)
SIZES = {("16:9", "720p"): (1280, 720), ("16:9", "1080p"): (1920, 1080),
         ("9:16", "720p"): (1080, 1920), ("9:16", "1080p"): (1080, 1920)}


def shape(name: str, resolution: str = "720p", size: Sequence[int] | None = None) -> Shape:
    """A frame shape; ``size`` overrides the pixel size (tests render tiny videos)."""
    width, height = tuple(size) if size else SIZES[(name, resolution)]
    if width % 2 or height % 2:
        raise ProducerError(f"video frame sizes must be even, received {width}×{height}")
    return Shape(name, width, height, LANDSCAPE_CAPTIONS if name == "16:9" else PORTRAIT_CAPTIONS)


def _even(value: float) -> int:
    return int(round(value / 2)) * 2


# --- YUV ---------------------------------------------------------------------------------------

def yuv_planes(image: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Full-size Y and half-size Cb, Cr planes (4:2:0, box-averaged chroma)."""
    y, u, v = image.convert("RGB").convert("RGB", BT709).split()
    return y, u.reduce(2), v.reduce(2)


def planes_bytes(y: Image.Image, u: Image.Image, v: Image.Image) -> bytes:
    return y.tobytes() + u.tobytes() + v.tobytes()


def yuv_bytes(image: Image.Image) -> bytes:
    return planes_bytes(*yuv_planes(image))


def blend_frames(a: bytes, b: bytes, alpha: float, size: tuple[int, int]) -> bytes:
    """A crossfade frame: yuv420p is planar, so blending the whole buffer blends every plane."""
    width, height = size
    shape_ = (width, height * 3 // 2)
    return Image.blend(Image.frombytes("L", shape_, a), Image.frombytes("L", shape_, b), alpha).tobytes()


# --- overlays (captions) -----------------------------------------------------------------------

@dataclass(frozen=True)
class Overlay:
    """An RGBA patch at an even position, pre-split into YUV planes and alpha masks for motion."""

    image: Image.Image
    x: int
    y: int
    truncated: bool

    def over(self, base: Image.Image) -> Image.Image:
        out = base.copy()
        out.paste(self.image.convert("RGB"), (self.x, self.y), self.image.getchannel("A"))
        return out

    def planes(self):
        y, u, v = yuv_planes(self.image)
        alpha = self.image.getchannel("A")
        return y, u, v, alpha, alpha.reduce(2)


def caption_overlay(text: str, frame: Shape) -> Overlay | None:
    """White caption text on a translucent dark band, inside the shape's caption area."""
    text = " ".join(text.split())
    if not text:
        return None
    left, top, right, bottom = frame.caption_box()
    width, height = right - left, bottom - top
    size = round(40 * frame.scale) if frame.name == "16:9" else round(48 * frame.scale * 0.9)
    style = TextStyle(size=size, min_size=max(12, round(size * 0.6)), colour="#ffffff", align="center",
                      line_spacing=1.2)
    pad = max(4, round(size * 0.45))
    text_layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    fitted: FitResult = draw_text(text_layer, (pad, pad, width - pad, height - pad), text, style,
                                  valign="bottom", max_lines=3)
    if fitted.bbox is None:
        return None
    x0, y0, x1, y1 = fitted.bbox
    band = (max(0, x0 - pad), max(0, y0 - round(pad * 0.8)), min(width, x1 + pad), min(height, y1 + round(pad * 0.8)))
    band = (band[0] // 2 * 2, band[1] // 2 * 2, min(width, -(-band[2] // 2) * 2), min(height, -(-band[3] // 2) * 2))
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(layer).rounded_rectangle(band, radius=round(pad * 0.6), fill=(0, 0, 0, 170))
    layer.alpha_composite(text_layer)
    return Overlay(layer.crop(band), left + band[0], top + band[1], fitted.truncated)


# --- clips -------------------------------------------------------------------------------------

class Clip(Protocol):
    duration: float
    moving: bool        # False: every frame is the same picture

    def frame(self, t: float) -> bytes:
        """The yuv420p frame at ``t`` seconds into the clip (t may run a fade's half outside)."""


class StillClip:
    """One picture for the whole clip: converted to YUV once, sent to the encoder once."""

    moving = False

    def __init__(self, image: Image.Image, duration: float):
        self.image = image
        self.duration = duration
        self._bytes: bytes | None = None
        self._lock = threading.Lock()

    def frame(self, t: float) -> bytes:
        if self._bytes is None:
            with self._lock:
                if self._bytes is None:
                    self._bytes = yuv_bytes(self.image)
        return self._bytes


class LazyClip:
    """A clip drawn on the drawer's thread (``future`` gives the real clip) while the encode runs.

    ``done()`` is called by the encoder once no later frame needs the clip: the picture is let go
    and the drawer may draw one more clip ahead, so memory stays bounded however long the video.
    """

    def __init__(self, duration: float, moving: bool, future, release, keep: bool = False):
        self.duration = duration
        self.moving = moving
        self._future = future
        self._release = release
        self._keep = keep

    @property
    def clip(self):
        return self._future.result()

    def frame(self, t: float) -> bytes:
        return self.clip.frame(t)

    def done(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None
            if not self._keep:
                self._future = None


class Drawer:
    """Draws clips in order on one background thread, at most ``ahead`` of them alive at a time.

    The encoder needs at most four at once (the previous clip, the current one, the next for a
    crossfade, and one drawn ahead) as long as every clip lasts at least one frame, which the
    storyboard's minimum scene duration guarantees.

    ``makers`` are (duration, moving, make) with ``make() -> (clip, warnings)``; ``clips`` are the
    LazyClips to encode (the first is kept after use, for the poster).
    """

    def __init__(self, makers, ahead: int = 5):
        self._slots = threading.Semaphore(ahead)
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drawer")
        self.warnings: list[str] = []
        self.clips = [LazyClip(duration, moving, self._pool.submit(self._draw, make), self._slots.release,
                               keep=index == 0)
                      for index, (duration, moving, make) in enumerate(makers)]

    def _draw(self, make):
        while not self._slots.acquire(timeout=0.2):
            if self._stop.is_set():
                raise CancelledError()
        clip, warnings = make()
        self.warnings += warnings
        return clip

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Drawer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class KenBurnsClip:
    """Slow zoom and pan over ``canvas`` (larger than the frame), the overlay fixed on top.

    Boxes are (left, top, right, bottom) in canvas pixels, interpolated with an ease-in-out over
    the clip plus the fades' halves either side, and resampled with sub-pixel precision.
    """

    moving = True

    def __init__(self, canvas: Image.Image, size: tuple[int, int], duration: float, start_box, end_box,
                 overlay: Overlay | None, lead: float = 0.0, tail: float = 0.0):
        self.duration = duration
        self.size = size
        self.start_box, self.end_box = tuple(start_box), tuple(end_box)
        self.lead, self.tail = lead, tail
        self._canvas = canvas
        self._overlay = overlay
        self._planes = None
        self._lock = threading.Lock()

    def _prepare(self) -> None:
        y, u, v = self._canvas.convert("RGB").convert("RGB", BT709).split()
        self._overlay_planes = self._overlay.planes() if self._overlay else None
        # Set last: other threads take a non-None _planes as "ready".
        self._planes = (y, u.resize((max(1, u.width // 2), max(1, u.height // 2)), Image.Resampling.BOX),
                        v.resize((max(1, v.width // 2), max(1, v.height // 2)), Image.Resampling.BOX))

    def box_at(self, t: float) -> tuple[float, float, float, float]:
        span = self.duration + self.lead + self.tail
        p = min(1.0, max(0.0, (t + self.lead) / span)) if span > 0 else 0.0
        p = p * p * (3 - 2 * p)
        return tuple(a + (b - a) * p for a, b in zip(self.start_box, self.end_box))

    def frame(self, t: float) -> bytes:
        if self._planes is None:
            with self._lock:
                if self._planes is None:
                    self._prepare()
        width, height = self.size
        box = self.box_at(t)
        half = tuple(c / 2 * (self._planes[1].width * 2 / self._planes[0].width) for c in box)
        y = self._planes[0].resize((width, height), Image.Resampling.BILINEAR, box=box)
        u = self._planes[1].resize((width // 2, height // 2), Image.Resampling.BILINEAR, box=half)
        v = self._planes[2].resize((width // 2, height // 2), Image.Resampling.BILINEAR, box=half)
        if self._overlay_planes:
            oy, ou, ov, alpha, alpha_half = self._overlay_planes
            x0, y0 = self._overlay.x, self._overlay.y
            y.paste(oy, (x0, y0), alpha)
            u.paste(ou, (x0 // 2, y0 // 2), alpha_half)
            v.paste(ov, (x0 // 2, y0 // 2), alpha_half)
        return planes_bytes(y, u, v)

    def still(self, t: float = 0.0) -> Image.Image:
        """An RGB picture of the frame at ``t`` (posters, tests)."""
        image = self._canvas.resize(self.size, Image.Resampling.BILINEAR, box=self.box_at(t))
        return self._overlay.over(image) if self._overlay else image


def ken_burns_boxes(canvas_size: tuple[int, int], index: int, zoom: float = KEN_BURNS_ZOOM):
    """Start and end crop boxes: alternate zooming in and out, drifting to a different corner."""
    cw, ch = canvas_size
    full = (0.0, 0.0, float(cw), float(ch))
    w, h = cw / zoom, ch / zoom
    anchors = [(0.5, 0.5), (0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]
    ax, ay = anchors[index % len(anchors)]
    tight = ((cw - w) * ax, (ch - h) * ay, (cw - w) * ax + w, (ch - h) * ay + h)
    return (full, tight) if index % 2 == 0 else (tight, full)


# --- layouts -----------------------------------------------------------------------------------

def cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Fill ``size``, cropping the centre: one resample straight from the crop box."""
    width, height = size
    scale = max(width / image.width, height / image.height)
    crop_w, crop_h = min(image.width, width / scale), min(image.height, height / scale)
    left, top = max(0.0, (image.width - crop_w) / 2), max(0.0, (image.height - crop_h) / 2)
    return image.resize(size, Image.Resampling.BICUBIC, box=(left, top, left + crop_w, top + crop_h),
                        reducing_gap=3.0)


def decode_edge(path: Path, needed: int) -> int:
    """The ``max_edge`` to open a photo with so that JPEG draft decoding (1/2, 1/4, 1/8 scale) lands
    exactly on it: big enough for ``needed`` pixels, and no second full-size resample after it."""
    try:
        with open(path, "rb") as handle:
            real = sniff_image(handle.read(32))
        if real is None:
            return needed
        with Image.open(path, formats=[real]) as image:
            long_edge = max(image.size)
    except Exception:  # open_photo reports unreadable files properly
        return needed
    for denominator in (8, 4, 2):
        edge = -(-long_edge // denominator)
        if edge >= needed:
            return edge
    return max(long_edge, needed)


def contain(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    scale = min(size[0] / image.width, size[1] / image.height)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(target, Image.Resampling.LANCZOS) if target != image.size else image


def blurred_backdrop(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The picture itself, filled, blurred and darkened: the usual frame for a photo of the wrong shape."""
    small = cover(image, (max(2, size[0] // 16), max(2, size[1] // 16)))
    small = small.filter(ImageFilter.GaussianBlur(2))
    dark = Image.new("RGB", small.size, (0, 0, 0))
    return Image.blend(small, dark, 0.45).resize(size, Image.Resampling.BILINEAR)


def picture_canvas(image: Image.Image, frame: Shape, zoom: float = 1.0, backdrop: str | None = None) -> Image.Image:
    """A photo or slide laid out for ``frame`` at ``zoom`` × its size.

    A picture of about the frame's own shape fills it (cropped to fit); otherwise it is shown whole,
    above the caption area, over a blurred copy of itself (or a plain ``backdrop`` colour).
    """
    size = (round(frame.width * zoom), round(frame.height * zoom))
    frame_ratio = frame.width / frame.height
    ratio = image.width / image.height
    if abs(ratio - frame_ratio) / frame_ratio < 0.3:      # a 4:3 phone photo fills a 16:9 frame
        return cover(image, size)
    canvas = Image.new("RGB", size, backdrop) if backdrop else blurred_backdrop(image, size)
    if frame.name == "9:16":
        area = (size[0], round(size[1] * (frame.caption_area[1] - 0.10)))
        top = round(size[1] * 0.08)
    else:
        area = size
        top = 0
    picture = contain(image, area)
    canvas.paste(picture, ((size[0] - picture.width) // 2, top + (area[1] - picture.height) // 2))
    return canvas


def card_image(frame: Shape, title: str, lines: Sequence[str], primary: str, accent: str, ink: str,
               band_ink: str, band: str) -> tuple[Image.Image, bool]:
    """A title or end card: the title large in the middle, then smaller lines; theme colours."""
    width, height = frame.size
    s = frame.scale
    image = Image.new("RGB", frame.size, primary)
    draw = ImageDraw.Draw(image)
    portrait = frame.name == "9:16"
    band_top = round(height * (0.62 if portrait else 0.66))
    draw.rectangle((0, band_top, width, height), fill=band)
    draw.rectangle((0, band_top - max(2, round(8 * s)), width, band_top), fill=accent)
    margin = round(width * 0.08)
    result = draw_text(image, (margin, round(height * 0.12), width - margin, band_top - round(30 * s)), title,
                       TextStyle(size=round(72 * s), min_size=round(36 * s), bold=True, colour=ink, align="center",
                                 line_spacing=1.15), valign="middle", max_lines=4)
    text = "\n".join(line for line in lines if line)
    if text:
        draw_text(image, (margin, band_top + round(24 * s), width - margin, round(height * (0.80 if portrait else 0.93))),
                  text, TextStyle(size=round(36 * s), min_size=round(20 * s), colour=band_ink, align="center",
                                  line_spacing=1.3), valign="middle", max_lines=4)
    return image, result.truncated


# --- encoding ----------------------------------------------------------------------------------

def fade_lengths(durations: Sequence[float], fade: float) -> list[float]:
    """Crossfade length at each boundary: never more than half of either neighbouring clip."""
    return [min(fade, durations[k] / 2, durations[k + 1] / 2) for k in range(len(durations) - 1)]


def frame_count(total_seconds: float, fps: int = FPS) -> int:
    return max(1, round(total_seconds * fps))


def frames_to_send(clips: Sequence[Clip], fps: int, fade: float) -> tuple[list[tuple[int, int]], int]:
    """Which output frames must be sent, as (frame index, clip index), and the total frame count.

    A still shows the same picture for seconds: only its first frame is sent, and ffmpeg's ``fps``
    filter repeats it (by reference) until the next sent frame's timestamp. Moving and crossfade
    frames are all sent. The last frame is always sent so the video lasts to the end.
    """
    durations = [clip.duration for clip in clips]
    starts = [sum(durations[:k]) for k in range(len(clips))]
    ends = [start + d for start, d in zip(starts, durations)]
    fades = fade_lengths(durations, fade)
    total = frame_count(sum(durations), fps)
    sent: list[tuple[int, int]] = []
    previous = None
    k = 0
    for index in range(total):
        t = (index + 0.5) / fps
        while k < len(clips) - 1 and t >= ends[k]:
            k += 1
        fading = (k < len(clips) - 1 and fades[k] > 0 and t > ends[k] - fades[k] / 2) or \
                 (k > 0 and fades[k - 1] > 0 and t < starts[k] + fades[k - 1] / 2)
        key = None if (fading or clips[k].moving) else k
        if key is None or key != previous or index == total - 1:
            sent.append((index, k))
        previous = key
    return sent, total


def timestamps_expression(indices: Sequence[int]) -> str:
    """``setpts`` expression mapping the N-th sent frame to its output frame index (time base 1/fps)."""
    terms = [f"{indices[n] - indices[n - 1] - 1}*gte(N\\,{n})" for n in range(1, len(indices))
             if indices[n] - indices[n - 1] > 1]
    return "N" + "".join("+" + term for term in terms) + (f"+{indices[0]}" if indices and indices[0] else "")


def _done(clip) -> None:
    done = getattr(clip, "done", None)
    if done is not None:
        done()


def encode_video(clips: Sequence[Clip], size: tuple[int, int], out_path: Path, *, fps: int = FPS,
                 fade: float = FADE_SECONDS, timeout: float = 1800) -> int:
    """Stream the clips (crossfaded) into a video-only H.264 MP4; returns the number of frames."""
    durations = [clip.duration for clip in clips]
    starts = [sum(durations[:k]) for k in range(len(clips))]
    ends = [start + d for start, d in zip(starts, durations)]
    fades = fade_lengths(durations, fade)
    sent, total = frames_to_send(clips, fps, fade)
    out_path = Path(out_path)
    expression = timestamps_expression([index for index, _ in sent])
    args = [tools.executable("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-protocol_whitelist", "pipe", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{size[0]}x{size[1]}",
            "-r", str(fps), "-i", "pipe:0",
            "-vf", f"setpts={expression},fps={fps}",
            *X264, "-g", str(fps * 10), "-an", "-movflags", "+faststart", str(out_path)]

    def frame_at(index: int, k: int) -> bytes:
        t = (index + 0.5) / fps
        data = clips[k].frame(t - starts[k])
        if k < len(clips) - 1 and fades[k] > 0 and t > ends[k] - fades[k] / 2:
            alpha = (t - (ends[k] - fades[k] / 2)) / fades[k]
            data = blend_frames(data, clips[k + 1].frame(t - starts[k + 1]), alpha, size)
        elif k > 0 and fades[k - 1] > 0 and t < starts[k] + fades[k - 1] / 2:
            alpha = (t - (starts[k] - fades[k - 1] / 2)) / fades[k - 1]
            data = blend_frames(clips[k - 1].frame(t - starts[k - 1]), data, alpha, size)
        return data

    pending: deque = deque()
    with tempfile.TemporaryFile() as errors, ThreadPoolExecutor(max_workers=FRAME_THREADS) as pool:
        process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
                                   process_group=0)
        # The frames are written as they are drawn, so the limit covers the whole run: a watchdog kills
        # the encoder's group when it passes, which also unblocks a write to a stalled encoder.
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            tools.kill_group(process)

        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            # Moving and blended frames are made a few ahead on worker threads (Pillow's resampling
            # and blending release the GIL).
            released = 0

            def write_next() -> None:
                nonlocal released
                future, k = pending.popleft()
                process.stdin.write(future.result())
                # Frames from here on use clip k-1 at the earliest (a crossfade): let go of older ones.
                while released < k - 1:
                    _done(clips[released])
                    released += 1

            for index, k in sent:
                pending.append((pool.submit(frame_at, index, k), k))
                if len(pending) >= FRAME_LOOKAHEAD:
                    write_next()
            while pending:
                write_next()
            for clip in clips[released:]:
                _done(clip)
            process.stdin.close()
            code = process.wait()
        except BrokenPipeError:
            code = process.wait(timeout=60)
        except BaseException:
            for future, _ in pending:
                future.cancel()
            tools.kill_group(process)
            process.wait()
            out_path.unlink(missing_ok=True)
            raise
        finally:
            watchdog.cancel()
        if code != 0:
            errors.seek(0)
            out_path.unlink(missing_ok=True)
            if expired.is_set():
                raise ToolError(f"ffmpeg (H.264 encode) ran past its time limit of {timeout:g} s and was stopped",
                                tools.tail(errors.read().decode("utf-8", "replace")))
            raise ToolError(f"ffmpeg (H.264 encode) failed (exit status {code})",
                            tools.tail(errors.read().decode("utf-8", "replace")))
    return total


@dataclass(frozen=True)
class NarrationPiece:
    """Audio placed on the timeline at ``at`` seconds: a whole file, or its [start, end) span."""

    path: Path
    at: float
    start: float | None = None
    end: float | None = None


def mix_audio(pieces: Sequence[NarrationPiece], total: float, out_wav: Path, music: Path | None = None) -> None:
    """One ffmpeg run: narration pieces at their places, music looped under them and ducked."""
    samples = round(total * SAMPLE_RATE)
    args: list[str | Path] = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-y"]
    chains: list[str] = []
    labels: list[str] = []
    for index, piece in enumerate(pieces):
        if piece.start is not None:
            args += ["-ss", f"{piece.start:.3f}"]
        if piece.end is not None:
            args += ["-t", f"{piece.end - (piece.start or 0):.3f}"]
        args += audio.input_args(piece.path)
        delay = round(piece.at * 1000)
        chains.append(f"[{index}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=mono,"
                      f"adelay=delays={delay}:all=1[n{index}]")
        labels.append(f"[n{index}]")
    layout = "stereo" if music else "mono"
    if labels:
        mixed = "".join(labels) + (f"amix=inputs={len(labels)}:normalize=0:duration=longest:dropout_transition=0,"
                                   if len(labels) > 1 else "anull,")
        chains.append(f"{mixed}aformat=channel_layouts={layout},apad=whole_len={samples},"
                      f"atrim=end_sample={samples}[narration]")
    if music is not None:
        music_index = len(pieces)
        args += ["-stream_loop", "-1", *audio.input_args(music)]
        fade_out = max(0.0, total - 2.0)
        chains.append(f"[{music_index}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                      f"atrim=end_sample={samples},afade=t=in:d=1,afade=t=out:st={fade_out:.3f}:d=2,"
                      f"volume={MUSIC_LEVEL_DB}dB[music]")
        if labels:
            chains.append("[narration]asplit=2[voice][key]")
            chains.append("[music][key]sidechaincompress=threshold=0.03:ratio=6:attack=20:release=400[ducked]")
            chains.append("[voice][ducked]amix=inputs=2:normalize=0:duration=first:dropout_transition=0[out]")
        else:
            chains.append("[music]anull[out]")
        final = "[out]"
    else:
        final = "[narration]"
    args += ["-filter_complex", ";".join(chains), "-map", final, "-c:a", "pcm_s16le", "-ar", str(SAMPLE_RATE),
             out_wav]
    tools.run(args, outputs=[Path(out_wav)], timeout=1800, what="ffmpeg (audio mix)")


def finish_audio(pieces: Sequence[NarrationPiece], total: float, work: Path, music: Path | None, label: str) -> Path | None:
    """The soundtrack as normalised AAC (.m4a), or None when there is nothing to hear."""
    if not pieces and music is None:
        return None
    mixed = work / "mix.wav"
    mix_audio(pieces, total, mixed, music)
    levelled = work / "levelled.wav"
    # Normalised losslessly, then encoded once: measured, ffmpeg's default AAC coder ("twoloop")
    # at 64-96 kb/s mono lifted the true peak of a -1.8 dBTP file to +1.4 dBTP; the "fast" coder
    # kept it at -1.5.
    audio.normalise(mixed, levelled, target_lufs=TARGET_LUFS, true_peak=TRUE_PEAK, sample_rate=SAMPLE_RATE,
                    what=label)
    out = work / "audio.m4a"
    encode_aac(levelled, out, "96k" if music else "64k")
    return out


def encode_aac(levelled: Path, out: Path, bitrate: str) -> None:
    """A normalised WAV as the soundtrack's AAC, encoded once."""
    tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *audio.input_args(levelled),
               "-c:a", "aac", "-aac_coder", "fast", "-b:a", bitrate, "-map_metadata", "-1", out],
              outputs=[out], timeout=600, what="ffmpeg (AAC)")


def silent_track(total: float, out_path: Path) -> None:
    """``total`` seconds of silence as AAC, the soundtrack of a video with nothing to hear: its MP4 still
    carries an audio track, as the shapes with sound do."""
    tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-t", f"{total:.3f}",
               "-i", f"anullsrc=r={SAMPLE_RATE}:cl=mono", "-c:a", "aac", "-b:a", "32k", out_path],
              outputs=[Path(out_path)], timeout=600, what="ffmpeg (silence)")


def mux(video: Path, soundtrack: Path, out_path: Path) -> None:
    """Video and the soundtrack job's AAC (silence when there is nothing to hear) into the final MP4,
    by stream copy."""
    args: list[str | Path] = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                              *audio.input_args(video), *audio.input_args(soundtrack),
                              "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
                              "-map_metadata", "-1", "-movflags", "+faststart", out_path]
    tools.run(args, outputs=[Path(out_path)], timeout=600, what="ffmpeg (mux)")


def save_jpeg(image: Image.Image, path: Path, quality: int = 85) -> None:
    temp = Path(path).with_name(f".{Path(path).name}.part")
    image.convert("RGB").save(temp, "JPEG", quality=quality, optimize=True, progressive=True)
    os.replace(temp, path)


# --- finished clips --------------------------------------------------------------------------

# A filmed clip moves: x264's "stillimage" tuning (for the storyboard's stills) would smear it.
CLIP_X264 = [arg for arg in X264 if arg not in ("-tune", "stillimage")]


@dataclass(frozen=True)
class ClipInfo:
    """What a finished clip holds, as it will be shown (a rotated phone video's size already turned)."""
    format: str          # sniffed demuxer: "mov" or "matroska"
    name: str            # for people: "MP4/MOV/M4A", "Matroska/WebM"
    duration: float
    width: int
    height: int
    rotation: int        # degrees the player turns the picture (display matrix), 0 when upright
    has_audio: bool
    codec: str


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return round(float(side["rotation"])) % 360
    try:
        return round(float((stream.get("tags") or {}).get("rotate", 0))) % 360
    except ValueError:
        return 0


def probe_clip(path: Path, what: str) -> ClipInfo:
    """A finished video file's format, length, picture and sound, by its content (never its name);
    MediaRefused/ProducerError naming ``what`` when it is no playable video."""
    found, data = media_probe.ffprobe(Path(path), what, "video")
    streams = data.get("streams", [])
    pictures = [s for s in streams if s.get("codec_type") == "video"
                and not (s.get("disposition") or {}).get("attached_pic")]
    if not streams:
        raise ProducerError(f"{what} is empty: it holds no picture and no sound (duration 0); the recording was "
                            "cut short or failed: export or share it again")
    if not pictures:
        kinds = ", ".join(sorted({s.get("codec_type", "?") for s in streams})) or "no streams"
        raise media_probe.MediaRefused(f"{what} holds no moving picture (found: {kinds}); a clip is a video "
                                       f"file ({CLIP_FORMATS})")
    stream = pictures[0]
    duration = _number((data.get("format") or {}).get("duration")) or _number(stream.get("duration"))
    if not duration or duration <= 0:
        raise ProducerError(f"{what} has no playable length (duration 0); the file is empty, cut short or corrupt: "
                            "export or share it again")
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width <= 0 or height <= 0:
        raise ProducerError(f"{what} has a picture of no size ({width}×{height}); the file is corrupt")
    rotation = _rotation(stream)
    if rotation in (90, 270):
        width, height = height, width
    return ClipInfo(found.format, found.name, float(duration), width, height, rotation,
                    any(s.get("codec_type") == "audio" for s in streams), stream.get("codec_name", "?"))


CLIP_FORMATS = "MP4/MOV, WebM/MKV"


def transcode_clip(path: Path, fmt: str, size: tuple[int, int], seconds: float, out_path: Path, *,
                   fps: int = FPS, timeout: float = 3600) -> None:
    """A clip's picture, upright (ffmpeg applies the display matrix), scaled to fit ``size`` and padded,
    at ``fps``, as a video-only H.264 MP4 without any of the source's metadata (places, dates, device)."""
    width, height = size
    chain = (f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
             f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,fps={fps},format=yuv420p")
    tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *media_probe.input_args(path, fmt),
               "-map", "0:v:0", "-vf", chain, "-t", f"{seconds:.3f}", *CLIP_X264, "-g", str(fps * 10), "-an", "-sn",
               "-dn", "-map_metadata", "-1", "-map_chapters", "-1", "-metadata:s:v:0", "rotate=0",
               "-movflags", "+faststart", out_path],
              outputs=[Path(out_path)], timeout=timeout, what="ffmpeg (clip transcode)")


def clip_soundtrack(path: Path, work: Path, label: str) -> Path:
    """A clip's own sound, normalised like a storyboard's soundtrack, as AAC (.m4a)."""
    levelled = work / "levelled.wav"
    audio.normalise(path, levelled, target_lufs=TARGET_LUFS, true_peak=TRUE_PEAK, sample_rate=SAMPLE_RATE,
                    what=label)
    out = work / "audio.m4a"
    encode_aac(levelled, out, "96k")
    return out


def poster_frame(video_path: Path, at: float, out_path: Path) -> None:
    """One frame of a finished MP4 of ours as the JPEG poster (what the viewer sees first)."""
    tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-ss", f"{at:.3f}",
               *audio.input_args(video_path), "-frames:v", "1", "-map_metadata", "-1", "-q:v", "3",
               "-update", "1", out_path],
              outputs=[Path(out_path)], timeout=120, what="ffmpeg (poster)")
