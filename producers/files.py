"""Writes that are whole or absent: a file is written aside and renamed over its name, so a reader (or
a build killed half-way) never sees half of it."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)        # the earliest time a zip entry can hold


def reproducible_zip(data: bytes, stamp: tuple = ZIP_EPOCH) -> bytes:
    """``data`` (an OOXML package, e.g. a PPTX or DOCX) with every entry's time set to ``stamp``.

    python-pptx and python-docx stamp each entry with the time of writing, so the same slides gave
    different bytes on every render: a cached job and a fresh one must publish the same file."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, stamp)
            info.compress_type = entry.compress_type
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry))
    return out.getvalue()
