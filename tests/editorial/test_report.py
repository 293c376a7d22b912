"""The evaluation report checked against a hand-counted fixture: 3 cells x 2 quarters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from editorial_support import product_text, write_session, write_site
from producers.content import ledger
from producers.editorial_cli import editorial_app
from producers.kinds.registry import load_content
from producers.editorial.report import (build_report, quarter_deadline, report_csv, report_from_data, report_json, report_page,
                              report_table)

TODAY = dt.date(2025, 3, 1)
SVG = "{http://www.w3.org/2000/svg}"
runner = CliRunner()


def _history(day: str) -> str:
    return f"history:\n- action: submitted\n  by: cell\n  at: {day}T09:00:00Z\n"


def _recorded(root, session: str, day: str, action: str = "submitted", by: str = "cell") -> None:
    """The step as the system records it when intake or an editor takes it."""
    ledger.append(root, ledger.Step(at=dt.datetime.fromisoformat(f"{day}T09:00:00+00:00"), action=action, by=by,
                                    session=session, cell=session.split("/")[1].split("-")[0]))


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    """Hand-counted:

    | cell      | 2024-q3                                   | 2024-q4                                         |
    |-----------|-------------------------------------------|-------------------------------------------------|
    | ha-long   | published; article+slides; 8/10; on time  | approved; podcast; 9/12; late (2025-01-20)      |
    | varanasi  | nothing -> missing                        | submitted; article+social+slides; 15/20; on time (file date 2025-01-10) |
    | riverside | draft; article; 5/5; not submitted        | one invalid folder -> missing                   |

    The ha-long dates are in the system's ledger (and, as intake and the editors write them, in the
    front matter too).
    """
    root = write_site(tmp_path_factory.mktemp("report") / "content")
    write_session(root, "2024-q3", "ha-long-heritage", "ha-long", "2024-08-10", status="published", present=8,
                  members=10, history=_history("2024-10-05"),
                  products={"01-article.md": product_text("article"), "02-slides.md": product_text("slides")})
    _recorded(root, "2024-q3/ha-long-heritage", "2024-10-05")
    write_session(root, "2024-q4", "ha-long-fraud", "ha-long", "2024-11-10", status="approved", present=9,
                  members=12, history=_history("2025-01-20"), products={"01-podcast.md": product_text("podcast")})
    _recorded(root, "2024-q4/ha-long-fraud", "2025-01-20")
    folder = write_session(root, "2024-q4", "varanasi-ganga", "varanasi", "2024-12-01", status="submitted",
                           present=15, members=20,
                           products={"01-article.md": product_text("article"), "02-post.md": product_text("social-post"),
                                     "03-slides.md": product_text("slides")})
    stamp = dt.datetime(2025, 1, 10, 12, tzinfo=dt.timezone.utc).timestamp()
    os.utime(folder / "session.md", (stamp, stamp))
    write_session(root, "2024-q3", "riverside-parks", "riverside", "2024-09-01", status="draft", present=5, members=5)
    broken = write_session(root, "2024-q4", "riverside-broken", "riverside", "2024-10-01", status="submitted")
    (broken / "01-article.md").write_text("---\ntype: nope\ntitle: x\n---\nx\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def report(content):
    return build_report(load_content(content), today=TODAY)


def test_rows_match_the_hand_count(report):
    assert report.quarters == ["2024-q3", "2024-q4"]
    assert report.cells == ["ha-long", "varanasi", "riverside"]
    got = {(r.cell, r.quarter): (r.held, sum(r.products.values()), r.attendance_rate, r.submission, r.status, r.invalid)
           for r in report.rows}
    assert got == {
        ("ha-long", "2024-q3"): (True, 2, 80.0, "on time", "published", 0),
        ("ha-long", "2024-q4"): (True, 1, 75.0, "late", "approved", 0),
        ("varanasi", "2024-q3"): (False, 0, None, "missing", "", 0),
        ("varanasi", "2024-q4"): (True, 3, 75.0, "on time", "submitted", 0),
        ("riverside", "2024-q3"): (True, 1, 100.0, "not submitted", "draft", 0),
        ("riverside", "2024-q4"): (False, 0, None, "missing", "", 1),
    }
    assert report.row("varanasi", "2024-q4").products == {
        "slides": 1, "article": 1, "social-post": 1, "video": 0, "podcast": 0, "photo-series": 0}
    assert report.row("varanasi", "2024-q4").submitted == dt.date(2025, 1, 10)
    assert (report.held, report.expected) == (4, 6)


def test_deadline_rule():
    assert quarter_deadline("2024-q3") == dt.date(2024, 10, 15)
    assert quarter_deadline("2024-q4") == dt.date(2025, 1, 15)
    assert quarter_deadline("2024-q1") == dt.date(2024, 4, 15)


def test_year_and_quarter_filters_and_not_due(content):
    tree = load_content(content)
    one = build_report(tree, year=2024, quarter=4, today=TODAY)
    assert one.quarters == ["2024-q4"] and len(one.rows) == 3
    year = build_report(tree, year=2025, today=dt.date(2025, 5, 1))
    assert [r.submission for r in year.rows if r.cell == "ha-long"] == ["missing", "not due", "not due", "not due"]


def test_csv_and_json_exports(report):
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    first = rows[0]
    assert (first["cell"], first["quarter"], first["held"], first["article"], first["slides"], first["products_total"],
            first["attendance_rate"], first["submitted"], first["submission"]) == (
        "ha-long", "2024-q3", "yes", "1", "1", "2", "80.0", "2024-10-05", "on time")
    assert [r["submission"] for r in rows] == ["on time", "late", "missing", "on time", "not submitted", "missing"]
    data = json.loads(report_json(report))
    assert data["totals"]["products"] == {"slides": 2, "article": 3, "social-post": 1, "video": 0, "podcast": 1,
                                          "photo-series": 0}
    assert data["totals"]["submission"] == {"on time": 2, "late": 1, "not submitted": 1, "missing": 2, "not due": 0}
    assert data["deadline_days"] == 15 and "15 days" in data["rule"]
    assert sorted(s["attendance_rate"] for s in data["sessions"]) == [75.0, 75.0, 80.0, 100.0]


def _ids(svg_path) -> dict[str, ET.Element]:
    root = ET.parse(svg_path).getroot()
    return {el.get("id"): el for el in root.iter() if el.get("id")}


def test_report_page_and_charts(report, tmp_path):
    fragment, files = report_page(report, tmp_path, "vi")
    assert sorted(files) == ["attendance.svg", "coverage.svg", "kinds.svg", "report.csv", "report.json"]
    for name in ("coverage.svg", "kinds.svg", "attendance.svg"):
        assert f'<img src="{name}" alt="' in fragment
    assert "Đã tổ chức 4/6 buổi sinh hoạt theo kế hoạch (67%)." in fragment
    assert '<tr data-cell="riverside" data-quarter="2024-q4" data-submission="missing">' in fragment
    coverage = _ids(tmp_path / "coverage.svg")
    fills = {key: ET.tostring(el, encoding="unicode") for key, el in coverage.items() if key.startswith("cov-")}
    assert len(fills) == 6
    svg = (tmp_path / "coverage.svg").read_text(encoding="utf-8")

    def painted(key: str) -> tuple[str, str | None]:
        """(colour, pattern id) of a square: a hatched square's colour is its pattern's background."""
        hatch = re.search(r"url\(#(h[0-9a-f]+)\)", fills[key])
        if hatch is None:
            return re.search(r"fill: (#[0-9a-f]{6})", fills[key]).group(1), None
        pattern = re.search(rf'<pattern id="{hatch.group(1)}".*?</pattern>', svg, re.S).group(0)
        found = re.search(r'fill(?:="|: )(#[0-9a-f]{6})', pattern)
        return found.group(1), hatch.group(1)

    on_time, late, missing, unsent = (painted(k) for k in ("cov-ha-long-2024-q3", "cov-ha-long-2024-q4",
                                                            "cov-varanasi-2024-q3", "cov-riverside-2024-q3"))
    assert [on_time[0], late[0], missing[0], unsent[0]] == ["#2e7d32", "#f9a825", "#c62828", "#64b5f6"]
    # not by colour alone: every state but "on time" has a pattern of its own (WCAG 1.4.1)
    assert on_time[1] is None and len({late[1], missing[1], unsent[1]} - {None}) == 3
    assert "đúng hạn" in (tmp_path / "coverage.svg").read_text(encoding="utf-8")    # legend as text, not paths
    bars = {key for key in _ids(tmp_path / "kinds.svg") if key.startswith("bar-")}
    assert bars >= {"bar-article-2024-q3-2", "bar-slides-2024-q3-1", "bar-podcast-2024-q4-1", "bar-article-2024-q4-1"}
    attendance = {key for key in _ids(tmp_path / "attendance.svg") if key.startswith("att-")}
    assert {"att-70-2", "att-80-1", "att-90-1", "att-0-0"} <= attendance


def test_cli_report(content, tmp_path):
    result = runner.invoke(editorial_app, ["report", "--content", str(content), "--year", "2024", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["period"]["quarters"] == ["2024-q1", "2024-q2", "2024-q3", "2024-q4"]
    out = tmp_path / "out"
    result = runner.invoke(editorial_app, ["report", "--content", str(content), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ha-long          2024-q4  yes  podcast 1" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["attendance.svg", "coverage.svg", "index.html", "kinds.svg",
                                                     "report.csv", "report.json"]
    result = runner.invoke(editorial_app, ["report", "--content", str(content), "--quarter", "2"])
    assert result.exit_code == 1 and "--quarter needs --year" in result.output


@pytest.mark.browser
def test_report_page_shows_its_charts_in_chromium(report, tmp_path, page):
    from producers.editorial.report import write_report_folder
    write_report_folder(report, tmp_path, "hi")
    page.goto((tmp_path / "index.html").as_uri(), wait_until="load")
    images = page.evaluate("[...document.images].map(i => [i.getAttribute('src'), i.naturalWidth, i.alt])")
    assert [src for src, _, _ in images] == ["coverage.svg", "kinds.svg", "attendance.svg"]
    assert all(width > 200 and alt for _, width, alt in images), images
    assert page.locator("h1").inner_text() == "मूल्यांकन रिपोर्ट"
    assert page.locator("tr[data-submission='late']").count() == 1


def test_report_as_a_pipeline_job(content, tmp_path):
    from producers.jobs.pipeline import Cache, run_jobs
    from producers.editorial.report import report_job
    job = report_job(load_content(content), "en", today=TODAY)
    results = run_jobs([job], Cache(tmp_path / "cache"))
    result = results["report"]
    assert result.status == "rendered", result.error + result.detail
    fragment = result.outputs["fragment.html"].read_text(encoding="utf-8")
    assert "4 of 6 expected sessions held (67%)." in fragment
    assert sorted(result.outputs) == ["attendance.svg", "coverage.svg", "fragment.html", "kinds.svg", "report.csv",
                                      "report.json"]
    again = run_jobs([report_job(load_content(content), "en", today=TODAY)], Cache(tmp_path / "cache"))
    assert again["report"].status == "cached"


# --- only the system's own record counts -------------------------------------------------------------

FORGED = ("history:\n- action: approved\n  by: chief-editor\n  at: 2024-10-01T09:00:00Z\n")


def _stamp(path, day: str) -> None:
    moment = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00").timestamp()
    os.utime(path, (moment, moment))


def test_a_forged_history_in_a_file_never_through_intake_is_not_trusted(tmp_path):
    """A session.md placed in content/ by hand, with a forged approval dated before the deadline: the
    report ignores the entry, counts it as unverified and falls back to the file's date."""
    root = write_site(tmp_path / "content")
    folder = write_session(root, "2024-q3", "ha-long-forged", "ha-long", "2024-08-10", status="approved",
                           history=FORGED)
    _stamp(folder / "session.md", "2024-11-01")
    report = build_report(load_content(root), today=TODAY)
    row = report.row("ha-long", "2024-q3")
    assert (row.submission, row.submitted, row.unverified_history) == ("late", dt.date(2024, 11, 1), 1)
    [facts] = report.sessions
    assert facts.submitted_from == "file"
    assert "1 history entries the system did not write" in report_table(report)
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert [(r["cell"], r["submission"], r["unverified_history"]) for r in rows] == [
        ("ha-long", "late", "1"), ("varanasi", "missing", "0"), ("riverside", "missing", "0")]


