"""Shared helpers for the Streamlit pages: the open database, the year/department context, safe actions.

Pages stay thin: every number comes from scoring/; this module only wires Streamlit to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from scoring import repository as repo
from scoring.db import Database, Settings, open_database, settings_from_env
from scoring.errors import ConflictError, InputError
from scoring.snapshot import Snapshot, load_snapshot
from scoring.textnorm import vn_sort_key
from scoring.workspace import ensure_default_workspace

log = logging.getLogger("cchc")

DEFAULT_ACTOR = "Văn phòng"
FLASH_KEY = "_flash_messages"
PENDING_YEAR_KEY = "_pending_year"


def database() -> Database:
    """The database the environment names (CCHC_DATA_DIR / DATABASE_URL), opened once per server process."""
    return _open_database(settings_from_env())


@st.cache_resource(show_spinner=False)
def _open_database(settings: Settings) -> Database:
    db = open_database(settings)  # migrates, then seeds the embedded default on first start
    ensure_default_workspace(db)
    return db


def departments() -> list[repo.DepartmentView]:
    return sorted(repo.list_departments(database()), key=lambda d: vn_sort_key(d.name))


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
    with st.sidebar:
        st.selectbox("Cơ quan", list(by_id), format_func=lambda i: by_id[i].name, key="department_id")
        years = repo.list_years(db, st.session_state["department_id"]) or [2026]
        pending = st.session_state.pop(PENDING_YEAR_KEY, None)
        if pending in years:
            st.session_state["year"] = pending
        if st.session_state.get("year") not in years:
            st.session_state["year"] = years[0]
        st.selectbox("Năm đánh giá", years, key="year")
        st.text_input("Người thực hiện", key="actor", help="Tên ghi vào nhật ký thay đổi cho mỗi lần sửa.")
    return by_id[st.session_state["department_id"]], int(st.session_state["year"])


def context() -> tuple[int, int]:
    """(department id, year) chosen in the sidebar."""
    return int(st.session_state["department_id"]), int(st.session_state["year"])


def switch_year(year: int) -> None:
    """Show another year from the next run on (the year selector cannot change once drawn in this run)."""
    st.session_state[PENDING_YEAR_KEY] = int(year)


def actor() -> str:
    return (st.session_state.get("actor") or DEFAULT_ACTOR).strip() or DEFAULT_ACTOR


def snapshot() -> Snapshot:
    department_id, year = context()
    return load_snapshot(database(), department_id, year)


def flash(kind: str, message: str) -> None:
    """A message to show on the next run (callbacks run before the page is drawn)."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flashes() -> None:
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(message)


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
    except Exception:
        log.exception("page %s failed", getattr(page, "title", page))
        st.error(UNEXPECTED_ERROR)


def forget_widgets(prefix: str) -> None:
    """Drop widget state under a prefix so the widgets show what is stored (after a conflict or a reload)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


_MARKDOWN_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_{}[]()#+-.!|<>~$:"})


def md(text: str) -> str:
    """User or imported text made inert for st.markdown: no formatting, links, images or HTML from data."""
    return (text or "").translate(_MARKDOWN_SPECIAL).replace("\n", "  \n")
