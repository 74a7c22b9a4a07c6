"""Chỉ số CCHC — entry point: `streamlit run app.py`.

Opens the embedded default on first start (SQLite under data/, the bundled 2026 plan and criteria set),
draws the department/year selectors every page honours, then runs the chosen page.
"""

import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.errors import InputError, StorageError
from scoring.textnorm import local_zone

st.set_page_config(page_title="Chỉ số CCHC", page_icon="📊", layout="wide")
ui.vietnamese_widget_texts()  # Streamlit's own English words (uploader, selects, tables…) in Vietnamese
try:
    local_zone()  # a wrong CCHC_TIMEZONE is said once, at the start, rather than as wrong times on every page
except InputError as problem:
    st.error(str(problem))
    st.stop()

# (file, title, icon, url, the action that makes the page appear in the menu, or a tuple of them: any one does). The files live in views/, not
# pages/: Streamlit treats a pages/ folder as an old-style multipage app on a server's first run, looks the
# address up among its file names (cham_diem) instead of these urls (cham-diem) and shows "Page not found".
PAGES = [
    ("views/tong_quan.py", "Tổng quan", ":material/dashboard:", "tong-quan", Action.VIEW_DASHBOARD),
    ("views/cac_co_quan.py", "Các cơ quan", ":material/account_balance:", "cac-co-quan", Action.VIEW_PROVINCE),
    ("views/ke_hoach.py", "Kế hoạch", ":material/checklist:", "ke-hoach", Action.VIEW_DASHBOARD),
    ("views/cham_diem.py", "Chấm điểm", ":material/grading:", "cham-diem", Action.VIEW_SCORES),
    ("views/tai_lieu.py", "Tài liệu kiểm chứng", ":material/folder_open:", "tai-lieu", Action.VIEW_SCORES),
    ("views/xuat_tep.py", "Xuất, nhập tệp", ":material/download:", "xuat-tep", Action.EXPORT),
    ("views/trinh_chieu.py", "Trình chiếu", ":material/slideshow:", "trinh-chieu", (Action.USE_PROJECTOR, Action.VIEW_PROVINCE)),
    ("views/cau_hinh.py", "Cấu hình", ":material/settings:", "cau-hinh", Action.VIEW_AUDIT_LOG),
]

if ui.open_mode_refuses_this_client():
    st.error(ui.OPEN_MODE_REMOTE_REFUSED)
    st.stop()
try:
    who = ui.current_principal()
    if ui.sign_in_required() and who is None:
        # Every address shows the same thing (the tab is sent to web.py's sign-in page, which brings it back here).
        # Registered under every page's address, so Streamlit never says "Page not found" for one of them.
        st.navigation([st.Page(ui.sign_in_needed_page, title="Đăng nhập", url_path=ui.START_URL, default=True)]
                      + [st.Page(ui.sign_in_needed_page, title="Đăng nhập", url_path=url) for *_, url, _action in PAGES],
                      position="hidden").run()
        st.stop()
    st.session_state[ui.PRINCIPAL_KEY] = who
    page = st.navigation(ui.visible_pages(PAGES, who))
    ui.sidebar_context()
except StorageError as problem:  # the database cannot be opened or read: a sentence, never a traceback
    st.error(ui.md(str(problem)))
    st.stop()
ui.show_flashes()
ui.run_page(page)
