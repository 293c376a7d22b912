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
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import traceback
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from . import tools
from .errors import Cell35Error, ProducerError
from .identity import CodeIdentity

JOB_META = "job.json"
IDENTITY_MEMO = "identity.json"
KEEP_BUILDS = 5            # a job output no build used in this many builds is pruned


@dataclass(frozen=True)
class Job:
    """A pure render step: ``action(params, files, out_dir)`` writes ``outputs`` into ``out_dir``.

    ``action`` must be a module-level function (it is pickled to worker processes); it returns a
    list of warning strings.
    """

    name: str
    kind: str
    action: Callable[[Mapping[str, Any], tuple[Path, ...], Path], list[str] | None]
    params: Mapping[str, Any]
    files: tuple[Path, ...]
    outputs: tuple[str, ...]
    tools: tuple[str, ...] = ()
    timeout: float = 900.0


@dataclass
class JobResult:
    name: str
    kind: str
    key: str
    status: str                      # "rendered" | "cached" | "failed"
    seconds: float = 0.0
    outputs: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    detail: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "key": self.key, "status": self.status,
                "seconds": round(self.seconds, 4), "outputs": sorted(self.outputs),
                "warnings": self.warnings, "error": self.error, "detail": self.detail}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class FileHasher:
    """SHA-256 of file bytes, memoised on (size, mtime_ns, inode, ctime_ns) like git's index.

    The memo only saves re-reading unchanged bytes; staleness is always decided by content hash.
    """

    def __init__(self, memo_path: Path | None = None):
        self.memo_path = memo_path
        self.memo: dict[str, list] = {}
        if memo_path and memo_path.is_file():
            try:
                self.memo = json.loads(memo_path.read_text())
            except (OSError, ValueError):
                self.memo = {}

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


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


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
    try:
        return json.loads((entry / JOB_META).read_text()).get("name", "")
    except (OSError, ValueError):
        return ""


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
            try:
                records.append((path, json.loads(path.read_text())))
            except (OSError, ValueError):
                records.append((path, {}))       # written atomically, so only a hand edit gets here
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
        for path, record in records[:-keep]:
            if self._running_build(path):              # a long build still running: its outputs stay
                kept.update(record.get("keys", []))
        entries = []
        seen: set[tuple[int, int]] = set()
        for shard in sorted(self.jobs.iterdir()) if self.jobs.is_dir() else []:
            for path in sorted(shard.iterdir()) if shard.is_dir() and len(shard.name) == 2 else []:
                entry = CacheEntry(path.name, path, "", 0, last_used.get(path.name))
                if details:
                    entry.name, entry.bytes = _entry_name(path), tree_bytes(path, seen)
                entries.append(entry)
        return CacheUsage(entries, len(records), keep, kept)

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
            records = self._records()
            for path, _ in records[:-usage.keep_builds]:
                if not self._running_build(path):
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
        meta = self.entry(key) / JOB_META
        if not meta.is_file():
            return None
        try:
            return json.loads(meta.read_text())
        except (OSError, ValueError):
            return None


def execute(job: Job, key: str, cache_root: str) -> JobResult:
    """Run one job unless another build rendered it meanwhile (it holds the key's lock while it
    renders; this one waits and then takes its output as cached). Worker-side."""
    cache = Cache(Path(cache_root))
    with cache.job_lock(key):
        return cache.cached_result(job, key) or _render(job, key, cache)


def _render(job: Job, key: str, cache: Cache) -> JobResult:
    """Run one job into a temporary folder and publish it to the cache atomically."""
    work = cache.scratch(key[:12])
    started = time.perf_counter()
    result = JobResult(job.name, job.kind, key, "failed")
    try:
        warnings = job.action(job.params, job.files, work) or []
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
    except Exception as exc:  # a producer bug must not take the other jobs down
        result.error = f"{type(exc).__name__}: {exc}"
        result.detail = tools.tail(traceback.format_exc())
    finally:
        result.seconds = time.perf_counter() - started
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return result


