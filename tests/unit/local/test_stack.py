"""The stack's own decisions: local parameter values, the scheduled event, the command line."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from local.cli import _counts, _pairs, build_parser
from local.stack import DEFAULT_LOCAL_CONCURRENCY, LOCAL_PARAMETERS, Stack, StackOptions, _parameters
from local.topology import Schedule, read_topology
from tests.support.events import load_event


def test_local_parameters_point_at_the_emulator_and_overrides_win() -> None:
    # Given a template declaring some of the parameters the stack fills in
    template = {"Parameters": {"MyUnisoftBaseUrl": {}, "ThirdPartySecretName": {}, "RateLimitRequests": {}}}

    # When the stack decides the values, with one override
    values = _parameters(
        template, StackOptions(parameters={"RateLimitRequests": "100"}), "http://127.0.0.1:9"
    )

    # Then the base URL is the emulator's, the demo secret's name is used, the override is kept,
    # and parameters the template does not declare are not invented
    assert values == {
        "MyUnisoftBaseUrl": "http://127.0.0.1:9",
        "ThirdPartySecretName": LOCAL_PARAMETERS["ThirdPartySecretName"],
        "RateLimitRequests": "100",
    }


def test_a_fired_schedule_sends_eventbridges_scheduled_event() -> None:
    # Given a stack (not started) and the template's schedule
    stack = Stack(StackOptions(stack_name="demo"))
    event = stack.scheduled_event(
        Schedule(name="Nightly", function="RefreshScheduleFunction", expression="x")
    )

    # Then the event has the sample's keys and Powertools reads it as an EventBridge event
    assert set(load_event("eventbridge_schedule")) == set(event)
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.detail_type == "Scheduled Event"
    assert parsed.source == "aws.events"
    assert event["resources"] == [
        "arn:aws:events:eu-west-3:123456789012:rule/demo-RefreshScheduleFunctionNightly"
    ]


def test_the_command_line_takes_name_value_pairs_and_contract_defaults() -> None:
    assert _pairs(["A=1", "B=x=y", "C="], "--parameter") == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        _pairs(["novalue"], "--env")
    args = build_parser().parse_args(["stack"])
    assert (args.api_port, args.emulator_port) == (3000, 8089)  # docs/architecture.md §7


def test_a_functions_concurrency_comes_from_the_template_unless_the_command_line_sets_it() -> None:
    # Given the repository's template read with a parameter override, as the stack reads it
    stack = Stack(StackOptions(default_concurrency=2, concurrency={"VerifyFunction": 1}))
    stack.topology = read_topology(stack.template, {"UploadWorkerConcurrency": "7"})

    # Then the template's (overridden) MaximumConcurrency, the local default and the override apply
    assert stack.max_sandboxes("UploadFunction") == 7
    assert stack.max_sandboxes("ApiFunction") == 2
    assert stack.max_sandboxes("VerifyFunction") == 1


def test_the_command_line_takes_concurrency_settings() -> None:
    args = build_parser().parse_args(["stack"])
    assert (args.default_concurrency, args.concurrency) == (DEFAULT_LOCAL_CONCURRENCY, [])
    args = build_parser().parse_args(
        ["stack", "--default-concurrency", "2", "--concurrency", "UploadFunction=8"]
    )
    assert (args.default_concurrency, _counts(_pairs(args.concurrency, "--concurrency"))) == (
        2,
        {"UploadFunction": 8},
    )
    with pytest.raises(SystemExit, match="at least 1"):
        _counts({"UploadFunction": "0"})
    with pytest.raises(SystemExit, match="FUNCTION=N"):
        _counts({"UploadFunction": "many"})
