"""Robustness: two people saving the same thing, the server killed in the middle of a save, hostile uploads,
a very large plan, markup and formulas hidden in criteria text.

Restoring a backup on an empty machine is covered by tests/test_backup.py (see README, «Độ tin cậy»).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, select

from benchmarks.generate import generate_plan, small_pdf
from scoring.assessment.snapshot import load_snapshot
from scoring.criteria.files import criteria_set_from_dict, load_criteria_set
from scoring.defaults import bundled_criteria_path
from scoring.errors import ConflictError, InputError, NotFoundError
from scoring.plan.importer import load_plan_bytes
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    criteria_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.db import Database, Settings, open_database
from scoring.store.evidence_files import EvidenceStore
from scoring.store.models import AuditEntry
from scoring.store.restore import count_rows
from scoring.store.uploads import MAX_UPLOAD_BYTES
from scoring.store.workspace import ensure_default_workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def workspace(db):
    created = ensure_default_workspace(db)
    assert created is not None
    return db, created


@pytest.fixture
def second_client(db):
    """Another server process on the same database: its own engine and connections."""
    other = Database(db.settings)
    yield other
    other.dispose()


# ---------------------------------------------------------------- two people, one criterion


def _stale_write(kind: str, db: Database, other: Database, ws) -> tuple:
    """Both clients read version v; the second client saves first; the first client then saves on v.

    Returns (the first client's stale save, a read of the stored value, the value the second client saved)."""
    if kind == "score":
        assessment_store.save_self_score(db, ws.assessment_id, "1.1.1", 0, inputs={"tier": 2}, actor="an")
        seen = assessment_store.list_scores(db, ws.assessment_id)["1.1.1"].version
        assessment_store.save_self_score(other, ws.assessment_id, "1.1.1", seen, inputs={"tier": 0}, actor="bình")
        return (lambda: assessment_store.save_self_score(db, ws.assessment_id, "1.1.1", seen, inputs={"tier": 1}, actor="an"),
                lambda: assessment_store.list_scores(db, ws.assessment_id)["1.1.1"].self_points, Decimal(1))
    if kind == "activity":
        first = plan_store.list_activities(db, ws.department_id, ws.year)[0]
        plan_store.update_activity(other, first.id, first.version, actor="bình", progress=70)
        return (lambda: plan_store.update_activity(db, first.id, first.version, actor="an", progress=20),
                lambda: plan_store.list_activities(db, ws.department_id, ws.year)[0].progress, 70)
    document = evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"),
                                 actor="an", upload=("bao-cao.pdf", small_pdf("bao cao")))
    evidence_store.update_evidence(other, document.id, document.version, evidence_store.EvidenceInput(doc_type="Báo cáo", number="2/BC"),
                         actor="bình")
    return (lambda: evidence_store.update_evidence(db, document.id, document.version,
                                         evidence_store.EvidenceInput(doc_type="Báo cáo", number="3/BC"), actor="an"),
            lambda: evidence_store.list_evidence(db, ws.department_id, ws.year)[0].number, "2/BC")


@pytest.mark.parametrize("kind", ["score", "activity", "evidence"])
def test_second_client_saving_on_a_stale_version_is_told_and_changes_nothing(workspace, second_client, kind):
    db, ws = workspace
    stale_save, stored, expected = _stale_write(kind, db, second_client, ws)
    entries_before = count_rows(db)["audit_log"]
    with pytest.raises(ConflictError, match="vừa được sửa bởi bình"):
        stale_save()
    assert stored() == expected  # no lost update: the first save stands
    assert count_rows(db)["audit_log"] == entries_before  # and the refused one left no trace


def test_editing_evidence_someone_deleted_is_a_sentence_not_a_crash(workspace, second_client):
    db, ws = workspace
    document = evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"),
                                 actor="an", upload=("bao-cao.pdf", small_pdf("bao cao")))
    evidence_store.delete_evidence(second_client, document.id, document.version, actor="bình")
    with pytest.raises(NotFoundError, match="tải lại trang"):
        evidence_store.update_evidence(db, document.id, document.version, evidence_store.EvidenceInput(number="2/BC"), actor="an")
    with pytest.raises(NotFoundError):
        evidence_store.link_evidence_to_criterion(db, document.id, document.version, "1.1.1", actor="an")
    assert evidence_store.list_evidence(db, ws.department_id, ws.year) == []


