"""Load the committed sample into a store, as `najma start` does."""

from __future__ import annotations

from najma.journeys import BatchResult, Store, load_catalogue, open_source, register_catalogue
from najma.sample._services import WORK_CALENDAR

#: The zone the sample's local times are written in: its work calendar's.
SAMPLE_TZ = str(WORK_CALENDAR["time_zone"])


def load_sample(store: Store) -> BatchResult:
    """Register the sample's catalogue, then load its events (which builds their journeys).

    Parameters
    ----------
    store : Store
        The store to load into; a store that already holds the sample skips the file.

    Returns
    -------
    BatchResult
        What the ingest read, loaded and quarantined.

    Examples
    --------
    >>> import os
    >>> from najma.journeys import Store
    >>> os.environ.setdefault("NAJMA_PSEUDONYM_KEY", "example-key")
    '...'
    >>> with Store(":memory:") as store:
    ...     result = load_sample(store)
    ...     services = store.backend.table("journeys").service.nunique().to_pyarrow().as_py()
    >>> result.read == result.loaded + result.quarantined, services
    (True, 9)
    """
    from najma.sample import SAMPLE_CATALOGUE, SAMPLE_EVENTS

    with store.transaction():  # the catalogue and the events, or neither
        register_catalogue(store, load_catalogue(SAMPLE_CATALOGUE))
        return store.ingest(open_source(SAMPLE_EVENTS), tz=SAMPLE_TZ)
