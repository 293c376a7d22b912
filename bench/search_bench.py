"""Search quality and cost: recall@10 of cell35's index and of Pagefind on the same pages, in one run.

    python bench/search_bench.py [--sessions 5000] [--work /tmp/search-bench] [--pagefind DIR]

Generates a site with planted phrases (``bench/generate.py --planted``: each phrase once, deep in
the article of three sessions; each of its words alone, repeated, in many other articles), makes
the pages' search documents as the build does (``search.document``) without mkdocs, and indexes
them twice: cell35's index (``search.index_files``), and Pagefind over one HTML page per document
holding the same title and text. Each query of QUERIES runs in Chromium through each one's own
JavaScript (``assets/search.js``; Pagefind's ``pagefind.js``), each in a fresh browser context so
nothing is cached, and the bench prints, per query, whether the expected pages are in the top 10
and the bytes the query read; then both recalls and their ratio.

Pagefind comes from npm, pinned, into a folder that is not committed:
``npm install --prefix bench/.node pagefind@1.4.0`` (``--pagefind`` names that folder).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import PLANTED_COPIES, generate, unique_word  # noqa: E402
from producers.build.pages import front_matter  # noqa: E402
from producers.build.render import Page  # noqa: E402
from producers.build.search import SearchDoc, document, index_files  # noqa: E402
from producers.web.templates import fragment  # noqa: E402

PAGEFIND_VERSION = "1.4.0"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# (query, what the top results must be: a pattern over result URLs, and how many pages match it)
QUERIES = [
    ("lũ quét", r"-lu-quet-\d/01-article/$", PLANTED_COPIES),
    ("lu quet", r"-lu-quet-\d/01-article/$", PLANTED_COPIES),
    ("cảnh báo lũ quét", r"-lu-quet-\d/01-article/$", PLANTED_COPIES),
    ("sạt lở đất", r"-sat-lo-\d/01-article/$", PLANTED_COPIES),
    ("sat lo dat", r"-sat-lo-\d/01-article/$", PLANTED_COPIES),
    ("बाढ़ राहत", r"-badh-rahat-\d/01-article/$", PLANTED_COPIES),
    ("बाढ़ राहत शिविर", r"-badh-rahat-\d/01-article/$", PLANTED_COPIES),
    ("landslide warning", r"-landslide-\d/01-article/$", PLANTED_COPIES),
    ("landslide warning drill", r"-landslide-\d/01-article/$", PLANTED_COPIES),
    (unique_word(123), r"-topic-00123/$", 1),          # a made-up place name: one session's summary
]
# queries of common words only: no written expectation, measured for bytes (the costly case)
COST_QUERIES = ["thành phố thông minh", "thanh pho", "ठगी से बचाव", "smart city", "fraud"]

SEARCH_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Search</title></head><body>
<form id="c35-search" role="search" data-index="../search-index/" data-root="../"
 data-none="Nothing found." data-more="More results" data-count="{n} pages found">
<input type="search" name="q" autocomplete="off">
<p class="c35-search-status" aria-live="polite"></p>
<ol class="c35-search-results"></ol>
<button type="button" class="c35-search-more" hidden></button>
</form>
<script src="../assets/search.js"></script>
</body></html>
"""
PAGEFIND_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main data-pagefind-body><h1>{{ title }}</h1><p>{{ text }}</p></main></body></html>
"""
PAGEFIND_SEARCH = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Search</title></head>
<body></body></html>
"""


def _front(text: str) -> tuple[dict, str]:
    _, head, body = text.split("---\n", 2)
    return yaml.load(head, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), body


