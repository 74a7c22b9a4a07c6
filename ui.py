"""Shared helpers for the Streamlit pages: the open database, the year/department context, safe actions.

Pages stay thin: every number comes from scoring/; this module only wires Streamlit to it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from scoring import repository as repo
from scoring.accounts import NO_ADMIN_YET, has_accounts, principal_for, sign_in, sign_in_required
from scoring.auth import Action, PermissionDenied, Principal, allowed_actions, authorize, session_expired
from scoring.auth import can as auth_can
from scoring.db import Database, Settings, open_database, settings_from_env
from scoring.errors import ConflictError, InputError, StorageError
from scoring.snapshot import Snapshot, SnapshotKeeper
from scoring.engine import AppraisalProgress
from scoring.textnorm import format_percent, vn_sort_key
from scoring.workspace import ensure_default_workspace

log = logging.getLogger("cchc")

DEFAULT_ACTOR = "Văn phòng"
FLASH_KEY = "_flash_messages"
PENDING_YEAR_KEY = "_pending_year"
PRINCIPAL_KEY = "_principal"  # set by app.py for the run; pages read it through principal()
SESSION_USER, SESSION_STARTED, SESSION_SEEN = "_session_user", "_session_started", "_session_seen"
SNAPSHOT_KEEPER = "_snapshot_keeper"


_DATABASES: dict[Settings, Database] = {}
_OPENING = threading.Lock()


def database() -> Database:
    """The database the environment names (CCHC_DATA_DIR / DATABASE_URL), opened once per server process.

    A plain dictionary rather than st.cache_resource: every save and every fragment asks for it, and
    st.cache_resource hashes its argument on each call, which cost more than the save itself.
    """
    settings = _settings(os.environ.get("CCHC_DATA_DIR"), os.environ.get("DATABASE_URL"))
    db = _DATABASES.get(settings)
    if db is None:
        with _OPENING:  # two sessions starting together must not migrate and seed twice
            db = _DATABASES.get(settings)
            if db is None:
                db = _DATABASES[settings] = _open_database(settings)
    return db


@functools.lru_cache(maxsize=8)
def _settings(data_dir: str | None, database_url: str | None) -> Settings:
    """Settings for these environment values (building them resolves paths on disk: once is enough)."""
    return settings_from_env({k: v for k, v in (("CCHC_DATA_DIR", data_dir), ("DATABASE_URL", database_url)) if v})


def _open_database(settings: Settings) -> Database:
    """Migrates, then seeds the embedded default on first start. It makes no account: the first administrator
    is made by `python -m scoring init` on the operator's console (scripts/run.sh runs it), never because a
    visitor opened the sign-in page, and its password never reaches the server's log."""
    db = open_database(settings)
    ensure_default_workspace(db)
    return db


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


def current_principal() -> Principal | None:
    """The signed-in account for this run; None when nobody is signed in (or the app runs open)."""
    if not sign_in_required():
        return None
    username = st.session_state.get(SESSION_USER)
    if not username:
        return None
    now = datetime.now(timezone.utc)
    if session_expired(st.session_state[SESSION_STARTED], st.session_state[SESSION_SEEN], now):
        sign_out("Phiên làm việc đã hết hạn; hãy đăng nhập lại.")
        return None
    principal = principal_for(database(), username)  # re-read: a changed role or a disabled account applies at once
    if principal is None:
        sign_out("Tài khoản không còn hoạt động.")
        return None
    st.session_state[SESSION_SEEN] = now
    return principal


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


def sign_in_page() -> None:
    """The only page while sign-in is on and nobody is signed in."""
    st.title("Chỉ số CCHC — Đăng nhập")
    show_flashes()
    if not has_accounts(database()):
        st.warning(NO_ADMIN_YET)  # our own words (a command in backticks), not data
        return
    with st.form("sign-in"):
        username = st.text_input("Tên đăng nhập", key="sign-in-user")
        password = st.text_input("Mật khẩu", type="password", key="sign-in-password")
        submitted = st.form_submit_button("Đăng nhập", type="primary")
    if submitted:
        try:
            principal = sign_in(database(), username, password)
        except InputError as err:
            st.error(md(str(err)))
            return
        now = datetime.now(timezone.utc)
        st.session_state.update({SESSION_USER: principal.username, SESSION_STARTED: now, SESSION_SEEN: now})
        st.rerun()


def sign_out(message: str | None = None) -> None:
    """End the sign-in and forget everything the person had in this tab: every widget's value, kept
    snapshots, files made for download. The next person to sign in here starts from nothing."""
    st.session_state.clear()
    if message:
        flash("warning", message)


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


def visible_pages(pages, who: Principal | None) -> list:
    """Every page stays reachable (each guards itself with require()); the menu shows what the role uses.

    The first page the role may use is the default one.
    """
    allowed = allowed_actions(who) if who is not None else None
    shown = [allowed is None or action in allowed for *_, action in pages]
    default = shown.index(True) if any(shown) else 0
    return [
        st.Page(path, title=title, icon=icon, url_path=url, default=(i == default),
                visibility="visible" if shown[i] else "hidden")
        for i, (path, title, icon, url, _action) in enumerate(pages)
    ]


