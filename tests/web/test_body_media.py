"""Images and links in Markdown bodies: checked by `check`, published through the image pipeline,
other sites' images never embedded; and a build over links, folders and pipes named like content
files publishes everything else."""

from __future__ import annotations

import io
import json
import os
import posixpath
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from producers.content.loader import body_image_stem
from producers.kinds.registry import load_content
from producers.build.site import BuildOptions, build_site
from tests.conftest import Tree, session_md

S = "content/sessions/2024-q4/ha-long-sanitation"
PHOTO = "ảnh-kênh.jpg"                      # written NFC in the body, stored NFD on disk (as macOS does)


def problems(tree) -> list[str]:
    return [str(p) for p in load_content(tree.root).problems]


def gps_jpeg(path: Path, size: tuple[int, int] = (320, 240)) -> Path:
    exif = Image.Exif()
    exif[0x010F] = "NIKON"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (20.0, 57.0, 6.5)
    gps[3], gps[4] = "E", (107.0, 4.0, 49.9)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (30, 120, 200)).save(path, "JPEG", exif=exif.tobytes())
    return path


def article(body: str) -> dict[str, str]:
    return {"01-article.md": f"---\ntype: article\ntitle: Clean canal\n---\n{body}"}


# --- check ----------------------------------------------------------------------------------------

def test_missing_inline_image(tree):
    tree.session(products=article("Intro.\n\n![The canal](media/canal.jpg)\n"))
    assert problems(tree) == [f"{S}/01-article.md:7: (body): image 'media/canal.jpg': file not found: "
                              "'media/canal.jpg' (looked in ha-long-sanitation/)"]


def test_inline_image_outside_the_session(tree):
    tree.session(products=article("![secret](../../../site.yml)\n"))
    assert problems(tree) == [f"{S}/01-article.md:5: (body): image '../../../site.yml': must stay inside the session "
                              "folder ('..' is not allowed), received: '../../../site.yml'"]


def test_link_to_a_missing_local_file_and_to_a_non_image(tree):
    folder = tree.session(products=article("See [the plan](media/plan.jpg).\n\nHear [it](media/talk.mp3).\n"))
    (folder / "media").mkdir()
    (folder / "media" / "talk.mp3").write_bytes(b"ID3")
    assert problems(tree) == [
        f"{S}/01-article.md:5: (body): link 'media/plan.jpg': file not found: 'media/plan.jpg' (looked in "
        "ha-long-sanitation/)",
        f"{S}/01-article.md:7: (body): link 'media/talk.mp3' is not an image; a body may show or link images of the "
        "session (.jpg, .jpeg, .png, .webp, .heic, .heif, .gif), or link to a web address"]


def test_other_sites_image_is_a_warning_and_script_links_an_error(tree):
    tree.session(products=article("![pixel](https://tracker.example/p.gif)\n\n[click](javascript:alert(1))\n"))
    loaded = load_content(tree.root)
    assert [(str(p), p.severity) for p in loaded.problems] == [
        (f"{S}/01-article.md:5: (body): image 'https://tracker.example/p.gif' is on another site: it is shown as a "
         "link, not embedded (other sites' images track readers); save the picture into media/ and write "
         "![what it shows](media/photo.jpg) to show it", "warning"),
        (f"{S}/01-article.md:7: (body): link 'javascript:alert(1)' is not allowed; allowed: web addresses "
         "(https://…), e-mail addresses (mailto:…), #anchors, or images of the session folder (media/photo.jpg)",
         "error")]


def test_raw_html_image_is_refused(tree):
    tree.session(products=article('Text.\n\n<img src="https://tracker.example/p.gif" alt="x">\n'))
    assert problems(tree) == [f"{S}/01-article.md:7: (body): an HTML <img> tag is not published (other sites' "
                              "images are never embedded: they track readers), received 'https://tracker.example/p.gif'"
                              "; save the picture into media/ and write ![what it shows](media/photo.jpg)"]


