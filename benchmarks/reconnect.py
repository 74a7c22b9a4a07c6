"""Why a page goes blank: many signed-in browser sessions on a busy machine, watched for the moment the Streamlit app
element (`[data-testid=stApp]`) leaves the page, with what happened just before.

    python -m benchmarks.reconnect --sessions 10 --hogs 3 --pause 0.7 --seconds 240   # clicking a score, under load
    python -m benchmarks.reconnect --sessions 8 --together 8 --hogs 3 --reload 20      # pages (re)loading under load
    python -m benchmarks.reconnect --sessions 3 --restart 15 --expire 45               # a server restart at 15 s,
                                                                                       # every sign-in ended at 45 s
    python -m benchmarks.reconnect --sessions 3 --drop 15 --hold 35 --hold-seconds 25  # websockets cut; then new
                                                                                       # connections held 25 s
    python -m benchmarks.reconnect --sessions 10 --check --seconds 180   # each click waits for its result (the
                                                                          # headline moves); one that never shows is
                                                                          # diagnosed (see `diagnose`)

A scratch SQLite database (benchmarks.generate.populate: one department per session, an Office account each), one
`streamlit run server.py` with sign-in on, reached through a TCP proxy this script controls (to cut websockets or hold
new connections, as a flaky network or a proxy's timeout does). Each session signs in at /dang-nhap (`--together` at
a time, CPU hogs already running), opens Chấm điểm and changes criterion 1.1.1 every `--pause` seconds (or reloads
every `--reload`). Recorded per session from its first page on: console messages, uncaught page errors, websocket
opens/closes and every message each way (decoded: kind, delta path, fragment, run), navigations, HTTP answers ≥ 400;
every 0.3 s whether stApp is there and Streamlit's connection state. A page without stApp longer than --blank-after
seconds is pictured (benchmarks/out/trang-trang-<session>-<n>.{png,html,json}, the json its last 1 500 events);
benchmarks/out/trang-trang.json has each blank (start, length, what came before) and every page error.
What it found (issue 19) is in page_shell's docstring. No test asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HEADLINE,
    OUT,
    PAGE_SCRIPT,
    SCORE_RADIO,
    VIEWPORT,
    start_server,
    wait_until_up,
)
from benchmarks.suite import SCORED_LEAF

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Trang-trang-2026!"  # every account's here; the database is a scratch one
APP = '[data-testid="stApp"]'


def _hog(stop_at: float) -> None:
    while time.time() < stop_at:
        pass


def seed(data_dir: Path, departments: int) -> list[str]:
    """One department per session (so no two sessions change the same score) and an Office account for each."""
    from benchmarks.generate import populate
    from scoring.access import accounts
    from scoring.access.auth import Role
    from scoring.store import actors, department_store
    from scoring.store.db import Database, Settings

    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    populate(db, departments=departments, years=1, evidence_per_year=0)
    names = []
    for index, department in enumerate(sorted(department_store.list_departments(db), key=lambda d: d.id)):
        username = f"vp{index + 1:02d}"
        accounts.create_account(db, username, role=Role.OFFICE, password=PASSWORD, department_ids=[department.id],
                                actor=actors.SYSTEM_ACTOR)
        names.append(username)
    db.dispose()
    return names


def end_every_session(data_dir: Path) -> int:
    """What an administrator's password reset or the idle limit does to everyone at once: the rows end."""
    from sqlalchemy import update

    from scoring.access.accounts import Ended
    from scoring.store.db import SIGN_IN_SESSIONS, Database, Settings

    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    with db.engine.begin() as connection:
        ended = connection.execute(update(SIGN_IN_SESSIONS).where(SIGN_IN_SESSIONS.c.ended_at.is_(None))
                                   .values(ended_at=SIGN_IN_SESSIONS.c.last_seen_at, ended_why=Ended.EXPIRED.value)).rowcount
    db.dispose()
    return ended


# ---------------------------------------------------------------------------------------------- a proxy we control


