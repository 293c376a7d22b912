"""The editors' pages: the review queue, one submission, approve / send back / publish, invitations,
the audit log. Every step goes through ``content`` (the workflow and the site build)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from producers.errors import Cell35Error
from django.urls import reverse

from producers.portal import content, previews
from producers.portal.access import EDITOR_ROLES, role_required
from producers.portal.audit import record, record_as
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


class _Refused(Exception):
    """The workflow refused to publish (the problems are the messages)."""


@role_required(*EDITOR_ROLES)
@require_POST
def publish(request, ref: str):
    """Publish one approved session, then build the public site in the background; the publish page
    shows the build's progress, and its report when it fails. Refused while a site build runs."""
    item = _item(ref)
    by = request.user.get_username()
    _audit_finished(request)

    def workflow_step() -> dict:      # under the build's start lock: never while another publish builds
        try:
            done, problems = content.publish(item.id, by=by)
        except Cell35Error as exc:       # content/ busy past the wait, or the session gone meanwhile
            raise _Refused([str(exc)]) from None
        if problems:
            raise _Refused(problems)
        record(request, "publish", target=item.id)
        return {"by": by, "ref": item.id}

    try:
        started = previews.launch(previews.publish_folder(), _site_build(content.site_options()), workflow_step,
                                  name="publish")
    except _Refused as refused:
        for problem in refused.args[0]:
            messages.error(request, problem)
        return redirect("portal:review", ref=item.id)
    if not started:
        messages.error(request, labels(language_of(request))["publish_busy"])
        return redirect("portal:review", ref=item.id)
    return redirect("portal:publish_status")


def _site_build(options):
    def build(report) -> dict:
        try:
            result = content.run_build(options, report)
        except Cell35Error as exc:          # the build refused to start (site.yml, cells.yml)
            return {"state": "failed", "problems": [str(exc)]}
        return {"state": "done" if result.ok else "failed",
                "problems": [str(p) for p in result.problems if p.severity == "error"],
                "failed_sections": list(result.failed_sections), "products": content.failed_products(result.report)}
    return build


def _audit_finished(request) -> None:
    """The last site build's result in the audit log, once, as done by who started it."""
    finished = previews.take_finished(previews.publish_folder())
    if finished is None:
        return
    problems = [*finished.get("problems", []), *finished.get("failed_sections", [])]
    detail = f"{finished['state']} in {finished.get('seconds', '?')} s" + (f": {'; '.join(problems)}" if problems else "")
    record_as(finished.get("by", ""), "build", target=finished.get("ref", ""), detail=detail, request=request)


@role_required(*EDITOR_ROLES)
def publish_status(request):
    """GET: the public site's build (the page refreshes itself while it runs); POST: build it again
    (after a failure or an interruption), publishing nothing new."""
    root = previews.publish_folder()
    if request.method == "POST":
        by = request.user.get_username()
        _audit_finished(request)
        if previews.launch(root, _site_build(content.site_options()), lambda: {"by": by, "ref": ""}, name="publish"):
            record(request, "rebuild")
        else:
            messages.error(request, labels(language_of(request))["publish_busy"])
        return redirect("portal:publish_status")
    _audit_finished(request)
    found = previews.read_status(root)
    return render(request, "portal/publish.html", {"status": found, "percent": _percent(found)},
                  status=500 if found and found["state"] == "failed" else 200)


@role_required(*EDITOR_ROLES)
def publish_status_json(request):
    found = previews.read_status(previews.publish_folder()) or {"state": "none"}
    _audit_finished(request)
    return JsonResponse({k: found.get(k) for k in ("state", "done", "total", "note", "ref", "seconds", "problems")})


def _percent(found: dict | None) -> int | None:
    if not found or not found.get("total"):
        return None
    return round(100 * found.get("done", 0) / found["total"])


INVITE_ROLES = {"editor": ("member", "secretary"), "admin": ("member", "secretary", "editor")}


@role_required(*EDITOR_ROLES)
def invite(request):
    """A one-time code for a member or a secretary of a cell; an admin may also invite an editor."""
    cells = [(cell.id, f"{cell.name} ({cell.id})") for cell in content.cells().values()]
    form = InviteForm(request.POST or None, cells=cells, roles=INVITE_ROLES[request.membership.role],
                      t=labels(language_of(request)))
    code = invited = None
    if request.method == "POST" and form.is_valid():
        role, cell = form.cleaned_data["role"], form.cleaned_data["cell"]
        invitation, code = Invitation.issue(cell, request.user, role=role)
        invited = role
        record(request, "invite", target=cell, detail=f"{role}, invitation {invitation.pk}")
    return render(request, "portal/invite.html", {"form": form, "code": code, "invited": invited})


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
