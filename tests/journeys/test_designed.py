"""Designed journeys with choices, optional steps and steps in any order: written, read, aligned, priced, held to pm4py."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments
from pm4py.objects.log.obj import Event, EventLog, Trace

from najma.errors import CatalogueError
from najma.journeys import (
    Store,
    build_journeys,
    load_catalogue,
    open_source,
    parse_catalogue,
    register_catalogue,
    variant_activities,
)
from najma.journeys._conformance_checking import (
    TREE_POSITION,
    conformance,
    designed_journeys,
    designed_steps,
)
from najma.journeys._designed import Tree, align, automaton, fewest_steps, parse_tree, read_bpmn, sequence_tree
from najma.journeys._pm4py_adapter import process_tree, to_bpmn, to_petri_net, write_bpmn
from najma.rating import case_features
from najma.sample import SAMPLE_CATALOGUE

DESIGN = "->(Apply, ?Upload, +(Pay, Book), X(Deliver, Collect))"
CATALOGUE = f"""
version = 1
[services.permit]
name_en = "Permit"
name_ar = "تصريح"
agency = "Municipality"
sla_hours = 48
designed_journey = "{DESIGN}"
[services.permit.activities]
Apply = ["customer_step", "application"]
Upload = ["customer_step", "document_submission"]
Pay = ["customer_step", "payment"]
Book = ["customer_step"]
Deliver = ["staff_step", "delivery"]
Collect = ["customer_step", "delivery", "visit"]
Call = ["customer_step"]
"""
#: Hand-made cases (activity, hour): two that fit by either branch, with and without the optional
#: step and with the unordered block both ways; one with a step the design lacks; one paying last.
CASES = {
    "delivered": [("Apply", 0), ("Upload", 1), ("Pay", 2), ("Book", 3), ("Deliver", 5)],
    "collected": [("Apply", 0), ("Book", 1), ("Pay", 2), ("Collect", 4)],
    "called": [("Apply", 0), ("Call", 4), ("Pay", 6), ("Book", 7), ("Deliver", 9)],
    "paid_last": [("Apply", 0), ("Book", 1), ("Deliver", 3), ("Pay", 10)],
}
#: Trees over the letters a-f that exercise every operator, for the comparison with pm4py on random traces.
TREES = ["->(a, X(b, c), ?d, +(e, f))", "->(a, *(b, c), d)", "+(a, ->(b, c), ?X(d, e))", "->(a, b, a)",
         "X(->(a, b), +(c, d, e), f)"]


@pytest.fixture(scope="module")
def permit(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store of the hand-made cases and the design; read only by the tests."""
    with Store(tmp_path_factory.mktemp("permit") / "permit.duckdb") as store:
        yield _with_cases(store)


def _with_cases(store: Store) -> Store:
    day = pd.Timestamp("2025-03-02 08:00", tz="UTC")
    rows = [{"case_id": case, "activity": activity, "timestamp": day + pd.Timedelta(hours=hours), "service": "permit"}
            for case, steps in CASES.items() for activity, hours in reversed(steps)]
    store.ingest_frame(pd.DataFrame(rows))
    catalogue = parse_catalogue(CATALOGUE)
    register_catalogue(store, catalogue)
    build_journeys(store)
    return store


def pm4py_fitness(variants: list[tuple[str, ...]], tree: Tree) -> list[float]:
    """pm4py's alignment fitness of each variant against `tree` (the oracle)."""
    net, initial, final = to_petri_net(process_tree(tree))
    log = EventLog([Trace([Event({"concept:name": activity}) for activity in variant]) for variant in variants])
    found = alignments.apply_log(log, net, initial, final, parameters={alignments.Parameters.SHOW_PROGRESS_BAR: False})
    return [result["fitness"] for result in found]


def assert_equal_to_pm4py(result_variants: pd.DataFrame, tree: Tree) -> None:
    expected = pm4py_fitness([variant_activities(v) for v in result_variants.variant], tree)
    assert result_variants.fitness.tolist() == pytest.approx(expected, abs=1e-12)
    assert result_variants.fits.tolist() == [value == 1.0 for value in expected]


