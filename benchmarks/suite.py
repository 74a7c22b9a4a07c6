"""What is measured. Every operation runs against a scratch data folder (CCHC_DATA_DIR in a temporary
directory, SQLite): never data/, never a DATABASE_URL from the environment.

Page reruns are timed with streamlit.testing's AppTest (`at.run()`): the page script runs exactly as the
server runs it, plus AppTest's own bookkeeping of the element tree, which the same measurement of a bare
page (st.title + st.write) shows — hence the ratio to the bare page next to the milliseconds.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.generate import Population, generate_plan, populate
from benchmarks.measure import Timing, measure, timing_of
from scoring.assessment.engine import roll_up
from scoring.assessment.snapshot import entries_from_scores, load_snapshot
from scoring.defaults import PROJECT_ROOT, bundled_plan_path
from scoring.plan.importer import load_plan_bytes
from scoring.store import actors, assessment_store, department_store, plan_store
from scoring.store.db import Database, Settings
from scoring.store.evidence_files import EvidenceStore

APP = PROJECT_ROOT / "app.py"
BARE_PAGE = "import streamlit as st\n\nst.title('Trang trống')\nst.write('Một dòng chữ.')\n"
SCORED_LEAF = "1.1.1"  # a tier leaf on the first area: the scoring page opens on it
OTHER_LEAF = "1.1.2"


@dataclass(frozen=True)
class Scale:
    key: str
    label: str
    departments: int
    years: int


SCALES = (Scale("1x1", "1 sở × 1 năm", 1, 1), Scale("40x5", "40 sở × 5 năm", 40, 5))
QUICK_SCALES = (Scale("1x1", "1 sở × 1 năm", 1, 1), Scale("5x2", "5 sở × 2 năm", 5, 2))


@dataclass(frozen=True)
class Runs:
    fast: int = 30  # pure computations of a few milliseconds
    page: int = 15  # page reruns and single saves
    export: int = 5
    slow: int = 3  # a report with charts (starts Chromium), a backup of everything

    @staticmethod
    def quick() -> Runs:
        return Runs(fast=5, page=5, export=2, slow=1)


@dataclass
class Results:
    timings: dict[str, dict[str, Timing]] = field(default_factory=dict)  # measurement key → scale key → timing
    notes: dict[str, dict[str, str]] = field(default_factory=dict)  # measurement key → scale key → short note
    populations: dict[str, Population] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # measurement key → why it was not measured

    def put(self, key: str, scale: str, timing: Timing, note: str = "") -> None:
        self.timings.setdefault(key, {})[scale] = timing
        if note:
            self.notes.setdefault(key, {})[scale] = note


@contextmanager
def scratch_data_dir(keep: Path | None = None) -> Iterator[Path]:
    """A fresh CCHC_DATA_DIR for the duration; DATABASE_URL is unset so nothing can reach a real database.
    The app runs open (CCHC_AUTH=off) unless a measurement signs in itself."""
    saved = {name: os.environ.get(name) for name in ("CCHC_DATA_DIR", "DATABASE_URL", "CCHC_AUTH")}
    folder = Path(tempfile.mkdtemp(prefix="cchc-bench-")) if keep is None else keep
    if keep is not None:
        if folder.exists() and any(folder.iterdir()):
            raise SystemExit(f"Thư mục «{folder}» đã có dữ liệu; hãy chọn một thư mục trống.")
        folder.mkdir(parents=True, exist_ok=True)
    if folder.resolve() == (PROJECT_ROOT / "data").resolve():
        raise SystemExit("Không chạy đo hiệu năng trên thư mục data/ của ứng dụng.")
    os.environ["CCHC_DATA_DIR"] = str(folder)
    os.environ.pop("DATABASE_URL", None)
    os.environ["CCHC_AUTH"] = "off"
    try:
        yield folder
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def open_scratch(folder: Path) -> Database:
    return Database(Settings(data_dir=folder, database_url=f"sqlite:///{(folder / 'cchc.db').resolve()}"))


# ------------------------------------------------------------------------------------ scale-free


def measure_plan_files(results: Results, runs: Runs, *, big_rows: int = 10_000, log: Callable[[str], None] = print) -> None:
    """Reading the bundled plan file, and a generated plan of `big_rows` activities (read, then saved)."""
    seed = bundled_plan_path().read_bytes()
    results.put("plan_parse", "1x1", measure(lambda: load_plan_bytes(bundled_plan_path().name, seed), runs=runs.fast))
    log("  đọc kế hoạch 2026: xong")

    big = generate_plan(big_rows)
    data = big.data()
    plans = []
    results.put("big_plan_parse", "1x1", measure(lambda: plans.append(load_plan_bytes("ke-hoach-lon.txt", data)),
                                                 runs=max(1, runs.slow), warmup=0),
                note=f"{vn_int(big_rows)} hoạt động, {_size(len(data))}")
    plan = plans[-1]
    with scratch_data_dir() as folder:
        db = open_scratch(folder)
        department_id = department_store.create_department(db, "Sở thử kế hoạch lớn", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
        results.put("big_plan_save", "1x1", measure(lambda: plan_store.save_plan(db, department_id, plan, mode="replace"),
                                                    runs=max(1, runs.slow), memory=False),
                    note=f"{vn_int(big_rows)} hoạt động")
        db.dispose()
    log(f"  kế hoạch {big_rows} hoạt động: xong")


# ------------------------------------------------------------------------------------ per scale


def measure_scale(results: Results, scale: Scale, runs: Runs, *, keep: Path | None = None,
                  charts: bool = True, log: Callable[[str], None] = print,
                  after: Callable[[Path, Population], None] | None = None) -> None:
    with scratch_data_dir(keep) as folder:
        db = open_scratch(folder)
        log(f"  sinh dữ liệu {scale.label}…")
        population = populate(db, scale.departments, scale.years)
        results.populations[scale.key] = population
        results.put("generate", scale.key, timing_of([population.seconds]))
        log(f"  sinh dữ liệu: {population.seconds:.1f} s, {population.rows.get('evidence', 0)} tài liệu, "
            f"{population.evidence_files} tệp")
        department_id, year, assessment_id = (population.focus_department_id, population.focus_year,
                                              population.focus_assessment_id)
        key = scale.key

        # ---- the plan: read the file and save it over the year's plan (replace keeps progress by code)
        seed = bundled_plan_path().read_bytes()
        results.put("plan_import", key, measure(
            lambda: plan_store.save_plan(db, department_id, load_plan_bytes(bundled_plan_path().name, seed), mode="replace",
                                   actor="đo hiệu năng", year=year), runs=runs.page))

        # ---- one assessment: read once, roll up
        results.put("snapshot", key, measure(lambda: load_snapshot(db, department_id, year), runs=runs.page))
        snapshot = load_snapshot(db, department_id, year)
        assert snapshot.criteria_set is not None and snapshot.rollup is not None
        assert snapshot.rollup.total.scored_leaves == len(snapshot.leaves()) == 47, "every leaf is scored"
        entries = entries_from_scores(snapshot.scores)
        results.put("rollup", key, measure(lambda: roll_up(snapshot.criteria_set, entries), runs=runs.fast))

        # ---- one save, as a page callback makes it
        toggle = _alternating_score(db, assessment_id, OTHER_LEAF)
        results.put("save_score", key, measure(toggle, runs=runs.page))
        log("  kế hoạch, đọc kỳ đánh giá, cộng điểm, lưu điểm: xong")

        # ---- page reruns
        _measure_pages(results, key, db, department_id, assessment_id, runs)
        log("  chạy lại trang (AppTest): xong")

        # ---- exports (each includes reading the assessment, as a download does)
        _measure_exports(results, key, db, department_id, year, runs, charts)
        log("  xuất tệp: xong")

        # ---- the whole province's data: backup
        from scoring.store.backup import create_backup

        target = folder.parent / f"{folder.name}-sao-luu.zip"
        try:
            timing = measure(lambda: create_backup(db, target, actor=actors.SYSTEM_ACTOR), runs=runs.slow, warmup=0)
            results.put("backup", key, timing, note=_size(target.stat().st_size))
        finally:
            target.unlink(missing_ok=True)
        log("  sao lưu: xong")
        if after is not None:
            after(folder, population)
        db.dispose()


def _alternating_score(db: Database, assessment_id: int, code: str) -> Callable[[], None]:
    """Each call saves the leaf's score with the other of two tiers, with the version it last saw."""
    state = {"version": assessment_store.list_scores(db, assessment_id)[code].version, "tier": 0}

    def save() -> None:
        state["tier"] = 1 - state["tier"]
        view, _ = assessment_store.save_self_score(db, assessment_id, code, state["version"], inputs={"tier": state["tier"]},
                                       explanation="Đo hiệu năng", actor="đo hiệu năng")
        state["version"] = view.version

    return save


