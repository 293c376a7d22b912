"""One build at a time per output folder and per cache.

A build writes a staging folder beside the site and then removes every staging folder but its own
and the previous site's; a second build running at the same time (``cell35 build`` while ``cell35
serve`` rebuilds) had its staging thrown away and failed, or two builds pruned each other's cache
entries. So a build holds an exclusive ``flock`` on a lock file beside the output and on one in
the cache for its whole run. ``flock`` is released by the kernel when the process ends, however it
ends (even SIGKILL), so a killed build never leaves a stale lock behind; locks are taken in a fixed
order (output, then cache), so two builds can never wait on each other.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

from producers.errors import Cell35Error

CACHE_LOCK = "build.lock"


class BuildBusy(Cell35Error):
    """Another build holds the lock and the caller asked not to wait."""


def output_lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 400, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not said who it is yet"


@contextmanager
def _exclusive(path: Path, what: str, wait: bool, notify: Callable[[str], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise BuildBusy(f"{what} is in use by another cell35 build ({holder}); not waiting (--no-wait): "
                                f"run again when that build has finished") from None
            notify(f"waiting: {what} is in use by another cell35 build ({holder}); "
                   f"this build starts when that one has finished")
            fcntl.flock(fd, fcntl.LOCK_EX)
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}, started {started}".encode(), 0)
        yield
    finally:
        os.close(fd)        # releases the lock


@contextmanager
def build_lock(out: Path, cache_root: Path, wait: bool = True,
               notify: Callable[[str], None] = lambda message: None) -> Iterator[None]:
    """Hold the output's and the cache's locks; wait for them (saying so through ``notify``) or,
    with ``wait=False``, raise BuildBusy naming the build that holds them."""
    with ExitStack() as stack:
        stack.enter_context(_exclusive(output_lock_path(out), f"the output {out}", wait, notify))
        stack.enter_context(_exclusive(Path(cache_root) / CACHE_LOCK, f"the cache {cache_root}", wait, notify))
        yield
