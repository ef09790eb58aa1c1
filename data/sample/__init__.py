"""najma.sample: a seeded generator of government-service event logs, and the committed sample.

The committed sample lives beside this file, written by ``najma sample --out data/sample``:
``events.parquet`` (the log), ``truth.parquet`` (the ground truth per case), ``services.toml``
(the service catalogue) and ``events_head.csv`` (a few whole cases as CSV, to see what a log
looks like).
"""

from pathlib import Path

import lazy_loader

__getattr__, _, _lazy = lazy_loader.attach(__name__, submod_attrs={
    "_generator": ["Sample", "generate"],
    "_loading": ["SAMPLE_TZ", "load_sample"],
    "_writer": ["catalogue_toml", "write_sample"],
})
__all__ = [*_lazy, "SAMPLE_DIR", "SAMPLE_EVENTS", "SAMPLE_TRUTH", "SAMPLE_CATALOGUE"]

SAMPLE_DIR = Path(__file__).parent
SAMPLE_EVENTS = SAMPLE_DIR / "events.parquet"
SAMPLE_TRUTH = SAMPLE_DIR / "truth.parquet"
SAMPLE_CATALOGUE = SAMPLE_DIR / "services.toml"


def __dir__() -> list[str]:
    return list(__all__)
