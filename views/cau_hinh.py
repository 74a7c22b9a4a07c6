"""Cấu hình: the department and its units, criteria sets, years, backup, and the change log."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pandas as pd
import streamlit as st

import ui
from scoring import accounts
from scoring.auth import Action, Principal, Role
from scoring.backup import backup_file_name, create_backup
from scoring.cycle import PROVINCE_GROUP_BANDS, QUALITY_GRADE_BANDS, YearSettings, band_range_text
from scoring import repository as repo
from scoring.criteria import CRITERIA_EXTENSIONS, MAX_CRITERIA_BYTES, has_errors, load_criteria_set_bytes, validate
from scoring.criteria_excel import export_criteria_xlsx
from scoring.errors import InputError
from scoring.rules import parse_decimal
from scoring.evidence_files import MAX_UPLOAD_BYTES, extensions_text, safe_display_name, upload_megabytes, upload_rule
from scoring.textnorm import format_datetime, format_number, format_points, local_today

ui.require(Action.VIEW_AUDIT_LOG)
db = ui.database()
department_id, year = ui.context()
snap = ui.snapshot()
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _settings_number(label: str, text: str) -> Decimal:
    """A figure of the year's settings as typed, Vietnamese style ("2,5") or with a dot ("2.5")."""
    number = parse_decimal(text)
    if number is None:
        raise InputError(f"«{label}» phải là một số, ví dụ 2,5 (đang là «{text.strip()}»); thiết lập năm chưa được lưu.")
    return number


st.title("Cấu hình")
may_configure = ui.can(Action.MANAGE_SETTINGS)
tab_unit, tab_criteria, tab_years, tab_accounts, tab_backup, tab_log = st.tabs(
    ["Cơ quan và đơn vị", "Bộ tiêu chí", "Năm đánh giá", "Tài khoản", "Sao lưu", "Nhật ký thay đổi"]
)
if not may_configure:
    st.caption("Tài khoản của bạn chỉ xem được nhật ký thay đổi; cấu hình do quản trị viên thực hiện.")


# the forms that change the year's assessment row: a save from one moves the version the others expect
settings_form, criteria_form = f"year-settings-{department_id}-{year}", f"criteria-choice-{department_id}-{year}"

# ---------------------------------------------------------------- department and units

with tab_unit:
    # the form keeps what it showed until saved or refused; its save expects the version it showed
    department_form = f"department-{department_id}"
    form_key = ui.editor_key(department_form)
    department_seen = ui.version_seen(form_key, department_id, snap.department.version)
    with st.form(form_key):
        name = st.text_input("Tên cơ quan", value=snap.department.name, key=f"{form_key}-name")
        units_text = st.text_area(
            "Các đơn vị thuộc cơ quan (mỗi dòng một đơn vị)", value="\n".join(snap.department.units), height=160,
            help="Dùng để tính tiến độ cho từng đơn vị; «Các phòng thuộc Sở» trong kế hoạch được tính cho mọi đơn vị ở đây.",
            key=f"{form_key}-units",
        )
        if st.form_submit_button("Lưu", type="primary", disabled=not may_configure):
            ui.save_from_editors((department_form,), lambda: repo.update_department(
                db, department_id, department_seen, name=name, units=units_text.splitlines(), actor=ui.actor()),
                success="Đã lưu thông tin cơ quan.")

# ---------------------------------------------------------------- criteria sets

