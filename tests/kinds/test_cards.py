"""Share cards: 1200×630, the site's colours, titles in every script, a job any producer can add."""

from __future__ import annotations

import json

from PIL import Image, ImageChops

from producers.kinds import cards
from producers.jobs.pipeline import Cache, run_jobs
from producers.web.i18n import long_date
from slides_support import context, write_tree


def test_card_draws_the_title_in_the_theme_colours():
    image = cards.card("झूठी और हानिकारक जानकारी का खंडन", "वाराणसी इकाई · 28 नवंबर 2024", "Demo", "#0d47a1", "#ffb300")
    assert image.size == (1200, 630)
    assert image.getpixel((5, 5)) == (0x0d, 0x47, 0xa1)
    # The accent rule sits above the subtitle band.
    assert image.getpixel((600, round(630 * 0.80) - 5)) == (0xff, 0xb3, 0x00)
    # White title ink in the middle of the card.
    title_area = image.crop((70, 140, 1130, 460))
    assert ImageChops.invert(title_area.convert("L")).point(lambda v: 255 if v < 40 else 0).getbbox() is not None


def test_readable_ink():
    assert cards.readable_on("#0d47a1") == "#ffffff"
    assert cards.readable_on("#ffeb3b") == "#111111"


def test_card_job_writes_card_png_and_keeps_logo_transparency(tmp_path):
    root = write_tree(tmp_path / "content")
    ctx = context(root)
    job = cards.card_job(ctx)
    json.dumps(dict(job.params))     # the cache key needs JSON-able params
    assert job.params["subtitle"] == "Chi bộ Hạ Long · 28 tháng 11, 2024"     # the deck is Vietnamese
    assert job.outputs == ("card.png",) and job.files == (root / "logo.png",)
    result = run_jobs([job], Cache(tmp_path / "cache"))[job.name]
    assert result.status == "rendered", result.error
    with Image.open(result.outputs["card.png"]) as image:
        assert image.size == (1200, 630)
        # The logo's transparent margin shows the card's colour, not a white box.
        logo_left = 1200 - 70 - 110
        assert image.convert("RGB").getpixel((logo_left + 5, 55)) == (0x0d, 0x47, 0xa1)
        assert image.convert("RGB").getpixel((logo_left + 55, 100)) == (255, 200, 0)


def test_too_long_title_is_cut_with_a_warning_naming_the_product(tmp_path):
    root = write_tree(tmp_path / "content")
    ctx = context(root)
    job = cards.card_job(ctx, title="Bảo vệ nền tảng tư tưởng của Đảng " * 12)
    result = run_jobs([job], Cache(tmp_path / "cache"))[job.name]
    assert result.status == "rendered"
    assert result.warnings and result.warnings[0].startswith(ctx.record.display + ": the title is too long")


def test_session_card_job(tmp_path):
    root = write_tree(tmp_path / "content", logo=False)
    ctx = context(root)
    session = ctx.session.session
    job = cards.session_card_job(ctx.session, ctx.cell.name, long_date(session.date, session.language), ctx.site, root)
    assert job.name == "2024-q4/ha-long-security:card" and job.files == ()
    assert job.params["subtitle"] == "Chi bộ Hạ Long · 28 tháng 11, 2024"
    result = run_jobs([job], Cache(tmp_path / "cache"))[job.name]
    assert result.status == "rendered"
    with Image.open(result.outputs["card.png"]) as image:
        assert image.size == (1200, 630)
