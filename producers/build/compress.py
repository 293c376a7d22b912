"""Precompressed copies beside the final site's text files: ``page.html.gz`` and ``page.html.br``.

A server that sends them as they are (nginx ``gzip_static``/``brotli_static``, Caddy
``file_server { precompressed br gzip }``, ``cell35 serve``) gives every visitor the smallest
transfer at the highest compression level without compressing a byte per request: on a phone on a
slow link the pages, the theme's script and the search index shards are most of what is waited for.

Compressing is cached by content: the store (``<cache>/compressed/<sha256>.gz|.br``) is linked
into each build, so an unchanged file is compressed once, ever. An entry that no build links any
more (link count 1) is dropped on the next run.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import brotli

from producers.jobs.trees import TreeLinker

# Text formats the site publishes; images, fonts (woff2), audio and video are compressed already.
COMPRESSIBLE = frozenset({".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".vtt", ".srt", ".csv",
                          ".map", ".webmanifest"})
# Below this a compressed copy saves less than a packet and costs a file each.
MIN_SIZE = 512


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)       # mtime 0: the same bytes every build


def brotli_bytes(data: bytes) -> bytes:
    return brotli.compress(data, mode=brotli.MODE_TEXT, quality=11)


ENCODERS: dict[str, Callable[[bytes], bytes]] = {".br": brotli_bytes, ".gz": gzip_bytes}


@dataclass(frozen=True)
class Compressed:
    files: int             # text files with compressed copies
    made: int              # copies compressed in this run (the rest came from the store)
    bytes_in: int          # those files' size
    bytes_gzip: int        # their .gz copies' size
    bytes_brotli: int      # their .br copies' size


def compressible(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in COMPRESSIBLE


def _prune(store: Path) -> None:
    with os.scandir(store) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_nlink == 1:
                os.unlink(entry.path)


def _stored(store: Path, digest: str, suffix: str, data: bytes) -> tuple[Path, bool]:
    """The store's copy of ``data`` compressed as ``suffix``, and whether this call made it."""
    entry = store / f"{digest}{suffix}"
    if entry.is_file():
        return entry, False
    partial = store / f"{digest}{suffix}.{os.getpid()}.part"
    partial.write_bytes(ENCODERS[suffix](data))
    os.replace(partial, entry)
    return entry, True


def precompress(root: Path, store: Path) -> Compressed:
    """A ``.gz`` and a ``.br`` beside every text file of at least MIN_SIZE bytes under ``root``
    (the staging site), where they are smaller. A copy already there (the sitemap's .gz) stays."""
    store.mkdir(parents=True, exist_ok=True)
    _prune(store)
    linker = TreeLinker(root)
    files = made = bytes_in = bytes_gzip = bytes_brotli = 0
    for folder, _dirs, names in os.walk(root):
        present = set(names)
        for name in names:
            if not compressible(name):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                data = handle.read()
            if len(data) < MIN_SIZE:
                continue
            digest = hashlib.sha256(data).hexdigest()
            relative = os.path.relpath(path, root)
            sizes = {}
            for suffix in ENCODERS:
                if name + suffix in present:
                    sizes[suffix] = os.path.getsize(path + suffix)
                    continue
                entry, fresh = _stored(store, digest, suffix, data)
                made += fresh
                size = entry.stat().st_size
                if size < len(data):
                    linker.link(entry, relative + suffix)
                    sizes[suffix] = size
            if sizes:
                files += 1
                bytes_in += len(data)
                bytes_gzip += sizes.get(".gz", len(data))
                bytes_brotli += sizes.get(".br", len(data))
    return Compressed(files, made, bytes_in, bytes_gzip, bytes_brotli)