with tab_criteria:
    activity_ids = {a.code for a in snap.activities} or None
    # choosing another set expects the assessment as the page showed it when these widgets were made
    criteria_key = ui.editor_key(criteria_form)
    assessment_seen = ui.version_seen(criteria_key, snap.assessment.id, snap.assessment.settings_version) if snap.assessment else None
    if snap.criteria_set:
        st.markdown(f"Năm {year} đang chấm theo: **{ui.md(snap.criteria_set.name)}**"
                    + (" — *bộ tiêu chí mẫu*" if snap.criteria_set.template else ""))
        def _criteria_workbook(criteria_set=snap.criteria_set) -> bytes:
            buffer = io.BytesIO()
            export_criteria_xlsx(criteria_set, buffer)
            return buffer.getvalue()

        # made when clicked, not on every run of the page
        st.download_button("Tải bộ tiêu chí (Excel)", _criteria_workbook, file_name=f"bo-tieu-chi-{year}.xlsx", mime=XLSX_MIME)
        issues = validate(snap.criteria_set, activity_ids)
        with st.expander(f"Báo cáo kiểm tra bộ tiêu chí đang dùng ({len(issues)} ghi chú)"):
            if issues:
                st.dataframe(pd.DataFrame([{"Vị trí": i.where, "Nội dung": i.message} for i in issues]), hide_index=True)
            else:
                st.success("Bộ tiêu chí hợp lệ: điểm tối đa cộng đúng, mã không trùng, liên kết đúng hoạt động của kế hoạch.")

    st.subheader("Nhập bộ tiêu chí của tỉnh")
    st.caption("Tệp Excel theo mẫu tỉnh ban hành (STT / Tên tiêu chí / Điểm tối đa, các dòng mức điểm dưới từng tiêu chí) hoặc tệp YAML/JSON.")
    # no `type=`: the core refuses other files in Vietnamese (see views/tai_lieu.py)
    upload = st.file_uploader("Chọn tệp bộ tiêu chí", key=f"{criteria_key}-upload", disabled=not may_configure)
    st.caption(upload_rule(MAX_CRITERIA_BYTES, f"bộ tiêu chí dạng {extensions_text(CRITERIA_EXTENSIONS)}"))
    if upload is not None:
        try:
            candidate = load_criteria_set_bytes(upload.name, upload.getvalue())
        except InputError as err:
            st.error(ui.md(str(err)))
            candidate = None
        if candidate is not None:
            issues = [*candidate.warnings, *validate(candidate, activity_ids)]
            st.markdown(f"**{ui.md(candidate.name)}**: {len(candidate.leaves())} tiêu chí chấm điểm, tổng {format_number(candidate.total_max)} điểm.")
            if issues:
                st.dataframe(pd.DataFrame([{"Vị trí": i.where, "Nội dung": i.message} for i in issues]), hide_index=True)
            unusable = has_errors(issues)
            if unusable:
                st.error("Bộ tiêu chí có lỗi nên chưa dùng được; hãy sửa tệp rồi nhập lại. Không có gì bị thay đổi.")
            elif st.button(f"Lưu và dùng cho năm {year}", type="primary", key="criteria-use"):
                def _use():
                    set_id = repo.save_criteria_set(db, candidate, actor=ui.actor(), source_name=safe_display_name(upload.name))
                    if snap.assessment:
                        # refused as stale, the set stays stored and can be chosen below once the page shows what changed
                        return repo.switch_criteria_set(db, snap.assessment.id, assessment_seen, criteria_set_id=set_id, actor=ui.actor())
                    return repo.open_assessment(db, department_id, year, set_id, actor=ui.actor())
                ui.save_from_editors((settings_form, criteria_form), _use,
                                     success=f"Đã dùng «{candidate.name}» cho năm {year}. Điểm đã chấm được giữ theo mã tiêu chí.")

    sets = repo.list_criteria_sets(db)
    if len(sets) > 1 and snap.assessment:
        st.subheader("Chuyển sang bộ tiêu chí đã có")
        by_id = {s.id: s for s in sets}
        chosen = st.selectbox("Bộ tiêu chí", list(by_id), placeholder=ui.CHOOSE_ONE, index=list(by_id).index(snap.assessment.criteria_set_id),
                              format_func=ui.distinct_options(list(by_id), lambda i: f"{by_id[i].name} ({by_id[i].source_name}, "
                                                                              f"{format_datetime(by_id[i].created_at)})"),
                              key=f"{criteria_key}-set")
        if chosen != snap.assessment.criteria_set_id and st.button("Dùng bộ này", key="criteria-switch"):
            ui.save_from_editors((settings_form, criteria_form), lambda: repo.switch_criteria_set(
                db, snap.assessment.id, assessment_seen, criteria_set_id=chosen, actor=ui.actor()), success="Đã chuyển bộ tiêu chí.")

# ---------------------------------------------------------------- years

