"""Helpers to use the emulator in-process from httpx-based code (no sockets)."""

from __future__ import annotations

import httpx

from emulator.errors import ConnectionDropped


class EmulatorTransport(httpx.BaseTransport):
    """``httpx.WSGITransport`` over the emulator, where an injected drop is a real transport error.

    A ``{"drop": true}`` fault makes the app raise :class:`~emulator.errors.ConnectionDropped`;
    this transport turns it into ``httpx.RemoteProtocolError``, as a server closing the
    connection without answering would.
    """

    def __init__(self, app: object):
        self._inner = httpx.WSGITransport(app=app)  # type: ignore[arg-type]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    def close(self) -> None:
        self._inner.close()
