"""Accounts as the administrator manages them: unlock, the last administrator, units from the department's list,
which field a refusal is about, and what the list shows (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from scoring.access import accounts
from scoring.access.auth import PermissionDenied, Role
from scoring.errors import ConflictError, InputError
from scoring.store import actors, department_store
from scoring.store.models import Account, AuditEntry

SYSTEM = actors.SYSTEM_ACTOR
PASSWORD = "Mat-khau-du-dai-2026"


@pytest.fixture
def world(db):
    """Two departments; one administrator of the first ("quantri"), an administrator of both ("tinh"), an Office
    account of the first and a unit account."""
    home = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"], actor=SYSTEM)
    other = department_store.create_department(db, "Sở Xây dựng", ["Văn phòng", "Phòng Quản lý xây dựng"], actor=SYSTEM)
    for username, role, departments, unit in (("quantri", Role.ADMIN, [home], None), ("tinh", Role.ADMIN, [home, other], None),
                                              ("vanphong", Role.OFFICE, [home], None),
                                              ("tongiao", Role.UNIT, [home], "Phòng Tôn giáo")):
        accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=departments, unit=unit, actor=SYSTEM)
    return db, home, other


def _seen(db, username: str) -> accounts.AccountView:
    return next(a for a in accounts.list_accounts(db) if a.username == username)


def _who(db, username: str):
    return accounts.principal_for(db, username)


def _lock_out(db, username: str) -> None:
    for _ in range(5):
        with pytest.raises(InputError):
            accounts.sign_in(db, username, "sai-mat-khau-roi")


def _audit(db, username: str) -> list[AuditEntry]:
    with db.session() as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.entity == "account", AuditEntry.entity_key == username)
                               .order_by(AuditEntry.id)).all()


# ---------------------------------------------------------------- unlock


def test_unlock_lifts_a_lock_out_keeps_the_password_and_is_audited(world):
    db, _, _ = world
    _lock_out(db, "vanphong")
    seen = _seen(db, "vanphong")
    assert seen.locked() and seen.status_text().startswith("tạm khóa đến ")
    with pytest.raises(InputError, match="tạm khóa"):
        accounts.sign_in(db, "vanphong", PASSWORD)  # even the right password waits

    unlocked = accounts.unlock_account(db, "vanphong", seen.version, actor=_who(db, "quantri"))
    assert not unlocked.locked() and unlocked.status_text() == "đang dùng" and unlocked.version == seen.version + 1
    assert accounts.sign_in(db, "vanphong", PASSWORD).username == "vanphong"
    entry = _audit(db, "vanphong")[-1]
    assert (entry.actor, entry.field, entry.new) == ("quantri", "mở khóa đăng nhập", "đang dùng")
    assert entry.old.startswith("tạm khóa đến ")


def test_unlock_refuses_an_account_that_is_not_locked_and_a_stale_version(world):
    db, _, _ = world
    seen = _seen(db, "vanphong")
    with pytest.raises(InputError, match="không bị tạm khóa"):
        accounts.unlock_account(db, "vanphong", seen.version, actor=_who(db, "quantri"))
    _lock_out(db, "vanphong")
    accounts.update_account(db, "vanphong", seen.version, display_name="Văn phòng Sở", actor=_who(db, "tinh"))
    with pytest.raises(ConflictError, match="vừa được sửa bởi tinh"):
        accounts.unlock_account(db, "vanphong", seen.version, actor=_who(db, "quantri"))
    assert _seen(db, "vanphong").locked()  # nothing overwritten


def test_a_lock_that_has_run_out_needs_no_unlock(world):
    db, _, _ = world
    _lock_out(db, "vanphong")
    later = datetime.now(timezone.utc) + timedelta(minutes=16)
    seen = _seen(db, "vanphong")
    assert not seen.locked(later) and seen.status_text(later) == "đang dùng"
    with pytest.raises(InputError, match="không bị tạm khóa"):
        accounts.unlock_account(db, "vanphong", seen.version, actor=_who(db, "quantri"), now=later)


def test_only_an_administrator_unlocks(world):
    db, _, _ = world
    _lock_out(db, "tongiao")
    with pytest.raises(PermissionDenied, match="không được quản lý tài khoản"):
        accounts.unlock_account(db, "tongiao", _seen(db, "tongiao").version, actor=_who(db, "vanphong"))
    assert _seen(db, "tongiao").locked()


# ---------------------------------------------------------------- the last administrator


def test_the_last_administrator_of_a_department_cannot_disable_or_demote_itself(world):
    db, home, other = world
    tinh = _who(db, "tinh")  # the only administrator of Sở Xây dựng
    seen = _seen(db, "tinh")
    with pytest.raises(InputError, match="Không thể vô hiệu hóa tài khoản «tinh»: đó là quản trị viên cuối cùng còn hoạt động của Sở Xây dựng"):
        accounts.update_account(db, "tinh", seen.version, active=False, actor=tinh)
    with pytest.raises(InputError, match="chuyển sang vai trò Văn phòng tài khoản «tinh».*Sở Xây dựng"):
        accounts.update_account(db, "tinh", seen.version, role=Role.OFFICE, actor=tinh)
    with pytest.raises(InputError, match="bỏ cơ quan khỏi tài khoản «tinh».*Sở Xây dựng"):
        accounts.update_account(db, "tinh", seen.version, department_ids=[home], actor=tinh)
    assert _seen(db, "tinh") == seen  # nothing changed
    assert not [e for e in _audit(db, "tinh") if e.field != "tạo tài khoản"]


def test_an_administrator_may_step_down_where_another_remains(world):
    db, home, other = world
    quantri = _who(db, "quantri")  # "tinh" still administers Sở Dân tộc và Tôn giáo
    changed = accounts.update_account(db, "quantri", _seen(db, "quantri").version, role=Role.OFFICE, actor=quantri)
    assert changed.role is Role.OFFICE
    # now "tinh" is the last administrator of both departments
    with pytest.raises(InputError, match="quản trị viên cuối cùng còn hoạt động của Sở Dân tộc và Tôn giáo, Sở Xây dựng"):
        accounts.update_account(db, "tinh", _seen(db, "tinh").version, active=False, actor=_who(db, "tinh"))


def test_the_command_line_cannot_remove_the_last_administrator_either(db):
    accounts.create_account(db, "quantri", role=Role.ADMIN, password=PASSWORD, actor=SYSTEM)  # holds no department
    with pytest.raises(InputError, match="Không thể vô hiệu hóa tài khoản «quantri»: đó là quản trị viên cuối cùng còn hoạt động, "):
        accounts.update_account(db, "quantri", 1, active=False, actor=SYSTEM)
    accounts.update_account(db, "quantri", 1, display_name="Quản trị viên", actor=SYSTEM)  # other changes go through


# ---------------------------------------------------------------- units and fields


def test_a_unit_must_be_one_of_the_departments_units_and_is_kept_as_the_department_spells_it(world):
    db, home, other = world
    with pytest.raises(accounts.AccountFieldError) as refused:
        accounts.create_account(db, "xaydung", role=Role.UNIT, password=PASSWORD, department_ids=[home],
                                unit="Phòng Quản lý xây dựng", actor=_who(db, "tinh"))
    assert refused.value.field == accounts.FIELD_UNIT
    assert str(refused.value) == ("Đơn vị «Phòng Quản lý xây dựng» không có trong danh sách đơn vị của cơ quan. Các đơn vị hiện có "
                                  "— Sở Dân tộc và Tôn giáo: Văn phòng, Phòng Tôn giáo. Danh sách này sửa ở trang Cấu hình, "
                                  "mục «Cơ quan và đơn vị».")
    created = accounts.create_account(db, "xaydung", role=Role.UNIT, password=PASSWORD, department_ids=[other],
                                      unit="phòng quản lý XÂY DỰNG", actor=_who(db, "tinh"))
    assert created.unit == "Phòng Quản lý xây dựng"
    with pytest.raises(accounts.AccountFieldError, match="đúng một cơ quan") as refused:
        accounts.update_account(db, "xaydung", created.version, department_ids=[home, other], actor=_who(db, "tinh"))
    assert refused.value.field == accounts.FIELD_DEPARTMENTS
    with pytest.raises(accounts.AccountFieldError, match="Đơn vị «Phòng Quản lý xây dựng» không có"):
        accounts.update_account(db, "xaydung", created.version, department_ids=[home], actor=_who(db, "tinh"))
    moved = accounts.update_account(db, "xaydung", created.version, department_ids=[home], unit="Văn phòng", actor=_who(db, "tinh"))
    assert (moved.department_ids, moved.unit) == ([home], "Văn phòng")


@pytest.mark.parametrize("field, changes, message", [
    (accounts.FIELD_ROLE, {"role": None}, "Hãy chọn vai trò của tài khoản."),
    (accounts.FIELD_USERNAME, {"username": "có dấu cách"}, "Tên đăng nhập «có dấu cách» không hợp lệ"),
    (accounts.FIELD_USERNAME, {"username": "VanPhong"}, "Tên đăng nhập «vanphong» đã có."),
    (accounts.FIELD_PASSWORD, {"password": "ngan"}, "Mật khẩu chưa đạt: Mật khẩu phải có ít nhất 10 ký tự."),
    (accounts.FIELD_PASSWORD, {"password": "1234567890123"}, "Mật khẩu chưa đạt: Mật khẩu không được chỉ gồm chữ số."),
    (accounts.FIELD_UNIT, {"role": Role.UNIT, "unit": None}, "Tài khoản phòng/đơn vị cần ghi rõ đơn vị"),
])
def test_a_refused_account_says_which_field(world, field, changes, message):
    db, home, _ = world
    values = {"username": "moi", "role": Role.LEADER, "password": PASSWORD, "unit": None, **changes}
    username = values.pop("username")
    with pytest.raises(accounts.AccountFieldError) as refused:
        accounts.create_account(db, username, department_ids=[home], actor=_who(db, "quantri"), **values)
    assert refused.value.field == field and str(refused.value).startswith(message)
    assert "moi" not in {a.username for a in accounts.list_accounts(db)}


def test_an_account_change_names_departments_and_states_in_the_log(world):
    db, home, other = world
    seen = _seen(db, "vanphong")
    changed = accounts.update_account(db, "vanphong", seen.version, department_ids=[home, other], actor=_who(db, "tinh"))
    accounts.update_account(db, "vanphong", changed.version, active=False, actor=_who(db, "tinh"))
    entries = {e.field: (e.old, e.new) for e in _audit(db, "vanphong")}
    assert entries["cơ quan"] == ("Sở Dân tộc và Tôn giáo", "Sở Dân tộc và Tôn giáo, Sở Xây dựng")
    assert entries["trạng thái"] == ("đang dùng", "đã vô hiệu hóa")
    assert _seen(db, "vanphong").status_text() == "đã vô hiệu hóa"


def test_a_reset_password_is_audited_without_the_password_and_moves_the_version(world):
    db, _, _ = world
    seen = _seen(db, "vanphong")
    new_password = "Mot-mat-khau-moi-2026"
    reset = accounts.reset_password(db, "vanphong", new_password, expected_version=seen.version, actor=_who(db, "quantri"))
    assert reset.version == seen.version + 1
    entry = _audit(db, "vanphong")[-1]
    assert (entry.field, entry.old, entry.new) == ("đặt lại mật khẩu", None, None)
    with db.session() as session:
        stored = session.scalar(select(Account).where(Account.username == "vanphong"))
        assert new_password not in stored.password_hash


# ---------------------------------------------------------------- who sees which account


def test_the_list_shows_an_administrator_the_accounts_of_its_departments_and_which_it_may_change(world):
    db, home, other = world
    accounts.create_account(db, "qt-xd", role=Role.ADMIN, password=PASSWORD, department_ids=[other], actor=SYSTEM)
    accounts.create_account(db, "snv", role=Role.APPRAISER, password=PASSWORD, department_ids=[home, other], actor=SYSTEM)
    quantri = _who(db, "quantri")
    listed = {a.username: a for a in accounts.list_accounts(db, viewer=quantri)}
    assert set(listed) == {"quantri", "tinh", "vanphong", "tongiao", "snv"}  # not "qt-xd": Sở Xây dựng only
    assert accounts.may_change(quantri, listed["vanphong"])
    assert not accounts.may_change(quantri, listed["snv"]) and not accounts.may_change(quantri, listed["tinh"])
    with pytest.raises(PermissionDenied):
        accounts.list_accounts(db, viewer=_who(db, "vanphong"))
