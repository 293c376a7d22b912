"""Plan, cache, execute: producers describe jobs; this module decides what is stale and runs it.

A job's key is the SHA-256 of canonical JSON of everything that can change its output: the action
and the identity of its code (``identity.py``: sources, libraries, fonts), the fields and config it
reads, the bytes of its input files and the versions of the external tools it calls. Outputs live
under ``.cache/jobs/<key>/``, written to a temporary folder and renamed into place, so a killed
build never leaves a half-written entry.

Cache layout (``.cache/``)::

    jobs/<kk>/<key>/     a job's outputs and job.json
    builds/<time>.json   per build: the keys it used (written before it looks anything up)
    locks/<key>.lock     held while a key renders, so concurrent builds render it once
    prune.lock           shared while a build records its keys and looks them up, exclusive to prune
    identity.json        memo of the code identity (imports per source hash, installed versions)
    tmp/                 scratch folders, named after their owner process

A job output that none of the last ``KEEP_BUILDS`` builds used is pruned at the end of a build.

Jobs run in dependency order (``Job.needs``/``wants``), each in a process group of its own under a
time and a memory limit. Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot stop one task
(killing a worker breaks the whole pool), so an overdue job could only be labelled failed while its
worker, and the pool's shutdown, still waited for it. Here a few threads each start one job at a time
from multiprocessing's fork server (~20 ms of CPU per job, measured on the demo machine, against
~3-7 ms per job in the old pool: 1 s in a 93-CPU-second demo build) and kill its group at its limit.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import pickle
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from producers.media import tools
from producers.errors import Cell35Error, ProducerError
from producers.files import atomic_write_text
from producers.jobs.identity import CodeIdentity, canonical_json

JOB_META = "job.json"
IDENTITY_MEMO = "identity.json"
KEEP_BUILDS = 5            # a job output no build used in this many builds is pruned


@dataclass(frozen=True)
class Job:
    """A pure render step: ``action(params, files, out_dir)`` writes ``outputs`` into ``out_dir``.

    ``action`` must be a module-level function (it is pickled to worker processes); it returns a
    list of warning strings.

    A job that reads other jobs' outputs names them: ``needs`` and ``wants`` map an alias to a job
    name. It runs after them and is called ``action(params, files, out_dir, inputs)``, where
    ``inputs[alias]`` maps each output name of that job to its file. A failed ``needs`` fails the
    job (naming it); a failed ``wants`` gives ``inputs[alias] = None``. The dependencies' keys are
    part of the job's key, so it is as content-addressed as its own files.
    """

    name: str
    kind: str
    action: Callable[[Mapping[str, Any], tuple[Path, ...], Path], list[str] | None]
    params: Mapping[str, Any]
    files: tuple[Path, ...]
    outputs: tuple[str, ...]
    tools: tuple[str, ...] = ()
    timeout: float = 900.0
    needs: Mapping[str, str] = field(default_factory=dict)
    wants: Mapping[str, str] = field(default_factory=dict)

    @property
    def dependencies(self) -> dict[str, str]:
        """Alias -> job name, ``needs`` and ``wants`` together."""
        return {**self.needs, **self.wants}


@dataclass
class JobResult:
    name: str
    kind: str
    key: str
    status: str                      # "rendered" | "cached" | "failed"
    seconds: float = 0.0
    cpu: float = 0.0                 # CPU seconds of the render, its tools included (rendered jobs)
    outputs: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    detail: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "key": self.key, "status": self.status,
                "seconds": round(self.seconds, 4), "cpu": round(self.cpu, 4), "outputs": sorted(self.outputs),
                "warnings": self.warnings, "error": self.error, "detail": self.detail}


class FileHasher:
    """SHA-256 of file bytes, memoised on (size, mtime_ns, inode, ctime_ns) like git's index.

    The memo only saves re-reading unchanged bytes; staleness is always decided by content hash.
    """

    def __init__(self, memo_path: Path | None = None):
        self.memo_path = memo_path
        self.memo: dict[str, list] = (_read_json(memo_path) if memo_path else None) or {}

    def __call__(self, path: Path) -> str:
        stat = path.stat()
        fingerprint = [stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns]
        key = str(path.resolve())
        cached = self.memo.get(key)
        if cached and cached[:4] == fingerprint:
            return cached[4]
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self.memo[key] = fingerprint + [digest.hexdigest()]
        return digest.hexdigest()

    def save(self) -> None:
        if self.memo_path:
            atomic_write_text(self.memo_path, json.dumps(self.memo))


TRASH = ".trash"


def discard(folder: Path) -> None:
    """Move a folder into ``.trash`` beside it now, and delete it in a detached process.

    A rendered site is tens of thousands of hard links; unlinking them took seconds that no
    reader waits for. A trash left by a killed process is emptied by the next discard."""
    trash = folder.parent / TRASH
    trash.mkdir(exist_ok=True)
    os.rename(folder, trash / f"{folder.name}.{os.getpid()}.{time.monotonic_ns()}")
    subprocess.Popen(["rm", "-rf", "--", *[str(p) for p in trash.iterdir()]], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _read_json(path: Path) -> Any:
    """A memo file's content, or None if there is none or it is unreadable (a memo only saves work)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def job_key(job: Job, hasher: FileHasher, identity: CodeIdentity | None = None) -> str:
    """``identity`` memoises the code identity over a run; without one, each call works it out."""
    identity = identity or CodeIdentity(hasher)
    description = {
        "action": f"{job.action.__module__}.{job.action.__qualname__}",
        "code": identity.of(job.action.__module__),
        "params": job.params,
        "files": [hasher(path) for path in job.files],
        "outputs": list(job.outputs),
        "tools": {name: tools.version(name) for name in job.tools},
    }
    return hashlib.sha256(canonical_json(description).encode()).hexdigest()