class Proxy:
    """A TCP relay in front of the server; `drop()` cuts every connection open now (the browsers' websockets), and
    `pause(seconds)` holds new connections that long (a server that does not answer)."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.links: set[asyncio.StreamWriter] = set()
        self.held_until = 0.0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _link(self, reader, writer) -> None:
        while time.monotonic() < self.held_until:
            await asyncio.sleep(0.2)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        self.links.update((writer, up_writer))

        async def pump(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self.links.discard(writer)
        self.links.discard(up_writer)

    def drop(self) -> int:
        cut = len(self.links)
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()
        return cut


# ---------------------------------------------------------------------------------------------- one session, watched


@dataclass
class Watched:
    name: str
    page: object = None
    events: list = field(default_factory=list)
    blanks: list = field(default_factory=list)
    stale: list = field(default_factory=list)  # --check: clicks whose result never showed, each diagnosed
    click_errors: list = field(default_factory=list)  # --check: clicks that failed otherwise (no radio on the page...)
    odd_clicks: list = field(default_factory=list)  # --check: the first of those, with the radio's markup
    username: str = ""
    clicks: int = 0
    shown: int = 0
    blank_since: float | None = None
    blank_cause: str | None = None
    watching: object = None

    def note(self, kind: str, text: str) -> None:
        self.events.append((round(time.monotonic() - START, 2), kind, text if kind == "server.threads" else text[:300]))


START = time.monotonic()
SERVER_PID: list[int] = []  # the app server's process, for server_threads


def server_threads() -> str:
    """What every thread of the server is doing now (py-spy, where installed): why a page waits."""
    import shutil
    import subprocess

    if not SERVER_PID or not shutil.which("py-spy"):
        return "(py-spy not available)"
    done = subprocess.run(["py-spy", "dump", "--pid", str(SERVER_PID[-1])], check=False, capture_output=True, text=True, timeout=60)
    return (done.stdout or done.stderr)[-20000:]


def forward_summary(payload: bytes) -> str:
    """One message from the server, in a line: its kind, the delta's path and fragment, the run it belongs to."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    try:
        msg.ParseFromString(payload)
    except Exception:  # noqa: BLE001 - not ours to judge here
        return f"? {len(payload)} bytes"
    kind = msg.WhichOneof("type")
    run = msg.metadata.run
    text = f"{kind} run={run.script_run_id[:8]} frags={[f[:6] for f in run.fragment_ids]}"
    if kind in ("delta", "ref_hash"):
        what = msg.delta.WhichOneof("type") if kind == "delta" else "ref"
        if what == "new_element":
            what += ":" + msg.delta.new_element.WhichOneof("type")
        text += f" path={list(msg.metadata.delta_path)} {what} frag={msg.delta.fragment_id[:6]}"
    elif kind == "script_finished":
        text += f" status={msg.script_finished}"
    elif kind == "auto_rerun":
        text += f" every={msg.auto_rerun.interval} frag={msg.auto_rerun.fragment_id[:6]}"
    return text


def back_summary(payload: bytes | str) -> str:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    try:
        msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode("latin-1"))
    except Exception:  # noqa: BLE001
        return "?"
    kind = msg.WhichOneof("type")
    if kind == "rerun_script":
        rerun = msg.rerun_script
        return f"rerun frag={rerun.fragment_id[:6]} auto={rerun.is_auto_rerun} widgets={len(rerun.widget_states.widgets)}"
    return str(kind)


def watch(session: Watched, page) -> None:
    session.page = page
    page.on("console", lambda m: session.note("console." + m.type, m.text))
    page.on("pageerror", lambda e: session.note("pageerror", str(e)))
    page.on("crash", lambda _p: session.note("crash", "renderer crashed"))
    page.on("framenavigated", lambda f: session.note("navigated", f.url) if f == page.main_frame else None)
    page.on("response", lambda r: session.note("http", f"{r.status} {r.url}") if r.status >= 400 or r.request.is_navigation_request() else None)
    page.on("requestfailed", lambda r: session.note("requestfailed", f"{r.url} {r.failure}"))

    def websocket(ws) -> None:
        session.note("ws.open", ws.url)
        ws.on("close", lambda _w: session.note("ws.close", ws.url))
        ws.on("socketerror", lambda e: session.note("ws.error", str(e)))
        ws.on("framereceived", lambda payload: session.note("ws.in", forward_summary(payload)) if isinstance(payload, bytes) else None)
        ws.on("framesent", lambda payload: session.note("ws.out", back_summary(payload)))
    page.on("websocket", websocket)


