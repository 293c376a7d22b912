"""Which producer renders which product kind. Adding a kind: its module, its tests, one line here."""

from __future__ import annotations

from .kinds.text import TextProducer
from .producer import Producer

PRODUCERS: dict[str, Producer] = {
    "slides": TextProducer(),
    "article": TextProducer(),
    "social-post": TextProducer(),
    "video": TextProducer(),
    "podcast": TextProducer(),
    "photo-series": TextProducer(),
}
