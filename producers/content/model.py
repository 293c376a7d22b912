"""Typed, frozen content model. Validated once at the edge (loader.py); code past it trusts it.

Every schema is declared here, once: site.yml, cells.yml, session front matter, and
what every product shares (``ProductBase``). Each product kind's own model lives in its module
under ``producers/kinds/``: this layer never names a kind.

What text is allowed is decided here, once (``text_problem``): every string field of every model
goes through it (``text()`` / ``Text``), and the loader applies the same rule to whole files and
Markdown bodies, so ``check`` names the file, line and field of a character that would otherwise
crash a feed or a page much later. Web addresses are validated as addresses (``BaseUrl``), and every
cap on how much one product may hold is a named constant (in the kind's module), with a message
saying how to split (``cap_message``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Iterator, Literal, Sequence

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from producers.errors import Problem

Language = Literal["en", "vi", "hi"]
Status = Literal["draft", "submitted", "approved", "published", "rejected"]
Group = Literal["build", "fight"]
Channel = Literal["site", "social", "press", "contest"]
Platform = Literal["facebook", "zalo", "x", "telegram"]

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
HEX_COLOUR_RE = r"^#[0-9a-fA-F]{6}$"

# --- caps: how much one product may hold. Each kind's module names its own caps; every message
# names the cap and how to split the work, in one wording. ---------------------------------------


def cap_message(what: str, found: int | float, cap: int | float, unit: str, split: str) -> str:
    """'a deck has 61 slides; the cap is 60 slides per deck: split ...' -- one wording for every cap."""
    return f"{what} {found:,} {unit}; the cap is {cap:,} {unit} {split}"


# --- text: what a string may contain ---------------------------------------------------------------

_C0_NAMES = (
    "NULL", "START OF HEADING", "START OF TEXT", "END OF TEXT", "END OF TRANSMISSION", "ENQUIRY", "ACKNOWLEDGE",
    "BELL", "BACKSPACE", "CHARACTER TABULATION", "LINE FEED", "LINE TABULATION", "FORM FEED", "CARRIAGE RETURN",
    "SHIFT OUT", "SHIFT IN", "DATA LINK ESCAPE", "DEVICE CONTROL ONE", "DEVICE CONTROL TWO", "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR", "NEGATIVE ACKNOWLEDGE", "SYNCHRONOUS IDLE", "END OF TRANSMISSION BLOCK", "CANCEL",
    "END OF MEDIUM", "SUBSTITUTE", "ESCAPE", "INFORMATION SEPARATOR FOUR", "INFORMATION SEPARATOR THREE",
    "INFORMATION SEPARATOR TWO", "INFORMATION SEPARATOR ONE")
_C1_NAMES = (
    "PADDING CHARACTER", "HIGH OCTET PRESET", "BREAK PERMITTED HERE", "NO BREAK HERE", "INDEX", "NEXT LINE",
    "START OF SELECTED AREA", "END OF SELECTED AREA", "CHARACTER TABULATION SET",
    "CHARACTER TABULATION WITH JUSTIFICATION", "LINE TABULATION SET", "PARTIAL LINE FORWARD", "PARTIAL LINE BACKWARD",
    "REVERSE LINE FEED", "SINGLE SHIFT TWO", "SINGLE SHIFT THREE", "DEVICE CONTROL STRING", "PRIVATE USE ONE",
    "PRIVATE USE TWO", "SET TRANSMIT STATE", "CANCEL CHARACTER", "MESSAGE WAITING", "START OF GUARDED AREA",
    "END OF GUARDED AREA", "START OF STRING", "SINGLE GRAPHIC CHARACTER INTRODUCER", "SINGLE CHARACTER INTRODUCER",
    "CONTROL SEQUENCE INTRODUCER", "STRING TERMINATOR", "OPERATING SYSTEM COMMAND", "PRIVACY MESSAGE",
    "APPLICATION PROGRAM COMMAND")
# Controls (C0 but tab and line feed, DEL, C1), the 66 non-characters, and surrogates: none is text.
# XML 1.0 (feeds), HTML and the fonts all refuse or mangle them; tab and line feed are ordinary.
# The expression finds every astral character too, and ``_forbidden`` keeps the non-characters among
# them: listing the 32 astral non-characters in the class made a search ~13x slower (measured: 475
# against 36 microseconds on a 1.6 KB Vietnamese body), and loading reads every file.
_CANDIDATE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef\ud800-\udfff\ufffe\uffff"
                           "\U00010000-\U0010ffff]")


def _forbidden(char: str) -> bool:
    code = ord(char)
    return code < 0x10000 or code & 0xFFFE == 0xFFFE


TEXT_ALLOWED = ("text may hold any character but control characters (tab and line break are fine), "
                "non-characters and lone surrogates")


def describe_character(char: str) -> str:
    """'U+0007 (BELL)': the code point and what it is, for a message."""
    code = ord(char)
    if code < 0x20:
        name = _C0_NAMES[code]
    elif code == 0x7F:
        name = "DELETE"
    elif 0x80 <= code <= 0x9F:
        name = _C1_NAMES[code - 0x80]
    elif 0xD800 <= code <= 0xDFFF:
        name = "a lone surrogate"
    else:
        name = "a non-character"
    return f"U+{code:04X} ({name})"


def forbidden_characters(text: str) -> Iterator[tuple[int, str]]:
    """Every (index, character) of ``text`` that is not allowed text, in order."""
    return ((m.start(), m.group()) for m in _CANDIDATE_RE.finditer(text) if _forbidden(m.group()))


def replace_forbidden(text: str, replacement: str = "\ufffd") -> str:
    return _CANDIDATE_RE.sub(lambda m: replacement if _forbidden(m.group()) else m.group(), text)


def character_message(text: str, index: int, multiline: bool | None = None) -> str:
    """'U+0007 (BELL) at column 12; text may hold ...' for the character at ``index`` of ``text``."""
    line_start = text.rfind("\n", 0, index) + 1
    column = index - line_start + 1
    where = f"column {column}"
    if multiline if multiline is not None else "\n" in text:
        where = f"line {text.count(chr(10), 0, index) + 1}, column {column}"
    return f"{describe_character(text[index])} at {where}; {TEXT_ALLOWED}"


def text_problem(text: str) -> str | None:
    """None if ``text`` is allowed, else the message for its first forbidden character."""
    found = next(forbidden_characters(text), None)
    return None if found is None else character_message(text, found[0])


def _allowed_text(value: Any) -> Any:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
    return value


TEXT_VALIDATOR = BeforeValidator(_allowed_text)


def text(**constraints: Any) -> Any:
    """A string field under the text rule, with pydantic ``Field`` constraints (length, pattern).

    The rule comes last so that it runs first, on the value as written, and the constraints keep
    their own error types (``string_too_long``) and JSON Schema."""
    return Annotated[str, Field(**constraints), TEXT_VALIDATOR]


Text = text()
Slug = text(pattern=SLUG_RE, min_length=1, max_length=80)
Line = text(min_length=1, max_length=200)
MediaPath = text(min_length=1, max_length=255)


# --- web addresses ---------------------------------------------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_URL_CHARS = r"[A-Za-z0-9\-._~!$&*+,;=:@/%]"
_URL_RE = re.compile(rf"^https?://{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?"
                     rf"(?P<path>/{_URL_CHARS}*)?(?P<query>\?(?:{_URL_CHARS}|\?)*)?(?P<fragment>#(?:{_URL_CHARS}|\?)*)?$")
_URL_FORBIDDEN_RE = re.compile(r"""[\s"'<>`\\{}|^()\[\]]""")


