"""Sign-in, roles and the appraisal cycle as people meet them on the pages (AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

import ui
from scoring.access import accounts
from scoring.access.auth import Role
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
)
from scoring.store.db import open_database
from scoring.store.models import Account
from scoring.store.workspace import ensure_default_workspace

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "Mat-khau-du-dai-2026"


@pytest.fixture
def signed_in_app(monkeypatch, browser_cookie):
    """The app with sign-in on, a department seeded, and a factory that signs a given role in."""
    monkeypatch.setenv("CCHC_AUTH", "on")
    db = open_database()
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    for username, role, unit in (("vanphong", Role.OFFICE, None), ("phongtg", Role.UNIT, "Phòng Tôn giáo"),
                                 ("lanhdao", Role.LEADER, None), ("snv", Role.APPRAISER, None), ("quantri", Role.ADMIN, None)):
        accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=[department.id], unit=unit, actor=actors.SYSTEM_ACTOR)

    def sign_in(username: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        browser_cookie(at, username, PASSWORD)  # signed in on the sign-in page, the browser opens the app
        at.run()
        assert not at.exception, [_plain(e.value) for e in at.exception]
        return at

    return db, department, sign_in


def test_nothing_is_shown_before_signing_in(signed_in_app):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert [t.value for t in at.title] == ["Chỉ số CCHC — Đăng nhập"]
    assert not at.metric  # no figures leak onto the sign-in page
    # no page of the app is even registered: every address only leads to the sign-in page
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/cham_diem.py")
    assert [link.proto.url for link in at.get("link_button")] == ["/dang-nhap"]


def test_office_signs_in_and_the_log_names_the_account(signed_in_app):
    db, department, sign_in = signed_in_app
    at = sign_in("vanphong")
    assert at.title[0].value.startswith("Tổng quan CCHC")
    at.switch_page("views/cham_diem.py").run()
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    at.radio(key=f"s-{assessment.id}-1.1.1-tier").set_value("Ban hành không kịp thời").run()
    assert audit_trail.audit_log(db, department.id, entity_key="2026/1.1.1", viewer=actors.SYSTEM_ACTOR)[0].actor == "vanphong"


def test_an_account_disabled_while_its_page_is_open_cannot_save(signed_in_app):
    db, department, sign_in = signed_in_app
    at = sign_in("vanphong")
    at.switch_page("views/cham_diem.py").run()
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    with db.session() as session:  # the administrator disables the account meanwhile
        session.scalar(select(Account).where(Account.username == "vanphong")).active = False
    # the change would rerun only the criterion (not app.py's sign-in check): the save itself re-reads the account
    at.radio(key=f"s-{assessment.id}-1.1.1-tier").set_value("Ban hành không kịp thời").run()
    assert assessment_store.list_scores(db, assessment.id).get("1.1.1") is None
    assert at.title[0].value == "Chỉ số CCHC — Đăng nhập"
    assert any("đăng nhập lại" in _plain(e.value) for e in at.error)


def test_a_unit_cannot_open_settings(signed_in_app):
    _, _, sign_in = signed_in_app
    at = sign_in("phongtg")
    at.switch_page("views/cau_hinh.py").run()
    assert any("không được xem nhật ký" in _plain(e.value) for e in at.error)
    assert not at.tabs  # the page stopped before drawing anything


def test_a_unit_sees_scores_read_only(signed_in_app):
    db, department, sign_in = signed_in_app
    at = sign_in("phongtg")
    at.switch_page("views/cham_diem.py").run()
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    assert at.radio(key=f"s-{assessment.id}-1.1.1-tier").disabled
    assert any("chỉ đọc" in _plain(i.value) for i in at.info)


def test_the_appraiser_waits_for_the_lock(signed_in_app):
    _, _, sign_in = signed_in_app
    at = sign_in("snv")
    at.switch_page("views/cham_diem.py").run()
    assert any("sau khi cơ quan đã khóa bản tự chấm" in _plain(e.value) for e in at.error)


def test_lock_panel_lists_what_blocks_the_lock(signed_in_app):
    _, _, sign_in = signed_in_app
    at = sign_in("vanphong")
    at.switch_page("views/cham_diem.py").run()
    assert not [b for b in at.button if b.key == "lock-now"]  # closed: the blockers are not even worked out
    _open_lock_panel(at)
    assert any(_plain(w.value).startswith("Còn ") and "vướng mắc" in _plain(w.value) for w in at.warning)
    assert at.button(key="lock-now").disabled


def _open_lock_panel(at: AppTest) -> None:
    at.session_state["lock-panel-open"] = True  # what clicking the expander does
    at.run()


def test_leader_gets_the_projector_not_the_editors(signed_in_app):
    db, department, sign_in = signed_in_app
    at = sign_in("lanhdao")
    at.switch_page("views/trinh_chieu.py").run()
    assert "tổng hợp" in at.title[0].value
    at.switch_page("views/ke_hoach.py").run()
    assert not at.exception
    assert ui.UNEXPECTED_ERROR not in [_plain(e.value) for e in at.error]


def _plain(markdown: str) -> str:
    """What a message reads on screen: the pages escape markdown in user text (ui.md), the tests read past it."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_a_unit_starts_on_the_activities_it_leads(signed_in_app):
    _, _, sign_in = signed_in_app
    at = sign_in("phongtg")
    at.switch_page("views/ke_hoach.py").run()
    # III.1 and III.2 name Phòng Tôn giáo; II.1 is led by "Các phòng thuộc Sở", which includes it
    assert any(_plain(c.value).startswith("3 hoạt động") for c in at.caption)
    assert at.multiselect(key="plan-f-unit").value == ["Phòng Tôn giáo"]


