"""A webhook receiver on 127.0.0.1: what a hub's endpoint does, for the demo and the tests.

It records every POST (headers, body, when it arrived) and answers with the status its ``answer``
function chooses for the n-th request of an event id (200 by default), so a test can make an
endpoint fail twice then succeed, or fail for ever. ``verified(secret)`` checks each delivery
with the ``standardwebhooks`` library, as a hub would.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

#: ``(event id, how many requests of it came before this one)`` → the status to answer.
Answer = Callable[[str, int], int]


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    """``time.time()`` when it arrived."""
    status: int

    @property
    def event_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def verify(self, secret: str) -> Any:
        """The event, if ``secret`` verifies the delivery (``WebhookVerificationError`` otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


class WebhookReceiver:
    def __init__(self, answer: Answer | None = None, *, path: str = "/hooks/myunisoft"):
        self.answer: Answer = answer or (lambda _event_id, _before: 200)
        self.path = path
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._arrived:
            event_id = headers.get("webhook-id", "")
            before = sum(1 for d in self.deliveries if d.event_id == event_id)
            status = self.answer(event_id, before)
            self.deliveries.append(Delivery(path, headers, body, time.time(), status))
            self._arrived.notify_all()
            return status

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(self.path, headers, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the receiver's owner reports what it got."""

        return Handler

    def accepted(self) -> list[Delivery]:
        """The deliveries answered 2xx, in arrival order."""
        with self._lock:
            return [d for d in self.deliveries if 200 <= d.status < 300]

    def wait_for(self, condition: Callable[[list[Delivery]], bool], timeout_s: float = 30.0) -> bool:
        """Wait until ``condition(deliveries)`` holds; whether it did within the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while not condition(list(self.deliveries)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._arrived.wait(remaining)
            return True

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """The events of the accepted deliveries that ``secret`` verifies (others are left out)."""
        events = []
        for delivery in self.accepted():
            with contextlib.suppress(WebhookVerificationError):
                events.append(delivery.verify(secret))
        return events

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
