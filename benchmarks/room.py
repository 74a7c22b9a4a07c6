"""A room scoring at once, as one person in it feels it: that person's page in Chromium, the others as peers.

    python -m benchmarks.room                            # rooms of 1, 5, 10 and 20 people, 60 s each (~6 min)
    python -m benchmarks.room --people 10 --seconds 30   # one room size
    python -m benchmarks.room --quick                    # a few seconds of 1 and 3 people, to check the benchmark

Why not ten Chromium pages: on the measuring machine's 2 cores, each page spends 130–160 ms of CPU drawing each
click (benchmarks.browser), so ten of them saturate the machine by themselves and the figure says more about the
measuring machine than about the server. In a room each person's browser runs on that person's computer; what
they share is the server. So one person is a real page in headless Chromium, timed in the page exactly as
benchmarks.browser times it (from the click to the frame in which the headline «Điểm tự chấm» shows the new
value), and everyone else is a `benchmarks.peer.Peer`: the same WebSocket messages a page sends for the same
click, and the same 3-second follow tick, without the drawing. Each person works on a department of their own
(two people on one criterion are rightly told of each other's saves, which is not what this measures) and
changes a score about once a second.

Reported per room size: the timed person's click → visible (median, p95), how long the server took to answer
the others (from the click's message to the end of the run that drew the new headline), every error (an error
box or exception a run drew, a click with no answer after 30 s), the server's CPU share and memory before the
room, with the room open, and after it closed. The server is the app as served (server.py, the project's
.streamlit/config.toml), open mode, SQLite, one process: the embedded default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HEADLINE,
    OUT,
    SESSION_TTL,
    Series,
    app_env,
    mb,
    ms,
    new_target,
    once_a_second,
    start_server,
    summary,
    wait_until_up,
)
from benchmarks.generate import populate
from benchmarks.peer import Peer, Widget, open_page
from benchmarks.report import machine, vn
from benchmarks.suite import SCORED_LEAF, open_scratch, scratch_data_dir
from scoring.defaults import PROJECT_ROOT
from scoring.store import department_store

SCORING_PAGE = "cham-diem"  # Chấm điểm's address
TIER_RADIO = f"-{SCORED_LEAF}-tier"  # the level radio of the criterion Chấm điểm opens first (its key ends so)


async def open_peer(url: str, query_string: str = "", *, cookie: str | None = None) -> tuple[Peer, Widget]:
    """A peer on Chấm điểm and the level radio of the criterion it opens first. `query_string`: the department and
    year a link from Các cơ quan names (?co-quan=…&nam=…); `cookie`: a signed-in browser's."""
    peer, _answer = await open_page(url, SCORING_PAGE, query_string, cookie=cookie)
    return peer, peer.widget(kind="radio", id_ends_with=TIER_RADIO)


async def room(browser, server, people: int, seconds: float, departments: list[tuple[int, str]], year: int, log) -> dict:
    """`people` people on their own departments' Chấm điểm, each changing a score about once a second for
    `seconds`: the first in Chromium, timed in the page; the others as peers."""
    errors: list[str] = []
    rss_idle = server.rss_bytes()
    peers = []
    for department_id, _name in departments[1:people]:  # one at a time, as people come into a room
        try:
            peers.append(await open_peer(server.url, f"co-quan={department_id}&nam={year}"))
        except Exception as problem:  # noqa: BLE001 - a person who cannot start is an error, reported
            errors.append(f"không mở được phiên: {type(problem).__name__}: {str(problem)[:160]}")
    target = await new_target(browser, server, scoring=True, department=departments[0][1])
    series = Series()
    answers: list[float] = []
    rss_open, cpu_before, started = server.rss_bytes(), server.cpu_seconds(), time.monotonic()
    stop_at = started + seconds

    def peer_click(peer: Peer, radio):
        async def act() -> None:
            answer = await peer.choose_next(radio, watch=HEADLINE)
            if answer.seconds is None:
                errors.append(f"người khác: {answer.status}")
            else:
                answers.append(answer.seconds * 1000)
            errors.extend(f"người khác, trang báo lỗi: {e}" for e in answer.errors)
        return act

    async def browser_click() -> None:
        await target.time_once(series, pause=0)

    await asyncio.gather(once_a_second(0, people, stop_at, browser_click),
                         *(once_a_second(i + 1, people, stop_at, peer_click(peer, radio))
                           for i, (peer, radio) in enumerate(peers)))
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    rss_during = server.rss_bytes()
    await target.page.context.close()
    for peer, _radio in peers:
        await peer.close()
    await asyncio.sleep(SESSION_TTL + 8)  # Streamlit keeps a closed page's session for disconnectedSessionTTL
    result = {"people": people, "opened": len(peers) + 1, "seconds": elapsed, "load": os.getloadavg()[0],
              "visible": summary(series.values("visible")), "settled": summary(series.values("settled")),
              "answer": summary(answers), "errors": series.errors + errors, "server_cpu_share": cpu / elapsed,
              "rss_idle": rss_idle, "rss_open": rss_open, "rss_during": rss_during, "rss_closed": server.rss_bytes()}
    log(f"  {people} người: bấm → thấy {ms(result['visible'].get('median'))} (p95 {ms(result['visible'].get('p95'))}), "
        f"người khác {ms(result['answer'].get('median'))} (p95 {ms(result['answer'].get('p95'))}), "
        f"{len(result['errors'])} lỗi, tải {vn(result['load'], 1)}")
    return result