def _die_with_parent() -> None:
    """Worker initializer: on Linux, a worker gets SIGKILL when the build that started it dies, so a
    killed build never leaves orphan renders behind."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent)


class Progress:
    """Receives job events; the CLI plugs a rich progress bar or plain log lines in."""

    def start(self, total_by_kind: dict[str, int]) -> None: ...
    def advance(self, result: JobResult) -> None: ...
    def finish(self) -> None: ...


def run_jobs(jobs: Iterable[Job], cache: Cache, executor: Executor | None = None,
             hasher: FileHasher | None = None, progress: Progress | None = None,
             workers: int | None = None) -> dict[str, JobResult]:
    """Run what is stale, reuse what is cached. Any ``concurrent.futures.Executor`` works."""
    own_hasher = hasher is None
    hasher = hasher or FileHasher()
    progress = progress or Progress()
    results: dict[str, JobResult] = {}
    pending: dict[str, tuple[Job, str]] = {}
    jobs = list(jobs)
    identity = CodeIdentity(hasher, _read_json(cache.root / IDENTITY_MEMO))
    keys: dict[str, str] = {}
    for job in jobs:
        try:
            keys[job.name] = job_key(job, hasher, identity)
        except (OSError, Cell35Error) as exc:
            results[job.name] = JobResult(job.name, job.kind, "", "failed", error=f"cannot read inputs: {exc}")
    learnt = identity.learnt()
    if learnt is not None:
        atomic_write_text(cache.root / IDENTITY_MEMO, json.dumps(learnt, ensure_ascii=False))
    with cache.used_by_build(keys.values()):
        for job in jobs:
            if job.name not in keys:
                continue
            cached = cache.cached_result(job, keys[job.name])
            if cached is not None:
                results[job.name] = cached
            else:
                pending[job.name] = (job, keys[job.name])
    counts: dict[str, int] = {}
    for job, _ in pending.values():
        counts[job.kind] = counts.get(job.kind, 0) + 1
    progress.start(counts)
    if pending:
        own_executor = executor is None
        if own_executor and (len(pending) == 1 or workers == 1):
            for job, key in pending.values():           # in this process: no pool to start
                results[job.name] = execute(job, key, str(cache.root))
                progress.advance(results[job.name])
        else:
            executor = executor or worker_pool(workers or os.cpu_count() or 1)
            try:
                futures: dict[Future, Job] = {executor.submit(execute, job, key, str(cache.root)): job
                                              for job, key in pending.values()}
                # Jobs queue behind each other, so a job's limit counts from the run's start plus the
                # limits of the jobs that may run before it on as many workers as the executor has.
                started = time.monotonic()
                budget = sum(job.timeout for job in futures.values())
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, timeout=min(budget, 5.0), return_when=FIRST_COMPLETED)
                    for future in done:
                        job = futures[future]
                        try:
                            result = future.result()
                        except Exception as exc:  # a dead worker, an unpicklable job
                            result = JobResult(job.name, job.kind, pending[job.name][1], "failed",
                                               error=f"{type(exc).__name__}: {exc}")
                        results[job.name] = result
                        progress.advance(result)
                    if remaining and time.monotonic() - started > budget:
                        for future in remaining:
                            job = futures[future]
                            future.cancel()
                            results[job.name] = JobResult(job.name, job.kind, pending[job.name][1], "failed",
                                                          error=f"job ran past its {job.timeout:.0f} s time limit")
                            progress.advance(results[job.name])
                        remaining = set()
            finally:
                if own_executor:
                    executor.shutdown(wait=True, cancel_futures=True)
    progress.finish()
    cache.build_done()
    if own_hasher:        # a caller that passed its hasher saves it once, when it is done with it
        hasher.save()
    return {job.name: results[job.name] for job in jobs}
