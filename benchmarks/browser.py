"""Speed as the room feels it: the served app in headless Chromium, against a bare Streamlit page in the same run.

    python -m benchmarks --browser           # A/B/C interleaved, page and area changes, 1/5/10 sessions (~5 min)
    python -m benchmarks --browser --quick   # a few repetitions of each, for checking the benchmark itself
    python -m benchmarks --browser --soak    # memory over ~2000 actions with runner.postScriptGC on and off
    python -m benchmarks.browser ...         # the same
    python -m benchmarks.browser --against /path/to/other/checkout --sessions ''   # that build in place of postScriptGC on:
                                              # two builds A/B interleaved in one run (e.g. a worktree of main)

Four servers run at once, each a `python -m streamlit run` process on a free local port: the app (server.py,
open mode, a scratch data folder seeded by benchmarks.generate.populate) with Streamlit's `runner.postScriptGC`
on, the same app with it off, a bare page (one st.radio, one st.metric showing the choice), and a page of
Chấm điểm's shape and size with nothing computed (TWIN_SCRIPT: the radio and its figure in a fragment, the rest
static), which says what Streamlit's frontend alone costs for a page that size. The measurements take turns
between them (interleaved), so a machine shared with other work slows them all alike.

A click is timed inside the page (performance.now()): the click is dispatched by script, a MutationObserver
watches the page, and the time is taken in the animation frame after the headline metric shows the new value
("visible"), then after the script run has ended and nothing is left to draw ("settled"). A wrapped WebSocket
records when the browser sent the rerun and when each server message arrived, so the time splits into the
browser's handling of the click, the server's answer, and drawing. The server's CPU time per click comes from
/proc/<pid>/stat (utime + stime), its memory from /proc/<pid>/status (VmRSS); the browser's main-thread work
from Chromium's Performance.getMetrics (TaskDuration).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.generate import department_names, populate
from benchmarks.report import machine, vn
from benchmarks.suite import SCORED_LEAF, open_scratch, scratch_data_dir
from scoring.defaults import PROJECT_ROOT

OUT = PROJECT_ROOT / "benchmarks" / "out"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 900}
BARE_SCRIPT = """import streamlit as st

choice = st.radio("Mức", ["Mức 1", "Mức 2", "Mức 3"], key="muc")
st.metric("Giá trị", choice)
"""
# A page of Chấm điểm's shape and size with nothing computed: a sidebar, the headline metrics, two closed panels,
# the area picker, ten one-button criteria and the open one as a fragment (its inputs, and the figure a change
# moves). Its fragment's rerun is what Streamlit's frontend costs for a page this size: the floor under the app.
TWIN_SCRIPT = """import streamlit as st

with st.sidebar:
    st.selectbox("Cơ quan", ["Sở Nội vụ", "Sở Tài chính"], key="co-quan")
    st.selectbox("Năm đánh giá", [2026, 2025], key="nam")
    st.caption("Hạn tự chấm 20/12/2026 (còn 18 ngày); sau hạn, bản tự chấm tự động chốt.")
    st.text_input("Người thực hiện", "Văn phòng", key="nguoi")
st.title("Chấm điểm Chỉ số CCHC")
with st.container(horizontal=True):
    for label, value in (("Điểm tự chấm", "58,25 / 100"), ("Chỉ số tự đánh giá", "58,25%"), ("Tiêu chí đã chấm", "47 / 47"),
                         ("Chỉ số sau thẩm định", "—")):
        st.metric(label, value)
st.expander("Chốt điểm tự chấm — chưa chốt")
st.expander("Lịch thẩm định, điểm thưởng/điểm trừ, công bố")
with st.container(horizontal=True):
    st.selectbox("Lĩnh vực", [f"{i}. Lĩnh vực {i}" for i in range(1, 8)], key="linh-vuc")
    st.segmented_control("Cách xem", ["Từng tiêu chí", "Bảng cả lĩnh vực"], default="Từng tiêu chí", key="cach-xem")
st.subheader("1. Công tác chỉ đạo, điều hành CCHC")
st.caption("4,75/13 điểm · đã chấm 11/11 tiêu chí")
st.toggle("Chỉ hiện tiêu chí chưa chấm", key="chua-cham")
st.markdown("#### 1.1 Kế hoạch CCHC năm · 1/5 điểm")


@st.fragment
def open_criterion():
    with st.container(border=True):
        head, points = st.columns([4, 1])
        head.markdown("**1.1.1** Ban hành kế hoạch CCHC năm")
        head.caption("Tối đa 1 điểm · Cách chấm: chọn một mức")
        left, middle, right = st.columns([3, 3, 2])
        with left:
            st.toggle("Không đánh giá (không áp dụng với cơ quan)", key="khong-ap-dung")
            choice = st.radio("Mức", ["Mức 1", "Mức 2", "Mức 3"], key="muc")
        points.metric("Giá trị", choice)
        with middle:
            st.text_area("Giải trình cách chấm", key="giai-trinh", height=90)
            st.multiselect("Tài liệu kiểm chứng đã gắn", [f"TL{i} · Kế hoạch số {i}/KH-UBND" for i in range(40)],
                           key="tai-lieu")
            st.caption("Tài liệu cần có: kế hoạch CCHC năm")
        with right:
            st.caption("Thẩm định: sau khi chốt điểm tự chấm.")


