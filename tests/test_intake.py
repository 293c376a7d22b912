"""`cell35 intake`: hostile zips refused before anything is written; valid ones filed; invalid ones quarantined."""

from __future__ import annotations

import datetime as dt
import io
import stat
import struct
import unicodedata
import zipfile

import pytest
from PIL import Image
from typer.testing import CliRunner

from editorial_support import session_text, session_zip_files, tree_snapshot, write_session, write_site, zip_bytes
from producers import intake as intake_module
from producers.editorial_cli import editorial_app
from producers.intake import IntakeRefused, intake
from producers.loader import load_content

WHEN = dt.datetime(2024, 11, 20, 8, 30, tzinfo=dt.timezone.utc)
runner = CliRunner()


@pytest.fixture
def content(tmp_path):
    root = write_site(tmp_path / "content")
    write_session(root, "2024-q3", "riverside-parks", "riverside", "2024-08-01")
    return root


def _write(tmp_path, data: bytes, name: str = "submission.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _zip_with(infos: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in infos:
            archive.writestr(info, data)
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _symlink_zip() -> bytes:
    link = zipfile.ZipInfo("ha-long-x/media/photo.jpg")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip_with([(zipfile.ZipInfo("ha-long-x/session.md"), b"---\n---\n"), (link, b"/etc/passwd")])


def _encrypted_zip() -> bytes:
    """The 'encrypted' flag (bit 0) set in both headers, as a password-protecting zip tool writes it."""
    raw = bytearray(zip_bytes({"ha-long-x/session.md": "secret"}))
    local = raw.find(b"PK\x03\x04")
    central = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<H", raw, local + 6, struct.unpack_from("<H", raw, local + 6)[0] | 0x1)
    struct.pack_into("<H", raw, central + 8, struct.unpack_from("<H", raw, central + 8)[0] | 0x1)
    return bytes(raw)


BOMB = zip_bytes({"ha-long-x/media/a.png": b"\x00" * 5_000_000})
BOMB_RATIO = (lambda info: info.file_size / info.compress_size)(zipfile.ZipFile(io.BytesIO(BOMB)).infolist()[0])


def _lying_header_zip() -> bytes:
    """A 200 kB entry whose central directory claims 10 bytes."""
    raw = bytearray(zip_bytes({"ha-long-x/big.md": "A" * 200_000}))
    central = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, 10)            # uncompressed size
    local = raw.find(b"PK\x03\x04")
    struct.pack_into("<I", raw, local + 22, 10)
    return bytes(raw)


NFC_NAME = unicodedata.normalize("NFC", "ha-long-x/media/ảnh.png")
NFD_NAME = unicodedata.normalize("NFD", "ha-long-x/media/ảnh.png")

