"""A local preview server that answers HEAD and byte-range requests (video seeking, podcast apps),
and rebuilds when content changes."""

from __future__ import annotations

import os
import re
import threading
import time
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single-range ``Range: bytes=a-b`` support (206 / 416)."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_head(self):
        self._range = None
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not header or not os.path.isfile(path):
            return super().send_head()
        match = _RANGE.match(header.strip())
        size = os.path.getsize(path)
        if not match or match.groups() == ("", ""):
            return super().send_head()
        first, last = match.groups()
        if first == "":
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if start >= size or start > end:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        handle = open(path, "rb")
        handle.seek(start)
        self._range = (start, end)
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return handle

    def end_headers(self) -> None:
        if not getattr(self, "_range", None):
            self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def copyfile(self, source, outputfile) -> None:
        if getattr(self, "_range", None) is None:
            return super().copyfile(source, outputfile)
        start, end = self._range
        remaining = end - start + 1
        while remaining > 0:
            chunk = source.read(min(1 << 16, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    handler = partial(RangeRequestHandler, directory=str(root))
    ThreadingHTTPServer.allow_reuse_address = True
    return ThreadingHTTPServer((host, port), handler)


def content_fingerprint(root: Path) -> tuple:
    """Cheap change detection for the watcher (names, sizes, mtimes). Only triggers a rebuild;
    the build itself decides what is stale by content hash."""
    entries = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                stat = os.stat(os.path.join(dirpath, name))
            except OSError:
                continue
            entries.append((dirpath, name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


def watch(root: Path, rebuild: Callable[[], None], stop: threading.Event, interval: float = 1.0) -> None:
    last = content_fingerprint(root)
    while not stop.wait(interval):
        current = content_fingerprint(root)
        if current != last:
            time.sleep(0.3)   # let an editor finish writing
            last = content_fingerprint(root)
            rebuild()