def test_image_address_with_a_space_is_named_not_dropped(tree):
    tree.session(products=article("Intro.\n\n- ![The canal](media/my canal.jpg)\n"))
    assert problems(tree) == [f"{S}/01-article.md:7: (body): ![The canal](media/my canal.jpg) is not read as an "
                              "image: an address with spaces must be written in <...>, like "
                              "![The canal](<media/my canal.jpg>)"]


def test_image_in_a_list_item_and_a_link_in_a_table_are_checked(tree):
    tree.session(products=article("- one\n- ![The canal](media/canal.jpg)\n\n| a | b |\n|---|---|\n"
                                  "| [plan](media/plan.jpg) | x |\n"))
    assert problems(tree) == [
        f"{S}/01-article.md:6: (body): image 'media/canal.jpg': file not found: 'media/canal.jpg' (looked in "
        "ha-long-sanitation/)",
        f"{S}/01-article.md:10: (body): link 'media/plan.jpg': file not found: 'media/plan.jpg' (looked in "
        "ha-long-sanitation/)"]


def test_image_in_a_code_block_is_text_not_an_image(tree):
    tree.session(products=article("Write an image like this:\n\n    ![what it shows](media/photo.jpg)\n\n"
                                  "```\n![what it shows](media/photo.jpg)\n```\n"))
    assert problems(tree) == []


def test_slide_image_missing_or_on_another_site_and_a_broken_slide_link(tree):
    body = ("# One\n\n![The canal](media/canal.jpg)\n\n---\n\n# Two\n\n![pixel](https://tracker.example/p.gif)\n\n"
            "---\n\n# Three\n\n- see [the plan](media/plan.jpg)\n")
    tree.session(products={"01-slides.md": f"---\ntype: slides\ntitle: Deck\n---\n{body}"})
    assert problems(tree) == [
        f"{S}/01-slides.md:7: slide 2: image 'media/canal.jpg': file not found: 'media/canal.jpg' (looked in "
        "ha-long-sanitation/)",
        f"{S}/01-slides.md:13: slide 3: image 'https://tracker.example/p.gif' is on another site; a slide shows "
        "images of the session folder only: save the picture into media/ and write ![what it shows](media/photo.jpg)",
        f"{S}/01-slides.md:19: slide 4: link 'media/plan.jpg': file not found: 'media/plan.jpg' (looked in "
        "ha-long-sanitation/)"]


def test_slide_image_named_in_nfd_on_disk_is_found(tree):
    folder = tree.session(products={"01-slides.md": f"---\ntype: slides\ntitle: Deck\n---\n# One\n\n"
                                                    f"![Kênh](media/{PHOTO})\n"})
    gps_jpeg(folder / "media" / unicodedata.normalize("NFD", PHOTO))
    assert problems(tree) == []


# --- the built page ---------------------------------------------------------------------------------

class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("body-media")
    tree = Tree(work / "content")
    folder = tree.session(products=article(
        f"The canal before the clean-up:\n\n![Kênh trước ngày làm sạch](media/{PHOTO})\n\n"
        f"See [the photo in full](media/{PHOTO}).\n\n![pixel](https://tracker.example/p.gif)\n"))
    gps_jpeg(folder / "media" / unicodedata.normalize("NFD", PHOTO), size=(2400, 1800))
    # Beside it, everything that once crashed or hung a build, or published what it should not:
    broken = tree.session("2024-q4/ha-long-broken")
    (broken / "02-notes.md").mkdir()
    pipe = tree.session("2024-q4/ha-long-pipe")
    os.mkfifo(pipe / "02-pipe.md")
    dangling = tree.session("2024-q4/ha-long-dangling")
    os.symlink(work / "nowhere.md", dangling / "02-gone.md")
    elsewhere = work / "elsewhere" / "ha-long-secret"
    elsewhere.mkdir(parents=True)
    (elsewhere / "session.md").write_text(session_md(title="Another cell's draft", date="2024-08-01"))
    (elsewhere / "01-article.md").write_text("---\ntype: article\ntitle: Secret\n---\nSECRET TEXT\n")
    os.symlink(elsewhere.parent, tree.root / "sessions" / "2024-q3")
    result = build_site(BuildOptions(content=tree.root, out=work / "site", cache_dir=work / "cache", jobs=1))
    return result


