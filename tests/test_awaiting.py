"""What waits for the signed-in person (scoring.assessment.awaiting): by role, with its deadline, urgent first."""

from __future__ import annotations

from datetime import date

from scoring.access.auth import Principal, Role
from scoring.assessment.appraisal import SourceDocument
from scoring.assessment.awaiting import PAGE_SCORING, awaiting_appraisal, awaiting_in_department
from scoring.assessment.snapshot import load_snapshot
from scoring.province.progress import province_progress
from scoring.store import assessment_state, assessment_store, cycle_store
from tests.test_cycle_store import EXPLANATION_DAY, ROUND_1_DAY, _score_everything, cycle  # noqa: F401 - the fixture


def _office(department_id):
    return Principal("vanphong", "Văn phòng", Role.OFFICE, frozenset({department_id}))


def _items(db, department_id, assessment_id, today, who):
    snap = load_snapshot(db, department_id, 2026, today=today)
    return awaiting_in_department(snap, assessment_state.cycle_state(db, assessment_id, today), who)


def test_the_office_is_told_the_deadline_near_and_what_is_left(cycle):
    db, department_id, assessment_id = cycle
    office = _office(department_id)
    assert _items(db, department_id, assessment_id, date(2026, 12, 1), office) == []  # nothing due soon
    items = _items(db, department_id, assessment_id, date(2026, 12, 18), office)
    assert len(items) == 1 and items[0].urgent and items[0].page == PAGE_SCORING
    assert items[0].text == "Hạn tự chấm 20/12/2026 (còn 2 ngày): còn 3 tiêu chí chưa chấm, 4 vướng mắc trước khi chốt."
    unit = Principal("phongtg", "Phòng Tôn giáo", Role.UNIT, frozenset({department_id}), unit="Phòng Tôn giáo")
    assert all(i.page != PAGE_SCORING for i in _items(db, department_id, assessment_id, date(2026, 12, 18), unit))


def test_an_explanation_asked_for_waits_for_the_office_and_round_one_for_the_appraiser(cycle):
    db, department_id, assessment_id = cycle
    _score_everything(db, assessment_id)
    cycle_store.lock_self_score(db, assessment_id, actor=_office(department_id))
    appraiser = Principal("snv", "Sở Nội vụ", Role.APPRAISER, frozenset({department_id}))
    rows = province_progress(db, 2026, viewer=appraiser, today=ROUND_1_DAY)
    assert [i.text for i in awaiting_appraisal(rows, appraiser)] == [
        "Sở Dân tộc và Tôn giáo: vòng thẩm định lần 1 đang mở đến 15/01/2027 (còn 24 ngày), còn 2 tiêu chí chưa thẩm định."]
    assert awaiting_appraisal(rows, _office(department_id)) == []  # the table is enough for anyone else

    version = assessment_store.list_scores(db, assessment_id)["1.1"].version
    assessment_store.save_appraisal(db, assessment_id, "1.1", version, points=2, request_explanation=True, actor="vp",
                        source=SourceDocument("25/KQ-SNV", ROUND_1_DAY), today=ROUND_1_DAY)
    office = _office(department_id)
    before = _items(db, department_id, assessment_id, ROUND_1_DAY, office)
    assert [i.text for i in before] == ["Sở Nội vụ yêu cầu giải trình 1 tiêu chí (1.1): vòng giải trình mở từ 16/01/2027."]
    during = _items(db, department_id, assessment_id, date(2027, 1, 23), office)
    assert during[0].urgent and during[0].text == (
        "Sở Nội vụ yêu cầu giải trình 1 tiêu chí (1.1): hạn 25/01/2027 (còn 2 ngày).")
    leader = Principal("lanhdao", "Lãnh đạo", Role.LEADER, frozenset({department_id}))
    assert _items(db, department_id, assessment_id, date(2027, 1, 23), leader) == []  # the leader writes no explanation
    version = assessment_store.list_scores(db, assessment_id)["1.1"].version
    assessment_store.save_explanation(db, assessment_id, "1.1", version, explanation="Đã ký 18/12/2025", actor=office, today=EXPLANATION_DAY)
    assert _items(db, department_id, assessment_id, date(2027, 1, 23), office) == []
