"""Only regular files inside content/ are content; names match in NFC; no file can crash or hang
`check` or `build`: each case is one `path:line: field: message` line and the rest publishes."""

from __future__ import annotations

import os
import threading
import unicodedata
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from producers.cli import app
from producers.content.loader import check_media_path
from producers.kinds.registry import load_content
from producers.content.yamlsafe import MAX_YAML_DEPTH
from tests.conftest import ARTICLE_MD, session_md

S = "content/sessions/2024-q4/ha-long-sanitation"
LINK = ("is a symbolic link, not a file; only regular files inside the content folder are content "
        "(put the file itself here, not a link to it)")
LINKED_FOLDER = ("is a symbolic link; links are never followed for content: put the folder itself here "
                 "(only regular files inside the content folder are content)")


def problems(root: Path) -> list[str]:
    return [str(p) for p in load_content(root).problems]


def outside_session(tmp_path: Path, title: str = "Another cell's draft") -> Path:
    """A complete, valid session folder outside content/ (what a link would smuggle in)."""
    folder = tmp_path / "elsewhere" / "ha-long-secret"
    folder.mkdir(parents=True)
    (folder / "session.md").write_text(session_md(title=title, date="2024-11-01"), encoding="utf-8")
    (folder / "01-article.md").write_text("---\ntype: article\ntitle: Secret\n---\nSECRET TEXT\n", encoding="utf-8")
    return folder


def test_symlinked_product_file_is_refused_and_the_rest_publishes(tree, tmp_path):
    good = tree.session("2024-q4/ha-long-good")
    folder = tree.session()
    secret = outside_session(tmp_path)
    os.symlink(secret / "01-article.md", folder / "02-secret.md")
    loaded = load_content(tree.root)
    assert [str(p) for p in loaded.problems] == [f"{S}/02-secret.md: {LINK}"]
    assert [s.id for s in loaded.sessions] == ["2024-q4/ha-long-good"]
    assert good.exists()


def test_symlinked_session_md_is_refused(tree, tmp_path):
    folder = tree.session()
    (folder / "session.md").unlink()
    os.symlink(outside_session(tmp_path) / "session.md", folder / "session.md")
    assert problems(tree.root) == [f"{S}/session.md: {LINK}"]


def test_symlinked_quarter_folder_publishes_nothing_from_outside(tree, tmp_path):
    tree.session()
    quarter = tmp_path / "elsewhere-quarter"
    (quarter / "ha-long-secret").mkdir(parents=True)
    secret = outside_session(tmp_path)
    for name in ("session.md", "01-article.md"):
        (quarter / "ha-long-secret" / name).write_bytes((secret / name).read_bytes())
    os.symlink(quarter, tree.root / "sessions" / "2024-q3")
    loaded = load_content(tree.root)
    assert [str(p) for p in loaded.problems] == [f"content/sessions/2024-q3: {LINKED_FOLDER}"]
    assert [s.id for s in loaded.sessions] == ["2024-q4/ha-long-sanitation"]


def test_symlinked_session_folder_is_an_invalid_session(tree, tmp_path):
    tree.session()
    os.symlink(outside_session(tmp_path), tree.root / "sessions/2024-q4/ha-long-secret")
    loaded = load_content(tree.root)
    assert [str(p) for p in loaded.problems] == [f"content/sessions/2024-q4/ha-long-secret: {LINKED_FOLDER}"]
    assert list(loaded.invalid) == ["content/sessions/2024-q4/ha-long-secret"]
    assert [s.id for s in loaded.sessions] == ["2024-q4/ha-long-sanitation"]


def test_symlinked_sessions_folder(tree, tmp_path):
    elsewhere = tmp_path / "other-sessions"
    elsewhere.mkdir()
    os.rmdir(tree.root / "sessions")
    os.symlink(elsewhere, tree.root / "sessions")
    assert problems(tree.root) == [f"content/sessions: {LINKED_FOLDER}"]


