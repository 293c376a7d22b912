"""social-post: per-platform text within each platform's limit, share images, a copy-ready page.

The text for each platform is the post body, its hashtags and the session link, in that order;
when it is too long the body is cut at a word boundary (with an ellipsis), never the link, and a
warning names the platform. Counting follows each platform's own rule (X weighs characters and
counts every link as 23; Telegram counts UTF-16 code units).
"""

from __future__ import annotations

import functools
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Mapping

from pydantic import Field

from producers.media import images
from producers.content.markdown import post_text
from producers.web.i18n import Labels
from producers.web.templates import fragment
from producers.jobs.pipeline import Job, JobResult
from producers.kinds.base import Kind, ProductContext, ProductPage
from producers.content.model import Image as ImageField, Platform, ProductBase, text
from producers.content.scaffold import Scaffold
from producers.kinds.sharing import credit_text, draw_share_card
from producers.media.text import clusters

SQUARE_NAME = "square.jpg"
CARD_NAME = "card.png"
IMAGE_STEM = "image"
IMAGE_SIZES = (("", images.WEB_LONG_EDGE),)


class SocialPostProduct(ProductBase):
    type: Literal["social-post"]
    hashtags: Annotated[list[text(pattern=r"^#?[\w]+$", max_length=60)], Field(max_length=30)] = []
    image: ImageField | None = None
    platforms: Annotated[list[Platform], Field(min_length=1)] = ["facebook", "zalo", "x", "telegram"]

    BODY_IMAGES: ClassVar[str | None] = "not shown"

# Limits, each from the platform's own documentation:
# - X: 280 "weighted" characters, counted by twitter-text's parse_tweet (config v3): NFC first; a
#   URL, with or without its scheme ("example.com"), counts 23 (t.co); an emoji sequence (ZWJ
#   family, flag, keycap, skin tone) counts 2; other code points weigh 1 in the light ranges and 2
#   elsewhere. https://docs.x.com/resources/fundamentals/counting-characters
# - Facebook: 63,206 characters in a post (the limit Facebook has enforced since 2011).
# - Telegram: a text message is 1-4096 characters and a photo caption 0-1024 characters, both
#   "after entities parsing" (Bot API sendMessage / sendPhoto, https://core.telegram.org/bots/api);
#   Telegram measures them in UTF-16 code units.
# - Zalo: a text message is at most 2,000 characters (Zalo Official Account Open API, "Gửi tin Tư
#   vấn dạng văn bản", https://developers.zalo.me/docs/official-account/); personal timelines allow
#   more, so the lowest documented limit keeps the text usable everywhere.
PLATFORMS = {
    "facebook": {"name": "Facebook", "limit": 63_206},
    "zalo": {"name": "Zalo", "limit": 2_000},
    "x": {"name": "X", "limit": 280},
    "telegram": {"name": "Telegram", "limit": 4_096, "caption_limit": 1_024},
}
ELLIPSIS = "…"


# --- counting -----------------------------------------------------------------------------------

@functools.cache
def _parse_tweet():
    """twitter-text's parser, imported on first use: compiling its emoji and URL patterns takes 1.3 s,
    which every build and every command that imports this module would otherwise pay."""
    with warnings.catch_warnings():
        # twitter-text-parser 3.0.0 reads its emoji list through pkg_resources, which setuptools
        # deprecates (hence the setuptools<81 pin); the warning says nothing a user can act on.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        from twitter_text import parse_tweet
    return parse_tweet


def x_length(text: str) -> int:
    """X's weighted length, from the twitter-text port that passes X's own conformance cases.

    The hand-written counter this replaced found no link in a bare domain ('example.com' counted
    11, X counts 23) and weighed flags and keycaps wrongly, so posts could exceed 280.
    """
    return _parse_tweet()(text).weightedLength


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def measure(platform: str, text: str) -> int:
    if platform == "x":
        return x_length(text)
    if platform == "telegram":
        return utf16_length(text)
    return len(unicodedata.normalize("NFC", text))


def limit_for(platform: str, has_image: bool) -> int:
    spec = PLATFORMS[platform]
    return spec.get("caption_limit", spec["limit"]) if has_image else spec["limit"]


# --- composing ----------------------------------------------------------------------------------

def plain_text(markdown_body: str) -> str:
    """The post body as plain text (the one Markdown parser's tree, walked for a post), NFC."""
    return unicodedata.normalize("NFC", post_text(markdown_body))


def hashtag_line(hashtags: list[str]) -> str:
    return " ".join(tag if tag.startswith("#") else f"#{tag}" for tag in hashtags)


@dataclass(frozen=True)
class PlatformText:
    platform: str
    text: str
    length: int
    limit: int
    cut: bool
    original_length: int


def _join(body: str, tags: str, link: str) -> str:
    return "\n\n".join(part for part in (body, tags) if part) + ("\n\n" if (body or tags) else "") + link


