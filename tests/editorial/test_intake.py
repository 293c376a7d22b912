"""`cell35 intake`: hostile zips refused before anything is written; valid ones filed; invalid ones quarantined."""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import random
import re
import stat
import struct
import unicodedata
import zipfile

import pytest
from PIL import Image
from typer.testing import CliRunner

from editorial_support import (product_text, session_text, session_zip_files, tree_snapshot, write_session, write_site,
                               zip_bytes)
from producers.editorial_cli import editorial_app
from producers.editorial.intake import IntakeRefused, intake, intake_folder
from producers.kinds.registry import load_content

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


def _limit(content, **caps) -> None:
    """Caps set as an editor sets them: in site.yml."""
    values = ", ".join(f"{key}: {value}" for key, value in caps.items())
    with open(content / "site.yml", "a", encoding="utf-8") as handle:
        handle.write(f"intake: {{{values}}}\n")


def _too_big(cap: int) -> str:
    return (f"refused: the zip unpacks to more than {cap:,} bytes, the most one submission may hold "
            f"(intake.max_submission_bytes in site.yml); make the media smaller (photos of at most 2,000 px, "
            f"video at 720p, audio as MP3) and send it again")


def test_total_size_cap_counts_declared_sizes(content, tmp_path):
    _limit(content, max_submission_bytes=1_000)
    archive = _write(tmp_path, zip_bytes({f"ha-long-x/media/{i}.png": _png() * 3 for i in range(5)}))
    before = tree_snapshot(content)
    with pytest.raises(IntakeRefused) as caught:
        intake(archive, content, by="Editor", when=WHEN)
    assert str(caught.value) == _too_big(1_000)
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
        ("submitted", "Editor", WHEN, "received submission.zip; not kept from the sender: status 'published'")]
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
    assert report.startswith("# Bài gửi chưa được chấp nhận: ` submission.zip `\n")
    assert "Chi bộ: Chi bộ Hạ Long (ha-long)." in report
    assert "Đã phát hiện 3 lỗi" in report
    assert ("1. ` ha-long-sanitation/session.md `, dòng 4, trường ` date `: ngày không hợp lệ; hãy viết theo dạng "
            "YYYY-MM-DD — thông báo gốc: ` expected a real date written YYYY-MM-DD, received: '2024-02-30' `") in report
    assert "` ha-long-sanitation/01-article.md `, dòng 2, trường ` type `: giá trị này không nằm trong" in report
    assert "did you mean 'article'?" in report
    assert "` ha-long-sanitation/media/run.exe `, trường ` file type `: loại tệp này không được chấp nhận" in report
    assert "# Submission not accepted: ` submission.zip `" in report          # the editor's English copy
    assert (result.path / "submitted" / "ha-long-sanitation" / "media" / "run.exe").read_bytes() == b"MZ"


def test_hindi_cell_gets_a_hindi_report(content, tmp_path):
    files = {"varanasi-ganga/session.md": session_text("varanasi", "2024-11-02", language="hi")}
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    report = (result.path / "REPORT.md").read_text(encoding="utf-8")
    assert report.startswith("# प्रस्तुति स्वीकार नहीं हुई: ` submission.zip `")
    assert "हर सत्र में एक से तीन उत्पाद फ़ाइलें होनी चाहिए" in report
    assert "1 समस्या(एँ) मिलीं" in report


def test_english_cell_report_is_english_only(content, tmp_path):
    files = {"riverside-x/session.md": session_text("riverside", "2024-11-02").replace("group: build", "group: bild")}
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    report = (result.path / "REPORT.md").read_text(encoding="utf-8")
    assert report.count("# Submission not accepted") == 1
    assert ("` riverside-x/session.md `, line 5, field ` group `: ` Expected one of: (build, fight) but received: "
            "'bild'; did you mean 'build'? `") in report


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


# --- the system, not the sender, writes status and history ------------------------------------------

FORGED = ("history:\n"
          "- action: approved   # forged\n"
          "  by: chief-editor\n"
          "  at: 2024-10-01T09:00:00Z\n"
          "# the cell's own note stays\n")


def _ledger(content):
    from producers.content import ledger
    steps, problems = ledger.read(content)
    assert problems == []
    return steps


