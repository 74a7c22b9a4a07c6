"""Cấu hình: the department and its units, criteria sets, years, accounts, backup, and the change log."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pandas as pd
import streamlit as st

import ui
from scoring.access import accounts
from scoring.access.auth import MIN_PASSWORD_LENGTH, Action, Principal, Role, generate_password
from scoring.assessment import reminders
from scoring.assessment.settings import PROVINCE_GROUP_BANDS, QUALITY_GRADE_BANDS, YearSettings, band_range_text
from scoring.criteria.excel import export_criteria_xlsx
from scoring.criteria.model import validate
from scoring.criteria.numbers import parse_decimal
from scoring.errors import InputError
from scoring.store import actors, assessment_store, audit_trail, criteria_store, cycle_store, department_store
from scoring.store.backup import backup_file_name, create_backup
from scoring.store.uploads import MAX_UPLOAD_BYTES, upload_megabytes
from scoring.textnorm import format_datetime, format_number, format_points, local_today
from views import criteria_import, criteria_mapping_panel

ui.require(Action.VIEW_AUDIT_LOG)
db = ui.database()
department_id, year = ui.context()
snap = ui.snapshot()
XLSX_MIME = ui.XLSX_MIME


def _settings_number(label: str, text: str) -> Decimal:
    """A figure of the year's settings as typed, Vietnamese style ("2,5") or with a dot ("2.5")."""
    number = parse_decimal(text)
    if number is None:
        raise InputError(f"«{label}» phải là một số, ví dụ 2,5 (đang là «{text.strip()}»); thiết lập năm chưa được lưu.")
    return number


st.title("Cấu hình")
may_configure = ui.can(Action.MANAGE_SETTINGS)
# "Tài khoản" only for those who manage accounts (the core refuses anyone else on every call). The tabs keep
# which one is open (key, on_change): a message above the page after a save would otherwise make them new
# elements, and the browser would open the first tab again.
may_manage_accounts = ui.can(Action.MANAGE_ACCOUNTS)
tab_labels = ["Cơ quan và đơn vị", "Bộ tiêu chí", "Năm đánh giá", *(["Tài khoản"] if may_manage_accounts else []),
              "Sao lưu", "Nhật ký thay đổi"]
