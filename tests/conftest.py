"""Root of the test suite: Powertools' settings for tests, and the shared fixtures of ``tests.support``.

Powertools reads its service name and metrics namespace when a handler module is imported, so they
are set here, before any test imports one. Tracing is off outside Lambda.
"""

from __future__ import annotations

import os

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "myunisoft-bridge")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MyUnisoftBridgeTests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from tests.support.fixtures import (
    aws,
    emulator,
    emulator_service,
    local_services,
    stack,
)

__all__ = ["aws", "emulator", "emulator_service", "local_services", "stack"]
