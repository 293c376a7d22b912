"""Video benchmark: a 60-second 16:9 storyboard of stills with captions and narration.

Producer (plan + render jobs: the soundtrack job, then the 16:9 job; espeak-ng narration, stills with captions drawn by the text engine,
crossfades, cards, audio mix + loudness normalisation, H.264/AAC MP4, poster, captions) against one
direct ffmpeg command given the same pre-drawn stills and the finished soundtrack (concat demuxer of the
producer's stills and crossfade frames, same x264 settings), measured in the same run, alternating, median of N rounds.

    .venv/bin/python bench/video_bench.py [--rounds 3] [--ken-burns]

Target: producer / direct <= 1.3; output under 2 MB per 30 s at 720p.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from producers.media import video  # noqa: E402
from producers.kinds import video as video_kind  # noqa: E402
from producers.jobs.pipeline import Cache, run_jobs  # noqa: E402

from video_support import context, photo, write_tree  # noqa: E402

SENTENCES = [
    "Our cell met on Saturday to clean the canal.",
    "Twelve members came with gloves and bags.",
    "We collected plastic from both banks.",
    "Children from the school joined us.",
    "The ward office lent us a small boat.",
    "By noon the water ran clear again.",
    "We sorted the waste for recycling.",
    "Neighbours brought tea and fruit.",
    "We talked about keeping it clean.",
    "The next clean up is in December.",
    "Everyone is welcome to join.",
    "Thank you to all who took part.",
]
SCENE_SECONDS = 4.5          # 12 scenes + 3 s title card + 3 s end card = 60 s


def storyboard(root: Path) -> Path:
    scenes = "".join(f"- image: media/p{n + 1}.jpg\n  caption: {text}\n  narration: {text}\n  duration: {SCENE_SECONDS}\n"
                     for n, text in enumerate(SENTENCES))
    md = f"---\ntype: video\ntitle: Cleaning the canal together\nshapes: [\"16:9\"]\nscenes:\n{scenes}---\n"
    write_tree(root, md, photos=0)
    for n in range(len(SENTENCES)):          # phone-sized photos
        photo(root / "sessions/2024-q4/ha-long-sanitation/media" / f"p{n + 1}.jpg", size=(4000, 3000), seed=n)
    return root


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg, espeak-ng): load-independent."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


CPU: dict[str, list[float]] = {"producer": [], "direct": [], "ken-burns": []}


def producer_run(root: Path, cache: Path, motion: bool) -> tuple[float, Path]:
    cpu = cpu_seconds()
    started = time.perf_counter()
    ctx = context(root)
    jobs = [j for j in video_kind.VideoProducer().plan(ctx) if j.kind == "video"]
    jobs = [dataclasses.replace(j, params=dict(j.params, motion=motion)) if "shape" in j.params else j for j in jobs]
    results = run_jobs(jobs, Cache(cache))     # the soundtrack job, then the 16:9 job
    seconds = time.perf_counter() - started
    # the jobs ran in processes of their own: their CPU time (tools included) comes with their results
    CPU["ken-burns" if motion else "producer"].append(cpu_seconds() - cpu + sum(r.cpu for r in results.values()))
    failed = [r for r in results.values() if r.status != "rendered"]
    if failed:
        raise SystemExit(f"producer failed: {failed[0].error}\n{failed[0].detail}")
    return seconds, results[ctx.job_name("video-16x9")].outputs[video_kind.video_name("16:9")]


def predrawn_stills(root: Path, work: Path) -> tuple[Path, float]:
    """The producer's own pictures as PNGs plus a concat list: its stills (captions burned in) and
    its crossfade frames, each for as long as the producer shows it, so both make the same video."""
    ctx = context(root)
    job = [j for j in video_kind.VideoProducer().plan(ctx) if "shape" in j.params][0]
    params = dict(job.params, motion=False, shape="16:9")
    frame = video.shape("16:9")
    durations = [SCENE_SECONDS] * len(SENTENCES)
    clips, _ = video_kind.build_clips(params, job.files, frame, durations)
    fps, fade = video.FPS, video.FADE_SECONDS
    sent, total = video.frames_to_send(clips, fps, fade)
    starts = [sum(c.duration for c in clips[:k]) for k in range(len(clips))]
    fades = video.fade_lengths([c.duration for c in clips], fade)
    lines = []
    for n, (index, k) in enumerate(sent):
        t = (index + 0.5) / fps
        image = clips[k].image
        end = starts[k] + clips[k].duration
        if k < len(clips) - 1 and fades[k] > 0 and t > end - fades[k] / 2:
            image = Image.blend(image, clips[k + 1].image, (t - (end - fades[k] / 2)) / fades[k])
        elif k > 0 and fades[k - 1] > 0 and t < starts[k] + fades[k - 1] / 2:
            image = Image.blend(clips[k - 1].image, image, (t - (starts[k] - fades[k - 1] / 2)) / fades[k - 1])
        name = work / f"frame-{n:04d}.png"
        image.save(name, compress_level=1)
        following = sent[n + 1][0] if n + 1 < len(sent) else total
        lines.append(f"file '{name}'\nduration {(following - index) / fps:.6f}\n")
    lines.append(f"file '{work / f'frame-{len(sent) - 1:04d}.png'}'\n")
    listing = work / "stills.txt"
    listing.write_text("".join(lines))
    return listing, total / fps


def direct_run(listing: Path, soundtrack: Path, out: Path) -> float:
    cpu = cpu_seconds()
    started = time.perf_counter()
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(soundtrack),
                    "-vf", f"format=yuv420p,fps={video.FPS}", *video.X264, "-c:a", "aac", "-b:a", "64k",
                    "-shortest", "-movflags", "+faststart", str(out)], check=True)
    seconds = time.perf_counter() - started
    CPU["direct"].append(cpu_seconds() - cpu)
    return seconds


def duration_of(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ken-burns", action="store_true", help="also time the default Ken Burns photos")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="video-bench.") as temp:
        work = Path(temp)
        root = storyboard(work / "content")
        listing, total = predrawn_stills(root, work)
        # The direct command gets the producer's finished soundtrack, decoded to WAV.
        _, first = producer_run(root, work / "cache-warm", motion=False)
        soundtrack = work / "soundtrack.wav"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(first), "-vn", str(soundtrack)],
                       check=True)
        producer_times, direct_times, kb_times = [], [], []
        out = first
        for n in range(args.rounds):
            seconds, out = producer_run(root, work / f"cache-{n}", motion=False)
            producer_times.append(seconds)
            direct_times.append(direct_run(listing, soundtrack, work / f"direct-{n}.mp4"))
            if args.ken_burns:
                seconds, kb_out = producer_run(root, work / f"cache-kb-{n}", motion=True)
                kb_times.append(seconds)
        producer_s, direct_s = statistics.median(producer_times), statistics.median(direct_times)
        size = out.stat().st_size
        length = duration_of(out)
        direct_size = (work / "direct-0.mp4").stat().st_size
        print(f"storyboard: {len(SENTENCES)} photo scenes with captions + narration, {total:.1f} s, 1280x720, "
              f"{video.FPS} fps")
        print(f"producer (stills): {producer_s:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in producer_times)})")
        print(f"direct ffmpeg concat: {direct_s:.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in direct_times)})")
        print(f"ratio producer / direct: {producer_s / direct_s:.2f}  (target <= 1.3)")
        cpu_p, cpu_d = statistics.median(CPU["producer"][1:]), statistics.median(CPU["direct"])
        print(f"CPU seconds (user+sys, with children): producer {cpu_p:.2f}, direct {cpu_d:.2f}, "
              f"ratio {cpu_p / cpu_d:.2f}")
        print(f"producer output: {size / 1e6:.2f} MB for {length:.2f} s = {size / 1e6 * 30 / length:.2f} MB per 30 s "
              f"(target < 2); direct output: {direct_size / 1e6:.2f} MB")
        if kb_times:
            kb_s = statistics.median(kb_times)
            kb_size = kb_out.stat().st_size
            print(f"producer with Ken Burns on every photo: {kb_s:.2f} s, ratio {kb_s / direct_s:.2f}, "
                  f"CPU {statistics.median(CPU['ken-burns']):.2f} s, "
                  f"{kb_size / 1e6 * 30 / duration_of(kb_out):.2f} MB per 30 s")


if __name__ == "__main__":
    main()