def install(built: Path, final: Path, marker: str) -> None:
    """Rename a complete folder into its place in the cache. If another process installed the same
    key first, its folder stands: renames are atomic, so a folder holding its marker is complete."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(built, final)
    except OSError:
        if not (final / marker).is_file():
            raise


def cached_trees(folder: Path, marker: str) -> list[Path]:
    """The complete trees in ``folder``, most recently used first (using one touches its marker)."""
    stamped = []
    for entry in folder.iterdir() if folder.is_dir() else []:
        try:
            stamped.append(((entry / marker).stat().st_mtime, entry.name, entry))
        except OSError:
            continue
    return [entry for _, _, entry in sorted(stamped, reverse=True)]


def stale_trees(folder: Path, marker: str, keep: Path, count: int) -> tuple[list[Path], list[Path]]:
    """(kept, stale): the ``count`` most recently used trees and ``keep`` stay."""
    entries = cached_trees(folder, marker)
    stale = [entry for entry in entries[count:] if entry != keep]
    return [entry for entry in entries if entry not in stale], stale


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot, or "" if there is no such living process.

    A zombie is dead: it has exited and only waits for a parent to read its status. A killed build's
    render workers are orphans that init reaps when it gets round to it (seconds later here), and
    until then their /proc entries still show their start times."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return ""
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return ""
    return fields[19].decode()


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    """Hold ``flock(mode)`` on ``path`` (created if missing). The kernel drops it if the holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


@dataclass
class CacheEntry:
    key: str
    path: Path
    name: str                     # the job's name when it rendered ("" if its job.json is unreadable)
    bytes: int
    builds_ago: int | None        # 0: used by the last build; None: by none of the recorded builds


@dataclass
class CacheUsage:
    entries: list[CacheEntry]
    builds: int                   # usage records kept
    keep_builds: int
    kept: set[str]                # keys pruning keeps: used by the last keep_builds builds or a running one
    stale_records: list[Path] = field(default_factory=list)   # usage records older than those, of finished builds

    def prunable(self) -> list[CacheEntry]:
        if self.builds < self.keep_builds:       # fewer builds than that have run: nothing is that old
            return []
        return [entry for entry in self.entries if entry.key not in self.kept]


def tree_bytes(folder: Path, seen: set[tuple[int, int]] | None = None) -> int:
    """Bytes of the files under ``folder``, a hard-linked file counted once (across calls sharing ``seen``)."""
    seen = set() if seen is None else seen
    total = 0
    for base, _, files in os.walk(folder):
        for name in files:
            try:
                stat = os.lstat(os.path.join(base, name))
            except OSError:
                continue
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total


