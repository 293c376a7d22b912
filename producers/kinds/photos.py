"""photo-series: web images, captioned share images, a gallery page, a zip and a contact sheet.

One job per photo (web sizes, thumbnail, captioned share image) so a series renders in parallel and
a changed caption re-renders one photo; one series job (zip of the captioned images, contact sheet,
share card) made from the photo jobs' outputs: it stores their share images as they are and draws
the sheet from their thumbnails.

One photo that cannot be read (damaged, truncated, not an image, too many pixels) is left out of
the series with a warning that names it, and the rest is published, as sigal does. Its job still
succeeds: it records why in ``photo-NN.json`` and writes empty stand-ins for the files ``plan``
declares, which neither the page nor the series job publishes. A series with no readable photo is
left out whole.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from PIL import Image, ImageDraw
from pydantic import Field, field_validator

from producers.media import images
from producers.errors import ProducerError
from producers.web.i18n import Labels
from producers.web.templates import fragment
from producers.web.pictures import picture_html
from producers.jobs.pipeline import Job, JobResult
from producers.kinds.base import Kind, ProductContext, ProductPage
from producers.content.model import Line, MediaPath, ProductBase, Strict, cap_message, text
from producers.content.scaffold import Scaffold
from producers.media.text import TextStyle, draw_text, fit_text
from producers.kinds.sharing import block_height, credit_text, draw_share_card, without_emoji

SHARE_WIDTH = 1080
SHARE_MAX_PHOTO_HEIGHT = 1350        # 4:5, the tallest shape feeds and chat previews show whole
SHARE_MAX_BYTES = 300_000            # chat apps re-compress anything bigger, and phones on slow links wait
BAND_PADDING = 44
BAND_COLOUR = "#141414"
CAPTION_STYLE = TextStyle(size=40, min_size=30, colour="#ffffff", line_spacing=1.3)
CREDIT_STYLE = TextStyle(size=28, min_size=24, colour="#e0e0e0")
FOOTER_STYLE = TextStyle(size=26, min_size=22, colour="#bdbdbd", bold=True)
CAPTION_MAX_LINES = 8              # a 500-character caption fits at the smallest size
SHEET_COLUMNS = 4
SHEET_CELL = (300, 225)
SHEET_GAP = 16
ZIP_NAME = "photos.zip"
SHEET_NAME = "contact-sheet.jpg"
CARD_NAME = "card.png"
MAX_PHOTOS = 60                    # photos per photo series


class Photo(Strict):
    file: MediaPath
    caption: text(min_length=1, max_length=500)
    alt: text(min_length=1, max_length=250)
    credit: Line | None = None
    copyright: Line | None = None


class PhotoSeriesProduct(ProductBase):
    type: Literal["photo-series"]
    photos: Annotated[list[Photo], Field(min_length=1)]

    @field_validator("photos")
    @classmethod
    def _photo_cap(cls, photos: list[Photo]) -> list[Photo]:
        if len(photos) > MAX_PHOTOS:
            raise ValueError(cap_message("the series has", len(photos), MAX_PHOTOS, "photos",
                                         "per series: split it into two photo series (a second product, like "
                                         "02-photo-series.md, or a session of its own)"))
        return photos


def photo_stem(number: int) -> str:
    return f"photo-{number:02d}"


def photo_label(display: str, number: int, total: int, file: str) -> str:
    return f"{display}: photo {number} of {total} ({file})"


# --- drawing ------------------------------------------------------------------------------------

def draw_share_image(photo: Image.Image, caption: str, credit_line: str, footer: str,
                     accent: str) -> tuple[Image.Image, bool]:
    """The photo 1080 px wide over a dark band holding the caption, credit and cell/date.

    Returns the image and whether the caption had to be cut.
    """
    scaled = images.fit_box(photo, SHARE_WIDTH, SHARE_MAX_PHOTO_HEIGHT)
    text_width = SHARE_WIDTH - 2 * BAND_PADDING
    caption = without_emoji(caption)
    caption_fit = fit_text(caption, text_width, 10_000, CAPTION_STYLE, max_lines=CAPTION_MAX_LINES)
    caption_height = block_height(caption_fit, CAPTION_STYLE)
    credit_height = round(CREDIT_STYLE.size * 1.5) if credit_line else 0
    footer_height = round(FOOTER_STYLE.size * 1.5)
    band = BAND_PADDING + caption_height + 16 + credit_height + footer_height + BAND_PADDING
    canvas = Image.new("RGB", (SHARE_WIDTH, scaled.height + band), BAND_COLOUR)
    canvas.paste(scaled, ((SHARE_WIDTH - scaled.width) // 2, 0))
    ImageDraw.Draw(canvas).rectangle((0, scaled.height, SHARE_WIDTH, scaled.height + 5), fill=accent)
    top = scaled.height + BAND_PADDING
    left, right = BAND_PADDING, SHARE_WIDTH - BAND_PADDING
    # The caption was measured above; drawing at exactly that size keeps the band tight.
    fixed = TextStyle(size=caption_fit.size, min_size=caption_fit.size, colour=CAPTION_STYLE.colour,
                      line_spacing=CAPTION_STYLE.line_spacing)
    drawn = draw_text(canvas, (left, top, right, top + caption_height), caption, fixed,
                      max_lines=CAPTION_MAX_LINES)
    top += caption_height + 16
    if credit_line:
        draw_text(canvas, (left, top, right, top + credit_height), credit_line, CREDIT_STYLE, max_lines=1)
        top += credit_height
    draw_text(canvas, (left, top, right, top + footer_height), footer, FOOTER_STYLE, max_lines=1)
    return canvas, caption_fit.truncated or drawn.truncated


def draw_contact_sheet(thumbs: list[tuple[int, Image.Image]], title: str, footer: str) -> Image.Image:
    """All photos of the series on one image, numbered as on the page."""
    columns = min(SHEET_COLUMNS, max(1, len(thumbs)))
    rows = (len(thumbs) + columns - 1) // columns
    cell_w, cell_h = SHEET_CELL
    header = 110
    width = columns * cell_w + (columns + 1) * SHEET_GAP
    height = header + rows * (cell_h + SHEET_GAP) + SHEET_GAP
    sheet = Image.new("RGB", (width, height), "#ffffff")
    draw_text(sheet, (SHEET_GAP, 14, width - SHEET_GAP, 66), title,
              TextStyle(size=36, min_size=22, bold=True, colour="#111111"), max_lines=1)
    draw_text(sheet, (SHEET_GAP, 68, width - SHEET_GAP, 100), footer,
              TextStyle(size=24, min_size=18, colour="#555555"), max_lines=1)
    draw = ImageDraw.Draw(sheet)
    for position, (number, thumb) in enumerate(thumbs):
        row, column = divmod(position, columns)
        x = SHEET_GAP + column * (cell_w + SHEET_GAP)
        y = header + row * (cell_h + SHEET_GAP)
        draw.rectangle((x, y, x + cell_w - 1, y + cell_h - 1), fill="#eeeeee")
        fitted = images.fit_box(thumb, cell_w, cell_h)
        sheet.paste(fitted, (x + (cell_w - fitted.width) // 2, y + (cell_h - fitted.height) // 2))
        draw.rectangle((x, y, x + 52, y + 40), fill="#111111")
        draw_text(sheet, (x + 4, y + 2, x + 50, y + 38), str(number),
                  TextStyle(size=26, min_size=16, bold=True, colour="#ffffff", align="center"), valign="middle")
    return sheet


# --- job actions (module level: they run in worker processes) ---------------------------------

def _credit_line(photo: Mapping[str, Any], credit_label: str) -> str:
    return credit_text(credit_label, photo["credit"]) if photo.get("credit") else ""


def _left_out(out_dir: Path, stem: str, message: str) -> list[str]:
    """Record an unreadable photo as this job's outcome; cached like any other: same bytes, same outcome."""
    for name in images.web_names(stem) + [f"{stem}-share.jpg"]:
        (out_dir / name).write_bytes(b"")
    (out_dir / f"{stem}.json").write_text(json.dumps({"left_out": message}, ensure_ascii=False))
    return [f"{message}; this photo is left out, the rest of the series is published"]