async def sign_in(browser, url: str, username: str, session: Watched, stop: asyncio.Event, blank_after: float):
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await page.add_init_script(PAGE_SCRIPT)  # window.__benchTime, for --check
    session.username = username
    watch(session, page)
    session.watching = asyncio.create_task(watcher(session, stop, blank_after))
    await page.goto(url + "/cham-diem")
    await page.wait_for_url("**/dang-nhap**", timeout=120_000)
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url(lambda address: "/dang-nhap" not in address, timeout=120_000)
    try:
        await page.wait_for_selector(SCORE_RADIO, timeout=180_000)
    except Exception as problem:  # noqa: BLE001 - a page that never drew is what this looks for: kept, noted
        session.note("open", str(problem).splitlines()[0][:150])
        session.note("server.threads", await asyncio.to_thread(server_threads))
    return page


async def picture(session: Watched, label: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    stem = OUT / f"trang-trang-{session.name}-{len(session.blanks)}{label}"
    page = session.page
    try:
        await page.screenshot(path=f"{stem}.png", timeout=15_000)
        stem.with_suffix(".html").write_text(await page.content(), encoding="utf-8")
    except Exception as problem:  # noqa: BLE001 - a crashed page has no picture: say so
        session.note("picture", f"no picture: {problem}")
    stem.with_suffix(".json").write_text(json.dumps(session.events[-1500:], ensure_ascii=False, indent=1), encoding="utf-8")


async def watcher(session: Watched, stop: asyncio.Event, blank_after: float) -> None:
    """Every 0.3 s: is the app element there? A page without it longer than `blank_after` is pictured once."""
    pictured, connection = False, None
    while not stop.is_set():
        try:
            state = await session.page.evaluate(
                "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
                " return {app: !!a, url: location.href, ready: document.readyState,"
                " conn: a && a.getAttribute('data-test-connection-state'), root: (document.getElementById('root') || {}).childElementCount}; }")
        except Exception as problem:  # noqa: BLE001 - navigating: the next look says
            state = {"app": False, "url": "?", "error": str(problem)[:100]}
        now = time.monotonic()
        if state.get("conn") != connection and state.get("app"):
            connection = state.get("conn")
            session.note("connection", str(connection))
        if state.get("app") or "/dang-nhap" in state.get("url", ""):
            if session.blank_since is not None:
                session.blanks.append({"from": round(session.blank_since - START, 2), "seconds": round(now - session.blank_since, 2),
                                       "cause": session.blank_cause, "ended_on": state.get("url")})
                session.note("blank.end", json.dumps(state))
            session.blank_since, pictured = None, False
        else:
            if session.blank_since is None:
                session.blank_since = now
                session.blank_cause = " | ".join(f"{t}s {k} {x}" for t, k, x in session.events[-4:])
                session.note("blank.start", json.dumps(state))
            elif not pictured and now - session.blank_since > blank_after:
                pictured = True
                await picture(session, "")
        await asyncio.sleep(0.3)
    if session.blank_since is not None:
        session.blanks.append({"from": round(session.blank_since - START, 2), "seconds": None, "cause": session.blank_cause,
                               "ended_on": "(still blank at the end)"})


NEXT_OPTION = """radio => {
  const root = document.querySelector(radio);
  if (!root) return false;
  const inputs = [...root.querySelectorAll('input[type="radio"]')];
  inputs[(inputs.findIndex(x => x.checked) + 1) % inputs.length].click();
  return true;
}"""


async def clicker(session: Watched, until: float, pause: float, reload_every: float = 0) -> None:
    page = session.page
    reload_at = time.monotonic() + reload_every
    while time.monotonic() < until:
        await asyncio.sleep(pause)
        try:
            if reload_every and time.monotonic() > reload_at:  # a new Streamlit session: the page's first runs again
                reload_at = time.monotonic() + reload_every
                session.note("reload", "")
                await page.reload(wait_until="commit", timeout=60_000)
                continue
            clicked = await page.evaluate(NEXT_OPTION, SCORE_RADIO)
            if not clicked:
                continue
            session.clicks += 1
        except Exception as problem:  # noqa: BLE001 - the watcher tells what the page became
            session.note("click", str(problem).splitlines()[0][:150])


# What the page shows of criterion 1.1.1 and the totals, read at once: which option the radio has checked, the
# criterion's own points (leaf-points-<code>), the headline, Streamlit's script state, what alerts say.
PAGE_STATE = """radio => {
  const root = document.querySelector(radio);
  const checked = root ? [...root.querySelectorAll('label')].find(l => l.querySelector('input:checked')) : null;
  const metric = (scope, label) => {
    for (const m of (scope || document).querySelectorAll('[data-testid="stMetric"]')) {
      const name = m.querySelector('[data-testid="stMetricLabel"]');
      if (name && name.textContent.trim() === label) {
        const value = m.querySelector('[data-testid="stMetricValue"]');
        return value ? value.textContent.trim() : null;
      }
    }
    return null;
  };
  const app = document.querySelector('[data-testid="stApp"]');
  return {
    radio_checked: checked ? checked.textContent.trim() : null,
    criterion_points: metric(document.querySelector('[class*="st-key-leaf-points-"]'), 'Tự chấm'),
    headline: metric(document, 'Điểm tự chấm'),
    headlines: [...document.querySelectorAll('[data-testid="stMetric"]')].filter(m =>
      (m.querySelector('[data-testid="stMetricLabel"]') || {}).textContent === 'Điểm tự chấm').length,
    script_state: app ? app.getAttribute('data-test-script-state') : null,
    stale_elements: document.querySelectorAll('[data-stale="true"]').length,
    alerts: [...document.querySelectorAll('[data-testid="stAlert"], [data-testid="stException"]')].map(a => a.textContent.trim().slice(0, 200)),
  };
}"""


def stored_score(data_dir: Path, username: str) -> dict:
    """What the database holds for the session's criterion: its tier and points, version, when."""
    from scoring.access import accounts
    from scoring.store import assessment_state, assessment_store
    from scoring.store.db import Database, Settings

    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    try:
        department_id = next(a for a in accounts.list_accounts(db) if a.username == username).department_ids[0]
        assessment = assessment_state.get_assessment(db, department_id, 2026)
        score = assessment_store.list_scores(db, assessment.id).get(SCORED_LEAF)
        if score is None:
            return {"stored": None}
        return {"tier": score.inputs.get("tier"), "points": str(score.self_points), "version": score.version,
                "updated_at": str(score.updated_at)}
    finally:
        db.dispose()


async def diagnose(session: Watched, problem: Exception, clicked_at: float, clicked_event: int, data_dir: Path) -> None:
    """A click whose result did not show: what the page, the database and the websocket say, now and 10 s later."""
    page = session.page
    found = {"at": round(clicked_at - START, 2), "error": str(problem).splitlines()[0][:200]}
    found["page"] = await page.evaluate(PAGE_STATE, SCORE_RADIO)
    found["database"] = await asyncio.to_thread(stored_score, data_dir, session.username)
    found["messages"] = [e for e in session.events[clicked_event:] if e[1].startswith("ws.")][:400]
    found["events_before"] = session.events[max(0, clicked_event - 60):clicked_event]
    await picture(session, f"-stale-{len(session.stale)}")
    await asyncio.sleep(10)
    found["page_10s_later"] = await page.evaluate(PAGE_STATE, SCORE_RADIO)
    session.stale.append(found)
    session.note("stale", json.dumps({k: found[k] for k in ("page", "database", "page_10s_later")}, ensure_ascii=False))


RADIO_MARKUP = """radio => [...document.querySelectorAll(radio)].map(r => ({
  inputs: r.querySelectorAll('input[type="radio"]').length, labels: r.querySelectorAll('label').length,
  stale: !!r.closest('[data-stale="true"]'), html: r.outerHTML.slice(0, 1500)}))"""


async def checked_clicker(session: Watched, until: float, pause: float, timeout: float, data_dir: Path) -> None:
    """Click the next option and wait for the headline to move (benchmarks.browser's __benchTime); then pause."""
    page = session.page
    try:  # the radio drawn, not Streamlit's skeleton of it (a busy page's first seconds): a click needs its options
        await page.wait_for_selector(f'{SCORE_RADIO} input[type="radio"]', timeout=120_000)
    except Exception as problem:  # noqa: BLE001 - the clicks below say it
        session.note("click", f"radio not drawn: {str(problem).splitlines()[0][:120]}")
    while time.monotonic() < until:
        await asyncio.sleep(pause)
        clicked_at, clicked_event = time.monotonic(), len(session.events)
        session.note("click", "timed")
        try:
            await page.evaluate("spec => window.__benchTime(spec)",
                                {"kind": "radio", "radio": SCORE_RADIO, "metric": HEADLINE, "timeout": timeout * 1000})
            session.clicks += 1
            session.shown += 1
        except Exception as problem:  # noqa: BLE001 - a click without its result is what this looks for
            session.clicks += 1
            if "no change after" in str(problem):
                await diagnose(session, problem, clicked_at, clicked_event, data_dir)
            else:
                session.click_errors.append(str(problem).splitlines()[0][:150])
                session.note("click", session.click_errors[-1])
                try:  # what the page held where the radio should be, and the messages just before
                    radio = await page.evaluate(RADIO_MARKUP, SCORE_RADIO)
                except Exception as gone:  # noqa: BLE001
                    radio = str(gone)[:200]
                session.odd_clicks.append({"error": session.click_errors[-1], "radio": radio,
                                           "before": session.events[max(0, clicked_event - 40):]})


# ---------------------------------------------------------------------------------------------- the run


async def run(args, url: str, proxy: Proxy, usernames: list[str], server_box: dict, data_dir: Path) -> dict:
    from playwright.async_api import async_playwright

    sessions = [Watched(f"s{i + 1:02d}") for i in range(len(usernames))]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stop = asyncio.Event()
        # the hogs start with the sessions: a page's first runs on a busy machine are part of what is watched
        hogs = [multiprocessing.Process(target=_hog, args=(time.time() + args.seconds + 600,)) for _ in range(args.hogs)]
        for hog in hogs:
            hog.start()
        for first in range(0, len(sessions), args.together):
            await asyncio.gather(*(sign_in(browser, url, usernames[i], sessions[i], stop, args.blank_after)
                                   for i in range(first, min(first + args.together, len(sessions)))))
            print(f"  đã mở {min(first + args.together, len(sessions))} phiên", flush=True)
        begun = time.monotonic()
        until = begun + args.seconds
        events: list = []

        async def disturb() -> None:
            plan = sorted([(args.drop, "drop"), (args.restart, "restart"), (args.expire, "expire"), (args.hold, "hold")],
                          key=lambda p: p[0] or 0)
            for at, what in plan:
                if not at:
                    continue
                await asyncio.sleep(max(0.0, begun + at - time.monotonic()))
                if what == "drop":
                    events.append((at, f"proxy cut {proxy.drop()} connections"))
                elif what == "hold":
                    proxy.held_until = time.monotonic() + args.hold_seconds
                    events.append((at, f"proxy holds new connections {args.hold_seconds} s, cut {proxy.drop()}"))
                elif what == "expire":
                    events.append((at, f"ended {await asyncio.to_thread(end_every_session, data_dir)} sign-in sessions"))
                elif what == "restart":
                    server = server_box["server"]
                    server.process.terminate()
                    await asyncio.to_thread(server.process.wait)
                    proxy.drop()
                    fresh = start_server("reconnect-restarted", PROJECT_ROOT / "server.py", server_box["env"],
                                         ["--server.port", str(proxy.upstream_port)], server_box["logs"])
                    fresh.url = f"http://127.0.0.1:{proxy.upstream_port}"  # the last --server.port is the one used
                    server_box["server"] = fresh
                    SERVER_PID.append(fresh.process.pid)
                    await asyncio.to_thread(wait_until_up, fresh)
                    events.append((at, "server restarted"))
                for s in sessions:
                    s.note("disturb", events[-1][1])
        clicking = ([checked_clicker(s, until, args.pause, args.timeout, data_dir) for s in sessions] if args.check
                    else [clicker(s, until, args.pause, args.reload) for s in sessions])
        await asyncio.gather(disturb(), *clicking)
        stop.set()
        await asyncio.gather(*(s.watching for s in sessions))
        for hog in hogs:
            hog.terminate()
        await browser.close()
    return {"sessions": len(sessions), "seconds": args.seconds, "load_average": os.getloadavg(), "disturbances": events,
            "clicks": sum(s.clicks for s in sessions), "shown": sum(s.shown for s in sessions),
            "stale": {s.name: s.stale for s in sessions if s.stale},
            "click_errors": {s.name: dict(collections.Counter(s.click_errors)) for s in sessions if s.click_errors},
            "odd_clicks": {s.name: s.odd_clicks[:5] for s in sessions if s.odd_clicks},
            "blanks": {s.name: s.blanks for s in sessions if s.blanks},
            "page_errors": [(s.name, t, text) for s in sessions for t, kind, text in s.events if kind in ("pageerror", "crash")],
            "events": {s.name: s.events[-3000:] for s in sessions}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--pause", type=float, default=1.0, help="giây giữa hai lần bấm của một phiên")
    parser.add_argument("--hogs", type=int, default=0, help="số tiến trình chiếm CPU chạy cùng")
    parser.add_argument("--drop", type=float, default=0, help="giây thứ mấy cắt mọi kết nối (websocket) qua proxy")
    parser.add_argument("--hold", type=float, default=0, help="giây thứ mấy proxy giữ kết nối mới (máy chủ không trả lời)")
    parser.add_argument("--hold-seconds", type=float, default=20)
    parser.add_argument("--restart", type=float, default=0, help="giây thứ mấy khởi động lại máy chủ")
    parser.add_argument("--expire", type=float, default=0, help="giây thứ mấy kết thúc mọi phiên đăng nhập")
    parser.add_argument("--together", type=int, default=3, help="số phiên mở cùng lúc")
    parser.add_argument("--reload", type=float, default=0, help="mỗi phiên tải lại trang sau ngần này giây (0: không)")
    parser.add_argument("--blank-after", type=float, default=3.0, help="trang không có stApp quá ngần này giây thì chụp")
    parser.add_argument("--check", action="store_true", help="mỗi lần bấm chờ kết quả hiện ra; lần không hiện thì ghi lại")
    parser.add_argument("--timeout", type=float, default=15, help="--check: giây chờ kết quả một lần bấm")
    parser.add_argument("--extra", nargs="*", default=[], help="tùy chọn thêm cho streamlit run")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Cần Chromium của Debian ở {CHROMIUM}.")
    with tempfile.TemporaryDirectory(prefix="cchc-trang-trang-") as folder:
        folder = Path(folder)
        data_dir = folder / "data"
        data_dir.mkdir()
        print(f"sinh dữ liệu: {args.sessions} cơ quan", flush=True)
        usernames = seed(data_dir, args.sessions)
        env = {**os.environ, "CCHC_DATA_DIR": str(data_dir), "CCHC_AUTH": "on", "CCHC_CLOSE_AT_DEADLINE": "off"}
        env.pop("DATABASE_URL", None)
        server = start_server("reconnect", PROJECT_ROOT / "server.py", env, args.extra, folder)
        SERVER_PID.append(server.process.pid)
        wait_until_up(server)
        port = int(server.url.rsplit(":", 1)[1])
        server_box = {"server": server, "env": env, "logs": folder}

        async def main_async():
            proxy = Proxy(port)
            proxy_port = await proxy.start()
            return await run(args, f"http://127.0.0.1:{proxy_port}", proxy, usernames, server_box, data_dir)

        try:
            result = asyncio.run(main_async())
        finally:
            server_box["server"].stop()
            log = "\n".join((folder / f"{name}.log").read_text(errors="replace") for name in ("reconnect", "reconnect-restarted")
                            if (folder / f"{name}.log").exists())
    result["server_log_tail"] = log[-6000:]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "trang-trang.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("sessions", "seconds", "load_average", "disturbances", "clicks", "shown",
                                             "click_errors", "blanks", "page_errors")}
                     | {"stale": {n: [{k: f[k] for k in ("at", "error", "page", "database", "page_10s_later")} for f in found]
                                  for n, found in result["stale"].items()}},
                     ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
