"""The portal's words in each cell language (vi, hi, en). Templates read them as ``{{ t.key }}``;
the language is the user's choice for this browser session, else their cell's, else English."""

from __future__ import annotations

from producers.portal.access import membership_of
from producers.portal.content import cell_language

LANGUAGES = (("vi", "Tiếng Việt"), ("hi", "हिन्दी"), ("en", "English"))

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "portal": "Cell portal", "login": "Log in", "logout": "Log out", "username": "User name",
        "password": "Password", "join": "Join with an invitation code", "code": "Invitation code",
        "join_button": "Create my account", "bad_code": "This code is not valid, already used or expired.",
        "locked": "Too many wrong passwords. Wait 15 minutes, then try again.",
        "my_cell": "My cell", "new_session": "New session", "drafts": "Drafts", "sessions": "Sessions sent",
        "title": "Title", "date": "Date of the meeting", "group": "Group", "group_build": "Protecting the foundation",
        "group_fight": "Countering false and harmful information", "present": "Members present",
        "members": "Members in the cell", "summary": "Summary (one or two sentences)", "minutes": "Minutes",
        "save": "Save draft", "saved": "Saved.", "to_fix": "Saved. Fix these before sending:",
        "products": "Products (one to three)", "add_product": "Add a product", "kind_article": "Article",
        "kind_photo-series": "Photo series", "kind_podcast": "Podcast", "edit": "Edit", "delete": "Delete",
        "text": "Text", "photos": "Photos", "photo": "Photo", "caption": "Caption", "alt": "What the photo shows (for blind readers; optional)",
        "take_photo": "Take or choose a photo", "audio": "Recording", "record": "Record", "stop": "Stop",
        "recorded": "Recorded; press Save to keep it.", "upload_audio": "Or choose a recording",
        "script": "Notes or script (read aloud when there is no recording)",
        "submit": "Send to the editors", "submitted": "Sent. The editors will review it.",
        "quarantined": "Not accepted. The problems are listed below; fix them and send again.",
        "cannot_submit": "Fix these before sending:", "status": "Status", "reason": "Editor's reason",
        "status_draft": "Draft", "status_submitted": "Waiting for review", "status_approved": "Approved",
        "status_published": "Published", "status_rejected": "Sent back", "status_quarantined": "Not accepted",
        "queue": "Review queue", "quarter": "Quarter", "cell": "Cell", "age_days": "Days waiting", "all": "All",
        "filter": "Show", "approve": "Approve", "reject": "Send back", "reject_reason": "Reason (the cell will read it)",
        "publish": "Publish", "published": "Published; the site is rebuilt.", "build_failed": "The site build failed:",
        "invite": "Invite a secretary", "invite_button": "Make a code", "invite_code": "Give this code to the secretary (once; it expires in 7 days):",
        "audit": "Audit log", "who": "Who", "what": "What", "when": "When", "nothing": "Nothing here yet.",
        "too_big": "The upload is larger than a submission may be ({cap} bytes).", "language": "Language",
        "back": "Back", "files": "Files", "no_products": "Add at least one product.", "max_products": "A session has at most three products.",
        "read_only": "You can read your cell's work; the secretary sends it.",
        "kind_social-post": "Social post", "hashtags": "Hashtags (separated by spaces)", "platforms": "Platforms",
        "count": "Characters (with the tags and the link)", "cut": "too long: it will be shortened",
        "kind_slides": "Slides", "kind_video": "Video", "slides": "Slides", "slide_title": "Slide title",
        "points": "Points (one a line)", "picture": "Picture (optional)", "notes": "Speaker notes (optional)",
        "narrated": "Also make a video with the notes read aloud", "scenes": "Storyboard: photos and captions",
        "video_mode": "The video is", "video_clip": "A finished clip (one video file)",
        "clip": "Video file (MP4, MOV or WebM, with sound)",
        "clip_transcript": "Captions (optional: a .vtt or .srt file)",
        "narration": "Narration (read aloud; optional)", "duration": "Seconds on screen (when there is no narration)",
        "report": "Evaluation report", "bundle": "Files for chat groups (zip)", "part": "Part",
        "left_out": "Left out (over the chat groups' size limit)",
        "changes": "Changes from the live session", "unchanged": "Unchanged.",
        "preview_site": "Preview: as it will be published", "preview_none": "Not built yet.",
        "preview_building": "Building the preview…", "preview_open": "Open the preview",
        "preview_failed": "The preview build failed.", "preview_build": "Build the preview",
    },
    "vi": {
        "portal": "Cổng thông tin chi bộ", "login": "Đăng nhập", "logout": "Đăng xuất", "username": "Tên đăng nhập",
        "password": "Mật khẩu", "join": "Tham gia bằng mã mời", "code": "Mã mời",
        "join_button": "Tạo tài khoản", "bad_code": "Mã này không hợp lệ, đã dùng hoặc đã hết hạn.",
        "locked": "Nhập sai mật khẩu quá nhiều lần. Hãy đợi 15 phút rồi thử lại.",
        "my_cell": "Chi bộ của tôi", "new_session": "Buổi sinh hoạt mới", "drafts": "Bản nháp", "sessions": "Đã gửi",
        "title": "Tiêu đề", "date": "Ngày sinh hoạt", "group": "Nhóm", "group_build": "Bảo vệ nền tảng tư tưởng",
        "group_fight": "Đấu tranh với thông tin sai trái, thù địch", "present": "Số đảng viên có mặt",
        "members": "Tổng số đảng viên", "summary": "Tóm tắt (một hai câu)", "minutes": "Biên bản",
        "save": "Lưu nháp", "saved": "Đã lưu.", "to_fix": "Đã lưu. Cần sửa trước khi gửi:",
        "products": "Sản phẩm (từ một đến ba)", "add_product": "Thêm sản phẩm", "kind_article": "Bài viết",
        "kind_photo-series": "Bộ ảnh", "kind_podcast": "Podcast", "edit": "Sửa", "delete": "Xoá",
        "text": "Nội dung", "photos": "Ảnh", "photo": "Ảnh", "caption": "Chú thích", "alt": "Ảnh cho thấy gì (cho người khiếm thị; không bắt buộc)",
        "take_photo": "Chụp hoặc chọn ảnh", "audio": "Bản ghi âm", "record": "Ghi âm", "stop": "Dừng",
        "recorded": "Đã ghi; bấm Lưu để giữ lại.", "upload_audio": "Hoặc chọn tệp ghi âm",
        "script": "Ghi chú hoặc lời đọc (máy đọc khi không có bản ghi âm)",
        "submit": "Gửi ban biên tập", "submitted": "Đã gửi. Ban biên tập sẽ xem xét.",
        "quarantined": "Chưa được chấp nhận. Các lỗi ở dưới; hãy sửa rồi gửi lại.",
        "cannot_submit": "Cần sửa trước khi gửi:", "status": "Trạng thái", "reason": "Lý do của ban biên tập",
        "status_draft": "Bản nháp", "status_submitted": "Chờ duyệt", "status_approved": "Đã duyệt",
        "status_published": "Đã đăng", "status_rejected": "Trả lại", "status_quarantined": "Chưa chấp nhận",
        "queue": "Danh sách chờ duyệt", "quarter": "Quý", "cell": "Chi bộ", "age_days": "Số ngày chờ", "all": "Tất cả",
        "filter": "Xem", "approve": "Duyệt", "reject": "Trả lại", "reject_reason": "Lý do (chi bộ sẽ đọc)",
        "publish": "Đăng", "published": "Đã đăng; trang web được dựng lại.", "build_failed": "Dựng trang web thất bại:",
        "invite": "Mời bí thư / thư ký", "invite_button": "Tạo mã", "invite_code": "Đưa mã này cho thư ký (dùng một lần; hết hạn sau 7 ngày):",
        "audit": "Nhật ký", "who": "Ai", "what": "Việc gì", "when": "Khi nào", "nothing": "Chưa có gì.",
        "too_big": "Tệp tải lên lớn hơn mức cho phép của một lần gửi ({cap} byte).", "language": "Ngôn ngữ",
        "back": "Quay lại", "files": "Tệp", "no_products": "Hãy thêm ít nhất một sản phẩm.", "max_products": "Mỗi buổi có tối đa ba sản phẩm.",
        "read_only": "Bạn có thể xem bài của chi bộ; thư ký là người gửi.",
        "kind_social-post": "Bài đăng mạng xã hội", "hashtags": "Hashtag (cách nhau bằng dấu cách)", "platforms": "Nền tảng",
        "count": "Số ký tự (kể cả hashtag và đường dẫn)", "cut": "quá dài: sẽ được rút gọn",
        "kind_slides": "Trình chiếu", "kind_video": "Video", "slides": "Trang chiếu", "slide_title": "Tiêu đề trang",
        "points": "Các ý (mỗi dòng một ý)", "picture": "Hình (không bắt buộc)", "notes": "Ghi chú người trình bày (không bắt buộc)",
        "narrated": "Làm thêm video đọc to phần ghi chú", "scenes": "Kịch bản: ảnh và chú thích",
        "video_mode": "Video là", "video_clip": "Một đoạn phim đã hoàn chỉnh (một tệp video)",
        "clip": "Tệp video (MP4, MOV hoặc WebM, có tiếng)",
        "clip_transcript": "Phụ đề (không bắt buộc: tệp .vtt hoặc .srt)",
        "narration": "Lời đọc (không bắt buộc)", "duration": "Số giây hiển thị (khi không có lời đọc)",
        "report": "Báo cáo đánh giá", "bundle": "Tệp cho nhóm chat (zip)", "part": "Phần",
        "left_out": "Bỏ ra ngoài (quá giới hạn dung lượng của nhóm chat)",
        "changes": "Thay đổi so với bản đang có", "unchanged": "Không đổi.",
        "preview_site": "Xem trước: như khi đăng", "preview_none": "Chưa dựng.",
        "preview_building": "Đang dựng bản xem trước…", "preview_open": "Mở bản xem trước",
        "preview_failed": "Dựng bản xem trước không thành công.", "preview_build": "Dựng bản xem trước",
    },
    "hi": {
        "portal": "इकाई पोर्टल", "login": "लॉग इन", "logout": "लॉग आउट", "username": "उपयोगकर्ता नाम",
        "password": "पासवर्ड", "join": "आमंत्रण कोड से जुड़ें", "code": "आमंत्रण कोड",
        "join_button": "मेरा खाता बनाएँ", "bad_code": "यह कोड मान्य नहीं है, पहले उपयोग हो चुका है या समाप्त हो गया है।",
        "locked": "बहुत बार गलत पासवर्ड। 15 मिनट रुकें, फिर प्रयास करें।",
        "my_cell": "मेरी इकाई", "new_session": "नया सत्र", "drafts": "मसौदे", "sessions": "भेजे गए सत्र",
        "title": "शीर्षक", "date": "बैठक की तारीख़", "group": "समूह", "group_build": "नींव की रक्षा",
        "group_fight": "झूठी और हानिकारक सूचना का प्रतिवाद", "present": "उपस्थित सदस्य",
        "members": "इकाई के कुल सदस्य", "summary": "सारांश (एक-दो वाक्य)", "minutes": "कार्यवृत्त",
        "save": "मसौदा सहेजें", "saved": "सहेजा गया।", "to_fix": "सहेजा गया। भेजने से पहले इन्हें ठीक करें:",
        "products": "उत्पाद (एक से तीन)", "add_product": "उत्पाद जोड़ें", "kind_article": "लेख",
        "kind_photo-series": "फ़ोटो शृंखला", "kind_podcast": "पॉडकास्ट", "edit": "बदलें", "delete": "हटाएँ",
        "text": "पाठ", "photos": "फ़ोटो", "photo": "फ़ोटो", "caption": "कैप्शन", "alt": "फ़ोटो में क्या है (दृष्टिहीन पाठकों के लिए; वैकल्पिक)",
        "take_photo": "फ़ोटो लें या चुनें", "audio": "रिकॉर्डिंग", "record": "रिकॉर्ड करें", "stop": "रोकें",
        "recorded": "रिकॉर्ड हो गया; रखने के लिए सहेजें दबाएँ।", "upload_audio": "या रिकॉर्डिंग चुनें",
        "script": "टिप्पणी या पाठ (रिकॉर्डिंग न हो तो पढ़ा जाएगा)",
        "submit": "संपादकों को भेजें", "submitted": "भेज दिया। संपादक इसकी समीक्षा करेंगे।",
        "quarantined": "स्वीकार नहीं हुआ। समस्याएँ नीचे हैं; ठीक करके फिर भेजें।",
        "cannot_submit": "भेजने से पहले इन्हें ठीक करें:", "status": "स्थिति", "reason": "संपादक का कारण",
        "status_draft": "मसौदा", "status_submitted": "समीक्षा की प्रतीक्षा", "status_approved": "स्वीकृत",
        "status_published": "प्रकाशित", "status_rejected": "लौटाया गया", "status_quarantined": "स्वीकार नहीं",
        "queue": "समीक्षा सूची", "quarter": "तिमाही", "cell": "इकाई", "age_days": "प्रतीक्षा के दिन", "all": "सभी",
        "filter": "दिखाएँ", "approve": "स्वीकृत करें", "reject": "लौटाएँ", "reject_reason": "कारण (इकाई इसे पढ़ेगी)",
        "publish": "प्रकाशित करें", "published": "प्रकाशित; साइट फिर से बनी।", "build_failed": "साइट नहीं बन सकी:",
        "invite": "सचिव को आमंत्रित करें", "invite_button": "कोड बनाएँ", "invite_code": "यह कोड सचिव को दें (एक बार; 7 दिन में समाप्त):",
        "audit": "लेखा-जोखा", "who": "कौन", "what": "क्या", "when": "कब", "nothing": "अभी कुछ नहीं।",
        "too_big": "अपलोड एक प्रस्तुति की सीमा ({cap} बाइट) से बड़ा है।", "language": "भाषा",
        "back": "वापस", "files": "फ़ाइलें", "no_products": "कम से कम एक उत्पाद जोड़ें।", "max_products": "एक सत्र में अधिकतम तीन उत्पाद।",
        "read_only": "आप अपनी इकाई का काम पढ़ सकते हैं; सचिव इसे भेजते हैं।",
        "kind_social-post": "सोशल पोस्ट", "hashtags": "हैशटैग (रिक्त स्थान से अलग)", "platforms": "प्लेटफ़ॉर्म",
        "count": "अक्षर (टैग और लिंक सहित)", "cut": "बहुत लंबा: छोटा किया जाएगा",
        "kind_slides": "स्लाइड", "kind_video": "वीडियो", "slides": "स्लाइड", "slide_title": "स्लाइड शीर्षक",
        "points": "बिंदु (हर पंक्ति में एक)", "picture": "चित्र (वैकल्पिक)", "notes": "वक्ता के नोट (वैकल्पिक)",
        "narrated": "नोट पढ़कर सुनाने वाला वीडियो भी बनाएँ", "scenes": "स्टोरीबोर्ड: फ़ोटो और कैप्शन",
        "video_mode": "वीडियो है", "video_clip": "तैयार क्लिप (एक वीडियो फ़ाइल)",
        "clip": "वीडियो फ़ाइल (MP4, MOV या WebM, आवाज़ के साथ)",
        "clip_transcript": "कैप्शन (वैकल्पिक: .vtt या .srt फ़ाइल)",
        "narration": "वाचन (ज़ोर से पढ़ा जाएगा; वैकल्पिक)", "duration": "स्क्रीन पर सेकंड (जब वाचन न हो)",
        "report": "मूल्यांकन रिपोर्ट", "bundle": "चैट समूहों के लिए फ़ाइलें (zip)", "part": "भाग",
        "left_out": "छोड़ी गई (चैट समूह की आकार सीमा से बड़ी)",
        "changes": "मौजूदा सत्र से बदलाव", "unchanged": "कोई बदलाव नहीं।",
        "preview_site": "पूर्वावलोकन: जैसा प्रकाशित होगा", "preview_none": "अभी बना नहीं।",
        "preview_building": "पूर्वावलोकन बन रहा है…", "preview_open": "पूर्वावलोकन खोलें",
        "preview_failed": "पूर्वावलोकन नहीं बन सका।", "preview_build": "पूर्वावलोकन बनाएँ",
    },
}

assert all(LABELS[lang].keys() == LABELS["en"].keys() for lang in LABELS), "every language has every label"


def language_of(request) -> str:
    chosen = request.session.get("lang") if hasattr(request, "session") else None
    if chosen in LABELS:
        return chosen
    membership = membership_of(getattr(request, "user", None))
    if membership is not None and membership.cell:
        return cell_language(membership.cell)
    return "en"


def labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def context(request) -> dict:
    language = language_of(request)
    return {"t": labels(language), "lang": language, "languages": LANGUAGES}
