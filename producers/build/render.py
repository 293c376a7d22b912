"""Generated pages -> HTML with mkdocs (strict), cached. (The search index is search.py's.)

The rendered tree is keyed like any job: the hash of every page's text, every asset's bytes, the
mkdocs configuration and the versions of mkdocs and the theme. A rebuild whose pages did
not change reuses the rendered tree (hard links), so a no-op build never runs mkdocs.

When only some pages changed, only those are rendered. That is sound because of how the site is
made: the navigation holds the same few top-level pages whatever the content, and every other link
is relative, so a page's HTML depends on its own Markdown and the site-wide settings (the "frame"
key) and on nothing else. The nav pages are re-rendered every time; links are checked against the
full page set; the sitemap is written here for the whole site.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import yaml

from producers.errors import ConfigError
from producers.jobs.pipeline import (Cache, FileHasher, cached_trees, canonical_json, discard, install, stale_trees)
from producers.jobs.trees import RENDERED_MARKER, TreeLinker
from producers.web.templates import render as render_template


@dataclass
class Page:
    """One generated Markdown page of the docs tree mkdocs renders."""

    path: str          # docs-relative, e.g. 'cells/ha-long/index.md'
    text: str


RENDER_VERSION = "3"    # 3: robots.txt
PARTIAL_LIMIT = 0.5        # above this share of changed pages a full render is as cheap
KEEP_RENDERED = 3
THEME_OVERRIDES = Path(__file__).parent / "theme"


@dataclass(frozen=True)
class Asset:
    """A file placed in the docs tree: copied from ``source`` or written from ``text``."""

    name: str
    source: Path | None = None
    text: str | None = None


@dataclass(frozen=True)
class Rendered:
    folder: Path
    warnings: tuple[str, ...]
    cached: bool
    pages_rendered: int


def _theme_fingerprint(hasher: FileHasher) -> dict:
    return {str(p.relative_to(THEME_OVERRIDES)): hasher(p) for p in sorted(THEME_OVERRIDES.rglob("*")) if p.is_file()}


def page_hashes(pages: list[Page]) -> dict[str, str]:
    return {page.path: hashlib.sha256(page.text.encode()).hexdigest() for page in pages}


def frame_key(assets: list[Asset], config: dict, base_config: Path, hasher: FileHasher) -> str:
    """Everything every page's HTML depends on besides its own Markdown."""
    description = {
        "render": RENDER_VERSION,
        "assets": {a.name: hasher(a.source) if a.source else hashlib.sha256(a.text.encode()).hexdigest()
                   for a in assets},
        "config": config,
        "base_config": hasher(base_config),
        "theme": _theme_fingerprint(hasher),
        "versions": {name: package_version(name) for name in ("mkdocs", "mkdocs-material")},
    }
    return hashlib.sha256(canonical_json(description).encode()).hexdigest()


def render_key(frame: str, hashes: dict[str, str]) -> str:
    return hashlib.sha256(canonical_json({"frame": frame, "pages": hashes}).encode()).hexdigest()


