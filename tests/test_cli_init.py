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
