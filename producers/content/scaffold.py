"""`cell35 new session`: a valid session folder with one template per chosen product kind."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from producers.content.model import Session

TEMPLATES: dict[str, tuple[dict, str]] = {
    "slides": ({"title": "Slides"},
               "# First slide\n\n- A point\n  - A detail\n\nNote: what the speaker says here.\n\n---\n\n"
               "# Second slide\n\n- **Bold** and *italic* words\n"),
    "article": ({"title": "Article"}, "Write the article here.\n"),
    "social-post": ({"title": "Social post", "hashtags": ["#cell35"], "platforms": ["facebook", "zalo", "x", "telegram"]},
                    "A short post for social networks.\n"),
    "video": ({"title": "Video", "scenes": [{"title": "Title card", "caption": "A caption", "duration": 4}]}, ""),
    "podcast": ({"title": "Podcast episode"}, "The script to be read aloud, or add `audio: media/episode.mp3`.\n"),
    "photo-series": ({"title": "Photo series",
                      "photos": [{"file": "media/photo-1.jpg", "caption": "What the photo shows",
                                  "alt": "A description for people who cannot see it"}]}, ""),
}


def slugify(text: str) -> str:
    """ASCII slug: Vietnamese diacritics dropped (đ -> d); scripts without Latin letters give ''."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")


def _front_matter(data: dict, body: str) -> str:
    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n\n" + body


def new_session(content: Path, *, cell: str, title: str, topic: str, date: dt.date, group: str, language: str,
                members: int, present: int, summary: str, kinds: list[str]) -> Path:
    """Write the folder; refuses to overwrite. Validates through the same model as `cell35 check`."""
    data = {"title": title, "cell": cell, "date": date.isoformat(), "group": group, "language": language,
            "attendance": {"present": present, "members": members}, "status": "draft", "summary": summary,
            "tags": []}
    Session.model_validate(data)
    unknown = [k for k in kinds if k not in TEMPLATES]
    if unknown or not 1 <= len(kinds) <= 3:
        raise ValueError(f"choose 1 to 3 kinds of: ({', '.join(TEMPLATES)}), received: {', '.join(kinds) or 'none'}")
    quarter = f"{date.year}-q{(date.month - 1) // 3 + 1}"
    folder = content / "sessions" / quarter / f"{cell}-{topic}"
    if folder.exists():
        raise FileExistsError(f"{folder} already exists; choose another topic")
    (folder / "media").mkdir(parents=True)
    (folder / "session.md").write_text(_front_matter(data, "Minutes of the session.\n"), encoding="utf-8")
    for number, kind in enumerate(kinds, start=1):
        fields, body = TEMPLATES[kind]
        (folder / f"{number:02d}-{kind}.md").write_text(_front_matter({"type": kind, **fields}, body), encoding="utf-8")
    if "photo-series" in kinds:
        from PIL import Image
        Image.new("RGB", (800, 600), (200, 200, 200)).save(folder / "media" / "photo-1.jpg", quality=80)
    return folder
