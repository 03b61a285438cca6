"""POST one delivery to a vetted webhook URL, connecting to the address the URL check approved.

httpx resolves the URL's host itself; here the connection goes to the vetted address instead
(``PinnedBackend``), while TLS still checks the certificate against the URL's host name (SNI and
verification use the URL). So the name is resolved once, by the check, and a DNS answer that changes
after it (rebinding) is never followed. Redirects are not followed, the answer's body is not read,
and every phase (connect, send, each read) is bounded by the timeout.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping

import httpcore
import httpx

from tra_core.webhooks.ports import NoAnswer
from tra_core.webhooks.urls import VettedUrl

USER_AGENT = "myunisoft-bridge-webhooks/1"


class PinnedBackend(httpcore.NetworkBackend):
    """Opens every TCP connection to one address, whatever host name the request names."""

    def __init__(self, address: str):
        self._address = address
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return self._inner.connect_tcp(self._address, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhook deliveries never use a unix socket")


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport over ``PinnedBackend`` that reports the status and headers, never the body."""

    def __init__(self, address: str):
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=PinnedBackend(address), retries=0
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        answer = self._pool.handle_request(core_request)
        try:
            status, headers = answer.status, answer.headers
        finally:
            answer.close()  # the body is never read: a receiver cannot make the worker download
        return httpx.Response(status_code=status, headers=headers, content=b"")

    def close(self) -> None:
        self._pool.close()


def post_event(target: VettedUrl, body: str, headers: Mapping[str, str], *, timeout_s: float = 10.0) -> int:
    """POST ``body`` (JSON) to ``target`` at its first vetted address; the answer's status code.

    Raises ``NoAnswer`` when no answer came (refused, timed out, TLS failed).
    """
    transport = PinnedTransport(target.addresses[0])
    try:
        with httpx.Client(transport=transport, timeout=timeout_s, follow_redirects=False) as client:
            response = client.post(
                target.url,
                content=body.encode("utf-8"),
                headers={**headers, "content-type": "application/json", "user-agent": USER_AGENT},
            )
    except httpx.HTTPError as exc:
        raise NoAnswer(f"no answer from {target.host}: {type(exc).__name__}") from None
    return response.status_code
