"""Backup and restore: every row and file comes back, across SQLite and PostgreSQL; bad archives change nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import uuid
import zipfile
import zlib
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, make_url, select, text, update

import scoring.store.db
from scoring import cli
from scoring.assessment.appraisal import SourceDocument
from scoring.criteria.files import criteria_set_from_dict, load_criteria_set
from scoring.criteria.mapping import propose_mapping
from scoring.errors import InputError
from scoring.plan.importer import load_plan
from scoring.plan.stats import STATUS_DONE, STATUS_IN_PROGRESS
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    backup,
    backup_format,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
    restore,
)
from scoring.store.backup import create_backup
from scoring.store.backup_format import BackupSummary
from scoring.store.criteria_mapping_store import confirm_mapping, confirmed_mapping
from scoring.store.db import Database, Settings
from scoring.store.evidence_files import EvidenceStore
from scoring.store.models import Assessment, Base
from scoring.store.restore import restore_backup
from scoring.store.uploads import check_upload

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "ke-hoach-cchc-2026.txt"

CRITERIA = ROOT / "tests" / "fixtures" / "criteria" / "bo-tieu-chi-nho-4-diem.json"  # 1.1 tiers, 1.2 value, 1.3 count



PROVINCE_RESULT = SourceDocument("25/KQ-SNV", date(2026, 12, 28))  # the province's round-1 result
ROUND_1_DAY = date(2026, 12, 29)  # inside round 1 of the default 2026 settings

def _pdf(line: str) -> bytes:
    """A real one-page PDF (correct xref table) showing one line of text."""
    content = f"BT /F1 14 Tf 72 770 Td ({line}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def _png() -> bytes:
    """A real 2×2 RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + b"\xd0\x20\x20\x20\x40\xd0" for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))


PLAN_PDF = _pdf("Ke hoach CCHC nam 2026 - 15/KH-SDTTG")
ORPHAN_PDF = _pdf("Ban nhap cu, khong con tai lieu nao dung")
PHOTO_PNG = _png()


def _build_workspace(db: Database) -> dict:
    """A department mid-year: plan, criteria, progress, self scores, an appraisal, evidence files and links."""
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Chính sách Dân tộc", "Phòng Tôn giáo"],
                                           actor="quản trị")
    department = department_store.list_departments(db)[0]
    department_store.update_department(db, department_id, department.version, name=department.name, units=department.units,
                           governing_body="UBND TỈNH QUẢNG NINH", place="Quảng Ninh", actor="quản trị")
    plan_store.save_plan(db, department_id, load_plan(SEED), actor="vp1")
    set_id = criteria_store.save_criteria_set(db, load_criteria_set(CRITERIA), actor="quản trị")
    assessment_id = assessment_store.open_assessment(db, department_id, 2026, set_id, actor="vp1").id
    # next year's set renumbers 1.3 as 1.4, and the mapping between the two was confirmed
    next_content = load_criteria_set(CRITERIA).to_dict()
    next_content["nodes"][0]["children"][2]["code"] = "1.4"
    next_set = criteria_set_from_dict(next_content)
    next_set_id = criteria_store.save_criteria_set(db, next_set, actor="quản trị")
    confirm_mapping(db, set_id, next_set_id, propose_mapping(load_criteria_set(CRITERIA), next_set), 0, actor="quản trị")
    activities = {a.code: a for a in plan_store.list_activities(db, department_id, 2026)}
    plan_store.update_activity(db, activities["I.5"].id, activities["I.5"].version, actor="vp1", status=STATUS_DONE,
                         completed_on=date(2026, 1, 15), note="Đã ban hành Kế hoạch số 15/KH-SDTTG")
    plan_store.update_activity(db, activities["II.1"].id, activities["II.1"].version, actor="Phòng Tôn giáo",
                         status=STATUS_IN_PROGRESS, progress=40, note="Đang rà soát thủ tục hành chính")
    assessment_store.save_self_score(db, assessment_id, "1.1", 0, inputs={"tier": 0}, explanation="Ban hành ngày 18/12/2025", actor="vp1")
    assessment_store.save_self_score(db, assessment_id, "1.2", 0, inputs={"value": "1,75"}, actor="vp2")
    assessment_store.save_self_score(db, assessment_id, "1.3", 0, inputs={}, not_applicable=True, explanation="Không phát sinh", actor="vp2")
    plan_document = evidence_store.add_evidence(
        db, department_id, 2026,
        evidence_store.EvidenceInput(doc_type="Kế hoạch", number="15/KH-SDTTG", issued_on=date(2025, 12, 18),
                           issuer="Sở Dân tộc và Tôn giáo", summary="Kế hoạch cải cách hành chính năm 2026"),
        actor="vp1", upload=("Kế hoạch CCHC 2026.pdf", PLAN_PDF), criteria=["1.1", "1.2"], activity_codes=["I.5"])
    cycle_store.lock_self_score(db, assessment_id, actor="vp1")  # appraisal reads a locked self-assessment
    scored = assessment_store.list_scores(db, assessment_id)["1.1"]
    assessment_store.save_appraisal(db, assessment_id, "1.1", scored.version, points="0,75", remark="Thiếu phụ lục kèm theo", actor="Sở Nội vụ",
                        source=PROVINCE_RESULT, today=ROUND_1_DAY)  # no appraiser account: the Office transcribes
    cycle_store.save_bonus_penalty(db, assessment_id, 0, bonus="0,5", penalty="", source=PROVINCE_RESULT, actor="vp1", today=ROUND_1_DAY)
    cycle_store.override_round(db, assessment_id, "giai_trinh", date(2027, 1, 5), "Sở Nội vụ cho giải trình sớm", actor="quantri",
                        today=ROUND_1_DAY)
    evidence_store.link_evidence_to_criterion(db, plan_document.id, plan_document.version, "1.1", actor="vp1", section="Mục II, trang 3")
    evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(doc_type="Biên bản", number="02/BB-SDTTG",
                      issued_on=date(2026, 3, 2), summary="Hội nghị triển khai"),
                      actor="vp2", upload=("ảnh hội nghị.png", PHOTO_PNG), criteria=["1.3"], activity_codes=["I.1", "II.1"])
    evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(doc_type="Báo cáo", number="120/BC-SDTTG",
                      link="https://sodttg.example.gov.vn/bao-cao-quy-1"), actor="vp2", attachment=evidence_store.ATTACH_LINK,
                      criteria=["1.3"])
    # A file still in the store that no record uses any more: backed up too, nothing is lost.
    EvidenceStore(db.settings.evidence_dir).put(check_upload("bản nháp.pdf", ORPHAN_PDF), ORPHAN_PDF)
    return {"department_id": department_id, "assessment_id": assessment_id, "plan_document_id": plan_document.id,
            "criteria_sets": (set_id, next_set_id)}


