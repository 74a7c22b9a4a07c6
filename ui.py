"""Shared helpers for the Streamlit pages: the open database, the year/department context, safe actions.

Pages stay thin: every number comes from scoring/; this module only wires Streamlit to it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from scoring.access.accounts import sign_in_required
from scoring.access.auth import Action, PermissionDenied, Principal, allowed_actions, authorize
from scoring.access.auth import can as auth_can
from scoring.access.sessions import COOKIE_NAME, check_session, end_session, reason_message
from scoring.assessment.engine import AppraisalProgress
from scoring.assessment.reminders import send_now_and_then as send_reminders_now_and_then
from scoring.assessment.snapshot import Snapshot, SnapshotKeeper
from scoring.errors import ConflictError, InputError, StorageError
from scoring.store import actors, assessment_state, assessment_store, department_store
from scoring.textnorm import format_percent, vn_sort_key
from web import bind_streamlit_session, close_at_deadlines_now_and_then, closes_at_deadlines, database, sign_in_url

log = logging.getLogger("cchc")

DEFAULT_ACTOR = "Văn phòng"
FLASH_KEY = "_flash_messages"
PENDING_YEAR_KEY = "_pending_year"
PRINCIPAL_KEY = "_principal"  # set by app.py for the run; pages read it through principal()
SESSION_DIGEST = "_sign_in_digest"  # which sign-in this Streamlit session serves (None: nobody)
SIGN_IN_REASON = "_sign_in_reason"  # why nobody is signed in (scoring.access.sessions.reason_message)
SESSION_OVER = "Phiên đăng nhập đã kết thúc nên thay đổi chưa được lưu; hãy đăng nhập lại."
SNAPSHOT_KEEPER = "_snapshot_keeper"


# ---------------------------------------------------------------- Streamlit's own words, in Vietnamese

# Placeholders of every select: Streamlit's default is English ("Choose an option", "Choose options").
CHOOSE_ONE = "Chọn một mục"
CHOOSE_MANY = "Chọn một hoặc nhiều mục"

# Every English word Streamlit 1.67's frontend draws in this app's widgets and that no parameter sets, with what a
# person reads instead (tests/test_vietnamese_ui.py walks every page and finds none of them). Streamlit has no
# language option (its frontend is English only), so one small script puts these in place, in text and in the
# title/placeholder/aria-label attributes (tooltips, screen readers), as Streamlit draws them.
STREAMLIT_TEXTS = {
    # file uploader (its "… per file" line is hidden: each uploader states the limit below it, once, in Vietnamese)
    "Upload": "Tải tệp lên", "Drag and drop a file here": "Thả tệp vào đây", "Drag and drop files here": "Thả các tệp vào đây",
    "Add files": "Thêm tệp", "add icon": "thêm", "file upload": "tải tệp lên", "Error:": "Lỗi:", "Remove file": "Bỏ tệp", "Delete file": "Bỏ tệp", "Browse files": "Chọn tệp",
    # the line under text inputs, text areas and number inputs (Ctrl+Enter also works on a Mac)
    "Press Enter to apply": "Nhấn Enter để áp dụng", "Press Enter to submit form": "Nhấn Enter để gửi biểu mẫu",
    "Press Ctrl+Enter to apply": "Nhấn Ctrl+Enter để áp dụng", "Press ⌘+Enter to apply": "Nhấn Ctrl+Enter để áp dụng",
    "Press Ctrl+Enter to submit form": "Nhấn Ctrl+Enter để gửi biểu mẫu", "Press ⌘+Enter to submit form": "Nhấn Ctrl+Enter để gửi biểu mẫu",
    # selects
    "Choose an option": CHOOSE_ONE, "Choose options": CHOOSE_MANY, "No options to select": "Không có lựa chọn nào",
    "No results": "Không có kết quả", "Select all": "Chọn tất cả", "Clear all": "Bỏ chọn tất cả", "Open": "Mở danh sách",
    "Selected values": "Đã chọn", "Selectbox options": "Các lựa chọn", "Clear value": "Xóa lựa chọn", "Dismiss": "Đóng",
    # date inputs: the day/month/year boxes and the calendar (its month names follow the language set below)
    "dd": "ngày", "mm": "tháng", "yyyy": "năm", "Choose date": "Chọn ngày", "Clear date": "Xóa ngày",
    "Previous": "Tháng trước", "Next": "Tháng sau", "Use arrow keys to navigate dates. Enter to select. Escape to close.":
        "Dùng phím mũi tên để chọn ngày, Enter để chọn, Escape để đóng.",
    # number inputs
    "Increment": "Tăng", "Decrement": "Giảm",
    # tables: toolbar, search, column menu
    "Download as CSV": "Tải về tệp CSV", "Search": "Tìm", "Fullscreen": "Toàn màn hình", "Close fullscreen": "Thoát toàn màn hình",
    "Show/hide columns": "Hiện, ẩn cột", "Add row": "Thêm dòng", "Delete row(s)": "Xóa dòng", "Clear selection": "Bỏ chọn",
    "Type to search": "Gõ để tìm", "Close Search": "Đóng tìm kiếm", "Next Result": "Kết quả sau", "Previous Result": "Kết quả trước",
    "Dataframe column menu": "Trình đơn cột", "Copy column name": "Chép tên cột", "Sort ascending": "Sắp xếp tăng dần",
    "Sort descending": "Sắp xếp giảm dần", "Format": "Định dạng", "Autosize": "Tự điều chỉnh độ rộng", "Pin column": "Ghim cột",
    "Unpin column": "Bỏ ghim cột", "Hide column": "Ẩn cột", "Statistics": "Thống kê", "Automatic": "Tự động",
    "Localized": "Theo ngôn ngữ", "Plain": "Số thường", "Compact": "Rút gọn", "Scientific": "Khoa học", "Percent": "Phần trăm",
    "Dollar": "Đô la", "Euro": "Euro", "Yen": "Yên", "Accounting": "Kế toán", "Calendar": "Lịch", "Distance": "Khoảng cách",
    "Duration": "Khoảng thời gian", "Count": "Số giá trị", "Distinct": "Số giá trị khác nhau", "Empty": "Ô trống",
    "Minimum": "Nhỏ nhất", "Maximum": "Lớn nhất", "Average": "Trung bình", "Median": "Trung vị", "Sum": "Tổng",
    "Standard deviation": "Độ lệch chuẩn", "Range": "Khoảng", "Values": "Giá trị", "Minimum length": "Độ dài nhỏ nhất",
    "Maximum length": "Độ dài lớn nhất", "Average length": "Độ dài trung bình", "True": "Đúng", "False": "Sai",
    "No data": "Không có dữ liệu", "No options": "Không có lựa chọn nào",
    # charts (Plotly's buttons above a chart)
    "Download plot as a PNG": "Tải ảnh biểu đồ (PNG)", "Zoom": "Phóng to vùng chọn", "Pan": "Kéo", "Zoom in": "Phóng to",
    "Zoom out": "Thu nhỏ", "Autoscale": "Tự co giãn", "Reset axes": "Đặt lại trục", "Box Select": "Chọn vùng",
    "Lasso Select": "Chọn tự do", "Reset view": "Đặt lại khung nhìn", "Toggle Spike Lines": "Bật, tắt đường gióng",
    "Show closest data on hover": "Hiện điểm gần nhất", "Compare data on hover": "So sánh khi di chuột",
    # the page around the widgets
    "Running...": "Đang chạy…", "Stop": "Dừng", "Rerun": "Chạy lại", "Connecting": "Đang kết nối",
    "Connection error": "Mất kết nối tới máy chủ",
    "Streamlit server is not responding. Are you connected to the internet?":
        "Máy chủ không trả lời. Hãy kiểm tra kết nối mạng; nếu vẫn vậy, hãy báo cho quản trị viên.",
    "Unable to connect to Streamlit server": "Không kết nối được tới máy chủ", "Close": "Đóng", "Skip to main content": "Đến nội dung chính",
    "Collapse sidebar": "Thu gọn thanh bên", "Expand sidebar": "Mở thanh bên", "Sidebar": "Thanh bên",
    "App pages": "Các trang", "Link to heading": "Liên kết tới mục này", "Main menu": "Trình đơn",
    "Page not found": "Không tìm thấy trang",
}
# … and those that carry a name or a number: (pattern, replacement)
STREAMLIT_PATTERNS = (
    (r"^Help for (.+)$", "Trợ giúp: $1"),
    (r"^Remove (.+)$", "Bỏ $1"),
    (r"^day, (.+)$", "ngày, $1"), (r"^month, (.+)$", "tháng, $1"), (r"^year, (.+)$", "năm, $1"),
    (r"^Select (\d+) matches$", "Chọn $1 mục khớp"),
    (r"^File must be .+ or smaller\.$", "Tệp quá lớn: vượt giới hạn dung lượng ghi dưới ô tải tệp."),
    # a chosen file's size, and its name with its size: "2,0 KB", "ke-hoach.pdf, 2,0 KB"
    (r"^(\d+)\.(\d+)(B|KB|MB|GB)$", "$1,$2 $3"), (r"^(\d+)(B|KB|MB|GB)$", "$1 $2"),
    (r"^(.+), (\d+)\.(\d+)(B|KB|MB|GB)$", "$1, $2,$3 $4"), (r"^(.+), (\d+)(B|KB|MB|GB)$", "$1, $2 $3"),
    (r"^Selected Date: (.+)$", "Ngày đã chọn: $1"),
    (r"^Choose date, (.+)$", "Chọn ngày, $1"),  # the calendar, with the month shown
)
# Where text is the user's or the app's own (Markdown, options, labels, table cells, file names), never translated:
# a department called "Search" stays "Search". Tooltips are Streamlit's (table toolbar) or the app's Vietnamese help; the
# uploader's button label is Streamlit's.
_USER_TEXT = ('[data-testid="stMarkdownContainer"]:not([data-testid="stTooltipContent"] *):not([data-testid="stFileUploaderDropzone"] button *), '
              '[role="option"][data-key]:not([data-key^="__select_"]), '
              '[data-tag], [data-testid="stWidgetLabel"], [data-testid="stFileChipName"], [data-testid="stDataFrame"] table, '
              '[data-testid="stHeading"], [data-testid="stExpander"] summary')

# … and elements whose title/aria-label is such text itself (a chosen option, a chosen file's name)
_USER_LABELLED = '[data-tag], [data-testid="stFileChipName"]'

_STYLE = """
<style>
  /* this block and the script below draw nothing */
  .stElementContainer:has(> .stHtml [data-cchc-vietnamese]) { display: none; }
  /* the uploader's English "20MB per file": the app states its limit, in Vietnamese, under every uploader */
  [data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
  /* Chấm điểm (here, not on the page: a style block of its own would be one more element each run). A criterion's
     points ("-0,75 điểm") fit their column at 1366×768 instead of "0,75 đi…" */
  [class*="st-key-leaf-points-"] [data-testid="stMetricValue"] { font-size: clamp(1.25rem, 1.9vw, 2rem); }
  [class*="st-key-leaf-points-"] [data-testid="stMetricValue"] div { overflow: visible; text-overflow: clip; }
  /* … and a criterion not open is one button read as a row: its code and name, its facts under them, from the left */
  [class*="st-key-score-open-"] button { justify-content: flex-start; text-align: left; }
  [class*="st-key-score-open-"] button > div { justify-content: flex-start; }
  [class*="st-key-score-open-"] button [data-testid="stMarkdownContainer"] p { text-align: left; }
</style>
"""

# No "<" inside the script: Streamlit's HTML sanitizer (DOMPurify) drops a script whose text contains one.
_SCRIPT = """
<script data-cchc-vietnamese>
(() => {
  if (window.__cchcVietnamese) return;
  window.__cchcVietnamese = true;
  // Streamlit reads the browser's language for the calendar's month and day names (and locale formats): Vietnamese
  try { Object.defineProperty(navigator, "language", {get: () => "vi-VN", configurable: true}); } catch (e) {}
  const TEXTS = __TEXTS__;
  const PATTERNS = __PATTERNS__.map(([p, r]) => [new RegExp(p), r]);
  const USER_TEXT = __USER_TEXT__;
  const USER_LABELLED = __USER_LABELLED__;
  const ATTRIBUTES = ["placeholder", "title", "aria-label", "data-title"];
  const vietnamese = (text) => {
    const key = text.trim();
    if (!key) return null;
    if (Object.prototype.hasOwnProperty.call(TEXTS, key)) return text.replace(key, TEXTS[key]);
    for (const [pattern, replacement] of PATTERNS) if (pattern.test(key)) return text.replace(key, key.replace(pattern, replacement));
    const colon = key.indexOf(": ");  // a table toolbar button's label: "Search: " and the table's label
    if (colon > 0 && Object.prototype.hasOwnProperty.call(TEXTS, key.slice(0, colon))) return text.replace(key.slice(0, colon), TEXTS[key.slice(0, colon)]);
    return null;
  };
  const textNode = (node) => {
    const parent = node.parentElement;
    if (!parent || parent.closest(USER_TEXT) || parent.closest("script, style")) return;
    const changed = vietnamese(node.data);
    if (changed !== null && changed !== node.data) node.data = changed;
  };
  const attributes = (element) => {
    if (element.matches(USER_LABELLED)) return;
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      if (value === null) continue;
      const changed = vietnamese(value);
      if (changed !== null && changed !== value) element.setAttribute(name, changed);
    }
  };
  const visit = (root) => {
    if (root.nodeType === Node.TEXT_NODE) return textNode(root);
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    attributes(root);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) textNode(node); else attributes(node);
    }
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === "childList") m.addedNodes.forEach(visit);
      else if (m.type === "characterData") textNode(m.target);
      else attributes(m.target);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ATTRIBUTES});
  visit(document.body);
})();
</script>
"""


def _vietnamese_widget_html() -> str:
    script = (_SCRIPT.replace("__TEXTS__", json.dumps(STREAMLIT_TEXTS, ensure_ascii=False))
              .replace("__PATTERNS__", json.dumps(STREAMLIT_PATTERNS, ensure_ascii=False))
              .replace("__USER_TEXT__", json.dumps(_USER_TEXT)).replace("__USER_LABELLED__", json.dumps(_USER_LABELLED)))
    assert "<" not in script.split(">", 1)[1].rsplit("<", 1)[0], "the sanitizer would drop the script"
    return (_STYLE + script).strip()  # as st.html keeps it (it strips the text)


# static: the same for every page and person, with no data in it (tests/test_hostile_text.py knows it by this text)
VIETNAMESE_WIDGET_HTML = _vietnamese_widget_html()


def vietnamese_widget_texts() -> None:
    """Streamlit's own words (uploader, selects, date inputs, input hints, table menus, chart buttons) in Vietnamese.

    app.py calls it once per run, before anything else is drawn. The script runs once per browser tab; it changes
    only the exact strings of STREAMLIT_TEXTS / STREAMLIT_PATTERNS, never user text.
    """
    st.html(VIETNAMESE_WIDGET_HTML, unsafe_allow_javascript=True)


# ---------------------------------------------------------------- who is working


def browser_session_token() -> str | None:
    """The sign-in token this browser's cookie carries (web.py sets it at sign-in; HttpOnly, so no script in the
    page can read it, only the server, from the websocket's opening request)."""
    return st.context.cookies.get(COOKIE_NAME)


