"""The package's layers, checked from the source: a lower layer never imports a higher one, and no
module imports itself back through others, not even from inside a function.

Imports are read with ``ast`` from every module, wherever they stand (top level, functions,
``TYPE_CHECKING`` blocks), so a cycle cannot hide behind a late import.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "producers"

# Lowest first. A module may import its own layer and the layers before it.
LAYERS = [
    ("base", ["producers", "producers.errors", "producers.files"]),
    ("media", ["producers.media"]),
    ("content", ["producers.content"]),
    ("web", ["producers.web"]),
    ("jobs", ["producers.jobs"]),
    ("kinds", ["producers.kinds"]),
    ("editorial", ["producers.editorial"]),
    ("build", ["producers.build"]),
    ("entry points", ["producers.cli", "producers.editorial_cli", "producers.serve", "producers.portal"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def project_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports (``from x import y`` counts ``x.y`` when that is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            found.add(origin)
            found |= {f"{origin}.{alias.name}" for alias in node.names}
    return {imported for imported in found if imported in known and imported != name}


def layer_of(name: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or (prefix != "producers" and name.startswith(prefix + ".")):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    assert best is not None, f"{name} is in no layer: add it to LAYERS"
    return best[0]


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: project_imports(name, path, known) for name, path in found.items()}


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_no_layer_imports_a_higher_one():
    wrong = []
    for name, imported in graph().items():
        for other in sorted(imported):
            if layer_of(other) > layer_of(name):
                wrong.append(f"{name} ({LAYERS[layer_of(name)][0]}) imports {other} ({LAYERS[layer_of(other)][0]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    # a package's __init__ importing its own modules is how packages work, not a cycle
    edges = {name: {other for other in imported if not name or not other.startswith(name + ".")}
             for name, imported in graph().items()}
    try:
        tuple(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail("import cycle: " + " -> ".join(cycle.args[1]))


def test_the_checker_sees_late_imports(tmp_path):
    """The rule would be empty if imports inside functions were not read."""
    module = tmp_path / "producers" / "media" / "late.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from producers.build import site\n    from ..content import model\n")
    found = project_imports("producers.media.late", module,
                            {"producers.build.site", "producers.build", "producers.content.model", "producers.content"})
    assert found == {"producers.build", "producers.build.site", "producers.content", "producers.content.model"}
