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

from scoring import cli, textnorm
from scoring.access.accounts import create_account
from scoring.access.auth import Role, lockout_message
from scoring.assessment.snapshot import SnapshotKeeper, load_snapshot
from scoring.criteria.files import load_criteria_set
from scoring.errors import ConflictError, InputError
from scoring.plan.importer import load_plan
from scoring.plan.stats import (
    STATUS_DONE,
    STATUS_IN_PROGRESS,
    STATUS_LABELS,
    STATUS_NOT_APPLICABLE,
    STATUS_NOT_STARTED,
    reconcile_progress,
)
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    backup,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.models import AuditEntry

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
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(db, department_id, load_plan(SEED), actor="vp1")
    set_id = criteria_store.save_criteria_set(db, load_criteria_set(SMALL_SET), actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department_id, 2026, set_id)
    return db, department_id, assessment.id


def _clock(monkeypatch, utc: datetime) -> None:
    """Every "now" of the core at this UTC moment: what is stored, and what today is in Vietnam."""
    for module in (actors, audit_trail, department_store, plan_store, evidence_store, assessment_state, assessment_store,
                   cycle_store):
        if hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", lambda: utc)
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
    first = plan_store.list_activities(db, department_id, 2026)[0]
    plan_store.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_IN_PROGRESS, progress=10)
    with pytest.raises(ConflictError, match=r"vừa được sửa bởi vp1 lúc 13:33 20/12/2026"):
        plan_store.update_activity(db, first.id, first.version, actor="vp2", status=STATUS_IN_PROGRESS, progress=20)


def test_today_is_the_vietnam_date_for_deadlines(workspace, monkeypatch):
    """At 23:30 UTC on the 20th it is the 21st in Vietnam: an activity due on the 20th is overdue."""
    db, department_id, _ = workspace
    _clock(monkeypatch, LATE_EVENING_UTC)
    due_20th = next(a for a in plan_store.list_activities(db, department_id, 2026) if a.due)
    with db.session() as session:
        from scoring.store.models import ActivityRecord

        session.get(ActivityRecord, due_20th.id).due = date(2026, 12, 20)
    snapshot = load_snapshot(db, department_id, 2026)
    assert snapshot.today == date(2026, 12, 21)
    assert due_20th.code in {s.id for s in snapshot.overdue()}
    assert SnapshotKeeper().snapshot(db, department_id, 2026).today == date(2026, 12, 21)


def test_done_without_a_date_is_completed_on_the_vietnam_date(workspace, monkeypatch):
    db, department_id, _ = workspace
    _clock(monkeypatch, LATE_EVENING_UTC)
    first = plan_store.list_activities(db, department_id, 2026)[0]
    saved = plan_store.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_DONE)
    assert saved.completed_on == date(2026, 12, 21)


def test_backup_names_and_manifest_read_in_vietnam_time(workspace, monkeypatch):
    db, _, _ = workspace
    assert backup.backup_file_name(LATE_EVENING_UTC) == "cchc-sao-luu-20261221-0630.zip"
    buffer = io.BytesIO()
    summary = backup.create_backup(db, buffer, actor=actors.SYSTEM_ACTOR)
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
    assert evidence_bundle.zip_info("a/b.pdf").date_time == (2026, 12, 21, 6, 30, 0)


# ---------------------------------------------------------------- the audit log reads as people speak


