"""The site build on a synthetic tree: pages, safety, reporting, atomic replacement, serving."""

from __future__ import annotations

import json
import re
import socket
import struct
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from producers.cli import app
from producers.errors import ConfigError
from producers.build.site import BuildOptions, build_site
from tests.conftest import REPO, Tree, session_md

HOSTILE_SESSION = session_md(
    title="'Clean <script>alert(1)</script> canal'",
    summary="'Summary <img src=x onerror=alert(2)>'",
).replace("The minutes.", "Minutes <script>alert(3)</script> [x](javascript:alert(4))\n\n"
                          "<iframe src='https://evil.example'></iframe>\n\n"
                          "<p style='position:fixed' onclick='alert(5)'>styled</p>\n\n"
                          "<a href=\"JaVaScRiPt:alert(6)\">caps</a>")


def build(tree: Tree, out: Path, **options):
    return build_site(BuildOptions(content=tree.root, out=out, cache_dir=out.parent / "cache", **options))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One tree with good, hostile, broken and unpublished sessions; built public and preview."""
    root = tmp_path_factory.mktemp("site")
    tree = Tree(root / "content")
    tree.session("2024-q4/ha-long-sanitation")
    tree.session("2024-q4/ha-long-hostile", session=HOSTILE_SESSION,
                 products={"01-article.md": "---\ntype: article\ntitle: Art <b onmouseover=alert(7)>x</b>\n---\n"
                                            "<script>document.cookie</script>Body <svg onload=alert(8)>\n"})
    tree.session("2024-q4/ha-long-escape", products={
        "01-article.md": "---\ntype: article\ntitle: A\ncover: {file: ../../../../etc/passwd, alt: x}\n---\nBody\n"})
    tree.session("2024-q4/ha-long-yaml", session="---\ntitle: [unclosed\ncell: ha-long\n---\n")
    tree.session("2024-q3/varanasi-draft", session=session_md(cell="varanasi", date="2024-08-01", status="draft",
                                                              title="Draft session"))
    for index in range(35):   # enough for listings to paginate
        tree.session(f"2025-q1/varanasi-s{index:02d}",
                     session=session_md(cell="varanasi", date=f"2025-01-{index % 28 + 1:02d}", title=f"Session {index}"))
    public = build(tree, root / "public" / "site")
    preview = build(tree, root / "preview" / "site", preview=True)
    return tree, public, preview


def html(result, url: str) -> str:
    return (result.out / url / "index.html").read_text(encoding="utf-8")


def all_html(result) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in result.out.rglob("*.html"))


def test_good_session_and_its_product_are_published(built):
    _, public, _ = built
    page = html(public, "sessions/2024-q4/ha-long-sanitation/")
    assert "Sanitation in our ward" in page
    assert 'href="01-article/"' in page
    assert "The article text." in html(public, "sessions/2024-q4/ha-long-sanitation/01-article/")


class ActiveContent(HTMLParser):
    """Collects what a browser would execute: inline scripts, handlers, javascript: URLs, frames, styles."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.in_script = not attributes.get("src") and attributes.get("type") != "application/json"
        if tag in ("iframe", "object", "embed", "frame"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}={value}")
            if name in ("href", "src") and value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")
            if name == "style" and "position" in (value or ""):
                self.found.append(f"{tag} style={value}")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and ("alert" in data or "cookie" in data):
            self.found.append(f"script: {data[:60]}")


def test_no_script_handler_iframe_or_style_from_content_reaches_the_site(built):
    _, public, preview = built
    for result in (public, preview):
        for path in result.out.rglob("*.html"):
            parser = ActiveContent()
            parser.feed(path.read_text(encoding="utf-8"))
            assert parser.found == [], path
        # ...while the text itself is still shown, escaped
        assert "Clean &lt;script&gt;alert(1)&lt;/script&gt; canal" in html(result, "sessions/2024-q4/ha-long-hostile/")


