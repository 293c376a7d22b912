"""Who may do what. Every view states its rule with one of these decorators; the authorisation
matrix test walks every URL with every role, for the user's own cell and another."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from producers.portal.models import Membership

CELL_ROLES = ("member", "secretary")
EDITOR_ROLES = ("editor", "admin")


def membership_of(user) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        # An account made with `createsuperuser` is an admin without a row.
        return Membership(user=user, role="admin") if user.is_superuser else None


def role_required(*roles: str):
    """The view runs for a logged-in user whose role is one of ``roles``; it gets the membership."""
    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            membership = membership_of(request.user)
            if membership is None or membership.role not in roles:
                raise PermissionDenied
            request.membership = membership
            return view(request, *args, **kwargs)
        return wrapped
    return decorate


def may_read_cell(membership: Membership, cell: str) -> bool:
    return membership.role in EDITOR_ROLES or (membership.role in CELL_ROLES and membership.cell == cell)


def may_write_cell(membership: Membership, cell: str) -> bool:
    return membership.role == "secretary" and membership.cell == cell
