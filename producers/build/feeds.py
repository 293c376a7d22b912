"""Podcast feeds: RSS 2.0 + iTunes + Podcasting 2.0, built from episode records by pure functions.

Three families of feed, linked to each other: the whole site (``podcast/feed.xml``), one per cell
(``podcast/<cell>/feed.xml``) and one per language (``podcast/<lang>/feed.xml``). An episode's GUID
and pubDate come from its identity (session id + product file stem, session date), never from
the build time or the audio's bytes: re-encoding or editing an episode must never make a podcast
app list it twice. The feed bytes are deterministic too (lastBuildDate is the newest episode's
date), so an unchanged site publishes byte-identical feeds.

Podcast apps render an item's ``<description>`` and ``<content:encoded>`` (and the channel's
``<description>``) as HTML, so what goes there is HTML cleaned with the pages' allow-list
(``html.clean``): plain text is escaped first, show notes are sanitised. Every other text field is
plain text, which lxml escapes for XML.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from feedgen.feed import FeedGenerator
from producers.errors import ProducerError
from producers.web.html import clean, escape
from producers.web.i18n import LANGUAGE_NAMES, Labels
from producers.web.templates import Markup, render
from producers.content.model import Cell, PodcastChannel, SiteConfig
from producers.build.podcast_ns import PodcastIndexEntryExtension, PodcastIndexExtension, podcast_guid
from producers.kinds.podcast import Episode, clip_utf8
from producers.media.artwork import artwork_bytes

FEED_DIR = "podcast"
FEED_NAME = "feed.xml"
SUBSCRIBE_PATH = "podcast/"                  # the subscribe page; every feed's <link> points at it


@dataclass(frozen=True)
class FeedLink:
    """One feed as the subscribe page and the feeds' alternate links list it."""

    path: str                                # site-relative, e.g. podcast/ha-long/feed.xml
    url: str
    title: str
    scope: str                               # "site" | "cell" | "language"
    key: str                                 # "", the cell id or the language code
    episodes: tuple[Episode, ...] = field(default=(), repr=False)
    language: str = "en"


def feed_html(fragment: str) -> str:
    """HTML as a feed may carry it: only what the pages' allow-list lets through."""
    return clean(fragment)


def text_as_html(text: str) -> str:
    """Plain text for a field that readers render as HTML."""
    return feed_html(escape(text))


