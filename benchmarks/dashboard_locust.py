"""A simulated analyst for locust: opens pages and works them through the dashboard's own callback requests.

Each task posts what the browser posts to ``/_dash-update-component`` for one callback of a page,
with filter values drawn at random from what the store holds. Run by ``benchmarks/dashboard.py``.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from dash.dependencies import Input, Output, State
from locust import HttpUser, between, task

from najma.dashboards.pages import customer_journeys, data_quality, overview, service
from najma.dashboards.pages.common import Callback

#: Filled by the benchmark: the quarters, services, agencies and channels of the store.
CHOICES: dict[str, list[str]] = json.loads(os.environ.get("NAJMA_BENCH_CHOICES", "{}"))


def payload(callback: Callback, values: list[Any]) -> dict[str, Any]:
    """The body the browser posts for `callback`, given the values of its inputs and states in order."""
    outputs = [d for d in callback.dependencies if isinstance(d, Output)]
    given = [d for d in callback.dependencies if isinstance(d, Input | State)]
    pairs = list(zip(given, values, strict=True))
    inputs = [{"id": d.component_id, "property": d.component_property, "value": v}
              for d, v in pairs if isinstance(d, Input)]
    states = [{"id": d.component_id, "property": d.component_property, "value": v}
              for d, v in pairs if isinstance(d, State)]
    names = [f"{o.component_id}.{o.component_property}" for o in outputs]
    return {
        "output": names[0] if len(names) == 1 else ".." + "...".join(names) + "..",
        "outputs": [{"id": o.component_id, "property": o.component_property} for o in outputs]
        if len(outputs) > 1 else {"id": outputs[0].component_id, "property": outputs[0].component_property},
        "inputs": inputs, "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"], "state": states,
    }


class Analyst(HttpUser):
    """Looks at the overview, opens services and works their maps, reads journeys and the data page."""

    wait_time = between(0.5, 2.0)

    def _post(self, callback: Callback, values: list[Any], name: str) -> dict[str, Any] | None:
        """Post one callback; return the properties it answered, or None when it failed."""
        with self.client.post("/_dash-update-component", json=payload(callback, values), name=name,
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json()["response"]

    @task(3)
    def overview_filters(self) -> None:
        channel, lang = random.choice([None, *CHOICES["channels"]]), random.choice(["en", "ar"])
        answer = self._post(overview.CALLBACKS[0], [
            random.choice(CHOICES["quarters"]), random.choice([None, *CHOICES["agencies"]]), channel,
            random.choice(["", "licence", "passport"]), random.choice(["efficiency", "effectiveness", "steps"]), lang,
        ], "overview")
        if answer is not None:  # the charts follow the star table's rows, as in the browser
            self._post(overview.CALLBACKS[1], [answer["ov-grid"]["rowData"], channel, lang], "overview: charts")

    @task(2)
    def open_a_service(self) -> None:
        self.client.get("/service", name="page /service")
        chosen = random.choice(CHOICES["services"])
        quarter = random.choice([service.ALL, *CHOICES["quarters"]])
        self._post(service.CALLBACKS[0], [chosen, quarter, "en"], "service: rating and variants")

    @task(4)
    def work_the_map(self) -> None:
        self._post(service.CALLBACKS[2], [
            random.choice(CHOICES["services"]), random.choice([service.ALL, *CHOICES["quarters"]]), [],
            random.choice(["frequency", "performance"]), random.choice([0.6, 0.8, 0.9, 1.0]),
            random.choice(["cases", "steps", "duration"]), "en",
        ], "service: map, variants, KPIs")

    @task(1)
    def read_journeys(self) -> None:
        if CHOICES.get("life_events"):
            self._post(customer_journeys.CALLBACKS[0], [CHOICES["life_events"][0], "en"], "journeys")

    @task(1)
    def read_coverage(self) -> None:
        self._post(data_quality.CALLBACKS[0], [random.choice(["4", "all"]), "en"], "data: coverage")
