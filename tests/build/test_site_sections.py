"""Site-level sections fail alone; one build at a time; `serve` never dies with a rebuild.

Every build here shares one cache (the web fonts are subset once) and runs its jobs in this process
(``jobs=1``), so a monkeypatched section step is the one that runs.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

import producers.build.feeds as feeds_module
import producers.editorial.report as report_module
import producers.build.site as site_module
import producers.build.webfonts as webfonts_module
from producers import cli
from producers.jobs.buildlock import build_lock
from producers.jobs.pipeline import Progress
from producers.serve import Preview, content_fingerprint, watch
from producers.build.site import BuildOptions, build_site, report_path
from tests import pipeline_support as actions
from tests.conftest import REPO, Tree, free_port, session_md
from tests.podcast_support import artwork

PODCAST_SITE = ("title: Sections\nbase_url: https://example.org/\nlanguage: en\nlogo: media/logo.png\n"
                "podcast:\n  title: Voices\n  author: Team\n  owner: {name: Editor, email: e@example.org}\n"
                "  description: Stories.\n  image: media/podcast.png\n")
SESSION = "sessions/2024-q4/ha-long-sanitation/"


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("shared") / "cache"


@pytest.fixture
def tree(tmp_path) -> Tree:
    tree = Tree(tmp_path / "content")
    tree.write("site.yml", PODCAST_SITE)
    tree.write("media/logo.png", (REPO / "content/media/logo.png").read_bytes())
    artwork(tree.root / "media/podcast.png")
    tree.session()
    return tree


def build(tree: Tree, out: Path, cache: Path, **options):
    return build_site(BuildOptions(content=tree.root, out=out, cache_dir=cache, jobs=1, preview=True, **options))


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "link") and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


def links(page: Path) -> list[str]:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.hrefs


def assert_rest_is_published(result) -> None:
    assert (result.out / SESSION / "index.html").is_file()
    assert "The article text." in (result.out / SESSION / "01-article/index.html").read_text(encoding="utf-8")
    assert (result.out / "search-index/index.json").is_file()


def assert_left_out(result, section: str, url: str, message: str) -> dict:
    """The section is absent from the site and from every page's links, and the report names it."""
    assert not result.ok and result.failed_sections == [section]
    assert not (result.out / url).exists()
    for page in (result.out / "index.html", result.out / SESSION / "index.html"):
        assert not [href for href in links(page) if url.rstrip("/") in href], page
    report = json.loads(report_path(result.out).read_text())
    outcome = report["sections"][section]
    assert outcome["status"] == "left out" and message in outcome["errors"][0], outcome
    assert_rest_is_published(result)
    return report


def test_every_section_is_published_when_nothing_fails(tree, cache, tmp_path):
    result = build(tree, tmp_path / "site", cache)
    assert result.ok, result.report["sections"]
    assert {name: s["status"] for name, s in result.report["sections"].items()} == {
        "fonts": "published", "logo": "published", "report": "published", "podcast": "published"}
    home = links(result.out / "index.html")
    assert "report/" in home and "podcast/" in home and "podcast/feed.xml" in " ".join(home)
    assert list((result.out / "assets/fonts").glob("*.woff2"))
    assert_rest_is_published(result)


def test_a_failing_report_job_leaves_out_the_report_only(tree, cache, tmp_path, monkeypatch):
    # a module-level stand-in: jobs run in processes of their own, which get the action by name
    monkeypatch.setattr(report_module, "report_action", actions.broken_report_chart)
    result = build(tree, tmp_path / "site", cache)
    assert_left_out(result, "report", "report/", "RuntimeError: the report's chart broke")
    assert (result.out / "podcast/feed.xml").is_file() and list((result.out / "assets/fonts").glob("*.woff2"))