def test_invalid_sessions_are_reported_with_file_and_line_and_left_out(built):
    _, public, _ = built
    assert not public.ok
    report = json.loads(public.report_path.read_text())
    invalid = {s["path"]: s["errors"] for s in report["sessions"] if s["status"] == "invalid"}
    assert invalid["content/sessions/2024-q4/ha-long-yaml"][0].startswith(
        "content/sessions/2024-q4/ha-long-yaml/session.md:3: invalid YAML:")
    assert invalid["content/sessions/2024-q4/ha-long-escape"] == [
        "content/sessions/2024-q4/ha-long-escape/01-article.md:4: cover.file: must stay inside the session folder "
        "('..' is not allowed), received: '../../../../etc/passwd'"]
    assert not (public.out / "sessions/2024-q4/ha-long-yaml").exists()
    assert not (public.out / "sessions/2024-q4/ha-long-escape").exists()
    assert "root:x:0:0" not in all_html(public)


def test_public_build_shows_published_only_and_preview_shows_all_with_badges(built):
    _, public, preview = built
    assert not (public.out / "sessions/2024-q3/varanasi-draft").exists()
    draft = html(preview, "sessions/2024-q3/varanasi-draft/")
    assert 'class="c35-badge c35-status-draft"' in draft
    assert "c35-badge" not in html(public, "sessions/2024-q4/ha-long-sanitation/")


def test_build_report_lists_sessions_products_and_statuses(built):
    _, public, _ = built
    assert public.report_path == public.out.parent / "site.build-report.json"
    report = json.loads(public.report_path.read_text())
    by_id = {s["id"]: s for s in report["sessions"]}
    assert by_id["2024-q4/ha-long-sanitation"]["status"] == "published"
    assert by_id["2024-q4/ha-long-sanitation"]["products"][0]["status"] == "published"
    assert by_id["2024-q3/varanasi-draft"]["status"] == "left out"
    assert report["summary"]["sessions_invalid"] == 2
    assert report["summary"]["sessions_published"] == 37


def published_files(result) -> list[Path]:
    files = [p for p in result.out.rglob("*") if p.is_file()]
    assert files
    return files


def test_public_site_holds_no_build_report_and_no_evaluation_report(built):
    """The build report lists drafts, invalid sessions' errors and local paths; the evaluation
    report lists drafts and attendance: both are for editors, beside the public site, not in it."""
    _, public, _ = built
    names = {p.name for p in published_files(public)}
    assert "build-report.json" not in names and "report.csv" not in names and "report.json" not in names
    assert not (public.out / "report").exists()
    assert "/report/" not in all_html(public) and 'href="report/"' not in html(public, "")
    for path in published_files(public):          # no trace of the draft or of the build machine
        data = path.read_bytes()
        assert b"varanasi-draft" not in data and b"Draft session" not in data, path
        assert str(public.out.parent.parent).encode() not in data, path
    beside = json.loads(public.report_path.read_text())
    assert "2024-q3/varanasi-draft" in {s["id"] for s in beside["sessions"]}
    assert beside["sections"]["report"] == {"status": "off", "errors": []}


def test_preview_site_has_the_evaluation_report_and_the_build_report(built):
    _, _, preview = built
    report_page = html(preview, "report/")
    assert "coverage.svg" in report_page
    for name in ("report.csv", "report.json", "coverage.svg", "kinds.svg", "attendance.svg"):
        assert (preview.out / "report" / name).is_file(), name
    rows = json.loads((preview.out / "report/report.json").read_text())["rows"]
    assert any(row["cell"] == "varanasi" and "draft" in row["status"] for row in rows)
    assert 'href="report/"' in html(preview, "") or 'href="./report/"' in html(preview, "")
    inside = json.loads((preview.out / "build-report.json").read_text())
    assert inside == json.loads(preview.report_path.read_text())
    assert inside["preview"] is True and inside["sections"]["report"]["status"] == "published"


@pytest.mark.browser
def test_report_page_in_the_preview_shows_its_charts(built, served, page):
    _, _, preview = built
    page.goto(served(preview.out) + "report/", wait_until="load")
    images = page.evaluate("[...document.querySelectorAll('article img')].map(i => [i.getAttribute('src'), "
                           "i.naturalWidth, i.alt])")
    assert [src for src, _, _ in images] == ["coverage.svg", "kinds.svg", "attendance.svg"]
    assert all(width > 200 and alt for _, width, alt in images), images


def test_listings_paginate_so_no_page_grows_with_the_site(built):
    _, public, _ = built
    first = html(public, "cells/varanasi/")
    assert len(re.findall(r'href="../../sessions/', first)) == 30
    second = html(public, "cells/varanasi/page/2/")
    assert len(re.findall(r'href="../../../../sessions/', second)) == 5
    assert 'href="../../">' in second or 'href="../../"' in second


