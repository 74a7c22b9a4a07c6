"""Restoring a backup (scoring.store.backup describes the archive): the whole archive is checked first — every
member, every evidence key the manifest or a record names — and refused, naming the problem, before anything
changes; then its files go into the store and every row of every table is replaced in one transaction.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.exc import DataError, IntegrityError

from scoring.access.auth import Action
from scoring.errors import InputError
from scoring.store import db as db_module
from scoring.store.actors import Actor, check_allowed
from scoring.store.backup_format import (
    CHUNK,
    DATABASE_NAME,
    EVIDENCE_FOLDER,
    EVIDENCE_MEMBER,
    FORMAT_NAME,
    INT32,
    MANIFEST_NAME,
    MAX_DATABASE_BYTES,
    MAX_EVIDENCE_FILE_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_MEMBERS,
    MAX_TOTAL_BYTES,
    NOT_BACKED_UP,
    READABLE_COMPRESSION,
    SUPPORTED_FORMAT_VERSIONS,
    TABLE_LABELS,
    ZIP_READ_FAILURES,
    BackupSummary,
    DatabaseNotEmptyError,
    database_revision,
    digest_of,
    display_order,
    dump_tables,
    file_sha256,
    format_size,
    manifest_created_at,
    manifest_field,
    parse_json,
    read_json,
    read_member,
    refusal,
    shorten,
)
from scoring.store.db import Database, make_engine
from scoring.store.evidence_files import EvidenceStore, evidence_key
from scoring.store.models import Base, EvidenceRecord
from scoring.store.revisions import move_everything_on
from scoring.store.uploads import KIND_MIME, CheckedUpload, sniff_kind
from scoring.textnorm import format_number


class _BadValue(Exception):
    """A value in database.json that the column cannot hold; the message says why, in Vietnamese."""


def _decode_value(column, value: Any) -> Any:
    if value is None:
        if not column.nullable:
            raise _BadValue("không được để trống")
        return None
    kind = column.type
    if isinstance(kind, JSON):
        return value
    if isinstance(kind, DateTime):
        parsed = _parse_iso(value, datetime.fromisoformat, "thời điểm dạng ISO 8601 (2026-01-31T08:30:00)")
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
        return parsed
    if isinstance(kind, Date):
        return _parse_iso(value, date.fromisoformat, "ngày dạng 2026-01-31")
    if isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise _BadValue("phải là true hoặc false")
        return value
    if isinstance(kind, Integer):
        if type(value) is not int or value not in INT32:
            raise _BadValue("phải là số nguyên")
        return value
    if isinstance(kind, Numeric):
        return _parse_decimal(value, kind)
    if isinstance(kind, String):
        if not isinstance(value, str):
            raise _BadValue("phải là chuỗi ký tự")
        if kind.length is not None and len(value) > kind.length:
            raise _BadValue(f"dài {len(value)} ký tự, vượt giới hạn {kind.length} ký tự")
        return value
    raise TypeError(f"restore does not know how to read column {column} of type {kind!r}")


def _parse_iso(value: Any, parse, expected: str):
    if not isinstance(value, str):
        raise _BadValue(f"phải là {expected}")
    try:
        return parse(value)
    except ValueError:
        raise _BadValue(f"«{shorten(value)}» không phải {expected}") from None


def _parse_decimal(value: Any, kind: Numeric) -> Decimal:
    expected = "số thập phân viết dạng chuỗi (\"0.75\")"
    if not isinstance(value, str):
        raise _BadValue(f"phải là {expected}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _BadValue(f"«{shorten(value)}» không phải {expected}") from None
    if not number.is_finite():
        raise _BadValue(f"«{shorten(value)}» không phải {expected}")
    if kind.scale is not None and number != number.quantize(Decimal(1).scaleb(-kind.scale)):
        raise _BadValue(f"{value} có quá {kind.scale} chữ số thập phân")
    if kind.precision is not None and kind.scale is not None and abs(number) >= Decimal(10) ** (kind.precision - kind.scale):
        raise _BadValue(f"{value} vượt quá giá trị lớn nhất của cột")
    return number


# ---------------------------------------------------------------- restore


@dataclass(frozen=True)
class _EvidenceMember:
    key: str
    kind: str
    sha256: str
    size: int
    info: zipfile.ZipInfo


@dataclass(frozen=True)
class _CheckedBackup:
    summary: BackupSummary
    rows_by_table: dict[str, list[dict[str, Any]]]  # at the target's schema revision, parents first
    evidence: list[_EvidenceMember]


def restore_backup(db: Database, source: Path | BinaryIO, *, actor: Actor, overwrite: bool = True) -> BackupSummary:
    """Replace everything in `db` (rows and evidence files) with the backup in `source`, for an administrator
    or a trusted caller (see scoring.store.actors.Actor).

    The whole archive is checked first; anything wrong raises InputError naming it, and nothing has
    changed. With overwrite=False a database that holds any row is refused (DatabaseNotEmptyError).
    Files in the store that the backup does not have are left in place: they are unreferenced after
    the restore, and deleting documents is never worth the risk.
    """
    check_allowed(actor, Action.RESTORE)
    with _open_archive(source) as (archive, label):
        checked = _check_archive(archive, label, database_revision(db), EvidenceStore(db.settings.evidence_dir))
        if not overwrite:
            _refuse_if_not_empty(db)
        # Files first: they are content-addressed, so writing them changes nothing a record sees. The rows
        # follow in one transaction; if anything fails on the way, the files put here are taken away again.
        placed = _PlacedFiles(EvidenceStore(db.settings.evidence_dir))
        try:
            _store_evidence(archive, label, checked.evidence, placed)
            _replace_all_rows(db, checked.rows_by_table, label)
        except BaseException:
            placed.undo(db)
            raise
    placed.keep()
    return checked.summary


def count_rows(db: Database) -> dict[str, int]:
    """Rows per table of the schema."""
    with db.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def _refuse_if_not_empty(db: Database) -> None:
    counts = count_rows(db)
    if any(counts.values()):
        held = ", ".join(f"{TABLE_LABELS.get(name, name)}: {format_number(counts[name], 0)}"
                         for name in display_order(counts) if counts[name])
        raise DatabaseNotEmptyError(
            f"Cơ sở dữ liệu đích đang có dữ liệu ({held}); khôi phục sẽ xóa toàn bộ dữ liệu này "
            "và thay bằng dữ liệu trong bản sao lưu."
        )


@contextmanager
def _open_archive(source: Path | BinaryIO) -> Iterator[tuple[zipfile.ZipFile, str]]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = f"«{path.name}»"
        try:
            stream: BinaryIO = path.open("rb")
        except FileNotFoundError:
            raise InputError(f"Không tìm thấy tệp sao lưu «{path}».") from None
        except IsADirectoryError:
            raise InputError(f"«{path}» là thư mục, không phải tệp sao lưu .zip.") from None
    else:
        name = getattr(source, "name", None)
        label = f"«{Path(name).name}»" if isinstance(name, str) and name else "tệp sao lưu"
        stream = source if source.seekable() else _spooled(source, label)
    try:
        try:
            archive = zipfile.ZipFile(stream)
        except ZIP_READ_FAILURES:
            raise refusal(label, "tệp không phải tệp .zip (hoặc đã bị hỏng) nên không phải bản sao lưu của ứng dụng.") from None
        with archive:
            yield archive, label
    finally:
        if stream is not source:
            stream.close()


def _spooled(source: BinaryIO, label: str) -> BinaryIO:
    """A seekable copy of a stream (zipfile needs to seek), refusing anything larger than a backup may be."""
    copy = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
    copied = 0
    while chunk := source.read(CHUNK):
        copied += len(chunk)
        if copied > MAX_TOTAL_BYTES:
            copy.close()
            raise refusal(label, f"tệp lớn hơn {format_size(MAX_TOTAL_BYTES)}, không thể là bản sao lưu hợp lệ.")
        copy.write(chunk)
    copy.seek(0)
    return copy


def _check_archive(archive: zipfile.ZipFile, label: str, target_revision: str, store: EvidenceStore) -> _CheckedBackup:
    members = _check_members(archive, label)
    if MANIFEST_NAME not in members:
        raise refusal(label, f"thiếu {MANIFEST_NAME}: đây không phải bản sao lưu do ứng dụng tạo ra.")
    manifest = read_json(archive, members[MANIFEST_NAME], label, MAX_MANIFEST_BYTES)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise refusal(label, f"{MANIFEST_NAME} không phải của bản sao lưu Chỉ số CCHC.")
    version = manifest.get("format_version")
    if type(version) is not int or version not in SUPPORTED_FORMAT_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_FORMAT_VERSIONS))
        raise refusal(label, f"bản sao lưu có định dạng phiên bản «{shorten(str(version))}», phiên bản ứng dụng này chỉ "
                              f"đọc được định dạng {supported}: hãy cập nhật ứng dụng rồi khôi phục lại.")
    revision = manifest_field(manifest, "schema_revision", str, label)
    created_at = manifest_created_at(manifest, label)
    counts = manifest_field(manifest, "tables", dict, label)
    listed_evidence = manifest_field(manifest, "evidence", dict, label)
    skipped = manifest_field(manifest, "skipped_evidence", list, label)
    if not all(isinstance(key, str) for key in skipped):
        raise refusal(label, f"{MANIFEST_NAME} có mục «skipped_evidence» không hợp lệ.")
    # Every key must be one the store itself could have made ("ab/<sha256>.pdf"): a key such as
    # "../../etc/passwd" restored into a record would point outside the store (or break the Tài liệu page).
    for key in listed_evidence:
        _check_key(store, key, label, f"mục «evidence» của {MANIFEST_NAME}")
    for key in skipped:
        _check_key(store, key, label, f"mục «skipped_evidence» của {MANIFEST_NAME}")
    _check_revision(revision, target_revision, label)

    if DATABASE_NAME not in members:
        raise refusal(label, f"thiếu {DATABASE_NAME} (dữ liệu của bản sao lưu).")
    database_bytes = read_member(archive, members[DATABASE_NAME], label, MAX_DATABASE_BYTES)
    if hashlib.sha256(database_bytes).hexdigest() != manifest.get("database_sha256"):
        raise refusal(label, f"{DATABASE_NAME} không khớp mã băm SHA-256 ghi trong {MANIFEST_NAME}: "
                              "tệp sao lưu đã bị hỏng hoặc bị sửa.")
    database = parse_json(database_bytes, DATABASE_NAME, label)
    tables_json = database.get("tables") if isinstance(database, dict) else None
    if not isinstance(tables_json, dict):
        raise refusal(label, f"{DATABASE_NAME} không có danh sách bảng («tables»).")
    for name, table_json in tables_json.items():
        rows = table_json.get("rows") if isinstance(table_json, dict) else None
        if not isinstance(rows, list) or counts.get(name) != len(rows):
            raise refusal(label, f"số dòng của bảng «{name}» trong {DATABASE_NAME} không khớp {MANIFEST_NAME}.")

    if revision == target_revision:
        rows_by_table = _decode_tables(tables_json, Base.metadata.sorted_tables, label)
    else:
        rows_by_table = _migrated_rows(tables_json, revision, target_revision, label)

    evidence = _check_evidence(archive, members, listed_evidence, label)
    available = {member.key for member in evidence} | set(skipped)
    for row in rows_by_table[EvidenceRecord.__tablename__]:
        if row["file_key"]:
            _check_key(store, row["file_key"], label, f"tài liệu kiểm chứng số {row['id']} trong {DATABASE_NAME}")
        if row["file_key"] and row["file_key"] not in available:
            raise refusal(label, f"tài liệu kiểm chứng số {row['id']} dùng tệp «{shorten(row['file_key'])}» "
                                  "nhưng bản sao lưu không có tệp này.")
    summary = BackupSummary(
        created_at=created_at,
        schema_revision=revision,
        row_counts={name: len(rows) for name, rows in rows_by_table.items()},
        evidence_files=len(evidence),
        evidence_bytes=sum(member.size for member in evidence),
        skipped_evidence=tuple(skipped),
    )
    return _CheckedBackup(summary, rows_by_table, evidence)


def _check_members(archive: zipfile.ZipFile, label: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by name, once every name, size and compression method is known to be safe."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise refusal(label, f"tệp có {format_number(len(infos), 0)} thành phần, quá nhiều cho một bản sao lưu.")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if name not in (MANIFEST_NAME, DATABASE_NAME) and not _is_evidence_member(name):
            # Also how "../../x", "/etc/x" and "evidence/../x" end up: only exact, known names are read.
            raise refusal(label, f"tệp chứa thành phần lạ «{shorten(name)}» (bản sao lưu chỉ có {MANIFEST_NAME}, "
                                  f"{DATABASE_NAME} và thư mục evidence/); có thể tệp đã bị sửa.")
        if name in members:
            raise refusal(label, f"thành phần «{name}» xuất hiện hai lần; có thể tệp đã bị sửa.")
        if info.flag_bits & 0x1:
            raise refusal(label, f"thành phần «{name}» được đặt mật khẩu; bản sao lưu của ứng dụng không đặt mật khẩu.")
        if info.compress_type not in READABLE_COMPRESSION:
            raise refusal(label, f"thành phần «{name}» dùng kiểu nén không được hỗ trợ.")
        cap = {MANIFEST_NAME: MAX_MANIFEST_BYTES, DATABASE_NAME: MAX_DATABASE_BYTES}.get(name, MAX_EVIDENCE_FILE_BYTES)
        if info.file_size > cap:
            raise refusal(label, f"thành phần «{name}» khi giải nén lớn bất thường ({format_size(info.file_size)}, "
                                  f"giới hạn {format_size(cap)}); có thể là tệp độc hại.")
        total += info.file_size
        members[name] = info
    if total > MAX_TOTAL_BYTES:
        raise refusal(label, f"tệp khi giải nén lớn bất thường ({format_size(total)}, giới hạn "
                              f"{format_size(MAX_TOTAL_BYTES)}); có thể là tệp độc hại.")
    return members


def _is_evidence_member(name: str) -> bool:
    match = EVIDENCE_MEMBER.fullmatch(name)
    if match is None or not match["digest"].startswith(match["digest_prefix"]):
        return False
    try:
        return evidence_key(match["digest"], match["kind"]) == match["key"]
    except ValueError:  # a kind the store does not accept
        return False


def _check_revision(revision: str, target_revision: str, label: str) -> None:
    migrations = ScriptDirectory.from_config(db_module.alembic_config())
    known = {step.revision for step in migrations.iterate_revisions(target_revision, "base")}
    if revision not in known:
        raise refusal(label, f"bản sao lưu được tạo bằng phiên bản ứng dụng mới hơn (lược đồ dữ liệu «{shorten(revision)}», "
                              f"phiên bản này đang ở lược đồ «{target_revision}»): hãy cập nhật ứng dụng rồi khôi phục lại.")


def _decode_tables(tables_json: dict, tables: list[Table], label: str) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table as values the columns can hold, or InputError naming the table, row and column."""
    expected = {table.name for table in tables}
    if set(tables_json) != expected:
        missing, extra = sorted(expected - set(tables_json)), sorted(set(tables_json) - expected)
        detail = "; ".join(part for part in (
            f"thiếu bảng {', '.join(missing)}" if missing else "",
            f"có bảng lạ {', '.join(shorten(name) for name in extra)}" if extra else "",
        ) if part)
        raise refusal(label, f"{DATABASE_NAME} không khớp lược đồ dữ liệu ({detail}).")
    decoded: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        table_json = tables_json[table.name]
        names = table_json.get("columns")
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names) \
                or sorted(names) != sorted(column.name for column in table.columns):
            raise refusal(label, f"các cột của bảng «{table.name}» trong {DATABASE_NAME} không khớp lược đồ dữ liệu.")
        columns = [table.columns[name] for name in names]
        rows = []
        for number, values in enumerate(table_json["rows"], start=1):
            if not isinstance(values, list) or len(values) != len(columns):
                raise refusal(label, f"bảng «{table.name}», dòng {number} trong {DATABASE_NAME} không đúng số cột.")
            row = {}
            for column, value in zip(columns, values):
                try:
                    row[column.name] = _decode_value(column, value)
                except _BadValue as problem:
                    raise refusal(label, f"bảng «{table.name}», dòng {number}, cột «{column.name}»: {problem}.") from None
            rows.append(row)
        decoded[table.name] = rows
    return decoded


