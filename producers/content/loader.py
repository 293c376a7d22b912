"""Load and validate the content tree into the typed model. Loading never renders.

One broken session never stops the others: each session's problems are collected on its record
and the rest of the tree loads. Any exception while reading one session's files becomes that
session's problem, naming the file.

Only regular files inside the content root are content. Folders are listed with ``os.scandir``
without following links, files are opened by ``yamlsafe.open_regular`` (no link, no pipe, never
blocking), and a link, folder or pipe where content is expected is one error line. Names on disk
are compared in NFC, as the model stores text: a file named in NFD (as macOS writes names) matches
its NFC reference, and the other way round.

This layer knows no product kind: the caller passes the models to validate products against
(``ProductModels``: kind name -> model, from ``producers.kinds.registry``), and each model says
what else its kind asks of a file (``ProductBase.needs_body``, ``body_problems``,
``session_problems``, ``BODY_IMAGES``).
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from producers.errors import Problem, display_path
from producers.content.markdown import BodyReference, body_references, local_path, url_kind
from producers.content.model import (FILE_NAME_RE, QUARTER_DIR_RE, SESSION_DIR_RE, Cell, CellsFile, ProductBase, Session, SiteConfig)
from producers.media.probe import refusal
from producers.content.validation import one_of, validate
from producers.content.yamlsafe import (Document, NotContent, file_kind, nfc, open_regular, read_front_matter, read_yaml_file)

MAX_PRODUCTS = 3
ProductModels = Mapping[str, type[ProductBase]]
# Per-file size caps by extension: generous for phones, fatal for accidents and abuse.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif")
MEDIA_LIMITS = {
    **dict.fromkeys(IMAGE_SUFFIXES, 30_000_000),
    **dict.fromkeys((".mp3", ".m4a", ".wav", ".ogg", ".opus", ".flac"), 300_000_000),
    **dict.fromkeys((".vtt", ".srt"), 2_000_000),
    **dict.fromkeys((".mp4", ".mov", ".webm", ".mkv"), 500_000_000),
}
# site.yml's media fields; a product's are its model's MEDIA_FIELDS (a kind may add its own)
MEDIA_KEYS = frozenset({"file", "image", "audio", "cover", "logo", "intro_music", "outro_music"})
BODY_IMAGE_PREFIX = "body-"


def body_image_stem(path: str) -> str:
    """The published name (without extension) of a session image shown in a Markdown body: stable
    for the file, whatever else the body says."""
    return BODY_IMAGE_PREFIX + hashlib.sha256(nfc(path).encode("utf-8")).hexdigest()[:12]


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


# --- the file system: regular files and real folders only ------------------------------------------

LINKED_FOLDER = ("is a symbolic link; links are never followed for content: put the folder itself here "
                 "(only regular files inside the content folder are content)")


def _listing(folder: Path) -> list[tuple[str, os.DirEntry]]:
    """(NFC name, entry) of a folder's entries, sorted by name, dot files left out; links not followed."""
    with os.scandir(folder) as entries:
        listed = [(nfc(entry.name), entry) for entry in entries if not entry.name.startswith(".")]
    return sorted(listed, key=lambda pair: pair[0])


def _disk_name(folder: Path, name: str) -> str | None:
    """The name on disk of ``folder``'s entry called ``name`` up to Unicode normalisation, or None."""
    try:
        os.lstat(folder / name)
        return name
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError:
        return None
    wanted = nfc(name)
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if nfc(entry.name) == wanted:
                    return entry.name
    except OSError:
        return None
    return None