def test_the_administrator_creates_an_account_on_the_settings_page(signed_in_app):
    db, _, sign_in = signed_in_app
    at = sign_in("quantri")
    at.switch_page("views/cau_hinh.py").run()
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Tên đăng nhập"].input("tranthib")
    form_inputs["Họ tên"].input("Trần Thị B")
    form_inputs["Mật khẩu (ít nhất 10 ký tự)"].input("Mot-mat-khau-rat-dai")
    next(s for s in at.selectbox if s.label == "Vai trò").set_value(Role.LEADER)
    next(b for b in at.button if b.label == "Tạo tài khoản").click().run()
    assert any("Đã tạo tài khoản «tranthib»" in _plain(s.value) for s in at.success)
    created = next(a for a in accounts.list_accounts(db) if a.username == "tranthib")
    assert (created.role, created.display_name) == (Role.LEADER, "Trần Thị B")


def test_office_cannot_manage_accounts(signed_in_app):
    _, _, sign_in = signed_in_app
    at = sign_in("vanphong")
    at.switch_page("views/cau_hinh.py").run()
    assert "Tài khoản" not in [t.label for t in at.tabs] and at.tabs  # the tab is for administrators only
    assert not [b for b in at.button if b.label == "Tạo tài khoản"]


def _score_every_leaf(db, department_id: int) -> None:
    from scoring.criteria.rules import RuleKind

    assessment = assessment_state.get_assessment(db, department_id, 2026)
    criteria = criteria_store.load_criteria(db, assessment.criteria_set_id)
    inputs = {RuleKind.TIERS: lambda r: {"tier": r.tiers[0].label}, RuleKind.RATIO: lambda r: {"numerator": 9, "denominator": 10},
              RuleKind.COUNT: lambda r: {"count": 1}, RuleKind.VALUE: lambda r: {"value": "0"},
              RuleKind.DEDUCTION: lambda r: {"occurrences": 0}, RuleKind.SURVEY: lambda r: {}}
    for leaf in criteria.leaves():
        assessment_store.save_self_score(db, assessment.id, leaf.code, 0, inputs=inputs[leaf.rule.kind](leaf.rule),
                             explanation="Đối chiếu hồ sơ", actor="vanphong")


