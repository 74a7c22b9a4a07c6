"""Every department's year at a glance (scoring.province.progress): the stage, k/n scored, the lock, explanations awaited,
the next deadline, and the self-assessed index only for those who may see it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.assessment import stages
from scoring.assessment.appraisal import SourceDocument
from scoring.assessment.cycle import CycleState, RoundOverride
from scoring.assessment.settings import ROUND_APPRAISAL_1, default_settings
from scoring.criteria.files import criteria_set_from_dict
from scoring.province import progress as province
from scoring.store import actors, assessment_state, assessment_store, criteria_store, cycle_store, department_store
from tests.test_cycle_store import CYCLE_SET, EXPLANATION_DAY, ROUND_1_DAY, ROUND_2_DAY

DECEMBER_1 = date(2026, 12, 1)


@pytest.fixture
def three(db):
    """«Chưa mở» has no 2026 assessment; «Đang chấm» has scored 1.1 of its 3 criteria; «Đã chốt» scored all and locked."""
    ids = [department_store.create_department(db, name, ["Văn phòng"], actor=actors.SYSTEM_ACTOR) for name in ("Sở Chưa mở", "Sở Đang chấm", "Sở Đã chốt")]
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    scoring = assessment_store.open_assessment(db, ids[1], 2026, set_id)
    assessment_store.save_self_score(db, scoring.id, "1.1", 0, inputs={"tier": "Kịp thời"}, actor="vp")
    locked = assessment_store.open_assessment(db, ids[2], 2026, set_id)
    assessment_store.save_self_score(db, locked.id, "1.1", 0, inputs={"tier": "Kịp thời"}, explanation="Kế hoạch 18/12/2025", actor="vp")
    assessment_store.save_self_score(db, locked.id, "1.2", 0, inputs={"value": "2,5"}, explanation="Thiếu báo cáo quý I", actor="vp")
    assessment_store.save_self_score(db, locked.id, "2.1", 0, inputs={"survey": "2,4"}, actor="vp")
    cycle_store.lock_self_score(db, locked.id, actor="vp")
    return db, ids, locked.id


def _by_name(rows):
    return {row.name: row for row in rows}


def test_each_department_says_where_its_year_stands(three):
    db, _, _ = three
    rows = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))
    assert list(rows) == ["Sở Chưa mở", "Sở Đang chấm", "Sở Đã chốt"]

    not_opened = rows["Sở Chưa mở"]
    assert (not_opened.stage, not_opened.scored, not_opened.applicable, not_opened.deadline) == (stages.STAGE_NOT_OPENED, 0, 0, None)

    scoring = rows["Sở Đang chấm"]
    assert scoring.stage == stages.STAGE_SELF_SCORING and (scoring.scored, scoring.applicable) == (1, 3)
    assert scoring.locked_at is None and scoring.deadline.text == "Hạn tự chấm 20/12/2026 (còn 19 ngày)"
    assert scoring.self_index.text() == "40% (tạm tính: đã chấm 1/3 tiêu chí)"  # 4 of 10

    locked = rows["Sở Đã chốt"]
    assert locked.stage == stages.STAGE_WAITING and locked.locked_at is not None and locked.locked_by == "vp"
    assert locked.deadline.text == "Thẩm định lần 1 bắt đầu 21/12/2026 (còn 20 ngày)"
    assert locked.self_index.complete and locked.self_index.figure() == "89%"


def test_the_appraisal_rounds_and_the_explanations_awaited(three):
    db, _, locked_id = three
    scores = assessment_store.list_scores(db, locked_id)
    # the Office records the province's round 1 (no appraiser account is assigned here), asking one explanation
    result = SourceDocument("25/KQ-SNV", ROUND_1_DAY)
    view = assessment_store.save_appraisal(db, locked_id, "1.1", scores["1.1"].version, points=2, request_explanation=True, actor="vp",
                               source=result, today=ROUND_1_DAY)

    def locked_row(today):
        return _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=today))["Sở Đã chốt"]

    row = locked_row(ROUND_1_DAY)
    assert row.stage == stages.STAGE_APPRAISAL_1 and row.explanations_awaited == 1
    assert row.deadline.text == "Hạn thẩm định lần 1 15/01/2027 (còn 24 ngày)"
    row = locked_row(EXPLANATION_DAY)
    assert row.stage == stages.STAGE_EXPLANATION and row.deadline.text == "Hạn giải trình 25/01/2027 (còn 5 ngày)"
    assessment_store.save_explanation(db, locked_id, "1.1", view.version, explanation="Kế hoạch ký ngày 18/12/2025", actor="vp",
                          today=EXPLANATION_DAY)
    assert locked_row(EXPLANATION_DAY).explanations_awaited == 0
    assert locked_row(ROUND_2_DAY).stage == stages.STAGE_APPRAISAL_2
    assert locked_row(date(2027, 3, 1)).stage == stages.STAGE_TO_PUBLISH
    assert locked_row(date(2027, 3, 1)).deadline is None


def test_the_appraiser_sees_the_cycle_of_its_departments_but_not_their_drafts(three):
    db, ids, _ = three
    appraiser = Principal("snv", "Sở Nội vụ", Role.APPRAISER, frozenset(ids[1:]))
    rows = _by_name(province.province_progress(db, 2026, viewer=appraiser, today=DECEMBER_1))
    assert list(rows) == ["Sở Đang chấm", "Sở Đã chốt"]  # only the departments it is assigned to
    assert (rows["Sở Đang chấm"].scored, rows["Sở Đang chấm"].self_index) == (1, None)  # a draft until locked
    assert rows["Sở Đã chốt"].self_index.figure() == "89%"


@pytest.mark.parametrize("role", [Role.OFFICE, Role.UNIT, Role.LEADER])
def test_a_department_account_has_no_province_overview(three, role):
    db, ids, _ = three
    who = Principal("nguoidung", "Người dùng", role, frozenset(ids), unit="Văn phòng" if role is Role.UNIT else None)
    with pytest.raises(PermissionDenied, match="xem tiến độ của các cơ quan"):
        province.province_progress(db, 2026, viewer=who)


def test_an_administrators_extension_moves_the_deadline():
    settings = default_settings(2026)
    extended = RoundOverride(ROUND_APPRAISAL_1, date(2026, 12, 21), date(2027, 1, 31), "Nhiều cơ quan nộp chậm", "quantri",
                             datetime(2026, 12, 21, 3, 0))
    state = CycleState(settings=settings, today=date(2027, 1, 14), locked=True, overrides=(extended,))
    assert stages.stage_of(state) == stages.STAGE_APPRAISAL_1
    assert stages.next_deadline(state, stages.STAGE_APPRAISAL_1).text == "Hạn thẩm định lần 1 31/01/2027 (còn 17 ngày)"
    later = CycleState(settings=settings, today=date(2027, 1, 20), locked=True, overrides=(extended,))
    assert stages.stage_of(later) == stages.STAGE_EXPLANATION  # the later round open says where the year is
    overdue = stages.Deadline("Hạn tự chấm", date(2026, 12, 20), -3)
    assert overdue.text == "Hạn tự chấm 20/12/2026 (quá hạn 3 ngày)"


def test_the_overview_is_kept_until_the_data_moves(three):
    db, ids, _ = three
    first = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))["Sở Đang chấm"]
    again = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))["Sở Đang chấm"]
    assert again == first and first.scored == 1
    assessment = assessment_state.get_assessment(db, ids[1], 2026)
    assessment_store.save_self_score(db, assessment.id, "1.2", 0, inputs={"value": "2"}, actor="vp")  # any write moves the revision
    after = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))["Sở Đang chấm"]
    assert after.scored == 2


def test_the_countdown_on_the_departments_pages_follows_the_stage():
    settings = default_settings(2026)
    scoring = CycleState(settings=settings, today=DECEMBER_1)
    assert stages.countdown_text(scoring, closes_at_deadline=True) == (
        "Hạn tự chấm 20/12/2026 (còn 19 ngày); sau hạn, bản tự chấm tự động chốt.")
    assert stages.countdown_text(scoring, closes_at_deadline=False) == "Hạn tự chấm 20/12/2026 (còn 19 ngày)."
    waiting = CycleState(settings=settings, today=DECEMBER_1, locked=True)
    assert stages.countdown_text(waiting, closes_at_deadline=True) == (
        "Đã chốt, chờ thẩm định: thẩm định lần 1 bắt đầu 21/12/2026 (còn 20 ngày).")
    explaining = CycleState(settings=settings, today=date(2027, 1, 20), locked=True)
    assert stages.countdown_text(explaining, closes_at_deadline=True) == "Đang giải trình, hạn 25/01/2027 (còn 5 ngày)."
    published = CycleState(settings=settings, today=date(2027, 3, 1), locked=True, published_at=datetime(2027, 2, 28))
    assert stages.countdown_text(published, closes_at_deadline=True) == ""


def test_after_a_save_only_the_department_that_changed_is_read_again(three, monkeypatch):
    db, ids, locked_id = three
    province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1)
    read = []
    whole = assessment_store.years_of_departments
    monkeypatch.setattr(assessment_store, "years_of_departments", lambda db, department_ids, *a, **k: read.append(list(department_ids))
                        or whole(db, department_ids, *a, **k))
    scoring = assessment_state.get_assessment(db, ids[1], 2026)
    assessment_store.save_self_score(db, scoring.id, "1.2", 0, inputs={"value": "2"}, actor="vp")
    rows = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))
    assert read == [[ids[1]]] and rows["Sở Đang chấm"].scored == 2 and rows["Sở Đã chốt"].self_index.figure() == "89%"
    # a change of the assessment row itself (the lock reopened), not of a score, is seen; so is a new name
    read.clear()
    cycle_store.reopen_self_score(db, locked_id, "Bổ sung tài liệu", actor=actors.SYSTEM_ACTOR)
    rows = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))
    assert read == [[ids[2]]] and rows["Sở Đã chốt"].locked_at is None and rows["Sở Đã chốt"].stage == stages.STAGE_SELF_SCORING
    read.clear()
    first = next(d for d in department_store.list_departments(db) if d.id == ids[0])
    department_store.update_department(db, ids[0], first.version, name="Sở Chưa mở năm", units=first.units, actor=actors.SYSTEM_ACTOR)
    rows = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))
    assert read == [[ids[0]]] and "Sở Chưa mở năm" in rows and rows["Sở Chưa mở năm"].stage == stages.STAGE_NOT_OPENED


def test_one_computation_is_shared_and_each_viewer_sees_only_what_it_may(three):
    db, ids, _ = three
    everyone = _by_name(province.province_progress(db, 2026, viewer=actors.SYSTEM_ACTOR, today=DECEMBER_1))
    assert everyone["Sở Đang chấm"].self_index is not None
    appraiser = Principal("snv", "Sở Nội vụ", Role.APPRAISER, frozenset(ids[1:]))
    rows = _by_name(province.province_progress(db, 2026, viewer=appraiser, today=DECEMBER_1))
    assert rows["Sở Đang chấm"].self_index is None and rows["Sở Đã chốt"].self_index.figure() == "89%"
