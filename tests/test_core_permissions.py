"""The writes (and guarded reads) that once checked no permission, for every role (issue 15): accounts, new
departments, criteria sets, evidence files, the change log, backup and restore. Each is refused in scoring/
for the roles that may not, and a refused call changes nothing; a plain name is a trusted caller only."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from test_backup import PLAN_PDF as PDF  # a real one-page PDF

from scoring.access import accounts
from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.criteria.files import criteria_set_from_dict
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
)
from scoring.store.backup import create_backup
from scoring.store.evidence_files import EvidenceStore
from scoring.store.restore import count_rows, restore_backup

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Mat-khau-du-dai-2026"
SET = {"name": "Bộ thử quyền lõi", "total_max": 2, "year": 2026, "nodes": [
    {"code": "1", "name": "CHỈ ĐẠO", "max": 2, "children": [
        {"code": "1.1", "name": "Kế hoạch", "max": 2, "rule": {"kind": "value"}},
    ]},
]}
SYSTEM = actors.SYSTEM_ACTOR


@pytest.fixture(autouse=True)
def _quick_hashes(monkeypatch):
    """These tests are about who may, not about hashing: argon2 at its cheapest keeps the eight accounts quick."""
    from argon2 import PasswordHasher

    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "hash_password", quick.hash)


@pytest.fixture
def world(db):
    """Two departments; an account of every role in the first, an administrator and an Office account in the
    second; an evidence document with a file in each; the first department's year not locked."""
    home = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"], actor=SYSTEM)
    other = department_store.create_department(db, "Sở Xây dựng", ["Văn phòng"], actor=SYSTEM)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(SET), actor=SYSTEM)
    for department in (home, other):
        assessment_store.open_assessment(db, department, 2026, set_id, actor=SYSTEM)
    for role in Role:
        accounts.create_account(db, f"tk-{role.value}", role=role, password=PASSWORD, department_ids=[home],
                                unit="Phòng Tôn giáo" if role is Role.UNIT else None, actor=SYSTEM)
    accounts.create_account(db, "qt-khac", role=Role.ADMIN, password=PASSWORD, department_ids=[other], actor=SYSTEM)
    accounts.create_account(db, "vp-khac", role=Role.OFFICE, password=PASSWORD, department_ids=[other], actor=SYSTEM)
    documents = {department: evidence_store.add_evidence(db, department, 2026, evidence_store.EvidenceInput(number="1/KH"), actor=SYSTEM,
                                               upload=("ke-hoach.pdf", PDF)).id
                 for department in (home, other)}
    return {"db": db, "home": home, "other": other, "documents": documents}


def _who(world, role: Role) -> Principal:
    return accounts.principal_for(world["db"], f"tk-{role.value}")


def _backup(world) -> bytes:
    buffer = io.BytesIO()
    create_backup(world["db"], buffer, actor=SYSTEM)
    return buffer.getvalue()


# name → (the call, the roles it is allowed to); every call is about the first department ("home")
CALLS = {
    "create_account": (lambda w, who: accounts.create_account(
        w["db"], "moi", role=Role.OFFICE, password=PASSWORD, department_ids=[w["home"]], actor=who), {Role.ADMIN}),
    "create_admin_account": (lambda w, who: accounts.create_account(
        w["db"], "quantri2", role=Role.ADMIN, password=PASSWORD, department_ids=[w["home"]], actor=who), {Role.ADMIN}),
    "reset_password": (lambda w, who: accounts.reset_password(
        w["db"], "tk-leader", PASSWORD + "x", expected_version=None, actor=who), {Role.ADMIN}),
    "update_account": (lambda w, who: accounts.update_account(
        w["db"], "tk-leader", 1, role=Role.ADMIN, actor=who), {Role.ADMIN}),
    "create_department": (lambda w, who: department_store.create_department(w["db"], "Sở Y tế", ["Văn phòng"], actor=who), {Role.ADMIN}),
    "save_criteria_set": (lambda w, who: criteria_store.save_criteria_set(
        w["db"], criteria_set_from_dict({**SET, "name": "Bộ mới"}), actor=who), {Role.ADMIN}),
    "evidence_file": (lambda w, who: evidence_store.evidence_file(w["db"], w["documents"][w["home"]], viewer=who),
                      {Role.ADMIN, Role.OFFICE, Role.UNIT, Role.LEADER}),  # the appraiser: only once locked (below)
    "audit_log": (lambda w, who: audit_trail.audit_log(w["db"], w["home"], viewer=who), {Role.ADMIN, Role.OFFICE, Role.LEADER}),
    "audit_log_with_accounts": (lambda w, who: audit_trail.audit_log(w["db"], w["home"], viewer=who, with_accounts=True), {Role.ADMIN}),
    "create_backup": (lambda w, who: create_backup(w["db"], io.BytesIO(), actor=who), {Role.ADMIN}),
    "restore_backup": (lambda w, who: restore_backup(w["db"], io.BytesIO(_backup(w)), actor=who), {Role.ADMIN}),
}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_role_may_do_only_what_the_matrix_grants(world, name, role):
    call, allowed = CALLS[name]
    who = _who(world, role)
    before = count_rows(world["db"])
    if role in allowed:
        call(world, who)
    else:
        with pytest.raises(PermissionDenied) as refused:
            call(world, who)
        assert f"«{who.username}»" in str(refused.value)
        assert count_rows(world["db"]) == before  # nothing written, not even an audit line


