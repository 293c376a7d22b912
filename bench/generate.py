"""Synthetic content for benchmarks: N sessions of text products (and small images), in vi, hi, en.

    python bench/generate.py OUT_DIR --sessions 500 [--cover-every 10] [--media-bytes 0] [--planted]

``--planted`` adds what a search benchmark can be checked against: each phrase of TOPICS is written
once, deep in the article, of PLANTED_COPIES sessions named ``<cell>-<slug>-<n>``; each word of the
phrase alone is repeated in the articles of many other sessions, so every word's best pages are
pages without the phrase, and a search must intersect to find the planted ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

WORDS = {
    "vi": "vệ sinh môi trường khu dân cư đám cưới văn minh trồng rừng phòng chống lừa đảo mạng xã hội di sản "
          "thế giới an ninh phi truyền thống thành phố thông minh thích ứng biến đổi khí hậu chi bộ sinh hoạt".split(),
    "hi": "स्वच्छता मोहल्ला विवाह सादगी वन रोपण ऑनलाइन ठगी से बचाव विरासत गौरव सुरक्षा चुनौतियाँ स्मार्ट शहर "
          "जलवायु अनुकूलन इकाई बैठक".split(),
    "en": "sanitation residential area civilised weddings funerals replanting forest fraud social networks world "
          "heritage pride security challenges smart city climate adaptation cell session".split(),
}


# language: (slug, phrase); a query for the phrase, with or without tone marks, should find the
# PLANTED_COPIES sessions of that slug first
TOPICS = {
    "vi": [("lu-quet", "cảnh báo lũ quét"), ("sat-lo", "sạt lở đất")],
    "hi": [("badh-rahat", "बाढ़ राहत शिविर")],
    "en": [("landslide", "landslide warning drill")],
}
PLANTED_COPIES = 3
FILLER_SHARE = 0.5      # of a language's other sessions, repeating one word of its phrases

SYLLABLES = ["ka", "lo", "mi", "ra", "tu", "ven", "sa", "ho", "ne", "di"]


def unique_word(index: int) -> str:
    """A made-up place name used by one session only: real content has rare words too."""
    return "".join(SYLLABLES[int(digit)] for digit in f"{index:05d}")


def sentence(rng: random.Random, language: str, words: int) -> str:
    return " ".join(rng.choice(WORDS[language]) for _ in range(words)).capitalize()


def planted_sessions(sessions: int) -> dict[int, tuple[str, str]]:
    """Session index -> (slug, phrase): copies spread over the site, each in its topic's language."""
    languages = [["vi", "hi", "en"][(index % max(4, sessions // 20)) % 3] for index in range(sessions)]
    chosen: dict[int, tuple[str, str]] = {}
    for language, topics in TOPICS.items():
        candidates = [index for index in range(sessions) if languages[index] == language]
        for number, topic in enumerate(topics):
            for copy in range(PLANTED_COPIES):
                chosen[candidates[(2 * copy + 1) * len(candidates) // (2 * PLANTED_COPIES) + number]] = topic
    return chosen


def generate(out: Path, sessions: int, cover_every: int = 0, media_bytes: int = 0, seed: int = 35,
             planted: bool = False) -> Path:
    from PIL import Image

    rng = random.Random(seed)
    plant_rng = random.Random(seed + 1)         # its own, so the other content is the same either way
    planted_at = planted_sessions(sessions) if planted else {}
    copies: dict[str, int] = {}
    content = out
    (content / "sessions").mkdir(parents=True, exist_ok=True)
    (content / "site.yml").write_text("title: Bench\nbase_url: https://bench.example.org/\nlanguage: vi\n",
                                      encoding="utf-8")
    cells = [(f"cell-{i:03d}", ["vi", "hi", "en"][i % 3]) for i in range(max(4, sessions // 20))]
    (content / "cells.yml").write_text("cells:\n" + "".join(
        f"- {{id: {cid}, name: Cell {cid}, committee: Committee {i % 7}, area: Area {i}, language: {lang}}}\n"
        for i, (cid, lang) in enumerate(cells)), encoding="utf-8")
    media_each = media_bytes // max(1, sessions)
    for index in range(sessions):
        cell, language = cells[index % len(cells)]
        day = dt.date(2022, 1, 1) + dt.timedelta(days=(index * 7) % 1400)
        quarter = f"{day.year}-q{(day.month - 1) // 3 + 1}"
        slug = f"topic-{index:05d}"
        if index in planted_at:
            copies[planted_at[index][0]] = copies.get(planted_at[index][0], 0) + 1
            slug = f"{planted_at[index][0]}-{copies[planted_at[index][0]]}"
        folder = content / "sessions" / quarter / f"{cell}-{slug}"
        (folder / "media").mkdir(parents=True, exist_ok=True)
        title = sentence(rng, language, 6)
        (folder / "session.md").write_text(
            f"---\ntitle: \"{title}\"\ncell: {cell}\ndate: {day.isoformat()}\ngroup: {rng.choice(['build', 'fight'])}\n"
            f"language: {language}\nattendance: {{present: {rng.randint(5, 20)}, members: 20}}\nstatus: published\n"
            f"summary: \"{sentence(rng, language, 15)} {unique_word(index)}\"\n---\n"
            + "\n\n".join(sentence(rng, language, 40) for _ in range(4)) + "\n", encoding="utf-8")
        cover = ""
        if cover_every and index % cover_every == 0:
            Image.new("RGB", (64, 48), (rng.randrange(256), 120, 80)).save(folder / "media" / "cover.png")
            cover = "cover: {file: media/cover.png, alt: A cover}\n"
        article_title = sentence(rng, language, 5)
        paragraphs = [sentence(rng, language, 60) for _ in range(5)]
        if index in planted_at:
            # far past the first 2,000 characters, once: a weak match for each word alone
            paragraphs += [sentence(plant_rng, language, 60) for _ in range(5)]
            paragraphs.append(f"{sentence(plant_rng, language, 12)} {planted_at[index][1]} {sentence(plant_rng, language, 12)}")
        elif planted and language in TOPICS and plant_rng.random() < FILLER_SHARE:
            word = plant_rng.choice([w for _, phrase in TOPICS[language] for w in phrase.split()])
            paragraphs[0] = f"{word} {word} {word}. {paragraphs[0]}"
        (folder / "01-article.md").write_text(
            f"---\ntype: article\ntitle: \"{article_title}\"\n{cover}---\n"
            + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        if media_each:
            # bulk media a session carries (recordings, raw photos) without asking for a render
            with open(folder / "media" / "raw.bin", "wb") as handle:
                handle.truncate(0)
                handle.write(rng.randbytes(min(media_each, 1 << 20)) * (media_each // (1 << 20) or 1))
    return content


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--cover-every", type=int, default=0)
    parser.add_argument("--media-bytes", type=int, default=0)
    parser.add_argument("--planted", action="store_true", help="phrases a search benchmark can look for")
    args = parser.parse_args()
    print(generate(args.out, args.sessions, args.cover_every, args.media_bytes, planted=args.planted))
