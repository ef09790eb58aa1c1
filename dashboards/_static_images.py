"""Static pictures of figures (SVG, PNG, PDF) through kaleido and a Chromium on the machine.

Kaleido drives a headless Chromium; on Debian it finds ``/usr/bin/chromium`` (package
``chromium``); elsewhere set ``BROWSER_PATH`` to a Chrome or Chromium executable. No browser is
ever downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import plotly.graph_objects as go

from najma.errors import NajmaError

__all__ = ["write_static_image", "pdf_destinations", "browser_path"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
_GET_KALEIDO = "pictures need the kaleido package (pip install 'kaleido>=1.0')"
#: A named destination of a PDF as Chromium writes it, ``/name [12 0 R /XYZ ...]``, and the page objects in order.
_DESTINATION = re.compile(rb"/([A-Za-z0-9_.#-]+) \[(\d+) 0 R /XYZ")
_NODE = re.compile(rb"(\d+) 0 obj\s*<</Type /Pages\s*/Count \d+\s*/Kids \[([^\]]*)\](\s*/Parent)?")
_GET_CHROMIUM = "on Debian install the chromium package, elsewhere set BROWSER_PATH to a Chrome or Chromium executable"


def write_static_image(figure: go.Figure, path: str | Path, *, width: int = 1200, scale: float = 1.0) -> Path:
    """Write `figure` as a picture whose format is `path`'s suffix (.svg, .png or .pdf).

    Raises
    ------
    NajmaError
        When kaleido or a Chromium is missing, saying how to get them.
    """
    path = Path(path)
    try:
        import kaleido  # noqa: F401 - imported to give a clear message when it is missing
    except ImportError:
        raise NajmaError(f"{path}: {_GET_KALEIDO}") from None
    height = figure.layout.height or 700
    try:
        figure.write_image(path, format=path.suffix.lstrip(".").lower(), width=width, height=height, scale=scale)
    except (RuntimeError, OSError, ValueError) as exc:
        raise NajmaError(f"{path}: could not draw the picture with Chromium ({exc}); {_GET_CHROMIUM}") from None
    return path


def browser_path() -> str:
    """The Chromium (or Chrome) to print with: ``$BROWSER_PATH``, else the first found on the PATH."""
    found = os.environ.get("BROWSER_PATH") or next(
        (shutil.which(name) for name in _BROWSERS if shutil.which(name)), None
    )
    if not found:
        raise NajmaError(f"printing a PDF needs Chromium: {_GET_CHROMIUM}")
    return found


def pdf_destinations(pdf: Path) -> dict[str, int]:
    """The page (from 1) of each named destination of a PDF Chromium printed: an element with an ``id`` that a
    link of the page points to.

    Chromium (Skia) writes the destinations and the page tree as plain objects, so no PDF library is needed;
    a PDF written otherwise gives {}.
    """
    data = pdf.read_bytes()
    nodes = {int(number): (re.findall(rb"(\d+) 0 R", kids), bool(parent)) for number, kids, parent in _NODE.findall(data)}
    roots = [number for number, (_, has_parent) in nodes.items() if not has_parent]
    pages: list[int] = []

    def walk(number: int) -> None:  # Skia writes a tree of page nodes, eight kids each
        for kid in map(int, nodes[number][0]):
            walk(kid) if kid in nodes else pages.append(kid)

    if len(roots) != 1:
        return {}
    walk(roots[0])
    order = {page: position for position, page in enumerate(pages, start=1)}
    return {name.decode(): order[int(page)] for name, page in _DESTINATION.findall(data) if int(page) in order}
