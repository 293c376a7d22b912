"""Everything the portal asks of the content, editorial and build layers, in one place.

The portal writes no content file by its own rules: a draft is composed into a session folder here
(front matter written with the YAML library, media under names the portal made), checked by the
loader ``cell35 check`` uses, and filed by ``intake_folder``, the path of ``cell35 intake``; editorial
steps are ``workflow.approve/reject/publish``; publishing builds with ``build_site``. When those
layers change their signatures, this module is what follows them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from producers.build.site import BuildOptions, BuildResult, build_site, report_path
from producers.content import ledger
from producers.content.loader import MEDIA_LIMITS, load_session, load_site
from producers.content.model import Cell, IntakeLimits
from producers.content.writelock import content_write_lock
from producers.content.yamledit import replace_list
from producers.editorial import workflow
from producers.editorial.exports import bundle_session
from producers.editorial.report import Report, build_report, report_csv, report_json
from producers.editorial.intake import IntakeResult, hint, intake_folder
from producers.errors import Problem
from producers.errors import ToolError
from producers.files import atomic_write_text
from producers.jobs.pipeline import JobResult, Progress
from producers.kinds import social
from producers.kinds.registry import load_content, product_models
from producers.media import tools
from producers.media.probe import MediaRefused, input_args, sniff, sniff_captions
from producers.web.html import markdown_to_html

# The sniffed format decides a kept file's suffix; what the phone called it does not.
IMAGE_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "HEIF": ".heic", "GIF": ".gif"}
AUDIO_SUFFIX = {"mp3": ".mp3", "mov": ".m4a", "wav": ".wav", "ogg": ".ogg", "flac": ".flac"}
VIDEO_SUFFIX = {"mov": ".mp4", "matroska": ".mkv"}
REMUX_TIMEOUT = 300      # s to re-box a recording: a copy of the stream, no encoding


def content_dir() -> Path:
    return Path(settings.CONTENT_DIR)


def cells() -> dict[str, Cell]:
    return load_site(content_dir())[1]


CELL_FIELDS = ("id", "name", "committee", "area", "language")


def save_cell(fields: dict, replacing: str | None = None) -> dict[str, list[str]]:
    """Add a cell to cells.yml, or change cell ``replacing`` (its id stays: session folders are named by
    it). The file as it would be is read by the loader ``cell35 check`` uses; with no problem it is written
    atomically. Returns the problems by field ('' for the file as a whole); empty: written."""
    path = content_dir() / "cells.yml"
    with content_write_lock(content_dir()):      # read to write: two admins' edits both land
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        entries = list((yaml.safe_load(text) or {}).get("cells") or [])
        cell = {key: fields[key] for key in CELL_FIELDS if key in fields}
        if replacing is None:
            entries.append(cell)
            index = len(entries) - 1
        else:
            index = next(i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("id") == replacing)
            entries[index] = {**entries[index], **cell, "id": replacing}
        return _write_cells(text, entries, index)


def remove_cell(cell_id: str) -> dict[str, list[str]]:
    """Take a cell out of cells.yml; the caller has made sure nothing belongs to it."""
    path = content_dir() / "cells.yml"
    with content_write_lock(content_dir()):
        text = path.read_text(encoding="utf-8")
        entries = [e for e in (yaml.safe_load(text) or {}).get("cells") or []
                   if not (isinstance(e, dict) and e.get("id") == cell_id)]
        return _write_cells(text, entries, None)


def _write_cells(old: str, entries: list, index: int | None) -> dict[str, list[str]]:
    new = replace_list(old, "cells", entries)         # the other cells' lines and the comments kept
    with tempfile.TemporaryDirectory(prefix="cell35-portal-cells-") as scratch:
        (Path(scratch) / "cells.yml").write_text(new, encoding="utf-8")
        problems = [p for p in load_site(Path(scratch))[2] if p.path.endswith("cells.yml") and p.severity == "error"]
    found: dict[str, list[str]] = {}
    for problem in problems:
        match = re.fullmatch(r"cells\[(\d+)\]\.(\w+)", problem.field)
        own = match is not None and index is not None and int(match.group(1)) in (index, index + 1)
        found.setdefault(match.group(2) if own else "", []).append(problem.message if own else str(problem))
    if not found:
        atomic_write_text(content_dir() / "cells.yml", new)
    return found


def sessions_of_cell(cell_id: str) -> int:
    """Sessions under content/ filed for the cell (any status, revisions and quarantine left aside)."""
    return len(all_sessions(cell=cell_id))


def limits() -> IntakeLimits:
    site = load_site(content_dir())[0]
    return site.intake if site is not None else IntakeLimits()


def cell_language(cell: str) -> str:
    found = cells().get(cell)
    return found.language if found else "en"


def quarter_of(date: dt.date) -> str:
    return f"{date.year}-q{(date.month - 1) // 3 + 1}"


# --- media ---------------------------------------------------------------------------------------

def keep_upload(temp_path: Path, expect: str, folder: Path, stem: str) -> str:
    """Sniff an uploaded temp file and move it into the draft's ``media/`` as ``stem`` plus the suffix of
    what it really is. Returns 'media/<name>'; raises MediaRefused with the checker's message."""
    if expect == "captions":
        return _keep_file(temp_path, folder, stem, "." + sniff_captions(temp_path, "the file"))
    found = sniff(temp_path, expect, "the file")
    if expect == "audio" and found.format == "matroska":
        # A browser's recording (MediaRecorder) is Opus in WebM; podcasts take Ogg: the same stream, re-boxed.
        temp_path = _webm_to_ogg(temp_path)
        found = sniff(temp_path, expect, "the recording")
    suffix = {"image": IMAGE_SUFFIX, "video": VIDEO_SUFFIX}.get(expect, AUDIO_SUFFIX).get(found.format)
    if suffix is None:
        raise MediaRefused(f"the file is {found.name}, which is not accepted here")
    return _keep_file(temp_path, folder, stem, suffix)


