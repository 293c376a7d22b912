"""Reading untrusted YAML and front matter, keeping the line of every value.

Anchors and aliases are refused outright: a few lines of aliases expand to gigabytes
("billion laughs"), and hand-written content never needs them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

MAX_TEXT_FILE_BYTES = 1_000_000

Loc = tuple[str | int, ...]


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: ~10x faster


class _ContentLoader(_BaseLoader):
    """Safe loading that leaves dates as text: the model parses them and can say which date is not real."""


_ContentLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _find_alias(node: yaml.Node, seen: set[int]) -> yaml.Node | None:
    """The composer turns an alias into a second reference to the anchored node: find one."""
    if id(node) in seen:
        return node
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        seen.add(id(node))
        children = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else node.value
        for child in children:
            found = _find_alias(child, seen)
            if found is not None:
                return found
    return None


@dataclass
class Document:
    """Parsed YAML data plus the 1-based file line of each key path."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest known prefix of ``loc``: a missing field points at its parent."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


class YamlProblem(Exception):
    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(message)


def _record_lines(node: yaml.Node, loc: Loc, offset: int, lines: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = loc + (key,)
            lines[child] = key_node.start_mark.line + 1 + offset
            _record_lines(value_node, child, offset, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = loc + (index,)
            lines[child] = item.start_mark.line + 1 + offset
            _record_lines(item, child, offset, lines)


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
    loader = _ContentLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            repeated = _find_alias(node, set())
            if repeated is not None:
                raise YamlProblem(repeated.start_mark.line + 1 + line_offset,
                                  "YAML anchors and aliases (&name, *name) are not allowed; write the value out in full")
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or str(exc)
        raise YamlProblem(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        lines[()] = node.start_mark.line + 1 + line_offset
        _record_lines(node, (), line_offset, lines)
    return Document(data=nfc(data), lines=lines)


def read_text(path: Path, display: str, limit: int = MAX_TEXT_FILE_BYTES) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 text file, refusing oversized files and other encodings with a precise message."""
    size = path.stat().st_size
    if size > limit:
        return None, [Problem(display, None, "", f"file is {size:,} bytes; text files may be at most {limit:,} bytes")]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(display, line, "", f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                                                 f"{exc.start}); save it as UTF-8")]
    return text.removeprefix("\ufeff").replace("\r\n", "\n"), []


def read_yaml_file(path: Path, display: str) -> tuple[Document | None, list[Problem]]:
    text, problems = read_text(path, display)
    if text is None:
        return None, problems
    try:
        doc = parse_yaml(text)
    except YamlProblem as exc:
        return None, [Problem(display, exc.line, "", exc.message)]
    return doc, []


def read_front_matter(path: Path, display: str) -> tuple[Document | None, list[Problem]]:
    """Split ``---``-delimited YAML front matter from a Markdown body."""
    text, problems = read_text(path, display)
    if text is None:
        return None, problems
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, [Problem(display, 1, "", "file must start with a '---' line opening its front matter")]
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        return None, [Problem(display, 1, "", "front matter opened with '---' is never closed by another '---' line")]
    try:
        doc = parse_yaml("\n".join(lines[1:close]), line_offset=1)
    except YamlProblem as exc:
        return None, [Problem(display, exc.line, "", exc.message)]
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        return None, [Problem(display, 2, "", f"front matter must be a mapping of 'field: value' lines, "
                                              f"found {type(doc.data).__name__}")]
    doc.body = unicodedata.normalize("NFC", "\n".join(lines[close + 1:]))
    doc.body_line = close + 2
    return doc, []