def test_a_forged_history_sent_through_intake_is_dropped_and_the_receipt_date_counts(tmp_path):
    from editorial_support import session_zip_files, zip_bytes
    from producers.editorial.intake import intake

    root = write_site(tmp_path / "content")
    files = session_zip_files(folder="ha-long-forged", date="2024-08-10", status="published", history=FORGED)
    archive = tmp_path / "forged.zip"
    archive.write_bytes(zip_bytes(files))
    received = dt.datetime(2024, 10, 20, 8, 0, tzinfo=dt.timezone.utc)          # five days past the deadline
    intake(archive, root, by="Editor", when=received)
    report = build_report(load_content(root), today=TODAY)
    row = report.row("ha-long", "2024-q3")
    assert (row.submission, row.submitted, row.status, row.unverified_history) == (
        "late", dt.date(2024, 10, 20), "submitted", 0)
    # Editing the filed session.md afterwards does not move the date either.
    session_md = root / "sessions" / "2024-q3" / "ha-long-forged" / "session.md"
    session_md.write_text(session_md.read_text(encoding="utf-8").replace("2024-10-20T08:00:00Z",
                                                                           "2024-10-02T08:00:00Z"), encoding="utf-8")
    again = build_report(load_content(root), today=TODAY).row("ha-long", "2024-q3")
    assert (again.submission, again.submitted, again.unverified_history) == ("late", dt.date(2024, 10, 20), 1)


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path, report):
    """OWASP CSV injection: =, +, -, @, tab and CR at a cell's start; read back with the csv module."""
    data = json.loads(report_json(report))
    hostile = ["=HYPERLINK(\"https://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
               "\t=1+1", "\r=1+1"]
    for row, name in zip(data["rows"], hostile):
        row["cell_name"] = name
        row["committee"] = name
    rows = list(csv.DictReader(io.StringIO(report_csv(report_from_data(data)), newline="")))
    assert [r["cell_name"] for r in rows] == ["'" + name for name in hostile]
    assert [r["committee"] for r in rows] == ["'" + name for name in hostile]
    assert all(not value.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for value in r.values())
    # ordinary values are left as they are
    assert rows[0]["cell"] == "ha-long" and rows[0]["attendance_rate"] == "80.0"


