"""Every role against every write of the yearly cycle, in every state of the cycle (issue 14).

The core's answer (scoring.assessment.cycle.may_write) is checked against a specification written from the issue, for
each state and date; then every repository write is shown to ask that answer, for every role.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from scoring.access import accounts
from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.assessment.appraisal import AUTHOR_APPRAISER, AUTHOR_TRANSCRIBED, LeafAppraisal, SourceDocument
from scoring.assessment.cycle import CycleState, Write, may_write
from scoring.assessment.settings import default_settings
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import InputError
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
)

DEPARTMENT = 1

# The cycle's states, on the default 2026 dates (self-scoring 01/11–20/12/2026, round 1 21/12–15/01,
# explanation 16/01–25/01, round 2 26/01–10/02/2027).
STATES = {
    "draft": dict(today=date(2026, 11, 20), locked=False),
    "locked": dict(today=date(2026, 12, 10), locked=True),  # locked, round 1 not open yet
    "round1": dict(today=date(2026, 12, 22), locked=True),
    "explanation": dict(today=date(2027, 1, 20), locked=True),  # round 1 closed
    "round2": dict(today=date(2027, 1, 30), locked=True),
    "after": dict(today=date(2027, 2, 15), locked=True),  # every round over, not published
    "published": dict(today=date(2027, 2, 15), locked=True, published_at=datetime(2027, 2, 14, 3, 0),
                      published_by="quantri"),
}

# Y: allowed. T: allowed as a transcription, only where no appraiser account is assigned to the department.
# c: the role may, but not in this state. -: the role (or, for the appraiser, the missing lock) refuses.
# NAME is a trusted caller without an account (command line, an office computer running open).
SPEC = """
state       write             ADMIN OFFICE UNIT LEADER APPRAISER NAME
draft       self_score          Y     Y     -     -      -        Y
draft       lock                Y     Y     -     -      -        Y
draft       reopen_lock         c     -     -     -      -        c
draft       appraisal_1         c     c     -     -      -        c
draft       explanation         c     c     -     -      -        c
draft       appraisal_2         c     c     -     -      -        c
draft       bonus_penalty       c     c     -     -      -        c
draft       override_round      Y     -     -     -      -        Y
draft       publish             c     -     -     -      -        c
draft       reopen_published    c     -     -     -      -        c
locked      self_score          c     c     -     -      -        c
locked      lock                c     c     -     -      -        c
locked      reopen_lock         Y     -     -     -      -        Y
locked      appraisal_1         c     c     -     -      c        c
locked      explanation         c     c     -     -      -        c
locked      appraisal_2         c     c     -     -      c        c
locked      bonus_penalty       c     c     -     -      c        c
locked      override_round      Y     -     -     -      -        Y
locked      publish             Y     -     -     -      -        Y
locked      reopen_published    c     -     -     -      -        c
round1      self_score          c     c     -     -      -        c
round1      lock                c     c     -     -      -        c
round1      reopen_lock         Y     -     -     -      -        Y
round1      appraisal_1         T     T     -     -      Y        T
round1      explanation         c     c     -     -      -        c
round1      appraisal_2         c     c     -     -      c        c
round1      bonus_penalty       T     T     -     -      Y        T
round1      override_round      Y     -     -     -      -        Y
round1      publish             Y     -     -     -      -        Y
round1      reopen_published    c     -     -     -      -        c
explanation self_score          c     c     -     -      -        c
explanation lock                c     c     -     -      -        c
explanation reopen_lock         Y     -     -     -      -        Y
explanation appraisal_1         c     c     -     -      c        c
explanation explanation         Y     Y     -     -      -        Y
explanation appraisal_2         c     c     -     -      c        c
explanation bonus_penalty       T     T     -     -      Y        T
explanation override_round      Y     -     -     -      -        Y
explanation publish             Y     -     -     -      -        Y
explanation reopen_published    c     -     -     -      -        c
round2      self_score          c     c     -     -      -        c
round2      lock                c     c     -     -      -        c
round2      reopen_lock         Y     -     -     -      -        Y
round2      appraisal_1         c     c     -     -      c        c
round2      explanation         c     c     -     -      -        c
round2      appraisal_2         T     T     -     -      Y        T
round2      bonus_penalty       T     T     -     -      Y        T
round2      override_round      Y     -     -     -      -        Y
round2      publish             Y     -     -     -      -        Y
round2      reopen_published    c     -     -     -      -        c
after       self_score          c     c     -     -      -        c
after       lock                c     c     -     -      -        c
after       reopen_lock         Y     -     -     -      -        Y
after       appraisal_1         c     c     -     -      c        c
after       explanation         c     c     -     -      -        c
after       appraisal_2         c     c     -     -      c        c
after       bonus_penalty       T     T     -     -      Y        T
after       override_round      Y     -     -     -      -        Y
after       publish             Y     -     -     -      -        Y
after       reopen_published    c     -     -     -      -        c
published   self_score          c     c     -     -      -        c
published   lock                c     c     -     -      -        c
published   reopen_lock         c     -     -     -      -        c
published   appraisal_1         c     c     -     -      c        c
published   explanation         c     c     -     -      -        c
published   appraisal_2         c     c     -     -      c        c
published   bonus_penalty       c     c     -     -      c        c
published   override_round      c     -     -     -      -        c
published   publish             c     -     -     -      -        c
published   reopen_published    Y     -     -     -      -        Y
"""


def _parse(text: str) -> dict[tuple[str, str, str], str]:
    header, *rows = [line.split() for line in text.strip().splitlines()]
    who = header[2:]
    spec = {}
    for state, write, *marks in rows:
        assert len(marks) == len(who), (state, write)
        for name, mark in zip(who, marks):
            assert mark in {"Y", "T", "c", "-"}, (state, write, name, mark)
            spec[(state, write, name)] = mark
    return spec


MATRIX = _parse(SPEC)
WHO = ["ADMIN", "OFFICE", "UNIT", "LEADER", "APPRAISER", "NAME"]
WRITES = {w.key: w for w in Write}
# The criterion as round 1 left it: points given, an explanation asked for, entered before authors were kept.
LEAF = LeafAppraisal(round1_points=Decimal(1), explanation_requested=True)


def _who(name: str) -> Principal | str:
    if name == "NAME":
        return "Văn phòng (máy riêng)"
    role = Role[name]
    return Principal(f"tk-{role.value}", role.label, role, frozenset({DEPARTMENT}),
                     "Phòng Tôn giáo" if role is Role.UNIT else None)


def _state(name: str, appraisers: tuple[str, ...] = ()) -> CycleState:
    return CycleState(settings=default_settings(2026), appraisers=appraisers, **STATES[name])


def test_the_spec_covers_every_state_write_and_role():
    assert {(s, w) for s, w, _ in MATRIX} == {(s, w) for s in STATES for w in WRITES}
    assert {name for _, _, name in MATRIX} == set(WHO)


@pytest.mark.parametrize("appraiser_account", [False, True], ids=["no-appraiser-account", "appraiser-account"])
@pytest.mark.parametrize(("state", "write", "who"), sorted(MATRIX), ids=["-".join(k) for k in sorted(MATRIX)])
def test_may_write_answers_as_the_spec_says(state, write, who, appraiser_account):
    mark = MATRIX[(state, write, who)]
    verdict = may_write(_who(who), WRITES[write], _state(state, ("snv",) if appraiser_account else ()),
                        department_id=DEPARTMENT, leaf=LEAF, code="1.1")
    allowed = mark == "Y" or (mark == "T" and not appraiser_account)
    assert verdict.allowed is allowed, verdict.reason
    if mark == "-":
        assert verdict.by_role and isinstance(verdict.error, PermissionDenied)
    elif not allowed:
        assert not verdict.by_role and isinstance(verdict.error, InputError) and verdict.reason
        with pytest.raises(InputError):
            verdict.check()
    if allowed and WRITES[write] in (Write.APPRAISAL_1, Write.APPRAISAL_2, Write.BONUS_PENALTY):
        assert verdict.author_kind == (AUTHOR_APPRAISER if who == "APPRAISER" else AUTHOR_TRANSCRIBED)
    if mark == "T" and appraiser_account:
        assert "«snv»" in verdict.reason and "Văn phòng không ghi thay" in verdict.reason


def test_a_department_elsewhere_is_refused_whatever_the_state():
    stranger = Principal("qt-khac", "Quản trị", Role.ADMIN, frozenset({2}))  # holds every action, elsewhere
    for write in Write:
        verdict = may_write(stranger, write, _state("round1"), department_id=DEPARTMENT, leaf=LEAF)
        assert verdict.by_role and "không được giao" in verdict.reason


# --------------------------------------------------------------------------- the repository asks the same


SET = {"name": "Bộ thử chu trình", "total_max": 4, "year": 2026, "nodes": [
    {"code": "1", "name": "CHỈ ĐẠO", "max": 4, "children": [
        {"code": "1.1", "name": "Kế hoạch", "max": 2, "rule": {"kind": "value"}},
        {"code": "1.2", "name": "Báo cáo", "max": 2, "rule": {"kind": "value"}},
    ]},
]}
PROVINCE_RESULT = SourceDocument("12/KQ-SNV", date(2026, 12, 21))


@pytest.fixture
def stored(db):
    """One department, two criteria self-scored and locked; 1.1 appraised in round 1 (the Office transcribing)
    with an explanation asked for, 1.2 not appraised yet."""
    department = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"], actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department, 2026, criteria_store.save_criteria_set(db, criteria_set_from_dict(SET), actor=actors.SYSTEM_ACTOR)).id
    # no survey this year, so the appraised criterion alone makes a publishable index
    cycle_store.save_year_settings(db, assessment, 1, replace(default_settings(2026), survey_run=False), actor="quantri")  # new: version 1
    assessment_store.save_self_score(db, assessment, "1.1", 0, inputs={"value": 2}, explanation="Đã ban hành", actor="vp")
    assessment_store.save_self_score(db, assessment, "1.2", 0, inputs={"value": 2}, explanation="Đủ báo cáo", actor="vp")
    cycle_store.lock_self_score(db, assessment, actor="vp")
    assessment_store.save_appraisal(db, assessment, "1.1", 1, points=1, request_explanation=True, source=PROVINCE_RESULT,
                        actor="vp", today=STATES["round1"]["today"])
    return db, department, assessment


def _version(db, assessment, code: str = "1.1") -> int:
    return assessment_store.list_scores(db, assessment)[code].version


# write → (the state it is tried in, the call); each call is allowed for the administrator in that state.
REPOSITORY_WRITES = {
    "self_score": ("draft", lambda db, a, who, day: assessment_store.save_self_score(db, a, "1.2", _version(db, a, "1.2"), inputs={"value": 1}, actor=who)),
    "lock": ("draft", lambda db, a, who, day: cycle_store.lock_self_score(db, a, actor=who)),
    "reopen_lock": ("round1", lambda db, a, who, day: cycle_store.reopen_self_score(db, a, "Sửa 1.1", actor=who)),
    "appraisal_1": ("round1", lambda db, a, who, day: assessment_store.save_appraisal(db, a, "1.2", _version(db, a, "1.2"), points=2, source=PROVINCE_RESULT, actor=who, today=day)),
    "explanation": ("explanation", lambda db, a, who, day: assessment_store.save_explanation(db, a, "1.1", _version(db, a), explanation="Bổ sung", actor=who, today=day)),
    "appraisal_2": ("round2", lambda db, a, who, day: assessment_store.save_appraisal(db, a, "1.1", _version(db, a), points=2, round_number=2, source=PROVINCE_RESULT, actor=who, today=day)),
    "bonus_penalty": ("after", lambda db, a, who, day: cycle_store.save_bonus_penalty(db, a, 0, bonus="1", penalty="", source=PROVINCE_RESULT, actor=who, today=day)),
    "override_round": ("after", lambda db, a, who, day: cycle_store.override_round(db, a, "tham_dinh_2", date(2027, 2, 20), "Sở Nội vụ đề nghị", actor=who, today=day)),
    "publish": ("after", lambda db, a, who, day: cycle_store.publish_index(db, a, actor=who, today=day)),
}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("write", sorted(REPOSITORY_WRITES))
def test_every_repository_write_refuses_what_the_spec_refuses(stored, write, who):
    db, department, assessment = stored
    state, call = REPOSITORY_WRITES[write]
    if state == "draft":
        cycle_store.reopen_self_score(db, assessment, "Về bản nháp", actor="quantri")
    if write == "publish":  # an index is published once every criterion is appraised
        assessment_store.save_appraisal(db, assessment, "1.2", _version(db, assessment, "1.2"), points=2, source=PROVINCE_RESULT,
                            actor="vp", today=STATES["round1"]["today"])
    mark = MATRIX[(state, write, who)]
    actor = _who(who)
    before = audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR)
    if mark == "-":
        with pytest.raises(PermissionDenied):
            call(db, assessment, actor, STATES[state]["today"])
        assert audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) == before
    else:
        assert mark in ("Y", "T"), mark
        call(db, assessment, actor, STATES[state]["today"])
        assert len(audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR)) > len(before)


@pytest.mark.parametrize("write", ["appraisal_1", "appraisal_2", "bonus_penalty"])
def test_with_an_appraiser_account_the_office_is_refused_every_appraisal_write(stored, write):
    db, department, assessment = stored
    accounts.create_account(db, "snv", role=Role.APPRAISER, password="Mat-khau-du-dai-2026", department_ids=[department], actor=actors.SYSTEM_ACTOR)
    state, call = REPOSITORY_WRITES[write]
    before = audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR)
    for who in ("ADMIN", "OFFICE", "NAME"):
        with pytest.raises(InputError, match="đã có tài khoản thẩm định «snv»"):
            call(db, assessment, _who(who), STATES[state]["today"])
    assert audit_trail.audit_log(db, department, viewer=actors.SYSTEM_ACTOR) == before


def test_the_repository_reopens_a_publication_only_for_the_administrator(stored):
    db, department, assessment = stored
    day = STATES["after"]["today"]
    assessment_store.save_appraisal(db, assessment, "1.2", _version(db, assessment, "1.2"), points=2, source=PROVINCE_RESULT,
                        actor="vp", today=STATES["round1"]["today"])
    cycle_store.publish_index(db, assessment, actor="quantri", today=day)
    for who in ("OFFICE", "UNIT", "LEADER", "APPRAISER"):
        with pytest.raises(PermissionDenied):
            cycle_store.reopen_published(db, assessment, "Sửa lỗi", actor=_who(who))
    cycle_store.reopen_published(db, assessment, "Sửa lỗi nhập điểm", actor=_who("ADMIN"))
    assert assessment_state.get_assessment(db, department, 2026).published_at is None

