"""`cell35 intake FILE.zip`: a cell's zipped session folder, checked before anything is written. The
portal files an unpacked folder through the same steps (``intake_folder``: step 2 copies it under the
same rules and counters instead of unzipping).

Order of work, and why:

1. The zip's directory is inspected without unpacking anything. Hostile archives are refused with a
   message and nothing is written anywhere: paths climbing out (``../``, absolute, drive letters,
   backslashes), symbolic links, encrypted entries, absurd entry counts, names that collide once
   Unicode-normalised (NFC/NFD) or case-folded, and zip bombs (declared total size against the cap
   per submission, compression ratio per entry and of the whole zip).
2. Header sizes can lie, so entries are then stream-extracted into a private temp folder (outside
   ``content/``) with a byte counter per entry and in total; a lie or damage refuses the zip.
3. ``status`` and ``history`` are removed from the sent session.md (only the system writes them),
   and the unpacked folder is validated with the same loader ``cell35 check`` uses.
4. The cell's quota is checked: what intake filed from it this calendar quarter, by the ledger, plus
   this submission's unpacked bytes. Beyond it the zip is refused with a message; it is never
   silently dropped. The calendar quarter of receipt, not the session's date, so a cell cannot
   multiply its quota by dating sessions in many quarters; quarantined submissions count too.
5. Only then is anything moved into ``content/``:
   - valid -> ``content/sessions/<quarter>/<folder>/`` with status ``submitted`` and the system's
     history entry; when that folder exists, the new one becomes a revision under
     ``content/revisions/<quarter>/<folder>/rev-<N>/`` (never published by the site: the loader
     reads only ``content/sessions/``) and the editor chooses with ``approve --revision N``;
   - invalid -> ``content/quarantine/<timestamp>-<name>/`` with the files as sent and a REPORT.md
     listing every error, in the cell's language (and in English for the editor). Whatever the cell
     sent (file names, values) is quoted there as Markdown code, so none of it renders as a link,
     an image or HTML.
   Arrivals are atomic: a dot-prefixed staging copy beside the destination, then one rename. Each
   arrival is appended to the ledger (``producers/content/ledger.py``) with its unpacked size.
   Steps 3 to 5 hold content/'s write lock (``content/writelock.py``): two submissions of one cell
   at once cannot both find room in its quota, nor both take the same folder or revision number.

Caps: ``site.yml`` ``intake: {max_submission_bytes, quarter_quota_bytes}``, by default
``model.MAX_SUBMISSION_BYTES`` (100 MB) and ``model.QUARTER_QUOTA_BYTES`` (300 MB).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from producers.content import ledger
from producers.errors import Cell35Error, Problem
from producers.content.loader import MEDIA_LIMITS, load_session, load_site
from producers.kinds.registry import product_models
from producers.content.model import MAX_SUBMISSION_BYTES, Cell, IntakeLimits
from producers.media.probe import refusal
from producers.editorial.workflow import (REVISIONS_DIR, WorkflowError, drop_sender_fields, editor_name, next_revision_number, now_utc, record_step)
from producers.content.yamlsafe import YamlProblem, parse_yaml, read_text
from producers.content.writelock import content_write_lock

MAX_ENTRIES = 500
MAX_RATIO = 100
# Small files (a page of Markdown, a blank PNG) legitimately compress past 100:1; the size cap and
# the streaming counter bound them. The ratio tests are for sizes that could actually hurt: one
# entry, or all of them together (many entries just under the per-entry threshold).
RATIO_MIN_BYTES = 1_000_000
CHUNK = 1 << 16
MAX_PATH_BYTES = 1024
# Debris that desktop zip tools add; silently left out.
IGNORED_PARTS = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"})
ACCEPTED_SUFFIXES = frozenset({".md", *MEDIA_LIMITS})
QUARANTINE_DIR = "quarantine"


class IntakeRefused(Cell35Error):
    """The zip is hostile or damaged; nothing was unpacked into content/."""


@dataclass
class IntakeResult:
    outcome: str                    # "accepted" | "revision" | "quarantined"
    path: Path                      # where it landed
    session_id: str = ""            # '2024-q4/ha-long-x' when it was valid
    revision: int | None = None
    language: str = "en"
    problems: list[Problem] = field(default_factory=list)


# --- 1. inspecting the directory ----------------------------------------------------------------

def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as the sender typed it: many tools write UTF-8 without setting the flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _collision_key(name: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _refuse_name(raw: str, name: str) -> None:
    shown = repr(name)
    if "\\" in raw or "\\" in name:
        raise IntakeRefused(f"refused: {shown} contains a backslash; zip paths must use '/' and stay inside "
                            f"the session folder")
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise IntakeRefused(f"refused: {shown} contains control characters")
    if name.startswith("/") or raw.startswith("/"):
        raise IntakeRefused(f"refused: {shown} is an absolute path; every file must be inside the session folder")
    if re.match(r"^[A-Za-z]:", name):
        raise IntakeRefused(f"refused: {shown} starts with a drive letter; every file must be inside the "
                            f"session folder")
    if ".." in name.split("/"):
        raise IntakeRefused(f"refused: {shown} climbs out of the folder with '..'")
    if len(name.encode("utf-8")) > MAX_PATH_BYTES or any(len(p.encode("utf-8")) > 255 for p in name.split("/")):
        raise IntakeRefused(f"refused: {name[:60]!r}... is too long a name (at most 255 bytes per name and "
                            f"{MAX_PATH_BYTES} for the whole path)")


def _is_ignored(parts: tuple[str, ...]) -> bool:
    return any(part in IGNORED_PARTS or part.startswith("._") for part in parts)


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    path: PurePosixPath      # NFC-normalised, relative, no '..'


def _too_big(cap: int) -> IntakeRefused:
    return IntakeRefused(f"refused: the zip unpacks to more than {cap:,} bytes, the most one submission may hold "
                         f"(intake.max_submission_bytes in site.yml); make the media smaller (photos of at most "
                         f"2,000 px, video at 720p, audio as MP3) and send it again")


def inspect_zip(archive: zipfile.ZipFile, max_bytes: int = MAX_SUBMISSION_BYTES) -> list[_Entry]:
    """The file entries to unpack; raises IntakeRefused on anything hostile. Reads no file data."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise IntakeRefused(f"refused: the zip holds {len(infos)} entries; at most {MAX_ENTRIES} are accepted")
    if not infos:
        raise IntakeRefused("refused: the zip is empty")
    entries: list[_Entry] = []
    seen: dict[str, str] = {}
    total = compressed = 0
    for info in infos:
        name = _entry_name(info)
        _refuse_name(info.filename, name)
        if info.flag_bits & 0x1:
            raise IntakeRefused(f"refused: {name!r} is encrypted; send the files without a password")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise IntakeRefused(f"refused: {name!r} is a symbolic link; links are not accepted")
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise IntakeRefused(f"refused: {name!r} is a special file (device, pipe or socket)")
        is_dir = name.endswith("/")
        parts = tuple(p for p in unicodedata.normalize("NFC", name).split("/") if p and p != ".")
        if not parts:
            continue
        key = _collision_key("/".join(parts))
        if key in seen:
            raise IntakeRefused(f"refused: {seen[key]!r} and {name!r} are the same name once Unicode-normalised "
                                f"and case-folded; rename one of them")
        seen[key] = name
        if is_dir:
            continue
        total += info.file_size
        compressed += info.compress_size
        if total > max_bytes:
            raise _too_big(max_bytes)
        if info.file_size >= RATIO_MIN_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_RATIO:
                raise IntakeRefused(f"refused: {name!r} is compressed {ratio:,.0f}:1; more than {MAX_RATIO}:1 "
                                    f"is treated as a zip bomb")
        if _is_ignored(parts):
            continue
        entries.append(_Entry(info, PurePosixPath(*parts)))
    if total >= RATIO_MIN_BYTES and total / max(compressed, 1) > MAX_RATIO:
        raise IntakeRefused(f"refused: the zip's files are compressed {total / max(compressed, 1):,.0f}:1 taken "
                            f"together; more than {MAX_RATIO}:1 is treated as a zip bomb")
    files = {_collision_key(str(e.path)) for e in entries}
    for entry in entries:
        for parent in entry.path.parents:
            if str(parent) != "." and _collision_key(str(parent)) in files:
                raise IntakeRefused(f"refused: {str(parent)!r} is both a file and a folder in the zip")
    return entries