def test_csv_from_a_hostile_cells_yml(tmp_path):
    cells = [{"id": "ha-long", "name": "'=cmd|\" /C calc\"!A0'", "committee": "'@SUM(1+1)'", "area": "x",
              "language": "en"}]
    root = write_site(tmp_path / "content", cells)
    write_session(root, "2024-q4", "ha-long-a", "ha-long", "2024-11-02")
    [row] = list(csv.DictReader(io.StringIO(report_csv(build_report(load_content(root), today=TODAY)))))
    assert (row["cell_name"], row["committee"]) == ("'=cmd|\" /C calc\"!A0", "'@SUM(1+1)")


def test_an_unreadable_ledger_line_is_named_not_silently_dropped(tmp_path):
    root = write_site(tmp_path / "content")
    write_session(root, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted")
    _recorded(root, "2024-q4/ha-long-a", "2024-11-20")
    with open(root / "ledger" / "2024-q4.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"at": "2024-11-21T00:00:00Z", "action": "submitt\n')        # a crash mid-write
    report = build_report(load_content(root), today=TODAY)
    assert report.row("ha-long", "2024-q4").submission == "on time"
    [problem] = report.ledger_problems
    assert problem.startswith("ledger/2024-q4.jsonl:2: unreadable step ignored")
    assert f"ledger: {problem}" in report_table(report)
    assert json.loads(report_json(report))["ledger_problems"] == [problem]
