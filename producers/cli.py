"""The `cell35` command."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Callable, Optional

import typer

from producers.errors import Cell35Error
from producers.jobs.pipeline import JOB_MEMORY_LIMIT, KEEP_BUILDS, JobResult, Progress, size_text

app = typer.Typer(help="cell35: check, build and serve the cells' session content.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)

ContentOption = typer.Option(Path("content"), "--content", help="The content folder (site.yml, cells.yml, sessions/).")


class LineProgress(Progress):
    """Plain log lines for logs and CI."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.done = 0
        self.total = 0

    def start(self, total_by_kind: dict[str, int]) -> None:
        self.total = sum(total_by_kind.values())
        if self.total and not self.quiet:
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(total_by_kind.items()))
            typer.echo(f"rendering {self.total} jobs ({counts})", err=True)

    def advance(self, result: JobResult) -> None:
        self.done += 1
        if not self.quiet or result.status == "failed":
            typer.echo(f"[{self.done}/{self.total}] {result.status} {result.name} ({result.seconds:.1f} s)"
                       + (f": {result.error}" if result.error else ""), err=True)


class RichProgress(Progress):
    """A progress bar per product kind with an ETA, on a terminal."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn
        self.bar = Bar(TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn(), transient=False)
        self.tasks: dict[str, int] = {}

    def start(self, total_by_kind: dict[str, int]) -> None:
        if not total_by_kind:
            return
        self.bar.start()
        for kind, total in sorted(total_by_kind.items()):
            self.tasks[kind] = self.bar.add_task(kind, total=total)

    def advance(self, result: JobResult) -> None:
        if result.kind in self.tasks:
            self.bar.advance(self.tasks[result.kind])
        if result.status == "failed":
            self.bar.console.print(f"[red]failed[/red] {result.name}: {result.error}")

    def finish(self) -> None:
        if self.tasks:
            self.bar.stop()


def _progress(quiet: bool) -> Progress:
    if quiet or not sys.stderr.isatty():
        return LineProgress(quiet)
    return RichProgress()


@app.command()
def check(directory: Path = typer.Argument(Path("content"), help="Content folder to check.")) -> None:
    """Check content and say exactly what to fix: one `path:line: field: message` per problem."""
    from producers.kinds.registry import load_content

    tree = load_content(directory)
    for problem in tree.problems:
        typer.echo(f"{problem.severity}: {problem}" if problem.severity != "error" else str(problem))
    errors = len(tree.errors)
    warnings = len(tree.problems) - errors
    sessions = len(tree.sessions) + len(tree.invalid)
    typer.echo(f"{'✗' if errors else '✓'} {sessions} sessions checked: {len(tree.sessions)} valid, "
               f"{len(tree.invalid)} invalid; {errors} errors, {warnings} warnings")
    raise typer.Exit(1 if errors else 0)


MIN_JOB_MEMORY = 512 * 1024 ** 2    # a job process starts at ~100 MB; ffmpeg maps 200-300 MB of libraries (measured)
SIZE_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}


def parse_size(text: str) -> int:
    """``--job-memory``: bytes, or a number with K, M or G (KiB, MiB, GiB), e.g. ``3G`` or ``1536M``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a size; write it like 3G, 1536M or 3221225472 (bytes)")
    size = int(float(match.group(1)) * SIZE_UNITS[match.group(2).upper()])
    if size < MIN_JOB_MEMORY:
        raise typer.BadParameter(f"{text!r} is below the least a job can run in, {size_text(MIN_JOB_MEMORY)}")
    return size


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _build(content: Path, out: Path, preview: bool, jobs: Optional[int], quiet: bool,
           scheduler: Optional[str] = None, cache: Optional[Path] = None, wait: bool = True,
           job_memory: int = JOB_MEMORY_LIMIT, keep_builds: int = KEEP_BUILDS) -> int:
    """Build once; 0 all published, 1 published with something left out, 2 nothing published."""
    from producers.build.site import BuildOptions, build_site, describe_failure

    executor = None
    client = None
    try:
        if scheduler:
            from distributed import Client
            client = Client(scheduler)
            executor = client.get_executor()
        result = build_site(BuildOptions(content=content, out=out, preview=preview,
                                         jobs=jobs if jobs is not None else os.cpu_count(),
                                         executor=executor, cache_dir=cache, progress=_progress(quiet),
                                         wait=wait, notify=_say, job_memory=job_memory,
                                         keep_builds=keep_builds))
    except Cell35Error as exc:
        _say(f"build failed, {out} left unchanged: {exc}")
        return 2
    except Exception as exc:  # a bug: one line for the user, and the published site stays as it was
        _say(f"build failed, {out} left unchanged: internal error: {describe_failure(exc)}")
        return 2
    finally:
        if client is not None:
            client.close()
    report = result.report
    for problem in result.problems:
        _say(str(problem))
    for session in report["sessions"]:
        for product in session["products"]:
            for error in product["errors"]:
                _say(f"left out: {error}")
            if not quiet:
                for warning in product["warnings"]:
                    _say(f"warning: {warning}")
    for name, section in report["sections"].items():
        for error in section["errors"]:
            _say(f"left out: site section {name}: {error}")
    summary = report["summary"]
    jobs_line = ", ".join(f"{n} {status}" for status, n in summary["jobs"].items())
    typer.echo(f"{'✓' if result.ok else '✗'} built {out}: {summary['sessions_published']} sessions, "
               f"{summary['products_published']} products published, {summary['products_left_out']} left out, "
               f"{summary['sessions_invalid']} invalid sessions; jobs: {jobs_line}; {report['seconds']:.1f} s; "
               f"report: {result.report_path}", err=quiet is False)
    return 0 if result.ok else 1


