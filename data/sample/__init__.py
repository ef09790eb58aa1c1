"""najma_sample: a seeded generator of government-service event logs, and the committed sample.

The committed sample lives beside this file, written by ``najma sample --out data/sample``:
``events.parquet`` (the log), ``truth.parquet`` (the ground truth per case), ``services.toml``
(the service catalogue) and ``events_head.csv`` (a few whole cases as CSV, to see what a log
looks like).
"""

from pathlib import Path

from najma_sample.generator import Sample, generate
from najma_sample.loading import SAMPLE_TZ, load_sample
from najma_sample.writer import catalogue_toml, write_sample

__all__ = ["Sample", "generate", "load_sample", "write_sample", "catalogue_toml", "SAMPLE_TZ", "SAMPLE_DIR", "SAMPLE_EVENTS", "SAMPLE_TRUTH", "SAMPLE_CATALOGUE"]

SAMPLE_DIR = Path(__file__).parent
SAMPLE_EVENTS = SAMPLE_DIR / "events.parquet"
SAMPLE_TRUTH = SAMPLE_DIR / "truth.parquet"
SAMPLE_CATALOGUE = SAMPLE_DIR / "services.toml"