def url_problem(value: str, base: bool = False) -> str | None:
    """Why ``value`` is not an http(s) address that can stand in HTML, XML and CSS as it is, or None.

    Written out rather than pydantic's ``HttpUrl``: that type accepts 'https://x.org/"><script>'
    and silently re-encodes it as 'https://x.org/%22%3E%3Cscript%3E' (measured, pydantic 2.14), so
    an editor would never learn that the address they typed is not the one published."""
    example = "like https://example.org/ or https://example.org/cell35/"
    if not re.match(r"^https?://", value):
        found = value.split(":", 1)[0] + ":" if ":" in value else "no scheme"
        return f"expected a web address starting with https:// or http:// {example}, received: {value!r} ({found})"
    bad = _URL_FORBIDDEN_RE.search(value)
    if bad:
        char = bad.group()
        shown = "a space" if char == " " else describe_character(char) if char.isspace() else repr(char)
        return f"a web address may not contain {shown}; write it as %{ord(char):02X}, received: {value!r}"
    if "@" in value.split("/", 3)[2]:
        return f"a web address may not carry a user name or password ('…@'), received: {value!r}"
    if re.search(r"%(?![0-9A-Fa-f]{2})", value):
        return f"'%' in a web address must start an escape like %20, received: {value!r}"
    match = _URL_RE.match(value)
    if match is None:
        return (f"expected a web address {example} (the host name in ASCII letters, digits, '-' and '.'; "
                f"write other scripts as xn-- punycode), received: {value!r}")
    if base and (match.group("query") or match.group("fragment")):
        return f"a base address has no '?' query or '#' fragment {example}, received: {value!r}"
    return None


