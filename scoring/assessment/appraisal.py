"""The appraisal of one criterion (thẩm định): the points of each round, the remark, the explanation asked for, who
authored it (an appraiser in the app, or the Office transcribing the province's document), and the points each
area lost between self-score and appraisal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from scoring.assessment.engine import LeafEntry, NodeTotals, Rollup
from scoring.assessment.fields import date_field, decimal_field, required_mapping, text_field
from scoring.assessment.index import is_survey_leaf, retotal, rollup_leaf
from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.criteria.numbers import json_number, vn_number
from scoring.errors import InputError
from scoring.textnorm import format_date, nfc

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- appraisal rounds


@dataclass(frozen=True)
class LeafAppraisal:
    """The appraisal of one leaf over the two rounds, with the unit's explanation in between."""

    round1_points: Decimal | None = None
    round1_remark: str = ""
    explanation_requested: bool = False  # yêu cầu giải trình
    explanation: str = ""  # the unit's answer
    supplementary_evidence_ids: tuple[int, ...] = ()  # tài liệu bổ sung
    round2_points: Decimal | None = None
    round2_remark: str = ""
    round1_author: Authorship | None = None  # who entered round 1 (None: entered before authors were kept)
    round2_author: Authorship | None = None

    def author(self, round_number: int) -> Authorship | None:
        return self.round1_author if round_number == 1 else self.round2_author

    def points(self, round_number: int) -> Decimal | None:
        return self.round1_points if round_number == 1 else self.round2_points

    def remark(self, round_number: int) -> str:
        return self.round1_remark if round_number == 1 else self.round2_remark

    @property
    def final_appraised_points(self) -> Decimal | None:
        """Round 2 decides where it was held for this leaf; otherwise round 1 stands."""
        return self.round2_points if self.round2_points is not None else self.round1_points

    @property
    def final_remark(self) -> str:
        return self.round2_remark if self.round2_points is not None else self.round1_remark

    def difference_vs_self(self, self_points: Decimal | None) -> Decimal | None:
        """Final appraised − self points: negative when points were cut; None until both exist."""
        final = self.final_appraised_points
        if final is None or self_points is None:
            return None
        return final - self_points

    def problems(self, leaf: CriterionNode) -> list[str]:
        """What is wrong with the appraisal of `leaf`, in Vietnamese, naming its code."""
        problems = []
        lowest = leaf.rule.lowest_points if leaf.rule is not None else ZERO
        for round_number, points in ((1, self.round1_points), (2, self.round2_points)):
            if points is None:
                continue
            if points > leaf.max_points or points < lowest:
                low = "" if lowest == Decimal("-Infinity") else f"từ {vn_number(lowest)} "
                problems.append(f"Tiêu chí {leaf.code}: điểm thẩm định lần {round_number} {vn_number(points)} "
                                f"phải {low}đến {vn_number(leaf.max_points)}.")
        if self.round2_points is not None and self.round1_points is None:
            problems.append(f"Tiêu chí {leaf.code}: có điểm thẩm định lần 2 nhưng chưa có điểm thẩm định lần 1.")
        return problems

    def to_dict(self) -> dict:
        return {
            "round1_points": json_number(self.round1_points),
            "round1_remark": self.round1_remark,
            "explanation_requested": self.explanation_requested,
            "explanation": self.explanation,
            "supplementary_evidence_ids": list(self.supplementary_evidence_ids),
            "round2_points": json_number(self.round2_points),
            "round2_remark": self.round2_remark,
            "round1_author": self.round1_author.to_dict() if self.round1_author else None,
            "round2_author": self.round2_author.to_dict() if self.round2_author else None,
        }

    @staticmethod
    def from_dict(data: Any) -> LeafAppraisal:
        where = "kết quả thẩm định"
        data = required_mapping(data, where)
        ids = data.get("supplementary_evidence_ids") or []
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InputError(f"{where.capitalize()} không đúng dạng: «supplementary_evidence_ids» phải là "
                             "danh sách số nguyên.")
        requested = data.get("explanation_requested", False)
        if not isinstance(requested, bool):
            raise InputError(f"{where.capitalize()} không đúng dạng: «explanation_requested» phải là true hoặc false.")
        return LeafAppraisal(
            round1_points=decimal_field(data, "round1_points", where, None),
            round1_remark=text_field(data, "round1_remark", where, default=""),
            explanation_requested=requested,
            explanation=text_field(data, "explanation", where, default=""),
            supplementary_evidence_ids=tuple(ids),
            round2_points=decimal_field(data, "round2_points", where, None),
            round2_remark=text_field(data, "round2_remark", where, default=""),
            round1_author=Authorship.from_dict(data["round1_author"]) if data.get("round1_author") else None,
            round2_author=Authorship.from_dict(data["round2_author"]) if data.get("round2_author") else None,
        )