# --- 2. unpacking with a counter ----------------------------------------------------------------

def extract(archive: zipfile.ZipFile, entries: list[_Entry], target: Path,
            max_bytes: int = MAX_SUBMISSION_BYTES) -> int:
    """Stream each entry into ``target``, counting bytes: header sizes are claims, not facts.
    Returns the bytes written."""
    total = 0
    for entry in entries:
        destination = target.joinpath(*entry.path.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(destination, flags, 0o644)
        with os.fdopen(fd, "wb") as out:
            try:
                with archive.open(entry.info) as source:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        total += len(chunk)
                        if written > entry.info.file_size:
                            raise IntakeRefused(f"refused: {str(entry.path)!r} unpacks to more than its declared "
                                                f"{entry.info.file_size:,} bytes")
                        if total > max_bytes:
                            raise _too_big(max_bytes)
                        out.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise IntakeRefused(f"refused: the zip is damaged or uses an unsupported method "
                                    f"({str(entry.path)!r}: {exc})") from None
    return total


# --- 3. layout and validation -------------------------------------------------------------------

def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80] or "submission"


def _session_folder(unpacked: Path, zip_name: str) -> tuple[Path | None, list[Problem]]:
    """The one session folder in the zip: a single top folder, or files at the top level."""
    top = sorted(unpacked.iterdir())
    if (unpacked / "session.md").is_file():
        folder = unpacked.parent / "as-sent" / _slug(Path(zip_name).stem)
        folder.parent.mkdir()
        shutil.copytree(unpacked, folder)
        return folder, []
    dirs = [p for p in top if p.is_dir()]
    loose = [p for p in top if not p.is_dir()]
    if len(dirs) == 1 and not loose:
        return dirs[0], []
    found = ", ".join(p.name + ("/" if p.is_dir() else "") for p in top) or "nothing"
    return None, [Problem(zip_name, None, "zip", "the zip must hold one session folder (or the files of one "
                                                 f"session at its top level); found: {found}")]


