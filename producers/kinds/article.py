"""article: the summary, the sanitised body and an optional cover photo, with a share card.

The cover is published like a gallery photo (metadata stripped, WebP + JPEG, ``srcset``); the
share card comes from the shared cards module (title over cell and date).

Images in the body (``![what it shows](media/photo.jpg)``) go through the same pipeline, one job
per file, and the page shows the published JPEG; a link to a session image links to it too. Images
from other sites are not embedded (html.py); ``cell35 check`` reports all of these first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Mapping

from PIL import Image

from producers.media import images
from producers.errors import ProducerError
from producers.content.markdown import body_references, local_path, url_kind
from producers.web.html import markdown_to_html
from producers.web.i18n import Labels
from producers.web.templates import Markup, fragment
from producers.web.pictures import picture_html
from producers.content.loader import IMAGE_SUFFIXES, body_image_stem
from producers.jobs.pipeline import Job, JobResult
from producers.kinds.base import Kind, ProductContext, ProductPage
from producers.content.model import Image as ImageField, ProductBase
from producers.content.scaffold import Scaffold
from producers.kinds.sharing import credit_text

try:  # the share card module belongs to the slides work; the article page stands without it
    from producers.kinds import cards
except ImportError:  # pragma: no cover
    cards = None

COVER_STEM = "cover"
COVER_SIZES = (("-small", 800), ("", images.WEB_LONG_EDGE))
BODY_SIZES = (("", images.WEB_LONG_EDGE),)


class ArticleProduct(ProductBase):
    type: Literal["article"]
    cover: ImageField | None = None

    BODY_IMAGES: ClassVar[str | None] = "published"

    def needs_body(self) -> bool:
        return True


def render_cover(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    label = f"{params['display']}: cover ({params['file']})"
    opened = images.open_photo(files[0], label, max_edge=images.WEB_LONG_EDGE)
    images.web_versions(opened.image, out_dir, COVER_STEM, images.Credit(params.get("credit")), sizes=COVER_SIZES)
    return list(opened.warnings)


def render_body_image(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    label = f"{params['display']}: image ({params['file']})"
    opened = images.open_photo(files[0], label, max_edge=images.WEB_LONG_EDGE)
    images.web_versions(opened.image, out_dir, params["stem"], sizes=BODY_SIZES)
    return list(opened.warnings)


def body_images(body: str) -> dict[str, str]:
    """Address as written -> session file, for every local image shown or linked in the body."""
    found = {}
    for ref in body_references(body):
        if ref.kind in ("image", "link") and url_kind(ref.url) == "local":
            path = local_path(ref.url)
            if path.lower().endswith(IMAGE_SUFFIXES):
                found[ref.url] = path
    return found


class ArticleProducer:
    def plan(self, ctx: ProductContext) -> list[Job]:
        product = ctx.record.product
        jobs = []
        if product.cover:
            jobs.append(Job(name=ctx.job_name("cover"), kind="article", action=render_cover,
                            params={"display": ctx.record.display, "file": product.cover.file,
                                    "credit": product.cover.credit},
                            files=(ctx.media(product.cover.file),),
                            outputs=tuple(images.web_names(COVER_STEM, COVER_SIZES)), timeout=120))
        for path in sorted(set(body_images(ctx.record.body).values())):
            stem = body_image_stem(path)
            jobs.append(Job(name=ctx.job_name(stem), kind="article", action=render_body_image,
                            params={"display": ctx.record.display, "file": path, "stem": stem},
                            files=(ctx.media(path),), outputs=tuple(images.web_names(stem, BODY_SIZES)),
                            timeout=120))
        if cards is not None:
            jobs.append(cards.card_job(ctx))
        return jobs

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        product = ctx.record.product
        media: dict[str, Path] = {}
        picture = None
        cover = results.get(ctx.job_name("cover"))
        if product.cover and cover is not None and cover.status != "failed":
            media.update(cover.outputs)
            versions = []
            for suffix, _ in COVER_SIZES:
                jpeg = cover.outputs[f"{COVER_STEM}{suffix}.jpg"]
                with Image.open(jpeg, formats=["JPEG"]) as opened:   # the header only: real pixel sizes for srcset
                    width, height = opened.size
                versions.append({"webp": f"{COVER_STEM}{suffix}.webp", "jpeg": f"{COVER_STEM}{suffix}.jpg",
                                 "width": width, "height": height})
            picture = picture_html(versions, product.cover.alt, sizes="(max-width: 900px) 100vw, 900px",
                                   css_class="c35-article__cover", loading="eager")
        shown: dict[str, dict] = {}
        for written, path in body_images(ctx.record.body).items():
            stem = body_image_stem(path)
            result = results.get(ctx.job_name(stem))
            if result is None or result.status == "failed":
                raise ProducerError(f"{ctx.record.display}: image {path!r} was not rendered"
                                    + (f": {result.error}" if result else ""))
            jpeg = f"{stem}.jpg"
            media[jpeg] = result.outputs[jpeg]
            with Image.open(result.outputs[jpeg], formats=["JPEG"]) as opened:   # the header only: width/height keep the layout still
                width, height = opened.size
            shown[written] = {"src": jpeg, "width": width, "height": height}
        credit = credit_text(labels("photo_credit"), product.cover.credit) if picture and product.cover.credit else ""
        html = fragment(PAGE, summary=product.summary, picture=picture, credit=credit,
                        body=Markup(markdown_to_html(ctx.record.body, media=shown)))
        card_name = None
        card = results.get(ctx.job_name("card"))
        if cards is not None and card is not None and card.status != "failed":
            media[cards.CARD_NAME] = card.outputs[cards.CARD_NAME]
            card_name = cards.CARD_NAME
        return ProductPage(html=html, media=media, card=card_name)


# The summary, the cover (the picture markup comes from web.pictures.picture_html, a template)
# and the sanitised body, one per line.
PAGE = """\
{% if summary %}
<p class="c35-lead">{{ summary }}</p>
{% endif %}
{% if picture %}
<figure class="c35-article__figure">{{ picture }}{% if credit %}<figcaption>{{ credit }}</figcaption>{% endif %}</figure>
{% endif %}
{{ body }}"""

LABELS = {
    "en": {"kind.article": "Article"},
    "vi": {"kind.article": "Bài viết"},
    "hi": {"kind.article": "लेख"},
}

SCAFFOLD = Scaffold({"title": "Article"}, "Write the article here.\n")

def cover_picture(ctx: ProductContext, jobs) -> tuple[str, str] | None:
    """The article's picture in listings: its cover photo (800 px is enough), else its share card."""
    if ctx.record.product.cover:
        return ctx.job_name("cover"), f"{COVER_STEM}-small.jpg"
    return next(((job.name, "card.png") for job in jobs if "card.png" in job.outputs), None)


KIND = Kind("article", model=ArticleProduct, producer=ArticleProducer(), labels=LABELS, scaffold=SCAFFOLD,
            report_colour="#6a1b9a", thumbnail=cover_picture)