def current_principal() -> Principal | None:
    """The signed-in account for this run; None when nobody is signed in (or the app runs open).

    Who is signed in comes from the browser's cookie on every run, never from this Streamlit session alone:
    a session that changes hands (another person signed in on this browser, or a session id used from
    another browser) starts from nothing, and the gate in web.py keeps a copied session id from reaching
    the session at all. The account is read afresh, so a changed role or a disabled account applies at once.
    """
    if not sign_in_required():
        return None
    check = check_session(database(), browser_session_token())
    signed_in = check.signed_in
    digest = signed_in.digest if signed_in else None
    former = st.session_state.get(SESSION_DIGEST)
    if former is not None and former != digest:
        # e.g. "not saved: the session ended", said at the top of the sign-in page (its place is not drawn there)
        said = [(kind, message) for kind, message, *_ in st.session_state.get(FLASH_KEY, [])] if digest is None else []
        st.session_state.clear()  # the session changed hands or ended: nothing of the former person stays
        if said:
            st.session_state[FLASH_KEY] = said
    st.session_state[SESSION_DIGEST] = digest
    st.session_state[SIGN_IN_REASON] = check.reason
    ctx = get_script_run_ctx()
    if ctx is not None:
        bind_streamlit_session(ctx.session_id, digest, signed_in.principal.username if signed_in else None)
    return signed_in.principal if signed_in else None


