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

from scoring import accounts
from scoring import repository as repo
from scoring.auth import Role
from scoring.backup import count_rows
from scoring.criteria import criteria_set_from_dict
from scoring.db import open_database
from scoring.errors import ConflictError
from scoring.workspace import ensure_default_workspace

import ui

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "Mat-khau-that-dai-2026"

# ---------------------------------------------------------------- core: every surface


def _activity(db, ws, code):
    return next(a for a in repo.list_activities(db, ws.department_id, ws.year) if a.code == code)


def _department(db, ws):
    return next(d for d in repo.list_departments(db) if d.id == ws.department_id)


def _assessment(db, ws):
    return repo.get_assessment(db, ws.department_id, ws.year)


def _account(db, username):
    return next(a for a in accounts.list_accounts(db) if a.username == username)


def _document(db, ws):
    return repo.list_evidence(db, ws.department_id, ws.year)[0]


def _other_set(db):
    return next(s.id for s in repo.list_criteria_sets(db) if s.name == "Bộ tiêu chí sửa đổi")


# surface: (what the person saw, the other person's save from it, the person's stale save from it, the stored value)
SURFACES = {
    "activity": (
        lambda db, ws: _activity(db, ws, "VII.2"),
        lambda db, ws, seen: repo.update_activity(db, seen.id, seen.version, actor="vanphong1", progress=40),
        lambda db, ws, seen: repo.update_activity(db, seen.id, seen.version, actor="quantri", progress=70),
        lambda db, ws: _activity(db, ws, "VII.2").progress,
    ),
    "evidence edit": (
        _document,
        lambda db, ws, seen: repo.update_evidence(db, seen.id, seen.version, repo.EvidenceInput(number="2/BC"), actor="vanphong1"),
        lambda db, ws, seen: repo.update_evidence(db, seen.id, seen.version, repo.EvidenceInput(number="3/BC"), actor="quantri"),
        lambda db, ws: _document(db, ws).number,
    ),
    "evidence delete": (
        _document,
        lambda db, ws, seen: repo.update_evidence(db, seen.id, seen.version, repo.EvidenceInput(number="2/BC"), actor="vanphong1"),
        lambda db, ws, seen: repo.delete_evidence(db, seen.id, seen.version, actor="quantri"),
        lambda db, ws: [e.number for e in repo.list_evidence(db, ws.department_id, ws.year)],
    ),
    "evidence link": (
        _document,
        lambda db, ws, seen: repo.update_evidence(db, seen.id, seen.version, repo.EvidenceInput(number="2/BC"), actor="vanphong1"),
        lambda db, ws, seen: repo.link_evidence_to_criterion(db, seen.id, seen.version, "1.1.1", actor="quantri"),
        lambda db, ws: _document(db, ws).criteria,
    ),
    "department": (
        _department,
        lambda db, ws, seen: repo.update_department(db, seen.id, seen.version, name=seen.name,
                                                    units=[*seen.units, "Phòng Dân tộc"], actor="vanphong1"),
        lambda db, ws, seen: repo.update_department(db, seen.id, seen.version, name=seen.name,
                                                    units=seen.units[:1], actor="quantri"),
        lambda db, ws: _department(db, ws).units,
    ),
    "year settings": (
        _assessment,
        lambda db, ws, seen: repo.save_year_settings(db, seen.id, seen.version,
                                                     replace(repo.year_settings(db, seen.id), survey_run=False), actor="vanphong1"),
        lambda db, ws, seen: repo.save_year_settings(db, seen.id, seen.version,
                                                     replace(repo.year_settings(db, seen.id), bonus_cap=Decimal(5)), actor="quantri"),
        lambda db, ws: repo.year_settings(db, ws.assessment_id).to_dict(),
    ),
    "criteria set choice": (
        _assessment,
        lambda db, ws, seen: repo.save_year_settings(db, seen.id, seen.version,
                                                     replace(repo.year_settings(db, seen.id), survey_run=False), actor="vanphong1"),
        lambda db, ws, seen: repo.switch_criteria_set(db, seen.id, seen.version, criteria_set_id=_other_set(db), actor="quantri"),
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
    repo.add_evidence(db, ws.department_id, ws.year, repo.EvidenceInput(doc_type="Báo cáo", number="1/BC"), actor="vanphong1")
    content = repo.load_criteria(db, _assessment(db, ws).criteria_set_id).to_dict()
    repo.save_criteria_set(db, criteria_set_from_dict({**content, "name": "Bộ tiêu chí sửa đổi"}))
    accounts.create_account(db, "tongiao", role=Role.UNIT, unit="Phòng Tôn giáo", password=PASSWORD,
                            department_ids=[ws.department_id])
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


def test_every_change_to_an_assessment_moves_its_version(world):
    db, ws = world
    versions = [_assessment(db, ws).version]
    repo.save_year_settings(db, ws.assessment_id, versions[-1], repo.year_settings(db, ws.assessment_id), actor="quantri")
    versions.append(_assessment(db, ws).version)
    repo.switch_criteria_set(db, ws.assessment_id, versions[-1], criteria_set_id=_other_set(db), actor="quantri")
    versions.append(_assessment(db, ws).version)
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

    from scoring.models import AuditEntry

    with db.session() as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.entity == "account")).all()