def test_build_publishes_the_good_session_and_names_each_bad_file(built):
    report = json.loads((built.report_path).read_text(encoding="utf-8"))
    by_id = {s["id"]: s for s in report["sessions"]}
    assert by_id["2024-q4/ha-long-sanitation"]["status"] == "published"
    assert by_id["2024-q4/ha-long-sanitation"]["products"][0]["status"] == "published"
    assert by_id["content/sessions/2024-q4/ha-long-broken"]["errors"] == [
        "content/sessions/2024-q4/ha-long-broken/02-notes.md: is a folder, not a file; only regular files inside the "
        "content folder are content"]
    assert by_id["content/sessions/2024-q4/ha-long-pipe"]["errors"] == [
        "content/sessions/2024-q4/ha-long-pipe/02-pipe.md: is a named pipe (FIFO), not a file; only regular files "
        "inside the content folder are content"]
    assert by_id["content/sessions/2024-q4/ha-long-dangling"]["errors"] == [
        "content/sessions/2024-q4/ha-long-dangling/02-gone.md: is a symbolic link, not a file; only regular files "
        "inside the content folder are content (put the file itself here, not a link to it)"]
    assert "content/sessions/2024-q3: is a symbolic link; links are never followed for content: put the folder " \
           "itself here (only regular files inside the content folder are content)" in \
           [f"{p['path']}: {p['message']}" for p in report["problems"]]
    site_text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in built.out.rglob("*.html"))
    assert "SECRET TEXT" not in site_text and "Another cell" not in site_text


def test_inline_image_loads_from_the_built_site_without_location_metadata(built):
    page_dir = built.out / "sessions/2024-q4/ha-long-sanitation/01-article"
    parser = _Images()
    parser.feed((page_dir / "index.html").read_text(encoding="utf-8"))
    [shown] = [img for img in parser.images if img.get("alt") == "Kênh trước ngày làm sạch"]
    assert shown["src"] == body_image_stem(f"media/{PHOTO}") + ".jpg"
    published = page_dir / posixpath.normpath(shown["src"])
    assert published.is_file()
    with Image.open(io.BytesIO(published.read_bytes())) as image:
        assert image.format == "JPEG"
        assert (image.width, image.height) == (int(shown["width"]), int(shown["height"])) == (1600, 1200)
        exif = image.getexif()
        assert not exif.get_ifd(0x8825) and 0x010F not in exif
    assert b"GPS" not in published.read_bytes() and b"NIKON" not in published.read_bytes()
    assert shown["src"] in parser.links                          # the link to the photo: the published file


def test_other_sites_image_is_a_link_not_an_image(built):
    page = built.out / "sessions/2024-q4/ha-long-sanitation/01-article/index.html"
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    assert "https://tracker.example/p.gif" in parser.links
    assert not [img for img in parser.images if "tracker.example" in img.get("src", "")]


def test_images_in_minutes_and_show_notes_are_named_not_dropped_silently(tree):
    tree.session(session=session_md().replace("The minutes.", "The minutes.\n\n![The team](media/team.jpg)"),
                 products={"01-podcast.md": "---\ntype: podcast\ntitle: P\n---\nScript.\n\n![Mic](media/mic.jpg)\n"})
    loaded = load_content(tree.root)
    assert [(str(p), p.severity) for p in loaded.problems] == [
        (f"{S}/session.md:13: (body): image 'media/team.jpg' is not shown: images appear in articles, slides and "
         "photo series, not in the minutes; the page shows its description instead", "warning"),
        (f"{S}/01-podcast.md:7: (body): image 'media/mic.jpg' is not shown: images appear in articles, slides and "
         "photo series, not in a podcast's text; the page shows its description instead", "warning")]
    assert [s.id for s in loaded.sessions] == ["2024-q4/ha-long-sanitation"]
