"""Render one product of a tiny content tree end to end (plan -> run jobs -> page), and image helpers
for the photo-series, social-post and article tests."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from producers.kinds.registry import site_labels
from producers.jobs.pipeline import Cache, JobResult, run_jobs
from producers.kinds.base import ProductContext, ProductPage
from tests.conftest import product_context

PHOTOS = Path(__file__).parent / "photos"
FOLDER = "2024-q4/ha-long-sanitation"


@dataclass
class Rendered:
    ctx: ProductContext
    results: dict[str, JobResult]
    page: ProductPage | None
    page_error: Exception | None

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results.values() if r.status == "failed"]

    @property
    def warnings(self) -> list[str]:
        return [w for r in self.results.values() for w in r.warnings] + list(self.page.warnings if self.page else [])


def context(root: Path, stem: str) -> ProductContext:
    return product_context(root, stem)


def render(producer, root: Path, stem: str, cache: Path) -> Rendered:
    ctx = context(root, stem)
    jobs = producer.plan(ctx)
    results = run_jobs(jobs, Cache(cache))
    page, error = None, None
    if not any(r.status == "failed" for r in results.values()):
        try:
            page = producer.page(ctx, results, site_labels(ctx.site.language))
        except Exception as exc:  # the test decides whether this is expected
            error = exc
    return Rendered(ctx, results, page, error)


def jpeg_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def gradient(width: int, height: int) -> Image.Image:
    """A photo-like image (smooth colours, some detail) that compresses like a real one."""
    image = Image.linear_gradient("L").resize((width, height))
    return Image.merge("RGB", (image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), image.rotate(90, expand=False)))
