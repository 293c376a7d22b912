"""Which producer renders which product kind. Adding a kind: its module, its tests, one line here."""

from __future__ import annotations

from .kinds.article import ArticleProducer
from .kinds.photos import PhotoSeriesProducer
from .kinds.podcast import PodcastProducer
from .kinds.slides import SlidesProducer
from .kinds.social import SocialPostProducer
from .kinds.video import VideoProducer
from .producer import Producer

PRODUCERS: dict[str, Producer] = {
    "slides": SlidesProducer(),
    "article": ArticleProducer(),
    "social-post": SocialPostProducer(),
    "video": VideoProducer(),
    "podcast": PodcastProducer(),
    "photo-series": PhotoSeriesProducer(),
}
