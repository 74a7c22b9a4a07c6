"""AppTest interactions as a browser sends them: a widget drawn inside a fragment reruns that fragment alone.

AppTest reruns the whole page for every interaction (it sends no fragment id with the widgets' states); a
browser sends the id of the fragment that drew the changed widget, and Streamlit then runs only that fragment.
Chấm điểm relies on it (a change in the open criterion is one rerun of its fragment, which also draws the totals
and headings it changes), so the tests and the AppTest benchmark make their changes through `run_in_fragment`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from streamlit.runtime.scriptrunner import RerunData
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.testing.v1.local_script_runner import LocalScriptRunner


@contextmanager
def fragment_interactions(fragment_key: str) -> Iterator[None]:
    """While open, AppTest's interaction runs are reruns of the fragment keyed `fragment_key` (st.fragment(key=…)),
    as the browser asks for them; reruns the page's callbacks ask for (st.rerun) are left as they are."""
    original = LocalScriptRunner.request_rerun

    def request_rerun(self, rerun_data):
        if rerun_data.widget_states is not None and not rerun_data.fragment_id_queue:
            rerun_data = replace(rerun_data, fragment_id_queue=self._fragment_storage.resolve_target(fragment_key))
            # AppTest makes each run's runner with a request for a whole run already queued, which would absorb the
            # fragment's; the browser's request is the only one
            with self._requests._lock:
                self._requests._state, self._requests._rerun_data = ScriptRequestType.CONTINUE, RerunData()
        return original(self, rerun_data)

    LocalScriptRunner.request_rerun = request_rerun
    try:
        yield
    finally:
        LocalScriptRunner.request_rerun = original


def run_in_fragment(widget, fragment_key: str):
    """`widget.run()` as the browser runs it when the widget was drawn by the fragment keyed `fragment_key`."""
    with fragment_interactions(fragment_key):
        return widget.run()
