"""Lighthouse mobile scores of the demo site (issue 15): performance, accessibility, best practices
and SEO for the home page, a video page and a photo series (targets: >= 95, 100, 100, 100), then
every other page type.

    python bench/lighthouse_bench.py                 # builds the demo site into bench/out/lighthouse/
    python bench/lighthouse_bench.py --site /tmp/x/site [--rounds 3]

Lighthouse is pinned (LIGHTHOUSE) and installed with npm into bench/.node/ (gitignored) the first
time; it drives /usr/bin/chromium headless with no network beyond the loopback server, which is
`cell35 serve`'s own handler (compression, ranges) on a free port.

Lighthouse's simulated throttling still scales with the machine's own speed, so a busy machine costs
a page points. The baseline, scored in the same run and served the same way, is a one-page site of
the bare theme (mkdocs-material, its default configuration, a few paragraphs): each page's
performance is printed beside it and as a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from producers.serve import make_server  # noqa: E402

LIGHTHOUSE = "12.8.2"
NODE_DIR = REPO / "bench" / ".node"
CLI = NODE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index")
PAGES = {        # the issue's three first, then the other page types
    "home": "",
    "video": "sessions/2024-q4/varanasi-ghats-online-fraud/02-video/",
    "photo series": "sessions/2024-q4/ha-long-replanting-storm-forest/01-photo-series/",
    "hindi home": "hi/",
    "slides": "sessions/2024-q4/varanasi-ghats-online-fraud/01-slides/",
    "podcast": "sessions/2024-q4/ha-long-replanting-storm-forest/02-podcast/",
    "article": "sessions/2024-q3/hue-heritage-civilised-weddings-funerals/01-article/",
    "social post": "sessions/2025-q1/hue-heritage-world-heritage-pride/01-social-post/",
    "session": "sessions/2024-q4/varanasi-ghats-online-fraud/",
}


def install() -> None:
    """npm-install the pinned Lighthouse into bench/.node/ unless that exact version is there."""
    package = NODE_DIR / "node_modules" / "lighthouse" / "package.json"
    if package.exists() and json.loads(package.read_text())["version"] == LIGHTHOUSE:
        return
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    if not (NODE_DIR / "package.json").exists():
        (NODE_DIR / "package.json").write_text('{"private": true}\n')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", f"lighthouse@{LIGHTHOUSE}"],
                   cwd=NODE_DIR, check=True)


def build_demo(out: Path) -> Path:
    from producers.build.site import BuildOptions, build_site

    result = build_site(BuildOptions(content=REPO / "content", out=out / "site", cache_dir=out / "cache", jobs=2))
    if not result.ok:
        raise SystemExit(f"demo build failed: {result.report['problems']}")
    return out / "site"


BASELINE_PAGE = "# A page\n\n" + "Plain text on the bare theme, for the baseline score. " * 40 + "\n"


def build_baseline(out: Path) -> Path:
    """A one-page mkdocs-material site with the theme's defaults."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "index.md").write_text(BASELINE_PAGE, encoding="utf-8")
    (out / "mkdocs.yml").write_text("site_name: Baseline\ntheme:\n  name: material\n", encoding="utf-8")
    build(load_config(str(out / "mkdocs.yml"), site_dir=str(out / "site")))
    return out / "site"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scores(url: str, work: Path) -> dict:
    report = work / "report.json"
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    run = subprocess.run(["node", str(CLI), url, "--output=json", f"--output-path={report}", "--quiet",
                          f"--chrome-flags={CHROME_FLAGS}", "--only-categories=" + ",".join(CATEGORIES),
                          "--form-factor=mobile"], env=env, capture_output=True, text=True, timeout=300)
    if run.returncode != 0 or not report.exists():
        raise SystemExit(f"lighthouse failed on {url}:\n{run.stderr[-3000:]}")
    data = json.loads(report.read_text())
    failing = {key: audit["title"] for key, audit in data["audits"].items()
               if audit.get("score") is not None and audit["score"] < 1 and audit.get("scoreDisplayMode") == "binary"}
    result = {name: round(data["categories"][name]["score"] * 100) for name in CATEGORIES}
    result["failing"] = failing
    result["metrics"] = {key: data["audits"][key]["displayValue"] for key in METRICS}
    # What Lighthouse would save, biggest first: where the performance points went.
    result["opportunities"] = sorted(
        ((audit["details"].get("overallSavingsMs", 0), key) for key, audit in data["audits"].items()
         if audit.get("details", {}).get("type") == "opportunity" and audit["details"].get("overallSavingsMs")),
        reverse=True)[:4]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build the demo site)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per page; the median is reported")
    args = parser.parse_args()
    install()
    site = args.site or build_demo(REPO / "bench" / "out" / "lighthouse")
    with tempfile.TemporaryDirectory() as scratch:
        servers = {"site": make_server(site, "127.0.0.1", free_port()),
                   "baseline": make_server(build_baseline(Path(scratch)), "127.0.0.1", free_port())}
        for server in servers.values():
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            report(site, {key: f"http://127.0.0.1:{server.server_address[1]}/" for key, server in servers.items()},
                   args.rounds)
        finally:
            for server in servers.values():
                server.shutdown()
                server.server_close()


def median_run(url: str, rounds: int) -> dict:
    """The run with the median performance score of ``rounds`` runs (one run's score moves by up to
    13 points on this machine from one minute to the next); ``spread`` holds every run's score."""
    runs = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as work:
            runs.append(scores(url, Path(work)))
    runs.sort(key=lambda run: run["performance"])
    return {**runs[len(runs) // 2], "spread": [run["performance"] for run in runs]}


def report(site: Path, roots: dict[str, str], rounds: int) -> None:
    baseline = median_run(roots["baseline"], rounds)
    print(f"lighthouse {LIGHTHOUSE}, mobile, {site}; median of {rounds} runs per page")
    print(f"{'page':14} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5}   perf / baseline's   all runs' perf")
    print(f"{'baseline':14} " + " ".join(f"{baseline[c]:5d}" for c in CATEGORIES)
          + f"   (bare theme)        {baseline['spread']}")
    for name, path in PAGES.items():
        got = median_run(roots["site"] + path, rounds)
        print(f"{name:14} " + " ".join(f"{got[c]:5d}" for c in CATEGORIES)
              + f"   {got['performance'] / baseline['performance']:.2f}                {got['spread']}")
        print(f"{'':14}   " + ", ".join(f"{key.split('-')[0] if key != 'largest-contentful-paint' else 'lcp'} "
                                       f"{value}" for key, value in got["metrics"].items()))
        for saving, key in got["opportunities"]:
            print(f"{'':14}   could save {saving:.0f} ms: {key}")
        for key, title in got["failing"].items():
            print(f"{'':14}   failing: {key}: {title}")


if __name__ == "__main__":
    main()
