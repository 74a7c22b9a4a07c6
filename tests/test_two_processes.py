"""Two app server processes on one PostgreSQL database, as a province runs them behind nginx (deploy/cchc@.service,
deploy/nginx-tinh.conf): what a person saves through one process, the other process shows after a reload.

Each process keeps the data it has read between runs of a page (scoring.snapshot.SnapshotKeeper); only the data
revision, counted in the database, tells it another process wrote. This is that, with real servers and a browser.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from conftest import _postgres_url
from scoring import repository as repo
from scoring.db import Database, Settings
from scoring.workspace import ensure_default_workspace
from test_browser import _metric, _require_chromium, _settled, _start_server, browser  # noqa: F401 — browser is a fixture

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

FIRST_SAVE = ("Ban hành không kịp thời: 0,5 điểm", "0,5 / 100")  # criterion 1.1.1, chosen through process 1
SECOND_SAVE = ("Ban hành kịp thời (trước ngày 20/12 năm trước): 1 điểm", "1 / 100")  # the same one, through process 2


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Settings:
    """A clean PostgreSQL schema (skipped without TEST_DATABASE_URL, a failure on CI) and one evidence folder (the
    processes share a host), seeded once, as `python -m scoring init` does before a province starts its processes."""
    _require_chromium()
    settings = Settings(data_dir=tmp_path_factory.mktemp("province-data"), database_url=_postgres_url())
    db = Database(settings)
    ensure_default_workspace(db)
    db.dispose()
    return settings


@pytest.fixture(scope="module")
def two_servers(province):
    """Two `streamlit run server.py` processes on their own ports, both on the province's database and folder."""
    def start(_):
        return _start_server(province.data_dir, "off", "server.py", {"DATABASE_URL": province.database_url})

    with ThreadPoolExecutor(2) as pool:  # both start at once: half the waiting
        started = list(pool.map(start, range(2)))
    yield [url for _, url in started]
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


def test_a_score_saved_through_one_process_shows_on_the_other_after_a_reload(two_servers, browser, province):
    first, second = two_servers
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pages = []
    for url in (first, second):  # both pages drawn before either saves: each process has read the year
        page = context.new_page()
        page.goto(f"{url}/cham-diem")
        _settled(page)
        assert _metric(page, "Điểm tự chấm").inner_text() == "0 / 100"
        pages.append(page)
    through_first, through_second = pages

    _choose(through_first, *FIRST_SAVE)
    _reload(through_second)
    assert _metric(through_second, "Điểm tự chấm").inner_text() == FIRST_SAVE[1]

    _choose(through_second, *SECOND_SAVE)  # the version it now shows is the stored one: no conflict
    _reload(through_first)
    assert _metric(through_first, "Điểm tự chấm").inner_text() == SECOND_SAVE[1]
    context.close()

    db = Database(province)
    try:
        assessment = repo.get_assessment(db, repo.list_departments(db)[0].id, 2026)
        stored = repo.list_scores(db, assessment.id)["1.1.1"]
        assert (stored.version, stored.self_points) == (2, Decimal("1"))  # two saves, one through each process
    finally:
        db.dispose()
