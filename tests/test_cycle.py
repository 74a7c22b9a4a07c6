"""The yearly appraisal cycle: year settings, the published index step by step, locking, appraisal rounds,
year-over-year comparison. Every expected number is computed by hand in the comments."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.assessment.appraisal import AreaLoss, LeafAppraisal, points_lost_by_area, with_final_appraisals
from scoring.assessment.comparison import compare_years
from scoring.assessment.engine import LeafEntry, roll_up
from scoring.assessment.index import final_index
from scoring.assessment.locking import (
    BLOCKER_EVIDENCE_DETAILS,
    BLOCKER_NO_EVIDENCE,
    BLOCKER_UNSCORED,
    Blocker,
    EvidenceRef,
    LockState,
    lock_blockers,
)
from scoring.assessment.settings import (
    PROVINCE_GROUP_BANDS,
    QUALITY_GRADE_BANDS,
    ROUND_APPRAISAL_1,
    ROUND_APPRAISAL_2,
    ROUND_EXPLANATION,
    ROUND_SELF_SCORING,
    Band,
    Round,
    YearSettings,
    band_for,
    band_range_text,
    copy_forward,
    default_settings,
    settings_problems,
)
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import InputError
from scoring.store.evidence_store import EvidenceView

D = Decimal


def value_leaf(code: str, name: str, max_points: int) -> dict:
    return {"code": code, "name": name, "max": max_points, "rule": {"kind": "value"}}


def survey_leaf(code: str, name: str, max_points: int) -> dict:
    return {"code": code, "name": name, "max": max_points, "rule": {"kind": "survey"}}


AREA_1 = {
    "code": "1", "name": "Công tác chỉ đạo, điều hành CCHC", "max": 70, "children": [
        {"code": "1.1", "name": "Kế hoạch CCHC", "max": 40, "children": [
            value_leaf("1.1.1", "Ban hành kế hoạch CCHC năm", 20),
            value_leaf("1.1.2", "Mức độ thực hiện kế hoạch", 20),
        ]},
        value_leaf("1.2", "Báo cáo CCHC", 30),
    ],
}
# 70 appraised + 30 survey, the split the default settings expect.
WITH_SURVEY = criteria_set_from_dict({
    "name": "Bộ thử có điều tra XHH", "total_max": 100, "nodes": [
        AREA_1,
        {"code": "2", "name": "Tác động của CCHC", "max": 30, "children": [
            survey_leaf("2.1", "Hài lòng của công chức", 12),
            survey_leaf("2.2", "Hài lòng của người dân", 18),
        ]},
    ],
})
# Only the appraised part: the survey total comes as `survey_points` out of the year's share.
WITHOUT_SURVEY = criteria_set_from_dict({"name": "Bộ thử không có phần điều tra", "total_max": 70, "nodes": [AREA_1]})

SETTINGS = default_settings(2026)
NO_SURVEY_YEAR = dataclasses.replace(SETTINGS, survey_run=False)


def entries(self_points: dict | None = None, appraised: dict | None = None, survey: dict | None = None,
            not_applicable: tuple[str, ...] = ()) -> dict[str, LeafEntry]:
    found: dict[str, LeafEntry] = {}
    for code, points in (self_points or {}).items():
        found[code] = LeafEntry(code, self_points=D(points))
    for code, points in (appraised or {}).items():
        found.setdefault(code, LeafEntry(code)).appraised_points = D(points)
    for code, points in (survey or {}).items():
        found[code] = LeafEntry(code, inputs={"survey": points})
    for code in not_applicable:
        found[code] = LeafEntry(code, not_applicable=True)
    return found


SELF = {"1.1.1": 19, "1.1.2": 18, "1.2": 26}  # 63 of 70
APPRAISED = {"1.1.1": 18, "1.1.2": 17, "1.2": 25}  # 60 of 70
SURVEY = {"2.1": 10, "2.2": 15}  # 25 of 30


def index_of(criteria_set, scored, settings=SETTINGS, bonus=0, penalty=0, **kwargs):
    return final_index(roll_up(criteria_set, scored), settings, bonus, penalty, criteria_set=criteria_set, **kwargs)


def step_table(breakdown) -> list[tuple[str, str]]:
    return [(step.label, step.display) for step in breakdown.steps]


# --------------------------------------------------------------------------- final index


def test_bonus_over_cap_is_capped_with_a_note_and_penalty_is_subtracted():
    breakdown = index_of(WITH_SURVEY, entries(SELF, APPRAISED, SURVEY), bonus=4, penalty=1)
    # 60 appraised + 25 survey + min(4, 3) bonus − 1 penalty = 87 of 70 + 30 = 100 → 87% → Nhóm B.
    assert step_table(breakdown) == [
        ("Điểm thẩm định các tiêu chí (không tính điều tra XHH)", "60 điểm"),
        ("Điểm điều tra XHH", "25 điểm"),
        ("Điểm thưởng (tối đa 3 điểm)", "3 điểm"),
        ("Điểm trừ (tối đa 5 điểm)", "1 điểm"),
        ("Tổng điểm đạt được", "87 điểm"),
        ("Tổng điểm tối đa áp dụng", "100 điểm"),
        ("Chỉ số = tổng điểm / tối đa", "87%"),
        ("Xếp loại: Nhóm B", "—"),
    ]
    notes = [step.note for step in breakdown.steps]
    assert notes[0] == "60/70 điểm tối đa áp dụng."
    assert notes[1] == "25/30 điểm, cộng từ 2 tiêu chí điều tra XHH."
    assert notes[2] == "Đề nghị 4 điểm, vượt mức tối đa 3 điểm: chỉ tính 3 điểm."
    assert notes[3] == ""  # within the cap: nothing to explain
    assert notes[4] == "60 + 25 + 3 − 1 = 87"
    assert notes[5] == "70 (các tiêu chí) + 30 (điều tra XHH)"
    assert notes[6] == "87 / 100 × 100 = 87%"
    assert notes[7] == "Chỉ số 87%: từ 80% đến dưới 90%."
    assert (breakdown.percent, breakdown.band.code, breakdown.achieved_points) == (D("87.00"), "B", D(87))
    assert breakdown.basis == "thẩm định" and breakdown.survey_included
    assert breakdown.problems == ()


def test_penalty_over_cap_is_capped_and_80_percent_exactly_is_group_b():
    breakdown = index_of(WITH_SURVEY, entries(SELF, APPRAISED, SURVEY), penalty=7)
    # 60 + 25 + 0 − min(7, 5) = 80 of 100 → 80,00% is the lowest value of Nhóm B.
    penalty_step = breakdown.steps[3]
    assert (penalty_step.label, penalty_step.value) == ("Điểm trừ (tối đa 5 điểm)", D(5))
    assert penalty_step.note == "Đề nghị 7 điểm, vượt mức tối đa 5 điểm: chỉ trừ 5 điểm."
    assert (breakdown.percent, breakdown.band.label) == (D("80.00"), "Nhóm B")

    cut_more = entries(SELF, {**APPRAISED, "1.2": "24.75"}, SURVEY)
    below = index_of(WITH_SURVEY, cut_more, penalty=5)  # 59,75 + 25 − 5 = 79,75 → Nhóm C
    assert (below.percent, below.band.label) == (D("79.75"), "Nhóm C")
    assert below.steps[-1].note == "Chỉ số 79,75%: dưới 80%."


def test_band_boundary_at_90_is_read_from_the_rounded_percentage():
    scored = entries(SELF, APPRAISED)
    # 60 of 70 + survey 29,995 of 30 = 89,995 of 100 → published as 90,00% (half up) → Nhóm A.
    at_line = index_of(WITHOUT_SURVEY, scored, survey_points=D("29.995"))
    assert (at_line.percent, at_line.band.label) == (D("90.00"), "Nhóm A")
    assert at_line.steps[1].note == "29,995/30 điểm, theo kết quả tỉnh công bố."
    assert at_line.steps[6].note == "89,995 / 100 × 100 = 90%"
    # 89,994 → 89,99% → Nhóm B.
    just_below = index_of(WITHOUT_SURVEY, scored, survey_points="29,994")
    assert (just_below.percent, just_below.band.label) == (D("89.99"), "Nhóm B")
    assert at_line.problems == just_below.problems == ()
    # Half up, not to even: 89,985 → 89,99% (banker's rounding would publish 89,98%).
    assert index_of(WITHOUT_SURVEY, scored, survey_points=D("29.985")).percent == D("89.99")


@pytest.mark.parametrize(("percent", "code"), [
    ("100", "A"), ("90.00", "A"), ("89.99", "B"), ("80.00", "B"), ("79.99", "C"), ("0", "C"),
])
def test_band_for_province_groups(percent, code):
    assert band_for(D(percent), SETTINGS).code == code


@pytest.mark.parametrize(("percent", "label"), [
    ("90", "Tốt"), ("89.99", "Khá"), ("80", "Khá"), ("79.99", "Trung bình"), ("65", "Trung bình"),
    ("64.99", "Yếu"), ("0", "Yếu"),
])
def test_band_for_quality_grades(percent, label):
    assert band_for(D(percent), default_settings(2026, QUALITY_GRADE_BANDS)).label == label


def test_band_range_texts():
    assert [band_range_text(b, QUALITY_GRADE_BANDS) for b in QUALITY_GRADE_BANDS] == [
        "từ 90% trở lên", "từ 80% đến dưới 90%", "từ 65% đến dưới 80%", "dưới 65%",
    ]


def test_band_for_refuses_a_percentage_no_band_covers():
    settings = dataclasses.replace(SETTINGS, bands=(Band("Đạt", D(50), "dat"),))
    with pytest.raises(InputError, match="không thuộc mức xếp loại nào"):
        band_for(D(40), settings)


def test_year_without_survey_rescales_the_appraised_part_to_100():
    # Survey leaves are left out with their maximum: 60 of 70 → 85,714…% → 85,71%.
    breakdown = index_of(WITH_SURVEY, entries(SELF, APPRAISED), settings=NO_SURVEY_YEAR)
    assert step_table(breakdown) == [
        ("Điểm thẩm định các tiêu chí (không tính điều tra XHH)", "60 điểm"),
        ("Điểm điều tra XHH", "—"),
        ("Điểm thưởng (tối đa 3 điểm)", "0 điểm"),
        ("Điểm trừ (tối đa 5 điểm)", "0 điểm"),
        ("Tổng điểm đạt được", "60 điểm"),
        ("Tổng điểm tối đa áp dụng", "70 điểm"),
        ("Năm không điều tra XHH: quy đổi phần thẩm định về thang 100", "85,71%"),
        ("Xếp loại: Nhóm B", "—"),
    ]
    assert breakdown.steps[1].note == (
        "Năm 2026 không điều tra XHH: không tính (các tiêu chí điều tra XHH, tối đa 30 điểm, để ra ngoài)."
    )
    assert breakdown.steps[4].note == "60 + 0 − 0 = 60"
    assert breakdown.steps[5].note == "Chỉ phần các tiêu chí: 70 (năm không điều tra XHH)"
    assert breakdown.steps[6].note == "60 / 70 × 100 = 85,71%"
    assert (breakdown.percent, breakdown.survey_included, breakdown.problems) == (D("85.71"), False, ())

    # 56 of 70 is exactly 80% → Nhóm B; 63 of 70 exactly 90% → Nhóm A.
    assert index_of(WITH_SURVEY, entries(SELF, {"1.1.1": 16, "1.1.2": 15, "1.2": 25}),
                    settings=NO_SURVEY_YEAR).band.code == "B"
    assert index_of(WITH_SURVEY, entries(SELF, {"1.1.1": 18, "1.1.2": 20, "1.2": 25}),
                    settings=NO_SURVEY_YEAR).band.code == "A"


def test_survey_points_entered_in_a_year_without_survey_are_not_counted():
    breakdown = index_of(WITHOUT_SURVEY, entries(SELF, APPRAISED), settings=NO_SURVEY_YEAR, survey_points=20)
    assert breakdown.percent == D("85.71")
    assert breakdown.problems == (
        "Đã nhập điểm điều tra XHH nhưng năm này không điều tra XHH: điểm đó không được tính.",
    )


def test_not_applicable_criterion_leaves_points_and_maximum_out():
    scored = entries(SELF, {"1.1.1": 18, "1.1.2": 17}, SURVEY, not_applicable=("1.2",))
    breakdown = index_of(WITH_SURVEY, scored)
    # 35 of 40 + 25 of 30 = 60 of 70 → 85,71%.
    assert breakdown.steps[0].note == "35/40 điểm tối đa áp dụng; 1 tiêu chí không đánh giá: không tính điểm và điểm tối đa."
    assert (breakdown.achieved_points, breakdown.applicable_max, breakdown.percent) == (D(60), D(70), D("85.71"))


def test_unfinished_appraisal_gives_no_index_rather_than_a_cut():
    scored = entries(SELF, {"1.1.1": 18, "1.1.2": 17}, SURVEY)  # 1.2 not appraised yet
    breakdown = index_of(WITH_SURVEY, scored)
    assert (breakdown.percent, breakdown.band, breakdown.achieved_points) == (None, None, None)
    assert breakdown.steps[0].value is None
    assert breakdown.steps[0].note == "Còn 1 tiêu chí chưa thẩm định."
    assert breakdown.problems == ("Còn 1/3 tiêu chí chưa thẩm định: chưa tính được chỉ số.",)
    assert step_table(breakdown)[-2:] == [("Chỉ số = tổng điểm / tối đa", "—"), ("Xếp loại: chưa xác định", "—")]


def test_self_basis_uses_self_points_and_counts_unscored_leaves_as_zero():
    full = index_of(WITH_SURVEY, entries(SELF, APPRAISED, SURVEY), use_appraised=False)
    # 63 self + 25 survey = 88 → 88% → Nhóm B.
    assert full.steps[0].label == "Điểm tự chấm các tiêu chí (không tính điều tra XHH)"
    assert (full.basis, full.percent, full.band.code) == ("tự chấm", D("88.00"), "B")

    rescaled = index_of(WITH_SURVEY, entries(SELF), settings=NO_SURVEY_YEAR, use_appraised=False)
    # 63 of 70 = 90% exactly → Nhóm A.
    assert step_table(rescaled)[6:] == [("Năm không điều tra XHH: quy đổi phần tự chấm về thang 100", "90%"),
                                        ("Xếp loại: Nhóm A", "—")]

    partial = index_of(WITH_SURVEY, entries({"1.1.1": 19, "1.1.2": 18}, survey=SURVEY), use_appraised=False)
    # 37 + 0 (1.2 unscored) + 25 = 62 → 62%, with the gap said out loud.
    assert partial.percent == D("62.00")
    assert partial.problems == ("Còn 1/3 tiêu chí chưa tự chấm (đang tính 0 điểm).",)


def test_missing_survey_results_give_no_index():
    from_leaves = index_of(WITH_SURVEY, entries(SELF, APPRAISED, {"2.1": 10}))  # 2.2 not published yet
    assert from_leaves.percent is None
    assert from_leaves.problems == ("Còn 1/2 tiêu chí điều tra XHH chưa có điểm: chưa tính được chỉ số.",)

    no_leaves = index_of(WITHOUT_SURVEY, entries(SELF, APPRAISED))
    assert no_leaves.percent is None
    assert no_leaves.steps[1].note == "Chưa có kết quả (tối đa 30 điểm)."
    assert no_leaves.problems == ("Chưa có điểm điều tra XHH: chưa tính được chỉ số.",)


def test_survey_points_given_override_the_survey_leaves():
    breakdown = index_of(WITH_SURVEY, entries(SELF, APPRAISED, SURVEY), survey_points=D("27.5"))
    assert breakdown.achieved_points == D("87.5")  # 60 + 27,5
    assert breakdown.percent == D("87.50")


def test_index_stays_between_0_and_100_percent():
    full_marks = entries(SELF, {"1.1.1": 20, "1.1.2": 20, "1.2": 30}, {"2.1": 12, "2.2": 18})
    top = index_of(WITH_SURVEY, full_marks, bonus=3)  # 103 of 100
    assert top.percent == D("100")
    assert top.steps[6].note == "103 / 100 × 100 = 103%; chỉ số không vượt quá 100%"

    bottom = index_of(WITH_SURVEY, entries(SELF, {"1.1.1": 1, "1.1.2": 0, "1.2": 0}, {"2.1": 0, "2.2": 0}),
                      penalty=5)  # 1 − 5 = −4
    assert bottom.achieved_points == D(-4)
    assert (bottom.percent, bottom.band.code) == (D(0), "C")
    assert bottom.steps[6].note == "-4 / 100 × 100 = -4%; chỉ số không thấp hơn 0%"


@given(
    appraised=st.lists(st.integers(min_value=0, max_value=80), min_size=3, max_size=3),
    survey=st.integers(min_value=0, max_value=120),
    bonus=st.integers(min_value=0, max_value=40),
    penalty=st.integers(min_value=0, max_value=40),
)
def test_index_is_always_a_banded_percentage_within_bounds(appraised, survey, bonus, penalty):
    # Quarter points: leaf maxima 20, 20 and 30 (80 quarters fit the first two; the third is capped below).
    points = dict(zip(("1.1.1", "1.1.2", "1.2"), (D(q) / 4 for q in appraised)))
    breakdown = index_of(WITHOUT_SURVEY, entries(SELF, points), bonus=D(bonus) / 4, penalty=D(penalty) / 4,
                         survey_points=D(survey) / 4)
    assert D(0) <= breakdown.percent <= D(100)
    assert breakdown.percent == breakdown.percent.quantize(D("0.01"))
    assert breakdown.band == band_for(breakdown.percent, SETTINGS)
    expected = sum(points.values()) + D(survey) / 4 + min(D(bonus) / 4, D(3)) - min(D(penalty) / 4, D(5))
    assert breakdown.achieved_points == expected


def test_split_mismatches_are_reported_but_the_set_governs():
    other_share = dataclasses.replace(SETTINGS, survey_share=D(28))
    breakdown = index_of(WITH_SURVEY, entries(SELF, APPRAISED, SURVEY), settings=other_share)
    assert breakdown.percent == D("85.00")  # 85 of 100: the set's 30 survey points, not 28
    assert breakdown.problems == (
        ("Phần điều tra XHH trong bộ tiêu chí tối đa 30 điểm, khác tỷ trọng 28 điểm trong thiết lập năm 2026; "
         "chỉ số tính theo bộ tiêu chí."),
    )
    smaller_share = dataclasses.replace(SETTINGS, survey_share=D(20))
    unbalanced = index_of(WITHOUT_SURVEY, entries(SELF, APPRAISED), settings=smaller_share, survey_points=20)
    assert unbalanced.percent == D("88.89")  # 80 of 90
    assert unbalanced.problems == (
        ("Bộ tiêu chí (70 điểm) không có phần điều tra XHH; cộng tỷ trọng điều tra 20 điểm thành 90, không "
         "phải 100: kiểm tra lại tỷ trọng trong thiết lập năm."),
    )


def test_bad_bonus_penalty_or_survey_points_are_refused():
    scored = entries(SELF, APPRAISED, SURVEY)
    with pytest.raises(InputError, match=r"^Điểm thưởng phải nhập số không âm \(đang là -1\)\.$"):
        index_of(WITH_SURVEY, scored, bonus=-1)
    with pytest.raises(InputError, match="^Điểm trừ «hai» không phải là số.$"):
        index_of(WITH_SURVEY, scored, penalty="hai")
    with pytest.raises(InputError, match="^Điểm điều tra XHH 31 vượt điểm tối đa 30 của phần điều tra XHH.$"):
        index_of(WITH_SURVEY, scored, survey_points=31)


def test_rollup_of_another_set_is_refused():
    rollup = roll_up(WITHOUT_SURVEY, entries(SELF, APPRAISED))
    with pytest.raises(InputError, match="thiếu tiêu chí 2.1"):
        final_index(rollup, SETTINGS, 0, 0, criteria_set=WITH_SURVEY)


def test_every_explanation_is_nfc_vietnamese():
    breakdowns = [
        index_of(WITH_SURVEY, entries(SELF, APPRAISED, SURVEY), bonus=5, penalty=9),
        index_of(WITH_SURVEY, entries(SELF, APPRAISED), settings=NO_SURVEY_YEAR),
        index_of(WITH_SURVEY, entries(SELF, {"1.1.1": 18}, SURVEY)),
        index_of(WITHOUT_SURVEY, entries(SELF, APPRAISED), settings=dataclasses.replace(SETTINGS, survey_share=D(20))),
    ]
    texts = [t for b in breakdowns for s in b.steps for t in (s.label, s.note, s.display)]
    texts += [p for b in breakdowns for p in b.problems]
    assert texts and all(unicodedata.normalize("NFC", t) == t for t in texts)


# --------------------------------------------------------------------------- locking


def test_lock_blockers_name_each_criterion():
    scored = entries({"1.1.1": 18, "1.1.2": 25})  # 25 is above 1.1.2's maximum of 20: not a score
    evidence = {
        "1.1.1": [EvidenceRef("12/KH-SNV", date(2026, 1, 5), "Kế hoạch CCHC năm 2026")],
        "1.2": [EvidenceRef("", None, "Báo cáo CCHC quý I")],
    }
    explanations = {"1.1.2": "Đã giải trình cách tính trong báo cáo tự đánh giá."}
    assert lock_blockers(WITH_SURVEY, scored, evidence, explanations) == [
        Blocker("1.1.2", "Tiêu chí 1.1.2: chưa chấm điểm — Điểm tự chấm 25 phải từ 0 đến 20.", BLOCKER_UNSCORED),
        Blocker("1.2", "Tiêu chí 1.2: chưa chấm điểm.", BLOCKER_UNSCORED),
        Blocker("1.2", "Tiêu chí 1.2: tài liệu «Báo cáo CCHC quý I» chưa có số, ký hiệu và ngày ban hành.",
                BLOCKER_EVIDENCE_DETAILS),
    ]  # survey leaves 2.1 and 2.2 are unscored but not self-scored: no blocker


def test_lock_blockers_need_evidence_or_an_explanation_and_skip_not_applicable_leaves():
    scored = entries({"1.1.1": 18, "1.1.2": 17}, not_applicable=("1.2",))
    evidence = {"1.1.1": [EvidenceRef("12/KH-SNV", None, "Kế hoạch CCHC năm 2026")]}
    assert lock_blockers(WITH_SURVEY, scored, evidence, {"1.1.2": "  "}) == [
        Blocker("1.1.1", "Tiêu chí 1.1.1: tài liệu «Kế hoạch CCHC năm 2026» chưa có ngày ban hành.",
                BLOCKER_EVIDENCE_DETAILS),
        Blocker("1.1.2", "Tiêu chí 1.1.2: chưa có tài liệu kiểm chứng và chưa giải trình cách chấm điểm.",
                BLOCKER_NO_EVIDENCE),
    ]
    complete = {
        "1.1.1": [EvidenceRef("12/KH-SNV", date(2026, 1, 5), "Kế hoạch CCHC năm 2026")],
        "1.1.2": [EvidenceRef("45/BC-SNV", date(2026, 12, 10), "Báo cáo kết quả thực hiện kế hoạch")],
    }
    assert lock_blockers(WITH_SURVEY, scored, complete, {}) == []


def test_lock_blockers_accept_repository_evidence_views():
    view = EvidenceView(id=7, year=2026, doc_type="Báo cáo", number="", issued_on=date(2026, 12, 10), issuer="Sở",
                        summary="Kết quả CCHC năm 2026", file_key=None, file_name="", file_kind="", file_size=0,
                        link="", version=1, criteria=["1.1.1"], activities=[])
    scored = entries({"1.1.1": 18, "1.1.2": 17, "1.2": 20})
    blockers = lock_blockers(WITH_SURVEY, scored, {"1.1.1": [view]}, {"1.1.2": "Giải trình", "1.2": "Giải trình"})
    assert blockers == [Blocker(
        "1.1.1", "Tiêu chí 1.1.1: tài liệu «Báo cáo, ngày 10/12/2026: Kết quả CCHC năm 2026» chưa có số, ký hiệu.",
        BLOCKER_EVIDENCE_DETAILS,
    )]


def test_lock_reopen_and_lock_again_keep_the_history():
    locked_at = datetime(2026, 12, 18, 2, 30, tzinfo=UTC)
    state = LockState()
    assert state.status_text == "Chưa chốt điểm tự chấm."
    with pytest.raises(InputError, match="còn 1 vướng mắc:\n- Tiêu chí 1.2: chưa chấm điểm."):
        state.lock(locked_at, "Nguyễn Văn An", [Blocker("1.2", "Tiêu chí 1.2: chưa chấm điểm.")])
    with pytest.raises(InputError, match="chưa được chốt"):
        state.reopen(locked_at, "Trần Thị Bình", "Sửa điểm")

    state = state.lock(locked_at, "Nguyễn Văn An", [])
    assert (state.locked, state.locked_at, state.locked_by) == (True, locked_at, "Nguyễn Văn An")
    assert state.status_text == "Đã chốt điểm tự chấm lúc 09:30 18/12/2026 (Nguyễn Văn An)."
    with pytest.raises(InputError, match="đã được chốt lúc 09:30 18/12/2026"):
        state.lock(locked_at, "Nguyễn Văn An", [])
    with pytest.raises(InputError, match="Cần ghi lý do"):
        state.reopen(locked_at, "Trần Thị Bình", " ")

    reopened_at = datetime(2026, 12, 19, 1, 0, tzinfo=UTC)
    state = state.reopen(reopened_at, "Trần Thị Bình", "Bổ sung tài liệu tiêu chí 1.2")
    assert (state.locked, state.locked_at, state.locked_by) == (False, None, "")
    assert [(r.by, r.reason, r.previous_locked_at, r.previous_locked_by) for r in state.reopened] == [
        ("Trần Thị Bình", "Bổ sung tài liệu tiêu chí 1.2", locked_at, "Nguyễn Văn An"),
    ]
    state = state.lock(datetime(2026, 12, 20, 3, 0, tzinfo=UTC), "Nguyễn Văn An", [])
    assert state.status_text == (
        "Đã chốt điểm tự chấm lúc 10:00 20/12/2026 (Nguyễn Văn An); đã mở lại 1 lần, lần gần nhất lúc "
        "08:00 19/12/2026 (Trần Thị Bình): Bổ sung tài liệu tiêu chí 1.2."
    )
    assert LockState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


# --------------------------------------------------------------------------- appraisal rounds

TWO_ROUNDS = LeafAppraisal(
    round1_points=D(15), round1_remark="Kế hoạch ban hành chậm", explanation_requested=True,
    explanation="Kế hoạch ban hành ngày 18/12, trước hạn 20/12", supplementary_evidence_ids=(41, 42),
    round2_points=D(17), round2_remark="Chấp nhận một phần giải trình",
)
APPRAISALS = {
    "1.1.1": TWO_ROUNDS,
    "1.1.2": LeafAppraisal(round1_points=D(18), round1_remark="Đạt"),
    "1.2": LeafAppraisal(round1_points=D(24)),
}


def test_round_two_decides_and_round_one_stands_without_it():
    assert (TWO_ROUNDS.final_appraised_points, TWO_ROUNDS.final_remark) == (D(17), "Chấp nhận một phần giải trình")
    assert TWO_ROUNDS.difference_vs_self(D(19)) == D(-2)  # self 19, finally 17: 2 points cut
    only_round_one = APPRAISALS["1.1.2"]
    assert (only_round_one.final_appraised_points, only_round_one.final_remark) == (D(18), "Đạt")
    assert only_round_one.difference_vs_self(D(18)) == D(0)
    assert LeafAppraisal().final_appraised_points is None
    assert LeafAppraisal().difference_vs_self(D(5)) is None
    assert only_round_one.difference_vs_self(None) is None


def test_appraisal_problems():
    leaf = WITH_SURVEY.node("1.1.1")
    assert TWO_ROUNDS.problems(leaf) == []
    assert LeafAppraisal(round1_points=D(21), round2_points=D(-1)).problems(leaf) == [
        "Tiêu chí 1.1.1: điểm thẩm định lần 1 21 phải từ 0 đến 20.",
        "Tiêu chí 1.1.1: điểm thẩm định lần 2 -1 phải từ 0 đến 20.",
    ]
    assert LeafAppraisal(round2_points=D(10)).problems(leaf) == [
        "Tiêu chí 1.1.1: có điểm thẩm định lần 2 nhưng chưa có điểm thẩm định lần 1.",
    ]
    deduction_set = criteria_set_from_dict({"name": "Điểm trừ", "total_max": 1, "nodes": [
        {"code": "1", "name": "Chỉ đạo", "max": 1, "children": [
            value_leaf("1.1", "Kế hoạch", 1),
            {"code": "1.2", "name": "Báo cáo chậm", "max": 0,
             "rule": {"kind": "deduction", "per_occurrence": 0.5, "floor": -1}},
        ]},
    ]})
    deduction = deduction_set.node("1.2")
    assert LeafAppraisal(round1_points=D(-1)).problems(deduction) == []
    assert LeafAppraisal(round1_points=D("-1.5")).problems(deduction) == [
        "Tiêu chí 1.2: điểm thẩm định lần 1 -1,5 phải từ -1 đến 0.",
    ]


def test_points_lost_by_area():
    rollup_self = roll_up(WITH_SURVEY, entries(SELF, survey=SURVEY))
    # Area 1: self 19 + 18 + 26 = 63; appraised 17 (round 2) + 18 + 24 = 59 → 4 lost.
    # Area 2: survey points count the same on both sides.
    assert points_lost_by_area(WITH_SURVEY, rollup_self, APPRAISALS) == [
        AreaLoss("1", "Công tác chỉ đạo, điều hành CCHC", D(63), D(59), D(4)),
        AreaLoss("2", "Tác động của CCHC", D(25), D(25), D(0)),
    ]
    unfinished = {code: a for code, a in APPRAISALS.items() if code != "1.2"}
    assert points_lost_by_area(WITH_SURVEY, rollup_self, unfinished)[0] == AreaLoss(
        "1", "Công tác chỉ đạo, điều hành CCHC", D(63), None, None
    )
    with pytest.raises(InputError, match="điểm thẩm định lần 1 31 phải từ 0 đến 30"):
        points_lost_by_area(WITH_SURVEY, rollup_self, {**APPRAISALS, "1.2": LeafAppraisal(round1_points=D(31))})


def test_final_appraisals_feed_the_index():
    base = entries(SELF, survey=SURVEY)
    base["1.2"].appraised_points = D(30)  # stale appraised points on an entry: the appraisals replace them
    round_one = {code: dataclasses.replace(a, round2_points=None) for code, a in APPRAISALS.items()}
    after_round_one = with_final_appraisals(base, round_one)
    assert after_round_one["1.1.1"].appraised_points == D(15)
    assert after_round_one["1.1.1"].appraisal_remark == "Kế hoạch ban hành chậm"
    # Round 1: 15 + 18 + 24 + 25 survey = 82 → 82%; round 2 lifts 1.1.1 to 17 → 84%.
    assert index_of(WITH_SURVEY, after_round_one).percent == D("82.00")
    assert index_of(WITH_SURVEY, with_final_appraisals(base, APPRAISALS)).percent == D("84.00")
    # Without an appraisal, 1.2 loses its stale points: the index waits for it.
    partial = with_final_appraisals(base, {k: v for k, v in APPRAISALS.items() if k != "1.2"})
    assert partial["1.2"].appraised_points is None
    assert index_of(WITH_SURVEY, partial).percent is None


def test_leaf_appraisal_round_trip_and_bad_data():
    assert LeafAppraisal.from_dict(json.loads(json.dumps(TWO_ROUNDS.to_dict()))) == TWO_ROUNDS
    quarter = LeafAppraisal(round1_points=D("17.25"))
    assert LeafAppraisal.from_dict(json.loads(json.dumps(quarter.to_dict()))) == quarter
    with pytest.raises(InputError, match="round1_points.*phải là số"):
        LeafAppraisal.from_dict({"round1_points": "mười"})
    with pytest.raises(InputError, match="danh sách số nguyên"):
        LeafAppraisal.from_dict({"supplementary_evidence_ids": ["41"]})


# --------------------------------------------------------------------------- year settings


def test_default_settings_2026():
    settings = default_settings(2026)
    assert [(r.code, r.label, r.opens, r.closes) for r in settings.rounds] == [
        (ROUND_SELF_SCORING, "Tự chấm điểm", date(2026, 11, 1), date(2026, 12, 20)),
        (ROUND_APPRAISAL_1, "Thẩm định lần 1", date(2026, 12, 21), date(2027, 1, 15)),
        (ROUND_EXPLANATION, "Giải trình", date(2027, 1, 16), date(2027, 1, 25)),
        (ROUND_APPRAISAL_2, "Thẩm định lần 2", date(2027, 1, 26), date(2027, 2, 10)),
    ]
    assert (settings.survey_run, settings.survey_share, settings.bonus_cap, settings.penalty_cap) == (
        True, D(30), D(3), D(5))
    assert settings.bands == PROVINCE_GROUP_BANDS
    assert settings_problems(settings) == []
    assert settings_problems(default_settings(2026, QUALITY_GRADE_BANDS)) == []
    assert settings.get_round(ROUND_EXPLANATION).period_text() == "16/01/2027 – 25/01/2027"


def test_rounds_open_on_their_dates_inclusive():
    settings = default_settings(2026)
    assert [r.code for r in settings.open_rounds(date(2026, 12, 20))] == [ROUND_SELF_SCORING]
    assert [r.code for r in settings.open_rounds(date(2026, 12, 21))] == [ROUND_APPRAISAL_1]
    assert settings.open_rounds(date(2026, 10, 31)) == []
    assert settings.open_rounds(date(2027, 2, 11)) == []
    unscheduled = Round(ROUND_APPRAISAL_2, "Thẩm định lần 2")
    assert not unscheduled.is_open_on(date(2027, 1, 30))
    assert unscheduled.period_text() == "chưa đặt lịch"
    assert Round(ROUND_EXPLANATION, "Giải trình", opens=date(2027, 1, 16)).is_open_on(date(2027, 6, 1))


def test_copy_forward_moves_every_date_by_the_years_between():
    next_year = copy_forward(default_settings(2026), 2027)
    assert next_year == default_settings(2027)
    assert settings_problems(next_year) == []

    leap = dataclasses.replace(
        default_settings(2027),
        rounds=(*default_settings(2027).rounds[:3],
                Round(ROUND_APPRAISAL_2, "Thẩm định lần 2", date(2028, 2, 1), date(2028, 2, 29))),
        survey_share=D("31.5"),
    )
    moved = copy_forward(leap, 2028)
    assert moved.get_round(ROUND_APPRAISAL_2).closes == date(2029, 2, 28)  # 2029 has no 29 February
    assert moved.get_round(ROUND_SELF_SCORING).opens == date(2028, 11, 1)
    assert (moved.year, moved.survey_share, moved.bands) == (2028, D("31.5"), leap.bands)
    assert copy_forward(leap, 2031).get_round(ROUND_APPRAISAL_2).closes == date(2032, 2, 29)  # leap to leap
    assert copy_forward(leap, 2026).get_round(ROUND_APPRAISAL_2).closes == date(2027, 2, 28)  # backwards too
    unscheduled = dataclasses.replace(leap, rounds=(Round(ROUND_SELF_SCORING, "Tự chấm điểm"),))
    assert copy_forward(unscheduled, 2030).rounds == (Round(ROUND_SELF_SCORING, "Tự chấm điểm"),)


def test_settings_problems_in_vietnamese():
    good = default_settings(2026)
    rounds = (
        good.rounds[0],
        dataclasses.replace(good.rounds[1], opens=date(2026, 12, 15)),  # before self-scoring closes
        dataclasses.replace(good.rounds[2], opens=date(2027, 1, 26), closes=date(2027, 1, 16)),
        Round("hop_hoi_dong", "Họp hội đồng", date(2027, 3, 1), date(2027, 3, 2)),
    )
    bad = dataclasses.replace(
        good, year=1990, rounds=rounds, survey_share=D(120), bonus_cap=D(-1), penalty_cap=D(-2),
        bands=(Band("Nhóm A", D(90), "A"), Band("Nhóm B", D(90), "A"), Band("", D(10), "C")),
    )
    assert settings_problems(bad) == [
        "Năm chấm điểm 1990 không hợp lệ (cần từ 2000 đến 2100).",
        "Thiếu vòng «Thẩm định lần 2».",
        "Vòng có mã «hop_hoi_dong» không thuộc quy trình (chỉ nhận: tu_cham, tham_dinh_1, giai_trinh, tham_dinh_2).",
        "Vòng «Thẩm định lần 1» bắt đầu 15/12/2026, trước khi vòng «Tự chấm điểm» kết thúc (20/12/2026).",
        "Vòng «Giải trình»: ngày bắt đầu 26/01/2027 sau ngày kết thúc 16/01/2027.",
        "Tỷ trọng điều tra XHH phải từ 0 đến 100 điểm (đang là 120).",
        "Mức tối đa điểm thưởng không được âm (đang là -1).",
        "Mức tối đa điểm trừ không được âm (đang là -2).",
        "Mã xếp loại «A» được dùng 2 lần.",
        "Mức xếp loại thứ 3 chưa có tên.",
        ("Các mức xếp loại phải xếp từ cao xuống thấp, không trùng ngưỡng: «Nhóm B» (từ 90%) đứng sau «Nhóm A» "
         "(từ 90%)."),
        "Mức thấp nhất «» bắt đầu từ 10%: chỉ số thấp hơn không có xếp loại (đặt ngưỡng của mức thấp nhất là 0%).",
    ]


def test_settings_problems_for_round_order_duplicates_and_survey_share():
    good = default_settings(2026)
    swapped = dataclasses.replace(good, rounds=(good.rounds[1], good.rounds[0], *good.rounds[2:], good.rounds[3]),
                                  survey_share=D(0), bands=(Band("Nhóm A", D(101), "A"), Band("Nhóm C", D(0), "C")))
    assert settings_problems(swapped) == [
        "Vòng «Thẩm định lần 2» được khai báo 2 lần.",
        "Các vòng phải theo thứ tự: Tự chấm điểm → Thẩm định lần 1 → Giải trình → Thẩm định lần 2.",
        "Vòng «Tự chấm điểm» bắt đầu 01/11/2026, trước khi vòng «Thẩm định lần 1» kết thúc (15/01/2027).",
        # the duplicate overlaps the round it repeats
        "Vòng «Thẩm định lần 2» bắt đầu 26/01/2027, trước khi vòng «Thẩm định lần 2» kết thúc (10/02/2027).",
        "Năm có điều tra XHH nhưng tỷ trọng điều tra XHH bằng 0 điểm.",
        "Ngưỡng của mức «Nhóm A» phải từ 0% đến 100% (đang là 101%).",
    ]
    assert settings_problems(dataclasses.replace(good, survey_run=False, survey_share=D(0))) == []
    assert settings_problems(dataclasses.replace(good, bands=())) == ["Chưa có mức xếp loại nào."]


def test_year_settings_round_trip_through_json():
    settings = dataclasses.replace(
        copy_forward(default_settings(2026, QUALITY_GRADE_BANDS), 2027),
        survey_run=False, survey_share=D("31.5"), bonus_cap=D("2.5"), penalty_cap=D(4),
    )
    stored = json.dumps(settings.to_dict(), ensure_ascii=False)
    assert YearSettings.from_dict(json.loads(stored)) == settings
    assert '"label": "Trung bình"' in stored and '"opens": "2027-11-01"' in stored


def test_year_settings_from_older_or_bad_data():
    # Keys saved before a setting existed take the year's defaults.
    assert YearSettings.from_dict({"year": 2026}) == default_settings(2026)
    assert YearSettings.from_dict({"year": 2026, "bonus_cap": "2,5"}).bonus_cap == D("2.5")
    with pytest.raises(InputError, match="năm «2026» phải là số nguyên"):
        YearSettings.from_dict({"year": "2026"})
    with pytest.raises(InputError, match="trường «survey_share» phải là số"):
        YearSettings.from_dict({"year": 2026, "survey_share": "ba mươi"})
    with pytest.raises(InputError, match="ngày «20/12/2026» ở trường «closes» không đọc được"):
        YearSettings.from_dict({"year": 2026, "rounds": [{"code": "tu_cham", "label": "Tự chấm", "closes": "20/12/2026"}]})
    with pytest.raises(InputError, match="trường «bands» phải là danh sách"):
        YearSettings.from_dict({"year": 2026, "bands": {"label": "Nhóm A"}})
    with pytest.raises(InputError, match="cần các cặp tên: giá trị"):
        YearSettings.from_dict([2026])


# --------------------------------------------------------------------------- year over year

PREVIOUS_SET = criteria_set_from_dict({
    "name": "Bộ 2025", "total_max": 100, "nodes": [
        AREA_1,
        {"code": "2", "name": "Tác động của CCHC", "max": 30, "children": [survey_leaf("2.1", "Hài lòng", 30)]},
    ],
})
CURRENT_SET = criteria_set_from_dict({
    "name": "Bộ 2026", "total_max": 100, "nodes": [
        {"code": "1", "name": "Công tác chỉ đạo, điều hành CCHC", "max": 70, "children": [
            AREA_1["children"][0],
            value_leaf("1.3", "Kiểm tra công tác CCHC", 30),
        ]},
        {"code": "2", "name": "Tác động của CCHC", "max": 20, "children": [survey_leaf("2.1", "Hài lòng", 20)]},
        {"code": "3", "name": "Chuyển đổi số", "max": 10,
         "children": [value_leaf("3.1", "Dịch vụ công trực tuyến", 10)]},
    ],
})


def test_compare_years_matches_codes_and_reports_added_and_removed_ones():
    previous = roll_up(PREVIOUS_SET, entries(SELF, {"1.1.1": 16, "1.1.2": 16, "1.2": 21}, {"2.1": 24}))
    current_appraised = {"1.1.1": 18, "1.1.2": 17, "1.3": 27, "3.1": 8}
    current = roll_up(CURRENT_SET, entries({"1.1.1": 19, "1.1.2": 18, "1.3": 28, "3.1": 9}, current_appraised,
                                           {"2.1": 15}))
    rows = [(d.code, d.level, d.current_points, d.previous_points, d.current_pct, d.previous_pct, d.delta_points,
             d.delta_pct, d.status) for d in compare_years(current, previous)]
    assert rows == [
        # total: 62 + 15 + 8 = 85 of 100 against 53 + 24 = 77 of 100
        ("", 0, D(85), D(77), D("85.00"), D("77.00"), D(8), D("8.00"), "tăng"),
        # 62/70 = 88,571…% against 53/70 = 75,714…%
        ("1", 1, D(62), D(53), D("88.57"), D("75.71"), D(9), D("12.86"), "tăng"),
        ("1.1", 2, D(35), D(32), D("87.50"), D("80.00"), D(3), D("7.50"), "tăng"),
        ("1.2", 2, None, D(21), None, D("70.00"), None, None, "không còn năm nay"),
        ("1.3", 2, D(27), None, D("90.00"), None, None, None, "mới năm nay"),
        # 15 of 20 against 24 of 30
        ("2", 1, D(15), D(24), D("75.00"), D("80.00"), D(-9), D("-5.00"), "giảm"),
        ("2.1", 2, D(15), D(24), D("75.00"), D("80.00"), D(-9), D("-5.00"), "giảm"),
        ("3", 1, D(8), None, D("80.00"), None, None, None, "mới năm nay"),
        ("3.1", 2, D(8), None, D("80.00"), None, None, None, "mới năm nay"),
    ]
    names = {d.code: d.name for d in compare_years(current, previous)}
    assert (names[""], names["1.2"], names["3"]) == ("Tổng cộng", "Báo cáo CCHC", "Chuyển đổi số")


def test_compare_years_waits_for_the_appraisal_unless_asked_for_self_points():
    previous = roll_up(PREVIOUS_SET, entries(SELF, {"1.1.1": 16, "1.1.2": 16, "1.2": 21}, {"2.1": 24}))
    # This year's appraisal has not started: compare this year's self-score with last year's published result.
    current = roll_up(CURRENT_SET, entries({"1.1.1": 19, "1.1.2": 18, "1.3": 28, "3.1": 9}, survey={"2.1": 15}))
    appraised_rows = {d.code: d for d in compare_years(current, previous)}
    assert appraised_rows["1"].current_pct is None and appraised_rows["1"].delta_pct is None
    self_rows = {d.code: d for d in compare_years(current, previous, current_appraised=False)}
    # 19 + 18 + 28 = 65 of 70 → 92,86% against 75,71%
    assert (self_rows["1"].current_pct, self_rows["1"].delta_pct) == (D("92.86"), D("17.15"))
    assert (self_rows["1.1"].current_pct, self_rows["1.1"].previous_pct) == (D("92.50"), D("80.00"))