def _migrated_rows(tables_json: dict, revision: str, target_revision: str, label: str) -> dict[str, list[dict[str, Any]]]:
    """Rows of a backup taken at an older schema, carried through the migrations it missed.

    The rows are loaded into a scratch SQLite database built at the backup's revision, the migrations
    run there exactly as they ran on real databases, and the rows are read back at the target's revision.
    """
    with tempfile.TemporaryDirectory(prefix="cchc-khoi-phuc-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'scratch.db'}")
        try:
            db_module.upgrade_schema(engine, revision)
            old_schema = MetaData()
            old_schema.reflect(engine)
            old_tables = [table for table in old_schema.sorted_tables if table.name not in NOT_BACKED_UP]
            rows = _decode_tables(tables_json, old_tables, label)
            with engine.begin() as connection:
                _insert_rows(connection, old_tables, rows, label)
            db_module.upgrade_schema(engine, target_revision)
            with engine.connect() as connection:
                return dump_tables(connection)
        finally:
            engine.dispose()


def _check_evidence(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], listed: dict,
                    label: str) -> list[_EvidenceMember]:
    """Every evidence file, checked against the manifest, its own key and its kind, by reading it whole."""
    present = {name[len(EVIDENCE_FOLDER):]: info for name, info in members.items() if name.startswith(EVIDENCE_FOLDER)}
    missing = sorted(str(key) for key in set(listed) - set(present))
    if missing:
        raise refusal(label, f"thiếu tệp kiểm chứng «{shorten(missing[0])}» có trong {MANIFEST_NAME}.")
    checked = []
    for key, info in sorted(present.items()):
        entry = listed.get(key)
        shown = EVIDENCE_FOLDER + key
        if not isinstance(entry, dict):
            raise refusal(label, f"tệp kiểm chứng «{shown}» không được ghi trong {MANIFEST_NAME}; có thể tệp đã bị sửa.")
        content = read_member(archive, info, label, MAX_EVIDENCE_FILE_BYTES)
        digest = hashlib.sha256(content).hexdigest()
        if digest != entry.get("sha256") or digest != digest_of(key) or len(content) != entry.get("size"):
            raise refusal(label, f"tệp kiểm chứng «{shown}» không khớp mã băm SHA-256 ghi trong {MANIFEST_NAME}: "
                                  "tệp sao lưu đã bị hỏng hoặc bị sửa.")
        kind = key.rsplit(".", 1)[1]
        if sniff_kind(content) != kind:
            raise refusal(label, f"nội dung tệp kiểm chứng «{shown}» không phải tệp .{kind}; có thể tệp đã bị sửa.")
        checked.append(_EvidenceMember(key, kind, digest, len(content), info))
    return checked


