"""ffprobe inspection, EBU R128 measurement and loudness normalisation on real files."""

from __future__ import annotations

import math
import wave

import numpy as np
import pytest

from producers.media import audio, tools
from producers.errors import ProducerError

from podcast_support import silence, spoken, tone, video_only, video_with_sound


@pytest.mark.parametrize("name, rate, channels", [
    ("a.mp3", 44_100, 2), ("a.m4a", 48_000, 2), ("a.wav", 8_000, 1), ("a.ogg", 32_000, 1),
    ("a.opus", 48_000, 2), ("a.flac", 96_000, 2),
])
def test_probe_reads_every_accepted_format(tmp_path, name, rate, channels):
    path = spoken(tmp_path / name, rate=rate, channels=channels)
    info = audio.probe(path)
    assert 3.0 < info.duration < 8.0
    assert info.channels == channels
    assert info.sample_rate == rate or name.endswith(".opus")   # opus always decodes at 48 kHz
    assert not info.has_video


def test_probe_flags_a_video_given_as_audio(tmp_path):
    assert audio.probe(video_with_sound(tmp_path / "clip.mp4")).has_video


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"ID3\x03\x00" + bytes(range(256)) * 40), "not a readable audio file"),
    (lambda p: p.write_text("<html>not audio</html>"), "not a readable audio file"),
])
def test_probe_refuses_broken_files(tmp_path, make, message):
    path = tmp_path / "broken.mp3"
    make(path)
    with pytest.raises(ProducerError, match=message):
        audio.probe(path)


def test_probe_refuses_a_video_without_sound(tmp_path):
    with pytest.raises(ProducerError, match="no audio stream"):
        audio.probe(video_only(tmp_path / "mute.mp4"))


def test_measure_loudness_of_a_reference_tone(tmp_path):
    # EBU Tech 3341: a 997 Hz sine at -20 dBFS in one channel reads -23 LUFS (+-0.1).
    result = audio.measure_loudness(tone(tmp_path / "tone.wav", amplitude=0.1))
    assert result.integrated == pytest.approx(-23.0, abs=0.2)
    assert result.true_peak == pytest.approx(-20.0, abs=0.3)


@pytest.mark.parametrize("channels, target, bitrate", [(1, -19.0, "64k"), (2, -16.0, "96k")])
def test_espeak_speech_reaches_the_target_loudness(tmp_path, channels, target, bitrate):
    source = tmp_path / "espeak.wav"
    from producers.media import speech
    speech.speech_timings(["Welcome to the podcast of our cell.", "Today we talk about safety online.",
                           "Check every claim before you share it!"], "en", source)
    out = tmp_path / "out.mp3"
    levelled = audio.normalise(source, out, target_lufs=target, channels=channels, bitrate=bitrate)
    measured = audio.measure_loudness(out)
    assert measured.integrated == pytest.approx(target, abs=0.5)
    # What the render measured on its way to the encoder is what the file reads (no third pass needed).
    assert levelled.integrated == pytest.approx(measured.integrated, abs=0.3)
    assert levelled.peak_ceiling == pytest.approx(-1.5 - audio.LIMITER_MARGIN)
    assert measured.true_peak <= -1.5
    info = audio.probe(out)
    assert (info.codec, info.channels, info.sample_rate) == ("mp3", channels, 44_100)


def test_a_quiet_stereo_recording_is_lifted(tmp_path):
    source = spoken(tmp_path / "quiet.m4a", volume_db=-24)
    assert audio.measure_loudness(source).integrated < -35
    out = tmp_path / "out.wav"
    audio.normalise(source, out, target_lufs=-16.0)
    measured = audio.measure_loudness(out)
    assert measured.integrated == pytest.approx(-16.0, abs=0.5)
    assert measured.true_peak <= -1.5
    assert audio.probe(out).channels == 2


def test_silence_is_refused_by_name(tmp_path):
    with pytest.raises(ProducerError, match="silent") as caught:
        audio.normalise(silence(tmp_path / "quiet.wav"), tmp_path / "out.mp3", what="02-podcast.md audio")
    assert "02-podcast.md audio" in str(caught.value)
    assert not (tmp_path / "out.mp3").exists()


# --- the analysis in two halves at once (long inputs) ----------------------------------------

def samples(path):
    """A 16-bit WAV's samples as floats, one row per frame."""
    with wave.open(str(path)) as handle:
        frames = handle.readframes(handle.getnframes())
        return np.frombuffer(frames, "<i2").reshape(-1, handle.getnchannels()) / 32768.0


