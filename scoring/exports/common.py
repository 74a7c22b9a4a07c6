"""Wording and small helpers every export shares, so the sheet, the report and the bundle say things alike."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from scoring.assessment.index import is_survey_leaf
from scoring.assessment.snapshot import Snapshot
from scoring.criteria.model import CriteriaSet
from scoring.errors import InputError
from scoring.store.evidence_store import EvidenceView
from scoring.textnorm import fold, format_date, nfc

NOT_APPLICABLE_TEXT = "Không đánh giá"
TEMPLATE_NOTE = "Bộ tiêu chí mẫu, chưa phải bộ tiêu chí do UBND tỉnh ban hành"

TO_FILL_IN = "……………"  # a letterhead line nobody has set yet: left to be written by hand, never invented


def governing_body(snapshot: Snapshot) -> str:
    """The line above the department's name on its official forms ("UBND TỈNH QUẢNG NINH"): the department's own
    setting (Cấu hình → Cơ quan và đơn vị); else the provincial People's Committee when the criteria set names its
    province; else TO_FILL_IN."""
    if snapshot.department.governing_body:
        return snapshot.department.governing_body
    province = nfc(snapshot.criteria_set.province if snapshot.criteria_set else "")
    if not province:
        return TO_FILL_IN
    if fold(province).startswith(("tinh ", "thanh pho ")):
        return f"UBND {province.upper()}"
    return f"UBND TỈNH {province.upper()}"


def place_name(snapshot: Snapshot) -> str:
    """The place of the date line ("Quảng Ninh, ngày …"): the department's setting; else the province the criteria
    set names (Decree 30/2020: a provincial body writes its province's name); else TO_FILL_IN."""
    if snapshot.department.place:
        return snapshot.department.place
    province = nfc(snapshot.criteria_set.province if snapshot.criteria_set else "")
    for prefix in ("tỉnh ", "Tỉnh ", "thành phố ", "Thành phố "):
        province = province.removeprefix(prefix)
    return province or TO_FILL_IN


def date_line(snapshot: Snapshot) -> str:
    """"Quảng Ninh, ngày      tháng      năm 2026": day and month left blank for the day it is signed."""
    return f"{place_name(snapshot)}, ngày      tháng      năm {max(snapshot.year, snapshot.today.year)}"


def require_criteria(snapshot: Snapshot) -> CriteriaSet:
    """The snapshot's criteria set, or an InputError a person can act on."""
    if snapshot.criteria_set is None or snapshot.rollup is None:
        raise InputError(
            f"Năm {snapshot.year} của {snapshot.department.name} chưa có kỳ tự đánh giá: "
            "hãy chọn bộ tiêu chí cho năm này ở trang Cấu hình rồi xuất lại."
        )
    return snapshot.criteria_set


def incomplete_evidence(snapshot: Snapshot) -> list[tuple[EvidenceView, list[str]]]:
    """Documents serving an applicable, self-scored criterion that lack their number or date, each with those
    criteria: the same documents the lock lists (scoring.assessment.locking.lock_blockers), one line per document."""
    counted = {leaf.code for leaf in snapshot.leaves()
               if not snapshot.score(leaf.code).not_applicable and not is_survey_leaf(leaf)}
    found = []
    for evidence in snapshot.evidence:
        codes = [code for code in evidence.criteria if code in counted]
        if codes and evidence.missing_metadata:
            found.append((evidence, codes))
    return found


def evidence_reference(evidence: EvidenceView, code: str | None = None) -> str:
    """How official tables cite a document: "Kế hoạch số 15/KH-SDTTG ngày 18/12/2025" (+ the part that serves
    the criterion); a document without a number is cited by its summary, file name or link."""
    head = evidence.doc_type or "Văn bản"
    if evidence.number:
        text = f"{head} số {evidence.number}"
    else:
        text = f"{head} {evidence.summary or evidence.file_name or evidence.link}".strip()
    if evidence.issued_on:
        text += f" ngày {format_date(evidence.issued_on)}"
    section = evidence.sections.get(code, "") if code else ""
    if section:
        text += f" ({section})"
    return text


def department_abbreviation(department_name: str, evidence: list[EvidenceView]) -> str:
    """The department's sign in document numbers ("SDTTG" in "15/KH-SDTTG").

    The one its own documents use most wins; otherwise the initials of the name without "và"
    ("Sở Kế hoạch và Đầu tư" → "SKHĐT"), which is how these signs are formed.
    """
    signs = Counter()
    for item in evidence:
        found = re.search(r"/[^/\s-]+-([A-ZĐ]{2,})\s*$", item.number or "")
        if found:
            signs[found.group(1)] += 1
    if signs:
        return signs.most_common(1)[0][0]
    words = [w for w in re.split(r"\s+", nfc(department_name)) if w and fold(w) not in ("va", "-")]
    initials = "".join(_base_letter(w[0]) for w in words if w[0].isalpha())
    return initials.upper()


def _base_letter(letter: str) -> str:
    if letter in "đĐ":
        return "Đ"
    return unicodedata.normalize("NFD", letter)[0]


def sentence_case(text: str) -> str:
    """Plan headings are written in capitals ("CẢI CÁCH THỂ CHẾ"); charts read better as "Cải cách thể chế"."""
    text = nfc(text)
    if text and text == text.upper():
        return text[0] + text[1:].lower()
    return text


def safe_file_stem(text: str, limit: int = 60) -> str:
    """A name part safe on every system: letters, digits, "-" and "_" only, diacritics kept out ("1.1" → "1.1")."""
    folded = fold(text)
    cleaned = re.sub(r"[^0-9a-z._-]+", "-", folded).strip("-.")
    return cleaned[:limit].rstrip("-.") or "tai-lieu"


def default_file_name(kind: str, year: int) -> str:
    """Download names the pages and the command line offer: "bang-diem-cchc-2026.xlsx"…"""
    names = {
        "scoresheet": f"bang-diem-cchc-{year}.xlsx",
        "report": f"bao-cao-tu-danh-gia-cchc-{year}.docx",
        "evidence": f"tai-lieu-kiem-chung-cchc-{year}.zip",
        "summary": f"tom-tat-chi-so-cchc-{year}.pdf",
    }
    return names[kind]