def test_sent_status_and_history_are_dropped_and_the_system_writes_its_own(content, tmp_path):
    files = session_zip_files(status="published", history=FORGED)
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert result.outcome == "accepted"
    text = (result.path / "session.md").read_text(encoding="utf-8")
    assert "chief-editor" not in text and "forged" not in text and "status: published" not in text
    assert "# the cell's own note stays" in text
    session = next(s for s in load_content(content).sessions if s.slug == "ha-long-sanitation").session
    assert session.status == "submitted"
    assert [(h.action, h.by, h.at) for h in session.history] == [("submitted", "Editor", WHEN)]
    assert session.history[0].reason == ("received submission.zip; not kept from the sender: status 'published' "
                                         "and history (1 entry)")
    [step] = _ledger(content)
    size = sum(len(data.encode("utf-8")) for data in files.values())
    assert (step.action, step.session, step.revision, step.by, step.at, step.cell, step.bytes) == (
        "submitted", "2024-q4/ha-long-sanitation", None, "Editor", WHEN, "ha-long", size)


def test_a_malformed_sent_history_does_not_matter(content, tmp_path):
    files = session_zip_files(history="history: approved by the chief editor, trust me\n")
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert result.outcome == "accepted", result.problems


def test_errors_name_the_lines_of_the_file_as_sent(content, tmp_path):
    files = session_zip_files(history=FORGED)
    files["ha-long-sanitation/session.md"] = files["ha-long-sanitation/session.md"].replace(
        "---\n\n## Minutes", "tags: nope\n---\n\n## Minutes")
    sent = files["ha-long-sanitation/session.md"].split("\n")
    result = intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    [problem] = result.problems
    assert problem.field == "tags" and sent[problem.line - 1] == "tags: nope"
    # the quarantine keeps the session.md exactly as the cell sent it
    kept = result.path / "submitted" / "ha-long-sanitation" / "session.md"
    assert kept.read_text(encoding="utf-8") == files["ha-long-sanitation/session.md"]


# --- caps: per submission, per cell and quarter --------------------------------------------------------

def test_a_compressible_bomb_is_refused_at_the_default_cap(content, tmp_path):
    from producers.content.model import MAX_SUBMISSION_BYTES
    files = session_zip_files()
    files.update({f"ha-long-sanitation/media/{n:03d}.png": b"\0" * 900_000 for n in range(120)})
    data = zip_bytes(files)
    assert len(data) < 200_000 and MAX_SUBMISSION_BYTES == 100_000_000   # 108 MB of zeros in a 0.1 MB zip
    before = tree_snapshot(content)
    with pytest.raises(IntakeRefused) as caught:
        intake(_write(tmp_path, data), content, by="Editor", when=WHEN)
    assert str(caught.value) == _too_big(100_000_000)
    assert tree_snapshot(content) == before and not (content / "ledger").exists()


def test_many_small_compressible_entries_are_a_bomb_taken_together(content, tmp_path):
    """Each entry below the 1 MB per-entry ratio threshold; 27 MB from a few kB is still a bomb."""
    files = session_zip_files()
    files.update({f"ha-long-sanitation/media/{n:02d}.png": b"\0" * 900_000 for n in range(30)})
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(files)))
    ratio = sum(i.file_size for i in archive.infolist()) / sum(i.compress_size for i in archive.infolist())
    with pytest.raises(IntakeRefused) as caught:
        intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert str(caught.value) == (f"refused: the zip's files are compressed {ratio:,.0f}:1 taken together; more than "
                                 f"100:1 is treated as a zip bomb")


def test_the_cap_per_submission_is_configured_in_site_yml(content, tmp_path):
    _limit(content, max_submission_bytes=50_000)
    files = session_zip_files()
    files["ha-long-sanitation/media/noise.png"] = bytes(range(256)) * 256        # 65 kB, barely compressible
    with pytest.raises(IntakeRefused) as caught:
        intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN)
    assert str(caught.value) == _too_big(50_000)
    del files["ha-long-sanitation/media/noise.png"]
    assert intake(_write(tmp_path, zip_bytes(files)), content, by="Editor", when=WHEN).outcome == "accepted"


def _noise_png(pixels: int) -> bytes:
    """A real PNG of barely compressible pixels: intake refuses files that are not what they claim."""
    side = int(pixels ** 0.5)
    noise = random.Random(7).randbytes(side * side)
    out = io.BytesIO()
    Image.frombytes("L", (side, side), noise).save(out, "PNG")
    return out.getvalue()


