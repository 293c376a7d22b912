"""Reference-carrying files for the media-safety tests: playlists, lists, URLs, and a MOV/M4A whose
track data lives in another file (a QuickTime alias data reference)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf"}


def hostile_texts(secret: Path) -> dict[str, tuple[str, str]]:
    """kind -> (file name with a media extension, content that points at ``secret``)."""
    other = secret.as_posix()
    return {
        "m3u playlist": ("episode.mp3", f"#EXTM3U\n#EXTINF:3,Secret\n{other}\n"),
        "hls m3u8": ("episode.m4a", "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n"
                                    f"#EXTINF:3.0,\n{other}\n#EXT-X-ENDLIST\n"),
        "ffconcat list": ("episode.wav", f"ffconcat version 1.0\nfile '{other}'\n"),
        "concat list": ("episode.ogg", f"# parts\nfile '{other}'\n"),
        "concat url": ("episode.flac", f"concat:{other}|{other}"),
        "sdp": ("episode.opus", "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=Stream\nc=IN IP4 127.0.0.1\nt=0 0\n"
                                "m=audio 5004 RTP/AVP 0\n"),
        "pls playlist": ("episode.mp3", f"[playlist]\nFile1={other}\nNumberOfEntries=1\n"),
        "smil": ("episode.m4a", f'<?xml version="1.0"?>\n<smil><body><audio src="{other}"/></body></smil>\n'),
    }


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    items, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        items.append((kind, data[offset + 8:offset + size]))
        offset += size
    return items


def _build(items: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(struct.pack(">I4s", 8 + len(body), kind) + body for kind, body in items)


def _alias(target: Path) -> bytes:
    """A QuickTime 'alis' data reference that is not self-contained (flags 0), as ffmpeg's mov reader parses it."""
    name = target.name.encode()
    path = str(target).encode()
    fixed = (bytes(10) + bytes([4]) + b"Disk".ljust(27, b"\0") + bytes(12) + bytes([len(name)])
             + name.ljust(63, b"\0") + bytes(16) + struct.pack(">HH", 1, 1) + bytes(16))
    padded = path + b"\0" * (len(path) & 1)
    records = struct.pack(">HH", 2, len(path)) + padded + struct.pack(">Hh", 0xFFFF, 0)
    body = struct.pack(">I", 0) + fixed + records
    return struct.pack(">I4s", 8 + len(body), b"alis") + body


def with_external_track(m4a: Path, out: Path, target: Path) -> Path:
    """``m4a`` (moov after mdat, as ffmpeg writes it) rewritten so its track's data is ``target``."""
    def rewrite(items):
        result = []
        for kind, body in items:
            if kind in _CONTAINERS:
                body = _build(rewrite(_boxes(body)))
            elif kind == b"dref":
                body = body[:4] + struct.pack(">I", 1) + _alias(target)
            result.append((kind, body))
        return result

    out.write_bytes(_build(rewrite(_boxes(m4a.read_bytes()))))
    return out


def png_claiming(tmp_path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims width×height pixels (a decompression-bomb shape)."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(data))
    return path
