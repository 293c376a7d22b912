"""Typed, frozen content model. Validated once at the edge (loader.py); code past it trusts it.

Every schema is declared here, once: site.yml, cells.yml, session front matter, and each product
kind's front matter (including kinds whose producer lands later).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Language = Literal["en", "vi", "hi"]
Status = Literal["draft", "submitted", "approved", "published", "rejected"]
Group = Literal["build", "fight"]
Channel = Literal["site", "social", "press", "contest"]
Platform = Literal["facebook", "zalo", "x", "telegram"]
ProductType = Literal["slides", "article", "social-post", "video", "podcast", "photo-series"]

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
HEX_COLOUR_RE = r"^#[0-9a-fA-F]{6}$"

Slug = Annotated[str, Field(pattern=SLUG_RE, min_length=1, max_length=80)]
Line = Annotated[str, Field(min_length=1, max_length=200)]
MediaPath = Annotated[str, Field(min_length=1, max_length=255)]


class Strict(BaseModel):
    """Unknown keys are errors; objects never change after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- site.yml ---------------------------------------------------------------------------------

class Theme(Strict):
    primary: str = Field("#b71c1c", pattern=HEX_COLOUR_RE)
    accent: str = Field("#f9a825", pattern=HEX_COLOUR_RE)


class PodcastOwner(Strict):
    name: Line
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class PodcastChannel(Strict):
    title: Line
    author: Line
    owner: PodcastOwner
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    image: MediaPath
    category: Line = "Society & Culture"
    subcategory: Line | None = None
    explicit: bool = False
    type: Literal["episodic", "serial"] = "episodic"
    locked: bool = True
    intro_music: MediaPath | None = None
    outro_music: MediaPath | None = None


# Caps on what `cell35 intake` files, in bytes once unpacked (a 557 KB zip once unpacked to 476 MB).
MAX_SUBMISSION_BYTES = 100_000_000
QUARTER_QUOTA_BYTES = 300_000_000


class IntakeLimits(Strict):
    """site.yml ``intake:``: what one submission, and one cell in one calendar quarter, may unpack to."""

    max_submission_bytes: Annotated[int, Field(ge=1)] = MAX_SUBMISSION_BYTES
    quarter_quota_bytes: Annotated[int, Field(ge=1)] = QUARTER_QUOTA_BYTES


class SiteConfig(Strict):
    title: Line
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")]
    language: Language
    description: Annotated[str, Field(max_length=500)] = ""
    logo: MediaPath | None = None
    theme: Theme = Theme()
    podcast: PodcastChannel | None = None
    intake: IntakeLimits = IntakeLimits()

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


# --- cells.yml --------------------------------------------------------------------------------

class Cell(Strict):
    id: Slug
    name: Line
    committee: Line
    area: Line
    language: Language


class CellsFile(Strict):
    cells: Annotated[list[Cell], Field(min_length=1)]


# --- session.md -------------------------------------------------------------------------------

class Attendance(Strict):
    present: Annotated[int, Field(ge=0, le=100_000)]
    members: Annotated[int, Field(ge=1, le=100_000)]

    @model_validator(mode="after")
    def _present_le_members(self) -> "Attendance":
        if self.present > self.members:
            raise ValueError(f"present ({self.present}) cannot exceed members ({self.members})")
        return self


class HistoryEntry(Strict):
    """One editorial step, recorded by `cell35 approve/reject/publish` in the session's front matter."""

    action: Literal["submitted", "approved", "rejected", "published", "revision"]
    by: Line
    at: dt.datetime
    reason: Annotated[str, Field(max_length=2000)] | None = None


class Session(Strict):
    title: Line
    cell: Slug
    date: dt.date
    group: Group
    language: Language
    attendance: Attendance
    status: Status = "draft"
    summary: Annotated[str, Field(min_length=1, max_length=1000)]
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=20)] = []
    history: list[HistoryEntry] = []

    @property
    def quarter(self) -> str:
        return f"{self.date.year}-q{(self.date.month - 1) // 3 + 1}"


# --- products ---------------------------------------------------------------------------------

class ProductBase(Strict):
    type: ProductType
    title: Line
    language: Language | None = None
    authors: Annotated[list[Line], Field(max_length=20)] = []
    channels: Annotated[list[Channel], Field(min_length=1)] = ["site"]
    summary: Annotated[str, Field(max_length=1000)] = ""


class Image(Strict):
    file: MediaPath
    alt: Annotated[str, Field(min_length=1, max_length=250)]
    credit: Line | None = None
    copyright: Line | None = None


class SlidesProduct(ProductBase):
    type: Literal["slides"]
    video: bool = False
    """Also render a narrated video, its speaker notes read aloud."""


class ArticleProduct(ProductBase):
    type: Literal["article"]
    cover: Image | None = None


