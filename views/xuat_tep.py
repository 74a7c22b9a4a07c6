"""Xuất, nhập tệp: the files that leave the app (score sheet, report, evidence bundle, charts, summary) and the
filled score sheet coming back. Each file is made when its button is clicked, from the data as stored at that
moment (scoring.exports.commands.export_bytes), so a download never serves an older file; while it is made the
button and the page show "Đang tạo …" (ui.download_button)."""

from __future__ import annotations

import streamlit as st

import ui
from scoring.access.auth import Action, Role
from scoring.assessment.appraisal import SourceDocument
from scoring.errors import InputError
from scoring.exports import apply_scoresheet_changes, read_scoresheet
from scoring.exports.charts import warm_up
from scoring.exports.commands import export_bytes, export_file_name
from scoring.exports.report import chart_images
from scoring.exports.scoresheet_import import MAX_SCORESHEET_BYTES
from scoring.exports.summary_pdf import summary_charts
from scoring.store.uploads import extensions_text, safe_display_name, upload_rule

ui.require(Action.EXPORT)
snap = ui.snapshot()
db = ui.database()
st.title(f"Xuất, nhập tệp năm {snap.year}")
if snap.criteria_set is None:
    st.warning(f"Năm {snap.year} chưa có bộ tiêu chí: hãy chọn bộ tiêu chí ở trang Cấu hình.")
    st.stop()
# the browser that draws the charts starts now, not on the first click (about 2 s), and draws the report's and
# the summary's charts of the data as shown: a click then finds them drawn (charts of unchanged data: a lookup)
warm_up(lambda: chart_images(snap), lambda: summary_charts(snap))

MIME = {
    "scoresheet": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "report": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "evidence": "application/zip",
    "summary": "application/pdf",
    "charts": "application/zip",
}

EXPORTS = [
    ("scoresheet", "Bảng điểm tự đánh giá (Excel)", "bảng điểm", "Theo mẫu bảng chấm điểm: tổng lĩnh vực và tổng điểm là "
     "công thức; kèm danh sách hoạt động và sổ tài liệu."),
    ("report", "Báo cáo kết quả tự đánh giá (Word)", "báo cáo", "Thể thức Nghị định 30/2020/NĐ-CP, bảng kết quả theo lĩnh vực, "
     "giải trình, biểu đồ."),
    ("evidence", "Gói tài liệu kiểm chứng (.zip)", "gói tài liệu kiểm chứng", "Mỗi tiêu chí một thư mục chứa tài liệu của nó, "
     "kèm danh mục Excel."),
    ("summary", "Trang tóm tắt (PDF, một trang)", "trang tóm tắt", "Chỉ số, bảng theo lĩnh vực và hai biểu đồ — cho tập tài liệu "
     "cuộc họp."),
    ("charts", "Biểu đồ (PNG, để đưa vào trình chiếu)", "ảnh biểu đồ", "Điểm theo lĩnh vực và tiến độ kế hoạch, ảnh độ phân giải cao."),
]

# The file is made on Streamlit's download thread, where the page's session is not at hand: it gets the
# database, the year and the person now, and reads the data itself when clicked.
department_id, year, viewer = snap.department.id, snap.year, ui.principal()
for kind, title, what, description in EXPORTS:
    with st.container(border=True):
        left, right = st.columns([3, 1])
        left.markdown(f"**{title}**")
        left.caption(description)
        with right:
            problem = ui.download_button(
                "Tải về", lambda kind=kind: export_bytes(db, department_id, year, kind, viewer=viewer), what=what,
                file_name=export_file_name(kind, year), mime=MIME[kind], key=f"export-{kind}-{department_id}-{year}",
                width="stretch", type="primary")
        if problem:
            st.error(ui.md(problem))

st.subheader("Nhập lại bảng điểm đã sửa trong Excel")
st.caption("Tệp bảng điểm xuất từ ứng dụng: nhập ở các ô nền vàng (không đánh giá, mức đạt được, số lượng hoặc điểm, "
           "tử số và mẫu số, giải trình; điểm và nhận xét thẩm định sau khi chốt) trong Excel/LibreOffice rồi tải lên. "
           "Ứng dụng so từng dòng theo mã tiêu chí, chấm lại theo cách chấm của tiêu chí và cho xem thay đổi trước khi lưu; "
           "dòng nào không nhập được thì được liệt kê kèm lý do, các dòng khác vẫn lưu được.")
# no `type=`: the core refuses other files in Vietnamese (see views/tai_lieu.py)
upload = st.file_uploader("Bảng điểm (.xlsx)", key="scoresheet-upload",
                          disabled=not (ui.can(Action.EDIT_SELF_SCORE) or ui.can(Action.EDIT_APPRAISAL, assessment_locked=snap.locked)))
st.caption(upload_rule(MAX_SCORESHEET_BYTES, f"bảng điểm dạng {extensions_text(['xlsx'])} xuất từ ứng dụng"))
if upload is not None:
    try:
        changes = read_scoresheet(upload.name, upload.getvalue(), snap)
    except InputError as err:
        st.error(ui.md(str(err)))
        changes = None
    if changes is not None:
        if changes.skipped:
            st.error(f"{len(changes.skipped)} dòng không nhập được, điểm đang lưu của các tiêu chí này giữ nguyên:")
            for line in changes.skipped_lines():
                st.markdown(f"- {ui.md(line)}")
        if changes.missing_codes:
            st.info(ui.md(changes.missing_line()))
        if not changes:
            st.info("Bảng điểm không có thay đổi nào khác so với dữ liệu đang lưu." if changes.skipped else
                    "Bảng điểm không có thay đổi nào so với dữ liệu đang lưu.")
        else:
            st.warning(f"{len(changes.changes)} tiêu chí thay đổi:")
            for line in changes.summary_lines():
                st.markdown(f"- {ui.md(line)}")
            source = None
            who = ui.principal()
            if any(c.appraisal_changed for c in changes.changes) and not (who and who.role is Role.APPRAISER):
                # the Office records appraisal results from the province's document (scoring.assessment.cycle.may_write)
                c1, c2 = st.columns(2)
                number = c1.text_input("Số, ký hiệu văn bản kết quả thẩm định của tỉnh", key="scoresheet-source-number")
                issued_on = c2.date_input("Ngày văn bản", value=None, format="DD/MM/YYYY", key="scoresheet-source-date")
                source = SourceDocument(number, issued_on) if number.strip() or issued_on else None
            label = "Lưu các thay đổi này" + (" (bỏ qua các dòng không nhập được)" if changes.skipped else "")
            if st.button(label, type="primary", key="scoresheet-apply"):
                saved = ui.attempt(lambda: apply_scoresheet_changes(db, snap.assessment.id, changes, actor=ui.actor(),
                                                                    source=source))
                if saved is not None:
                    left_out = f"; {len(changes.skipped)} dòng không nhập được đã bỏ qua" if changes.skipped else ""
                    ui.flash("success", f"Đã lưu {len(saved)} tiêu chí từ bảng điểm «{safe_display_name(upload.name)}»{left_out}.")
                st.rerun()
