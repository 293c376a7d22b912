"""HTML comes from templates with autoescaping, never from Python strings.

An HTML tag written in a string of a module (an f-string, a ``%`` or ``+`` concatenation, a plain
constant joined later) is markup whose escaping someone must remember at every value; a template
escapes every value by itself. So no module of ``producers/`` may hold a string with an HTML tag,
but the sanitiser (it parses and cleans HTML) and the template environment, and the few strings
listed in ALLOWED with the reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from producers.web.templates import ENVIRONMENT, MARKDOWN_ENVIRONMENT, TEMPLATES_DIR, Markup, fragment, render
from tests.conftest import REPO

PACKAGE = REPO / "producers"
# Modules that work on HTML itself rather than write it.
EXEMPT = {"producers/web/html.py", "producers/web/templates.py"}
# Folders not converted yet (their page markup moves into ``fragment`` templates): remove a line
# to have the folder checked.
NOT_YET: tuple[str, ...] = ()
# (module, text the string contains, why it may stay)
ALLOWED = [
    ("producers/content/loader.py", "an HTML <a> link", "an error message naming a tag, not markup"),
    ("producers/content/loader.py", "an HTML <img> tag", "an error message naming a tag, not markup"),
]
# An HTML element's opening or closing tag ('<p>', '<a href', '</div>', '<br/>'; the sitemap's XML
# elements too: it has a template); not XML with a
# namespace prefix ('<dc:creator>', XMP metadata inside image files), not '<cell>' placeholders in
# messages (no HTML element is called that), not regular expressions ('<(script|style)', '(?P<code>').
HTML_ELEMENTS = (
    "a abbr address article aside audio b blockquote body br button caption code col colgroup dd details "
    "dialog div dl dt em figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img "
    "input kbd label li link main mark meta nav noscript ol optgroup option p picture pre q s samp script "
    "section select small source span strong style sub summary sup table tbody td template textarea tfoot "
    "th thead time title tr track u ul var video svg urlset url loc"
).split()
TAG = re.compile(r"(?<!\?P)</?(?:%s)(?=[\s>/])" % "|".join(HTML_ELEMENTS), re.I)


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: documentation may show markup."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def fragment_sources(tree: ast.AST) -> set[int]:
    """ids of the strings that are templates given to ``fragment()``: written in a module, escaped by
    the engine like any template file (a kind keeps its page's markup beside its code)."""
    passed = [node.args[0] for node in ast.walk(tree)
              if isinstance(node, ast.Call) and node.args
              and getattr(node.func, "id", getattr(node.func, "attr", None)) == "fragment"]
    names = {arg.id for arg in passed if isinstance(arg, ast.Name)}
    found = {id(arg) for arg in passed if isinstance(arg, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                any(isinstance(target, ast.Name) and target.id in names for target in node.targets):
            found.add(id(node.value))
    return found


def strings_with_tags(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree) | fragment_sources(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if TAG.search(node.value):
                found.append((node.lineno, node.value))
    return found


def checked_modules() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py"))
            if (name := path.relative_to(REPO).as_posix()) not in EXEMPT and not name.startswith(NOT_YET)]


def offences() -> list[str]:
    found = []
    for path in checked_modules():
        name = path.relative_to(REPO).as_posix()
        for line, text in strings_with_tags(path):
            if not any(module == name and allowed in text for module, allowed, _ in ALLOWED):
                found.append(f"{name}:{line}: {text[:80]!r}")
    return found


def test_no_module_writes_html_in_python_strings():
    assert offences() == [], "HTML belongs in a template (producers/web/templates/ or fragment()):\n" + \
        "\n".join(offences())


def test_the_scan_sees_f_strings_concatenation_and_percent(tmp_path):
    """The check itself: each way of writing HTML in Python is caught, a docstring and a message are not."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""A <p> in a docstring is fine."""\n'
                      'def f(x):\n'
                      '    """Returns <div>s."""\n'
                      '    a = f"<li>{x}</li>"\n'
                      '    b = "<span class=\\"c\\">" + x\n'
                      '    c = "<td>%s</td>" % x\n'
                      '    d = "folder <cell>-<topic> is badly named"\n'
                      '    e = "<dc:creator>"\n'
                      '    return a, b, c, d, e\n'
                      'PAGE = "<p>{{ x }}</p>"\n'
                      'def g(x):\n'
                      '    return fragment(PAGE, x=x), fragment("<b>{{ x }}</b>", x=x)\n'
                      'NOT_A_TEMPLATE = "<i>{{ x }}</i>"\n', encoding="utf-8")
    assert sorted({line for line, _ in strings_with_tags(sample)}) == [4, 5, 6, 13]


def test_every_allowance_is_still_needed():
    for module, allowed, _ in ALLOWED:
        assert any(allowed in text for _, text in strings_with_tags(REPO / module)), (module, allowed)


def test_templates_escape_every_value_and_refuse_unknown_names():
    hostile = '<script>alert("x")</script>'
    badge = render("badge.html", status="draft", label=hostile)
    assert "<script>" not in badge and "&lt;script&gt;" in badge
    assert fragment("<b>{{ x }}</b>", x=hostile) == "<b>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</b>"
    with pytest.raises(Exception, match="misspelt"):
        fragment("{{ misspelt }}")


def test_every_template_file_parses():
    html = [p.name for p in TEMPLATES_DIR.iterdir() if p.suffix in (".html", ".xml")]
    pages = [p.name for p in TEMPLATES_DIR.iterdir() if p.suffix == ".md"]
    assert html and pages
    for name in html:
        ENVIRONMENT.get_template(name)
    for name in pages:
        MARKDOWN_ENVIRONMENT.get_template(name)


def test_markdown_templates_make_every_value_inert_markdown_but_markup():
    page = MARKDOWN_ENVIRONMENT.from_string("# {{ title }}\n\n{{ link }}\n")
    text = page.render(title="*bold* [x](javascript:alert(1)) <b>", link=Markup("[ok](../)"))
    assert text == "# \\*bold\\* \\[x\\]\\(javascript:alert\\(1\\)\\) &lt;b&gt;\n\n[ok](../)\n"
