"""A year moved to another criteria set: what was entered follows each criterion's meaning, never its code alone
(issue 18). A score is never shown against another criterion; what cannot follow is taken off the year, audited."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring.access.auth import PermissionDenied, Principal, Role
from scoring.criteria.files import criteria_set_from_dict
from scoring.criteria.mapping import Carry, carry_over, propose_mapping
from scoring.errors import ConflictError
from scoring.store import assessment_state, assessment_store, audit_trail, criteria_store, department_store, evidence_store
from scoring.store.criteria_mapping_store import confirm_mapping
from tests.test_criteria_mapping import CURRENT, PREVIOUS, criteria, group, leaf

ADMIN = "quản trị"


def test_work_follows_kept_and_renumbered_criteria_and_nothing_else():
    carries = carry_over(propose_mapping(PREVIOUS, CURRENT), PREVIOUS, CURRENT, [l.code for l in PREVIOUS.leaves()])
    assert carries == [
        Carry("1.1", "1.1", ""),
        Carry("1.2", None, "tách thành 1.2, 1.3"),
        Carry("2.1.1", "2.1.1", ""),
        Carry("2.1.2", "2.1.2", ""),
        Carry("2.1.3", "2.2.1", ""),
        Carry("2.2", None, "tách thành 2.2.2, 2.2.3"),
        Carry("3.1.1", None, "gộp vào 3.1"),
        Carry("3.1.2", None, "gộp vào 3.1"),
        Carry("3.2", None, "không còn trong bộ mới"),  # this year's 3.2 is another criterion
    ]
    assert [c.text for c in carries[3:5]] == ["2.1.2", "2.1.3 → 2.2.1"]


def test_a_criterion_now_scored_another_way_keeps_nothing():
    tiers = {"kind": "tiers", "tiers": [{"label": "Kịp thời", "points": 2}, {"label": "Không kịp thời", "points": 1}]}
    renamed_tiers = {"kind": "tiers", "tiers": [{"label": "Đúng hạn", "points": 2}, {"label": "Chậm", "points": 1}]}

    def one(rule: dict):
        return criteria_set_from_dict({"name": "Bộ", "total_max": 2, "nodes": [
            {"code": "1", "name": "Chỉ đạo điều hành", "max": 2, "children": [
                {"code": "1.1", "name": "Ban hành kế hoạch CCHC năm", "max": 2, "rule": rule}]}]})

    def carried(old_rule, new_rule):
        old, new = one(old_rule), one(new_rule)
        return carry_over(propose_mapping(old, new), old, new, ["1.1"])[0]

    assert carried(tiers, tiers).new_code == "1.1"
    assert carried(tiers, {"kind": "value"}) == Carry("1.1", None, "tiêu chí 1.1 của bộ mới chấm theo cách khác")
    assert carried(tiers, renamed_tiers).new_code is None  # a tier is stored by its position: other tiers, other meaning
    assert carried({"kind": "value"}, {"kind": "value"}).new_code == "1.1"


@pytest.fixture
def year(db):
    department_id = department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=ADMIN)
    old_id = criteria_store.save_criteria_set(db, PREVIOUS, actor=ADMIN)
    new_id = criteria_store.save_criteria_set(db, CURRENT, actor=ADMIN)
    assessment = assessment_store.open_assessment(db, department_id, 2026, old_id)
    for code, points in (("1.1", "3"), ("1.2", "2"), ("2.1.3", "1,5"), ("3.2", "2")):
        assessment_store.save_self_score(db, assessment.id, code, 0, inputs={"value": points}, actor="vp")
    for number, codes in (("1/BC", ["2.1.3", "3.2"]), ("2/KH", ["1.1"])):
        evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(doc_type="Báo cáo", number=number),
                                    actor="vp", attachment=evidence_store.ATTACH_NUMBER, criteria=codes)
    return db, department_id, assessment.id, old_id, new_id


def _seen(db, department_id):
    return assessment_state.get_assessment(db, department_id, 2026).settings_version


def test_switching_moves_scores_and_evidence_links_by_meaning(year):
    db, department_id, assessment_id, old_id, new_id = year
    preview = assessment_store.criteria_switch_preview(db, assessment_id, new_id, actor=ADMIN)
    switched = assessment_store.switch_criteria_set(db, assessment_id, _seen(db, department_id), criteria_set_id=new_id,
                                                    actor=ADMIN)
    assert list(switched.carries) == preview
    scores = assessment_store.list_scores(db, assessment_id)
    assert {code: s.self_points for code, s in scores.items()} == {"1.1": D("3"), "2.2.1": D("1.5")}
    assert "3.2" not in scores  # last year's 3.2 was dropped; this year's 3.2 is another criterion, still unscored
    links = {e.number: e.criteria for e in evidence_store.list_evidence(db, department_id, 2026)}
    assert links == {"1/BC": ["2.2.1"], "2/KH": ["1.1"]}
    assert switched.summary.startswith("Giữ điểm và tài liệu của 2 tiêu chí (1 đổi mã: 2.1.3 → 2.2.1).")
    assert "Không chuyển được 2 tiêu chí sang bộ mới (1.2: tách thành 1.2, 1.3; 3.2: không còn trong bộ mới)" in switched.summary
    entries = audit_trail.audit_log(db, department_id, viewer=ADMIN)
    dropped = [e for e in entries if e.field == "không chuyển sang bộ mới"]
    assert sorted(e.new for e in dropped) == ["không còn trong bộ mới", "tách thành 1.2, 1.3"]
    assert any(e.field == "mã tiêu chí" and (e.old, e.new) == ("2.1.3", "2.2.1") for e in entries)
    assert any(e.field == "điểm tự chấm" and e.old == "2" and e.new == "—" for e in entries)  # the value kept in the log


def test_a_confirmed_mapping_decides_over_the_proposal(year):
    db, department_id, assessment_id, old_id, new_id = year
    proposal = propose_mapping(PREVIOUS, CURRENT)
    confirm_mapping(db, old_id, new_id, proposal.with_targets("3.2", ["3.2"], PREVIOUS, CURRENT), 0, actor=ADMIN)
    assessment_store.switch_criteria_set(db, assessment_id, _seen(db, department_id), criteria_set_id=new_id, actor=ADMIN)
    assert assessment_store.list_scores(db, assessment_id)["3.2"].self_points == D("2")  # a person said it is the same


def test_codes_that_swap_places_swap_their_scores(db):
    first = criteria("A", group("1", "Chỉ đạo điều hành", leaf("1.1", "Ban hành kế hoạch cải cách hành chính năm", 2),
                                leaf("1.2", "Tuyên truyền cải cách hành chính trên báo đài", 2)))
    second = criteria("B", group("1", "Chỉ đạo điều hành", leaf("1.1", "Tuyên truyền cải cách hành chính trên báo đài", 2),
                                 leaf("1.2", "Ban hành kế hoạch cải cách hành chính năm", 2)))
    department_id = department_store.create_department(db, "Sở Xây dựng", ["Văn phòng"], actor=ADMIN)
    assessment = assessment_store.open_assessment(db, department_id, 2026, criteria_store.save_criteria_set(db, first, actor=ADMIN))
    assessment_store.save_self_score(db, assessment.id, "1.1", 0, inputs={"value": "2"}, actor="vp")
    assessment_store.save_self_score(db, assessment.id, "1.2", 0, inputs={"value": "0,5"}, actor="vp")
    assessment_store.switch_criteria_set(db, assessment.id, _seen(db, department_id),
                                         criteria_set_id=criteria_store.save_criteria_set(db, second, actor=ADMIN), actor=ADMIN)
    scores = assessment_store.list_scores(db, assessment.id)
    assert (scores["1.1"].self_points, scores["1.2"].self_points) == (D("0.5"), D("2"))


def test_the_preview_is_for_those_who_may_switch_and_a_stale_switch_moves_nothing(year):
    db, department_id, assessment_id, old_id, new_id = year
    unit = Principal("phong", "Phòng", Role.UNIT, frozenset({department_id}), unit="Văn phòng")
    with pytest.raises(PermissionDenied):
        assessment_store.criteria_switch_preview(db, assessment_id, new_id, actor=unit)
    seen = _seen(db, department_id)
    assessment_store.switch_criteria_set(db, assessment_id, seen, criteria_set_id=new_id, actor=ADMIN)
    before = assessment_store.list_scores(db, assessment_id)
    with pytest.raises(ConflictError):
        assessment_store.switch_criteria_set(db, assessment_id, seen, criteria_set_id=old_id, actor=ADMIN)
    assert assessment_store.list_scores(db, assessment_id) == before
