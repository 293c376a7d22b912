"""Safe image handling shared by every producer: open untrusted photos, publish clean web images.

Reading: the real format is sniffed from the file's first bytes (an extension can lie), the pixel
count is checked from the header *before* any pixel is decoded (image bombs), the EXIF
orientation is applied, and every mode a phone or an editor can produce (16-bit, CMYK, palette,
grey with alpha, Display P3 and other ICC profiles) becomes plain sRGB RGB. Animated files give
their first frame and a warning.

Writing: published files carry no metadata at all (no EXIF, no GPS, no XMP from the source, no
ICC profile: the web default is sRGB and the pixels were converted to it), except the credit and
copyright the product declares, which we write ourselves.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from producers.errors import ProducerError
from producers.media.probe import describe_content
from producers.media.probe import sniff_image as sniff_format

try:  # phones shoot HEIC; without pillow-heif such files get a clear "not supported" error
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - the project installs it
    HEIF_SUPPORTED = False

MAX_PIXELS = 60_000_000
"""A 60-megapixel cap: above any phone's 48 MP sensor mode, far below what exhausts a 2-core box."""

WEB_LONG_EDGE = 1600
THUMB_LONG_EDGE = 480

# Format name (as we report it) -> extensions a file of that format may carry.
FORMAT_EXTENSIONS = {
    "JPEG": (".jpg", ".jpeg"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "HEIF": (".heic", ".heif"),
    "GIF": (".gif",),
}
ACCEPTED = ", ".join(FORMAT_EXTENSIONS)

_SRGB = ImageCms.createProfile("sRGB")
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Photo:
    """A decoded, upright, sRGB RGB image and what was noticed on the way."""

    image: Image.Image
    format: str
    original_size: tuple[int, int]   # as stored, before orientation and any reduction
    warnings: tuple[str, ...]


def open_photo(path: Path, label: str, max_edge: int | None = None, max_pixels: int = MAX_PIXELS) -> Photo:
    """Open an untrusted image as upright sRGB RGB, at most ``max_edge`` px on its long edge.

    ``label`` names the product file and the item ("…/03-photos.md: photo 2 (media/a.jpg)");
    every error and warning starts with it.
    """
    notes: list[str] = []
    try:
        with open(path, "rb") as handle:
            head = handle.read(32)
    except OSError as exc:
        raise ProducerError(f"{label}: cannot be read: {exc.strerror or exc}") from None
    real = sniff_format(head)
    if real is None:
        raise ProducerError(f"{label}: is not an image we can publish: the file contains "
                            f"{describe_content(head)}; accepted formats: {ACCEPTED}")
    if real == "HEIF" and not HEIF_SUPPORTED:
        raise ProducerError(f"{label}: is a HEIC/HEIF photo, but pillow-heif is not installed; run scripts/setup")
    suffix = path.suffix.lower()
    if suffix not in FORMAT_EXTENSIONS[real]:
        notes.append(f"{label}: the file is named {suffix or '(no extension)'} but is really {real}; "
                     f"read as {real} (rename it to {FORMAT_EXTENSIONS[real][0]})")

    with warnings.catch_warnings():
        # Pillow's own bomb warning fires above 89 MP; our lower cap below decides instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path, formats=[real])
        except Image.DecompressionBombError as exc:
            raise ProducerError(f"{label}: is too large to process safely ({exc}); the limit is "
                                f"{max_pixels / 1e6:.0f} megapixels") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ProducerError(f"{label}: looks like {real} but cannot be read: {_reason(exc)}") from None

        with image:
            width, height = image.size
            # The header is all Pillow has read so far: refuse a bomb before decoding a single pixel.
            if width * height > max_pixels:
                raise ProducerError(
                    f"{label}: is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); photos may "
                    f"have at most {max_pixels / 1e6:.0f} megapixels: export it smaller")
            if width < 1 or height < 1:
                raise ProducerError(f"{label}: has no pixels ({width}×{height})")
            # An MPO is a phone JPEG with extra pictures (depth, gain map) after the photo: no warning.
            frames = getattr(image, "n_frames", 1) if getattr(image, "is_animated", False) else 1
            if frames > 1 and image.format != "MPO":
                notes.append(f"{label}: has {frames} frames (an animation or a burst); only the first is published")
            if frames > 1:
                image.seek(0)
            icc = image.info.get("icc_profile")
            if max_edge and real == "JPEG":
                # DCT scaling decodes a 12 MP JPEG at 1/2, 1/4 or 1/8 size for a fraction of the time;
                # draft never goes below the size asked for.
                scale = max_edge / max(width, height)
                if scale < 1:
                    image.draft(None, (max(1, round(width * scale)), max(1, round(height * scale))))
            try:
                image.load()
            except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
                raise ProducerError(f"{label}: is damaged and cannot be decoded ({_reason(exc)}); "
                                    f"copy the original from the phone or camera again") from None
            upright = _upright(image, label, notes)
            rgb = _to_rgb(upright, icc, label, notes, max_edge)
    return Photo(image=rgb, format=real, original_size=(width, height), warnings=tuple(notes))


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if "truncated" in text:
        return "the file ends early (truncated, perhaps an interrupted upload)"
    if "cannot identify" in text:
        return "the data is corrupt"
    return text


def _upright(image: Image.Image, label: str, notes: list[str]) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception as exc:  # broken EXIF must not cost the photo: publish it as stored
        notes.append(f"{label}: its EXIF block is damaged ({type(exc).__name__}); orientation left as stored")
        return image.copy()


def _to_rgb(image: Image.Image, icc: bytes | None, label: str, notes: list[str], max_edge: int | None) -> Image.Image:
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey: scale to 8 bits (a plain convert("L") clips everything above 255 to white).
        high = image.convert("I").getextrema()[1]
        factor = 1 / 257 if high > 255 else 1
        image = image.convert("I").point(lambda v: v * factor).convert("L")
    elif mode == "F":
        image = image.convert("L")
    elif mode == "1":
        image = image.convert("L")
    elif mode in ("P", "PA"):
        image = image.convert("RGBA" if ("transparency" in image.info or mode == "PA") else "RGB")
    elif mode == "LA":
        image = image.convert("RGBA")
    elif mode in ("RGBa", "La"):
        image = image.convert("RGBA")
    elif mode not in ("RGB", "RGBA", "L", "CMYK"):
        image = image.convert("RGB")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, _WHITE)
        background.paste(image, mask=image.getchannel("A"))
        image = background
    if max_edge:
        image = fit_within(image, max_edge)
    if icc and image.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if image.mode != "RGB" or "srgb" not in ImageCms.getProfileDescription(source).lower().replace(" ", ""):
                image = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            notes.append(f"{label}: its colour profile is unusable ({exc}); colours converted without it")
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.info = {}
    return image