open_criterion()
for i in range(2, 12):
    st.button(f"**1.1.{i}** Tiêu chí {i} của lĩnh vực  \\n:small[Tối đa 1 điểm · Tự chấm: 0,5 điểm · 1 tài liệu]",
              key=f"mo-{i}", width="stretch")
with st.container(horizontal=True, horizontal_alignment="right"):
    st.button("Lĩnh vực 2 ▶", key="sau")
"""
REFERENCE_PAGES = ("bare", "twin")  # the servers of BARE_SCRIPT and TWIN_SCRIPT: timed beside the app, not the app
# Streamlit writes a widget's key into a class, dots turned to dashes: st-key-s-<assessment>-1-1-1-tier
SCORE_RADIO = f'div.stElementContainer[class*="st-key-s-"][class*="-{SCORED_LEAF.replace(".", "-")}-tier"]'
HEADLINE = "Điểm tự chấm"
BARE_RADIO = "div.st-key-muc"
BARE_METRIC = "Giá trị"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
PAUSE = 0.15  # seconds between two timed actions, after the previous one settled
# How long the app servers keep a closed browser's session (Streamlit's default 120 s), short so that the memory a
# session held is seen returned within the run
SESSION_TTL = 10

# The page side. `__benchTime` does one action and resolves with the times (ms after the action) at which the
# change became visible and the page settled, and when WebSocket messages went out and came in.
PAGE_SCRIPT = r"""
(() => {
  const Native = window.WebSocket;
  const log = {sent: [], received: []};
  window.__benchSockets = log;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => log.received.push(performance.now()));
    }
    send(data) { log.sent.push(performance.now()); return super.send(data); }
  };
  const state = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app ? app.getAttribute('data-test-script-state') : null;
  };
  // textContent, not innerText: these run in the MutationObserver after each of React's commits, and innerText
  // would force a style and layout pass each time, work the page alone would do once per frame
  const metric = (label) => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const name = m.querySelector('[data-testid="stMetricLabel"]');
      if (name && name.textContent.trim() === label) {
        const value = m.querySelector('[data-testid="stMetricValue"]');
        return value ? value.textContent.trim() : null;
      }
    }
    return null;
  };
  const heading = (tag) => [...document.querySelectorAll(tag)].map(h => h.textContent.trim());
  window.__benchState = state;
  window.__benchMetric = metric;
  window.__benchTime = (spec) => new Promise((resolve, reject) => {
    let act, visible, detail = {}, after = () => ({});  // after: what the page holds once settled
    if (spec.kind === 'radio') {
      const root = document.querySelector(spec.radio);
      if (!root) return reject(new Error('no radio ' + spec.radio));
      const inputs = [...root.querySelectorAll('input[type="radio"]')];
      const labels = [...root.querySelectorAll('label')];
      const next = (inputs.findIndex(i => i.checked) + 1) % inputs.length;
      const before = metric(spec.metric);
      detail = {before, option: labels[next].innerText.trim()};
      act = () => inputs[next].click();
      visible = () => { const now = metric(spec.metric); return now !== null && now !== before; };
    } else if (spec.kind === 'nav') {
      const link = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
        .find(a => a.innerText.includes(spec.title));  // the text follows the icon's ligature
      if (!link) return reject(new Error('no menu entry ' + spec.title));
      act = () => link.click();
      visible = () => heading('h1').some(h => h.includes(spec.title));
    } else if (spec.kind === 'option') {  // a selectbox already opened: the option after the chosen one
      const options = [...document.querySelectorAll('[role="option"]')];
      if (!options.length) return reject(new Error('no open selectbox'));
      const chosen = options.findIndex(o => o.getAttribute('aria-selected') === 'true');
      const option = options[(chosen + 1) % options.length];
      const code = option.innerText.trim().split('.')[0];
      detail = {option: option.innerText.trim()};
      act = () => option.click();
      visible = () => heading('h3').some(h => h.startsWith(code + '.'));
    } else if (spec.kind === 'tab') {  // one of st.tabs: until `spec.shows` (a CSS selector) is on screen, not stale
      const tab = [...document.querySelectorAll('[role="tab"]')].find(t => t.textContent.trim() === spec.tab);
      if (!tab) return reject(new Error('no tab ' + spec.tab));
      act = () => tab.click();
      visible = () => [...document.querySelectorAll(spec.shows)].some(e => !e.closest('[data-stale="true"]'));
      after = () => ({grids: document.querySelectorAll('[data-testid="stDataFrame"]').length,
                      elements: document.querySelectorAll('[data-testid="stMain"] *').length});
    } else {
      return reject(new Error('unknown action ' + spec.kind));
    }
    log.sent.length = 0;
    log.received.length = 0;
    let started, shown = null, ran = false, finished = false;
    // the change being visible means the server has answered; a quick run may never show "running" at all
    // (React renders running → notRunning in one go), so the state alone cannot say the run began
    const settledNow = () => state() === 'notRunning' && !document.querySelector('[data-testid="stSkeleton"]')
      && !document.querySelector('[data-stale="true"]');
    const check = () => {
      if (finished) return;
      if (state() !== 'notRunning') ran = true;
      if (shown === null && visible()) {
        shown = -1;
        requestAnimationFrame(() => { shown = performance.now() - started; check(); });
      }
      if (shown !== null && shown >= 0 && settledNow()) {
        finished = true;
        observer.disconnect();
        requestAnimationFrame(() => {
          const settled = performance.now() - started;
          clearTimeout(timer);
          resolve({...detail, ...after(), visible: shown, settled,
                   sent: log.sent.map(t => t - started), received: log.received.map(t => t - started)});
        });
      }
    };
    // a quick run may go running → notRunning between two callbacks: any change of the attribute means it ran
    const observer = new MutationObserver((records) => {
      if (records.some(r => r.attributeName === 'data-test-script-state')) ran = true;
      check();
    });
    observer.observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                               attributes: true, attributeFilter: ['data-test-script-state', 'data-stale']});
    const timer = setTimeout(() => { finished = true; observer.disconnect();
      reject(new Error(`no change after ${spec.timeout} ms (${spec.kind}; visible=${shown}, ran=${ran}, state=${state()})`)); },
      spec.timeout);
    started = performance.now();
    act();
    check();
  });
})();
"""


# ---------------------------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # utime, stime (fields 14 and 15 of stat)

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(name: str, script: Path, env: dict[str, str], extra: list[str], logs: Path,
                 root: Path = PROJECT_ROOT) -> Server:
    """`python -m streamlit run script` on a free port, from the project folder `root` (so it reads its
    .streamlit/config.toml and imports its code: --against runs another checkout's)."""
    port = _free_port()
    log = logs / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra],
        cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    return Server(name, process, f"http://127.0.0.1:{port}", log)


