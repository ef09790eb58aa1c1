"""README's examples run as written, its CLI reference is the commands', and its references name every key."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import najma
from najma.journeys._catalogue import _CALENDAR_KEYS, _SERVICE_KEYS, ROLES
from najma.rating._config import _CURVE_KEYS, _TOP_KEYS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[tuple[str, str]]:
    """README's code blocks in `language`, each with the heading it stands under."""
    found = []
    for match in FENCE.finditer(README):
        if match.group(1) == language:
            heading = re.findall(r"^#+ (.+)$", README[: match.start()], re.MULTILINE)[-1]
            found.append((heading, match.group(2)))
    return found


@pytest.fixture
def workdir(tmp_path: Path, real: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder of its own with ../shared beside it, as README's examples expect; the cwd."""
    work = tmp_path / "project"
    work.mkdir()
    (tmp_path / "shared").symlink_to(real.parent.parent, target_is_directory=True)
    monkeypatch.chdir(work)
    return work


def test_readme_opens_with_the_two_commands():
    lines = README.splitlines()
    start = lines.index("```bash")
    assert lines[start + 1].startswith("# 1.") and lines[start + 3].startswith("# 2.") and lines[start + 5] == "```"
    assert "najma start" in lines[start + 2] and "pytest" in lines[start + 4]


def test_cli_reference_is_written_from_the_commands():
    reference = runpy.run_path(str(ROOT / "scripts" / "cli_reference.py"))
    start, end = reference["START"], reference["END"]
    written = README.split(start, 1)[1].split(end, 1)[0]
    assert written.strip() == reference["reference"]().strip(), "run: python scripts/cli_reference.py --write README.md"


def test_every_najma_command_in_the_readme_exists():
    commands = set(re.findall(r"^#### `najma ([\w -]+)`$", README, re.MULTILINE))
    used = set()
    for _, block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"^\S*=\S+ ", "", line.strip())  # an environment assignment before the command
            found = re.match(r"^(?:\.venv/bin/)?najma ([a-z-]+)(?: ([a-z-]+))?", line)
            if found:
                used.add(found.group(1) if found.group(1) in commands else f"{found.group(1)} {found.group(2)}")
    assert used and used <= commands, f"README uses commands that do not exist: {sorted(used - commands)}"


def test_the_catalogue_and_model_references_name_every_key():
    keys = _SERVICE_KEYS | _CALENDAR_KEYS | set(ROLES) | _TOP_KEYS | _CURVE_KEYS | {"window_days", "digital"}
    quoted = " ".join(re.findall(r"`([^`\n]+)`", README))
    missing = sorted(key for key in keys if not re.search(rf"(?<![\w-]){key}(?![\w-])", quoted))
    assert not missing, f"README's references do not name {missing}"


@pytest.mark.parametrize("heading, code", _blocks("python"), ids=[h for h, _ in _blocks("python")])
def test_python_example_runs(heading: str, code: str, workdir: Path, built_sample: Path,
                             monkeypatch: pytest.MonkeyPatch):
    if "ingest(" not in code:  # the examples that read a store read the sample's, as command (1) leaves it
        shutil.copy(built_sample, workdir / "najma.duckdb")
    served = []
    monkeypatch.setattr(najma, "serve", lambda app, **options: served.append((app, options)))
    exec(compile(code, f"README.md ({heading})", "exec"), {"__name__": "__readme__"})
    if "serve(" in code:
        assert served and served[0][0].server.config["NAJMA_DATA"] is not None


def test_loading_a_real_log_step_by_step_runs_as_written(workdir: Path):
    [(_, block)] = [(h, b) for h, b in _blocks("bash") if h.startswith("Loading a real log")]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("NAJMA_STORE", None)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 batches, 2 services, 2,037 cases, 9,577 events" in done.stdout
    assert "wabo_receipt" in done.stdout and (workdir / "real.duckdb").exists()