def test_the_notation_reads_choices_optional_and_unordered_steps_and_prints_back():
    tree = parse_tree(DESIGN)
    assert tree.leaves() == ("Apply", "Upload", "Pay", "Book", "Deliver", "Collect")
    assert str(tree) == DESIGN
    assert parse_tree(str(tree)) == tree
    assert parse_tree("->('Pay (online)', \"it's done\", Submit application)").leaves() == (
        "Pay (online)", "it's done", "Submit application")
    assert str(parse_tree("->('Pay (online)', tau)")) == "->('Pay (online)', tau)"
    assert parse_tree("X(tau, a)") == parse_tree("?a")


@pytest.mark.parametrize(("text", "message"), [
    ("->(Apply, Pay", "ends too early"),
    ("->(Apply Pay))", r"unexpected '\)' at character 14"),
    ("*(a, b, c)", "two parts"),
    ("->(, a)", "expected a step"),
])
def test_a_bad_design_is_refused_saying_where(text: str, message: str):
    with pytest.raises(CatalogueError, match=message):
        parse_tree(text)


@pytest.mark.parametrize("variant", [
    ("Apply", "Upload", "Pay", "Book", "Deliver"),  # one branch, with the optional step
    ("Apply", "Pay", "Book", "Collect"),  # the other branch, without it
    ("Apply", "Upload", "Book", "Pay", "Collect"),  # the unordered block the other way round
])
def test_either_branch_with_or_without_the_optional_step_in_either_order_fits(variant: tuple[str, ...]):
    result = align(variant, automaton(parse_tree(DESIGN)))
    assert result.cost == 0 and result.fitness == 1.0
    assert result.moves == [(activity, activity) for activity in variant]


@pytest.mark.parametrize("variant", [
    ("Apply", "Pay", "Deliver"),  # Book skipped
    ("Apply", "Pay", "Book", "Deliver", "Collect"),  # both branches
    ("Apply", "Upload", "Upload", "Pay", "Book", "Deliver"),  # the optional step twice
])
def test_a_real_deviation_does_not_fit(variant: tuple[str, ...]):
    result = align(variant, automaton(parse_tree(DESIGN)))
    assert result.cost == 1
    assert result.fitness == pytest.approx(1 - 1 / (len(variant) + 4))  # the shortest designed journey has 4 steps


def test_conformance_finds_the_deviations_and_prices_them_as_computed_by_hand(permit: Store):
    result = conformance(permit)
    deviations = result.deviations.set_index(["kind", "activity"])
    # Call (not designed) after 4 h; Pay taken after Deliver: out of order, once, 7 h after Deliver.
    assert set(deviations.index) == {("inserted", "Call"), ("moved", "Pay")}
    assert deviations.loc[("inserted", "Call"), "seconds"] == 4 * 3600
    assert deviations.loc[("moved", "Pay"), "seconds"] == 7 * 3600
    assert (deviations.cases == 1).all() and (deviations.occurrences == 1).all()
    assert sorted(result.variants.fits) == [False, False, True, True]
    assert result.variants[["skipped", "inserted", "repeated", "moved"]].sum().to_dict() == {
        "skipped": 0, "inserted": 1, "repeated": 0, "moved": 1}
    service = result.services.iloc[0]
    assert service.fitting_share == 0.5
    # fitting cases last 5 h and 4 h (median 4.5 h), deviating ones 9 h and 10 h (median 9.5 h)
    assert service.extra_days == pytest.approx(5 / 24)
    fitness = result.cases.to_pandas().set_index("case_id").fitness
    assert fitness["delivered"] == fitness["collected"] == 1.0
    assert fitness["called"] == pytest.approx(1 - 1 / (5 + 4))
    assert fitness["paid_last"] == pytest.approx(1 - 2 / (4 + 4))  # a moved step is two moves in the alignment


def test_conformance_on_a_design_with_choices_equals_pm4py_alignments(permit: Store):
    assert_equal_to_pm4py(conformance(permit).variants, parse_tree(DESIGN))


@pytest.mark.parametrize("text", TREES)
def test_alignment_equals_pm4py_on_random_traces(text: str):
    tree, draw = parse_tree(text), random.Random(text)
    traces = [tuple(draw.choice("abcdef") for _ in range(draw.randint(1, 7))) for _ in range(120)]
    model, expected = automaton(tree), pm4py_fitness(traces, tree)
    assert [align(trace, model).fitness for trace in traces] == pytest.approx(expected, abs=1e-12)