def _entry_name(entry: Path) -> str:
    return (_read_json(entry / JOB_META) or {}).get("name", "")


class Cache:
    def __init__(self, root: Path, keep_builds: int = KEEP_BUILDS):
        if keep_builds < 1:
            raise ValueError(f"keep_builds must be at least 1 (the build that just ran), not {keep_builds}")
        self.root = Path(root)
        self.keep_builds = keep_builds
        self.jobs = self.root / "jobs"
        self.tmp = self.root / "tmp"
        self.builds = self.root / "builds"
        self.locks = self.root / "locks"
        self._running = None              # the locked usage record of the build running in this process

    def entry(self, key: str) -> Path:
        return self.jobs / key[:2] / key

    def cached_result(self, job: Job, key: str) -> JobResult | None:
        meta = self.lookup(key)
        if meta is None:
            return None
        entry = self.entry(key)
        return JobResult(job.name, job.kind, key, "cached", outputs={name: entry / name for name in job.outputs},
                         warnings=meta.get("warnings", []))

    @contextmanager
    def job_lock(self, key: str) -> Iterator[None]:
        """Exclusive to one process at a time, across builds sharing the cache (flock, so a holder that
        dies releases it). The lock file is removed by its holder; a waiter that then holds the lock of
        a removed file starts again on the new one."""
        path = self.locks / f"{key}.lock"
        self.locks.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        try:
            yield
        finally:
            try:
                os.unlink(path)
            finally:
                os.close(fd)

    @contextmanager
    def used_by_build(self, keys: Iterable[str]) -> Iterator[Path | None]:
        """Record that a build uses ``keys`` before it looks them up: pruning, which takes the same
        lock exclusively, then either ran before the lookups or sees the record and keeps them.
        The record stays locked until ``build_done()``: a build still running keeps its outputs
        however many builds started since."""
        keys = sorted(set(keys))
        if not keys:                      # nothing to build is no build: it must not age the cache
            yield None
            return
        with _flock(self.root / "prune.lock", fcntl.LOCK_SH):
            record = self.builds / f"{time.time_ns():020d}-{socket.gethostname()}-{os.getpid()}.json"
            atomic_write_text(record, json.dumps({"keys": keys}))
            self._running = open(record, "rb+")
            fcntl.flock(self._running.fileno(), fcntl.LOCK_SH)
            yield record

    def build_done(self) -> None:
        """The build that recorded its keys here is done: unlock its record, prune what is stale."""
        if self._running is not None:
            self._running.close()
            self._running = None
        self.prune()

    @staticmethod
    def _running_build(record: Path) -> bool:
        try:
            with open(record, "rb+") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    def _records(self) -> list[tuple[Path, dict]]:
        records = []
        for path in sorted(self.builds.glob("*.json")) if self.builds.is_dir() else []:
            # written atomically, so only a hand edit makes one unreadable
            records.append((path, _read_json(path) or {}))
        return records

    def usage(self, keep_builds: int | None = None, details: bool = False) -> CacheUsage:
        """Every job output, how many builds ago one last used it, and what pruning keeps; with
        ``details`` also each output's job name and bytes (which reads every entry)."""
        keep = keep_builds or self.keep_builds
        records = self._records()
        last_used: dict[str, int] = {}
        for age, (_, record) in enumerate(reversed(records)):
            for key in record.get("keys", []):
                last_used.setdefault(key, age)
        kept = {key for key, age in last_used.items() if age < keep}
        stale_records = []
        for path, record in records[:-keep]:
            if self._running_build(path):              # a long build still running: its outputs stay
                kept.update(record.get("keys", []))
            else:
                stale_records.append(path)
        entries = []
        seen: set[tuple[int, int]] = set()
        for shard in sorted(self.jobs.iterdir()) if self.jobs.is_dir() else []:
            for path in sorted(shard.iterdir()) if shard.is_dir() and len(shard.name) == 2 else []:
                entry = CacheEntry(path.name, path, "", 0, last_used.get(path.name))
                if details:
                    entry.name, entry.bytes = _entry_name(path), tree_bytes(path, seen)
                entries.append(entry)
        return CacheUsage(entries, len(records), keep, kept, stale_records)

    def prune(self, keep_builds: int | None = None) -> list[CacheEntry]:
        """Remove the job outputs none of the last ``keep_builds`` builds (nor a running one) used,
        and the usage records older than those builds. Returns what was removed."""
        trash = self.jobs / TRASH
        with _flock(self.root / "prune.lock", fcntl.LOCK_EX):
            usage = self.usage(keep_builds)
            removed = usage.prunable()
            if removed:
                trash.mkdir(parents=True, exist_ok=True)
            for entry in removed:
                entry.name, entry.bytes = _entry_name(entry.path), tree_bytes(entry.path)
                os.rename(entry.path, trash / entry.key)
            for path in usage.stale_records:
                path.unlink(missing_ok=True)
        shutil.rmtree(trash, ignore_errors=True)
        return removed

    def scratch(self, label: str) -> Path:
        """A private temporary folder, named so that a later build can tell whether its owner died:
        host, process id and that process's start time (process ids are reused; 32768 by default)."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        owner = f"{os.getpid()}_{_process_start(os.getpid())}"
        return Path(tempfile.mkdtemp(dir=self.tmp, prefix=f"{socket.gethostname()}-{owner}-{label}."))

    def sweep(self) -> int:
        """Remove scratch folders of killed builds (same host, process gone). Returns how many."""
        if not self.tmp.is_dir():
            return 0
        host = socket.gethostname()
        removed = 0
        for entry in self.tmp.iterdir():
            parts = entry.name.split("-")
            pid, _, started = parts[-2].partition("_") if len(parts) >= 3 else ("", "", "")
            if not pid.isdigit() or "-".join(parts[:-2]) != host:
                continue
            if _process_start(int(pid)) != started:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def lookup(self, key: str) -> dict | None:
        return _read_json(self.entry(key) / JOB_META)


def _cpu_seconds() -> float:
    """User and system time of this process and of the tools it has waited for."""
    own, tools_used = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + tools_used.ru_utime + tools_used.ru_stime


def execute(job: Job, key: str, cache_root: str, inputs: Mapping[str, Mapping[str, Path] | None] | None = None
            ) -> JobResult:
    """Run one job unless another build rendered it meanwhile (it holds the key's lock while it
    renders; this one waits and then takes its output as cached). Worker-side."""
    cache = Cache(Path(cache_root))
    with cache.job_lock(key):
        return cache.cached_result(job, key) or _render(job, key, cache, inputs)


def _render(job: Job, key: str, cache: Cache, inputs: Mapping[str, Mapping[str, Path] | None] | None) -> JobResult:
    """Run one job into a temporary folder and publish it to the cache atomically."""
    work = cache.scratch(key[:12])
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = JobResult(job.name, job.kind, key, "failed")
    try:
        extra = (inputs or {},) if job.dependencies else ()
        warnings = job.action(job.params, job.files, work, *extra) or []
        missing = [name for name in job.outputs if not (work / name).is_file()]
        if missing:
            raise ProducerError(f"render finished without writing {', '.join(missing)}")
        result.seconds = time.perf_counter() - started
        result.warnings = list(warnings)
        meta = {"name": job.name, "warnings": result.warnings, "seconds": result.seconds}
        (work / JOB_META).write_text(json.dumps(meta, ensure_ascii=False))
        final = cache.entry(key)
        install(work, final, JOB_META)
        result.status = "rendered"
        result.outputs = {name: final / name for name in job.outputs}
    except Cell35Error as exc:
        result.error = getattr(exc, "message", str(exc))
        result.detail = getattr(exc, "detail", "")
    except MemoryError:
        result.error = _out_of_memory()
    except Exception as exc:  # a producer bug must not take the other jobs down
        result.error = f"{type(exc).__name__}: {exc}"
        result.detail = tools.tail(traceback.format_exc())
    finally:
        result.seconds = time.perf_counter() - started
        result.cpu = _cpu_seconds() - cpu
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return result


# --- containment: every job in a process group of its own, under a time and a memory limit -----

JOB_MEMORY_LIMIT = 3 * 1024 ** 3
"""Bytes of address space each process of a job may map (``--job-memory``): a 12 MP photo decodes to
36 MB and a 1080p x264 encode maps well under 1 GB; a job needing more is a runaway or an input to
split. The job's process starts at ~100 MB."""