def _keep_file(temp_path: Path, folder: Path, stem: str, suffix: str) -> str:
    size = temp_path.stat().st_size
    if size > MEDIA_LIMITS[suffix]:
        raise MediaRefused(f"the file is {size:,} bytes; {suffix} files may be at most {MEDIA_LIMITS[suffix]:,} bytes")
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    for old in media.glob(stem + ".*"):
        old.unlink()
    target = media / (stem + suffix)
    os.replace(temp_path, target) if _same_device(temp_path, media) else _copy(temp_path, target)
    return f"media/{target.name}"


def _webm_to_ogg(source: Path) -> Path:
    target = source.with_name(source.name + ".ogg")
    try:
        tools.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *input_args(source, "matroska"), "-map", "0:a:0",
                   "-c:a", "copy", target], timeout=REMUX_TIMEOUT, outputs=[target], what="ffmpeg (recording)")
    except ToolError as exc:
        raise MediaRefused(f"the recording could not be read ({exc}); record again or upload an MP3") from None
    source.unlink()
    return target


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as src, open(target, "wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)


def media_bytes(folder: Path) -> int:
    media = folder / "media"
    return sum(p.stat().st_size for p in media.iterdir() if p.is_file()) if media.is_dir() else 0


# --- composing a session folder -----------------------------------------------------------------

def folder_name(cell: str, title: str) -> str:
    """'<cell>-<topic>' with the topic made from the title's letters: only [a-z0-9-] reach the path."""
    plain = unicodedata.normalize("NFKD", title.replace("đ", "d").replace("Đ", "D"))
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()
    topic = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:50].strip("-") or "session"
    return f"{cell}-{topic}"


def _front(data: dict, body: str) -> str:
    front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
    return f"---\n{front}---\n\n{body.strip()}\n" if body.strip() else f"---\n{front}---\n"


def session_front(cell: str, language: str, session: dict) -> dict:
    return {"title": session.get("title", ""), "cell": cell,
            "date": dt.date.fromisoformat(session["date"]) if session.get("date") else None,
            "group": session.get("group", ""), "language": language,
            "attendance": {"present": session.get("present"), "members": session.get("members")},
            "summary": session.get("summary", "")}


