"""Customer journeys across services: a customer's cases within one life event, linked into one journey.

A life event (a newborn, a new business) is a bundle of services in the catalogue, with a window
in days. A customer's cases in the bundle's services are linked into one journey while each
starts within the window of the case before it; a longer gap starts a new journey.

"Ask once" failure
------------------
A case fails "ask once" when it supplies a document that the same customer had already supplied
to a *different agency* earlier in the same journey (the customer's linked cases of one life
event). Which documents a step supplies follows the catalogue's rule (see "Documents" in
:mod:`najma.journeys._catalogue`): a ``document_submission`` step supplies the documents its
activity is mapped to, else one document named after its activity; a document's name means the
same document in every service. The agency a document is supplied to is its case's agency (the
agency of the case's first event); "earlier" orders supplies by timestamp, then event_seq. A case
that supplies documents no other agency had, or supplies again to the same agency what that
agency already had, does not fail; re-supplies within a case are its ``documents_asked_again``.
``documents_asked_again_across_agencies`` counts the distinct documents of a case that fail.

Examples
--------
>>> import najma
>>> callable(najma.life_event_journeys)
True
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
from ibis.expr.types import NumericValue, Table

from najma.errors import InvalidEventLogError
from najma.journeys._filters import CaseFilter
from najma.journeys._pipeline import document_supplies
from najma.journeys._store import Store
from najma.journeys._variants import journey_table

__all__ = ["linked_cases", "life_event_journeys", "linked_within", "asked_across_agencies"]

#: The order of a customer's cases: by start, ties broken by service and case id.
_CASE_ORDER = ("start", "service", "case_id")


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
        document_submissions, proactive, documents_asked_again_across_agencies, ask_once_failure
        (see the module docstring); a case without a customer is a journey of its own.

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
    cases = linked_within(cases, ["life_event", "customer_id"], cases.window_days)
    cases = cases.mutate(
        journey_id=cases.life_event.concat(":", cases.customer_id, ":", cases.episode.cast("string"))
    )
    in_journey = ibis.window(group_by="journey_id", order_by=list(_CASE_ORDER))
    cases = cases.mutate(step_in_journey=ibis.row_number().over(in_journey)).drop("episode", "window_days")
    asked = asked_across_agencies(store, cases, "life_event")
    joined = cases.left_join(asked, ["life_event", "service", "case_id"]).select(cases, asked.asked)
    again = ibis.coalesce(joined.asked, 0).cast("int64")
    return joined.mutate(documents_asked_again_across_agencies=again, ask_once_failure=again > 0).drop("asked")


def linked_within(cases: Table, by: Sequence[str], window_days: NumericValue | float) -> Table:
    """`cases` (with service, case_id and start) with ``episode``: the number (1, 2, ...) of the run of linked cases
    each belongs to within its group `by` (a customer's cases of a life event, or all a customer's cases).

    A group's cases are taken in start order (then service, then case id); a case is linked to the case before it
    when it starts at most `window_days` after that case started, and starts a new episode otherwise.
    """
    by_group = ibis.window(group_by=list(by), order_by=list(_CASE_ORDER))
    gap_days = (cases.start.epoch_seconds() - cases.start.lag().over(by_group).epoch_seconds()) / 86400
    marked = cases.mutate(_new=ibis.coalesce(gap_days > window_days, True).cast("int64"))
    upto = ibis.window(group_by=list(by), order_by=list(_CASE_ORDER), rows=(None, 0))
    return marked.mutate(episode=marked._new.sum().over(upto)).drop("_new")


def asked_across_agencies(store: Store, cases: Table, group: str) -> Table:
    """Per case of `cases` (with `group`, service, case_id, journey_id and agency) that fails "ask once":
    (`group`, service, case_id, asked), the distinct documents it supplies that another agency had already had in
    its journey (a case in the journeys of two groups, such as two life events, is judged in each)."""
    backend = store.backend
    roles = backend.table("activity_roles")
    submitting = roles.filter(roles.role == "document_submission").select("service", "activity").distinct()
    steps = backend.table("steps").select("service", "case_id", "event_seq", "activity", "timestamp")
    submissions = steps.join(submitting, ["service", "activity"]).mutate(document_submission=ibis.literal(True))
    supplies = document_supplies(submissions, backend.table("activity_documents"))
    supplies = supplies.join(cases.select(group, "service", "case_id", "journey_id", "agency"), ["service", "case_id"])
    earlier = ibis.window(group_by=["journey_id", "document"], order_by=["timestamp", "event_seq"], rows=(None, -1))
    supplies = supplies.mutate(_first=supplies.agency.min().over(earlier), _last=supplies.agency.max().over(earlier))
    # The agencies that had the document before: another than this one is there when the least or the greatest differs.
    elsewhere = supplies.filter((supplies._first != supplies.agency) | (supplies._last != supplies.agency))
    return elsewhere.group_by([group, "service", "case_id"]).aggregate(asked=elsewhere.document.nunique())


def life_event_journeys(store: Store, life_event: str | None = None, where: CaseFilter | None = None) -> Table:
    """One row per cross-agency journey of a life event, with its own metrics.

    Parameters are those of :func:`linked_cases`.

    Returns
    -------
    ibis Table
        life_event, journey_id, customer_id, cases, services, agencies (agencies touched by any
        event of the journey), start, end, elapsed_seconds, customer_steps, visits,
        document_submissions, documents_asked_again_across_agencies, ask_once_failures, proactive_cases.
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
        documents_asked_again_across_agencies=cases.documents_asked_again_across_agencies.sum().cast("int64"),
        ask_once_failures=cases.ask_once_failure.sum().cast("int64"),
        proactive_cases=cases.proactive.sum().cast("int64"),
    )
    joined = journeys.join(agencies, "journey_id").select(journeys, agencies.agencies)
    return joined.mutate(elapsed_seconds=joined.end.epoch_seconds() - joined.start.epoch_seconds()).order_by(
        ["life_event", "start", "journey_id"]
    )