def wait_until_up(server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"máy chủ «{server.name}» không khởi động được:\n{server.log.read_text(errors='replace')[-3000:]}")


def app_env(folder: Path) -> dict[str, str]:
    env = {**os.environ, "CCHC_DATA_DIR": str(folder), "CCHC_AUTH": "off"}
    env.pop("DATABASE_URL", None)
    return env


# ---------------------------------------------------------------------------------------------- the page side


async def settled(page, timeout: float = 90_000) -> None:
    await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    await page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout)


async def open_page(context, url: str, *, scoring: bool, department: str | None = None):
    page = await context.new_page()
    await page.add_init_script(PAGE_SCRIPT)
    await page.goto(url)
    await page.wait_for_selector("h1" if scoring else BARE_RADIO, timeout=120_000)
    await settled(page)
    if department is not None:
        # Each session on its own department: a choice that did not take (a click lost on a busy machine) would put
        # two sessions on one department, and the second save of a criterion is then rightly refused as a
        # conflict — the error boxes of the 10-session runs. So the choice is checked, and tried again.
        selector = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Cơ quan")
        for _attempt in range(3):
            await choose(page, selector, department)
            if department in await _selected(selector):
                break
        else:
            raise RuntimeError(f"không chọn được cơ quan «{department}»")
    if scoring:
        await page.locator('[data-testid="stSidebarNav"]').get_by_text("Chấm điểm", exact=True).click()
        await page.wait_for_selector(SCORE_RADIO, timeout=120_000)
        await settled(page)
    return page


async def _selected(selectbox) -> str:
    """What a selectbox shows as chosen (its text, or the value of its search field)."""
    field = selectbox.locator("input")
    return (await selectbox.inner_text()) + " " + ((await field.first.input_value()) if await field.count() else "")


async def choose(page, selectbox, label: str) -> None:
    await selectbox.click()
    await page.get_by_role("option", name=label, exact=True).click()
    await page.wait_for_timeout(300)
    await settled(page)


# What the browser holds for a page: Streamlit's elements (one stElementContainer each, widgets included), its
# layout blocks (containers, columns, expanders' bodies) and every DOM node. React's work per run grows with them.
PAGE_SIZE_SCRIPT = """() => ({
  elements: document.querySelectorAll('[data-testid="stMain"] [data-testid="stElementContainer"]').length,
  blocks: document.querySelectorAll('[data-testid="stMain"] [data-testid="stVerticalBlock"], '
    + '[data-testid="stMain"] [data-testid="stHorizontalBlock"], [data-testid="stMain"] [data-testid="stColumn"]').length,
  dom_nodes: document.querySelectorAll('*').length,
})"""


async def page_size(page) -> dict[str, int]:
    return await page.evaluate(PAGE_SIZE_SCRIPT)


async def browser_work(cdp) -> float:
    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "TaskDuration")


@dataclass
class Sample:
    visible: float  # ms
    settled: float
    first_sent: float | None
    last_received: float | None  # the last server message before the change was visible
    cpu_ms: float  # server CPU over the action and the pause after it
    browser_ms: float  # Chromium main-thread task time over the action


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[float]:
        return [getattr(s, name) for s in self.samples if getattr(s, name) is not None]


