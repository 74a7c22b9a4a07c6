"""Which of last year's criteria became which of this year's (bảng đối chiếu tiêu chí giữa hai năm).

Provinces renumber, merge and split criteria between years, so a code does not say what a criterion is. A
mapping links the scored criteria (leaves) of last year's set to this year's: one old → one new (the same
criterion, kept or renumbered), several old → one new (merged), one old → several new (split), an old one with
no link (dropped), a new one with no link (new). The app proposes one from codes and names; a person confirms
it (scoring.store.criteria_mapping_store); the year-over-year comparison then follows it.

Areas are the national programme's eight and keep their codes (the plan's areas I–VII are matched to them by
number, scoring.assessment.snapshot), so the total and the areas are compared as each year stood; the mapping decides the
criteria below them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from difflib import SequenceMatcher
from enum import Enum
from functools import lru_cache
from typing import Any

from scoring.assessment.comparison import YearDelta, code_order, compare_years, points_and_pct
from scoring.assessment.engine import PERCENT_QUANTUM, NodeTotals, Rollup
from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.errors import InputError
from scoring.textnorm import fold, format_percent, nfc

# Thresholds on name similarity (0–1, scoring.criteria.mapping.name_similarity). A criterion that keeps its code
# keeps its meaning unless its name has plainly changed; a criterion that moved must be named almost alike to be
# taken for the same one without a person saying so. A part of a merge or split must have nearly all its
# meaningful words in the whole.
SAME_CODE_SIMILARITY = Decimal("0.6")
RENUMBERED_SIMILARITY = Decimal("0.85")
PART_CONTAINED = Decimal("0.8")
MIN_PART_WORDS = 3  # syllables: "Báo cáo" alone is in half the names of a set, too little to call it a part

# Syllables that say nothing about what a criterion is (folded: no diacritics, lower case).
_FILLER_WORDS = frozenset({"va", "cac", "cua", "co", "duoc", "theo", "trong", "cho", "voi", "ve", "tai", "tren",
                           "den", "tu", "la", "mot", "nhung", "ty", "le", "viec", "nay", "do", "khi", "thi"})
_NOT_WORD = re.compile(r"[^0-9a-z]+")

NOT_ONE_TO_ONE = "không so sánh một-một được"
PREVIOUS_NOT_APPRAISED = "năm trước chưa thẩm định xong"
PREVIOUS_NOT_APPLICABLE = "năm trước không đánh giá"

REASON_SAME_NAME = "cùng mã, cùng tên"
REASON_SAME_CODE = "cùng mã, tên gần giống"
REASON_MOVED_SAME_NAME = "khác mã, cùng tên"
REASON_MOVED = "khác mã, tên gần giống"
REASON_PART_OF_NEW = "tên cũ nằm trong tên mới"
REASON_PART_OF_OLD = "tên mới nằm trong tên cũ"
REASON_CHOSEN = "do người đối chiếu chọn"
REASON_DROPPED = "không có tiêu chí năm nay nào có tên tương tự"
REASON_NEW = "không có tiêu chí năm trước nào có tên tương tự"


class LinkKind(Enum):
    """What happened to a criterion between the two sets, in the words people use."""

    SAME = "giữ nguyên"
    RENUMBERED = "đổi mã"
    MERGED = "gộp"
    SPLIT = "tách"
    REGROUPED = "gộp và tách"  # several old into several new, crossed: only comparable as a whole
    NEW = "mới"
    DROPPED = "không còn"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class Link:
    """Last year's leaf `old_code` became (all or part of) this year's leaf `new_code`."""

    old_code: str
    new_code: str
    similarity: Decimal  # 0–1, two decimals: how alike the names are (for a part: how much of it is in the whole)
    reason: str

    def to_dict(self) -> dict:
        return {"old": self.old_code, "new": self.new_code, "similarity": str(self.similarity), "reason": self.reason}

    @staticmethod
    def from_dict(data: Any) -> Link:
        if not isinstance(data, dict):
            raise InputError("Bảng đối chiếu tiêu chí không đúng dạng: mỗi dòng phải có mã cũ và mã mới.")
        old, new = data.get("old"), data.get("new")
        if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
            raise InputError(f"Bảng đối chiếu tiêu chí không đúng dạng: dòng «{old} → {new}» thiếu mã cũ hoặc mã mới.")
        try:
            similarity = Decimal(str(data.get("similarity", "0")))
        except InvalidOperation:
            raise InputError(f"Bảng đối chiếu tiêu chí không đúng dạng: độ giống của dòng «{old} → {new}» không phải số.") from None
        return Link(old, new, similarity, nfc(str(data.get("reason", ""))))


@dataclass(frozen=True)
class MappingRow:
    """One line of the mapping as people read it: an old criterion and what it became (or a new one)."""

    old_code: str | None
    old_name: str
    new_code: str | None
    new_name: str
    kind: LinkKind
    reason: str
    similarity: Decimal | None

    @property
    def similarity_text(self) -> str:
        return "—" if self.similarity is None else format_percent(self.similarity * 100, 0)


@dataclass(frozen=True)
class CriteriaMapping:
    """Links from last year's leaves to this year's; a leaf in no link was dropped (old) or is new (new)."""

    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        ordered = sorted(dict(((l.old_code, l.new_code), l) for l in self.links).values(),
                         key=lambda l: (code_order(l.old_code), code_order(l.new_code)))
        object.__setattr__(self, "links", tuple(ordered))

    # ---- reading

    def targets(self, old_code: str) -> tuple[str, ...]:
        return tuple(l.new_code for l in self.links if l.old_code == old_code)

    def sources(self, new_code: str) -> tuple[str, ...]:
        return tuple(l.old_code for l in self.links if l.new_code == new_code)

    def kind(self, link: Link) -> LinkKind:
        outs, ins = len(self.targets(link.old_code)), len(self.sources(link.new_code))
        if outs == 1 and ins == 1:
            return LinkKind.SAME if link.old_code == link.new_code else LinkKind.RENUMBERED
        if outs == 1:
            return LinkKind.MERGED if all(len(self.targets(o)) == 1 for o in self.sources(link.new_code)) else LinkKind.REGROUPED
        if ins == 1:
            return LinkKind.SPLIT if all(len(self.sources(n)) == 1 for n in self.targets(link.old_code)) else LinkKind.REGROUPED
        return LinkKind.REGROUPED

    def component(self, codes_new: Iterable[str]) -> tuple[set[str], set[str]]:
        """The old and new leaves linked, directly or through each other, to these new leaves."""
        old: set[str] = set()
        new: set[str] = set(codes_new)
        frontier = set(new)
        while frontier:
            reached_old = {l.old_code for l in self.links if l.new_code in frontier} - old
            old |= reached_old
            reached_new = {l.new_code for l in self.links if l.old_code in reached_old} - new
            new |= reached_new
            frontier = reached_new
        return old, new

    def rows(self, old_set: CriteriaSet, new_set: CriteriaSet) -> list[MappingRow]:
        """Every old leaf with what it became (one row per link, or «không còn»), then the new leaves nothing
        became, in this year's order."""
        old_names = {leaf.code: leaf.name for leaf in old_set.leaves()}
        new_names = {leaf.code: leaf.name for leaf in new_set.leaves()}
        rows = []
        for code, name in old_names.items():
            links = [l for l in self.links if l.old_code == code]
            if not links:
                rows.append(MappingRow(code, name, None, "", LinkKind.DROPPED, REASON_DROPPED, None))
            for link in links:
                rows.append(MappingRow(code, name, link.new_code, new_names.get(link.new_code, ""), self.kind(link),
                                       link.reason, link.similarity))
        linked_new = {l.new_code for l in self.links}
        rows.extend(MappingRow(None, "", code, name, LinkKind.NEW, REASON_NEW, None)
                    for code, name in new_names.items() if code not in linked_new)
        return rows

    def summary(self) -> str:
        """The links in one line, for the audit log: "2.1.3 → 2.2.1; 2.2 → 2.2.2, 2.2.3"."""
        by_old: dict[str, list[str]] = {}
        for link in self.links:
            by_old.setdefault(link.old_code, []).append(link.new_code)
        return "; ".join(f"{old} → {', '.join(new)}" for old, new in by_old.items())

    # ---- changing

    def with_targets(self, old_code: str, new_codes: Iterable[str], old_set: CriteriaSet, new_set: CriteriaSet) -> CriteriaMapping:
        """This mapping with what `old_code` became replaced by `new_codes` (none: «không còn»), as a person chose.
        A link the mapping already had keeps its reason; the others say a person chose them."""
        new_codes = list(dict.fromkeys(new_codes))
        check_codes(old_set, new_set, [old_code], new_codes)
        old_leaf = old_set.node(old_code)
        kept = {l.new_code: l for l in self.links if l.old_code == old_code}
        links = [l for l in self.links if l.old_code != old_code]
        for code in new_codes:
            links.append(kept.get(code) or Link(old_code, code, name_similarity(old_leaf.name, new_set.node(code).name), REASON_CHOSEN))
        return CriteriaMapping(tuple(links))

    # ---- storage

    def to_dict(self) -> dict:
        return {"links": [l.to_dict() for l in self.links]}

    @staticmethod
    def from_dict(data: Any) -> CriteriaMapping:
        if not isinstance(data, dict) or not isinstance(data.get("links", []), list):
            raise InputError("Bảng đối chiếu tiêu chí không đúng dạng (cần danh sách các dòng mã cũ → mã mới).")
        return CriteriaMapping(tuple(Link.from_dict(item) for item in data.get("links", [])))


