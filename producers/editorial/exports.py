"""Exports for people outside the site: the annual contest (DOCX) and chat-group bundles (zips).

Contest: every article of the year whose ``channels`` include ``contest`` becomes one DOCX file
(python-docx). Word and LibreOffice pick a run's typeface by script: Latin (and Vietnamese) use
``w:ascii``/``w:hAnsi``, Devanagari is a complex script and uses ``w:cs`` with its own bold and size
(``w:bCs``, ``w:szCs``); each run and each style therefore names all of them, and ``w:lang`` names the
languages (``w:bidi`` for the complex script), or Devanagari falls back to a font without its glyphs.
The theme-font attributes of the default template's headings are removed: they would override them.

Bundle: the finished files of one built session (``site/sessions/<quarter>/<folder>/``), zipped for
chat groups. Every file must be under the limit (default 25 MB): videos above 720p are re-encoded to
720p first; what is still too big is left out and reported. The zip itself is split into parts that
each stay under the limit, so every part can be posted.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it.token import Token

from producers.media import audio, tools
from producers.files import reproducible_zip
from producers.errors import Cell35Error, ProducerError
from producers.media.images import open_photo
from producers.content.loader import ContentTree, ProductRecord, SessionRecord, check_media_path
from producers.content.markdown import PARSER, Run, inline_runs, tokens
from producers.content.model import Cell

FONT_LATIN = "Noto Sans"
FONT_DEVANAGARI = "Noto Sans Devanagari"
LANG_TAGS = {"en": "en-US", "vi": "vi-VN", "hi": "hi-IN"}
EXPORTABLE_STATUSES = ("approved", "published")
MAX_IMAGE_SIDE = 2000


class ExportError(Cell35Error):
    """An export that cannot be made; the message says which session or file and why."""


# --- DOCX ---------------------------------------------------------------------------------------

def _qn(tag: str) -> str:
    from docx.oxml.ns import qn
    return qn(tag)


def _set_fonts(rpr, language: str) -> None:
    """Name the typeface for every script class and the languages on a <w:rPr>."""
    from docx.oxml import OxmlElement
    # Word rejects a document whose run properties are out of schema order: insert, never append.
    fonts = rpr.get_or_add_rFonts()
    for theme_attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(_qn(theme_attr), None)
    fonts.set(_qn("w:ascii"), FONT_LATIN)
    fonts.set(_qn("w:hAnsi"), FONT_LATIN)
    fonts.set(_qn("w:eastAsia"), FONT_LATIN)
    fonts.set(_qn("w:cs"), FONT_DEVANAGARI)
    lang = rpr.find(_qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(_qn("w:val"), LANG_TAGS.get(language, "en-US"))
    lang.set(_qn("w:eastAsia"), LANG_TAGS.get(language, "en-US"))
    lang.set(_qn("w:bidi"), "hi-IN")


def _complex_script_emphasis(rpr, bold: bool, italic: bool) -> None:
    """Bold/italic for Devanagari come from w:bCs/w:iCs, not w:b/w:i."""
    if bold:
        rpr.get_or_add_bCs()
    if italic:
        rpr.get_or_add_iCs()


def _prepare_styles(document, language: str) -> None:
    from docx.shared import Pt
    styles = document.styles
    defaults = styles.element.find(_qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(_qn("w:rPrDefault"))
        if rpr_default is not None and rpr_default.find(_qn("w:rPr")) is not None:
            _set_fonts(rpr_default.find(_qn("w:rPr")), language)
    for name in ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "List Bullet",
                 "List Number", "Quote", "Caption"):
        try:
            style = styles[name]
        except KeyError:
            continue
        _set_fonts(style.element.get_or_add_rPr(), language)
        if name == "Normal":
            style.font.size = Pt(11)
            rpr = style.element.get_or_add_rPr()
            size_cs = rpr.find(_qn("w:szCs"))
            if size_cs is None:
                from docx.oxml import OxmlElement
                size_cs = OxmlElement("w:szCs")
                rpr.insert_element_before(size_cs, "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText",
                                          "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                                          "w:specVanish", "w:oMath")
            size_cs.set(_qn("w:val"), "22")


def _add_run(paragraph, text: str, language: str, bold: bool = False, italic: bool = False, code: bool = False):
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    rpr = run._r.get_or_add_rPr()
    _set_fonts(rpr, language)
    _complex_script_emphasis(rpr, bold, italic)
    if code:
        run.font.name = "Noto Sans Mono"
    return run


def _add_runs(paragraph, runs: list[Run], language: str) -> None:
    """Emphasis, code, links (text, then the address) and image descriptions; raw HTML is dropped."""
    for index, run in enumerate(runs):
        if run.image:
            if run.text:
                _add_run(paragraph, f"[{run.text}]", language, italic=True)
            continue
        _add_run(paragraph, run.text, language, bold=run.bold, italic=run.italic, code=run.code)
        last_of_link = run.link is not None and (index + 1 == len(runs) or runs[index + 1].link != run.link)
        if last_of_link and run.link and run.link != run.text:
            _add_run(paragraph, f" ({run.link})", language)


def _add_inline(paragraph, text: str, language: str) -> None:
    """One line of inline Markdown (a title): '1. Intro' stays a title, not a list."""
    for inline in PARSER.parseInline(text):
        _add_runs(paragraph, inline_runs(inline.children or ()), language)


def _add_table(document, rows: list[list[Token]], language: str) -> None:
    table = document.add_table(rows=len(rows), cols=max(len(row) for row in rows))
    table.style = "Table Grid"
    for row, cells in zip(table.rows, rows):
        for cell, inline in zip(row.cells, cells):
            _add_runs(cell.paragraphs[0], inline_runs(inline.children or ()), language)


def markdown_to_docx(document, body: str, language: str) -> None:
    """The Markdown an article is written in: headings, paragraphs, lists, quotes, tables, emphasis."""
    lists: list[str] = []
    quote = 0
    heading: int | None = None
    item_starts = False            # the next paragraph is a list item's first: it carries the bullet
    table: list[list[Token]] | None = None
    for token in tokens(body):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append("List Bullet" if kind == "bullet_list_open" else "List Number")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            item_starts = True
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "heading_open":
            heading = min(int(token.tag[1:]) + 1, 4)
        elif kind == "heading_close":
            heading = None
        elif kind == "table_open":
            table = []
        elif kind == "tr_open" and table is not None:
            table.append([])
        elif kind == "table_close" and table:
            _add_table(document, table, language)
            table = None
        elif kind in ("fence", "code_block"):
            _add_run(document.add_paragraph(), token.content.rstrip("\n"), language, code=True)
        elif kind == "inline" and table is not None:
            table[-1].append(token)
        elif kind == "inline":
            if heading is not None:
                paragraph = document.add_heading(level=heading)
            else:
                style = lists[-1] if lists and item_starts else "Quote" if quote else None
                paragraph = document.add_paragraph(style=style)
            item_starts = False
            _add_runs(paragraph, inline_runs(token.children or ()), language)


def _picture_bytes(path: Path, label: str) -> io.BytesIO:
    """Re-encoded to JPEG: any accepted format the cell sent, opened only as what its bytes are
    (images.open_photo), no location (or any) metadata, at most MAX_IMAGE_SIDE px."""
    photo = open_photo(path, label, max_edge=MAX_IMAGE_SIDE)
    image = photo.image.convert("RGB")     # open_photo already fitted it within MAX_IMAGE_SIDE
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    buffer.seek(0)
    return buffer


def article_docx(session: SessionRecord, record: ProductRecord, cell: Cell, path: Path) -> list[str]:
    """Write one article as DOCX; returns warnings (e.g. a cover that could not be embedded)."""
    from docx import Document
    from docx.shared import Cm
    product = record.product
    language = record.language
    warnings: list[str] = []
    document = Document()
    _prepare_styles(document, language)
    document.core_properties.title = product.title
    document.core_properties.author = ", ".join(product.authors) or cell.name
    document.core_properties.language = LANG_TAGS.get(language, "en-US")
    title = document.add_heading(level=0)
    _add_inline(title, product.title, language)
    meta = document.add_paragraph()
    details = [cell.name, cell.committee, cell.area, session.session.date.isoformat()]
    if product.authors:
        details.insert(0, ", ".join(product.authors))
    _add_run(meta, " · ".join(details), language, italic=True)
    cover = getattr(product, "cover", None)
    if cover is not None:
        resolved, message = check_media_path(session.dir, cover.file)
        if resolved is None:
            warnings.append(f"{record.display}: cover: {message}")
        else:
            try:
                document.add_picture(_picture_bytes(resolved, f"{record.display}: cover"), width=Cm(15))
                caption = document.add_paragraph(style="Caption")
                _add_run(caption, cover.alt + (f" — {cover.credit}" if cover.credit else ""), language)
            except (OSError, ValueError) as exc:
                warnings.append(f"{record.display}: cover: {cover.file!r} could not be read as an image ({exc})")
            except ProducerError as exc:
                warnings.append(exc.message)
    if product.summary:
        lead = document.add_paragraph()
        _add_run(lead, product.summary, language, bold=True)
    markdown_to_docx(document, record.body, language)
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(reproducible_zip(buffer.getvalue()))
    return warnings


@dataclass
class ContestExport:
    path: Path
    articles: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


INDEX_FIELDS = ["file", "title", "authors", "cell", "cell_name", "committee", "area", "session", "date", "language",
                "status", "words"]


def _atomic_zip_path(out: Path) -> tuple[int, str]:
    out.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)


def export_contest(tree: ContentTree, year: int, out: Path, include_unapproved: bool = False) -> ContestExport:
    """One zip: a DOCX per contest article of ``year`` plus index.csv (UTF-8 with BOM, opens in Excel)."""
    out = Path(out)
    result = ContestExport(out)
    chosen: list[tuple[SessionRecord, ProductRecord]] = []
    for session in sorted(tree.sessions, key=lambda s: (s.session.date, s.slug)):
        if session.session.date.year != year:
            continue
        for record in session.products:
            if record.kind != "article" or "contest" not in record.product.channels:
                continue
            if session.session.status not in EXPORTABLE_STATUSES and not include_unapproved:
                result.skipped.append(f"{session.id}/{record.stem}: the session is {session.session.status!r}, "
                                      f"not approved (use --include-unapproved)")
                continue
            chosen.append((session, record))
    if not chosen:
        raise ExportError(f"no article of {year} is marked for the contest (channels: [contest]) in an approved "
                          f"or published session" + (f"; left out: {'; '.join(result.skipped)}" if result.skipped else ""))
    fd, tmp = _atomic_zip_path(out)
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory(prefix="cell35-contest-") as scratch, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for number, (session, record) in enumerate(chosen, 1):
                cell = tree.cells[session.session.cell]
                name = f"{number:02d}-{session.quarter}-{session.slug}-{record.stem}.docx"
                docx_path = Path(scratch) / name
                result.warnings += article_docx(session, record, cell, docx_path)
                archive.write(docx_path, name)
                entry = {"file": name, "title": record.product.title, "authors": ", ".join(record.product.authors),
                         "cell": cell.id, "cell_name": cell.name, "committee": cell.committee, "area": cell.area,
                         "session": session.id, "date": session.session.date.isoformat(), "language": record.language,
                         "status": session.session.status, "words": len(record.body.split())}
                result.articles.append(entry)
            index = io.StringIO()
            writer = csv.DictWriter(index, fieldnames=INDEX_FIELDS, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(result.articles)
            archive.writestr("index.csv", "\ufeff" + index.getvalue())
            archive.writestr("index.json", json.dumps({"year": year, "articles": result.articles},
                                                      ensure_ascii=False, indent=2))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


# --- chat-group bundles -------------------------------------------------------------------------

BUNDLE_SUFFIXES = frozenset({".mp4", ".webm", ".mov", ".mp3", ".m4a", ".ogg", ".opus", ".pdf", ".pptx", ".docx",
                             ".png", ".jpg", ".jpeg", ".webp", ".gif", ".vtt", ".srt", ".txt", ".zip"})
VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".mov"})
TEXT_SUFFIXES = frozenset({".vtt", ".srt", ".txt"})
MAX_SHORT_SIDE = 720
EOCD_BYTES = 22


@dataclass
class BundleResult:
    parts: list[Path] = field(default_factory=list)
    included: list[str] = field(default_factory=list)
    too_big: list[tuple[str, int]] = field(default_factory=list)
    downscaled: list[str] = field(default_factory=list)


def built_session_folder(site: Path, ref: str) -> Path:
    site = Path(site)
    cleaned = ref.strip().strip("/")
    for prefix in ("sessions/", "content/sessions/"):
        if cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix):]
    sessions = site / "sessions"
    parts = cleaned.split("/")
    if len(parts) == 2 and (sessions / parts[0] / parts[1]).is_dir():
        return sessions / parts[0] / parts[1]
    if len(parts) == 1 and sessions.is_dir():
        matches = sorted(p for p in sessions.glob(f"*/{parts[0]}") if p.is_dir())
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ExportError(f"{ref!r} is built in several quarters ({', '.join(m.parent.name for m in matches)}); "
                              f"write it as QUARTER/FOLDER")
    raise ExportError(f"no built session {ref!r} in {sessions}; run `cell35 build` first (only published or "
                      f"approved sessions are built)")


def video_size(path: Path) -> tuple[int, int]:
    result = tools.run(["ffprobe", "-v", "error", *audio.input_args(path), "-select_streams", "v:0",
                        "-show_entries", "stream=width,height", "-of", "json"], timeout=60, what=f"ffprobe {path.name}")
    streams = json.loads(result.stdout or b"{}").get("streams") or []
    if not streams:
        return 0, 0
    return int(streams[0]["width"]), int(streams[0]["height"])


def to_720p(source: Path, target: Path) -> Path:
    """Re-encode with the short side at 720 px (16:9 -> 1280x720, 9:16 -> 720x1280)."""
    scale = (f"scale='if(gte(iw,ih),-2,{MAX_SHORT_SIDE})':'if(gte(iw,ih),{MAX_SHORT_SIDE},-2)'")
    tools.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *audio.input_args(source), "-vf", scale, "-c:v", "libx264",
               "-preset", "veryfast", "-crf", "24", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
               "-movflags", "+faststart", target], outputs=[target], timeout=1800, what=f"ffmpeg 720p {source.name}")
    return target


def _entry_bound(name: str, size: int, stored: bool) -> int:
    """Upper bound of an entry's bytes in the zip: local + central headers, data, deflate block overhead."""
    name_bytes = len(name.encode("utf-8"))
    overhead = 30 + 46 + 2 * name_bytes + 16 + 2 * 32      # zip64 extras when needed
    data = size if stored else size + 5 * math.ceil(max(size, 1) / 16_384) + 8
    return overhead + data


