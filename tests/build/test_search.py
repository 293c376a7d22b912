"""The search index: words cut and folded right, bounded bytes per query, incremental files."""

from __future__ import annotations

import bisect
import json
import random
from pathlib import Path

import pytest

from producers.build.pages import front_matter
from producers.build.render import Page
from producers.jobs.pipeline import Cache
from producers.build.render import page_hashes
from producers.build.search import (FIRST_BLOCK, GROUP_CHARS, MORE_BLOCK, SHARD_TARGET, build_index, document, fold, index_files,
                              plain_text, reference, words)


def test_hindi_words_keep_their_vowel_signs_and_lose_joiners():
    assert words("ऑनलाइन ठगी से बचाव") == ["ऑनलाइन", "ठगी", "से", "बचाव"]
    assert words("क्\u200dष") == ["क्ष"]


def test_vietnamese_words_are_nfc_lower_case_and_fold_without_marks():
    assert words("Phu\u0301ng VIẾNG") == ["phúng", "viếng"]
    assert fold("phúng") == "phung" and fold("đám") == "dam" and fold("ठगी") == "ठगी"


def test_plain_text_drops_markup_scripts_and_styles():
    text = plain_text("# Title\n\n<script>var secret = 1</script>\n<style>p{}</style>\n\n"
                      "Some **bold** [link](../x/) ![alt text](a.png) &amp; <b>tag</b> \\*star\\* snake_case\n\n"
                      "| a | b |\n|---|---|\n| c | d |\n")
    assert text == "Title Some bold link alt text & tag *star* snake_case a b c d"


def test_plain_text_of_a_generated_page_reads_its_html_blocks():
    page_text = ('# Title\n\n<div class="c35-body">\n<p>One <em>two</em></p>\n<template><p>hidden</p></template>\n'
                 '<p>three<script>var x = "secret";</script> four</p>\n</div>\n\n[Back](../)\n')
    assert plain_text(page_text) == "Title One two three four Back"


def page(url: str, title: str, body: str, search: bool = True) -> Page:
    return Page(url + "index.md", front_matter(title, extra={"search": True} if search else None)
                + f"# {title}\n\n{body}\n")


def test_listing_pages_are_not_indexed_and_titles_weigh_more():
    assert document(page("cells/x/", "Cell", "lists titles", search=False)) is None
    in_title = document(page("a/", "Flood drill", "river"))
    in_body = document(page("b/", "Drill", "flood river"))
    assert in_title.scores["flood"] > in_body.scores["flood"]


def synthetic_docs(count: int, seed: int = 1) -> list:
    rng = random.Random(seed)
    vocabulary = ["và", "của", "ठगी", "है", "the", "flood"] + [f"w{n}" for n in range(300)]
    docs = []
    for n in range(count):
        body = " ".join(rng.choice(vocabulary) for _ in range(120)) + f" unique{n}"
        docs.append(document(page(f"sessions/s{n:05d}/", f"Session {n} và", body)))
    return docs


def query_bytes(files: dict[str, bytes], word: str, shown: int = 10) -> tuple[int, list[str]]:
    """What search.js downloads for one word: the manifest, that word's shard, the shown results."""
    manifest = json.loads(files["index.json"])
    firsts = [first for first, _ in manifest["shards"]]
    name = manifest["shards"][bisect.bisect_right(firsts, word) - 1][1]
    shard = files[f"s/{name}.json"]
    entry = next(e for e in json.loads(shard) if e[0] == word)
    refs = entry[2][0::3][:shown]
    return len(files["index.json"]) + len(shard) + sum(len(files[f"d/{r}.json"]) for r in refs), refs


def test_a_common_word_costs_about_the_same_bytes_on_a_site_ten_times_bigger():
    small, big = index_files(synthetic_docs(200)), index_files(synthetic_docs(2000))
    small_bytes, _ = query_bytes(small, "và")
    big_bytes, _ = query_bytes(big, "và")
    assert big_bytes < 1.5 * small_bytes, (small_bytes, big_bytes)
    assert big_bytes < 60_000
    assert max(len(data) for name, data in big.items() if name.startswith("s/")) <= 8 * SHARD_TARGET


