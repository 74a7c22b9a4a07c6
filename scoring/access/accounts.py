"""Stored accounts: create, reset, list, sign in (with lock-out). The rules themselves live in scoring.access.auth."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import select, update

from scoring.access.auth import (
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
from scoring.errors import InputError, NotFoundError
from scoring.plan.units import unit_key
from scoring.store.actors import Actor, actor_name, command_line_actor, require_trusted
from scoring.store.db import SIGN_IN_SESSIONS, Database
from scoring.store.models import Account, AccountDepartment, AuditEntry, Department, utcnow
from scoring.store.rows import check_version
from scoring.textnorm import format_datetime, nfc

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
    email: str | None = None  # where reminders go (scoring.assessment.reminders)

    def locked(self, now: datetime | None = None) -> bool:
        """Whether sign-in is refused for now after too many wrong passwords (lifted by unlock_account)."""
        return DEFAULT_THROTTLE.is_locked(LoginAttempts(0, self.locked_until), now or datetime.now(timezone.utc))[0]

    def status_text(self, now: datetime | None = None) -> str:
        """"đang dùng", "đã vô hiệu hóa" or "tạm khóa đến 14:05 20/12/2026" (Vietnam time)."""
        if not self.active:
            return "đã vô hiệu hóa"
        if self.locked(now):
            return f"tạm khóa đến {format_datetime(self.locked_until)}"
        return "đang dùng"


# The fields of an account as a form shows them: AccountFieldError names the one a refusal is about.
FIELD_USERNAME, FIELD_ROLE, FIELD_PASSWORD, FIELD_UNIT, FIELD_DEPARTMENTS = "username", "role", "password", "unit", "departments"
FIELD_EMAIL = "email"
EMAIL_LABEL = "Thư điện tử"
EMAIL_FIELD_AUDITED = "thư điện tử"  # the field's name in the audit log
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit for a path
# An address an SMTP server takes as it is: ASCII, one @, a domain of dotted labels. Nothing else is accepted (no
# display name, no spaces, no line breaks: the address goes into a mail header).
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


class AccountFieldError(InputError):
    """Refused because of one field (`field`: one of the FIELD_ names), so a form can say it beside that field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def checked_email(email: str | None) -> str | None:
    """The address as stored (the domain in lower case), None for an empty one; a refusal names the field."""
    email = nfc(email or "").strip()
    if not email:
        return None
    local, _, domain = email.rpartition("@")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email) or len(local) > 64:
        shown = " ".join(email.split())[:100]  # one line, as the form shows it
        raise AccountFieldError(f"{EMAIL_LABEL} «{shown}» không hợp lệ: hãy ghi một địa chỉ dạng ten@coquan.gov.vn "
                                "(chữ không dấu, không có dấu cách, đúng một dấu @), hoặc để trống nếu không nhận thư nhắc việc.",
                                field=FIELD_EMAIL)
    return f"{local}@{domain.lower()}"


def principal_of(account: Account) -> Principal:
    """The rights a stored account row gives (its role, departments and unit), as auth checks them."""
    return Principal(account.username, account.display_name or account.username, Role(account.role),
                     frozenset(d.department_id for d in account.departments), account.unit)


def _audit(session, actor: Actor, what: str, username: str, old: str | None, new: str | None) -> None:
    session.add(AuditEntry(actor=actor_name(actor), department_id=None, entity="account", entity_key=username,
                           field=what, old=old, new=new))


def _allow_account_change(actor: Actor, department_ids) -> None:
    """Only an administrator holding every department involved changes an account (auth.authorize_account_change);
    a name is a trusted caller (the command line, first-start seeding: see scoring.store.actors.Actor)."""
    if isinstance(actor, Principal):
        authorize_account_change(actor, department_ids)
    else:
        require_trusted(actor)


