"""Scoring one leaf: every rule kind, exact band boundaries, 0,25 steps, deductions at the floor, bad input, rule text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.criteria.bands import Band, band_problems, parse_band
from scoring.criteria.numbers import parse_decimal, round_down_to_step
from scoring.criteria.rule_text import parse_rule_text, parse_tier_text
from scoring.criteria.rules import (
    CountRule,
    DeductionRule,
    RatioRule,
    SurveyRule,
    Tier,
    TiersRule,
    ValueRule,
    rule_from_dict,
    score_leaf,
)

D = Decimal


def tiers_rule() -> TiersRule:
    return TiersRule(D(1), (Tier("Ban hành đúng hạn", D(1)), Tier("Chậm", D("0.5")), Tier("Không ban hành", D(0))))


def band_rule() -> RatioRule:
    """100% → full, from 80% to under 100% → half, under 80% → nothing."""
    return RatioRule(
        D(1),
        (
            Tier("Đạt 100%", D(1), Band(D(100), True, D(100), True)),
            Tier("từ 80% đến dưới 100%", D("0.5"), Band(D(80), True, D(100), False)),
            Tier("Dưới 80%", D(0), Band(high=D(80), high_inclusive=False)),
        ),
    )


def plan_rule() -> RatioRule:
    """The official "Mức độ thực hiện kế hoạch CCHC": trên 90%: 2; từ 70% - 90%: 1; dưới 70%: 0."""
    rule = parse_tier_text("Trên 90%: 2; Từ 70% - 90%: 1; Dưới 70%: 0")
    assert isinstance(rule, RatioRule)
    return rule


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0,75", D("0.75")),
        ("1.234,5", D("1234.5")),
        ("1.5", D("1.5")),
        (" 2 ", D(2)),
        ("-0,5", D("-0.5")),
        (0.1, D("0.1")),
        (3, D(3)),
        (D("0.25"), D("0.25")),
    ],
)
def test_parse_decimal_reads_vietnamese_and_plain_numbers(raw, expected):
    assert parse_decimal(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "", "1,2,3", None, True, float("nan"), [1]])
def test_parse_decimal_rejects_what_is_not_a_number(raw):
    assert parse_decimal(raw) is None


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [("1.7", "0.25", "1.5"), ("1.75", "0.25", "1.75"), ("0.2", "0.25", "0"), ("0.99", "0.5", "0.5")],
)
def test_round_down_to_step(value, step, expected):
    assert round_down_to_step(D(value), D(step)) == D(expected)


# --------------------------------------------------------------------------- tiers


def test_tiers_by_index_and_by_label_whatever_the_case_or_accents():
    rule = tiers_rule()
    assert score_leaf(rule, {"tier": 0}).points == D(1)
    assert score_leaf(rule, {"tier": "chậm"}).points == D("0.5")
    result = score_leaf(rule, {"tier": "KHONG BAN HANH"})
    assert result.points == D(0)
    assert result.explanation == "Mức «Không ban hành»: 0 điểm"
    assert result.problems == []


def test_tiers_unknown_choice_is_a_problem_not_an_exception():
    rule = tiers_rule()
    for choice in (3, -1, "Ban hành sớm", 1.0, True):
        result = score_leaf(rule, {"tier": choice})
        assert result.points is None
        assert result.problems and "Không có mức" in result.problems[0]


def test_missing_input_is_unscored_without_a_problem():
    for rule in (tiers_rule(), band_rule(), CountRule(D(2)), ValueRule(D(1)), DeductionRule(D(0)), SurveyRule(D(6))):
        result = score_leaf(rule, {})
        assert result.points is None
        assert result.problems == []
        assert result.explanation.startswith("Chưa chấm")


# --------------------------------------------------------------------------- ratio


def test_ratio_band_explanation_as_users_read_it():
    result = score_leaf(band_rule(), {"numerator": 17, "denominator": 20})
    assert result.points == D("0.5")
    assert result.explanation == "Tỷ lệ 85% (17/20) → từ 80% đến dưới 100%: 0,5 điểm"


@pytest.mark.parametrize(
    ("numerator", "denominator", "points"),
    [(20, 20, "1"), (16, 20, "0.5"), (7999, 10000, "0"), (99999, 100000, "0.5"), (0, 5, "0")],
)
def test_ratio_band_boundaries_are_exact_at_80_and_100(numerator, denominator, points):
    assert score_leaf(band_rule(), {"numerator": numerator, "denominator": denominator}).points == D(points)


@pytest.mark.parametrize(
    ("numerator", "denominator", "points"),
    [(7, 10, "1"), (9, 10, "1"), (9001, 10000, "2"), (6999, 10000, "0"), (10, 10, "2")],
)
def test_from_70_to_90_includes_both_ends(numerator, denominator, points):
    assert score_leaf(plan_rule().with_max(D(2)), {"numerator": numerator, "denominator": denominator}).points == D(points)


def test_ratio_accepts_text_with_decimal_commas():
    assert score_leaf(band_rule(), {"numerator": "8,5", "denominator": "10"}).points == D("0.5")


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"numerator": 3, "denominator": 0}, "Mẫu số bằng 0"),
        ({"numerator": -1, "denominator": 4}, "không được âm"),
        ({"numerator": "abc", "denominator": 4}, "không phải là số"),
        ({"numerator": 5, "denominator": 4}, "lớn hơn mẫu số"),
    ],
)
def test_ratio_bad_input(inputs, fragment):
    result = score_leaf(band_rule(), inputs)
    assert result.points is None
    assert fragment in result.problems[0]


def test_proportional_rounds_down_to_the_quarter():
    rule = RatioRule(D(2), proportional=True)
    result = score_leaf(rule, {"numerator": 17, "denominator": 20})  # 85% × 2 = 1,7
    assert result.points == D("1.5")
    assert "làm tròn xuống bội số 0,25: 1,5 điểm" in result.explanation
    assert score_leaf(rule, {"numerator": 7, "denominator": 8}).points == D("1.75")  # 1,75 exactly: kept


def test_proportional_floor_and_step():
    rule = RatioRule(D(1), proportional=True, floor_percent=D(50), step=D("0.5"))
    assert score_leaf(rule, {"numerator": 9, "denominator": 20}).points == D(0)  # 45% is under the floor
    assert score_leaf(rule, {"numerator": 10, "denominator": 20}).points == D("0.5")  # exactly 50% is not
    assert score_leaf(rule, {"numerator": 19, "denominator": 20}).points == D("0.5")  # 0,95 → 0,5
    assert score_leaf(rule, {"numerator": 20, "denominator": 20}).points == D(1)


# --------------------------------------------------------------------------- count, value, deduction, survey


def test_count_points_per_item_up_to_the_cap():
    rule = CountRule(D(2), D("0.25"), "tin, bài")
    result = score_leaf(rule, {"count": 3})
    assert result.points == D("0.75")
    assert result.explanation == "3 tin, bài × 0,25 điểm = 0,75 điểm"
    assert score_leaf(rule, {"count": "8"}).points == D(2)
    capped = score_leaf(rule, {"count": 10})
    assert capped.points == D(2)
    assert "tối đa 2 điểm" in capped.explanation


@pytest.mark.parametrize(("count", "fragment"), [(-1, "không được âm"), (2.5, "số nguyên"), ("ba", "không phải là số")])
def test_count_bad_input(count, fragment):
    result = score_leaf(CountRule(D(2)), {"count": count})
    assert result.points is None
    assert fragment in result.problems[0]


def test_value_on_the_step_from_text_or_number():
    rule = ValueRule(D(1))
    assert score_leaf(rule, {"value": "0,75"}).points == D("0.75")
    assert score_leaf(rule, {"value": 0.75}).points == D("0.75")
    assert score_leaf(rule, {"value": 1}).points == D(1)
    assert score_leaf(rule, {"value": 0}).points == D(0)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("1,25", "phải từ 0 đến 1"), (-0.25, "phải từ 0 đến 1"), ("0,3", "không theo bước 0,25 (làm tròn xuống là 0,25)"),
     ("x", "không phải là số")],
)
def test_value_bad_input(value, fragment):
    result = score_leaf(ValueRule(D(1)), {"value": value})
    assert result.points is None
    assert fragment in result.problems[0]


def test_deduction_per_occurrence_down_to_the_floor():
    rule = DeductionRule(D(0), D("0.5"), D(-2), "báo cáo chậm")
    assert score_leaf(rule, {"occurrences": 0}).points == D(0)
    two = score_leaf(rule, {"occurrences": 2})
    assert two.points == D(-1)
    assert two.explanation == "2 báo cáo chậm × 0,5 điểm: trừ 1 điểm → -1 điểm"
    assert score_leaf(rule, {"occurrences": 4}).points == D(-2)  # exactly at the floor
    beyond = score_leaf(rule, {"occurrences": 5})
    assert beyond.points == D(-2)
    assert "trừ tối đa 2 điểm" in beyond.explanation
    assert score_leaf(DeductionRule(D(0), D("0.5")), {"occurrences": 9}).points == D("-4.5")  # no floor


def test_deduction_bad_input():
    result = score_leaf(DeductionRule(D(0), D("0.5"), D(-2)), {"occurrences": -2})
    assert result.points is None and result.problems


def test_survey_points_entered_as_published():
    rule = SurveyRule(D(6))
    assert score_leaf(rule, {"survey": 3.5}).points == D("3.5")
    assert score_leaf(rule, {"survey": "4,37"}).points == D("4.37")  # published values are not stepped
    over = score_leaf(rule, {"survey": 7})
    assert over.points is None and "từ 0 đến 6" in over.problems[0]


def test_inputs_that_are_not_a_mapping_are_a_problem():
    result = score_leaf(tiers_rule(), ["tier", 0])
    assert result.points is None and result.problems


@given(numerator=st.integers(min_value=-5, max_value=200), denominator=st.integers(min_value=-5, max_value=200))
def test_ratio_never_raises_and_points_are_a_tier(numerator, denominator):
    result = score_leaf(plan_rule(), {"numerator": numerator, "denominator": denominator})
    if result.points is None:
        assert result.problems
    else:
        assert result.points in {D(0), D(1), D(2)}
        assert 0 <= numerator <= denominator


@given(quarters=st.integers(min_value=0, max_value=8))
def test_every_quarter_up_to_the_maximum_is_accepted(quarters):
    value = D(quarters) * D("0.25")
    assert score_leaf(ValueRule(D(2)), {"value": str(value).replace(".", ",")}).points == value


# --------------------------------------------------------------------------- bands and rule text


@pytest.mark.parametrize(
    ("label", "band"),
    [
        ("Trên 90%", Band(low=D(90), low_inclusive=False)),
        ("Thực hiện từ 70% - 90% kế hoạch", Band(D(70), True, D(90), True)),
        ("Dưới 70%", Band(high=D(70), high_inclusive=False)),
        ("từ 80% đến dưới 100%", Band(D(80), True, D(100), False)),
        ("Đạt 100%", Band(D(100), True, D(100), True)),
        ("nhỏ hơn 50%", Band(high=D(50), high_inclusive=False)),
        ("Từ 90% trở lên", Band(low=D(90))),
        ("Không quá 30%", Band(high=D(30))),
        ("Ban hành kịp thời", None),
    ],
)
def test_parse_band(label, band):
    assert parse_band(label) == band


percent = st.integers(min_value=0, max_value=100).map(Decimal)


@given(low=st.none() | percent, high=st.none() | percent, low_inclusive=st.booleans(), high_inclusive=st.booleans())
def test_band_wording_reads_back_to_the_same_band(low, high, low_inclusive, high_inclusive):
    if low is None and high is None:
        return
    if low is not None and high is not None and (low > high or (low == high and not (low_inclusive and high_inclusive))):
        return
    band = Band(low, low_inclusive if low is not None else True, high, high_inclusive if high is not None else True)
    assert parse_band(band.describe()) == band


def test_band_gaps_and_overlaps():
    assert band_problems([t.band for t in plan_rule().tiers]) == []
    gap = band_problems([Band(low=D(90), low_inclusive=False), Band(high=D(70), high_inclusive=False)])
    assert gap == ["tỷ lệ 70% không thuộc mức nào"]
    overlap = band_problems([Band(D(70), True, D(90), True), Band(low=D(90)), Band(high=D(70), high_inclusive=False)])
    assert overlap == ["tỷ lệ 90% thuộc nhiều mức cùng lúc (chấm theo mức đầu tiên)"]


def test_parse_tier_text_condition_tiers():
    rule = parse_tier_text("Ban hành kịp thời: 1\nKhông kịp thời: 0,5\nKhông ban hành: 0")
    assert rule == TiersRule(D(1), (Tier("Ban hành kịp thời", D(1)), Tier("Không kịp thời", D("0.5")),
                                    Tier("Không ban hành", D(0))))
    assert parse_tier_text("đủ và đúng hạn: 1; không: 0") == TiersRule(
        D(1), (Tier("đủ và đúng hạn", D(1)), Tier("không", D(0)))
    )


def test_parse_tier_text_bullets_headings_and_points_in_brackets():
    rule = parse_tier_text("Cách chấm:\n- Đạt (1 điểm)\n+ Không đạt: 0 điểm.")
    assert rule == TiersRule(D(1), (Tier("Đạt", D(1)), Tier("Không đạt", D(0))))


def test_parse_tier_text_percentages_make_a_ratio_rule():
    rule = parse_tier_text("Thực hiện từ 70% - 90% kế hoạch: 1\nTrên 90%: 2\nDưới 70%: 0")
    assert isinstance(rule, RatioRule)
    assert rule.max_points == D(2)
    assert [t.band for t in rule.tiers] == [
        Band(D(70), True, D(90), True), Band(low=D(90), low_inclusive=False), Band(high=D(70), high_inclusive=False)
    ]


def test_parse_tier_text_some_percentages_stay_tiers():
    rule = parse_tier_text("Đạt 100% chỉ tiêu: 2; Không đạt: 0")
    assert isinstance(rule, TiersRule)
    assert [t.label for t in rule.tiers] == ["Đạt 100% chỉ tiêu", "Không đạt"]


@pytest.mark.parametrize("text", ["", "Theo mức độ hoàn thành", "Ban hành kịp thời: 1", "Kịp thời: một điểm; Chậm: 0"])
def test_parse_tier_text_returns_none_where_it_cannot_read(text):
    assert parse_tier_text(text) is None


SAMPLE_RULES = [
    tiers_rule(),
    band_rule(),
    RatioRule(D(2), proportional=True, floor_percent=D(50)),
    RatioRule(D(2), proportional=True, step=D("0.5")),
    CountRule(D(2), D("0.25"), "tin, bài"),
    ValueRule(D(1)),
    ValueRule(D(3), D("0.5")),
    DeductionRule(D(0), D("0.25"), D(-1), "báo cáo chậm, sai mẫu"),
    DeductionRule(D(0), D("0.5")),
    SurveyRule(D(6)),
]


@pytest.mark.parametrize("rule", SAMPLE_RULES, ids=lambda r: r.kind.value)
def test_rule_lines_read_back_to_the_same_rule(rule):
    parsed = parse_rule_text("\n".join(rule.lines()))
    assert parsed is not None
    assert parsed.with_max(rule.max_points) == rule


@pytest.mark.parametrize("rule", SAMPLE_RULES, ids=lambda r: r.kind.value)
def test_rule_plain_data_reads_back_to_the_same_rule(rule):
    assert rule_from_dict(rule.to_dict(), rule.max_points) == rule


def test_parse_rule_text_reads_province_wordings():
    deduction = parse_rule_text("Mỗi báo cáo chậm trừ 0,5 điểm, tối đa trừ 2 điểm")
    assert deduction == DeductionRule(D(0), D("0.5"), D(-2), "báo cáo chậm")
    assert isinstance(parse_rule_text("Chấm theo kết quả điều tra xã hội học"), SurveyRule)
    assert parse_rule_text("Do Hội đồng quyết định") is None


def test_rule_consistency_with_the_leaf_maximum():
    too_high = TiersRule(D("0.5"), tiers_rule().tiers)
    assert any(p.is_error for p in too_high.consistency_problems())
    unreachable = TiersRule(D(2), tiers_rule().tiers)
    assert [p.is_error for p in unreachable.consistency_problems()] == [False]
    assert DeductionRule(D(1), D("0.5")).consistency_problems()[0].is_error
    assert tiers_rule().consistency_problems() == []
    assert plan_rule().with_max(D(2)).consistency_problems() == []