def test_lock_from_the_page_then_the_administrator_reopens_with_a_reason(signed_in_app):
    db, department, sign_in = signed_in_app
    _score_every_leaf(db, department.id)
    office = sign_in("vanphong")
    office.switch_page("views/cham_diem.py").run()
    _open_lock_panel(office)
    assert office.button(key="lock-now").disabled  # not before saying what locking means
    office.checkbox(key="lock-understood").check().run()
    assert not office.button(key="lock-now").disabled
    office.button(key="lock-now").click().run()
    assert any("Đã chốt điểm tự chấm" in _plain(s.value) for s in office.success)
    assert assessment_state.get_assessment(db, department.id, 2026).locked_by == "vanphong"
    assert not [b for b in office.button if b.key == "lock-reopen"]  # only the administrator reopens

    admin = sign_in("quantri")
    admin.switch_page("views/cham_diem.py").run()
    _open_lock_panel(admin)
    admin.text_input(key="lock-reopen-reason").input("Bổ sung tài liệu tiêu chí 1.2.1")
    admin.button(key="lock-reopen").click().run()
    assert assessment_state.get_assessment(db, department.id, 2026).locked_at is None


def test_year_settings_and_next_year_from_the_settings_page(signed_in_app):
    db, department, sign_in = signed_in_app
    admin = sign_in("quantri")
    admin.switch_page("views/cau_hinh.py").run()
    next(n for n in admin.text_input if n.label == "Điểm thưởng tối đa").set_value("2")
    next(b for b in admin.button if b.label == "Lưu thiết lập năm").click().run()
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    assert str(cycle_store.year_settings(db, assessment.id).bonus_cap) in ("2", "2.0")
    next(b for b in admin.button if b.label == "Mở năm").click().run()
    assert assessment_state.get_assessment(db, department.id, 2027) is not None
    assert cycle_store.year_settings(db, assessment_state.get_assessment(db, department.id, 2027).id).bonus_cap == cycle_store.year_settings(db, assessment.id).bonus_cap