def _cut_body(body: str, fits) -> str:
    """The longest word-boundary prefix of ``body`` (plus an ellipsis) for which ``fits`` holds."""
    if fits(body):
        return body
    pieces = clusters(body)       # never split a grapheme cluster (a Devanagari conjunct, an accent)
    low, high = 0, len(pieces)
    while low < high:             # binary search on clusters: platform counters are not additive
        middle = (low + high + 1) // 2
        if fits("".join(pieces[:middle]).rstrip() + ELLIPSIS):
            low = middle
        else:
            high = middle - 1
    prefix = "".join(pieces[:low])
    if low < len(pieces) and not pieces[low].isspace():
        boundary = max(prefix.rfind(" "), prefix.rfind("\n"))
        if boundary > len(prefix) // 2:   # back to a word boundary unless that loses half the text
            prefix = prefix[:boundary]
    prefix = prefix.rstrip()
    return prefix + ELLIPSIS if prefix else ""


def compose(platform: str, body: str, hashtags: list[str], link: str, has_image: bool) -> PlatformText:
    limit = limit_for(platform, has_image)
    tags = list(hashtags)
    full = _join(body, hashtag_line(tags), link)
    original = measure(platform, full)
    if original <= limit:
        return PlatformText(platform, full, original, limit, False, original)

    def fits(candidate_body: str) -> bool:
        return measure(platform, _join(candidate_body, hashtag_line(tags), link)) <= limit

    # The words matter more than the tags: drop tags (last first) until at least a third of the
    # limit is left for the body, or all of the body when it is shorter than that.
    pieces = clusters(body)
    minimum = body if len(pieces) <= limit // 3 else "".join(pieces[:limit // 3]).rstrip() + ELLIPSIS
    while tags and not fits(minimum):
        tags.pop()
    cut_body = _cut_body(body, fits) if body else ""
    text = _join(cut_body, hashtag_line(tags), link)
    return PlatformText(platform, text, measure(platform, text), limit, True, original)


# --- drawing ------------------------------------------------------------------------------------

def excerpt_of(text: str, limit: int = 220) -> str:
    first = text.split("\n\n", 1)[0].replace("\n", " ")
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut + ELLIPSIS


# --- job action ---------------------------------------------------------------------------------

def render_social(params: Mapping[str, Any], files: tuple[Path, ...], out_dir: Path) -> list[str]:
    notes: list[str] = []
    photo = None
    if files:
        label = f"{params['display']}: image ({params['image_file']})"
        opened = images.open_photo(files[0], label, max_edge=images.WEB_LONG_EDGE)
        notes += opened.warnings
        photo = opened.image
        images.web_versions(photo, out_dir, IMAGE_STEM, images.Credit(params.get("credit")), sizes=IMAGE_SIZES)
    square = draw_share_card((1080, 1080), photo, params["title"], params["excerpt"], params["footer"],
                             params["accent"])
    images.save_jpeg(square, out_dir / SQUARE_NAME, quality=88, max_bytes=400_000)
    wide = draw_share_card((1200, 630), photo, params["title"], params["excerpt"], params["footer"],
                           params["accent"])
    images.save_png(wide, out_dir / CARD_NAME)
    return notes


# --- the producer -------------------------------------------------------------------------------

def session_link(ctx: ProductContext) -> str:
    return ctx.site.base_url + ctx.session.url


