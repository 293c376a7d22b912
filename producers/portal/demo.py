"""Demo accounts for `make run`: made once, their passwords kept (mode 0600) in the data folder so
every later run can print how to log in again."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from producers.portal import content
from producers.portal.models import Invitation, Membership

ACCOUNTS_FILE = "demo-accounts.json"


def _accounts(first_cell: str) -> list[tuple[str, str, str]]:
    return [("admin", "admin", ""), ("editor", "editor", ""), (f"{first_cell}-secretary", "secretary", first_cell),
            (f"{first_cell}-member", "member", first_cell)]


def ensure() -> list[str]:
    """Create the demo accounts when the database has no user; the lines that tell how to log in."""
    path = Path(settings.DATA_DIR) / ACCOUNTS_FILE
    User = get_user_model()
    cells = list(content.cells())
    if not User.objects.exists() and cells:
        made = {}
        for username, role, cell in _accounts(cells[0]):
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(username, password=password, is_staff=role == "admin",
                                            is_superuser=role == "admin")
            Membership.objects.create(user=user, role=role, cell=cell)
            made[username] = {"password": password, "role": role, "cell": cell}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(made, out, indent=1)
    lines = []
    if path.is_file():
        for username, account in json.loads(path.read_text()).items():
            where = f" of cell {account['cell']}" if account["cell"] else ""
            lines.append(f"  {account['role']:<9}{where:<22} user {username!r}  password {account['password']!r}")
    editor = User.objects.filter(membership__role="editor").first()
    if editor is not None and len(cells) > 1:
        _, code = Invitation.issue(cells[1], editor)
        lines.append(f"  a secretary of cell {cells[1]} joins at /portal/join/ with the one-time code {code}")
    return lines
