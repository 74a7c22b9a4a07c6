"""The browser benchmark measures what it says: its sessions at once each work on their own department.

Two sessions on one department change the same criterion, and the second save is rightly refused as a
conflict. In open mode every session saves under the same name, so the refusal read like a conflict with the
person's own save: the «self-conflict» of the 10-session runs was two sessions on one department.
"""

from __future__ import annotations

import asyncio

import pytest
from test_browser import _require_chromium

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, _selected, app_env, open_sessions, start_server, wait_until_up
from benchmarks.generate import department_names, populate
from benchmarks.suite import open_scratch
from scoring.defaults import PROJECT_ROOT
from scoring.textnorm import vn_sort_key

pytestmark = pytest.mark.browser


async def _departments_shown(url: str, departments: list[str]) -> tuple[list[str], list[str]]:
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            targets = await open_sessions(browser, _Server(url), departments, errors)
            shown = [await _selected(t.page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
                                     .filter(has_text="Cơ quan")) for t in targets]
        finally:
            await browser.close()
    return shown, errors


class _Server:
    def __init__(self, url: str):
        self.url = url


def test_sessions_at_once_each_work_on_the_department_they_were_given(tmp_path):
    _require_chromium()
    names = department_names(6)
    db = open_scratch(tmp_path)
    populate(db, departments=len(names), years=1)
    db.dispose()
    first_by_name = min(names, key=vn_sort_key)  # where the app opens: its first department by name (ui.departments)
    assert first_by_name != names[0]  # what made two sessions share one department: the first one never chose
    server = start_server("app", PROJECT_ROOT / "server.py", app_env(tmp_path), [], tmp_path)
    try:
        wait_until_up(server)
        given = [names[0], first_by_name]
        shown, errors = asyncio.run(_departments_shown(server.url, given))
    finally:
        server.stop()
    assert not errors
    assert [[n for n in names if n in text] for text in shown] == [[n] for n in given], shown
