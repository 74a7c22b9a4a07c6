"""Storage on SQLite and on a real PostgreSQL: plans, activities, scores, evidence, audit, stale writes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from scoring.criteria.files import content_digest, load_criteria_set
from scoring.errors import ConflictError, InputError
from scoring.plan.importer import load_plan, load_plan_bytes
from scoring.plan.stats import STATUS_DONE, STATUS_IN_PROGRESS
from scoring.store import (
    actors,
    assessment_store,
    audit_trail,
    criteria_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.db import Database, Settings
from scoring.store.models import ScoreRecord

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "ke-hoach-cchc-2026.txt"

SMALL_SET = ROOT / "tests" / "fixtures" / "criteria" / "bo-tieu-chi-nho-4-diem.json"  # 1.1 tiers, 1.2 value, 1.3 count


@pytest.fixture
def workspace(db):
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng CSĐT", "Phòng Tôn giáo"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(db, department_id, load_plan(SEED), actor="vp1")
    set_id = criteria_store.save_criteria_set(db, load_criteria_set(SMALL_SET), actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department_id, 2026, set_id)
    return db, department_id, assessment.id


def test_schema_is_created_by_migrations(db):
    assert {"department", "plan", "activity", "assessment", "score", "evidence", "audit_log", "alembic_version"} <= set(db.table_names())


def test_plan_round_trips_through_the_database(workspace):
    db, department_id, _ = workspace
    activities = plan_store.list_activities(db, department_id, 2026)
    assert [a.code for a in activities] == [a.id for a in load_plan(SEED).activities]
    first = activities[0]
    assert (first.deadline, first.due, first.lead) == ("Tháng 1 - 2", date(2026, 2, 28), ["Văn phòng"])
    plan = plan_store.get_plan(db, department_id, 2026)
    assert [a["code"] for a in plan.areas] == ["I", "II", "III", "IV", "V", "VI", "VII"]
    assert department_store.list_years(db, department_id) == [2026]


def test_activity_progress_is_saved_audited_and_guarded(workspace):
    db, department_id, _ = workspace
    first = plan_store.list_activities(db, department_id, 2026)[0]
    saved = plan_store.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_DONE, completed_on=date(2026, 2, 20))
    assert (saved.status, saved.progress, saved.completed_on) == (STATUS_DONE, 100, date(2026, 2, 20))
    assert saved.version == first.version + 1
    with pytest.raises(ConflictError, match="vừa được sửa bởi vp1"):
        plan_store.update_activity(db, first.id, first.version, actor="vp2", status=STATUS_IN_PROGRESS)
    assert plan_store.list_activities(db, department_id, 2026)[0].status == STATUS_DONE  # the stale write changed nothing
    log = audit_trail.audit_log(db, department_id, entity_key="2026/I.1", viewer=actors.SYSTEM_ACTOR)
    assert {(e.field, e.old, e.new, e.actor) for e in log} >= {
        ("trạng thái", "Chưa bắt đầu", "Hoàn thành", "vp1"), ("tiến độ", "0", "100", "vp1"), ("ngày hoàn thành", "—", "20/02/2026", "vp1"),
    }


def test_merge_keeps_old_activities_and_replace_keeps_progress_by_code(workspace):
    db, department_id, _ = workspace
    first = plan_store.list_activities(db, department_id, 2026)[0]
    plan_store.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_IN_PROGRESS, progress=40)
    small = load_plan_bytes("bo-sung.tsv", "\n".join([
        "KẾ HOẠCH CCHC NĂM 2026",
        "TT\tMục tiêu\tNhiệm vụ\tHoạt động\tKết quả\tChủ trì\tPhối hợp\tThời gian",
        "I\tCHỈ ĐẠO, ĐIỀU HÀNH",
        "1\tMục tiêu 01: Tuyên truyền\tNhiệm vụ 1: Kế hoạch\tHoạt động 01: Ban hành Kế hoạch tuyên truyền (sửa)\tKế hoạch\tVăn phòng\t\tQuý I",
        "\t\t\tHoạt động 06: Hoạt động bổ sung\tBáo cáo\tVăn phòng\t\tQuý IV",
    ]).encode())
    merged = plan_store.save_plan(db, department_id, small, mode="merge", actor="vp1")
    assert merged.added == ["I.6"] and merged.updated == ["I.1"] and len(merged.kept) == 21
    activities = {a.code: a for a in plan_store.list_activities(db, department_id, 2026)}
    assert len(activities) == 23
    assert activities["I.1"].text.endswith("(sửa)") and activities["I.1"].progress == 40

    replaced = plan_store.save_plan(db, department_id, small, mode="replace", actor="vp1")
    assert sorted(replaced.removed) == sorted(set(activities) - {"I.1", "I.6"})
    activities = {a.code: a for a in plan_store.list_activities(db, department_id, 2026)}
    assert set(activities) == {"I.1", "I.6"} and activities["I.1"].status == STATUS_IN_PROGRESS


def test_self_score_comes_from_the_rule_and_is_audited(workspace):
    db, department_id, assessment_id = workspace
    view, result = assessment_store.save_self_score(db, assessment_id, "1.1", 0, inputs={"tier": 1}, explanation="Ban hành ngày 25/12", actor="vp1")
    assert view.self_points == Decimal("0.5") and view.version == 1
    assert "0,5" in result.explanation
    view, _ = assessment_store.save_self_score(db, assessment_id, "1.1", 1, inputs={"tier": 0}, actor="vp2")
    assert view.self_points == Decimal("1") and view.version == 2
    changes = [(e.field, e.old, e.new, e.actor) for e in audit_trail.audit_log(db, department_id, entity_key="2026/1.1", viewer=actors.SYSTEM_ACTOR) if e.field == "điểm tự chấm"]
    assert changes == [("điểm tự chấm", "0,5", "1", "vp2"), ("điểm tự chấm", "—", "0,5", "vp1")]


def test_two_people_scoring_the_same_criterion_never_overwrite_silently(workspace):
    db, _, assessment_id = workspace
    assessment_store.save_self_score(db, assessment_id, "1.2", 0, inputs={"value": "1,5"}, actor="an")
    # both opened the page at version 1; "bình" saves first, "chi" is told and changes nothing
    assessment_store.save_self_score(db, assessment_id, "1.2", 1, inputs={"value": "1,75"}, actor="bình")
    with pytest.raises(ConflictError):
        assessment_store.save_self_score(db, assessment_id, "1.2", 1, inputs={"value": "0,25"}, actor="chi")
    # two people creating the first score of a criterion: the second one is told too
    assessment_store.save_self_score(db, assessment_id, "1.3", 0, inputs={"count": 2}, actor="an")
    with pytest.raises(ConflictError):
        assessment_store.save_self_score(db, assessment_id, "1.3", 0, inputs={"count": 4}, actor="bình")
    scores = assessment_store.list_scores(db, assessment_id)
    assert scores["1.2"].self_points == Decimal("1.75") and scores["1.3"].self_points == Decimal("0.5")


def test_lost_update_is_caught_even_between_read_and_write(workspace):
    """Two sessions load the same row; the database-level version check stops the second commit."""
    db, _, assessment_id = workspace
    assessment_store.save_self_score(db, assessment_id, "1.2", 0, inputs={"value": 1}, actor="an")
    with pytest.raises(ConflictError):
        with db.session() as first, db.session() as second:
            row_a = first.scalar(select(ScoreRecord).where(ScoreRecord.code == "1.2"))
            row_b = second.scalar(select(ScoreRecord).where(ScoreRecord.code == "1.2"))
            row_a.self_points = Decimal("2")
            first.commit()
            row_b.self_points = Decimal("0")
            second.flush()
    assert assessment_store.list_scores(db, assessment_id)["1.2"].self_points == Decimal("2")


def test_bad_score_input_is_refused_and_changes_nothing(workspace):
    db, _, assessment_id = workspace
    assessment_store.save_self_score(db, assessment_id, "1.2", 0, inputs={"value": 1}, actor="an")
    with pytest.raises(InputError, match="Tiêu chí 1.2"):
        assessment_store.save_self_score(db, assessment_id, "1.2", 1, inputs={"value": "7"}, actor="an")
    with pytest.raises(InputError, match="không có trong bộ tiêu chí"):
        assessment_store.save_self_score(db, assessment_id, "9.9", 0, inputs={}, actor="an")
    assert assessment_store.list_scores(db, assessment_id)["1.2"].self_points == Decimal("1")


def test_not_applicable_leaves_points_out(workspace):
    db, _, assessment_id = workspace
    view, _ = assessment_store.save_self_score(db, assessment_id, "1.3", 0, inputs={}, not_applicable=True, actor="an")
    assert view.not_applicable and view.self_points is None


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_evidence_is_stored_by_hash_linked_and_audited(workspace):
    db, department_id, _ = workspace
    meta = evidence_store.EvidenceInput(doc_type="Kế hoạch", number="15/KH-SDTTG", issued_on=date(2025, 12, 18), summary="Kế hoạch CCHC năm 2026")
    first = evidence_store.add_evidence(db, department_id, 2026, meta, actor="vp1", upload=("../../kế hoạch.pdf", _pdf()),
                              criteria=["1.1"], activity_codes=["I.5"])
    second = evidence_store.add_evidence(db, department_id, 2026, meta, actor="vp1", upload=("ban-sao.pdf", _pdf()))
    assert first.file_key == second.file_key  # same bytes, stored once
    assert first.file_name == "kế hoạch.pdf"
    stored = list((db.settings.evidence_dir).rglob("*.pdf"))
    assert len(stored) == 1 and db.settings.evidence_dir in stored[0].parents
    assert first.criteria == ["1.1"] and first.activities == ["I.5"]
    i5 = next(a for a in plan_store.list_activities(db, department_id, 2026) if a.code == "I.5")
    assert i5.evidence_dates == [date(2025, 12, 18)]
    name, mime, content = evidence_store.evidence_file(db, first.id, viewer=actors.SYSTEM_ACTOR)
    assert (name, mime, content) == ("kế hoạch.pdf", "application/pdf", _pdf())

    updated = evidence_store.update_evidence(db, first.id, first.version, evidence_store.EvidenceInput(doc_type="Kế hoạch", number="16/KH-SDTTG",
                                   issued_on=date(2025, 12, 19)), actor="vp2", criteria=["1.1", "1.2"])
    assert updated.criteria == ["1.1", "1.2"] and updated.activities == ["I.5"]
    with pytest.raises(ConflictError):
        evidence_store.update_evidence(db, first.id, first.version, meta, actor="vp3")
    fields = {e.field for e in audit_trail.audit_log(db, department_id, actor="vp2", viewer=actors.SYSTEM_ACTOR)}
    assert {"số, ký hiệu", "ngày ban hành", "tiêu chí"} <= fields

    evidence_store.delete_evidence(db, second.id, second.version, actor="vp1")
    assert len(list(db.settings.evidence_dir.rglob("*.pdf"))) == 1  # still used by the first document
    evidence_store.delete_evidence(db, updated.id, updated.version, actor="vp1")
    assert list(db.settings.evidence_dir.rglob("*.pdf")) == []


def test_bad_evidence_is_refused_before_anything_is_saved(workspace):
    db, department_id, _ = workspace
    with pytest.raises(InputError, match="«x.pdf»"):
        evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(number="1/BC"), actor="vp1", upload=("x.pdf", b"MZ\x90\x00" + bytes(50)))
    with pytest.raises(InputError, match="hoạt động IX.1"):
        evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(number="1/BC"), actor="vp1", attachment=evidence_store.ATTACH_NUMBER, activity_codes=["IX.1"])
    with pytest.raises(InputError, match="http"):
        evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(link="javascript:alert(1)"), actor="vp1", attachment=evidence_store.ATTACH_LINK)
    assert evidence_store.list_evidence(db, department_id, 2026) == []


def test_data_survives_reopening(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", database_url=f"sqlite:///{tmp_path / 'd' / 'cchc.db'}")
    first = Database(settings)
    department_id = department_store.create_department(first, "Sở A", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(first, department_id, load_plan(SEED))
    first.dispose()
    again = Database(settings)  # migrations on an up-to-date database change nothing
    assert len(plan_store.list_activities(again, department_id, 2026)) == 22
    again.dispose()


def test_sqlite_runs_in_wal_mode(sqlite_db):
    with sqlite_db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_upgrading_an_older_database_keeps_every_row(tmp_path):
    """A database made by the first version, with scores and evidence links, upgraded by this one."""
    from sqlalchemy import text

    from scoring.store.db import make_engine, upgrade_schema

    url = f"sqlite:///{tmp_path / 'cu.db'}"
    engine = make_engine(url)
    upgrade_schema(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO department (id, name, units, created_at) VALUES (1, 'Sở A', '[]', '2026-01-01')"))
        connection.execute(text("INSERT INTO criteria_set (id, name, year, content, source_name, created_at) "
                                "VALUES (1, 'Bộ', 2026, '{}', '', '2026-01-01')"))
        connection.execute(text("INSERT INTO assessment (id, department_id, year, criteria_set_id, created_at) "
                                "VALUES (1, 1, 2026, 1, '2026-01-01')"))
        connection.execute(text("INSERT INTO score (assessment_id, code, inputs, not_applicable, self_points, explanation, "
                                "appraisal_remark, version, updated_at, updated_by) "
                                "VALUES (1, '1.1', '{}', 0, 1, 'x', '', 1, '2026-01-01', 'vp')"))
        connection.execute(text("INSERT INTO evidence (id, department_id, year, doc_type, number, issuer, summary, file_name, "
                                "file_kind, file_size, link, version, created_at, updated_at, updated_by) "
                                "VALUES (1, 1, 2026, 'Kế hoạch', '1/KH', '', '', '', '', 0, '', 1, '2026-01-01', '2026-01-01', 'vp')"))
        connection.execute(text("INSERT INTO evidence_criterion (evidence_id, assessment_id, code, section) VALUES (1, 1, '1.1', '')"))
    engine.dispose()
    database = Database(Settings(data_dir=tmp_path, database_url=url))  # upgrades to the newest schema
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM score")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM evidence_criterion")).scalar() == 1
        assert connection.execute(text("SELECT locked_by, settings FROM assessment")).one() == ("", "{}")
        assert connection.execute(text("SELECT digest FROM criteria_set")).scalar() == content_digest({})
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert database.revision() == 0
    database.dispose()
