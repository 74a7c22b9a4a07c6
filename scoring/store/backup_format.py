"""The backup archive's format, shared by making one and restoring one: its members, limits, the summary of an
archive, and reading its members safely.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select

from scoring.errors import InputError
from scoring.store.db import SIGN_IN_SESSIONS, Database
from scoring.store.models import Base
from scoring.store.revisions import DATA_REVISION, YEAR_REVISION
from scoring.textnorm import format_number

NOT_BACKED_UP = {"alembic_version", DATA_REVISION.name, YEAR_REVISION.name, SIGN_IN_SESSIONS.name}  # the installation's own bookkeeping, not data

FORMAT_NAME = "cchc-backup"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = frozenset({1})

MANIFEST_NAME = "manifest.json"
DATABASE_NAME = "database.json"
EVIDENCE_FOLDER = "evidence/"

# Zip-bomb guards, checked against what the archive's directory declares before anything is read
# (zipfile never inflates a member past its declared size). Evidence uploads are capped at 20 MB;
# the file cap leaves room for that limit to be raised without making old backups unrestorable.
MAX_MEMBERS = 100_000
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_DATABASE_BYTES = 256 * 1024 * 1024
MAX_EVIDENCE_FILE_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024 * 1024
# Only these: other methods (bzip2, lzma) inflate a whole read at once, which a bomb can exploit.
READABLE_COMPRESSION = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

# What a damaged or hostile archive can make zipfile raise while reading a member.
ZIP_READ_FAILURES = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
    NotImplementedError, RuntimeError, struct.error, OverflowError,
)

# Table → how people call it, in the order summaries list them.
TABLE_LABELS: dict[str, str] = {
    "department": "Cơ quan",
    "plan": "Kế hoạch",
    "activity": "Hoạt động",
    "criteria_set": "Bộ tiêu chí",
    "criteria_mapping": "Đối chiếu tiêu chí giữa hai bộ",
    "assessment": "Kỳ đánh giá",
    "score": "Điểm tiêu chí",
    "evidence": "Tài liệu kiểm chứng",
    "evidence_criterion": "Liên kết tài liệu – tiêu chí",
    "evidence_activity": "Liên kết tài liệu – hoạt động",
    "audit_log": "Nhật ký thay đổi",
    "account": "Tài khoản",
    "account_department": "Tài khoản – cơ quan được giao",
    "department_group": "Nhóm cơ quan",
    "group_criteria_set": "Bộ tiêu chí của nhóm theo năm",
    "reminder_sent": "Thư nhắc việc đã gửi",
}

INT32 = range(-(2**31), 2**31)
EVIDENCE_MEMBER = re.compile(r"evidence/(?P<key>(?P<digest_prefix>[0-9a-f]{2})/(?P<digest>[0-9a-f]{64})\.(?P<kind>[a-z]{1,10}))")
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds (or a restore brought back)."""

    created_at: datetime  # when the backup was taken, UTC
    schema_revision: str  # the database schema (Alembic revision) the backup was taken at
    row_counts: dict[str, int]  # table → rows
    evidence_files: int
    evidence_bytes: int
    # Keys records refer to whose file was absent from the store, or no longer matched its hash, when
    # the backup was taken: the archive cannot hold them. The rows are kept as they were.
    skipped_evidence: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The summary in Vietnamese, one line per table, then the files and any warning."""
        lines = [f"  {TABLE_LABELS.get(name, name)}: {format_number(self.row_counts[name], 0)} dòng"
                 for name in display_order(self.row_counts)]
        lines.append(f"  Tệp kiểm chứng: {format_number(self.evidence_files, 0)} tệp ({format_size(self.evidence_bytes)})")
        if self.skipped_evidence:
            lines.append(
                f"Cảnh báo: {len(self.skipped_evidence)} tệp kiểm chứng được tài liệu tham chiếu nhưng không có "
                "(hoặc đã hỏng) trong kho lúc sao lưu, nên không có trong bản sao lưu: "
                + ", ".join(self.skipped_evidence)
            )
        return lines


def display_order(tables) -> list[str]:
    """Table names in the order people read them (TABLE_LABELS), any others after, alphabetically."""
    return [name for name in TABLE_LABELS if name in tables] + sorted(name for name in tables if name not in TABLE_LABELS)


class DatabaseNotEmptyError(InputError):
    """A restore that would overwrite existing data was asked not to."""


# ---------------------------------------------------------------- schema revisions


def database_revision(db: Database) -> str:
    with db.engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None:
        raise RuntimeError("the database has no Alembic revision although Database() migrated it")
    return revision


# ---------------------------------------------------------------- archive reading helpers


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, cap: int) -> bytes:
    try:
        with archive.open(info) as member:
            content = member.read(cap + 1)
    except ZIP_READ_FAILURES:
        raise refusal(label, f"thành phần «{info.filename}» bị hỏng, không đọc được.") from None
    if len(content) > cap:
        raise refusal(label, f"thành phần «{info.filename}» khi giải nén lớn bất thường; có thể là tệp độc hại.")
    return content


def read_json(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, cap: int) -> Any:
    return parse_json(read_member(archive, info, label, cap), info.filename, label)


def parse_json(content: bytes, name: str, label: str) -> Any:
    def refuse_constant(constant: str):
        raise ValueError(constant)  # NaN and Infinity are not JSON, and PostgreSQL would refuse them

    try:
        return json.loads(content.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise refusal(label, f"{name} không phải JSON hợp lệ.") from None


def manifest_field(manifest: dict, name: str, expected: type, label: str):
    value = manifest.get(name)
    if not isinstance(value, expected):
        raise refusal(label, f"{MANIFEST_NAME} thiếu mục «{name}» hoặc mục này không hợp lệ.")
    return value


def manifest_created_at(manifest: dict, label: str) -> datetime:
    value = manifest_field(manifest, "created_at", str, label)
    try:
        created_at = datetime.fromisoformat(value)
    except ValueError:
        raise refusal(label, f"{MANIFEST_NAME} có thời điểm sao lưu «{shorten(value)}» không hợp lệ.") from None
    return created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)


def refusal(label: str, detail: str) -> InputError:
    return InputError(f"Không khôi phục được từ {label}: {detail} Dữ liệu hiện có chưa bị thay đổi.")


def digest_of(key: str) -> str:
    return key.split("/", 1)[1].rsplit(".", 1)[0]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def json_bytes(value: Any, indent: int | None = None) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=indent, allow_nan=False).encode("utf-8")


def shorten(value: str, limit: int = 80) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in value)
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


def format_size(count: int) -> str:
    for unit, name in ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB")):
        if count >= unit:
            return f"{format_number(count / unit, 1)} {name}"
    return f"{format_number(count, 0)} byte"


def dump_tables(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the schema, as Python values, parents first, each table in key order."""
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
        for table in Base.metadata.sorted_tables
    }
