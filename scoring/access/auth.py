"""Accounts and roles, the pure part: password hashing, lock-out, sessions and who may do what.

Nothing here touches the database. Storage keeps the password hash, the lock-out counters
(`LoginAttempts`) and the session's token digest and times; pages build a `Principal` from the
signed-in account and call `authorize` before every read or write they offer.

Decisions (issue 8):
- Passwords are NFC-normalised before hashing and checking, so the same Vietnamese password
  typed on two systems (composed or decomposed accents) is the same password. Nothing else is
  changed: spaces count.
- Lock-out counts consecutive failures; a success clears them. While an account is locked,
  further failures neither count nor extend the lock (the caller should not even check the
  password then); once the lock has run out, counting starts again from zero.
- Times are UTC. Naive datetimes (as the database stores them) are read as UTC.
- Every department-scoped action needs the department it is about, and the principal must hold
  that department explicitly: there is no "all departments" account. A province-level
  administrator gets the list of departments it looks after; an account with no departments
  can do nothing. Only the installation-wide actions (`INSTALLATION_WIDE_ACTIONS`: backup and
  restore, adding a department, storing a criteria set) may be checked without a department;
  they still need an account that holds at least one.
- Accounts (issue 15): only the administrator creates, resets or changes an account, and only
  within the departments it holds: every department the account has, or is given, must be one
  of the administrator's (`authorize_account_change`), so an administrator of one department
  cannot take over another's accounts.
- Seeing a department's year (scores, plan, evidence files) is `VIEW_DASHBOARD` there, or, for
  the appraiser, `VIEW_SCORES` once the self-assessment is locked (`authorize_view`).
- The Office may enter appraisal results too where the department has no appraiser account:
  the province returns them on paper and the Office types them in (see "The cycle"). Reopening a locked self-assessment is for the administrator only, so
  that what the appraiser is looking at does not change under them without a second person.
- The appraiser may see scores and enter appraisal only once the department has locked its
  self-assessment: drafts are the department's own business. Other lock-state rules (no self
  score edits after locking, no locking twice) belong to the store (scoring.store), which must check the
  stored state in the same transaction as the write anyway.

The cycle (issue 14; enforced by scoring.assessment.cycle.may_write, which every store write and the
scoring page ask):
- Appraisal results have one author at a time. Where an active appraiser account is assigned to
  the department, only appraiser accounts enter appraisal points, remarks, requests for
  explanation, and the bonus and penalty (the province decides those too, so they are treated as
  appraisal results). Where none is, the Office (or the administrator, or a trusted caller without
  an account) records them as transcribed from the province's result, naming that document's
  number and date, which are stored with the entry and shown ("Văn phòng ghi theo văn bản số …").
  Neither changes an entry the other made: each round of each criterion keeps its author.
- Explanations (giải trình) are the department's: the Office and the administrator write them,
  an appraiser cannot.
- Rounds open and close by the year's settings, in the Vietnam calendar. Self-scoring is bounded
  by the lock, not by its dates (a late lock shows in its time). Round 1 needs the lock and its
  window; explanations need a request and the explanation window; round 2 needs its window and
  round 1 and the explanation round to have ended; bonus and penalty may be entered from the
  opening of round 1. The administrator may open or extend a round with a reason (audited).
- The administrator publishes the index (công bố). Afterwards nothing changes (no score,
  appraisal, explanation, bonus or penalty, no lock, no override) until the administrator reopens
  the publication with a reason (audited).
- A unit works only on activities it leads ("Chủ trì"); being a partner ("Phối hợp") is not
  enough. A collective lead ("Các phòng thuộc Sở") counts for every unit. Units may add
  evidence to their activities but not edit or remove evidence: the Office does that.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum, StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from scoring.errors import InputError
from scoring.plan.units import is_collective, unit_key
from scoring.textnorm import format_datetime

# --- passwords -----------------------------------------------------------------------------

_HASHER = PasswordHasher()  # library defaults (argon2id, RFC 9106 low-memory profile)

MIN_PASSWORD_LENGTH = 10
# The username only counts as "contained" from this length on: short names such as "an" or
# "anh" are ordinary syllables and would forbid half the passwords a person might choose.
_MIN_USERNAME_LENGTH_TO_SEARCH = 4

# Compared after case folding. Shorter ones are refused by the length rule already.
_COMMON_PASSWORDS = frozenset(
    {
        "matkhau123",
        "matkhau@123",
        "matkhau1234",
        "matkhaumoi123",
        "anhyeuem123",
        "emyeuanh123",
        "vietnam123",
        "vietnam@123",
        "password123",
        "password@123",
        "passw0rd123",
        "p@ssw0rd123",
        "p@ssword123",
        "admin12345",
        "admin@12345",
        "administrator",
        "abc1234567",
        "abcd123456",
        "123456789a",
        "a123456789",
        "qwertyuiop",
        "qwerty12345",
        "qwerty123456",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "zaq12wsxcde",
        "iloveyou123",
        "asdfghjkl1",
        "changeme123",
        "welcome123",
        "chisocchc",
        "chisocchc123",
        "caicachhanhchinh",
    }
)

# Letters and digits a person can read off paper without guessing: no 0/O, 1/l/I.
_READABLE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
GENERATED_PASSWORD_LENGTH = 16


def _normalise_password(plain: str) -> str:
    return unicodedata.normalize("NFC", plain)


def hash_password(plain: str) -> str:
    """The argon2id hash to store for `plain` (salted: two calls give different hashes)."""
    return _HASHER.hash(_normalise_password(plain))


def verify_password(stored_hash: str, plain: str) -> bool:
    """Whether `plain` matches `stored_hash`. A damaged or foreign hash never matches."""
    # argon2 would raise UnicodeEncodeError here; no hash of ours contains anything but ASCII.
    if not stored_hash.isascii():
        return False
    try:
        return _HASHER.verify(stored_hash, _normalise_password(plain))
    except (VerificationError, InvalidHashError):
        return False


def verify_and_maybe_rehash(stored_hash: str, plain: str) -> tuple[bool, str | None]:
    """Check `plain`; on success also say whether to store a new hash.

    Returns (ok, new_hash): new_hash is set only when the password matched and the stored hash
    was made with weaker parameters than today's, so accounts move to current parameters as
    people sign in.
    """
    if not verify_password(stored_hash, plain):
        return False, None
    if _HASHER.check_needs_rehash(stored_hash):
        return True, hash_password(plain)
    return True, None


@cache
def _hash_of_nothing() -> str:
    return hash_password(secrets.token_urlsafe(16))


def spend_verification_time(plain: str) -> None:
    """Check `plain` against a throw-away hash, for sign-ins with an unknown username.

    Answering those at once would tell an attacker which usernames exist; doing the same work
    as a real check makes both answers take equally long.
    """
    verify_password(_hash_of_nothing(), plain)


def password_problems(plain: str, username: str) -> list[str]:
    """Why `plain` may not be chosen as a password for `username` (Vietnamese sentences); empty when fine."""
    password = _normalise_password(plain)
    folded_password = password.casefold()
    folded_username = _normalise_password(username).strip().casefold()
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    if folded_username and (
        folded_password == folded_username
        or (len(folded_username) >= _MIN_USERNAME_LENGTH_TO_SEARCH and folded_username in folded_password)
    ):
        problems.append("Mật khẩu không được trùng với tên đăng nhập hoặc chứa tên đăng nhập.")
    if password.isdigit():
        problems.append("Mật khẩu không được chỉ gồm chữ số.")
    if folded_password in _COMMON_PASSWORDS:
        problems.append("Mật khẩu này quá phổ biến, dễ bị đoán ra; hãy chọn mật khẩu khác.")
    return problems


def generate_password() -> str:
    """A random password of readable characters (about 93 bits), for the first administrator's printout."""
    while True:
        password = "".join(secrets.choice(_READABLE_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH))
        # All digits is possible in principle (about one chance in 10^13): draw again rather than print it.
        if not password_problems(password, ""):
            return password


