"""The one Markdown parser: every body is read by markdown-it-py (CommonMark plus tables), once.

Whoever needs a body (the checker, the plan, the page, the search index, the speech script, the
DOCX export, the slide deck) walks the same token stream, so what is checked is exactly what is
published, read aloud and exported. Parses are memoised by text: a body is asked for by the loader,
the plan and the page.

Link and image addresses are kept as written (no percent-encoding, no refusal of ``javascript:``):
the checker must see and name what the writer wrote, and the HTML sanitiser (``web.html``) is what
refuses unsafe addresses in the output.

Typography (curly quotes, dashes, ellipses) is a property of the published page only: it is applied
by ``typographic_tokens`` to a copy, so search, speech and exports read the text as written.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import astuple, dataclass
from html.parser import HTMLParser
from typing import Iterator
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_core.smartquotes import smartquotes
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

_EXTERNAL_RE = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]+:", re.IGNORECASE)      # two letters at least: 'C:' is a drive
# A body without any of these points at nothing that needs checking (only web and e-mail links):
# most bodies, whose references are then not walked at all.
_MAY_REFER_RE = re.compile(r"!\[|<img|<a\s|\]\(\s*<?(?!https?://|mailto:|#)|\]:\s*<?(?!https?://|mailto:|#)",
                           re.IGNORECASE)
# What a writer meant as an image but CommonMark reads as text: an address with spaces not in <...>.
UNREAD_IMAGE_RE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*(?P<url>[^)<>]*?)\s*\)")
MEMO_SIZE = 1024


def _as_written(url: str) -> str:
    return url


def _any_link(url: str) -> bool:
    return True


def new_parser() -> MarkdownIt:
    """CommonMark with tables, raw HTML kept as tokens, addresses as written. (``typographer`` only
    lets ``typographic_tokens`` run markdown-it's smartquotes rule: no typography rule is enabled.)"""
    parser = MarkdownIt("commonmark", {"typographer": True}).enable("table")
    parser.normalizeLink = _as_written           # the checker and the media map key on the address as written
    parser.normalizeLinkText = _as_written
    parser.validateLink = _any_link               # a javascript: link must be seen to be refused by name
    return parser


PARSER = new_parser()


@functools.lru_cache(maxsize=MEMO_SIZE)
def tokens(text: str) -> tuple[Token, ...]:
    """The token stream of a body, memoised by text. Shared: never modify it (copy first)."""
    return tuple(PARSER.parse(text))


def tree(text: str) -> SyntaxTreeNode:
    """The body's tokens as a tree (sections, lists, items), for readers that want nesting."""
    return SyntaxTreeNode(list(tokens(text)))


# --- typography (the published page only) -------------------------------------------------------------

# As Python-Markdown's smarty extension did: runs of exactly three/two dashes and three dots.
_TYPOGRAPHY = [(re.compile(r"(?<!-)---(?!-)"), "\u2014"), (re.compile(r"(?<!-)--(?!-)"), "\u2013"),
               (re.compile(r"(?<!\.)\.{3}(?!\.)"), "\u2026")]


def _dashes_and_ellipses(state: StateCore) -> None:
    for token in state.tokens:
        if token.type != "inline":
            continue
        in_autolink = False
        for child in token.children or ():
            if child.type == "link_open" and child.info == "auto":
                in_autolink = True
            elif child.type == "link_close" and child.info == "auto":
                in_autolink = False
            elif child.type == "text" and not in_autolink:
                for pattern, replacement in _TYPOGRAPHY:
                    child.content = pattern.sub(replacement, child.content)


@functools.lru_cache(maxsize=MEMO_SIZE)
def typographic_tokens(text: str) -> tuple[Token, ...]:
    """A copy of the body's tokens with curly quotes, en and em dashes and ellipses."""
    state = StateCore(text, PARSER, {})
    # Only the text of inline children changes: they are copied, the shared block tokens are not.
    state.tokens = [token.copy(children=[child.copy() for child in token.children]) if token.children else token
                    for token in tokens(text)]
    _dashes_and_ellipses(state)
    smartquotes(state)
    return tuple(state.tokens)


# --- addresses -----------------------------------------------------------------------------------------

def url_kind(url: str) -> str:
    """'external' (http, https, //), 'anchor' (#...), 'mail', 'empty', 'scheme' (any other) or 'local'."""
    url = url.strip()
    if not url:
        return "empty"
    if url.startswith("#"):
        return "anchor"
    if _EXTERNAL_RE.match(url):
        return "external"
    if url.lower().startswith("mailto:"):
        return "mail"
    if _SCHEME_RE.match(url):
        return "scheme"
    return "local"


def local_path(url: str) -> str:
    """The file a local address names: no query or fragment, %-escapes decoded, './' dropped."""
    path = unquote(url.strip().split("#", 1)[0].split("?", 1)[0])
    while path.startswith("./"):
        path = path[2:]
    return path


# --- walking --------------------------------------------------------------------------------------------

def inline_lines(inline: Token) -> Iterator[tuple[Token, int]]:
    """The children of an inline token with the 0-based body line each starts on."""
    line = inline.map[0] if inline.map else 0
    for child in inline.children or ():
        yield child, line
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type in ("text", "html_inline"):
            line += child.content.count("\n")


def inline_text(children: list[Token] | tuple[Token, ...], breaks: str = " ") -> str:
    """The words of inline tokens: text, code, link text and image descriptions; raw HTML dropped."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(inline_text(child.children or ()))
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(breaks)
    return "".join(parts)


@dataclass(frozen=True)
class Run:
    """A piece of inline text with its emphasis; ``link`` is the address of a link it is the text of,
    ``image`` marks an image's description."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    link: str | None = None
    image: bool = False


def inline_runs(children: list[Token] | tuple[Token, ...], breaks: str = " ", raw_html: bool = False) -> list[Run]:
    """Inline tokens as runs of text with emphasis, for writers that are not HTML (slides, DOCX).
    Raw HTML is dropped, or kept as the text it is written as (``raw_html``)."""
    runs: list[Run] = []
    bold = italic = 0
    link: list[str] = []
    for child in children:
        kind = child.type
        if kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold = max(0, bold - 1)
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic = max(0, italic - 1)
        elif kind == "link_open":
            link.append(str(child.attrGet("href") or ""))
        elif kind == "link_close":
            if link:
                link.pop()
        elif kind in ("text", "code_inline", "softbreak", "hardbreak", "image") or (raw_html and kind == "html_inline"):
            text = (child.content if kind in ("text", "code_inline", "html_inline") else
                    inline_text(child.children or ()) if kind == "image" else breaks)
            run = Run(text, bool(bold), bool(italic), kind == "code_inline", link[-1] if link else None,
                      kind == "image")
            if runs and not run.image and astuple(runs[-1])[1:] == astuple(run)[1:]:
                runs[-1] = Run(runs[-1].text + text, *astuple(run)[1:])      # e.g. a line break inside emphasis
            elif text:
                runs.append(run)
    return runs


# --- references -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BodyReference:
    kind: str           # "image" | "link" (Markdown), "html-image" | "html-link" (raw HTML), or
                        # "unread-image": written like an image, read as text (e.g. spaces in the address)
    url: str            # as written: the key of ``media`` in web.html.markdown_to_html
    text: str           # alt text or link text
    line: int           # 1-based line in the body


class _RawReferences(HTMLParser):
    def __init__(self, line: int) -> None:
        super().__init__(convert_charrefs=True)
        self.line = line
        self.found: list[BodyReference] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        line = self.line + self.getpos()[0] - 1
        if tag == "img":
            self.found.append(BodyReference("html-image", values.get("src") or "", values.get("alt") or "", line))
        elif tag == "a" and values.get("href") is not None:
            self.found.append(BodyReference("html-link", values["href"] or "", "", line))


def _raw_references(html_text: str, line: int) -> list[BodyReference]:
    parser = _RawReferences(line)
    parser.feed(html_text)
    parser.close()
    return parser.found


def references_in(stream: tuple[Token, ...] | list[Token]) -> list[BodyReference]:
    """Every image and link of a token stream, in the order written, with its 1-based line."""
    found: list[BodyReference] = []
    for token in stream:
        if token.type == "html_block":
            found += _raw_references(token.content, (token.map[0] if token.map else 0) + 1)
        if token.type != "inline":
            continue
        children = token.children or []
        for index, (child, line) in enumerate(inline_lines(token)):
            if child.type == "image":
                found.append(BodyReference("image", str(child.attrGet("src") or ""),
                                           inline_text(child.children or ()), line + 1))
            elif child.type == "link_open":
                depth, label = 0, []
                for inner in children[index + 1:]:
                    if inner.type == "link_close" and depth == 0:
                        break
                    depth += {"link_open": 1, "link_close": -1}.get(inner.type, 0)
                    label.append(inner)
                found.append(BodyReference("link", str(child.attrGet("href") or ""),
                                           inline_text([t for t in label if t.type != "image"]), line + 1))
            elif child.type == "html_inline":
                found += _raw_references(child.content, line + 1)
            elif child.type == "text":
                found += [BodyReference("unread-image", unread["url"], unread["alt"], line + 1)
                          for unread in UNREAD_IMAGE_RE.finditer(child.content)]
    return found


@functools.lru_cache(maxsize=MEMO_SIZE)
def _body_references(text: str) -> tuple[BodyReference, ...]:
    return tuple(references_in(tokens(text)))


def body_references(text: str) -> list[BodyReference]:
    """Every image and link of a Markdown body, in the order written, with its line in the body."""
    if not _MAY_REFER_RE.search(text):
        return []
    return list(_body_references(text))


# --- text for search and speech -------------------------------------------------------------------------

HIDDEN_TAGS = frozenset({"script", "style", "template"})


class _VisibleText(HTMLParser):
    """Text a reader sees: raw HTML's tags become spaces, script/style/template content is dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in HIDDEN_TAGS:
            self.hidden += 1
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_TAGS and self.hidden:
            self.hidden -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def words(self, text: str) -> None:
        """Text that is already plain (from the Markdown itself)."""
        if not self.hidden:
            self.parts.append(text)

    def text(self) -> str:
        self.close()
        return "".join(self.parts)


_SPACE = re.compile(r"\s+")


def plain_text(text: str) -> str:
    """The words a reader sees in Markdown with HTML blocks (a generated page), on one line."""
    visible = _VisibleText()
    for token in tokens(text):
        if token.type in ("html_block", "fence", "code_block"):
            if token.type == "html_block":
                visible.feed(token.content)
            else:
                visible.words(f" {token.content} ")
            continue
        if token.type != "inline":
            if token.block:
                visible.words(" ")
            continue
        for child in token.children or ():
            if child.type == "html_inline":
                visible.feed(child.content)
            elif child.type == "image":
                visible.words(f" {inline_text(child.children or ())} ")
            else:
                visible.words(inline_text([child]))
    return _SPACE.sub(" ", visible.text()).strip()


_BLOCK_ENDS = frozenset({"paragraph_close", "heading_close", "blockquote_close", "bullet_list_close",
                         "ordered_list_close", "table_close"})


def post_text(text: str) -> str:
    """A short post as people paste it: blocks apart by a blank line, list items on their own lines
    behind a bullet, line breaks kept, soft wraps joined, raw HTML reduced to its visible words, and
    the page's typography (curly quotes, dashes)."""
    parts: list[str] = []
    for token in typographic_tokens(text):
        if token.type == "list_item_open":
            parts.append("\u2022 ")
        elif token.type == "list_item_close":
            parts.append("\n")
        elif token.type in _BLOCK_ENDS and not token.hidden:      # a tight list's paragraphs are hidden
            parts.append("\n\n")
        elif token.type in ("th_close", "td_close"):
            parts.append(" ")
        elif token.type == "tr_close":
            parts.append("\n")
        elif token.type in ("fence", "code_block"):
            parts.append(token.content + "\n\n")
        elif token.type == "html_block":
            visible = _VisibleText()
            visible.feed(token.content)
            parts.append(visible.text() + "\n\n")
        elif token.type == "inline":
            for child in token.children or ():
                if child.type == "hardbreak":
                    parts.append("\n")
                else:
                    parts.append(inline_text([child]))
    joined = "".join(parts)
    joined = re.sub(r"[ \t]*\n[ \t]*", "\n", re.sub(r"[ \t]{2,}", " ", joined))
    return re.sub(r"\n{3,}", "\n\n", joined).strip()


def spoken_blocks(text: str) -> list[tuple[str, bool]]:
    """A script as (text, is_heading) blocks in reading order; code is not read aloud.

    Blocks written without a blank line between them (a tight list, a paragraph and its list) are
    read as one block; headings are blocks of their own (a podcast makes them chapters)."""
    pieces: list[tuple[str, int, int, bool]] = []          # text, first line, line after, heading
    stream = tokens(text)
    skip_until = -1
    for index, token in enumerate(stream):
        if index < skip_until:
            continue
        if token.type == "heading_open":
            inline = stream[index + 1]
            pieces.append((inline_text(inline.children or ()).strip(), *token.map, True))
            skip_until = index + 3
        elif token.type == "inline":
            spoken = inline_text(token.children or (), breaks="\n").strip()
            if spoken:
                pieces.append((spoken, *token.map, False))
        elif token.type == "html_block":
            visible = _VisibleText()
            visible.feed(token.content)
            spoken = _SPACE.sub(" ", visible.text()).strip()
            if spoken:
                pieces.append((spoken, *token.map, False))
    blocks: list[tuple[str, bool]] = []
    previous_end, previous_heading = -1, True
    for spoken, start, end, heading in pieces:
        if blocks and not heading and not previous_heading and start <= previous_end:
            blocks[-1] = (f"{blocks[-1][0]}\n{spoken}", False)
        else:
            blocks.append((spoken, heading))
        previous_end, previous_heading = end, heading
    return [(unicodedata.normalize("NFC", spoken), heading) for spoken, heading in blocks]


def spoken_text(text: str) -> str:
    """Markdown as a listener should hear it: no markup, links read as their text, no code."""
    return "\n\n".join(spoken for spoken, _ in spoken_blocks(text))
