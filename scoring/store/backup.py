"""Backup and restore: the whole database and every evidence file in one .zip.

The archive holds
  manifest.json   format version, schema revision, creation time (ISO 8601 in UTC, and as people read it in local
                  time), rows per table, SHA-256 of everything else
  database.json   every table of the schema as {"columns": [...], "rows": [[...], ...]}, values in plain JSON
                  (dates and times ISO 8601, decimals as strings) so a SQLite backup restores into PostgreSQL
                  and the other way round
  evidence/<key>  every evidence file, under its content-hash key in the store ("ab/<sha256>.pdf")

A backup is the administrator's alone (it holds every department, every account's password hash), and so
is a restore (auth.Action.BACKUP, RESTORE; the command line acts as the machine's operator).
A backup is read in one transaction, so it is a consistent snapshot even while people keep working.
A restore checks the whole archive first — every member, every evidence key the manifest or a record names —
and refuses, naming the problem, before it changes anything; it then puts the archive's files in the store
and replaces every row of every table in one transaction. Should that transaction fail, the files it put
are taken away again: nothing of a refused archive remains, and the store's own files are left as they were.
A backup from an older version of the app is carried through the migrations it missed in a scratch SQLite
database before it is restored.

This module makes a backup and holds the commands; scoring.store.restore checks and restores one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import zipfile
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
)

from scoring.access.auth import Action
from scoring.errors import InputError
from scoring.exit_codes import EXIT_OK
from scoring.store.actors import Actor, check_allowed, command_line_actor
from scoring.store.backup_format import (
    DATABASE_NAME,
    EVIDENCE_FOLDER,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    BackupSummary,
    DatabaseNotEmptyError,
    digest_of,
    dump_tables,
    json_bytes,
)
from scoring.store.db import Database, open_database
from scoring.store.evidence_files import EvidenceStore
from scoring.store.models import Base, EvidenceRecord
from scoring.store.restore import restore_backup
from scoring.textnorm import file_stamp, format_datetime, local_zone, to_local

# ---------------------------------------------------------------- backup


def create_backup(db: Database, out: Path | BinaryIO, *, actor: Actor) -> BackupSummary:
    """Write a backup of the whole database and evidence store to `out` (a path, or a writable binary stream),
    for an administrator or a trusted caller (see scoring.store.actors.Actor).

    A path is written through a temporary file (readable by its owner only) and renamed, so it never holds
    half a backup.
    """
    check_allowed(actor, Action.BACKUP)
    created_at = datetime.now(timezone.utc).replace(microsecond=0)
    with db.engine.connect() as connection:
        _begin_snapshot(connection)
        revision = MigrationContext.configure(connection).get_current_revision()
        rows_by_table = dump_tables(connection)
        connection.rollback()  # read only: ends the snapshot
    if revision is None:
        raise RuntimeError("the database has no Alembic revision although Database() migrated it")

    database_json = _encode_database(rows_by_table)
    evidence_rows = rows_by_table[EvidenceRecord.__tablename__]
    referenced = {row["file_key"] for row in evidence_rows if row["file_key"]}
    store = EvidenceStore(db.settings.evidence_dir)
    keys = sorted(referenced | set(store.iter_keys()))

    def write(target: BinaryIO) -> BackupSummary:
        timestamp = to_local(created_at).timetuple()[:6]  # zip times have no zone; unzip tools show them as local time
        evidence: dict[str, dict[str, Any]] = {}
        skipped: list[str] = []
        with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
            archive.writestr(_member(DATABASE_NAME, timestamp, zipfile.ZIP_DEFLATED), database_json)
            for key in keys:
                content = _stored_content(store, key)
                if content is None:
                    skipped.append(key)
                    continue
                # Stored, not deflated: PDFs, images and Office files are compressed already.
                archive.writestr(_member(EVIDENCE_FOLDER + key, timestamp, zipfile.ZIP_STORED), content)
                evidence[key] = {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "app": "Chỉ số CCHC",
                "created_at": created_at.isoformat(),
                "created_at_local": f"{format_datetime(created_at)} ({local_zone().key})",  # for a person opening the file
                "schema_revision": revision,
                "source_dialect": db.engine.dialect.name,
                "tables": {name: len(rows) for name, rows in rows_by_table.items()},
                "database_sha256": hashlib.sha256(database_json).hexdigest(),
                "evidence": evidence,
                # Only files that records need are worth a warning; a damaged orphan is simply left out.
                "skipped_evidence": [key for key in skipped if key in referenced],
            }
            archive.writestr(_member(MANIFEST_NAME, timestamp, zipfile.ZIP_DEFLATED), json_bytes(manifest, indent=2))
        return BackupSummary(
            created_at=created_at,
            schema_revision=revision,
            row_counts=dict(manifest["tables"]),
            evidence_files=len(evidence),
            evidence_bytes=sum(item["size"] for item in evidence.values()),
            skipped_evidence=tuple(manifest["skipped_evidence"]),
        )

    if isinstance(out, (str, Path)):
        return _write_file_atomically(Path(out), write)
    return write(out)


def _begin_snapshot(connection: Connection) -> None:
    """Make every read on this connection see the database as of one moment."""
    if connection.dialect.name == "sqlite":
        # pysqlite only opens a transaction before writes, so each SELECT would see its own moment;
        # an explicit BEGIN holds one WAL snapshot for all of them (writers are not blocked).
        connection.exec_driver_sql("BEGIN")
    else:
        connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def _stored_content(store: EvidenceStore, key: str) -> bytes | None:
    """The file's bytes, or None when it is missing or no longer matches the hash its key promises."""
    try:
        content = store.open_bytes(key)
    except InputError:
        return None
    if hashlib.sha256(content).hexdigest() != digest_of(key):
        return None
    return content


