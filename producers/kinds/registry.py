"""Which producer renders which product kind. Adding a kind: its module, its tests, one line here."""

from __future__ import annotations

from producers.kinds.article import ArticleProducer
from producers.kinds.photos import PhotoSeriesProducer
from producers.kinds.podcast import PodcastProducer
from producers.kinds.slides import SlidesProducer
from producers.kinds.social import SocialPostProducer
from producers.kinds.video import VideoProducer
from producers.kinds.base import Producer

PRODUCERS: dict[str, Producer] = {
    "slides": SlidesProducer(),
    "article": ArticleProducer(),
    "social-post": SocialPostProducer(),
    "video": VideoProducer(),
    "podcast": PodcastProducer(),
    "photo-series": PhotoSeriesProducer(),
}