def test_navigation_has_only_the_top_level_sections(built):
    _, public, _ = built
    page = html(public, "sessions/2025-q1/varanasi-s00/")
    tabs = re.findall(r'class="md-tabs__link', page)
    assert len(tabs) == 6      # home, quarters, cells, groups, kinds, search (the report is for editors)
    assert "Session 17" not in page.split('<div class="md-content"')[0]


def test_site_language_and_no_google_fonts(built):
    _, public, _ = built
    home = html(public, "")
    assert '<html lang="en"' in home
    assert "fonts.googleapis" not in all_html(public)
    assert (public.out / "assets/fonts/NotoSansDevanagari-Regular.devanagari.woff2").is_file()
    # cell35's sharded index replaces the theme's whole-site index
    assert not (public.out / "search/search_index.json").exists()
    assert (public.out / "search-index/index.json").is_file()


def test_generated_labels_exist_in_every_language():
    from producers.web.i18n import missing_labels
    assert missing_labels() == {}


def test_vietnamese_site_labels_and_pages_in_their_content_language(tmp_path):
    """Listings speak the site's language; a session's or product's page speaks its content's."""
    tree = Tree(tmp_path / "content")
    tree.write("site.yml", "title: Trang\nbase_url: https://example.org/\nlanguage: vi\n")
    tree.session()                                   # an English session with an English article
    tree.session("2024-q4/varanasi-ghats", session=session_md(cell="varanasi", language="hi", title="घाट"),
                 products={"01-article.md": "---\ntype: article\ntitle: लेख\nlanguage: hi\n---\nपाठ\n"})
    result = build(tree, tmp_path / "site")
    home = html(result, "")
    assert '<html lang="vi"' in home and "Sinh hoạt mới nhất" in home
    assert "<strong>Chi bộ:</strong>" not in home and "Chi bộ" in html(result, "cells/")
    english = html(result, "sessions/2024-q4/ha-long-sanitation/")
    assert "<strong>Attendance:</strong> 12 of 15 members present (80%)" in english and "Tham dự" not in english
    assert "<strong>Kind:</strong>" in html(result, "sessions/2024-q4/ha-long-sanitation/01-article/")
    hindi = html(result, "sessions/2024-q4/varanasi-ghats/")
    assert "<strong>उपस्थिति:</strong>" in hindi and "<strong>इकाई:</strong>" in hindi and "Tham dự" not in hindi
    assert "<strong>प्रकार:</strong>" in html(result, "sessions/2024-q4/varanasi-ghats/01-article/")


def test_failed_build_leaves_the_previous_site_whole(tmp_path):
    tree = Tree(tmp_path / "content")
    tree.session()
    first = build(tree, tmp_path / "site")
    before = sorted(str(p.relative_to(first.out)) for p in first.out.rglob("*"))
    tree.write("site.yml", "title: [broken\n")
    with pytest.raises(ConfigError):
        build(tree, tmp_path / "site")
    after = sorted(str(p.relative_to(first.out)) for p in (tmp_path / "site").rglob("*"))
    assert after == before and before


def test_rebuild_replaces_the_site_and_keeps_no_stale_pages(tmp_path):
    tree = Tree(tmp_path / "content")
    tree.session()
    tree.session("2024-q4/ha-long-second")
    build(tree, tmp_path / "site")
    assert (tmp_path / "site/sessions/2024-q4/ha-long-second/index.html").is_file()
    import shutil
    shutil.rmtree(tree.root / "sessions/2024-q4/ha-long-second")
    build(tree, tmp_path / "site")
    assert not (tmp_path / "site/sessions/2024-q4/ha-long-second").exists()
    assert (tmp_path / "site").is_symlink()