def _check_key(store: EvidenceStore, key: str, label: str, where: str) -> None:
    """Refuse a key the evidence store would not accept (EvidenceStore.path_for: its key pattern, inside the store)."""
    try:
        store.path_for(key)
    except InputError:
        raise refusal(label, f"{where} có mã tệp kiểm chứng «{shorten(str(key))}» không hợp lệ (mã tệp có dạng "
                              "«ab/<mã băm SHA-256>.pdf»); có thể tệp đã bị sửa.") from None


class _PlacedFiles:
    """The files a restore puts in the evidence store, so that a restore that fails takes them away again.

    A key already stored with its right content is left alone. A damaged copy (same key, other bytes) is moved
    aside, not deleted, until the restore has committed: a refused restore puts it back as it was.
    """

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store
        self.added: list[str] = []
        self.set_aside: list[tuple[Path, Path]] = []  # (the damaged file's path, where it waits)
        self.folders: list[Path] = []  # folders the restore made (the store's root, "ab/" prefixes), deepest last

    def put(self, checked: CheckedUpload, content: bytes, label: str, shown: str) -> None:
        path = self.store.path_for(evidence_key(checked.sha256, checked.kind))
        self.folders += [folder for folder in (self.store.root, path.parent) if not folder.exists() and folder not in self.folders]
        if path.is_file():
            if file_sha256(path) == checked.sha256:
                return
            aside = path.with_name(f".restore-{path.name}.old")
            os.replace(path, aside)
            self.set_aside.append((path, aside))
        else:
            self.added.append(evidence_key(checked.sha256, checked.kind))
        try:
            self.store.put(checked, content)
        except ValueError:
            raise refusal(label, f"tệp kiểm chứng «{shown}» thay đổi trong lúc khôi phục.") from None

    def undo(self, db: Database) -> None:
        """Take away what was put, and put back what was moved aside. A file that a record refers to now is
        kept: someone may have uploaded the same document while the restore ran."""
        try:
            with db.engine.connect() as connection:
                referenced = set(connection.execute(select(EvidenceRecord.file_key)).scalars())
        except Exception:  # the database cannot even be read: keep every file rather than guess
            referenced = set(self.added)
        for key in self.added:
            if key not in referenced:
                self.store.path_for(key).unlink(missing_ok=True)
        for path, aside in self.set_aside:
            os.replace(aside, path)
        for folder in reversed(self.folders):
            try:
                folder.rmdir()  # only when empty: a file someone uploaded meanwhile keeps its folder
            except OSError:
                pass

    def keep(self) -> None:
        for _path, aside in self.set_aside:
            aside.unlink(missing_ok=True)


