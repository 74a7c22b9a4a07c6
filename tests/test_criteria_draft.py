"""An imported criteria set as a draft: rows, the rule as understood, fallbacks, edits checked as a set file is."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scoring.criteria import draft as cd
from scoring.criteria.files import criteria_set_from_dict, load_criteria_set
from scoring.criteria.rules import CountRule, RatioRule, TiersRule, ValueRule
from scoring.defaults import bundled_criteria_path
from scoring.errors import InputError
from scoring.store import criteria_store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "criteria"


@pytest.fixture
def roman_draft() -> cd.CriteriaDraft:
    """so-la-ma.xlsx: 1.2.2's rule text is unreadable and 2.2 has none, so the reader gave both a free value."""
    return cd.start_draft(load_criteria_set(FIXTURES / "so-la-ma.xlsx"), "so-la-ma.xlsx")


def _row(draft, code) -> cd.DraftRow:
    return next(r for r in cd.draft_rows(draft) if r.code == code)


def _sentences(result: cd.DraftResult) -> list[str]:
    return [p.sentence() for p in result.problems]


def test_rows_follow_the_tree_with_levels_maxima_and_the_rule_as_understood(roman_draft):
    rows = cd.draft_rows(roman_draft)
    assert [(r.code, r.level_label) for r in rows] == [
        ("1", "Lĩnh vực"), ("1.1", "Tiêu chí"), ("1.2", "Tiêu chí"), ("1.2.1", "Tiêu chí thành phần"),
        ("1.2.2", "Tiêu chí thành phần"), ("2", "Lĩnh vực"), ("2.1", "Tiêu chí"), ("2.2", "Tiêu chí")]
    first = _row(roman_draft, "1.1")
    assert (first.max_text, first.rule_text) == ("2", "Ban hành đúng hạn: 2; Ban hành chậm: 1; Không ban hành: 0")
    assert first.understood == "Chọn mức: Ban hành đúng hạn → 2 điểm; Ban hành chậm → 1 điểm; Không ban hành → 0 điểm"
    ratio = _row(roman_draft, "2.1")
    assert ratio.understood == ("Theo tỷ lệ (tử số/mẫu số): Đạt 100% → 2 điểm; Từ 80% đến dưới 100% → 1 điểm; "
                                "Dưới 80% → 0 điểm")
    assert _row(roman_draft, "1.2").understood == "Cộng điểm 2 tiêu chí con, tối đa 2 điểm"  # children add up to 3


def test_leaves_the_reader_gave_a_free_value_are_flagged_with_the_text_it_could_not_read(roman_draft):
    assert roman_draft.fallback_codes == {"1.2.2", "2.2"}
    unreadable, missing = _row(roman_draft, "1.2.2"), _row(roman_draft, "2.2")
    assert unreadable.fallback and missing.fallback
    assert unreadable.original_rule == "Theo mức độ đa dạng, do Hội đồng thẩm định quyết định"
    assert missing.original_rule == ""
    assert unreadable.understood == "Giá trị tự do (không đọc được quy tắc): từ 0 đến 2 điểm, bước 0,25"
    assert not _row(roman_draft, "1.1").fallback


def test_a_free_value_the_file_asked_for_is_not_a_fallback():
    criteria_set = load_criteria_set(bundled_criteria_path())
    free = [leaf.code for leaf in criteria_set.leaves() if isinstance(leaf.rule, ValueRule)]
    assert free  # the bundled set scores some leaves by a free value, on purpose
    draft = cd.start_draft(criteria_set)
    assert draft.fallback_codes == frozenset()
    assert _row(draft, free[0]).understood.startswith("Chấm tự do: từ 0 đến ")


def test_every_rule_kind_reads_as_a_sentence():
    rows = {r.code: r for r in cd.draft_rows(cd.start_draft(load_criteria_set(bundled_criteria_path())))}
    assert rows["1.2.3"].understood == "Điểm trừ: mỗi báo cáo chậm, sai mẫu trừ 0,25 điểm, trừ tối đa 1 điểm"
    assert rows["1.3.2"].understood == "Đếm số lượng: mỗi tin, bài 0,25 điểm, tối đa 2 điểm"
    assert rows["2.1.3"].understood == ("Theo tỷ lệ: điểm = tử số/mẫu số × 1 điểm, làm tròn xuống bội số 0,25; "
                                        "tỷ lệ dưới 50% → 0 điểm")
    assert rows["8.1"].understood == "Điều tra XHH: nhập điểm tỉnh công bố, từ 0 đến 4 điểm"


