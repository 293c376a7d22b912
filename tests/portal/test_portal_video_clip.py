"""The video form's two ways: a storyboard or a finished clip. A clip is uploaded (sniffed: what the
phone called it does not count), filed as ``clip:`` and checked by the same checker as ``cell35 check``,
whose word appears beside the clip field."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import test_portal as base          # sets Django up (portal_support) and holds the portal's fixtures
from producers.portal.models import Product
from video_support import make_clip

database, portal = base.database, base.portal          # the fixtures, as test_portal.py gives them
add_product, client_for, new_draft, session_of = base.add_product, base.client_for, base.new_draft, base.session_of


def clip_file(tmp: Path, name: str = "VID_0001.mov", **options) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_clip(tmp / "made" / name, **options).read_bytes(), "video/quicktime")


NO_SCENES = {"scenes-TOTAL_FORMS": "0", "scenes-INITIAL_FORMS": "0", "scenes-MIN_NUM_FORMS": "0",
             "scenes-MAX_NUM_FORMS": "60"}


def clip_part(page: str) -> str:
    """The clip field on the product page: its label, input and the messages beside it."""
    return page.split('id="field-clip"', 1)[1].split("</div>", 1)[0]


def edit(client, draft, position: int, data: dict):
    return client.post(reverse("portal:product", args=[draft.pk, position]), data)


def test_the_form_offers_a_storyboard_or_a_finished_clip(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    response = client.post(reverse("portal:product_new", args=[draft.pk]), {"kind": "video"})
    page = client.get(response["Location"]).content.decode()
    assert re.search(r'<input type="radio" name="mode" value="storyboard"[^>]*checked', page)
    assert 'name="mode" value="clip"' in page and "Một đoạn phim đã hoàn chỉnh" in page     # the cell's language
    assert 'type="file" name="clip" accept="video/*"' in page and 'name="clip_upload"' in page
    assert 'id="rows-part"' in page           # the storyboard's rows, hidden by the page while "clip" is chosen


def test_a_finished_clip_is_kept_by_what_it_is_and_filed_as_clip(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "video", {**NO_SCENES, "title": "Phim", "mode": "clip",
                                         "clip": clip_file(portal.tmp, "VID_0001.mov")})
    data = Product.objects.get(draft=draft).data
    assert data["mode"] == "clip" and data["clip"] == "media/p1-clip.mp4"     # MP4/MOV by its bytes
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    kept = page.split('id="clip-part"', 1)[1].split('id="rows-part"', 1)[0]
    assert "<video controls" in kept and "p1-clip.mp4" in kept
    assert 'class="problem"' not in page
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    video = session_of(portal, "ha-long-ve-sinh").products[0].product
    assert video.clip == "media/p1-clip.mp4" and video.scenes is None


def test_a_text_file_named_mp4_is_refused_beside_the_clip_field(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    response = client.post(reverse("portal:product_new", args=[draft.pk]), {"kind": "video"})
    position = int(re.search(r"/products/(\d+)/", response["Location"]).group(1))
    response = edit(client, draft, position, {**NO_SCENES, "title": "Phim", "mode": "clip",
                                              "clip": SimpleUploadedFile("film.mp4", b"not a film\n" * 50)})
    assert response.status_code == 200
    part = clip_part(response.content.decode())
    assert "is not a readable video file: the file contains a text file" in part
    assert not (Product.objects.get(draft=draft).data.get("clip"))


def test_the_checkers_word_on_a_clip_appears_beside_the_field(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "video", {**NO_SCENES, "title": "Phim", "mode": "clip",
                                         "clip": clip_file(portal.tmp, "mute.mp4", sound=False)})
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    assert "has no sound track (found: picture only)" in clip_part(page)
    edit(client, draft, 1, {**NO_SCENES, "title": "Phim", "mode": "clip", "clip": clip_file(portal.tmp, "good.mp4")})
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    assert "sound track" not in page and Product.objects.get(draft=draft).data["clip"] == "media/p1-clip.mp4"


def test_choosing_a_clip_without_a_file_is_told_beside_the_field(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    add_product(client, draft, "video", {**NO_SCENES, "title": "Phim", "mode": "clip"})
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    assert "a video needs either scenes" in clip_part(page) and "found: neither" in clip_part(page)


def field_part(page: str, name: str) -> str:
    return page.split(f'id="field-{name}"', 1)[1].split("</div>", 1)[0]


def test_captions_go_with_the_clip_and_are_checked_beside_their_field(portal):
    client = client_for(portal, "secretary")
    draft = new_draft(client)
    vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\nCây giống bên suối\n".encode()
    add_product(client, draft, "video", {**NO_SCENES, "title": "Phim", "mode": "clip",
                                         "clip": clip_file(portal.tmp, "c.mp4"),
                                         "transcript": SimpleUploadedFile("phu-de.txt", vtt, "text/plain")})
    assert Product.objects.get(draft=draft).data["transcript"] == "media/p1-transcript.vtt"    # by its content
    response = edit(client, draft, 1, {**NO_SCENES, "title": "Phim", "mode": "clip",
                                       "transcript": SimpleUploadedFile("x.srt", b"hello there\n")})
    assert "is not captions: the file contains a text file" in field_part(response.content.decode(), "transcript")
    srt = b"1\n00:00:01,000 --> 00:00:00,500\nBackwards\n"
    edit(client, draft, 1, {**NO_SCENES, "title": "Phim", "mode": "clip",
                            "transcript": SimpleUploadedFile("x.srt", srt)})
    page = client.get(reverse("portal:product", args=[draft.pk, 1])).content.decode()
    assert Product.objects.get(draft=draft).data["transcript"] == "media/p1-transcript.srt"
    assert ("transcript &#x27;media/p1-transcript.srt&#x27; line 2: the cue ends (00:00:00,500) before it starts"
            in field_part(page, "transcript"))
    edit(client, draft, 1, {**NO_SCENES, "title": "Phim", "mode": "clip",
                            "transcript": SimpleUploadedFile("x.vtt", vtt)})
    client.post(reverse("portal:draft_submit", args=[draft.pk]))
    video = session_of(portal, "ha-long-ve-sinh").products[0].product
    assert (video.clip, video.transcript) == ("media/p1-clip.mp4", "media/p1-transcript.vtt")
