"""Small real media and content trees for the speech, audio, podcast and feed tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from producers.media import speech
from tests.conftest import product_contexts_in

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([*FFMPEG, *map(str, args)], check=True, capture_output=True)


def spoken(path: Path, text: str = "Hello everyone. This is a short recording for the test. Thank you.",
           language: str = "en", *, rate: int = 48_000, channels: int = 2, volume_db: float = 0.0) -> Path:
    """A real speech recording in any container ffmpeg writes, chosen by ``path``'s extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_name(path.stem + ".raw.wav")
    speech.synthesize(text, language, raw)
    ffmpeg("-i", raw, "-af", f"volume={volume_db}dB", "-ar", str(rate), "-ac", str(channels), path)
    raw.unlink()
    return path


def silence(path: Path, seconds: float = 3.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"anullsrc=r=44100:cl=stereo", "-t", str(seconds), path)
    return path


def tone(path: Path, seconds: float = 3.0, amplitude: float = 0.1, rate: int = 48_000) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc={amplitude}*sin(2*PI*997*t):s={rate}:d={seconds}", path)
    return path


def video_with_sound(path: Path, seconds: float = 2.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size=160x120:rate=10:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path)
    return path


def video_only(path: Path, seconds: float = 1.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size=160x120:rate=10:duration={seconds}",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", path)
    return path


# --- content trees ---------------------------------------------------------------------------

SITE_YML = """title: Demo
base_url: https://example.org/
language: en
podcast:
  title: Voices of the Cell
  author: Cell35 team
  owner: {name: Editor, email: podcast@example.org}
  description: Short stories from cell sessions.
  image: media/podcast.png
"""
CELLS_YML = """cells:
- {id: ha-long, name: Ha Long cell, committee: Quang Ninh, area: Ha Long, language: vi}
- {id: varanasi, name: Varanasi unit, committee: Uttar Pradesh, area: Varanasi, language: hi}
"""


def session_md(cell: str = "ha-long", date: str = "2024-10-12", language: str = "vi") -> str:
    return (f"---\ntitle: A session\ncell: {cell}\ndate: {date}\ngroup: build\nlanguage: {language}\n"
            "attendance: {present: 9, members: 10}\nstatus: published\nsummary: We met.\n---\nMinutes.\n")


def artwork(path: Path, size: int = 1400, mode: str = "RGB", fmt: str = "PNG") -> Path:
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = (183, 28, 28, 128)[: len(mode)] if mode != "L" else 120
    Image.new(mode, (size, size), colour).save(path, fmt)
    return path


class PodcastTree:
    """A content tree with a podcast channel; sessions and products added per test."""

    def __init__(self, root: Path, site_extra: str = ""):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "site.yml").write_text(SITE_YML + site_extra, encoding="utf-8")
        (root / "cells.yml").write_text(CELLS_YML, encoding="utf-8")
        artwork(root / "media" / "podcast.png")

    def session(self, slug: str = "ha-long-forest", quarter: str = "2024-q4", **session) -> Path:
        folder = self.root / "sessions" / quarter / slug
        (folder / "media").mkdir(parents=True, exist_ok=True)
        (folder / "session.md").write_text(session_md(**session), encoding="utf-8")
        return folder

    def product(self, folder: Path, name: str, front: str, body: str = "") -> Path:
        path = folder / name
        path.write_text(f"---\n{front.strip()}\n---\n{body}", encoding="utf-8")
        return path


def contexts(root: Path, kind: str = "podcast"):
    """The context of every product of ``kind`` in the tree, failing on load errors."""
    return product_contexts_in(root, kind)


def render(ctx, cache: Path):
    from producers.kinds.podcast import PodcastProducer
    from producers.jobs.pipeline import Cache, run_jobs

    producer = PodcastProducer()
    return producer, run_jobs(producer.plan(ctx), Cache(cache))


def episode_result(results):
    """The episode job's result among a podcast's jobs (it also plans the page's share card)."""
    [episode] = [result for name, result in results.items() if not name.endswith(":card")]
    return episode