def test_an_untouched_draft_builds_the_set_as_read(roman_draft):
    result = cd.build_draft(roman_draft)
    assert result.errors == []
    assert result.criteria_set.to_dict() == roman_draft.original.to_dict()
    assert cd.draft_corrections(roman_draft) == {}


def test_a_maximum_that_is_not_a_number_is_an_error_at_its_field_and_stays_typed(roman_draft):
    cd.edit(roman_draft, "2.2", cd.FIELD_MAX, "một")
    result = cd.build_draft(roman_draft)
    assert result.criteria_set is None
    assert _sentences(result) == ["Tiêu chí 2.2, «Điểm tối đa»: «một» không phải là số (ví dụ 0,5 hoặc 2)."]
    assert [(p.code, p.field) for p in result.at("2.2")] == [("2.2", cd.FIELD_MAX)]
    assert _row(roman_draft, "2.2").max_text == "một"
    assert roman_draft.original.node("2.2").max_points == Decimal(1)  # the set as read is never changed


def test_a_new_maximum_moves_the_rule_and_the_sums_are_checked_as_validate_does(roman_draft):
    cd.edit(roman_draft, "2.2", cd.FIELD_MAX, "2")
    result = cd.build_draft(roman_draft)
    assert [(p.code, p.field, p.is_error) for p in result.problems] == [("2", cd.FIELD_MAX, True)]
    assert "tổng điểm tối đa các tiêu chí con là 4, khác điểm tối đa 3" in result.problems[0].message
    cd.edit(roman_draft, "2", cd.FIELD_MAX, "4")
    result = cd.build_draft(roman_draft)
    assert [(p.code, p.field) for p in result.errors] == [(cd.WHOLE_SET, cd.FIELD_TOTAL)]
    assert result.errors[0].sentence().startswith("Bộ tiêu chí, «Tổng điểm tối đa»: tổng điểm tối đa các lĩnh vực là 8")
    cd.edit(roman_draft, cd.WHOLE_SET, cd.FIELD_TOTAL, "8")
    built = cd.build_draft(roman_draft).criteria_set
    assert built is not None and built.total_max == 8
    leaf = built.node("2.2")
    assert leaf.max_points == 2 and leaf.rule.max_points == 2


def test_retyped_tiers_replace_the_free_value_and_clear_the_flag(roman_draft):
    cd.edit(roman_draft, "1.2.2", cd.FIELD_RULE, "Đa dạng: 2; Có nhưng ít: 1; Không: 0")
    row = _row(roman_draft, "1.2.2")
    assert not row.fallback
    assert row.understood == "Chọn mức: Đa dạng → 2 điểm; Có nhưng ít → 1 điểm; Không → 0 điểm"
    rule = cd.build_draft(roman_draft).criteria_set.node("1.2.2").rule
    assert isinstance(rule, TiersRule) and [t.points for t in rule.tiers] == [2, 1, 0] and rule.max_points == 2


def test_the_unread_wording_leaves_the_note_once_the_rule_is_typed(roman_draft):
    untouched = cd.build_draft(roman_draft).criteria_set.node("1.2.2")
    assert "Cách chấm gốc (chưa đọc được): Theo mức độ đa dạng" in untouched.note  # kept while it is still a fallback
    cd.edit(roman_draft, "1.2.2", cd.FIELD_RULE, "Đa dạng: 2; Có nhưng ít: 1; Không: 0")
    corrected = cd.build_draft(roman_draft).criteria_set.node("1.2.2")
    assert "Cách chấm gốc" not in corrected.note
    assert _row(roman_draft, "1.2.2").original_rule == "Theo mức độ đa dạng, do Hội đồng thẩm định quyết định"


def test_other_rule_wordings_are_read_as_the_importer_reads_them(roman_draft):
    cd.edit(roman_draft, "2.2", cd.FIELD_RULE, "Từ 90% trở lên: 1; Dưới 90%: 0")
    assert isinstance(cd.build_draft(roman_draft).criteria_set.node("2.2").rule, RatioRule)
    assert _row(roman_draft, "2.2").understood == "Theo tỷ lệ (tử số/mẫu số): Từ 90% trở lên → 1 điểm; Dưới 90% → 0 điểm"
    cd.edit(roman_draft, "2.2", cd.FIELD_RULE, "Mỗi văn bản: 0,25 điểm")
    assert isinstance(cd.build_draft(roman_draft).criteria_set.node("2.2").rule, CountRule)


