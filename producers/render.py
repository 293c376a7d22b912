"""Generated pages -> HTML with mkdocs (strict) and a chunked Pagefind search index, cached.

The rendered tree is keyed like any job: the hash of every page's text, every asset's bytes, the
mkdocs configuration and the versions of mkdocs, the theme and Pagefind. A rebuild whose pages did
not change reuses the rendered tree (hard links), so a no-op build never runs mkdocs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import yaml

from . import tools
from .errors import ConfigError
from .pages import Page
from .pipeline import Cache, FileHasher, canonical_json

RENDER_VERSION = "1"
DONE_MARKER = ".cell35-rendered.json"
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


def _theme_fingerprint(hasher: FileHasher) -> dict:
    return {str(p.relative_to(THEME_OVERRIDES)): hasher(p) for p in sorted(THEME_OVERRIDES.rglob("*")) if p.is_file()}


def render_key(pages: list[Page], assets: list[Asset], config: dict, base_config: Path, hasher: FileHasher,
               search_language: str) -> str:
    description = {
        "render": RENDER_VERSION,
        "pages": {page.path: hashlib.sha256(page.text.encode()).hexdigest() for page in pages},
        "assets": {a.name: hasher(a.source) if a.source else hashlib.sha256(a.text.encode()).hexdigest()
                   for a in assets},
        "config": config,
        "base_config": hasher(base_config),
        "theme": _theme_fingerprint(hasher),
        "search_language": search_language,
        "versions": {name: package_version(name) for name in ("mkdocs", "mkdocs-material", "pagefind")},
    }
    return hashlib.sha256(canonical_json(description).encode()).hexdigest()


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


def _run_pagefind(folder: Path, language: str) -> None:
    """A chunked index: a query downloads a few small fragments, not an index the size of the site."""
    tools.run([sys.executable, "-m", "pagefind", "--site", str(folder), "--force-language", language, "--quiet"],
              timeout=1800, what="pagefind")


def render(pages: list[Page], assets: list[Asset], config: dict, base_config: Path, cache: Cache,
           hasher: FileHasher, search_language: str) -> Rendered:
    key = render_key(pages, assets, config, base_config, hasher, search_language)
    final = cache.root / "rendered" / key
    marker = final / DONE_MARKER
    if marker.is_file():
        os.utime(marker)   # most recently used: kept by pruning
        return Rendered(final, tuple(json.loads(marker.read_text())["warnings"]), cached=True)
    work = cache.scratch("render")
    try:
        out = work / "site"
        config_path = write_docs(work, pages, assets, config, base_config, site_dir=out)
        warnings = _run_mkdocs(config_path)
        _run_pagefind(out, search_language)
        (out / DONE_MARKER).write_text(json.dumps({"key": key, "warnings": warnings}))
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(out, final)
        except OSError:
            if not marker.is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _prune(cache.root / "rendered", keep=final)
    return Rendered(final, tuple(warnings), cached=False)


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


def _prune(folder: Path, keep: Path) -> None:
    entries = [p for p in folder.iterdir() if (p / DONE_MARKER).is_file()]
    entries.sort(key=lambda p: (p / DONE_MARKER).stat().st_mtime, reverse=True)
    for old in entries[KEEP_RENDERED:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of ``source`` into ``target`` (copy across devices)."""
    for dirpath, _dirs, files in os.walk(source):
        relative = os.path.relpath(dirpath, source)
        destination = target / relative
        destination.mkdir(parents=True, exist_ok=True)
        for name in files:
            if name == DONE_MARKER:
                continue
            try:
                os.link(os.path.join(dirpath, name), destination / name)
            except OSError:
                shutil.copyfile(os.path.join(dirpath, name), destination / name)
