"""Confirmed criteria mappings (scoring.criteria.mapping) in the database: read, and confirmed by a person.

A mapping belongs to a pair of criteria sets, by content (models.CriteriaMappingRecord), not to a department: the
sets are the province's. So whoever may import criteria sets (Action.MANAGE_CRITERIA) confirms it, once for every
department that scores last year's and this year's by those sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.access.auth import Action
from scoring.criteria.files import content_digest
from scoring.criteria.mapping import CriteriaMapping, check_mapping, propose_mapping
from scoring.criteria.model import CriteriaSet
from scoring.store.actors import Actor, actor_name, check_allowed
from scoring.store.audit_trail import audit
from scoring.store.criteria_store import stored_set
from scoring.store.db import Database
from scoring.store.models import CriteriaMappingRecord, CriteriaSetRecord, utcnow
from scoring.store.rows import check_seen, check_version, get_row, not_found

AUDIT_ENTITY = "criteria_mapping"
AUDIT_FIELD = "bảng đối chiếu tiêu chí"
NOTHING_LINKED = "(không tiêu chí nào được nối)"


@dataclass(frozen=True)
class ConfirmedMapping:
    mapping: CriteriaMapping
    version: int  # what a change expects
    confirmed_at: datetime
    confirmed_by: str


def _digest(session: Session, criteria_set_id: int) -> str:
    """The set's content digest, without reading its content (most of its row) unless no digest was stored."""
    digest = session.scalar(select(CriteriaSetRecord.digest).where(CriteriaSetRecord.id == criteria_set_id))
    if digest is None:
        raise not_found("bộ tiêu chí", criteria_set_id)
    return digest or content_digest(get_row(session, CriteriaSetRecord, criteria_set_id, "bộ tiêu chí").content)


def _find(session: Session, from_digest: str, to_digest: str) -> CriteriaMappingRecord | None:
    return session.scalar(select(CriteriaMappingRecord).where(CriteriaMappingRecord.from_digest == from_digest,
                                                              CriteriaMappingRecord.to_digest == to_digest))


def _view(row: CriteriaMappingRecord) -> ConfirmedMapping:
    return ConfirmedMapping(CriteriaMapping.from_dict(row.links), row.version, row.updated_at, row.updated_by)


def mapping_between(session: Session, from_set_id: int, to_set_id: int) -> CriteriaMapping:
    """The mapping from one set to another: the one a person confirmed, else the app's proposal (propose_mapping)."""
    row = _find(session, _digest(session, from_set_id), _digest(session, to_set_id))
    if row is not None:
        return _view(row).mapping
    return propose_mapping(stored_set(session, from_set_id), stored_set(session, to_set_id))


def confirmed_mapping(db: Database, from_set_id: int, to_set_id: int) -> ConfirmedMapping | None:
    """The mapping a person confirmed from set `from_set_id` (last year's) to `to_set_id`, or None."""
    with db.session() as session:
        row = _find(session, _digest(session, from_set_id), _digest(session, to_set_id))
        return _view(row) if row is not None else None


def confirm_mapping(db: Database, from_set_id: int, to_set_id: int, mapping: CriteriaMapping, expected_version: int, *,
                    actor: Actor) -> ConfirmedMapping:
    """Store `mapping` as confirmed, if what is stored is still what the person saw (`expected_version`: 0 when no
    mapping was confirmed yet). Every link must name scored criteria of the two sets. Audited old → new."""
    check_allowed(actor, Action.MANAGE_CRITERIA)
    with db.session() as session:
        old_set, new_set = stored_set(session, from_set_id), stored_set(session, to_set_id)
        check_mapping(mapping, old_set, new_set)
        from_digest, to_digest = _digest(session, from_set_id), _digest(session, to_set_id)
        row = _find(session, from_digest, to_digest)
        what = f"Bảng đối chiếu tiêu chí từ «{old_set.name}» sang «{new_set.name}»"
        if row is None:
            # nothing stored: the person must have seen nothing either; a row made meanwhile is caught by the unique key
            _check_version_absent(expected_version, what)
            row = CriteriaMappingRecord(from_digest=from_digest, to_digest=to_digest)
            session.add(row)
            before = None
        else:
            check_version(row, expected_version, what)
            before = CriteriaMapping.from_dict(row.links)
        row.links = mapping.to_dict()
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        audit(session, actor, None, AUDIT_ENTITY, _audit_key(old_set, new_set),
              {AUDIT_FIELD: (_audit_text(before), _audit_text(mapping))})
        session.flush()
        return _view(row)


def _check_version_absent(expected_version: int, what: str) -> None:
    # a mapping the page showed and that is gone now (only a restore does that) is a change the person did not see
    check_seen(0, expected_version, what, "", None)


def _audit_key(old_set: CriteriaSet, new_set: CriteriaSet) -> str:
    return f"{old_set.name} → {new_set.name}"


def _audit_text(mapping: CriteriaMapping | None) -> str | None:
    if mapping is None:
        return None
    return mapping.summary() or NOTHING_LINKED
