import string
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

from scoring.access.auth import (
    Action,
    LoginAttempts,
    LoginThrottle,
    PermissionDenied,
    Principal,
    Role,
    SessionPolicy,
    allowed_actions,
    authorize,
    can,
    generate_password,
    hash_password,
    lockout_message,
    new_session_token,
    password_problems,
    session_expired,
    token_digest,
    verify_and_maybe_rehash,
    verify_password,
)
from scoring.errors import InputError

DEPARTMENT = 7
OTHER_DEPARTMENT = 8

# --- the permission matrix -------------------------------------------------------------------

# The specification, written from issue 8 rather than copied from scoring/access/auth.py.
# "Y": allowed in the department the account belongs to (for a unit: on an activity it leads;
# for the appraiser: once the self-assessment is locked). "-": never.
PERMISSION_SPEC = """
action                    ADMIN OFFICE UNIT LEADER APPRAISER
VIEW_DASHBOARD              Y     Y     Y     Y       -
VIEW_SCORES                 Y     Y     Y     Y       Y
EDIT_SELF_SCORE             Y     Y     -     -       -
EDIT_APPRAISAL              Y     Y     -     -       Y
LOCK_SELF_SCORE             Y     Y     -     -       -
REOPEN_SELF_SCORE           Y     -     -     -       -
EDIT_EXPLANATION            Y     Y     -     -       -
OVERRIDE_ROUND              Y     -     -     -       -
PUBLISH_INDEX               Y     -     -     -       -
REOPEN_PUBLISHED            Y     -     -     -       -
IMPORT_PLAN                 Y     Y     -     -       -
EDIT_ANY_ACTIVITY           Y     Y     -     -       -
EDIT_OWN_UNIT_ACTIVITY      Y     Y     Y     -       -
UPLOAD_EVIDENCE             Y     Y     -     -       -
UPLOAD_EVIDENCE_OWN_UNIT    Y     Y     Y     -       -
EDIT_EVIDENCE               Y     Y     -     -       -
EXPORT                      Y     Y     -     Y       -
USE_PROJECTOR               Y     Y     -     Y       -
MANAGE_SETTINGS             Y     -     -     -       -
MANAGE_ACCOUNTS             Y     -     -     -       -
MANAGE_YEARS                Y     -     -     -       -
VIEW_AUDIT_LOG              Y     Y     -     Y       -
BACKUP                      Y     -     -     -       -
RESTORE                     Y     -     -     -       -
CREATE_DEPARTMENT           Y     -     -     -       -
MANAGE_CRITERIA             Y     -     -     -       -
VIEW_PROVINCE               Y     -     -     -       Y
"""


def _parse_spec(text: str) -> dict[tuple[str, str], bool]:
    header, *rows = [line.split() for line in text.strip().splitlines()]
    roles = header[1:]
    spec = {}
    for action, *marks in rows:
        assert len(marks) == len(roles), action
        for role, mark in zip(roles, marks):
            assert mark in {"Y", "-"}, (action, role, mark)
            spec[(role, action)] = mark == "Y"
    return spec


SPEC = _parse_spec(PERMISSION_SPEC)
UNIT_NAME = "Phòng Tôn giáo"


def principal(role: Role, *, departments=(DEPARTMENT,), unit: str | None = None, username: str = "nguoidung"):
    if unit is None and role is Role.UNIT:
        unit = UNIT_NAME
    return Principal(
        username=username,
        display_name="Nguyễn Văn A",
        role=role,
        department_ids=frozenset(departments),
        unit=unit,
    )


def favourable_context() -> dict:
    """Everything in the account's favour, so only the role decides."""
    return {"department_id": DEPARTMENT, "activity_lead_units": [UNIT_NAME], "assessment_locked": True}


def test_the_spec_covers_every_role_and_action():
    assert {role for role, _ in SPEC} == {role.name for role in Role}
    assert {action for _, action in SPEC} == {action.name for action in Action}


