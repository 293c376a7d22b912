"""How fast a 20-slide deck renders in every format (PNG, PDF, PPTX, card).

Prints slides per second, against a baseline measured in the same run: one bare Pillow
1920x1080 image drawn (a filled band) and saved as PNG per slide. Run:
    .venv/bin/python bench/slides_bench.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from producers.kinds.slides import SlidesProducer  # noqa: E402
from producers.jobs.pipeline import Cache, run_jobs  # noqa: E402
from slides_support import context, write_tree  # noqa: E402

SLIDES = 20


def deck_body(count: int) -> str:
    slides = []
    for number in range(count):
        kind = number % 4
        if kind == 0:
            slides.append(f"# Tin giả số {number}: nhận diện và phản bác\n- Thông tin **sai sự thật** lan truyền *có chủ "
                          "đích*\n  - Trên Facebook, Zalo, Telegram\n- झूठी और हानिकारक जानकारी का खंडन\n"
                          "- Kiểm tra nguồn tin trước khi chia sẻ\nNote: Hỏi các đồng chí đã gặp tin giả nào.")
        elif kind == 1:
            slides.append(f"# दो स्तंभ {number}\nबाईं ओर पाठ है, **मोटा** और *तिरछा*\n- एक\n- दो\n|||\n"
                          "![Ảnh cuộc họp](media/photo.png){cover}")
        elif kind == 2:
            slides.append(f"## Chỉ có ảnh {number}\n![Ảnh](media/photo.png)\nNote: Giới thiệu bức ảnh.")
        else:
            slides.append(f"# Đoạn văn dài {number}\n" + "Bảo vệ nền tảng tư tưởng của Đảng trên không gian mạng. " * 8)
    return "\n---\n".join(slides)


def baseline(out: Path, count: int) -> float:
    started = time.perf_counter()
    for number in range(count):
        image = Image.new("RGB", (1920, 1080), "white")
        ImageDraw.Draw(image).rectangle((0, 0, 1920, 190), fill="#0d47a1")
        image.save(out / f"bare-{number}.png", "PNG", compress_level=6)
    return time.perf_counter() - started


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="slides-bench-"))
    try:
        root = write_tree(work / "content", body=deck_body(SLIDES - 1))   # + the title slide = SLIDES
        ctx = context(root)
        producer = SlidesProducer()
        jobs = producer.plan(ctx)
        total_slides = len(jobs[0].outputs) - 1
        assert total_slides == SLIDES, total_slides

        bare = baseline(work, SLIDES)

        started = time.perf_counter()
        for job in jobs:                     # one process, one job after another
            out = work / "serial" / job.name.replace("/", "_").replace(":", "_")
            out.mkdir(parents=True)
            job.action(job.params, job.files, out)
        serial = time.perf_counter() - started

        started = time.perf_counter()
        results = run_jobs(jobs, Cache(work / "cache"))   # the pipeline: jobs in parallel processes
        parallel = time.perf_counter() - started
        assert all(r.status == "rendered" for r in results.values()), [r.error for r in results.values()]
        by_job = {name.rsplit(":", 1)[1]: round(r.seconds, 2) for name, r in results.items()}

        started = time.perf_counter()
        cached = run_jobs(jobs, Cache(work / "cache"))
        again = time.perf_counter() - started
        assert all(r.status == "cached" for r in cached.values())

        print(f"{SLIDES}-slide deck (PNG + PDF + PPTX + card):")
        print(f"  baseline, bare Pillow draw+save per slide: {bare:6.2f} s  {SLIDES / bare:7.1f} slides/s")
        print(f"  all formats, serial in one process:       {serial:6.2f} s  {SLIDES / serial:7.1f} slides/s"
              f"  ({serial / bare:.1f}x baseline)")
        print(f"  all formats, pipeline (parallel jobs):    {parallel:6.2f} s  {SLIDES / parallel:7.1f} slides/s"
              f"  ({parallel / bare:.1f}x baseline)  per job: {by_job}")
        print(f"  unchanged deck, from the cache:           {again:6.3f} s  ({again / bare:.2f}x baseline)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
