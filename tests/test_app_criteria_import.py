"""Cấu hình → Bộ tiêu chí: an uploaded set is shown as a tree, corrected in place and saved as the year's set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

import ui
from scoring.criteria.rules import TiersRule
from scoring.store import actors, assessment_state, assessment_store, audit_trail, criteria_store, department_store
from scoring.store.db import open_database
from scoring.store.models import AuditEntry
from views.criteria_import import COLUMN_CHECK, COLUMN_UNDERSTOOD, draft_state_key

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ROMAN_SET = Path(__file__).resolve().parent / "fixtures" / "criteria" / "so-la-ma.xlsx"


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _clean(at: AppTest) -> None:
    assert not at.exception, [_plain(e.value) for e in at.exception]
    assert not [e for e in at.error if _plain(e.value) == ui.UNEXPECTED_ERROR]


def _stored():
    db = open_database()
    department = department_store.list_departments(db)[0]
    return db, department, assessment_state.get_assessment(db, department.id, 2026)


@pytest.fixture
def page():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/cau_hinh.py").run()
    _clean(at)
    return at


def _upload(at: AppTest) -> AppTest:
    (uploader,) = [u for u in at.file_uploader if u.label == "Chọn tệp bộ tiêu chí"]
    uploader.upload(ROMAN_SET.name, ROMAN_SET.read_bytes(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").run()
    _clean(at)
    return at


def _state_key(at: AppTest) -> str:
    db, department, _ = _stored()
    return draft_state_key(department.id, 2026)


def _tree(at: AppTest):
    """The draft's table as drawn (its widget key and rows), by code."""
    widget_key, codes = at.session_state[f"{_state_key(at)}-drawn"]
    (table,) = [d.value for d in at.dataframe if "Cách hiểu" in d.value.columns]
    return widget_key, codes, table.set_index("Mã")


def _type(at: AppTest, code: str, column: str, text: str) -> AppTest:
    widget_key, codes, _ = _tree(at)
    at.session_state[widget_key] = {"edited_rows": {codes.index(code): {column: text}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _clean(at)
    return at


def _save_button(at: AppTest):
    return at.button(key="criteria-use")


def test_the_tree_shows_each_leaf_with_its_maximum_and_rule_and_highlights_the_free_value_fallbacks(page):
    _upload(page)
    warnings = [_plain(w.value) for w in page.warning]
    assert any(w.startswith("2 tiêu chí không đọc được cách chấm (hoặc tệp không ghi cách chấm) nên đang tạm chấm tự do")
               and "1.2.2, 2.2" in w for w in warnings), warnings
    read_notes = next(d.value for d in page.dataframe if list(d.value.columns) == ["Vị trí", "Nội dung"])
    assert any("không có dòng «Tổng cộng»" in note for note in read_notes["Nội dung"])  # what reading the file noticed
    _, codes, table = _tree(page)
    assert codes == ("1", "1.1", "1.2", "1.2.1", "1.2.2", "2", "2.1", "2.2")  # areas → criteria → leaves
    assert table.loc["1.1", "Điểm tối đa"] == "2"
    assert table.loc["1.1", COLUMN_UNDERSTOOD].startswith("Chọn mức: Ban hành đúng hạn → 2 điểm")
    assert table.loc["1.2.2", COLUMN_UNDERSTOOD] == "Giá trị tự do (không đọc được quy tắc): từ 0 đến 2 điểm, bước 0,25"
    assert table.loc["1.2.2", COLUMN_CHECK] == ("Tạm chấm tự do: không đọc được cách chấm «Theo mức độ đa dạng, "
                                                "do Hội đồng thẩm định quyết định»")
    assert table.loc["2.2", COLUMN_CHECK] == "Tạm chấm tự do: tệp không ghi cách chấm"
    assert table.loc["1.1", COLUMN_CHECK] == ""


def test_a_wrong_maximum_is_said_at_its_row_kept_as_typed_and_the_corrected_set_is_saved_and_audited(page):
    db, department, before = _stored()
    _upload(page)
    _type(page, "2.2", "Điểm tối đa", "hai")
    _, _, table = _tree(page)
    assert table.loc["2.2", "Điểm tối đa"] == "hai"  # kept as typed
    assert table.loc["2.2", COLUMN_CHECK].startswith("Lỗi ở «Điểm tối đa»: «hai» không phải là số")
    assert _save_button(page).disabled
    assert any(_plain(e.value).startswith("1 lỗi") for e in page.error)

    _type(page, "2.2", "Điểm tối đa", "2")  # now area 2's criteria add up to 4, not 3: said at area 2
    _, _, table = _tree(page)
    assert table.loc["2.2", COLUMN_CHECK] == "Tạm chấm tự do: tệp không ghi cách chấm"
    assert "tổng điểm tối đa các tiêu chí con là 4, khác điểm tối đa 3" in table.loc["2", COLUMN_CHECK]
    _type(page, "2", "Điểm tối đa", "4")
    page.text_input(key=next(k for k in _widget_keys(page) if k.endswith("-total"))).set_value("8").run()
    _clean(page)
    _type(page, "2.2", "Cách chấm", "Đầy đủ: 2; Chưa đầy đủ: 1; Không thực hiện: 0")
    _, _, table = _tree(page)
    assert table.loc["2.2", COLUMN_UNDERSTOOD] == "Chọn mức: Đầy đủ → 2 điểm; Chưa đầy đủ → 1 điểm; Không thực hiện → 0 điểm"
    assert not [e for e in page.error if "lỗi" in _plain(e.value)]
    assert not _save_button(page).disabled

    _save_button(page).click().run()
    _clean(page)
    assert any("Đã dùng «BỘ TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CCHC CÁC SỞ NĂM 2025» cho năm 2026" in _plain(s.value)
               for s in page.success)
    _, _, after = _stored()
    assert after.criteria_set_id != before.criteria_set_id
    used = criteria_store.load_criteria(db, after.criteria_set_id)
    assert used.total_max == 8 and used.node("2").max_points == 4
    assert isinstance(used.node("2.2").rule, TiersRule) and used.node("2.2").rule.max_points == 2
    with db.session() as session:
        audited = {(e.field, e.old, e.new) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "criteria_set", AuditEntry.entity_key == str(after.criteria_set_id)))}
    assert {("sửa 2.2: Điểm tối đa", "1", "2"), ("sửa 2: Điểm tối đa", "3", "4"), ("sửa: Tổng điểm tối đa", "7", "8")} <= audited
    assert audit_trail.audit_log(db, department.id, viewer=actors.SYSTEM_ACTOR)[0].field == "bộ tiêu chí"
    assert _state_key(page) not in page.session_state  # the draft is gone once saved
    assert not [d for d in page.dataframe if "Cách hiểu" in d.value.columns]


