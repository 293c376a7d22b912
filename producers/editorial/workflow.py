"""Editorial workflow: the review queue and the status changes an editor makes.

A session moves ``draft`` -> ``submitted`` -> ``approved`` -> ``published``, or to ``rejected`` with a
reason. Every step is recorded in the session's own front matter (``status`` plus one ``history``
entry: action, by, at, reason), so the record travels with the content and shows in ``git log``, and
in the system's ledger (``producers/content/ledger.py``), which is what the report and the queue trust: the
front matter is text a cell can write. Intake removes ``status`` and ``history`` from what a cell
sends (``drop_sender_fields``) before writing its own.

The session file is edited in place, line by line: only the ``status`` line and the ``history``
block change; the rest of the front matter (comments, key order, quoting) and the whole body stay
byte for byte as the cell wrote them. The new file is validated before it replaces the old one, and
written atomically (temp file + rename), so a crash never leaves a half-written session.

Resubmissions from cells never overwrite the live session: intake files them as revisions under
``content/revisions/<quarter>/<folder>/rev-<N>/`` (outside ``content/sessions/``, so the site never
publishes them twice); ``approve SESSION --revision N`` swaps the chosen one in and keeps the
replaced one as the next free ``rev-<N>``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from producers.content import ledger
from producers.errors import Cell35Error, ContentError, Problem, display_path
from producers.content.loader import load_session, load_site
from producers.kinds.registry import product_models
from producers.content.model import QUARTER_DIR_RE, HistoryEntry, Session
from producers.content.validation import validate
from producers.content.writelock import content_write_lock
from producers.content.yamlsafe import YamlProblem, parse_yaml, read_text

REVISIONS_DIR = "revisions"
REVISION_RE = re.compile(r"^rev-([0-9]{1,4})$")

# Which statuses each editorial action may start from. Approving a draft is allowed: editors
# also write sessions themselves, and the history still records who approved it and when.
# Rejecting a published session takes it down from the public site.
ALLOWED_FROM = {
    "approved": ("draft", "submitted"),
    "rejected": ("draft", "submitted", "approved", "published"),
    "published": ("approved",),
    "submitted": ("draft", "submitted", "approved", "published", "rejected"),
}


class WorkflowError(Cell35Error):
    """An editorial action that cannot be done as asked; the message says why and what to do."""


# --- who and when -------------------------------------------------------------------------------

def editor_name(explicit: str | None = None) -> str:
    """Who is acting: ``--by``, else $CELL35_EDITOR, else $USER, else the login name."""
    for candidate in (explicit, os.environ.get("CELL35_EDITOR"), os.environ.get("USER")):
        if candidate and candidate.strip():
            return candidate.strip()[:200]
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "editor"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


_iso = ledger.iso


# --- finding sessions ---------------------------------------------------------------------------

def find_session(content: Path, ref: str) -> Path:
    """The session folder named by ``ref``: '2024-q4/ha-long-x', 'ha-long-x', or a path to it or its session.md."""
    content = Path(content)
    as_path = Path(ref)
    if as_path.name == "session.md" and as_path.is_file():
        return as_path.parent
    if as_path.is_dir() and (as_path / "session.md").is_file() and (len(as_path.parts) > 2 or as_path.is_absolute()):
        return as_path
    sessions = content / "sessions"
    cleaned = ref.strip().strip("/")
    if cleaned.startswith("sessions/"):
        cleaned = cleaned[len("sessions/"):]
    parts = cleaned.split("/")
    if len(parts) == 2 and QUARTER_DIR_RE.match(parts[0]):
        folder = sessions / parts[0] / parts[1]
        if (folder / "session.md").is_file():
            return folder
        raise WorkflowError(f"no session {cleaned!r}: {display_path(folder, content)} has no session.md")
    if len(parts) == 1 and parts[0]:
        matches = sorted(sessions.glob(f"*/{parts[0]}/session.md")) if sessions.is_dir() else []
        if len(matches) == 1:
            return matches[0].parent
        if len(matches) > 1:
            found = ", ".join(f"{m.parent.parent.name}/{m.parent.name}" for m in matches)
            raise WorkflowError(f"{ref!r} names a session in several quarters ({found}); write it as QUARTER/FOLDER")
    raise WorkflowError(f"no session {ref!r} under {sessions}; name it as QUARTER/FOLDER, "
                        f"e.g. 2024-q4/ha-long-sanitation (see `cell35 review --all`)")


def revision_folders(content: Path, quarter: str, folder: str) -> dict[int, Path]:
    base = Path(content) / REVISIONS_DIR / quarter / folder
    found = {}
    if base.is_dir():
        for child in base.iterdir():
            match = REVISION_RE.match(child.name)
            if match and child.is_dir() and not child.is_symlink():
                found[int(match.group(1))] = child
    return dict(sorted(found.items()))


def next_revision_number(content: Path, quarter: str, folder: str) -> int:
    """Revision numbers are never reused; the live folder was revision 1 when it arrived."""
    existing = revision_folders(content, quarter, folder)
    return max([1, *existing]) + 1


# --- editing the front matter in place ----------------------------------------------------------

@dataclass(frozen=True)
class _Split:
    head: list[str]      # the opening '---' line
    front: list[str]     # front-matter lines
    tail: list[str]      # the closing '---' line and the body
    newline: str
    bom: str


def _split(text: str, shown: str) -> _Split:
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text.removeprefix("\ufeff")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise WorkflowError(f"{shown}: the file must start with a '---' line opening its front matter")
    close = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if close is None:
        raise WorkflowError(f"{shown}: the front matter opened with '---' is never closed by another '---' line")
    return _Split(lines[:1], lines[1:close], lines[close:], newline, bom)


def _top_level_spans(front_text: str, line_count: int, shown: str
                     ) -> tuple[dict[str, tuple[int, int]], bool, dict[str, yaml.Node]]:
    """Each top-level key -> (first line, end line exclusive) in the front matter; whether the mapping is
    block style; and each key's value node."""
    try:
        node = yaml.compose(front_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise WorkflowError(f"{shown}: invalid YAML in the front matter: {exc}") from None
    if node is None:
        return {}, True, {}
    if not isinstance(node, yaml.MappingNode):
        raise WorkflowError(f"{shown}: the front matter must be a mapping of 'field: value' lines")
    spans: dict[str, tuple[int, int]] = {}
    values: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        start = key_node.start_mark.line
        end_mark = value_node.end_mark
        end = end_mark.line if end_mark.column == 0 else end_mark.line + 1
        spans[str(key_node.value)] = (start, min(max(end, start + 1), line_count))
        values[str(key_node.value)] = value_node
    return spans, not node.flow_style, values


def _dump_block(key: str, value) -> list[str]:
    dumped = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, default_flow_style=False,
                            width=4096)
    return dumped.rstrip("\n").split("\n")


