"""Static pictures of figures (SVG, PNG, PDF) through kaleido and a Chromium on the machine.

Kaleido drives a headless Chromium; on Debian it finds ``/usr/bin/chromium`` (package
``chromium``); elsewhere set ``BROWSER_PATH`` to a Chrome or Chromium executable. No browser is
ever downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import plotly.graph_objects as go

from najma.errors import NajmaError

__all__ = ["write_static_image", "figures_as_svg", "print_pdf", "browser_path"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
_GET_KALEIDO = "pictures need the kaleido package (pip install 'kaleido>=1.0')"
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


def figures_as_svg(figures: list[go.Figure], *, width: int = 900) -> list[str]:
    """Draw many figures as SVG text with one Chromium, started once for all of them.

    Raises
    ------
    NajmaError
        When kaleido or a Chromium is missing, saying how to get them.
    """
    try:
        import kaleido
    except ImportError:
        raise NajmaError(_GET_KALEIDO) from None
    try:
        kaleido.start_sync_server(silence_warnings=True)
        try:
            return [
                kaleido.calc_fig_sync(
                    figure, opts={"format": "svg", "width": width, "height": figure.layout.height or 500}
                ).decode("utf-8")
                for figure in figures
            ]
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
    except (RuntimeError, OSError, ValueError) as exc:
        raise NajmaError(f"could not draw the pictures with Chromium ({exc}); {_GET_CHROMIUM}") from None


def browser_path() -> str:
    """The Chromium (or Chrome) to print with: ``$BROWSER_PATH``, else the first found on the PATH."""
    found = os.environ.get("BROWSER_PATH") or next(
        (shutil.which(name) for name in _BROWSERS if shutil.which(name)), None
    )
    if not found:
        raise NajmaError(f"printing a PDF needs Chromium: {_GET_CHROMIUM}")
    return found


def print_pdf(html: Path, pdf: Path, *, timeout: float = 180) -> Path:
    """Print an HTML file to PDF with headless Chromium (no header or footer, the page's own CSS sizes)."""
    command = [browser_path(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf.resolve()}", html.resolve().as_uri()]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise NajmaError(f"{pdf}: Chromium could not print {html} ({type(exc).__name__})") from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise NajmaError(f"{pdf}: Chromium printed nothing from {html}")
    return pdf
