"""espeak-ng speech: every product language speaks, sentences are timed from the audio itself."""

from __future__ import annotations

import wave

import pytest

from producers.content.markdown import spoken_text
from producers.media import speech
from producers.errors import ProducerError


@pytest.mark.parametrize("language, text", [
    ("en", "The cell met on Tuesday evening."),
    ("vi", "Chi bộ sinh hoạt vào tối thứ Ba."),
    ("hi", "इकाई की बैठक मंगलवार शाम को हुई।"),
])
def test_every_product_language_is_spoken(tmp_path, language, text):
    out = tmp_path / f"{language}.wav"
    seconds = speech.synthesize(text, language, out)
    assert 0.8 < seconds < 10
    with wave.open(str(out)) as handle:
        assert handle.getnchannels() == 1
        assert handle.getframerate() == 22_050
        assert abs(handle.getnframes() / handle.getframerate() - seconds) < 1e-6


def test_text_starting_with_a_dash_is_read_not_taken_for_an_option(tmp_path):
    assert speech.synthesize("-v is not a voice, --help is not a flag", "en", tmp_path / "dash.wav") > 1.0


def test_unknown_language_names_itself_and_the_voices_available(tmp_path):
    with pytest.raises(ProducerError) as caught:
        speech.synthesize("Bonjour", "fr", tmp_path / "fr.wav")
    message = str(caught.value)
    assert "'fr'" in message
    for language in ("en", "vi", "hi"):
        assert f"{language} (" in message


def test_empty_text_is_an_error(tmp_path):
    with pytest.raises(ProducerError, match="no text"):
        speech.synthesize("   ", "en", tmp_path / "empty.wav")


def test_sentence_timings_follow_the_audio(tmp_path):
    sentences = ["First sentence here.", "A second, somewhat longer sentence follows it.", "Third."]
    out = tmp_path / "joined.wav"
    timings = speech.speech_timings(sentences, "en", out)
    assert [t[2] for t in timings] == sentences
    assert timings[0][0] == 0.0
    for (start, end, _), (next_start, _, _) in zip(timings, timings[1:]):
        assert start < end < next_start
        assert next_start - end == pytest.approx(speech.SENTENCE_PAUSE, abs=0.002)
    # The longer sentence takes longer to say.
    assert timings[1][1] - timings[1][0] > timings[2][1] - timings[2][0]
    assert timings[-1][1] == pytest.approx(speech.wav_seconds(out), abs=0.002)
    assert not list(tmp_path.glob("speech.*")), "temporary sentence files are cleaned up"


def test_split_sentences_handles_danda_quotes_and_headings():
    text = 'A heading\n\nHe said "stop." Then left! Did he?\n\nमैं ठीक हूँ। आप कैसे हैं?\n\nXin chào. Tạm biệt'
    assert speech.split_sentences(text) == [
        "A heading", 'He said "stop."', "Then left!", "Did he?", "मैं ठीक हूँ।", "आप कैसे हैं?",
        "Xin chào.", "Tạm biệt"]


def test_overlong_sentences_are_split_for_readable_captions():
    run_on = ", ".join(["word"] * 400)
    pieces = speech.split_sentences(run_on)
    assert len(pieces) > 1 and all(len(p) <= speech.MAX_SENTENCE_CHARS + 1 for p in pieces)


def test_spoken_text_drops_markdown_but_keeps_words():
    text = spoken_text("## Agenda\n\n- **Bold** point with [a link](https://x.org)\n1. `code` item\n\n"
                       "```\nprint('not read aloud')\n```\n\nA snake_case word and \\*stars\\*.")
    assert text == "Agenda\n\nBold point with a link\ncode item\n\nA snake_case word and *stars*."
    assert speech.split_sentences(text) == ["Agenda", "Bold point with a link code item", "A snake_case word and *stars*."]