HOSTILE = {
    "zip slip": (lambda: zip_bytes({"ha-long-x/../../evil.md": "x"}),
                 "refused: 'ha-long-x/../../evil.md' climbs out of the folder with '..'"),
    "parent only": (lambda: zip_bytes({"../evil.md": "x"}),
                    "refused: '../evil.md' climbs out of the folder with '..'"),
    "absolute": (lambda: zip_bytes({"/etc/cron.d/evil": "x"}),
                 "refused: '/etc/cron.d/evil' is an absolute path; every file must be inside the session folder"),
    "drive letter": (lambda: zip_bytes({"C:/Windows/evil.md": "x"}),
                     "refused: 'C:/Windows/evil.md' starts with a drive letter; every file must be inside the "
                     "session folder"),
    "backslash": (lambda: zip_bytes({"ha-long-x\\..\\..\\evil.md": "x"}),
                  "refused: 'ha-long-x\\\\..\\\\..\\\\evil.md' contains a backslash; zip paths must use '/' and stay "
                  "inside the session folder"),
    "symlink": (_symlink_zip, "refused: 'ha-long-x/media/photo.jpg' is a symbolic link; links are not accepted"),
    "encrypted": (_encrypted_zip, "refused: 'ha-long-x/session.md' is encrypted; send the files without a password"),
    "ratio bomb": (lambda: BOMB,
                   f"refused: 'ha-long-x/media/a.png' is compressed {BOMB_RATIO:,.0f}:1; more than 100:1 is treated "
                   f"as a zip bomb"),
    "too many files": (lambda: zip_bytes({f"ha-long-x/media/{i}.png": b"x" for i in range(501)}),
                       "refused: the zip holds 501 entries; at most 500 are accepted"),
    "nfc/nfd collision": (lambda: zip_bytes({NFC_NAME: b"a", NFD_NAME: b"b"}),
                          f"refused: {NFC_NAME!r} and {NFD_NAME!r} are the same name once Unicode-normalised and "
                          f"case-folded; rename one of them"),
    "case collision": (lambda: zip_bytes({"ha-long-x/Photo.png": b"a", "ha-long-x/photo.PNG": b"b"}),
                       "refused: 'ha-long-x/Photo.png' and 'ha-long-x/photo.PNG' are the same name once "
                       "Unicode-normalised and case-folded; rename one of them"),
    "file and folder": (lambda: zip_bytes({"ha-long-x/media": b"a", "ha-long-x/media/b.png": b"b"}),
                        "refused: 'ha-long-x/media' is both a file and a folder in the zip"),
    "lying header": (_lying_header_zip,
                     "refused: the zip is damaged or uses an unsupported method ('ha-long-x/big.md': Bad CRC-32 for "
                     "file 'ha-long-x/big.md')"),
    "not a zip": (lambda: b"this is not a zip file at all",
                  "refused: submission.zip is not a readable zip file (File is not a zip file)"),
    "empty": (lambda: zip_bytes({}), "refused: the zip is empty"),
    "long name": (lambda: zip_bytes({"ha-long-x/" + "a" * 300 + ".md": "x"}),
                  "refused: 'ha-long-x/" + "a" * 50 + "'... is too long a name (at most 255 bytes per name and "
                  "1024 for the whole path)"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_zip_is_refused_and_nothing_written(case, content, tmp_path):
    make, message = HOSTILE[case]
    archive = _write(tmp_path, make())
    before = tree_snapshot(content)
    dirs_before = sorted(p for p in content.rglob("*"))
    with pytest.raises(IntakeRefused) as caught:
        intake(archive, content, by="Editor", when=WHEN)
    assert str(caught.value) == message
    assert tree_snapshot(content) == before
    assert sorted(p for p in content.rglob("*")) == dirs_before
    assert not (tmp_path / "evil.md").exists()


def test_total_size_cap_counts_declared_sizes(content, tmp_path, monkeypatch):
    monkeypatch.setattr(intake_module, "MAX_TOTAL_BYTES", 1_000)
    archive = _write(tmp_path, zip_bytes({f"ha-long-x/media/{i}.png": _png() * 3 for i in range(5)}))
    before = tree_snapshot(content)
    with pytest.raises(IntakeRefused) as caught:
        intake(archive, content, by="Editor", when=WHEN)
    assert str(caught.value) == ("refused: the zip would unpack to more than 1,000 bytes (a zip bomb, or media "
                                 "too big to send this way)")
    assert tree_snapshot(content) == before


def test_duplicate_entry_names_are_refused(content, tmp_path):
    buffer = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ha-long-x/session.md", "one")
        archive.writestr("ha-long-x/session.md", "two")
    with pytest.raises(IntakeRefused, match="are the same name once Unicode-normalised"):
        intake(_write(tmp_path, buffer.getvalue()), content, by="Editor", when=WHEN)


def test_valid_submission_lands_as_submitted(content, tmp_path):
    files = session_zip_files(status="published", language="vi")   # a cell cannot publish itself
    files["ha-long-sanitation/media/ảnh.png"] = _png()
    files["__MACOSX/ha-long-sanitation/._session.md"] = "junk"
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert result.outcome == "accepted" and result.session_id == "2024-q4/ha-long-sanitation"
    assert result.path == content / "sessions" / "2024-q4" / "ha-long-sanitation"
    tree = load_content(content)
    assert tree.errors == []
    session = next(s for s in tree.sessions if s.slug == "ha-long-sanitation").session
    assert session.status == "submitted"
    assert [(h.action, h.by, h.at, h.reason) for h in session.history] == [
        ("submitted", "Editor", WHEN, "received submission.zip")]
    assert (result.path / "media" / "ảnh.png").read_bytes() == _png()
    assert not (content / "sessions" / "__MACOSX").exists()
    assert not list(content.rglob("*.incoming"))


def test_decomposed_file_names_are_stored_composed(content, tmp_path):
    files = session_zip_files()
    files["ha-long-sanitation/01-article.md"] = (
        "---\ntype: article\ntitle: Ảnh\ncover: {file: media/ảnh.png, alt: Ảnh bìa}\n---\n\nNội dung.\n")
    files[unicodedata.normalize("NFD", "ha-long-sanitation/media/ảnh.png")] = _png()
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert result.outcome == "accepted", result.problems
    assert [p.name for p in (result.path / "media").iterdir()] == [unicodedata.normalize("NFC", "ảnh.png")]


def test_files_at_top_level_take_the_zip_name(content, tmp_path):
    files = {name.split("/", 1)[1]: data for name, data in session_zip_files().items()}
    result = intake(_write(tmp_path, zip_bytes(files), "ha-long-sanitation.zip"), content, by="Editor", when=WHEN)
    assert result.outcome == "accepted"
    assert (content / "sessions" / "2024-q4" / "ha-long-sanitation" / "session.md").is_file()


def test_resubmission_keeps_both_revisions(content, tmp_path):
    first = intake(_write(tmp_path, zip_bytes(session_zip_files(title="First")), "a.zip"), content, by="E", when=WHEN)
    second = intake(_write(tmp_path, zip_bytes(session_zip_files(title="Second")), "b.zip"), content, by="E",
                    when=WHEN)
    third = intake(_write(tmp_path, zip_bytes(session_zip_files(title="Third")), "c.zip"), content, by="E", when=WHEN)
    assert first.outcome == "accepted"
    assert (second.outcome, second.revision) == ("revision", 2)
    assert (third.outcome, third.revision) == ("revision", 3)
    base = content / "revisions" / "2024-q4" / "ha-long-sanitation"
    assert second.path == base / "rev-2" and third.path == base / "rev-3"
    live = content / "sessions" / "2024-q4" / "ha-long-sanitation" / "session.md"
    assert "title: First" in live.read_text(encoding="utf-8")
    assert "title: Second" in (base / "rev-2" / "session.md").read_text(encoding="utf-8")
    assert "reason: received b.zip as revision 2 of 2024-q4/ha-long-sanitation" in (
        base / "rev-2" / "session.md").read_text(encoding="utf-8")
    # the site sees the session once
    tree = load_content(content)
    assert [s.id for s in tree.sessions].count("2024-q4/ha-long-sanitation") == 1 and tree.errors == []


def test_invalid_submission_is_quarantined_with_a_report_in_the_cells_language(content, tmp_path):
    files = session_zip_files(date="2024-02-30")
    files["ha-long-sanitation/01-article.md"] = "---\ntype: artcle\ntitle: X\n---\nBody\n"
    files["ha-long-sanitation/media/run.exe"] = b"MZ"
    before = tree_snapshot(content / "sessions")
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert result.outcome == "quarantined" and result.language == "vi"
    assert result.path == content / "quarantine" / "20241120T083000Z-ha-long-sanitation"
    assert tree_snapshot(content / "sessions") == before
    report = (result.path / "REPORT.md").read_text(encoding="utf-8")
    assert report.startswith("# Bài gửi chưa được chấp nhận: submission.zip\n")
    assert "Chi bộ: Chi bộ Hạ Long (ha-long)." in report
    assert "Đã phát hiện 3 lỗi" in report
    assert ("1. `ha-long-sanitation/session.md`, dòng 4, trường `date`: ngày không hợp lệ; hãy viết theo dạng "
            "YYYY-MM-DD — thông báo gốc: expected a real date written YYYY-MM-DD, received: '2024-02-30'") in report
    assert "`ha-long-sanitation/01-article.md`, dòng 2, trường `type`: giá trị này không nằm trong" in report
    assert "did you mean 'article'?" in report
    assert "`ha-long-sanitation/media/run.exe`, trường `file type`: loại tệp này không được chấp nhận" in report
    assert "# Submission not accepted: submission.zip" in report          # the editor's English copy
    assert (result.path / "submitted" / "ha-long-sanitation" / "media" / "run.exe").read_bytes() == b"MZ"


def test_hindi_cell_gets_a_hindi_report(content, tmp_path):
    files = {"varanasi-ganga/session.md": session_text("varanasi", "2024-11-02", language="hi")}
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    report = (result.path / "REPORT.md").read_text(encoding="utf-8")
    assert report.startswith("# प्रस्तुति स्वीकार नहीं हुई: submission.zip")
    assert "हर सत्र में एक से तीन उत्पाद फ़ाइलें होनी चाहिए" in report
    assert "1 समस्या(एँ) मिलीं" in report


def test_english_cell_report_is_english_only(content, tmp_path):
    files = {"riverside-x/session.md": session_text("riverside", "2024-11-02").replace("group: build", "group: bild")}
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    report = (result.path / "REPORT.md").read_text(encoding="utf-8")
    assert report.count("# Submission not accepted") == 1
    assert "`riverside-x/session.md`, line 5, field `group`: Expected one of: (build, fight) but received: 'bild'" \
           in report


def test_two_folders_in_one_zip_are_quarantined(content, tmp_path):
    files = {**session_zip_files(), **session_zip_files(folder="ha-long-other")}
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert result.outcome == "quarantined"
    assert [str(p) for p in result.problems] == [
        "submission.zip: zip: the zip must hold one session folder (or the files of one session at its top "
        "level); found: ha-long-other/, ha-long-sanitation/"]


def test_cli_intake_exit_codes(content, tmp_path):
    ok = _write(tmp_path, zip_bytes(session_zip_files()), "ok.zip")
    result = runner.invoke(editorial_app, ["intake", str(ok), "--content", str(content), "--by", "Editor"])
    assert result.exit_code == 0, result.output
    assert "accepted: 2024-q4/ha-long-sanitation" in result.output
    bad = _write(tmp_path, zip_bytes({"../x.md": "x"}), "bad.zip")
    result = runner.invoke(editorial_app, ["intake", str(bad), "--content", str(content)])
    assert result.exit_code == 2 and "refused: '../x.md' climbs out of the folder with '..'" in result.output
    invalid = _write(tmp_path, zip_bytes({"ha-long-y/session.md": "---\ntitle: x\n---\n"}), "invalid.zip")
    result = runner.invoke(editorial_app, ["intake", str(invalid), "--content", str(content)])
    assert result.exit_code == 1 and "quarantined" in result.output and "REPORT.md" in result.output
