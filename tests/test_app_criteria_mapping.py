"""Cấu hình → Năm đánh giá: the proposed criteria mapping, a person's change, the confirmation; Tổng quan follows it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from scoring.access import accounts
from scoring.access.auth import Role
from scoring.criteria.mapping import propose_mapping
from scoring.store import actors, assessment_state, assessment_store, criteria_store, department_store
from scoring.store.criteria_mapping_store import confirm_mapping, confirmed_mapping
from scoring.store.db import open_database
from scoring.store.workspace import ensure_default_workspace
from tests.test_app import APP, _assert_clean, _open, _plain
from tests.test_app_roles import PASSWORD
from tests.test_criteria_mapping import CURRENT, PREVIOUS


@pytest.fixture
def two_sets():
    """The default data, with 2025 scored by last year's set and 2026 switched to this year's (renumbered, merged,
    split: tests/test_criteria_mapping.py)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    db = open_database()
    department = department_store.list_departments(db)[0]
    old_id = criteria_store.save_criteria_set(db, PREVIOUS, actor="quản trị")
    new_id = criteria_store.save_criteria_set(db, CURRENT, actor="quản trị")
    before = assessment_store.open_assessment(db, department.id, 2025, old_id, actor="quản trị")
    assessment_store.save_self_score(db, before.id, "3.1.1", 0, inputs={"value": "2"}, actor="quản trị")
    assessment_store.save_self_score(db, before.id, "3.1.2", 0, inputs={"value": "1"}, actor="quản trị")
    now = assessment_state.get_assessment(db, department.id, 2026)
    assessment_store.switch_criteria_set(db, now.id, now.settings_version, criteria_set_id=new_id, actor="quản trị")
    assessment_store.save_self_score(db, now.id, "3.1", 0, inputs={"value": "4"}, actor="quản trị")
    at.run()
    return at, db, old_id, new_id


def _table(at: AppTest, *columns: str):
    return next(frame.value for frame in at.dataframe if set(columns) <= set(frame.value.columns))


def _picker(old_id: int, new_id: int) -> str:
    return f"criteria-mapping-{old_id}-{new_id}"


def test_the_proposal_is_shown_changed_and_confirmed_and_tong_quan_follows_it(two_sets):
    at, db, old_id, new_id = two_sets
    _open(at, "views/tong_quan.py")
    assert any("chưa có bảng đối chiếu tiêu chí được xác nhận" in _plain(w.value) for w in at.warning)

    _open(at, "views/cau_hinh.py")
    assert "Đối chiếu tiêu chí năm 2025 → năm 2026" in [s.value for s in at.subheader]
    assert any("Chưa có bảng đối chiếu được xác nhận" in _plain(w.value) for w in at.warning)
    table = _table(at, "Mã năm trước")
    rows = {(r["Mã năm trước"], r["Mã năm nay"]): r for r in table.to_dict("records")}
    assert (rows[("2.1.3", "2.2.1")]["Quan hệ"], rows[("2.1.3", "2.2.1")]["Độ giống"]) == ("đổi mã", "100%")
    assert rows[("3.1.1", "3.1")]["Quan hệ"] == "gộp" and rows[("1.2", "1.3")]["Quan hệ"] == "tách"
    assert rows[("3.2", "—")]["Quan hệ"] == "không còn" and rows[("—", "3.2")]["Quan hệ"] == "mới"

    # the person says last year's 3.2 is this year's 3.2 after all
    picker = _picker(old_id, new_id)
    at.selectbox(key=f"{picker}-old").set_value("3.2").run()
    assert at.multiselect(key=f"{picker}-new").value == []  # «không còn» in the proposal
    at.multiselect(key=f"{picker}-new").set_value(["3.2"]).run()
    at.button(key=f"{picker}-change").click().run()
    _assert_clean(at)
    rows = {(r["Mã năm trước"], r["Mã năm nay"]): r for r in _table(at, "Mã năm trước").to_dict("records")}
    assert (rows[("3.2", "3.2")]["Quan hệ"], rows[("3.2", "3.2")]["Lý do"]) == ("giữ nguyên", "do người đối chiếu chọn")
    assert ("—", "3.2") not in rows and confirmed_mapping(db, old_id, new_id) is None  # not stored before confirming

    at.button(key=f"{picker}-confirm").click().run()
    _assert_clean(at)
    assert any("Đã xác nhận bảng đối chiếu tiêu chí" in _plain(s.value) for s in at.success)
    assert any(_plain(s.value).startswith("Đã xác nhận bởi Văn phòng lúc") for s in at.success)
    stored = confirmed_mapping(db, old_id, new_id)
    assert stored.confirmed_by == "Văn phòng" and stored.mapping.targets("3.2") == ("3.2",)

    _open(at, "views/tong_quan.py")
    assert any("theo bảng đối chiếu do Văn phòng xác nhận lúc" in _plain(c.value) for c in at.caption)
    criteria = _table(at, "Mã", "Ghi chú")
    merged = criteria[criteria["Mã"] == "3.1"].iloc[0]
    # both years have criteria left unscored here: their columns say the figures are running ones
    before, now = "Năm 2025 (tạm tính)", "Năm 2026 (tạm tính)"
    # 3.1 against last year's 3.1.1 + 3.1.2: 3 of 4 → 4 of 4
    assert (merged[before], merged[now], merged["Ghi chú"]) == ("75%", "100%", "năm trước: 3.1.1, 3.1.2")
    split = criteria[criteria["Mã"] == "1.3"].iloc[0]
    assert (split[before], split[""]) == ("—", "không so sánh một-một được")