KILL_GRACE = 10.0      # seconds a killed job's process gets to be reaped before the runner moves on


def size_text(size: int) -> str:
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


def _out_of_memory() -> str:
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    cap = f"{size_text(limit)} per process" if limit != resource.RLIM_INFINITY else "what the machine has"
    return (f"ran out of memory: the job memory limit is {cap} (--job-memory); "
            "make its input smaller (fewer or smaller photos, scenes or slides), or raise the limit")


def _timed_out(job: Job) -> str:
    return (f"ran past its {job.timeout:g} s time limit and was stopped, with every tool it started; "
            "make its input smaller (a shorter recording or video, fewer photos or slides)")


def _kill_group() -> None:
    """This job's session (its tools run in process groups of their own inside it), then itself."""
    tools.kill_session(os.getsid(0), spare=os.getpid())
    os.killpg(os.getpgrp(), signal.SIGKILL)


def _watch_lifeline(fd: int) -> None:
    """Kill this process group, tools included, once the read end ``fd`` of the lifeline reaches its
    end: the runner holds the only write end until the job is done, so the end means it died, even by
    SIGKILL. (The kernel's parent-death signal would name the fork server, which outlives the build
    as long as a job holds its descriptor.)"""
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        pass
    _kill_group()


def _contain(memory: int | None, lifeline: int) -> None:
    """In a job's own process, before its action runs: a session (and process group) of its own,
    so the runner can kill it with every tool it started; death with the runner; the memory limit."""
    if os.getsid(0) != os.getpid():
        os.setsid()
    threading.Thread(target=_watch_lifeline, args=(lifeline,), name="cell35-lifeline", daemon=True).start()
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _job_process(job: Job, key: str, cache_root: str, memory: int | None, inputs, lifeline, conn) -> None:
    """A job's process, forked by the fork server (multiprocessing target)."""
    _contain(memory, lifeline.fileno())
    conn.send(execute(job, key, cache_root, inputs))
    conn.close()


