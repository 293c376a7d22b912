"""A product kind is one module: a seventh kind declared in this file (a poem: model, words,
template, report column, job and page) builds a real site by being passed in a registry, with no
other module touched; and a kind declared incompletely is refused when it is declared."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any, Literal, Mapping

import pytest
from PIL import Image

from producers.build.site import BuildOptions, build_site
from producers.content.model import ProductBase, text
from producers.content.scaffold import Scaffold, new_session
from producers.errors import Problem
from producers.jobs.pipeline import Job, JobResult
from producers.kinds.base import Kind, KindError, ProductContext, ProductPage, check_registry
from producers.kinds.registry import REGISTRY, load_content, scaffolds
from producers.web.templates import fragment
from tests.conftest import CELLS_YML, Tree, session_md

MAX_LINES = 40


class PoemProduct(ProductBase):
    type: Literal["poem"]
    dedication: text(max_length=200) = ""

    def needs_body(self) -> bool:
        return True

    def body_problems(self, body: str, body_line: int, display: str) -> list[Problem]:
        lines = body.strip().count("\n") + 1
        if lines <= MAX_LINES:
            return []
        return [Problem(display, body_line, "(body)", f"the poem has {lines} lines; the cap is {MAX_LINES}")]


def render_poem(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action (module level: jobs run in forked processes): the poem as text, and a card whose
    height grows with its lines."""
    lines = params["body"].strip().split("\n")
    (out_dir / "poem.txt").write_text(params["title"] + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    Image.new("RGB", (120, 20 * len(lines)), (93, 64, 55)).save(out_dir / "poem.png", "PNG")
    return []


PAGE = """<div class="c35-poem">
{% if dedication %}<p class="c35-poem__dedication">{{ labels("poem.for") }} {{ dedication }}</p>{% endif %}
<pre class="c35-poem__text">{{ body }}</pre>
<p><img src="poem.png" width="{{ width }}" height="{{ height }}" alt="{{ title }}">
<a href="poem.txt" download>{{ labels("poem.download") }}</a></p>
</div>"""


class PoemProducer:
    def plan(self, ctx: ProductContext) -> list[Job]:
        return [Job(name=ctx.job_name("poem"), kind="poem", action=render_poem,
                    params={"title": ctx.record.product.title, "body": ctx.record.body},
                    files=(), outputs=("poem.txt", "poem.png"))]

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels) -> ProductPage:
        outputs = results[ctx.job_name("poem")].outputs
        with Image.open(outputs["poem.png"]) as card:
            width, height = card.size
        product = ctx.record.product
        html = fragment(PAGE, labels=labels, dedication=product.dedication, body=ctx.record.body.strip(),
                        title=product.title, width=width, height=height)
        return ProductPage(html=html, media=dict(outputs))


LABELS = {
    "en": {"kind.poem": "Poem", "poem.for": "For", "poem.download": "Download the poem"},
    "vi": {"kind.poem": "Bài thơ", "poem.for": "Tặng", "poem.download": "Tải bài thơ"},
    "hi": {"kind.poem": "कविता", "poem.for": "समर्पित", "poem.download": "कविता डाउनलोड करें"},
}
SCAFFOLD = Scaffold({"title": "A poem", "dedication": "the cell"}, "The first line,\nand the second.\n")
POEM = Kind("poem", model=PoemProduct, producer=PoemProducer(), labels=LABELS, scaffold=SCAFFOLD,
            report_colour="#5d4037")
KINDS = check_registry({**REGISTRY, "poem": POEM})

POEM_MD = ("---\ntype: poem\ntitle: The canal <b>at dawn</b>\ndedication: \"Lan & Minh's cell\"\n---\n"
           "Water <script>alert(1)</script> runs,\nthe reeds bow \"low\".\n")


