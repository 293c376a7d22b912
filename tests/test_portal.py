"""The portal through Django's test client: a secretary's session from form to content/, an editor's
review, the checker's errors beside the fields, uploads sniffed and capped, invitations, throttling,
CSRF, cookie flags, the audit log, and every URL for every role and cell (the authorisation matrix)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

import portal_support as support
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from producers.content.loader import load_content
from producers.portal.models import AuditEntry, Draft, Invitation, Product

SESSION = {"title": "Vệ sinh khu phố", "date": "2025-02-10", "group": "build", "present": "12", "members": "15",
           "summary": "Chi bộ bàn việc vệ sinh.", "minutes": "Biên bản buổi họp."}


@pytest.fixture(scope="module")
def database():
    with support.TestDatabase():
        yield


@pytest.fixture
def portal(database, tmp_path):
    content = support.content_tree(tmp_path / "content")
    with override_settings(CONTENT_DIR=content, DRAFTS_DIR=tmp_path / "drafts", SITE_DIR=tmp_path / "site",
                           CACHE_DIR=tmp_path / "cache", PASSWORD_HASHERS=support.FAST_HASHERS), transaction.atomic():
        users = support.make_users()
        yield SimpleNamespace(content=content, users=users, tmp=tmp_path)
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
