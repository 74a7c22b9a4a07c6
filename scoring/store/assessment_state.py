"""A stored assessment (one department's year) and where its cycle stands: the base every score, evidence and cycle
write checks against (locked? published? which round is open, and who may write it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scoring.access.auth import Role
from scoring.assessment.appraisal import AUTHOR_TRANSCRIBED, Authorship, LeafAppraisal, SourceDocument
from scoring.assessment.cycle import CycleState, RoundOverride, Write, may_write, vietnam_today
from scoring.assessment.settings import YearSettings, default_settings
from scoring.errors import STALE_WRITE_MESSAGE, ConflictError, InputError, NotFoundError
from scoring.store.actors import Actor, actor_name
from scoring.store.db import Database
from scoring.store.models import Account, AccountDepartment, Assessment, utcnow
from scoring.store.revisions import of_year
from scoring.store.rows import check_seen, get_row


def refuse_if_published(session: Session, department_id: int, year: int, what: str) -> None:
    """Once the year's index is published its criteria's documents and links stay as published, until the
    administrator reopens it (reopen_published): the refusal says what was refused, then the publication."""
    assessment = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
    if assessment is not None and assessment.published_at is not None:
        raise InputError(f"{what}. {cycle_state_of(session, assessment).published_text}")


@dataclass(frozen=True)
class AssessmentView:
    id: int
    department_id: int
    year: int
    criteria_set_id: int
    locked_at: datetime | None = None
    locked_by: str = ""
    bonus_points: Decimal | None = None
    penalty_points: Decimal | None = None
    bonus_penalty_author: Authorship | None = None
    bonus_penalty_version: int = 0  # what a change of the bonus or penalty expects to replace
    published_at: datetime | None = None
    published_by: str = ""
    round_overrides: tuple[RoundOverride, ...] = ()
    settings_version: int = 1  # what a change to the year's settings or criteria set expects


def get_assessment(db: Database, department_id: int, year: int) -> AssessmentView | None:
    with db.session() as session:
        row = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
        return assessment_view(row) if row else None


def assessment_view(row: Assessment) -> AssessmentView:
    return AssessmentView(row.id, row.department_id, row.year, row.criteria_set_id, row.locked_at, row.locked_by,
                          row.bonus_points, row.penalty_points, bonus_author(row), row.bonus_penalty_version or 0,
                          row.published_at, row.published_by or "", overrides_of(row), row.settings_version)


def bonus_author(row: Assessment) -> Authorship | None:
    return Authorship.from_dict(row.bonus_penalty_author) if row.bonus_penalty_author else None


def overrides_of(row: Assessment) -> tuple[RoundOverride, ...]:
    return tuple(RoundOverride.from_dict(o) for o in row.round_overrides or [])


def self_score_locked(assessment: Assessment) -> bool:
    """Whether the department has locked its self-score (chốt điểm) for this assessment."""
    return assessment.locked_at is not None


def assessment_for(session: Session, department_id: int, year: int) -> Assessment:
    row = session.scalar(select(Assessment).where(Assessment.department_id == department_id, Assessment.year == year))
    if row is None:
        raise NotFoundError(f"Năm {year} chưa có kỳ tự đánh giá: hãy chọn bộ tiêu chí cho năm này ở trang Cấu hình.")
    return row


def _appraiser_usernames(session: Session, department_id: int) -> tuple[str, ...]:
    """The active appraiser accounts assigned to the department: where there is one, it alone appraises."""
    return appraisers_of(session, [department_id]).get(department_id, ())


def appraisers_of(session: Session, department_ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """The active appraiser accounts assigned to each of these departments, by username; one query for all of them."""
    found: dict[int, list[str]] = {}
    for department_id, username in session.execute(
            select(AccountDepartment.department_id, Account.username)
            .join(Account, AccountDepartment.account_id == Account.id)
            .where(AccountDepartment.department_id.in_(list(department_ids)), Account.role == Role.APPRAISER.value,
                   Account.active.is_(True))
            .order_by(Account.username)):
        found.setdefault(department_id, []).append(username)
    return {department_id: tuple(names) for department_id, names in found.items()}


def cycle_state_of(session: Session, assessment: Assessment, today: date | None = None) -> CycleState:
    settings = YearSettings.from_dict(assessment.settings) if assessment.settings else default_settings(assessment.year)
    return CycleState(settings=settings, today=vietnam_today(today), locked=self_score_locked(assessment),
                      published_at=assessment.published_at, published_by=assessment.published_by or "",
                      overrides=overrides_of(assessment), appraisers=_appraiser_usernames(session, assessment.department_id))


def cycle_state(db: Database, assessment_id: int, today: date | None = None) -> CycleState:
    """Where the assessment's cycle stands on `today` (Vietnam date by default), for scoring.assessment.cycle.may_write."""
    with db.session() as session:
        return cycle_state_of(session, get_row(session, Assessment, assessment_id, "kỳ đánh giá"), today)


def actor_may_write(session: Session, assessment: Assessment, actor: Actor, write: Write, *, today: date | None = None,
         leaf: LeafAppraisal | None = None, code: str = ""):
    """scoring.assessment.cycle.may_write on the stored state, in the write's own transaction; raises its refusal."""
    state = cycle_state_of(session, assessment, today)
    return may_write(actor, write, state, department_id=assessment.department_id, leaf=leaf, code=code,
                     bonus_author=bonus_author(assessment)).check()


def authorship(actor: Actor, verdict, source: SourceDocument | None) -> Authorship:
    """The author an allowed appraisal write is recorded under; a transcription names its document."""
    if verdict.author_kind == AUTHOR_TRANSCRIBED:
        if source is None:
            raise InputError("Văn phòng ghi kết quả thẩm định theo văn bản của tỉnh: cần ghi số, ký hiệu và ngày "
                             "của văn bản đó.")
        return Authorship(AUTHOR_TRANSCRIBED, actor_name(actor), source.checked())
    return Authorship(verdict.author_kind, actor_name(actor))


def claim_settings_version(session: Session, row: Assessment, expected_version: int, actor: Actor) -> None:
    """Move the settings version on from the one the person saw, or refuse naming who moved it first.

    The version has a column of its own (a lock or a bonus changes the same row but not what the settings page
    showed), so the ORM does not guard it: the UPDATE does, and two saves at once cannot both pass.
    """
    what = f"Thiết lập năm {row.year} (bộ tiêu chí, đợt chấm, mức xếp loại)"
    check_seen(row.settings_version, expected_version, what, row.settings_updated_by, row.settings_updated_at)
    claimed = session.execute(of_year(
        update(Assessment).where(Assessment.id == row.id, Assessment.settings_version == expected_version)
        .values(settings_version=expected_version + 1, settings_updated_at=utcnow(), settings_updated_by=actor_name(actor))
        .execution_options(synchronize_session="fetch"), row.department_id, row.year)
    ).rowcount
    if not claimed:
        raise ConflictError(STALE_WRITE_MESSAGE)