def product_front(kind: str, data: dict) -> tuple[dict, str]:
    front = {"type": kind, "title": data.get("title", "")}
    if data.get("summary"):
        front["summary"] = data["summary"]
    if kind == "photo-series":
        front["photos"] = [{"file": p["file"], "caption": p.get("caption", ""),
                            "alt": p.get("alt") or p.get("caption", "")} for p in data.get("photos", [])]
    if kind == "podcast" and data.get("audio"):
        front["audio"] = data["audio"]
    if kind == "slides":
        if data.get("video"):
            front["video"] = True
        return front, slides_markdown(data.get("slides", []))
    if kind == "video" and data.get("mode") == "clip":
        if data.get("clip"):
            front["clip"] = data["clip"]       # none yet: the checker says a clip is needed, beside the field
        if data.get("transcript"):
            front["transcript"] = data["transcript"]
    elif kind == "video":
        front["scenes"] = [_scene(s) for s in data.get("scenes", [])]
    if kind == "social-post":
        if data.get("hashtags"):
            front["hashtags"] = list(data["hashtags"])
        front["platforms"] = list(data.get("platforms") or [])
    return front, data.get("text", "")


def _scene(scene: dict) -> dict:
    found = {"image": scene.get("file")}
    for key in ("caption", "narration", "duration"):
        if scene.get(key):
            found[key] = scene[key]
    return found


# A slide break or a columns line typed into a field would restructure the deck. In a point it is
# escaped (Markdown shows '\\---' as '---'); notes are kept as written, so there it is indented as code,
# which the slide rules skip and a reader hardly notices.
_SLIDE_SYNTAX = re.compile(r"^(\s*-{3,}\s*|\s*\|\|\|\s*)$")


def _point(line: str) -> str:
    return "\\" + line.strip() if _SLIDE_SYNTAX.match(line) else line


def _note(line: str) -> str:
    return "    " + line.strip() if _SLIDE_SYNTAX.match(line) else line


def slides_markdown(slides: list[dict]) -> str:
    """The slide-by-slide form as the slides syntax (content.slidesmd): '# title', '- point',
    '![title](media/picture)', 'Note:' then the notes; '---' between slides."""
    written = []
    for slide in slides:
        lines = [f"# {slide['title']}"] if slide.get("title") else []
        if slide.get("points"):
            lines += [""] + [f"- {_point(point)}" for point in slide["points"]]
        if slide.get("file"):
            lines += ["", f"![{_alt(slide.get('title') or '')}]({slide['file']})"]
        notes = [_note(line) for line in str(slide.get("notes") or "").strip().splitlines()]
        if notes:
            lines += ["", "Note: " + notes[0], *notes[1:]]
        written.append("\n".join(lines))
    return "\n\n---\n\n".join(written)


def _alt(text: str) -> str:
    return re.sub(r"[\[\]\\]", "", text)


@dataclass(frozen=True)
class DraftView:
    """What compose needs of a draft: plain data, so this module does not know the ORM."""
    cell: str
    language: str
    folder: str
    session: dict
    products: list[tuple[int, str, dict]]      # (position, kind, data)
    media: Path                                # the draft's folder holding media/


def product_file(position: int, kind: str) -> str:
    return f"{position:02d}-{kind}.md"


def compose(view: DraftView, parent: Path) -> Path:
    """Write the draft as a session folder ``parent/<quarter>/<folder>``; media are hard links."""
    date = view.session.get("date")
    quarter = quarter_of(dt.date.fromisoformat(date)) if date else "0000-q1"
    folder = parent / quarter / view.folder
    folder.mkdir(parents=True)
    (folder / "session.md").write_text(_front(session_front(view.cell, view.language, view.session),
                                              view.session.get("minutes", "")), encoding="utf-8")
    for position, kind, data in view.products:
        front, body = product_front(kind, data)
        (folder / product_file(position, kind)).write_text(_front(front, body), encoding="utf-8")
    media = view.media / "media"
    if media.is_dir():
        (folder / "media").mkdir()
        for path in media.iterdir():
            if path.is_file() and not path.is_symlink():
                try:
                    os.link(path, folder / "media" / path.name)
                except OSError:             # the temp folder is on another file system
                    shutil.copyfile(path, folder / "media" / path.name)
    return folder


def check(view: DraftView) -> list[Problem]:
    """The checker's errors for the draft as it would be filed (the loader of ``cell35 check``)."""
    with tempfile.TemporaryDirectory(prefix="cell35-portal-check-") as scratch:
        folder = compose(view, Path(scratch))
        _, problems = load_session(folder, folder, cells(), product_models())
    return [p for p in problems if p.severity == "error"]


def explain(problem: Problem, language: str) -> str:
    """A problem's message for the cell: the explanation in its language, then the exact message."""
    explained = hint(problem.message, language)
    return f"{explained} — {problem.message}" if explained and language != "en" else problem.message