def test_the_audit_log_reads_with_labels_names_and_vietnamese_values(workspace):
    db, department_id, assessment_id = workspace
    create_account(db, "nguyenvana", role=Role.OFFICE, password="mat-khau-rat-dai-2026", display_name="Nguyễn Văn A",
                   department_ids=[department_id], actor=actors.SYSTEM_ACTOR)
    first = plan_store.list_activities(db, department_id, 2026)[0]
    plan_store.update_activity(db, first.id, first.version, actor="nguyenvana", status=STATUS_IN_PROGRESS, progress=40)
    assessment_store.save_self_score(db, assessment_id, "1.1", 0, inputs={"tier": 1}, actor="vp1")
    assessment_store.save_self_score(db, assessment_id, "1.1", 1, inputs={}, not_applicable=True, actor="vp1")
    log = audit_trail.audit_log(db, department_id, viewer=actors.SYSTEM_ACTOR)
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
    read = {e.field: (e.old, e.new) for e in audit_trail.audit_log(db, department_id, entity_key="2026", viewer=actors.SYSTEM_ACTOR) if e.at == MORNING_UTC}
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
    assert audit_trail.audit_log(db, department_id, entity_key="2026-khuya", since=date(2026, 12, 21), viewer=actors.SYSTEM_ACTOR)
    assert not audit_trail.audit_log(db, department_id, entity_key="2026-khuya", until=date(2026, 12, 20), viewer=actors.SYSTEM_ACTOR)


# ---------------------------------------------------------------- an activity's status, progress and date agree

TODAY = date(2026, 12, 20)
NOT_STARTED = (STATUS_NOT_STARTED, 0, None)
IN_PROGRESS = (STATUS_IN_PROGRESS, 40, None)
DONE = (STATUS_DONE, 100, date(2026, 12, 1))


def _change(stored, **change):
    return reconcile_progress("I.3", stored, today=TODAY, **change)


@pytest.mark.parametrize("progress", [150, -5, 12.5, "abc", True])
def test_rule_1_progress_outside_0_to_100_is_refused_naming_activity_and_field(progress):
    with pytest.raises(InputError, match=r"^Hoạt động I\.3: tiến độ .*không hợp lệ; hãy nhập một số nguyên từ 0 đến 100"):
        _change(IN_PROGRESS, progress=progress)


def test_rule_1_a_whole_number_typed_as_float_or_text_is_taken():
    assert _change(IN_PROGRESS, progress=60.0).progress == 60
    assert _change(IN_PROGRESS, progress="70").progress == 70


def test_rule_2_a_completion_date_in_the_future_is_refused():
    with pytest.raises(InputError, match=r"Hoạt động I\.3: ngày hoàn thành 21/12/2026 ở sau hôm nay \(20/12/2026\)"):
        _change(DONE, completed_on=date(2026, 12, 21))
    assert _change(DONE, completed_on=TODAY).completed_on == TODAY


@pytest.mark.parametrize("status, progress, fix", [
    (STATUS_NOT_STARTED, 100, "để tiến độ 0%"), (STATUS_NOT_STARTED, 30, "để tiến độ 0%"),
    (STATUS_NOT_APPLICABLE, 10, "để tiến độ 0%"), (STATUS_DONE, 0, "tiến độ 100%"), (STATUS_DONE, 99, "tiến độ 100%"),
    (STATUS_IN_PROGRESS, 100, "dưới 100%"),
])
def test_rule_3_status_and_progress_given_together_must_agree(status, progress, fix):
    with pytest.raises(InputError, match=rf"Hoạt động I\.3: trạng thái «.+» không khớp tiến độ {progress}%; hãy .*{fix}"):
        _change(IN_PROGRESS, status=status, progress=progress)


def test_rule_3_agreeing_pairs_are_kept_as_given():
    result = _change(NOT_STARTED, status=STATUS_IN_PROGRESS, progress=35)
    assert (result.status, result.progress, result.notices) == (STATUS_IN_PROGRESS, 35, ())


def test_rule_4_in_progress_is_refused_while_progress_is_100():
    with pytest.raises(InputError, match=r"tiến độ đang là 100% nên chưa thể chọn «Đang thực hiện»; hãy sửa tiến độ xuống dưới 100%"):
        _change(DONE, status=STATUS_IN_PROGRESS)


def test_rule_5_a_completion_date_needs_the_done_status():
    with pytest.raises(InputError, match=r"ngày hoàn thành 10/12/2026 chỉ ghi cho hoạt động «Hoàn thành», mà trạng thái là «Đang thực hiện»"):
        _change(IN_PROGRESS, completed_on=date(2026, 12, 10))
    with pytest.raises(InputError, match="chỉ ghi cho hoạt động «Hoàn thành»"):
        _change(DONE, status=STATUS_NOT_STARTED, completed_on=date(2026, 12, 10))


