"""Opening a year's assessment, its criteria set, and every score written in it: self-scores, appraisals, explanations.

Each write is one transaction, checked by scoring.assessment.cycle.may_write, versioned and audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from scoring.access.auth import Action
from scoring.assessment.appraisal import LeafAppraisal, SourceDocument
from scoring.assessment.cycle import APPRAISAL_WRITES, CycleState, Write, vietnam_today
from scoring.assessment.settings import YearSettings, default_settings
from scoring.criteria.mapping import Carry, carry_over
from scoring.criteria.rules import score_leaf
from scoring.errors import ConflictError, InputError
from scoring.store.actors import SYSTEM_ACTOR, Actor, actor_name, check_allowed
from scoring.store.assessment_state import (
    AssessmentView,
    actor_may_write,
    appraisers_of,
    assessment_view,
    authorship,
    claim_settings_version,
    overrides_of,
    refuse_if_published,
    self_score_locked,
)
from scoring.store.audit_trail import audit
from scoring.store.criteria_mapping_store import mapping_between
from scoring.store.criteria_store import SET_IDENTITY, set_from_identity, stored_set
from scoring.store.db import Database
from scoring.store.models import (
    Assessment,
    CriteriaSetRecord,
    EvidenceCriterion,
    EvidenceRecord,
    ScoreRecord,
    utcnow,
)
from scoring.store.rows import check_version, get_row, not_found
from scoring.textnorm import format_datetime, nfc


def open_assessment(db: Database, department_id: int, year: int, criteria_set_id: int, *, actor: Actor = SYSTEM_ACTOR) -> AssessmentView:
    """The department's assessment for the year, created with the given criteria set when it does not exist."""
    with db.session() as session:
        row = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
        if row is None:
            check_allowed(actor, Action.MANAGE_YEARS, department_id=department_id)
            get_row(session, CriteriaSetRecord, criteria_set_id, "bộ tiêu chí")
            row = Assessment(department_id=department_id, year=year, criteria_set_id=criteria_set_id,
                             settings_updated_by=actor_name(actor))
            session.add(row)
            session.flush()
            audit(session, actor, department_id, "assessment", str(year), {"mở kỳ đánh giá": (None, str(year))})
        return assessment_view(row)


@dataclass(frozen=True)
class SetSwitch:
    """A year moved to another criteria set, and where each scored criterion's work went (criteria.mapping.carry_over)."""

    assessment: AssessmentView
    carries: tuple[Carry, ...]

    @property
    def summary(self) -> str:
        return switch_summary(self.carries)


def switch_summary(carries: Iterable[Carry]) -> str:
    """What a switch does to the work already done, in one paragraph: kept, renumbered, not carried and why."""
    carries = list(carries)
    if not carries:
        return "Năm này chưa có tiêu chí nào được chấm hay gắn tài liệu, nên không có gì phải chuyển."
    kept = [c for c in carries if c.new_code is not None]
    moved = [c for c in kept if c.new_code != c.old_code]
    left = [c for c in carries if c.new_code is None]
    parts = [f"Giữ điểm và tài liệu của {len(kept)} tiêu chí"
             + (f" ({len(moved)} đổi mã: {'; '.join(c.text for c in moved)})" if moved else "") + "."]
    if left:
        parts.append(f"Không chuyển được {len(left)} tiêu chí sang bộ mới ({'; '.join(c.text for c in left)}): "
                     "điểm và liên kết tài liệu của chúng được bỏ khỏi năm này, giá trị cũ còn trong nhật ký thay đổi; "
                     "hãy chấm lại các tiêu chí tương ứng của bộ mới.")
    return " ".join(parts)


def _carries(session: Session, row: Assessment, criteria_set_id: int) -> list[Carry]:
    codes = set(session.scalars(select(ScoreRecord.code).where(ScoreRecord.assessment_id == row.id)))
    codes |= set(session.scalars(select(EvidenceCriterion.code).where(EvidenceCriterion.assessment_id == row.id)))
    return carry_over(mapping_between(session, row.criteria_set_id, criteria_set_id), stored_set(session, row.criteria_set_id),
                      stored_set(session, criteria_set_id), codes)