# --- lock-out ------------------------------------------------------------------------------


def _as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already, as the database stores it."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class LoginAttempts:
    """The lock-out counters stored with an account."""

    failures: int = 0  # consecutive failed sign-ins
    locked_until: datetime | None = None  # UTC; None when not locked


@dataclass(frozen=True)
class LoginThrottle:
    """Lock-out policy: after `max_failures` consecutive failures, no sign-in for `lock_duration`."""

    max_failures: int = 5
    lock_duration: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if self.lock_duration <= timedelta(0):
            raise ValueError("lock_duration must be positive")

    def is_locked(self, state: LoginAttempts, now: datetime) -> tuple[bool, datetime | None]:
        """(locked, until): until is when sign-in becomes possible again, None when not locked."""
        if state.locked_until is not None and _as_utc(now) < _as_utc(state.locked_until):
            return True, state.locked_until
        return False, None

    def register_failure(self, state: LoginAttempts, now: datetime) -> LoginAttempts:
        """The counters after one more wrong password at `now`."""
        if self.is_locked(state, now)[0]:
            return state  # a locked account is not checked, so this is not a new failure
        if state.locked_until is not None:
            state = LoginAttempts()  # the lock has run out: a fresh start
        failures = state.failures + 1
        if failures >= self.max_failures:
            return LoginAttempts(failures=failures, locked_until=now + self.lock_duration)
        return LoginAttempts(failures=failures)

    def register_success(self, state: LoginAttempts) -> LoginAttempts:
        """The counters after a successful sign-in: all cleared."""
        return LoginAttempts()