def test_rule_6_choosing_done_sets_100_and_todays_date_and_says_so():
    result = _change(IN_PROGRESS, status=STATUS_DONE)
    assert (result.status, result.progress, result.completed_on) == (STATUS_DONE, 100, TODAY)
    assert result.notices == ("Hoạt động I.3: tiến độ được đặt thành 100% cho khớp trạng thái «Hoàn thành».",
                              "Hoạt động I.3: ngày hoàn thành được ghi là hôm nay, 20/12/2026; sửa lại nếu hoàn thành ngày khác.")
    dated = _change(IN_PROGRESS, status=STATUS_DONE, completed_on=date(2026, 11, 3))
    assert dated.completed_on == date(2026, 11, 3) and len(dated.notices) == 1


@pytest.mark.parametrize("status", [STATUS_NOT_STARTED, STATUS_NOT_APPLICABLE])
def test_rule_7_not_started_or_not_applicable_sets_0_and_says_so(status):
    result = _change(IN_PROGRESS, status=status)
    assert (result.status, result.progress) == (status, 0)
    assert result.notices == (f"Hoạt động I.3: tiến độ được đặt thành 0% cho khớp trạng thái «{STATUS_LABELS[status]}».",)


@pytest.mark.parametrize("stored, progress, status", [
    (IN_PROGRESS, 100, STATUS_DONE), (NOT_STARTED, 100, STATUS_DONE), (NOT_STARTED, 20, STATUS_IN_PROGRESS),
    ((STATUS_NOT_APPLICABLE, 0, None), 20, STATUS_IN_PROGRESS), (DONE, 80, STATUS_IN_PROGRESS), (DONE, 0, STATUS_NOT_STARTED),
])
def test_rule_8_the_status_follows_the_progress_typed_and_says_so(stored, progress, status):
    result = _change(stored, progress=progress)
    assert (result.status, result.progress) == (status, progress)
    assert f"trạng thái được chuyển thành «{STATUS_LABELS[status]}» cho khớp tiến độ {progress}%" in result.notices[0]


def test_rule_8_progress_within_the_same_status_changes_nothing_else():
    result = _change(IN_PROGRESS, progress=70)
    assert (result.status, result.progress, result.notices) == (STATUS_IN_PROGRESS, 70, ())


def test_rule_9_leaving_done_clears_the_date_and_says_so():
    result = _change(DONE, progress=90)
    assert (result.status, result.completed_on) == (STATUS_IN_PROGRESS, None)
    assert "ngày hoàn thành 01/12/2026 được xóa vì hoạt động không còn «Hoàn thành»" in result.notices[-1]
    assert _change(DONE, status=STATUS_NOT_APPLICABLE).completed_on is None


def test_a_done_activity_may_have_its_date_cleared():
    result = _change(DONE, completed_on=None)
    assert (result.status, result.progress, result.completed_on, result.notices) == (STATUS_DONE, 100, None, ())


def test_the_repository_applies_the_rules_and_reports_the_adjustments(workspace, monkeypatch):
    db, department_id, _ = workspace
    _clock(monkeypatch, MORNING_UTC)
    first = plan_store.list_activities(db, department_id, 2026)[0]
    with pytest.raises(InputError, match=rf"Hoạt động {first.code}: tiến độ «150»"):
        plan_store.update_activity(db, first.id, first.version, actor="vp1", progress=150)
    with pytest.raises(InputError, match=rf"Hoạt động {first.code}: trạng thái «Chưa bắt đầu» không khớp tiến độ 100%"):
        plan_store.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_NOT_STARTED, progress=100)
    assert plan_store.list_activities(db, department_id, 2026)[0] == first  # refused: nothing stored
    assert not audit_trail.audit_log(db, department_id, entity_key=f"2026/{first.code}", viewer=actors.SYSTEM_ACTOR)
    saved = plan_store.update_activity(db, first.id, first.version, actor="vp1", status=STATUS_DONE)
    assert (saved.status, saved.progress, saved.completed_on) == (STATUS_DONE, 100, date(2026, 12, 20))
    assert len(saved.notices) == 2 and plan_store.list_activities(db, department_id, 2026)[0].notices == ()


