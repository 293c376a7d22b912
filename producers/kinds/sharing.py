"""What the kinds' share images have in common: the photo-and-title share card, the credit line
and the text the Noto faces can draw (no emoji). Shared by social-post, photo-series and
article; kept apart from ``cards.py`` (the site's page cards) so that editing one re-renders only
the jobs that draw with it (a job's key holds the source of the modules its code imports).
"""

from __future__ import annotations

import re

from PIL import Image, ImageDraw

from producers.media import images
from producers.media.text import TextStyle, draw_text, fit_text


def is_emoji(char: str) -> bool:
    code = ord(char)
    return 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF


def draw_share_card(size: tuple[int, int], photo: Image.Image | None, title: str, excerpt: str, footer: str,
                    accent: str) -> Image.Image:
    """A share image: the photo full-bleed under a dark gradient (or the theme colour), the title,
    an optional excerpt and the cell/date line, all drawn with the text engine."""
    width, height = size
    if photo is not None:
        canvas = images.cover_box(photo, width, height).convert("RGB")
        shade = Image.new("L", (1, height))
        for y in range(height):
            start = height * 0.2
            shade.putpixel((0, y), 0 if y < start else min(225, int(225 * (y - start) / (height * 0.5))))
        canvas.paste(Image.new("RGB", size, "#000000"), mask=shade.resize(size))
    else:
        canvas = Image.new("RGB", size, accent)
        ImageDraw.Draw(canvas).rectangle((0, int(height * 0.82), width, height), fill="#111111")
    pad = round(width * 0.06)
    text_width = width - 2 * pad
    footer_size = max(18, round(height * 0.034))
    footer_top = height - pad - round(footer_size * 1.4)
    if photo is None:
        footer_top = int(height * 0.82) + (height - int(height * 0.82) - round(footer_size * 1.4)) // 2
    draw_text(canvas, (pad, footer_top, width - pad, footer_top + round(footer_size * 1.4)), footer,
              TextStyle(size=footer_size, min_size=14, bold=True, colour="#ffffff"), max_lines=1)
    bottom = footer_top - round(height * 0.03) if photo is not None else int(height * 0.82) - round(height * 0.045)
    excerpt = without_emoji(excerpt)
    title = without_emoji(title)
    if excerpt:
        excerpt_style = TextStyle(size=max(20, round(height * 0.042)), min_size=18, colour="#f2f2f2",
                                  line_spacing=1.3)
        fit = fit_text(excerpt, text_width, round(height * 0.22), excerpt_style, max_lines=3)
        excerpt_height = block_height(fit, excerpt_style)
        draw_text(canvas, (pad, bottom - excerpt_height, width - pad, bottom), excerpt,
                  TextStyle(size=fit.size, min_size=fit.size, colour="#f2f2f2", line_spacing=1.3),
                  valign="bottom", max_lines=3)
        bottom -= excerpt_height + round(height * 0.025)
    title_style = TextStyle(size=round(height * 0.085), min_size=round(height * 0.05), bold=True, colour="#ffffff",
                            line_spacing=1.15)
    title_top = pad if photo is None else round(height * 0.25)
    draw_text(canvas, (pad, title_top, width - pad, bottom), title, title_style, valign="bottom", max_lines=4)
    ImageDraw.Draw(canvas).rectangle((0, 0, width, max(6, height // 100)), fill=accent)
    return canvas


def block_height(fit, style: TextStyle) -> int:
    """Height that holds a fitted text block: its line boxes or its real ink, whichever is taller
    (Devanagari vowel signs reach above the ascender line), plus a little air."""
    lines = round(len(fit.lines) * fit.size * style.line_spacing)
    ink = fit.bbox[3] if fit.bbox else 0
    return max(lines, ink) + fit.size // 4


def credit_text(label: str, credit: str) -> str:
    """'Photo: Name', unless the credit already carries its own kind ('Illustration: cell35')."""
    return credit if ":" in credit else f"{label}: {credit}"


def without_emoji(text: str) -> str:
    """The Noto faces the text engine uses have no emoji: drawn, they would be empty boxes."""
    kept = [c for c in text if not (is_emoji(c) or c in "\ufe0f\u200d" or 0x1F3FB <= ord(c) <= 0x1F3FF)]
    return re.sub(r"[ \t]{2,}", " ", "".join(kept)).strip()
