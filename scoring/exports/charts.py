"""Static export (PNG/SVG) of the charts defined in scoring.charts, for the report, the summary and slides.

Static export uses kaleido, which drives a Chromium-based browser through the DevTools protocol. It never
downloads one: the browser is the one named by BROWSER_PATH (choreographer's own variable) or else
Debian's `chromium` on PATH, and MathJax (fetched from a CDN by default) is switched off, so export works
on a machine with no network.

Speed (an export should take well under 2 s): one browser stays open for the life of the process (starting it
is about 2 s; `warm_up` starts it in the background when the export page opens), with two tabs so a report's
two charts render at once; a tab reloads kaleido's page after each image in the background instead of while
the person waits; images are kept by content (`_RenderCache`), so the same chart of the same data — the same
data revision — is drawn once however many exports use it; and the summary PDF is printed by the same browser
(`print_pdf`), not by a new Chromium process each time.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import hashlib
import json
import logging
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from scoring.errors import InputError

DEFAULT_WIDTH = 900
DEFAULT_HEIGHT = 480
RENDER_TIMEOUT_SECONDS = 90
RENDER_TABS = 2  # a report's two charts at once; each tab holds plotly.js (about 30 MB)
CACHED_IMAGES = 24  # a few data revisions' charts in every size and format the exports use
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
    keys = [RENDER_CACHE.key(figure, opts) for figure, (_, opts) in zip(figures, specs)]
    images: list[bytes | None] = [RENDER_CACHE.get(key) for key in keys]
    missing = [index for index, image in enumerate(images) if image is None]
    if missing:
        try:
            outcome = RENDERER.render(path, [specs[index] for index in missing])
        except Exception as problem:  # noqa: BLE001 - the browser's failures come in many types
            if type(problem).__name__ == "ChromeNotFoundError":
                raise ChartExportError(f"Không xuất được biểu đồ thành ảnh: không chạy được trình duyệt «{path}».") from problem
            raise
        for index, image in zip(missing, outcome):
            images[index] = bytes(image) if not isinstance(image, str) else image.encode("utf-8")
            RENDER_CACHE.put(keys[index], images[index])
    return images


def print_pdf(page: Path) -> bytes:
    """An HTML page (a local file that loads nothing remote) printed to PDF by the kept-open browser, with the
    page size and margins of its CSS @page rule."""
    return RENDERER.print_pdf(browser_path(), page.resolve().as_uri())


def warm_up(*drawings: Callable[[], Any]) -> None:
    """Start the browser in the background (if a browser is installed), so the first export does not wait the
    2 s it takes, then run `drawings` there (the exports' own chart functions): their images land in the cache,
    so a click on the export finds them drawn. Images of data already drawn cost a lookup. Never raises: an
    export that then finds no browser, or fails to draw, says so itself."""
    try:
        path = browser_path()
    except ChartExportError:
        return
    if RENDERER.running(path) and not drawings:
        return

    def start_and_draw() -> None:
        RENDERER.start_quietly(path)
        for drawing in drawings:
            try:
                drawing()
            except Exception:  # noqa: BLE001 - drawn ahead only; the export itself reports any failure
                logging.getLogger(__name__).info("drawing a chart ahead failed", exc_info=True)

    threading.Thread(target=start_and_draw, name="kaleido-warm-up", daemon=True).start()


class _RenderCache:
    """Rendered images by the figure's content and the image options: an image depends on nothing else, so a
    chart of data that has not changed is never drawn twice. A few entries, least recently used first out."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(figure: go.Figure, opts: dict) -> str:
        content = figure.to_json() + json.dumps(opts, sort_keys=True)
        return hashlib.sha256(content.encode("utf-8")).hexdigest()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
            return image

    def put(self, key: str, image: bytes) -> None:
        with self._lock:
            self._images[key] = image
            self._images.move_to_end(key)
            while len(self._images) > self._size:
                self._images.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._images.clear()


RENDER_CACHE = _RenderCache(CACHED_IMAGES)


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
        return self._run(path, self._calc_all(specs))

    def print_pdf(self, path: str, url: str) -> bytes:
        return self._run(path, self._print(url))

    def running(self, path: str) -> bool:
        return self._loop is not None and self._path == path

    def start_quietly(self, path: str) -> None:
        try:
            with self._lock:
                self._ensure(path)
        except Exception:  # noqa: BLE001 - a warm-up only; the export that follows reports the failure
            logging.getLogger(__name__).info("chart renderer warm-up failed", exc_info=True)

    def _run(self, path: str, coroutine) -> Any:
        with self._lock:
            try:
                loop = self._ensure(path)
            except BaseException:
                coroutine.close()
                raise
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result(timeout=RENDER_TIMEOUT_SECONDS)
        except BaseException:
            future.cancel()
            self.close()  # a broken or stuck browser is not reused
            raise

    async def _calc_all(self, specs: list[tuple[dict, dict]]) -> list[Any]:
        # gathered: each figure takes a free tab, so two render at once
        return list(await asyncio.gather(*(self._browser.calc_fig(spec, opts=opts) for spec, opts in specs)))

    async def _print(self, url: str) -> bytes:
        """Open the page in a tab of its own, wait for it (and its images) to load, print it, close the tab."""
        tab = await self._browser.create_tab("")
        try:
            loaded = tab.subscribe_once("Page.loadEventFired")
            _checked(await tab.send_command("Page.enable"), "Page.enable")
            _checked(await tab.send_command("Page.navigate", params={"url": url}), "Page.navigate")
            await loaded
            response = _checked(await tab.send_command("Page.printToPDF", params={
                "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
            }), "Page.printToPDF")
            return base64.b64decode(response["result"]["data"])
        finally:
            await self._browser.close_tab(tab)

    def _ensure(self, path: str) -> asyncio.AbstractEventLoop:
        if self._loop is not None and self._path == path:
            return self._loop
        self._close_locked()

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="kaleido-export", daemon=True)
        thread.start()

        async def start() -> Any:
            browser = _kaleido_class()(n=RENDER_TABS, timeout=RENDER_TIMEOUT_SECONDS, mathjax=False, path=path)
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


def _checked(response: dict, command: str) -> dict:
    if "error" in response:
        raise ChartExportError(f"Trình duyệt không thực hiện được lệnh {command}: {response['error']}.")
    return response


_KALEIDO_CLASS: type | None = None


def _kaleido_class() -> type:
    """kaleido.Kaleido whose tabs reload kaleido's page after an image in the background: kaleido reloads a tab
    (plotly.js again, a few hundred ms) before it hands back the image it drew; here the image goes back at
    once and the tab joins the free ones when its reload is done."""
    global _KALEIDO_CLASS
    if _KALEIDO_CLASS is None:
        import kaleido

        class _BackgroundReloadKaleido(kaleido.Kaleido):
            async def _return_kaleido_tab(self, tab) -> None:
                async def reload_then_free() -> None:
                    try:
                        await tab.reload()
                    finally:  # a tab whose reload failed fails its next image, which restarts the browser
                        await self.tabs_ready.put(tab)

                task = asyncio.get_running_loop().create_task(reload_then_free())
                self._main_render_coroutines.add(task)  # closed with the browser, like kaleido's own tasks
                task.add_done_callback(self._main_render_coroutines.discard)

        _KALEIDO_CLASS = _BackgroundReloadKaleido
    return _KALEIDO_CLASS


RENDERER = _Renderer()
atexit.register(RENDERER.close)
