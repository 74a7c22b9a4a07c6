"""Email reminders (scoring.assessment.reminders): each account's digest of what awaits it, each item sent once, two processes
never sending the same one twice, a failed send tried again; the account's email address (validated, versioned,
audited, backed up); the command line; and the real message as a local SMTP server (aiosmtpd) receives it."""

from __future__ import annotations

import email
import io
import smtplib
import socket
import threading
import unicodedata
from dataclasses import replace
from datetime import date, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from scoring.access import accounts
from scoring.access.auth import Principal, Role
from scoring.assessment import reminders
from scoring.assessment.settings import ROUND_SELF_SCORING
from scoring.cli import main
from scoring.errors import ConflictError, InputError
from scoring.store import actors, assessment_store, cycle_store
from scoring.store.backup import create_backup
from scoring.store.db import Database
from scoring.store.models import AuditEntry, ReminderSent, utcnow
from scoring.store.restore import restore_backup
from tests.test_backup import empty_target  # noqa: F401 - the fixture
from tests.test_cycle_store import ROUND_1_DAY, _score_everything, cycle  # noqa: F401 - the fixture

PASSWORD = "Mat-khau-du-dai-2026"
OFFICE_NAME = "Nguyễn Thị Hoà"  # NFC, as every stored text
THREE_DAYS_BEFORE_SELF_SCORING = date(2026, 12, 17)  # the default deadline is 20/12/2026 (scoring.assessment.cycle)
SMTP_ENV = ("CCHC_SMTP_HOST", "CCHC_SMTP_PORT", "CCHC_SMTP_USER", "CCHC_SMTP_PASSWORD", "CCHC_SMTP_FROM", "CCHC_SMTP_SECURITY")
SETTINGS = reminders.SmtpSettings("127.0.0.1", 2525, reminders.SECURITY_NONE, "cchc@sonoivu.gov.vn")


@pytest.fixture
def people(cycle):  # noqa: F811 - the fixture imported above
    """The cycle's department with an Office, a unit and an appraiser account, each with an address, and a leader
    without one."""
    db, department_id, assessment_id = cycle
    for username, role, unit, name, address in (
            ("vanphong", Role.OFFICE, None, OFFICE_NAME, "vanphong@sodttg.gov.vn"),
            ("phongtg", Role.UNIT, "Phòng Tôn giáo", "Phòng Tôn giáo", "tongiao@sodttg.gov.vn"),
            ("snv", Role.APPRAISER, None, "Sở Nội vụ", "thamdinh@sonoivu.gov.vn"),
            ("lanhdao", Role.LEADER, None, "Lãnh đạo Sở", None)):
        accounts.create_account(db, username, role=role, password=PASSWORD, display_name=name, department_ids=[department_id],
                                unit=unit, email=address, actor=actors.SYSTEM_ACTOR)
    return db, department_id, assessment_id


