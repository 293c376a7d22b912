"""Jobs, keys and the content-addressed cache: what is stale is rendered, nothing else."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import wave
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from producers.jobs.pipeline import KEEP_BUILDS, Cache, FileHasher, Job, job_key, run_jobs
from tests import pipeline_support as actions
from tests.conftest import REPO


def upper_job(path: Path, **params) -> Job:
    return Job(name=f"upper:{path.name}", kind="article", action=actions.upper, params=params, files=(path,),
               outputs=("upper.txt",))


def test_first_run_renders_second_run_is_cached(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("xin chào")
    cache = Cache(tmp_path / "cache")
    first = run_jobs([upper_job(source)], cache)["upper:a.txt"]
    assert first.status == "rendered"
    assert first.outputs["upper.txt"].read_text() == "XIN CHÀO"
    second = run_jobs([upper_job(source)], cache)["upper:a.txt"]
    assert second.status == "cached" and second.outputs == first.outputs


def test_key_follows_bytes_and_params_not_mtime(tmp_path):
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


KEY_SCRIPT = """
from producers.jobs.pipeline import FileHasher, Job, job_key
from keyproj.actions import draw
print(job_key(Job("draw", "article", draw, {}, (), ("out.txt",)), FileHasher()))
"""


def fake_distribution(root: Path, name: str, version: str) -> None:
    """A real installed distribution (what pip leaves): its package and its dist-info folder."""
    for old in root.glob(f"{name}-*.dist-info"):
        shutil.rmtree(old)
    (root / name).mkdir(exist_ok=True)
    (root / name / "__init__.py").write_text("VALUE = 1\n")
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(f"{name}\n")


def test_the_key_follows_the_code_its_libraries_and_data_files_without_a_version_constant(tmp_path):
    """A job's key changes when the code it runs changes: its module, a module it imports, a library
    it imports, a data file it declares; and not when unrelated code or libraries change."""
    proj = tmp_path / "proj"
    package = proj / "keyproj"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "actions.py").write_text(
        "from pathlib import Path\n\nimport fakelib\n\nfrom . import shapes\n\n"
        "KEY_FILES = (Path(__file__).parent / 'palette.bin',)\n\n\n"
        "def draw(params, files, out):\n"
        "    from .inner import margin\n"
        "    (out / 'out.txt').write_text(str(shapes.SIZE + margin()))\n")
    (package / "shapes.py").write_text("SIZE = 10\n")
    (package / "inner.py").write_text("def margin():\n    return 4\n")
    (package / "unused.py").write_text("SIZE = 99\n")
    (package / "palette.bin").write_bytes(b"\x00\x01")
    fake_distribution(proj, "fakelib", "1.0")
    fake_distribution(proj, "otherlib", "1.0")

    def key() -> str:
        env = {**os.environ, "PYTHONPATH": f"{proj}{os.pathsep}{REPO}"}
        done = subprocess.run([sys.executable, "-c", KEY_SCRIPT], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    base = key()
    assert len(base) == 64 and key() == base                   # the same in every process
    (package / "unused.py").write_text("SIZE = 100\n")          # code the action does not import
    fake_distribution(proj, "otherlib", "2.0")                  # a library it does not import
    assert key() == base
    (package / "shapes.py").write_text("SIZE = 11\n")           # a constant in a module it imports
    changed_constant = key()
    assert changed_constant != base
    (package / "shapes.py").write_text("SIZE = 10\n")
    assert key() == base                                         # back: the old output is good again
    (package / "inner.py").write_text("def margin():\n    return 5\n")   # imported inside the function
    assert key() not in (base, changed_constant)
    (package / "inner.py").write_text("def margin():\n    return 4\n")
    fake_distribution(proj, "fakelib", "1.1")                    # an upgrade of a library it imports
    upgraded = key()
    assert upgraded != base
    (package / "palette.bin").write_bytes(b"\x00\x02")         # a data file it declares
    assert key() not in (base, upgraded)


def test_a_drawing_job_s_identity_holds_its_libraries_native_layout_and_fonts():
    from PIL import features

    from producers.media.fonts import KEY_FILES
    from producers.jobs.identity import CodeIdentity

    described = CodeIdentity(FileHasher()).describe("producers.kinds.slides")
    assert {"producers.kinds.slides", "producers.kinds.cards", "producers.media.text", "producers.media.fonts"} <= set(
        described["modules"])
    assert "producers.build.site" not in described["modules"] and "producers.cli" not in described["modules"]
    versions = described["distributions"]
    assert versions["pillow"] == importlib.metadata.version("pillow")
    assert versions["python-pptx"] == importlib.metadata.version("python-pptx")
    assert versions["lxml"] == importlib.metadata.version("lxml")         # required by python-pptx
    assert "mutagen" not in versions and "matplotlib" not in versions
    for layout in ("raqm", "harfbuzz", "fribidi", "freetype2"):
        assert described["native"]["pillow"][layout] == features.version(layout) is not None
    assert set(described["files"]) == {str(path) for path in KEY_FILES} and len(KEY_FILES) == 6
    fonts_only = CodeIdentity(FileHasher()).describe("producers.build.webfonts")
    assert "pillow" not in fonts_only["distributions"] and fonts_only["files"] == {}


SOCIAL_MD = "---\ntype: social-post\ntitle: Clean the canal on Sunday\n---\nJoin us at 7 #canal\n"
RED_CORNER = """

