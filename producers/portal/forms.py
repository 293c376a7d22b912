"""Django forms, one per page; labels in the user's language. The forms check types only: the
content rules are the checker's (``content.check``), whose problems are attached beside the fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django import forms
from django.contrib.auth.forms import UserCreationForm

from producers.errors import Problem
from producers.kinds.social import PLATFORMS
from producers.portal.content import explain

GROUPS = ("build", "fight")


class SessionForm(forms.Form):
    title = forms.CharField(max_length=300)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(widget=forms.RadioSelect)
    present = forms.IntegerField(min_value=0, max_value=100_000, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    members = forms.IntegerField(min_value=1, max_value=100_000, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    summary = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.CharField(required=False, max_length=200_000, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, t: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(g, t[f"group_{g}"]) for g in GROUPS]
        for name, each in self.fields.items():
            each.label = t.get(name, "")

    def as_session(self) -> dict:
        data = dict(self.cleaned_data)
        data["date"] = data["date"].isoformat()
        return data


class ProductForm(forms.Form):
    title = forms.CharField(max_length=300)
    summary = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, t: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for name, each in self.fields.items():
            each.label = t.get(name, "")


class ArticleForm(ProductForm):
    text = forms.CharField(max_length=200_000, widget=forms.Textarea(attrs={"rows": 14}))


class PodcastForm(ProductForm):
    audio = forms.FileField(required=False, widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}))
    audio_upload = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)  # a finished tus upload
    script = forms.CharField(required=False, max_length=150_000, widget=forms.Textarea(attrs={"rows": 6}))


class PhotoSeriesForm(ProductForm):
    pass


class SocialPostForm(ProductForm):
    text = forms.CharField(max_length=63_206, widget=forms.Textarea(attrs={"rows": 6}))
    hashtags = forms.CharField(required=False, max_length=1000)
    platforms = forms.MultipleChoiceField(choices=[(k, v["name"]) for k, v in PLATFORMS.items()],
                                          initial=list(PLATFORMS), widget=forms.CheckboxSelectMultiple)

    def clean_hashtags(self) -> list[str]:
        return self.cleaned_data["hashtags"].split()


class RowForm(forms.Form):
    """A row of a formset (a photo, a slide, a scene) whose field labels come in the cell's language:
    ``LABELS`` pairs each field with its word in the portal's labels."""
    LABELS: tuple[tuple[str, str], ...] = ()

    def __init__(self, *args, t: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, key in self.LABELS if t else ():
            self.fields[name].label = t[key]


class PhotoForm(RowForm):
    """One photo row: a new file, or a kept one (``ref`` is its index in the series)."""
    ref = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    photo = forms.FileField(required=False, widget=forms.ClearableFileInput(
        attrs={"accept": "image/*", "capture": "environment"}))
    upload = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)       # a finished tus upload
    caption = forms.CharField(required=False, max_length=500)
    alt = forms.CharField(required=False, max_length=250)

    LABELS = (("photo", "take_photo"), ("caption", "caption"), ("alt", "alt"))


PhotoFormSet = forms.formset_factory(PhotoForm, extra=3, max_num=60, absolute_max=60, can_delete=True)


class SlidesForm(ProductForm):
    video = forms.BooleanField(required=False)

    def __init__(self, *args, t: dict, **kwargs):
        super().__init__(*args, t=t, **kwargs)
        self.fields["video"].label = t["narrated"]


class SlideForm(RowForm):
    """One slide: title, points (one a line), a picture (kept one: ``ref``), speaker notes. The picture
    field is called ``photo`` like the photo rows', so uploads and the page's upload script serve both."""
    ref = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    title = forms.CharField(required=False, max_length=200)
    points = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    photo = forms.FileField(required=False, widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    upload = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    LABELS = (("title", "slide_title"), ("points", "points"), ("photo", "picture"), ("notes", "notes"))

    def clean_points(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["points"].splitlines() if line.strip()]


class VideoForm(ProductForm):
    """A storyboard (the scene rows below) or a finished clip (one video file, sent like any upload)."""
    mode = forms.ChoiceField(required=False, choices=[("storyboard", ""), ("clip", "")], initial="storyboard",
                             widget=forms.RadioSelect)
    clip = forms.FileField(required=False, widget=forms.ClearableFileInput(attrs={"accept": "video/*"}))
    clip_upload = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)   # a finished tus upload
    transcript = forms.FileField(required=False, widget=forms.ClearableFileInput(
        attrs={"accept": ".vtt,.srt,text/vtt,application/x-subrip"}))
    transcript_upload = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, t: dict, **kwargs):
        super().__init__(*args, t=t, **kwargs)
        self.fields["mode"].label = t["video_mode"]
        self.fields["mode"].choices = [("storyboard", t["scenes"]), ("clip", t["video_clip"])]
        self.fields["clip"].label = t["clip"]
        self.fields["transcript"].label = t["clip_transcript"]

    def clean_mode(self) -> str:
        return self.cleaned_data["mode"] or "storyboard"


