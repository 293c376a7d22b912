"""A real portal for the browser test, the resumable-upload test and bench/portal_bench.py: gunicorn
started as `cell35 portal run` starts it, on a free loopback port, with its own content, data and site
folders; and a small HTTP client that logs in through the portal's own form (session and CSRF
cookies carried by hand: http.cookiejar never sends a Secure cookie over plain http)."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Iterator
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_users(users: list[tuple[str, str, str, str]]) -> str:
    lines = ["from django.contrib.auth.models import User", "from producers.portal.models import Membership"]
    for name, password, role, cell in users:
        lines.append(f"u = User.objects.create_user({name!r}, password={password!r})")
        lines.append(f"Membership.objects.create(user=u, role={role!r}, cell={cell!r})")
    return "\n".join(lines)


@contextlib.contextmanager
def running_portal(work: Path, content: Path, users: list[tuple[str, str, str, str]] = (), *, workers: int = 1,
                   threads: int = 4) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base URL, the gunicorn master process) of a portal serving ``content``; stopped on exit."""
    env = {**os.environ, "CELL35_CONTENT": str(content), "CELL35_PORTAL_DATA": str(work / "data"),
           "CELL35_SITE": str(work / "site"), "CELL35_CACHE": str(work / "cache"), "PYTHONPATH": str(REPO)}
    env.pop("DATABASE_URL", None)
    portal = [sys.executable, "-m", "producers.portal"]
    subprocess.run([*portal, "migrate", "-v", "0"], env=env, check=True, cwd=work)
    if users:
        subprocess.run([*portal, "shell", "-v", "0", "-c", _make_users(list(users))], env=env, check=True, cwd=work)
    port = free_port()
    process = subprocess.Popen([*portal, "run", "--no-demo", "--port", str(port), "--workers", str(workers),
                                "--threads", str(threads)], env=env, cwd=work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the portal stopped: {process.stderr.read().decode()[-3000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the portal did not start within 60 s")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)


class Client:
    """One logged-in user over http.client: cookies and the CSRF header carried by hand."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}

    def connection(self, timeout: float = 120) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def headers(self, **extra) -> dict[str, str]:
        found = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if "csrftoken" in self.cookies:
            found["X-CSRFToken"] = self.cookies["csrftoken"]
        return {**found, **extra}

    def keep(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=self.headers(**(headers or {})))
            response = connection.getresponse()
            data = response.read()
            self.keep(response)
            return response.status, dict(response.headers), data
        finally:
            connection.close()

    def login(self, username: str, password: str) -> "Client":
        status, _, page = self.request("GET", "/portal/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
        status, headers, _ = self.request("POST", "/portal/login/", form,
                                          {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"log-in as {username} failed: {status}")
        return self

    # --- tus ---
    def create_upload(self, length: int) -> str:
        status, headers, _ = self.request("POST", "/portal/uploads/", b"",
                                          {"Tus-Resumable": "1.0.0", "Upload-Length": str(length)})
        if status != 201:
            raise RuntimeError(f"creating an upload: {status}")
        return urlsplit(headers["Location"]).path

    def offset(self, path: str) -> int:
        status, headers, _ = self.request("HEAD", path, None, {"Tus-Resumable": "1.0.0"})
        return int(headers["Upload-Offset"])

    def patch(self, path: str, offset: int, data: bytes) -> tuple[int, int]:
        status, headers, _ = self.request("PATCH", path, data, {
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        return status, int(headers.get("Upload-Offset", -1))

    def patch_cut(self, path: str, offset: int, data: bytes, send: int) -> None:
        """A PATCH that announces all of ``data`` but the link drops after ``send`` bytes."""
        connection = self.connection()
        connection.putrequest("PATCH", path)
        for name, value in self.headers(**{"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                                           "Content-Type": "application/offset+octet-stream",
                                           "Content-Length": str(len(data))}).items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(data[:send])
        connection.sock.shutdown(socket.SHUT_RDWR)
        connection.close()