OPEN_MODE_REMOTE_REFUSED = (
    "Ứng dụng đang chạy ở chế độ không cần đăng nhập (CCHC_AUTH=off) nên chỉ dùng được trên chính máy chạy nó. "
    "Muốn dùng qua mạng, hãy bật đăng nhập (bỏ CCHC_AUTH=off); hoặc, nếu thật sự muốn mở không cần đăng nhập cho "
    "cả mạng, khởi động với --server.address=0.0.0.0."
)


def open_mode_refuses_this_client() -> bool:
    """Open mode (no sign-in) makes whoever connects an administrator, so it serves this machine only, unless
    whoever started the server chose an address on purpose (scripts/run.sh listens on 127.0.0.1 in open mode)."""
    if sign_in_required():
        return False
    address = st.get_option("server.address")
    remote = st.context.ip_address  # Streamlit reports local connections as None
    return not address and isinstance(remote, str) and bool(remote)


def sign_in_needed_page() -> None:
    """The only page while sign-in is on and this browser has no live session: it sends the tab to the
    sign-in page (web.py), which brings the person back to the page they were on."""
    st.title("Chỉ số CCHC — Đăng nhập")
    show_flashes()
    reason = st.session_state.get(SIGN_IN_REASON)
    st.info(md(reason_message(reason) or "Hãy đăng nhập để tiếp tục."))
    target = sign_in_url(_current_path(), reason)
    st.link_button("Mở trang đăng nhập", target, type="primary")
    st.html(f"<script>window.location.replace({json.dumps(target)});</script>", unsafe_allow_javascript=True)


