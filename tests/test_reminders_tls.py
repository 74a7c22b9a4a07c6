"""Reminders sent over an encrypted connection with a login, as a province's mail server asks: STARTTLS on the
submission port, SSL/TLS from the first byte, AUTH LOGIN and AUTH PLAIN — each against a real local SMTP server
(aiosmtpd on 127.0.0.1). The server's certificate is checked as in production: a certificate this machine does not
trust, or one made for another name, is refused with a Vietnamese sentence saying what to set, and the items stay
to be sent at the next run; CCHC_SMTP_CA_FILE names the certificate to trust.

The certificates are made at test time with `cryptography` (a pinned dependency, requirements.txt): a test
authority and a server certificate for 127.0.0.1 and localhost signed by it, valid for a day; and a second
authority the client is never told to trust."""

from __future__ import annotations

import email
import smtplib
import ssl
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email import policy
from ipaddress import ip_address
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from scoring.assessment import reminders
from scoring.errors import InputError
from tests.test_cycle_store import cycle  # noqa: F401 - the fixture
from tests.test_reminders import SMTP_ENV, THREE_DAYS_BEFORE_SELF_SCORING, _free_port, _Received, people  # noqa: F401

# aiosmtpd warns that AUTH without STARTTLS is risky: the implicit-TLS server below is encrypted from the first byte
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

SENDER = "cchc@sonoivu.gov.vn"
MAIL_USER, MAIL_PASSWORD = "cchc-gui-thu", "Mat-khau-may-chu-thu-2026"


# ---------------------------------------------------------------- certificates, made here


@dataclass(frozen=True)
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def _authority(name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    return Authority(name, key, certificate)


def _server_files(folder: Path, authority: Authority, names: list[str], stem: str) -> tuple[Path, Path]:
    """A server certificate for `names` (DNS names or IP addresses) signed by `authority`: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc)
    alternatives = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    certificate = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                   .issuer_name(authority.certificate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
                                  critical=False)
                   .sign(authority.key, hashes.SHA256()))
    certificate_file, key_file = folder / f"{stem}.crt", folder / f"{stem}.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_file, key_file


@dataclass(frozen=True)
class Certificates:
    trusted_authority: Path  # what CCHC_SMTP_CA_FILE names in these tests
    other_authority: Path  # an authority nothing here signs the server with
    server: tuple[Path, Path]  # for 127.0.0.1 and localhost, signed by the trusted authority
    wrong_name: tuple[Path, Path]  # for mail.example.invalid only, signed by the trusted authority


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> Certificates:
    folder = tmp_path_factory.mktemp("chung-chi")
    trusted, other = _authority("CCHC test authority"), _authority("Another authority")
    files = {}
    for stem, authority in (("ca", trusted), ("other-ca", other)):
        files[stem] = folder / f"{stem}.pem"
        files[stem].write_bytes(authority.certificate.public_bytes(serialization.Encoding.PEM))
    return Certificates(files["ca"], files["other-ca"], _server_files(folder, trusted, ["127.0.0.1", "localhost"], "server"),
                        _server_files(folder, trusted, ["mail.example.invalid"], "wrong-name"))


# ---------------------------------------------------------------- servers


class _Accounts:
    """aiosmtpd's authenticator: one account; remembers each mechanism tried and whether it passed."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, str, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode("utf-8"), auth_data.password.decode("utf-8")
        passed = (login, password) == (MAIL_USER, MAIL_PASSWORD)
        self.attempts.append((mechanism, login, passed))
        return AuthResult(success=passed, handled=False)


@dataclass
class MailServer:
    port: int
    received: _Received
    accounts: _Accounts


def _server_context(files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, files))
    return context


@pytest.fixture
def start_server():
    """Starts aiosmtpd servers on free ports of 127.0.0.1 (`implicit_tls`: SSL/TLS from the first byte, otherwise
    STARTTLS required before anything is sent), with AUTH required; stops them after the test."""
    controllers = []

    def start(files: tuple[Path, Path], *, implicit_tls: bool = False, mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN")) -> MailServer:
        received, accounts = _Received(), _Accounts()
        context = _server_context(files)
        # auth_require_tls looks at STARTTLS only: a server that speaks TLS from the first byte has nothing else to
        # speak, so it offers AUTH on every connection it accepts
        options = dict(authenticator=accounts, auth_required=True, auth_require_tls=not implicit_tls,
                       auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in mechanisms])
        if implicit_tls:
            controller = Controller(received, hostname="127.0.0.1", port=_free_port(), ssl_context=context, **options)
        else:
            controller = Controller(received, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                                    require_starttls=True, **options)
        controller.start()
        controllers.append(controller)
        return MailServer(controller.port, received, accounts)

    yield start
    for controller in controllers:
        controller.stop()


