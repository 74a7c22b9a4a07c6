"""`python -m scoring init`: the first start, run by scripts/run.sh before the server."""

from __future__ import annotations

import io

from scoring import accounts
from scoring import repository as repo
from scoring.cli import main
from scoring.db import open_database


def test_init_creates_the_default_and_prints_the_first_password_once(monkeypatch):
    monkeypatch.setenv("CCHC_AUTH", "on")
    out = io.StringIO()
    assert main(["init"], out=out) == 0
    first = out.getvalue()
    assert "vừa tạo" in first and "«quantri»" in first
    password = first.split("(chỉ hiện MỘT lần): ", 1)[1].split()[0]
    db = open_database()
    assert accounts.sign_in(db, "quantri", password).role.value == "admin"
    assert len(repo.list_activities(db, repo.list_departments(db)[0].id, 2026)) == 22

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
