"""Every department's year at a glance, for the Department of Home Affairs (Sở Nội vụ) and the administrator.

What a row may show follows the rules of scoring.access.auth: the state of the cycle (criteria scored k/n, locked or
not and when, the round under way, explanations awaited, the next deadline) is the province's business, so
the appraiser sees it for every department it is assigned to; the self-assessed index is the department's
draft until it is locked, so it is shown only to those who may see that department's scores
(auth.authorize_view), as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from scoring.access.auth import Action, PermissionDenied, Principal, authorize, authorize_view
from scoring.assessment.cycle import vietnam_today
from scoring.assessment.engine import SelfIndex, roll_up
from scoring.assessment.snapshot import entries_from_scores
from scoring.assessment.stages import (
    STAGE_APPRAISAL_1,
    STAGE_APPRAISAL_2,
    STAGE_NOT_OPENED,
    STAGE_ORDER,
    Deadline,
    next_deadline,
    stage_of,
)
from scoring.province.groups import list_groups
from scoring.store import actors, assessment_store, department_store
from scoring.store.db import Database
from scoring.store.fingerprints import year_fingerprints
from scoring.textnorm import vn_sort_key


@dataclass(frozen=True)
class DepartmentProgress:
    department_id: int
    name: str
    year: int
    stage: str
    scored: int  # applicable criteria scored, of `applicable` (0 and 0 before the year is opened)
    applicable: int
    locked_at: datetime | None
    locked_by: str
    published_at: datetime | None
    explanations_awaited: int  # explanations the appraisal asked for and the department has not written yet
    deadline: Deadline | None  # the next date the department or the appraisal has to meet
    self_index: SelfIndex | None  # None where the viewer may not see the department's scores (its draft)
    appraisal_left: int = 0  # in an appraisal round: the criteria that round has still to appraise
    group: str = ""  # the department's group (scoring.province.groups), "" in none

    @property
    def stage_rank(self) -> int:
        return STAGE_ORDER.index(self.stage)


def province_progress(db: Database, year: int, *, viewer: actors.Actor | None, today: date | None = None) -> list[DepartmentProgress]:
    """Every department the viewer holds (all of them for a trusted caller or None, as department_store.list_departments), its year `year` as it stands today
    (Vietnam's date), in Vietnamese alphabetical order of the names. Refused (PermissionDenied) for a role without
    Action.VIEW_PROVINCE."""
    if isinstance(viewer, Principal):
        authorize(viewer, Action.VIEW_PROVINCE)
    today = vietnam_today(today)
    # kept while the data revision has not moved: a page rerun, or every viewer of the same departments, reads
    # one number instead of every department's year
    key = (db.settings.database_url, year, viewer, today)
    revision = db.revision()
    kept = _KEPT.get(key)
    if kept is not None and kept[0] == revision:
        return list(kept[1])
    departments = sorted(department_store.list_departments(db, viewer=viewer), key=lambda d: vn_sort_key(d.name))
    group_of = {d: g.name for g in list_groups(db) for d in g.department_ids}
    rows = [replace(row, group=group_of.get(row.department_id, "")) for row in _rows_of(db, departments, year, today, viewer)]
    if len(_KEPT) >= KEPT_VIEWS:
        _KEPT.pop(next(iter(_KEPT)))
    _KEPT[key] = (revision, tuple(rows))
    return rows


KEPT_VIEWS = 64  # (year, viewer) pairs kept, oldest dropped first
_KEPT: dict[tuple, tuple[int, tuple[DepartmentProgress, ...]]] = {}


def _rows_of(db: Database, departments: list[department_store.DepartmentView], year: int, today: date,
             viewer: actors.Actor | None) -> list[DepartmentProgress]:
    """Each department's row, rolled up again only where what it is computed from has changed: after one save,
    one department's year is read and rolled up, not a hundred (scoring.store.fingerprints.year_fingerprints). A row is kept
    as anyone may see it and masked for this viewer afterwards, so every viewer shares one computation."""
    fingerprints = year_fingerprints(db, [d.id for d in departments], year)

    def key(department: department_store.DepartmentView) -> tuple:
        return (db.settings.database_url, year, today, department.id)

    def current(department: department_store.DepartmentView) -> tuple:
        return (department.name, fingerprints.get(department.id))

    entries = {d.id: _ROWS.get(key(d)) for d in departments}
    stale = [d for d in departments if entries[d.id] is None or entries[d.id][0] != current(d)]
    if stale:
        years = assessment_store.years_of_departments(db, [d.id for d in stale], year, today)
        for department in stale:
            opened = years.get(department.id)
            entries[department.id] = (current(department), _progress(department, year, opened, None),
                                      bool(opened and opened.state.locked))
            _ROWS.pop(key(department), None)  # re-inserted last: the oldest entries are the ones dropped
            if len(_ROWS) >= KEPT_ROWS:
                _ROWS.pop(next(iter(_ROWS)))
            _ROWS[key(department)] = entries[department.id]
    rows = []
    for department in departments:
        _, row, locked = entries[department.id]
        if row.self_index is not None and not _may_see_scores(viewer, department.id, locked):
            row = replace(row, self_index=None)
        rows.append(row)
    return rows


KEPT_ROWS = 4096  # department-years kept (a province has a few hundred departments), oldest dropped first
_ROWS: dict[tuple, tuple[tuple, DepartmentProgress, bool]] = {}


def _progress(department: department_store.DepartmentView, year: int, opened: assessment_store.YearOfDepartment | None,
              viewer: actors.Actor) -> DepartmentProgress:
    if opened is None:
        return DepartmentProgress(department.id, department.name, year, STAGE_NOT_OPENED, 0, 0, None, "", None, 0, None, None)
    assessment, state, scores = opened.assessment, opened.state, opened.scores
    rollup = roll_up(opened.criteria_set, entries_from_scores(scores))
    stage = stage_of(state)
    awaited = sum(1 for s in scores.values() if s.appraisal.explanation_requested and not s.appraisal.explanation.strip())
    if stage == STAGE_APPRAISAL_1:
        appraisal_left = rollup.total.applicable_leaves - rollup.total.appraised_leaves
    elif stage == STAGE_APPRAISAL_2:  # round 2 looks again at what was asked to be explained
        appraisal_left = sum(1 for s in scores.values() if s.appraisal.explanation_requested and s.appraisal.round2_points is None)
    else:
        appraisal_left = 0
    return DepartmentProgress(
        department_id=department.id, name=department.name, year=year, stage=stage,
        scored=rollup.total.scored_leaves, applicable=rollup.total.applicable_leaves,
        locked_at=assessment.locked_at, locked_by=assessment.locked_by, published_at=assessment.published_at,
        explanations_awaited=awaited, deadline=next_deadline(state, stage),
        self_index=rollup.self_index if _may_see_scores(viewer, department.id, state.locked) else None,
        appraisal_left=appraisal_left,
    )


def _may_see_scores(viewer: actors.Actor | None, department_id: int, locked: bool) -> bool:
    if not isinstance(viewer, Principal):
        return True  # the command line, a single office computer running open
    try:
        authorize_view(viewer, department_id=department_id, assessment_locked=locked)
    except PermissionDenied:
        return False
    return True