def job_main() -> None:
    """A job's process started as a fresh interpreter: ``python -c 'from producers.pipeline import job_main;
    job_main()' PAYLOAD LIFELINE``, where the file PAYLOAD holds the pickled (job, key, cache root, memory,
    inputs), removed once read, and LIFELINE is the descriptor of the lifeline's read end. Writes one byte
    to stdout once it is ready to run the job, then the pickled JobResult. Stray prints of an action go to
    stderr."""
    with open(sys.argv[1], "rb") as handle:
        payload = handle.read()
    # Removed here, not only by the parent: a runner killed by SIGKILL (a build stopped hard) never
    # reaches its own unlink, and each such kill used to leave the payload in the temporary folder.
    os.unlink(sys.argv[1])
    job, key, cache_root, memory, inputs = pickle.loads(payload)
    channel = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    _contain(memory, int(sys.argv[2]))
    channel.write(b"+")
    pickle.dump(execute(job, key, cache_root, inputs), channel)
    channel.close()


class LiveJobs:
    """Process groups of the jobs running now, so an interrupted runner can kill them all."""

    def __init__(self):
        self._lock = threading.Lock()
        self._groups: set[int] = set()

    def add(self, pid: int) -> None:
        with self._lock:
            self._groups.add(pid)

    def discard(self, pid: int) -> None:
        with self._lock:
            self._groups.discard(pid)

    def kill_all(self) -> None:
        with self._lock:
            groups = list(self._groups)
        for pid in groups:
            kill_job(pid)