def fit_within(image: Image.Image, long_edge: int) -> Image.Image:
    """Scale down (never up) so the long edge is at most ``long_edge`` px."""
    width, height = image.size
    scale = long_edge / max(width, height)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def fit_box(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale (down or up) to fit inside width×height, keeping the aspect ratio."""
    scale = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def cover_box(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale and centre-crop to fill exactly width×height (share cards)."""
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS, centering=(0.5, 0.5))


# --- writing ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Credit:
    """What the product declares about a photo: the only metadata a published file may carry."""

    creator: str | None = None
    copyright: str | None = None

    def __bool__(self) -> bool:
        return bool(self.creator or self.copyright)


def _ascii(text: str) -> str:
    """EXIF text tags are ASCII: 'Nguyễn Văn Đức' -> 'Nguyen Van Duc'; the XMP keeps the real name."""
    text = text.replace("đ", "d").replace("Đ", "D").replace("©", "(c)")
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if ord(c) < 128 and not unicodedata.combining(c)).strip()


def credit_exif(credit: Credit | None) -> bytes:
    exif = Image.Exif()
    if credit and credit.creator and _ascii(credit.creator):
        exif[0x013B] = _ascii(credit.creator)        # Artist
    if credit and credit.copyright and _ascii(credit.copyright):
        exif[0x8298] = _ascii(credit.copyright)      # Copyright
    return exif.tobytes() if len(exif) else b""


