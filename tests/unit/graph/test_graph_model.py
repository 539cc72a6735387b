"""The graph of a definition: nodes by JSON pointer, labelled edges, nested scopes."""

from __future__ import annotations

import json

from engine._graph import EdgeKind, build_graph
from tests.unit.graph.support import ORDER


def edges_of(graph, source: str) -> list[tuple[str, str, str]]:
    return [(e.kind, graph.nodes[e.target].name, e.label) for e in graph.edges_from(source)]


def test_choice_rules_default_next_and_catch_become_labelled_edges():
    # Given the order example (a Choice, a Task with Catch, a Parallel, a Map)
    graph = build_graph(json.loads(ORDER.read_text()))

    # When its edges are read
    choice = edges_of(graph, "/States/ValidateOrder")
    charge = edges_of(graph, "/States/ChargePayment")

    # Then the Choice rule is worded and the Default is its own edge
    assert choice == [
        (EdgeKind.CHOICE, "PriceLines", choice[0][2]),
        (EdgeKind.DEFAULT, "RejectOrder", "Default"),
    ]
    assert choice[0][2].startswith("$.items[0] is present and $.customer.email is a string")
    # And a Catch edge names its errors
    assert charge == [
        (EdgeKind.NEXT, "FulfilOrder", ""),
        (EdgeKind.CATCH, "CompensatePayment", "Catch States.ALL"),
    ]


def test_parallel_branches_and_map_processors_are_nested_scopes():
    # Given the order example
    graph = build_graph(json.loads(ORDER.read_text()))

    # When the scopes owned by the Parallel and the Map are read
    branches = graph.inner_scopes("/States/FulfilOrder")
    processor = graph.inner_scopes("/States/PriceLines")

    # Then each branch and the item processor has its start, its states and its end
    assert [s.label for s in branches] == ["Branch 1", "Branch 2"]
    assert branches[0].nodes == (
        "/States/FulfilOrder/Branches/0/StartAt",
        "/States/FulfilOrder/Branches/0/States/ReserveInventory",
        "/States/FulfilOrder/Branches/0#end",
    )
    assert [s.id for s in processor] == ["/States/PriceLines/ItemProcessor"]
    # And the start edge and End edges stay inside their scope
    assert edges_of(graph, "/States/PriceLines/ItemProcessor/StartAt") == [
        (EdgeKind.START, "PriceLine", "")
    ]
    assert graph.edges_from("/States/PriceLines/ItemProcessor/States/PriceLine")[0].target == (
        "/States/PriceLines/ItemProcessor#end"
    )


def test_comparison_operators_are_worded_as_expressions():
    # Given a Choice with a numeric comparison, a path comparison, a Not and a JSONata rule
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.total", "NumericGreaterThan": 100, "Next": "E"},
                    {"Variable": "$.a", "StringEqualsPath": "$.b", "Next": "E"},
                    {"Not": {"Variable": "$.vip", "BooleanEquals": True}, "Next": "E"},
                    {"Condition": "{% $states.input.n < 3 %}", "Next": "E"},
                ],
                "Default": "E",
            },
            "E": {"Type": "Succeed"},
        },
    }

    # When the graph is built
    labels = [e.label for e in build_graph(definition).edges_from("/States/C")]

    # Then each rule reads as an expression
    assert labels == [
        "$.total > 100",
        "$.a == $.b",
        "not $.vip == true",
        "$states.input.n < 3",
        "Default",
    ]


def test_a_malformed_definition_still_has_a_graph_and_places_diagnostics():
    # Given a definition with a dangling Next, a state that is not an object and no Type
    definition = {"StartAt": "A", "States": {"A": {"Next": "Nowhere"}, "B": 3}}

    # When its graph is built
    graph = build_graph(definition)

    # Then both states are nodes, the dangling transition is left out
    assert graph.nodes["/States/A"].type == "?"
    assert graph.nodes["/States/B"].type == "?"
    assert graph.edges_from("/States/A") == ()
    # And a diagnostic pointer lands on the deepest state containing it
    assert graph.place("/States/A/Next") == "/States/A"
    assert graph.place("/TimeoutSeconds") == "/StartAt"
    assert graph.place("/States/A~1B") == "/StartAt"  # no such state


def test_state_names_with_slashes_are_escaped_in_pointers():
    # Given a state whose name holds a slash and a tilde
    graph = build_graph({"StartAt": "a/b~c", "States": {"a/b~c": {"Type": "Succeed"}}})

    # When its node is looked up
    (node,) = graph.states_named("a/b~c")

    # Then its id is the RFC 6901 pointer the validator would report
    assert node.id == "/States/a~1b~0c"
    assert graph.place("/States/a~1b~0c/Type") == node.id