def test_an_unreadable_or_empty_rule_is_an_error_that_says_how_to_write_one(roman_draft):
    cd.edit(roman_draft, "1.2.2", cd.FIELD_RULE, "Đa dạng: 2")  # one tier is no rule
    (problem,) = cd.build_draft(roman_draft).problems
    assert (problem.code, problem.field) == ("1.2.2", cd.FIELD_RULE)
    assert problem.message.startswith("không đọc được «Đa dạng: 2». Viết các mức dạng «Tên mức: điểm»")
    assert _row(roman_draft, "1.2.2").understood == "Chưa đọc được cách chấm đã gõ"
    cd.edit(roman_draft, "1.2.2", cd.FIELD_RULE, "  ")
    assert cd.build_draft(roman_draft).problems[0].message.startswith("chưa có cách chấm.")


def test_a_rule_typed_on_a_node_with_children_is_refused(roman_draft):
    cd.edit(roman_draft, "1", cd.FIELD_RULE, "Đạt: 4; Không đạt: 0")
    (problem,) = cd.build_draft(roman_draft).problems
    assert (problem.code, problem.field) == ("1", cd.FIELD_RULE) and "có tiêu chí con" in problem.message


def test_tiers_above_the_maximum_are_refused_as_validate_refuses_them(roman_draft):
    cd.edit(roman_draft, "1.1", cd.FIELD_RULE, "Đúng hạn: 3; Chậm: 1")
    result = cd.build_draft(roman_draft)
    assert [(p.code, p.field) for p in result.errors] == [("1.1", cd.FIELD_RULE)]
    assert "vượt điểm tối đa 2" in result.errors[0].message


def test_empty_names_are_refused_at_the_name(roman_draft):
    cd.edit(roman_draft, "1.1", cd.FIELD_NAME, "  ")
    cd.edit(roman_draft, cd.WHOLE_SET, cd.FIELD_SET_NAME, "")
    assert {(p.code, p.field) for p in cd.build_draft(roman_draft).problems} == {
        ("1.1", cd.FIELD_NAME), (cd.WHOLE_SET, cd.FIELD_SET_NAME)}


def test_a_rule_that_contradicts_itself_is_refused_at_the_rule():
    document = load_criteria_set(FIXTURES / "bo-tieu-chi-nho-4-diem.json").to_dict()
    draft = cd.start_draft(criteria_set_from_dict(document))
    cd.edit(draft, "1.3", cd.FIELD_RULE, "Mỗi báo cáo: 0 điểm")  # a count rule's points per item must be above 0
    result = cd.build_draft(draft)
    assert [(p.code, p.field) for p in result.errors] == [("1.3", cd.FIELD_RULE)]
    assert result.errors[0].message == "cách chấm: điểm cho mỗi mục phải lớn hơn 0."


def test_evidence_and_activities_are_corrected_and_unknown_activities_warned(roman_draft):
    cd.edit(roman_draft, "1.1", cd.FIELD_EVIDENCE, "Kế hoạch CCHC năm 2026")
    cd.edit(roman_draft, "1.1", cd.FIELD_ACTIVITIES, "I.5; I.6, XX.1")
    result = cd.build_draft(roman_draft, activity_ids={"I.5", "I.6"})
    node = result.criteria_set.node("1.1")
    assert (node.evidence, node.activities) == ("Kế hoạch CCHC năm 2026", ["I.5", "I.6", "XX.1"])
    (warning,) = result.problems
    assert (warning.code, warning.field, warning.is_error) == ("1.1", cd.FIELD_ACTIVITIES, False)
    assert "«XX.1»" in warning.message


def test_typing_back_what_was_read_forgets_the_edit(roman_draft):
    cd.edit(roman_draft, "1.1", cd.FIELD_MAX, "3")
    assert roman_draft.edited_count() == 1
    cd.edit(roman_draft, "1.1", cd.FIELD_MAX, "2")
    assert roman_draft.edits == {}