@pytest.mark.parametrize(("role_name", "action_name"), sorted(SPEC))
def test_each_role_may_do_exactly_what_the_spec_says(role_name, action_name):
    account = principal(Role[role_name])
    action = Action[action_name]
    context = favourable_context()
    if SPEC[(role_name, action_name)]:
        authorize(account, action, **context)
        assert can(account, action, **context)
    else:
        with pytest.raises(PermissionDenied) as refused:
            authorize(account, action, **context)
        assert f"không được {action.phrase}" in str(refused.value)
        assert not can(account, action, **context)


@pytest.mark.parametrize("role", list(Role))
def test_allowed_actions_lists_the_roles_grants(role):
    expected = {Action[action] for (role_name, action), allowed in SPEC.items() if role_name == role.name and allowed}
    assert allowed_actions(principal(role)) == expected


def test_refusal_names_account_role_and_action_in_vietnamese():
    with pytest.raises(PermissionDenied) as refused:
        authorize(principal(Role.UNIT, username="x"), Action.EDIT_SELF_SCORE, department_id=DEPARTMENT)
    assert str(refused.value) == "Tài khoản «x» (vai trò Phòng/đơn vị) không được sửa điểm tự chấm."
    assert isinstance(refused.value, InputError)
    assert refused.value.action is Action.EDIT_SELF_SCORE
    assert refused.value.username == "x"
    assert unicodedata.is_normalized("NFC", str(refused.value))


def test_role_labels():
    assert [role.label for role in Role] == [
        "Quản trị",
        "Văn phòng",
        "Phòng/đơn vị",
        "Lãnh đạo",
        "Thẩm định (Sở Nội vụ)",
    ]


def test_principal_accepts_what_storage_hands_over():
    account = Principal("vanphong", "Văn phòng Sở", "office", [1, 2, 2], None)
    assert account.role is Role.OFFICE
    assert account.department_ids == frozenset({1, 2})
    hash(account)  # frozen: usable as a cache key
    with pytest.raises(ValueError):
        Principal("x", "x", "superuser", frozenset(), None)


# --- department isolation ------------------------------------------------------------------


@pytest.mark.parametrize(("role_name", "action_name"), sorted(key for key, allowed in SPEC.items() if allowed))
def test_nothing_is_allowed_in_a_department_the_account_does_not_hold(role_name, action_name):
    account = principal(Role[role_name])
    action = Action[action_name]
    context = favourable_context() | {"department_id": OTHER_DEPARTMENT}
    with pytest.raises(PermissionDenied) as refused:
        authorize(account, action, **context)
    assert "không được giao làm việc với cơ quan này" in str(refused.value)


def test_an_administrator_of_one_department_is_not_administrator_of_another():
    admin = principal(Role.ADMIN, departments=[DEPARTMENT])
    assert can(admin, Action.MANAGE_ACCOUNTS, department_id=DEPARTMENT)
    assert not can(admin, Action.MANAGE_ACCOUNTS, department_id=OTHER_DEPARTMENT)
    assert not can(admin, Action.VIEW_SCORES, department_id=OTHER_DEPARTMENT)


def test_an_account_holding_several_departments_works_in_each():
    appraiser = principal(Role.APPRAISER, departments=[DEPARTMENT, OTHER_DEPARTMENT])
    for department in (DEPARTMENT, OTHER_DEPARTMENT):
        assert can(appraiser, Action.EDIT_APPRAISAL, department_id=department, assessment_locked=True)
    assert not can(appraiser, Action.EDIT_APPRAISAL, department_id=99, assessment_locked=True)


def test_no_departments_means_none_not_all():
    admin = principal(Role.ADMIN, departments=[])
    assert not can(admin, Action.MANAGE_SETTINGS, department_id=DEPARTMENT)
    with pytest.raises(PermissionDenied) as refused:
        authorize(admin, Action.BACKUP)
    assert "chưa được giao cơ quan nào" in str(refused.value)


