"""Self-scoring closes by itself at its deadline (issue 19): locked as it stands, audited, told on the lock; an
administrator's reopening afterwards is not undone by the next check; an extension moves the deadline."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.assessment.cycle import CycleState, self_scoring_due
from scoring.assessment.settings import ROUND_SELF_SCORING, default_settings
from scoring.assessment.snapshot import load_snapshot
from scoring.errors import InputError
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    audit_trail,
    criteria_store,
    cycle_store,
    department_store,
)
from tests.test_cycle_store import ADMIN, OFFICE, cycle  # noqa: F401 - the fixture

DEADLINE = date(2026, 12, 20)  # the default self-scoring round's last day (scoring.assessment.settings.default_settings)
NEXT_DAY = date(2026, 12, 21)


def test_the_rule_closes_only_after_the_last_day():
    settings = default_settings(2026)
    assert not self_scoring_due(CycleState(settings=settings, today=DEADLINE), None)  # the last day is still open
    assert self_scoring_due(CycleState(settings=settings, today=NEXT_DAY), None)
    assert not self_scoring_due(CycleState(settings=settings, today=NEXT_DAY, locked=True), None)
    assert not self_scoring_due(CycleState(settings=settings, today=NEXT_DAY), closed_on=NEXT_DAY)  # reopened since


def test_the_deadline_locks_what_is_scored_and_says_so(cycle):
    db, department_id, assessment_id = cycle
    assessment_store.save_self_score(db, assessment_id, "1.1", 0, inputs={"tier": "Kịp thời"}, actor=OFFICE)  # 1.2 left unscored
    assert cycle_store.close_due_self_scoring(db, actor=actors.SYSTEM_ACTOR, today=DEADLINE) == []
    closed = cycle_store.close_due_self_scoring(db, actor=actors.SYSTEM_ACTOR, today=NEXT_DAY)
    assert [(c.department_id, c.year, c.deadline) for c in closed] == [(department_id, 2026, DEADLINE)]
    assert closed[0].blockers > 0  # a lock by hand would have been refused: the appraisal sees what is missing
    snap = load_snapshot(db, department_id, 2026)
    assert snap.locked and snap.assessment.locked_by == "hệ thống: hết hạn tự chấm 20/12/2026"
    entry = audit_trail.audit_log(db, department_id, viewer=actors.SYSTEM_ACTOR)[0]
    assert entry.field == "chốt điểm tự chấm" and entry.new.startswith("tự động chốt khi hết hạn 20/12/2026, còn ")
    with pytest.raises(InputError, match="đã chốt"):
        assessment_store.save_self_score(db, assessment_id, "1.2", 0, inputs={"value": 2}, actor=OFFICE)
    assert cycle_store.close_due_self_scoring(db, actor=actors.SYSTEM_ACTOR, today=NEXT_DAY) == []  # once


def test_a_reopening_after_the_deadline_stays_open_until_an_extension_runs_out(cycle):
    db, department_id, assessment_id = cycle
    cycle_store.close_due_self_scoring(db, actor=actors.SYSTEM_ACTOR, today=NEXT_DAY)
    cycle_store.reopen_self_score(db, assessment_id, "Bổ sung tài liệu theo yêu cầu", actor=ADMIN)
    assert cycle_store.close_due_self_scoring(db, actor=actors.SYSTEM_ACTOR, today=date(2026, 12, 23)) == []  # not undone
    cycle_store.override_round(db, assessment_id, ROUND_SELF_SCORING, date(2026, 12, 28), "Gia hạn cho cơ quan", actor=ADMIN,
                        today=date(2026, 12, 23))
    assert cycle_store.close_due_self_scoring(db, actor=actors.SYSTEM_ACTOR, today=date(2026, 12, 28)) == []
    closed = cycle_store.close_due_self_scoring(db, actor=actors.SYSTEM_ACTOR, today=date(2026, 12, 29))
    assert [c.deadline for c in closed] == [date(2026, 12, 28)]  # the extended last day
    assert load_snapshot(db, department_id, 2026).assessment.locked_by == "hệ thống: hết hạn tự chấm 28/12/2026"


def test_only_the_system_closes_by_deadline(cycle):
    db, _, _ = cycle
    with pytest.raises(TypeError):
        cycle_store.close_due_self_scoring(db, actor=ADMIN, today=NEXT_DAY)


def test_the_app_checks_the_deadlines_as_it_is_used_at_most_every_ten_minutes(monkeypatch):
    import web
    from scoring.criteria.files import criteria_set_from_dict
    from tests.test_cycle_store import CYCLE_SET

    db = web.database()  # the scratch data folder of this test (conftest)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)

    def year_2020(name):  # long past its deadline (20/12/2020) whatever day the test runs
        department_id = department_store.create_department(db, name, ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
        assessment_store.open_assessment(db, department_id, 2020, set_id, actor=actors.SYSTEM_ACTOR)
        return department_id

    first = year_2020("Sở Một")
    monkeypatch.setattr(web, "_next_deadline_check", [0.0])
    web.close_at_deadlines_now_and_then(now=1000.0)  # off for the test suite (conftest)
    assert assessment_state.get_assessment(db, first, 2020).locked_at is None
    monkeypatch.setenv("CCHC_CLOSE_AT_DEADLINE", "on")
    web.close_at_deadlines_now_and_then(now=1000.0)
    assert assessment_state.get_assessment(db, first, 2020).locked_by == "hệ thống: hết hạn tự chấm 20/12/2020"
    second = year_2020("Sở Hai")
    web.close_at_deadlines_now_and_then(now=1000.0 + web.DEADLINE_CHECK_SECONDS - 1)
    assert assessment_state.get_assessment(db, second, 2020).locked_at is None  # checked less than ten minutes ago
    web.close_at_deadlines_now_and_then(now=1000.0 + web.DEADLINE_CHECK_SECONDS)
    assert assessment_state.get_assessment(db, second, 2020).locked_at is not None


def test_the_command_line_closes_what_is_due(monkeypatch, capsys):
    from scoring import cli
    from scoring.criteria.files import criteria_set_from_dict
    from scoring.store.db import open_database
    from tests.test_cycle_store import CYCLE_SET

    db = open_database()
    department_id = department_store.create_department(db, "Sở Một", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    assessment_store.open_assessment(db, department_id, 2020, set_id, actor=actors.SYSTEM_ACTOR)
    assert cli.main(["close-due"]) == 0
    assert capsys.readouterr().out.startswith("Đã chốt điểm tự chấm: Sở Một năm 2020 (hết hạn 20/12/2020, còn ")
    assert cli.main(["close-due"]) == 0
    assert capsys.readouterr().out == "Không có bản tự chấm nào đã hết hạn mà chưa chốt.\n"