def render_photo(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    """One photo: web sizes (WebP + JPEG), captioned share image, and its measurements."""
    photo = params["photo"]
    label = photo_label(params["display"], photo["number"], params["total"], photo["file"])
    stem = photo_stem(photo["number"])
    try:
        opened = images.open_photo(files[0], label, max_edge=images.WEB_LONG_EDGE)
    except ProducerError as exc:
        return _left_out(out_dir, stem, exc.message)
    notes = list(opened.warnings)
    credit = images.Credit(photo.get("credit"), photo.get("copyright"))
    versions = images.web_versions(opened.image, out_dir, stem, credit)
    share, truncated = draw_share_image(opened.image, photo["caption"], _credit_line(photo, params["credit_label"]),
                                        params["footer"], params["accent"])
    if truncated:
        notes.append(f"{label}: the caption is too long for the captioned image and was cut; "
                     f"shorten it to keep all of it")
    share_bytes = images.save_jpeg(share, out_dir / f"{stem}-share.jpg", quality=86, credit=credit,
                                   max_bytes=SHARE_MAX_BYTES)
    meta = {"versions": versions, "share": {"name": f"{stem}-share.jpg", "width": share.width,
                                            "height": share.height, "bytes": share_bytes},
            "format": opened.format, "original_size": list(opened.original_size)}
    (out_dir / f"{stem}.json").write_text(json.dumps(meta))
    return notes


def _entry(name: str, stamp: tuple) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, stamp)
    info.external_attr = 0o644 << 16   # readable files when unzipped, not mode 000
    return info