def credit_xmp(credit: Credit | None) -> bytes:
    if not credit:
        return b""
    fields = []
    if credit.creator:
        fields.append(f"<dc:creator><rdf:Seq><rdf:li>{xml_escape(credit.creator)}</rdf:li></rdf:Seq></dc:creator>")
    if credit.copyright:
        fields.append(f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{xml_escape(credit.copyright)}'
                      f"</rdf:li></rdf:Alt></dc:rights>")
    packet = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
              '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
              + "".join(fields) + "</rdf:Description></rdf:RDF></x:xmpmeta>"
              '<?xpacket end="r"?>')
    return packet.encode("utf-8")


def _clean(image: Image.Image) -> Image.Image:
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.info = {}   # encoders may fall back to info; nothing from the source may travel along
    return image


def save_jpeg(image: Image.Image, path: Path, quality: int = 82, credit: Credit | None = None,
              max_bytes: int | None = None, min_quality: int = 30) -> int:
    """Write a progressive sRGB JPEG with no metadata but the credit; under ``max_bytes`` if given.

    Returns the number of bytes written. The quality steps down until the file fits.
    """
    image = _clean(image)
    options = {"optimize": True, "progressive": True, "subsampling": "4:2:0"}
    if exif := credit_exif(credit):
        options["exif"] = exif
    if xmp := credit_xmp(credit):
        options["xmp"] = xmp
    while True:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, **options)
        data = buffer.getvalue()
        if max_bytes is None or len(data) <= max_bytes or quality <= min_quality:
            break
        quality = max(min_quality, quality - 8)   # a byte budget beats a few artefacts in chat apps
    if max_bytes is not None and len(data) > max_bytes:
        raise ProducerError(f"{path.name}: cannot be made smaller than {max_bytes:,} bytes "
                            f"(still {len(data):,} at quality {quality})")
    _write(path, data)
    return len(data)


def save_webp(image: Image.Image, path: Path, quality: int = 78, credit: Credit | None = None) -> int:
    image = _clean(image)
    options: dict = {"method": 4}
    if exif := credit_exif(credit):
        options["exif"] = exif
    if xmp := credit_xmp(credit):
        options["xmp"] = xmp
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, **options)
    _write(path, buffer.getvalue())
    return len(buffer.getvalue())


def save_png(image: Image.Image, path: Path) -> int:
    """A metadata-free PNG (share cards with text: sharp edges matter more than size).

    zlib level 6 without Pillow's ``optimize`` pass: 2.5x faster for a 4% larger card, and cards
    are most of a cold build's work (two per session)."""
    buffer = io.BytesIO()
    _clean(image).save(buffer, "PNG", compress_level=6)
    _write(path, buffer.getvalue())
    return len(buffer.getvalue())


def _write(path: Path, data: bytes) -> None:
    # Job outputs go to a private temporary folder that the pipeline renames into place, so a plain
    # write is already atomic from the cache's point of view.
    Path(path).write_bytes(data)


WEB_SIZES = (("-thumb", THUMB_LONG_EDGE), ("", WEB_LONG_EDGE))
"""(name suffix, long edge): a grid thumbnail and the web image, both in ``srcset``."""


def web_versions(image: Image.Image, out_dir: Path, stem: str, credit: Credit | None = None,
                 sizes: tuple[tuple[str, int], ...] = WEB_SIZES) -> list[dict]:
    """WebP + JPEG at each size: ``<stem><suffix>.webp`` / ``.jpg``, smallest first.

    Returns one entry per size with the real pixel width/height (for ``srcset`` and layout).
    """
    made = []
    for suffix, edge in sizes:
        resized = fit_within(image, edge)
        webp, jpeg = f"{stem}{suffix}.webp", f"{stem}{suffix}.jpg"
        save_webp(resized, out_dir / webp, credit=credit)
        save_jpeg(resized, out_dir / jpeg, credit=credit)
        made.append({"edge": edge, "width": resized.width, "height": resized.height, "webp": webp, "jpeg": jpeg})
    return made


def pixel_size(path: Path) -> tuple[int, int]:
    """Width and height of an image file (reads the header only)."""
    with Image.open(path) as image:
        return image.size


def web_names(stem: str, sizes: tuple[tuple[str, int], ...] = WEB_SIZES) -> list[str]:
    return [f"{stem}{suffix}.{ext}" for suffix, _ in sizes for ext in ("webp", "jpg")]