def test_cli_build_exit_status_is_nonzero_when_anything_was_invalid(tmp_path, monkeypatch):
    tree = Tree(tmp_path / "content")
    tree.session()
    monkeypatch.chdir(REPO)
    runner = CliRunner()
    ok = runner.invoke(app, ["build", "--content", str(tree.root), "--out", str(tmp_path / "site"), "-q", "-j", "1"])
    assert ok.exit_code == 0, ok.output
    tree.session("2024-q4/ha-long-bad", session=session_md(group="nope"))
    bad = runner.invoke(app, ["build", "--content", str(tree.root), "--out", str(tmp_path / "site"), "-q", "-j", "1"])
    assert bad.exit_code == 1
    assert "content/sessions/2024-q4/ha-long-bad/session.md:5: group: Expected one of: (build, fight)" in bad.output
    assert (tmp_path / "site/sessions/2024-q4/ha-long-sanitation/index.html").is_file()


def test_server_answers_head_and_byte_ranges(tmp_path, served):
    (tmp_path / "media.bin").write_bytes(bytes(range(256)) * 4)
    base = served(tmp_path)
    head = urllib.request.urlopen(urllib.request.Request(base + "media.bin", method="HEAD"))
    assert head.status == 200 and head.headers["Content-Length"] == "1024"
    assert head.headers["Accept-Ranges"] == "bytes"
    ranged = urllib.request.urlopen(urllib.request.Request(base + "media.bin", headers={"Range": "bytes=10-19"}))
    assert ranged.status == 206
    assert ranged.headers["Content-Range"] == "bytes 10-19/1024"
    assert ranged.read() == bytes(range(10, 20))
    suffix = urllib.request.urlopen(urllib.request.Request(base + "media.bin", headers={"Range": "bytes=-4"}))
    assert suffix.read() == bytes(range(252, 256))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(base + "media.bin", headers={"Range": "bytes=5000-"}))
    assert refused.value.code == 416


def test_a_viewer_leaving_mid_file_is_not_an_error(tmp_path, served, capfd):
    (tmp_path / "video.mp4").write_bytes(bytes(32 * 1024 * 1024))      # more than the socket buffers
    base = urllib.parse.urlparse(served(tmp_path))
    for _ in range(3):
        with socket.create_connection((base.hostname, base.port)) as viewer:
            viewer.sendall(b"GET /video.mp4 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert viewer.recv(4096).startswith(b"HTTP/1.1 200")
            viewer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # reset, as a tab closes
    time.sleep(1)
    assert urllib.request.urlopen(base.geturl() + "video.mp4", timeout=30).read(16) == bytes(16)   # still serving
    assert "Traceback" not in capfd.readouterr().err


def test_server_answers_a_missing_page_with_the_sites_404_page(tmp_path, served):
    base = served(tmp_path)
    with pytest.raises(urllib.error.HTTPError) as bare:           # a folder that is not a site: the stdlib's
        urllib.request.urlopen(base + "nowhere/")
    assert bare.value.code == 404
    (tmp_path / "404.html").write_text('<html lang="vi"><p lang="hi">पृष्ठ नहीं मिला</p></html>', encoding="utf-8")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base + "sessions/2024-q4/gone/")
    assert missing.value.code == 404
    assert missing.value.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "पृष्ठ नहीं मिला" in missing.value.read().decode("utf-8")
    head = urllib.request.Request(base + "gone.png", method="HEAD")
    with pytest.raises(urllib.error.HTTPError) as headed:
        urllib.request.urlopen(head)
    assert headed.value.code == 404 and int(headed.value.headers["Content-Length"]) > 0


def test_new_session_scaffold_passes_the_checker(tree):
    from producers.kinds.registry import load_content
    result = CliRunner().invoke(app, ["new", "session", "--content", str(tree.root), "--cell", "ha-long",
                                      "--title", "Đám cưới văn minh", "--date", "2025-02-03", "--group", "build",
                                      "--members", "20", "--present", "18", "--summary", "Tóm tắt.",
                                      "--kinds", "slides,photo-series,podcast"])
    assert result.exit_code == 0, result.output
    folder = tree.root / "sessions/2025-q1/ha-long-dam-cuoi-van-minh"
    assert sorted(p.name for p in folder.iterdir()) == ["01-slides.md", "02-photo-series.md", "03-podcast.md",
                                                        "media", "session.md"]
    loaded = load_content(tree.root)
    assert loaded.problems == [] and loaded.sessions[0].session.language == "vi"


def test_new_session_refuses_an_unknown_kind(tree):
    result = CliRunner().invoke(app, ["new", "session", "--content", str(tree.root), "--cell", "ha-long",
                                      "--title", "T", "--date", "2025-02-03", "--group", "build", "--members", "20",
                                      "--present", "18", "--summary", "S", "--kinds", "vidoe"])
    assert result.exit_code == 1
    assert "choose 1 to 3 kinds of: (slides, article, social-post, video, podcast, photo-series), received: vidoe" \
        in result.output


