"""Every validation branch of `cell35 check`, with the exact message a cell member sees."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from producers.cli import app
from producers.kinds.registry import load_content
from tests.conftest import ARTICLE_MD, session_md

S = "content/sessions/2024-q4/ha-long-sanitation"


def problems(tree) -> list[str]:
    return [str(p) for p in load_content(tree.root).problems]


def test_valid_tree_has_no_problems(tree):
    tree.session()
    loaded = load_content(tree.root)
    assert loaded.problems == []
    assert [s.id for s in loaded.sessions] == ["2024-q4/ha-long-sanitation"]


def test_missing_required_field_names_line_and_field(tree):
    tree.session(session=session_md(summary=None))
    assert problems(tree) == [f"{S}/session.md:2: summary: required field is missing"]


def test_unknown_field_suggests_the_near_miss(tree):
    tree.session(session=session_md(titel="x"))
    assert problems(tree) == [
        f"{S}/session.md:10: titel: unknown field 'titel'; allowed: (attendance, cell, date, group, history, "
        "language, status, summary, tags, title); did you mean 'title'?"]


def test_product_type_typo_suggests_video(tree):
    tree.session(products={"01-video.md": "---\ntype: vidoe\ntitle: Film\n---\n"})
    assert problems(tree) == [
        f"{S}/01-video.md:2: type: Expected one of: (slides, article, social-post, video, podcast, photo-series) "
        "but received: 'vidoe'; did you mean 'video'?"]


def test_enum_value_lists_what_is_allowed(tree):
    tree.session(session=session_md(group="biuld"))
    assert problems(tree) == [f"{S}/session.md:5: group: Expected one of: (build, fight) but received: 'biuld'; "
                              "did you mean 'build'?"]


def test_date_that_does_not_exist(tree):
    tree.session(session=session_md(date="2024-02-30"))
    found = problems(tree)
    assert f"{S}/session.md:4: date: expected a real date written YYYY-MM-DD, received: '2024-02-30'" in found


def test_wrong_type_in_nested_field(tree):
    tree.session(session=session_md(attendance="{present: many, members: 15}"))
    assert problems(tree) == [f"{S}/session.md:7: attendance.present: expected a whole number, received: 'many'"]


def test_present_cannot_exceed_members(tree):
    tree.session(session=session_md(attendance="{present: 20, members: 15}"))
    assert problems(tree) == [f"{S}/session.md:7: attendance: present (20) cannot exceed members (15)"]


def test_unknown_cell(tree):
    tree.session(session=session_md(cell="ha-lon"), folder="2024-q4/ha-lon-sanitation")
    found = problems(tree)
    assert ("content/sessions/2024-q4/ha-lon-sanitation/session.md:3: cell: Expected one of: (ha-long, varanasi) "
            "but received: 'ha-lon'; did you mean 'ha-long'? (cells are declared in cells.yml)") in found


def test_folder_must_start_with_cell(tree):
    tree.session(folder="2024-q4/sanitation")
    assert problems(tree) == ["content/sessions/2024-q4/sanitation: folder: session folder must be named "
                              "'<cell>-<topic>' in lowercase with hyphens, starting with 'ha-long-', received: "
                              "'sanitation'; did you mean 'ha-long-sanitation'?"]


def test_date_outside_the_quarter_folder(tree):
    tree.session(folder="2024-q3/ha-long-sanitation")
    assert problems(tree) == ["content/sessions/2024-q3/ha-long-sanitation/session.md:4: date: date 2024-10-12 is "
                              "in 2024-q4, but the session is filed under 2024-q3/"]


def test_bad_quarter_folder_name(tree):
    tree.session(folder="2024-Q4/ha-long-sanitation")
    assert "content/sessions/2024-Q4: folder: quarter folders are named like '2024-q4', received: '2024-Q4'" \
        in problems(tree)


def test_no_products(tree):
    tree.session(products={})
    assert problems(tree) == [f"{S}: products: a session needs 1 to 3 product files (like 01-article.md), found none"]


def test_too_many_products(tree):
    tree.session(products={f"0{i}-article{i}.md": ARTICLE_MD for i in range(1, 5)})
    assert problems(tree) == [f"{S}: products: a session has 1 to 3 products, found 4: 01-article1.md, "
                              "02-article2.md, 03-article3.md, 04-article4.md"]


def test_duplicate_product_slug(tree):
    tree.session(products={"01-article.md": ARTICLE_MD, "02-article.md": ARTICLE_MD})
    assert problems(tree) == [f"{S}/02-article.md: file name: duplicate product slug 'article': also used by "
                              "01-article.md"]


def test_badly_named_product_file(tree):
    tree.session(products={"Article.md": ARTICLE_MD})
    assert f"{S}/Article.md: file name: product files are named like '01-slides.md' (two digits, a hyphen, " \
           "lowercase words), received: 'Article.md'" in problems(tree)


def test_front_matter_that_is_not_a_mapping(tree):
    tree.session(session="---\n- a\n- b\n---\nbody\n")
    assert problems(tree) == [f"{S}/session.md:2: front matter must be a mapping of 'field: value' lines, found list"]


def test_front_matter_never_closed(tree):
    tree.session(session="---\ntitle: x\n")
    assert problems(tree) == [f"{S}/session.md:1: front matter opened with '---' is never closed by another '---' line"]


def test_file_without_front_matter(tree):
    tree.session(session="just text\n")
    assert problems(tree) == [f"{S}/session.md:1: file must start with a '---' line opening its front matter"]


def test_broken_yaml_reports_its_line(tree):
    tree.session(session="---\ntitle: x\ncell: [ha-long\ndate: 2024-10-12\n---\n")
    assert problems(tree) == [f"{S}/session.md:4: invalid YAML: did not find expected ',' or ']'"]


def test_yaml_aliases_are_refused(tree):
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\ntitle: x\n---\n"
    tree.session(session=bomb)
    assert problems(tree) == [f"{S}/session.md:2: YAML anchors and aliases (&name, *name) are not allowed; "
                              "write the value out in full"]


def test_file_that_is_not_utf8(tree):
    tree.session(session=session_md(title="Ve sinh").encode("utf-8").replace(b"Ve sinh", b"V\xea sinh"))
    assert problems(tree) == [f"{S}/session.md:2: file is not UTF-8 text (byte 0xea at offset 12); save it as UTF-8"]


def test_text_file_too_large(tree):
    tree.session(session=session_md() + "x" * 1_000_001)
    found = problems(tree)
    assert len(found) == 1 and "text files may be at most 1,000,000 bytes" in found[0]


def test_media_path_escaping_the_session(tree):
    folder = tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: ../../../site.yml, "
                                                     "alt: x}\n---\ntext\n"})
    assert folder.exists()
    assert problems(tree) == [f"{S}/01-article.md:4: cover.file: must stay inside the session folder ('..' is not "
                              "allowed), received: '../../../site.yml'"]


def test_absolute_media_path(tree):
    tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: /etc/passwd, alt: x}\n"
                                            "---\ntext\n"})
    assert problems(tree) == [f"{S}/01-article.md:4: cover.file: must be a path inside the session folder, received "
                              "an absolute path: '/etc/passwd'"]


def test_symlink_leading_out_of_the_session(tree, tmp_path):
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"x")
    folder = tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: media/c.jpg, "
                                                     "alt: x}\n---\ntext\n"})
    (folder / "media").mkdir()
    os.symlink(outside, folder / "media" / "c.jpg")
    assert problems(tree) == [f"{S}/01-article.md:4: cover.file: 'media/c.jpg' is a symbolic link; links are never "
                              "followed for content: put the file itself in the session folder"]


def test_missing_media_file(tree):
    tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: media/c.jpg, alt: x}\n"
                                            "---\ntext\n"})
    assert problems(tree) == [f"{S}/01-article.md:4: cover.file: file not found: 'media/c.jpg' (looked in "
                              "ha-long-sanitation/)"]


def test_media_type_not_accepted(tree):
    folder = tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: media/c.exe, "
                                                     "alt: x}\n---\ntext\n"})
    tree.write(f"sessions/2024-q4/ha-long-sanitation/media/c.exe", b"MZ")
    assert folder.exists()
    found = problems(tree)
    assert found == [f"{S}/01-article.md:4: cover.file: file type '.exe' is not accepted; allowed: (.flac, .gif, "
                     ".heic, .heif, .jpeg, .jpg, .m4a, .mkv, .mov, .mp3, .mp4, .ogg, .opus, .png, .srt, .vtt, .wav, .webm, "
                     ".webp)"]


def test_media_file_too_large(tree):
    tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: media/c.vtt, alt: x}\n"
                                            "---\ntext\n"})
    big = tree.root / "sessions/2024-q4/ha-long-sanitation/media/c.vtt"
    big.parent.mkdir(parents=True, exist_ok=True)
    with open(big, "wb") as handle:
        handle.truncate(2_000_001)
    assert problems(tree) == [f"{S}/01-article.md:4: cover.file: 'media/c.vtt' is 2,000,001 bytes; .vtt files may "
                              "be at most 2,000,000 bytes"]


def test_empty_article_body(tree):
    tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\n---\n\n"})
    assert problems(tree) == [f"{S}/01-article.md:5: (body): is empty; write the product's text below the front matter"]


def test_scene_with_two_visuals(tree):
    tree.session(products={"01-video.md": "---\ntype: video\ntitle: V\nscenes:\n- {title: A, image: media/x.png, "
                                          "duration: 3}\n---\n"})
    found = problems(tree)
    assert f"{S}/01-video.md:5: scenes[1]: a scene needs exactly one visual of (image, slide, title); found: image, " \
           "title" in found


def test_alt_text_limit(tree):
    photo = "{file: media/a.jpg, caption: c, alt: " + "a" * 251 + "}"
    tree.session(products={"01-photo-series.md": f"---\ntype: photo-series\ntitle: P\nphotos:\n- {photo}\n---\n"})
    assert f"{S}/01-photo-series.md:5: photos[1].alt: must be at most 250 characters, received 251" in problems(tree)


def test_chapters_out_of_order(tree):
    tree.session(products={"01-podcast.md": "---\ntype: podcast\ntitle: P\nchapters:\n- {start: '02:00', title: B}\n"
                                            "- {start: '01:00', title: A}\n---\nScript.\n"})
    assert problems(tree) == [f"{S}/01-podcast.md:2: (document): chapters must be listed in order of their start times"]


def test_missing_site_and_cells(tmp_path):
    (tmp_path / "content").mkdir()
    found = [str(p) for p in load_content(tmp_path / "content").problems]
    assert found == ["content/site.yml: missing: every content folder needs a site.yml",
                     "content/cells.yml: missing: every content folder needs a cells.yml"]


def test_duplicate_cell_ids(tree):
    tree.write("cells.yml", "cells:\n- {id: a, name: A, committee: C, area: X, language: en}\n"
                            "- {id: a, name: B, committee: C, area: X, language: en}\n")
    assert "content/cells.yml:3: cells[2].id: cell id 'a' is declared twice; ids must be unique" in problems(tree)


def test_nfd_text_is_normalised_to_nfc(tree):
    import unicodedata
    tree.session(session=session_md(title=unicodedata.normalize("NFD", "Vệ sinh")))
    [session] = load_content(tree.root).sessions
    assert session.session.title == unicodedata.normalize("NFC", "Vệ sinh")


def test_one_broken_session_does_not_hide_the_others(tree):
    tree.session()
    tree.session(folder="2024-q4/ha-long-broken", session="---\ntitle: [\n---\n")
    loaded = load_content(tree.root)
    assert [s.id for s in loaded.sessions] == ["2024-q4/ha-long-sanitation"]
    assert list(loaded.invalid) == ["content/sessions/2024-q4/ha-long-broken"]


def test_cli_check_exit_status_and_summary(tree):
    tree.session()
    runner = CliRunner()
    result = runner.invoke(app, ["check", str(tree.root)])
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[-1] == "✓ 1 sessions checked: 1 valid, 0 invalid; 0 errors, 0 warnings"
    tree.session(folder="2024-q4/ha-long-broken", session=session_md(group="x"))
    result = runner.invoke(app, ["check", str(tree.root)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "✗ 2 sessions checked: 1 valid, 1 invalid; 1 errors, 0 warnings"


@pytest.mark.parametrize("command", ["check", "build", "serve", "schema", "new", "new session"])
def test_every_subcommand_has_help(command):
    result = CliRunner().invoke(app, command.split() + ["--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_schema_command_writes_json_schema(tmp_path):
    import json
    result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0
    session = json.loads((tmp_path / "session.schema.json").read_text())
    assert session["additionalProperties"] is False
    assert set(session["required"]) >= {"title", "cell", "date", "group", "attendance", "summary"}
    assert (tmp_path / "product-video.schema.json").is_file()


SLIDES_MD = "---\ntype: slides\ntitle: Deck\n---\n# First\n\n- point\n\n---\n\n# Second\n\n- point\n"


def test_video_scene_pointing_at_a_missing_slide(tree):
    video = ("---\ntype: video\ntitle: V\nscenes:\n- {slide: '01-slides#4', caption: c, duration: 3}\n"
             "- {slide: '03-deck#2', caption: c, duration: 3}\n---\n")
    tree.session(products={"01-slides.md": SLIDES_MD, "02-video.md": video})
    assert problems(tree) == [
        f"{S}/02-video.md:5: scenes[1].slide: 01-slides has slides 1 to 3 (1 is the title slide), received: 4",
        f"{S}/02-video.md:6: scenes[2].slide: no slides product '03-deck' in this session; slides products here: "
        "(01-slides)"]


def test_empty_slide_is_reported_by_the_checker(tree):
    tree.session(products={"01-slides.md": SLIDES_MD.replace("# Second", "Note: only notes here\n\n---\n\n# Second")})
    assert problems(tree) == [f"{S}/01-slides.md:11: slide 3: the slide is empty (only speaker notes): give it a "
                              "'# title', text or an image, or remove the extra '---' line"]