def test_every_posting_is_reachable_best_first_through_the_more_files():
    docs = synthetic_docs(700)
    files = index_files(docs)
    manifest = json.loads(files["index.json"])
    shards = [json.loads(files[f"s/{name}.json"]) for _, name in manifest["shards"]]
    entry = next(e for shard in shards for e in shard if e[0] == "ठगी")
    flat = entry[2] + [v for n in range(1, entry[4] + 1) for v in json.loads(files[f"m/{entry[3]}-{n}.json"])]
    refs, scores = flat[0::3], flat[1::3]
    expected = {reference(d.url) for d in docs if "ठगी" in d.scores}
    assert len(entry[2]) == 3 * FIRST_BLOCK and entry[4] == -(-(len(expected) - FIRST_BLOCK) // MORE_BLOCK)
    assert entry[1] == len(refs) == len(expected) and set(refs) == expected
    assert scores == sorted(scores, reverse=True)
    # the same postings split by reference: file n holds the references whose first bits are n
    chunks = [json.loads(files[f"r/{entry[3]}-{n}.json"]) for n in range(2 ** entry[5])]
    assert sorted(ref for chunk in chunks for ref in chunk[0::3]) == sorted(refs)
    assert all(int(ref[:8], 16) >> (32 - entry[5]) == n for n, chunk in enumerate(chunks) for ref in chunk[0::3])
    assert dict(zip(refs, scores)) == {ref: score for chunk in chunks for ref, score in zip(chunk[0::3], chunk[1::3])}
    words_in_order = [e[0] for shard in shards for e in shard]
    assert words_in_order == sorted(words_in_order, key=lambda w: w.encode("utf-16-be"))


def test_a_posting_says_which_parts_of_a_long_page_hold_the_word():
    """So a result reads only the part whose passage its excerpt shows."""
    doc = document(page("a/", "Long", "opening words " * 400 + "needle here"))
    assert len(doc.groups) == 3 and all(len(group) <= GROUP_CHARS for group in doc.groups)
    assert " ".join(doc.groups) == ("opening words " * 400 + "needle here").strip()
    assert doc.masks["needle"] == 0b100 and doc.masks["opening"] == 0b111 and doc.masks["long"] == 0
    files = index_files([doc])
    assert json.loads(files[f"d/{reference('a/')}-2.json"]) == {"url": "a/", "title": "Long",
                                                                "text": doc.groups[2]}


def test_a_word_typed_without_tone_marks_finds_the_marked_word():
    files = index_files([document(page("a/", "Lễ tang", "viếng phúng điếu"))])
    for word in ("phúng", "phung", "dieu", "điếu"):
        assert query_bytes(files, word)[1] == [reference("a/")]


def site_pages(count: int, edited: int | None = None) -> list[Page]:
    pages = [page("cells/", "Cells", "listing", search=False)]
    for n in range(count):
        body = f"Session body {n} với ठगी và flood" + (" edited sentence" if n == edited else "")
        pages.append(page(f"sessions/s{n:03d}/", f"Session {n}", body))
    return pages


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_an_edit_rewrites_few_files_and_equals_a_clean_index(tmp_path):
    cache = Cache(tmp_path / "cache")
    first = build_index(site_pages(300), page_hashes(site_pages(300)), cache)
    assert not first.cached and first.files_written == first.files_total > 300
    again = build_index(site_pages(300), page_hashes(site_pages(300)), cache)
    assert again.cached and again.folder == first.folder
    edited = site_pages(300, edited=7)
    result = build_index(edited, page_hashes(edited), cache)
    # the page's file, the manifest, and per word of the page its shard, at most one more-file and
    # the by-reference file its reference falls in
    words_of_page = len(document(edited[8]).scores)
    assert not result.cached and result.files_written <= 2 + 3 * words_of_page, (result, words_of_page)
    assert result.files_written < result.files_total / 10
    clean = build_index(edited, page_hashes(edited), Cache(tmp_path / "clean"))
    assert tree_bytes(result.folder) == tree_bytes(clean.folder)
    assert b"edited sentence" in (result.folder / f"d/{reference('sessions/s007/')}.json").read_bytes()


def test_a_removed_page_leaves_the_index(tmp_path):
    cache = Cache(tmp_path / "cache")
    pages = site_pages(20)
    build_index(pages, page_hashes(pages), cache)
    fewer = pages[:-1]
    result = build_index(fewer, page_hashes(fewer), cache)
    assert not (result.folder / f"d/{reference('sessions/s019/')}.json").exists()
    assert json.loads((result.folder / "index.json").read_text())["docs"] == 19
    assert b"s019" not in b"".join(tree_bytes(result.folder).values())


@pytest.mark.parametrize("title", ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"])
def test_titles_are_stored_as_text_for_the_page_to_show_as_text(title):
    doc = document(page("a/", title, "body"))     # front matter holds it HTML-escaped
    assert doc.title == title     # search.js puts it in with textContent; a browser test checks that


@pytest.fixture(scope="module")
def small_site(tmp_path_factory, served):
    """A site whose common word needs the more-files (tiny blocks), with one hostile session."""
    from producers.build.site import BuildOptions, build_site
    from tests.conftest import Tree, session_md

    root = tmp_path_factory.mktemp("search-site")
    tree = Tree(root / "content")
    tree.session("2024-q4/ha-long-hostile", session=session_md(
        title="'Canal <img src=x onerror=window.pwned=1> day'",
        summary="'Zanzibar <script>window.pwned=2</script> summary'"))
    for index in range(14):
        tree.session(f"2025-q1/varanasi-s{index:02d}", session=session_md(
            cell="varanasi", date=f"2025-01-{index + 1:02d}", title=f"Session {index}",
            summary=" ".join(["zanzibar"] * (index + 1))))
    with pytest.MonkeyPatch.context() as patch:
        import producers.build.search as search
        patch.setattr(search, "FIRST_BLOCK", 4)
        patch.setattr(search, "MORE_BLOCK", 3)
        result = build_site(BuildOptions(content=tree.root, out=root / "site", cache_dir=root / "cache"))
    assert result.ok
    return served(result.out), result.out


@pytest.mark.browser
def test_hostile_text_reaches_search_results_as_text_only(small_site, page):
    """A title and body made to run script come back from a search as visible text, nothing else."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(small_site[0] + "search/?q=canal", wait_until="load")
    link = page.locator(".c35-search-result a").first
    link.wait_for()
    assert link.inner_text() == "Canal <img src=x onerror=window.pwned=1> day"
    assert page.locator(".c35-search-results img, .c35-search-results script").count() == 0
    assert page.locator(".c35-search-result mark").first.inner_text() == "Canal"
    assert page.evaluate("window.pwned") is None and dialogs == []


@pytest.mark.browser
def test_more_results_come_in_steps_best_first_without_repeats(small_site, page):
    base, folder = small_site
    files = {str(p.relative_to(folder / "search-index")): p.read_bytes()
             for p in (folder / "search-index").rglob("*.json")}
    manifest = json.loads(files["index.json"])
    firsts = [first for first, _ in manifest["shards"]]
    shard = json.loads(files[f"s/{manifest['shards'][bisect.bisect_right(firsts, 'zanzibar') - 1][1]}.json"])
    pages_with_word = next(entry[1] for entry in shard if entry[0] == "zanzibar")
    assert pages_with_word >= 15          # more than one step of 10, most of them beyond the 4 in the shard

    page.goto(base + "search/", wait_until="load")
    page.locator("#c35-search input").fill("zanzibar ")
    results, more = page.locator(".c35-search-result a"), page.locator(".c35-search-more")
    results.first.wait_for()
    assert results.count() == 10 and more.is_visible()
    while more.is_visible():          # only 4 postings were in the shard: the rest come from more-files
        shown = results.count()
        more.click()
        page.wait_for_function(f"document.querySelectorAll('.c35-search-result').length > {shown}")
    links = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert len(links) == len(set(links)) == pages_with_word
    # the summary repeats the word index+1 times: the most repetitive session ranks first
    assert links[0].endswith("/sessions/2025-q1/varanasi-s13/")


def test_going_back_to_an_earlier_state_and_editing_is_still_an_update(tmp_path):
    cache = Cache(tmp_path / "cache")
    original, edited, again = site_pages(30), site_pages(30, edited=3), site_pages(30, edited=4)
    for state in (original, edited, original):          # the last one is cached
        build_index(state, page_hashes(state), cache)
    result = build_index(again, page_hashes(again), cache)
    assert result.incremental
    # after more builds than are kept, the documents only old indexes used are gone
    for n in range(5, 12):
        state = site_pages(30, edited=n)
        build_index(state, page_hashes(state), cache)
    kept = {h for entry in (cache.root / "search").iterdir() if (entry / ".cell35-search.json").is_file()
            for h in json.loads((entry / ".cell35-search.json").read_text())["pages"].values()}
    stored = {p.stem for p in (cache.root / "search-docs").rglob("*.json")}
    assert stored == kept


def test_a_page_that_grows_and_shrinks_keeps_exactly_its_text_parts(tmp_path):
    cache = Cache(tmp_path / "cache")
    short = site_pages(12)
    long = short[:3] + [page("sessions/s002/", "Session 2", "growing words " * 400 + "tail")] + short[4:]
    shrunk = site_pages(12, edited=5)          # page 2 short again, another page edited: an update
    results = [build_index(state, page_hashes(state), cache) for state in (short, long, shrunk)]
    parts = f"d/{reference('sessions/s002/')}-"
    assert not any(name.startswith(parts) for name in tree_bytes(results[0].folder))
    assert {name for name in tree_bytes(results[1].folder) if name.startswith(parts)} == {parts + "1.json", parts + "2.json"}
    assert results[1].incremental
    clean = build_index(long, page_hashes(long), Cache(tmp_path / "clean"))
    assert tree_bytes(results[1].folder) == tree_bytes(clean.folder)
    assert results[2].incremental and not any(name.startswith(parts) for name in tree_bytes(results[2].folder))
    assert tree_bytes(results[2].folder) == tree_bytes(build_index(shrunk, page_hashes(shrunk),
                                                                   Cache(tmp_path / "clean2")).folder)