def _extra_checks(folder: Path) -> list[Problem]:
    problems = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        shown = f"{folder.name}/{path.relative_to(folder).as_posix()}"
        if path.suffix.lower() not in ACCEPTED_SUFFIXES:
            problems.append(Problem(shown, None, "file type",
                                    f"file type {path.suffix or '(none)'!r} is not accepted; allowed: "
                                    f"({', '.join(sorted(ACCEPTED_SUFFIXES))})"))
        elif message := refusal(path, "the file"):
            # Every media file sent, named by a product or not, is what it claims to be.
            problems.append(Problem(shown, None, "content", message))
    return problems


def _declared_cell(folder: Path | None, cells: dict[str, Cell]) -> Cell | None:
    """The sending cell, even from a session.md that does not validate: its front matter, else the folder name."""
    if folder is None:
        return None
    session_md = folder / "session.md"
    if session_md.is_file():
        text, _ = read_text(session_md, str(session_md))
        if text and text.startswith("---"):
            front = text.split("\n---", 1)[0].removeprefix("---")
            try:
                data = parse_yaml(front).data
            except YamlProblem:
                data = None
            if isinstance(data, dict) and isinstance(data.get("cell"), str) and data["cell"] in cells:
                return cells[data["cell"]]
    by_prefix = [c for c in cells if folder.name.startswith(c + "-")]
    return cells[max(by_prefix, key=len)] if by_prefix else None


# --- 4. the report in the cell's language -------------------------------------------------------