def hms(seconds: float) -> str:
    total = int(round(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def plan_feeds(episodes: Iterable[Episode], channel: PodcastChannel, site: SiteConfig,
               cells: Mapping[str, Cell] | None = None) -> list[FeedLink]:
    """Which feeds exist: the site-wide one always, one per cell and language that has episodes."""
    cells = cells or {}
    ordered = tuple(sorted(episodes, key=lambda e: (e.pub_date, e.guid), reverse=True))
    cell_ids = sorted({e.cell for e in ordered})
    languages = sorted({e.language for e in ordered})
    clash = set(cell_ids) & set(languages)
    if clash:
        raise ProducerError(f"cell id {', '.join(sorted(clash))!r} is also a language code, so its podcast feed "
                            f"would overwrite the language feed at {FEED_DIR}/<id>/{FEED_NAME}; rename the cell")

    def link(key: str, scope: str, title: str, items: tuple[Episode, ...], language: str) -> FeedLink:
        path = f"{FEED_DIR}/{key + '/' if key else ''}{FEED_NAME}"
        return FeedLink(path=path, url=site.base_url + path, title=title, scope=scope, key=key,
                        episodes=items, language=language)

    feeds = [link("", "site", channel.title, ordered, site.language)]
    for cell_id in cell_ids:
        items = tuple(e for e in ordered if e.cell == cell_id)
        cell = cells.get(cell_id)
        name = cell.name if cell else (items[0].cell_name or cell_id)
        language = cell.language if cell else Counter(e.language for e in items).most_common(1)[0][0]
        feeds.append(link(cell_id, "cell", f"{channel.title} — {name}", items, language))
    for language in languages:
        items = tuple(e for e in ordered if e.language == language)
        feeds.append(link(language, "language", f"{channel.title} ({LANGUAGE_NAMES.get(language, language)})",
                          items, language))
    return feeds


def build_feeds(episodes: Iterable[Episode], channel: PodcastChannel, site: SiteConfig, *,
                cells: Mapping[str, Cell] | None = None, content_root: Path | None = None) -> dict[str, bytes]:
    """Every feed's XML keyed by its site-relative path, plus the channel artwork (``podcast/artwork.jpg``).

    With ``content_root`` the channel image is validated (ProducerError naming site.yml otherwise)
    and re-encoded for publishing; without it the artwork URL is still written but no bytes.
    """
    feeds = plan_feeds(episodes, channel, site, cells)
    artwork_path = f"{FEED_DIR}/artwork.jpg"
    files: dict[str, bytes] = {}
    if content_root is not None:
        files[artwork_path] = artwork_bytes(Path(content_root) / channel.image, "site.yml podcast.image")
    for feed in feeds:
        files[feed.path] = feed_xml(feed, feeds, channel, site, site.base_url + artwork_path)
    return files


def feed_xml(feed: FeedLink, siblings: list[FeedLink], channel: PodcastChannel, site: SiteConfig,
             image_url: str) -> bytes:
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension)
    fg.title(feed.title)
    fg.description(text_as_html(channel.description))
    fg.language(feed.language)
    fg.author({"name": channel.author, "email": channel.owner.email})
    fg.generator("cell35")
    fg.link(href=feed.url, rel="self", type="application/rss+xml")   # self first: feedgen keeps the last <link>
    fg.link(href=site.base_url + SUBSCRIBE_PATH, rel="alternate")
    fg.image(url=image_url, title=feed.title, link=site.base_url + SUBSCRIBE_PATH)
    fg.podcast.itunes_author(channel.author)
    fg.podcast.itunes_owner(name=channel.owner.name, email=channel.owner.email)
    fg.podcast.itunes_image(image_url)
    fg.podcast.itunes_summary(channel.description)
    if channel.subcategory:
        fg.podcast.itunes_category(channel.category, channel.subcategory)
    else:
        fg.podcast.itunes_category(channel.category)
    fg.podcast.itunes_explicit("yes" if channel.explicit else "no")
    fg.podcast.itunes_type(channel.type)
    fg.podcastindex.guid(podcast_guid(feed.url))
    fg.podcastindex.locked(channel.locked, channel.owner.email)
    for sibling in siblings:
        if sibling.path != feed.path:
            fg.podcastindex.alternate(sibling.url, sibling.title)
    newest = feed.episodes[0].pub_date if feed.episodes else dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    fg.lastBuildDate(newest)
    fg.pubDate(newest)
    for episode in feed.episodes:
        _add_entry(fg, episode, channel)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def _add_entry(fg: FeedGenerator, episode: Episode, channel: PodcastChannel) -> None:
    fe = fg.add_entry(order="append")
    fe.guid(episode.guid, permalink=False)
    fe.title(episode.title)
    fe.link(href=episode.page_url)
    fe.description(text_as_html(clip_utf8(episode.description or episode.title)))
    if episode.notes_html:
        fe.content(feed_html(episode.notes_html))         # content:encoded, escaped for XML by lxml (no CDATA)
    fe.enclosure(episode.enclosure_url, str(episode.length), "audio/mpeg")
    fe.pubDate(episode.pub_date)
    fe.podcast.itunes_duration(hms(episode.duration))
    fe.podcast.itunes_author(episode.author or episode.cell_name or channel.author)
    fe.podcast.itunes_explicit("yes" if episode.explicit else "no")
    fe.podcast.itunes_episode_type("full")
    if episode.episode:
        fe.podcast.itunes_episode(episode.episode)
    if episode.season:
        fe.podcast.itunes_season(episode.season)
    if episode.image_url:
        fe.podcast.itunes_image(episode.image_url)
    if episode.transcript_url:
        fe.podcastindex.transcript(episode.transcript_url, "text/vtt", episode.language, "captions")
    if episode.transcript_srt_url:
        fe.podcastindex.transcript(episode.transcript_srt_url, "application/x-subrip", episode.language, "captions")
    if episode.chapters_url:
        fe.podcastindex.chapters(episode.chapters_url, episode.chapters)
    for name, role in episode.persons:
        fe.podcastindex.person(name, role=role)


def subscribe_page_html(feeds: list[FeedLink], labels: Labels) -> Markup:
    """The subscribe page body: every feed with its address to copy, and how to add it to an app."""
    sections = {"site": [], "cell": [], "language": []}
    for feed in feeds:
        sections[feed.scope].append(feed)
    headings = {"site": "podcast_feed_all", "cell": "podcast_feeds_by_cell", "language": "podcast_feeds_by_language"}
    shown = [{"heading": labels(headings[scope]),
              "feeds": [{"url": feed.url, "title": feed.title,
                         "count": labels("podcast_episode_count", n=len(feed.episodes))} for feed in items]}
             for scope, items in sections.items() if items]
    steps = [labels(key) for key in ("podcast_subscribe_step1", "podcast_subscribe_step2", "podcast_subscribe_step3")]
    return render("subscribe.html", intro=labels("podcast_subscribe_intro"), steps=steps, sections=shown)


def site_podcast(episodes: Iterable[Episode], site: SiteConfig, cells: Mapping[str, Cell], content_root: Path,
                 labels: Labels) -> tuple[dict[str, bytes], str]:
    """What the site build publishes for podcasts: ({path: bytes} of feeds + artwork, subscribe page HTML).

    Nothing when site.yml has no ``podcast:`` section. Raises ProducerError (naming site.yml) for
    bad channel artwork or a cell id that collides with a language code.
    """
    if site.podcast is None:
        return {}, ""
    episodes = list(episodes)
    files = build_feeds(episodes, site.podcast, site, cells=cells, content_root=content_root)
    return files, subscribe_page_html(plan_feeds(episodes, site.podcast, site, cells), labels)