def kill_job(pid: int) -> None:
    """SIGKILL to the job's session: its process (the session's and group's leader) and every tool it
    started, each tool in a process group of its own within the session.

    Nothing is sent by process id alone: the fork server reaps a finished job at once, so its id may
    already be another process's; as a group or session id it stays the job's while a member lives."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    tools.kill_session(pid)


def start_fork_server(modules: Iterable[str]) -> Any:
    """multiprocessing's fork server, started once per process with ``modules`` (and the main script
    and this module) imported, so that a job's process costs a fork (~20 ms of CPU, measured) rather
    than a new interpreter (~700 ms to import the producers). Modules named after the server started
    are imported by each job's process instead: a process that runs jobs of many modules (the test
    suite) starts it early with all of them. (A main module run with ``python -m`` is re-run in each
    job's process, as multiprocessing does: ~30 ms for ``-m producers.cli``; the ``cell35`` script
    is imported once, by the server.)"""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__] + sorted(set(modules)))
    multiprocessing.forkserver.ensure_running()
    return context


def _failed(job: Job, key: str, error: str, detail: str = "", seconds: float = 0.0) -> JobResult:
    return JobResult(job.name, job.kind, key, "failed", seconds=seconds, error=error, detail=detail)


def _exit_problem(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        hint = " (the kernel kills a process that runs the machine out of memory)" if -code == signal.SIGKILL else ""
        return f"its process was killed by {name}{hint}"
    return f"its process ended (exit status {code}) without a result"


def contained_fork(context, job: Job, key: str, cache_root: str, memory: int | None, inputs,
                   live: LiveJobs) -> JobResult:
    """Run a job in a process forked by the fork server; kill its group at its time limit."""
    started = time.monotonic()
    reader, writer = context.Pipe(duplex=False)
    lifeline, keep = context.Pipe(duplex=False)
    process = context.Process(target=_job_process, name=f"cell35 job {job.name}",
                              args=(job, key, cache_root, memory, inputs, lifeline, writer))
    try:
        process.start()
    except Exception as exc:          # an unpicklable job
        keep.close()
        return _failed(job, key, f"cannot start the job: {type(exc).__name__}: {exc}")
    finally:
        writer.close()
        lifeline.close()
    live.add(process.pid)
    try:
        ready = multiprocessing.connection.wait([reader, process.sentinel], timeout=job.timeout)
        if not ready:
            kill_job(process.pid)
            if process.exitcode is None:  # past its limit before it made its group (a tiny limit)
                process.kill()
            process.join(KILL_GRACE)
            return _failed(job, key, _timed_out(job), seconds=time.monotonic() - started)
        try:
            result = reader.recv() if reader.poll() else None
        except (EOFError, OSError):
            result = None
        process.join(KILL_GRACE)
        if result is None:
            return _failed(job, key, _exit_problem(process.exitcode), seconds=time.monotonic() - started)
        return result
    finally:
        live.discard(process.pid)
        kill_job(process.pid)         # whatever the job left running in its group
        reader.close()
        keep.close()
        if process.exitcode != 0:     # killed, or died: its scratch folder stays behind
            Cache(Path(cache_root)).sweep()


STARTUP_LIMIT = 120.0   # seconds a fresh interpreter may take to import the job's modules


def contained_subprocess(job: Job, key: str, cache_root: str, memory: int | None, inputs) -> JobResult:
    """Run a job in a fresh interpreter; kill its group at its time limit, counted once it has started.
    For executors this module does not own: Dask workers are daemon processes, which may not start
    multiprocessing children."""
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    fd, payload = tempfile.mkstemp(prefix="cell35-job.")
    with os.fdopen(fd, "wb") as handle:
        pickle.dump((job, key, cache_root, memory, inputs), handle)
    lifeline, keep = os.pipe()
    try:
        process = subprocess.Popen([sys.executable, "-c", f"from {__name__} import job_main; job_main()", payload,
                                    str(lifeline)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True, env=env, pass_fds=(lifeline,))
    except BaseException:
        os.close(keep)
        os.unlink(payload)
        raise
    finally:
        os.close(lifeline)
    try:
        ready = multiprocessing.connection.wait([process.stdout], timeout=STARTUP_LIMIT)
        if ready and os.read(process.stdout.fileno(), 1) == b"+":
            try:
                out, err = process.communicate(timeout=job.timeout)
            except subprocess.TimeoutExpired:
                kill_job(process.pid)
                process.communicate()
                return _failed(job, key, _timed_out(job), seconds=time.monotonic() - started)
            try:
                return pickle.loads(out)
            except Exception:
                pass
        else:
            late = process.poll() is None
            process.kill()            # our own child, not reaped yet: its id is still its own
            out, err = process.communicate()
            if late:
                return _failed(job, key, f"its process did not start within {STARTUP_LIMIT:g} s",
                               seconds=time.monotonic() - started)
        return _failed(job, key, _exit_problem(process.returncode), tools.tail(err.decode("utf-8", "replace")),
                       seconds=time.monotonic() - started)
    finally:
        kill_job(process.pid)         # whatever the job left running in its group
        os.close(keep)
        Path(payload).unlink(missing_ok=True)    # gone already unless the child died before reading it
        if process.returncode != 0:   # killed, or died: its scratch folder stays behind
            Cache(Path(cache_root)).sweep()


def dependent_key(key: str, dependencies: Mapping[str, str | None]) -> str:
    """The key of a job that reads other jobs' outputs: its own key and theirs (None: absent)."""
    if not dependencies:
        return key
    return hashlib.sha256(canonical_json({"job": key, "dependencies": dict(dependencies)}).encode()).hexdigest()


