"""Jobs, keys and the content-addressed cache: what is stale is rendered, nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from producers.pipeline import Cache, FileHasher, Job, job_key, run_jobs
from tests import pipeline_support as actions


def upper_job(path: Path, **params) -> Job:
    return Job(name=f"upper:{path.name}", kind="article", action=actions.upper, params=params, files=(path,),
               outputs=("upper.txt",), version="1")


def test_first_run_renders_second_run_is_cached(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("xin chào")
    cache = Cache(tmp_path / "cache")
    first = run_jobs([upper_job(source)], cache)["upper:a.txt"]
    assert first.status == "rendered"
    assert first.outputs["upper.txt"].read_text() == "XIN CHÀO"
    second = run_jobs([upper_job(source)], cache)["upper:a.txt"]
    assert second.status == "cached" and second.outputs == first.outputs


def test_key_follows_bytes_params_version_not_mtime(tmp_path):
    import os
    source = tmp_path / "a.txt"
    source.write_text("one")
    hasher = FileHasher()
    base = job_key(upper_job(source), hasher)
    os.utime(source, (1, 1))                       # touching a file changes nothing
    assert job_key(upper_job(source), FileHasher()) == base
    source.write_text("two")                       # its bytes do
    assert job_key(upper_job(source), FileHasher()) != base
    source.write_text("one")
    assert job_key(upper_job(source), FileHasher()) == base
    assert job_key(upper_job(source, warn=True), FileHasher()) != base
    newer = Job(**{**upper_job(source).__dict__, "version": "2"})
    assert job_key(newer, FileHasher()) != base


def test_tool_version_is_part_of_the_key(tmp_path):
    plain = Job("t", "podcast", actions.tone, {"hz": 440}, (), ("tone.wav",), "1")
    with_tool = Job("t", "podcast", actions.tone, {"hz": 440}, (), ("tone.wav",), "1", tools=("ffmpeg",))
    assert job_key(plain, FileHasher()) != job_key(with_tool, FileHasher())


def test_real_ffmpeg_jobs_in_a_process_pool(tmp_path):
    jobs = [Job(f"tone{hz}", "podcast", actions.tone, {"hz": hz}, (), ("tone.wav",), "1", tools=("ffmpeg",))
            for hz in (220, 440, 880)]
    with ProcessPoolExecutor(2) as pool:
        results = run_jobs(jobs, Cache(tmp_path / "cache"), executor=pool)
    for result in results.values():
        assert result.status == "rendered"
        with wave.open(str(result.outputs["tone.wav"])) as audio:
            assert abs(audio.getnframes() / audio.getframerate() - 0.2) < 0.01


def test_a_failing_tool_is_reported_with_stderr_tail_and_others_still_render(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio at all")
    good = tmp_path / "good.txt"
    good.write_text("ok")
    jobs = [Job("bad", "podcast", actions.broken_ffmpeg, {}, (bad,), ("x.wav",), "1"), upper_job(good)]
    results = run_jobs(jobs, Cache(tmp_path / "cache"), executor=ThreadPoolExecutor(2))
    assert results["bad"].status == "failed"
    assert results["bad"].error == "ffmpeg failed (exit status 1)"
    assert "bad.mp3: Invalid argument" in results["bad"].detail      # the tail of ffmpeg's stderr
    assert results["upper:good.txt"].status == "rendered"
    assert not list((tmp_path / "cache" / "tmp").iterdir())       # no half-written entries left


def test_a_job_that_forgets_an_output_fails_and_is_not_cached(tmp_path):
    job = Job("lazy", "video", actions.forgets_output, {}, (), ("movie.mp4",), "1")
    result = run_jobs([job], Cache(tmp_path / "cache"))["lazy"]
    assert result.status == "failed" and result.error == "render finished without writing movie.mp4"
    assert run_jobs([job], Cache(tmp_path / "cache"))["lazy"].status == "failed"


def test_a_job_past_its_time_limit_is_reported_on_any_executor(tmp_path):
    job = Job("slow", "video", actions.slow, {"seconds": 30}, (), ("done.txt",), "1", timeout=0.5)
    started = time.monotonic()
    with ProcessPoolExecutor(1) as pool:
        result = run_jobs([job], Cache(tmp_path / "cache"), executor=pool)["slow"]
    assert result.status == "failed" and result.error.startswith("ran past its 0.5 s time limit and was stopped")
    assert time.monotonic() - started < 15          # the executor did not wait for the job


def _processes_running(marker: str) -> list[str]:
    """Command lines of this machine's live processes that mention ``marker`` (zombies are not live)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            state = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except (OSError, IndexError):
            continue
        if marker in command and state != b"Z":
            found.append(command)
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_a_tool_that_never_finishes_is_killed_at_the_job_limit_and_the_others_render(tmp_path, workers):
    """`--jobs 1` and `--jobs 2`: the overdue job's process and its ffmpeg are killed; the build goes on."""
    wav = tmp_path / "never.wav"
    stuck = Job("stuck", "video", actions.never_ending_tool, {"wav": str(wav)}, (), ("x.wav",), "1", timeout=3)
    source = tmp_path / "a.txt"
    source.write_text("still here")
    started = time.monotonic()
    results = run_jobs([stuck, upper_job(source)], Cache(tmp_path / "cache"), workers=workers)
    elapsed = time.monotonic() - started
    assert results["stuck"].status == "failed"
    assert results["stuck"].error.startswith("ran past its 3 s time limit and was stopped, with every tool it started")
    assert results["upper:a.txt"].status == "rendered"
    assert results["upper:a.txt"].outputs["upper.txt"].read_text() == "STILL HERE"
    assert wav.stat().st_size > 0                   # ffmpeg did run, for a while
    assert elapsed < 15, elapsed                    # nobody waited for the tool's own (hour-long) limit
    deadline = time.monotonic() + 5
    while _processes_running(str(wav)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_running(str(wav)) == []       # ffmpeg died with its job
    assert not list((tmp_path / "cache" / "tmp").iterdir())   # the killed job's scratch is gone


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


RUNNER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from producers.pipeline import Cache, Job, run_jobs
from tests import pipeline_support as actions
job = Job("stuck", "video", actions.never_ending_tool, {"wav": sys.argv[1]}, (), ("x.wav",), "1", timeout=600)
run_jobs([job], Cache(Path(sys.argv[2])), workers=1, executor=ThreadPoolExecutor(1) if sys.argv[3] == "any" else None)
"""


@pytest.mark.parametrize("executor", ["own", "any"])
def test_a_killed_runner_takes_its_jobs_and_their_tools_with_it(tmp_path, executor):
    """SIGKILL (nothing can catch it) of the process running the jobs: no job, tool or helper outlives it."""
    wav = tmp_path / "never.wav"
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(wav), str(tmp_path / "cache"), executor],
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
    deadline = time.monotonic() + 60
    while not (wav.is_file() and wav.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wav.stat().st_size > 0, "the tool never started"
    family = _descendants(runner.pid)
    assert len(family) >= 2                          # the job's process and its ffmpeg, at least
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in family if _alive(pid)] == []
    assert _processes_running(str(wav)) == []


def test_a_job_over_the_memory_limit_fails_alone_naming_the_limit(tmp_path):
    limit = 512 * 1024 ** 2
    hog = Job("hog", "photo-series", actions.hog, {"bytes": 2 * limit}, (), ("hog.txt",), "1")
    modest = Job("modest", "photo-series", actions.hog, {"bytes": 64 * 1024 ** 2}, (), ("hog.txt",), "1")
    tone = Job("tone", "podcast", actions.tone, {"hz": 440}, (), ("tone.wav",), "1", tools=("ffmpeg",))
    results = run_jobs([hog, modest, tone], Cache(tmp_path / "cache"), workers=2, memory=limit)
    assert results["hog"].status == "failed"
    assert results["hog"].error.startswith("ran out of memory: the job memory limit is 512 MiB per process "
                                           "(--job-memory)")
    assert results["modest"].status == "rendered" and results["tone"].status == "rendered"
    # the limit is the job's, not the build's: the same job renders under the default
    assert run_jobs([hog], Cache(tmp_path / "cache"))["hog"].status == "rendered"


def test_a_build_leaves_out_only_the_product_whose_job_ran_out_of_memory(tmp_path):
    """A 59-megapixel photo (under the 60 MP cap) needs over 600 MiB to render; every other job of the
    build, under 450 MiB."""
    from PIL import Image

    from producers.site import BuildOptions, build_site
    from tests.conftest import REPO, Tree

    tree = Tree(tmp_path / "content")
    series = "---\ntype: photo-series\ntitle: Huge\nphotos:\n- {file: media/huge.png, caption: Big, alt: Big}\n---\n"
    folder = tree.session(products={"01-article.md": "---\ntype: article\ntitle: An article\n---\nText.\n",
                                    "02-photo-series.md": series})
    (folder / "media").mkdir()
    Image.new("RGB", (7700, 7700), "#336699").save(folder / "media" / "huge.png")
    result = build_site(BuildOptions(content=tree.root, out=tmp_path / "site", cache_dir=tmp_path / "cache",
                                     mkdocs_config=REPO / "mkdocs.yml", jobs=2, job_memory=512 * 1024 ** 2))
    products = {p["kind"]: p for session in result.report["sessions"] for p in session["products"]}
    assert products["article"]["status"] == "published"
    assert (tmp_path / "site/sessions/2024-q4/ha-long-sanitation/01-article/index.html").is_file()
    assert products["photo-series"]["status"] == "left out"
    [error] = products["photo-series"]["errors"]
    assert error.endswith("sessions/2024-q4/ha-long-sanitation/02-photo-series.md: ran out of memory: the job "
                          "memory limit is 512 MiB per process (--job-memory); make its input smaller (fewer or "
                          "smaller photos, scenes or slides), or raise the limit"), error
    assert not (tmp_path / "site/sessions/2024-q4/ha-long-sanitation/02-photo-series").exists()


def test_job_memory_option_takes_sizes_and_refuses_nonsense(tmp_path):
    from typer.testing import CliRunner

    from producers.cli import app, parse_size

    assert parse_size("3G") == 3 * 1024 ** 3 and parse_size("1536M") == 1536 * 1024 ** 2
    assert parse_size("1.5GiB") == 1536 * 1024 ** 2 and parse_size("536870912") == 512 * 1024 ** 2
    for bad, said in (("12", "is below the least a job can run in, 512 MiB"), ("lots", "is not a size")):
        result = CliRunner().invoke(app, ["build", "--content", str(tmp_path), "--job-memory", bad])
        shown = " ".join(result.output.replace("│", " ").split())       # the error box wraps its lines
        assert result.exit_code == 2 and f"Invalid value for '--job-memory': '{bad}' {said}" in shown, shown


# --- dependencies ------------------------------------------------------------------------------

def count_job(needs: str) -> Job:
    return Job("count", "article", actions.count_letters, {}, (), ("count.txt",), "1", needs={"text": needs})


def test_a_job_reads_the_outputs_of_the_job_it_needs_and_its_key_follows_them(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("xin chào")
    cache = Cache(tmp_path / "cache")
    upper = upper_job(source)
    # listed first, it still runs second
    first = run_jobs([count_job(upper.name), upper], cache, workers=2)
    assert [first[n].status for n in ("count", upper.name)] == ["rendered", "rendered"]
    assert first["count"].outputs["count.txt"].read_text() == \
        f"7 letters from {first[upper.name].outputs['upper.txt']}"
    again = run_jobs([count_job(upper.name), upper], cache)
    assert {r.status for r in again.values()} == {"cached"} and again["count"].key == first["count"].key
    source.write_text("hẹn gặp lại")                 # the dependency's input changes: both render again
    changed = run_jobs([count_job(upper.name), upper], cache, workers=1)
    assert changed["count"].status == "rendered" and changed["count"].key != first["count"].key
    assert changed["count"].outputs["count.txt"].read_text().startswith("9 letters")


def test_one_slot_runs_what_others_need_first_then_the_longest_limit(tmp_path):
    log = tmp_path / "order.txt"

    def job(name: str, limit: float, **needs) -> Job:
        return Job(name, "video", actions.note, {"name": name, "log": str(log)}, (), ("note.txt",), "1",
                   timeout=limit, needs=needs)

    jobs = [job("card", 10), job("video", 100), job("shape", 50, sound="sound"), job("sound", 5)]
    results = run_jobs(jobs, Cache(tmp_path / "cache"), workers=1)
    assert {r.status for r in results.values()} == {"rendered"}
    assert log.read_text().split() == ["sound", "video", "shape", "card"]


def test_a_failed_dependency_fails_its_dependents_naming_it(tmp_path):
    lazy = Job("lazy", "video", actions.forgets_output, {}, (), ("upper.txt",), "1")
    results = run_jobs([lazy, count_job("lazy")], Cache(tmp_path / "cache"))
    assert results["count"].status == "failed"
    assert results["count"].error == "needs lazy, which failed: render finished without writing upper.txt"
    missing = run_jobs([count_job("nowhere")], Cache(tmp_path / "cache"))["count"]
    assert missing.status == "failed" and missing.error == "needs nowhere, which is not planned in this build"
    loop = [Job("a", "article", actions.count_letters, {}, (), ("count.txt",), "1", needs={"text": "b"}),
            Job("b", "article", actions.count_letters, {}, (), ("count.txt",), "1", needs={"text": "a"})]
    cycle = run_jobs(loop, Cache(tmp_path / "cache"))
    assert cycle["a"].error == "its dependencies form a cycle: a -> b -> a"
    assert cycle["b"].status == "failed"


def test_a_wanted_job_that_fails_leaves_its_input_out_and_the_dependent_renders(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("ok")
    uses = Job("uses", "article", actions.maybe, {}, (), ("maybe.txt",), "1", wants={"maybe": "upper:a.txt"})
    lazy = Job("upper:a.txt", "article", actions.forgets_output, {}, (), ("upper.txt",), "1")
    cache = Cache(tmp_path / "cache")
    without = run_jobs([lazy, uses], cache)["uses"]
    assert without.status == "rendered" and without.outputs["maybe.txt"].read_text() == "absent"
    with_it = run_jobs([upper_job(source), uses], cache)["uses"]
    assert with_it.status == "rendered" and with_it.outputs["maybe.txt"].read_text() == "OK"
    assert with_it.key != without.key
    assert run_jobs([lazy, uses], cache)["uses"].status == "cached"


def test_warnings_survive_the_cache(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("x")
    cache = Cache(tmp_path / "cache")
    assert run_jobs([upper_job(source, warn=True)], cache)["upper:a.txt"].warnings == ["shouting"]
    cached = run_jobs([upper_job(source, warn=True)], cache)["upper:a.txt"]
    assert cached.status == "cached" and cached.warnings == ["shouting"]


def test_dask_distributed_runs_the_same_jobs_with_dependencies_and_limits(tmp_path):
    from distributed import Client, LocalCluster

    jobs = [Job(f"tone{hz}", "podcast", actions.tone, {"hz": hz}, (), ("tone.wav",), "1") for hz in (300, 600)]
    source = tmp_path / "a.txt"
    source.write_text("xin chào")
    jobs += [upper_job(source), count_job(f"upper:{source.name}")]
    wav = tmp_path / "never.wav"
    stuck = Job("stuck", "video", actions.never_ending_tool, {"wav": str(wav)}, (), ("x.wav",), "1", timeout=3)
    limit = 512 * 1024 ** 2
    hog = Job("hog", "photo-series", actions.hog, {"bytes": 2 * limit}, (), ("hog.txt",), "1")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        results = run_jobs(jobs + [stuck, hog], Cache(tmp_path / "cache"), executor=client.get_executor(),
                           memory=limit)
    assert results.pop("stuck").error.startswith("ran past its 3 s time limit and was stopped")
    assert results.pop("hog").error.startswith("ran out of memory: the job memory limit is 512 MiB per process")
    assert wav.stat().st_size > 0 and _processes_running(str(wav)) == []
    assert {r.status for r in results.values()} == {"rendered"}
    assert results["count"].outputs["count.txt"].read_text().startswith("7 letters")
    again = run_jobs(jobs, Cache(tmp_path / "cache"))
    assert {r.status for r in again.values()} == {"cached"}


def test_cli_build_on_a_dask_scheduler(tmp_path, monkeypatch):
    """`cell35 build --scheduler tcp://...`: the render jobs run on the cluster's workers."""
    from distributed import LocalCluster
    from typer.testing import CliRunner

    from producers.cli import app
    from tests.conftest import REPO, Tree

    tree = Tree(tmp_path / "content")
    tree.session()
    monkeypatch.chdir(REPO)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        result = CliRunner().invoke(app, ["build", "--content", str(tree.root), "--out", str(tmp_path / "site"),
                                          "--cache", str(tmp_path / "cache"), "--scheduler", cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    import json
    report = json.loads((tmp_path / "site" / "build-report.json").read_text())
    assert report["summary"]["jobs"]["rendered"] >= 2          # session card, article card, report
    assert (tmp_path / "site/sessions/2024-q4/ha-long-sanitation/card.png").is_file()


def test_sweep_removes_scratch_of_dead_owners_even_when_their_process_id_is_reused(tmp_path):
    cache = Cache(tmp_path / "cache")
    mine = cache.scratch("render")
    owner = mine.name.split("-")[-2]                              # "<pid>_<start time>"
    pid = owner.partition("_")[0]
    reused = cache.tmp / mine.name.replace(owner, f"{pid}_1")     # same pid, another process's start
    gone = cache.tmp / mine.name.replace(owner, "4194999_5")       # a pid no process has
    reused.mkdir()
    gone.mkdir()
    assert cache.sweep() == 2
    assert [p.name for p in cache.tmp.iterdir()] == [mine.name]