# a drawing change (appended by the test)
_plain_draw_card = draw_card


def draw_card(*args, **kwargs):
    image, truncated = _plain_draw_card(*args, **kwargs)
    image.putpixel((0, 0), (255, 0, 0))
    return image, truncated
"""


def test_a_drawing_change_re_renders_the_jobs_whose_code_holds_it_and_nothing_else(tmp_path):
    from PIL import Image

    from tests.conftest import ARTICLE_MD, Tree

    work = tmp_path / "work"
    work.mkdir()
    tree = Tree(work / "content")
    tree.session(products={"01-article.md": ARTICLE_MD, "02-social-post.md": SOCIAL_MD})
    changed = tmp_path / "changed"
    shutil.copytree(REPO / "producers", changed / "producers", ignore=shutil.ignore_patterns("__pycache__"))
    with open(changed / "producers" / "kinds" / "cards.py", "a", encoding="utf-8") as cards:
        cards.write(RED_CORNER)
    session_card = "sessions/2024-q4/ha-long-sanitation/card.png"
    article_card = "sessions/2024-q4/ha-long-sanitation/01-article/card.png"

    def build(code: Path, out: str) -> tuple[dict[str, str], Path]:
        env = {**os.environ, "PYTHONPATH": str(code), "NO_MKDOCS_2_WARNING": "1"}
        done = subprocess.run([sys.executable, "-m", "producers.cli", "build", "--content", str(tree.root),
                               "--out", str(work / out), "--cache", str(work / ".cache"), "-q", "-j", "2"],
                              cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        report = json.loads((work / f"{out}.build-report.json").read_text())
        return {job["name"]: job["status"] for job in report["jobs"]}, work / out

    def corner(site: Path, relative: str) -> tuple:
        with Image.open(site / relative) as image:
            return image.convert("RGB").getpixel((0, 0))

    before, site = build(REPO, "before")
    cards = {"2024-q4/ha-long-sanitation:card", "2024-q4/ha-long-sanitation/01-article:card"}
    assert cards | {"2024-q4/ha-long-sanitation/02-social-post:images"} < set(before)
    assert set(before.values()) == {"rendered"}
    assert corner(site, session_card) != (255, 0, 0)

    after, changed_site = build(changed, "after")
    # the cards, and the listing thumbnails made from them (their keys hold the cards' keys): nothing else
    redrawn = cards | {"2024-q4/ha-long-sanitation:listing", "2024-q4/ha-long-sanitation/01-article:listing"}
    assert {name for name, status in after.items() if status == "rendered"} == redrawn
    assert {name for name, status in after.items() if status != "rendered"} == set(after) - redrawn
    assert set(after.values()) == {"rendered", "cached"}
    assert corner(changed_site, session_card) == corner(changed_site, article_card) == (255, 0, 0)

    again, site = build(REPO, "again")                      # the old code's outputs are still good
    assert set(again.values()) == {"cached"}
    assert corner(site, session_card) != (255, 0, 0)


def test_concurrent_builds_render_a_job_once(tmp_path):
    """Two processes sharing one cache want the same job: one renders it, the other waits and uses it."""
    log = tmp_path / "runs.log"
    cache = tmp_path / "cache"
    run_jobs([Job("warm", "video", actions.tag, {"tag": "x"}, (), ("tag.txt",))], Cache(cache))  # identity memo
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from producers.jobs.pipeline import Cache, Job, run_jobs\n"
        "from tests import pipeline_support as actions\n"
        "cache, log, go, ready = sys.argv[1:]\n"
        "Path(ready).touch()\n"
        "while not Path(go).exists():\n"
        "    time.sleep(0.005)\n"
        "started = time.time()\n"
        "job = Job('once', 'video', actions.logged_sleep, {'log': log, 'seconds': 2.0}, (), ('done.txt',))\n"
        "result = run_jobs([job], Cache(Path(cache)))['once']\n"
        "print(result.status, started, result.outputs['done.txt'])\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    go = tmp_path / "go"
    processes = [subprocess.Popen([sys.executable, "-c", script, str(cache), str(log), str(go), str(tmp_path / f"r{n}")],
                                  cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in range(2)]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"r{n}").exists() for n in range(2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        status, started, output = out.split()
        outcomes.append((status, float(started), output))
    runs = log.read_text().splitlines()
    assert len(runs) == 1, runs                                        # rendered once, not twice
    _, render_start, render_end = map(float, runs[0].split())
    assert sorted(status for status, _, _ in outcomes) == ["cached", "rendered"]
    assert all(started < render_end for _, started, _ in outcomes)     # both wanted it while it rendered
    assert outcomes[0][2] == outcomes[1][2] and Path(outcomes[0][2]).read_text() == "done"
    assert not list((cache / "locks").iterdir())                       # the lock file went with its holder


def tag_job(tag: str) -> Job:
    return Job(f"tag:{tag}", "article", actions.tag, {"tag": tag}, (), ("tag.txt",))


def test_outputs_no_build_used_for_n_builds_are_pruned(tmp_path):
    cache = Cache(tmp_path / "cache", keep_builds=2)
    first = run_jobs([tag_job("kept"), tag_job("dropped")], cache)
    kept, dropped = first["tag:kept"].outputs["tag.txt"].parent, first["tag:dropped"].outputs["tag.txt"].parent
    run_jobs([tag_job("kept")], cache)
    assert dropped.is_dir()                                 # unused for 1 build: still there
    assert run_jobs([tag_job("kept")], cache)["tag:kept"].status == "cached"
    assert not dropped.exists() and kept.is_dir()           # unused for 2 builds: gone
    assert run_jobs([tag_job("dropped")], cache)["tag:dropped"].status == "rendered"
    assert len(list(cache.builds.iterdir())) == 2           # usage records of older builds go too
    assert KEEP_BUILDS >= 2 and Cache(tmp_path / "other").keep_builds == KEEP_BUILDS


def test_cell35_cache_shows_size_and_prunes(tmp_path):
    from typer.testing import CliRunner

    from producers.cli import _bytes, app

    root = tmp_path / "cache"
    first = run_jobs([tag_job("a" * 1000), tag_job("b")], Cache(root))
    run_jobs([tag_job("b")], Cache(root))
    big = first["tag:" + "a" * 1000].outputs["tag.txt"].parent
    shown = CliRunner().invoke(app, ["cache", "--cache", str(root)])
    assert shown.exit_code == 0, shown.output
    small = first["tag:b"].outputs["tag.txt"].parent
    sizes = {entry: sum(path.stat().st_size for path in entry.iterdir()) for entry in (big, small)}
    assert sizes[big] > 1000
    assert f"job outputs: 2 entries, {_bytes(sizes[big] + sizes[small])}\n" in shown.output
    assert f"used by the last build: 1 entry, {_bytes(sizes[small])}\n" in shown.output
    assert "builds recorded: 2" in shown.output
    assert big.is_dir()                                     # showing never removes
    pruned = CliRunner().invoke(app, ["cache", "--cache", str(root), "--prune", "--keep-builds", "1"])
    assert pruned.exit_code == 0, pruned.output
    assert f"removed 1 entry ({_bytes(sizes[big])})" in pruned.output and "tag:" + "a" * 20 in pruned.output
    assert not big.exists()
    assert run_jobs([tag_job("b")], Cache(root))["tag:b"].status == "cached"
    missing = CliRunner().invoke(app, ["cache", "--cache", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no cache at" in missing.output
    bad = CliRunner().invoke(app, ["cache", "--cache", str(root), "--keep-builds", "0"])
    assert bad.exit_code != 0 and "--keep-builds" in bad.output


def test_tool_version_is_part_of_the_key(tmp_path):
    plain = Job("t", "podcast", actions.tone, {"hz": 440}, (), ("tone.wav",))
    with_tool = Job("t", "podcast", actions.tone, {"hz": 440}, (), ("tone.wav",), tools=("ffmpeg",))
    assert job_key(plain, FileHasher()) != job_key(with_tool, FileHasher())


def test_real_ffmpeg_jobs_in_a_process_pool(tmp_path):
    jobs = [Job(f"tone{hz}", "podcast", actions.tone, {"hz": hz}, (), ("tone.wav",), tools=("ffmpeg",))
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
    jobs = [Job("bad", "podcast", actions.broken_ffmpeg, {}, (bad,), ("x.wav",)), upper_job(good)]
    results = run_jobs(jobs, Cache(tmp_path / "cache"), executor=ThreadPoolExecutor(2))
    assert results["bad"].status == "failed"
    assert results["bad"].error == "ffmpeg failed (exit status 1)"
    assert "bad.mp3: Invalid argument" in results["bad"].detail      # the tail of ffmpeg's stderr
    assert results["upper:good.txt"].status == "rendered"
    assert not list((tmp_path / "cache" / "tmp").iterdir())       # no half-written entries left


def test_a_job_that_forgets_an_output_fails_and_is_not_cached(tmp_path):
    job = Job("lazy", "video", actions.forgets_output, {}, (), ("movie.mp4",))
    result = run_jobs([job], Cache(tmp_path / "cache"))["lazy"]
    assert result.status == "failed" and result.error == "render finished without writing movie.mp4"
    assert run_jobs([job], Cache(tmp_path / "cache"))["lazy"].status == "failed"


def test_a_job_past_its_time_limit_is_reported_on_any_executor(tmp_path):
    job = Job("slow", "video", actions.slow, {"seconds": 30}, (), ("done.txt",), timeout=0.5)
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
    stuck = Job("stuck", "video", actions.never_ending_tool, {"wav": str(wav)}, (), ("x.wav",), timeout=3)
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
from producers.jobs.pipeline import Cache, Job, run_jobs
from tests import pipeline_support as actions
job = Job("stuck", "video", actions.never_ending_tool, {"wav": sys.argv[1]}, (), ("x.wav",), timeout=600)
run_jobs([job], Cache(Path(sys.argv[2])), workers=1, executor=ThreadPoolExecutor(1) if sys.argv[3] == "any" else None)
"""


