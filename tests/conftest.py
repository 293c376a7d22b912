"""Shared fixtures: tiny content trees, the demo site built once, a real Chromium."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

SITE_YML = "title: Test site\nbase_url: https://example.org/\nlanguage: en\ndescription: Tests\n"
CELLS_YML = ("cells:\n"
             "- {id: ha-long, name: Chi bộ Hạ Long, committee: Quảng Ninh, area: Hạ Long, language: vi}\n"
             "- {id: varanasi, name: वाराणसी इकाई, committee: Uttar Pradesh, area: Varanasi, language: hi}\n")


def session_md(**fields) -> str:
    values = {"title": "Sanitation in our ward", "cell": "ha-long", "date": "2024-10-12", "group": "build",
              "language": "en", "attendance": "{present: 12, members: 15}", "status": "published",
              "summary": "We cleaned the canal."}
    values.update(fields)
    lines = [f"{key}: {value}" for key, value in values.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\nThe minutes.\n"


ARTICLE_MD = "---\ntype: article\ntitle: An article\n---\nThe article text.\n"


class Tree:
    """A content tree in a temp folder, written file by file."""

    def __init__(self, root: Path):
        self.root = root
        (root / "sessions").mkdir(parents=True, exist_ok=True)
        self.write("site.yml", SITE_YML)
        self.write("cells.yml", CELLS_YML)

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def session(self, folder: str = "2024-q4/ha-long-sanitation", session: str | None = None,
                products: dict[str, str] | None = None) -> Path:
        base = f"sessions/{folder}"
        self.write(f"{base}/session.md", session if session is not None else session_md())
        for name, text in (products if products is not None else {"01-article.md": ARTICLE_MD}).items():
            self.write(f"{base}/{name}", text)
        return self.root / base


def product_contexts_in(root: Path, kind: str | None = None) -> list:
    """Every product's context in a content tree that must load without errors."""
    from producers.kinds.registry import load_content
    from producers.kinds.base import product_contexts

    loaded = load_content(root)
    assert not loaded.errors, [str(p) for p in loaded.errors]
    return [ctx for ctx in product_contexts(loaded) if kind is None or ctx.record.kind == kind]


def product_context(root: Path, stem: str):
    found = [ctx for ctx in product_contexts_in(root) if ctx.record.stem == stem]
    assert found, f"no product {stem} in {root}"
    return found[0]


@pytest.fixture(scope="session", autouse=True)
def fork_server():
    """Every job process forks from one server with all the job actions imported: started by whichever
    test ran jobs first, it would make the other tests' job processes import their producers each."""
    from producers.jobs.pipeline import start_fork_server

    start_fork_server(["producers.build.site", "tests.pipeline_support"])


@pytest.fixture
def child_tmpdir() -> Iterator[Path]:
    """TMPDIR for a process a test starts and stops: what it leaves (a killed one cannot remove its
    multiprocessing pymp-* folder or its job payloads) is removed here, not left in /tmp run after
    run, and can be looked at. A short path under /tmp, not tmp_path: multiprocessing binds a Unix
    socket in it, whose path may not exceed 107 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="c35k-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "content")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Path:
    """The real demo content built once per test module (public build)."""
    from producers.build.site import BuildOptions, build_site

    work = tmp_path_factory.mktemp("demo")
    result = build_site(BuildOptions(content=REPO / "content", out=work / "site", cache_dir=work / "cache", jobs=2))
    assert result.ok, result.report["problems"]
    return work / "site"


@pytest.fixture(scope="module")
def served(request) -> Iterator[callable]:
    """Serve a folder over HTTP (with ranges) on a free loopback port: serve(path) -> base URL."""
    from producers.serve import make_server

    servers = []

    def serve(root: Path) -> str:
        port = free_port()
        server = make_server(root, "127.0.0.1", port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


# One Chromium per test module, not per session: Playwright's sync API runs an event loop in the
# thread while it is started, and code that refuses to run inside one (Django's ORM, another
# sync_playwright) would fail in whichever module came next on the same worker.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/setup")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
