"""The evaluation report: which cells held their quarterly session, what they produced, how they attended.

One row per cell and quarter:
- held: a valid session of the cell is dated in that quarter (whatever its status; the status column
  says how far it got). Invalid session folders are not counted as held; they are counted apart.
- products by kind, summed over the cell's sessions of that quarter.
- attendance rate: members present / members, over those sessions, in percent.
- submission, by the rule below (``DEADLINE_DAYS``):
    * the submission date is the session's first ``submitted`` step in the system's ledger
      (``producers/content/ledger.py``); failing that, its earliest step there of any kind (an approval
      implies a submission); failing that, the date session.md was last modified (the "file date").
      The ``history`` in a session.md is text a cell can write (a forged "approved by chief-editor"
      once made a late cell "on time"), so it is never used for dates: an entry there that the ledger
      does not hold is only counted, as ``unverified_history``, for the editor to look at;
    * ``on time`` when that date is at most DEADLINE_DAYS days after the quarter's last day,
      ``late`` after that;
    * ``not submitted`` for a session still in ``draft`` with no history;
    * ``missing`` when the cell has no valid session and the deadline has passed,
      ``not due`` when it has not passed yet.
- status: the session's status (several sessions: their statuses joined).

Exports: CSV (a cell starting like a spreadsheet formula is prefixed with ``'``, as OWASP advises
against CSV injection) and JSON; charts as matplotlib SVG (Agg backend, text kept as SVG text so the browser
shapes Devanagari and Vietnamese with the page's fonts); and the HTML fragment of the site's report
page, which references the charts by bare file name so it works when published in one folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping

from producers.content import ledger
from producers.web.templates import TEMPLATES_DIR, render
from producers.web.i18n import Labels
from producers.content.loader import ContentTree
from producers.content.model import QUARTER_DIR_RE
from producers.kinds.base import Kind
from producers.kinds.registry import REGISTRY

DEADLINE_DAYS = 15
# The report job writes its fragment and document through these templates: their bytes are part of
# its key (jobs/identity.py), so editing one re-renders the report and nothing else.
KEY_FILES = (TEMPLATES_DIR / "report.html", TEMPLATES_DIR / "report_document.html")
STATES = ("on time", "late", "not submitted", "missing", "not due")
STATE_COLOURS = {"on time": "#2e7d32", "late": "#f9a825", "not submitted": "#64b5f6", "missing": "#c62828",
                 "not due": "#e0e0e0"}
# Each state has a pattern as well as a colour: the grid must read without telling colours apart
# (WCAG 1.4.1). The hatch is drawn in the colour the square's number is written in.
STATE_HATCHES = {"on time": "", "late": "//", "not submitted": "..", "missing": "xx", "not due": "--"}
STATE_INK = {"on time": "white", "late": "black", "not submitted": "black", "missing": "white", "not due": "black"}
CHART_FONTS = ["Noto Sans", "Noto Sans Devanagari", "DejaVu Sans", "sans-serif"]
CHART_FILES = ("coverage.svg", "kinds.svg", "attendance.svg")

RULE = (f"A session counts as submitted on the date of its first 'submitted' step in the system's ledger (else its "
        f"earliest step there, else the date its session.md was last changed); history written in a session.md "
        f"itself is not trusted. It is on time when that date is at most {DEADLINE_DAYS} days after the end of its "
        f"quarter.")

# The report's own words; shared words (cell, quarter, status, kinds, statuses) come from i18n.Labels.
TEXT = {
    "en": {
        "title": "Evaluation report", "coverage": "Sessions held, by cell and quarter",
        "kinds_chart": "Products by kind over time", "attendance_chart": "Attendance distribution",
        "sessions_axis": "Sessions", "products_axis": "Products", "rate_axis": "Attendance rate (%)",
        "held": "Held", "yes": "yes", "no": "no", "submission": "Submission", "rate": "Attendance rate",
        "download": "Download the figures:", "invalid": "Invalid folders", "summary": "{held} of {expected} "
        "expected sessions held ({rate}%).",
        "state.on time": "on time", "state.late": "late", "state.not submitted": "not submitted",
        "state.missing": "missing", "state.not due": "not due yet",
        "rule": RULE,
        "coverage_alt": "Grid of cells by quarter; each square shows whether the session was held on time, late, "
                        "not submitted, missing or not yet due.",
        "kinds_alt": "Stacked bars: number of products of each kind per quarter.",
        "attendance_alt": "Histogram of the attendance rate of every session, in steps of 10%.",
    },
    "vi": {
        "title": "Báo cáo đánh giá", "coverage": "Các buổi sinh hoạt đã tổ chức, theo chi bộ và quý",
        "kinds_chart": "Sản phẩm theo loại qua các quý", "attendance_chart": "Phân bố tỷ lệ tham dự",
        "sessions_axis": "Số buổi", "products_axis": "Số sản phẩm", "rate_axis": "Tỷ lệ tham dự (%)",
        "held": "Đã tổ chức", "yes": "có", "no": "không", "submission": "Nộp bài", "rate": "Tỷ lệ tham dự",
        "download": "Tải số liệu:", "invalid": "Thư mục không hợp lệ",
        "summary": "Đã tổ chức {held}/{expected} buổi sinh hoạt theo kế hoạch ({rate}%).",
        "state.on time": "đúng hạn", "state.late": "trễ hạn", "state.not submitted": "chưa nộp",
        "state.missing": "không có", "state.not due": "chưa đến hạn",
        "rule": f"Ngày nộp là ngày của bước 'submitted' đầu tiên mà hệ thống ghi trong sổ của mình (nếu không có "
                f"thì bước sớm nhất trong sổ, nếu không nữa thì ngày tệp session.md được sửa lần cuối); lịch sử ghi "
                f"trong chính tệp session.md không được tính. Đúng hạn khi ngày đó không quá {DEADLINE_DAYS} ngày "
                f"sau khi kết thúc quý.",
        "coverage_alt": "Lưới chi bộ theo quý; mỗi ô cho biết buổi sinh hoạt được nộp đúng hạn, trễ hạn, chưa nộp, "
                        "không có hay chưa đến hạn.",
        "kinds_alt": "Biểu đồ cột chồng: số sản phẩm mỗi loại trong từng quý.",
        "attendance_alt": "Biểu đồ tần suất tỷ lệ tham dự của các buổi sinh hoạt, theo bước 10%.",
    },
    "hi": {
        "title": "मूल्यांकन रिपोर्ट", "coverage": "इकाई और तिमाही के अनुसार आयोजित सत्र",
        "kinds_chart": "समय के साथ प्रकार के अनुसार उत्पाद", "attendance_chart": "उपस्थिति का वितरण",
        "sessions_axis": "सत्र", "products_axis": "उत्पाद", "rate_axis": "उपस्थिति दर (%)",
        "held": "आयोजित", "yes": "हाँ", "no": "नहीं", "submission": "जमा", "rate": "उपस्थिति दर",
        "download": "आँकड़े डाउनलोड करें:", "invalid": "अमान्य फ़ोल्डर",
        "summary": "अपेक्षित {expected} में से {held} सत्र आयोजित हुए ({rate}%)।",
        "state.on time": "समय पर", "state.late": "देर से", "state.not submitted": "जमा नहीं",
        "state.missing": "नहीं हुआ", "state.not due": "अभी देय नहीं",
        "rule": f"सत्र की जमा तिथि सिस्टम के अपने रिकॉर्ड में उसकी पहली 'submitted' प्रविष्टि की तिथि है (वह न हो "
                f"तो वहाँ की सबसे पहली प्रविष्टि, वह भी न हो तो session.md के अंतिम बदलाव की तिथि); session.md में "
                f"लिखा इतिहास नहीं गिना जाता। तिमाही समाप्त होने के {DEADLINE_DAYS} दिन के भीतर जमा हो तो वह समय पर "
                f"है।",
        "coverage_alt": "तिमाही के अनुसार इकाइयों का ग्रिड; हर खाना बताता है कि सत्र समय पर, देर से, जमा नहीं, "
                        "नहीं हुआ या अभी देय नहीं है।",
        "kinds_alt": "स्टैक्ड बार: हर तिमाही में हर प्रकार के उत्पादों की संख्या।",
        "attendance_alt": "हर सत्र की उपस्थिति दर का हिस्टोग्राम, 10% के चरणों में।",
    },
}


# --- figures ------------------------------------------------------------------------------------

def quarter_of(day: dt.date) -> str:
    return f"{day.year}-q{(day.month - 1) // 3 + 1}"


def quarter_end(quarter: str) -> dt.date:
    match = QUARTER_DIR_RE.match(quarter)
    year, number = int(match.group(1)), int(match.group(2))
    if number == 4:
        return dt.date(year, 12, 31)
    return dt.date(year, number * 3 + 1, 1) - dt.timedelta(days=1)


def quarter_deadline(quarter: str) -> dt.date:
    return quarter_end(quarter) + dt.timedelta(days=DEADLINE_DAYS)


def quarters_between(first: str, last: str) -> list[str]:
    year, number = int(first[:4]), int(first[-1])
    found = []
    while f"{year}-q{number}" <= last:
        found.append(f"{year}-q{number}")
        year, number = (year + 1, 1) if number == 4 else (year, number + 1)
    return found


@dataclass(frozen=True)
class SessionFacts:
    id: str
    cell: str
    quarter: str
    date: dt.date
    status: str
    products: dict[str, int]
    present: int
    members: int
    attendance_rate: float
    submitted: dt.date | None
    submitted_from: str          # "ledger" | "file" | ""
    submission: str              # one of STATES
    unverified_history: int = 0  # front-matter history entries the ledger does not hold


@dataclass(frozen=True)
class Row:
    cell: str
    cell_name: str
    committee: str
    quarter: str
    held: bool
    sessions: tuple[str, ...]
    products: dict[str, int]
    present: int
    members: int
    attendance_rate: float | None
    submitted: dt.date | None
    deadline: dt.date
    submission: str
    status: str
    invalid: int
    unverified_history: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["sessions"] = list(self.sessions)
        data["submitted"] = self.submitted.isoformat() if self.submitted else None
        data["deadline"] = self.deadline.isoformat()
        data["products_total"] = sum(self.products.values())
        return data


@dataclass(frozen=True)
class Column:
    """A product kind's column: its name (the CSV header), its bars' colour, what it is called."""
    name: str
    colour: str
    titles: Mapping[str, str] = field(default_factory=dict)    # language -> the kind's name

    def title(self, language: str) -> str:
        return self.titles.get(language, self.name)


def report_columns(kinds: Mapping[str, Kind] = REGISTRY) -> tuple[Column, ...]:
    """One column per registered kind, as each kind declares it."""
    return tuple(Column(name, kind.report_colour, {language: words[f"kind.{name}"]
                                                   for language, words in kind.labels.items()})
                 for name, kind in kinds.items())


@dataclass
class Report:
    quarters: list[str]
    cells: list[str]
    rows: list[Row]
    sessions: list[SessionFacts]
    today: dt.date
    year: int | None = None
    quarter: int | None = None
    cell_names: dict[str, str] = field(default_factory=dict)
    ledger_problems: list[str] = field(default_factory=list)   # unreadable ledger lines, named for the editor
    columns: tuple[Column, ...] = ()                            # one per product kind, in order

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def row(self, cell: str, quarter: str) -> Row:
        return next(r for r in self.rows if r.cell == cell and r.quarter == quarter)

    @property
    def expected(self) -> int:
        """Cell-quarters whose deadline has passed or that already hold a session."""
        return sum(1 for r in self.rows if r.submission != "not due")

    @property
    def held(self) -> int:
        return sum(1 for r in self.rows if r.held)


def _submission_date(record, steps: list[ledger.Step]) -> tuple[dt.date | None, str]:
    """When the session was submitted, from the system's own steps only (see the module docstring)."""
    submitted = [step.at for step in steps if step.action == "submitted"]
    if submitted:
        return min(submitted).astimezone(dt.timezone.utc).date(), "ledger"
    if steps:
        return min(step.at for step in steps).astimezone(dt.timezone.utc).date(), "ledger"
    if record.session.status == "draft":
        return None, ""
    mtime = (record.dir / "session.md").stat().st_mtime
    return dt.datetime.fromtimestamp(mtime, dt.timezone.utc).date(), "file"