@pytest.fixture
def workspace(db):
    return _build_workspace(db)


def _postgres_test_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI phải chạy kiểm thử với PostgreSQL thật: TEST_DATABASE_URL chưa được đặt (xem scripts/test.sh).")
        pytest.skip("không có PostgreSQL (TEST_DATABASE_URL chưa đặt)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_target(request, tmp_path):
    """A fresh, empty database in its own folder to restore into.

    On PostgreSQL it lives in a schema of its own, so it sits next to the `db` fixture's public schema.
    """
    folder = tmp_path / "khoi-phuc"
    if request.param == "sqlite":
        database = Database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))
        yield database
        database.dispose()
        return
    url = _postgres_test_url()
    schema = f"restore_target_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    target_url = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    database = Database(Settings(data_dir=folder, database_url=target_url.render_as_string(hide_password=False)))
    try:
        yield database
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _raw_rows(db: Database) -> dict[str, list[tuple]]:
    """Every table's rows as Python values, in key order: equal dumps mean equal databases."""
    with db.engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
            for table in Base.metadata.sorted_tables
        }


def _repository_views(db: Database, department_id: int, assessment_id: int) -> dict:
    """What the pages see, through the same reads they use."""
    return {
        "departments": department_store.list_departments(db),
        "plan": plan_store.get_plan(db, department_id, 2026),
        "activities": plan_store.list_activities(db, department_id, 2026),
        "criteria_sets": criteria_store.list_criteria_sets(db),
        "assessment": assessment_state.get_assessment(db, department_id, 2026),
        "scores": assessment_store.list_scores(db, assessment_id),
        "evidence": evidence_store.list_evidence(db, department_id, 2026),
        "audit": audit_trail.audit_log(db, department_id, limit=10_000, viewer=actors.SYSTEM_ACTOR),
    }


def _stored_files(db: Database) -> dict[str, bytes]:
    store = EvidenceStore(db.settings.evidence_dir)
    return {key: store.open_bytes(key) for key in store.iter_keys()}


def _backup_bytes(db: Database) -> bytes:
    buffer = io.BytesIO()
    create_backup(db, buffer, actor=actors.SYSTEM_ACTOR)
    return buffer.getvalue()


# ---------------------------------------------------------------- round trips


