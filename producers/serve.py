"""A local preview server that answers HEAD and byte-range requests (video seeking, podcast apps),
sends text compressed (the build's .br/.gz copies, as nginx and Caddy would), and rebuilds when
content changes.

The server never dies with a rebuild: whatever a rebuild raises is reported in one line and the
last site that built stays served (a build swaps the site in only when it is complete).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import threading
import time
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from producers.build.compress import MIN_SIZE, compressible

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler plus single-range ``Range: bytes=a-b`` support (206 / 416)."""

    # Keep-alive: HTTP/1.0 opened a connection per file, a round trip each on a slow phone link
    # (every response here carries a Content-Length, which HTTP/1.1 needs).
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass

    def handle(self) -> None:
        # A viewer who stops a video or leaves a page closes the connection mid-file; the stdlib
        # printed a traceback for each such request, which buried any real error in the log.
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def send_head(self):
        self._range = None
        self._coded = False
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not header:
            encoded = self._encoded(path)
            if encoded is not None:
                return encoded
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

    def _accepted(self) -> set[str]:
        """Content codings the client takes (``Accept-Encoding``; ``q=0`` refuses one)."""
        accepted = set()
        for item in self.headers.get("Accept-Encoding", "").split(","):
            coding, _, params = item.strip().partition(";")
            quality = params.strip().removeprefix("q=")
            try:
                refused = params.strip().startswith("q=") and float(quality) == 0
            except ValueError:
                refused = False
            if coding and not refused:
                accepted.add(coding.strip().lower())
        return accepted

    def _encoded(self, path: str):
        """A text file sent compressed: the build's .br or .gz copy beside it, or gzip made now (a site
        built without them). None sends it as it is: not text, too small, or the client takes neither."""
        if os.path.isdir(path):
            if not self.path.partition("?")[0].partition("#")[0].endswith("/"):
                return None                         # the stdlib redirects to the slashed URL
            path = os.path.join(path, "index.html")
        if not compressible(path) or not os.path.isfile(path):
            return None
        accepted = self._accepted()
        stat = os.stat(path)
        for coding, suffix in (("br", ".br"), ("gzip", ".gz")):
            if coding in accepted and os.path.isfile(path + suffix):
                body = open(path + suffix, "rb")
                length = os.fstat(body.fileno()).st_size
                break
        else:
            if "gzip" not in accepted or stat.st_size < MIN_SIZE:
                return None
            with open(path, "rb") as handle:
                data = gzip.compress(handle.read(), compresslevel=6)
            coding, body, length = "gzip", io.BytesIO(data), len(data)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(length))
        self.send_header("Last-Modified", self.date_time_string(stat.st_mtime))
        self.send_header("Vary", "Accept-Encoding")
        self._coded = True       # ranges are served of the file as it is, never of a coded copy
        self.end_headers()
        return body

    def send_error(self, code, message=None, explain=None) -> None:
        """A missing page answers with the site's own 404 page (every content language's words and
        links home), as the README's nginx and Caddy configuration make a production server do."""
        page = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(code, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        if not getattr(self, "_range", None) and not getattr(self, "_coded", False):
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


def watch(root: Path, rebuild: Callable[[], object], stop: threading.Event, interval: float = 1.0,
          report: Callable[[str], None] = print, since: tuple | None = None) -> None:
    """Call ``rebuild`` when anything under ``root`` changes, until ``stop`` is set. A failure of any
    kind is reported and the watching goes on: the next edit (the fix, usually) rebuilds again.

    ``since`` is the fingerprint the served site was built from (taken before that build started),
    so an edit made while it was building is not missed."""
    last = content_fingerprint(root) if since is None else since
    while not stop.wait(interval):
        try:
            current = content_fingerprint(root)
            if current == last:
                continue
            time.sleep(0.3)   # let an editor finish writing
            last = content_fingerprint(root)
            rebuild()
        except Exception as exc:  # noqa: BLE001 - whatever it was, the preview keeps serving
            report(f"rebuild failed: {type(exc).__name__}: {exc}; still serving the last site that built")


class Preview:
    """``root`` served on ``host:port``; with ``content``, rebuilt by ``rebuild`` when content changes."""

    def __init__(self, root: Path, host: str, port: int, rebuild: Callable[[], object],
                 report: Callable[[str], None], content: Path | None = None, interval: float = 1.0,
                 since: tuple | None = None):
        self.server = make_server(root, host, port)
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.server.serve_forever, daemon=True, name="cell35-serve")]
        if content is not None:
            self.threads.append(threading.Thread(target=watch, args=(content, rebuild, self.stopping, interval, report, since),
                                                 daemon=True, name="cell35-watch"))

    def start(self) -> str:
        for thread in self.threads:
            thread.start()
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def wait(self) -> None:
        """Until Ctrl-C (KeyboardInterrupt reaches the main thread) or ``stop``."""
        while not self.stopping.wait(0.5):
            pass

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self.threads[1:]:
            thread.join(timeout=60)