def _store_evidence(archive: zipfile.ZipFile, label: str, evidence: list[_EvidenceMember], placed: _PlacedFiles) -> None:
    for member in evidence:
        # Read again rather than trust the earlier read: put() re-checks the bytes against the hash.
        content = read_member(archive, member.info, label, MAX_EVIDENCE_FILE_BYTES)
        checked = CheckedUpload(kind=member.kind, mime=KIND_MIME[member.kind], display_name=member.key,
                                size=member.size, sha256=member.sha256)
        placed.put(checked, content, label, EVIDENCE_FOLDER + member.key)


def _replace_all_rows(db: Database, rows_by_table: dict[str, list[dict[str, Any]]], label: str) -> None:
    """Delete every row and insert the backup's, in one transaction: on any error nothing has changed."""
    tables = Base.metadata.sorted_tables
    with db.engine.begin() as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            # Nobody writes between our delete and our commit (their rows would mix with the backup's).
            names = ", ".join(_quoted(connection, table.name) for table in tables)
            connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
        for table in reversed(tables):
            connection.execute(table.delete())
        _insert_rows(connection, tables, rows_by_table, label)
        if postgresql:
            _reset_sequences(connection, tables)
        move_everything_on(connection)  # every page's kept copy of the old data is now out of date


def _insert_rows(connection: Connection, tables: list[Table], rows_by_table: dict[str, list[dict[str, Any]]],
                 label: str) -> None:
    for table in tables:
        rows = rows_by_table[table.name]
        if not rows:
            continue
        try:
            connection.execute(table.insert(), rows)
        except (IntegrityError, DataError) as error:
            raise refusal(label, f"dữ liệu bảng «{table.name}» vi phạm ràng buộc của cơ sở dữ liệu (trùng khoá, "
                                  "tham chiếu tới dòng không tồn tại hoặc giá trị không hợp lệ).") from error


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """Point each id sequence past the restored ids, so the next insert does not collide with them."""
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        quoted_table, quoted_column = _quoted(connection, table.name), _quoted(connection, column.name)
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                 f"COALESCE((SELECT MAX({quoted_column}) FROM {quoted_table}), 0) + 1, false)"),
            {"table": quoted_table, "column": column.name},
        )


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)