def with_final_appraisals(entries: Mapping[str, LeafEntry], appraisals: Mapping[str, LeafAppraisal]
                          ) -> dict[str, LeafEntry]:
    """Entries whose appraised points and remark are the appraisals' final ones, ready for `roll_up`.

    The appraisals are the only source of appraised points: an entry without one loses any it carried.
    """
    result = {code: dataclasses.replace(entry, appraised_points=None, appraisal_remark="")
              for code, entry in entries.items()}
    for code, appraisal in appraisals.items():
        entry = result.get(code) or LeafEntry(code)
        result[code] = dataclasses.replace(entry, appraised_points=appraisal.final_appraised_points,
                                           appraisal_remark=appraisal.final_remark)
    return result


class AreaLoss(NamedTuple):
    code: str
    name: str
    self_points: Decimal | None
    appraised_points: Decimal | None  # None until every applicable leaf of the area is appraised
    lost: Decimal | None  # self − appraised


def points_lost_by_area(criteria_set: CriteriaSet, rollup_self: Rollup, appraisals: Mapping[str, LeafAppraisal]
                        ) -> list[AreaLoss]:
    """Per area, in document order: self points, final appraised points and the points the appraisal took away.

    Appraised totals are rolled up by the engine's rules (caps, deductions) from the appraisals' final points;
    survey leaves keep their published points on both sides unless appraised. Raises InputError for an
    appraisal outside its leaf's range (check `LeafAppraisal.problems` when saving).
    """
    def leaf_totals(leaf: CriterionNode) -> NodeTotals:
        totals = rollup_leaf(rollup_self, leaf)
        if totals.not_applicable:
            return totals
        appraisal = appraisals.get(leaf.code)
        if appraisal is not None:
            problems = appraisal.problems(leaf)
            if problems:
                raise InputError(" ".join(problems))
        appraised = appraisal.final_appraised_points if appraisal is not None else None
        if appraised is None and is_survey_leaf(leaf):
            appraised = totals.self_points
        gap = totals.self_points - appraised if totals.self_points is not None and appraised is not None else None
        return dataclasses.replace(totals, appraised_points=appraised, gap=gap,
                                   appraised_leaves=int(appraised is not None))

    nodes, _ = retotal(criteria_set, leaf_totals)
    losses = []
    for area in criteria_set.nodes:
        totals = nodes[area.code]
        appraised = totals.appraised_points if totals.appraisal_complete else None
        lost = totals.self_points - appraised if appraised is not None and totals.self_points is not None else None
        losses.append(AreaLoss(area.code, area.name, totals.self_points, appraised, lost))
    return losses


AUTHOR_APPRAISER = "tham_dinh"  # entered in the app by an appraiser account of the Department of Home Affairs
AUTHOR_TRANSCRIBED = "van_phong_ghi"  # recorded by the Office from the province's result document


@dataclass(frozen=True)
class SourceDocument:
    """The province's document an appraisal result is transcribed from: its number (số, ký hiệu) and date."""

    number: str
    issued_on: date | None

    def checked(self) -> SourceDocument:
        """The document with its number cleaned; InputError unless both the number and the date are given."""
        number = nfc(self.number)
        missing = [what for what, present in (("số, ký hiệu", number), ("ngày", self.issued_on)) if not present]
        if missing:
            raise InputError("Văn phòng ghi kết quả thẩm định theo văn bản của tỉnh: cần ghi "
                             f"{' và '.join(missing)} của văn bản đó.")
        return SourceDocument(number, self.issued_on)

    @property
    def text(self) -> str:
        return f"văn bản số {self.number} ngày {format_date(self.issued_on)}"


@dataclass(frozen=True)
class Authorship:
    """Who entered an appraisal result: an appraiser account, or the Office transcribing a province document."""

    kind: str  # AUTHOR_APPRAISER or AUTHOR_TRANSCRIBED
    username: str
    source: SourceDocument | None = None  # for AUTHOR_TRANSCRIBED

    @property
    def text(self) -> str:
        """"Thẩm định «snv» nhập" or "Văn phòng ghi theo văn bản số 12/KQ-SNV ngày 15/01/2027 («vanphong»)"."""
        if self.kind == AUTHOR_APPRAISER:
            return f"Thẩm định «{self.username}» nhập"
        source = self.source.text if self.source else "văn bản của tỉnh"
        return f"Văn phòng ghi theo {source} («{self.username}»)"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "username": self.username,
            "source_number": self.source.number if self.source else None,
            "source_issued_on": self.source.issued_on.isoformat() if self.source and self.source.issued_on else None,
        }

    @staticmethod
    def from_dict(data: Any) -> Authorship:
        where = "người nhập kết quả thẩm định"
        data = required_mapping(data, where)
        kind = text_field(data, "kind", where)
        if kind not in (AUTHOR_APPRAISER, AUTHOR_TRANSCRIBED):
            raise InputError(f"Dữ liệu {where} không đúng dạng: «{kind}» không phải là cách nhập đã biết.")
        number = data.get("source_number")
        source = None
        if number is not None or data.get("source_issued_on") is not None:
            source = SourceDocument(text_field(data, "source_number", where, default=""),
                                    date_field(data, "source_issued_on", where))
        return Authorship(kind, text_field(data, "username", where, default=""), source)
