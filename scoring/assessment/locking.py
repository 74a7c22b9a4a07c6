"""Locking the self-score (chốt điểm tự chấm): what still blocks it (criteria unscored, without evidence, evidence
without number or date), the lock itself and its reopenings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from scoring.assessment.engine import LeafEntry, Rollup, roll_up
from scoring.assessment.fields import datetime_field, required_mapping, text_field
from scoring.assessment.index import is_survey_leaf
from scoring.criteria.model import CriteriaSet
from scoring.errors import InputError
from scoring.textnorm import format_datetime, nfc

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- locking the self-score

BLOCKER_UNSCORED = "chua_cham"
BLOCKER_NO_EVIDENCE = "thieu_kiem_chung"
BLOCKER_EVIDENCE_DETAILS = "thieu_so_ngay"


class EvidenceLike(Protocol):
    """What locking needs of an evidence document (scoring.store.evidence_store.EvidenceView has it)."""

    number: str
    issued_on: date | None

    @property
    def title(self) -> str: ...


@dataclass(frozen=True)
class EvidenceRef:
    """A minimal evidence document, for callers that do not hold the store's views."""

    number: str
    issued_on: date | None
    title: str


@dataclass(frozen=True)
class Blocker:
    code: str  # the criterion's code
    message: str  # a Vietnamese sentence naming the criterion
    kind: str = BLOCKER_UNSCORED  # BLOCKER_*: lets a page group them


def lock_blockers(
    criteria_set: CriteriaSet,
    entries: Mapping[str, LeafEntry],
    evidence_by_code: Mapping[str, Iterable[EvidenceLike]],
    explanations: Mapping[str, str],
    rollup: Rollup | None = None,
) -> list[Blocker]:
    """What stands in the way of a sound self-score submission, in document order.

    For every applicable leaf the unit scores itself (survey leaves are not self-scored): it must be scored;
    it must have evidence or an explanation of how it was scored (the guidance asks for an explanation where
    evidence is missing); each evidence document must carry its number and date, as the appraisers cite them.
    """
    if rollup is None:  # a caller that has rolled these entries up already passes its roll-up
        rollup = roll_up(criteria_set, dict(entries))  # the engine decides what "scored" means
    blockers: list[Blocker] = []
    for leaf in criteria_set.leaves():
        totals = rollup.nodes[leaf.code]
        if totals.not_applicable or is_survey_leaf(leaf):
            continue
        code = leaf.code
        if totals.self_points is None:
            reason = " — " + " ".join(totals.problems) if totals.problems else "."
            blockers.append(Blocker(code, f"Tiêu chí {code}: chưa chấm điểm{reason}", BLOCKER_UNSCORED))
        evidence = list(evidence_by_code.get(code) or [])
        if not evidence and not nfc(explanations.get(code)):
            blockers.append(Blocker(
                code, f"Tiêu chí {code}: chưa có tài liệu kiểm chứng và chưa giải trình cách chấm điểm.",
                BLOCKER_NO_EVIDENCE,
            ))
        for document in evidence:
            missing = [what for what, present in (("số, ký hiệu", nfc(document.number)),
                                                  ("ngày ban hành", document.issued_on)) if not present]
            if missing:
                title = nfc(document.title) or "(chưa có tên)"
                blockers.append(Blocker(
                    code, f"Tiêu chí {code}: tài liệu «{title}» chưa có {' và '.join(missing)}.",
                    BLOCKER_EVIDENCE_DETAILS,
                ))
    return blockers