class Target:
    """One page in one browser context, on one server, with the action it times."""

    def __init__(self, server: Server, page, cdp, spec: dict):
        self.server, self.page, self.cdp, self.spec = server, page, cdp, spec

    async def time_once(self, series: Series, *, pause: float = PAUSE, before=None) -> Sample | None:
        try:
            if before is not None:
                await before(self.page)
            cpu, work = self.server.cpu_seconds(), await browser_work(self.cdp)
            result = await self.page.evaluate("spec => window.__benchTime(spec)", {"timeout": 30_000, **self.spec})
            await asyncio.sleep(pause)  # what the server still does after the run (a collection, cleanup) counts
            cpu, work = self.server.cpu_seconds() - cpu, await browser_work(self.cdp) - work
        except Exception as problem:  # noqa: BLE001 - counted and reported, never hidden
            series.errors.append(f"{type(problem).__name__}: {str(problem).splitlines()[0][:160]}")
            await asyncio.sleep(pause)
            return None
        shown_errors = self.page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
        if await shown_errors.count():
            series.errors.append("trang báo lỗi: " + (await shown_errors.first.inner_text())[:200])
        visible = result["visible"]
        sent = result["sent"]
        received = [t for t in result["received"] if t <= visible]
        sample = Sample(visible, result["settled"], sent[0] if sent else None, received[-1] if received else None,
                        cpu * 1000, work * 1000)
        series.samples.append(sample)
        return sample


async def new_target(browser, server: Server, *, scoring: bool, department: str | None = None) -> Target:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await open_page(context, server.url, scoring=scoring, department=department)
    cdp = await context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    spec = ({"kind": "radio", "radio": SCORE_RADIO, "metric": HEADLINE} if scoring
            else {"kind": "radio", "radio": BARE_RADIO, "metric": BARE_METRIC})
    return Target(server, page, cdp, spec)


# ---------------------------------------------------------------------------------------------- measurements


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(values), "median": statistics.median(values), "p95": p95, "mean": statistics.fmean(values),
            "min": ordered[0], "max": ordered[-1]}


def series_dict(series: Series) -> dict:
    return {name: summary(series.values(name)) for name in
            ("visible", "settled", "first_sent", "last_received", "cpu_ms", "browser_ms")} | {"errors": series.errors}


async def interleaved_clicks(targets: dict[str, Target], repetitions: int, log) -> dict[str, Series]:
    """Each repetition clicks once on every target, the order turning round so no target always goes first."""
    names = list(targets)
    for name in names:  # warm-up: the first clicks compile and fill caches
        for _ in range(2):
            await targets[name].time_once(Series())
    results = {name: Series() for name in names}
    for rep in range(repetitions):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            await targets[name].time_once(results[name])
        if (rep + 1) % 10 == 0:
            log(f"  đổi điểm: {rep + 1}/{repetitions}")
    return results


async def page_and_area_changes(targets: dict[str, Target], repetitions: int, log) -> dict[str, dict[str, Series]]:
    """Per app server: menu Chấm điểm → Tổng quan, Tổng quan → Chấm điểm, and the Lĩnh vực selector on Chấm điểm."""
    results = {name: {"to_overview": Series(), "to_scoring": Series(), "area": Series()} for name in targets}
    names = list(targets)

    async def open_area_list(page) -> None:
        await page.locator('[data-testid="stSelectbox"]').filter(has_text="Lĩnh vực").click()
        await page.wait_for_selector('[role="option"]', timeout=30_000)

    for rep in range(repetitions + 1):  # the first round warms up
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            target = targets[name]
            into = results[name] if rep else {k: Series() for k in results[name]}
            for key, title in (("to_overview", "Tổng quan"), ("to_scoring", "Chấm điểm")):
                spec = target.spec
                target.spec = {"kind": "nav", "title": title}
                try:
                    await target.time_once(into[key])
                finally:
                    target.spec = spec
            spec = target.spec
            target.spec = {"kind": "option"}
            try:
                await target.time_once(into["area"], before=open_area_list)
            finally:
                target.spec = spec
        if rep and rep % 5 == 0:
            log(f"  đổi trang, đổi lĩnh vực: {rep}/{repetitions}")
    return results


# Opened by address (a bookmark, F5): a new browser context each time, so a new Streamlit session and nothing cached
# by the page before; the times are the new document's performance.now(), i.e. from the start of the navigation.
LOADED_PAGES = (("Chấm điểm", "cham-diem"), ("Tổng quan", "tong-quan"))
TITLE_SHOWN = "title => [...document.querySelectorAll('h1')].some(h => h.textContent.includes(title))"


