"""Static pictures of figures (SVG, PNG, PDF) through kaleido and a Chromium on the machine.

Kaleido drives a headless Chromium; on Debian it finds ``/usr/bin/chromium`` (package
``chromium``); elsewhere set ``BROWSER_PATH`` to a Chrome or Chromium executable. No browser is
ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from journeys import NajmaError

__all__ = ["write_static_image"]


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
        raise NajmaError(f"{path}: pictures need the kaleido package (pip install 'kaleido>=1.0')") from None
    height = figure.layout.height or 700
    try:
        figure.write_image(path, format=path.suffix.lstrip(".").lower(), width=width, height=height, scale=scale)
    except (RuntimeError, OSError, ValueError) as exc:
        raise NajmaError(
            f"{path}: could not draw the picture with Chromium ({exc}); on Debian install the chromium package, "
            "elsewhere set BROWSER_PATH to a Chrome or Chromium executable"
        ) from None
    return path