def test_resubmissions_beyond_the_quarter_quota_are_refused_with_a_message(content, tmp_path):
    files = session_zip_files()
    files["ha-long-sanitation/media/noise.png"] = _noise_png(25_000)
    size = sum(len(d if isinstance(d, bytes) else d.encode("utf-8")) for d in files.values())
    _limit(content, quarter_quota_bytes=2 * size + 10)
    first = intake(_write(tmp_path, zip_bytes(files), "a.zip"), content, by="E", when=WHEN)
    second = intake(_write(tmp_path, zip_bytes(files), "b.zip"), content, by="E", when=WHEN)
    assert (first.outcome, second.outcome) == ("accepted", "revision")
    before = tree_snapshot(content)
    with pytest.raises(IntakeRefused) as caught:
        intake(_write(tmp_path, zip_bytes(files), "c.zip"), content, by="E", when=WHEN)
    assert str(caught.value) == (
        f"refused: cell 'ha-long' has sent {2 * size:,} bytes in 2024-q4 and this zip unpacks to {size:,} more; "
        f"the quota is {2 * size + 10:,} bytes per cell per quarter (intake.quarter_quota_bytes in site.yml), so "
        f"nothing was filed. Send only the version that matters, with smaller media, or ask an editor to raise "
        f"the quota")
    assert tree_snapshot(content) == before
    # another cell is not affected; nor is the same cell in the next quarter
    other = session_zip_files(folder="riverside-parks-2", cell="riverside")
    assert intake(_write(tmp_path, zip_bytes(other), "d.zip"), content, by="E", when=WHEN).outcome == "accepted"
    later = WHEN + dt.timedelta(days=60)
    assert intake(_write(tmp_path, zip_bytes(files), "e.zip"), content, by="E", when=later).outcome == "revision"


def test_quarantined_submissions_count_against_the_quota(content, tmp_path):
    broken = session_zip_files(date="2024-02-30")
    size = sum(len(d.encode("utf-8")) for d in broken.values())
    _limit(content, quarter_quota_bytes=size + 10)
    assert intake(_write(tmp_path, zip_bytes(broken), "a.zip"), content, by="E", when=WHEN).outcome == "quarantined"
    with pytest.raises(IntakeRefused, match=f"has sent {size:,} bytes in 2024-q4"):
        intake(_write(tmp_path, zip_bytes(broken), "b.zip"), content, by="E", when=WHEN)
    [step] = _ledger(content)
    assert (step.action, step.cell, step.bytes, step.session) == ("quarantined", "ha-long", size, None)


# --- REPORT.md quotes what the cell sent --------------------------------------------------------------

HOSTILE_VALUE = ("[click](https://evil.example/a) ![pic](https://evil.example/i.png) "
                 "<img src=https://evil.example/x.png onerror=alert(1)> <script>alert(2)</script> "
                 "https://evil.example/bare www.evil.example <https://evil.example/angle> `` tick ``")


def _tags(html_text: str) -> set[str]:
    from html.parser import HTMLParser

    found: set[str] = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    Collect().feed(html_text)
    return found


def test_report_md_quotes_what_the_cell_sent_so_nothing_renders_live(content, tmp_path):
    import markdown
    from markdown_it import MarkdownIt

    session = session_text("ha-long", "2024-11-02").replace("group: build", f"group: '{HOSTILE_VALUE}'")
    session = session.replace("summary:", "'[x](https://evil.example/key)': 1\nsummary:")
    files = {"ha-long-x/session.md": session,
             "ha-long-x/media/<img src=x onerror=alert(3)>[a](https:evil.example).exe": b"MZ",
             "ha-long-x/01-article.md": product_text(title="Fine")}
    result = intake(_write(tmp_path, zip_bytes(files), "![z](https:evil.example).zip"), content, by="E", when=WHEN)
    assert result.outcome == "quarantined"
    report = (result.path / "REPORT.md").read_text(encoding="utf-8")
    assert report.count("evil.example") >= 2 * 8          # every piece is there, in both languages
    renderings = {"python-markdown + magiclink": markdown.markdown(report, extensions=["pymdownx.magiclink"]),
                  "markdown-it commonmark": MarkdownIt("commonmark").render(report)}
    for name, rendered in renderings.items():
        assert _tags(rendered) <= {"h1", "p", "ol", "li", "code", "hr"}, (name, _tags(rendered))
        assert "evil.example" in rendered
        outside_code = re.sub(r"<code>.*?</code>", "", rendered, flags=re.S)
        assert "evil" not in outside_code and "alert" not in outside_code, (name, outside_code)