async def page_loads(browser, servers: dict[str, Server], repetitions: int, log) -> dict[str, dict[str, Series]]:
    """Per app server and page: the page opened by its address in a new context, to its title shown ("visible")
    and to settled; the servers take turns (interleaved), each load after the previous one closed."""
    results = {name: {path: Series() for _title, path in LOADED_PAGES} for name in servers}
    names = list(servers)
    for rep in range(repetitions + 1):  # the first round warms up (each page's first session in the process)
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            for title, path in LOADED_PAGES:
                series = results[name][path] if rep else Series()
                context = await browser.new_context(viewport=VIEWPORT)
                try:
                    page = await context.new_page()
                    cpu = servers[name].cpu_seconds()
                    await page.goto(f"{servers[name].url}/{path}")
                    await page.wait_for_function(TITLE_SHOWN, arg=title, polling="raf", timeout=60_000)
                    shown = await page.evaluate("performance.now()")
                    await settled(page, timeout=60_000)
                    done = await page.evaluate("performance.now()")
                    await asyncio.sleep(PAUSE)
                    series.samples.append(Sample(shown, done, None, None, (servers[name].cpu_seconds() - cpu) * 1000, 0.0))
                except Exception as problem:  # noqa: BLE001 - counted and reported, never hidden
                    series.errors.append(f"{type(problem).__name__}: {str(problem).splitlines()[0][:160]}")
                finally:
                    await context.close()
        if rep and rep % 5 == 0:
            log(f"  mở trang bằng địa chỉ: {rep}/{repetitions}")
    return results


async def open_sessions(browser, server: Server, departments: list[str], errors: list[str]) -> list[Target]:
    """One session per department, each on that department's Chấm điểm, chosen in the sidebar and checked. Every
    session chooses, the first too: the app opens on its first department by name, which need not be the first
    of the list, and two sessions on one department are rightly told of each other's saves (a conflict)."""
    targets = []
    for i, department in enumerate(departments):  # one at a time: ten page loads at once on two busy cores time out
        try:
            targets.append(await new_target(browser, server, scoring=True, department=department))
        except Exception as problem:  # noqa: BLE001 - a session that cannot open is an error, reported
            errors.append(f"không mở được phiên {i + 1}: {type(problem).__name__}: {str(problem).splitlines()[0][:120]}")
    return targets


async def once_a_second(index: int, count: int, stop_at: float, act) -> None:
    """What one of `count` people does at once: `act()` about once a second until `stop_at` (time.monotonic()), the
    `index`-th person starting `index / count` s in, so the people are spread over the second."""
    await asyncio.sleep(index / max(1, count))
    while time.monotonic() < stop_at:
        began = time.monotonic()
        await act()
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))


async def concurrent_sessions(browser, server: Server, sessions: int, seconds: float, departments: list[str]) -> dict:
    """`sessions` browser contexts, each on its own department's Chấm điểm, each changing a score about once a
    second for `seconds`: click-to-visible times, errors, the server's CPU share and memory."""
    series = Series()
    rss_idle = server.rss_bytes()  # before these sessions open
    targets = await open_sessions(browser, server, departments[:sessions], series.errors)
    rss_before, cpu_before, started = server.rss_bytes(), server.cpu_seconds(), time.monotonic()
    stop_at = started + seconds

    await asyncio.gather(*(once_a_second(i, sessions, stop_at, lambda t=t: t.time_once(series, pause=0))
                           for i, t in enumerate(targets)))
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    result = {"sessions": sessions, "opened": len(targets), "seconds": elapsed, "clicks": len(series.samples),
              "visible": summary(series.values("visible")), "settled": summary(series.values("settled")),
              "errors": series.errors, "server_cpu_share": cpu / elapsed, "rss_before": rss_before,
              "rss_after": server.rss_bytes(), "rss_idle": rss_idle}
    for target in targets:
        await target.page.context.close()
    # Streamlit keeps a closed browser's session for server.disconnectedSessionTTL (SESSION_TTL here), then drops it
    await asyncio.sleep(SESSION_TTL + 8)
    result["rss_closed"] = server.rss_bytes()
    return result


async def soak(browser, servers: list[Server], actions: int, sessions: int, max_seconds: float, log,
               departments: list[str]) -> dict:
    """Per server, `sessions` sessions (each on its own department: two people changing one criterion at once are
    told of the conflict, which is right but is not what this measures) take turns at score changes, with a trip to Tổng quan and back every tenth
    action and a new browser context (a new Streamlit session) every 150 actions; the servers' RSS is sampled."""
    samples: list[dict] = []
    done = {s.name: 0 for s in servers}
    errors = {s.name: [] for s in servers}
    started = time.monotonic()
    finished = asyncio.Event()

    async def sampler() -> None:
        while not finished.is_set():
            samples.append({"t": time.monotonic() - started, "actions": dict(done),
                            **{s.name: s.rss_bytes() for s in servers}})
            try:
                await asyncio.wait_for(finished.wait(), timeout=2)
            except TimeoutError:
                pass

    async def worker(server: Server, index: int) -> None:
        series = Series()
        department = departments[index]  # chosen by every session (see open_sessions)
        target = await new_target(browser, server, scoring=True, department=department)
        count = 0
        while done[server.name] < actions and time.monotonic() - started < max_seconds:
            count += 1
            if count % 150 == 0:
                await target.page.context.close()
                target = await new_target(browser, server, scoring=True, department=department)
            if count % 10 == 0:
                for title in ("Tổng quan", "Chấm điểm"):
                    spec, target.spec = target.spec, {"kind": "nav", "title": title}
                    try:
                        await target.time_once(series, pause=0)
                    finally:
                        target.spec = spec
                done[server.name] += 2
            await target.time_once(series, pause=0)
            done[server.name] += 1
            if done[server.name] % 250 < 1:
                log(f"  {server.name}: {done[server.name]} thao tác")
        errors[server.name] = series.errors
        await target.page.context.close()

    sampling = asyncio.create_task(sampler())
    await asyncio.gather(*(worker(s, i) for s in servers for i in range(sessions)))
    finished.set()
    await sampling
    samples.append({"t": time.monotonic() - started, "actions": dict(done), **{s.name: s.rss_bytes() for s in servers}})
    return {"samples": samples, "actions": done, "errors": errors, "seconds": time.monotonic() - started}


