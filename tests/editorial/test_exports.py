"""Contest DOCX export (fonts for Devanagari and Vietnamese) and chat-group bundles (size limit, 720p)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from PIL import Image
from pypdf import PdfReader
from typer.testing import CliRunner

from editorial_support import write_session, write_site
from producers.media import tools
from producers.editorial_cli import editorial_app
from producers.editorial.exports import ExportError, bundle_session, export_contest
from producers.kinds.registry import load_content

runner = CliRunner()
HINDI_TITLE = "गंगा की सफ़ाई में हमारी भूमिका"
HINDI_BODY = "## स्वच्छता अभियान\n\nहमारी इकाई ने **घाट की सफ़ाई** की।\n\n- पहला क़दम\n- दूसरा क़दम\n"
VI_TITLE = "Bảo vệ di sản vịnh Hạ Long"
VI_BODY = "Chi bộ đã thảo luận về *niềm tự hào* di sản thế giới.\n\n> Giữ gìn vịnh là trách nhiệm chung.\n"


def _article(title: str, body: str, channels: str = "[site, contest]", extra: str = "") -> str:
    return f"---\ntype: article\ntitle: {title}\nauthors: [Tác giả A]\nchannels: {channels}\n{extra}---\n\n{body}"


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    root = write_site(tmp_path_factory.mktemp("exports") / "content")
    write_session(root, "2024-q3", "varanasi-ganga", "varanasi", "2024-08-02", status="published", language="hi",
                  products={"01-article.md": _article(HINDI_TITLE, HINDI_BODY)})
    folder = write_session(root, "2024-q4", "ha-long-heritage", "ha-long", "2024-11-02", status="approved",
                           language="vi", products={"01-article.md": _article(
                               VI_TITLE, VI_BODY, extra="cover: {file: media/cover.jpg, alt: Vịnh Hạ Long, "
                                                        "credit: Chi bộ}\n"),
                               "02-other.md": _article("Not for the contest", "Body.", channels="[site]")})
    (folder / "media").mkdir()
    Image.new("RGB", (320, 200), (20, 90, 160)).save(folder / "media" / "cover.jpg")
    write_session(root, "2024-q4", "riverside-draft", "riverside", "2024-12-02", status="submitted",
                  products={"01-article.md": _article("Waiting for review", "Body.")})
    write_session(root, "2023-q4", "riverside-old", "riverside", "2023-12-02", status="published",
                  products={"01-article.md": _article("Last year", "Body.")})
    return root


@pytest.fixture(scope="module")
def contest(content, tmp_path_factory):
    out = tmp_path_factory.mktemp("contest") / "contest-2024.zip"
    return export_contest(load_content(content), 2024, out)


def _docx(zip_path, name) -> Document:
    with zipfile.ZipFile(zip_path) as archive:
        return Document(io.BytesIO(archive.read(name)))


def test_contest_zip_holds_contest_articles_and_an_index(contest):
    with zipfile.ZipFile(contest.path) as archive:
        names = sorted(archive.namelist())
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    assert names == ["01-2024-q3-varanasi-ganga-01-article.docx", "02-2024-q4-ha-long-heritage-01-article.docx",
                     "index.csv", "index.json"]
    assert [(r["title"], r["cell_name"], r["language"]) for r in index] == [
        (HINDI_TITLE, "वाराणसी इकाई", "hi"), (VI_TITLE, "Chi bộ Hạ Long", "vi")]
    assert contest.skipped == ["2024-q4/riverside-draft/01-article: the session is 'submitted', not approved "
                               "(use --include-unapproved)"]


def test_docx_text_and_script_fonts(contest):
    document = _docx(contest.path, "01-2024-q3-varanasi-ganga-01-article.docx")
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == HINDI_TITLE
    assert "स्वच्छता अभियान" in texts and "हमारी इकाई ने घाट की सफ़ाई की।" in texts
    assert {"पहला क़दम", "दूसरा क़दम"} <= set(texts)
    bold = next(r for p in document.paragraphs for r in p.runs if r.text == "घाट की सफ़ाई")
    rpr = bold._r.rPr
    fonts = rpr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:cs")) == "Noto Sans Devanagari" and fonts.get(qn("w:ascii")) == "Noto Sans"
    assert fonts.get(qn("w:asciiTheme")) is None
    assert rpr.find(qn("w:lang")).get(qn("w:bidi")) == "hi-IN" and rpr.find(qn("w:bCs")) is not None
    heading_fonts = document.styles["Heading 1"].element.rPr.find(qn("w:rFonts"))
    assert heading_fonts.get(qn("w:cs")) == "Noto Sans Devanagari" and heading_fonts.get(qn("w:asciiTheme")) is None
    vietnamese = _docx(contest.path, "02-2024-q4-ha-long-heritage-01-article.docx")
    assert vietnamese.paragraphs[0].text == VI_TITLE
    assert len(vietnamese.inline_shapes) == 1                  # the cover photo
    run = vietnamese.paragraphs[0].runs[0]._r.rPr
    assert run.find(qn("w:lang")).get(qn("w:val")) == "vi-VN"
    assert any(p.style.name == "Quote" and p.text == "Giữ gìn vịnh là trách nhiệm chung." for p in vietnamese.paragraphs)


def test_docx_reads_the_body_as_the_page_does():
    """Lists, tables, code, a '---' rule and emphasis over a line break, from the one parser."""
    from producers.editorial.exports import markdown_to_docx
    document = Document()
    markdown_to_docx(document, "Intro *one\ntwo* and [the plan](https://example.org/p).\n\n---\n\n"
                               "1. first\n   - inner ![Chart](media/c.png)\n\n| Who | What |\n|---|---|\n"
                               "| Anh | `code` |\n\n```\n# not a heading\n```\n", "en")
    assert [(p.style.name, p.text) for p in document.paragraphs] == [
        ("Normal", "Intro one two and the plan (https://example.org/p)."), ("List Number", "first"),
        ("List Bullet", "inner [Chart]"), ("Normal", "# not a heading")]
    italic = [run.text for run in document.paragraphs[0].runs if run.italic]
    assert italic == ["one two"]
    [table] = document.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == [["Who", "What"], ["Anh", "code"]]


WRITER = Path("/usr/lib/libreoffice/program/libswlo.so")


@pytest.mark.skipif(not WRITER.exists(), reason="LibreOffice Writer (apt: libreoffice-writer-nogui) is not installed")
def test_docx_renders_devanagari_with_noto_in_libreoffice(contest, tmp_path):
    with zipfile.ZipFile(contest.path) as archive:
        archive.extractall(tmp_path)
    profile = tmp_path / "lo-profile"
    tools.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
               "--outdir", tmp_path, tmp_path / "01-2024-q3-varanasi-ganga-01-article.docx",
               tmp_path / "02-2024-q4-ha-long-heritage-01-article.docx"], timeout=180, what="soffice")
    for name, script_font in (("01-2024-q3-varanasi-ganga-01-article.pdf", "NotoSansDevanagari"),
                              ("02-2024-q4-ha-long-heritage-01-article.pdf", "NotoSans-")):
        reader = PdfReader(tmp_path / name)
        fonts = {str(font["/BaseFont"]) for page in reader.pages
                 for font in page["/Resources"]["/Font"].get_object().values()}
        assert any(script_font in f for f in fonts), fonts
    text = PdfReader(tmp_path / "02-2024-q4-ha-long-heritage-01-article.pdf").pages[0].extract_text()
    assert "Bảo vệ di sản vịnh Hạ Long" in text


RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
             "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w",
             "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign",
             "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath"]


def test_run_properties_follow_the_schema_order(contest):
    """Word refuses to open a file whose <w:rPr> children are out of order."""
    for name in ("01-2024-q3-varanasi-ganga-01-article.docx", "02-2024-q4-ha-long-heritage-01-article.docx"):
        document = _docx(contest.path, name)
        for root in (document.element, document.styles.element):
            for rpr in root.iter(qn("w:rPr")):
                tags = [child.tag.split("}")[1] for child in rpr]
                positions = [RPR_ORDER.index(tag) for tag in tags]
                assert positions == sorted(positions), (name, tags)


def test_contest_without_articles_says_why(content, tmp_path):
    with pytest.raises(ExportError, match=r"^no article of 2022 is marked for the contest"):
        export_contest(load_content(content), 2022, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_cli_export_contest(content, tmp_path):
    out = tmp_path / "c.zip"
    result = runner.invoke(editorial_app, ["export", "contest", "--year", "2024", "--content", str(content),
                                           "--out", str(out), "--include-unapproved"])
    assert result.exit_code == 0, result.output
    assert "3 article(s)" in result.output and zipfile.is_zipfile(out)
    result = runner.invoke(editorial_app, ["export", "poems", "--year", "2024", "--content", str(content)])
    assert result.exit_code == 1 and "unknown export 'poems'; available: (contest)" in result.output


# --- bundles --------------------------------------------------------------------------------------

def _video(path, size: str, seconds: float = 1.0) -> None:
    subprocess.run([tools.executable("ffmpeg"), "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i",
                    f"color=c=0x1565c0:size={size}:rate=24:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site") / "site"
    folder = site / "sessions" / "2024-q4" / "ha-long-heritage"
    (folder / "01-slides").mkdir(parents=True)
    (folder / "02-video").mkdir()
    (folder / "index.html").write_text("<html></html>", encoding="utf-8")
    (folder / "01-slides" / "index.html").write_text("<html></html>", encoding="utf-8")
    (folder / "01-slides" / "deck.pdf").write_bytes(os.urandom(30_000))
    (folder / "01-slides" / "deck.pptx").write_bytes(os.urandom(30_000))
    (folder / "01-slides" / "huge-poster.png").write_bytes(os.urandom(90_000))
    _video(folder / "02-video" / "video-16x9.mp4", "1920x1080")
    _video(folder / "02-video" / "video-9x16.mp4", "720x1280")
    (folder / "02-video" / "captions.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nXin chào\n", encoding="utf-8")
    return site


def _probe(data: bytes, tmp_path) -> tuple[int, int]:
    path = tmp_path / "probe.mp4"
    path.write_bytes(data)
    from producers.editorial.exports import video_size
    return video_size(path)


def test_bundle_splits_parts_under_the_limit_and_scales_video(built_site, tmp_path):
    limit = 80_000
    result = bundle_session(built_site, "2024-q4/ha-long-heritage", tmp_path / "ha-long.zip", limit_bytes=limit)
    assert result.too_big == [("01-slides/huge-poster.png", 90_000)]
    assert result.downscaled == ["02-video/video-16x9.mp4"]
    assert len(result.parts) >= 2
    assert all(part.stat().st_size <= limit for part in result.parts)
    assert [p.name for p in result.parts][:2] == ["ha-long-part1.zip", "ha-long-part2.zip"]
    members = {}
    for part in result.parts:
        with zipfile.ZipFile(part) as archive:
            for name in archive.namelist():
                members[name] = archive.read(name)
    assert sorted(members) == ["01-slides/deck.pdf", "01-slides/deck.pptx", "02-video/captions.vtt",
                               "02-video/video-16x9.mp4", "02-video/video-9x16.mp4"]
    assert _probe(members["02-video/video-16x9.mp4"], tmp_path) == (1280, 720)
    assert _probe(members["02-video/video-9x16.mp4"], tmp_path) == (720, 1280)


def test_bundle_in_one_part_when_it_fits(built_site, tmp_path):
    result = bundle_session(built_site, "ha-long-heritage", tmp_path / "b.zip")
    assert result.parts == [tmp_path / "b.zip"] and result.too_big == []
    assert len(result.included) == 6


def test_bundle_of_unbuilt_session(built_site, tmp_path):
    with pytest.raises(ExportError, match=r"^no built session 'nope' in .*run `cell35 build` first"):
        bundle_session(built_site, "nope", tmp_path / "x.zip")


def test_cli_bundle(built_site, tmp_path):
    result = runner.invoke(editorial_app, ["bundle", "2024-q4/ha-long-heritage", "--site", str(built_site),
                                           "--out", str(tmp_path / "x.zip"), "--limit-mb", "0.08"])
    assert result.exit_code == 1
    assert "left out 01-slides/huge-poster.png: 0.1 MB is over the 0.08 MB limit" in result.output
    assert "02-video/video-16x9.mp4: scaled down to 720p" in result.output


def test_index_json_in_contest_zip(contest):
    with zipfile.ZipFile(contest.path) as archive:
        data = json.loads(archive.read("index.json"))
    assert data["year"] == 2024 and [a["cell"] for a in data["articles"]] == ["varanasi", "ha-long"]