def test_a_step_out_of_order_in_a_strict_sequence_counts_once_as_moved(store: Store):
    day = pd.Timestamp("2025-03-02 08:00", tz="UTC")
    steps = [("A", 0), ("C", 1), ("B", 3)]
    store.ingest_frame(pd.DataFrame([{"case_id": "1", "activity": a, "timestamp": day + pd.Timedelta(hours=h),
                                      "service": "s"} for a, h in steps]))
    register_catalogue(store, parse_catalogue('[services.s]\nname_en = "S"\nname_ar = "س"\nagency = "A"\n'
                                              'sla_hours = 1\ndesigned_journey = ["A", "B", "C"]\n'))
    build_journeys(store)
    result = conformance(store)
    assert result.deviations[["kind", "cases"]].values.tolist() == [["moved", 1]]
    assert result.variants.loc[0, "moved"] == 1
    assert result.variants.loc[0, ["skipped", "inserted"]].tolist() == [0, 0]


SAMPLE_DESIGNS = {
    "passport": "->(X(Submit application, Proactive case opened), ?Upload documents, Pay fees, Review application, "
                "Approve application, Issue document, Notify customer, X(Deliver document, Collect document at centre))",
    "driving_licence_renewal": "->(Submit application, ?Upload documents, ?Eye test, Pay fees, Review application, "
                               "Approve application, Issue document, Notify customer, "
                               "X(Deliver document, Collect document at centre))",
}


def test_the_sample_with_designs_that_have_choices_fits_more_and_equals_pm4py(built_sample: Path, tmp_path: Path):
    copy = Path(shutil.copy(built_sample, tmp_path / "sample.duckdb"))
    with Store(copy) as store:
        before = conformance(store).services.set_index("service")
        catalogue = load_catalogue(SAMPLE_CATALOGUE)
        changed = {key: replace(spec, designed_model=parse_tree(SAMPLE_DESIGNS[key]),
                                designed_journey=parse_tree(SAMPLE_DESIGNS[key]).leaves())
                   if key in SAMPLE_DESIGNS else spec for key, spec in catalogue.services.items()}
        register_catalogue(store, replace(catalogue, services=changed))
        result = conformance(store)
        after = result.services.set_index("service")
        for service, design in SAMPLE_DESIGNS.items():
            assert after.loc[service, "fitting_share"] > before.loc[service, "fitting_share"]
            assert_equal_to_pm4py(result.variants[result.variants.service == service], parse_tree(design))
        untouched = [s for s in before.index if s not in SAMPLE_DESIGNS]
        pd.testing.assert_frame_equal(before.loc[untouched], after.loc[untouched])


RECEIPT_T = ["T02 Check confirmation of receipt", "T04 Determine confirmation of receipt",
             "T05 Print and send confirmation of receipt", "T06 Determine necessity of stop advice",
             "T10 Determine necessity to stop indication"]
RECEIPT_DESIGN = f"->(Confirmation of receipt, +(->({', '.join(RECEIPT_T[:3])}), ->({', '.join(RECEIPT_T[3:])})))"


def test_a_real_log_against_a_design_with_steps_in_any_order_equals_pm4py(real: Path, store: Store):
    store.ingest(open_source(real / "receipt.xes.gz"))
    build_journeys(store)
    service = store.backend.table("journeys").service.to_pandas().iloc[0]
    register_catalogue(store, parse_catalogue(
        f'[services."{service}"]\nname_en = "R"\nname_ar = "R"\nagency = "A"\nsla_hours = 1\n'
        f'designed_journey = "{RECEIPT_DESIGN}"\n'))
    result = conformance(store)
    assert_equal_to_pm4py(result.variants, parse_tree(RECEIPT_DESIGN))
    moved = result.deviations[result.deviations.activity.isin(RECEIPT_T[3:])]
    assert "moved" not in set(moved.kind)  # reordering the two blocks is designed, so it is no deviation
    assert result.services.loc[0, "fitting_share"] > 0.75


def test_the_store_keeps_a_tree_beside_its_activities_and_a_list_as_it_was(permit: Store, sample_journeys: Store):
    rows = permit.backend.table("designed_journeys").order_by("position").to_pandas()
    assert rows.activity.tolist() == [DESIGN, "Apply", "Upload", "Pay", "Book", "Deliver", "Collect"]
    assert rows.position.tolist() == [TREE_POSITION, 0, 1, 2, 3, 4, 5]
    assert designed_journeys(permit) == {"permit": parse_tree(DESIGN)}
    sample = sample_journeys.backend.table("designed_journeys")
    assert sample.filter(sample.position == TREE_POSITION).count().execute() == 0
    passport = load_catalogue(SAMPLE_CATALOGUE).services["passport"]
    assert passport.designed_model is None
    assert designed_journeys(sample_journeys)["passport"] == sequence_tree(passport.designed_journey)