def test_backup_concerns_the_installation_and_needs_no_department():
    assert can(principal(Role.ADMIN), Action.BACKUP)
    assert not can(principal(Role.OFFICE), Action.BACKUP)


def test_department_scoped_action_without_a_department_is_a_programming_error():
    with pytest.raises(ValueError, match="department_id"):
        authorize(principal(Role.ADMIN), Action.EDIT_SELF_SCORE)


# --- unit scoping --------------------------------------------------------------------------

UNIT_ACTIONS = [Action.EDIT_OWN_UNIT_ACTIVITY, Action.UPLOAD_EVIDENCE_OWN_UNIT]


@pytest.mark.parametrize("action", UNIT_ACTIONS)
@pytest.mark.parametrize(
    ("account_unit", "lead_units", "allowed"),
    [
        ("Phòng Tôn giáo", ["Phòng Tôn giáo"], True),
        ("Phòng Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"], True),
        # Same unit written in another case, on either side.
        ("Phòng Tôn giáo", ["phòng tôn giáo"], True),
        ("Phòng Tôn giáo", ["PHÒNG TÔN GIÁO"], True),
        ("phòng tôn giáo", ["Phòng Tôn giáo"], True),
        (unicodedata.normalize("NFD", "Phòng Tôn giáo"), ["Phòng Tôn giáo"], True),
        # "Các phòng thuộc Sở" and its variants lead for every unit.
        ("Phòng Tôn giáo", ["Các phòng thuộc Sở"], True),
        ("Phòng CSĐT", ["các phòng, đơn vị thuộc Sở"], True),
        ("Văn phòng", ["Phòng CSĐT", "Các phòng thuộc Sở"], True),
        # Someone else's activity.
        ("Phòng Tôn giáo", ["Văn phòng"], False),
        ("Phòng Tôn giáo", ["Phòng CSĐT", "Văn phòng"], False),
        # Accents are part of the name: "giao" is not "giáo".
        ("Phòng Tôn giáo", ["Phòng Tôn giao"], False),
        # A unit whose name contains another's is still another unit.
        ("Phòng Tôn giáo", ["Phòng Tôn giáo và Dân tộc"], False),
        ("Phòng Tôn giáo", [], False),
    ],
)
def test_a_unit_works_only_on_activities_it_leads(action, account_unit, lead_units, allowed):
    account = principal(Role.UNIT, unit=account_unit)
    assert can(account, action, department_id=DEPARTMENT, activity_lead_units=lead_units) is allowed


def test_refusal_for_another_units_activity_says_who_leads_it():
    with pytest.raises(PermissionDenied) as refused:
        authorize(
            principal(Role.UNIT, username="tongiao"),
            Action.EDIT_OWN_UNIT_ACTIVITY,
            department_id=DEPARTMENT,
            activity_lead_units=["Văn phòng"],
        )
    assert str(refused.value) == (
        "Tài khoản «tongiao» (vai trò Phòng/đơn vị) không được cập nhật hoạt động này: "
        "hoạt động do Văn phòng chủ trì, không phải Phòng Tôn giáo."
    )


def test_a_unit_account_without_a_unit_can_update_nothing():
    account = principal(Role.UNIT, unit="")
    with pytest.raises(PermissionDenied) as refused:
        authorize(
            account,
            Action.EDIT_OWN_UNIT_ACTIVITY,
            department_id=DEPARTMENT,
            activity_lead_units=["Các phòng thuộc Sở"],
        )
    assert "chưa được gán phòng/đơn vị" in str(refused.value)


def test_unit_scoped_check_without_lead_units_is_a_programming_error():
    with pytest.raises(ValueError, match="activity_lead_units"):
        authorize(principal(Role.UNIT), Action.UPLOAD_EVIDENCE_OWN_UNIT, department_id=DEPARTMENT)


