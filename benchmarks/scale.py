"""The province at its size, served as a province serves it: 100 departments × 5 years on PostgreSQL, two app
processes on one database, 30 people of 30 departments scoring at once in a browser.

    python -m benchmarks.scale --database-url postgresql+psycopg://cchc_scale:…@127.0.0.1:5432/cchc_scale
    python -m benchmarks --scale --database-url …          # the same
    python -m benchmarks.scale --quick --database-url …    # 10 departments × 2 years, 4 sessions for 15 s

The database must be empty (a new one: `createdb`; drop it afterwards), the evidence files go to a scratch folder
both processes share. Steps:

1. Seed (`seed`): benchmarks.generate.populate (the bundled 47-criterion set, every department × year planned and
   scored; one department-year through scoring.store, the rest in bulk as its doc says), the years before the
   last appraised and published (benchmarks.province.publish_past_years); the departments put in groups through
   scoring.province.groups; in the last year some departments locked and some of those appraised in round 1 (the rows the
   cycle leaves, as publish_past_years writes them); an Office account per department, an appraiser and an
   administrator (scoring.access.accounts). Timed.
2. The core (`measure_core`): the province overview and the ranking as the appraiser sees them, first reading in
   the process, after a change, unchanged (benchmarks.province.measure_province_pages); then the first reading in
   new processes, without and after the start's computation (`first_readings_in_new_processes`, scoring.province.warm).
3. Two `streamlit run server.py` processes, sign-in on, the same DATABASE_URL; one Chromium, one context per
   session, each signed in (at /dang-nhap) as a different department's Office account, sessions alternating
   between the processes; each changes criterion 1.1.1 on Chấm điểm about once a second. A click is timed in the
   page as benchmarks.browser does (click → the headline score shows the new value). Every error box or exception
   on screen is counted, a conflict refusal apart. Meanwhile the appraiser reloads Các cơ quan every few seconds.
   After the run (`check_saves`): each session's last confirmed choice against the stored score, and the number of
   confirmed saves against the audit entries of that score (a save confirmed on screen but missing from the
   audit, or a stored value other than the last confirmed one, is a lost update). Then Các cơ quan is loaded
   again with nothing else running. Server memory (VmRSS) per process before, with the sessions open, after.
   With `--browsers K`, only the first K sessions are Chromium pages and the others are peers (benchmarks.peer:
   signed in at /dang-nhap with their own cookie, the page's own WebSocket messages and follow tick, no drawing),
   timed from the click's message to the end of the run that drew the new headline, their saves checked alike:
   30 Chromium pages on the measuring machine's 2 cores measure the machine (benchmarks/room.py says why).
   `--appraiser peer` makes the appraiser a peer too: each reload of Các cơ quan a new session, timed to the end of
   its first run. `--streamlit-arg=--server.X=Y` passes a Streamlit option to both servers, to measure again a
   default of Streamlit's that the project changed (e.g. --server.fileWatcherType=auto).
4. The load average of the machine is sampled through the run (a shared machine: the figures depend on it).

Writes benchmarks/out/quy-mo.{json,md}; no test asserts a time.

    python -m benchmarks.scale --ranking-tab --database-url …A --against /work/main --against-database-url …B

compares the Xếp hạng tab of Các cơ quan with another checkout (`compare_ranking_tab`): each checkout seeds its own
empty database with its own code (or reads it as an earlier run left it), then the first ranking reading in new
processes of both, then two servers (sign-in on) and one Chromium: the appraiser clicks Tiến độ → Xếp hạng on each,
alternating, for the newest year and the one before; per click the time to settled, when the server's last message
came, the server process's CPU and Chromium's main-thread work. Writes benchmarks/out/xep-hang.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HEADLINE,
    OUT,
    PAGE_SCRIPT,
    SCORE_RADIO,
    VIEWPORT,
    Series,
    Server,
    Target,
    once_a_second,
    settled,
    start_server,
    summary,
    wait_until_up,
)
from benchmarks.generate import populate
from benchmarks.peer import Peer, open_page
from benchmarks.province import measure_province_pages, publish_past_years
from benchmarks.report import machine, vn
from benchmarks.room import open_peer
from benchmarks.suite import SCORED_LEAF
from scoring.access import accounts
from scoring.access.auth import Role
from scoring.access.sessions import COOKIE_NAME
from scoring.assessment.appraisal import LeafAppraisal
from scoring.defaults import PROJECT_ROOT
from scoring.province import groups
from scoring.store import actors, department_store
from scoring.store.db import Database, Settings
from scoring.store.models import Assessment, AuditEntry, ScoreRecord, utcnow

PASSWORD = "Quy-mo-tinh-2026!"  # every benchmark account's; the database is a scratch one
APPRAISER, ADMIN = "thamdinh", "quantri"
GROUP_NAMES = ("Nhóm các sở", "Nhóm ban, ngành", "Nhóm đơn vị sự nghiệp", "Nhóm cơ quan ngành dọc")
EVIDENCE_PER_YEAR = 2  # documents per department-year: the files are not what this measures
CONFLICT_WORDS = "vừa được sửa"  # the sentence of a refused save (scoring.store.rows: the stale-version message)


def office_username(index: int) -> str:
    return f"so{index + 1:03d}"


@dataclass
class Province:
    """What `seed` wrote and the run needs."""

    departments: list[tuple[int, str, str]]  # (id, name, Office account)
    years: list[int]
    locked: list[int]  # department ids locked in the last year
    appraised: list[int]  # … of those, appraised in round 1
    published_years: int
    rows: dict[str, int]
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def last_year(self) -> int:
        return max(self.years)

    def scoring_departments(self, count: int) -> list[tuple[int, str, str]]:
        """`count` departments still self-scoring in the last year (a locked one cannot be scored)."""
        open_ = [d for d in self.departments if d[0] not in self.locked]
        if len(open_) < count:
            raise SystemExit(f"Chỉ có {len(open_)} cơ quan chưa chốt, không đủ cho {count} phiên.")
        return open_[:count]


def seed(db: Database, departments: int, years: int, *, last_year: int = 2026, locked: int = 20, appraised: int = 10,
         log=print) -> Province:
    """Fill an empty database as the module doc says (step 1); deterministic."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    population = populate(db, departments=departments, years=years, last_year=last_year,
                          evidence_per_year=EVIDENCE_PER_YEAR)
    steps["kế hoạch, điểm, tài liệu (generate.populate)"] = time.perf_counter() - started
    log(f"  đã ghi {departments} cơ quan × {years} năm ({steps['kế hoạch, điểm, tài liệu (generate.populate)']:.0f} s)")

    mark = time.perf_counter()
    published = publish_past_years(db, last_year)
    steps["thẩm định và công bố các năm trước"] = time.perf_counter() - mark

    mark = time.perf_counter()
    views = sorted(department_store.list_departments(db), key=lambda d: d.id)
    group_ids = [groups.create_group(db, name, actor=actors.SYSTEM_ACTOR) for name in GROUP_NAMES[:max(1, departments // 25)]]
    for index, department in enumerate(views):
        groups.assign_group(db, department.id, department.version, group_ids[index % len(group_ids)], actor=actors.SYSTEM_ACTOR)
    steps["nhóm cơ quan (scoring.province.groups)"] = time.perf_counter() - mark

    mark = time.perf_counter()
    locked_ids = [d.id for d in views[len(views) - min(locked, len(views) - 1):]] if locked else []
    appraised_ids = locked_ids[len(locked_ids) - min(appraised, len(locked_ids)):] if appraised else []
    lock_and_appraise(db, last_year, locked_ids, appraised_ids)
    steps["năm cuối: chốt, thẩm định vòng 1"] = time.perf_counter() - mark

    mark = time.perf_counter()
    every_id = [d.id for d in views]
    table = []
    for index, department in enumerate(views):
        username = office_username(index)
        accounts.create_account(db, username, role=Role.OFFICE, password=PASSWORD, display_name=f"Văn phòng {department.name}",
                                department_ids=[department.id], actor=actors.SYSTEM_ACTOR)
        table.append((department.id, department.name, username))
    accounts.create_account(db, APPRAISER, role=Role.APPRAISER, password=PASSWORD, display_name="Thẩm định Sở Nội vụ",
                            department_ids=every_id, actor=actors.SYSTEM_ACTOR)
    accounts.create_account(db, ADMIN, role=Role.ADMIN, password=PASSWORD, display_name="Quản trị",
                            department_ids=every_id, actor=actors.SYSTEM_ACTOR)
    steps["tài khoản (scoring.access.accounts, argon2id)"] = time.perf_counter() - mark

    from scoring.store.restore import count_rows

    return Province(table, population.years, locked_ids, appraised_ids, published, count_rows(db),
                    time.perf_counter() - started, steps)


def lock_and_appraise(db: Database, year: int, locked_ids: list[int], appraised_ids: list[int]) -> None:
    """The rows the cycle leaves when a department locks its self-scoring and the appraiser finishes round 1
    (round 1 = the self score), written as benchmarks.province.publish_past_years writes published years."""
    now = utcnow()
    with db.session() as session:
        for assessment in session.scalars(select(Assessment).where(Assessment.year == year,
                                                                   Assessment.department_id.in_(locked_ids))):
            assessment.locked_at, assessment.locked_by = now, "benchmark"
            if assessment.department_id in appraised_ids:
                for score in session.scalars(select(ScoreRecord).where(ScoreRecord.assessment_id == assessment.id)):
                    if "survey" not in (score.inputs or {}):
                        score.appraisal = LeafAppraisal(round1_points=score.self_points).to_dict()


def measure_core(db: Database, year: int, runs: int, log=print) -> list[tuple[str, dict]]:
    """Step 2, as the appraiser (the page's viewer). (label, timing in ms) rows."""
    viewer = accounts.principal_for(db, APPRAISER)
    rows = measure_province_pages(db, year, viewer, runs, log=log)
    return [(label, {"median": t.median * 1000, "low": t.low * 1000, "high": t.high * 1000, "runs": t.runs})
            for label, t in rows]


def _first_reading(database_url: str, year: int, warmed: bool) -> None:
    """In a new process (first_readings_in_new_processes): the first progress of `year` and ranking of the year
    before, as the appraiser reads them, after scoring.province.warm.warm when `warmed`. Prints one JSON line."""
    from scoring.province import progress, ranking, warm

    with tempfile.TemporaryDirectory(prefix="cchc-lan-dau-") as folder:
        db = Database(Settings(data_dir=Path(folder), database_url=database_url))
        viewer = accounts.principal_for(db, APPRAISER)
        took = {}
        if warmed:
            started = time.perf_counter()
            warm.warm(db)
            took["warm"] = time.perf_counter() - started
        started = time.perf_counter()
        progress.province_progress(db, year, viewer=viewer)
        took["progress"] = time.perf_counter() - started
        started = time.perf_counter()
        ranking.ranking(db, year - 1, viewer=viewer)
        took["ranking"] = time.perf_counter() - started
        db.dispose()
    print(json.dumps(took))


def first_readings_in_new_processes(database_url: str, year: int, runs: int, log=print) -> list[tuple[str, dict]]:
    """Step 2b: the first reading in a process, each run in a new process — as computed by the first viewer
    (nothing computed at the start), and after the process's start computed it (scoring.province.warm, which
    server.py runs on a thread of its own as the server starts). Alternating. (label, timing in ms) rows."""
    found: dict[bool, list[dict]] = {False: [], True: []}
    for _ in range(runs):
        for warmed in (False, True):
            found[warmed].append(first_reading_in_a_new_process(PROJECT_ROOT, database_url, year, warmed))
    log(f"lần đầu trong tiến trình mới: {found}")
    return [
        (f"Tiến độ năm {year}, lần đầu trong một tiến trình mới, không tính sẵn", _timing([r["progress"] for r in found[False]])),
        (f"Xếp hạng năm {year - 1}, lần đầu trong một tiến trình mới, không tính sẵn", _timing([r["ranking"] for r in found[False]])),
        (f"Tính sẵn khi tiến trình khởi động (tiến độ năm {year}, ghi bù chỉ số đã công bố chưa được ghi, trên luồng riêng)",
         _timing([r["warm"] for r in found[True]])),
        (f"Tiến độ năm {year}, lần đầu sau khi đã tính sẵn", _timing([r["progress"] for r in found[True]])),
        (f"Xếp hạng năm {year - 1}, lần đầu sau khi đã tính sẵn", _timing([r["ranking"] for r in found[True]])),
    ]


def first_reading_in_a_new_process(root: Path, database_url: str, year: int, warmed: bool) -> dict:
    """_first_reading run by the checkout at `root` (this one, or the one a run compares with), in a new process."""
    import subprocess

    code = f"from benchmarks.scale import _first_reading; _first_reading({database_url!r}, {year}, {warmed})"
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _timing(values: list[float]) -> dict:
    ms = sorted(v * 1000 for v in values)
    return {"median": ms[len(ms) // 2], "low": ms[0], "high": ms[-1], "runs": len(ms)}


# ---------------------------------------------------------------------------------------------- saves


def tier_labels(db: Database, code: str = SCORED_LEAF) -> list[str]:
    """The tier labels of `code` in the bundled criteria set, the one `seed` stores (index = the stored `tier`)."""
    from scoring.criteria.files import load_criteria_set
    from scoring.defaults import bundled_criteria_path

    leaf = next(leaf for leaf in load_criteria_set(bundled_criteria_path()).leaves() if leaf.code == code)
    return [tier.label for tier in leaf.rule.tiers]


def label_of_option(option_text: str, labels: list[str]) -> str | None:
    """Which tier an option's text ("Ban hành kịp thời (…): 1 điểm") shows."""
    matching = [label for label in labels if option_text.strip().startswith(f"{label}:")]
    return max(matching, key=len) if matching else None


@dataclass
class SessionSaves:
    """What one session was told about its saves of `SCORED_LEAF`."""

    department_id: int
    confirmed: int = 0  # clicks whose new score showed with no error on screen
    refused: int = 0  # clicks answered by a conflict refusal
    unconfirmed: int = 0  # clicks that errored otherwise or timed out: saved or not, the session was not told
    last_confirmed: str | None = None  # tier label
    last_attempted: str | None = None  # tier label of the latest click, whatever became of it
    last_was_confirmed: bool = False


def check_saves(db: Database, year: int, saves: list[SessionSaves], since) -> dict:
    """After the run: each session's last confirmed choice against the stored score, and confirmed saves against
    the audit entries of that score written since `since`. A lost update is a confirmed save the database does
    not hold; a stored value equal to a later unconfirmed click is not one (that save went through unseen)."""
    labels = tier_labels(db)
    lost, unsure, details = 0, 0, []
    with db.session() as session:
        for entry in saves:
            assessment_id = session.scalar(select(Assessment.id).where(Assessment.department_id == entry.department_id,
                                                                       Assessment.year == year))
            score = session.scalar(select(ScoreRecord).where(ScoreRecord.assessment_id == assessment_id,
                                                             ScoreRecord.code == SCORED_LEAF))
            stored = (score.inputs or {}).get("tier") if score else None
            stored = labels[stored] if isinstance(stored, int) and 0 <= stored < len(labels) else stored
            audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.department_id == entry.department_id, AuditEntry.entity == "score",
                AuditEntry.entity_key == f"{year}/{SCORED_LEAF}", AuditEntry.at >= since))
            # each save changes the tier: at least one audit row per save (its points are audited too)
            # what the session may have saved last: its last confirmed choice, or a later click it was not told about
            may_hold = (entry.last_confirmed,) if entry.last_was_confirmed else (entry.last_confirmed, entry.last_attempted)
            problem = "lost" if entry.last_confirmed is not None and stored not in may_hold else None
            if problem == "lost":
                lost += 1
            if not entry.last_was_confirmed and entry.last_confirmed is not None:
                unsure += 1
            details.append({"department_id": entry.department_id, "stored": stored, **asdict(entry),
                            "audit_rows": audited, "problem": problem})
    per_save = [d["audit_rows"] / d["confirmed"] for d in details if d["confirmed"]]
    missing = sum(1 for d in details if d["audit_rows"] < d["confirmed"])
    return {"sessions": len(saves), "lost_updates": lost, "ended_unconfirmed": unsure,
            "audit_rows_per_confirmed_save": (min(per_save), max(per_save)) if per_save else None,
            "sessions_with_fewer_audit_rows_than_saves": missing, "details": details}


# ---------------------------------------------------------------------------------------------- the browser


async def signed_in_page(browser, url: str, username: str, path: str):
    """A new context (its own cookie) opening `url + path`, signing in on the sign-in page it is sent to."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await page.add_init_script(PAGE_SCRIPT)
    await page.goto(url + path)
    await page.wait_for_url("**/dang-nhap**", timeout=60_000)
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url(lambda address: "/dang-nhap" not in address, timeout=60_000)
    return context, page


CHECKED_AND_NEXT = """radio => {
  const root = document.querySelector(radio);
  if (!root) return null;
  const inputs = [...root.querySelectorAll('input[type="radio"]')];
  // each option's own label (the widget's caption is a <label> too)
  const labels = inputs.map(x => (x.closest('label') || x.parentElement).innerText.trim());
  const i = inputs.findIndex(x => x.checked);
  return {checked: i >= 0 ? labels[i] : null, next: labels[(i + 1) % labels.length]};
}"""


class ScoringSession:
    """A session of the room in Chromium: its clicks timed in the page (click → the headline shows the new value)."""

    def __init__(self, target: Target, department_id: int, labels: list[str]):
        self.target, self.labels = target, labels
        self.server = target.server
        self.series = Series()
        self.saves = SessionSaves(department_id)
        self.conflicts: list[str] = []
        self.pictured = False

    async def click(self) -> None:
        page = self.target.page
        try:  # a person clicks what is on screen: while the page is redrawn whole, the criterion may be gone a moment
            await page.wait_for_selector(SCORE_RADIO, timeout=30_000)
        except Exception:  # noqa: BLE001 - it did not come back: an error, with a picture of the page
            shown = " ".join((await page.locator("body").inner_text()).split())[:120]
            self.series.errors.append(f"tiêu chí {SCORED_LEAF} không còn trên trang sau 30 s (địa chỉ {page.url}; "
                                      f"trang hiện «{shown}»)")
            self.saves.unconfirmed += 1
            self.saves.last_was_confirmed = False
            if not self.pictured:
                self.pictured = True
                OUT.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=OUT / f"quy-mo-loi-co-quan-{self.saves.department_id}.png", full_page=True)
            return
        before = await page.evaluate(CHECKED_AND_NEXT, SCORE_RADIO)
        attempted = label_of_option(before["next"], self.labels) if before else None
        errors = len(self.series.errors)
        sample = await self.target.time_once(self.series, pause=0)
        new = self.series.errors[errors:]
        self.saves.last_attempted = attempted
        if sample is not None and not new:
            self.saves.confirmed += 1
            self.saves.last_confirmed, self.saves.last_was_confirmed = attempted, True
            return
        self.saves.last_was_confirmed = False
        if any(CONFLICT_WORDS in e for e in new):
            self.saves.refused += 1
            self.conflicts.extend(e for e in new if CONFLICT_WORDS in e)
        else:
            self.saves.unconfirmed += 1

    async def close(self) -> None:
        await self.target.page.context.close()


def sign_in_cookie(url: str, username: str) -> str:
    """The Cookie header of a browser that signed in at /dang-nhap as `username` (the form a person posts)."""
    parts = urllib.parse.urlsplit(url)
    request = urllib.request.Request(f"{url}/dang-nhap", method="POST", headers={"Origin": f"{parts.scheme}://{parts.netloc}"},
                                     data=urllib.parse.urlencode({"ten_dang_nhap": username, "mat_khau": PASSWORD,
                                                                  "next": "/cham-diem"}).encode())

    class Stay(urllib.request.HTTPRedirectHandler):  # the answer's own cookie, not the page it sends on to
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        response = urllib.request.build_opener(Stay).open(request, timeout=60)
    except urllib.error.HTTPError as answer:  # the 303 after a sign-in arrives as an "error" once not followed
        response = answer
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        if name.strip() == COOKIE_NAME:
            return f"{COOKIE_NAME}={rest.split(';', 1)[0]}"
    raise RuntimeError(f"đăng nhập «{username}» không nhận được cookie phiên (HTTP {response.status})")


def option_text(markdown: str) -> str:
    """A radio option as the page shows it: Streamlit sends it with markdown's backslash escapes."""
    return re.sub(r"\\(.)", r"\1", markdown)


class PeerScoringSession:
    """A session of the room that is a peer (benchmarks.peer: the page's own WebSocket messages, signed in with the
    account's cookie, no drawing): its saves counted as a browser session's are, each timed from the click's
    message to the end of the run that drew the new headline."""

    def __init__(self, server: Server, peer: Peer, radio, department_id: int, labels: list[str]):
        self.server, self.peer, self.radio, self.labels = server, peer, radio, labels
        self.answers: list[float] = []  # ms
        self.errors: list[str] = []
        self.saves = SessionSaves(department_id)
        self.conflicts: list[str] = []

    async def click(self) -> None:
        attempted = label_of_option(option_text(Peer.next_option(self.radio)), self.labels)
        answer = await self.peer.choose_next(self.radio, watch=HEADLINE, timeout=30)
        self.saves.last_attempted = attempted
        if answer.seconds is not None and not answer.errors:
            self.answers.append(answer.seconds * 1000)
            self.saves.confirmed += 1
            self.saves.last_confirmed, self.saves.last_was_confirmed = attempted, True
            return
        self.saves.last_was_confirmed = False
        conflicts = [e for e in answer.errors if CONFLICT_WORDS in e]
        if conflicts:
            self.saves.refused += 1
            self.conflicts.extend(conflicts)
        else:
            self.saves.unconfirmed += 1
            self.errors.extend(answer.errors or [f"người khác ({self.server.name}): {answer.status}"])

    async def close(self) -> None:
        await self.peer.close()


async def open_peer_session(server, department, labels) -> PeerScoringSession:
    department_id, _name, username = department
    # signed in as the department's Office account, the page opens on its own department
    peer, radio = await open_peer(server.url, cookie=await asyncio.to_thread(sign_in_cookie, server.url, username))
    return PeerScoringSession(server, peer, radio, department_id, labels)


async def open_scoring_session(browser, server, department, labels) -> ScoringSession:
    department_id, _name, username = department
    context, page = await signed_in_page(browser, server.url, username, "/cham-diem")
    await page.wait_for_selector(SCORE_RADIO, timeout=120_000)
    await settled(page)
    cdp = await context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    target = Target(server, page, cdp, {"kind": "radio", "radio": SCORE_RADIO, "metric": HEADLINE})
    return ScoringSession(target, department_id, labels)


class PeerAppraiser:
    """The appraiser as a peer (benchmarks.peer): each reload of Các cơ quan a new session of the page, as a reload
    is, timed from asking for it to the end of its first run (the server's whole share of a page load)."""

    def __init__(self, cookie: str):
        self.cookie = cookie


async def load_province_page(page, url: str) -> float:
    """Seconds from asking for Các cơ quan to the page settled with its progress table drawn (a peer appraiser: to
    the end of the new session's first run)."""
    if isinstance(page, PeerAppraiser):
        peer, answer = await open_page(url, "cac-co-quan", cookie=page.cookie)
        await peer.close()
        return answer.seconds
    started = time.perf_counter()
    await page.goto(f"{url}/cac-co-quan")
    await page.wait_for_selector('h1:has-text("Các cơ quan")', timeout=120_000)
    await page.wait_for_selector('[data-testid="stDataFrame"]', timeout=120_000)
    await settled(page, timeout=120_000)
    return time.perf_counter() - started


NAV_TO_PROVINCE = {"kind": "nav", "title": "Các cơ quan", "timeout": 120_000}


async def navigate_to_province_page(page) -> float:
    """Seconds from a click on «Các cơ quan» in the menu (coming from the menu's next page) to the page settled,
    timed in the page as benchmarks.browser times a page change."""
    await page.locator('[data-testid="stSidebarNav"] a').filter(has_not_text="Các cơ quan").first.click()
    await page.wait_for_timeout(300)
    await settled(page, timeout=120_000)
    timed = await page.evaluate("spec => window.__benchTime(spec)", NAV_TO_PROVINCE)
    await page.wait_for_selector('[data-testid="stDataFrame"]', timeout=120_000)
    return timed["settled"] / 1000


async def browser_run(servers, province: Province, labels: list[str], sessions: int, seconds: float, log,
                      browsers: int | None = None, appraiser_peer: bool = False) -> dict:
    """`sessions` people scoring at once; the first `browsers` of them (default: all) in Chromium, the others peers;
    the appraiser reloading Các cơ quan meanwhile in Chromium, or as a peer (`appraiser_peer`)."""
    from playwright.async_api import async_playwright

    result: dict = {"rss_start": {s.name: s.rss_bytes() for s in servers}}
    chosen = province.scoring_departments(sessions)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            if appraiser_peer:
                appraiser = PeerAppraiser(await asyncio.to_thread(sign_in_cookie, servers[0].url, APPRAISER))
            else:
                _, appraiser = await signed_in_page(browser, servers[0].url, APPRAISER, "/cac-co-quan")
                await settled(appraiser, timeout=120_000)
            result["appraiser"] = "peer" if appraiser_peer else "browser"
            opened: list[ScoringSession] = []
            open_errors: list[str] = []
            opening = time.perf_counter()
            for first in range(0, len(chosen), len(servers)):  # one per process at a time: both work, neither drowns
                batch = [(servers[(first + k) % len(servers)], chosen[first + k])
                         for k in range(min(len(servers), len(chosen) - first))]
                in_browser = sessions if browsers is None else browsers
                done = await asyncio.gather(*(open_scoring_session(browser, s, d, labels) if first + k < in_browser
                                              else open_peer_session(s, d, labels) for k, (s, d) in enumerate(batch)),
                                            return_exceptions=True)
                for (server, department), session in zip(batch, done):
                    if isinstance(session, BaseException):
                        open_errors.append(f"{department[2]} ({server.name}): {type(session).__name__}: "
                                           f"{str(session).splitlines()[0][:150]}")
                    else:
                        opened.append(session)
                log(f"  {len(opened)}/{len(chosen)} phiên đã mở")
            result["open_seconds"] = time.perf_counter() - opening
            result["rss_open"] = {s.name: s.rss_bytes() for s in servers}
            result["sessions"], result["opened"], result["open_errors"] = sessions, len(opened), open_errors

            since = utcnow()
            cpu = {s.name: s.cpu_seconds() for s in servers}
            load: list[tuple[float, float]] = []
            province_loads: list[float] = []
            province_navigations: list[float] = []
            started = time.monotonic()
            stop_at = started + seconds

            async def sampling_load() -> None:
                while time.monotonic() < stop_at:
                    load.append((time.monotonic() - started, os.getloadavg()[0]))
                    await asyncio.sleep(5)

            async def watching() -> None:  # the appraiser on the province page, meanwhile, alternating processes
                turn = 0
                while time.monotonic() < stop_at:
                    try:
                        province_loads.append(await load_province_page(appraiser, servers[turn % len(servers)].url))
                        if not appraiser_peer:  # a menu click is a page's: a peer has no menu
                            province_navigations.append(await navigate_to_province_page(appraiser))
                    except Exception as problem:  # noqa: BLE001 - counted, never hidden
                        result.setdefault("province_errors", []).append(f"{type(problem).__name__}: {str(problem)[:150]}")
                    turn += 1
                    await asyncio.sleep(3)

            await asyncio.gather(sampling_load(), watching(),
                                 *(once_a_second(i, len(opened), stop_at, s.click) for i, s in enumerate(opened)))
            elapsed = time.monotonic() - started
            load.append((elapsed, os.getloadavg()[0]))
            result["seconds"] = elapsed
            result["cpu_share"] = {s.name: (s.cpu_seconds() - cpu[s.name]) / elapsed for s in servers}
            result["rss_after"] = {s.name: s.rss_bytes() for s in servers}
            result["load_average_1min"] = load
            pages = [s for s in opened if isinstance(s, ScoringSession)]
            peers = [s for s in opened if isinstance(s, PeerScoringSession)]
            samples = [sample.visible for s in pages for sample in s.series.samples]
            result["clicks"] = (sum(len(s.series.samples) + len(s.series.errors) for s in pages)
                                + sum(s.saves.confirmed + s.saves.refused + s.saves.unconfirmed for s in peers))
            result["in_browser"], result["peers"] = len(pages), len(peers)
            result["visible"] = summary(samples)
            result["per_process_visible"] = {
                server.name: summary([x.visible for s in pages if s.server is server for x in s.series.samples])
                for server in servers}
            result["answer"] = summary([a for s in peers for a in s.answers])
            result["per_process_answer"] = {server.name: summary([a for s in peers if s.server is server for a in s.answers])
                                            for server in servers} if peers else {}
            result["errors"] = ([e for s in pages for e in s.series.errors if CONFLICT_WORDS not in e]
                                + [e for s in peers for e in s.errors])
            result["conflicts"] = [e for s in opened for e in s.conflicts]
            result["saves"] = [s.saves for s in opened]
            result["since"] = since
            result["province_page_under_load"] = summary([x * 1000 for x in province_loads])

            result["province_menu_under_load"] = summary([x * 1000 for x in province_navigations])
            quiet, quiet_menu = [], []
            for turn in range(6):  # nothing else running now
                quiet.append(await load_province_page(appraiser, servers[turn % len(servers)].url) * 1000)
                if not appraiser_peer:
                    quiet_menu.append(await navigate_to_province_page(appraiser) * 1000)
            result["province_page_quiet"] = summary(quiet)
            result["province_menu_quiet"] = summary(quiet_menu)
            for session in opened:
                await session.close()
            if not appraiser_peer:
                await appraiser.context.close()
        finally:
            await browser.close()
    return result


# ---------------------------------------------------------------------------------------------- the ranking tab, A/B

RANKING_SHOWN = '[data-testid="stMain"] h3'  # a group's heading: the ranking tab is drawn
PROGRESS_SHOWN = '[data-testid="stMetric"]'  # the progress tab's counts


async def time_tab(page, cdp, server: Server, tab: str, shows: str) -> dict:
    """One click on `tab`: in-page times (ms), the server process's CPU and Chromium's main-thread work over it."""
    from benchmarks.browser import browser_work

    cpu, work = server.cpu_seconds(), await browser_work(cdp)
    result = await page.evaluate("spec => window.__benchTime(spec)",  # benchmarks.browser.PAGE_SCRIPT
                                 {"kind": "tab", "tab": tab, "shows": shows, "timeout": 60_000})
    await asyncio.sleep(0.3)  # what the server still does after the run counts
    answered = [t for t in result["received"] if t <= result["visible"]]
    return {"visible": result["visible"], "settled": result["settled"], "last_message": answered[-1] if answered else None,
            "server_cpu": (server.cpu_seconds() - cpu) * 1000, "browser_work": (await browser_work(cdp) - work) * 1000,
            "grids": result["grids"], "elements": result["elements"]}


async def ranking_tab_clicks(servers: list[Server], department_id: int, years: list[int], runs: int, log) -> dict:
    """The appraiser on Các cơ quan, one context per server (each its own checkout and database), in one Chromium:
    Tiến độ → Xếp hạng timed, for each year, the servers alternating every click (A/B interleaved)."""
    from playwright.async_api import async_playwright

    found: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = {}
            for server in servers:
                context, page = await signed_in_page(browser, server.url, APPRAISER, "/cac-co-quan")
                await settled(page, timeout=120_000)
                cdp = await context.new_cdp_session(page)
                await cdp.send("Performance.enable")
                pages[server.name] = (page, cdp)
            for year in years:
                for server in servers:  # the year chosen through the page's own link parameters (ui.YEAR_PARAM)
                    page, _ = pages[server.name]
                    await page.goto(f"{server.url}/cac-co-quan?co-quan={department_id}&nam={year}")
                    await page.wait_for_selector(PROGRESS_SHOWN, timeout=120_000)
                    await settled(page, timeout=120_000)
                for rep in range(runs + 1):  # the first round warms up (imports, the first reading of each year)
                    for server in (servers if rep % 2 == 0 else servers[::-1]):
                        page, cdp = pages[server.name]
                        sample = await time_tab(page, cdp, server, "Xếp hạng", RANKING_SHOWN)
                        back = await time_tab(page, cdp, server, "Tiến độ", PROGRESS_SHOWN)
                        if rep:
                            found.setdefault(f"{year}", {}).setdefault(server.name, {"ranking": [], "progress": []})
                            found[f"{year}"][server.name]["ranking"].append(sample)
                            found[f"{year}"][server.name]["progress"].append(back)
                    log(f"  năm {year}, lượt {rep}: " + ", ".join(
                        f"{name} {found[f'{year}'][name]['ranking'][-1]['settled']:.0f} ms" for name in found.get(f"{year}", {})))
        finally:
            await browser.close()
    return found


def seed_in(root: Path, database_url: str, departments: int, years: int) -> bool:
    """`seed` as the checkout at `root` writes it, into its own empty database (a run compares two checkouts, each on
    the data its own code writes: the same deterministic province). A database an earlier run seeded is read as it
    is (False): the next run of --ranking-tab measures the same data again without seeding it."""
    import subprocess

    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(database_url)  # not Database(): this checkout's migrations must not touch the other's
    try:
        if "department" in inspect(engine).get_table_names():
            with engine.connect() as connection:
                if connection.execute(text("SELECT count(*) FROM department")).scalar_one():
                    return False
    finally:
        engine.dispose()
    code = ("from pathlib import Path; import tempfile\n"
            "from benchmarks.scale import seed\nfrom scoring.store.db import Database, Settings\n"
            "with tempfile.TemporaryDirectory() as folder:\n"
            f"    db = Database(Settings(data_dir=Path(folder), database_url={database_url!r}))\n"
            f"    seed(db, {departments}, {years}, locked={min(20, departments // 5)}, appraised={min(10, departments // 10)},"
            " log=lambda _: None)\n    db.dispose()\n")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
    return True


def compare_ranking_tab(args, log) -> dict:
    """--ranking-tab: this checkout against `--against` (another checkout, on its own database), each seeded by its
    own code; the first ranking reading in new processes, then the Xếp hạng tab in one Chromium, interleaved."""
    checkouts = [("trước", Path(args.against).resolve(), args.against_database_url), ("sau", PROJECT_ROOT, args.database_url)]
    result: dict = {"machine": machine(), "started": time.strftime("%d/%m/%Y %H:%M UTC", time.gmtime()), "load": []}
    for name, root, url in checkouts:
        started = time.perf_counter()
        if seed_in(root, url, args.departments, args.years):
            log(f"{name}: đã sinh dữ liệu trong {time.perf_counter() - started:.0f} s ({root})")
    last_year = 2026
    first: dict = {name: {False: [], True: []} for name, _, _ in checkouts}
    for _ in range(args.runs if args.first_runs is None else args.first_runs):
        for name, root, url in checkouts:
            for warmed in (False, True):
                first[name][warmed].append(first_reading_in_a_new_process(root, url, last_year, warmed))
    result["first_reading"] = {name: {("tính sẵn" if warmed else "không tính sẵn"): {
        part: _timing([r[part] for r in runs]) for part in runs[0]} for warmed, runs in by.items() if runs}
        for name, by in first.items()}
    log(f"lần đầu trong tiến trình mới: {json.dumps(result['first_reading'], ensure_ascii=False)}")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cchc-xep-hang-")))
        servers = []
        for name, root, url in checkouts:
            env = {**os.environ, "CCHC_DATA_DIR": str(folder / name), "CCHC_AUTH": "on", "DATABASE_URL": url}
            server = start_server(name, root / "server.py", env, [], folder, root=root)
            stack.callback(server.stop)
            servers.append(server)
        for server in servers:
            wait_until_up(server)
        time.sleep(5)  # the start's own computation (scoring.province.warm) done, as a server that has run a while
        db = Database(Settings(data_dir=folder / "doc", database_url=args.database_url))
        first_department = min(d.id for d in department_store.list_departments(db))
        db.dispose()
        result["load"].append(os.getloadavg()[0])
        result["ranking_tab"] = asyncio.run(ranking_tab_clicks(servers, first_department, [last_year, last_year - 1],
                                                               args.runs, log))
        result["load"].append(os.getloadavg()[0])
    return result


def render_ranking_tab(result: dict) -> str:
    lines = [(f"Đo ngày {result['started']} · {result['machine']} · tải 1 phút lúc đầu/cuối: "
              + " / ".join(vn(x, 1) for x in result["load"]) + "."), "",
             "| Lần đầu trong một tiến trình mới | Bản | Tiến độ | Xếp hạng năm trước |", "|---|---|---|---|"]
    for name, by in result["first_reading"].items():
        for how, parts in by.items():
            lines.append(f"| {how} | {name} | {_ms(parts['progress']['median'])} ({_ms(parts['progress']['low'])}–"
                         f"{_ms(parts['progress']['high'])}) | {_ms(parts['ranking']['median'])} "
                         f"({_ms(parts['ranking']['low'])}–{_ms(parts['ranking']['high'])}) |")
    lines += ["", ("| Bấm thẻ «Xếp hạng» | Bản | Xong hẳn: trung vị / p95 | Máy chủ trả lời xong | CPU máy chủ | "
                   "Việc của Chromium | Bảng / phần tử |"), "|---|---|---|---|---|---|---|"]
    for year, by in result["ranking_tab"].items():
        for name, parts in by.items():
            clicks = parts["ranking"]
            settled_ms = summary([c["settled"] for c in clicks])
            answered = summary([c["last_message"] for c in clicks if c["last_message"] is not None])
            lines.append(f"| năm {year} | {name} | {_ms(settled_ms.get('median'))} / {_ms(settled_ms.get('p95'))} | "
                         f"{_ms(answered.get('median'))} | {_ms(summary([c['server_cpu'] for c in clicks]).get('median'))} | "
                         f"{_ms(summary([c['browser_work'] for c in clicks]).get('median'))} | "
                         f"{clicks[-1]['grids']} / {clicks[-1]['elements']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{vn(value, 0)} ms"


def _mb(count: int) -> str:
    return f"{vn(count / 1024 / 1024, 0)} MB"


def render(result: dict) -> str:
    p = result["province"]
    lines = [f"Đo ngày {result['started']} · {result['machine']} · PostgreSQL {result['postgres']}.", "",
             f"**Dữ liệu**: {len(p['departments'])} cơ quan × {len(p['years'])} năm ({min(p['years'])}–{max(p['years'])}), "
             f"{p['published_years']} kỳ đánh giá đã công bố; năm {max(p['years'])}: {len(p['locked'])} cơ quan đã chốt, "
             f"{len(p['appraised'])} trong số đó đã thẩm định vòng 1; {len(p['departments']) + 2} tài khoản. "
             + ", ".join(f"{vn(p['rows'][name], 0)} {label}" for name, label in ROW_NAMES.items() if name in p["rows"]) + ".",
             f"**Sinh dữ liệu**: {vn(p['seconds'], 0)} s — " + "; ".join(f"{k} {vn(v, 1)} s" for k, v in p["steps"].items()) + ".",
             "", "| Phía máy chủ (một tiến trình, người xem là tài khoản thẩm định) | Trung vị | Nhỏ nhất–lớn nhất | Số lần |",
             "|---|---|---|---|"]
    for label, t in result["core"]:
        lines.append(f"| {label} | {_ms(t['median'])} | {_ms(t['low'])}–{_ms(t['high'])} | {t['runs']} |")
    b = result.get("browser")
    if b:
        v = b["visible"]
        checked = result["saves_check"]
        lines += ["", "| Trong trình duyệt | Giá trị |", "|---|---|",
                  f"| Phiên chấm điểm cùng lúc (mở được / yêu cầu), hai tiến trình | {b['opened']} / {b['sessions']} "
                  f"(mở trong {vn(b['open_seconds'], 0)} s) |",
                  *([f"| Trong đó: phiên trong Chromium / phiên gửi đúng tin WebSocket của trang (benchmarks/peer.py) "
                     f"| {b['in_browser']} / {b['peers']} |"] if b.get("peers") else []),
                  f"| Thời gian đo, số lần bấm | {vn(b['seconds'], 0)} s, {b['clicks']} lần |",
                  f"| Bấm → thấy điểm mới (trong Chromium): trung vị / p95 / lớn nhất | {_ms(v.get('median'))} / **{_ms(v.get('p95'))}** / {_ms(v.get('max'))} |"]
        for name, s in b["per_process_visible"].items():
            lines.append(f"| … tiến trình {name}: trung vị / p95 (số lần) | {_ms(s.get('median'))} / {_ms(s.get('p95'))} ({s.get('n', 0)}) |")
        if b.get("peers"):
            a = b["answer"]
            lines.append(f"| Máy chủ trả lời các phiên kia (gửi cú bấm → xong lần chạy vẽ điểm mới): trung vị / p95 / lớn nhất "
                         f"(số lần) | {_ms(a.get('median'))} / **{_ms(a.get('p95'))}** / {_ms(a.get('max'))} ({a.get('n', 0)}) |")
            for name, s in b["per_process_answer"].items():
                lines.append(f"| … tiến trình {name}: trung vị / p95 (số lần) | {_ms(s.get('median'))} / {_ms(s.get('p95'))} "
                             f"({s.get('n', 0)}) |")
        lines += [f"| Lỗi trên màn hình hoặc bấm không có kết quả (ngoài xung đột) | {len(b['errors'])} |",
                  f"| Lần lưu bị từ chối vì xung đột phiên bản | {len(b['conflicts'])} |",
                  f"| Cập nhật bị mất (lần lưu đã báo xong mà CSDL không giữ) | **{checked['lost_updates']}** / {checked['sessions']} phiên |",
                  f"| Phiên có ít dòng nhật ký hơn số lần lưu đã báo xong | {checked['sessions_with_fewer_audit_rows_than_saves']} |",
                  f"| Trang Các cơ quan (thẩm định), {'phía máy chủ: phiên mới đến hết lần chạy đầu' if b.get('appraiser') == 'peer' else 'tải đến lúc xong hẳn'}, "
                  f"trong lúc các phiên chấm: trung vị / p95 (lần) | "
                  f"{_ms(b['province_page_under_load'].get('median'))} / {_ms(b['province_page_under_load'].get('p95'))} "
                  f"({b['province_page_under_load'].get('n', 0)}) |",
                  f"| … khi không còn phiên nào chấm: trung vị / nhỏ nhất–lớn nhất (lần) | {_ms(b['province_page_quiet'].get('median'))} / "
                  f"{_ms(b['province_page_quiet'].get('min'))}–{_ms(b['province_page_quiet'].get('max'))} ({b['province_page_quiet'].get('n', 0)}) |"]
        under, quiet = b["province_menu_under_load"], b["province_menu_quiet"]
        lines += [f"| … từ menu (trang khác → Các cơ quan), trong lúc các phiên chấm: trung vị / p95 (lần) | "
                  f"{_ms(under.get('median'))} / {_ms(under.get('p95'))} ({under.get('n', 0)}) |",
                  f"| … từ menu, khi không còn phiên nào chấm: trung vị / nhỏ nhất–lớn nhất (lần) | {_ms(quiet.get('median'))} / "
                  f"{_ms(quiet.get('min'))}–{_ms(quiet.get('max'))} ({quiet.get('n', 0)}) |"]
        for name in b["rss_start"]:
            lines.append(f"| RSS tiến trình {name}: lúc đầu → khi mở các phiên → sau khi chấm; CPU lúc chấm | "
                         f"{_mb(b['rss_start'][name])} → {_mb(b['rss_open'][name])} → {_mb(b['rss_after'][name])}; "
                         f"{vn(b['cpu_share'][name] * 100, 0)} % một lõi |")
        loads = [x for _, x in b["load_average_1min"]]
        lines.append(f"| Tải trung bình 1 phút của máy trong lúc đo (2 lõi) | {vn(min(loads), 1)}–{vn(max(loads), 1)} |")
        shown = sorted(set(b["errors"] + b["open_errors"] + b.get("province_errors", [])))
        if shown:
            lines += ["", "Lỗi (mỗi loại một lần):", *(f"- {e}" for e in shown[:12])]
        if b["conflicts"]:
            lines += ["", "Từ chối vì xung đột (mỗi loại một lần):", *(f"- {e}" for e in sorted(set(b["conflicts"]))[:5])]
    return "\n".join(lines)


ROW_NAMES = {"activity": "hoạt động", "score": "điểm", "evidence": "tài liệu", "audit_log": "dòng nhật ký",
             "session": "phiên đăng nhập"}


def _postgres_version(db: Database) -> str:
    from sqlalchemy import text

    with db.engine.connect() as connection:
        return connection.execute(text("SHOW server_version")).scalar_one()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description="Đo ở quy mô tỉnh trên PostgreSQL.")
    parser.add_argument("--database-url", required=True, help="một CSDL PostgreSQL trống (tạo riêng cho lần đo)")
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--appraiser", choices=("browser", "peer"), default="browser",
                        help="người thẩm định mở lại Các cơ quan trong Chromium (mặc định) hay gửi đúng tin của trang (peer)")
    parser.add_argument("--streamlit-arg", action="append", default=[], metavar="--server.X=Y",
                        help="thêm một tùy chọn cho hai máy chủ (lặp lại được), ví dụ --streamlit-arg=--server.fileWatcherType=auto "
                             "để đo lại một mặc định của Streamlit mà dự án đã đổi")
    parser.add_argument("--browsers", type=int, help="bao nhiêu phiên trong Chromium (mặc định: tất cả); các phiên còn lại gửi "
                        "đúng các tin WebSocket của trang mà không vẽ (benchmarks/peer.py): trình duyệt của mỗi người ở máy "
                        "của họ, máy đo chỉ cần chạy vài trình duyệt")
    parser.add_argument("--runs", type=int, default=5, help="số lần đo phía máy chủ")
    parser.add_argument("--quick", action="store_true", help="10 cơ quan × 2 năm, 4 phiên trong 15 s")
    parser.add_argument("--ranking-tab", action="store_true",
                        help="chỉ đo thẻ «Xếp hạng» và lần đọc đầu, so với bản ở --against (mỗi bản một CSDL trống)")
    parser.add_argument("--against", help="thư mục mã nguồn của bản để so (với --ranking-tab)")
    parser.add_argument("--against-database-url", help="CSDL PostgreSQL trống cho bản --against")
    parser.add_argument("--first-runs", type=int, help="số tiến trình mới đo lần đọc đầu, mỗi bản (với --ranking-tab; "
                                                         "mặc định: --runs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.departments, args.years, args.sessions, args.seconds, args.runs = 10, 2, 4, 15, 3
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("Lần đo này dành cho PostgreSQL (nhiều tiến trình trên một CSDL).")
    begun = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - begun:6.1f} s] {message}", file=sys.stderr, flush=True)

    if args.ranking_tab:
        if not (args.against and args.against_database_url):
            raise SystemExit("--ranking-tab cần --against và --against-database-url.")
        result = compare_ranking_tab(args, log)
        text = render_ranking_tab(result)
        print(text)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "xep-hang.json").write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        (OUT / "xep-hang.md").write_text(text + "\n", encoding="utf-8")
        return 0

    result: dict = {"machine": machine(), "started": time.strftime("%d/%m/%Y %H:%M UTC", time.gmtime()),
                    "arguments": vars(args) | {"database_url": args.database_url.split("@")[-1]}}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cchc-quy-mo-")))
        settings = Settings(data_dir=folder / "data", database_url=args.database_url)
        db = Database(settings)
        stack.callback(db.dispose)
        if department_store.list_departments(db):
            raise SystemExit("CSDL đã có dữ liệu: hãy tạo một CSDL trống cho lần đo (createdb) và xóa nó sau.")
        result["postgres"] = _postgres_version(db)
        log(f"sinh dữ liệu: {args.departments} cơ quan × {args.years} năm")
        province = seed(db, args.departments, args.years, locked=min(20, args.departments // 5),
                        appraised=min(10, args.departments // 10), log=log)
        result["province"] = asdict(province)
        log(f"đã sinh dữ liệu trong {province.seconds:.0f} s; đo phía máy chủ")
        result["core"] = measure_core(db, province.last_year, args.runs, log=log)
        result["core"] += first_readings_in_new_processes(args.database_url, province.last_year, min(args.runs, 3), log=log)
        if args.sessions:
            if not Path(CHROMIUM).exists():
                raise SystemExit(f"Cần Chromium của Debian ở {CHROMIUM} (apt-get install chromium).")
            env = {**os.environ, "CCHC_DATA_DIR": str(settings.data_dir), "CCHC_AUTH": "on",
                   "DATABASE_URL": args.database_url}
            servers = [start_server(name, PROJECT_ROOT / "server.py", env, args.streamlit_arg, folder)
                       for name in ("A", "B")]
            for server in servers:
                stack.callback(server.stop)
                # the servers' logs outlive the scratch folder: what they said about an error of the run
                stack.callback(lambda s=server: OUT.mkdir(parents=True, exist_ok=True) or shutil.copy(s.log, OUT / f"quy-mo-{s.name}.log"))
            for server in servers:
                wait_until_up(server)
            log(f"hai tiến trình đã chạy; mở {args.sessions} phiên")
            browser = asyncio.run(browser_run(servers, province, tier_labels(db), args.sessions, args.seconds, log,
                                              browsers=args.browsers, appraiser_peer=args.appraiser == "peer"))
            result["saves_check"] = check_saves(db, province.last_year, browser.pop("saves"), browser.pop("since"))
            result["browser"] = browser
    result["seconds"] = time.perf_counter() - begun
    text = render(result) + f"\n\nCả lần đo: {vn(result['seconds'] / 60, 1)} phút."
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    name = "quy-mo-nhanh" if args.quick else "quy-mo"
    (OUT / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    (OUT / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