with tab_years:
    years = repo.list_years(db, department_id)
    st.markdown("Các năm đã có: " + ", ".join(str(y) for y in years))
    may_years = ui.can(Action.MANAGE_YEARS)
    if snap.assessment and snap.settings:
        settings = snap.settings
        st.subheader(f"Thiết lập năm {year}")
        # the form keeps what it showed until saved or refused; its save expects the assessment version it showed
        form_key = ui.editor_key(settings_form)
        settings_seen = ui.version_seen(form_key, snap.assessment.id, snap.assessment.settings_version)
        with st.form(form_key):
            round_inputs = []
            for round_ in settings.rounds:
                c1, c2 = st.columns(2)
                opens = c1.date_input(ui.label(f"{round_.label}: từ ngày"), value=round_.opens, format="DD/MM/YYYY", key=f"{form_key}-{round_.code}-o")
                closes = c2.date_input(ui.label(f"{round_.label}: đến ngày"), value=round_.closes, format="DD/MM/YYYY", key=f"{form_key}-{round_.code}-c")
                round_inputs.append((round_, opens, closes))
            c1, c2, c3, c4 = st.columns(4)
            survey_run = c1.checkbox("Có điều tra XHH", value=settings.survey_run, key=f"{form_key}-survey")
            # text, not st.number_input: its printf-style format can only write "2.50", never the Vietnamese "2,5"
            # (the core checks the ranges: scoring.cycle.settings_problems)
            survey_share = c2.text_input("Điểm phần điều tra XHH", value=format_number(settings.survey_share), key=f"{form_key}-survey-share")
            bonus_cap = c3.text_input("Điểm thưởng tối đa", value=format_number(settings.bonus_cap), key=f"{form_key}-bonus-cap")
            penalty_cap = c4.text_input("Điểm trừ tối đa", value=format_number(settings.penalty_cap), key=f"{form_key}-penalty-cap")
            presets = {"Nhóm A/B/C (≥ 90%, 80% đến dưới 90%)": PROVINCE_GROUP_BANDS,
                       "Tốt / Khá / Trung bình / Yếu": QUALITY_GRADE_BANDS}
            current = next((name for name, bands in presets.items() if tuple(bands) == tuple(settings.bands)), None)
            preset = st.radio("Xếp loại", list(presets), index=list(presets).index(current) if current else 0, horizontal=True,
                              key=f"{form_key}-bands")
            st.caption("Các mức: " + ui.md("; ".join(f"{b.label} {band_range_text(b, settings.bands)}" for b in settings.bands)))
            if st.form_submit_button("Lưu thiết lập năm", type="primary", disabled=not may_years):
                def edited() -> YearSettings:  # inside the save: a figure that is not a number is told, the form kept
                    return replace(
                        settings,
                        rounds=tuple(replace(r, opens=o, closes=c) for r, o, c in round_inputs),
                        survey_run=survey_run, survey_share=_settings_number("Điểm phần điều tra XHH", survey_share),
                        bonus_cap=_settings_number("Điểm thưởng tối đa", bonus_cap),
                        penalty_cap=_settings_number("Điểm trừ tối đa", penalty_cap), bands=tuple(presets[preset]),
                    )

                ui.save_from_editors((settings_form, criteria_form), lambda: repo.save_year_settings(
                    db, snap.assessment.id, settings_seen, edited(), actor=ui.actor()), success=f"Đã lưu thiết lập năm {year}.")

        st.subheader("Điểm thưởng, điểm trừ do tỉnh quyết định")
        # entered with the appraisal, where the cycle decides who may and when (views/cham_diem.py)
        st.markdown(f"Điểm thưởng: {format_points(snap.bonus)} · Điểm trừ: {format_points(snap.penalty)}")
        st.caption(f"Tối đa {format_number(settings.bonus_cap)} điểm thưởng và {format_number(settings.penalty_cap)} điểm trừ "
                   "được tính vào chỉ số. Nhập ở trang Chấm điểm, mục «Lịch thẩm định, điểm thưởng/điểm trừ, công bố».")

    st.subheader("Mở năm đánh giá mới")
    with st.form("year-open"):
        new_year = st.number_input("Năm", min_value=2000, max_value=2100, value=max(years, default=local_today().year) + 1, step=1)
        source_year = st.selectbox("Sao chép bộ tiêu chí và thiết lập từ năm", years, placeholder=ui.CHOOSE_ONE) if years else None
        st.caption("Bộ tiêu chí, thiết lập năm được sao chép (ngày dời sang năm mới); điểm để trống; kế hoạch nhập ở trang Kế hoạch.")
        if st.form_submit_button("Mở năm", type="primary", disabled=not may_years or not years):
            opened = ui.attempt(lambda: repo.open_next_year(db, department_id, int(source_year), int(new_year), actor=ui.actor()),
                                success=f"Đã mở năm {int(new_year)} từ năm {source_year}.")
            if opened:
                ui.switch_year(int(new_year))
            st.rerun()

# ---------------------------------------------------------------- accounts

