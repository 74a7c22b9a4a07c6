"""Rolling an assessment up the criteria tree (hand-computed totals) and suggestions from the plan."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from scoring.assessment.engine import (
    LeafEntry,
    LinkedActivityState,
    describe_index,
    is_plan_completion,
    roll_up,
    roll_up_after_change,
    suggest_points,
    uses_whole_plan,
)
from scoring.criteria.files import criteria_set_from_dict, load_criteria_set
from scoring.criteria.model import CriteriaSet
from scoring.criteria.rules import CountRule, DeductionRule, RatioRule, SurveyRule, TiersRule, ValueRule
from scoring.defaults import bundled_criteria_path

D = Decimal
DONE, DOING, NA = "hoan_thanh", "dang_thuc_hien", "khong_ap_dung"


def tiers(*pairs):
    return {"kind": "tiers", "tiers": [{"label": label, "points": points} for label, points in pairs]}


@pytest.fixture
def small() -> CriteriaSet:
    """Area 1 (4): tiers 1, plan ratio 2, deduction 0, value 1. Area 2 (3, capped): count 2 + value 2.
    Area 3 (3): survey. Total 10."""
    return criteria_set_from_dict(
        {
            "name": "Bộ thử",
            "total_max": 10,
            "nodes": [
                {"code": "1", "name": "Chỉ đạo, điều hành", "max": 4, "children": [
                    {"code": "1.1", "name": "Ban hành kế hoạch CCHC", "max": 1,
                     "rule": tiers(("Kịp thời", 1), ("Không kịp thời", 0.5), ("Không ban hành", 0)),
                     "activities": ["I.5"]},
                    {"code": "1.2", "name": "Mức độ thực hiện kế hoạch CCHC", "max": 2,
                     "rule": {"kind": "ratio", "tiers": [{"label": "Trên 90%", "points": 2},
                                                         {"label": "Từ 70% - 90%", "points": 1},
                                                         {"label": "Dưới 70%", "points": 0}]}},
                    {"code": "1.3", "name": "Điểm trừ báo cáo chậm", "max": 0,
                     "rule": {"kind": "deduction", "per_occurrence": 0.5, "floor": -1}},
                    {"code": "1.4", "name": "Kiểm tra CCHC", "max": 1, "rule": {"kind": "value"}},
                ]},
                {"code": "2", "name": "Tuyên truyền", "max": 3, "cap_children": True, "children": [
                    {"code": "2.1", "name": "Tin, bài", "max": 2, "rule": {"kind": "count", "per_item": 0.5}},
                    {"code": "2.2", "name": "Hình thức", "max": 2, "rule": {"kind": "value"}},
                ]},
                {"code": "3", "name": "Tác động", "max": 3, "children": [
                    {"code": "3.1", "name": "Hài lòng", "max": 3, "rule": {"kind": "survey"}},
                ]},
            ],
        }
    )


def full_entries() -> dict[str, LeafEntry]:
    return {
        "1.1": LeafEntry("1.1", {"tier": 0}, appraised_points=D("0.5")),
        "1.2": LeafEntry("1.2", {"numerator": 17, "denominator": 20}, appraised_points=D(1)),  # 85% → 1
        "1.3": LeafEntry("1.3", {"occurrences": 1}, appraised_points=D("-0.5")),
        "1.4": LeafEntry("1.4", {"value": "0,75"}, appraised_points=D("0.5")),
        "2.1": LeafEntry("2.1", {"count": 3}, appraised_points=D(1)),  # 1,5
        "2.2": LeafEntry("2.2", {"value": 2}, appraised_points=D("1.5")),
        "3.1": LeafEntry("3.1", {"survey": "2,5"}),  # published survey: not appraised
    }


def test_hand_computed_totals(small):
    rollup = roll_up(small, full_entries())
    area1, area2, area3 = rollup.areas
    # 1 + 1 − 0,5 + 0,75
    assert area1.self_points == D("2.25")
    # 1,5 + 2 = 3,5, capped at 3
    assert area2.self_points == D(3)
    assert area3.self_points == D("2.5")
    assert rollup.total.self_points == D("7.75")
    assert rollup.total.applicable_max == D(10)
    assert rollup.index_self == D("77.50")
    # appraised: 0,5 + 1 − 0,5 + 0,5 = 1,5; 1 + 1,5 = 2,5; survey 2,5 counts on both sides
    assert area1.appraised_points == D("1.5")
    assert area2.appraised_points == D("2.5")
    assert area3.appraised_points == D("2.5")
    assert rollup.total.appraised_points == D("6.5")
    assert rollup.index_appraised == D("65.00")
    assert rollup.total.gap == D("1.25")
    assert rollup.node("1.2").explanation == "Tỷ lệ 85% (17/20) → Từ 70% - 90%: 1 điểm"
    assert rollup.node("1.3").self_points == D("-0.5")
    assert rollup.node("1.4").gap == D("0.25")
    assert rollup.total.scored_leaves == 7 and rollup.total.unscored_leaves == 0
    assert rollup.problems == []
    assert list(rollup.nodes) == ["1", "1.1", "1.2", "1.3", "1.4", "2", "2.1", "2.2", "3", "3.1"]
    assert describe_index(rollup) == "Tự chấm 7,75/10 điểm (77,5%); thẩm định 6,5/10 điểm (65%)"


def test_the_self_index_says_it_is_provisional_until_every_leaf_is_scored(small):
    nothing = roll_up(small, {}).self_index
    assert not nothing.complete and nothing.scored == 0 and nothing.applicable == 7
    assert nothing.figure() == "—"  # nothing scored is no index, not 0%
    assert describe_index(roll_up(small, {})) == "Tự chấm 0/10 điểm (chưa chấm tiêu chí nào)"
    assert nothing.text() == "— (chưa chấm tiêu chí nào)" and nothing.text(brief=True) == "— (chưa chấm)"
    entries = full_entries()
    partial = roll_up(small, {code: entries[code] for code in ("1.1", "1.4")})  # 1 + 0,75 of 10
    reading = partial.self_index
    assert not reading.complete and (reading.scored, reading.applicable) == (2, 7)
    assert reading.text() == "17,5% (tạm tính: đã chấm 2/7 tiêu chí)"
    assert reading.text(brief=True) == "17,5% (tạm tính)"
    assert describe_index(partial) == "Tự chấm 1,75/10 điểm (17,5%, tạm tính: đã chấm 2/7 tiêu chí)"
    whole = roll_up(small, entries).self_index
    assert whole.complete and whole.note() == "" and whole.text() == whole.text(brief=True) == "77,5%"


def test_not_applicable_leaves_leave_points_and_maximum(small):
    entries = full_entries()
    entries["1.4"] = LeafEntry("1.4", {"value": 1}, not_applicable=True)
    rollup = roll_up(small, entries)
    assert rollup.node("1").applicable_max == D(3)
    assert rollup.node("1").self_points == D("1.5")
    assert rollup.node("1.4").not_applicable and rollup.node("1.4").self_points is None
    assert rollup.total.applicable_max == D(9)
    assert rollup.total.self_points == D(7)
    assert rollup.index_self == D("77.78")  # 7 / 9


def test_no_survey_run_rescales_the_index(small):
    entries = full_entries()
    entries["3.1"] = LeafEntry("3.1", not_applicable=True)
    rollup = roll_up(small, entries)
    assert rollup.node("3").not_applicable
    assert rollup.total.applicable_max == D(7)
    assert rollup.index_self == D("75.00")  # 5,25 / 7


def test_not_applicable_child_of_a_capped_node(small):
    entries = full_entries()
    entries["2.2"] = LeafEntry("2.2", not_applicable=True)
    rollup = roll_up(small, entries)
    assert rollup.node("2").applicable_max == D(2)  # min(3, 2)
    assert rollup.node("2").self_points == D("1.5")


def test_deduction_floor_and_no_negative_criterion(small):
    entries = {
        "1.1": LeafEntry("1.1", {"tier": "Không ban hành"}),
        "1.2": LeafEntry("1.2", {"numerator": 1, "denominator": 2}),  # 50% → 0
        "1.3": LeafEntry("1.3", {"occurrences": 3}),  # −1,5 floored at −1
        "1.4": LeafEntry("1.4", {"value": "0,5"}),
    }
    rollup = roll_up(small, entries)
    assert rollup.node("1.3").self_points == D(-1)
    assert rollup.node("1").self_points == D(0)  # 0 + 0 − 1 + 0,5 = −0,5 → an area never goes below 0
    entries["1.4"] = LeafEntry("1.4", {"value": 1})
    assert roll_up(small, entries).node("1").self_points == D(0)  # −1 + 1 exactly at 0


def test_a_deduction_block_lowers_the_total():
    criteria = criteria_set_from_dict({
        "name": "Có khối điểm trừ", "total_max": 2, "nodes": [
            {"code": "1", "name": "Chấm", "max": 2, "children": [
                {"code": "1.1", "name": "A", "max": 2, "rule": {"kind": "value"}}]},
            {"code": "2", "name": "Điểm trừ", "max": 0, "children": [
                {"code": "2.1", "name": "Báo cáo chậm", "max": 0,
                 "rule": {"kind": "deduction", "per_occurrence": 0.25, "floor": -1}}]},
        ],
    })
    rollup = roll_up(criteria, {"1.1": LeafEntry("1.1", {"value": "1,5"}), "2.1": LeafEntry("2.1", {"occurrences": 2})})
    assert rollup.node("2").self_points == D("-0.5")
    assert rollup.total.self_points == D(1)
    rollup = roll_up(criteria, {"1.1": LeafEntry("1.1", {"value": "0,5"}), "2.1": LeafEntry("2.1", {"occurrences": 9})})
    assert rollup.total.self_points == D(0)  # 0,5 − 1 → the total is floored at 0


def test_unscored_leaves_are_counted_and_count_as_zero(small):
    rollup = roll_up(small, {"1.1": LeafEntry("1.1", {"tier": 0})})
    assert rollup.node("1").scored_leaves == 1
    assert rollup.node("1").unscored_leaves == 3
    assert rollup.total.unscored_leaves == 6
    assert rollup.total.self_points == D(1)
    assert rollup.node("1.2").self_points is None
    assert rollup.total.appraised_points is None and rollup.index_appraised is None


def test_partial_appraisal_has_no_gap_or_appraised_index(small):
    entries = full_entries()
    entries["2.2"].appraised_points = None
    rollup = roll_up(small, entries)
    assert rollup.node("2").appraised_points == D(1)
    assert rollup.node("2").gap is None
    assert rollup.node("1").gap == D("0.75")  # area 1 is fully appraised
    assert rollup.index_appraised is None
    assert rollup.total.appraised_leaves == 6


def test_typed_self_points_override_the_inputs(small):
    entries = full_entries()
    entries["1.4"] = LeafEntry("1.4", {"value": "0,25"}, self_points=D(1))
    assert roll_up(small, entries).node("1.4").self_points == D(1)


def test_bad_entries_become_problems_not_exceptions(small):
    entries = full_entries()
    entries["1.4"] = LeafEntry("1.4", {"value": "0,3"})
    entries["2.1"] = LeafEntry("2.1", {"count": 1}, self_points=D(5), appraised_points="abc")
    entries["9.9"] = LeafEntry("9.9", {"value": 1})
    entries["2"] = LeafEntry("2", {"value": 1})
    rollup = roll_up(small, entries)
    assert rollup.node("1.4").self_points is None
    assert rollup.node("2.1").self_points == D("0.5")  # the override was out of range, the inputs still count
    found = [f"{p.where}: {p.message}" for p in rollup.problems]
    assert found == [
        "Tiêu chí 1.4: Điểm 0,3 không theo bước 0,25 (làm tròn xuống là 0,25).",
        "Tiêu chí 2.1: Điểm tự chấm 5 phải từ 0 đến 2.",
        "Tiêu chí 2.1: Điểm thẩm định «abc» không phải là số.",
        "Tiêu chí 9.9: không có trong bộ tiêu chí; điểm này không được tính.",
        "Tiêu chí 2: có tiêu chí con; điểm được cộng từ tiêu chí con, điểm nhập cho chính nó không được tính.",
    ]


def top_inputs(rule) -> dict:
    """Inputs that earn a rule its maximum, whatever its kind."""
    if isinstance(rule, TiersRule):
        return {"tier": max(range(len(rule.tiers)), key=lambda i: rule.tiers[i].points)}
    if isinstance(rule, RatioRule):
        return {"numerator": 1, "denominator": 1}
    if isinstance(rule, CountRule):
        return {"count": 100}
    if isinstance(rule, ValueRule):
        return {"value": rule.max_points}
    if isinstance(rule, DeductionRule):
        return {"occurrences": 0}
    if isinstance(rule, SurveyRule):
        return {"survey": rule.max_points}
    raise AssertionError(rule)


def test_template_at_the_top_of_every_rule_scores_100():
    template = load_criteria_set(bundled_criteria_path())
    entries = {leaf.code: LeafEntry(leaf.code, top_inputs(leaf.rule)) for leaf in template.leaves()}
    rollup = roll_up(template, entries)
    assert rollup.problems == []
    assert rollup.total.self_points == D(100)
    assert rollup.index_self == D("100.00")
    assert rollup.node("1.3").self_points == D(3)  # capped: its children could reach 4


# --------------------------------------------------------------------------- suggestions


def state(id_, status=DONE, due=date(2026, 3, 31), *evidence):
    return LinkedActivityState(id_, status, due, list(evidence))


def test_suggest_top_tier_when_every_linked_activity_is_done_on_time(small):
    leaf = small.node("1.1")
    suggestion = suggest_points(leaf, [state("I.5", DONE, date(2025, 12, 20), date(2025, 12, 18))])
    assert suggestion.points == D(1)
    assert suggestion.inputs == {"tier": "Kịp thời"}
    assert "I.5" in suggestion.reason and "«Kịp thời»: 1 điểm" in suggestion.reason


def test_suggest_late_tier_when_some_evidence_is_after_the_due_date(small):
    leaf = small.node("1.1")
    states = [state("I.1", DONE, date(2026, 2, 28), date(2026, 2, 1)), state("I.5", DONE, date(2025, 12, 20), date(2026, 1, 5))]
    suggestion = suggest_points(leaf, states)
    assert suggestion.points == D("0.5")
    assert suggestion.inputs == {"tier": "Không kịp thời"}
    assert "I.5" in suggestion.reason


def test_no_suggestion_where_the_plan_does_not_decide(small):
    leaf = small.node("1.1")
    assert suggest_points(leaf, []) is None
    assert suggest_points(leaf, [state("I.5", DOING, date(2026, 1, 1))]) is None  # not done yet
    assert suggest_points(leaf, [state("I.5", DONE, date(2026, 1, 1))]) is None  # done, but no evidence dated
    assert suggest_points(leaf, [state("I.5", NA)]) is None
    assert suggest_points(small.node("2.1"), [state("I.2", DONE, None, date(2026, 5, 1))]) is None  # count rule
    no_late_tier = criteria_set_from_dict({"name": "x", "total_max": 1, "nodes": [
        {"code": "1", "name": "A", "max": 1, "rule": tiers(("Đạt", 1), ("Không đạt", 0))}]}).node("1")
    assert suggest_points(no_late_tier, [state("I.5", DONE, date(2026, 1, 1), date(2026, 2, 1))]) is None


def test_activity_without_due_date_counts_as_on_time_with_evidence(small):
    suggestion = suggest_points(small.node("1.1"), [state("I.5", DONE, None, date(2026, 6, 1))])
    assert suggestion.points == D(1)


@pytest.mark.parametrize(("done", "points"), [(17, D(1)), (18, D(1)), (19, D(2)), (13, D(0)), (14, D(1))])
def test_plan_completion_ratio_from_the_activities(small, done, points):
    leaf = small.node("1.2")
    states = [state(f"A.{i}", DONE if i < done else DOING) for i in range(20)] + [state("X.1", NA), state("X.2", NA)]
    suggestion = suggest_points(leaf, states)
    assert suggestion.inputs == {"numerator": done, "denominator": 20}  # not-applicable activities are left out
    assert suggestion.points == points
    assert suggestion.reason.startswith(f"Kế hoạch: {done}/20 hoạt động áp dụng đã hoàn thành.")


def test_which_leaves_take_the_plan_ratio():
    template = load_criteria_set(bundled_criteria_path())
    assert is_plan_completion(template.node("1.1.4")) and uses_whole_plan(template.node("1.1.4"))
    assert is_plan_completion(template.node("5.3.2")) and not uses_whole_plan(template.node("5.3.2"))
    assert not is_plan_completion(template.node("1.1.1"))


# ---------------------------------------------------------------- one leaf changed


def _entry_strategy(leaf):
    """Any entry a page could store for the leaf, good or bad: the rule's top inputs, nothing, not
    applicable, typed points inside or outside the range, an appraisal."""
    from hypothesis import strategies as hs

    return hs.one_of(
        hs.just(None),
        hs.just(LeafEntry(leaf.code, inputs=top_inputs(leaf.rule))),
        hs.just(LeafEntry(leaf.code, not_applicable=True)),
        hs.builds(lambda points, appraised: LeafEntry(leaf.code, self_points=points, appraised_points=appraised),
                  hs.sampled_from(["0", "0,5", "1", "abc", "-1", "999"]), hs.sampled_from([None, "0", "0,25", "x"])),
    )


def test_rolling_up_after_one_change_equals_rolling_up_everything():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as hs

    template = load_criteria_set(bundled_criteria_path())
    leaves = template.leaves()

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(hs.data())
    def check(data):
        entries = {}
        for leaf in leaves:
            entry = data.draw(_entry_strategy(leaf))
            if entry is not None:
                entries[leaf.code] = entry
        before = roll_up(template, entries)
        for _ in range(data.draw(hs.integers(1, 4))):  # several saves in a row, each from the last roll-up
            leaf = data.draw(hs.sampled_from(leaves))
            entry = data.draw(_entry_strategy(leaf))
            if entry is None:
                entries.pop(leaf.code, None)
            else:
                entries[leaf.code] = entry
            after = roll_up_after_change(template, before, entries, leaf.code)
            assert after == roll_up(template, entries)
            assert list(after.nodes) == list(roll_up(template, entries).nodes)
            before = after

    check()


def test_a_change_to_a_code_outside_the_set_rolls_everything_up(small):
    entries = {"9.9": LeafEntry("9.9", self_points="1")}
    assert roll_up_after_change(small, roll_up(small, {}), entries, "9.9") == roll_up(small, entries)
