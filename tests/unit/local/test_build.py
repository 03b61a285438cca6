"""The Lambda layer bundles the project's runtime dependencies (sam build reads its requirements.txt)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", line.strip(), maxsplit=1)[0].lower() for line in requirements}


def test_the_layer_requirements_are_the_project_runtime_dependencies_and_the_sdk_pair() -> None:
    # Given pyproject's runtime dependencies and the layer's requirements.txt
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    lines = (REPO / "layers" / "tra_core" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    layer = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]

    # Then the layer holds each of them, and botocore beside boto3 (the layer's SDK shadows the runtime's)
    assert _names(layer) == _names(project) | {"botocore"}
    # And the tracer's SDK is bundled, since the template turns tracing on
    assert any(line.startswith("aws-lambda-powertools[tracer]") for line in layer)


def test_the_layer_pins_boto3_and_botocore_to_one_release() -> None:
    # Given the layer's requirements
    lines = (REPO / "layers" / "tra_core" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = dict(line.split("==") for line in lines if line.startswith(("boto3==", "botocore==")))

    # Then boto3 and botocore are pinned exactly, to the pair released together (same version)
    assert set(pins) == {"boto3", "botocore"}
    assert pins["boto3"] == pins["botocore"]
