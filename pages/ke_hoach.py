"""Kế hoạch: import a plan (warnings shown before saving), browse and filter activities, record progress."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

import ui
from scoring.auth import Action, allowed_actions
from scoring import repository as repo
from scoring.errors import InputError
from scoring.evidence_files import ALLOWED_KINDS
from scoring.plan_import import PLAN_EXTENSIONS, load_plan_bytes
from scoring.stats import STATUS_DONE, STATUS_LABELS, STATUSES
from scoring.textnorm import format_date, format_datetime, vn_sort_key
from scoring.units import expand_units

ui.require(Action.VIEW_DASHBOARD)
snap = ui.snapshot()
db = ui.database()
department_id, year = ui.context()

st.title(f"Kế hoạch CCHC năm {year}")
if snap.plan:
    st.caption(f"{ui.md(snap.plan.title)} · nguồn: {ui.md(snap.plan.source_name)} · nhập lúc {format_datetime(snap.plan.imported_at)}")

# ---------------------------------------------------------------- import

with st.expander("Nhập kế hoạch từ tệp (.docx, .xlsx, .txt, .tsv)", expanded=snap.plan is None and ui.can(Action.IMPORT_PLAN)):
    if not ui.can(Action.IMPORT_PLAN):
        st.caption("Chỉ Văn phòng và quản trị viên được nhập kế hoạch.")
    upload = st.file_uploader("Chọn tệp kế hoạch", type=[e.lstrip(".") for e in PLAN_EXTENSIONS], key="plan-upload",
                              disabled=not ui.can(Action.IMPORT_PLAN))
    if upload is not None:
        try:
            with st.spinner("Đang đọc kế hoạch…"):
                imported = load_plan_bytes(upload.name, upload.getvalue())
        except InputError as err:
            st.error(ui.md(str(err)))
            imported = None
        if imported is not None:
            target_year = imported.year or year
            st.success(f"Đọc được «{ui.md(imported.title or upload.name)}»: {len(imported.areas)} lĩnh vực, {len(imported.activities)} hoạt động, năm {target_year}.")
            counts = pd.DataFrame([
                {"Lĩnh vực": a.code, "Tên": a.name,
                 "Khai báo (MT/NV/HĐ)": f"{a.declared.goals}/{a.declared.tasks}/{a.declared.activities}" if a.declared else "—",
                 "Đọc được (MT/NV/HĐ)": f"{a.parsed.goals}/{a.parsed.tasks}/{a.parsed.activities}"}
                for a in imported.areas
            ])
            st.dataframe(counts, hide_index=True)
            if imported.warnings:
                st.warning(f"{len(imported.warnings)} điểm cần kiểm tra trước khi lưu:")
                st.dataframe(pd.DataFrame([{"Vị trí": w.where, "Nội dung": w.message} for w in imported.warnings]), hide_index=True)
            existing = repo.get_plan(db, department_id, target_year)
            mode = "replace"
            if existing:
                mode = st.radio(
                    f"Năm {target_year} đã có kế hoạch. Cách lưu:",
                    ["replace", "merge"],
                    format_func={"replace": "Thay thế: kế hoạch năm này đúng bằng tệp mới (giữ tiến độ các hoạt động cùng mã)",
                                 "merge": "Gộp: thêm/cập nhật hoạt động từ tệp mới, giữ các hoạt động cũ không có trong tệp"}.get,
                    key="plan-mode",
                )
            if st.button(f"Lưu kế hoạch năm {target_year}", type="primary", key="plan-save"):
                with st.spinner("Đang lưu…"):
                    result = ui.attempt(lambda: repo.save_plan(db, department_id, imported, mode=mode, actor=ui.actor(), year=target_year))
                if result:
                    ui.flash("success", f"Đã lưu: thêm {len(result.added)}, cập nhật {len(result.updated)}, bỏ {len(result.removed)} hoạt động.")
                    ui.switch_year(target_year)
                st.rerun()

if not snap.activities:
    st.info(f"Năm {year} chưa có kế hoạch. Hãy nhập tệp kế hoạch ở trên.")
    st.stop()

# ---------------------------------------------------------------- filters

units = sorted({u for a in snap.activities for u in a.lead}, key=vn_sort_key)
areas = list(dict.fromkeys(a.area for a in snap.activities))
f1, f2, f3, f4 = st.columns(4)
area_filter = f1.multiselect("Lĩnh vực", areas, key="plan-f-area", placeholder="Tất cả")
viewer = ui.principal()
if viewer is not None and viewer.unit and "plan-f-unit" not in st.session_state:
    # a unit account starts on the activities it leads (the ones it may update)
    st.session_state["plan-f-unit"] = [u for u in units if u.casefold() == viewer.unit.casefold()]
unit_filter = f2.multiselect("Đơn vị chủ trì", units, key="plan-f-unit", placeholder="Tất cả")
status_filter = f3.multiselect("Trạng thái", list(STATUSES), format_func=STATUS_LABELS.get, key="plan-f-status", placeholder="Tất cả")
deadline_filter = f4.selectbox("Thời hạn", ["all", "overdue", "30", "undated"], key="plan-f-due",
                               format_func={"all": "Tất cả", "overdue": "Quá hạn", "30": "Đến hạn trong 30 ngày",
                                            "undated": "Không có ngày (theo sự kiện)"}.get)
overdue_codes = {s.id for s in snap.overdue()}
upcoming_codes = {s.id for s in snap.upcoming(30)}


def _visible(activity: repo.ActivityView) -> bool:
    if area_filter and activity.area not in area_filter:
        return False
    if unit_filter and not set(expand_units(activity.lead, snap.department.units)) & set(unit_filter):
        return False  # "Các phòng thuộc Sở" counts for every unit
    if status_filter and activity.status not in status_filter:
        return False
    return {"all": True, "overdue": activity.code in overdue_codes, "30": activity.code in upcoming_codes,
            "undated": activity.due is None}[deadline_filter]


shown = [a for a in snap.activities if _visible(a)]
done = sum(a.status == STATUS_DONE for a in shown)
st.caption(f"{len(shown)} hoạt động · {done} hoàn thành · {len([a for a in shown if a.code in overdue_codes])} quá hạn")

if not shown:
    st.info("Không có hoạt động nào khớp bộ lọc.")
    st.stop()

# ---------------------------------------------------------------- the table: progress edited in place

rows = pd.DataFrame([
    {
        "Mã": a.code,
        "Hoạt động": a.text,
        "Trạng thái": STATUS_LABELS[a.status],
        "Tiến độ (%)": a.progress,
        "Ngày hoàn thành": a.completed_on,
        "Hạn": format_date(a.due) if a.due else "—",
        "Quá hạn": a.code in overdue_codes,
        "Chủ trì": ", ".join(a.lead),
        "Thời hạn (theo kế hoạch)": a.deadline,
        "Ghi chú": a.note,
    }
    for a in shown
])
rows["Ngày hoàn thành"] = pd.to_datetime(rows["Ngày hoàn thành"])  # a date column, so the editor offers a date picker
by_label = {label: status for status, label in STATUS_LABELS.items()}
# a new key after every save: the table is redrawn from what is stored, with no stale edits on top
editor_key = f"plan-editor-{department_id}-{year}-{st.session_state.get('plan-editor-generation', 0)}"


def _save_edits(edited_rows: dict) -> None:
    """Each edited row is saved at once, guarded by the version the table was drawn with. The core keeps status,
    progress and date coherent: a refusal and each adjustment it made are said in a sentence naming the activity."""
    for index, changes in edited_rows.items():
        activity = shown[int(index)]
        kwargs = {}
        if "Trạng thái" in changes:
            kwargs["status"] = by_label.get(changes["Trạng thái"], activity.status)
        if "Tiến độ (%)" in changes and changes["Tiến độ (%)"] is not None:
            kwargs["progress"] = changes["Tiến độ (%)"]  # as typed: the core refuses 150 or 12,5 rather than clamp them
        if "Ngày hoàn thành" in changes:
            value = changes["Ngày hoàn thành"]
            kwargs["completed_on"] = date.fromisoformat(str(value)[:10]) if value else None
        if "Ghi chú" in changes:
            kwargs["note"] = changes["Ghi chú"] or ""
        if kwargs:
            saved = ui.attempt(lambda a=activity, k=kwargs: repo.update_activity(db, a.id, a.version, actor=ui.actor(), **k),
                               success=f"Đã lưu hoạt động {activity.code}.")
            for notice in saved.notices if saved else ():
                ui.flash("info", notice)


who = ui.principal()
may_edit = who is None or Action.EDIT_OWN_UNIT_ACTIVITY in allowed_actions(who)
if who is not None and who.unit and not ui.can(Action.EDIT_ANY_ACTIVITY):
    st.caption(f"Bạn cập nhật được tiến độ các hoạt động do {ui.md(who.unit)} chủ trì.")
st.data_editor(
    rows,
    key=editor_key,
    hide_index=True,
    placeholder="—",  # empty cells (no completion date yet) read as empty, not "None"
    disabled=True if not may_edit else ["Mã", "Hoạt động", "Chủ trì", "Thời hạn (theo kế hoạch)", "Hạn", "Quá hạn"],
    height=min(36 * (len(rows) + 1) + 4, 820),
    column_config={
        "Mã": st.column_config.TextColumn(width="small"),
        "Hoạt động": st.column_config.TextColumn(width="medium"),
        "Quá hạn": st.column_config.CheckboxColumn(width="small"),
        "Trạng thái": st.column_config.SelectboxColumn(options=[STATUS_LABELS[s] for s in STATUSES], required=True),
        "Tiến độ (%)": st.column_config.NumberColumn(min_value=0, max_value=100, step=5, format="%d%%"),
        "Ngày hoàn thành": st.column_config.DateColumn(format="DD/MM/YYYY"),
    },
)
edits = (st.session_state.get(editor_key) or {}).get("edited_rows") or {}
if edits:
    # saved as soon as the cell changes; the table is then redrawn from the database under a new key
    _save_edits(edits)
    st.session_state["plan-editor-generation"] = st.session_state.get("plan-editor-generation", 0) + 1
    st.rerun()

with st.expander("Chi tiết hoạt động (mục tiêu, nhiệm vụ, kết quả, phối hợp)"):
    chosen = st.selectbox("Hoạt động", [a.code for a in shown], key="plan-detail",
                          format_func=lambda c: next(f"{a.code}: {a.text[:90]}" for a in shown if a.code == c))
    activity = next((a for a in shown if a.code == chosen), None)
    if activity:
        st.markdown(f"**Mục tiêu:** {ui.md(activity.goal)}")
        st.markdown(f"**Nhiệm vụ:** {ui.md(activity.task)}")
        st.markdown(f"**Kết quả/Sản phẩm:** {ui.md(activity.output)}")
        st.markdown(f"**Chủ trì:** {ui.md(', '.join(activity.lead))} · **Phối hợp:** {ui.md(', '.join(activity.partners))}")
        docs = [e for e in snap.evidence if activity.code in e.activities]
        st.markdown("**Tài liệu kiểm chứng:** " + (ui.md("; ".join(e.title for e in docs)) if docs else "chưa có"))
        if ui.can(Action.UPLOAD_EVIDENCE_OWN_UNIT, activity_lead_units=activity.lead):
            with st.form(f"plan-evidence-{activity.code}", clear_on_submit=True):
                st.markdown(f"**Gắn tài liệu kiểm chứng cho hoạt động {ui.md(activity.code)}**")
                c1, c2, c3 = st.columns(3)
                doc_type = c1.selectbox("Loại văn bản", repo.EVIDENCE_TYPES)
                number = c2.text_input("Số, ký hiệu")
                issued_on = c3.date_input("Ngày ban hành", value=None, format="DD/MM/YYYY")
                summary = st.text_input("Trích yếu", value=activity.output)
                upload = st.file_uploader("Tệp (PDF, Word, Excel, ảnh)", type=sorted(ALLOWED_KINDS | {"jpeg"}))
                if st.form_submit_button("Gắn tài liệu"):
                    meta = repo.EvidenceInput(doc_type, number, issued_on, snap.department.name, summary)
                    payload = (upload.name, upload.getvalue()) if upload is not None else None
                    ui.attempt(lambda: repo.add_evidence(db, department_id, year, meta, actor=ui.actor(), upload=payload,
                                                         activity_codes=[activity.code]),
                               success=f"Đã gắn tài liệu cho hoạt động {activity.code}.")
                    st.rerun()

if snap.plan and snap.plan.warnings:
    with st.expander(f"Cảnh báo khi nhập kế hoạch ({len(snap.plan.warnings)})"):
        st.dataframe(pd.DataFrame([{"Vị trí": w["where"], "Nội dung": w["message"]} for w in snap.plan.warnings]), hide_index=True)
