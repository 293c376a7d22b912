"""photo-series end to end: real camera photos in, web images, share images, zip, contact sheet,
gallery page out; nothing published carries location metadata; bad photos get clear errors."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from photo_support import PHOTOS, FOLDER, gradient, jpeg_bytes, render
from producers.kinds.photos import PhotoSeriesProducer

ASSETS = Path(__file__).resolve().parents[2] / "producers" / "build" / "assets"
STEM = "03-photo-series"


def series_md(photos: list[dict]) -> str:
    lines = ["---", "type: photo-series", "title: Làm sạch kênh Hồng Gai", "summary: Ba ảnh buổi ra quân.",
             "photos:"]
    for photo in photos:
        fields = ", ".join(f'{key}: "{value}"' for key, value in photo.items())
        lines.append(f"- {{{fields}}}")
    return "\n".join(lines + ["---", ""])


def write_series(tree, photos: list[tuple[str, bytes | Path, dict]]) -> Path:
    """photos: (media name, bytes or a file to copy, extra front-matter fields)."""
    entries = []
    for number, (name, source, extra) in enumerate(photos, start=1):
        data = source.read_bytes() if isinstance(source, Path) else source
        tree.write(f"sessions/{FOLDER}/media/{name}", data)
        entries.append({"file": f"media/{name}", "caption": f"Caption of photo {number}",
                        "alt": f"Alt text of photo {number}", **extra})
    return tree.session(products={f"{STEM}.md": series_md(entries)})


def gps_jpeg() -> bytes:
    """A camera-like JPEG carrying GPS, camera make/model, date and a comment in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "NIKON"
    exif[0x0110] = "COOLPIX P6000"
    exif[0x0132] = "2024:10:12 08:30:00"
    exif[0x0131] = "SecretEditor 1.0"
    exif[0x0112] = 6                                  # and rotated, to exercise the whole path
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (20.0, 57.0, 6.5)
    gps[3], gps[4] = "E", (107.0, 4.0, 49.9)
    gps[5], gps[6] = 0, 12.0
    return jpeg_bytes(gradient(2400, 1800), quality=90, exif=exif.tobytes())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from conftest import Tree

    work = tmp_path_factory.mktemp("series")
    tree = Tree(work / "content")
    write_series(tree, [
        ("gps.jpg", gps_jpeg(), {"credit": "Nguyễn Văn Đức", "copyright": "© 2024 Chi bộ Hạ Long"}),
        ("camera.jpg", PHOTOS / "DSCN0010.jpg", {"caption": "सफ़ाई अभियान के बाद नहर का किनारा — bờ kênh sạch"}),
        ("phone.heic", PHOTOS / "IMG_5195.HEIC", {}),
        ("turned.jpg", PHOTOS / "landscape_8.jpg", {}),
    ])
    return render(PhotoSeriesProducer(), tree.root, STEM, work / "cache")


def published_images(rendered) -> dict[str, bytes]:
    """Every published image, including each image inside the zip."""
    files = {name: path.read_bytes() for name, path in rendered.page.media.items() if not name.endswith(".zip")}
    with zipfile.ZipFile(rendered.page.media["photos.zip"]) as archive:
        for name in archive.namelist():
            if name.endswith(".jpg"):
                files[f"photos.zip/{name}"] = archive.read(name)
    return files


def test_every_job_renders_and_the_page_lists_every_photo(rendered):
    assert not rendered.failed, [r.error for r in rendered.failed]
    assert rendered.page is not None, rendered.page_error
    html = rendered.page.html
    for number in range(1, 5):
        assert f'alt="Alt text of photo {number}"' in html
        assert f"photo-{number:02d}-share.jpg" in html
    # The grid holds thumbnails only (a phone's one-column grid picked the large from a srcset);
    # the large is the lightbox's link.
    assert 'srcset="photo-01-thumb.jpg 360w"' in html and 'href="photo-01.jpg"' in html
    assert 'type="image/webp"' in html
    assert "Photo: Nguyễn Văn Đức" in html
    assert 'href="photos.zip"' in html and 'href="contact-sheet.jpg"' in html
    assert rendered.page.card == "card.png"


def test_web_images_are_at_most_1600_px_and_upright(rendered):
    media = rendered.page.media
    gps_web = Image.open(media["photo-01.jpg"])
    assert gps_web.size == (1200, 1600)               # 2400×1800 stored with orientation 6: portrait
    assert Image.open(media["photo-01.webp"]).size == (1200, 1600)
    assert Image.open(media["photo-01-thumb.webp"]).size == (360, 480)
    heic = Image.open(media["photo-03.jpg"])
    assert max(heic.size) == 1600 and heic.height > heic.width
    assert Image.open(media["photo-04.jpg"]).size == (600, 450)   # small photos are never enlarged