def departments() -> list[repo.DepartmentView]:
    return sorted(repo.list_departments(database(), viewer=principal()), key=lambda d: vn_sort_key(d.name))


def sidebar_context() -> tuple[repo.DepartmentView, int]:
    """Department and year selectors that every page honours; drawn by app.py before the page runs."""
    db = database()
    options = departments()
    if not options:
        st.error("Cơ sở dữ liệu chưa có cơ quan nào.")
        st.stop()
    by_id = {d.id: d for d in options}
    if st.session_state.get("department_id") not in by_id:
        st.session_state["department_id"] = options[0].id
    st.session_state.setdefault("actor", DEFAULT_ACTOR)
    who = principal()
    with st.sidebar:
        st.selectbox("Cơ quan", list(by_id), placeholder=CHOOSE_ONE, format_func=distinct_options(list(by_id), lambda i: by_id[i].name), key="department_id")
        years = repo.list_years(db, st.session_state["department_id"]) or [2026]
        pending = st.session_state.pop(PENDING_YEAR_KEY, None)
        if pending in years:
            st.session_state["year"] = pending
        if st.session_state.get("year") not in years:
            st.session_state["year"] = years[0]
        st.selectbox("Năm đánh giá", years, placeholder=CHOOSE_ONE, key="year")
        if who is None:
            st.text_input("Người thực hiện", key="actor", help="Tên ghi vào nhật ký thay đổi cho mỗi lần sửa.")
        else:
            st.caption(f"Đăng nhập: {md(who.display_name)} · {who.role.label}" + (f" · {md(who.unit)}" if who.unit else ""))
            st.button("Đăng xuất", key="sign-out", on_click=sign_out)
    return by_id[st.session_state["department_id"]], int(st.session_state["year"])


def context() -> tuple[int, int]:
    """(department id, year) chosen in the sidebar."""
    return int(st.session_state["department_id"]), int(st.session_state["year"])


def context_department() -> int | None:
    value = st.session_state.get("department_id")
    return int(value) if value is not None else None


def switch_year(year: int) -> None:
    """Show another year from the next run on (the year selector cannot change once drawn in this run)."""
    st.session_state[PENDING_YEAR_KEY] = int(year)


def actor() -> repo.Actor:
    """Who makes a change: the signed-in account (its rights checked by scoring/), or the typed name when open.

    With sign-in on, the account is read again for every write: a fragment rerun does not pass through
    app.py, and an expired session, a disabled account or a changed role must still apply at once.
    """
    if not sign_in_required():
        return (st.session_state.get("actor") or DEFAULT_ACTOR).strip() or DEFAULT_ACTOR
    who = current_principal()
    if who is None:
        raise InputError("Phiên đăng nhập đã kết thúc nên thay đổi chưa được lưu; hãy đăng nhập lại.")
    st.session_state[PRINCIPAL_KEY] = who
    return who


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


def score_saved(assessment_id: int, view: repo.ScoreView) -> None:
    """A page saved this score: the kept snapshot takes it instead of reading the year again."""
    _keeper().score_saved(database(), assessment_id, view, run=_run_token())


def locked(snap: Snapshot) -> bool:
    return bool(snap.assessment and snap.assessment.locked_at)


def flash(kind: str, message: str) -> None:
    """A message to show on the next run (callbacks run before the page is drawn)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(md(message))


def attempt(action: Callable[[], Any], *, success: str | None = None, on_conflict: Callable[[], None] | None = None) -> Any:
    """Run a write; people see a Vietnamese sentence, never a traceback. Returns the action's result or None."""
    try:
        result = action()
    except ConflictError as err:
        if on_conflict:
            on_conflict()
        flash("error", str(err))
        return None
    except InputError as err:
        flash("error", str(err))
        return None
    except Exception:  # a bug must not cost the person their page: log it and say so
        log.exception("unexpected error")
        flash("error", "Đã xảy ra lỗi ngoài dự kiến, thay đổi chưa được lưu. Hãy thử lại hoặc báo cho quản trị viên.")
        return None
    if success:
        flash("success", success)
    return result


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


def save_from_editors(names: tuple[str, ...], action: Callable[[], Any], *, success: str) -> None:
    """A save from a form, then a new run. Saved, or refused because someone changed the row since the form was
    drawn, the named editors (the forms of that row) then show what is stored, the refusal saying who and when;
    refused for its input, the form keeps what was typed, to correct."""
    def redraw() -> None:
        for name in names:
            redraw_editor(name)

    if attempt(action, success=success, on_conflict=redraw) is not None:
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


def appraisal_metric(container, label: str, appraisal: AppraisalProgress, figure: Callable[[Decimal], str]) -> None:
    """A metric of appraised points: `figure(points)` once the node is wholly appraised; until then "—" with how
    far the appraisal has got ("đang thẩm định 4/11"), never a partial sum."""
    if appraisal.complete:
        container.metric(label, figure(appraisal.points))
    else:
        container.metric(label, "—", delta=appraisal.text(), delta_arrow="off",
                         delta_color="orange" if appraisal.in_progress else "gray")


def appraised_index_metric(container, snap: Snapshot, *, decimals: int = 2) -> None:
    """ "Chỉ số sau thẩm định" of the whole set (scoring.engine.Rollup.index_appraised)."""
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
