"""The video form in Chromium at a phone's size, served by gunicorn: choosing "finished clip" shows the
clip field instead of the storyboard, the clip goes up by tus (resumable) and comes back playable."""

from __future__ import annotations

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS
from editorial_support import write_site
from portal_server import running_portal
from video_support import make_clip

pytestmark = pytest.mark.browser
PASSWORD = "secretary passphrase 42"


def test_a_secretary_sends_a_finished_clip_from_a_phone(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    content = write_site(tmp_path / "content")
    clip = make_clip(tmp_path / "VID_20250308.mp4", rotate=True)
    with running_portal(tmp_path, content, [("thu-ky", PASSWORD, "secretary", "ha-long")]) as (base, _), \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
                                       ).new_page()
            page.set_default_timeout(30_000)
            patches = []
            page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
            page.goto(f"{base}/portal/login/")
            page.fill("#id_username", "thu-ky")
            page.fill("#id_password", PASSWORD)
            page.click("main form button[type=submit]")
            page.click("a.button")
            page.fill("#id_title", "Trồng cây ven suối")
            page.fill("#id_date", "2025-03-08")
            page.check("#id_group_0")
            page.fill("#id_present", "14")
            page.fill("#id_members", "17")
            page.fill("#id_summary", "Chi bộ trồng cây ven suối cùng bà con.")
            page.click("main form button[type=submit]")
            page.select_option("#kind", "video")
            page.click("form[action$='/products/new/'] button")

            expect(page.locator("#rows-part")).to_be_visible()           # a storyboard unless told otherwise
            expect(page.locator("#clip-part")).to_be_hidden()
            page.check("input[name=mode][value=clip]")
            expect(page.locator("#rows-part")).to_be_hidden()
            expect(page.locator("#clip-part")).to_be_visible()
            page.fill("#id_title", "Phim trồng cây")
            page.set_input_files("#id_clip", str(clip))
            page.click("#save")
            expect(page.locator("#clip-part video")).to_have_count(1)
            expect(page.locator("#field-clip .problem, #field-clip .errorlist")).to_have_count(0)
            assert patches and all("/portal/uploads/" in url for url in patches)
            duration = page.eval_on_selector("#clip-part video", """v => new Promise(done => {
                if (v.readyState >= 1) done(v.duration); else v.addEventListener('loadedmetadata', () => done(v.duration));
                v.load(); })""")
            assert abs(duration - 2.5) < 0.2
        finally:
            browser.close()
