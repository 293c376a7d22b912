"""Site builds in the background: a session's preview, and the public site after a publish.

One thread per build folder; its state is ``status.json`` in that folder (the pages poll it by
refreshing, or read it as JSON). The status names its owner, the process id and that process's start
time, so a status left "building" by a portal that was restarted (or killed) reads as "interrupted"
instead of building forever. A second build of the same folder is refused while the owner lives, also
from another worker process (a lock file guards the check and the start).

A preview's files are served by the names the build wrote (``manifest.json``): the requested path is
only looked up there, never joined to a path."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from django.conf import settings

from producers.portal import content

PROGRESS_EVERY = 0.5         # s between two writes of the status while jobs finish

_lock = threading.Lock()
_running: dict[str, threading.Thread] = {}

# work(report) -> the final status fields; report(done, total, note) tells the page how far it is.
Report = Callable[[int, int, str], None]
Work = Callable[[Report], dict]


def folder(key: str) -> Path:
    return Path(settings.DATA_DIR) / "previews" / key


def publish_folder() -> Path:
    return Path(settings.DATA_DIR) / "publish"


def _read(root: Path, name: str):
    try:
        return json.loads((root / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write(root: Path, name: str, data) -> None:
    temp = root / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
    temp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, root / name)


# --- who owns a build ------------------------------------------------------------------------------

def _started_at(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat, field 22): with the pid, it
    names one process; a pid the system gave again to a new process has another start time."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def _owner() -> dict:
    return {"pid": os.getpid(), "since": _started_at(os.getpid())}


def _alive(root: Path, owner) -> bool:
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return False                         # no owner recorded: a portal from before owners were
    pid = owner["pid"]
    if owner == _owner():                    # this process: is its thread still at work?
        thread = _running.get(str(root))     # not started yet (no ident): about to be
        return thread is not None and (thread.is_alive() or thread.ident is None)
    if owner.get("since") is None:           # no /proc here: the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return _started_at(pid) == owner["since"]


def read_status(root: Path) -> dict | None:
    """The build's state; "building" whose owner is gone reads as "interrupted"."""
    found = _read(root, "status.json")
    if not isinstance(found, dict):
        return None
    if found.get("state") == "building" and not _alive(root, found.get("owner")):
        found = {**found, "state": "interrupted"}
    return found


def status(key: str) -> dict | None:
    return read_status(folder(key))


@contextmanager
def _starting(root: Path) -> Iterator[None]:
    """This process's lock, then the folder's lock file (other worker processes)."""
    with _lock:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".start.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


# --- running one ---------------------------------------------------------------------------------

def launch(root: Path, work: Work, prepare: Callable[[], dict] | None = None, name: str = "build") -> bool:
    """Start ``work`` in a thread unless a build of ``root`` runs (False: one was running, nothing done).
    ``prepare()`` runs first, here in the request and under the lock (it may read the database, or
    refuse by raising); what it returns is kept in the status."""
    with _starting(root):
        current = read_status(root)
        if current is not None and current.get("state") == "building":
            return False
        extra = prepare() if prepare is not None else {}
        started = time.time()
        base = {**extra, "started": started, "owner": _owner()}
        thread = threading.Thread(target=_run, args=(root, work, base), name=f"{name} {root.name}", daemon=True)
        _running[str(root)] = thread
        _write(root, "status.json", {**base, "state": "building", "done": 0, "total": 0})
        thread.start()
        return True


def _run(root: Path, work: Work, base: dict) -> None:
    last = [0.0]

    def report(done: int, total: int, note: str = "") -> None:
        now = time.time()
        if now - last[0] >= PROGRESS_EVERY or done == total or note:
            last[0] = now
            _write(root, "status.json", {**base, "state": "building", "done": done, "total": total, "note": note})

    try:
        final = work(report)
    except Exception as exc:       # the page shows why; the thread must not die silently
        final = {"state": "failed", "problems": [str(exc)]}
    done = _read(root, "status.json") or {}
    _write(root, "status.json", {"done": done.get("done", 0), "total": done.get("total", 0), **base, **final,
                                 "seconds": round(time.time() - base["started"], 1)})


def take_finished(root: Path, mark: str = "audited") -> dict | None:
    """The finished status, once: the first caller gets it and it is marked ``mark`` (the audit log
    records a publish's result when a request first sees it; the build's thread keeps out of the database)."""
    with _starting(root):
        found = read_status(root)
        if found is None or found.get("state") == "building" or found.get(mark):
            return None
        _write(root, "status.json", {**_read(root, "status.json"), mark: True})
        return found


def wait_all(timeout: float = 600) -> None:
    """Join the running builds (tests; a shutdown)."""
    for thread in list(_running.values()):
        thread.join(timeout)


# --- previews ------------------------------------------------------------------------------------

def start(key: str, prepare: Callable[[Path], None]) -> bool:
    """Start a preview build unless one of ``key`` runs; ``prepare(scratch)`` writes its content tree
    (here, in the request: it may read the database). False: one was already running."""
    root = folder(key)
    made: list[tuple[Path, object]] = []

    def tree() -> dict:
        scratch = Path(tempfile.mkdtemp(prefix="cell35-preview-"))
        try:
            prepare(scratch)
        except Exception:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        made.append((scratch, content.preview_options(scratch, root / "site")))
        return {}

    def build(report: Report) -> dict:
        scratch, options = made[0]
        try:
            result = content.run_build(options, report)
            site = root / "site"
            files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) \
                if site.is_dir() else []
            _write(root, "manifest.json", files)
            return {"state": "done" if result.ok else "failed",
                    "problems": [str(p) for p in result.problems if p.severity == "error"]}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return launch(root, build, tree, name="preview")


def site_file(key: str, requested: str) -> Path | None:
    """The built file a URL names: the names the build wrote, looked up; a folder means its index.html."""
    names = _read(folder(key), "manifest.json")
    if not isinstance(names, list):
        return None
    names = set(names)
    for candidate in (requested, requested.rstrip("/") + "/index.html" if requested else "index.html"):
        if candidate in names:
            return folder(key) / "site" / next(n for n in names if n == candidate)
    return None
