"""``najma catalogue``: draft, check and use the service catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from najma.dashboards.cli._options import StoreOption, err, existing_store, out, store_path

__all__ = ["app"]

app = typer.Typer(help="Draft and check the service catalogue.", no_args_is_help=True)

CatalogueFile = Annotated[Path, typer.Argument(help="The catalogue TOML file.")]


@app.command("draft")
def draft(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the drafted TOML.")],
    store: StoreOption = None,
) -> None:
    """Draft a service catalogue from the loaded log, for the analyst to correct."""
    from najma.errors import NajmaError
    from najma.journeys import EventLog, Store, draft_catalogue

    with Store(existing_store(store), read_only=True) as source:
        profile = EventLog(source).activity_profile()
    if not profile:
        raise NajmaError(f"the store {store_path(store)} holds no events to draft a catalogue from")
    out_file.write_text(draft_catalogue(profile), encoding="utf-8")
    out.print(f"drafted {len(profile)} services into {out_file}; correct the TODOs, roles and journeys, then run "
              f"najma catalogue check {out_file}")


@app.command("use")
def use(path: CatalogueFile, store: StoreOption = None) -> None:
    """Register a catalogue in the store (roles, open days) and rebuild the journeys with it, in one transaction."""
    from najma.journeys import Store, build_journeys, load_catalogue, register_catalogue

    catalogue = load_catalogue(path)
    with Store(store_path(store)) as target, target.transaction():  # the catalogue and its journeys, or neither
        register_catalogue(target, catalogue)
        with err.status("rebuilding the journeys"):
            cases = build_journeys(target)
    out.print(f"{path}: {len(catalogue.services)} services registered; {cases:,} journeys rebuilt")


@app.command("check")
def check(path: CatalogueFile, store: StoreOption = None) -> None:
    """Validate a catalogue, and check it against the loaded log when there is a store."""
    from najma.journeys import EventLog, Store, load_catalogue

    catalogue = load_catalogue(path)
    target = store_path(store)
    if target.exists():
        with Store(target, read_only=True) as source:
            catalogue.check_against(EventLog(source).activities_by_service())
    out.print(f"{path}: {len(catalogue.services)} services, {len(catalogue.life_events)} life events: valid")
