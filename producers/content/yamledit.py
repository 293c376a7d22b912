"""Changing a list in a hand-written YAML file without rewriting the rest of it.

``cells.yml`` is written by editors (comments, quotes, the order of fields) and changed by the portal's
cell page. Dumping the whole list again for every change dropped every comment but the file's heading,
re-quoted every entry, and made each edit a diff of the whole file. Here the items that did not change
keep their lines exactly; only the changed or added items are written by the YAML library, at the list's
indentation; comment and blank lines between items stay where they were (with the item they precede).
The item spans come from PyYAML's own node positions (``yaml.compose`` with the safe loader); no YAML
is parsed by hand here.
A list that is not a non-empty block list under a top-level key (a flow ``[...]``, none yet) is written
whole, after the file's heading comments.
"""

from __future__ import annotations

import difflib
import json

import yaml


def replace_list(old: str, key: str, items: list) -> str:
    """``old`` (a YAML mapping document) with the list under top-level ``key`` holding ``items``."""
    lines = old.splitlines(keepends=True)
    spans = _item_spans(old, key, lines)
    if spans is None:
        head = "".join(line for line in lines[:20] if line.startswith("#"))
        return head + yaml.safe_dump({key: items}, allow_unicode=True, sort_keys=False, width=100)
    old_items = yaml.safe_load(old)[key]
    first, last_end = spans[0][0], spans[-1][2]
    dash = lines[first].index("-")
    out = lines[:first]
    # Each item's comment lines come before it; an item's own are emitted with it, or dropped with it.
    pending: list[str] = []
    matcher = difflib.SequenceMatcher(a=[_canonical(item) for item in old_items],
                                      b=[_canonical(item) for item in items], autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            for start, content_end, end in spans[a1:a2]:
                out += pending + lines[start:content_end]
                pending = lines[content_end:end]
        elif tag == "insert":
            out += _dumped(items[b1:b2], dash)
        elif tag == "delete":
            pending = lines[spans[a2 - 1][1]:spans[a2 - 1][2]]
        else:
            out += pending + _dumped(items[b1:b2], dash)
            pending = lines[spans[a2 - 1][1]:spans[a2 - 1][2]]
    out += pending + lines[last_end:]
    text = "".join(out)
    return text if text.endswith("\n") else text + "\n"


def _item_spans(text: str, key: str, lines: list[str]) -> list[tuple[int, int, int]] | None:
    """Per item of the block list under ``key``: (first line, end of its own lines, start of the next
    item); the lines between the last two are the comments and blanks before the next item."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)   # nodes only, the safe resolver
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    node = next((value for name, value in root.value if isinstance(name, yaml.ScalarNode) and name.value == key),
                None)
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        return None
    starts = []
    for item in node.value:
        line = item.start_mark.line
        if not lines[line][:item.start_mark.column].rstrip().endswith("-"):
            return None                   # an item not on its dash's line: write the list whole
        starts.append(line)
    ends = starts[1:] + [min(node.end_mark.line + (1 if node.end_mark.column else 0), len(lines))]
    spans = []
    for start, next_start in zip(starts, ends):
        content_end = next_start
        while content_end - 1 > start and (not lines[content_end - 1].strip()
                                           or lines[content_end - 1].lstrip().startswith("#")):
            content_end -= 1
        spans.append((start, content_end, next_start))
    return spans


def _dumped(items: list, dash: int) -> list[str]:
    if not items:
        return []
    text = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=100)
    return [" " * dash + line for line in text.splitlines(keepends=True)]


def _canonical(item) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
