"""Create the stateful resources of ``template.yaml`` on local services, and the handlers' environment.

The table (with its GSI and TTL), the bucket, the queues (with their redrive policy), the KMS key
and the secrets are read from the template, so local resources cannot drift from the deployed
ones. The template is parsed with a YAML loader that understands CloudFormation's short tags
(``!Ref``, ``!GetAtt``, ``!Sub``...), and the few intrinsics the template uses are resolved here.

Functions, layers, APIs, log groups and policies have no local counterpart and are skipped; a
stateful resource type this module does not know is an error, not a silent omission.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

from local.services import LOCAL_REGION, REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "template.yaml"
LOCAL_ACCOUNT = "123456789012"

_SKIPPED = {
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::Api",
    "AWS::Logs::LogGroup",
    "AWS::S3::BucketPolicy",
    "AWS::KMS::Alias",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::CloudWatch::Alarm",
}
_ORDER = (
    "AWS::KMS::Key",
    "AWS::SecretsManager::Secret",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::Events::EventBus",
)


class TemplateError(ValueError):
    """The template uses something this local provisioner cannot reproduce."""


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that reads ``!Tag value`` as CloudFormation's long form ``{"Fn::Tag": value}``."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - YAML has no fourth kind of node
        raise TemplateError(f"!{tag_suffix} holds a YAML node of an unknown kind")
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return document


@dataclass
class LocalStack:
    """The physical names of a template's resources on the local services."""

    stack_name: str
    parameters: dict[str, str]
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)

    def ref(self, logical_id: str) -> str:
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id not in self.refs:
            raise TemplateError(f"Ref {logical_id} has no local value")
        return self.refs[logical_id]

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise TemplateError(f"GetAtt {logical_id}.{attribute} has no local value") from None

    def resolve(self, value: Any) -> Any:
        """Resolve ``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` and ``Fn::Join`` inside ``value``."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                return self.ref(argument)
            if name == "Fn::GetAtt":
                return self.get_att(argument[0], argument[1])
            if name == "Fn::Sub":
                return self._sub(argument)
            if name == "Fn::Join":
                separator, items = argument
                return separator.join(str(self.resolve(item)) for item in items)
            if name.startswith("Fn::"):
                raise TemplateError(f"{name} is not supported locally")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def _parameters(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, spec in template.get("Parameters", {}).items():
        if name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise TemplateError(f"parameter {name} needs a value (it has no default)")
    unknown = set(overrides) - set(values)
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(sorted(unknown))}")
    return values


def _physical_name(stack: LocalStack, logical_id: str, *, lower: bool = False, limit: int = 80) -> str:
    name = f"{stack.stack_name}-{logical_id}"
    if lower:
        name = re.sub(r"[^a-z0-9-]", "-", name.lower())
    return name[:limit]


def provision(
    template: Mapping[str, Any],
    *,
    stack_name: str,
    parameters: Mapping[str, str] | None = None,
    session: boto3.session.Session | None = None,
) -> LocalStack:
    """Create the template's stateful resources through ``session`` (pointed at local services)."""
    session = session or boto3.session.Session(region_name=LOCAL_REGION)
    stack = LocalStack(stack_name=stack_name, parameters=_parameters(template, parameters or {}))
    resources: dict[str, Any] = template["Resources"]
    unknown = {
        spec["Type"]
        for spec in resources.values()
        if spec["Type"] not in _SKIPPED and spec["Type"] not in _ORDER
    }
    if unknown:
        raise TemplateError(f"no local provisioning for {', '.join(sorted(unknown))}")
    for resource_type in _ORDER:
        pending = [(lid, spec) for lid, spec in resources.items() if spec["Type"] == resource_type]
        # Queues that others name (dead-letter queues) first.
        pending.sort(key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
        for logical_id, spec in pending:
            _CREATORS[resource_type](session, stack, logical_id, spec.get("Properties", {}))
    return stack


def _create_kms_key(session: Any, stack: LocalStack, logical_id: str, properties: dict[str, Any]) -> None:
    answer = session.client("kms").create_key(Description=str(properties.get("Description", logical_id)))
    stack.refs[logical_id] = answer["KeyMetadata"]["KeyId"]
    stack.attributes[(logical_id, "Arn")] = answer["KeyMetadata"]["Arn"]


def _create_secret(session: Any, stack: LocalStack, logical_id: str, properties: dict[str, Any]) -> None:
    props = stack.resolve(properties)
    arguments = {"Name": props.get("Name") or _physical_name(stack, logical_id)}
    if "SecretString" in props:
        arguments["SecretString"] = props["SecretString"]
    if "KmsKeyId" in props:
        arguments["KmsKeyId"] = props["KmsKeyId"]
    answer = session.client("secretsmanager").create_secret(**arguments)
    stack.refs[logical_id] = answer["ARN"]


def _create_table(session: Any, stack: LocalStack, logical_id: str, properties: dict[str, Any]) -> None:
    props = stack.resolve(properties)
    name = props.get("TableName") or _physical_name(stack, logical_id)
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    stream = props.get("StreamSpecification")
    if stream:
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    client = session.client("dynamodb")
    answer = client.create_table(**arguments)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    stack.refs[logical_id] = name
    stack.attributes[(logical_id, "Arn")] = answer["TableDescription"]["TableArn"]
    if "LatestStreamArn" in answer["TableDescription"]:
        stack.attributes[(logical_id, "StreamArn")] = answer["TableDescription"]["LatestStreamArn"]


def _create_bucket(session: Any, stack: LocalStack, logical_id: str, properties: dict[str, Any]) -> None:
    props = stack.resolve(properties)
    name = props.get("BucketName") or _physical_name(stack, logical_id, lower=True, limit=63)
    session.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": LOCAL_REGION}
    )
    stack.refs[logical_id] = name
    stack.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"


