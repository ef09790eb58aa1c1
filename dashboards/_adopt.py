"""The ``najma discover adopt`` command that writes a discovered bundle into the catalogue as a life event.

``najma discover bundles`` prints it under each candidate and the dashboard's Discover page shows it
(the page reads a copy of the store, so it never writes the catalogue itself): one home for the
command's words, so that what the page shows is what the command line runs.

Examples
--------
>>> adopt_key(("birth_certificate", "national_id", "passport"), rank=1, taken=set())
'birth_certificate_to_passport'
>>> adopt_key(("birth_certificate", "passport"), rank=3, taken={"birth_certificate_to_passport"})
'birth_certificate_to_passport_3'
"""

from __future__ import annotations

import shlex
from collections.abc import Set
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from najma.journeys import BundleCandidates

__all__ = ["CATALOGUE_PLACEHOLDER", "adopt_commands", "adopt_key"]

#: Stands for the catalogue file in an adopt command shown without one.
CATALOGUE_PLACEHOLDER = "CATALOGUE.toml"


def adopt_key(services: tuple[str, ...], *, rank: int, taken: Set[str]) -> str:
    """A life event's key for a candidate: its first and last service, with its `rank` (and a number more, if need be)
    when that key is `taken`."""
    key = f"{services[0]}_to_{services[-1]}"
    candidate, more = key, 0
    while candidate in taken:
        more += 1
        candidate = f"{key}_{rank}" if more == 1 else f"{key}_{rank}_{more}"
    return candidate


def adopt_commands(found: BundleCandidates, catalogue: Path | None = None, store: Path | None = None) -> list[str | None]:
    """Per candidate of `found`, the command that adopts it as a life event (None for one that is a life event already).

    Parameters
    ----------
    found : BundleCandidates
        What :func:`najma.journeys.discover_bundles` found.
    catalogue : Path, optional
        The catalogue file the commands write into; its life events' keys are not given again. Without it the
        commands name :data:`CATALOGUE_PLACEHOLDER`.
    store : Path, optional
        The store the commands register the catalogue in; without it, the command line's default store.

    Returns
    -------
    list of str or None
        One shell-quoted command per row of ``found.table``, in its order; keys are unique among them.
    """
    from najma.journeys import load_catalogue

    commands: list[str | None] = []
    taken = set(load_catalogue(catalogue).life_events) if catalogue is not None else set()
    for row in found.table.itertuples(index=False):
        if isinstance(row.life_event, str):
            commands.append(None)
            continue
        key = adopt_key(row.services, rank=row.rank, taken=taken)
        taken.add(key)
        words = ["najma", "discover", "adopt", "--services", ",".join(row.services), "--as", key,
                 "--catalogue", str(catalogue or CATALOGUE_PLACEHOLDER), "--window-days", str(found.window_days)]
        commands.append(shlex.join(words + (["--store", str(store)] if store is not None else [])))
    return commands
