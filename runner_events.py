"""Every message of a script run reaches the browser, even when the browser's next request overtakes them.

Streamlit 1.67 runs a session's script in a ScriptRunner thread; what the run draws goes to the session's event loop
as events (AppSession._on_scriptrunner_event → call_soon_threadsafe), and the loop sends them to the browser. A
runner that has finished its run refuses new requests, so the session makes a new runner for the next one, and from
then on the loop IGNORES every event of the old runner not handled yet (`sender is not self._scriptrunner`). On a
busy server the loop can take a request from the browser before it has handled the events of the run that just
ended; the run's messages are then dropped whole: its deltas and its script_finished.

On Chấm điểm this lost clicks' results (issue 17/19, 10 sessions): the radio's callback saved the score, the
criterion's fragment drew it with the new totals, and the browser's next request — the 3-second check of
ui.follow_the_data (`_watch_revision`), sent at the same moment — made a new runner first. The browser never saw
the run, so the criterion and the headline kept the old score while the database and the radio had the new one;
and since the session had drawn it (ui.score_saved moved its kept revision), nothing redrew it later.
benchmarks/reconnect.py --check records such clicks (the websocket shows the fragment's run missing, or started
and never finished).

The rule here: an event is handled if its runner was the session's current one when it SENT it — what Streamlit
does whenever its loop keeps up — instead of when the loop gets to it. A finished runner's events were all sent
before it refused the request that replaced it, so they reach the loop, and the browser, before the new runner's.
A runner replaced while running (a full rerun stops it: runner.fastReruns) is no longer current for what it sends
afterwards, which stays ignored as before; its SHUTDOWN is left to Streamlit (it clears the current runner).
"""

from __future__ import annotations

from streamlit.logger import get_logger
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner import ScriptRunnerEvent

log = get_logger("cchc.runner_events")  # in the server's log, with Streamlit's own lines

_INSTALLED = "_cchc_runner_events"
# Streamlit's own method, kept alive: a runner started before install() holds it weakly (blinker's signal), and
# without this reference it would be collected and that runner's events would reach no one (its page stays empty).
_STREAMLITS_ON_EVENT = AppSession._on_scriptrunner_event


def _on_scriptrunner_event(self: AppSession, sender, event, **details) -> None:
    """AppSession._on_scriptrunner_event, in the runner's thread: whether the runner is current is decided now."""
    if sender is None or event == ScriptRunnerEvent.SHUTDOWN or sender is not self._scriptrunner:
        self._call_soon_on_event_loop(lambda: self._handle_scriptrunner_event_on_event_loop(sender, event, **details))
        return
    self._call_soon_on_event_loop(lambda: _handle_sent_by_current(self, sender, event, **details))


def _handle_sent_by_current(self: AppSession, sender, event, **details) -> None:
    """On the event loop: an event its runner sent while current is handled as if that runner still were."""
    current = self._scriptrunner
    if current is sender:
        self._handle_scriptrunner_event_on_event_loop(sender, event, **details)
        return
    if event in (ScriptRunnerEvent.SCRIPT_STARTED, ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS,
                 ScriptRunnerEvent.FRAGMENT_STOPPED_WITH_SUCCESS, ScriptRunnerEvent.SCRIPT_STOPPED_FOR_RERUN):
        log.info("a run's %s reached the browser after the next request had made a new runner", event.name)
    self._scriptrunner = sender  # only for the check in Streamlit's handler; this is the loop's thread
    try:
        self._handle_scriptrunner_event_on_event_loop(sender, event, **details)
    finally:
        self._scriptrunner = current


def install() -> None:
    """Once per process (a server's sessions share the class). Runners already started keep Streamlit's method."""
    if getattr(AppSession, _INSTALLED, False):
        return
    AppSession._on_scriptrunner_event = _on_scriptrunner_event
    setattr(AppSession, _INSTALLED, True)
