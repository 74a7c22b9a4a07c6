"""The ranking as the province publishes it: the published index (công bố) of each department, ranked within its
group (scoring.province.groups), ties sharing a rank (1, 2, 2, 4), by the whole index, by area and by criterion, beside
the year before.

Only published figures are ranked: a department that has not published its year is listed unranked, saying so.
Who sees what: the Department of Home Affairs and the administrator (Action.VIEW_PROVINCE) rank the departments
they hold; anyone else who may see a department's dashboard sees the published ranking of that department's
group, since a published index is public within the province.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from scoring.access.auth import Action, PermissionDenied, Principal, can
from scoring.province.groups import NO_GROUP, list_groups
from scoring.store import actors, cycle_store, department_store
from scoring.store.db import Database
from scoring.textnorm import vn_sort_key

NOT_PUBLISHED = "chưa công bố"


@dataclass(frozen=True)
class Ranked:
    department_id: int
    name: str
    percent: Decimal | None  # None: not published
    rank: int | None
    band: str
    previous_percent: Decimal | None  # the year before's published index, where there is one
    previous_rank: int | None
    areas: dict[str, Decimal]  # area code → appraised points, as published
    criteria: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # criterion code → (points, maximum)

    @property
    def change(self) -> int | None:
        """Places gained since the year before (positive: up), where both years are ranked."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


@dataclass(frozen=True)
class GroupRanking:
    name: str
    year: int
    rows: tuple[Ranked, ...]  # ranked first, by rank then name; the unpublished after, by name
    areas: tuple[tuple[str, str], ...]  # (code, name) of the areas ranked, in the set's order
    criteria: tuple[tuple[str, str], ...] = ()  # (code, name) of the criteria below the areas, in the set's order

    def area_ranks(self, code: str) -> dict[int, int]:
        """Each published department's rank by its points in area `code` (ties share)."""
        scored = [(row.department_id, row.areas[code]) for row in self.rows if code in row.areas]
        return competition_ranks(scored)

    def criterion_ranks(self, code: str) -> dict[int, int]:
        """Each published department's rank by its appraised points in criterion `code` (ties share); a department
        for which the criterion was not assessed (không đánh giá) is not ranked by it."""
        return competition_ranks([(row.department_id, row.criteria[code][0]) for row in self.rows if code in row.criteria])


def competition_ranks(values: Sequence[tuple[int, Decimal]]) -> dict[int, int]:
    """Ranks by value, highest first, ties sharing a rank and the next rank skipping (1, 2, 2, 4)."""
    ordered = sorted(values, key=lambda item: item[1], reverse=True)
    ranks: dict[int, int] = {}
    for position, (key, value) in enumerate(ordered, start=1):
        ranks[key] = ranks[ordered[position - 2][0]] if position > 1 and ordered[position - 2][1] == value else position
    return ranks


def _departments_for(db: Database, viewer: actors.Actor | None) -> list[department_store.DepartmentView]:
    everyone = department_store.list_departments(db)
    if not isinstance(viewer, Principal) or can(viewer, Action.VIEW_PROVINCE):
        return department_store.list_departments(db, viewer=viewer)
    held = [d for d in everyone if can(viewer, Action.VIEW_DASHBOARD, department_id=d.id)]
    if not held:
        raise PermissionDenied(f"Tài khoản «{viewer.username}» không được xem bảng xếp hạng.", username=viewer.username,
                               action=Action.VIEW_DASHBOARD)
    groups = list_groups(db)
    mine = {g.id for g in groups if any(d.id in g.department_ids for d in held)}
    members = {d for g in groups if g.id in mine for d in g.department_ids}
    ungrouped = [d.id for d in held if not any(d.id in g.department_ids for g in groups)]
    return [d for d in everyone if d.id in members or d.id in ungrouped]


def ranking(db: Database, year: int, *, viewer: actors.Actor | None) -> list[GroupRanking]:
    """The year's published ranking, one table per group (departments in no group make one of their own)."""
    departments = _departments_for(db, viewer)
    ids = [d.id for d in departments]
    now, before = cycle_store.published_indexes(db, ids, year), cycle_store.published_indexes(db, ids, year - 1)
    groups = list_groups(db)
    by_group: dict[str, list[department_store.DepartmentView]] = {}
    for department in departments:
        group = next((g.name for g in groups if department.id in g.department_ids), NO_GROUP)
        by_group.setdefault(group, []).append(department)
    tables = []
    for name in sorted(by_group, key=lambda n: (n == NO_GROUP, vn_sort_key(n))):
        members = by_group[name]
        ranks = competition_ranks([(d.id, now[d.id].percent) for d in members if d.id in now])
        previous = competition_ranks([(d.id, before[d.id].percent) for d in members if d.id in before])
        rows = [Ranked(d.id, d.name, now[d.id].percent if d.id in now else None, ranks.get(d.id),
                       now[d.id].band if d.id in now else NOT_PUBLISHED,
                       before[d.id].percent if d.id in before else None, previous.get(d.id),
                       {code: points for code, _, points, _ in now[d.id].areas} if d.id in now else {},
                       {code: (points, maximum) for code, _, points, maximum in now[d.id].criteria} if d.id in now else {})
                for d in members]
        rows.sort(key=_row_order)
        first = next((now[d.id] for d in members if d.id in now), None)
        areas = tuple((code, area_name) for code, area_name, _, _ in first.areas) if first else ()
        criteria = tuple(dict.fromkeys((code, criterion) for d in members if d.id in now
                                       for code, criterion, _, _ in now[d.id].criteria))
        tables.append(GroupRanking(name, year, tuple(rows), areas, criteria))
    return tables


def _row_order(row: Ranked) -> tuple:
    return (row.rank is None, row.rank or 0, vn_sort_key(row.name))