def criteria_switch_preview(db: Database, assessment_id: int, criteria_set_id: int, *, actor: Actor) -> list[Carry]:
    """What switch_criteria_set would do to the scores and evidence links, for the person to read before choosing."""
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        check_allowed(actor, Action.MANAGE_SETTINGS, department_id=row.department_id)
        get_row(session, CriteriaSetRecord, criteria_set_id, "bộ tiêu chí")
        return [] if criteria_set_id == row.criteria_set_id else _carries(session, row, criteria_set_id)


def switch_criteria_set(db: Database, assessment_id: int, expected_version: int, *, criteria_set_id: int,
                        actor: Actor) -> SetSwitch:
    """Score the assessment with another set, if the assessment is still the version the person saw.

    What was entered moves by meaning, not by code (criteria.mapping.carry_over, along the confirmed mapping of the
    two sets, else the proposed one): a criterion kept or renumbered keeps its score (scored again by the new set's
    rule) and its evidence links under its new code; the work of a criterion merged, split, dropped or now scored
    another way is taken off the year, each value audited, so that no score is ever shown against another
    criterion. Not once the self-score is locked (the appraisal works on what was submitted) nor once the index
    is published."""
    with db.session() as session:
        row = get_row(session, Assessment, assessment_id, "kỳ đánh giá")
        check_allowed(actor, Action.MANAGE_SETTINGS, department_id=row.department_id)
        refuse_if_published(session, row.department_id, row.year, f"Không đổi được bộ tiêu chí năm {row.year}")
        if self_score_locked(row):
            raise InputError(f"Không đổi được bộ tiêu chí năm {row.year}: điểm tự chấm đã chốt lúc "
                             f"{format_datetime(row.locked_at)} ({row.locked_by}) và đang được thẩm định theo bộ này; "
                             "cần quản trị viên mở lại bản tự chấm trước.")
        get_row(session, CriteriaSetRecord, criteria_set_id, "bộ tiêu chí")
        claim_settings_version(session, row, expected_version, actor)
        carries = []
        if criteria_set_id != row.criteria_set_id:
            carries = _carries(session, row, criteria_set_id)
            _carry_scores(session, row, carries, stored_set(session, criteria_set_id), actor)
            _carry_evidence_links(session, row, carries, actor)
        audit(session, actor, row.department_id, "assessment", str(row.year), {"bộ tiêu chí": (row.criteria_set_id, criteria_set_id)})
        row.criteria_set_id = criteria_set_id
        session.flush()
        return SetSwitch(assessment_view(row), tuple(carries))


def _carry_scores(session: Session, row: Assessment, carries: list[Carry], new_set, actor: Actor) -> None:
    where = {c.old_code: c for c in carries}
    scores = session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == row.id)).all()
    kept = []
    for score in scores:
        carry = where.get(score.code)
        key = f"{row.year}/{score.code}"
        if carry is None or carry.new_code is None:
            audit(session, actor, row.department_id, "score", key, {
                "điểm tự chấm": (score.self_points, None), "số liệu chấm": (score.inputs or None, None),
                "không đánh giá": (score.not_applicable, False),
                "không chuyển sang bộ mới": (None, carry.reason if carry else "không thuộc bộ tiêu chí đang dùng")})
            session.delete(score)
            continue
        leaf = new_set.node(carry.new_code)
        points = None if score.not_applicable else score_leaf(leaf.rule, score.inputs or {}).points
        if not score.not_applicable and points is None and score.self_points is not None:
            # entered for the old rule but not a score by the new one (a ratio over the new maximum, say)
            audit(session, actor, row.department_id, "score", key, {
                "điểm tự chấm": (score.self_points, None),
                "không chuyển sang bộ mới": (None, f"số liệu đã nhập không chấm được theo cách chấm của {carry.new_code}")})
            session.delete(score)
            continue
        kept.append((score, score.code, carry.new_code, points))
    session.flush()
    for score, *_ in kept:  # two steps: codes may move onto each other (2.3 → 2.4, 2.4 → 2.5)
        score.code = f"~{score.id}"
    session.flush()
    for score, old_code, new_code, points in kept:
        changes = {"mã tiêu chí": (old_code, new_code), "điểm tự chấm": (score.self_points, points)}
        if old_code != new_code or points != score.self_points:
            audit(session, actor, row.department_id, "score", f"{row.year}/{new_code}", changes)
            score.version += 1
            score.updated_at, score.updated_by = utcnow(), actor_name(actor)
        score.code, score.self_points = new_code, points


