"""The one small Protocol every product kind implements, and what it is given and gives back.

A producer only *describes* its work (``plan`` returns Jobs: inputs, outputs, action); the
pipeline decides what is stale and runs it. ``page`` then turns the job outputs into the HTML
fragment of the product's page and the media files published beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol

from producers.content.loader import ProductRecord, SessionRecord, check_media_path
from producers.content.model import Cell, SiteConfig
from producers.jobs.pipeline import Job, JobResult


@dataclass(frozen=True)
class ProductContext:
    site: SiteConfig
    cell: Cell
    session: SessionRecord
    record: ProductRecord
    content_root: Path

    @property
    def url(self) -> str:
        """Site-relative URL of the product's page (and folder of its published media)."""
        return f"{self.session.url}{self.record.stem}/"

    @property
    def absolute_url(self) -> str:
        return self.site.base_url + self.url

    def job_name(self, step: str) -> str:
        return f"{self.session.id}/{self.record.stem}:{step}"

    def media(self, relative: str) -> Path:
        """A media file of the session, already validated by the loader to resolve inside it."""
        resolved, message = check_media_path(self.session.dir, relative)
        if resolved is None:
            raise ValueError(message)
        return resolved


@dataclass(frozen=True)
class ProductPage:
    html: str                                   # escaped/sanitised HTML fragment for the page body
    media: Mapping[str, Path] = field(default_factory=dict)   # published file name -> file
    warnings: tuple[str, ...] = ()
    card: str | None = None                     # name (in media) of the 1200x630 share card


def product_contexts(tree, sessions=None) -> list[ProductContext]:
    """A context per product of ``sessions`` (default: every valid session of the loaded tree)."""
    return [ProductContext(site=tree.site, cell=tree.cells[record.session.cell], session=record, record=product,
                           content_root=tree.root)
            for record in (tree.sessions if sessions is None else sessions) for product in record.products]


class Producer(Protocol):
    def plan(self, ctx: ProductContext) -> list[Job]:
        """The render jobs for one product. Pure: reads the model and declares file inputs."""

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: "Labels") -> ProductPage:
        """The product page from its finished jobs (``results`` keyed by job name)."""


from producers.web.i18n import Labels  # noqa: E402  (type only; i18n has no imports back)
