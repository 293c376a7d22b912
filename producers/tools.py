"""The one wrapper through which every external tool runs.

It keeps the tail of stderr for the error message, enforces a time limit, and deletes partial
output files when the tool fails, so a half-written file can never be mistaken for a result.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from .errors import ToolError

STDERR_TAIL_LINES = 15


@functools.cache
def executable(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"{name} is not installed; run scripts/setup")
    return found


@functools.cache
def version(name: str) -> str:
    """First line of the tool's version banner: part of every job key that uses the tool."""
    flag = {"espeak-ng": "--version"}.get(name, "-version")
    result = subprocess.run([executable(name), flag], capture_output=True, text=True, timeout=30)
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "unknown"


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run(args: list[str | Path], *, outputs: list[Path] = (), timeout: float = 600, what: str = "",
        input_bytes: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a tool; on failure or timeout remove ``outputs`` and raise ToolError with stderr's tail."""
    argv = [str(a) for a in args]
    argv[0] = executable(argv[0])
    label = what or Path(argv[0]).name
    try:
        result = subprocess.run(argv, capture_output=True, timeout=timeout, input=input_bytes)
    except subprocess.TimeoutExpired as exc:
        _remove(outputs)
        stderr = (exc.stderr or b"").decode("utf-8", "replace")
        raise ToolError(f"{label} ran past its {timeout:.0f} s time limit", tail(stderr)) from None
    if result.returncode != 0:
        _remove(outputs)
        stderr = result.stderr.decode("utf-8", "replace")
        raise ToolError(f"{label} failed (exit status {result.returncode})", tail(stderr))
    return result


def _remove(paths) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)