def test_a_confirmation_made_meanwhile_by_someone_else_is_told_and_not_overwritten(two_sets):
    at, db, old_id, new_id = two_sets
    _open(at, "views/cau_hinh.py")
    picker = _picker(old_id, new_id)
    confirm_mapping(db, old_id, new_id, propose_mapping(PREVIOUS, CURRENT), 0, actor="nguyenvana")  # another person
    at.button(key=f"{picker}-confirm").click().run()
    _assert_clean(at)
    assert any("vừa được sửa bởi nguyenvana" in _plain(e.value) for e in at.error)
    assert confirmed_mapping(db, old_id, new_id).confirmed_by == "nguyenvana"
    assert any(_plain(s.value).startswith("Đã xác nhận bởi nguyenvana lúc") for s in at.success)  # the page shows it now


def test_sets_with_the_same_criteria_need_no_mapping(two_sets):
    at, db, old_id, new_id = two_sets
    department = department_store.list_departments(db)[0]
    now = assessment_state.get_assessment(db, department.id, 2026)
    same = criteria_store.save_criteria_set(db, PREVIOUS, actor="quản trị")  # another copy of last year's set
    assessment_store.switch_criteria_set(db, now.id, now.settings_version, criteria_set_id=same, actor="quản trị")
    _open(at, "views/cau_hinh.py")
    assert "Đối chiếu tiêu chí năm 2025 → năm 2026" not in [s.value for s in at.subheader]
    assert any("không cần bảng đối chiếu" in _plain(c.value) for c in at.caption)


def test_signed_in_only_one_who_may_import_criteria_sets_confirms_the_mapping(monkeypatch, browser_cookie):
    monkeypatch.setenv("CCHC_AUTH", "on")
    db = open_database()
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    for username, role in (("vanphong", Role.OFFICE), ("quantri", Role.ADMIN)):
        accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=[department.id], actor=actors.SYSTEM_ACTOR)
    old_id, new_id = criteria_store.save_criteria_set(db, PREVIOUS, actor="quản trị"), criteria_store.save_criteria_set(db, CURRENT, actor="quản trị")
    assessment_store.open_assessment(db, department.id, 2025, old_id, actor="quản trị")
    now = assessment_state.get_assessment(db, department.id, 2026)
    assessment_store.switch_criteria_set(db, now.id, now.settings_version, criteria_set_id=new_id, actor="quản trị")
    picker = _picker(old_id, new_id)

    def signed_in(username: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        browser_cookie(at, username, PASSWORD)
        at.run()
        return _open(at, "views/cau_hinh.py")

    office = signed_in("vanphong")
    assert "Đối chiếu tiêu chí năm 2025 → năm 2026" in [s.value for s in office.subheader]  # the Office sees the proposal
    assert not [b for b in office.button if b.key == f"{picker}-confirm"]
    assert any("Chỉ quản trị viên" in _plain(c.value) for c in office.caption)

    admin = signed_in("quantri")
    admin.button(key=f"{picker}-confirm").click().run()
    _assert_clean(admin)
    assert confirmed_mapping(db, old_id, new_id).confirmed_by == "quantri"
