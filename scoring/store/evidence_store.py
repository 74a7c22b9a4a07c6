"""Evidence documents (tài liệu kiểm chứng): their number, date and file, and the criteria and activities they serve.

Files are kept by content (scoring.store.evidence_files); a record is versioned and audited like every row.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scoring.access.auth import Action, Principal, authorize, authorize_view, can
from scoring.errors import InputError, NotFoundError
from scoring.store.actors import Actor, actor_name, check_allowed, require_trusted
from scoring.store.assessment_state import assessment_for, refuse_if_published, self_score_locked
from scoring.store.audit_trail import audit
from scoring.store.db import Database, evidence_file_in_use
from scoring.store.models import (
    ActivityRecord,
    Assessment,
    EvidenceActivity,
    EvidenceCriterion,
    EvidenceRecord,
    PlanRecord,
    ScoreRecord,
    utcnow,
)
from scoring.store.plan_store import list_activities
from scoring.store.revisions import of_year
from scoring.store.rows import check_version, code_key, get_row
from scoring.textnorm import format_date, nfc

# ---------------------------------------------------------------- evidence

EVIDENCE_TYPES = ("Kế hoạch", "Báo cáo", "Quyết định", "Công văn", "Tờ trình", "Thông báo", "Biên bản", "Văn bản khác")


@dataclass(frozen=True)
class EvidenceView:
    id: int
    year: int
    doc_type: str
    number: str
    issued_on: date | None
    issuer: str
    summary: str
    file_key: str | None
    file_name: str
    file_kind: str
    file_size: int
    link: str
    version: int
    criteria: list[str]  # criterion codes (of the assessment of the same year)
    activities: list[str]  # activity codes
    sections: dict[str, str] = field(default_factory=dict)  # criterion code → part/page that serves it

    @property
    def title(self) -> str:
        head = " ".join(x for x in (self.doc_type, f"số {self.number}" if self.number else "") if x)
        dated = f"ngày {format_date(self.issued_on)}" if self.issued_on else ""
        return ", ".join(x for x in (head, dated) if x) + (f": {self.summary}" if self.summary else "")

    @property
    def missing_metadata(self) -> list[str]:
        missing = []
        if not self.number:
            missing.append("số, ký hiệu")
        if not self.issued_on:
            missing.append("ngày ban hành")
        return missing


@dataclass
class EvidenceInput:
    doc_type: str = ""
    number: str = ""
    issued_on: date | None = None
    issuer: str = ""
    summary: str = ""
    link: str = ""

    def cleaned(self) -> EvidenceInput:
        link = nfc(self.link)
        if link and not link.lower().startswith(("https://", "http://")):
            raise InputError(f"Đường dẫn «{link[:60]}» không hợp lệ: phải bắt đầu bằng http:// hoặc https://.")
        return EvidenceInput(nfc(self.doc_type), nfc(self.number), self.issued_on, nfc(self.issuer), nfc(self.summary), link)


# How a document is registered: with its file, or by its number or its link alone. The person says which, so a
# file the uploader refused in the browser (the server then receives nothing) never becomes a record without file.
ATTACH_FILE, ATTACH_NUMBER, ATTACH_LINK = "file", "number", "link"
EVIDENCE_ATTACHMENTS = {
    ATTACH_FILE: "Tệp đính kèm",
    ATTACH_NUMBER: "Không kèm tệp: chỉ ghi số hiệu văn bản",
    ATTACH_LINK: "Không kèm tệp: chỉ có đường dẫn",
}


def add_evidence(db: Database, department_id: int, year: int, meta: EvidenceInput, *, actor: Actor,
                 upload: tuple[str, bytes] | None = None, attachment: str = ATTACH_FILE, criteria: Iterable[str] = (),
                 activity_codes: Iterable[str] = ()) -> EvidenceView:
    """Register a document; the file (if any) is checked by content and stored by hash before the row is saved.

    `attachment` is how the person registers it (EVIDENCE_ATTACHMENTS): with a file, which must then have
    arrived, or by its number or link alone, without one."""
    from scoring.store.evidence_files import EvidenceStore
    from scoring.store.uploads import check_upload

    meta = meta.cleaned()
    criteria, activity_codes = list(criteria), list(activity_codes)
    _allow_evidence_upload(db, actor, department_id, year, criteria, activity_codes)
    _check_attachment(meta, upload, attachment)
    if criteria:
        with db.session() as session:  # before the file is stored: a refused document leaves nothing behind
            refuse_if_published(session, department_id, year, "Không thêm được tài liệu cho các tiêu chí")
    checked = check_upload(*upload) if upload is not None else None
    # the file and its record are saved together: a record that fails to save (or a process killed between
    # the two) leaves no file that this upload put in the store (EvidenceStore.storing)
    with (EvidenceStore(db.settings.evidence_dir).storing(checked, upload[1], referenced=lambda key: evidence_file_in_use(db, key))
          if checked is not None else nullcontext()) as key:
        with db.session() as session:
            if criteria:  # again in the write's own transaction: the index may have been published meanwhile
                refuse_if_published(session, department_id, year, "Không thêm được tài liệu cho các tiêu chí")
            row = EvidenceRecord(department_id=department_id, year=year, doc_type=meta.doc_type, number=meta.number,
                                 issued_on=meta.issued_on, issuer=meta.issuer, summary=meta.summary, link=meta.link,
                                 updated_by=actor_name(actor))
            if checked is not None:
                row.file_key, row.file_name = key, checked.display_name
                row.file_kind, row.file_size = checked.kind, checked.size
            session.add(row)
            session.flush()
            _set_evidence_links(session, row, year, criteria, activity_codes)
            audit(session, actor, department_id, "evidence", f"{year}/TL{row.id}",
                  {"thêm tài liệu": (None, _evidence_label(row))})
            session.flush()
            view = evidence_view(session, row)
    return view


def _check_attachment(meta: EvidenceInput, upload: tuple[str, bytes] | None, attachment: str) -> None:
    """A document is saved with its file, or, when the person chose so, by its number or link alone."""
    from scoring.store.uploads import EVIDENCE_UPLOAD_RULE, safe_display_name

    if attachment not in EVIDENCE_ATTACHMENTS:
        raise ValueError(f"unknown attachment {attachment!r}")
    file_choice, number_choice, link_choice = (f"«{EVIDENCE_ATTACHMENTS[a]}»" for a in (ATTACH_FILE, ATTACH_NUMBER, ATTACH_LINK))
    if attachment == ATTACH_FILE:
        if upload is None:
            raise InputError(
                "Chưa nhận được tệp đính kèm nên tài liệu chưa được lưu. "
                f"{EVIDENCE_UPLOAD_RULE} Tệp lớn hơn hoặc khác loại bị ô tải tệp từ chối; hãy chọn lại tệp, "
                f"hoặc chọn {number_choice} hay {link_choice} nếu tài liệu không kèm tệp."
            )
        return
    if upload is not None:
        name = safe_display_name(upload[0]) or "(không có tên)"
        raise InputError(f"Đã chọn {number_choice if attachment == ATTACH_NUMBER else link_choice} nhưng có tệp «{name}»: "
                         f"hãy chọn {file_choice} để lưu kèm tệp, hoặc bỏ tệp ra.")
    if attachment == ATTACH_NUMBER and not meta.number:
        raise InputError(f"Đã chọn {number_choice}: hãy ghi số, ký hiệu của văn bản.")
    if attachment == ATTACH_LINK and not meta.link:
        raise InputError(f"Đã chọn {link_choice}: hãy ghi đường dẫn (http/https) tới tài liệu.")


def _allow_evidence_upload(db: Database, actor: Actor, department_id: int, year: int, criteria: Iterable[str],
                           activity_codes: Iterable[str]) -> None:
    """Office may file any document; a unit only documents activities it leads, and links no criteria."""
    if not isinstance(actor, Principal) or can(actor, Action.UPLOAD_EVIDENCE, department_id=department_id):
        return
    codes = list(activity_codes)
    if list(criteria) or not codes:
        authorize(actor, Action.UPLOAD_EVIDENCE, department_id=department_id)  # raises the refusal
    leads = {a.code: a.lead for a in list_activities(db, department_id, year)}
    for code in codes:
        authorize(actor, Action.UPLOAD_EVIDENCE_OWN_UNIT, department_id=department_id, activity_lead_units=leads.get(code, []))


def update_evidence(db: Database, evidence_id: int, expected_version: int, meta: EvidenceInput, *, actor: Actor,
                    criteria: Iterable[str] | None = None, activity_codes: Iterable[str] | None = None) -> EvidenceView:
    meta = meta.cleaned()
    with db.session() as session:
        row = get_row(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        check_allowed(actor, Action.EDIT_EVIDENCE, department_id=row.department_id)
        check_version(row, expected_version, f"Tài liệu «{_evidence_label(row)}»")
        old_view = evidence_view(session, row)
        changes = {
            "loại": (row.doc_type, meta.doc_type), "số, ký hiệu": (row.number, meta.number),
            "ngày ban hành": (row.issued_on, meta.issued_on), "cơ quan ban hành": (row.issuer, meta.issuer),
            "trích yếu": (row.summary, meta.summary), "đường dẫn": (row.link, meta.link),
        }
        new_criteria = old_view.criteria if criteria is None else list(dict.fromkeys(criteria))
        criteria_change = sorted(new_criteria, key=code_key) != old_view.criteria
        if criteria_change:
            refuse_if_published(session, row.department_id, row.year,
                                f"Không đổi được các tiêu chí của tài liệu «{_evidence_label(row)}»")
        elif old_view.criteria and any(old != new for old, new in changes.values()):
            refuse_if_published(session, row.department_id, row.year,
                                f"Không sửa được tài liệu «{_evidence_label(row)}» của các tiêu chí "
                                f"{', '.join(old_view.criteria)}")
        row.doc_type, row.number, row.issued_on = meta.doc_type, meta.number, meta.issued_on
        row.issuer, row.summary, row.link = meta.issuer, meta.summary, meta.link
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)
        if criteria is not None or activity_codes is not None:
            _set_evidence_links(session, row, row.year, new_criteria,
                                old_view.activities if activity_codes is None else activity_codes)
        session.flush()
        new_view = evidence_view(session, row)
        changes["tiêu chí"] = (old_view.criteria, new_view.criteria)
        changes["hoạt động"] = (old_view.activities, new_view.activities)
        audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{row.id}", changes)
        return new_view


def delete_evidence(db: Database, evidence_id: int, expected_version: int, *, actor: Actor) -> None:
    from scoring.store.evidence_files import EvidenceStore

    with db.session() as session:
        row = get_row(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        check_allowed(actor, Action.EDIT_EVIDENCE, department_id=row.department_id)
        check_version(row, expected_version, f"Tài liệu «{_evidence_label(row)}»")
        if _serves_criteria(session, row):
            refuse_if_published(session, row.department_id, row.year,
                                f"Không xóa được tài liệu «{_evidence_label(row)}» của các tiêu chí năm {row.year}")
        key = row.file_key
        audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{row.id}", {"xóa tài liệu": (_evidence_label(row), None)})
        session.delete(row)
    if key:  # asked once nobody else is storing the same content: it may be about to get a record again
        EvidenceStore(db.settings.evidence_dir).delete_unreferenced(key, referenced=lambda k: evidence_file_in_use(db, k))


def _serves_criteria(session: Session, row: EvidenceRecord) -> bool:
    """Linked to a criterion of its year, or given as a supplementary document of an explanation that year."""
    if session.scalar(select(EvidenceCriterion.code).where(EvidenceCriterion.evidence_id == row.id).limit(1)) is not None:
        return True
    appraisals = session.scalars(
        select(ScoreRecord.appraisal).join(Assessment, Assessment.id == ScoreRecord.assessment_id)
        .where(Assessment.department_id == row.department_id, Assessment.year == row.year)
    ).all()
    return any(row.id in ((appraisal or {}).get("supplementary_evidence_ids") or []) for appraisal in appraisals)


def link_evidence_to_criterion(db: Database, evidence_id: int, expected_version: int, code: str, *, actor: Actor,
                               section: str = "") -> None:
    with db.session() as session:
        row = get_row(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        check_allowed(actor, Action.EDIT_EVIDENCE, department_id=row.department_id)
        check_version(row, expected_version, f"Tài liệu «{_evidence_label(row)}»")
        refuse_if_published(session, row.department_id, row.year,
                            f"Không gắn được tài liệu «{_evidence_label(row)}» vào tiêu chí {code}")
        assessment = assessment_for(session, row.department_id, row.year)
        existing = session.get(EvidenceCriterion, (row.id, assessment.id, code))
        if existing:
            existing.section = nfc(section)
        else:
            session.add(EvidenceCriterion(evidence_id=row.id, assessment_id=assessment.id, code=code, section=nfc(section)))
        row.updated_at, row.updated_by = utcnow(), actor_name(actor)  # an UPDATE bumps the version: concurrent editors notice
        audit(session, actor, row.department_id, "evidence", f"{row.year}/TL{row.id}", {"gắn tiêu chí": (None, code)})


def list_evidence(db: Database, department_id: int, year: int) -> list[EvidenceView]:
    with db.session() as session:
        rows = session.scalars(select(EvidenceRecord).where(EvidenceRecord.department_id == department_id,
                                                            EvidenceRecord.year == year).order_by(EvidenceRecord.id)).all()
        ids = [r.id for r in rows]
        # the links of every document in two queries, not two per document
        criteria: dict[int, list[EvidenceCriterion]] = {}
        for link in session.scalars(select(EvidenceCriterion).where(EvidenceCriterion.evidence_id.in_(ids))).all():
            criteria.setdefault(link.evidence_id, []).append(link)
        activities: dict[int, list[str]] = {}
        for evidence_id, code in session.execute(
            select(EvidenceActivity.evidence_id, ActivityRecord.code)
            .join(ActivityRecord, ActivityRecord.id == EvidenceActivity.activity_id)
            .where(EvidenceActivity.evidence_id.in_(ids)).order_by(ActivityRecord.position)
        ).all():
            activities.setdefault(evidence_id, []).append(code)
        return [_evidence_view_from(r, criteria.get(r.id, []), activities.get(r.id, [])) for r in rows]


def evidence_file(db: Database, evidence_id: int, *, viewer: Actor) -> tuple[str, str, bytes]:
    """(display name, MIME type, bytes) of an evidence document's stored file, for a viewer who may see that
    department's year (auth.authorize_view) or a trusted caller (see Actor)."""
    from scoring.store.evidence_files import EvidenceStore
    from scoring.store.uploads import KIND_MIME

    with db.session() as session:
        row = get_row(session, EvidenceRecord, evidence_id, "tài liệu kiểm chứng")
        if isinstance(viewer, Principal):
            assessment = session.scalar(select(Assessment).where(Assessment.department_id == row.department_id,
                                                                 Assessment.year == row.year))
            authorize_view(viewer, department_id=row.department_id,
                           assessment_locked=bool(assessment and self_score_locked(assessment)))
        else:
            require_trusted(viewer)
        if not row.file_key:
            raise NotFoundError(f"Tài liệu «{_evidence_label(row)}» không có tệp đính kèm.")
        key, name, kind = row.file_key, row.file_name, row.file_kind
    return name, KIND_MIME.get(kind, "application/octet-stream"), EvidenceStore(db.settings.evidence_dir).open_bytes(key)


