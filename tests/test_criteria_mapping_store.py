"""A confirmed criteria mapping in the database (SQLite and PostgreSQL): versioned, audited, for those who import sets."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.assessment.snapshot import SnapshotKeeper, load_snapshot
from scoring.criteria.mapping import CriteriaMapping, Link, propose_mapping
from scoring.errors import ConflictError, InputError, NotFoundError
from scoring.store import assessment_store, audit_trail, criteria_store, cycle_store, department_store
from scoring.store.criteria_mapping_store import confirm_mapping, confirmed_mapping
from tests.test_criteria_mapping import CURRENT, PREVIOUS

ADMIN = "quản trị"


@pytest.fixture
def sets(db):
    return criteria_store.save_criteria_set(db, PREVIOUS, actor=ADMIN), criteria_store.save_criteria_set(db, CURRENT, actor=ADMIN)


def test_a_confirmed_mapping_is_stored_read_back_and_serves_every_copy_of_the_same_sets(db, sets):
    old_id, new_id = sets
    assert confirmed_mapping(db, old_id, new_id) is None
    proposal = propose_mapping(PREVIOUS, CURRENT)
    stored = confirm_mapping(db, old_id, new_id, proposal, 0, actor=ADMIN)
    assert (stored.mapping, stored.version, stored.confirmed_by) == (proposal, 1, ADMIN)
    assert confirmed_mapping(db, old_id, new_id) == stored
    # another department imported the same two decisions: same content, other rows, the same mapping
    copies = criteria_store.save_criteria_set(db, PREVIOUS, actor=ADMIN), criteria_store.save_criteria_set(db, CURRENT, actor=ADMIN)
    assert confirmed_mapping(db, *copies) == stored
    assert confirmed_mapping(db, new_id, old_id) is None  # the other way round is another mapping


def test_a_change_expects_the_version_seen_and_a_concurrent_one_is_told_with_who(db, sets):
    old_id, new_id = sets
    proposal = propose_mapping(PREVIOUS, CURRENT)
    confirm_mapping(db, old_id, new_id, proposal, 0, actor="nguyenvana")
    with pytest.raises(ConflictError, match="vừa được sửa bởi nguyenvana"):
        confirm_mapping(db, old_id, new_id, proposal.with_targets("3.2", ["3.2"], PREVIOUS, CURRENT), 0, actor=ADMIN)
    changed = confirm_mapping(db, old_id, new_id, proposal.with_targets("3.2", ["3.2"], PREVIOUS, CURRENT), 1, actor=ADMIN)
    assert (changed.version, changed.confirmed_by, changed.mapping.targets("3.2")) == (2, ADMIN, ("3.2",))
    with pytest.raises(ConflictError, match="vừa được sửa bởi quản trị"):
        confirm_mapping(db, old_id, new_id, proposal, 1, actor="nguyenvana")
    assert confirmed_mapping(db, old_id, new_id).mapping.targets("3.2") == ("3.2",)


def test_every_confirmation_is_audited_old_to_new(db, sets):
    old_id, new_id = sets
    department_id = department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=ADMIN)
    proposal = propose_mapping(PREVIOUS, CURRENT)
    confirm_mapping(db, old_id, new_id, proposal, 0, actor=ADMIN)
    confirm_mapping(db, old_id, new_id, proposal.with_targets("3.1.2", [], PREVIOUS, CURRENT), 1, actor=ADMIN)
    entries = [e for e in audit_trail.audit_log(db, department_id, viewer=ADMIN, with_accounts=True) if e.entity == "criteria_mapping"]
    assert [(e.subject, e.field) for e in entries] == [("Đối chiếu tiêu chí Bộ tiêu chí 2025 → Bộ tiêu chí 2026", "bảng đối chiếu tiêu chí")] * 2
    assert entries[1].old == "—" and "3.1.1 → 3.1; 3.1.2 → 3.1" in entries[1].new
    assert "3.1.2 → 3.1" in entries[0].old and "3.1.2" not in entries[0].new  # newest first: 3.1.2 now «không còn»


def test_only_those_who_may_import_criteria_sets_confirm_a_mapping(db, sets):
    old_id, new_id = sets
    department_id = department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=ADMIN)
    office = Principal("vanphong", "Văn phòng", Role.OFFICE, {department_id})
    with pytest.raises(PermissionDenied, match="không được nhập bộ tiêu chí"):
        confirm_mapping(db, old_id, new_id, propose_mapping(PREVIOUS, CURRENT), 0, actor=office)
    assert confirmed_mapping(db, old_id, new_id) is None
    admin = Principal("quantri", "Quản trị", Role.ADMIN, {department_id})
    assert confirm_mapping(db, old_id, new_id, propose_mapping(PREVIOUS, CURRENT), 0, actor=admin).confirmed_by == "quantri"


def test_a_mapping_naming_criteria_the_sets_do_not_score_is_refused_and_nothing_is_stored(db, sets):
    old_id, new_id = sets
    wrong = CriteriaMapping((Link("2.1.3", "2.2", 0, ""),))  # 2.2 is a group this year
    with pytest.raises(InputError, match="«2.2» không phải tiêu chí chấm điểm của bộ tiêu chí năm nay"):
        confirm_mapping(db, old_id, new_id, wrong, 0, actor=ADMIN)
    assert confirmed_mapping(db, old_id, new_id) is None
    with pytest.raises(NotFoundError):
        confirm_mapping(db, old_id, 9999, propose_mapping(PREVIOUS, CURRENT), 0, actor=ADMIN)


# ---------------------------------------------------------------- the comparison a department's pages show


def _two_years(db, sets):
    """A department scored by last year's set in 2025 and by this year's in 2026."""
    old_id, new_id = sets
    department_id = department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=ADMIN)
    before = assessment_store.open_assessment(db, department_id, 2025, old_id, actor=ADMIN).id
    now = assessment_store.open_assessment(db, department_id, 2026, new_id, actor=ADMIN).id
    for code, value in {"3.1.1": "2", "3.1.2": "1", "3.2": "1", "2.1.3": "1"}.items():
        assessment_store.save_self_score(db, before, code, 0, inputs={"value": value}, actor=ADMIN)
    for code, value in {"3.1": "4", "3.2": "2", "2.2.1": "2"}.items():
        assessment_store.save_self_score(db, now, code, 0, inputs={"value": value}, actor=ADMIN)
    return department_id


def test_the_comparison_is_by_code_and_says_so_until_a_mapping_is_confirmed_then_follows_it(db, sets):
    department_id = _two_years(db, sets)
    keeper = SnapshotKeeper()
    snap = keeper.snapshot(db, department_id, 2026, with_previous_year=True)
    rows = {r.code: r for r in snap.compare_with_previous_year()}
    assert snap.criteria_sets_differ and snap.criteria_mapping is None
    assert "chưa có bảng đối chiếu tiêu chí được xác nhận" in snap.comparison_basis()
    # by code, as before: last year's 3.2 (bưu chính) stands against this year's 3.2 (số hóa), and last year's leaf
    # 2.2 (unscored) against this year's group 2.2
    assert (rows["3.2"].previous_pct, rows["3.2"].current_pct, rows["3.2"].note) == (D("50.00"), D("100.00"), "")
    assert (rows["2.2"].previous_pct, rows["2.2"].current_pct) == (D("0.00"), D("33.33"))

    confirm_mapping(db, *sets, propose_mapping(PREVIOUS, CURRENT), 0, actor=ADMIN)
    snap = keeper.snapshot(db, department_id, 2026, with_previous_year=True)  # the confirmation is a write: read again
    assert snap.criteria_mapping is not None and f"do {ADMIN} xác nhận lúc" in snap.comparison_basis()
    rows = [(r.code, r.previous_pct, r.current_pct, r.status) for r in snap.compare_with_previous_year() if r.level == 2]
    assert ("3.1", D("75.00"), D("100.00"), "tăng") in rows  # merged: 2 + 1 of 4
    assert ("3.2", None, D("100.00"), "mới năm nay") in rows and ("3.2", D("50.00"), None, "không còn năm nay") in rows
    # 2.2 now holds what was 2.1.3 (1 of 2) and 2.2 (unscored: 0 of 4)
    assert ("2.2", D("16.67"), D("33.33"), "tăng") in rows


def test_the_same_set_both_years_needs_no_mapping(db, sets):
    old_id, _ = sets
    department_id = department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=ADMIN)
    assessment_store.open_assessment(db, department_id, 2025, old_id, actor=ADMIN)
    cycle_store.open_next_year(db, department_id, 2025, 2026, actor=ADMIN)
    snap = load_snapshot(db, department_id, 2026, with_previous_year=True)
    assert not snap.criteria_sets_differ and snap.comparison_basis() == ""
    assert [r.code for r in snap.compare_with_previous_year()][:3] == ["", "1", "1.1"]
