"""Storage faults and hostile inputs that must end in a Vietnamese sentence with nothing half saved:
a busy, read-only, missing or full database or data folder; YAML alias bombs; uploads killed half-way;
a private database file; open mode (no sign-in) serving this machine only."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest

import scoring.store.db as db_module
import ui
from scoring.criteria.files import load_criteria_set_bytes
from scoring.errors import InputError, StorageError, storage_problem
from scoring.store import actors, department_store, evidence_store, plan_store
from scoring.store.db import Database, Settings, open_database
from scoring.store.workspace import ensure_default_workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def _seeded(folder: Path) -> Database:
    db = Database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))
    ensure_default_workspace(db)
    return db


def _first_activity(db: Database):
    department = department_store.list_departments(db)[0]
    return department, plan_store.list_activities(db, department.id, 2026)[0]


# ---------------------------------------------------------------- what each failure is called


@pytest.mark.parametrize("error, words", [
    (sqlite3.OperationalError("database is locked"), "đang bận"),
    (sqlite3.OperationalError("database or disk is full"), "đã đầy"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "chỉ đọc"),
    (sqlite3.OperationalError("unable to open database file"), "Không mở được cơ sở dữ liệu"),
    (OSError(errno.ENOSPC, "No space left on device"), "đã đầy"),
    (OSError(errno.EROFS, "Read-only file system"), "chỉ đọc"),
])
def test_each_storage_failure_has_its_own_sentence(error, words):
    wrapped = OperationalError("UPDATE activity SET note=?", ("ghi chú",), error)
    for candidate in (error, wrapped):
        sentence = storage_problem(candidate)
        assert sentence and words in sentence, (candidate, sentence)


def test_a_read_only_postgresql_transaction_is_a_storage_failure_though_the_driver_calls_it_internal(sqlite_db):
    """psycopg raises ReadOnlySqlTransaction (25006: a standby, default_transaction_read_only) as an InternalError,
    not an OperationalError: the write still ends in the sentence, never as an unexpected error."""
    import psycopg.errors
    from sqlalchemy.exc import InternalError

    refused = psycopg.errors.ReadOnlySqlTransaction("cannot execute UPDATE in a read-only transaction")
    with pytest.raises(StorageError, match="chế độ chỉ đọc"):
        with sqlite_db.session():
            raise InternalError("UPDATE activity SET note=%(note)s", {"note": "x"}, refused)
    with pytest.raises(InternalError):  # the same kind of error that is not a storage failure stays what it is
        with sqlite_db.session():
            raise InternalError("SELECT 1", {}, psycopg.errors.InternalError_("cache lookup failed"))


def test_an_ordinary_bug_is_not_mistaken_for_a_storage_failure():
    assert storage_problem(sqlite3.OperationalError("no such table: activity")) is None
    # the statement's own values never decide: a note that says "database is locked" is just text
    wrapped = OperationalError("UPDATE activity SET note=?", ("database is locked",), sqlite3.OperationalError("no such column: x"))
    assert storage_problem(wrapped) is None


# ---------------------------------------------------------------- real failures, nothing saved


def test_a_database_held_by_another_process_makes_the_save_wait_a_bounded_time_then_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_SECONDS", 1)
    db = _seeded(tmp_path / "data")
    department, activity = _first_activity(db)
    holder = sqlite3.connect(tmp_path / "data" / "cchc.db", timeout=0)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        started = time.monotonic()
        with pytest.raises(StorageError, match="đang bận"):
            plan_store.update_activity(db, activity.id, activity.version, actor="Văn phòng", note="ghi trong lúc bận")
        assert time.monotonic() - started < 10
    finally:
        holder.rollback()
        holder.close()
    stored = next(a for a in plan_store.list_activities(db, department.id, 2026) if a.id == activity.id)
    assert stored.note == activity.note and stored.version == activity.version
    plan_store.update_activity(db, activity.id, activity.version, actor="Văn phòng", note="ghi sau khi hết bận")  # then it works
    db.dispose()


def test_a_read_only_database_says_so_and_keeps_what_was_saved(tmp_path):
    folder = tmp_path / "data"
    _seeded(folder).dispose()
    read_only = Database(Settings(data_dir=folder, database_url=f"sqlite:///file:{folder / 'cchc.db'}?mode=ro&uri=true"))
    department, activity = _first_activity(read_only)
    with pytest.raises(StorageError, match="chỉ đọc"):
        plan_store.update_activity(read_only, activity.id, activity.version, actor="Văn phòng", note="không lưu được")
    assert _first_activity(read_only)[1].note == activity.note
    read_only.dispose()


def test_a_database_that_cannot_be_opened_is_a_sentence(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "cchc.db").mkdir()  # a folder where the database file should be
    with pytest.raises(StorageError, match="Không mở được cơ sở dữ liệu"):
        Database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))


def test_a_full_disk_while_storing_evidence_saves_no_record(tmp_path, monkeypatch):
    db = _seeded(tmp_path / "data")
    department = department_store.list_departments(db)[0]
    before = len(evidence_store.list_evidence(db, department.id, 2026))

    def disk_full(target, content):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("scoring.store.evidence_files.write_atomically", disk_full)
    meta = evidence_store.EvidenceInput("Báo cáo", "12/BC-SDTTG", None, department.name, "Báo cáo quý")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    with pytest.raises(StorageError, match="đã đầy"):
        evidence_store.add_evidence(db, department.id, 2026, meta, actor="Văn phòng", upload=("bao-cao.pdf", pdf))
    assert len(evidence_store.list_evidence(db, department.id, 2026)) == before
    db.dispose()


def test_the_app_says_what_happened_when_its_database_cannot_be_opened(tmp_path, monkeypatch):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "cchc.db").mkdir()
    monkeypatch.setenv("CCHC_DATA_DIR", str(folder))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Không mở được cơ sở dữ liệu" in e.value for e in at.error), [e.value for e in at.error]


# ---------------------------------------------------------------- private files, left-overs


def test_the_database_file_is_readable_by_its_owner_only(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "cchc.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)  # an older version left it world-readable
    db = _seeded(folder)
    for file in folder.glob("cchc.db*"):
        assert stat.S_IMODE(file.stat().st_mode) & 0o077 == 0, file
    db.dispose()


def test_temporary_files_of_killed_uploads_are_swept_but_not_uploads_in_progress(tmp_path):
    store_root = tmp_path / "data" / "evidence"
    (store_root / "ab").mkdir(parents=True)
    abandoned = store_root / "ab" / ".upload-x1.part"
    in_progress = store_root / "ab" / ".upload-x2.part"
    kept = store_root / "ab" / ("ab" + "0" * 62 + ".pdf")
    for file in (abandoned, in_progress, kept):
        file.write_bytes(b"...")
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))
    os.utime(kept, (two_hours_ago, two_hours_ago))
    db = open_database(Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'data' / 'cchc.db'}"))
    assert not abandoned.exists()
    assert in_progress.exists() and kept.exists()
    db.dispose()


# ---------------------------------------------------------------- an upload killed or refused half-way: a record and its file, or neither

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
KILLED_UPLOAD = """
import os, signal, sys
from pathlib import Path
from scoring.store import department_store, evidence_files, evidence_store
from scoring.store.db import Database, Settings