def _settings(server: MailServer, security: str, ca_file: Path | None, *, host: str = "127.0.0.1",
              password: str = MAIL_PASSWORD) -> reminders.SmtpSettings:
    return reminders.SmtpSettings(host, server.port, security, SENDER, MAIL_USER, password, str(ca_file) if ca_file else "")


def _send(db, settings: reminders.SmtpSettings) -> reminders.RunReport:
    return reminders.send_reminders(db, settings, today=THREE_DAYS_BEFORE_SELF_SCORING)


def _still_due(db) -> list[str]:
    return [d.username for d in reminders.build_digests(db, THREE_DAYS_BEFORE_SELF_SCORING)]


def _delivered(server: MailServer) -> list:
    return [email.message_from_bytes(e.original_content, policy=policy.default) for e in server.received.envelopes]


# ---------------------------------------------------------------- sent


@pytest.mark.parametrize("security, implicit_tls, mechanism", [
    (reminders.SECURITY_STARTTLS, False, "LOGIN"),
    (reminders.SECURITY_STARTTLS, False, "PLAIN"),
    (reminders.SECURITY_SSL, True, "LOGIN"),
    (reminders.SECURITY_SSL, True, "PLAIN"),
])
def test_a_reminder_goes_encrypted_and_logged_in(people, certificates, start_server, security, implicit_tls, mechanism):
    db, *_ = people
    server = start_server(certificates.server, implicit_tls=implicit_tls, mechanisms=(mechanism,))
    report = _send(db, _settings(server, security, certificates.trusted_authority))
    assert report.failed == () and [d.username for d in report.sent] == ["vanphong"]
    assert server.accounts.attempts == [(mechanism, MAIL_USER, True)]  # offered only inside TLS
    (message,) = _delivered(server)
    assert message["To"].addresses[0].addr_spec == "vanphong@sodttg.gov.vn"
    assert "Hạn tự chấm 20/12/2026 (còn 3 ngày)" in message.get_content()
    assert _still_due(db) == []


def test_the_host_may_be_named_as_the_certificate_names_it(people, certificates, start_server):
    db, *_ = people
    server = start_server(certificates.server)
    report = _send(db, _settings(server, reminders.SECURITY_STARTTLS, certificates.trusted_authority, host="localhost"))
    assert [d.username for d in report.sent] == ["vanphong"]


def test_the_command_sends_over_starttls_as_the_environment_says(people, certificates, start_server, monkeypatch):
    """CCHC_SMTP_* as README documents them, read by smtp_settings, as the app's own run and the command use them."""
    db, *_ = people
    server = start_server(certificates.server)
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)
    environ = {"CCHC_SMTP_HOST": "127.0.0.1", "CCHC_SMTP_PORT": str(server.port), "CCHC_SMTP_SECURITY": "starttls",
               "CCHC_SMTP_USER": MAIL_USER, "CCHC_SMTP_PASSWORD": MAIL_PASSWORD, "CCHC_SMTP_FROM": SENDER,
               "CCHC_SMTP_CA_FILE": str(certificates.trusted_authority)}
    settings = reminders.smtp_settings(environ)
    assert settings.ca_file == str(certificates.trusted_authority)
    assert "tin chứng chỉ trong" in settings.describe() and MAIL_PASSWORD not in settings.describe()
    assert [d.username for d in _send(db, settings).sent] == ["vanphong"]


# ---------------------------------------------------------------- refused


@pytest.mark.parametrize("implicit_tls, security", [(False, reminders.SECURITY_STARTTLS), (True, reminders.SECURITY_SSL)])
def test_a_certificate_this_machine_does_not_trust_is_refused_before_the_password(people, certificates, start_server,
                                                                                  implicit_tls, security):
    """Without CCHC_SMTP_CA_FILE the system's authorities decide: the test authority is not one of them. Then an
    authority that did not sign the server's certificate. Either way no login is attempted, nothing is sent,
    the item stays for the next run, and the reason is said in Vietnamese with what to set."""
    db, *_ = people
    server = start_server(certificates.server, implicit_tls=implicit_tls)
    for ca_file in (None, certificates.other_authority):
        report = _send(db, _settings(server, security, ca_file))
        assert report.sent == () and len(report.failed) == 1
        said = report.failed[0][1]
        assert said.startswith(f"Máy chủ thư 127.0.0.1:{server.port} đưa ra chứng chỉ không tin được (")
        assert "không gửi, để mật khẩu và nội dung thư không lộ" in said and "CCHC_SMTP_CA_FILE" in said
        assert "không có nơi cấp chứng chỉ mà máy này tin" in said or "tự ký" in said
    assert server.accounts.attempts == [] and server.received.envelopes == []
    assert _still_due(db) == ["vanphong"]


def test_a_certificate_for_another_name_is_refused(people, certificates, start_server):
    db, *_ = people
    server = start_server(certificates.wrong_name)
    report = _send(db, _settings(server, reminders.SECURITY_STARTTLS, certificates.trusted_authority))
    assert report.sent == () and "chứng chỉ không mang tên máy chủ này" in report.failed[0][1]
    assert server.accounts.attempts == [] and _still_due(db) == ["vanphong"]


