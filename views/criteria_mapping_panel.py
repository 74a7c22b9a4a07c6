"""Cấu hình → Năm đánh giá: which of last year's criteria became which of this year's (scoring.criteria.mapping).

Shown when this year's criteria set names or numbers its criteria otherwise than last year's. The page proposes a
mapping; a person changes what any of last year's criteria became (one or several of this year's, or «không còn»)
and confirms it. The draft lives in the session until confirmed; a confirmation expects the stored version the
draft was made from, so someone else's confirmation meanwhile is told, not overwritten.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.assessment.snapshot import Snapshot
from scoring.criteria.mapping import CriteriaMapping, propose_mapping, sets_differ
from scoring.criteria.model import CriteriaSet
from scoring.store import assessment_state, criteria_store
from scoring.store.criteria_mapping_store import ConfirmedMapping, confirm_mapping, confirmed_mapping
from scoring.store.db import Database
from scoring.textnorm import format_datetime

PLACE = "criteria-mapping"  # where this panel's messages are said (ui.flash)


def _draft_key(from_set_id: int, to_set_id: int) -> str:
    return f"_criteria_mapping_draft:{from_set_id}:{to_set_id}"


def _draft(key: str, stored: ConfirmedMapping | None, proposal: CriteriaMapping) -> tuple[int, CriteriaMapping]:
    """(the stored version the draft was made from, the draft): the person's edits, else what is stored, else the
    proposal."""
    kept = st.session_state.get(key)
    if kept is not None:
        return kept
    return (stored.version, stored.mapping) if stored is not None else (0, proposal)


def _proposal(old_set: CriteriaSet, new_set: CriteriaSet) -> CriteriaMapping:
    """The proposal, made once per session for the criteria it reads (codes and names): comparing every pair of
    names costs tens of milliseconds, which every run of the page would pay."""
    key = tuple(tuple((leaf.code, leaf.name) for leaf in criteria_set.leaves()) for criteria_set in (old_set, new_set))
    proposals = st.session_state.setdefault("_criteria_mapping_proposals", {})
    if key not in proposals:
        proposals.clear()  # one pair of sets at a time is all a page shows
        proposals[key] = propose_mapping(old_set, new_set)
    return proposals[key]


def _change(key: str, base: int, draft: CriteriaMapping, old_set: CriteriaSet, new_set: CriteriaSet, picker: str) -> None:
    old_code = st.session_state.get(f"{picker}-old")
    if old_code is None:
        return
    changed = ui.attempt(lambda: draft.with_targets(old_code, st.session_state.get(f"{picker}-new") or [], old_set, new_set),
                         place=PLACE)
    if changed is not None:
        st.session_state[key] = (base, changed)
        targets = ", ".join(changed.targets(old_code)) or "không còn"
        ui.flash("success", f"Đã đổi trong bảng: {old_code} → {targets}. Bảng chưa được lưu cho tới khi bấm «Xác nhận».", PLACE)


def _confirm(db: Database, key: str, base: int, draft: CriteriaMapping, from_set_id: int, to_set_id: int, picker: str) -> None:
    saved = ui.attempt(lambda: confirm_mapping(db, from_set_id, to_set_id, draft, base, actor=ui.actor()),
                       success="Đã xác nhận bảng đối chiếu tiêu chí: trang Tổng quan so sánh với năm trước theo bảng này.",
                       on_conflict=lambda: _back_to(key, picker), place=PLACE)
    if saved is not None:
        _back_to(key, picker)


def _back_to(key: str, picker: str) -> None:
    """Drop the draft: the table shows what is stored (or the proposal), the picker what it says."""
    st.session_state.pop(key, None)
    st.session_state.pop(f"{picker}-for", None)


def show(db: Database, snap: Snapshot) -> None:
    """The mapping between last year's set and this year's, when they differ."""
    if snap.assessment is None or snap.criteria_set is None:
        return
    previous = assessment_state.get_assessment(db, snap.department.id, snap.year - 1)
    if previous is None:
        return
    old_set, new_set = criteria_store.load_criteria(db, previous.criteria_set_id), snap.criteria_set
    if not sets_differ(old_set, new_set):
        st.caption(f"Bộ tiêu chí năm {snap.year} có cùng mã và tên tiêu chí như năm {snap.year - 1}: "
                   "so sánh với năm trước theo mã, không cần bảng đối chiếu.")
        return
    from_set_id, to_set_id = previous.criteria_set_id, snap.assessment.criteria_set_id
    key = _draft_key(from_set_id, to_set_id)
    stored = confirmed_mapping(db, from_set_id, to_set_id)
    base, draft = _draft(key, stored, _proposal(old_set, new_set))
    edited = key in st.session_state

    st.subheader(f"Đối chiếu tiêu chí năm {snap.year - 1} → năm {snap.year}")
    st.caption(f"Bộ tiêu chí năm {snap.year} ({ui.md(new_set.name)}) khác năm {snap.year - 1} ({ui.md(old_set.name)}): "
               "tiêu chí có thể đã đổi mã, được gộp hay tách. Bảng này cho biết mỗi tiêu chí năm trước nay là tiêu chí nào, "
               "để so sánh với năm trước theo nội dung chứ không theo mã. Bảng là của hai bộ tiêu chí, dùng chung cho "
               "mọi cơ quan chấm theo hai bộ này.")
    if stored is not None:
        st.success(f"Đã xác nhận bởi {ui.md(stored.confirmed_by)} lúc {format_datetime(stored.confirmed_at)}."
                   + (" Bảng dưới đây có thay đổi chưa lưu." if edited else ""))
    else:
        st.warning("Chưa có bảng đối chiếu được xác nhận: trang Tổng quan đang so sánh với năm trước theo mã. "
                   "Bảng dưới đây là đề xuất theo mã và độ giống của tên" + (", có thay đổi chưa lưu." if edited else "."))
    ui.show_flashes(PLACE)
    ui.dataframe(pd.DataFrame([
        {"Mã năm trước": row.old_code or "—", "Tiêu chí năm trước": row.old_name or "—",
         "Mã năm nay": row.new_code or "—", "Tiêu chí năm nay": row.new_name or "—",
         "Quan hệ": row.kind.label, "Độ giống": row.similarity_text, "Lý do": row.reason}
        for row in draft.rows(old_set, new_set)
    ]), hide_index=True, column_config={"Tiêu chí năm trước": st.column_config.TextColumn(width="medium"),
                                        "Tiêu chí năm nay": st.column_config.TextColumn(width="medium")})

    may_confirm = ui.can(Action.MANAGE_CRITERIA, department_id=None)
    if not may_confirm:
        st.caption("Chỉ quản trị viên (người được nhập bộ tiêu chí) sửa và xác nhận được bảng đối chiếu.")
        return
    picker = f"criteria-mapping-{from_set_id}-{to_set_id}"
    old_leaves = {leaf.code: leaf.name for leaf in old_set.leaves()}
    new_leaves = {leaf.code: leaf.name for leaf in new_set.leaves()}
    c1, c2 = st.columns(2)
    old_code = c1.selectbox("Tiêu chí năm trước", list(old_leaves), index=None, placeholder="Chọn tiêu chí cần sửa…",
                            format_func=ui.distinct_options(list(old_leaves), lambda c: f"{c} — {old_leaves[c]}"), key=f"{picker}-old")
    if old_code is not None and st.session_state.get(f"{picker}-for") != old_code:
        st.session_state[f"{picker}-new"] = list(draft.targets(old_code))  # the picker shows what it became now
        st.session_state[f"{picker}-for"] = old_code
    c2.multiselect("Nay là tiêu chí", list(new_leaves), placeholder="Không còn (không chọn tiêu chí nào)",
                   format_func=ui.distinct_options(list(new_leaves), lambda c: f"{c} — {new_leaves[c]}"), key=f"{picker}-new",
                   disabled=old_code is None,
                   help="Chọn một tiêu chí (giữ nguyên, đổi mã), nhiều tiêu chí (tách), hoặc để trống nếu tiêu chí không còn. "
                        "Nhiều tiêu chí năm trước cùng chọn một tiêu chí năm nay là gộp.")
    row = st.container(horizontal=True)
    row.button("Đổi dòng này", key=f"{picker}-change", disabled=old_code is None, on_click=_change,
               args=(key, base, draft, old_set, new_set, picker))
    row.button("Xác nhận bảng đối chiếu", type="primary", key=f"{picker}-confirm", on_click=_confirm,
               args=(db, key, base, draft, from_set_id, to_set_id, picker))
    if edited:
        row.button("Bỏ thay đổi chưa lưu", key=f"{picker}-reset", on_click=_back_to, args=(key, picker))
