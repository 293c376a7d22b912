"""Small real media and content trees for the speech, audio, podcast and feed tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from producers import speech

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
