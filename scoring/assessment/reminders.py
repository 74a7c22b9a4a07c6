"""Email reminders: what waits for each person (scoring.assessment.awaiting), sent as one plain-text digest per account.

Who: every active account with an email address, for what its rights show it (the same items, by the same rules,
as «Việc đang chờ bạn» on its first page). What: only items not sent to it before, each item once by its key
(scoring.assessment.awaiting.Awaiting.key: a deadline SOON_DAYS away is an item of its own, so it is told once more then).
How it never goes twice: each item is claimed for the account in the database (a unique row) before the message is
sent; of two processes building the same digest, only the one whose row lands sends that item. A failed send
releases its claims (logged, tried again at the next run); a claim left by a process that died while sending is
taken over once it is older than CLAIM_EXPIRES. Sending needs an SMTP server named by the environment (SMTP_
variables below); without one nothing is attempted.

Triggers: `python -m scoring reminders send [--dry-run]`, and the app itself as it is used (send_now_and_then, at
most every CHECK_SECONDS per process, on a thread of its own so no page waits for the mail server).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_datetime
from email.utils import make_msgid
from typing import TextIO

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from scoring.access.accounts import AccountFieldError, checked_email, list_accounts, principal_of
from scoring.access.auth import Action, Principal, can
from scoring.assessment.awaiting import (
    PAGE_EVIDENCE,
    PAGE_PLAN,
    PAGE_SCORING,
    SOON_DAYS,
    Awaiting,
    awaiting_appraisal,
    awaiting_in_department,
)
from scoring.assessment.snapshot import Snapshot, load_snapshot
from scoring.errors import InputError
from scoring.exit_codes import EXIT_BAD_INPUT, EXIT_OK
from scoring.province.progress import province_progress
from scoring.store import assessment_state, department_store
from scoring.store.db import Database
from scoring.store.models import Account, ReminderSent, utcnow
from scoring.textnorm import (
    format_date,
    format_datetime,
    format_number,
    local_now,
    local_today,
    nfc,
)

log = logging.getLogger(__name__)

APP_NAME = "Chỉ số CCHC"
PAGE_TITLES = {PAGE_SCORING: "Chấm điểm", PAGE_PLAN: "Kế hoạch", PAGE_EVIDENCE: "Tài liệu kiểm chứng"}
CLAIM_EXPIRES = timedelta(minutes=15)  # far longer than a send may take (SMTP_TIMEOUT_SECONDS per step)
SMTP_TIMEOUT_SECONDS = 30
CHECK_SECONDS = 3600  # the app's own run: deadlines are days, an hour late is on time
RECENT_SHOWN = 10

# The environment (README, «Cấu hình»)
SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD = "CCHC_SMTP_HOST", "CCHC_SMTP_PORT", "CCHC_SMTP_USER", "CCHC_SMTP_PASSWORD"
SMTP_FROM, SMTP_SECURITY, REMINDERS = "CCHC_SMTP_FROM", "CCHC_SMTP_SECURITY", "CCHC_REMINDERS"
SMTP_CA_FILE = "CCHC_SMTP_CA_FILE"  # the certificates (PEM) to trust instead of the system's: a province's own mail server
SECURITY_STARTTLS, SECURITY_SSL, SECURITY_NONE = "starttls", "ssl", "none"
DEFAULT_PORTS = {SECURITY_STARTTLS: 587, SECURITY_SSL: 465, SECURITY_NONE: 25}
_OFF = ("off", "0", "false", "no", "khong", "không")


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # SECURITY_
    sender: str
    user: str = ""
    password: str = ""
    ca_file: str = ""  # SMTP_CA_FILE; "" trusts the certificates the system trusts

    def tls_context(self) -> ssl.SSLContext:
        """The server's certificate is always checked, its name too (the host as written in CCHC_SMTP_HOST): a
        server this machine does not trust is refused, never sent the password or the messages."""
        return ssl.create_default_context(cafile=self.ca_file or None)

    def describe(self) -> str:
        """ "smtp.tinh.gov.vn:587 (STARTTLS), gửi từ cchc@tinh.gov.vn" — never the password."""
        security = {SECURITY_STARTTLS: "STARTTLS", SECURITY_SSL: "SSL/TLS", SECURITY_NONE: "không mã hóa"}[self.security]
        login = f", đăng nhập bằng «{self.user}»" if self.user else ""
        trusted = f", tin chứng chỉ trong {self.ca_file}" if self.ca_file and self.security != SECURITY_NONE else ""
        return f"{self.host}:{self.port} ({security}{login}{trusted}), gửi từ {self.sender}"


def smtp_settings(environ: dict[str, str] | None = None) -> SmtpSettings | None:
    """The mail server the environment names; None when CCHC_SMTP_HOST is not set (no email is attempted).
    A setting that cannot work is an InputError naming the variable."""
    environ = os.environ if environ is None else environ
    host = (environ.get(SMTP_HOST) or "").strip()
    if not host:
        return None
    security = (environ.get(SMTP_SECURITY) or SECURITY_STARTTLS).strip().lower()
    if security not in DEFAULT_PORTS:
        raise InputError(f"Biến môi trường {SMTP_SECURITY} ghi «{security[:40]}»: hãy ghi một trong "
                         f"{', '.join(DEFAULT_PORTS)} (mặc định {SECURITY_STARTTLS}).")
    port_text = (environ.get(SMTP_PORT) or "").strip()
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise InputError(f"Biến môi trường {SMTP_PORT} ghi «{port_text[:40]}»: cổng là một số từ 1 đến 65535.")
    sender = (environ.get(SMTP_FROM) or "").strip()
    try:
        sender = checked_email(sender)
    except AccountFieldError:
        sender = None
    if not sender:
        raise InputError(f"Biến môi trường {SMTP_FROM} cần là địa chỉ gửi thư nhắc việc, ví dụ cchc@sonoivu.gov.vn "
                         f"(đang ghi «{(environ.get(SMTP_FROM) or '').strip()[:80]}»).")
    user, password = (environ.get(SMTP_USER) or "").strip(), environ.get(SMTP_PASSWORD) or ""
    if user and not password:
        raise InputError(f"Có {SMTP_USER} nhưng thiếu {SMTP_PASSWORD}: hãy đặt mật khẩu của tài khoản gửi thư, hoặc bỏ {SMTP_USER}.")
    for name, value in ((SMTP_USER, user), (SMTP_PASSWORD, password)):
        if not value.isascii():  # smtplib sends AUTH LOGIN/PLAIN as ASCII only: it would fail at every send
            raise InputError(f"Biến môi trường {name} có chữ có dấu hoặc ký tự ngoài bảng mã ASCII: ứng dụng chỉ đăng nhập "
                             "máy chủ thư được bằng tên và mật khẩu không dấu; hãy đổi mật khẩu của tài khoản gửi thư.")
    ca_file = (environ.get(SMTP_CA_FILE) or "").strip()
    if ca_file:
        try:
            ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError, ValueError) as problem:  # missing, unreadable, or not certificates
            raise InputError(f"Biến môi trường {SMTP_CA_FILE} ghi «{ca_file[:200]}»: không đọc được chứng chỉ (PEM) trong tệp "
                             f"này ({_reason(problem)}).") from None
    return SmtpSettings(host, int(port_text) if port_text else DEFAULT_PORTS[security], security, sender, user, password,
                        ca_file)


def app_sends_reminders(environ: dict[str, str] | None = None) -> bool:
    """Whether the app sends by itself as it is used (CCHC_REMINDERS=off leaves it to the command line)."""
    environ = os.environ if environ is None else environ
    return (environ.get(REMINDERS) or "on").strip().lower() not in _OFF


# ---------------------------------------------------------------- the digests


@dataclass(frozen=True)
class ReminderItem:
    key: str  # Awaiting.key
    heading: str  # "Sở Nội vụ — năm 2026": what the item belongs to
    text: str
    page: str
    urgent: bool


@dataclass(frozen=True)
class Digest:
    """One email for one account: its items not sent before, on `today` (Vietnam's date)."""

    account_id: int
    username: str
    display_name: str
    address: str
    today: date
    items: tuple[ReminderItem, ...]

    @property
    def subject(self) -> str:
        urgent = sum(item.urgent for item in self.items)
        soon = f", {format_number(urgent, 0)} việc sắp đến hạn hoặc đã quá hạn" if urgent else ""
        return f"{APP_NAME}: {format_number(len(self.items), 0)} việc đang chờ bạn{soon}"

    @property
    def body(self) -> str:
        lines = [f"Kính gửi {_one_line(self.display_name)},", "",
                 (f"Ứng dụng {APP_NAME} nhắc bạn {format_number(len(self.items), 0)} việc đang chờ, "
                  f"tính đến ngày {format_date(self.today)}:")]
        for heading in dict.fromkeys(item.heading for item in self.items):
            lines += ["", _one_line(heading)]
            lines += [f"  - {_one_line(item.text)} Làm ở trang «{PAGE_TITLES[item.page]}»." for item in self.items
                      if item.heading == heading]
        lines += ["", (f"Mỗi việc được nhắc một lần khi mới có, và một lần nữa khi hạn của nó còn {SOON_DAYS} ngày; tiêu chí "
                       "chưa có tài liệu kiểm chứng được nhắc lại mỗi tháng. Danh sách đầy đủ, luôn cập nhật, ở mục «Việc đang "
                       "chờ bạn» khi bạn đăng nhập ứng dụng."),
                  "", f"Thư này do ứng dụng {APP_NAME} gửi tự động; xin đừng trả lời thư này."]
        return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """User text as one plain line (a name with a line break must not open a new paragraph of its own)."""
    return " ".join(nfc(text).split())


def build_digests(db: Database, today: date | None = None, *, now: datetime | None = None) -> list[Digest]:
    """Each account's digest of what has not been sent to it yet (accounts with nothing new: none)."""
    today = today or local_today()
    now = now or utcnow()
    reader = _Reader(db, today)
    with db.session() as session:
        recipients = [(a.id, principal_of(a), a.email) for a in session.scalars(
            select(Account).where(Account.active.is_(True), Account.email.is_not(None)).order_by(Account.username))]
        taken: dict[int, set[str]] = {}
        for account_id, key in session.execute(select(ReminderSent.account_id, ReminderSent.item_key).where(
                or_(ReminderSent.sent_at.is_not(None), ReminderSent.claimed_at >= now - CLAIM_EXPIRES))):
            taken.setdefault(account_id, set()).add(key)
    digests = []
    for account_id, who, address in recipients:
        items = [item for item in reader.items_for(who) if item.key not in taken.get(account_id, ())]
        if items:
            digests.append(Digest(account_id, who.username, who.display_name, address, today, tuple(items)))
    return digests


class _Reader:
    """Reads each department's year once for all the accounts of one run."""

    def __init__(self, db: Database, today: date) -> None:
        self.db, self.today = db, today
        self.years = (today.year - 1, today.year)  # a year's appraisal runs into the next; older years are done
        self._department_years: dict[tuple[int, int], tuple[Snapshot, object] | None] = {}
        self._listed: dict[int, list[int]] = {}

    def _department_year(self, department_id: int, year: int):
        key = (department_id, year)
        if key not in self._department_years:
            if department_id not in self._listed:
                self._listed[department_id] = department_store.list_years(self.db, department_id)
            found = None
            if year in self._listed[department_id]:
                try:
                    snap = load_snapshot(self.db, department_id, year, today=self.today)
                    state = assessment_state.cycle_state(self.db, snap.assessment.id, self.today) if snap.assessment else None
                    found = (snap, state)
                except InputError as problem:  # one department's unreadable year holds back no one else's reminders
                    log.warning("reminders: department %s, %s not read: %s", department_id, year, problem)
            self._department_years[key] = found
        return self._department_years[key]

    def items_for(self, who: Principal) -> list[ReminderItem]:
        """What «Việc đang chờ bạn» shows `who` on its departments' Tổng quan and on Các cơ quan, for the years
        that are still running."""
        items: list[ReminderItem] = []
        for department_id in sorted(who.department_ids):
            if not can(who, Action.VIEW_DASHBOARD, department_id=department_id):
                continue
            for year in self.years:
                found = self._department_year(department_id, year)
                if found is not None:
                    snap, state = found
                    items += _items(f"{snap.department.name} — năm {year}", awaiting_in_department(snap, state, who))
        if can(who, Action.VIEW_PROVINCE):
            for year in self.years:
                rows = province_progress(self.db, year, viewer=who, today=self.today)
                items += _items(f"Thẩm định các cơ quan — năm {year}", awaiting_appraisal(rows, who))
        return list({item.key: item for item in items}.values())


def _items(heading: str, awaiting: list[Awaiting]) -> list[ReminderItem]:
    return [ReminderItem(a.key, heading, a.text, a.page, a.urgent) for a in awaiting if a.key]


# ---------------------------------------------------------------- claiming, sending, remembering


def claim(db: Database, digest: Digest, token: str, *, now: datetime | None = None) -> Digest | None:
    """The part of `digest` this run (`token`) now holds: each item's row written, unless another run holds it
    already (then it is not this run's to send). None when it holds nothing."""
    now = now or utcnow()
    won = tuple(item for item in digest.items if _claim_one(db, digest, item, token, now))
    return replace(digest, items=won) if won else None


def _claim_one(db: Database, digest: Digest, item: ReminderItem, token: str, now: datetime) -> bool:
    row = {"account_id": digest.account_id, "item_key": item.key, "claimed_at": now, "claimed_by": token, "sent_at": None,
           "address": digest.address, "text": item.text}
    table = ReminderSent.__table__
    for _ in range(2):
        try:
            with db.engine.begin() as connection:  # bookkeeping of sending, not data: the data revision stays
                connection.execute(insert(table).values(**row))
            return True
        except IntegrityError:
            pass
        with db.engine.begin() as connection:  # the row is another run's: taken over only if that run died sending
            taken_over = connection.execute(delete(table).where(
                table.c.account_id == digest.account_id, table.c.item_key == item.key, table.c.sent_at.is_(None),
                table.c.claimed_at < now - CLAIM_EXPIRES)).rowcount
        if not taken_over:
            return False
    return False


def _mine(digest: Digest, token: str):
    table = ReminderSent.__table__
    return and_(table.c.account_id == digest.account_id, table.c.claimed_by == token,
                table.c.item_key.in_([item.key for item in digest.items]))


def mark_sent(db: Database, digest: Digest, token: str, *, now: datetime | None = None) -> None:
    table = ReminderSent.__table__
    with db.engine.begin() as connection:
        connection.execute(update(table).where(_mine(digest, token)).values(sent_at=now or utcnow()))


def release(db: Database, digest: Digest, token: str) -> None:
    """A send that failed gives its items back: the next run tries them again."""
    table = ReminderSent.__table__
    with db.engine.begin() as connection:
        connection.execute(delete(table).where(_mine(digest, token), table.c.sent_at.is_(None)))


def compose(digest: Digest, settings: SmtpSettings) -> EmailMessage:
    """The message: plain text in UTF-8; non-ASCII headers (subject, names) encoded as RFC 2047 says."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = Address(APP_NAME, addr_spec=settings.sender)
    message["To"] = Address(_one_line(digest.display_name), addr_spec=digest.address)
    message["Date"] = rfc2822_datetime(local_now())
    message["Message-ID"] = make_msgid("nhac-viec", domain=settings.sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(digest.body, subtype="plain", charset="utf-8")
    return message


class SmtpMailer:
    """One connection to the mail server for one run, opened at the first message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self._smtp = None  # the next message opens a new connection
            raise

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == SECURITY_SSL:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT_SECONDS, context=s.tls_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            if s.security == SECURITY_STARTTLS:
                smtp.starttls(context=s.tls_context())
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


SEND_FAILURES = (smtplib.SMTPException, OSError, ValueError)  # refused, unreachable, timed out, a header it cannot take

_CERTIFICATE_REASONS = {  # OpenSSL's verify codes (X509_V_ERR_…) a mail server's certificate most often fails on
    10: "chứng chỉ đã hết hạn", 9: "chứng chỉ chưa đến ngày hiệu lực", 18: "chứng chỉ tự ký",
    19: "chứng chỉ do một nơi cấp chứng chỉ tự ký mà máy này không tin", 20: "không có nơi cấp chứng chỉ mà máy này tin",
    21: "không có nơi cấp chứng chỉ mà máy này tin", 62: "chứng chỉ không mang tên máy chủ này",
    64: "chứng chỉ không mang tên máy chủ này",  # an address (CCHC_SMTP_HOST=10.0.0.5) the certificate does not name
}


def failure_text(problem: BaseException, settings: SmtpSettings) -> str:
    """Why a send failed, in one Vietnamese sentence naming what to check; the server's own words kept in
    brackets where it said something (the log keeps the original)."""
    server = f"{settings.host}:{settings.port}"
    if isinstance(problem, ssl.SSLCertVerificationError):
        reason = _CERTIFICATE_REASONS.get(problem.verify_code, "chứng chỉ không kiểm tra được")
        return (f"Máy chủ thư {server} đưa ra chứng chỉ không tin được ({reason}; {_reason(problem)}): không gửi, để "
                f"mật khẩu và nội dung thư không lộ. Nếu tỉnh dùng chứng chỉ riêng, đặt {SMTP_CA_FILE} là tệp chứng chỉ "
                f"(PEM) của nơi cấp; tên trong chứng chỉ phải khớp {SMTP_HOST}.")
    if isinstance(problem, smtplib.SMTPAuthenticationError):
        return (f"Máy chủ thư {server} không nhận đăng nhập bằng «{settings.user}» ({_reason(problem)}): kiểm tra "
                f"{SMTP_USER} và {SMTP_PASSWORD}.")
    if isinstance(problem, smtplib.SMTPNotSupportedError):
        what = "STARTTLS" if "STARTTLS" in str(problem) else "đăng nhập (AUTH)" if "AUTH" in str(problem) else "lệnh này"
        return (f"Máy chủ thư {server} không hỗ trợ {what}: kiểm tra {SMTP_SECURITY} và {SMTP_PORT} (STARTTLS thường ở "
                f"cổng 587, SSL/TLS ở cổng 465).")
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        return f"Máy chủ thư {server} từ chối địa chỉ nhận ({_reason(problem)})."
    if isinstance(problem, ssl.SSLError):
        return (f"Không mã hóa được kết nối tới máy chủ thư {server} ({_reason(problem)}): kiểm tra {SMTP_SECURITY} và "
                f"{SMTP_PORT} (STARTTLS thường ở cổng 587, SSL/TLS ở cổng 465).")
    if isinstance(problem, ConnectionRefusedError):
        return f"Máy chủ thư {server} không nhận kết nối: kiểm tra {SMTP_HOST}, {SMTP_PORT} và máy chủ thư có đang chạy."
    if isinstance(problem, TimeoutError):
        return f"Máy chủ thư {server} không trả lời sau {SMTP_TIMEOUT_SECONDS} giây."
    if isinstance(problem, smtplib.SMTPServerDisconnected):
        return f"Máy chủ thư {server} đóng kết nối giữa chừng ({_reason(problem)})."
    return f"Không gửi được qua máy chủ thư {server} ({_reason(problem)})."


def _reason(problem: BaseException) -> str:
    """The failure as it was reported (smtplib's (code, text) pairs as "535 text"), one line."""
    if isinstance(problem, smtplib.SMTPResponseException):
        text = problem.smtp_error.decode("utf-8", "replace") if isinstance(problem.smtp_error, bytes) else str(problem.smtp_error)
        return _one_line(f"{problem.smtp_code} {text}")
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        return _one_line("; ".join(f"{address}: {code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
                                   for address, (code, text) in problem.recipients.items()))
    if isinstance(problem, ssl.SSLCertVerificationError) and problem.verify_message:
        return _one_line(problem.verify_message)
    return _one_line(str(problem)) or type(problem).__name__


@dataclass(frozen=True)
class RunReport:
    sent: tuple[Digest, ...] = ()
    failed: tuple[tuple[Digest, str], ...] = ()  # the digest and why, in the server's words
    skipped: int = 0  # digests another run was already sending


def send_reminders(db: Database, settings: SmtpSettings, *, today: date | None = None,
                   mailer: Callable[[EmailMessage], None] | None = None) -> RunReport:
    """Build, claim and send every digest due; what failed is released and logged, never raised."""
    token = secrets.token_hex(16)
    smtp = SmtpMailer(settings) if mailer is None else None
    send = mailer or smtp.send
    sent, failed, skipped = [], [], 0
    try:
        for digest in build_digests(db, today):
            held = claim(db, digest, token)
            if held is None:
                skipped += 1
                continue
            try:
                send(compose(held, settings))
            except SEND_FAILURES as problem:
                release(db, held, token)
                log.warning("sending reminders to %s failed (tried again at the next run): %s", held.username, problem)
                failed.append((held, failure_text(problem, settings)))
                continue
            mark_sent(db, held, token)
            log.info("reminders sent to %s: %d item(s)", held.username, len(held.items))
            sent.append(held)
    finally:
        if smtp is not None:
            smtp.close()
    return RunReport(tuple(sent), tuple(failed), skipped)


# ---------------------------------------------------------------- the app's own run


_next_check = [0.0]
_running: list[threading.Thread] = []
_CHECK_LOCK = threading.Lock()


def send_now_and_then(database: Callable[[], Database], now: float | None = None) -> threading.Thread | None:
    """Send what is due, unless this process did so less than CHECK_SECONDS ago or is still at it; on a thread of
    its own (the mail server may take seconds), returned for whoever wants to wait. Off with CCHC_REMINDERS=off
    and without a mail server; a failure is logged, never reaches a page."""
    if not app_sends_reminders():
        return None
    try:
        settings = smtp_settings()
    except InputError as problem:  # Cấu hình says it; the log once per check
        settings = None
        problem_text = str(problem)
    else:
        problem_text = ""
    now = time.monotonic() if now is None else now
    with _CHECK_LOCK:
        if now < _next_check[0] or any(t.is_alive() for t in _running):
            return None
        _next_check[0] = now + CHECK_SECONDS
        if problem_text:
            log.warning("email reminders are off: %s", problem_text)
        if settings is None:
            return None
        db = database()
        thread = threading.Thread(target=_send_logged, args=(db, settings), name="cchc-reminders", daemon=True)
        _running[:] = [thread]
        thread.start()
    return thread


def _send_logged(db: Database, settings: SmtpSettings) -> None:
    try:
        send_reminders(db, settings)
    except Exception:  # a thread's failure would reach only stderr; the next check tries again
        log.exception("email reminders failed; tried again at the next check")


# ---------------------------------------------------------------- what Cấu hình shows


@dataclass(frozen=True)
class SentDigest:
    username: str
    address: str
    sent_at: datetime
    items: int

    @property
    def sent_text(self) -> str:
        return format_datetime(self.sent_at)


@dataclass(frozen=True)
class ReminderStatus:
    on: bool  # the app sends by itself
    text: str  # one Vietnamese paragraph: on or off, why, through which server
    recent: tuple[SentDigest, ...]  # the latest digests sent to accounts the viewer sees, newest first


def reminder_status(db: Database, viewer: Principal | None, environ: dict[str, str] | None = None) -> ReminderStatus:
    """Whether reminders go out, and to whom the last ones went (accounts the viewer may list: an administrator)."""
    shown = list_accounts(db, viewer)  # refuses anyone but an administrator
    with_email = sum(1 for a in shown if a.email and a.active)
    how_many = f"{format_number(with_email, 0)} tài khoản đang dùng có địa chỉ thư điện tử."
    on = False
    try:
        settings = smtp_settings(environ)
    except InputError as problem:
        text = f"Nhắc việc qua thư điện tử đang tắt: cấu hình máy chủ gửi thư chưa đúng — {problem}"
    else:
        if settings is None:
            text = (f"Nhắc việc qua thư điện tử đang tắt: chưa cấu hình máy chủ gửi thư (biến môi trường {SMTP_HOST} và "
                    "các biến đi kèm, xem README, mục «Cấu hình»).")
        elif not app_sends_reminders(environ):
            text = (f"Ứng dụng không tự gửi thư nhắc việc ({REMINDERS}=off); lệnh `python -m scoring reminders send` trên "
                    f"máy chủ gửi qua {settings.describe()}. {how_many}")
        else:
            on = True
            text = (f"Nhắc việc qua thư điện tử đang bật: mỗi giờ một lần khi ứng dụng được dùng, gửi qua "
                    f"{settings.describe()}. {how_many}")
    return ReminderStatus(on, text, _recent(db, {a.username for a in shown}))


def _recent(db: Database, usernames: set[str]) -> tuple[SentDigest, ...]:
    table = ReminderSent.__table__
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(Account.username, table.c.address, table.c.sent_at, func.count())
            .join(Account, Account.id == table.c.account_id)
            .where(table.c.sent_at.is_not(None), Account.username.in_(sorted(usernames)))
            .group_by(Account.username, table.c.address, table.c.sent_at)
            .order_by(table.c.sent_at.desc(), Account.username).limit(RECENT_SHOWN)).all()
    return tuple(SentDigest(*row) for row in rows)


