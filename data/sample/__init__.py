"""najma_sample: a seeded generator of government-service event logs, and the committed sample.

The committed sample lives beside this file: ``sample_events.parquet`` (the log),
``sample_truth.parquet`` (the ground truth per case), ``services.toml`` (the service catalogue)
and ``sample_events_head.csv`` (a small CSV rendering of part of the log).
"""

from pathlib import Path

from najma_sample.generator import Sample, generate
from najma_sample.writer import catalogue_toml, write_sample

__all__ = ["Sample", "generate", "write_sample", "catalogue_toml", "SAMPLE_DIR", "SAMPLE_EVENTS", "SAMPLE_CATALOGUE"]

SAMPLE_DIR = Path(__file__).parent
SAMPLE_EVENTS = SAMPLE_DIR / "sample_events.parquet"
SAMPLE_TRUTH = SAMPLE_DIR / "sample_truth.parquet"
SAMPLE_CATALOGUE = SAMPLE_DIR / "services.toml"