def test_restore_brings_back_every_row_and_every_file(db, workspace, empty_target, tmp_path):
    archive = tmp_path / "sao-luu.zip"
    made = create_backup(db, archive, actor=actors.SYSTEM_ACTOR)
    restored = restore_backup(empty_target, archive, actor=actors.SYSTEM_ACTOR)

    assert _raw_rows(empty_target) == _raw_rows(db)
    ids = (workspace["department_id"], workspace["assessment_id"])
    assert _repository_views(empty_target, *ids) == _repository_views(db, *ids)
    mapping = confirmed_mapping(empty_target, *workspace["criteria_sets"])
    assert mapping == confirmed_mapping(db, *workspace["criteria_sets"]) and mapping.confirmed_by == "quản trị"
    assert mapping.mapping.targets("1.3") == ("1.4",)
    files = _stored_files(db)
    assert len(files) == 3  # the plan PDF, the photo and the orphaned draft
    assert _stored_files(empty_target) == files
    assert evidence_store.evidence_file(empty_target, workspace["plan_document_id"], viewer=actors.SYSTEM_ACTOR) == ("Kế hoạch CCHC 2026.pdf", "application/pdf", PLAN_PDF)

    assert restored == made
    letterhead = department_store.list_departments(empty_target)[0]
    assert (letterhead.governing_body, letterhead.place) == ("UBND TỈNH QUẢNG NINH", "Quảng Ninh")
    assert made.row_counts == {name: len(rows) for name, rows in _raw_rows(db).items()}
    assert (made.row_counts["activity"], made.row_counts["score"], made.row_counts["evidence_criterion"]) == (22, 3, 4)
    assert made.evidence_files == 3 and made.evidence_bytes == sum(len(content) for content in files.values())
    assert made.skipped_evidence == ()


def test_a_published_index_comes_back_as_recorded(db, empty_target, monkeypatch):
    """The record publication stored (cycle_store.published_record) is data: it comes back as it was, and the
    restored ranking reads it; a year published before the record existed comes back without one."""
    from tests.test_cycle_store import CYCLE_SET
    from tests.test_ranking import _published

    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    ids = [department_store.create_department(db, name, ["Văn phòng"], actor=actors.SYSTEM_ACTOR) for name in ("Sở A", "Sở B")]
    _published(db, ids[0], set_id, 2026, 4, 2)
    _published(db, ids[1], set_id, 2026, 4, 3)
    older = assessment_state.get_assessment(db, ids[1], 2026).id
    with db.session() as session:  # Sở B published before migration 0014
        session.execute(update(Assessment).where(Assessment.id == older).values(published_index=None))
    restore_backup(empty_target, io.BytesIO(_backup_bytes(db)), actor=actors.SYSTEM_ACTOR)
    assert _raw_rows(empty_target) == _raw_rows(db)
    with empty_target.session() as session:
        records = dict(session.execute(select(Assessment.department_id, Assessment.published_index)).all())
    assert records[ids[0]]["percent"] == "84.00" and records[ids[0]]["recorded"] == cycle_store.AT_PUBLICATION
    assert records[ids[1]] is None
    index_of = cycle_store.index_of_year
    computed = []
    monkeypatch.setattr(cycle_store, "index_of_year", lambda *a: computed.append(a[0].department_id) or index_of(*a))
    restored = cycle_store.published_indexes(empty_target, ids, 2026)
    assert computed == [ids[1]]  # the record read as restored; only the year without one is computed (and recorded)
    assert {d: (i.percent, i.areas, i.filled_later) for d, i in restored.items()} == {
        d: (i.percent, i.areas, d == ids[1]) for d, i in cycle_store.published_indexes(db, ids, 2026).items()}