def create_account(db: Database, username: str, *, role: Role | str | None, password: str, display_name: str = "",
                   department_ids: list[int] = (), unit: str | None = None, email: str | None = None,
                   actor: Actor) -> AccountView:
    """A new account, by an administrator for departments it holds (or by a trusted caller: see scoring.store.actors.Actor).
    A refusal about one field is an AccountFieldError naming it."""
    _allow_account_change(actor, department_ids)
    username = nfc(username or "").strip().lower()
    if not role:
        raise AccountFieldError("Hãy chọn vai trò của tài khoản.", field=FIELD_ROLE)
    role = Role(role)
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise AccountFieldError(f"Tên đăng nhập «{username}» không hợp lệ: chỉ dùng chữ, số, dấu chấm, gạch dưới, gạch ngang.",
                                field=FIELD_USERNAME)
    _check_password(password, username)
    email = checked_email(email)
    with db.session() as session:
        if session.scalar(select(Account).where(Account.username == username)):
            raise AccountFieldError(f"Tên đăng nhập «{username}» đã có.", field=FIELD_USERNAME)
        departments = _departments(session, department_ids)
        unit = _checked_unit(role, unit, departments)
        account = Account(username=username, display_name=nfc(display_name).strip() or username, role=role.value,
                          unit=unit, email=email, password_hash=hash_password(password), updated_by=actor_name(actor))
        account.departments = [AccountDepartment(department_id=d.id) for d in departments]
        session.add(account)
        _audit(session, actor, "tạo tài khoản", username, None, f"{role.label}")
        if email:
            _audit(session, actor, EMAIL_FIELD_AUDITED, username, None, email)
        session.flush()
        return _view(account)


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise AccountFieldError("Mật khẩu chưa đạt: " + " ".join(problems), field=FIELD_PASSWORD)


def _departments(session, department_ids) -> list[Department]:
    """The departments named, each once, in the order given."""
    departments = []
    for department_id in dict.fromkeys(department_ids):
        department = session.get(Department, department_id)
        if department is None:
            raise NotFoundError(f"Không có cơ quan mã {department_id}.")
        departments.append(department)
    return departments


def _checked_unit(role: Role, unit: str | None, departments: list[Department]) -> str | None:
    """The unit as its department spells it; refused when a unit account has none, or names a unit that is not one
    of its department's (a unit account works for exactly one department: its unit is that department's)."""
    unit = nfc(unit or "").strip() or None
    if role is Role.UNIT:
        if len(departments) != 1:
            raise AccountFieldError("Tài khoản phòng/đơn vị làm việc cho đúng một cơ quan: hãy chọn một cơ quan.",
                                    field=FIELD_DEPARTMENTS)
        if unit is None:
            raise AccountFieldError("Tài khoản phòng/đơn vị cần ghi rõ đơn vị (ví dụ «Phòng Tôn giáo»).", field=FIELD_UNIT)
    if unit is None:
        return None
    for department in departments:
        for known in department.units or []:
            if unit_key(known) == unit_key(unit):
                return known
    if not departments:
        raise AccountFieldError(f"Đơn vị «{unit}» cần một cơ quan có đơn vị đó: hãy chọn cơ quan trước.", field=FIELD_UNIT)
    listed = "; ".join(f"{d.name}: {', '.join(d.units) if d.units else '(chưa khai báo đơn vị nào)'}" for d in departments)
    raise AccountFieldError(f"Đơn vị «{unit}» không có trong danh sách đơn vị của cơ quan. Các đơn vị hiện có — {listed}. "
                            "Danh sách này sửa ở trang Cấu hình, mục «Cơ quan và đơn vị».", field=FIELD_UNIT)


def reset_password(db: Database, username: str, password: str, *, expected_version: int | None, actor: Actor) -> AccountView:
    """A new password (and the lock-out lifted), if the account is still the version the person saw; by an
    administrator holding every department of the account (or a trusted caller: see scoring.store.actors.Actor).

    `expected_version` None: the caller showed no version (the command line, which names the account and
    acts at once); a password reset then overwrites no one's edit, since a password is never shown.
    """
    _allow_account_change(actor, ())  # the role first: whether the account exists is not everyone's business
    _check_password(password, username)
    with db.session() as session:
        account = _get(session, username)
        _allow_account_change(actor, [d.department_id for d in account.departments])
        if expected_version is not None:
            check_version(account, expected_version, f"Tài khoản «{account.username}»")
        account.password_hash = hash_password(password)
        account.failures, account.locked_until = 0, None  # a reset also lifts a lock-out
        end_sessions_of(session.connection(), account.id, Ended.PASSWORD_RESET)
        _changed(account, actor)
        _audit(session, actor, "đặt lại mật khẩu", account.username, None, None)  # never the password itself
        session.flush()
        return _view(account)


