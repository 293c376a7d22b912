"""Podcast benchmark: episode processing speed and feed generation time, against baselines.

    .venv/bin/python bench/podcast_bench.py [--minutes 30] [--episodes 10000]

1. A generated 30-minute stereo 44.1 kHz MP3 recording, processed as a podcast episode (probe,
   analysis pass, limit+encode pass, ID3 tags + chapters): audio seconds per wall second, against a
   plain ffmpeg MP3 transcode of the same file in the same run; also the tools' CPU time of both.
   ``--only-recording`` runs this part alone; ``--rounds 3`` runs the two in turn three times and
   prints the medians.
2. A synthesised script (espeak-ng, sentence by sentence): the same figure, against the same
   baseline rate.
3. Feeds for 10,000 episodes (site-wide + per cell + per language, with Podcasting 2.0 tags),
   against a bare feedgen RSS of the same 10,000 items (title, link, guid, enclosure only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedgen.feed import FeedGenerator  # noqa: E402

from producers.build import feeds  # noqa: E402
from producers.media import audio, speech, tools  # noqa: E402
from producers.kinds import podcast  # noqa: E402
from producers.content.model import Cell, PodcastChannel, SiteConfig  # noqa: E402

TEXT = ("Good evening, everyone, and welcome to this session of our cell. Tonight we talk about how false "
        "information spreads in our neighbourhood chat groups, and what each of us can do before sharing a "
        "message. First, check who wrote it. Second, look for the same news from a source you trust. Third, "
        "if you are unsure, ask before you forward it! Thank you for listening, and see you next quarter.")


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def children_cpu() -> float:
    """CPU seconds of finished child processes (ffmpeg): less swayed by other load than wall time (though a
    crowded machine still inflates it), and blind to the two cores working at once."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_both(action) -> tuple[float, float]:
    """(wall s, child CPU s) of ``action``."""
    cpu = children_cpu()
    wall = timed(action)
    return wall, children_cpu() - cpu


def make_recording(work: Path, minutes: float) -> Path:
    """A long, speech-like stereo recording: espeak-ng speech looped, quieter than the target."""
    seed = work / "seed.wav"
    speech.speech_timings(speech.split_sentences(TEXT), "en", seed)
    recording = work / "recording.mp3"
    tools.run(["ffmpeg", "-nostdin", "-hide_banner", "-y", "-stream_loop", "-1", "-i", seed, "-t", str(minutes * 60),
               "-af", "volume=-9dB", "-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", recording],
              outputs=[recording], timeout=1800, what="ffmpeg (bench recording)")
    return recording


def episode_params(**extra) -> dict:
    params = {"product": "bench/01-podcast.md", "title": "Bench episode", "summary": "A long one.",
              "cell": "ha-long", "cell_name": "Ha Long cell", "show": "Bench", "date": "2024-10-12",
              "language": "en", "script": "", "chapters": [], "authors": [], "roles": [],
              "outputs": list(podcast.OUTPUTS), "guid": podcast.episode_guid("2024-q4/bench", "01-podcast"),
              "max_seconds": podcast.MAX_SECONDS}
    params.update(extra)
    return params


