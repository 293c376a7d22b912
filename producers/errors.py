"""The small exception tree. Every failure becomes one line: ``path:line: field: message``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One finding about content: an error (blocks publishing) or a warning (does not)."""

    path: str
    line: int | None
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "field": self.field,
                "message": self.message, "severity": self.severity}


class Cell35Error(Exception):
    """Base of every error this package raises on purpose."""


class ContentError(Cell35Error):
    """Content that cannot be accepted; carries one or more problems."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))


class ProducerError(Cell35Error):
    """A render job failed. ``detail`` keeps the tail of an external tool's stderr."""

    def __init__(self, message: str, detail: str = "", field: str = ""):
        self.message = message
        self.detail = detail
        self.field = field
        super().__init__(message + (f"\n{detail}" if detail else ""))


class ToolError(ProducerError):
    """An external tool (ffmpeg, espeak-ng, ...) exited badly or timed out."""


class ConfigError(Cell35Error):
    """site.yml / cells.yml / mkdocs configuration that the build cannot use."""


def display_path(path: Path, root: Path) -> str:
    """Paths in messages are relative to the content root's parent, as a user typed them."""
    try:
        return str(path.relative_to(root.parent))     # the usual case: path was built from root
    except ValueError:
        pass
    try:
        return str(path.resolve().relative_to(root.resolve().parent))
    except ValueError:
        return str(path)