def media_references(data: Any, loc: tuple = (), keys: frozenset[str] = MEDIA_KEYS) -> list[tuple[tuple, str]]:
    """Every (field path, relative path) naming a media file in validated front matter: the values
    of ``keys`` at any depth."""
    found: list[tuple[tuple, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in keys and isinstance(value, str):
                found.append((loc + (key,), value))
            else:
                found.extend(media_references(value, loc + (key,), keys))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(media_references(item, loc + (index,), keys))
    return found


def check_media_path(base: Path, relative: str) -> tuple[Path | None, str | None]:
    """Find a media file inside ``base``: a regular file reached through real folders only (no link
    at any step), named as written up to Unicode normalisation, of an accepted type and size.
    Returns the file as it is on disk, or the reason it cannot be used."""
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or relative.startswith(("/", "\\")) or (len(relative) > 1 and relative[1] == ":"):
        return None, f"must be a path inside the session folder, received an absolute path: {relative!r}"
    if ".." in pure.parts:
        return None, f"must stay inside the session folder ('..' is not allowed), received: {relative!r}"
    parts = [part for part in pure.parts if part not in ("", ".")]
    if not parts:
        return None, f"must name a file inside the session folder, received: {relative!r}"
    current = base
    for index, part in enumerate(parts):
        on_disk = _disk_name(current, part)
        if on_disk is None:
            return None, f"file not found: {relative!r} (looked in {base.name}/)"
        current = current / on_disk
        mode = os.lstat(current).st_mode
        shown = "/".join(parts[: index + 1])
        if stat.S_ISLNK(mode):
            where = f"{relative!r}" if index == len(parts) - 1 else f"{shown + '/'!r} in {relative!r}"
            return None, (f"{where} is a symbolic link; links are never followed for content: put the file itself "
                          f"in the session folder")
        if index < len(parts) - 1 and not stat.S_ISDIR(mode):
            return None, f"file not found: {relative!r} (looked in {base.name}/; {shown!r} is not a folder)"
    try:
        fd = open_regular(current, base)
    except NotContent as exc:
        return None, f"{relative!r} {exc.message}"
    try:
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    suffix = current.suffix.lower()
    limit = MEDIA_LIMITS.get(suffix)
    if limit is None:
        allowed = ", ".join(sorted(MEDIA_LIMITS))
        return None, f"file type {current.suffix or '(none)'!r} is not accepted; allowed: ({allowed})"
    if size > limit:
        return None, f"{relative!r} is {size:,} bytes; {current.suffix} files may be at most {limit:,} bytes"
    return current, None


def _check_media(data: dict, doc: Document, base: Path, display: str,
                 keys: frozenset[str] = MEDIA_KEYS) -> tuple[list[Problem], dict[tuple, str]]:
    """Problems of the media named in front matter, and each found file's path as it is on disk."""
    problems, on_disk = [], {}
    for loc, relative in media_references(data, keys=keys):
        found, message = check_media_path(base, relative)
        if found is not None and message is None:
            message = refusal(found, repr(relative))     # by its bytes: no playlists, lists or references
        if message:
            field_name = ".".join(str(p + 1) if isinstance(p, int) else p for p in loc)
            problems.append(Problem(display, doc.line_of(loc), field_name, message))
        elif found is not None:
            on_disk[loc] = found.relative_to(base).as_posix()
    return problems, on_disk


def _with_disk_names(site: SiteConfig, on_disk: dict[tuple, str]) -> SiteConfig:
    """The site's media paths as they are on disk: the site and feed code join them to the content
    folder directly, so a logo named in NFD must be given by its NFD name."""
    data = site.model_dump()
    changed = False
    for loc, path in on_disk.items():
        target = data
        for part in loc[:-1]:
            target = target[part]
        if target[loc[-1]] != path:
            target[loc[-1]] = path
            changed = True
    return SiteConfig.model_validate(data) if changed else site


def _unexpected(path: Path, root: Path, exc: BaseException) -> Problem:
    """An exception nobody foresaw, as one line about the file that caused it."""
    detail = " ".join(str(exc).split())[:200]
    return Problem(display_path(path, root), None, "",
                   f"could not be read: unexpected {type(exc).__name__}" + (f" ({detail})" if detail else "")
                   + "; the rest of the content is not affected. Simplify this file, and tell the editors")


# --- site.yml and cells.yml --------------------------------------------------------------------------

def _read_config(path: Path, root: Path, what: str) -> tuple[Document | None, list[Problem]]:
    shown = display_path(path, root)
    if not os.path.lexists(path):
        return None, [Problem(shown, None, "", f"missing: every content folder needs a {what}")]
    return read_yaml_file(path, shown, root=root)


def _guarded(load, path: Path, root: Path, empty):
    """``load(path, root)``, where one broken file is one problem, never a traceback."""
    try:
        return load(path, root)
    except Exception as exc:
        return empty, [_unexpected(path, root, exc)]


def load_site(root: Path) -> tuple[SiteConfig | None, dict[str, Cell], list[Problem]]:
    site, site_problems = _guarded(_load_site_file, root / "site.yml", root, None)
    cells, cell_problems = _guarded(_load_cells_file, root / "cells.yml", root, {})
    return site, cells, site_problems + cell_problems


def _load_site_file(path: Path, root: Path) -> tuple[SiteConfig | None, list[Problem]]:
    shown = display_path(path, root)
    doc, problems = _read_config(path, root, "site.yml")
    if doc is None:
        return None, problems
    site, problems = validate(SiteConfig, doc.data, doc, shown)
    if site is None:
        return None, problems
    problems, on_disk = _check_media(site.model_dump(), doc, root, shown)
    if problems:
        return None, problems
    return _with_disk_names(site, on_disk), []


def _load_cells_file(path: Path, root: Path) -> tuple[dict[str, Cell], list[Problem]]:
    shown = display_path(path, root)
    cells: dict[str, Cell] = {}
    doc, problems = _read_config(path, root, "cells.yml")
    if doc is None:
        return cells, problems
    parsed, problems = validate(CellsFile, doc.data, doc, shown)
    if parsed is None:
        return cells, problems
    problems = []
    for index, cell in enumerate(parsed.cells):
        if cell.id in cells:
            problems.append(Problem(shown, doc.line_of(("cells", index, "id")), f"cells[{index + 1}].id",
                                    f"cell id {cell.id!r} is declared twice; ids must be unique"))
        cells.setdefault(cell.id, cell)
    return cells, problems


# --- products and sessions -----------------------------------------------------------------------------

def load_product(path: Path, root: Path, session: Session | None, models: ProductModels,
                 folder: Path | None = None) -> tuple[ProductRecord | None, list[Problem]]:
    shown = display_path(path, root)
    folder = folder if folder is not None else path.parent
    doc, problems = read_front_matter(path, shown, root=root)
    if doc is None:
        return None, problems
    body_problems = problems
    kind = doc.data.get("type")
    if kind is None:
        return None, [Problem(shown, 2, "type", f"required field is missing; one of: ({', '.join(models)})"),
                      *body_problems]
    if not isinstance(kind, str) or kind not in models:
        return None, [Problem(shown, doc.line_of(("type",)), "type", one_of(kind, list(models))),
                      *body_problems]
    product, problems = validate(models[kind], doc.data, doc, shown)
    if product is None:
        return None, problems + body_problems
    problems, _ = _check_media(product.model_dump(), doc, folder, shown, type(product).MEDIA_FIELDS)
    problems += body_problems
    if product.needs_body() and not doc.body.strip():
        problems.append(Problem(shown, doc.body_line, "(body)", "is empty; write the product's text below "
                                                                  "the front matter"))
    problems += product.body_problems(doc.body, doc.body_line, shown)
    if product.BODY_IMAGES == "published" and not body_problems:
        problems += _body_reference_problems(body_references(doc.body), doc.body_line, folder, shown)
    elif product.BODY_IMAGES == "not shown" and not body_problems:
        problems += _unshown_images(doc.body, doc.body_line, shown, f"a {kind}'s text")
    language = product.language or (session.language if session else "en")
    record = ProductRecord(path=path, display=shown, stem=nfc(path.stem), product=product, language=language,
                           body=doc.body, body_line=doc.body_line, lines=doc.lines)
    return record, problems


ALLOWED_LINKS = ("web addresses (https://…), e-mail addresses (mailto:…), #anchors, "
                 "or images of the session folder (media/photo.jpg)")


def _body_reference_problems(references: list[BodyReference], body_line: int, folder: Path,
                             shown: str) -> list[Problem]:
    """An article body's images and links: local images must be images of the session (they are
    published through the image pipeline); other sites' images are shown as links (a warning)."""
    problems = []
    for ref in references:
        line = body_line + ref.line - 1
        kind = url_kind(ref.url)
        if ref.kind == "html-link" and kind not in ("external", "anchor", "mail"):
            problems.append(Problem(shown, line, "(body)", f"an HTML <a> link to {ref.url!r} is not published; "
                                    f"write links in Markdown, like [the text](https://example.org/); allowed: "
                                    f"{ALLOWED_LINKS}"))
        elif ref.kind == "html-image" and kind != "external":
            problems.append(Problem(shown, line, "(body)", f"an HTML <img> tag ({ref.url!r}) is not published; "
                                    "write the image in Markdown: ![what the picture shows](media/photo.jpg)"))
        elif ref.kind == "html-image":
            problems.append(Problem(shown, line, "(body)", f"an HTML <img> tag is not published (other sites' "
                                    f"images are never embedded: they track readers), received {ref.url!r}; "
                                    "save the picture into media/ and write ![what it shows](media/photo.jpg)"))
        elif ref.kind == "unread-image":
            problems.append(Problem(shown, line, "(body)", f"![{ref.text}]({ref.url}) is not read as an image: an "
                                    "address with spaces must be written in <...>, like "
                                    f"![{ref.text}](<{ref.url}>)"))
        elif ref.kind == "image" and kind == "external":
            problems.append(Problem(shown, line, "(body)", f"image {ref.url!r} is on another site: it is shown "
                                    "as a link, not embedded (other sites' images track readers); save the "
                                    "picture into media/ and write ![what it shows](media/photo.jpg) to show it",
                                    severity="warning"))
        elif kind in ("local", "empty"):
            what = "image" if ref.kind == "image" else "link"
            path = local_path(ref.url)
            found, message = check_media_path(folder, path)
            if message:
                problems.append(Problem(shown, line, "(body)", f"{what} {ref.url!r}: {message}"))
            elif found.suffix.lower() not in IMAGE_SUFFIXES:
                problems.append(Problem(shown, line, "(body)", f"{what} {ref.url!r} is not an image; a body may show "
                                        f"or link images of the session ({', '.join(IMAGE_SUFFIXES)}), or link "
                                        "to a web address"))
            elif ref.kind == "image" and not ref.text.strip():
                problems.append(Problem(shown, line, "(body)", f"image {ref.url!r} has no description; write "
                                        "what it shows between the brackets, like ![Volunteers at the canal]"
                                        f"({ref.url}), for readers who cannot see it", severity="warning"))
        elif kind == "scheme":
            what = "image" if ref.kind == "image" else "link"
            problems.append(Problem(shown, line, "(body)", f"{what} {ref.url!r} is not allowed; allowed: "
                                    f"{ALLOWED_LINKS}"))
    return problems


def _unshown_images(body: str, body_line: int, shown: str, where: str) -> list[Problem]:
    """Bodies other than an article's show no images: say so rather than drop them silently."""
    return [Problem(shown, body_line + ref.line - 1, "(body)",
                    f"image {ref.url!r} is not shown: images appear in articles, slides and photo series, not in "
                    f"{where}; the page shows its description instead", severity="warning")
            for ref in body_references(body) if ref.kind in ("image", "html-image")]


def _session_entries(folder: Path) -> tuple[Path | None, list[tuple[str, Path]]]:
    """session.md (None if missing) and the product candidates ('*.md'), by NFC name."""
    session_path = None
    products: list[tuple[str, Path]] = []
    for name, entry in _listing(folder):
        if name == "session.md":
            session_path = folder / entry.name
        elif name.endswith(".md"):
            products.append((name, folder / entry.name))
    return session_path, products


def load_session(folder: Path, root: Path, cells: dict[str, Cell],
                 models: ProductModels) -> tuple[SessionRecord | None, list[Problem]]:
    """One session folder. Whatever goes wrong inside is this session's problem, naming the file."""
    reading = [folder / "session.md"]
    try:
        return _load_session(folder, root, cells, models, reading)
    except Exception as exc:
        return None, [_unexpected(reading[-1], root, exc)]


def _load_session(folder: Path, root: Path, cells: dict[str, Cell], models: ProductModels,
                  reading: list[Path]) -> tuple[SessionRecord | None, list[Problem]]:
    shown_dir = display_path(folder, root)
    folder_name = nfc(folder.name)
    quarter_match = QUARTER_DIR_RE.match(nfc(folder.parent.name))
    if os.path.islink(folder):
        return None, [Problem(shown_dir, None, "", LINKED_FOLDER)]
    session_path, product_entries = _session_entries(folder)
    if session_path is None:
        return None, [Problem(display_path(folder / "session.md", root), None, "",
                              "missing: every session folder needs a session.md")]
    shown = display_path(session_path, root)
    doc, problems = read_front_matter(session_path, shown, root=root)
    if doc is None:
        return None, problems
    body_problems = problems
    session, problems = validate(Session, doc.data, doc, shown)
    problems = list(problems) + body_problems
    if not body_problems:
        problems += _unshown_images(doc.body, doc.body_line, shown, "the minutes")
    if session is not None:
        if session.cell not in cells:
            problems.append(Problem(shown, doc.line_of(("cell",)), "cell",
                                    one_of(session.cell, sorted(cells)) + " (cells are declared in cells.yml)"))
        if not SESSION_DIR_RE.match(folder_name) or not folder_name.startswith(session.cell + "-"):
            problems.append(Problem(shown_dir, None, "folder",
                                    f"session folder must be named '<cell>-<topic>' in lowercase with hyphens, "
                                    f"starting with '{session.cell}-', received: {folder_name!r}"
                                    + _folder_suggestion(folder_name, session.cell)))
        if quarter_match and session.quarter != nfc(folder.parent.name):
            problems.append(Problem(shown, doc.line_of(("date",)), "date",
                                    f"date {session.date.isoformat()} is in {session.quarter}, but the session is "
                                    f"filed under {nfc(folder.parent.name)}/"))
    products: list[ProductRecord] = []
    topics: dict[str, str] = {}
    for name, path in product_entries:
        shown_product = display_path(path, root)
        if not FILE_NAME_RE.match(name):
            problems.append(Problem(shown_product, None, "file name",
                                    f"product files are named like '01-slides.md' (two digits, a hyphen, lowercase "
                                    f"words), received: {name!r}"))
            continue
        topic = name[3:-3]
        if topic in topics:
            problems.append(Problem(shown_product, None, "file name",
                                    f"duplicate product slug {topic!r}: also used by {topics[topic]}"))
            continue
        topics[topic] = name
        reading.append(path)
        record, found = load_product(path, root, session, models, folder)
        problems += found
        if record is not None:
            products.append(record)
    reading.append(folder / "session.md")
    names = [name for name, _ in product_entries]
    if not names:
        problems.append(Problem(shown_dir, None, "products",
                                f"a session needs 1 to {MAX_PRODUCTS} product files (like 01-article.md), found none"))
    elif len(names) > MAX_PRODUCTS:
        problems.append(Problem(shown_dir, None, "products",
                                f"a session has 1 to {MAX_PRODUCTS} products, found {len(names)}: {', '.join(names)}"))
    problems += _cross_checks(products, folder)
    if session is None or any(p.severity == "error" for p in problems):
        return None, problems
    record = SessionRecord(dir=folder, display=shown_dir, quarter=session.quarter, slug=folder_name,
                           session=session, body=doc.body, products=tuple(products))
    return record, problems


def _folder_suggestion(name: str, cell: str) -> str:
    """'; did you mean 'ha-long-ve-sinh'?' for a folder named 'Vệ sinh' of cell ha-long."""
    plain = "".join(c for c in unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
                    if not unicodedata.combining(c))
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in plain.lower()).split()
    slug = "-".join(words)
    if slug and not slug.startswith(cell + "-"):
        slug = f"{cell}-{slug}"
    return f"; did you mean {slug!r}?" if slug and slug != name and SESSION_DIR_RE.match(slug) else ""


def _cross_checks(products: list[ProductRecord], folder: Path) -> list[Problem]:
    """What one product file cannot tell alone (a deck that would not render, a video scene naming a
    slide that does not exist): each kind present checks the session's products, before any build."""
    problems: list[Problem] = []
    for model in dict.fromkeys(type(record.product) for record in products):
        problems += model.session_problems(products, folder)
    return problems


# --- the tree --------------------------------------------------------------------------------------------

def _walk(root: Path) -> tuple[list[Path], list[Problem], list[Problem]]:
    """Session folders under sessions/<quarter>/; problems of links and badly named quarters; and
    linked session folders (each one an invalid session)."""
    problems: list[Problem] = []
    linked: list[Problem] = []
    sessions_root = root / "sessions"
    try:
        mode = os.lstat(sessions_root).st_mode
    except FileNotFoundError:
        return [], [], []
    if not stat.S_ISDIR(mode):
        message = LINKED_FOLDER if stat.S_ISLNK(mode) else f"is {file_kind(mode)}; sessions/ must be a folder"
        return [], [Problem(display_path(sessions_root, root), None, "", message)], []
    folders: list[Path] = []
    for name, quarter in _listing(sessions_root):
        path = sessions_root / quarter.name
        if quarter.is_symlink():
            problems.append(Problem(display_path(path, root), None, "", LINKED_FOLDER))
            continue
        if not quarter.is_dir(follow_symlinks=False):
            continue
        if not QUARTER_DIR_RE.match(name):
            problems.append(Problem(display_path(path, root), None, "folder",
                                    f"quarter folders are named like '2024-q4', received: {name!r}"))
            continue
        for _, session in _listing(path):
            if session.is_symlink():
                linked.append(Problem(display_path(path / session.name, root), None, "", LINKED_FOLDER))
            elif session.is_dir(follow_symlinks=False):
                folders.append(path / session.name)
    return folders, problems, linked


def session_folders(root: Path) -> list[Path]:
    """Every real session folder under sessions/<quarter>/ (links are never followed)."""
    return _walk(root)[0]


def load_content(root: Path, models: ProductModels) -> ContentTree:
    """The tree under ``root``; each product validated against ``models[its type]`` (usually
    ``producers.kinds.registry.load_content``, which passes the registered kinds' models)."""
    root = Path(root)
    site, cells, problems = load_site(root)
    tree = ContentTree(root=root, site=site, cells=cells, problems=problems)
    try:
        folders, found, linked = _walk(root)
    except OSError as exc:
        folders, found, linked = [], [_unexpected(root / "sessions", root, exc)], []
    tree.problems += found + linked
    for problem in linked:
        tree.invalid[problem.path] = [problem]
    for folder in folders:
        record, found = load_session(folder, root, cells, models)
        tree.problems += found
        if record is None:
            tree.invalid[display_path(folder, root)] = [p for p in found if p.severity == "error"]
        else:
            tree.sessions.append(record)
    tree.sessions.sort(key=lambda s: (s.session.date, s.slug), reverse=True)
    return tree
