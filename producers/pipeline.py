"""Plan, cache, execute: producers describe jobs; this module decides what is stale and runs it.

A job's key is the SHA-256 of canonical JSON of everything that can change its output: the action,
the producer's version, the fields and config it reads, the bytes of its input files and the
versions of the external tools it calls. Outputs live under ``.cache/jobs/<key>/``, written to a
temporary folder and renamed into place, so a killed build never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import tools
from .errors import Cell35Error, ProducerError

JOB_META = "job.json"


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
    version: str
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


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def job_key(job: Job, hasher: FileHasher) -> str:
    description = {
        "action": f"{job.action.__module__}.{job.action.__qualname__}",
        "version": job.version,
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
    """The process's start time in clock ticks since boot, or "" if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


class Cache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.jobs = self.root / "jobs"
        self.tmp = self.root / "tmp"

    def entry(self, key: str) -> Path:
        return self.jobs / key[:2] / key

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
    """Run one job into a temporary folder and publish it to the cache atomically. Worker-side."""
    cache = Cache(Path(cache_root))
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
    for job in jobs:
        try:
            key = job_key(job, hasher)
        except (OSError, Cell35Error) as exc:
            results[job.name] = JobResult(job.name, job.kind, "", "failed", error=f"cannot read inputs: {exc}")
            continue
        meta = cache.lookup(key)
        if meta is not None:
            entry = cache.entry(key)
            results[job.name] = JobResult(job.name, job.kind, key, "cached",
                                          outputs={name: entry / name for name in job.outputs},
                                          warnings=meta.get("warnings", []))
        else:
            pending[job.name] = (job, key)
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
    if own_hasher:        # a caller that passed its hasher saves it once, when it is done with it
        hasher.save()
    return {job.name: results[job.name] for job in jobs}
