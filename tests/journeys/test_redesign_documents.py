"""Redesign transforms and documents: a projected step supplies what the steps it stands for supplied."""

from __future__ import annotations

import pandas as pd
import pytest

from najma.journeys import Store, build_journeys, parse_catalogue, register_catalogue
from najma.journeys._redesign import AutomateActivity, MergeActivities, MoveToChannel, RemoveActivity, project_journeys

DAY = pd.Timestamp("2025-01-05 09:00", tz="UTC")
CATALOGUE = """
version = 1
[services.licence]
name_en = "Licence"
name_ar = "رخصة"
agency = "Economy"
sla_hours = 24
[services.licence.activities]
Apply = ["customer_step", "application"]
Upload = ["customer_step", "document_submission"]
"Sign lease" = ["customer_step", "document_submission"]
Resubmit = ["customer_step", "document_submission", "rework"]
Done = ["system_step", "approval"]
[services.licence.documents]
Upload = ["passport copy", "photo"]
Resubmit = ["photo"]
"""
#: Each case's steps, an hour apart. "Sign lease" is not in the documents table: it supplies "Sign lease".
CASES = {
    "photo again": ["Apply", "Upload", "Resubmit", "Done"],  # the photo twice: 1
    "lease apart": ["Apply", "Sign lease", "Resubmit", "Upload", "Sign lease", "Done"],  # the photo and the lease twice: 2
    "nothing again": ["Apply", "Upload", "Sign lease", "Done"],  # 0
}


@pytest.fixture
def licence(store: Store) -> Store:
    """The cases of CASES, loaded in a shuffled order, with the catalogue registered and journeys built."""
    rows = [{"case_id": case_id, "service": "licence", "activity": step, "customer_id": "784-1",
             "timestamp": DAY + pd.Timedelta(hours=hour)}
            for case_id, steps in CASES.items() for hour, step in enumerate(steps)]
    store.ingest_frame(pd.DataFrame(rows).sample(frac=1, random_state=7))
    register_catalogue(store, parse_catalogue(CATALOGUE))
    build_journeys(store)
    return store


def _asked_again(store: Store, *transforms: object) -> dict[str, int]:
    journeys = project_journeys(store, "licence", list(transforms)).to_pandas()
    return journeys.set_index("case_id").documents_asked_again.to_dict()


def test_no_transform_counts_the_documents_the_catalogue_says(licence: Store):
    assert _asked_again(licence) == {"photo again": 1, "lease apart": 2, "nothing again": 0}


def test_a_merged_submission_still_supplies_its_documents(licence: Store):
    # Apply + Upload becomes one step that supplies the passport copy and the photo: the photo resubmitted is
    # asked again, as today. In "lease apart" Apply and Upload are apart, so each is the merged step on its own
    # and each supplies both documents: the passport copy and the photo come twice more.
    assert _asked_again(licence, MergeActivities(["Apply", "Upload"], "Apply with papers")) == {
        "photo again": 1, "lease apart": 4, "nothing again": 0}


def test_a_merged_step_supplies_every_merged_activitys_documents_the_default_ones_too(licence: Store):
    # Every "Hand in" supplies the passport copy, the photo and "Sign lease" (the default document of an unlisted
    # activity). In "lease apart" it is taken twice (the runs are apart), with the photo resubmitted between:
    # seven supplies of three documents.
    projected = _asked_again(licence, MergeActivities(["Upload", "Sign lease"], "Hand in"))
    assert projected == {"photo again": 1, "lease apart": 4, "nothing again": 0}


def test_a_renamed_submission_keeps_its_documents(licence: Store):
    renamed = MergeActivities(["Upload"], "Upload papers")
    assert _asked_again(licence, renamed) == _asked_again(licence)
    moved = MoveToChannel("Upload", "smart app")
    assert _asked_again(licence, moved) == _asked_again(licence)


@pytest.mark.parametrize("transform", [RemoveActivity("Upload"), AutomateActivity("Upload")])
def test_a_removed_or_automated_submission_supplies_nothing(licence: Store, transform: object):
    # Without the upload the photo is supplied once, by Resubmit; the lease is still signed twice.
    assert _asked_again(licence, transform) == {"photo again": 0, "lease apart": 1, "nothing again": 0}


def test_transforms_compose_on_the_documents(licence: Store):
    # The merged step's documents stay with it when a later transform removes the resubmission:
    # "lease apart" hands in the three documents twice.
    steps = (MergeActivities(["Upload", "Sign lease"], "Hand in"), RemoveActivity("Resubmit"))
    assert _asked_again(licence, *steps) == {"photo again": 0, "lease apart": 3, "nothing again": 0}
    # An automated submission hands nothing in, so a step it is later merged into supplies only the others'
    # documents: every "Hand in" supplies the passport copy and the photo, never "Sign lease".
    steps = (AutomateActivity("Sign lease"), MergeActivities(["Upload", "Sign lease"], "Hand in"))
    assert _asked_again(licence, *steps) == {"photo again": 1, "lease apart": 3, "nothing again": 0}
