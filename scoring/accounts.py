"""Stored accounts: create, reset, list, sign in (with lock-out). The rules themselves live in scoring.auth."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from datetime import datetime, timezone

from sqlalchemy import select, update

from scoring.auth import (
    DEFAULT_THROTTLE,
    LoginAttempts,
    Principal,
    Role,
    authorize_account_change,
    generate_password,
    hash_password,
    lockout_message,
    password_problems,
    spend_verification_time,
    verify_and_maybe_rehash,
)
from scoring.db import SIGN_IN_SESSIONS, Database
from scoring.errors import InputError, NotFoundError
from scoring.models import Account, AccountDepartment, AuditEntry, Department, utcnow
from scoring.repository import Actor, _check_version, _trusted, actor_name, command_line_actor
from scoring.textnorm import nfc

FIRST_ADMIN = "quantri"
WRONG_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng."
NO_ADMIN_YET = (
    "Chưa có tài khoản nào nên chưa đăng nhập được. Người quản lý máy chủ hãy chạy lệnh `python -m scoring init` "
    f"trên máy chủ (scripts/run.sh tự chạy lệnh này): lệnh tạo tài khoản quản trị đầu tiên «{FIRST_ADMIN}» và in "
    "mật khẩu một lần trên cửa sổ dòng lệnh đó; rồi tải lại trang này."
)


def sign_in_required(environ: dict[str, str] | None = None) -> bool:
    """Sign-in is on unless CCHC_AUTH=off (one office computer may run the app open)."""
    environ = os.environ if environ is None else environ
    return (environ.get("CCHC_AUTH") or "on").strip().lower() not in ("off", "0", "false", "khong", "không")


@dataclass(frozen=True)
class AccountView:
    username: str
    display_name: str
    role: Role
    unit: str | None
    department_ids: list[int]
    active: bool
    locked_until: datetime | None
    version: int = 1  # what a change to the account expects (Account.version)


def _principal(account: Account) -> Principal:
    return Principal(account.username, account.display_name or account.username, Role(account.role),
                     frozenset(d.department_id for d in account.departments), account.unit)


def _audit(session, actor: Actor, what: str, username: str, old: str | None, new: str | None) -> None:
    session.add(AuditEntry(actor=actor_name(actor), department_id=None, entity="account", entity_key=username,
                           field=what, old=old, new=new))


def _allow_account_change(actor: Actor, department_ids) -> None:
    """Only an administrator holding every department involved changes an account (auth.authorize_account_change);
    a name is a trusted caller (the command line, first-start seeding: see repository.Actor)."""
    if isinstance(actor, Principal):
        authorize_account_change(actor, department_ids)
    else:
        _trusted(actor)


def create_account(db: Database, username: str, *, role: Role | str, password: str, display_name: str = "",
                   department_ids: list[int] = (), unit: str | None = None, actor: Actor) -> AccountView:
    """A new account, by an administrator for departments it holds (or by a trusted caller: see repository.Actor)."""
    _allow_account_change(actor, department_ids)
    username = nfc(username).lower()
    role = Role(role)
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise InputError(f"Tên đăng nhập «{username}» không hợp lệ: chỉ dùng chữ, số, dấu chấm, gạch dưới, gạch ngang.")
    problems = password_problems(password, username)
    if problems:
        raise InputError("Mật khẩu chưa đạt: " + "; ".join(problems))
    if role is Role.UNIT and not (unit or "").strip():
        raise InputError("Tài khoản phòng/đơn vị cần ghi rõ đơn vị (ví dụ «Phòng Tôn giáo»).")
    with db.session() as session:
        if session.scalar(select(Account).where(Account.username == username)):
            raise InputError(f"Tên đăng nhập «{username}» đã có.")
        for department_id in department_ids:
            if session.get(Department, department_id) is None:
                raise NotFoundError(f"Không có cơ quan mã {department_id}.")
        account = Account(username=username, display_name=nfc(display_name) or username, role=role.value,
                          unit=nfc(unit) if unit else None, password_hash=hash_password(password), updated_by=actor_name(actor))
        account.departments = [AccountDepartment(department_id=d) for d in dict.fromkeys(department_ids)]
        session.add(account)
        _audit(session, actor, "tạo tài khoản", username, None, f"{role.label}")
        session.flush()
        return _view(account)


def reset_password(db: Database, username: str, password: str, *, expected_version: int | None, actor: Actor) -> None:
    """A new password (and the lock-out lifted), if the account is still the version the person saw; by an
    administrator holding every department of the account (or a trusted caller: see repository.Actor).

    `expected_version` None: the caller showed no version (the command line, which names the account and
    acts at once); a password reset then overwrites no one's edit, since a password is never shown.
    """
    _allow_account_change(actor, ())  # the role first: whether the account exists is not everyone's business
    problems = password_problems(password, username)
    if problems:
        raise InputError("Mật khẩu chưa đạt: " + "; ".join(problems))
    with db.session() as session:
        account = _get(session, username)
        _allow_account_change(actor, [d.department_id for d in account.departments])
        if expected_version is not None:
            _check_version(account, expected_version, f"Tài khoản «{account.username}»")
        account.password_hash = hash_password(password)
        account.failures, account.locked_until = 0, None  # a reset also lifts a lock-out
        end_sessions_of(session.connection(), account.id, Ended.PASSWORD_RESET)
        _changed(account, actor)
        _audit(session, actor, "đặt lại mật khẩu", account.username, None, None)  # never the password itself


class Ended(StrEnum):
    """Why a session ended (stored in ended_why)."""

    SIGNED_OUT = "signed_out"
    EXPIRED = "expired"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_DISABLED = "account_disabled"


def end_sessions_of(connection, account_id: int, why: Ended, *, now: datetime | None = None) -> None:
    """End every live session of an account, inside the caller's transaction (a password reset, a disabled
    account: whoever was signed in with the old password or on the old account is signed out at once)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    table = SIGN_IN_SESSIONS
    connection.execute(update(table).where(table.c.account_id == account_id, table.c.ended_at.is_(None))
                       .values(ended_at=now, ended_why=why.value))


