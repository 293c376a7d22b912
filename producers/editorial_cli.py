"""Editor's commands: review, approve, reject, publish, intake, report, export, bundle.

Merged into the main ``cell35`` app by the CLI module:
``app.registered_commands.extend(editorial_app.registered_commands)``.
Exit status: 0 done, 1 refused by the workflow or content invalid, 2 a hostile/damaged zip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from producers.errors import Cell35Error

editorial_app = typer.Typer(help="Editorial workflow, submissions, the evaluation report and exports.",
                            no_args_is_help=True, add_completion=False)

CONTENT_OPTION = typer.Option(Path("content"), "--content", help="The content folder (with site.yml, cells.yml, "
                                                                  "sessions/).")
BY_OPTION = typer.Option(None, "--by", help="Who is acting; default: $CELL35_EDITOR, else $USER.")


def _fail(exc: Exception, code: int = 1) -> None:
    typer.echo(str(exc), err=True)
    raise typer.Exit(code)


@editorial_app.command("review")
def review(content: Path = CONTENT_OPTION,
           quarter: Optional[str] = typer.Option(None, help="Only this quarter, e.g. 2024-q4."),
           cell: Optional[str] = typer.Option(None, help="Only this cell id."),
           all_statuses: bool = typer.Option(False, "--all", help="List every session, whatever its status."),
           as_json: bool = typer.Option(False, "--json", help="Print the queue as JSON.")) -> None:
    """List the review queue: submitted sessions and pending revisions, by quarter, cell and age."""
    from producers.editorial.workflow import review_queue
    items = review_queue(content, statuses=None if all_statuses else ("submitted",), quarter=quarter, cell=cell)
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in items], ensure_ascii=False, indent=2))
        return
    if not items:
        typer.echo("the queue is empty")
    for item in items:
        extra = f"  (revisions waiting: {', '.join(map(str, item.revisions))})" if item.revisions else ""
        typer.echo(f"{item.id:<48} {item.status:<10} {item.age_days:>4} d  {item.title}{extra}")
    if items:
        typer.echo(f"{len(items)} in the queue")
    quarantine = content / "quarantine"
    held = sorted(p.name for p in quarantine.iterdir() if p.is_dir()) if quarantine.is_dir() else []
    if held:
        typer.echo(f"{len(held)} submission(s) in quarantine, waiting for the cell to fix and resend: "
                   f"{', '.join(held[-5:])}{' ...' if len(held) > 5 else ''} (see REPORT.md in each)")


@editorial_app.command("approve")
def approve(session: str = typer.Argument(..., help="QUARTER/FOLDER, e.g. 2024-q4/ha-long-sanitation."),
            content: Path = CONTENT_OPTION, by: Optional[str] = BY_OPTION,
            revision: Optional[int] = typer.Option(None, help="Approve this revision instead (it replaces the live "
                                                              "session, which is kept as a revision)."),
            note: Optional[str] = typer.Option(None, help="An optional note kept in the history.")) -> None:
    """Approve a submitted session; who and when go into its history."""
    from producers.editorial.workflow import approve as do_approve
    try:
        folder = do_approve(content, session, by=by, reason=note, revision=revision)
    except (Cell35Error, OSError) as exc:
        _fail(exc)
    typer.echo(f"approved {folder.parent.name}/{folder.name}")


@editorial_app.command("reject")
def reject(session: str = typer.Argument(..., help="QUARTER/FOLDER, e.g. 2024-q4/ha-long-sanitation."),
           reason: str = typer.Option(..., "--reason", help="What the cell must change; kept in the history."),
           content: Path = CONTENT_OPTION, by: Optional[str] = BY_OPTION) -> None:
    """Reject a session with a reason the cell can act on (also takes a published session down)."""
    from producers.editorial.workflow import reject as do_reject
    try:
        folder = do_reject(content, session, reason, by=by)
    except (Cell35Error, OSError) as exc:
        _fail(exc)
    typer.echo(f"rejected {folder.parent.name}/{folder.name}")


@editorial_app.command("publish")
def publish(sessions: Optional[List[str]] = typer.Argument(None, help="Sessions to publish; default: every "
                                                                      "approved one."),
            content: Path = CONTENT_OPTION, by: Optional[str] = BY_OPTION) -> None:
    """Mark approved sessions as published (the next public build shows them)."""
    from producers.editorial.workflow import publish as do_publish
    try:
        done, problems = do_publish(content, sessions or None, by=by)
    except (Cell35Error, OSError) as exc:
        _fail(exc)
    for folder in done:
        typer.echo(f"published {folder.parent.name}/{folder.name}")
    for problem in problems:
        typer.echo(problem, err=True)
    if not done and not problems:
        typer.echo("nothing approved to publish")
    if problems:
        raise typer.Exit(1)


@editorial_app.command("intake")
def intake(zip_file: Path = typer.Argument(..., help="The cell's zipped session folder."),
           content: Path = CONTENT_OPTION, by: Optional[str] = BY_OPTION) -> None:
    """Take a cell's zipped session: refuse hostile zips, file valid ones as submitted, quarantine the rest."""
    from producers.editorial.intake import IntakeRefused, intake as do_intake
    try:
        result = do_intake(zip_file, content, by=by)
    except IntakeRefused as exc:
        _fail(exc, 2)
    except (Cell35Error, OSError) as exc:
        _fail(exc)
    if result.outcome == "accepted":
        typer.echo(f"accepted: {result.session_id} -> {result.path} (status: submitted)")
    elif result.outcome == "revision":
        typer.echo(f"accepted as revision {result.revision} of {result.session_id} -> {result.path}\n"
                   f"the live session is unchanged; choose with: cell35 approve {result.session_id} "
                   f"--revision {result.revision}")
    else:
        for problem in result.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"quarantined: {len(result.problems)} problem(s); files and report in {result.path} "
                   f"(REPORT.md, in {result.language}) — send it to the cell")
        raise typer.Exit(1)