def test_corrections_say_what_was_read_and_what_was_saved(roman_draft):
    cd.edit(roman_draft, "2.2", cd.FIELD_RULE, "Đầy đủ: 1; Không: 0")
    cd.edit(roman_draft, cd.WHOLE_SET, cd.FIELD_SET_NAME, "Bộ tiêu chí tỉnh 2025")
    assert cd.draft_corrections(roman_draft) == {
        "sửa 2.2: Cách chấm": ("Chấm tự do từ 0 đến điểm tối đa, bước 0,25 điểm", "Đầy đủ: 1; Không: 0"),
        "sửa: Tên bộ tiêu chí": ("BỘ TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CCHC CÁC SỞ NĂM 2025", "Bộ tiêu chí tỉnh 2025"),
    }


def test_the_corrected_set_is_stored_with_its_corrections_audited(db, roman_draft):
    from sqlalchemy import select

    from scoring.store.models import AuditEntry

    cd.edit(roman_draft, "2.2", cd.FIELD_RULE, "Đầy đủ: 1; Không: 0")
    built = cd.build_draft(roman_draft).criteria_set
    set_id = criteria_store.save_criteria_set(db, built, actor="quantri", source_name="so-la-ma.xlsx",
                                    corrections=cd.draft_corrections(roman_draft))
    assert isinstance(criteria_store.load_criteria(db, set_id).node("2.2").rule, TiersRule)
    with db.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "criteria_set")).all()
        assert {(e.field, e.old, e.new, e.actor) for e in entries} >= {
            ("sửa 2.2: Cách chấm", "Chấm tự do từ 0 đến điểm tối đa, bước 0,25 điểm", "Đầy đủ: 1; Không: 0", "quantri")}


def test_tiers_are_edited_row_by_row_and_become_the_rule(roman_draft):
    assert cd.typed_tiers(roman_draft, "1.1") == [("Ban hành đúng hạn", "2"), ("Ban hành chậm", "1"), ("Không ban hành", "0")]
    assert cd.typed_tiers(roman_draft, "2.1")[1] == ("Từ 80% đến dưới 100%", "1")
    assert cd.typed_tiers(roman_draft, "2.2") == []  # a free value has no tiers yet
    cd.set_tiers(roman_draft, "2.2", [("Đầy đủ", "1"), ("Một phần", "0,5"), (None, None), ("Không", "0")])
    assert _row(roman_draft, "2.2").rule_text == "Đầy đủ: 1; Một phần: 0,5; Không: 0"
    assert cd.typed_tiers(roman_draft, "2.2") == [("Đầy đủ", "1"), ("Một phần", "0,5"), ("Không", "0")]
    assert cd.build_draft(roman_draft).criteria_set.node("2.2").rule.tiers[1].points == Decimal("0.5")


def test_a_tier_row_that_cannot_be_one_is_refused_naming_it_and_nothing_changes(roman_draft):
    with pytest.raises(InputError, match=r"^Tiêu chí 1\.1, mức 2: điểm «nửa» không phải là số"):
        cd.set_tiers(roman_draft, "1.1", [("Đúng hạn", "2"), ("Chậm", "nửa")])
    with pytest.raises(InputError, match=r"^Tiêu chí 1\.1, mức 1: chưa có tên mức\.$"):
        cd.set_tiers(roman_draft, "1.1", [("", "2")])
    with pytest.raises(InputError, match="dấu «;»"):
        cd.set_tiers(roman_draft, "1.1", [("Đúng hạn; đủ", "2"), ("Chậm", "1")])
    assert roman_draft.edits == {}


def test_what_the_schema_refuses_is_said_at_its_criterion_and_field_in_the_schemas_sentence():
    from scoring.criteria.model import CriteriaSet, CriterionNode
    from scoring.criteria.rules import Tier

    one_tier = CriterionNode("1.1", "Ban hành kế hoạch", Decimal(1), rule=TiersRule(Decimal(1), (Tier("Đạt", Decimal(1)),)))
    area = CriterionNode("1", "Chỉ đạo, điều hành", Decimal(1), children=[one_tier])
    draft = cd.start_draft(CriteriaSet("Bộ một mức", [area], Decimal(1)))  # built in code: no reader refused it
    result = cd.build_draft(draft)
    assert result.criteria_set is None
    assert [(p.code, p.field) for p in result.problems] == [("1.1", cd.FIELD_RULE)]
    assert result.problems[0].message == "tiêu chí 1.1, trường nodes[0].children[0].rule.tiers: cần ít nhất 2 phần tử."
