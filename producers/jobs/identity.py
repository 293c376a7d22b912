"""The code identity of a job: everything installed on this machine that can change its output.

A job's key holds its inputs (params, file bytes, tool versions) and this identity, so no hand-set
version constant decides whether a cached output is still what the code would render today:

- the source of the module defining the job's action and of every project module it imports,
  directly or not, found statically in their syntax trees (imports inside functions included);
- the versions of the distributions those modules import, and of what those distributions require
  (an ``lxml`` upgrade changes the PPTX that ``python-pptx`` writes);
- the versions of the native libraries Pillow draws with (raqm, HarfBuzz, FriBiDi, FreeType, codecs);
- the bytes of the data files a module of the closure declares in ``KEY_FILES`` (the Noto fonts);
- the Python version.

Why memoised on disk: worked out from nothing (parsing ~50 modules, and
``importlib.metadata.packages_distributions`` to map import names to distributions) it took 0.6 s
on an idle machine, against a 1.3-1.5 s no-op build of the demo content. So the imports of a source
are kept in ``identity.json`` by the source's SHA-256, and the distribution index by the names of
the installed ``*.dist-info`` folders (names carry versions); with them it takes 20-50 ms. Within
a process each module's identity is computed once.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import sys
from pathlib import Path
from typing import Callable, Protocol

from producers.errors import Cell35Error

PROJECT_PACKAGES = ("producers",)     # followed into, besides the package of the action itself
KEY_FILES_NAME = "KEY_FILES"          # a module-level tuple of Paths whose bytes the module's output depends on
MEMO_SOURCES_CAP = 4096               # parsed sources kept in the memo before it keeps only those in use


class CodeIdentityError(Cell35Error):
    """The code of a job cannot be found or read, so its key cannot be trusted."""


class Hasher(Protocol):
    def __call__(self, path: Path) -> str: ...


def canonical_json(value) -> str:
    """The one JSON spelling every key hashes: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


@functools.cache
def project_modules(top: str) -> dict[str, Path]:
    """Module name -> source file for every module of the top-level package (or module) ``top``."""
    spec = importlib.util.find_spec(top)
    if spec is None:
        raise CodeIdentityError(f"code identity: cannot find the package {top!r} on the import path")
    if not spec.submodule_search_locations:
        if not spec.origin or not spec.origin.endswith(".py"):
            raise CodeIdentityError(f"code identity: {top!r} has no Python source ({spec.origin})")
        return {top: Path(spec.origin)}
    modules: dict[str, Path] = {}
    for location in spec.submodule_search_locations:
        root = Path(location)
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if all(part.isidentifier() for part in parts):
                modules.setdefault(".".join((top, *parts)), path)
    return modules


@functools.cache
def parse_source(path: Path, digest: str) -> dict:
    """What identity needs from one source: its imports, as written, and whether it sets KEY_FILES.
    ``digest`` (the source's SHA-256) keys the process's memo: an edited file is parsed again."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        raise CodeIdentityError(f"code identity: cannot parse {path}: {exc}") from None
    imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [[0, alias.name, []] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports.append([node.level, node.module or "", [alias.name for alias in node.names]])
    key_files = any(isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
        isinstance(target, ast.Name) and target.id == KEY_FILES_NAME
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])) for node in tree.body)
    return {"imports": imports, "key_files": key_files}


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def installed_listing() -> str:
    """A digest of the installed distributions' folder names (``name-version.dist-info``)."""
    names = []
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as entries:
                names += [e.name for e in entries if e.name.endswith((".dist-info", ".egg-info"))]
        except OSError:            # not a folder: a zip, an import hook's name
            continue
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()


@functools.cache
def _packages(listing: str) -> dict[str, list[str]]:
    """Top-level import name -> distributions, for the installed set ``listing`` names."""
    return importlib.metadata.packages_distributions()


def _pillow_native() -> dict[str, str | None]:
    # Imported by name: this module only reads versions, so it must not make Pillow (found in its
    # syntax tree) a library of every job, the web fonts' included.
    features = importlib.import_module("PIL.features")
    names = sorted({*features.modules, *features.codecs, *features.features} - {"tkinter", "xcb"})  # no drawing
    return {name: features.version(name) for name in names}


# Distributions whose output also depends on native libraries that their version does not pin:
# Pillow's wheel bundles raqm and HarfBuzz but takes FriBiDi (and so its fixes) from the system.
NATIVE_VERSIONS: dict[str, Callable[[], dict]] = {"pillow": _pillow_native}


@functools.cache
def _native(distribution: str) -> dict:
    return NATIVE_VERSIONS[distribution]()


