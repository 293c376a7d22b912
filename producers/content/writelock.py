"""One writer at a time in ``content/``.

Every change the system makes to ``content/`` reads something first and decides from it: intake
reads the ledger for the cell's quota and looks whether the session folder exists (live or a
revision); an editorial step reads the session's status; the portal's cell page reads ``cells.yml``
before writing it back. The portal runs in several processes, and an editor may run ``cell35 review``
beside it, so two of these can interleave: two uploads from one cell each found room in the quota
and both were filed (the cap exceeded by as many uploads as were sent at once); two editors
approving and rejecting the same session each wrote the history they had read, and one step was
lost from the front matter; two admins editing cells lost one edit.

So each of these holds an exclusive ``flock`` on ``content/.cell35-write.lock`` from its first read
to its last write. ``flock`` is dropped by the kernel when the holder dies, however it dies, so there
is no stale lock to clear. A waiter gives up after ``WAIT_SECONDS`` with ``ContentBusy`` naming the
holder, rather than hang a web request. Builds only read ``content/`` and take no part in this (they
have their own lock on their output and cache, ``jobs/buildlock``).

Reentrant within a thread (a step that calls another step does not wait on itself); other threads
and processes wait, because each takes its own open file description, which is what flock locks.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from producers.errors import Cell35Error

LOCK_NAME = ".cell35-write.lock"
WAIT_SECONDS = 60.0      # longer than any one intake of a submission at its size cap takes
POLL_SECONDS = 0.05

_held = threading.local()   # (process, lock file) pairs this thread holds: reentrancy, not sharing


class ContentBusy(Cell35Error):
    """Another process kept content/ locked for longer than the wait allows."""


def lock_path(content: Path) -> Path:
    return Path(content) / LOCK_NAME


@contextmanager
def content_write_lock(content: Path, wait: float | None = None) -> Iterator[None]:
    """Hold content/'s write lock for the body of the ``with``: wait up to ``wait`` seconds for it
    (by default WAIT_SECONDS)."""
    wait = WAIT_SECONDS if wait is None else wait
    # with the process id: a child forked by a holder inherits this thread's state, not the lock's turn
    key = (os.getpid(), lock_path(content).resolve())
    held: set = _held.__dict__.setdefault("keys", set())
    if key in held:
        yield
        return
    fd = os.open(key[1], os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another process"
                    raise ContentBusy(f"{Path(content)} is being changed by {holder}; waited {wait:g} s. "
                                      f"Nothing was changed: try again in a minute") from None
                time.sleep(POLL_SECONDS)
        started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()}, since {started}".encode(), 0)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
    finally:
        os.close(fd)        # releases the lock
