"""The local stack reads what to run from the template: functions, routes, queue mappings, schedules."""

from __future__ import annotations

from typing import Any

import pytest

from local.resources import load_template
from local.topology import TopologyError, read_topology


def _template(events: dict[str, Any], **globals_: Any) -> dict[str, Any]:
    return {
        "Globals": {"Function": {"Timeout": 30, "Layers": [{"Ref": "Layer"}], **globals_}},
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::HttpApi",
                "Properties": {"Auth": {"DefaultAuthorizer": "Jwt"}},
            },
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "functions/", "Handler": "pkg.app.handler", "Events": events},
            },
        },
    }


def test_the_repository_template_maps_every_function_and_event() -> None:
    # Given the repository's template.yaml
    template = load_template()

    # When its topology is read
    topology = read_topology(template)

    # Then every function is there with its handler, and each event kind found its place
    assert set(topology.functions) == {
        lid for lid, spec in template["Resources"].items() if spec["Type"] == "AWS::Serverless::Function"
    }
    assert ("POST", "/connections", "ApiFunction") in {
        (r.method, r.path, r.function) for r in topology.routes
    }
    assert all(route.authorizer == "HubJwt" for route in topology.routes)
    refresh = next(m for m in topology.queues if m.queue == "RefreshQueue")
    assert refresh.function == "RefreshWorkerFunction"
    assert refresh.report_item_failures is True
    assert refresh.batch_size == 5
    assert topology.schedule("Nightly").function == "RefreshScheduleFunction"
    assert topology.functions["ApiFunction"].layers == ("TraCoreLayer",)


def test_route_auth_defaults_to_the_api_authorizer_unless_the_event_opens_it() -> None:
    # Given one route under the default authorizer and one with Authorizer NONE
    template = _template(
        {
            "Closed": {
                "Type": "HttpApi",
                "Properties": {"ApiId": {"Ref": "Api"}, "Path": "/a", "Method": "get"},
            },
            "Open": {
                "Type": "HttpApi",
                "Properties": {
                    "ApiId": {"Ref": "Api"},
                    "Path": "/b",
                    "Method": "GET",
                    "Auth": {"Authorizer": "NONE"},
                },
            },
        }
    )

    # When read
    routes = {r.path: r for r in read_topology(template).routes}

    # Then the method is upper-cased and only the first route needs a token
    assert routes["/a"].method == "GET"
    assert routes["/a"].authorizer == "Jwt"
    assert routes["/b"].authorizer is None


def test_sqs_mapping_defaults_follow_aws_and_parameters_are_resolved() -> None:
    # Given an SQS event without a batch size and one whose batch size is a parameter
    template = _template(
        {
            "Plain": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}},
            "Tuned": {
                "Type": "SQS",
                "Properties": {
                    "Queue": {"Fn::GetAtt": "Queue.Arn"},
                    "BatchSize": {"Ref": "Batch"},
                    "Enabled": False,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                },
            },
        }
    )

    # When read with the parameter's value
    mappings = {m.name: m for m in read_topology(template, {"Batch": "7"}).queues}

    # Then AWS's defaults apply, and the parameter's value is used
    assert (mappings["Plain"].batch_size, mappings["Plain"].report_item_failures) == (10, False)
    assert mappings["Plain"].queue == "Queue"
    assert (mappings["Tuned"].batch_size, mappings["Tuned"].enabled) == (7, False)
    assert mappings["Tuned"].report_item_failures is True


def test_function_settings_merge_globals_and_an_unknown_event_type_is_refused() -> None:
    # Given a function inheriting its timeout and layers from Globals
    template = _template({})
    function = read_topology(template).functions["Fn"]
    assert (function.timeout_s, function.layers, function.code_uri) == (30, ("Layer",), "functions/")

    # When an event type the stack cannot run is declared, Then reading the template fails loudly
    with pytest.raises(TopologyError, match="Kinesis"):
        read_topology(_template({"Stream": {"Type": "Kinesis", "Properties": {}}}))