@app.command()
def build(content: Path = ContentOption,
          out: Path = typer.Option(Path("site"), "--out", help="Where the site goes (replaced only when complete); "
                                                               "the build report goes beside it, "
                                                               "OUT.build-report.json."),
          preview: bool = typer.Option(False, "--preview", help="Show every session with a status badge, the "
                                                                "evaluation report and the build report."),
          jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Parallel render jobs (default: cores)."),
          scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler, tcp://HOST:PORT."),
          cache: Optional[Path] = typer.Option(None, "--cache", help="Render cache (default: .cache beside the "
                                                                     "content folder)."),
          wait: bool = typer.Option(True, "--wait/--no-wait", help="When another build is writing the same output "
                                                                  "or cache: wait for it (default), or give up."),
          job_memory: str = typer.Option(f"{JOB_MEMORY_LIMIT // 1024 ** 3}G", "--job-memory", callback=parse_size,
                                         help="Memory each process of a render job may map, e.g. 3G or 1536M; "
                                              "a job needing more fails alone, its product left out."),
          keep_builds: int = typer.Option(KEEP_BUILDS, "--keep-builds", min=1,
                                          help="Prune job outputs that none of the last N builds used."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and the summary.")) -> None:
    """Build the site. Anything invalid or failed is left out and reported; the exit status is then 1
    (2: nothing was published)."""
    raise typer.Exit(_build(content, out, preview, jobs, quiet, scheduler, cache, wait, job_memory, keep_builds))


def _rebuilder(content: Path, out: Path, preview: bool, cache: Optional[Path] = None) -> Callable[[], None]:
    """What `serve` runs when content changes: a build that, when it fails, says the site stays."""
    def rebuild() -> None:
        if _build(content, out, preview, None, quiet=True, cache=cache) == 2:
            _say(f"still serving the last site that built ({out})")
    return rebuild


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _bytes(count: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return ""


@app.command()
def cache(cache: Path = typer.Option(Path(".cache"), "--cache", help="The render cache (a build's default: .cache "
                                                                      "beside the content folder)."),
          prune: bool = typer.Option(False, "--prune", help="Remove the job outputs none of the last N builds used."),
          keep_builds: int = typer.Option(KEEP_BUILDS, "--keep-builds", min=1,
                                          help="N: how many of the last builds keep their job outputs.")) -> None:
    """Show the render cache's size and what the last builds used; --prune removes the rest."""
    from producers.jobs.pipeline import Cache, tree_bytes

    if not cache.is_dir():
        typer.echo(f"no cache at {cache} (a build creates it; see --cache)", err=True)
        raise typer.Exit(1)
    store = Cache(cache, keep_builds=keep_builds)
    if prune:
        removed = store.prune()
        typer.echo(f"removed {_entries(len(removed))} ({_bytes(sum(e.bytes for e in removed))}) that none of "
                   f"the last {keep_builds} builds used")
        for entry in removed:
            typer.echo(f"  {entry.key[:12]}  {_bytes(entry.bytes):>9}  {entry.name}")
    usage = store.usage(details=True)
    prunable = {entry.key for entry in usage.prunable()}
    last, recent, unrecorded, stale = ("used by the last build", f"last used 1 to {keep_builds - 1} builds ago",
                                       f"used by no recorded build (pruned once {keep_builds} are recorded)",
                                       f"used by none of the last {keep_builds} builds (--prune removes them)")
    groups: dict[str, list] = {last: [], recent: [], unrecorded: [], stale: []}
    for entry in usage.entries:
        groups[stale if entry.key in prunable else last if entry.builds_ago == 0 else
               unrecorded if entry.builds_ago is None else recent].append(entry)
    typer.echo(f"cache {cache.absolute()}")
    typer.echo(f"job outputs: {_entries(len(usage.entries))}, {_bytes(sum(e.bytes for e in usage.entries))}")
    for label, entries in groups.items():
        if entries or label in (last, stale):
            typer.echo(f"  {label}: {_entries(len(entries))}, {_bytes(sum(e.bytes for e in entries))}")
    typer.echo(f"builds recorded: {usage.builds} (the last {keep_builds} keep their outputs)")
    typer.echo(f"total on disk: {_bytes(tree_bytes(cache))} (with rendered pages, search indexes, scratch)")


@app.command()
def serve(content: Path = ContentOption,
          out: Path = typer.Option(Path("site"), "--out", help="Build folder to serve."),
          host: str = typer.Option("127.0.0.1", "--host"),
          port: int = typer.Option(8000, "--port"),
          preview: bool = typer.Option(False, "--preview", help="Show every session with a status badge."),
          watch: bool = typer.Option(True, "--watch/--no-watch", help="Rebuild when content changes.")) -> None:
    """Build, serve on http://HOST:PORT (HEAD and byte ranges), rebuild when content changes."""
    from producers.serve import Preview, content_fingerprint

    since = content_fingerprint(content)          # an edit made during the first build is seen
    status = _build(content, out, preview, None, quiet=True)
    if status == 2:
        raise typer.Exit(status)
    server = Preview(out, host, port, rebuild=_rebuilder(content, out, preview), report=_say,
                     content=content if watch else None, since=since)
    url = server.start()
    _say(f"serving {out} on {url} (Ctrl-C to stop)")
    # systemd and docker stop a service with SIGTERM: stop as on Ctrl-C, so the process ends through
    # its exit handlers (the job processes' fork server and its temporary folder go with it)
    signal.signal(signal.SIGTERM, lambda signum, frame: server.stopping.set())
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def portal(ctx: typer.Context) -> None:
    """The web portal for cells and editors: `cell35 portal run [--host H] [--port 8001]` migrates, makes
    demo accounts on first run and serves with gunicorn; other arguments are Django's management
    commands (`cell35 portal createsuperuser`). Environment: see producers/portal/settings.py."""
    from producers.portal.__main__ import main as portal_main

    raise typer.Exit(portal_main(ctx.args or ["run"]))


new_app = typer.Typer(help="Scaffold new content.", no_args_is_help=True)
app.add_typer(new_app, name="new")


def _ask(value, prompt: str, default=None, cast=str):
    if value is not None:
        return value
    if sys.stdin.isatty():
        return typer.prompt(prompt, default=default, type=cast)
    if default is not None:
        return default
    raise typer.BadParameter(f"missing --{prompt.lower().replace(' ', '-')} (no terminal to ask)")


@new_app.command("session")
def new_session_command(
        content: Path = ContentOption,
        cell: Optional[str] = typer.Option(None, help="Cell id from cells.yml."),
        title: Optional[str] = typer.Option(None, help="Session title."),
        topic: Optional[str] = typer.Option(None, help="Folder slug, e.g. 'sanitation' (default: from the title)."),
        date: Optional[str] = typer.Option(None, help="Session date, YYYY-MM-DD (default: today)."),
        group: Optional[str] = typer.Option(None, help="build or fight."),
        language: Optional[str] = typer.Option(None, help="en, vi or hi (default: the cell's)."),
        members: Optional[int] = typer.Option(None, help="Members of the cell."),
        present: Optional[int] = typer.Option(None, help="Members present."),
        summary: Optional[str] = typer.Option(None, help="One or two sentences."),
        kinds: Optional[str] = typer.Option(None, help="Comma-separated product kinds (1 to 3)."),
) -> None:
    """Scaffold a valid session folder with a template per product kind (prompts in a terminal)."""
    from pydantic import ValidationError

    from producers.content.loader import load_site
    from producers.content.scaffold import new_session, slugify
    from producers.kinds.registry import scaffolds

    _, cells, problems = load_site(content)
    if not cells:
        typer.echo("no cells: " + "; ".join(str(p) for p in problems), err=True)
        raise typer.Exit(1)
    cell = _ask(cell, "Cell", default=next(iter(cells)) if len(cells) == 1 else None)
    if cell not in cells:
        from producers.content.validation import one_of
        typer.echo(f"cell: {one_of(cell, sorted(cells))}", err=True)
        raise typer.Exit(1)
    title = _ask(title, "Title")
    topic = topic or slugify(title) or _ask(None, "Topic")
    try:
        session_date = dt.date.fromisoformat(_ask(date, "Date", default=dt.date.today().isoformat()))
    except ValueError as exc:
        typer.echo(f"date: expected a real date written YYYY-MM-DD: {exc}", err=True)
        raise typer.Exit(1)
    try:
        folder = new_session(content, cell=cell, title=title, topic=topic, date=session_date,
                             group=_ask(group, "Group", default="build"),
                             language=_ask(language, "Language", default=cells[cell].language),
                             members=_ask(members, "Members", cast=int), present=_ask(present, "Present", cast=int),
                             summary=_ask(summary, "Summary"),
                             kinds=[k.strip() for k in _ask(kinds, "Kinds", default="article").split(",") if k.strip()],
                             scaffolds=scaffolds())
    except (ValidationError, ValueError, FileExistsError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1)
    typer.echo(f"created {folder}; edit it, then run: cell35 check {content}")


@app.command()
def schema(out: Path = typer.Option(Path("schema"), "--out", help="Folder for the JSON Schema files.")) -> None:
    """Write JSON Schema files for editors' autocompletion (site.yml, cells.yml, sessions, each product kind)."""
    from producers.content.model import CellsFile, Session, SiteConfig
    from producers.kinds.registry import product_models

    out.mkdir(parents=True, exist_ok=True)
    models = {"site": SiteConfig, "cells": CellsFile, "session": Session,
              **{f"product-{kind}": model for kind, model in product_models().items()}}
    for name, model in models.items():
        (out / f"{name}.schema.json").write_text(json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2),
                                                 encoding="utf-8")
    typer.echo(f"wrote {len(models)} schemas to {out}/")


from producers.editorial_cli import editorial_app  # noqa: E402  (commands defined there, listed here)

app.registered_commands.extend(editorial_app.registered_commands)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
