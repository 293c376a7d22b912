"""Reading untrusted files, YAML and front matter, keeping the line of every value.

Only regular files are read, and never through a symbolic link: ``open_regular`` opens with
``O_NOFOLLOW | O_NONBLOCK`` and checks the opened file itself (``fstat``), so a link, a folder or a
named pipe that carries a content file's name is one clear problem, never a traceback or a hang.

Aliases are refused outright: a few lines of them expand to gigabytes ("billion laughs"), and
hand-written content never needs them. Nesting is capped (``MAX_YAML_DEPTH``): a kilobyte of
``[[[[...`` would otherwise exhaust Python's recursion.

Characters that are not text (``model.text_problem``) are found in the raw file before YAML sees
it, so the message names the line, the column and, in front matter, the field.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from producers.errors import Problem
from producers.content.model import character_message, forbidden_characters, replace_forbidden

MAX_TEXT_FILE_BYTES = 1_000_000
MAX_YAML_DEPTH = 16               # lists and mappings inside each other; content needs four at most
MAX_CHARACTER_PROBLEMS = 10       # lines reported per file for characters that are not text

Loc = tuple[str | int, ...]

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
ONLY_REGULAR = "only regular files inside the content folder are content"


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: ~10x faster


class _ContentLoader(_BaseLoader):
    """Safe loading that leaves dates as text: the model parses them and can say which date is not real."""


_ContentLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class NotContent(Exception):
    """A path that is not a readable regular file inside the content folder; ``message`` says what it is."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def not_regular_message(kind: str) -> str:
    return f"is {kind}, not a file; {ONLY_REGULAR}" + (
        " (put the file itself here, not a link to it)" if kind == "a symbolic link" else "")


