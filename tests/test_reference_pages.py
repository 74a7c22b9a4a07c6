"""The browser benchmark's reference pages draw what it clicks and reads (benchmarks/browser.py).

The score-change figure is read against two pages served in the same run: a bare one (a radio and a metric) and
one of Chấm điểm's shape and size with nothing computed. A reference page that failed to draw would leave the
benchmark waiting for a radio that is never there, so each is run here as Streamlit runs it.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.browser import BARE_METRIC, BARE_SCRIPT, TWIN_SCRIPT


@pytest.mark.parametrize("script", [BARE_SCRIPT, TWIN_SCRIPT], ids=["trang-trong", "trang-mau"])
def test_a_reference_page_changes_its_figure_with_its_radio(script):
    at = AppTest.from_string(script).run()
    assert not at.exception
    assert [r.key for r in at.radio] == ["muc"]
    at.radio(key="muc").set_value("Mức 2").run()
    assert {m.label: m.value for m in at.metric}[BARE_METRIC] == "Mức 2"


def test_the_twin_page_has_the_parts_of_cham_diem():
    at = AppTest.from_string(TWIN_SCRIPT).run()
    assert len(at.metric) == 5 and len(at.expander) == 2 and len(at.button) == 11
    assert at.multiselect(key="tai-lieu") and at.text_area(key="giai-trinh") and at.selectbox(key="linh-vuc")
