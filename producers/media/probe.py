"""What a media file really is, from its bytes, and how a tool may open it: only as that, only it.

A cell's "recording" whose bytes were an HLS playlist, an ffconcat list or an M3U made ffmpeg pull
other cells' unpublished recordings and files outside content/ into a published episode: ffmpeg
and Pillow pick a reader by sniffing the content, and several readers (hls, concat, image2, sdp,
mov with external data references, EPS through Ghostscript in Pillow) open further files or URLs.
So every content file passes through here first:

1. ``sniff`` reads the first bytes and names the container from an allow-list of real audio,
   video and image formats (magic numbers, an ID3 tag skipped); anything else is refused with what
   it seems to be ("an HLS playlist", "an ffconcat list", "an SDP session description", ...).
   It is pure Python and cheap, so ``cell35 check`` and intake run it on every media file.
2. A MOV/MP4 is walked box by box: a data reference (``dref``) that is not self-contained points
   at another file, and a compressed movie header (``cmov``) could hide one; both are refused.
   (ffmpeg's ``enable_drefs`` is off by default; ``input_args`` keeps it off explicitly.)
3. ``input_args`` is what every ffmpeg/ffprobe call on content puts before ``-i``: the ``file``
   protocol only, the sniffed demuxer forced (``-f``) and the only one allowed, and decoders of
   real audio/video/image codecs only. ``ffprobe`` runs ffprobe that way and refuses codecs
   outside the allow-list and any external-track warning.

Pillow is opened with ``formats=[sniff_image(...)]`` (see images.py), never by trying every plugin.

This module imports only ``errors`` and ``tools`` so that loading (the checker) can use it.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from producers.media import tools
from producers.errors import ProducerError

HEAD_BYTES = 64
MAX_ID3_SKIP = 20_000_000          # an ID3 tag (cover art) larger than this is not a phone's
MAX_BOXES = 200_000                # MOV/MP4 boxes walked before the file is called malformed
PROBE_TIMEOUT = 60                 # s for ffprobe on one file

# ffmpeg demuxer names a content file may be read with, and what each holds.
AUDIO_FORMATS = ("mp3", "aac", "wav", "ogg", "flac", "mov", "matroska")
VIDEO_FORMATS = ("mov", "matroska")
# Pillow format names an image may be opened as.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "GIF")

# Decoders ffmpeg may open on content (-codec_whitelist takes decoder names; codec_name for the check).
AUDIO_DECODERS = ("mp3float", "mp3", "mp2float", "mp2", "aac", "aac_fixed", "aac_latm", "vorbis", "libvorbis",
                  "opus", "libopus", "flac", "alac", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be",
                  "pcm_s32le", "pcm_s32be", "pcm_f32le", "pcm_f32be", "pcm_f64le", "pcm_u8", "pcm_alaw",
                  "pcm_mulaw", "adpcm_ms", "adpcm_ima_wav")
VIDEO_DECODERS = ("h264", "hevc", "vp8", "vp9", "libvpx", "libvpx-vp9", "av1", "libdav1d", "libaom-av1", "mpeg4",
                  "mjpeg", "png", "prores")
_CODEC_NAMES = {"mp3float": "mp3", "mp2float": "mp2", "aac_fixed": "aac", "libvorbis": "vorbis",
                "libopus": "opus", "libvpx": "vp8", "libvpx-vp9": "vp9", "libdav1d": "av1", "libaom-av1": "av1"}
ALLOWED_CODECS = frozenset(_CODEC_NAMES.get(d, d) for d in AUDIO_DECODERS + VIDEO_DECODERS)

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_IMAGE_BRANDS = _HEIF_BRANDS | {b"avif", b"avis"}
_QUICKTIME_FIRST = {b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"}
_MOV_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"edts", b"udta"}


class MediaRefused(ProducerError):
    """A content file that is not a real media file of an accepted format."""


@dataclass(frozen=True)
class Sniffed:
    kind: str        # "audio/video" or "image"
    format: str      # ffmpeg demuxer name, or Pillow format name for images
    name: str        # for people: "MP3", "MP4/MOV", "PNG", ...


_NAMES = {"mp3": "MP3", "aac": "AAC (ADTS)", "wav": "WAV", "ogg": "Ogg", "flac": "FLAC", "mov": "MP4/MOV/M4A",
          "matroska": "Matroska/WebM"}
ACCEPTED_AUDIO = "MP3, M4A/MP4, WAV, Ogg/Opus, FLAC, AAC, WebM/MKV"
ACCEPTED_IMAGES = ", ".join(IMAGE_FORMATS)


def sniff_image(head: bytes) -> str | None:
    """The Pillow format an image really is, from its first 32 bytes; None when it is no accepted image."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def _sniff_av(head: bytes) -> str | None:
    """The ffmpeg demuxer for an audio/video container starting with ``head`` (an ID3 tag already skipped)."""
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "matroska"
    if head[4:8] == b"ftyp":
        return None if head[8:12] in _IMAGE_BRANDS else "mov"
    if head[4:8] in _QUICKTIME_FIRST:
        return "mov"
    if len(head) >= 4 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 3
        if layer == 0:
            return "aac" if head[1] & 0xF6 == 0xF0 else None
        bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
        return "mp3" if bitrate not in (0, 15) and rate != 3 else None
    return None