def preview_html(text: str) -> SafeString:
    """Markdown as the site renders it (web.html: nh3 against an allow-list), marked safe for templates."""
    return mark_safe(markdown_to_html(text))       # the sanitiser's output, never the raw text


def social_counts(text: str, hashtags: list[str], platforms: list[str]) -> list[dict]:
    """Each platform's count of the post as the site composes it (the site's link included), and its limit."""
    site = load_site(content_dir())[0]
    link = site.base_url if site is not None else "https://example.org/"
    body = social.plain_text(text)
    return [{"platform": platform, "name": social.PLATFORMS[platform]["name"], **_count(platform, body, hashtags, link)}
            for platform in platforms if platform in social.PLATFORMS]


def _count(platform: str, body: str, hashtags: list[str], link: str) -> dict:
    composed = social.compose(platform, body, hashtags, link, has_image=False)
    return {"length": composed.original_length, "limit": composed.limit, "cut": composed.cut}


def submit(view: DraftView, by: str, sent_name: str) -> IntakeResult:
    """File the draft through intake: accepted, a revision, or quarantined (IntakeRefused: refused)."""
    with tempfile.TemporaryDirectory(prefix="cell35-portal-submit-") as scratch:
        folder = compose(view, Path(scratch))
        return intake_folder(folder, content_dir(), by=by, sent_name=sent_name)


def folder_taken(quarter: str, folder: str) -> bool:
    root = content_dir()
    return (root / "sessions" / quarter / folder).exists() or (root / workflow.REVISIONS_DIR / quarter / folder).exists()


# --- editors -------------------------------------------------------------------------------------

def queue(quarter: str | None = None, cell: str | None = None) -> list[workflow.QueueItem]:
    return workflow.review_queue(content_dir(), statuses=("submitted", "approved", "rejected"), quarter=quarter,
                                 cell=cell)


def all_sessions(cell: str | None = None) -> list[workflow.QueueItem]:
    return workflow.review_queue(content_dir(), statuses=None, cell=cell)


def find(ref: str) -> workflow.QueueItem | None:
    """The session or pending revision ``ref`` names, as the queue lists it (refs come from the queue only)."""
    return next((item for item in all_sessions() if item.id == ref), None)


def approve(ref: str, by: str, reason: str | None = None) -> Path:
    return workflow.approve(content_dir(), ref, by=by, reason=reason)


def reject(ref: str, reason: str, by: str) -> Path:
    return workflow.reject(content_dir(), ref, reason, by=by)


def publish(ref: str, by: str) -> tuple[list[Path], list[str]]:
    return workflow.publish(content_dir(), [ref], by=by)


def site_options() -> BuildOptions:
    """The public site's build, read in the request (this request's settings), run in a thread."""
    return BuildOptions(content=content_dir(), out=Path(settings.SITE_DIR), cache_dir=Path(settings.CACHE_DIR),
                        wait=True)


def build() -> BuildResult:
    return build_site(site_options())


def failed_products(report: dict) -> list[tuple[str, list[str]]]:
    """(file, errors) of each product the build report lists with errors."""
    found = []
    for session in report.get("sessions", []) if isinstance(report, dict) else []:
        for product in session.get("products", []) if isinstance(session, dict) else []:
            if isinstance(product, dict) and product.get("errors"):
                found.append((str(product.get("file") or product.get("id") or session.get("id")),
                              [str(e) for e in product["errors"]]))
    return found


def build_report_file() -> Path:
    return report_path(Path(settings.SITE_DIR))


def session_files(item: workflow.QueueItem) -> list[tuple[str, str]]:
    """(file name, text) of the session's Markdown files, for the editor to read before deciding."""
    return [(path.name, path.read_text(encoding="utf-8", errors="replace"))
            for path in sorted(item.path.glob("*.md")) if path.is_file()]


def revision_diff(item: workflow.QueueItem) -> list[tuple[str, SafeString | None]]:
    """A pending revision beside the live session: per Markdown file, difflib's side-by-side table of the
    changed lines (None: the file is the same). difflib escapes the text it puts in the table."""
    live = find(item.id.split("@")[0]) if item.revision else None
    if live is None:
        return []
    names = sorted({p.name for p in live.path.glob("*.md")} | {p.name for p in item.path.glob("*.md")})
    found = []
    for name in names:
        before, after = _lines(live.path / name), _lines(item.path / name)
        table = None if before == after else difflib.HtmlDiff(wrapcolumn=70).make_table(
            before, after, fromdesc=live.id, todesc=item.id, context=True, numlines=2)
        found.append((name, mark_safe(table) if table else None))
    return found


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else []