async def run(args, log) -> dict:
    from playwright.async_api import async_playwright

    sizes = [int(n) for n in str(args.people).split(",") if n.strip()]
    result = {"machine": machine(), "started": time.strftime("%d/%m/%Y %H:%M UTC", time.gmtime()),
              "load_before": os.getloadavg(), "rooms": []}
    with ExitStack() as stack:
        folder = stack.enter_context(scratch_data_dir())
        db = open_scratch(folder)
        population = populate(db, departments=max(sizes), years=1)
        departments = [(d.id, d.name) for d in department_store.list_departments(db)]
        db.dispose()
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cchc-room-")))
        server = start_server("app", PROJECT_ROOT / "server.py", app_env(folder),
                              ["--server.disconnectedSessionTTL", str(SESSION_TTL)], logs)
        stack.callback(server.stop)
        wait_until_up(server)
        log(f"{len(departments)} cơ quan × 1 năm; máy chủ {server.url}")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                # a first room of one, not counted: the first page of a process reads and builds what later ones reuse
                await room(browser, server, 1, 3, departments, population.focus_year, lambda _m: None)
                for people in sizes:
                    log(f"{people} người cùng chấm, {vn(args.seconds, 0)} s")
                    result["rooms"].append(await room(browser, server, people, args.seconds, departments,
                                                      population.focus_year, log))
            finally:
                await browser.close()
    return result


def render(result: dict) -> str:
    lines = [f"Một phòng cùng chấm điểm (`python -m benchmarks.room`), {result['machine']}; bắt đầu {result['started']}.",
             "Người được đo dùng Chromium không giao diện; những người khác gửi đúng các tin WebSocket của trang "
             "(benchmarks/peer.py). Mỗi người một cơ quan, đổi điểm khoảng 1 lần/giây; máy chủ: server.py, SQLite, "
             "một tiến trình.", "",
             "| Số người | Bấm → thấy, trong trình duyệt: trung vị / p95 (lần) | Máy chủ trả lời người khác: trung vị / p95 (lần) "
             "| Lỗi | CPU máy chủ | RSS máy chủ: trước → trong lúc chấm → sau khi đóng | Tải |",
             "|---|---|---|---|---|---|---|"]
    for r in result["rooms"]:
        visible, answer = r["visible"], r["answer"]
        lines.append(
            f"| {r['people']} | {ms(visible.get('median'))} / {ms(visible.get('p95'))} ({visible.get('n', 0)}) "
            f"| {ms(answer.get('median'))} / {ms(answer.get('p95'))} ({answer.get('n', 0)}) | {len(r['errors'])} "
            f"| {vn(r['server_cpu_share'] * 100, 0)} % một lõi | {mb(r['rss_idle'])} → {mb(r['rss_during'])} → "
            f"{mb(r['rss_closed'])} | {vn(r['load'], 1)} |")
    errors = [e for r in result["rooms"] for e in r["errors"]]
    if errors:
        lines += ["", "Lỗi:"] + [f"- {e}" for e in errors[:20]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.room", description="Đo một phòng cùng chấm điểm.")
    parser.add_argument("--people", default="1,5,10,20", help="số người trong phòng, cách nhau bởi dấu phẩy (mặc định 1,5,10,20)")
    parser.add_argument("--seconds", type=float, default=60, help="thời gian mỗi phòng (giây, mặc định 60)")
    parser.add_argument("--quick", action="store_true", help="vài giây với 1 và 3 người, để kiểm tra chính bộ đo")
    args = parser.parse_args(argv)
    if args.quick:
        args.people, args.seconds = "1,3", 5
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    result = asyncio.run(run(args, log))
    result["load_after"] = os.getloadavg()
    text = render(result) + (f"\n\nCả lần đo: {vn((time.perf_counter() - started) / 60, 1)} phút; tải trung bình 1 phút "
                             f"lúc đầu → lúc cuối: {vn(result['load_before'][0], 1)} → {vn(result['load_after'][0], 1)}.")
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    name = "phong-hop" + ("-nhanh" if args.quick else "")
    (OUT / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    (OUT / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
