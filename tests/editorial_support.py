"""Tiny hand-written content trees for the editorial tests (workflow, intake, report, exports)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

CELLS = [
    {"id": "ha-long", "name": "Chi bộ Hạ Long", "committee": "Quảng Ninh", "area": "Hạ Long", "language": "vi"},
    {"id": "varanasi", "name": "वाराणसी इकाई", "committee": "Uttar Pradesh", "area": "Varanasi", "language": "hi"},
    {"id": "riverside", "name": "Riverside cell", "committee": "North district", "area": "Riverside", "language": "en"},
]


def write_site(root: Path, cells: list[dict] = CELLS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yml").write_text("title: Demo\nbase_url: https://example.org/\nlanguage: en\n", encoding="utf-8")
    lines = ["cells:"]
    for cell in cells:
        lines.append("- {" + ", ".join(f"{k}: {v}" for k, v in cell.items()) + "}")
    (root / "cells.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def session_text(cell: str, date: str, *, title: str = "A session", language: str = "en", status: str = "draft",
                 present: int = 8, members: int = 10, history: str = "", comment: str = "") -> str:
    return (f"---\n{comment}title: {title}\ncell: {cell}\ndate: {date}\ngroup: build\nlanguage: {language}\n"
            f"attendance: {{present: {present}, members: {members}}}\nstatus: {status}\n"
            f"summary: What the cell discussed.\n{history}---\n\n## Minutes\n\nThe cell met and talked.\n")


def product_text(kind: str = "article", title: str = "A product", extra: str = "") -> str:
    if kind == "article":
        return f"---\ntype: article\ntitle: {title}\n{extra}---\n\nFirst paragraph with **bold** words.\n"
    if kind == "social-post":
        return f"---\ntype: social-post\ntitle: {title}\n{extra}---\n\nShort text.\n"
    if kind == "slides":
        return f"---\ntype: slides\ntitle: {title}\n{extra}---\n\n# One\n\n---\n\n# Two\n"
    if kind == "podcast":
        return f"---\ntype: podcast\ntitle: {title}\n{extra}---\n\nThe script read aloud.\n"
    raise ValueError(kind)


def write_session(root: Path, quarter: str, folder: str, cell: str, date: str, *,
                  products: dict[str, str] | None = None, **session) -> Path:
    path = root / "sessions" / quarter / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "session.md").write_text(session_text(cell, date, **session), encoding="utf-8")
    for name, text in (products or {"01-article.md": product_text()}).items():
        (path / name).write_text(text, encoding="utf-8")
    return path


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes: to prove that nothing was written."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def zip_bytes(files: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()


def session_zip_files(folder: str = "ha-long-sanitation", cell: str = "ha-long", date: str = "2024-11-02",
                      **session) -> dict[str, str]:
    return {f"{folder}/session.md": session_text(cell, date, **session),
            f"{folder}/01-article.md": product_text(title="Bài viết về vệ sinh môi trường")}
