"""Cấu hình → Tài khoản as the administrator uses it (AppTest): create, reset, lock, roles, conflicts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from scoring.access import accounts
from scoring.access.auth import PermissionDenied, Role
from scoring.store import actors, assessment_state, audit_trail, department_store
from scoring.store.db import open_database
from scoring.store.models import Account
from scoring.store.workspace import ensure_default_workspace

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "Mat-khau-du-dai-2026"
TAB = "Tài khoản"


@pytest.fixture
def people(monkeypatch):
    """Sign-in on, the bundled department, an administrator, an Office and a unit account."""
    monkeypatch.setenv("CCHC_AUTH", "on")
    db = open_database()  # the scratch folder the app uses (CCHC_DATA_DIR from conftest)
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    for username, role, unit in (("quantri", Role.ADMIN, None), ("vanphong", Role.OFFICE, None),
                                 ("phongtg", Role.UNIT, "Phòng Tôn giáo")):
        accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=[department.id], unit=unit,
                                actor=actors.SYSTEM_ACTOR)
    return db, department


_COOKIE = {}


@pytest.fixture(autouse=True)
def _browser_cookie(browser_cookie):
    _COOKIE["sign_in"] = browser_cookie


def _signed_in(username: str) -> AppTest:
    """A new browser tab with `username` signed in (the one place this file signs in)."""
    at = AppTest.from_file(APP, default_timeout=60)
    _COOKIE["sign_in"](at, username, PASSWORD)
    at.run()
    _clean(at)
    return at


def _settings(username: str) -> AppTest:
    """Cấu hình, its accounts tab chosen (as a click on the tab would: AppTest cannot click a tab)."""
    at = _signed_in(username)
    at.switch_page("views/cau_hinh.py").run()
    if TAB in [t.label for t in at.tabs]:
        at.session_state["settings-tab"] = TAB
        at.run()
    _clean(at)
    return at


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _input(at: AppTest, widgets: str, label: str, editor: str):
    """The widget with this label whose key starts with `editor` (the new-account fields, or one account's editor)."""
    (widget,) = [w for w in getattr(at, widgets) if w.label == label and (w.key or "").startswith(editor)]
    return widget


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    _clean(at)
    return at


def _errors(at: AppTest) -> list[str]:
    return [_plain(e.value) for e in at.error]


def _edit(at: AppTest, username: str) -> AppTest:
    at.button_group(key="account-section").set_value("Sửa tài khoản").run()
    at.selectbox(key="account-pick").set_value(username).run()
    _clean(at)
    return at


def _account(db, username: str) -> accounts.AccountView:
    return next(a for a in accounts.list_accounts(db) if a.username == username)


def test_the_list_shows_names_roles_departments_and_states(people):
    db, department = people
    for _ in range(5):
        with pytest.raises(Exception):
            accounts.sign_in(db, "phongtg", "sai-mat-khau-roi")
    accounts.update_account(db, "vanphong", 1, active=False, actor=actors.SYSTEM_ACTOR)
    at = _settings("quantri")
    assert TAB in [t.label for t in at.tabs]
    table = next(d for d in at.dataframe if "Tên đăng nhập" in d.value.columns).value.set_index("Tên đăng nhập")
    assert list(table.columns) == ["Họ tên", "Vai trò", "Đơn vị", "Cơ quan", "Trạng thái", "Thư điện tử"]
    assert table.loc["quantri", "Vai trò"] == "Quản trị" and table.loc["quantri", "Trạng thái"] == "đang dùng"
    assert table.loc["vanphong", "Trạng thái"] == "đã vô hiệu hóa"
    assert re.fullmatch(r"tạm khóa đến \d\d:\d\d \d\d/\d\d/\d{4}", table.loc["phongtg", "Trạng thái"])
    assert table.loc["phongtg", "Trạng thái"] == _account(db, "phongtg").status_text()  # Vietnam time, as the core says
    assert table.loc["phongtg", "Đơn vị"] == "Phòng Tôn giáo"
    assert set(table["Cơ quan"]) == {department.name}  # names, not ids


def test_a_new_account_starts_with_no_role_and_a_weak_password_is_said_at_the_field_keeping_what_was_typed(people):
    db, department = people
    at = _settings("quantri")
    role = _input(at, "selectbox", "Vai trò", "new-account")
    assert role.value is None  # never "Quản trị" by default
    _input(at, "text_input", "Tên đăng nhập", "new-account").input("tranthib")
    _input(at, "text_input", "Họ tên", "new-account").input("Trần Thị B")
    role.set_value(Role.UNIT).run()
    _input(at, "selectbox", "Đơn vị", "new-account").set_value("Phòng Tôn giáo")
    _input(at, "text_input", "Mật khẩu (ít nhất 10 ký tự)", "new-account").input("ngan")
    _click(at, "Tạo tài khoản")

    assert "tranthib" not in {a.username for a in accounts.list_accounts(db)}
    assert _errors(at) == ["Mật khẩu chưa đạt: Mật khẩu phải có ít nhất 10 ký tự."]
    # said at the field: the error is the element drawn right after the password input
    drawn = [(n.type, getattr(n, "key", None)) for n in at.main if n.type in ("text_input", "selectbox", "error", "button")]
    password_at = next(i for i, (kind, key) in enumerate(drawn) if kind == "text_input" and key.endswith("-password"))
    assert drawn[password_at + 1][0] == "error"
    assert at.session_state["settings-tab"] == TAB  # still on the accounts tab
    assert _input(at, "text_input", "Tên đăng nhập", "new-account").value == "tranthib"
    assert _input(at, "text_input", "Họ tên", "new-account").value == "Trần Thị B"
    assert _input(at, "selectbox", "Vai trò", "new-account").value is Role.UNIT
    assert _input(at, "selectbox", "Đơn vị", "new-account").value == "Phòng Tôn giáo"

    _input(at, "text_input", "Mật khẩu (ít nhất 10 ký tự)", "new-account").input("Mot-mat-khau-rat-dai")
    _click(at, "Tạo tài khoản")
    assert not _errors(at)
    assert any("Đã tạo tài khoản «tranthib» (Phòng/đơn vị)" in _plain(s.value) for s in at.success)
    created = _account(db, "tranthib")
    assert (created.role, created.display_name, created.unit, created.department_ids) == (
        Role.UNIT, "Trần Thị B", "Phòng Tôn giáo", [department.id])
    assert _input(at, "text_input", "Tên đăng nhập", "new-account").value == ""  # drawn empty for the next one
    assert accounts.sign_in(db, "tranthib", "Mot-mat-khau-rat-dai").unit == "Phòng Tôn giáo"


def test_creating_without_a_role_is_said_at_the_role(people):
    db, _ = people
    at = _settings("quantri")
    _input(at, "text_input", "Tên đăng nhập", "new-account").input("khongvaitro")
    _input(at, "text_input", "Mật khẩu (ít nhất 10 ký tự)", "new-account").input("Mot-mat-khau-rat-dai")
    _click(at, "Tạo tài khoản")
    assert _errors(at) == ["Hãy chọn vai trò của tài khoản."]
    assert "khongvaitro" not in {a.username for a in accounts.list_accounts(db)}


def test_a_reset_shows_the_new_password_once_and_it_works(people):
    db, _ = people
    at = _edit(_settings("quantri"), "vanphong")
    _click(at, "Đặt lại mật khẩu")
    assert any("Đã đặt lại mật khẩu của tài khoản «vanphong»" in _plain(s.value) for s in at.success)
    (shown,) = [c.value for c in at.code]
    assert any("chỉ hiện một lần" in _plain(i.value) for i in at.info)
    assert accounts.sign_in(db, "vanphong", shown).username == "vanphong"
    assert not [k for k in at.session_state.keys() if shown in repr(at.session_state[k])]  # not kept in the session
    at.run()
    assert not at.code  # never shown again
    entry = audit_trail.audit_log(db, department_store.list_departments(db)[0].id, viewer=actors.SYSTEM_ACTOR, with_accounts=True)[0]
    assert (entry.field, entry.actor, entry.old, entry.new) == ("đặt lại mật khẩu", "quantri", "—", "—")


def test_lock_out_disable_and_role_changes_from_the_editor(people):
    db, department = people
    for _ in range(5):
        with pytest.raises(Exception):
            accounts.sign_in(db, "phongtg", "sai-mat-khau-roi")
    at = _edit(_settings("quantri"), "phongtg")
    assert any("tạm khóa đến" in _plain(m.value) for m in at.markdown)
    _click(at, "Mở khóa đăng nhập")
    assert not _account(db, "phongtg").locked()
    assert not [b for b in at.button if b.label == "Mở khóa đăng nhập"]
    assert accounts.sign_in(db, "phongtg", PASSWORD).username == "phongtg"

    _click(at, "Vô hiệu hóa tài khoản")  # expects the version after its own unlock: no conflict
    assert not _errors(at) and not _account(db, "phongtg").active
    _click(at, "Cho dùng lại")
    assert _account(db, "phongtg").active

    _input(at, "selectbox", "Vai trò", "account-edit:phongtg").set_value(Role.APPRAISER).run()
    assert not [s for s in at.selectbox if s.label == "Đơn vị"]  # only a unit account has a unit
    _click(at, "Lưu thay đổi")
    changed = _account(db, "phongtg")
    assert (changed.role, changed.unit) == (Role.APPRAISER, None)


def test_a_unit_is_chosen_from_the_departments_list(people):
    db, department = people
    at = _edit(_settings("quantri"), "phongtg")
    unit = _input(at, "selectbox", "Đơn vị", "account-edit:phongtg")
    assert unit.value == "Phòng Tôn giáo" and unit.options == department.units
    unit.set_value(department.units[0]).run()
    _click(at, "Lưu thay đổi")
    assert _account(db, "phongtg").unit == department.units[0]


def test_a_unit_account_without_its_department_is_refused_at_the_departments_field(people):
    db, department = people
    at = _edit(_settings("quantri"), "phongtg")
    _input(at, "multiselect", "Cơ quan", "account-edit:phongtg").set_value([]).run()
    _click(at, "Lưu thay đổi")
    drawn = [(n.type, getattr(n, "key", None)) for n in at.main if n.type in ("multiselect", "selectbox", "error")]
    departments_at = next(i for i, (kind, key) in enumerate(drawn) if kind == "multiselect")
    assert drawn[departments_at + 1][0] == "error"
    assert _errors(at) == ["Tài khoản phòng/đơn vị làm việc cho đúng một cơ quan: hãy chọn một cơ quan."]
    assert _input(at, "multiselect", "Cơ quan", "account-edit:phongtg").value == []  # what was chosen stays
    assert _account(db, "phongtg").department_ids == [department.id]


def test_a_change_made_meanwhile_is_told_and_not_overwritten(people):
    db, _ = people
    at = _edit(_settings("quantri"), "vanphong")
    accounts.update_account(db, "vanphong", 1, display_name="Văn phòng Sở", actor="quantri2")  # another administrator
    _input(at, "selectbox", "Vai trò", "account-edit:vanphong").set_value(Role.LEADER).run()
    _click(at, "Lưu thay đổi")
    errors = _errors(at)
    assert any("Tài khoản «vanphong» vừa được sửa bởi quantri2 lúc " in e and "chưa được lưu" in e for e in errors), errors
    stored = _account(db, "vanphong")
    assert (stored.role, stored.display_name) == (Role.OFFICE, "Văn phòng Sở")
    # the editor now shows what is stored, and a save from it goes through
    assert _input(at, "text_input", "Họ tên", "account-edit:vanphong").value == "Văn phòng Sở"
    _click(at, "Đặt lại mật khẩu")
    assert not _errors(at) and at.code


def test_the_last_administrator_cannot_disable_itself_from_the_page(people):
    db, _ = people
    at = _edit(_settings("quantri"), "quantri")
    _click(at, "Vô hiệu hóa tài khoản")
    assert any("quản trị viên cuối cùng còn hoạt động" in e for e in _errors(at))
    assert _account(db, "quantri").active


def test_others_do_not_see_the_tab_and_the_core_refuses_them(people):
    db, department = people
    at = _settings("vanphong")
    assert TAB not in [t.label for t in at.tabs] and at.tabs  # the page is there, without the tab
    assert not [b for b in at.button if b.label in ("Tạo tài khoản", "Đặt lại mật khẩu")]
    office = accounts.principal_for(db, "vanphong")
    with pytest.raises(PermissionDenied):
        accounts.create_account(db, "moi", role=Role.LEADER, password=PASSWORD, department_ids=[department.id], actor=office)
    with pytest.raises(PermissionDenied):
        accounts.reset_password(db, "phongtg", PASSWORD + "x", expected_version=1, actor=office)
    with pytest.raises(PermissionDenied):
        accounts.list_accounts(db, viewer=office)
    with db.session() as session:
        assert session.scalar(select(Account).where(Account.username == "moi")) is None


# ---------------------------------------------------------------- the email address and the reminders (scoring.assessment.reminders)


def _unlinked(markdown: str) -> str:
    """The text as read: ui.md keeps an address from becoming a link with a word joiner after its @."""
    return _plain(markdown).replace("\u2060", "")


def test_an_address_is_refused_at_its_field_then_set_changed_and_shown(people):
    db, department = people
    at = _settings("quantri")
    _input(at, "text_input", "Tên đăng nhập", "new-account").input("tranthib")
    _input(at, "selectbox", "Vai trò", "new-account").set_value(Role.LEADER).run()
    _input(at, "text_input", "Mật khẩu (ít nhất 10 ký tự)", "new-account").input("Mot-mat-khau-rat-dai")
    _input(at, "text_input", "Thư điện tử", "new-account").input("tran thi b@sodttg")
    _click(at, "Tạo tài khoản")
    assert "tranthib" not in {a.username for a in accounts.list_accounts(db)}
    (said,) = _errors(at)
    assert _unlinked(said).startswith("Thư điện tử «tran thi b@sodttg» không hợp lệ: hãy ghi một địa chỉ dạng ten@coquan.gov.vn")
    drawn = [(n.type, getattr(n, "key", None)) for n in at.main if n.type in ("text_input", "selectbox", "error", "button")]
    email_at = next(i for i, (kind, key) in enumerate(drawn) if kind == "text_input" and key.endswith("-email"))
    assert drawn[email_at + 1][0] == "error"  # beside the field, what was typed kept
    assert _input(at, "text_input", "Thư điện tử", "new-account").value == "tran thi b@sodttg"

    _input(at, "text_input", "Thư điện tử", "new-account").input("tranthib@sodttg.gov.vn")
    _click(at, "Tạo tài khoản")
    assert not _errors(at) and _account(db, "tranthib").email == "tranthib@sodttg.gov.vn"
    table = next(d for d in at.dataframe if "Tên đăng nhập" in d.value.columns).value.set_index("Tên đăng nhập")
    assert table.loc["tranthib", "Thư điện tử"] == "tranthib@sodttg.gov.vn"

    at = _edit(at, "vanphong")
    _input(at, "text_input", "Thư điện tử", "account-edit:vanphong").input("VanPhong@SoDTTG.gov.vn")
    _click(at, "Lưu thay đổi")
    assert _account(db, "vanphong").email == "VanPhong@sodttg.gov.vn"
    entry = audit_trail.audit_log(db, department.id, viewer=actors.SYSTEM_ACTOR, with_accounts=True)[0]
    assert (entry.field, entry.actor, entry.new) == ("thư điện tử", "quantri", "VanPhong@sodttg.gov.vn")
    _input(at, "text_input", "Thư điện tử", "account-edit:vanphong").input("")
    _click(at, "Lưu thay đổi")
    assert _account(db, "vanphong").email is None  # emptied: no reminders for it


def test_the_accounts_tab_says_whether_reminders_are_on_and_to_whom_the_last_went(people, monkeypatch):
    from datetime import date

    from scoring.assessment import reminders

    db, department = people
    for name in ("CCHC_SMTP_HOST", "CCHC_SMTP_PORT", "CCHC_SMTP_USER", "CCHC_SMTP_PASSWORD", "CCHC_SMTP_FROM", "CCHC_SMTP_SECURITY"):
        monkeypatch.delenv(name, raising=False)
    at = _settings("quantri")
    assert any(_unlinked(i.value).startswith("Nhắc việc qua thư điện tử đang tắt: chưa cấu hình máy chủ gửi thư") for i in at.info)

    office = _account(db, "vanphong")
    accounts.update_account(db, "vanphong", office.version, email="vanphong@sodttg.gov.vn", actor=actors.SYSTEM_ACTOR)
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    deadline = assessment_state.cycle_state(db, assessment.id).round("tu_cham").closes
    settings = reminders.SmtpSettings("127.0.0.1", 2525, reminders.SECURITY_NONE, "cchc@sonoivu.gov.vn")
    outbox = []
    sent = reminders.send_reminders(db, settings, today=date.fromordinal(deadline.toordinal() - 3), mailer=outbox.append)
    assert [d.username for d in sent.sent] == ["vanphong"] and len(outbox) == 1
    monkeypatch.setenv("CCHC_SMTP_HOST", "smtp.tinh.gov.vn")
    monkeypatch.setenv("CCHC_SMTP_FROM", "cchc@tinh.gov.vn")
    monkeypatch.setenv("CCHC_REMINDERS", "on")
    import ui

    monkeypatch.setattr(ui, "send_reminders_now_and_then", lambda database: None)  # the page's own run: not in this test
    at = _settings("quantri")
    assert any(_unlinked(s.value).startswith("Nhắc việc qua thư điện tử đang bật: mỗi giờ một lần khi ứng dụng được dùng, gửi qua "
                                          "smtp.tinh.gov.vn:587 (STARTTLS), gửi từ cchc@tinh.gov.vn.") for s in at.success)
    recent = next(d for d in at.dataframe if "Gửi tới" in d.value.columns).value
    assert list(recent.columns) == ["Thời điểm", "Tài khoản", "Gửi tới", "Số việc"]
    assert recent.iloc[0].tolist()[1:] == ["vanphong", "vanphong@sodttg.gov.vn", len(sent.sent[0].items)]
