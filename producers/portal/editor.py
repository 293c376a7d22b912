"""The editors' pages: the review queue, one submission, approve / send back / publish, invitations,
the audit log. Every step goes through ``content`` (the workflow and the site build)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from producers.errors import Cell35Error
from django.urls import reverse

from producers.portal import content, previews
from producers.portal.access import EDITOR_ROLES, role_required
from producers.portal.audit import record
from producers.portal.forms import InviteForm, RejectForm
from producers.portal.labels import labels, language_of
from producers.portal.models import AuditEntry, Invitation

AUDIT_PAGE = 200


def _item(ref: str):
    item = content.find(ref)
    if item is None:
        raise Http404
    return item


@role_required(*EDITOR_ROLES)
def queue(request):
    quarter = request.GET.get("quarter") or None
    cell = request.GET.get("cell") or None
    everything = content.queue()
    items = [i for i in everything if (quarter is None or i.quarter == quarter) and (cell is None or i.cell == cell)]
    return render(request, "portal/queue.html", {
        "items": items, "quarters": sorted({i.quarter for i in everything}, reverse=True),
        "cells": sorted({i.cell for i in everything}), "quarter": quarter, "cell": cell})


@role_required(*EDITOR_ROLES)
def review(request, ref: str):
    item = _item(ref)
    media = sorted(p.name for p in (item.path / "media").iterdir() if p.is_file()) \
        if (item.path / "media").is_dir() else []
    reason = content.last_reason(item.id.split("@")[0], item.revision) if item.status == "rejected" else None
    return render(request, "portal/review.html", {
        "item": item, "files": content.session_files(item), "reject_form": RejectForm(), "reason": reason,
        "diff": content.revision_diff(item),
        "images": [m for m in media if m.rsplit(".", 1)[-1].lower() in ("jpg", "jpeg", "png", "webp", "gif")],
        "audio": [m for m in media if m.rsplit(".", 1)[-1].lower() in ("mp3", "m4a", "ogg", "wav", "webm", "opus")]})


@role_required(*EDITOR_ROLES)
def review_media(request, ref: str, name: str):
    found = content.media_file(_item(ref), name)
    if found is None:
        raise Http404
    return FileResponse(open(found, "rb"))


@role_required(*EDITOR_ROLES)
@require_POST
def approve(request, ref: str):
    item = _item(ref)
    try:
        content.approve(item.id, by=request.user.get_username())
    except Cell35Error as exc:
        messages.error(request, str(exc))
        return redirect("portal:review", ref=item.id)
    record(request, "approve", target=item.id)
    messages.success(request, labels(language_of(request))["status_approved"])
    return redirect("portal:review", ref=item.id.split("@")[0])


@role_required(*EDITOR_ROLES)
@require_POST
def reject(request, ref: str):
    item = _item(ref)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("portal:review", ref=item.id)
    try:
        content.reject(item.id, form.cleaned_data["reason"], by=request.user.get_username())
    except Cell35Error as exc:
        messages.error(request, str(exc))
        return redirect("portal:review", ref=item.id)
    record(request, "reject", target=item.id, detail=form.cleaned_data["reason"])
    return redirect("portal:queue")


@role_required(*EDITOR_ROLES)
@require_POST
def publish(request, ref: str):
    """Publish one approved session, then build the public site; a failed build shows its report."""
    item = _item(ref)
    t = labels(language_of(request))
    done, problems = content.publish(item.id, by=request.user.get_username())
    if problems:
        for problem in problems:
            messages.error(request, problem)
        return redirect("portal:review", ref=item.id)
    record(request, "publish", target=item.id)
    try:
        result = content.build()
    except Cell35Error as exc:          # the build refused to start (site.yml, cells.yml, a held lock)
        return render(request, "portal/build_failed.html", {"item": item, "problems": [str(exc)]}, status=500)
    if not result.ok:
        return render(request, "portal/build_failed.html", {
            "item": item, "problems": [str(p) for p in result.problems if p.severity == "error"],
            "failed_sections": result.failed_sections, "products": _failed_products(result.report)}, status=500)
    messages.success(request, t["published"])
    return redirect("portal:review", ref=item.id)


def _failed_products(report: dict) -> list[tuple[str, list[str]]]:
    found = []
    for session in report.get("sessions", []) if isinstance(report, dict) else []:
        for product in session.get("products", []) if isinstance(session, dict) else []:
            if isinstance(product, dict) and product.get("errors"):
                found.append((str(product.get("file") or product.get("id") or session.get("id")),
                              [str(e) for e in product["errors"]]))
    return found


@role_required(*EDITOR_ROLES)
def invite(request):
    cells = [(cell.id, f"{cell.name} ({cell.id})") for cell in content.cells().values()]
    form = InviteForm(request.POST or None, cells=cells)
    code = None
    if request.method == "POST" and form.is_valid():
        invitation, code = Invitation.issue(form.cleaned_data["cell"], request.user)
        record(request, "invite", target=invitation.cell, detail=f"invitation {invitation.pk}")
    return render(request, "portal/invite.html", {"form": form, "code": code})


@role_required(*EDITOR_ROLES)
def audit(request):
    return render(request, "portal/audit.html", {"entries": AuditEntry.objects.select_related(None)[:AUDIT_PAGE]})


@role_required(*EDITOR_ROLES)
def report_download(request, fmt: str):
    """The evaluation report (``editorial.report``) as CSV or JSON, for a year or one of its quarters."""
    year, quarter = _number(request.GET.get("year"), 2000, 2100), _number(request.GET.get("quarter"), 1, 4)
    if quarter and not year:
        quarter = None
    text = content.report_text(content.evaluation_report(year, quarter), fmt)
    kind = {"csv": "text/csv", "json": "application/json"}[fmt]
    response = HttpResponse(text, content_type=f"{kind}; charset=utf-8")
    period = f"{year}-q{quarter}" if quarter else str(year or "all")
    response["Content-Disposition"] = f'attachment; filename="report-{period}.{fmt}"'
    return response


def _number(value: str | None, low: int, high: int) -> int | None:
    return int(value) if value and value.isdigit() and low <= int(value) <= high else None


@role_required(*EDITOR_ROLES)
def bundle(request, ref: str):
    """A published session's finished files zipped for chat groups (``editorial.exports.bundle_session``):
    the parts listed, or part ``?part=N`` sent."""
    item = _item(ref)
    try:
        parts, left_out = content.chat_bundle(item)
    except Cell35Error as exc:            # not built yet: only published or approved sessions are
        messages.error(request, str(exc))
        return redirect("portal:review", ref=item.id)
    part = request.GET.get("part")
    if part is not None:
        if not part.isdigit() or not 1 <= int(part) <= len(parts):
            raise Http404
        return FileResponse(open(parts[int(part) - 1], "rb"), as_attachment=True, filename=parts[int(part) - 1].name)
    return render(request, "portal/bundle.html", {
        "item": item, "parts": [(i, p.name, p.stat().st_size) for i, p in enumerate(parts, 1)], "left_out": left_out})


def _preview_key(item) -> str:
    return "review-" + item.id.replace("/", "-").replace("@", "-")     # the id matched REF: [a-z0-9-@/]


@role_required(*EDITOR_ROLES)
def review_preview(request, ref: str):
    """The submission as it will be published: a preview build of just this session (or revision)."""
    item = _item(ref)
    if request.method == "POST":
        path, live = item.path, item.id
        previews.start(_preview_key(item), lambda scratch: content.preview_tree(scratch, session=path, ref=live))
        return redirect("portal:review_preview", ref=item.id)
    return render(request, "portal/preview.html", {
        "status": previews.status(_preview_key(item)), "back": reverse("portal:review", args=[item.id]),
        "title": item.title, "site": reverse("portal:review_preview_site", args=[item.id, ""]), "writable": True})


@role_required(*EDITOR_ROLES)
def review_preview_site(request, ref: str, rest: str):
    item = _item(ref)
    found = previews.site_file(_preview_key(item), rest)
    if found is None:
        return redirect("portal:review_preview", ref=item.id)
    return FileResponse(open(found, "rb"))