def unlock_account(db: Database, username: str, expected_version: int, *, actor: Actor,
                   now: datetime | None = None) -> AccountView:
    """Lift a lock-out (too many wrong passwords) before it runs out, keeping the password; by an administrator
    holding every department of the account (or a trusted caller: see scoring.store.actors.Actor)."""
    _allow_account_change(actor, ())
    now = now or datetime.now(timezone.utc)
    with db.session() as session:
        account = _get(session, username)
        _allow_account_change(actor, [d.department_id for d in account.departments])
        check_version(account, expected_version, f"Tài khoản «{account.username}»")
        if not DEFAULT_THROTTLE.is_locked(LoginAttempts(account.failures, account.locked_until), now)[0]:
            raise InputError(f"Tài khoản «{account.username}» không bị tạm khóa (hoặc thời gian khóa đã hết) nên không cần mở khóa.")
        _audit(session, actor, "mở khóa đăng nhập", account.username, f"tạm khóa đến {format_datetime(account.locked_until)}",
               "đang dùng")
        account.failures, account.locked_until = 0, None
        _changed(account, actor)
        session.flush()
        return _view(account)


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
                   department_ids: list[int] | None = None, active: bool | None = None,
                   email: str | None | object = _UNCHANGED) -> AccountView:
    """Change an account's role, name, unit, departments, email address or whether it may sign in; None (for unit
    and email: left out; an empty email removes it) keeps a field. By an administrator holding every department the account has and is given (or a trusted
    caller: see scoring.store.actors.Actor). Refused when someone changed the account after `expected_version` was read,
    and when it would leave a department without an active administrator (_keep_an_administrator)."""
    _allow_account_change(actor, department_ids or ())
    email = email if email is _UNCHANGED else checked_email(email)
    with db.session() as session:
        account = _get(session, username)
        _allow_account_change(actor, [d.department_id for d in account.departments])
        check_version(account, expected_version, f"Tài khoản «{account.username}»")
        before = _described(session, account)
        was_administrator = _active_administrator(account)
        held_before = {d.department_id for d in account.departments}
        if role is not None:
            account.role = Role(role).value
        if display_name is not None:
            account.display_name = nfc(display_name).strip() or account.username
        departments = _departments(session, department_ids if department_ids is not None else sorted(held_before))
        if unit is not _UNCHANGED or department_ids is not None or role is not None:
            account.unit = _checked_unit(Role(account.role), account.unit if unit is _UNCHANGED else unit, departments)
        if department_ids is not None:
            account.departments = [AccountDepartment(department_id=d.id) for d in departments]
        if email is not _UNCHANGED:
            account.email = email
        if active is not None:
            account.active = bool(active)
            if not account.active:
                end_sessions_of(session.connection(), account.id, Ended.ACCOUNT_DISABLED)
        if was_administrator:
            _keep_an_administrator(session, account, held_before, {d.id for d in departments})
        after = _described(session, account)
        for what in before:
            if before[what] != after[what]:
                _audit(session, actor, what, account.username, before[what], after[what])
        if before != after:
            _changed(account, actor)
        session.flush()
        return _view(account)


def _active_administrator(account: Account) -> bool:
    return account.active and Role(account.role) is Role.ADMIN


def _keep_an_administrator(session, account: Account, held_before: set[int], held_after: set[int]) -> None:
    """Refuse a change that leaves a department the administrator held (or, for one holding none, the whole
    installation) without an active administrator: nobody could then manage its accounts or settings from the
    app, only from the server's command line. Other administrators' rows are locked (PostgreSQL) so that two
    administrators demoting each other at once cannot both pass."""
    lost = held_before - held_after if _active_administrator(account) else held_before
    if _active_administrator(account) and not lost:
        return  # still an administrator of everything it held
    others = session.scalars(select(Account).where(Account.role == Role.ADMIN.value, Account.active.is_(True),
                                                   Account.id != account.id).with_for_update()).all()
    held_by_others = {d.department_id for other in others for d in other.departments}
    orphaned = sorted(lost - held_by_others) if held_before else ([] if others else [None])
    if not orphaned:
        return
    if not account.active:
        what = "vô hiệu hóa"
    elif Role(account.role) is not Role.ADMIN:
        what = f"chuyển sang vai trò {Role(account.role).label}"
    else:
        what = "bỏ cơ quan khỏi"
    where = ", ".join(_department_names(session, [d for d in orphaned if d is not None]))
    raise InputError(f"Không thể {what} tài khoản «{account.username}»: đó là quản trị viên cuối cùng còn hoạt động"
                     + (f" của {where}" if where else "") + ", nên sau thay đổi này không còn ai quản lý được tài khoản và "
                     "cấu hình ở đó. Hãy cho một tài khoản khác vai trò Quản trị" + (" ở cơ quan đó" if where else "") + " trước.")


def _department_names(session, department_ids) -> list[str]:
    names = dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(list(department_ids)))).all())
    return [names.get(d, f"cơ quan mã {d}") for d in department_ids]


def _described(session, account: Account) -> dict[str, str]:
    """An account's editable fields as the audit log shows them (departments by name)."""
    return {
        "vai trò": Role(account.role).label,
        "họ tên": account.display_name,
        "đơn vị": account.unit or "",
        "cơ quan": ", ".join(_department_names(session, sorted(d.department_id for d in account.departments))),
        "trạng thái": "đang dùng" if account.active else "đã vô hiệu hóa",
        EMAIL_FIELD_AUDITED: account.email or "",
    }