_UNCHANGED = object()


def update_account(db: Database, username: str, expected_version: int, *, actor: Actor, role: Role | str | None = None,
                   display_name: str | None = None, unit: str | None | object = _UNCHANGED,
                   department_ids: list[int] | None = None, active: bool | None = None) -> AccountView:
    """Change an account's role, name, unit, departments or whether it may sign in; None (for unit: left out)
    keeps a field. By an administrator holding every department the account has and is given (or a trusted
    caller: see repository.Actor). Refused when someone changed the account after `expected_version` was read."""
    _allow_account_change(actor, department_ids or ())
    with db.session() as session:
        account = _get(session, username)
        _allow_account_change(actor, [d.department_id for d in account.departments])
        _check_version(account, expected_version, f"Tài khoản «{account.username}»")
        before = _described(account)
        if role is not None:
            account.role = Role(role).value
        if display_name is not None:
            account.display_name = nfc(display_name) or account.username
        if unit is not _UNCHANGED:
            account.unit = nfc(unit) if unit else None
        if Role(account.role) is Role.UNIT and not (account.unit or "").strip():
            raise InputError("Tài khoản phòng/đơn vị cần ghi rõ đơn vị (ví dụ «Phòng Tôn giáo»).")
        if department_ids is not None:
            for department_id in department_ids:
                if session.get(Department, department_id) is None:
                    raise NotFoundError(f"Không có cơ quan mã {department_id}.")
            account.departments = [AccountDepartment(department_id=d) for d in dict.fromkeys(department_ids)]
        if active is not None:
            account.active = bool(active)
            if not account.active:
                end_sessions_of(session.connection(), account.id, Ended.ACCOUNT_DISABLED)
        after = _described(account)
        for what in before:
            if before[what] != after[what]:
                _audit(session, actor, what, account.username, before[what], after[what])
        if before != after:
            _changed(account, actor)
        session.flush()
        return _view(account)


def _described(account: Account) -> dict[str, str]:
    """An account's editable fields as the audit log shows them."""
    return {
        "vai trò": Role(account.role).label,
        "họ tên": account.display_name,
        "đơn vị": account.unit or "",
        "cơ quan": ", ".join(str(d) for d in sorted(d.department_id for d in account.departments)),
        "trạng thái": "đang dùng" if account.active else "đã khóa",
    }


def _changed(account: Account, actor: Actor) -> None:
    """A person changed the account: the version moves on (the sign-in counters never move it)."""
    account.version += 1
    account.updated_at, account.updated_by = utcnow(), actor_name(actor)


def list_accounts(db: Database) -> list[AccountView]:
    with db.session() as session:
        return [_view(a) for a in session.scalars(select(Account).order_by(Account.username)).all()]


def has_accounts(db: Database) -> bool:
    with db.session() as session:
        return session.scalar(select(Account.id).limit(1)) is not None


