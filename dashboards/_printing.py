"""An HTML file loaded once in headless Chromium, printed to PDF as often as needed, and changed by script between
two prints.

The report prints itself twice: once to learn the page of each heading, then again with those pages in its table of
contents. Loading the page once (its fonts laid out and its charts drawn once) and printing it twice in one Chromium
costs about a third of printing it twice with ``chromium --print-to-pdf``. The page is driven through the DevTools
protocol by choreographer (kaleido's own driver of Chromium), in a thread of its own so that a caller that runs an
event loop (a notebook) can print too. The prints are those of ``chromium --print-to-pdf --no-pdf-header-footer``:
the page's own CSS sets the size and margins, backgrounds are printed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from najma.dashboards._static_images import browser_path
from najma.errors import NajmaError

__all__ = ["LoadedPage"]

Result = TypeVar("Result")
#: The settings of Page.printToPDF that print as ``chromium --print-to-pdf --no-pdf-header-footer`` does.
_PRINT = {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False}


class LoadedPage:
    """`html` loaded in a headless Chromium of its own until the ``with`` block ends.

    Parameters
    ----------
    html : Path
        The HTML file.
    timeout : float, default 180
        Seconds that starting Chromium and loading the page, a print, or a script may take.

    Raises
    ------
    NajmaError
        When Chromium or choreographer is missing, or Chromium cannot load, print or run a script in time.
    """

    def __init__(self, html: Path, *, timeout: float = 180) -> None:
        self.html = Path(html)
        self._timeout = timeout
        self._browser: Any = None
        self._tab: Any = None

    def __enter__(self) -> LoadedPage:
        try:
            import choreographer
        except ImportError:
            raise NajmaError(f"{self.html}: printing needs the choreographer package (pip install 'kaleido>=1.0')") from None
        path = browser_path()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="najma-printer", daemon=True)
        self._thread.start()
        try:
            self._run(self._open(choreographer, path), "load")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        try:
            if self._browser is not None:
                self._run(self._browser.close(), "close")
        finally:
            self._browser = None
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def print_pdf(self, pdf: Path) -> Path:
        """Print the page as it stands now into `pdf`."""
        response = self._run(self._tab.send_command("Page.printToPDF", params=_PRINT), "print")
        data = base64.b64decode(self._result(response, "print")["data"])
        if not data:
            raise NajmaError(f"{pdf}: Chromium printed nothing from {self.html}")
        Path(pdf).write_bytes(data)
        return Path(pdf)

    def call(self, function: str, *args: object) -> None:
        """Call the JavaScript `function` (an expression, e.g. an arrow function) with `args` (JSON) in the page."""
        expression = f"({function})({', '.join(json.dumps(arg) for arg in args)})"
        response = self._run(self._tab.send_command("Runtime.evaluate", params={"expression": expression}), "script")
        thrown = self._result(response, "script").get("exceptionDetails")
        if thrown:
            raise NajmaError(f"{self.html}: a script failed in the page: {thrown.get('exception', {}).get('description', thrown)}")

    async def _open(self, choreographer: Any, path: str) -> None:
        browser = choreographer.Browser(path=path, headless=True)
        await browser.open()
        self._browser = browser
        self._tab = await self._browser.create_tab("")
        await self._tab.send_command("Page.enable")
        loaded = self._tab.subscribe_once("Page.loadEventFired")
        self._result(await self._tab.send_command("Page.navigate", params={"url": self.html.resolve().as_uri()}), "load")
        await loaded

    def _run(self, work: Coroutine[Any, Any, Result], doing: str) -> Result:
        """Run `work` on the printer's loop and wait for it; a failure or an overrun is one clear error."""
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout=self._timeout)
        except TimeoutError:
            future.cancel()
            raise NajmaError(f"{self.html}: Chromium did not {doing} the page within {self._timeout:.0f} s") from None
        except NajmaError:
            raise
        except Exception as exc:  # choreographer's errors share no base class
            raise NajmaError(f"{self.html}: Chromium could not {doing} the page ({type(exc).__name__}: {exc})") from None

    def _result(self, response: dict[str, Any], doing: str) -> dict[str, Any]:
        """The result of a DevTools command; its error (or a navigation's) as one clear error."""
        said = response["error"].get("message") if "error" in response else response["result"].get("errorText")
        if said:
            raise NajmaError(f"{self.html}: Chromium could not {doing} the page ({said})")
        return response["result"]
