"""The site's search index: static files a query reads a few small ones of, whatever the site's size.

Why not Pagefind (used before): a word's postings live in one chunk, so a word on a third of 10,000
pages cost a 700 KB download, and it has no incremental mode, so editing one product re-indexed every
page (15 s at 10,768 pages). Here:

- ``index.json`` lists the shard boundaries (one entry per shard, not per page or word).
- ``s/<name>.json`` shards hold, for a range of words in sorted order, each word's document count
  and its best ``FIRST_BLOCK`` postings, best first. A posting is (page, score, passages): the
  passages are a bit mask of the page's text groups (``GROUP_CHARS`` each) that hold the word. A
  query reads one shard per word, so a common word costs as much as a rare one;
  ``m/<word-hash>-<n>.json`` hold the rest best first, read only when a visitor asks for more.
- ``r/<word-hash>-<n>.json`` hold a word's postings again, split by page reference: file ``n``
  holds the pages whose reference's first ``bits`` bits are ``n``. A query of several words starts
  from its rarest word's pages and asks each other word only about those pages, reading only the
  files their references fall in, so pages holding every word come first even when they are in no
  word's best 40, and a common word's full list is not downloaded.
- ``d/<ref>.json`` hold each page's title, URL and first text group; ``d/<ref>-<g>.json`` the same
  with its later groups. A result reads the one group where most query words are (from the
  postings' masks), so the excerpt shows the matching passage, not the page's opening.

Every file depends on as little as possible, so an edit rewrites few files and the rest are hard
links to the previous index: a page's reference is a hash of its URL (adding a page renumbers
nothing), a posting's score depends on its page alone (a fixed length pivot, not the site's average;
rarity is weighed in the browser from the document count), and shard boundaries are chosen by the
words' own hashes (content-defined chunking), so one new word does not move every later boundary.

Words are runs of letters, marks and digits (Devanagari vowel signs are marks, so ``\\w`` would cut
Hindi words apart), NFC, lower case, without zero-width joiners. A Latin word with diacritics is
indexed under itself and under its folded form (``phúng`` under ``phúng`` and ``phung``), so a
visitor who types without Vietnamese tone marks still finds it, and one who types them gets exactly
that word. ``assets/search.js`` tokenises queries the same way; a browser test holds the two to it.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import html
import json
import os
import re
import shutil
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import regex

from producers.content.markdown import plain_text
from producers.errors import ConfigError
from producers.files import atomic_write_text
from producers.jobs.pipeline import (Cache, cached_trees, canonical_json, discard, install, stale_trees)
from producers.jobs.trees import SEARCH_MARKER as MARKER, TreeLinker

from producers.build.render import Page

INDEX_VERSION = 3
INDEX_DIR = "search-index"
FIRST_BLOCK = 40           # postings a query reads per word: ~0.9 KB
MORE_BLOCK = 200           # postings per "more results" file
REF_CHUNK = 32             # mean postings per by-reference file (a power of two of them per word)
SHARD_TARGET = 8_000       # mean shard bytes (content-defined, so sizes vary around it)
SHARD_MAX = 16_000         # and at most this, plus one entry
GROUP_CHARS = 2_000        # page text per result file; a posting marks which of these hold its word
MASK_GROUPS = 31           # groups a posting's mask covers (a JavaScript bit operation's 32 bits)
TITLE_WEIGHT = 4           # a word in the title counts as this many in the body
LENGTH_PIVOT = 300         # words; fixed, so a page's scores do not depend on the other pages
KEEP_INDEXES = 3

_TOKEN = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200c\u200d\u00ad\u200b"))
_COMBINING_ACCENTS = re.compile("[\u0300-\u036f]")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.translate(_INVISIBLE)).lower()


@functools.lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """Latin diacritics removed (Vietnamese tone and vowel marks, đ); other scripts unchanged:
    Devanagari's marks are not in U+0300–036F, and they change the word."""
    stripped = _COMBINING_ACCENTS.sub("", unicodedata.normalize("NFD", word)).replace("đ", "d")
    return unicodedata.normalize("NFC", stripped)


