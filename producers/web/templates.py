"""Pages and HTML come from Jinja2 templates, with escaping always on (only the sanitiser makes HTML of Markdown).

Two ways into the HTML environment:
- ``render("name.html", **values)`` renders a file of ``producers/web/templates/``;
- ``fragment(source)`` compiles a template written inside a module (a product kind keeps its page's
  markup beside its code: a new kind is one module). Compiled once per source text.

Every value is escaped by the engine unless it is ``Markup``: the only ``Markup`` a template should
receive is what ``producers.web.html`` (the sanitiser) returned, or another rendered template.
``StrictUndefined`` turns a misspelt name into an error, not an empty string in a published page.

The site's pages are Markdown (mkdocs renders them), written from ``*.md`` templates by
``markdown(name, **values)``. There a value must be inert as Markdown as well as HTML (Markdown lets
HTML through), so every printed value goes through ``markdown_text`` unless it is ``Markup`` (a
link, a rendered HTML block, front matter): the same rule as autoescape, with Markdown's escaping.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import jinja2
from markupsafe import Markup

TEMPLATES_DIR = Path(__file__).parent / "templates"

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,                   # every template, whatever its name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def render(name: str, /, **values) -> Markup:
    """A template file of ``producers/web/templates`` with ``values``; the result is safe HTML."""
    return Markup(ENVIRONMENT.get_template(name).render(**values))


# Exactly the characters Python-Markdown honours a backslash escape for (plus '|' for tables):
# escaping anything else would print the backslash.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def markdown_text(text) -> Markup:
    """Untrusted text as inert inline Markdown: on one line, HTML-escaped, Markdown syntax backslash-escaped."""
    one_line = " ".join(str(text).split())
    return Markup(_MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=True)))


def _markdown_value(value) -> Markup:
    return value if isinstance(value, Markup) else markdown_text(value)


MARKDOWN_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=False,                  # finalize escapes instead, for Markdown and HTML at once
    finalize=_markdown_value,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
# Markdown's line break: two spaces at the end of a line, which editors strip from a template file.
MARKDOWN_ENVIRONMENT.globals["line_break"] = Markup("  ")


def markdown(name: str, /, **values) -> str:
    """A Markdown page template (``*.md``) of ``producers/web/templates``; see the module docstring."""
    return MARKDOWN_ENVIRONMENT.get_template(name).render(**values)


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    return ENVIRONMENT.from_string(source)


def fragment(source: str, /, **values) -> Markup:
    """A template written in a module's source (see the module docstring)."""
    return Markup(_compiled(source).render(**values))


__all__ = ["Markup", "fragment", "markdown", "markdown_text", "render"]
