"""Module-level job actions for pipeline tests (actions are pickled to worker processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from producers import tools


def tone(params, files, out: Path):
    """A real ffmpeg render: a short sine tone."""
    tools.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency={params['hz']}:duration=0.2",
               "-y", out / "tone.wav"], outputs=[out / "tone.wav"], timeout=60)
    return []


def upper(params, files, out: Path):
    text = files[0].read_text(encoding="utf-8")
    (out / "upper.txt").write_text(text.upper(), encoding="utf-8")
    return ["shouting"] if params.get("warn") else []


def broken_ffmpeg(params, files, out: Path):
    tools.run(["ffmpeg", "-v", "error", "-i", files[0], "-y", out / "x.wav"], outputs=[out / "x.wav"], timeout=60)


def slow(params, files, out: Path):
    time.sleep(params["seconds"])
    (out / "done.txt").write_text("done")


def forgets_output(params, files, out: Path):
    return []


def logged_sleep(params, files, out: Path):
    """Notes each run (process id, start and end time) in a shared log: how often did it really render?"""
    started = time.time()
    time.sleep(params["seconds"])
    with open(params["log"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {started} {time.time()}\n")
    (out / "done.txt").write_text("done")
    return []


def tag(params, files, out: Path):
    (out / "tag.txt").write_text(params["tag"])
    return []
