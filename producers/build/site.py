"""Site assembly: load -> plan -> execute -> pages -> mkdocs build (staging) -> link media -> swap.

Layout beside the output ``site`` (any name):

    .site.d/<build>/site/               the published tree of one build
    .site.d/<build>/build-report.json   its build report (for editors: drafts, errors, local paths)
    .site.d/.current -> <build>         switched atomically (``os.replace`` of a link)
    site -> .site.d/.current/site
    site.build-report.json -> .site.d/.current/build-report.json

One rename publishes a site and its report together, so a build killed at any moment leaves the
previous site (and the report that describes it) whole, and the report is never inside the public
tree. A preview build, which editors read, also carries the report at ``/build-report.json``.

Site-level sections (web fonts, the logo, the evaluation report, the podcast feeds) are isolated
like products: one that fails is left out, named in the build report, and the rest publishes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import time
import traceback
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from producers import __version__
from producers.jobs.buildlock import build_lock
from producers.kinds.cards import CARD_NAME, open_logo, session_card_job
from producers.errors import ConfigError, ProducerError, Problem
from producers.web.html import MARKDOWN, escape
from producers.web.i18n import LANGUAGE_NAMES, Labels, long_date
from producers.media.images import fit_within
from producers.content.loader import ContentTree, SessionRecord, check_media_path
from producers.content.model import SiteConfig
from producers.build.render import Page
from producers.build.pages import (SiteView, all_pages, content_languages, nav, nav_in_languages, product_page,
                                   section_page)
from producers.files import atomic_write_text
from producers.jobs.pipeline import (JOB_MEMORY_LIMIT, KEEP_BUILDS, Cache, FileHasher, Job, JobResult, Progress, discard, run_jobs)
from producers.build.render import THEME_OVERRIDES, Asset, page_hashes, render, write_docs
from producers.build.compress import precompress
from producers.build.search import INDEX_DIR, build_index
from producers.build.thumbs import default_source, thumb_job
from producers.jobs.trees import TreeLinker
from producers.kinds.base import Kind, ProductContext, ProductPage, labels_for, product_contexts
from producers.kinds.registry import REGISTRY, load_content
from producers.build.webfonts import font_faces, font_jobs

PUBLIC_STATUSES = frozenset({"published"})
PACKAGE_DIR = Path(__file__).parent
PACKAGE_ASSETS = PACKAGE_DIR / "assets"
# The theme and plugin settings every site shares; inside the package so that an installed wheel
# builds without a checkout. Each build writes a small config that INHERITs it (render.write_docs).
DEFAULT_MKDOCS_CONFIG = PACKAGE_DIR / "mkdocs.yml"
REPORT_NAME = "build-report.json"
CURRENT = ".current"
LOGO_EDGE = 512                    # px on the long edge: the header shows it at 24-48 px, favicons at 16-64
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# What a URL keeps as it is; everything else is percent-encoded, so a URL printed raw in an HTML
# attribute (the theme prints site_url-derived URLs unescaped), XML or CSS cannot leave its quotes.
URL_SAFE = "/:?#[]@!$()*+,;=%-._~"
# The site-level sections; each one that fails is left out alone (Sections).
SECTIONS = ("fonts", "logo", "report", "podcast")


@dataclass
class BuildOptions:
    content: Path
    out: Path
    preview: bool = False
    jobs: int | None = None
    executor: Executor | None = None
    job_memory: int | None = JOB_MEMORY_LIMIT      # bytes of address space per process of a render job
    keep_builds: int = KEEP_BUILDS       # job outputs none of the last N builds used are pruned
    cache_dir: Path | None = None
    mkdocs_config: Path | None = None
    progress: Progress | None = None
    keep_docs: Path | None = None        # also write the generated docs + mkdocs.yml here (debugging, bench)
    wait: bool = True                    # wait for another build of the same output or cache, or refuse
    notify: Callable[[str], None] | None = None   # hears "waiting for another build" and similar
    kinds: Mapping[str, Kind] = field(default_factory=lambda: REGISTRY)   # the product kinds this site knows


@dataclass
class ProductOutcome:
    status: str                      # "published" | "left out" | "invalid"
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass
class SectionOutcome:
    status: str                      # "published" | "left out" | "off" (not configured, or a public build)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"status": self.status, "errors": self.errors}


@dataclass
class BuildResult:
    out: Path
    report: dict
    problems: list[Problem]
    failed_products: int
    report_path: Path | None = None
    failed_sections: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (not any(p.severity == "error" for p in self.problems) and self.failed_products == 0
                and not self.failed_sections)


def report_path(out: Path) -> Path:
    """Where the build report of the site at ``out`` is: beside it, never in it."""
    out = Path(out)
    return out.parent / f"{out.name}.{REPORT_NAME}"


def default_mkdocs_config() -> Path:
    if not DEFAULT_MKDOCS_CONFIG.is_file():
        raise ConfigError(f"{DEFAULT_MKDOCS_CONFIG} is missing: the cell35 package is incomplete; reinstall it")
    return DEFAULT_MKDOCS_CONFIG


def safe_url(url: str, field_name: str) -> str:
    """An http(s) URL from config, percent-encoded so that it is inert in every place it is printed.

    The model validates URLs; this is the escaping where they land, and it refuses what escaping
    cannot make safe (another scheme, no host)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"site.yml: {field_name}: must be an http:// or https:// address with a host, "
                          f"received: {url!r}")
    try:
        host = parts.netloc.encode("idna").decode("ascii") if not parts.netloc.isascii() else parts.netloc
    except UnicodeError:
        raise ConfigError(f"site.yml: {field_name}: the host of {url!r} is not a valid domain name") from None
    return urlunsplit((parts.scheme.lower(), quote(host, safe=URL_SAFE), quote(parts.path, safe=URL_SAFE),
                       quote(parts.query, safe=URL_SAFE), quote(parts.fragment, safe=URL_SAFE)))


