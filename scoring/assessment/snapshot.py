"""Everything one assessment shows, read once and computed once: the pages, the projector and the exports
all take their numbers from here, so they can never disagree."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from scoring.access.auth import Action, Principal, authorize, can
from scoring.assessment.appraisal import AreaLoss, LeafAppraisal, points_lost_by_area
from scoring.assessment.comparison import YearDelta, compare_years
from scoring.assessment.engine import (
    AppraisalProgress,
    LeafEntry,
    LinkedActivityState,
    Rollup,
    SelfIndex,
    Suggestion,
    roll_up,
    roll_up_after_change,
    suggest_points,
    uses_whole_plan,
)
from scoring.assessment.index import IndexBreakdown, final_index
from scoring.assessment.locking import Blocker, lock_blockers
from scoring.assessment.settings import YearSettings
from scoring.criteria.mapping import compare_years_mapped, sets_differ
from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.plan.stats import (
    STATUS_DONE,
    STATUS_NOT_APPLICABLE,
    completion_by_area,
    completion_by_unit,
    overdue,
    plan_completion_ratio,
    unit_area_matrix,
    upcoming,
)
from scoring.store import (
    actors,
    assessment_state,
    assessment_store,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
    rows,
)
from scoring.store.criteria_mapping_store import ConfirmedMapping, confirmed_mapping
from scoring.store.db import Database
from scoring.store.revisions import Scope, scopes_of_year, unchanged_but_for
from scoring.textnorm import format_datetime, local_today, roman


@dataclass(frozen=True)
class CriterionRow:
    """One criterion of an area at a glance (the room's overview on Chấm điểm)."""

    code: str
    name: str
    maximum: Decimal
    not_applicable: bool
    self_points: Decimal | None  # None: not scored yet
    appraisal: AppraisalProgress  # of this criterion alone: its points once appraised, or why not yet
    evidence: int  # documents linked
    missing: tuple[str, ...]  # what still stops the lock, in the lock's own words


@dataclass(frozen=True)
class EvidenceGap:
    code: str
    name: str
    expected: str  # what the criterion asks for
    attached: int
    has_explanation: bool


@dataclass(frozen=True)
class AreaSummary:
    """One reform area as a leadership meeting sees it: its score and the plan work behind it.

    Criteria area n matches plan area n in Roman numerals (the 7 areas of the national programme); the
    impact/survey area has no plan area.
    """

    code: str
    name: str
    self_points: Decimal | None
    applicable_max: Decimal
    appraisal: AppraisalProgress  # its points only once the whole area is appraised
    self_index: SelfIndex  # self points as % of the area's applicable maximum, provisional while some are unscored
    plan_area: str | None
    activities_total: int
    activities_done: int  # done among the applicable ones
    activities_applicable: int  # not "không áp dụng": what completion counts out of
    overdue: list[plan_store.ActivityView]
    unscored: int


@dataclass
class Snapshot:
    department: department_store.DepartmentView
    year: int
    today: date
    assessment: assessment_state.AssessmentView | None
    criteria_set: CriteriaSet | None
    plan: plan_store.PlanView | None
    activities: list[plan_store.ActivityView]
    scores: dict[str, assessment_store.ScoreView]
    evidence: list[evidence_store.EvidenceView]
    rollup: Rollup | None
    settings: YearSettings | None = None
    bonus: Decimal | None = None
    penalty: Decimal | None = None
    previous_rollup: Rollup | None = None  # the year before, for year-over-year comparison
    previous_criteria_set: CriteriaSet | None = None  # the set the year before was scored by
    # whether last year's set names or numbers its criteria otherwise than this year's (criteria_mapping.sets_differ),
    # and what a person confirmed became of last year's criteria then
    criteria_sets_differ: bool = False
    criteria_mapping: ConfirmedMapping | None = None

    def with_score(self, view: assessment_store.ScoreView) -> Snapshot:
        """This snapshot once one leaf's stored score has become `view`: the scores and the roll-up follow;
        nothing else a score save touches is part of a snapshot."""
        scores = {**self.scores, view.code: view}
        rollup = None
        if self.criteria_set is not None:
            entries = entries_from_scores(scores)
            rollup = (roll_up_after_change(self.criteria_set, self.rollup, entries, view.code) if self.rollup is not None
                      else roll_up(self.criteria_set, entries))
        return replace(self, scores=scores, rollup=rollup)

    # ---- the yearly cycle

    @property
    def locked(self) -> bool:
        return bool(self.assessment and self.assessment.locked_at)

    def lock_blockers(self) -> list[Blocker]:
        if self.criteria_set is None:
            return []
        evidence: dict[str, list[evidence_store.EvidenceView]] = {}
        for document in self.evidence:
            for code in document.criteria:
                evidence.setdefault(code, []).append(document)
        explanations = {code: s.explanation for code, s in self.scores.items()}
        return lock_blockers(self.criteria_set, entries_from_scores(self.scores), evidence, explanations, rollup=self.rollup)

    def final_index(self, use_appraised: bool) -> IndexBreakdown | None:
        """The index as the province publishes it, every step explained (self-scored or appraised basis)."""
        if self.criteria_set is None or self.rollup is None or self.settings is None:
            return None
        return final_index(self.rollup, self.settings, self.bonus or 0, self.penalty or 0,
                           use_appraised=use_appraised, criteria_set=self.criteria_set)

    @property
    def appraisal_started(self) -> bool:
        """Whether the council has returned any appraised score. Survey leaves count as appraised without one
        (scoring.assessment.engine), so the roll-up alone cannot tell; the stored scores can."""
        return any(score.appraised_points is not None for score in self.scores.values())

    def appraisal_sources(self) -> list[str]:
        """Who entered the appraisal results, once each, in criteria order: "Thẩm định «snv» nhập", "Văn phòng ghi
        theo văn bản số … ngày … («vanphong»)" — so an export says whose figures it shows."""
        sources: dict[str, None] = {}
        for leaf in self.leaves():
            appraisal = self.scores[leaf.code].appraisal if leaf.code in self.scores else None
            for round_number in (1, 2):
                author = appraisal.author(round_number) if appraisal is not None else None
                if author is not None:
                    sources.setdefault(author.text)
        return list(sources)

    def appraisal(self, code: str = "") -> AppraisalProgress:
        """How far the appraisal of node `code` ("" for the whole set) has got, as everything shows it."""
        totals = self.rollup.total if code == "" else self.rollup.node(code)
        return totals.appraisal(started=self.appraisal_started)

    def appraisals(self) -> dict[str, LeafAppraisal]:
        return {code: s.appraisal for code, s in self.scores.items()}

    def points_lost_by_area(self) -> list[AreaLoss]:
        if self.criteria_set is None or self.rollup is None:
            return []
        return points_lost_by_area(self.criteria_set, self.rollup, self.appraisals())

    def points_cut_by_area(self) -> list[AreaLoss]:
        """The areas whose appraisal is complete and took points away (an area appraised as scored is not cut)."""
        return [loss for loss in self.points_lost_by_area() if loss.lost is not None and loss.lost > 0]

    def comparison_labels(self) -> tuple[str, str]:
        """The column names of the year-over-year comparison, the year before's then this year's: "Năm 2026 (tạm
        tính)" while that year still has unscored criteria, so a running figure never reads as the year's result."""
        def label(year: int, rollup: Rollup | None) -> str:
            return f"Năm {year}" + ("" if rollup is None or rollup.self_index.complete else " (tạm tính)")
        return label(self.year - 1, self.previous_rollup), label(self.year, self.rollup)

    def compare_with_previous_year(self) -> list[YearDelta]:
        """This year against the year before: by the confirmed criteria mapping when the sets differ, else by code."""
        if self.rollup is None or self.previous_rollup is None:
            return []
        if self.criteria_sets_differ and self.criteria_mapping is not None:
            return compare_years_mapped(self.rollup, self.previous_rollup, self.criteria_set, self.previous_criteria_set,
                                        self.criteria_mapping.mapping, current_appraised=False, previous_appraised=False)
        return compare_years(self.rollup, self.previous_rollup, current_appraised=False, previous_appraised=False)

    def comparison_basis(self) -> str:
        """How the criteria are matched with last year's, when the sets differ (empty when they do not)."""
        if self.previous_rollup is None or not self.criteria_sets_differ:
            return ""
        before = self.year - 1
        if self.criteria_mapping is None:
            return (f"Bộ tiêu chí năm {self.year} khác năm {before} và chưa có bảng đối chiếu tiêu chí được xác nhận, nên "
                    "các tiêu chí đang được so sánh theo mã: một tiêu chí đổi mã, gộp hay tách có thể bị so với một "
                    "tiêu chí khác. Quản trị viên xác nhận bảng đối chiếu ở Cấu hình → Năm đánh giá.")
        return (f"Bộ tiêu chí năm {self.year} khác năm {before}: các tiêu chí được so sánh theo bảng đối chiếu do "
                f"{self.criteria_mapping.confirmed_by} xác nhận lúc {format_datetime(self.criteria_mapping.confirmed_at)}.")

    # ---- plan completion

    @property
    def states(self):
        return [a.state() for a in self.activities]

    def completion_by_area(self) -> list[dict]:
        return completion_by_area(self.states, today=self.today)

    def completion_by_unit(self) -> list[dict]:
        return completion_by_unit(self.states, self.department.units, today=self.today)

    def unit_area_matrix(self) -> list[dict]:
        return unit_area_matrix(self.states, self.department.units)

    def overdue(self):
        return overdue(self.states, self.today)

    def upcoming(self, days: int = 30):
        return upcoming(self.states, self.today, days=days)

    @property
    def plan_completion(self) -> float | None:
        return plan_completion_ratio(self.states)

    @property
    def activities_applicable(self) -> int:
        """Activities that apply ("Không áp dụng" leaves the count): what every completion figure counts out of."""
        return sum(_applies(a) for a in self.activities)

    @property
    def activities_done(self) -> int:
        """Done activities among the applicable ones."""
        return _done_count(self.activities)

    # ---- scoring

    def leaves(self) -> list[CriterionNode]:
        return self.criteria_set.leaves() if self.criteria_set else []

    def criterion_rows(self, area_code: str) -> list[CriterionRow]:
        """Every criterion of an area, in order, with what a room checks at a glance (the same figures as the
        criterion itself shows: the roll-up, the appraisal progress, the lock's blockers)."""
        if self.criteria_set is None or self.rollup is None:
            return []
        blockers: dict[str, list[str]] = {}
        for blocker in self.lock_blockers():
            blockers.setdefault(blocker.code, []).append(blocker.message.removeprefix(f"Tiêu chí {blocker.code}: ").rstrip("."))
        counts: dict[str, int] = {}
        for document in self.evidence:
            for code in document.criteria:
                counts[code] = counts.get(code, 0) + 1
        rows = []
        for node in self.criteria_set.node(area_code).walk():
            if not node.is_leaf:
                continue
            totals = self.rollup.node(node.code)
            rows.append(CriterionRow(node.code, node.name, node.max_points, self.score(node.code).not_applicable,
                                     totals.self_points, self.appraisal(node.code), counts.get(node.code, 0),
                                     tuple(blockers.get(node.code, ()))))
        return rows

    def score(self, code: str) -> assessment_store.ScoreView:
        return self.scores.get(code) or assessment_store.ScoreView.empty(code)

    def evidence_for(self, code: str) -> list[evidence_store.EvidenceView]:
        return [e for e in self.evidence if code in e.criteria]

    def activities_for(self, leaf: CriterionNode) -> list[plan_store.ActivityView]:
        wanted = set(leaf.activities)
        return [a for a in self.activities if a.code in wanted]

    def suggestion(self, leaf: CriterionNode) -> Suggestion | None:
        activities = self.activities if uses_whole_plan(leaf) else self.activities_for(leaf)
        linked = [LinkedActivityState(a.code, a.status, a.due, list(a.evidence_dates)) for a in activities]
        return suggest_points(leaf, linked)

    def evidence_gaps(self) -> list[EvidenceGap]:
        """Applicable leaves that expect evidence and have none attached yet (survey leaves are not self-scored)."""
        gaps = []
        for leaf in self.leaves():
            score = self.score(leaf.code)
            if score.not_applicable or not leaf.evidence or (leaf.rule and leaf.rule.kind == "survey"):
                continue
            attached = len(self.evidence_for(leaf.code))
            if attached == 0:
                gaps.append(EvidenceGap(leaf.code, leaf.name, leaf.evidence, attached, bool(score.explanation)))
        return gaps

    def area_summaries(self) -> list[AreaSummary]:
        if self.rollup is None:
            return []
        overdue_codes = {s.id for s in self.overdue()}
        started = self.appraisal_started
        summaries = []
        for number, area in enumerate(self.rollup.areas, start=1):
            plan_area = roman(number)
            activities = [a for a in self.activities if a.area == plan_area]
            if not activities:
                plan_area = None
            summaries.append(AreaSummary(
                code=area.code, name=area.name, self_points=area.self_points, applicable_max=area.applicable_max,
                appraisal=area.appraisal(started=started), self_index=area.self_index, plan_area=plan_area,
                activities_total=len(activities), activities_done=_done_count(activities),
                activities_applicable=sum(_applies(a) for a in activities),
                overdue=[a for a in activities if a.code in overdue_codes],
                unscored=area.unscored_leaves,
            ))
        return summaries

    @property
    def leaves_scored(self) -> int:
        return self.rollup.total.scored_leaves if self.rollup else 0

    @property
    def leaves_applicable(self) -> int:
        return self.rollup.total.applicable_leaves if self.rollup else 0


def _applies(activity: plan_store.ActivityView) -> bool:
    return activity.status != STATUS_NOT_APPLICABLE


def _done_count(activities: list[plan_store.ActivityView]) -> int:
    return sum(_applies(a) and a.status == STATUS_DONE for a in activities)


def load_snapshot(db: Database, department_id: int, year: int, today: date | None = None,
                  viewer: actors.Actor | None = None, with_previous_year: bool = False) -> Snapshot:
    """Everything about one department's year; a signed-in viewer must be allowed to see it (PermissionDenied)."""
    department = next((d for d in department_store.list_departments(db) if d.id == department_id), None)
    if department is None:
        raise rows.NotFoundError(f"Không tìm thấy cơ quan (mã {department_id}).")
    assessment = assessment_state.get_assessment(db, department_id, year)
    if isinstance(viewer, Principal) and not can(viewer, Action.VIEW_DASHBOARD, department_id=department_id):
        # an appraiser sees a department's scores only once it has locked its self-assessment
        authorize(viewer, Action.VIEW_SCORES, department_id=department_id,
                  assessment_locked=bool(assessment and assessment.locked_at))
    criteria_set = criteria_store.load_criteria(db, assessment.criteria_set_id) if assessment else None
    scores = assessment_store.list_scores(db, assessment.id) if assessment else {}
    rollup = roll_up(criteria_set, entries_from_scores(scores)) if criteria_set else None
    previous = assessment_state.get_assessment(db, department_id, year - 1) if with_previous_year else None
    previous_rollup = previous_set = mapping = None
    differ = False
    if previous is not None:  # read only where the comparison is shown: it costs a second roll-up
        previous_set = criteria_store.load_criteria(db, previous.criteria_set_id)
        previous_rollup = roll_up(previous_set, entries_from_scores(assessment_store.list_scores(db, previous.id)))
        differ = criteria_set is not None and sets_differ(previous_set, criteria_set)
        if differ:
            mapping = confirmed_mapping(db, previous.criteria_set_id, assessment.criteria_set_id)
    return Snapshot(
        department=department,
        year=year,
        today=today or local_today(),  # Vietnam's date, not the server's: deadlines are Vietnamese days
        assessment=assessment,
        criteria_set=criteria_set,
        plan=plan_store.get_plan(db, department_id, year),
        activities=plan_store.list_activities(db, department_id, year),
        scores=scores,
        evidence=evidence_store.list_evidence(db, department_id, year),
        rollup=rollup,
        settings=cycle_store.year_settings(db, assessment.id) if assessment else None,
        bonus=assessment.bonus_points if assessment else None,
        penalty=assessment.penalty_points if assessment else None,
        previous_rollup=previous_rollup,
        previous_criteria_set=previous_set,
        criteria_sets_differ=differ,
        criteria_mapping=mapping,
    )


@dataclass(frozen=True)
class _Kept:
    key: tuple
    revisions: dict[Scope, int]  # what the snapshot depends on (revisions.scopes_of_year), as read before it
    snapshot: Snapshot
    checked_in: Callable[[], object | None] = lambda: None  # the page run that last confirmed the revisions


def _reference(run: object | None) -> Callable[[], object | None]:
    if run is None:
        return lambda: None
    try:
        return weakref.ref(run)  # a finished run's token may go; a new one is never mistaken for it
    except TypeError:
        return lambda: run


class SnapshotKeeper:
    """One person's latest snapshot, kept while the revisions of what it shows (scoring.store.revisions: its
    department-year, the year before when it compares with it, and SHARED) have not moved — another
    department's save moves none of them.

    A page run that changed nothing reads those few numbers (one query) instead of the whole year, and only
    once per run (`run`: any object that stands for the current page run; parts of the page drawn in the same
    run share what the first part read, as one page drawn whole shares one snapshot). After the person's own
    score save, the kept snapshot takes the saved row in place of a reload, but only when that save is the one
    and only write to its department-year since the snapshot was read (that revision is exactly one more) and
    moved nothing else the snapshot shows; a write by anyone else to any of it means a reload. The revisions are
    read before the snapshot, so a write that lands while it is being read makes the kept copy look older than
    it is (a harmless extra reload), never newer.
    """

    def __init__(self) -> None:
        self._kept: _Kept | None = None

    def snapshot(self, db: Database, department_id: int, year: int, *, viewer: actors.Actor | None = None,
                 with_previous_year: bool = False, today: date | None = None, run: object | None = None) -> Snapshot:
        today = today or local_today()
        key = (db.settings, department_id, year, viewer, with_previous_year, today)
        kept = self._kept
        if kept is not None and kept.key == key:
            if run is not None and kept.checked_in() is run:
                return kept.snapshot
            now = db.revisions(tuple(kept.revisions))
            if now == kept.revisions:
                self._kept = replace(kept, checked_in=_reference(run))
                return kept.snapshot
        else:
            now = db.revisions(scopes_of_year(department_id, year, with_previous_year=with_previous_year))
        self._kept = None  # a failed read (PermissionDenied) must not leave the old one standing
        snapshot = load_snapshot(db, department_id, year, today=today, viewer=viewer, with_previous_year=with_previous_year)
        self._kept = _Kept(key, now, snapshot, _reference(run))
        return snapshot

    def behind(self, db: Database) -> bool:
        """Whether the data the kept snapshot shows has been written since it was read (False when none is kept):
        one query, what a page that follows the data asks every few seconds."""
        kept = self._kept
        return kept is not None and db.revisions(tuple(kept.revisions)) != kept.revisions

    def score_saved(self, db: Database, assessment_id: int, view: assessment_store.ScoreView, *, run: object | None = None) -> None:
        """Tell the keeper about a score this thread has just saved through `db` (during `run`).

        The snapshot it keeps is then the data as the save committed it, as fresh as a read made in this run.
        """
        kept, written = self._kept, db.last_write_revisions()
        if kept is None:
            return
        current = kept.snapshot.assessment
        scope = (int(kept.key[1]), int(kept.key[2]))  # department, year
        if (kept.key[0] == db.settings and current is not None and current.id == assessment_id
                and kept.snapshot.criteria_set is not None and unchanged_but_for(kept.revisions, written, scope)):
            self._kept = _Kept(kept.key, {**kept.revisions, scope: written[scope]}, kept.snapshot.with_score(view), _reference(run))
        else:
            self._kept = None


def entries_from_scores(scores: dict[str, assessment_store.ScoreView]) -> dict[str, LeafEntry]:
    """Stored scores as engine entries: the engine scores the stored inputs through the rule itself (so the
    explanation is the rule's own words); the stored self points are the same number, kept for queries."""
    return {
        code: LeafEntry(
            code=code,
            inputs=dict(s.inputs),
            not_applicable=s.not_applicable,
            appraised_points=s.appraised_points,
            appraisal_remark=s.appraisal_remark,
        )
        for code, s in scores.items()
    }

