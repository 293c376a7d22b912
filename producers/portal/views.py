"""The cell's pages: log in, join with a code, the cell's drafts and sessions, a draft's session and
products, submit. Editors' pages are in editor.py."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from producers.content.writelock import ContentBusy
from producers.editorial.intake import IntakeRefused
from producers.media.probe import MediaRefused
from producers.portal import content, drafts, previews, resumable
from producers.portal.access import (CELL_ROLES, EDITOR_ROLES, may_read_cell, may_write_cell, membership_of,
                                     role_required)
from producers.portal.audit import record
from producers.portal.forms import (PRODUCT_FIELDS, PRODUCT_FORMS, ROWS, SESSION_FIELDS, JoinForm, SessionForm,
                                    SocialPostForm, place)
from producers.portal.labels import LABELS, labels, language_of
from producers.portal.models import Draft, Invitation, Membership, Product, hash_code

ALL_ROLES = CELL_ROLES + EDITOR_ROLES
MAX_PRODUCTS = 3
STATIC = Path(__file__).resolve().parent / "static"
# Browser code the pages load, by the one name each is served as (see static/README.md).
ASSETS = {"tus.min.js": ("tus-js-client-4.3.1.min.js", "text/javascript")}


def asset(request, name: str):
    if name not in ASSETS:
        raise Http404
    file_name, content_type = ASSETS[name]
    response = FileResponse(open(STATIC / file_name, "rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _t(request) -> dict:
    return labels(language_of(request))


def home(request):
    membership = membership_of(request.user)
    if membership is None:
        return redirect("portal:login")
    return redirect("portal:queue" if membership.role in EDITOR_ROLES else "portal:cell")


@require_POST
def set_language(request):
    language = request.POST.get("lang", "")
    if language in LABELS:
        request.session["lang"] = language
    return redirect(request.POST.get("next") if str(request.POST.get("next", "")).startswith("/portal/")
                    else "portal:home")


def join(request):
    t = _t(request)
    form = JoinForm(request.POST or None, t=t)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            invitation = Invitation.objects.select_for_update().filter(
                code_hash=hash_code(form.cleaned_data["code"].upper())).first()
            if invitation is None or not invitation.usable:
                form.add_error("code", t["bad_code"])
            else:
                user = form.save()
                Membership.objects.create(user=user, role=invitation.role, cell=invitation.cell)
                invitation.used_by, invitation.used_at = user, timezone.now()
                invitation.save()
                record(request, "join", target=invitation.cell, detail=f"invitation {invitation.pk}", user=user)
        if not form.errors:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("portal:home")      # the cell's page, or an editor's queue
    return render(request, "portal/join.html", {"form": form})


# --- the cell's pages -----------------------------------------------------------------------------

def _draft_for(request, pk: int, write: bool) -> Draft:
    draft = get_object_or_404(Draft, pk=pk)
    allowed = may_write_cell if write else may_read_cell
    if not allowed(request.membership, draft.cell):
        raise Http404      # another cell's draft is not there, as far as this user knows
    return draft


@role_required(*CELL_ROLES)
def cell_home(request):
    cell = request.membership.cell
    own = Draft.objects.filter(cell=cell).order_by("-updated_at")
    sessions = [(item, content.last_reason(item.id.split("@")[0], item.revision) if item.status == "rejected" else None)
                for item in content.all_sessions(cell=cell)]
    return render(request, "portal/cell.html", {"drafts": own, "sessions": sessions, "cell": cell,
                                                "can_write": request.membership.role == "secretary"})


@role_required("secretary")
def draft_new(request):
    t = _t(request)
    form = SessionForm(request.POST or None, t=t)
    if request.method == "POST" and form.is_valid():
        draft = Draft.objects.create(cell=request.membership.cell, created_by=request.user, session=form.as_session())
        record(request, "save", target=f"draft {draft.pk}")
        return redirect("portal:draft", pk=draft.pk)
    return render(request, "portal/session_form.html", {"form": form, "draft": None, "placed": None})


@role_required(*ALL_ROLES)
def draft_detail(request, pk: int):
    draft = _draft_for(request, pk, write=False)
    t, language = _t(request), language_of(request)
    writable = may_write_cell(request.membership, draft.cell)
    if request.method == "POST":
        if not writable:
            raise Http404
        form = SessionForm(request.POST, t=t)
        if form.is_valid():
            draft.session = form.as_session()
            draft.save()
            record(request, "save", target=f"draft {draft.pk}")
            messages.success(request, t["saved"])
            return redirect("portal:draft", pk=draft.pk)
    else:
        initial = dict(draft.session)
        form = SessionForm(initial=initial, t=t)
    problems = drafts.problems_by_file(draft)
    products = []
    for product in draft.products.all():
        name = content.product_file(product.position, product.kind)
        products.append((product, place(problems.get(name, []), language, PRODUCT_FIELDS)))
    placed = place(problems.get("session.md", []) + problems.get("", []), language, SESSION_FIELDS)
    return render(request, "portal/draft.html", {
        "draft": draft, "form": form, "placed": placed, "products": products, "writable": writable,
        "kinds": list(PRODUCT_FORMS), "room": len(products) < MAX_PRODUCTS,
        "reason": content.last_reason(draft.session_id) if draft.session_id else None,
        "ready": not problems and products})


@role_required("secretary")
@require_POST
def product_new(request, pk: int):
    draft = _draft_for(request, pk, write=True)
    kind = request.POST.get("kind")
    if kind not in PRODUCT_FORMS:
        return HttpResponseBadRequest("unknown kind")
    taken = set(draft.products.values_list("position", flat=True))
    if len(taken) >= MAX_PRODUCTS:
        messages.error(request, _t(request)["max_products"])
        return redirect("portal:draft", pk=draft.pk)
    position = min(set(range(1, MAX_PRODUCTS + 1)) - taken)
    Product.objects.create(draft=draft, position=position, kind=kind, data={"title": ""})
    return redirect("portal:product", pk=draft.pk, position=position)


@role_required("secretary")
@require_POST
def product_delete(request, pk: int, position: int):
    draft = _draft_for(request, pk, write=True)
    product = get_object_or_404(Product, draft=draft, position=position)
    for path in (drafts.folder(draft) / "media").glob(f"p{product.position}-*"):
        path.unlink()
    product.delete()
    return redirect("portal:draft", pk=draft.pk)


def _refused_upload(request, t) -> str | None:
    if request.method == "POST":
        request.FILES      # parses the body: the upload handler marks the request when it stopped an upload
    cap = getattr(request, "upload_refused", None)
    return t["too_big"].format(cap=f"{cap:,}") if cap else None


def _incoming(request, upload, upload_id: str | None) -> tuple[Path, int, str | None] | None:
    """The file a form row brings: sent with the form (Django's temp file) or finished before by a
    resumable upload (its id). (path, size, upload id or None)."""
    if upload:
        return Path(upload.temporary_file_path()), upload.size, None
    if upload_id:
        found = resumable.finished(request, upload_id)
        if found:
            return found[0], found[1], upload_id
    return None


def _keep(request, draft: Draft, incoming: tuple[Path, int, str | None], expect: str,
          stem: str) -> tuple[str | None, str | None]:
    """Keep an arrived file in the draft: ('media/<name>', None), or (None, why not)."""
    path, size, upload_id = incoming
    cap = content.limits().max_submission_bytes
    try:
        if content.media_bytes(drafts.folder(draft)) + size > cap:
            return None, _t(request)["too_big"].format(cap=f"{cap:,}")
        try:
            return content.keep_upload(path, expect, drafts.folder(draft), stem), None
        except MediaRefused as exc:
            return None, exc.message
    finally:
        if upload_id:
            path.unlink(missing_ok=True)
            resumable.forget(request, upload_id)


@role_required(*ALL_ROLES)
def product_edit(request, pk: int, position: int):
    draft = _draft_for(request, pk, write=request.method == "POST")
    product = get_object_or_404(Product, draft=draft, position=position)
    t, language = _t(request), language_of(request)
    form_class = PRODUCT_FORMS[product.kind]
    formset_class, key, row_fields, bare_rows = ROWS.get(product.kind, (None, None, (), False))
    kept = product.data.get(key, []) if key else []
    photos = None
    refused = _refused_upload(request, t)
    if request.method == "POST" and refused is None:
        form = form_class(request.POST, request.FILES, t=t)
        if formset_class is not None:
            photos = formset_class(request.POST, request.FILES, form_kwargs={"t": t}, prefix=key)
        if form.is_valid() and (photos is None or photos.is_valid()):
            data = {k: v for k, v in form.cleaned_data.items() if k not in UPLOAD_FIELDS}
            upload_errors = []
            # the one file a kind's form may carry besides its rows: a podcast's recording, a video's clip
            for name, kind, expect in (("audio", "podcast", "audio"), ("clip", "video", "video"),
                                       ("transcript", "video", "captions")):
                if kind != product.kind:
                    continue
                data[name] = product.data.get(name)
                incoming = _incoming(request, form.cleaned_data.get(name), form.cleaned_data.get(f"{name}_upload"))
                if incoming:
                    kept_path, why = _keep(request, draft, incoming, expect, f"p{position}-{name}")
                    data[name] = kept_path or data[name]
                    if why:
                        form.add_error(name, why)
                        upload_errors.append(why)
            if photos is not None:
                data[key], row_errors = _rows(request, draft, position, kept, photos, row_fields, bare_rows)
                upload_errors += row_errors
            product.data = data
            product.save()
            record(request, "save", target=f"draft {draft.pk} product {position}")
            if not upload_errors:
                messages.success(request, t["saved"])
                return redirect("portal:product", pk=draft.pk, position=position)
    else:
        if request.method == "POST":
            messages.error(request, refused)
        initial = dict(product.data)
        if product.kind == "social-post":
            initial["hashtags"] = " ".join(initial.get("hashtags") or [])
            initial.setdefault("platforms", list(SocialPostForm.base_fields["platforms"].initial))
        form = form_class(initial=initial, t=t)
        if formset_class is not None:
            photos = formset_class(initial=[_row_initial(i, entry, row_fields) for i, entry in enumerate(kept)],
                                   form_kwargs={"t": t}, prefix=key)
    name = content.product_file(product.position, product.kind)
    placed = place(drafts.problems_by_file(draft).get(name, []), language, PRODUCT_FIELDS)
    rows = []
    if photos is not None:
        for form_row in photos.forms:
            ref = form_row.initial.get("ref")
            photo = kept[ref] if ref is not None and ref < len(kept) else None
            rows.append((form_row, photo, placed.photos.get(ref, []) if ref is not None else []))
    return render(request, "portal/product.html", {
        "draft": draft, "product": product, "form": form, "photos": photos, "rows": rows, "placed": placed,
        "rows_title": t.get(key or "", ""), "problem_field": "title" if product.kind == "slides" else "caption",
        "preview": content.preview_html(product.data.get("text", "")) if product.kind == "article" else None,
        "counts": content.social_counts(product.data.get("text", ""), product.data.get("hashtags", []),
                                        product.data.get("platforms", [])) if product.kind == "social-post" else None,
        "writable": may_write_cell(request.membership, draft.cell)})


UPLOAD_FIELDS = ("audio", "audio_upload", "clip", "clip_upload", "transcript", "transcript_upload")


def _row_initial(index: int, entry: dict, fields: tuple[str, ...]) -> dict:
    initial = {"ref": index, **{f: entry.get(f, "") for f in fields}}
    if isinstance(initial.get("points"), list):
        initial["points"] = "\n".join(initial["points"])
    return initial


def _rows(request, draft: Draft, position: int, kept: list[dict], formset, fields: tuple[str, ...],
          bare: bool) -> tuple[list[dict], list[str]]:
    """The rows after this post (photos, slides, scenes): kept ones (text edited, some deleted) then the
    new ones. A new row needs a file, except where ``bare`` rows (a slide without a picture) count."""
    result, errors = [], []
    for row in formset.forms:
        data = row.cleaned_data
        if not data:
            continue
        ref, upload = data.get("ref"), _incoming(request, data.get("photo"), data.get("upload"))
        text = {f: data.get(f) if data.get(f) is not None else "" for f in fields}
        if ref is not None and 0 <= ref < len(kept):
            if data.get("DELETE"):
                if kept[ref].get("file"):
                    (drafts.folder(draft) / kept[ref]["file"]).unlink(missing_ok=True)
                continue
            entry = dict(kept[ref], **text)
            if upload:
                stem = Path(kept[ref]["file"]).stem if kept[ref].get("file") else _new_stem(position)
                path, why = _keep(request, draft, upload, "image", stem)
                entry["file"] = path or entry.get("file")
                if why:
                    row.add_error("photo", why)
                    errors.append(why)
            result.append(entry)
        elif data.get("DELETE"):
            continue
        elif upload:
            path, why = _keep(request, draft, upload, "image", _new_stem(position))
            if why:
                row.add_error("photo", why)
                errors.append(why)
            else:
                result.append({"file": path, **text})
        elif bare and any(text.values()):
            result.append(text)
    return result, errors


def _new_stem(position: int) -> str:
    return f"p{position}-{timezone.now().strftime('%Y%m%d%H%M%S%f')}"


@role_required(*ALL_ROLES)
def draft_media(request, pk: int, name: str):
    """A draft's photo or recording, by a name the portal gave it (looked up, never joined to a path)."""
    draft = _draft_for(request, pk, write=False)
    media = drafts.folder(draft) / "media"
    found = next((p for p in media.iterdir() if p.name == name and p.is_file()), None) if media.is_dir() else None
    if found is None:
        raise Http404
    return FileResponse(open(found, "rb"))


@role_required("secretary")
@require_POST
def preview(request):
    """An article's text as the site will show it: the site's own Markdown converter and sanitiser."""
    text = request.POST.get("text", "")[:200_000]
    return HttpResponse(content.preview_html(text), content_type="text/html; charset=utf-8")


@role_required("secretary")
@require_POST
def social_count(request):
    """The live count of a social post per platform, by the site's own composer and counters."""
    counts = content.social_counts(request.POST.get("text", "")[:70_000], request.POST.get("hashtags", "").split(),
                                   request.POST.getlist("platforms"))
    return JsonResponse({"counts": counts})


@role_required("secretary")
@require_POST
def draft_submit(request, pk: int):
    draft = _draft_for(request, pk, write=True)
    t = _t(request)
    problems = drafts.problems_by_file(draft)
    if problems or not draft.products.exists():
        messages.error(request, t["cannot_submit"] if draft.products.exists() else t["no_products"])
        return redirect("portal:draft", pk=draft.pk)
    view = drafts.view(draft)
    try:
        result = content.submit(view, by=request.user.get_username(), sent_name=f"portal draft {draft.pk}")
    except (IntakeRefused, ContentBusy) as exc:
        messages.error(request, str(exc))
        return redirect("portal:draft", pk=draft.pk)
    draft.folder = view.folder
    draft.landed = result.path.relative_to(settings.CONTENT_DIR).as_posix()
    if result.outcome == "quarantined":
        draft.status = "quarantined"
        for problem in result.problems:
            messages.error(request, content.explain(problem, language_of(request)))
        messages.error(request, t["quarantined"])
    else:
        draft.status, draft.session_id = "submitted", result.session_id
        messages.success(request, t["submitted"])
    draft.save()
    record(request, "submit", target=result.session_id or draft.landed, detail=result.outcome)
    return redirect("portal:draft", pk=draft.pk)


# --- the preview build of a draft -----------------------------------------------------------------

def _preview_key(draft: Draft) -> str:
    return f"draft-{int(draft.pk)}"


def _prepare_draft(draft: Draft):
    """The session as filed (after a submit) or the draft as it would be filed (before)."""
    landed = Path(settings.CONTENT_DIR) / draft.landed if draft.landed else None
    if landed is not None and landed.is_dir() and draft.session_id:
        ref = draft.session_id      # a revision lands in revisions/<quarter>/<folder>/rev-N
        return lambda scratch: content.preview_tree(scratch, session=landed, ref=ref)
    view = drafts.view(draft)
    return lambda scratch: content.preview_tree(scratch, view=view)


@role_required(*ALL_ROLES)
def draft_preview(request, pk: int):
    """GET: the preview build's state (the page refreshes while it builds); POST: build it again."""
    draft = _draft_for(request, pk, write=request.method == "POST")
    if request.method == "POST":
        previews.start(_preview_key(draft), _prepare_draft(draft))
        return redirect("portal:draft_preview", pk=draft.pk)
    return render(request, "portal/preview.html", {
        "status": previews.status(_preview_key(draft)), "back": reverse("portal:draft", args=[draft.pk]),
        "title": draft.session.get("title", ""), "site": reverse("portal:draft_preview_site", args=[draft.pk, ""]),
        "writable": may_write_cell(request.membership, draft.cell)})


@role_required(*ALL_ROLES)
def draft_preview_site(request, pk: int, rest: str):
    draft = _draft_for(request, pk, write=False)
    found = previews.site_file(_preview_key(draft), rest)
    if found is None:
        return redirect("portal:draft_preview", pk=draft.pk)
    return FileResponse(open(found, "rb"))
