"""Sign-in sessions: what keeps a person signed in across reloads, tabs and server processes.

Signing in (the password check, lock-out: scoring.access.accounts.sign_in) opens a session: a random token that
the browser keeps in an HttpOnly cookie (web.py sets it) and of which the database keeps only the
SHA-256 digest (scoring.access.auth.token_digest), so a copied table opens nothing. Every request and every
script run looks the token up here; the session ends at sign-out, after `SessionPolicy.idle_timeout`
without use, after `SessionPolicy.absolute_timeout` whatever happens, and when an administrator resets
the password or disables the account (scoring.access.accounts ends those sessions in the same transaction).

Rows live in `scoring.store.db.SIGN_IN_SESSIONS`, outside the data: writing them moves no data revision, and a
backup neither carries nor restores them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from scoring.access.accounts import Ended, principal_for
from scoring.access.auth import (
    DEFAULT_SESSION_POLICY,
    Principal,
    SessionPolicy,
    new_session_token,
    session_expired,
    token_digest,
)
from scoring.errors import raise_as_storage_error
from scoring.store.db import SIGN_IN_SESSIONS, Database
from scoring.store.models import Account
from scoring.textnorm import format_number

log = logging.getLogger("cchc")

COOKIE_NAME = "cchc_phien"
# A session's last use is written at most this often: often enough for a 30-minute idle limit to be
# exact to the minute, rarely enough that a person clicking through scores writes no extra row per click.
TOUCH_INTERVAL = timedelta(seconds=60)
# Ended and expired rows are kept this long (who was signed in when), then removed at the next sign-in.
KEEP_ENDED = timedelta(days=30)


INACTIVE = "inactive"  # a reason beside Ended's: the account was disabled by other means than update_account


def reason_message(reason: str | None, policy: SessionPolicy = DEFAULT_SESSION_POLICY) -> str | None:
    """The sentence for why a person is not signed in (a reason of SessionCheck, or of the sign-in page's
    address); None for no reason or one we don't know, so an address can only pick among our own sentences."""
    if reason == Ended.EXPIRED:
        idle = format_number(policy.idle_timeout.total_seconds() / 60, 0)
        absolute = format_number(policy.absolute_timeout.total_seconds() / 3600, 0)
        return (f"Phiên làm việc đã hết hạn (quá {idle} phút không dùng, hoặc đã quá {absolute} giờ kể từ khi "
                "đăng nhập); hãy đăng nhập lại.")
    return {
        Ended.SIGNED_OUT: "Bạn đã đăng xuất.",
        Ended.PASSWORD_RESET: "Mật khẩu của tài khoản vừa được đặt lại nên phiên làm việc đã kết thúc; hãy đăng nhập bằng mật khẩu mới.",
        Ended.ACCOUNT_DISABLED: "Tài khoản đã bị vô hiệu hóa nên phiên làm việc đã kết thúc; hãy liên hệ quản trị viên.",
        INACTIVE: "Tài khoản không còn hoạt động; hãy liên hệ quản trị viên.",
    }.get(reason)


@dataclass(frozen=True)
class SignedIn:
    """A live session: who, and the digest that names the session (never the token itself)."""

    principal: Principal
    digest: str


@dataclass(frozen=True)
class SessionCheck:
    """What a token is worth now: a live session, or why there is none (an Ended value or INACTIVE; None
    when the browser brought no session we know: nothing to explain, just the sign-in page)."""

    signed_in: SignedIn | None
    reason: str | None = None


NO_SESSION = SessionCheck(None)