def test_a_wrong_password_is_said_naming_the_variables(people, certificates, start_server):
    db, *_ = people
    server = start_server(certificates.server)
    report = _send(db, _settings(server, reminders.SECURITY_STARTTLS, certificates.trusted_authority, password="sai"))
    assert report.sent == () and len(report.failed) == 1
    assert report.failed[0][1].startswith(f"Máy chủ thư 127.0.0.1:{server.port} không nhận đăng nhập bằng «{MAIL_USER}» (535 ")
    assert report.failed[0][1].endswith("kiểm tra CCHC_SMTP_USER và CCHC_SMTP_PASSWORD.")
    assert server.accounts.attempts and not any(passed for _, _, passed in server.accounts.attempts)  # smtplib tries each mechanism offered
    assert _still_due(db) == ["vanphong"]


def test_the_wrong_security_for_the_port_is_said(people, certificates, start_server):
    """SSL/TLS spoken to a STARTTLS port, and STARTTLS to a server that speaks TLS first: both fail, saying which
    variables to check, and nothing is sent in clear."""
    db, *_ = people
    starttls_server = start_server(certificates.server)
    said = _send(db, _settings(starttls_server, reminders.SECURITY_SSL, certificates.trusted_authority)).failed[0][1]
    assert "kiểm tra CCHC_SMTP_SECURITY và CCHC_SMTP_PORT" in said
    ssl_server = start_server(certificates.server, implicit_tls=True)
    report = _send(db, _settings(ssl_server, reminders.SECURITY_STARTTLS, certificates.trusted_authority))
    assert report.sent == () and report.failed[0][1].startswith(f"Máy chủ thư 127.0.0.1:{ssl_server.port} ")
    assert starttls_server.received.envelopes == ssl_server.received.envelopes == []
    assert _still_due(db) == ["vanphong"]


def test_a_plain_connection_to_a_server_that_requires_starttls_sends_nothing(people, certificates, start_server):
    db, *_ = people
    server = start_server(certificates.server)
    report = _send(db, replace(_settings(server, reminders.SECURITY_NONE, None), user="", password=""))
    assert report.sent == () and report.failed[0][1] == (
        f"Không gửi được qua máy chủ thư 127.0.0.1:{server.port} (530 Must issue a STARTTLS command first).")
    assert server.received.envelopes == [] and _still_due(db) == ["vanphong"]


def test_a_ca_file_that_cannot_be_read_is_said_naming_the_variable(tmp_path):
    base = {"CCHC_SMTP_HOST": "smtp.tinh.gov.vn", "CCHC_SMTP_FROM": SENDER}
    not_a_certificate = tmp_path / "khong-phai.pem"
    not_a_certificate.write_text("không phải chứng chỉ", encoding="utf-8")
    for path in (tmp_path / "khong-co.pem", not_a_certificate):
        with pytest.raises(InputError, match=f"CCHC_SMTP_CA_FILE ghi «{path}»: không đọc được chứng chỉ"):
            reminders.smtp_settings({**base, "CCHC_SMTP_CA_FILE": str(path)})
    assert reminders.smtp_settings(base).ca_file == ""  # not set: the system's authorities


def test_a_password_with_diacritics_is_said_when_configured_not_at_each_send():
    """smtplib encodes AUTH LOGIN and PLAIN as ASCII: such a password would fail at every run, so it is refused once."""
    environ = {"CCHC_SMTP_HOST": "smtp.tinh.gov.vn", "CCHC_SMTP_FROM": SENDER, "CCHC_SMTP_USER": MAIL_USER,
               "CCHC_SMTP_PASSWORD": "Mật-khẩu-2026"}
    with pytest.raises(InputError, match="CCHC_SMTP_PASSWORD có chữ có dấu"):
        reminders.smtp_settings(environ)


def test_failure_text_names_the_server_and_keeps_its_words():
    settings = reminders.SmtpSettings("smtp.tinh.gov.vn", 587, reminders.SECURITY_STARTTLS, SENDER, MAIL_USER, "x")
    assert reminders.failure_text(ConnectionRefusedError(111, "Connection refused"), settings) == (
        "Máy chủ thư smtp.tinh.gov.vn:587 không nhận kết nối: kiểm tra CCHC_SMTP_HOST, CCHC_SMTP_PORT và máy chủ thư "
        "có đang chạy.")
    assert reminders.failure_text(smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."),
                                  settings).startswith("Máy chủ thư smtp.tinh.gov.vn:587 không hỗ trợ STARTTLS: ")
    refused = smtplib.SMTPRecipientsRefused({"a@b.vn": (550, b"mailbox unavailable")})
    assert reminders.failure_text(refused, settings) == (
        "Máy chủ thư smtp.tinh.gov.vn:587 từ chối địa chỉ nhận (a@b.vn: 550 mailbox unavailable).")
