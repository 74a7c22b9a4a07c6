"""The data revisions and what they let pages keep (scoring.store.revisions), on SQLite and PostgreSQL: every committed
write moves the data revision on by exactly one, and the revision of each department-year it changed (or the shared one,
for what is no department-year's); a kept snapshot is reused only while the revisions of what it shows have not moved,
and takes the person's own score save in place of a reload only when that save is the only write to its year since."""

from __future__ import annotations

import json
import threading
import zipfile
from datetime import date

import pytest
from sqlalchemy import delete, select, update

from scoring.access import accounts
from scoring.access.auth import Role
from scoring.assessment import snapshot as snapshot_module
from scoring.assessment.snapshot import SnapshotKeeper, load_snapshot
from scoring.criteria.files import content_digest, criteria_set_from_dict, load_criteria_set, stored_criteria_set
from scoring.defaults import bundled_criteria_path
from scoring.errors import ConflictError, InputError
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.backup import create_backup
from scoring.store.backup_format import DATABASE_NAME
from scoring.store.db import Database, Settings
from scoring.store.models import Assessment, AuditEntry, CriteriaSetRecord, EvidenceCriterion
from scoring.store.restore import restore_backup
from scoring.store.revisions import SHARED, of_year, scopes_of_year, unchanged_but_for
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


# ---------------------------------------------------------------- the revisions