def test_a_failing_feed_build_leaves_out_the_podcast_section_only(tree, cache, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("feed writer broke")

    monkeypatch.setattr(feeds_module, "build_feeds", broken)
    result = build(tree, tmp_path / "site", cache)
    assert_left_out(result, "podcast", "podcast/", "feed writer broke")
    assert "application/rss+xml" not in (result.out / "index.html").read_text(encoding="utf-8")
    assert (result.out / "report/index.html").is_file()


def test_failing_font_jobs_leave_out_the_web_fonts_only(tree, cache, tmp_path, monkeypatch):
    monkeypatch.setattr(webfonts_module, "subset_action", actions.disk_full_subsetting)
    run = CliRunner().invoke(cli.app, ["build", "--content", str(tree.root), "--out", str(tmp_path / "site"),
                                       "--cache", str(cache), "-j", "1", "-q", "--preview"])
    assert run.exit_code == 1, run.output
    assert "left out: site section fonts: web fonts: font:NotoSans-Regular.latin.woff2: OSError: disk full" \
        in run.output
    out = tmp_path / "site"
    report = json.loads(report_path(out).read_text())
    assert report["sections"]["fonts"]["status"] == "left out"
    assert not (out / "assets/fonts").exists()
    assert "@font-face" not in (out / "assets/cell35.css").read_text()
    assert (out / "report/index.html").is_file() and (out / "podcast/feed.xml").is_file()
    assert (out / SESSION / "01-article/index.html").is_file()


def test_a_broken_logo_leaves_out_the_logo_only(tree, cache, tmp_path):
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(picture, "PNG")
    tree.write("media/logo.png", picture.getvalue()[:60])      # PNG bytes (check passes), cut short
    result = build(tree, tmp_path / "site", cache)
    assert_left_out(result, "logo", "assets/logo.png", "site.yml: logo (media/logo.png): cannot be read")
    assert "logo.png" not in (result.out / "index.html").read_text(encoding="utf-8")


# --- one build at a time -------------------------------------------------------------------------

class Held(Progress):
    """Holds the first build inside its run (it has the lock then) until the second says it waits."""

    def __init__(self, inside: threading.Event, release: threading.Event):
        self.inside, self.release = inside, release

    def start(self, total_by_kind):
        self.inside.set()
        assert self.release.wait(120), "the second build never said it was waiting"


def test_two_builds_at_once_both_publish_whole_sites_and_the_second_waits(tree, cache, tmp_path):
    out = tmp_path / "site"
    inside, waiting = threading.Event(), threading.Event()
    messages: list[str] = []
    results: dict[str, object] = {}

    def first():
        results["first"] = build(tree, out, cache, progress=Held(inside, waiting))

    def heard(message):
        messages.append(message)
        waiting.set()

    def second():
        results["second"] = build(tree, out, cache, notify=heard)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert inside.wait(120)
    tree.write(f"{SESSION}01-article.md", "---\ntype: article\ntitle: An article\n---\nThe second text.\n")
    threads.append(threading.Thread(target=second))
    threads[1].start()
    for thread in threads:
        thread.join(300)
    assert results["first"].ok and results["second"].ok, results
    assert len(messages) == 1 and messages[0].startswith(f"waiting: the output {out} is in use by another "
                                                         f"cell35 build (process {os.getpid()}")
    # the second build is the published one, whole, and its report is the one beside it
    assert "The second text." in (out / SESSION / "01-article/index.html").read_text(encoding="utf-8")
    assert (out / "report/index.html").is_file() and (out / "podcast/feed.xml").is_file()
    assert json.loads(report_path(out).read_text())["built_at"] == results["second"].report["built_at"]
    builds = [p for p in (tmp_path / ".site.d").iterdir() if not p.name.startswith(".")]
    assert len(builds) == 2            # the second's, and the first's kept for readers still on it


def test_no_wait_refuses_while_another_build_runs(tree, cache, tmp_path):
    out = tmp_path / "site"
    with build_lock(out.absolute(), cache):
        run = CliRunner().invoke(cli.app, ["build", "--content", str(tree.root), "--out", str(out),
                                           "--cache", str(cache), "--no-wait", "-q"])
    assert run.exit_code == 2
    assert f"the output {out.absolute()} is in use by another cell35 build (process {os.getpid()}" in run.output
    assert "not waiting (--no-wait)" in run.output
    assert not out.exists()


def test_cli_build_waits_for_the_running_build_and_says_so(tree, cache, tmp_path):
    out = tmp_path / "site"
    lines: list[str] = []
    with build_lock(out.absolute(), cache):
        process = subprocess.Popen([sys.executable, "-m", "producers.cli", "build", "--content", str(tree.root),
                                    "--out", str(out), "--cache", str(cache), "-q", "-j", "1"],
                                   cwd=REPO, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, text=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while not any(line.startswith("waiting:") for line in lines) and time.monotonic() < deadline:
            assert process.poll() is None, lines
            time.sleep(0.2)
        assert any(line.startswith("waiting: the output") for line in lines), lines
        assert not out.exists()                       # it waited: nothing written yet
    assert process.wait(timeout=300) == 0, lines
    reader.join(10)
    assert (out / SESSION / "01-article/index.html").is_file()


# --- serve never dies ------------------------------------------------------------------------------

def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError as exc:
        return 0, str(exc)


def until(condition, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_serve_keeps_serving_and_reports_when_a_rebuild_raises(tree, cache, tmp_path, monkeypatch, capsys):
    out = tmp_path / "site"
    since = content_fingerprint(tree.root)
    assert build(tree, out, cache).ok
    reported: list[str] = []
    preview = Preview(out, "127.0.0.1", free_port(), rebuild=cli._rebuilder(tree.root, out, True, cache),
                      report=reported.append, content=tree.root, interval=0.2, since=since)
    base = preview.start()
    page = base + SESSION
    session = tree.root / SESSION / "session.md"
    try:
        assert fetch(page)[0] == 200
        calls = []

        def exploding(options):
            calls.append(options)
            raise RuntimeError("injected failure")

        monkeypatch.setattr(site_module, "build_site", exploding)
        session.write_text(session_md(title="Never published"))
        errors = []
        assert until(lambda: errors.append(capsys.readouterr().err) or "still serving" in "".join(errors)), errors
        said = "".join(errors)
        assert f"build failed, {out} left unchanged: internal error: RuntimeError: injected failure" in said
        status, text = fetch(page)
        assert status == 200 and "Sanitation in our ward" in text and "Never published" not in text
        monkeypatch.undo()
        session.write_text(session_md(title="Clean canals for all"))
        assert until(lambda: "Clean canals for all" in fetch(page)[1])
    finally:
        preview.stop()
    assert calls and reported == []


def test_the_watcher_reports_any_exception_and_keeps_watching(tmp_path):
    (tmp_path / "a.md").write_text("one")
    calls, reported = [], []
    stop = threading.Event()
    since = content_fingerprint(tmp_path)

    def rebuild():
        calls.append(len(calls))
        if len(calls) == 1:
            raise KeyError("no such thing")

    thread = threading.Thread(target=watch, args=(tmp_path, rebuild, stop, 0.1, reported.append, since),
                              daemon=True)
    thread.start()
    try:
        (tmp_path / "a.md").write_text("two, longer")     # sizes differ: mtimes may share a clock tick
        assert until(lambda: reported, 30)
        assert reported == ["rebuild failed: KeyError: 'no such thing'; still serving the last site that built"]
        (tmp_path / "a.md").write_text("three, longer still")
        assert until(lambda: len(calls) == 2, 30)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
