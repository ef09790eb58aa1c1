"""Start-up benchmark: how long the command line takes to answer, and how much of that is imports.

Times ``najma --help``, ``najma info`` and ``najma rate`` on a store holding the bundled sample,
each as a whole fresh process, ``--repeat`` times, and prints the median wall time and the median
time spent importing modules (read from ``python -X importtime``: the sum of the cumulative times
of the top-level imports). The store is loaded once beforehand (not timed). Run::

    python benchmarks/startup.py --repeat 5

To time another checkout of najma in the same run (say, before a change), give the Python code
that starts its command line and the folder to put on ``PYTHONPATH``; the two take turns::

    python benchmarks/startup.py --other-code "from dashboards.cli import main; main()" --other-path ../old
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The commands timed, after the store option is added to those that take it.
COMMANDS = {"--help": ["--help"], "info": ["info"], "rate": ["rate", "--quarter", "2025Q4", "--draws", "200", "--no-record"]}


def import_seconds(stderr: str) -> float:
    """The seconds spent importing, from ``-X importtime`` output: the cumulative times of the top-level imports.

    Examples
    --------
    >>> import_seconds("import time: self [us] | cumulative | imported package\\n"
    ...                "import time:       100 |       3000 | typer\\n"
    ...                "import time:        50 |        500 |   click\\n"
    ...                "import time:       200 |       1000 | rich\\n")
    0.004
    """
    total = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  "):  # a top-level import; nested ones are inside its cumulative time
            total += int(cumulative)
    return total / 1e6


def run(cli: list[str], args: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Run ``python -X importtime CLI ARGS`` in `cwd`; return (wall seconds, import seconds)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", *cli, *args], env=env, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(cli + args)} failed with exit code {done.returncode}:\n{done.stderr[-2000:]}")
    return wall, import_seconds(done.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="Runs of each command; medians are printed.")
    parser.add_argument("--other-code", help="Python code (for python -c) that starts another najma's command line.")
    parser.add_argument("--other-path", type=Path, help="The folder to put on PYTHONPATH for --other-code.")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "NAJMA_KEY_FILE": str(Path(folder) / "k.key")}
        store = str(Path(folder) / "sample.duckdb")
        subprocess.run([sys.executable, "-m", "najma", "start", "--no-dashboard", "--store", store], env=env, check=True,
                       capture_output=True)
        clis = {"this najma": (["-m", "najma"], env)}
        if options.other_code:
            clis["other"] = (["-c", options.other_code], {**env, "PYTHONPATH": str(options.other_path or "")})
        print(f"{'command':<10} {'cli':<12} {'wall s (median)':>16} {'imports s (median)':>19}")
        for name, args in COMMANDS.items():
            full = args if name == "--help" else [*args, "--store", store]
            runs: dict[str, list[tuple[float, float]]] = {label: [] for label in clis}
            for _ in range(options.repeat):  # the two command lines take turns, so both see the same machine
                for label, (cli, cli_env) in clis.items():
                    runs[label].append(run(cli, full, cli_env, folder))  # not in a checkout: its folders would shadow
            for label, found in runs.items():
                wall = statistics.median(r[0] for r in found)
                imports = statistics.median(r[1] for r in found)
                print(f"{name:<10} {label:<12} {wall:>16.2f} {imports:>19.2f}")


if __name__ == "__main__":
    main()
