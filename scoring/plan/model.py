"""The CCHC plan model: plan → areas (I–VII) → goals (Mục tiêu) → tasks (Nhiệm vụ) → activities (Hoạt động)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Issue:
    """A warning a person should look at: where (file line or table row) and a Vietnamese message."""

    where: str
    message: str

    def as_dict(self) -> dict:
        return {"where": self.where, "message": self.message}


@dataclass(frozen=True)
class Counts:
    goals: int = 0
    tasks: int = 0
    activities: int = 0

    def as_dict(self) -> dict:
        return {"goals": self.goals, "tasks": self.tasks, "activities": self.activities}


@dataclass
class Activity:
    id: str  # area code + number as the plan writes it: "Hoạt động 03" in area I → "I.3"
    area: str
    number: int
    goal: str
    task: str
    text: str
    output: str = ""
    lead: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    deadline: str = ""  # as written
    due: date | None = None  # parsed; None for conditional or missing deadlines
    deadline_kind: str = "missing"  # see scoring.plan.deadlines.DeadlineKind
    conditional: bool = False  # "(nếu có)" / "(nếu có thay đổi)": may turn out not applicable
    where: str = ""

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "area": self.area,
            "goal": self.goal,
            "task": self.task,
            "text": self.text,
            "output": self.output,
            "lead": list(self.lead),
            "partners": list(self.partners),
            "deadline": self.deadline,
            "due": self.due.isoformat() if self.due else None,
        }


@dataclass
class Area:
    code: str  # Roman numeral I–VII
    name: str
    declared: Counts | None = None  # as the heading states, "(3 Mục tiêu; 4 nhiệm vụ; 5 Hoạt động)"
    goals: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)

    @property
    def parsed(self) -> Counts:
        return Counts(len(self.goals), len(self.tasks), len(self.activities))

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "declared": self.declared.as_dict() if self.declared else None,
            "parsed": self.parsed.as_dict(),
        }


@dataclass
class Plan:
    title: str
    year: int | None
    organisation: str = ""
    areas: list[Area] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    source: str = ""

    @property
    def activities(self) -> list[Activity]:
        return [a for area in self.areas for a in area.activities]

    def activity(self, activity_id: str) -> Activity | None:
        return next((a for a in self.activities if a.id == activity_id), None)

    @property
    def units(self) -> list[str]:
        """Every unit named as lead or partner, in order of first mention."""
        seen: dict[str, None] = {}
        for act in self.activities:
            for unit in [*act.lead, *act.partners]:
                seen.setdefault(unit, None)
        return list(seen)

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "year": self.year,
            "organisation": self.organisation,
            "areas": [a.as_dict() for a in self.areas],
            "activities": [a.as_dict() for a in self.activities],
            "units": self.units,
            "warnings": [w.as_dict() for w in self.warnings],
        }
