"""A build killed at any moment (SIGKILL) leaves the previous site whole and the cache valid."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from producers.build.site import report_path
from tests.conftest import Tree, session_md

CELL35 = [sys.executable, "-m", "producers.cli"]


def snapshot(site: Path) -> dict[str, str]:
    """Every published file and its hash, except the sitemap (it records the build time)."""
    files = {}
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.name not in ("sitemap.xml", "sitemap.xml.gz"):
            files[str(path.relative_to(site))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def build(content: Path, out: Path, cache: Path, temp: Path) -> subprocess.Popen:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TMPDIR": str(temp)}
    return subprocess.Popen(CELL35 + ["build", "--content", str(content), "--out", str(out), "--cache",
                                      str(cache / ".cache"), "-q", "-j", "2"],
                            cwd=cache, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_tree(root: Path, sessions: int) -> Tree:
    tree = Tree(root)
    for index in range(sessions):
        tree.session(f"2025-q1/ha-long-s{index:02d}", session=session_md(title=f"Session {index}",
                                                                        date=f"2025-01-{index % 28 + 1:02d}"))
    return tree


def test_killed_builds_never_break_the_site_and_the_next_build_is_clean(tmp_path, child_tmpdir):
    work = tmp_path / "work"
    work.mkdir()
    tree = make_tree(work / "content", 30)
    site = work / "site"
    assert build(tree.root, site, work, child_tmpdir).wait(timeout=300) == 0
    before = snapshot(site)
    # new content for the builds we are going to kill
    for index in range(30, 45):
        tree.session(f"2025-q2/ha-long-n{index:02d}", session=session_md(title=f"New {index}", date="2025-04-02"))
    # the site those builds would publish, built undisturbed elsewhere
    clean_work = tmp_path / "clean"
    clean_work.mkdir()
    assert build(tree.root, clean_work / "site", clean_work, child_tmpdir).wait(timeout=300) == 0
    after = snapshot(clean_work / "site")
    new_page = "sessions/2025-q2/ha-long-n44/index.html"
    # nothing published goes away; the search index's files are named by what they hold, so they change
    kept = {path for path in before if not path.startswith("search-index/")}
    assert new_page not in before and new_page in after and kept < set(after)
    published = before
    rng = random.Random(35)
    for attempt in range(8):
        process = build(tree.root, site, work, child_tmpdir)
        time.sleep(rng.uniform(0.1, 3.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        time.sleep(0.2)
        # no render worker outlives the build that started it
        orphans = subprocess.run(["pgrep", "-f", f"--cache {work / '.cache'}"], capture_output=True, text=True)
        assert orphans.stdout.strip() == "", orphans.stdout
        # whole: every file of exactly the previous site, or of exactly the new one (if the build won
        # the race), and never back; never a mix, a missing page or a half-written file
        current = snapshot(site)
        assert current == published or published == before and current == after, \
            (attempt, sorted(set(current) ^ set(published))[:5])
        report = json.loads(report_path(site).read_text())
        assert report["summary"]["sessions_published"] == len([p for p in site.glob("sessions/*/*")]), attempt
        published = current
    assert build(tree.root, site, work, child_tmpdir).wait(timeout=300) == 0
    assert snapshot(site) == after
    # killed builds left no scratch behind once a build has run after them
    assert [p.name for p in (work / ".cache" / "tmp").iterdir()] == []
    assert len([p for p in (work / ".site.d").iterdir() if not p.name.startswith(".")]) <= 2
    assert "build-report.json" not in {p.name for p in site.rglob("*")}