@pytest.mark.parametrize("executor", ["own", "any"])
def test_a_killed_runner_takes_its_jobs_and_their_tools_with_it(tmp_path, executor, child_tmpdir):
    """SIGKILL (nothing can catch it) of the process running the jobs: no job, tool or helper outlives it,
    and the payload a fresh interpreter reads its job from is not left behind."""
    wav = tmp_path / "never.wav"
    temp = child_tmpdir
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(wav), str(tmp_path / "cache"), executor],
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
                                   "TMPDIR": str(temp)})
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
    assert list(temp.glob("cell35-job.*")) == []


def test_a_job_over_the_memory_limit_fails_alone_naming_the_limit(tmp_path):
    limit = 512 * 1024 ** 2
    hog = Job("hog", "photo-series", actions.hog, {"bytes": 2 * limit}, (), ("hog.txt",))
    modest = Job("modest", "photo-series", actions.hog, {"bytes": 64 * 1024 ** 2}, (), ("hog.txt",))
    tone = Job("tone", "podcast", actions.tone, {"hz": 440}, (), ("tone.wav",), tools=("ffmpeg",))
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

    from producers.build.site import BuildOptions, build_site
    from tests.conftest import Tree

    tree = Tree(tmp_path / "content")
    series = "---\ntype: photo-series\ntitle: Huge\nphotos:\n- {file: media/huge.png, caption: Big, alt: Big}\n---\n"
    folder = tree.session(products={"01-article.md": "---\ntype: article\ntitle: An article\n---\nText.\n",
                                    "02-photo-series.md": series})
    (folder / "media").mkdir()
    Image.new("RGB", (7700, 7700), "#336699").save(folder / "media" / "huge.png")
    result = build_site(BuildOptions(content=tree.root, out=tmp_path / "site", cache_dir=tmp_path / "cache",
                                     jobs=2, job_memory=512 * 1024 ** 2))
    products = {p["kind"]: p for session in result.report["sessions"] for p in session["products"]}
    assert products["article"]["status"] == "published"
    assert (tmp_path / "site/sessions/2024-q4/ha-long-sanitation/01-article/index.html").is_file()
    assert products["photo-series"]["status"] == "left out"
    error, *consequences = products["photo-series"]["errors"]     # then: the series had no photo to show
    assert all("photo 1 of 1 (media/huge.png): it did not render" in line for line in consequences)
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
    return Job("count", "article", actions.count_letters, {}, (), ("count.txt",), needs={"text": needs})


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
        return Job(name, "video", actions.note, {"name": name, "log": str(log)}, (), ("note.txt",),
                   timeout=limit, needs=needs)

    jobs = [job("card", 10), job("video", 100), job("shape", 50, sound="sound"), job("sound", 5)]
    results = run_jobs(jobs, Cache(tmp_path / "cache"), workers=1)
    assert {r.status for r in results.values()} == {"rendered"}
    assert log.read_text().split() == ["sound", "video", "shape", "card"]


