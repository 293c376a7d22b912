"""Photo-series throughput on 12-megapixel JPEGs, and bytes published per photo vs bytes submitted.

Baseline, measured in the same run on the same files: a plain Pillow open + resize to 1600 px +
JPEG save (what a naive publisher would do: no orientation, no metadata stripping, one output).

    .venv/bin/python bench/photos_bench.py [--photos 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from producers.kinds.photos import photo_stem, render_photo, render_series  # noqa: E402
from producers.jobs.pipeline import Cache, Job, run_jobs  # noqa: E402


def camera_like(index: int, width: int = 4000, height: int = 3000) -> Image.Image:
    """A 12 MP image that compresses like a photo: smooth gradients plus sensor-like noise."""
    ramp = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 18 + index)
    red = Image.blend(ramp, noise, 0.35)
    green = Image.blend(ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise, 0.3)
    blue = Image.blend(ramp.rotate(180), noise.transpose(Image.Transpose.ROTATE_180), 0.3)
    return Image.merge("RGB", (red, green, blue))


def submitted_jpeg(index: int, path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "PhoneMaker", "Phone 12", 6 if index % 2 else 1
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (20.0, 57.0, 6.0), "E", (107.0, 4.0, 49.0)
    camera_like(index).save(path, quality=92, exif=exif.tobytes())


def baseline(path: Path, out: Path) -> int:
    with Image.open(path) as image:
        image.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
        image.save(out, quality=82)
    return out.stat().st_size


def params_for(number: int, total: int, file: str) -> dict:
    return {"display": "bench/03-photo-series.md", "title": "Bench series", "footer": "Chi bộ Hạ Long · 12/10/2024",
            "date": "2024-10-12", "credit_label": "Ảnh", "accent": "#b71c1c", "total": total,
            "photo": {"number": number, "file": file, "caption": "Các đảng viên dọn rác dọc bờ kênh sáng Chủ nhật "
                      "— सफ़ाई अभियान", "credit": "Nguyễn Văn Đức", "copyright": None}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        inputs = []
        started = time.perf_counter()
        for index in range(args.photos):
            path = work / f"in-{index:02d}.jpg"
            submitted_jpeg(index, path)
            inputs.append(path)
        submitted = sum(p.stat().st_size for p in inputs)
        print(f"generated {len(inputs)} photos of 4000×3000 ({submitted / len(inputs) / 1e6:.2f} MB each) "
              f"in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        base_bytes = sum(baseline(path, work / f"base-{i}.jpg") for i, path in enumerate(inputs))
        base_seconds = time.perf_counter() - started

        started = time.perf_counter()
        published = 0
        for number, path in enumerate(inputs, start=1):
            out = work / f"ours-{number}"
            out.mkdir()
            render_photo(params_for(number, len(inputs), path.name), (path,), out)
            published += sum(p.stat().st_size for p in out.iterdir() if p.suffix != ".json")
        ours_seconds = time.perf_counter() - started

        series_dir = work / "series"
        series_dir.mkdir()
        common = {k: v for k, v in params_for(1, len(inputs), "").items() if k != "photo"}
        series_params = {**common, "photos": [{**params_for(n, len(inputs), p.name)["photo"], "alt": "alt"}
                                              for n, p in enumerate(inputs, start=1)]}
        rendered = {photo_stem(n): {name: work / f"ours-{n}" / name for name in
                                    (f"{photo_stem(n)}-share.jpg", f"{photo_stem(n)}-thumb.jpg", f"{photo_stem(n)}.jpg")}
                    for n in range(1, len(inputs) + 1)}
        started = time.perf_counter()
        render_series(series_params, (), series_dir, rendered)     # from the photo jobs' outputs
        series_seconds = time.perf_counter() - started
        series_bytes = sum(p.stat().st_size for p in series_dir.iterdir())

        jobs = [Job(name=f"p{n}", kind="photo-series", action=render_photo,
                    params=params_for(n, len(inputs), p.name), files=(p,),
                    outputs=(f"photo-{n:02d}.jpg",)) for n, p in enumerate(inputs, start=1)]
        started = time.perf_counter()
        results = run_jobs(jobs, Cache(work / "cache"), workers=args.workers)
        pool_seconds = time.perf_counter() - started
        assert all(r.status == "rendered" for r in results.values()), [r.error for r in results.values()]

    n = len(inputs)
    print(f"\nbaseline (Pillow open+resize 1600+save, 1 output)   {n / base_seconds:6.2f} photos/s")
    print(f"photo job (2 sizes × WebP+JPEG, share image), 1 core {n / ours_seconds:6.2f} photos/s"
          f"   ratio to baseline {base_seconds / ours_seconds:.2f}×")
    print(f"photo jobs through the pipeline, {args.workers} workers        {n / pool_seconds:6.2f} photos/s"
          f"   ratio to baseline {base_seconds / pool_seconds:.2f}×")
    print(f"series job (zip + contact sheet + card)             {series_seconds / n:6.3f} s per photo")
    total_seconds = ours_seconds + series_seconds
    print(f"whole series, 1 core                                {n / total_seconds:6.2f} photos/s"
          f"   ratio to baseline {base_seconds / total_seconds:.2f}×")
    print(f"\nbytes submitted per photo            {submitted / n / 1e6:8.3f} MB")
    print(f"bytes published per photo (page)     {published / n / 1e6:8.3f} MB   "
          f"ratio {published / submitted:.3f} of submitted")
    print(f"  + zip/contact sheet/card share     {series_bytes / n / 1e6:8.3f} MB   "
          f"total ratio {(published + series_bytes) / submitted:.3f}")
    print(f"baseline bytes per photo             {base_bytes / n / 1e6:8.3f} MB   "
          f"ratio {base_bytes / submitted:.3f} of submitted")


if __name__ == "__main__":
    main()