def test_the_appraiser_starts_on_every_departments_progress_and_a_row_opens_its_scoring_page(signed_in_app):
    db, department, sign_in = signed_in_app
    other = department_store.create_department(db, "Sở Xây dựng", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    with db.session() as session:  # the appraiser looks after both departments
        from scoring.store.models import AccountDepartment
        appraiser = session.scalar(select(Account).where(Account.username == "snv"))
        appraiser.departments.append(AccountDepartment(department_id=other))
    at = sign_in("snv")
    assert at.title[0].value == "Các cơ quan — năm 2026"  # the appraiser's first page
    table = at.dataframe[0].value
    assert list(table["Cơ quan"]) == ["Sở Dân tộc và Tôn giáo", "Sở Xây dựng"]
    assert list(table["Giai đoạn"]) == ["Đang tự chấm", "Chưa mở năm đánh giá"]
    assert list(table["Chỉ số tự đánh giá"]) == ["— (chưa chốt)", "— (chưa chốt)"]  # drafts stay the department's
    link = table["Chấm điểm"][0]
    assert link == f"/cham-diem?co-quan={department.id}&nam=2026"
    # following the link: the scoring page of that department (here the sidebar starts on the other one)
    at.session_state["department_id"] = other
    at.query_params["co-quan"] = str(department.id)
    at.query_params["nam"] = "2026"
    at.switch_page("views/cham_diem.py").run()
    assert at.session_state["department_id"] == department.id and "co-quan" not in at.query_params


@pytest.mark.parametrize("username", ["vanphong", "phongtg", "lanhdao"])
def test_department_accounts_have_no_province_page(signed_in_app, username):
    _, _, sign_in = signed_in_app
    at = sign_in(username)
    at.switch_page("views/cac_co_quan.py").run()
    assert not at.dataframe and any("xem tiến độ của các cơ quan" in _plain(e.value) for e in at.error)


# ---------------------------------------------------------------- the province's ranking: Word download, projector


@pytest.fixture
def published_province(signed_in_app):
    """Three departments of the group «Sở» held by the appraiser, published in 2026 (B 94, A and C 84: a tie) and
    A and B in 2025; and a fourth, not published."""
    from scoring.criteria.files import criteria_set_from_dict
    from scoring.province import groups
    from scoring.store.models import AccountDepartment
    from tests.test_cycle_store import CYCLE_SET
    from tests.test_ranking import _published

    db, department, sign_in = signed_in_app
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    group = groups.create_group(db, "Sở", actor=actors.SYSTEM_ACTOR)
    ids = {}
    for name in ("Sở A", "Sở B", "Sở C", "Sở D"):
        ids[name] = department_store.create_department(db, name, ["Văn phòng"], governing_body="UBND tỉnh Quảng Ninh",
                                           place="Quảng Ninh", actor=actors.SYSTEM_ACTOR)
        version = next(d.version for d in department_store.list_departments(db) if d.id == ids[name])
        groups.assign_group(db, ids[name], version, group, actor=actors.SYSTEM_ACTOR)
    for name, year, points in (("Sở A", 2026, (4, 2)), ("Sở B", 2026, (4, 3)), ("Sở C", 2026, (4, 2)),
                               ("Sở A", 2025, (4, 3)), ("Sở B", 2025, (2, 2))):
        _published(db, ids[name], set_id, year, *points)
    with db.session() as session:
        appraiser = session.scalar(select(Account).where(Account.username == "snv"))
        appraiser.departments.clear()
        appraiser.departments.extend(AccountDepartment(department_id=ids[name]) for name in ids)
    return db, ids, sign_in


def _open_tab(at, label: str) -> None:
    """A click on one of Các cơ quan's tabs: they rerun the page, which draws the tab chosen only."""
    at.session_state["province-tab"] = label
    at.run()


def test_the_appraiser_downloads_the_ranking_as_a_decree_30_document(published_province, deferred):
    import io

    from docx import Document

    db, ids, sign_in = published_province
    at = sign_in("snv")
    assert at.title[0].value == "Các cơ quan — năm 2026"
    assert not any("Hạng" in df.value.columns for df in at.dataframe)  # the progress tab only, until the ranking is opened
    _open_tab(at, "Xếp hạng")
    assert at.dataframe and not any("Giai đoạn" in df.value.columns for df in at.dataframe)  # then the ranking only
    table = next(df.value for df in at.dataframe if "Hạng" in df.value.columns)
    assert list(table["Chỉ số 2026"]) == ["94,00%", "84,00%", "84,00%", "—"]  # as the file writes them
    at.selectbox(key="ranking-issuer").set_value("ubnd-tinh").run()
    button = next(b for b in at.get("download_button") if b.key == "ranking-download-docx")
    make, file_name = deferred[button.proto.deferred_file_id]
    assert button.proto.label == "Tải văn bản xếp hạng (Word)" and file_name.startswith("xep-hang-chi-so-cchc-2026-")
    assert file_name.endswith(".docx")
    sheet = next(b for b in at.get("download_button") if b.key == "ranking-download")
    assert deferred[sheet.proto.deferred_file_id][1].endswith(".xlsx")
    # Sở C's index is reopened after the page was drawn: the file is made at the click, from what is stored then
    cycle_store.reopen_published(db, assessment_state.get_assessment(db, ids["Sở C"], 2026).id, "Sửa điểm tiêu chí 1.2", actor="quantri")
    document = Document(io.BytesIO(make()))
    assert document.tables[0].cell(0, 0).paragraphs[0].text == "ỦY BAN NHÂN DÂN\nTỈNH QUẢNG NINH"
    rows = [[c.text for c in row.cells][:4] for row in document.tables[1].rows[1:]]
    assert rows == [["1", "Sở B", "94,00", rows[0][3]], ["2", "Sở A", "84,00", rows[1][3]],
                    ["—", "Sở C", "—", "Chưa công bố"], ["—", "Sở D", "—", "Chưa công bố"]]


def test_the_appraiser_ranks_the_departments_by_one_criterion(published_province):
    _, _, sign_in = published_province
    at = sign_in("snv")
    _open_tab(at, "Xếp hạng")
    assert not [s for s in at.selectbox if s.key == "ranking-criterion-Sở"]  # drawn once its expander is opened
    at.session_state["ranking-criteria-Sở"] = True  # the click on «Xếp hạng theo tiêu chí — Sở»: the page reruns
    at.run()
    assert list(next(df.value for df in at.dataframe if "Điểm thẩm định" in df.value.columns)["Hạng"]) == [1, 1, 1]  # 1.1
    at.selectbox(key="ranking-criterion-Sở").set_value("1.2").run()
    table = next(df.value for df in at.dataframe if "Điểm thẩm định" in df.value.columns)
    assert list(table["Cơ quan"]) == ["Sở B", "Sở A", "Sở C"]  # Sở D has not published: not ranked by any criterion
    assert list(table["Hạng"]) == [1, 2, 2] and list(table["Điểm thẩm định"]) == ["3", "2", "2"]


def test_the_ranking_draws_the_group_chosen(published_province):
    """One group's ranking at a time, each group a tab of its own (they rerun the page, as the page's tabs do)."""
    from scoring.criteria.files import criteria_set_from_dict
    from scoring.province import groups
    from scoring.store.models import AccountDepartment
    from tests.test_cycle_store import CYCLE_SET
    from tests.test_ranking import _published

    db, ids, sign_in = published_province
    boards = groups.create_group(db, "Ban, ngành", actor=actors.SYSTEM_ACTOR)
    board = department_store.create_department(db, "Ban E", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    groups.assign_group(db, board, next(d.version for d in department_store.list_departments(db) if d.id == board), boards,
                        actor=actors.SYSTEM_ACTOR)
    _published(db, board, criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR),
               2026, 2, 1)
    with db.session() as session:
        appraiser = session.scalar(select(Account).where(Account.username == "snv"))
        appraiser.departments.append(AccountDepartment(department_id=board))
    at = sign_in("snv")
    _open_tab(at, "Xếp hạng")
    assert [t.label for t in at.tabs][-2:] == ["Ban, ngành", "Sở"]
    ranked = lambda: [list(df.value["Cơ quan"]) for df in at.dataframe if "Hạng" in df.value.columns]  # noqa: E731
    assert ranked() == [["Ban E"]]  # the first group only
    at.session_state["ranking-group"] = "Sở"
    at.run()
    assert ranked() == [["Sở B", "Sở A", "Sở C", "Sở D"]]
    assert [s.value for s in at.subheader] == ["Sở"]


def test_the_appraiser_projects_the_ranking_and_its_movement(published_province):
    import json

    _, _, sign_in = published_province
    at = sign_in("snv")
    at.switch_page("views/trinh_chieu.py").run()
    assert not at.exception
    assert at.title[0].value == "Xếp hạng năm 2026: Sở"  # no department screens: the appraiser runs no department's meeting
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Đã công bố chỉ số"], metrics["Chỉ số cao nhất"], metrics["Chỉ số thấp nhất"]) == (
        "3/4 cơ quan", "94,00%", "84,00%")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bars = charts[0]["data"][0]
    assert bars["y"] == ["1. Sở B", "2. Sở A", "2. Sở C"] and bars["text"][0].startswith("94,00%")
    assert any("Sở D" in m.value for m in at.markdown)  # named, unranked
    at.button(key="slide-next").click().run()
    assert at.title[0].value == "Tăng, giảm hạng: năm 2026 so với năm 2025"
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert bars["y"] == ["Sở B", "Sở A"] and bars["x"] == [1, -1]
    assert bars["text"] == ["▲ 1 bậc (hạng 2 → 1)", "▼ 1 bậc (hạng 1 → 2)"]
    at.button(key="slide-next").click().run()
    assert at.title[0].value == "Xếp hạng năm 2026: Sở"  # round again


def test_a_department_account_gets_no_ranking_screens_and_a_unit_no_projector(published_province):
    _, _, sign_in = published_province
    office = sign_in("vanphong")
    office.switch_page("views/trinh_chieu.py").run()
    assert "tổng hợp" in office.title[0].value
    jumps = office.get("button_group")[0].proto.options
    assert [o.content for o in jumps][0] == "Tổng hợp" and not any("Hạng" in o.content for o in jumps)
    office.button(key="slide-prev").click().run()  # before the summary: the last area, no ranking
    assert office.title[0].value.startswith("8.")
    unit = sign_in("phongtg")
    unit.switch_page("views/trinh_chieu.py").run()
    assert any("không được dùng chế độ trình chiếu" in _plain(e.value) for e in unit.error) and not unit.metric