def _carry_evidence_links(session: Session, row: Assessment, carries: list[Carry], actor: Actor) -> None:
    where = {c.old_code: c.new_code for c in carries}
    links = session.scalars(select(EvidenceCriterion).where(EvidenceCriterion.assessment_id == row.id)).all()
    staying: dict[tuple[int, str], str] = {}
    for link in links:
        new_code = where.get(link.code)
        if new_code is None or (link.evidence_id, new_code) in staying:
            if new_code is None:
                audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{link.evidence_id}",
                      {"tiêu chí": (link.code, None)})
            session.delete(link)
            continue
        staying[(link.evidence_id, new_code)] = link.section
        if new_code != link.code:
            audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{link.evidence_id}",
                  {"tiêu chí": (link.code, new_code)})
            session.delete(link)  # part of the key: the link is made again under the new code
    session.flush()
    for (evidence_id, new_code), section in staying.items():
        if session.get(EvidenceCriterion, (evidence_id, row.id, new_code)) is None:
            session.add(EvidenceCriterion(evidence_id=evidence_id, assessment_id=row.id, code=new_code, section=section))


# ---------------------------------------------------------------- scores


@dataclass(frozen=True)
class ScoreView:
    code: str
    inputs: dict
    not_applicable: bool
    self_points: Decimal | None
    explanation: str
    appraised_points: Decimal | None
    appraisal_remark: str
    version: int  # 0: never saved
    updated_at: datetime | None
    updated_by: str
    appraisal: LeafAppraisal = field(default_factory=LeafAppraisal)  # both rounds and the explanation

    @staticmethod
    def empty(code: str) -> ScoreView:
        return ScoreView(code, {}, False, None, "", None, "", 0, None, "")


def _score_view(row: ScoreRecord) -> ScoreView:
    return ScoreView(row.code, dict(row.inputs or {}), row.not_applicable, row.self_points, row.explanation,
                     row.appraised_points, row.appraisal_remark, row.version, row.updated_at, row.updated_by,
                     LeafAppraisal.from_dict(row.appraisal or {}))


def list_scores(db: Database, assessment_id: int) -> dict[str, ScoreView]:
    with db.session() as session:
        rows = session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == assessment_id)).all()
        return {r.code: _score_view(r) for r in rows}


@dataclass
class _LeafWrite:
    """What a write to one criterion's score reads first, in one query: a working session saves often."""
    session: Session
    assessment: Assessment
    code: str
    stored: ScoreRecord | None  # None before the criterion's first save
    criteria_set_identity: tuple[str, str, str]  # digest, source name, name

    def leaf(self):
        """The criterion in the assessment's set; refused when the set has no such leaf."""
        digest, source_name, name = self.criteria_set_identity
        criteria_set = set_from_identity(self.session, self.assessment.criteria_set_id, digest, source_name, name)
        node = criteria_set.node(self.code)
        if node is None or not node.is_leaf:
            raise InputError(f"Tiêu chí {self.code} không có trong bộ tiêu chí đang dùng hoặc không phải tiêu chí chấm điểm.")
        return node

    def score_row(self, expected_version: int) -> ScoreRecord:
        """The row to change, if it is still the version the person saw (a new row when it was never saved)."""
        row = self.stored
        if row is None:
            if expected_version != 0:
                raise ConflictError(f"Điểm tiêu chí {self.code} đã bị xóa sau khi bạn mở trang. Hãy tải lại trang.")
            row = ScoreRecord(assessment_id=self.assessment.id, code=self.code, inputs={})
            self.session.add(row)
        else:
            check_version(row, expected_version, f"Điểm tiêu chí {self.code}")
        return row