def html_snapshot(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_editing_one_product_renders_only_its_pages_and_equals_a_clean_build(tmp_path):
    tree = Tree(tmp_path / "content")
    for index in range(12):
        tree.session(f"2025-q1/ha-long-s{index:02d}", session=session_md(title=f"Session {index}",
                                                                        date=f"2025-01-{index + 1:02d}"))
    first = build(tree, tmp_path / "a" / "site")
    assert first.report["rendered"]["pages_rendered"] == first.report["rendered"]["pages"]
    noop = build(tree, tmp_path / "a" / "site")
    assert noop.report["rendered"]["status"] == "cached"
    assert noop.report["summary"]["jobs"]["rendered"] == 0
    article = tree.root / "sessions/2025-q1/ha-long-s03/01-article.md"
    article.write_text(article.read_text() + "\nAn edited sentence.\n")
    edited = build(tree, tmp_path / "a" / "site")
    # the article's page and the few nav pages, not the other sessions' pages
    assert edited.report["rendered"]["pages_rendered"] <= 8
    assert "An edited sentence." in (edited.out / "sessions/2025-q1/ha-long-s03/01-article/index.html").read_text()
    clean = build(tree, tmp_path / "b" / "site")
    assert html_snapshot(edited.out) == html_snapshot(clean.out)
    # deleting a session removes its pages, still identical to a clean build
    import shutil
    shutil.rmtree(tree.root / "sessions/2025-q1/ha-long-s05")
    removed = build(tree, tmp_path / "a" / "site")
    assert not (removed.out / "sessions/2025-q1/ha-long-s05").exists()
    assert html_snapshot(removed.out) == html_snapshot(build(tree, tmp_path / "c" / "site").out)


def test_serve_builds_serves_and_rebuilds_when_content_changes(tmp_path, child_tmpdir):
    import os
    import subprocess
    import sys
    import threading
    import time

    from tests.conftest import free_port

    tree = Tree(tmp_path / "content")
    tree.session()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "producers.cli", "serve", "--content", str(tree.root), "--out",
                               str(tmp_path / "site"), "--port", str(port)], cwd=REPO,
                              env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TMPDIR": str(child_tmpdir)},
                              text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    said: list[str] = []
    threading.Thread(target=lambda: said.extend(server.stderr), daemon=True).start()
    url = f"http://127.0.0.1:{port}/sessions/2024-q4/ha-long-sanitation/"

    def page_text() -> str:
        try:
            return urllib.request.urlopen(url, timeout=5).read().decode()
        except OSError:
            return ""

    def wait_for(condition) -> bool:
        deadline = time.monotonic() + 180    # a cold build (fonts, cards) on a loaded 2-core machine
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.5)
        return False

    try:
        assert wait_for(lambda: "Sanitation in our ward" in page_text())
        session = tree.root / "sessions/2024-q4/ha-long-sanitation/session.md"
        session.write_text(session.read_text().replace("Sanitation in our ward", "Clean canals for all"))
        assert wait_for(lambda: "Clean canals for all" in page_text())
        # a rebuild that fails leaves the server serving the last site that built, and says so
        site_yml = tree.root / "site.yml"
        good = site_yml.read_text()
        assert not [line for line in said if "failed" in line or "still serving" in line], "".join(said)
        before = len(said)
        site_yml.write_text("title: [broken\n")
        assert wait_for(lambda: any("still serving the last site that built" in line for line in said[before:])), \
            "".join(said)
        assert any(line.startswith("build failed") and "site.yml" in line for line in said[before:]), "".join(said)
        assert "Clean canals for all" in page_text()
        site_yml.write_text(good.replace("Test site", "Fixed site"))
        assert wait_for(lambda: "Fixed site" in page_text())
    finally:
        server.terminate()
        stopped = server.wait(timeout=90)
    # SIGTERM (systemd's, docker's stop) ends it as Ctrl-C does: through its exit handlers, leaving
    # no temporary folder behind
    assert stopped == 0, said
    assert sorted(p.name for p in child_tmpdir.iterdir()) == []