def _two_departments(db, ws):
    """A second department scored in the same year on the same set: (its id, its assessment id)."""
    other = department_store.create_department(db, "Sở Y tế", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    criteria_set_id = criteria_store.list_criteria_sets(db)[0].id
    return other, assessment_store.open_assessment(db, other, ws.year, criteria_set_id).id


def _moved(db, action, *scopes):
    """The revisions of `scopes` (and the data revision) that `action` moved: {scope: by how much}."""
    scopes = (SHARED, *scopes)
    before, data_before = db.revisions(scopes), db.revision()
    action()
    after = db.revisions(scopes)
    return {scope: after[scope] - before[scope] for scope in scopes if after[scope] != before[scope]}, db.revision() - data_before


def test_every_committed_write_moves_the_data_revision_on_by_one_and_reads_do_not(space):
    db, ws = space
    start, year = db.revision(), db.revisions(scopes_of_year(ws.department_id, ws.year))
    assessment_store.list_scores(db, ws.assessment_id)
    load_snapshot(db, ws.department_id, ws.year)
    assert db.revision() == start and db.revisions(scopes_of_year(ws.department_id, ws.year)) == year

    _save_tier(db, ws.assessment_id, "1.1.1", 0)
    assert db.revision() == start + 1
    department_store.create_department(db, "Sở Y tế", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    assert db.revision() == start + 2


def test_a_save_moves_its_own_department_years_revision_not_anothers_nor_the_shared_one(space):
    db, ws = space
    other, other_assessment = _two_departments(db, ws)
    mine, theirs = (ws.department_id, ws.year), (other, ws.year)
    assert _moved(db, lambda: _save_tier(db, ws.assessment_id, "1.1.1", 0), mine, theirs) == ({mine: 1}, 1)
    assert db.last_write_revisions() == {mine: db.revisions((mine,))[mine]}
    assert _moved(db, lambda: _save_tier(db, other_assessment, "1.1.1", 1), mine, theirs) == ({theirs: 1}, 1)

    # the plan, an activity (by its plan), evidence and its links (by the evidence and the assessment) are the year's too
    activity = plan_store.list_activities(db, ws.department_id, ws.year)[0]
    assert _moved(db, lambda: plan_store.update_activity(db, activity.id, activity.version, actor="Văn phòng", note="Đang làm"),
                  mine, theirs) == ({mine: 1}, 1)
    document = evidence_store.EvidenceInput(doc_type="Kế hoạch", number="15/KH", issued_on=date(2026, 1, 5))
    added = []
    assert _moved(db, lambda: added.append(evidence_store.add_evidence(
        db, ws.department_id, ws.year, document, actor="Văn phòng", criteria=["1.1.1"], attachment=evidence_store.ATTACH_NUMBER,
        activity_codes=[activity.code])), mine, theirs) == ({mine: 1}, 1)
    assert _moved(db, lambda: evidence_store.update_evidence(db, added[0].id, added[0].version, document, actor="Văn phòng",
                                                             criteria=["1.1.2"]), mine, theirs) == ({mine: 1}, 1)
    settings = cycle_store.year_settings(db, ws.assessment_id)
    version = assessment_state.get_assessment(db, ws.department_id, ws.year).settings_version
    assert _moved(db, lambda: cycle_store.save_year_settings(db, ws.assessment_id, version, settings, actor=actors.SYSTEM_ACTOR),
                  mine, theirs) == ({mine: 1}, 1)  # its bulk claim of the settings version says whose year it is (of_year)


def test_what_belongs_to_no_department_year_moves_the_shared_revision(space):
    db, ws = space
    mine = (ws.department_id, ws.year)
    assert _moved(db, lambda: department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=actors.SYSTEM_ACTOR),
                  mine) == ({SHARED: 1}, 1)
    assert _moved(db, lambda: accounts.create_account(db, "vanphong", role=Role.OFFICE, password="mat-khau-dai-du-12",
                                                      department_ids=[ws.department_id], actor=actors.SYSTEM_ACTOR),
                  mine) == ({SHARED: 1}, 1)
    changed = criteria_set_from_dict({**load_criteria_set(bundled_criteria_path()).to_dict(), "name": "Bộ tiêu chí khác"})
    assert _moved(db, lambda: criteria_store.save_criteria_set(db, changed, actor=actors.SYSTEM_ACTOR), mine) == ({SHARED: 1}, 1)
    assert db.last_write_revisions() == {SHARED: db.revisions((SHARED,))[SHARED]}


def test_a_bulk_statement_moves_the_shared_revision_unless_it_says_whose_year_it_writes(space):
    db, ws = space
    mine = (ws.department_id, ws.year)

    def unmarked() -> None:
        with db.session() as session:
            session.execute(delete(EvidenceCriterion).where(EvidenceCriterion.evidence_id == -1))  # matches nothing, still a write

    def marked() -> None:
        with db.session() as session:
            session.execute(of_year(update(Assessment).where(Assessment.id == ws.assessment_id).values(bonus_penalty_version=3),
                                    ws.department_id, ws.year))

    assert _moved(db, unmarked, mine) == ({SHARED: 1}, 1)
    assert _moved(db, marked, mine) == ({mine: 1}, 1)

    def read_only() -> None:
        with db.session() as session:
            session.scalars(select(AuditEntry)).all()

    assert _moved(db, read_only, mine) == ({}, 0)


def test_a_row_set_to_the_value_it_had_or_the_audit_trail_alone_moves_no_department_year(space):
    db, ws = space
    mine = (ws.department_id, ws.year)

    def touch() -> None:
        with db.session() as session:
            row = session.get(Assessment, ws.assessment_id)
            row.bonus_points = row.bonus_points  # marked dirty, nothing to write

    def audit_only() -> None:
        with db.session() as session:
            session.add(AuditEntry(actor="Văn phòng", department_id=ws.department_id, entity="score", entity_key="2026/1.1.1",
                                   field="xem", old=None, new=None))

    assert _moved(db, touch, mine) == ({}, 0)
    assert _moved(db, audit_only, mine) == ({}, 1)  # a write: the data revision moves; no page of a year reloads for it
    assert db.last_write_revisions() == {}


def test_the_last_write_revisions_belong_to_the_thread_that_wrote(space):
    db, ws = space
    _save_tier(db, ws.assessment_id, "1.1.1", 0)
    mine = db.last_write_revisions()
    seen = {}

    def other() -> None:
        seen["before"] = db.last_write_revisions()
        department_store.create_department(db, "Sở Tư pháp", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
        seen["after"] = db.last_write_revisions()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen["before"] is None and list(seen["after"]) == [SHARED]
    assert db.last_write_revisions() == mine and list(mine) == [(ws.department_id, ws.year)]


def test_restoring_a_backup_moves_every_revision_on_and_the_backup_does_not_carry_them(space, tmp_path):
    db, ws = space
    archive = tmp_path / "sao-luu.zip"
    create_backup(db, archive, actor=actors.SYSTEM_ACTOR)
    with zipfile.ZipFile(archive) as opened:
        carried = set(json.loads(opened.read(DATABASE_NAME))["tables"])
    assert "score" in carried and not carried & {"year_revision", "data_revision"}
    _save_tier(db, ws.assessment_id, "1.1.1", 0)
    moved = _moved(db, lambda: restore_backup(db, archive, actor=actors.SYSTEM_ACTOR), (ws.department_id, ws.year))
    assert moved == ({SHARED: 1}, 1)  # SHARED: every page of every year reloads
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


def _in_another_thread(action) -> None:
    """`action` as another person's page does it: in a thread of its own (what it wrote is not this thread's write)."""
    failures = []
    thread = threading.Thread(target=lambda: _catching(action, failures))
    thread.start()
    thread.join()
    assert failures == []


def _catching(action, failures: list) -> None:
    try:
        action()
    except Exception as err:  # noqa: BLE001 — handed back to the test's thread
        failures.append(err)


def test_the_keeper_keeps_a_departments_snapshot_across_anothers_saves_and_reloads_after_a_write_to_its_own(space):
    db, ws = space
    other, other_assessment = _two_departments(db, ws)
    keeper = SnapshotKeeper()
    first = keeper.snapshot(db, other, ws.year, today=TODAY)
    _in_another_thread(lambda: _save_tier(db, ws.assessment_id, "1.1.1", 2, actor="Người khác"))  # department A saves
    assert not keeper.behind(db)
    assert keeper.snapshot(db, other, ws.year, today=TODAY) is first  # department B's page reads nothing again

    _in_another_thread(lambda: _save_tier(db, other_assessment, "1.1.1", 1, actor="Người khác"))  # someone in B saves
    assert keeper.behind(db)
    again = keeper.snapshot(db, other, ws.year, today=TODAY)
    assert again is not first and again.score("1.1.1").inputs == {"tier": 1}
    assert not keeper.behind(db)


def test_the_keeper_reloads_after_a_shared_write_even_when_its_own_save_follows(space):
    db, ws = space
    keeper = SnapshotKeeper()
    first = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    _in_another_thread(lambda: department_store.update_department(
        db, ws.department_id, first.department.version, name="Sở Dân tộc và Tôn giáo tỉnh", units=first.department.units,
        actor=actors.SYSTEM_ACTOR))
    view = _save_tier(db, ws.assessment_id, "1.1.1", 1)  # the one write to the year: it alone would be taken in place
    keeper.score_saved(db, ws.assessment_id, view)
    assert keeper.behind(db)  # but the department's name moved (SHARED), which the kept snapshot does not show
    kept = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY)
    assert kept.department.name == "Sở Dân tộc và Tôn giáo tỉnh" and kept.score("1.1.1").inputs == {"tier": 1}


def test_a_snapshot_compared_with_the_year_before_follows_that_year_too(space):
    db, ws = space
    criteria_set_id = criteria_store.list_criteria_sets(db)[0].id
    before = assessment_store.open_assessment(db, ws.department_id, ws.year - 1, criteria_set_id)
    compared, alone = SnapshotKeeper(), SnapshotKeeper()
    compared.snapshot(db, ws.department_id, ws.year, today=TODAY, with_previous_year=True)
    first = alone.snapshot(db, ws.department_id, ws.year, today=TODAY)
    _in_another_thread(lambda: _save_tier(db, before.id, "1.1.1", 0, actor="Người khác"))
    assert compared.behind(db) and not alone.behind(db)
    assert alone.snapshot(db, ws.department_id, ws.year, today=TODAY) is first
    assert compared.snapshot(db, ws.department_id, ws.year, today=TODAY, with_previous_year=True).previous_rollup.total.scored_leaves == 1


def test_an_own_write_that_also_moved_the_year_before_is_not_taken_into_a_snapshot_compared_with_it(space, monkeypatch):
    db, ws = space
    criteria_set_id = criteria_store.list_criteria_sets(db)[0].id
    before = assessment_store.open_assessment(db, ws.department_id, ws.year - 1, criteria_set_id)
    keeper = SnapshotKeeper()
    keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, with_previous_year=True)
    view = assessment_store.list_scores(db, ws.assessment_id).get("1.1.1") or assessment_store.ScoreView.empty("1.1.1")
    with db.session() as session:  # this thread's one write, to this year and to the year before
        for assessment_id in (ws.assessment_id, before.id):
            session.execute(of_year(update(Assessment).where(Assessment.id == assessment_id).values(penalty_points=0),
                                    ws.department_id, session.get(Assessment, assessment_id).year))
    assert set(db.last_write_revisions()) == {(ws.department_id, ws.year), (ws.department_id, ws.year - 1)}
    run = _Run()  # the run that saved draws the page next, reading no revision (what it saved is what it shows)
    keeper.score_saved(db, ws.assessment_id, view, run=run)

    loads = []
    original = snapshot_module.load_snapshot
    monkeypatch.setattr(snapshot_module, "load_snapshot", lambda *a, **k: loads.append(1) or original(*a, **k))
    keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, with_previous_year=True, run=run)
    assert loads == [1]  # read again: the kept year before is not what that write left