def _front_mapping(text: str, shown: str):
    """The file's parts, its front matter lines, and the mapping they hold."""
    parts = _split(text, shown)
    front = list(parts.front)
    try:
        data = parse_yaml("\n".join(front), line_offset=1).data or {}
    except YamlProblem as exc:
        raise WorkflowError(f"{shown}:{exc.line or 1}: {exc.message}") from None
    if not isinstance(data, dict):
        raise WorkflowError(f"{shown}: the front matter must be a mapping of 'field: value' lines")
    return parts, front, data


def edit_front_matter(text: str, shown: str, status: str, entry: HistoryEntry) -> str:
    """``text`` with ``status`` set and ``entry`` appended to ``history``; every other line kept as is."""
    parts, front, data = _front_mapping(text, shown)
    history = data.get("history") or []
    if not isinstance(history, list):
        raise WorkflowError(f"{shown}: 'history' must be a list of entries, found {type(history).__name__}")
    new_entry = {"action": entry.action, "by": entry.by, "at": _iso(entry.at)}
    if entry.reason:
        new_entry["reason"] = entry.reason
    history = [*history, new_entry]
    spans, block_style, values = _top_level_spans("\n".join(front), len(front), shown)
    if not block_style:
        # A one-line {flow: mapping} has no lines to keep: write it out in block style.
        data = {**data, "status": status, "history": history}
        front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096).rstrip("\n").split("\n")
    else:
        replacements: list[tuple[int, int, list[str]]] = []
        if "history" in spans:
            start, end = spans["history"]
            # Comments and blank lines after the list belong to what follows: keep them.
            while end - 1 > start and (not front[end - 1].strip() or front[end - 1].lstrip().startswith("#")):
                end -= 1
            node = values["history"]
            if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
                # Earlier entries stay exactly as written; the new one goes after them, same indent.
                first = front[node.value[0].start_mark.line]
                indent = " " * (len(first) - len(first.lstrip(" ")))
                dumped = yaml.safe_dump([new_entry], allow_unicode=True, sort_keys=False,
                                        default_flow_style=False, width=4096).rstrip("\n").split("\n")
                replacements.append((end, end, [indent + line for line in dumped]))
            else:
                replacements.append((start, end, _dump_block("history", history)))
        if "status" in spans:
            start, end = spans["status"]
            replacements.append((start, end, [f"status: {status}"]))
        for start, end, new_lines in sorted(replacements, reverse=True):
            front[start:end] = new_lines
        additions = []
        if "status" not in spans:
            additions.append(f"status: {status}")
        if "history" not in spans:
            additions += _dump_block("history", history)
        while front and not front[-1].strip():
            front.pop()
        front += additions
    lines = parts.head + front + parts.tail
    return parts.bom + parts.newline.join(lines)


