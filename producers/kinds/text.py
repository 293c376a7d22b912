"""The fallback page for a kind whose media producer has not landed: the product's own text."""

from __future__ import annotations

from typing import Mapping

from ..html import escape, markdown_to_html
from ..i18n import Labels
from ..pipeline import Job, JobResult
from ..producer import ProductContext, ProductPage


class TextProducer:
    version = "1"

    def plan(self, ctx: ProductContext) -> list[Job]:
        return []

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        parts = []
        if ctx.record.product.summary:
            parts.append(f'<p class="c35-lead">{escape(ctx.record.product.summary)}</p>')
        parts.append(markdown_to_html(ctx.record.body))
        return ProductPage(html="\n".join(parts))