# ---------------------------------------------------------------------------------------------- report


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{vn(value, 0)} ms" if value >= 10 else f"{vn(value, 1)} ms"


def mb(count: int) -> str:
    return f"{vn(count / 1024 / 1024, 0)} MB"


LABELS = {"gc_on": "Ứng dụng, `postScriptGC = true`", "gc_off": "Ứng dụng, `postScriptGC = false`",
          "before": "Bản trước (`--against`), `postScriptGC = false`", "bare": "Trang trống (1 radio + 1 metric)",
          "twin": "Trang mẫu cùng cỡ, không dữ liệu (radio trong fragment)"}
SHORT = {"gc_on": "`postScriptGC = true`", "gc_off": "`postScriptGC = false`", "before": "bản trước (`--against`)",
         "bare": "trang trống", "twin": "trang mẫu"}


def render_page_size(sizes: dict[str, dict]) -> list[str]:
    lines = ["| Trang khi đo đổi điểm (Chấm điểm, lĩnh vực 1) | Phần tử Streamlit | Khối bố cục | Nút DOM cả trang |",
             "|---|---|---|---|"]
    for name, size in sizes.items():
        lines.append(f"| {LABELS[name]} | {size['elements']} | {size['blocks']} | {vn(size['dom_nodes'], 0)} |")
    return lines