@dataclass(frozen=True)
class Reopening:
    """A locked self-score opened again: when, by whom, why, and which lock it undid."""

    at: datetime
    by: str
    reason: str
    previous_locked_at: datetime | None
    previous_locked_by: str

    def to_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "by": self.by,
            "reason": self.reason,
            "previous_locked_at": self.previous_locked_at.isoformat() if self.previous_locked_at else None,
            "previous_locked_by": self.previous_locked_by,
        }

    @staticmethod
    def from_dict(data: Any) -> Reopening:
        data = required_mapping(data, "lần mở lại")
        at = datetime_field(data, "at", "lần mở lại")
        if at is None:
            raise InputError("Lần mở lại không đúng dạng: thiếu thời điểm «at».")
        return Reopening(
            at=at,
            by=text_field(data, "by", "lần mở lại", default=""),
            reason=text_field(data, "reason", "lần mở lại", default=""),
            previous_locked_at=datetime_field(data, "previous_locked_at", "lần mở lại"),
            previous_locked_by=text_field(data, "previous_locked_by", "lần mở lại", default=""),
        )


@dataclass(frozen=True)
class LockState:
    """Whether a unit's self-score is locked (chốt điểm tự chấm), with the history of reopenings."""

    locked: bool = False
    locked_at: datetime | None = None
    locked_by: str = ""
    reopened: tuple[Reopening, ...] = ()

    def lock(self, at: datetime, by: str, blockers: list[Blocker]) -> LockState:
        """Locked by `by` at `at`. Pass `lock_blockers(...)`: any blocker refuses the lock (InputError)."""
        if self.locked:
            raise InputError(f"Điểm tự chấm đã được chốt lúc {format_datetime(self.locked_at)}.")
        if blockers:
            shown = "\n".join(f"- {b.message}" for b in blockers[:10])
            more = f"\n… và {len(blockers) - 10} vướng mắc khác." if len(blockers) > 10 else ""
            raise InputError(f"Chưa chốt được điểm tự chấm, còn {len(blockers)} vướng mắc:\n{shown}{more}")
        if not nfc(by):
            raise InputError("Cần ghi rõ người chốt điểm.")
        return dataclasses.replace(self, locked=True, locked_at=at, locked_by=nfc(by))

    def reopen(self, at: datetime, by: str, reason: str) -> LockState:
        """Unlocked again for corrections; the reason is required and kept with the lock it undid."""
        if not self.locked:
            raise InputError("Điểm tự chấm chưa được chốt nên không cần mở lại.")
        if not nfc(reason):
            raise InputError("Cần ghi lý do mở lại điểm tự chấm đã chốt.")
        if not nfc(by):
            raise InputError("Cần ghi rõ người mở lại điểm tự chấm.")
        reopening = Reopening(at, nfc(by), nfc(reason), self.locked_at, self.locked_by)
        return LockState(locked=False, locked_at=None, locked_by="", reopened=(*self.reopened, reopening))

    @property
    def status_text(self) -> str:
        if self.locked:
            text = f"Đã chốt điểm tự chấm lúc {format_datetime(self.locked_at)} ({self.locked_by})"
        else:
            text = "Chưa chốt điểm tự chấm"
        if self.reopened:
            last = self.reopened[-1]
            text += (f"; đã mở lại {len(self.reopened)} lần, lần gần nhất lúc {format_datetime(last.at)} "
                     f"({last.by}): {last.reason}")
        return text + "."

    def to_dict(self) -> dict:
        return {
            "locked": self.locked,
            "locked_at": self.locked_at.isoformat() if self.locked_at else None,
            "locked_by": self.locked_by,
            "reopened": [r.to_dict() for r in self.reopened],
        }

    @staticmethod
    def from_dict(data: Any) -> LockState:
        data = required_mapping(data, "trạng thái chốt điểm")
        locked = data.get("locked", False)
        if not isinstance(locked, bool):
            raise InputError("Trạng thái chốt điểm không đúng dạng: trường «locked» phải là true hoặc false.")
        reopened = data.get("reopened") or []
        if not isinstance(reopened, list):
            raise InputError("Trạng thái chốt điểm không đúng dạng: trường «reopened» phải là danh sách.")
        return LockState(
            locked=locked,
            locked_at=datetime_field(data, "locked_at", "trạng thái chốt điểm"),
            locked_by=text_field(data, "locked_by", "trạng thái chốt điểm", default=""),
            reopened=tuple(Reopening.from_dict(r) for r in reopened),
        )
