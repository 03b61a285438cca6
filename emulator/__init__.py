"""A faithful local emulator of the MyUnisoft "API Partenaires" (``docs/architecture.md`` §3.5).

It serves the routes the bridge uses under ``/api/v1/...`` with the behaviours of
``myunisoft-api.md`` §14 (secret and key checks, activation, route allow-lists, ``society-id``
scoping, rate and concurrency limits, maintenance, TRA+PJ imports with validation and the MD5
duplicate check, error JSON with request ids) and test-control routes under ``/_emulator/``.

Entry points: :func:`emulator.app.create_app` (a WSGI app) and the ``myunisoft-emulator`` command.
What MyUnisoft leaves undocumented is configurable (:class:`emulator.config.EmulatorConfig`) and
listed in ``docs/myunisoft-assumptions.md``.
"""

from emulator.app import EmulatorApp, create_app
from emulator.clock import Clock, ManualClock, SystemClock
from emulator.config import EmulatorConfig
from emulator.fixtures import Fixtures, demo_fixtures, load_fixtures

__all__ = [
    "Clock",
    "EmulatorApp",
    "EmulatorConfig",
    "Fixtures",
    "ManualClock",
    "SystemClock",
    "create_app",
    "demo_fixtures",
    "load_fixtures",
]
