"""Module-level job actions for pipeline tests (actions are pickled to worker processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from producers.media import tools


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


def never_ending_tool(params, files, out: Path):
    """A real tool that never finishes by itself (ffmpeg writing silence at its real-time pace), run
    with a tool limit far beyond the job's."""
    tools.run(["ffmpeg", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
               "-f", "wav", "-flush_packets", "1", "-y", params["wav"]], timeout=3600)


def hog(params, files, out: Path):
    """Asks for more memory than a job may have."""
    block = bytearray(params["bytes"])
    (out / "hog.txt").write_text(str(len(block)))


def count_letters(params, files, out: Path, inputs):
    """A dependent job: reads the output of the job it needs."""
    text = inputs["text"]["upper.txt"].read_text(encoding="utf-8")
    (out / "count.txt").write_text(f"{sum(c.isalpha() for c in text)} letters from {inputs['text']['upper.txt']}")
    return []


def maybe(params, files, out: Path, inputs):
    """A job that uses another job's output if it rendered."""
    found = inputs["maybe"]
    (out / "maybe.txt").write_text("absent" if found is None else found["upper.txt"].read_text(encoding="utf-8"))
    return []


def note(params, files, out: Path, inputs=None):
    """Appends the job's name to a log shared by the jobs of a test: the order they ran in."""
    with open(params["log"], "a", encoding="utf-8") as log:
        log.write(params["name"] + "\n")
    (out / "note.txt").write_text(params["name"])
    return []


def broken_report_chart(params, files, out: Path):
    """Stands in for the report job's action: a bug in drawing its charts."""
    raise RuntimeError("the report's chart broke")


def disk_full_subsetting(params, files, out: Path):
    """Stands in for a web font job's action: the disk fills up."""
    raise OSError("disk full while subsetting")
