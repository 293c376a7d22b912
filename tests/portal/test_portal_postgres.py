"""The portal's tests again, on PostgreSQL: a throwaway cluster from Debian's binaries (initdb,
pg_ctl) in a temp folder on a free port, started and stopped here; the same test module runs in a
child process with DATABASE_URL pointing at it (Django reads its database settings once)."""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _binary(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install postgresql; "
                    "scripts/setup installs it)")
    base = Path(tempfile.mkdtemp(prefix="cell35-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the cluster belongs to the postgres account.
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = base / "data"
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "portal", "-E", "UTF8", "--no-locale",
                    "--no-sync"], check=True, capture_output=True)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgres://portal@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_the_portal_tests_pass_on_postgresql(postgres, tmp_path):
    env = {**os.environ, "DATABASE_URL": postgres, "CELL35_PORTAL_DATA": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    # The two build tests exercise the site build, not the database: left to the SQLite run.
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                          str(REPO / "tests" / "portal" / "test_portal.py"), "-k", "not publish and not failed_build",
                          "-W", "ignore::DeprecationWarning"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    passed = re.search(r"(\d+) passed", run.stdout)
    assert passed and int(passed.group(1)) >= 12 and "failed" not in run.stdout, run.stdout[-3000:]
    probe = subprocess.run([sys.executable, "-c", "import os; os.environ['DJANGO_SETTINGS_MODULE']="
                            "'producers.portal.settings'; import django; django.setup(); "
                            "from django.db import connection; print(connection.vendor)"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert probe.stdout.strip() == "postgresql", probe.stderr