def test_share_images_are_1080_wide_under_300_kb_with_a_caption_band(rendered):
    for number in range(1, 5):
        path = rendered.page.media[f"photo-{number:02d}-share.jpg"]
        image = Image.open(path)
        assert image.width == 1080
        assert path.stat().st_size < 300_000
        band = image.crop((0, image.height - 60, 1080, image.height)).convert("L")
        assert ImageStat.Stat(band).mean[0] < 80            # the dark caption band at the bottom
        text_row = image.crop((40, image.height - 170, 1040, image.height - 40)).convert("L")
        assert text_row.getextrema()[1] > 200                # with light text drawn in it


def test_no_published_file_carries_gps_or_camera_metadata(rendered):
    files = published_images(rendered)
    assert len(files) >= 4 * 5 + 2 + 4
    for name, data in files.items():
        assert b"GPS" not in data, name
        for secret in (b"NIKON", b"COOLPIX", b"SecretEditor", b"2024:10:12 08:30:00"):
            assert secret not in data, (name, secret)
        image = Image.open(io.BytesIO(data))
        exif = image.getexif()
        assert not exif.get_ifd(0x8825), name
        assert set(exif) <= {0x013B, 0x8298}, (name, dict(exif))   # at most Artist and Copyright
        assert "icc_profile" not in image.info, name


def test_the_declared_credit_travels_with_the_photo(rendered):
    exif = Image.open(rendered.page.media["photo-01.jpg"]).getexif()
    assert exif[0x013B] == "Nguyen Van Duc"
    assert exif[0x8298] == "(c) 2024 Chi bo Ha Long"
    assert "Nguyễn Văn Đức" in Image.open(rendered.page.media["photo-01.webp"]).info["xmp"].decode()


def test_zip_holds_the_captioned_series_and_the_captions(rendered):
    with zipfile.ZipFile(rendered.page.media["photos.zip"]) as archive:
        names = archive.namelist()
        assert names == ["photo-01.jpg", "photo-02.jpg", "photo-03.jpg", "photo-04.jpg", "captions.txt"]
        captions = archive.read("captions.txt").decode("utf-8")
        assert "01. Caption of photo 1 (Photo: Nguyễn Văn Đức)" in captions
        assert "सफ़ाई अभियान के बाद नहर का किनारा" in captions
        assert "alt: Alt text of photo 3" in captions
        zipped = archive.read("photo-02.jpg")
    assert zipped == rendered.page.media["photo-02-share.jpg"].read_bytes()   # same image as on the page
    # made from the photo jobs' outputs, not from the originals again
    [series] = [job for job in PhotoSeriesProducer().plan(rendered.ctx) if job.name.endswith(":series")]
    assert series.files == () and series.wants == {f"photo-0{n}": rendered.ctx.job_name(f"photo-0{n}")
                                                   for n in range(1, 5)}


def test_contact_sheet_shows_the_whole_series(rendered):
    sheet = Image.open(rendered.page.media["contact-sheet.jpg"])
    assert sheet.width == 4 * 300 + 5 * 16
    assert sheet.height > 110 + 225


def test_a_second_build_is_all_cache_hits(rendered):
    from producers.jobs.pipeline import Cache, run_jobs

    jobs = PhotoSeriesProducer().plan(rendered.ctx)
    cache_root = next(iter(rendered.results.values())).outputs
    entry = next(iter(cache_root.values()))
    again = run_jobs(jobs, Cache(entry.parents[3]))
    assert {r.status for r in again.values()} == {"cached"}


@pytest.mark.parametrize("bad, expected", [
    (b"\xff\xd8\xff\xe0" + b"this is text, not a photo\n" * 20, "looks like JPEG but cannot be read"),
    (jpeg_bytes(gradient(800, 600), quality=90)[:5000], "truncated"),
])
def test_a_bad_photo_is_left_out_with_a_warning_naming_it(tree, tmp_path, bad, expected):
    write_series(tree, [("good.jpg", PHOTOS / "landscape_1.jpg", {}), ("bad.jpg", bad, {})])
    result = render(PhotoSeriesProducer(), tree.root, STEM, tmp_path / "cache")
    assert not result.failed, [r.error for r in result.failed]
    assert result.page is not None, result.page_error
    [warning] = [w for w in result.warnings if "bad.jpg" in w]
    assert warning.startswith(f"content/sessions/{FOLDER}/{STEM}.md: photo 2 of 2 (media/bad.jpg): ")
    assert expected in warning and warning.endswith("this photo is left out, the rest of the series is published")
    assert 'alt="Alt text of photo 1"' in result.page.html and "photo-01-share.jpg" in result.page.html
    assert "photo-02" not in result.page.html and "Alt text of photo 2" not in result.page.html
    assert not [name for name in result.page.media if name.startswith("photo-02")]
    with zipfile.ZipFile(result.page.media["photos.zip"]) as archive:
        assert archive.namelist() == ["photo-01.jpg", "captions.txt"]
    # The outcome is cached like a render: the next build warns again without reading the photo.
    again = render(PhotoSeriesProducer(), tree.root, STEM, tmp_path / "cache")
    assert {r.status for r in again.results.values()} == {"cached"} and warning in again.warnings