def _read_head(path: Path) -> tuple[bytes, bytes]:
    """(first bytes, first bytes after an ID3v2 tag) of ``path``."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        body = head
        if head[:3] == b"ID3" and len(head) >= 10 and all(b < 0x80 for b in head[6:10]):
            size = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
            if head[5] & 0x10:
                size += 10                         # a footer follows the tag
            if size <= MAX_ID3_SKIP:
                handle.seek(size)
                body = handle.read(HEAD_BYTES)
    return head, body


_TEXT_KINDS = (
    (re.compile(r"^#EXTM3U.*#EXT-X-", re.S), "an HLS playlist (m3u8), which makes the player fetch other files"),
    (re.compile(r"^#EXTM3U"), "an M3U playlist, a list of other files"),
    (re.compile(r"^ffconcat version", re.I), "an ffconcat list, which makes ffmpeg read other files"),
    (re.compile(r"^(#[^\n]*\n|\s)*file\s+\S", re.I), "a concat list, which makes ffmpeg read other files"),
    (re.compile(r"^\[playlist\]", re.I), "a PLS playlist, a list of other files"),
    (re.compile(r"^(<\?xml[^>]*>\s*)?<playlist", re.I), "an XSPF playlist, a list of other files"),
    (re.compile(r"^<asx", re.I), "an ASX playlist, a list of other files"),
    (re.compile(r"^(<\?xml[^>]*>\s*)?<smil", re.I), "a SMIL presentation, which refers to other files"),
    (re.compile(r"^v=0\s*$.*^[mos]=", re.S | re.M), "an SDP session description, which opens network streams"),
    (re.compile(r"^(concat|subfile|data|file|http|https|rtp|rtsp|tcp|udp|crypto|pipe|tee)[:,]", re.I),
     "a URL or ffmpeg protocol reference, which makes ffmpeg open another file or stream"),
    (re.compile(r"^(/|[A-Za-z]:\\|\.\./)"), "a file path, a reference to another file"),
)

_BINARY_KINDS = {b"%PDF": "a PDF document", b"PK\x03\x04": "a zip archive (or an Office document)",
                 b"II*\x00": "a TIFF image", b"MM\x00*": "a TIFF image", b"BM": "a BMP image",
                 b"%!PS": "a PostScript/EPS file", b"\xc5\xd0\xd3\xc6": "an EPS file",
                 b"\x47\x40": "an MPEG transport stream", b"\x00\x00\x01\xba": "an MPEG program stream",
                 b"FORM": "an AIFF or IFF file"}


def describe_content(head: bytes) -> str:
    """A human name for what a refused file seems to be, for the error message."""
    if not head:
        return "an empty file"
    text_head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    try:
        text = text_head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
        # A multi-byte character cut at the end of the sample is still text.
        for cut in range(1, 4):
            try:
                text = text_head[:-cut].decode("utf-8")
                break
            except UnicodeDecodeError:
                continue
    if text:
        for pattern, name in _TEXT_KINDS:
            if pattern.search(text):
                return name
    for magic, name in _BINARY_KINDS.items():
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return "an AVIF or HEIF image" if head[8:12] in _IMAGE_BRANDS else "an MP4-family file"
    lower = text_head[:16].lower()
    if lower.startswith((b"<svg", b"<?xml")):
        return "an SVG drawing or other XML file"
    if lower.startswith((b"<!doctype", b"<html")):
        return "an HTML page"
    if head[:3] == b"ID3":
        return "an ID3 tag followed by no audio we know"
    if text and all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return "a text file"
    return "unrecognised data"


def sniff(path: Path, expect: str, what: str) -> Sniffed:
    """The real format of ``path``, which must be of kind ``expect`` ("audio", "video", "audio/video"
    or "image"); else MediaRefused naming ``what``, what the content is, and what is accepted."""
    path = Path(path)
    try:
        head, body = _read_head(path)
    except OSError as exc:
        raise MediaRefused(f"{what}: cannot be read: {exc.strerror or exc}") from None
    if not head:
        raise MediaRefused(f"{what} is empty (0 bytes); upload the file again")
    if expect == "image":
        found = sniff_image(head)
        if found is None:
            raise MediaRefused(f"{what} is not an image we can publish: the file contains {describe_content(head)}; "
                               f"accepted formats: {ACCEPTED_IMAGES}")
        return Sniffed("image", found, found)
    demuxer = _sniff_av(body)
    if demuxer is None:
        kind = {"audio": "audio file", "video": "video file"}.get(expect, "audio or video file")
        raise MediaRefused(f"{what} is not a readable {kind}: the file contains {describe_content(head)}; "
                           f"accepted: {ACCEPTED_AUDIO if expect != 'video' else 'MP4/MOV, WebM/MKV'}")
    if expect == "video" and demuxer not in VIDEO_FORMATS:
        raise MediaRefused(f"{what} is not a video file: it is {_NAMES[demuxer]} audio; accepted: MP4/MOV, WebM/MKV")
    if demuxer == "mov":
        external = mov_references(path)
        if external:
            raise MediaRefused(f"{what} is an MP4/MOV file that refers to other files for its media "
                               f"({'; '.join(external[:3])}); only self-contained files are accepted: export "
                               "or share the recording again as one file")
    return Sniffed("audio/video", demuxer, _NAMES[demuxer])


_SRT_START = re.compile(r"^\s*\d+\s*\r?\n\s*(\d+:)?\d{1,2}:\d{2}[,.]\d{1,3}\s*-->")


def sniff_captions(path: Path, what: str) -> str:
    """"vtt" or "srt": what a captions file is by its first bytes (UTF-8 text, a byte-order mark allowed);
    else MediaRefused naming ``what`` and what the file contains."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES * 4)
    except OSError as exc:
        raise MediaRefused(f"{what}: cannot be read: {exc.strerror or exc}") from None
    text = head.lstrip(b"\xef\xbb\xbf").decode("utf-8", "ignore")
    if re.match(r"WEBVTT(\s|$)", text):
        return "vtt"
    if _SRT_START.match(text):
        return "srt"
    raise MediaRefused(f"{what} is not captions: the file contains {describe_content(head)}; accepted: WebVTT "
                       "(.vtt, starting with WEBVTT) or SubRip (.srt) text, as subtitle editors save them")


