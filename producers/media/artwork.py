"""Podcast artwork: the rules every podcast app follows, checked on the image's own bytes, and its
metadata-free re-encoding."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from producers.errors import ProducerError
from producers.media.probe import describe_content, sniff_image

ARTWORK_MIN, ARTWORK_MAX = 1400, 3000


def check_artwork(path: Path, what: str) -> tuple[int, int, str]:
    """Podcast artwork rules (Apple's, which every app follows): 1400-3000 px square RGB JPEG/PNG, no alpha.

    Returns (width, height, format); ``what`` names the file in the error, e.g. 'site.yml podcast.image'.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(32)
        real = sniff_image(head)
        if real is None:
            raise ProducerError(f"{what}: {Path(path).name} is not an image: the file contains "
                                f"{describe_content(head)}; use a JPEG or PNG")
        # Opened only as what its bytes are: no other Pillow plugin (EPS would run Ghostscript) tries it.
        with Image.open(path, formats=[real]) as image:
            width, height, fmt, mode = image.width, image.height, image.format, image.mode
            has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info)
    except (OSError, UnidentifiedImageError):
        raise ProducerError(f"{what}: {Path(path).name} is not a readable image") from None
    problems = []
    if fmt not in ("JPEG", "PNG"):
        problems.append(f"format is {fmt}; use JPEG or PNG")
    if width != height:
        problems.append(f"it is {width}x{height} px; it must be square")
    if not ARTWORK_MIN <= max(width, height) <= ARTWORK_MAX or not ARTWORK_MIN <= min(width, height):
        problems.append(f"size {width}x{height} px is outside {ARTWORK_MIN}-{ARTWORK_MAX} px")
    if has_alpha:
        problems.append("it has transparency (an alpha channel); save it without, as RGB")
    elif mode not in ("RGB", "L", "P"):
        problems.append(f"colour mode is {mode}; save it as RGB")
    if problems:
        raise ProducerError(f"{what}: podcast artwork {Path(path).name} must be a square RGB JPEG or PNG of "
                            f"{ARTWORK_MIN}-{ARTWORK_MAX} px without transparency, but " + "; ".join(problems),
                            field="image")
    return width, height, fmt


def artwork_bytes(path: Path, what: str, size: int | None = None) -> bytes:
    """Validated artwork re-encoded as a metadata-free JPEG (no EXIF, so no location), optionally resized."""
    _, _, fmt = check_artwork(path, what)
    with Image.open(path, formats=[fmt]) as image:
        rgb = image.convert("RGB")
        if size and rgb.width != size:
            rgb = rgb.resize((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=88, optimize=True, progressive=False)
    return out.getvalue()