def _checked_site(site: SiteConfig) -> SiteConfig:
    """site.yml's values as they may reach pages, CSS and feeds: every value that is printed without
    context-aware escaping downstream is checked or escaped here (the model is the first line, not
    the only one: editors are trusted to decide, not to type safe markup)."""
    if site.language not in LANGUAGE_NAMES:
        raise ConfigError(f"site.yml: language: expected one of ({', '.join(LANGUAGE_NAMES)}), "
                          f"received: {site.language!r}")
    for name in ("primary", "accent"):
        value = getattr(site.theme, name)
        if not isinstance(value, str) or not HEX_COLOUR.fullmatch(value):
            raise ConfigError(f"site.yml: theme.{name}: expected a colour written #rrggbb, received: {value!r}")
    base_url = safe_url(site.base_url, "base_url")
    if not base_url.endswith("/"):
        base_url += "/"
    return site.model_copy(update={"base_url": base_url})


def _assets(tree: ContentTree, site: SiteConfig, fonts: list[tuple[str, Path]], faces: str,
            logo: Path | None) -> tuple[list[Asset], dict]:
    """Self-hosted fonts (no Google Fonts), theme colours, package CSS/JS, logo; and config extras."""
    assets = [Asset(name, source=path) for name, path in fonts]
    theme = site.theme
    # The site's faces and colours and the package's stylesheets in one file: each stylesheet blocks
    # the first paint, and on a slow phone link each is a round trip (Lighthouse counted five).
    style = [faces + "\n:root, [data-md-color-scheme] {\n"
             f"  --md-primary-fg-color: {theme.primary};\n  --md-primary-fg-color--light: {theme.primary};\n"
             f"  --md-primary-fg-color--dark: {theme.primary};\n  --md-accent-fg-color: {theme.accent};\n"
             "  --md-text-font: 'Noto Sans', 'Noto Sans Devanagari', sans-serif;\n}\n"]
    js = []
    for asset in sorted(PACKAGE_ASSETS.iterdir()) if PACKAGE_ASSETS.is_dir() else []:
        if asset.suffix == ".css":
            style.append(f"/* {asset.name} */\n" + asset.read_text(encoding="utf-8"))
        elif asset.suffix == ".js":
            assets.append(Asset(f"assets/{asset.name}", source=asset))
            js.append(f"assets/{asset.name}")
    assets.append(Asset("assets/cell35.css", text="\n".join(style)))
    css = ["assets/cell35.css"]
    extras: dict = {"extra_css": css, "extra_javascript": js}
    if logo is not None:
        # a fixed name: nothing of the editor's file name reaches the theme's <img src>
        assets.append(Asset("assets/logo.png", source=logo))
        extras["logo"] = "assets/logo.png"
    return assets, extras


