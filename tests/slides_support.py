"""A tiny content tree with one slides product, rendered end to end (plan -> jobs -> page)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from producers.kinds.registry import site_labels
from producers.kinds.slides import SlidesProducer
from producers.jobs.pipeline import Cache, JobResult, run_jobs
from producers.kinds.base import ProductContext, ProductPage
from tests.conftest import product_context

FOLDER = "sessions/2024-q4/ha-long-security"
SITE_YML = ("title: Chi bộ online\nbase_url: https://example.org/\nlanguage: en\nlogo: logo.png\n"
            "theme: {primary: '#0d47a1', accent: '#ffb300'}\n")
CELLS_YML = "cells:\n- {id: ha-long, name: Chi bộ Hạ Long, committee: Quảng Ninh, area: Hạ Long, language: vi}\n"
SESSION_MD = ("---\ntitle: Non-traditional security\ncell: ha-long\ndate: 2024-11-28\ngroup: fight\nlanguage: vi\n"
              "attendance: {present: 9, members: 12}\nstatus: published\nsummary: We discussed fake news.\n---\n"
              "Minutes.\n")

DECK = """
# Tin giả là gì?
- Thông tin **sai sự thật** được lan truyền *có chủ đích*
  - Trên Facebook, Zalo
- नमस्ते: झूठी और हानिकारक जानकारी का खंडन

Note: Hỏi các đồng chí đã gặp tin giả nào tuần này.
Then count the hands.
---
# Hai cột
Bên trái là chữ
|||
![Một bức ảnh](media/photo.png){cover}
---
## Chỉ có ảnh
![Ảnh cuộc họp](media/photo.png)
"""


def slides_md(body: str = DECK, title: str = "Nhận diện tin giả — झूठी ख़बर", extra: str = "") -> str:
    return f"---\ntype: slides\ntitle: {title}\n{extra}---\n{body}"


def write_tree(root: Path, body: str = DECK, files: dict[str, bytes] | None = None, logo: bool = True,
               title: str = "Nhận diện tin giả — झूठी ख़बर") -> Path:
    (root / FOLDER / "media").mkdir(parents=True, exist_ok=True)
    (root / "site.yml").write_text(SITE_YML if logo else SITE_YML.replace("logo: logo.png\n", ""), encoding="utf-8")
    (root / "cells.yml").write_text(CELLS_YML, encoding="utf-8")
    if logo:
        mark = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
        mark.paste((255, 200, 0, 255), (50, 50, 250, 250))
        mark.save(root / "logo.png")
    (root / FOLDER / "session.md").write_text(SESSION_MD, encoding="utf-8")
    (root / FOLDER / "01-slides.md").write_text(slides_md(body, title), encoding="utf-8")
    photo = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    photo.save(root / FOLDER / "media" / "photo.png")
    for name, data in (files or {}).items():
        (root / FOLDER / name).write_bytes(data)
    return root


def context(root: Path, stem: str = "01-slides") -> ProductContext:
    return product_context(root, stem)


@dataclass
class Rendered:
    ctx: ProductContext
    results: dict[str, JobResult]
    page: ProductPage | None

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results.values() if r.status == "failed"]

    @property
    def warnings(self) -> list[str]:
        return [w for r in self.results.values() for w in r.warnings]

    def output(self, name: str) -> Path:
        for result in self.results.values():
            if name in result.outputs:
                return result.outputs[name]
        raise KeyError(name)


def render(root: Path, cache: Path | None = None) -> Rendered:
    producer = SlidesProducer()
    ctx = context(root)
    results = run_jobs(producer.plan(ctx), Cache(cache or root.parent / (root.name + "-cache")))
    page = None if any(r.status == "failed" for r in results.values()) else \
        producer.page(ctx, results, site_labels(ctx.site.language))
    return Rendered(ctx, results, page)
