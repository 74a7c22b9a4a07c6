"""The room benchmark's peers do what a person's page does (benchmarks/peer.py, benchmarks/room.py).

A peer stands for a person whose browser is on their own computer: it must load the server as that page does.
So here a peer, on the served app, opens a department's Chấm điểm from its link, changes the level of a
criterion the way a click does, and the score is saved for that department only, the headline it was sent shows
the new total, and the follow tick of ui.follow_the_data keeps running as the page's own timer would run it.
"""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.browser import HEADLINE, app_env, start_server, wait_until_up
from benchmarks.generate import populate
from benchmarks.room import open_peer
from benchmarks.suite import SCORED_LEAF, open_scratch
from scoring.defaults import PROJECT_ROOT
from scoring.store import assessment_state, assessment_store, department_store
from scoring.textnorm import format_number


@pytest.fixture
def served(tmp_path):
    db = open_scratch(tmp_path)
    population = populate(db, departments=2, years=1)
    departments = [d.id for d in department_store.list_departments(db)]
    server = start_server("app", PROJECT_ROOT / "server.py", app_env(tmp_path), [], tmp_path)
    try:
        wait_until_up(server)
        yield server, db, departments, population.focus_year
    finally:
        server.stop()
        db.dispose()


def _saved(db, department_id: int, year: int) -> tuple:
    """The criterion's saved points and version for that department's year."""
    assessment = assessment_state.get_assessment(db, department_id, year)
    score = assessment_store.list_scores(db, assessment.id)[SCORED_LEAF]
    return score.self_points, score.version


def test_a_peer_changes_a_score_as_a_click_does_and_keeps_the_follow_tick(served):
    server, db, (department, other), year = served
    before, other_before = _saved(db, department, year), _saved(db, other, year)

    async def scenario():
        peer, radio = await open_peer(server.url, f"co-quan={department}&nam={year}")
        try:
            shown = peer.metrics[HEADLINE]
            answer = await peer.choose_next(radio, watch=HEADLINE)
            runs_after_click = len(peer._runs)
            await asyncio.sleep(7)  # two ticks of the 3-second follow timer
            return radio, shown, answer, len(peer._runs) - runs_after_click
        finally:
            await peer.close()

    radio, shown, answer, ticks = asyncio.run(scenario())
    assert answer.seconds is not None and not answer.errors, answer
    assert answer.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"  # one fragment run, as the page's click gives
    assert answer.metric != shown
    points, version = _saved(db, department, year)
    assert version == before[1] + 1 and points != before[0]
    assert format_number(points) in radio.value  # the level chosen is the one saved («…: 0,5 điểm»)
    assert _saved(db, other, year) == other_before
    assert ticks >= 2