def _current_path() -> str | None:
    """The page (and its query) the browser shows, as a path of this site."""
    url = st.context.url
    if not url:
        return None
    path = urlsplit(url).path or "/"
    query = urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
    return path + ("?" + query if query else "")


def sign_out() -> None:
    """The sign-out button: the session ends on the server (every tab of this browser is signed out with
    it), and everything the person had in this tab is forgotten: widget values, kept snapshots, downloads."""
    end_session(database(), browser_session_token())
    st.session_state.clear()


def principal() -> Principal | None:
    return st.session_state.get(PRINCIPAL_KEY)


def can(action: Action, **context) -> bool:
    """Whether the person may do this here (open mode: yes). Pages use it to disable what they may not do;
    scoring/ enforces the same rule on every write."""
    who = principal()
    if who is None:
        return True
    context.setdefault("department_id", context_department())
    return auth_can(who, action, **context)


def require(action: Action, **context) -> None:
    """Stop the page with a Vietnamese sentence when the person may not see it."""
    who = principal()
    if who is None:
        return
    context.setdefault("department_id", context_department())
    try:
        authorize(who, action, **context)
    except PermissionDenied as err:
        st.error(md(str(err)))
        st.stop()


START_URL = "bat-dau"  # the address "/" stands for: it only opens the first page the person uses


def visible_pages(pages, who: Principal | None) -> list:
    """Every page stays reachable (each guards itself with require()); the menu shows what the role uses.

    Every page keeps its own address (/tong-quan, /cham-diem…), so a bookmark or a shared link always names
    a page Streamlit knows: the root address is a hidden start page that opens the first page the role uses
    (Streamlit serves its default page at "/" only, and answers "Page not found" for the default's own name).
    """
    allowed = allowed_actions(who) if who is not None else None
    # a page's action, or a tuple of actions any of which shows it (the projector: a department's or the province's)
    shown = [allowed is None or any(a in allowed for a in (action if isinstance(action, tuple) else (action,)))
             for *_, action in pages]
    real = [
        st.Page(path, title=title, icon=icon, url_path=url, visibility="visible" if shown[i] else "hidden")
        for i, (path, title, icon, url, _action) in enumerate(pages)
    ]
    first = real[shown.index(True) if any(shown) else 0]

    def start() -> None:
        st.switch_page(first)

    return [st.Page(start, title=first.title, url_path=START_URL, default=True, visibility="hidden"), *real]


def departments() -> list[department_store.DepartmentView]:
    return sorted(department_store.list_departments(database(), viewer=principal()), key=lambda d: vn_sort_key(d.name))


