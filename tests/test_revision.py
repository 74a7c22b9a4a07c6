"""The data revision and what it lets pages keep: every committed write moves it on by exactly one, on
SQLite and PostgreSQL; a kept snapshot is reused only while it has not moved, and takes the person's own
score save in place of a reload only when that save is the only write since."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import delete, select

from scoring.assessment.snapshot import SnapshotKeeper, load_snapshot
from scoring.criteria.files import content_digest, load_criteria_set, stored_criteria_set
from scoring.defaults import bundled_criteria_path
from scoring.errors import ConflictError, InputError
from scoring.store import actors, assessment_store, criteria_store, department_store, evidence_store
from scoring.store.backup import create_backup
from scoring.store.db import Database, Settings
from scoring.store.models import AuditEntry, CriteriaSetRecord, EvidenceCriterion
from scoring.store.restore import restore_backup
from scoring.store.workspace import ensure_default_workspace

TODAY = date(2026, 11, 25)


@pytest.fixture
def space(db):
    created = ensure_default_workspace(db)
    assert created is not None
    return db, created


def _snapshot_numbers(snapshot) -> tuple:
    """What the pages show from a snapshot, in plain values (snapshots hold fresh objects each load)."""
    rollup = snapshot.rollup
    return (
        {code: (s.self_points, s.not_applicable, s.explanation, s.version, s.inputs) for code, s in snapshot.scores.items()},
        rollup.total.self_points, rollup.total.scored_leaves, rollup.index_self,
        [(a.code, a.self_points, a.scored_leaves) for a in rollup.areas],
        [(e.id, e.version, tuple(e.criteria)) for e in snapshot.evidence],
        [(a.code, a.status) for a in snapshot.activities],
    )


def _save_tier(db: Database, assessment_id: int, code: str, tier: int, actor: str = "Văn phòng"):
    version = assessment_store.list_scores(db, assessment_id).get(code, assessment_store.ScoreView.empty(code)).version
    view, _ = assessment_store.save_self_score(db, assessment_id, code, version, inputs={"tier": tier}, explanation="Có kế hoạch", actor=actor)
    return view


# ---------------------------------------------------------------- the revision


def test_every_committed_write_moves_the_revision_on_by_one_and_reads_do_not(space):
    db, ws = space
    start = db.revision()
    assessment_store.list_scores(db, ws.assessment_id)
    load_snapshot(db, ws.department_id, ws.year)
    assert db.revision() == start

    _save_tier(db, ws.assessment_id, "1.1.1", 0)
    assert db.revision() == start + 1 == db.last_write_revision()
    department_store.create_department(db, "Sở Y tế", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    assert db.revision() == start + 2 == db.last_write_revision()


def test_a_refused_or_failed_write_leaves_the_revision_where_it_was(space):
    db, ws = space
    view = _save_tier(db, ws.assessment_id, "1.1.1", 0)
    start = db.revision()
    with pytest.raises(ConflictError):
        assessment_store.save_self_score(db, ws.assessment_id, "1.1.1", view.version - 1, inputs={"tier": 1}, actor="Văn phòng")
    with pytest.raises(InputError):
        assessment_store.save_self_score(db, ws.assessment_id, "1.1.1", view.version, inputs={"tier": 99}, actor="Văn phòng")
    assert db.revision() == start


def test_a_bulk_statement_counts_as_a_write(space):
    db, ws = space
    start = db.revision()
    with db.session() as session:
        session.execute(delete(EvidenceCriterion).where(EvidenceCriterion.evidence_id == -1))  # matches nothing, still a write
    assert db.revision() == start + 1
    with db.session() as session:
        session.scalars(select(AuditEntry)).all()
    assert db.revision() == start + 1


def test_the_last_write_revision_belongs_to_the_thread_that_wrote(space):
    db, ws = space
    mine = _save_tier(db, ws.assessment_id, "1.1.1", 0) and db.last_write_revision()
    seen = {}

    def other() -> None:
        seen["before"] = db.last_write_revision()
        department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
        seen["after"] = db.last_write_revision()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == {"before": None, "after": mine + 1}
    assert db.last_write_revision() == mine


def test_restoring_a_backup_moves_the_revision_on_and_the_backup_does_not_carry_it(space, tmp_path):
    db, ws = space
    archive = tmp_path / "sao-luu.zip"
    create_backup(db, archive, actor=actors.SYSTEM_ACTOR)
    _save_tier(db, ws.assessment_id, "1.1.1", 0)
    before = db.revision()
    restore_backup(db, archive, actor=actors.SYSTEM_ACTOR)
    assert db.revision() == before + 1
    assert db.revision() != 0


# ---------------------------------------------------------------- what a score save does to a snapshot


def test_a_snapshot_with_a_saved_score_equals_the_snapshot_read_after_the_save(space):
    db, ws = space
    before = load_snapshot(db, ws.department_id, ws.year, today=TODAY)
    view = _save_tier(db, ws.assessment_id, "1.1.1", 1)
    after = load_snapshot(db, ws.department_id, ws.year, today=TODAY)
    assert _snapshot_numbers(before.with_score(view)) == _snapshot_numbers(after)
    assert _snapshot_numbers(before) != _snapshot_numbers(after)


# ---------------------------------------------------------------- the keeper


def test_the_keeper_hands_back_the_same_snapshot_while_nothing_is_written(space):
    db, ws = space
    keeper = SnapshotKeeper()
    first = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    assert keeper.snapshot(db, ws.department_id, ws.year, today=TODAY) is first
    assert keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, with_previous_year=True) is not first
    assert keeper.snapshot(db, ws.department_id, ws.year, today=date(2026, 11, 26)) is not first


def test_the_keeper_reloads_after_anybody_elses_write(space):
    db, ws = space
    keeper = SnapshotKeeper()
    first = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    _save_tier(db, ws.assessment_id, "1.1.1", 2, actor="Người khác")  # another person, another page
    again = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    assert again is not first
    assert again.score("1.1.1").inputs == {"tier": 2}


def test_the_keeper_takes_its_own_save_without_a_reload_and_equals_a_fresh_read(space):
    db, ws = space
    keeper = SnapshotKeeper()
    keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    view = _save_tier(db, ws.assessment_id, "1.1.1", 1)
    keeper.score_saved(db, ws.assessment_id, view)

    reads = []
    original = evidence_store.list_evidence
    evidence_store.list_evidence = lambda *a, **k: reads.append(a) or original(*a, **k)
    try:
        kept = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    finally:
        evidence_store.list_evidence = original
    assert reads == []  # nothing was read again
    assert _snapshot_numbers(kept) == _snapshot_numbers(load_snapshot(db, ws.department_id, ws.year, today=TODAY))


def test_a_write_by_someone_else_between_read_and_own_save_forces_a_reload(space):
    db, ws = space
    keeper = SnapshotKeeper()
    keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)

    def other() -> None:
        _save_tier(db, ws.assessment_id, "1.1.2", 0, actor="Người khác")

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    view = _save_tier(db, ws.assessment_id, "1.1.1", 1)
    keeper.score_saved(db, ws.assessment_id, view)
    kept = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    assert kept.score("1.1.2").inputs == {"tier": 0}  # the other person's score is there
    assert _snapshot_numbers(kept) == _snapshot_numbers(load_snapshot(db, ws.department_id, ws.year, today=TODAY))


def test_a_save_to_another_assessment_is_not_taken_into_the_kept_snapshot(space):
    db, ws = space
    other_department = department_store.create_department(db, "Sở Y tế", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    criteria_set_id = criteria_store.list_criteria_sets(db)[0].id
    other = assessment_store.open_assessment(db, other_department, ws.year, criteria_set_id)
    keeper = SnapshotKeeper()
    first = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    view = _save_tier(db, other.id, "1.1.1", 1)
    keeper.score_saved(db, other.id, view)
    again = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    assert again is not first
    assert again.score("1.1.1").version == 0


# ---------------------------------------------------------------- stored criteria sets


def test_a_stored_criteria_set_is_built_once_per_content_and_read_only_when_not_built():
    document = load_criteria_set(bundled_criteria_path()).to_dict()
    digest = content_digest(document)
    reads = []

    def read():
        reads.append(1)
        return document

    first = stored_criteria_set(digest, read, "mẫu")
    assert stored_criteria_set(digest, read, "mẫu") is first
    assert len(reads) <= 1  # an earlier test may have built it already
    changed = {**document, "name": "Bộ tiêu chí đã sửa"}
    assert content_digest(changed) != digest
    assert stored_criteria_set(content_digest(changed), lambda: changed, "mẫu").name == "Bộ tiêu chí đã sửa"
    assert stored_criteria_set("", lambda: changed, "mẫu").name == "Bộ tiêu chí đã sửa"  # a row without a digest


def test_stored_sets_carry_the_digest_of_their_content(space):
    db, ws = space
    with db.session() as session:
        row = session.scalars(select(CriteriaSetRecord)).one()
        assert row.digest == content_digest(row.content)


def test_reopening_a_database_keeps_its_revision(tmp_path):
    folder = tmp_path / "data"
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}")
    first = Database(settings)
    ensure_default_workspace(first)
    revision = first.revision()
    first.dispose()
    again = Database(settings)
    assert again.revision() == revision > 0
    again.dispose()


class _Run:
    """Stands for one page run (the app passes an object Streamlit makes anew for every run)."""


def test_within_one_run_the_revision_is_read_once_and_a_new_run_reads_it_again(space, monkeypatch):
    db, ws = space
    keeper = SnapshotKeeper()
    reads = []
    original = Database.revision
    monkeypatch.setattr(Database, "revision", lambda self: reads.append(1) or original(self))
    run = _Run()
    first = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=run)
    assert keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=run) is first
    assert len(reads) == 1

    _save_tier(db, ws.assessment_id, "1.1.1", 2, actor="Người khác")
    later = _Run()
    assert keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=later).score("1.1.1").inputs == {"tier": 2}
    assert len(reads) == 2


def test_the_run_that_saved_uses_the_saved_snapshot_without_reading_the_revision(space, monkeypatch):
    db, ws = space
    keeper = SnapshotKeeper()
    keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=_Run())
    run = _Run()  # the run whose callback saves, then draws the criterion again
    view = _save_tier(db, ws.assessment_id, "1.1.1", 1)
    keeper.score_saved(db, ws.assessment_id, view, run=run)
    reads = []
    original = Database.revision
    monkeypatch.setattr(Database, "revision", lambda self: reads.append(1) or original(self))
    kept = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=run)
    assert reads == [] and kept.score("1.1.1").inputs == {"tier": 1}