def _unverified(record, steps: list[ledger.Step]) -> int:
    recorded = {(step.action, step.by, step.at) for step in steps}
    return sum(1 for entry in record.session.history
               if (entry.action, entry.by, entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=dt.timezone.utc))
               not in recorded)


def _session_facts(record, steps: list[ledger.Step], kinds: tuple[str, ...]) -> SessionFacts:
    session = record.session
    submitted, source = _submission_date(record, steps)
    if submitted is None:
        state = "not submitted"
    else:
        state = "on time" if submitted <= quarter_deadline(record.quarter) else "late"
    products = Counter(p.kind for p in record.products)
    rate = round(100 * session.attendance.present / session.attendance.members, 1)
    return SessionFacts(record.id, session.cell, record.quarter, session.date, session.status,
                        {k: products[k] for k in kinds}, session.attendance.present, session.attendance.members,
                        rate, submitted, source, state, _unverified(record, steps))


def _invalid_counts(tree: ContentTree) -> Counter:
    counts: Counter = Counter()
    for shown in tree.invalid:
        parts = Path(shown).parts
        if len(parts) < 2 or not QUARTER_DIR_RE.match(parts[-2]):
            continue
        owners = [c for c in tree.cells if parts[-1].startswith(c + "-")]
        if owners:
            counts[(max(owners, key=len), parts[-2])] += 1
    return counts