def test_symlinked_site_yml(tree, tmp_path):
    real = tmp_path / "site.yml"
    real.write_bytes((tree.root / "site.yml").read_bytes())
    (tree.root / "site.yml").unlink()
    os.symlink(real, tree.root / "site.yml")
    tree.session()
    assert problems(tree.root) == [f"content/site.yml: {LINK}"]


def test_folder_named_like_a_product_file(tree):
    folder = tree.session()
    (folder / "02-notes.md").mkdir()
    assert problems(tree.root) == [f"{S}/02-notes.md: is a folder, not a file; only regular files inside the "
                                   "content folder are content"]


def test_dangling_link_named_like_a_product_file(tree):
    folder = tree.session()
    os.symlink(tree.root / "nowhere.md", folder / "02-gone.md")
    assert problems(tree.root) == [f"{S}/02-gone.md: {LINK}"]


def test_fifo_named_like_a_product_file_does_not_hang_check(tree):
    folder = tree.session()
    os.mkfifo(folder / "02-pipe.md")
    found: list[str] = []
    worker = threading.Thread(target=lambda: found.extend(problems(tree.root)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "check blocked on a named pipe"
    assert found == [f"{S}/02-pipe.md: is a named pipe (FIFO), not a file; only regular files inside the content "
                     "folder are content"]


def test_fifo_as_media_file(tree):
    folder = tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: media/c.jpg, "
                                                     "alt: x}\n---\ntext\n"})
    (folder / "media").mkdir()
    os.mkfifo(folder / "media" / "c.jpg")
    assert problems(tree.root) == [f"{S}/01-article.md:4: cover.file: 'media/c.jpg' is a named pipe (FIFO), not a "
                                   "file; only regular files inside the content folder are content"]


def test_symlinked_media_folder_inside_the_session(tree):
    folder = tree.session(products={"01-article.md": "---\ntype: article\ntitle: A\ncover: {file: media/c.jpg, "
                                                     "alt: x}\n---\ntext\n"})
    (folder / "real").mkdir()
    Image.new("RGB", (8, 8)).save(folder / "real" / "c.jpg")
    os.symlink(folder / "real", folder / "media")
    assert problems(tree.root) == [f"{S}/01-article.md:4: cover.file: 'media/' in 'media/c.jpg' is a symbolic link; "
                                   "links are never followed for content: put the file itself in the session folder"]