def _mkdocs_config(site: SiteConfig, view: SiteView, extras: dict, page_paths: set[str], feed: bool) -> dict:
    """The per-site part of the mkdocs configuration (it INHERITs the package's mkdocs.yml).

    mkdocs templates do not autoescape, so every value here is already safe where the theme prints
    it: text HTML-escaped once, the URL percent-encoded (``_checked_site``), the rest ours."""
    theme = {"language": site.language, "custom_dir": str(THEME_OVERRIDES)}
    if "logo" in extras:
        theme["logo"] = extras["logo"]
        theme["favicon"] = extras["logo"]
    return {
        "site_name": escape(site.title),
        "site_description": escape(site.description),
        "site_url": site.base_url,
        "theme": theme,
        # Search is cell35's own sharded index (search.py), not the theme's whole-site lunr index.
        "plugins": [],
        # a section left out (failed, or not in this build) is not in the navigation either
        "nav": [item for item in nav(view) if next(iter(item.values())) in page_paths],
        "extra_css": extras["extra_css"],
        "extra_javascript": extras["extra_javascript"],
        "extra": {"cell35": {"version": __version__, "preview": view.preview, "feed": feed,
                             **_language_extras(view, page_paths)},
                  # true, not a list: the theme then shows its language selector in the header
                  # (partials/alternate.html, overridden to read each page's versions) without
                  # writing the list's <link rel=alternate> tags, whose sitemaps its script fetches
                  "alternate": True},
    }


def _language_extras(view: SiteView, page_paths: set[str]) -> dict:
    """What the theme's templates say in each language: the language homes (the switcher of pages
    that are no listing, the 404 page) and the footer's and 404 page's words. Escaped here, once:
    mkdocs templates print them as they are."""
    languages = content_languages(view)
    words = {}
    for language in dict.fromkeys([view.site.language, *languages]):
        labels = view.labels_for(language)
        before, _, after = labels("made_with").partition("{tool}")
        words[language] = {"made_with": [escape(before), escape(after)], "name": escape(LANGUAGE_NAMES[language]),
                           **{key: escape(labels(key)) for key in ("home", "all_languages", "not_found",
                                                                    "not_found_hint")}}
    navigation = {language: {url: {"title": escape(item["title"]), "url": item["url"]} for url, item in items.items()}
                  for language, items in nav_in_languages(view, page_paths).items()}
    return {"languages": languages, "homes": {"": "", **{language: f"{language}/" for language in languages}},
            "words": words, "nav": navigation}