def test_steps_kpis_count_the_fewest_customer_steps_the_design_allows(permit: Store):
    # Apply, Pay and Book; Upload is optional, and Deliver (staff) is the cheaper branch of the choice
    assert designed_steps(permit).values.tolist() == [["permit", 3]]
    features = case_features(permit).set_index("case_id")
    assert features.loc["delivered", "above_design"] == 1  # the optional upload
    assert features.loc["collected", "above_design"] == 1  # collecting is a customer step, delivering is not
    assert features.loc["called", "above_design"] == 1


def test_a_design_drawn_as_bpmn_is_read_into_the_same_journeys(tmp_path: Path):
    tree = parse_tree("->(a, X(b, ->(c, d)), +(e, ?f, g))")
    path = write_bpmn(to_bpmn(process_tree(tree)), tmp_path / "design.bpmn")
    read = read_bpmn(path)
    assert sorted(read.leaves()) == sorted(tree.leaves())
    draw = random.Random(7)
    traces = [tuple(draw.choice("abcdefg") for _ in range(draw.randint(1, 7))) for _ in range(150)]
    traces += [("a", "b", "e", "g"), ("a", "c", "d", "g", "f", "e")]
    ours, theirs = automaton(read), automaton(tree)
    assert [align(t, ours).cost for t in traces] == [align(t, theirs).cost for t in traces]
    assert fewest_steps(ours) == fewest_steps(theirs) == 4


def test_a_catalogue_names_a_bpmn_file_beside_it(tmp_path: Path):
    write_bpmn(to_bpmn(process_tree(parse_tree(DESIGN))), tmp_path / "permit.bpmn")
    (tmp_path / "services.toml").write_text(CATALOGUE.replace(f'"{DESIGN}"', '{ bpmn = "permit.bpmn" }'),
                                            encoding="utf-8")
    spec = load_catalogue(tmp_path / "services.toml").services["permit"]
    assert sorted(spec.designed_journey) == sorted(parse_tree(DESIGN).leaves())
    assert align(("Apply", "Book", "Pay", "Collect"), automaton(spec.designed_model)).cost == 0


def test_a_bpmn_file_with_a_dtd_or_a_loop_is_refused_naming_the_file(tmp_path: Path):
    entity = tmp_path / "entity.bpmn"
    for declared in ('<!ENTITY x "boom">', '<!ENTITY x SYSTEM "file:///etc/passwd">'):
        entity.write_text(f'<?xml version="1.0"?><!DOCTYPE d [{declared}]>'
                          '<definitions><process id="p"><task id="t" name="&x;"/></process></definitions>')
        with pytest.raises(CatalogueError, match="entity.bpmn: .*(DOCTYPE|external entity)"):
            read_bpmn(entity)
    loop = tmp_path / "loop.bpmn"
    loop.write_text(
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
        '<startEvent id="s"/><exclusiveGateway id="j"/><task id="a" name="A"/><exclusiveGateway id="x"/>'
        '<endEvent id="e"/><sequenceFlow id="1" sourceRef="s" targetRef="j"/><sequenceFlow id="2" sourceRef="j" '
        'targetRef="a"/><sequenceFlow id="3" sourceRef="a" targetRef="x"/><sequenceFlow id="4" sourceRef="x" '
        'targetRef="j"/><sequenceFlow id="5" sourceRef="x" targetRef="e"/></process></definitions>')
    with pytest.raises(CatalogueError, match="loop.bpmn.*'j'"):
        read_bpmn(loop)


def test_a_catalogue_with_a_bad_design_names_the_service(tmp_path: Path):
    with pytest.raises(CatalogueError, match=r"\[services.permit\] designed_journey.*ends too early"):
        parse_catalogue(CATALOGUE.replace(DESIGN, "->(Apply, Pay"))
    with pytest.raises(CatalogueError, match="names 'Visit', which is not among its activities"):
        parse_catalogue(CATALOGUE.replace("?Upload", "?Visit"))
    with pytest.raises(CatalogueError, match="must be a list of activity names, a process tree"):
        parse_catalogue(CATALOGUE.replace(f'"{DESIGN}"', "5"))