# ---------------------------------------------------------------- command line: python -m scoring reminders send


def add_reminder_commands(commands) -> None:
    reminders = commands.add_parser("reminders", help="Thư nhắc việc qua thư điện tử")
    actions = reminders.add_subparsers(dest="action", required=True, parser_class=type(reminders), metavar="{send}")
    send = actions.add_parser("send", help="Gửi thư nhắc những việc đang chờ mà chưa nhắc (ứng dụng cũng tự gửi khi được dùng)")
    send.add_argument("--dry-run", action="store_true", help="Chỉ in ai sẽ nhận thư nào, không gửi và không ghi gì")
    send.set_defaults(handler=_cli_send)


def _cli_send(args, out: TextIO) -> int:
    from scoring.store.db import open_database

    settings = smtp_settings()
    if settings is None and not args.dry_run:
        raise InputError(f"Chưa cấu hình máy chủ gửi thư ({SMTP_HOST}, {SMTP_FROM}…, xem README, mục «Cấu hình») nên "
                         "không gửi được thư nào; `--dry-run` cho xem trước ai sẽ nhận thư nào.")
    db = open_database()
    if args.dry_run:
        digests = build_digests(db)
        for digest in digests:
            print(f"Sẽ gửi tới «{digest.username}» <{digest.address}>: {digest.subject}", file=out)
            for item in digest.items:
                print(f"  - {_one_line(item.heading)}: {_one_line(item.text)}", file=out)
        if not digests:
            print("Không có việc nào cần nhắc mà chưa nhắc.", file=out)
        return EXIT_OK
    report = send_reminders(db, settings)
    for digest in report.sent:
        print(f"Đã gửi tới «{digest.username}» <{digest.address}>: {format_number(len(digest.items), 0)} việc.", file=out)
    for digest, problem in report.failed:
        print(f"Chưa gửi được tới «{digest.username}» <{digest.address}> (sẽ thử lại lần sau): {problem}", file=out)
    if not report.sent and not report.failed:
        print("Không có việc nào cần nhắc mà chưa nhắc.", file=out)
    return EXIT_BAD_INPUT if report.failed else EXIT_OK
