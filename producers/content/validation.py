"""Pydantic errors turned into messages a cell member can act on."""

from __future__ import annotations

import difflib
import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from producers.errors import Problem
from producers.content.yamlsafe import Document, Loc, loc_text

_PATTERN_HELP = {
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$": "lowercase letters, digits and single hyphens, like 'ha-long'",
    r"^#[0-9a-fA-F]{6}$": "a colour like '#b71c1c'",
    r"^(\d+:)?\d{1,2}:\d{2}(\.\d+)?$": "a time like '05:30' or '1:02:03'",
    r"^[a-z0-9-]+#[0-9]+$": "a slide reference like '01-slides#3' (product file name without .md, '#', slide number)",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "an e-mail address",
    r"^#?[\w]+$": "one hashtag word without spaces, like '#sanitation'",
}


def suggest(found: Any, allowed: list[str]) -> str:
    if not isinstance(found, str):
        return ""
    match = difflib.get_close_matches(found.lower(), allowed, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def one_of(found: Any, allowed: list[str]) -> str:
    listed = ", ".join(allowed)
    return f"Expected one of: ({listed}) but received: {found!r}{suggest(found, allowed)}"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The sub-model that validates the mapping at ``loc`` (list indexes skipped)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        models = _models_in(field.annotation)
        current = models[0] if models else None
    return current


def _message(error: dict, model: type[BaseModel]) -> str:
    kind = error["type"]
    found = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        parent = model_at(model, tuple(error["loc"][:-1]))
        allowed = sorted(parent.model_fields) if parent else []
        key = str(error["loc"][-1])
        return f"unknown field {key!r}; allowed: ({', '.join(allowed)}){suggest(key, allowed)}"
    if kind == "literal_error":
        return one_of(found, re.findall(r"'([^']*)'", ctx.get("expected", "")))
    if kind == "string_pattern_mismatch":
        help_text = _PATTERN_HELP.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}")
        return f"expected {help_text}, received: {found!r}"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"):
        return f"expected a real date written YYYY-MM-DD, received: {found!r}"
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return f"expected a date and time like 2024-10-12T09:30:00Z, received: {found!r}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, received: {found!r}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, received: {found!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, received: {found!r}"
    if kind in ("string_type",):
        return f"expected text, received: {found!r}"
    if kind in ("list_type",):
        return f"expected a list ('- item' lines), received: {found!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of 'field: value' lines, received: {found!r}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters, received {len(found)}"
    if kind == "too_short":
        return f"must list at least {ctx.get('min_length')} item(s), received {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"must list at most {ctx.get('max_length')} item(s), received {ctx.get('actual_length')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "?")
        return f"must be {bound} {limit}, received: {found!r}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{error['msg']}, received: {found!r}"


def validate(model: type[BaseModel], data: Any, doc: Document, display: str,
             base_loc: Loc = ()) -> tuple[BaseModel | None, list[Problem]]:
    """Validate ``data`` into ``model``; every error becomes a Problem with file line and field."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            problems.append(Problem(display, doc.line_of(base_loc + loc), loc_text(loc) or "(document)",
                                    _message(error, model)))
        return None, problems