def build_report(tree: ContentTree, year: int | None = None, quarter: int | None = None,
                 today: dt.date | None = None, kinds: Mapping[str, Kind] = REGISTRY) -> Report:
    today = today or dt.datetime.now(dt.timezone.utc).date()
    columns = report_columns(kinds)
    names = tuple(kinds)
    recorded, ledger_problems = ledger.read(tree.root)
    steps = ledger.by_session(recorded)
    facts = sorted((_session_facts(r, steps.get(r.id, []), names) for r in tree.sessions if r.session.cell in tree.cells),
                   key=lambda f: (f.quarter, f.cell, f.date, f.id))
    if year and quarter:
        quarters = [f"{year}-q{quarter}"]
    elif year:
        quarters = [f"{year}-q{n}" for n in range(1, 5)]
    elif facts:
        quarters = quarters_between(facts[0].quarter, facts[-1].quarter)
    else:
        quarters = []
    facts = [f for f in facts if f.quarter in quarters]
    invalid = _invalid_counts(tree)
    rows = []
    grouped: dict[tuple[str, str], list] = {}
    for fact in facts:
        grouped.setdefault((fact.cell, fact.quarter), []).append(fact)
    for cell_id, cell in tree.cells.items():
        for q in quarters:
            mine = grouped.get((cell_id, q), [])
            products = Counter()
            for f in mine:
                products.update(f.products)
            present = sum(f.present for f in mine)
            members = sum(f.members for f in mine)
            deadline = quarter_deadline(q)
            dates = [f.submitted for f in mine if f.submitted]
            submitted = min(dates) if dates else None
            if mine:
                states = [f.submission for f in mine]
                # The cell's best effort counts: one session on time makes the quarter on time.
                state = next(s for s in ("on time", "late", "not submitted") if s in states)
            else:
                state = "missing" if today > deadline else "not due"
            rows.append(Row(cell_id, cell.name, cell.committee, q, bool(mine), tuple(f.id for f in mine),
                            {k: products[k] for k in names}, present, members,
                            round(100 * present / members, 1) if members else None, submitted, deadline, state,
                            ", ".join(sorted({f.status for f in mine})), invalid[(cell_id, q)],
                            sum(f.unverified_history for f in mine)))
    return Report(quarters, list(tree.cells), rows, facts, today, year, quarter,
                  {c.id: c.name for c in tree.cells.values()}, ledger_problems, columns)


