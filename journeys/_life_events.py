"""Customer journeys across services: a customer's cases within one life event, linked into one journey.

A life event (a newborn, a new business) is a bundle of services in the catalogue, with a window
in days. A customer's cases in the bundle's services are linked into one journey while each
starts within the window of the case before it; a longer gap starts a new journey.

"Ask once" failure
------------------
A case in which the customer hands in documents (a step with the role ``document_submission``)
although they already handed documents to another agency earlier in the same journey: the data
was asked again by a second agency.

Examples
--------
>>> import najma
>>> callable(najma.life_event_journeys)
True
"""

from __future__ import annotations

import ibis
from ibis.expr.types import Table

from najma.errors import InvalidEventLogError
from najma.journeys._filters import CaseFilter
from najma.journeys._store import Store
from najma.journeys._variants import journey_table

__all__ = ["linked_cases", "life_event_journeys"]


def linked_cases(store: Store, life_event: str | None = None, where: CaseFilter | None = None) -> Table:
    """Each case of a life event's services with the journey it belongs to.

    Parameters
    ----------
    store : Store
        A store whose journeys were built, with a catalogue that has life events.
    life_event : str, optional
        One life event; by default all of them (a service can be in several).
    where : CaseFilter, optional
        Which cases to link (for example a time range); by default all.

    Returns
    -------
    ibis Table
        life_event, journey_id, step_in_journey (0 for the first case), service, case_id,
        customer_id, agency (the case's first agency), start, end, customer_steps, visits,
        document_submissions, proactive, ask_once_failure; cases without a customer are left out.

    Raises
    ------
    InvalidEventLogError
        When the store has no life events, or not the one asked for.
    """
    backend = store.backend
    bundles = backend.table("life_event_services")
    known = set(bundles.select("life_event").distinct().life_event.to_pyarrow().to_pylist())
    if not known:
        raise InvalidEventLogError(
            f"The store {store.path} has no life events: register a catalogue with [life_events.NAME] tables."
        )
    if life_event is not None:
        if life_event not in known:
            raise InvalidEventLogError(
                f"The 'life_event' parameter must be one of {', '.join(sorted(known))}. Got {life_event!r} instead."
            )
        bundles = bundles.filter(bundles.life_event == life_event)
    journeys = journey_table(store, where)
    cases = journeys.join(bundles, "service").select(  # a case without a customer is its own (see _pipeline)
        bundles.life_event, journeys.service, journeys.case_id, journeys.customer_id, bundles.window_days,
        agency=journeys.first_agency, start=journeys.start, end=journeys.end,
        customer_steps=journeys.customer_steps, visits=journeys.visits,
        document_submissions=journeys.document_submissions, proactive=journeys.proactive,
    )
    order = ["start", "service", "case_id"]
    by_customer = ibis.window(group_by=["life_event", "customer_id"], order_by=order)
    gap_days = (cases.start.epoch_seconds() - cases.start.lag().over(by_customer).epoch_seconds()) / 86400
    cases = cases.mutate(_new=ibis.coalesce(gap_days > cases.window_days, True).cast("int64"))
    upto = ibis.window(group_by=["life_event", "customer_id"], order_by=order, rows=(None, 0))
    cases = cases.mutate(_journey=cases._new.sum().over(upto))
    cases = cases.mutate(
        journey_id=cases.life_event.concat(":", cases.customer_id, ":", cases._journey.cast("string"))
    )
    in_journey = ibis.window(group_by="journey_id", order_by=order)
    before = ibis.window(group_by="journey_id", order_by=order, rows=(None, -1))
    submitted_to = ibis.ifelse(cases.document_submissions > 0, cases.agency, ibis.null("string"))
    cases = cases.mutate(
        step_in_journey=ibis.row_number().over(in_journey),
        _first_asker=submitted_to.min().over(before),
        _last_asker=submitted_to.max().over(before),
    )
    failure = (cases.document_submissions > 0) & cases._first_asker.notnull() & (
        (cases._first_asker != cases.agency) | (cases._last_asker != cases.agency)
    )
    return cases.mutate(ask_once_failure=ibis.coalesce(failure, False)).drop(
        "_new", "_journey", "_first_asker", "_last_asker", "window_days"
    )


def life_event_journeys(store: Store, life_event: str | None = None, where: CaseFilter | None = None) -> Table:
    """One row per cross-agency journey of a life event, with its own metrics.

    Parameters are those of :func:`linked_cases`.

    Returns
    -------
    ibis Table
        life_event, journey_id, customer_id, cases, services, agencies (agencies touched by any
        event of the journey), start, end, elapsed_seconds, customer_steps, visits,
        document_submissions, ask_once_failures, proactive_cases.
    """
    cases = linked_cases(store, life_event, where)
    events = store.backend.table("events")
    touched = events.join(cases.select("service", "case_id", "journey_id"), ["service", "case_id"]).select(
        "journey_id", "agency")
    agencies = touched.group_by("journey_id").aggregate(agencies=touched.agency.nunique())
    journeys = cases.group_by(["life_event", "journey_id", "customer_id"]).aggregate(
        cases=cases.count(),
        services=cases.service.nunique(),
        start=cases.start.min(),
        end=cases.end.max(),
        customer_steps=cases.customer_steps.sum().cast("int64"),
        visits=cases.visits.sum().cast("int64"),
        document_submissions=cases.document_submissions.sum().cast("int64"),
        ask_once_failures=cases.ask_once_failure.sum().cast("int64"),
        proactive_cases=cases.proactive.sum().cast("int64"),
    )
    joined = journeys.join(agencies, "journey_id").select(journeys, agencies.agencies)
    return joined.mutate(elapsed_seconds=joined.end.epoch_seconds() - joined.start.epoch_seconds()).order_by(
        ["life_event", "start", "journey_id"]
    )