class SocialPostProduct(ProductBase):
    type: Literal["social-post"]
    hashtags: Annotated[list[Annotated[str, Field(pattern=r"^#?[\w]+$", max_length=60)]], Field(max_length=30)] = []
    image: Image | None = None
    platforms: Annotated[list[Platform], Field(min_length=1)] = ["facebook", "zalo", "x", "telegram"]


class NarrationSpan(Strict):
    file: MediaPath
    start: Annotated[float, Field(ge=0)]
    end: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _ordered(self) -> "NarrationSpan":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


MAX_SCENE_SECONDS = 120.0


class Scene(Strict):
    image: MediaPath | None = None
    slide: Annotated[str, Field(pattern=r"^[a-z0-9-]+#[0-9]+$")] | None = None
    """``<slides product file stem>#<slide number>``, e.g. ``01-slides#3``."""
    title: Line | None = None
    caption: Annotated[str, Field(max_length=300)] = ""
    narration: Annotated[str, Field(max_length=2000)] = ""
    narration_audio: NarrationSpan | None = None
    duration: Annotated[float, Field(gt=0, le=MAX_SCENE_SECONDS)] | None = None

    @model_validator(mode="after")
    def _one_visual(self) -> "Scene":
        visuals = [name for name in ("image", "slide", "title") if getattr(self, name)]
        if len(visuals) != 1:
            found = ", ".join(visuals) if visuals else "none"
            raise ValueError(f"a scene needs exactly one visual of (image, slide, title); found: {found}")
        if self.narration and self.narration_audio:
            raise ValueError("a scene has either narration text or narration_audio, not both")
        if not (self.duration or self.narration or self.narration_audio):
            raise ValueError("a scene without narration needs a duration (seconds)")
        return self


class VideoProduct(ProductBase):
    type: Literal["video"]
    scenes: Annotated[list[Scene], Field(min_length=1, max_length=60)]
    music: MediaPath | None = None
    shapes: Annotated[list[Literal["16:9", "9:16"]], Field(min_length=1)] = ["16:9", "9:16"]
    resolution: Literal["720p", "1080p"] = "720p"


class Chapter(Strict):
    start: Annotated[str, Field(pattern=r"^(\d+:)?\d{1,2}:\d{2}(\.\d+)?$")]
    title: Line

    @field_validator("start", mode="before")
    @classmethod
    def _seconds_to_clock(cls, value):
        # YAML 1.1 reads an unquoted 1:30 as the base-60 number 90: it meant 90 seconds all along.
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            minutes, seconds = divmod(float(value), 60)
            hours, minutes = divmod(int(minutes), 60)
            clock = f"{minutes:02d}:{seconds:06.3f}".rstrip("0").rstrip(".")
            return f"{hours}:{clock}" if hours else clock
        return value

    @property
    def seconds(self) -> float:
        parts = [float(p) for p in self.start.split(":")]
        total = 0.0
        for part in parts:
            total = total * 60 + part
        return total


class Person(Strict):
    name: Line
    role: Line = "host"


class PodcastProduct(ProductBase):
    type: Literal["podcast"]
    audio: MediaPath | None = None
    transcript: MediaPath | None = None
    chapters: Annotated[list[Chapter], Field(max_length=100)] = []
    persons: Annotated[list[Person], Field(max_length=20)] = []
    episode: Annotated[int, Field(ge=1)] | None = None
    season: Annotated[int, Field(ge=1)] | None = None
    explicit: bool = False
    cover: MediaPath | None = None

    @model_validator(mode="after")
    def _chapters_ordered(self) -> "PodcastProduct":
        starts = [c.seconds for c in self.chapters]
        if starts != sorted(starts):
            raise ValueError("chapters must be listed in order of their start times")
        if self.transcript and not self.audio:
            raise ValueError("an uploaded transcript belongs to a recording; a script episode's "
                             "transcript is made from its text")
        return self


class Photo(Strict):
    file: MediaPath
    caption: Annotated[str, Field(min_length=1, max_length=500)]
    alt: Annotated[str, Field(min_length=1, max_length=250)]
    credit: Line | None = None
    copyright: Line | None = None


class PhotoSeriesProduct(ProductBase):
    type: Literal["photo-series"]
    photos: Annotated[list[Photo], Field(min_length=1, max_length=60)]


PRODUCT_MODELS: dict[str, type[ProductBase]] = {
    "slides": SlidesProduct,
    "article": ArticleProduct,
    "social-post": SocialPostProduct,
    "video": VideoProduct,
    "podcast": PodcastProduct,
    "photo-series": PhotoSeriesProduct,
}

FILE_NAME_RE = re.compile(r"^[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
SESSION_DIR_RE = re.compile(SLUG_RE)
QUARTER_DIR_RE = re.compile(r"^(\d{4})-q([1-4])$")