def words(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def index_keys(word: str) -> set[str]:
    return {word, fold(word)}


@dataclass(frozen=True)
class SearchDoc:
    url: str
    title: str
    groups: list[str]            # the page's text in pieces of at most GROUP_CHARS, cut between words
    scores: dict[str, int]
    masks: dict[str, int]        # bit g: text group g holds the word (title-only words: 0)


# -- a page's text -------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def _front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(": ")
        meta[key] = json.loads(value)          # pages.front_matter writes JSON scalars
    return meta, text[match.end():]


def page_url(page: Page) -> str:
    return page.path[: -len("index.md")]


def document(page: Page) -> SearchDoc | None:
    """The page as the index sees it, or None for pages kept out of search (listings, which only
    repeat the titles of the pages they list)."""
    meta, body = _front_matter(page.text)
    if not meta.get("search"):
        return None
    title = html.unescape(meta.get("title", ""))
    text = plain_text(body)
    if text.startswith(title):                 # the page's own heading
        text = text[len(title):].lstrip()
    body_words = words(text)
    groups = text_groups(text)
    masks: dict[str, int] = {}
    for number, group in enumerate(groups[:MASK_GROUPS]):
        for word in set(body_words if len(groups) == 1 else words(group)):
            for key in index_keys(word):
                masks[key] = masks.get(key, 0) | 1 << number
    counts: dict[str, float] = {}
    for weight, occurrences in ((1, Counter(body_words)), (TITLE_WEIGHT, Counter(words(title)))):
        for word, times in occurrences.items():
            for key in index_keys(word):
                counts[key] = counts.get(key, 0) + weight * times
    length = 0.5 + 0.5 * len(body_words) / LENGTH_PIVOT
    scores = {key: max(1, round(1000 * count / (count + 1.2 * length))) for key, count in counts.items()}
    return SearchDoc(page_url(page), title, groups, scores, {key: masks.get(key, 0) for key in scores})


_LAST_SPACE = re.compile(r"\s(?=\S*\Z)")


def text_groups(text: str) -> list[str]:
    """The text cut into pieces of at most GROUP_CHARS, between words where it can be."""
    groups = []
    while len(text) > GROUP_CHARS:
        space = _LAST_SPACE.search(text, 0, GROUP_CHARS + 1)
        cut = space.start() if space and space.start() > GROUP_CHARS // 2 else GROUP_CHARS
        groups.append(text[:cut])
        text = text[cut:].lstrip()
    return groups + [text]


# -- the files ------------------------------------------------------------------------------------

def reference(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _sort_key(word: str) -> bytes:
    """The browser compares strings by UTF-16 code units; sort the same way."""
    return word.encode("utf-16-be")


def _name(word: str, length: int) -> str:
    return hashlib.sha256(word.encode()).hexdigest()[:length]


def _fragments(doc: SearchDoc) -> dict[str, bytes]:
    """The page's result files, one per text group, each with the title and URL: a result reads one."""
    ref = reference(doc.url)
    return {f"d/{ref}-{number}.json" if number else f"d/{ref}.json":
            _dumps({"url": doc.url, "title": doc.title, "text": group}) for number, group in enumerate(doc.groups)}


Posting = tuple[int, str, int]       # (-score, ref, mask): sorts best first, then by reference


def _ref_bits(count: int) -> int:
    return max(1, (count - 1) // REF_CHUNK).bit_length()


def _ref_chunk(ref: str, bits: int) -> int:
    return int(ref[:8], 16) >> (32 - bits)


def _entry(word: str, ranked: list[Posting]) -> tuple[list, dict[str, bytes]]:
    """A word's shard entry and its other files, from its postings sorted best first."""
    flat = [value for score, ref, mask in ranked for value in (ref, -score, mask)]
    entry = [word, len(ranked), flat[:FIRST_BLOCK * 3]]
    more = {}
    blocks = [flat[start:start + MORE_BLOCK * 3] for start in range(FIRST_BLOCK * 3, len(flat), MORE_BLOCK * 3)]
    if blocks:
        name = _name(word, 16)
        bits = _ref_bits(len(ranked))
        entry += [name, len(blocks), bits]
        more = {f"m/{name}-{number}.json": _dumps(block) for number, block in enumerate(blocks, 1)}
        chunks: list[list] = [[] for _ in range(1 << bits)]
        for score, ref, mask in sorted(ranked, key=lambda posting: posting[1]):
            chunks[_ref_chunk(ref, bits)] += [ref, -score, mask]
        more.update((f"r/{name}-{number}.json", _dumps(chunk)) for number, chunk in enumerate(chunks))
    return entry, more


def _entry_files(entry: list) -> list[str]:
    if len(entry) <= 3:
        return []
    name, blocks, bits = entry[3:6]
    return [f"m/{name}-{n}.json" for n in range(1, blocks + 1)] + [f"r/{name}-{n}.json" for n in range(1 << bits)]


def _is_cut(entry: list) -> bool:
    """Whether a shard ends after this entry: about one cut per SHARD_TARGET bytes, decided by the
    entry alone (content-defined), so an edit moves no boundary away from the words it touched."""
    draw = int.from_bytes(hashlib.sha256(entry[0].encode()).digest()[:4], "big") / 2**32
    return draw < len(_dumps(entry)) / SHARD_TARGET


def _chunk(entries: list[list]) -> list[list[list]]:
    """Shards cut where ``_is_cut`` says, and where one grows past SHARD_MAX: such a cut depends on
    the entries since the last content-defined cut only, so an update that re-chunks from there
    (``update_files``) still makes what a clean build makes."""
    shards, current, size = [], [], 0
    for entry in entries:
        current.append(entry)
        size += len(_dumps(entry))
        if _is_cut(entry) or size >= SHARD_MAX:
            shards.append(current)
            current, size = [], 0
    return shards + ([current] if current else [])


def _shard_file(shard: list[list]) -> tuple[list[str], str, bytes]:
    name = _name(shard[0][0], 12)
    return [shard[0][0], name], f"s/{name}.json", _dumps(shard)


def _manifest(docs: int, boundaries: list[list[str]]) -> bytes:
    return _dumps({"version": INDEX_VERSION, "docs": docs, "first_block": FIRST_BLOCK, "more_block": MORE_BLOCK,
                   "shards": boundaries})


def index_files(docs: list[SearchDoc]) -> dict[str, bytes]:
    """Every file of the index, by path relative to the index folder."""
    files: dict[str, bytes] = {}
    postings: dict[str, list[tuple[int, str]]] = {}
    refs: dict[str, str] = {}
    for doc in docs:
        ref = reference(doc.url)
        if ref in refs:
            raise ConfigError(f"search: pages {refs[ref]} and {doc.url} have the same reference {ref}")
        refs[ref] = doc.url
        files.update(_fragments(doc))
        for key, score in doc.scores.items():
            postings.setdefault(key, []).append((-score, ref, doc.masks[key]))
    entries = []
    for word in sorted(postings, key=_sort_key):
        entry, more = _entry(word, sorted(postings[word]))
        entries.append(entry)
        files.update(more)
    boundaries = []
    for shard in _chunk(entries):
        boundary, path, data = _shard_file(shard)
        files[path] = data
        boundaries.append(boundary)
    files["index.json"] = _manifest(len(docs), boundaries)
    return files


def update_files(read, manifest: dict, old_docs: dict[str, SearchDoc | None],
                 new_docs: dict[str, SearchDoc | None]) -> tuple[dict[str, bytes], set[str]]:
    """The files that change when the pages in ``old_docs`` (their previous documents, None if new)
    become ``new_docs`` (None if gone), and the files that go; ``read(path)`` reads the previous
    index. The result equals what ``index_files`` would write for the new set of pages."""
    written: dict[str, bytes] = {}
    removed: set[str] = set()
    gone_refs = {reference(url) for url in old_docs}
    added: dict[str, list[Posting]] = {}
    touched: set[str] = set()
    for url, doc in old_docs.items():
        if doc is not None:
            touched.update(doc.scores)
            removed.update(_fragments(doc))
    for url, doc in new_docs.items():
        if doc is None:
            continue
        fragments = _fragments(doc)
        path = f"d/{reference(url)}.json"
        if old_docs[url] is None:
            try:
                other = json.loads(read(path))["url"]
            except FileNotFoundError:
                other = None
            if other is not None and other not in old_docs:
                raise ConfigError(f"search: pages {other} and {url} have the same reference {reference(url)}")
        written.update(fragments)
        removed.difference_update(fragments)
        for key, score in doc.scores.items():
            added.setdefault(key, []).append((-score, reference(url), doc.masks[key]))
    touched.update(added)

    boundaries = manifest["shards"]
    firsts = [_sort_key(first) for first, _ in boundaries]
    by_shard: dict[int, list[str]] = {}
    for word in touched:
        by_shard.setdefault(max(0, bisect.bisect_right(firsts, _sort_key(word)) - 1), []).append(word)

    def updated(position: int) -> list[list]:
        """Shard ``position``'s entries with the touched words' postings replaced."""
        entries = {entry[0]: entry for entry in json.loads(read(f"s/{boundaries[position][1]}.json"))}
        removed.add(f"s/{boundaries[position][1]}.json")
        for word in by_shard.get(position, ()):
            old = entries.pop(word, None)
            ranked = list(added.get(word, ()))
            if old is not None:
                flat = list(old[2])
                for path in _entry_files(old):
                    if path.startswith("m/"):
                        flat += json.loads(read(path))
                    removed.add(path)
                ranked += [(-flat[i + 1], flat[i], flat[i + 2]) for i in range(0, len(flat), 3)
                           if flat[i] not in gone_refs]
            if ranked:
                entries[word], more = _entry(word, sorted(ranked))
                written.update(more)
                for path in more:
                    removed.discard(path)
        return sorted(entries.values(), key=lambda entry: _sort_key(entry[0]))

    new_boundaries: list[list[str]] = []
    position = 0
    while position < len(boundaries):
        if position not in by_shard:
            new_boundaries.append(boundaries[position])
            position += 1
            continue
        entries = updated(position)
        position += 1
        # a run ends where a shard ends with a cut that still holds (or at the index's end)
        while position < len(boundaries) and (position in by_shard or (entries and not _is_cut(entries[-1]))):
            entries += updated(position)
            position += 1
        for shard in _chunk(entries):
            boundary, path, data = _shard_file(shard)
            written[path] = data
            removed.discard(path)
            new_boundaries.append(boundary)
    written["index.json"] = _manifest(manifest["docs"] - sum(1 for d in old_docs.values() if d is not None)
                                      + sum(1 for d in new_docs.values() if d is not None), new_boundaries)
    return written, removed - set(written)


# -- cached, incremental -------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchIndex:
    folder: Path
    cached: bool
    incremental: bool
    files_written: int
    files_total: int


class _DocumentMemo:
    """Search documents by page hash, one small file each, kept between builds: an update needs the
    previous documents of the edited pages, and a full rebuild re-reads no unchanged page."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, page_hash: str) -> Path:
        return self.folder / page_hash[:2] / f"{page_hash}.json"

    def get(self, url: str, page_hash: str) -> SearchDoc | None:
        try:
            title, groups, scores, masks = json.loads(self._path(page_hash).read_text(encoding="utf-8"))
        except (OSError, ValueError):        # missing, or written by an earlier version
            return None
        return SearchDoc(url, title, groups, scores, masks)

    def document(self, page: Page, page_hash: str) -> SearchDoc:
        doc = self.get(page_url(page), page_hash)
        if doc is None:
            doc = document(page)
            atomic_write_text(self._path(page_hash), _dumps([doc.title, doc.groups, doc.scores, doc.masks]).decode())
        return doc

    def forget(self, page_hashes: set[str]) -> None:
        for page_hash in page_hashes:
            self._path(page_hash).unlink(missing_ok=True)


def searchable(page: Page) -> bool:
    """Cheaper than parsing: pages.front_matter writes ``search: true`` on a line of its own."""
    end = page.text.find("\n---\n")
    return page.text.startswith("---\n") and "\nsearch: true\n" in page.text[3:end + 1]


def _latest(folder: Path) -> tuple[Path, dict] | None:
    """The most recently used index of this version: the base an update starts from."""
    for entry in cached_trees(folder, MARKER):
        try:
            meta = json.loads((entry / MARKER).read_text())
        except (OSError, ValueError):
            continue
        if meta.get("version") == INDEX_VERSION:
            return entry, meta
    return None


def build_index(pages: list[Page], hashes: dict[str, str], cache: Cache) -> SearchIndex:
    """The index of ``pages`` (``hashes`` are their page hashes) under ``.cache/search/<key>/``.

    After an edit, only the edited pages' documents are made and only the files of their words are
    rewritten (``update_files``); every other file is a hard link to the previous index's."""
    current = {page_url(page): page for page in pages if searchable(page)}
    page_hash = {url: hashes[page.path] for url, page in current.items()}
    key = hashlib.sha256(canonical_json({"version": INDEX_VERSION, "pages": page_hash}).encode()).hexdigest()
    root = cache.root / "search"
    final = root / key
    marker = final / MARKER
    if marker.is_file():
        os.utime(marker)
        return SearchIndex(final, cached=True, incremental=False, files_written=0,
                           files_total=len(json.loads(marker.read_text())["files"]))
    memo = _DocumentMemo(cache.root / "search-docs")
    previous = _latest(root)
    update = None
    if previous is not None:
        before = previous[1]["pages"]
        changed = {url for url in before.keys() | page_hash.keys() if before.get(url) != page_hash.get(url)}
        old_docs = {url: memo.get(url, before[url]) if url in before else None for url in changed}
        if all(doc is not None for url, doc in old_docs.items() if url in before):
            new_docs = {url: memo.document(current[url], page_hash[url]) if url in current else None
                        for url in changed}
            manifest = json.loads((previous[0] / "index.json").read_bytes())
            if manifest["shards"]:
                update = update_files(lambda path: (previous[0] / path).read_bytes(), manifest, old_docs, new_docs)
    if update is None:
        files = index_files([memo.document(current[url], page_hash[url]) for url in sorted(current)])
        written, removed = files, set()
        digests = {}
        old_digests = previous[1]["files"] if previous else {}
    else:
        written, removed = update
        old_digests = previous[1]["files"]
        digests = {path: digest for path, digest in old_digests.items() if path not in removed}
    work = cache.scratch("search")
    count = 0
    try:
        out = work / "index"
        linker = TreeLinker(out)
        if update is not None:
            for relative in digests:
                if relative not in written:
                    linker.link(previous[0] / relative, relative)
        for relative, data in written.items():
            digest = hashlib.sha256(data).hexdigest()
            digests[relative] = digest
            if previous is not None and old_digests.get(relative) == digest:
                linker.link(previous[0] / relative, relative)
            else:
                linker.write(relative, data)
                count += 1
        (out / MARKER).write_text(json.dumps({"version": INDEX_VERSION, "key": key, "pages": page_hash,
                                              "files": digests}))
        install(out, final, MARKER)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _prune(root, keep=final, memo=memo)
    return SearchIndex(final, cached=False, incremental=update is not None, files_written=count,
                       files_total=len(digests))


def _prune(folder: Path, keep: Path, memo: _DocumentMemo) -> None:
    """Keep the most recently used indexes, and the documents of their pages: going back to a kept
    state and editing from there is still an update, not a rebuild."""
    kept, old = stale_trees(folder, MARKER, keep, KEEP_INDEXES)
    if not old:
        return

    def page_hashes_of(entry: Path) -> set[str]:
        try:
            return set(json.loads((entry / MARKER).read_text())["pages"].values())
        except (OSError, ValueError, KeyError):
            return set()

    still_used = set().union(*(page_hashes_of(entry) for entry in kept))
    for entry in old:
        memo.forget(page_hashes_of(entry) - still_used)
        discard(entry)
