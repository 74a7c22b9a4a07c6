"""The embedded default: on first start the database gets the bundled department, 2026 plan and criteria set,
so the app opens on real data with no set-up screen to get past."""

from __future__ import annotations

from dataclasses import dataclass

from scoring.criteria.files import load_criteria_set
from scoring.defaults import bundled_criteria_path, bundled_plan_path
from scoring.plan.importer import load_plan
from scoring.plan.units import is_collective
from scoring.store import actors, assessment_store, criteria_store, department_store, plan_store
from scoring.store.db import Database

# The bundled plan is this department's (its activities name it); its letterhead is not part of the seed.
DEFAULT_DEPARTMENT = "Sở Dân tộc và Tôn giáo"


@dataclass(frozen=True)
class Workspace:
    department_id: int
    year: int
    assessment_id: int


def ensure_default_workspace(db: Database) -> Workspace | None:
    """Create the bundled default in an empty database, as the app itself (scoring.store.actors.SYSTEM_ACTOR); do nothing
    in one that already holds a department.

    Returns the default workspace when it was created, else None.
    """
    if department_store.list_departments(db):
        return None
    plan = load_plan(bundled_plan_path())
    units = [u for u in plan.units if not is_collective(u)]
    seeding = actors.SYSTEM_ACTOR  # the app itself, before any account exists (see scoring.store.actors.Actor)
    department_id = department_store.create_department(db, plan.organisation or DEFAULT_DEPARTMENT, units, actor=seeding)
    plan_store.save_plan(db, department_id, plan, mode="replace", actor=seeding)
    criteria_set = load_criteria_set(bundled_criteria_path())
    criteria_set_id = criteria_store.save_criteria_set(db, criteria_set, source_name=bundled_criteria_path().name, actor=seeding)
    assert plan.year is not None  # the bundled plan's title names its year
    assessment = assessment_store.open_assessment(db, department_id, plan.year, criteria_set_id, actor=seeding)
    return Workspace(department_id, plan.year, assessment.id)