def _changed(account: Account, actor: Actor) -> None:
    """A person changed the account: the version moves on (the sign-in counters never move it)."""
    account.version += 1
    account.updated_at, account.updated_by = utcnow(), actor_name(actor)


def give_to_administrators(db: Database, department_id: int, *, actor: Actor) -> list[str]:
    """A department added from the command line goes to every active administrator, as one added on the page goes
    to the administrator who adds it: an account sees only the departments it holds, and without this nobody could
    give the new department to anyone. For trusted callers; returns the administrators' usernames."""
    require_trusted(actor)
    given = []
    with db.session() as session:
        _departments(session, [department_id])  # refuses an unknown department
        for account in session.scalars(select(Account).order_by(Account.username)).all():
            held = sorted(d.department_id for d in account.departments)
            if not _active_administrator(account) or department_id in held:
                continue
            account.departments.append(AccountDepartment(department_id=department_id))
            _changed(account, actor)
            _audit(session, actor, "cơ quan", account.username, ", ".join(map(str, held)),
                   ", ".join(map(str, [*held, department_id])))
            given.append(account.username)
    return given


def list_accounts(db: Database, viewer: Principal | None = None) -> list[AccountView]:
    """Every account; for a signed-in viewer (an administrator: anyone else is refused), those sharing a department
    with it, or holding none. Whether the viewer may change one is may_change (the core checks again on each write)."""
    if viewer is not None:
        authorize_account_change(viewer, ())
    with db.session() as session:
        views = [_view(a) for a in session.scalars(select(Account).order_by(Account.username)).all()]
    if viewer is None:
        return views
    return [v for v in views if not v.department_ids or set(v.department_ids) & viewer.department_ids]


def may_change(viewer: Principal, account: AccountView) -> bool:
    """Whether `viewer` may reset or change `account` (auth.authorize_account_change: every department of it)."""
    try:
        authorize_account_change(viewer, account.department_ids)
    except InputError:
        return False
    return True


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
        return principal_of(account)


def principal_for(db: Database, username: str) -> Principal | None:
    """The current rights of an account (re-read on every page run, so a changed role applies at once)."""
    with db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        return principal_of(account) if account and account.active else None


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
                       account.version, account.email)




# ---------------------------------------------------------------- command line: python -m scoring users ...


def add_user_commands(commands) -> None:
    users = commands.add_parser("users", help="Tài khoản đăng nhập")
    actions = users.add_subparsers(dest="action", required=True, parser_class=type(users), metavar="{add,set,reset,list}")
    add = actions.add_parser("add", help="Thêm tài khoản (mật khẩu được tạo và in ra một lần)")
    add.add_argument("username", metavar="TÊN_ĐĂNG_NHẬP")
    add.add_argument("--role", required=True, choices=[r.value for r in Role],
                     help="; ".join(f"{r.value}: {r.label}" for r in Role))
    add.add_argument("--name", default="", metavar="HỌ_TÊN", help="Họ tên hiển thị")
    add.add_argument("--department", action="append", default=[], metavar="CƠ_QUAN",
                     help="Tên hoặc mã cơ quan (lặp lại được; mặc định: cơ quan duy nhất trong dữ liệu)")
    add.add_argument("--unit", metavar="ĐƠN_VỊ", help="Đơn vị của tài khoản phòng/đơn vị, một trong các đơn vị của cơ quan")
    add.add_argument("--email", metavar="THƯ_ĐIỆN_TỬ", help="Địa chỉ nhận thư nhắc việc (không bắt buộc)")
    add.set_defaults(handler=_cli_add)
    change = actions.add_parser("set", help="Đổi thông tin của một tài khoản")
    change.add_argument("username", metavar="TÊN_ĐĂNG_NHẬP")
    change.add_argument("--email", required=True, metavar="THƯ_ĐIỆN_TỬ",
                        help="Địa chỉ nhận thư nhắc việc; \"\" (chuỗi rỗng) để bỏ địa chỉ")
    change.set_defaults(handler=_cli_set)
    reset = actions.add_parser("reset", help="Đặt lại mật khẩu (mật khẩu mới được in ra một lần) và mở khóa")
    reset.add_argument("username", metavar="TÊN_ĐĂNG_NHẬP")
    reset.set_defaults(handler=_cli_reset)
    listing = actions.add_parser("list", help="Liệt kê tài khoản")
    listing.set_defaults(handler=_cli_list)


