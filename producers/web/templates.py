"""HTML that is not untrusted Markdown comes from Jinja2 templates, with autoescaping always on.

Two ways in, one environment:
- ``render("name.html", **values)`` renders a file of ``producers/web/templates/``;
- ``fragment(source)`` compiles a template written inside a module (a product kind keeps its page's
  markup beside its code: a new kind is one module). Compiled once per source text.

Every value is escaped by the engine unless it is ``Markup``: the only ``Markup`` a template should
receive is what ``producers.web.html`` (the sanitiser) returned, or another rendered template.
``StrictUndefined`` turns a misspelt name into an error, not an empty string in a published page.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    return ENVIRONMENT.from_string(source)


def fragment(source: str, /, **values) -> Markup:
    """A template written in a module's source (see the module docstring)."""
    return Markup(_compiled(source).render(**values))


__all__ = ["Markup", "fragment", "render"]