def _leaf_write(session: Session, assessment_id: int, code: str) -> _LeafWrite:
    found = session.execute(
        select(Assessment, ScoreRecord, *SET_IDENTITY)
        .join(CriteriaSetRecord, CriteriaSetRecord.id == Assessment.criteria_set_id)
        .outerjoin(ScoreRecord, and_(ScoreRecord.assessment_id == Assessment.id, ScoreRecord.code == code))
        .where(Assessment.id == assessment_id)
    ).one_or_none()
    if found is None:
        raise not_found("kỳ đánh giá", assessment_id)
    assessment, stored, digest, source_name, name = found
    return _LeafWrite(session, assessment, code, stored, (digest, source_name, name))


def save_self_score(db: Database, assessment_id: int, code: str, expected_version: int, *, inputs: dict,
                    not_applicable: bool = False, explanation: str = "", actor: Actor):
    """Score one leaf from its rule's inputs. Returns (ScoreView, LeafResult); the points come from the rule,
    never from the caller, so the stored score always matches its inputs."""
    from scoring.criteria.rules import score_leaf

    with db.session() as session:
        write = _leaf_write(session, assessment_id, code)
        assessment = write.assessment
        check_allowed(actor, Action.EDIT_SELF_SCORE, department_id=assessment.department_id)
        if self_score_locked(assessment):
            raise InputError(f"Điểm tự chấm năm {assessment.year} đã chốt lúc {format_datetime(assessment.locked_at)} "
                             f"({assessment.locked_by}); cần quản trị viên mở lại trước khi sửa.")
        node = write.leaf()
        result = score_leaf(node.rule, inputs) if not not_applicable else None
        if result is not None and result.problems:
            raise InputError(f"Tiêu chí {code}: " + "; ".join(result.problems))
        row = write.score_row(expected_version)
        before = {"điểm tự chấm": row.self_points, "không đánh giá": row.not_applicable,
                  "thông tin chấm": row.inputs or {}, "giải trình": row.explanation}
        row.inputs = dict(inputs)
        row.not_applicable = bool(not_applicable)
        row.self_points = None if not_applicable or result is None else result.points
        row.explanation = nfc(explanation)
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        after = {"điểm tự chấm": row.self_points, "không đánh giá": row.not_applicable,
                 "thông tin chấm": row.inputs, "giải trình": row.explanation}
        audit(session, actor, assessment.department_id, "score", f"{assessment.year}/{code}", {k: (before[k], after[k]) for k in before})
        session.flush()
        return _score_view(row), result


def save_appraisal(db: Database, assessment_id: int, code: str, expected_version: int, *, points, remark: str = "",
                   round_number: int = 1, request_explanation: bool | None = None, source: SourceDocument | None = None,
                   actor: Actor, today: date | None = None) -> ScoreView:
    """An appraisal round's score (điểm thẩm định) and remark for one leaf, from the Department of Home Affairs.

    Round 1 may ask the department to explain (yêu cầu giải trình); round 2 follows the explanation. The final
    appraised points (round 2 where given, else round 1) are what the index counts. Who may write a round, and
    when, is scoring.assessment.cycle.may_write's answer for `today` (Vietnam date by default): an appraiser account where
    the department has one, else the Office transcribing the province's document `source` (number and date),
    which is stored with the round as its author.
    """
    from scoring.criteria.numbers import parse_decimal

    if round_number not in (1, 2):
        raise ValueError(round_number)
    with db.session() as session:
        write = _leaf_write(session, assessment_id, code)
        assessment = write.assessment
        before = LeafAppraisal.from_dict(write.stored.appraisal or {}) if write.stored is not None else LeafAppraisal()
        verdict = actor_may_write(session, assessment, actor, APPRAISAL_WRITES[round_number], today=today, leaf=before, code=code)
        author = authorship(actor, verdict, source)
        node = write.leaf()
        value = None if points in (None, "") else parse_decimal(points)
        if points not in (None, "") and value is None:
            raise InputError(f"Tiêu chí {code}: điểm thẩm định «{points}» không phải là số.")
        row = write.score_row(expected_version)
        if round_number == 1:
            after = replace(before, round1_points=value, round1_remark=nfc(remark), round1_author=author,
                            explanation_requested=before.explanation_requested if request_explanation is None else request_explanation)
        else:
            after = replace(before, round2_points=value, round2_remark=nfc(remark), round2_author=author)
        problems = after.problems(node)
        if problems:
            raise InputError(" ".join(problems))
        row.appraisal = after.to_dict()
        row.appraised_points, row.appraisal_remark = after.final_appraised_points, after.final_remark
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        label = f"lần {round_number}"
        old_author = before.author(round_number)
        audit(session, actor, assessment.department_id, "score", f"{assessment.year}/{code}", {
            f"điểm thẩm định {label}": (before.points(round_number), value),
            f"nhận xét thẩm định {label}": (before.remark(round_number), nfc(remark)),
            "yêu cầu giải trình": (before.explanation_requested, after.explanation_requested),
            f"người nhập thẩm định {label}": (old_author.text if old_author else None, author.text),
        })
        session.flush()
        return _score_view(row)