def _set_evidence_links(session: Session, row: EvidenceRecord, year: int, criteria: Iterable[str], activity_codes: Iterable[str]) -> None:
    criteria = list(dict.fromkeys(criteria))
    activity_codes = list(dict.fromkeys(activity_codes))
    sections = {link.code: link.section for link in row.criteria}
    session.execute(of_year(delete(EvidenceCriterion).where(EvidenceCriterion.evidence_id == row.id), row.department_id, year))
    session.execute(of_year(delete(EvidenceActivity).where(EvidenceActivity.evidence_id == row.id), row.department_id, year))
    session.expire(row, ["criteria", "activities"])
    if criteria:
        assessment = assessment_for(session, row.department_id, year)
        for code in criteria:
            session.add(EvidenceCriterion(evidence_id=row.id, assessment_id=assessment.id, code=code, section=sections.get(code, "")))
    if activity_codes:
        plan = session.scalar(select(PlanRecord).where(PlanRecord.department_id == row.department_id, PlanRecord.year == year))
        by_code = {a.code: a.id for a in plan.activities} if plan else {}
        unknown = [c for c in activity_codes if c not in by_code]
        if unknown:
            raise InputError(f"Không có hoạt động {', '.join(unknown)} trong kế hoạch năm {year}.")
        for code in activity_codes:
            session.add(EvidenceActivity(evidence_id=row.id, activity_id=by_code[code]))
    session.flush()


def evidence_view(session: Session, row: EvidenceRecord) -> EvidenceView:
    links = session.scalars(select(EvidenceCriterion).where(EvidenceCriterion.evidence_id == row.id)).all()
    codes = session.scalars(select(ActivityRecord.code).join(EvidenceActivity, EvidenceActivity.activity_id == ActivityRecord.id)
                            .where(EvidenceActivity.evidence_id == row.id).order_by(ActivityRecord.position)).all()
    return _evidence_view_from(row, links, list(codes))


def _evidence_view_from(row: EvidenceRecord, links: list[EvidenceCriterion], activity_codes: list[str]) -> EvidenceView:
    return EvidenceView(row.id, row.year, row.doc_type, row.number, row.issued_on, row.issuer, row.summary, row.file_key,
                        row.file_name, row.file_kind, row.file_size, row.link, row.version,
                        sorted((link.code for link in links), key=code_key), activity_codes,
                        {link.code: link.section for link in links if link.section})


def _evidence_label(row: EvidenceRecord) -> str:
    return " ".join(x for x in (row.doc_type, row.number, row.file_name) if x) or f"TL{row.id}"