class SocialPostProducer:
    def plan(self, ctx: ProductContext) -> list[Job]:
        product = ctx.record.product

        files: tuple[Path, ...] = ()
        params: dict[str, Any] = {
            "display": ctx.record.display,
            "title": product.title,
            "excerpt": excerpt_of(product.summary or plain_text(ctx.record.body)),
            "footer": f"{ctx.cell.name} · {ctx.date_text}",
            "accent": ctx.site.theme.primary,
        }
        if product.image:
            files = (ctx.media(product.image.file),)
            params["image_file"] = product.image.file
            params["credit"] = product.image.credit
        outputs = (SQUARE_NAME, CARD_NAME) + (tuple(images.web_names(IMAGE_STEM, IMAGE_SIZES)) if files else ())
        return [Job(name=ctx.job_name("images"), kind="social-post", action=render_social, params=params,
                    files=files, outputs=outputs, timeout=120)]

    def texts(self, ctx: ProductContext) -> list[PlatformText]:
        product = ctx.record.product
        body = plain_text(ctx.record.body)
        return [compose(platform, body, list(product.hashtags), session_link(ctx), product.image is not None)
                for platform in product.platforms]

    def page(self, ctx: ProductContext, results: Mapping[str, JobResult], labels: Labels) -> ProductPage:
        product = ctx.record.product
        result = results[ctx.job_name("images")]
        media = dict(result.outputs)
        warnings = []
        posts = []
        for item in self.texts(ctx):
            name = PLATFORMS[item.platform]["name"]
            if item.cut:
                warnings.append(f"{name}: the post is {item.original_length:,} characters by {name}'s count, over "
                                f"its limit of {item.limit:,}; the {name} text was cut to {item.length:,} "
                                f"(the session link is kept)")
            posts.append({"platform": item.platform, "name": name, "box": f"c35-post-{item.platform}",
                          "rows": min(14, max(4, item.text.count("\n") + len(item.text) // 60 + 1)),
                          "count": labels("chars_of", n=f"{item.length:,}", limit=f"{item.limit:,}"),
                          "cut": item.cut, "text": item.text})
        image = product.image if product.image and f"{IMAGE_STEM}.jpg" in media else None
        # The image's own size reserves its box before it loads: without it the page jumps (layout shift).
        image_size = images.pixel_size(media[f"{IMAGE_STEM}.jpg"]) if image else (0, 0)
        html = fragment(PAGE, labels=labels, product=product, posts=posts, image=image, image_stem=IMAGE_STEM,
                        image_size=image_size,
                        credit=credit_text(labels("photo_credit"), image.credit) if image and image.credit else "",
                        square=SQUARE_NAME, card=CARD_NAME)
        return ProductPage(html=html, media=media, warnings=tuple(warnings), card=CARD_NAME)


# The summary, the post's image, one copyable text per platform, then the share images.
PAGE = """\
{% if product.summary %}
<p class="c35-lead">{{ product.summary }}</p>
{% endif %}
{% if image %}
<figure class="c35-social__image"><picture><source type="image/webp" srcset="{{ image_stem }}.webp">{#- -#}
<img src="{{ image_stem }}.jpg" width="{{ image_size[0] }}" height="{{ image_size[1] }}" {#- -#}
{{ " " }}style="max-width:min(100%,{{ (24 * image_size[0] / image_size[1]) | round(2) }}rem)" {#- -#}
{{ " " }}alt="{{ image.alt }}" loading="lazy"></picture>{#- -#}
{% if credit %}<figcaption>{{ credit }}</figcaption>{% endif %}</figure>
{% endif %}
<div class="c35-social">{% for post in posts %}{#- -#}
<section class="c35-social__platform" data-platform="{{ post.platform }}">{#- -#}
<h2 id="{{ post.box }}-title">{{ post.name }}</h2>{#- -#}
<p class="c35-social__count">{{ post.count }}{% if post.cut %} ✂{% endif %}</p>{#- -#}
<textarea id="{{ post.box }}" class="c35-social__text" readonly rows="{{ post.rows }}" {#- -#}
{{ " " }}aria-labelledby="{{ post.box }}-title">{{ post.text }}</textarea>{#- -#}
<p><button type="button" class="md-button c35-copy" data-c35-copy="{{ post.box }}" {#- -#}
{{ " " }}data-copied="{{ labels("copied") }}">{{ labels("copy_text") }}</button></p></section>{#- -#}
{% endfor %}</div>
<h2>{{ labels("share_images") }}</h2><div class="c35-social__cards">{#- -#}
<figure><a href="{{ square }}" download><img src="{{ square }}" width="1080" height="1080" {#- -#}
{{ " " }}alt="{{ product.title }}" loading="lazy"></a><figcaption>{{ labels("square_image") }}</figcaption></figure>{#- -#}
<figure><a href="{{ card }}" download><img src="{{ card }}" width="1200" height="630" {#- -#}
{{ " " }}alt="{{ product.title }}" loading="lazy"></a><figcaption>{{ labels("wide_image") }}</figcaption></figure></div>"""

LABELS = {
    "en": {"kind.social-post": "Social post", "copy_text": "Copy text", "copied": "Copied",
           "chars_of": "{n} of {limit} characters", "share_images": "Share images",
           "square_image": "Square image (1080×1080)", "wide_image": "Wide image (1200×630)"},
    "vi": {"kind.social-post": "Bài đăng mạng xã hội", "copy_text": "Sao chép nội dung", "copied": "Đã sao chép",
           "chars_of": "{n}/{limit} ký tự", "share_images": "Ảnh để chia sẻ",
           "square_image": "Ảnh vuông (1080×1080)", "wide_image": "Ảnh ngang (1200×630)"},
    "hi": {"kind.social-post": "सोशल पोस्ट", "copy_text": "टेक्स्ट कॉपी करें", "copied": "कॉपी हो गया",
           "chars_of": "{limit} में से {n} अक्षर", "share_images": "साझा करने के लिए चित्र",
           "square_image": "वर्गाकार चित्र (1080×1080)", "wide_image": "चौड़ा चित्र (1200×630)"},
}

SCAFFOLD = Scaffold({"title": "Social post", "hashtags": ["#cell35"], "platforms": ["facebook", "zalo", "x", "telegram"]},
                    "A short post for social networks.\n")

KIND = Kind("social-post", model=SocialPostProduct, producer=SocialPostProducer(), labels=LABELS,
            scaffold=SCAFFOLD, report_colour="#00838f")