def _base_url(value: Any) -> Any:
    if isinstance(value, str):
        problem = url_problem(value.strip(), base=True)
        if problem:
            raise ValueError(problem)
    return value


# The text rule runs first (it names a control character precisely), then the address rule.
BaseUrl = Annotated[str, Field(min_length=1, max_length=500), BeforeValidator(_base_url), TEXT_VALIDATOR]


class Strict(BaseModel):
    """Unknown keys are errors; objects never change after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- site.yml ---------------------------------------------------------------------------------

class Theme(Strict):
    primary: text(pattern=HEX_COLOUR_RE) = "#b71c1c"
    accent: text(pattern=HEX_COLOUR_RE) = "#f9a825"


class PodcastOwner(Strict):
    name: Line
    email: text(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class PodcastChannel(Strict):
    title: Line
    author: Line
    owner: PodcastOwner
    description: text(min_length=1, max_length=4000)
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
    base_url: BaseUrl
    language: Language
    description: text(max_length=500) = ""
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
    reason: text(max_length=2000) | None = None


class Session(Strict):
    title: Line
    cell: Slug
    date: dt.date
    group: Group
    language: Language
    attendance: Attendance
    status: Status = "draft"
    summary: text(min_length=1, max_length=1000)
    tags: Annotated[list[text(min_length=1, max_length=40)], Field(max_length=20)] = []
    history: list[HistoryEntry] = []

    @property
    def quarter(self) -> str:
        return f"{self.date.year}-q{(self.date.month - 1) // 3 + 1}"


# --- products ---------------------------------------------------------------------------------

class ProductBase(Strict):
    """What every product has. Each kind's own model (in its module under ``producers/kinds/``)
    extends it with ``type: Literal["<kind>"]`` and its fields; the loader is given those models."""

    type: Slug
    title: Line
    language: Language | None = None
    authors: Annotated[list[Line], Field(max_length=20)] = []
    channels: Annotated[list[Channel], Field(min_length=1)] = ["site"]
    summary: text(max_length=1000) = ""

    # How the loader treats images written in the body: "published" (checked against the session
    # folder, then rendered), "not shown" (a warning: the page shows the description instead) or
    # None (the kind reads its body itself, or has none).
    BODY_IMAGES: ClassVar[str | None] = None
    # The front-matter keys (at any depth) that name a media file of the session folder: the loader
    # checks each such file (inside the folder, no link, type and size, sniffed by its bytes).
    MEDIA_FIELDS: ClassVar[frozenset[str]] = frozenset({"file", "image", "audio", "transcript", "music", "cover"})

    def needs_body(self) -> bool:
        """An empty body is an error for this product (its text is what it publishes)."""
        return False

    def body_problems(self, body: str, body_line: int, display: str) -> list[Problem]:
        """What this kind asks of its Markdown body beyond the text rule (caps, mostly)."""
        return []

    @classmethod
    def session_problems(cls, records: Sequence[Any], folder: Path) -> list[Problem]:
        """What one product file cannot tell alone: the products of this kind among all of the
        session's ``records`` (loader.ProductRecord), checked together before any build."""
        return []


class Image(Strict):
    file: MediaPath
    alt: text(min_length=1, max_length=250)
    credit: Line | None = None
    copyright: Line | None = None


MODELS: tuple[type[BaseModel], ...] = (SiteConfig, CellsFile, Session)
"""The file-level schemas besides the product kinds' (each kind's module declares its own model)."""

FILE_NAME_RE = re.compile(r"^[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
SESSION_DIR_RE = re.compile(SLUG_RE)
QUARTER_DIR_RE = re.compile(r"^(\d{4})-q([1-4])$")
