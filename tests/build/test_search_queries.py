"""Search finds what people mean: fixed queries in vi (with and without tone marks), hi and en over a
generated site, run through the real search.js in Chromium, with the expected top results written
down (bench/search_bench.py runs the same queries over 5,000 sessions against Pagefind)."""

from __future__ import annotations

import bisect
import json
import re

import pytest

from bench.generate import PLANTED_COPIES, generate, unique_word
from bench.search_bench import generated_pages, query_ours, write_index
from producers.build import search
from producers.build.search import document, fold, reference, words

SESSIONS = 300
# query -> the sessions whose article pages must be the top results (bench/generate.py TOPICS
# plants each phrase once, past the first 2,000 characters, in PLANTED_COPIES sessions)
EXPECTED = {
    "lũ quét": "lu-quet",
    "lu quet": "lu-quet",            # typed without tone marks
    "cảnh báo lũ quét": "lu-quet",
    "sạt lở đất": "sat-lo",
    "sat lo dat": "sat-lo",
    "बाढ़ राहत": "badh-rahat",
    "बाढ़ राहत शिविर": "badh-rahat",
    "landslide warning": "landslide",
    "landslide warning drill": "landslide",
}


@pytest.fixture(scope="module")
def planted_site(tmp_path_factory, served):
    """The generated site's pages indexed as the build indexes them, with small blocks so that, at
    300 sessions, each word's best postings are pages without the phrase (as at 5,000 with 40)."""
    root = tmp_path_factory.mktemp("planted")
    content = generate(root / "content", SESSIONS, planted=True)
    docs = [doc for doc in map(document, generated_pages(content)) if doc is not None]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "FIRST_BLOCK", 4)
        patch.setattr(search, "MORE_BLOCK", 20)
        write_index(docs, root / "site")
    return served(root / "site"), root / "site", docs


def shard_entry(folder, word: str) -> list:
    manifest = json.loads((folder / "search-index/index.json").read_bytes())
    firsts = [first for first, _ in manifest["shards"]]
    name = manifest["shards"][bisect.bisect_right(firsts, word) - 1][1]
    return next(e for e in json.loads((folder / f"search-index/s/{name}.json").read_bytes()) if e[0] == word)


def test_the_planted_pages_are_in_no_query_words_best_postings(planted_site):
    """So only an intersection finds them: the union of the words' best postings would not."""
    _, folder, docs = planted_site
    for query, slug in EXPECTED.items():
        planted = {reference(d.url) for d in docs if re.search(rf"-{slug}-\d/01-article/$", d.url)}
        assert len(planted) == PLANTED_COPIES
        for word in words(query):
            entry = shard_entry(folder, word)
            assert entry[1] > 4 and not planted & set(entry[2][0::3]), (query, word)


@pytest.mark.browser
@pytest.mark.parametrize("query", list(EXPECTED))
def test_pages_holding_every_word_come_first_with_the_passage_marked(planted_site, browser, query):
    base, _, _ = planted_site
    found = query_ours(browser, base, query)["results"]
    top = found[:PLANTED_COPIES]
    assert all(re.search(rf"-{EXPECTED[query]}-\d/01-article/$", r["url"]) for r in top), [r["url"] for r in found]
    wanted = set(words(query))
    for result in top:
        # the phrase is past the first 2,000 characters: the excerpt is its passage, every word marked
        marked = {fold(w) for mark in result["marks"] for w in words(mark)}
        assert {fold(w) for w in wanted} <= marked, result
        assert result["excerpt"].startswith("… ")
    # then the pages holding some of the words, one step of them
    assert len(found) == 10


@pytest.mark.browser
def test_a_rare_word_finds_its_one_session(planted_site, browser):
    base, _, _ = planted_site
    found = query_ours(browser, base, unique_word(123))["results"]
    assert found[0]["url"].endswith("-topic-00123/") and found[0]["marks"] == [unique_word(123)]


@pytest.mark.browser
def test_more_results_finish_the_conjunction_then_add_partial_matches(planted_site, browser):
    """Two common words: every step is pages holding both, none repeated, until those run out."""
    base, _, docs = planted_site
    both = {d.url for d in docs if "fraud" in d.scores and "smart" in d.scores}
    assert len(both) > 20
    read = query_ours(browser, base, "fraud smart", more=2)
    urls = [r["url"] for r in read["results"]]
    assert len(urls) == len(set(urls)) == 30 and set(urls) <= both
    # the rarer word's postings best first and, for those pages only, the other word's files by
    # reference: neither word's full list is read
    files = [url.split("/search-index/", 1)[1] for url, _ in read["files"]]
    best_first = {path[2:].rsplit("-", 1)[0] for path in files if path.startswith("m/")}
    by_reference = {path[2:].rsplit("-", 1)[0] for path in files if path.startswith("r/")}
    assert len(best_first) == len(by_reference) == 1 and best_first != by_reference, files


@pytest.mark.browser
def test_words_that_never_meet_give_the_pages_holding_either_after_a_bounded_search(planted_site, browser):
    """No page holds both (one is English, one Vietnamese): after a few blocks of the rarer word's
    pages the search stops looking for both and shows pages holding one of them."""
    base, _, docs = planted_site
    assert not any("fraud" in d.scores and "thành" in d.scores for d in docs)
    read = query_ours(browser, base, "fraud thành")
    by_url = {d.url: d for d in docs}
    assert len(read["results"]) == 10
    assert all({"fraud", "thành"} & by_url[r["url"]].scores.keys() for r in read["results"])
    best_first = [url for url, _ in read["files"] if "/m/" in url]
    assert len(best_first) <= 4, best_first