def generated_pages(content: Path) -> list[Page]:
    """A session page and an article page per generated session, as pages.py words them for search:
    the title, the summary and the minutes; the article's title and text."""
    pages = []
    for session_file in sorted(content.glob("sessions/*/*/session.md")):
        folder = session_file.parent
        url = f"sessions/{folder.parent.name}/{folder.name}/"
        meta, body = _front(session_file.read_text(encoding="utf-8"))
        pages.append(Page(url + "index.md", front_matter(meta["title"], meta["summary"], extra={"search": True})
                          + f"# {meta['title']}\n\n> {meta['summary']}\n\n{body}"))
        for product in sorted(folder.glob("*.md")):
            if product.name == "session.md":
                continue
            meta, body = _front(product.read_text(encoding="utf-8"))
            pages.append(Page(f"{url}{product.stem}/index.md", front_matter(meta["title"], extra={"search": True})
                              + f"# {meta['title']}\n\n{body}"))
    return pages


def write_index(docs: list[SearchDoc], root: Path) -> None:
    """cell35's index, search.js and a search page, as a built site lays them out."""
    for relative, data in index_files(docs).items():
        path = root / "search-index" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "assets").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "producers/build/assets/search.js", root / "assets/search.js")
    (root / "search").mkdir(parents=True, exist_ok=True)
    (root / "search/index.html").write_text(SEARCH_PAGE, encoding="utf-8")