_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
)


def _create_queue(session: Any, stack: LocalStack, logical_id: str, properties: dict[str, Any]) -> None:
    props = stack.resolve(properties)
    name = props.get("QueueName") or _physical_name(stack, logical_id)
    attributes = {
        key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        for key in _QUEUE_ATTRIBUTES
        if key in props
    }
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    client = session.client("sqs")
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.refs[logical_id] = url
    stack.attributes[(logical_id, "Arn")] = arn
    stack.attributes[(logical_id, "QueueUrl")] = url
    stack.attributes[(logical_id, "QueueName")] = name


def _create_event_bus(session: Any, stack: LocalStack, logical_id: str, properties: dict[str, Any]) -> None:
    props = stack.resolve(properties)
    name = props.get("Name") or _physical_name(stack, logical_id)
    arn = session.client("events").create_event_bus(Name=name)["EventBusArn"]
    stack.refs[logical_id] = name
    stack.attributes[(logical_id, "Arn")] = arn
    stack.attributes[(logical_id, "Name")] = name


_CREATORS = {
    "AWS::KMS::Key": _create_kms_key,
    "AWS::SecretsManager::Secret": _create_secret,
    "AWS::DynamoDB::Table": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SQS::Queue": _create_queue,
    "AWS::Events::EventBus": _create_event_bus,
}


def function_environment(template: Mapping[str, Any], stack: LocalStack, logical_id: str) -> dict[str, str]:
    """A function's environment variables (``Globals`` merged with its own), resolved locally."""
    function = template["Resources"].get(logical_id)
    if function is None or function["Type"] != "AWS::Serverless::Function":
        raise TemplateError(f"{logical_id} is not a function of the template")
    merged: dict[str, Any] = {}
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    merged.update(globals_env.get("Variables", {}))
    merged.update(function.get("Properties", {}).get("Environment", {}).get("Variables", {}))
    return {name: str(stack.resolve(value)) for name, value in merged.items()}


def function_handler(template: Mapping[str, Any], logical_id: str) -> str:
    """A function's ``Handler`` (``package.module.function``)."""
    return str(template["Resources"][logical_id]["Properties"]["Handler"])
