"""Signing out (or a session running out) leaves nothing of the previous person in the tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui
from scoring.access import accounts
from scoring.access.auth import Role
from scoring.store import actors, department_store
from scoring.store.db import open_database
from scoring.store.workspace import ensure_default_workspace

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "Mat-khau-du-dai-2026"


@pytest.fixture
def accounts_seeded(monkeypatch, browser_cookie):
    monkeypatch.setenv("CCHC_AUTH", "on")
    db = open_database()
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    accounts.create_account(db, "quantri", role=Role.ADMIN, password=PASSWORD, department_ids=[department.id], actor=actors.SYSTEM_ACTOR)
    accounts.create_account(db, "lanhdao", role=Role.LEADER, password=PASSWORD, department_ids=[department.id], actor=actors.SYSTEM_ACTOR)
    return db, browser_cookie


def _sign_in(at: AppTest, sign_in, username: str) -> None:
    sign_in(at, username, PASSWORD)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_signing_out_forgets_everything_the_previous_person_had(accounts_seeded):
    _db, sign_in = accounts_seeded
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    _sign_in(at, sign_in, "quantri")
    at.switch_page("views/cau_hinh.py")
    at.run()
    # whatever the administrator's pages kept in this tab (files made, kept snapshots, widget values)
    at.session_state["backup-bytes"] = b"PK...every department..."
    at.session_state["plan-f-status"] = ["chua_bat_dau"]
    admin_keys = {k for k in at.session_state.keys()}
    assert admin_keys
    at.button(key="sign-out").click().run()
    assert [t.value for t in at.title] == ["Chỉ số CCHC — Đăng nhập"]
    left = set(at.session_state.keys())
    assert not left & admin_keys - {ui.SESSION_DIGEST, ui.SIGN_IN_REASON}, left & admin_keys
    assert at.session_state[ui.SESSION_DIGEST] is None  # the bookkeeping now says: nobody
    _sign_in(at, sign_in, "lanhdao")
    assert "backup-bytes" not in at.session_state
    # the leader may see the button, but it makes no file for them
    assert not [b for b in at.get("download_button") if "sao lưu" in str(b.proto.label) and not b.proto.disabled]