tabs = dict(zip(tab_labels, st.tabs(tab_labels, key="settings-tab", on_change="rerun")))
tab_unit, tab_criteria, tab_years = tabs["Cơ quan và đơn vị"], tabs["Bộ tiêu chí"], tabs["Năm đánh giá"]
tab_accounts, tab_backup, tab_log = tabs.get("Tài khoản"), tabs["Sao lưu"], tabs["Nhật ký thay đổi"]
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
        # the letterhead of the Word report and the Excel score sheet; left empty, they leave the line to fill in
        governing_body = st.text_input(
            "Cơ quan chủ quản (dòng trên tên cơ quan ở văn bản)", value=snap.department.governing_body,
            placeholder="Ví dụ: UBND TỈNH QUẢNG NINH", key=f"{form_key}-governing-body")
        place = st.text_input(
            "Địa danh ở dòng ngày tháng", value=snap.department.place, placeholder="Ví dụ: Quảng Ninh",
            help="«Quảng Ninh, ngày … tháng … năm …» trên báo cáo và bảng điểm.", key=f"{form_key}-place")
        if st.form_submit_button("Lưu", type="primary", disabled=not may_configure):
            ui.save_from_editors((department_form,), lambda: department_store.update_department(
                db, department_id, department_seen, name=name, units=units_text.splitlines(),
                governing_body=governing_body, place=place, actor=ui.actor()),
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
                ui.dataframe(pd.DataFrame([{"Vị trí": i.where, "Nội dung": i.message} for i in issues]), hide_index=True)
            else:
                st.success("Bộ tiêu chí hợp lệ: điểm tối đa cộng đúng, mã không trùng, liên kết đúng hoạt động của kế hoạch.")

    # read, shown as a tree, corrected and saved as the year's set: views/criteria_import.py
    criteria_import.import_panel(db, department_id=department_id, year=year, snap=snap, activity_ids=activity_ids,
                                 assessment_seen=assessment_seen, may_configure=may_configure, form_name=criteria_form,
                                 forms_to_redraw=(settings_form, criteria_form))

    sets = criteria_store.list_criteria_sets(db)
    if len(sets) > 1 and snap.assessment:
        st.subheader("Chuyển sang bộ tiêu chí đã có")
        by_id = {s.id: s for s in sets}
        chosen = st.selectbox("Bộ tiêu chí", list(by_id), placeholder=ui.CHOOSE_ONE, index=list(by_id).index(snap.assessment.criteria_set_id),
                              format_func=ui.distinct_options(list(by_id), lambda i: f"{by_id[i].name} ({by_id[i].source_name}, "
                                                                              f"{format_datetime(by_id[i].created_at)})"),
                              key=f"{criteria_key}-set")
        if chosen != snap.assessment.criteria_set_id and may_configure:
            # what the switch does to the work already entered, read before the button (scores follow meaning, not codes)
            preview = ui.attempt(lambda: assessment_store.criteria_switch_preview(db, snap.assessment.id, chosen, actor=ui.actor()))
            if preview is not None:
                st.info(ui.md("Khi dùng bộ này: " + assessment_store.switch_summary(preview)))
            if st.button("Dùng bộ này", key="criteria-switch"):
                ui.save_from_editors((settings_form, criteria_form), lambda: assessment_store.switch_criteria_set(
                    db, snap.assessment.id, assessment_seen, criteria_set_id=chosen, actor=ui.actor()),
                    success="Đã chuyển bộ tiêu chí; điểm và tài liệu đã chấm được chuyển như đã báo ở trên.")

# ---------------------------------------------------------------- years

with tab_years:
    years = department_store.list_years(db, department_id)
    st.markdown("Các năm đã có: " + ", ".join(str(y) for y in years))
    may_years = ui.can(Action.MANAGE_YEARS)
    if snap.assessment and snap.settings:
        settings = snap.settings
        st.subheader(f"Thiết lập năm {year}")
        # the form keeps what it showed until saved or refused; its save expects the assessment version it showed
        form_key = ui.editor_key(settings_form)
        settings_seen = ui.version_seen(form_key, snap.assessment.id, snap.assessment.settings_version)
        ui.show_flashes(settings_form)
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
            # (the core checks the ranges: scoring.assessment.settings.settings_problems)
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

                ui.save_from_editors((settings_form, criteria_form), lambda: cycle_store.save_year_settings(
                    db, snap.assessment.id, settings_seen, edited(), actor=ui.actor()), success=f"Đã lưu thiết lập năm {year}.",
                    place=settings_form)

        st.subheader("Điểm thưởng, điểm trừ do tỉnh quyết định")
        # entered with the appraisal, where the cycle decides who may and when (views/cham_diem.py)
        st.markdown(f"Điểm thưởng: {format_points(snap.bonus)} · Điểm trừ: {format_points(snap.penalty)}")
        st.caption(f"Tối đa {format_number(settings.bonus_cap)} điểm thưởng và {format_number(settings.penalty_cap)} điểm trừ "
                   "được tính vào chỉ số. Nhập ở trang Chấm điểm, mục «Lịch thẩm định, điểm thưởng/điểm trừ, công bố».")

    criteria_mapping_panel.show(db, snap)  # when this year's criteria set differs from last year's

    st.subheader("Mở năm đánh giá mới")
    with st.form("year-open"):
        new_year = st.number_input("Năm", min_value=2000, max_value=2100, value=max(years, default=local_today().year) + 1, step=1)
        source_year = st.selectbox("Sao chép bộ tiêu chí và thiết lập từ năm", years, placeholder=ui.CHOOSE_ONE) if years else None
        st.caption("Bộ tiêu chí, thiết lập năm được sao chép (ngày dời sang năm mới); điểm để trống; kế hoạch nhập ở trang Kế hoạch.")
        if st.form_submit_button("Mở năm", type="primary", disabled=not may_years or not years):
            opened = ui.attempt(lambda: cycle_store.open_next_year(db, department_id, int(source_year), int(new_year), actor=ui.actor()),
                                success=f"Đã mở năm {int(new_year)} từ năm {source_year}.")
            if opened:
                ui.switch_year(int(new_year))
            st.rerun()

# ---------------------------------------------------------------- accounts
#
# Every action is a button callback: it runs before the panel is drawn again, so the list and the editor show the
# change at once. A refusal about one field of a new account is said beside that field and keeps what was typed;
# any other refusal (someone changed the account meanwhile, the last administrator) is said under the buttons, and the
# editor then shows what is stored. A reset's password is shown in the one run that follows it, never again.

ACCOUNT_NEW = "new-account"  # editor of a new account (ui.editor_key): drawn empty again after a creation
ACCOUNT_FIELD_ERRORS = "_account_field_errors"  # editor key → (field, sentence) of its last refusal
ACCOUNT_NEW_PASSWORD = "_account_new_password"  # (username, password) of a reset: popped by the run that shows it
SECTION_ADD, SECTION_EDIT = "Thêm tài khoản", "Sửa tài khoản"


def _editor_name(username: str) -> str:
    return f"account-edit:{username}"


def _department_text(department_ids, names: dict[int, str]) -> str:
    return ", ".join(names.get(d, f"cơ quan mã {d}") for d in department_ids) or "(chưa giao)"


def _units_of(department_ids, by_id: dict[int, department_store.DepartmentView]) -> list[str]:
    """The units of the chosen departments, each once, in the departments' order (a unit account has one)."""
    return list(dict.fromkeys(u for d in department_ids if d in by_id for u in by_id[d].units))


def _field_error(form_key: str, field: str) -> None:
    """The sentence of the last refusal, under the field it is about."""
    refused = st.session_state.get(ACCOUNT_FIELD_ERRORS, {}).get(form_key)
    if refused and refused[0] == field:
        st.error(ui.md(refused[1]))


def _said_at_its_field(form_key: str, action):
    """`action` as a write whose refusal about one field (AccountFieldError) is kept for that field of the editor
    `form_key` to say, beside what was typed there (which stays); the editor's former refusal is forgotten."""
    errors = st.session_state.setdefault(ACCOUNT_FIELD_ERRORS, {})
    errors.pop(form_key, None)

    def write():
        try:
            return action()
        except accounts.AccountFieldError as err:
            errors[form_key] = (err.field, str(err))
            return None

    return write


def _create_account(form_key: str) -> None:
    state = st.session_state
    role = state.get(f"{form_key}-role")
    created = ui.attempt(_said_at_its_field(form_key, lambda: accounts.create_account(
        db, state.get(f"{form_key}-username", ""), role=role, password=state.get(f"{form_key}-password", ""),
        display_name=state.get(f"{form_key}-name", ""), department_ids=state.get(f"{form_key}-departments", []),
        unit=state.get(f"{form_key}-unit") if role is Role.UNIT else None, email=state.get(f"{form_key}-email"),
        actor=ui.actor())))
    if created is not None:
        ui.redraw_editor(ACCOUNT_NEW)
        ui.flash("success", f"Đã tạo tài khoản «{created.username}» ({created.role.label}). Hãy báo mật khẩu cho người dùng "
                            "qua một kênh riêng.")


def _change_account(username: str, seen: int, action, success: str) -> bool:
    """A change from the editor of `username`, which showed version `seen`; saved or refused as stale, the editor
    then shows what is stored (and expects its version)."""
    name = _editor_name(username)
    changed = ui.attempt(action, success=None, on_conflict=lambda: ui.redraw_editor(name))
    if changed is not None:
        ui.redraw_editor(name)
        ui.flash("success", success if changed.version != seen else "Không có thay đổi nào để lưu.")
    return changed is not None


def _save_account(username: str, form_key: str, seen: int) -> None:
    state = st.session_state
    role = state.get(f"{form_key}-role")
    save = _said_at_its_field(form_key, lambda: accounts.update_account(
        db, username, seen, role=role, display_name=state.get(f"{form_key}-name"),
        unit=state.get(f"{form_key}-unit") if role is Role.UNIT else None,
        department_ids=list(state.get(f"{form_key}-departments", [])), email=state.get(f"{form_key}-email", ""),
        actor=ui.actor()))
    _change_account(username, seen, save, f"Đã lưu tài khoản «{username}».")


def _set_active(username: str, seen: int, active: bool) -> None:
    _change_account(username, seen, lambda: accounts.update_account(db, username, seen, active=active, actor=ui.actor()),
                    f"Đã cho tài khoản «{username}» dùng lại." if active else
                    f"Đã vô hiệu hóa tài khoản «{username}»: từ nay tài khoản này không đăng nhập được.")


def _unlock(username: str, seen: int) -> None:
    _change_account(username, seen, lambda: accounts.unlock_account(db, username, seen, actor=ui.actor()),
                    f"Đã mở khóa đăng nhập cho tài khoản «{username}».")


def _reset_password(username: str, seen: int) -> None:
    password = generate_password()
    if _change_account(username, seen, lambda: accounts.reset_password(db, username, password, expected_version=seen, actor=ui.actor()),
                       f"Đã đặt lại mật khẩu của tài khoản «{username}»."):
        st.session_state[ACCOUNT_NEW_PASSWORD] = (username, password)


def _new_account_editor(mine: list[department_store.DepartmentView], by_id: dict[int, department_store.DepartmentView]) -> None:
    form_key = ui.editor_key(ACCOUNT_NEW)
    c1, c2, c3 = st.columns(3)
    with c1:
        st.text_input("Tên đăng nhập", key=f"{form_key}-username", help="Chữ không dấu, số, dấu chấm, gạch dưới, gạch ngang.")
        _field_error(form_key, accounts.FIELD_USERNAME)
    with c2:
        st.text_input("Họ tên", key=f"{form_key}-name")
    with c3:
        role = st.selectbox("Vai trò", list(Role), index=None, placeholder="Chọn vai trò…", format_func=lambda r: r.label,
                            key=f"{form_key}-role")
        _field_error(form_key, accounts.FIELD_ROLE)
    _account_scope_fields(form_key, role, mine, by_id,
                          [department_id] if department_id in by_id else [], None)
    _email_field(form_key, "")
    st.text_input(f"Mật khẩu (ít nhất {MIN_PASSWORD_LENGTH} ký tự)", type="password", key=f"{form_key}-password",
                  help="Không chứa tên đăng nhập, không chỉ gồm chữ số, không phải mật khẩu phổ biến.")
    _field_error(form_key, accounts.FIELD_PASSWORD)
    st.button("Tạo tài khoản", type="primary", key=f"{form_key}-create", on_click=_create_account, args=(form_key,))


def _account_scope_fields(form_key: str, role: Role | None, mine: list[department_store.DepartmentView],
                          by_id: dict[int, department_store.DepartmentView], departments: list[int], unit: str | None) -> None:
    """The departments an account works with, and for a unit account its unit from their list."""
    options = [d.id for d in mine]
    c1, c2 = st.columns(2)
    with c1:
        chosen = st.multiselect("Cơ quan", options, default=[d for d in departments if d in options], key=f"{form_key}-departments",
                                format_func=ui.distinct_options(options, lambda i: by_id[i].name), placeholder="Chọn cơ quan…",
                                help="Tài khoản thẩm định, Văn phòng, lãnh đạo có thể làm việc với nhiều cơ quan; "
                                     "tài khoản phòng/đơn vị thuộc đúng một cơ quan.")
        _field_error(form_key, accounts.FIELD_DEPARTMENTS)
    if role is Role.UNIT:
        with c2:
            units = _units_of(chosen, by_id)
            st.selectbox("Đơn vị", units, index=units.index(unit) if unit in units else None,
                         placeholder="Chọn đơn vị…" if units else "Cơ quan đã chọn chưa khai báo đơn vị nào",
                         key=f"{form_key}-unit", help="Danh sách đơn vị của cơ quan sửa ở mục «Cơ quan và đơn vị».")
            _field_error(form_key, accounts.FIELD_UNIT)


def _email_field(form_key: str, email: str) -> None:
    st.text_input(accounts.EMAIL_LABEL, value=email, key=f"{form_key}-email", placeholder="ten@coquan.gov.vn",
                  help="Nơi nhận thư nhắc những việc đang chờ tài khoản này (khi máy chủ gửi thư được cấu hình); "
                       "để trống: không nhận thư.")
    _field_error(form_key, accounts.FIELD_EMAIL)


def _account_editor(account: accounts.AccountView, mine: list[department_store.DepartmentView], by_id: dict[int, department_store.DepartmentView],
                    new_password: tuple[str, str] | None) -> None:
    name = _editor_name(account.username)
    form_key = ui.editor_key(name)
    seen = ui.version_seen(form_key, account.username, account.version)
    st.markdown(f"Trạng thái: **{ui.md(account.status_text())}**")
    c1, c2 = st.columns(2)
    c1.text_input("Họ tên", value=account.display_name, key=f"{form_key}-name")
    roles = list(Role)
    role = c2.selectbox("Vai trò", roles, index=roles.index(account.role), format_func=lambda r: r.label, key=f"{form_key}-role")
    _account_scope_fields(form_key, role, mine, by_id, account.department_ids, account.unit)
    _email_field(form_key, account.email or "")
    st.button("Lưu thay đổi", type="primary", key=f"{form_key}-save", on_click=_save_account,
              args=(account.username, form_key, seen))

    st.markdown("**Đăng nhập**")
    row = st.container(horizontal=True)
    if account.active:
        row.button("Vô hiệu hóa tài khoản", key=f"{form_key}-disable", on_click=_set_active, args=(account.username, seen, False),
                   help="Tài khoản không đăng nhập được nữa; mọi thay đổi nó đã làm vẫn giữ trong nhật ký.")
    else:
        row.button("Cho dùng lại", key=f"{form_key}-enable", on_click=_set_active, args=(account.username, seen, True))
    if account.locked():
        row.button("Mở khóa đăng nhập", key=f"{form_key}-unlock", on_click=_unlock, args=(account.username, seen),
                   help="Bỏ khóa do nhập sai mật khẩu nhiều lần; mật khẩu giữ nguyên.")
    row.button("Đặt lại mật khẩu", key=f"{form_key}-reset", on_click=_reset_password, args=(account.username, seen),
               help="Tạo một mật khẩu mới ngẫu nhiên (mật khẩu cũ hết dùng được) và mở khóa đăng nhập.")
    if new_password and new_password[0] == account.username:
        _show_new_password(new_password)


def _show_new_password(new_password: tuple[str, str]) -> None:
    username, password = new_password
    st.info(f"Mật khẩu mới của tài khoản «{ui.md(username)}» — hãy ghi lại và báo cho người dùng qua một kênh riêng. "
            "Mật khẩu này chỉ hiện một lần, ngay bây giờ: tải lại trang hay thao tác tiếp là không xem lại được.")
    st.code(password, language=None)


def _reminders_status(who: Principal) -> None:
    """Whether reminders go out by email, and to whom the last ones went (scoring.assessment.reminders)."""
    status = reminders.reminder_status(db, who)
    (st.success if status.on else st.info)(ui.md(status.text), icon=":material/mail:")
    if status.recent:
        st.caption("Thư nhắc việc gửi gần đây")
        ui.dataframe(pd.DataFrame([{"Thời điểm": r.sent_text, "Tài khoản": r.username, "Gửi tới": r.address, "Số việc": r.items}
                                   for r in status.recent]), hide_index=True)


@st.fragment
def _accounts_panel() -> None:
    """The accounts the administrator's departments have; a change reruns this panel alone."""
    new_password = st.session_state.pop(ACCOUNT_NEW_PASSWORD, None)  # taken out at once: never shown twice
    # read again: this panel reruns alone (not through app.py), and a session that ended, an account disabled or
    # no longer an administrator must not see the list even once; the whole page then shows what they may see
    try:
        who = ui.actor()  # the account as stored now (and the rights the page's other calls read)
    except InputError:
        st.rerun()  # signed out: the sign-in page
    if not ui.can(Action.MANAGE_ACCOUNTS):
        st.rerun()  # the page without this tab
    names = {d.id: d.name for d in department_store.list_departments(db)}
    mine = ui.departments()
    by_id = {d.id: d for d in mine}
    listed = accounts.list_accounts(db, viewer=who)
    ui.dataframe(pd.DataFrame([
        {"Tên đăng nhập": a.username, "Họ tên": a.display_name, "Vai trò": a.role.label, "Đơn vị": a.unit or "",
         "Cơ quan": _department_text(a.department_ids, names), "Trạng thái": a.status_text(), "Thư điện tử": a.email or ""}
        for a in listed
    ]), hide_index=True)
    _reminders_status(who)
    changeable = {a.username: a for a in listed if accounts.may_change(who, a)}
    if len(changeable) < len(listed):
        st.caption("Tài khoản làm việc với cả cơ quan bạn không được giao chỉ quản trị viên được giao đủ các cơ quan đó sửa được.")
    section = st.segmented_control("Việc cần làm", [SECTION_ADD, SECTION_EDIT], default=SECTION_ADD, required=True,
                                   key="account-section", label_visibility="collapsed")
    picked = None
    if section == SECTION_ADD:
        _new_account_editor(mine, by_id)
    else:
        picked = st.selectbox("Tài khoản", list(changeable), index=None, placeholder="Chọn tài khoản cần sửa…", key="account-pick",
                              format_func=ui.distinct_options(list(changeable), lambda u: f"{u} — {changeable[u].display_name}"))
        if picked in changeable:
            _account_editor(changeable[picked], mine, by_id, new_password)
    if new_password and new_password[0] != picked:  # its editor is not drawn: shown here, still only once
        _show_new_password(new_password)
    ui.show_flashes()  # this panel's own reruns, under the button clicked (a run of the whole page shows them at its top)


if tab_accounts is None:
    st.session_state.pop(ACCOUNT_NEW_PASSWORD, None)  # no longer one who manages accounts: never shown
else:
    with tab_accounts:
        if not accounts.sign_in_required():
            st.info("Ứng dụng đang chạy không cần đăng nhập (CCHC_AUTH=off), phù hợp một máy tính của Văn phòng. "
                    "Khi dùng chung trong mạng, hãy bật đăng nhập và tạo tài khoản cho từng người.")
        else:
            _accounts_panel()

# ---------------------------------------------------------------- backup

def _backup_bytes(who: actors.Actor) -> bytes:
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
    entries = audit_trail.audit_log(db, department_id, viewer=ui.actor(), actor=who.strip() or None,
                             entity_key=what.strip() or None, since=since, with_accounts=ui.can(Action.MANAGE_ACCOUNTS))
    if entries:
        ui.dataframe(pd.DataFrame([  # readable text comes from the core (AuditView): labels, "có"/"không", names
            {"Thời điểm": e.at_text, "Người": e.actor_label, "Đối tượng": e.subject,
             "Nội dung": e.field, "Cũ": e.old, "Mới": e.new}
            for e in entries
        ]), hide_index=True)
    else:
        st.caption("Không có thay đổi nào khớp bộ lọc.")