def expected_kind(suffix: str) -> str | None:
    """The kind of media a file named with ``suffix`` is declared to be (None: not a media file)."""
    suffix = suffix.lower()
    if suffix in (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif"):
        return "image"
    if suffix in (".mp3", ".m4a", ".wav", ".ogg", ".opus", ".flac", ".aac"):
        return "audio"
    if suffix in (".mp4", ".mov", ".webm", ".mkv"):
        return "audio/video"
    return None


def refusal(path: Path, what: str) -> str | None:
    """The checker's one-line reason to refuse a media file by its content, or None when it is fine."""
    kind = expected_kind(Path(path).suffix)
    if kind is None:
        return None
    try:
        sniff(path, kind, what)
    except MediaRefused as exc:
        return exc.message
    return None


# --- MOV/MP4 boxes ------------------------------------------------------------------------------

def mov_references(path: Path) -> list[str]:
    """Descriptions of every data reference in a MOV/MP4 that is not inside the file itself."""
    found: list[str] = []
    budget = [MAX_BOXES]
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        _walk(handle, 0, size, found, budget, top=True)
    return found


def _walk(handle, start: int, end: int, found: list[str], budget: list[int], top: bool = False) -> None:
    offset = start
    while offset + 8 <= end:
        budget[0] -= 1
        if budget[0] < 0:
            found.append("too many boxes: the file is malformed")
            return
        handle.seek(offset)
        header = handle.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        body = offset + 8
        if size == 1:
            large = handle.read(8)
            if len(large) < 8:
                return
            size = struct.unpack(">Q", large)[0]
            body = offset + 16
        elif size == 0:
            size = end - offset              # the box runs to the end of its parent
        if size < body - offset or offset + size > end:
            if top and kind == b"mdat":
                return                       # a recording cut short: ffprobe judges the media
            found.append(f"a damaged {kind.decode('latin-1')!r} box")
            return
        if kind == b"cmov":
            found.append("a compressed movie header (cmov), which could hide references")
        elif kind == b"dref":
            _dref(handle, body, offset + size, found)
        elif kind in _MOV_CONTAINERS:
            _walk(handle, body, offset + size, found, budget)
        elif kind == b"meta":
            # ISO 'meta' is a full box (4 bytes of version and flags before its children); QuickTime's is not.
            handle.seek(body + 4)
            child = handle.read(4)
            _walk(handle, body + (0 if child in (b"hdlr", b"keys") else 4), offset + size, found, budget)
        offset += size


def _dref(handle, start: int, end: int, found: list[str]) -> None:
    handle.seek(start + 4)
    count_bytes = handle.read(4)
    if len(count_bytes) < 4:
        found.append("a damaged data reference box")
        return
    offset = start + 8
    for _ in range(struct.unpack(">I", count_bytes)[0]):
        if offset + 12 > end:
            found.append("a damaged data reference box")
            return
        handle.seek(offset)
        size, kind, flags = struct.unpack(">I4sI", handle.read(12))
        if size < 12 or offset + size > end:
            found.append("a damaged data reference box")
            return
        if not flags & 1:                    # 1 = "media data in this same file"
            target = _reference_target(kind, handle.read(min(size - 12, 4096)))
            name = kind.decode("latin-1").strip()
            found.append(f"a {name!r} reference to {target!r}" if target else f"a {name!r} reference")
        offset += size


def _reference_target(kind: bytes, data: bytes) -> str:
    """The file a data reference names, for the message: a URL string, or a Mac alias's path record."""
    if kind == b"alis" and len(data) > 150:
        offset = 150                         # the alias record's fixed part, then (type, length, value) records
        while offset + 4 <= len(data):
            record, length = struct.unpack(">hH", data[offset:offset + 4])
            if record == -1:
                break
            if record == 2:
                return data[offset + 4:offset + 4 + length].decode("utf-8", "replace")
            offset += 4 + length + (length & 1)
        return ""
    return data.split(b"\0")[0].decode("utf-8", "replace")


# --- ffmpeg and ffprobe -------------------------------------------------------------------------

def input_args(path: Path, fmt: str) -> list[str | Path]:
    """Arguments that open ``path`` in ffmpeg or ffprobe as ``fmt`` and as nothing else, and only it."""
    if fmt not in AUDIO_FORMATS:
        raise ValueError(f"{fmt!r} is not an accepted demuxer; accepted: {', '.join(AUDIO_FORMATS)}")
    args: list[str | Path] = ["-protocol_whitelist", "file", "-format_whitelist", fmt,
                              "-codec_whitelist", ",".join(AUDIO_DECODERS + VIDEO_DECODERS), "-f", fmt]
    if fmt == "mov":
        args += ["-enable_drefs", "0", "-use_absolute_path", "0"]
    # "file:" keeps a name like "concat:a.mp3" or "-x.wav" a plain file name.
    return args + ["-i", f"file:{Path(path).resolve()}"]


PIPE_INPUT = ["-protocol_whitelist", "pipe", "-format_whitelist", "nut", "-f", "nut", "-i", "pipe:0"]
"""ffmpeg input arguments for the raw audio another ffmpeg of ours sends on a pipe (NUT container)."""


def ffprobe(path: Path, what: str, expect: str = "audio") -> tuple[Sniffed, dict]:
    """Sniff, then ffprobe ``path`` as its sniffed format: (format, ffprobe's JSON); refusals name ``what``."""
    found = sniff(path, expect, what)
    try:
        result = tools.run(["ffprobe", "-v", "warning", *input_args(path, found.format), "-show_streams",
                            "-show_format", "-of", "json"], timeout=PROBE_TIMEOUT, what="ffprobe")
        data = json.loads(result.stdout or b"{}")
    except (ProducerError, ValueError) as exc:
        raise ProducerError(f"{what} is not a readable {found.name} file (corrupt, truncated or not audio)",
                            getattr(exc, "detail", "")) from None
    warnings = result.stderr.decode("utf-8", "replace")
    if "external track" in warnings:
        raise MediaRefused(f"{what} refers to other files for its media; only self-contained files are accepted",
                           tools.tail(warnings))
    for stream in data.get("streams", []):
        codec = stream.get("codec_name", "?")
        if stream.get("codec_type") in ("audio", "video") and codec not in ALLOWED_CODECS:
            raise MediaRefused(f"{what} holds {stream.get('codec_type')} coded as {codec!r}, which is not accepted; "
                               f"export it as MP3, AAC (M4A), Opus, FLAC or WAV (H.264/VP9/AV1 for video)")
    return found, data
