"""What the province overview needs to know before it reads a department's year again: whether anything
assessment_store.years_of_departments would read for it has changed.

`year_fingerprints` says so in three small queries for all departments: the overview then reads and rolls up again
only the departments that did, instead of every department's every score after each save.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import func, select

from scoring.store.assessment_state import appraisers_of
from scoring.store.db import Database
from scoring.store.models import Assessment, CriteriaSetRecord, ScoreRecord


def year_fingerprints(db: Database, department_ids: Iterable[int], year: int) -> dict[int, tuple]:
    """Per department that has opened `year`: a value that differs whenever anything years_of_departments reads
    for it differs — every column of its assessment row, its criteria set's digest, its scores (count, id range,
    sum of row versions: every ORM update of a score moves its version; latest change), and the appraisers
    assigned to it. Departments without the year are absent."""
    wanted = list(department_ids)
    if not wanted:
        return {}
    # the published record (cycle_store.published_record) is not read by years_of_departments, and moves with
    # published_at anyway: left out, so a published year's fingerprint is not its whole record
    columns = [c for c in Assessment.__table__.columns if c.name != "published_index"]
    with db.session() as session:
        rows = session.execute(select(*columns, CriteriaSetRecord.digest)
                               .join(CriteriaSetRecord, CriteriaSetRecord.id == Assessment.criteria_set_id)
                               .where(Assessment.year == year, Assessment.department_id.in_(wanted))).all()
        by_assessment = {row.id: row for row in rows}
        scores = {
            assessment_id: tuple(rest)
            for assessment_id, *rest in session.execute(
                select(ScoreRecord.assessment_id, func.count(), func.min(ScoreRecord.id), func.max(ScoreRecord.id),
                       func.sum(ScoreRecord.version), func.max(ScoreRecord.updated_at))
                .where(ScoreRecord.assessment_id.in_(list(by_assessment)))
                .group_by(ScoreRecord.assessment_id))
        } if by_assessment else {}
        appraisers = appraisers_of(session, wanted)
    found = {}
    for assessment_id, row in by_assessment.items():
        # JSON columns (settings, overrides) as canonical text, so the whole row compares and hashes
        assessment = tuple(json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else value
                           for value in row)
        found[row.department_id] = (assessment, scores.get(assessment_id), appraisers.get(row.department_id, ()))
    return found