DEPARTMENT_PARAM, YEAR_PARAM = "co-quan", "nam"  # a link that opens a page on a department's year: ?co-quan=3&nam=2026


def _follow_link_parameters(by_id: dict[int, department_store.DepartmentView]) -> None:
    """Take the department and year a link names (Các cơ quan links each row to its scoring page), once: only a
    department the person holds; the parameters then leave the address, so the selectors decide again."""
    wanted = {name: st.query_params.get(name) for name in (DEPARTMENT_PARAM, YEAR_PARAM)}
    if not any(wanted.values()):
        return
    for name in wanted:
        st.query_params.pop(name, None)
    department, year = (int(v) if v and v.isdigit() else None for v in wanted.values())
    if department in by_id:
        st.session_state["department_id"] = department
        if year is not None:
            st.session_state[PENDING_YEAR_KEY] = year


def sidebar_context() -> tuple[department_store.DepartmentView, int]:
    """Department and year selectors that every page honours; drawn by app.py before the page runs."""
    db = database()
    options = departments()
    if not options:
        st.error("Cơ sở dữ liệu chưa có cơ quan nào.")
        st.stop()
    by_id = {d.id: d for d in options}
    _follow_link_parameters(by_id)
    close_at_deadlines_now_and_then()  # before the page reads the year: a year past its deadline shows as closed
    send_reminders_now_and_then(database)  # on a thread of its own, at most hourly (scoring.assessment.reminders)
    if st.session_state.get("department_id") not in by_id:
        st.session_state["department_id"] = options[0].id
    st.session_state.setdefault("actor", DEFAULT_ACTOR)
    who = principal()
    with st.sidebar:
        st.selectbox("Cơ quan", list(by_id), placeholder=CHOOSE_ONE, format_func=distinct_options(list(by_id), lambda i: by_id[i].name), key="department_id")
        years = department_store.list_years(db, st.session_state["department_id"]) or [2026]
        pending = st.session_state.pop(PENDING_YEAR_KEY, None)
        if pending in years:
            st.session_state["year"] = pending
        if st.session_state.get("year") not in years:
            st.session_state["year"] = years[0]
        st.selectbox("Năm đánh giá", years, placeholder=CHOOSE_ONE, key="year")
        countdown = cycle_countdown(db, st.session_state["department_id"], int(st.session_state["year"]))
        if countdown:
            st.caption(countdown)
        if who is None:
            st.text_input("Người thực hiện", key="actor", help="Tên ghi vào nhật ký thay đổi cho mỗi lần sửa.")
        else:
            st.caption(f"Đăng nhập: {md(who.display_name)} · {who.role.label}" + (f" · {md(who.unit)}" if who.unit else ""))
            st.button("Đăng xuất", key="sign-out", on_click=sign_out)
    return by_id[st.session_state["department_id"]], int(st.session_state["year"])


def cycle_countdown(db, department_id: int, year: int) -> str:
    """The sidebar's countdown of the year (scoring.assessment.stages.countdown_text), on every page of the department."""
    from scoring.assessment import stages

    assessment = assessment_state.get_assessment(db, department_id, year)
    if assessment is None:
        return ""
    return md(stages.countdown_text(assessment_state.cycle_state(db, assessment.id), closes_at_deadline=closes_at_deadlines()))


AWAITING_PAGES = {"cham-diem": "views/cham_diem.py", "ke-hoach": "views/ke_hoach.py", "tai-lieu": "views/tai_lieu.py"}


def what_awaits_me(items) -> None:
    """ "Việc đang chờ bạn" (scoring.assessment.awaiting): each item a link to the page where it is done, the urgent first."""
    if not items:
        return
    with st.container(border=True, key="awaiting"):
        st.markdown("**Việc đang chờ bạn**")
        for item in items:
            st.page_link(AWAITING_PAGES[item.page], label=label(item.text),
                         icon=":material/alarm:" if item.urgent else ":material/arrow_forward:")


def department_awaiting(snap: Snapshot) -> list:
    """What the chosen department's year needs from the signed-in person (scoring.assessment.awaiting)."""
    from scoring.assessment.awaiting import awaiting_in_department

    state = assessment_state.cycle_state(database(), snap.assessment.id, snap.today) if snap.assessment else None
    return awaiting_in_department(snap, state, principal())


def context() -> tuple[int, int]:
    """(department id, year) chosen in the sidebar."""
    return int(st.session_state["department_id"]), int(st.session_state["year"])


def context_department() -> int | None:
    value = st.session_state.get("department_id")
    return int(value) if value is not None else None


def switch_year(year: int) -> None:
    """Show another year from the next run on (the year selector cannot change once drawn in this run)."""
    st.session_state[PENDING_YEAR_KEY] = int(year)


def actor() -> actors.Actor:
    """Who makes a change: the signed-in account (its rights checked by scoring/), or the typed name when open.

    With sign-in on, the account is read again for every write: a fragment rerun does not pass through
    app.py, and an expired session, a disabled account or a changed role must still apply at once.
    """
    if not sign_in_required():
        return (st.session_state.get("actor") or DEFAULT_ACTOR).strip() or DEFAULT_ACTOR
    # No state is cleared here (a callback is half-way through the page): the next full run does that.
    signed_in = check_session(database(), browser_session_token()).signed_in
    if signed_in is None or signed_in.digest != st.session_state.get(SESSION_DIGEST):
        raise InputError(SESSION_OVER)
    st.session_state[PRINCIPAL_KEY] = signed_in.principal
    return signed_in.principal


