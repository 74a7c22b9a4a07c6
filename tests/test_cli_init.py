"""`python -m scoring init`: the first start, run by scripts/run.sh before the server."""

from __future__ import annotations

import io

from scoring.access import accounts
from scoring.cli import main
from scoring.store import department_store, plan_store
from scoring.store.db import open_database


def test_init_creates_the_default_and_prints_the_first_password_once(monkeypatch):
    monkeypatch.setenv("CCHC_AUTH", "on")
    out = io.StringIO()
    assert main(["init"], out=out) == 0
    first = out.getvalue()
    assert "vừa tạo" in first and "«quantri»" in first
    password = first.split("(chỉ hiện MỘT lần): ", 1)[1].split()[0]
    db = open_database()
    assert accounts.sign_in(db, "quantri", password).role.value == "admin"
    assert len(plan_store.list_activities(db, department_store.list_departments(db)[0].id, 2026)) == 22

    again = io.StringIO()
    assert main(["init"], out=again) == 0  # idempotent: nothing created, no password shown again
    assert "vừa tạo" not in again.getvalue() and "mật khẩu" not in again.getvalue()


def test_users_add_list_reset_from_the_shell(monkeypatch):
    assert main(["init"], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["users", "add", "NguyenVanA", "--role", "unit", "--unit", "Phòng Tôn giáo", "--name", "Nguyễn Văn A"], out=out) == 0
    password = out.getvalue().split("(chỉ hiện một lần): ", 1)[1].split()[0]
    db = open_database()
    principal = accounts.sign_in(db, "nguyenvana", password)  # user names are kept in lower case
    assert (principal.role.value, principal.unit) == ("unit", "Phòng Tôn giáo")

    listing = io.StringIO()
    assert main(["users", "list"], out=listing) == 0
    assert "nguyenvana" in listing.getvalue() and "Phòng Tôn giáo" in listing.getvalue()

    reset = io.StringIO()
    assert main(["users", "reset", "nguyenvana"], out=reset) == 0
    new_password = reset.getvalue().split("(chỉ hiện một lần): ", 1)[1].split()[0]
    assert accounts.sign_in(db, "nguyenvana", new_password).username == "nguyenvana"

    errors = io.StringIO()
    assert main(["users", "reset", "khong-co"], out=io.StringIO(), err=errors) == 2
    assert errors.getvalue().strip() == "Lỗi: Không có tài khoản «khong-co»."


def test_without_init_the_server_makes_no_account_and_the_sign_in_page_says_how(monkeypatch, capfd, web_client):
    """A visitor opening (or trying) the sign-in page of a server started on an empty data folder creates no
    administrator and makes nobody's password appear in the server's log; the page says what to run instead."""
    monkeypatch.setenv("CCHC_AUTH", "on")
    for _visit in range(2):
        page = web_client.get("/dang-nhap")
        assert page.status_code == 200
        assert "python -m scoring init" in accounts.NO_ADMIN_YET and "<code>python -m scoring init</code>" in page.text
        assert "<form" not in page.text  # nothing to submit: there is no account to sign in to
        tried = web_client.post("/dang-nhap", data={"ten_dang_nhap": "quantri", "mat_khau": "x" * 12},
                                headers={"Origin": "http://testserver"})
        assert tried.status_code == 401 and "cchc_phien" not in tried.headers.get("set-cookie", "")
    db = open_database()
    assert accounts.list_accounts(db) == []
    assert department_store.list_departments(db)  # the embedded default is still seeded: no set-up screen
    printed = capfd.readouterr()
    assert "mật khẩu" not in (printed.out + printed.err).lower()

    out = io.StringIO()  # the operator runs init: the password appears once, on that console
    assert main(["init"], out=out) == 0 and "(chỉ hiện MỘT lần)" in out.getvalue()
    page = web_client.get("/dang-nhap")
    assert 'name="ten_dang_nhap"' in page.text and "python -m scoring init" not in page.text