SYSTEM_FIELDS = ("status", "history")


def drop_sender_fields(text: str, shown: str, keep_lines: bool = False) -> tuple[str, dict]:
    """``text`` without the top-level fields only the system writes (``status``, ``history``), and what
    they held. Every other line stays as the cell wrote it; with ``keep_lines`` the dropped lines
    become blank lines, so the line numbers of error messages still match the file the cell sent."""
    parts, front, data = _front_mapping(text, shown)
    dropped = {key: data[key] for key in SYSTEM_FIELDS if key in data}
    if not dropped:
        return text, {}
    spans, block_style, _ = _top_level_spans("\n".join(front), len(front), shown)
    if not block_style:
        kept = {key: value for key, value in data.items() if key not in SYSTEM_FIELDS}
        front = yaml.safe_dump(kept, allow_unicode=True, sort_keys=False, width=4096).rstrip("\n").split("\n")
    else:
        for start, end in sorted((spans[key] for key in dropped), reverse=True):
            # Comments and blank lines after a dropped block belong to what follows: keep them.
            while end - 1 > start and (not front[end - 1].strip() or front[end - 1].lstrip().startswith("#")):
                end -= 1
            front[start:end] = [""] * (end - start) if keep_lines else []
    return parts.bom + parts.newline.join(parts.head + front + parts.tail), dropped


def check_session_text(text: str, shown: str) -> Session:
    """Validate the whole front matter of an edited session.md; raise ContentError on any problem."""
    parts = _split(text, shown)
    try:
        doc = parse_yaml("\n".join(parts.front), line_offset=1)
    except YamlProblem as exc:
        raise ContentError(Problem(shown, exc.line, "", exc.message)) from None
    session, problems = validate(Session, doc.data or {}, doc, shown)
    if session is None:
        raise ContentError(list(problems))
    return session


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, rename."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record_step(session_md: Path, action: str, by: str, reason: str | None = None,
                at: dt.datetime | None = None, content: Path | None = None, check: bool = True) -> Session:
    """Set the session's status to ``action`` and append the history entry, atomically.

    ``check`` validates the whole session front matter after the edit; without it only the new
    history entry is validated (rejecting a session that does not validate must still work).
    """
    session_md = Path(session_md)
    shown = display_path(session_md, content) if content else str(session_md)
    text, problems = read_text(session_md, shown)
    if text is None:
        raise ContentError(problems)
    # read_text normalises line endings; re-read the exact text so CRLF files stay CRLF.
    text = session_md.read_bytes().decode("utf-8")
    entry = HistoryEntry(action=action, by=by, at=at or now_utc(), reason=reason or None)
    new_text = edit_front_matter(text, shown, action, entry)
    session = check_session_text(new_text, shown) if check else None
    write_atomic(session_md, new_text.encode("utf-8"))
    return session


def current_status(session_md: Path) -> str:
    text, problems = read_text(session_md, str(session_md))
    if text is None:
        raise ContentError(problems)
    parts = _split(text, str(session_md))
    try:
        data = parse_yaml("\n".join(parts.front)).data or {}
    except YamlProblem as exc:
        raise WorkflowError(f"{session_md}:{exc.line or 1}: {exc.message}") from None
    status = data.get("status", "draft") if isinstance(data, dict) else "draft"
    return status if isinstance(status, str) else "draft"


# --- the editorial actions ----------------------------------------------------------------------

def _require_valid(folder: Path, content: Path) -> None:
    _, cells, _ = load_site(content)
    record, problems = load_session(folder, content, cells, product_models())
    errors = [p for p in problems if p.severity == "error"]
    if record is None:
        raise ContentError(errors or [Problem(display_path(folder, content), None, "", "session does not load")])


