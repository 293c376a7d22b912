"""producers.media.images on real camera files and on every kind of bad or unusual input."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageStat

from photo_support import PHOTOS, gradient, jpeg_bytes
from media_hostile import png_claiming
from producers.media import images
from producers.errors import ProducerError

LABEL = "content/sessions/2024-q4/x/03-photos.md: photo 2 of 3 (media/p.jpg)"


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference (0-255) of two images at a small common size."""
    size = (64, 48) if a.width >= a.height else (48, 64)
    small_a, small_b = a.convert("L").resize(size), b.convert("L").resize(size)
    return sum(ImageStat.Stat(ImageChops.difference(small_a, small_b)).mean)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(orientation):
    reference = images.open_photo(PHOTOS / "landscape_1.jpg", LABEL).image
    photo = images.open_photo(PHOTOS / f"landscape_{orientation}.jpg", LABEL)
    stored = Image.open(PHOTOS / f"landscape_{orientation}.jpg")
    assert stored.getexif().get(0x0112) == orientation
    assert photo.image.size == reference.size == (600, 450)      # same shape, whatever was stored
    assert difference(photo.image, reference) < 12                # and the same picture, upright
    # the check has teeth: the stored pixels of a rotated or mirrored file differ
    if orientation != 1:
        stored_rgb = stored.convert("RGB")
        if stored_rgb.size == reference.size:
            assert difference(stored_rgb, reference) > 20


def test_heic_from_an_iphone_opens_upright_in_srgb():
    photo = images.open_photo(PHOTOS / "IMG_5195.HEIC", LABEL, max_edge=1600)
    assert photo.format == "HEIF"
    assert photo.image.mode == "RGB"
    assert max(photo.image.size) == 1600
    assert photo.image.height > photo.image.width      # the phone held upright
    assert photo.image.info == {}


def test_broken_exif_neither_hangs_nor_costs_the_pixels():
    photo = images.open_photo(PHOTOS / "image01137.jpg", LABEL)
    assert photo.image.size == (88, 64)
    assert ImageStat.Stat(photo.image).stddev[0] > 5     # real picture content, not a blank


def test_reduced_decoding_keeps_the_requested_size(tmp_path):
    path = tmp_path / "big.jpg"
    gradient(4000, 3000).save(path, quality=80)
    photo = images.open_photo(path, LABEL, max_edge=1600)
    assert photo.image.size == (1600, 1200)
    assert photo.original_size == (4000, 3000)


def test_image_bomb_is_refused_before_decoding(tmp_path):
    path = png_claiming(tmp_path, 9000, 9000)        # 81 MP: under Pillow's own cap, over ours
    with pytest.raises(ProducerError) as caught:
        images.open_photo(path, LABEL)
    assert caught.value.message.startswith(LABEL)
    assert "9000×9000" in caught.value.message and "at most 60 megapixels" in caught.value.message


def test_giant_bomb_beyond_pillows_own_limit_gets_the_same_clear_message(tmp_path):
    path = png_claiming(tmp_path, 30000, 30000)      # 900 MP: Pillow itself refuses to open it
    with pytest.raises(ProducerError) as caught:
        images.open_photo(path, LABEL)
    assert caught.value.message.startswith(LABEL)
    assert "60 megapixels" in caught.value.message


def test_truncated_jpeg_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(jpeg_bytes(gradient(800, 600), quality=90)[:6000])
    with pytest.raises(ProducerError) as caught:
        images.open_photo(path, LABEL)
    assert caught.value.message.startswith(LABEL)
    assert "truncated" in caught.value.message


def test_corrupt_data_with_a_jpeg_signature_is_a_clear_error(tmp_path):
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20)
    with pytest.raises(ProducerError) as caught:
        images.open_photo(path, LABEL)
    assert caught.value.message.startswith(LABEL) and "JPEG" in caught.value.message


@pytest.mark.parametrize("content, found", [(b"%PDF-1.7\n...", "a PDF document"),
                                           (b"Hello, this is not a photo\n", "a text file"),
                                           (b"", "an empty file"),
                                           (b"II*\x00" + bytes(40), "a TIFF image")])
def test_a_file_that_is_no_accepted_image_names_what_it_is(tmp_path, content, found):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(ProducerError) as caught:
        images.open_photo(path, LABEL)
    assert caught.value.message.startswith(LABEL)
    assert found in caught.value.message and "JPEG, PNG, WEBP, HEIF, GIF" in caught.value.message


def test_an_extension_that_lies_is_read_by_content_with_a_warning(tmp_path):
    path = tmp_path / "photo.jpg"
    gradient(300, 200).save(path, "PNG")
    photo = images.open_photo(path, LABEL)
    assert photo.format == "PNG" and photo.image.size == (300, 200)
    assert any("named .jpg but is really PNG" in w for w in photo.warnings)


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "deep.png"
    deep = Image.linear_gradient("L").resize((256, 64)).convert("I").point(lambda v: v * 257)
    deep.convert("I;16").save(path)
    assert Image.open(path).mode == "I;16"
    photo = images.open_photo(path, LABEL)
    low, high = photo.image.convert("L").getextrema()
    assert low < 5 and high > 250
    assert 100 < ImageStat.Stat(photo.image.convert("L")).mean[0] < 155   # a ramp, not a white sheet


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(path, quality=95)   # pure red in print terms
    photo = images.open_photo(path, LABEL)
    red, green, blue = photo.image.getpixel((32, 32))
    assert photo.image.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_palette_with_transparency_lands_on_white(tmp_path):
    path = tmp_path / "palette.png"
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 20, 40))
    image.info["transparency"] = 0
    image.save(path, transparency=0)
    photo = images.open_photo(path, LABEL)
    assert photo.image.getpixel((5, 5)) == (255, 0, 0)
    assert photo.image.getpixel((35, 5)) == (255, 255, 255)


