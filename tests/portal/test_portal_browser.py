"""The portal in Chromium at a phone's size (390x844), served by gunicorn as `make run` serves it:
an editor makes an invitation; a secretary joins with it, creates a session, takes three photos with
captions, records a short podcast (Chromium's fake microphone), submits; the editor approves and
publishes; the public site shows both products."""

from __future__ import annotations


import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS
from editorial_support import write_site
from portal_server import running_portal
from portal_support import jpeg

pytestmark = pytest.mark.browser
EDITOR_PASSWORD = "editor passphrase 42"
SECRETARY_PASSWORD = "secretary passphrase 42"


@pytest.fixture
def portal_server(tmp_path):
    content = write_site(tmp_path / "content")
    with running_portal(tmp_path, content, [("editor", EDITOR_PASSWORD, "editor", "")]) as (base, _):
        yield base, tmp_path


def test_invite_submit_approve_publish_on_a_phone(portal_server, served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, work = portal_server
    photos = []
    for number, colour in enumerate([(200, 40, 40), (40, 160, 40), (40, 40, 200)], 1):
        photos.append(work / f"IMG_{number}.jpg")
        photos[-1].write_bytes(jpeg(colour, (320, 240)))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
        try:
            phone = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                         device_scale_factor=2)
            editor = browser.new_context(**phone).new_page()
            editor.set_default_timeout(30_000)
            editor.goto(f"{base}/portal/login/")
            editor.fill("#id_username", "editor")
            editor.fill("#id_password", EDITOR_PASSWORD)
            editor.click("main form button[type=submit]")
            expect(editor.locator("h1")).to_have_text("Review queue")
            editor.goto(f"{base}/portal/invite/")
            editor.select_option("#id_cell", "ha-long")
            editor.click("main form button[type=submit]")
            code = editor.locator("#code").inner_text()

            context = browser.new_context(**phone)
            context.grant_permissions(["microphone"], origin=base)
            secretary = context.new_page()
            secretary.set_default_timeout(30_000)
            patches = []        # the files go up by tus (tus-js-client), not inside the form
            secretary.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
            secretary.goto(f"{base}/portal/join/")
            secretary.fill("#id_code", code)
            secretary.fill("#id_username", "thu-ky-ha-long")
            secretary.fill("#id_password1", SECRETARY_PASSWORD)
            secretary.fill("#id_password2", SECRETARY_PASSWORD)
            secretary.click("main form button[type=submit]")
            expect(secretary.locator("h1")).to_contain_text("Chi bộ của tôi")       # the cell's language
            secretary.click("a.button")
            secretary.fill("#id_title", "Trồng cây ven suối")
            secretary.fill("#id_date", "2025-03-08")
            secretary.check("#id_group_0")
            secretary.fill("#id_present", "14")
            secretary.fill("#id_members", "17")
            secretary.fill("#id_summary", "Chi bộ trồng cây ven suối cùng bà con.")
            secretary.fill("#id_minutes", "Biên bản: chi bộ phân công trồng và chăm sóc cây.")
            secretary.click("main form button[type=submit]")

            secretary.select_option("#kind", "photo-series")
            secretary.click("form[action$='/products/new/'] button")
            secretary.fill("#id_title", "Ảnh trồng cây")
            captions = ["Cây giống bên suối", "Bà con cùng trồng", "Hàng cây mới"]
            for index, (photo, caption) in enumerate(zip(photos, captions)):
                assert secretary.get_attribute(f"#id_photos-{index}-photo", "capture") == "environment"
                secretary.set_input_files(f"#id_photos-{index}-photo", str(photo))
                secretary.fill(f"#id_photos-{index}-caption", caption)
            secretary.click("#save")
            expect(secretary.locator(".photo img")).to_have_count(3)
            for index, caption in enumerate(captions):
                expect(secretary.locator(f"#id_photos-{index}-caption")).to_have_value(caption)

            secretary.click("main > p a")                                  # back to the session
            secretary.select_option("#kind", "podcast")
            secretary.click("form[action$='/products/new/'] button")
            secretary.fill("#id_title", "Tiếng nói chi bộ: trồng cây")
            secretary.click("#record")
            secretary.wait_for_timeout(2500)
            secretary.click("#stop")
            expect(secretary.locator("#record-status")).to_have_text("Đã ghi; bấm Lưu để giữ lại.")
            secretary.click("#save")
            expect(secretary.locator("audio")).to_have_count(1)

            assert len(patches) >= 4 and all("/portal/uploads/" in url for url in patches)
            secretary.click("main > p a")
            secretary.click("#submit")
            expect(secretary.locator("#draft-status")).to_have_text("Chờ duyệt")

            editor.goto(f"{base}/portal/review/")
            editor.click("text=Trồng cây ven suối")
            expect(editor.locator(".photo img")).to_have_count(3)
            editor.click("#approve")
            expect(editor.locator("#review-status")).to_have_text("Approved")
            editor.click("#publish")          # the build runs in the background; its page refreshes itself
            expect(editor.locator("#publish-done")).to_be_visible(timeout=600_000)
            editor.click("#publish-back")
            expect(editor.locator("#review-status")).to_have_text("Published")

            site = served(work / "site")
            reader = browser.new_context(**phone).new_page()
            reader.goto(site)
            reader.click("text=Trồng cây ven suối")
            session_page = reader.url
            reader.click("text=Ảnh trồng cây")
            for caption in captions:
                expect(reader.locator(f"text={caption}").first).to_be_visible()
            expect(reader.locator("main img")).not_to_have_count(0)
            reader.goto(session_page)
            reader.click("text=Tiếng nói chi bộ: trồng cây")
            expect(reader.locator("audio")).not_to_have_count(0)
            seconds = reader.locator("audio").first.evaluate(
                "a => new Promise(done => { a.addEventListener('loadedmetadata', () => done(a.duration));"
                " a.preload = 'metadata'; a.load(); })")
            assert 1.5 < seconds < 10          # the 2.5 s recorded on the phone, published
        finally:
            browser.close()


def test_the_article_preview_and_the_social_counts_follow_the_typing(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    content = write_site(tmp_path / "content")
    with running_portal(tmp_path, content, [("sec", SECRETARY_PASSWORD, "secretary", "ha-long")]) as (base, _), \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/portal/login/")
            page.fill("#id_username", "sec")
            page.fill("#id_password", SECRETARY_PASSWORD)
            page.click("main form button[type=submit]")
            page.click("a.button")
            for field, value in (("#id_title", "Thử"), ("#id_date", "2025-03-08"), ("#id_present", "3"),
                                 ("#id_members", "5"), ("#id_summary", "Tóm tắt")):
                page.fill(field, value)
            page.check("#id_group_0")
            page.click("main form button[type=submit]")
            draft = page.url
            page.select_option("#kind", "social-post")
            page.click("form[action$='/products/new/'] button")
            page.fill("#id_text", "a " * 200)
            expect(page.locator("#counts tr[data-platform=x] td").nth(1)).to_have_text("quá dài: sẽ được rút gọn")
            page.uncheck("#id_platforms_2")                                  # X
            expect(page.locator("#counts tr[data-platform=x]")).to_have_count(0)
            page.goto(draft)
            page.select_option("#kind", "article")
            page.click("form[action$='/products/new/'] button")
            page.fill("#id_text", "**đậm** <img src=x onerror=alert(1)>")
            expect(page.locator("#preview strong")).to_have_text("đậm")
            expect(page.locator("#preview img[onerror]")).to_have_count(0)
            assert errors == []
        finally:
            browser.close()