def bench_recording(work: Path, minutes: float, rounds: int = 1) -> tuple[float, float]:
    """Baseline and episode processing, ``rounds`` times in turn; the median of each figure is printed
    (a load that changes while one of the two runs skews a single round's ratio either way)."""
    recording = make_recording(work, minutes)
    seconds = audio.probe(recording).duration
    chapters = [[i * 300.0, f"Part {i + 1}", ""] for i in range(int(seconds // 300))]
    params = episode_params(roles=["audio"], chapters=chapters)
    load_before = os.getloadavg()[0]
    figures = []       # (baseline wall, baseline CPU, episode wall, episode CPU) per round
    for number in range(rounds):
        baseline, baseline_cpu = timed_both(lambda: audio.transcode_mp3(recording, work / "baseline.mp3",
                                                                        bitrate="96k"))
        out = work / f"episode-recording-{number}"
        out.mkdir()
        ours, ours_cpu = timed_both(lambda: podcast.render_episode(params, (recording,), out))
        figures.append((baseline, baseline_cpu, ours, ours_cpu))
        if rounds > 1:
            print(f"  round {number + 1}: {ours / baseline:.2f}x wall, {ours_cpu / baseline_cpu:.2f}x CPU")
    baseline, baseline_cpu, ours, ours_cpu = (statistics.median(column) for column in zip(*figures))
    wall_ratio = statistics.median(o / b for b, _, o, _ in figures)
    cpu_ratio = statistics.median(o / b for _, b, _, o in figures)
    loudness = audio.measure_loudness(out / "episode.mp3")
    print(f"recording, {seconds / 60:.0f} min stereo MP3" + (f" (medians of {rounds} rounds):" if rounds > 1 else ":"))
    print(f"  plain ffmpeg MP3 transcode (baseline): {baseline:7.1f} s  = {seconds / baseline:7.1f} audio s per wall s")
    print(f"  podcast episode processing:            {ours:7.1f} s  = {seconds / ours:7.1f} audio s per wall s"
          f"  -> {wall_ratio:.2f}x the baseline's time")
    print(f"  CPU time of the tools: baseline {baseline_cpu:.1f} s, episode {ours_cpu:.1f} s"
          f"  -> {cpu_ratio:.2f}x (wall time is the figure on an idle machine)")
    print(f"  published loudness {loudness.integrated:.1f} LUFS (target -16), true peak {loudness.true_peak:.1f} dBTP")
    # The processing uses both cores and the baseline one: when others keep the cores busy, the wall ratio
    # drifts towards the CPU ratio.
    print(f"  load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)")
    return seconds / ours, seconds / baseline


def bench_script(work: Path, baseline_rate: float, repeats: int) -> None:
    script = "\n\n".join(f"## Part {i + 1}\n\n{TEXT}" for i in range(repeats))
    out = work / "episode-script"
    out.mkdir()
    params = episode_params(script=script, outputs=list(podcast.OUTPUTS) + ["transcript.vtt", "transcript.srt",
                                                                            "chapters.json"])
    ours = timed(lambda: podcast.render_episode(params, (), out))
    seconds = audio.probe(out / "episode.mp3").duration
    sentences = len(speech.split_sentences(speech.plain_text(script)))
    print(f"synthesised script, {sentences} sentences, {seconds / 60:.1f} min mono:")
    print(f"  podcast episode processing:            {ours:7.1f} s  = {seconds / ours:7.1f} audio s per wall s"
          f"  -> {baseline_rate / (seconds / ours):.1f}x the baseline's time per audio second")


def bench_feeds(count: int) -> None:
    site = SiteConfig(title="Bench", base_url="https://example.org/", language="vi")
    channel = PodcastChannel(title="Bench", author="Bench", owner={"name": "E", "email": "e@example.org"},
                             description="Bench feed.", image="media/podcast.png")
    cells = {f"cell-{i}": Cell(id=f"cell-{i}", name=f"Cell {i}", committee="C", area="A", language="vi")
             for i in range(40)}
    episodes = []
    for i in range(count):
        page = f"https://example.org/sessions/2024-q{1 + i % 4}/cell-{i % 40}-s{i}/01-podcast/"
        episodes.append(podcast.Episode(
            title=f"Episode {i}", page_url=page, enclosure_url=page + "e.mp3", length=5_000_000 + i,
            duration=600 + i % 900, pub_date=podcast.episode_pub_date(dt.date(2015, 1, 1) + dt.timedelta(days=i % 3650),
                                                                    "01-podcast"),
            guid=podcast.episode_guid(f"q/s{i}", "01-podcast"), language=("vi", "en", "hi")[i % 3],
            cell=f"cell-{i % 40}", cell_name=f"Cell {i % 40}", description="Tiếng Việt có dấu. " * 20,
            transcript_url=page + "e.vtt", transcript_srt_url=page + "e.srt", chapters_url=page + "c.json",
            chapters=((0.0, "Start"), (120.0, "Middle")), persons=(("Host", "host"),)))

    def bare() -> bytes:
        fg = FeedGenerator()
        fg.title("Bench")
        fg.link(href="https://example.org/")
        fg.description("Bench feed.")
        for episode in episodes:
            fe = fg.add_entry(order="append")
            fe.title(episode.title)
            fe.link(href=episode.page_url)
            fe.guid(episode.guid, permalink=False)
            fe.enclosure(episode.enclosure_url, str(episode.length), "audio/mpeg")
        return fg.rss_str()

    baseline = timed(bare)
    result = {}
    ours = timed(lambda: result.update(feeds.build_feeds(episodes, channel, site, cells=cells)))
    entries = sum(len(f.episodes) for f in feeds.plan_feeds(episodes, channel, site, cells))
    size = sum(len(xml) for xml in result.values())
    print(f"feeds for {count:,} episodes ({len(result)} feeds, {entries:,} items, {size / 1e6:.1f} MB of XML):")
    print(f"  bare feedgen RSS, one feed (baseline): {baseline:7.2f} s")
    print(f"  build_feeds, all feeds:                {ours:7.2f} s  -> {ours / baseline:.1f}x the baseline; "
          f"{ours / entries * 1e6:.0f} us per item vs {baseline / count * 1e6:.0f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the generated recording")
    parser.add_argument("--script-parts", type=int, default=20, help="paragraphs in the synthesised script")
    parser.add_argument("--episodes", type=int, default=10_000, help="episodes in the feed benchmark")
    parser.add_argument("--only-recording", action="store_true", help="run part 1 only")
    parser.add_argument("--rounds", type=int, default=1, help="part 1's baseline and processing, this many times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podcast-bench.") as temp:
        work = Path(temp)
        _, baseline_rate = bench_recording(work, args.minutes, args.rounds)
        if not args.only_recording:
            bench_script(work, baseline_rate, args.script_parts)
    if not args.only_recording:
        bench_feeds(args.episodes)


if __name__ == "__main__":
    main()