# --- exports ------------------------------------------------------------------------------------

def csv_fields(report: Report) -> list[str]:
    return ["cell", "cell_name", "committee", "quarter", "held", "sessions", *report.kinds, "products_total",
            "present", "members", "attendance_rate", "submitted", "deadline", "submission", "status", "invalid",
            "unverified_history"]
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A cell a spreadsheet shows as the text it is: one starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def report_csv(report: Report) -> str:
    buffer = io.StringIO()
    # RFC 4180 line ends: the writer then quotes any value holding a CR or LF, which "\n" alone would not.
    writer = csv.DictWriter(buffer, fieldnames=csv_fields(report), lineterminator="\r\n")
    writer.writeheader()
    for row in report.rows:
        data = row.as_dict()
        products = data.pop("products")
        data.update(products)
        data["held"] = "yes" if row.held else "no"
        data["sessions"] = ";".join(row.sessions)
        data["attendance_rate"] = "" if row.attendance_rate is None else f"{row.attendance_rate:.1f}"
        data["submitted"] = data["submitted"] or ""
        writer.writerow({key: csv_safe(value) for key, value in data.items()})
    return buffer.getvalue()


def report_data(report: Report) -> dict:
    return {
        "period": {"year": report.year, "quarter": report.quarter, "quarters": report.quarters},
        "as_of": report.today.isoformat(),
        "rule": RULE,
        "deadline_days": DEADLINE_DAYS,
        "cells": report.cells,
        "totals": {"expected": report.expected, "held": report.held,
                   "products": {k: sum(r.products[k] for r in report.rows) for k in report.kinds},
                   "submission": {s: sum(1 for r in report.rows if r.submission == s) for s in STATES}},
        "rows": [r.as_dict() for r in report.rows],
        "sessions": [{**asdict(f), "date": f.date.isoformat(),
                      "submitted": f.submitted.isoformat() if f.submitted else None} for f in report.sessions],
        "ledger_problems": report.ledger_problems,
    }


