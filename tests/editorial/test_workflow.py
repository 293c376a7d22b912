"""Review queue and status changes: the session file is edited in place, history records who and when."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing

import pytest
from typer.testing import CliRunner

from editorial_support import product_text, session_text, write_session, write_site
from producers.content import ledger
from producers.editorial import workflow
from producers.editorial_cli import editorial_app
from producers.errors import ContentError
from producers.kinds.registry import load_content
from producers.editorial.workflow import WorkflowError

runner = CliRunner()
SUBMITTED_HISTORY = "history:\n  - action: submitted\n    by: ha-long\n    at: 2024-11-03T10:00:00Z\n"


@pytest.fixture
def content(tmp_path):
    return write_site(tmp_path / "content")


def test_approve_changes_only_status_and_history(content):
    folder = write_session(content, "2024-q4", "ha-long-sanitation", "ha-long", "2024-11-02", status="submitted",
                           comment="# written by the cell, keep me\n", history=SUBMITTED_HISTORY)
    before = (folder / "session.md").read_text(encoding="utf-8").split("\n")
    workflow.approve(content, "2024-q4/ha-long-sanitation", by="Anna")
    after = (folder / "session.md").read_text(encoding="utf-8").split("\n")
    changed = [line for line in after if line not in before]
    assert changed[0] == "status: approved"
    assert changed[1:4] == ["  - action: approved", "    by: Anna", changed[3]]
    assert changed[3].startswith("    at: '20")
    assert len(changed) == 4
    # every line the cell wrote is still there, in order (comment, earlier history, body)
    assert [line for line in after if line in before] == [line for line in before if line != "status: submitted"]
    session = load_content(content).sessions[0].session
    assert session.status == "approved"
    assert [(h.action, h.by) for h in session.history] == [("submitted", "ha-long"), ("approved", "Anna")]
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_reject_records_reason_and_editor_from_environment(content, monkeypatch):
    write_session(content, "2024-q4", "ha-long-sanitation", "ha-long", "2024-11-02", status="submitted")
    monkeypatch.setenv("CELL35_EDITOR", "Bình")
    workflow.reject(content, "ha-long-sanitation", reason="Ảnh bìa bị mờ; gửi lại ảnh rõ hơn")
    session = load_content(content).sessions[0].session
    assert session.status == "rejected"
    assert session.history[-1].by == "Bình"
    assert session.history[-1].reason == "Ảnh bìa bị mờ; gửi lại ảnh rõ hơn"
    assert (session.history[-1].at - dt.datetime.now(dt.timezone.utc)).total_seconds() < 60


def test_reject_needs_a_reason(content):
    write_session(content, "2024-q4", "ha-long-sanitation", "ha-long", "2024-11-02", status="submitted")
    with pytest.raises(WorkflowError, match=r'^a rejection needs a reason the cell can act on: --reason "..."$'):
        workflow.reject(content, "ha-long-sanitation", reason="  ")


def test_publish_takes_only_approved_sessions(content):
    write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="approved")
    write_session(content, "2024-q4", "riverside-b", "riverside", "2024-11-05", status="submitted")
    done, problems = workflow.publish(content, by="Anna")
    assert [f.name for f in done] == ["ha-long-a"] and problems == []
    statuses = {s.slug: s.session.status for s in load_content(content).sessions}
    assert statuses == {"ha-long-a": "published", "riverside-b": "submitted"}


def test_transition_refused_from_wrong_status(content):
    write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="published")
    with pytest.raises(WorkflowError) as caught:
        workflow.approve(content, "ha-long-a", by="Anna")
    assert str(caught.value) == ("cannot approve 2024-q4/ha-long-a: its status is 'published'; only a session "
                                 "that is (draft, submitted) can be approved")


def test_invalid_session_cannot_be_approved_but_can_be_rejected(content):
    folder = write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted",
                           products={"01-article.md": product_text(extra="cover: {file: media/missing.jpg, alt: x}\n")})
    original = (folder / "session.md").read_bytes()
    with pytest.raises(ContentError, match="file not found: 'media/missing.jpg'"):
        workflow.approve(content, "ha-long-a", by="Anna")
    assert (folder / "session.md").read_bytes() == original
    workflow.reject(content, "ha-long-a", reason="the cover photo is missing", by="Anna")
    assert "status: rejected" in (folder / "session.md").read_text(encoding="utf-8")


def test_crlf_file_keeps_its_line_endings(content):
    folder = write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted")
    path = folder / "session.md"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    workflow.approve(content, "ha-long-a", by="Anna")
    raw = path.read_bytes()
    assert b"status: approved\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")


def test_flow_style_front_matter_is_rewritten_valid(content):
    folder = content / "sessions" / "2024-q4" / "ha-long-a"
    folder.mkdir(parents=True)
    (folder / "session.md").write_text(
        "---\n{title: T, cell: ha-long, date: 2024-11-02, group: build, language: vi, "
        "attendance: {present: 1, members: 2}, status: submitted, summary: S}\n---\nBody\n", encoding="utf-8")
    (folder / "01-article.md").write_text(product_text(), encoding="utf-8")
    workflow.approve(content, "ha-long-a", by="Anna")
    session = load_content(content).sessions[0]
    assert session.session.status == "approved" and session.body.strip() == "Body"


def test_review_queue_ages_come_from_the_system_record_not_the_front_matter(content):
    forged = "history:\n- action: submitted\n  by: x\n  at: 2020-01-01T00:00:00Z\n"
    received = {"2024-q4/riverside-b": "2025-01-20", "2024-q4/ha-long-a": "2025-01-20",
                "2024-q4/ha-long-c": "2025-01-02", "2024-q3/varanasi-d": "2025-01-20"}
    for session, day in received.items():
        quarter, folder = session.split("/")
        cell = folder.rsplit("-", 1)[0]
        write_session(content, quarter, folder, cell, f"{quarter[:4]}-{int(quarter[-1]) * 3:02d}-02",
                      status="submitted", history=forged)
        ledger.append(content, ledger.Step(at=dt.datetime.fromisoformat(day + "T00:00:00+00:00"), action="submitted",
                                           by="Editor", session=session, cell=cell))
    write_session(content, "2024-q4", "varanasi-e", "varanasi", "2024-11-02", status="approved")
    today = dt.datetime(2025, 2, 1, tzinfo=dt.timezone.utc)
    queue = workflow.review_queue(content, today=today)
    assert [(i.id, i.age_days) for i in queue] == [
        ("2024-q3/varanasi-d", 12), ("2024-q4/ha-long-c", 30), ("2024-q4/ha-long-a", 12), ("2024-q4/riverside-b", 12)]
    assert len(workflow.review_queue(content, statuses=None, today=today)) == 5


def test_every_editorial_step_is_in_the_ledger(content):
    write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted")
    rev = content / "revisions" / "2024-q4" / "ha-long-a" / "rev-2"
    rev.mkdir(parents=True)
    (rev / "session.md").write_text(session_text("ha-long", "2024-11-02", title="Second", status="submitted"),
                                    encoding="utf-8")
    (rev / "01-article.md").write_text(product_text(), encoding="utf-8")
    workflow.approve(content, "2024-q4/ha-long-a", by="Anna", revision=2)
    workflow.publish(content, by="Bình")
    steps, problems = ledger.read(content)
    assert problems == []
    assert [(s.action, s.by, s.session, s.revision, s.cell) for s in steps] == [
        ("revision", "Anna", "2024-q4/ha-long-a", 3, "ha-long"),
        ("approved", "Anna", "2024-q4/ha-long-a", None, "ha-long"),
        ("published", "Bình", "2024-q4/ha-long-a", None, "ha-long")]
    # the ledger and the front matter tell the same story
    history = load_content(content).sessions[0].session.history
    assert [(h.action, h.by, h.at) for h in history] == [(s.action, s.by, s.at) for s in steps[1:]]


def test_drop_sender_fields_keeps_every_other_line():
    text = ("---\ntitle: A\nstatus: published\nhistory:\n  - action: approved\n    by: chief\n"
            "    at: 2024-10-01T00:00:00Z\n# a note\nsummary: S\n---\nBody\n")
    dropped_text, dropped = workflow.drop_sender_fields(text, "session.md")
    assert dropped == {"status": "published",
                       "history": [{"action": "approved", "by": "chief", "at": "2024-10-01T00:00:00Z"}]}
    assert dropped_text == "---\ntitle: A\n# a note\nsummary: S\n---\nBody\n"
    kept, _ = workflow.drop_sender_fields(text, "session.md", keep_lines=True)
    assert kept.split("\n").index("summary: S") == text.split("\n").index("summary: S")
    flow, dropped = workflow.drop_sender_fields("---\n{title: A, status: approved}\n---\n", "session.md")
    assert flow == "---\ntitle: A\n---\n" and dropped == {"status": "approved"}
    assert workflow.drop_sender_fields("---\ntitle: A\n---\n", "session.md") == ("---\ntitle: A\n---\n", {})


def test_choosing_a_revision_keeps_every_version(content):
    live = write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted", title="First")
    rev = content / "revisions" / "2024-q4" / "ha-long-a" / "rev-2"
    rev.mkdir(parents=True)
    (rev / "session.md").write_text(session_text("ha-long", "2024-11-02", title="Second", status="submitted"),
                                    encoding="utf-8")
    (rev / "01-article.md").write_text(product_text(), encoding="utf-8")
    queue = workflow.review_queue(content)
    assert [(i.id, i.revisions) for i in queue] == [("2024-q4/ha-long-a", (2,)), ("2024-q4/ha-long-a@rev-2", ())]
    workflow.approve(content, "2024-q4/ha-long-a", by="Anna", revision=2)
    tree = load_content(content)
    assert [(s.slug, s.session.title, s.session.status) for s in tree.sessions] == [("ha-long-a", "Second", "approved")]
    kept = content / "revisions" / "2024-q4" / "ha-long-a" / "rev-3" / "session.md"
    assert "title: First" in kept.read_text(encoding="utf-8")
    assert "reason: replaced by revision 2; kept as rev-3" in kept.read_text(encoding="utf-8")
    assert not (content / "revisions" / "2024-q4" / "ha-long-a" / "rev-2").exists()
    assert live.is_dir()


def test_unknown_session_names_the_way_to_find_it(content):
    with pytest.raises(WorkflowError, match=r"no session 'nope' under .*; name it as QUARTER/FOLDER"):
        workflow.approve(content, "nope", by="Anna")


# --- CLI ------------------------------------------------------------------------------------------

def test_cli_review_approve_reject_publish(content):
    write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted", title="Vệ sinh")
    write_session(content, "2024-q4", "riverside-b", "riverside", "2024-11-05", status="submitted")
    result = runner.invoke(editorial_app, ["review", "--content", str(content)])
    assert result.exit_code == 0, result.output
    assert "2024-q4/ha-long-a" in result.output and "Vệ sinh" in result.output
    result = runner.invoke(editorial_app, ["review", "--content", str(content), "--json"])
    assert [item["id"] for item in json.loads(result.output)] == ["2024-q4/ha-long-a", "2024-q4/riverside-b"]
    result = runner.invoke(editorial_app, ["approve", "2024-q4/ha-long-a", "--content", str(content), "--by", "Anna"])
    assert result.exit_code == 0, result.output
    assert "approved 2024-q4/ha-long-a" in result.output
    result = runner.invoke(editorial_app, ["reject", "riverside-b", "--content", str(content)])
    assert result.exit_code != 0
    result = runner.invoke(editorial_app, ["reject", "riverside-b", "--content", str(content), "--reason", "too short"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(editorial_app, ["publish", "--content", str(content), "--by", "Anna"])
    assert result.exit_code == 0 and "published 2024-q4/ha-long-a" in result.output
    statuses = {s.slug: s.session.status for s in load_content(content).sessions}
    assert statuses == {"ha-long-a": "published", "riverside-b": "rejected"}
    result = runner.invoke(editorial_app, ["approve", "ha-long-a", "--content", str(content)])
    assert result.exit_code == 1 and "its status is 'published'" in result.output


def test_every_command_has_help():
    for command in ("review", "approve", "reject", "publish", "intake", "report", "export", "bundle"):
        result = runner.invoke(editorial_app, [command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "--content" in result.output or command == "bundle"


def test_an_invalid_revision_is_not_swapped_in(content):
    live = write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted", title="First")
    rev = content / "revisions" / "2024-q4" / "ha-long-a" / "rev-2"
    rev.mkdir(parents=True)
    (rev / "session.md").write_text(session_text("ha-long", "2025-01-02", title="Second", status="submitted"),
                                    encoding="utf-8")
    (rev / "01-article.md").write_text(product_text(), encoding="utf-8")
    with pytest.raises(ContentError, match="date 2025-01-02 is in 2025-q1, but the session is filed under 2024-q4/"):
        workflow.approve(content, "2024-q4/ha-long-a", by="Anna", revision=2)
    assert "title: First" in (live / "session.md").read_text(encoding="utf-8")
    assert "title: Second" in (rev / "session.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in rev.parent.iterdir()) == ["rev-2"]


def test_revision_ids_from_the_queue_work_in_approve_and_reject(content):
    write_session(content, "2024-q4", "ha-long-a", "ha-long", "2024-11-02", status="submitted", title="First")
    base = content / "revisions" / "2024-q4" / "ha-long-a"
    for number, title in ((2, "Second"), (3, "Third")):
        (base / f"rev-{number}").mkdir(parents=True)
        (base / f"rev-{number}" / "session.md").write_text(
            session_text("ha-long", "2024-11-02", title=title, status="submitted"), encoding="utf-8")
        (base / f"rev-{number}" / "01-article.md").write_text(product_text(), encoding="utf-8")
    result = runner.invoke(editorial_app, ["reject", "2024-q4/ha-long-a@rev-2", "--content", str(content),
                                           "--reason", "photos missing", "--by", "Anna"])
    assert result.exit_code == 0, result.output
    assert "status: rejected" in (base / "rev-2" / "session.md").read_text(encoding="utf-8")
    assert [i.id for i in workflow.review_queue(content)] == ["2024-q4/ha-long-a", "2024-q4/ha-long-a@rev-3"]
    result = runner.invoke(editorial_app, ["approve", "2024-q4/ha-long-a@rev-3", "--content", str(content),
                                           "--by", "Anna"])
    assert result.exit_code == 0, result.output
    assert [(s.session.title, s.session.status) for s in load_content(content).sessions] == [("Third", "approved")]
    assert sorted(p.name for p in base.iterdir()) == ["rev-2", "rev-4"]


def _step(action: str, content, start) -> str:
    start.wait(10)
    try:
        if action == "approved":
            workflow.approve(content, "2024-q4/ha-long-sanitation", by="Anna")
        else:
            workflow.reject(content, "2024-q4/ha-long-sanitation", reason="blurred cover", by="Bình")
        return action
    except WorkflowError:
        return "refused"


def test_two_editors_at_once_lose_no_step(content):
    """One editor approves while another sends back the same session: each step that was taken is in the
    session's history and in the ledger, and the status is the last of them."""
    write_session(content, "2024-q4", "ha-long-sanitation", "ha-long", "2024-11-02", status="submitted",
                  history=SUBMITTED_HISTORY)
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager, context.Pool(2) as pool:
        start = manager.Event()
        pending = [pool.apply_async(_step, (action, content, start)) for action in ("approved", "rejected")]
        start.set()
        taken = [result.get(30) for result in pending]
    assert "rejected" in taken            # a send-back is allowed from both submitted and approved
    session = load_content(content).sessions[0].session
    history = [(entry.action, entry.by) for entry in session.history[1:]]
    recorded = [(step.action, step.by) for step in ledger.read(content)[0]]
    assert history == recorded
    assert sorted(action for action, _ in history) == sorted(a for a in taken if a != "refused")
    assert session.status == history[-1][0]