def existing_database() -> Database:
    """The database the environment names, if it has been made (`python -m scoring init`): a `users` command on a
    folder without one says so and creates nothing (no empty database with no administrator in it)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from scoring.errors import raise_as_storage_error
    from scoring.store.db import open_database, settings_from_env

    settings = settings_from_env()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        where = url.database or ""
        exists = bool(where) and where != ":memory:" and os.path.isfile(where)
    else:
        where = url.render_as_string(hide_password=True)
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                exists = inspect(connection).has_table("account")
        except OperationalError as err:
            raise_as_storage_error(err)
        finally:
            engine.dispose()
    if not exists:
        raise InputError(f"Chưa có cơ sở dữ liệu ({where}) nên chưa có tài khoản nào. Hãy chạy `python -m scoring init` "
                         "trước: lệnh này tạo cơ sở dữ liệu và tài khoản quản trị đầu tiên.")
    return open_database(settings)


def cli_departments(db: Database, wanted: list[str]) -> list[int]:
    """The departments named on the command line (by name or id); the only one when none is named."""
    from scoring.store.department_store import list_departments

    departments = list_departments(db)
    listed = "; ".join(f"{d.id}: {d.name}" for d in departments) or "(chưa có cơ quan nào)"
    if not wanted:
        if len(departments) == 1:
            return [departments[0].id]
        raise InputError(f"Dữ liệu có {len(departments)} cơ quan; hãy chọn bằng --department (tên hoặc mã): {listed}.")
    chosen = []
    for given in wanted:
        text = nfc(given).strip()
        match = [d for d in departments if str(d.id) == text or d.name.casefold() == text.casefold()]
        if not match:
            raise InputError(f"Không có cơ quan «{text}». Các cơ quan hiện có (mã: tên): {listed}.")
        chosen.append(match[0].id)
    return chosen


def _department_names_of(db: Database, account: AccountView) -> str:
    from scoring.store.department_store import list_departments

    names = {d.id: d.name for d in list_departments(db)}
    return ", ".join(names.get(d, f"mã {d}") for d in account.department_ids) or "(chưa giao cơ quan nào)"


def _cli_add(args, out) -> int:
    db = existing_database()
    password = generate_password()
    account = create_account(db, args.username, role=args.role, password=password, display_name=args.name,
                             department_ids=cli_departments(db, args.department), unit=args.unit, email=args.email,
                             actor=command_line_actor())
    unit = f", {account.unit}" if account.unit else ""
    print(f"Đã tạo tài khoản «{account.username}» ({account.role.label}{unit}) cho {_department_names_of(db, account)}.", file=out)
    if account.email:
        print(f"Thư nhắc việc gửi tới: {account.email}", file=out)
    print(f"Mật khẩu (chỉ hiện một lần): {password}", file=out)
    return 0


def _cli_set(args, out) -> int:
    db = existing_database()
    # the command names the account and acts at once: the version it changes is the one it reads
    account = next((a for a in list_accounts(db) if a.username == nfc(args.username).strip().lower()), None)
    if account is None:
        raise NotFoundError(f"Không có tài khoản «{args.username}».")
    changed = update_account(db, account.username, account.version, email=args.email, actor=command_line_actor())
    if changed.version == account.version:
        print(f"Tài khoản «{account.username}» không có gì thay đổi.", file=out)
    elif changed.email:
        print(f"Đã đặt thư điện tử của «{account.username}»: {changed.email}.", file=out)
    else:
        print(f"Đã bỏ thư điện tử của «{account.username}»: tài khoản này không nhận thư nhắc việc nữa.", file=out)
    return 0


def _cli_reset(args, out) -> int:
    password = generate_password()
    # the command names the account and acts at once: there is no earlier view of it to expect
    reset_password(existing_database(), args.username, password, expected_version=None, actor=command_line_actor())
    print(f"Đã đặt lại mật khẩu và mở khóa «{nfc(args.username).lower()}».", file=out)
    print(f"Mật khẩu mới (chỉ hiện một lần): {password}", file=out)
    return 0


def _cli_list(args, out) -> int:
    db = existing_database()
    listed = list_accounts(db)
    if not listed:
        print("Chưa có tài khoản nào. Lệnh `python -m scoring init` tạo tài khoản quản trị đầu tiên.", file=out)
    for account in listed:
        unit = f", {account.unit}" if account.unit else ""
        email = f" — {account.email}" if account.email else ""
        print(f"{account.username:<20} {account.role.label}{unit} — {_department_names_of(db, account)} — "
              f"{account.status_text()}{email}", file=out)
    return 0