def bundle_session(site: Path, ref: str, out: Path | None = None, limit_bytes: int = 25_000_000,
                   content: Path | None = None) -> BundleResult:
    """Zip a built session's finished files; every file and every zip part stays under ``limit_bytes``."""
    try:
        folder = built_session_folder(site, ref)
    except ExportError:
        if content is None:
            raise
        # The editor may name the session as in content/ (e.g. by folder only): map it to the build.
        from producers.editorial.workflow import WorkflowError, find_session
        try:
            source = find_session(content, ref)
        except WorkflowError:
            raise ExportError(f"no session {ref!r} in {content} or in {site}/sessions") from None
        folder = built_session_folder(site, f"{source.parent.name}/{source.name}")
    result = BundleResult()
    out = Path(out) if out else Path(f"{folder.name}.zip")
    with tempfile.TemporaryDirectory(prefix="cell35-bundle-") as scratch:
        candidates: list[tuple[str, Path]] = []
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in BUNDLE_SUFFIXES:
                continue
            name = path.relative_to(folder).as_posix()
            if path.suffix.lower() in VIDEO_SUFFIXES:
                width, height = video_size(path)
                if min(width, height) > MAX_SHORT_SIDE:
                    target = Path(scratch) / f"{len(candidates)}-{path.stem}.mp4"
                    to_720p(path, target)
                    name = str(Path(name).with_suffix(".mp4").as_posix())
                    path = target
                    result.downscaled.append(name)
            candidates.append((name, path))
        packed: list[list[tuple[str, Path, bool]]] = [[]]
        used = EOCD_BYTES
        for name, path in candidates:
            size = path.stat().st_size
            stored = path.suffix.lower() not in TEXT_SUFFIXES
            bound = _entry_bound(name, size, stored)
            if bound + EOCD_BYTES > limit_bytes:
                result.too_big.append((name, size))
                continue
            if used + bound > limit_bytes and packed[-1]:
                packed.append([])
                used = EOCD_BYTES
            packed[-1].append((name, path, stored))
            used += bound
        if not packed[-1]:
            packed.pop()
        if not packed:
            found = ", ".join(f"{n} ({s / 1e6:.1f} MB)" for n, s in result.too_big) or "no finished files"
            raise ExportError(f"nothing to bundle from {folder}: {found}")
        names = [out] if len(packed) == 1 else [out.with_name(f"{out.stem}-part{i}{out.suffix}")
                                                  for i in range(1, len(packed) + 1)]
        for part_path, entries in zip(names, packed):
            fd, tmp = _atomic_zip_path(part_path)
            os.close(fd)
            try:
                with zipfile.ZipFile(tmp, "w") as archive:
                    for name, path, stored in entries:
                        archive.write(path, name, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
                        result.included.append(name)
                if Path(tmp).stat().st_size > limit_bytes:
                    raise ExportError(f"{part_path.name} came out at {Path(tmp).stat().st_size:,} bytes, over the "
                                      f"{limit_bytes:,} byte limit")
                os.replace(tmp, part_path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            result.parts.append(part_path)
    return result