with tab_accounts:
    if not accounts.sign_in_required():
        st.info("Ứng dụng đang chạy không cần đăng nhập (CCHC_AUTH=off), phù hợp một máy tính của Văn phòng. "
                "Khi dùng chung trong mạng, hãy bật đăng nhập và tạo tài khoản cho từng người.")
    elif not ui.can(Action.MANAGE_ACCOUNTS):
        st.caption("Chỉ quản trị viên quản lý tài khoản.")
    else:
        listed = accounts.list_accounts(db)
        st.dataframe(pd.DataFrame([
            {"Tên đăng nhập": a.username, "Họ tên": a.display_name, "Vai trò": a.role.label, "Đơn vị": a.unit or "",
             "Đang khóa đến": format_datetime(a.locked_until) if a.locked_until else ""}
            for a in listed
        ]), hide_index=True)
        with st.form("account-add", clear_on_submit=True):
            st.markdown("**Thêm tài khoản**")
            c1, c2, c3 = st.columns(3)
            username = c1.text_input("Tên đăng nhập")
            display_name = c2.text_input("Họ tên")
            role = c3.selectbox("Vai trò", list(Role), placeholder=ui.CHOOSE_ONE, format_func=lambda r: r.label)
            unit = st.selectbox("Đơn vị (với tài khoản phòng/đơn vị)", [""] + snap.department.units, placeholder=ui.CHOOSE_ONE)
            password = st.text_input("Mật khẩu (ít nhất 10 ký tự)", type="password")
            if st.form_submit_button("Tạo tài khoản", type="primary"):
                ui.attempt(lambda: accounts.create_account(db, username, role=role, password=password, display_name=display_name,
                                                           department_ids=[department_id], unit=unit or None,
                                                           actor=ui.actor()),
                           success=f"Đã tạo tài khoản «{username}».")
                st.rerun()

# ---------------------------------------------------------------- backup

def _backup_bytes(who: repo.Actor) -> bytes:
    """The whole backup as of the click, for an account that may still make one (its rights read again here:
    this runs on Streamlit's download thread, after the page); open mode: the typed name."""
    if isinstance(who, Principal):
        who = accounts.principal_for(db, who.username)
        if who is None:
            raise InputError("Tài khoản không còn hoạt động nên không tạo được bản sao lưu; hãy đăng nhập lại.")
    buffer = io.BytesIO()
    create_backup(db, buffer, actor=who)
    return buffer.getvalue()


with tab_backup:
    st.markdown("Bản sao lưu gồm toàn bộ dữ liệu (mọi cơ quan, mọi năm) và các tệp tài liệu kiểm chứng; "
                "khôi phục bằng lệnh `python -m scoring restore` trên máy chủ, không qua trang này: bản sao lưu của cả tỉnh "
                f"có thể lớn hơn giới hạn {upload_megabytes(MAX_UPLOAD_BYTES)} MB mỗi tệp tải lên trang.")
    # made when clicked (on Streamlit's download thread: the person is checked again there), never kept in the session
    may_back_up = ui.can(Action.BACKUP, department_id=None)
    problem = ui.download_button("Tải bản sao lưu (.zip)", lambda who=ui.actor(): _backup_bytes(who), what="bản sao lưu",
                                 file_name=backup_file_name(), mime="application/zip", key="backup-download",
                                 disabled=not may_back_up, type="primary")
    if problem:
        st.error(ui.md(problem))

# ---------------------------------------------------------------- audit log

with tab_log:
    c1, c2, c3 = st.columns(3)
    who = c1.text_input("Người thực hiện", key="log-actor")
    what = c2.text_input("Tiêu chí / hoạt động (mã)", key="log-key", placeholder="ví dụ 1.1.1 hoặc I.3")
    since = c3.date_input("Từ ngày", value=None, format="DD/MM/YYYY", key="log-since")
    entries = repo.audit_log(db, department_id, viewer=ui.actor(), actor=who.strip() or None,
                             entity_key=what.strip() or None, since=since, with_accounts=ui.can(Action.MANAGE_ACCOUNTS))
    if entries:
        st.dataframe(pd.DataFrame([  # readable text comes from the core (AuditView): labels, "có"/"không", names
            {"Thời điểm": e.at_text, "Người": e.actor_label, "Đối tượng": e.subject,
             "Nội dung": e.field, "Cũ": e.old, "Mới": e.new}
            for e in entries
        ]), hide_index=True)
    else:
        st.caption("Không có thay đổi nào khớp bộ lọc.")
