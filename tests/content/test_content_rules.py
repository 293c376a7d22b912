"""The rules the model enforces for every file: which characters are text, what a web address is,
and the declared caps, each with the exact `path:line: field: message` a cell member sees."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel, ValidationError

from producers.content import model
from producers.kinds.registry import load_content
from producers.content.model import TEXT_ALLOWED, TEXT_VALIDATOR, Session, text_problem
from producers.kinds.photos import MAX_PHOTOS
from producers.kinds.podcast import MAX_EPISODE_MINUTES, MAX_SCRIPT_CHARS
from producers.kinds.registry import REGISTRY
from producers.kinds.slides import MAX_SLIDES
from producers.kinds.video import MAX_SCENES, MAX_VIDEO_SECONDS
from tests.conftest import CELLS_YML, SITE_YML, session_md

S = "content/sessions/2024-q4/ha-long-sanitation"
PODCAST_SITE = SITE_YML + ("podcast:\n  title: Voices\n  author: Team\n  owner: {name: Ed, email: e@example.org}\n"
                           "  description: Stories.\n  image: media/cover.png\n")


def problems(tree) -> list[str]:
    return [str(p) for p in load_content(tree.root).problems]


# --- text -------------------------------------------------------------------------------------------

def test_control_character_escaped_in_yaml_names_file_line_field_and_column(tree):
    tree.session(session=session_md(title='"Clean \\a canal"'))
    assert problems(tree) == [f"{S}/session.md:2: title: U+0007 (BELL) at column 7; {TEXT_ALLOWED}"]


def test_raw_control_character_in_front_matter(tree):
    tree.session(session=session_md(summary="We cleaned\x1bthe canal."))
    assert problems(tree) == [f"{S}/session.md:9: summary: U+001B (ESCAPE) at column 20; {TEXT_ALLOWED}"]


def test_raw_control_character_inside_a_multi_line_value(tree):
    tree.session(session=session_md(summary="|\n  First line.\n  Second\x0cline."))
    assert problems(tree) == [f"{S}/session.md:11: summary: U+000C (FORM FEED) at column 9; {TEXT_ALLOWED}"]


def test_control_character_in_a_podcast_title_stops_at_check(tree):
    """It once passed check, intake, approve and publish, then crashed every build writing the feed."""
    tree.session(products={"01-podcast.md": '---\ntype: podcast\ntitle: "Episode \\x85 one"\n---\nScript.\n'})
    assert problems(tree) == [f"{S}/01-podcast.md:3: title: U+0085 (NEXT LINE) at column 9; {TEXT_ALLOWED}"]


def test_control_character_in_the_body(tree):
    tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\n---\nFirst line.\nPress \x07 now.\n"})
    assert problems(tree) == [f"{S}/01-article.md:6: (body): U+0007 (BELL) at column 7; {TEXT_ALLOWED}"]


def test_non_character_in_cells_yml(tree):
    tree.write("cells.yml", CELLS_YML.replace("Chi bộ Hạ Long", "Chi bộ \ufdd0Hạ Long"))
    tree.session()
    found = problems(tree)
    assert found[0] == f"content/cells.yml:2: cells[1].name: U+FDD0 (a non-character) at column 30; {TEXT_ALLOWED}"


def test_non_character_escaped_in_site_podcast_title(tree):
    tree.write("site.yml", PODCAST_SITE.replace("title: Voices", 'title: "Voices \\U0001FFFF"'))
    tree.session()
    assert problems(tree) == [f"content/site.yml:6: podcast.title: U+1FFFF (a non-character) at column 8; "
                              f"{TEXT_ALLOWED}"]


def test_lone_surrogate_is_refused_by_the_model():
    """UTF-8 files and YAML escapes cannot carry one, but the model refuses it whatever its source."""
    with pytest.raises(ValidationError) as error:
        Session.model_validate({"title": "A\ud800", "cell": "ha-long", "date": "2024-10-12", "group": "build",
                                "language": "en", "attendance": {"present": 1, "members": 2}, "summary": "s"})
    assert error.value.errors()[0]["loc"] == ("title",)
    assert error.value.errors()[0]["ctx"]["error"].args[0] == f"U+D800 (a lone surrogate) at column 2; {TEXT_ALLOWED}"


def test_tab_line_break_bidi_and_zwj_are_text(tree):
    tree.session(session=session_md(title='"Tab\\there \\u202eRTL \\u200d joined"',
                                    summary="|\n  One line.\n  Another line."))
    assert problems(tree) == []
    assert text_problem("Tab\there\nand ‮ ‍ 👩‍👩‍👧") is None


def _str_annotations(annotation, path: str):
    """(path, Annotated str) for every string inside a field's annotation; bare `str` yields None."""
    origin = typing.get_origin(annotation)
    if annotation is str:
        yield path, None
    elif origin is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        if base is str:
            yield path, metadata
        else:
            yield from _str_annotations(base, path)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            inner = typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            yield from _str_annotations(inner, f"{annotation.__name__}.{name}")
    else:
        for arg in typing.get_args(annotation):
            if typing.get_origin(annotation) is not typing.Literal:
                yield from _str_annotations(arg, path)


def test_every_string_field_of_every_model_goes_through_the_text_rule():
    schemas = [*model.MODELS, *(kind.model for kind in REGISTRY.values())]
    found = [item for schema in schemas for item in _str_annotations(schema, schema.__name__)]
    assert len(found) > 40                      # the walk really reaches the fields
    unchecked = [path for path, metadata in found if metadata is None or TEXT_VALIDATOR not in metadata]
    assert unchecked == []


