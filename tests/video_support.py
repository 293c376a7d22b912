"""Tiny real content trees and probes for the video tests and the video benchmark."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw

from producers.jobs.pipeline import Cache, run_jobs
from producers.kinds.base import ProductContext
from tests.conftest import product_context

SITE_YML = "title: Test site\nbase_url: https://example.org/\nlanguage: en\n"
CELLS_YML = ("cells:\n"
             "- {id: ha-long, name: Chi bộ Hạ Long, committee: Quảng Ninh, area: Hạ Long, language: vi}\n")
SESSION_MD = ("---\ntitle: Sanitation in our ward\ncell: ha-long\ndate: 2024-10-12\ngroup: build\nlanguage: {language}\n"
              "attendance: {{present: 12, members: 15}}\nstatus: published\nsummary: We cleaned the canal.\n---\n"
              "Minutes.\n")
FOLDER = "sessions/2024-q4/ha-long-sanitation"


def photo(path: Path, size=(640, 480), seed: int = 0) -> Path:
    """A photo-like picture: a gradient with shapes, so motion and fades are visible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    colours = [(200, 60, 40), (40, 120, 200), (60, 170, 80), (230, 190, 40)]
    for k in range(6):
        x, y = (k * 97 + seed * 53) % size[0], (k * 61 + seed * 29) % size[1]
        draw.ellipse((x, y, x + size[0] // 5, y + size[1] // 5), fill=colours[(k + seed) % len(colours)])
    image.save(path, quality=90)
    return path


def write_tree(root: Path, product_md: str, *, language: str = "en", extra: dict[str, str | bytes] | None = None,
               photos: int = 2) -> Path:
    """A content tree with one session holding ``02-video.md`` and ``photos`` photos in media/."""
    (root / FOLDER / "media").mkdir(parents=True, exist_ok=True)
    (root / "site.yml").write_text(SITE_YML, encoding="utf-8")
    (root / "cells.yml").write_text(CELLS_YML, encoding="utf-8")
    (root / FOLDER / "session.md").write_text(SESSION_MD.format(language=language), encoding="utf-8")
    (root / FOLDER / "02-video.md").write_text(product_md, encoding="utf-8")
    for k in range(photos):
        photo(root / FOLDER / "media" / f"p{k + 1}.jpg", seed=k)
    for name, data in (extra or {}).items():
        target = root / FOLDER / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
    return root


def context(root: Path, stem: str = "02-video") -> ProductContext:
    return product_context(root, stem)


def render(jobs, cache_dir: Path):
    return run_jobs(jobs, Cache(cache_dir))


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, check=True).stdout
    return json.loads(out)


def frame_at(path: Path, seconds: float, out: Path) -> Image.Image:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{seconds:.3f}", "-i", str(path),
                    "-frames:v", "1", str(out)], check=True, capture_output=True)
    return Image.open(out).convert("RGB")


def make_clip(path: Path, *, size=(320, 180), seconds=2.5, sound=True, rotate=False) -> Path:
    """A tiny real clip (test pattern and a tone) with a place and a date in its metadata, as phones
    write them; ``rotate`` sets the display matrix a phone held upright writes (the picture stored
    sideways, turned 90° when played)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc=size={size[0]}x{size[1]}:rate=24:duration={seconds}"]
    if sound:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=48000"]
    args += ["-map", "0:v"]                       # the video track first: its header is the first tkhd
    if sound:
        args += ["-map", "1:a", "-c:a", "aac", "-b:a", "64k"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             "-metadata", "location=+20.9518+107.0805/", "-metadata", "creation_time=2024-10-12T08:30:00Z",
             "-metadata", "make=Apple", str(path)]
    subprocess.run(args, check=True, capture_output=True)
    if rotate:
        # ffmpeg 5.1 has no -display_rotation: write the matrix into the video track's header (tkhd).
        data = bytearray(path.read_bytes())
        matrix = data.find(b"tkhd") + 4 + 40
        data[matrix:matrix + 36] = struct.pack(">9i", 0, 65536, 0, -65536, 0, 0, size[1] * 65536, 0, 1 << 30)
        path.write_bytes(bytes(data))
    return path
