"""Preview builds of one session: a site built in a background thread into the portal's data dir,
its state in ``status.json`` (the page polls it by refreshing), its files served by the names the
build wrote (``manifest.json``): the requested path is only looked up there, never joined to a path."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from django.conf import settings

from producers.portal import content

_lock = threading.Lock()
_running: dict[str, threading.Thread] = {}


def folder(key: str) -> Path:
    return Path(settings.DATA_DIR) / "previews" / key


def status(key: str) -> dict | None:
    try:
        return json.loads((folder(key) / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write(root: Path, name: str, data) -> None:
    temp = root / f".{name}.tmp"
    temp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, root / name)


def start(key: str, prepare: Callable[[Path], None]) -> bool:
    """Start a preview build unless one of ``key`` runs; ``prepare(scratch)`` writes its content tree
    (here, in the request: it may read the database). False: one was already running."""
    with _lock:
        running = _running.get(key)
        if running is not None and running.is_alive():
            return False
        root = folder(key)
        root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="cell35-preview-"))
        try:
            prepare(scratch)
        except Exception:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        options = content.preview_options(scratch, root / "site")
        _write(root, "status.json", {"state": "building", "started": time.time()})
        thread = threading.Thread(target=_build, args=(root, scratch, options), name=f"preview {key}", daemon=True)
        _running[key] = thread
        thread.start()
        return True


def _build(root: Path, scratch: Path, options) -> None:
    started = time.time()
    try:
        result = content.run_build(options)
        site = root / "site"
        files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) if site.is_dir() else []
        _write(root, "manifest.json", files)
        _write(root, "status.json", {
            "state": "done" if result.ok else "failed", "started": started, "seconds": round(time.time() - started, 1),
            "problems": [str(p) for p in result.problems if p.severity == "error"]})
    except Exception as exc:       # the page shows why; the thread must not die silently
        _write(root, "status.json", {"state": "failed", "started": started, "problems": [str(exc)]})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def wait_all(timeout: float = 600) -> None:
    """Join the running preview builds (tests; a shutdown)."""
    for thread in list(_running.values()):
        thread.join(timeout)


def site_file(key: str, requested: str) -> Path | None:
    """The built file a URL names: the names the build wrote, looked up; a folder means its index.html."""
    try:
        names = set(json.loads((folder(key) / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    for candidate in (requested, requested.rstrip("/") + "/index.html" if requested else "index.html"):
        if candidate in names:
            return folder(key) / "site" / next(n for n in names if n == candidate)
    return None
