"""render.py on hand-made pages: partial renders, and links to pages that do not exist."""

from __future__ import annotations

import pytest

from producers.errors import ConfigError
from producers.build.render import Page
from producers.jobs.pipeline import Cache, FileHasher
from producers.build.render import page_hashes, render
from producers.build.site import DEFAULT_MKDOCS_CONFIG

CONFIG = {"site_name": "T", "site_url": "https://example.org/", "nav": [{"Home": "index.md"}]}


def pages(**texts: str) -> list[Page]:
    return [Page("index.md", "# Home\n\n[a](a/)\n")] + [Page(f"{name}/index.md", text) for name, text in texts.items()]


def build(page_list: list[Page], cache: Cache):
    return render(page_list, page_hashes(page_list), [], CONFIG, DEFAULT_MKDOCS_CONFIG, cache,
                  FileHasher(cache.root / "filehash.json"))


def test_an_edit_renders_only_the_edited_page_and_the_nav(tmp_path):
    cache = Cache(tmp_path / "cache")
    others = {name: f"# {name}\n" for name in "bcdef"}
    first = build(pages(a="# A\n\n[b](../b/)\n", **others), cache)
    assert first.pages_rendered == 7
    edited = build(pages(a="# A\n\n[b](../b/) edited\n", **others), cache)
    assert edited.pages_rendered == 2       # a/ and the home page (in the nav)
    assert "edited" in (edited.folder / "a/index.html").read_text()
    assert (edited.folder / "b/index.html").stat().st_ino == (first.folder / "b/index.html").stat().st_ino


def test_a_changed_page_linking_nowhere_is_refused(tmp_path):
    cache = Cache(tmp_path / "cache")
    build(pages(a="# A\n", b="# B\n"), cache)
    with pytest.raises(ConfigError, match="a/index.md: ../missing/"):
        build(pages(a="# A\n\n[gone](../missing/)\n", b="# B\n"), cache)


def test_removing_a_page_that_an_unchanged_page_links_to_is_refused(tmp_path):
    cache = Cache(tmp_path / "cache")
    build(pages(a="# A\n\n[b](../b/)\n", b="# B\n"), cache)
    with pytest.raises(ConfigError, match="a/index.md: ../b/"):
        build(pages(a="# A\n\n[b](../b/)\n"), cache)
