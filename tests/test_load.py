"""Load: ten people saving scores at the same time on one server, for a bounded time, on SQLite and PostgreSQL.

A Streamlit server serves every session from its own thread and shares one Database (one engine, one pool)
between them (ui.database()), so ten threads on one Database is what ten people at work are to the core.
Each thread is one person on the Chấm điểm page: they save their own criterion again and again, each save
expecting the version their last save returned, and now and then the page reads the whole year again.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, func, select

from benchmarks.generate import small_pdf
from scoring.assessment.snapshot import load_snapshot
from scoring.criteria.rules import RuleKind
from scoring.defaults import bundled_plan_path
from scoring.plan.importer import load_plan
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.db import Database, Settings
from scoring.store.models import AuditEntry
from scoring.store.revisions import DATA_REVISION
from scoring.store.workspace import ensure_default_workspace

SESSIONS = 10
# How long the ten sessions save, per database: long enough for thousands of overlapping transactions, short
# enough for CI (2 cores) to run it on SQLite and PostgreSQL well inside the suite's budget.
LOAD_SECONDS = 20
FULL_READ_EVERY = 5  # a session reads the whole year again after this many saves (a full run of the page)


@dataclass
class _Session:
    code: str
    tiers: tuple[str, str]
    saves: int = 0  # saves attempted
    version: int = 0  # the version this person last saw
    errors: list[str] = field(default_factory=list)


def _work(db, assessment_id: int, department_id: int, person: _Session, start: threading.Barrier, until: list[float]) -> None:
    start.wait()
    while time.monotonic() < until[0]:
        person.saves += 1
        try:
            saved, _ = assessment_store.save_self_score(
                db, assessment_id, person.code, person.version, inputs={"tier": person.tiers[person.saves % 2]},
                explanation=f"lần lưu thứ {person.saves}", actor=f"người chấm {person.code}")
            person.version = saved.version
            if person.saves % FULL_READ_EVERY == 0:
                load_snapshot(db, department_id, 2026)
        except Exception as err:  # every failure counts, whatever it is
            person.errors.append(f"{type(err).__name__}: {err}")
            return


def test_ten_sessions_saving_scores_at_once_lose_nothing_and_never_find_the_database_locked(db):
    workspace = ensure_default_workspace(db)
    leaves = [leaf for leaf in criteria_store.load_criteria(db, assessment_state.get_assessment(db, workspace.department_id, 2026).criteria_set_id).leaves()
              if leaf.rule.kind == RuleKind.TIERS][:SESSIONS]
    assert len(leaves) == SESSIONS
    people = [_Session(leaf.code, (leaf.rule.tiers[0].label, leaf.rule.tiers[-1].label)) for leaf in leaves]
    revision_before = db.revision()
    start, until = threading.Barrier(SESSIONS + 1), [0.0]
    threads = [threading.Thread(target=_work, args=(db, workspace.assessment_id, workspace.department_id, p, start, until))
               for p in people]
    for thread in threads:
        thread.start()
    until[0] = time.monotonic() + LOAD_SECONDS
    start.wait()
    for thread in threads:
        thread.join(timeout=LOAD_SECONDS + 60)  # a save waits at most the busy timeout
    assert not any(thread.is_alive() for thread in threads)

    assert [e for p in people for e in p.errors] == []  # no "database is locked", no conflict, nothing else
    attempted = sum(p.saves for p in people)
    assert attempted >= SESSIONS * 10, f"only {attempted} saves in {LOAD_SECONDS} s: the test proves little"
    stored = assessment_store.list_scores(db, workspace.assessment_id)
    with db.session() as session:
        audited = Counter(dict(session.execute(
            select(AuditEntry.entity_key, func.count()).where(AuditEntry.entity == "score", AuditEntry.field == "giải trình")
            .group_by(AuditEntry.entity_key)).all()))
        revision_after = session.execute(select(DATA_REVISION.c.revision)).scalar_one()
    for person in people:
        score = stored[person.code]
        # each save changed the row once (its version counts them) and wrote its line in the log
        assert score.version == person.saves, person.code
        assert audited[f"2026/{person.code}"] == person.saves, person.code
        assert score.explanation == f"lần lưu thứ {person.saves}"
        assert score.inputs == {"tier": person.tiers[person.saves % 2]}
    assert revision_after - revision_before == attempted  # one committed write per save, none lost, none extra



def test_every_write_transaction_on_sqlite_begins_with_its_write(sqlite_db):
    """Why the load above never finds the database locked: Python's sqlite3 opens a transaction just before the
    first INSERT/UPDATE/DELETE, so a save asks for the write lock first and SQLite waits for it (busy timeout).
    A transaction that read first and then asked would be refused at once, whatever the timeout (SQLITE_BUSY)."""
    workspace = ensure_default_workspace(sqlite_db)
    statements: list[str] = []
    event.listen(sqlite_db.engine, "connect", lambda connection, _record: connection.set_trace_callback(statements.append))
    sqlite_db.engine.dispose()  # the pooled connections are opened again, traced

    department_id, year = workspace.department_id, workspace.year
    assessment_store.save_self_score(sqlite_db, workspace.assessment_id, "1.1.1", 0, inputs={"tier": 1}, actor="an")
    activity = plan_store.list_activities(sqlite_db, department_id, year)[0]
    plan_store.update_activity(sqlite_db, activity.id, activity.version, actor="an", progress=40)
    plan_store.save_plan(sqlite_db, department_id, load_plan(bundled_plan_path()), mode="replace", actor="an")
    document = evidence_store.add_evidence(sqlite_db, department_id, year, evidence_store.EvidenceInput("Báo cáo", "1/BC"), actor="an",
                                 upload=("bao-cao.pdf", small_pdf("bao cao")))
    document = evidence_store.update_evidence(sqlite_db, document.id, document.version, evidence_store.EvidenceInput("Báo cáo", "2/BC"),
                                    actor="an", criteria=["1.1.1"])
    evidence_store.delete_evidence(sqlite_db, document.id, document.version, actor="an")

    after_begin = [statements[i + 1].split(None, 1)[0].upper() for i, s in enumerate(statements) if s.startswith("BEGIN")]
    assert len(after_begin) == 6
    assert set(after_begin) <= {"INSERT", "UPDATE", "DELETE"}, after_begin


# ---------------------------------------------------------------- the same through a real server and browsers

BROWSER_SESSIONS = 4  # pages (websocket sessions) on one server, each scoring its own criterion
BROWSER_ROUNDS = 5  # each page changes its criterion this many times; the pages' saves overlap in every round


def _key_class(key: str) -> str:
    """The class Streamlit gives a keyed widget's container (what its front end does to the key)."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def _wait_for_versions(db, assessment_id: int, codes: list[str], version: int, timeout: float = 60) -> None:
    """Until every criterion's score is at `version` (each page's save of this round has been committed)."""
    deadline = time.monotonic() + timeout
    while True:
        stored = assessment_store.list_scores(db, assessment_id)
        versions = {code: stored[code].version if code in stored else 0 for code in codes}
        if all(v == version for v in versions.values()):
            return
        assert time.monotonic() < deadline, f"saves of round {version} not all stored: {versions}"
        time.sleep(0.2)


