"""Every role against every write the repository offers: the refusals happen in scoring/, whatever a page shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.assessment.settings import default_settings
from scoring.criteria.files import criteria_set_from_dict
from scoring.plan.importer import load_plan
from scoring.store import (
    actors,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
)

SEED = Path(__file__).resolve().parent.parent / "data" / "ke-hoach-cchc-2026.txt"
SET = {"name": "Bộ thử quyền", "total_max": 2, "year": 2026, "nodes": [
    {"code": "1", "name": "CHỈ ĐẠO", "max": 2, "children": [
        {"code": "1.1", "name": "Kế hoạch", "max": 2, "rule": {"kind": "value"}},
    ]},
]}


@pytest.fixture
def world(db):
    department = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo", "Phòng CSĐT"], actor=actors.SYSTEM_ACTOR)
    other = department_store.create_department(db, "Sở Xây dựng", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(db, department, load_plan(SEED))
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(SET), actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department, 2026, set_id).id
    evidence = evidence_store.add_evidence(db, department, 2026, evidence_store.EvidenceInput(number="1/KH"), actor="vp",
                                 attachment=evidence_store.ATTACH_NUMBER)
    activities = {a.code: a for a in plan_store.list_activities(db, department, 2026)}
    return db, department, other, assessment, evidence, activities


def _principal(role: Role, department: int, unit: str | None = None) -> Principal:
    return Principal(f"tk-{role.value}", role.label, role, frozenset({department}), unit)


# (what, role, write) — every write below must be refused for that role
WRITES = {
    "import_plan": lambda w, who: plan_store.save_plan(w[0], w[1], load_plan(SEED), actor=who),
    "self_score": lambda w, who: assessment_store.save_self_score(w[0], w[3], "1.1", 0, inputs={"value": 1}, actor=who),
    "appraisal_before_lock": lambda w, who: assessment_store.save_appraisal(w[0], w[3], "1.1", 0, points=1, actor=who),
    "activity_of_another_unit": lambda w, who: plan_store.update_activity(w[0], w[5]["I.1"].id, w[5]["I.1"].version, actor=who, progress=50),
    "edit_evidence": lambda w, who: evidence_store.update_evidence(w[0], w[4].id, w[4].version, evidence_store.EvidenceInput(number="2/KH"), actor=who),
    "delete_evidence": lambda w, who: evidence_store.delete_evidence(w[0], w[4].id, w[4].version, actor=who),
    "evidence_for_criteria": lambda w, who: evidence_store.add_evidence(w[0], w[1], 2026, evidence_store.EvidenceInput(number="3/KH"), actor=who, attachment=evidence_store.ATTACH_NUMBER, criteria=["1.1"]),
    "department_settings": lambda w, who: department_store.update_department(w[0], w[1], 1, name="Sở X", units=[], actor=who),
    "year_settings": lambda w, who: cycle_store.save_year_settings(w[0], w[3], 1, default_settings(2026), actor=who),
    "open_year": lambda w, who: cycle_store.open_next_year(w[0], w[1], 2026, 2027, actor=who),
    "lock": lambda w, who: cycle_store.lock_self_score(w[0], w[3], actor=who),
    "audit_log": lambda w, who: audit_trail.audit_log(w[0], w[1], viewer=who),
}

FORBIDDEN = [
    (Role.UNIT, "import_plan"), (Role.UNIT, "self_score"), (Role.UNIT, "activity_of_another_unit"),
    (Role.UNIT, "edit_evidence"), (Role.UNIT, "delete_evidence"), (Role.UNIT, "evidence_for_criteria"),
    (Role.UNIT, "department_settings"), (Role.UNIT, "year_settings"), (Role.UNIT, "open_year"), (Role.UNIT, "lock"),
    (Role.UNIT, "audit_log"), (Role.UNIT, "appraisal_before_lock"),
    (Role.LEADER, "import_plan"), (Role.LEADER, "self_score"), (Role.LEADER, "activity_of_another_unit"),
    (Role.LEADER, "edit_evidence"), (Role.LEADER, "evidence_for_criteria"), (Role.LEADER, "department_settings"),
    (Role.LEADER, "lock"), (Role.LEADER, "appraisal_before_lock"),
    (Role.APPRAISER, "import_plan"), (Role.APPRAISER, "self_score"), (Role.APPRAISER, "appraisal_before_lock"),
    (Role.APPRAISER, "edit_evidence"), (Role.APPRAISER, "department_settings"), (Role.APPRAISER, "lock"),
    (Role.APPRAISER, "audit_log"),
    (Role.OFFICE, "department_settings"), (Role.OFFICE, "year_settings"), (Role.OFFICE, "open_year"),
]


@pytest.mark.parametrize("role, write", FORBIDDEN, ids=[f"{r.value}-{w}" for r, w in FORBIDDEN])
def test_each_role_is_refused_what_it_may_not_do(world, role, write):
    who = _principal(role, world[1], unit="Phòng Tôn giáo" if role is Role.UNIT else None)
    before = audit_trail.audit_log(world[0], world[1], viewer=actors.SYSTEM_ACTOR)
    with pytest.raises(PermissionDenied) as refused:
        WRITES[write](world, who)
    assert f"«{who.username}»" in str(refused.value)
    assert audit_trail.audit_log(world[0], world[1], viewer=actors.SYSTEM_ACTOR) == before  # nothing written


@pytest.mark.parametrize("write", ["self_score", "edit_evidence", "import_plan", "audit_log"])
def test_nobody_works_on_a_department_they_are_not_assigned(world, write):
    office_elsewhere = _principal(Role.OFFICE, world[2])
    with pytest.raises(PermissionDenied, match="không được giao"):
        WRITES[write](world, office_elsewhere)


def test_a_unit_updates_its_own_activities_and_documents_them(world):
    db, department, _, _, _, activities = world
    unit = _principal(Role.UNIT, department, unit="phòng tôn giáo")  # names compare without case
    own = activities["III.1"]  # led by "Phòng CSĐT, phòng Tôn giáo, Văn phòng"
    saved = plan_store.update_activity(db, own.id, own.version, actor=unit, progress=60)
    assert saved.progress == 60
    collective = activities["II.1"]  # led by "Các phòng thuộc Sở": every unit
    plan_store.update_activity(db, collective.id, collective.version, actor=unit, progress=10)
    document = evidence_store.add_evidence(db, department, 2026, evidence_store.EvidenceInput(number="5/BC"), actor=unit, attachment=evidence_store.ATTACH_NUMBER,
                                 activity_codes=["III.1"])
    assert document.activities == ["III.1"]
    assert audit_trail.audit_log(db, department, actor=unit.username, viewer=actors.SYSTEM_ACTOR)


def test_the_list_of_departments_is_scoped_to_the_viewer(world):
    db, department, other = world[0], world[1], world[2]
    assert [d.id for d in department_store.list_departments(db, viewer=_principal(Role.LEADER, other))] == [other]
    assert {d.id for d in department_store.list_departments(db)} == {department, other}
