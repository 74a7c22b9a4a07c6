"""No silent overwrite: every edit expects the version the person saw when the form or table was drawn.

Core: on each editable surface, a write made from a version someone else has since changed is refused with a
sentence naming who changed it, and leaves the row and the audit log as they were.
Pages: two AppTest sessions on the same data folder (two people), each drawing the page before the other saves.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui
from scoring.access import accounts
from scoring.access.auth import Role
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import ConflictError
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.db import open_database
from scoring.store.restore import count_rows
from scoring.store.workspace import ensure_default_workspace

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "Mat-khau-that-dai-2026"

# ---------------------------------------------------------------- core: every surface


def _activity(db, ws, code):
    return next(a for a in plan_store.list_activities(db, ws.department_id, ws.year) if a.code == code)


def _department(db, ws):
    return next(d for d in department_store.list_departments(db) if d.id == ws.department_id)


def _assessment(db, ws):
    return assessment_state.get_assessment(db, ws.department_id, ws.year)


def _account(db, username):
    return next(a for a in accounts.list_accounts(db) if a.username == username)


def _document(db, ws):
    return evidence_store.list_evidence(db, ws.department_id, ws.year)[0]


def _other_set(db):
    return next(s.id for s in criteria_store.list_criteria_sets(db) if s.name == "Bộ tiêu chí sửa đổi")


# surface: (what the person saw, the other person's save from it, the person's stale save from it, the stored value)
SURFACES = {
    "activity": (
        lambda db, ws: _activity(db, ws, "VII.2"),
        lambda db, ws, seen: plan_store.update_activity(db, seen.id, seen.version, actor="vanphong1", progress=40),
        lambda db, ws, seen: plan_store.update_activity(db, seen.id, seen.version, actor="quantri", progress=70),
        lambda db, ws: _activity(db, ws, "VII.2").progress,
    ),
    "evidence edit": (
        _document,
        lambda db, ws, seen: evidence_store.update_evidence(db, seen.id, seen.version, evidence_store.EvidenceInput(number="2/BC"), actor="vanphong1"),
        lambda db, ws, seen: evidence_store.update_evidence(db, seen.id, seen.version, evidence_store.EvidenceInput(number="3/BC"), actor="quantri"),
        lambda db, ws: _document(db, ws).number,
    ),
    "evidence delete": (
        _document,
        lambda db, ws, seen: evidence_store.update_evidence(db, seen.id, seen.version, evidence_store.EvidenceInput(number="2/BC"), actor="vanphong1"),
        lambda db, ws, seen: evidence_store.delete_evidence(db, seen.id, seen.version, actor="quantri"),
        lambda db, ws: [e.number for e in evidence_store.list_evidence(db, ws.department_id, ws.year)],
    ),
    "evidence link": (
        _document,
        lambda db, ws, seen: evidence_store.update_evidence(db, seen.id, seen.version, evidence_store.EvidenceInput(number="2/BC"), actor="vanphong1"),
        lambda db, ws, seen: evidence_store.link_evidence_to_criterion(db, seen.id, seen.version, "1.1.1", actor="quantri"),
        lambda db, ws: _document(db, ws).criteria,
    ),
    "department": (
        _department,
        lambda db, ws, seen: department_store.update_department(db, seen.id, seen.version, name=seen.name,
                                                    units=[*seen.units, "Phòng Dân tộc"], actor="vanphong1"),
        lambda db, ws, seen: department_store.update_department(db, seen.id, seen.version, name=seen.name,
                                                    units=seen.units[:1], actor="quantri"),
        lambda db, ws: _department(db, ws).units,
    ),
    "year settings": (
        _assessment,
        lambda db, ws, seen: cycle_store.save_year_settings(db, seen.id, seen.settings_version,
                                                     replace(cycle_store.year_settings(db, seen.id), survey_run=False), actor="vanphong1"),
        lambda db, ws, seen: cycle_store.save_year_settings(db, seen.id, seen.settings_version,
                                                     replace(cycle_store.year_settings(db, seen.id), bonus_cap=Decimal(5)), actor="quantri"),
        lambda db, ws: cycle_store.year_settings(db, ws.assessment_id).to_dict(),
    ),
    "criteria set choice": (
        _assessment,
        lambda db, ws, seen: cycle_store.save_year_settings(db, seen.id, seen.settings_version,
                                                     replace(cycle_store.year_settings(db, seen.id), survey_run=False), actor="vanphong1"),
        lambda db, ws, seen: assessment_store.switch_criteria_set(db, seen.id, seen.settings_version, criteria_set_id=_other_set(db), actor="quantri"),
        lambda db, ws: _assessment(db, ws).criteria_set_id,
    ),
    "account password": (
        lambda db, ws: _account(db, "tongiao"),
        lambda db, ws, seen: accounts.update_account(db, seen.username, seen.version, role=Role.LEADER, unit=None, actor="vanphong1"),
        lambda db, ws, seen: accounts.reset_password(db, seen.username, PASSWORD + "x", expected_version=seen.version, actor="quantri"),
        lambda db, ws: accounts.sign_in(db, "tongiao", PASSWORD).role,
    ),
    "account role": (
        lambda db, ws: _account(db, "tongiao"),
        lambda db, ws, seen: accounts.reset_password(db, seen.username, PASSWORD, expected_version=seen.version, actor="vanphong1"),
        lambda db, ws, seen: accounts.update_account(db, seen.username, seen.version, role=Role.OFFICE, actor="quantri"),
        lambda db, ws: _account(db, "tongiao").role,
    ),
}


@pytest.fixture
def world(db):
    ws = ensure_default_workspace(db)
    evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"), actor="vanphong1", attachment=evidence_store.ATTACH_NUMBER)
    content = criteria_store.load_criteria(db, _assessment(db, ws).criteria_set_id).to_dict()
    criteria_store.save_criteria_set(db, criteria_set_from_dict({**content, "name": "Bộ tiêu chí sửa đổi"}), actor=actors.SYSTEM_ACTOR)
    accounts.create_account(db, "tongiao", role=Role.UNIT, unit="Phòng Tôn giáo", password=PASSWORD,
                            department_ids=[ws.department_id], actor=actors.SYSTEM_ACTOR)
    return db, ws


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_save_from_a_version_someone_else_changed_is_refused_naming_them_and_writes_nothing(world, surface):
    db, ws = world
    seen_by, first_save, stale_save, stored = SURFACES[surface]
    seen = seen_by(db, ws)  # both people drew the same version
    first_save(db, ws, seen)
    after_first, rows_after_first = stored(db, ws), count_rows(db)
    with pytest.raises(ConflictError, match="vừa được sửa bởi vanphong1 lúc [0-9]{2}:[0-9]{2} [0-9]{2}/[0-9]{2}/20[0-9]{2}"):
        stale_save(db, ws, seen)
    assert stored(db, ws) == after_first  # the first save stands
    assert count_rows(db) == rows_after_first  # nothing written, not even an audit row


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_save_from_the_version_stored_goes_through(world, surface):
    db, ws = world
    seen_by, first_save, stale_save, stored = SURFACES[surface]
    first_save(db, ws, seen_by(db, ws))
    before = count_rows(db)["audit_log"]
    stale_save(db, ws, seen_by(db, ws))  # the same change, made from what is stored now
    assert count_rows(db)["audit_log"] > before


def test_every_change_to_a_years_settings_or_criteria_set_moves_their_version(world):
    db, ws = world
    versions = [_assessment(db, ws).settings_version]
    cycle_store.save_year_settings(db, ws.assessment_id, versions[-1], cycle_store.year_settings(db, ws.assessment_id), actor="quantri")
    versions.append(_assessment(db, ws).settings_version)
    assessment_store.switch_criteria_set(db, ws.assessment_id, versions[-1], criteria_set_id=_other_set(db), actor="quantri")
    versions.append(_assessment(db, ws).settings_version)
    assert versions == sorted(set(versions)) and len(versions) == 3


def test_sign_in_counters_do_not_move_an_accounts_version(world):
    db, _ = world
    seen = _account(db, "tongiao")
    with pytest.raises(Exception):
        accounts.sign_in(db, "tongiao", "sai-mat-khau-roi")
    accounts.sign_in(db, "tongiao", PASSWORD)
    assert _account(db, "tongiao").version == seen.version  # a failed sign-in is no edit to warn the administrator about
    accounts.reset_password(db, "tongiao", PASSWORD + "x", expected_version=seen.version, actor="quantri")
    assert _account(db, "tongiao").version == seen.version + 1


def test_an_account_change_is_audited_with_readable_labels(world):
    db, _ = world
    seen = _account(db, "tongiao")
    accounts.update_account(db, "tongiao", seen.version, role=Role.LEADER, unit=None, actor="quantri")
    entries = {(e.field, e.old, e.new) for e in _account_audit(db)}
    assert ("vai trò", "Phòng/đơn vị", "Lãnh đạo") in entries and ("đơn vị", "Phòng Tôn giáo", "") in entries


def _account_audit(db):
    from sqlalchemy import select

    from scoring.store.models import AuditEntry

    with db.session() as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.entity == "account")).all()


# ---------------------------------------------------------------- pages: two people, two sessions


@pytest.fixture
def people(monkeypatch, browser_cookie):
    """Sign-in on, the bundled department, and a factory that opens a new session (a browser tab) signed in."""
    monkeypatch.setenv("CCHC_AUTH", "on")
    db = open_database()  # the scratch folder the app uses (CCHC_DATA_DIR from conftest)
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    for username, role, unit in (("vanphong1", Role.OFFICE, None), ("quantri", Role.ADMIN, None),
                                 ("quantri2", Role.ADMIN, None), ("phongtg", Role.UNIT, "Phòng Tôn giáo")):
        accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=[department.id], unit=unit, actor=actors.SYSTEM_ACTOR)

    def session(username: str, page: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        browser_cookie(at, username, PASSWORD)
        at.run()
        at.switch_page(page).run()
        _assert_clean(at)
        return at

    yield db, department, session
    db.dispose()


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert ui.UNEXPECTED_ERROR not in [_plain(e.value) for e in at.error]


def _plain(markdown: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", markdown)


def _plan_editor_key(at: AppTest) -> str:
    (editor,) = at.data_editor
    return editor.key


def _edit_plan_cell(at: AppTest, code: str, column: str, value) -> AppTest:
    """Change one cell of the plan table as the browser sends it: the row's position in the table drawn."""
    (editor,) = at.data_editor
    position = list(editor.value["Mã"]).index(code)
    at.session_state[editor.key] = {"edited_rows": {position: {column: value}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _assert_clean(at)
    return at


def _table_value(at: AppTest, code: str, column: str):
    (editor,) = at.data_editor
    table = editor.value
    return table.loc[table["Mã"] == code, column].item()


def test_plan_table_the_second_save_of_an_activity_is_told_and_the_first_stands(people):
    db, department, session = people
    office, admin = session("vanphong1", "views/ke_hoach.py"), session("quantri", "views/ke_hoach.py")  # both see 0 %
    _edit_plan_cell(office, "VII.2", "Tiến độ (%)", 40)
    assert any("Đã lưu hoạt động VII.2" in _plain(s.value) for s in office.success)

    _edit_plan_cell(admin, "VII.2", "Tiến độ (%)", 70)  # typed on the 0 % the administrator's table still showed
    errors = [_plain(e.value) for e in admin.error]
    assert any(e.startswith("Hoạt động VII.2 vừa được sửa bởi vanphong1 lúc ") for e in errors), errors
    assert not [s for s in admin.success if "VII.2" in s.value]
    stored = next(a for a in plan_store.list_activities(db, department.id, 2026) if a.code == "VII.2")
    assert stored.progress == 40
    assert _table_value(admin, "VII.2", "Tiến độ (%)") == 40  # the table now shows what is stored
    # only the Office's save is in the log (its status followed the progress typed); nothing of the refused one
    assert sorted((e.actor, e.old, e.new) for e in audit_trail.audit_log(db, department.id, entity_key="2026/VII.2", viewer=actors.SYSTEM_ACTOR)) == [
        ("vanphong1", "0", "40"), ("vanphong1", "Chưa bắt đầu", "Đang thực hiện")]


def test_plan_table_an_edit_lands_on_the_activity_drawn_even_when_the_rows_moved(people):
    db, department, session = people
    office, admin = session("vanphong1", "views/ke_hoach.py"), session("quantri", "views/ke_hoach.py")
    admin.multiselect(key="plan-f-status").set_value(["chua_bat_dau"]).run()  # the administrator filters on "not started"
    assert _table_value(admin, "VII.1", "Tiến độ (%)") == 0
    _edit_plan_cell(office, "VII.1", "Trạng thái", "Đang thực hiện")  # VII.1 leaves the administrator's filter

    _edit_plan_cell(admin, "VII.2", "Tiến độ (%)", 70)  # the row below VII.1 in the table the administrator saw
    by_code = {a.code: a for a in plan_store.list_activities(db, department.id, 2026)}
    assert (by_code["VII.2"].progress, by_code["VII.3"].progress) == (70, 0)  # not moved onto the next activity
    assert any("Đã lưu hoạt động VII.2" in _plain(s.value) for s in admin.success)


def test_plan_table_an_edit_of_a_row_that_left_the_filter_is_told_not_dropped(people):
    db, department, session = people
    office, admin = session("vanphong1", "views/ke_hoach.py"), session("quantri", "views/ke_hoach.py")
    admin.multiselect(key="plan-f-status").set_value(["chua_bat_dau"]).run()
    _edit_plan_cell(office, "VII.1", "Trạng thái", "Đang thực hiện")

    _edit_plan_cell(admin, "VII.1", "Tiến độ (%)", 30)  # the row the administrator saw has left the filter since
    errors = [_plain(e.value) for e in admin.error]
    assert any(e.startswith("Hoạt động VII.1 vừa được sửa bởi vanphong1") for e in errors), errors
    stored = next(a for a in plan_store.list_activities(db, department.id, 2026) if a.code == "VII.1")
    assert (stored.status, stored.progress) == ("dang_thuc_hien", 0)


def test_plan_table_a_unit_edits_only_the_activities_it_leads(people):
    db, department, session = people
    unit = session("phongtg", "views/ke_hoach.py")
    unit.multiselect(key="plan-f-unit").set_value([]).run()  # every activity, not only its own
    (editor,) = unit.data_editor
    assert set(editor.value["Mã"]) == {"II.1", "III.1", "III.2"}  # led by it, or by "Các phòng thuộc Sở"
    (read_only,) = [d for d in unit.dataframe if d.editing_mode == "read_only" and "Mã" in d.value.columns]
    assert read_only.editing_mode == "read_only" and len(read_only.value) == 22 - 3
    _edit_plan_cell(unit, "III.1", "Tiến độ (%)", 50)
    assert any("Đã lưu hoạt động III.1" in _plain(s.value) for s in unit.success)


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    _assert_clean(at)
    return at


def _field(widgets, label: str, form: str):
    """The widget with this label in the form whose key starts with `form` (found as a person finds it, by label)."""
    (widget,) = [w for w in widgets if w.label == label and w.form_id.startswith(form)]
    return widget


def _told(at: AppTest, who: str) -> list[str]:
    errors = [_plain(e.value) for e in at.error]
    assert any(f"vừa được sửa bởi {who} lúc " in e and "chưa được lưu" in e for e in errors), errors
    return errors


def test_evidence_form_the_second_save_is_told_and_the_form_then_shows_the_first(people):
    db, department, session = people
    document = evidence_store.add_evidence(db, department.id, 2026, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"), actor="vanphong1", attachment=evidence_store.ATTACH_NUMBER)
    office, admin = session("vanphong1", "views/tai_lieu.py"), session("quantri", "views/tai_lieu.py")
    form = f"evidence-edit-{document.id}"
    _field(office.text_input, "Số, ký hiệu", form).input("2/BC")
    _click(office, "Lưu thay đổi")
    assert any("Đã lưu thay đổi tài liệu" in s.value for s in office.success)

    _field(admin.text_input, "Số, ký hiệu", form).input("3/BC")  # typed on the "1/BC" the administrator's form still showed
    _click(admin, "Lưu thay đổi")
    _told(admin, "vanphong1")
    assert evidence_store.list_evidence(db, department.id, 2026)[0].number == "2/BC"
    assert _field(admin.text_input, "Số, ký hiệu", form).value == "2/BC"  # the form now shows what is stored

    _field(admin.text_input, "Số, ký hiệu", form).input("3/BC")  # made on what is stored: saved
    _click(admin, "Lưu thay đổi")
    assert evidence_store.list_evidence(db, department.id, 2026)[0].number == "3/BC"


def test_evidence_delete_after_someone_elses_edit_is_told_and_keeps_the_document(people):
    db, department, session = people
    document = evidence_store.add_evidence(db, department.id, 2026, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"), actor="vanphong1", attachment=evidence_store.ATTACH_NUMBER)
    office, admin = session("vanphong1", "views/tai_lieu.py"), session("quantri", "views/tai_lieu.py")
    _field(office.text_input, "Số, ký hiệu", f"evidence-edit-{document.id}").input("2/BC")
    _click(office, "Lưu thay đổi")

    next(c for c in admin.checkbox if c.label == "Tôi muốn xóa tài liệu này").check().run()
    _click(admin, "Xóa tài liệu")
    _told(admin, "vanphong1")
    assert [e.number for e in evidence_store.list_evidence(db, department.id, 2026)] == ["2/BC"]


def test_department_form_the_second_save_is_told_and_the_units_saved_first_stand(people):
    db, department, session = people
    first, second = session("quantri", "views/cau_hinh.py"), session("quantri2", "views/cau_hinh.py")
    form, units_label = f"department-{department.id}", "Các đơn vị thuộc cơ quan (mỗi dòng một đơn vị)"
    _field(first.text_area, units_label, form).input("\n".join([*department.units, "Phòng Dân tộc"]))
    _click(first, "Lưu")
    assert any("Đã lưu thông tin cơ quan" in s.value for s in first.success)

    _field(second.text_input, "Tên cơ quan", form).input("Sở Dân tộc và Tôn giáo tỉnh")  # on the units it still showed
    _click(second, "Lưu")
    _told(second, "quantri")
    stored = department_store.list_departments(db)[0]
    assert (stored.name, stored.units) == (department.name, [*department.units, "Phòng Dân tộc"])
    assert _field(second.text_area, units_label, form).value.splitlines()[-1] == "Phòng Dân tộc"


def test_year_settings_form_the_second_save_is_told_and_the_first_stands(people):
    db, department, session = people
    first, second = session("quantri", "views/cau_hinh.py"), session("quantri2", "views/cau_hinh.py")
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    before = cycle_store.year_settings(db, assessment.id)
    _field(first.text_input, "Điểm thưởng tối đa", "year-settings-").set_value("2")
    _click(first, "Lưu thiết lập năm")
    assert any("Đã lưu thiết lập năm 2026" in s.value for s in first.success)

    _field(second.text_input, "Điểm trừ tối đa", "year-settings-").set_value(str(before.penalty_cap + 3))
    _click(second, "Lưu thiết lập năm")
    _told(second, "quantri")
    stored = cycle_store.year_settings(db, assessment.id)
    assert (stored.bonus_cap, stored.penalty_cap) == (Decimal(2), before.penalty_cap)
    assert _field(second.text_input, "Điểm thưởng tối đa", "year-settings-").value == "2"


def test_the_years_own_settings_save_does_not_refuse_its_next_criteria_set_choice(people):
    db, department, session = people
    admin = session("quantri", "views/cau_hinh.py")
    _field(admin.text_input, "Điểm thưởng tối đa", "year-settings-").set_value("2")
    _click(admin, "Lưu thiết lập năm")
    content = criteria_store.load_criteria(db, assessment_state.get_assessment(db, department.id, 2026).criteria_set_id).to_dict()
    other = criteria_store.save_criteria_set(db, criteria_set_from_dict({**content, "name": "Bộ tiêu chí sửa đổi"}), actor=actors.SYSTEM_ACTOR)
    admin.run()
    next(s for s in admin.selectbox if s.label == "Bộ tiêu chí").set_value(other).run()
    _click(admin, "Dùng bộ này")
    assert not admin.error, [e.value for e in admin.error]
    assert assessment_state.get_assessment(db, department.id, 2026).criteria_set_id == other


def test_a_form_left_for_another_page_expects_what_is_stored_when_it_comes_back(people):
    db, department, session = people
    admin = session("quantri", "views/cau_hinh.py")
    seen = department_store.list_departments(db)[0]
    department_store.update_department(db, department.id, seen.version, name=seen.name, units=[*seen.units, "Phòng Dân tộc"], actor="quantri2")
    admin.switch_page("views/tong_quan.py").run()
    admin.switch_page("views/cau_hinh.py").run()  # the form is made again, from what is stored now
    form = f"department-{department.id}"
    assert _field(admin.text_area, "Các đơn vị thuộc cơ quan (mỗi dòng một đơn vị)", form).value.splitlines()[-1] == "Phòng Dân tộc"
    _field(admin.text_input, "Tên cơ quan", form).input("Sở Dân tộc và Tôn giáo tỉnh")
    _click(admin, "Lưu")
    assert not admin.error, [e.value for e in admin.error]
    assert department_store.list_departments(db)[0].name == "Sở Dân tộc và Tôn giáo tỉnh"


def test_plan_table_an_edit_is_told_even_when_the_filter_now_matches_nothing(people):
    db, department, session = people
    office, admin = session("vanphong1", "views/ke_hoach.py"), session("quantri", "views/ke_hoach.py")
    admin.multiselect(key="plan-f-area").set_value(["VI"]).run()
    admin.multiselect(key="plan-f-status").set_value(["chua_bat_dau"]).run()  # VI.1 and VI.2
    for code in ("VI.1", "VI.2"):
        _edit_plan_cell(office, code, "Trạng thái", "Đang thực hiện")  # both leave the administrator's filter

    _edit_plan_cell(admin, "VI.1", "Tiến độ (%)", 30)
    assert any(_plain(e.value).startswith("Hoạt động VI.1 vừa được sửa bởi vanphong1") for e in admin.error)
    assert any("Không có hoạt động nào khớp bộ lọc" in i.value for i in admin.info)