@pytest.mark.parametrize("role", [Role.OFFICE, Role.ADMIN])
@pytest.mark.parametrize("action", UNIT_ACTIONS)
def test_office_and_admin_work_on_any_units_activity(role, action):
    account = principal(role, unit="Văn phòng")
    assert can(account, action, department_id=DEPARTMENT, activity_lead_units=["Phòng CSĐT"])
    assert can(account, action, department_id=DEPARTMENT, activity_lead_units=[])


def test_a_unit_cannot_edit_or_upload_outside_its_own_activities():
    account = principal(Role.UNIT)
    for action in (Action.EDIT_ANY_ACTIVITY, Action.UPLOAD_EVIDENCE, Action.EDIT_EVIDENCE):
        assert not can(account, action, department_id=DEPARTMENT, activity_lead_units=[UNIT_NAME])


# --- the appraiser and the lock ------------------------------------------------------------


@pytest.mark.parametrize("action", [Action.VIEW_SCORES, Action.EDIT_APPRAISAL])
@pytest.mark.parametrize(("locked", "allowed"), [(True, True), (False, False), (None, False)])
def test_appraiser_sees_and_appraises_only_a_locked_self_assessment(action, locked, allowed):
    appraiser = principal(Role.APPRAISER, username="sonoivu")
    assert can(appraiser, action, department_id=DEPARTMENT, assessment_locked=locked) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied) as refused:
            authorize(appraiser, action, department_id=DEPARTMENT, assessment_locked=locked)
        assert str(refused.value) == (
            f"Tài khoản «sonoivu» (vai trò Thẩm định (Sở Nội vụ)) chỉ được {action.phrase} "
            "sau khi cơ quan đã khóa bản tự chấm."
        )


def test_appraiser_of_another_department_sees_nothing_even_when_locked():
    appraiser = principal(Role.APPRAISER, departments=[OTHER_DEPARTMENT])
    assert not can(appraiser, Action.VIEW_SCORES, department_id=DEPARTMENT, assessment_locked=True)


def test_office_enters_appraisal_returned_on_paper_and_sees_drafts():
    office = principal(Role.OFFICE)
    assert can(office, Action.EDIT_APPRAISAL, department_id=DEPARTMENT, assessment_locked=True)
    assert can(office, Action.VIEW_SCORES, department_id=DEPARTMENT, assessment_locked=False)
    assert can(principal(Role.UNIT), Action.VIEW_SCORES, department_id=DEPARTMENT, assessment_locked=False)


# --- passwords -----------------------------------------------------------------------------


def test_hash_round_trip():
    stored = hash_password("Hoa sen nở 2026!")
    assert stored.startswith("$argon2id$")
    assert "Hoa sen" not in stored
    assert verify_password(stored, "Hoa sen nở 2026!")
    assert not verify_password(stored, "Hoa sen no 2026!")
    assert not verify_password(stored, "")


def test_hashes_are_salted():
    assert hash_password("cùng một mật khẩu") != hash_password("cùng một mật khẩu")


def test_decomposed_accents_are_the_same_password():
    stored = hash_password("Mật khẩu tiếng Việt")
    assert verify_password(stored, unicodedata.normalize("NFD", "Mật khẩu tiếng Việt"))


@pytest.mark.parametrize("stored", ["", "không phải hash", "$argon2id$v=19$m=1,t=1,p=1$hỏng"])
def test_a_damaged_stored_hash_never_matches(stored):
    assert not verify_password(stored, "bất kỳ")
    assert verify_and_maybe_rehash(stored, "bất kỳ") == (False, None)


def test_a_hash_with_weaker_parameters_is_replaced_on_sign_in():
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("Đúng mật khẩu 1")
    assert verify_and_maybe_rehash(weak, "Sai mật khẩu 1") == (False, None)
    ok, new_hash = verify_and_maybe_rehash(weak, "Đúng mật khẩu 1")
    assert ok and new_hash is not None and new_hash != weak
    assert verify_and_maybe_rehash(new_hash, "Đúng mật khẩu 1") == (True, None)


