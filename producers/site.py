"""Site assembly: load -> plan -> execute -> pages -> mkdocs build (staging) -> link media -> swap.

The published folder is a symbolic link to a complete build; it is switched atomically
(``os.replace`` of a link), so a build killed at any moment leaves the previous site whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path


from . import __version__
from .errors import ConfigError, ProducerError, Problem
from .html import MARKDOWN, escape
from .i18n import Labels
from .loader import ContentTree, SessionRecord, load_content
from .pages import Page, SiteView, all_pages, nav, product_page, section_page
from .pipeline import (JOB_MEMORY_LIMIT, TRASH, Cache, FileHasher, Job, JobResult, Progress, atomic_write_text,
                       discard, run_jobs)
from .render import THEME_OVERRIDES, Asset, page_hashes, render, write_docs
from .search import INDEX_DIR, build_index
from .trees import TreeLinker
from .producer import ProductContext, ProductPage, product_contexts
from .registry import PRODUCERS
from .webfonts import font_faces, font_jobs

PUBLIC_STATUSES = frozenset({"published"})
PACKAGE_ASSETS = Path(__file__).parent / "assets"


@dataclass
class BuildOptions:
    content: Path
    out: Path
    preview: bool = False
    jobs: int | None = None
    executor: Executor | None = None
    job_memory: int | None = JOB_MEMORY_LIMIT      # bytes of address space per process of a render job
    cache_dir: Path | None = None
    mkdocs_config: Path | None = None
    progress: Progress | None = None
    keep_docs: Path | None = None        # also write the generated docs + mkdocs.yml here (debugging, bench)


@dataclass
class ProductOutcome:
    status: str                      # "published" | "left out" | "invalid"
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    out: Path
    report: dict
    problems: list[Problem]
    failed_products: int

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems) and self.failed_products == 0


def default_mkdocs_config() -> Path:
    for candidate in (Path.cwd() / "mkdocs.yml", Path(__file__).resolve().parent.parent / "mkdocs.yml"):
        if candidate.is_file():
            return candidate
    raise ConfigError("mkdocs.yml not found (looked in the current folder and beside the producers package)")


def _assets(tree: ContentTree, fonts: list[tuple[str, Path]], faces: str) -> tuple[list[Asset], dict]:
    """Self-hosted fonts (no Google Fonts), theme colours, package CSS/JS, logo; and config extras."""
    assets = [Asset(name, source=path) for name, path in fonts]
    theme = tree.site.theme
    assets.append(Asset("assets/site-theme.css", text=(
        faces + "\n:root, [data-md-color-scheme] {\n"
        f"  --md-primary-fg-color: {theme.primary};\n  --md-primary-fg-color--light: {theme.primary};\n"
        f"  --md-primary-fg-color--dark: {theme.primary};\n  --md-accent-fg-color: {theme.accent};\n"
        "  --md-text-font: 'Noto Sans', 'Noto Sans Devanagari', sans-serif;\n}\n")))
    css, js = ["assets/site-theme.css"], []
    for asset in sorted(PACKAGE_ASSETS.iterdir()) if PACKAGE_ASSETS.is_dir() else []:
        if asset.suffix in (".css", ".js"):
            assets.append(Asset(f"assets/{asset.name}", source=asset))
            (css if asset.suffix == ".css" else js).append(f"assets/{asset.name}")
    extras: dict = {"extra_css": css, "extra_javascript": js}
    if tree.site.logo:
        logo = tree.root / tree.site.logo
        name = "assets/logo" + logo.suffix.lower()
        assets.append(Asset(name, source=logo))
        extras["logo"] = name
    return assets, extras


def _mkdocs_config(tree: ContentTree, view: SiteView, extras: dict) -> dict:
    """The per-site part of the mkdocs configuration (it INHERITs the repository's mkdocs.yml)."""
    site = tree.site
    theme = {"language": site.language, "custom_dir": str(THEME_OVERRIDES)}
    if "logo" in extras:
        theme["logo"] = extras["logo"]
        theme["favicon"] = extras["logo"]
    return {
        "site_name": escape(site.title),          # the theme prints it unescaped
        "site_description": escape(site.description),
        "site_url": site.base_url,
        "theme": theme,
        # Search is cell35's own sharded index (search.py), not the theme's whole-site lunr index.
        "plugins": [],
        "nav": nav(view),
        "extra_css": extras["extra_css"],
        "extra_javascript": extras["extra_javascript"],
        "extra": {"cell35": {"version": __version__, "preview": view.preview, "feed": site.podcast is not None}},
    }


def _swap(out: Path, staging: Path) -> None:
    """Point ``out`` at ``staging`` atomically; keep one previous build, remove older ones."""
    if out.exists() and not out.is_symlink():
        # a folder left by something else: move it aside once, never delete what we did not build
        legacy = staging.parent / f"legacy-{time.strftime('%Y%m%d-%H%M%S')}"
        os.rename(out, legacy)
    previous = out.resolve() if out.is_symlink() else None
    link = out.parent / f".{out.name}.link-{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(staging, out.parent), link)
    os.replace(link, out)
    for old in staging.parent.iterdir():
        if old not in (staging, previous) and not old.name.startswith(("legacy-", TRASH)):
            discard(old)


def build_site(options: BuildOptions) -> BuildResult:
    started = time.perf_counter()
    content = Path(options.content)
    out = Path(options.out).absolute()
    phases: dict[str, float] = {}
    tree = load_content(content)
    phases["load"] = time.perf_counter() - started
    if tree.site is None or not tree.cells:
        raise ConfigError("cannot build: " + "; ".join(str(p) for p in tree.errors[:5]))
    labels = Labels(tree.site.language)
    selected = [r for r in tree.sessions if options.preview or r.session.status in PUBLIC_STATUSES]
    contexts = product_contexts(tree, selected)

    outcomes: dict[str, ProductOutcome] = {}
    jobs_by_product: dict[str, list[Job]] = {}
    all_jobs: list[Job] = []
    for ctx in contexts:
        try:
            planned = PRODUCERS[ctx.record.kind].plan(ctx)
        except (ProducerError, ValueError) as exc:
            outcomes[ctx.url] = ProductOutcome("left out", errors=[f"{ctx.record.display}: {exc}"])
            continue
        jobs_by_product[ctx.url] = planned
        all_jobs += planned

    site_jobs = _site_jobs(tree, selected)
    # site jobs first: the fonts take seconds each, and started last they would trail the pool
    all_jobs = [job for jobs in site_jobs.values() for job in jobs] + all_jobs

    cache = Cache(Path(options.cache_dir).absolute() if options.cache_dir else content.resolve().parent / ".cache")
    cache.sweep()
    MARKDOWN.load(cache.root / "markdown.json")
    hasher = FileHasher(cache.root / "filehash.json")
    jobs_started = time.perf_counter()
    results = run_jobs(all_jobs, cache, executor=options.executor, hasher=hasher, progress=options.progress,
                       workers=options.jobs, memory=options.job_memory)
    phases["jobs"] = time.perf_counter() - jobs_started

    pages_done: dict[str, ProductPage] = {}
    for ctx in contexts:
        if ctx.url in outcomes:
            continue
        product_results = {job.name: results[job.name] for job in jobs_by_product[ctx.url]}
        failed = [r for r in product_results.values() if r.status == "failed"]
        warnings = [f"{ctx.record.display}: {w}" for r in product_results.values() for w in r.warnings]
        if failed:
            outcomes[ctx.url] = ProductOutcome(
                "left out", warnings=warnings,
                errors=[f"{ctx.record.display}: {r.error}" + (f"\n{r.detail}" if r.detail else "") for r in failed])
            continue
        try:
            page = PRODUCERS[ctx.record.kind].page(ctx, product_results, labels)
        except (ProducerError, ValueError, OSError) as exc:
            outcomes[ctx.url] = ProductOutcome("left out", warnings=warnings,
                                               errors=[f"{ctx.record.display}: {exc}"])
            continue
        warnings += [f"{ctx.record.display}: {w}" for w in page.warnings]
        pages_done[ctx.url] = page
        outcomes[ctx.url] = ProductOutcome("published", warnings=warnings, outputs=sorted(page.media))

    session_cards = {}
    for record in selected:
        card = results.get(f"{record.id}:card")
        if card is not None and card.status != "failed":
            session_cards[record.url] = card.outputs["card.png"]
    view = SiteView(site=tree.site, cells=tree.cells, sessions=selected, labels=labels, preview=options.preview,
                    product_pages={ctx.url: ctx.record.product.title for ctx in contexts if ctx.url in pages_done},
                    session_cards=frozenset(session_cards))
    product_docs = [product_page(view, ctx.session, ctx.record, pages_done[ctx.url].html, pages_done[ctx.url].card)
                    for ctx in contexts if ctx.url in pages_done]
    published_media: dict[str, dict[str, Path]] = {ctx.url: dict(pages_done[ctx.url].media)
                                                   for ctx in contexts if ctx.url in pages_done}
    for url, card_file in session_cards.items():
        published_media.setdefault(url, {})["card.png"] = card_file
    section_pages, section_media = _site_sections(site_jobs, results, tree, view)
    product_docs += section_pages
    feed_files, podcast_page = _podcast(tree, contexts, pages_done, results, jobs_by_product, labels)
    if podcast_page is not None:
        product_docs.append(podcast_page)
    for url, media in section_media.items():
        published_media.setdefault(url, {}).update(media)

    pages = all_pages(view, product_docs)
    render_started = time.perf_counter()
    assets, extras = _assets(tree, *font_faces(site_jobs["fonts"], results))
    config = _mkdocs_config(tree, view, extras)
    base_config = options.mkdocs_config or default_mkdocs_config()
    if options.keep_docs:
        write_docs(options.keep_docs, pages, assets, config, base_config)
    MARKDOWN.save(cache.root / "markdown.json")
    hashes = page_hashes(pages)
    rendered = render(pages, hashes, assets, config, base_config, cache, hasher)
    phases["render"] = time.perf_counter() - render_started
    search_started = time.perf_counter()
    search = build_index(pages, hashes, cache)
    phases["search"] = time.perf_counter() - search_started
    hasher.save()
    builds_root = out.parent / f".{out.name}.d"
    builds_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=builds_root, prefix=time.strftime("%Y%m%d-%H%M%S-")))
    os.chmod(staging, 0o755)
    try:
        linker = TreeLinker(staging)
        linker.tree(rendered.folder)
        linker.tree(search.folder, prefix=INDEX_DIR)
        for url, media in published_media.items():
            for name, source in media.items():
                linker.link(source, url + name)
        for relative, data in feed_files.items():
            linker.write(relative, data)
        report = _report(tree, selected, contexts, outcomes, results, options, list(rendered.warnings),
                         time.perf_counter() - started)
        report["phases"] = {name: round(seconds, 3) for name, seconds in phases.items()}
        report["rendered"] = {"status": "cached" if rendered.cached else "rendered",
                              "pages": len(pages), "pages_rendered": rendered.pages_rendered}
        report["search"] = {"status": "cached" if search.cached else "updated" if search.incremental else "indexed",
                            "files": search.files_total, "files_written": search.files_written}
        atomic_write_text(staging / "build-report.json", json.dumps(report, ensure_ascii=False, indent=2))
        _swap(out, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    failed = sum(1 for o in outcomes.values() if o.status != "published")
    return BuildResult(out=out, report=report, problems=tree.problems, failed_products=failed)


def _site_jobs(tree: ContentTree, selected: list[SessionRecord]) -> dict[str, list[Job]]:
    """Jobs that belong to the site rather than to one product: web fonts, session share cards, the report."""
    from .cards import session_card_job
    from .report import report_job

    return {
        "fonts": font_jobs(),
        "cards": [session_card_job(r, tree.cells[r.session.cell].name, tree.site, tree.root) for r in selected],
        "report": [report_job(tree, tree.site.language)],
    }


def _site_sections(site_jobs: dict[str, list[Job]], results: dict[str, JobResult], tree: ContentTree,
                   view: SiteView) -> tuple[list[Page], dict[str, dict[str, Path]]]:
    """Pages made from site-level jobs, and the media published beside them."""
    from .report import page_title

    pages: list[Page] = []
    media: dict[str, dict[str, Path]] = {}
    [report] = site_jobs["report"]
    outcome = results[report.name]
    if outcome.status != "failed":
        fragment = outcome.outputs["fragment.html"].read_text(encoding="utf-8")
        pages.append(section_page("report/", page_title(tree.site.language), fragment))
        media["report/"] = {name: path for name, path in outcome.outputs.items() if name != "fragment.html"}
    return pages, media


def _podcast(tree: ContentTree, contexts: list[ProductContext], pages_done: dict[str, ProductPage],
             results: dict[str, JobResult], jobs_by_product: dict[str, list[Job]],
             labels: Labels) -> tuple[dict[str, bytes], Page | None]:
    """Feeds (site-wide, per cell, per language) and the subscribe page. Only public sessions'
    episodes reach a feed, even in a preview build: a feed, once read by an app, is forever."""
    from .feeds import site_podcast

    if tree.site.podcast is None:
        return {}, None
    producer = PRODUCERS["podcast"]
    episodes = []
    for ctx in contexts:
        if ctx.record.kind == "podcast" and ctx.url in pages_done and ctx.session.session.status in PUBLIC_STATUSES:
            episodes.append(producer.episode(ctx, {job.name: results[job.name] for job in jobs_by_product[ctx.url]}))
    files, subscribe_html = site_podcast(episodes, tree.site, tree.cells, tree.root, labels)
    return files, section_page("podcast/", labels("kind.podcast"), subscribe_html)


def _report(tree: ContentTree, selected: list[SessionRecord], contexts: list[ProductContext],
            outcomes: dict[str, ProductOutcome], results: dict[str, JobResult], options: BuildOptions,
            mkdocs_warnings: list[str], seconds: float) -> dict:
    chosen = {r.id for r in selected}
    sessions = []
    for record in sorted(tree.sessions, key=lambda r: r.id):
        products = []
        for product in record.products:
            url = f"{record.url}{product.stem}/"
            outcome = outcomes.get(url, ProductOutcome("left out", errors=[]))
            products.append({"file": product.display, "kind": product.kind, "url": url,
                             "status": outcome.status if record.id in chosen else "left out",
                             "errors": outcome.errors, "warnings": outcome.warnings, "outputs": outcome.outputs})
        sessions.append({"id": record.id, "path": record.display, "cell": record.session.cell,
                         "session_status": record.session.status,
                         "status": "published" if record.id in chosen else "left out",
                         "url": record.url if record.id in chosen else None,
                         "errors": [], "products": products})
    for path, problems in sorted(tree.invalid.items()):
        sessions.append({"id": path, "path": path, "status": "invalid", "errors": [str(p) for p in problems],
                         "products": []})
    return {
        "generator": f"cell35 {__version__}",
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "preview": options.preview,
        "seconds": round(seconds, 3),
        "summary": {
            "sessions_published": len(selected),
            "sessions_invalid": len(tree.invalid),
            "products_published": sum(1 for o in outcomes.values() if o.status == "published"),
            "products_left_out": sum(1 for o in outcomes.values() if o.status != "published"),
            "jobs": {status: sum(1 for r in results.values() if r.status == status)
                     for status in ("rendered", "cached", "failed")},
        },
        "problems": [p.as_dict() for p in tree.problems],
        "sessions": sessions,
        "jobs": [r.as_dict() for r in results.values()],
        "mkdocs_warnings": mkdocs_warnings,
    }
