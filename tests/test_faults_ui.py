"""Faults as people meet them on the pages: a full disk, a read-only data folder, a database another process holds,
the server killed while a page saves a plan or stores an evidence upload.

The core's side (a StorageError with a sentence, nothing saved; a save loop killed) is tests/test_faults.py and
tests/test_robustness.py; here the page shows the sentence where the person made the save, keeps what they chose,
typed or uploaded and saves it once storage is back, and a real server killed in the middle of a page's save
restarts on a whole database and a store with every file beside its record.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

import scoring.store.db as db_module
import ui
from benchmarks.generate import write_plan_file
from scoring.plan.stats import STATUS_DONE, STATUS_LABELS
from scoring.store import (
    assessment_state,
    assessment_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.db import Database, Settings, open_database
from scoring.store.models import AuditEntry

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SEED_PLAN = ROOT / "tests" / "fixtures" / "plans" / "seed.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_ONLY = "chế độ chỉ đọc"
BUSY = "đang bận"
CHOSEN = "Ban hành không kịp thời"


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _errors(at: AppTest) -> list[str]:
    return [_plain(e.value) for e in at.error]


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert ui.UNEXPECTED_ERROR not in _errors(at)


def _app_on(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page)
    at.run()
    _clean(at)
    return at


def _stored():
    db = open_database()  # the scratch folder of conftest, writable
    department = department_store.list_departments(db)[0]
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    return db, department, assessment


@pytest.fixture
def read_only(tmp_path, monkeypatch):
    """The app's database seeded, then opened read-only: what SQLite does when the data folder cannot be written
    (chmod does not stop root, so SQLite's own read-only mode stands in). Unset, the app writes again."""
    _app_on("views/cham_diem.py")  # first start: migrates and seeds the database
    path = tmp_path / "data" / "cchc.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    return monkeypatch


def test_a_score_chosen_while_the_folder_is_read_only_is_told_kept_on_screen_and_not_stored(read_only):
    at = _app_on("views/cham_diem.py")
    db, _, assessment = _stored()
    key = f"s-{assessment.id}-1.1.1-tier"
    at.radio(key=key).set_value(CHOSEN).run()
    _clean(at)
    assert any(READ_ONLY in e for e in _errors(at)), _errors(at)
    assert at.radio(key=key).value == CHOSEN  # the whole page again, still showing what the person chose
    assert "1.1.1" not in assessment_store.list_scores(db, assessment.id)

    read_only.delenv("DATABASE_URL")  # the administrator gives the folder back
    at.radio(key=key).set_value("Ban hành kịp thời (trước ngày 20/12 năm trước)").run()
    _clean(at)
    assert not _errors(at)
    assert assessment_store.list_scores(db, assessment.id)["1.1.1"].self_points == Decimal(1)


def test_a_plan_table_edit_while_the_folder_is_read_only_is_told_and_the_table_shows_what_is_stored(read_only):
    at = _app_on("views/ke_hoach.py")
    db, department, _ = _stored()
    first = plan_store.list_activities(db, department.id, 2026)[0]
    editor = f"plan-editor-{department.id}-2026-0"
    at.session_state[editor] = {"edited_rows": {0: {"Trạng thái": "Hoàn thành"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _clean(at)
    assert any(READ_ONLY in e for e in _errors(at)), _errors(at)
    assert not at.success
    stored = plan_store.list_activities(db, department.id, 2026)[0]
    assert (stored.status, stored.version) == (first.status, first.version)
    # the table is drawn again, under a new key, from what is stored: it never shows a status that was not saved
    table = at.get("data_editor")[0].value
    assert first.status != STATUS_DONE
    assert (table.iloc[0]["Mã"], table.iloc[0]["Trạng thái"]) == (first.code, STATUS_LABELS[first.status])


def test_a_plan_import_refused_by_a_read_only_folder_keeps_the_file_and_saves_it_once_writable(read_only):
    at = _app_on("views/ke_hoach.py")
    db, department, _ = _stored()
    before = plan_store.get_plan(db, department.id, 2026)
    at.file_uploader(key="plan-upload").upload(SEED_PLAN.name, SEED_PLAN.read_bytes(), XLSX).run()
    at.button(key="plan-save").click().run()
    _clean(at)
    assert any(READ_ONLY in e for e in _errors(at)), _errors(at)
    assert plan_store.get_plan(db, department.id, 2026).imported_at == before.imported_at  # nothing stored
    assert at.button(key="plan-save"), "the uploaded file is still there, ready to save again"

    read_only.delenv("DATABASE_URL")
    at.button(key="plan-save").click().run()
    _clean(at)
    assert not _errors(at)
    assert plan_store.get_plan(db, department.id, 2026).imported_at > before.imported_at


HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=0)
connection.execute("BEGIN EXCLUSIVE")  # the write lock, held for 20 s unless this process ends first
print("held", flush=True)
time.sleep(20)
"""


def test_a_save_while_another_process_holds_the_database_waits_a_bounded_time_then_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_SECONDS", 1)  # read when the app opens its database
    at = _app_on("views/cham_diem.py")
    db, _, assessment = _stored()
    key = f"s-{assessment.id}-1.1.1-tier"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "data" / "cchc.db")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        at.radio(key=key).set_value(CHOSEN).run()
        waited = time.monotonic() - started
        _clean(at)
        assert any(BUSY in e for e in _errors(at)), _errors(at)
        assert 1 <= waited < 10, waited  # waited for the lock, gave up long before the other process let go
        assert at.radio(key=key).value == CHOSEN
        assert "1.1.1" not in assessment_store.list_scores(db, assessment.id)
    finally:
        holder.kill()
        holder.wait()
    at.radio(key=key).set_value("Không ban hành").run()  # the other process is gone: the next choice saves
    _clean(at)
    assert not _errors(at)
    assert assessment_store.list_scores(db, assessment.id)["1.1.1"].inputs == {"tier": "Không ban hành"}


# ---------------------------------------------------------------- the server killed in the middle of a save from the page

KILLED_PLAN_ACTIVITIES = 10_000  # a plan whose save takes seconds, so the kill lands inside it


def _sqlite_is_whole(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def _plan_stored(folder: Path) -> tuple[int, int, int]:
    """(activities stored, activities the plan row counts, plan saves in the log), reading as the app does."""
    db = Database(Settings(folder, f"sqlite:///{folder / 'cchc.db'}"))
    try:
        department = department_store.list_departments(db)[0]
        activities = len(plan_store.list_activities(db, department.id, 2026))
        counted = sum(area["parsed"]["activities"] for area in plan_store.get_plan(db, department.id, 2026).areas)
        with db.session() as session:
            saves = len(session.scalars(select(AuditEntry.id).where(AuditEntry.entity == "plan")).all())
        return activities, counted, saves
    finally:
        db.dispose()


def _import_plan(page, plan_file: Path) -> None:
    """On Kế hoạch: open the import, upload the file, wait until it is read, press save."""
    page.get_by_text("Nhập kế hoạch từ tệp").first.click()
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Chọn tệp kế hoạch")
    uploader.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(plan_file))
    save = page.get_by_role("button", name="Lưu kế hoạch năm 2026")
    save.wait_for(timeout=60000)  # drawn once the file is read
    save.click()


@pytest.mark.browser
def test_killing_the_server_while_the_plan_page_saves_leaves_the_old_plan_whole_and_the_app_working(tmp_path):
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS, _open_from_menu, _require_chromium, _settled, _start_server

    _require_chromium()
    folder = tmp_path / "server-data"
    plan_file = tmp_path / "ke-hoach-lon.txt"
    write_plan_file(plan_file, KILLED_PLAN_ACTIVITIES)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server, url = _start_server(folder, auth="off")
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(url)
            _settled(page)  # the first visit seeds the bundled plan
            before = _plan_stored(folder)
            _open_from_menu(page, "Kế hoạch")
            _import_plan(page, plan_file)
            # the spinner shows once the save has run for half a second; the save takes several
            page.get_by_text("Đang lưu…").first.wait_for(timeout=60000)
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
            page.close()
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()

        _sqlite_is_whole(folder / "cchc.db")
        assert _plan_stored(folder) == before, "the save killed half-way left no trace: the old plan, whole"

        server, url = _start_server(folder, auth="off")  # the server restarted on the same folder
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            for path in ("tong-quan", "ke-hoach", "cham-diem"):
                page.goto(f"{url}/{path}")
                _settled(page)
                assert not page.locator('[data-testid="stException"]').count(), path
                assert not page.get_by_text(ui.UNEXPECTED_ERROR).count(), path
            # and it writes again: nothing of the killed save holds a lock
            page.get_by_text(f"{CHOSEN}: 0,5 điểm").first.click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === '0,5 / 100')",
                timeout=30000)
            page.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    _sqlite_is_whole(folder / "cchc.db")
    assert _plan_stored(folder) == before
    db = Database(Settings(folder, f"sqlite:///{folder / 'cchc.db'}"))
    department = department_store.list_departments(db)[0]
    assert assessment_store.list_scores(db, assessment_state.get_assessment(db, department.id, 2026).id)["1.1.1"].inputs == {"tier": CHOSEN}
    db.dispose()


# ---------------------------------------------------------------- a save inside a page when storage fails

# What SQLite says when the disk is full, the data folder read-only or another process holds the write lock, and
# the words of the sentence each becomes (scoring.errors). The fault is raised by the driver on every write
# statement, so each page's save meets it exactly where a real one would.
FAULTS = {
    "disk-full": ("database or disk is full", "Ổ đĩa chứa dữ liệu đã đầy"),
    "read-only": ("attempt to write a readonly database", "Thư mục dữ liệu đang ở chế độ chỉ đọc"),
    "busy": ("database is locked", "Cơ sở dữ liệu đang bận"),
}
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


class _FailingWrites:
    """Every INSERT/UPDATE/DELETE on the app's own engine fails as SQLite fails it, until `stop()`."""

    def __init__(self, message: str):
        from sqlalchemy import event

        self.message, self.event = message, event
        self.engine = ui.database().engine  # the app's database, opened by the page in this process
        self.event.listen(self.engine, "before_cursor_execute", self._fail)

    def _fail(self, _connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise sqlite3.OperationalError(self.message)

    def stop(self) -> None:
        self.event.remove(self.engine, "before_cursor_execute", self._fail)


def _in_form(widgets, label: str, form: str):
    (widget,) = [w for w in widgets if w.label == label and w.form_id.startswith(form)]
    return widget


def _press(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()


def _nodes(node, path=()):
    """Every block and element of the page with its place in the tree, in the order they are drawn."""
    yield node, path
    for index, child in getattr(node, "children", {}).items():
        yield from _nodes(child, (*path, index))


def _said_beside(at: AppTest, words: str, is_input: Callable) -> bool:
    """Whether an error with `words` is drawn inside the same part of the page (a criterion's box, a tab) as the
    input the save was made from, rather than at the top of the page."""
    nodes = list(_nodes(at._tree))
    errors = [path for node, path in nodes if getattr(node, "type", "") == "error" and words in _plain(node.value)]
    inputs = [path for node, path in nodes if is_input(node)]
    return any(len(error) > 2 and place[:len(error) - 1] == error[:-1] for error in errors for place in inputs)


def _told(at: AppTest, words: str) -> None:
    _clean(at)
    assert any(words in e for e in _errors(at)), _errors(at)
    assert not any("ngoài dự kiến" in e for e in _errors(at)), _errors(at)
    assert not [s.value for s in at.success if s.value.startswith("Đã ")], "nothing is said to be saved"


@dataclass
class _PageSave:
    """One save a person makes on a page: make it, see it still on screen, make it again as is, find it stored."""

    page: str
    source: Callable  # is this node the input the save was made from?
    make: Callable[[AppTest], None]
    kept: Callable[[AppTest], bool]
    again: Callable[[AppTest], None]
    stored: Callable[[], bool]
    files: Callable[[], list[str]] = lambda: []  # what the save keeps on disk besides the database


def _evidence_files() -> list[str]:
    root = open_database().settings.evidence_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _score_save() -> _PageSave:
    """Chấm điểm: a level of 1.1.1 chosen."""
    db, _, assessment = _stored()
    key = f"s-{assessment.id}-1.1.1-tier"
    return _PageSave(
        "views/cham_diem.py", lambda node: getattr(node, "key", None) == key,
        make=lambda at: at.radio(key=key).set_value(CHOSEN).run(),
        kept=lambda at: at.radio(key=key).value == CHOSEN,
        again=lambda at: at.radio(key=key).set_value("Không ban hành").run(),  # a radio saves when it changes
        stored=lambda: "1.1.1" in assessment_store.list_scores(db, assessment.id))


EVIDENCE_FORM = "evidence-add-"


def _evidence_save() -> _PageSave:
    """Tài liệu kiểm chứng: a new document with its PDF; saved again by pressing the button, the file not chosen again."""
    db, department, _ = _stored()

    def make(at):
        _in_form(at.text_input, "Số, ký hiệu", EVIDENCE_FORM).input("15/KH-SDTTG")
        _in_form(at.text_area, "Trích yếu", EVIDENCE_FORM).input("Kế hoạch CCHC năm 2026")
        (uploader,) = [u for u in at.file_uploader if u.form_id.startswith(EVIDENCE_FORM)]
        uploader.upload("ke-hoach.pdf", PDF, "application/pdf")
        _press(at, "Lưu tài liệu")

    def stored():
        return [(e.number, e.summary, e.file_name) for e in evidence_store.list_evidence(db, department.id, 2026)] == [
            ("15/KH-SDTTG", "Kế hoạch CCHC năm 2026", "ke-hoach.pdf")]

    return _PageSave(
        "views/tai_lieu.py", lambda node: getattr(node, "form_id", "").startswith(EVIDENCE_FORM), make,
        kept=lambda at: (_in_form(at.text_input, "Số, ký hiệu", EVIDENCE_FORM).value,
                         _in_form(at.text_area, "Trích yếu", EVIDENCE_FORM).value) == ("15/KH-SDTTG", "Kế hoạch CCHC năm 2026"),
        again=lambda at: _press(at, "Lưu tài liệu"),
        stored=stored, files=_evidence_files)


def _bonus_cap(at: AppTest):
    return next(n for n in at.text_input if n.label == "Điểm thưởng tối đa")  # a text field: typed with a decimal comma


def _settings_save() -> _PageSave:
    """Cấu hình: the year's bonus cap."""
    db, _, assessment = _stored()
    assert cycle_store.year_settings(db, assessment.id).bonus_cap != Decimal("3.5")

    def make(at):
        _bonus_cap(at).set_value("3,5")
        _press(at, "Lưu thiết lập năm")

    return _PageSave(
        "views/cau_hinh.py", lambda node: getattr(node, "label", None) == "Điểm thưởng tối đa", make,
        kept=lambda at: _bonus_cap(at).value == "3,5",
        again=lambda at: _press(at, "Lưu thiết lập năm"),
        stored=lambda: cycle_store.year_settings(db, assessment.id).bonus_cap == Decimal("3.5"))


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("save", [_score_save, _evidence_save, _settings_save], ids=["cham-diem", "tai-lieu", "cau-hinh"])
def test_a_save_inside_a_page_when_storage_fails_says_which_failure_keeps_what_was_typed_and_saves_it_later(save, fault):
    message, sentence = FAULTS[fault]
    _app_on("views/tong_quan.py")  # first start: migrates and seeds the database
    what = save()
    at = _app_on(what.page)
    failing = _FailingWrites(message)
    try:
        what.make(at)
        _told(at, sentence)
        assert _said_beside(at, sentence, what.source), "said where the save was made, not only at the top of the page"
        assert what.kept(at), "what the person typed or chose is still on the page"
        assert not what.stored()
        assert what.files() == [], "no file without its record"
    finally:
        failing.stop()
    what.again(at)  # storage is back: the same input, as it stands on the page, saves
    _clean(at)
    assert not _errors(at)
    assert what.stored()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_plan_table_edit_when_storage_fails_says_which_failure_and_the_table_shows_what_is_stored(fault):
    message, sentence = FAULTS[fault]
    at = _app_on("views/ke_hoach.py")
    db, department, _ = _stored()
    first = plan_store.list_activities(db, department.id, 2026)[0]
    failing = _FailingWrites(message)
    try:
        at.session_state[f"plan-editor-{department.id}-2026-0"] = {
            "edited_rows": {0: {"Trạng thái": "Hoàn thành"}}, "added_rows": [], "deleted_rows": []}
        at.run()
        _told(at, sentence)
    finally:
        failing.stop()
    drawn = [node for node, _ in _nodes(at._tree)]
    said = next(i for i, node in enumerate(drawn) if getattr(node, "type", "") == "error" and sentence in _plain(node.value))
    filters = next(i for i, node in enumerate(drawn) if getattr(node, "label", None) == "Lĩnh vực")
    table = next(i for i, node in enumerate(drawn) if getattr(node, "type", "") == "dataframe")
    assert filters < said < table, "said just above the table the edit was made in"
    stored = plan_store.list_activities(db, department.id, 2026)[0]
    assert (stored.status, stored.version) == (first.status, first.version)
    table = at.get("data_editor")[0].value
    assert table.iloc[0]["Trạng thái"] == STATUS_LABELS[first.status]  # never a status that was not saved


@pytest.mark.parametrize("code, fault", [("ENOSPC", "disk-full"), ("EROFS", "read-only")])
def test_a_file_system_refusing_the_evidence_file_is_told_on_the_page_and_nothing_is_kept_on_disk(monkeypatch, code, fault):
    """The file system, not the database, refuses: the evidence file cannot be written (no space, read-only)."""
    import errno
    import os

    _app_on("views/tong_quan.py")  # first start: migrates and seeds the database
    what = _evidence_save()
    at = _app_on(what.page)

    def refused(*_args):
        raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))

    with monkeypatch.context() as patched:
        patched.setattr("scoring.store.evidence_files.write_atomically", refused)
        what.make(at)
        _told(at, FAULTS[fault][1])
        assert what.kept(at) and not what.stored()
        assert what.files() == []
    what.again(at)
    _clean(at)
    assert what.stored()


# ---------------------------------------------------------------- the server killed in the middle of an evidence upload from the page

KILLED_UPLOAD_BYTES = 19 * 1024 * 1024  # under the 20 MB limit, and long enough to write that the kill lands inside


def _evidence_left(folder: Path) -> tuple[list[tuple[str | None, str]], list[str]]:
    """(the evidence records as (file key, number), every file in the evidence folder), reading as the app does."""
    db = Database(Settings(folder, f"sqlite:///{folder / 'cchc.db'}"))
    try:
        department = department_store.list_departments(db)[0]
        records = [(e.file_key, e.number) for e in evidence_store.list_evidence(db, department.id, 2026)]
    finally:
        db.dispose()
    root = folder / "evidence"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return records, files


def _add_evidence(page, number: str, file: Path) -> None:
    """On Tài liệu kiểm chứng: the «Thêm tài liệu» form filled, its file uploaded to the server, then saved."""
    page.get_by_role("tab", name="Thêm tài liệu").click()
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Lưu tài liệu"))
    form.get_by_label("Số, ký hiệu").fill(number)
    form.get_by_label("Trích yếu").fill("Báo cáo kết quả CCHC năm 2026")
    form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(file))
    form.locator('[data-testid="stFileChip"]').filter(has_text=file.name).wait_for(timeout=60000)
    page.wait_for_function(  # the browser has finished sending the file to the server
        "() => !document.querySelector('[data-testid=stFileChipIconSpinner]')", timeout=120000)
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Lưu tài liệu").click()


@pytest.mark.browser
def test_killing_the_server_while_an_evidence_upload_is_stored_leaves_no_record_without_its_file_nor_file_without_its_record(tmp_path):
    import hashlib

    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS, _open_from_menu, _require_chromium, _settled, _start_server

    _require_chromium()
    folder = tmp_path / "server-data"
    large = tmp_path / "bao-cao-19mb.pdf"
    large.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * (KILLED_UPLOAD_BYTES // 256 - 1) + b"\n%%EOF\n")
    digest = hashlib.sha256(large.read_bytes()).hexdigest()
    stored_at = folder / "evidence" / digest[:2]
    marker, part = stored_at / f".pending-{digest}.pdf", stored_at / f".upload-{digest}.pdf.part"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server, url = _start_server(folder, auth="off")
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(url)
            _settled(page)  # the first visit seeds the database
            _open_from_menu(page, "Tài liệu kiểm chứng")
            _add_evidence(page, "19/BC-SDTTG", large)
            deadline = time.monotonic() + 60
            while not (marker.exists() or part.exists()):  # the upload is being stored: its marker, then its temporary file
                assert time.monotonic() < deadline, "the upload never reached the evidence folder"
                time.sleep(0.001)
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
            page.close()
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()

        _sqlite_is_whole(folder / "cchc.db")
        records, files = _evidence_left(folder)
        assert records == [], "the record was never committed"
        assert f"{digest[:2]}/{marker.name}" in files, "the kill landed while the upload was being stored"

        server, url = _start_server(folder, auth="off")  # the server restarted on the same folder
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            for path in ("tong-quan", "tai-lieu"):  # the first visit opens the database, which finishes the killed upload
                page.goto(f"{url}/{path}")
                _settled(page)
                assert not page.locator('[data-testid="stException"]').count(), path
                assert not page.get_by_text(ui.UNEXPECTED_ERROR).count(), path
            assert _evidence_left(folder) == ([], []), "nothing of the killed upload is left: no file, no temporary file"
            # and the page stores the same document again: nothing of the killed upload holds a lock
            _add_evidence(page, "19/BC-SDTTG", large)
            page.wait_for_function("() => document.body.innerText.includes('Đã lưu tài liệu')", timeout=60000)
            page.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    _sqlite_is_whole(folder / "cchc.db")
    key = f"{digest[:2]}/{digest}.pdf"
    assert _evidence_left(folder) == ([(key, "19/BC-SDTTG")], [key])  # one record, its whole file, nothing else
    assert hashlib.sha256((folder / "evidence" / key).read_bytes()).hexdigest() == digest