# ---------------------------------------------------------------- the pages show it


def _app_at(page: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _unescaped(text: str) -> str:
    import re

    return re.sub(r"\\(.)", r"\1", text)


def _edit_plan_row(at, changes: dict):
    from scoring.store.db import open_database

    department = department_store.list_departments(open_database())[0]
    at.session_state[f"plan-editor-{department.id}-2026-0"] = {"edited_rows": {0: changes}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return open_database(), department


def test_the_plan_table_refuses_a_contradiction_with_a_sentence_naming_the_row():
    at = _app_at("views/ke_hoach.py")
    db, department = _edit_plan_row(at, {"Trạng thái": "Chưa bắt đầu", "Tiến độ (%)": 100})
    errors = [_unescaped(e.value) for e in at.error]
    assert errors == ["Hoạt động I.1: trạng thái «Chưa bắt đầu» không khớp tiến độ 100%; hãy để tiến độ 0% hoặc chọn «Đang thực hiện»."]
    first = plan_store.list_activities(db, department.id, 2026)[0]
    assert (first.status, first.progress) == (STATUS_NOT_STARTED, 0)


def test_the_plan_table_refuses_150_percent_rather_than_clamping_it():
    at = _app_at("views/ke_hoach.py")
    db, department = _edit_plan_row(at, {"Tiến độ (%)": 150})
    assert [_unescaped(e.value) for e in at.error] == [
        "Hoạt động I.1: tiến độ «150» không hợp lệ; hãy nhập một số nguyên từ 0 đến 100 (%)."]
    assert plan_store.list_activities(db, department.id, 2026)[0].progress == 0


def test_the_plan_table_says_what_it_adjusted():
    at = _app_at("views/ke_hoach.py")
    db, department = _edit_plan_row(at, {"Tiến độ (%)": 100})
    infos = [_unescaped(i.value) for i in at.info]
    assert "Hoạt động I.1: trạng thái được chuyển thành «Hoàn thành» cho khớp tiến độ 100%." in infos
    assert any(i.startswith("Hoạt động I.1: ngày hoàn thành được ghi là hôm nay") for i in infos)
    assert plan_store.list_activities(db, department.id, 2026)[0].status == STATUS_DONE


def test_the_change_log_page_shows_readable_values():
    at = _app_at("views/ke_hoach.py")
    _edit_plan_row(at, {"Trạng thái": "Đang thực hiện"})
    at.switch_page("views/cau_hinh.py")
    at.run()
    assert not at.exception
    table = at.dataframe[-1].value
    row = table[table["Nội dung"] == "trạng thái"].iloc[0]
    assert (row["Cũ"], row["Mới"], row["Đối tượng"], row["Người"]) == ("Chưa bắt đầu", "Đang thực hiện", "Hoạt động 2026/I.1", "Văn phòng")
    assert not table.isin(["None", "chua_bat_dau", "dang_thuc_hien"]).any().any()
    assert table["Thời điểm"].str.fullmatch(r"\d{2}:\d{2} \d{2}/\d{2}/\d{4}").all()


# ---------------------------------------------------------------- downloads are made when clicked


def _download(at, deferred, key: str):
    button = next(b for b in at.get("download_button") if b.key == key)
    return deferred[button.proto.deferred_file_id]


def _entry_in_sheet(data: bytes, code: str):
    """What the sheet holds as the criterion's input (its points are a formula of it)."""
    import openpyxl

    from scoring.exports.scoresheet_layout import HEADER_ENTRY

    sheet = openpyxl.load_workbook(io.BytesIO(data))["Bảng điểm"]
    header = next(r for r in range(1, 20) if any(c.value == "STT" for c in sheet[r]))
    columns = {c.value: c.column for c in sheet[header]}
    row = next(r for r in range(header + 1, sheet.max_row + 1) if sheet.cell(r, columns["STT"]).value == code)
    return sheet.cell(row, columns[HEADER_ENTRY]).value


def test_one_click_downloads_the_score_sheet_as_stored_at_the_click(deferred):
    """The page drawn before a change still hands out the changed data: the file is read when clicked."""
    at = _app_at("views/xuat_tep.py")
    from scoring.store.db import open_database

    db = open_database()
    department = department_store.list_departments(db)[0]
    assert not [b for b in at.button if b.label == "Tạo tệp"]  # one click, no second button
    make, file_name = _download(at, deferred, f"export-scoresheet-{department.id}-2026")
    assert _entry_in_sheet(make(), "1.1.1") in (None, "")
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    assessment_store.save_self_score(db, assessment.id, "1.1.1", 0, inputs={"tier": "Ban hành không kịp thời"}, actor="vp1")
    assert _entry_in_sheet(make(), "1.1.1") == "Ban hành không kịp thời"  # same page run, same button: the new value
    import re

    assert re.fullmatch(r"bang-diem-cchc-2026-\d{8}-\d{4}\.xlsx", file_name)
    assert file_name.split("-")[-2] == textnorm.local_today().strftime("%Y%m%d")
    assert not [k for k, v in at.session_state.to_dict().items() if isinstance(v, bytes)]


def test_a_failed_download_is_a_vietnamese_sentence_at_its_button(deferred, monkeypatch):
    from scoring.exports import commands

    at = _app_at("views/xuat_tep.py")
    department = department_store.list_departments(__import__("scoring.store.db", fromlist=["open_database"]).open_database())[0]
    key = f"export-report-{department.id}-2026"

    def broken(snapshot, out, db):
        raise RuntimeError("chromium crashed")

    monkeypatch.setitem(commands.WRITERS, "report", broken)
    make, _ = _download(at, deferred, key)
    with pytest.raises(RuntimeError):
        make()  # Streamlit's download thread gets the failure: no file is sent
    at.get("download_button")[[b.key for b in at.get("download_button")].index(key)].click().run()
    assert not at.exception
    assert [_unescaped(e.value) for e in at.error] == [
        "Không tạo được báo cáo do lỗi ngoài dự kiến; dữ liệu đã lưu không bị ảnh hưởng. Hãy thử lại hoặc báo cho quản trị viên."]
    at.run()
    assert not at.error  # said once


def test_the_click_run_waits_for_the_file_and_shows_an_input_error(deferred, monkeypatch):
    """In a browser the click reruns the page while the file is being made: that run waits and tells the outcome."""
    import threading

    from scoring.exports import commands

    at = _app_at("views/xuat_tep.py")
    department = department_store.list_departments(__import__("scoring.store.db", fromlist=["open_database"]).open_database())[0]
    key = f"export-summary-{department.id}-2026"

    def refused(snapshot, out, db):
        raise InputError("Trang tóm tắt cần LibreOffice; hãy cài gói libreoffice-writer-nogui.")

    monkeypatch.setitem(commands.WRITERS, "summary", refused)
    make, _ = _download(at, deferred, key)

    def browser_request():
        import time

        time.sleep(1.0)  # arrives well after the rerun reached the button: only its waiting shows the outcome
        with pytest.raises(InputError):
            make()

    request = threading.Thread(target=browser_request)
    request.start()
    at.get("download_button")[[b.key for b in at.get("download_button")].index(key)].click().run()
    request.join()
    assert [_unescaped(e.value) for e in at.error] == ["Trang tóm tắt cần LibreOffice; hãy cài gói libreoffice-writer-nogui."]


def test_the_backup_download_is_made_when_clicked_and_never_kept(deferred):
    at = _app_at("views/cau_hinh.py")
    assert not [b for b in at.button if b.label == "Tạo bản sao lưu"]
    make, file_name = _download(at, deferred, "backup-download")
    import re

    assert re.fullmatch(r"cchc-sao-luu-\d{8}-\d{4}\.zip", file_name)
    with zipfile.ZipFile(io.BytesIO(make())) as archive:
        assert {"manifest.json", "database.json"} <= set(archive.namelist())
    assert "backup-bytes" not in at.session_state
    assert not [k for k, v in at.session_state.to_dict().items() if isinstance(v, bytes)]


def test_the_export_core_reads_afresh_and_names_files_in_local_time(workspace):
    from scoring.exports.commands import export_bytes, export_file_name

    db, department_id, assessment_id = workspace
    assert export_file_name("report", 2026, LATE_EVENING_UTC) == "bao-cao-tu-danh-gia-cchc-2026-20261221-0630.docx"
    assert export_file_name("charts", 2026, MORNING_UTC) == "bieu-do-cchc-2026-20261220-1333.zip"
    before = export_bytes(db, department_id, 2026, "scoresheet")
    assessment_store.save_self_score(db, assessment_id, "1.2", 0, inputs={"value": "0,75"}, actor="vp1")
    assert export_bytes(db, department_id, 2026, "scoresheet") != before


from test_browser import browser  # noqa: E402,F401 — the browser tests' own Chromium fixture


@pytest.mark.browser
def test_in_a_browser_one_click_downloads_the_current_file(browser, tmp_path):
    """A real click: the file arrives (no second button), named with the Vietnam date, and a change made
    after the page was drawn is in the next download."""
    import re

    from test_browser import _open_from_menu, _serve, _settled

    from scoring.store.db import Database, Settings

    serving = _serve(tmp_path, auth="off")
    url = next(serving)
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
        page.goto(url)
        _settled(page)
        _open_from_menu(page, "Xuất, nhập tệp")
        button = page.locator('[data-testid="stDownloadButton"]').first
        with page.expect_download(timeout=60000) as first:
            button.click()
        assert re.fullmatch(rf"bang-diem-cchc-2026-{textnorm.local_today():%Y%m%d}-\d{{4}}\.xlsx", first.value.suggested_filename)
        assert _entry_in_sheet(Path(first.value.path()).read_bytes(), "1.1.1") in (None, "")
        _settled(page)
        db = Database(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'cchc.db'}"))
        department = department_store.list_departments(db)[0]
        assessment = assessment_state.get_assessment(db, department.id, 2026)
        assessment_store.save_self_score(db, assessment.id, "1.1.1", 0, inputs={"tier": "Ban hành không kịp thời"}, actor="vp1")
        db.dispose()
        with page.expect_download(timeout=60000) as second:
            button.click()  # the page was not drawn again since the change
        assert _entry_in_sheet(Path(second.value.path()).read_bytes(), "1.1.1") == "Ban hành không kịp thời"
        _settled(page)
        assert not page.locator('[data-testid="stAlertContentError"]').count()
        assert "Traceback" not in page.content()
        page.close()
    finally:
        next(serving, None)


def test_account_changes_show_for_those_who_manage_accounts_and_people_are_found_by_name(workspace):
    from scoring.access.auth import PermissionDenied, Principal

    db, department_id, _ = workspace
    create_account(db, "nguyenvana", role=Role.OFFICE, password="mat-khau-rat-dai-2026", display_name="Nguyễn Văn A",
                   department_ids=[department_id], actor="quantri")
    assert not [e for e in audit_trail.audit_log(db, department_id, viewer=actors.SYSTEM_ACTOR) if e.entity == "account"]
    created = next(e for e in audit_trail.audit_log(db, department_id, with_accounts=True, viewer=actors.SYSTEM_ACTOR) if e.entity == "account")
    assert (created.subject, created.field, created.old, created.new) == ("Tài khoản nguyenvana", "tạo tài khoản", "—", "Văn phòng")
    office = Principal("nguyenvana", "Nguyễn Văn A", Role.OFFICE, frozenset({department_id}))
    with pytest.raises(PermissionDenied):
        audit_trail.audit_log(db, department_id, viewer=office, with_accounts=True)
    first = plan_store.list_activities(db, department_id, 2026)[0]
    plan_store.update_activity(db, first.id, first.version, actor="nguyenvana", progress=30)
    assert {e.actor for e in audit_trail.audit_log(db, department_id, actor="Nguyễn Văn A", viewer=actors.SYSTEM_ACTOR)} == {"nguyenvana"}