REPORT_TEXT = {
    "en": {
        "title": "Submission not accepted: {zip}",
        "received": "Received {when} (UTC). Cell: {cell}.",
        "intro": "Nothing was published. {n} problem(s) were found; fix every one, then send the whole session "
                 "folder again as one zip.",
        "where": "{path}", "line": "line {line}", "field": "field {field}",
        "original": "exact message",
        "outro": "Your files are kept unchanged in the folder `submitted/` beside this report.",
        "unknown_cell": "unknown",
    },
    "vi": {
        "title": "Bài gửi chưa được chấp nhận: {zip}",
        "received": "Nhận lúc {when} (UTC). Chi bộ: {cell}.",
        "intro": "Chưa có nội dung nào được đăng. Đã phát hiện {n} lỗi; hãy sửa từng lỗi, rồi nén lại toàn bộ thư mục "
                 "buổi sinh hoạt thành một tệp zip và gửi lại.",
        "where": "{path}", "line": "dòng {line}", "field": "trường {field}",
        "original": "thông báo gốc",
        "outro": "Các tệp của chi bộ được giữ nguyên trong thư mục `submitted/` bên cạnh báo cáo này.",
        "unknown_cell": "không xác định",
    },
    "hi": {
        "title": "प्रस्तुति स्वीकार नहीं हुई: {zip}",
        "received": "प्राप्त: {when} (UTC)। इकाई: {cell}।",
        "intro": "कुछ भी प्रकाशित नहीं हुआ। {n} समस्या(एँ) मिलीं; हर एक को ठीक करें, फिर पूरे सत्र का फ़ोल्डर एक zip "
                 "फ़ाइल में दोबारा भेजें।",
        "where": "{path}", "line": "पंक्ति {line}", "field": "फ़ील्ड {field}",
        "original": "मूल संदेश",
        "outro": "आपकी फ़ाइलें इस रिपोर्ट के पास `submitted/` फ़ोल्डर में बिना बदलाव के रखी गई हैं।",
        "unknown_cell": "अज्ञात",
    },
}

# The commonest checker messages, explained in each language; the exact English message follows.
HINTS: tuple[tuple[str, dict[str, str]], ...] = (
    (r"^required field is missing", {"en": "a required field is missing", "vi": "thiếu trường bắt buộc",
                                     "hi": "आवश्यक फ़ील्ड मौजूद नहीं है"}),
    (r"^file not found", {"en": "a file named here is not in the folder",
                          "vi": "không tìm thấy tệp được nêu tên trong thư mục",
                          "hi": "यहाँ बताई गई फ़ाइल फ़ोल्डर में नहीं है"}),
    (r"^expected a real date", {"en": "not a real date; write it as YYYY-MM-DD",
                                "vi": "ngày không hợp lệ; hãy viết theo dạng YYYY-MM-DD",
                                "hi": "तारीख़ सही नहीं है; इसे YYYY-MM-DD के रूप में लिखें"}),
    (r"^Expected one of", {"en": "this value is not one of the allowed values",
                           "vi": "giá trị này không nằm trong các giá trị cho phép",
                           "hi": "यह मान अनुमत मानों में से नहीं है"}),
    (r"^unknown field", {"en": "this field is not known; check its spelling",
                         "vi": "trường này không được hỗ trợ; hãy kiểm tra chính tả",
                         "hi": "यह फ़ील्ड मान्य नहीं है; वर्तनी जाँचें"}),
    (r"^must not be empty", {"en": "this must not be empty", "vi": "không được để trống",
                             "hi": "यह ख़ाली नहीं हो सकता"}),
    (r"^file type .* is not accepted", {"en": "this type of file is not accepted",
                                        "vi": "loại tệp này không được chấp nhận",
                                        "hi": "इस प्रकार की फ़ाइल स्वीकार नहीं की जाती"}),
    (r"^a session needs 1 to", {"en": "a session needs one to three product files",
                                "vi": "mỗi buổi sinh hoạt cần từ một đến ba tệp sản phẩm",
                                "hi": "हर सत्र में एक से तीन उत्पाद फ़ाइलें होनी चाहिए"}),
    (r"^session folder must be named", {"en": "the folder name is not right",
                                        "vi": "tên thư mục chưa đúng quy định",
                                        "hi": "फ़ोल्डर का नाम नियम के अनुसार नहीं है"}),
    (r"^missing: every session folder needs a session\.md", {"en": "the session.md file is missing",
                                                            "vi": "thiếu tệp session.md",
                                                            "hi": "session.md फ़ाइल मौजूद नहीं है"}),
    (r"^the zip must hold one session folder", {"en": "the zip must hold exactly one session folder",
                                                "vi": "tệp zip phải chứa đúng một thư mục buổi sinh hoạt",
                                                "hi": "zip में ठीक एक सत्र फ़ोल्डर होना चाहिए"}),
    (r"is not a readable (audio|video|audio or video) file|is not an image we can publish|refers to other files",
     {"en": "this file is not a real recording or picture (a playlist, a list or a link to other files is "
            "not accepted); send the media file itself",
      "vi": "tệp này không phải là bản ghi âm hay hình ảnh thật (danh sách phát, danh sách tệp hay liên kết tới "
            "tệp khác không được chấp nhận); hãy gửi chính tệp media",
      "hi": "यह फ़ाइल असली रिकॉर्डिंग या चित्र नहीं है (प्लेलिस्ट, फ़ाइलों की सूची या दूसरी फ़ाइलों का लिंक स्वीकार "
            "नहीं है); मीडिया फ़ाइल ही भेजें"}),
    (r"^invalid YAML", {"en": "the front matter is not written correctly",
                        "vi": "phần khai báo đầu tệp (front matter) viết sai cú pháp",
                        "hi": "फ़्रंट मैटर सही ढंग से नहीं लिखा गया है"}),
)