def _widget_keys(at: AppTest) -> list[str]:
    return [w.key for w in at.text_input if w.key]


def test_the_draft_survives_other_pages_and_cancel_discards_it(page):
    db, department, before = _stored()
    _upload(page)
    _type(page, "1.1", "Tên", "Kế hoạch CCHC năm (đã sửa)")
    page.switch_page("views/tong_quan.py").run()
    page.switch_page("views/cau_hinh.py").run()
    _clean(page)
    _, _, table = _tree(page)
    assert table.loc["1.1", "Tên"] == "Kế hoạch CCHC năm (đã sửa)"
    page.button(key="criteria-draft-cancel").click().run()
    _clean(page)
    assert not [d for d in page.dataframe if "Cách hiểu" in d.value.columns]
    assert any("Đã hủy bản nháp" in _plain(i.value) for i in page.info)
    assert _stored()[2].criteria_set_id == before.criteria_set_id


def test_the_area_filter_and_the_attention_filter_narrow_the_table(page):
    _upload(page)
    page.selectbox(key=next(s.key for s in page.selectbox if s.label == "Lĩnh vực")).set_value("2").run()
    assert _tree(page)[1] == ("2", "2.1", "2.2")
    page.toggle(key=next(t.key for t in page.toggle if t.label == "Chỉ hiện tiêu chí cần xem lại")).set_value(True).run()
    assert _tree(page)[1] == ("2.2",)
    _type(page, "2.2", "Điểm tối đa", "x")  # typed in the narrowed table: taken as the row it was typed in
    _, _, table = _tree(page)
    assert table.loc["2.2", "Điểm tối đa"] == "x"


def test_a_save_after_someone_else_changed_the_years_set_is_told_and_the_corrected_set_stays_stored(page):
    db, department, before = _stored()
    _upload(page)
    _type(page, "2.2", "Cách chấm", "Đầy đủ: 1; Không: 0")
    # meanwhile another administrator chooses another set for the year
    other = criteria_store.save_criteria_set(db, criteria_store.load_criteria(db, before.criteria_set_id), actor="quantri2", source_name="khac.yaml")
    assessment_store.switch_criteria_set(db, before.id, before.settings_version, criteria_set_id=other, actor="quantri2")
    page.run()
    _save_button(page).click().run()
    _clean(page)
    assert any("quantri2" in _plain(e.value) for e in page.error), [_plain(e.value) for e in page.error]
    assert any("đã được lưu nhưng chưa dùng cho năm 2026" in _plain(i.value) for i in page.info)
    assert _stored()[2].criteria_set_id == other  # not overwritten
    corrected = next(s for s in criteria_store.list_criteria_sets(db) if s.source_name == "so-la-ma.xlsx")
    assert isinstance(criteria_store.load_criteria(db, corrected.id).node("2.2").rule, TiersRule)


def test_a_fallback_leaf_gets_its_tiers_row_by_row(page):
    _upload(page)
    page.selectbox(key=next(s.key for s in page.selectbox if s.label == "Tiêu chí")).set_value("2.2").run()
    grid_key = next(b.key for b in page.button if b.label == "Dùng các mức này").removesuffix("-apply")
    page.session_state[grid_key] = {"edited_rows": {0: {"Mức": "Đầy đủ", "Điểm": "nửa"}},
                                    "added_rows": [{"Mức": "Không", "Điểm": "0"}], "deleted_rows": []}
    page.run()
    page.button(key=f"{grid_key}-apply").click().run()
    _clean(page)
    assert any(_plain(e.value).startswith("Tiêu chí 2.2, mức 1: điểm «nửa» không phải là số") for e in page.error)
    page.session_state[grid_key] = {"edited_rows": {0: {"Mức": "Đầy đủ", "Điểm": "1"}},
                                    "added_rows": [{"Mức": "Không", "Điểm": "0"}], "deleted_rows": []}
    page.run()
    page.button(key=f"{grid_key}-apply").click().run()
    _clean(page)
    _, _, table = _tree(page)
    assert table.loc["2.2", "Cách chấm"] == "Đầy đủ: 1; Không: 0"
    assert table.loc["2.2", COLUMN_UNDERSTOOD] == "Chọn mức: Đầy đủ → 1 điểm; Không → 0 điểm"
    assert table.loc["2.2", COLUMN_CHECK] == ""  # no longer a fallback
