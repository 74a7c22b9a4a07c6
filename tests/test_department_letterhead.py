"""The department's letterhead settings: the governing body above its name on official forms and the place of
the date line — stored (migration 0008), versioned, audited, refused to those who may not configure, set from
the command line and from Cấu hình → Cơ quan và đơn vị. (Backups carry them: tests/test_backup.py; the forms
print them: tests/test_exports.py.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.cli import main
from scoring.errors import ConflictError, InputError
from scoring.store import actors, audit_trail, department_store
from scoring.store.db import open_database


@pytest.fixture
def department(db):
    department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    return db, department_store.list_departments(db)[0]


def _set(db, department, *, governing_body=None, place=None, version=None, actor="quantri"):
    return department_store.update_department(db, department.id, department.version if version is None else version,
                                  name=department.name, units=department.units, governing_body=governing_body,
                                  place=place, actor=actor)


def test_a_new_department_has_no_letterhead_until_someone_sets_it(department):
    _, created = department
    assert (created.governing_body, created.place) == ("", "")


def test_the_letterhead_is_saved_tidied_and_audited_with_readable_labels(department):
    db, before = department
    saved = _set(db, before, governing_body="  UBND   tỉnh Quảng\u00a0Ninh ", place="Quảng Ninh")
    assert (saved.governing_body, saved.place, saved.version) == ("UBND tỉnh Quảng Ninh", "Quảng Ninh", before.version + 1)
    assert department_store.list_departments(db)[0] == saved
    changes = {(e.field, e.old, e.new) for e in audit_trail.audit_log(db, before.id, viewer=actors.SYSTEM_ACTOR) if e.actor == "quantri"}
    assert changes == {("cơ quan chủ quản", "—", "UBND tỉnh Quảng Ninh"), ("địa danh", "—", "Quảng Ninh")}
    # None keeps what is stored (the callers that edit only the name and units)
    kept = department_store.update_department(db, before.id, saved.version, name="Sở Dân tộc và Tôn giáo tỉnh Quảng Ninh",
                                  units=saved.units, actor="quantri")
    assert (kept.governing_body, kept.place) == ("UBND tỉnh Quảng Ninh", "Quảng Ninh")
    cleared = _set(db, kept, governing_body="", place="")
    assert (cleared.governing_body, cleared.place) == ("", "")


def test_a_change_made_since_the_page_was_opened_is_told_not_overwritten(department):
    db, seen = department
    _set(db, seen, place="Quảng Ninh", actor="nguoi-khac")
    with pytest.raises(ConflictError, match="vừa được sửa bởi nguoi-khac"):
        _set(db, seen, place="Hạ Long")
    assert department_store.list_departments(db)[0].place == "Quảng Ninh"


def test_a_line_too_long_for_the_form_is_refused_naming_the_field(department):
    db, seen = department
    with pytest.raises(InputError, match="«Địa danh» dài quá 100 ký tự"):
        _set(db, seen, place="Q" * 101)
    assert department_store.list_departments(db)[0].place == ""


@pytest.mark.parametrize("role", [Role.OFFICE, Role.UNIT, Role.LEADER, Role.APPRAISER])
def test_only_those_who_configure_the_department_may_change_its_letterhead(department, role):
    db, seen = department
    who = Principal(f"tk-{role.value}", role.label, role, frozenset({seen.id}), "Văn phòng" if role is Role.UNIT else None)
    with pytest.raises(PermissionDenied):
        _set(db, seen, governing_body="UBND TỈNH QUẢNG NINH", actor=who)
    admin = Principal("qt", "Quản trị", Role.ADMIN, frozenset({seen.id}))
    assert _set(db, seen, governing_body="UBND TỈNH QUẢNG NINH", actor=admin).governing_body == "UBND TỈNH QUẢNG NINH"


def _run(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(arguments), out=out, err=err), out.getvalue(), err.getvalue()


def test_the_command_line_sets_and_lists_the_letterhead():
    assert main(["init"], out=io.StringIO()) == 0
    code, out, _ = _run("department", "set", "--governing-body", "UBND TỈNH QUẢNG NINH", "--place", "Quảng Ninh")
    assert code == 0 and "Cơ quan chủ quản: UBND TỈNH QUẢNG NINH" in out and "Địa danh: Quảng Ninh" in out
    db = open_database()
    try:
        stored = department_store.list_departments(db)[0]
        assert (stored.governing_body, stored.place) == ("UBND TỈNH QUẢNG NINH", "Quảng Ninh")
        assert any(e.field == "địa danh" and e.actor.startswith("dòng lệnh")
                   for e in audit_trail.audit_log(db, stored.id, viewer=actors.SYSTEM_ACTOR))
    finally:
        db.dispose()
    code, listing, _ = _run("department", "list")
    assert code == 0 and f"{stored.id}: {stored.name}" in listing and "Địa danh: Quảng Ninh" in listing
    code, _, err = _run("department", "set")
    assert code == 2 and "Không có gì để sửa" in err


APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_the_settings_page_saves_the_letterhead_with_the_department():
    assert main(["init"], out=io.StringIO()) == 0
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/cau_hinh.py").run()
    assert not at.exception
    by_label = {w.label: w for w in at.text_input}
    by_label["Cơ quan chủ quản (dòng trên tên cơ quan ở văn bản)"].input("UBND TỈNH QUẢNG NINH")
    by_label["Địa danh ở dòng ngày tháng"].input("Quảng Ninh")
    next(b for b in at.button if b.label == "Lưu").click()
    at.run()
    assert not at.exception
    db = open_database()
    try:
        stored = department_store.list_departments(db)[0]
    finally:
        db.dispose()
    assert (stored.governing_body, stored.place) == ("UBND TỈNH QUẢNG NINH", "Quảng Ninh")


def test_migration_0008_gives_existing_departments_an_empty_letterhead(tmp_path):
    from sqlalchemy import text

    from scoring.store.db import make_engine, upgrade_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'cu.db'}")
    try:
        upgrade_schema(engine, "0007")
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO department (name, units, created_at, version, updated_at, updated_by) "
                                    "VALUES ('Sở Y tế', '[]', '2026-01-01', 1, '2026-01-01', '')"))
        upgrade_schema(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT governing_body, place FROM department")).one() == ("", "")
    finally:
        engine.dispose()
