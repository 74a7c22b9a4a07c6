"""Generated data for the benchmarks and the robustness tests.

`generate_plan(n)` writes a plan file of n activities in the tab-separated format the Office exports
(the same columns, area headings with declared counts, a header repeated at every "page break"), with
the counts it declares, so a reader can check that every row came back.

`populate(db, departments, years)` fills a scratch database the way a province would after some years of
use: one criteria set (the bundled sample), and for every department × year a plan (the bundled 2026 plan,
re-dated to the year) with varied statuses, a scored assessment (all 47 leaves) and evidence documents
with small PDF files. The *focus* department-year (the bundled department, the last year) is written
through the repository API exactly as the pages write it, and is identical at every scale, so what the
pages and exports cost can be compared between a small and a large database. Everything else is written
with bulk inserts, a few transactions per department: the repository saves one row per transaction and
re-reads the criteria set on every score, which would take minutes for a province (the per-call costs
are measured and returned in `Population.repository_calls`).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from scoring.criteria.files import load_criteria_set
from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.criteria.rules import RuleKind, score_leaf
from scoring.defaults import bundled_criteria_path, bundled_plan_path
from scoring.plan.importer import load_plan_bytes
from scoring.plan.model import Plan
from scoring.plan.stats import STATUS_DONE, STATUS_IN_PROGRESS, STATUS_NOT_APPLICABLE, STATUS_NOT_STARTED
from scoring.plan.units import is_collective
from scoring.store import actors, assessment_store, criteria_store, department_store, evidence_store, plan_store
from scoring.store.db import Database
from scoring.store.evidence_files import EvidenceStore
from scoring.store.models import (
    ActivityRecord,
    Assessment,
    AuditEntry,
    EvidenceActivity,
    EvidenceCriterion,
    EvidenceRecord,
    PlanRecord,
    ScoreRecord,
    utcnow,
)
from scoring.store.restore import count_rows
from scoring.store.uploads import check_upload
from scoring.store.workspace import DEFAULT_DEPARTMENT

# ---------------------------------------------------------------------------------------------- plan files

AREAS = (
    ("I", "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH"),
    ("II", "CẢI CÁCH THỂ CHẾ"),
    ("III", "CẢI CÁCH THỦ TỤC HÀNH CHÍNH"),
    ("IV", "CẢI CÁCH TỔ CHỨC BỘ MÁY"),
    ("V", "CẢI CÁCH CHẾ ĐỘ CÔNG VỤ"),
    ("VI", "CẢI CÁCH TÀI CHÍNH CÔNG"),
    ("VII", "XÂY DỰNG CHÍNH QUYỀN ĐIỆN TỬ, CHÍNH QUYỀN SỐ"),
)
HEADER = "TT\t1. Mục tiêu\t2. Nhiệm vụ\t3. Hoạt động\t4. Kết quả/Sản phẩm\t5. Chủ trì\t6. Phối hợp\t7. Thời gian hoàn thành"
DEADLINES = ("Quý I", "Tháng 1 - 2", "Quý II", "6 tháng đầu năm", "Trước ngày 30/9", "Quý IV", "Hàng năm", "Trong năm")
LEADS = ("Văn phòng", "Phòng Chính sách dân tộc", "Phòng Tôn giáo", "Thanh tra Sở")
OUTPUTS = ("Kế hoạch", "Báo cáo", "Quyết định", "Tờ trình, Quyết định", "Công văn", "Tin, bài")


@dataclass(frozen=True)
class GeneratedPlan:
    text: str
    year: int
    counts: dict[str, tuple[int, int, int]]  # area code → (goals, tasks, activities), as declared and written

    @property
    def activities(self) -> int:
        return sum(c[2] for c in self.counts.values())

    def data(self) -> bytes:
        return self.text.encode("utf-8")


def generate_plan(activities: int, *, year: int = 2026, activities_per_task: int = 4, tasks_per_goal: int = 3,
                  rows_per_page: int = 40, organisation: str = "SỞ THỬ NGHIỆM") -> GeneratedPlan:
    """A plan of exactly `activities` activities (one per table row) spread over the 7 areas."""
    if activities < len(AREAS):
        raise ValueError("at least one activity per area")
    per_area = [activities // len(AREAS) + (1 if i < activities % len(AREAS) else 0) for i in range(len(AREAS))]
    lines = ["UBND TỈNH THỬ NGHIỆM", organisation, "", f"KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM {year}", "", HEADER]
    counts: dict[str, tuple[int, int, int]] = {}
    rows_on_page = 0
    for (code, name), n in zip(AREAS, per_area):
        tasks = -(-n // activities_per_task)
        goals = -(-tasks // tasks_per_goal)
        counts[code] = (goals, tasks, n)
        lines.append(f"{code}\t{name} ({goals} Mục tiêu; {tasks} nhiệm vụ; {n} Hoạt động)" + "\t" * 6)
        for number in range(1, n + 1):
            task = (number - 1) // activities_per_task + 1
            goal = (task - 1) // tasks_per_goal + 1
            first_of_task = (number - 1) % activities_per_task == 0
            first_of_goal = first_of_task and (task - 1) % tasks_per_goal == 0
            conditional = " (nếu có)" if number % 9 == 0 else ""
            cells = [
                str(goal) if first_of_goal else "",
                f"Mục tiêu {goal:02d}: Hoàn thành các chỉ tiêu số {goal} của lĩnh vực {code}" if first_of_goal else "",
                f"Nhiệm vụ {task}: Triển khai nhóm công việc {task} của lĩnh vực {code}" if first_of_task else "",
                f"Hoạt động {number:02d}: Thực hiện công việc {code}.{number} theo kế hoạch năm {year}{conditional}",
                OUTPUTS[number % len(OUTPUTS)],
                LEADS[number % len(LEADS)],
                "Các phòng thuộc Sở",
                DEADLINES[number % len(DEADLINES)],
            ]
            lines.append("\t".join(cells))
            rows_on_page += 1
            if rows_on_page == rows_per_page:  # a page break: the table header is repeated
                lines.extend(["", HEADER])
                rows_on_page = 0
    return GeneratedPlan("\n".join(lines) + "\n", year, counts)


def write_plan_file(path: Path, activities: int, **kwargs) -> GeneratedPlan:
    plan = generate_plan(activities, **kwargs)
    Path(path).write_bytes(plan.data())
    return plan


def bundled_plan_for(year: int) -> Plan:
    """The bundled 2026 plan, re-dated to another year (its title names the year; due dates follow)."""
    text = bundled_plan_path().read_text(encoding="utf-8")
    return load_plan_bytes(f"ke-hoach-cchc-{year}.txt", text.replace("2026", str(year)).encode("utf-8"))


# ---------------------------------------------------------------------------------------------- PDFs


def small_pdf(label: str, pages: int = 1) -> bytes:
    """A well-formed PDF (correct xref offsets) of a few kilobytes whose text is `label` (ASCII)."""
    text = label.encode("ascii", "replace").replace(b"\\", b"/").replace(b"(", b"[").replace(b")", b"]")
    lines = b"".join(b"BT /F1 11 Tf 60 %d Td (%s - dong %d) Tj ET\n" % (760 - 14 * i, text, i) for i in range(40))
    kids = " ".join(f"{5 + 2 * p} 0 R" for p in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Producer (cchc-benchmarks) >>",
    ]
    for p in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents %d 0 R >>" % (6 + 2 * p))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(lines), lines))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ---------------------------------------------------------------------------------------------- a province

OTHER_DEPARTMENTS = (
    "Sở Nội vụ", "Sở Tài chính", "Sở Tư pháp", "Sở Xây dựng", "Sở Công Thương", "Sở Y tế",
    "Sở Giáo dục và Đào tạo", "Sở Khoa học và Công nghệ", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Nông nghiệp và Môi trường", "Thanh tra tỉnh", "Văn phòng UBND tỉnh", "Ban Quản lý các khu công nghiệp",
    "Ban Quản lý dự án đầu tư xây dựng", "Sở Ngoại vụ", "Đài Phát thanh và Truyền hình", "Trường Cao đẳng Cộng đồng",
    "Vườn quốc gia", "Ban Dân tộc", "Quỹ Đầu tư phát triển",
)
EVIDENCE_PER_YEAR = 50  # about one document per scored leaf, as a real self-assessment file has
EVIDENCE_TYPES = ("Kế hoạch", "Báo cáo", "Quyết định", "Công văn", "Thông báo", "Biên bản")
FOCUS_ACTOR = "Văn phòng"


def department_names(count: int) -> list[str]:
    """The bundled department first, then `count - 1` distinct others."""
    names = [DEFAULT_DEPARTMENT]
    round_ = 0
    while len(names) < count:
        for base in OTHER_DEPARTMENTS:
            if len(names) == count:
                break
            names.append(base if round_ == 0 else f"{base} (đơn vị {round_ + 1})")
        round_ += 1
    return names


@dataclass
class Population:
    departments: int
    years: list[int]
    criteria_set_id: int
    focus_department_id: int
    focus_year: int
    focus_assessment_id: int
    rows: dict[str, int] = field(default_factory=dict)  # rows per table afterwards
    evidence_files: int = 0
    seconds: float = 0.0
    repository_calls: dict[str, list[float]] = field(default_factory=dict)  # call → seconds of each call


def populate(db: Database, departments: int = 1, years: int = 1, *, last_year: int = 2026,
             evidence_per_year: int = EVIDENCE_PER_YEAR, seed: int = 2026) -> Population:
    """Fill an empty database (see the module doc). Deterministic for a given seed."""
    started = time.perf_counter()
    if department_store.list_departments(db):
        raise ValueError("populate() needs an empty database")
    calls: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, call, *args, **kwargs):
        t0 = time.perf_counter()
        result = call(*args, **kwargs)
        calls[name].append(time.perf_counter() - t0)
        return result

    criteria_set = load_criteria_set(bundled_criteria_path())
    criteria_set_id = criteria_store.save_criteria_set(db, criteria_set, source_name=bundled_criteria_path().name, actor=actors.SYSTEM_ACTOR)
    year_list = list(range(last_year - years + 1, last_year + 1))
    plans = {year: bundled_plan_for(year) for year in year_list}
    units = [u for u in plans[last_year].units if not is_collective(u)]
    store = EvidenceStore(db.settings.evidence_dir)
    focus = None
    for d_index, name in enumerate(department_names(departments)):
        department_id = department_store.create_department(db, name, units, actor=actors.SYSTEM_ACTOR)
        for year in year_list:
            rng = random.Random(f"{seed}/{name}/{year}")
            plan_store.save_plan(db, department_id, plans[year], mode="replace", actor=FOCUS_ACTOR)
            assessment = assessment_store.open_assessment(db, department_id, year, criteria_set_id)
            if d_index == 0 and year == last_year:
                _focus_through_repository(db, department_id, year, assessment.id, criteria_set, rng, evidence_per_year, timed)
                focus = (department_id, year, assessment.id)
        _bulk_department(db, store, department_id, name, [y for y in year_list if not (d_index == 0 and y == last_year)],
                         last_year, criteria_set, seed, evidence_per_year)
    assert focus is not None
    population = Population(departments, year_list, criteria_set_id, *focus, rows=count_rows(db),
                            evidence_files=sum(1 for _ in store.iter_keys()), repository_calls=dict(calls))
    population.seconds = time.perf_counter() - started
    return population


# ---- what one assessment holds


def score_inputs(leaf: CriterionNode, rng: random.Random) -> dict:
    """Valid inputs for a leaf's rule (every kind of the bundled set), chosen at random."""
    rule = leaf.rule
    kind = rule.kind
    if kind == RuleKind.TIERS:
        return {"tier": rng.randrange(len(rule.tiers))}
    if kind == RuleKind.RATIO:
        denominator = rng.randint(10, 40)
        return {"numerator": rng.randint(denominator * 6 // 10, denominator), "denominator": denominator}
    if kind == RuleKind.COUNT:
        return {"count": rng.randint(0, 8)}
    if kind == RuleKind.VALUE:
        steps = int(leaf.max_points / rule.step)
        return {"value": str(rule.step * rng.randint(0, steps))}
    if kind == RuleKind.DEDUCTION:
        return {"occurrences": rng.choice((0, 0, 0, 1, 2))}
    quarters = int(leaf.max_points * 4)
    return {"survey": str(rng.randint(quarters // 2, quarters) / 4)}


def _status(rng: random.Random, past_year: bool) -> tuple[str, int]:
    draw = rng.random()
    if past_year:
        draw *= 0.55  # earlier years: mostly done
    if draw < 0.45:
        return STATUS_DONE, 100
    if draw < 0.75:
        return STATUS_IN_PROGRESS, rng.choice((10, 25, 40, 60, 80, 90))
    if draw < 0.9:
        return STATUS_NOT_STARTED, 0
    return STATUS_NOT_APPLICABLE, 0


def _documents(leaves: list[CriterionNode], activity_codes: list[str], name: str, year: int, count: int,
               rng: random.Random) -> list[dict]:
    documents = []
    for k in range(count):
        doc_type = EVIDENCE_TYPES[k % len(EVIDENCE_TYPES)]
        codes = [leaves[k % len(leaves)].code]
        if k % 3 == 0:
            codes.append(leaves[(k * 7 + 3) % len(leaves)].code)
        documents.append({
            "doc_type": doc_type,
            "number": f"{k + 1}/{doc_type[:2].upper()}-{year}",
            "issued_on": date(year, 1, 1) + timedelta(days=rng.randrange(350)),
            "issuer": name,
            "summary": f"{doc_type} về công tác cải cách hành chính năm {year}, số thứ tự {k + 1}",
            "file_name": f"{doc_type} số {k + 1} năm {year}.pdf",
            "content": small_pdf(f"{name} {year} tai lieu {k + 1}".encode("ascii", "ignore").decode() + f" #{k + 1}/{year}/{rng.random()}"),
            "criteria": list(dict.fromkeys(codes)),
            "activities": [activity_codes[k % len(activity_codes)]] if k % 4 == 0 and activity_codes else [],
        })
    return documents


def _focus_through_repository(db: Database, department_id: int, year: int, assessment_id: int,
                              criteria_set: CriteriaSet, rng: random.Random, evidence_per_year: int, timed) -> None:
    """The department-year the pages show: written call by call, the way people write it."""
    activities = plan_store.list_activities(db, department_id, year)
    for activity in activities:
        status, progress = _status(rng, past_year=False)
        timed("update_activity", plan_store.update_activity, db, activity.id, activity.version, actor=FOCUS_ACTOR,
              status=status, progress=progress)
    leaves = criteria_set.leaves()
    for leaf in leaves:
        timed("save_self_score", assessment_store.save_self_score, db, assessment_id, leaf.code, 0, inputs=score_inputs(leaf, rng),
              explanation=f"Giải trình tiêu chí {leaf.code}", actor=FOCUS_ACTOR)
    department = next(d for d in department_store.list_departments(db) if d.id == department_id)
    for document in _documents(leaves, [a.code for a in activities], department.name, year, evidence_per_year, rng):
        meta = evidence_store.EvidenceInput(document["doc_type"], document["number"], document["issued_on"], document["issuer"],
                                  document["summary"])
        timed("add_evidence", evidence_store.add_evidence, db, department_id, year, meta, actor=FOCUS_ACTOR,
              upload=(document["file_name"], document["content"]), criteria=document["criteria"],
              activity_codes=document["activities"])


def _bulk_department(db: Database, store: EvidenceStore, department_id: int, name: str, years: list[int],
                     last_year: int, criteria_set: CriteriaSet, seed: int, evidence_per_year: int) -> None:
    """Statuses, scores, evidence and their audit entries for a department's other years: one transaction."""
    if not years:
        return
    leaves = criteria_set.leaves()
    now = utcnow()
    with db.session() as session:
        for year in years:
            rng = random.Random(f"{seed}/{name}/{year}/bulk")
            past = year < last_year
            plan = session.scalar(select(PlanRecord).where(PlanRecord.department_id == department_id, PlanRecord.year == year))
            assessment_id = session.scalar(select(Assessment.id).where(Assessment.department_id == department_id,
                                                                      Assessment.year == year))
            audit: list[AuditEntry] = []
            by_code: dict[str, int] = {}
            for activity in session.scalars(select(ActivityRecord).where(ActivityRecord.plan_id == plan.id)):
                status, progress = _status(rng, past_year=past)
                activity.status, activity.progress = status, progress
                if status == STATUS_DONE and activity.due:
                    activity.completed_on = activity.due - timedelta(days=rng.randrange(30))
                activity.updated_by = FOCUS_ACTOR
                by_code[activity.code] = activity.id
                audit.append(AuditEntry(at=now, actor=FOCUS_ACTOR, department_id=department_id, entity="activity",
                                        entity_key=f"{year}/{activity.code}", field="trạng thái", old=STATUS_NOT_STARTED, new=status))
            for leaf in leaves:
                inputs = score_inputs(leaf, rng)
                points = score_leaf(leaf.rule, inputs).points
                session.add(ScoreRecord(assessment_id=assessment_id, code=leaf.code, inputs=inputs, self_points=points,
                                        explanation=f"Giải trình tiêu chí {leaf.code}",
                                        appraised_points=points if past and leaf.rule.kind != RuleKind.SURVEY else None,
                                        updated_at=now, updated_by=FOCUS_ACTOR))
                audit.append(AuditEntry(at=now, actor=FOCUS_ACTOR, department_id=department_id, entity="score",
                                        entity_key=f"{year}/{leaf.code}", field="điểm tự chấm", old=None, new=str(points)))
            documents = _documents(leaves, list(by_code), name, year, evidence_per_year, rng)
            rows = []
            for document in documents:
                checked = check_upload(document["file_name"], document["content"])
                key = store.put(checked, document["content"])
                rows.append(EvidenceRecord(department_id=department_id, year=year, doc_type=document["doc_type"],
                                           number=document["number"], issued_on=document["issued_on"],
                                           issuer=document["issuer"], summary=document["summary"], file_key=key,
                                           file_name=checked.display_name, file_kind=checked.kind, file_size=checked.size,
                                           updated_at=now, updated_by=FOCUS_ACTOR))
            session.add_all(rows)
            session.flush()
            for row, document in zip(rows, documents):
                session.add_all(EvidenceCriterion(evidence_id=row.id, assessment_id=assessment_id, code=code)
                                for code in document["criteria"])
                session.add_all(EvidenceActivity(evidence_id=row.id, activity_id=by_code[code]) for code in document["activities"])
                audit.append(AuditEntry(at=now, actor=FOCUS_ACTOR, department_id=department_id, entity="evidence",
                                        entity_key=f"{year}/TL{row.id}", field="thêm tài liệu", old=None, new=row.file_name))
            session.add_all(audit)