DEFAULT_THROTTLE = LoginThrottle()


def lockout_message(until: datetime) -> str:
    """What the sign-in form says while the account is locked; the time in Vietnam time."""
    # format_datetime gives "HH:MM dd/mm/yyyy" in Vietnam time; a 15-minute lock needs only the time.
    clock = format_datetime(_as_utc(until)).split(" ", 1)[0]
    return f"Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần; thử lại sau {clock}."


# --- sessions ------------------------------------------------------------------------------


def new_session_token() -> str:
    """A fresh session token for the browser. Store only `token_digest(token)`."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the server stores for a session token (hex SHA-256), so a leaked table opens no session.

    A plain hash is enough here: the token is 256 random bits, nothing to guess or to salt.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionPolicy:
    """A session ends after `idle_timeout` without activity, and after `absolute_timeout` whatever happens."""

    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=8)

    def __post_init__(self) -> None:
        if self.idle_timeout <= timedelta(0) or self.absolute_timeout <= timedelta(0):
            raise ValueError("session timeouts must be positive")


DEFAULT_SESSION_POLICY = SessionPolicy()


def session_expired(
    created_at: datetime, last_seen: datetime, now: datetime, policy: SessionPolicy = DEFAULT_SESSION_POLICY
) -> bool:
    """Whether a session started at `created_at` and last used at `last_seen` is over at `now`."""
    now = _as_utc(now)
    return (
        now - _as_utc(last_seen) >= policy.idle_timeout
        or now - _as_utc(created_at) >= policy.absolute_timeout
    )


# --- roles and permissions -----------------------------------------------------------------


class Role(StrEnum):
    """An account's role; the value is what storage keeps, `label` what people read."""

    ADMIN = "admin"
    OFFICE = "office"
    UNIT = "unit"
    LEADER = "leader"
    APPRAISER = "appraiser"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.ADMIN: "Quản trị",
    Role.OFFICE: "Văn phòng",
    Role.UNIT: "Phòng/đơn vị",
    Role.LEADER: "Lãnh đạo",
    Role.APPRAISER: "Thẩm định (Sở Nội vụ)",
}


class Action(Enum):
    """Something an account may be allowed to do. Each carries the Vietnamese phrase used in refusals."""

    VIEW_DASHBOARD = ("view_dashboard", "xem trang tổng quan")
    VIEW_SCORES = ("view_scores", "xem điểm")
    EDIT_SELF_SCORE = ("edit_self_score", "sửa điểm tự chấm")
    EDIT_APPRAISAL = ("edit_appraisal", "nhập điểm và nhận xét thẩm định")
    LOCK_SELF_SCORE = ("lock_self_score", "khóa bản tự chấm")
    REOPEN_SELF_SCORE = ("reopen_self_score", "mở lại bản tự chấm đã khóa")
    EDIT_EXPLANATION = ("edit_explanation", "giải trình theo yêu cầu thẩm định")
    OVERRIDE_ROUND = ("override_round", "mở hoặc gia hạn một vòng đánh giá ngoài lịch")
    PUBLISH_INDEX = ("publish_index", "công bố chỉ số")
    REOPEN_PUBLISHED = ("reopen_published", "mở lại chỉ số đã công bố")
    IMPORT_PLAN = ("import_plan", "nhập kế hoạch")
    EDIT_ANY_ACTIVITY = ("edit_any_activity", "sửa mọi hoạt động của kế hoạch")
    EDIT_OWN_UNIT_ACTIVITY = ("edit_own_unit_activity", "cập nhật hoạt động này")
    UPLOAD_EVIDENCE = ("upload_evidence", "thêm tài liệu kiểm chứng")
    UPLOAD_EVIDENCE_OWN_UNIT = ("upload_evidence_own_unit", "thêm tài liệu kiểm chứng cho hoạt động này")
    EDIT_EVIDENCE = ("edit_evidence", "sửa hoặc xóa tài liệu kiểm chứng")
    EXPORT = ("export", "xuất báo cáo")
    USE_PROJECTOR = ("use_projector", "dùng chế độ trình chiếu")
    MANAGE_SETTINGS = ("manage_settings", "thay đổi cài đặt")
    MANAGE_ACCOUNTS = ("manage_accounts", "quản lý tài khoản")
    MANAGE_YEARS = ("manage_years", "quản lý năm đánh giá")
    VIEW_AUDIT_LOG = ("view_audit_log", "xem nhật ký thay đổi")
    BACKUP = ("backup", "sao lưu dữ liệu")
    RESTORE = ("restore", "khôi phục dữ liệu từ bản sao lưu")
    CREATE_DEPARTMENT = ("create_department", "thêm cơ quan")
    MANAGE_CRITERIA = ("manage_criteria", "nhập bộ tiêu chí")
    VIEW_PROVINCE = ("view_province", "xem tiến độ của các cơ quan")

    def __init__(self, key: str, phrase: str) -> None:
        self.key = key  # stable identifier for logs and storage
        self.phrase = phrase  # "không được <phrase>"