def _dependency_order(jobs: list[Job]) -> tuple[list[Job], dict[str, str]]:
    """Jobs with each after the jobs it depends on (otherwise in the given order), and the problem
    of each job that cannot run: a dependency on a job that is not planned, or a cycle."""
    named = {job.name: job for job in jobs}
    problems: dict[str, str] = {}
    order: list[Job] = []
    state: dict[str, str] = {}           # "visiting" | "done"

    def visit(job: Job, path: list[str]) -> None:
        if state.get(job.name) == "done":
            return
        if state.get(job.name) == "visiting":
            cycle = path[path.index(job.name):] + [job.name]
            for name in cycle:
                problems.setdefault(name, "its dependencies form a cycle: " + " -> ".join(cycle))
            return
        state[job.name] = "visiting"
        for name in job.dependencies.values():
            if name not in named:
                problems.setdefault(job.name, f"needs {name}, which is not planned in this build")
            else:
                visit(named[name], path + [job.name])
        state[job.name] = "done"
        order.append(job)

    for job in jobs:
        visit(job, [])
    return order, problems


class Progress:
    """Receives job events; the CLI plugs a rich progress bar or plain log lines in."""

    def start(self, total_by_kind: dict[str, int]) -> None: ...
    def advance(self, result: JobResult) -> None: ...
    def finish(self) -> None: ...


def run_jobs(jobs: Iterable[Job], cache: Cache, executor: Executor | None = None,
             hasher: FileHasher | None = None, progress: Progress | None = None,
             workers: int | None = None, memory: int | None = JOB_MEMORY_LIMIT) -> dict[str, JobResult]:
    """Run what is stale, reuse what is cached; each job after the jobs whose outputs it reads.

    Each job runs in a process of its own (also with ``workers=1``), killed with its tools at its
    time limit, under ``memory`` bytes of address space per process. Without ``executor``, ``workers``
    jobs (default: the cores) run at once from a fork server; with one (Dask's, say), each of its
    tasks starts the job as a fresh interpreter on the worker's machine.
    """
    own_hasher = hasher is None
    hasher = hasher or FileHasher()
    progress = progress or Progress()
    jobs = list(jobs)
    results: dict[str, JobResult] = {}
    identity = CodeIdentity(hasher, _read_json(cache.root / IDENTITY_MEMO))
    own_keys: dict[str, str] = {}
    for job in jobs:
        try:
            own_keys[job.name] = job_key(job, hasher, identity)
        except (OSError, Cell35Error) as exc:
            results[job.name] = _failed(job, "", f"cannot read inputs: {exc}")
    learnt = identity.learnt()
    if learnt is not None:
        atomic_write_text(cache.root / IDENTITY_MEMO, json.dumps(learnt, ensure_ascii=False))
    order, problems = _dependency_order(jobs)
    keys: dict[str, str] = {}
    for job in order:                 # keys in dependency order: a dependency's key is known first
        if job.name in results:
            continue
        if job.name in problems:
            results[job.name] = _failed(job, own_keys[job.name], problems[job.name])
            continue
        unknown = [name for name in job.needs.values() if name not in keys]
        if unknown:                   # a dependency that could not even be keyed: fail now
            results[job.name] = _failed(job, own_keys[job.name], _dependency_failed(unknown[0], results))
            continue
        keys[job.name] = dependent_key(own_keys[job.name],
                                       {alias: keys.get(name) for alias, name in job.dependencies.items()})
    waiting: dict[str, Job] = {}
    with cache.used_by_build(keys.values()):
        for job in order:
            if job.name not in keys:
                continue
            hit = cache.cached_result(job, keys[job.name])
            if hit is not None:
                results[job.name] = hit
            else:
                waiting[job.name] = job
    counts: dict[str, int] = {}
    for job in waiting.values():
        counts[job.kind] = counts.get(job.kind, 0) + 1
    progress.start(counts)
    if waiting:
        _schedule(waiting, results, keys, own_keys, cache.cached_result, cache, executor, workers, memory, progress)
    progress.finish()
    cache.build_done()
    if own_hasher:        # a caller that passed its hasher saves it once, when it is done with it
        hasher.save()
    return {job.name: results[job.name] for job in jobs}


