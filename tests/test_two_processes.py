"""Two app server processes on one PostgreSQL database, as a province runs them behind nginx (deploy/cchc@.service,
deploy/nginx-tinh.conf): a person signed in through one process is signed in on the other (the session is a row in
the database, the cookie is the browser's), and what they save through one process the other shows after a reload.

Each process keeps the data it has read between runs of a page (scoring.assessment.snapshot.SnapshotKeeper); only the data
revisions, counted in the database, tell it another process wrote. This is that, with real servers and a browser.
Cookies belong to a host, not a port, so the two processes on 127.0.0.1 see one browser's cookie as the two
processes behind one nginx name do.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from conftest import _postgres_url
from test_browser import PASSWORD, _fill_sign_in, _metric, _require_chromium, _settled, _start_server, browser  # noqa: F401 — a fixture

from scoring.access import accounts
from scoring.access.auth import Role
from scoring.store import actors, assessment_state, assessment_store, audit_trail, department_store
from scoring.store.db import Database, Settings
from scoring.store.workspace import ensure_default_workspace

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

FIRST_SAVE = ("Ban hành không kịp thời: 0,5 điểm", "0,5 / 100")  # criterion 1.1.1, chosen through process 1
SECOND_SAVE = ("Ban hành kịp thời (trước ngày 20/12 năm trước): 1 điểm", "1 / 100")  # the same one, through process 2


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Settings:
    """A clean PostgreSQL schema (skipped without TEST_DATABASE_URL, a failure on CI) and one evidence folder (the
    processes share a host), seeded once, as `python -m scoring init` does before a province starts its processes;
    and an Office account."""
    _require_chromium()
    settings = Settings(data_dir=tmp_path_factory.mktemp("province-data"), database_url=_postgres_url())
    db = Database(settings)
    workspace = ensure_default_workspace(db)
    accounts.create_account(db, "vanphong", role=Role.OFFICE, password=PASSWORD, department_ids=[workspace.department_id],
                            actor=actors.SYSTEM_ACTOR)
    db.dispose()
    return settings


@pytest.fixture(scope="module")
def two_servers(province):
    """Two `streamlit run server.py` processes with sign-in on, on their own ports, on the province's database and folder."""
    with ThreadPoolExecutor(2) as pool:  # both start at once: half the waiting
        starting = [pool.submit(_start_server, province.data_dir, "on", {"DATABASE_URL": province.database_url})
                    for _ in range(2)]
    started = [future.result() for future in starting if future.exception() is None]
    try:
        for future in starting:
            future.result()  # one that did not start fails here, and the other is still stopped below
        yield [url for _, url in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _choose(page, option: str, shown: str) -> None:
    page.get_by_text(option).first.click()
    page.wait_for_function(
        f"() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === {shown!r})",
        timeout=30000,
    )
    _settled(page)
    assert not page.locator('[data-testid="stAlertContentError"]').count()


def _reload(page) -> None:
    page.reload()
    _settled(page)


def _signed_in_on(page, heading: str) -> None:
    assert "/dang-nhap" not in page.url
    assert page.locator("h1").first.inner_text().startswith(heading)


def test_signed_in_once_on_both_processes_and_a_score_saved_through_one_shows_on_the_other(two_servers, browser, province):
    first, second = two_servers
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    through_first = context.new_page()
    through_first.goto(f"{first}/cham-diem")
    assert "/dang-nhap" in through_first.url  # no session yet: the sign-in page, which brings the browser back
    _fill_sign_in(through_first, "vanphong")
    through_first.wait_for_url(f"{first}/cham-diem", timeout=30000)
    _settled(through_first)
    _signed_in_on(through_first, "Chấm điểm")
    through_second = context.new_page()
    through_second.goto(f"{second}/cham-diem")  # the other process knows the session too: no sign-in page
    _settled(through_second)
    _signed_in_on(through_second, "Chấm điểm")
    for page in (through_first, through_second):  # both drawn before either saves: each process has read the year
        assert _metric(page, "Điểm tự chấm").inner_text() == "0 / 100"

    _choose(through_first, *FIRST_SAVE)
    _reload(through_second)  # each reload below is a new page session: it stays signed in by the cookie alone
    _signed_in_on(through_second, "Chấm điểm")
    assert _metric(through_second, "Điểm tự chấm").inner_text() == FIRST_SAVE[1]

    _choose(through_second, *SECOND_SAVE)  # the version it now shows is the stored one: no conflict
    _reload(through_first)
    _signed_in_on(through_first, "Chấm điểm")
    assert _metric(through_first, "Điểm tự chấm").inner_text() == SECOND_SAVE[1]
    context.close()

    db = Database(province)
    try:
        department_id = department_store.list_departments(db)[0].id
        stored = assessment_store.list_scores(db, assessment_state.get_assessment(db, department_id, 2026).id)["1.1.1"]
        assert (stored.version, stored.self_points) == (2, Decimal("1"))  # two saves, one through each process
        changes = audit_trail.audit_log(db, department_id, viewer=actors.SYSTEM_ACTOR, entity_key="1.1.1")
        assert changes and {change.actor for change in changes} == {"vanphong"}  # both processes knew who it was
    finally:
        db.dispose()