def report_json(report: Report) -> str:
    return json.dumps(report_data(report), ensure_ascii=False, indent=2)


def report_table(report: Report) -> str:
    width = max([16, *(len(c) for c in report.cells)])
    header = f"{'cell':<{width}} {'quarter':<8} {'held':<4} {'products':<30} {'attend.':>7}  {'submission':<13} status"
    lines = [header, "-" * len(header)]
    for row in report.rows:
        products = ", ".join(f"{k} {n}" for k, n in row.products.items() if n) or "-"
        rate = f"{row.attendance_rate:.1f}%" if row.attendance_rate is not None else "-"
        invalid = f"  ({row.invalid} invalid)" if row.invalid else ""
        if row.unverified_history:
            invalid += f"  ({row.unverified_history} history entries the system did not write)"
        lines.append(f"{row.cell:<{width}} {row.quarter:<8} {'yes' if row.held else 'no':<4} {products:<30} "
                     f"{rate:>7}  {row.submission:<13} {row.status or '-'}{invalid}")
    lines.append(f"{report.held} of {report.expected} expected sessions held")
    lines += [f"ledger: {problem}" for problem in report.ledger_problems]
    return "\n".join(lines)


# --- charts -------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _style(plt) -> dict:
    return {"svg.fonttype": "none", "font.family": CHART_FONTS, "svg.hashsalt": "cell35",
            "font.size": 10, "axes.spines.top": False, "axes.spines.right": False}


def _save(fig, path: Path) -> Path:
    # No date in the metadata: the same figures make the same file.
    fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    return path