def poem_tree(root: Path, language: str) -> Tree:
    tree = Tree(root)
    tree.write("site.yml", f"title: Poems\nbase_url: https://example.org/\nlanguage: {language}\n")
    # the session is written in the site's language: its pages speak the language of their content
    tree.session("2024-q4/ha-long-poems", session=session_md(language=language),
                 products={"01-poem.md": POEM_MD, "02-article.md":
                                                    "---\ntype: article\ntitle: Notes\n---\nText.\n"})
    return tree


@pytest.mark.parametrize("language", ["en", "vi", "hi"])
def test_a_kind_declared_in_a_test_builds_a_real_site(tmp_path, language):
    tree = poem_tree(tmp_path / "content", language)
    result = build_site(BuildOptions(content=tree.root, out=tmp_path / "site", cache_dir=tmp_path / "cache",
                                     preview=True, kinds=KINDS))
    assert result.ok, result.report["sessions"]
    words = LABELS[language]
    url = result.out / "sessions/2024-q4/ha-long-poems/01-poem"
    page = (url / "index.html").read_text(encoding="utf-8")
    # the kind's page, its words in its content's language, and every value escaped by the template
    assert '<pre class="c35-poem__text">Water &lt;script&gt;alert(1)&lt;/script&gt; runs,\nthe reeds bow &#34;low&#34;.</pre>' in page
    assert f'{words["poem.for"]} Lan &amp; Minh&#39;s cell' in page
    assert f'<a href="poem.txt" download>{words["poem.download"]}</a>' in page
    assert 'width="120" height="40" alt="The canal &lt;b&gt;at dawn&lt;/b&gt;"' in page
    assert "<script>alert" not in page
    assert words["kind.poem"] in page                           # "Kind: Poem" among the product's facts
    # its job's outputs are published beside the page
    assert (url / "poem.txt").read_text(encoding="utf-8").startswith("The canal <b>at dawn</b>\n\nWater")
    with Image.open(url / "poem.png") as card:
        assert card.format == "PNG" and card.size == (120, 40)
    # its listing, under its own name
    assert words["kind.poem"] in (result.out / "kinds/index.html").read_text(encoding="utf-8")
    assert "The canal" in (result.out / "kinds/poem/index.html").read_text(encoding="utf-8")
    session = (result.out / "sessions/2024-q4/ha-long-poems/index.html").read_text(encoding="utf-8")
    assert words["kind.poem"] in session
    # its column in the evaluation report: the CSV, the table and the chart's legend
    report = result.out / "report"
    [row] = [r for r in csv.DictReader(io.StringIO((report / "report.csv").read_text(encoding="utf-8")))
             if r["quarter"] == "2024-q4" and r["cell"] == "ha-long"]
    assert row["poem"] == "1" and row["article"] == "1"
    assert f"{words['kind.poem']} 1" in (report / "index.html").read_text(encoding="utf-8")
    assert words["kind.poem"] in (report / "kinds.svg").read_text(encoding="utf-8")


def test_the_registry_passed_is_the_one_the_content_is_checked_against(tmp_path):
    tree = poem_tree(tmp_path / "content", "en")
    [problem] = load_content(tree.root).errors                   # the shipped kinds know no poem
    assert str(problem) == ("content/sessions/2024-q4/ha-long-poems/01-poem.md:2: type: Expected one of: "
                            "(slides, article, social-post, video, podcast, photo-series) but received: 'poem'")
    assert load_content(tree.root, KINDS).problems == []
    tree.write("sessions/2024-q4/ha-long-poems/01-poem.md", "---\ntype: poem\ntitle: Long\n---\n"
               + "a line\n" * (MAX_LINES + 1))
    [problem] = load_content(tree.root, KINDS).errors
    assert str(problem).endswith("01-poem.md:5: (body): the poem has 41 lines; the cap is 40")
    tree.write("sessions/2024-q4/ha-long-poems/01-poem.md", "---\ntype: poem\ntitle: Empty\n---\n")
    [problem] = load_content(tree.root, KINDS).errors
    assert str(problem).endswith("01-poem.md:5: (body): is empty; write the product's text below the front matter")


