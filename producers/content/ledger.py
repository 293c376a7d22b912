"""The system's own record of editorial steps: what the report and the review queue trust.

A session's front matter carries ``status`` and ``history`` for people to read, but a front matter is
text that a cell wrote, and a session folder can reach ``content/sessions/`` without intake (copied by
hand, merged from a branch). Intake once kept a submission's own history, forged approval and all,
and the evaluation report counted the cell "on time" from the forged date. So the steps the system
takes are also appended here, and the report and the queue trust only these.

Why a record beside the content rather than signed history entries: nothing can be signed without a
key, and a key on one editor's machine makes every entry written on another machine (or in CI)
unverifiable. The ledger needs no secret; what protects it is where it lives. ``content/ledger/`` is
outside everything a cell can send: intake writes only into ``sessions/<quarter>/<folder>/``,
``revisions/...`` and ``quarantine/...``, under names it validated or made itself, and it never copies
a ledger line from a submission. Editors, who may write ``content/`` directly, are trusted anyway.

Format: JSON Lines, one file per calendar quarter of the step (``content/ledger/2024-q4.jsonl``), one
object per step: ``at`` (UTC), ``action``, ``by``, ``session`` ("2024-q4/ha-long-x", or null for a
submission that was quarantined), ``revision`` (null for the live folder), ``reason``, ``cell`` and,
for intake, ``bytes`` (unpacked size, counted against the cell's quarterly quota) and ``path``.

Appends are one ``write()`` of one line to a file opened with ``O_APPEND``, then fsync: two intakes at
once cannot lose each other's line, which a temp file + rename of the whole log could. A reader skips a
line that does not parse (a crash mid-write) and reports it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

LEDGER_DIR = "ledger"
ACTIONS = ("submitted", "approved", "rejected", "published", "revision", "quarantined")


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    action: str
    by: str
    session: str | None = None
    revision: int | None = None
    reason: str | None = None
    cell: str | None = None
    bytes: int | None = None
    path: str | None = None

    def as_json(self) -> str:
        data = {"at": iso(self.at), "action": self.action, "by": self.by, "session": self.session,
                "revision": self.revision, "reason": self.reason, "cell": self.cell}
        if self.bytes is not None:
            data["bytes"] = self.bytes
        if self.path is not None:
            data["path"] = self.path
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def quarter_of(moment: dt.datetime) -> str:
    day = moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment
    return f"{day.year}-q{(day.month - 1) // 3 + 1}"


def append(content: Path, step: Step) -> Path:
    """Add one step to the ledger of the quarter it happened in."""
    if step.action not in ACTIONS:
        raise ValueError(f"unknown ledger action {step.action!r}; one of ({', '.join(ACTIONS)})")
    folder = Path(content) / LEDGER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{quarter_of(step.at)}.jsonl"
    line = (step.as_json() + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _step(data: object) -> Step:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    at = dt.datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("'at' has no time zone")
    action = data["action"]
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    revision, size = data.get("revision"), data.get("bytes")
    if revision is not None and not isinstance(revision, int) or size is not None and not isinstance(size, int):
        raise ValueError("'revision' and 'bytes' must be whole numbers")
    text = {key: data.get(key) for key in ("session", "reason", "cell", "path")}
    if not isinstance(data.get("by"), str) or any(v is not None and not isinstance(v, str) for v in text.values()):
        raise ValueError("'by', 'session', 'reason', 'cell' and 'path' must be text")
    return Step(at=at, action=action, by=data["by"], revision=revision, bytes=size, **text)


def read(content: Path) -> tuple[list[Step], list[str]]:
    """Every step recorded under ``content``, oldest file first; and one message per unreadable line."""
    folder = Path(content) / LEDGER_DIR
    steps: list[Step] = []
    problems: list[str] = []
    if not folder.is_dir():
        return steps, problems
    for path in sorted(folder.glob("*.jsonl")):
        if path.is_symlink() or not path.is_file():
            problems.append(f"{LEDGER_DIR}/{path.name}: not a regular file; ignored")
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    steps.append(_step(json.loads(line)))
                except (ValueError, KeyError, TypeError) as exc:
                    problems.append(f"{LEDGER_DIR}/{path.name}:{number}: unreadable step ignored: {exc}")
    return steps, problems


def by_session(steps: list[Step]) -> dict[str, list[Step]]:
    found: dict[str, list[Step]] = {}
    for step in steps:
        if step.session:
            found.setdefault(step.session, []).append(step)
    return found


def received_bytes(steps: list[Step], cell: str | None, quarter: str) -> int:
    """What intake filed from ``cell`` (None: from senders it could not name) in calendar ``quarter``."""
    return sum(step.bytes or 0 for step in steps
               if step.bytes is not None and step.cell == cell and quarter_of(step.at) == quarter)
