"""Tài liệu kiểm chứng: the evidence register — upload, edit, link to criteria and activities, preview, gaps."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from scoring.access.auth import Action
from scoring.store import evidence_store
from scoring.store.uploads import EVIDENCE_UPLOAD_RULE
from scoring.textnorm import format_date, format_number

snap = ui.snapshot()
db = ui.database()
department_id, year = ui.context()

st.title(f"Tài liệu kiểm chứng năm {year}")

leaf_codes = [leaf.code for leaf in snap.leaves()]
leaf_names = {leaf.code: leaf.name for leaf in snap.leaves()}
activity_codes = [a.code for a in snap.activities]
activity_texts = {a.code: a.text for a in snap.activities}


def _leaf_label(code: str) -> str:
    return f"{code} {leaf_names.get(code, '')[:70]}"


def _activity_label(code: str) -> str:
    return f"{code} {activity_texts.get(code, '')[:70]}"


may_file_any = ui.can(Action.UPLOAD_EVIDENCE)
who = ui.principal()
# a unit files documents only for the activities it leads, and links no criteria (the Office does)
own_activities = [a.code for a in snap.activities if ui.can(Action.UPLOAD_EVIDENCE_OWN_UNIT, activity_lead_units=a.lead)]
may_file = may_file_any or bool(own_activities)
may_edit = ui.can(Action.EDIT_EVIDENCE)
# once the year's index is published its criteria's documents stay as published (the core refuses the change)
published = bool(snap.assessment and snap.assessment.published_at)
if published:
    st.info(f"Chỉ số năm {year} đã công bố: tài liệu kiểm chứng của các tiêu chí năm này không thêm, sửa, xóa được nữa, "
            "trừ khi quản trị viên mở lại.")
tab_register, tab_add, tab_gaps = st.tabs(["Sổ tài liệu", "Thêm tài liệu", "Tiêu chí còn thiếu tài liệu"])

# ---------------------------------------------------------------- add

with tab_add:
    if not may_file:
        st.info("Tài khoản của bạn không thêm được tài liệu kiểm chứng.")
    # Keyed by its generation: a refused save keeps what was typed (and the chosen file) to correct; a saved
    # document starts a new, empty form.
    add_form = f"evidence-add-{department_id}-{year}"
    add_key = ui.editor_key(add_form)
    ui.show_flashes(add_form)
    with st.form(add_key):
        attachment = st.radio("Tài liệu lưu kèm", list(evidence_store.EVIDENCE_ATTACHMENTS), format_func=evidence_store.EVIDENCE_ATTACHMENTS.get,
                              horizontal=True, key=f"{add_key}-attachment")
        c1, c2, c3 = st.columns(3)
        doc_type = c1.selectbox("Loại văn bản", evidence_store.EVIDENCE_TYPES, placeholder=ui.CHOOSE_ONE, key=f"{add_key}-type")
        number = c2.text_input("Số, ký hiệu", placeholder="15/KH-SDTTG", key=f"{add_key}-number")
        issued_on = c3.date_input("Ngày ban hành", value=None, format="DD/MM/YYYY", key=f"{add_key}-issued")
        issuer = st.text_input("Cơ quan ban hành", value=snap.department.name, key=f"{add_key}-issuer")
        summary = st.text_area("Trích yếu", height=70, key=f"{add_key}-summary")
        # No `type=`: Streamlit would then check names itself, and a name it dislikes (a NUL byte) raises its English
        # error on every later run of the session; the core refuses a wrong name or content in Vietnamese, naming the file.
        upload = st.file_uploader("Tệp đính kèm", key=f"{add_key}-file")
        st.caption(EVIDENCE_UPLOAD_RULE)
        link = st.text_input("Đường dẫn (http/https)", key=f"{add_key}-link")
        criteria = st.multiselect("Dùng cho tiêu chí", leaf_codes, placeholder=ui.CHOOSE_MANY, format_func=_leaf_label, disabled=not may_file_any or published,
                                  key=f"{add_key}-criteria")
        activities = st.multiselect("Là sản phẩm của hoạt động", activity_codes if may_file_any else own_activities,
                                    placeholder=ui.CHOOSE_MANY, format_func=_activity_label, key=f"{add_key}-activities")
        if st.form_submit_button("Lưu tài liệu", type="primary", disabled=not may_file):
            meta = evidence_store.EvidenceInput(doc_type, number, issued_on, issuer, summary, link)
            payload = (upload.name, upload.getvalue()) if upload is not None else None
            with st.spinner("Đang kiểm tra và lưu tệp…"):
                saved = ui.attempt(lambda: evidence_store.add_evidence(db, department_id, year, meta, actor=ui.actor(), upload=payload,
                                                            attachment=attachment, criteria=criteria, activity_codes=activities),
                                   place=add_form)
            if saved:
                ui.flash("success", f"Đã lưu tài liệu «{saved.title}»" + (f" kèm tệp «{saved.file_name}»." if saved.file_name else "."),
                         add_form)
                ui.redraw_editor(add_form)
            st.rerun()

# ---------------------------------------------------------------- register

with tab_register:
    if not snap.evidence:
        st.info("Chưa có tài liệu kiểm chứng nào cho năm này. Thêm ở thẻ «Thêm tài liệu».")
    else:
        table = pd.DataFrame([
            {
                "Mã": f"TL{e.id}",
                "Loại": e.doc_type,
                "Số, ký hiệu": e.number,
                "Ngày": format_date(e.issued_on) if e.issued_on else "—",
                "Trích yếu": e.summary,
                "Tiêu chí": ", ".join(e.criteria),
                "Hoạt động": ", ".join(e.activities),
                "Tệp": e.file_name or ("đường dẫn" if e.link else "—"),
                "Thiếu": ", ".join(e.missing_metadata),
            }
            for e in snap.evidence
        ])
        ui.dataframe(table, hide_index=True, column_config={"Trích yếu": st.column_config.TextColumn(width="large")})

        by_id = {e.id: e for e in snap.evidence}
        chosen = st.selectbox("Xem, sửa tài liệu", list(by_id), placeholder=ui.CHOOSE_ONE, format_func=lambda i: f"TL{i} · {by_id[i].title}", key="evidence-chosen")
        document = by_id[chosen]
        view, edit = st.columns([3, 2])
        with view:
            if document.file_key:
                name, mime, content = evidence_store.evidence_file(db, document.id, viewer=ui.actor())
                st.download_button(ui.label(f"Tải về «{name}» ({format_number(document.file_size / 1024, 1)} KB)"), content,
                                   file_name=name, mime=mime, key=f"evidence-dl-{document.id}")
                if document.file_kind in ("jpg", "png"):
                    st.image(content, caption=ui.label(name))
                elif document.file_kind == "pdf":
                    st.pdf(content, height=520, key=f"evidence-pdf-{document.id}")
            if document.link:
                st.link_button("Mở đường dẫn", document.link)
        with edit:
          if may_edit:
            # The form keeps what it first showed until it is saved or refused, and its saves expect the version
            # it showed then: a change someone made meanwhile is told, never overwritten.
            form_name = f"evidence-edit-{document.id}"
            form_key = ui.editor_key(form_name)
            seen = ui.version_seen(form_key, document.id, document.version)
            ui.show_flashes(form_name)

            with st.form(form_key):
                types = list(evidence_store.EVIDENCE_TYPES)
                doc_type = st.selectbox("Loại văn bản", types, placeholder=ui.CHOOSE_ONE, index=types.index(document.doc_type) if document.doc_type in types else len(types) - 1,
                                        key=f"{form_key}-type")
                number = st.text_input("Số, ký hiệu", value=document.number, key=f"{form_key}-number")
                issued_on = st.date_input("Ngày ban hành", value=document.issued_on, format="DD/MM/YYYY", key=f"{form_key}-issued")
                issuer = st.text_input("Cơ quan ban hành", value=document.issuer, key=f"{form_key}-issuer")
                summary = st.text_area("Trích yếu", value=document.summary, height=70, key=f"{form_key}-summary")
                link = st.text_input("Đường dẫn", value=document.link, key=f"{form_key}-link")
                criteria = st.multiselect("Dùng cho tiêu chí", leaf_codes, placeholder=ui.CHOOSE_MANY, default=[c for c in document.criteria if c in leaf_codes],
                                          format_func=_leaf_label, key=f"{form_key}-criteria")
                activities = st.multiselect("Là sản phẩm của hoạt động", activity_codes,
                                            placeholder=ui.CHOOSE_MANY, default=[c for c in document.activities if c in activity_codes], format_func=_activity_label,
                                            key=f"{form_key}-activities")
                if st.form_submit_button("Lưu thay đổi", type="primary"):
                    meta = evidence_store.EvidenceInput(doc_type, number, issued_on, issuer, summary, link)
                    ui.save_from_editors((form_name,), lambda: evidence_store.update_evidence(
                        db, document.id, seen, meta, actor=ui.actor(), criteria=criteria, activity_codes=activities),
                        success="Đã lưu thay đổi tài liệu.", place=form_name)
            confirm = st.checkbox("Tôi muốn xóa tài liệu này", key=f"{form_key}-del-ok")
            if st.button("Xóa tài liệu", disabled=not confirm, key=f"{form_key}-del"):
                ui.attempt(lambda: evidence_store.delete_evidence(db, document.id, seen, actor=ui.actor()), success="Đã xóa tài liệu.")
                ui.redraw_editor(form_name)  # deleted, or refused: either way the register shows what is stored
                st.rerun()

# ---------------------------------------------------------------- gaps

with tab_gaps:
    gaps = snap.evidence_gaps()
    if not gaps:
        st.success("Mọi tiêu chí cần tài liệu đều đã có tài liệu kiểm chứng.")
    else:
        st.warning(f"{len(gaps)} tiêu chí chưa có tài liệu kiểm chứng. Tiêu chí không có tài liệu phải có giải trình khi gửi thẩm định.")
        ui.dataframe(pd.DataFrame([
            {"Mã": g.code, "Tiêu chí": g.name, "Tài liệu cần có": g.expected, "Đã có giải trình": g.has_explanation}
            for g in gaps
        ]), hide_index=True, column_config={"Tiêu chí": st.column_config.TextColumn(width="large")})
    undated = [e for e in snap.evidence if e.missing_metadata]
    if undated:
        st.warning("Tài liệu thiếu số hoặc ngày ban hành: " + "; ".join(f"TL{e.id} ({', '.join(e.missing_metadata)})" for e in undated))
