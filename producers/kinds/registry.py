"""The product kinds this build knows. Adding a kind: its module, its tests, one line here.

One literal dict, no discovery: what a site can publish is read here, and each kind's module
declares everything about it (``producers.kinds.base.Kind``). Code that takes a registry (the build,
the loader, the report, `cell35 new session`) takes it as an argument defaulting to this one, so a
test can add a kind of its own without touching any module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from producers.content import loader
from producers.content.scaffold import Scaffold
from producers.kinds import article, photos, podcast, slides, social, video
from producers.kinds.base import Kind, check_registry, labels_for
from producers.web.i18n import Labels

REGISTRY: Mapping[str, Kind] = check_registry({
    "slides": slides.KIND,
    "article": article.KIND,
    "social-post": social.KIND,
    "video": video.KIND,
    "podcast": podcast.KIND,
    "photo-series": photos.KIND,
})


def product_models(kinds: Mapping[str, Kind] = REGISTRY) -> dict[str, type]:
    """Kind name -> its pydantic model: what the loader validates a product file against."""
    return {name: kind.model for name, kind in kinds.items()}


def scaffolds(kinds: Mapping[str, Kind] = REGISTRY) -> dict[str, Scaffold]:
    return {name: kind.scaffold for name, kind in kinds.items()}


def load_content(root: Path, kinds: Mapping[str, Kind] = REGISTRY) -> loader.ContentTree:
    """The content tree, each product validated against the model its kind declares."""
    return loader.load_content(root, product_models(kinds))


def site_labels(language: str, kinds: Mapping[str, Kind] = REGISTRY) -> Labels:
    """The site's words in ``language``, every registered kind's included."""
    return labels_for(language, kinds)
