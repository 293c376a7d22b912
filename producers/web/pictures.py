"""The ``<picture>`` element for an image published at several widths (``media.images.web_versions``)."""

from __future__ import annotations

from producers.web.templates import Markup, render


def picture_html(versions: list[dict], alt: str, sizes: str, css_class: str = "", loading: str = "lazy") -> Markup:
    """A ``<picture>`` with WebP and JPEG ``srcset``; ``alt`` is plain text (the template escapes it)."""
    # A photo smaller than the web size gives two files of one width: list that width once.
    distinct = list({v["width"]: v for v in reversed(versions)}.values())[::-1]
    first = versions[0]
    return render("picture.html", webp=", ".join(f"{v['webp']} {v['width']}w" for v in distinct),
                  jpeg=", ".join(f"{v['jpeg']} {v['width']}w" for v in distinct), sizes=sizes,
                  css_class=css_class, src=first["jpeg"], alt=alt, width=first["width"], height=first["height"],
                  loading=loading)
