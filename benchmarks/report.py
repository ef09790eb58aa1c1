"""Report benchmark: how long ``najma report`` takes on the bundled sample, per language, and its peak memory.

Loads the sample into a fresh store once (not timed), then runs ``najma report --quarter 2025Q4`` in English
and in Arabic, each ``--repeat`` times as a whole fresh process (imports, rating, maps, the two prints of
the PDF: see :mod:`najma.dashboards._report`), and prints the median wall time of each language, its
fastest and slowest run, the PDF's pages, the CPU seconds it used (with Chromium's main process; a measure that other work on
the machine disturbs less than wall time), and the peak resident memory of the Python process. Run::

    python benchmarks/report.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUARTER = "2025Q4"
#: Runs one report in this process and prints its CPU time and peak memory as JSON (ru_maxrss is in KiB on Linux);
#: its wall time is measured around the whole process, Python's start and the imports included.
_RUN = """
import json, resource, sys
from najma.dashboards.cli import main
try:
    main()  # reads the arguments after -c from sys.argv
except SystemExit as done:
    if done.code:
        raise
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"python_mb": own.ru_maxrss / 1024,
                  "cpu": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime}))
"""


def run_report(store: str, lang: str, out: str, env: dict[str, str], draws: int) -> dict[str, float]:
    """Write the report of `lang` in a fresh Python; return its wall seconds (the whole process), CPU seconds and
    peak memory (MB)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _RUN, "report", "--quarter", QUARTER, "--lang", lang, "--store", store,
                           "--draws", str(draws), "--out", out], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"najma report --lang {lang} failed with exit code {done.returncode}:\n{done.stderr[-2000:]}")
    wall = time.perf_counter() - started
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall": wall}


def pages(pdf: Path) -> int:
    """The pages of a PDF, as pdfinfo (poppler-utils) counts them; 0 without pdfinfo."""
    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return 0
    return next((int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:")), 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each language; the median is printed.")
    parser.add_argument("--draws", type=int, default=200, help="Bootstrap draws of each rating (the CLI's default).")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "NAJMA_KEY_FILE": str(Path(folder) / "k.key"), "COLUMNS": "200"}
        store = str(Path(folder) / "sample.duckdb")
        subprocess.run([sys.executable, "-m", "najma", "start", "--no-dashboard", "--store", store], env=env, check=True,
                       capture_output=True)
        print(f"cores: {os.cpu_count()}, runs per language: {options.repeat}, draws: {options.draws}")
        print(f"{'lang':<5} {'median s':>9} {'min s':>7} {'max s':>7} {'pages':>6} {'cpu s':>6} {'python MB':>10}")
        for lang in ("en", "ar"):
            out = str(Path(folder) / lang)
            runs = [run_report(store, lang, out, env, options.draws) for _ in range(options.repeat)]
            walls = [r["wall"] for r in runs]
            print(f"{lang:<5} {statistics.median(walls):>9.1f} {min(walls):>7.1f} {max(walls):>7.1f} "
                  f"{pages(Path(out) / f'rating-report-{QUARTER}-{lang}.pdf'):>6} "
                  f"{statistics.median(r['cpu'] for r in runs):>6.1f} {max(r['python_mb'] for r in runs):>10.0f}")


if __name__ == "__main__":
    main()
