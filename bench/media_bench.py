"""Figure 2 of issue 3: a no-op rebuild with ~2 GB of media against the same site with tiny media.

    python bench/media_bench.py [--gigabytes 2] [--sessions 100]

Both variants have the same sessions, products, pages and jobs; only the photos' bytes differ
(12-megapixel noisy JPEGs against 64x48 ones). After a priming build, the no-op rebuilds are timed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate  # noqa: E402


def add_photos(content: Path, photos: int, big: bool) -> int:
    """One photo-series product per session, photos spread over sessions. Returns bytes of media."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(35)
    sessions = sorted((content / "sessions").glob("*/*/"))
    total = 0
    per_session = -(-photos // len(sessions))
    for number in range(photos):
        session = sessions[number // per_session]
        name = f"photo-{number:04d}.jpg"
        if big:
            pixels = rng.integers(0, 256, size=(3000, 4000, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(session / "media" / name, quality=95)
        else:
            Image.new("RGB", (64, 48), (number % 256, 90, 140)).save(session / "media" / name)
        total += (session / "media" / name).stat().st_size
    for session in sessions:
        names = sorted(p.name for p in (session / "media").glob("photo-*.jpg"))
        if names:
            items = "".join(f"- {{file: media/{n}, caption: Ảnh {n}, alt: Ảnh hiện trường {n}}}\n" for n in names)
            (session / "02-photo-series.md").write_text(f"---\ntype: photo-series\ntitle: Ảnh\nphotos:\n{items}---\n",
                                                        encoding="utf-8")
    return total


def build(work: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "producers.cli", "build", "--content", str(work / "content"), "--out",
                    str(work / "site"), "--cache", str(work / "cache"), "-q"], cwd=REPO, check=True,
                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    photos = int(args.gigabytes * 1e9 / 14.5e6) + 1      # a 12 MP noisy JPEG at q95 is ~14.5 MB
    root = Path(tempfile.mkdtemp(prefix="cell35-media-"))
    sizes = {}
    for variant in ("tiny", "big"):
        generate(root / variant / "content", args.sessions)
        sizes[variant] = add_photos(root / variant / "content", photos, big=variant == "big")
        build(root / variant)                              # priming: renders every photo once
    timings = {variant: min(build(root / variant) for _ in range(3)) for variant in ("tiny", "big")}
    print(f"{args.sessions} sessions, {photos} photos: {sizes['big'] / 1e9:.2f} GB against {sizes['tiny'] / 1e6:.2f} MB")
    print(f"2. no-op rebuild with media {timings['big']:.2f} s / with tiny media {timings['tiny']:.2f} s = "
          f"{timings['big'] / timings['tiny']:.3f} (target <= 1.1)")


if __name__ == "__main__":
    main()
