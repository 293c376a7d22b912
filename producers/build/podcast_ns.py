"""Podcasting 2.0 namespace (https://podcastindex.org/namespace/1.0) as a feedgen extension.

feedgen ships the iTunes tags only. Register with::

    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension)

then ``fg.podcastindex.guid(...)``, ``fe.podcastindex.transcript(...)`` and so on. The channel
extension also writes ``atom:link rel="alternate"`` links to sibling feeds (feedgen writes only the
``self`` link in RSS), and the entry extension writes Podlove Simple Chapters (``psc:chapters``)
beside ``podcast:chapters``: gPodder's parser and several apps read chapters only from psc.
"""

from __future__ import annotations

import uuid

import lxml.etree  # noqa: F401  (feedgen.util uses lxml.etree without importing it)
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PSC_NS = "http://podlove.org/simple-chapters"
ATOM_NS = "http://www.w3.org/2005/Atom"
# The namespace the Podcasting 2.0 spec fixes for podcast:guid's UUIDv5.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """podcast:guid as the spec defines it: UUIDv5 of the feed URL without scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def _seconds(value: float) -> str:
    """A time in seconds as Podlove's normal play time, HH:MM:SS.mmm."""
    millis = round(value * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest / 1000:06.3f}"


class PodcastIndexExtension(BaseExtension):
    """Channel-level tags: podcast:guid, podcast:locked, podcast:person, and sibling-feed links."""

    def __init__(self):
        self._guid: str | None = None
        self._locked: tuple[bool, str | None] | None = None
        self._persons: list[dict] = []
        self._alternates: list[dict] = []

    def extend_ns(self):
        return {"podcast": PODCAST_NS}

    def guid(self, value: str | None = None) -> str | None:
        if value is not None:
            self._guid = str(uuid.UUID(value))   # refuse anything that is not a UUID
        return self._guid

    def locked(self, locked: bool, owner: str | None = None) -> None:
        self._locked = (bool(locked), owner)

    def person(self, name: str, role: str = "host", group: str = "cast", img: str | None = None,
               href: str | None = None) -> None:
        self._persons.append({"name": name, "role": role, "group": group, "img": img, "href": href})

    def alternate(self, href: str, title: str, type: str = "application/rss+xml") -> None:
        self._alternates.append({"href": href, "title": title, "type": type})

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        for link in self._alternates:
            xml_elem(f"{{{ATOM_NS}}}link", channel, rel="alternate", **link)
        if self._guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self._guid
        if self._locked is not None:
            locked, owner = self._locked
            element = xml_elem(f"{{{PODCAST_NS}}}locked", channel)
            element.text = "yes" if locked else "no"
            if owner:
                element.set("owner", owner)
        _write_persons(channel, self._persons)
        return rss_feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item-level tags: podcast:transcript, podcast:chapters, podcast:person, psc:chapters."""

    def __init__(self):
        self._transcripts: list[dict] = []
        self._chapters_url: str | None = None
        self._chapters: list[tuple[float, str]] = []
        self._persons: list[dict] = []

    def extend_ns(self):
        return {"podcast": PODCAST_NS, "psc": PSC_NS}

    def transcript(self, url: str, type: str, language: str | None = None, rel: str | None = None) -> None:
        self._transcripts.append({"url": url, "type": type, "language": language, "rel": rel})

    def chapters(self, url: str, inline: list[tuple[float, str]] = ()) -> None:
        """The JSON chapters file's URL; ``inline`` (start seconds, title) also become psc:chapters."""
        self._chapters_url = url
        self._chapters = list(inline)

    def person(self, name: str, role: str = "host", group: str = "cast", img: str | None = None,
               href: str | None = None) -> None:
        self._persons.append({"name": name, "role": role, "group": group, "img": img, "href": href})

    def extend_rss(self, entry):
        for transcript in self._transcripts:
            attributes = {k: v for k, v in transcript.items() if v}
            xml_elem(f"{{{PODCAST_NS}}}transcript", entry, **attributes)
        if self._chapters_url:
            xml_elem(f"{{{PODCAST_NS}}}chapters", entry, url=self._chapters_url, type="application/json+chapters")
        _write_persons(entry, self._persons)
        if self._chapters:
            group = xml_elem(f"{{{PSC_NS}}}chapters", entry, version="1.2")
            for start, title in self._chapters:
                xml_elem(f"{{{PSC_NS}}}chapter", group, start=_seconds(start), title=title)
        return entry


def _write_persons(parent, persons: list[dict]) -> None:
    for person in persons:
        attributes = {k: person[k] for k in ("role", "group", "img", "href") if person.get(k)}
        xml_elem(f"{{{PODCAST_NS}}}person", parent, **attributes).text = person["name"]