_READ_ONLY = frozenset({Action.VIEW_DASHBOARD, Action.VIEW_SCORES})

_OFFICE_ACTIONS = _READ_ONLY | {
    Action.EDIT_SELF_SCORE,
    Action.EDIT_APPRAISAL,  # results returned on paper by the province, where no appraiser account exists
    Action.EDIT_EXPLANATION,
    Action.LOCK_SELF_SCORE,
    Action.IMPORT_PLAN,
    Action.EDIT_ANY_ACTIVITY,
    Action.EDIT_OWN_UNIT_ACTIVITY,
    Action.UPLOAD_EVIDENCE,
    Action.UPLOAD_EVIDENCE_OWN_UNIT,
    Action.EDIT_EVIDENCE,
    Action.EXPORT,
    Action.USE_PROJECTOR,  # the Office usually runs the screen in leadership meetings
    Action.VIEW_AUDIT_LOG,
}

# Listed, not "every Action": a new action is granted to nobody until someone decides.
_GRANTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: _OFFICE_ACTIONS
    | {
        Action.REOPEN_SELF_SCORE,
        Action.OVERRIDE_ROUND,
        Action.PUBLISH_INDEX,
        Action.REOPEN_PUBLISHED,
        Action.MANAGE_SETTINGS,
        Action.MANAGE_ACCOUNTS,
        Action.MANAGE_YEARS,
        Action.BACKUP,
        Action.RESTORE,
        Action.CREATE_DEPARTMENT,
        Action.MANAGE_CRITERIA,
        Action.VIEW_PROVINCE,
    },
    Role.OFFICE: _OFFICE_ACTIONS,
    Role.UNIT: _READ_ONLY | {Action.EDIT_OWN_UNIT_ACTIVITY, Action.UPLOAD_EVIDENCE_OWN_UNIT},
    Role.LEADER: _READ_ONLY | {Action.EXPORT, Action.USE_PROJECTOR, Action.VIEW_AUDIT_LOG},
    Role.APPRAISER: frozenset({Action.VIEW_SCORES, Action.EDIT_APPRAISAL, Action.VIEW_PROVINCE}),
}

# Unit-scoped actions and the unscoped grant that makes the unit check unnecessary.
_UNIT_SCOPED = {
    Action.EDIT_OWN_UNIT_ACTIVITY: Action.EDIT_ANY_ACTIVITY,
    Action.UPLOAD_EVIDENCE_OWN_UNIT: Action.UPLOAD_EVIDENCE,
}

# What the appraiser may do only once the self-assessment is locked.
_APPRAISER_AFTER_LOCK = frozenset({Action.VIEW_SCORES, Action.EDIT_APPRAISAL})

# Actions about the whole installation rather than one department: a backup holds every department, a
# restore replaces them all, a new department belongs to none yet, a criteria set may serve any of them, the
# province's overview lists every department the account holds (scoring.province.progress).
INSTALLATION_WIDE_ACTIONS = frozenset({Action.BACKUP, Action.RESTORE, Action.CREATE_DEPARTMENT, Action.MANAGE_CRITERIA,
                                       Action.VIEW_PROVINCE})


@dataclass(frozen=True)
class Principal:
    """The signed-in account, as permission checks need it."""

    username: str
    display_name: str
    role: Role
    department_ids: frozenset[int] = field(default_factory=frozenset)
    unit: str | None = None  # the unit a UNIT account speaks for ("Phòng Tôn giáo")

    def __post_init__(self) -> None:
        # Storage hands over plain strings and lists; keep the fields the types they claim.
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "department_ids", frozenset(self.department_ids))