def _stored(moment: datetime) -> datetime:
    """Naive UTC, as every time is stored."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def open_session(db: Database, principal: Principal, *, now: datetime | None = None) -> str:
    """A new session for a person who has just signed in (scoring.access.accounts.sign_in checked the password);
    returns the token for the browser's cookie. Rows ended long ago are removed on the way."""
    now = _stored(now or datetime.now(timezone.utc))
    token = new_session_token()
    try:
        with db.engine.begin() as connection:
            account_id = connection.execute(select(Account.id).where(Account.username == principal.username)).scalar_one()
            connection.execute(insert(SIGN_IN_SESSIONS).values(
                token_digest=token_digest(token), account_id=account_id, created_at=now, last_seen_at=now))
            stale = now - KEEP_ENDED
            connection.execute(delete(SIGN_IN_SESSIONS).where(or_(
                SIGN_IN_SESSIONS.c.ended_at < stale,
                SIGN_IN_SESSIONS.c.last_seen_at < stale - DEFAULT_SESSION_POLICY.absolute_timeout)))
    except OperationalError as err:
        raise_as_storage_error(err)
    return token


def check_session(db: Database, token: str | None, *, now: datetime | None = None,
                  policy: SessionPolicy = DEFAULT_SESSION_POLICY) -> SessionCheck:
    """Whether `token` (from the browser's cookie) stands for a live session, and whose.

    The account's rights are read afresh each time, so a changed role applies at once. A session past its
    limits is ended here, so it stays ended even if the limits change later.
    """
    if not token:
        return NO_SESSION
    now = _stored(now or datetime.now(timezone.utc))
    digest = token_digest(token)
    table = SIGN_IN_SESSIONS
    try:
        with db.engine.connect() as connection:
            row = connection.execute(
                select(table.c.id, table.c.created_at, table.c.last_seen_at, table.c.ended_at, table.c.ended_why,
                       Account.username, Account.active)
                .join(Account, Account.id == table.c.account_id)
                .where(table.c.token_digest == digest)
            ).one_or_none()
    except OperationalError as err:
        raise_as_storage_error(err)
    if row is None:
        return NO_SESSION
    if row.ended_at is not None:
        return SessionCheck(None, row.ended_why)
    if session_expired(row.created_at, row.last_seen_at, now, policy):
        _note(db, row.id, ended_at=now, ended_why=Ended.EXPIRED.value)
        return SessionCheck(None, Ended.EXPIRED.value)
    if not row.active:
        return SessionCheck(None, INACTIVE)
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        _note(db, row.id, last_seen_at=now)
    principal = principal_for(db, row.username)
    if principal is None:  # disabled between the two reads
        return SessionCheck(None, INACTIVE)
    return SessionCheck(SignedIn(principal, digest))


def _note(db: Database, session_id: int, **values) -> None:
    """Write a session's last use or its end. Best effort: a database that cannot be written just now (a
    read-only folder, a full disk) must not stop people from reading; the session then looks idle since its
    last recorded use, and an expiry is found again at the next look."""
    try:
        with db.engine.begin() as connection:
            connection.execute(update(SIGN_IN_SESSIONS).where(SIGN_IN_SESSIONS.c.id == session_id).values(**values))
    except OperationalError as err:
        log.warning("sign-in session %s not updated: %s", session_id, err.orig)


def end_session(db: Database, token: str | None, *, now: datetime | None = None) -> None:
    """Sign-out: the session behind this token ends (a token we don't know, or one already ended, is left)."""
    if not token:
        return
    now = _stored(now or datetime.now(timezone.utc))
    table = SIGN_IN_SESSIONS
    try:
        with db.engine.begin() as connection:
            connection.execute(update(table).where(table.c.token_digest == token_digest(token), table.c.ended_at.is_(None))
                               .values(ended_at=now, ended_why=Ended.SIGNED_OUT.value))
    except OperationalError as err:
        raise_as_storage_error(err)


def live_sessions(db: Database, username: str, *, now: datetime | None = None,
                  policy: SessionPolicy = DEFAULT_SESSION_POLICY) -> int:
    """How many browsers this account is signed in on now (for the accounts page)."""
    now = _stored(now or datetime.now(timezone.utc))
    table = SIGN_IN_SESSIONS
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.created_at, table.c.last_seen_at).join(Account, Account.id == table.c.account_id)
            .where(Account.username == username, table.c.ended_at.is_(None))
        ).all()
    return sum(not session_expired(r.created_at, r.last_seen_at, now, policy) for r in rows)