def _run_token() -> object | None:
    """An object that stands for this script run and no other (Streamlit makes a new fragment coordinator
    for every run); None where there is none, which only costs a fresh check of the data revision."""
    ctx = get_script_run_ctx()
    return getattr(ctx, "parallel_coordinator", None) if ctx is not None else None


def _keeper() -> SnapshotKeeper:
    keeper = st.session_state.get(SNAPSHOT_KEEPER)
    if keeper is None:
        keeper = st.session_state[SNAPSHOT_KEEPER] = SnapshotKeeper()
    return keeper


def snapshot(with_previous_year: bool = False) -> Snapshot:
    """This department's year as the page shows it, kept between runs while nothing is written;
    stops with a Vietnamese sentence if the person may not see it."""
    department_id, year = context()
    try:
        return _keeper().snapshot(database(), department_id, year, viewer=principal(), with_previous_year=with_previous_year,
                                  run=_run_token())
    except PermissionDenied as err:
        st.error(md(str(err)))
        st.stop()


FOLLOW_EVERY_SECONDS = 3
FOLLOW_FRAGMENT = "follow-the-data"  # the fragment's key (st.fragment(key=…))


def follow_the_data(read_at: int | None = None) -> None:
    """Redraw this page within a few seconds of a save that changes what it shows (a projector nobody touches, a
    second laptop in the room): every FOLLOW_EVERY_SECONDS one small read, a full rerun only when it moved.
    Call after ui.snapshot(): the page follows the revisions of the department-year whose snapshot this session
    keeps (SnapshotKeeper.behind), so another department's save leaves it alone, and its own saves move the kept
    revisions on (score_saved, or the read of the fragments they rerun), so they cause no second run. A page
    showing what is not one department's year (the province's ranking) passes `read_at`, the data revision it
    read its figures at (Database.revision), and follows every save."""
    _watch_revision(read_at)


@st.fragment(run_every=FOLLOW_EVERY_SECONDS, key=FOLLOW_FRAGMENT)
def _watch_revision(read_at: int | None = None) -> None:
    try:
        moved = _keeper().behind(database()) if read_at is None else database().revision() != read_at
    except StorageError:  # busy or unreachable for a moment: look again at the next tick
        return
    if moved:
        st.rerun(scope="app")


def score_saved(assessment_id: int, view: assessment_store.ScoreView) -> None:
    """A page saved this score: the kept snapshot takes it instead of reading the year again."""
    _keeper().score_saved(database(), assessment_id, view, run=_run_token())


def locked(snap: Snapshot) -> bool:
    return bool(snap.assessment and snap.assessment.locked_at)


def flash(kind: str, message: str, place: str | None = None) -> None:
    """A message to show on the next run (callbacks run before the page is drawn): at the top of the page, or at
    `place`, the name of the part of the page the save was made from, where that part calls show_flashes(place)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message) if place is None else (kind, message, place))


def show_flashes(place: str | None = None) -> int:
    """Show the messages flashed for `place` (None: the top of the page); the others wait for their place.
    Returns how many were shown."""
    waiting, shown = [], []
    for entry in st.session_state.get(FLASH_KEY, []):
        (shown if (entry[2] if len(entry) > 2 else None) == place else waiting).append(entry)
    if waiting:
        st.session_state[FLASH_KEY] = waiting
    else:
        st.session_state.pop(FLASH_KEY, None)
    for kind, message, *_ in shown:
        {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(md(message))
    return len(shown)


def _show_flashes_left_over() -> None:
    """Messages whose place the page did not draw this time (it stopped first): shown at its end, never lost."""
    for kind, message, *_ in st.session_state.pop(FLASH_KEY, []):
        {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(md(message))


def attempt(action: Callable[[], Any], *, success: str | None = None, on_conflict: Callable[[], None] | None = None,
            place: str | None = None) -> Any:
    """Run a write; people see a Vietnamese sentence, never a traceback, at `place` (see flash). A storage failure
    (disk full, read-only folder, busy database) says which. Returns the action's result, or None when refused."""
    ongoing = object()
    st.session_state[_ATTEMPT_KEY] = ongoing

    def said(kind: str, message: str) -> None:
        # a session cleared meanwhile (signed out: the account was disabled) draws no page, so no place: the top
        flash(kind, message, place if st.session_state.get(_ATTEMPT_KEY) is ongoing else None)

    try:
        result = action()
    except ConflictError as err:
        if on_conflict:
            on_conflict()
        said("error", str(err))
        return None
    except InputError as err:  # StorageError included: its sentence says what happened to the disk or database
        said("error", str(err))
        return None
    except Exception:  # a bug must not cost the person their page: log it and say so
        log.exception("unexpected error")
        said("error", "Đã xảy ra lỗi ngoài dự kiến, thay đổi chưa được lưu. Hãy thử lại hoặc báo cho quản trị viên.")
        return None
    finally:
        if st.session_state.get(_ATTEMPT_KEY) is ongoing:
            del st.session_state[_ATTEMPT_KEY]
    if success:
        flash("success", success, place)
    return result