def render_series(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path,
                  inputs: Mapping[str, Mapping[str, Path] | None]) -> list[str]:
    """The zip of captioned images (plus a captions file), the contact sheet and the share card, from
    the photo jobs' outputs (``inputs`` by photo stem; None for a photo whose job failed)."""
    notes: list[str] = []
    unreadable: list[str] = []
    card_source: Image.Image | None = None
    thumbs: list[tuple[int, Image.Image]] = []
    captions: list[str] = []
    date = dt.date.fromisoformat(params["date"])
    stamp = (date.year, date.month, date.day, 0, 0, 0)   # fixed zip times: same inputs, same bytes
    total = params["total"]
    with zipfile.ZipFile(out_dir / ZIP_NAME, "w") as archive:
        for photo in params["photos"]:
            stem = photo_stem(photo["number"])
            rendered = inputs[stem]
            label = photo_label(params["display"], photo["number"], total, photo["file"])
            reason = (f"{label}: it did not render" if rendered is None
                      else json.loads(rendered[f"{stem}.json"].read_text()).get("left_out"))
            if reason:
                # The photo's own job reports it in full; the series just goes on without it.
                unreadable.append(reason)
                continue
            # JPEG does not deflate: store it, saving CPU on the phones that unzip it.
            archive.writestr(_entry(f"{stem}.jpg", stamp), rendered[f"{stem}-share.jpg"].read_bytes(),
                             compress_type=zipfile.ZIP_STORED)
            with Image.open(rendered[f"{stem}-thumb.jpg"]) as thumb:
                thumbs.append((photo["number"], thumb.convert("RGB")))
            if card_source is None:
                with Image.open(rendered[f"{stem}.jpg"]) as large:
                    card_source = large.convert("RGB")
            line = f"{photo['number']:02d}. {photo['caption']}"
            if photo.get("credit"):
                line += f" ({_credit_line(photo, params['credit_label'])})"
            captions.append(line + f"\n    alt: {photo['alt']}")
        if not thumbs:
            raise ProducerError(f"none of the {total} photo(s) can be read, so the series is "
                                f"left out; " + "; ".join(unreadable))
        archive.writestr(_entry("captions.txt", stamp), (params["title"] + "\n" + params["footer"] + "\n\n" + "\n".join(captions) + "\n")
                         .encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    sheet = draw_contact_sheet(thumbs, params["title"], params["footer"])
    images.save_jpeg(sheet, out_dir / SHEET_NAME, quality=80)
    card = draw_share_card((1200, 630), card_source, params["title"], "", params["footer"], params["accent"])
    images.save_png(card, out_dir / CARD_NAME)
    return notes


# --- the producer -------------------------------------------------------------------------------

class PhotoSeriesProducer:
    def _common(self, ctx: ProductContext) -> dict[str, Any]:
        language = ctx.record.language
        return {
            "display": ctx.record.display,
            "title": ctx.record.product.title,
            "footer": f"{ctx.cell.name} · {ctx.date_text}",
            "date": ctx.session.session.date.isoformat(),      # read back for the zip's entry times
            "credit_label": Labels(language)("photo_credit"),
            "accent": ctx.site.theme.primary,
            "total": len(ctx.record.product.photos),
        }

    @staticmethod
    def _photo_params(number: int, photo) -> dict[str, Any]:
        return {"number": number, "file": photo.file, "caption": photo.caption, "alt": photo.alt,
                "credit": photo.credit, "copyright": photo.copyright}

    def plan(self, ctx: ProductContext) -> list[Job]:
        common = self._common(ctx)
        photos = ctx.record.product.photos
        jobs = []
        for number, photo in enumerate(photos, start=1):
            path = ctx.media(photo.file)
            stem = photo_stem(number)
            params = {**common, "photo": self._photo_params(number, photo)}
            del params["photo"]["alt"]   # alt text is page-only: changing it must not re-render pixels
            jobs.append(Job(name=ctx.job_name(stem), kind="photo-series", action=render_photo, params=params,
                            files=(path,), outputs=tuple(images.web_names(stem)) + (f"{stem}-share.jpg",
                                                                                   f"{stem}.json"),
                            timeout=300))
        series = {**common, "photos": [self._photo_params(n, p) for n, p in enumerate(photos, start=1)]}
        jobs.append(Job(name=ctx.job_name("series"), kind="photo-series", action=render_series, params=series,
                        files=(), outputs=(ZIP_NAME, SHEET_NAME, CARD_NAME),
                        timeout=120 + 5 * len(photos),
                        wants={photo_stem(number): ctx.job_name(photo_stem(number))
                               for number in range(1, len(photos) + 1)}))
        return jobs

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        product = ctx.record.product
        media: dict[str, Path] = {}
        figures = []
        left_out: list[str] = []
        total = len(product.photos)
        for number, photo in enumerate(product.photos, start=1):
            stem = photo_stem(number)
            result = results.get(ctx.job_name(stem))
            if result is None or result.status == "failed":
                raise ProducerError(f"{photo_label(ctx.record.display, number, total, photo.file)}: "
                                    f"was not rendered" + (f": {result.error}" if result else ""))
            meta = json.loads(result.outputs[f"{stem}.json"].read_text())
            if "left_out" in meta:
                left_out.append(meta["left_out"])
                continue
            for name in images.web_names(stem) + [meta["share"]["name"]]:
                media[name] = result.outputs[name]
            versions = meta["versions"]
            figures.append({"stem": stem, "number": number, "large": versions[-1], "photo": photo,
                            "share": meta["share"]["name"],
                            # The grid shows thumbnails only (a phone's one-column grid would pick the large
                            # from a srcset); the lightbox fetches the large when opened.
                            "picture": picture_html(versions[:1], photo.alt, sizes="(max-width: 600px) 92vw, 240px",
                                                        css_class="c35-gallery__thumb",
                                                        # the first is the phone's largest paint: not lazy
                                                        loading="eager" if not figures else "lazy"),
                            "credit": credit_text(labels("photo_credit"), photo.credit) if photo.credit else ""})
        if not figures:
            raise ProducerError(f"{ctx.record.display}: none of the {total} photo(s) can be read, so the series is "
                                f"left out; " + "; ".join(left_out))
        series = results.get(ctx.job_name("series"))
        size_mb = None
        if series is not None and series.status != "failed":
            media[ZIP_NAME] = series.outputs[ZIP_NAME]
            media[SHEET_NAME] = series.outputs[SHEET_NAME]
            media[CARD_NAME] = series.outputs[CARD_NAME]
            size_mb = series.outputs[ZIP_NAME].stat().st_size / 1e6
        html = fragment(PAGE, labels=labels, summary=product.summary, figures=figures, size_mb=size_mb,
                        zip=ZIP_NAME, sheet=SHEET_NAME)
        return ProductPage(html=html, media=media, card=CARD_NAME if CARD_NAME in media else None)


# The summary, the gallery (its lightbox words in data- attributes for gallery.js; each thumbnail's
# picture from images.picture_html, its alt escaped there), then the downloads.
PAGE = """\
{% if summary %}
<p class="c35-lead">{{ summary }}</p>
{% endif %}
<div class="c35-gallery" data-c35-gallery data-label-close="{{ labels("close") }}" {#- -#}
{{ " " }}data-label-previous="{{ labels("previous") }}" data-label-next="{{ labels("next") }}" {#- -#}
{{ " " }}data-label-position="{{ labels("photo_n", n="{n}", total="{total}") }}">{#- -#}
{% for figure in figures %}{#- -#}
<figure class="c35-gallery__item" id="{{ figure.stem }}">{#- -#}
<a class="c35-gallery__link" href="{{ figure.large.jpeg }}" data-webp="{{ figure.large.webp }}" {#- -#}
{{ " " }}data-width="{{ figure.large.width }}" data-height="{{ figure.large.height }}">{{ figure.picture }}</a>{#- -#}
<figcaption><span class="c35-gallery__number">{{ figure.number }}</span> {#- -#}
{{ " " }}<span class="c35-gallery__caption">{{ figure.photo.caption }}</span>{#- -#}
{% if figure.credit %} <span class="c35-gallery__credit">{{ figure.credit }}</span>{% endif %} {#- -#}
{{ " " }}<a class="c35-gallery__share" href="{{ figure.share }}" download>{{ labels("captioned_image") }}</a>{#- -#}
</figcaption></figure>{#- -#}
{% endfor %}</div>{% if size_mb is not none %}{{ "\\n" }}{#- -#}
<p class="c35-gallery__downloads"><a href="{{ zip }}" download>{{ labels("download_zip") }}</a> {#- -#}
{{ " " }}<small>({{ "%.1f" | format(size_mb) }} MB)</small> · <a href="{{ sheet }}">{{ labels("contact_sheet") }}</a></p>{#- -#}
{% endif %}"""

LABELS = {
    "en": {"kind.photo-series": "Photo series", "captioned_image": "Captioned image",
           "download_zip": "Download all captioned photos (zip)", "contact_sheet": "Contact sheet",
           "close": "Close", "photo_n": "Photo {n} of {total}"},
    "vi": {"kind.photo-series": "Phóng sự ảnh", "captioned_image": "Ảnh kèm chú thích",
           "download_zip": "Tải tất cả ảnh kèm chú thích (zip)", "contact_sheet": "Bảng ảnh thu nhỏ",
           "close": "Đóng", "photo_n": "Ảnh {n}/{total}"},
    "hi": {"kind.photo-series": "फ़ोटो शृंखला", "captioned_image": "कैप्शन वाली फ़ोटो",
           "download_zip": "कैप्शन वाली सभी फ़ोटो डाउनलोड करें (zip)", "contact_sheet": "कॉन्टैक्ट शीट",
           "close": "बंद करें", "photo_n": "फ़ोटो {n} / {total}"},
}


def _placeholder_photo() -> bytes:
    """The grey photo a new photo series names, so the scaffold passes `cell35 check` as written."""
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 200, 200)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


SCAFFOLD = Scaffold({"title": "Photo series",
                     "photos": [{"file": "media/photo-1.jpg", "caption": "What the photo shows",
                                 "alt": "A description for people who cannot see it"}]},
                    media={"photo-1.jpg": _placeholder_photo})

KIND = Kind("photo-series", model=PhotoSeriesProduct, producer=PhotoSeriesProducer(), labels=LABELS,
            scaffold=SCAFFOLD, report_colour="#ad1457")