# --------------------------------------------------------------------------- names


@lru_cache(maxsize=4096)
def _normalised(name: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", fold(name)).split())


@lru_cache(maxsize=4096)
def _words(name: str) -> frozenset[str]:
    return frozenset(word for word in _normalised(name).split() if word not in _FILLER_WORDS)


def _figure(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def name_similarity(a: str, b: str) -> Decimal:
    """How alike two criterion names are, 0–1, whatever their diacritics, case and punctuation: the better of the
    letters in order (difflib) and the meaningful words shared (so reordered words still count)."""
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(_normalised(b))
    return _similarity(a, b, Decimal(0), matcher) or Decimal("0.00")


def _similarity(a: str, b: str, at_least: Decimal, matcher: SequenceMatcher) -> Decimal | None:
    """name_similarity, with `matcher` holding b's normalised name already (difflib indexes its second text, the
    slow part: one index serves a whole row of pairs), or None as soon as it is sure to be below `at_least` (the
    cheap upper bounds settle most pairs of a set)."""
    left, right = _normalised(a), _normalised(b)
    if not left or not right:
        return Decimal("0.00") if at_least <= 0 else None
    words_left, words_right = _words(a), _words(b)
    shared = 2 * len(words_left & words_right) / (len(words_left) + len(words_right)) if words_left and words_right else 0.0
    matcher.set_seq1(left)
    bound = float(at_least) - 0.005  # what still rounds up to the threshold
    if shared < bound and (matcher.real_quick_ratio() < bound or matcher.quick_ratio() < bound):
        return None
    return _figure(max(matcher.ratio(), shared))


def contained(part: str, whole: str) -> Decimal:
    """How much of `part`'s meaningful words are in `whole`, 0–1 (0 for a part of fewer than MIN_PART_WORDS)."""
    words_part, words_whole = _words(part), _words(whole)
    if len(words_part) < MIN_PART_WORDS:
        return Decimal("0.00")
    return _figure(len(words_part & words_whole) / len(words_part))


# --------------------------------------------------------------------------- proposal


def sets_differ(old_set: CriteriaSet, new_set: CriteriaSet) -> bool:
    """Whether comparing by code could mislead: the scored criteria's codes or names are not the same in both."""
    def leaves(criteria_set: CriteriaSet) -> list[tuple[str, str]]:
        return [(leaf.code, _normalised(leaf.name)) for leaf in criteria_set.leaves()]

    return leaves(old_set) != leaves(new_set)


def propose_mapping(old_set: CriteriaSet, new_set: CriteriaSet) -> CriteriaMapping:
    """A first mapping for a person to check: each pair with its reason and similarity.

    1. One to one, best pairs first: the same code with a similar name, or another code with a very similar name
       (renumbered). Equal similarity prefers the same code.
    2. An old criterion left over whose name is nearly all in one of this year's (same area): merged into it.
    3. A new criterion left over whose name is nearly all in one of last year's (same area): split from it.
    Whatever is still left is dropped (old) or new.
    """
    old_leaves, new_leaves = old_set.leaves(), new_set.leaves()
    candidates = []
    matcher = SequenceMatcher(None, autojunk=False)
    for new in new_leaves:
        matcher.set_seq2(_normalised(new.name))
        for old in old_leaves:
            same_code = old.code == new.code
            threshold = SAME_CODE_SIMILARITY if same_code else RENUMBERED_SIMILARITY
            similarity = _similarity(old.name, new.name, threshold, matcher)
            if similarity is not None and similarity >= threshold:
                candidates.append((similarity, same_code, old, new))
    candidates.sort(key=lambda c: (-c[0], not c[1], code_order(c[2].code), code_order(c[3].code)))
    links: list[Link] = []
    matched_old: set[str] = set()
    matched_new: set[str] = set()
    for similarity, same_code, old, new in candidates:
        if old.code in matched_old or new.code in matched_new:
            continue
        same_name = _normalised(old.name) == _normalised(new.name)
        reason = (REASON_SAME_NAME if same_name else REASON_SAME_CODE) if same_code else (REASON_MOVED_SAME_NAME if same_name else REASON_MOVED)
        links.append(Link(old.code, new.code, similarity, reason))
        matched_old.add(old.code)
        matched_new.add(new.code)

    for old in old_leaves:  # merged: an old one left over, nearly all of it in a new one
        if old.code in matched_old:
            continue
        whole = _best_container(old, new_leaves)
        if whole is not None:
            links.append(Link(old.code, whole[1].code, whole[0], REASON_PART_OF_NEW))
            matched_old.add(old.code)
            matched_new.add(whole[1].code)

    for new in new_leaves:  # split: a new one left over, nearly all of it in an old one
        if new.code in matched_new:
            continue
        whole = _best_container(new, old_leaves)
        if whole is not None:
            links.append(Link(whole[1].code, new.code, whole[0], REASON_PART_OF_OLD))
            matched_new.add(new.code)
    return CriteriaMapping(tuple(links))


@dataclass(frozen=True)
class Carry:
    """What becomes of one criterion's stored work (its score and evidence links) when a year moves to another set."""

    old_code: str
    new_code: str | None  # None: not carried; nothing of it is attached to any criterion of the new set
    reason: str  # why it is not carried, or "" when it is

    @property
    def text(self) -> str:
        if self.new_code is None:
            return f"{self.old_code}: {self.reason}"
        return self.old_code if self.new_code == self.old_code else f"{self.old_code} → {self.new_code}"


def carry_over(mapping: CriteriaMapping, old_set: CriteriaSet, new_set: CriteriaSet, codes: Iterable[str]) -> list[Carry]:
    """Where each of these old criteria's stored work goes in the new set, by meaning, not by code: to the one new
    criterion the mapping makes it (kept or renumbered) when that one is scored the same way; nowhere when it was
    merged, split, dropped or is now scored another way, so that no score is ever shown against another criterion."""
    carries = []
    for code in sorted(set(codes), key=code_order):
        old = old_set.node(code)
        targets = mapping.targets(code)
        new = new_set.node(targets[0]) if len(targets) == 1 else None
        if old is None or not old.is_leaf:
            carries.append(Carry(code, None, "không thuộc bộ tiêu chí đang dùng"))
        elif not targets:
            carries.append(Carry(code, None, "không còn trong bộ mới"))
        elif len(targets) > 1:
            carries.append(Carry(code, None, f"tách thành {', '.join(targets)}"))
        elif len(mapping.sources(targets[0])) > 1:
            carries.append(Carry(code, None, f"gộp vào {targets[0]}"))
        elif new is None or not new.is_leaf:
            carries.append(Carry(code, None, f"bộ mới không có tiêu chí {targets[0]}"))
        elif not _scored_alike(old, new):
            carries.append(Carry(code, None, f"tiêu chí {targets[0]} của bộ mới chấm theo cách khác"))
        else:
            carries.append(Carry(code, targets[0], ""))
    return carries


def _scored_alike(old: CriterionNode, new: CriterionNode) -> bool:
    """Whether what was entered for `old` means the same for `new`: the same kind of rule and, for tiers, the same
    tiers by name (a tier is stored by its position)."""
    if old.rule is None or new.rule is None or old.rule.kind != new.rule.kind:
        return False
    old_tiers, new_tiers = getattr(old.rule, "tiers", None), getattr(new.rule, "tiers", None)
    if old_tiers is None:
        return True
    return [_normalised(t.label) for t in old_tiers] == [_normalised(t.label) for t in new_tiers]


def _area(code: str) -> str:
    return code.split(".", 1)[0]


def _best_container(part: CriterionNode, wholes: list[CriterionNode]) -> tuple[Decimal, CriterionNode] | None:
    found = [(share, whole) for whole in wholes if _area(whole.code) == _area(part.code)
             and (share := contained(part.name, whole.name)) >= PART_CONTAINED]
    found = [(share, name_similarity(part.name, whole.name), whole) for share, whole in found]
    if not found:
        return None
    best = max(found, key=lambda f: (f[0], f[1]))  # ties: the first in the set's order
    return best[0], best[2]


def check_codes(old_set: CriteriaSet, new_set: CriteriaSet, old_codes: Iterable[str], new_codes: Iterable[str]) -> None:
    """Refuse codes that are not scored criteria (leaves) of their set, naming them."""
    for criteria_set, codes, which in ((old_set, old_codes, "năm trước"), (new_set, new_codes, "năm nay")):
        for code in codes:
            node = criteria_set.node(code)
            if node is None or not node.is_leaf:
                raise InputError(f"Bảng đối chiếu tiêu chí: «{code}» không phải tiêu chí chấm điểm của bộ tiêu chí {which} "
                                 f"«{criteria_set.name}».")


def check_mapping(mapping: CriteriaMapping, old_set: CriteriaSet, new_set: CriteriaSet) -> None:
    """Refuse a mapping that names a criterion the sets do not have (a stored one read against other sets)."""
    check_codes(old_set, new_set, [l.old_code for l in mapping.links], [l.new_code for l in mapping.links])


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class _Figure:
    points: Decimal | None
    pct: Decimal | None


def _sum_of(previous: Rollup, previous_set: CriteriaSet, old_codes: set[str], appraised: bool) -> _Figure:
    """What last year's criteria `old_codes` scored together. When they are exactly one node of last year's set,
    that node's own figure (its cap on its children included), as last year showed it."""
    for node in previous_set.walk():
        if node.level >= 2 and {leaf.code for leaf in node.leaves()} == old_codes:
            points, pct = points_and_pct(previous.node(node.code), appraised)
            return _Figure(points, pct)
    totals = [previous.node(code) for code in old_codes]
    applicable = [t for t in totals if t is not None and not t.not_applicable and t.applicable_max > 0]
    if not applicable:
        return _Figure(None, None)
    if appraised and not all(t.appraisal_complete for t in applicable):
        return _Figure(None, None)
    points = sum(((t.appraised_points if appraised else t.self_points) or Decimal(0) for t in applicable), Decimal(0))
    maximum = sum((t.applicable_max for t in applicable), Decimal(0))
    return _Figure(points, (points / maximum * 100).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP))


def _any_applicable(previous: Rollup, codes: set[str]) -> bool:
    return any((t := previous.node(code)) is not None and not t.not_applicable and t.applicable_max > 0 for code in codes)


def _codes_text(codes: Iterable[str]) -> str:
    return ", ".join(sorted(codes, key=code_order))


def compare_years_mapped(current: Rollup, previous: Rollup, current_set: CriteriaSet, previous_set: CriteriaSet,
                         mapping: CriteriaMapping, current_appraised: bool = True,
                         previous_appraised: bool = True) -> list[YearDelta]:
    """compare_years, with this year's criteria (level 2) compared with what they were last year by the mapping.

    A criterion compares with the sum of last year's criteria that became it (merged: the sum of its parts). One
    that holds part of a criterion split between it and another has no figure of last year that is its own: it is
    «không so sánh một-một được», with no made-up share. The total and the areas are as each year stood (by code).
    Last year's criteria (level 2) of which nothing remains are listed as «không còn năm nay».
    """
    by_code = [row for row in compare_years(current, previous, current_appraised, previous_appraised) if row.level <= 1]
    rows: list[YearDelta] = []
    current_nodes = [node for node in current_set.walk() if node.level == 2]
    for row in by_code:
        rows.append(row)
        if row.level != 1:
            continue
        for node in current_nodes:
            if _area(node.code) == row.code:
                rows.append(_mapped_row(node, current.node(node.code), previous, previous_set, mapping,
                                        current_appraised, previous_appraised))
        rows.extend(_dropped_rows(row.code, previous, previous_set, mapping, previous_appraised))
    return rows


def _mapped_row(node: CriterionNode, totals: NodeTotals | None, previous: Rollup, previous_set: CriteriaSet,
                mapping: CriteriaMapping, current_appraised: bool, previous_appraised: bool) -> YearDelta:
    points_now, pct_now = points_and_pct(totals, current_appraised)
    leaves = {leaf.code for leaf in node.leaves()}
    old, reached = mapping.component(leaves)
    fresh = sorted((code for code in leaves if not mapping.sources(code)), key=code_order)
    row = YearDelta(code=node.code, name=node.name, level=2, current_points=points_now, previous_points=None,
                    current_pct=pct_now, previous_pct=None, delta_points=None, delta_pct=None)
    if not old:
        return replace(row, note="tiêu chí mới năm nay")
    outside = reached - leaves
    if outside:
        return replace(row, not_compared=NOT_ONE_TO_ONE,
                       note=f"năm trước {_codes_text(old)} được tách thành cả {_codes_text(outside)} ngoài tiêu chí này: "
                            "không có điểm năm trước của riêng tiêu chí này")
    before = _sum_of(previous, previous_set, old, previous_appraised)
    if before.pct is None:
        return replace(row, not_compared=PREVIOUS_NOT_APPRAISED if previous_appraised and _any_applicable(previous, old)
                       else PREVIOUS_NOT_APPLICABLE, note=f"năm trước: {_codes_text(old)}")
    same_code = previous_set.node(node.code)
    as_it_was = old == leaves and same_code is not None and {leaf.code for leaf in same_code.leaves()} == old
    parts = ["" if as_it_was else f"năm trước: {_codes_text(old)}"]
    if fresh:
        parts.append(f"gồm tiêu chí mới {_codes_text(fresh)} (năm trước chưa có)")
    return replace(row, previous_points=before.points, previous_pct=before.pct,
                   delta_points=points_now - before.points if points_now is not None and before.points is not None else None,
                   delta_pct=pct_now - before.pct if pct_now is not None and before.pct is not None else None,
                   note="; ".join(p for p in parts if p))


def _dropped_rows(area_code: str, previous: Rollup, previous_set: CriteriaSet, mapping: CriteriaMapping,
                  appraised: bool) -> list[YearDelta]:
    """Last year's criteria of the area that became nothing: a whole criterion (level 2), or a sub-criterion of one
    whose other parts live on (listed among the criteria, level 2 of the comparison, so it is not lost from sight)."""
    rows = []
    for node in previous_set.walk():
        if node.level != 2 or _area(node.code) != area_code:
            continue
        dropped = [leaf for leaf in node.leaves() if not mapping.targets(leaf.code)]
        if len(dropped) == len(node.leaves()):
            dropped = [node]
        for gone in dropped:
            points, pct = points_and_pct(previous.node(gone.code), appraised)
            rows.append(YearDelta(code=gone.code, name=gone.name, level=2, current_points=None, previous_points=points,
                                  current_pct=None, previous_pct=pct, delta_points=None, delta_pct=None,
                                  note="tiêu chí năm trước, không còn năm nay"))
    return rows