def test_grey_with_alpha_lands_on_white(tmp_path):
    path = tmp_path / "la.png"
    image = Image.new("LA", (20, 20), (0, 0))
    image.paste((0, 255), (0, 0, 10, 20))
    image.save(path)
    photo = images.open_photo(path, LABEL)
    assert photo.image.getpixel((2, 2)) == (0, 0, 0) and photo.image.getpixel((15, 2)) == (255, 255, 255)


@pytest.mark.parametrize("fmt, suffix", [("GIF", ".gif"), ("WEBP", ".webp")])
def test_animated_image_gives_its_first_frame_and_a_warning(tmp_path, fmt, suffix):
    path = tmp_path / f"anim{suffix}"
    frames = [Image.new("RGB", (50, 40), colour) for colour in ("#ff0000", "#00ff00", "#0000ff")]
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    photo = images.open_photo(path, LABEL)
    red, green, blue = photo.image.getpixel((25, 20))
    assert red > 200 and green < 50 and blue < 50
    assert any("has 3 frames" in w and w.startswith(LABEL) for w in photo.warnings)


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "NIKON"              # Make
    exif[0x0110] = "COOLPIX P6000"      # Model
    exif[0x0132] = "2024:10:12 08:30:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (21.0, 1.0, 2.0)
    gps[3], gps[4] = "E", (105.0, 51.0, 3.0)
    return exif


def test_saved_files_carry_only_the_declared_credit(tmp_path):
    source = tmp_path / "in.jpg"
    gradient(200, 100).save(source, exif=_exif_with_gps(), icc_profile=b"", xmp=b"<x:xmpmeta>GPSLatitude</x:xmpmeta>")
    assert Image.open(source).getexif().get_ifd(0x8825)
    photo = images.open_photo(source, LABEL)
    credit = images.Credit("Nguyễn Văn Đức", "© 2024 Chi bộ Hạ Long")
    jpeg, webp, png = tmp_path / "o.jpg", tmp_path / "o.webp", tmp_path / "o.png"
    images.save_jpeg(photo.image, jpeg, credit=credit)
    images.save_webp(photo.image, webp, credit=credit)
    images.save_png(photo.image, png)
    for path in (jpeg, webp, png):
        data = path.read_bytes()
        assert b"GPS" not in data and b"NIKON" not in data and b"COOLPIX" not in data
        exif = Image.open(path).getexif()
        assert not exif.get_ifd(0x8825)
        assert 0x010F not in exif and 0x0110 not in exif and 0x0132 not in exif
    exif = Image.open(jpeg).getexif()
    assert exif[0x013B] == "Nguyen Van Duc"                 # EXIF text is ASCII
    assert "Nguyễn Văn Đức" in Image.open(jpeg).info["xmp"].decode("utf-8")   # XMP keeps the real name
    assert "Chi bộ Hạ Long" in Image.open(webp).info["xmp"].decode("utf-8")
    assert not Image.open(png).info.get("exif")


def test_save_jpeg_fits_a_byte_budget(tmp_path):
    noisy = Image.effect_noise((1080, 1350), 30).convert("RGB")   # far busier than any real photo
    size = images.save_jpeg(noisy, tmp_path / "n.jpg", quality=90, max_bytes=300_000)
    assert size <= 300_000 and (tmp_path / "n.jpg").stat().st_size == size


def test_16_bit_rgb_png_keeps_its_colours(tmp_path):
    width, height = 64, 16
    row = b"".join(struct.pack(">HHH", x * 65535 // (width - 1), 0, 0) for x in range(width))
    raw = b"".join(b"\x00" + row for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path = tmp_path / "deep-rgb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    photo = images.open_photo(path, LABEL)
    assert photo.image.getpixel((0, 5)) == (0, 0, 0)
    assert photo.image.getpixel((63, 5)) == (255, 0, 0)
    assert 120 < photo.image.getpixel((32, 5))[0] < 140


def test_phone_mpo_jpeg_is_one_photo_without_a_warning(tmp_path):
    path = tmp_path / "phone.jpg"
    gradient(320, 240).save(path, "MPO", save_all=True, append_images=[Image.new("RGB", (80, 60), "#808080")])
    assert Image.open(path).format == "MPO"
    photo = images.open_photo(path, LABEL)
    assert photo.image.size == (320, 240) and photo.warnings == ()


def test_display_p3_photo_is_converted_to_srgb(tmp_path):
    p3 = Image.open(PHOTOS / "IMG_5195.HEIC").info["icc_profile"]
    path = tmp_path / "p3.jpg"
    Image.new("RGB", (32, 32), (40, 170, 60)).save(path, quality=100, subsampling=0, icc_profile=p3)
    photo = images.open_photo(path, LABEL)
    red, green, blue = photo.image.getpixel((16, 16))
    # P3's green is more saturated than sRGB's: the same numbers mean a greener colour, which sRGB
    # can only express with less red and blue around more green.
    assert green > 170 and red < 20 and blue < 50
    assert "icc_profile" not in photo.image.info
