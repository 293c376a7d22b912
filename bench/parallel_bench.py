"""Figure 5 of issue 3: render-heavy content built with --jobs 2 against --jobs 1, in one run.

    python bench/parallel_bench.py [--decks 20]

Each deck is a `slides` product (PNGs, PDF, PPTX, share card): CPU-bound Pillow work in separate
jobs. Both builds start from an empty cache. Prints the whole-build and the job-phase speed-ups.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate  # noqa: E402

SLIDES = "\n\n---\n\n".join(
    f"# Slide {n}: an khi mạng xã hội\n\n- Điểm chính số {n} về phòng chống lừa đảo\n  - Chi tiết: ऑनलाइन ठगी से बचाव\n"
    f"- **Đậm** và *nghiêng* trong cùng một dòng\n\nNote: lời người trình bày cho trang {n}." for n in range(1, 9))


def make_content(folder: Path, decks: int) -> Path:
    content = generate(folder / "content", decks)
    for index, deck in enumerate(sorted((content / "sessions").glob("*/*/"))):
        (deck / "01-article.md").unlink()
        (deck / "01-slides.md").write_text(f"---\ntype: slides\ntitle: Deck {index}\n---\n\n{SLIDES}\n",
                                           encoding="utf-8")
    return content


def build(content: Path, out: Path, jobs: int) -> tuple[float, dict]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "producers.cli", "build", "--content", str(content), "--out", str(out),
                    "--cache", str(out.parent / "cache"), "--jobs", str(jobs), "-q"], cwd=REPO, check=True,
                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True)
    seconds = time.perf_counter() - started
    return seconds, json.loads(out.with_name(out.name + ".build-report.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decks", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cell35-parallel-"))
    content = make_content(work, args.decks)
    one, report_one = build(content, work / "one" / "site", 1)
    two, report_two = build(content, work / "two" / "site", 2)
    jobs = report_one["summary"]["jobs"]["rendered"]
    print(f"{args.decks} decks, {jobs} render jobs, {os.cpu_count()} cores")
    print(f"5. whole build: --jobs 1 {one:.1f} s / --jobs 2 {two:.1f} s = speed-up {one / two:.2f} (target >= 1.7)")
    print(f"   job phase:   --jobs 1 {report_one['phases']['jobs']:.1f} s / --jobs 2 {report_two['phases']['jobs']:.1f} s"
          f" = speed-up {report_one['phases']['jobs'] / report_two['phases']['jobs']:.2f}")


if __name__ == "__main__":
    main()
