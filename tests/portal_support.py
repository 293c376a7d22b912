"""The portal under test: Django's own test database set-up (no plugin), a tiny content tree, users
of every role for two cells, and tiny real media (a JPEG from Pillow, a WAV from the wave module)."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import tempfile
import wave
from pathlib import Path

from PIL import Image


def _remove_own_data(folder: str, owner: int) -> None:
    if os.getpid() == owner:      # a forked child inherits this handler, and the folder is not its to remove
        shutil.rmtree(folder, ignore_errors=True)


# Before Django reads its settings: the portal's data folder is a throwaway one, removed at exit
# (unless the caller chose the folder: then it is the caller's).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "producers.portal.settings")
if "CELL35_PORTAL_DATA" not in os.environ:
    os.environ["CELL35_PORTAL_DATA"] = tempfile.mkdtemp(prefix="cell35-portal-test-")
    atexit.register(_remove_own_data, os.environ["CELL35_PORTAL_DATA"], os.getpid())

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from editorial_support import write_site  # noqa: E402
from producers.portal.models import Membership  # noqa: E402

ROLES = ("member", "secretary", "editor", "admin")
PASSWORD = "a long test passphrase 7"
# Django's advice for tests: the real hasher costs ~0.5 s a password, by design.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class TestDatabase:
    """Django's test database (SQLite in memory, or a test_ database on DATABASE_URL's server)."""

    def __enter__(self):
        setup_test_environment()
        self.old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        return self

    def __exit__(self, *exc):
        connection.creation.destroy_test_db(self.old_name, verbosity=0)
        teardown_test_environment()


def content_tree(root: Path) -> Path:
    return write_site(root)


def make_users() -> dict[tuple[str, str | None], object]:
    """(role, cell) -> user: member and secretary of ha-long and of varanasi; an editor; an admin."""
    User = get_user_model()
    users = {}
    for role in ROLES:
        for cell in (("ha-long", "varanasi") if role in ("member", "secretary") else (None,)):
            name = f"{role}-{cell}" if cell else role
            user = User.objects.create_user(name, password=PASSWORD, is_staff=role == "admin",
                                            is_superuser=role == "admin")
            Membership.objects.create(user=user, role=role, cell=cell or "")
            users[(role, cell)] = user
    return users


def jpeg(colour=(200, 30, 30), size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x10" * int(seconds * rate))
    return buffer.getvalue()