def test_an_image_bomb_is_left_out_with_its_size(tree, tmp_path):
    from media_hostile import png_claiming

    bomb = png_claiming(tmp_path, 10000, 8000).read_bytes()
    write_series(tree, [("good.jpg", PHOTOS / "landscape_1.jpg", {}), ("huge.png", bomb, {})])
    result = render(PhotoSeriesProducer(), tree.root, STEM, tmp_path / "cache")
    assert not result.failed and result.page is not None
    [warning] = [w for w in result.warnings if "huge.png" in w]
    assert "photo 2 of 2 (media/huge.png)" in warning and "10000×8000" in warning
    assert "80 megapixels" in warning and "at most 60" in warning


def test_a_series_with_no_readable_photo_is_left_out_naming_each(tree, tmp_path):
    # damaged JPEGs: they pass check (JPEG bytes) and fail when decoded
    write_series(tree, [("a.jpg", (PHOTOS / "landscape_3.jpg").read_bytes()[:3000], {}),
                        ("b.jpg", (PHOTOS / "landscape_2.jpg").read_bytes()[:9000], {})])
    result = render(PhotoSeriesProducer(), tree.root, STEM, tmp_path / "cache")
    [series] = result.failed
    assert series.name.endswith(":series")
    assert "none of the 2 photo(s) can be read, so the series is left out" in series.error
    assert "(media/a.jpg)" in series.error and "(media/b.jpg)" in series.error


def test_one_truncated_photo_in_a_real_build_leaves_out_that_photo_only(tmp_path):
    """Through build_site: the series is published without the damaged photo; the build report names
    it; a series whose only photo is damaged is left out with an error that names it."""
    from conftest import Tree
    from producers.build.site import BuildOptions, build_site

    tree = Tree(tmp_path / "content")
    truncated = (PHOTOS / "landscape_2.jpg").read_bytes()
    truncated = truncated[:len(truncated) // 2]
    write_series(tree, [("one.jpg", PHOTOS / "landscape_1.jpg", {}), ("broken.jpg", truncated, {}),
                        ("three.jpg", PHOTOS / "landscape_3.jpg", {})])
    lonely = tree.session("2024-q4/ha-long-lonely", products={f"{STEM}.md": series_md([
        {"file": "media/broken.jpg", "caption": "Only photo", "alt": "Only alt"}])})
    (lonely / "media").mkdir()
    (lonely / "media" / "broken.jpg").write_bytes(truncated)
    result = build_site(BuildOptions(content=tree.root, out=tmp_path / "out" / "site", cache_dir=tmp_path / "cache", jobs=1))
    products = {p["url"]: p for s in result.report["sessions"] for p in s["products"]}
    good = products[f"sessions/{FOLDER}/{STEM}/"]
    assert good["status"] == "published" and not good["errors"]
    [warning] = [w for w in good["warnings"] if "broken.jpg" in w]
    assert "photo 2 of 3 (media/broken.jpg): is damaged and cannot be decoded" in warning
    assert "this photo is left out" in warning
    page = (result.out / "sessions" / FOLDER / STEM / "index.html").read_text(encoding="utf-8")
    assert "Alt text of photo 1" in page and "Alt text of photo 3" in page and "Alt text of photo 2" not in page
    published = {p.name for p in (result.out / "sessions" / FOLDER / STEM).iterdir()}
    assert {"photo-01.jpg", "photo-03.jpg", "photos.zip"} <= published
    assert not [name for name in published if name.startswith("photo-02")]
    alone = products[f"sessions/2024-q4/ha-long-lonely/{STEM}/"]
    assert alone["status"] == "left out"
    assert any("none of the 1 photo(s) can be read" in e and "(media/broken.jpg)" in e for e in alone["errors"])
    assert not (result.out / "sessions" / "2024-q4" / "ha-long-lonely" / STEM).exists()


def test_lying_extension_and_animation_are_published_with_warnings(tree, tmp_path):
    png = io.BytesIO()
    gradient(320, 240).save(png, "PNG")
    gif = io.BytesIO()
    frames = [Image.new("RGB", (64, 48), c) for c in ("#c00000", "#00c000")]
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=200)
    write_series(tree, [("really-png.jpg", png.getvalue(), {}), ("moving.gif", gif.getvalue(), {})])
    result = render(PhotoSeriesProducer(), tree.root, STEM, tmp_path / "cache")
    assert not result.failed and result.page is not None
    joined = "\n".join(result.warnings)
    assert "photo 1 of 2 (media/really-png.jpg): the file is named .jpg but is really PNG" in joined
    assert "photo 2 of 2 (media/moving.gif): has 2 frames" in joined


