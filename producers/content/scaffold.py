"""`cell35 new session`: a valid session folder with one template per chosen product kind (each kind
declares its ``Scaffold`` in its own module)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from producers.content.model import Session


@dataclass(frozen=True)
class Scaffold:
    """What `cell35 new session` writes for one product kind: front matter (``type`` is added),
    a body, and the placeholder media files the front matter names (name -> bytes maker)."""

    fields: Mapping[str, Any]
    body: str = ""
    media: Mapping[str, Callable[[], bytes]] = field(default_factory=dict)


def slugify(text: str) -> str:
    """ASCII slug: Vietnamese diacritics dropped (đ -> d); scripts without Latin letters give ''."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")


def _front_matter(data: dict, body: str) -> str:
    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n\n" + body


def new_session(content: Path, *, cell: str, title: str, topic: str, date: dt.date, group: str, language: str,
                members: int, present: int, summary: str, kinds: list[str],
                scaffolds: Mapping[str, Scaffold]) -> Path:
    """Write the folder; refuses to overwrite. Validates through the same model as `cell35 check`.
    ``scaffolds`` is each registered kind's template (``producers.kinds.registry.scaffolds``)."""
    data = {"title": title, "cell": cell, "date": date.isoformat(), "group": group, "language": language,
            "attendance": {"present": present, "members": members}, "status": "draft", "summary": summary,
            "tags": []}
    Session.model_validate(data)
    unknown = [k for k in kinds if k not in scaffolds]
    if unknown or not 1 <= len(kinds) <= 3:
        raise ValueError(f"choose 1 to 3 kinds of: ({', '.join(scaffolds)}), received: {', '.join(kinds) or 'none'}")
    quarter = f"{date.year}-q{(date.month - 1) // 3 + 1}"
    folder = content / "sessions" / quarter / f"{cell}-{topic}"
    if folder.exists():
        raise FileExistsError(f"{folder} already exists; choose another topic")
    (folder / "media").mkdir(parents=True)
    (folder / "session.md").write_text(_front_matter(data, "Minutes of the session.\n"), encoding="utf-8")
    for number, kind in enumerate(kinds, start=1):
        scaffold = scaffolds[kind]
        (folder / f"{number:02d}-{kind}.md").write_text(_front_matter({"type": kind, **scaffold.fields}, scaffold.body),
                                                         encoding="utf-8")
        for name, make in scaffold.media.items():
            target = folder / "media" / name
            if not target.exists():
                target.write_bytes(make())
    return folder
