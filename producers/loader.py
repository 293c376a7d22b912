"""Load and validate the content tree into the typed model. Loading never renders.

One broken session never stops the others: each session's problems are collected on its record
and the rest of the tree loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import Problem, display_path
from .model import (FILE_NAME_RE, PRODUCT_MODELS, QUARTER_DIR_RE, SESSION_DIR_RE, Cell, CellsFile,
                    ProductBase, Session, SiteConfig)
from .probe import refusal
from .validation import one_of, validate
from .yamlsafe import Document, read_front_matter, read_yaml_file

MAX_PRODUCTS = 3
# Per-file size caps by extension: generous for phones, fatal for accidents and abuse.
MEDIA_LIMITS = {
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif"), 30_000_000),
    **dict.fromkeys((".mp3", ".m4a", ".wav", ".ogg", ".opus", ".flac"), 300_000_000),
    **dict.fromkeys((".vtt", ".srt"), 2_000_000),
    **dict.fromkeys((".mp4", ".mov", ".webm"), 500_000_000),
}
MEDIA_KEYS = frozenset({"file", "image", "audio", "transcript", "music", "cover", "logo", "intro_music",
                        "outro_music"})


@dataclass(frozen=True)
class ProductRecord:
    path: Path
    display: str
    stem: str          # file name without .md, e.g. "01-slides": stable URL segment and reference name
    product: ProductBase
    language: str      # resolved: the product's own or its session's
    body: str
    body_line: int
    lines: dict = field(repr=False, compare=False, hash=False)

    @property
    def kind(self) -> str:
        return self.product.type

    def line_of(self, *loc: str | int) -> int | None:
        return Document(None, self.lines).line_of(tuple(loc))


@dataclass(frozen=True)
class SessionRecord:
    dir: Path
    display: str
    quarter: str       # "2024-q4"
    slug: str          # folder name, "<cell>-<topic>"
    session: Session
    body: str
    products: tuple[ProductRecord, ...]

    @property
    def id(self) -> str:
        return f"{self.quarter}/{self.slug}"

    @property
    def url(self) -> str:
        return f"sessions/{self.quarter}/{self.slug}/"


@dataclass
class ContentTree:
    root: Path
    site: SiteConfig | None
    cells: dict[str, Cell]
    sessions: list[SessionRecord] = field(default_factory=list)
    # every problem found, including those of sessions left out
    problems: list[Problem] = field(default_factory=list)
    # session folder (display path) -> its errors; such sessions are not in `sessions`
    invalid: dict[str, list[Problem]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def media_references(data: Any, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Every (field path, relative path) naming a media file in validated front matter."""
    found: list[tuple[tuple, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in MEDIA_KEYS and isinstance(value, str):
                found.append((loc + (key,), value))
            else:
                found.extend(media_references(value, loc + (key,)))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(media_references(item, loc + (index,)))
    return found


def check_media_path(base: Path, relative: str) -> tuple[Path | None, str | None]:
    """Resolve a media path inside ``base``; refuse absolute paths, '..', symlinks out, oversize."""
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or relative.startswith(("/", "\\")) or (len(relative) > 1 and relative[1] == ":"):
        return None, f"must be a path inside the session folder, received an absolute path: {relative!r}"
    if ".." in pure.parts:
        return None, f"must stay inside the session folder ('..' is not allowed), received: {relative!r}"
    candidate = base.joinpath(*pure.parts)
    if not candidate.exists() and not candidate.is_symlink():
        return None, f"file not found: {relative!r} (looked in {base.name}/)"
    resolved = candidate.resolve()
    if not resolved.is_relative_to(base.resolve()):
        return None, f"must stay inside the session folder, but {relative!r} is a link leading outside it"
    if not resolved.is_file():
        return None, f"must be a file, received: {relative!r}"
    limit = MEDIA_LIMITS.get(resolved.suffix.lower())
    if limit is None:
        allowed = ", ".join(sorted(MEDIA_LIMITS))
        return None, f"file type {resolved.suffix or '(none)'!r} is not accepted; allowed: ({allowed})"
    size = resolved.stat().st_size
    if size > limit:
        return None, f"{relative!r} is {size:,} bytes; {resolved.suffix} files may be at most {limit:,} bytes"
    return resolved, None


def _check_media(data: dict, doc: Document, base: Path, display: str) -> list[Problem]:
    problems = []
    for loc, relative in media_references(data):
        resolved, message = check_media_path(base, relative)
        if resolved is not None and message is None:
            message = refusal(resolved, repr(relative))     # by its bytes: no playlists, lists or references
        if message:
            field_name = ".".join(str(p + 1) if isinstance(p, int) else p for p in loc)
            problems.append(Problem(display, doc.line_of(loc), field_name, message))
    return problems


def load_site(root: Path) -> tuple[SiteConfig | None, dict[str, Cell], list[Problem]]:
    problems: list[Problem] = []
    site = None
    cells: dict[str, Cell] = {}
    site_path = root / "site.yml"
    shown = display_path(site_path, root)
    if not site_path.is_file():
        problems.append(Problem(shown, None, "", "missing: every content folder needs a site.yml"))
    else:
        doc, found = read_yaml_file(site_path, shown)
        problems += found
        if doc is not None:
            site, found = validate(SiteConfig, doc.data, doc, shown)
            problems += found
            if site is not None:
                problems += _check_media(site.model_dump(), doc, root, shown)
    cells_path = root / "cells.yml"
    shown = display_path(cells_path, root)
    if not cells_path.is_file():
        problems.append(Problem(shown, None, "", "missing: every content folder needs a cells.yml"))
    else:
        doc, found = read_yaml_file(cells_path, shown)
        problems += found
        if doc is not None:
            parsed, found = validate(CellsFile, doc.data, doc, shown)
            problems += found
            if parsed is not None:
                for index, cell in enumerate(parsed.cells):
                    if cell.id in cells:
                        problems.append(Problem(shown, doc.line_of(("cells", index, "id")), f"cells[{index + 1}].id",
                                                f"cell id {cell.id!r} is declared twice; ids must be unique"))
                    cells.setdefault(cell.id, cell)
    return site, cells, problems


def load_product(path: Path, root: Path, session: Session | None) -> tuple[ProductRecord | None, list[Problem]]:
    shown = display_path(path, root)
    doc, problems = read_front_matter(path, shown)
    if doc is None:
        return None, problems
    kind = doc.data.get("type")
    if kind is None:
        return None, [Problem(shown, 2, "type", f"required field is missing; one of: ({', '.join(PRODUCT_MODELS)})")]
    if kind not in PRODUCT_MODELS:
        return None, [Problem(shown, doc.line_of(("type",)), "type", one_of(kind, list(PRODUCT_MODELS)))]
    product, problems = validate(PRODUCT_MODELS[kind], doc.data, doc, shown)
    if product is None:
        return None, problems
    problems = _check_media(product.model_dump(), doc, path.parent, shown)
    if kind in ("slides", "article", "podcast") and not doc.body.strip() and not getattr(product, "audio", None):
        problems.append(Problem(shown, doc.body_line, "(body)", "is empty; write the product's text below "
                                                                  "the front matter"))
    language = product.language or (session.language if session else "en")
    record = ProductRecord(path=path, display=shown, stem=path.stem, product=product, language=language,
                           body=doc.body, body_line=doc.body_line, lines=doc.lines)
    return record, problems


def load_session(folder: Path, root: Path, cells: dict[str, Cell]) -> tuple[SessionRecord | None, list[Problem]]:
    shown_dir = display_path(folder, root)
    session_path = folder / "session.md"
    shown = display_path(session_path, root)
    quarter_match = QUARTER_DIR_RE.match(folder.parent.name)
    if folder.is_symlink():
        return None, [Problem(shown_dir, None, "", "session folders may not be symbolic links")]
    if not session_path.is_file():
        return None, [Problem(shown, None, "", "missing: every session folder needs a session.md")]
    doc, problems = read_front_matter(session_path, shown)
    if doc is None:
        return None, problems
    session, problems = validate(Session, doc.data, doc, shown)
    problems = list(problems)
    if session is not None:
        if session.cell not in cells:
            problems.append(Problem(shown, doc.line_of(("cell",)), "cell",
                                    one_of(session.cell, sorted(cells)) + " (cells are declared in cells.yml)"))
        if not SESSION_DIR_RE.match(folder.name) or not folder.name.startswith(session.cell + "-"):
            problems.append(Problem(shown_dir, None, "folder",
                                    f"session folder must be named '<cell>-<topic>' in lowercase with hyphens, "
                                    f"starting with '{session.cell}-', received: {folder.name!r}"))
        if quarter_match and session.quarter != folder.parent.name:
            problems.append(Problem(shown, doc.line_of(("date",)), "date",
                                    f"date {session.date.isoformat()} is in {session.quarter}, but the session is "
                                    f"filed under {folder.parent.name}/"))
    product_paths = sorted(p for p in folder.iterdir() if p.suffix == ".md" and p.name != "session.md")
    products: list[ProductRecord] = []
    topics: dict[str, str] = {}
    for path in product_paths:
        shown_product = display_path(path, root)
        if not FILE_NAME_RE.match(path.name):
            problems.append(Problem(shown_product, None, "file name",
                                    f"product files are named like '01-slides.md' (two digits, a hyphen, lowercase "
                                    f"words), received: {path.name!r}"))
            continue
        topic = path.stem[3:]
        if topic in topics:
            problems.append(Problem(shown_product, None, "file name",
                                    f"duplicate product slug {topic!r}: also used by {topics[topic]}"))
            continue
        topics[topic] = path.name
        record, found = load_product(path, root, session)
        problems += found
        if record is not None:
            products.append(record)
    if not product_paths:
        problems.append(Problem(shown_dir, None, "products",
                                f"a session needs 1 to {MAX_PRODUCTS} product files (like 01-article.md), found none"))
    elif len(product_paths) > MAX_PRODUCTS:
        problems.append(Problem(shown_dir, None, "products",
                                f"a session has 1 to {MAX_PRODUCTS} products, found {len(product_paths)}: "
                                f"{', '.join(p.name for p in product_paths)}"))
    problems += _cross_checks(products)
    if session is None or any(p.severity == "error" for p in problems):
        return None, problems
    record = SessionRecord(dir=folder, display=shown_dir, quarter=session.quarter, slug=folder.name,
                           session=session, body=doc.body, products=tuple(products))
    return record, problems


def _cross_checks(products: list[ProductRecord]) -> list[Problem]:
    """What one product file cannot tell alone: slides that would not render, and video scenes
    pointing at a slide that does not exist. The checker reports them before any build."""
    from .slidesmd import parse_deck

    problems: list[Problem] = []
    decks: dict[str, int] = {}
    for record in products:
        if record.kind == "slides":
            deck = parse_deck(record.body, record.body_line)
            decks[record.stem] = len(deck.slides) + 1          # slide 1 is the generated title slide
            problems += [Problem(record.display, issue.line, f"slide {issue.slide}" if issue.slide else "(body)",
                                 issue.message) for issue in deck.problems]
    for record in products:
        if record.kind != "video":
            continue
        for index, scene in enumerate(record.product.scenes):
            if not scene.slide:
                continue
            stem, _, number = scene.slide.partition("#")
            line = record.line_of("scenes", index, "slide")
            field_name = f"scenes[{index + 1}].slide"
            if stem not in decks:
                problems.append(Problem(record.display, line, field_name,
                                        f"no slides product {stem!r} in this session; slides products here: "
                                        f"({', '.join(sorted(decks)) or 'none'})"))
            elif not 1 <= int(number) <= decks[stem]:
                problems.append(Problem(record.display, line, field_name,
                                        f"{stem} has slides 1 to {decks[stem]} (1 is the title slide), "
                                        f"received: {int(number)}"))
    return problems


def session_folders(root: Path) -> list[Path]:
    sessions_root = root / "sessions"
    if not sessions_root.is_dir():
        return []
    folders = []
    for quarter in sorted(sessions_root.iterdir()):
        if quarter.is_dir() and not quarter.name.startswith("."):
            folders += sorted(p for p in quarter.iterdir() if p.is_dir() and not p.name.startswith("."))
    return folders


def load_content(root: Path) -> ContentTree:
    root = Path(root)
    site, cells, problems = load_site(root)
    tree = ContentTree(root=root, site=site, cells=cells, problems=problems)
    sessions_root = root / "sessions"
    if sessions_root.is_dir():
        for quarter in sorted(sessions_root.iterdir()):
            if quarter.is_dir() and not QUARTER_DIR_RE.match(quarter.name):
                tree.problems.append(Problem(display_path(quarter, root), None, "folder",
                                             f"quarter folders are named like '2024-q4', received: {quarter.name!r}"))
    for folder in session_folders(root):
        if not QUARTER_DIR_RE.match(folder.parent.name):
            continue
        record, found = load_session(folder, root, cells)
        tree.problems += found
        if record is None:
            tree.invalid[display_path(folder, root)] = [p for p in found if p.severity == "error"]
        else:
            tree.sessions.append(record)
    tree.sessions.sort(key=lambda s: (s.session.date, s.slug), reverse=True)
    return tree