def render_clicks(clicks: dict[str, dict], bare_gc: str) -> list[str]:
    lines = [
        "| Đổi một điểm (bấm → hiện) | Trung vị | p95 | Xong hẳn (trung vị) | Trình duyệt gửi | Tin cuối từ máy chủ | "
        "CPU máy chủ / lần bấm | CPU trình duyệt / lần bấm | Lỗi |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, data in clicks.items():
        visible, settled_, sent, received = data["visible"], data["settled"], data["first_sent"], data["last_received"]
        label = LABELS[name] + (f" (`postScriptGC = {bare_gc}`)" if name in REFERENCE_PAGES else "")
        lines.append(f"| {label} | {ms(visible.get('median'))} | {ms(visible.get('p95'))} | "
                     f"{ms(settled_.get('median'))} | {ms(sent.get('median'))} | {ms(received.get('median'))} | "
                     f"{ms(data['cpu_ms'].get('mean'))} | {ms(data['browser_ms'].get('mean'))} | {len(data['errors'])} |")
    bare = clicks.get("bare", {}).get("visible", {}).get("median")
    for name in ("gc_on", "before", "gc_off", "twin"):
        page = clicks.get(name, {}).get("visible", {}).get("median")
        if page and bare:
            lines.append(f"| … {LABELS[name]} so với trang trống | {vn(page / bare, 2)} × | | | | | | | |")
    return lines


def render_changes(changes: dict[str, dict]) -> list[str]:
    lines = ["| Đổi trang, đổi lĩnh vực (bấm → xong hẳn) | Trung vị | p95 | Hiện (trung vị) | CPU máy chủ / lần | Lỗi |",
             "|---|---|---|---|---|---|"]
    names = {"to_scoring": "Tổng quan → **Chấm điểm** (menu)", "to_overview": "Chấm điểm → **Tổng quan** (menu)",
             "area": "Đổi **Lĩnh vực** trên Chấm điểm"}
    for key, text in names.items():
        for server, data in changes.items():
            row = data[key]
            lines.append(f"| {text}, {SHORT[server]} | {ms(row['settled'].get('median'))} | "
                         f"{ms(row['settled'].get('p95'))} | {ms(row['visible'].get('median'))} | "
                         f"{ms(row['cpu_ms'].get('mean'))} | {len(row['errors'])} |")
    return lines


def render_loads(loads: dict[str, dict]) -> list[str]:
    lines = ["| Mở trang bằng địa chỉ (ngữ cảnh trình duyệt mới, phiên mới) | Đến tiêu đề: trung vị (p95) | Xong hẳn: trung vị (p95) "
             "| CPU máy chủ / lần | Lỗi |", "|---|---|---|---|---|"]
    for title, path in LOADED_PAGES:
        for server, data in loads.items():
            row = data[path]
            lines.append(f"| **{title}** (`/{path}`), {SHORT[server]} | {ms(row['visible'].get('median'))} ({ms(row['visible'].get('p95'))}) "
                         f"| {ms(row['settled'].get('median'))} ({ms(row['settled'].get('p95'))}) | {ms(row['cpu_ms'].get('mean'))} "
                         f"| {len(row['errors'])} |")
    return lines


def render_concurrency(levels: dict[str, list[dict]]) -> list[str]:
    lines = ["| Phiên cùng lúc (mỗi phiên đổi điểm ~1 lần/giây) | Số lần bấm | Trung vị | p95 | CPU máy chủ | "
             "RSS trước khi mở → khi mở | Mỗi phiên | RSS sau khi đóng | Lỗi |",
             "|---|---|---|---|---|---|---|---|---|"]
    for server, rows in levels.items():
        for row in rows:
            opened = row.get("opened", row["sessions"])
            lines.append(f"| {row['sessions']} phiên{'' if opened == row['sessions'] else f' ({opened} mở được)'}, {SHORT[server]} | {row['clicks']} | "
                         f"{ms(row['visible'].get('median'))} | {ms(row['visible'].get('p95'))} | "
                         f"{vn(row['server_cpu_share'] * 100, 0)} % một lõi | {mb(row['rss_idle'])} → {mb(row['rss_after'])} | "
                         f"{vn((row['rss_after'] - row['rss_idle']) / max(1, opened) / 1024 / 1024, 1)} MB | "
                         f"{mb(row['rss_closed'])} | {len(row['errors'])} |")
    return lines


def render_soak(data: dict, names: list[str]) -> list[str]:
    samples = data["samples"]
    lines = ["| RSS máy chủ trong lúc chạy dài | " + " | ".join(SHORT[n] for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        sample = samples[min(len(samples) - 1, round(fraction * (len(samples) - 1)))]
        counts = " / ".join(str(sample["actions"][n]) for n in names)
        lines.append(f"| sau {vn(sample['t'], 0)} s ({counts} thao tác) | " + " | ".join(mb(sample[n]) for n in names) + " |")
    lines.append("| cao nhất | " + " | ".join(mb(max(s[n] for s in samples)) for n in names) + " |")
    return lines


# ---------------------------------------------------------------------------------------------- main


def project_post_script_gc() -> str:
    """What .streamlit/config.toml sets (the bare page runs with it); Streamlit's default is true."""
    import tomllib

    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    return "true" if config.get("runner", {}).get("postScriptGC", True) else "false"


async def run(args, log) -> dict:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Cần Chromium của Debian ở {CHROMIUM} (apt-get install chromium).")
    concurrency = [int(n) for n in args.sessions.split(",") if n.strip()] if not args.soak else []
    departments = department_names(max(concurrency + [args.soak_sessions if args.soak else 1]))
    result: dict = {"machine": machine(), "quick": args.quick, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "load_before": os.getloadavg()}
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cchc-bench-browser-")))
        folders = {}
        apps = ("before", "gc_off") if args.against else ("gc_on", "gc_off")
        for name in apps:
            folder = stack.enter_context(scratch_data_dir())
            db = open_scratch(folder)
            populate(db, departments=len(departments), years=1)
            db.dispose()
            folders[name] = folder
        bare_script, twin_script = logs / "trang_tron.py", logs / "trang_mau.py"
        bare_script.write_text(BARE_SCRIPT, encoding="utf-8")
        twin_script.write_text(TWIN_SCRIPT, encoding="utf-8")
        log(f"đã sinh dữ liệu ({len(departments)} cơ quan × 1 năm); khởi động máy chủ")
        servers = {"gc_off": start_server("gc_off", PROJECT_ROOT / "server.py", app_env(folders["gc_off"]),
                                          ["--runner.postScriptGC", "false", "--server.disconnectedSessionTTL", str(SESSION_TTL)], logs)}
        if args.against:  # another checkout of the app (the build before a change), in the same conditions
            against = Path(args.against).resolve()
            result["against"] = subprocess.run(["git", "-C", str(against), "log", "-1", "--format=%h %s"],
                                               capture_output=True, text=True).stdout.strip() or str(against)
            servers = {"before": start_server("before", against / "server.py", app_env(folders["before"]),
                                              ["--runner.postScriptGC", "false", "--server.disconnectedSessionTTL", str(SESSION_TTL)],
                                              logs, root=against), **servers}
        else:
            servers = {"gc_on": start_server("gc_on", PROJECT_ROOT / "server.py", app_env(folders["gc_on"]),
                                             ["--runner.postScriptGC", "true", "--server.disconnectedSessionTTL", str(SESSION_TTL)], logs),
                       **servers}
        if not args.soak:
            servers["bare"] = start_server("bare", bare_script, {**os.environ}, [], logs)
            servers["twin"] = start_server("twin", twin_script, {**os.environ}, [], logs)
        for server in servers.values():
            stack.callback(server.stop)
        for server in servers.values():
            wait_until_up(server)
        result["bare_post_script_gc"] = project_post_script_gc()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                if args.soak:
                    actions = 200 if args.quick else args.soak_actions
                    log(f"chạy dài: {actions} thao tác mỗi máy chủ, {args.soak_sessions} phiên mỗi máy chủ")
                    result["soak"] = await soak(browser, list(servers.values()), actions, args.soak_sessions,
                                                60 if args.quick else args.soak_seconds, log, departments)
                    result["rss_after_soak"] = {n: s.rss_bytes() for n, s in servers.items()}
                else:
                    repetitions = 8 if args.quick else args.repetitions
                    targets = {name: await new_target(browser, server, scoring=name not in REFERENCE_PAGES)
                               for name, server in servers.items()}
                    result["page_size"] = {name: await page_size(t.page) for name, t in targets.items()}
                    log(f"đổi điểm: {repetitions} lần mỗi trang, xen kẽ")
                    clicks = await interleaved_clicks(targets, repetitions, log)
                    result["clicks"] = {name: series_dict(s) for name, s in clicks.items()}
                    apps = {name: t for name, t in targets.items() if name not in REFERENCE_PAGES}
                    changes = await page_and_area_changes(apps, max(3, repetitions // 3), log)
                    result["changes"] = {n: {k: series_dict(s) for k, s in v.items()} for n, v in changes.items()}
                    log("mở trang bằng địa chỉ")
                    loads = await page_loads(browser, {name: servers[name] for name in apps}, max(3, repetitions // 4), log)
                    result["loads"] = {n: {k: series_dict(s) for k, s in v.items()} for n, v in loads.items()}
                    for target in targets.values():
                        await target.page.context.close()
                    seconds = 6 if args.quick else args.seconds
                    result["concurrency"] = {name: [] for name in apps}
                    for sessions in concurrency:
                        for name in apps:
                            log(f"{sessions} phiên cùng lúc, {name}: {seconds} s")
                            result["concurrency"][name].append(
                                await concurrent_sessions(browser, servers[name], sessions, seconds, departments))
                    result["rss"] = {n: s.rss_bytes() for n, s in servers.items()}
            finally:
                await browser.close()
    return result


def render(result: dict) -> str:
    lines = [f"Đo bằng Chromium không giao diện (Playwright), {result['machine']}; bắt đầu {result['started']}."]
    if "against" in result:
        lines.append(f"Bản trước (`--against`): {result['against']}.")
    if "clicks" in result:
        if "page_size" in result:
            lines += ["", *render_page_size(result["page_size"])]
        lines += ["", *render_clicks(result["clicks"], result["bare_post_script_gc"])]
        lines += ["", *render_changes(result["changes"])]
        if "loads" in result:
            lines += ["", *render_loads(result["loads"])]
        if any(result["concurrency"].values()):
            lines += ["", *render_concurrency(result["concurrency"])]
            shown = [f"{SHORT[n]}, {row['sessions']} phiên: {error}" for n, rows in result["concurrency"].items()
                     for row in rows for error in sorted(set(row["errors"]))]
            if shown:
                lines += ["", "Lỗi gặp khi nhiều phiên cùng lúc (mỗi loại một lần):", *(f"- {e}" for e in shown)]
        lines += ["", "RSS máy chủ cuối lần đo: " + ", ".join(f"{LABELS[n]} {mb(v)}" for n, v in result["rss"].items()) + "."]
    if "soak" in result:
        names = list(result["soak"]["actions"])
        lines += ["", *render_soak(result["soak"], names)]
        lines.append("")
        lines.append("Lỗi: " + ", ".join(f"{LABELS[n]} {len(e)}" for n, e in result["soak"]["errors"].items()) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser", description="Đo tốc độ trong trình duyệt.")
    parser.add_argument("--quick", action="store_true", help="ít lần đo, để kiểm tra chính bộ đo")
    parser.add_argument("--repetitions", type=int, default=40, help="số lần đổi điểm trên mỗi trang (mặc định 40)")
    parser.add_argument("--sessions", default="1,5,10", help="số phiên cùng lúc, cách nhau bởi dấu phẩy; rỗng: bỏ qua")
    parser.add_argument("--seconds", type=float, default=15, help="thời gian mỗi mức phiên cùng lúc (giây)")
    parser.add_argument("--against", metavar="THƯ_MỤC", help="đo xen kẽ với ứng dụng ở một bản lấy mã khác (ví dụ git worktree "
                        "của bản trước thay đổi), thay cho máy chủ `postScriptGC = true`")
    parser.add_argument("--soak", action="store_true", help="thay vào đó: chạy dài, lấy mẫu bộ nhớ máy chủ")
    parser.add_argument("--soak-actions", type=int, default=2000, help="số thao tác mỗi máy chủ khi chạy dài")
    parser.add_argument("--soak-sessions", type=int, default=3, help="số phiên mỗi máy chủ khi chạy dài")
    parser.add_argument("--soak-seconds", type=float, default=300, help="giới hạn thời gian chạy dài (giây)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    result = asyncio.run(run(args, log))
    result["seconds"] = time.perf_counter() - started
    result["load_after"] = os.getloadavg()
    load = " → ".join(vn(result[k][0], 1) for k in ("load_before", "load_after"))
    text = render(result) + f"\n\nCả lần đo: {vn(result['seconds'] / 60, 1)} phút; tải trung bình 1 phút lúc đầu → lúc cuối: {load}."
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    name = "trinh-duyet-chay-dai" if args.soak else "trinh-duyet"
    (OUT / f"{name}{'-nhanh' if args.quick else ''}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    (OUT / f"{name}{'-nhanh' if args.quick else ''}.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