@pytest.mark.browser
def test_several_browser_sessions_scoring_at_once_on_one_server_each_save_once(tmp_path):
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium, _serve, _settled

    _require_chromium()
    folder = tmp_path / "server-data"
    serving = _serve(folder, auth="off")
    url = next(serving)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = [browser.new_page(viewport={"width": 1366, "height": 900}) for _ in range(BROWSER_SESSIONS)]
            for page in pages:  # the sessions start together
                page.goto(f"{url}/cham-diem")
            for page in pages:
                _settled(page)
            db = Database(Settings(folder, f"sqlite:///{folder / 'cchc.db'}"))
            department = department_store.list_departments(db)[0]
            assessment = assessment_state.get_assessment(db, department.id, 2026)
            shown = criteria_store.load_criteria(db, assessment.criteria_set_id).node("1")  # the area the page opens on
            leaves = [leaf for leaf in shown.leaves() if leaf.rule.kind == RuleKind.TIERS][:BROWSER_SESSIONS]
            assert len(leaves) == BROWSER_SESSIONS
            for page, leaf in zip(pages, leaves):  # each person works on a criterion of their own: they open it
                opener = page.locator("." + _key_class(f"score-open-{leaf.code}") + " button")
                if opener.count():  # the area opens on its first criterion
                    opener.click()
                    page.locator("." + _key_class(f"s-{assessment.id}-{leaf.code}-tier")).wait_for(timeout=30000)
            for page in pages:
                _settled(page)
            for round_number in range(1, BROWSER_ROUNDS + 1):
                for page, leaf in zip(pages, leaves):  # every page clicks before any is waited for
                    label = leaf.rule.tiers[0 if round_number % 2 else -1].label
                    radio = page.locator("." + _key_class(f"s-{assessment.id}-{leaf.code}-tier"))
                    radio.get_by_text(re.compile("^" + re.escape(label) + ":")).click()
                _wait_for_versions(db, assessment.id, [leaf.code for leaf in leaves], round_number)
                for page in pages:
                    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)
            for page in pages:
                _settled(page)
                assert not page.locator('[data-testid="stAlertContentError"]').count()
                assert not page.locator('[data-testid="stException"]').count()
            browser.close()
        stored = assessment_store.list_scores(db, assessment.id)
        for leaf in leaves:
            log = [e for e in audit_trail.audit_log(db, department.id, entity_key=f"2026/{leaf.code}", viewer=actors.SYSTEM_ACTOR) if e.field == "thông tin chấm"]
            assert stored[leaf.code].version == BROWSER_ROUNDS == len(log), leaf.code  # each click saved once, logged once
            assert stored[leaf.code].inputs == {"tier": leaf.rule.tiers[0 if BROWSER_ROUNDS % 2 else -1].label}
        db.dispose()
    finally:
        next(serving, None)
