"""ffprobe inspection, EBU R128 measurement and loudness normalisation on real files."""

from __future__ import annotations

import pytest

from producers.media import audio
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