@pytest.mark.parametrize(("written", "taken"), [
    ({(7, 2026): 5}, True),  # the one write since the read
    ({(7, 2026): 6}, False),  # another write came between
    ({(7, 2026): 5, (8, 2026): 2}, True),  # also another department's year: not shown, no matter
    ({(7, 2026): 5, SHARED: 4}, False),  # also what every year shows
    ({(7, 2026): 5, (7, 2025): 3}, False),  # also the year before, which this snapshot shows
    ({SHARED: 4}, False),
    ({}, False),
    (None, False),  # this thread never wrote
])
def test_a_write_is_taken_in_place_only_when_it_is_the_one_write_to_the_year_and_moved_nothing_else_shown(written, taken):
    kept = {SHARED: 3, (7, 2026): 4, (7, 2025): 2}
    assert unchanged_but_for(kept, written, (7, 2026)) is taken


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


def test_within_one_run_the_revisions_are_read_once_and_a_new_run_reads_them_again(space, monkeypatch):
    db, ws = space
    keeper = SnapshotKeeper()
    reads = []
    original = Database.revisions
    monkeypatch.setattr(Database, "revisions", lambda self, scopes: reads.append(1) or original(self, scopes))
    run = _Run()
    first = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=run)
    assert keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=run) is first
    assert len(reads) == 1

    _save_tier(db, ws.assessment_id, "1.1.1", 2, actor="Người khác")
    later = _Run()
    assert keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=later).score("1.1.1").inputs == {"tier": 2}
    assert len(reads) == 2


def test_the_run_that_saved_uses_the_saved_snapshot_without_reading_the_revisions(space, monkeypatch):
    db, ws = space
    keeper = SnapshotKeeper()
    keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=_Run())
    run = _Run()  # the run whose callback saves, then draws the criterion again
    view = _save_tier(db, ws.assessment_id, "1.1.1", 1)
    keeper.score_saved(db, ws.assessment_id, view, run=run)
    reads = []
    original = Database.revisions
    monkeypatch.setattr(Database, "revisions", lambda self, scopes: reads.append(1) or original(self, scopes))
    kept = keeper.snapshot(db, ws.department_id, ws.year, today=TODAY, run=run)
    assert reads == [] and kept.score("1.1.1").inputs == {"tier": 1}
