"""Chỉ số CCHC — entry point: `streamlit run app.py`.

Opens the embedded default on first start (SQLite under data/, the bundled 2026 plan and criteria set),
draws the department/year selectors every page honours, then runs the chosen page.
"""

import streamlit as st

import ui

st.set_page_config(page_title="Chỉ số CCHC", page_icon="📊", layout="wide")

PAGES = [
    st.Page("pages/tong_quan.py", title="Tổng quan", icon=":material/dashboard:", url_path="tong-quan", default=True),
    st.Page("pages/ke_hoach.py", title="Kế hoạch", icon=":material/checklist:", url_path="ke-hoach"),
    st.Page("pages/cham_diem.py", title="Chấm điểm", icon=":material/grading:", url_path="cham-diem"),
    st.Page("pages/tai_lieu.py", title="Tài liệu kiểm chứng", icon=":material/folder_open:", url_path="tai-lieu"),
    st.Page("pages/trinh_chieu.py", title="Trình chiếu", icon=":material/slideshow:", url_path="trinh-chieu"),
    st.Page("pages/cau_hinh.py", title="Cấu hình", icon=":material/settings:", url_path="cau-hinh"),
]

page = st.navigation(PAGES)
ui.sidebar_context()
ui.show_flashes()
ui.run_page(page)