def media_file(item: workflow.QueueItem, name: str) -> Path | None:
    """A media file of a listed session, by a name that must be one of the folder's own."""
    media = item.path / "media"
    if not media.is_dir():
        return None
    return next((p for p in media.iterdir() if p.name == name and p.is_file() and not p.is_symlink()), None)


def last_reason(session_id: str, revision: int | None = None) -> str | None:
    """The editor's reason of the last rejection, from the ledger (the system's record)."""
    steps = ledger.by_session(ledger.read(content_dir())[0]).get(session_id, [])
    rejected = [s for s in steps if s.action == "rejected" and s.revision == revision]
    return rejected[-1].reason if rejected else None


# --- downloads -----------------------------------------------------------------------------------

def evaluation_report(year: int | None, quarter: int | None) -> Report:
    return build_report(load_content(content_dir()), year=year, quarter=quarter)


def report_text(report: Report, fmt: str) -> str:
    return {"csv": report_csv, "json": report_json}[fmt](report)


def chat_bundle(item: workflow.QueueItem) -> tuple[list[Path], list[tuple[str, int]]]:
    """The session's chat-group zip parts from the built site (``bundle_session``) and the files left
    out as too big. The parts are kept under the data dir and made again after the next site build."""
    live = item.id.split("@")[0]
    quarter, name = live.split("/")
    out = Path(settings.DATA_DIR) / "bundles" / quarter / name
    built = build_report_file()
    parts = sorted(out.glob("*.zip")) if out.is_dir() else []
    if parts and built.is_file() and all(p.stat().st_mtime >= built.stat().st_mtime for p in parts) \
            and (out / "left-out.txt").is_file():
        left = [(line.rsplit(" ", 1)[0], int(line.rsplit(" ", 1)[1]))
                for line in (out / "left-out.txt").read_text(encoding="utf-8").splitlines() if line]
        return parts, left
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    result = bundle_session(Path(settings.SITE_DIR), live, out / f"{name}.zip", content=content_dir())
    (out / "left-out.txt").write_text("".join(f"{n} {size}\n" for n, size in result.too_big), encoding="utf-8")
    return sorted(result.parts), list(result.too_big)


# --- preview builds ------------------------------------------------------------------------------

def preview_tree(scratch: Path, session: Path | None = None, view: DraftView | None = None,
                 ref: str | None = None) -> Path:
    """A content tree of one session for a preview build: site.yml, cells.yml and the session (a filed
    folder or revision, hard-linked, or a draft composed) under ``sessions/<quarter>/<folder>`` of its
    ``ref`` ('quarter/folder', the part before any '@rev-N')."""
    for name in ("site.yml", "cells.yml"):
        if (content_dir() / name).is_file():
            shutil.copyfile(content_dir() / name, scratch / name)
    if view is not None:
        compose(view, scratch / "sessions")
    elif session is not None:
        quarter, name = (ref or f"{session.parent.name}/{session.name}").split("@")[0].split("/")
        target = scratch / "sessions" / quarter / name
        target.parent.mkdir(parents=True)
        shutil.copytree(session, target, copy_function=_link_or_copy)
    return scratch


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def preview_options(scratch: Path, out: Path) -> BuildOptions:
    """Read in the request (the settings of this request), run in the preview's thread."""
    return BuildOptions(content=scratch, out=out, preview=True, cache_dir=Path(settings.CACHE_DIR), wait=True)


class _Reported(Progress):
    """The runner's job events as (jobs done, jobs to run, note) for a page's progress bar."""

    def __init__(self, report) -> None:
        self.report, self.done, self.total = report, 0, 0

    def start(self, total_by_kind: dict[str, int]) -> None:
        self.total = sum(total_by_kind.values())
        self.report(0, self.total, "")

    def advance(self, result: JobResult) -> None:
        self.done += 1
        self.report(self.done, self.total, "")


def run_build(options: BuildOptions, report=None) -> BuildResult:
    """Build; ``report(done, total, note)`` hears the render jobs finish and a wait for another build."""
    if report is not None:
        options = dataclasses.replace(options, progress=_Reported(report), notify=lambda note: report(0, 0, note))
    return build_site(options)