LENGTH = "Mật khẩu phải có ít nhất 10 ký tự."
USERNAME = "Mật khẩu không được trùng với tên đăng nhập hoặc chứa tên đăng nhập."
DIGITS = "Mật khẩu không được chỉ gồm chữ số."
COMMON = "Mật khẩu này quá phổ biến, dễ bị đoán ra; hãy chọn mật khẩu khác."


@pytest.mark.parametrize(
    ("password", "username", "expected"),
    [
        ("Sông Hồng mùa nước nổi", "nguyenvana", []),
        ("ngắn", "nguyenvana", [LENGTH]),
        ("abcdefghi", "nguyenvana", [LENGTH]),
        ("abcdefghij", "nguyenvana", []),
        # Length counts letters as written, not decomposed code points.
        (unicodedata.normalize("NFD", "Đà Lạt xa"), "nguyenvana", [LENGTH]),
        ("nguyenvana", "nguyenvana", [USERNAME]),
        ("NguyenVanA", "nguyenvana", [USERNAME]),
        ("2026-NGUYENVANA-!", "nguyenvana", [USERNAME]),
        # A short username is an ordinary syllable: only an exact match is refused.
        ("an toàn là trên hết", "an", []),
        ("an", "an", [LENGTH, USERNAME]),
        ("1234567890", "nguyenvana", [DIGITS]),
        ("12345", "nguyenvana", [LENGTH, DIGITS]),
        ("MatKhau123", "nguyenvana", [COMMON]),
        ("QWERTYUIOP", "nguyenvana", [COMMON]),
        ("password123", "password123", [USERNAME, COMMON]),
    ],
)
def test_password_rules(password, username, expected):
    assert password_problems(password, username) == expected


def test_generated_passwords_are_readable_random_and_acceptable():
    passwords = {generate_password() for _ in range(200)}
    assert len(passwords) == 200
    readable = set(string.ascii_letters + string.digits) - set("0Ol1I")
    for password in passwords:
        assert len(password) == 16
        assert set(password) <= readable
        assert password_problems(password, "admin") == []
    # Every readable character turns up somewhere in 3200 draws from 57; nothing else does.
    assert set().union(*passwords) == readable


# --- lock-out ------------------------------------------------------------------------------

T0 = datetime(2026, 12, 20, 7, 0)  # naive UTC, as the database stores it


def fail(throttle: LoginThrottle, times: int, state: LoginAttempts | None = None, at: datetime = T0) -> LoginAttempts:
    if state is None:
        state = LoginAttempts()
    for _ in range(times):
        state = throttle.register_failure(state, at)
    return state


def test_four_failures_do_not_lock_the_fifth_does():
    throttle = LoginThrottle()
    state = fail(throttle, 4)
    assert throttle.is_locked(state, T0) == (False, None)
    state = throttle.register_failure(state, T0)
    assert throttle.is_locked(state, T0) == (True, T0 + timedelta(minutes=15))


def test_the_lock_is_released_after_fifteen_minutes():
    throttle = LoginThrottle()
    state = fail(throttle, 5)
    assert throttle.is_locked(state, T0 + timedelta(minutes=14, seconds=59))[0]
    assert throttle.is_locked(state, T0 + timedelta(minutes=15)) == (False, None)


def test_failures_while_locked_do_not_extend_the_lock():
    throttle = LoginThrottle()
    state = fail(throttle, 5)
    later = fail(throttle, 10, state, at=T0 + timedelta(minutes=10))
    assert later == state


def test_after_the_lock_runs_out_counting_starts_again():
    throttle = LoginThrottle()
    state = fail(throttle, 5)
    after = T0 + timedelta(minutes=20)
    state = throttle.register_failure(state, after)
    assert state == LoginAttempts(failures=1)
    state = fail(throttle, 4, state, at=after)
    assert throttle.is_locked(state, after) == (True, after + timedelta(minutes=15))