folder, point = Path(sys.argv[1]), sys.argv[2]
db = Database(Settings(folder, f"sqlite:///{folder / 'cchc.db'}"))
department = department_store.list_departments(db)[0]

def die(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if point == "before-rename":  # the temporary file written whole, not yet the store's
    evidence_files.os.replace = die
elif point == "before-commit":  # the file in the store, its record not yet committed
    evidence_store._set_evidence_links = die
elif point == "after-commit":  # the record committed, the upload's marker not yet removed
    evidence_files._Pending.release = die
evidence_store.add_evidence(db, department.id, 2026, evidence_store.EvidenceInput("Báo cáo", "7/BC"), actor="Văn phòng",
                  upload=("bao-cao.pdf", sys.stdin.buffer.read()))
"""


def _evidence_folder_entries(folder: Path) -> list[str]:
    root = folder / "evidence"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("point, saved", [("before-rename", False), ("before-commit", False), ("after-commit", True)])
def test_an_upload_killed_at_any_point_leaves_its_record_with_its_file_or_neither_once_reopened(tmp_path, point, saved):
    folder = tmp_path / "data"
    _seeded(folder).dispose()
    child = subprocess.run([sys.executable, "-c", KILLED_UPLOAD, str(folder), point], input=PDF, cwd=ROOT, capture_output=True)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    left = _evidence_folder_entries(folder)
    assert any(name.split("/")[-1].startswith(".pending-") for name in left), left  # killed inside the upload

    db = open_database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))  # the restart
    department = department_store.list_departments(db)[0]
    documents = evidence_store.list_evidence(db, department.id, 2026)
    keys = [d.file_key for d in documents]
    assert _evidence_folder_entries(folder) == keys  # every file has its record and nothing else is left
    assert len(documents) == int(saved)
    if saved:
        assert evidence_store.evidence_file(db, documents[0].id, viewer=actors.SYSTEM_ACTOR)[2] == PDF
    db.dispose()


HELD_UPLOAD = """
import sys, time
from pathlib import Path
from scoring.store.evidence_files import _Pending, write_atomically

target = Path(sys.argv[1])
target.parent.mkdir(parents=True, exist_ok=True)
pending = _Pending.lock(target, wait=True)  # an upload in progress in another process
pending.mark_new()
write_atomically(target.with_name(".upload-" + target.name + ".part"), b"...")  # stands for its temporary file
print("held", flush=True)
time.sleep(30)
"""


def test_an_upload_in_progress_in_another_process_is_left_alone_by_the_sweep(tmp_path):
    import hashlib

    folder = tmp_path / "data"
    _seeded(folder).dispose()
    digest = hashlib.sha256(PDF).hexdigest()
    target = folder / "evidence" / digest[:2] / f"{digest}.pdf"
    holder = subprocess.Popen([sys.executable, "-c", HELD_UPLOAD, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        in_progress = _evidence_folder_entries(folder)
        open_database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}")).dispose()
        assert _evidence_folder_entries(folder) == in_progress and len(in_progress) == 2
    finally:
        holder.kill()
        holder.wait()
    open_database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}")).dispose()  # its process is gone
    assert _evidence_folder_entries(folder) == []


def _driver_fault(dialect: str, fault: str) -> Exception:
    """The error the database driver raises for a full disk, a read-only database or a held lock."""
    import psycopg.errors

    return {
        "sqlite": {"disk-full": sqlite3.OperationalError("database or disk is full"),
                   "read-only": sqlite3.OperationalError("attempt to write a readonly database"),
                   "busy": sqlite3.OperationalError("database is locked")},
        "postgresql": {"disk-full": psycopg.errors.DiskFull("could not extend file"),
                       "read-only": psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
                       "busy": psycopg.errors.LockNotAvailable("could not obtain lock")},
    }[dialect][fault]


@pytest.mark.parametrize("fault", ["disk-full", "read-only", "busy"])
def test_an_evidence_record_the_database_refuses_takes_its_new_file_away_and_keeps_a_shared_one(db, fault):
    from sqlalchemy import event

    error = _driver_fault(db.engine.dialect.name, fault)
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    shared = evidence_store.add_evidence(db, department.id, 2026, evidence_store.EvidenceInput("Báo cáo", "1/BC"), actor="Văn phòng",
                               upload=("bao-cao.pdf", PDF))

    def refuse(_connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT"):
            raise error

    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        for name, content in (("moi.pdf", PDF.replace(b"1 0 obj", b"2 0 obj")), ("cung-noi-dung.pdf", PDF)):
            with pytest.raises(StorageError) as refused:
                evidence_store.add_evidence(db, department.id, 2026, evidence_store.EvidenceInput("Báo cáo", "2/BC"), actor="Văn phòng",
                                  upload=(name, content))
            assert str(refused.value) == storage_problem(error)  # the sentence of that failure
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)
    assert [e.id for e in evidence_store.list_evidence(db, department.id, 2026)] == [shared.id]
    assert _evidence_folder_entries(db.settings.data_dir) == [shared.file_key]  # the new file went; the shared one stayed


# ---------------------------------------------------------------- hostile criteria files


def test_yaml_aliases_are_refused_before_they_can_expand():
    layers = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        layers.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    bomb = ("\n".join(layers) + "\n").encode()
    assert len(bomb) < 600
    started = time.monotonic()
    with pytest.raises(InputError, match=r"«bom\.yaml».*bí danh"):
        load_criteria_set_bytes("bom.yaml", bomb)
    assert time.monotonic() - started < 1


def test_the_bundled_criteria_set_has_no_alias_and_still_loads():
    path = Path(__file__).resolve().parent.parent / "data" / "criteria" / "bo-tieu-chi-mau-2026.yaml"
    assert load_criteria_set_bytes(path.name, path.read_bytes()).leaves()


# ---------------------------------------------------------------- open mode serves this machine only


class _Context:
    def __init__(self, ip):
        self.ip_address = ip


@pytest.mark.parametrize("auth, address, ip, refused", [
    ("off", None, "192.0.2.7", True),       # open mode, default address, a client from the network
    ("off", None, None, False),             # open mode, the machine itself (Streamlit reports None)
    ("off", "0.0.0.0", "192.0.2.7", False),  # whoever started the server chose the network on purpose
    ("on", None, "192.0.2.7", False),       # sign-in on: the sign-in page guards
])
def test_open_mode_serves_only_this_machine_unless_told_otherwise(monkeypatch, auth, address, ip, refused):
    monkeypatch.setenv("CCHC_AUTH", auth)
    monkeypatch.setattr(ui.st, "context", _Context(ip))
    monkeypatch.setattr(ui.st, "get_option", lambda name: address if name == "server.address" else None)
    assert ui.open_mode_refuses_this_client() is refused