_ATTEMPT_KEY = "_attempt_ongoing"


UNEXPECTED_ERROR = "Đã xảy ra lỗi ngoài dự kiến khi hiển thị trang này. Dữ liệu đã lưu không bị ảnh hưởng; hãy tải lại trang hoặc báo cho quản trị viên."


def run_page(page) -> None:
    """Run the chosen page; a bug shows a Vietnamese sentence (details go to the server log), never a traceback.

    st.stop()/st.rerun() raise BaseException subclasses, so they pass through untouched.
    """
    try:
        page.run()
    except StorageError as err:  # the database cannot be read: say what happened (disk, permissions, busy)
        log.warning("page %s: %s", getattr(page, "title", page), err.__cause__ or err)
        st.error(md(str(err)))
    except Exception:
        log.exception("page %s failed", getattr(page, "title", page))
        st.error(UNEXPECTED_ERROR)
    except StopException:
        _show_flashes_left_over()
        raise
    _show_flashes_left_over()


EDITOR_GENERATIONS, VERSIONS_SEEN = "_editor_generations", "_versions_seen"


def editor_key(name: str) -> str:
    """The key of an editor (a form or a table) that is drawn afresh after each save or refusal: its name and its
    generation. A form's widgets take keys that start with it, so they keep what they showed (see version_seen)."""
    return f"{name}-{st.session_state.get(EDITOR_GENERATIONS, {}).get(name, 0)}"


def redraw_editor(name: str) -> None:
    """From the next run the editor shows what is stored, and expects the versions it then shows."""
    generations = st.session_state.setdefault(EDITOR_GENERATIONS, {})
    generations[name] = generations.get(name, 0) + 1
    seen = st.session_state.get(VERSIONS_SEEN, {})
    for key in [key for key in seen if key[0].startswith(f"{name}-")]:
        del seen[key]


def version_seen(form_key: str, row_id: object, version: int) -> int:
    """The version of a row that the form `form_key` (from editor_key) showed when its widgets were made: what
    a save from it expects, even once the page has read a newer version (someone else's change is then told,
    not overwritten). Widgets keyed "<form_key>-…" keep their values while they are drawn in every run; once
    they were not (the person opened another page), Streamlit has dropped them and the form shows, and so
    expects, what is stored now."""
    seen = st.session_state.setdefault(VERSIONS_SEEN, {})
    prefix = f"{form_key}-"
    if not any(isinstance(key, str) and key.startswith(prefix) for key in st.session_state):
        seen[(form_key, row_id)] = version  # the widgets are about to be made from what is stored now
    return seen.setdefault((form_key, row_id), version)


def save_from_editors(names: tuple[str, ...], action: Callable[[], Any], *, success: str, place: str | None = None) -> None:
    """A save from a form, then a new run. Saved, or refused because someone changed the row since the form was
    drawn, the named editors (the forms of that row) then show what is stored, the refusal saying who and when;
    refused for its input, the form keeps what was typed, to correct."""
    def redraw() -> None:
        for name in names:
            redraw_editor(name)

    if attempt(action, success=success, on_conflict=redraw, place=place) is not None:
        redraw()
    st.rerun()


def forget_widgets(prefix: str) -> None:
    """Drop widget state under a prefix so the widgets show what is stored (after a conflict or a reload)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


_MARKDOWN_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_{}[]()#+-.!|<>~$:"})
# Streamlit's Markdown (remark-gfm) turns bare "http://…", "www.…" and "name@host.vn" into links even when every
# character is escaped: it finds them in the text once the escapes are read. An invisible word joiner inside
# "://", after "@" and after "www" breaks what it looks for; the text reads as typed.
WORD_JOINER = "\u2060"
_AUTOLINK_START = re.compile(r"(?<=:)(?=//)|(?<=@)|(?<=www)(?=\.)", re.IGNORECASE)


def md(text: str) -> str:
    """User or imported text made inert for st.markdown, st.caption, st.info…: no formatting, links, images or HTML
    from data."""
    return _AUTOLINK_START.sub(WORD_JOINER, text or "").translate(_MARKDOWN_SPECIAL).replace("\n", "  \n")


def label(text: str) -> str:
    """User or imported text in what Streamlit draws as Markdown on one line: a widget's label, a radio or
    segmented-control option, an expander's, a tab's, a metric's or a button's label (links and images included)."""
    return md(" ".join((text or "").split()))


def distinct_options(options: list, text: Callable[[Any], str], *, markdown: bool = False) -> Callable[[Any], str]:
    """The format_func for a selectbox, multiselect, radio…: Streamlit tells the chosen options apart by the text
    shown, so two options showing the same text are one for it (choosing one may drop the other). A repeated text
    gets " (2)", " (3)"… in the order of the options; `markdown` for widgets that draw their options as Markdown
    (radio, segmented control), whose text goes through label()."""
    shown: dict[Any, str] = {}
    seen: dict[str, int] = {}
    for option in dict.fromkeys(options):  # an option listed twice is one option
        base = label(text(option)) if markdown else text(option)
        seen[base] = seen.get(base, 0) + 1
        shown[option] = base if seen[base] == 1 else f"{base} ({seen[base]})"
    return lambda option: shown[option] if option in shown else (label(text(option)) if markdown else text(option))


EMPTY_CELL = "—"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def dataframe(data, *, container=None, **options):
    """A read-only table as every page draws one: an empty cell reads "—" (Streamlit would draw "None")."""
    return (container or st).dataframe(data, **{"placeholder": EMPTY_CELL, **options})


def chart(container, figure, *, key: str) -> None:
    """A figure of scoring.charts as it was made: its own fonts, sizes and colours (the same as in the exports),
    not Streamlit's chart theme, which would draw every axis and legend in small grey type."""
    container.plotly_chart(figure, key=key, theme=None, config={"displaylogo": False})