@contextmanager
def server_like_script_cache() -> Iterator[None]:
    """AppTest compiles the scripts again on every run (a new ScriptCache per run); a server compiles each page
    once and keeps the bytecode. One shared cache makes `at.run()` time what a server rerun costs."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import local_script_runner

    shared = ScriptCache()
    original = local_script_runner.ScriptCache
    local_script_runner.ScriptCache = lambda: shared
    try:
        yield
    finally:
        local_script_runner.ScriptCache = original


def _measure_pages(results: Results, key: str, db: Database, department_id: int, assessment_id: int, runs: Runs) -> None:
    with server_like_script_cache():
        _measure_pages_inner(results, key, db, department_id, assessment_id, runs)


def _measure_pages_inner(results: Results, key: str, db: Database, department_id: int, assessment_id: int,
                         runs: Runs) -> None:
    from streamlit.testing.v1 import AppTest

    # the scoring page: one tier changed, the callback saves it, what shows the change is drawn again
    scoring = _opened("cham_diem", department_id)
    change_score, choose_other_tier = _score_change(scoring, assessment_id)
    results.put("page_scoring", key, measure(change_score, setup=choose_other_tier, runs=runs.page))
    _fail_on_exception(scoring, "cham_diem")
    # a score change reruns only the open criterion's fragment (it draws the totals and headings); the whole page is drawn when the area, the
    # filter or the year changes, and on every visit
    results.put("page_scoring_whole", key, measure(scoring.run, runs=runs.page))
    _fail_on_exception(scoring, "cham_diem")

    # the overview, after one score changed elsewhere
    overview = _opened("tong_quan", department_id)
    results.put("page_overview", key, measure(overview.run, setup=_alternating_score(db, assessment_id, OTHER_LEAF),
                                              runs=runs.page))
    _fail_on_exception(overview, "tong_quan")

    bare = AppTest.from_string(BARE_PAGE, default_timeout=120)
    bare.run()
    results.put("page_bare", key, measure(bare.run, runs=runs.page))

    try:
        _measure_signed_in(results, key, db, department_id, assessment_id, runs)
    except (ImportError, AttributeError, TypeError) as problem:  # sign-in is newer than this benchmark
        results.skipped["page_scoring_signed_in"] = f"không đăng nhập được để đo ({type(problem).__name__}: {problem})"[:200]


def _opened(page: str, department_id: int, session: dict | None = None):
    """A new AppTest session (with `session` entries, e.g. a signed-in account) on `page` of the app."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    for name, value in {**(session or {}), "department_id": department_id}.items():
        at.session_state[name] = value
    at.run()
    at.switch_page(f"views/{page}.py")
    at.run()
    _fail_on_exception(at, page)
    return at


