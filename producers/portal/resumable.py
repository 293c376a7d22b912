"""Resumable uploads: the core of the tus protocol (tus.io, version 1.0.0, with its ``creation``
extension), so a photo or a recording cut by a dropped link goes on from the last byte that arrived.

Why tus, and why these few views rather than a package: tus is a published, maintained protocol with
maintained clients (tus-js-client in the browser, tuspy in Python), and a client that speaks it
resumes by itself (it asks HEAD for the offset, then PATCHes from there). The Django server packages
for it are unmaintained (django-tus, last release 2020) or need Django REST framework (drf-tus); the
core protocol is four requests, done here with Django's own request and response objects:

- ``OPTIONS``  what the server speaks (version, extensions, the largest upload);
- ``POST``     a new upload of ``Upload-Length`` bytes (at most the cap per submission), owned by the user;
- ``HEAD``     how many bytes arrived (``Upload-Offset``): the file's size on disk, the only truth;
- ``PATCH``    bytes from ``Upload-Offset`` on, streamed to the file in 64 kB pieces as they arrive:
  a connection that drops keeps every byte written before it dropped.

Only secretaries upload, each only to their own uploads; a finished upload is named in a form
(its id) and then sniffed and kept like any other file (``views._keep``). Files live in the portal's
data folder under their random id; nothing typed by a user becomes part of a path.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from producers.portal import content
from producers.portal.access import role_required
from producers.portal.models import Upload

TUS_VERSION = "1.0.0"
CHUNK = 1 << 16
# An unfinished upload is kept this long for its resumption; then it is dropped (file and row), so
# abandoned halves neither fill the disk nor hold the user's room under the cap.
KEEP_UNFINISHED = timedelta(days=2)


def folder() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def part_path(upload: Upload) -> Path:
    return folder() / f"{upload.pk.hex}.part"


def _response(status: int, **headers) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = str(value)
    return response


def _drop_stale(user) -> None:
    for upload in Upload.objects.filter(user=user, created_at__lt=timezone.now() - KEEP_UNFINISHED):
        part_path(upload).unlink(missing_ok=True)
        upload.delete()


def _pending_bytes(user) -> int:
    _drop_stale(user)
    return sum(Upload.objects.filter(user=user, complete=False).values_list("length", flat=True))


@role_required("secretary")
@require_http_methods(["OPTIONS", "POST"])
def create(request):
    cap = content.limits().max_submission_bytes
    if request.method == "OPTIONS":
        return _response(204, Tus_Version=TUS_VERSION, Tus_Extension="creation", Tus_Max_Size=cap)
    try:
        length = int(request.headers.get("Upload-Length", ""))
    except ValueError:
        return _response(400)
    if length < 1:
        return _response(400)
    # One upload, and all of a user's unfinished ones together, stay within a submission's cap.
    if length > cap or _pending_bytes(request.user) + length > cap:
        return _response(413)
    upload = Upload.objects.create(user=request.user, length=length)
    part_path(upload).touch(mode=0o600, exist_ok=False)
    return _response(201, Location=request.build_absolute_uri(f"{request.path.rstrip('/')}/{upload.pk}/"))


def _own(request, pk: uuid.UUID) -> Upload:
    upload = Upload.objects.filter(pk=pk, user=request.user).first()
    if upload is None:
        raise Http404
    return upload


@role_required("secretary")
@require_http_methods(["HEAD", "PATCH"])
def resume(request, pk: uuid.UUID):
    upload = _own(request, pk)
    path = part_path(upload)
    if request.method == "HEAD":
        return _response(200, Upload_Offset=path.stat().st_size, Upload_Length=upload.length)
    if request.content_type != "application/offset+octet-stream":
        return _response(415)
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        return _response(400)
    with open(path, "r+b") as handle:
        try:
            # One writer at a time: a second PATCH of the same upload (a retry racing the first) waits its turn.
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _response(409)
        size = os.fstat(handle.fileno()).st_size
        if offset != size:
            return _response(409, Upload_Offset=size)
        handle.seek(size)
        room, too_long = upload.length - size, False
        try:
            while room > 0 and (chunk := request.read(min(CHUNK, room + 1))):
                too_long = len(chunk) > room
                handle.write(chunk[:room])
                handle.flush()      # what arrived is on disk before the next piece is read
                room -= min(len(chunk), room)
        except OSError:
            # The client went away mid-body (gunicorn: a short read): keep what arrived, for HEAD to report.
            handle.flush()
            return _response(400, Upload_Offset=handle.tell())
        size = handle.tell()
    if size == upload.length and not upload.complete:
        Upload.objects.filter(pk=upload.pk).update(complete=True)
    return _response(413 if too_long else 204, Upload_Offset=size)


def finished(request, pk: str) -> tuple[Path, int] | None:
    """The file of the user's finished upload ``pk`` (from a form), or None."""
    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        return None
    upload = Upload.objects.filter(pk=key, user=request.user, complete=True).first()
    if upload is None:
        return None
    path = part_path(upload)
    return (path, upload.length) if path.is_file() and path.stat().st_size == upload.length else None


def forget(request, pk: str) -> None:
    """Drop the upload's row once its file was kept (moved) or refused (removed)."""
    Upload.objects.filter(pk=pk, user=request.user).delete()
