"""A simulated analyst for locust: opens every page and works it through the dashboard's own callback requests.

Each task posts what the browser posts to ``/_dash-update-component`` for one callback of a page, with
filter values drawn at random from what the store holds. Like the browser, the analyst keeps the values
the server answered (a page's stores, its intervals) and posts them back as the callbacks' inputs and
states, so the pages are worked whatever their callbacks' exact signatures are.

Long jobs (a redesign projection, the conformance check) are posted like any click; when the answer
starts a poll (a ``dcc.Interval`` enabled), the analyst polls as the browser does until the interval is
disabled again. Every request is reported under its click kind; the time from the click to the answer
of a long job is reported separately, as request type ``JOB``. Run by ``benchmarks/dashboard.py``.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from dash.dependencies import Input, Output, State
from locust import HttpUser, between, task

from najma.dashboards.pages import customer_journeys, data_quality, overview, redesign, service
from najma.dashboards.pages.common import Callback

#: Filled by the benchmark: the quarters, services, agencies and channels of the store.
CHOICES: dict[str, list[str]] = json.loads(os.environ.get("NAJMA_BENCH_CHOICES", "{}"))

#: The analysts' languages, in turn.
LANGUAGES = ("en", "ar")
#: How often a page polls a long job (a dcc.Interval's period), and how long an analyst waits for one.
POLL_SECONDS, JOB_TIMEOUT = 0.5, 120.0

Values = dict[tuple[str, str], Any]


def payload(callback: Callback, values: Values) -> dict[str, Any]:
    """The body the browser posts for `callback`, its inputs and states read from `values` (None when absent)."""
    outputs = [d for d in callback.dependencies if isinstance(d, Output)]
    inputs = [{"id": d.component_id, "property": d.component_property,
               "value": values.get((d.component_id, d.component_property))}
              for d in callback.dependencies if isinstance(d, Input)]
    states = [{"id": d.component_id, "property": d.component_property,
               "value": values.get((d.component_id, d.component_property))}
              for d in callback.dependencies if isinstance(d, State)]
    names = [f"{o.component_id}.{o.component_property}" for o in outputs]
    return {
        "output": names[0] if len(names) == 1 else ".." + "...".join(names) + "..",
        "outputs": [{"id": o.component_id, "property": o.component_property} for o in outputs]
        if len(outputs) > 1 else {"id": outputs[0].component_id, "property": outputs[0].component_property},
        "inputs": inputs, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"], "state": states,
    }


def callback_of(page: Any, *function_names: str) -> Callback | None:
    """The callback of `page` whose function has the first of `function_names` it has, or None."""
    by_name = {c.function.__name__: c for c in page.CALLBACKS}
    return next((by_name[name] for name in function_names if name in by_name), None)


def callback_for(page: Any, component_id: str, component_property: str) -> Callback:
    """The callback of `page` that answers `component_id`'s `component_property`."""
    return next(c for c in page.CALLBACKS for d in c.dependencies if isinstance(d, Output)
                and (d.component_id, d.component_property) == (component_id, component_property))


def polls(page: Any) -> dict[str, Callback]:
    """The callbacks of `page` driven by an interval, by the interval's id."""
    return {d.component_id: c for c in page.CALLBACKS for d in c.dependencies
            if isinstance(d, Input) and d.component_property == "n_intervals"}


