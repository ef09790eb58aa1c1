"""``python -m najma``: the command line."""

from najma.dashboards.cli import main

main()
