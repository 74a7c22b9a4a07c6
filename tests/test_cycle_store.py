"""The yearly cycle on stored data: lock, reopen, two appraisal rounds with an explanation, bonus and penalty,
the final index, opening the next year, and who may do each step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.assessment.settings import default_settings
from scoring.assessment.snapshot import load_snapshot
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import InputError
from scoring.plan.importer import load_plan
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

SEED = Path(__file__).resolve().parent.parent / "data" / "ke-hoach-cchc-2026.txt"

CYCLE_SET = {
    "name": "Bộ tiêu chí thử chu trình",
    "total_max": 10,
    "year": 2026,
    "nodes": [
        {"code": "1", "name": "CHỈ ĐẠO, ĐIỀU HÀNH", "max": 7, "children": [
            {"code": "1.1", "name": "Ban hành kế hoạch CCHC", "max": 4, "activities": ["I.5"],
             "rule": {"kind": "tiers", "tiers": [{"label": "Kịp thời", "points": 4}, {"label": "Không kịp thời", "points": 2},
                                                 {"label": "Không ban hành", "points": 0}]}},
            {"code": "1.2", "name": "Báo cáo CCHC", "max": 3, "rule": {"kind": "value", "step": 0.25}},
        ]},
        {"code": "2", "name": "ĐIỀU TRA XÃ HỘI HỌC", "max": 3, "children": [
            {"code": "2.1", "name": "Mức độ hài lòng", "max": 3, "rule": {"kind": "survey"}},
        ]},
    ],
}


@pytest.fixture
def cycle(db):
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(db, department_id, load_plan(SEED))
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department_id, 2026, set_id)
    return db, department_id, assessment.id


OFFICE = Principal("vanphong", "Văn phòng", Role.OFFICE, frozenset({1}))
ADMIN = Principal("quantri", "Quản trị", Role.ADMIN, frozenset({1}))
APPRAISER = Principal("snv", "Sở Nội vụ", Role.APPRAISER, frozenset({1}))
# days inside the default 2026 rounds (scoring.assessment.settings.default_settings)
ROUND_1_DAY, EXPLANATION_DAY, ROUND_2_DAY = date(2026, 12, 22), date(2027, 1, 20), date(2027, 1, 30)


def _score_everything(db, assessment_id):
    assessment_store.save_self_score(db, assessment_id, "1.1", 0, inputs={"tier": "Kịp thời"}, explanation="Kế hoạch ban hành 18/12/2025", actor=OFFICE)
    assessment_store.save_self_score(db, assessment_id, "1.2", 0, inputs={"value": "2,5"}, explanation="Thiếu báo cáo quý I", actor=OFFICE)
    assessment_store.save_self_score(db, assessment_id, "2.1", 0, inputs={"survey": "2,4"}, actor=OFFICE)


def test_lock_is_refused_while_something_blocks_it(cycle):
    db, department_id, assessment_id = cycle
    snap = load_snapshot(db, department_id, 2026)
    blockers = snap.lock_blockers()
    assert {b.code for b in blockers} == {"1.1", "1.2"}  # survey leaves are not self-scored
    with pytest.raises(InputError, match="còn 4 vướng mắc"):
        cycle_store.lock_self_score(db, assessment_id, actor=OFFICE)
    assert not load_snapshot(db, department_id, 2026).locked


def test_the_whole_cycle(cycle):
    db, department_id, assessment_id = cycle
    _score_everything(db, assessment_id)
    snap = load_snapshot(db, department_id, 2026)
    assert snap.lock_blockers() == []
    # before the lock the appraiser sees nothing and may enter nothing
    with pytest.raises(PermissionDenied):
        load_snapshot(db, department_id, 2026, viewer=APPRAISER)
    with pytest.raises(PermissionDenied):
        assessment_store.save_appraisal(db, assessment_id, "1.1", 1, points=2, actor=APPRAISER, today=ROUND_1_DAY)

    cycle_store.lock_self_score(db, assessment_id, actor=OFFICE)
    snap = load_snapshot(db, department_id, 2026, viewer=APPRAISER)
    assert snap.locked and snap.assessment.locked_by == "vanphong"
    with pytest.raises(InputError, match="đã chốt"):
        assessment_store.save_self_score(db, assessment_id, "1.2", snap.score("1.2").version, inputs={"value": 3}, actor=OFFICE)
    with pytest.raises(PermissionDenied):
        assessment_store.save_self_score(db, assessment_id, "1.2", snap.score("1.2").version, inputs={"value": 3}, actor=APPRAISER)

    # round 1 (the year's default dates): a cut on 1.1 with a request for explanation
    view = assessment_store.save_appraisal(db, assessment_id, "1.1", snap.score("1.1").version, points=2, remark="Ban hành sau 20/12",
                               request_explanation=True, actor=APPRAISER, today=ROUND_1_DAY)
    assessment_store.save_appraisal(db, assessment_id, "1.2", snap.score("1.2").version, points="2,5", actor=APPRAISER, today=ROUND_1_DAY)
    assert view.appraised_points == Decimal(2) and view.appraisal.explanation_requested
    # the department explains, with a supplementary document
    evidence = evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(doc_type="Kế hoạch", number="15/KH-SDTTG",
                                 issued_on=date(2025, 12, 18)), actor=OFFICE, attachment=evidence_store.ATTACH_NUMBER, criteria=["1.1"])
    with pytest.raises(PermissionDenied):
        assessment_store.save_explanation(db, assessment_id, "1.1", view.version, explanation="x", actor=APPRAISER, today=EXPLANATION_DAY)
    view = assessment_store.save_explanation(db, assessment_id, "1.1", view.version, explanation="Kế hoạch ký ngày 18/12/2025",
                                 evidence_ids=[evidence.id], actor=OFFICE, today=EXPLANATION_DAY)
    assert view.appraisal.supplementary_evidence_ids == (evidence.id,)
    # round 2 restores the points
    view = assessment_store.save_appraisal(db, assessment_id, "1.1", view.version, points=4, remark="Đã giải trình", round_number=2, actor=APPRAISER,
                             today=ROUND_2_DAY)
    assert (view.appraised_points, view.appraisal.round1_points, view.appraisal_remark) == (Decimal(4), Decimal(2), "Đã giải trình")

    cycle_store.save_bonus_penalty(db, assessment_id, 0, bonus="5", penalty="1", actor=APPRAISER, today=ROUND_2_DAY)
    snap = load_snapshot(db, department_id, 2026)
    appraised = snap.final_index(use_appraised=True)
    # 4 + 2,5 + survey 2,4 = 8,9; bonus capped at 3 → 11,9; penalty 1 → 10,9 of 10 → capped at 100%
    assert appraised.percent == Decimal("100.00")
    assert any("tối đa 3" in (step.note or "") for step in appraised.steps)
    losses = {loss.code: loss.lost for loss in snap.points_lost_by_area()}
    assert losses == {"1": Decimal(0), "2": Decimal(0)}

    log = {(e.field, e.actor) for e in audit_trail.audit_log(db, department_id, viewer=actors.SYSTEM_ACTOR)}
    assert ("chốt điểm tự chấm", "vanphong") in log and ("điểm thẩm định lần 2", "snv") in log


def test_reopening_needs_the_administrator_and_a_reason(cycle):
    db, department_id, assessment_id = cycle
    _score_everything(db, assessment_id)
    cycle_store.lock_self_score(db, assessment_id, actor=OFFICE)
    with pytest.raises(PermissionDenied):
        cycle_store.reopen_self_score(db, assessment_id, "Sửa 1.2", actor=OFFICE)
    with pytest.raises(InputError, match="lý do"):
        cycle_store.reopen_self_score(db, assessment_id, "  ", actor=ADMIN)
    cycle_store.reopen_self_score(db, assessment_id, "Bổ sung báo cáo quý I", actor=ADMIN)
    assert not load_snapshot(db, department_id, 2026).locked
    entry = next(e for e in audit_trail.audit_log(db, department_id, viewer=actors.SYSTEM_ACTOR) if e.field == "mở lại điểm tự chấm")
    assert entry.actor == "quantri" and "Bổ sung báo cáo quý I" in entry.new


def test_band_and_rescaling_without_survey(cycle):
    db, department_id, assessment_id = cycle
    _score_everything(db, assessment_id)
    snap = load_snapshot(db, department_id, 2026)
    self_index = snap.final_index(use_appraised=False)
    # self basis: 4 + 2,5 + 2,4 = 8,9 of 10 → 89,00% → group B (80% to under 90%)
    assert self_index.percent == Decimal("89.00") and self_index.band.label == "Nhóm B"


def test_open_next_year_copies_set_and_settings_not_scores(cycle):
    db, department_id, assessment_id = cycle
    _score_everything(db, assessment_id)
    settings = default_settings(2026)
    cycle_store.save_year_settings(db, assessment_id, assessment_state.get_assessment(db, department_id, 2026).settings_version, settings, actor=ADMIN)
    with pytest.raises(PermissionDenied):
        cycle_store.open_next_year(db, department_id, 2026, 2027, actor=OFFICE)
    opened = cycle_store.open_next_year(db, department_id, 2026, 2027, actor=ADMIN)
    assert opened.criteria_set_id == assessment_state.get_assessment(db, department_id, 2026).criteria_set_id
    assert assessment_store.list_scores(db, opened.id) == {}
    moved = cycle_store.year_settings(db, opened.id)
    assert moved.year == 2027 and moved.get_round("tu_cham").closes == date(2027, 12, 20)
    with pytest.raises(InputError, match="đã có"):
        cycle_store.open_next_year(db, department_id, 2026, 2027, actor=ADMIN)
    comparison = load_snapshot(db, department_id, 2027, with_previous_year=True).compare_with_previous_year()
    total = next(row for row in comparison if row.code == "")
    assert total.previous_pct == Decimal("89.00") and total.current_pct == Decimal("0.00")


def test_report_states_the_published_index_and_band(cycle):
    import io

    from docx import Document

    from scoring.exports import write_report

    db, department_id, assessment_id = cycle
    _score_everything(db, assessment_id)
    buffer = io.BytesIO()
    write_report(load_snapshot(db, department_id, 2026), buffer, charts=False)
    texts = [p.text for p in Document(io.BytesIO(buffer.getvalue())).paragraphs]
    assert any("cách tỉnh công bố" in t and "89%" in t and "xếp loại Nhóm B" in t for t in texts)