def test_a_steady_tone_keeps_its_level_across_the_seam_of_a_split_analysis(tmp_path, monkeypatch):
    ran = []
    real_run = tools.run

    def noting_run(args, **kwargs):      # the real ffmpeg, its runs noted
        ran.append(kwargs.get("what", ""))
        return real_run(args, **kwargs)

    monkeypatch.setattr(tools, "run", noting_run)
    monkeypatch.setattr(audio, "SPLIT_MIN_SECONDS", 1.0)
    source = tone(tmp_path / "tone.wav", seconds=8.0, amplitude=0.3, rate=44_100)
    audio.normalise(source, tmp_path / "out.wav", channels=1)
    assert sum("analysis" in what and "part" in what for what in ran) == 2      # it was split
    levels = samples(tmp_path / "out.wav")[:, 0]
    assert len(levels) == 8 * 44_100                       # nothing lost or doubled at the seam
    seam = round(8.0 * audio.SPLIT_SHARE, 1)
    assert 1.0 < seam < 7.0
    # RMS of every 20 ms window from 1 s to 7 s: one steady level, no dip, no jump where the halves meet.
    windows = levels[44_100:7 * 44_100].reshape(-1, 882)
    rms = 20 * np.log10(np.sqrt((windows ** 2).mean(axis=1)))
    assert rms.max() - rms.min() < 0.5
    assert audio.measure_loudness(tmp_path / "out.wav").integrated == pytest.approx(-16.0, abs=0.5)


def test_speech_analysed_in_two_halves_is_what_one_pass_analyses(tmp_path):
    """The halves' loudness is the single pass's: the compressor reaches the seam in the state a single
    pass has it in, and the second half's seek lands where decoding from the start would."""
    text = ("Good evening and welcome. Tonight we talk about rumours in the chat groups. Check who wrote a message. "
            "Look for the same news from a source you trust. Ask before you forward it. Thank you for listening.")
    source = spoken(tmp_path / "talk.mp3", text, rate=44_100, volume_db=-12)
    chain = f"aformat=channel_layouts=stereo,highpass=f=60,{audio.COMPRESSOR}"
    duration = audio.probe(source).duration
    seam = round(duration * audio.SPLIT_SHARE, 1)
    whole = audio._analyse(source, chain, "talk")
    assert audio._analyse_split(source, chain, seam, duration, "talk") == pytest.approx(whole, abs=0.1)
    assert audio._analyse_split(source, chain, seam, duration, "talk", seek=False) == pytest.approx(whole, abs=0.1)
    assert [p.name for p in tmp_path.iterdir()] == ["talk.mp3"]          # nothing left beside it


def test_a_seek_that_lands_elsewhere_is_measured_again_from_the_start(tmp_path, monkeypatch):
    """A second half that logs far more blocks than its length allows (a demuxer that cannot seek starts
    from the beginning) is decoded again from the start, not counted twice."""
    ran = []
    real_run = tools.run

    def noting_run(args, **kwargs):
        ran.append([str(a) for a in args])
        return real_run(args, **kwargs)

    monkeypatch.setattr(tools, "run", noting_run)
    source = spoken(tmp_path / "talk.wav", rate=44_100, volume_db=-12)
    chain = f"aformat=channel_layouts=mono,highpass=f=60,{audio.COMPRESSOR}"
    duration = audio.probe(source).duration
    seam = round(duration / 2, 1)
    whole = audio._analyse(source, chain, "talk")
    ran.clear()
    # told the input is 5 s longer than it is, the second half's block count disagrees with its seek
    measured = audio._analyse_split(source, chain, seam, duration + 5, "talk")
    assert len(ran) == 3 and "-ss" in ran[1] and "-ss" not in ran[2]
    assert measured == pytest.approx(whole, abs=0.1)


def test_loudness_gated_from_the_block_log_is_ebur128s_own(tmp_path):
    source = spoken(tmp_path / "talk.wav", rate=44_100, volume_db=-6)
    result = tools.run(["ffmpeg", "-nostdin", "-hide_banner", *audio.input_args(source), "-af",
                        "ebur128=framelog=info", "-f", "null", "-"], timeout=60, what="ffmpeg ebur128")
    log = result.stderr.decode()
    assert audio.gated_loudness(audio._blocks(log)) == pytest.approx(audio._summary(log, "talk")[0], abs=0.1)
    assert audio.gated_loudness([-120.7, -80.0]) == -math.inf
