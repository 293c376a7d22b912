"""The generator's own words, in every site language (en, vi, hi).

Site-wide words only: each product kind declares its own (its name, ``kind.<name>``, and its
page's words) in its module, and whoever makes the ``Labels`` adds them
(``producers.kinds.base.labels_for``). This layer never names a kind."""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from babel.dates import format_date

_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "home": "Home", "latest_sessions": "Latest sessions", "latest_products": "Latest products",
        "sessions": "Sessions", "cells": "Cells",
        "cell": "Cell", "quarters": "Quarters", "quarter": "Quarter", "groups": "Groups", "group": "Group",
        "kinds": "Products by kind", "kind": "Kind", "date": "Date", "attendance": "Attendance",
        "present_of": "{present} of {members} members present ({rate}%)", "products": "Products",
        "minutes": "Minutes", "summary": "Summary", "committee": "Committee", "area": "Area",
        "language": "Language", "authors": "Authors", "status": "Status", "tags": "Tags",
        "no_sessions": "No sessions yet.", "page_n": "Page {n} of {total}", "next": "Next", "previous": "Previous",
        "all_quarters": "All quarters", "more": "More", "download": "Download", "session": "Session",
        "group.build": "Protecting the foundation", "group.fight": "Countering false and harmful information",
        "status.draft": "Draft", "status.submitted": "Submitted", "status.approved": "Approved",
        "status.published": "Published", "status.rejected": "Rejected",
        "preview_notice": "Preview build: every session is shown, whatever its status.",
        "photo_credit": "Photo", "sessions_count": "{n} sessions",
        "podcast": "Podcast", "podcast_subscribe": "Subscribe to the podcast",
        "podcast_subscribe_intro": "Follow our podcast in any podcast app: new episodes arrive by themselves.",
        "podcast_subscribe_step1": "Copy the address of a feed below (press and hold it on a phone).",
        "podcast_subscribe_step2": "In your podcast app, find “Add podcast by URL” (AntennaPod: + then “Add podcast by URL”; Apple Podcasts: Library, then “Follow a show by URL”).",
        "podcast_subscribe_step3": "Paste the address and confirm.",
        "podcast_feed_all": "All episodes", "podcast_feeds_by_cell": "By cell",
        "podcast_feeds_by_language": "By language", "podcast_episode_count": "{n} episodes",
        "search": "Search", "search_placeholder": "Search sessions and products",
        "search_none": "Nothing found. Check the spelling, or try fewer words.", "search_more": "More results",
        "search_count": "{n} pages found", "report": "Report",
        "language_home": "Sessions and products in {language}", "all_languages": "All languages",
        "made_with": "Made with {tool}", "not_found": "Page not found",
        "not_found_hint": "This address leads nowhere. Start again from the home page:",
    },
    "vi": {
        "home": "Trang chủ", "latest_sessions": "Sinh hoạt mới nhất", "latest_products": "Sản phẩm mới nhất",
        "sessions": "Buổi sinh hoạt",
        "cells": "Chi bộ", "cell": "Chi bộ", "quarters": "Các quý", "quarter": "Quý", "groups": "Nhóm chủ đề",
        "group": "Nhóm chủ đề", "kinds": "Sản phẩm theo loại", "kind": "Loại", "date": "Ngày",
        "attendance": "Tham dự", "present_of": "{present}/{members} đảng viên có mặt ({rate}%)",
        "products": "Sản phẩm", "minutes": "Biên bản", "summary": "Tóm tắt", "committee": "Đảng ủy",
        "area": "Địa bàn", "language": "Ngôn ngữ", "authors": "Tác giả", "status": "Trạng thái", "tags": "Thẻ",
        "no_sessions": "Chưa có buổi sinh hoạt nào.", "page_n": "Trang {n}/{total}", "next": "Tiếp",
        "previous": "Trước", "all_quarters": "Tất cả các quý", "more": "Xem thêm", "download": "Tải về",
        "session": "Buổi sinh hoạt",
        "group.build": "Bảo vệ nền tảng tư tưởng", "group.fight": "Đấu tranh phản bác thông tin sai trái, độc hại",
        "status.draft": "Bản nháp", "status.submitted": "Đã gửi", "status.approved": "Đã duyệt",
        "status.published": "Đã đăng", "status.rejected": "Bị từ chối",
        "preview_notice": "Bản xem trước: hiển thị mọi buổi sinh hoạt, ở mọi trạng thái.",
        "photo_credit": "Ảnh", "sessions_count": "{n} buổi sinh hoạt",
        "podcast": "Podcast", "podcast_subscribe": "Theo dõi podcast",
        "podcast_subscribe_intro": "Theo dõi podcast của chúng tôi trên bất kỳ ứng dụng podcast nào: tập mới sẽ tự về máy.",
        "podcast_subscribe_step1": "Sao chép địa chỉ một nguồn tin bên dưới (trên điện thoại: chạm và giữ).",
        "podcast_subscribe_step2": "Trong ứng dụng podcast, chọn “Thêm podcast bằng URL” (AntennaPod: dấu + rồi “Thêm podcast bằng URL”; Apple Podcasts: Thư viện, rồi “Theo dõi chương trình bằng URL”).",
        "podcast_subscribe_step3": "Dán địa chỉ và xác nhận.",
        "podcast_feed_all": "Tất cả các tập", "podcast_feeds_by_cell": "Theo chi bộ",
        "podcast_feeds_by_language": "Theo ngôn ngữ", "podcast_episode_count": "{n} tập",
        "search": "Tìm kiếm", "search_placeholder": "Tìm buổi sinh hoạt và sản phẩm",
        "search_none": "Không tìm thấy. Hãy kiểm tra chính tả, hoặc thử ít từ hơn.", "search_more": "Thêm kết quả",
        "search_count": "Tìm thấy {n} trang", "report": "Báo cáo",
        "language_home": "Sinh hoạt và sản phẩm bằng {language}", "all_languages": "Tất cả ngôn ngữ",
        "made_with": "Được tạo bằng {tool}", "not_found": "Không tìm thấy trang",
        "not_found_hint": "Địa chỉ này không dẫn đến trang nào. Hãy bắt đầu lại từ trang chủ:",
    },
    "hi": {
        "home": "मुखपृष्ठ", "latest_sessions": "नवीनतम सत्र", "latest_products": "नवीनतम उत्पाद", "sessions": "सत्र", "cells": "इकाइयाँ",
        "cell": "इकाई", "quarters": "तिमाहियाँ", "quarter": "तिमाही", "groups": "समूह", "group": "समूह",
        "kinds": "प्रकार के अनुसार उत्पाद", "kind": "प्रकार", "date": "तारीख़", "attendance": "उपस्थिति",
        "present_of": "{members} में से {present} सदस्य उपस्थित ({rate}%)", "products": "उत्पाद",
        "minutes": "कार्यवृत्त", "summary": "सारांश", "committee": "समिति", "area": "क्षेत्र",
        "language": "भाषा", "authors": "लेखक", "status": "स्थिति", "tags": "टैग",
        "no_sessions": "अभी कोई सत्र नहीं।", "page_n": "पृष्ठ {n} / {total}", "next": "अगला",
        "previous": "पिछला", "all_quarters": "सभी तिमाहियाँ", "more": "और देखें", "download": "डाउनलोड",
        "session": "सत्र",
        "group.build": "नींव की रक्षा", "group.fight": "झूठी और हानिकारक जानकारी का खंडन",
        "status.draft": "मसौदा", "status.submitted": "जमा", "status.approved": "स्वीकृत",
        "status.published": "प्रकाशित", "status.rejected": "अस्वीकृत",
        "preview_notice": "पूर्वावलोकन: हर सत्र दिखाया गया है, उसकी स्थिति चाहे जो हो।",
        "photo_credit": "फ़ोटो", "sessions_count": "{n} सत्र",
        "podcast": "पॉडकास्ट", "podcast_subscribe": "पॉडकास्ट की सदस्यता लें",
        "podcast_subscribe_intro": "किसी भी पॉडकास्ट ऐप में हमारा पॉडकास्ट फ़ॉलो करें: नए एपिसोड अपने-आप आ जाएँगे।",
        "podcast_subscribe_step1": "नीचे किसी फ़ीड का पता कॉपी करें (फ़ोन पर उसे दबाकर रखें)।",
        "podcast_subscribe_step2": "अपने पॉडकास्ट ऐप में “URL से पॉडकास्ट जोड़ें” चुनें (AntennaPod: + फिर “Add podcast by URL”; Apple Podcasts: Library, फिर “Follow a show by URL”)।",
        "podcast_subscribe_step3": "पता चिपकाएँ और पुष्टि करें।",
        "podcast_feed_all": "सभी एपिसोड", "podcast_feeds_by_cell": "इकाई के अनुसार",
        "podcast_feeds_by_language": "भाषा के अनुसार", "podcast_episode_count": "{n} एपिसोड",
        "search": "खोजें", "search_placeholder": "सत्र और उत्पाद खोजें",
        "search_none": "कुछ नहीं मिला। वर्तनी जाँचें, या कम शब्दों से खोजें।", "search_more": "और परिणाम",
        "search_count": "{n} पृष्ठ मिले", "report": "रिपोर्ट",
        "language_home": "{language} में सत्र और उत्पाद", "all_languages": "सभी भाषाएँ",
        "made_with": "{tool} से बनाया गया", "not_found": "पृष्ठ नहीं मिला",
        "not_found_hint": "यह पता किसी पृष्ठ पर नहीं ले जाता। मुखपृष्ठ से फिर शुरू करें:",
    },
}

LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt", "hi": "हिन्दी"}


class Labels:
    """``labels("present_of", present=3, members=4, rate=75)`` in the site's language."""

    def __init__(self, language: str, extra: Mapping[str, str] | None = None):
        if language not in _LABELS:
            raise KeyError(f"no labels for language {language!r}; have: {', '.join(_LABELS)}")
        self.language = language
        self._table = {**_LABELS[language], **extra} if extra else _LABELS[language]

    def __call__(self, key: str, **values) -> str:
        return self._table[key].format(**values) if values else self._table[key]


def site_label_keys() -> frozenset[str]:
    """The site-wide keys (a kind's own words must not reuse one)."""
    return frozenset(_LABELS["en"])


def missing_labels() -> dict[str, set[str]]:
    """Keys present in English but missing in another language (a test keeps this empty)."""
    english = set(_LABELS["en"])
    return {lang: english - set(table) for lang, table in _LABELS.items() if english - set(table)}


# CLDR's locale for each site language's written dates: British English writes the day first.
_DATE_LOCALES = {"en": "en_GB", "vi": "vi", "hi": "hi"}


def long_date(date: dt.date, language: str) -> str:
    """A date as a reader of ``language`` writes it: 12 October 2024, 12 tháng 10, 2024, 12 अक्टूबर 2024."""
    return format_date(date, "long", locale=_DATE_LOCALES[language])


def clock_time(seconds: float) -> str:
    """Playing time as m:ss (h:mm:ss from an hour)."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