# --- web addresses ----------------------------------------------------------------------------------

@pytest.mark.parametrize("written, message", [
    ('"https://example.org/\\"><script>alert(1)</script>"',
     "a web address may not contain '\"'; write it as %22, received: 'https://example.org/\"><script>alert(1)</script>'"),
    ("'https://example.org/a b/'",
     "a web address may not contain a space; write it as %20, received: 'https://example.org/a b/'"),
    ("javascript:alert(1)",
     "expected a web address starting with https:// or http:// like https://example.org/ or "
     "https://example.org/cell35/, received: 'javascript:alert(1)' (javascript:)"),
    ("https://editor:secret@example.org/",
     "a web address may not carry a user name or password ('…@'), received: 'https://editor:secret@example.org/'"),
    ("https://example.org/?x=1",
     "a base address has no '?' query or '#' fragment like https://example.org/ or https://example.org/cell35/, "
     "received: 'https://example.org/?x=1'"),
])
def test_base_url_is_validated_as_a_web_address(tree, written, message):
    tree.write("site.yml", SITE_YML.replace("base_url: https://example.org/", f"base_url: {written}"))
    tree.session()
    assert problems(tree) == [f"content/site.yml:2: base_url: {message}"]


def test_a_good_base_url_keeps_its_path_and_gains_its_slash(tree):
    tree.write("site.yml", SITE_YML.replace("https://example.org/", "https://cells.example.org:8443/cell35"))
    tree.session()
    loaded = load_content(tree.root)
    assert loaded.problems == [] and loaded.site.base_url == "https://cells.example.org:8443/cell35/"


# --- caps -------------------------------------------------------------------------------------------

def test_photo_cap(tree):
    photos = "".join(f"- {{file: media/p{i}.jpg, caption: c, alt: a}}\n" for i in range(MAX_PHOTOS + 1))
    tree.session(products={"01-photo-series.md": f"---\ntype: photo-series\ntitle: P\nphotos:\n{photos}---\n"})
    assert problems(tree) == [f"{S}/01-photo-series.md:4: photos: the series has 61 photos; the cap is 60 photos "
                              "per series: split it into two photo series (a second product, like 02-photo-series.md, "
                              "or a session of its own)"]


def test_scene_cap(tree):
    scenes = "".join(f"- {{title: S{i}, duration: 2}}\n" for i in range(MAX_SCENES + 1))
    tree.session(products={"01-video.md": f"---\ntype: video\ntitle: V\nscenes:\n{scenes}---\n"})
    assert problems(tree) == [f"{S}/01-video.md:4: scenes: the video has 61 scenes; the cap is 60 scenes per video: "
                              "split it into two videos (a second video product, like 02-video.md, or a session of "
                              "its own)"]


def test_video_seconds_cap(tree):
    scenes = "".join(f"- {{title: S{i}, duration: 100}}\n" for i in range(9))
    scenes += "- {title: Last, narration_audio: {file: media/n.mp3, start: 0, end: 1}}\n"
    tree.session(products={"01-video.md": f"---\ntype: video\ntitle: V\nscenes:\n{scenes}---\n"})
    assert MAX_VIDEO_SECONDS == 900
    assert problems(tree) == [f"{S}/01-video.md:4: scenes: the scenes' durations and narration recordings add up to "
                              "901 seconds; the cap is 900 seconds (15 minutes) per video: split it into two videos "
                              "(a second video product, like 02-video.md), or make a podcast of a longer talk"]


def test_slide_cap(tree):
    body = "\n---\n".join(f"# Slide {i}" for i in range(MAX_SLIDES))       # + the title slide = 61
    tree.session(products={"01-slides.md": f"---\ntype: slides\ntitle: Deck\n---\n{body}\n"})
    assert problems(tree) == [f"{S}/01-slides.md:5: (body): the deck has 61 slides; the cap is 60 slides per deck "
                              "(the title slide included): split it into two decks (a second slides product, like "
                              "02-slides.md, or a session of its own)"]


def test_episode_script_cap(tree):
    tree.session(products={"01-podcast.md": "---\ntype: podcast\ntitle: P\n---\n" + "a" * (MAX_SCRIPT_CHARS + 1)})
    assert problems(tree) == [f"{S}/01-podcast.md:5: (body): the script has 150,001 characters; the cap is 150,000 "
                              "characters per episode (about 3 hours read aloud): split it into two episodes (a "
                              "second podcast product, like 02-podcast.md, or a session of its own)"]


def test_episode_minutes_cap_on_declared_chapters(tree):
    tree.session(products={"01-podcast.md": "---\ntype: podcast\ntitle: P\nchapters:\n- {start: '00:00', title: A}\n"
                                            "- {start: '3:00:00', title: B}\n---\nScript.\n"})
    assert MAX_EPISODE_MINUTES == 180
    assert problems(tree) == [f"{S}/01-podcast.md:6: chapters[2].start: starts at 3:00:00, after the end of the "
                              "longest possible episode; the cap is 180 minutes per episode: split the recording "
                              "into two episodes (a second podcast product, like 02-podcast.md)"]


def test_caps_the_renderers_enforce_are_the_models():
    """The render jobs check the same caps again on real media: one value, declared beside the model."""
    from producers.kinds import podcast

    assert podcast.MAX_SECONDS == podcast.MAX_EPISODE_SECONDS == MAX_EPISODE_MINUTES * 60
