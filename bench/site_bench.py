"""Site build benchmarks (issue 3), each figure a ratio against a baseline measured in the same run.

    python bench/site_bench.py --sessions 500            # figures 1 and 3
    python bench/site_bench.py --sessions 5000 --scale   # figure 4 as well (slow: minutes)

1. no-op rebuild / bare `mkdocs build` of the same generated pages      (target <= 1.2)
3. one product edited / no-op rebuild                                    (reported with the edit's own cost)
4. at scale: seconds per session, peak memory, largest HTML page, bytes a browser downloads for one search
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate  # noqa: E402

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
PYTHON = sys.executable


def timed(args: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def cell35_build(work: Path, extra: list[str] = ()) -> tuple[float, int]:
    return timed([PYTHON, "-m", "producers.cli", "build", "--content", str(work / "content"), "--out",
                  str(work / "site"), "--cache", str(work / ".cache"), "-q", *extra], REPO)


def search_bytes(site: Path, word: str) -> tuple[int, int, int]:
    """Bytes the browser downloads for one search query on the search page (all, and the index's
    files alone: the rest is web fonts a first Hindi or Vietnamese result brings in), and the result count."""
    from playwright.sync_api import sync_playwright

    from producers.serve import make_server
    server = make_server(site, "127.0.0.1", 0)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    total = index = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/search/", wait_until="load")
            sizes: list[tuple[str, int]] = []
            page.on("requestfinished", lambda request: sizes.append((request.url,
                                                                     request.sizes()["responseBodySize"])))
            page.locator("#c35-search input").fill(word)
            page.locator(".c35-search-result a").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1500)
            total = sum(size for _, size in sizes)
            index = sum(size for url, size in sizes if "/search-index/" in url)
            count = page.locator(".c35-search-result a").count()
            browser.close()
    finally:
        server.shutdown()
    return total, index, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--scale", action="store_true", help="also measure figure 4 (memory, page size, search)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temp folder)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cell35-bench-"))
    generate(work / "content", args.sessions, cover_every=0)
    (work / "docs-copy").mkdir(parents=True, exist_ok=True)

    cold = not (work / ".cache").exists()
    first, first_rss = cell35_build(work, ["--jobs", "2"])
    noop, _ = cell35_build(work)
    noop2, _ = cell35_build(work)
    noop = min(noop, noop2)
    noop_phases = json.loads((work / "site.build-report.json").read_text())["phases"]
    # the same generated pages, built by bare mkdocs (the keep_docs dump of one more build)
    from producers.build.site import BuildOptions, build_site
    build_site(BuildOptions(content=work / "content", out=work / "site", cache_dir=work / ".cache",
                            keep_docs=work / "docs-copy"))
    bare, _ = timed([PYTHON, "-m", "mkdocs", "build", "-q", "-f", str(work / "docs-copy" / "mkdocs.yml"),
                     "-d", str(work / "bare-site")], REPO)
    article = next((work / "content" / "sessions").rglob("01-article.md"))
    # a new sentence each run: a --keep folder must not find the edited state cached from a previous run
    article.write_text(article.read_text(encoding="utf-8") + f"\nEdited line {time.time_ns()}.\n", encoding="utf-8")
    edited, _ = cell35_build(work)
    report = json.loads((work / "site.build-report.json").read_text())
    print(f"sessions: {args.sessions}; pages: {sum(1 for _ in (work / 'site').rglob('*.html'))}")
    print(f"first build ({'cold' if cold else 'warm'} cache): {first:.2f} s (peak RSS {first_rss / 1024:.0f} MB)")
    print(f"1. no-op rebuild {noop:.2f} s / bare mkdocs build {bare:.2f} s = {noop / bare:.3f}  (target <= 1.2)")
    print(f"3. one product edited {edited:.2f} s / no-op rebuild {noop:.2f} s = {edited / noop:.2f}; "
          f"jobs re-rendered: {report['summary']['jobs']['rendered']}, pages re-rendered by mkdocs: "
          f"{report['rendered']['pages_rendered']} of {report['rendered']['pages']}, search index files "
          f"rewritten: {report['search']['files_written']} of {report['search']['files']}")
    print(f"   phases (s), no-op: {noop_phases}; edited: {report['phases']}")
    if args.scale:
        html_sizes = [p.stat().st_size for p in (work / "site").rglob("*.html")]
        from bench.generate import unique_word
        rare, rare_index, rare_hits = search_bytes(work / "site", unique_word(args.sessions // 2))
        downloaded, common_index, hits = search_bytes(work / "site", "ठगी")
        print(f"4. {args.sessions} sessions: {first / args.sessions * 1000:.1f} ms per session (first build, "
              f"{'cold' if cold else 'warm'} cache), "
              f"peak memory {first_rss / 1024:.0f} MB (target <= 1024), largest HTML page "
              f"{max(html_sizes) / 1024:.1f} KB (target <= 100), one search query downloaded "
              f"{rare / 1024:.0f} KB for a word of one session ({rare_index / 1024:.0f} KB of index; {rare_hits} "
              f"results), {downloaded / 1024:.0f} KB for a word on a third of all pages ({common_index / 1024:.0f} KB "
              f"of index; {hits} results shown) (target <= 500)")
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