def test_a_score_for_a_missing_year_or_criterion_is_a_sentence_and_writes_nothing(workspace):
    db, ws = workspace
    before = count_rows(db)
    with pytest.raises(NotFoundError, match=r"kỳ đánh giá \(mã 999999\).*tải lại trang"):
        assessment_store.save_self_score(db, 999999, "1.1.1", 0, inputs={"tier": 0}, actor="an")
    with pytest.raises(InputError, match="Tiêu chí 9.9.9 không có trong bộ tiêu chí"):
        assessment_store.save_self_score(db, ws.assessment_id, "9.9.9", 0, inputs={"tier": 0}, actor="an")
    with pytest.raises(InputError, match="Tiêu chí 1.1 không có .*không phải tiêu chí chấm điểm"):
        assessment_store.save_self_score(db, ws.assessment_id, "1.1", 0, inputs={"tier": 0}, actor="an")
    assert count_rows(db) == before


def test_two_people_creating_the_first_score_at_the_same_moment(workspace, second_client):
    """Neither has a row yet: the second person's save runs right after the first one looked for the row and found
    none (the interleaving forced exactly). The unique (assessment, code) constraint stops the duplicate and the
    first person is told, like any other stale write — not an "unexpected error"."""
    db, ws = workspace
    fired = []

    @event.listens_for(db.engine, "after_cursor_execute")
    def other_person_saves_now(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().upper().startswith("SELECT") and "score.code" in statement:
            fired.append(True)
            assessment_store.save_self_score(second_client, ws.assessment_id, "1.1.2", 0, inputs={"tier": 0}, actor="bình")

    try:
        with pytest.raises(ConflictError):
            assessment_store.save_self_score(db, ws.assessment_id, "1.1.2", 0, inputs={"tier": 1}, actor="an")
    finally:
        event.remove(db.engine, "after_cursor_execute", other_person_saves_now)
        assert fired, "the forced interleaving did not happen"
        assert assessment_store.list_scores(db, ws.assessment_id)["1.1.2"].updated_by == "bình"  # never a lost update


# ---------------------------------------------------------------- killed in the middle of a save

PLAN_SIZES = (3_000, 1_800)  # two plans whose activity counts differ: a half-saved plan would show another count

SAVE_LOOP = """
import pickle, sys
from pathlib import Path
from scoring.store import plan_store
from scoring.store.db import Database, Settings
folder, department_id, plans_path, progress_path = sys.argv[1:]
db = Database(Settings(Path(folder), f"sqlite:///{Path(folder) / 'cchc.db'}"))
plans = pickle.loads(Path(plans_path).read_bytes())
with open(progress_path, "a", encoding="utf-8") as progress:
    i = 0
    while True:
        plan = plans[i % len(plans)]
        progress.write(f"start {len(plan.activities)}\\n"); progress.flush()
        plan_store.save_plan(db, int(department_id), plan, mode="replace", actor="tiến trình bị dừng")
        progress.write(f"saved {len(plan.activities)}\\n"); progress.flush()
        i += 1
"""

UPLOAD_LOOP = """
import sys
from pathlib import Path
from scoring.store import evidence_store
from scoring.store.db import Database, Settings
folder, department_id, year, progress_path = sys.argv[1:]
db = Database(Settings(Path(folder), f"sqlite:///{Path(folder) / 'cchc.db'}"))
body = b"%PDF-1.4\\n" + bytes(range(256)) * 16_000  # about 4 MB
with open(progress_path, "a", encoding="utf-8") as progress:
    i = 0
    while True:
        progress.write(f"start {i}\\n"); progress.flush()
        evidence_store.add_evidence(db, int(department_id), int(year), evidence_store.EvidenceInput(doc_type="Báo cáo", number=f"{i}/BC"),
                          actor="tiến trình bị dừng", upload=(f"bao-cao-{i}.pdf", body + str(i).encode()))
        progress.write(f"saved {i}\\n"); progress.flush()
        i += 1
"""


def _spawn(code: str, *args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _kill_after_saves(child: subprocess.Popen, progress: Path, saves_before: int, delay: float) -> str:
    """SIGKILL once the child has finished one more save and `delay` seconds more have passed; its last line."""
    deadline = time.monotonic() + 60
    while sum(line.startswith("saved") for line in _lines(progress)) <= saves_before:
        if child.poll() is not None:
            raise AssertionError(f"the saving process stopped by itself: {child.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError("the saving process made no progress in 60 s")
        time.sleep(0.005)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return _lines(progress)[-1]


def _sqlite_integrity(folder: Path) -> None:
    connection = sqlite3.connect(folder / "cchc.db")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def test_killing_the_server_during_plan_saves_never_leaves_half_a_plan(sqlite_db, tmp_path):
    folder = sqlite_db.settings.data_dir
    department_id = department_store.create_department(sqlite_db, "Sở thử dừng đột ngột", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    plans = [load_plan_bytes(f"ke-hoach-{n}.txt", generate_plan(n).data()) for n in PLAN_SIZES]
    plan_store.save_plan(sqlite_db, department_id, plans[1], mode="replace")
    sqlite_db.dispose()
    plans_path = tmp_path / "plans.pickle"
    plans_path.write_bytes(pickle.dumps(plans))
    progress = tmp_path / "progress.txt"

    last_lines = []
    for delay in (0.0, 0.02, 0.05, 0.09, 0.14, 0.2, 0.3):  # different moments of the next save
        saves = sum(line.startswith("saved") for line in _lines(progress))
        child = _spawn(SAVE_LOOP, folder, department_id, plans_path, progress)
        last_lines.append(_kill_after_saves(child, progress, saves, delay))

        _sqlite_integrity(folder)
        db = Database(Settings(folder, f"sqlite:///{folder / 'cchc.db'}"))  # reopens (and migrates) as the app does
        try:
            activities = plan_store.list_activities(db, department_id, 2026)
            assert len(activities) in PLAN_SIZES, "a plan is stored whole or not at all"
            whole = plans[PLAN_SIZES.index(len(activities))]
            assert [a.code for a in activities] == [a.id for a in whole.activities]
            stored = plan_store.get_plan(db, department_id, 2026)
            assert sum(area["parsed"]["activities"] for area in stored.areas) == len(activities), \
                "the plan row and its activities come from the same save"
            with db.session() as session:
                audited = len(session.scalars(select(AuditEntry.id).where(AuditEntry.entity == "plan")).all())
            completed = sum(line.startswith("saved") for line in _lines(progress))
            # every save that reported success is there, plus at most the one killed between commit and report
            assert completed + 1 <= audited <= completed + 2
            snapshot = load_snapshot(db, department_id, 2026)
            assert len(snapshot.activities) == len(activities)
        finally:
            db.dispose()
    assert any(line.startswith("start") for line in last_lines), "at least one kill landed inside a save"


def test_killing_the_server_during_uploads_never_leaves_a_record_without_its_whole_file(sqlite_db, tmp_path):
    ws = ensure_default_workspace(sqlite_db)
    folder = sqlite_db.settings.data_dir
    sqlite_db.dispose()
    progress = tmp_path / "progress.txt"
    last_lines = []
    for delay in (0.0, 0.01, 0.03):
        saves = sum(line.startswith("saved") for line in _lines(progress))
        child = _spawn(UPLOAD_LOOP, folder, ws.department_id, ws.year, progress)
        last_lines.append(_kill_after_saves(child, progress, saves, delay))

        _sqlite_integrity(folder)
        db = open_database(Settings(folder, f"sqlite:///{folder / 'cchc.db'}"))  # the restart finishes the killed upload
        try:
            documents = evidence_store.list_evidence(db, ws.department_id, ws.year)
            completed = sum(line.startswith("saved") for line in _lines(progress))
            assert completed <= len(documents) <= completed + 1
            for document in documents:  # every record's file is there, whole: its content hashes to its key
                content = evidence_store.evidence_file(db, document.id, viewer=actors.SYSTEM_ACTOR)[2]
                assert hashlib.sha256(content).hexdigest() in document.file_key
            store = EvidenceStore(db.settings.evidence_dir)
            for key in store.iter_keys():  # no torn file under any key
                assert hashlib.sha256(store.open_bytes(key)).hexdigest() in key
            # every file has its record, and nothing else is left (no temporary file, no upload's marker)
            on_disk = sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
            assert on_disk == sorted({d.file_key for d in documents})  # a content uploaded again is stored once
        finally:
            db.dispose()
    assert any(line.startswith("start") for line in last_lines), "at least one kill landed inside an upload"


# ---------------------------------------------------------------- hostile uploads


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and not p.name.startswith("cchc.db")}


def _docx_like() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>" * 200)
    return buffer.getvalue()


HOSTILE_UPLOADS = {  # name, content (made when the test runs), how the refusal names the file
    "corrupt docx": ("bao-cao.docx", lambda: _docx_like()[:120], "«bao-cao.docx»"),
    "zip garbage": ("bang-diem.xlsx", lambda: b"PK\x03\x04" + os.urandom(300), "«bang-diem.xlsx»"),
    "oversized": ("rat-lon.pdf", lambda: small_pdf("lon") + bytes(MAX_UPLOAD_BYTES), "«rat-lon.pdf»"),
    "traversal executable": ("../../x.pdf", lambda: b"MZ\x90\x00" + bytes(200), "«x.pdf»"),
    "exe named pdf": ("ke-hoach.pdf", lambda: b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode" + bytes(100),
                      "«ke-hoach.pdf»"),
    "elf named pdf": ("quyet-dinh.pdf", lambda: b"\x7fELF\x02\x01\x01\x00" + bytes(120), "«quyet-dinh.pdf»"),
    "script named pdf": ("to-trinh.pdf", lambda: b"#!/bin/sh\nrm -rf /\n", "«to-trinh.pdf»"),
}


@pytest.mark.parametrize("case", list(HOSTILE_UPLOADS))
def test_a_hostile_upload_is_refused_naming_the_file_and_nothing_is_kept(workspace, tmp_path, monkeypatch, case):
    db, ws = workspace
    name, make_content, shown = HOSTILE_UPLOADS[case]
    content = make_content()
    cwd = tmp_path / "thu-muc-lam-viec"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # a relative path written by mistake would land here
    before = _files(tmp_path)
    rows_before = count_rows(db)
    with pytest.raises(InputError) as refused:
        evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Báo cáo", number="9/BC"),
                          actor="an", upload=(name, content), criteria=["1.1.1"])
    assert shown in str(refused.value)
    assert count_rows(db) == rows_before  # no record, no link, no audit entry
    assert _files(tmp_path) == before  # not a byte written, inside or outside the evidence folder
    assert list(cwd.iterdir()) == []
    assert not (tmp_path.parent / "x.pdf").exists()


def test_a_path_in_the_file_name_never_becomes_a_path_on_disk(workspace, tmp_path, monkeypatch):
    db, ws = workspace
    cwd = tmp_path / "thu-muc-lam-viec"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = _files(tmp_path)
    document = evidence_store.add_evidence(db, ws.department_id, ws.year, evidence_store.EvidenceInput(doc_type="Báo cáo", number="1/BC"),
                                 actor="an", upload=("../../x.pdf", small_pdf("x")))
    assert document.file_name == "x.pdf"  # shown and downloaded under its last name only
    new = _files(tmp_path) - before
    evidence_dir = db.settings.evidence_dir.resolve()
    assert len(new) == 1 and evidence_dir in next(iter(new)).resolve().parents
    assert next(iter(new)).name == f"{hashlib.sha256(small_pdf('x')).hexdigest()}.pdf"
    assert list(cwd.iterdir()) == [] and not (tmp_path.parent / "x.pdf").exists()


# ---------------------------------------------------------------- a very large plan


def test_a_ten_thousand_row_plan_reads_whole_and_saves(sqlite_db):
    generated = generate_plan(10_000)
    plan = load_plan_bytes("ke-hoach-10000.txt", generated.data())
    assert len(plan.activities) == 10_000
    assert {a.code: (len(a.goals), len(a.tasks), len(a.activities)) for a in plan.areas} == generated.counts
    assert not [w for w in plan.warnings if "đọc được" in w.message]  # declared counts all match
    assert len({a.id for a in plan.activities}) == 10_000
    assert all(a.due is not None for a in plan.activities)
    department_id = department_store.create_department(sqlite_db, "Sở kế hoạch lớn", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(sqlite_db, department_id, plan)
    assert len(plan_store.list_activities(sqlite_db, department_id, 2026)) == 10_000


# ---------------------------------------------------------------- markup and formulas in criteria text

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(1)">'
FORMULA = '=HYPERLINK("http://x","y")'
MARKDOWN_IMAGE = "![theo dõi](http://x.invalid/a.png)"


def _hostile_criteria_set() -> dict:
    document = load_criteria_set(bundled_criteria_path()).to_dict()
    document["name"] = f"Bộ tiêu chí {SCRIPT}"
    area = document["nodes"][0]
    area["name"] = f"Chỉ đạo {IMAGE} {MARKDOWN_IMAGE}"
    group = area["children"][0]
    group["name"] = f"Kế hoạch {SCRIPT}"
    leaf = group["children"][0]
    leaf["name"] = FORMULA
    leaf["evidence"] = f"Kế hoạch {IMAGE}"
    group["children"][1]["name"] = f"Nhiệm vụ {SCRIPT} {IMAGE}"
    return document


@pytest.fixture
def hostile_workspace():
    """The app's own data folder (CCHC_DATA_DIR from conftest) with the hostile set as the 2026 assessment's set."""
    db = open_database()
    ws = ensure_default_workspace(db)
    criteria_set = criteria_set_from_dict(_hostile_criteria_set(), source_name="bo-tieu-chi-doc-hai.yaml")
    set_id = criteria_store.save_criteria_set(db, criteria_set, actor=actors.SYSTEM_ACTOR)
    assessment_store.switch_criteria_set(db, ws.assessment_id, assessment_state.get_assessment(db, ws.department_id, ws.year).settings_version,
                             criteria_set_id=set_id, actor="an")
    yield db, ws
    db.dispose()


def _page(path: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


RAW_MARKUP = re.compile(r"(?<!\\)<(?:script|img)\b|(?<!\\)!\[")  # a tag or an image that ui.md() did not escape


def _rendered_markdown(at) -> list[tuple[str, str]]:
    """(element type, text) of everything Streamlit renders as Markdown."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    # … and the buttons' labels: on Chấm điểm each criterion not open is one button that reads its code and name
    return [(kind, element.value) for kind in kinds for element in getattr(at, kind)] + [("button", b.label) for b in at.button]


def test_criterion_names_with_markup_appear_as_plain_text_on_the_scoring_page(hostile_workspace):
    at = _page("views/cham_diem.py")
    texts = [text for _, text in _rendered_markdown(at)]
    # the criterion tree — group headings and leaf headers — escapes every name through ui.md()
    assert any(t.startswith("#### ") and r"Kế hoạch \<script\>alert\(1\)\</script\>" in t for t in texts)
    assert any(r'Nhiệm vụ \<script\>alert\(1\)\</script\> \<img src=x onerror="alert\(1\)"\>' in t for t in texts)
    assert any(r'=HYPERLINK\("http\:⁠//x","y"\)' in t for t in texts)  # a word joiner keeps "http://" from autolinking
    tree = [t for t in texts if t.startswith(("#### ", "**"))]
    assert tree and not [t for t in tree if RAW_MARKUP.search(t)]


# the pages app.py lists; the parts a page imports (views/criteria_import.py…) are drawn, and checked, inside it
PAGES = sorted(re.findall(r'\("(views/[a-z_]+\.py)"', (ROOT / "app.py").read_text(encoding="utf-8")))


def test_every_page_is_checked():
    assert len(PAGES) == 8


@pytest.mark.parametrize("page", PAGES)
def test_no_criteria_text_reaches_markdown_unescaped(hostile_workspace, page):
    """Everything Streamlit renders as Markdown — labels, radio options, expander and metric labels included — with
    the checker of tests/test_hostile_text.py (escaped syntax, and no bare address left for remark-gfm to link)."""
    from test_hostile_text import live_markup_on

    at = _page(page)
    raw = live_markup_on(at)
    if page.endswith("trinh_chieu.py"):  # the projector opens on the summary: the first area is the next slide
        at.button(key="slide-next").click().run()
        assert not at.exception
        assert "Chỉ đạo" in at.title[0].value
        raw += live_markup_on(at)
    assert raw == []


def test_the_score_sheet_keeps_criteria_text_as_text_never_as_a_formula(hostile_workspace, tmp_path):
    exports = pytest.importorskip("scoring.exports.scoresheet")
    import openpyxl

    db, ws = hostile_workspace
    target = tmp_path / "bang-diem.xlsx"
    exports.write_scoresheet(load_snapshot(db, ws.department_id, ws.year), str(target))
    workbook = openpyxl.load_workbook(target)
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    formula_cells = [cell for cell in cells if cell.value == FORMULA]
    assert formula_cells, "the leaf's name is in the sheet"
    for cell in formula_cells:
        assert cell.data_type == "s" and cell.quotePrefix, f"{cell.coordinate} must stay text"
    assert any(isinstance(cell.value, str) and SCRIPT in cell.value for cell in cells)  # shown literally
    with zipfile.ZipFile(target) as archive:
        sheets = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/worksheets/")]
    formulas = [f for sheet in sheets for f in re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", sheet, re.DOTALL)]
    assert formulas, "the totals are live formulas"
    assert not [f for f in formulas if "HYPERLINK" in f or "alert" in f]  # only formulas the export built
