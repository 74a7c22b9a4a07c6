"""Reading a scoring rule from the province's wording: tier lines ("Ban hành kịp thời: 1"), ratio bands, "mỗi …" counts
and deductions, as the annexes write them under or inside a criterion's name.
"""

from __future__ import annotations

import re
from decimal import Decimal

from scoring.criteria.bands import parse_band
from scoring.criteria.numbers import DEFAULT_STEP, parse_decimal
from scoring.criteria.rules import CountRule, DeductionRule, RatioRule, Rule, SurveyRule, Tier, TiersRule, ValueRule
from scoring.textnorm import fold, nfc

# --------------------------------------------------------------------------- reading rule text

_NUM = r"\d+(?:[.,]\d+)?"
_BULLET = re.compile(r"^(?:[-+•*–—]+|[a-zđ]\)|\d+\))\s*", re.IGNORECASE)
_TIER_COLON = re.compile(rf"^(?P<label>.+?)\s*[:：]\s*(?:được\s+)?(?P<points>{_NUM})\s*(?:điểm|đ)?\s*\.?$", re.I)
_TIER_PAREN = re.compile(rf"^(?P<label>.+?)\s*\(\s*(?:được\s+)?(?P<points>{_NUM})\s*(?:điểm|đ)\s*\)\s*\.?$", re.I)


def _rule_pieces(text: str) -> list[str]:
    pieces = []
    for piece in re.split(r"[\n;]", nfc(text)):
        piece = _BULLET.sub("", piece.strip()).strip()
        if piece:
            pieces.append(piece)
    return pieces


def parse_tier_line(text: str) -> Tier | None:
    """One tier line, "Ban hành kịp thời: 1" or "Không kịp thời (0,5 điểm)", or None."""
    piece = _BULLET.sub("", nfc(text)).strip()
    found = _TIER_COLON.match(piece) or _TIER_PAREN.match(piece)
    if not found:
        return None
    label = found.group("label").strip(" -–:")
    points = parse_decimal(found.group("points"))
    if not label or points is None:
        return None
    return Tier(label, points, parse_band(label))


def parse_tier_text(text: str) -> Rule | None:
    """Tier lines (one per line or separated by ";") → a tiers rule, or a ratio rule when every tier names a
    percentage band. None when a line is not "label: points", or there are fewer than two tiers.

    Lines ending with ":" ("Cách chấm:") are headings and skipped. The rule's `max_points` is its top tier;
    callers set the leaf's maximum with `Rule.with_max`.
    """
    tiers = []
    for piece in _rule_pieces(text or ""):
        if piece.endswith((":", "：")):
            continue
        tier = parse_tier_line(piece)
        if tier is None:
            return None
        tiers.append(tier)
    if len(tiers) < 2:
        return None
    top = max(t.points for t in tiers)
    if all(t.band is not None for t in tiers):
        return RatioRule(top, tuple(tiers))
    return TiersRule(top, tuple(Tier(t.label, t.points) for t in tiers))


_DEDUCTION_TEXT = re.compile(rf"^mỗi\s+(?P<unit>.+?)\s*[:：]?\s*(?:bị\s+)?trừ\s+(?P<per>{_NUM})\s*(?:điểm|đ)", re.I)
_DEDUCTION_CAP = re.compile(rf"(?:trừ\s+tối\s+đa|tối\s+đa\s+trừ|không\s+quá)\s+(?P<cap>{_NUM})\s*(?:điểm|đ)", re.I)
_COUNT_TEXT = re.compile(rf"^mỗi\s+(?P<unit>.+?)\s*[:：]?\s*(?:được\s+)?(?:cộng\s+)?(?P<per>{_NUM})\s*(?:điểm|đ)", re.I)
_STEP_TEXT = re.compile(rf"(?:boi so|buoc)\s+(?P<step>{_NUM})")
_FLOOR_TEXT = re.compile(rf"duoi\s+(?P<floor>{_NUM})\s*%\s*[:：]?\s*(?:duoc\s+)?0\b")


def parse_rule_text(text: str) -> Rule | None:
    """Any rule text the importer meets: tier lines first (`parse_tier_text`), then one-statement rules —
    "Mỗi báo cáo chậm: trừ 0,5 điểm (trừ tối đa 2 điểm)" (deduction), "Mỗi tin, bài: 0,25 điểm" (count),
    "điều tra xã hội học" (survey), "tỷ lệ × điểm tối đa" (proportional), "chấm tự do" (value) — which are
    also the wordings `Rule.lines()` writes. None when nothing fits. `max_points` must be set by the caller.
    """
    rule = parse_tier_text(text)
    if rule is not None:
        return rule
    statement = " ".join(_rule_pieces(text or ""))
    if not statement:
        return None
    folded = fold(statement)
    unset = Decimal(0)
    if found := _DEDUCTION_TEXT.match(statement):
        cap = _DEDUCTION_CAP.search(statement)
        floor = -parse_decimal(cap.group("cap")) if cap else None
        return DeductionRule(unset, parse_decimal(found.group("per")), floor, found.group("unit").strip())
    if found := _COUNT_TEXT.match(statement):
        return CountRule(unset, parse_decimal(found.group("per")), found.group("unit").strip())
    if "dieu tra xa hoi hoc" in folded or "dieu tra xhh" in folded or "khao sat" in folded:
        return SurveyRule(unset)
    step = _STEP_TEXT.search(folded)
    step_value = parse_decimal(step.group("step")) if step else DEFAULT_STEP
    if "ty le" in folded and ("diem toi da" in folded or "ty le thuan" in folded):
        floor = _FLOOR_TEXT.search(folded)
        floor_value = parse_decimal(floor.group("floor")) if floor else None
        return RatioRule(unset, proportional=True, floor_percent=floor_value, step=step_value)
    if "cham tu do" in folded or re.search(r"\btu 0 den\b", folded):
        return ValueRule(unset, step_value)
    return None
