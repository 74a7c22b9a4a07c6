"""Sign-in sessions in the core: opened by a correct sign-in, kept by the cookie's token, ended by sign-out,
idleness, the absolute limit, a password reset or a disabled account (scoring/access/sessions.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from scoring.access import accounts, sessions
from scoring.access.auth import DEFAULT_SESSION_POLICY, Role, token_digest
from scoring.store import actors
from scoring.store.db import SIGN_IN_SESSIONS
from scoring.store.restore import count_rows
from scoring.store.workspace import ensure_default_workspace

PASSWORD = "Mat-khau-du-dai-2026"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def people(db):
    workspace = ensure_default_workspace(db)
    for username, role in (("vanphong", Role.OFFICE), ("quantri", Role.ADMIN)):
        accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=[workspace.department_id],
                                actor=actors.SYSTEM_ACTOR)
    return db


def _open(db, username="vanphong", now=T0) -> str:
    return sessions.open_session(db, accounts.sign_in(db, username, PASSWORD, now=now), now=now)


def test_a_session_names_its_person_and_only_its_digest_is_stored(people):
    token = _open(people)
    check = sessions.check_session(people, token, now=T0 + timedelta(minutes=1))
    assert check.signed_in.principal.username == "vanphong" and check.reason is None
    with people.engine.connect() as connection:
        stored = connection.execute(select(SIGN_IN_SESSIONS.c.token_digest)).scalars().all()
    assert stored == [token_digest(token)] and token not in stored


def test_no_token_or_an_unknown_one_is_nobody_without_a_reason(people):
    assert sessions.check_session(people, None) == sessions.NO_SESSION
    assert sessions.check_session(people, "not-a-token-we-made") == sessions.NO_SESSION


def test_use_keeps_a_session_alive_and_idleness_ends_it(people):
    token = _open(people)
    idle = DEFAULT_SESSION_POLICY.idle_timeout
    moment = T0
    for _ in range(5):  # used every 20 minutes for 100 minutes: still signed in
        moment += timedelta(minutes=20)
        assert sessions.check_session(people, token, now=moment).signed_in is not None
    check = sessions.check_session(people, token, now=moment + idle)
    assert check.signed_in is None and check.reason == sessions.Ended.EXPIRED
    assert "30 phút" in sessions.reason_message(check.reason)
    # ended stays ended, even if it is asked again at once
    assert sessions.check_session(people, token, now=moment).signed_in is None


def test_the_absolute_limit_ends_a_session_in_use(people):
    token = _open(people)
    moment = T0
    while moment - T0 < DEFAULT_SESSION_POLICY.absolute_timeout - timedelta(minutes=10):
        moment += timedelta(minutes=10)
        assert sessions.check_session(people, token, now=moment).signed_in is not None
    check = sessions.check_session(people, token, now=T0 + DEFAULT_SESSION_POLICY.absolute_timeout)
    assert check.signed_in is None and check.reason == sessions.Ended.EXPIRED


def test_last_use_is_written_at_most_once_a_minute(people):
    token = _open(people)

    def last_seen():
        with people.engine.connect() as connection:
            return connection.execute(select(SIGN_IN_SESSIONS.c.last_seen_at)).scalar_one()

    sessions.check_session(people, token, now=T0 + timedelta(seconds=30))
    assert last_seen() == T0.replace(tzinfo=None)
    sessions.check_session(people, token, now=T0 + timedelta(seconds=61))
    assert last_seen() == (T0 + timedelta(seconds=61)).replace(tzinfo=None)


def test_sessions_are_not_data_they_move_no_revision_and_stay_out_of_backups(people):
    before = people.revision()
    token = _open(people)
    revision_after_sign_in = people.revision()
    sessions.check_session(people, token, now=T0 + timedelta(minutes=5))
    sessions.end_session(people, token)
    assert people.revision() == revision_after_sign_in  # seen and signed out: nothing for snapshots to reload
    assert revision_after_sign_in - before <= 1  # the sign-in itself (lock-out counters) is the account's
    assert SIGN_IN_SESSIONS.name not in count_rows(people)


def test_sign_out_ends_only_that_session(people):
    first, second = _open(people), _open(people)
    sessions.end_session(people, first)
    assert sessions.check_session(people, first, now=T0).reason == sessions.Ended.SIGNED_OUT
    assert sessions.check_session(people, second, now=T0).signed_in is not None
    assert sessions.reason_message(sessions.Ended.SIGNED_OUT) == "Bạn đã đăng xuất."


def test_a_password_reset_ends_every_session_of_that_account(people):
    mine, other = _open(people, "vanphong"), _open(people, "quantri")
    accounts.reset_password(people, "vanphong", "Mat-khau-moi-cung-du-dai", expected_version=None, actor=actors.SYSTEM_ACTOR)
    assert sessions.check_session(people, mine, now=T0).reason == sessions.Ended.PASSWORD_RESET
    assert sessions.check_session(people, other, now=T0).signed_in is not None


def test_disabling_an_account_ends_its_sessions_and_a_changed_role_applies_at_once(people):
    token = _open(people)
    version = next(a for a in accounts.list_accounts(people) if a.username == "vanphong").version
    view = accounts.update_account(people, "vanphong", version, role=Role.LEADER, actor=actors.SYSTEM_ACTOR)
    assert sessions.check_session(people, token, now=T0).signed_in.principal.role is Role.LEADER
    accounts.update_account(people, "vanphong", view.version, active=False, actor=actors.SYSTEM_ACTOR)
    check = sessions.check_session(people, token, now=T0)
    assert check.signed_in is None and check.reason == sessions.Ended.ACCOUNT_DISABLED


def test_a_reason_from_an_address_can_only_pick_one_of_our_sentences():
    assert sessions.reason_message("<script>alert(1)</script>") is None
    assert sessions.reason_message(None) is None
    for reason in (*sessions.Ended, sessions.INACTIVE):
        assert sessions.reason_message(reason)


def test_ended_sessions_are_cleared_away_after_a_month(people):
    old = _open(people, now=T0)
    sessions.end_session(people, old, now=T0)
    _open(people, now=T0 + sessions.KEEP_ENDED + timedelta(days=1))
    with people.engine.connect() as connection:
        digests = connection.execute(select(SIGN_IN_SESSIONS.c.token_digest)).scalars().all()
    assert token_digest(old) not in digests and len(digests) == 1


def test_deleting_an_account_deletes_its_sessions(people):
    _open(people)
    from scoring.store.models import Account
    with people.session() as session:
        session.delete(session.scalar(select(Account).where(Account.username == "vanphong")))
    with people.engine.connect() as connection:
        assert connection.execute(select(SIGN_IN_SESSIONS.c.id)).all() == []


def test_a_database_that_cannot_be_written_just_now_still_lets_people_read(tmp_path):
    from scoring.store.db import Database, Settings, open_database

    folder = tmp_path / "data"
    writable = open_database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))
    ensure_default_workspace(writable)
    accounts.create_account(writable, "vanphong", role=Role.OFFICE, password=PASSWORD, department_ids=[], actor=actors.SYSTEM_ACTOR)
    token = _open(writable)
    writable.dispose()
    read_only = Database(Settings(data_dir=folder, database_url=f"sqlite:///file:{folder / 'cchc.db'}?mode=ro&uri=true"))
    later = T0 + timedelta(minutes=5)  # its last use is due to be written, and cannot be
    assert sessions.check_session(read_only, token, now=later).signed_in.principal.username == "vanphong"
    assert sessions.check_session(read_only, token, now=T0 + timedelta(hours=9)).reason == sessions.Ended.EXPIRED
    read_only.dispose()