def test_success_clears_the_counters():
    throttle = LoginThrottle()
    state = throttle.register_success(fail(throttle, 4))
    assert state == LoginAttempts()
    assert not throttle.is_locked(fail(throttle, 4, state), T0)[0]


def test_policy_is_configurable():
    throttle = LoginThrottle(max_failures=3, lock_duration=timedelta(minutes=5))
    state = fail(throttle, 3)
    assert throttle.is_locked(state, T0) == (True, T0 + timedelta(minutes=5))
    with pytest.raises(ValueError):
        LoginThrottle(max_failures=0)
    with pytest.raises(ValueError):
        LoginThrottle(lock_duration=timedelta(0))


def test_naive_and_aware_times_mix():
    throttle = LoginThrottle()
    state = fail(throttle, 5)  # stored naive
    aware_now = T0.replace(tzinfo=timezone.utc) + timedelta(minutes=1)
    assert throttle.is_locked(state, aware_now)[0]
    vietnam = timezone(timedelta(hours=7))
    assert not throttle.is_locked(state, datetime(2026, 12, 20, 14, 16, tzinfo=vietnam))[0]


@pytest.mark.parametrize(
    ("until", "clock"),
    [
        (datetime(2026, 12, 20, 7, 5), "14:05"),
        (datetime(2026, 12, 20, 7, 5, tzinfo=timezone.utc), "14:05"),
        (datetime(2026, 12, 20, 17, 30), "00:30"),
    ],
)
def test_lockout_message_in_vietnam_time(until, clock):
    assert lockout_message(until) == (
        f"Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần; thử lại sau {clock}."
    )


# --- sessions ------------------------------------------------------------------------------


def test_session_tokens_are_long_random_and_url_safe():
    tokens = {new_session_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert len(token) >= 43  # 32 random bytes
        assert set(token) <= set(string.ascii_letters + string.digits + "-_")


def test_only_a_digest_of_the_token_is_stored():
    token = new_session_token()
    digest = token_digest(token)
    assert digest == token_digest(token)
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert token not in digest
    assert token_digest(new_session_token()) != digest
    # Known SHA-256 value, so a stored digest stays valid across versions.
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    ("since_start", "since_last_seen", "expired"),
    [
        (timedelta(0), timedelta(0), False),
        (timedelta(minutes=29, seconds=59), timedelta(minutes=29, seconds=59), False),
        (timedelta(minutes=30), timedelta(minutes=30), True),  # idle
        (timedelta(hours=2), timedelta(minutes=31), True),  # idle
        (timedelta(hours=7, minutes=59), timedelta(minutes=1), False),
        (timedelta(hours=8), timedelta(minutes=1), True),  # absolute, although active
        (timedelta(hours=12), timedelta(0), True),
    ],
)
def test_session_expiry(since_start, since_last_seen, expired):
    now = T0 + timedelta(days=1)
    assert session_expired(now - since_start, now - since_last_seen, now) is expired


def test_session_policy_is_configurable():
    policy = SessionPolicy(idle_timeout=timedelta(minutes=5), absolute_timeout=timedelta(hours=1))
    assert session_expired(T0, T0, T0 + timedelta(minutes=5), policy)
    assert not session_expired(T0, T0 + timedelta(minutes=58), T0 + timedelta(minutes=59), policy)
    assert session_expired(T0, T0 + timedelta(minutes=59), T0 + timedelta(hours=1), policy)
    with pytest.raises(ValueError):
        SessionPolicy(idle_timeout=timedelta(0))


def test_session_times_may_be_naive_or_aware():
    aware_now = (T0 + timedelta(minutes=10)).replace(tzinfo=timezone.utc)
    assert not session_expired(T0, T0, aware_now)
    assert session_expired(T0, T0, aware_now + timedelta(minutes=20))