class PermissionDenied(InputError):
    """The account may not do this; `str(err)` says so in Vietnamese."""

    def __init__(self, message: str, *, username: str, action: Action) -> None:
        super().__init__(message)
        self.username = username
        self.action = action


def allowed_actions(principal: Principal) -> frozenset[Action]:
    """What the principal's role grants, before department, unit and lock conditions (for menus)."""
    return _GRANTS[principal.role]


def _leads(unit: str, lead_units: Iterable[str]) -> bool:
    key = unit_key(unit)
    return any(is_collective(lead) or unit_key(lead) == key for lead in lead_units)


def authorize(
    principal: Principal,
    action: Action,
    *,
    department_id: int | None = None,
    activity_lead_units: list[str] | None = None,
    assessment_locked: bool | None = None,
) -> None:
    """Raise `PermissionDenied` unless `principal` may do `action` in this context.

    Context: `department_id` — the department the data belongs to (required except for
    installation-wide actions); `activity_lead_units` — the activity's "Chủ trì" units, for the
    unit-scoped actions; `assessment_locked` — whether the self-assessment is locked, for the
    appraiser. Missing context that the decision needs is a programming error (ValueError),
    except the lock state, where unknown counts as not locked.
    """
    who = f"Tài khoản «{principal.username}» (vai trò {principal.role.label})"

    def denied(reason: str) -> PermissionDenied:
        return PermissionDenied(reason, username=principal.username, action=action)

    if action not in _GRANTS[principal.role]:
        raise denied(f"{who} không được {action.phrase}.")

    if department_id is None:
        if action not in INSTALLATION_WIDE_ACTIONS:
            raise ValueError(f"authorize({action.name}) needs the department_id the data belongs to")
        if not principal.department_ids:
            raise denied(f"{who} chưa được giao cơ quan nào nên không được {action.phrase}.")
    elif department_id not in principal.department_ids:
        raise denied(f"{who} không được giao làm việc với cơ quan này nên không được {action.phrase}.")

    if action in _UNIT_SCOPED and _UNIT_SCOPED[action] not in _GRANTS[principal.role]:
        if activity_lead_units is None:
            raise ValueError(f"authorize({action.name}) needs activity_lead_units")
        if not principal.unit:
            raise denied(f"{who} chưa được gán phòng/đơn vị nên không được {action.phrase}.")
        if not _leads(principal.unit, activity_lead_units):
            if activity_lead_units:
                reason = f"hoạt động do {', '.join(activity_lead_units)} chủ trì, không phải {principal.unit}"
            else:
                reason = "hoạt động chưa ghi đơn vị chủ trì; Văn phòng cần bổ sung trước"
            raise denied(f"{who} không được {action.phrase}: {reason}.")

    if principal.role is Role.APPRAISER and action in _APPRAISER_AFTER_LOCK and assessment_locked is not True:
        raise denied(f"{who} chỉ được {action.phrase} sau khi cơ quan đã khóa bản tự chấm.")


def can(principal: Principal, action: Action, **context: object) -> bool:
    """Whether `authorize` would let this through (for showing or hiding buttons)."""
    try:
        authorize(principal, action, **context)  # type: ignore[arg-type]
    except PermissionDenied:
        return False
    return True


def authorize_view(principal: Principal, *, department_id: int, assessment_locked: bool | None) -> None:
    """Raise `PermissionDenied` unless `principal` may see this department's year: its scores, plan and
    evidence files. The dashboard's readers may; the appraiser only once the self-assessment is locked."""
    if can(principal, Action.VIEW_DASHBOARD, department_id=department_id):
        return
    authorize(principal, Action.VIEW_SCORES, department_id=department_id, assessment_locked=assessment_locked)


def authorize_account_change(principal: Principal, department_ids: Iterable[int]) -> None:
    """Raise `PermissionDenied` unless `principal` may create, reset or change an account that has (or is
    given) `department_ids`: an administrator, holding every one of them. An account with no department can
    do nothing, so any administrator may make or change one."""
    if Action.MANAGE_ACCOUNTS not in _GRANTS[principal.role]:
        raise PermissionDenied(f"Tài khoản «{principal.username}» (vai trò {principal.role.label}) không được "
                               f"{Action.MANAGE_ACCOUNTS.phrase}.", username=principal.username, action=Action.MANAGE_ACCOUNTS)
    for department_id in sorted(set(department_ids)):
        authorize(principal, Action.MANAGE_ACCOUNTS, department_id=department_id)
