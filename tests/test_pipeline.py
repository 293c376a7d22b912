"""Jobs, keys and the content-addressed cache: what is stale is rendered, nothing else."""

from __future__ import annotations

import wave
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path


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


def test_a_job_past_its_time_limit_is_reported(tmp_path):
    job = Job("slow", "video", actions.slow, {"seconds": 3}, (), ("done.txt",), "1", timeout=0.5)
    with ProcessPoolExecutor(1) as pool:
        result = run_jobs([job], Cache(tmp_path / "cache"), executor=pool)["slow"]
    assert result.status == "failed" and result.error == "job ran past its 0 s time limit"


def test_warnings_survive_the_cache(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("x")
    cache = Cache(tmp_path / "cache")
    assert run_jobs([upper_job(source, warn=True)], cache)["upper:a.txt"].warnings == ["shouting"]
    cached = run_jobs([upper_job(source, warn=True)], cache)["upper:a.txt"]
    assert cached.status == "cached" and cached.warnings == ["shouting"]


def test_dask_distributed_runs_the_same_jobs(tmp_path):
    from distributed import Client, LocalCluster

    jobs = [Job(f"tone{hz}", "podcast", actions.tone, {"hz": hz}, (), ("tone.wav",), "1") for hz in (300, 600)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        results = run_jobs(jobs, Cache(tmp_path / "cache"), executor=client.get_executor())
    assert {r.status for r in results.values()} == {"rendered"}
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
    report = json.loads((tmp_path / "site.build-report.json").read_text())
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