class CodeIdentity:
    """``of(module)``: the digest of a job action's module, its project imports, libraries and data.

    One instance per run. ``memo`` is what ``learnt()`` returned last time (the caller stores it).
    """

    def __init__(self, hasher: Hasher, memo: dict | None = None):
        self.hasher = hasher
        self.memo: dict = {"sources": {}, "listing": "", "packages": {}, "distributions": {}}
        if isinstance(memo, dict) and set(memo) == set(self.memo):
            self.memo = memo
        self.changed = False
        self.used_sources: set[str] = set()
        self.described: dict[str, dict] = {}
        self.digests: dict[str, str] = {}
        self._packages: dict[str, list[str]] | None = None
        self._hashed: dict[Path, str] = {}      # each file hashed once per run, not once per closure

    def _hash(self, path: Path) -> str:
        if path not in self._hashed:
            self._hashed[path] = self.hasher(path)
        return self._hashed[path]

    # --- sources ---------------------------------------------------------------------------------

    def _source(self, path: Path) -> tuple[str, dict]:
        digest = self._hash(path)
        self.used_sources.add(digest)
        parsed = self.memo["sources"].get(digest)
        if parsed is None:
            parsed = self.memo["sources"][digest] = parse_source(path, digest)
            self.changed = True
        return digest, parsed

    def closure(self, module: str) -> tuple[dict[str, str], set[str], list[str]]:
        """(project module -> source digest, third-party top-level import names, modules with KEY_FILES)."""
        tops = {module.partition(".")[0], *PROJECT_PACKAGES}
        known: dict[str, Path] = {}
        for top in sorted(tops):
            known.update(project_modules(top))
        if module not in known:
            raise CodeIdentityError(f"code identity: no source for module {module!r}")
        sources: dict[str, str] = {}
        third_party: set[str] = set()
        with_files: list[str] = []
        pending = [module]
        while pending:
            name = pending.pop()
            if name in sources:
                continue
            path = known[name]
            digest, parsed = self._source(path)
            sources[name] = digest
            if parsed["key_files"]:
                with_files.append(name)
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            found = [parent for parent in _parents(name) if parent in known]
            for level, target, names in parsed["imports"]:
                if level:
                    base_parts = package.split(".")
                    base_parts = base_parts[:len(base_parts) - (level - 1)] if level > 1 else base_parts
                    base = ".".join([*base_parts, target] if target else base_parts)
                else:
                    base = target
                top = base.partition(".")[0]
                if not level and top not in tops:
                    if top != "__future__" and top not in sys.stdlib_module_names:
                        third_party.add(top)
                    continue
                for candidate in [*_parents(base), base, *(f"{base}.{n}" for n in names)]:
                    if candidate in known:
                        found.append(candidate)
            pending += [n for n in found if n not in sources]
        return sources, third_party, sorted(with_files)

    # --- distributions ---------------------------------------------------------------------------

    def _index(self) -> dict[str, list[str]]:
        if self._packages is None:
            listing = installed_listing()
            if self.memo["listing"] != listing:
                self.memo.update(listing=listing, packages=_packages(listing), distributions={})
                self.changed = True
            self._packages = self.memo["packages"]
        return self._packages

    def _distribution(self, name: str) -> dict | None:
        """{"version", "requires"} of an installed distribution, or None if it is not installed."""
        known = self.memo["distributions"]
        if name not in known:
            try:
                dist = importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                known[name] = None
            else:
                requires = []
                for requirement in dist.requires or []:
                    requirement_name, _, marker = requirement.partition(";")
                    if "extra" in marker:             # only with an extra nobody asked for
                        continue
                    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement_name)
                    if match:
                        requires.append(_normalise(match.group(1)))
                known[name] = {"version": dist.version, "requires": sorted(set(requires))}
            self.changed = True
        return known[name]

    def distributions(self, import_names: set[str]) -> dict[str, str | None]:
        """Distribution -> version for the import names and, transitively, what they require."""
        index = self._index()
        versions: dict[str, str | None] = {}
        pending = []
        for top in sorted(import_names):
            owners = index.get(top)
            if not owners:
                versions[f"import:{top}"] = None     # importable from nowhere we can version: said so in the key
            pending += [_normalise(owner) for owner in owners or []]
        while pending:
            name = pending.pop()
            if name in versions:
                continue
            info = self._distribution(name)
            if info is None:                       # a requirement that is not installed (platform marker)
                continue
            versions[name] = info["version"]
            pending += info["requires"]
        return versions

    # --- the identity ----------------------------------------------------------------------------

    def describe(self, module: str) -> dict:
        """The readable form of ``of(module)``."""
        if module not in self.described:
            sources, third_party, with_files = self.closure(module)
            versions = self.distributions(third_party)
            files = {}
            for name in with_files:
                for path in getattr(importlib.import_module(name), KEY_FILES_NAME):
                    try:
                        files[str(path)] = self._hash(Path(path))
                    except OSError as exc:
                        raise CodeIdentityError(f"{name}.{KEY_FILES_NAME}: cannot read {path}: "
                                                f"{exc.strerror}") from None
            self.described[module] = {
                "python": f"{sys.implementation.name} {platform.python_version()}",
                "modules": sources,
                "distributions": versions,
                "native": {name: _native(name) for name in sorted(NATIVE_VERSIONS) if name in versions},
                "files": files,
            }
        return self.described[module]

    def of(self, module: str) -> str:
        if module not in self.digests:
            self.digests[module] = hashlib.sha256(canonical_json(self.describe(module)).encode()).hexdigest()
        return self.digests[module]

    def learnt(self) -> dict | None:
        """The memo to store for the next run, or None if it holds nothing new."""
        sources = self.memo["sources"]
        if len(sources) > MEMO_SOURCES_CAP:
            self.memo["sources"] = {d: p for d, p in sources.items() if d in self.used_sources}
            self.changed = True
        changed, self.changed = self.changed, False
        return self.memo if changed else None
