"""Kế hoạch: import a plan (warnings shown before saving), browse and filter activities, record progress."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.errors import InputError
from scoring.plan.importer import MAX_PLAN_BYTES, PLAN_EXTENSIONS, load_plan_bytes
from scoring.plan.stats import STATUS_DONE, STATUS_LABELS, STATUSES
from scoring.plan.units import expand_units
from scoring.store import evidence_store, plan_store
from scoring.store.uploads import EVIDENCE_UPLOAD_RULE, extensions_text, safe_display_name, upload_rule
from scoring.textnorm import DATE_TEXT_PATTERN, format_date, format_datetime, parse_date, vn_sort_key

ui.require(Action.VIEW_DASHBOARD)
snap = ui.snapshot()
db = ui.database()
department_id, year = ui.context()

# ---------------------------------------------------------------- progress edits from the table drawn last

by_label = {label: status for status, label in STATUS_LABELS.items()}
# a new key after every save: the table is redrawn from what is stored, with no stale edits on top
editor_name = f"plan-editor-{department_id}-{year}"
editor_key = ui.editor_key(editor_name)
# The rows the editor drew, by position, with the version each showed. The edits the browser sends are
# positions in the table the person saw; the page reads the plan again before they arrive, and the filtered
# rows may have moved or gone meanwhile (someone else's change), so each edit is taken to the activity drawn
# at its position and expects the version drawn there.
drawn_key = f"{editor_key}-drawn"


def _save_edits(edited_rows: dict, drawn: list[tuple[int, int, str]]) -> None:
    """Each edited row is saved at once, guarded by the version the table was drawn with. The core keeps status,
    progress and date coherent: a refusal and each adjustment it made are said in a sentence naming the activity."""
    for index, changes in edited_rows.items():
        if int(index) >= len(drawn):
            ui.flash("error", "Một thay đổi trong bảng không còn khớp hoạt động nào nên chưa được lưu; hãy sửa lại.", editor_name)
            continue
        activity_id, version, code = drawn[int(index)]
        kwargs = {}
        if "Trạng thái" in changes:
            kwargs["status"] = by_label.get(changes["Trạng thái"], changes["Trạng thái"])
        if "Tiến độ (%)" in changes and changes["Tiến độ (%)"] is not None:
            kwargs["progress"] = changes["Tiến độ (%)"]  # as typed: the core refuses 150 or 12,5 rather than clamp them
        if "Ngày hoàn thành" in changes:
            typed = (changes["Ngày hoàn thành"] or "").strip()
            # day first, as shown; text that is not a date goes to the core, which refuses it naming the activity
            kwargs["completed_on"] = (parse_date(typed) or typed) if typed else None
        if "Ghi chú" in changes:
            kwargs["note"] = changes["Ghi chú"] or ""
        if kwargs:
            saved = ui.attempt(lambda i=activity_id, v=version, k=kwargs: plan_store.update_activity(db, i, v, actor=ui.actor(), **k),
                               success=f"Đã lưu hoạt động {code}.", place=editor_name)
            for notice in saved.notices if saved else ():
                ui.flash("info", notice, editor_name)


edits = (st.session_state.get(editor_key) or {}).get("edited_rows") or {}
if edits:
    # saved as soon as the cell changes, before anything is drawn (or a filter that now matches nothing stops
    # the page); the table is then redrawn from the database under a new key (a refused edit shows the stored
    # value, with the refusal above it)
    _save_edits(edits, st.session_state.pop(drawn_key, []))
    ui.redraw_editor(editor_name)
    st.rerun()

st.title(f"Kế hoạch CCHC năm {year}")
if snap.plan:
    st.caption(f"{ui.md(snap.plan.title)} · nguồn: {ui.md(snap.plan.source_name)} · nhập lúc {format_datetime(snap.plan.imported_at)}")

# ---------------------------------------------------------------- import

with st.expander("Nhập kế hoạch từ tệp (.docx, .xlsx, .txt, .tsv)", expanded=snap.plan is None and ui.can(Action.IMPORT_PLAN)):
    if not ui.can(Action.IMPORT_PLAN):
        st.caption("Chỉ Văn phòng và quản trị viên được nhập kế hoạch.")
    # no `type=`: the core refuses other files in Vietnamese (see views/tai_lieu.py)
    upload = st.file_uploader("Chọn tệp kế hoạch", key="plan-upload",
                              disabled=not ui.can(Action.IMPORT_PLAN))
    st.caption(upload_rule(MAX_PLAN_BYTES, f"kế hoạch dạng {extensions_text(PLAN_EXTENSIONS)}"))
    if upload is not None:
        try:
            with st.spinner("Đang đọc kế hoạch…"):
                imported = load_plan_bytes(upload.name, upload.getvalue())
        except InputError as err:
            st.error(ui.md(str(err)))
            imported = None
        if imported is not None:
            target_year = imported.year or year
            st.success(f"Đọc được «{ui.md(imported.title or safe_display_name(upload.name))}»: {len(imported.areas)} lĩnh vực, {len(imported.activities)} hoạt động, năm {target_year}.")
            counts = pd.DataFrame([
                {"Lĩnh vực": a.code, "Tên": a.name,
                 "Khai báo (MT/NV/HĐ)": f"{a.declared.goals}/{a.declared.tasks}/{a.declared.activities}" if a.declared else "—",
                 "Đọc được (MT/NV/HĐ)": f"{a.parsed.goals}/{a.parsed.tasks}/{a.parsed.activities}"}
                for a in imported.areas
            ])
            ui.dataframe(counts, hide_index=True)
            if imported.warnings:
                st.warning(f"{len(imported.warnings)} điểm cần kiểm tra trước khi lưu:")
                ui.dataframe(pd.DataFrame([{"Vị trí": w.where, "Nội dung": w.message} for w in imported.warnings]), hide_index=True)
            existing = plan_store.get_plan(db, department_id, target_year)
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
                    result = ui.attempt(lambda: plan_store.save_plan(db, department_id, imported, mode=mode, actor=ui.actor(), year=target_year))
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
deadline_filter = f4.selectbox("Thời hạn", ["all", "overdue", "30", "undated"], placeholder=ui.CHOOSE_ONE, key="plan-f-due",
                               format_func={"all": "Tất cả", "overdue": "Quá hạn", "30": "Đến hạn trong 30 ngày",
                                            "undated": "Không có ngày (theo sự kiện)"}.get)
overdue_codes = {s.id for s in snap.overdue()}
upcoming_codes = {s.id for s in snap.upcoming(30)}


def _visible(activity: plan_store.ActivityView) -> bool:
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
# What the table's last edits came to, just above it, in a box of fixed height: a message never pushes the table
# down under the pointer, so the next click lands on the row the person aimed at.
with st.container(height=92, border=False, key="plan-edit-messages"):
    if not ui.show_flashes(editor_name):
        st.caption("Sửa ngay trong bảng các cột Trạng thái, Tiến độ, Ngày hoàn thành (ngày/tháng/năm) và Ghi chú: "
                   "mỗi ô được lưu ngay khi sửa xong; kết quả hiện ở đây.")

if not shown:
    st.info("Không có hoạt động nào khớp bộ lọc.")
    st.stop()

# ---------------------------------------------------------------- the table: progress edited in place

EDITABLE_COLUMNS = ("Trạng thái", "Tiến độ (%)", "Ngày hoàn thành", "Ghi chú")


def _table(activities: list[plan_store.ActivityView]) -> pd.DataFrame:
    # What a row is read for first — the activity, who leads it, its deadline, where it stands — fits a 1366-wide
    # screen without scrolling sideways; the notes and the plan's own wording of the deadline come after, and the
    # partners, goal, task and output are in «Chi tiết hoạt động» below.
    rows = pd.DataFrame([
        {
            "Mã": a.code,
            "Hoạt động": a.text,
            "Chủ trì": ", ".join(a.lead),
            "Hạn": format_date(a.due) if a.due else "—",
            "Trạng thái": STATUS_LABELS[a.status],
            "Tiến độ (%)": a.progress,
            "Ngày hoàn thành": format_date(a.completed_on) if a.completed_on else None,
            "Quá hạn": a.code in overdue_codes,
            "Ghi chú": a.note,
            "Thời hạn (theo kế hoạch)": a.deadline,
        }
        for a in activities
    ])
    return rows


# Widths in pixels: the first seven columns take the table's width at 1366×768 (about 900 px beside the menu)
COLUMN_CONFIG = {
    "Mã": st.column_config.TextColumn(width="small"),
    "Hoạt động": st.column_config.TextColumn(width=262),
    "Chủ trì": st.column_config.TextColumn(width=118),
    "Hạn": st.column_config.TextColumn(width=86),
    "Trạng thái": st.column_config.SelectboxColumn(options=[STATUS_LABELS[s] for s in STATUSES], required=True, width=112),
    "Tiến độ (%)": st.column_config.NumberColumn(min_value=0, max_value=100, step=5, format="%d%%", width=100),
    # Text typed day first, not a DateColumn: its format= sets how the cell reads, but its editor is the browser's own
    # date box, which puts the month first in an English-language browser (12/01/2026 for 1 December)
    "Ngày hoàn thành": st.column_config.TextColumn(help="Ngày/tháng/năm, ví dụ 01/12/2026", validate=rf"^\s*$|{DATE_TEXT_PATTERN}",  # empty: no date yet
                                                   width=142),
    "Quá hạn": st.column_config.CheckboxColumn(width=70),
    "Ghi chú": st.column_config.TextColumn(width=220),
    "Thời hạn (theo kế hoạch)": st.column_config.TextColumn(width=200),
}
ROW_HEIGHT = 74  # three lines of an activity's text (Streamlit wraps a cell's text only in rows taller than 64 px)
who = ui.principal()
# an editor only where the core would accept the write (scoring.access.auth, as update_activity checks it)
may_update = {a.id for a in shown if ui.can(Action.EDIT_OWN_UNIT_ACTIVITY, activity_lead_units=a.lead)}
editable = [a for a in shown if a.id in may_update]
read_only = [a for a in shown if a.id not in may_update]
if who is not None and who.unit and not ui.can(Action.EDIT_ANY_ACTIVITY):
    st.caption(f"Bạn cập nhật được tiến độ các hoạt động do {ui.md(who.unit)} chủ trì.")
if editable:
    if read_only:
        st.markdown(f"**Hoạt động bạn cập nhật được ({len(editable)})**")
    st.session_state[drawn_key] = [(a.id, a.version, a.code) for a in editable]
    rows = _table(editable)
    st.data_editor(
        rows,
        key=editor_key,
        hide_index=True,
        placeholder=ui.EMPTY_CELL,  # empty cells (no completion date yet) read as empty, not "None"
        disabled=[c for c in rows.columns if c not in EDITABLE_COLUMNS],
        height=min(ROW_HEIGHT * len(rows) + 38, 820), row_height=ROW_HEIGHT,
        column_config=COLUMN_CONFIG,
    )
if read_only:
    if editable:
        st.markdown(f"**Các hoạt động khác, chỉ xem ({len(read_only)})**")
    rows = _table(read_only)
    ui.dataframe(rows, hide_index=True, height=min(ROW_HEIGHT * len(rows) + 38, 820), row_height=ROW_HEIGHT,
                 column_config=COLUMN_CONFIG)

with st.expander("Chi tiết hoạt động (mục tiêu, nhiệm vụ, kết quả, phối hợp)"):
    by_code = {a.code: a for a in snap.activities}
    detail_codes = [a.code for a in shown]
    if st.session_state.get("plan-detail") in by_code and st.session_state["plan-detail"] not in detail_codes:
        # the activity open here stays open when it leaves the filter (someone else's change): a document
        # being attached to it is neither lost nor attached to another activity
        detail_codes.insert(0, st.session_state["plan-detail"])
    chosen = st.selectbox("Hoạt động", detail_codes, placeholder=ui.CHOOSE_ONE, key="plan-detail",
                          format_func=lambda c: f"{c}: {by_code[c].text[:90]}")
    activity = by_code.get(chosen)
    if activity:
        st.markdown(f"**Mục tiêu:** {ui.md(activity.goal)}")
        st.markdown(f"**Nhiệm vụ:** {ui.md(activity.task)}")
        st.markdown(f"**Kết quả/Sản phẩm:** {ui.md(activity.output)}")
        st.markdown(f"**Chủ trì:** {ui.md(', '.join(activity.lead))} · **Phối hợp:** {ui.md(', '.join(activity.partners))}")
        st.markdown(f"**Thời hạn theo kế hoạch:** {ui.md(activity.deadline)}"
                    + (f" · **Hạn:** {format_date(activity.due)}" if activity.due else ""))
        docs = [e for e in snap.evidence if activity.code in e.activities]
        st.markdown("**Tài liệu kiểm chứng:** " + (ui.md("; ".join(e.title for e in docs)) if docs else "chưa có"))
        if ui.can(Action.UPLOAD_EVIDENCE_OWN_UNIT, activity_lead_units=activity.lead):
            # keyed by the activity drawn and its generation: the fields keep what the person typed and saw
            form_name = f"plan-evidence-{activity.id}"
            form_key = ui.editor_key(form_name)
            with st.form(form_key):
                st.markdown(f"**Gắn tài liệu kiểm chứng cho hoạt động {ui.md(activity.code)}**")
                c1, c2, c3 = st.columns(3)
                doc_type = c1.selectbox("Loại văn bản", evidence_store.EVIDENCE_TYPES, placeholder=ui.CHOOSE_ONE, key=f"{form_key}-type")
                number = c2.text_input("Số, ký hiệu", key=f"{form_key}-number")
                issued_on = c3.date_input("Ngày ban hành", value=None, format="DD/MM/YYYY", key=f"{form_key}-issued")
                summary = st.text_input("Trích yếu", value=activity.output, key=f"{form_key}-summary")
                attachment = st.radio("Tài liệu lưu kèm", list(evidence_store.EVIDENCE_ATTACHMENTS), format_func=evidence_store.EVIDENCE_ATTACHMENTS.get,
                                      horizontal=True, key=f"{form_key}-attachment")
                # no `type=`: the core refuses other files in Vietnamese (see views/tai_lieu.py)
                upload = st.file_uploader("Tệp đính kèm", key=f"{form_key}-file")
                st.caption(EVIDENCE_UPLOAD_RULE)
                link = st.text_input("Đường dẫn (http/https)", key=f"{form_key}-link")
                if st.form_submit_button("Gắn tài liệu"):
                    meta = evidence_store.EvidenceInput(doc_type, number, issued_on, snap.department.name, summary, link)
                    payload = (upload.name, upload.getvalue()) if upload is not None else None
                    ui.save_from_editors((form_name,), lambda: evidence_store.add_evidence(
                        db, department_id, year, meta, actor=ui.actor(), upload=payload, attachment=attachment,
                        activity_codes=[activity.code]),
                        success=f"Đã gắn tài liệu cho hoạt động {activity.code}.")

if snap.plan and snap.plan.warnings:
    with st.expander(f"Cảnh báo khi nhập kế hoạch ({len(snap.plan.warnings)})"):
        ui.dataframe(pd.DataFrame([{"Vị trí": w["where"], "Nội dung": w["message"]} for w in snap.plan.warnings]), hide_index=True)
