"""The proposed mapping between two years' criteria sets, and the year-over-year comparison that follows it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring.assessment.engine import LeafEntry, roll_up
from scoring.criteria.files import criteria_set_from_dict
from scoring.criteria.mapping import (
    REASON_CHOSEN,
    REASON_MOVED,
    REASON_MOVED_SAME_NAME,
    REASON_PART_OF_NEW,
    REASON_PART_OF_OLD,
    REASON_SAME_CODE,
    REASON_SAME_NAME,
    CriteriaMapping,
    Link,
    LinkKind,
    compare_years_mapped,
    contained,
    name_similarity,
    propose_mapping,
    sets_differ,
)
from scoring.errors import InputError


def leaf(code: str, name: str, max_points: int) -> dict:
    return {"code": code, "name": name, "max": max_points, "rule": {"kind": "value"}}


def group(code: str, name: str, *children: dict) -> dict:
    return {"code": code, "name": name, "max": sum(D(str(c["max"])) for c in children), "children": list(children)}


def criteria(name: str, *areas: dict):
    return criteria_set_from_dict({"name": name, "total_max": sum(D(str(a["max"])) for a in areas), "nodes": list(areas)})


# Last year's set and this year's, renumbered, merged and split the way provinces do it:
# - 1.2 «Báo cáo và tuyên truyền CCHC» is split into 1.2 «Báo cáo CCHC» and 1.3 «Tuyên truyền CCHC»;
# - 2.1.3 becomes 2.2.1 (same name, a new group 2.2), 2.2 «Rà soát, hệ thống hóa văn bản QPPL» is split into 2.2.2
#   and 2.2.3;
# - 3.1.1 and 3.1.2 are merged into 3.1; 3.2 is dropped; a new 3.2 appears.
PREVIOUS = criteria(
    "Bộ tiêu chí 2025",
    group("1", "Công tác chỉ đạo, điều hành CCHC",
          leaf("1.1", "Ban hành kế hoạch CCHC năm", 4),
          leaf("1.2", "Báo cáo và tuyên truyền CCHC", 4)),
    group("2", "Cải cách thể chế",
          group("2.1", "Xây dựng và tổ chức thực hiện văn bản QPPL",
                leaf("2.1.1", "Ban hành văn bản QPPL đúng thẩm quyền", 2),
                leaf("2.1.2", "Tổ chức kiểm tra văn bản QPPL", 2),
                leaf("2.1.3", "Theo dõi tình hình thi hành pháp luật", 2)),
          leaf("2.2", "Rà soát, hệ thống hóa văn bản QPPL", 4)),
    group("3", "Cải cách thủ tục hành chính",
          group("3.1", "Công khai thủ tục hành chính",
                leaf("3.1.1", "Công khai đầy đủ thủ tục hành chính", 2),
                leaf("3.1.2", "Cập nhật kịp thời thủ tục hành chính", 2)),
          leaf("3.2", "Tiếp nhận hồ sơ qua dịch vụ bưu chính công ích", 2)),
)
CURRENT = criteria(
    "Bộ tiêu chí 2026",
    group("1", "Công tác chỉ đạo, điều hành CCHC",
          leaf("1.1", "Ban hành Kế hoạch CCHC năm", 4),
          leaf("1.2", "Báo cáo CCHC", 2),
          leaf("1.3", "Tuyên truyền CCHC", 2)),
    group("2", "Cải cách thể chế",
          group("2.1", "Xây dựng và tổ chức thực hiện văn bản QPPL",
                leaf("2.1.1", "Ban hành văn bản QPPL đúng thẩm quyền", 2),
                leaf("2.1.2", "Tổ chức kiểm tra văn bản QPPL", 2)),
          group("2.2", "Theo dõi thi hành pháp luật, rà soát văn bản",
                leaf("2.2.1", "Theo dõi tình hình thi hành pháp luật", 2),
                leaf("2.2.2", "Rà soát văn bản QPPL", 2),
                leaf("2.2.3", "Hệ thống hóa văn bản QPPL", 2))),
    group("3", "Cải cách thủ tục hành chính",
          leaf("3.1", "Công khai đầy đủ, cập nhật kịp thời thủ tục hành chính", 4),
          leaf("3.2", "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính", 2)),
)


def pairs(mapping: CriteriaMapping) -> list[tuple[str, str, str, str]]:
    return [(l.old_code, l.new_code, mapping.kind(l).label, l.reason) for l in mapping.links]


def test_the_proposal_finds_kept_renumbered_merged_split_dropped_and_new_criteria():
    mapping = propose_mapping(PREVIOUS, CURRENT)
    assert pairs(mapping) == [
        ("1.1", "1.1", "giữ nguyên", REASON_SAME_NAME),  # only the capital K differs
        ("1.2", "1.2", "tách", REASON_SAME_CODE),
        ("1.2", "1.3", "tách", REASON_PART_OF_OLD),
        ("2.1.1", "2.1.1", "giữ nguyên", REASON_SAME_NAME),
        ("2.1.2", "2.1.2", "giữ nguyên", REASON_SAME_NAME),
        ("2.1.3", "2.2.1", "đổi mã", REASON_MOVED_SAME_NAME),
        ("2.2", "2.2.2", "tách", REASON_PART_OF_OLD),
        ("2.2", "2.2.3", "tách", REASON_MOVED),  # most of the old name: paired first, then 2.2.2 found as the other part
        ("3.1.1", "3.1", "gộp", REASON_PART_OF_NEW),
        ("3.1.2", "3.1", "gộp", REASON_PART_OF_NEW),
    ]
    rows = {(r.old_code, r.new_code): r for r in mapping.rows(PREVIOUS, CURRENT)}
    assert (rows[("3.2", None)].kind, rows[(None, "3.2")].kind) == (LinkKind.DROPPED, LinkKind.NEW)
    assert rows[("2.1.3", "2.2.1")].similarity == D("1.00") and rows[("2.1.3", "2.2.1")].similarity_text == "100%"
    assert rows[("3.1.1", "3.1")].similarity == D("1.00")  # every meaningful word of the part is in the whole
    assert [r.new_code for r in mapping.rows(PREVIOUS, CURRENT)][-1] == "3.2"  # new ones last, this year's order
    assert sets_differ(PREVIOUS, CURRENT) and not sets_differ(PREVIOUS, PREVIOUS)


def test_a_kept_code_with_another_meaning_is_not_taken_for_the_same_criterion():
    before = criteria("2025", group("1", "Chỉ đạo", leaf("1.1", "Ban hành kế hoạch CCHC năm", 2),
                                    leaf("1.2", "Kiểm tra công tác CCHC tại các đơn vị", 2)))
    after = criteria("2026", group("1", "Chỉ đạo", leaf("1.1", "Ứng dụng chữ ký số trong gửi nhận văn bản", 2),
                                   leaf("1.2", "Ban hành kế hoạch CCHC năm", 2)))
    # 1.1's name moved to 1.2; 1.2's meaning is gone; the new 1.1 is new
    assert pairs(propose_mapping(before, after)) == [("1.1", "1.2", "đổi mã", REASON_MOVED_SAME_NAME)]


def test_names_are_compared_whatever_their_diacritics_case_punctuation_and_order():
    assert name_similarity("Ban hành Kế hoạch CCHC năm", "ban hanh ke hoach cchc nam.") == D("1.00")
    assert name_similarity("Rà soát, hệ thống hóa văn bản", "Hệ thống hóa, rà soát văn bản") == D("1.00")
    assert name_similarity("Ban hành kế hoạch CCHC năm", "Số hóa hồ sơ") < D("0.5")
    assert contained("Cập nhật kịp thời thủ tục hành chính", "Công khai đầy đủ, cập nhật kịp thời thủ tục hành chính") == D("1.00")
    assert contained("Báo cáo", "Báo cáo CCHC quý") == D("0.00")  # one word is too little to call it a part
    assert contained("Báo cáo CCHC", "Báo cáo CCHC quý") == D("1.00")


def test_a_person_changes_what_a_criterion_became_and_the_kinds_follow():
    mapping = propose_mapping(PREVIOUS, CURRENT)
    # the person says 3.2 (bưu chính) became the new 3.2 after all, and 2.2 went wholly into 2.2.2
    mapping = mapping.with_targets("3.2", ["3.2"], PREVIOUS, CURRENT).with_targets("2.2", ["2.2.2"], PREVIOUS, CURRENT)
    found = {(l.old_code, l.new_code): l for l in mapping.links}
    assert found[("3.2", "3.2")].reason == REASON_CHOSEN and mapping.kind(found[("3.2", "3.2")]) is LinkKind.SAME
    assert found[("2.2", "2.2.2")].reason == REASON_PART_OF_OLD  # a link it had keeps its reason
    assert mapping.kind(found[("2.2", "2.2.2")]) is LinkKind.RENUMBERED and ("2.2", "2.2.3") not in found
    assert mapping.with_targets("1.1", [], PREVIOUS, CURRENT).targets("1.1") == ()  # «không còn»
    with pytest.raises(InputError, match="«2.2» không phải tiêu chí chấm điểm của bộ tiêu chí năm nay «Bộ tiêu chí 2026»"):
        mapping.with_targets("2.2", ["2.2"], PREVIOUS, CURRENT)  # a group, not a scored criterion
    with pytest.raises(InputError, match="«9.9» không phải tiêu chí chấm điểm của bộ tiêu chí năm trước"):
        mapping.with_targets("9.9", ["1.1"], PREVIOUS, CURRENT)


def test_a_crossed_merge_and_split_is_regrouped():
    mapping = CriteriaMapping((Link("a", "x", D(1), ""), Link("a", "y", D(1), ""), Link("b", "y", D(1), "")))
    assert {mapping.kind(l) for l in mapping.links} == {LinkKind.REGROUPED}
    assert mapping.component(["x"]) == ({"a", "b"}, {"x", "y"})


def test_a_mapping_round_trips_through_its_stored_form_and_refuses_a_damaged_one():
    mapping = propose_mapping(PREVIOUS, CURRENT)
    assert CriteriaMapping.from_dict(mapping.to_dict()) == mapping
    assert mapping.summary().startswith("1.1 → 1.1; 1.2 → 1.2, 1.3; 2.1.1 → 2.1.1")
    with pytest.raises(InputError, match="thiếu mã cũ hoặc mã mới"):
        CriteriaMapping.from_dict({"links": [{"old": "1.1"}]})
    with pytest.raises(InputError, match="không đúng dạng"):
        CriteriaMapping.from_dict(["1.1"])


def scores(points: dict[str, int | str], not_applicable: tuple[str, ...] = ()) -> dict[str, LeafEntry]:
    found = {code: LeafEntry(code, self_points=D(str(p))) for code, p in points.items()}
    found.update({code: LeafEntry(code, not_applicable=True) for code in not_applicable})
    return found


def test_the_comparison_follows_the_mapping_sums_merged_parts_and_never_invents_a_split_share():
    previous = roll_up(PREVIOUS, scores({"1.1": 4, "1.2": 2, "2.1.1": 2, "2.1.2": 1, "2.1.3": 1, "2.2": 3,
                                         "3.1.1": 2, "3.1.2": 1, "3.2": 1}))
    current = roll_up(CURRENT, scores({"1.1": 3, "1.2": 2, "1.3": 1, "2.1.1": 2, "2.1.2": 2, "2.2.1": 2, "2.2.2": 1,
                                       "2.2.3": 2, "3.1": 4, "3.2": 1}))
    rows = compare_years_mapped(current, previous, CURRENT, PREVIOUS, propose_mapping(PREVIOUS, CURRENT),
                                current_appraised=False, previous_appraised=False)
    table = [(r.code, r.level, r.previous_pct, r.current_pct, r.delta_pct, r.status, r.note) for r in rows]
    assert table == [
        ("", 0, D("70.83"), D("83.33"), D("12.50"), "tăng", ""),  # 17 of 24 against 20 of 24: as each year stood
        ("1", 1, D("75.00"), D("75.00"), D("0.00"), "không đổi", ""),
        ("1.1", 2, D("100.00"), D("75.00"), D("-25.00"), "giảm", ""),
        # 1.2 was split into 1.2 and 1.3: last year's 2 of 4 belongs to neither alone
        ("1.2", 2, None, D("100.00"), None, "không so sánh một-một được",
         "năm trước 1.2 được tách thành cả 1.3 ngoài tiêu chí này: không có điểm năm trước của riêng tiêu chí này"),
        ("1.3", 2, None, D("50.00"), None, "không so sánh một-một được",
         "năm trước 1.2 được tách thành cả 1.2 ngoài tiêu chí này: không có điểm năm trước của riêng tiêu chí này"),
        ("2", 1, D("70.00"), D("90.00"), D("20.00"), "tăng", ""),
        # 2.1 without 2.1.3, which is 2.2.1 now: 3 of 4 (last year's whole 2.1 was 4 of 6), said in the note
        ("2.1", 2, D("75.00"), D("100.00"), D("25.00"), "tăng", "năm trước: 2.1.1, 2.1.2"),
        # the new group 2.2 holds what were 2.1.3 (renumbered) and 2.2 (split into two of its leaves): 4 of 6
        ("2.2", 2, D("66.67"), D("83.33"), D("16.66"), "tăng", "năm trước: 2.1.3, 2.2"),
        ("3", 1, D("66.67"), D("83.33"), D("16.66"), "tăng", ""),
        # merged: 3.1 against the sum of its old parts, 3 of 4 (which is last year's group 3.1 exactly)
        ("3.1", 2, D("75.00"), D("100.00"), D("25.00"), "tăng", "năm trước: 3.1.1, 3.1.2"),
        ("3.2", 2, None, D("50.00"), None, "mới năm nay", "tiêu chí mới năm nay"),
        ("3.2", 2, D("50.00"), None, None, "không còn năm nay", "tiêu chí năm trước, không còn năm nay"),
    ]


def test_a_merged_criterion_sums_parts_that_were_no_single_node_and_leaves_out_those_not_applicable():
    before = criteria("2025", group("1", "Chỉ đạo", group("1.1", "Kế hoạch",
                                                          leaf("1.1.1", "Ban hành kế hoạch kiểm tra CCHC", 2),
                                                          leaf("1.1.2", "Thực hiện kế hoạch kiểm tra CCHC", 2),
                                                          leaf("1.1.3", "Xử lý sau kiểm tra CCHC", 2),
                                                          leaf("1.1.4", "Khen thưởng cá nhân tiêu biểu", 1))))
    after = criteria("2026", group("1", "Chỉ đạo", leaf("1.1", "Ban hành, thực hiện kế hoạch kiểm tra CCHC", 4),
                                   leaf("1.2", "Xử lý sau kiểm tra CCHC", 2)))
    mapping = propose_mapping(before, after)
    assert pairs(mapping) == [("1.1.1", "1.1", "gộp", REASON_MOVED), ("1.1.2", "1.1", "gộp", REASON_PART_OF_NEW),
                              ("1.1.3", "1.2", "đổi mã", REASON_MOVED_SAME_NAME)]
    previous = roll_up(before, scores({"1.1.1": 2, "1.1.3": 1}, not_applicable=("1.1.2",)))
    current = roll_up(after, scores({"1.1": 3, "1.2": 2}))
    rows = {r.code: r for r in compare_years_mapped(current, previous, after, before, mapping, False, False)}
    # 1.1.2 did not apply last year: the merged criterion compares with 1.1.1 alone, 2 of 2
    assert (rows["1.1"].previous_points, rows["1.1"].previous_pct, rows["1.1"].note) == (D(2), D("100.00"), "năm trước: 1.1.1, 1.1.2")
    assert (rows["1.2"].previous_pct, rows["1.2"].status) == (D("50.00"), "tăng")
    # 1.1.4 became nothing: listed among the criteria, though its group 1.1 lives on in 1.1 and 1.2
    assert (rows["1.1.4"].level, rows["1.1.4"].previous_pct, rows["1.1.4"].status) == (2, D("0.00"), "không còn năm nay")


def test_appraised_comparison_waits_for_every_old_part_to_be_appraised():
    mapping = propose_mapping(PREVIOUS, CURRENT)
    previous_entries = scores({"3.1.1": 2, "3.1.2": 1})
    previous_entries["3.1.1"].appraised_points = D(2)  # 3.1.2 not appraised yet
    previous = roll_up(PREVIOUS, previous_entries)
    current = roll_up(CURRENT, scores({"3.1": 4}))
    rows = {r.code: r for r in compare_years_mapped(current, previous, CURRENT, PREVIOUS, mapping,
                                                    current_appraised=False, previous_appraised=True)}
    # last year's 3.1.1 and 3.1.2 existed: never «mới năm nay»
    assert (rows["3.1"].previous_pct, rows["3.1"].status) == (None, "năm trước chưa thẩm định xong")
    previous_entries["3.1.2"].appraised_points = D(1)
    rows = {r.code: r for r in compare_years_mapped(current, roll_up(PREVIOUS, previous_entries), CURRENT, PREVIOUS, mapping,
                                                    current_appraised=False, previous_appraised=True)}
    assert (rows["3.1"].previous_pct, rows["3.1"].status) == (D("75.00"), "tăng")