def test_a_schedule_is_found_by_event_name_or_function_and_unknown_names_are_refused() -> None:
    # Given one schedule whose expression is a parameter
    template = _template({"Nightly": {"Type": "Schedule", "Properties": {"Schedule": {"Ref": "When"}}}})
    topology = read_topology(template, {"When": "cron(0 2 * * ? *)"})

    # Then it is found both ways, with its resolved expression
    assert topology.schedule("Nightly") is topology.schedule("Fn")
    assert topology.schedule("Nightly").expression == "cron(0 2 * * ? *)"
    with pytest.raises(KeyError, match="Nightly"):
        topology.schedule("Weekly")


def test_the_repository_templates_concurrency_with_parameter_defaults_and_overrides() -> None:
    # Given the repository's template with its parameters' defaults
    template = load_template()
    topology = read_topology(template)
    default = int(template["Parameters"]["UploadWorkerConcurrency"]["Default"])
    refresh = int(template["Parameters"]["RefreshWorkerConcurrency"]["Default"])

    # Then each function's concurrency is its mapping's MaximumConcurrency, the unbounded cap
    # stands for the API and for a mapping without one, and a stream or schedule counts one
    sandboxes = {name: topology.max_sandboxes(name, unbounded=4) for name in topology.functions}
    assert sandboxes["UploadFunction"] == default == 5
    assert sandboxes["RefreshWorkerFunction"] == refresh
    assert sandboxes["VerifyFunction"] == 2
    assert sandboxes["ApiFunction"] == 4
    assert sandboxes["DeliveryFunction"] == 4
    assert (sandboxes["RelayFunction"], sandboxes["RefreshScheduleFunction"]) == (1, 1)
    upload = next(m for m in topology.queues if m.function == "UploadFunction")
    assert upload.max_concurrency == 5

    # And a stack override of the parameter wins over its default
    overridden = read_topology(template, {"UploadWorkerConcurrency": "12", "RefreshWorkerConcurrency": "3"})
    assert overridden.max_sandboxes("UploadFunction", unbounded=4) == 12
    assert overridden.max_sandboxes("RefreshWorkerFunction", unbounded=4) == 3


def test_reserved_concurrency_caps_a_function_and_stream_parallelization_counts() -> None:
    # Given a function with two SQS mappings (one bounded by a parameter), a stream of
    # parallelization factor 2 and a route, reserved concurrency from Globals
    template = _template(
        {
            "Bounded": {
                "Type": "SQS",
                "Properties": {
                    "Queue": {"Fn::GetAtt": "Queue.Arn"},
                    "ScalingConfig": {"MaximumConcurrency": {"Ref": "Workers"}},
                },
            },
            "Open": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": "Queue.Arn"}}},
            "Changes": {
                "Type": "DynamoDB",
                "Properties": {"Stream": {"Fn::GetAtt": "Table.StreamArn"}, "ParallelizationFactor": 2},
            },
            "Route": {"Type": "HttpApi", "Properties": {"Path": "/a", "Method": "GET"}},
        },
        ReservedConcurrentExecutions={"Ref": "Reserved"},
    )

    # When read without a reservation that binds, then with one
    loose = read_topology(template, {"Workers": "3", "Reserved": "100"})
    tight = read_topology(template, {"Workers": "3", "Reserved": "2"})

    # Then the demand adds up (3 + unbounded 4 + 2 + route 4), and the reservation caps it
    assert loose.streams[0].parallelization_factor == 2
    assert loose.functions["Fn"].reserved_concurrency == 100
    assert loose.max_sandboxes("Fn", unbounded=4) == 13
    assert tight.max_sandboxes("Fn", unbounded=4) == 2
    # (a function no event invokes still gets one sandbox)
    assert read_topology(_template({})).max_sandboxes("Fn", unbounded=4) == 1
