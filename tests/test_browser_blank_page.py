"""The blank page of issue 19, in a real browser against the app as it is served (server.py → web.py → page_shell):
while Streamlit's code loads, the page says so in Vietnamese; when Streamlit's frontend stops (its React tree is
gone after an error, as benchmarks/reconnect.py caught under load, or it is disconnected for good), the tab says why
and reloads itself, signed in, on the same page; a tab that keeps failing stops reloading and offers a button."""

from __future__ import annotations

import pytest
from test_browser import _settled, _sign_in, browser, signed_in_server  # noqa: F401

import page_shell

pytestmark = pytest.mark.browser

# What Streamlit's frontend leaves after an error while applying an update: its React root emptied.
STREAMLIT_STOPS = "() => document.getElementById('root').replaceChildren()"
PROBLEM = "#cchc-page-problem"


def test_a_page_whose_streamlit_frontend_stops_reloads_itself_signed_in_on_the_same_page(signed_in_server, browser):
    url, _ = signed_in_server
    page = _sign_in(browser, url, "vanphong", path="/cham-diem")
    assert page.locator("h1").first.inner_text().startswith("Chấm điểm")
    with page.expect_navigation(timeout=20000):
        page.evaluate(STREAMLIT_STOPS)
        page.wait_for_selector(f"{PROBLEM}:has-text({page_shell.RELOADING!r})", timeout=10000)  # said before it reloads
    _settled(page)
    assert page.url == f"{url}/cham-diem" and page.locator("h1").first.inner_text().startswith("Chấm điểm")

    # disconnected for good (Streamlit's own state), the app element still there: the same
    with page.expect_navigation(timeout=20000):
        page.evaluate("() => document.querySelector('[data-testid=stApp]').setAttribute('data-test-connection-state', 'DISCONNECTED_FOREVER')")
    _settled(page)
    assert page.url == f"{url}/cham-diem"
    page.context.close()


def test_a_tab_that_keeps_failing_stops_reloading_and_offers_a_button(signed_in_server, browser):
    url, _ = signed_in_server
    page = _sign_in(browser, url, "vanphong", path="/cham-diem")
    page.evaluate(f"() => sessionStorage.setItem('cchc-page-reloads', JSON.stringify(Array({page_shell.MAX_RELOADS}).fill(Date.now())))")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.evaluate(STREAMLIT_STOPS)
    page.wait_for_selector(PROBLEM, timeout=10000)
    page.wait_for_timeout(3000)
    assert not navigations and page.locator(PROBLEM).inner_text().startswith(page_shell.STUCK)
    with page.expect_navigation(timeout=20000):
        page.get_by_role("button", name=page_shell.RELOAD_BUTTON).click()
    _settled(page)
    page.context.close()


def test_while_streamlits_code_loads_the_page_says_so_in_vietnamese(signed_in_server, browser):
    url, _ = signed_in_server
    page = _sign_in(browser, url, "vanphong", path="/cham-diem")
    held = []
    page.route("**/static/js/index.*.js", lambda route: held.append(route))  # Streamlit's code held back: a busy server
    page.goto(f"{url}/cham-diem", wait_until="commit")
    page.wait_for_function("() => document.getElementById('root')", timeout=20000)
    before = "() => getComputedStyle(document.getElementById('root'), '::before').content"
    assert page.evaluate(before) == f'"{page_shell.LOADING}"'
    assert page.evaluate("() => document.documentElement.lang") == "vi" and page.title() == "Chỉ số CCHC"
    page.wait_for_function("() => getComputedStyle(document.getElementById('root'), '::before').content.includes('Máy chủ đang bận')",
                           timeout=(page_shell.SLOW_SECONDS + 10) * 1000)
    for route in held:
        route.continue_()
    page.unroute("**/static/js/index.*.js")
    _settled(page)  # the app draws, the sentence goes (the root is no longer empty)
    assert page.evaluate(before) == "none"
    page.context.close()
