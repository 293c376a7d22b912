"""The one wrapper through which every external tool runs.

It keeps the tail of stderr for the error message, enforces a time limit that every caller must
choose, and deletes partial output files when the tool fails, so a half-written file can never be
mistaken for a result.

Each tool runs as the leader of its own process group, and the whole group is killed when the limit
passes or the caller is interrupted: a tool's helpers (LibreOffice's soffice.bin, a shell script's
children) must not outlive it and keep burning the CPU. The group stays inside the caller's session:
a render job is a session of its own, and the runner stops an overdue job by killing that session
(``kill_session``), every tool group in it included.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from producers.errors import ToolError

STDERR_TAIL_LINES = 15
DRAIN_TIMEOUT = 5            # s to collect a killed tool's stderr
VERSION_TIMEOUT = 30          # s: a version banner is instant; a tool that hangs on it is broken


@functools.cache
def executable(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"{name} is not installed; run scripts/setup")
    return found


@functools.cache
def version(name: str) -> str:
    """First line of the tool's version banner: part of every job key that uses the tool."""
    flag = {"espeak-ng": "--version"}.get(name, "-version")
    result = run([name, flag], timeout=VERSION_TIMEOUT, what=f"{name} {flag}", check=False)
    text = (result.stdout or result.stderr).decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "unknown"


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL every process in ``process``'s group (it was started as a group leader).

    Only called while the leader is not yet reaped (still running, or a zombie): its pid, which is
    the group id, cannot have been given to another process.
    """
    if process.returncode is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass   # the group is already gone


def _session_members(sid: int) -> list[int]:
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue                  # gone meanwhile
        fields = stat[stat.rindex(b")") + 2:].split()   # after "pid (comm)": state ppid pgrp session
        if int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def kill_session(sid: int, *, spare: int | None = None) -> None:
    """SIGKILL every process of session ``sid`` (but ``spare``), whatever process group it is in.

    Linux keeps a session id allocated while any member lives, so the id cannot name another session
    meanwhile. Members can fork while they are killed, so this repeats until none is left."""
    for _ in range(20):
        members = [pid for pid in _session_members(sid) if pid != spare]
        if not members:
            return
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)


def run(args: list[str | Path], *, timeout: float, outputs: list[Path] = (), what: str = "",
        input_bytes: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run a tool for at most ``timeout`` seconds, its whole process group killed past that.

    On failure or timeout ``outputs`` are removed and ToolError is raised with stderr's tail; the
    timeout message names the limit. ``check=False`` returns a failed run instead of raising.
    """
    if not timeout or timeout <= 0:
        raise ValueError(f"tools.run needs a positive timeout in seconds, received {timeout!r}")
    argv = [str(a) for a in args]
    argv[0] = executable(argv[0])
    label = what or Path(argv[0]).name
    process = subprocess.Popen(argv, stdin=subprocess.PIPE if input_bytes is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0)
    try:
        stdout, stderr = process.communicate(input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        stderr = _drain(process)
        _remove(outputs)
        raise ToolError(f"{label} ran past its time limit of {timeout:g} s and was stopped",
                        tail(stderr.decode("utf-8", "replace"))) from None
    except BaseException:
        kill_group(process)
        process.wait()
        _remove(outputs)
        raise
    result = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        _remove(outputs)
        raise ToolError(f"{label} failed (exit status {result.returncode})",
                        tail(stderr.decode("utf-8", "replace")))
    return result


def run_pipeline(stages: list[list[str | Path]], *, timeout: float, outputs: list[Path] = (), what: str = ""
                 ) -> list[subprocess.CompletedProcess]:
    """Run ``stages`` as a shell pipeline (each one's stdout into the next one's stdin), all in one
    process group, for at most ``timeout`` seconds together: the two cores work on two stages at once.

    stderr of each stage is kept whole (in a temporary file, so a chatty stage cannot block on a full
    pipe) and returned; the last stage's stdout is returned too. On failure or timeout ``outputs``
    are removed and ToolError names the stage that failed first (not one that only lost its pipe).
    """
    if not timeout or timeout <= 0:
        raise ValueError(f"tools.run_pipeline needs a positive timeout in seconds, received {timeout!r}")
    argvs = [[str(a) for a in stage] for stage in stages]
    for argv in argvs:
        argv[0] = executable(argv[0])
    label = what or " | ".join(Path(argv[0]).name for argv in argvs)
    processes: list[subprocess.Popen] = []
    errors = [tempfile.TemporaryFile() for _ in argvs]
    try:
        for index, argv in enumerate(argvs):
            stdin = processes[-1].stdout if processes else subprocess.DEVNULL
            # One new process group for the whole pipeline (a new session could not be joined by the
            # later stages: setpgid only moves a process into a group of its own session).
            group = processes[0].pid if processes else 0
            processes.append(subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=errors[index],
                                              process_group=group))
            if index:
                processes[-2].stdout.close()      # only the next stage holds it: an early exit is seen upstream
        deadline = time.monotonic() + timeout
        try:
            stdout = processes[-1].communicate(timeout=timeout)[0]
            for process in processes[:-1]:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_pipeline(processes)
            _remove(outputs)
            raise ToolError(f"{label} ran past its time limit of {timeout:g} s and was stopped",
                            tail(_text(errors[-1]))) from None
    except BaseException:
        _kill_pipeline(processes)
        _remove(outputs)
        for handle in errors:
            handle.close()
        raise
    texts = [_text(handle) for handle in errors]
    for handle in errors:
        handle.close()
    results = [subprocess.CompletedProcess(argv, process.returncode, None, text.encode())
               for argv, process, text in zip(argvs, processes, texts)]
    results[-1].stdout = stdout
    failed = [i for i, r in enumerate(results) if r.returncode != 0]
    if failed:
        _remove(outputs)
        real = [i for i in failed if "Broken pipe" not in texts[i]] or failed
        stage = real[0]
        raise ToolError(f"{label} failed (stage {stage + 1}, {Path(argvs[stage][0]).name}: exit status "
                        f"{results[stage].returncode})", tail(texts[stage]))
    return results


def _kill_pipeline(processes: list[subprocess.Popen]) -> None:
    """Kill the pipeline's group while one of its members is unreaped (so its id is still the group's)."""
    if not processes:
        return
    if any(p.returncode is None for p in processes):
        try:
            os.killpg(processes[0].pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for process in processes:
        process.wait()


def _text(handle) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")


def _drain(process: subprocess.Popen) -> bytes:
    """stderr of a killed process. The pipes close when the last process holding them dies; one that
    left the group on its own (setsid) could hold them for ever, so the wait is bounded."""
    try:
        return process.communicate(timeout=DRAIN_TIMEOUT)[1] or b""
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe:
                pipe.close()
        return b""


def _remove(paths) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)
