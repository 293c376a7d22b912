"""Who may do what (membership and role), how a secretary joins (invitation), what happened (audit),
and the cell's work in progress (draft, product). Submitted sessions themselves are files under
content/; a draft remembers where its submission landed."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

ROLES = [("member", "member"), ("secretary", "secretary"), ("editor", "editor"), ("admin", "admin")]
KINDS = [("article", "article"), ("photo-series", "photo-series"), ("podcast", "podcast"),
         ("social-post", "social-post")]
INVITATION_DAYS = 7


class Membership(models.Model):
    """A user's role, and for member and secretary, their cell (an id of cells.yml)."""
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField(max_length=20, choices=ROLES)
    cell = models.CharField(max_length=80, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.role}{', ' + self.cell if self.cell else ''})"

    @property
    def is_editor(self) -> bool:
        return self.role in ("editor", "admin")


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


class Invitation(models.Model):
    """A one-time code an editor gives a member or a secretary (in the cell's chat group), an admin an editor
    (no cell). Only its hash is kept."""
    code_hash = models.CharField(max_length=64, unique=True)
    cell = models.CharField(max_length=80)
    role = models.CharField(max_length=20, choices=ROLES[:3], default="secretary")   # an admin may invite editors
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def issue(cls, cell: str, by, role: str = "secretary") -> tuple["Invitation", str]:
        # Four groups of four from an alphabet without look-alikes: read aloud or typed on a phone.
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        code = "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
        invitation = cls.objects.create(code_hash=hash_code(code), cell=cell, role=role, created_by=by,
                                        expires_at=timezone.now() + timezone.timedelta(days=INVITATION_DAYS))
        return invitation, code

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class AuditEntry(models.Model):
    ACTIONS = [(a, a) for a in ("login", "login-failed", "logout", "invite", "join", "save", "submit",
                                "approve", "reject", "publish", "build", "rebuild", "cell")]
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150)         # kept when the account is gone
    action = models.CharField(max_length=20, choices=ACTIONS)
    target = models.CharField(max_length=300, blank=True)
    detail = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]


class Draft(models.Model):
    """A cell's session being written in the portal; its media are files in the draft's own folder."""
    cell = models.CharField(max_length=80, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    session = models.JSONField(default=dict)            # the session.md fields and the minutes
    folder = models.CharField(max_length=120, blank=True)   # the session folder name, set on first submit
    status = models.CharField(max_length=20, default="draft")   # draft | submitted | quarantined
    session_id = models.CharField(max_length=200, blank=True)   # '2025-q1/ha-long-x' once filed
    landed = models.CharField(max_length=400, blank=True)       # where the last submission landed, under content/

    @property
    def title(self) -> str:
        return self.session.get("title") or "—"


class Product(models.Model):
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="products")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=KINDS)
    data = models.JSONField(default=dict)               # the product's fields; media as 'media/<generated name>'

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["draft", "position"], name="one-product-per-position")]


class Upload(models.Model):
    """A resumable upload (tus): its bytes are a file named by this random id in the data folder."""
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    length = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    complete = models.BooleanField(default=False)