def _relink(link: Path, target: str) -> None:
    """Make ``link`` a symbolic link to ``target`` atomically (a no-op when it already is one)."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    temporary = link.parent / f".{link.name}.link-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _swap(out: Path, build: Path) -> None:
    """Publish ``build`` (its ``site/`` and its report) with one atomic rename; keep the previous
    build for readers still downloading from it, remove older ones."""
    builds_root = build.parent
    current = builds_root / CURRENT
    if current.is_symlink():
        previous = current.resolve()
    elif out.is_symlink():                     # a site published before the report moved out of it
        previous = out.resolve()
    else:
        previous = None
    if out.exists() and not out.is_symlink():
        # a folder left by something else: move it aside once, never delete what we did not build
        legacy = builds_root / f"legacy-{time.strftime('%Y%m%d-%H%M%S')}"
        os.rename(out, legacy)
    _relink(current, build.name)
    relative_root = os.path.relpath(builds_root, out.parent)
    _relink(out, os.path.join(relative_root, CURRENT, "site"))
    _relink(report_path(out), os.path.join(relative_root, CURRENT, REPORT_NAME))
    for old in builds_root.iterdir():
        if old not in (build, previous) and not old.name.startswith(("legacy-", ".")):
            discard(old)


def describe_failure(exc: BaseException) -> str:
    """One line for a failure nobody planned for: what it was and where it happened."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
    if isinstance(exc, ProducerError):
        return exc.message
    if isinstance(exc, (ConfigError, OSError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}{place}"


class Sections:
    """Each site section's outcome. A section's step runs through ``attempt``: a failure of any kind
    (a bug in one section included: it must not take the site down) leaves that section out and
    is reported, like a product whose render failed."""

    def __init__(self) -> None:
        self.outcomes: dict[str, SectionOutcome] = {}

    def attempt(self, name: str, step: Callable[[], Any]) -> Any:
        if self.failed(name):
            return None
        try:
            return step()
        except Exception as exc:
            self.fail(name, describe_failure(exc))
            return None

    def fail(self, name: str, error: str) -> None:
        self.outcomes.setdefault(name, SectionOutcome("left out")).errors.append(error)
        self.outcomes[name].status = "left out"

    def failed(self, name: str) -> bool:
        return name in self.outcomes and self.outcomes[name].status == "left out"

    def off(self, name: str) -> None:
        self.outcomes[name] = SectionOutcome("off")

    def settle(self) -> dict[str, SectionOutcome]:
        for name in SECTIONS:
            self.outcomes.setdefault(name, SectionOutcome("published"))
        return self.outcomes


def build_site(options: BuildOptions) -> BuildResult:
    """Build and publish the site; one build at a time per output and cache (``buildlock``)."""
    out = Path(options.out).absolute()
    content = Path(options.content)
    cache_root = Path(options.cache_dir).absolute() if options.cache_dir else content.resolve().parent / ".cache"
    with build_lock(out, cache_root, wait=options.wait, notify=options.notify or (lambda message: None)):
        return _build(options, content, out, cache_root)


def _build(options: BuildOptions, content: Path, out: Path, cache_root: Path) -> BuildResult:
    started = time.perf_counter()
    phases: dict[str, float] = {}
    kinds = options.kinds
    tree = load_content(content, kinds)
    phases["load"] = time.perf_counter() - started
    if tree.site is None or not tree.cells:
        raise ConfigError("cannot build: " + "; ".join(str(p) for p in tree.errors[:5]))
    site = tree.site = _checked_site(tree.site)      # every product sees the escaped values too
    labels = labels_for(site.language, kinds)
    selected = [r for r in tree.sessions if options.preview or r.session.status in PUBLIC_STATUSES]
    contexts = product_contexts(tree, selected)

    outcomes: dict[str, ProductOutcome] = {}
    jobs_by_product: dict[str, list[Job]] = {}
    thumb_jobs: dict[str, Job] = {}      # page url -> the job of its picture in listings
    all_jobs: list[Job] = []
    for ctx in contexts:
        try:
            planned = kinds[ctx.record.kind].producer.plan(ctx)
        except (ProducerError, ValueError) as exc:
            outcomes[ctx.url] = ProductOutcome("left out", errors=[f"{ctx.record.display}: {exc}"])
            continue
        jobs_by_product[ctx.url] = planned
        all_jobs += planned
        kind = kinds[ctx.record.kind]
        source = kind.thumbnail(ctx, planned) if kind.thumbnail is not None else default_source(planned)
        if source is not None:
            thumb_jobs[ctx.url] = thumb_job(ctx.job_name("listing"), source)
    for record in selected:
        thumb_jobs[record.url] = thumb_job(f"{record.id}:listing", (f"{record.id}:card", CARD_NAME))
    all_jobs += thumb_jobs.values()

    sections = Sections()
    site_jobs = _site_jobs(tree, site, selected, options.preview, sections, kinds)
    # site jobs first: the fonts take seconds each, and started last they would trail the pool
    all_jobs = [job for jobs in site_jobs.values() for job in jobs] + all_jobs

    cache = Cache(cache_root, keep_builds=options.keep_builds)
    cache.sweep()
    MARKDOWN.load(cache.root / "markdown.json")
    hasher = FileHasher(cache.root / "filehash.json")
    jobs_started = time.perf_counter()
    results = run_jobs(all_jobs, cache, executor=options.executor, hasher=hasher, progress=options.progress,
                       workers=options.jobs, memory=options.job_memory)
    phases["jobs"] = time.perf_counter() - jobs_started

    pages_done: dict[str, ProductPage] = {}
    durations: dict[str, float] = {}
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
            page = kinds[ctx.record.kind].producer.page(ctx, product_results, labels)
        except (ProducerError, ValueError, OSError) as exc:
            outcomes[ctx.url] = ProductOutcome("left out", warnings=warnings,
                                               errors=[f"{ctx.record.display}: {exc}"])
            continue
        warnings += [f"{ctx.record.display}: {w}" for w in page.warnings]
        pages_done[ctx.url] = page
        duration = kinds[ctx.record.kind].duration
        if duration is not None:
            try:
                durations[ctx.url] = duration(ctx, product_results)
            except (KeyError, ValueError, OSError) as exc:
                warnings.append(f"{ctx.record.display}: no playing time for listings: {exc}")
        outcomes[ctx.url] = ProductOutcome("published", warnings=warnings, outputs=sorted(page.media))

    session_cards = {}
    for record in selected:
        card = results.get(f"{record.id}:card")
        if card is not None and card.status != "failed":
            session_cards[record.url] = card.outputs["card.png"]
    # a picture that failed leaves its card without one; the product itself is published
    pictures = {url: results[job.name].outputs for url, job in thumb_jobs.items()
                if results[job.name].status != "failed" and (url in pages_done or url in session_cards)}
    view = SiteView(site=site, cells=tree.cells, sessions=selected, labels=labels, preview=options.preview,
                    pictures=frozenset(pictures), durations=durations,
                    product_pages={ctx.url: ctx.record.product.title for ctx in contexts if ctx.url in pages_done},
                    session_cards=frozenset(session_cards), kinds=tuple(kinds),
                    labels_by_language={language: labels_for(language, kinds) for language in LANGUAGE_NAMES})
    product_docs = [product_page(view, ctx.session, ctx.record, pages_done[ctx.url].html, pages_done[ctx.url].card)
                    for ctx in contexts if ctx.url in pages_done]
    published_media: dict[str, dict[str, Path]] = {ctx.url: dict(pages_done[ctx.url].media)
                                                   for ctx in contexts if ctx.url in pages_done}
    for url, card_file in session_cards.items():
        published_media.setdefault(url, {})["card.png"] = card_file
    for url, files in pictures.items():
        published_media.setdefault(url, {}).update(files)
    report_section = sections.attempt("report", lambda: _report_section(site_jobs, results, site, sections))
    if report_section is not None:
        product_docs.append(report_section[0])
        published_media.setdefault("report/", {}).update(report_section[1])
    feed_files: dict[str, bytes] = {}
    podcast = sections.attempt("podcast", lambda: _podcast(tree, site, contexts, pages_done, results,
                                                           jobs_by_product, labels, sections, kinds))
    if podcast is not None:
        feed_files, podcast_page = podcast
        product_docs.append(podcast_page)

    pages = all_pages(view, product_docs)
    render_started = time.perf_counter()
    fonts, faces = sections.attempt("fonts", lambda: font_faces(site_jobs["fonts"], results)) or ([], "")
    logo = sections.attempt("logo", lambda: _logo(site_jobs, results, sections))
    assets, extras = _assets(tree, site, fonts, faces, logo)
    config = _mkdocs_config(site, view, extras, {page.path for page in pages}, feed=podcast is not None)
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
    build = Path(tempfile.mkdtemp(dir=builds_root, prefix=time.strftime("%Y%m%d-%H%M%S-")))
    os.chmod(build, 0o755)
    staging = build / "site"
    try:
        linker = TreeLinker(staging)
        linker.tree(rendered.folder)
        linker.tree(search.folder, prefix=INDEX_DIR)
        for url, media in published_media.items():
            for name, source in media.items():
                linker.link(source, url + name)
        for relative, data in feed_files.items():
            linker.write(relative, data)
        compress_started = time.perf_counter()
        compressed = precompress(staging, cache.root / "compressed")
        phases["compress"] = time.perf_counter() - compress_started
        settled = sections.settle()
        report = _report(tree, selected, contexts, outcomes, results, options, list(rendered.warnings),
                         time.perf_counter() - started)
        report["sections"] = {name: outcome.as_dict() for name, outcome in settled.items()}
        report["compressed"] = asdict(compressed)
        report["phases"] = {name: round(seconds, 3) for name, seconds in phases.items()}
        report["rendered"] = {"status": "cached" if rendered.cached else "rendered",
                              "pages": len(pages), "pages_rendered": rendered.pages_rendered}
        report["search"] = {"status": "cached" if search.cached else "updated" if search.incremental else "indexed",
                            "files": search.files_total, "files_written": search.files_written}
        atomic_write_text(build / REPORT_NAME, json.dumps(report, ensure_ascii=False, indent=2))
        if options.preview:            # editors read the preview: the report is theirs
            linker.link(build / REPORT_NAME, REPORT_NAME)
        _swap(out, build)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    failed = sum(1 for o in outcomes.values() if o.status != "published")
    return BuildResult(out=out, report=report, problems=tree.problems, failed_products=failed,
                       report_path=report_path(out),
                       failed_sections=[name for name, o in settled.items() if o.status == "left out"])


def _site_jobs(tree: ContentTree, site: SiteConfig, selected: list[SessionRecord], preview: bool,
               sections: Sections, kinds: Mapping[str, Kind]) -> dict[str, list[Job]]:
    """Jobs that belong to the site rather than to one product: web fonts, the logo, session share
    cards and (for editors, in a preview build) the evaluation report. A section whose planning
    fails has no jobs and is left out."""
    from producers.editorial.report import report_job

    jobs: dict[str, list[Job]] = {
        "fonts": sections.attempt("fonts", font_jobs) or [],
        "logo": sections.attempt("logo", lambda: _logo_jobs(tree, site)) or [],
        "cards": [session_card_job(r, tree.cells[r.session.cell].name, long_date(r.session.date, r.session.language),
                                   site, tree.root) for r in selected],
    }
    if preview:
        jobs["report"] = sections.attempt("report", lambda: [report_job(tree, site.language, kinds=kinds)]) or []
    else:
        sections.off("report")    # the evaluation report lists drafts and attendance: editors only
    return jobs


def logo_action(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action: the site logo as a PNG of at most LOGO_EDGE px with its transparency and nothing
    else: no EXIF, GPS, XMP or text chunks of the editor's file (as every published photo)."""
    image, warnings = open_logo(files[0], params["label"])
    if image is None:
        raise ProducerError(warnings[0])
    image = fit_within(image, LOGO_EDGE)
    image.info = {}                   # encoders fall back to info: nothing of the source travels along
    image.save(out_dir / "logo.png", "PNG", compress_level=6)
    return []


def _logo_jobs(tree: ContentTree, site: SiteConfig) -> list[Job]:
    if not site.logo:
        return []
    source, message = check_media_path(tree.root, site.logo)
    if message:
        raise ConfigError(f"site.yml: logo: {message}")
    return [Job(name="site:logo", kind="site", action=logo_action,
                params={"label": f"site.yml: logo ({site.logo})", "edge": LOGO_EDGE},
                files=(source,), outputs=("logo.png",))]


def _logo(site_jobs: dict[str, list[Job]], results: Mapping[str, JobResult], sections: Sections) -> Path | None:
    jobs = site_jobs["logo"]
    if not jobs:
        if not sections.failed("logo"):
            sections.off("logo")
        return None
    outcome = results[jobs[0].name]
    if outcome.status == "failed":
        raise ProducerError(outcome.error)
    return outcome.outputs["logo.png"]


def _report_section(site_jobs: dict[str, list[Job]], results: Mapping[str, JobResult], site: SiteConfig,
                    sections: Sections) -> tuple[Page, dict[str, Path]] | None:
    """The evaluation report's page and the files published beside it (CSV, JSON, charts)."""
    from producers.editorial.report import page_title

    if "report" not in site_jobs or not site_jobs["report"]:
        return None
    [report] = site_jobs["report"]
    outcome = results[report.name]
    if outcome.status == "failed":
        raise ProducerError(outcome.error + (f"\n{outcome.detail}" if outcome.detail else ""))
    fragment = outcome.outputs["fragment.html"].read_text(encoding="utf-8")
    return (section_page("report/", page_title(site.language), fragment),
            {name: path for name, path in outcome.outputs.items() if name != "fragment.html"})


def _podcast(tree: ContentTree, site: SiteConfig, contexts: list[ProductContext],
             pages_done: dict[str, ProductPage], results: dict[str, JobResult],
             jobs_by_product: dict[str, list[Job]], labels: Labels, sections: Sections,
             kinds: Mapping[str, Kind]) -> tuple[dict[str, bytes], Page] | None:
    """Feeds (site-wide, per cell, per language) and the subscribe page, of the products whose kind
    declares a ``feed_entry``. Only public sessions' episodes reach a feed, even in a preview
    build: a feed, once read by an app, is forever."""
    from producers.build.feeds import site_podcast

    if site.podcast is None:
        sections.off("podcast")
        return None
    episodes = []
    for ctx in contexts:
        entry = kinds[ctx.record.kind].feed_entry
        if entry and ctx.url in pages_done and ctx.session.session.status in PUBLIC_STATUSES:
            episodes.append(entry(ctx, {job.name: results[job.name] for job in jobs_by_product[ctx.url]}))
    files, subscribe_html = site_podcast(episodes, site, tree.cells, tree.root, labels)
    return files, section_page("podcast/", labels("podcast"), subscribe_html)


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