def test_new_session_writes_the_kinds_own_template(tmp_path):
    tree = Tree(tmp_path / "content")
    tree.write("cells.yml", CELLS_YML)
    folder = new_session(tree.root, cell="ha-long", title="Thơ", topic="tho", date=dt.date(2025, 2, 3),
                         group="build", language="vi", members=10, present=9, summary="S.",
                         kinds=["poem", "photo-series"], scaffolds=scaffolds(KINDS))
    assert (folder / "01-poem.md").read_text(encoding="utf-8") == (
        "---\ntype: poem\ntitle: A poem\ndedication: the cell\n---\n\nThe first line,\nand the second.\n")
    assert (folder / "media/photo-1.jpg").is_file()             # the photo series' placeholder photo
    loaded = load_content(tree.root, KINDS)
    assert loaded.problems == [] and [p.kind for p in loaded.sessions[0].products] == ["poem", "photo-series"]
    with pytest.raises(ValueError, match=r"choose 1 to 3 kinds of: \(slides, .*, photo-series\), received: poem"):
        new_session(tree.root, cell="ha-long", title="T", topic="t2", date=dt.date(2025, 2, 3), group="build",
                    language="vi", members=10, present=9, summary="S.", kinds=["poem"], scaffolds=scaffolds())


def declare(**changes) -> Kind:
    fields = dict(model=PoemProduct, producer=PoemProducer(), labels=LABELS, scaffold=SCAFFOLD,
                  report_colour="#5d4037")
    fields.update(changes)
    return Kind("poem", **{key: value for key, value in fields.items() if value is not None})


@pytest.mark.parametrize("changes, message", [
    ({"labels": {"en": LABELS["en"], "vi": LABELS["vi"]}},
     "labels['hi']: missing 'kind.poem' (what the kind is called)"),
    ({"labels": {**LABELS, "vi": {"kind.poem": "Bài thơ"}}},
     "labels['vi']: keys differ from English: missing (poem.download, poem.for), extra (none)"),
    ({"labels": {language: {**words, "next": "Next"} for language, words in LABELS.items()}},
     "labels: these keys are site-wide labels already: (next)"),
    ({"scaffold": None}, "scaffold: declare a content.scaffold.Scaffold"),
    ({"report_colour": None}, "report_colour: declare the colour of the kind's column in the report, written "
                              "#rrggbb, received: None"),
    ({"report_colour": "brown"}, "received: 'brown'"),
    ({"model": ProductBase}, "model: ProductBase.type must be Literal['poem']"),
    ({"producer": object()}, "producer: declare an object with plan(ctx) -> [Job] and page(ctx, results, labels)"),
])
def test_an_incomplete_kind_is_refused_where_it_is_declared(changes, message):
    with pytest.raises(KindError) as refused:
        declare(**changes)
    assert str(refused.value).startswith("product kind 'poem' is incomplete: ")
    assert message in str(refused.value)


def test_a_registry_names_each_kind_once_under_its_own_name():
    with pytest.raises(KindError, match=r"registry\['poems'\] holds the kind 'poem': the key must be its name"):
        check_registry({**REGISTRY, "poems": POEM})
    twin = Kind("sonnet", model=type("SonnetProduct", (PoemProduct,), {"__annotations__": {"type": Literal["sonnet"]}}),
                producer=PoemProducer(), labels={lang: {**{k: v for k, v in words.items() if k != "kind.poem"},
                                                       "kind.sonnet": "S"} for lang, words in LABELS.items()},
                scaffold=SCAFFOLD, report_colour="#000000")
    with pytest.raises(KindError, match=r"label 'poem.for' is declared by both 'poem' and 'sonnet'"):
        check_registry({"poem": POEM, "sonnet": twin})
