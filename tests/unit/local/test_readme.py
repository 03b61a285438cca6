"""The README documents every template parameter and every environment variable a function reads."""

from __future__ import annotations

import importlib
from pathlib import Path

from pydantic import BaseModel

from local.resources import load_template
from local.topology import read_topology

REPO = Path(__file__).resolve().parents[3]


def _settings_fields(package: str) -> set[str]:
    """The fields of the settings models in ``<package>.settings`` (what the function reads)."""
    module = importlib.import_module(f"{package}.settings")
    fields: set[str] = set()
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            fields |= set(value.model_fields)
    return fields


def test_every_parameter_and_environment_variable_is_in_the_readme() -> None:
    # Given the template's parameters, the variables it sets and those the template's functions read
    template = load_template()
    names = set(template.get("Parameters", {}))
    names |= set(template["Globals"]["Function"]["Environment"]["Variables"])
    packages = set()
    for logical_id, function in read_topology(template).functions.items():
        environment = template["Resources"][logical_id]["Properties"].get("Environment", {})
        names |= set(environment.get("Variables", {}))
        packages.add(function.handler.split(".", 1)[0])
    for package in packages:
        names |= _settings_fields(package)

    # Then the README names each of them (in backticks), so an operator can find what it does
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == [], f"README.md does not document: {', '.join(missing)}"
