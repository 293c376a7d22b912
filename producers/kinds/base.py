"""What a product kind is: one module declaring a ``Kind`` (its model, labels, scaffold, report
column, jobs and page), and the small Producer Protocol its jobs and page implement.

A producer only *describes* its work (``plan`` returns Jobs: inputs, outputs, action); the
pipeline decides what is stale and runs it. ``page`` then turns the job outputs into the HTML
fragment of the product's page and the media files published beside it.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from producers.content.loader import ProductRecord, SessionRecord, check_media_path
from producers.content.model import Cell, ProductBase, SiteConfig
from producers.content.scaffold import Scaffold
from producers.web.i18n import LANGUAGE_NAMES, Labels, long_date, site_label_keys
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

    @property
    def date_text(self) -> str:
        """The session's date as the product's readers write it, for text drawn into its images."""
        return long_date(self.session.session.date, self.record.language)

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

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        """The product page from its finished jobs (``results`` keyed by job name)."""


class KindError(Exception):
    """A kind declared incompletely: raised when its module is imported, never in a build."""


@dataclass(frozen=True)
class Kind:
    """Everything the system knows about one product kind, declared once in the kind's module.

    ``labels`` maps each site language to the kind's words: ``kind.<name>`` (what the kind is
    called, in menus, lists and the report) and whatever its page says. ``report_colour`` is its
    column in the evaluation report (the column is named by the kind; its bars have this colour).
    ``feed_entry``, when declared, makes the kind's public products entries of the site's podcast
    feeds: it returns a ``feeds.Episode``-like record from the product's finished jobs.

    ``thumbnail`` names the product's picture in listings: (job name, output name) among its
    planned jobs (a cover, a poster, a first slide), a file, or None for none; undeclared, it is the job
    that makes ``card.png``. ``duration`` gives seconds of playing time from the finished jobs
    (audio and video), shown on the listing card."""

    name: str
    model: type[ProductBase] | None = None
    producer: Producer | None = None
    labels: Mapping[str, Mapping[str, str]] | None = None
    scaffold: Scaffold | None = None
    report_colour: str | None = None
    feed_entry: Callable[[ProductContext, Mapping[str, JobResult]], Any] | None = None
    thumbnail: Callable[[ProductContext, Sequence[Job]], tuple[str, str] | Path | None] | None = None
    duration: Callable[[ProductContext, Mapping[str, JobResult]], float | None] | None = None

    def __post_init__(self) -> None:
        problems = kind_problems(self)
        if problems:
            raise KindError(f"product kind {self.name!r} is incomplete: " + "; ".join(problems))


def kind_problems(kind: Kind) -> list[str]:
    """What a kind's declaration lacks, each naming the field and what it must hold."""
    name = kind.name
    problems = []
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", name):
        return [f"name must be lowercase words joined by hyphens, like 'photo-series', received: {name!r}"]
    model = kind.model
    if not (isinstance(model, type) and issubclass(model, ProductBase)):
        problems.append(f"model: declare a pydantic model extending content.model.ProductBase, received: {model!r}")
    elif typing.get_args(model.model_fields["type"].annotation) != (name,):
        problems.append(f"model: {model.__name__}.type must be Literal[{name!r}], "
                        f"received: {model.model_fields['type'].annotation}")
    if not all(callable(getattr(kind.producer, method, None)) for method in ("plan", "page")):
        problems.append("producer: declare an object with plan(ctx) -> [Job] and page(ctx, results, labels)")
    if not isinstance(kind.labels, Mapping):
        problems.append(f"labels: declare the kind's words in every site language "
                        f"({', '.join(LANGUAGE_NAMES)}), at least 'kind.{name}'")
    else:
        english = set(kind.labels.get("en") or ())
        for language in LANGUAGE_NAMES:
            words = kind.labels.get(language)
            if not isinstance(words, Mapping) or f"kind.{name}" not in words:
                problems.append(f"labels[{language!r}]: missing 'kind.{name}' (what the kind is called)")
            elif set(words) != english:
                problems.append(f"labels[{language!r}]: keys differ from English: "
                                f"missing ({', '.join(sorted(english - set(words))) or 'none'}), "
                                f"extra ({', '.join(sorted(set(words) - english)) or 'none'})")
        clash = english & site_label_keys()
        if clash:
            problems.append(f"labels: these keys are site-wide labels already: ({', '.join(sorted(clash))})")
    if not isinstance(kind.scaffold, Scaffold):
        problems.append("scaffold: declare a content.scaffold.Scaffold (the front matter and body "
                        "`cell35 new session` writes)")
    if not isinstance(kind.report_colour, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", kind.report_colour):
        problems.append(f"report_colour: declare the colour of the kind's column in the report, "
                        f"written #rrggbb, received: {kind.report_colour!r}")
    return problems


def check_registry(kinds: Mapping[str, Kind]) -> Mapping[str, Kind]:
    """A registry as the build uses it: each key its kind's name, no two kinds sharing a word key."""
    seen: dict[str, str] = {}
    for key, kind in kinds.items():
        if not isinstance(kind, Kind):
            raise KindError(f"registry[{key!r}]: expected a Kind, received: {kind!r}")
        if key != kind.name:
            raise KindError(f"registry[{key!r}] holds the kind {kind.name!r}: the key must be its name")
        for word in kind.labels["en"]:
            if word in seen:
                raise KindError(f"label {word!r} is declared by both {seen[word]!r} and {key!r}")
            seen[word] = key
    return kinds


def labels_for(language: str, kinds: Mapping[str, Kind]) -> Labels:
    """The site's words in ``language`` and every registered kind's."""
    return Labels(language, {key: text for kind in kinds.values() for key, text in kind.labels[language].items()})
