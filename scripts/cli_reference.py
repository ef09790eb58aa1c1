"""Write README's CLI reference from the commands themselves, so it cannot fall behind them.

Usage: ``python scripts/cli_reference.py`` prints the reference; ``--write README.md`` replaces
the text between the two markers in README.md. ``tests/test_docs.py`` checks that README holds
exactly what this prints.
"""

from __future__ import annotations

import argparse
import re
from enum import Enum
from pathlib import Path

import typer

from najma.dashboards.cli import app

START, END = "<!-- cli-reference: start -->", "<!-- cli-reference: end -->"


def _option(param: object) -> str:
    """One Markdown table row for an option or argument."""
    if param.param_type_name == "argument":
        return f"| `{param.name.upper()}` | {param.help or ''} | (argument) |"
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    flag = getattr(param, "is_flag", False)
    if flag and param.secondary_opts:
        default = f"`{'--' + param.name.replace('_', '-') if param.default else param.secondary_opts[0]}`"
    elif param.default is None or param.default == () or flag and not param.default:
        default = ""
    else:
        default = f"`{param.default.value if isinstance(param.default, Enum) else param.default}`"
    env = f" (env `{param.envvar}`)" if param.envvar else ""
    return f"| {names} | {(param.help or '').replace('|', '/')}{env} | {default} |"


def _commands(group: object, prefix: str) -> list[tuple[str, object]]:
    """Every command under `group` (a click group as typer builds it), sub-commands by their full name."""
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.extend(_commands(command, f"{prefix} {name}"))
        elif not command.hidden:
            found.append((f"{prefix} {name}", command))
    return found


def reference() -> str:
    """The CLI reference as Markdown: per command, what it does and its options."""
    lines = []
    for name, command in _commands(typer.main.get_command(app), "najma"):
        summary = re.sub(r"\\\[", "[", (command.help or "").strip().split("\n\n")[0].replace("\n", " "))
        lines += [f"#### `{name}`", "", summary, ""]
        params = [p for p in command.params if p.name != "help"]
        if params:
            lines += ["| option | what it does | default |", "|---|---|---|", *map(_option, params), ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="Replace the reference between the markers in this file.")
    args = parser.parse_args()
    if args.write is None:
        print(reference(), end="")
        return
    text = args.write.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    args.write.write_text(f"{before}{START}\n{reference()}{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    main()
