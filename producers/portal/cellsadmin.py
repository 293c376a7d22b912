"""The admins' page of cells: the list, a new cell, a cell's name, committee, area and language. cells.yml
stays the source of truth: every change is written through ``content.save_cell`` (checked by the loader
``cell35 check`` uses, then written atomically), and its problems stand beside the fields. A cell is
removed only while nothing belongs to it (no session, draft, account or open invitation)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from producers.content.writelock import ContentBusy
from producers.portal import content
from producers.portal.access import role_required
from producers.portal.audit import record
from producers.portal.forms import CellForm
from producers.portal.labels import labels, language_of
from producers.portal.models import Draft, Invitation, Membership


def _belongings(cell_id: str) -> int:
    return (content.sessions_of_cell(cell_id) + Draft.objects.filter(cell=cell_id).count()
            + Membership.objects.filter(cell=cell_id).count()
            + Invitation.objects.filter(cell=cell_id, used_at__isnull=True).count())


def _saved(request, form: CellForm, replacing: str | None) -> bool:
    try:
        problems = content.save_cell(form.cleaned_data, replacing=replacing)
    except ContentBusy as exc:
        problems = {"": [str(exc)]}
    for name, found in problems.items():
        for message in found:
            form.add_error(name if name in form.fields else None, message)
    if problems:
        return False
    cell_id = replacing or form.cleaned_data["id"]
    record(request, "cell", target=cell_id, detail="changed" if replacing else "added")
    messages.success(request, labels(language_of(request))["saved"])
    return True


@role_required("admin")
def cell_list(request):
    """GET: every cell and the form for a new one; POST: add it."""
    t = labels(language_of(request))
    form = CellForm(request.POST or None, t=t)
    if request.method == "POST" and form.is_valid() and _saved(request, form, None):
        return redirect("portal:cells")
    return render(request, "portal/cells.html", {"cells": list(content.cells().values()), "form": form},
                  status=400 if form.errors else 200)


def _cell(cell_id: str):
    found = content.cells().get(cell_id)
    if found is None:
        raise Http404
    return found


@role_required("admin")
def cell_edit(request, cell_id: str):
    """GET: the cell's form (its id fixed); POST: save its name, committee, area and language."""
    cell = _cell(cell_id)
    t = labels(language_of(request))
    form = CellForm(request.POST or None, t=t, initial=cell.model_dump(), fixed_id=cell.id)
    if request.method == "POST" and form.is_valid() and _saved(request, form, cell.id):
        return redirect("portal:cells")
    return render(request, "portal/cell_edit.html", {"cell": cell, "form": form, "removable": not _belongings(cell.id)},
                  status=400 if form.errors else 200)


@role_required("admin")
@require_POST
def cell_delete(request, cell_id: str):
    cell = _cell(cell_id)
    t = labels(language_of(request))
    if _belongings(cell.id):
        messages.error(request, t["cell_in_use"])
        return redirect("portal:cell_edit", cell_id=cell.id)
    try:
        problems = content.remove_cell(cell.id)
    except ContentBusy as exc:
        problems = {"": [str(exc)]}
    if problems:
        for found in problems.values():
            for message in found:
                messages.error(request, message)
        return redirect("portal:cell_edit", cell_id=cell.id)
    record(request, "cell", target=cell.id, detail="removed")
    return redirect("portal:cells")
