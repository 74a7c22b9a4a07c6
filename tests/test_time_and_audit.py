"""Times in Vietnam time everywhere (stored UTC), a readable audit log, coherent activity data, current downloads."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from scoring import backup
from scoring import cli
from scoring import repository as repo
from scoring import textnorm
from scoring.accounts import create_account
from scoring.auth import Role, lockout_message
from scoring.criteria import load_criteria_set
from scoring.errors import ConflictError, InputError
from scoring.models import AuditEntry
from scoring.plan_import import load_plan
from scoring.snapshot import SnapshotKeeper, load_snapshot
from scoring.stats import STATUS_DONE, STATUS_IN_PROGRESS, STATUS_NOT_APPLICABLE, STATUS_NOT_STARTED

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "ke-hoach-cchc-2026.txt"
SMALL_SET = ROOT / "tests" / "fixtures" / "criteria" / "bo-tieu-chi-nho-4-diem.json"

# 06:33 UTC is 13:33 in Vietnam; 23:30 UTC on the 20th is already 06:30 on the 21st there.
MORNING_UTC = datetime(2026, 12, 20, 6, 33)
LATE_EVENING_UTC = datetime(2026, 12, 20, 23, 30)


@pytest.fixture(autouse=True)
def _vietnam_time(monkeypatch):
    monkeypatch.delenv(textnorm.TIMEZONE_VARIABLE, raising=False)


@pytest.fixture
def workspace(db):
    department_id = repo.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"])
    repo.save_plan(db, department_id, load_plan(SEED), actor="vp1")
    set_id = repo.save_criteria_set(db, load_criteria_set(SMALL_SET))
    assessment = repo.open_assessment(db, department_id, 2026, set_id)
    return db, department_id, assessment.id


def _clock(monkeypatch, utc: datetime) -> None:
    """Every "now" of the core at this UTC moment: what is stored, and what today is in Vietnam."""
    monkeypatch.setattr(repo, "utcnow", lambda: utc)
    monkeypatch.setattr(textnorm, "local_now", lambda: textnorm.to_local(utc))


# ---------------------------------------------------------------- one conversion, one setting


def test_a_stored_utc_time_reads_as_vietnam_time():
    assert textnorm.format_datetime(MORNING_UTC) == "13:33 20/12/2026"  # naive = stored UTC
    assert textnorm.format_datetime(MORNING_UTC.replace(tzinfo=timezone.utc)) == "13:33 20/12/2026"
    assert textnorm.format_datetime(datetime(2026, 12, 20, 8, 33, tzinfo=timezone(timedelta(hours=2)))) == "13:33 20/12/2026"
    assert textnorm.to_local(LATE_EVENING_UTC).date() == date(2026, 12, 21)
    assert textnorm.file_stamp(LATE_EVENING_UTC) == "20261221-0630"
    assert textnorm.format_datetime(None) == "—"


def test_the_zone_is_a_setting(monkeypatch):
    monkeypatch.setenv("CCHC_TIMEZONE", "Europe/Paris")
    assert textnorm.format_datetime(MORNING_UTC) == "07:33 20/12/2026"
    assert lockout_message(MORNING_UTC.replace(tzinfo=timezone.utc)).endswith("thử lại sau 07:33.")


@pytest.mark.parametrize("name", ["Mars/Base", "Asia", "../../etc/passwd", "UTC+7"])
def test_a_wrong_zone_is_one_vietnamese_sentence_at_the_start(monkeypatch, name):
    monkeypatch.setenv("CCHC_TIMEZONE", name)
    with pytest.raises(InputError, match="CCHC_TIMEZONE.*không hợp lệ.*Asia/Ho_Chi_Minh"):
        textnorm.local_zone()
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["plan", "check", str(SEED)], out=out, err=err) == cli.EXIT_BAD_INPUT
    assert "CCHC_TIMEZONE" in err.getvalue() and not out.getvalue()


def test_the_app_refuses_to_start_on_a_wrong_zone(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CCHC_TIMEZONE", "Mars/Base")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert ["CCHC_TIMEZONE" in e.value for e in at.error] == [True]


def test_vietnam_time_works_without_the_system_zone_files():
    """Debian without its tzdata package has no /usr/share/zoneinfo: the pinned tzdata wheel stands in."""
    script = "from scoring.textnorm import format_datetime; from datetime import datetime; print(format_datetime(datetime(2026, 12, 20, 6, 33)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                            env={"PYTHONTZPATH": "/nonexistent", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.stdout.strip() == "13:33 20/12/2026", result.stderr


# ---------------------------------------------------------------- messages, today, file names


def test_the_conflict_message_says_the_time_in_vietnam_time(workspace, monkeypatch):
    db, department_id, _ = workspace
    _clock(monkeypatch, MORNING_UTC)
    first = repo.list_activities(db, department_id, 2026)[0]
    repo.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_IN_PROGRESS, progress=10)
    with pytest.raises(ConflictError, match=r"vừa được sửa bởi vp1 lúc 13:33 20/12/2026"):
        repo.update_activity(db, first.id, first.version, actor="vp2", status=STATUS_IN_PROGRESS, progress=20)


def test_today_is_the_vietnam_date_for_deadlines(workspace, monkeypatch):
    """At 23:30 UTC on the 20th it is the 21st in Vietnam: an activity due on the 20th is overdue."""
    db, department_id, _ = workspace
    _clock(monkeypatch, LATE_EVENING_UTC)
    due_20th = next(a for a in repo.list_activities(db, department_id, 2026) if a.due)
    with db.session() as session:
        from scoring.models import ActivityRecord

        session.get(ActivityRecord, due_20th.id).due = date(2026, 12, 20)
    snapshot = load_snapshot(db, department_id, 2026)
    assert snapshot.today == date(2026, 12, 21)
    assert due_20th.code in {s.id for s in snapshot.overdue()}
    assert SnapshotKeeper().snapshot(db, department_id, 2026).today == date(2026, 12, 21)


def test_done_without_a_date_is_completed_on_the_vietnam_date(workspace, monkeypatch):
    db, department_id, _ = workspace
    _clock(monkeypatch, LATE_EVENING_UTC)
    first = repo.list_activities(db, department_id, 2026)[0]
    saved = repo.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_DONE)
    assert saved.completed_on == date(2026, 12, 21)


def test_backup_names_and_manifest_read_in_vietnam_time(workspace, monkeypatch):
    db, _, _ = workspace
    assert backup.backup_file_name(LATE_EVENING_UTC) == "cchc-sao-luu-20261221-0630.zip"
    buffer = io.BytesIO()
    summary = backup.create_backup(db, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        member_time = datetime(*archive.getinfo("manifest.json").date_time)
    local = textnorm.to_local(summary.created_at)
    assert manifest["created_at"] == summary.created_at.isoformat()  # machine-readable UTC, as restore reads it
    assert manifest["created_at_local"] == f"{textnorm.format_datetime(summary.created_at)} (Asia/Ho_Chi_Minh)"
    assert member_time == local.replace(tzinfo=None, microsecond=0) - timedelta(seconds=local.second % 2)  # zip keeps even seconds


def test_the_evidence_bundle_dates_its_files_in_vietnam_time(monkeypatch):
    from scoring.exports import evidence_bundle

    monkeypatch.setattr(evidence_bundle, "local_now", lambda: textnorm.to_local(LATE_EVENING_UTC))
    assert evidence_bundle._zip_info("a/b.pdf").date_time == (2026, 12, 21, 6, 30, 0)


# ---------------------------------------------------------------- the audit log reads as people speak


def test_the_audit_log_reads_with_labels_names_and_vietnamese_values(workspace):
    db, department_id, assessment_id = workspace
    create_account(db, "nguyenvana", role=Role.OFFICE, password="mat-khau-rat-dai-2026", display_name="Nguyễn Văn A",
                   department_ids=[department_id])
    first = repo.list_activities(db, department_id, 2026)[0]
    repo.update_activity(db, first.id, first.version, actor="nguyenvana", status=STATUS_IN_PROGRESS, progress=40)
    repo.save_self_score(db, assessment_id, "1.1", 0, inputs={"tier": 1}, actor="vp1")
    repo.save_self_score(db, assessment_id, "1.1", 1, inputs={}, not_applicable=True, actor="vp1")
    log = repo.audit_log(db, department_id)
    activity = {e.field: e for e in log if e.entity_key == f"2026/{first.code}"}
    assert (activity["trạng thái"].old, activity["trạng thái"].new) == ("Chưa bắt đầu", "Đang thực hiện")
    assert activity["trạng thái"].actor_label == "Nguyễn Văn A (nguyenvana)"
    assert activity["trạng thái"].actor == "nguyenvana"  # what the "Người thực hiện" filter matches
    assert activity["trạng thái"].subject == f"Hoạt động 2026/{first.code}"
    score = [e for e in log if e.entity_key == "2026/1.1"]
    assert ("không đánh giá", "không", "có") in {(e.field, e.old, e.new) for e in score}
    tier = next(e for e in score if e.field == "thông tin chấm" and e.old == "—")
    assert tier.new.startswith("mức: ") and "{" not in tier.new
    assert all(e.actor_label == "vp1" for e in score)  # a typed name with no account stays as typed
    for entry in log:
        for text in (entry.old, entry.new):
            assert text and text != "None" and "chua_bat_dau" not in text and "dang_thuc_hien" not in text


def test_rows_written_by_older_versions_read_as_well(workspace):
    db, department_id, _ = workspace
    with db.session() as session:
        for field, old, new in [("trạng thái", "khong_ap_dung", "hoan_thanh"), ("không đánh giá", "False", "True"),
                                ("đơn vị", '["Văn phòng", "Phòng Tôn giáo"]', None), ("ngày hoàn thành", "2026-02-20", "None"),
                                ("thiết lập năm", None, '{"survey_run": true, "bonus_cap": 2, "rounds": [{"code": "r1", "opens": "2026-01-05"}]}')]:
            session.add(AuditEntry(at=MORNING_UTC, actor="hệ thống", department_id=department_id, entity="assessment",
                                   entity_key="2026", field=field, old=old, new=new))
    read = {e.field: (e.old, e.new) for e in repo.audit_log(db, department_id, entity_key="2026") if e.at == MORNING_UTC}
    assert read == {
        "trạng thái": ("Không áp dụng", "Hoàn thành"),
        "không đánh giá": ("không", "có"),
        "đơn vị": ("Văn phòng; Phòng Tôn giáo", "—"),
        "ngày hoàn thành": ("20/02/2026", "—"),
        "thiết lập năm": ("—", "có điều tra XHH: có; điểm thưởng tối đa: 2; các vòng: (mã: r1; từ ngày: 05/01/2026)"),
    }


def test_the_day_filter_counts_vietnam_days(workspace):
    """A change at 23:30 UTC on the 20th was made on the 21st in Vietnam."""
    db, department_id, _ = workspace
    with db.session() as session:
        session.add(AuditEntry(at=LATE_EVENING_UTC, actor="vp1", department_id=department_id, entity="plan",
                               entity_key="2026-khuya", field="ghi chú", old=None, new="x"))
    assert repo.audit_log(db, department_id, entity_key="2026-khuya", since=date(2026, 12, 21))
    assert not repo.audit_log(db, department_id, entity_key="2026-khuya", until=date(2026, 12, 20))