def test_archive_layout_and_manifest(db, workspace):
    with zipfile.ZipFile(io.BytesIO(_backup_bytes(db))) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        database = json.loads(archive.read("database.json"))
        files = {name: archive.read(name) for name in names if name.startswith("evidence/")}
    assert names == {"manifest.json", "database.json"} | {f"evidence/{key}" for key in _stored_files(db)}
    assert manifest["format"] == "cchc-backup" and manifest["format_version"] == 1
    assert manifest["schema_revision"] == HEAD and manifest["source_dialect"] == db.engine.dialect.name
    assert manifest["tables"] == {name: len(rows) for name, rows in _raw_rows(db).items()}
    assert manifest["evidence"] == {
        name.removeprefix("evidence/"): {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
        for name, content in files.items()
    }
    # plain JSON that means the same on every database: ISO dates, decimals as strings, JSON columns as JSON
    scores = database["tables"]["score"]
    by_code = {row[scores["columns"].index("code")]: dict(zip(scores["columns"], row)) for row in scores["rows"]}
    assert (by_code["1.1"]["self_points"], by_code["1.1"]["appraised_points"]) == ("1.00", "0.75")
    assert by_code["1.2"]["inputs"] == {"value": "1,75"} and by_code["1.3"]["self_points"] is None
    assert by_code["1.1"]["updated_at"].startswith("20") and "T" in by_code["1.1"]["updated_at"]
    activity = database["tables"]["activity"]
    i5 = next(dict(zip(activity["columns"], row)) for row in activity["rows"] if row[activity["columns"].index("code")] == "I.5")
    assert (i5["completed_on"], i5["conditional"], i5["lead"]) == ("2026-01-15", False, ["Văn phòng"])


def test_restoring_twice_replaces_everything_the_same_way(db, workspace, empty_target):
    # the target already holds other work: a restore replaces it, it does not merge
    other = department_store.create_department(empty_target, "Sở Xây dựng", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(empty_target, other, load_plan(SEED))
    archive = _backup_bytes(db)
    restore_backup(empty_target, io.BytesIO(archive), actor=actors.SYSTEM_ACTOR)
    first = _raw_rows(empty_target)
    restore_backup(empty_target, io.BytesIO(archive), actor=actors.SYSTEM_ACTOR)
    assert _raw_rows(empty_target) == first == _raw_rows(db)
    assert [d.name for d in department_store.list_departments(empty_target)] == ["Sở Dân tộc và Tôn giáo"]


def test_new_rows_after_a_restore_get_fresh_ids(db, workspace, empty_target):
    restore_backup(empty_target, io.BytesIO(_backup_bytes(db)), actor=actors.SYSTEM_ACTOR)
    restored = _raw_rows(empty_target)
    department_id = department_store.create_department(empty_target, "Sở Xây dựng", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    assert department_id == max(row[0] for row in restored["department"]) + 1
    document = evidence_store.add_evidence(empty_target, workspace["department_id"], 2026, evidence_store.EvidenceInput(number="07/TB-SDTTG"),
                                 actor="vp1", attachment=evidence_store.ATTACH_NUMBER, criteria=["1.2"])
    assert document.id == max(row[0] for row in restored["evidence"]) + 1
    appraised = assessment_store.list_scores(empty_target, workspace["assessment_id"])["1.2"]
    assessment_store.save_appraisal(empty_target, workspace["assessment_id"], "1.2", appraised.version, points="1,5", actor="Sở Nội vụ",
                        source=PROVINCE_RESULT, today=ROUND_1_DAY)
    assert len(_raw_rows(empty_target)["audit_log"]) > len(restored["audit_log"])


def test_backup_and_restore_through_streams(db, workspace, empty_target):
    class Unseekable(io.RawIOBase):  # e.g. a pipe: zipfile needs to seek, so restore copies it first
        def __init__(self, content: bytes):
            self._inner = io.BytesIO(content)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer) -> int:
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    restore_backup(empty_target, Unseekable(_backup_bytes(db)), actor=actors.SYSTEM_ACTOR)
    assert _raw_rows(empty_target) == _raw_rows(db)
    assert _stored_files(empty_target) == _stored_files(db)


def test_backup_is_one_consistent_snapshot(db, workspace):
    """A write committed while the backup is reading must not show up in some tables and not in others."""
    fired = []

    def write_in_between(_conn, _cursor, statement, *_):
        # department is read after audit_log: creating one now adds rows to a table read and one not yet read
        if not fired and "FROM department" in statement:
            fired.append(True)  # before the write: its own statements pass through this hook too
            department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor="người khác")

    event.listen(db.engine, "before_cursor_execute", write_in_between)
    try:
        archive = _backup_bytes(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", write_in_between)
    assert fired, "the concurrent write did not happen"
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        tables = json.loads(opened.read("database.json"))["tables"]
    names = [row[tables["department"]["columns"].index("name")] for row in tables["department"]["rows"]]
    actors = {row[tables["audit_log"]["columns"].index("actor")] for row in tables["audit_log"]["rows"]}
    assert names == ["Sở Dân tộc và Tôn giáo"] and "người khác" not in actors
    assert len(department_store.list_departments(db)) == 2  # the write itself did happen


def test_missing_and_damaged_store_files_are_reported_not_fatal(db, workspace, empty_target):
    store = EvidenceStore(db.settings.evidence_dir)
    documents = {e.file_name: e for e in evidence_store.list_evidence(db, workspace["department_id"], 2026)}
    plan_key, photo_key = documents["Kế hoạch CCHC 2026.pdf"].file_key, documents["ảnh hội nghị.png"].file_key
    store.path_for(plan_key).unlink()
    store.path_for(photo_key).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(len(PHOTO_PNG) - 8))  # bit rot, same size

    buffer = io.BytesIO()
    summary = create_backup(db, buffer, actor=actors.SYSTEM_ACTOR)
    assert summary.skipped_evidence == tuple(sorted([plan_key, photo_key]))
    assert summary.evidence_files == 1  # only the orphaned draft is intact
    assert any(line.startswith("Cảnh báo: 2 tệp kiểm chứng") for line in summary.lines())

    restored = restore_backup(empty_target, io.BytesIO(buffer.getvalue()), actor=actors.SYSTEM_ACTOR)
    assert restored.skipped_evidence == summary.skipped_evidence
    assert _raw_rows(empty_target) == _raw_rows(db)  # the records keep pointing at their files
    assert set(_stored_files(empty_target)) == set(_stored_files(db)) - {plan_key, photo_key}


def test_restore_repairs_a_damaged_copy_already_in_the_store(db, workspace, empty_target):
    archive = _backup_bytes(db)
    key = evidence_store.list_evidence(db, workspace["department_id"], 2026)[0].file_key
    damaged = EvidenceStore(empty_target.settings.evidence_dir)
    damaged.path_for(key).parent.mkdir(parents=True)
    damaged.path_for(key).write_bytes(b"%PDF-" + bytes(len(PLAN_PDF) - 5))
    restore_backup(empty_target, io.BytesIO(archive), actor=actors.SYSTEM_ACTOR)
    assert damaged.open_bytes(key) == PLAN_PDF


def test_a_failed_backup_leaves_no_partial_file_and_keeps_the_old_one(db, workspace, tmp_path, monkeypatch):
    out = tmp_path / "sao-luu.zip"
    create_backup(db, out, actor=actors.SYSTEM_ACTOR)
    previous = out.read_bytes()

    def disk_error(self, key):
        raise OSError("đĩa hỏng")

    monkeypatch.setattr(EvidenceStore, "open_bytes", disk_error)
    with pytest.raises(OSError):
        create_backup(db, out, actor=actors.SYSTEM_ACTOR)
    assert out.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


# ---------------------------------------------------------------- refusals


def _members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _edit_manifest(members: dict[str, bytes], change) -> None:
    manifest = json.loads(members["manifest.json"])
    change(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()


def _edit_table(members: dict[str, bytes], table: str, change) -> None:
    """Change database.json's rows of one table and re-sign it, as someone editing the backup would."""
    database = json.loads(members["database.json"])
    columns = database["tables"][table]["columns"]
    rows = [dict(zip(columns, row)) for row in database["tables"][table]["rows"]]
    change(rows)
    database["tables"][table]["rows"] = [[row[name] for name in columns] for row in rows]
    members["database.json"] = json.dumps(database).encode()
    _edit_manifest(members, lambda manifest: manifest.update(
        database_sha256=hashlib.sha256(members["database.json"]).hexdigest(),
        tables={**manifest["tables"], table: len(rows)}))


def _pdf_member(members: dict[str, bytes]) -> str:
    return next(name for name in members if name.endswith(".pdf") and members[name] == PLAN_PDF)


def _tamper_file(members):
    name = _pdf_member(members)
    members[name] = members[name].replace(b"15/KH", b"16/KH")


def _tamper_file_and_manifest(members):
    name = _pdf_member(members)
    members[name] = members[name].replace(b"15/KH", b"16/KH")
    key = name.removeprefix("evidence/")
    _edit_manifest(members, lambda manifest: manifest["evidence"][key].update(sha256=hashlib.sha256(members[name]).hexdigest()))


def _drop_referenced_file(members):
    name = _pdf_member(members)
    del members[name]
    _edit_manifest(members, lambda manifest: manifest["evidence"].pop(name.removeprefix("evidence/")))


def _executable_as_pdf(members):
    program = b"MZ\x90\x00" + bytes(200)
    digest = hashlib.sha256(program).hexdigest()
    key = f"{digest[:2]}/{digest}.pdf"
    members[f"evidence/{key}"] = program
    _edit_manifest(members, lambda manifest: manifest["evidence"].update({key: {"sha256": digest, "size": len(program)}}))


def _set_issued_on(value):
    def change(rows):
        rows[0]["issued_on"] = value
    return lambda members: _edit_table(members, "evidence", change)


def _link_to_missing_activity(members):
    # Well-formed values, so it gets past every check and fails inside the transaction, in the last table
    # inserted, after every other table has been emptied and refilled.
    _edit_table(members, "evidence_activity", lambda rows: rows.append({"evidence_id": rows[0]["evidence_id"], "activity_id": 999_999}))


PASSWD = "../../../../etc/passwd"


def _record_points_outside_the_store(members):
    """A record whose file key is a path, listed as a file the backup could not hold: both would be restored."""
    _edit_table(members, "evidence", lambda rows: rows[0].update(file_key=PASSWD))
    _edit_manifest(members, lambda manifest: manifest["skipped_evidence"].append(PASSWD))


def _path_in_the_manifest_s_files(members):
    _edit_manifest(members, lambda manifest: manifest["evidence"].update({"ab/../../x.pdf": {"sha256": "ab" * 32, "size": 1}}))


REFUSALS = {
    "path as a skipped file key": (lambda members: _edit_manifest(members, lambda m: m["skipped_evidence"].append(PASSWD)),
                                   f"mục «skipped_evidence» của manifest.json có mã tệp kiểm chứng «{PASSWD}» không hợp lệ"),
    "record pointing outside the store": (_record_points_outside_the_store, f"«{PASSWD}» không hợp lệ"),
    "record with a path only": (lambda members: _edit_table(members, "evidence", lambda rows: rows[0].update(file_key=PASSWD)),
                                f"tài liệu kiểm chứng số 1 trong database.json có mã tệp kiểm chứng «{PASSWD}» không hợp lệ"),
    "path among the manifest's files": (_path_in_the_manifest_s_files, "mục «evidence» của manifest.json có mã tệp kiểm chứng «ab/../../x.pdf»"),
    "not a zip": (lambda members: None, "không phải tệp .zip"),
    "no manifest": (lambda members: members.pop("manifest.json"), "thiếu manifest.json"),
    "no database": (lambda members: members.pop("database.json"), "thiếu database.json"),
    "foreign manifest": (lambda members: members.update({"manifest.json": b'{"name": "something else"}'}), "không phải của bản sao lưu"),
    "newer format": (lambda members: _edit_manifest(members, lambda m: m.update(format_version=2)), "định dạng phiên bản «2»"),
    "newer schema": (lambda members: _edit_manifest(members, lambda m: m.update(schema_revision="0099")), "phiên bản ứng dụng mới hơn"),
    "parent folder member": (lambda members: members.update({"../../x": b"owned"}), "thành phần lạ «../../x»"),
    "absolute member": (lambda members: members.update({"/tmp/x.pdf": PLAN_PDF}), "thành phần lạ «/tmp/x.pdf»"),
    "member escaping evidence/": (lambda members: members.update({"evidence/../../x.pdf": PLAN_PDF}), "thành phần lạ «evidence/../../x.pdf»"),
    "tampered evidence file": (_tamper_file, "không khớp mã băm SHA-256"),
    "tampered file and manifest": (_tamper_file_and_manifest, "không khớp mã băm SHA-256"),
    "referenced file missing": (_drop_referenced_file, "bản sao lưu không có tệp này"),
    "executable named .pdf": (_executable_as_pdf, "không phải tệp .pdf"),
    "edited database.json": (lambda members: members.update({"database.json": members["database.json"].replace(b"vp1", b"vp9")}),
                             "database.json không khớp mã băm"),
    "malformed date": (_set_issued_on("18/12/2025"), "bảng «evidence», dòng 1, cột «issued_on»"),
    "number as a date": (_set_issued_on(20251218), "bảng «evidence», dòng 1, cột «issued_on»"),
    "row count mismatch": (lambda members: _edit_manifest(members, lambda m: m["tables"].update(score=7)), "số dòng của bảng «score»"),
    "link to a missing activity": (_link_to_missing_activity, "bảng «evidence_activity» vi phạm ràng buộc"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_backup_is_refused_and_changes_nothing(db, workspace, tmp_path, case):
    change, expected = REFUSALS[case]
    if case == "not a zip":
        archive = PLAN_PDF
    else:
        members = _members(_backup_bytes(db))
        change(members)
        archive = _zip(members)
    source = tmp_path / "hong.zip"
    source.write_bytes(archive)
    rows_before, files_before = _raw_rows(db), _stored_files(db)
    store_listing = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    with pytest.raises(InputError) as refused:
        restore_backup(db, source, actor=actors.SYSTEM_ACTOR)
    message = str(refused.value)
    assert expected in message and message.startswith("Không khôi phục được từ «hong.zip»")
    assert message.endswith("Dữ liệu hiện có chưa bị thay đổi.")
    assert _raw_rows(db) == rows_before
    assert _stored_files(db) == files_before
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.name not in ("cchc.db-wal", "cchc.db-shm")) \
        == [p for p in store_listing if p.name not in ("cchc.db-wal", "cchc.db-shm")]


@pytest.mark.parametrize("failure", ["constraint", "disk"])
def test_a_refused_restore_leaves_none_of_its_files_and_the_store_s_own_as_they_were(db, workspace, empty_target, monkeypatch,
                                                                                     failure):
    """Files are put before the rows' transaction; when that fails, what was put goes, what was there stays."""
    members = _members(_backup_bytes(db))
    if failure == "constraint":  # fails inside the transaction, after every file is in place
        _link_to_missing_activity(members)
    archive = _zip(members)
    store = EvidenceStore(empty_target.settings.evidence_dir)
    own = store.put(check_upload("của máy này.png", PHOTO_PNG), PHOTO_PNG)  # also in the archive: must stay
    damaged_key = evidence_store.list_evidence(db, workspace["department_id"], 2026)[0].file_key
    damaged = b"%PDF-" + bytes(len(PLAN_PDF) - 5)  # a damaged copy of an archive file: put back as it was
    store.path_for(damaged_key).parent.mkdir(parents=True, exist_ok=True)
    store.path_for(damaged_key).write_bytes(damaged)
    listing_before = sorted(p.relative_to(store.root) for p in store.root.rglob("*"))
    rows_before = _raw_rows(empty_target)
    if failure == "disk":  # the disk fills up while the last file is written
        real_put, calls = EvidenceStore.put, []

        def put(self, checked, content):
            calls.append(checked.sha256)
            if len(calls) == 2:
                raise OSError(28, "No space left on device")
            return real_put(self, checked, content)

        monkeypatch.setattr(EvidenceStore, "put", put)

    with pytest.raises((InputError, OSError)):
        restore_backup(empty_target, io.BytesIO(archive), actor=actors.SYSTEM_ACTOR)
    assert sorted(p.relative_to(store.root) for p in store.root.rglob("*")) == listing_before
    assert store.open_bytes(own) == PHOTO_PNG and store.path_for(damaged_key).read_bytes() == damaged
    assert _raw_rows(empty_target) == rows_before


def test_a_record_s_file_key_is_never_restored_unless_the_store_accepts_it(db, workspace, empty_target):
    """The Tài liệu page opens every restored record's file: a path restored as a key would break it (or worse)."""
    members = _members(_backup_bytes(db))
    _record_points_outside_the_store(members)
    with pytest.raises(InputError, match="không hợp lệ"):
        restore_backup(empty_target, io.BytesIO(_zip(members)), actor=actors.SYSTEM_ACTOR)
    assert department_store.list_departments(empty_target) == [] and _stored_files(empty_target) == {}


def test_a_backup_file_is_readable_by_its_owner_only(db, workspace, tmp_path):
    out = tmp_path / "sao-luu.zip"
    create_backup(db, out, actor=actors.SYSTEM_ACTOR)
    assert out.stat().st_mode & 0o777 == 0o600


def test_restored_evidence_files_and_folders_are_not_readable_by_others(db, workspace, empty_target):
    restore_backup(empty_target, io.BytesIO(_backup_bytes(db)), actor=actors.SYSTEM_ACTOR)
    root = EvidenceStore(empty_target.settings.evidence_dir).root
    assert root.stat().st_mode & 0o077 == 0
    for path in root.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, path


@pytest.mark.parametrize("cap", ["MAX_EVIDENCE_FILE_BYTES", "MAX_DATABASE_BYTES", "MAX_TOTAL_BYTES"])
def test_members_larger_than_the_caps_are_refused_before_reading(db, workspace, monkeypatch, cap):
    archive = _backup_bytes(db)
    rows_before = _raw_rows(db)
    for module in (backup_format, restore):  # the caps are read where the archive is checked
        if hasattr(module, cap):
            monkeypatch.setattr(module, cap, len(PLAN_PDF) - 1)
    with pytest.raises(InputError, match="lớn bất thường"):
        restore_backup(db, io.BytesIO(archive), actor=actors.SYSTEM_ACTOR)
    assert _raw_rows(db) == rows_before


def test_a_real_zip_bomb_is_refused_by_its_declared_size(sqlite_db, tmp_path):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", b"{}")
        with archive.open("database.json", "w", force_zip64=True) as member:
            zeros = bytes(16 * 1024 * 1024)
            for _ in range(backup_format.MAX_DATABASE_BYTES // len(zeros) + 1):
                member.write(zeros)
    assert len(bomb.getvalue()) < 2 * 1024 * 1024
    with pytest.raises(InputError, match="«database.json» khi giải nén lớn bất thường"):
        restore_backup(sqlite_db, io.BytesIO(bomb.getvalue()), actor=actors.SYSTEM_ACTOR)


def test_missing_backup_file_is_named(sqlite_db, tmp_path):
    with pytest.raises(InputError, match="Không tìm thấy tệp sao lưu"):
        restore_backup(sqlite_db, tmp_path / "khong-co.zip", actor=actors.SYSTEM_ACTOR)


# ---------------------------------------------------------------- schema revisions

HEAD = ScriptDirectory.from_config(scoring.store.db.alembic_config()).get_current_head()  # this version's schema
LATER = "9999_mark_activities"  # a later version's migration, made up by the test below
MARKER = "đã qua di chuyển dữ liệu"


def _migrations_with_a_data_migration(folder: Path) -> Path:
    """A copy of the real migrations plus one more that rewrites data, as future migrations will."""
    copy = folder / "migrations"
    shutil.copytree(scoring.store.db.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / f"{LATER}.py").write_text(
        '"""test-only data migration: marks every activity, so a test sees it ran on restored rows."""\n'
        "from alembic import op\n"
        f"revision = '{LATER}'\ndown_revision = '{HEAD}'\nbranch_labels = None\ndepends_on = None\n\n"
        f"def upgrade() -> None:\n    op.execute(\"UPDATE activity SET updated_by = '{MARKER}'\")\n\n"
        "def downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )
    return copy


def _sqlite(folder: Path) -> Database:
    return Database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))


def test_backup_from_an_older_schema_is_migrated_on_restore(sqlite_db, tmp_path, monkeypatch):
    _build_workspace(sqlite_db)
    old_backup = _backup_bytes(sqlite_db)  # taken at this version's revision
    monkeypatch.setattr(scoring.store.db, "MIGRATIONS", _migrations_with_a_data_migration(tmp_path))
    newer = _sqlite(tmp_path / "moi")  # this "later version" of the app is one migration ahead
    try:
        summary = restore_backup(newer, io.BytesIO(old_backup), actor=actors.SYSTEM_ACTOR)
        assert summary.schema_revision == HEAD
        restored, original = _raw_rows(newer), _raw_rows(sqlite_db)
        assert {name: rows for name, rows in restored.items() if name != "activity"} == \
               {name: rows for name, rows in original.items() if name != "activity"}
        updated_by = [column.name for column in Base.metadata.tables["activity"].columns].index("updated_by")
        assert len(restored["activity"]) == 22 and {row[updated_by] for row in restored["activity"]} == {MARKER}
        newer_backup = _backup_bytes(newer)
    finally:
        newer.dispose()

    monkeypatch.setattr(scoring.store.db, "MIGRATIONS", Path(scoring.store.db.__file__).resolve().parent / "migrations")
    older = _sqlite(tmp_path / "cu")  # back at this version, a backup from the later one cannot be read
    try:
        with pytest.raises(InputError, match=f"mới hơn \\(lược đồ dữ liệu «{LATER}», phiên bản này đang ở lược đồ «{HEAD}»\\)"):
            restore_backup(older, io.BytesIO(newer_backup), actor=actors.SYSTEM_ACTOR)
        assert all(not rows for rows in _raw_rows(older).values())
    finally:
        older.dispose()


# ---------------------------------------------------------------- command line


@pytest.fixture
def run_cli(monkeypatch):
    """`python -m scoring` with the backup commands registered, run in-process through scoring.cli.main."""
    def parser_with_backup_commands():
        parser = cli.VietnameseParser(prog="python -m scoring")
        commands = parser.add_subparsers(dest="command", required=True, parser_class=cli.VietnameseParser)
        backup.add_backup_commands(commands)
        return parser

    monkeypatch.setattr(cli, "build_parser", parser_with_backup_commands)

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(argv), out, err)
        return code, out.getvalue(), err.getvalue()

    return run


def _use_database(monkeypatch, settings: Settings) -> None:
    monkeypatch.setenv("CCHC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)


def test_cli_backup_then_restore(db, workspace, tmp_path, monkeypatch, run_cli):
    _use_database(monkeypatch, db.settings)
    archive = tmp_path / "sao-luu-2026.zip"
    code, out, err = run_cli("backup", str(archive))
    assert (code, err) == (0, "")
    assert out.startswith(f"Đã sao lưu vào «{archive}» lúc ") and f"lược đồ dữ liệu {HEAD}:" in out
    assert "  Hoạt động: 22 dòng\n" in out and "  Tệp kiểm chứng: 3 tệp (" in out

    department_store.create_department(db, "Sở Xây dựng", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)  # work done after the backup
    changed = _raw_rows(db)
    code, out, err = run_cli("restore", str(archive))
    assert code == 2 and out == ""
    assert err.startswith("Lỗi: Cơ sở dữ liệu đích đang có dữ liệu (Cơ quan: 2, ")
    assert err.rstrip().endswith("hãy chạy lại lệnh với --yes.")
    assert _raw_rows(db) == changed

    code, out, err = run_cli("restore", str(archive), "--yes")
    assert (code, err) == (0, "")
    assert out.startswith(f"Đã khôi phục từ «{archive}» (bản sao lưu lúc ") and "  Cơ quan: 1 dòng\n" in out
    assert [d.name for d in department_store.list_departments(db)] == ["Sở Dân tộc và Tôn giáo"]


def test_cli_restore_into_an_empty_database_needs_no_confirmation(db, workspace, tmp_path, monkeypatch, run_cli):
    archive = tmp_path / "sao-luu.zip"
    create_backup(db, archive, actor=actors.SYSTEM_ACTOR)
    fresh = tmp_path / "may-moi"
    monkeypatch.setenv("CCHC_DATA_DIR", str(fresh))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code, out, err = run_cli("restore", str(archive))
    assert (code, err) == (0, "")
    restored = _sqlite(fresh)
    try:
        assert _raw_rows(restored) == _raw_rows(db)
        assert _stored_files(restored) == _stored_files(db)
    finally:
        restored.dispose()


def test_cli_backup_needs_a_file_name_not_a_folder(sqlite_db, tmp_path, monkeypatch, run_cli):
    _use_database(monkeypatch, sqlite_db.settings)
    code, out, err = run_cli("backup", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"Lỗi: «{tmp_path}» là thư mục; hãy ghi tên tệp sao lưu, ví dụ «{tmp_path / 'sao-luu.zip'}».\n"


def test_cli_refuses_a_bad_backup_with_exit_code_2(sqlite_db, tmp_path, monkeypatch, run_cli):
    _use_database(monkeypatch, sqlite_db.settings)
    not_a_backup = tmp_path / "bao-cao.zip"
    not_a_backup.write_bytes(_zip({"bao-cao.docx": b"PK"}))
    code, out, err = run_cli("restore", str(not_a_backup), "--yes")
    assert (code, out) == (2, "")
    assert err == ("Lỗi: Không khôi phục được từ «bao-cao.zip»: tệp chứa thành phần lạ «bao-cao.docx» (bản sao lưu chỉ có "
                   "manifest.json, database.json và thư mục evidence/); có thể tệp đã bị sửa. Dữ liệu hiện có chưa bị thay đổi.\n")


def test_summary_lines_are_vietnamese_and_ordered():
    summary = BackupSummary(created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), schema_revision="0001",
                            row_counts={"audit_log": 1234, "department": 1}, evidence_files=2, evidence_bytes=3 * 1024 * 1024 // 2)
    assert summary.lines() == ["  Cơ quan: 1 dòng", "  Nhật ký thay đổi: 1.234 dòng", "  Tệp kiểm chứng: 2 tệp (1,5 MB)"]