class Outbox:
    """Stands for the mail server: keeps each message, or refuses while `refusing`."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refusing = False

    def __call__(self, message) -> None:
        if self.refusing:
            raise smtplib.SMTPRecipientsRefused({message["To"].addresses[0].addr_spec: (550, b"mailbox unavailable")})
        self.messages.append(message)

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"].addresses[0].addr_spec == address]


def _send(db, today: date, outbox: Outbox) -> reminders.RunReport:
    return reminders.send_reminders(db, SETTINGS, today=today, mailer=outbox)


def _digests(db, today: date) -> dict[str, reminders.Digest]:
    return {d.username: d for d in reminders.build_digests(db, today)}


# ---------------------------------------------------------------- what a digest holds


def test_each_account_is_told_what_its_rights_show_it_and_nothing_twice(people):
    db, _, assessment_id = people
    assert _digests(db, date(2026, 12, 1)) == {}  # nothing due soon for anyone

    digests = _digests(db, THREE_DAYS_BEFORE_SELF_SCORING)
    assert set(digests) == {"vanphong"}  # the leader has no address; the unit has nothing due; the appraiser no round
    office = digests["vanphong"]
    assert [(i.heading, i.text, i.page, i.urgent) for i in office.items] == [(
        "Sở Dân tộc và Tôn giáo — năm 2026",
        "Hạn tự chấm 20/12/2026 (còn 3 ngày): còn 3 tiêu chí chưa chấm, 4 vướng mắc trước khi chốt.", "cham-diem", True)]
    assert office.subject == "Chỉ số CCHC: 1 việc đang chờ bạn, 1 việc sắp đến hạn hoặc đã quá hạn"
    assert office.body.startswith(f"Kính gửi {OFFICE_NAME},\n\nỨng dụng Chỉ số CCHC nhắc bạn 1 việc đang chờ, "
                                  "tính đến ngày 17/12/2026:\n\nSở Dân tộc và Tôn giáo — năm 2026\n"
                                  "  - Hạn tự chấm 20/12/2026 (còn 3 ngày): còn 3 tiêu chí chưa chấm, 4 vướng mắc trước khi chốt. "
                                  "Làm ở trang «Chấm điểm».\n")

    outbox = Outbox()
    assert [d.username for d in _send(db, THREE_DAYS_BEFORE_SELF_SCORING, outbox).sent] == ["vanphong"]
    assert len(outbox.messages) == 1
    for day in (THREE_DAYS_BEFORE_SELF_SCORING, date(2026, 12, 18), date(2026, 12, 21)):  # the same deadline: told once
        assert _send(db, day, outbox).sent == () and len(outbox.messages) == 1

    # an extended deadline is another deadline: told again when three days remain to it
    cycle_store.override_round(db, assessment_id, ROUND_SELF_SCORING, date(2026, 12, 28), "Gia hạn theo Công văn 12/SNV", actor=actors.SYSTEM_ACTOR,
                        today=date(2026, 12, 21))
    assert _digests(db, date(2026, 12, 24)) == {}
    assert [i.text for i in _digests(db, date(2026, 12, 25))["vanphong"].items] == [
        "Hạn tự chấm 28/12/2026 (còn 3 ngày): còn 3 tiêu chí chưa chấm, 4 vướng mắc trước khi chốt."]


def test_a_unit_is_told_its_activities_when_three_days_remain_and_again_once_they_are_late(people):
    db, *_ = people
    outbox = Outbox()
    unit = "tongiao@sodttg.gov.vn"
    _send(db, date(2026, 12, 27), outbox)
    assert outbox.to(unit) == []  # II.1, III.1, III.2 (it leads them) are due 31/12/2026: four days away
    _send(db, date(2026, 12, 28), outbox)
    (message,) = outbox.to(unit)
    body = message.get_content()
    for code in ("II.1", "III.1", "III.2"):
        assert f"  - Hoạt động {code} do đơn vị chủ trì: hạn 31/12/2026 (còn 3 ngày). Làm ở trang «Kế hoạch»." in body
    assert "Hoạt động I.2 " not in body and "Hạn tự chấm" not in body  # the Office's activity and the Office's deadline
    _send(db, date(2026, 12, 30), outbox)
    assert len(outbox.to(unit)) == 1
    _send(db, date(2027, 1, 1), outbox)  # overdue: an item of its own, told once
    assert "Hoạt động III.1 do đơn vị chủ trì: hạn 31/12/2026 (quá hạn 1 ngày)." in outbox.to(unit)[1].get_content()
    _send(db, date(2027, 1, 5), outbox)
    assert len(outbox.to(unit)) == 2


def test_an_explanation_is_told_when_asked_when_its_round_opens_and_when_three_days_remain(people):
    db, department_id, assessment_id = people
    _score_everything(db, assessment_id)
    cycle_store.lock_self_score(db, assessment_id, actor=Principal("vanphong", OFFICE_NAME, Role.OFFICE, frozenset({department_id})))
    outbox = Outbox()
    _send(db, ROUND_1_DAY, outbox)
    (appraisal,) = outbox.to("thamdinh@sonoivu.gov.vn")  # the appraiser's round 1, by the province's rows
    assert "Thẩm định các cơ quan — năm 2026\n  - Sở Dân tộc và Tôn giáo: vòng thẩm định lần 1 đang mở đến 15/01/2027 " \
           "(còn 24 ngày), còn 2 tiêu chí chưa thẩm định. Làm ở trang «Chấm điểm»." in appraisal.get_content()
    version = assessment_store.list_scores(db, assessment_id)["1.1"].version
    appraiser = accounts.principal_for(db, "snv")
    assessment_store.save_appraisal(db, assessment_id, "1.1", version, points=2, request_explanation=True, actor=appraiser, today=ROUND_1_DAY)

    told = {}
    for day in (ROUND_1_DAY, date(2027, 1, 10), date(2027, 1, 16), date(2027, 1, 20), date(2027, 1, 22), date(2027, 1, 23)):
        report = _send(db, day, outbox)
        told[day] = [i.text for d in report.sent if d.username == "vanphong" for i in d.items]
    assert told == {
        ROUND_1_DAY: ["Sở Nội vụ yêu cầu giải trình 1 tiêu chí (1.1): vòng giải trình mở từ 16/01/2027."],
        date(2027, 1, 10): [],
        date(2027, 1, 16): ["Sở Nội vụ yêu cầu giải trình 1 tiêu chí (1.1): hạn 25/01/2027 (còn 9 ngày)."],
        date(2027, 1, 20): [],
        date(2027, 1, 22): ["Sở Nội vụ yêu cầu giải trình 1 tiêu chí (1.1): hạn 25/01/2027 (còn 3 ngày)."],
        date(2027, 1, 23): [],
    }


def test_no_reminder_for_an_account_disabled_or_without_an_address(people):
    db, *_ = people
    office = next(a for a in accounts.list_accounts(db) if a.username == "vanphong")
    accounts.update_account(db, "vanphong", office.version, email="", actor=actors.SYSTEM_ACTOR)
    assert _digests(db, THREE_DAYS_BEFORE_SELF_SCORING) == {}
    office = next(a for a in accounts.list_accounts(db) if a.username == "vanphong")
    office = accounts.update_account(db, "vanphong", office.version, email="vp@sodttg.gov.vn", actor=actors.SYSTEM_ACTOR)
    accounts.update_account(db, "vanphong", office.version, active=False, actor=actors.SYSTEM_ACTOR)
    assert _digests(db, THREE_DAYS_BEFORE_SELF_SCORING) == {}


# ---------------------------------------------------------------- claiming: never twice, retried after a failure


def test_two_processes_racing_on_the_claim_send_each_item_once(people):
    db, *_ = people
    other = Database(db.settings)  # a second app process on the same database
    try:
        day = date(2026, 12, 28)  # the Office's deadline has passed, the unit's three activities are near
        first, second = _digests(db, day), _digests(other, day)
        assert first == second and set(first) == {"vanphong", "phongtg"}
        unit = first["phongtg"]
        # the second process lands one of the unit's items first; the first holds the rest, and nothing twice
        assert reminders.claim(other, replace(unit, items=unit.items[:1]), "tien-trinh-2").items == unit.items[:1]
        held = reminders.claim(db, unit, "tien-trinh-1")
        assert held.items == unit.items[1:]
        assert reminders.claim(other, second["vanphong"], "tien-trinh-2") is not None
        assert reminders.claim(db, first["vanphong"], "tien-trinh-1") is None  # all of it is the other's: nothing to send
        with db.session() as session:
            rows = session.execute(select(ReminderSent.item_key, ReminderSent.claimed_by)).all()
        assert len(rows) == len({key for key, _ in rows}) == 1 + len(unit.items)
    finally:
        other.dispose()


def test_two_processes_sending_at_once_send_one_message_per_item(people):
    db, *_ = people
    other = Database(db.settings)
    outboxes = [Outbox(), Outbox()]
    start = threading.Barrier(2)

    def run(database, outbox):
        start.wait()
        _send(database, date(2026, 12, 28), outbox)

    try:
        threads = [threading.Thread(target=run, args=pair) for pair in zip((db, other), outboxes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.dispose()
    sent = [m for outbox in outboxes for m in outbox.messages]
    items = [line for m in sent for line in m.get_content().splitlines() if line.startswith("  - ")]
    assert len(items) == len(set(items)) == 4  # the Office's deadline and the unit's three activities, each once


def test_a_failed_send_is_released_logged_and_sent_at_the_next_run(people, caplog):
    db, *_ = people
    outbox = Outbox()
    outbox.refusing = True
    report = _send(db, THREE_DAYS_BEFORE_SELF_SCORING, outbox)
    assert report.sent == () and [d.username for d, _ in report.failed] == ["vanphong"]
    assert "mailbox unavailable" in report.failed[0][1]
    assert "sending reminders to vanphong failed" in caplog.text
    with db.session() as session:
        assert session.scalars(select(ReminderSent)).all() == []  # released
    outbox.refusing = False
    assert [d.username for d in _send(db, date(2026, 12, 18), outbox).sent] == ["vanphong"]
    assert "(còn 2 ngày)" in outbox.messages[0].get_content()


def test_a_claim_left_by_a_process_that_died_is_taken_over_once_it_is_old(people):
    db, *_ = people
    (digest,) = reminders.build_digests(db, THREE_DAYS_BEFORE_SELF_SCORING)
    long_ago = utcnow() - reminders.CLAIM_EXPIRES - timedelta(minutes=1)
    assert reminders.claim(db, digest, "chet-giua-chung", now=long_ago) is not None  # then the process died
    assert reminders.build_digests(db, THREE_DAYS_BEFORE_SELF_SCORING) != []  # an old claim holds nothing back
    assert reminders.claim(db, digest, "tien-trinh-moi").items == digest.items
    recent = utcnow() - timedelta(minutes=1)
    with db.session() as session:
        session.get(ReminderSent, session.scalar(select(ReminderSent.id))).claimed_at = recent  # still being sent
    assert reminders.build_digests(db, THREE_DAYS_BEFORE_SELF_SCORING) == []
    assert reminders.claim(db, digest, "tien-trinh-thu-ba") is None


# ---------------------------------------------------------------- the account's address


def test_an_address_is_validated_naming_the_field_versioned_and_audited(people):
    db, *_ = people
    for wrong in ("vanphong", "van phong@sodttg.gov.vn", "nguyễn@sodttg.gov.vn", "a@b.vn\nBcc: x@y.vn", "a@@b.vn"):
        with pytest.raises(accounts.AccountFieldError, match="^Thư điện tử «.*» không hợp lệ") as refused:
            accounts.create_account(db, "moi", role=Role.LEADER, password=PASSWORD, email=wrong, actor=actors.SYSTEM_ACTOR)
        assert refused.value.field == accounts.FIELD_EMAIL
    seen = next(a for a in accounts.list_accounts(db) if a.username == "lanhdao")
    changed = accounts.update_account(db, "lanhdao", seen.version, email=" LanhDao@SoDTTG.Gov.VN ", actor=actors.SYSTEM_ACTOR)
    assert changed.email == "LanhDao@sodttg.gov.vn" and changed.version == seen.version + 1
    with pytest.raises(ConflictError):
        accounts.update_account(db, "lanhdao", seen.version, email="khac@sodttg.gov.vn", actor=actors.SYSTEM_ACTOR)
    with db.session() as session:
        audited = session.execute(select(AuditEntry.entity_key, AuditEntry.old, AuditEntry.new)
                                  .where(AuditEntry.field == accounts.EMAIL_FIELD_AUDITED).order_by(AuditEntry.id)).all()
    assert ("vanphong", None, "vanphong@sodttg.gov.vn") in audited
    assert audited[-1] == ("lanhdao", "", "LanhDao@sodttg.gov.vn")


def test_the_address_and_the_reminders_sent_survive_a_backup_and_restore(people, empty_target):  # noqa: F811 - the fixture
    db, *_ = people
    _send(db, THREE_DAYS_BEFORE_SELF_SCORING, Outbox())
    buffer = io.BytesIO()
    create_backup(db, buffer, actor=actors.SYSTEM_ACTOR)
    restore_backup(empty_target, io.BytesIO(buffer.getvalue()), actor=actors.SYSTEM_ACTOR)
    assert {a.username: a.email for a in accounts.list_accounts(empty_target)}["vanphong"] == "vanphong@sodttg.gov.vn"
    assert reminders.build_digests(empty_target, THREE_DAYS_BEFORE_SELF_SCORING) == []  # what was sent stays sent


# ---------------------------------------------------------------- configuration, status, the app's own run


def test_smtp_settings_from_the_environment():
    assert reminders.smtp_settings({}) is None  # not configured: nothing is attempted
    settings = reminders.smtp_settings({"CCHC_SMTP_HOST": "smtp.tinh.gov.vn", "CCHC_SMTP_FROM": "cchc@tinh.gov.vn"})
    assert (settings.port, settings.security) == (587, "starttls")
    assert reminders.smtp_settings({"CCHC_SMTP_HOST": "h.vn", "CCHC_SMTP_FROM": "a@h.vn", "CCHC_SMTP_SECURITY": "SSL"}).port == 465
    for environ, said in (({"CCHC_SMTP_SECURITY": "tls"}, "CCHC_SMTP_SECURITY ghi «tls»"),
                          ({"CCHC_SMTP_PORT": "70000"}, "CCHC_SMTP_PORT ghi «70000»"),
                          ({"CCHC_SMTP_FROM": "khong-phai-dia-chi"}, "CCHC_SMTP_FROM cần là địa chỉ"),
                          ({"CCHC_SMTP_USER": "cchc"}, "thiếu CCHC_SMTP_PASSWORD")):
        with pytest.raises(InputError, match=said):
            reminders.smtp_settings({"CCHC_SMTP_HOST": "h.vn", "CCHC_SMTP_FROM": "a@h.vn", **environ})


def test_the_status_says_whether_reminders_are_on_and_to_whom_the_last_went(people):
    db, department_id, _ = people
    admin = accounts.create_account(db, "quantri", role=Role.ADMIN, password=PASSWORD, department_ids=[department_id],
                                    actor=actors.SYSTEM_ACTOR)
    viewer = accounts.principal_for(db, admin.username)
    off = reminders.reminder_status(db, viewer, {})
    assert not off.on and off.text.startswith("Nhắc việc qua thư điện tử đang tắt: chưa cấu hình máy chủ gửi thư")
    _send(db, THREE_DAYS_BEFORE_SELF_SCORING, Outbox())
    environ = {"CCHC_SMTP_HOST": "smtp.tinh.gov.vn", "CCHC_SMTP_FROM": "cchc@tinh.gov.vn", "CCHC_SMTP_PASSWORD": "bi-mat"}
    on = reminders.reminder_status(db, viewer, environ)
    assert on.on and on.text == ("Nhắc việc qua thư điện tử đang bật: mỗi giờ một lần khi ứng dụng được dùng, gửi qua "
                                 "smtp.tinh.gov.vn:587 (STARTTLS), gửi từ cchc@tinh.gov.vn. 3 tài khoản đang dùng có địa chỉ thư điện tử.")
    assert "bi-mat" not in on.text
    assert [(r.username, r.address, r.items) for r in on.recent] == [("vanphong", "vanphong@sodttg.gov.vn", 1)]
    assert not reminders.reminder_status(db, viewer, {**environ, "CCHC_REMINDERS": "off"}).on
    with pytest.raises(InputError):  # only an administrator sees whom the app writes to
        reminders.reminder_status(db, accounts.principal_for(db, "vanphong"), environ)


def test_the_app_s_own_run_is_off_in_tests_and_otherwise_runs_at_most_hourly(people, monkeypatch):
    db, *_ = people
    ran = []
    monkeypatch.setattr(reminders, "send_reminders", lambda database, settings: ran.append(settings))
    monkeypatch.setattr(reminders, "_next_check", [0.0])
    monkeypatch.setenv("CCHC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CCHC_SMTP_FROM", "cchc@sonoivu.gov.vn")
    assert reminders.send_now_and_then(lambda: db, now=1000.0) is None  # CCHC_REMINDERS=off (conftest)
    monkeypatch.setenv("CCHC_REMINDERS", "on")
    reminders.send_now_and_then(lambda: db, now=1000.0).join(10)
    assert reminders.send_now_and_then(lambda: db, now=1000.0 + reminders.CHECK_SECONDS - 1) is None
    reminders.send_now_and_then(lambda: db, now=1000.0 + reminders.CHECK_SECONDS).join(10)
    assert len(ran) == 2 and ran[0].host == "127.0.0.1"
    monkeypatch.delenv("CCHC_SMTP_HOST")
    assert reminders.send_now_and_then(lambda: db, now=1e9) is None and len(ran) == 2  # no mail server: nothing


# ---------------------------------------------------------------- the command line and a real SMTP server


class _Received:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    """A local SMTP server on 127.0.0.1, on a free port, as the environment names it for the app."""
    received = _Received()
    controller = Controller(received, hostname="127.0.0.1", port=_free_port())
    controller.start()
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CCHC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CCHC_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("CCHC_SMTP_SECURITY", "none")
    monkeypatch.setenv("CCHC_SMTP_FROM", "cchc@sonoivu.gov.vn")
    yield received
    controller.stop()


def _cli(*arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(arguments), out=out, err=err), out.getvalue(), err.getvalue()


def test_the_command_sends_a_real_message_in_vietnamese_utf8(people, smtp_server, monkeypatch):
    db, *_ = people
    monkeypatch.setenv("CCHC_DATA_DIR", str(db.settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", db.settings.database_url)
    monkeypatch.setattr(reminders, "local_today", lambda: THREE_DAYS_BEFORE_SELF_SCORING)

    code, out, _ = _cli("reminders", "send", "--dry-run")
    assert code == 0 and out == (
        "Sẽ gửi tới «vanphong» <vanphong@sodttg.gov.vn>: Chỉ số CCHC: 1 việc đang chờ bạn, 1 việc sắp đến hạn hoặc đã quá hạn\n"
        "  - Sở Dân tộc và Tôn giáo — năm 2026: Hạn tự chấm 20/12/2026 (còn 3 ngày): còn 3 tiêu chí chưa chấm, "
        "4 vướng mắc trước khi chốt.\n")
    assert smtp_server.envelopes == []  # a dry run sends nothing and claims nothing
    assert _cli("reminders", "send")[:2] == (0, "Đã gửi tới «vanphong» <vanphong@sodttg.gov.vn>: 1 việc.\n")
    assert _cli("reminders", "send")[:2] == (0, "Không có việc nào cần nhắc mà chưa nhắc.\n")

    (envelope,) = smtp_server.envelopes
    assert (envelope.mail_from, envelope.rcpt_tos) == ("cchc@sonoivu.gov.vn", ["vanphong@sodttg.gov.vn"])
    raw = envelope.original_content
    raw.decode("ascii")  # every header encoded (RFC 2047), the body in base64 or quoted-printable: 7-bit clean
    message = email.message_from_bytes(raw, policy=policy.default)
    subject = "Chỉ số CCHC: 1 việc đang chờ bạn, 1 việc sắp đến hạn hoặc đã quá hạn"
    assert message["Subject"] == subject and unicodedata.is_normalized("NFC", message["Subject"])
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0].lower()
    assert message["To"].addresses[0].display_name == OFFICE_NAME
    assert message["From"].addresses[0].display_name == "Chỉ số CCHC"
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"].endswith("@sonoivu.gov.vn>")
    assert not message.is_multipart() and message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert unicodedata.is_normalized("NFC", body) and f"Kính gửi {OFFICE_NAME}," in body and "<" not in body
    assert "  - Hạn tự chấm 20/12/2026 (còn 3 ngày)" in body


def test_the_command_without_a_mail_server_says_so(people, monkeypatch):
    db, *_ = people
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db.settings.database_url)
    code, _, err = _cli("reminders", "send")
    assert code == 2 and err.startswith("Lỗi: Chưa cấu hình máy chủ gửi thư (CCHC_SMTP_HOST")


def test_a_server_that_is_not_there_fails_the_run_and_keeps_the_items(people, monkeypatch):
    db, *_ = people
    settings = reminders.SmtpSettings("127.0.0.1", _free_port(), reminders.SECURITY_NONE, "cchc@sonoivu.gov.vn")
    report = reminders.send_reminders(db, settings, today=THREE_DAYS_BEFORE_SELF_SCORING)
    assert report.sent == () and len(report.failed) == 1  # connection refused: said, never raised
    assert len(reminders.build_digests(db, THREE_DAYS_BEFORE_SELF_SCORING)) == 1


def test_the_users_command_sets_and_removes_an_address(people, monkeypatch):
    db, *_ = people
    monkeypatch.setenv("DATABASE_URL", db.settings.database_url)
    assert _cli("users", "set", "lanhdao", "--email", "lanhdao@sodttg.gov.vn")[:2] == (
        0, "Đã đặt thư điện tử của «lanhdao»: lanhdao@sodttg.gov.vn.\n")
    code, out, _ = _cli("users", "list")
    assert "lanhdao" in out and "— lanhdao@sodttg.gov.vn" in out
    assert _cli("users", "set", "lanhdao", "--email", "")[1] == (
        "Đã bỏ thư điện tử của «lanhdao»: tài khoản này không nhận thư nhắc việc nữa.\n")
    code, _, err = _cli("users", "set", "lanhdao", "--email", "sai dia chi")
    assert code == 2 and err.startswith("Lỗi: Thư điện tử «sai dia chi» không hợp lệ")
    code, out, _ = _cli("users", "add", "thuky", "--role", "leader", "--email", "thuky@sodttg.gov.vn")
    assert code == 0 and {a.username: a.email for a in accounts.list_accounts(db)}["thuky"] == "thuky@sodttg.gov.vn"