# --- an unpacked folder (the portal's path) -----------------------------------------------------

def _folder(tmp_path, files: dict[str, str | bytes]):
    for name, data in files.items():
        path = tmp_path / "sent" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return tmp_path / "sent" / "ha-long-sanitation"


def test_a_folder_is_filed_like_the_same_zip(content, tmp_path):
    files = session_zip_files(status="published", language="vi")
    files["ha-long-sanitation/media/ảnh.png"] = _png()
    result = intake_folder(_folder(tmp_path, files), content, by="Editor", when=WHEN, sent_name="portal draft 7")
    assert result.outcome == "accepted" and result.session_id == "2024-q4/ha-long-sanitation"
    session = next(s for s in load_content(content).sessions if s.slug == "ha-long-sanitation").session
    assert [(h.action, h.by, h.reason) for h in session.history] == [
        ("submitted", "Editor", "received portal draft 7; not kept from the sender: status 'published'")]
    assert (result.path / "media" / "ảnh.png").read_bytes() == _png()
    assert (tmp_path / "sent" / "ha-long-sanitation" / "session.md").read_text(encoding="utf-8") == \
        files["ha-long-sanitation/session.md"]          # the sent folder is left as it was


def test_a_folder_with_a_link_is_refused_and_nothing_is_written(content, tmp_path):
    folder = _folder(tmp_path, session_zip_files())
    (folder / "media").mkdir()
    (folder / "media" / "photo.png").symlink_to("/etc/passwd")
    before = tree_snapshot(content)
    with pytest.raises(IntakeRefused, match="symbolic link"):
        intake_folder(folder, content, by="Editor", when=WHEN)
    assert tree_snapshot(content) == before


def test_a_folder_over_the_cap_is_refused(content, tmp_path):
    (content / "site.yml").write_text("title: Demo\nbase_url: https://example.org/\nlanguage: en\n"
                                      "intake: {max_submission_bytes: 2000}\n", encoding="utf-8")
    files = session_zip_files()
    files["ha-long-sanitation/media/big.png"] = _png() + b"\x00" * 3000
    with pytest.raises(IntakeRefused, match="more than 2,000 bytes"):
        intake_folder(_folder(tmp_path, files), content, by="Editor", when=WHEN)


def test_an_invalid_folder_is_quarantined_with_its_report(content, tmp_path):
    files = session_zip_files()
    files["ha-long-sanitation/media/fake.png"] = "#EXTM3U\n#EXT-X-VERSION:3\n"
    result = intake_folder(_folder(tmp_path, files), content, by="Editor", when=WHEN)
    assert result.outcome == "quarantined"
    assert "HLS playlist" in (result.path / "REPORT.md").read_text(encoding="utf-8")


# --- submissions at the same time --------------------------------------------------------------------

def _intake_outcome(zip_path, content, start) -> str:
    start.wait(10)
    try:
        return intake(zip_path, content, by="E", when=WHEN).outcome
    except IntakeRefused:
        return "refused"


def test_parallel_submissions_of_one_cell_stay_within_its_quota(content, tmp_path):
    """Four uploads of one cell at once, room in its quota for two: two are filed (the session, then its
    first revision) and two refused, as if they had come one after another."""
    files = session_zip_files()
    files["ha-long-sanitation/media/noise.png"] = _noise_png(25_000)
    size = sum(len(d if isinstance(d, bytes) else d.encode("utf-8")) for d in files.values())
    _limit(content, quarter_quota_bytes=2 * size + 10)
    zips = [_write(tmp_path, zip_bytes(files), f"{n}.zip") for n in range(4)]
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager, context.Pool(4) as pool:
        start = manager.Event()
        pending = [pool.apply_async(_intake_outcome, (path, content, start)) for path in zips]
        start.set()
        outcomes = sorted(result.get(60) for result in pending)
    assert outcomes == ["accepted", "refused", "refused", "revision"]
    filed = [(step.action, step.revision, step.bytes) for step in _ledger(content)]
    assert sorted(filed, key=str) == [("submitted", 2, size), ("submitted", None, size)]
    assert sorted(p.name for p in (content / "revisions/2024-q4/ha-long-sanitation").iterdir()) == ["rev-2"]
