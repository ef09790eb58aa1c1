"""The ``najma`` command line: one Typer group per theme, thin over the library.

Each theme module imports only Typer and Rich at the top; the library (DuckDB, Ibis, pandas,
scikit-learn, pm4py, plotly, dash) loads inside the commands that use it, so ``najma --help``
answers at once.
"""

from najma.dashboards.cli._main import app, main

__all__ = ["app", "main"]
