"""Static export (PNG/SVG) of the charts defined in scoring.charts, for the report, the summary and slides.

Static export uses kaleido, which drives a Chromium-based browser through the DevTools protocol. It never
downloads one: the browser is the one named by BROWSER_PATH (choreographer's own variable) or else
Debian's `chromium` on PATH, and MathJax (fetched from a CDN by default) is switched off, so export works
on a machine with no network. Each call starts one browser; `figures_png` renders several figures with a
single start, which is what the report and the summary use.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import threading
from typing import Any

import plotly.graph_objects as go

from scoring.errors import InputError

DEFAULT_WIDTH = 900
DEFAULT_HEIGHT = 480
RENDER_TIMEOUT_SECONDS = 90
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class ChartExportError(InputError):
    """Charts cannot be turned into images on this machine (no browser); the message says what to install."""


# --------------------------------------------------------------------------- static export


def browser_path() -> str:
    """The browser kaleido drives: BROWSER_PATH if set, else a Chromium or Chrome on PATH."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChartExportError(
        "Không xuất được biểu đồ thành ảnh: máy chưa có trình duyệt Chromium. Hãy cài gói Debian «chromium» "
        "(apt-get install chromium) hoặc đặt biến môi trường BROWSER_PATH tới trình duyệt Chrome/Chromium."
    )


def figure_png(figure: go.Figure, width: int | None = None, height: int | None = None, scale: float = 2) -> bytes:
    """One figure as PNG bytes (scale 2: sharp in a printed report)."""
    return figures_png([figure], width=width, height=height, scale=scale)[0]


def figure_svg(figure: go.Figure, width: int | None = None, height: int | None = None) -> bytes:
    """One figure as SVG bytes (text stays text: crisp at any size, searchable)."""
    return _render([figure], "svg", width, height, 1)[0]


def figures_png(figures: list[go.Figure], width: int | None = None, height: int | None = None,
                scale: float = 2) -> list[bytes]:
    """Several figures as PNG with one browser start."""
    return _render(figures, "png", width, height, scale)


def figures_svg(figures: list[go.Figure], width: int | None = None, height: int | None = None) -> list[bytes]:
    return _render(figures, "svg", width, height, 1)


class _ShutdownNoiseFilter(logging.Filter):
    """choreographer logs a traceback when the browser's "{bye}" farewell shares a read with another message
    at shutdown (harmless: the images are already back). Drop only that record, keep every other."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("JSONError decoding message")


_PIPE_LOGGER = "choreographer.channels.pipe"


def _render(figures: list[go.Figure], image_format: str, width: int | None, height: int | None,
            scale: float) -> list[bytes]:
    import kaleido  # noqa: F401 - first: it installs the logger class the pipe logger below must be made with

    pipe_logger = logging.getLogger(_PIPE_LOGGER)
    if not any(isinstance(f, _ShutdownNoiseFilter) for f in pipe_logger.filters):
        pipe_logger.addFilter(_ShutdownNoiseFilter())

    path = browser_path()
    specs = [
        (figure.to_plotly_json(), dict(format=image_format, scale=scale,
                                       width=width or figure.layout.width or DEFAULT_WIDTH,
                                       height=height or figure.layout.height or DEFAULT_HEIGHT))
        for figure in figures
    ]
    try:
        outcome = _RENDERER.render(path, specs)
    except Exception as problem:  # noqa: BLE001 - the browser's failures come in many types
        if type(problem).__name__ == "ChromeNotFoundError":
            raise ChartExportError(f"Không xuất được biểu đồ thành ảnh: không chạy được trình duyệt «{path}».") from problem
        raise
    return [bytes(image) if not isinstance(image, str) else image.encode("utf-8") for image in outcome]


class _Renderer:
    """One browser kept open for the life of the process, on an event loop of its own.

    Starting Chromium is most of an export's time (about 2 s); the app exports many times, so it starts
    once. Each request gets its own future with a time limit, so concurrent exports from several sessions
    never mix up their images, and a browser that dies is dropped and started again on the next request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._browser: Any = None
        self._path: str | None = None

    def render(self, path: str, specs: list[tuple[dict, dict]]) -> list[Any]:
        with self._lock:
            loop = self._ensure(path)
        future = asyncio.run_coroutine_threadsafe(self._calc_all(specs), loop)
        try:
            return future.result(timeout=RENDER_TIMEOUT_SECONDS)
        except BaseException:
            future.cancel()
            self.close()  # a broken or stuck browser is not reused
            raise

    async def _calc_all(self, specs: list[tuple[dict, dict]]) -> list[Any]:
        return [await self._browser.calc_fig(spec, opts=opts) for spec, opts in specs]

    def _ensure(self, path: str) -> asyncio.AbstractEventLoop:
        if self._loop is not None and self._path == path:
            return self._loop
        self._close_locked()
        import kaleido  # imported here: only static export needs it

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="kaleido-export", daemon=True)
        thread.start()

        async def start() -> Any:
            browser = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT_SECONDS, mathjax=False, path=path)
            await browser.open()
            return browser

        try:
            self._browser = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=RENDER_TIMEOUT_SECONDS)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            raise
        self._loop, self._path = loop, path
        return loop

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        loop, browser = self._loop, self._browser
        self._loop = self._browser = self._path = None
        if loop is None:
            return
        if browser is not None:
            try:
                asyncio.run_coroutine_threadsafe(browser.close(), loop).result(timeout=15)
            except BaseException:  # noqa: BLE001 - closing a broken browser may fail; the process ends it anyway
                pass
        loop.call_soon_threadsafe(loop.stop)


_RENDERER = _Renderer()
atexit.register(_RENDERER.close)
