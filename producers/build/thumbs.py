"""Listing pictures: small WebP widths of each listed product's and session's picture.

A kind names its picture (``Kind.thumbnail``: one of its jobs' outputs, say a cover or a poster);
or a file of the content (a site-wide artwork); by default it is the product's share card. One job per picture, planned with the product's jobs
and reading that output (``needs``), so it is keyed and cached like every job and re-renders only
when the picture's bytes change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from PIL import Image

from producers.media.images import cover_box, save_webp
from producers.jobs.pipeline import Job

WIDTHS = (320, 640)                  # px: a one-column phone card, a two-column desktop card at 2x
RATIO = (16, 9)
SIZES = "(min-width: 45em) 20em, 100vw"   # what the card grid gives a picture (cell35.css .c35-cards)
SOURCE = "source"


def thumb_name(width: int) -> str:
    return f"listing-{width}.webp"


def thumb_height(width: int) -> int:
    return width * RATIO[1] // RATIO[0]


def render_thumbs(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path,
                  inputs: Mapping[str, Mapping[str, Path]] | None = None) -> list[str]:
    """Job action: the picture cropped to 16:9 at each width, WebP without metadata."""
    with Image.open(files[0] if files else inputs[SOURCE][params["output"]]) as picture:
        picture.load()
        rgb = picture.convert("RGB")
    for width in params["widths"]:
        save_webp(cover_box(rgb, width, thumb_height(width)), out_dir / thumb_name(width))
    return []


def thumb_job(name: str, source: tuple[str, str] | Path) -> Job:
    """The job ``name`` making a listing picture from a file, or from (job name, output name)."""
    outputs = tuple(thumb_name(width) for width in WIDTHS)
    if isinstance(source, Path):
        return Job(name=name, kind="thumbnail", action=render_thumbs, params={"output": "", "widths": list(WIDTHS)},
                   files=(source,), outputs=outputs, needs={})
    source_job, output = source
    return Job(name=name, kind="thumbnail", action=render_thumbs, params={"output": output, "widths": list(WIDTHS)},
               files=(), outputs=outputs, needs={SOURCE: source_job})


def default_source(jobs: Sequence[Job], output: str = "card.png") -> tuple[str, str] | None:
    """The job among ``jobs`` that makes ``output`` (the share card, by default)."""
    return next(((job.name, output) for job in jobs if output in job.outputs), None)
