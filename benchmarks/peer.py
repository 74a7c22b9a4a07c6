"""One person's browser as the server sees it: a Streamlit page's own WebSocket messages, without a browser.

A `Peer` opens `/_stcore/stream` as Streamlit's frontend does (subprotocol "streamlit", the page's Origin), asks
for a page with the address's query string, keeps what the server draws (each widget's id, options and fragment;
each metric's value), answers the server's `auto_rerun` the way the frontend does (a fragment rerun every
`interval` seconds, `is_auto_rerun`), and changes a widget the way a click does: a `rerun_script` carrying the
widget's new value, scoped to the widget's fragment, naming the page the last `navigation` message named. These
are the messages recorded from Chromium on this app (benchmarks/NHAT-KY-DO.md, 02/12/2026) with one difference:
a page sends the value of every widget it shows, a peer only those it set, and the server keeps a widget's last
value when a rerun does not carry it (Streamlit's SessionState), so the runs are the same.

What a peer leaves out is the browser's own work (parsing, React, layout, paint): that runs on each person's own
computer in a real room, so a room of peers loads the server as a room of people does and no more.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

VIETNAM_OFFSET_MINUTES = -420  # what JavaScript's getTimezoneOffset() says in Vietnam (UTC+7)


@dataclass
class Widget:
    id: str
    kind: str  # the element's type: "radio", "selectbox", …
    label: str
    options: list[str]
    fragment_id: str  # "" outside any fragment
    value: str | None  # what the page shows as chosen (radio and selectbox: the option's text)


@dataclass
class Answer:
    """What one change brought back: when the run that answered it finished, and what it drew."""
    seconds: float | None  # from sending the change to the end of the run that answered it; None: no answer
    status: str  # script_finished's status, or why there was no answer
    metric: str | None  # the watched metric's value once that run finished
    errors: list[str] = field(default_factory=list)  # exceptions and error boxes the run drew


class Peer:
    def __init__(self, base_url: str, page_name: str, query_string: str = "", *, cookie: str | None = None):
        """`cookie`: the Cookie header a signed-in browser sends with its WebSocket (the sign-in session's)."""
        self.base_url, self.page_name, self.query_string = base_url.rstrip("/"), page_name, query_string
        self.cookie = cookie
        self.widgets: dict[str, Widget] = {}
        self.metrics: dict[str, str] = {}  # label → value, as last drawn
        self.sent_values: dict[str, str] = {}  # widget id → the value this peer set (sent on every rerun, as the frontend does)
        self.page_script_hash = ""
        self.socket = None
        self._runs: list[dict] = []  # each run the server started: its fragments, when it finished, what it drew
        self._changed = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self._ticks: dict[str, asyncio.Task] = {}
        self._cache: dict[str, ForwardMsg] = {}  # cacheable messages by hash, for the server's references to them
        self.history: deque[str] = deque(maxlen=40)  # the latest requests and runs, in a line each: what led to an error

    # ---------------------------------------------------------------- connection

    async def open(self, timeout: float = 120) -> Answer:
        """Connect and ask for the page, as a page load does; returns when its first run ended."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self.socket = await websockets.connect(
            f"{scheme}://{parts.netloc}{parts.path}/_stcore/stream", subprotocols=["streamlit"],
            origin=f"{parts.scheme}://{parts.netloc}", max_size=None, open_timeout=timeout, ping_interval=None,
            additional_headers={"Cookie": self.cookie} if self.cookie else None)
        self._reader = asyncio.create_task(self._read())
        return await self._rerun(fragment_id="", timeout=timeout, first=True)

    async def close(self) -> None:
        for task in self._ticks.values():
            task.cancel()
        if self.socket is not None:
            await self.socket.close()
        if self._reader is not None:
            self._reader.cancel()

    # ---------------------------------------------------------------- what a click does

    def widget(self, *, kind: str, id_ends_with: str) -> Widget:
        for widget in self.widgets.values():
            if widget.kind == kind and widget.id.endswith(id_ends_with):
                return widget
        raise LookupError(f"không có ô {kind} nào có mã kết thúc bằng «{id_ends_with}»")

    @staticmethod
    def next_option(widget: Widget) -> str:
        chosen = widget.options.index(widget.value) if widget.value in widget.options else -1
        return widget.options[(chosen + 1) % len(widget.options)]

    async def choose_next(self, widget: Widget, *, watch: str | None = None, timeout: float = 30) -> Answer:
        """Choose the option after the chosen one (a click on the next radio button), and wait for the run that
        answers it; with `watch` (a metric's label), the answer counts only once that metric shows a new value."""
        self.sent_values[widget.id] = widget.value = self.next_option(widget)
        return await self._rerun(fragment_id=widget.fragment_id, timeout=timeout, watch=watch)

    # ---------------------------------------------------------------- messages

    def _client_state(self, msg: BackMsg, fragment_id: str, *, auto: bool = False, first: bool = False) -> None:
        state = msg.rerun_script
        if first:
            state.query_string = self.query_string
        for widget_id, value in self.sent_values.items():
            entry = state.widget_states.widgets.add()
            entry.id = widget_id
            entry.string_value = value
        state.page_script_hash = self.page_script_hash
        state.page_name = self.page_name if first else ""
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "Asia/Ho_Chi_Minh", VIETNAM_OFFSET_MINUTES, "vi-VN"
        info.url, info.is_embedded, info.color_scheme = f"{self.base_url}/{self.page_name}", False, "light"

    async def _rerun(self, *, fragment_id: str, timeout: float, watch: str | None = None, first: bool = False) -> Answer:
        msg = BackMsg()
        self._client_state(msg, fragment_id, first=first)
        before = self.metrics.get(watch) if watch else None
        runs_before = len(self._runs)
        sent = time.perf_counter()
        self._note("→", msg)
        await self.socket.send(msg.SerializeToString())
        deadline = sent + timeout
        while True:
            for run in self._runs[runs_before:]:
                ours = first or not fragment_id or not run["fragments"] or fragment_id in run["fragments"]
                if ours and run["finished"] is not None:
                    if first and run["status"] == "FINISHED_EARLY_FOR_RERUN":
                        continue  # a page load that went on to another page (st.switch_page): its answer is the next run
                    shown = run["metrics"].get(watch) if watch else None
                    if watch and (shown is None or shown == before):
                        continue  # a run that did not draw the change (one queued before it): wait for the next
                    return Answer(run["finished"] - sent, run["status"], shown, run["errors"])
            left = deadline - time.perf_counter()
            if left <= 0:
                return Answer(None, "không có kết quả sau " + f"{timeout:.0f} s", self.metrics.get(watch) if watch else None)
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=left)
            except TimeoutError:
                pass

    async def _read(self) -> None:
        try:
            async for payload in self.socket:
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                self._take(msg)
                self._changed.set()
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            pass

    def _take(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":  # the server sent this message before and counts on the page having kept it
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                return
            cached.metadata.CopyFrom(msg.metadata)
            msg, kind = cached, cached.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = msg
        if kind == "navigation":  # the page the frontend is on, which it names in every request (st.navigation)
            self.page_script_hash = msg.navigation.page_script_hash
        if kind in ("new_session", "script_finished"):
            self._note("←", msg)
        if kind == "new_session":
            self._runs.append({"fragments": set(msg.metadata.run.fragment_ids), "finished": None, "status": "",
                               "metrics": {}, "errors": []})
        elif kind == "script_finished":
            if self._runs and self._runs[-1]["finished"] is None:
                self._runs[-1]["finished"] = time.perf_counter()
                self._runs[-1]["status"] = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
        elif kind == "auto_rerun":
            fragment, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fragment not in self._ticks:
                self._ticks[fragment] = asyncio.create_task(self._tick(fragment, every))
        elif kind == "stop_auto_rerun":
            for fragment in msg.stop_auto_rerun.fragment_ids:
                task = self._ticks.pop(fragment, None)
                if task is not None:
                    task.cancel()
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element, msg.delta.fragment_id)

    def _element(self, element, fragment_id: str) -> None:
        kind = element.WhichOneof("type")
        run = self._runs[-1] if self._runs else None
        if kind == "metric":
            self.metrics[element.metric.label] = element.metric.body
            if run is not None:
                run["metrics"][element.metric.label] = element.metric.body
        elif kind in ("radio", "selectbox"):
            proto = getattr(element, kind)
            options = list(proto.options)
            if self.sent_values.get(proto.id) in options:
                value = self.sent_values[proto.id]
            elif proto.HasField("raw_value"):
                value = proto.raw_value
            elif proto.HasField("default") and 0 <= proto.default < len(options):
                value = options[proto.default]
            else:
                value = None
            self.widgets[proto.id] = Widget(proto.id, kind, proto.label, options, fragment_id, value)
        elif kind == "exception" and run is not None:
            run["errors"].append(f"{element.exception.type}: {element.exception.message}"[:200])
        elif kind == "alert" and element.alert.format == Alert.ERROR and run is not None:
            run["errors"].append(element.alert.body[:200])

    def _note(self, direction: str, msg) -> None:
        at = f"{time.perf_counter():.3f}"
        if direction == "→":
            state = msg.rerun_script
            self.history.append(f"{at} → rerun fragment={state.fragment_id[:8] or '-'} auto={state.is_auto_rerun} "
                                f"page={state.page_script_hash[:8] or '-'} widgets={len(state.widget_states.widgets)}")
        elif msg.WhichOneof("type") == "new_session":
            self.history.append(f"{at} ← run {msg.metadata.run.script_run_id[:8]} fragments="
                                f"{[f[:8] for f in msg.metadata.run.fragment_ids]} page={msg.new_session.page_script_hash[:8]}")
        else:
            self.history.append(f"{at} ← finished {ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)}")

    async def _tick(self, fragment_id: str, every: float) -> None:
        """The frontend's timer for a fragment with run_every: a rerun of it every `every` seconds."""
        try:
            while True:
                await asyncio.sleep(every)
                msg = BackMsg()
                self._client_state(msg, fragment_id, auto=True)
                self._note("→", msg)
                await self.socket.send(msg.SerializeToString())
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            pass


async def open_page(base_url: str, page_name: str, query_string: str = "", *,
                    cookie: str | None = None) -> tuple[Peer, Answer]:
    """A peer on the page, once its first run ended with no error; otherwise the peer is closed and RuntimeError says
    what the page answered."""
    peer = Peer(base_url, page_name, query_string, cookie=cookie)
    answer = await peer.open()
    if answer.seconds is None or answer.errors:
        await peer.close()
        raise RuntimeError(f"trang «{page_name}» không mở được: {answer.status} {answer.errors}")
    return peer, answer
