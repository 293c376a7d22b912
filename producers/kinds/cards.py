"""Share cards: the 1200×630 Open Graph / Twitter image of a product or session page.

``card()`` draws one; ``card_job()`` plans it as a pipeline job writing ``card.png`` so any producer
(or the site build, for session pages) can add it with one line. Titles go through the text engine,
so Hindi and Vietnamese titles are shaped like everything else the system draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from PIL import Image, ImageColor, ImageDraw

from producers.media.images import fit_box, save_png, sniff_format
from producers.content.model import SiteConfig
from producers.jobs.pipeline import Job
from producers.media.text import TextStyle, draw_text

CARD_SIZE = (1200, 630)
CARD_NAME = "card.png"


def mix(colour: str, other: str, amount: float) -> tuple[int, int, int]:
    a, b = ImageColor.getrgb(colour)[:3], ImageColor.getrgb(other)[:3]
    return tuple(round(x + (y - x) * amount) for x, y in zip(a, b))


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


def readable_on(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in ImageColor.getrgb(background)[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#ffffff" if (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) else "#111111"


def card(title: str, subtitle: str, site_title: str, theme_primary: str, theme_accent: str,
         size: tuple[int, int] = CARD_SIZE, logo: Image.Image | None = None) -> Image.Image:
    return draw_card(title, subtitle, site_title, theme_primary, theme_accent, size, logo)[0]


def draw_card(title: str, subtitle: str, site_title: str, theme_primary: str, theme_accent: str,
              size: tuple[int, int] = CARD_SIZE, logo: Image.Image | None = None) -> tuple[Image.Image, bool]:
    """The card image and whether the title had to be cut to fit."""
    width, height = size
    scale = min(width / CARD_SIZE[0], height / CARD_SIZE[1])
    image = Image.new("RGB", size, theme_primary)
    draw = ImageDraw.Draw(image)
    # A darker lower band and an accent rule give every card the site's look without a photo.
    draw.rectangle((0, round(height * 0.80), width, height), fill=mix(theme_primary, "#000000", 0.35))
    draw.rectangle((0, round(height * 0.80) - round(10 * scale), width, round(height * 0.80)), fill=theme_accent)
    ink = readable_on(theme_primary)
    margin = round(70 * scale)
    logo_room = 0
    if logo is not None:
        mark = fit_box(logo.convert("RGBA"), round(110 * scale), round(110 * scale))
        image.paste(mark, (width - margin - mark.width, margin - round(20 * scale)), mark)
        logo_room = mark.width + round(30 * scale)
    draw_text(image, (margin, margin - round(20 * scale), width - margin - logo_room, margin + round(60 * scale)),
              site_title, TextStyle(size=round(34 * scale), min_size=round(22 * scale), bold=True,
                                    colour=hex_colour(mix(ink, theme_primary, 0.2))), max_lines=1)
    result = draw_text(image, (margin, round(140 * scale), width - margin, round(height * 0.80) - round(40 * scale)),
                       title, TextStyle(size=round(76 * scale), min_size=round(40 * scale), bold=True, colour=ink,
                                        line_spacing=1.2),
                       valign="middle", max_lines=3)
    band_ink = readable_on(hex_colour(mix(theme_primary, "#000000", 0.35)))
    draw_text(image, (margin, round(height * 0.80) + round(22 * scale), width - margin, height - round(18 * scale)),
              subtitle, TextStyle(size=round(36 * scale), min_size=round(22 * scale), colour=band_ink),
              valign="middle", max_lines=1)
    return image, result.truncated


def open_logo(path: Path, label: str) -> tuple[Image.Image | None, list[str]]:
    """The site logo with its transparency kept (photos are flattened; a logo must not get a white box).
    A broken logo costs a warning, never the page."""
    try:
        with open(path, "rb") as handle:
            real = sniff_format(handle.read(32))
        if real is None:
            return None, [f"{label}: is not an image; drawn without the logo"]
        with Image.open(path, formats=[real]) as image:
            if image.width * image.height > 25_000_000:
                return None, [f"{label}: is {image.width}×{image.height} pixels, too large for a logo; "
                              "drawn without the logo"]
            image.load()
            return image.convert("RGBA"), []
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return None, [f"{label}: cannot be read ({exc}); drawn without the logo"]


def render_card(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """Job action: writes card.png. ``files`` holds the site logo, if there is one."""
    logo, warnings = open_logo(files[0], params["logo_label"]) if files else (None, [])
    image, truncated = draw_card(params["title"], params["subtitle"], params["site_title"], params["primary"],
                            params["accent"], tuple(params["size"]), logo)
    if truncated:
        warnings.append(f"{params['label']}: the title is too long for the share card and was cut: "
                        f"{params['title'][:80]!r}")
    save_png(image, out_dir / params["name"])
    return warnings


def make_card_job(name: str, kind: str, label: str, title: str, subtitle: str, site: SiteConfig,
                  content_root: Path, output: str = CARD_NAME) -> Job:
    """A card job for anything with a title: ``label`` names the file in warnings."""
    logo = content_root / site.logo if site.logo else None
    files = (logo,) if logo is not None and logo.is_file() else ()
    params = {"title": title, "subtitle": subtitle, "site_title": site.title, "primary": site.theme.primary,
              "accent": site.theme.accent, "size": list(CARD_SIZE), "label": label, "name": output,
              "logo_label": f"site.yml: logo ({site.logo})"}
    return Job(name=name, kind=kind, action=render_card, params=params, files=files, outputs=(output,))


def card_job(ctx, title: str | None = None, subtitle: str | None = None, step: str = "card") -> Job:
    """The share card of a product page: its title over 'cell · date' by default, the date as the
    product's readers write it."""
    return make_card_job(ctx.job_name(step), "card", ctx.record.display,
                         title or ctx.record.product.title,
                         subtitle if subtitle is not None else f"{ctx.cell.name} · {ctx.date_text}",
                         ctx.site, ctx.content_root)


def session_card_job(session_record, cell_name: str, date_text: str, site: SiteConfig, content_root: Path) -> Job:
    """The share card of a session page (for the site build). ``date_text``, the session's date as its
    readers write it, comes from the caller: were this module to import ``web.i18n``, every edit of the
    labels would change the key of every card (a job's key holds the source of what its module imports)."""
    return make_card_job(f"{session_record.id}:card", "card", session_record.display, session_record.session.title,
                         f"{cell_name} · {date_text}", site, content_root)