def _run_mkdocs(config_path: Path) -> list[str]:
    """mkdocs in-process, strict: any warning (a broken link, say) fails the build."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                records.append(record.getMessage())

    handler = Collect()
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.addHandler(handler)
    previous_level = mkdocs_log.level
    mkdocs_log.setLevel(logging.WARNING)
    try:
        build(load_config(str(config_path), strict=True))
    except (Abort, MkDocsException) as exc:
        raise ConfigError(f"mkdocs build failed: {exc}\n" + "\n".join(records[-20:])) from None
    finally:
        mkdocs_log.removeHandler(handler)
        mkdocs_log.setLevel(previous_level)
    return records


def _html_path(page_path: str) -> str:
    """'sessions/x/index.md' -> 'sessions/x/index.html' (every generated page is an index.md)."""
    return page_path[: -len(".md")] + ".html"


_MD_LINK = re.compile(r"\]\(((?:\.\.?/)[^)\s]*|[a-z0-9][a-z0-9./-]*/)\)")


def check_links(pages: list[Page], paths: set[str]) -> None:
    """Every internal Markdown link must reach a page of the site. mkdocs cannot tell: links are
    directory URLs, and a partial render does not see every page."""
    broken = []
    for page in pages:
        for target in _MD_LINK.findall(page.text):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page.path), target, "index.md"))
            if resolved not in paths:
                broken.append(f"{page.path}: {target}")
    if broken:
        raise ConfigError("generated pages link to pages that do not exist: " + "; ".join(broken[:10]))


def _write_sitemap(out: Path, pages: list[Page], base_url: str) -> None:
    urls = sorted(page.path[: -len("index.md")] for page in pages)
    text = render_template("sitemap.xml", urls=[base_url + url for url in urls]) + "\n"
    (out / "sitemap.xml").unlink(missing_ok=True)
    (out / "sitemap.xml").write_text(text, encoding="utf-8")
    (out / "sitemap.xml.gz").unlink(missing_ok=True)
    (out / "sitemap.xml.gz").write_bytes(gzip.compress(text.encode(), mtime=0))


def _write_robots(out: Path, config: dict) -> None:
    """robots.txt: the sitemap for crawlers; a preview (drafts, the evaluation report) is not for them."""
    if config.get("extra", {}).get("cell35", {}).get("preview"):
        text = "User-agent: *\nDisallow: /\n"
    else:
        text = "User-agent: *\nDisallow:\n"
        if config.get("site_url"):
            text += f"\nSitemap: {config['site_url']}sitemap.xml\n"
    (out / "robots.txt").unlink(missing_ok=True)
    (out / "robots.txt").write_text(text, encoding="utf-8")


def _previous(folder: Path, frame: str) -> tuple[Path, dict] | None:
    """The most recently used rendered tree with the same frame, to render only what changed."""
    for entry in cached_trees(folder, RENDERED_MARKER):
        try:
            meta = json.loads((entry / RENDERED_MARKER).read_text())
        except (OSError, ValueError):
            continue
        if meta.get("frame") == frame:
            return entry, meta
    return None


def render(pages: list[Page], hashes: dict[str, str], assets: list[Asset], config: dict, base_config: Path,
           cache: Cache, hasher: FileHasher) -> Rendered:
    """``hashes`` are ``page_hashes(pages)``."""
    frame = frame_key(assets, config, base_config, hasher)
    key = render_key(frame, hashes)
    rendered_root = cache.root / "rendered"
    final = rendered_root / key
    marker = final / RENDERED_MARKER
    if marker.is_file():
        os.utime(marker)   # most recently used: kept by pruning
        meta = json.loads(marker.read_text())
        return Rendered(final, tuple(meta["warnings"]), cached=True, pages_rendered=0)
    nav_pages = {path for item in config.get("nav", []) for path in item.values()}
    previous = _previous(rendered_root, frame)
    changed = [p for p in pages if previous is None or previous[1]["pages"].get(p.path) != hashes[p.path]
               or p.path in nav_pages]
    # Unchanged pages' links reached pages that existed; unless one went, only changed pages need a look.
    removed_any = previous is None or any(path not in hashes for path in previous[1]["pages"])
    check_links(pages if removed_any else changed, set(hashes))
    partial = previous is not None and len(changed) <= PARTIAL_LIMIT * len(pages)
    work = cache.scratch("render")
    try:
        out = work / "site"
        if partial:
            built = work / "partial"
            partial_config = {**config, "validation": {"links": {"not_found": "info"}}}
            config_path = write_docs(work, changed, assets, partial_config, base_config, site_dir=built)
            warnings = _run_mkdocs(config_path)
            keep = {_html_path(p.path) for p in pages}
            gone = {_html_path(path) for path in previous[1]["pages"]} - keep
            TreeLinker(out).tree(previous[0], include=lambda rel: rel not in gone)
            for page in changed:
                target = out / _html_path(page.path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)        # a hard link into the previous tree: never write through
                os.replace(built / _html_path(page.path), target)
        else:
            config_path = write_docs(work, pages, assets, config, base_config, site_dir=out)
            warnings = _run_mkdocs(config_path)
        _write_sitemap(out, pages, config.get("site_url", ""))
        _write_robots(out, config)
        (out / RENDERED_MARKER).write_text(json.dumps({"key": key, "frame": frame, "pages": hashes,
                                                   "warnings": warnings}))
        install(out, final, RENDERED_MARKER)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for stale in stale_trees(rendered_root, RENDERED_MARKER, keep=final, count=KEEP_RENDERED)[1]:
        discard(stale)
    return Rendered(final, tuple(warnings), cached=False, pages_rendered=len(changed) if partial else len(pages))


def write_docs(folder: Path, pages: list[Page], assets: list[Asset], config: dict, base_config: Path,
               site_dir: Path | None = None) -> Path:
    """The mkdocs project: ``folder/docs`` and ``folder/mkdocs.yml``. Returns the config path."""
    docs = folder / "docs"
    for page in pages:
        target = docs / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.text, encoding="utf-8")
    for asset in assets:
        target = docs / asset.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if asset.source:
            shutil.copyfile(asset.source, target)
        else:
            target.write_text(asset.text, encoding="utf-8")
    full = {"INHERIT": str(base_config.resolve()), **config, "docs_dir": str(docs),
            "site_dir": str(site_dir or folder / "site")}
    config_path = folder / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(full, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config_path
