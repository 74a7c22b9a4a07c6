"""Departments in groups as the province groups them (scoring.province.groups): versioned, audited, the administrator's;
a group's criteria set for a year is the set its departments' new year opens on."""

from __future__ import annotations

import pytest

from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import ConflictError, InputError
from scoring.province import groups
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
)
from tests.test_cycle_store import CYCLE_SET


@pytest.fixture
def province(db):
    ids = {name: department_store.create_department(db, name, ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
           for name in ("Sở Xây dựng", "Ban Quản lý các khu công nghiệp", "Sở Tài chính")}
    return db, ids


def _admin(ids):
    return Principal("quantri", "Quản trị", Role.ADMIN, frozenset(ids.values()))


def _version(db, department_id):
    return next(d.version for d in department_store.list_departments(db) if d.id == department_id)


def test_groups_hold_departments_and_say_who_changed_what(province):
    db, ids = province
    admin = _admin(ids)
    departments = groups.create_group(db, "Sở", actor=admin)
    boards = groups.create_group(db, "Ban, ngành", actor=admin)
    for name, group in (("Sở Xây dựng", departments), ("Sở Tài chính", departments), ("Ban Quản lý các khu công nghiệp", boards)):
        groups.assign_group(db, ids[name], _version(db, ids[name]), group, actor=admin)
    listed = {g.name: g.department_ids for g in groups.list_groups(db)}
    assert list(listed) == ["Ban, ngành", "Sở"]  # Vietnamese order
    assert listed["Sở"] == tuple(sorted((ids["Sở Xây dựng"], ids["Sở Tài chính"])))
    assert groups.group_of(db, ids["Sở Tài chính"]).name == "Sở"
    log = audit_trail.audit_log(db, ids["Sở Xây dựng"], viewer=actors.SYSTEM_ACTOR)
    assert (log[0].field, log[0].old, log[0].new, log[0].actor) == ("nhóm", groups.NO_GROUP, "Sở", "quantri")

    with pytest.raises(InputError, match="đã có"):
        groups.create_group(db, " Sở ", actor=admin)
    with pytest.raises(InputError, match="không được để trống"):
        groups.create_group(db, "  ", actor=admin)
    stale = groups.list_groups(db)[1]
    groups.rename_group(db, stale.id, stale.version, "Sở, ban, ngành", actor=admin)
    with pytest.raises(ConflictError):
        groups.rename_group(db, stale.id, stale.version, "Sở (khối 1)", actor=admin)
    with pytest.raises(ConflictError):  # the department moved since the person looked at it
        groups.assign_group(db, ids["Sở Xây dựng"], 1, None, actor=admin)


def test_only_the_administrator_groups_departments(province):
    db, ids = province
    office = Principal("vanphong", "Văn phòng", Role.OFFICE, frozenset(ids.values()))
    with pytest.raises(PermissionDenied):
        groups.create_group(db, "Sở", actor=office)
    group = groups.create_group(db, "Sở", actor=_admin(ids))
    with pytest.raises(PermissionDenied):
        groups.assign_group(db, ids["Sở Xây dựng"], _version(db, ids["Sở Xây dựng"]), group, actor=office)


def test_a_new_year_opens_on_its_groups_set(province):
    db, ids = province
    admin = _admin(ids)
    first = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    second = criteria_store.save_criteria_set(db, criteria_set_from_dict({**CYCLE_SET, "name": "Bộ tiêu chí sở năm 2027", "year": 2027}),
                                    actor=actors.SYSTEM_ACTOR)
    group = groups.create_group(db, "Sở", actor=admin)
    grouped, alone = ids["Sở Xây dựng"], ids["Sở Tài chính"]
    groups.assign_group(db, grouped, _version(db, grouped), group, actor=admin)
    groups.set_group_criteria_set(db, group, 2027, second, actor=admin)
    assert groups.criteria_set_for(db, grouped, 2027) == second and groups.criteria_set_for(db, alone, 2027) is None
    for department_id in (grouped, alone):
        assessment_store.open_assessment(db, department_id, 2026, first, actor=actors.SYSTEM_ACTOR)
        cycle_store.open_next_year(db, department_id, 2026, 2027, actor=admin)
    assert assessment_state.get_assessment(db, grouped, 2027).criteria_set_id == second  # the group's set for 2027
    assert assessment_state.get_assessment(db, alone, 2027).criteria_set_id == first  # no group: the year before's set
    assert groups.list_groups(db)[0].criteria_sets == {2027: second}


def test_the_command_line_groups_departments(capsys):
    from scoring import cli
    from scoring.store.db import open_database
    from scoring.store.workspace import ensure_default_workspace

    ensure_default_workspace(open_database())  # the scratch data folder of this test (conftest)
    assert cli.main(["groups", "add", "Sở"]) == 0
    assert cli.main(["groups", "assign", "Sở Dân tộc và Tôn giáo", "Sở"]) == 0
    assert cli.main(["groups", "criteria", "Sở", "2027", "1"]) == 0
    capsys.readouterr()
    assert cli.main(["groups", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("Sở:\n  - 1: Sở Dân tộc và Tôn giáo\n  Năm 2027: bộ tiêu chí 1 (")
    assert cli.main(["groups", "assign", "1", "Ban, ngành"]) == 2
    assert "Không có nhóm «Ban, ngành». Các nhóm hiện có: Sở." in capsys.readouterr().err
    assert cli.main(["groups", "assign", "1", "--none"]) == 0
    assert "không thuộc nhóm nào" in capsys.readouterr().out


def test_a_department_added_from_the_command_line_goes_to_its_group_and_to_the_administrators(capsys):
    from scoring import cli
    from scoring.access import accounts
    from scoring.store.db import open_database
    from scoring.store.workspace import ensure_default_workspace

    db = open_database()
    ensure_default_workspace(db)
    accounts.ensure_first_admin(db, [d.id for d in department_store.list_departments(db)], actor=actors.SYSTEM_ACTOR)
    assert cli.main(["groups", "add", "Sở"]) == 0
    assert cli.main(["department", "add", "Sở Y tế", "--group", "Ban"]) == 2  # a wrong group adds nothing
    assert [d.name for d in department_store.list_departments(db)] == ["Sở Dân tộc và Tôn giáo"]
    capsys.readouterr()
    assert cli.main(["department", "add", "Sở Y tế", "--unit", "Văn phòng", "--unit", "Phòng Nghiệp vụ Y", "--group", "Sở"]) == 0
    said = capsys.readouterr().out
    added = next(d for d in department_store.list_departments(db) if d.name == "Sở Y tế")
    assert said.startswith(f"Đã thêm cơ quan {added.id}: Sở Y tế, nhóm «Sở»") and "quantri" in said
    assert added.units == ["Văn phòng", "Phòng Nghiệp vụ Y"] and groups.group_of(db, added.id).name == "Sở"
    admin = accounts.principal_for(db, accounts.FIRST_ADMIN)
    assert added.id in admin.department_ids  # the administrator can now give it to other accounts on the page
