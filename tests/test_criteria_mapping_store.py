"""A confirmed criteria mapping in the database (SQLite and PostgreSQL): versioned, audited, for those who import sets."""

from __future__ import annotations

import pytest

from scoring import repository as repo
from scoring.auth import PermissionDenied, Principal, Role
from scoring.criteria_mapping import CriteriaMapping, Link, propose_mapping
from scoring.criteria_mapping_store import confirm_mapping, confirmed_mapping
from scoring.errors import ConflictError, InputError, NotFoundError
from tests.test_criteria_mapping import CURRENT, PREVIOUS

ADMIN = "quản trị"


@pytest.fixture
def sets(db):
    return repo.save_criteria_set(db, PREVIOUS, actor=ADMIN), repo.save_criteria_set(db, CURRENT, actor=ADMIN)


def test_a_confirmed_mapping_is_stored_read_back_and_serves_every_copy_of_the_same_sets(db, sets):
    old_id, new_id = sets
    assert confirmed_mapping(db, old_id, new_id) is None
    proposal = propose_mapping(PREVIOUS, CURRENT)
    stored = confirm_mapping(db, old_id, new_id, proposal, 0, actor=ADMIN)
    assert (stored.mapping, stored.version, stored.confirmed_by) == (proposal, 1, ADMIN)
    assert confirmed_mapping(db, old_id, new_id) == stored
    # another department imported the same two decisions: same content, other rows, the same mapping
    copies = repo.save_criteria_set(db, PREVIOUS, actor=ADMIN), repo.save_criteria_set(db, CURRENT, actor=ADMIN)
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
    department_id = repo.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=ADMIN)
    proposal = propose_mapping(PREVIOUS, CURRENT)
    confirm_mapping(db, old_id, new_id, proposal, 0, actor=ADMIN)
    confirm_mapping(db, old_id, new_id, proposal.with_targets("3.1.2", [], PREVIOUS, CURRENT), 1, actor=ADMIN)
    entries = [e for e in repo.audit_log(db, department_id, viewer=ADMIN, with_accounts=True) if e.entity == "criteria_mapping"]
    assert [(e.subject, e.field) for e in entries] == [("Đối chiếu tiêu chí Bộ tiêu chí 2025 → Bộ tiêu chí 2026", "bảng đối chiếu tiêu chí")] * 2
    assert entries[1].old == "—" and "3.1.1 → 3.1; 3.1.2 → 3.1" in entries[1].new
    assert "3.1.2 → 3.1" in entries[0].old and "3.1.2" not in entries[0].new  # newest first: 3.1.2 now «không còn»


def test_only_those_who_may_import_criteria_sets_confirm_a_mapping(db, sets):
    old_id, new_id = sets
    department_id = repo.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=ADMIN)
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
