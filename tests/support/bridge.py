"""Drive the real handlers from tests: the HTTP API with API Gateway v2 events, the schedule with an
EventBridge event, the workers with SQS events read from the local queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from local.sqs import PollStats, SqsPoller, load_handler
from tests.support.events import LambdaContext, api_event, schedule_event
from tests.support.fixtures import Stack


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"]["code"])
        return None


class Bridge:
    """The bridge's handlers running in this process against one test stack."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch, *, tenant: str = "tenant-demo"):
        self.stack = stack
        self.tenant = tenant
        # The functions share the template's Globals; the API adds its own variables.
        stack.use("RefreshWorkerFunction", monkeypatch)
        stack.use("ApiFunction", monkeypatch)

    def call(self, method: str, path: str, body: Any = None, *, tenant: str | None = None) -> Answer:
        from api.app import lambda_handler

        event = api_event(method, path, body=body, tenant=tenant or self.tenant)
        response = lambda_handler(event, LambdaContext())
        text = response.get("body")
        return Answer(
            status=response["statusCode"],
            body=json.loads(text) if text else None,
            headers=dict(response.get("headers") or {}),
        )

    def connect(self, api_key: str, *, tenant: str | None = None) -> Answer:
        return self.call("POST", "/connections", {"api_key": api_key}, tenant=tenant)

    def run_schedule(self) -> dict[str, int]:
        handler = load_handler(
            self.stack.template["Resources"]["RefreshScheduleFunction"]["Properties"]["Handler"]
        )
        result: dict[str, int] = handler(schedule_event(), LambdaContext())
        return result

    def drain_refresh_queue(self, *, idle_s: float = 0.2) -> PollStats:
        """Run the refresh worker on every queued message until the queue is empty."""
        handler = load_handler(
            self.stack.template["Resources"]["RefreshWorkerFunction"]["Properties"]["Handler"]
        )
        poller = SqsPoller(
            self.stack.ref("RefreshQueue"), handler, client=self.stack.session.client("sqs"), retry_delay_s=0
        )
        return poller.drain(idle_s=idle_s, max_s=120)