class Analyst(HttpUser):
    """Opens every page, looks at the overview, works services' maps, reads journeys and data, projects redesigns;
    in English or, for every other analyst started, in Arabic."""

    wait_time = between(0.5, 2.0)
    started = 0  # analysts started so far in this process

    def on_start(self) -> None:
        self.values: Values = {}
        Analyst.started += 1
        self.lang = LANGUAGES[Analyst.started % len(LANGUAGES)]  # half the analysts read Arabic

    def _post(self, callback: Callback, name: str, **given: Any) -> dict[str, Any] | None:
        """Post one callback with `given` values (``id__property``); keep and return what it answered."""
        self.values.update({tuple(key.split("__")): value for key, value in given.items()})
        with self.client.post("/_dash-update-component", json=payload(callback, self.values), name=name,
                              catch_response=True) as response:
            if response.status_code == 204:  # PreventUpdate
                return {}
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            answer = response.json()["response"]
        self.values.update({(id_, prop): value for id_, props in answer.items() for prop, value in props.items()})
        return answer

    def _open(self, page: Any, lang: str) -> None:
        """Load the page as the browser does: its address, then its layout through Dash's pages callback."""
        self.client.get(f"{page.PATH}?lang={lang}", name=f"page {page.PATH}")
        body = {"output": ".._pages_content.children..._pages_store.data..",
                "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": page.PATH},
                           {"id": "_pages_location", "property": "search", "value": f"?lang={lang}"}],
                "changedPropIds": ["_pages_location.pathname"], "state": []}
        self.client.post("/_dash-update-component", json=body, name=f"layout {page.PATH}")

    def _long_job(self, page: Any, callback: Callback, name: str, **given: Any) -> None:
        """Post the click that starts a long job, poll it while its page polls, and report the time to the answer."""
        began = time.perf_counter()
        answer = self._post(callback, name, **given)
        failed = None if answer is not None else "the click failed"
        for interval, poll in polls(page).items():
            deadline = began + JOB_TIMEOUT
            if failed is None and poll is not callback:  # the click changed what the poll shows: it runs at once
                answer = self._post(poll, f"{name}: poll")
                failed = None if answer is not None else "a poll failed"
            while failed is None and self.values.get((interval, "disabled")) is False:
                if time.perf_counter() > deadline:
                    failed = "no answer in time"
                    break
                time.sleep(POLL_SECONDS)
                ticks = (self.values.get((interval, "n_intervals")) or 0) + 1
                if self._post(poll, f"{name}: poll", **{f"{interval}__n_intervals": ticks}) is None:
                    failed = "a poll failed"
        self.environment.events.request.fire(
            request_type="JOB", name=f"long job: {name}", response_time=(time.perf_counter() - began) * 1000,
            response_length=0, exception=None if failed is None else RuntimeError(failed), context={})

    @task(3)
    def overview_filters(self) -> None:
        lang = self.lang
        self._open(overview, lang)
        channel = random.choice([None, *CHOICES["channels"]])
        answer = self._post(callback_of(overview, "update_overview"), "overview", **{
            "ov-quarter__value": random.choice(CHOICES["quarters"]),
            "ov-agency__value": random.choice([None, *CHOICES["agencies"]]), "ov-channel__value": channel,
            "ov-search__value": random.choice(["", "licence", "passport"]),
            "ov-pillar__value": random.choice(["efficiency", "effectiveness", "steps"]), "ov-lang__data": lang})
        if answer:  # the charts follow the star table's rows, as in the browser
            self._post(callback_of(overview, "update_charts"), "overview: charts")

    @task(2)
    def open_a_service(self) -> None:
        self._open(service, self.lang)
        given = {"sv-service__value": random.choice(CHOICES["services"]),
                 "sv-quarter__value": random.choice([service.ALL, *CHOICES["quarters"]]), "sv-lang__data": self.lang,
                 "sv-variants__value": []}
        self._post(callback_of(service, "update_service"), "service: rating and variants", **given)
        self._long_job(service, callback_of(service, "update_conformance"), "service: conformance")

    @task(4)
    def work_the_map(self) -> None:
        self._post(callback_of(service, "update_selection"), "service: map, variants, KPIs", **{
            "sv-service__value": random.choice(CHOICES["services"]),
            "sv-quarter__value": random.choice([service.ALL, *CHOICES["quarters"]]), "sv-variants__value": [],
            "sv-measure__value": random.choice(["frequency", "performance"]),
            "sv-coverage__value": random.choice([0.6, 0.8, 0.9, 1.0]),
            "sv-variant-measure__value": random.choice(["cases", "steps", "duration"]), "sv-lang__data": self.lang})
        variants = callback_of(service, "update_variants")
        if variants is not None:  # the variant explorer's table follows the same inputs
            self._post(variants, "service: variant table")

    @task(1)
    def read_journeys(self) -> None:
        self._open(customer_journeys, self.lang)
        if CHOICES.get("life_events"):
            self._post(customer_journeys.CALLBACKS[0], "journeys",
                       **{"cj-life-event__value": random.choice(CHOICES["life_events"]), "cj-lang__data": self.lang})

    @task(1)
    def read_coverage(self) -> None:
        self._open(data_quality, self.lang)
        self._post(data_quality.CALLBACKS[0], "data: coverage",
                   **{"dq-quarters__value": random.choice(["4", "all"]), "dq-lang__data": self.lang})

    @task(1)
    def project_a_redesign(self) -> None:
        self._open(redesign, self.lang)
        given = {"rd-service__value": random.choice(CHOICES["services"]),
                 "rd-quarter__value": random.choice(CHOICES["quarters"]), "rd-lang__data": self.lang}
        answer = self._post(callback_for(redesign, "rd-activities", "data"), "redesign: activities", **given)
        activities = [a["value"] for a in (answer or {}).get("rd-activities", {}).get("data", [])]
        if not activities:
            return
        plan = [{"kind": random.choice(["remove", "automate"]), "activities": [random.choice(activities)],
                 "into": "", "channel": None}]
        self._long_job(redesign, callback_of(redesign, "submit", "project"), "redesign: projection",
                       **{"rd-plan__data": plan, "rd-apply__n_clicks": 1})


__all__ = ["Analyst", "payload"]