def sign_in(db: Database, username: str, password: str, *, now: datetime | None = None) -> Principal:
    """The principal for correct credentials; InputError (Vietnamese, no hint which part was wrong) otherwise."""
    now = now or datetime.now(timezone.utc)
    username = nfc(username).lower()
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None or not account.active:
            spend_verification_time(password)  # as slow as a real check: no probing for names
            raise InputError(WRONG_CREDENTIALS)
        state = LoginAttempts(account.failures, account.locked_until)
        locked, until = DEFAULT_THROTTLE.is_locked(state, now)
        if locked:
            raise InputError(lockout_message(until))
        ok, new_hash = verify_and_maybe_rehash(account.password_hash, password)
        if not ok:
            state = DEFAULT_THROTTLE.register_failure(state, now)
            account.failures = state.failures
            account.locked_until = state.locked_until.astimezone(timezone.utc).replace(tzinfo=None) if state.locked_until else None
            session.commit()  # the failure must count even though we refuse
            if state.locked_until:
                raise InputError(lockout_message(state.locked_until))
            raise InputError(WRONG_CREDENTIALS)
        account.failures, account.locked_until = 0, None
        if new_hash:
            account.password_hash = new_hash
        return _principal(account)


def principal_for(db: Database, username: str) -> Principal | None:
    """The current rights of an account (re-read on every page run, so a changed role applies at once)."""
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        return _principal(account) if account and account.active else None


def ensure_first_admin(db: Database, department_ids: list[int], *, actor: Actor) -> str | None:
    """Create the first administrator when there is no account; returns the generated password (shown once).

    Only `python -m scoring init` calls this, on the operator's console: the server never makes an account
    (a visitor opening the sign-in page must not be what creates the administrator, nor write its password
    into the server's log); its sign-in page says how to create one instead (NO_ADMIN_YET)."""
    if has_accounts(db):
        return None
    password = generate_password()
    create_account(db, FIRST_ADMIN, role=Role.ADMIN, password=password, display_name="Quản trị viên",
                   department_ids=department_ids, actor=actor)
    return password


def _get(session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == nfc(username).lower()))
    if account is None:
        raise NotFoundError(f"Không có tài khoản «{username}».")
    return account


def _view(account: Account) -> AccountView:
    return AccountView(account.username, account.display_name, Role(account.role), account.unit,
                       sorted(d.department_id for d in account.departments), account.active, account.locked_until,
                       account.version)




# ---------------------------------------------------------------- command line: python -m scoring users ...


def add_user_commands(commands) -> None:
    users = commands.add_parser("users", help="Tài khoản đăng nhập")
    actions = users.add_subparsers(dest="action", required=True, parser_class=type(users))
    add = actions.add_parser("add", help="Thêm tài khoản (mật khẩu được tạo và in ra một lần)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role], help="admin, office, unit, leader, appraiser")
    add.add_argument("--name", default="", help="Họ tên hiển thị")
    add.add_argument("--department", type=int, action="append", default=[], help="Mã cơ quan (lặp lại được)")
    add.add_argument("--unit", help="Đơn vị, với tài khoản phòng/đơn vị")
    add.set_defaults(handler=_cli_add)
    reset = actions.add_parser("reset", help="Đặt lại mật khẩu (mật khẩu mới được in ra một lần) và mở khóa")
    reset.add_argument("username")
    reset.set_defaults(handler=_cli_reset)
    listing = actions.add_parser("list", help="Liệt kê tài khoản")
    listing.set_defaults(handler=_cli_list)


def _cli_add(args, out) -> int:
    from scoring.db import open_database
    from scoring.repository import list_departments

    db = open_database()
    departments = args.department or [d.id for d in list_departments(db)][:1]
    password = generate_password()
    account = create_account(db, args.username, role=args.role, password=password, display_name=args.name,
                             department_ids=departments, unit=args.unit, actor=command_line_actor())
    print(f"Đã tạo tài khoản «{account.username}» ({account.role.label}), cơ quan {', '.join(map(str, account.department_ids))}.", file=out)
    print(f"Mật khẩu (chỉ hiện một lần): {password}", file=out)
    return 0


def _cli_reset(args, out) -> int:
    from scoring.db import open_database

    password = generate_password()
    # the command names the account and acts at once: there is no earlier view of it to expect
    reset_password(open_database(), args.username, password, expected_version=None, actor=command_line_actor())
    print(f"Đã đặt lại mật khẩu và mở khóa «{nfc(args.username).lower()}».", file=out)
    print(f"Mật khẩu mới (chỉ hiện một lần): {password}", file=out)
    return 0


def _cli_list(args, out) -> int:
    from scoring.db import open_database

    for account in list_accounts(open_database()):
        unit = f", {account.unit}" if account.unit else ""
        print(f"{account.username:<20} {account.role.label}{unit} — cơ quan {', '.join(map(str, account.department_ids)) or '(chưa giao)'}", file=out)
    return 0
