"""A draft as the content layer sees it: the bridge from the ORM rows to ``content.DraftView``."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.conf import settings

from producers.portal import content
from producers.portal.models import Draft


def folder(draft: Draft) -> Path:
    """The draft's own folder (its media/); named by the database id, never by anything typed."""
    return Path(settings.DRAFTS_DIR) / str(int(draft.pk))


def remove(draft: Draft) -> None:
    shutil.rmtree(folder(draft), ignore_errors=True)


def quarter(draft: Draft) -> str | None:
    date = draft.session.get("date")
    return content.quarter_of(dt.date.fromisoformat(date)) if date else None


def session_folder_name(draft: Draft) -> str:
    """The folder the session is filed as: fixed at the first submit, so later submits are revisions."""
    if draft.folder:
        return draft.folder
    base = content.folder_name(draft.cell, draft.session.get("title", ""))
    q = quarter(draft) or ""
    name, number = base, 2
    while content.folder_taken(q, name) or Draft.objects.filter(folder=name).exclude(pk=draft.pk).exists():
        name, number = f"{base}-{number}", number + 1
    return name


def view(draft: Draft) -> content.DraftView:
    products = []
    for product in draft.products.all():
        data = dict(product.data)
        if product.kind == "podcast":
            data["text"] = data.get("script", "")
        products.append((product.position, product.kind, data))
    return content.DraftView(cell=draft.cell, language=content.cell_language(draft.cell),
                             folder=session_folder_name(draft), session=draft.session, products=products,
                             media=folder(draft))


def problems_by_file(draft: Draft) -> dict[str, list]:
    """The checker's errors keyed 'session.md' / '01-article.md' / '' (the folder)."""
    found: dict[str, list] = {}
    for problem in content.check(view(draft)):
        name = Path(problem.path).name if problem.path.endswith(".md") else ""
        found.setdefault(name, []).append(problem)
    return found