@editorial_app.command("report")
def report(content: Path = CONTENT_OPTION,
           year: Optional[int] = typer.Option(None, help="Only this year."),
           quarter: Optional[int] = typer.Option(None, min=1, max=4, help="Only this quarter (1-4) of --year."),
           out: Optional[Path] = typer.Option(None, help="Also write report.csv, report.json, the SVG charts and "
                                                         "index.html into this folder."),
           fmt: str = typer.Option("table", "--format", help="What to print: table, csv or json.")) -> None:
    """The evaluation report: per cell and quarter, held or not, products by kind, attendance, on time, status."""
    from producers.kinds.registry import load_content
    from producers.editorial.report import (DEADLINE_DAYS, build_report, report_csv, report_json, report_table, write_report_folder)
    if quarter and not year:
        _fail(Cell35Error("--quarter needs --year"))
    if fmt not in ("table", "csv", "json"):
        _fail(Cell35Error(f"--format must be one of (table, csv, json), received: {fmt!r}"))
    tree = load_content(content)
    result = build_report(tree, year=year, quarter=quarter)
    typer.echo({"table": report_table, "csv": report_csv, "json": report_json}[fmt](result))
    if fmt == "table":
        typer.echo(f"on time = submitted within {DEADLINE_DAYS} days after the quarter ends")
    if out:
        written = write_report_folder(result, out, tree.site.language if tree.site else "en")
        typer.echo(f"wrote {', '.join(sorted(written))} to {out}")


@editorial_app.command("export")
def export(what: str = typer.Argument(..., help="What to export: contest."),
           year: int = typer.Option(..., help="The contest year."),
           content: Path = CONTENT_OPTION,
           out: Optional[Path] = typer.Option(None, help="The zip to write; default: contest-<year>.zip."),
           include_unapproved: bool = typer.Option(False, help="Also export articles of sessions not yet approved.")
           ) -> None:
    """Export the articles marked for the contest channel as DOCX files in one zip with an index."""
    from producers.editorial.exports import export_contest
    from producers.kinds.registry import load_content
    if what != "contest":
        _fail(Cell35Error(f"unknown export {what!r}; available: (contest)"))
    tree = load_content(content)
    try:
        result = export_contest(tree, year, out or Path(f"contest-{year}.zip"), include_unapproved=include_unapproved)
    except (Cell35Error, OSError) as exc:
        _fail(exc)
    typer.echo(f"wrote {result.path}: {len(result.articles)} article(s)")
    for skipped in result.skipped:
        typer.echo(f"left out: {skipped}")


@editorial_app.command("bundle")
def bundle(session: str = typer.Argument(..., help="QUARTER/FOLDER, e.g. 2024-q4/ha-long-sanitation."),
           content: Path = CONTENT_OPTION,
           site: Path = typer.Option(Path("site"), help="The built site to take the finished files from."),
           limit_mb: float = typer.Option(25.0, help="Largest file (and zip part) a chat group accepts, in MB."),
           out: Optional[Path] = typer.Option(None, help="The zip to write; default: <folder>.zip (split into "
                                                         "<folder>-partN.zip when over the limit).")) -> None:
    """Zip a session's finished products for chat groups: every file under the size limit, videos at 720p."""
    from producers.editorial.exports import bundle_session
    try:
        result = bundle_session(site, session, out, limit_bytes=int(limit_mb * 1_000_000), content=content)
    except (Cell35Error, OSError) as exc:
        _fail(exc)
    for part in result.parts:
        typer.echo(f"wrote {part} ({part.stat().st_size / 1e6:.1f} MB)")
    for name, size in result.too_big:
        typer.echo(f"left out {name}: {size / 1e6:.1f} MB is over the {limit_mb:g} MB limit", err=True)
    for name in result.downscaled:
        typer.echo(f"{name}: scaled down to 720p")
    if result.too_big:
        raise typer.Exit(1)