def _score_change(at, assessment_id: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """(run, setup) for one score change on the scoring page as a browser makes it.

    The browser asks for a rerun of the fragment that drew the radio (the open criterion), which AppTest does not
    do by itself (benchmarks.fragment_run). After a fragment rerun AppTest's tree holds only that fragment, while a
    browser keeps the whole page and sends the state of every widget on it; so the change is made on the radio of
    the last full run and run from its tree. The two tiers are ones the plan does not suggest: the suggestion's button then stays on the page, as
    the stale tree assumes."""
    from benchmarks.fragment_run import run_in_fragment

    radio = at.radio(key=f"s-{assessment_id}-{SCORED_LEAF}-tier")
    labels = list(radio.options)[-2:]
    flip = {"i": 0}

    def choose_other_tier() -> None:
        flip["i"] = 1 - flip["i"]
        radio.set_value(labels[flip["i"]])

    def run() -> None:
        run_in_fragment(radio, f"cd-tc-{SCORED_LEAF}")  # the open criterion's fragment, as the browser asks for it
        if at.error:
            raise RuntimeError(f"trang Chấm điểm báo lỗi khi đo: {[e.value for e in at.error]}")

    return run, choose_other_tier


SIGNED_IN_USER = "vanphong.do"


def _measure_signed_in(results: Results, key: str, db: Database, department_id: int, assessment_id: int,
                       runs: Runs) -> None:
    """The scoring page as it runs by default: sign-in on, an Office account signed in (its session cookie
    looked up, and the account re-read, on every run)."""
    import ui
    from scoring.access.accounts import create_account, list_accounts, sign_in
    from scoring.access.auth import Role
    from scoring.access.sessions import open_session

    password = "Do-hieu-nang-2026!"
    if not any(a.username == SIGNED_IN_USER for a in list_accounts(db)):
        create_account(db, SIGNED_IN_USER, role=Role.OFFICE, password=password, display_name="Văn phòng (đo)",
                       department_ids=[department_id], actor=actors.SYSTEM_ACTOR)
    token = open_session(db, sign_in(db, SIGNED_IN_USER, password))
    saved, cookie = os.environ.get("CCHC_AUTH"), ui.browser_session_token
    os.environ["CCHC_AUTH"] = "on"
    ui.browser_session_token = lambda: token  # AppTest has no browser: the cookie web.py would have set
    try:
        at = _opened("cham_diem", department_id, {})
        change_score, choose_other_tier = _score_change(at, assessment_id)
        results.put("page_scoring_signed_in", key, measure(change_score, setup=choose_other_tier, runs=runs.page))
        _fail_on_exception(at, "cham_diem (đăng nhập)")
    finally:
        os.environ["CCHC_AUTH"] = saved if saved is not None else "off"
        ui.browser_session_token = cookie


def _fail_on_exception(at, page: str) -> None:
    if at.exception:
        raise RuntimeError(f"trang {page} lỗi khi đo: {[e.value for e in at.exception]}")


def _measure_exports(results: Results, key: str, db: Database, department_id: int, year: int, runs: Runs,
                     charts: bool) -> None:
    try:
        from scoring.exports import (
            write_evidence_bundle,
            write_report,
            write_scoresheet,
        )
    except ImportError as problem:  # the exports are being finished elsewhere: measure what exists
        for name in ("export_scoresheet", "export_report", "export_report_charts", "export_bundle"):
            results.skipped[name] = f"chưa có trong scoring/exports ({problem})"
        return
    store = EvidenceStore(db.settings.evidence_dir)
    sizes: dict[str, int] = {}

    def export(name: str, write) -> Callable[[], None]:
        def run() -> None:
            buffer = io.BytesIO()
            write(load_snapshot(db, department_id, year), buffer)
            sizes[name] = buffer.tell()
        return run

    jobs = [
        ("export_scoresheet", export("export_scoresheet", write_scoresheet), runs.export),
        ("export_report", export("export_report", lambda s, out: write_report(s, out, charts=False)), runs.export),
        ("export_bundle", export("export_bundle", lambda s, out: write_evidence_bundle(s, store, out)), runs.export),
    ]
    if charts:
        jobs.append(("export_report_charts", export("export_report_charts", write_report), runs.slow))
    for name, job, count in jobs:
        try:
            timing = measure(job, runs=count, warmup=1 if name != "export_report_charts" else 0)
        except Exception as problem:  # noqa: BLE001 - a missing browser must not cost the other figures
            results.skipped[name] = f"{type(problem).__name__}: {problem}"[:200]
            continue
        results.put(name, key, timing, note=_size(sizes[name]))


def vn_int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / 1024 / 1024:.1f} MB".replace(".", ",")
    return f"{count / 1024:.0f} KB"