def test_cli_check_names_a_folder_called_like_a_product_without_traceback(tree):
    """A directory named *.md crashed `check` with a traceback; now it is one line (the build side
    is in test_body_media.py)."""
    tree.session("2024-q4/ha-long-good")
    folder = tree.session()
    (folder / "02-notes.md").mkdir()
    result = CliRunner().invoke(app, ["check", str(tree.root)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"{S}/02-notes.md: is a folder, not a file; only regular files inside the content folder are content" \
        in result.output.splitlines()
    assert result.output.strip().splitlines()[-1] == "✗ 2 sessions checked: 1 valid, 1 invalid; 1 errors, 0 warnings"


@pytest.mark.parametrize("form_on_disk, form_written", [("NFD", "NFC"), ("NFC", "NFD")])
def test_media_name_matches_across_unicode_normalisation(tree, form_on_disk, form_written):
    name = "ảnh đẹp.jpg"
    written = unicodedata.normalize(form_written, f"media/{name}")
    folder = tree.session(products={"01-article.md": f"---\ntype: article\ntitle: A\ncover: {{file: '{written}', "
                                                     "alt: x}\n---\ntext\n"})
    (folder / "media").mkdir()
    on_disk = folder / "media" / unicodedata.normalize(form_on_disk, name)
    Image.new("RGB", (8, 8)).save(on_disk)
    assert problems(tree.root) == []
    found, message = check_media_path(folder, written)
    assert message is None and found == on_disk


def test_session_folder_named_in_nfd_is_compared_in_nfc(tree):
    nfd = unicodedata.normalize("NFD", "ha-long-vệ-sinh")
    tree.session(f"2024-q4/{nfd}")
    shown = unicodedata.normalize("NFC", "ha-long-vệ-sinh")
    found = problems(tree.root)
    assert [line.replace(nfd, shown) for line in found] == [
        f"content/sessions/2024-q4/{shown}: folder: session folder must be named '<cell>-<topic>' in lowercase with "
        f"hyphens, starting with 'ha-long-', received: '{shown}'; did you mean 'ha-long-ve-sinh'?"]


def test_nested_brackets_are_capped_not_a_recursion_error(tree):
    """1 KB of nested brackets raised RecursionError in check, build and intake."""
    tree.session(session="---\ntitle: " + "[" * 500 + "]" * 500 + "\n---\n")
    assert problems(tree.root) == [f"{S}/session.md:2: lists and mappings are nested more than {MAX_YAML_DEPTH} "
                                   f"levels deep (the cap is {MAX_YAML_DEPTH} levels); write the value flatter"]


def test_nesting_within_the_cap_is_read(tree):
    tree.session(session=session_md(tags="[" * (MAX_YAML_DEPTH - 1) + "a" + "]" * (MAX_YAML_DEPTH - 1)))
    assert problems(tree.root) == [f"{S}/session.md:10: tags[1]: expected text, received: "
                                   f"{eval('[' * (MAX_YAML_DEPTH - 2) + repr('a') + ']' * (MAX_YAML_DEPTH - 2))!r}"]


def test_an_unexpected_exception_is_that_sessions_problem(tree, monkeypatch):
    """Any exception from one session's files names the file and leaves the other sessions alone."""
    from producers.content import loader

    tree.session("2024-q4/ha-long-good")
    tree.session(products={"01-article.md": ARTICLE_MD, "02-podcast.md": "---\ntype: podcast\ntitle: P\n---\nText\n"})
    real = loader.load_product

    def explode(path, *args, **kwargs):
        if path.name == "02-podcast.md":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(loader, "load_product", explode)
    loaded = load_content(tree.root)
    assert [str(p) for p in loaded.problems] == [
        f"{S}/02-podcast.md: could not be read: unexpected RecursionError (maximum recursion depth exceeded); the "
        "rest of the content is not affected. Simplify this file, and tell the editors"]
    assert [s.id for s in loaded.sessions] == ["2024-q4/ha-long-good"]


def test_unhashable_product_type_is_a_message(tree):
    tree.session(products={"01-article.md": "---\ntype: [article]\ntitle: A\n---\ntext\n"})
    assert problems(tree.root) == [f"{S}/01-article.md:2: type: Expected one of: (slides, article, social-post, "
                                   "video, podcast, photo-series) but received: ['article']"]


def test_intake_quarantines_nested_brackets_instead_of_crashing(tmp_path):
    import datetime as dt

    from editorial_support import session_zip_files, write_site, zip_bytes
    from producers.editorial.intake import intake

    content = write_site(tmp_path / "content")
    files = session_zip_files()
    files["ha-long-sanitation/session.md"] = "---\ntitle: " + "[" * 500 + "]" * 500 + "\n---\n"
    archive = tmp_path / "submission.zip"
    archive.write_bytes(zip_bytes(files))
    result = intake(archive, content, by="Editor", when=dt.datetime(2024, 11, 20, tzinfo=dt.timezone.utc))
    assert result.outcome == "quarantined"
    assert [str(p) for p in result.problems] == [
        f"ha-long-sanitation/session.md:2: lists and mappings are nested more than {MAX_YAML_DEPTH} levels deep (the "
        f"cap is {MAX_YAML_DEPTH} levels); write the value flatter"]


def test_site_media_named_in_nfd_is_given_by_its_name_on_disk(tree):
    """The site and feed code join site.yml's paths to the content folder directly."""
    logo = "media/biểu-trưng.png"
    tree.write("site.yml", (tree.root / "site.yml").read_text(encoding="utf-8") + f"logo: {logo}\n")
    on_disk = tree.root / unicodedata.normalize("NFD", logo)
    on_disk.parent.mkdir()
    Image.new("RGB", (8, 8)).save(on_disk)
    tree.session()
    loaded = load_content(tree.root)
    assert loaded.problems == []
    assert (tree.root / loaded.site.logo) == on_disk and on_disk.is_file()
