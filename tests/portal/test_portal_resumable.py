"""Resumable uploads (tus) against the real server (gunicorn): a PATCH cut halfway by a dropped link
keeps what arrived; the client asks where it stopped and sends the rest; the file is byte-identical,
and a form then keeps it as a photo of the series like a file sent with the form."""

from __future__ import annotations

import io
import os
import random
import re
import time
from urllib.parse import urlencode

import pytest
from PIL import Image

from editorial_support import write_site
from portal_server import Client, running_portal

PASSWORD = "secretary passphrase 42"
USERS = [("sec-ha-long", PASSWORD, "secretary", "ha-long"), ("sec-varanasi", PASSWORD, "secretary", "varanasi"),
         ("member-ha-long", PASSWORD, "member", "ha-long")]


def big_jpeg() -> bytes:
    """A real JPEG of a few megabytes: noise does not compress."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (1400, 1000), bytes(rng.getrandbits(8) for _ in range(1400 * 1000 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    work = tmp_path_factory.mktemp("resumable")
    content = write_site(work / "content")
    with running_portal(work, content, USERS) as (base, _):
        yield base, work


def _part(work, path: str):
    return work / "data" / "uploads" / f"{path.rstrip('/').rsplit('/', 1)[1].replace('-', '')}.part"


def test_an_upload_cut_halfway_resumes_and_is_byte_identical(portal):
    base, work = portal
    data = big_jpeg()
    client = Client(base).login("sec-ha-long", PASSWORD)
    path = client.create_upload(len(data))
    client.patch_cut(path, 0, data, send=len(data) // 2)
    deadline = time.monotonic() + 30
    while (offset := client.offset(path)) < len(data) // 2 and time.monotonic() < deadline:
        time.sleep(0.2)         # the server is still writing what arrived before the drop
    assert offset == len(data) // 2
    assert client.patch(path, offset, data[offset:]) == (204, len(data))
    assert _part(work, path).read_bytes() == data

    # a form names the finished upload: the photo is sniffed and kept, byte for byte
    form = {"title": "Ảnh", "date": "2025-02-10", "group": "build", "present": "5", "members": "9",
            "summary": "Tóm tắt.", "minutes": ""}
    status, headers, _ = client.request("POST", "/portal/drafts/new/", urlencode(form),
                                        {"Content-Type": "application/x-www-form-urlencoded"})
    draft = re.search(r"/drafts/(\d+)/", headers["Location"]).group(1)
    client.request("POST", f"/portal/drafts/{draft}/products/new/", urlencode({"kind": "photo-series"}),
                   {"Content-Type": "application/x-www-form-urlencoded"})
    rows = {"title": "Ảnh", "photos-TOTAL_FORMS": "1", "photos-INITIAL_FORMS": "0", "photos-MIN_NUM_FORMS": "0",
            "photos-MAX_NUM_FORMS": "60", "photos-0-upload": path.rstrip("/").rsplit("/", 1)[1],
            "photos-0-caption": "Ảnh chụp ở bờ suối"}
    status, _, _ = client.request("POST", f"/portal/drafts/{draft}/products/1/", urlencode(rows),
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302
    kept = list((work / "data" / "drafts" / draft / "media").glob("p1-*.jpg"))
    assert len(kept) == 1 and kept[0].read_bytes() == data
    assert not _part(work, path).exists()                      # moved, not copied


def test_the_protocol_refuses_what_it_must(portal):
    base, work = portal
    client = Client(base).login("sec-ha-long", PASSWORD)
    path = client.create_upload(1000)
    assert client.patch(path, 10, b"x" * 10)[0] == 409                     # not where the upload stands
    assert client.patch(path, 0, b"x" * 1001) == (413, 1000)              # more than announced
    other = Client(base).login("sec-varanasi", PASSWORD)
    assert other.request("HEAD", path, None, {"Tus-Resumable": "1.0.0"})[0] == 404
    member = Client(base).login("member-ha-long", PASSWORD)
    assert member.request("POST", "/portal/uploads/", b"", {"Upload-Length": "10"})[0] == 403
    status, _, _ = client.request("POST", "/portal/uploads/", b"", {"Upload-Length": str(200_000_000)})
    assert status == 413                                                  # over the cap per submission
    no_token = Client(base)
    no_token.cookies = {k: v for k, v in client.cookies.items() if k != "csrftoken"}
    assert no_token.request("POST", "/portal/uploads/", b"", {"Upload-Length": "10"})[0] == 403
    status, headers, _ = client.request("OPTIONS", "/portal/uploads/", None, {"Tus-Resumable": "1.0.0"})
    assert headers["Tus-Version"] == "1.0.0" and "creation" in headers["Tus-Extension"]
    assert os.stat(_part(work, path)).st_mode & 0o077 == 0                 # the owner's alone