def _opened_path(fd: int, path: Path) -> str:
    """The real path of an open file: the kernel's own record where there is one (no race)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


def _inside(real: str, root: Path) -> bool:
    def under(base: str) -> bool:
        return real == base or real.startswith(base.rstrip(os.sep) + os.sep)

    # realpath (a system call per folder) only when the root's own path goes through a link
    return under(os.path.abspath(root)) or under(os.path.realpath(root))


def open_regular(path: Path, root: Path | None = None) -> int:
    """Open ``path`` for reading if it is a regular file (not through a final symbolic link) whose real
    path is inside ``root``; never blocks. Raises NotContent with what the path is otherwise."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotContent(not_regular_message("a symbolic link")) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise NotContent("file not found") from None
        if exc.errno == errno.ENXIO:      # a socket, or a FIFO opened for writing
            raise NotContent(not_regular_message("a socket")) from None
        raise NotContent(f"cannot be read ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotContent(not_regular_message(file_kind(mode)))
        if root is not None and not _inside(_opened_path(fd, path), root):
            raise NotContent(f"is reached through a symbolic link leading outside the content folder; {ONLY_REGULAR}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: Path, display: str, limit: int = MAX_TEXT_FILE_BYTES,
               root: Path | None = None) -> tuple[bytes | None, list[Problem]]:
    """The bytes of a regular content file of at most ``limit`` bytes, or the problem why not."""
    try:
        fd = open_regular(path, root)
    except NotContent as exc:
        return None, [Problem(display, None, "", exc.message)]
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            return None, [Problem(display, None, "", f"file is {size:,} bytes; text files may be at most "
                                                     f"{limit:,} bytes")]
        raw = handle.read(size + 1)           # never a buffer of ``limit`` bytes for a small file
        if len(raw) > size:                   # it grows while we read it: read on, up to the limit
            raw += handle.read(limit + 1 - len(raw))
    if len(raw) > limit:
        return None, [Problem(display, None, "", f"file is over {limit:,} bytes; text files may be at most "
                                                 f"{limit:,} bytes")]
    return raw, []


@dataclass
class Document:
    """Parsed YAML data plus the 1-based file line of each key path."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    columns: dict[Loc, int] = field(default_factory=dict)      # 1-based column of each key

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest known prefix of ``loc``: a missing field points at its parent."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def loc_at(self, line: int, column: int) -> Loc:
        """The field whose value holds the text at ``line``, ``column``: the last key written before it."""
        best: tuple[int, int, int] = (0, 0, 0)
        found: Loc = ()
        for loc, start in self.lines.items():
            mark = (start, self.columns.get(loc, 0), len(loc))
            if mark[:2] <= (line, column) and mark > best:
                best, found = mark, loc
        return found


def loc_text(loc: Loc) -> str:
    """('photos', 0, 'alt') -> 'photos[1].alt', as a cell member counts."""
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class YamlProblem(Exception):
    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(message)


def _walk(root: yaml.Node, offset: int) -> tuple[dict[Loc, int], dict[Loc, int]]:
    """The line and column of every key path, walking the composed nodes without recursion.

    Refuses, before anything recursive (constructing, normalising, validating) runs on the data:
    a node met twice (an alias: the composer hands back the anchored node itself) and nesting
    deeper than MAX_YAML_DEPTH (a kilobyte of ``[[[[`` exhausted Python's recursion)."""
    lines: dict[Loc, int] = {(): root.start_mark.line + 1 + offset}
    columns: dict[Loc, int] = {(): root.start_mark.column + 1}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Loc, int]] = [(root, (), 0)]
    while stack:
        node, loc, depth = stack.pop()
        if id(node) in seen:
            raise YamlProblem(node.start_mark.line + 1 + offset,
                              "YAML anchors and aliases (&name, *name) are not allowed; write the value out in full")
        seen.add(id(node))
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            continue
        if depth == MAX_YAML_DEPTH:
            raise YamlProblem(node.start_mark.line + 1 + offset,
                              f"lists and mappings are nested more than {MAX_YAML_DEPTH} levels deep "
                              f"(the cap is {MAX_YAML_DEPTH} levels); write the value flatter")
        children: list[tuple[yaml.Node, Loc, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                children.append((value_node, loc + (key,), key_node))
        else:
            children = [(item, loc + (index,), item) for index, item in enumerate(node.value)]
        for child, child_loc, marked in children:
            lines[child_loc] = marked.start_mark.line + 1 + offset
            columns[child_loc] = marked.start_mark.column + 1
        stack.extend((child, child_loc, depth + 1) for child, child_loc, _ in reversed(children))
    return lines, columns


def nfc(value: Any) -> Any:
    """Normalise every string to NFC: decomposed Vietnamese breaks text layout and search."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc(v) for v in value]
    return value


def parse_yaml(text: str, line_offset: int = 0) -> Document:
    """Parse one YAML document; raise YamlProblem with a file line on anything unsafe or broken."""
    lines: dict[Loc, int] = {}
    columns: dict[Loc, int] = {}
    try:
        loader = _ContentLoader(text)
        try:
            node = loader.get_single_node()       # libyaml composes iteratively and caps nesting at 1000
            if node is not None:
                lines, columns = _walk(node, line_offset)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or str(exc)
        raise YamlProblem(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(None, f"invalid YAML: {exc}") from None
    return Document(data=nfc(data), lines=lines, columns=columns)


def read_text(path: Path, display: str, limit: int = MAX_TEXT_FILE_BYTES,
              root: Path | None = None) -> tuple[str | None, list[Problem]]:
    """Read a regular UTF-8 text file (see ``open_regular``), refusing oversized files and other
    encodings with a precise message."""
    raw, problems = read_bytes(path, display, limit, root)
    if raw is None:
        return None, problems
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(display, line, "", f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                                                 f"{exc.start}); save it as UTF-8")]
    return text.removeprefix("\ufeff").replace("\r\n", "\n"), []


def character_problems(text: str, display: str, first_line: int, field_of=None) -> list[Problem]:
    """One problem per line of ``text`` holding characters that are not text (the first of them), up
    to MAX_CHARACTER_PROBLEMS lines. ``first_line`` is the file line of ``text``'s first line;
    ``field_of(file line, column)`` names the field written there."""
    problems: list[Problem] = []
    seen_lines: set[int] = set()
    for index, _ in forbidden_characters(text):
        line = first_line + text.count("\n", 0, index)
        if line in seen_lines:
            continue
        seen_lines.add(line)
        if len(problems) == MAX_CHARACTER_PROBLEMS:
            problems.append(Problem(display, line, "", "more lines hold characters that are not text; "
                                                       "fix the lines above first"))
            break
        start = text.rfind("\n", 0, index) + 1
        end = text.find("\n", index)
        own_line = text[start: end if end >= 0 else len(text)]
        problems.append(Problem(display, line, field_of(line, index - start + 1) if field_of else "",
                                character_message(own_line, index - start, multiline=False)))
    return problems


def _yaml_character_problems(front: str, display: str, first_line: int) -> list[Problem]:
    """Characters that are not text in YAML, each named by its field: the YAML is parsed once more
    with them replaced (U+FFFD), only to learn which field each line belongs to."""
    if next(forbidden_characters(front), None) is None:
        return []
    try:
        located = parse_yaml(replace_forbidden(front), line_offset=first_line - 1)
    except YamlProblem:
        located = Document(None)
    return character_problems(front, display, first_line, lambda line, column: loc_text(located.loc_at(line, column)))


def read_yaml_file(path: Path, display: str, root: Path | None = None) -> tuple[Document | None, list[Problem]]:
    text, problems = read_text(path, display, root=root)
    if text is None:
        return None, problems
    problems = _yaml_character_problems(text, display, 1)
    if problems:
        return None, problems
    try:
        doc = parse_yaml(text)
    except YamlProblem as exc:
        return None, [Problem(display, exc.line, "", exc.message)]
    return doc, []


def read_front_matter(path: Path, display: str, root: Path | None = None) -> tuple[Document | None, list[Problem]]:
    """Split ``---``-delimited YAML front matter from a Markdown body.

    Returns the document and the problems found. Problems of the body (characters that are not
    text) come with a document, so the front matter is still validated and every problem shown."""
    text, problems = read_text(path, display, root=root)
    if text is None:
        return None, problems
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, [Problem(display, 1, "", "file must start with a '---' line opening its front matter")]
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        return None, [Problem(display, 1, "", "front matter opened with '---' is never closed by another '---' line")]
    front = "\n".join(lines[1:close])
    problems = _yaml_character_problems(front, display, 2)
    if problems:
        return None, problems
    try:
        doc = parse_yaml(front, line_offset=1)
    except YamlProblem as exc:
        return None, [Problem(display, exc.line, "", exc.message)]
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        return None, [Problem(display, 2, "", f"front matter must be a mapping of 'field: value' lines, "
                                              f"found {type(doc.data).__name__}")]
    doc.body = unicodedata.normalize("NFC", "\n".join(lines[close + 1:]))
    doc.body_line = close + 2
    return doc, character_problems(doc.body, display, doc.body_line, lambda line, column: "(body)")
