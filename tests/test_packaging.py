"""Packaging: a wheel built from the repository builds a site on its own, and the lock covers every pin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, Tree

# What the package reads at run time besides its modules.
DATA_FILES = {"producers/build/theme/main.html", "producers/build/mkdocs.yml",
              *(f"producers/build/assets/{p.name}" for p in (REPO / "producers/build/assets").iterdir() if p.is_file()),
              *(f"producers/web/templates/{p.name}" for p in (REPO / "producers/web/templates").iterdir()
                if p.suffix in (".html", ".xml", ".md"))}
# Everything a wheel build needs from the checkout, and nothing it must not see.
_IGNORE_ANYWHERE = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "*.build-report.json")
_IGNORE_AT_TOP = {"build", "dist", "site", ".site.d", ".cache", "content", "tests", "bench"}


def BUILD_IGNORE(folder: str, names: list[str]) -> set[str]:
    """The checkout's own outputs and data are left out; ``producers/build/`` is code and stays."""
    ignored = _IGNORE_ANYWHERE(folder, names)
    if Path(folder).resolve() == REPO.resolve():
        ignored |= _IGNORE_AT_TOP & set(names)
    return ignored


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"               # a copy: a build in the checkout leaves build/ and egg-info behind
    shutil.copytree(REPO, source, ignore=BUILD_IGNORE)
    # no build isolation: the build backend is the locked setuptools (scripts/setup installs it)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(work / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    [built] = (work / "dist").glob("cell35-*.whl")
    return built


def test_the_wheel_holds_the_theme_the_mkdocs_config_and_the_assets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert len(DATA_FILES) > 5
    assert DATA_FILES <= names, sorted(DATA_FILES - names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "cell35 = producers.cli:app" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not [n for n in names if n.startswith(("tests/", "content/", "bench/"))]


def test_the_wheel_alone_builds_a_site(wheel, tmp_path):
    """Only the wheel's files on the path (no checkout), run from a folder without any mkdocs.yml."""
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    tree = Tree(tmp_path / "content")
    tree.session()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import sys, producers, producers.cli; "
            "print('package:', producers.__file__, file=sys.stderr); "
            "sys.argv = ['cell35'] + sys.argv[1:]; producers.cli.main()")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-P", "-c", code, "build", "--content", str(tree.root),
                          "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "cache"), "-q", "-j", "1"],
                         cwd=elsewhere, env={**env, "PYTHONPATH": str(installed), "NO_MKDOCS_2_WARNING": "1"},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"package: {installed / 'producers' / '__init__.py'}" in run.stderr
    page = (tmp_path / "site/sessions/2024-q4/ha-long-sanitation/01-article/index.html").read_text()
    assert "The article text." in page
    assert (tmp_path / "site/assets/cell35.css").is_file() and (tmp_path / "site/assets/search.js").is_file()
    assert 'name="twitter:card"' in page                    # the theme override (producers/theme) was used
    assert (tmp_path / "site.build-report.json").is_file()


def _name(requirement: str) -> tuple[str, str]:
    name, _, version = requirement.partition("==")
    name = name.split("[")[0]          # 'psycopg[binary]' is locked as psycopg (and psycopg-binary)
    return re.sub(r"[-_.]+", "-", name.strip()).lower(), version.strip()


def test_every_pin_is_in_the_lock_with_its_hashes():
    """scripts/setup installs requirements.lock only: a pin changed in pyproject.toml and not locked
    again (scripts/lock) would never be installed."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["test"] \
        + project["build-system"]["requires"]
    assert all("==" in pin for pin in pins), [pin for pin in pins if "==" not in pin]
    text = (REPO / "requirements.lock").read_text()
    entries = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*==[^\s;\\]+)[^\n]*\\\n((?:\s+--hash=sha256:[0-9a-f]{64}.*\n)+)",
                         text, re.MULTILINE)
    locked = {_name(requirement) for requirement, _ in entries}
    assert len(entries) == len(re.findall(r"^[A-Za-z0-9]", text, re.MULTILINE))   # every entry has hashes
    missing = [pin for pin in pins if _name(pin) not in locked]
    assert not missing, f"pinned in pyproject.toml but not in requirements.lock (run scripts/lock): {missing}"
    unused = {"moviepy", "imageio-ffmpeg", "python-frontmatter"} & {name for name, _ in locked}
    assert not unused