def _member(name: str, timestamp: tuple, compress_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=timestamp)
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16  # an ordinary readable file when someone unpacks the archive by hand
    return info


def _write_file_atomically(path: Path, write) -> BackupSummary:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False)
    temp_path = Path(handle.name)
    try:
        with handle:
            summary = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return summary


# ---------------------------------------------------------------- values in database.json


def _encode_database(rows_by_table: dict[str, list[dict[str, Any]]]) -> bytes:
    tables = {}
    for table in Base.metadata.sorted_tables:
        columns = list(table.columns)
        tables[table.name] = {
            "columns": [column.name for column in columns],
            "rows": [[_encode_value(column, row[column.name]) for column in columns] for row in rows_by_table[table.name]],
        }
    return json_bytes({"tables": tables})


def _encode_value(column, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, JSON):
        return value
    if isinstance(kind, DateTime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)  # the schema keeps naive UTC
        return value.isoformat()
    if isinstance(kind, Date):
        return value.isoformat()
    if isinstance(kind, (Boolean, Integer)):
        return value
    if isinstance(kind, Numeric):
        return str(Decimal(value))
    if isinstance(kind, String):
        return value
    raise TypeError(f"backup does not know how to write column {column} of type {kind!r}")


# ---------------------------------------------------------------- command line


def add_backup_commands(commands) -> None:
    """Register `backup OUT.zip` and `restore IN.zip [--yes]` on the CLI's subcommands."""
    backup = commands.add_parser("backup", help="Sao lưu toàn bộ dữ liệu và tệp kiểm chứng vào một tệp .zip")
    backup.add_argument("out", metavar="OUT.zip", help="Tệp sao lưu sẽ tạo (ghi đè nếu đã có)")
    backup.set_defaults(handler=run_backup_command)

    restore = commands.add_parser("restore", help="Khôi phục dữ liệu từ một tệp sao lưu .zip (thay toàn bộ dữ liệu hiện có)")
    restore.add_argument("source", metavar="IN.zip", help="Tệp sao lưu do lệnh backup tạo ra")
    restore.add_argument("--yes", action="store_true", help="Đồng ý xóa dữ liệu đang có trong cơ sở dữ liệu để khôi phục")
    restore.set_defaults(handler=run_restore_command)


def run_backup_command(args: argparse.Namespace, out: TextIO) -> int:
    target = Path(args.out)
    if target.is_dir():
        raise InputError(f"«{target}» là thư mục; hãy ghi tên tệp sao lưu, ví dụ «{target / 'sao-luu.zip'}».")
    db = open_database()
    try:
        summary = create_backup(db, target, actor=command_line_actor())
    finally:
        db.dispose()
    out.write(f"Đã sao lưu vào «{args.out}» lúc {_format_moment(summary.created_at)}, "
              f"lược đồ dữ liệu {summary.schema_revision}:\n")
    out.write("\n".join(summary.lines()) + "\n")
    return EXIT_OK


def run_restore_command(args: argparse.Namespace, out: TextIO) -> int:
    db = open_database()
    try:
        try:
            summary = restore_backup(db, Path(args.source), actor=command_line_actor(), overwrite=args.yes)
        except DatabaseNotEmptyError as refusal:
            raise DatabaseNotEmptyError(f"{refusal} Chưa khôi phục gì; nếu chắc chắn, hãy chạy lại lệnh với --yes.") from None
    finally:
        db.dispose()
    out.write(f"Đã khôi phục từ «{args.source}» (bản sao lưu lúc {_format_moment(summary.created_at)}, "
              f"lược đồ dữ liệu {summary.schema_revision}):\n")
    out.write("\n".join(summary.lines()) + "\n")
    return EXIT_OK


def backup_file_name(moment: datetime | None = None) -> str:
    """The name offered for a backup: local date and time, "cchc-sao-luu-20261220-1405.zip"."""
    return f"cchc-sao-luu-{file_stamp(moment)}.zip"


def _format_moment(moment: datetime) -> str:
    return format_datetime(moment)  # Vietnam time, as every other time the app shows