def save_explanation(db: Database, assessment_id: int, code: str, expected_version: int, *, explanation: str,
                     evidence_ids: Iterable[int] = (), actor: Actor, today: date | None = None) -> ScoreView:
    """The department's answer to a request for explanation (giải trình), with supplementary documents,
    during the explanation window (scoring.assessment.cycle.may_write)."""
    with db.session() as session:
        write = _leaf_write(session, assessment_id, code)
        assessment = write.assessment
        before = LeafAppraisal.from_dict(write.stored.appraisal or {}) if write.stored is not None else LeafAppraisal()
        actor_may_write(session, assessment, actor, Write.EXPLANATION, today=today, leaf=before, code=code)
        row = write.score_row(expected_version)
        ids = tuple(dict.fromkeys(int(i) for i in evidence_ids))
        known = set(session.scalars(select(EvidenceRecord.id).where(EvidenceRecord.department_id == assessment.department_id)).all())
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError(f"Không có tài liệu {', '.join(f'TL{i}' for i in unknown)} trong sổ tài liệu của cơ quan.")
        after = replace(before, explanation=nfc(explanation), supplementary_evidence_ids=ids)
        row.appraisal = after.to_dict()
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        audit(session, actor, assessment.department_id, "score", f"{assessment.year}/{code}", {
            "giải trình": (before.explanation, after.explanation),
            "tài liệu bổ sung": (list(before.supplementary_evidence_ids), list(ids)),
        })
        session.flush()
        return _score_view(row)


@dataclass(frozen=True)
class YearOfDepartment:
    """One department's year as an overview of many departments needs it, read together with the others'."""

    assessment: AssessmentView
    state: CycleState
    scores: dict[str, ScoreView]
    criteria_set: Any


def years_of_departments(db: Database, department_ids: Iterable[int], year: int,
                         today: date | None = None) -> dict[int, YearOfDepartment]:
    """The opened `year` of each of these departments with its cycle state on `today` and its stored scores, in a
    few queries for all of them (an overview of a hundred departments would otherwise make several hundred)."""
    wanted = list(department_ids)
    day = vietnam_today(today)
    with db.session() as session:
        rows = session.scalars(select(Assessment).where(Assessment.year == year, Assessment.department_id.in_(wanted))).all()
        scores: dict[int, dict[str, ScoreView]] = {row.id: {} for row in rows}
        for score in session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id.in_(list(scores)))):
            scores[score.assessment_id][score.code] = _score_view(score)
        appraisers = appraisers_of(session, wanted)
        sets = {set_id: stored_set(session, set_id) for set_id in {row.criteria_set_id for row in rows}}
        found = {}
        for row in rows:
            settings = YearSettings.from_dict(row.settings) if row.settings else default_settings(row.year)
            state = CycleState(settings=settings, today=day, locked=self_score_locked(row), published_at=row.published_at,
                               published_by=row.published_by or "", overrides=overrides_of(row),
                               appraisers=appraisers.get(row.department_id, ()))
            found[row.department_id] = YearOfDepartment(assessment_view(row), state, scores[row.id], sets[row.criteria_set_id])
        return found