def _dependency_failed(name: str, results: Mapping[str, JobResult]) -> str:
    found = results.get(name)
    return f"needs {name}, which failed" + (f": {found.error}" if found is not None and found.error else "")


def _schedule(waiting: dict[str, Job], results: dict[str, JobResult], keys: dict[str, str],
              own_keys: Mapping[str, str], cached: Callable[[Job, str], JobResult | None], cache: Cache,
              executor: Executor | None, workers: int | None, memory: int | None, progress: Progress) -> None:
    """Start each waiting job once its dependencies are done, until all are done: a job that others
    wait for first, then the longest time limit first (a limit is the planner's measure of how long a
    job may take, and a long job started last trails the pool: on the demo content, from each job's
    measured CPU time, 2 slots finish in 47 s this way and in 54 s in the planned order), then in the
    order given. Our own pool takes a job only when a slot is free, so a job released late (its
    dependency done) does not queue behind every job that was ready."""
    live = LiveJobs()
    own = executor is None
    slots = None
    if own:
        context = start_fork_server(job.action.__module__ for job in waiting.values())
        slots = max(1, workers or os.cpu_count() or 1)
        executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="cell35-job")
    root = str(cache.root)
    running: dict[Future, Job] = {}

    def finish(job: Job, result: JobResult) -> None:
        del waiting[job.name]
        results[result.name] = result
        progress.advance(result)

    try:
        while waiting or running:
            before = len(waiting)
            needed = {name for job in waiting.values() for name in job.dependencies.values()}
            ready = [job for job in waiting.values() if all(name in results for name in job.dependencies.values())]
            for job in sorted(ready, key=lambda job: (job.name not in needed, -job.timeout)):
                failed_need = next((n for n in job.needs.values() if results[n].status == "failed"), None)
                if failed_need is not None:
                    finish(job, _failed(job, keys[job.name], _dependency_failed(failed_need, results)))
                    continue
                absent = {alias for alias, n in job.wants.items() if results[n].status == "failed"}
                if absent:            # made without them: a key of its own, perhaps cached
                    keys[job.name] = dependent_key(own_keys[job.name], {
                        alias: None if alias in absent else keys[n] for alias, n in job.dependencies.items()})
                    hit = cached(job, keys[job.name])
                    if hit is not None:
                        finish(job, hit)
                        continue
                if slots is not None and len(running) >= slots:
                    continue
                inputs = {alias: None if alias in absent else dict(results[n].outputs)
                          for alias, n in job.dependencies.items()}
                if own:
                    future = executor.submit(contained_fork, context, job, keys[job.name], root, memory, inputs, live)
                else:
                    future = executor.submit(contained_subprocess, job, keys[job.name], root, memory, inputs)
                del waiting[job.name]
                running[future] = job
            if not running:
                if len(waiting) == before:   # cannot happen: cycles and unplanned dependencies failed above
                    raise RuntimeError(f"jobs wait for each other: {', '.join(waiting)}")
                continue              # a failure above may have released more jobs
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # a lost worker, an unpicklable job
                    result = _failed(job, keys[job.name], f"{type(exc).__name__}: {exc}")
                results[job.name] = result
                progress.advance(result)
    finally:
        if own:
            live.kill_all()           # an interrupted build leaves no job behind
            executor.shutdown(wait=True, cancel_futures=True)
