"""The year-over-year comparison: each criterion and area this year beside the year before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from scoring.assessment.engine import PERCENT_QUANTUM, NodeTotals, Rollup

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- year over year


@dataclass(frozen=True)
class YearDelta:
    """One node compared with the year before, matched by code. None on the side a node is absent or not
    applicable (or, for appraised points, not fully appraised yet)."""

    code: str  # "" for the whole set
    name: str
    level: int  # 0 total, 1 area, 2 criterion
    current_points: Decimal | None
    previous_points: Decimal | None
    current_pct: Decimal | None  # % of the node's applicable maximum that year
    previous_pct: Decimal | None
    delta_points: Decimal | None
    delta_pct: Decimal | None  # percentage points
    # Set by a confirmed criteria mapping (scoring.criteria.mapping): which of last year's criteria the previous
    # figure adds up, and why a criterion that existed last year has no figure to compare with (split, say).
    note: str = ""
    not_compared: str = ""

    @property
    def status(self) -> str:
        if self.not_compared:
            return self.not_compared
        if self.previous_pct is None and self.current_pct is None:
            return "không so sánh được"
        if self.previous_pct is None:
            return "mới năm nay"
        if self.current_pct is None:
            return "không còn năm nay"
        return "tăng" if self.delta_pct > 0 else "giảm" if self.delta_pct < 0 else "không đổi"


def compare_years(current: Rollup, previous: Rollup, current_appraised: bool = True,
                  previous_appraised: bool = True) -> list[YearDelta]:
    """The total, each area and each criterion (levels 0–2) against the previous year, by code.

    Codes present in only one year keep None on the other side. Rows follow the codes' numeric order
    (1, 1.2, 1.10, 2), which places a criterion dropped this year where it used to be. Compare percentages:
    maxima change between sets, so point deltas only mean something where the maximum stayed.
    """
    def rows(rollup: Rollup) -> dict[str, NodeTotals]:
        found = {"": rollup.total}
        found.update((code, node) for code, node in rollup.nodes.items() if node.level <= 2)
        return found

    now, before = rows(current), rows(previous)
    deltas = []
    for code in sorted(now.keys() | before.keys(), key=code_order):
        node_now, node_before = now.get(code), before.get(code)
        points_now, pct_now = points_and_pct(node_now, current_appraised)
        points_before, pct_before = points_and_pct(node_before, previous_appraised)
        named = node_now or node_before
        deltas.append(YearDelta(
            code=code,
            name=named.name,
            level=named.level,
            current_points=points_now,
            previous_points=points_before,
            current_pct=pct_now,
            previous_pct=pct_before,
            delta_points=points_now - points_before if points_now is not None and points_before is not None else None,
            delta_pct=pct_now - pct_before if pct_now is not None and pct_before is not None else None,
        ))
    return deltas


def points_and_pct(node: NodeTotals | None, appraised: bool) -> tuple[Decimal | None, Decimal | None]:
    if node is None or node.not_applicable or node.applicable_max <= 0:
        return None, None
    if appraised:
        if not node.appraisal_complete:
            return None, None
        points = node.appraised_points
    else:
        points = node.self_points if node.self_points is not None else ZERO
    return points, (points / node.applicable_max * HUNDRED).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)


def code_order(code: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split(".")) if code else ()