def appraisal_metric(container, label: str, appraisal: AppraisalProgress, figure: Callable[[Decimal], str]) -> None:
    """A metric of appraised points: `figure(points)` once the node is wholly appraised; until then "—" with how
    far the appraisal has got ("đang thẩm định 4/11"), never a partial sum."""
    if appraisal.complete:
        container.metric(label, figure(appraisal.points))
    else:
        container.metric(label, "—", delta=appraisal.text(), delta_arrow="off",
                         delta_color="orange" if appraisal.in_progress else "gray")


SELF_INDEX_HELP = "Điểm tự chấm so với tổng điểm tối đa của các tiêu chí được đánh giá; tạm tính khi còn tiêu chí chưa chấm."


def self_index_metric(container, source, *, label: str = "Chỉ số tự đánh giá", decimals: int = 2) -> None:
    """The self-assessed index (scoring.assessment.engine.SelfIndex) of a rollup, a node or an area summary: provisional while
    leaves are unscored, and saying so."""
    reading = source.self_index
    if reading.complete:
        container.metric(label, reading.figure(decimals), help=SELF_INDEX_HELP)
    else:
        container.metric(label, reading.figure(decimals), delta=reading.note(), delta_arrow="off",
                         delta_color="orange" if reading.scored else "gray", help=SELF_INDEX_HELP)


def appraised_index_metric(container, snap: Snapshot, *, decimals: int = 2) -> None:
    """ "Chỉ số sau thẩm định" of the whole set (scoring.assessment.engine.Rollup.index_appraised)."""
    appraisal_metric(container, "Chỉ số sau thẩm định", snap.appraisal(),
                     lambda _points: format_percent(snap.rollup.index_appraised, decimals))


# ---------------------------------------------------------------- downloads made when clicked


@dataclass
class _Generation:
    """One click's file being made on Streamlit's download thread, and what went wrong, in Vietnamese."""

    finished: threading.Event = field(default_factory=threading.Event)
    error: str | None = None


_GENERATIONS: dict[tuple[str, str], _Generation] = {}  # (session id, button key) → the latest generation
_GENERATIONS_LOCK = threading.Lock()
GENERATION_START_WAIT = 5.0  # seconds the click's rerun waits for the browser's file request to arrive
GENERATION_WAIT = 300.0  # … and for the file to be made


def download_button(label: str, make: Callable[[], bytes], *, what: str, file_name: str, mime: str, key: str,
                    disabled: bool = False, **options) -> str | None:
    """A download button that makes its file when clicked, so the file is always as the data is then.

    Streamlit runs `make` on a thread of its own when the browser asks for the file, without this page's
    context: Streamlit calls inside it (st.spinner, st.session_state) do nothing, so `make` takes everything
    it needs as arguments, and the button shows its own spinner while it waits. The click also reruns the
    page: that run waits (under st.spinner) for the file to be made, so a failure is known in the same run.
    Returns the Vietnamese sentence of a failure, for the page to show beside the button (Streamlit itself
    can only show a short English line under the button for a few seconds: streamlit#13466); None otherwise.
    Nothing is kept in session state: no file outlives the click, nor survives signing out.
    """
    ctx = get_script_run_ctx()
    slot = (ctx.session_id if ctx is not None else "", key)

    def generate() -> bytes:
        generation = _Generation()
        with _GENERATIONS_LOCK:
            _GENERATIONS[slot] = generation
        try:
            return make()
        except InputError as err:
            generation.error = str(err)
            raise
        except Exception:
            log.exception("download %s failed", key)
            generation.error = (f"Không tạo được {what} do lỗi ngoài dự kiến; dữ liệu đã lưu không bị ảnh hưởng. "
                                "Hãy thử lại hoặc báo cho quản trị viên.")
            raise
        finally:
            generation.finished.set()

    clicked = st.download_button(label, generate, file_name=file_name, mime=mime, key=key, disabled=disabled, **options)
    if clicked:
        with st.spinner(f"Đang tạo {what}…"):
            _wait_for_generation(slot)
    with _GENERATIONS_LOCK:
        generation = _GENERATIONS.get(slot)
        if generation is not None and generation.finished.is_set():
            del _GENERATIONS[slot]
        else:
            generation = None
    return generation.error if generation is not None else None


def _wait_for_generation(slot: tuple[str, str]) -> None:
    started = time.monotonic()
    while True:
        with _GENERATIONS_LOCK:
            generation = _GENERATIONS.get(slot)
        if generation is not None:
            generation.finished.wait(GENERATION_WAIT)
            return
        if time.monotonic() - started > GENERATION_START_WAIT:
            return  # the request never came (the browser went away): the next run shows any outcome
        time.sleep(0.05)