class SceneForm(RowForm):
    """One scene of a storyboard: a photo, its caption, what is read aloud or how long it shows."""
    ref = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    photo = forms.FileField(required=False, widget=forms.ClearableFileInput(
        attrs={"accept": "image/*", "capture": "environment"}))
    upload = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    caption = forms.CharField(required=False, max_length=300)
    narration = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    duration = forms.FloatField(required=False, min_value=0.5, max_value=600)

    LABELS = (("photo", "take_photo"), ("caption", "caption"), ("narration", "narration"), ("duration", "duration"))


SlideFormSet = forms.formset_factory(SlideForm, extra=3, max_num=40, absolute_max=40, can_delete=True)
SceneFormSet = forms.formset_factory(SceneForm, extra=3, max_num=60, absolute_max=60, can_delete=True)

PRODUCT_FORMS = {"article": ArticleForm, "photo-series": PhotoSeriesForm, "podcast": PodcastForm,
                 "social-post": SocialPostForm, "slides": SlidesForm, "video": VideoForm}
# The kinds whose page has rows: (formset, the product data's list, fields a row keeps, a row without a file counts)
ROWS = {"photo-series": (PhotoFormSet, "photos", ("caption", "alt"), False),
        "slides": (SlideFormSet, "slides", ("title", "points", "notes"), True),
        "video": (SceneFormSet, "scenes", ("caption", "narration", "duration"), False)}


class JoinForm(UserCreationForm):
    code = forms.CharField(max_length=40)

    def __init__(self, *args, t: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = t["code"]
        self.fields["username"].label = t["username"]
        self.order_fields(["code", "username", "password1", "password2"])


class InviteForm(forms.Form):
    """Who is invited: a member or a secretary of a cell; an editor (no cell) when ``roles`` allows it."""
    role = forms.ChoiceField(widget=forms.RadioSelect, initial="secretary")
    cell = forms.ChoiceField(required=False)

    def __init__(self, *args, cells: list[tuple[str, str]], roles: tuple[str, ...], t: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.t = t
        self.fields["role"].choices = [(role, t[f"role_{role}"]) for role in roles]
        self.fields["cell"].choices = [("", "—"), *cells]
        self.fields["role"].label, self.fields["cell"].label = t["role"], t["cell"]

    def clean(self):
        data = super().clean()
        if data.get("role") == "editor":
            data["cell"] = ""                 # editors work for all cells
        elif data.get("role") and not data.get("cell"):
            self.add_error("cell", self.t["cell_needed"])
        return data


class CellForm(forms.Form):
    """A cell of cells.yml. The rules (the id's shape, unique ids, the languages) are the loader's: its
    problems are put beside these fields; here only the types and lengths."""
    id = forms.CharField(max_length=80)
    name = forms.CharField(max_length=200)
    committee = forms.CharField(max_length=200)
    area = forms.CharField(max_length=200)
    language = forms.ChoiceField(choices=[("vi", "Tiếng Việt"), ("hi", "हिन्दी"), ("en", "English")])

    def __init__(self, *args, t: dict, fixed_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, each in self.fields.items():
            each.label = t[f"cell_{name}"]
        if fixed_id is not None:          # session folders are named by the id: it never changes
            self.fields["id"].disabled = True
            self.fields["id"].initial = fixed_id


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


# --- the checker's problems beside the fields ------------------------------------------------------

SESSION_FIELDS = {"title": "title", "date": "date", "group": "group", "summary": "summary",
                  "attendance.present": "present", "attendance.members": "members", "attendance": "members"}
PRODUCT_FIELDS = {"title": "title", "summary": "summary", "audio": "audio", "platforms": "platforms", "video": "video",
                  "clip": "clip", "transcript": "transcript"}
_ROW = re.compile(r"^(?:photos|scenes)\[(\d+)\]\.?(\w*)")
_SLIDE = re.compile(r"^slide (\d+)$")      # slide 1 is the generated title slide: the first row is slide 2


@dataclass
class Placed:
    """The checker's problems sorted by where the page shows them."""
    fields: dict[str, list[str]] = field(default_factory=dict)     # form field name -> messages
    photos: dict[int, list[str]] = field(default_factory=dict)     # index of a kept row (photo, slide, scene) -> messages
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.photos or self.general)


def place(problems: list[Problem], language: str, fields: dict[str, str]) -> Placed:
    placed = Placed()
    for problem in problems:
        message = explain(problem, language)
        match = _ROW.match(problem.field or "")
        slide = _SLIDE.match(problem.field or "")
        name = fields.get(problem.field or "")
        if match:
            placed.photos.setdefault(int(match.group(1)) - 1, []).append(message)
        elif slide and int(slide.group(1)) >= 2:
            placed.photos.setdefault(int(slide.group(1)) - 2, []).append(message)
        elif name:
            placed.fields.setdefault(name, []).append(message)
        else:
            placed.general.append(f"{problem.field}: {message}" if problem.field else message)
    return placed