def _transition(folder: Path, content: Path, action: str, by: str, reason: str | None,
                session_id: str, revision: int | None = None) -> Session:
    session_md = folder / "session.md"
    status = current_status(session_md)
    allowed = ALLOWED_FROM[action]
    if status not in allowed:
        verb = {"approved": "approve", "rejected": "reject", "published": "publish", "submitted": "submit"}[action]
        raise WorkflowError(f"cannot {verb} {folder.parent.name}/{folder.name}: its status is {status!r}; "
                            f"only a session that is ({', '.join(allowed)}) can be {action}")
    if action in ("approved", "published"):
        _require_valid(folder, content)
    at = now_utc()
    session = record_step(session_md, action, by, reason, at=at, content=content, check=action != "rejected")
    ledger.append(content, ledger.Step(at=at, action=action, by=by, session=session_id, revision=revision,
                                       reason=reason or None, cell=_cell_of(session_md)))
    return session


def _cell_of(session_md: Path) -> str | None:
    text, _ = read_text(session_md, str(session_md))
    try:
        data = parse_yaml("\n".join(_split(text or "", str(session_md)).front)).data
    except (YamlProblem, WorkflowError):
        return None
    cell = data.get("cell") if isinstance(data, dict) else None
    return cell if isinstance(cell, str) else None


def session_id(folder: Path) -> str:
    return f"{folder.parent.name}/{folder.name}"


def split_revision(ref: str) -> tuple[str, int | None]:
    """'2024-q4/x@rev-2' (as `review` lists a pending revision) -> ('2024-q4/x', 2)."""
    match = re.match(r"^(.*)@rev-([0-9]{1,4})$", ref.strip())
    return (match.group(1), int(match.group(2))) if match else (ref, None)


def approve(content: Path, ref: str, by: str | None = None, reason: str | None = None,
            revision: int | None = None) -> Path:
    """Approve a session (or, with ``revision``, first make that revision the live session)."""
    content = Path(content)
    ref, named_revision = split_revision(ref)
    if named_revision is not None and revision is not None and named_revision != revision:
        raise WorkflowError(f"the session names revision {named_revision} but --revision says {revision}")
    revision = revision if revision is not None else named_revision
    with content_write_lock(content):
        folder = find_session(content, ref)
        if revision is not None:
            folder = adopt_revision(content, folder, revision, editor_name(by))
        _transition(folder, content, "approved", editor_name(by), reason, session_id(folder))
    return folder


def reject(content: Path, ref: str, reason: str, by: str | None = None) -> Path:
    if not reason or not reason.strip():
        raise WorkflowError("a rejection needs a reason the cell can act on: --reason \"...\"")
    content = Path(content)
    ref, revision = split_revision(ref)
    with content_write_lock(content):
        folder = find_session(content, ref)
        live_id = session_id(folder)
        if revision is not None:
            # Rejecting a pending revision leaves the live session as it is.
            revisions = revision_folders(content, folder.parent.name, folder.name)
            if revision not in revisions:
                raise WorkflowError(f"{folder.parent.name}/{folder.name} has no revision {revision}; revisions: "
                                    f"{', '.join(map(str, revisions)) or 'none'}")
            folder = revisions[revision]
        _transition(folder, content, "rejected", editor_name(by), reason.strip(), live_id, revision)
    return folder


def publish(content: Path, refs: list[str] | None = None, by: str | None = None) -> tuple[list[Path], list[str]]:
    """Publish the named sessions, or every approved one. Returns (published folders, problems)."""
    content = Path(content)
    done, problems = [], []
    who = editor_name(by)
    with content_write_lock(content):
        if refs:
            folders = [find_session(content, ref) for ref in refs]
        else:
            folders = [f for f in _live_folders(content) if current_status(f / "session.md") == "approved"]
        for folder in folders:
            try:
                _transition(folder, content, "published", who, None, session_id(folder))
                done.append(folder)
            except (WorkflowError, ContentError) as exc:
                problems.append(str(exc))
    return done, problems


def adopt_revision(content: Path, live: Path, number: int, by: str) -> Path:
    """Make revision ``number`` the live session; the replaced one is kept as the next revision."""
    quarter, name = live.parent.name, live.name
    revisions = revision_folders(content, quarter, name)
    if number not in revisions:
        have = ", ".join(str(n) for n in revisions) or "none"
        raise WorkflowError(f"{quarter}/{name} has no revision {number}; revisions: {have}")
    chosen = revisions[number]
    keep_as = next_revision_number(content, quarter, name)
    kept = chosen.parent / f"rev-{keep_as}"
    # The replaced folder is moved aside before the chosen one arrives: nothing is deleted.
    os.replace(live, kept)
    try:
        os.replace(chosen, live)
    except BaseException:
        os.replace(kept, live)
        raise
    try:
        # Validated in place: the loader checks the folder name and quarter, which a rev-N folder lacks.
        _require_valid(live, content)
    except BaseException:
        os.replace(live, chosen)
        os.replace(kept, live)
        raise
    at = now_utc()
    reason = f"replaced by revision {number}; kept as rev-{keep_as}"
    record_step(kept / "session.md", "revision", by, reason, at=at, content=content, check=False)
    ledger.append(content, ledger.Step(at=at, action="revision", by=by, session=f"{quarter}/{name}",
                                       revision=keep_as, reason=reason, cell=_cell_of(kept / "session.md")))
    return live