def write_pagefind(docs: list[SearchDoc], root: Path, node: Path) -> float:
    """One HTML page per document (same title, same text) and Pagefind's index of them; its time."""
    for doc in docs:
        path = root / doc.url / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fragment(PAGEFIND_PAGE, title=doc.title, text=" ".join(doc.groups)), encoding="utf-8")
    (root / "search.html").write_text(PAGEFIND_SEARCH, encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([str(node / "node_modules/.bin/pagefind"), "--site", str(root)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def install_pagefind(node: Path) -> None:
    if not (node / "node_modules/.bin/pagefind").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(node),
                        f"pagefind@{PAGEFIND_VERSION}"], check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def serving(root: Path):
    from producers.serve import make_server

    server = make_server(root, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _resources(page, part: str) -> list[tuple[str, int]]:
    return [(entry["name"], entry["size"]) for entry in page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => ({name: e.name, size: e.encodedBodySize}))")
        if part in entry["name"]]


def query_ours(browser, base: str, query: str, more: int = 0) -> dict:
    """search.js's results (site-relative URLs, best first) and the index files it read."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base + "search/?q=" + urllib.parse.quote(query), wait_until="load")
        page.wait_for_function("document.querySelector('.c35-search-status').textContent !== ''")
        for _ in range(more):
            shown = page.locator(".c35-search-result").count()
            page.locator(".c35-search-more").click()
            page.wait_for_function(f"document.querySelectorAll('.c35-search-result').length > {shown}")
        results = page.eval_on_selector_all(
            ".c35-search-result", "items => items.map(li => ({url: li.querySelector('a').href,"
            " excerpt: li.querySelector('p').textContent,"
            " marks: Array.from(li.querySelectorAll('mark'), m => m.textContent)}))")
        files = _resources(page, "/search-index/")
    finally:
        context.close()
    for result in results:
        result["url"] = result["url"][len(base):]
    return {"results": results, "files": files}


def query_pagefind(browser, base: str, query: str) -> dict:
    """Pagefind's top 10 (site-relative URLs) and the files it read (its index; code apart)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base + "pf/search.html", wait_until="load")
        urls = page.evaluate("""async (query) => {
            const pagefind = await import("./pagefind/pagefind.js");
            await pagefind.init();
            const search = await pagefind.search(query);
            const data = await Promise.all(search.results.slice(0, 10).map(r => r.data()));
            return data.map(d => d.url);
        }""", query)
        files = _resources(page, "/pf/pagefind/")
    finally:
        context.close()
    return {"results": [{"url": url.lstrip("/")} for url in urls], "files": files}


def recall(results: list[dict], pattern: str, expected: int) -> float:
    return sum(1 for result in results[:10] if re.search(pattern, result["url"])) / expected


def gzipped(root: Path, base: str, files: list[tuple[str, int]]) -> int:
    """What the files weigh gzip-compressed (as a static host serves JSON)."""
    return sum(len(gzip.compress((root / urllib.parse.unquote(url[len(base):].split("?")[0])).read_bytes(), 6))
               for url, _ in files)


def run(sessions: int, work: Path, node: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    content = generate(work / "content", sessions, planted=True)
    docs = [doc for doc in map(document, generated_pages(content)) if doc is not None]
    print(f"{sessions} sessions: {len(docs)} pages, generated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    write_index(docs, work / "site")
    files = list((work / "site/search-index").rglob("*.json"))
    print(f"cell35 index: {time.perf_counter() - started:.1f} s, {len(files)} files, "
          f"{sum(f.stat().st_size for f in files) / 1e6:.1f} MB")
    install_pagefind(node)
    seconds = write_pagefind(docs, work / "site/pf", node)
    pf_files = list((work / "site/pf/pagefind").rglob("*"))
    print(f"Pagefind {PAGEFIND_VERSION} index: {seconds:.1f} s, {len(pf_files)} files, "
          f"{sum(f.stat().st_size for f in pf_files if f.is_file()) / 1e6:.1f} MB")

    def code(files):
        return [(url, size) for url, size in files if url.endswith((".js", ".wasm", ".pagefind"))
                and "/fragment/" not in url and "/index/" not in url]

    report = {"sessions": sessions, "pages": len(docs), "queries": []}
    site = work / "site"
    with serving(site) as base, chromium() as browser:
        print(f"\n{'query':28} {'ours':>5} {'pagefind':>8}   {'ours bytes (gzip)':>18}   {'pagefind index bytes (gzip)':>28}")
        for query, pattern, expected in QUERIES + [(query, None, 0) for query in COST_QUERIES]:
            ours, theirs = query_ours(browser, base, query), query_pagefind(browser, base, query)
            theirs_index = [f for f in theirs["files"] if f not in code(theirs["files"])]
            row = {"query": query,
                   "ours_bytes": sum(size for _, size in ours["files"]),
                   "ours_gzip": gzipped(site, base, ours["files"]), "ours_files": len(ours["files"]),
                   "pagefind_bytes": sum(size for _, size in theirs_index),
                   "pagefind_gzip": gzipped(site, base, theirs_index), "pagefind_files": len(theirs_index),
                   "pagefind_code_bytes": sum(size for _, size in code(theirs["files"]))}
            if pattern:
                row["ours_recall"] = recall(ours["results"], pattern, expected)
                row["pagefind_recall"] = recall(theirs["results"], pattern, expected)
            report["queries"].append(row)
            print(f"{query:28} {row.get('ours_recall', float('nan')):5.2f} {row.get('pagefind_recall', float('nan')):8.2f}"
                  f"   {row['ours_bytes']:>9,} ({row['ours_gzip']:>7,})   {row['pagefind_bytes']:>18,} ({row['pagefind_gzip']:>7,})")
    measured = [row for row in report["queries"] if "ours_recall" in row]
    ours_recall = sum(row["ours_recall"] for row in measured) / len(measured)
    theirs_recall = sum(row["pagefind_recall"] for row in measured) / len(measured)
    report.update(ours_recall=ours_recall, pagefind_recall=theirs_recall,
                  ratio=ours_recall / theirs_recall if theirs_recall else float("inf"),
                  pagefind_code_bytes=max(row["pagefind_code_bytes"] for row in report["queries"]),
                  search_js_bytes=(ROOT / "producers/build/assets/search.js").stat().st_size)
    print(f"\nrecall@10 over {len(measured)} queries: cell35 {ours_recall:.2f}, Pagefind {theirs_recall:.2f}, "
          f"ratio {report['ratio']:.2f}")
    print(f"code read once per visit: search.js {report['search_js_bytes']:,} B; "
          f"Pagefind's js+wasm+entry {report['pagefind_code_bytes']:,} B")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/search-bench"))
    parser.add_argument("--pagefind", type=Path, default=ROOT / "bench/.node", help="npm prefix holding Pagefind")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    figures = run(args.sessions, args.work, args.pagefind)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False))
