"""The audit log: who did what, when, from where. Logins are heard through Django's auth signals."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from producers.portal.models import AuditEntry


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record(request, action: str, target: str = "", detail: str = "", user=None) -> AuditEntry:
    user = user or (request.user if request is not None and request.user.is_authenticated else None)
    return AuditEntry.objects.create(user=user, username=user.get_username() if user else "", action=action,
                                     target=target[:300], detail=detail, ip=_ip(request))


def _logged_in(sender, request, user, **kwargs):
    record(request, "login", user=user)


def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(request, "logout", user=user)


def _login_failed(sender, credentials, request=None, **kwargs):
    # The user name tried, never the password (Django already masks it in ``credentials``).
    AuditEntry.objects.create(user=None, username=str(credentials.get("username", ""))[:150],
                              action="login-failed", ip=_ip(request))


def connect() -> None:
    """Hear Django's log-in signals (called once, from the app's ready())."""
    user_logged_in.connect(_logged_in, dispatch_uid="portal-audit-login")
    user_logged_out.connect(_logged_out, dispatch_uid="portal-audit-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="portal-audit-login-failed")


def record_as(username: str, action: str, target: str = "", detail: str = "", request=None) -> AuditEntry:
    """An entry for what ``username`` started earlier (a build's result), seen in a later request."""
    user = get_user_model().objects.filter(username=username).first() if username else None
    return AuditEntry.objects.create(user=user, username=username[:150], action=action, target=target[:300],
                                     detail=detail, ip=_ip(request))