# --- the queue ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueItem:
    id: str                 # '2024-q4/ha-long-x' or '2024-q4/ha-long-x@rev-2'
    quarter: str
    cell: str
    title: str
    status: str
    since: dt.datetime      # when it entered its current status (history, else file time)
    age_days: int
    path: Path
    revision: int | None = None
    revisions: tuple[int, ...] = field(default=())

    def as_dict(self) -> dict:
        return {"id": self.id, "quarter": self.quarter, "cell": self.cell, "title": self.title,
                "status": self.status, "since": _iso(self.since), "age_days": self.age_days,
                "path": str(self.path), "revision": self.revision, "pending_revisions": list(self.revisions)}


def _live_folders(content: Path) -> list[Path]:
    sessions = Path(content) / "sessions"
    if not sessions.is_dir():
        return []
    return sorted(p.parent for p in sessions.glob("*/*/session.md")
                  if QUARTER_DIR_RE.match(p.parent.parent.name) and not p.parent.name.startswith("."))


def _queue_item(folder: Path, quarter: str, name: str, today: dt.datetime, revision: int | None,
                revisions: tuple[int, ...], steps: list[ledger.Step]) -> QueueItem | None:
    session_md = folder / "session.md"
    text, _ = read_text(session_md, str(session_md))
    if text is None:
        return None
    try:
        data = parse_yaml("\n".join(_split(text, str(session_md)).front)).data or {}
    except (YamlProblem, WorkflowError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    status = str(data.get("status") or "draft")
    # When it entered its status, by the system's record: the front matter's history is the cell's text.
    entered = [step.at for step in steps if step.revision == revision and step.action == status]
    since = max(entered) if entered else \
        dt.datetime.fromtimestamp(session_md.stat().st_mtime, dt.timezone.utc).replace(microsecond=0)
    cell = str(data.get("cell") or name.split("-")[0])
    title = str(data.get("title") or name)
    item_id = f"{quarter}/{name}" + (f"@rev-{revision}" if revision else "")
    age = max(0, (today - since).days)
    return QueueItem(item_id, quarter, cell, title, status, since, age, folder, revision, revisions)


def review_queue(content: Path, statuses: tuple[str, ...] | None = ("submitted",), quarter: str | None = None,
                 cell: str | None = None, today: dt.datetime | None = None) -> list[QueueItem]:
    """Sessions and pending revisions awaiting the editor, by quarter, cell, then oldest first.

    ``statuses=None`` lists every session whatever its status.
    """
    content = Path(content)
    today = today or now_utc()
    steps = ledger.by_session(ledger.read(content)[0])
    items: list[QueueItem] = []
    for folder in _live_folders(content):
        q, name = folder.parent.name, folder.name
        mine = steps.get(f"{q}/{name}", [])
        revisions = revision_folders(content, q, name)
        pending = []
        for number, rev_folder in revisions.items():
            item = _queue_item(rev_folder, q, name, today, number, (), mine)
            if item and item.status == "submitted":
                pending.append(number)
                items.append(item)
        item = _queue_item(folder, q, name, today, None, tuple(pending), mine)
        if item:
            items.append(item)
    # Revisions of a session that has no live folder (should not happen, but never hide them).
    revisions_root = content / REVISIONS_DIR
    if revisions_root.is_dir():
        for base in sorted(revisions_root.glob("*/*")):
            if not (content / "sessions" / base.parent.name / base.name).exists():
                for number, rev_folder in revision_folders(content, base.parent.name, base.name).items():
                    item = _queue_item(rev_folder, base.parent.name, base.name, today, number, (),
                                       steps.get(f"{base.parent.name}/{base.name}", []))
                    if item:
                        items.append(item)
    selected = [i for i in items
                if (statuses is None or i.status in statuses or (i.revision is None and i.revisions))
                and (quarter is None or i.quarter == quarter) and (cell is None or i.cell == cell)]
    return sorted(selected, key=lambda i: (i.quarter, i.cell, -i.age_days, i.id))