def test_a_failed_dependency_fails_its_dependents_naming_it(tmp_path):
    lazy = Job("lazy", "video", actions.forgets_output, {}, (), ("upper.txt",))
    results = run_jobs([lazy, count_job("lazy")], Cache(tmp_path / "cache"))
    assert results["count"].status == "failed"
    assert results["count"].error == "needs lazy, which failed: render finished without writing upper.txt"
    missing = run_jobs([count_job("nowhere")], Cache(tmp_path / "cache"))["count"]
    assert missing.status == "failed" and missing.error == "needs nowhere, which is not planned in this build"
    loop = [Job("a", "article", actions.count_letters, {}, (), ("count.txt",), needs={"text": "b"}),
            Job("b", "article", actions.count_letters, {}, (), ("count.txt",), needs={"text": "a"})]
    cycle = run_jobs(loop, Cache(tmp_path / "cache"))
    assert cycle["a"].error == "its dependencies form a cycle: a -> b -> a"
    assert cycle["b"].status == "failed"


def test_a_wanted_job_that_fails_leaves_its_input_out_and_the_dependent_renders(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("ok")
    uses = Job("uses", "article", actions.maybe, {}, (), ("maybe.txt",), wants={"maybe": "upper:a.txt"})
    lazy = Job("upper:a.txt", "article", actions.forgets_output, {}, (), ("upper.txt",))
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

    jobs = [Job(f"tone{hz}", "podcast", actions.tone, {"hz": hz}, (), ("tone.wav",)) for hz in (300, 600)]
    source = tmp_path / "a.txt"
    source.write_text("xin chào")
    jobs += [upper_job(source), count_job(f"upper:{source.name}")]
    wav = tmp_path / "never.wav"
    stuck = Job("stuck", "video", actions.never_ending_tool, {"wav": str(wav)}, (), ("x.wav",), timeout=3)
    limit = 512 * 1024 ** 2
    hog = Job("hog", "photo-series", actions.hog, {"bytes": 2 * limit}, (), ("hog.txt",))
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
    from distributed import Client, LocalCluster
    from PIL import Image
    from typer.testing import CliRunner

    from producers.cli import app
    from tests.conftest import Tree

    tree = Tree(tmp_path / "content")
    tree.session()
    monkeypatch.chdir(REPO)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        result = CliRunner().invoke(app, ["build", "--content", str(tree.root), "--out", str(tmp_path / "site"),
                                          "--cache", str(tmp_path / "cache"), "--scheduler", cluster.scheduler_address])
        with Client(cluster) as client:
            executed = sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "site.build-report.json").read_text())
    statuses = {job["name"]: job["status"] for job in report["jobs"]}
    assert {"2024-q4/ha-long-sanitation:card", "2024-q4/ha-long-sanitation/01-article:card"} <= set(statuses)
    assert set(statuses.values()) == {"rendered"}
    assert executed == len(statuses)                          # every one of them on the cluster's worker
    for card in ("card.png", "01-article/card.png"):
        with Image.open(tmp_path / "site/sessions/2024-q4/ha-long-sanitation" / card) as image:
            assert image.size == (1200, 630)


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