def hint(message: str, language: str) -> str | None:
    for pattern, texts in HINTS:
        if re.search(pattern, message):
            return texts[language]
    return None


_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def md_code(text: str) -> str:
    """``text`` as one Markdown code span: nothing in it renders (no link, image, autolink or HTML).

    The fence is one backtick longer than the longest run inside; line breaks become spaces, since
    a line starting with ``#`` or ``-`` could end the paragraph, and the span with it. The padding
    spaces are removed again by CommonMark renderers.
    """
    text = _LINE_BREAKS.sub(" ", text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def _report_section(language: str, zip_name: str, cell: Cell | None, when: dt.datetime,
                    problems: list[Problem]) -> list[str]:
    """One language's report. Everything the cell sent (the zip's name, file names, fields, and
    messages that quote values) goes in as code; the explanations are ours."""
    t = REPORT_TEXT[language]
    cell_text = f"{cell.name} ({cell.id})" if cell else t["unknown_cell"]
    lines = [f"# {t['title'].format(zip=md_code(zip_name))}", "",
             t["received"].format(when=when.strftime("%Y-%m-%d %H:%M"), cell=cell_text), "",
             t["intro"].format(n=len(problems)), ""]
    for number, problem in enumerate(problems, 1):
        where = [t["where"].format(path=md_code(problem.path))]
        if problem.line:
            where.append(t["line"].format(line=problem.line))
        if problem.field:
            where.append(t["field"].format(field=md_code(problem.field)))
        explained = hint(problem.message, language)
        quoted = md_code(problem.message)
        text = f"{explained} — {t['original']}: {quoted}" if explained and language != "en" else quoted
        lines.append(f"{number}. {', '.join(where)}: {text}")
    lines += ["", t["outro"], ""]
    return lines


def quarantine_report(zip_name: str, cell: Cell | None, when: dt.datetime, problems: list[Problem]) -> str:
    """REPORT.md: in the cell's language, then in English for the editor when the cell's is not English."""
    language = cell.language if cell else "en"
    lines = _report_section(language, zip_name, cell, when, problems)
    if language != "en":
        lines += ["---", ""] + _report_section("en", zip_name, cell, when, problems)
    return "\n".join(lines)


# --- the whole intake ---------------------------------------------------------------------------

def _arrive(source: Path, destination: Path) -> None:
    """Copy ``source`` to a dot-prefixed staging folder beside ``destination``, then rename it into place."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".incoming", dir=destination.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True, symlinks=False)
        if destination.exists():
            raise Cell35Error(f"{destination} appeared while the submission was being filed; nothing was overwritten")
        os.rename(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _quarantine_folder(content: Path, name: str, when: dt.datetime) -> Path:
    base = content / QUARANTINE_DIR
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    candidate = base / f"{stamp}-{name}"
    number = 2
    while candidate.exists():
        candidate = base / f"{stamp}-{name}-{number}"
        number += 1
    return candidate


def _limits(content: Path) -> tuple[dict[str, Cell], IntakeLimits]:
    site, cells, problems = load_site(content)
    if site is None or not cells:
        raise Cell35Error(f"{content}: site.yml and cells.yml must validate before taking submissions: "
                          + "; ".join(str(p) for p in problems))
    return cells, site.intake


def _drop_sender_fields(folder: Path | None, keep_lines: bool) -> tuple[bytes | None, dict]:
    """Remove ``status`` and ``history`` from the sent session.md; its bytes before, and what was dropped.
    A file that cannot be edited (not UTF-8, no front matter) is left for the loader to report."""
    session_md = folder / "session.md" if folder else None
    if session_md is None or not session_md.is_file():
        return None, {}
    before = session_md.read_bytes()
    try:
        text, dropped = drop_sender_fields(before.decode("utf-8"), session_md.name, keep_lines=keep_lines)
    except (UnicodeDecodeError, WorkflowError):
        return None, {}
    if dropped:
        session_md.write_bytes(text.encode("utf-8"))
    return before, dropped


def _dropped_note(dropped: dict) -> str:
    parts = []
    if dropped.get("status", "draft") != "draft":       # every scaffold says draft: not worth a note
        parts.append(f"status {str(dropped['status'])[:40]!r}")
    if "history" in dropped:
        history = dropped["history"]
        count = len(history) if isinstance(history, list) else 1
        parts.append(f"history ({count} entr{'y' if count == 1 else 'ies'})")
    return f"; not kept from the sender: {' and '.join(parts)}" if parts else ""


def _check_quota(content: Path, cell: Cell | None, size: int, quota: int, when: dt.datetime) -> None:
    quarter = ledger.quarter_of(when)
    steps, _ = ledger.read(content)
    used = ledger.received_bytes(steps, cell.id if cell else None, quarter)
    if used + size > quota:
        sender = f"cell {cell.id!r}" if cell else "a sender whose session.md names no cell of cells.yml"
        raise IntakeRefused(f"refused: {sender} has sent {used:,} bytes in {quarter} and this zip unpacks to "
                            f"{size:,} more; the quota is {quota:,} bytes per cell per quarter "
                            f"(intake.quarter_quota_bytes in site.yml), so nothing was filed. Send only the "
                            f"version that matters, with smaller media, or ask an editor to raise the quota")


def intake(zip_path: Path, content: Path, by: str | None = None, when: dt.datetime | None = None) -> IntakeResult:
    """File one zipped session. Raises IntakeRefused (nothing written) for hostile or damaged zips and
    for submissions beyond a cap."""
    zip_path = Path(zip_path)
    content = Path(content)
    when = when or now_utc()
    who = editor_name(by)
    cells, limits = _limits(content)
    if not zip_path.is_file():
        raise IntakeRefused(f"refused: {zip_path} is not a file")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntakeRefused(f"refused: {zip_path.name} is not a readable zip file ({exc})") from None
    with archive, tempfile.TemporaryDirectory(prefix="cell35-intake-") as scratch:
        entries = inspect_zip(archive, limits.max_submission_bytes)
        unpacked = Path(scratch) / "unpacked"
        unpacked.mkdir()
        size = extract(archive, entries, unpacked, limits.max_submission_bytes)
        with content_write_lock(content):
            return _file(unpacked, zip_path.name, size, content, cells, limits, who, when, Path(scratch))


def copy_folder(source: Path, target: Path, max_bytes: int = MAX_SUBMISSION_BYTES) -> int:
    """Copy an unpacked session folder into ``target`` with the zip's rules: regular files only (no
    links, devices or pipes), no more than MAX_ENTRIES, names checked as zip names are, and a byte
    counter against the cap per submission. Returns the bytes written."""
    total = count = 0
    for path in sorted(Path(source).rglob("*")):
        relative = path.relative_to(source).as_posix()
        _refuse_name(relative, relative)
        count += 1
        if count > MAX_ENTRIES:
            raise IntakeRefused(f"refused: the folder holds more than {MAX_ENTRIES} entries")
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            raise IntakeRefused(f"refused: {relative!r} is a symbolic link; links are not accepted")
        if stat.S_ISDIR(mode) or _is_ignored(path.relative_to(source).parts):
            continue
        if not stat.S_ISREG(mode):
            raise IntakeRefused(f"refused: {relative!r} is a special file (device, pipe or socket)")
        destination = target / unicodedata.normalize("NFC", relative)
        destination.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with open(path, "rb", opener=lambda p, f: os.open(p, f | getattr(os, "O_NOFOLLOW", 0))) as src, \
                os.fdopen(os.open(destination, flags, 0o644), "wb") as out:
            while chunk := src.read(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise _too_big(max_bytes)
                out.write(chunk)
    return total


def intake_folder(folder: Path, content: Path, by: str | None = None, when: dt.datetime | None = None,
                  sent_name: str | None = None) -> IntakeResult:
    """File one unpacked session folder (the portal's path) exactly as a zip holding it would be:
    copied into a private temp folder under the same caps, then validated, quota-checked, filed or
    quarantined by the same code. ``sent_name`` names the submission in messages and the ledger."""
    folder = Path(folder)
    content = Path(content)
    when = when or now_utc()
    who = editor_name(by)
    cells, limits = _limits(content)
    if not folder.is_dir() or folder.is_symlink():
        raise IntakeRefused(f"refused: {folder} is not a folder")
    name = sent_name or folder.name
    with tempfile.TemporaryDirectory(prefix="cell35-intake-") as scratch:
        unpacked = Path(scratch) / "unpacked"
        (unpacked / folder.name).mkdir(parents=True)
        size = copy_folder(folder, unpacked / folder.name, limits.max_submission_bytes)
        with content_write_lock(content):
            return _file(unpacked, name, size, content, cells, limits, who, when, Path(scratch))


def _file(unpacked: Path, sent_name: str, size: int, content: Path, cells: dict[str, Cell], limits: IntakeLimits,
          who: str, when: dt.datetime, scratch: Path) -> IntakeResult:
    """Steps 3 to 5 for a submission unpacked (and counted) into ``unpacked``."""
    zip_name = sent_name
    folder, problems = _session_folder(unpacked, zip_name)
    # Blank lines where they were, so that error messages name the lines of the file as sent.
    original, dropped = _drop_sender_fields(folder, keep_lines=True)
    record = None
    if folder is not None:
        record, found = load_session(folder, folder, cells, product_models())
        problems += [p for p in found if p.severity == "error"]
        problems += _extra_checks(folder)
    cell = _declared_cell(folder, cells)
    language = cell.language if cell else "en"
    _check_quota(content, cell, size, limits.quarter_quota_bytes, when)
    if record is None or problems:
        if not problems:
            problems = [Problem(zip_name, None, "", "the session does not load")]
        target = _quarantine_folder(content, _slug(folder.name if folder else Path(zip_name).stem), when)
        report = scratch / "quarantine"
        shutil.copytree(unpacked, report / "submitted")
        if original is not None and folder.is_relative_to(unpacked):
            # The files as sent: the copy keeps the session.md the cell wrote, status and all.
            (report / "submitted" / (folder / "session.md").relative_to(unpacked)).write_bytes(original)
        (report / "REPORT.md").write_text(quarantine_report(zip_name, cell, when, problems), encoding="utf-8")
        _arrive(report, target)
        ledger.append(content, ledger.Step(at=when, action="quarantined", by=who,
                                           reason=f"received {zip_name}: {len(problems)} problem(s)",
                                           cell=cell.id if cell else None, bytes=size,
                                           path=target.relative_to(content).as_posix()))
        return IntakeResult("quarantined", target, language=language, problems=problems)
    live = content / "sessions" / record.quarter / folder.name
    session_id = f"{record.quarter}/{folder.name}"
    revision = None
    reason = f"received {zip_name}"
    if live.exists():
        revision = next_revision_number(content, record.quarter, folder.name)
        target = content / REVISIONS_DIR / record.quarter / folder.name / f"rev-{revision}"
        reason += f" as revision {revision} of {session_id}"
    else:
        target = live
    reason += _dropped_note(dropped)
    if dropped:      # now without the blank lines: the file as filed
        text, _ = drop_sender_fields(original.decode("utf-8"), "session.md")
        (folder / "session.md").write_bytes(text.encode("utf-8"))
    record_step(folder / "session.md", "submitted", who, reason, at=when, content=None, check=True)
    _arrive(folder, target)
    ledger.append(content, ledger.Step(at=when, action="submitted", by=who, session=session_id,
                                       revision=revision, reason=reason, cell=record.session.cell, bytes=size,
                                       path=target.relative_to(content).as_posix()))
    return IntakeResult("revision" if revision else "accepted", target, session_id, revision, language)
