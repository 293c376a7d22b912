"""The portal through Django's test client: a secretary's session from form to content/, an editor's
review, the checker's errors beside the fields, uploads sniffed and capped, invitations, throttling,
CSRF, cookie flags, the audit log, and every URL for every role and cell (the authorisation matrix)."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import re
import threading
import zipfile
from types import SimpleNamespace

import pytest

import portal_support as support
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from producers.content import writelock
from producers.kinds.registry import load_content
from producers.portal import content, previews
from producers.portal.models import AuditEntry, Draft, Invitation, Product, Upload

SESSION = {"title": "Vệ sinh khu phố", "date": "2025-02-10", "group": "build", "present": "12", "members": "15",
           "summary": "Chi bộ bàn việc vệ sinh.", "minutes": "Biên bản buổi họp."}


@pytest.fixture(scope="module")
def database():
    with support.TestDatabase():
        yield


@pytest.fixture
def portal(database, tmp_path):
    content = support.content_tree(tmp_path / "content")
    with override_settings(CONTENT_DIR=content, DRAFTS_DIR=tmp_path / "drafts", DATA_DIR=tmp_path / "data", SITE_DIR=tmp_path / "site",
                           CACHE_DIR=tmp_path / "cache", PASSWORD_HASHERS=support.FAST_HASHERS), transaction.atomic():
        users = support.make_users()
        yield SimpleNamespace(content=content, users=users, tmp=tmp_path)
        previews.wait_all()          # no preview build outlives the test (and its settings)
        transaction.set_rollback(True)


def client_for(portal, role: str, cell: str | None = "ha-long") -> Client:
    client = Client()
    client.force_login(portal.users[(role, cell if role in ("member", "secretary") else None)])
    return client


def new_draft(client: Client, **session) -> Draft:
    response = client.post(reverse("portal:draft_new"), {**SESSION, **session})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Draft.objects.latest("pk")


def add_product(client: Client, draft: Draft, kind: str, data: dict) -> int:
    response = client.post(reverse("portal:product_new", args=[draft.pk]), {"kind": kind})
    position = int(re.search(r"/products/(\d+)/", response["Location"]).group(1))
    response = client.post(reverse("portal:product", args=[draft.pk, position]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return position


def photo_rows(photos: list[tuple[bytes, str]], kept: int = 0) -> dict:
    data = {"photos-TOTAL_FORMS": str(len(photos)), "photos-INITIAL_FORMS": str(kept), "photos-MIN_NUM_FORMS": "0",
            "photos-MAX_NUM_FORMS": "60"}
    for index, (image, caption) in enumerate(photos):
        data[f"photos-{index}-photo"] = SimpleUploadedFile(f"IMG_{index}.jpg", image, "image/jpeg")
        data[f"photos-{index}-caption"] = caption
    return data


def session_of(portal, folder_prefix: str):
    tree = load_content(portal.content)
    return next(s for s in tree.sessions if s.slug.startswith(folder_prefix))


# --- a secretary's session ----------------------------------------------------------------------

def test_a_secretary_files_a_session_with_an_article_through_intake(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "article", {"title": "Bài viết", "text": "Nội dung **bài viết**."})
    page = client.get(reverse("portal:draft", args=[draft.pk])).content.decode()
    assert 'id="submit"' in page
    response = client.post(reverse("portal:draft_submit", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.session_id == "2025-q1/ha-long-ve-sinh-khu-pho"
    record = session_of(portal, "ha-long-ve-sinh")
    assert record.session.status == "submitted"
    assert [(h.action, h.by) for h in record.session.history] == [("submitted", "secretary-ha-long")]
    assert record.session.language == "vi" and record.session.attendance.present == 12
    assert [p.kind for p in record.products] == ["article"]
    assert "submit" in AuditEntry.objects.filter(username="secretary-ha-long").values_list("action", flat=True)
    # a second submit of the same draft is a revision, as intake files a resent zip
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    assert (portal.content / "revisions" / "2025-q1" / "ha-long-ve-sinh-khu-pho" / "rev-2" / "session.md").is_file()


def test_three_photos_with_captions_land_sniffed_under_portal_names(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "photo-series", {
        "title": "Ảnh buổi họp", **photo_rows([(support.jpeg((i * 60, 30, 30)), f"Ảnh số {i}") for i in range(3)])})
    photos = Product.objects.get(draft=draft).data["photos"]
    assert [p["caption"] for p in photos] == ["Ảnh số 0", "Ảnh số 1", "Ảnh số 2"]
    assert all(re.fullmatch(r"media/p1-[0-9]+\.jpg", p["file"]) for p in photos)
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    record = session_of(portal, "ha-long-ve-sinh")
    series = record.products[0].product
    assert [p.caption for p in series.photos] == ["Ảnh số 0", "Ảnh số 1", "Ảnh số 2"]
    assert len(list((record.dir / "media").iterdir())) == 3


def test_a_playlist_named_jpg_is_refused_beside_the_field_and_not_kept(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    client.post(reverse("portal:product_new", args=[draft.pk]), {"kind": "photo-series"})
    rows = photo_rows([(b"#EXTM3U\n#EXT-X-VERSION:3\nhttp://x/y.ts\n", "x")])
    response = client.post(reverse("portal:product", args=[draft.pk, 1]), {"title": "Ảnh", **rows})
    assert response.status_code == 200
    assert "HLS playlist" in response.content.decode()
    assert Product.objects.get(draft=draft).data["photos"] == []
    assert not list((portal.tmp / "drafts").rglob("*.jpg"))


def test_the_checkers_errors_stand_beside_their_fields_in_the_cells_language(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client, present="20", members="15")
    add_product(client, draft, "photo-series", {"title": "Ảnh", **photo_rows([(support.jpeg(), "")])})
    page = client.get(reverse("portal:draft", args=[draft.pk])).content.decode()
    members = page[page.index('id="field-members"'):]
    members = members[:members.index("</div>")]
    assert "present (20) cannot exceed members (15)" in members
    assert 'id="submit"' not in page
    product_page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    assert "không được để trống" in product_page          # the caption, explained in Vietnamese
    assert client.post(reverse("portal:draft_submit", args=[draft.pk])).status_code == 302
    assert not (portal.content / "sessions" / "2025-q1").exists()


def rows(prefix: str, entries: list[dict]) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(entries)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "60"}
    for index, entry in enumerate(entries):
        for key, value in entry.items():
            data[f"{prefix}-{index}-{key}"] = (SimpleUploadedFile(f"IMG_{index}.jpg", value, "image/jpeg")
                                               if key == "photo" else value)
    return data


def test_slides_slide_by_slide_become_the_slides_syntax_with_their_pictures(portal):
    from producers.content.slidesmd import parse_deck
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "slides", {"title": "Trình chiếu", "video": "on", **rows("slides", [
        {"title": "Mở đầu", "points": "Ý một\n---\nÝ ba", "photo": support.jpeg(), "notes": "Nói phần mở đầu.\n---"},
        {"title": "Kết luận", "points": "Ý cuối"}])})
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    assert "Ý một\n---\nÝ ba" in page and "Kết luận" in page and "<img" in page   # the rows come back as typed
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    record = session_of(portal, "ha-long-ve-sinh").products[0]
    assert record.kind == "slides" and record.product.video is True
    deck = parse_deck(record.body, record.body_line)
    assert deck.problems == []
    assert [s.title for s in deck.slides] == ["Mở đầu", "Kết luận"]           # a '---' typed in a field splits nothing
    assert ["".join(span.text for span in item.spans) for item in deck.slides[0].columns[0]] == ["Ý một", "---", "Ý ba"]
    assert deck.slides[0].notes.startswith("Nói phần mở đầu.")
    picture = deck.slides[0].image.path
    assert re.fullmatch(r"media/p1-[0-9]+\.jpg", picture)
    assert (portal.content / "sessions" / "2025-q1" / "ha-long-ve-sinh-khu-pho" / picture).is_file()


def test_a_video_storyboard_becomes_scenes_and_a_scene_without_time_is_told_beside_its_row(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "video", {"title": "Video", **rows("scenes", [
        {"photo": support.jpeg((10, 200, 10)), "caption": "Cảnh một", "narration": "Chúng tôi dọn phố."},
        {"photo": support.jpeg((10, 10, 200)), "caption": "Cảnh hai"}])})
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    first, second = page.split('class="card photo"')[1:3]
    assert "needs a duration" in second and "needs a duration" not in first     # beside the second scene
    assert 'id="submit"' not in client.get(reverse("portal:draft", args=[draft.pk])).content.decode()
    scenes = Product.objects.get(draft=draft).data["scenes"]
    response = client.post(reverse("portal:product", args=[draft.pk, 1]), {
        "title": "Video", "scenes-TOTAL_FORMS": "2", "scenes-INITIAL_FORMS": "2", "scenes-MIN_NUM_FORMS": "0",
        "scenes-MAX_NUM_FORMS": "60", "scenes-0-ref": "0", "scenes-0-caption": "Cảnh một",
        "scenes-0-narration": "Chúng tôi dọn phố.", "scenes-1-ref": "1", "scenes-1-caption": "Cảnh hai",
        "scenes-1-duration": "3"})
    assert response.status_code == 302
    assert [s["file"] for s in Product.objects.get(draft=draft).data["scenes"]] == [s["file"] for s in scenes]
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    video = session_of(portal, "ha-long-ve-sinh").products[0].product
    assert [(s.caption, s.narration, s.duration) for s in video.scenes] == [
        ("Cảnh một", "Chúng tôi dọn phố.", None), ("Cảnh hai", "", 3.0)]
    assert all(re.fullmatch(r"media/p1-[0-9]+\.jpg", s.image) for s in video.scenes)


# --- editors ------------------------------------------------------------------------------------

def submitted(portal, title: str = "Vệ sinh khu phố", cell: str = "ha-long") -> str:
    client = client_for(portal, "secretary", cell)
    draft = new_draft(client, title=title)
    add_product(client, draft, "article", {"title": "Bài viết", "text": "Nội dung."})
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == "submitted"
    return draft.session_id


def test_an_editor_sends_back_with_a_reason_the_cell_reads(portal):
    ref = submitted(portal)
    editor = client_for(portal, "editor")
    queue = editor.get(reverse("portal:queue")).content.decode()
    assert ref in queue
    assert editor.post(reverse("portal:reject", args=[ref]), {"reason": ""}).status_code == 302
    assert session_of(portal, "ha-long-ve-sinh").session.status == "submitted"     # no reason, no rejection
    editor.post(reverse("portal:reject", args=[ref]), {"reason": "Thiếu ảnh <b>minh hoạ</b>"})
    record = session_of(portal, "ha-long-ve-sinh")
    assert record.session.status == "rejected" and record.session.history[-1].reason == "Thiếu ảnh <b>minh hoạ</b>"
    page = client_for(portal, "member").get(reverse("portal:cell")).content.decode()
    assert "Thiếu ảnh &lt;b&gt;minh hoạ&lt;/b&gt;" in page          # the reason, escaped
    assert AuditEntry.objects.filter(action="reject", target=ref, username="editor").exists()


def test_a_revision_stands_beside_the_live_session_file_by_file(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "article", {"title": "Bài viết", "text": "Dòng một.\n\nDòng <hai>."})
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    client.post(reverse("portal:product", args=[draft.pk, 1]), {"title": "Bài viết", "text": "Dòng một.\n\nDòng <ba>."})
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    page = client_for(portal, "editor").get(reverse("portal:review", args=["2025-q1/ha-long-ve-sinh-khu-pho@rev-2"])).content.decode()
    diff = page[page.index('id="diff"'):]
    table = diff[:diff.index("</table>")]
    assert "01-article.md" in diff and table.count("Dòng&nbsp;&lt;") == 2     # the line on both sides, escaped
    assert 'class="diff_chg"' in table
    assert "<ba>" not in page and "<hai>" not in page
    # the revision's preview is built as the session it would replace
    editor = client_for(portal, "editor")
    editor.post(reverse("portal:review_preview", args=["2025-q1/ha-long-ve-sinh-khu-pho@rev-2"]))
    previews.wait_all()
    built = portal.tmp / "data" / "previews" / "review-2025-q1-ha-long-ve-sinh-khu-pho-rev-2" / "site"
    assert previews.status("review-2025-q1-ha-long-ve-sinh-khu-pho-rev-2")["state"] == "done"
    assert any(p.parts[-3:-1] == ("2025-q1", "ha-long-ve-sinh-khu-pho") for p in (built / "sessions").rglob("*.html"))


def test_the_secretary_and_the_editor_see_the_session_built_as_it_will_be_published(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "article", {"title": "Bài viết xem trước", "text": "Nội dung **đậm**."})
    page = client.get(reverse("portal:draft_preview", args=[draft.pk])).content.decode()
    assert 'id="build-preview"' in page and 'id="preview-site"' not in page
    assert client.post(reverse("portal:draft_preview", args=[draft.pk])).status_code == 302
    page = client.get(reverse("portal:draft_preview", args=[draft.pk])).content.decode()
    assert 'http-equiv="refresh"' in page or 'id="preview-site"' in page        # building, or already built
    previews.wait_all()
    page = client.get(reverse("portal:draft_preview", args=[draft.pk])).content.decode()
    assert 'id="preview-site"' in page, page
    index = client.get(reverse("portal:draft_preview_site", args=[draft.pk, ""]))
    pages = [p for p in (portal.tmp / "data" / "previews" / f"draft-{draft.pk}" / "site").rglob("*.html")
             if "<strong>đậm</strong>" in p.read_text(encoding="utf-8")]
    assert index.status_code == 200 and pages
    article = pages[0].relative_to(portal.tmp / "data" / "previews" / f"draft-{draft.pk}" / "site").as_posix()
    served = b"".join(client.get(reverse("portal:draft_preview_site", args=[draft.pk, article])).streaming_content)
    assert "<strong>đậm</strong>" in served.decode()
    escape = client.get(reverse("portal:draft_preview_site", args=[draft.pk, "../../secret-key"]))
    assert escape.status_code == 302                      # not a built file: back to the preview's page
    assert client_for(portal, "secretary", "varanasi").get(
        reverse("portal:draft_preview_site", args=[draft.pk, article])).status_code == 404
    # the editor's preview of the submitted session: the same build, from content/
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    editor = client_for(portal, "editor")
    ref = "2025-q1/ha-long-ve-sinh-khu-pho"
    assert 'id="preview"' in editor.get(reverse("portal:review", args=[ref])).content.decode()
    editor.post(reverse("portal:review_preview", args=[ref]))
    previews.wait_all()
    assert 'id="preview-site"' in editor.get(reverse("portal:review_preview", args=[ref])).content.decode()
    served = b"".join(editor.get(reverse("portal:review_preview_site", args=[ref, article])).streaming_content)
    assert "<strong>đậm</strong>" in served.decode()


def test_editors_download_the_evaluation_report_as_csv_and_json(portal):
    submitted(portal)
    editor = client_for(portal, "editor")
    assert 'id="report-csv"' in editor.get(reverse("portal:queue")).content.decode()
    response = editor.get(reverse("portal:report", args=["csv"]), {"year": "2025", "quarter": "1"})
    assert response["Content-Type"].startswith("text/csv") and 'filename="report-2025-q1.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert any("ha-long" in " ".join(map(str, row.values())) for row in rows)
    data = json.loads(editor.get(reverse("portal:report", args=["json"])).content)
    assert "ha-long" in json.dumps(data)
    # a bundle of a session not built yet: told so on the review page, no zip
    response = editor.get(reverse("portal:bundle", args=["2025-q1/ha-long-ve-sinh-khu-pho"]), follow=True)
    assert response.status_code == 200 and "cell35 build" in response.content.decode()


def publish_and_wait(editor: Client, ref: str):
    response = editor.post(reverse("portal:publish", args=[ref]))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("portal:publish_status")
    previews.wait_all()
    return editor.get(reverse("portal:publish_status"))


def test_approve_then_publish_builds_the_public_site_in_the_background(portal):
    ref = submitted(portal)
    editor = client_for(portal, "editor")
    editor.post(reverse("portal:approve", args=[ref]))
    assert session_of(portal, "ha-long-ve-sinh").session.status == "approved"
    response = publish_and_wait(editor, ref)
    page = response.content.decode()
    assert response.status_code == 200 and 'id="publish-done"' in page and 'http-equiv="refresh"' not in page
    assert session_of(portal, "ha-long-ve-sinh").session.status == "published"
    pages = [p.read_text(encoding="utf-8") for p in (portal.tmp / "site").rglob("*.html")]
    assert any("Vệ sinh khu phố" in page for page in pages)
    status = editor.get(reverse("portal:publish_status_json")).json()
    assert status["state"] == "done" and status["ref"] == ref and status["total"] > 0 \
        and status["done"] == status["total"]          # the render jobs, counted as they finished
    entries = list(AuditEntry.objects.filter(target=ref).order_by("at", "id"))
    assert [e.action for e in entries] == ["submit", "approve", "publish", "build"]
    assert entries[-1].username == "editor" and entries[-1].detail.startswith("done in ")
    # the chat-group bundle of the published session, from the built site
    assert 'id="bundle"' in editor.get(reverse("portal:review", args=[ref])).content.decode()
    page = editor.get(reverse("portal:bundle", args=[ref])).content.decode()
    assert "?part=1" in page and "?part=2" not in page
    response = editor.get(reverse("portal:bundle", args=[ref]), {"part": "1"})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as bundle:
        assert bundle.namelist() and bundle.testzip() is None
    assert editor.get(reverse("portal:bundle", args=[ref]), {"part": "2"}).status_code == 404


def test_a_failed_build_shows_its_report_and_is_audited(portal):
    ref = submitted(portal)
    editor = client_for(portal, "editor")
    editor.post(reverse("portal:approve", args=[ref]))
    # a site.yml the build refuses (the checker accepts it: only the build validates the logo file)
    (portal.content / "site.yml").write_text("title: Demo\nbase_url: https://example.org/\nlanguage: en\n"
                                             "logo: media/missing-logo.png\n", encoding="utf-8")
    response = publish_and_wait(editor, ref)
    page = response.content.decode()
    assert response.status_code == 500 and 'id="build-report"' in page and "missing-logo" in page
    assert 'id="rebuild"' in page
    entry = AuditEntry.objects.get(action="build")
    assert entry.target == ref and entry.detail.startswith("failed") and "missing-logo" in entry.detail
    editor.get(reverse("portal:publish_status"))
    assert AuditEntry.objects.filter(action="build").count() == 1        # recorded once


def stale_status(root, **fields) -> None:
    """A status file as a portal killed mid-build leaves it: "building", owned by a process now gone."""
    import subprocess
    import sys
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / "status.json").write_text(json.dumps({"state": "building", "started": 1.0, "done": 3, "total": 9,
                                                  "owner": {"pid": int(gone.stdout), "since": "1"}, **fields}))


def test_a_publish_cut_by_a_restart_reads_interrupted_and_builds_again(portal):
    stale_status(portal.tmp / "data" / "publish", by="editor", ref="")
    editor = client_for(portal, "editor")
    page = editor.get(reverse("portal:publish_status")).content.decode()
    assert 'id="publish-interrupted"' in page and 'id="rebuild"' in page and 'http-equiv="refresh"' not in page
    assert editor.get(reverse("portal:publish_status_json")).json()["state"] == "interrupted"
    assert editor.post(reverse("portal:publish_status")).status_code == 302
    previews.wait_all()
    assert editor.get(reverse("portal:publish_status_json")).json()["state"] == "done"
    assert AuditEntry.objects.filter(action="rebuild", username="editor").exists()


def test_a_preview_cut_by_a_restart_reads_interrupted_with_a_button(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    stale_status(portal.tmp / "data" / "previews" / f"draft-{draft.pk}")
    page = client.get(reverse("portal:draft_preview", args=[draft.pk])).content.decode()
    assert 'id="preview-interrupted"' in page and 'id="build-preview"' in page and 'http-equiv="refresh"' not in page


def test_a_second_publish_is_refused_while_a_build_runs(portal):
    ref = submitted(portal)
    editor = client_for(portal, "editor")
    editor.post(reverse("portal:approve", args=[ref]))
    # a build owned by this very process, still running: the portal's own (live) status
    root = portal.tmp / "data" / "publish"
    stale_status(root)
    status = json.loads((root / "status.json").read_text())
    status["owner"] = previews._owner()
    (root / "status.json").write_text(json.dumps(status))
    import threading
    hold = threading.Event()
    runner = threading.Thread(target=hold.wait)
    previews._running[str(root)] = runner
    runner.start()
    try:
        page = editor.post(reverse("portal:publish", args=[ref]), follow=True).content.decode()
        assert "A site build is running" in page
        assert session_of(portal, "ha-long-ve-sinh").session.status == "approved"       # nothing published
        assert 'id="publish-progress"' in editor.get(reverse("portal:publish_status")).content.decode()
    finally:
        hold.set()
        runner.join()
    assert editor.get(reverse("portal:publish_status_json")).json()["state"] == "interrupted"


# --- invitations, log-in, throttling, cookies, CSRF ---------------------------------------------

def test_an_invitation_code_makes_a_secretary_once(portal):
    editor = client_for(portal, "editor")
    page = editor.post(reverse("portal:invite"), {"role": "secretary", "cell": "varanasi"}).content.decode()
    code = re.search(r'id="code"[^>]*>([A-Z0-9-]+)<', page).group(1)
    assert Invitation.objects.get().code_hash != code                 # only its hash is kept
    fresh = Client()
    form = {"code": code.lower(), "username": "new-secretary", "password1": support.PASSWORD,
            "password2": support.PASSWORD}
    assert fresh.post(reverse("portal:join"), form, follow=True).redirect_chain[-1][0] == reverse("portal:cell")
    user = Invitation.objects.get().used_by
    assert (user.username, user.membership.role, user.membership.cell) == ("new-secretary", "secretary", "varanasi")
    again = Client().post(reverse("portal:join"), {**form, "username": "someone-else"})
    assert again.status_code == 200 and "already used" in again.content.decode()
    assert [e.action for e in AuditEntry.objects.order_by("at", "id")][-3:] == ["invite", "join", "login"]


def join_with(page: str, username: str):
    code = re.search(r'id="code"[^>]*>([A-Z0-9-]+)<', page).group(1)
    fresh = Client()
    response = fresh.post(reverse("portal:join"), {"code": code, "username": username, "password1": support.PASSWORD,
                                                   "password2": support.PASSWORD}, follow=True)
    user = Invitation.objects.get(used_by__username=username).used_by
    return response, (user.membership.role, user.membership.cell)


def test_an_editor_invites_a_member_or_a_secretary_and_only_an_admin_an_editor(portal):
    editor = client_for(portal, "editor")
    page = editor.get(reverse("portal:invite")).content.decode()
    assert 'value="member"' in page and 'value="secretary"' in page and 'value="editor"' not in page
    response, membership = join_with(editor.post(reverse("portal:invite"), {"role": "member", "cell": "ha-long"})
                                     .content.decode(), "new-member")
    assert membership == ("member", "ha-long") and response.redirect_chain[-1][0] == reverse("portal:cell")
    # an editor cannot make an editor, and a member needs a cell: told beside the field, no code made
    before = Invitation.objects.count()
    page = editor.post(reverse("portal:invite"), {"role": "editor", "cell": ""}).content.decode()
    assert 'id="code"' not in page and "editor is not one of the available choices" in page
    page = editor.post(reverse("portal:invite"), {"role": "member", "cell": ""}).content.decode()
    assert 'id="code"' not in page and "Choose the cell" in page[page.index('id="field-cell"'):]
    assert Invitation.objects.count() == before
    admin = client_for(portal, "admin")
    assert 'value="editor"' in admin.get(reverse("portal:invite")).content.decode()
    response, membership = join_with(admin.post(reverse("portal:invite"), {"role": "editor", "cell": "ha-long"})
                                     .content.decode(), "new-editor")
    assert membership == ("editor", "") and response.redirect_chain[-1][0] == reverse("portal:queue")
    assert AuditEntry.objects.filter(action="invite", username="admin", detail__startswith="editor").exists()


def test_five_wrong_passwords_lock_the_login_even_with_the_right_one(portal):
    client = Client()
    login = reverse("portal:login")
    for _ in range(4):
        assert client.post(login, {"username": "editor", "password": "wrong"}).status_code == 200
    assert client.post(login, {"username": "editor", "password": "wrong"}).status_code == 429
    assert "15" in client.post(login, {"username": "editor", "password": "wrong"}).content.decode()
    response = client.post(login, {"username": "editor", "password": support.PASSWORD})
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login-failed", username="editor").count() >= 5
    other = Client().post(login, {"username": "admin", "password": support.PASSWORD})
    assert other.status_code == 302                                   # only that user name is locked


def test_log_in_sets_secure_http_only_cookies_that_expire(portal):
    client = Client()
    response = client.post(reverse("portal:login"), {"username": "editor", "password": support.PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert 0 < int(cookie["max-age"]) <= 8 * 3600
    assert AuditEntry.objects.filter(action="login", username="editor").exists()


def test_an_expired_session_logs_out(portal):
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    client = Client()
    client.post(reverse("portal:login"), {"username": "editor", "password": support.PASSWORD})
    assert client.get(reverse("portal:queue")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    response = client.get(reverse("portal:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_every_state_change_needs_the_csrf_token(portal):
    ref = submitted(portal)
    secretary = Client(enforce_csrf_checks=True)
    secretary.force_login(portal.users[("secretary", "ha-long")])
    draft = Draft.objects.get()
    editor = Client(enforce_csrf_checks=True)
    editor.force_login(portal.users[("editor", None)])
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(portal.users[("admin", None)])
    for client, url, data in [
            (secretary, reverse("portal:draft_new"), SESSION),
            (secretary, reverse("portal:draft", args=[draft.pk]), SESSION),
            (secretary, reverse("portal:product_new", args=[draft.pk]), {"kind": "article"}),
            (secretary, reverse("portal:product", args=[draft.pk, 1]), {"title": "x", "text": "y"}),
            (secretary, reverse("portal:product_delete", args=[draft.pk, 1]), {}),
            (secretary, reverse("portal:draft_submit", args=[draft.pk]), {}),
            (editor, reverse("portal:approve", args=[ref]), {}),
            (editor, reverse("portal:reject", args=[ref]), {"reason": "no"}),
            (editor, reverse("portal:publish", args=[ref]), {}),
            (editor, reverse("portal:invite"), {"role": "member", "cell": "ha-long"}),
            (editor, reverse("portal:publish_status"), {}),
            (admin, reverse("portal:cells"), NEW_CELL),
            (admin, reverse("portal:cell_edit", args=["ha-long"]), NEW_CELL),
            (admin, reverse("portal:cell_delete", args=["varanasi"]), {}),
            (secretary, reverse("portal:draft_preview", args=[draft.pk]), {}),
            (editor, reverse("portal:review_preview", args=[ref]), {}),
            (Client(enforce_csrf_checks=True), reverse("portal:login"), {"username": "editor", "password": support.PASSWORD}),
            (Client(enforce_csrf_checks=True), reverse("portal:join"), {"code": "X"}),
            (editor, reverse("portal:logout"), {}),
            (editor, reverse("portal:language"), {"lang": "hi"})]:
        assert client.post(url, data).status_code == 403, url
    assert session_of(portal, "ha-long-ve-sinh").session.status == "submitted"
    assert Invitation.objects.count() == 0 and Draft.objects.count() == 1


def test_uploads_beyond_the_submission_cap_are_stopped(portal):
    (portal.content / "site.yml").write_text("title: Demo\nbase_url: https://example.org/\nlanguage: en\n"
                                             "intake: {max_submission_bytes: 5000}\n", encoding="utf-8")
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    client.post(reverse("portal:product_new", args=[draft.pk]), {"kind": "photo-series"})
    big = support.jpeg(size=(400, 400)) + b"\x00" * 6000
    response = client.post(reverse("portal:product", args=[draft.pk, 1]), {"title": "Ảnh", **photo_rows([(big, "x")])},
                           follow=True)
    assert "5,000" in response.content.decode()
    assert not list((portal.tmp / "drafts").rglob("*.jpg"))


def test_no_typed_text_becomes_a_path(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client, title="../../etc/passwd")
    rows = photo_rows([(support.jpeg(), "x")])
    rows["photos-0-photo"] = SimpleUploadedFile("../../../evil.sh", support.jpeg(), "image/jpeg")
    add_product(client, draft, "photo-series", {"title": "Ảnh", **rows})
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.session_id == "2025-q1/ha-long-etc-passwd"
    files = sorted(p.relative_to(portal.content).as_posix() for p in portal.content.rglob("*") if p.is_file())
    assert [f for f in files if f.startswith("sessions/")] == [
        "sessions/2025-q1/ha-long-etc-passwd/01-photo-series.md",
        f"sessions/2025-q1/ha-long-etc-passwd/{Product.objects.get().data['photos'][0]['file']}",
        "sessions/2025-q1/ha-long-etc-passwd/session.md"]
    assert "evil" not in " ".join(files)


# --- cells, kept by admins -----------------------------------------------------------------------

def test_an_admin_adds_and_renames_cells_in_cells_yml_checked_by_the_loader(portal):
    from producers.content.loader import load_site
    admin = client_for(portal, "admin")
    cells_yml = portal.content / "cells.yml"
    # an editor's comment, and the other cells as written: an admin's change to one cell keeps them
    untouched = [line for line in cells_yml.read_text(encoding="utf-8").splitlines() if "ha-long" not in line]
    cells_yml.write_text(cells_yml.read_text(encoding="utf-8").replace("- {id: varanasi",
                                                                       "# Varanasi joined in 2024\n- {id: varanasi"))
    untouched.insert(untouched.index(next(line for line in untouched if "varanasi" in line)), "# Varanasi joined in 2024")
    before = cells_yml.read_text(encoding="utf-8")
    response = admin.post(reverse("portal:cells"), {**NEW_CELL, "id": "Tây Hồ/../x"})
    page = response.content.decode()
    field = page[page.index('id="field-id"'):]
    assert response.status_code == 400 and "expected lowercase letters, digits and single hyphens" in field[:field.index("</div>")]
    response = admin.post(reverse("portal:cells"), {**NEW_CELL, "id": "varanasi"})
    assert response.status_code == 400 and "declared twice" in response.content.decode()
    assert cells_yml.read_text(encoding="utf-8") == before            # nothing written
    assert admin.post(reverse("portal:cells"), NEW_CELL).status_code == 302
    assert admin.post(reverse("portal:cell_edit", args=["ha-long"]),
                      {**NEW_CELL, "id": "ignored", "name": "Chi bộ mới đổi tên", "language": "en"}).status_code == 302
    site, cells, problems = load_site(portal.content)
    assert not problems and cells["tay-ho"].name == "Chi bộ Tây Hồ" and cells["tay-ho"].language == "vi"
    kept = cells_yml.read_text(encoding="utf-8").splitlines()
    assert [line for line in kept if line in untouched] == untouched
    assert cells["ha-long"].name == "Chi bộ mới đổi tên" and "ignored" not in cells     # the id stays
    assert 'href="/portal/cells/tay-ho/"' in admin.get(reverse("portal:cells")).content.decode()
    assert [e.detail for e in AuditEntry.objects.filter(action="cell").order_by("id")] == ["added", "changed"]
    # a cell with accounts (or sessions, drafts) is kept; a new, empty one may go
    assert 'id="remove-cell"' not in admin.get(reverse("portal:cell_edit", args=["ha-long"])).content.decode()
    admin.post(reverse("portal:cell_delete", args=["ha-long"]))
    assert "ha-long" in load_site(portal.content)[1]
    assert 'id="remove-cell"' in admin.get(reverse("portal:cell_edit", args=["tay-ho"])).content.decode()
    admin.post(reverse("portal:cell_delete", args=["tay-ho"]))
    assert "tay-ho" not in load_site(portal.content)[1]
    assert admin.get(reverse("portal:cell_edit", args=["tay-ho"])).status_code == 404


def test_two_admins_adding_cells_at_once_both_land(portal):
    names = [f"tay-ho-{n}" for n in range(4)]
    errors = []

    def add(cell_id):
        errors.append(content.save_cell({**NEW_CELL, "id": cell_id}))

    threads = [threading.Thread(target=add, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [{}] * 4
    from producers.content.loader import load_site
    assert set(names) <= set(load_site(portal.content)[1])


def test_a_cell_edit_while_content_is_busy_says_so_and_writes_nothing(portal, monkeypatch):
    context = multiprocessing.get_context("fork")
    ready, done = context.Event(), context.Event()
    holder = context.Process(target=_hold_content, args=(portal.content, ready, done))
    holder.start()
    try:
        assert ready.wait(10)
        monkeypatch.setattr(writelock, "WAIT_SECONDS", 0.2)
        before = (portal.content / "cells.yml").read_text(encoding="utf-8")
        response = client_for(portal, "admin").post(reverse("portal:cells"), NEW_CELL)
        assert response.status_code == 400
        assert f"is being changed by process {holder.pid}" in response.content.decode()
        assert (portal.content / "cells.yml").read_text(encoding="utf-8") == before
    finally:
        done.set()
        holder.join(10)


def _hold_content(content_root, ready, done):
    with writelock.content_write_lock(content_root):
        ready.set()
        done.wait(30)


# --- the authorisation matrix -------------------------------------------------------------------

CELL_ROLES, EDITORS = {"member", "secretary"}, {"editor", "admin"}
NEW_CELL = {"id": "tay-ho", "name": "Chi bộ Tây Hồ", "committee": "Quận ủy Tây Hồ", "area": "Hà Nội", "language": "vi"}
RULES = {
    "cell": lambda role, own: role in CELL_ROLES,                   # the user's own cell page
    "secretary": lambda role, own: role == "secretary",             # a new draft for the own cell
    "read": lambda role, own: role in EDITORS or (role in CELL_ROLES and own),
    "write": lambda role, own: role == "secretary" and own,
    "editor": lambda role, own: role in EDITORS,
    "admin": lambda role, own: role == "admin",
}
# (url name, method, arguments from the target, rule, data). State changes that would run a build or
# change what later rows see come last; every denied request is checked before any allowed one runs.
MATRIX = [
    ("portal:cell", "get", lambda t: [], "cell", None),
    ("portal:draft_new", "get", lambda t: [], "secretary", None),
    ("portal:draft_new", "post", lambda t: [], "secretary", SESSION),
    ("portal:draft", "get", lambda t: [t.draft], "read", None),
    ("portal:draft", "post", lambda t: [t.draft], "write", SESSION),
    ("portal:product", "get", lambda t: [t.draft, 1], "read", None),
    ("portal:product", "post", lambda t: [t.draft, 1], "write", {"title": "x", "text": "y"}),
    ("portal:draft_media", "get", lambda t: [t.draft, t.media], "read", None),
    ("portal:product_new", "post", lambda t: [t.draft], "write", {"kind": "article"}),
    ("portal:product_delete", "post", lambda t: [t.draft, 2], "write", {}),
    ("portal:draft_submit", "post", lambda t: [t.draft], "write", {}),
    ("portal:preview", "post", lambda t: [], "secretary", {"text": "*x*"}),
    ("portal:social_count", "post", lambda t: [], "secretary", {"text": "x", "platforms": ["x"]}),
    ("portal:uploads", "post", lambda t: [], "secretary", {}),         # allowed: 400, no Upload-Length
    ("portal:upload", "head", lambda t: [t.upload], "write", None),
    ("portal:queue", "get", lambda t: [], "editor", None),
    ("portal:review", "get", lambda t: [t.ref], "editor", None),
    ("portal:review_media", "get", lambda t: [t.ref, "photo.jpg"], "editor", None),
    ("portal:invite", "get", lambda t: [], "editor", None),
    ("portal:invite", "post", lambda t: [], "editor", {"role": "member", "cell": "ha-long"}),
    ("portal:audit", "get", lambda t: [], "editor", None),
    ("portal:report", "get", lambda t: ["csv"], "editor", None),
    ("portal:report", "get", lambda t: ["json"], "editor", None),
    ("portal:bundle", "get", lambda t: [t.ref], "editor", None),       # not built: back to the review page
    ("portal:draft_preview", "get", lambda t: [t.draft], "read", None),
    ("portal:draft_preview_site", "get", lambda t: [t.draft, "index.html"], "read", None),   # not built: 302
    ("portal:review_preview", "get", lambda t: [t.ref], "editor", None),
    ("portal:review_preview_site", "get", lambda t: [t.ref, "index.html"], "editor", None),
    ("portal:draft_preview", "post", lambda t: [t.draft], "write", {}),
    ("portal:review_preview", "post", lambda t: [t.ref], "editor", {}),
    ("portal:publish_status", "get", lambda t: [], "editor", None),
    ("portal:publish_status_json", "get", lambda t: [], "editor", None),
    ("portal:publish", "post", lambda t: [t.ref], "editor", {}),       # still submitted: refused, no build
    ("portal:cells", "get", lambda t: [], "admin", None),
    ("portal:cell_edit", "get", lambda t: ["ha-long"], "admin", None),
    ("portal:cells", "post", lambda t: [], "admin", NEW_CELL),          # the second time: the id is taken, 400
    ("portal:cell_edit", "post", lambda t: ["ha-long"], "admin", {**NEW_CELL, "name": "Renamed"}),
    ("portal:cell_delete", "post", lambda t: ["ha-long"], "admin", {}),  # has accounts: kept, 302
    ("portal:publish_status", "post", lambda t: [], "editor", {}),     # builds the site again
    ("portal:reject", "post", lambda t: [t.ref], "editor", {"reason": "not yet"}),
    ("portal:approve", "post", lambda t: [t.ref], "editor", {}),
]


def _targets(portal) -> dict[str, SimpleNamespace]:
    from editorial_support import write_session
    found = {}
    for cell in ("ha-long", "varanasi"):
        draft = Draft.objects.create(cell=cell, created_by=portal.users[("secretary", cell)],
                                     session={**SESSION, "title": f"Draft of {cell}"})
        Product.objects.create(draft=draft, position=1, kind="article", data={"title": "a", "text": "b"})
        media = portal.tmp / "drafts" / str(draft.pk) / "media"
        media.mkdir(parents=True)
        (media / "p1-photo.jpg").write_bytes(support.jpeg())
        folder = write_session(portal.content, "2025-q1", f"{cell}-matrix", cell, "2025-02-01", status="submitted")
        (folder / "media").mkdir()
        (folder / "media" / "photo.jpg").write_bytes(support.jpeg())
        upload = Upload.objects.create(user=portal.users[("secretary", cell)], length=10)
        (portal.tmp / "data" / "uploads").mkdir(parents=True, exist_ok=True)
        (portal.tmp / "data" / "uploads" / f"{upload.pk.hex}.part").write_bytes(b"12345")
        found[cell] = SimpleNamespace(draft=draft.pk, media="p1-photo.jpg", ref=f"2025-q1/{cell}-matrix",
                                      upload=upload.pk)
    return found


def _snapshot(portal):
    from editorial_support import tree_snapshot
    return (tree_snapshot(portal.content), list(Draft.objects.values_list("pk", "session", "status")),
            list(Product.objects.values_list("pk", "data")), Invitation.objects.count())


def test_every_url_for_every_role_and_cell(portal):
    targets = _targets(portal)
    cases = []
    for name, method, args, rule, data in MATRIX:
        for role in ("member", "secretary", "editor", "admin"):
            for own in (True, False):
                target = targets["ha-long" if own else "varanasi"]
                cases.append((RULES[rule](role, own), name, method, reverse(name, args=args(target)), role, own, data))
    before = _snapshot(portal)
    wrong = []
    for allowed, name, method, url, role, own, data in sorted(cases, key=lambda c: c[0]):   # denied first
        client = client_for(portal, role)
        response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        denied = response.status_code in (403, 404)
        if allowed and response.status_code >= 500:
            wrong.append(f"{role} {'own' if own else 'other'} {method.upper()} {url}: {response.status_code}")
        if allowed == denied:
            wrong.append(f"{role} {'own' if own else 'other'} {method.upper()} {url}: {response.status_code}")
        if not allowed and _snapshot(portal) != before:
            wrong.append(f"{role} {'own' if own else 'other'} {method.upper()} {url}: changed something")
            before = _snapshot(portal)
        anonymous = getattr(Client(), method)(url, data or {}) if method != "head" else Client().head(url)
        if anonymous.status_code != 302 or "/portal/login/" not in anonymous["Location"]:
            wrong.append(f"anonymous {method.upper()} {url}: {anonymous.status_code}")
    assert not wrong, "\n".join(wrong)
    assert len(cases) == len(MATRIX) * 8


# --- podcasts -----------------------------------------------------------------------------------

def test_a_podcast_upload_and_a_browser_recording_are_kept_as_audio_the_podcast_takes(portal, tmp_path):
    import subprocess
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    wav_upload = SimpleUploadedFile("voice-memo", support.wav(), "application/octet-stream")
    add_product(client, draft, "podcast", {"title": "Tập 1", "audio": wav_upload})
    assert Product.objects.get(draft=draft).data["audio"] == "media/p1-audio.wav"
    # what Chromium's MediaRecorder sends: Opus in WebM
    webm = tmp_path / "recording.webm"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5",
                    "-c:a", "libopus", str(webm)], check=True)
    recorded = SimpleUploadedFile("recording.webm", webm.read_bytes(), "audio/webm")
    client.post(reverse("portal:product", args=[draft.pk, 1]), {"title": "Tập 1", "audio": recorded})
    assert Product.objects.get(draft=draft).data["audio"] == "media/p1-audio.ogg"
    assert sorted(p.name for p in (portal.tmp / "drafts" / str(draft.pk) / "media").iterdir()) == ["p1-audio.ogg"]
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    record = session_of(portal, "ha-long-ve-sinh")
    assert record.products[0].product.audio == "media/p1-audio.ogg"
    assert (record.dir / "media" / "p1-audio.ogg").read_bytes()[:4] == b"OggS"


def test_abandoned_unfinished_uploads_are_dropped_after_two_days(portal):
    from django.utils import timezone
    secretary = portal.users[("secretary", "ha-long")]
    old = Upload.objects.create(user=secretary, length=90_000_000,
                                created_at=timezone.now() - timezone.timedelta(days=3))
    uploads = portal.tmp / "data" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / f"{old.pk.hex}.part").write_bytes(b"half")
    client = client_for(portal, "secretary")
    # 90 MB held by the abandoned upload + 20 MB would pass the 100 MB cap; dropped, it fits
    response = client.post(reverse("portal:uploads"), b"", content_type="application/octet-stream",
                           headers={"Tus-Resumable": "1.0.0", "Upload-Length": "20000000"})
    assert response.status_code == 201
    assert not Upload.objects.filter(pk=old.pk).exists() and not (uploads / f"{old.pk.hex}.part").exists()


def test_the_article_preview_is_the_sites_sanitised_html(portal):
    client = client_for(portal, "secretary")
    response = client.post(reverse("portal:preview"), {"text": "**Đậm** <script>alert(1)</script> [x](javascript:alert(1))"})
    html = response.content.decode()
    assert "<strong>Đậm</strong>" in html and "<script" not in html and "javascript:" not in html


def test_a_social_post_is_counted_per_platform_and_filed(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    long_text = "Chi bộ ra quân dọn vệ sinh kênh rạch. " * 10          # 380 characters: over X's 280
    add_product(client, draft, "social-post", {"title": "Bài đăng", "text": long_text, "hashtags": "#VeSinh #HaLong",
                                               "platforms": ["x", "zalo"]})
    counts = client.post(reverse("portal:social_count"), {"text": long_text, "hashtags": "#VeSinh",
                                                          "platforms": ["x", "zalo"]}).json()["counts"]
    assert [(c["platform"], c["limit"], c["cut"]) for c in counts] == [("x", 280, True), ("zalo", 2000, False)]
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    assert "quá dài: sẽ được rút gọn" in page                    # X's row, in the cell's language
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    post = session_of(portal, "ha-long-ve-sinh").products[0].product
    assert post.hashtags == ["#VeSinh", "#HaLong"] and post.platforms == ["x", "zalo"]