def test_sweep_removes_scratch_of_an_owner_that_died_but_is_not_reaped_yet(tmp_path):
    """A killed build's render workers are orphans that init reaps when it gets round to it (a second
    or two here): until then they are zombies, with their /proc entries and start times. The next
    build's sweep must count them dead, or their scratch outlives it."""
    cache = Cache(tmp_path / "cache")
    script = "import sys; from pathlib import Path; from producers.jobs.pipeline import Cache; " \
             "print(Cache(Path(sys.argv[1])).scratch('render'), flush=True)"
    child = subprocess.Popen([sys.executable, "-c", script, str(cache.root)], cwd=REPO, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        scratch = Path(child.stdout.readline().strip())
        deadline = time.monotonic() + 60
        while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.01)
        assert scratch.is_dir() and scratch.parent == cache.tmp
        assert cache.sweep() == 1
        assert not scratch.exists()
    finally:
        child.stdout.close()
        child.wait()


def test_cell35_build_prunes_what_the_last_n_builds_did_not_use(tmp_path):
    """--keep-builds 1: the card of a title that changed is gone after the build that no longer uses it."""
    from typer.testing import CliRunner

    from producers.cli import app
    from tests.conftest import ARTICLE_MD, Tree

    tree = Tree(tmp_path / "content")
    tree.session(products={"01-article.md": ARTICLE_MD})
    cache = tmp_path / "cache"

    def build() -> dict[str, str]:
        run = CliRunner().invoke(app, ["build", "--content", str(tree.root), "--out", str(tmp_path / "site"),
                                       "--cache", str(cache), "-q", "-j", "1", "--keep-builds", "1"])
        assert run.exit_code == 0, run.output
        report = json.loads((tmp_path / "site.build-report.json").read_text())
        return {job["name"]: job["key"] for job in report["jobs"]}

    card = "2024-q4/ha-long-sanitation/01-article:card"
    first = build()
    assert Cache(cache).entry(first[card]).is_dir()
    tree.write("sessions/2024-q4/ha-long-sanitation/01-article.md", ARTICLE_MD.replace("An article", "Renamed"))
    second = build()
    assert second[card] != first[card]
    assert not Cache(cache).entry(first[card]).exists() and Cache(cache).entry(second[card]).is_dir()
    assert all(Cache(cache).entry(key).is_dir() for key in second.values())