def coverage_chart(report: Report, path: Path, text: dict) -> Path:
    plt = _pyplot()
    from matplotlib.patches import Patch, Rectangle
    with plt.rc_context(_style(plt)):
        width = max(4.0, 1.6 + 0.9 * len(report.quarters))
        height = max(2.2, 1.2 + 0.45 * len(report.cells))
        fig, ax = plt.subplots(figsize=(width, height))
        for y, cell in enumerate(report.cells):
            for x, quarter in enumerate(report.quarters):
                row = report.row(cell, quarter)
                ax.add_patch(Rectangle((x, y), 0.94, 0.9, facecolor=STATE_COLOURS[row.submission],
                                       edgecolor="white", hatch=STATE_HATCHES[row.submission],
                                       hatchcolor=STATE_INK[row.submission], gid=f"cov-{cell}-{quarter}"))
                total = sum(row.products.values())
                if total:
                    ax.text(x + 0.47, y + 0.45, str(total), ha="center", va="center", fontsize=9,
                            color=STATE_INK[row.submission],
                            bbox={"boxstyle": "round,pad=0.3", "facecolor": STATE_COLOURS[row.submission],
                                  "edgecolor": "none"})     # the number stays legible over the hatch
        ax.set_xlim(0, max(len(report.quarters), 1))
        ax.set_ylim(max(len(report.cells), 1), 0)
        ax.set_xticks([x + 0.47 for x in range(len(report.quarters))], report.quarters)
        ax.set_yticks([y + 0.45 for y in range(len(report.cells))], report.cells)
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(text["coverage"])
        ax.legend(handles=[Patch(facecolor=STATE_COLOURS[s], hatch=STATE_HATCHES[s], hatchcolor=STATE_INK[s],
                                 edgecolor="#9e9e9e", label=text[f"state.{s}"]) for s in STATES],
                  loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
        _save(fig, path)
        plt.close(fig)
    return path


def kinds_chart(report: Report, path: Path, text: dict, language: str) -> Path:
    plt = _pyplot()
    with plt.rc_context(_style(plt)):
        fig, ax = plt.subplots(figsize=(max(4.5, 1.5 + 0.8 * len(report.quarters)), 3.2))
        bottoms = [0] * len(report.quarters)
        for column in report.columns:
            kind = column.name
            counts = [sum(r.products[kind] for r in report.rows if r.quarter == q) for q in report.quarters]
            if not any(counts):
                continue
            bars = ax.bar(report.quarters, counts, bottom=bottoms, color=column.colour,
                          label=column.title(language), width=0.6)
            for bar, quarter, count in zip(bars, report.quarters, counts):
                bar.set_gid(f"bar-{kind}-{quarter}-{count}")
            bottoms = [b + c for b, c in zip(bottoms, counts)]
        ax.set_ylabel(text["products_axis"])
        ax.set_ylim(0, max([1, *bottoms]) * 1.08)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(text["kinds_chart"])
        if any(bottoms):
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
        _save(fig, path)
        plt.close(fig)
    return path


def attendance_chart(report: Report, path: Path, text: dict) -> Path:
    plt = _pyplot()
    with plt.rc_context(_style(plt)):
        fig, ax = plt.subplots(figsize=(5, 3))
        bins = list(range(0, 101, 10))
        # A rate of exactly 100% belongs in the last bin, as numpy's histogram does.
        counts = [sum(1 for f in report.sessions if low <= f.attendance_rate < low + 10 or
                      (low == 90 and f.attendance_rate == 100)) for low in bins[:-1]]
        bars = ax.bar([b + 5 for b in bins[:-1]], counts, width=9, color="#b71c1c")
        for bar, low, count in zip(bars, bins, counts):
            bar.set_gid(f"att-{low}-{count}")
        ax.set_xticks(bins)
        ax.set_xlim(0, 100)
        ax.set_xlabel(text["rate_axis"])
        ax.set_ylabel(text["sessions_axis"])
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(text["attendance_chart"])
        _save(fig, path)
        plt.close(fig)
    return path


def render_charts(report: Report, out_dir: Path, language: str = "en") -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = TEXT[language]
    return {"coverage.svg": coverage_chart(report, out_dir / "coverage.svg", text),
            "kinds.svg": kinds_chart(report, out_dir / "kinds.svg", text, language),
            "attendance.svg": attendance_chart(report, out_dir / "attendance.svg", text)}


# --- the site page ------------------------------------------------------------------------------

def report_page(report: Report, out_dir: Path, language: str = "en",
                table_quarters: int | None = None) -> tuple[str, dict[str, Path]]:
    """The report page's HTML fragment and its files (3 SVG charts, report.csv, report.json).

    The files are written into ``out_dir``; the fragment links them by bare name, so the page and
    its files must be published in one folder (e.g. /report/).
    """
    out_dir = Path(out_dir)
    files = render_charts(report, out_dir, language)
    (out_dir / "report.csv").write_text(report_csv(report), encoding="utf-8")
    (out_dir / "report.json").write_text(report_json(report), encoding="utf-8")
    files["report.csv"] = out_dir / "report.csv"
    files["report.json"] = out_dir / "report.json"
    text = TEXT[language]
    labels = Labels(language)
    rate = round(100 * report.held / report.expected) if report.expected else 0
    summary = text["summary"].format(held=report.held, expected=report.expected, rate=rate)
    # Each chart carries its own title (it is also shared on its own), so no caption repeats it.
    charts = [{"src": name, "alt": text[alt_key]} for name, alt_key in
              (("coverage.svg", "coverage_alt"), ("kinds.svg", "kinds_alt"), ("attendance.svg", "attendance_alt"))]
    head = [labels("cell"), labels("quarter"), text["held"], labels("products"), text["rate"], text["submission"],
            labels("status")]
    # On the site the table shows the latest quarters only, so the page does not grow with the years;
    # report.csv and report.json hold every row.
    shown = set(report.quarters[-table_quarters:]) if table_quarters else set(report.quarters)
    rows = []
    for row in (r for r in report.rows if r.quarter in shown):
        titles = {column.name: column.title(language) for column in report.columns}
        products = ", ".join(f"{titles.get(k, k)} {n}" for k, n in row.products.items() if n) or "–"
        statuses = ", ".join(labels(f"status.{s.strip()}") for s in row.status.split(",") if s.strip()) or "–"
        rate_text = f"{row.attendance_rate:.1f}%" if row.attendance_rate is not None else "–"
        rows.append({"cell": row.cell, "quarter": row.quarter, "submission": row.submission,
                     "cell_name": row.cell_name, "held": text["yes"] if row.held else text["no"],
                     "products": products, "rate": rate_text, "state": text["state." + row.submission],
                     "statuses": statuses, "invalid": row.invalid})
    fragment = render("report.html", language=language, summary=summary, rule=text["rule"],
                      download=text["download"], charts=charts, head=head, rows=rows,
                      invalid_label=text["invalid"])
    return fragment, files


def page_title(language: str = "en") -> str:
    return TEXT[language]["title"]


def write_report_folder(report: Report, out_dir: Path, language: str = "en") -> dict[str, Path]:
    """Everything the report page publishes, plus a standalone index.html for editors without a site build."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fragment, files = report_page(report, out_dir, language)
    document = render("report_document.html", language=language, title=TEXT[language]["title"],
                      report=fragment) + "\n"
    (out_dir / "index.html").write_text(document, encoding="utf-8")
    files["index.html"] = out_dir / "index.html"
    return files


# --- as a pipeline job --------------------------------------------------------------------------

REPORT_OUTPUTS = (*CHART_FILES, "report.csv", "report.json", "fragment.html")


def report_from_data(data: dict, columns: tuple[Column, ...] | None = None) -> Report:
    """Rebuild a Report from ``report_data`` (the JSON form): a job's params carry the figures, not the tree.
    Without ``columns`` (colours and titles), each kind column is named by the kind and drawn grey."""
    def day(text):
        return dt.date.fromisoformat(text) if text else None
    row_fields = set(Row.__dataclass_fields__)
    rows = [Row(**{**{k: v for k, v in r.items() if k in row_fields}, "sessions": tuple(r["sessions"]),
                   "submitted": day(r["submitted"]), "deadline": day(r["deadline"])}) for r in data["rows"]]
    sessions = [SessionFacts(**{**s, "date": day(s["date"]), "submitted": day(s["submitted"])})
                for s in data["sessions"]]
    period = data["period"]
    return Report(list(period["quarters"]), list(data["cells"]), rows, sessions, day(data["as_of"]),
                  period["year"], period["quarter"], {r.cell: r.cell_name for r in rows},
                  list(data.get("ledger_problems", [])),
                  columns if columns is not None else tuple(Column(k, "#757575") for k in data["totals"]["products"]))


def report_action(params, files, out_dir: Path) -> list[str]:
    """Pipeline job action: the charts, exports and page fragment from the report's figures."""
    columns = tuple(Column(name, colour, titles) for name, colour, titles in params["columns"])
    report = report_from_data(params["data"], columns)
    fragment, _ = report_page(report, Path(out_dir), params["language"], params.get("table_quarters"))
    (Path(out_dir) / "fragment.html").write_text(fragment, encoding="utf-8")
    return []


def report_job(tree: ContentTree, language: str, year: int | None = None, today: dt.date | None = None,
               kinds: Mapping[str, Kind] = REGISTRY):
    """The Job that renders the report page's files; its key changes only when the figures do."""
    from producers.jobs.pipeline import Job
    report = build_report(tree, year=year, today=today, kinds=kinds)
    import matplotlib
    return Job(name="report", kind="report", action=report_action,
               params={"data": report_data(report), "language": language, "table_quarters": 1,
                       "columns": [[c.name, c.colour, dict(c.titles)] for c in report.columns],
                       "matplotlib": matplotlib.__version__},
               files=(), outputs=REPORT_OUTPUTS)
