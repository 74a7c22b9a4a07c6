"""Criteria sets as data: the template set, YAML/JSON files and their schema errors, validation, the check report."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal

import pytest

from scoring.cli import main as cli_main
from scoring.criteria.files import (
    criteria_set_from_dict,
    dump_criteria_set,
    load_criteria_set,
    load_criteria_set_bytes,
    run_criteria_check,
)
from scoring.criteria.model import CriteriaSet, CriterionNode, has_errors, validate
from scoring.criteria.rules import RatioRule, RuleKind, ValueRule
from scoring.defaults import bundled_criteria_path, bundled_plan_path
from scoring.errors import InputError
from scoring.plan.importer import load_plan

D = Decimal


@pytest.fixture(scope="module")
def plan_ids() -> set[str]:
    return {activity.id for activity in load_plan(bundled_plan_path()).activities}


@pytest.fixture(scope="module")
def template() -> CriteriaSet:
    return load_criteria_set(bundled_criteria_path())


def small_set_data() -> dict:
    """A small valid set as plain data; tests break one thing at a time."""
    return {
        "name": "Bộ thử",
        "year": 2026,
        "total_max": 3,
        "nodes": [
            {
                "code": "1",
                "name": "Chỉ đạo, điều hành",
                "max": 3,
                "children": [
                    {"code": "1.1", "name": "Kế hoạch", "max": 1,
                     "rule": {"kind": "tiers", "tiers": [{"label": "Kịp thời", "points": 1},
                                                         {"label": "Chậm", "points": "0,5"}]},
                     "activities": ["I.5"]},
                    {"code": "1.2", "name": "Mức độ thực hiện kế hoạch", "max": 2,
                     "rule": {"kind": "ratio", "tiers": [{"label": "Trên 90%", "points": 2},
                                                         {"label": "Từ 70% - 90%", "points": 1},
                                                         {"label": "Dưới 70%", "points": 0}]}},
                ],
            }
        ],
    }


def messages(issues, errors: bool) -> list[str]:
    return [f"{i.where}: {i.message}" for i in issues if i.is_error == errors]


# --------------------------------------------------------------------------- the template set


def test_template_is_labelled_and_sourced(template):
    assert template.template is True
    assert "mẫu" in template.name.lower()
    sources = " ".join(template.sources)
    for decision in ("892/QĐ-BNV", "05/12/2024", "1880/QĐ-UBND", "Cà Mau", "2211/QĐ-UBND", "Sơn La"):
        assert decision in sources
    assert template.year == 2026


def test_template_validates_against_the_plan_without_errors_or_warnings(template, plan_ids):
    assert validate(template, plan_ids) == []


def test_template_has_the_eight_areas_and_adds_up_to_100(template):
    names = [area.name for area in template.areas()]
    assert [area.code for area in template.areas()] == [str(n) for n in range(1, 9)]
    assert names[0] == "Công tác chỉ đạo, điều hành CCHC"
    assert names[1] == "Cải cách thể chế"
    assert names[2] == "Cải cách thủ tục hành chính"
    assert names[3] == "Cải cách tổ chức bộ máy"
    assert names[4] == "Cải cách chế độ công vụ"
    assert names[5] == "Cải cách tài chính công"
    assert names[6] == "Xây dựng, phát triển chính quyền điện tử, chính quyền số"
    assert names[7].startswith("Tác động của CCHC")
    assert template.total_max == D(100)
    assert sum(area.max_points for area in template.areas()) == D(100)


def test_template_uses_every_rule_kind_on_about_forty_leaves(template):
    leaves = template.leaves()
    assert 38 <= len(leaves) <= 55
    assert {leaf.rule.kind for leaf in leaves} == set(RuleKind)
    assert all(leaf.rule.kind is RuleKind.SURVEY for leaf in template.node("8").leaves())
    assert any(leaf.rule.kind is RuleKind.DEDUCTION for leaf in leaves)
    assert any(isinstance(leaf.rule, RatioRule) and leaf.rule.proportional for leaf in leaves)


def test_template_plan_completion_criterion(template):
    leaf = next(n for n in template.leaves() if n.name == "Mức độ thực hiện kế hoạch CCHC")
    assert isinstance(leaf.rule, RatioRule) and not leaf.rule.proportional
    assert [(t.label, t.points) for t in leaf.rule.tiers] == [("Trên 90%", 2), ("Từ 70% - 90%", 1), ("Dưới 70%", 0)]


def test_template_links_every_plan_activity(template, plan_ids):
    linked = {activity for leaf in template.leaves() for activity in leaf.activities}
    assert linked == plan_ids


def test_set_navigation(template):
    assert template.node("1.1.1").name == "Ban hành kế hoạch CCHC năm"
    assert template.node("9.9") is None
    assert template.parent_codes()["1.1.1"] == "1.1"
    assert template.parent_codes()["1"] is None
    assert all(leaf.is_leaf for leaf in template.leaves())
    assert template.node("1.1.1").level == 3


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_dump_and_load_give_an_equal_set(template, tmp_path, suffix):
    path = tmp_path / f"bo{suffix}"
    dump_criteria_set(template, path)
    assert load_criteria_set(path) == template


def test_decimal_commas_in_a_file_are_exact():
    data = small_set_data()
    criteria = criteria_set_from_dict(data)
    assert criteria.node("1.1").rule.tiers[1].points == D("0.5")
    assert criteria.node("1.2").rule.tiers[0].band.low == D(90)  # a band read from its label


def test_yaml_syntax_error_names_the_file_and_line():
    with pytest.raises(InputError) as caught:
        load_criteria_set_bytes("bo.yaml", b"name: [x\ntotal_max: 3\n")
    assert "«bo.yaml»" in str(caught.value)
    assert "dòng" in str(caught.value)


def test_json_syntax_error_names_the_file_and_line():
    with pytest.raises(InputError, match=r"«bo\.json».*dòng 1"):
        load_criteria_set_bytes("bo.json", b'{"name": }')


def test_schema_errors_name_the_criterion_and_field_in_vietnamese():
    data = small_set_data()
    del data["nodes"][0]["children"][0]["max"]
    data["nodes"][0]["children"][1]["rule"]["kind"] = "tuy_y"
    data["nodes"][0]["children"][1]["colour"] = "đỏ"
    with pytest.raises(InputError) as caught:
        criteria_set_from_dict(data, "bo.yaml")
    text = str(caught.value)
    assert "Tệp «bo.yaml» không đúng định dạng bộ tiêu chí" in text
    assert "tiêu chí 1.1, trường nodes[0].children[0]: thiếu trường «max»" in text
    assert "tiêu chí 1.2, trường nodes[0].children[1].rule.kind: «tuy_y» không hợp lệ; chỉ nhận: tiers, ratio" in text
    assert "có trường không được hỗ trợ «colour»" in text


def test_unquoted_yaml_code_gets_a_hint():
    text = "name: Bộ\ntotal_max: 1\nnodes:\n  - code: 1.1\n    name: A\n    max: 1\n    rule: {kind: value}\n"
    with pytest.raises(InputError, match="dấu nháy"):
        load_criteria_set_bytes("bo.yaml", text.encode())


def test_number_fields_must_be_numbers():
    data = small_set_data()
    data["nodes"][0]["max"] = "ba"
    with pytest.raises(InputError, match="«ba» không phải là số"):
        criteria_set_from_dict(data)


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="chỉ nhận .yaml"):
        load_criteria_set(tmp_path / "bo.csv")
    with pytest.raises(InputError, match="không mở được"):
        load_criteria_set(tmp_path / "khong-co.yaml")


# --------------------------------------------------------------------------- validation


def test_small_set_is_valid():
    assert validate(criteria_set_from_dict(small_set_data()), {"I.5"}) == []


def test_children_must_add_up_to_the_parent():
    data = small_set_data()
    data["nodes"][0]["max"] = 4
    data["total_max"] = 4
    issues = validate(criteria_set_from_dict(data))
    assert messages(issues, errors=True) == [
        "Tiêu chí 1: tổng điểm tối đa các tiêu chí con là 3, khác điểm tối đa 4 "
        "(nếu bộ tiêu chí cho phép vượt và lấy tối đa, đặt cap_children: true)."
    ]


def test_cap_children_lets_children_add_up_to_more():
    data = small_set_data()
    data["nodes"][0]["max"] = 2
    data["nodes"][0]["cap_children"] = True
    data["total_max"] = 2
    assert validate(criteria_set_from_dict(data)) == []
    data["nodes"][0]["max"] = 4
    data["total_max"] = 4
    issues = validate(criteria_set_from_dict(data))
    assert "nhỏ hơn điểm tối đa 4: không đạt được" in messages(issues, errors=True)[0]


def test_codes_unique_and_nested():
    criteria = criteria_set_from_dict(small_set_data())
    area = criteria.nodes[0]
    area.children[1].code = "1.1"
    issues = validate(criteria)
    assert "Tiêu chí 1.1: mã «1.1» xuất hiện 2 lần; mỗi mã chỉ được dùng một lần." in messages(issues, errors=True)
    area.children[1].code = "2.2"
    issues = validate(criteria)
    assert messages(issues, errors=True) == [
        "Tiêu chí 2.2: mã «2.2» không nằm dưới mã của tiêu chí cha «1» (cần dạng 1.n)."
    ]
    area.children[1].code = "1.b"
    assert "không đúng dạng" in messages(validate(criteria), errors=True)[0]


def test_areas_must_add_up_to_total_max():
    data = small_set_data()
    data["total_max"] = 100
    issues = validate(criteria_set_from_dict(data))
    assert messages(issues, errors=True) == [
        "Bộ tiêu chí: tổng điểm tối đa các lĩnh vực là 3, khác tổng điểm khai báo 100."
    ]


def test_leaf_without_rule_and_rule_above_maximum_are_errors():
    criteria = criteria_set_from_dict(small_set_data())
    criteria.node("1.1").rule = None
    criteria.node("1.2").set_max_points(D(1))
    criteria.nodes[0].max_points = D(2)
    criteria.total_max = D(2)
    errors = messages(validate(criteria), errors=True)
    assert errors == [
        "Tiêu chí 1.1: là tiêu chí chấm điểm nhưng chưa có cách chấm (rule).",
        "Tiêu chí 1.2: cách chấm: có mức 2 điểm, vượt điểm tối đa 1.",
    ]


def test_rule_and_node_maximum_must_agree():
    criteria = criteria_set_from_dict(small_set_data())
    criteria.node("1.1").max_points = D(2)
    criteria.nodes[0].max_points = criteria.total_max = D(4)
    assert messages(validate(criteria), errors=True) == [
        "Tiêu chí 1.1: cách chấm đang tính trên điểm tối đa 1, khác điểm tối đa 2 của tiêu chí "
        "(đổi điểm tối đa bằng CriterionNode.set_max_points)."
    ]


def test_empty_file_is_reported():
    with pytest.raises(InputError, match="«bo.yaml» rỗng"):
        load_criteria_set_bytes("bo.yaml", "# chỉ có chú thích\n".encode())


def test_unknown_activity_is_a_warning_only():
    data = small_set_data()
    data["nodes"][0]["children"][0]["activities"] = ["I.5", "IX.9"]
    issues = validate(criteria_set_from_dict(data), {"I.5"})
    assert not has_errors(issues)
    assert messages(issues, errors=False) == [
        "Tiêu chí 1.1: liên kết tới hoạt động không có trong kế hoạch: «IX.9»."
    ]
    assert validate(criteria_set_from_dict(data), None) == []  # without a plan, links are not checked


def test_validate_reports_an_empty_set_and_never_crashes():
    empty = CriteriaSet(name="", nodes=[], total_max=D(0))
    issues = validate(empty)
    assert has_errors(issues)
    odd = CriteriaSet(name="x", nodes=[CriterionNode("", "", D(-1), rule=ValueRule(D(-1)))], total_max=D(0))
    assert has_errors(validate(odd))


# --------------------------------------------------------------------------- the check report


def test_check_json_shape(template):
    report = template.to_check_json()
    assert set(report) == {"name", "total_max", "nodes", "warnings"}
    assert report["total_max"] == 100
    assert all(set(node) == {"code", "name", "max", "parent", "rule"} for node in report["nodes"])
    by_code = {node["code"]: node for node in report["nodes"]}
    assert by_code["1"]["parent"] is None and by_code["1"]["rule"] is None
    first = by_code["1.1.1"]
    assert first["parent"] == "1.1"
    assert first["rule"]["kind"] == "tiers"
    assert first["rule"]["tiers"][1] == {"label": "Ban hành không kịp thời", "points": 0.5}
    assert by_code["8.1"]["rule"] == {"kind": "survey", "tiers": []}
    assert report["warnings"] == []
    json.dumps(report)  # plain JSON types only


def test_check_json_lists_errors_as_warnings_marked_lỗi():
    data = small_set_data()
    data["total_max"] = 5
    report = criteria_set_from_dict(data).to_check_json()
    assert report["warnings"] == [
        {"where": "Bộ tiêu chí", "message": "Lỗi: tổng điểm tối đa các lĩnh vực là 3, khác tổng điểm khai báo 5."}
    ]


def test_run_check_text_on_the_template(plan_ids):
    out = io.StringIO()
    assert run_criteria_check(str(bundled_criteria_path()), False, plan_ids, out) == 0
    text = out.getvalue()
    assert "BỘ MẪU" in text
    assert "Tổng điểm tối đa: 100 điểm · 8 lĩnh vực" in text
    assert "Kết luận: dùng được để chấm điểm." in text


def test_run_check_json_prints_exactly_one_object(plan_ids):
    out = io.StringIO()
    assert run_criteria_check(str(bundled_criteria_path()), True, plan_ids, out) == 0
    report = json.loads(out.getvalue())
    assert report["name"].startswith("Bộ tiêu chí mẫu")


def test_run_check_unusable_sets_return_2(tmp_path):
    data = small_set_data()
    data["total_max"] = 7
    path = tmp_path / "sai.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    assert run_criteria_check(str(path), False, None, out) == 2
    assert "Lỗi (1):" in out.getvalue()
    assert "KHÔNG dùng được" in out.getvalue()

    broken = tmp_path / "hong.yaml"
    broken.write_text("name: [", encoding="utf-8")
    out = io.StringIO()
    assert run_criteria_check(str(broken), True, None, out) == 2
    report = json.loads(out.getvalue())
    assert report["nodes"] == [] and report["warnings"][0]["message"].startswith("Lỗi: Tệp «hong.yaml»")


def test_run_check_warnings_alone_are_usable(tmp_path):
    data = copy.deepcopy(small_set_data())
    data["nodes"][0]["children"][0]["activities"] = ["IX.9"]
    path = tmp_path / "canh-bao.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    assert run_criteria_check(str(path), False, {"I.5"}, out) == 0
    assert "Cảnh báo (1):" in out.getvalue()


def test_cli_criteria_check(capsys):
    assert cli_main(["criteria", "check", str(bundled_criteria_path()), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["warnings"] == []
    assert len(report["nodes"]) == len(list(load_criteria_set(bundled_criteria_path()).walk()))