@pytest.mark.browser
def test_gallery_lightbox_in_chromium_shows_alt_texts_and_follows_the_keys(rendered, tmp_path, page):
    site = tmp_path / "site"
    site.mkdir()
    for name, path in rendered.page.media.items():
        shutil.copyfile(path, site / name)
    for asset in ("gallery.css", "gallery.js"):
        shutil.copyfile(ASSETS / asset, site / asset)
    (site / "index.html").write_text(
        '<!doctype html><html lang="vi"><head><meta charset="utf-8"><link rel="stylesheet" href="gallery.css">'
        f'</head><body><h1>Series</h1>{rendered.page.html}<script src="gallery.js"></script></body></html>',
        encoding="utf-8")
    page.goto((site / "index.html").as_uri())
    thumbs = page.locator(".c35-gallery img")
    assert thumbs.count() == 4
    assert [thumbs.nth(i).get_attribute("alt") for i in range(4)] == [f"Alt text of photo {n}" for n in range(1, 5)]
    page.wait_for_function("Array.from(document.querySelectorAll('.c35-gallery img')).every(i => i.complete "
                           "&& i.naturalWidth > 0)")
    page.locator(".c35-gallery__link").nth(1).click()
    dialog = page.locator("dialog.c35-lightbox")
    assert dialog.is_visible()
    big = dialog.locator("img.c35-lightbox__image")
    assert big.get_attribute("alt") == "Alt text of photo 2"
    assert "सफ़ाई अभियान" in dialog.locator(".c35-lightbox__text").inner_text()
    page.wait_for_function("document.querySelector('img.c35-lightbox__image').naturalWidth > 0")
    assert page.evaluate("document.querySelector('img.c35-lightbox__image').currentSrc").endswith("photo-02.webp")
    page.keyboard.press("ArrowRight")
    assert big.get_attribute("alt") == "Alt text of photo 3"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert big.get_attribute("alt") == "Alt text of photo 1"
    assert "Photo: Nguyễn Văn Đức" in dialog.locator(".c35-lightbox__credit").inner_text()
    page.keyboard.press("ArrowLeft")                      # wraps round to the last photo
    assert big.get_attribute("alt") == "Alt text of photo 4"
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    focused = page.evaluate("document.activeElement.className")
    assert "c35-gallery__link" in focused                 # focus returns to the photo that opened it


def test_article_page_with_a_cover_photo_stripped_of_location(tree, tmp_path):
    from producers.kinds.article import ArticleProducer

    tree.write(f"sessions/{FOLDER}/media/cover.jpg", gps_jpeg())
    tree.session(products={"01-article.md": (
        "---\ntype: article\ntitle: Kênh sạch\nsummary: Cả phường ra quân.\n"
        "cover: {file: media/cover.jpg, alt: 'Bờ kênh <sau> buổi dọn', credit: 'Lê Văn C'}\n---\n"
        "Nội dung **chính**.\n\n<script>alert(1)</script>\n")})
    result = render(ArticleProducer(), tree.root, "01-article", tmp_path / "cache")
    assert not result.failed and result.page is not None, result.page_error
    html = result.page.html
    assert html.startswith('<p class="c35-lead">Cả phường ra quân.</p>')
    assert 'alt="Bờ kênh &lt;sau&gt; buổi dọn"' in html and "Photo: Lê Văn C" in html
    assert 'srcset="cover-small.jpg 600w, cover.jpg 1200w"' in html
    assert "<strong>chính</strong>" in html and "<script" not in html
    assert result.page.card == "card.png"
    assert Image.open(result.page.media["card.png"]).size == (1200, 630)
    assert Image.open(result.page.media["cover.jpg"]).size == (1200, 1600)
    for name, path in result.page.media.items():
        data = path.read_bytes()
        assert b"GPS" not in data and b"NIKON" not in data, name


def test_article_without_cover_is_its_text_and_a_card(tree, tmp_path):
    from producers.kinds.article import ArticleProducer

    tree.session(products={"01-article.md": "---\ntype: article\ntitle: वार्ड की सफ़ाई\n---\nपहला अनुच्छेद।\n"})
    result = render(ArticleProducer(), tree.root, "01-article", tmp_path / "cache")
    assert not result.failed and result.page is not None, result.page_error
    assert result.page.html == "<p>पहला अनुच्छेद।</p>"
    assert set(result.page.media) == {"card.png"} and result.page.card == "card.png"