@pytest.mark.parametrize("name", ["create_account", "reset_password", "update_account", "evidence_file", "audit_log"])
def test_an_administrator_of_another_department_is_refused(world, name):
    """Holding every action is not enough: the account (or document, or log) must belong to a department held."""
    stranger = accounts.principal_for(world["db"], "qt-khac")
    before = count_rows(world["db"])
    with pytest.raises(PermissionDenied, match="không được giao"):
        CALLS[name][0](world, stranger)
    assert count_rows(world["db"]) == before


def test_an_administrator_cannot_give_an_account_a_department_it_does_not_hold(world):
    db, home, other = world["db"], world["home"], world["other"]
    admin = _who(world, Role.ADMIN)
    with pytest.raises(PermissionDenied, match="không được giao"):
        accounts.create_account(db, "moi", role=Role.ADMIN, password=PASSWORD, department_ids=[home, other], actor=admin)
    leader = next(a for a in accounts.list_accounts(db) if a.username == "tk-leader")
    with pytest.raises(PermissionDenied, match="không được giao"):
        accounts.update_account(db, "tk-leader", leader.version, department_ids=[home, other], actor=admin)
    with pytest.raises(PermissionDenied, match="không được giao"):  # nor take over the other department's Office
        accounts.update_account(db, "vp-khac", 1, department_ids=[home], actor=admin)
    assert [a.username for a in accounts.list_accounts(db) if a.username == "moi"] == []


def test_a_refused_account_change_says_nothing_about_whether_the_account_exists(world):
    office = _who(world, Role.OFFICE)
    for username in ("tk-leader", "khong-co-ai"):
        with pytest.raises(PermissionDenied) as refused:
            accounts.reset_password(world["db"], username, PASSWORD + "x", expected_version=None, actor=office)
        assert username not in str(refused.value)


def test_the_appraiser_sees_a_department_s_files_once_it_has_locked(world):
    db, home = world["db"], world["home"]
    appraiser = _who(world, Role.APPRAISER)
    with pytest.raises(PermissionDenied, match="sau khi cơ quan đã khóa"):
        evidence_store.evidence_file(db, world["documents"][home], viewer=appraiser)
    assessment = assessment_state.get_assessment(db, home, 2026)
    assessment_store.save_self_score(db, assessment.id, "1.1", 0, inputs={"value": 1}, explanation="Đã ban hành", actor=SYSTEM)
    cycle_store.lock_self_score(db, assessment.id, actor=SYSTEM)
    assert evidence_store.evidence_file(db, world["documents"][home], viewer=appraiser)[2] == PDF


def test_an_administrator_who_adds_a_department_is_given_it(world):
    db = world["db"]
    admin = _who(world, Role.ADMIN)
    added = department_store.create_department(db, "Sở Y tế", ["Văn phòng"], actor=admin)
    now = accounts.principal_for(db, admin.username)
    assert added in now.department_ids and world["home"] in now.department_ids
    assert [d.id for d in department_store.list_departments(db, viewer=now)] == [world["home"], added]
    change = next(e for e in audit_trail.audit_log(db, added, viewer=now, with_accounts=True) if e.entity == "account")
    assert (change.actor, change.entity_key, change.field) == (admin.username, admin.username, "cơ quan")


@pytest.mark.parametrize("nobody", [None, "", "   "])
def test_no_actor_is_no_open_door(world, nobody):
    """A name stands for a trusted caller (the command line, seeding, open mode); no name is a programming error."""
    for name, (call, _allowed) in CALLS.items():
        with pytest.raises(TypeError, match="actor"):
            call(world, nobody)


def test_a_trusted_name_may_do_everything_and_is_written_in_the_log(world):
    db, home = world["db"], world["home"]
    operator = actors.command_line_actor()
    assert operator.startswith(actors.COMMAND_LINE)
    accounts.create_account(db, "moi", role=Role.OFFICE, password=PASSWORD, department_ids=[home], actor=operator)
    entry = next(e for e in audit_trail.audit_log(db, home, viewer=operator, with_accounts=True) if e.entity_key == "moi")
    assert entry.actor == operator


def test_the_command_line_acts_as_the_machine_s_operator(monkeypatch):
    from scoring.cli import main
    from scoring.store.db import open_database

    monkeypatch.setenv("LOGNAME", "vanhanh")  # what getpass.getuser() reads first
    assert main(["init"], out=io.StringIO()) == 0
    assert main(["users", "add", "nguyenvana", "--role", "office"], out=io.StringIO()) == 0
    opened = open_database()
    department = department_store.list_departments(opened)[0].id
    created = next(e for e in audit_trail.audit_log(opened, department, viewer=SYSTEM, with_accounts=True) if e.entity_key == "nguyenvana")
    assert created.actor == "dòng lệnh (vanhanh)"
    opened.dispose()


def test_what_the_app_writes_is_for_its_owner_only(sqlite_db):
    """Evidence is the department's: on a server shared with other logins, none of them may read or list it."""
    department = department_store.create_department(sqlite_db, "Sở Y tế", ["Văn phòng"], actor=SYSTEM)
    document = evidence_store.add_evidence(sqlite_db, department, 2026, evidence_store.EvidenceInput(number="1/KH"), actor=SYSTEM,
                                 upload=("ke-hoach.pdf", PDF))
    store_file = EvidenceStore(sqlite_db.settings.evidence_dir).path_for(document.file_key)
    for folder in (sqlite_db.settings.data_dir, store_file.parent.parent, store_file.parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert store_file.stat().st_mode & 0o777 == 0o600
